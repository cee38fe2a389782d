"""MemoryAllocator: a barealloc pool seen from Python.

A pool is a heap of its own over one stretch of memory: a mapping of the
size asked for, or the whole pages of a buffer the caller gives.  Blocks
are plain addresses (ints); their bytes are reached through read(), write()
and view(), which never reach past a block's usable size, or through ctypes
at the caller's own risk.

The pool is made in report mode unless asked otherwise: a double free, an
address that is not a block of this pool, or an overflow past a block's
request raises one of the PoolError classes (barealloc.errors) and leaves
the pool as it was, instead of ending the process with SIGABRT.
"""

import ctypes
import dataclasses
import errno
import gc
import mmap
import operator
import threading
import weakref

from . import _lib
from .errors import CheckFailed, InvalidPointer, PoolClosed, PoolError, from_code

PAGE = mmap.PAGESIZE


@dataclasses.dataclass(frozen=True)
class PoolStats:
    """A pool's statistics: struct ba_stats of inc/barealloc.h, read by
    ba_pool_stats.  Bytes and counts are ints.

    requested     bytes asked for by the live blocks
    in_use        bytes the live blocks occupy (their size class or pages)
    live_blocks   how many blocks are live
    mapped        bytes of the pool's pages: its capacity
    mapped_peak   the most mapped has been
    meta          bytes of the pool's own metadata (out of band)
    dirty         free bytes that may be resident (a region's free pages all count)
    dirty_limit   0: a pool never purges while in use
    mmap_calls, munmap_calls, mremap_calls, madvise_calls
                  the process's counts of those kernel calls
    """
    requested: int
    in_use: int
    live_blocks: int
    mapped: int
    mapped_peak: int
    meta: int
    dirty: int
    dirty_limit: int
    mmap_calls: int
    munmap_calls: int
    mremap_calls: int
    madvise_calls: int

    def as_dict(self):
        """The twelve fields as a dict, in struct order."""
        return dataclasses.asdict(self)


def _size(n, what):
    """n as a size_t: TypeError unless an int, ValueError if negative,
    OverflowError past SIZE_MAX; all before C sees it."""
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"{what} must be an int, not {type(n).__name__}") from None
    if n < 0:
        raise ValueError(f"{what} must not be negative: {n}")
    if n > _lib.SIZE_MAX:
        raise OverflowError(f"{what} does not fit in a size_t: {n}")
    return n


def _address(addr, what="address"):
    """addr as a pointer value (None is 0, NULL)."""
    if addr is None:
        return 0
    try:
        a = operator.index(addr)
    except TypeError:
        raise TypeError(f"{what} must be an int, not {type(addr).__name__}") from None
    if not 0 <= a <= _lib.UINTPTR_MAX:
        raise ValueError(f"{what} is not a pointer value: {a}")
    return a


# The pages of every live region pool, so that no two pools share memory.
_regions = {}
_regions_lock = threading.Lock()


def _claim(span):
    key = object()
    with _regions_lock:
        for start, end in _regions.values():
            if span[0] < end and start < span[0] + span[1]:
                raise ValueError("region overlaps the pages of another live pool")
        _regions[key] = (span[0], span[0] + span[1])
    return key


def _unclaim(key):
    with _regions_lock:
        _regions.pop(key, None)


def _destroy(handle, region, key):
    # The region (a ctypes array over the caller's buffer) is an argument so
    # that the buffer outlives the pool that uses it.
    _lib.ba_pool_destroy(handle)
    _unclaim(key)


class MemoryAllocator:
    """A barealloc pool: malloc, calloc, realloc, aligned allocation and free
    within memory of its own.

    MemoryAllocator(pool_size=1024)
        a pool over a mapping of pool_size bytes, rounded up to whole pages
        (ba_pool_new).
    MemoryAllocator(region=buf)
        a pool over the whole pages inside buf, any writable contiguous
        buffer (bytearray, mmap.mmap, a ctypes array...); the pool keeps a
        reference to buf, which cannot be resized while the pool lives, and
        never writes outside those pages (ba_pool_new_in).
    report=False
        misuse ends the process with one line on stderr and SIGABRT, as it
        does for malloc's heap, instead of raising.

    Sizes and counts must be ints (TypeError), not negative (ValueError),
    and fit in a size_t (OverflowError).  A request the pool cannot meet
    raises MemoryError and leaves the pool as it was.  close() (or leaving a
    ``with`` block) frees every block and the pool; any method but close()
    then raises PoolClosed.

    blocks() lists the live blocks, region tells where a region pool's
    pages are, stats() and check() look at the pool as barealloc sees it.
    Every call holds a lock of the object, so one allocator may be shared
    by threads.
    """

    def __init__(self, pool_size=None, *, region=None, report=True):
        flags = _lib.POOL_REPORT if report else 0
        self._pool = None
        self._report = bool(report)
        self._lock = threading.Lock()
        self._blocks = {}       # address -> bytes asked for, of every live block
        self._views = {}        # address -> weak references to (view, its ctypes array)
        self._region = None     # ctypes array over the caller's buffer
        self._span = None       # (start, length) of its whole pages
        key = None
        if region is not None:
            if pool_size is not None:
                raise TypeError("give pool_size or region, not both")
            self._region, self._span = _over(region)
            key = _claim(self._span)
            handle = _lib.ba_pool_new_in(ctypes.addressof(self._region), len(self._region), flags)
            if not handle:
                _unclaim(key)
        else:
            size = 1024 if pool_size is None else _size(pool_size, "pool_size")
            if size == 0:
                raise ValueError("pool_size must be at least 1")
            handle = _lib.ba_pool_new(size, flags)
        if not handle and ctypes.get_errno() == errno.EINVAL:
            raise ValueError("barealloc: the region has no whole page, or crosses another pool's pages")
        if not handle:
            raise MemoryError("barealloc: cannot make the pool's metadata or mapping")
        self._pool = handle
        self._finalizer = weakref.finalize(self, _destroy, handle, self._region, key)

    # -- the family ---------------------------------------------------------

    def allocate(self, n):
        """A new block of n bytes, 16-byte aligned: its address (int).
        allocate(0) returns a block of its own, of usable size 0."""
        n = _size(n, "n")
        with self._lock:
            p = _lib.ba_pool_malloc(self._handle(), n)
            if not p:
                raise MemoryError(f"allocate({n}): no room in the pool")
            self._blocks[p] = n
        return p

    def calloc(self, nmemb, size):
        """A new block of nmemb * size bytes, all zero.  MemoryError when
        the product passes SIZE_MAX, as when it does not fit."""
        nmemb = _size(nmemb, "nmemb")
        size = _size(size, "size")
        with self._lock:
            p = _lib.ba_pool_calloc(self._handle(), nmemb, size)
            if not p:
                raise MemoryError(f"calloc({nmemb}, {size}): no room in the pool")
            self._blocks[p] = nmemb * size
        return p

    def aligned(self, align, n):
        """A new block of n bytes at a multiple of align, a power of two
        (ValueError otherwise)."""
        align = _size(align, "align")
        n = _size(n, "n")
        if align == 0 or align & (align - 1):
            raise ValueError(f"align must be a power of two: {align}")
        with self._lock:
            p = _lib.ba_pool_aligned_alloc(self._handle(), align, n)
            if not p:
                raise MemoryError(f"aligned({align}, {n}): no room in the pool")
            self._blocks[p] = n
        return p

    def realloc(self, addr, n):
        """The block addr resized to n bytes, its first min(old, n) bytes
        kept: the new address, which may differ from addr.

        realloc(None, n) (or 0) is allocate(n).  realloc(addr, 0) frees
        the block and returns None, as C's realloc in barealloc does.  On
        MemoryError or a PoolError the block stays as it was."""
        n = _size(n, "n")
        a = _address(addr)
        with self._lock:
            handle = self._handle()
            self._release_views([a], f"realloc(0x{a:x})")
            q = _lib.ba_pool_realloc(handle, a, n)
            if not q:
                err = _lib.ba_pool_error(handle)
                if err:
                    raise from_code(err, "realloc", a)
                if n:
                    raise MemoryError(f"realloc(0x{a:x}, {n}): no room in the pool")
            self._blocks.pop(a, None)
            if q:
                self._blocks[q] = n
        return q

    def free(self, addr):
        """Frees the block addr.  free(None) and free(0) do nothing."""
        a = _address(addr)
        with self._lock:
            handle = self._handle()
            self._release_views([a], f"free(0x{a:x})")
            err = _lib.ba_pool_free(handle, a)
            if err:
                raise from_code(err, "free", a)
            self._blocks.pop(a, None)

    def usable_size(self, addr):
        """The bytes that block addr may hold: exactly what was asked for
        it.  0 for None or 0."""
        a = _address(addr)
        with self._lock:
            return self._usable(a, "usable_size") if a else 0

    # -- the bytes of a block ----------------------------------------------

    def read(self, addr, n=None, offset=0):
        """n bytes of block addr from offset (all up to its end when n is
        None), as bytes.  ValueError if they pass the block's usable size."""
        a = _address(addr)
        offset = _size(offset, "offset")
        with self._lock:
            size = self._block(a, "read")
            n = max(size - offset, 0) if n is None else _size(n, "n")
            _fits(a, offset, n, size, "read")
            return ctypes.string_at(a + offset, n) if n else b""

    def write(self, addr, data, offset=0):
        """Copies data (any bytes-like object) into block addr at offset.
        ValueError, with nothing written, if it passes the block's usable
        size."""
        a = _address(addr)
        offset = _size(offset, "offset")
        raw = memoryview(data).tobytes()
        with self._lock:
            _fits(a, offset, len(raw), self._block(a, "write"), "write")
            ctypes.memmove(a + offset, raw, len(raw))

    def view(self, addr):
        """A writable memoryview (format 'B') of the usable bytes of block
        addr.

        free(), realloc(), reset() and close() release the block's views
        first, so that any later use raises ValueError.  While anything
        made from a view lives on (a slice, a cast, a ctypes or numpy array
        over it, a pool over it), they raise BufferError instead, as
        mmap.close() does, and leave the block as it was."""
        a = _address(addr)
        with self._lock:
            size = self._block(a, "view")
            arr = (ctypes.c_ubyte * size).from_address(a)
            # Every view made from v, and v, holds arr; arr holds the pool,
            # which the garbage collector then never destroys under them.
            arr._owner = self
            whole = memoryview(arr)
            v = whole.cast("B")
            whole.release()
            refs = [(vr, ar) for vr, ar in self._views.get(a, ()) if ar() is not None]
            self._views[a] = refs + [(weakref.ref(v), weakref.ref(arr))]
            return v

    # -- the pool -----------------------------------------------------------

    def stats(self):
        """The pool's statistics (PoolStats)."""
        out = _lib.ba_stats()
        with self._lock:
            _lib.ba_pool_stats(self._handle(), ctypes.byref(out))
        return PoolStats(*(getattr(out, f) for f, _ in _lib.ba_stats._fields_))

    def check(self):
        """Verifies the pool's invariants (ba_pool_check): True, or raises
        CheckFailed with ba_check_name's text.  An overflow into a block's
        canary is one."""
        with self._lock:
            code = _lib.ba_pool_check(self._handle())
        if code:
            raise CheckFailed(f"check: {_lib.check_name(code)}", code)
        return True

    def reset(self):
        """Frees every block at once; the pool stays, empty."""
        with self._lock:
            handle = self._handle()
            self._release_views(list(self._views), "reset")
            _lib.ba_pool_reset(handle)
            self._blocks.clear()

    def close(self):
        """Frees every block and the pool itself.  Closing twice is allowed."""
        with self._lock:
            if self._pool is None:
                return
            self._release_views(list(self._views), "close")
            self._blocks.clear()
            self._pool = None
            self._finalizer()
            self._region = None

    @property
    def closed(self):
        return self._pool is None

    @property
    def report(self):
        """True when misuse raises; False when it ends the process."""
        return self._report

    @property
    def region(self):
        """(start, length) of the pages a region pool holds its blocks in,
        or None for a pool over its own mapping, whose address barealloc
        does not tell."""
        return self._span

    def blocks(self):
        """The live blocks, as (address, usable size) pairs by address."""
        with self._lock:
            self._handle()
            return sorted(self._blocks.items())

    def __len__(self):
        return len(self._blocks)

    def __contains__(self, addr):
        return addr in self._blocks

    def __enter__(self):
        self._handle()
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        if self._pool is None:
            return "<MemoryAllocator closed>"
        s = self.stats()
        pct = 100 * s.in_use / s.mapped if s.mapped else 0
        return (f"<MemoryAllocator {s.mapped} bytes: {s.live_blocks} blocks, "
                f"{s.in_use} B in use, {pct:.0f}%>")

    # -- helpers, called with the lock held ---------------------------------

    def _handle(self):
        if self._pool is None:
            raise PoolClosed("the pool is closed")
        return self._pool

    def _usable(self, a, op):
        handle = self._handle()
        n = _lib.ba_pool_usable_size(handle, a)
        if not n:
            err = _lib.ba_pool_error(handle)
            if err:
                raise from_code(err, op, a)
        return n

    def _block(self, a, op):
        """The usable size of the live block a, checked by barealloc and
        against the blocks this object handed out: bytes are touched only
        when both agree."""
        if not a:
            raise InvalidPointer(f"{op}(0x0): a null pointer", None, 0)
        n = self._usable(a, op)
        if self._blocks.get(a) != n:
            raise PoolError(f"{op}(0x{a:x}): barealloc says a block of {n} bytes, "
                            f"the allocator knows {self._blocks.get(a)}", None, a)
        return n

    def _release_views(self, addrs, op):
        """Releases the views of the blocks at addrs before their memory
        changes hands.  BufferError if the memory of one is still in use
        (its ctypes array lives: something made from the view holds it),
        and then nothing is freed."""
        busy = []
        for a in addrs:
            for vr, ar in self._views.pop(a, ()):
                v = vr()
                if v is not None:
                    try:
                        v.release()
                    except BufferError:
                        pass        # exported: its array stays alive
                    del v
                if ar() is not None:
                    busy.append((a, vr, ar))
        if busy:
            gc.collect()            # what only a reference cycle still holds
            busy = [(a, vr, ar) for a, vr, ar in busy if ar() is not None]
            for a, vr, ar in busy:
                self._views.setdefault(a, []).append((vr, ar))
        if busy:
            raise BufferError(f"{op}: the memory of block 0x{busy[0][0]:x} is still "
                              "used by a view made from it")


def _fits(a, offset, n, size, op):
    if offset + n > size:
        raise ValueError(f"{op}(0x{a:x}): {n} bytes at offset {offset} pass "
                         f"the block's {size} usable bytes")


def _over(region):
    """A ctypes array over a writable buffer, and the (start, length) of the
    whole pages inside it."""
    try:
        mv = memoryview(region)
    except TypeError:
        raise TypeError(f"region must be a writable buffer, not {type(region).__name__}") from None
    with mv:
        if mv.readonly:
            raise TypeError("region must be writable")
        if not mv.c_contiguous:
            raise ValueError("region must be contiguous")
        nbytes = mv.nbytes
    arr = (ctypes.c_char * nbytes).from_buffer(region)
    start = -ctypes.addressof(arr) % PAGE + ctypes.addressof(arr)
    end = (ctypes.addressof(arr) + nbytes) // PAGE * PAGE
    if end <= start:
        raise ValueError(f"region holds no whole page of {PAGE} bytes")
    return arr, (start, end - start)

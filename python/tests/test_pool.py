"""MemoryAllocator's methods on well-behaved input."""

import ctypes
import gc
import mmap
import re
import threading

import pytest

from barealloc import _lib
from barealloc import (ForeignPointer, InvalidPointer, MemoryAllocator, PoolClosed, PoolError,
                       PoolStats)

PAGE = mmap.PAGESIZE


def test_original_usage():
    allocator = MemoryAllocator(pool_size=1024)
    ptr = allocator.allocate(128)
    assert isinstance(ptr, int) and ptr != 0
    assert allocator.usable_size(ptr) == 128
    allocator.free(ptr)
    assert allocator.stats().live_blocks == 0
    allocator.close()


def test_default_size_is_one_page_or_more():
    with MemoryAllocator() as m:
        assert m.stats().mapped >= 1024
        m.free(m.allocate(128))


def test_allocate_distinct_aligned_and_writable(pool):
    ptrs = [pool.allocate(n) for n in (1, 7, 16, 100, 256, 1000, 4096, 20000)]
    assert len(set(ptrs)) == len(ptrs)
    for p in ptrs:
        assert p % 16 == 0
    spans = sorted((p, p + pool.usable_size(p)) for p in ptrs)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert end <= start, "blocks overlap"
    for i, p in enumerate(ptrs):
        pool.write(p, bytes([i]) * pool.usable_size(p))
    for i, p in enumerate(ptrs):
        assert pool.read(p) == bytes([i]) * pool.usable_size(p)
    for p in ptrs:
        pool.free(p)
    assert pool.stats().live_blocks == 0
    assert pool.check()


def test_allocate_zero_is_a_block_of_its_own(pool):
    a, b = pool.allocate(0), pool.allocate(0)
    assert a and b and a != b
    assert pool.usable_size(a) == 0
    assert pool.read(a) == b""
    assert len(pool.view(a)) == 0
    pool.free(a)
    pool.free(b)


def test_usable_size_is_the_request(pool):
    for n in (1, 15, 17, 100, 1000, 5000, 70000):
        p = pool.allocate(n)
        assert pool.usable_size(p) == n
        pool.free(p)
    assert pool.usable_size(None) == 0
    assert pool.usable_size(0) == 0


def test_calloc_is_zero_even_over_reused_memory(pool):
    dirty = [pool.allocate(200) for _ in range(200)]
    for p in dirty:
        pool.write(p, b"\xa5" * 200)
    for p in dirty:
        pool.free(p)
    blocks = [pool.calloc(20, 10) for _ in range(400)]
    assert set(dirty) & set(blocks), "calloc never reused a freed block: the test proves nothing"
    for p in blocks:
        assert pool.usable_size(p) == 200
        assert pool.read(p) == bytes(200)
    for p in blocks:
        pool.free(p)


def test_calloc_zero_and_overflowing_product(pool):
    p = pool.calloc(0, 10)
    assert pool.usable_size(p) == 0
    pool.free(p)
    with pytest.raises(MemoryError):
        pool.calloc(1 << 33, 1 << 33)
    with pytest.raises(MemoryError):
        pool.calloc(ctypes.c_size_t(-1).value, 2)
    assert pool.stats().live_blocks == 0
    pool.free(pool.allocate(8))


def test_realloc_keeps_contents_and_moves(pool):
    p = pool.allocate(10)
    pool.write(p, b"0123456789")
    for n in (20, 100, 3000, 70000, 300000):
        p = pool.realloc(p, n)
        assert pool.usable_size(p) == n
        assert pool.read(p, 10) == b"0123456789"
        pool.write(p, b"x" * (n - 10), offset=10)
    for n in (50000, 1000, 10, 4):
        p = pool.realloc(p, n)
        assert pool.usable_size(p) == n
        assert pool.read(p, min(n, 10)) == b"0123456789"[:n]
    assert pool.blocks() == [(p, 4)]
    pool.free(p)
    assert pool.check()


def test_realloc_none_allocates(pool):
    p = pool.realloc(None, 64)
    assert pool.usable_size(p) == 64
    q = pool.realloc(0, 32)
    assert pool.usable_size(q) == 32
    assert pool.stats().live_blocks == 2
    pool.free(p)
    pool.free(q)


def test_realloc_to_zero_frees(pool):
    p = pool.allocate(64)
    assert pool.realloc(p, 0) is None
    assert p not in pool
    assert pool.stats().live_blocks == 0
    q = pool.allocate(64)
    pool.free(q)


def test_realloc_that_does_not_fit_keeps_the_block(pool):
    p = pool.allocate(100)
    pool.write(p, b"k" * 100)
    with pytest.raises(MemoryError):
        pool.realloc(p, 1 << 40)
    with pytest.raises(MemoryError):
        pool.realloc(p, 2 * pool.stats().mapped)
    assert pool.read(p) == b"k" * 100
    pool.free(p)


@pytest.mark.parametrize("align", [1, 2, 4, 8, 16, 32, 64, 256, 4096, 16384, 65536])
def test_aligned(pool, align):
    ptrs = [pool.aligned(align, n) for n in (1, 24, 100, 5000)]
    for p, n in zip(ptrs, (1, 24, 100, 5000)):
        assert p % align == 0
        assert pool.usable_size(p) == n
        pool.write(p, b"a" * n)
    for p in ptrs:
        pool.free(p)
    assert pool.check()


@pytest.mark.parametrize("align", [0, 3, 24, 100])
def test_aligned_rejects_a_bad_alignment(pool, align):
    with pytest.raises(ValueError):
        pool.aligned(align, 16)


def test_aligned_that_does_not_fit(pool):
    with pytest.raises(MemoryError):
        pool.aligned(1 << 30, 16)
    with pytest.raises(MemoryError):
        pool.aligned(16, 1 << 40)


def test_read_write_bounds(pool):
    p = pool.allocate(20)
    pool.write(p, b"abcdefghijklmnopqrst")
    assert pool.read(p, 5) == b"abcde"
    assert pool.read(p, 5, offset=15) == b"pqrst"
    assert pool.read(p, offset=18) == b"st"
    assert pool.read(p, 0) == b""
    pool.write(p, bytearray(b"XY"), offset=18)
    pool.write(p, memoryview(b"--"))
    assert pool.read(p) == b"--cdefghijklmnopqrXY"
    with pytest.raises(ValueError):
        pool.read(p, 21)
    with pytest.raises(ValueError):
        pool.read(p, 2, offset=19)
    with pytest.raises(ValueError):
        pool.read(p, offset=21)
    with pytest.raises(ValueError):
        pool.write(p, b"z" * 21)
    with pytest.raises(ValueError):
        pool.write(p, b"zz", offset=19)
    with pytest.raises(TypeError):
        pool.write(p, "text")
    assert pool.read(p) == b"--cdefghijklmnopqrXY", "a refused write wrote"
    pool.free(p)        # the canary past byte 20 is intact
    assert pool.check()


def test_view_is_the_block(pool):
    p = pool.allocate(40)
    v = pool.view(p)
    assert isinstance(v, memoryview)
    assert len(v) == 40 and v.format == "B" and not v.readonly
    v[:5] = b"hello"
    v[39] = 0x21
    assert pool.read(p, 5) == b"hello"
    assert pool.read(p, 1, offset=39) == b"!"
    pool.write(p, b"J")
    assert v[0] == ord("J")
    with pytest.raises((IndexError, ValueError)):
        v[40] = 1
    pool.free(p)
    with pytest.raises(ValueError):
        v[0] = 1
    with pytest.raises(ValueError):
        bytes(v)


def test_views_released_by_realloc_reset_and_close():
    m = MemoryAllocator(pool_size=1 << 16)
    p = m.allocate(100)
    v1 = m.view(p)
    p = m.realloc(p, 10)
    with pytest.raises(ValueError):
        v1[50] = 1
    v2 = m.view(p)
    assert len(v2) == 10
    m.reset()
    with pytest.raises(ValueError):
        v2[0] = 1
    v3 = m.view(m.allocate(8))
    m.close()
    with pytest.raises(ValueError):
        v3[0] = 1


def test_a_view_keeps_its_pool_alive():
    m = MemoryAllocator(pool_size=1 << 16)
    v = m.view(m.allocate(16))
    del m
    gc.collect()
    v[:] = b"still mapped...."    # the pool is not destroyed under the view
    assert bytes(v) == b"still mapped...."


def test_stats(pool):
    s0 = pool.stats()
    assert isinstance(s0, PoolStats)
    d = s0.as_dict()
    assert list(d) == ["requested", "in_use", "live_blocks", "mapped", "mapped_peak", "meta",
                       "dirty", "dirty_limit", "mmap_calls", "munmap_calls", "mremap_calls",
                       "madvise_calls"]
    assert all(isinstance(v, int) for v in d.values())
    assert (s0.requested, s0.in_use, s0.live_blocks) == (0, 0, 0)
    assert s0.mapped >= 1 << 20 and s0.mapped % PAGE == 0
    assert s0.mapped_peak >= s0.mapped
    assert s0.dirty_limit == 0
    ptrs = [pool.allocate(n) for n in (10, 100, 1000)]
    s1 = pool.stats()
    assert s1.live_blocks == 3
    assert s1.requested == 1110
    assert s1.in_use >= 1110
    assert s1.mapped == s0.mapped
    for p in ptrs:
        pool.free(p)
    s2 = pool.stats()
    assert (s2.requested, s2.in_use, s2.live_blocks) == (0, 0, 0)


def test_stats_requested_matches_blocks(pool):
    for n in range(1, 300, 7):
        pool.allocate(n)
    assert pool.stats().requested == sum(n for _, n in pool.blocks())
    assert pool.stats().live_blocks == len(pool) == len(pool.blocks())


def test_reset(pool):
    ptrs = [pool.allocate(500) for _ in range(50)]
    pool.reset()
    s = pool.stats()
    assert (s.requested, s.in_use, s.live_blocks) == (0, 0, 0)
    assert pool.blocks() == [] and ptrs[0] not in pool
    big = pool.allocate(pool.stats().mapped // 2)     # the room is back
    pool.free(big)
    assert pool.check()


def test_reset_mapping_reads_zero_again(pool):
    p = pool.allocate(4096)
    pool.write(p, b"\xff" * 4096)
    pool.reset()
    q = pool.allocate(4096)
    assert pool.read(q) == bytes(4096)


def test_close_and_context_manager():
    with MemoryAllocator(pool_size=4096) as m:
        p = m.allocate(16)
        assert not m.closed
    assert m.closed
    assert repr(m) == "<MemoryAllocator closed>"
    m.close()           # twice is fine
    calls = [lambda: m.allocate(1), lambda: m.calloc(1, 1), lambda: m.realloc(p, 2),
             lambda: m.free(p), lambda: m.usable_size(p), lambda: m.aligned(16, 1),
             lambda: m.read(p), lambda: m.write(p, b"x"), lambda: m.view(p),
             m.stats, m.check, m.reset, m.blocks, lambda: m.__enter__()]
    for call in calls:
        with pytest.raises(PoolClosed):
            call()
    assert issubclass(PoolClosed, ValueError) and issubclass(PoolClosed, PoolError)


def test_repr_shows_usage():
    with MemoryAllocator(pool_size=1 << 16) as m:
        for n in (100, 100, 200):
            m.allocate(n)
        r = repr(m)
        s = m.stats()
        assert re.fullmatch(r"<MemoryAllocator (\d+) bytes: 3 blocks, (\d+) B in use, (\d+)%>", r), r
        assert f"{s.mapped} bytes" in r and f"{s.in_use} B in use" in r
        assert f"{round(100 * s.in_use / s.mapped)}%" in r


def test_blocks_len_contains(pool):
    a, b = pool.allocate(30), pool.calloc(3, 7)
    c = pool.aligned(256, 5)
    assert pool.blocks() == sorted([(a, 30), (b, 21), (c, 5)])
    assert len(pool) == 3 and a in pool and a + 16 not in pool
    pool.free(b)
    assert pool.blocks() == sorted([(a, 30), (c, 5)])


def test_region_bytearray():
    buf = bytearray(8 * PAGE + 100)
    m = MemoryAllocator(region=buf)
    start, length = m.region
    base = ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))
    assert start % PAGE == 0 and length % PAGE == 0
    assert base <= start and start + length <= base + len(buf)
    assert m.stats().mapped == length
    ptrs = [m.allocate(n) for n in (13, 300, 2000)]
    for p in ptrs:
        assert start <= p and p + m.usable_size(p) <= start + length
    m.write(ptrs[0], b"in the buffer")
    off = ptrs[0] - base
    assert bytes(buf[off:off + 13]) == b"in the buffer"
    with pytest.raises(BufferError):
        buf.extend(b"x")        # the pool's memory cannot move
    m.close()
    buf.extend(b"x")            # released with the pool


def test_region_outlives_its_last_reference():
    m = MemoryAllocator(region=bytearray(4 * PAGE + PAGE - 1))
    gc.collect()
    p = m.allocate(1000)
    m.write(p, b"q" * 1000)
    assert m.read(p) == b"q" * 1000
    m.free(p)
    assert m.check()
    m.close()


def test_region_mmap_and_ctypes():
    mm = mmap.mmap(-1, 4 * PAGE)
    with MemoryAllocator(region=mm) as m:
        assert m.region == (ctypes.addressof(ctypes.c_char.from_buffer(mm)), 4 * PAGE)
        p = m.allocate(100)
        m.write(p, b"m" * 100)
        m.free(p)
    mm.close()
    arr = (ctypes.c_uint64 * (3 * PAGE // 8))()
    with MemoryAllocator(region=arr) as m:
        p = m.allocate(64)
        assert m.region[0] <= p < m.region[0] + m.region[1]
        m.free(p)


def test_region_pool_never_writes_outside_its_pages():
    buf = bytearray(b"\x5a" * (6 * PAGE))
    base = ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))
    with MemoryAllocator(region=buf) as m:
        start, length = m.region
        ptrs = []
        try:
            while True:
                ptrs.append(m.allocate(200))
        except MemoryError:
            pass
        assert len(ptrs) > 10
        for p in ptrs:
            m.write(p, b"\x00" * 200)
        for p in ptrs[::2]:
            m.free(p)
    head, tail = start - base, start - base + length
    assert buf[:head] == b"\x5a" * head
    assert buf[tail:] == b"\x5a" * (len(buf) - tail)


def test_region_arguments():
    with pytest.raises(ValueError):
        MemoryAllocator(region=bytearray(PAGE // 2))     # no whole page inside
    with pytest.raises(TypeError):
        MemoryAllocator(region=bytes(4 * PAGE))          # read-only
    with pytest.raises(TypeError):
        MemoryAllocator(region="not a buffer")
    with pytest.raises(TypeError):
        MemoryAllocator(1024, region=bytearray(4 * PAGE))


def test_full_pool_raises_memory_error_and_stays_usable():
    with MemoryAllocator(pool_size=64 * 1024) as m:
        with pytest.raises(MemoryError):
            m.allocate(m.stats().mapped + 1)
        with pytest.raises(MemoryError):
            m.allocate(1 << 62)
        ptrs = []
        with pytest.raises(MemoryError):
            while True:
                ptrs.append(m.allocate(1000))
        assert len(ptrs) >= 32
        assert m.check()
        m.free(ptrs.pop())
        ptrs.append(m.allocate(1000))
        for p in ptrs:
            m.free(p)
        assert m.stats().live_blocks == 0
        assert m.check()


@pytest.mark.parametrize("bad", [1.0, "8", None, b"1", [8]])
def test_sizes_must_be_ints(pool, bad):
    for call in (lambda: pool.allocate(bad), lambda: pool.calloc(bad, 1),
                 lambda: pool.calloc(1, bad), lambda: pool.aligned(16, bad),
                 lambda: pool.aligned(bad, 16)):
        with pytest.raises(TypeError):
            call()
    p = pool.allocate(8)
    with pytest.raises(TypeError):
        pool.realloc(p, bad)
    pool.free(p)
    if bad is not None:         # None is the default size
        with pytest.raises(TypeError):
            MemoryAllocator(pool_size=bad)


def test_sizes_must_not_be_negative_or_too_big(pool):
    p = pool.allocate(8)
    for call in (lambda: pool.allocate(-1), lambda: pool.calloc(-1, 4),
                 lambda: pool.calloc(4, -1), lambda: pool.aligned(16, -8),
                 lambda: pool.aligned(-16, 8), lambda: pool.realloc(p, -1),
                 lambda: pool.read(p, -1), lambda: pool.read(p, 1, offset=-1),
                 lambda: pool.write(p, b"", offset=-1), lambda: MemoryAllocator(-1),
                 lambda: MemoryAllocator(0)):
        with pytest.raises(ValueError):
            call()
    with pytest.raises(OverflowError):
        pool.allocate(1 << 64)
    assert pool.usable_size(p) == 8 and len(pool) == 1
    pool.free(p)


@pytest.mark.parametrize("bad", [1.5, "0x1000", b"\x00"])
def test_addresses_must_be_ints(pool, bad):
    for call in (lambda: pool.free(bad), lambda: pool.realloc(bad, 8),
                 lambda: pool.usable_size(bad), lambda: pool.read(bad),
                 lambda: pool.write(bad, b""), lambda: pool.view(bad)):
        with pytest.raises(TypeError):
            call()


def test_addresses_out_of_range(pool):
    for a in (-1, -4096, 1 << 64, 1 << 70):
        for call in (lambda: pool.free(a), lambda: pool.realloc(a, 8),
                     lambda: pool.usable_size(a), lambda: pool.read(a)):
            with pytest.raises(ValueError):
                call()


def test_threads_share_a_pool():
    with MemoryAllocator(pool_size=4 << 20) as m:
        errors = []

        def worker(k):
            try:
                mine = []
                for i in range(2000):
                    if mine and i % 3 == 2:
                        p, tag = mine.pop(0)
                        assert m.read(p) == tag
                        m.free(p)
                    else:
                        tag = bytes([k, i & 255]) * (1 + i % 40)
                        p = m.allocate(len(tag))
                        m.write(p, tag)
                        mine.append((p, tag))
                for p, tag in mine:
                    assert m.read(p) == tag
                    m.free(p)
            except Exception as e:      # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert m.stats().live_blocks == 0 and len(m) == 0
        assert m.check()


def test_many_pools_are_independent():
    pools = [MemoryAllocator(pool_size=PAGE * (1 + i)) for i in range(20)]
    ptrs = [m.allocate(100) for m in pools]
    for i, (m, p) in enumerate(zip(pools, ptrs)):
        m.write(p, bytes([i]) * 100)
    for i, (m, p) in enumerate(zip(pools, ptrs)):
        assert m.read(p) == bytes([i]) * 100
        m.close()


def test_an_exported_view_keeps_its_block():
    with MemoryAllocator(pool_size=1 << 16) as m:
        p = m.allocate(64)
        arr = (ctypes.c_char * 64).from_buffer(m.view(p))     # holds a buffer of the view
        with pytest.raises(BufferError):
            m.free(p)
        with pytest.raises(BufferError):
            m.realloc(p, 10)
        with pytest.raises(BufferError):
            m.reset()
        with pytest.raises(BufferError):
            m.close()
        assert not m.closed and p in m and m.usable_size(p) == 64
        arr[0] = b"!"
        assert m.read(p, 1) == b"!"
        del arr
        m.free(p)


def test_a_slice_of_a_view_keeps_its_block():
    with MemoryAllocator(pool_size=1 << 16) as m:
        p = m.allocate(64)
        v = m.view(p)
        part = v[8:16].cast("B")
        with pytest.raises(BufferError):
            m.free(p)
        with pytest.raises(ValueError):
            v[0] = 1                # released all the same
        part[0] = 7
        assert m.read(p, 1, offset=8) == b"\x07"
        del part
        m.free(p)
        assert m.check()


def test_a_pool_inside_a_block():
    with MemoryAllocator(pool_size=1 << 20) as outer:
        p = outer.allocate(8 * PAGE)
        inner = MemoryAllocator(region=outer.view(p))
        q = inner.allocate(100)
        inner.write(q, b"nested" * 10)
        assert outer.read(p, 60, offset=q - p) == b"nested" * 10
        with pytest.raises(BufferError):
            outer.free(p)           # the inner pool's memory
        inner.close()
        outer.free(p)
        assert outer.check()


def test_regions_of_live_pools_never_overlap():
    buf = bytearray(8 * PAGE)
    a = MemoryAllocator(region=buf)
    with pytest.raises(ValueError):
        MemoryAllocator(region=buf)
    with pytest.raises(ValueError):
        MemoryAllocator(region=memoryview(buf)[2 * PAGE:])
    a.close()
    b = MemoryAllocator(region=buf)
    b.free(b.allocate(10))
    b.close()


def test_a_region_that_barealloc_refuses_is_a_value_error():
    buf = (ctypes.c_char * (8 * PAGE))()
    other = _lib.ba_pool_new_in(ctypes.addressof(buf), len(buf), _lib.POOL_REPORT)   # not the package's
    assert other
    try:
        with pytest.raises(ValueError):
            MemoryAllocator(region=buf)
        with pytest.raises(ValueError):
            MemoryAllocator(region=bytearray(100))      # no whole page inside
    finally:
        _lib.ba_pool_destroy(other)


def test_region_bytes_outside_the_pages_are_foreign():
    buf = bytearray(5 * PAGE)
    base = ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))
    with MemoryAllocator(region=buf) as m:
        start, length = m.region
        for a in {base, start - 1, start + length, base + len(buf) - 1} - {start}:
            with pytest.raises(ForeignPointer):
                m.free(a)


def test_calloc_zeroes_a_dirty_region():
    buf = bytearray(b"\xee" * (40 * PAGE))
    with MemoryAllocator(region=buf) as m:
        for n in (1, 100, 3000, 5000, 40000):
            p = m.calloc(n, 1)
            assert m.read(p) == bytes(n)
            m.write(p, b"\xee" * n)
        m.reset()
        for n in (1, 100, 3000, 5000, 40000):
            assert m.read(m.calloc(1, n)) == bytes(n)


def test_calloc_after_reset_of_a_mapping():
    with MemoryAllocator(pool_size=1 << 20) as m:
        for n in (100, 5000, 300000):
            m.write(m.allocate(n), b"\xcc" * n)
        m.reset()
        for n in (100, 5000, 300000):
            assert m.read(m.calloc(n, 1)) == bytes(n)


def test_reset_invalidates_old_addresses():
    with MemoryAllocator(pool_size=1 << 20) as m:
        old = [m.allocate(n) for n in (24, 500, 70000)]
        m.reset()
        for p in old:
            with pytest.raises(InvalidPointer):
                m.free(p)
        assert m.check()


def test_pool_size_limits():
    with pytest.raises(MemoryError):
        MemoryAllocator(pool_size=1 << 63)
    with pytest.raises(OverflowError):
        MemoryAllocator(pool_size=1 << 64)
    with MemoryAllocator(pool_size=1) as m:
        assert m.stats().mapped == PAGE


K = 1024


@pytest.mark.parametrize("kind", ["mapping", "region"])
@pytest.mark.parametrize("size,first,want", [
    (64 * K, [100], 64 * K),                        # a small block's run
    (64 * K, [16, 32, 48, 64, 80], 60000),
    (64 * K, [40000], 64 * K),
    (1024 * K, [300000], 1024 * K),                 # a medium block's pages
    (4096 * K, [4096 * K - PAGE], 4096 * K),
])
def test_an_emptied_pool_has_all_its_room_again(kind, size, first, want):
    """With no live block, a pool serves what it served when new: its free
    pages, whatever they held, are one room again."""
    def make():
        if kind == "mapping":
            return MemoryAllocator(pool_size=size)
        return MemoryAllocator(region=bytearray(size + PAGE - 1))
    with make() as fresh:
        fresh.free(fresh.allocate(want))
    with make() as m:
        for p in [m.allocate(n) for n in first]:
            m.free(p)
        assert m.stats().live_blocks == 0
        m.free(m.allocate(want))

"""Misuse: in report mode every misuse raises a PoolError subclass with
barealloc's text and the address, and the pool works on; without it, the
process ends with SIGABRT and barealloc's one line, as malloc's heap does."""

import ctypes
import mmap
import os
import random
import signal
import subprocess
import sys
import textwrap

import pytest

from barealloc import (CheckFailed, DoubleFree, ForeignPointer, InteriorPointer, InvalidPointer,
                       MemoryAllocator, Overflow, PoolError, WrongPool, _lib)

PAGE = mmap.PAGESIZE
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def still_works(m, keep=()):
    """The pool allocates, writes, frees and checks clean, and the blocks
    in keep, as (address, bytes) pairs, hold what they held."""
    ptrs = [m.allocate(n) for n in (8, 200, 3000)]
    for p in ptrs:
        m.write(p, b"w" * m.usable_size(p))
    for p in ptrs:
        assert m.read(p) == b"w" * m.usable_size(p)
        m.free(p)
    for p, data in keep:
        assert m.read(p) == data
    assert m.check()


def expect(exc_class, code, op, addr, call):
    with pytest.raises(exc_class) as info:
        call()
    e = info.value
    assert type(e) is exc_class
    assert not isinstance(e, MemoryError)
    assert e.code == code and e.address == addr
    assert str(e) == f"{op}(0x{addr:x}): {_lib.strerror(code)}"
    return e


def test_strerror_texts():
    assert _lib.strerror(_lib.POOL_DOUBLE) == "double free"
    texts = [_lib.strerror(c) for c in range(6)]
    assert all(texts) and len(set(texts)) == 6


@pytest.mark.parametrize("size", [16, 100, 1000, 5000, 70000])
def test_double_free(pool, size):
    p = pool.allocate(size)
    keep = pool.allocate(24)
    pool.write(keep, b"k" * 24)
    pool.free(p)
    expect(DoubleFree, _lib.POOL_DOUBLE, "free", p, lambda: pool.free(p))
    expect(DoubleFree, _lib.POOL_DOUBLE, "free", p, lambda: pool.free(p))
    expect(DoubleFree, _lib.POOL_DOUBLE, "realloc", p, lambda: pool.realloc(p, 10))
    expect(DoubleFree, _lib.POOL_DOUBLE, "usable_size", p, lambda: pool.usable_size(p))
    for op, call in (("read", lambda: pool.read(p)), ("write", lambda: pool.write(p, b"x")),
                     ("view", lambda: pool.view(p))):
        expect(DoubleFree, _lib.POOL_DOUBLE, op, p, call)
    assert pool.stats().live_blocks == 1
    still_works(pool, [(keep, b"k" * 24)])


def test_double_free_after_other_frees(pool):
    ptrs = [pool.allocate(48) for _ in range(20)]
    first = ptrs[0]
    pool.free(first)
    for p in ptrs[1:4]:
        pool.free(p)
    expect(DoubleFree, _lib.POOL_DOUBLE, "free", first, lambda: pool.free(first))
    for p in ptrs[4:]:
        pool.free(p)
    assert pool.check()


def test_realloc_to_zero_then_free_is_a_double_free(pool):
    p = pool.allocate(64)
    assert pool.realloc(p, 0) is None
    expect(DoubleFree, _lib.POOL_DOUBLE, "free", p, lambda: pool.free(p))
    still_works(pool)


@pytest.mark.parametrize("size,offset", [(64, 1), (64, 8), (64, 16), (64, 63), (1000, 512),
                                         (5000, 8), (5000, PAGE), (70000, 3 * PAGE + 16)])
def test_interior_pointer(pool, size, offset):
    p = pool.allocate(size)
    pool.write(p, b"i" * size)
    q = p + offset
    for op, call in (("free", lambda: pool.free(q)), ("realloc", lambda: pool.realloc(q, 8)),
                     ("usable_size", lambda: pool.usable_size(q)), ("read", lambda: pool.read(q)),
                     ("write", lambda: pool.write(q, b"x")), ("view", lambda: pool.view(q))):
        expect(InteriorPointer, _lib.POOL_INTERIOR, op, q, call)
    assert pool.read(p) == b"i" * size
    still_works(pool, [(p, b"i" * size)])
    pool.free(p)


def foreign_addresses():
    buf = ctypes.create_string_buffer(256)       # the interpreter's own heap
    fn = ctypes.cast(_lib.ba_pool_new, ctypes.c_void_p).value
    return [ctypes.addressof(buf), ctypes.addressof(buf) + 16, fn, id(object()),
            16, 4096, 0x10000, 0xdeadbeef000, 1 << 46, 0x7ffffffff000], buf


def test_foreign_pointers(pool):
    keep = pool.allocate(100)
    pool.write(keep, b"f" * 100)
    addrs, buf = foreign_addresses()
    for a in addrs:
        for op, call in (("free", lambda: pool.free(a)), ("realloc", lambda: pool.realloc(a, 8)),
                         ("usable_size", lambda: pool.usable_size(a)),
                         ("read", lambda: pool.read(a)), ("write", lambda: pool.write(a, b"x"))):
            expect(ForeignPointer, _lib.POOL_FOREIGN, op, a, call)
    still_works(pool, [(keep, b"f" * 100)])


@pytest.mark.parametrize("a", [1, 7, 0xfff, (1 << 63) + 16, (1 << 64) - 16, (1 << 64) - 1])
def test_odd_addresses_never_crash(pool, a):
    for call in (lambda: pool.free(a), lambda: pool.realloc(a, 8), lambda: pool.usable_size(a),
                 lambda: pool.read(a), lambda: pool.view(a)):
        with pytest.raises(InvalidPointer):
            call()
    still_works(pool)


@pytest.mark.parametrize("size", [32, 700, 9000])
def test_block_of_another_pool(pool, other, size):
    p = other.allocate(size)
    other.write(p, b"o" * size)
    for op, call in (("free", lambda: pool.free(p)), ("realloc", lambda: pool.realloc(p, 8)),
                     ("usable_size", lambda: pool.usable_size(p)),
                     ("read", lambda: pool.read(p)), ("write", lambda: pool.write(p, b"x"))):
        expect(WrongPool, _lib.POOL_OTHER, op, p, call)
    assert issubclass(WrongPool, ForeignPointer)
    assert other.read(p) == b"o" * size
    other.free(p)
    still_works(pool)
    still_works(other)


def test_block_of_a_region_pool_freed_elsewhere(pool):
    with MemoryAllocator(region=bytearray(8 * PAGE)) as r:
        p = r.allocate(40)
        expect(WrongPool, _lib.POOL_OTHER, "free", p, lambda: pool.free(p))
        q = pool.allocate(40)
        expect(WrongPool, _lib.POOL_OTHER, "free", q, lambda: r.free(q))
        r.free(p)
        pool.free(q)
        still_works(r)


@pytest.mark.parametrize("size", [20, 100, 1000, 5000, 70000])
def test_overflow(pool, size):
    """A byte written just past the request trips the canary; the block
    stays as it was, and with its canary back it frees cleanly."""
    p = pool.allocate(size)
    keep = pool.allocate(50)
    pool.write(keep, b"n" * 50)
    canary = ctypes.string_at(p + size, 1)
    ctypes.memset(p + size, canary[0] ^ 0xff, 1)        # what write() refuses to do
    with pytest.raises(CheckFailed) as info:
        pool.check()
    assert info.value.code != 0 and str(info.value) == f"check: {_lib.check_name(info.value.code)}"
    expect(Overflow, _lib.POOL_OVERFLOW, "free", p, lambda: pool.free(p))
    expect(Overflow, _lib.POOL_OVERFLOW, "realloc", p, lambda: pool.realloc(p, size + 100))
    expect(Overflow, _lib.POOL_OVERFLOW, "realloc", p, lambda: pool.realloc(p, 1))
    for op, call in (("usable_size", lambda: pool.usable_size(p)), ("read", lambda: pool.read(p)),
                     ("write", lambda: pool.write(p, b"x")), ("view", lambda: pool.view(p))):
        expect(Overflow, _lib.POOL_OVERFLOW, op, p, call)
    assert p in pool
    assert pool.stats().live_blocks == 2
    q = pool.allocate(30)        # the pool works on meanwhile
    pool.free(q)
    ctypes.memmove(p + size, canary, 1)
    assert pool.check()
    pool.free(p)
    still_works(pool, [(keep, b"n" * 50)])


def test_overflow_by_a_nul(pool):
    """The canary is never zero: the commonest overflow, a terminating NUL, is caught."""
    for n in (5, 13, 30, 100, 250):
        p = pool.allocate(n)
        ctypes.memset(p + n, 0, 1)
        with pytest.raises(Overflow):
            pool.free(p)
        with pytest.raises(CheckFailed):
            pool.check()
    pool.reset()
    assert pool.check()
    still_works(pool)


def test_write_never_reaches_the_canary(pool):
    for n in (1, 20, 100, 5000):
        p = pool.allocate(n)
        with pytest.raises(ValueError):
            pool.write(p, b"\x00" * (n + 1))
        with pytest.raises(ValueError):
            pool.write(p, b"\x00", offset=n)
        v = pool.view(p)
        with pytest.raises((IndexError, ValueError)):
            v[n] = 0
        pool.write(p, b"\x00" * n)
        pool.free(p)
    assert pool.check()


def test_null_pointer(pool):
    pool.free(None)
    pool.free(0)
    for call in (lambda: pool.read(0), lambda: pool.write(0, b""), lambda: pool.view(None)):
        with pytest.raises(InvalidPointer):
            call()


def test_storm_of_bad_addresses(seed):
    """Thousands of wrong addresses near, inside and between blocks of a
    region pool: each raises an InvalidPointer, nothing else changes."""
    rng = random.Random(seed)
    with MemoryAllocator(region=bytearray(34 * PAGE)) as m:
        start, length = m.region
        live = {}
        while m.stats().in_use < length // 2:      # room left for still_works()
            n = rng.choice([1, 8, 24, 100, 500, 2000, 9000])
            try:
                p = m.allocate(n)
            except MemoryError:
                break
            live[p] = bytes([rng.randrange(256)]) * n
            m.write(p, live[p])
        for p in rng.sample(sorted(live), len(live) // 3):
            m.free(p)
        freed = [p for p in list(live) if p not in m]
        for p in freed:
            del live[p]
        candidates = ([p + d for p in live for d in (1, 8, 16, -16, -1)] + freed
                      + [start + rng.randrange(length) for _ in range(2000)]
                      + [start + rng.randrange(length // 16) * 16 for _ in range(2000)])
        for a in candidates:
            if a in live:
                continue
            op = rng.choice(["free", "realloc", "usable_size", "read"])
            with pytest.raises(InvalidPointer):
                if op == "free":
                    m.free(a)
                elif op == "realloc":
                    m.realloc(a, rng.randrange(1, 3000))
                elif op == "usable_size":
                    m.usable_size(a)
                else:
                    m.read(a)
        assert m.check()
        for p, data in live.items():
            assert m.read(p) == data
        assert m.stats().live_blocks == len(live)
        still_works(m)


def run_python(code):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=60)


WHY = {
    "double": "double free",
    "interior": "not the start of a block",
    "foreign": "invalid pointer (not from barealloc)",
    "overflow": "overflow past the end of the block",
    "other pool": "block of another heap",
}


@pytest.mark.parametrize("what", sorted(WHY))
def test_without_report_misuse_aborts(what):
    r = run_python(f"""
        import ctypes
        from barealloc import MemoryAllocator
        m = MemoryAllocator(pool_size=1 << 16, report=False)
        o = MemoryAllocator(pool_size=1 << 16, report=False)
        assert not m.report
        p = m.allocate(40)
        what = {what!r}
        if what == "double":
            m.free(p)
            bad = p
        elif what == "interior":
            bad = p + 8
        elif what == "foreign":
            bad = ctypes.addressof(ctypes.create_string_buffer(64))
        elif what == "other pool":
            bad = o.allocate(40)
        else:
            ctypes.memset(p + 40, 0, 1)
            bad = p
        print(hex(bad), flush=True)
        m.free(bad)
        print("survived", flush=True)
    """)
    assert r.returncode == -signal.SIGABRT, (r.returncode, r.stderr)
    addr = r.stdout.split()[0]
    assert "survived" not in r.stdout
    assert r.stderr == f"barealloc: ba_pool_free({addr}): {WHY[what]}\n", r.stderr


def test_without_report_good_use_works():
    with MemoryAllocator(pool_size=1 << 16, report=False) as m:
        p = m.allocate(100)
        m.write(p, b"r" * 100)
        p = m.realloc(p, 200)
        assert m.read(p, 100) == b"r" * 100
        m.free(p)
        assert m.check()


def test_error_classes():
    for cls in (InvalidPointer, ForeignPointer, WrongPool, InteriorPointer, DoubleFree,
                Overflow, CheckFailed):
        assert issubclass(cls, PoolError) and not issubclass(cls, MemoryError)


def test_an_error_is_the_last_calls_only(pool):
    """ba_pool_error tells the last call's misuse: after a double free, a
    request too big for any pool is a MemoryError, not the double free
    again."""
    p, r = pool.allocate(10), pool.allocate(10)
    pool.free(r)
    with pytest.raises(DoubleFree):
        pool.free(r)
    with pytest.raises(MemoryError):
        pool.realloc(p, 1 << 63)
    with pytest.raises(DoubleFree):
        pool.free(r)
    with pytest.raises(MemoryError):
        pool.realloc(p, (1 << 64) - 1)
    assert pool.usable_size(p) == 10
    pool.free(p)

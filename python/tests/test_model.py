"""A random session checked against a model: a dict from each live block's
address to the bytes it must hold.  The seed is printed; BA_TEST_SEED=<n>
replays it."""

import random

import pytest

from barealloc import DoubleFree, InteriorPointer, InvalidPointer, MemoryAllocator

SIZES = [0, 1, 8, 15, 16, 24, 40, 64, 100, 128, 250, 256, 500, 1000, 1500, 2048, 4000,
         5000, 12000, 40000, 100000, 300000]


def random_size(rng, sizes=SIZES):
    n = rng.choice(sizes)
    return n if rng.random() < 0.5 else rng.randrange(n + 1)


def payload(rng, n):
    return rng.randbytes(n) if hasattr(rng, "randbytes") else bytes(rng.getrandbits(8) for _ in range(n))


class Session:
    def __init__(self, pool, rng, sizes=SIZES):
        self.m, self.rng, self.sizes = pool, rng, sizes
        self.model = {}         # address -> bytes it holds
        self.freed = []         # recently freed addresses, for double frees
        self.counts = {}

    def compare(self, p):
        assert self.m.usable_size(p) == len(self.model[p])
        assert self.m.read(p) == self.model[p], f"block 0x{p:x} differs from the model"

    def compare_all(self):
        for p in self.model:
            self.compare(p)
        s = self.m.stats()
        assert s.live_blocks == len(self.model)
        assert s.requested == sum(map(len, self.model.values()))
        assert s.in_use >= s.requested
        assert s.in_use <= s.mapped
        assert self.m.blocks() == sorted((p, len(d)) for p, d in self.model.items())
        assert self.m.check()

    def add(self, p, data):
        assert p not in self.model, f"0x{p:x} handed out twice"
        end = p + len(data)
        for q, d in self.model.items():
            assert end <= q or q + len(d) <= p, \
                f"[0x{p:x}, 0x{end:x}) overlaps [0x{q:x}, 0x{q + len(d):x})"
        self.model[p] = data
        self.compare(p)

    def step(self):
        rng, m = self.rng, self.m
        ops = ["allocate", "calloc", "aligned"]
        if self.model:
            ops += ["free", "free", "realloc", "realloc", "write", "view"]
        if self.freed:
            ops += ["double"]
        if self.model:
            ops += ["interior"]
        op = rng.choice(ops)
        self.counts[op] = self.counts.get(op, 0) + 1
        pick = rng.choice(sorted(self.model)) if self.model else None
        try:
            if op == "allocate":
                n = random_size(rng, self.sizes)
                p = m.allocate(n)
                data = payload(rng, n)
                m.write(p, data)
                self.add(p, data)
            elif op == "calloc":
                size = rng.choice([1, 4, 8, 24, 100])
                nmemb = random_size(rng, self.sizes) // size
                p = m.calloc(nmemb, size)
                self.add(p, bytes(nmemb * size))
            elif op == "aligned":
                align = 1 << rng.randrange(15)
                p = m.aligned(align, random_size(rng, self.sizes))
                assert p % align == 0
                data = payload(rng, m.usable_size(p))
                m.write(p, data)
                self.add(p, data)
            elif op == "free":
                m.free(pick)
                del self.model[pick]
                self.freed = (self.freed + [pick])[-8:]
            elif op == "realloc":
                n = random_size(rng, self.sizes)
                old = self.model[pick]
                q = m.realloc(pick, n)
                del self.model[pick]
                if n == 0:
                    assert q is None
                    self.freed = (self.freed + [pick])[-8:]
                else:
                    kept = old[:n]
                    assert m.read(q, len(kept)) == kept
                    data = kept + payload(rng, n - len(kept))
                    m.write(q, data[len(kept):], offset=len(kept))
                    self.add(q, data)
            elif op == "write":
                old = self.model[pick]
                if old:
                    off = rng.randrange(len(old))
                    chunk = payload(rng, rng.randrange(len(old) - off + 1))
                    m.write(pick, chunk, offset=off)
                    self.model[pick] = old[:off] + chunk + old[off + len(chunk):]
                    self.compare(pick)
            elif op == "view":
                old = self.model[pick]
                v = m.view(pick)
                assert bytes(v) == old
                if old:
                    i = rng.randrange(len(old))
                    v[i] = (old[i] + 1) & 255
                    self.model[pick] = old[:i] + bytes([v[i]]) + old[i + 1:]
                self.compare(pick)
            elif op == "double":
                a = rng.choice(self.freed)
                if a not in self.model:         # not handed out again since
                    with pytest.raises(InvalidPointer):
                        m.free(a)
            elif op == "interior":
                d = self.model[pick]
                if len(d) > 1:
                    with pytest.raises(InteriorPointer):
                        m.free(pick + rng.randrange(1, len(d)))
        except MemoryError:
            self.counts["MemoryError"] = self.counts.get("MemoryError", 0) + 1
            if op == "realloc":
                self.compare(pick)      # the block stays as it was


@pytest.mark.parametrize("kind", ["mapping", "region", "small"])
def test_random_session(seed, kind):
    """Two pools with room, and one of 64 KiB that is often full."""
    rng = random.Random(f"{seed}-{kind}")
    pool = (MemoryAllocator(pool_size=2 << 20) if kind == "mapping"
            else MemoryAllocator(pool_size=64 << 10) if kind == "small"
            else MemoryAllocator(region=bytearray((2 << 20) + 4095)))
    with pool:
        s = Session(pool, rng, SIZES if kind != "small" else [n for n in SIZES if n <= 5000])
        for i in range(5000):
            s.step()
            if i % 50 == 49:
                s.compare_all()
        s.compare_all()
        assert s.counts.get("free", 0) > 100 and s.counts.get("realloc", 0) > 100
        for p in list(s.model):
            pool.free(p)
            del s.model[p]
        s.compare_all()
        assert pool.stats().in_use == 0


def test_double_frees_of_recent_blocks_are_always_caught(seed):
    """Within the quarantine a freed block is not handed out again, so a
    second free of the last block freed is always a DoubleFree."""
    rng = random.Random(seed)
    with MemoryAllocator(pool_size=1 << 20) as m:
        live = []
        for _ in range(2000):
            if live and rng.random() < 0.5:
                p = live.pop(rng.randrange(len(live)))
                m.free(p)
                with pytest.raises(DoubleFree):
                    m.free(p)
            else:
                try:
                    live.append(m.allocate(random_size(rng)))
                except MemoryError:
                    pass
        assert m.check()


@pytest.mark.parametrize("size", [16, 48, 100, 256, 1000])
def test_double_free_after_the_block_could_be_reused(pool, size):
    """free(p); q = allocate(n); free(p): the commonest double free.  The
    quarantine keeps p from coming back as q, so the second free is caught."""
    p = pool.allocate(size)
    pool.free(p)
    q = pool.allocate(size)
    assert q != p
    with pytest.raises(DoubleFree):
        pool.free(p)
    pool.free(q)

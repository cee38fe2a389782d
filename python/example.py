"""barealloc pools from Python: the basic calls, then a heap map.

Run from the repository's root, after `make build/x86_64/libbarealloc-pool.so`:

    PYTHONPATH=python python3 python/example.py [seed]

The heap map shows which bytes of a pool are in use after a random
sequence of allocations and frees, one character per BYTES_PER_CHAR bytes:
'#' all in use, '+' partly, '.' free.  The bytes in use are those asked
for: a block's slack (up to its size class) and the bytes between blocks
show as free, and barealloc keeps no metadata in the pool's pages.
"""

import random
import sys

from barealloc import DoubleFree, MemoryAllocator

BYTES_PER_CHAR = 32
WIDTH = 64


def heap_map(blocks, start, length, per_char=BYTES_PER_CHAR, width=WIDTH):
    """Rows of `address  chars` for [start, start + length), given the live
    blocks as (address, size) pairs."""
    cells = [0] * -(-length // per_char)
    for addr, size in blocks:
        end = addr + size
        for i in range((addr - start) // per_char, (end - 1 - start) // per_char + 1):
            lo = start + i * per_char
            cells[i] += min(end, lo + per_char) - max(addr, lo)
    chars = "".join("#" if c >= per_char else "+" if c else "." for c in cells)
    return [f"{start + r * per_char:#014x}  {chars[r:r + width]}"
            for r in range(0, len(chars), width)]


def basics():
    allocator = MemoryAllocator(pool_size=1024)
    ptr = allocator.allocate(128)
    print(f"allocate(128) -> {ptr:#x}")
    allocator.write(ptr, b"hello, pool")
    print(f"read -> {allocator.read(ptr, 11)!r}")
    print(allocator)
    allocator.free(ptr)
    try:
        allocator.free(ptr)
    except DoubleFree as e:
        print(f"caught: {e}")
    allocator.close()


def fragmentation(seed):
    rng = random.Random(seed)
    region = bytearray(16 * 4096 + 4095)         # 16 whole pages inside, wherever it lands
    with MemoryAllocator(region=region) as pool:
        live = []
        for _ in range(400):
            if live and rng.random() < 0.45:
                pool.free(live.pop(rng.randrange(len(live))))
                continue
            try:
                live.append(pool.allocate(rng.choice([16, 24, 48, 100, 200, 700, 1500, 5000])))
            except MemoryError:
                pass
        pool.check()
        start, length = pool.region
        print(f"\nheap map after 400 random steps (seed {seed}), "
              f"{BYTES_PER_CHAR} bytes per character: '#' in use, '+' partly, '.' free")
        for row in heap_map(pool.blocks(), start, length):
            print(row)
        s = pool.stats()
        print(f"{pool}\n{s.live_blocks} blocks, {s.requested} bytes asked for, "
              f"{s.in_use} bytes in their classes, {s.mapped} bytes in the pool")


if __name__ == "__main__":
    basics()
    fragmentation(int(sys.argv[1]) if len(sys.argv) > 1 else 2024)

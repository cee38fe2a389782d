"""barealloc pools for Python, through ctypes.

barealloc is a freestanding memory allocator for x86-64 and i386 Linux: it
talks to the kernel through raw syscalls only and checks every pointer it
is given out of band.  Its pools are heaps of their own over one stretch of
memory, with the same checks.  This package loads
``libbarealloc-pool.so`` (see barealloc._lib for where it looks) and
wraps a pool in a class::

    from barealloc import MemoryAllocator

    with MemoryAllocator(pool_size=1 << 16) as pool:
        p = pool.allocate(128)          # an address, an int
        pool.write(p, b"hello")
        pool.read(p, 5)                 # b'hello'
        pool.free(p)
        pool.free(p)                    # raises barealloc.DoubleFree

Misuse raises a PoolError subclass and leaves the pool usable; a request
that does not fit raises MemoryError.
"""

from ._lib import path as library_path
from .errors import (CheckFailed, DoubleFree, ForeignPointer, InteriorPointer, InvalidPointer,
                     Overflow, PoolClosed, PoolError, WrongPool)
from .pool import MemoryAllocator, PoolStats

__all__ = [
    "MemoryAllocator", "PoolStats", "library_path",
    "PoolError", "InvalidPointer", "ForeignPointer", "WrongPool", "InteriorPointer",
    "DoubleFree", "Overflow", "CheckFailed", "PoolClosed",
]

"""The exceptions of barealloc's pools.

A pool made in report mode (the default) answers misuse with an error code
instead of ending the process, and leaves itself as it was; these classes
carry that code, barealloc's text for it and the address concerned::

    PoolError
     +-- InvalidPointer         the address is not a live block of the pool
     |    +-- ForeignPointer    not from barealloc at all
     |    |    +-- WrongPool    a block of another pool, or of malloc's heap
     |    +-- InteriorPointer   inside a block, not its start
     |    +-- DoubleFree        a block of the pool that is free
     +-- Overflow               the byte past the block's request was overwritten
     +-- CheckFailed           the pool's invariants do not hold (check())
     +-- PoolClosed             the pool was closed (also a ValueError)

None of them is a MemoryError: that one means only that a request does not
fit in the pool.
"""

from . import _lib


class PoolError(Exception):
    """Misuse of a pool, or a pool found broken.

    ``code`` is barealloc's code (enum ba_pool_error, or BA_CHECK_* for
    CheckFailed), ``address`` the block's address as an int, or None."""

    def __init__(self, message, code=None, address=None):
        super().__init__(message)
        self.code = code
        self.address = address


class InvalidPointer(PoolError):
    """The address is not the start of a live block of this pool."""


class ForeignPointer(InvalidPointer):
    """The address is not from barealloc at all (BA_POOL_FOREIGN)."""


class WrongPool(ForeignPointer):
    """A block of another pool, or of malloc's heap (BA_POOL_OTHER)."""


class InteriorPointer(InvalidPointer):
    """The address is inside a block of the pool, not its start (BA_POOL_INTERIOR)."""


class DoubleFree(InvalidPointer):
    """The address is a block of the pool that is free: freed twice, or used
    after its free (BA_POOL_DOUBLE)."""


class Overflow(PoolError):
    """The byte just past the block's request was overwritten (BA_POOL_OVERFLOW).

    The block stays allocated, as barealloc leaves it; check() keeps failing
    until reset()."""


class CheckFailed(PoolError):
    """ba_pool_check found a broken invariant; ``code`` is its BA_CHECK_* code."""


class PoolClosed(PoolError, ValueError):
    """The pool was closed: its memory is gone."""


_BY_CODE = {
    _lib.POOL_FOREIGN: ForeignPointer,
    _lib.POOL_INTERIOR: InteriorPointer,
    _lib.POOL_DOUBLE: DoubleFree,
    _lib.POOL_OVERFLOW: Overflow,
    _lib.POOL_OTHER: WrongPool,
}


def from_code(code, op, address):
    """The exception for a nonzero ba_pool_error code, raised by ``op`` on ``address``."""
    message = f"{op}(0x{address:x}): {_lib.strerror(code)}"
    return _BY_CODE.get(code, PoolError)(message, code, address)

"""ctypes bindings of barealloc's pool API (inc/ba_pool.h).

The shared object ``libbarealloc-pool.so`` holds a whole barealloc heap and
links no libc.  It exports exactly the ``ba_pool_*`` functions and
``ba_check_name``; every one is declared here with its argument and result
types, so that ctypes never guesses an ``int`` where C has a pointer or a
``size_t``.

The object is looked for, in this order:

1. the path in the environment variable ``BAREALLOC_SO``;
2. ``libbarealloc-pool.so`` inside this package (``pip install`` puts it
   there);
3. ``build/x86_64/libbarealloc-pool.so`` of the source tree, when the
   package is imported from ``python/`` in it (``make`` builds it there).
"""

import ctypes
import os
from ctypes import POINTER, Structure, c_char_p, c_int, c_size_t, c_uint, c_ulong, c_void_p

SONAME = "libbarealloc-pool.so"

# Flags of ba_pool_new and ba_pool_new_in.
POOL_REPORT = 1

# enum ba_pool_error
POOL_OK = 0
POOL_FOREIGN = 1        # not from barealloc at all
POOL_INTERIOR = 2       # inside a block of the pool, not its start
POOL_DOUBLE = 3         # a block of the pool that is free
POOL_OVERFLOW = 4       # the byte past the block's request was overwritten
POOL_OTHER = 5          # a block of another pool, or of malloc's heap

SIZE_MAX = (1 << (8 * ctypes.sizeof(c_size_t))) - 1
UINTPTR_MAX = (1 << (8 * ctypes.sizeof(c_void_p))) - 1


class ba_stats(Structure):
    """struct ba_stats of inc/barealloc.h: eight size_t, four unsigned long."""
    _fields_ = [
        ("requested", c_size_t),
        ("in_use", c_size_t),
        ("live_blocks", c_size_t),
        ("mapped", c_size_t),
        ("mapped_peak", c_size_t),
        ("meta", c_size_t),
        ("dirty", c_size_t),
        ("dirty_limit", c_size_t),
        ("mmap_calls", c_ulong),
        ("munmap_calls", c_ulong),
        ("mremap_calls", c_ulong),
        ("madvise_calls", c_ulong),
    ]


def candidates():
    """The paths tried for the shared object, in order.  BAREALLOC_SO, when
    set, is the only one: it names the object to use, and a typo in it must
    not fall back silently on another build."""
    env = os.environ.get("BAREALLOC_SO")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.join(here, SONAME),
            os.path.normpath(os.path.join(here, os.pardir, os.pardir, "build", "x86_64", SONAME))]


def _load():
    tried = []
    for path in candidates():
        if not os.path.isfile(path):
            tried.append(f"{path}: no such file")
            continue
        try:
            return path, ctypes.CDLL(path, use_errno=True)     # ENOMEM or EINVAL after a NULL
        except OSError as e:
            tried.append(f"{path}: {e}")
    raise ImportError(
        "barealloc: cannot load " + SONAME + ": build it with "
        "`make build/x86_64/" + SONAME + "` at the repository's root, "
        "or set BAREALLOC_SO to its path; tried:\n  " + "\n  ".join(tried))


path, lib = _load()


def _bind(name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


# A ba_pool * is opaque: c_void_p.
ba_pool_new = _bind("ba_pool_new", c_void_p, c_size_t, c_uint)
ba_pool_new_in = _bind("ba_pool_new_in", c_void_p, c_void_p, c_size_t, c_uint)
ba_pool_destroy = _bind("ba_pool_destroy", None, c_void_p)
ba_pool_reset = _bind("ba_pool_reset", None, c_void_p)
ba_pool_malloc = _bind("ba_pool_malloc", c_void_p, c_void_p, c_size_t)
ba_pool_calloc = _bind("ba_pool_calloc", c_void_p, c_void_p, c_size_t, c_size_t)
ba_pool_realloc = _bind("ba_pool_realloc", c_void_p, c_void_p, c_void_p, c_size_t)
ba_pool_aligned_alloc = _bind("ba_pool_aligned_alloc", c_void_p, c_void_p, c_size_t, c_size_t)
ba_pool_free = _bind("ba_pool_free", c_int, c_void_p, c_void_p)
ba_pool_usable_size = _bind("ba_pool_usable_size", c_size_t, c_void_p, c_void_p)
ba_pool_stats = _bind("ba_pool_stats", None, c_void_p, POINTER(ba_stats))
ba_pool_check = _bind("ba_pool_check", c_int, c_void_p)
ba_pool_error = _bind("ba_pool_error", c_int, c_void_p)
ba_pool_strerror = _bind("ba_pool_strerror", c_char_p, c_int)
ba_check_name = _bind("ba_check_name", c_char_p, c_int)


def strerror(code):
    """ba_pool_strerror's text for an error code, as str."""
    return ba_pool_strerror(code).decode("ascii", "replace")


def check_name(code):
    """ba_check_name's text for a BA_CHECK_* code, as str."""
    s = ba_check_name(code)
    return s.decode("ascii", "replace") if s else f"check code {code}"

/* tests/misuse.c again, against the test library: each child seals the
 * allocator's metadata read-only (ba_test_seal, alloc/hooks.h) right before
 * its bad call, which proves that barealloc rejects the pointer before it
 * writes anything: a write would die of SIGSEGV, not SIGABRT. */
#define MISUSE_SEALED 1
#include "misuse.c"

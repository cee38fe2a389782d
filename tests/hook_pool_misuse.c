/* tests/pool_misuse.c again, against the test library: each child seals
 * barealloc's metadata read-only (ba_test_seal, alloc/hooks.h) right before
 * its bad call, but for the two pages of the pool's own header, whose lock
 * and error word every pool call writes first.  A write to a block's
 * state, a run or a span before the pointer is rejected would die of
 * SIGSEGV, not SIGABRT. */
#define POOL_SEALED 1
#include "pool_misuse.c"

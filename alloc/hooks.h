/* Test hooks: only in build/<isa>/libbarealloc-test.a, which is compiled
 * with -DBA_TESTING.  The installed libbarealloc.a has none of this code. */
#ifndef BA_HOOKS_H
#define BA_HOOKS_H

#include "barealloc.h"

/* Fault injection: the next `after` calls that map memory (mmap, and
 * mremap when it grows) succeed, then `count` of them fail with ENOMEM
 * (count < 0: all of them), then they succeed again.  (0, 0) turns it off.
 * munmap and madvise are never failed. */
void ba_test_fail_maps(long after, long count);

/* While on, every purge fails as the kernel's MADV_DONTNEED does on
 * locked pages (mlock, mlockall): the pages keep what they hold. */
void ba_test_fail_purges(int on);

/* Makes every byte of allocator metadata read-only (1) or writable again
 * (0), so that a misuse test can prove that the allocator rejects a bad
 * pointer before writing anything: a write would die of SIGSEGV, not
 * SIGABRT. */
void ba_test_seal(int sealed);

/* The quarantine window of the size class that serves n bytes (n up to
 * 64 KiB): a block of it that is freed is not handed out again before
 * this many later frees of its run (docs/DESIGN.md). */
unsigned ba_test_window(size_t n);

/* The blocks of a run of the size class that serves n bytes (n up to 64
 * KiB): a new heap's first run of the class has this many. */
unsigned ba_test_run_blocks(size_t n);

/* A second heap beside the main one (which malloc and free use).  Its
 * blocks live in arenas and mappings of its own; free through it accepts
 * only its own blocks (a block of another heap is misuse: "block of
 * another heap"), and the plain free() gives a block back to whichever
 * heap owns it.  release frees every block of the heap at once and leaves
 * it usable; delete also gives the heap's own metadata back. */
struct ba_test_heap;
struct ba_test_heap *ba_test_heap_new(void);
void ba_test_heap_delete(struct ba_test_heap *h);
void *ba_test_heap_malloc(struct ba_test_heap *h, size_t n);
void ba_test_heap_free(struct ba_test_heap *h, void *p);
size_t ba_test_heap_usable(struct ba_test_heap *h, void *p);
int ba_test_heap_check(struct ba_test_heap *h);
void ba_test_heap_stats(struct ba_test_heap *h, struct ba_stats *out);
void ba_test_heap_release(struct ba_test_heap *h);

#endif

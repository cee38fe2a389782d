/* Test hooks: only in build/<isa>/libbarealloc-test.a, which is compiled
 * with -DBA_TESTING.  The installed libbarealloc.a has none of this code. */
#ifndef BA_HOOKS_H
#define BA_HOOKS_H

/* Fault injection: the next `after` calls that map memory (mmap, and
 * mremap when it grows) succeed, then `count` of them fail with ENOMEM
 * (count < 0: all of them), then they succeed again.  (0, 0) turns it off.
 * munmap and madvise are never failed. */
void ba_test_fail_maps(long after, long count);

/* Makes every byte of allocator metadata read-only (1) or writable again
 * (0), so that a misuse test can prove that the allocator rejects a bad
 * pointer before writing anything: a write would die of SIGSEGV, not
 * SIGABRT. */
void ba_test_seal(int sealed);

#endif

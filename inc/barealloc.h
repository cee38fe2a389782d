/* barealloc: the public C API.
 *
 * The standard family behaves as glibc's does wherever the C standard and
 * POSIX leave a choice; the exact contract is docs/CONFORMANCE.md's table.
 * In short: NULL with errno ENOMEM for sizes that cannot be met (anything
 * above PTRDIFF_MAX, overflowing calloc/reallocarray products), EINVAL for
 * bad alignments, malloc(0) returns a unique pointer, realloc(p, 0) frees p
 * and returns NULL, free never changes errno.  Misuse that C calls
 * undefined (double free, a pointer barealloc never returned, an overflow
 * into a block's canary) ends the process with a one-line message on fd 2
 * and SIGABRT. */
#ifndef BAREALLOC_H
#define BAREALLOC_H

#include "ba_types.h"

/* The freestanding build provides errno itself, one per thread.
 * ba_errno_location() is its address, for code that cannot reach
 * thread-local storage directly (NASM). */
extern _Thread_local int errno;
int *ba_errno_location(void);

void *malloc(size_t n);
void free(void *p);
void *calloc(size_t nmemb, size_t size);
void *realloc(void *p, size_t n);
void *reallocarray(void *p, size_t nmemb, size_t size);
void *aligned_alloc(size_t align, size_t n);
int posix_memalign(void **out, size_t align, size_t n);
void *memalign(size_t align, size_t n);
void *valloc(size_t n);
void *pvalloc(size_t n);
size_t malloc_usable_size(void *p);
void free_sized(void *p, size_t size);                          /* C23 */
void free_aligned_sized(void *p, size_t align, size_t size);    /* C23 */

/* Optional: everything initialises itself on first use. */
void ba_init(void);

/* Frees every block and returns every mapping to the kernel.  Pointers
 * from before are invalid afterwards; the allocator is usable again. */
void ba_release_all(void);

/* fork's hooks: prepare takes every lock of the allocator, parent and
 * child release them after the fork; in the child, the calling thread's
 * heap works at once and the other threads' heaps are left for adoption.
 * ba_fork (ba_thread.h) calls them; a libc's pthread_atfork can too. */
void ba_fork_prepare(void);
void ba_fork_parent(void);
void ba_fork_child(void);

struct ba_stats {
	size_t requested;      /* bytes asked for by the live blocks */
	size_t in_use;         /* bytes the live blocks occupy: their size class or pages */
	size_t live_blocks;
	size_t mapped;         /* bytes mapped from the kernel now, metadata included */
	size_t mapped_peak;
	size_t meta;           /* of mapped: bytes of out-of-band metadata */
	size_t dirty;          /* free bytes that may still be resident, kept for reuse; an
				  upper bound (a freed span merged with purged pages counts whole) */
	size_t dirty_limit;    /* the budget for dirty: 4 MiB, grown while the program
				  cycles a bigger working set (docs/DESIGN.md) */
	unsigned long mmap_calls, munmap_calls, mremap_calls, madvise_calls;
};
void ba_stats(struct ba_stats *out);

/* Walks every internal structure and verifies every invariant listed in
 * docs/DESIGN.md.  Returns 0, or the BA_CHECK_* code of the first violation. */
int ba_check(void);
const char *ba_check_name(int code);

/* The byte loops, in assembly per ISA (alloc/<isa>/mem.asm).  gcc emits
 * calls to these even in freestanding code. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif

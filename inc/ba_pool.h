/* barealloc pools: heaps over memory the caller chooses.
 *
 * A pool is a heap of its own whose blocks live in one stretch of memory:
 * a region the caller gives (any address and length: the pool uses the
 * whole pages inside it and never writes outside them), or a mapping the
 * pool makes of the size asked for.  Its metadata is out of band, in
 * barealloc's metadata regions, so no overflow of a block can reach it and
 * every byte of the region's pages can hold blocks.  docs/DESIGN.md
 * ("Pools") gives the overheads measured.
 *
 * - Blocks of a pool are never mixed with another pool's or with malloc's:
 *   freeing a block through the wrong pool, or a pool's block through
 *   free(), is misuse.
 * - Sizes: the region's whole pages, up to 4 MiB of them per block (the
 *   pool's pages come in stretches of at most 4 MiB); a request that does
 *   not fit returns NULL with errno ENOMEM and the pool stays usable.
 * - Misuse (double free, a pointer not from the pool, an overflow into a
 *   block's canary) ends the process with a one-line message on fd 2 and
 *   SIGABRT, as for malloc's heap; with BA_POOL_REPORT the call returns
 *   an error code instead (below) and the pool is left as it was.
 * - A handle that is not a live pool (NULL, a destroyed pool) is misuse:
 *   "not a pool", and the abort.
 * - Threads: a pool is thread-safe.  Each call holds the pool's lock for
 *   its whole length, so calls on one pool from several threads are
 *   serialised; different pools share only the process's locks of the
 *   slow paths.  destroy and reset must not overlap any other call on the
 *   same pool.
 * - fork: the child has every pool, usable at once (the shared object
 *   registers its hooks with the libc's __register_atfork).  A region
 *   shared with the child (MAP_SHARED) is then two pools' memory: do not
 *   allocate from it on both sides.
 * - This header is for freestanding programs (it includes barealloc.h); a
 *   program with a libc reaches libbarealloc-pool.so through declarations
 *   of its own, or ctypes. */
#ifndef BA_POOL_H
#define BA_POOL_H

#include "barealloc.h"

typedef struct ba_pool ba_pool;

/* Flags of ba_pool_new and ba_pool_new_in. */
#define BA_POOL_REPORT  1u      /* misuse returns an error code, no abort */

/* What ba_pool_free returns and ba_pool_error tells: the same codes as
 * the messages of an abort. */
enum ba_pool_error {
	BA_POOL_OK = 0,
	BA_POOL_FOREIGN = 1,    /* not from barealloc at all */
	BA_POOL_INTERIOR = 2,   /* inside a block of the pool, not its start */
	BA_POOL_DOUBLE = 3,     /* a block of the pool that is free: double free */
	BA_POOL_OVERFLOW = 4,   /* the byte past the block's request was overwritten */
	BA_POOL_OTHER = 5,      /* a block of another pool, or of malloc's heap */
};

/* A pool over a mapping of size bytes (rounded up to whole pages), mapped
 * now and given back by ba_pool_destroy.  NULL with errno: EINVAL for a
 * size of 0 or an unknown flag, ENOMEM when memory is short. */
ba_pool *ba_pool_new(size_t size, unsigned flags);

/* A pool over [region, region + len): its whole pages, which must be the
 * caller's to give.  The pool never unmaps, purges or writes outside them
 * (its metadata lives in barealloc's own mappings), and assumes nothing
 * of what they hold.  NULL with errno EINVAL when no whole page is
 * inside, or when the pages overlap another live pool's without lying
 * strictly inside them (a pool over a block of another pool is fine);
 * ENOMEM when its metadata cannot be made. */
ba_pool *ba_pool_new_in(void *region, size_t len, unsigned flags);

/* Frees every block at once and the pool itself (and its mapping). */
void ba_pool_destroy(ba_pool *pool);

/* Frees every block at once; the pool stays, empty.  A pool's own
 * mapping goes back to the kernel (and reads as zero again). */
void ba_pool_reset(ba_pool *pool);

/* The family, as barealloc.h's, within the pool: NULL with ENOMEM when
 * the pool has no room, EINVAL for a bad alignment. */
void *ba_pool_malloc(ba_pool *pool, size_t n);
void *ba_pool_calloc(ba_pool *pool, size_t nmemb, size_t size);
void *ba_pool_realloc(ba_pool *pool, void *p, size_t n);
void *ba_pool_aligned_alloc(ba_pool *pool, size_t align, size_t n);

/* 0, or with BA_POOL_REPORT the error of a bad p (the block stays as it
 * was, and errno is EINVAL).  ba_pool_free(pool, NULL) is 0. */
int ba_pool_free(ba_pool *pool, void *p);

/* The bytes asked for the block p; 0 for NULL, and for a bad p with
 * BA_POOL_REPORT (errno EINVAL).  A realloc that shrinks a block in a full
 * pool keeps it in place. */
size_t ba_pool_usable_size(ba_pool *pool, void *p);

/* The pool's statistics (struct ba_stats, barealloc.h): requested,
 * in_use and live_blocks of its blocks; mapped and mapped_peak the bytes of
 * its pages (its capacity); meta the bytes of its own metadata; dirty the
 * free bytes that may be resident, as for a heap (every free page of a
 * region counts; a fresh or reset mapping's pages do not); dirty_limit 0
 * (a pool never purges while in use); the calls counted are the
 * process's. */
void ba_pool_stats(ba_pool *pool, struct ba_stats *out);

/* ba_check for the pool: 0, or the BA_CHECK_* code (ba_check_name). */
int ba_pool_check(ba_pool *pool);

/* The error of the pool's last call that took a pointer (free, realloc,
 * usable_size): BA_POOL_OK, or what BA_POOL_REPORT returned instead of an
 * abort.  One per pool: when threads share a pool, another's call may
 * have replaced it; ba_pool_free's own result is always exact. */
int ba_pool_error(ba_pool *pool);

/* A short text for an error code: "double free", ... */
const char *ba_pool_strerror(int code);

#endif

/* Pools (inc/ba_pool.h): heaps whose memory is a region the caller gave,
 * or a mapping made once for them; their arenas are that memory, cut in
 * stretches of up to ARENA_PAGES pages, and never change.  A pool is a
 * fixed heap (heap.fixed): runs as short as their class allows, no new
 * arena, no large block, no purge while in use, and a run's quarantine
 * yields when nothing else is left (small.c, _ba_bin_spare).
 *
 * A pool's arenas are in no map: its calls find a pointer's arena by its
 * offset from the pool's first page, and malloc's free() finds none (a
 * pointer there is another heap's, block.c asks _ba_pool_holds).  Every
 * call holds the heap's lock throughout, which also lets fork find every
 * pool between calls. */
#include "ba_pool.h"
#include "run.h"

struct ba_pool {
	struct heap heap;       /* first: the heap's lock is the pool's */
	uintptr_t check;        /* the secret ^ the pool's address while it lives */
	uintptr_t lo;           /* its pages: [lo, lo + bytes), its own mapping when
				   heap.fixed_map is not 0 (then bytes long) */
	size_t bytes;
	unsigned flags;
	int error;              /* the last pointer-taking call's misuse, BA_POOL_REPORT */
	struct arena *arena[];  /* arena i holds [lo + i * ARENA_SIZE, ...), ARENA_PAGES pages
				   but the last */
};

/* The arenas of a pool of bytes bytes (> 0), and its own metadata's size. */
static size_t arenas_for(size_t bytes)
{
	return ((bytes - 1) >> ARENA_SHIFT) + 1;
}

static size_t pool_size(size_t bytes)
{
	return sizeof(ba_pool) + arenas_for(bytes) * sizeof(struct arena *);
}

_Static_assert((int)BA_POOL_FOREIGN == (int)MISUSE_FOREIGN && (int)BA_POOL_INTERIOR == (int)MISUSE_INTERIOR &&
	       (int)BA_POOL_DOUBLE == (int)MISUSE_DOUBLE && (int)BA_POOL_OVERFLOW == (int)MISUSE_OVERFLOW &&
	       (int)BA_POOL_OTHER == (int)MISUSE_HEAP, "a pool's error codes are the misuse reasons");

static uintptr_t pool_check(const ba_pool *pool)
{
	return PROC->secret ^ (uintptr_t)pool;
}

/* Every call starts here: a handle that is not a live pool is misuse. */
static void pool_valid(const ba_pool *pool, const char *fn)
{
	if (!pool || __atomic_load_n(&pool->check, __ATOMIC_RELAXED) != pool_check(pool))
		_ba_misuse(fn, pool, MISUSE_POOL);
}

static struct heap *pool_enter(ba_pool *pool, const char *fn)
{
	pool_valid(pool, fn);
	_ba_os_lock(&pool->heap.lock);
	return &pool->heap;
}

static void pool_leave(ba_pool *pool)
{
	_ba_os_unlock(&pool->heap.lock);
}

/* The arena of pool that holds p, or NULL: the stretches are in order. */
static struct arena *pool_arena(const ba_pool *pool, const void *p)
{
	uintptr_t off = (uintptr_t)p - pool->lo;

	return off < pool->bytes ? pool->arena[off >> ARENA_SHIFT] : NULL;
}

/* What p is to the pool: its live block (*b), or what is wrong.  A pointer
 * outside the pool that barealloc knows of in any way is another heap's. */
static enum misuse pool_block(ba_pool *pool, const void *p, struct block *b)
{
	struct arena *a = pool_arena(pool, p);

	if (a)
		return _ba_arena_block(a, p, b);
	return _ba_block_find(p, b) == MISUSE_FOREIGN ? MISUSE_FOREIGN : MISUSE_HEAP;
}

/* A call that takes a pointer starts with no error (ba_pool_error). */
static void pool_call(ba_pool *pool)
{
	__atomic_store_n(&pool->error, BA_POOL_OK, __ATOMIC_RELAXED);
}

/* Misuse: the abort, or with BA_POOL_REPORT the code, errno EINVAL, and
 * nothing written. */
static int misuse(ba_pool *pool, const char *fn, const void *p, enum misuse m)
{
	if (!(pool->flags & BA_POOL_REPORT))
		_ba_misuse(fn, p, m);
	__atomic_store_n(&pool->error, (int)m, __ATOMIC_RELAXED);
	_ba_os_set_errno(OS_EINVAL);
	return (int)m;
}

int _ba_pool_holds(const void *p)
{
	int found = 0;

	proc_lock(LOCK_PROC);
	for (struct heap *h = PROC->heaps_all; h && !found; h = h->next_all)
		found = h->fixed && pool_arena((ba_pool *)h, p);
	proc_unlock(LOCK_PROC);
	return found;
}

/* ---- Making and unmaking ------------------------------------------------ */

static ba_pool *fail(int e)
{
	_ba_os_set_errno(e);
	return NULL;
}

static void pool_forget(ba_pool *pool)
{
	_ba_runs_forget(&pool->heap);
	for (size_t i = 0; i < arenas_for(pool->bytes); i++)
		if (pool->arena[i])
			_ba_meta_free(pool->arena[i], arena_size(pool->arena[i]->npages));
	_ba_meta_free(pool, pool_size(pool->bytes));
}

/* Whether pool's pages and o's cross: they overlap, and pool's are not
 * strictly inside o's (as a region carved from one of o's blocks is). */
static int pools_cross(const ba_pool *pool, const ba_pool *o)
{
	uintptr_t hi = pool->lo + pool->bytes, o_hi = o->lo + o->bytes;

	return pool->lo < o_hi && o->lo < hi && !(pool->lo >= o->lo && hi <= o_hi && pool->bytes < o->bytes);
}

/* Listed with the heaps unless its pages cross another pool's: two pools
 * must never hand out the same bytes. */
static int pool_register(ba_pool *pool)
{
	int clash = 0;

	proc_lock(LOCK_PROC);
	for (struct heap *h = PROC->heaps_all; h && !clash; h = h->next_all)
		clash = h->fixed && pools_cross(pool, (const ba_pool *)h);
	if (!clash)
		_ba_heap_register_locked(&pool->heap);
	proc_unlock(LOCK_PROC);
	return clash ? -1 : 0;
}

/* A pool over the pages [lo, hi), in state dirty, mapped bytes of which
 * it mapped itself; NULL with errno. */
static ba_pool *pool_make(uintptr_t lo, uintptr_t hi, unsigned flags, size_t mapped, uint8_t dirty)
{
	size_t n = arenas_for(hi - lo);
	ba_pool *pool = _ba_proc_init() ? NULL : _ba_meta_alloc(pool_size(hi - lo));

	if (!pool)
		return fail(OS_ENOMEM);
	struct heap *h = &pool->heap;
	h->pool = h->owned = h->fixed = 1;
	h->fixed_map = mapped;
	pool->flags = flags;
	pool->lo = lo;
	pool->bytes = hi - lo;
	for (size_t i = 0; i < n; i++) {
		uintptr_t at = lo + (i << ARENA_SHIFT);
		size_t pages = (hi - at) >> PAGE_SHIFT;
		pages = pages < ARENA_PAGES ? pages : ARENA_PAGES;
		if (!(pool->arena[i] = _ba_meta_alloc(arena_size(pages)))) {
			pool_forget(pool);
			return fail(OS_ENOMEM);
		}
		_ba_arena_init(h, pool->arena[i], at, pages, dirty);
	}
	if (pool_register(pool)) {
		pool_forget(pool);
		return fail(OS_EINVAL);
	}
	__atomic_fetch_add(&PROC->heaps, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&pool->check, pool_check(pool), __ATOMIC_RELEASE);
	return pool;
}

ba_pool *ba_pool_new(size_t size, unsigned flags)
{
	if (!size || (flags & ~BA_POOL_REPORT))
		return fail(OS_EINVAL);
	if (size > PTRDIFF_MAX)
		return fail(OS_ENOMEM);
	size_t len = page_round(size);
	void *map = _ba_proc_init() ? NULL : _ba_vm_map(len, PAGE);
	if (!map)
		return fail(OS_ENOMEM);
	ba_pool *pool = pool_make((uintptr_t)map, (uintptr_t)map + len, flags, len, CLEAN);
	if (!pool)
		_ba_vm_unmap(map, len);
	return pool;
}

/* What the region held is unknown: its pages are dirty. */
ba_pool *ba_pool_new_in(void *region, size_t len, unsigned flags)
{
	uintptr_t start = (uintptr_t)region, lo = page_round(start), end;

	if ((flags & ~BA_POOL_REPORT) || lo < start || __builtin_add_overflow(start, len, &end) ||
	    (end & ~(PAGE - 1)) <= lo)
		return fail(OS_EINVAL);
	return pool_make(lo, end & ~(PAGE - 1), flags, 0, DIRTY);
}

/* No fork walks the heaps while the pool leaves their list
 * (_ba_heap_unregister), so none locks it once its metadata is gone. */
void ba_pool_destroy(ba_pool *pool)
{
	if (!pool)
		return;
	pool_valid(pool, "ba_pool_destroy");
	void *map = (void *)pool->lo;
	size_t len = pool->heap.fixed_map;

	__atomic_store_n(&pool->check, 0, __ATOMIC_RELAXED);
	_ba_heap_unregister(&pool->heap);
	pool_forget(pool);
	if (len)
		_ba_vm_unmap(map, len);
	__atomic_fetch_sub(&PROC->heaps, 1, __ATOMIC_RELAXED);
	_ba_meta_purge();
}

/* Every arena is one free span again, as at the start; the pool's own
 * mapping goes back to the kernel first.  The heap's list of arenas
 * stays as it is. */
void ba_pool_reset(ba_pool *pool)
{
	struct heap *h = pool_enter(pool, "ba_pool_reset");
	struct arena *list = h->arenas_list;
	unsigned arenas = h->arenas;
	uint8_t state = h->fixed_map && !_ba_vm_purge((void *)pool->lo, h->fixed_map) ? PURGED : DIRTY;

	_ba_runs_forget(h);
	memset(h, 0, __builtin_offsetof(struct heap, remote));  /* the lock and the lists stay */
	h->arenas_list = list;
	h->arenas = arenas;
	for (size_t i = 0; i < arenas_for(pool->bytes); i++)
		_ba_arena_reset(h, pool->arena[i], state);
	pool_leave(pool);
}

/* ---- The family ---------------------------------------------------------- */

static void *pool_alloc(ba_pool *pool, size_t n, size_t align, int *zero, const char *fn)
{
	struct heap *h = pool_enter(pool, fn);
	void *p = _ba_heap_alloc(h, n, align, zero);

	pool_leave(pool);
	return p;
}

void *ba_pool_malloc(ba_pool *pool, size_t n)
{
	int zero;

	return pool_alloc(pool, n, 16, &zero, "ba_pool_malloc");
}

void *ba_pool_calloc(ba_pool *pool, size_t nmemb, size_t size)
{
	size_t n;
	int zero;

	if (__builtin_mul_overflow(nmemb, size, &n))
		return fail(OS_ENOMEM);
	void *p = pool_alloc(pool, n, 16, &zero, "ba_pool_calloc");
	if (p && !zero)
		memset(p, 0, n);
	return p;
}

void *ba_pool_aligned_alloc(ba_pool *pool, size_t align, size_t n)
{
	int zero;

	if (!align || (align & (align - 1)))
		return fail(OS_EINVAL);
	return pool_alloc(pool, n, align < 16 ? 16 : align, &zero, "ba_pool_aligned_alloc");
}

int ba_pool_free(ba_pool *pool, void *p)
{
	struct block b;

	struct heap *h = pool_enter(pool, "ba_pool_free");

	pool_call(pool);
	if (!p) {
		pool_leave(pool);
		return BA_POOL_OK;
	}
	enum misuse m = pool_block(pool, p, &b);
	int err = m ? misuse(pool, "ba_pool_free", p, m) : BA_POOL_OK;
	if (!m)
		_ba_block_put(h, b);
	pool_leave(pool);
	return err;
}

size_t ba_pool_usable_size(ba_pool *pool, void *p)
{
	struct block b;
	size_t n = 0;

	pool_enter(pool, "ba_pool_usable_size");
	pool_call(pool);
	if (!p) {
		pool_leave(pool);
		return 0;
	}
	enum misuse m = pool_block(pool, p, &b);
	if (m)
		misuse(pool, "ba_pool_usable_size", p, m);
	else
		n = _ba_block_usable(b);
	pool_leave(pool);
	return n;
}

/* In place when the block's class or pages allow (as realloc does), else
 * a new block, the contents copied, the old one freed; a shrink that finds
 * no room for the new block stays in place.  As realloc, realloc(p, 0)
 * frees p and returns NULL. */
static void *pool_move(struct heap *h, struct block b, void *p, size_t n)
{
	size_t old = _ba_block_usable(b);
	int zero;
	void *q;

	if (n == 0) {
		_ba_block_put(h, b);
		return NULL;
	}
	int e = _ba_os_errno();

	if ((q = _ba_block_resize(b, p, n, 0)))
		return q;
	if (!(q = _ba_heap_alloc(h, n, 16, &zero))) {
		if (n > old || !(q = _ba_block_resize(b, p, n, 1)))
			return NULL;
		_ba_os_set_errno(e);    /* no room was needed after all */
		return q;
	}
	memcpy(q, p, old < n ? old : n);
	_ba_block_put(h, b);
	return q;
}

void *ba_pool_realloc(ba_pool *pool, void *p, size_t n)
{
	struct block b;

	if (!p)
		return ba_pool_malloc(pool, n);
	struct heap *h = pool_enter(pool, "ba_pool_realloc");
	pool_call(pool);
	enum misuse m = pool_block(pool, p, &b);
	void *q = NULL;
	if (m)
		misuse(pool, "ba_pool_realloc", p, m);
	else if (n > PTRDIFF_MAX)
		_ba_os_set_errno(OS_ENOMEM);
	else
		q = pool_move(h, b, p, n);
	pool_leave(pool);
	return q;
}

/* ---- Looking at a pool --------------------------------------------------- */

/* The pool's own metadata: itself, its arenas' tables and its runs'. */
static size_t pool_meta(struct heap *h)
{
	size_t meta = sizeof(ba_pool);

	for (struct arena *a = h->arenas_list; a; a = a->next)
		meta += arena_size(a->npages);
	meta += pool_size(((ba_pool *)h)->bytes) - sizeof(ba_pool);
	for (struct run *r = h->runs; r; r = r->all_next)
		meta += run_meta_size(r->mask + 1);
	return meta;
}

void ba_pool_stats(ba_pool *pool, struct ba_stats *out)
{
	struct heap *h = pool_enter(pool, "ba_pool_stats");

	_ba_heap_stats(h, out);
	out->mapped = out->mapped_peak = pool->bytes;
	out->meta = pool_meta(h);
	out->dirty = h->dirty;
	out->dirty_limit = 0;
	pool_leave(pool);
}

int ba_pool_check(ba_pool *pool)
{
	struct heap *h = pool_enter(pool, "ba_pool_check");
	int err = _ba_heap_check(h);

	pool_leave(pool);
	return err;
}

int ba_pool_error(ba_pool *pool)
{
	pool_valid(pool, "ba_pool_error");
	return __atomic_load_n(&pool->error, __ATOMIC_RELAXED);
}

const char *ba_pool_strerror(int code)
{
	if (code == BA_POOL_OK)
		return "no error";
	if (code < BA_POOL_FOREIGN || code > BA_POOL_OTHER)
		return "unknown error";
	return _ba_misuse_text((enum misuse)code);
}

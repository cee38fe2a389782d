/* The standard entry points but the fast paths of malloc and free
 * (fast.c): their slow paths, calloc, realloc, reallocarray and
 * malloc_usable_size.  Every pointer goes through the choke point in
 * block.c. */
#include "run.h"

/* The class that serves n bytes at align, for a heap whose small blocks
 * go up to max bytes; NCLASSES when none does.  align is a power of two.
 * A small block is aligned to align when its class is a multiple of it
 * (runs start on a page): every class is a multiple of 16, so for the
 * default alignment the first class fits, and a freed block of a slightly
 * bigger class may serve (_ba_bin_refill). */
static unsigned small_class(size_t n, size_t align, size_t max)
{
	if (n > max || align > PAGE)
		return NCLASSES;
	unsigned cls = size_class(n);
	while (cls < NCLASSES && (_ba_class_size(cls) & (align - 1)))
		cls++;
	return cls < NCLASSES && _ba_class_size(cls) - n <= SLACK_MAX ? cls : NCLASSES;
}

static void *small_alloc(struct heap *h, unsigned cls, size_t n, size_t align, int *zero)
{
	struct run *r = _ba_bin_refill(h, cls, align <= 16 ? n : 0);

	if (!r && h->fixed)
		r = _ba_bin_spare(h, cls, n, align);
	if (!r)
		return NULL;
	*zero = run_first_state(r) == STATE_ZERO;
	return run_take(r, r->head, n);
}

/* A pool's blocks above a page take spans of its arenas, up to one
 * arena's worth; a heap's go to spans up to MEDIUM_MAX, then mappings. */
static void *heap_alloc(struct heap *h, size_t n, size_t align, int *zero)
{
	if (!h || n > PTRDIFF_MAX || _ba_proc_init())
		return NULL;
	unsigned cls = small_class(n, align, h->fixed ? PAGE : SMALL_MAX);
	if (cls < NCLASSES)
		return small_alloc(h, cls, n, align, zero);
	if (h->fixed)
		return n <= ARENA_SIZE && align <= ARENA_SIZE / 2 ? _ba_medium_alloc(h, n, align, zero) : NULL;
	if (n <= MEDIUM_MAX && align <= 65536)
		return _ba_medium_alloc(h, n, align, zero);
	return _ba_large_alloc(h, n, align > PAGE ? align : PAGE, zero);
}

/* Every allocation that fails sets errno to ENOMEM here, once; h is NULL
 * when the thread has no heap and none could be made. */
void *_ba_heap_alloc(struct heap *h, size_t n, size_t align, int *zero)
{
	void *p = heap_alloc(h, n, align, zero);

	if (!p)
		_ba_os_set_errno(OS_ENOMEM);
	return p;
}

/* malloc's fast path found no block out of quarantine in the head run of
 * n's class (or n is not small, or nothing is set up yet).  A small n goes
 * straight to its class's refill: through heap_alloc, which also weighs
 * alignment and calloc's zeroing, random-order pairs at 256 bytes take
 * 60.3 instructions instead of 59.1 (make bench). */
void *_ba_malloc_slow(size_t n)
{
	struct heap *h = heap_enter();
	struct run *r;
	void *p;
	int zero;

	if (h && n - 1 < SMALL_MAX && (r = _ba_bin_refill(h, class_of(n - 1), n)))
		p = run_take(r, r->head, n);
	else
		p = _ba_heap_alloc(h, n, 16, &zero);
	heap_leave(h);
	return p;
}

/* Blocks of another heap come here from the fast path too (their run's
 * owner is not the caller's heap). */
void _ba_free_slow(void *p)
{
	struct block b;

	if (!p)
		return;
	enum misuse m = _ba_block_find(p, &b);
	if (m == MISUSE_FOREIGN && !_ba_proc_init() && _ba_os_leak_foreign())
		return;         /* another allocator's block, left to leak as asked (the
				   options are read at start-up, which a free may come first to) */
	if (m)
		_ba_misuse("free", p, m);
	_ba_block_free(heap_current(), b, p, "free");
}


/* C23: the size (and alignment) a block was asked with, given back at
 * its free.  barealloc knows both already; like glibc, it does not hold
 * the caller to them. */
void free_sized(void *p, size_t size)
{
	(void)size;
	free(p);
}

void free_aligned_sized(void *p, size_t align, size_t size)
{
	(void)align, (void)size;
	free(p);
}

void *calloc(size_t nmemb, size_t size)
{
	size_t n;
	int zero;

	if (__builtin_mul_overflow(nmemb, size, &n)) {
		_ba_os_set_errno(OS_ENOMEM);
		return NULL;
	}
	struct heap *h = heap_enter();
	void *p = _ba_heap_alloc(h, n, 16, &zero);
	heap_leave(h);
	if (p && !zero)
		memset(p, 0, n);
	return p;
}

size_t malloc_usable_size(void *p)
{
	return p ? _ba_block_usable(_ba_block_of(p, "malloc_usable_size")) : 0;
}

/* resize_in_place for a block of a heap whose lock the caller holds.
 * keep: stay even where a smaller kind of block would do (a full pool's
 * shrink). */
void *_ba_block_resize(struct block b, void *p, size_t n, int keep)
{
	if (b.run) {
		struct run *r = b.run;
		if (n > r->size || (!keep && r->size > 256 && n <= r->size / 2))
			return NULL;
		union slot *s = &run_slot(r)[b.idx];
		r->slack += (r->size - (uint32_t)n) - s->state;
		s->state = (uint16_t)(r->size - n);
		canary_set((uintptr_t)p, n, r->size);
		return p;
	}
	/* a span stays one down to GROW_SPAN_MIN, and may grow past MEDIUM_MAX */
	return (n > GROW_SPAN_MIN || keep) && !_ba_medium_resize(b.heap, b.span, n) ? p : NULL;
}

/* Tries to keep the block where it is: within its size class, within its
 * pages (or the free pages after them), or by mremap for a large block
 * that stays large.  NULL when it must move to another kind of block. */
static void *resize_in_place(struct block b, void *p, size_t n)
{
	if (b.large.addr)
		return n > MEDIUM_MAX ? _ba_large_realloc(p, n, "realloc") : NULL;
	if (b.heap != heap_current())
		return NULL;    /* another heap's pages: only its owner changes them */
	struct heap *h = heap_enter();
	void *q = _ba_block_resize(b, p, n, 0);
	heap_leave(h);
	return q;
}

/* Where realloc moves a block it grows: past GROW_SPAN_MIN, to pages of
 * its own (a medium span), where the next growth is likely to find free
 * pages right after it; a block grown step by step then moves a few times,
 * not once per size class, and leaves no run behind in each. */
static void *grow_to(size_t n)
{
	int zero;

	if (n > GROW_SPAN_MIN && n <= MEDIUM_MAX) {
		struct heap *h = heap_enter();
		void *q = h ? _ba_medium_alloc(h, n, 16, &zero) : NULL;
		heap_leave(h);
		if (q)
			return q;
	}
	return malloc(n);
}

void *realloc(void *p, size_t n)
{
	if (!p)
		return malloc(n);
	struct block b = _ba_block_of(p, "realloc");
	if (n == 0) {                           /* glibc: free, return NULL */
		_ba_block_free(heap_current(), b, p, "realloc");
		return NULL;
	}
	if (n > PTRDIFF_MAX) {
		_ba_os_set_errno(OS_ENOMEM);
		return NULL;
	}
	void *q = resize_in_place(b, p, n);
	if (q)
		return q;
	size_t old = _ba_block_usable(b);
	if (!(q = n > old ? grow_to(n) : malloc(n)))
		return NULL;
	memcpy(q, p, old < n ? old : n);
	if (b.run)      /* p kept its run alive through malloc */
		_ba_block_let_go(heap_current(), b, p);
	else
		free(p);        /* checked again: it may have moved (mremap) or gone meanwhile */
	return q;
}

void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t n;

	if (__builtin_mul_overflow(nmemb, size, &n)) {
		_ba_os_set_errno(OS_ENOMEM);
		return NULL;
	}
	return realloc(p, n);
}

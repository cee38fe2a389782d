/* The standard entry points: malloc, free, calloc, realloc, reallocarray
 * and malloc_usable_size.  Every pointer that comes in goes through one
 * choke point, block_of(), which finds what it is out of band (the arena
 * map, then the large table) and aborts on anything barealloc did not hand
 * out, before any state is written. */
#include "heap.h"

int errno;

/* align is a power of two.  A small block is aligned to align when its
 * class is a multiple of it (runs start on a page): every class is a
 * multiple of 16, so for the default alignment the first class fits. */
void *ba_alloc(size_t n, size_t align, int *zero)
{
	struct heap *h = heap_get();
	unsigned cls = n <= SMALL_MAX ? size_class(n) : NCLASSES;
	void *p;

	while (cls < NCLASSES && (class_size(cls) & (align - 1)))
		cls++;
	if (n > PTRDIFF_MAX) {
		p = NULL;
	} else if (cls < NCLASSES && align <= h->page) {
		*zero = small_next_is_zero(h, cls);
		p = small_alloc_slow(h, cls, n);
	} else if (n <= MEDIUM_MAX && align <= 65536) {
		p = medium_alloc(h, n, align, zero);
	} else {
		p = large_alloc(h, n, align > h->page ? align : h->page, zero);
	}
	if (!p)
		errno = ENOMEM;
	return p;
}

void *malloc(size_t n)
{
	int zero;

	if (likely(n <= SMALL_MAX)) {
		void *p = small_alloc(&ba_heap, size_class(n), n);
		if (likely(p != NULL))
			return p;
	}
	return ba_alloc(n, 16, &zero);
}

void *calloc(size_t nmemb, size_t size)
{
	size_t n;
	int zero;

	if (__builtin_mul_overflow(nmemb, size, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = ba_alloc(n, 16, &zero);
	if (p && !zero)
		memset(p, 0, n);
	return p;
}

/* What p is: its run and block index, its medium span or its large
 * entry, exactly one of them set; block_of aborts when p is none of them. */
struct block {
	struct run *run;
	size_t idx;
	struct page *span;
	struct large *large;
};

static struct block block_of(struct heap *h, void *p, const char *fn)
{
	struct block b = { 0, 0, 0, 0 };
	struct arena *a = arena_of(h, p);

	if (likely(a)) {
		struct page *pg = page_of(h, a, p);
		if (likely(pg->kind == SPAN_RUN)) {
			b.run = pg->u.run;
			b.idx = small_check(b.run, p, fn);
		} else {
			b.span = medium_page(h, a, p, fn);
		}
	} else if (!(b.large = large_find(h, p))) {
		ba_misuse(fn, p, large_misuse(h, p));
	} else if (!large_canary_ok(h, b.large)) {
		ba_misuse(fn, p, "overflow past the end of the block");
	}
	return b;
}

/* The usable size of a live block is exactly what was asked for. */
static size_t block_usable(struct block b)
{
	if (b.run)
		return b.run->size - run_state(b.run)[b.idx];
	return b.span ? b.span->u.req : b.large->req;
}

static void block_free(struct heap *h, struct block b)
{
	if (b.run)
		small_free(h, b.run, b.idx);
	else if (b.span)
		span_free(h, b.span);      /* a medium block is its span */
	else
		large_free(h, b.large);
}

__attribute__((noinline)) static void free_other(struct heap *h, void *p)
{
	if (p)
		block_free(h, block_of(h, p, "free"));
}

/* The small-block path is written out here so that it stays one function:
 * two loads find the arena, one the page, then the block's index. */
void free(void *p)
{
	struct heap *h = &ba_heap;
	struct arena *a = arena_of(h, p);

	if (likely(a)) {
		struct page *pg = page_of(h, a, p);
		if (likely(pg->kind == SPAN_RUN)) {
			struct run *r = pg->u.run;
			small_free(h, r, small_index(r, p, "free"));
			return;
		}
	}
	free_other(h, p);
}

size_t malloc_usable_size(void *p)
{
	return p ? block_usable(block_of(&ba_heap, p, "malloc_usable_size")) : 0;
}

/* Tries to keep the block where it is: within its size class, within its
 * pages (or the free pages after them), or by mremap for a large block
 * that stays large.  NULL when it must move to another kind of block. */
static void *resize_in_place(struct heap *h, struct block b, void *p, size_t n)
{
	if (b.run) {
		if (n > b.run->size || (b.run->size > 256 && n <= b.run->size / 2))
			return NULL;
		small_resize(h, b.run, b.idx, n);
		return p;
	}
	if (b.span)
		return n > SMALL_MAX && n <= MEDIUM_MAX && !medium_resize(h, b.span, n) ? p : NULL;
	return n > MEDIUM_MAX ? large_realloc(h, b.large, n) : NULL;
}

void *realloc(void *p, size_t n)
{
	struct heap *h = &ba_heap;

	if (!p)
		return malloc(n);
	struct block b = block_of(h, p, "realloc");
	if (n == 0) {                           /* glibc: free, return NULL */
		block_free(h, b);
		return NULL;
	}
	if (n > PTRDIFF_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	void *q = resize_in_place(h, b, p, n);
	if (q)
		return q;
	size_t old = block_usable(b);
	if (!(q = malloc(n)))
		return NULL;
	memcpy(q, p, old < n ? old : n);
	free(p);        /* not block_free(b): malloc may have moved the large table */
	return q;
}

void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t n;

	if (__builtin_mul_overflow(nmemb, size, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n);
}

/* Medium blocks, above SMALL_MAX and up to MEDIUM_MAX: a span of whole
 * pages each, page-aligned, so the span's first page describes the block
 * and free() needs no header in the block.  realloc may grow one in place
 * past MEDIUM_MAX, up to the end of its arena: a block grown by small
 * steps then never has two copies resident at once. */
#include "run.h"

static size_t span_bytes(struct page *pg)
{
	return (size_t)pg->npages << PAGE_SHIFT;
}

/* Atomic: a large block's free by any thread changes the same counters. */
static void count(struct heap *h, struct page *pg, long sign)
{
	__atomic_fetch_add(&h->big.live, (size_t)sign, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->big.requested, (size_t)sign * pg->u.req, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->big.in_use, (size_t)sign * span_bytes(pg), __ATOMIC_RELAXED);
}

static void set_request(struct page *pg, size_t n)
{
	pg->u.req = n;
	pg->remote = 0;         /* a stale mark of a double free caught since (remote.c) */
	canary_set(page_addr(pg), n, span_bytes(pg));
}

/* align is a power of two; above the page size the span is over-allocated
 * and its unaligned head freed, which an arena's own alignment bounds. */
void *_ba_medium_alloc(struct heap *h, size_t n, size_t align, int *zero)
{
	size_t np = page_round(n ? n : 1) >> PAGE_SHIFT;
	size_t lead = align > PAGE ? (align >> PAGE_SHIFT) - 1 : 0;
	struct page *pg = _ba_span_alloc(h, np + lead);

	if (!pg)
		return NULL;
	uint8_t was = pg->dirty;        /* of the pages this block does not keep, too */
	*zero = was != DIRTY;
	size_t skip = ((align - (page_addr(pg) & (align - 1))) & (align - 1)) >> PAGE_SHIFT;
	struct page *head = pg;
	size_t total = pg->npages;
	pg = page_near(pg, (ptrdiff_t)skip);
	_ba_span_ends(pg, total - skip, KIND_MEDIUM);      /* before the head merges */
	if (skip) {
		_ba_span_ends(head, skip, KIND_INNER);
		_ba_span_free(h, head, was);
	}
	_ba_span_shrink(h, pg, np, was);
	set_request(pg, n);
	count(h, pg, 1);
	return (void *)page_addr(pg);
}

void _ba_medium_free(struct heap *h, struct page *pg)
{
	count(h, pg, -1);
	_ba_span_free(h, pg, DIRTY);
	_ba_tidy(h, page_arena(pg));
}

/* Resizes in place when the pages allow: shrinking frees the tail, growing
 * takes pages from a free span right after.  0 on success. */
int _ba_medium_resize(struct heap *h, struct page *pg, size_t n)
{
	size_t np = page_round(n) >> PAGE_SHIFT, bytes = span_bytes(pg), req = pg->u.req;

	if (np > pg->npages && _ba_span_grow(h, pg, np))
		return -1;
	_ba_span_shrink(h, pg, np, DIRTY);
	set_request(pg, n);
	__atomic_fetch_add(&h->big.in_use, span_bytes(pg) - bytes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->big.requested, n - req, __ATOMIC_RELAXED);
	_ba_tidy(h, page_arena(pg));
	return 0;
}

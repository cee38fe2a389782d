/* Medium blocks, above SMALL_MAX and up to MEDIUM_MAX: a span of whole
 * pages each, page-aligned, so the span's first page describes the block
 * and free() needs no header in the block. */
#include "heap.h"

static void set_request(struct heap *h, struct page *pg, size_t n)
{
	pg->u.req = n;
	canary_set(h, page_addr(h, pg), n, (size_t)pg->npages << h->page_shift);
}

/* align is a power of two; above the page size the span is over-allocated
 * and its unaligned head freed, which an arena's own alignment bounds. */
void *medium_alloc(struct heap *h, size_t n, size_t align, int *zero)
{
	size_t np = page_round(h, n ? n : 1) >> h->page_shift;
	size_t lead = align > h->page ? (align >> h->page_shift) - 1 : 0;
	struct page *pg = span_alloc(h, np + lead);

	if (!pg)
		return NULL;
	*zero = pg->dirty != DIRTY;
	size_t skip = ((align - (page_addr(h, pg) & (align - 1))) & (align - 1)) >> h->page_shift;
	struct page *head = pg;
	size_t total = pg->npages;
	pg += skip;
	span_ends(pg, total - skip, SPAN_MEDIUM);       /* before the head merges with neighbours */
	if (skip) {
		span_ends(head, skip, SPAN_INNER);
		span_free(h, head);
	}
	span_shrink(h, pg, np);
	set_request(h, pg, n);
	return (void *)page_addr(h, pg);
}

/* The first page of the medium block p, or an abort naming what p is. */
struct page *medium_page(struct heap *h, struct arena *a, const void *p, const char *fn)
{
	uintptr_t off = (uintptr_t)p - a->base;
	struct page *pg = &a->pages[off >> h->page_shift];

	if (pg->kind != SPAN_MEDIUM || (off & (h->page - 1)))
		ba_misuse(fn, p, span_containing(a, pg)->kind == SPAN_FREE ? "double free"
									 : "not the start of a block");
	if (!canary_intact(h, (uintptr_t)p, pg->u.req, (size_t)pg->npages << h->page_shift))
		ba_misuse(fn, p, "overflow past the end of the block");
	return pg;
}

/* Resizes in place when the pages allow: shrinking frees the tail, growing
 * takes pages from a free span right after.  0 on success. */
int medium_resize(struct heap *h, struct page *pg, size_t n)
{
	size_t np = page_round(h, n) >> h->page_shift;

	if (np > pg->npages && span_grow(h, pg, np))
		return -1;
	span_shrink(h, pg, np);
	set_request(h, pg, n);
	return 0;
}

/* Small blocks: 80 size classes up to 64 KiB, each served from runs of
 * equal blocks.  malloc and free are O(1): a ring of free block indices
 * and a state word per block, both out of band, so a write after free or
 * an overflow cannot steer them. */
#include "heap.h"

uint32_t class_size(unsigned cls)
{
	if (cls < 16)
		return 16 * (cls + 1);
	uint32_t base = 256u << ((cls - 16) >> 3);
	return base + (base >> 3) * (((cls - 16) & 7) + 1);
}

static void bin_remove(struct heap *h, struct run *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		h->bins[r->cls] = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->listed = 0;
}

static void run_drop(struct heap *h, struct run *r)
{
	if (r->listed)
		bin_remove(h, r);
	span_free(h, r->span);
	meta_free(h, r, run_meta_size(r->nblocks));
}

/* Puts r at the head of its bin.  An empty run that the bin kept at its
 * head for the next malloc is no longer needed there, so it goes. */
static void bin_insert(struct heap *h, struct run *r)
{
	struct run **head = &h->bins[r->cls];

	if (*head && (*head)->nfree == (*head)->fresh)
		run_drop(h, *head);
	r->prev = NULL;
	r->next = *head;
	if (*head)
		(*head)->prev = r;
	*head = r;
	r->listed = 1;
}

/* At least 64 KiB or 8 blocks, so that a run's tail waste stays small:
 * above 4 KiB every class times 8 is a whole number of pages. */
static struct run *run_new(struct heap *h, unsigned cls)
{
	uint32_t size = class_size(cls);
	size_t bytes = page_round(h, size <= 4096 ? 65536 : 8 * (size_t)size);
	unsigned nblocks = (unsigned)(bytes / size);
	struct run *r = meta_alloc(h, run_meta_size(nblocks));
	struct page *pg = r ? span_alloc(h, bytes >> h->page_shift) : NULL;

	if (!pg) {
		if (r)
			meta_free(h, r, run_meta_size(nblocks));
		return NULL;
	}
	r->base = page_addr(h, pg);
	r->size = size;
	r->recip = 0xffffffffu / size + 1;
	r->nblocks = (uint16_t)nblocks;
	r->cls = (uint8_t)cls;
	r->zeroed = pg->dirty != DIRTY;
	r->span = pg;
	memset(run_state(r), 0xff, 2 * (size_t)nblocks);      /* every block FREE_MARK */
	span_mark(pg, pg->npages, SPAN_RUN);
	for (size_t i = 0; i < bytes >> h->page_shift; i++)
		pg[i].u.run = r;
	bin_insert(h, r);
	return r;
}

/* Gives an empty run's span back, unless it is its class's only run: a
 * malloc/free ping-pong must not create and destroy a run each time. */
static void run_release(struct heap *h, struct run *r)
{
	if (h->bins[r->cls] != r || r->next)
		run_drop(h, r);
}

/* At a purge: the empty runs that bins kept for the next malloc go too,
 * so that they do not pin otherwise empty arenas. */
void small_release_empty(struct heap *h)
{
	for (unsigned cls = 0; cls < NCLASSES; cls++) {
		struct run *r = h->bins[cls];
		if (r && r->nfree == r->fresh)
			run_drop(h, r);
	}
}

/* The run with a never-used or free block at the head of the bin, after
 * dropping full runs from the list. */
static struct run *bin_run(struct heap *h, unsigned cls)
{
	struct run *r;

	while ((r = h->bins[cls]) && r->fresh == r->nblocks && !r->nfree)
		bin_remove(h, r);
	return r ? r : run_new(h, cls);
}

/* small_index, out of line for the callers off the fast path. */
size_t small_check(struct run *r, const void *p, const char *fn)
{
	return small_index(r, p, fn);
}

/* The class's first run had no block left, or there was none; also the
 * out-of-line small_alloc for callers off the fast path. */
void *small_alloc_slow(struct heap *h, unsigned cls, size_t n)
{
	if (!h->ready)
		heap_get();
	if (!bin_run(h, cls))
		return NULL;
	return small_alloc(h, cls, n);
}

/* A free made the run listable again, or empty (and not its bin's head). */
void small_free_slow(struct heap *h, struct run *r)
{
	if (!r->listed)
		bin_insert(h, r);
	if (r->nfree == r->fresh)
		run_release(h, r);
}

/* A new request size for live block idx, which its class still fits. */
void small_resize(struct heap *h, struct run *r, size_t idx, size_t n)
{
	uintptr_t p = r->base + (uintptr_t)idx * r->size;

	run_state(r)[idx] = (uint16_t)(r->size - n);
	canary_set(h, p, n, r->size);
}

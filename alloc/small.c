/* Small blocks: 80 size classes up to 64 KiB, each served from runs of
 * equal blocks.  malloc and free are O(1): a ring of free block indices
 * and a state word per block, both out of band, so a write after free or
 * an overflow cannot steer them. */
#include "heap.h"

/* 16..256 by 16, then 8 classes per doubling: a request just above a class
 * wastes at most 1/9 of its block above 128 bytes, and at most 15 bytes
 * (the 16-byte alignment) below. */
unsigned size_class(size_t n)
{
	if (n <= 256)
		return n ? (unsigned)(n - 1) >> 4 : 0;
	unsigned l = 31 - (unsigned)__builtin_clz((unsigned)(n - 1));
	return 16 + (l - 8) * 8 + (unsigned)(((n - 1) >> (l - 3)) & 7);
}

uint32_t class_size(unsigned cls)
{
	if (cls < 16)
		return 16 * (cls + 1);
	uint32_t base = 256u << ((cls - 16) >> 3);
	return base + (base >> 3) * (((cls - 16) & 7) + 1);
}

static void bin_insert(struct heap *h, struct run *r)
{
	struct run **head = &h->bins[r->cls];

	r->prev = NULL;
	r->next = *head;
	if (*head)
		(*head)->prev = r;
	*head = r;
	r->listed = 1;
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
	r->zeroed = !pg->dirty;
	r->span = pg;
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
	if (h->bins[r->cls] == r && !r->next)
		return;
	if (r->listed)
		bin_remove(h, r);
	span_free(h, r->span);
	meta_free(h, r, run_meta_size(r->nblocks));
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

void *small_alloc(struct heap *h, unsigned cls, size_t n, int *zero)
{
	struct run *r = h->bins[cls];
	unsigned idx;

	if (unlikely(!r || (r->fresh == r->nblocks && !r->nfree)))
		if (!(r = bin_run(h, cls)))
			return NULL;
	if (r->fresh < r->nblocks) {
		idx = r->fresh++;
		*zero = r->zeroed;
	} else {
		idx = r->queue[r->qhead];
		r->qhead = r->qhead + 1 == r->nblocks ? 0 : r->qhead + 1;
		r->nfree--;
		*zero = 0;
	}
	uintptr_t p = r->base + (uintptr_t)idx * r->size;
	uint32_t slack = r->size - (uint32_t)n;
	run_state(r)[idx] = (uint16_t)slack;
	if (slack)
		((uint8_t *)p)[n] = canary(h, p + n);
	h->st.requested += n;
	h->st.in_use += r->size;
	h->st.live_blocks++;
	return (void *)p;
}

/* The block index of p, or an abort if p is not the start of a block. */
size_t small_index(struct run *r, const void *p, const char *fn)
{
	uintptr_t off = (uintptr_t)p - r->base;
	size_t idx = (size_t)(((uint64_t)(uint32_t)off * r->recip) >> 32);

	if (unlikely(idx >= r->nblocks || idx * r->size != off))
		ba_misuse(fn, p, "not the start of a block");
	if (unlikely(idx >= r->fresh || run_state(r)[idx] == FREE_MARK))
		ba_misuse(fn, p, idx >= r->fresh ? "invalid pointer (never allocated)" : "double free");
	unsigned slack = run_state(r)[idx];
	if (unlikely(slack && ((const uint8_t *)p)[r->size - slack] !=
			      canary(&ba_heap, (uintptr_t)p + r->size - slack)))
		ba_misuse(fn, p, "overflow past the end of the block");
	return idx;
}

void small_free(struct heap *h, struct run *r, void *p, const char *fn)
{
	size_t idx = small_index(r, p, fn);
	uint16_t *state = run_state(r);
	unsigned tail = r->qhead + r->nfree;

	h->st.requested -= r->size - state[idx];
	h->st.in_use -= r->size;
	h->st.live_blocks--;
	state[idx] = FREE_MARK;
	r->queue[tail >= r->nblocks ? tail - r->nblocks : tail] = (uint16_t)idx;
	r->nfree++;
	if (unlikely(!r->listed))
		bin_insert(h, r);
	if (unlikely(r->nfree == r->fresh))
		run_release(h, r);
}

/* A new request size for a live block that its class still fits. */
void small_resize(struct heap *h, struct run *r, void *p, size_t n)
{
	size_t idx = ((uintptr_t)p - r->base) / r->size;
	uint16_t *state = run_state(r);
	uint32_t slack = r->size - (uint32_t)n;

	h->st.requested += n - (r->size - state[idx]);
	state[idx] = (uint16_t)slack;
	if (slack)
		((uint8_t *)p)[n] = canary(h, (uintptr_t)p + n);
}

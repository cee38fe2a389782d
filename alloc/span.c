/* Spans: runs of whole pages inside 4 MiB arenas, for medium blocks and for
 * the runs of small blocks.  Free spans are found with a two-level
 * segregated fit over their page counts (TLSF: a power of two, then 8
 * steps within it), so a search is two bit scans, and freed spans merge
 * with free neighbours at once.  Free pages stay resident (dirty) up to a
 * budget; past it the biggest free spans are given back with MADV_DONTNEED
 * until half the budget is left.  The budget starts at DIRTY_MAX and grows,
 * up to DIRTY_CAP, whenever a purged span or a new arena is needed within
 * PURGE_WINDOW span operations of a purge: the program cycles a working
 * set larger than the budget, and purging it would cost a syscall and page
 * faults every cycle. */
#include "heap.h"

struct arena *page_arena(struct page *pg)
{
	return (struct arena *)((char *)(pg - pg->index) - __builtin_offsetof(struct arena, pages));
}

static void list_index(size_t n, unsigned *fl, unsigned *sl)
{
	if (n < (1u << SL_BITS)) {
		*fl = 0;
		*sl = (unsigned)n;
		return;
	}
	unsigned l = 31 - (unsigned)__builtin_clz((unsigned)n);
	*fl = l - SL_BITS + 1;
	*sl = (unsigned)(n >> (l - SL_BITS)) & ((1u << SL_BITS) - 1);
}

static void free_insert(struct heap *h, struct page *pg)
{
	unsigned fl, sl;

	list_index(pg->npages, &fl, &sl);
	pg->u.free.prev = NULL;
	pg->u.free.next = h->free_spans[fl][sl];
	if (pg->u.free.next)
		pg->u.free.next->u.free.prev = pg;
	h->free_spans[fl][sl] = pg;
	h->fl_map |= 1u << fl;
	h->sl_map[fl] |= (uint8_t)(1u << sl);
	if (pg->dirty == DIRTY)
		h->st.dirty += (size_t)pg->npages << h->page_shift;
}

static void free_remove(struct heap *h, struct page *pg)
{
	unsigned fl, sl;

	list_index(pg->npages, &fl, &sl);
	if (pg->u.free.prev)
		pg->u.free.prev->u.free.next = pg->u.free.next;
	else if (!(h->free_spans[fl][sl] = pg->u.free.next) && !(h->sl_map[fl] &= (uint8_t)~(1u << sl)))
		h->fl_map &= ~(1u << fl);
	if (pg->u.free.next)
		pg->u.free.next->u.free.prev = pg->u.free.prev;
	if (pg->dirty == DIRTY)
		h->st.dirty -= (size_t)pg->npages << h->page_shift;
}

/* Gives every page of [pg, pg + n) the kind, and the ends the length. */
void span_mark(struct page *pg, size_t n, uint8_t kind)
{
	for (size_t i = 0; i < n; i++) {
		pg[i].kind = kind;
		pg[i].npages = 0;
	}
	pg[0].npages = pg[n - 1].npages = (uint32_t)n;
}

/* Makes [pg, pg + n) one span of the kind by its two ends alone (see the
 * invariant beside struct page).  A medium span's last page is inner. */
void span_ends(struct page *pg, size_t n, uint8_t kind)
{
	pg[n - 1].kind = kind == SPAN_MEDIUM ? SPAN_INNER : kind;
	pg[n - 1].npages = (uint32_t)n;
	pg->kind = kind;
	pg->npages = (uint32_t)n;
}

/* The first page of the span that holds pg, by walking the tiling: for
 * error messages only. */
struct page *span_containing(struct arena *a, struct page *pg)
{
	struct page *s = a->pages;

	while (s + s->npages <= pg)
		s += s->npages;
	return s;
}

static struct arena *arena_new(struct heap *h)
{
	uint32_t n = (uint32_t)(ARENA_SIZE >> h->page_shift);
	struct arena *a = meta_alloc(h, sizeof *a + n * sizeof(struct page));
	void *base = a ? os_map(h, ARENA_SIZE, ARENA_SIZE) : NULL;

	if (!base || map_set(h, (uintptr_t)base, a)) {
		if (base)
			os_unmap(h, base, ARENA_SIZE);
		if (a)
			meta_free(h, a, sizeof *a + n * sizeof(struct page));
		return NULL;
	}
	a->base = (uintptr_t)base;
	a->npages = n;
	for (uint32_t i = 0; i < n; i++)
		a->pages[i].index = (uint16_t)i;
	span_mark(a->pages, n, SPAN_FREE);
	a->pages[0].dirty = CLEAN;
	free_insert(h, a->pages);
	a->next = h->arenas;
	h->arenas = a;
	return a;
}

static void arena_drop(struct heap *h, struct arena *a)
{
	struct arena **link = &h->arenas;

	while (*link != a)
		link = &(*link)->next;
	*link = a->next;
	free_remove(h, a->pages);
	h->released += ARENA_SIZE;
	map_set(h, a->base, NULL);      /* the leaf exists: this cannot fail */
	os_unmap(h, (void *)a->base, ARENA_SIZE);
	meta_free(h, a, sizeof *a + a->npages * sizeof(struct page));
}

/* A purge was undone at once: the budget becomes what was given back
 * since it last grew, or at least twice what it was, so one cycle of a
 * working set teaches it the working set's size. */
static void grow_budget(struct heap *h)
{
	size_t want = h->released > 2 * h->dirty_budget ? h->released : 2 * h->dirty_budget;

	h->dirty_budget = want < DIRTY_CAP ? want : DIRTY_CAP;
	h->released = 0;
	h->last_purge = 0;      /* once per purge */
}

/* The first free span of at least n pages, by the lists' bitmaps alone. */
static struct page *find_free(struct heap *h, size_t n)
{
	unsigned fl, sl;

	if (n >= (1u << SL_BITS))
		n += ((size_t)1 << (31 - __builtin_clz((unsigned)n) - SL_BITS)) - 1;
	list_index(n, &fl, &sl);
	if (fl >= FL_COUNT)
		return NULL;
	unsigned sl_bits = h->sl_map[fl] & (~0u << sl);
	if (!sl_bits) {
		unsigned fl_bits = h->fl_map & (~0u << (fl + 1));
		if (!fl_bits)
			return NULL;
		fl = (unsigned)__builtin_ctz(fl_bits);
		sl_bits = h->sl_map[fl];
	}
	return h->free_spans[fl][__builtin_ctz(sl_bits)];
}

/* Cuts the (unlisted) free span at pg after its first n pages; the rest
 * stays free.  Only the four end pages change. */
static void split(struct heap *h, struct page *pg, size_t n)
{
	size_t total = pg->npages;

	if (total == n)
		return;
	struct page *rest = pg + n;
	rest->dirty = pg->dirty;
	span_ends(rest, total - n, SPAN_FREE);
	free_insert(h, rest);
	span_ends(pg, n, SPAN_FREE);
}

/* A span of n pages; its first page's dirty says whether it may hold old
 * data.  The caller marks the pages with their new kind. */
struct page *span_alloc(struct heap *h, size_t npages)
{
	struct page *pg = find_free(h, npages);

	int undo = pg && pg->dirty == PURGED;

	if (!pg) {
		if (!arena_new(h))
			return NULL;
		pg = find_free(h, npages);
		undo = 1;
	}
	h->span_ops++;
	if (undo && h->last_purge && h->span_ops - h->last_purge < PURGE_WINDOW)
		grow_budget(h);
	free_remove(h, pg);
	split(h, pg, npages);
	return pg;
}

static int arena_is_empty(struct arena *a)
{
	return a->pages[0].kind == SPAN_FREE && a->pages[0].npages == a->npages;
}

/* Bytes of empty arenas beyond the ARENAS_KEPT that are always kept.  An
 * arena that empties is unmapped at once while the budget is at its base;
 * a program that cycles (the budget grew) keeps empty arenas up to the
 * growth, so that its next cycle finds them mapped. */
static size_t arena_surplus(struct heap *h)
{
	unsigned empty = 0;

	for (struct arena *a = h->arenas; a; a = a->next)
		empty += arena_is_empty(a);
	return empty > ARENAS_KEPT ? (empty - ARENAS_KEPT) * ARENA_SIZE : 0;
}

/* Over budget: empty runs and arenas go back, then dirty free spans are
 * purged until half the budget is left, so that a working set above the
 * budget pays one purge per half budget of frees, not one per free. */
static void purge(struct heap *h)
{
	h->purging = 1;
	small_release_empty(h);
	h->purging = 0;
	unsigned empty = 0;
	for (struct arena *a = h->arenas, *next; a; a = next) {
		next = a->next;
		if (arena_is_empty(a) && ++empty > ARENAS_KEPT)
			arena_drop(h, a);
	}
	for (unsigned fl = FL_COUNT; fl-- > 0;)
		for (unsigned sl = 1u << SL_BITS; sl-- > 0;)
			for (struct page *pg = h->free_spans[fl][sl]; pg; pg = pg->u.free.next) {
				if (h->st.dirty <= h->dirty_budget / 2)
					goto done;
				if (pg->dirty == DIRTY) {
					size_t bytes = (size_t)pg->npages << h->page_shift;
					os_purge(h, (void *)page_addr(h, pg), bytes);
					h->st.dirty -= bytes;
					h->released += bytes;
					pg->dirty = PURGED;
				}
			}
done:
	h->last_purge = h->span_ops ? h->span_ops : 1;
	meta_purge(h);
}

/* Frees the span that starts at pg and merges it with free neighbours;
 * the pages where two spans met become inner pages (npages 0).  An arena
 * that empties stays mapped until a purge. */
void span_free(struct heap *h, struct page *pg)
{
	struct arena *a = page_arena(pg);
	size_t n = pg->npages;

	if (pg->kind == SPAN_RUN)       /* no page may stay SPAN_RUN */
		span_mark(pg, n, SPAN_FREE);
	else
		span_ends(pg, n, SPAN_FREE);
	struct page *next = pg + n;
	if (next < a->pages + a->npages && next->kind == SPAN_FREE) {
		size_t m = next->npages;
		free_remove(h, next);
		pg[n - 1].npages = next->npages = 0;
		n += m;
	}
	if (pg > a->pages && pg[-1].kind == SPAN_FREE) {
		size_t m = pg[-1].npages;
		struct page *prev = pg - m;
		free_remove(h, prev);
		pg[-1].npages = pg->npages = 0;
		pg = prev;
		n += m;
	}
	span_ends(pg, n, SPAN_FREE);
	pg->dirty = DIRTY;
	free_insert(h, pg);
	h->span_ops++;
	if (arena_is_empty(a) && !h->purging && arena_surplus(h) > h->dirty_budget - DIRTY_MAX) {
		arena_drop(h, a);
		h->last_purge = h->span_ops;
	} else if (h->st.dirty > h->dirty_budget && !h->purging) {
		purge(h);
	}
}

/* Grows the allocated span at pg to npages in place, from a free span
 * right after it; 0 on success. */
int span_grow(struct heap *h, struct page *pg, size_t npages)
{
	struct arena *a = page_arena(pg);
	size_t have = pg->npages;
	struct page *next = pg + have;

	if (next >= a->pages + a->npages || next->kind != SPAN_FREE || have + next->npages < npages)
		return -1;
	free_remove(h, next);
	split(h, next, npages - have);
	next->kind = SPAN_INNER;        /* was a span's first page: SPAN_FREE */
	span_ends(pg, npages, pg->kind);
	return 0;
}

/* Shrinks the allocated span at pg to npages, freeing its tail. */
void span_shrink(struct heap *h, struct page *pg, size_t npages)
{
	size_t have = pg->npages;

	if (npages >= have)
		return;
	struct page *tail = pg + npages;
	span_ends(tail, have - npages, SPAN_INNER);
	span_ends(pg, npages, pg->kind);
	span_free(h, tail);
}

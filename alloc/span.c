/* Spans: runs of whole pages inside 4 MiB arenas, for medium blocks and for
 * the runs of small blocks.  Free spans are found with a two-level
 * segregated fit over their page counts (TLSF: a power of two, then 8
 * steps within it), so a search is two bit scans, and freed spans merge
 * with free neighbours at once.  Free pages stay resident (dirty) up to
 * DIRTY_MAX; past it they are all given back with MADV_DONTNEED. */
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
	if (pg->dirty)
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
	if (pg->dirty)
		h->st.dirty -= (size_t)pg->npages << h->page_shift;
}

/* Gives pages [pg, pg + n) the kind and length of one span. */
void span_mark(struct page *pg, size_t n, uint8_t kind)
{
	for (size_t i = 0; i < n; i++) {
		pg[i].kind = kind;
		pg[i].npages = 0;
	}
	pg[0].npages = pg[n - 1].npages = (uint32_t)n;
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
	a->pages[0].dirty = 0;
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
	map_set(h, a->base, NULL);      /* the leaf exists: this cannot fail */
	os_unmap(h, (void *)a->base, ARENA_SIZE);
	meta_free(h, a, sizeof *a + a->npages * sizeof(struct page));
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
 * stays free.  Pages inside a free span are already SPAN_FREE with
 * npages 0, so only the four boundary pages change. */
static void split(struct heap *h, struct page *pg, size_t n)
{
	size_t total = pg->npages;

	if (total == n)
		return;
	struct page *rest = pg + n;
	rest->dirty = pg->dirty;
	rest->npages = rest[total - n - 1].npages = (uint32_t)(total - n);
	free_insert(h, rest);
	if (n > 1)
		pg[n - 1].npages = (uint32_t)n;
	pg->npages = (uint32_t)n;
}

/* A span of n pages; its first page's dirty says whether it may hold old
 * data.  The caller marks the pages with their new kind. */
struct page *span_alloc(struct heap *h, size_t npages)
{
	struct page *pg = find_free(h, npages);

	if (!pg) {
		if (!arena_new(h))
			return NULL;
		pg = find_free(h, npages);
	}
	free_remove(h, pg);
	split(h, pg, npages);
	return pg;
}

static int arena_is_empty(struct arena *a)
{
	return a->pages[0].kind == SPAN_FREE && a->pages[0].npages == a->npages;
}

static void purge_all(struct heap *h)
{
	for (unsigned fl = 0; fl < FL_COUNT; fl++)
		for (unsigned sl = 0; sl < (1u << SL_BITS); sl++)
			for (struct page *pg = h->free_spans[fl][sl]; pg; pg = pg->u.free.next)
				if (pg->dirty) {
					os_purge(h, (void *)page_addr(h, pg), (size_t)pg->npages << h->page_shift);
					h->st.dirty -= (size_t)pg->npages << h->page_shift;
					pg->dirty = 0;
				}
}

/* Frees the span that starts at pg and merges it with free neighbours;
 * the pages where two spans met become inner pages (npages 0). */
void span_free(struct heap *h, struct page *pg)
{
	struct arena *a = page_arena(pg);
	size_t n = pg->npages;

	span_mark(pg, n, SPAN_FREE);
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
	pg->npages = pg[n - 1].npages = (uint32_t)n;
	pg->dirty = 1;
	free_insert(h, pg);

	if (arena_is_empty(a)) {
		unsigned empty = 0;
		for (struct arena *b = h->arenas; b; b = b->next)
			empty += arena_is_empty(b);
		if (empty > ARENAS_KEPT) {
			arena_drop(h, a);
			return;
		}
	}
	if (h->st.dirty > DIRTY_MAX)
		purge_all(h);
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
	uint8_t kind = pg->kind == SPAN_MEDIUM ? SPAN_INNER : pg->kind;
	for (size_t i = have; i < npages; i++) {
		pg[i].kind = kind;
		pg[i].npages = 0;
	}
	pg[have - 1].npages = have == 1 ? (uint32_t)npages : 0;
	pg->npages = pg[npages - 1].npages = (uint32_t)npages;
	return 0;
}

/* Shrinks the allocated span at pg to npages, freeing its tail. */
void span_shrink(struct heap *h, struct page *pg, size_t npages)
{
	size_t have = pg->npages;

	if (npages >= have)
		return;
	struct page *tail = pg + npages;
	tail->npages = pg[have - 1].npages = (uint32_t)(have - npages);
	pg->npages = pg[npages - 1].npages = (uint32_t)npages;
	span_free(h, tail);
}

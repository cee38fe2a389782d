/* Spans: runs of whole pages inside 4 MiB arenas, for medium blocks and for
 * the runs of small blocks.  Free spans are found with a two-level
 * segregated fit over their page counts (TLSF: a power of two, then 8
 * steps within it), so a search is two bit scans, and a freed span merges
 * with free neighbours at once.  Resident (dirty) spans and the others are
 * kept in two sets of lists and never merged with each other, so that a
 * search finds resident memory first (see struct page).  This is the
 * mechanism only: when to give memory back is purge.c's decision. */
#include "run.h"

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

static unsigned set_of(const struct page *pg)
{
	return pg->dirty == DIRTY ? RESIDENT : NOT_RESIDENT;
}

static void free_insert(struct heap *h, struct page *pg)
{
	unsigned fl, sl, set = set_of(pg);

	list_index(pg->npages, &fl, &sl);
	pg->u.free.prev = NULL;
	pg->u.free.next = h->free_spans[set][fl][sl];
	if (pg->u.free.next)
		pg->u.free.next->u.free.prev = pg;
	h->free_spans[set][fl][sl] = pg;
	h->fl_map[set] |= 1u << fl;
	h->sl_map[set][fl] |= (uint8_t)(1u << sl);
	if (set == RESIDENT)
		h->dirty += (size_t)pg->npages << PAGE_SHIFT;
}

static void free_remove(struct heap *h, struct page *pg)
{
	unsigned fl, sl, set = set_of(pg);

	list_index(pg->npages, &fl, &sl);
	if (pg->u.free.prev)
		pg->u.free.prev->u.free.next = pg->u.free.next;
	else if (!(h->free_spans[set][fl][sl] = pg->u.free.next) &&
		 !(h->sl_map[set][fl] &= (uint8_t)~(1u << sl)))
		h->fl_map[set] &= ~(1u << fl);
	if (pg->u.free.next)
		pg->u.free.next->u.free.prev = pg->u.free.prev;
	if (set == RESIDENT)
		h->dirty -= (size_t)pg->npages << PAGE_SHIFT;
}

/* Gives every page of [pg, pg + n) the kind (a descriptor, or the run
 * that holds them), and the ends the length. */
void _ba_span_mark(struct page *pg, size_t n, struct run *kind)
{
	struct run **tab = &page_arena(pg)->tab[pg->index];

	for (size_t i = 0; i < n; i++)
		tab[i] = kind;
	pg[0].npages = page_near(pg, (ptrdiff_t)n - 1)->npages = (uint32_t)n;
}

/* Makes [pg, pg + n) one span of the kind by its two ends alone (see the
 * invariant beside struct page).  A medium span's last page is inner. */
void _ba_span_ends(struct page *pg, size_t n, struct run *kind)
{
	struct run **tab = &page_arena(pg)->tab[pg->index];

	tab[n - 1] = kind == KIND_MEDIUM ? KIND_INNER : kind;
	tab[0] = kind;
	page_near(pg, (ptrdiff_t)n - 1)->npages = (uint32_t)n;
	pg->npages = (uint32_t)n;
}

/* The first page of the span that holds pg, by walking the tiling: for
 * error messages only. */
struct page *_ba_span_containing(struct arena *a, struct page *pg)
{
	struct page *s = a->pages;

	while (s + s->npages <= pg)
		s += s->npages;
	return s;
}

/* Arena a (zeroed metadata, or an arena of a pool's that its reset
 * empties) describes the npages pages at base as one free span of h. */
static void arena_fill(struct heap *h, struct arena *a, uintptr_t base, size_t npages)
{
	a->base = base;
	a->heap = h;
	a->npages = (uint32_t)npages;
	a->used = a->idle = a->heads = 0;
	a->pages[0].index = 0;
	_ba_span_mark(a->pages, npages, KIND_FREE);
}

/* h lists arena a, whose pages are in state `dirty`. */
static void arena_list(struct heap *h, struct arena *a, uint8_t dirty)
{
	a->pages[0].dirty = dirty;
	free_insert(h, a->pages);
	h->arenas++;
	a->prev = NULL;
	a->next = h->arenas_list;
	if (a->next)
		a->next->prev = a;
	h->arenas_list = a;
}

/* Arena a of h, listed, is one free span in state `dirty` again: a pool's
 * reset, after it forgot every run and span. */
void _ba_arena_reset(struct heap *h, struct arena *a, uint8_t dirty)
{
	arena_fill(h, a, a->base, a->npages);
	a->pages[0].dirty = dirty;
	free_insert(h, a->pages);
}

void _ba_arena_init(struct heap *h, struct arena *a, uintptr_t base, size_t npages, uint8_t dirty)
{
	arena_fill(h, a, base, npages);
	arena_list(h, a, dirty);
}

/* The map names the arena once it is whole: another thread's free reads
 * it with no lock. */
static struct arena *arena_new(struct heap *h)
{
	struct arena *a = h->fixed ? NULL : _ba_meta_alloc(sizeof *a);
	void *base = a ? _ba_vm_map(ARENA_SIZE, ARENA_SIZE) : NULL;

	if (base)
		arena_fill(h, a, (uintptr_t)base, ARENA_PAGES);
	if (!base || _ba_map_set((uintptr_t)base, a)) {
		if (base)
			_ba_vm_unmap(base, ARENA_SIZE);
		if (a)
			_ba_meta_free(a, sizeof *a);
		return NULL;
	}
	arena_list(h, a, CLEAN);
	__atomic_fetch_add(&PROC->arenas, 1, __ATOMIC_RELAXED);
	return a;
}

/* Unmaps arena a, whatever it holds, and forgets it. */
void _ba_arena_unmap(struct arena *a)
{
	if (a->prev)
		a->prev->next = a->next;
	else
		a->heap->arenas_list = a->next;
	if (a->next)
		a->next->prev = a->prev;
	a->heap->arenas--;
	__atomic_fetch_sub(&PROC->arenas, 1, __ATOMIC_RELAXED);
	_ba_map_set(a->base, NULL);     /* the leaf exists: this cannot fail */
	_ba_vm_unmap((void *)a->base, ARENA_SIZE);
	_ba_meta_free(a, sizeof *a);
}

/* Whether p was in an arena that the policy unmapped lately: it goes only
 * when no live block is left in it, so a pointer into it was freed
 * already.  (A released heap's blocks were live: a pointer into one of its
 * arenas stays "not from barealloc".) */
int _ba_arena_was_dropped(const void *p)
{
	for (unsigned i = 0; i < DROPPED_KEPT; i++)
		if (PROC->dropped[i] && ((uintptr_t)p & ~(ARENA_SIZE - 1)) == PROC->dropped[i])
			return 1;
	return 0;
}

/* Unmaps an empty arena of h, whose free spans leave h's lists. */
void _ba_arena_drop(struct heap *h, struct arena *a)
{
	for (struct page *pg = a->pages; pg < a->pages + a->npages; pg += pg->npages)
		free_remove(h, pg);
	proc_lock(LOCK_PROC);
	PROC->dropped[PROC->dropped_next++ % DROPPED_KEPT] = a->base;
	proc_unlock(LOCK_PROC);
	h->released += ARENA_SIZE;
	_ba_arena_unmap(a);
}

/* A free span of the set with at least n pages, by the lists' bitmaps
 * alone: the first of n's own list when it is long enough (an exact fit
 * keeps a resident span's pages in use), else the first of the next list
 * whose every span fits. */
static struct page *find_free(struct heap *h, unsigned set, size_t n)
{
	unsigned fl, sl;

	list_index(n, &fl, &sl);
	if (fl >= FL_COUNT)
		return NULL;
	struct page *pg = h->free_spans[set][fl][sl];
	if (pg && pg->npages >= n)
		return pg;
	if (n >= (1u << SL_BITS))
		list_index(n + ((size_t)1 << (31 - __builtin_clz((unsigned)n) - SL_BITS)) - 1, &fl, &sl);
	if (fl >= FL_COUNT)
		return NULL;
	unsigned sl_bits = h->sl_map[set][fl] & (~0u << sl);
	if (!sl_bits) {
		unsigned fl_bits = h->fl_map[set] & (~0u << (fl + 1));
		if (!fl_bits)
			return NULL;
		fl = (unsigned)__builtin_ctz(fl_bits);
		sl_bits = h->sl_map[set][fl];
	}
	return h->free_spans[set][fl][__builtin_ctz(sl_bits)];
}

/* Cuts the (unlisted) free span at pg after its first n pages; the rest
 * stays free.  Only the four end pages change. */
static void split(struct heap *h, struct page *pg, size_t n)
{
	size_t total = pg->npages;

	if (total == n)
		return;
	struct page *rest = page_near(pg, (ptrdiff_t)n);
	rest->dirty = pg->dirty;
	_ba_span_ends(rest, total - n, KIND_FREE);
	free_insert(h, rest);
	_ba_span_ends(pg, n, KIND_FREE);
}

/* A span of n pages, still marked free; its first page's dirty says
 * whether it may hold old data.  Resident memory first: a dirty span, or
 * one made of empty runs let go for it (when runs in place RUN_EMPTY
 * exist: the walk then pays for itself); then pages that are not
 * resident, and a new arena last.  Taking purged pages or a new arena is reported to
 * the budget (purge.c). */
struct page *_ba_span_alloc(struct heap *h, size_t npages)
{
	struct page *pg = find_free(h, RESIDENT, npages);

	h->span_ops++;
	if (!pg && h->empty_runs && _ba_release_empty_runs(h, NULL))
		pg = find_free(h, RESIDENT, npages);
	if (!pg) {
		pg = find_free(h, NOT_RESIDENT, npages);
		if (!pg || pg->dirty == PURGED)
			_ba_budget_undo(h);
	}
	if (!pg && h->fixed && _ba_release_empty_runs(h, NULL)) {    /* a pool's last pages */
		pg = find_free(h, RESIDENT, npages);
		pg = pg ? pg : find_free(h, NOT_RESIDENT, npages);
	}
	if (!pg) {
		if (!arena_new(h))
			return NULL;
		pg = find_free(h, NOT_RESIDENT, npages);
	}
	free_remove(h, pg);
	split(h, pg, npages);
	page_arena(pg)->used += (uint32_t)npages;
	dirty_taken(h);
	return pg;
}

/* The state of two free spans merged: DIRTY when either may be resident
 * (a pool's merge), else CLEAN only if both are. */
static uint8_t merged(uint8_t a, uint8_t b)
{
	return a == b ? a : a == DIRTY || b == DIRTY ? DIRTY : PURGED;
}

/* Lists the free span of n pages at pg, in the state `dirty`, merged with
 * its free neighbours of the same set; a page where two spans met keeps a
 * stale length.  A pool, which can neither purge nor map more, merges
 * across the sets: its free pages must come together to serve. */
static void settle(struct heap *h, struct page *pg, size_t n, uint8_t dirty)
{
	struct arena *a = page_arena(pg);
	struct page *next = pg + n;
	unsigned set = dirty == DIRTY ? RESIDENT : NOT_RESIDENT;

	if (next < a->pages + a->npages && a->tab[pg->index + n] == KIND_FREE &&
	    (set_of(next) == set || h->fixed)) {
		n += next->npages;
		dirty = merged(dirty, next->dirty);
		free_remove(h, next);
	}
	if (pg > a->pages && a->tab[pg->index - 1] == KIND_FREE) {
		struct page *prev = pg - pg[-1].npages;
		if (set_of(prev) == set || h->fixed) {
			n += prev->npages;
			dirty = merged(dirty, prev->dirty);
			free_remove(h, prev);
			pg = prev;
		}
	}
	_ba_span_ends(pg, n, KIND_FREE);
	pg->dirty = dirty;
	free_insert(h, pg);
}

/* Frees the span that starts at pg, whose pages are in state `dirty`:
 * DIRTY once they may have been written. */
void _ba_span_free(struct heap *h, struct page *pg, uint8_t dirty)
{
	size_t n = pg->npages;

	if (page_kind(pg) != KIND_MEDIUM && page_kind(pg) != KIND_FREE)
		_ba_span_mark(pg, n, KIND_FREE);  /* a run: no page may keep naming it */
	else
		_ba_span_ends(pg, n, KIND_FREE);
	page_arena(pg)->used -= (uint32_t)n;
	settle(h, pg, n, dirty);
	h->span_ops++;
}

/* Gives the pages of h's resident free span pg back to the kernel; it
 * joins the spans that are not resident.  -1 when the kernel refused (the
 * pages stay as they are). */
int _ba_purge_span(struct heap *h, struct page *pg)
{
	size_t n = pg->npages;

	if (_ba_vm_purge((void *)page_addr(pg), n << PAGE_SHIFT))
		return -1;
	free_remove(h, pg);
	h->released += n << PAGE_SHIFT;
	settle(h, pg, n, PURGED);
	return 0;
}

/* Grows the allocated span at pg to npages in place, from a free span
 * right after it; 0 on success. */
int _ba_span_grow(struct heap *h, struct page *pg, size_t npages)
{
	struct arena *a = page_arena(pg);
	size_t have = pg->npages;
	struct page *next = pg + have;

	if (next >= a->pages + a->npages || a->tab[pg->index + have] != KIND_FREE ||
	    have + next->npages < npages)
		return -1;
	free_remove(h, next);
	split(h, next, npages - have);
	a->used += (uint32_t)(npages - have);
	h->span_ops++;
	dirty_taken(h);
	a->tab[next->index] = KIND_INNER;    /* it was a free span's first page */
	_ba_span_ends(pg, npages, page_kind(pg));
	return 0;
}

/* Shrinks the allocated span at pg to npages, freeing its tail, whose
 * pages are in state `dirty`. */
void _ba_span_shrink(struct heap *h, struct page *pg, size_t npages, uint8_t dirty)
{
	size_t have = pg->npages;

	if (npages >= have)
		return;
	struct page *tail = page_near(pg, (ptrdiff_t)npages);
	_ba_span_ends(tail, have - npages, KIND_INNER);
	_ba_span_ends(pg, npages, page_kind(pg));
	_ba_span_free(h, tail, dirty);
}

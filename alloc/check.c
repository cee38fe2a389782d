/* The heap walk behind ba_check and ba_stats: it visits every structure,
 * verifies the invariants stated in heap.h, in O(size of the heap), and
 * sums the live blocks.  The codes name the first violation. */
#include "heap.h"

enum {
	OK, BAD_MAP, BAD_TILING, BAD_COALESCE, BAD_FREE_LIST, BAD_RUN, BAD_QUEUE,
	BAD_BIN, BAD_CANARY, BAD_LARGE, BAD_MAPPED, BAD_DIRTY,
};

const char *ba_check_name(int code)
{
	static const char *const names[] = {
		"ok", "arena map", "span tiling", "uncoalesced free spans", "free span lists",
		"run geometry", "run free queue", "bin lists", "canary", "large table",
		"mapped bytes", "dirty bytes",
	};
	return code >= 0 && code <= BAD_DIRTY ? names[code] : "unknown";
}

struct tally {
	size_t requested, in_use, live, mapped, dirty, free_spans, listed_runs;
};

/* The free queue holds exactly the FREE_MARK blocks below fresh, once each
 * (a visited entry is flipped to 0xfffe, then restored). */
static int check_queue(struct run *r)
{
	uint16_t *state = run_state(r);
	unsigned marked = 0, ok = 1;

	for (unsigned i = 0; i < r->fresh; i++)
		marked += state[i] == FREE_MARK;
	for (unsigned k = 0; k < r->nfree; k++) {
		unsigned idx = r->queue[(r->qhead + k) % r->nblocks];
		ok &= idx < r->fresh && state[idx] == FREE_MARK;
		if (idx < r->fresh)
			state[idx] = 0xfffe;
	}
	for (unsigned i = 0; i < r->fresh; i++)
		if (state[i] == 0xfffe)
			state[i] = FREE_MARK;
	return ok && marked == r->nfree;
}

static int check_run(struct heap *h, struct run *r, struct page *pg, struct tally *t)
{
	uint16_t *state = run_state(r);

	if (r->span != pg || r->base != page_addr(h, pg) || r->cls >= NCLASSES ||
	    r->size != class_size(r->cls) || r->recip != 0xffffffffu / r->size + 1 ||
	    (size_t)r->nblocks * r->size > (size_t)pg->npages << h->page_shift ||
	    r->fresh > r->nblocks || r->nfree > r->fresh || r->qhead >= r->nblocks)
		return BAD_RUN;
	if (!check_queue(r))
		return BAD_QUEUE;
	if ((r->nfree || r->fresh < r->nblocks) && !r->listed)
		return BAD_BIN;
	t->listed_runs += r->listed;
	for (unsigned i = 0; i < r->fresh; i++) {
		if (state[i] == FREE_MARK)
			continue;
		if (state[i] > r->size)
			return BAD_RUN;
		if (!canary_intact(h, r->base + (uintptr_t)i * r->size, r->size - state[i], r->size))
			return BAD_CANARY;
		t->requested += r->size - state[i];
		t->in_use += r->size;
		t->live++;
	}
	return OK;
}

/* One span at pg: the kinds and lengths of its pages, and its contents. */
static int check_span(struct heap *h, struct page *pg, struct tally *t)
{
	size_t n = pg->npages;
	uint8_t inner = pg->kind == SPAN_MEDIUM ? SPAN_INNER : pg->kind;

	if (pg->kind < SPAN_FREE || pg->kind > SPAN_MEDIUM || pg[n - 1].npages != n ||
	    (n > 1 && pg[n - 1].kind != inner))
		return BAD_TILING;
	for (size_t i = 1; i < n; i++)
		if (pg->kind == SPAN_RUN ? pg[i].kind != SPAN_RUN || pg[i].u.run != pg->u.run
					 : pg[i].kind == SPAN_RUN || pg[i].kind == SPAN_MEDIUM)
			return BAD_TILING;
	if (pg->kind == SPAN_FREE) {
		t->free_spans++;
		t->dirty += pg->dirty == DIRTY ? n << h->page_shift : 0;
		return OK;
	}
	if (pg->kind == SPAN_RUN)
		return check_run(h, pg->u.run, pg, t);
	size_t room = n << h->page_shift;
	if (pg->u.req > room || page_round(h, pg->u.req ? pg->u.req : 1) != room)
		return BAD_TILING;
	if (!canary_intact(h, page_addr(h, pg), pg->u.req, room))
		return BAD_CANARY;
	t->requested += pg->u.req;
	t->in_use += room;
	t->live++;
	return OK;
}

static int check_arena(struct heap *h, struct arena *a, struct tally *t)
{
	int was_free = 0, err;

	if (arena_of(h, (void *)a->base) != a || (a->base & (ARENA_SIZE - 1)))
		return BAD_MAP;
	t->mapped += ARENA_SIZE;
	for (size_t i = 0; i < a->npages; i += a->pages[i].npages) {
		struct page *pg = &a->pages[i];
		if (pg->index != i || !pg->npages || i + pg->npages > a->npages)
			return BAD_TILING;
		if (was_free && pg->kind == SPAN_FREE)
			return BAD_COALESCE;
		was_free = pg->kind == SPAN_FREE;
		if ((err = check_span(h, pg, t)))
			return err;
	}
	return OK;
}

/* Every listed span is free and on the list of its length; the bitmaps
 * say which lists are non-empty; the count matches the arena walk. */
static int check_free_lists(struct heap *h, struct tally *t)
{
	size_t seen = 0;

	for (unsigned fl = 0; fl < FL_COUNT; fl++)
		for (unsigned sl = 0; sl < (1u << SL_BITS); sl++) {
			struct page *pg = h->free_spans[fl][sl], *prev = NULL;
			if (!!pg != !!(h->sl_map[fl] & (1u << sl)) || (h->sl_map[fl] && !(h->fl_map & (1u << fl))))
				return BAD_FREE_LIST;
			for (; pg; prev = pg, pg = pg->u.free.next) {
				size_t n = pg->npages, l = n < 8 ? 0 : 31 - (unsigned)__builtin_clz((unsigned)n);
				unsigned want_fl = n < 8 ? 0 : (unsigned)l - SL_BITS + 1;
				unsigned want_sl = n < 8 ? (unsigned)n : (unsigned)(n >> (l - SL_BITS)) & 7;
				if (pg->kind != SPAN_FREE || pg->u.free.prev != prev || want_fl != fl ||
				    want_sl != sl || ++seen > t->free_spans)
					return BAD_FREE_LIST;
			}
		}
	return seen == t->free_spans ? OK : BAD_FREE_LIST;
}

static int check_bins(struct heap *h, struct tally *t)
{
	size_t seen = 0;

	for (unsigned cls = 0; cls < NCLASSES; cls++)
		for (struct run *r = h->bins[cls], *prev = NULL; r; prev = r, r = r->next)
			if (!r->listed || r->cls != cls || r->prev != prev || ++seen > t->listed_runs)
				return BAD_BIN;
	return seen == t->listed_runs ? OK : BAD_BIN;
}

static int check_large(struct heap *h, struct tally *t)
{
	size_t count = 0;

	for (size_t i = 0; i < h->large_cap; i++) {
		struct large *l = &h->large[i];
		if (!l->addr)
			continue;
		if (large_find(h, (void *)l->addr) != l || l->req > l->mapped || (l->addr & (h->page - 1)))
			return BAD_LARGE;
		if (!large_canary_ok(h, l))
			return BAD_CANARY;
		t->requested += l->req;
		t->in_use += l->mapped;
		t->live++;
		t->mapped += l->mapped;
		count++;
	}
	for (unsigned i = 0; i < LARGE_KEPT; i++) {
		t->mapped += h->kept[i].addr ? h->kept[i].mapped : 0;
		t->dirty += h->kept[i].addr ? h->kept[i].mapped : 0;
	}
	return count == h->large_count ? OK : BAD_LARGE;
}

int heap_walk(struct heap *h, struct ba_stats *sum)
{
	struct tally t = { 0 };
	int err = 0;

	for (struct arena *a = h->arenas; a && !err; a = a->next)
		err = check_arena(h, a, &t);
	if (!err && !(err = check_free_lists(h, &t)) && !(err = check_bins(h, &t)))
		err = check_large(h, &t);
	sum->requested = t.requested;
	sum->in_use = t.in_use;
	sum->live_blocks = t.live;
	if (err)
		return err;
	for (struct meta_region *r = h->regions; r; r = r->next)
		t.mapped += h->page + r->size;
	if (t.mapped != h->st.mapped)
		return BAD_MAPPED;
	return t.dirty == h->st.dirty ? OK : BAD_DIRTY;
}

int ba_check(void)
{
	struct ba_stats sum;

	return heap_walk(heap_get(), &sum);
}

/* ba_check: visits every structure of the process and of one heap and
 * verifies the invariants stated in heap.h, in O(size of the heap).  It
 * only reads: what it must remember (which ring entries it has seen) is
 * on its own stack.  The codes name the first violation. */
#include "run.h"

enum {
	OK, BAD_MAP, BAD_TILING, BAD_COALESCE, BAD_FREE_LIST, BAD_RUN, BAD_QUEUE,
	BAD_BIN, BAD_CANARY, BAD_LARGE, BAD_MAPPED, BAD_DIRTY, BAD_COUNTS, BAD_META,
};

const char *ba_check_name(int code)
{
	static const char *const names[] = {
		"ok", "arena map", "span tiling", "uncoalesced free spans", "free span lists",
		"run geometry", "run free queue", "bin lists", "canary", "large table",
		"mapped bytes", "dirty bytes", "block counts", "metadata counts",
	};
	return code >= 0 && code <= BAD_META ? names[code] : "unknown";
}

/* What the walk of h's arenas found, to compare with h's lists and counters. */
struct tally {
	size_t free_spans, dirty, runs, empty_runs, medium_live, medium_req, medium_in_use;
};

/* The ring holds exactly the free blocks below given, each once; the
 * blocks from given on are free and never handed out. */
static int check_ring(const struct run *r)
{
	uint32_t seen[RUN_MAX_BLOCKS / 32] = { 0 };
	uint32_t free = 0;

	for (uint32_t pos = r->head; pos != r->tail; pos++) {
		uint32_t i = run_slot(r)[pos & r->mask].ring;
		if (i >= r->given || run_slot(r)[i].state <= SLACK_MAX || (seen[i / 32] >> (i % 32) & 1))
			return 0;
		seen[i / 32] |= 1u << (i % 32);
	}
	for (uint32_t i = 0; i < r->nblocks; i++) {
		if (i >= r->given && run_slot(r)[i].state <= SLACK_MAX)
			return 0;
		free += i < r->given && run_slot(r)[i].state > SLACK_MAX &&
			run_slot(r)[i].state != STATE_REMOTE;
	}
	return free == run_free_count(r);
}

static int check_run(struct heap *h, const struct run *r, struct page *pg)
{
	size_t bytes = (size_t)pg->npages << PAGE_SHIFT;
	uint32_t slack = 0;

	if (r->span != pg || r->heap != h || r->base != page_addr(pg) || r->cls >= NCLASSES ||
	    r->size != _ba_class_size(r->cls) || r->magic != run_magic(r->size) ||
	    (size_t)r->nblocks * r->size > bytes || r->nblocks > r->mask + 1 ||
	    ((r->mask + 1) & r->mask) || run_free_count(r) > r->given || r->given > r->nblocks ||
	    (!r->window && r->nblocks >= 4) || r->window > r->nblocks / 4 || r->gate != r->tail - r->window ||
	    (bytes > (size_t)r->nblocks * r->size && r->mask < r->nblocks))
		return BAD_RUN;
	for (uint32_t i = r->nblocks; i <= r->mask; i++)
		if (run_slot(r)[i].state != STATE_NONE)
			return BAD_RUN;
	if (!check_ring(r))
		return BAD_QUEUE;
	for (uint32_t i = 0; i < r->nblocks; i++) {
		uint32_t state = run_slot(r)[i].state;
		if (state > SLACK_MAX)
			continue;
		if (state > r->size)
			return BAD_RUN;
		if (!canary_intact(r->base + (uintptr_t)i * r->size, r->size - state, r->size))
			return BAD_CANARY;
		slack += state;
	}
	return slack == r->slack ? OK : BAD_COUNTS;
}

/* One span at pg: the kinds and lengths of its pages, and its contents. */
static int check_span(struct heap *h, struct page *pg, struct tally *t)
{
	size_t n = pg->npages;
	struct run *const *tab = &page_arena(pg)->tab[pg->index];
	const struct run *kind = tab[0], *last = kind == KIND_MEDIUM ? KIND_INNER : kind;

	if ((kind != KIND_FREE && kind != KIND_MEDIUM && !is_run(kind)) ||
	    pg[n - 1].npages != n || pg[n - 1].index != pg->index + n - 1 || (n > 1 && tab[n - 1] != last))
		return BAD_TILING;
	for (size_t i = 1; i + 1 < n; i++) {
		const struct run *k = tab[i];
		if (is_run(kind) ? k != kind : is_run(k) || k == KIND_MEDIUM)
			return BAD_TILING;
	}
	if (kind == KIND_FREE) {
		t->free_spans++;
		t->dirty += pg->dirty == DIRTY ? n << PAGE_SHIFT : 0;
		return OK;
	}
	if (is_run(kind)) {
		t->runs++;
		t->empty_runs += kind->place == RUN_EMPTY;
		t->dirty += kind->place == RUN_EMPTY ? n << PAGE_SHIFT : 0;
		return check_run(h, kind, pg);
	}
	size_t room = n << PAGE_SHIFT;
	if (pg->u.req > room || page_round(pg->u.req ? pg->u.req : 1) != room)
		return BAD_TILING;
	if (!canary_intact(page_addr(pg), pg->u.req, room))
		return BAD_CANARY;
	t->medium_live++;
	t->medium_req += pg->u.req;
	t->medium_in_use += room;
	return OK;
}

static int resident(const struct page *pg)
{
	return pg->dirty == DIRTY;
}

/* Two free spans touch only when one is resident and the other not; the
 * pages of the spans in use add up to used, those of empty and head runs
 * to idle and heads. */
static int check_arena(struct heap *h, struct arena *a, struct tally *t)
{
	int was_free = 0, was_resident = 0, err;
	size_t used = 0, idle = 0, heads = 0;

	for (size_t i = 0; i < a->npages; i += a->pages[i].npages) {
		struct page *pg = &a->pages[i];
		if (pg->index != i || !pg->npages || i + pg->npages > a->npages)
			return BAD_TILING;
		int is_free = page_kind(pg) == KIND_FREE;
		if (is_free && pg->dirty != CLEAN && pg->dirty != DIRTY && pg->dirty != PURGED)
			return BAD_TILING;
		if (was_free && is_free && (was_resident == resident(pg) || h->fixed))
			return BAD_COALESCE;
		was_free = is_free;
		was_resident = is_free && resident(pg);
		used += is_free ? 0 : pg->npages;
		idle += is_run(page_kind(pg)) && page_kind(pg)->place == RUN_EMPTY ? pg->npages : 0;
		heads += is_run(page_kind(pg)) && page_kind(pg)->place == RUN_HEAD ? pg->npages : 0;
		if ((err = check_span(h, pg, t)))
			return err;
	}
	return used == a->used && idle == a->idle && heads == a->heads ? OK : BAD_TILING;
}

/* Every listed span is a free span of h, on the list of its set and its
 * length; the bitmaps say which lists are non-empty; the count matches the
 * walk. */
static int check_free_lists(struct heap *h, struct tally *t)
{
	size_t seen = 0;

	for (unsigned set = 0; set < SPAN_SETS; set++)
		for (unsigned fl = 0; fl < FL_COUNT; fl++)
			for (unsigned sl = 0; sl < (1u << SL_BITS); sl++) {
				struct page *pg = h->free_spans[set][fl][sl], *prev = NULL;
				if (!!pg != !!(h->sl_map[set][fl] & (1u << sl)) ||
				    (h->sl_map[set][fl] && !(h->fl_map[set] & (1u << fl))))
					return BAD_FREE_LIST;
				for (; pg; prev = pg, pg = pg->u.free.next) {
					size_t n = pg->npages, l = n < 8 ? 0 : 31 - (unsigned)__builtin_clz((unsigned)n);
					unsigned want_fl = n < 8 ? 0 : (unsigned)l - SL_BITS + 1;
					unsigned want_sl = n < 8 ? (unsigned)n : (unsigned)(n >> (l - SL_BITS)) & 7;
					if (page_kind(pg) != KIND_FREE || page_arena(pg)->heap != h ||
					    pg->u.free.prev != prev || want_fl != fl || want_sl != sl ||
					    (unsigned)!resident(pg) != set || ++seen > t->free_spans)
						return BAD_FREE_LIST;
				}
			}
	return seen == t->free_spans ? OK : BAD_FREE_LIST;
}

/* Each bin is empty or a head run followed by listed and empty runs of
 * its class; every run of h is in its bin or full (nothing out of
 * quarantine); the triggers wait for what the places say. */
static int check_bins(struct heap *h, struct tally *t)
{
	size_t listed = 0, runs = 0;

	for (unsigned cls = 0; cls < NCLASSES; cls++) {
		for (struct run *r = h->bins[cls], *prev = NULL; r; prev = r, r = r->next) {
			uint32_t free = run_free_count(r);
			int place_ok = prev ? (r->place == RUN_LISTED && free < r->given &&
					       r->trigger == r->head + r->given - 1) ||
						      (r->place == RUN_EMPTY && free == r->given)
					    : r->place == RUN_HEAD;
			if (!place_ok || r->cls != cls || r->prev != prev || r->heap != h || ++listed > t->runs)
				return BAD_BIN;
		}
	}
	for (struct run *r = h->runs, *prev = NULL; r; prev = r, r = r->all_next) {
		if (r->all_prev != prev || ++runs > t->runs)
			return BAD_BIN;
		if (r->place == RUN_FULL && (run_free_count(r) > r->window || r->trigger != r->head + r->window ||
					     (run_free_count(r) && run_first_state(r) != STATE_FREE)))
			return BAD_BIN;
		listed += r->place == RUN_FULL;
	}
	return runs == t->runs && listed == runs && h->empty_runs == t->empty_runs ? OK : BAD_BIN;
}

static int check_large(struct heap *h, size_t *live, size_t *req, size_t *in_use)
{
	struct proc *pr = PROC;
	size_t count = 0;

	for (size_t i = 0; i < pr->large_cap; i++) {
		struct large *l = &pr->large[i];
		if (!l->addr)
			continue;
		if (_ba_large_find((void *)l->addr) != l || l->req > l->mapped || (l->addr & (PAGE - 1)) || !l->heap)
			return BAD_LARGE;
		if (!canary_intact(l->addr, l->req, l->mapped))
			return BAD_CANARY;
		count++;
		if (l->heap == h) {
			++*live;
			*req += l->req;
			*in_use += l->mapped;
		}
	}
	return count == pr->large_count ? OK : BAD_LARGE;
}

/* Each map leaf counts the arenas it names (or is purged and names none),
 * and the count of idle leaves is right; every free metadata piece lies in
 * a shared region, 64-byte aligned, on pages in use by no piece but on
 * none purged where its link is. */
static int check_meta(void)
{
	struct proc *pr = PROC;
	unsigned idle = 0;

	for (size_t i = 0; i < MAP_L1_COUNT; i++) {
		if (!pr->map[i])
			continue;
		unsigned named = 0;
		for (size_t j = 0; j < ((size_t)1 << MAP_L2_BITS); j++)
			named += pr->map[i][j] != NULL;
		if (pr->map_live[i] == MAP_PURGED ? named != 0 : named != pr->map_live[i])
			return BAD_META;
		idle += !pr->map_live[i];
	}
	if (idle != pr->leaves_idle)
		return BAD_META;
	for (size_t k = 0; k <= META_BIG / 64; k++)
		for (void *const *p = pr->meta_free[k]; p; p = *p) {
			const struct meta_region *r = _ba_meta_region(p);
			size_t page = r ? ((uintptr_t)p - (uintptr_t)r) >> PAGE_SHIFT : 0;
			if (!r || r->alone || ((uintptr_t)p & 63) || (r->purged >> page & 1))
				return BAD_META;
		}
	return OK;
}

/* The process: every arena in the map at its own base; the mapped bytes
 * add up; the metadata's own counts are right. */
static int check_proc(void)
{
	struct proc *pr = PROC;
	size_t mapped = 0, kept = 0;

	unsigned arenas = 0;

	for (struct heap *h = pr->heaps_all; h; h = h->next_all) {
		mapped += h->fixed_map;         /* a pool's arenas are in no map */
		for (struct arena *a = h->fixed ? NULL : h->arenas_list, *prev = NULL; a; prev = a, a = a->next) {
			if (arena_of(a->base) != a || (a->base & (ARENA_SIZE - 1)) || a->prev != prev ||
			    a->heap != h)
				return BAD_MAP;
			mapped += ARENA_SIZE;
			arenas++;
		}
	}
	if (arenas != pr->arenas)
		return BAD_MAP;
	for (size_t i = 0; i < pr->large_cap; i++)
		mapped += pr->large[i].addr ? pr->large[i].mapped : 0;
	for (unsigned i = 0; i < LARGE_KEPT; i++)
		kept += pr->kept[i].addr ? pr->kept[i].mapped : 0;
	for (struct meta_region *r = pr->regions; r; r = r->next)
		mapped += PAGE + r->size;
	if (kept != pr->kept_bytes)
		return BAD_DIRTY;
	if (mapped + kept != pr->vm.mapped)
		return BAD_MAPPED;
	return check_meta();
}

static int heap_check(struct heap *h)
{
	struct tally t = { 0 };
	size_t live = 0, req = 0, in_use = 0;
	int err = h->fixed ? OK : check_proc();        /* a pool's check is its own */

	for (struct arena *a = h->arenas_list; a && !err; a = a->next)
		err = check_arena(h, a, &t);
	if (err || (err = check_free_lists(h, &t)) || (err = check_bins(h, &t)) ||
	    (err = check_large(h, &live, &req, &in_use)))
		return err;
	if (t.dirty != h->dirty)
		return BAD_DIRTY;
	return h->big.live == live + t.medium_live && h->big.requested == req + t.medium_req &&
			       h->big.in_use == in_use + t.medium_in_use
		       ? OK
		       : BAD_COUNTS;
}

/* The process's structures hold still under its locks; other heaps' only
 * while their threads do not allocate (docs/DESIGN.md). */
int _ba_heap_check(struct heap *h)
{
	proc_lock(LOCK_PROC);
	proc_lock(LOCK_META);
	int err = heap_check(h);
	proc_unlock(LOCK_META);
	proc_unlock(LOCK_PROC);
	return err;
}

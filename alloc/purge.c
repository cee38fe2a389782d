/* The policy of giving memory back, with hysteresis.  Free pages and empty
 * runs stay resident (dirty) up to a budget; past it the empty runs and
 * arenas go, and the biggest free spans are given back with MADV_DONTNEED
 * until half the budget is left.  The budget starts at DIRTY_MAX and grows,
 * up to DIRTY_CAP, whenever a purged span or a new arena is needed within
 * PURGE_WINDOW span operations of a purge: the program cycles a working
 * set larger than the budget, and purging it would cost a syscall and page
 * faults every cycle.  The growth halves after DECAY_OPS span operations
 * in which the program never needed half the budget (the least dirty
 * seen stayed above it): it has stopped cycling that working set.
 * With no timer in a program without libc, the count of span operations
 * is the clock. */
#include "heap.h"

/* Whether a purge (or an unmapping) came within PURGE_WINDOW span
 * operations: a giving back that is still going on, or about to be
 * undone. */
static int purged_lately(const struct heap *h)
{
	return h->last_purge && h->span_ops - h->last_purge < PURGE_WINDOW;
}

/* span.c took purged pages or a new arena.  Right after a purge that
 * means the purge was undone at once: the budget becomes what was given
 * back in the purges of that episode (released counts from the first
 * purge that followed no other within PURGE_WINDOW), or at least twice
 * what it was, so that one cycle of a working set teaches it the working
 * set's size, and no release long past does. */
void _ba_budget_undo(struct heap *h)
{
	if (!purged_lately(h))
		return;
	size_t budget = dirty_budget(h), want = h->released > 2 * budget ? h->released : 2 * budget;

	h->dirty_grown = (want < DIRTY_CAP ? want : DIRTY_CAP) - DIRTY_MAX;
	h->grown_at = h->span_ops;
	h->dirty_min = h->dirty;
	h->released = 0;
	h->last_purge = 0;      /* once per purge */
}

static void budget_decay(struct heap *h)
{
	if (!h->dirty_grown || h->span_ops - h->grown_at < DECAY_OPS)
		return;
	if (h->dirty_min > dirty_budget(h) / 2)
		h->dirty_grown /= 2;
	h->grown_at = h->span_ops;
	h->dirty_min = h->dirty;
}

/* Unmaps h's arenas with no live block beyond the first `keep`, with the
 * empty runs they hold; whether any went. */
static int drop_idle_arenas(struct heap *h, size_t keep)
{
	int dropped = 0;

	for (struct arena *a = h->arenas_list, *next; a; a = next) {
		next = a->next;
		if (!_ba_arena_is_idle(h, a))
			continue;
		if (keep) {
			keep--;
			continue;
		}
		_ba_release_empty_runs(h, a);
		_ba_arena_drop(h, a);
		dropped = 1;
	}
	return dropped;
}

/* The biggest resident free span of h, or NULL. */
static struct page *biggest_dirty(struct heap *h)
{
	if (!h->fl_map[RESIDENT])
		return NULL;
	unsigned fl = 31 - (unsigned)__builtin_clz(h->fl_map[RESIDENT]);
	return h->free_spans[RESIDENT][fl][31 - __builtin_clz(h->sl_map[RESIDENT][fl])];
}

static void purge_spans(struct heap *h)
{
	struct page *pg;

	while (h->dirty > dirty_budget(h) / 2 && (pg = biggest_dirty(h)))
		if (_ba_purge_span(h, pg))
			return;         /* locked pages: they stay dirty, as they are */
}

/* A purge or an unmapping starts a new episode of giving back unless one
 * came within PURGE_WINDOW span operations (see _ba_budget_undo). */
static void episode(struct heap *h)
{
	if (!purged_lately(h))
		h->released = 0;
}

/* Over budget: empty runs and arenas go back, then dirty free spans are
 * purged until half the budget is left, so that a working set above the
 * budget pays one purge per half budget of frees, not one per free. */
static void purge(struct heap *h)
{
	episode(h);
	_ba_release_empty_runs(h, NULL);
	drop_idle_arenas(h, ARENAS_KEPT);
	purge_spans(h);
	h->last_purge = h->span_ops ? h->span_ops : 1;
	_ba_meta_purge();
}

/* h's thread ends: everything it kept for reuse goes back (its empty
 * runs and arenas, its dirty pages), so that a heap no thread uses holds
 * its live blocks and little else. */
void _ba_heap_trim(struct heap *h)
{
	struct page *pg;

	episode(h);
	_ba_release_empty_runs(h, NULL);
	drop_idle_arenas(h, 0);
	while ((pg = biggest_dirty(h)))
		if (_ba_purge_span(h, pg))
			break;
	h->last_purge = h->span_ops ? h->span_ops : 1;
	_ba_meta_purge();
}

/* After memory came back to h in arena a: a span freed, or a run emptied.
 * When no live block is left in a, h keeps ARENAS_KEPT such arenas, and
 * while the budget has grown (the program cycles) as many more as the
 * growth covers, so that its next cycle finds them mapped; the rest go at
 * once.  A pool keeps everything. */
void _ba_tidy(struct heap *h, struct arena *a)
{
	if (h->fixed)
		return;         /* a pool's memory is its own to keep (pool.c) */
	budget_decay(h);
	size_t keep = ARENAS_KEPT + h->dirty_grown / ARENA_SIZE;

	if (h->arenas > keep && _ba_arena_is_idle(h, a)) {
		episode(h);
		if (drop_idle_arenas(h, keep)) {
			h->last_purge = h->span_ops;
			_ba_meta_purge();       /* what described them */
			return;
		}
	}
	if (h->dirty > dirty_budget(h))
		purge(h);
}

/* Small blocks: 80 size classes up to 64 KiB, each served from runs of
 * equal blocks (struct run in heap.h; the fast paths are in run.h).  This
 * file is their slow side: making a run, keeping the bin lists, and what
 * free's trigger calls for. */
#include "run.h"

uint32_t _ba_class_size(unsigned cls)
{
	if (cls < 16)
		return 16 * (cls + 1);
	uint32_t base = 256u << ((cls - 16) >> 3);
	return base + (base >> 3) * (((cls - 16) & 7) + 1);
}

struct geometry {
	uint32_t nblocks, slots;        /* slots: the ring's capacity, a power of two */
	size_t bytes;
};

static uint32_t pow2_above(uint32_t n)  /* the least power of two >= n */
{
	return n <= 1 ? 1 : 1u << (32 - __builtin_clz(n - 1));
}

/* Above 4 KiB a run is RUN_BIG_BLOCKS blocks, a whole number of pages.
 * Below, it spans about RUN_BYTES.  Up to 256 bytes, where a run has
 * hundreds of blocks and its slots are most of the metadata, a class that
 * does not fill RUN_BYTES exactly gets 2^k - 1 blocks, so that the ring's
 * power of two (the blocks plus the sentinel slot) is used in full; the
 * tail it leaves is one block, under 0.4 %. */
static struct geometry run_geometry(uint32_t size)
{
	struct geometry g;

	if (size > 4096) {
		g.nblocks = RUN_BIG_BLOCKS;
	} else {
		g.nblocks = RUN_BYTES / size;
		if (size <= 256 && g.nblocks * size != RUN_BYTES)
			g.nblocks = pow2_above(g.nblocks + 2) / 2 - 1;
	}
	g.bytes = page_round((size_t)g.nblocks * size);
	g.slots = pow2_above(g.nblocks + (g.bytes > (size_t)g.nblocks * size));
	return g;
}

/* A pool's run is as short as its class allows: the fewest pages that
 * leave at most an eighth of them past the last block, so that a pool of
 * a few pages holds many classes. */
static struct geometry pool_geometry(uint32_t size)
{
	struct geometry g;
	size_t bytes = PAGE;

	while (bytes % size > bytes / 8)
		bytes += PAGE;
	g.nblocks = (uint32_t)(bytes / size);
	g.bytes = bytes;
	g.slots = pow2_above(g.nblocks + (bytes > (size_t)g.nblocks * size));
	return g;
}

/* The quarantine of a class: QUARANTINE_BYTES' worth of its blocks,
 * clamped (docs/DESIGN.md says why these numbers). */
static uint32_t run_window(uint32_t size, uint32_t nblocks)
{
	uint32_t w = QUARANTINE_BYTES / size;

	w = w < QUARANTINE_MIN ? QUARANTINE_MIN : w > QUARANTINE_MAX ? QUARANTINE_MAX : w;
	return w < nblocks / 4 ? w : nblocks / 4;
}

static struct arena *run_arena(const struct run *r)
{
	return page_arena(r->span);
}

/* Moves r to place, keeping the counts of what each place holds: the
 * heap's empty runs and their bytes (counted dirty), and per arena the
 * pages of empty and of head runs (_ba_arena_is_idle). */
static void set_place(struct heap *h, struct run *r, enum run_place place)
{
	struct arena *a = run_arena(r);
	uint32_t n = r->span->npages;

	if (r->place == RUN_EMPTY) {
		h->dirty -= run_bytes(r);
		h->empty_runs--;
		a->idle -= n;
		if (place == RUN_HEAD)
			dirty_taken(h);         /* an empty run serves again */
	}
	a->heads -= r->place == RUN_HEAD ? n : 0;
	r->place = (uint8_t)place;
	if (place == RUN_EMPTY) {
		h->dirty += run_bytes(r);
		h->empty_runs++;
		a->idle += n;
	}
	a->heads += place == RUN_HEAD ? n : 0;
}

/* r became the first run of its list: malloc takes from it, and its
 * trigger waits 2^32 frees (it never needs one). */
static void set_head(struct heap *h, struct run *r)
{
	set_place(h, r, RUN_HEAD);
	r->trigger = r->tail - 1;
}

/* r, which has a block to give or none in use, follows the head: its
 * trigger waits for the free that empties it, unless it is empty already. */
static void set_listed(struct heap *h, struct run *r)
{
	if (run_free_count(r) == r->given) {
		set_place(h, r, RUN_EMPTY);
		r->trigger = r->tail - 1;
	} else {
		set_place(h, r, RUN_LISTED);
		r->trigger = r->head + r->given - 1;
	}
}

static void bin_unlink(struct heap *h, struct run *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else if ((h->bins[r->cls] = r->next))
		set_head(h, r->next);
	if (r->next)
		r->next->prev = r->prev;
}

/* Lists r: first if its class has no run, else right after the head, so
 * that malloc finishes the head's blocks first. */
static void bin_insert(struct heap *h, struct run *r)
{
	struct run *head = h->bins[r->cls];

	if (!head) {
		r->prev = r->next = NULL;
		h->bins[r->cls] = r;
		set_head(h, r);
		return;
	}
	r->prev = head;
	r->next = head->next;
	if (head->next)
		head->next->prev = r;
	head->next = r;
	set_listed(h, r);
}

/* r, listed in its bin, becomes the head, and the head follows it. */
static void make_head(struct heap *h, struct run *r)
{
	struct run *head = h->bins[r->cls];

	if (r == head)
		return;
	bin_unlink(h, r);
	r->prev = NULL;
	r->next = head;
	head->prev = r;
	h->bins[r->cls] = r;
	set_head(h, r);
	set_listed(h, head);
}

/* Whether r's oldest ring entry is a block never handed out, which the
 * slow path may take past the gate: its state says so, not a counter that
 * could come round. */
static int run_unused_first(const struct run *r)
{
	return r->head != r->tail && (run_first_state(r) == STATE_ZERO || run_first_state(r) == STATE_FRESH);
}

/* r, with nothing to give, leaves its bin until enough of its blocks are
 * freed. */
static void set_full(struct heap *h, struct run *r)
{
	bin_unlink(h, r);
	set_place(h, r, RUN_FULL);
	r->trigger = r->head + r->window;       /* the free that lets one out */
}

/* Feeds the ring of the head run r with never-used blocks, FEED_PAGES'
 * worth or as many as it takes to put one before the gate, ahead of the
 * blocks in quarantine (which move on, keeping their order and their
 * distance to the tail, so that each still waits for window later frees).
 * Whether r has a block to take now. */
static int run_feed(struct run *r)
{
	union slot *s = run_slot(r);
	uint32_t queued = run_free_count(r), left = r->nblocks - r->given;
	uint32_t k = FEED_PAGES * PAGE / r->size, need = r->window + 1 - queued;

	k = k > need ? k : need;
	k = k < left ? k : left;
	if (queued || r->head != r->given) {   /* else the entries are in place (run_new) */
		for (uint32_t i = queued; i-- > 0;)
			s[(r->head + k + i) & r->mask].ring = s[(r->head + i) & r->mask].ring;
		for (uint32_t i = 0; i < k; i++)
			s[(r->head + i) & r->mask].ring = (uint16_t)(r->given + i);
	}
	r->given = (uint16_t)(r->given + k);
	r->tail += k;
	r->gate += k;
	r->trigger = r->tail - 1;
	return run_takeable(r);
}

/* A new run, the first of its class's list (which is empty).  No block is
 * in its ring yet: run_feed gives them out FEED_PAGES at a time.  Slot i's
 * ring entry is i, so that until a block is freed feeding writes nothing
 * but the counters. */
static struct run *run_new(struct heap *h, unsigned cls)
{
	uint32_t size = _ba_class_size(cls);
	struct geometry g = h->fixed ? pool_geometry(size) : run_geometry(size);
	size_t meta = run_meta_size(g.slots);
	struct run *r = _ba_meta_alloc(meta);
	struct page *pg = r ? _ba_span_alloc(h, g.bytes >> PAGE_SHIFT) : NULL;

	if (!pg) {
		if (r)
			_ba_meta_free(r, meta);
		return NULL;
	}
	uint32_t state = (uint32_t)(pg->dirty == DIRTY ? STATE_FRESH : STATE_ZERO) << 16;
	for (uint32_t i = 0; i < g.slots; i++)
		run_slot(r)[i].word = i | (i < g.nblocks ? state : (uint32_t)STATE_NONE << 16);
	r->window = (uint8_t)run_window(size, g.nblocks);
	r->gate = -(uint32_t)r->window;
	r->mask = g.slots - 1;
	r->base = page_addr(pg);
	r->magic = run_magic(size);
	r->size = size;
	r->heap = h;
	r->nblocks = (uint16_t)g.nblocks;
	r->cls = (uint8_t)cls;
	r->span = pg;
	_ba_span_mark(pg, pg->npages, r);
	r->all_next = h->runs;
	if (h->runs)
		h->runs->all_prev = r;
	h->runs = r;
	bin_insert(h, r);
	return r;
}

/* The run's span goes back to the spans, its metadata to the regions. */
static void run_drop(struct run *r)
{
	struct heap *h = r->heap;

	if (r->place != RUN_FULL)
		bin_unlink(h, r);
	set_place(h, r, RUN_NEW);
	if (r->all_prev)
		r->all_prev->all_next = r->all_next;
	else
		h->runs = r->all_next;
	if (r->all_next)
		r->all_next->all_prev = r->all_prev;
	_ba_span_free(h, r->span, DIRTY);
	_ba_meta_free(r, run_meta_size(r->mask + 1));
}

/* The head run or the next one of class c, made the head, when its oldest
 * ring entry is a freed block out of quarantine (not a never-used one). */
static struct run *freed_first(struct heap *h, unsigned c)
{
	struct run *r = h->bins[c];

	for (unsigned look = 0; r && look < 2; look++, r = r->next)
		if (run_takeable(r) && !run_unused_first(r)) {
			make_head(h, r);
			return r;
		}
	return NULL;
}

/* The class's head run, with a block to take.  Freed blocks before
 * never-used ones, so that touched pages serve first: the first of the
 * head and the next REFILL_LOOK runs with a block out of quarantine (or a
 * fed block at its ring's head); else, for a request of n bytes (n > 0),
 * the head or next run of a bigger class within a quarter of the size
 * whose oldest entry is a freed block out of quarantine (BORROW_SLACK: its
 * slack is the price of not touching a new page); else the first of the
 * class's runs with never-used
 * blocks, fed; else a new run.  Runs looked at with nothing to give leave
 * the list.  NULL when no memory is left. */
struct run *_ba_bin_refill(struct heap *h, unsigned cls, size_t n)
{
	for (;;) {
		struct run *r = h->bins[cls], *unused = NULL;
		for (unsigned look = 0; r && look <= REFILL_LOOK; look++) {
			struct run *next = r->next;
			if (run_takeable(r) || run_unused_first(r)) {
				make_head(h, r);
				return r;
			}
			if (r->given < r->nblocks)
				unused = unused ? unused : r;
			else
				set_full(h, r);
			r = next;
		}
		for (unsigned c = cls + 1; n && c < NCLASSES && _ba_class_size(c) - n <= n / BORROW_SLACK; c++)
			if ((r = freed_first(h, c)))
				return r;
		if (!unused && !(unused = run_new(h, cls)))
			return NULL;
		make_head(h, unused);
		if (run_feed(unused) || run_unused_first(unused))
			return unused;
		set_full(h, unused);    /* fewer never-used blocks left than its quarantine */
	}
}

/* A pool has no page left for a run of cls: the run of cls or of the
 * least bigger class (whose slack fits a state word, and whose size is a
 * multiple of align) that has a free block, in quarantine or never used,
 * made its class's head.  Filling a pool beats the quarantine. */
struct run *_ba_bin_spare(struct heap *h, unsigned cls, size_t n, size_t align)
{
	struct run *best = NULL;

	for (struct run *r = h->runs; r; r = r->all_next)
		if (r->cls >= cls && r->size - n <= SLACK_MAX && !(r->size & (align - 1)) &&
		    (run_free_count(r) || r->given < r->nblocks) && (!best || r->size < best->size))
			best = r;
	if (!best)
		return NULL;
	if (best->place == RUN_FULL)
		bin_insert(h, best);
	make_head(h, best);
	if (!run_free_count(best))
		run_feed(best);
	return best;
}

/* free's trigger: a block went to ring position r->trigger (enum
 * run_place says why). */
void _ba_run_trigger(struct run *r)
{
	struct heap *h = r->heap;

	switch (r->place) {
	case RUN_FULL:          /* a block out of quarantine: back in the list */
		bin_insert(h, r);
		break;
	case RUN_LISTED:        /* every block free: kept for reuse, as dirty memory */
		set_listed(h, r);
		break;
	default:                /* the counters came round to the trigger: wait again */
		r->trigger = r->tail - 1;
		return;
	}
	if (r->place == RUN_EMPTY)
		_ba_tidy(h, run_arena(r));
}

/* The trigger from free's fast path, which holds no lock. */
void _ba_run_trigger_locked(struct run *r)
{
	struct heap *h = r->heap;

	_ba_os_lock(&h->lock);
	_ba_run_trigger(r);
	_ba_os_unlock(&h->lock);
}

/* Every run of h (in arena a, or anywhere for a NULL) with no live block
 * goes, the heads too, so that their pages serve whatever comes next and
 * do not pin otherwise empty arenas: at a purge, when resident pages are
 * wanted, and when an arena with no live block goes.  Whether any went.
 * The lists are walked only while runs in place RUN_EMPTY remain. */
int _ba_release_empty_runs(struct heap *h, struct arena *a)
{
	int any = 0;

	for (unsigned cls = 0; cls < NCLASSES; cls++) {
		struct run *r;
		while ((r = h->bins[cls]) && run_free_count(r) == r->given && (!a || run_arena(r) == a)) {
			run_drop(r);
			any = 1;
		}
		for (; r && h->empty_runs; r = r->next)
			if (r->place == RUN_EMPTY && (!a || run_arena(r) == a)) {
				struct run *prev = r->prev;
				run_drop(r);
				any = 1;
				r = prev;
			}
	}
	return any;
}

/* Whether arena a of h holds no live block: every page it uses is held
 * by an empty run, listed (a->idle) or at a bin's head (a->heads, which
 * the walk of the heads confirms: only when nothing else is left in a). */
int _ba_arena_is_idle(struct heap *h, struct arena *a)
{
	uint32_t empty_heads = 0;

	if (a->used != a->idle + a->heads)
		return 0;
	for (unsigned cls = 0; a->heads && cls < NCLASSES; cls++) {
		struct run *r = h->bins[cls];
		if (r && run_arena(r) == a && run_free_count(r) == r->given)
			empty_heads += r->span->npages;
	}
	return empty_heads == a->heads;
}

/* realloc moved the block b (of a run) elsewhere: it is freed, and when it
 * was its run's last live block the run goes at once, before any trigger
 * or purge could drop it under realloc's feet, so that a block grown by
 * small steps through the classes leaves one run's pages behind, reused
 * by the next class's run, not one run per class.  (The quarantine ends
 * with the run: docs/DESIGN.md, "Reuse and the double-free window".) */
void _ba_block_let_go(struct heap *h, struct block b, void *p)
{
	struct run *r = b.run;

	if (r->heap != h || r->place == RUN_FULL || run_free_count(r) + 1 != r->given) {
		_ba_block_free(h, b, p, "realloc");
		return;
	}
	struct arena *a = run_arena(r);
	_ba_os_lock(&h->lock);
	run_drop(r);            /* its slots go with it: no need to mark the block */
	_ba_tidy(h, a);
	_ba_os_unlock(&h->lock);
}

/* Forgets every run of h, whose arenas are about to be unmapped. */
void _ba_runs_forget(struct heap *h)
{
	for (struct run *r = h->runs, *next; r; r = next) {
		next = r->all_next;
		_ba_meta_free(r, run_meta_size(r->mask + 1));
	}
}

#ifdef BA_TESTING
#include "hooks.h"

unsigned ba_test_window(size_t n)
{
	uint32_t size = _ba_class_size(size_class(n));

	return run_window(size, run_geometry(size).nblocks);
}

unsigned ba_test_run_blocks(size_t n)
{
	return run_geometry(_ba_class_size(size_class(n))).nblocks;
}
#endif

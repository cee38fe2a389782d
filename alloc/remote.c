/* Frees across threads.  A thread that frees a block of another heap's
 * run or span writes none of that heap's structures: it marks the block
 * with one compare-and-swap (STATE_REMOTE in its slot, or its span's
 * remote byte), so that of two racing frees of one block only one wins
 * and the other aborts, and pushes it on the heap's remote list, a stack
 * linked through the blocks' first words.  The owner takes the whole list
 * with one exchange on its slow path (no pop: no ABA) and frees each block
 * as its own, checking first that it still is marked: a free by the owner
 * racing with a remote one (a double free) is caught there at the latest.
 * A heap no thread owns is collected by the freeing thread itself, under
 * the heap's lock. */
#include "run.h"

/* A block while on a remote list: its first bytes. */
struct remote {
	struct remote *next;
	uint32_t slack;                 /* its state before, for the run's slack sum */
};
_Static_assert(sizeof(struct remote) <= 16, "the smallest block holds the link");

static void push(struct heap *h, struct remote *n)
{
	struct remote *old = __atomic_load_n(&h->remote, __ATOMIC_RELAXED);

	do
		n->next = old;
	while (!__atomic_compare_exchange_n(&h->remote, &old, n, 1, __ATOMIC_SEQ_CST,
					    __ATOMIC_RELAXED));
}

/* After a push to h: a heap left by its thread after the load of owned
 * collects the push itself (thread.c, _ba_heap_detach); else the freeing
 * thread does, under the heap's lock (it holds no other: the order of
 * locks allows the wait). */
static void pushed(struct heap *h)
{
	if (!__atomic_load_n(&h->owned, __ATOMIC_SEQ_CST)) {
		_ba_os_lock(&h->lock);
		if (!__atomic_load_n(&h->owned, __ATOMIC_SEQ_CST)) {
			_ba_remote_collect(h);
			_ba_release_empty_runs(h, NULL);        /* no thread would reuse them */
			if (h->dirty > ORPHAN_DIRTY_MAX)
				_ba_heap_trim(h);
		}
		_ba_os_unlock(&h->lock);
	}
}

/* Block idx of run r at p, of a heap not the caller's, whose state word
 * was slack when it was checked (by free's fast path or the choke point).
 * The compare-and-swap fails if another free came since. */
void _ba_remote_free_small(void *p, struct run *r, uint32_t idx, uint32_t slack)
{
	uint16_t was = (uint16_t)slack;
	struct remote *n = p;

	if (slack > SLACK_MAX || !__atomic_compare_exchange_n(&run_slot(r)[idx].state, &was, STATE_REMOTE, 0,
							      __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		_ba_misuse("free", p, MISUSE_DOUBLE);
	n->slack = slack;
	push(r->heap, n);
	pushed(r->heap);
}

/* b: a live block of another heap, checked by the choke point. */
void _ba_remote_free(struct block *b, void *p)
{
	uint8_t none = 0;

	if (b->run) {
		_ba_remote_free_small(p, b->run, b->idx,
				      __atomic_load_n(&run_slot(b->run)[b->idx].state, __ATOMIC_RELAXED));
		return;
	}
	if (!__atomic_compare_exchange_n(&b->span->remote, &none, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		_ba_misuse("free", p, MISUSE_DOUBLE);
	push(b->heap, p);
	pushed(b->heap);
}

/* Frees n, a block of h marked remote, as h's owner; the next on its list.
 * Anything else at n is a double free: the owner freed it meanwhile (and
 * it may even be in use again: nothing in it is read before the check). */
static struct remote *take_back(struct heap *h, struct remote *n)
{
	struct arena *a = arena_of((uintptr_t)n);
	struct remote *next;
	uintptr_t idx;

	if (!a)         /* the owner freed it too, and its arena went since */
		_ba_misuse("free", n, MISUSE_DOUBLE);
	struct run *r = a->tab[page_index((uintptr_t)n)];
	if (is_run(r) && run_index(r, (uintptr_t)n, &idx)) {
		union slot *s = &run_slot(r)[idx];
		if (s->state != STATE_REMOTE)
			_ba_misuse("free", n, MISUSE_DOUBLE);
		next = n->next;
		r->slack -= n->slack;
		s->state = STATE_FREE;
		run_put(r, idx);
		return next;
	}
	struct page *pg = &a->pages[page_index((uintptr_t)n)];
	if (r != KIND_MEDIUM || !pg->remote)
		_ba_misuse("free", n, MISUSE_DOUBLE);
	next = n->next;
	pg->remote = 0;
	_ba_medium_free(h, pg);
	return next;
}

/* By h's owner, or with h's lock held while no thread owns it.  An empty
 * list is only read. */
void _ba_remote_collect(struct heap *h)
{
	struct remote *n = __atomic_load_n(&h->remote, __ATOMIC_RELAXED);

	if (n)
		n = __atomic_exchange_n(&h->remote, NULL, __ATOMIC_ACQUIRE);
	while (n)
		n = take_back(h, n);
}

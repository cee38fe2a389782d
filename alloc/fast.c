/* The fast paths of malloc and free: a small block of the current heap.
 * Anything else goes to their slow paths in malloc.c, as a tail call, so
 * that the fast paths need no stack frame.  alloc/x86_64/fast.asm replaces
 * this file on x86-64 with the same code scheduled by hand; this file is
 * its reference, and tests/fast.c checks one against the other.
 *
 * Cost per malloc+free pair on x86-64 (callgrind, make bench, net of the
 * loop): this C at -O2 with gcc 12 takes 63 instructions up to 256 bytes
 * and 70 up to 64 KiB, the assembly 55 and 62.  gcc copies registers the
 * hand schedule does not need, and cannot update head and tail in
 * memory. */
#include "run.h"

/* Fast path: a class whose head run, in the caller's heap, has a free
 * block out of quarantine.  Budget (the assembly): 22 instructions up to
 * 256 bytes (the heap's load through the thread pointer is one), 7 more
 * up to 64 KiB for the class. */
void *malloc(size_t n)
{
	size_t m = n - 1;               /* n = 0 wraps: the slow path */
	unsigned cls;

	if (likely(m < 256))
		cls = (unsigned)m >> 4;
	else if (likely(m < SMALL_MAX))
		cls = class_of(m);
	else
		return _ba_malloc_slow(n);
	struct run *r = heap_current()->bins[cls];
	if (unlikely(!r || !run_takeable(r)))
		return _ba_malloc_slow(n);
	return run_take(r, r->head, n);
}

/* Fast path: a live block of a run, with its canary intact when its
 * request left slack (state word 1..SLACK_MAX), which is every check the
 * choke point would make; a block of another heap then goes to its owner
 * (remote.c).  Everything else, NULL included, goes to the choke point.
 * Budget (the assembly): 37 instructions for a block of the caller's heap
 * that its request filled (state 0): the map 17, index and block-start
 * test 5, state 3, owner 3, ring, gate and trigger 8, ret; 14 more to
 * check the canary and the slack sum. */
void free(void *p)
{
	struct arena *a = arena_of((uintptr_t)p);

	if (likely(a)) {
		struct run *r = a->tab[page_index((uintptr_t)p)];
		uintptr_t idx;
		if (likely(run_index(r, (uintptr_t)p, &idx))) {
			uint32_t slack = run_slot(r)[idx].state;
			if (likely(slack == 0) ||
			    (slack <= SLACK_MAX && canary_intact((uintptr_t)p, r->size - slack, r->size))) {
				if (unlikely(r->heap != heap_current())) {
					_ba_remote_free_small(p, r, (uint32_t)idx, slack);
					return;
				}
				r->slack -= slack;
				run_slot(r)[idx].word |= SLOT_FREE;
				run_put_to(r, idx, _ba_run_trigger_locked);
				return;
			}
		}
	}
	_ba_free_slow(p);
}


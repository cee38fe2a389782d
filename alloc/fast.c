/* The fast paths of malloc and free: a small block of the current heap.
 * Anything else goes to their slow paths in malloc.c, as a tail call, so
 * that the fast paths need no stack frame.  alloc/x86_64/fast.asm replaces
 * this file on x86-64 with the same code scheduled by hand; this file is
 * its reference, and tests/fast.c checks one against the other. */
#include "run.h"

/* Fast path: a class with a run that has a free block.  Its budget, from
 * callgrind on x86-64 at -O2 (make bench): about 20 instructions up to
 * 256 bytes, 6 more up to 64 KiB for the class computation.  The slow
 * path is a tail call, so the fast path needs no stack frame. */
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
	uint32_t head = r->head;
	if (unlikely(head == r->tail))
		return _ba_malloc_slow(n);
	return run_take(r, head, n);
}

/* Fast path: a live block of a run whose request filled its class (state
 * word 0, so no canary), which is every check the choke point would make.
 * Everything else, NULL included, goes to the choke point.  Budget: about
 * 35 instructions (callgrind, x86-64, -O2): map lookup 13, index and
 * block-start test 5, state 3, ring and trigger 8. */
void free(void *p)
{
	struct arena *a = arena_of((uintptr_t)p);

	if (likely(a)) {
		struct run *r = a->tab[page_index((uintptr_t)p)];
		uintptr_t idx;
		if (likely(run_index(r, (uintptr_t)p, &idx) && r->slot[idx].state == 0)) {
			r->slot[idx].word |= SLOT_FREE;
			run_put(r, idx);
			return;
		}
	}
	_ba_free_slow(p);
}


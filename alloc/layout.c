/* What the assembly fast paths (alloc/<isa>/fast.asm) need to know of the
 * C structures: offsets and constants, printed as NASM %defines.  The
 * Makefile compiles this file with -S and keeps the lines marked "->" as
 * build/<isa>/layout.inc, so the assembly cannot drift from the C.  It is
 * never linked. */
#include "heap.h"

#define DEFINE(name, value) __asm__ volatile("\n->%%define " #name " %c0" : : "i"((long long)(value)))
#define OFFSET(name, type, field) DEFINE(name, __builtin_offsetof(type, field))

void _ba_layout(void);
void _ba_layout(void)
{
	DEFINE(TLS_HEAP, OS_TLS_HEAP);
	OFFSET(HEAP_BINS, struct heap, bins);
	OFFSET(STATE_MAP, union ba_state, proc.map);
	OFFSET(STATE_SECRET, union ba_state, proc.secret);
	OFFSET(ARENA_TAB, struct arena, tab);
	OFFSET(RUN_HEAD, struct run, head);
	OFFSET(RUN_TAIL, struct run, tail);
	OFFSET(RUN_GATE, struct run, gate);
	OFFSET(RUN_MASK, struct run, mask);
	OFFSET(RUN_TRIGGER, struct run, trigger);
	OFFSET(RUN_BASE, struct run, base);
	OFFSET(RUN_MAGIC, struct run, magic);
	OFFSET(RUN_SIZE, struct run, size);
	OFFSET(RUN_SLACK, struct run, slack);
	OFFSET(RUN_HEAP, struct run, heap);
	DEFINE(RUN_SLOT, sizeof(struct run));         /* run_slot() */
	OFFSET(SLOT_STATE, union slot, state);
	DEFINE(STATE_FREE, STATE_FREE);
	DEFINE(SLACK_MAX, SLACK_MAX);
	DEFINE(SMALL_MAX, SMALL_MAX);
	DEFINE(PAGE_SHIFT, PAGE_SHIFT);
	DEFINE(ARENA_SHIFT, ARENA_SHIFT);
	DEFINE(ARENA_PAGES, ARENA_PAGES);
	DEFINE(MAP_L1_SHIFT, MAP_L1_SHIFT);
	DEFINE(MAP_L1_COUNT, MAP_L1_COUNT);
	DEFINE(MAP_L2_MASK, ((uintptr_t)1 << MAP_L2_BITS) - 1);
}

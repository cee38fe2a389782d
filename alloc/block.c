/* The choke point: every pointer that comes into free, realloc or
 * malloc_usable_size is checked here, out of band, before anything is
 * written (free's fast path in malloc.c takes only what passes the same
 * run_index and a zero state word, and sends everything else here).  The
 * reasons for an abort and their messages are all in this file. */
#include "run.h"

static const char *const why[] = {
	[MISUSE_FOREIGN] = "invalid pointer (not from barealloc)",
	[MISUSE_INTERIOR] = "not the start of a block",
	[MISUSE_DOUBLE] = "double free",
	[MISUSE_OVERFLOW] = "overflow past the end of the block",
	[MISUSE_HEAP] = "block of another heap",
};

static _Noreturn void misuse(const char *fn, const void *p, enum misuse m)
{
	_ba_os_misuse(fn, p, why[m]);
}

/* A block of run r: a block start, live, with its canary intact. */
static struct block run_block(struct run *r, const void *p, const char *fn)
{
	uintptr_t idx;

	if (!run_index(r, (uintptr_t)p, &idx))
		misuse(fn, p, MISUSE_INTERIOR);
	unsigned state = run_slot(r)[idx].state;
	if (state == STATE_NONE)
		misuse(fn, p, MISUSE_INTERIOR);
	if (state > SLACK_MAX)
		misuse(fn, p, MISUSE_DOUBLE);
	if (!canary_intact((uintptr_t)p, r->size - state, r->size))
		misuse(fn, p, MISUSE_OVERFLOW);
	return (struct block){ r->heap, r, (uint32_t)idx, NULL, NULL };
}

/* A medium block: the first byte of a medium span's first page.  A pointer
 * into a free span is a double free. */
static struct block span_block(struct arena *a, struct run *kind, struct page *pg, const void *p, const char *fn)
{
	if (kind != KIND_MEDIUM || ((uintptr_t)p & (PAGE - 1)))
		misuse(fn, p, page_kind(_ba_span_containing(a, pg)) == KIND_FREE ? MISUSE_DOUBLE
										       : MISUSE_INTERIOR);
	if (!canary_intact((uintptr_t)p, pg->u.req, (size_t)pg->npages << PAGE_SHIFT))
		misuse(fn, p, MISUSE_OVERFLOW);
	return (struct block){ a->heap, NULL, 0, pg, NULL };
}

struct block _ba_block_of(const void *p, const char *fn)
{
	uintptr_t addr = (uintptr_t)p;
	struct arena *a = arena_of(addr);

	if (a) {
		struct run *r = a->tab[page_index(addr)];
		return is_run(r) ? run_block(r, p, fn) : span_block(a, r, &a->pages[page_index(addr)], p, fn);
	}
	struct large *l = _ba_large_find(p);
	if (!l)
		misuse(fn, p, _ba_large_misuse(p));
	if (!canary_intact(l->addr, l->req, l->mapped))
		misuse(fn, p, MISUSE_OVERFLOW);
	return (struct block){ l->heap, NULL, 0, NULL, l };
}

/* As _ba_block_of, and the block must be h's. */
struct block _ba_heap_block(struct heap *h, const void *p, const char *fn)
{
	struct block b = _ba_block_of(p, fn);

	if (b.heap != h)
		misuse(fn, p, MISUSE_HEAP);
	return b;
}

/* The usable size of a live block is exactly what was asked for. */
size_t _ba_block_usable(struct block b)
{
	if (b.run)
		return b.run->size - run_slot(b.run)[b.idx].state;
	return b.span ? b.span->u.req : b.large->req;
}

void _ba_block_free(struct block b)
{
	if (b.run) {
		union slot *s = &run_slot(b.run)[b.idx];
		b.run->slack -= s->state;
		s->state = STATE_FREE;
		run_put(b.run, b.idx);
	} else if (b.span) {
		_ba_medium_free(b.heap, b.span);
	} else {
		_ba_large_free(b.large);
	}
}

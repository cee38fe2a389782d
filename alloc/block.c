/* The choke point: every pointer that comes into free, realloc or
 * malloc_usable_size is checked here, out of band, before anything is
 * written (free's fast path in fast.c takes only what passes the same
 * run_index, state word and canary, and sends everything else here).  The
 * reasons for an abort and their messages are all in this file; remote.c
 * and large.c, which find a double free after this check, report through
 * _ba_misuse. */
#include "run.h"

static const char *const why[] = {
	[MISUSE_FOREIGN] = "invalid pointer (not from barealloc)",
	[MISUSE_INTERIOR] = "not the start of a block",
	[MISUSE_DOUBLE] = "double free",
	[MISUSE_OVERFLOW] = "overflow past the end of the block",
	[MISUSE_HEAP] = "block of another heap",
	[MISUSE_POOL] = "not a pool",
};

const char *_ba_misuse_text(enum misuse m)
{
	return why[m];
}

_Noreturn void _ba_misuse(const char *fn, const void *p, enum misuse m)
{
	_ba_os_misuse(fn, p, why[m]);
}

/* A canary found broken: an overflow, unless the block's owner freed it
 * while this thread looked (another thread's free racing the owner's),
 * and its pages were given back or reused under the canary. */
static enum misuse freed_meanwhile(int freed)
{
	return freed ? MISUSE_DOUBLE : MISUSE_OVERFLOW;
}

/* A block of run r: a block start, live, with its canary intact. */
static enum misuse run_block(struct run *r, const void *p, struct block *b)
{
	uintptr_t idx;

	if (!run_index(r, (uintptr_t)p, &idx))
		return MISUSE_INTERIOR;
	unsigned state = run_slot(r)[idx].state;
	if (state == STATE_NONE)
		return MISUSE_INTERIOR;
	if (state > SLACK_MAX)
		return MISUSE_DOUBLE;
	if (!canary_intact((uintptr_t)p, r->size - state, r->size))
		return freed_meanwhile(run_slot(r)[idx].state != state);
	*b = (struct block){ r->heap, r, (uint32_t)idx, NULL, { 0 } };
	return MISUSE_NONE;
}

/* A medium block: the first byte of a medium span's first page.  A pointer
 * into a free span is a double free. */
static enum misuse span_block(struct arena *a, struct run *kind, struct page *pg, const void *p, struct block *b)
{
	if (kind != KIND_MEDIUM || ((uintptr_t)p & (PAGE - 1)))
		return page_kind(_ba_span_containing(a, pg)) == KIND_FREE ? MISUSE_DOUBLE : MISUSE_INTERIOR;
	if (__atomic_load_n(&pg->remote, __ATOMIC_RELAXED))
		return MISUSE_DOUBLE;
	if (!canary_intact((uintptr_t)p, pg->u.req, (size_t)pg->npages << PAGE_SHIFT))
		return freed_meanwhile(__atomic_load_n(&a->tab[pg - a->pages], __ATOMIC_ACQUIRE) != KIND_MEDIUM);
	*b = (struct block){ a->heap, NULL, 0, pg, { 0 } };
	return MISUSE_NONE;
}

/* p is in one of a's pages. */
enum misuse _ba_arena_block(struct arena *a, const void *p, struct block *b)
{
	size_t i = ((uintptr_t)p - a->base) >> PAGE_SHIFT;
	struct run *r = a->tab[i];

	return is_run(r) ? run_block(r, p, b) : span_block(a, r, &a->pages[i], p, b);
}

/* What p is: a live block (MISUSE_NONE, and *b says which), or what is
 * wrong with it.  A pointer into a pool is another heap's. */
enum misuse _ba_block_find(const void *p, struct block *b)
{
	struct arena *a = arena_of((uintptr_t)p);

	if (a)
		return _ba_arena_block(a, p, b);
	*b = (struct block){ 0 };
	enum misuse m = _ba_large_get(p, &b->large);
	b->heap = b->large.heap;
	return m && _ba_pool_holds(p) ? MISUSE_HEAP : m;
}

struct block _ba_block_of(const void *p, const char *fn)
{
	struct block b;
	enum misuse m = _ba_block_find(p, &b);

	if (m)
		_ba_misuse(fn, p, m);
	return b;
}

/* As _ba_block_of, and the block must be h's. */
struct block _ba_heap_block(struct heap *h, const void *p, const char *fn)
{
	struct block b = _ba_block_of(p, fn);

	if (b.heap != h)
		_ba_misuse(fn, p, MISUSE_HEAP);
	return b;
}

/* The usable size of a live block is exactly what was asked for. */
size_t _ba_block_usable(struct block b)
{
	if (b.run)
		return b.run->size - run_slot(b.run)[b.idx].state;
	return b.span ? b.span->u.req : b.large.req;
}

/* Gives back block b of heap h, whose lock the caller holds. */
void _ba_block_put(struct heap *h, struct block b)
{
	if (b.run) {
		union slot *s = &run_slot(b.run)[b.idx];
		b.run->slack -= s->state;
		s->state = STATE_FREE;
		run_put(b.run, b.idx);
	} else {
		_ba_medium_free(h, b.span);
	}
}

/* Frees block b at p for heap h, the caller's.  b may be of another heap,
 * whose owner takes the block back (remote.c); a large block any thread
 * frees at once. */
void _ba_block_free(struct heap *h, struct block b, void *p, const char *fn)
{
	if (b.large.addr) {
		_ba_large_free(p, fn);
	} else if (b.heap != h) {
		_ba_remote_free(&b, p);
	} else {
		_ba_os_lock(&h->lock);
		_ba_block_put(h, b);
		_ba_os_unlock(&h->lock);
	}
}

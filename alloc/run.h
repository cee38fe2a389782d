/* The fast paths, inline: size classes, the map lookup, a block's index,
 * the canary, and taking or giving back one block of a run.  malloc and
 * free (fast.c) are built from these, and the choke point that checks
 * every pointer (block.c) uses the same lookup and index. */
#ifndef BA_RUN_H
#define BA_RUN_H

#include "heap.h"

/* Size classes: 16..256 by 16, then 8 classes per doubling, so a request
 * just above a class wastes at most 1/9 of its block above 128 bytes, and
 * at most 15 bytes (the 16-byte alignment) below.  m is n - 1, for n in
 * 1..SMALL_MAX: one unsigned compare on it is the small-size test. */
static inline unsigned class_of(size_t m)
{
	if (m < 256)
		return (unsigned)m >> 4;
	unsigned l = (unsigned)__builtin_clzl(m) ^ (unsigned)__builtin_clzl(1);      /* log2(m) */
	return 8 * l - 48 + (unsigned)((m >> (l - 3)) & 7);
}

static inline unsigned size_class(size_t n)
{
	return class_of(n ? n - 1 : 0);
}

/* The arena that holds address p, or NULL: p itself is never read. */
static inline struct arena *arena_of(uintptr_t p)
{
	uint64_t l1 = (uint64_t)p >> MAP_L1_SHIFT;

	if (l1 >= MAP_L1_COUNT)
		return NULL;
	struct arena **leaf = PROC->map[l1];
	return leaf ? leaf[(p >> ARENA_SHIFT) & (((uintptr_t)1 << MAP_L2_BITS) - 1)] : NULL;
}

static inline size_t page_index(uintptr_t p)
{
	return (p >> PAGE_SHIFT) & (ARENA_PAGES - 1);
}

/* The tab entry of p's page (a run or a kind descriptor), or NULL when p
 * is in no arena. */
static inline struct run *run_of(uintptr_t p)
{
	struct arena *a = arena_of(p);

	return a ? a->tab[page_index(p)] : NULL;
}

/* Whether p is the start of a block of r (never, for a kind descriptor),
 * and its index.  p is in one of r's pages, so p - base is below 2^19. */
#if __SIZEOF_POINTER__ == 8
/* magic = ceil(2^64 / size).  For an offset below 2^32, the high half of
 * offset * magic is offset / size, and the low half is below magic exactly
 * when size divides the offset (Lemire, Kaser, Kurz: "Faster remainder by
 * direct computation", 2019): one mul gives both. */
static inline int run_index(const struct run *r, uintptr_t p, uintptr_t *idx)
{
	unsigned __int128 x = (unsigned __int128)(p - r->base) * r->magic;

	*idx = (uintptr_t)(x >> 64);
	return (uint64_t)x < r->magic;
}
#else
/* magic = ceil(2^32 / size): the product's high half is exact for every
 * block start, and multiplying back rejects any other offset. */
static inline int run_index(const struct run *r, uintptr_t p, uintptr_t *idx)
{
	uint32_t off = p - r->base;

	*idx = (uint32_t)(((uint64_t)off * r->magic) >> 32);
	return *idx * r->size == off;
}
#endif

static inline uintptr_t run_magic(uint32_t size)
{
	return (uintptr_t)-1 / size + 1;
}

/* The canary is the byte just past a request that is smaller than its
 * block: never zero (the most common overflow writes a terminating NUL),
 * and different per address and per process. */
static inline uint8_t canary(uintptr_t end)
{
	return (uint8_t)((PROC->secret ^ (end >> 4)) | 1);
}

static inline void canary_set(uintptr_t p, size_t n, size_t room)
{
	if (n < room)
		((uint8_t *)p)[n] = canary(p + n);
}

static inline int canary_intact(uintptr_t p, size_t n, size_t room)
{
	return n >= room || ((const uint8_t *)p)[n] == canary(p + n);
}

/* Whether r's ring has a block before its gate, out of quarantine: head
 * precedes gate (the counters run free, so it is the sign of the
 * difference). */
static inline int run_takeable(const struct run *r)
{
	return (int32_t)(r->head - r->gate) < 0;
}

/* Takes the oldest free block of r (run_takeable) for a request of n
 * bytes, n <= size and size - n <= SLACK_MAX. */
static inline void *run_take(struct run *r, uint32_t head, size_t n)
{
	uint32_t idx = run_slot(r)[head & r->mask].ring;
	uint32_t size = r->size, slack = size - (uint32_t)n;
	uintptr_t p = r->base + (uintptr_t)idx * size;

	r->head = head + 1;     /* before the state: a fork in between loses the block */
	__atomic_signal_fence(__ATOMIC_RELEASE);
	run_slot(r)[idx].state = (uint16_t)slack;
	if (unlikely(slack)) {
		r->slack += slack;
		((uint8_t *)p)[n] = canary(p + n);
	}
	return (void *)p;
}

/* Gives block idx back to r, whose state word the caller has set free;
 * fire is _ba_run_trigger, or on the fast path, where the heap is not
 * locked, _ba_run_trigger_locked. */
static inline void run_put_to(struct run *r, uintptr_t idx, void (*fire)(struct run *))
{
	uint32_t tail = r->tail;

	/* The entry is written before tail moves past it: a fork in the
	 * middle leaves the child a block lost, never a stale entry in the
	 * ring (docs/DESIGN.md, Threads). */
	run_slot(r)[tail & r->mask].ring = (uint16_t)idx;
	__atomic_signal_fence(__ATOMIC_RELEASE);
	r->tail = tail + 1;
	r->gate++;
	if (unlikely(tail == r->trigger))
		fire(r);
}

static inline void run_put(struct run *r, uintptr_t idx)
{
	run_put_to(r, idx, _ba_run_trigger);
}

/* The state of the block at r's ring head (r has a free block). */
static inline uint16_t run_first_state(const struct run *r)
{
	return run_slot(r)[run_slot(r)[r->head & r->mask].ring].state;
}

static inline uint32_t run_free_count(const struct run *r)
{
	return r->tail - r->head;
}

static inline size_t run_bytes(const struct run *r)
{
	return (size_t)r->span->npages << PAGE_SHIFT;
}

/* ---- The choke point (block.c) ------------------------------------------ */

/* What a pointer is: a block of a run, a medium span or a large mapping
 * (a copy of its entry), exactly one of run, span and large.addr set, and
 * the heap that owns it. */
struct block {
	struct heap *heap;
	struct run *run;
	uint32_t idx;
	struct page *span;
	struct large large;
};

#pragma GCC visibility push(hidden)
/* Aborts, naming fn, unless p is the start of a live block with its canary
 * intact; writes nothing before that. */
struct block _ba_block_of(const void *p, const char *fn);
enum misuse _ba_block_find(const void *p, struct block *b);
enum misuse _ba_arena_block(struct arena *a, const void *p, struct block *b);
int _ba_pool_holds(const void *p);      /* pool.c: whether p is in a pool's pages */
struct block _ba_heap_block(struct heap *h, const void *p, const char *fn);
size_t _ba_block_usable(struct block b);
void _ba_block_put(struct heap *h, struct block b);
void _ba_block_free(struct heap *h, struct block b, void *p, const char *fn);
void *_ba_block_resize(struct block b, void *p, size_t n, int keep);
struct run *_ba_bin_spare(struct heap *h, unsigned cls, size_t n, size_t align);
void _ba_block_let_go(struct heap *h, struct block b, void *p);
#pragma GCC visibility pop

#endif

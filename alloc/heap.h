/* barealloc's data structures.  docs/DESIGN.md explains the design; each
 * invariant is stated once, here, beside its struct, and ba_check()
 * (check.c) verifies every one of them. */
#ifndef BA_HEAP_H
#define BA_HEAP_H

#include "barealloc.h"
#include "ba_sys.h"

/* ---- Tunables ---------------------------------------------------------- */
#define ARENA_SHIFT     22              /* 4 MiB arenas, aligned to their size */
#define SMALL_MAX       65536           /* largest request served by a size class */
#define MEDIUM_MAX      (1u << 20)      /* largest span; above it, a mapping per block */
#define DIRTY_MAX       (8u << 20)      /* free arena bytes kept resident before a purge ... */
#define DIRTY_CAP       ((size_t)(sizeof(void *) == 8 ? 1024 : 256) << 20)
					/* ... doubling up to this when purges are undone at once */
#define PURGE_WINDOW    4096            /* span operations after a purge that count as "at once" */
#define ARENAS_KEPT     1               /* empty arenas kept mapped */
#define LARGE_KEPT      4               /* freed large mappings kept for reuse ... */
#define LARGE_KEPT_MAX  (16u << 20)     /* ... up to this many bytes in all */
#define META_REGION     (256u << 10)    /* metadata is carved from regions this big */

/* ---- Derived: do not edit below ---------------------------------------- */
#define ARENA_SIZE      ((size_t)1 << ARENA_SHIFT)
#define NCLASSES        80              /* 16..256 by 16, then 8 per doubling to 64 KiB */
#define FREE_MARK       0xffff          /* run state[]: the block is free */
#define SL_BITS         3               /* spans: 8 lists per power of two of pages */
#define FL_COUNT        (ARENA_SHIFT - 12 + 1)
#define MAP_L2_BITS     13
#define MAP_L1_COUNT    (sizeof(void *) == 8 ? 1u << (48 - ARENA_SHIFT - MAP_L2_BITS) : 1u)
#define META_BIG        65536           /* metadata above this gets its own mapping */

#define likely(x)       __builtin_expect(!!(x), 1)
#define unlikely(x)     __builtin_expect(!!(x), 0)

/* A run: one span of pages cut into blocks of one size class.
 * - Block i is at base + i * size, for i < nblocks.
 * - Blocks fresh..nblocks-1 have never been handed out.  Below fresh,
 *   state[i] is FREE_MARK while block i is free, else size - requested
 *   (the slack; when it is non-zero, the byte just past the request holds
 *   the block's canary).
 * - queue[] is a ring of the nfree free blocks below fresh, each once,
 *   oldest at qhead.  malloc takes a never-used block first, then the
 *   oldest free one, so a freed block stays free (and a second free of it
 *   detectable) for as long as possible.
 * - listed: the run is on its bin's list.  Every run with a free block is
 *   listed; a full run may stay listed until malloc meets it.
 * - zeroed: the span was zero when the run was made, so a block that has
 *   never been handed out reads as zero (calloc skips the memset). */
struct run {
	uintptr_t base;
	uint32_t size;
	uint32_t recip;         /* 2^32 / size, rounded up: index without division */
	uint16_t nblocks, nfree, qhead, fresh;
	uint8_t cls, zeroed, listed;
	struct run *next, *prev;
	struct page *span;
	uint16_t queue[];       /* nblocks entries, then state[nblocks] */
};

static inline uint16_t *run_state(struct run *r)
{
	return r->queue + r->nblocks;
}

static inline size_t run_meta_size(unsigned nblocks)
{
	return sizeof(struct run) + 4 * (size_t)nblocks;
}

/* One page of an arena, out of band.  Spans tile the arena: a span's first
 * and last pages hold its length (npages) and its kind (the last page of a
 * medium span says SPAN_INNER), and no two free spans touch.  Every page
 * of a run is SPAN_RUN and points to the run.  The pages between the first
 * and last of a free or medium span are not kept up to date, except that
 * none of them is ever SPAN_RUN or SPAN_MEDIUM: so a pointer into them
 * always ends in an abort, and free and malloc of a medium block cost O(1).
 * A free span is on the list free_spans[fl][sl] of its length; its first
 * page holds the links.  A free span's dirty says what its pages hold:
 * CLEAN (never used), DIRTY (old data, still resident) or PURGED (given
 * back with MADV_DONTNEED).  CLEAN and PURGED pages read as zero. */
enum { CLEAN, DIRTY, PURGED };
enum { SPAN_FREE = 1, SPAN_RUN, SPAN_MEDIUM, SPAN_INNER };

struct page {
	union {
		struct { struct page *next, *prev; } free;  /* SPAN_FREE, first page */
		struct run *run;                            /* SPAN_RUN, every page */
		size_t req;                                 /* SPAN_MEDIUM: bytes asked for */
	} u;
	uint32_t npages;
	uint16_t index;         /* this page's number in its arena */
	uint8_t kind, dirty;
};

/* An arena: ARENA_SIZE bytes of address space at base, aligned to its size,
 * registered in the heap's map; its page table lives out of band. */
struct arena {
	uintptr_t base;
	struct arena *next;
	uint32_t npages;
	struct page pages[];
};

/* A large block: its own mapping, found through the open-addressed table
 * large[] (linear probing, at most half full, no tombstones). */
struct large {
	uintptr_t addr;         /* 0: empty slot */
	size_t mapped;          /* the mapping's length */
	size_t req;
};

/* A region of metadata: a guard page, then this header, then what was
 * carved from it.  Every metadata byte lives in one of these, so no user
 * block is ever adjacent below metadata. */
struct meta_region {
	struct meta_region *next;
	size_t size;            /* usable bytes after the guard */
};

/* The heap: all of barealloc's state.  st holds the counts of kernel calls
 * and of mapped and dirty bytes, kept as they change (on slow paths only);
 * ba_stats adds the per-block totals by walking the heap, so that malloc
 * and free count nothing. */
struct heap {
	int ready;
	unsigned page_shift;
	size_t page;
	uintptr_t secret;                       /* from AT_RANDOM */

	struct run *bins[NCLASSES];             /* runs with a free block; head first */

	struct page *free_spans[FL_COUNT][1 << SL_BITS];
	size_t dirty_budget;                    /* DIRTY_MAX .. DIRTY_CAP, see span.c */
	unsigned long span_ops, last_purge;     /* a clock of span operations */
	size_t released;                        /* bytes purged or unmapped since the budget grew */
	int purging;
	uint32_t fl_map;
	uint8_t sl_map[FL_COUNT];
	struct arena *arenas;
	struct arena **map[MAP_L1_COUNT];      /* [addr >> 35][(addr >> 22) & 8191] */

	struct large *large;
	size_t large_cap, large_count;
	struct large kept[LARGE_KEPT];          /* freed mappings, addr 0 = empty */
	uintptr_t unmapped[16];                 /* recently unmapped large blocks, a ring */
	unsigned unmapped_next;

	struct meta_region *regions;
	char *meta_bump, *meta_end;
	void *meta_free[META_BIG / 64 + 1];     /* freed metadata, by size / 64 */

	struct ba_stats st;
};

/* The heap has whole pages to itself, so that ba_test_seal can make it
 * read-only without touching anything else. */
union heap_pages {
	struct heap h;
	char pages[(sizeof(struct heap) + 4095) & ~(size_t)4095];
};
extern union heap_pages ba_heap_pages;
#define ba_heap (ba_heap_pages.h)

/* os.c: the only bridge to the kernel.  Lengths are multiples of the page
 * size; os_map returns zeroed memory aligned to align (a power of two, at
 * least the page size) or NULL. */
void *os_map(struct heap *h, size_t len, size_t align);
void os_unmap(struct heap *h, void *p, size_t len);
void *os_remap(struct heap *h, void *p, size_t old, size_t len);
void os_purge(struct heap *h, void *p, size_t len);
int os_protect(void *p, size_t len, int prot);
_Noreturn void ba_misuse(const char *fn, const void *p, const char *why);

/* heap.c */
struct heap *heap_get(void);
static inline size_t page_round(struct heap *h, size_t n)
{
	return (n + h->page - 1) & ~(h->page - 1);
}

/* meta.c */
void *meta_alloc(struct heap *h, size_t size);
void meta_free(struct heap *h, void *p, size_t size);
void meta_purge(struct heap *h);
int map_set(struct heap *h, uintptr_t addr, struct arena *a);

/* span.c */
struct page *span_alloc(struct heap *h, size_t npages);
void span_mark(struct page *pg, size_t n, uint8_t kind);
void span_ends(struct page *pg, size_t n, uint8_t kind);
struct page *span_containing(struct arena *a, struct page *pg);
void span_free(struct heap *h, struct page *pg);
int span_grow(struct heap *h, struct page *pg, size_t npages);
void span_shrink(struct heap *h, struct page *pg, size_t npages);
struct arena *page_arena(struct page *pg);
static inline uintptr_t page_addr(struct heap *h, struct page *pg)
{
	return page_arena(pg)->base + ((uintptr_t)pg->index << h->page_shift);
}

/* small.c, with the fast paths inline below */
uint32_t class_size(unsigned cls);
void *small_alloc_slow(struct heap *h, unsigned cls, size_t n);
void small_free_slow(struct heap *h, struct run *r);
void small_resize(struct heap *h, struct run *r, size_t idx, size_t n);
size_t small_check(struct run *r, const void *p, const char *fn);
void small_release_empty(struct heap *h);

/* medium.c */
void *medium_alloc(struct heap *h, size_t n, size_t align, int *zero);
struct page *medium_page(struct heap *h, struct arena *a, const void *p, const char *fn);
int medium_resize(struct heap *h, struct page *pg, size_t n);

/* The canary is the byte just past a request that is smaller than its
 * block: never zero (the most common overflow writes a terminating NUL),
 * and different per address and per process. */
static inline uint8_t canary(struct heap *h, uintptr_t end)
{
	return (uint8_t)((h->secret ^ (end >> 4)) | 1);
}

/* Writes the canary after a request of n bytes in a block of room bytes,
 * when there is room for it. */
static inline void canary_set(struct heap *h, uintptr_t p, size_t n, size_t room)
{
	if (n < room)
		((uint8_t *)p)[n] = canary(h, p + n);
}

static inline int canary_intact(struct heap *h, uintptr_t p, size_t n, size_t room)
{
	return n >= room || ((const uint8_t *)p)[n] == canary(h, p + n);
}

/* 16..256 by 16, then 8 classes per doubling: a request just above a class
 * wastes at most 1/9 of its block above 128 bytes, and at most 15 bytes
 * (the 16-byte alignment) below. */
static inline unsigned size_class(size_t n)
{
	if (n <= 256)
		return n ? (unsigned)(n - 1) >> 4 : 0;
	unsigned l = 31 - (unsigned)__builtin_clz((unsigned)(n - 1));
	return 16 + (l - 8) * 8 + (unsigned)(((n - 1) >> (l - 3)) & 7);
}

/* The fast path of malloc for a small block: a never-used block of the
 * class's first run, else its oldest free block. */
static inline void *small_alloc(struct heap *h, unsigned cls, size_t n)
{
	struct run *r = h->bins[cls];
	unsigned idx;

	if (unlikely(!r))
		return small_alloc_slow(h, cls, n);
	unsigned nblocks = r->nblocks, fresh = r->fresh, nfree = r->nfree;
	if (fresh < nblocks) {
		idx = fresh;
		r->fresh = (uint16_t)(fresh + 1);
	} else if (likely(nfree)) {
		unsigned head = r->qhead;
		idx = r->queue[head];
		r->qhead = (uint16_t)(head + 1 == nblocks ? 0 : head + 1);
		r->nfree = (uint16_t)(nfree - 1);
	} else {
		return small_alloc_slow(h, cls, n);
	}
	uint32_t size = r->size;
	uintptr_t p = r->base + (uintptr_t)idx * size;
	r->queue[nblocks + idx] = (uint16_t)(size - n);     /* run_state(r)[idx] */
	canary_set(h, p, n, size);
	return (void *)p;
}

/* Whether the block that small_alloc is about to return reads as zero:
 * a never-used block of a run made from clean pages. */
static inline int small_next_is_zero(struct heap *h, unsigned cls)
{
	struct run *r = h->bins[cls];

	return r && r->fresh < r->nblocks && r->zeroed;
}

/* The block index of p in run r, after checking that p is the start of a
 * live block whose canary is intact; an abort otherwise.  The index comes
 * from a multiplication by 2^32 / size: exact for every block start, and
 * any other offset fails the check below. */
static inline size_t small_index(struct run *r, const void *p, const char *fn)
{
	uintptr_t off = (uintptr_t)p - r->base;
	size_t idx = (size_t)(((uint64_t)(uint32_t)off * r->recip) >> 32);

	if (unlikely((idx >= r->nblocks) | (idx * r->size != off)))
		ba_misuse(fn, p, "not the start of a block");
	unsigned slack = run_state(r)[idx];
	if (unlikely(slack == FREE_MARK))
		ba_misuse(fn, p, "double free");
	if (unlikely(!canary_intact(&ba_heap, (uintptr_t)p, r->size - slack, r->size)))
		ba_misuse(fn, p, "overflow past the end of the block");
	return idx;
}

/* The fast path of free for a small block, after small_index checked it.
 * An empty run at the head of its bin is kept without a call: it is the
 * one the next malloc of its class uses. */
static inline void small_free(struct heap *h, struct run *r, size_t idx)
{
	unsigned nblocks = r->nblocks, nfree = r->nfree, tail = r->qhead + nfree;

	r->queue[nblocks + idx] = FREE_MARK;                /* run_state(r)[idx] */
	r->queue[tail >= nblocks ? tail - nblocks : tail] = (uint16_t)idx;
	r->nfree = (uint16_t)++nfree;
	if (unlikely(!r->listed || (nfree == r->fresh && h->bins[r->cls] != r)))
		small_free_slow(h, r);
}

/* The arena that owns p, or NULL: two loads, no access to p itself. */
static inline struct arena *arena_of(struct heap *h, const void *p)
{
	uintptr_t i = (uintptr_t)p >> ARENA_SHIFT;

	if (i >> MAP_L2_BITS >= MAP_L1_COUNT)
		return NULL;
	struct arena **leaf = h->map[i >> MAP_L2_BITS];
	return leaf ? leaf[i & ((1u << MAP_L2_BITS) - 1)] : NULL;
}

static inline struct page *page_of(struct heap *h, struct arena *a, const void *p)
{
	return &a->pages[((uintptr_t)p & (ARENA_SIZE - 1)) >> h->page_shift];
}

/* large.c */
void *large_alloc(struct heap *h, size_t n, size_t align, int *zero);
struct large *large_find(struct heap *h, const void *p);
int large_canary_ok(struct heap *h, const struct large *l);
const char *large_misuse(struct heap *h, const void *p);
void large_free(struct heap *h, struct large *l);
void *large_realloc(struct heap *h, struct large *l, size_t n);

/* check.c: sums the live blocks into sum by a walk of every run, span and
 * large block; returns the first broken invariant's code, else 0. */
int heap_walk(struct heap *h, struct ba_stats *sum);

/* malloc.c */
void *ba_alloc(size_t n, size_t align, int *zero);

#endif

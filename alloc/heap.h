/* barealloc's data structures.  docs/DESIGN.md explains the design; each
 * invariant is stated once, here, beside its struct, and ba_check()
 * (check.c) verifies them without writing anything, all but a metadata
 * region's per-page counts (nothing lists the pieces in use).
 *
 * Two kinds of state: struct proc, one per process (the arena map, the
 * metadata regions, the large-block table, the kernel-call counters), and
 * struct heap, one per heap (bins, free spans, the dirty budget, its own
 * counters).  A heap is a value: any zeroed struct heap is a working
 * heap, and creating one changes nothing global.  Every arena, run and large block records the heap that owns it.
 *
 * Internal names: static, or extern with the reserved prefix _ba_ and
 * hidden visibility, so that a program may define any name of its own. */
#ifndef BA_HEAP_H
#define BA_HEAP_H

#include "barealloc.h"
#include "os.h"

#pragma GCC visibility push(hidden)

/* ---- Tunables ---------------------------------------------------------- */
#define ARENA_SHIFT     22              /* 4 MiB arenas, aligned to their size */
#define SMALL_MAX       65536           /* largest request served by a size class */
#define MEDIUM_MAX      (1u << 20)      /* largest span; above it, a mapping per block */
#define GROW_SPAN_MIN   16384           /* realloc grows a block past this into a span */
#define RUN_BYTES       65536           /* a run of a class up to 4 KiB spans about this much; */
#define RUN_BIG_BLOCKS  16              /* a run of a bigger class holds this many blocks */
#define DIRTY_MAX       (4u << 20)      /* free bytes kept resident before a purge ... */
#define DIRTY_CAP       ((size_t)(sizeof(void *) == 8 ? 1024 : 256) << 20)
					/* ... doubling up to this when purges are undone at once */
#define PURGE_WINDOW    4096            /* span operations after a purge that count as "at once" */
#define DECAY_OPS       65536           /* span operations without growth that halve the growth */
#define ARENAS_KEPT     1               /* empty arenas kept mapped */
#define ORPHAN_DIRTY_MAX (256u << 10)   /* dirty bytes a heap no thread owns keeps */
#define LARGE_KEPT      4               /* freed large mappings kept for reuse ... */
#define LARGE_KEPT_MAX  (16u << 20)     /* ... up to this many bytes in all */
#define META_REGION     (256u << 10)    /* metadata is carved from regions this big */
#define FEED_PAGES      4               /* never-used blocks a run hands out at a time */
#define REFILL_LOOK     8               /* runs after the head malloc's slow path looks at */
#define BORROW_SLACK    4               /* a request may take a freed block of a bigger class
					   with slack up to 1/this of it */
#define QUARANTINE_BYTES 2048           /* a freed block waits for this many bytes' worth of */
#define QUARANTINE_MIN  1               /* frees of its run, at least this many ... */
#define QUARANTINE_MAX  16              /* ... and at most this many (docs/DESIGN.md) */

/* ---- Derived: do not edit below ---------------------------------------- */
#define PAGE_SHIFT      12              /* x86's page; _ba_proc_init checks the kernel's */
#define PAGE            ((size_t)1 << PAGE_SHIFT)
#define ARENA_SIZE      ((size_t)1 << ARENA_SHIFT)
#define ARENA_PAGES     (ARENA_SIZE >> PAGE_SHIFT)
#define NCLASSES        80              /* 16..256 by 16, then 8 per doubling to 64 KiB */
#define SLACK_MAX       0x7fff          /* a live block's slack, see union slot */
#define SL_BITS         3               /* spans: 8 lists per power of two of pages */
#define FL_COUNT        (ARENA_SHIFT - PAGE_SHIFT + 1)
#define ADDR_BITS       (sizeof(void *) == 8 ? 47 : 32)     /* user address space */
#define MAP_L2_BITS     (sizeof(void *) == 8 ? 13 : 32 - ARENA_SHIFT)
#define MAP_L1_SHIFT    (ARENA_SHIFT + MAP_L2_BITS)
#define MAP_L1_COUNT    ((size_t)1 << (ADDR_BITS - MAP_L1_SHIFT))
#define META_BIG        65536           /* metadata above this gets its own mapping */
#define DROPPED_KEPT    16              /* unmapped arenas remembered for misuse reports */
#define RUN_MAX_BLOCKS  (RUN_BYTES / 16)

#define likely(x)       __builtin_expect(!!(x), 1)
#define unlikely(x)     __builtin_expect(!!(x), 0)

/* ---- Runs --------------------------------------------------------------- */

/* A block's state word: its slack (class size minus request, at most
 * SLACK_MAX) while it is live, else one of these.  Slack 0 is the common
 * case that free checks with one compare; a non-zero slack means the byte
 * just past the request holds the block's canary. */
enum {
	STATE_REMOTE = 0xfffb,  /* freed by a thread of another heap, waiting for the owner (remote.c) */
	STATE_FRESH = 0xfffc,   /* free, never handed out (its span was dirty) */
	STATE_NONE = 0xfffd,    /* the slot past a run's last block: no block there */
	STATE_ZERO = 0xfffe,    /* free, never handed out, and its span was clean: zero */
	STATE_FREE = 0xffff,    /* free, handed out before */
};

/* Slot i holds the ring's entry at position i and block i's state: one
 * array, reached from the run at a fixed offset.  word is both, the state
 * in its high half, so that free marks a block free with one or. */
union slot {
	struct {
		uint16_t ring;
		uint16_t state;
	};
	uint32_t word;
};
#define SLOT_FREE ((uint32_t)STATE_FREE << 16)
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "x86: the state is word's high half");

/* Where a run is, and so what free's trigger waits for. */
enum run_place {
	RUN_NEW,        /* made, not placed yet, or dropped */
	RUN_HEAD,       /* bins[cls]: malloc takes from it; trigger never fires */
	RUN_LISTED,     /* after the head, with a block to give; fires when the run empties */
	RUN_EMPTY,      /* listed, every block free, counted in heap.dirty; never fires */
	RUN_FULL,       /* not listed, nothing to give; fires when one block leaves quarantine */
};

/* A run: one span of pages cut into nblocks blocks of one size class.
 * - Block i is at base + i * size.  Every page of the span has the run as
 *   its arena tab entry.
 * - Blocks given..nblocks-1 were never handed out: they are in no ring
 *   and their pages were never written for them.
 * - The ring: positions head..tail-1 (free-running 32-bit counters, taken
 *   modulo mask + 1, a power of two at least nblocks) hold the indices of
 *   the free blocks below given, each once, oldest first.  malloc takes
 *   the oldest, but only from positions before gate = tail - window: the
 *   last window blocks freed are in quarantine, so that a block freed is
 *   not handed out again before window more frees of its run, and a
 *   second free of it within them finds it free (docs/DESIGN.md).  The
 *   window is at most a quarter of the blocks, and at least one but in a
 *   pool's runs of fewer than four blocks, which have none.  When
 *   nothing is before the gate, the slow path feeds the ring FEED_PAGES'
 *   worth of never-used blocks, ahead of the quarantined ones (run_feed in
 *   small.c): a run reuses freed blocks before it touches new pages.  The
 *   slow path may take a never-used block (STATE_ZERO, STATE_FRESH) past
 *   the gate: it was never freed, so no window applies to it.
 * - slot[i].state for i < nblocks as above; slot[i].state is STATE_NONE for
 *   nblocks <= i <= mask.  When the span is longer than nblocks * size the
 *   ring has room for that sentinel (mask >= nblocks), so that any offset
 *   into the span divides to a slot whose state is checked.
 * - magic is the multiplier that turns an offset into a block index and
 *   rejects an offset that is not a block start (run_index in run.h).
 * - slack: the sum of the live blocks' slack, kept on the paths that write
 *   or check a canary; the requested bytes are live * size - slack.
 * - trigger: free calls _ba_run_trigger when it puts a block at ring
 *   position trigger (tail before the free); what it waits for depends on
 *   place (enum run_place).
 * - heap: the owner, whose bins list the run and whose lists take its
 *   span back. */
struct run {
	uint32_t head, tail, gate, trigger;
	uint32_t mask;
	uint16_t given;
	uint8_t window, pad;
	uintptr_t base;
	uintptr_t magic;
	uint32_t size;
	uint32_t slack;
	struct heap *heap;
	uint16_t nblocks;
	uint8_t cls, place;
	struct run *next, *prev;        /* the bin list of its class, head first */
	struct run *all_next, *all_prev;        /* every run of the heap */
	struct page *span;
	/* the slots follow: run_slot() */
};

static inline union slot *run_slot(const struct run *r)
{
	return (union slot *)(uintptr_t)(r + 1);
}

/* The bytes of a run's metadata: the header and its slots. */
static inline size_t run_meta_size(uint32_t slots)
{
	return sizeof(struct run) + slots * sizeof(union slot);
}

_Static_assert(RUN_MAX_BLOCKS <= 0xffff && RUN_MAX_BLOCKS * 16 == RUN_BYTES,
	       "a run's block index fits a ring entry (16 bits)");
_Static_assert(RUN_BIG_BLOCKS * SMALL_MAX <= ARENA_SIZE / 4, "a run fits an arena four times");
_Static_assert(SLACK_MAX < STATE_REMOTE, "a live block's slack never reads as a free state");
_Static_assert(sizeof(union slot) == 4, "a slot is two 16-bit words");
_Static_assert(QUARANTINE_MIN >= 1 && QUARANTINE_MAX <= 255 && QUARANTINE_MIN * 4 <= RUN_BIG_BLOCKS,
	       "a run's window fits its byte and a quarter of its blocks");


/* ---- Arenas, pages and spans ------------------------------------------- */

/* One page of an arena, out of band; its kind is the arena's tab entry.
 * Spans tile the arena: a span's first and last pages hold its length
 * (npages); a medium span's other pages are inner, a run's pages all name
 * the run.  npages of the pages between a span's ends is not kept (the
 * pages where two spans merged keep stale lengths), so free and malloc of
 * a medium block cost O(1); those pages are never of kind run or medium,
 * so a pointer into them always ends in an abort.  A free span's dirty
 * says what its pages hold: CLEAN (never used), DIRTY (old data, still
 * resident) or PURGED (given back; reads as zero); it is resident when
 * DIRTY.  No two free spans that are both resident or both not touch: a
 * freed span merges with resident neighbours, a purged one with the
 * others, so that resident memory stays apart and is found first.  A free
 * span is on the list free_spans[resident?0:1][fl][sl] of its length; its
 * first page holds the links. */
enum { CLEAN, DIRTY, PURGED };
enum { RESIDENT, NOT_RESIDENT, SPAN_SETS };

struct page {
	union {
		struct { struct page *next, *prev; } free;  /* free span, first page */
		size_t req;                                 /* medium span: bytes asked for */
	} u;
	uint32_t npages;
	uint16_t index;         /* this page's number in its arena, at a span's ends */
	uint8_t dirty;
	uint8_t remote;         /* a medium block's first page: freed by another heap's thread */
};

/* An arena: npages pages at base, owned by one heap, whose free spans are
 * the only ones that name its pages and whose list (next, prev) holds it;
 * it is empty when used is 0, and holds no live block when used == idle +
 * the pages of its empty head runs.  tab[i] is page i's run or kind
 * descriptor: one load from a pointer to its run, 8 bytes an entry on
 * x86-64.
 * - A heap's own arena: ARENA_PAGES pages that it mapped, aligned to
 *   their size and registered in the process's map.
 * - A pool's arena (pool.c): up to ARENA_PAGES pages of the pool's memory,
 *   at any page; in no map (the pool finds it by address), and its
 *   metadata ends after pages[npages - 1] (arena_size). */
struct arena {
	uintptr_t base;
	struct heap *heap;
	uint32_t npages;
	uint32_t used;                  /* pages in spans that are not free */
	uint32_t idle;                  /* of used, pages of runs in place RUN_EMPTY */
	uint32_t heads;                 /* of used, pages of runs in place RUN_HEAD */
	struct arena *next, *prev;      /* every arena of its heap */
	struct run *tab[ARENA_PAGES];
	struct page pages[ARENA_PAGES];
};

/* The metadata bytes of an arena of npages pages. */
static inline size_t arena_size(size_t npages)
{
	return __builtin_offsetof(struct arena, pages) + npages * sizeof(struct page);
}

_Static_assert(ARENA_PAGES <= 0x10000, "a page's index fits 16 bits");

/* ---- Large blocks and metadata ------------------------------------------ */

/* A large block: its own mapping, found through the process's open-addressed
 * table (linear probing, at most half full, no tombstones). */
struct large {
	uintptr_t addr;         /* 0: empty slot */
	size_t mapped;          /* the mapping's length */
	size_t req;
	struct heap *heap;
};

/* A region of metadata: a guard page, then this header, then what was
 * carved from it.  Every metadata byte lives in one of these, so no user
 * block is ever adjacent below metadata.  A region of META_REGION bytes
 * holds pieces of up to META_BIG; live[i] counts the pieces in use that
 * overlap its page i (the header counts as one on page 0), and bit i of
 * purged says the page was given back since.  A bigger piece has a region
 * alone. */
struct meta_region {
	struct meta_region *next;
	size_t size;            /* usable bytes after the guard */
	int alone;
	uint16_t live[META_REGION >> PAGE_SHIFT];
	uint64_t purged;
	uint64_t going;         /* during a purge: the pages about to go back */
};
_Static_assert((META_REGION >> PAGE_SHIFT) <= 64, "a region's pages fit the purged mask");

/* ---- The process and its heaps ------------------------------------------ */

/* What every heap shares.  vm holds the counts of kernel calls and of
 * mapped bytes, kept as they change (vm.c, atomically); kept_bytes is the
 * part of the dirty bytes that freed large mappings hold.
 *
 * Threads: the map, the dropped ring, the large table with kept[] and
 * unmapped[], and the lists of heaps change under LOCK_PROC; the metadata
 * allocator under LOCK_META, taken after LOCK_PROC when both are.  Readers
 * of the map (free's fast path) take no lock: a leaf, once made, stays
 * (purged leaves read as NULL), and an entry changes only when its arena
 * comes or goes, when no live block is in it. */
struct proc {
	int ready;
	uintptr_t secret;               /* the canaries' key, from the glue */
	unsigned arenas;                /* arenas mapped, of every heap */
	struct heap *heaps_all;         /* the heaps of threads, through heap.next_all */
	struct heap *heaps_free;        /* those no thread owns, through heap.next_free */
	int main_taken;                 /* _ba_state.main went to a thread once */
	struct meta_region *regions;
	char *meta_bump, *meta_end;
	void *meta_free[META_BIG / 64 + 1];     /* freed metadata, by size / 64 */
	size_t meta_idle;                       /* bytes freed since the last purge of them */
	struct large *large;
	size_t large_cap, large_count;
	struct large kept[LARGE_KEPT];  /* freed mappings, oldest first; addr 0 = empty */
	size_t kept_bytes;
	uintptr_t unmapped[16];         /* recently unmapped large blocks, a ring */
	unsigned unmapped_next;
	uintptr_t dropped[DROPPED_KEPT];        /* recently unmapped arenas' bases, a ring */
	unsigned dropped_next;
	unsigned heaps;                 /* heaps made in metadata: the regions stay while any lives */
	struct {
		unsigned long mmap, munmap, mremap, madvise;
		size_t mapped, mapped_peak, meta;
	} vm;
	/* Pages that hold no run have, as tab entry, the descriptor of their
	 * kind (KIND_*): a run with no block, whose magic is 0 so that no
	 * offset passes run_index.  Nothing ever writes them. */
	struct run kinds[3];
	/* The map: [addr >> MAP_L1_SHIFT][(addr >> ARENA_SHIFT) & leaf mask]
	 * gives the arena at addr, or NULL.  A leaf covers 32 GiB on x86-64
	 * and the whole address space on i386.  Leaves are metadata. */
	struct arena **map[MAP_L1_COUNT];
	/* map_live[i]: the arenas leaf i names; MAP_PURGED once none does and
	 * its pages went back (meta.c). */
	uint16_t map_live[MAP_L1_COUNT];
	unsigned leaves_idle;           /* leaves whose count came to 0 since the last purge */
};
#define MAP_PURGED 0xffff
_Static_assert(((size_t)1 << MAP_L2_BITS) < MAP_PURGED, "a leaf's count fits 16 bits");

/* One heap; a zeroed struct heap is an empty one, so the main heap lives
 * in .bss and a new heap is a memset.  bins[] comes first: malloc's fast
 * path reads it.
 * - bins[cls] is the class's head run or NULL; the list continues with
 *   the listed and empty runs of the class (enum run_place).
 * - dirty counts the free bytes that may be resident: dirty free spans and
 *   empty runs; it is an upper bound (a freed span or an empty run counts
 *   whole, touched or not).
 * - big counts the live medium and large blocks; runs count their own. */
struct heap {
	struct run *bins[NCLASSES];
	struct run *runs;
	struct arena *arenas_list;              /* the arenas it owns */
	struct page *free_spans[SPAN_SETS][FL_COUNT][1 << SL_BITS];
	uint32_t fl_map[SPAN_SETS];
	uint8_t sl_map[SPAN_SETS][FL_COUNT];
	unsigned empty_runs;                    /* runs in place RUN_EMPTY */
	unsigned arenas;                        /* arenas it owns */
	size_t dirty;
	size_t dirty_grown;                     /* the budget is DIRTY_MAX + this, see purge.c */
	unsigned long span_ops, last_purge;     /* a clock of span operations */
	unsigned long grown_at;                 /* when the budget last grew or decayed */
	size_t dirty_min;                       /* the least dirty since then */
	size_t released;                        /* bytes purged or unmapped since the budget grew */
	struct { size_t live, requested, in_use; } big;        /* changed atomically: any
								   thread frees a large block */
	/* Threads (remote.c, thread.c), last: a heap's release keeps them.
	 * A heap is used by its owner, the
	 * thread whose control block names it: its fast paths take no lock,
	 * its slow paths take the heap's lock, which no one else takes while
	 * the owner lives but fork (to find every heap between operations).
	 * remote is the only field other threads write: blocks they freed,
	 * pushed with an atomic exchange, taken back by the owner.  A heap no
	 * thread owns (owned 0) is changed only under its lock. */
	struct remote *remote;
	int lock;
	int owned;
	int pool;                               /* a heap of an API of its own, no thread's:
						   never adopted, left alone by fork */
	int fixed;                              /* a pool's: its arenas are all it has (no
						   new arena, large block or purge) */
	size_t fixed_map;                       /* bytes the pool mapped for its arenas */
	struct heap *next_all, *next_free;
};

/* The process's state and the main heap share whole pages, so that
 * ba_test_seal can make them read-only without touching anything else. */
union ba_state {
	struct {
		struct proc proc;
		struct heap main;
	};
	char pages[(sizeof(struct proc) + sizeof(struct heap) + 4095) & ~(size_t)4095];
};
extern union ba_state _ba_state;
#define PROC            (&_ba_state.proc)
#define KIND_FREE       (&_ba_state.proc.kinds[0])
#define KIND_MEDIUM     (&_ba_state.proc.kinds[1])
#define KIND_INNER      (&_ba_state.proc.kinds[2])

/* The heap that malloc and free of this thread use: one load through the
 * thread pointer (os.h).  A thread whose heap could not be made has
 * _ba_heap_none, whose bins are empty and which owns nothing, so that the
 * fast paths send everything to the slow paths, which use heap_mine(). */
extern struct run *_ba_heap_none[NCLASSES];
static inline struct heap *heap_current(void)
{
	struct heap *h = (struct heap *)_ba_os_tls_heap();

#ifdef BA_PRELOAD
	if (unlikely(!h))
		h = (struct heap *)_ba_heap_none;       /* the thread's first call */
#endif
	return h;
}
struct heap *_ba_heap_mine(void);
void _ba_remote_collect(struct heap *h);

/* The caller's heap, locked, with what other threads freed taken back:
 * the slow paths run between heap_enter and heap_leave.  NULL, with
 * nothing locked, when the thread has no heap and none can be made. */
static inline struct heap *heap_enter(void)
{
	struct heap *h = heap_current();

	if (unlikely((const void *)h == (const void *)_ba_heap_none))
		return _ba_heap_mine();
	_ba_os_lock(&h->lock);
	if (unlikely(__atomic_load_n(&h->remote, __ATOMIC_RELAXED) != NULL))
		_ba_remote_collect(h);
	return h;
}

static inline void heap_leave(struct heap *h)
{
	if (h)
		_ba_os_unlock(&h->lock);
}

static inline size_t dirty_budget(const struct heap *h)
{
	return DIRTY_MAX + h->dirty_grown;
}

/* Resident free memory was taken for use: the budget's decay watches how
 * low dirty goes (purge.c). */
static inline void dirty_taken(struct heap *h)
{
	if (h->dirty < h->dirty_min)
		h->dirty_min = h->dirty;
}

/* ---- Functions across files --------------------------------------------- */

static inline size_t page_round(size_t n)
{
	return (n + PAGE - 1) & ~(PAGE - 1);
}

/* The page d pages after (or before) pg in its arena, its index set: the
 * index of a page is kept only where spans start and end, written as
 * they are made, so that a new arena's page table is not written whole. */
static inline struct page *page_near(struct page *pg, ptrdiff_t d)
{
	struct page *q = pg + d;

	q->index = (uint16_t)(pg->index + d);
	return q;
}

static inline struct arena *page_arena(struct page *pg)
{
	return (struct arena *)((char *)(pg - pg->index) - __builtin_offsetof(struct arena, pages));
}

static inline uintptr_t page_addr(struct page *pg)
{
	return page_arena(pg)->base + ((uintptr_t)pg->index << PAGE_SHIFT);
}

/* A page's kind: the run that holds it, or a kind descriptor. */
static inline struct run *page_kind(struct page *pg)
{
	return page_arena(pg)->tab[pg->index];
}

/* Whether a tab entry is a run, not a kind descriptor. */
static inline int is_run(const struct run *r)
{
	return r->magic != 0;
}

/* proc.c: the process's locks, outside _ba_state so that sealing it
 * (ba_test_seal) leaves them usable. */
enum { LOCK_FORK, LOCK_PROC, LOCK_META, LOCKS };       /* LOCK_FORK: one fork at a time */
extern int _ba_locks[LOCKS];

static inline void proc_lock(int l)
{
	_ba_os_lock(&_ba_locks[l]);
}

static inline void proc_unlock(int l)
{
	_ba_os_unlock(&_ba_locks[l]);
}
int _ba_proc_init(void);
int _ba_map_set(uintptr_t addr, struct arena *a);

/* thread.c: heaps of threads.  _ba_heap_mine: heap_enter for a thread
 * with no heap yet: one made or adopted now. */
void _ba_heap_register(struct heap *h);
void _ba_heap_register_locked(struct heap *h);  /* LOCK_PROC held */
void _ba_heap_unregister(struct heap *h);
void _ba_heap_attach(void);
void _ba_heap_detach(void);

/* remote.c: frees of another heap's blocks, and the owner's collection. */
struct block;
void _ba_remote_free(struct block *b, void *p);
void _ba_remote_free_small(void *p, struct run *r, uint32_t idx, uint32_t slack);

/* vm.c: the glue's calls, counted; _ba_vm_map also aligns. */
void *_ba_vm_map(size_t len, size_t align);
void _ba_vm_unmap(void *p, size_t len);
void *_ba_vm_remap(void *p, size_t old, size_t len);
int _ba_vm_purge(void *p, size_t len);

/* meta.c */
void *_ba_meta_alloc(size_t size);
void _ba_meta_free(void *p, size_t size);
void _ba_meta_purge(void);
struct meta_region *_ba_meta_region(const void *p);

/* span.c: the mechanism; purge.c: the policy of giving memory back. */
struct page *_ba_span_alloc(struct heap *h, size_t npages);
void _ba_span_mark(struct page *pg, size_t n, struct run *kind);
void _ba_span_ends(struct page *pg, size_t n, struct run *kind);
struct page *_ba_span_containing(struct arena *a, struct page *pg);
void _ba_span_free(struct heap *h, struct page *pg, uint8_t dirty);
int _ba_span_grow(struct heap *h, struct page *pg, size_t npages);
void _ba_span_shrink(struct heap *h, struct page *pg, size_t npages, uint8_t dirty);
void _ba_arena_init(struct heap *h, struct arena *a, uintptr_t base, size_t npages, uint8_t dirty);
void _ba_arena_reset(struct heap *h, struct arena *a, uint8_t dirty);
int _ba_arena_was_dropped(const void *p);
void _ba_arena_drop(struct heap *h, struct arena *a);
void _ba_arena_unmap(struct arena *a);
void _ba_tidy(struct heap *h, struct arena *a);
int _ba_purge_span(struct heap *h, struct page *pg);
void _ba_budget_undo(struct heap *h);
void _ba_heap_trim(struct heap *h);

/* small.c */
uint32_t _ba_class_size(unsigned cls);
struct run *_ba_bin_refill(struct heap *h, unsigned cls, size_t n);
void _ba_run_trigger(struct run *r);
void _ba_run_trigger_locked(struct run *r);
int _ba_release_empty_runs(struct heap *h, struct arena *a);
int _ba_arena_is_idle(struct heap *h, struct arena *a);
void _ba_runs_forget(struct heap *h);

/* medium.c */
void *_ba_medium_alloc(struct heap *h, size_t n, size_t align, int *zero);
void _ba_medium_free(struct heap *h, struct page *pg);
int _ba_medium_resize(struct heap *h, struct page *pg, size_t n);

/* What is wrong with a pointer; block.c holds the messages. */
enum misuse { MISUSE_NONE, MISUSE_FOREIGN, MISUSE_INTERIOR, MISUSE_DOUBLE, MISUSE_OVERFLOW, MISUSE_HEAP,
	      MISUSE_POOL };
_Noreturn void _ba_misuse(const char *fn, const void *p, enum misuse m);
const char *_ba_misuse_text(enum misuse m);

/* large.c: under LOCK_PROC, each call whole; a block's entry is copied
 * out (another thread may move entries), and found again by address. */
void *_ba_large_alloc(struct heap *h, size_t n, size_t align, int *zero);
enum misuse _ba_large_get(const void *p, struct large *out);
struct large *_ba_large_find(const void *p);    /* with LOCK_PROC held */
void _ba_large_free(const void *p, const char *fn);
void *_ba_large_realloc(const void *p, size_t n, const char *fn);
void _ba_large_release(struct heap *h);
void _ba_large_drop_kept(void);

/* malloc.c: _ba_heap_alloc sets errno to ENOMEM when it fails. */
void *_ba_heap_alloc(struct heap *h, size_t n, size_t align, int *zero);
void *_ba_malloc_slow(size_t n);
void _ba_free_slow(void *p);

/* heap.c */
void _ba_heap_stats(struct heap *h, struct ba_stats *out);
int _ba_trim(void);

/* check.c: the first broken invariant's code, else 0. */
int _ba_heap_check(struct heap *h);

#pragma GCC visibility pop

#endif

/* Large blocks, above MEDIUM_MAX or aligned beyond what an arena offers:
 * a mapping each, found by address in the process's open-addressed table,
 * so free() checks the pointer without touching the block.  A few freed
 * mappings are kept for reuse by any heap (the hysteresis for large
 * ping-pong), and realloc moves a mapping with mremap instead of copying.
 *
 * The table is the process's: every entry point takes LOCK_PROC for its
 * whole work, and any thread may free a large block of any heap at once
 * (the heap's counters change atomically).  Between calls an entry may
 * move, so callers hold a copy and name the block by its address. */
#include "run.h"


static size_t slot_of(uintptr_t addr)
{
	uint64_t x = (uint64_t)(addr >> PAGE_SHIFT) * 0x9E3779B97F4A7C15ULL;

	return (size_t)(x >> 40) & (PROC->large_cap - 1);
}

struct large *_ba_large_find(const void *p)
{
	struct proc *pr = PROC;

	if (!pr->large_cap)
		return NULL;
	for (size_t i = slot_of((uintptr_t)p);; i = (i + 1) & (pr->large_cap - 1)) {
		if (pr->large[i].addr == (uintptr_t)p)
			return &pr->large[i];
		if (!pr->large[i].addr)
			return NULL;
	}
}

static void count(struct large *l, long sign)
{
	__atomic_fetch_add(&l->heap->big.live, (size_t)sign, __ATOMIC_RELAXED);
	__atomic_fetch_add(&l->heap->big.requested, (size_t)sign * l->req, __ATOMIC_RELAXED);
	__atomic_fetch_add(&l->heap->big.in_use, (size_t)sign * l->mapped, __ATOMIC_RELAXED);
}

/* The empty slot where addr goes: the first on its probe run. */
static struct large *free_slot(uintptr_t addr)
{
	size_t i = slot_of(addr);

	while (PROC->large[i].addr)
		i = (i + 1) & (PROC->large_cap - 1);
	return &PROC->large[i];
}

static void table_put(struct large *e)
{
	struct large *slot = free_slot(e->addr);

	*slot = *e;
	PROC->large_count++;
	count(slot, 1);
}

/* Keeps the table at most half full; 0 on success. */
static int table_reserve(void)
{
	struct proc *pr = PROC;

	if (2 * (pr->large_count + 1) <= pr->large_cap)
		return 0;
	size_t old_cap = pr->large_cap, cap = old_cap ? 2 * old_cap : 16;
	struct large *old = pr->large, *t = _ba_meta_alloc(cap * sizeof *t);
	if (!t)
		return -1;
	pr->large = t;
	pr->large_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].addr)
			*free_slot(old[i].addr) = old[i];
	if (old)
		_ba_meta_free(old, old_cap * sizeof *old);
	return 0;
}

/* Removes e, moving later entries of its probe run back (no tombstones). */
static void table_delete(struct large *e)
{
	struct large *t = PROC->large;
	size_t mask = PROC->large_cap - 1, hole = (size_t)(e - t);

	count(e, -1);
	t[hole].addr = 0;
	for (size_t i = (hole + 1) & mask; t[i].addr; i = (i + 1) & mask) {
		size_t want = slot_of(t[i].addr);
		if (((i - want) & mask) >= ((i - hole) & mask)) {
			t[hole] = t[i];
			t[i].addr = 0;
			hole = i;
		}
	}
	PROC->large_count--;
}

/* kept[] holds freed mappings oldest first; slots past the last are 0. */
static void kept_remove(unsigned i)
{
	struct proc *pr = PROC;

	pr->kept_bytes -= pr->kept[i].mapped;
	for (; i + 1 < LARGE_KEPT; i++)
		pr->kept[i] = pr->kept[i + 1];
	pr->kept[LARGE_KEPT - 1].addr = 0;
}

/* A kept mapping that fits len without wasting more than a quarter. */
static void *take_kept(size_t len, size_t align, size_t *mapped)
{
	for (unsigned i = 0; i < LARGE_KEPT && PROC->kept[i].addr; i++) {
		struct large *k = &PROC->kept[i];
		if (k->mapped >= len && k->mapped - len <= len / 4 && !(k->addr & (align - 1))) {
			void *p = (void *)k->addr;
			*mapped = k->mapped;
			kept_remove(i);
			return p;
		}
	}
	return NULL;
}

static void *large_alloc(struct heap *h, size_t n, size_t align, int *zero)
{
	size_t len = page_round(n ? n : 1), mapped = len;

	if (len < n || table_reserve())
		return NULL;
	void *p = take_kept(len, align, &mapped);
	*zero = !p;
	if (!p && !(p = _ba_vm_map(len, align)))
		return NULL;
	struct large e = { (uintptr_t)p, mapped, n, h };
	table_put(&e);
	canary_set((uintptr_t)p, n, mapped);
	return p;
}

void *_ba_large_alloc(struct heap *h, size_t n, size_t align, int *zero)
{
	proc_lock(LOCK_PROC);
	void *p = large_alloc(h, n, align, zero);
	proc_unlock(LOCK_PROC);
	return p;
}

/* Whether p was a large block that is kept or was unmapped lately: a
 * second free of it is then a double free, not a foreign pointer. */
static int large_was_freed(const void *p)
{
	for (unsigned i = 0; i < LARGE_KEPT; i++)
		if (PROC->kept[i].addr == (uintptr_t)p)
			return 1;
	for (unsigned i = 0; i < sizeof PROC->unmapped / sizeof PROC->unmapped[0]; i++)
		if (PROC->unmapped[i] == (uintptr_t)p)
			return 1;
	return 0;
}

/* What a pointer that is no large block's start is: on the way to an
 * abort, so a scan of the whole table costs nothing. */
static enum misuse large_misuse(const void *p)
{
	for (size_t i = 0; i < PROC->large_cap; i++)
		if (PROC->large[i].addr && (uintptr_t)p - PROC->large[i].addr < PROC->large[i].mapped)
			return MISUSE_INTERIOR;
	return large_was_freed(p) || _ba_arena_was_dropped(p) ? MISUSE_DOUBLE : MISUSE_FOREIGN;
}

static void unmap_block(uintptr_t addr, size_t len)
{
	_ba_vm_unmap((void *)addr, len);
	PROC->unmapped[PROC->unmapped_next++ % (sizeof PROC->unmapped / sizeof PROC->unmapped[0])] = addr;
}

/* p's entry copied to *out, its canary checked: MISUSE_NONE, else what
 * is wrong. */
enum misuse _ba_large_get(const void *p, struct large *out)
{
	enum misuse m = MISUSE_NONE;

	proc_lock(LOCK_PROC);
	struct large *l = _ba_large_find(p);
	if (!l)
		m = large_misuse(p);
	else if (!canary_intact(l->addr, l->req, l->mapped))
		m = MISUSE_OVERFLOW;
	else
		*out = *l;
	proc_unlock(LOCK_PROC);
	return m;
}

/* Keeps the freed mapping for reuse, evicting the oldest kept ones while
 * there are LARGE_KEPT of them or more than LARGE_KEPT_MAX bytes. */
static void large_free(struct large *l)
{
	struct proc *pr = PROC;
	struct large k = *l;

	table_delete(l);
	if (k.mapped > LARGE_KEPT_MAX) {
		unmap_block(k.addr, k.mapped);
		return;
	}
	while (pr->kept[0].addr &&
	       (pr->kept[LARGE_KEPT - 1].addr || pr->kept_bytes + k.mapped > LARGE_KEPT_MAX)) {
		struct large old = pr->kept[0];
		kept_remove(0);
		unmap_block(old.addr, old.mapped);
	}
	unsigned i = 0;
	while (pr->kept[i].addr)
		i++;
	pr->kept[i] = k;
	pr->kept_bytes += k.mapped;
}

/* Frees the block at p, which _ba_large_get found; another thread may
 * have freed it since: then p is a double free, and only one of the two
 * frees happens. */
void _ba_large_free(const void *p, const char *fn)
{
	proc_lock(LOCK_PROC);
	struct large *l = _ba_large_find(p);
	if (!l)
		_ba_misuse(fn, p, MISUSE_DOUBLE);
	large_free(l);
	proc_unlock(LOCK_PROC);
}

/* realloc of a large block to n > MEDIUM_MAX: mremap may move the pages
 * without copying them.  NULL when the kernel cannot. */
static void *large_realloc(struct large *l, size_t n)
{
	size_t len = page_round(n);

	if (len < n)
		return NULL;
	struct large e = *l;
	if (len != e.mapped) {
		void *p = _ba_vm_remap((void *)e.addr, e.mapped, len);
		if (!p)
			return NULL;
		table_delete(l);
		e.addr = (uintptr_t)p;
		e.mapped = len;
		e.req = n;
		table_put(&e);
		canary_set((uintptr_t)p, n, len);
		return p;
	}
	count(l, -1);
	l->req = n;
	count(l, 1);
	canary_set(l->addr, n, len);
	return (void *)l->addr;
}

void *_ba_large_realloc(const void *p, size_t n, const char *fn)
{
	proc_lock(LOCK_PROC);
	struct large *l = _ba_large_find(p);
	if (!l)
		_ba_misuse(fn, p, MISUSE_DOUBLE);
	void *q = large_realloc(l, n);
	proc_unlock(LOCK_PROC);
	return q;
}

/* Unmaps every large block of h. */
void _ba_large_release(struct heap *h)
{
	proc_lock(LOCK_PROC);
	for (size_t i = 0; i < PROC->large_cap; i++)
		while (PROC->large[i].addr && PROC->large[i].heap == h) {
			_ba_vm_unmap((void *)PROC->large[i].addr, PROC->large[i].mapped);
			table_delete(&PROC->large[i]);
		}
	proc_unlock(LOCK_PROC);
}

/* Unmaps the kept mappings. */
void _ba_large_drop_kept(void)
{
	proc_lock(LOCK_PROC);
	while (PROC->kept[0].addr) {
		_ba_vm_unmap((void *)PROC->kept[0].addr, PROC->kept[0].mapped);
		kept_remove(0);
	}
	proc_unlock(LOCK_PROC);
}

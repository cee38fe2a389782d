/* Large blocks, above MEDIUM_MAX or aligned beyond what an arena offers:
 * a mapping each, found by address in an open-addressed table, so free()
 * checks the pointer without touching the block.  A few freed mappings are
 * kept for reuse (the hysteresis for large ping-pong), and realloc moves a
 * mapping with mremap instead of copying. */
#include "heap.h"

static size_t slot_of(struct heap *h, uintptr_t addr)
{
	uint64_t x = (uint64_t)(addr >> h->page_shift) * 0x9E3779B97F4A7C15ULL;

	return (size_t)(x >> 40) & (h->large_cap - 1);
}

struct large *large_find(struct heap *h, const void *p)
{
	if (!h->large_cap)
		return NULL;
	for (size_t i = slot_of(h, (uintptr_t)p);; i = (i + 1) & (h->large_cap - 1)) {
		if (h->large[i].addr == (uintptr_t)p)
			return &h->large[i];
		if (!h->large[i].addr)
			return NULL;
	}
}

/* Whether the canary after a large block's request is intact. */
int large_canary_ok(struct heap *h, const struct large *l)
{
	return canary_intact(h, l->addr, l->req, l->mapped);
}

static void table_put(struct heap *h, struct large *e)
{
	size_t i = slot_of(h, e->addr);

	while (h->large[i].addr)
		i = (i + 1) & (h->large_cap - 1);
	h->large[i] = *e;
}

/* Keeps the table at most half full; 0 on success. */
static int table_reserve(struct heap *h)
{
	if (2 * (h->large_count + 1) <= h->large_cap)
		return 0;
	size_t old_cap = h->large_cap, cap = old_cap ? 2 * old_cap : 16;
	struct large *old = h->large, *t = meta_alloc(h, cap * sizeof *t);
	if (!t)
		return -1;
	h->large = t;
	h->large_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].addr)
			table_put(h, &old[i]);
	if (old)
		meta_free(h, old, old_cap * sizeof *old);
	return 0;
}

/* Removes e, moving later entries of its probe run back (no tombstones). */
static void table_delete(struct heap *h, struct large *e)
{
	size_t mask = h->large_cap - 1, hole = (size_t)(e - h->large);

	h->large[hole].addr = 0;
	for (size_t i = (hole + 1) & mask; h->large[i].addr; i = (i + 1) & mask) {
		size_t want = slot_of(h, h->large[i].addr);
		if (((i - want) & mask) >= ((i - hole) & mask)) {
			h->large[hole] = h->large[i];
			h->large[i].addr = 0;
			hole = i;
		}
	}
	h->large_count--;
}

/* kept[] holds freed mappings oldest first; slots past the last are 0. */
static void kept_remove(struct heap *h, unsigned i)
{
	h->st.dirty -= h->kept[i].mapped;
	for (; i + 1 < LARGE_KEPT; i++)
		h->kept[i] = h->kept[i + 1];
	h->kept[LARGE_KEPT - 1].addr = 0;
}

/* A kept mapping that fits len without wasting more than a quarter. */
static void *take_kept(struct heap *h, size_t len, size_t align, size_t *mapped)
{
	for (unsigned i = 0; i < LARGE_KEPT && h->kept[i].addr; i++) {
		struct large *k = &h->kept[i];
		if (k->mapped >= len && k->mapped - len <= len / 4 && !(k->addr & (align - 1))) {
			void *p = (void *)k->addr;
			*mapped = k->mapped;
			kept_remove(h, i);
			return p;
		}
	}
	return NULL;
}

void *large_alloc(struct heap *h, size_t n, size_t align, int *zero)
{
	size_t len = page_round(h, n ? n : 1), mapped = len;

	if (len < n || table_reserve(h))
		return NULL;
	void *p = take_kept(h, len, align, &mapped);
	*zero = !p;
	if (!p && !(p = os_map(h, len, align)))
		return NULL;
	struct large e = { (uintptr_t)p, mapped, n };
	table_put(h, &e);
	h->large_count++;
	canary_set(h, (uintptr_t)p, n, mapped);
	return p;
}

/* Whether p was a large block that is kept or was unmapped lately: a
 * second free of it is then a double free, not a foreign pointer. */
static int large_was_freed(struct heap *h, const void *p)
{
	for (unsigned i = 0; i < LARGE_KEPT; i++)
		if (h->kept[i].addr == (uintptr_t)p)
			return 1;
	for (unsigned i = 0; i < sizeof h->unmapped / sizeof h->unmapped[0]; i++)
		if (h->unmapped[i] == (uintptr_t)p)
			return 1;
	return 0;
}

/* What a pointer that is no large block's start is, for the message: on
 * the way to an abort, so a scan of the whole table costs nothing. */
const char *large_misuse(struct heap *h, const void *p)
{
	for (size_t i = 0; i < h->large_cap; i++)
		if (h->large[i].addr && (uintptr_t)p - h->large[i].addr < h->large[i].mapped)
			return "not the start of a block";
	return large_was_freed(h, p) ? "double free" : "invalid pointer (not from barealloc)";
}


static void unmap_block(struct heap *h, uintptr_t addr, size_t len)
{
	os_unmap(h, (void *)addr, len);
	h->unmapped[h->unmapped_next++ % (sizeof h->unmapped / sizeof h->unmapped[0])] = addr;
}

/* Keeps the freed mapping for reuse, evicting the oldest kept ones while
 * there are LARGE_KEPT of them or more than LARGE_KEPT_MAX bytes. */
void large_free(struct heap *h, struct large *l)
{
	struct large k = *l;
	table_delete(h, l);
	if (k.mapped > LARGE_KEPT_MAX) {
		unmap_block(h, k.addr, k.mapped);
		return;
	}
	size_t kept = 0;
	for (unsigned i = 0; i < LARGE_KEPT; i++)
		kept += h->kept[i].addr ? h->kept[i].mapped : 0;
	while (h->kept[0].addr && (h->kept[LARGE_KEPT - 1].addr || kept + k.mapped > LARGE_KEPT_MAX)) {
		struct large old = h->kept[0];
		kept -= old.mapped;
		kept_remove(h, 0);
		unmap_block(h, old.addr, old.mapped);
	}
	unsigned i = 0;
	while (h->kept[i].addr)
		i++;
	h->kept[i] = k;
	h->st.dirty += k.mapped;
}

/* realloc of a large block to n > MEDIUM_MAX: mremap may move the pages
 * without copying them.  NULL when the kernel cannot. */
void *large_realloc(struct heap *h, struct large *l, size_t n)
{
	size_t len = page_round(h, n);

	if (len < n)
		return NULL;
	struct large e = *l;
	if (len != e.mapped) {
		void *p = os_remap(h, (void *)e.addr, e.mapped, len);
		if (!p)
			return NULL;
		table_delete(h, l);
		e.addr = (uintptr_t)p;
		e.mapped = len;
		e.req = n;
		table_put(h, &e);
		h->large_count++;
		canary_set(h, (uintptr_t)p, n, len);
		return p;
	}
	l->req = n;
	canary_set(h, l->addr, n, len);
	return (void *)l->addr;
}

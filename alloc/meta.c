/* Out-of-band metadata: every run, arena page table, map leaf and large
 * block table is carved from metadata regions, which user blocks never
 * border from below (each region starts with a guard page), so no overflow
 * of a user block can reach it.  And the map from addresses to arenas,
 * which lets free() check a pointer without touching its memory. */
#include "heap.h"

/* A region: [guard page][header][carved ...].  Regions are only unmapped
 * by ba_release_all, except big ones, which hold a single allocation. */
static struct meta_region *region_new(struct heap *h, size_t size)
{
	size_t len = page_round(h, size + sizeof(struct meta_region));
	char *p = os_map(h, h->page + len, h->page);

	if (!p)
		return NULL;
	os_protect(p, h->page, PROT_NONE);
	struct meta_region *r = (struct meta_region *)(p + h->page);
	r->size = len;
	r->next = h->regions;
	h->regions = r;
	h->st.meta += h->page + len;
	return r;
}

static void region_drop(struct heap *h, struct meta_region *r)
{
	struct meta_region **link = &h->regions;

	while (*link != r)
		link = &(*link)->next;
	*link = r->next;
	h->st.meta -= h->page + r->size;
	os_unmap(h, (char *)r - h->page, h->page + r->size);
}

/* Sizes up to META_BIG are kept on free lists by exact size (a multiple of
 * 64): barealloc asks for few distinct sizes, so nothing is lost to
 * rounding.  Memory comes zeroed only from a fresh region. */
void *meta_alloc(struct heap *h, size_t size)
{
	size = (size + 63) & ~(size_t)63;
	if (size > META_BIG) {
		struct meta_region *r = region_new(h, size);
		return r ? r + 1 : NULL;
	}
	void **slot = &h->meta_free[size / 64];
	if (*slot) {
		void *p = *slot;
		*slot = *(void **)p;
		memset(p, 0, size);
		return p;
	}
	if ((size_t)(h->meta_end - h->meta_bump) < size) {
		struct meta_region *r = region_new(h, META_REGION);
		if (!r)
			return NULL;
		h->meta_bump = (char *)r + 64;          /* carved pieces stay 64-byte aligned */
		h->meta_end = (char *)r + r->size;
	}
	void *p = h->meta_bump;
	h->meta_bump += size;
	return p;
}

/* A freed piece keeps the free-list link in its first word and whether
 * its pages were purged in its second. */
void meta_free(struct heap *h, void *p, size_t size)
{
	size = (size + 63) & ~(size_t)63;
	if (size > META_BIG) {
		region_drop(h, (struct meta_region *)p - 1);
		return;
	}
	((void **)p)[0] = h->meta_free[size / 64];
	((void **)p)[1] = NULL;
	h->meta_free[size / 64] = p;
}

/* Gives back the whole pages of freed pieces, with the span purge: run
 * metadata is 4 bytes per block, so after a program frees many small
 * blocks it is worth returning, but not at every run's release. */
void meta_purge(struct heap *h)
{
	for (size_t size = 2 * h->page; size <= META_BIG; size += 64)
		for (void **p = h->meta_free[size / 64]; p && !p[1]; p = *p) {
			uintptr_t from = page_round(h, (uintptr_t)p + 64);
			uintptr_t to = ((uintptr_t)p + size) & ~(h->page - 1);
			if (to > from)
				os_purge(h, (void *)from, to - from);
			p[1] = p;
		}
}

/* The map: two levels indexed by addr >> ARENA_SHIFT (arena_of in heap.h
 * reads it).  A leaf holds 8192 arenas (32 GiB of address space); on i386
 * one leaf covers everything. */
int map_set(struct heap *h, uintptr_t addr, struct arena *a)
{
	uintptr_t i = addr >> ARENA_SHIFT;
	struct arena ***leaf = &h->map[i >> MAP_L2_BITS];

	if (!*leaf && !(*leaf = meta_alloc(h, sizeof(struct arena *) << MAP_L2_BITS)))
		return -1;
	(*leaf)[i & ((1u << MAP_L2_BITS) - 1)] = a;
	return 0;
}

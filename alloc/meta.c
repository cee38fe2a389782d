/* Out-of-band metadata, shared by every heap: runs, arena page tables, map
 * leaves, the large table and created heaps are carved from metadata
 * regions, which user blocks never border from below (each region starts
 * with a guard page), so no overflow of a user block can reach them. */
#include "heap.h"

/* A region: [guard page][header][carved ...].  Regions are only unmapped
 * by a release of everything, except big ones, which hold a single
 * allocation. */
static struct meta_region *region_new(size_t size)
{
	size_t len = page_round(size + sizeof(struct meta_region));
	char *p = _ba_vm_map(PAGE + len, PAGE);

	if (!p)
		return NULL;
	_ba_os_protect(p, PAGE, OS_NONE);
	struct meta_region *r = (struct meta_region *)(p + PAGE);
	r->size = len;
	r->next = PROC->regions;
	PROC->regions = r;
	PROC->vm.meta += PAGE + len;
	return r;
}

static void region_drop(struct meta_region *r)
{
	struct meta_region **link = &PROC->regions;

	while (*link != r)
		link = &(*link)->next;
	*link = r->next;
	PROC->vm.meta -= PAGE + r->size;
	_ba_vm_unmap((char *)r - PAGE, PAGE + r->size);
}

/* Sizes up to META_BIG are kept on free lists by exact size (a multiple of
 * 64): barealloc asks for few distinct sizes, so nothing is lost to
 * rounding.  The memory comes zeroed. */
void *_ba_meta_alloc(size_t size)
{
	struct proc *pr = PROC;

	size = (size + 63) & ~(size_t)63;
	if (size > META_BIG) {
		struct meta_region *r = region_new(size);
		return r ? r + 1 : NULL;
	}
	void **slot = &pr->meta_free[size / 64];
	if (*slot) {
		void *p = *slot;
		*slot = *(void **)p;
		memset(p, 0, size);
		return p;
	}
	if ((size_t)(pr->meta_end - pr->meta_bump) < size) {
		struct meta_region *r = region_new(META_REGION);
		if (!r)
			return NULL;
		pr->meta_bump = (char *)r + 64;         /* carved pieces stay 64-byte aligned */
		pr->meta_end = (char *)r + r->size;
	}
	void *p = pr->meta_bump;
	pr->meta_bump += size;
	return p;
}

/* A freed piece keeps the free-list link in its first word and whether
 * its pages were purged in its second. */
void _ba_meta_free(void *p, size_t size)
{
	size = (size + 63) & ~(size_t)63;
	if (size > META_BIG) {
		region_drop((struct meta_region *)p - 1);
		return;
	}
	((void **)p)[0] = PROC->meta_free[size / 64];
	((void **)p)[1] = NULL;
	PROC->meta_free[size / 64] = p;
}

/* Gives back the whole pages of freed pieces, with a purge: run metadata
 * is 4 bytes per block, so after a program frees many small blocks it is
 * worth returning, but not at every run's release. */
void _ba_meta_purge(void)
{
	for (size_t size = 2 * PAGE; size <= META_BIG; size += 64)
		for (void **p = PROC->meta_free[size / 64]; p && !p[1]; p = *p) {
			uintptr_t from = page_round((uintptr_t)p + 64);
			uintptr_t to = ((uintptr_t)p + size) & ~(PAGE - 1);
			if (to > from)     /* failed or not, the piece is zeroed when reused */
				(void)_ba_vm_purge((void *)from, to - from);
			p[1] = p;
		}
}

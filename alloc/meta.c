/* Out-of-band metadata, shared by every heap: runs, arena page tables, map
 * leaves, the large table and created heaps are carved from metadata
 * regions, which user blocks never border from below (each region starts
 * with a guard page), so no overflow of a user block can reach them.
 *
 * Freed pieces are kept on free lists by exact size and reused first.  A
 * region counts, per page, the pieces in use over it; at a purge (purge.c:
 * the same budget as spans) that follows META_REGION bytes of frees, its
 * pages that no piece uses go back to the kernel, a region that nothing
 * uses is unmapped, and so are the pages of the map's leaves that no
 * longer name an arena. */
#include "heap.h"

/* A region: [guard page][header][carved ...], META_REGION bytes after the
 * guard for the pieces up to META_BIG, or one bigger piece alone. */
static struct meta_region *region_new(size_t size, int alone)
{
	size_t len = alone ? page_round(size + sizeof(struct meta_region)) : META_REGION;
	char *p = _ba_vm_map(PAGE + len, PAGE);

	if (!p)
		return NULL;
	_ba_os_protect(p, PAGE, OS_NONE);
	struct meta_region *r = (struct meta_region *)(p + PAGE);
	r->size = len;
	r->alone = alone;
	r->live[0] = 1;         /* the header's own page */
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

/* The region that holds p, or NULL: few regions, and only the slow paths
 * that make or drop a run, an arena or a table ask (and ba_check). */
struct meta_region *_ba_meta_region(const void *p)
{
	struct meta_region *r = PROC->regions;

	while (r && (uintptr_t)p - (uintptr_t)r >= r->size)
		r = r->next;
	return r;
}

/* Bits from..to-1 of a page mask. */
static uint64_t page_bits(unsigned from, unsigned to)
{
	return (to >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << to) - 1) & ~(((uint64_t)1 << from) - 1);
}

static size_t page_of(const struct meta_region *r, const void *p)
{
	return ((uintptr_t)p - (uintptr_t)r) >> PAGE_SHIFT;
}

/* Counts the piece [p, p + size) in use over its pages (sign 1) or not
 * (-1); a page in use is no longer purged. */
static void count_pages(struct meta_region *r, void *p, size_t size, int sign)
{
	for (size_t i = page_of(r, p), last = page_of(r, (char *)p + size - 1); i <= last; i++) {
		r->live[i] = (uint16_t)(r->live[i] + sign);
		r->purged &= ~((uint64_t)(sign > 0) << i);
	}
}

/* Sizes up to META_BIG come rounded to 64 bytes, from the free list of
 * their size or the bump region: barealloc asks for few distinct sizes,
 * so nothing is lost to rounding.  The memory comes zeroed: a reused piece
 * is cleared but where its pages were purged, which read as zero. */
static void *meta_alloc(size_t size)
{
	struct proc *pr = PROC;

	size = (size + 63) & ~(size_t)63;
	if (size > META_BIG) {
		struct meta_region *r = region_new(size, 1);
		return r ? r + 1 : NULL;
	}
	void **slot = &pr->meta_free[size / 64], *p = *slot;
	if (p) {
		*slot = *(void **)p;
		struct meta_region *r = _ba_meta_region(p);
		for (char *c = p, *end = c + size; c < end;) {
			char *stop = (char *)page_round((uintptr_t)c + 1);
			stop = stop < end ? stop : end;
			if (!(r->purged >> page_of(r, c) & 1))
				memset(c, 0, (size_t)(stop - c));
			c = stop;
		}
		count_pages(r, p, size, 1);
		return p;
	}
	if ((size_t)(pr->meta_end - pr->meta_bump) < size) {
		struct meta_region *r = region_new(0, 0);
		if (!r)
			return NULL;
		pr->meta_bump = (char *)r + ((sizeof *r + 63) & ~(size_t)63);   /* pieces stay 64-byte aligned */
		pr->meta_end = (char *)r + r->size;
	}
	p = pr->meta_bump;
	pr->meta_bump += size;
	count_pages(_ba_meta_region(p), p, size, 1);
	return p;
}

/* A freed piece keeps the free-list link in its first word. */
static void meta_free(void *p, size_t size)
{
	size = (size + 63) & ~(size_t)63;
	if (size > META_BIG) {
		region_drop((struct meta_region *)p - 1);
		return;
	}
	count_pages(_ba_meta_region(p), p, size, -1);
	PROC->meta_idle += size;
	*(void **)p = PROC->meta_free[size / 64];
	PROC->meta_free[size / 64] = p;
}

/* The pages of r to give back while some piece is in use in it: used by
 * no piece, not purged yet, and carved (the bump region's untouched end
 * is not resident). */
static uint64_t idle_pages(const struct meta_region *r)
{
	const struct proc *pr = PROC;
	uint64_t idle = 0;

	for (size_t i = 0; i < r->size >> PAGE_SHIFT; i++) {
		uintptr_t at = (uintptr_t)r + (i << PAGE_SHIFT);
		int carved = (uintptr_t)pr->meta_bump - (uintptr_t)r >= r->size || at < (uintptr_t)pr->meta_bump;
		if (!r->live[i] && carved)
			idle |= (uint64_t)1 << i;
	}
	return idle & ~r->purged;
}

static int region_unused(const struct meta_region *r)
{
	for (size_t i = 1; i < r->size >> PAGE_SHIFT; i++)
		if (r->live[i])
			return 0;
	return r->live[0] == 1;
}

/* A free piece leaves its list when the page of its link goes back (the
 * link would read as zero), or its region does. */
static void drop_pieces(void)
{
	for (size_t k = 0; k <= META_BIG / 64; k++)
		for (void **link = &PROC->meta_free[k]; *link;) {
			struct meta_region *r = _ba_meta_region(*link);
			if (r->going >> page_of(r, *link) & 1)
				*link = **(void ***)link;
			else
				link = *link;
		}
}

/* Purges the runs of consecutive pages in mask. */
static void purge_pages(struct meta_region *r, uint64_t mask)
{
	for (unsigned from = 0; from < 64; from++) {
		if (!(mask >> from & 1))
			continue;
		unsigned to = from;
		while (to < 64 && (mask >> to & 1))
			to++;
		if (!_ba_vm_purge((char *)r + ((size_t)from << PAGE_SHIFT), (size_t)(to - from) << PAGE_SHIFT))
			r->purged |= page_bits(from, to);
		from = to;
	}
}

/* The pages of the map's leaves where no arena is any more read as zero
 * (NULL) once purged, so the leaves stay and need no reader to wait. */
static void purge_leaves(void)
{
	struct proc *pr = PROC;
	size_t bytes = sizeof(struct arena *) << MAP_L2_BITS;

	for (size_t i = 0; i < MAP_L1_COUNT && pr->leaves_idle; i++) {
		if (!pr->map[i] || pr->map_live[i])
			continue;
		uintptr_t from = page_round((uintptr_t)pr->map[i]), to = ((uintptr_t)pr->map[i] + bytes) & ~(PAGE - 1);
		pr->leaves_idle--;
		pr->map_live[i] = MAP_PURGED;   /* done, whether the kernel took the pages or not */
		if (to > from)
			(void)_ba_vm_purge((void *)from, to - from);
	}
}

/* Gives back what no metadata uses (see the top of the file), once
 * META_REGION bytes were freed since it last did, or a leaf went idle:
 * then the walk of the free lists costs little beside what it returns. */
static void meta_purge(void)
{
	struct proc *pr = PROC;

	if (pr->meta_idle < META_REGION && !pr->leaves_idle)
		return;
	pr->meta_idle = 0;
	for (struct meta_region *r = pr->regions; r; r = r->next)
		r->going = r->alone ? 0 : region_unused(r) ? ~(uint64_t)0 : idle_pages(r);
	drop_pieces();
	for (struct meta_region *r = pr->regions, *next; r; r = next) {
		next = r->next;
		if (r->alone)
			continue;
		if (!region_unused(r)) {
			purge_pages(r, r->going);
			continue;
		}
		if ((uintptr_t)pr->meta_bump - (uintptr_t)r < r->size)
			pr->meta_bump = pr->meta_end = NULL;
		region_drop(r);
	}
	purge_leaves();
}

/* The locked entry points: LOCK_META for the pieces; a purge also reads
 * and writes the map's leaf counts, which LOCK_PROC guards, taken first. */
void *_ba_meta_alloc(size_t size)
{
	proc_lock(LOCK_META);
	void *p = meta_alloc(size);
	proc_unlock(LOCK_META);
	return p;
}

void _ba_meta_free(void *p, size_t size)
{
	proc_lock(LOCK_META);
	meta_free(p, size);
	proc_unlock(LOCK_META);
}

void _ba_meta_purge(void)
{
	struct proc *pr = PROC;

	if (__atomic_load_n(&pr->meta_idle, __ATOMIC_RELAXED) < META_REGION &&
	    !__atomic_load_n(&pr->leaves_idle, __ATOMIC_RELAXED))
		return;         /* the common case, decided again under the locks */
	proc_lock(LOCK_PROC);
	proc_lock(LOCK_META);
	meta_purge();
	proc_unlock(LOCK_META);
	proc_unlock(LOCK_PROC);
}

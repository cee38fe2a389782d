/* The heap's life: lazy initialisation from the auxiliary vector, the
 * statistics, and ba_release_all. */
#include "heap.h"

union heap_pages ba_heap_pages __attribute__((aligned(4096)));

static void heap_init(struct heap *h)
{
	unsigned long page = ba_getauxval(AT_PAGESZ);
	const unsigned char *rnd = (const unsigned char *)ba_getauxval(AT_RANDOM);

	if (!page || (page & (page - 1)))
		page = 4096;
	h->page = page;
	h->dirty_budget = DIRTY_MAX;
	h->page_shift = (unsigned)__builtin_ctzl(page);
	for (unsigned i = 0; rnd && i < sizeof h->secret; i++)
		h->secret = h->secret << 8 | rnd[i];
	if (!h->secret)
		sys_getrandom(&h->secret, sizeof h->secret, GRND_NONBLOCK);
	h->ready = 1;
}

struct heap *heap_get(void)
{
	struct heap *h = &ba_heap;

	if (unlikely(!h->ready))
		heap_init(h);
	return h;
}

void ba_init(void)
{
	heap_get();
}

void ba_stats(struct ba_stats *out)
{
	struct heap *h = heap_get();

	*out = h->st;
	out->dirty_limit = h->dirty_budget;
	heap_walk(h, out);
}

/* Every arena, large mapping (live or kept) and metadata region goes back
 * to the kernel; the heap starts over, keeping its counters of calls. */
void ba_release_all(void)
{
	struct heap *h = heap_get();
	struct ba_stats keep = h->st;

	for (struct arena *a = h->arenas; a; a = a->next)
		os_unmap(h, (void *)a->base, ARENA_SIZE);
	for (size_t i = 0; i < h->large_cap; i++)
		if (h->large[i].addr)
			os_unmap(h, (void *)h->large[i].addr, h->large[i].mapped);
	for (unsigned i = 0; i < LARGE_KEPT; i++)
		if (h->kept[i].addr)
			os_unmap(h, (void *)h->kept[i].addr, h->kept[i].mapped);
	for (struct meta_region *r = h->regions, *next; r; r = next) {
		next = r->next;
		os_unmap(h, (char *)r - h->page, h->page + r->size);
	}
	keep.mmap_calls = h->st.mmap_calls;
	keep.munmap_calls = h->st.munmap_calls;
	uintptr_t secret = h->secret;
	memset(h, 0, sizeof *h);
	h->st.mmap_calls = keep.mmap_calls;
	h->st.munmap_calls = keep.munmap_calls;
	h->st.mremap_calls = keep.mremap_calls;
	h->st.madvise_calls = keep.madvise_calls;
	h->st.mapped_peak = keep.mapped_peak;
	heap_init(h);
	h->secret = secret;
}

#ifdef BA_TESTING
#include "hooks.h"

void ba_test_seal(int sealed)
{
	struct heap *h = heap_get();
	int prot = sealed ? PROT_READ : PROT_READ | PROT_WRITE;

	for (struct meta_region *r = h->regions; r; r = r->next)
		os_protect(r, r->size, prot);
	os_protect(&ba_heap_pages, sizeof ba_heap_pages, prot);
}
#endif

/* A heap's life: made from a zeroed value, its statistics (summed from
 * the counters its runs and it keep, with no walk of its blocks), and its
 * release.  The public calls act on the current heap; the test library's
 * on a heap of their own. */
#include "run.h"

/* O(runs): each run knows how many of its blocks are free and the sum of
 * its live blocks' slack; medium and large blocks are counted as they
 * come and go. */
void _ba_heap_stats(struct heap *h, struct ba_stats *out)
{
	struct proc *pr = PROC;

	memset(out, 0, sizeof *out);
	for (struct run *r = h->runs; r; r = r->all_next) {
		size_t live = r->given - run_free_count(r);
		out->live_blocks += live;
		out->in_use += live * r->size;
		out->requested += live * r->size - r->slack;
	}
	out->live_blocks += h->big.live;
	out->requested += h->big.requested;
	out->in_use += h->big.in_use;
	out->mapped = pr->vm.mapped;
	out->mapped_peak = pr->vm.mapped_peak;
	out->meta = pr->vm.meta;
	out->dirty = h->dirty + pr->kept_bytes;
	out->dirty_limit = dirty_budget(h);
	out->mmap_calls = pr->vm.mmap;
	out->munmap_calls = pr->vm.munmap;
	out->mremap_calls = pr->vm.mremap;
	out->madvise_calls = pr->vm.madvise;
}

/* Every block of h is freed at once: its arenas and large mappings are
 * unmapped, its runs' metadata goes back, and h is a new heap again.
 * Other heaps are untouched. */
static void heap_release(struct heap *h)
{
	_ba_runs_forget(h);
	for (struct arena *a = h->arenas_list, *next; a; a = next) {
		next = a->next;
		_ba_arena_unmap(a);
	}
	_ba_large_release(h);
	memset(h, 0, __builtin_offsetof(struct heap, remote));  /* who owns it and its lists stay */
	__atomic_store_n(&h->remote, NULL, __ATOMIC_RELAXED);  /* its blocks are gone */
}

/* When no heap holds anything any more and none lives in metadata, the
 * metadata regions go too (the map's leaves with them), keeping the
 * secret and the counts of calls. */
static void proc_release_if_empty(void)
{
	struct proc *pr = PROC;

	proc_lock(LOCK_PROC);
	proc_lock(LOCK_META);
	if (pr->arenas || pr->large_count || pr->heaps) {
		proc_unlock(LOCK_META);
		proc_unlock(LOCK_PROC);
		return;
	}
	for (struct meta_region *r = pr->regions, *next; r; r = next) {
		next = r->next;
		pr->vm.meta -= PAGE + r->size;
		_ba_vm_unmap((char *)r - PAGE, PAGE + r->size);
	}
	pr->regions = NULL;
	pr->meta_bump = pr->meta_end = NULL;
	memset(pr->meta_free, 0, sizeof pr->meta_free);
	pr->meta_idle = 0;
	memset(pr->map, 0, sizeof pr->map);
	memset(pr->map_live, 0, sizeof pr->map_live);
	pr->leaves_idle = 0;
	pr->large = NULL;
	pr->large_cap = 0;
	memset(pr->unmapped, 0, sizeof pr->unmapped);
	memset(pr->dropped, 0, sizeof pr->dropped);
	proc_unlock(LOCK_META);
	proc_unlock(LOCK_PROC);
}

_Static_assert(sizeof(struct ba_stats) == 12 * sizeof(size_t),
	       "inc/barealloc.inc describes struct ba_stats as twelve words");

void ba_init(void)
{
	_ba_proc_init();
}

/* These act on the calling thread's heap.  ba_stats and ba_check only
 * read it (a test seals the state, hooks.h), once the blocks other
 * threads freed since its last slow path came back: NULL for a thread
 * with no heap. */
static struct heap *heap_to_read(void)
{
	struct heap *h = heap_current();

	if ((const void *)h == (const void *)_ba_heap_none)
		return NULL;
	if (__atomic_load_n(&h->remote, __ATOMIC_RELAXED))
		heap_leave(heap_enter());
	return h;
}

void ba_stats(struct ba_stats *out)
{
	struct heap *h = heap_to_read();

	if (h)
		_ba_heap_stats(h, out);
	else
		memset(out, 0, sizeof *out);
}

int ba_check(void)
{
	struct heap *h = heap_to_read();

	return h ? _ba_heap_check(h) : 0;
}

/* glibc's malloc_trim for the preload library: the calling thread's heap
 * gives back everything it keeps for reuse (as at a thread's end), and the
 * kept large mappings go.  Whether anything went back to the kernel. */
int _ba_trim(void)
{
	struct proc *pr = PROC;
	unsigned long calls = pr->vm.munmap + pr->vm.madvise;
	struct heap *h = heap_enter();

	if (h)
		_ba_heap_trim(h);
	heap_leave(h);
	_ba_large_drop_kept();
	return pr->vm.munmap + pr->vm.madvise != calls;
}

void ba_release_all(void)
{
	struct heap *h = heap_enter();

	if (h)
		heap_release(h);
	heap_leave(h);
	_ba_large_drop_kept();
	proc_release_if_empty();
}

#ifdef BA_TESTING
#include "hooks.h"

/* The process's state, the main heap and every metadata region. */
void ba_test_seal(int sealed)
{
	enum os_prot prot = sealed ? OS_READ : OS_RW;

	for (struct meta_region *r = PROC->regions; r; r = r->next)
		_ba_os_protect(r, r->size, prot);
	_ba_os_protect(&_ba_state, sizeof _ba_state, prot);
}

/* Heaps side by side, for tests: a heap is a value, here in metadata
 * (which comes zeroed: an empty heap). */
struct ba_test_heap *ba_test_heap_new(void)
{
	struct heap *h = _ba_proc_init() ? NULL : _ba_meta_alloc(sizeof *h);

	if (h) {
		h->pool = h->owned = 1;
		__atomic_fetch_add(&PROC->heaps, 1, __ATOMIC_RELAXED);
		_ba_heap_register(h);
	}
	return (struct ba_test_heap *)h;
}

void ba_test_heap_delete(struct ba_test_heap *t)
{
	struct heap *h = (struct heap *)t;

	heap_release(h);
	_ba_heap_unregister(h);
	_ba_meta_free(t, sizeof(struct heap));
	__atomic_fetch_sub(&PROC->heaps, 1, __ATOMIC_RELAXED);
}

/* The caller acts as t's owner: what other heaps' free() gave back to t
 * comes home first. */
static struct heap *test_heap(struct ba_test_heap *t)
{
	struct heap *h = (struct heap *)t;

	_ba_remote_collect(h);
	return h;
}

void *ba_test_heap_malloc(struct ba_test_heap *t, size_t n)
{
	int zero;

	return _ba_heap_alloc(test_heap(t), n, 16, &zero);
}

void ba_test_heap_free(struct ba_test_heap *t, void *p)
{
	struct heap *h = test_heap(t);

	_ba_block_free(h, _ba_heap_block(h, p, "free"), p, "free");
}

size_t ba_test_heap_usable(struct ba_test_heap *t, void *p)
{
	return _ba_block_usable(_ba_heap_block(test_heap(t), p, "malloc_usable_size"));
}

int ba_test_heap_check(struct ba_test_heap *t)
{
	return _ba_heap_check(test_heap(t));
}

void ba_test_heap_stats(struct ba_test_heap *t, struct ba_stats *out)
{
	_ba_heap_stats(test_heap(t), out);
}

void ba_test_heap_release(struct ba_test_heap *t)
{
	heap_release(test_heap(t));
}
#endif

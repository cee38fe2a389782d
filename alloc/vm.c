/* The glue's calls as the allocator makes them: counted for ba_stats,
 * aligned where asked, and, in the test library, failed on demand. */
#include "heap.h"

#ifdef BA_TESTING
#include "hooks.h"
static long fail_after, fail_count;
static int fail_purges;

void ba_test_fail_maps(long after, long count)
{
	fail_after = after;
	fail_count = count;
}

void ba_test_fail_purges(int on)
{
	fail_purges = on;
}

/* True when this mapping call is one that the test asked to fail. */
static int injected_failure(void)
{
	if (fail_after > 0) {
		fail_after--;
		return 0;
	}
	if (fail_count == 0)
		return 0;
	if (fail_count > 0)
		fail_count--;
	return 1;
}
#else
#define injected_failure() 0
#define fail_purges 0
#endif

/* Every thread counts here: atomically, with no lock. */
static void tally(unsigned long *calls)
{
	__atomic_fetch_add(calls, 1, __ATOMIC_RELAXED);
}

static void count_mapped(long delta)
{
	size_t now = __atomic_add_fetch(&PROC->vm.mapped, (size_t)delta, __ATOMIC_RELAXED);
	size_t peak = __atomic_load_n(&PROC->vm.mapped_peak, __ATOMIC_RELAXED);

	while (now > peak && !__atomic_compare_exchange_n(&PROC->vm.mapped_peak, &peak, now, 1,
							  __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Over-maps by align - PAGE and trims both ends when the kernel's address
 * is not aligned already: three calls only for a new arena or an
 * over-aligned large block. */
void *_ba_vm_map(size_t len, size_t align)
{
	size_t extra = align > PAGE ? align - PAGE : 0;

	if (len + extra < len || len + extra > PTRDIFF_MAX || injected_failure())
		return NULL;
	tally(&PROC->vm.mmap);
	char *start = _ba_os_map(len + extra);
	if (!start)
		return NULL;
	uintptr_t s = (uintptr_t)start, aligned = (s + align - 1) & ~(uintptr_t)(align - 1);
	if (aligned > s) {
		tally(&PROC->vm.munmap);
		_ba_os_unmap(start, aligned - s);
	}
	if (s + extra > aligned) {
		tally(&PROC->vm.munmap);
		_ba_os_unmap((void *)(aligned + len), s + extra - aligned);
	}
	count_mapped((long)len);
	return (void *)aligned;
}

void _ba_vm_unmap(void *p, size_t len)
{
	tally(&PROC->vm.munmap);
	_ba_os_unmap(p, len);
	count_mapped(-(long)len);
}

void *_ba_vm_remap(void *p, size_t old, size_t len)
{
	if (len > old && injected_failure())
		return NULL;
	tally(&PROC->vm.mremap);
	void *q = _ba_os_remap(p, old, len);
	if (q)
		count_mapped((long)len - (long)old);
	return q;
}

/* 0 when the pages were given back and read as zero now. */
int _ba_vm_purge(void *p, size_t len)
{
	tally(&PROC->vm.madvise);
	return fail_purges ? -1 : _ba_os_purge(p, len);
}

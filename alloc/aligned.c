/* The aligned family.  Each has its own rule for a bad alignment (C17 for
 * aligned_alloc, POSIX for posix_memalign, glibc for the obsolete ones);
 * all end in _ba_heap_alloc, which honours any power of two exactly or
 * fails. */
#include "heap.h"

static int power_of_two(size_t x)
{
	return x && !(x & (x - 1));
}

static void *aligned(size_t align, size_t n)
{
	struct heap *h = heap_enter();
	int zero;
	void *p = _ba_heap_alloc(h, n, align, &zero);

	heap_leave(h);
	return p;
}

/* C17: the alignment must be valid (a power of two here); the size need
 * not be a multiple of it, since real programs rely on that. */
void *aligned_alloc(size_t align, size_t n)
{
	if (!power_of_two(align)) {
		_ba_os_set_errno(OS_EINVAL);
		return NULL;
	}
	return aligned(align, n);
}

/* POSIX: a power-of-two multiple of sizeof(void *); the error is returned,
 * *out is untouched on failure, and errno is left alone. */
int posix_memalign(void **out, size_t align, size_t n)
{
	if (!power_of_two(align) || align % sizeof(void *))
		return OS_EINVAL;
	int saved = _ba_os_errno();
	void *p = aligned(align, n);
	if (!p) {
		_ba_os_set_errno(saved);
		return OS_ENOMEM;
	}
	*out = p;
	return 0;
}

/* glibc: alignments above SIZE_MAX/2 + 1 are invalid; others are rounded
 * up to a power of two. */
void *memalign(size_t align, size_t n)
{
	if (align > SIZE_MAX / 2 + 1) {
		_ba_os_set_errno(OS_EINVAL);
		return NULL;
	}
	while (!power_of_two(align))
		align = align ? (align | (align - 1)) + 1 : 1;
	return aligned(align, n);
}

void *valloc(size_t n)
{
	return aligned(PAGE, n);
}

/* The size rounded up to whole pages; pvalloc(0) is one page, as glibc. */
void *pvalloc(size_t n)
{
	if (n > SIZE_MAX - PAGE + 1) {
		_ba_os_set_errno(OS_ENOMEM);
		return NULL;
	}
	return aligned(PAGE, n ? page_round(n) : PAGE);
}

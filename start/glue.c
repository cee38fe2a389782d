/* The freestanding runtime's half of the allocator's glue (alloc/os.h):
 * errno is the runtime's own, and the page size and the random bytes come
 * from the auxiliary vector that _start found. */
#include "ba_sys.h"
#include "barealloc.h"
#include "../alloc/os.h"

/* The freestanding runtime's errno, one per thread: nothing else in the
 * runtime sets one. */
_Thread_local int errno;

int *ba_errno_location(void)
{
	return &errno;
}

unsigned long _ba_os_auxval(unsigned long key)
{
	return ba_getauxval(key);
}

int _ba_os_errno(void)
{
	return errno;
}

void _ba_os_set_errno(int e)
{
	errno = e;
}

/* The runtime attaches and detaches every thread itself (start/tls.c,
 * start/thread.c), and has no options. */
void _ba_os_heap_attached(void)
{
}

void _ba_os_init(void)
{
}

int _ba_os_leak_foreign(void)
{
	return 0;
}

/* The backend's half of the allocator's glue (alloc/os.h) for a shared
 * object loaded into a program that has a libc: nothing came from
 * barealloc's _start, so the auxiliary vector comes from the libc's
 * getauxval when it has one (a weak reference: no libc is linked), else
 * from /proc/self/auxv; errno is the libc's, through its
 * __errno_location; fork's hooks go to its __register_atfork.  No call
 * here allocates. */
#include "ba_sys.h"
#include "barealloc.h"
#include "../alloc/os.h"

unsigned long getauxval(unsigned long key) __attribute__((weak));
int *__errno_location(void) __attribute__((weak));
int __register_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void), void *dso)
	__attribute__((weak));

/* fork's hooks, as a libc's own: what pthread_atfork does inside a
 * program (it is a static wrapper around __register_atfork, which glibc
 * exports).  Registered once, at load, when no lock of ours is held; the
 * handle names this object to the libc. */
static char dso_handle;

__attribute__((constructor)) static void fork_hooks(void)
{
	if (__register_atfork)
		__register_atfork(ba_fork_prepare, ba_fork_parent, ba_fork_child, &dso_handle);
}

/* errno where the program has no libc's: one for the process. */
static int own_errno;

static int *errno_word(void)
{
	return __errno_location ? __errno_location() : &own_errno;
}

int _ba_os_errno(void)
{
	return *errno_word();
}

void _ba_os_set_errno(int e)
{
	*errno_word() = e;
}

/* One entry of the auxiliary vector, read from /proc/self/auxv with raw
 * calls; 0 when it is not there. */
static unsigned long auxv_read(unsigned long key)
{
	unsigned long pair[2] = { 0, 0 };
	long fd = sys_openat(AT_FDCWD, "/proc/self/auxv", O_RDONLY | O_CLOEXEC, 0);

	if (sys_failed(fd))
		return 0;
	while (sys_read((int)fd, pair, sizeof pair) == (long)sizeof pair && pair[0] != AT_NULL)
		if (pair[0] == key)
			break;
	sys_close((int)fd);
	return pair[0] == key ? pair[1] : 0;
}

unsigned long _ba_os_auxval(unsigned long key)
{
	return getauxval ? getauxval(key) : auxv_read(key);
}

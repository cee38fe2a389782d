/* The backend's half of the allocator's glue (alloc/os.h) for a shared
 * object loaded into a program that has a libc: nothing came from
 * barealloc's _start, so the auxiliary vector comes from the libc's
 * getauxval when it has one (a weak reference: no libc is linked), else
 * from /proc/self/auxv; errno is the libc's, through its
 * __errno_location; fork's hooks go to its __register_atfork.  No call
 * here allocates. */
#include "ba_sys.h"
#include "barealloc.h"
#include "../alloc/heap.h"

unsigned long getauxval(unsigned long key) __attribute__((weak));
int *__errno_location(void) __attribute__((weak));
int __register_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void), void *dso)
	__attribute__((weak));

void _IO_list_lock(void) __attribute__((weak));
void _IO_list_unlock(void) __attribute__((weak));

/* fork's hooks, as a libc's own: what pthread_atfork does inside a
 * program (it is a static wrapper around __register_atfork, which glibc
 * exports).  glibc takes its list of streams' lock before its own
 * malloc's locks, since stdio allocates while it holds a stream's lock
 * (getline): barealloc's locks come after it too, taken here (the lock is
 * recursive, so glibc's fork takes it again) and released after them in
 * the parent; glibc resets it in the child.  With one thread, glibc takes
 * neither, and neither does barealloc (ba_fork_prepare). */
static int io_locked;

static void prepare(void)
{
	if ((io_locked = _IO_list_lock && _IO_list_unlock && !_ba_os_single_threaded()))
		_IO_list_lock();
	ba_fork_prepare();
}

static void parent(void)
{
	ba_fork_parent();
	if (io_locked)
		_IO_list_unlock();
}

/* Registered at load, when no lock of ours is held; the library is
 * initialised before any other (-z initfirst), so that other libraries'
 * prepare hooks, which may allocate, run before barealloc's takes its
 * locks (glibc runs them in the reverse order of registration), and their
 * child hooks after its own.  The handle names this object to the libc. */
static char dso_handle;

__attribute__((constructor)) static void fork_hooks(void)
{
	if (__register_atfork)
		__register_atfork(prepare, parent, ba_fork_child, &dso_handle);
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

int pthread_key_create(unsigned *key, void (*destructor)(void *)) __attribute__((weak));
int pthread_setspecific(unsigned key, const void *value) __attribute__((weak));

/* A thread's heap is detached by a thread-specific key's destructor, which
 * the libc runs as the thread ends, again for a heap attached by a later
 * destructor's malloc (up to the libc's rounds).  Neither call allocates
 * for the first keys of a process.  Without them, a thread's heap is left
 * as it is, and adopted by no one. */
static unsigned thread_key;
static int key_state;           /* 0 none yet, 1 made, -1 none to be had */
static int key_lock;

static void thread_ends(void *unused)
{
	(void)unused;
	_ba_heap_detach();
}

void _ba_os_heap_attached(void)
{
	if (!pthread_key_create || !pthread_setspecific)
		return;
	if (!__atomic_load_n(&key_state, __ATOMIC_ACQUIRE)) {
		_ba_os_lock(&key_lock);
		if (!key_state)
			__atomic_store_n(&key_state, pthread_key_create(&thread_key, thread_ends) ? -1 : 1,
					 __ATOMIC_RELEASE);
		_ba_os_unlock(&key_lock);
	}
	if (key_state > 0)
		pthread_setspecific(thread_key, &thread_key);
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

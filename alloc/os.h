/* The glue: the allocator's only bridge to the system.  Nothing else in
 * alloc/ includes ba_sys.h or knows how the process started.  alloc/os.c
 * makes the raw syscalls every build shares; a backend gives what depends
 * on how the process started: start/glue.c for the freestanding runtime
 * (the auxiliary vector from _start, its own errno), so/glue.c for a
 * shared object inside a libc program (the libc's getauxval and errno,
 * through weak references). *
 * Preconditions, stated once: lengths and addresses are multiples of the
 * page size; every call returns the kernel's verdict without touching
 * errno (free must not change it); none allocates.  The allocator counts
 * the calls itself (vm.c), so a backend only makes them. */
#ifndef BA_OS_H
#define BA_OS_H

#include "ba_types.h"

#pragma GCC visibility push(hidden)

/* Linux's values on every ISA barealloc supports (os.c asserts them). */
enum { OS_ENOMEM = 12, OS_EINVAL = 22 };
enum os_prot { OS_NONE = 0, OS_READ = 1, OS_RW = 3 };      /* PROT_READ | PROT_WRITE */

/* The backend's part (start/glue.c, so/glue.c): an entry of the
 * auxiliary vector (0 when it is unknown), and errno. */
unsigned long _ba_os_auxval(unsigned long key);
int _ba_os_errno(void);
void _ba_os_set_errno(int e);

/* The kernel's page size: AT_PAGESZ. */
size_t _ba_os_page_size(void);

/* Fills buf with n (at most 16) unpredictable bytes: AT_RANDOM, else
 * getrandom.  0 when nothing random was available; buf is then zero. */
int _ba_os_random(void *buf, size_t n);

/* len bytes of fresh zeroed read-write memory, page aligned, or NULL. */
void *_ba_os_map(size_t len);
void _ba_os_unmap(void *p, size_t len);

/* Moves or resizes a mapping without copying; NULL when it cannot (the
 * old mapping is then untouched). */
void *_ba_os_remap(void *p, size_t old, size_t len);

/* The pages leave the resident set now and read as zero afterwards: 0.
 * -1 when the kernel refuses (locked pages: mlock, mlockall), and they
 * keep what they hold. */
int _ba_os_purge(void *p, size_t len);

int _ba_os_protect(void *p, size_t len, enum os_prot prot);

/* The calling thread's heap, NULL before its first.  The freestanding
 * runtime keeps it in word OS_TLS_HEAP of the thread control block, the
 * one the thread pointer points to, so that malloc's fast path finds it in
 * one load (alloc/x86_64/fast.asm reads the same word), and calls
 * _ba_heap_attach (heap.h) before any other code of a thread runs, and
 * _ba_heap_detach as it ends (start/tls.c, start/thread.c).  The preload
 * library (BA_PRELOAD) keeps it in an initial-exec thread-local variable of
 * its own, so/preload.c, attaches on a thread's first slow path and
 * detaches through a libc's thread-exit hook (_ba_os_heap_attached). */
#define OS_TLS_HEAP     sizeof(void *)
#ifdef BA_PRELOAD
extern __thread void *_ba_tls_heap __attribute__((tls_model("initial-exec")));
static inline void *_ba_os_tls_heap(void)
{
	return _ba_tls_heap;
}
static inline void _ba_os_tls_heap_set(void *h)
{
	_ba_tls_heap = h;
}
#else
static inline void *_ba_os_tls_heap(void)
{
	void *h;
#if defined(__x86_64__)
	__asm__ volatile("mov %%fs:%c1, %0" : "=r"(h) : "i"(OS_TLS_HEAP));
#else
	__asm__ volatile("mov %%gs:%c1, %0" : "=r"(h) : "i"(OS_TLS_HEAP));
#endif
	return h;
}
static inline void _ba_os_tls_heap_set(void *h)
{
#if defined(__x86_64__)
	__asm__ volatile("mov %0, %%fs:%c1" : : "r"(h), "i"(OS_TLS_HEAP) : "memory");
#else
	__asm__ volatile("mov %0, %%gs:%c1" : : "r"(h), "i"(OS_TLS_HEAP) : "memory");
#endif
}
#endif

/* A thread was given a heap: the backend arranges for _ba_heap_detach at
 * its end, if the runtime does not already. */
void _ba_os_heap_attached(void);

/* Once, at start-up (under the process lock): the backend reads its
 * options.  Then whether a pointer barealloc never gave may be freed as a
 * no-op (the preload library's BAREALLOC_FOREIGN=leak) instead of the
 * abort. */
void _ba_os_init(void);
int _ba_os_leak_foreign(void);
extern int _ba_os_stats_at_exit;        /* the shared objects' BAREALLOC_STATS=1 (so/options.c) */

/* The glue's mutex: a zeroed int is unlocked.  The states are the
 * runtime's futex mutex's (ba_mutex, ba_thread.h: 0 free, 1 taken, 2 taken
 * with waiters), so that the uncontended case, one atomic instruction
 * each way, is inline here and only waiting and waking call the glue. */
void _ba_os_lock_wait(int *m);
void _ba_os_wake(int *m);

/* In the preload library, glibc's __libc_single_threaded (a weak
 * reference) says the process has one thread: no other can hold or wait
 * for a lock, so plain stores do.  Only a thread that holds no lock of
 * ours makes a second thread, so a lock is never taken one way and
 * released the other. */
#ifdef BA_PRELOAD
extern char __libc_single_threaded __attribute__((weak, visibility("default")));   /* glibc's, not ours */
static inline int _ba_os_single_threaded(void)
{
	return &__libc_single_threaded && __libc_single_threaded;
}
#else
static inline int _ba_os_single_threaded(void)
{
	return 0;
}
#endif

static inline void _ba_os_lock(int *m)
{
	int free = 0;

	if (_ba_os_single_threaded())
		*m = 1;
	else if (!__atomic_compare_exchange_n(m, &free, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		_ba_os_lock_wait(m);
}

static inline void _ba_os_unlock(int *m)
{
	if (_ba_os_single_threaded())
		*m = 0;
	else if (__atomic_exchange_n(m, 0, __ATOMIC_RELEASE) == 2)
		_ba_os_wake(m);
}

/* Writes "barealloc: fn(p): why" as one line on fd 2 and ends the process
 * with SIGABRT, as abort(3) does.  Writes no allocator state. */
_Noreturn void _ba_os_misuse(const char *fn, const void *p, const char *why);

#pragma GCC visibility pop

#endif

/* barealloc's threads: create, join, exit and self over raw clone, a futex
 * mutex, and fork with the allocator's locks held across it.
 *
 * A thread runs on a stack of its own (BA_THREAD_STACK bytes under a guard
 * page), with its own thread-local storage: _Thread_local variables and
 * errno are per thread.  Its heap is set up before its function runs, so
 * it may allocate at once; blocks may be freed by any thread.  The joiner
 * unmaps the stack.  A thread never joined keeps its mapping: there is no
 * detach.  Signal handlers may not call these functions (nor malloc). */
#ifndef BA_THREAD_H
#define BA_THREAD_H

#include "ba_types.h"

#define BA_THREAD_STACK (256u << 10)

/* Opaque.  Its address is the thread pointer (%fs:0 on x86-64, %gs:0 on
 * i386, each pointing to itself as the TLS ABI requires). */
struct ba_thread;

/* 0, or EAGAIN when the stack cannot be mapped or the kernel refuses
 * another thread; *out is set only on success. */
int ba_thread_create(struct ba_thread **out, void *(*fn)(void *), void *arg);

/* Waits for t to end, stores what its function returned (or what it gave
 * ba_thread_exit) in *ret unless ret is NULL, and unmaps its stack.  0, or
 * EINVAL for the main thread or the caller itself.  t is gone afterwards:
 * join each thread once. */
int ba_thread_join(struct ba_thread *t, void **ret);

/* Ends the calling thread (only it: the process goes on while any thread
 * runs); its heap is left for another thread to adopt. */
_Noreturn void ba_thread_exit(void *ret);

struct ba_thread *ba_thread_self(void);

/* The kernel's id of t, 0 once it has ended. */
int ba_thread_tid(const struct ba_thread *t);

/* A mutex on a futex (Drepper's three states: 0 free, 1 taken, 2 taken
 * with waiters): one atomic instruction each way when uncontended.  Not
 * recursive.  A zeroed ba_mutex is unlocked. */
typedef struct {
	int state;
} ba_mutex;
#define BA_MUTEX_INIT { 0 }
void ba_mutex_lock(ba_mutex *m);
int ba_mutex_trylock(ba_mutex *m);      /* 0 when taken, EBUSY when held */
void ba_mutex_unlock(ba_mutex *m);

/* fork(2) for a threaded program: the allocator's locks are taken before
 * the call and released in both processes after it, so that the child,
 * which has only the calling thread, can allocate at once.  The child's
 * pid to the parent, 0 to the child, or -errno. */
long ba_fork(void);

#endif

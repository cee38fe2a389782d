/* Heaps of threads.  Each thread gets a heap before its code runs: the
 * main thread _ba_state.main, another a heap some thread left, or a new
 * one in metadata.  A thread that ends gives back what its heap kept for
 * reuse and leaves it, with its live blocks, for the next thread to
 * adopt; meanwhile any thread may free those blocks (remote.c).  And
 * fork's hooks, which hold every lock across the fork. */
#include "run.h"

/* A heap with no run, for a thread whose heap could not be made: all its
 * mallocs and frees take the slow paths, which try again.  Nothing writes
 * it; in .bss, it costs a program no file bytes. */
struct run *_ba_heap_none[NCLASSES];

static int is_none(struct heap *h)
{
	return (const void *)h == (const void *)_ba_heap_none;
}

/* Links a heap made now into the process's list (check.c, fork). */
void _ba_heap_register_locked(struct heap *h)
{
	h->next_all = PROC->heaps_all;
	__atomic_store_n(&PROC->heaps_all, h, __ATOMIC_RELEASE);       /* fork's walk takes no lock */
}

void _ba_heap_register(struct heap *h)
{
	proc_lock(LOCK_PROC);
	_ba_heap_register_locked(h);
	proc_unlock(LOCK_PROC);
}

/* h, which no thread owns, is about to go.  Not while a fork holds the
 * heaps' locks: its walk of the list takes no lock. */
void _ba_heap_unregister(struct heap *h)
{
	proc_lock(LOCK_FORK);
	proc_lock(LOCK_PROC);
	for (struct heap **link = &PROC->heaps_all; *link; link = &(*link)->next_all)
		if (*link == h) {
			*link = h->next_all;
			break;
		}
	proc_unlock(LOCK_PROC);
	proc_unlock(LOCK_FORK);
}

static struct heap *adopt(void)
{
	struct proc *pr = PROC;
	struct heap *h;
	int made = 0;

	proc_lock(LOCK_PROC);
	if ((h = pr->heaps_free))
		pr->heaps_free = h->next_free;
	else if (!pr->main_taken)
		h = &_ba_state.main, pr->main_taken = made = 1;
	proc_unlock(LOCK_PROC);
	if (!h) {
		__atomic_fetch_add(&pr->heaps, 1, __ATOMIC_RELAXED);   /* first: the regions stay */
		if (!(h = _ba_meta_alloc(sizeof *h))) {
			__atomic_fetch_sub(&pr->heaps, 1, __ATOMIC_RELAXED);
			return NULL;
		}
		made = 1;
	}
	if (made)
		_ba_heap_register(h);
	_ba_os_lock(&h->lock);          /* a thread collecting for it finishes first */
	__atomic_store_n(&h->owned, 1, __ATOMIC_SEQ_CST);
	_ba_remote_collect(h);          /* under the lock, which fork may wait for */
	_ba_os_unlock(&h->lock);
	return h;
}

void _ba_heap_attach(void)
{
	struct heap *h = _ba_proc_init() ? NULL : adopt();

	_ba_os_tls_heap_set(h ? h : (struct heap *)_ba_heap_none);
	if (h)
		_ba_os_heap_attached();
}

struct heap *_ba_heap_mine(void)
{
	_ba_heap_attach();
	return is_none(heap_current()) ? NULL : heap_enter();
}

/* The thread ends: its heap keeps only live blocks, and goes on the list
 * of heaps to adopt.  A remote free that saw it owned before it was left
 * is collected here, under the lock; one after, by the freeing thread. */
void _ba_heap_detach(void)
{
	struct heap *h = heap_current();

	if (is_none(h))
		return;
	_ba_os_tls_heap_set((struct heap *)_ba_heap_none);
	_ba_os_lock(&h->lock);
	_ba_remote_collect(h);
	_ba_heap_trim(h);
	__atomic_store_n(&h->owned, 0, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);        /* before the list's load: see remote.c */
	_ba_remote_collect(h);
	_ba_os_unlock(&h->lock);
	proc_lock(LOCK_PROC);
	h->next_free = PROC->heaps_free;
	PROC->heaps_free = h;
	proc_unlock(LOCK_PROC);
}

/* fork: every heap's lock, then the process's, in the order the other
 * paths take them (a heap's, then LOCK_PROC, then LOCK_META); a thread
 * holds at most its own heap's lock while it waits for another lock.  A
 * heap is listed under LOCK_PROC, at the head: once LOCK_PROC is held and
 * the head is one whose heaps are all locked, no heap is missed.  Only
 * prepare holds several heaps' locks, and LOCK_FORK keeps two forks from
 * taking them in different orders. */
static int fork_alone;   /* the fork in progress found one thread: no lock was taken */

void ba_fork_prepare(void)
{
	struct heap *done = NULL;

	/* A process of one thread (as glibc knows, in the preload library)
	 * may fork from a signal handler that interrupted malloc on the
	 * heap's lock: as glibc does, take no lock, which only another thread
	 * could hold. */
	if ((fork_alone = _ba_os_single_threaded()))
		return;
	proc_lock(LOCK_FORK);
	for (;;) {
		struct heap *head = __atomic_load_n(&PROC->heaps_all, __ATOMIC_ACQUIRE);
		for (struct heap *h = head; h != done; h = h->next_all)
			_ba_os_lock(&h->lock);
		done = head;
		proc_lock(LOCK_PROC);
		if (PROC->heaps_all == done)
			break;
		proc_unlock(LOCK_PROC);      /* a thread made a heap meanwhile */
	}
	proc_lock(LOCK_META);
}

/* The heaps' locks go while LOCK_PROC is still held: a heap listed after
 * it went was never locked by prepare, and its owner may hold it. */
void ba_fork_parent(void)
{
	if (fork_alone)
		return;
	proc_unlock(LOCK_META);
	for (struct heap *h = PROC->heaps_all; h; h = h->next_all)
		_ba_os_unlock(&h->lock);
	proc_unlock(LOCK_PROC);
	proc_unlock(LOCK_FORK);
}

/* Only the forking thread lives on in the child: every other heap, owned
 * by a thread that is not there, left or being adopted at the fork, is
 * left for adoption.  A thread that was inside malloc's or free's fast
 * path at the fork leaves its heap as it was at that instant
 * (docs/DESIGN.md). */
void ba_fork_child(void)
{
	struct heap *mine = heap_current();

	for (int l = 0; l < LOCKS; l++)
		_ba_locks[l] = 0;
	PROC->heaps_free = NULL;
	for (struct heap *h = PROC->heaps_all; h; h = h->next_all) {
		h->lock = 0;
		if (h == mine || h->pool)
			continue;
		h->owned = 0;
		h->next_free = PROC->heaps_free;
		PROC->heaps_free = h;
	}
}

/* The process: its state and the main heap's, the kind descriptors that
 * stand for runs where there are none, start-up, and the arena map. */
#include "run.h"

/* Zero, in .bss: the main heap is empty, and its first malloc takes the
 * slow path, which starts the process up. */
union ba_state _ba_state __attribute__((aligned(4096)));
int _ba_locks[LOCKS];

/* The glue's page size must be the one the page tables are built for
 * (x86 Linux has no other); without it barealloc refuses to start, and
 * every allocation fails with ENOMEM. */
int _ba_proc_init(void)
{
	struct proc *p = PROC;
	int ok = 1;

	if (__atomic_load_n(&p->ready, __ATOMIC_ACQUIRE))
		return 0;
	proc_lock(LOCK_PROC);
	if (!p->ready && (ok = _ba_os_page_size() == PAGE)) {
		_ba_os_init();
		_ba_os_random(&p->secret, sizeof p->secret);
		__atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
	}
	proc_unlock(LOCK_PROC);
	return ok ? 0 : -1;
}

/* Registers arena a at addr in the map, or clears the entry (a NULL);
 * a leaf is metadata, made on first use, and counts the arenas it names
 * (struct proc).  -1 when it cannot be made. */
static int map_set(uintptr_t addr, struct arena *a)
{
	struct proc *pr = PROC;
	size_t l1 = (uint64_t)addr >> MAP_L1_SHIFT;
	struct arena ***leaf = &pr->map[l1];
	uint16_t *live = &pr->map_live[l1];
	int fresh = !*leaf;

	if (fresh) {
		struct arena **made = _ba_meta_alloc(sizeof(struct arena *) << MAP_L2_BITS);
		if (!made)
			return -1;
		__atomic_store_n(leaf, made, __ATOMIC_RELEASE);        /* lock-free readers */
	}
	__atomic_store_n(&(*leaf)[(addr >> ARENA_SHIFT) & (((uintptr_t)1 << MAP_L2_BITS) - 1)], a,
			 __ATOMIC_RELEASE);
	if (!a) {
		if (!--*live)
			pr->leaves_idle++;      /* its pages go at the next purge (meta.c) */
	} else if (*live == MAP_PURGED) {
		*live = 1;
	} else {
		if (!*live && !fresh)
			pr->leaves_idle--;      /* named an arena again before a purge */
		++*live;
	}
	return 0;
}

int _ba_map_set(uintptr_t addr, struct arena *a)
{
	proc_lock(LOCK_PROC);
	int r = map_set(addr, a);
	proc_unlock(LOCK_PROC);
	return r;
}

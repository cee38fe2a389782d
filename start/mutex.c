/* The futex mutex of inc/ba_thread.h, apart from the threads: the
 * allocator's glue waits on it (alloc/os.c), in the shared objects too. */
#include "ba_sys.h"
#include "ba_thread.h"

/* 0 free, 1 taken, 2 taken and someone may wait. */
void ba_mutex_lock(ba_mutex *m)
{
	int c = 0;

	if (__atomic_compare_exchange_n(&m->state, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	if (c != 2)
		c = __atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		sys_futex(&m->state, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 2, 0, 0, 0);
		c = __atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE);
	}
}

int ba_mutex_trylock(ba_mutex *m)
{
	int c = 0;

	return __atomic_compare_exchange_n(&m->state, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED) ? 0 : EBUSY;
}

void ba_mutex_unlock(ba_mutex *m)
{
	if (__atomic_exchange_n(&m->state, 0, __ATOMIC_RELEASE) == 2)
		sys_futex(&m->state, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, 0, 0, 0);
}

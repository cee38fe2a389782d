/* Threads over raw clone: create, join, exit, self; fork
 * with the allocator's hooks.  The clone itself and a new thread's first
 * instructions are in start/<isa>.asm: the child starts on its new stack
 * and must not return into the parent's frames. */
#include "thread.h"
#include "barealloc.h"

/* What a thread shares with its creator, as QEMU user mode requires of a
 * CLONE_VM clone; the kernel writes the tid into the control block for
 * the creator, clears it at exit and wakes the joiner's futex. */
#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | \
		      CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)
#define PAGE_BYTES 4096u

_Static_assert(__builtin_offsetof(struct ba_thread, self) == 0, "the TLS ABI: %fs:0 is the thread pointer");
_Static_assert(__builtin_offsetof(struct ba_thread, heap) == sizeof(void *),
	       "alloc/os.h: OS_TLS_HEAP, the word the allocator's fast paths read");

static const unsigned long long all_signals = ~0ULL;

int ba_thread_create(struct ba_thread **out, void *(*fn)(void *), void *arg)
{
	size_t tls = _ba_tls_area();
	size_t len = (PAGE_BYTES + BA_THREAD_STACK + tls + PAGE_BYTES - 1) & ~(size_t)(PAGE_BYTES - 1);
	long m = sys_mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (sys_failed(m))
		return EAGAIN;
	sys_mprotect((void *)m, PAGE_BYTES, PROT_NONE);          /* the guard below the stack */
	char *area = (char *)m + len - tls;
	struct ba_thread *t = _ba_tls_place(area, tls);
	t->fn = fn;
	t->arg = arg;
	t->map = (void *)m;
	t->map_len = len;
	/* The stack ends below the TLS area, 16-byte aligned, with room for
	 * the argument that the i386 entry passes on it. */
	char *stack = (char *)((uintptr_t)area & ~(uintptr_t)15) - 16;

	/* No signal handler may run in the child before its TLS and heap are
	 * ready: it starts with every signal blocked and unblocks the
	 * creator's mask itself. */
	sys_rt_sigprocmask(SIG_SETMASK, &all_signals, &t->sigmask, 8);
	long r = _ba_clone(THREAD_FLAGS, stack, &t->tid, &t->tid, t, t);
	sys_rt_sigprocmask(SIG_SETMASK, &t->sigmask, 0, 8);
	if (sys_failed(r)) {
		sys_munmap((void *)m, len);
		return EAGAIN;
	}
	*out = t;
	return 0;
}

_Noreturn void _ba_thread_main(struct ba_thread *t)
{
	if (_ba_heap_attach)
		_ba_heap_attach();
	sys_rt_sigprocmask(SIG_SETMASK, &t->sigmask, 0, 8);
	ba_thread_exit(t->fn(t->arg));
}

_Noreturn void ba_thread_exit(void *ret)
{
	struct ba_thread *t = ba_thread_self();

	sys_rt_sigprocmask(SIG_SETMASK, &all_signals, 0, 8);
	t->ret = ret;
	if (_ba_heap_detach)
		_ba_heap_detach();
	sys_exit(0);            /* this thread only; the kernel clears t->tid when its stack is free */
}

int ba_thread_join(struct ba_thread *t, void **ret)
{
	int tid;

	if (!t->map || t == ba_thread_self())
		return EINVAL;
	while ((tid = __atomic_load_n(&t->tid, __ATOMIC_ACQUIRE)) != 0)
		sys_futex(&t->tid, FUTEX_WAIT, tid, 0, 0, 0);   /* shared: the kernel's wake is */
	if (ret)
		*ret = t->ret;
	sys_munmap(t->map, t->map_len);
	return 0;
}

struct ba_thread *ba_thread_self(void)
{
	return __builtin_thread_pointer();      /* %fs:0 or %gs:0 */
}

int ba_thread_tid(const struct ba_thread *t)
{
	return t->map ? __atomic_load_n(&t->tid, __ATOMIC_ACQUIRE) : (int)sys_getpid();
}

/* The allocator's hooks (barealloc.h), weak: a program that never
 * allocates does not link the allocator for them. */
void ba_fork_prepare(void) __attribute__((weak));
void ba_fork_parent(void) __attribute__((weak));
void ba_fork_child(void) __attribute__((weak));

long ba_fork(void)
{
	if (ba_fork_prepare)
		ba_fork_prepare();
	long r = sys_fork();
	if (r == 0) {
		ba_thread_self()->tid = (int)sys_gettid();
		if (ba_fork_child)
			ba_fork_child();
	} else if (ba_fork_parent) {
		ba_fork_parent();
	}
	return r;
}

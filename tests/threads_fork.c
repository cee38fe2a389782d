/* fork while other threads allocate, repeatedly, from the main thread and
 * from a worker: the child allocates and frees at once (every kind of
 * block), starts a thread that does too (it adopts a heap some thread of
 * the parent left; not under qemu-user, which cannot), checks its heap
 * and exits cleanly; nothing hangs.  ba_fork holds the
 * allocator's locks across the fork, so the child never finds one held by
 * a thread that does not exist there. */
#include "t.h"
#include "barealloc.h"
#include "ba_thread.h"

#define WORKERS 3
#define FORKS   24              /* per forking thread */
#define WAIT_S  20              /* a child still running after this is hung */

static int stop;

static void *churn(void *arg)
{
	uint64_t rng = (uintptr_t)arg * 0x9E3779B97F4A7C15ULL;
	void *keep[64] = { 0 };

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		uint64_t r = t_rand(&rng);
		unsigned k = (unsigned)(r % 64);
		size_t n = r >> 60 == 0 ? (size_t)(200 << 10) : r >> 58 == 0 ? (size_t)(2 << 20) : 1 + (r >> 40) % 2000;
		free(keep[k]);
		keep[k] = malloc(n);
		if (keep[k])
			((char *)keep[k])[n - 1] = 1;
	}
	for (int k = 0; k < 64; k++)
		free(keep[k]);
	return 0;
}

/* What the child does: every kind of block, here and on a new thread. */
static int child_allocates(void)
{
	static const size_t sizes[] = { 1, 100, 5000, 60000, 300000, 3000000 };

	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char *p = malloc(sizes[i]);
		if (!p)
			return 1;
		p[0] = p[sizes[i] - 1] = 7;
		p = realloc(p, sizes[i] * 2);
		if (!p || p[0] != 7)
			return 2;
		free(p);
	}
	return 0;
}

static void *child_thread(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)child_allocates();
}

static int in_child(void)
{
	struct ba_thread *t;
	void *ret = (void *)1;

	if (child_allocates())
		return 1;
	if (!t_under_qemu() && (ba_thread_create(&t, child_thread, 0) || ba_thread_join(t, &ret) || ret))
		return 2;
	return ba_check() ? 3 : 0;
}

/* Forks FORKS times; the number of children that exited with 0. */
static long fork_many(void)
{
	long clean = 0;

	for (int i = 0; i < FORKS; i++) {
		long pid = ba_fork();
		if (pid == 0)
			sys_exit_group(in_child());
		if (!sys_failed(pid)) {
			int status = t_wait(pid, WAIT_S);
			clean += status == 0;
			if (status)
				t_s("#   a child ended with status "), t_x((unsigned)status), t_nl();
		}
	}
	return clean;
}

static void *forker(void *arg)
{
	(void)arg;
	return (void *)fork_many();
}

int main(void)
{
	struct ba_thread *t[WORKERS], *f;
	void *from_worker = 0;
	int made = 1;

	for (uintptr_t i = 0; i < WORKERS; i++)
		made &= ba_thread_create(&t[i], churn, (void *)(i + 1)) == 0;
	T_TRUE("the allocating threads start", made);
	if (!made)
		return t_exit_status();
	T_EQ(t_name("fork from the main thread while others allocate: ", FORKS, " children exit with 0"),
	     fork_many(), FORKS);
	made = ba_thread_create(&f, forker, 0) == 0;
	T_TRUE("a thread that forks starts", made);
	if (made)
		ba_thread_join(f, &from_worker);
	T_EQ(t_name("fork from another thread while others allocate: ", FORKS, " children exit with 0"),
	     (long)(uintptr_t)from_worker, FORKS);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < WORKERS; i++)
		ba_thread_join(t[i], 0);
	T_EQ("the parent's heap is intact afterwards", ba_check(), 0);
	if (t_under_qemu())
		t_skip("the children also allocate on a thread of their own, adopting a heap",
		       "qemu-user 7.2 aborts (qemu_plugin_vcpu_init_hook) when the child of a threaded fork makes a thread");
	return t_exit_status();
}

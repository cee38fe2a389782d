/* The thread API (inc/ba_thread.h): create and join without leaking a
 * mapping, return values and ba_thread_exit, tids, joins that must fail,
 * the futex mutex under contention, the signal mask a thread starts
 * with, the guard page under a thread's stack, and ba_fork from a thread.
 * Threads only record what they see; the main thread checks and prints.
 * Only one thread at a time calls malloc (the fork child). */
#include "t.h"
#include "barealloc.h"
#include "ba_thread.h"

#define MANY 1000
#define BATCH 4
#define COUNTERS 4
#define INCREMENTS 100000

static long page;

/* The lines of /proc/self/maps: one per mapping.  -1 if unreadable. */
static long count_maps(void)
{
	char buf[4096];
	long fd = sys_openat(AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0), n;
	long lines = 0;

	if (sys_failed(fd))
		return -1;
	while ((n = sys_read((int)fd, buf, sizeof buf)) > 0)
		for (long i = 0; i < n; i++)
			lines += buf[i] == '\n';
	sys_close((int)fd);
	return sys_failed(n) ? -1 : lines;
}

/* Every test below needs its threads: a failed create ends the program
 * with a [FAIL] line rather than with a wild pointer. */
static struct ba_thread *spawn(void *(*fn)(void *), void *arg)
{
	struct ba_thread *t;
	int r = ba_thread_create(&t, fn, arg);

	if (r != 0) {
		T_EQ("ba_thread_create", r, 0);
		sys_exit_group(t_exit_status());
	}
	return t;
}

static void *plus_one(void *arg)
{
	return (char *)arg + 1;
}

/* MANY threads, BATCH at a time, each joined: each returns its argument
 * plus one, and the joiner unmaps its stack.  One batch first, so that
 * whatever a first thread sets up for good (a heap to adopt) is there
 * before the count. */
static void test_many(void)
{
	struct ba_thread *t[BATCH];
	int failed = 0, wrong = 0;

	for (int i = 0; i < BATCH; i++)
		t[i] = spawn(plus_one, 0);
	for (int i = 0; i < BATCH; i++)
		ba_thread_join(t[i], 0);
	long before = count_maps();
	for (int done = 0; done < MANY; done += BATCH) {
		int n = 0;
		for (int i = 0; i < BATCH; i++)
			n += ba_thread_create(&t[n], plus_one, (char *)0 + done + i) == 0;
		failed += BATCH - n;
		for (int i = 0; i < n; i++) {
			void *ret = 0;
			if (ba_thread_join(t[i], &ret) != 0 || ret != (char *)0 + done + i + 1)
				wrong++;
		}
	}
	long after = count_maps();
	T_EQ(t_name("create of ", MANY, " threads, 4 at a time"), failed, 0);
	T_EQ("each join gets its own thread's return value", wrong, 0);
	T_TRUE("/proc/self/maps is readable", before > 0);
	T_EQ(t_name("no mapping left behind by ", MANY, " joined threads"), after, before);
}

/* The exact value each thread returns, by both ways out. */
static void exit_from_below(void *ret)
{
	ba_thread_exit(ret);
}

static int after_exit;

static void *exits_nested(void *arg)
{
	exit_from_below(arg);
	after_exit = 1;         /* never reached */
	return 0;
}

/* The stack pointer before the call into this function, mod 16 (as
 * tests/start.c measures it): the ABI wants 0 on both ISAs. */
static void *entry_sp_mod16(void *arg)
{
	(void)arg;
	return (void *)(((uintptr_t)__builtin_frame_address(0) + 2 * sizeof(void *)) % 16);
}

static void test_return_values(void)
{
	struct ba_thread *t;
	void *ret = 0;

	t = spawn(plus_one, (void *)0x1233);
	T_EQ("join returns 0", ba_thread_join(t, &ret), 0);
	T_EQ("the thread function's return value reaches join", (uintptr_t)ret, 0x1234);
	ret = 0;
	t = spawn(exits_nested, (void *)0x5678);
	ba_thread_join(t, &ret);
	T_EQ("ba_thread_exit's value from a nested call reaches join", (uintptr_t)ret, 0x5678);
	T_EQ("nothing runs after ba_thread_exit", after_exit, 0);
	t = spawn(plus_one, 0);
	T_EQ("join with ret NULL", ba_thread_join(t, 0), 0);
	ba_thread_join(spawn(entry_sp_mod16, 0), &ret);
	T_EQ("a thread's function is called with sp 16-byte aligned", (uintptr_t)ret, 0);
}

/* What a thread sees of itself; it waits on go until the creator has
 * looked at it from outside. */
struct identity {
	int go;
	int gettid, tid, pid;
	int join_self, join_main;
};

static struct ba_thread *main_thread;

static void *look_at_self(void *arg)
{
	struct identity *id = arg;

	while (!__atomic_load_n(&id->go, __ATOMIC_ACQUIRE))
		sys_futex(&id->go, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, 0, 0, 0);
	id->gettid = (int)sys_gettid();
	id->tid = ba_thread_tid(ba_thread_self());
	id->pid = (int)sys_getpid();
	id->join_self = ba_thread_join(ba_thread_self(), 0);
	id->join_main = ba_thread_join(main_thread, 0);
	return 0;
}

static void test_ids(void)
{
	static struct identity id;
	struct ba_thread *t;
	int pid = (int)sys_getpid();

	main_thread = ba_thread_self();
	T_EQ("the main thread's tid is the pid", ba_thread_tid(main_thread), pid);
	T_EQ("join of the main thread fails", ba_thread_join(main_thread, 0), EINVAL);
	t = spawn(look_at_self, &id);
	int outside = ba_thread_tid(t);      /* it waits for go: it runs */
	T_TRUE("a running thread's tid, from its creator, is another than main's",
	       outside > 0 && outside != pid);
	__atomic_store_n(&id.go, 1, __ATOMIC_RELEASE);
	sys_futex(&id.go, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, 0, 0, 0);
	/* Its struct is mapped until the join: the kernel clears the tid at
	 * exit (CLONE_CHILD_CLEARTID), which is what join waits for too. */
	while (ba_thread_tid(t) != 0)
		sys_sched_yield();
	T_EQ("ba_thread_tid is 0 once the thread has ended, before join", ba_thread_tid(t), 0);
	ba_thread_join(t, 0);
	T_EQ("in the thread, ba_thread_tid(self) is gettid()", id.tid, id.gettid);
	T_EQ("in the thread, its tid is what the creator saw", id.tid, outside);
	T_EQ("in the thread, getpid() is the process's", id.pid, pid);
	T_EQ("join of the calling thread fails", id.join_self, EINVAL);
	T_EQ("join of the main thread from a thread fails", id.join_main, EINVAL);
}

/* The mutex: increments of a plain int under it are never lost. */
static ba_mutex lock = BA_MUTEX_INIT;
static int counter;

static void *count_up(void *arg)
{
	(void)arg;
	for (int i = 0; i < INCREMENTS; i++) {
		ba_mutex_lock(&lock);
		counter++;
		ba_mutex_unlock(&lock);
	}
	return 0;
}

static void *try_from_thread(void *arg)
{
	return (void *)(uintptr_t)ba_mutex_trylock(arg);
}

static void test_mutex(void)
{
	struct ba_thread *t[COUNTERS];
	void *ret = 0;

	for (int i = 0; i < COUNTERS; i++)
		t[i] = spawn(count_up, 0);
	for (int i = 0; i < COUNTERS; i++)
		ba_thread_join(t[i], 0);
	T_EQ(t_name("", COUNTERS, " threads x 100000 increments under the mutex"),
	     counter, COUNTERS * INCREMENTS);
	T_EQ("the mutex is free after the last unlock", lock.state, 0);

	T_EQ("trylock of a free mutex", ba_mutex_trylock(&lock), 0);
	T_EQ("trylock of a held mutex fails", ba_mutex_trylock(&lock), EBUSY);
	ba_thread_join(spawn(try_from_thread, &lock), &ret);
	T_EQ("trylock from another thread fails while it is held", (uintptr_t)ret, EBUSY);
	ba_mutex_unlock(&lock);
	ba_thread_join(spawn(try_from_thread, &lock), &ret);
	T_EQ("trylock from another thread after the unlock", (uintptr_t)ret, 0);
	T_EQ("trylock from a thread holds it for everyone", ba_mutex_trylock(&lock), EBUSY);
	ba_mutex_unlock(&lock);
}

/* A new thread runs with its creator's mask (it starts with every signal
 * blocked, for its own set-up, and must undo that). */
static void *read_mask(void *arg)
{
	sys_rt_sigprocmask(SIG_BLOCK, 0, arg, 8);
	return 0;
}

static unsigned long long mask_of(int sig)
{
	return 1ULL << (sig - 1);
}

static void check_mask(const char *name, unsigned long long creator)
{
	unsigned long long old = 0, in_thread = ~0ULL, after = 0;

	sys_rt_sigprocmask(SIG_SETMASK, &creator, &old, 8);
	ba_thread_join(spawn(read_mask, &in_thread), 0);
	sys_rt_sigprocmask(SIG_SETMASK, &old, &after, 8);
	T_EQ(name, in_thread, creator);
	T_EQ(t_join(name, ": the creator's mask is back after create"), after, creator);
}

static void test_signal_mask(void)
{
	check_mask("a thread of a creator blocking nothing blocks nothing", 0);
	check_mask("a thread's mask is its creator's (SIGABRT, SIGCHLD, SIGSEGV)",
		   mask_of(SIGABRT) | mask_of(SIGCHLD) | mask_of(SIGSEGV));
}

/* The guard page: in a child, a thread writes one byte per page down from
 * its stack, telling each page on fd 2 (a line each, so that qemu's own
 * line about the signal is dropped whole), until it faults.  Right below
 * its mapping lies a writable one, mapped after it (mmap goes downwards)
 * before the thread starts writing, so that without the guard page it
 * would write on past its stack's size. */
static int go;

static void *write_down(void *arg)
{
	volatile char here = 0;
	volatile char *p = (volatile char *)((uintptr_t)&here & ~(uintptr_t)(page - 1));

	(void)arg;
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		sys_futex(&go, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, 0, 0, 0);
	for (;;) {
		*p = 1;
		sys_write(2, ".\n", 2);
		p -= page;
	}
	return 0;
}

static int overflow_stack(void *arg)
{
	struct ba_thread *t;

	(void)arg;
	if (ba_thread_create(&t, write_down, 0) != 0)
		return 100;
	sys_mmap(0, 64 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	sys_futex(&go, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, 0, 0, 0);
	ba_thread_join(t, 0);
	return 101;             /* it did not fault */
}

static void test_guard_page(void)
{
	char out[4096];
	long stack_pages = BA_THREAD_STACK / page, pages = 0;

	t_no_core_files();
	int status = t_child(overflow_stack, 0, out, sizeof out);
	for (char *c = out; *c; c++)
		pages += *c == '.';
	T_EQ("a thread writing below its stack dies of SIGSEGV", status & 0x7f, SIGSEGV);
	/* The top of the stack shares a page with the TLS block: the thread
	 * writes its stack's pages, that one included, and no more. */
	T_TRUE(t_name("... at the guard page, after its ", stack_pages, " pages of stack"),
	       pages >= stack_pages - 1 && pages <= stack_pages + 1);
}

/* ba_fork from a thread: the child, whose only thread is the caller, can
 * allocate; the forking thread reaps it. */
static void *fork_and_wait(void *arg)
{
	int *status = arg;
	long pid = ba_fork();

	if (pid == 0) {
		int ok = ba_thread_tid(ba_thread_self()) == (int)sys_gettid();
		void *p = malloc(100);
		free(p);
		sys_exit_group((ok ? 0 : 1) | (p ? 0 : 2));
	}
	if (sys_failed(pid) || sys_failed(sys_wait4((int)pid, status, 0, 0)))
		*status = -1;
	return 0;
}

static void test_fork(void)
{
	int status = -2;

	ba_thread_join(spawn(fork_and_wait, &status), 0);
	T_EQ("ba_fork from a thread: the child exits 0 (tid right, malloc works)", status, 0);
}

int main(void)
{
	page = (long)ba_getauxval(AT_PAGESZ);
	test_many();
	test_return_values();
	test_ids();
	test_mutex();
	test_signal_mask();
	test_guard_page();
	test_fork();
	return t_exit_status();
}

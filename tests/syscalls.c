/* Every syscall stub on a success path and an error path.  Each call goes
 * through t_checkcall, which also checks that the stub preserved the
 * callee-saved registers, the stack pointer and the direction flag. */
#include "t.h"
#include "ba_thread.h"

static const char *first_clobberer;

#define CALL7(fn, a, b, c, d, e, f, g) \
	checked(#fn, (void *)(fn), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), \
		(long)(f), (long)(g))
#define CALL(fn, a, b, c, d, e, f) CALL7(fn, a, b, c, d, e, f, 0)

static long checked(const char *name, void *fn, long a, long b, long c, long d, long e,
		    long f, long g)
{
	int before = t_clobbered;
	long r = t_checkcall(fn, a, b, c, d, e, f, g);

	if (t_clobbered != before && !first_clobberer)
		first_clobberer = name;
	return r;
}

/* A 64-bit argument takes two slots where long is 32 bits, low half first. */
static long call_mmap(void *addr, size_t len, int prot, int flags, int fd, long long off)
{
	if (sizeof(long) < sizeof(long long))
		return CALL7(sys_mmap, addr, len, prot, flags, fd, (long)off, (long)(off >> 32));
	return CALL(sys_mmap, addr, len, prot, flags, fd, (long)off);
}

static long call_ftruncate(int fd, long long len)
{
	if (sizeof(long) < sizeof(long long))
		return CALL(sys_ftruncate, fd, (long)len, (long)(len >> 32), 0, 0, 0);
	return CALL(sys_ftruncate, fd, (long)len, 0, 0, 0, 0);
}

static long page;

/* Maps one page of file fd at off, shared, and writes mark into it. */
static int map_and_mark(long fd, long long off, char mark)
{
	long p = call_mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, off);

	if (sys_failed(p))
		return 0;
	*(char *)p = mark;
	sys_munmap((void *)p, 4096);
	return 1;
}

static int marked(long fd, long long off, char mark)
{
	long p = call_mmap(0, 4096, PROT_READ, MAP_SHARED, (int)fd, off);
	int found = !sys_failed(p) && *(char *)p == mark;

	if (!sys_failed(p))
		sys_munmap((void *)p, 4096);
	return found;
}

static void test_io(void)
{
	int fds[2];
	char buf[8] = { 0 };

	T_EQ("pipe2", CALL(sys_pipe2, fds, O_CLOEXEC, 0, 0, 0, 0), 0);
	T_EQ("write to a pipe", CALL(sys_write, fds[1], "probe", 5, 0, 0, 0), 5);
	T_EQ("read from a pipe", CALL(sys_read, fds[0], buf, sizeof buf, 0, 0, 0), 5);
	T_TRUE("read returns what was written", t_streq(buf, "probe"));
	T_EQ("dup3 to fd 100", CALL(sys_dup3, fds[1], 100, 0, 0, 0, 0), 100);
	T_EQ("close", CALL(sys_close, 100, 0, 0, 0, 0, 0), 0);
	T_EQ("write to fd -1 fails", CALL(sys_write, -1, "x", 1, 0, 0, 0), -EBADF);
	T_EQ("read from fd -1 fails", CALL(sys_read, -1, buf, 1, 0, 0, 0), -EBADF);
	T_EQ("pipe2 with unknown flags fails", CALL(sys_pipe2, fds, 0x1234, 0, 0, 0, 0), -EINVAL);
	T_EQ("dup3 onto itself fails", CALL(sys_dup3, fds[0], fds[0], 0, 0, 0, 0), -EINVAL);
	T_EQ("close of fd -1 fails", CALL(sys_close, -1, 0, 0, 0, 0, 0), -EBADF);
	T_EQ("openat of a missing file fails",
	     CALL(sys_openat, AT_FDCWD, "/nonexistent/barealloc", O_RDONLY, 0, 0, 0), -ENOENT);
	long fd = CALL(sys_openat, AT_FDCWD, "/proc/self/auxv", O_RDONLY | O_CLOEXEC, 0, 0, 0);
	T_TRUE("openat of /proc/self/auxv", !sys_failed(fd));
	sys_close((int)fd);
	sys_close(fds[0]);
	sys_close(fds[1]);
}

static void test_anonymous_maps(void)
{
	long p = call_mmap(0, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *c = (char *)p;

	T_TRUE("mmap of one anonymous page", !sys_failed(p) && p % page == 0);
	T_TRUE("a fresh page reads as zero", c[0] == 0 && c[page - 1] == 0);
	c[0] = 'a';
	c[page - 1] = 'z';
	T_EQ("mmap of length 0 fails",
	     call_mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -EINVAL);
	T_EQ("mmap of a huge length fails", call_mmap(0, (size_t)-page,
		PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -ENOMEM);
	T_EQ("mmap with an offset that is not a multiple of 4096 fails",
	     call_mmap(0, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 100), -EINVAL);

	long q = CALL(sys_mremap, c, page, 4 * page, MREMAP_MAYMOVE, 0, 0);
	T_TRUE("mremap grows a mapping", !sys_failed(q));
	c = (char *)q;
	T_TRUE("mremap keeps the contents", c[0] == 'a' && c[page - 1] == 'z');
	T_EQ("mremap of an unaligned address fails",
	     CALL(sys_mremap, c + 1, page, 2 * page, MREMAP_MAYMOVE, 0, 0), -EINVAL);

	T_EQ("madvise DONTNEED", CALL(sys_madvise, c, page, MADV_DONTNEED, 0, 0, 0), 0);
	T_TRUE("a DONTNEED page reads as zero again", c[0] == 0 && c[page - 1] == 0);
	/* QEMU treats every advice as a hint and accepts unknown ones, but it
	 * checks alignment as the kernel does. */
	T_EQ("madvise of an unaligned address fails",
	     CALL(sys_madvise, c + 1, page, MADV_DONTNEED, 0, 0, 0), -EINVAL);
	T_EQ("mprotect to read-only", CALL(sys_mprotect, c, page, PROT_READ, 0, 0, 0), 0);
	T_EQ("mprotect of an unaligned address fails",
	     CALL(sys_mprotect, c + 1, page, PROT_READ, 0, 0, 0), -EINVAL);
	T_EQ("munmap of an unaligned address fails", CALL(sys_munmap, c + 1, page, 0, 0, 0, 0),
	     -EINVAL);
	T_EQ("munmap", CALL(sys_munmap, c, 4 * page, 0, 0, 0, 0), 0);

	/* Two pages; growing the first in place would overwrite the second. */
	long two = call_mmap(0, 2 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_EQ("mremap cannot grow into a mapped neighbour without MAYMOVE",
	     CALL(sys_mremap, two, page, 2 * page, 0, 0, 0), -ENOMEM);
	sys_munmap((void *)two, 2 * page);
}

/* File offsets check the i386 stub's conversion to mmap2's 4096-byte units:
 * a wrong shift maps the wrong page, and dropping the high half of an
 * offset past 2^32 would alias offset 0. */
static void test_file_offsets(void)
{
	const long long high = 1LL << 32;
	long fd = CALL(sys_memfd_create, "barealloc-test", MFD_CLOEXEC, 0, 0, 0, 0);

	T_TRUE("memfd_create", !sys_failed(fd));
	T_EQ("memfd_create with a too long name fails", CALL(sys_memfd_create,
		"0123456789012345678901234567890123456789012345678901234567890123456789"
		"0123456789012345678901234567890123456789012345678901234567890123456789"
		"0123456789012345678901234567890123456789012345678901234567890123456789"
		"0123456789012345678901234567890123456789", 0, 0, 0, 0, 0), -EINVAL);
	T_EQ("ftruncate past 4 GiB", call_ftruncate((int)fd, high + 2 * 4096), 0);
	T_EQ("ftruncate of fd -1 fails", call_ftruncate(-1, page), -EBADF);

	T_TRUE("file offset 8192 maps the file's third page", map_and_mark(fd, 8192, 'T') &&
	       !marked(fd, 0, 'T') && !marked(fd, 4096, 'T') && marked(fd, 8192, 'T'));
	/* QEMU 7.2's linux-user passes the offset to its target_mmap() as an
	 * abi_ulong, 32 bits for an i386 guest, so it wraps offsets past 4 GiB;
	 * later QEMU takes an off_t.  The kernel itself is tested natively. */
	if (sizeof(long) < 8 && t_under_qemu()) {
		t_skip("file offset 2^32", "qemu-i386 7.2 truncates mmap2 offsets to 32 bits");
	} else {
		T_TRUE("file offset 2^32 is not offset 0", map_and_mark(fd, high, 'H') &&
		       !marked(fd, 0, 'H') && marked(fd, high, 'H'));
		T_TRUE("file offset 2^32 + 4096 is the next page", !marked(fd, high + 4096, 'H'));
	}
	sys_close((int)fd);
}

static int child_status(long pid)
{
	int status = -1;

	if (sys_failed(pid) || sys_failed(CALL(sys_wait4, pid, &status, 0, 0, 0, 0)))
		return -1;
	return status;
}

static void test_processes(void)
{
	long pid = CALL(sys_getpid, 0, 0, 0, 0, 0, 0);
	struct ba_rlimit lim, got;

	T_TRUE("getpid", pid > 0 && sys_getpid() == pid);
	T_EQ("gettid of the only thread is the pid", CALL(sys_gettid, 0, 0, 0, 0, 0, 0), pid);
	T_EQ("kill with signal 0 probes", CALL(sys_kill, pid, 0, 0, 0, 0, 0), 0);
	T_EQ("kill with an invalid signal fails", CALL(sys_kill, pid, 1000, 0, 0, 0, 0), -EINVAL);
	T_EQ("tgkill with signal 0 probes", CALL(sys_tgkill, pid, pid, 0, 0, 0, 0), 0);
	T_EQ("tgkill with an invalid signal fails",
	     CALL(sys_tgkill, pid, pid, 1000, 0, 0, 0), -EINVAL);

	T_EQ("prlimit64 reads RLIMIT_NOFILE", CALL(sys_prlimit64, 0, RLIMIT_NOFILE, 0, &got, 0, 0), 0);
	T_TRUE("RLIMIT_NOFILE is sane", got.rlim_cur > 0 && got.rlim_cur <= got.rlim_max);
	CALL(sys_prlimit64, 0, RLIMIT_CORE, 0, &lim, 0, 0);
	lim.rlim_cur = 0;   /* no core files from the children below */
	T_EQ("prlimit64 sets RLIMIT_CORE", CALL(sys_prlimit64, 0, RLIMIT_CORE, &lim, 0, 0, 0), 0);
	CALL(sys_prlimit64, 0, RLIMIT_CORE, 0, &got, 0, 0);
	T_EQ("prlimit64 reads the new limit back", got.rlim_cur, 0);
	T_EQ("prlimit64 of an unknown resource fails",
	     CALL(sys_prlimit64, 0, 999, 0, &got, 0, 0), -EINVAL);

	pid = CALL(sys_fork, 0, 0, 0, 0, 0, 0);
	if (pid == 0)
		sys_exit_group(42);
	T_EQ("fork + exit_group(42) + wait4", child_status(pid), 42 << 8);
	pid = CALL(sys_fork, 0, 0, 0, 0, 0, 0);
	if (pid == 0)
		sys_exit(7);
	T_EQ("exit(7) of the only thread ends the process", child_status(pid), 7 << 8);
	pid = sys_fork();
	if (pid == 0) {
		sys_kill((int)sys_getpid(), SIGABRT);
		sys_exit_group(0);
	}
	T_EQ("a child killed by SIGABRT", child_status(pid) & 0x7f, SIGABRT);
	pid = sys_fork();
	if (pid == 0) {
		char *argv[] = { "true", 0 };
		sys_execve("/bin/true", argv, ba_environ);
		sys_exit_group(99);
	}
	T_EQ("fork + execve(/bin/true)", child_status(pid), 0);
	T_EQ("execve of a missing file fails",
	     CALL(sys_execve, "/nonexistent/barealloc", 0, 0, 0, 0, 0), -ENOENT);
	T_EQ("wait4 with no children fails", CALL(sys_wait4, -1, 0, 0, 0, 0, 0), -ECHILD);
}

static void test_signals(void)
{
	unsigned long long mask = 0;
	unsigned long act[4];

	T_EQ("rt_sigprocmask reads the mask",
	     CALL(sys_rt_sigprocmask, SIG_BLOCK, 0, &mask, 8, 0, 0), 0);
	T_EQ("rt_sigprocmask with an unknown how fails",
	     CALL(sys_rt_sigprocmask, 99, &mask, 0, 8, 0, 0), -EINVAL);
	T_EQ("rt_sigaction reads SIGABRT's action",
	     CALL(sys_rt_sigaction, SIGABRT, 0, act, 8, 0, 0), 0);
	T_EQ("rt_sigaction cannot change SIGKILL",
	     CALL(sys_rt_sigaction, SIGKILL, act, 0, 8, 0, 0), -EINVAL);
}

static void test_time_and_futex(void)
{
	struct ba_timespec a, b, wait = { 0, 1000000 };
	int word = 1;
	unsigned char r1[16] = { 0 }, r2[16] = { 0 };
	int differ = 0;

	T_EQ("clock_gettime(CLOCK_MONOTONIC)", CALL(sys_clock_gettime, CLOCK_MONOTONIC, &a, 0, 0, 0, 0), 0);
	CALL(sys_clock_gettime, CLOCK_MONOTONIC, &b, 0, 0, 0, 0);
	T_TRUE("nanoseconds are below one second", a.tv_nsec >= 0 && a.tv_nsec < 1000000000);
	T_TRUE("the monotonic clock does not go back",
	       b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec));
	CALL(sys_clock_gettime, CLOCK_REALTIME, &a, 0, 0, 0, 0);
	T_TRUE("the real-time clock is past 2023 (64-bit seconds)", a.tv_sec > 1700000000LL);
	T_EQ("clock_gettime of an unknown clock fails",
	     CALL(sys_clock_gettime, 12345, &a, 0, 0, 0, 0), -EINVAL);

	T_EQ("futex WAKE with no waiter", CALL(sys_futex, &word, FUTEX_WAKE, 1, 0, 0, 0), 0);
	T_EQ("futex WAIT on a changed word", CALL(sys_futex, &word, FUTEX_WAIT, 2, 0, 0, 0), -EAGAIN);
	T_EQ("futex WAIT times out after 1 ms",
	     CALL(sys_futex, &word, FUTEX_WAIT, 1, &wait, 0, 0), -ETIMEDOUT);
	T_EQ("futex with an unknown op fails", CALL(sys_futex, &word, 99, 0, 0, 0, 0), -ENOSYS);

	T_EQ("getrandom fills 16 bytes", CALL(sys_getrandom, r1, 16, 0, 0, 0, 0), 16);
	CALL(sys_getrandom, r2, 16, 0, 0, 0, 0);
	for (int i = 0; i < 16; i++)
		differ |= r1[i] != r2[i];
	T_TRUE("two getrandom calls differ", differ);
	T_EQ("getrandom with unknown flags fails", CALL(sys_getrandom, r1, 16, 0x1000, 0, 0, 0), -EINVAL);
}

/* The calls the thread runtime uses, outside it.  set_tid_address and
 * set_thread_area change the calling thread's state: each call below
 * leaves it as it was. */
static int cleared_tid;

static void test_thread_calls(void)
{
	long tid = sys_gettid(), r;

	T_EQ("sched_yield", CALL(sys_sched_yield, 0, 0, 0, 0, 0, 0), 0);
	T_EQ("set_tid_address returns the caller's tid",
	     CALL(sys_set_tid_address, &cleared_tid, 0, 0, 0, 0, 0), tid);
	T_EQ("set_tid_address(NULL), as exec left it, returns it too",
	     CALL(sys_set_tid_address, 0, 0, 0, 0, 0, 0), tid);

	/* A thread must share signal handlers, which needs a shared mm.  A
	 * kernel that took these would start a child here: it ends at once. */
	r = CALL(sys_clone, CLONE_THREAD, 0, 0, 0, 0, 0);
	if (r == 0)
		sys_exit(99);
	T_EQ("clone(CLONE_THREAD) without CLONE_SIGHAND fails", r, -EINVAL);
	r = CALL(sys_clone, CLONE_SIGHAND, 0, 0, 0, 0, 0);
	if (r == 0)
		sys_exit(99);
	T_EQ("clone(CLONE_SIGHAND) without CLONE_VM fails", r, -EINVAL);
	/* Without a new stack, clone is fork: the child returns here on a copy. */
	r = CALL(sys_clone, SIGCHLD, 0, 0, 0, 0, 0);
	if (r == 0)
		sys_exit_group(37);
	T_EQ("clone(SIGCHLD) forks a child whose status reaches wait4", child_status(r), 37 << 8);

	if (sizeof(long) == 8) {
		unsigned long fs = 0;
		T_EQ("arch_prctl(ARCH_GET_FS)", CALL(sys_arch_prctl, ARCH_GET_FS, &fs, 0, 0, 0, 0), 0);
		T_EQ("ARCH_GET_FS is the thread pointer", fs, (uintptr_t)ba_thread_self());
		T_EQ("arch_prctl(ARCH_SET_FS) to the same base",
		     CALL(sys_arch_prctl, ARCH_SET_FS, fs, 0, 0, 0, 0), 0);
		T_EQ("arch_prctl with an unknown code fails",
		     CALL(sys_arch_prctl, 0x9999, 0, 0, 0, 0, 0), -EINVAL);
	} else if (!t_under_qemu()) {
		/* i386 has the call (for ARCH_MAP_VDSO_* and the like) but no
		 * %fs base to get: the thread pointer is set_thread_area's. */
		T_EQ("arch_prctl(ARCH_GET_FS) fails on i386",
		     CALL(sys_arch_prctl, ARCH_GET_FS, 0, 0, 0, 0, 0), -EINVAL);
	} else {
		t_skip("arch_prctl(ARCH_GET_FS) fails on i386",
		       "qemu-i386 7.2 does not implement arch_prctl (-ENOSYS)");
	}

	/* x86-64's syscall table lists set_thread_area without an entry
	 * point (64-bit code has arch_prctl); i386 checks the entry number.
	 * Flags 0x51: a 32-bit segment, limit in pages, usable (the runtime's);
	 * 0x28: read-exec-only and not present, which the kernel takes as
	 * "empty this entry". */
	struct ba_user_desc bad = { 100, 0, 0xfffff, 0x51 };
	if (sizeof(long) == 8) {
		T_EQ("set_thread_area is not a 64-bit call",
		     CALL(sys_set_thread_area, &bad, 0, 0, 0, 0, 0), -ENOSYS);
	} else {
		struct ba_user_desc d = { (unsigned)-1, (unsigned)(uintptr_t)ba_thread_self(),
					  0xfffff, 0x51 };
		T_EQ("set_thread_area of an entry outside the TLS ones fails",
		     CALL(sys_set_thread_area, &bad, 0, 0, 0, 0, 0), -EINVAL);
		T_EQ("set_thread_area(-1) takes a free TLS entry",
		     CALL(sys_set_thread_area, &d, 0, 0, 0, 0, 0), 0);
		T_TRUE("... and says which", d.entry_number != (unsigned)-1);
		d.base_addr = d.limit = 0;
		d.flags = 0x28;
		T_EQ("set_thread_area empties it again", CALL(sys_set_thread_area, &d, 0, 0, 0, 0, 0), 0);
	}
}

static void test_generic(void)
{
	T_EQ("sys_call6(SYS_getpid)", CALL7(sys_call6, SYS_getpid, 0, 0, 0, 0, 0, 0), sys_getpid());
	long p = CALL7(sys_call6, SYS_mmap, 0, page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_TRUE("sys_call6(SYS_mmap) with six arguments", !sys_failed(p) && p % page == 0);
	T_EQ("sys_call6(SYS_munmap)", CALL7(sys_call6, SYS_munmap, p, page, 0, 0, 0, 0), 0);
	T_EQ("sys_call6 of an unknown number fails", CALL7(sys_call6, 99999, 0, 0, 0, 0, 0, 0),
	     -ENOSYS);
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	page = (long)ba_getauxval(AT_PAGESZ);
	test_io();
	test_anonymous_maps();
	test_file_offsets();
	test_processes();
	test_signals();
	test_time_and_futex();
	test_thread_calls();
	test_generic();
	T_TRUE(first_clobberer ? first_clobberer : "every stub preserves the callee-saved registers, sp and DF",
	       t_clobbered == 0);
	return t_exit_status();
}

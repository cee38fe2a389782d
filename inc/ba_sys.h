/* The Linux system interface of a program without libc: raw syscall stubs,
 * the ABI constants they use, and the process start-up state.
 *
 * Every sys_* function traps straight into the kernel and returns its raw
 * result: a value in -4095..-1 is a negated errno, anything else is success
 * (an mmap address on i386 may be above 2 GiB, so test with sys_failed(),
 * never with a sign test).  Nothing here sets errno. */
#ifndef BA_SYS_H
#define BA_SYS_H

#include "ba_types.h"

/* SYS_<name> and the PROT_, MAP_, MADV_, errno, AT_ ... constants. */
#define BA_SYSCALL(name, x86_64, i386, doc) enum { SYS_##name = BA_ISA_PICK(x86_64, i386) };
#define BA_CONST(name, value, doc) enum { name = (value) };
#if defined(__x86_64__)
#define BA_ISA_PICK(x86_64, i386) x86_64
#elif defined(__i386__)
#define BA_ISA_PICK(x86_64, i386) i386
#else
#error "barealloc supports x86-64 and i386"
#endif
#include "ba_abi.tab"
#undef BA_SYSCALL
#undef BA_CONST

/* The kernel's __kernel_timespec: 64-bit fields on both ISAs, which is why
 * i386 uses the *_time64 calls. */
struct ba_timespec {
	long long tv_sec;
	long long tv_nsec;
};

/* prlimit64 takes 64-bit limits on both ISAs. */
struct ba_rlimit {
	unsigned long long rlim_cur;
	unsigned long long rlim_max;
};
#define BA_RLIM_INFINITY (~0ULL)

static inline int sys_failed(long r)
{
	return (unsigned long)r > -4096UL;
}

long sys_read(int fd, void *buf, size_t n);
long sys_write(int fd, const void *buf, size_t n);
long sys_close(int fd);
/* off is in bytes on both ISAs.  i386 traps to mmap2, which counts 4096-byte
 * units: off must then be a multiple of 4096 (-EINVAL) and below 2^44
 * (-EOVERFLOW), the limits the kernel applies on x86-64 as well. */
long sys_mmap(void *addr, size_t len, int prot, int flags, int fd, long long off);
long sys_mprotect(void *addr, size_t len, int prot);
long sys_munmap(void *addr, size_t len);
long sys_mremap(void *old, size_t oldlen, size_t newlen, int flags, void *newaddr);
long sys_madvise(void *addr, size_t len, int advice);
long sys_rt_sigaction(int sig, const void *act, void *old, size_t setsize);
long sys_rt_sigprocmask(int how, const void *set, void *old, size_t setsize);
long sys_sched_yield(void);
long sys_getpid(void);
long sys_gettid(void);
long sys_fork(void);
/* The raw call, in the kernel's argument order per ISA (x86-64: flags,
 * stack, ptid, ctid, tls; i386: flags, stack, ptid, tls, ctid).  Usable
 * for a fork-like clone, without a new stack; threads need their first
 * instructions in assembly, which ba_thread_create (ba_thread.h) has. */
long sys_clone(unsigned long flags, void *stack, int *ptid, unsigned long a4, unsigned long a5);
long sys_arch_prctl(int code, unsigned long addr);
/* i386's struct user_desc: flags packs seg_32bit (bit 0), contents (1-2),
 * read_exec_only (3), limit_in_pages (4), seg_not_present (5), useable (6). */
struct ba_user_desc {
	unsigned entry_number;
	unsigned base_addr;
	unsigned limit;
	unsigned flags;
};
long sys_set_thread_area(struct ba_user_desc *d);
long sys_set_tid_address(int *tid);
long sys_execve(const char *path, char *const argv[], char *const envp[]);
_Noreturn void sys_exit(int status);
_Noreturn void sys_exit_group(int status);
long sys_wait4(int pid, int *status, int options, void *rusage);
long sys_kill(int pid, int sig);
long sys_tgkill(int tgid, int tid, int sig);
long sys_ftruncate(int fd, long long len);
long sys_futex(int *uaddr, int op, int val, const struct ba_timespec *timeout,
	       int *uaddr2, int val3);
long sys_clock_gettime(int clock, struct ba_timespec *ts);
long sys_openat(int dirfd, const char *path, int flags, int mode);
long sys_dup3(int oldfd, int newfd, int flags);
long sys_pipe2(int fds[2], int flags);
long sys_prlimit64(int pid, int resource, const struct ba_rlimit *new_limit,
		   struct ba_rlimit *old_limit);
long sys_getrandom(void *buf, size_t n, unsigned flags);
long sys_memfd_create(const char *name, unsigned flags);
/* Any syscall by number, with up to six arguments (unused ones ignored). */
long sys_call6(long nr, long a, long b, long c, long d, long e, long f);

/* Set up by _start before main runs.  _start calls main with argc, argv
 * and envp; main may take all three, the first two, or none. */
extern char **ba_environ;
extern unsigned long *ba_auxv; /* (key, value) pairs ending with AT_NULL */
unsigned long ba_getauxval(unsigned long key); /* 0 when the key is absent */

/* The compiler's helpers, for programs linked without libgcc: gcc calls
 * them for 64-bit division and remainder on i386 (start/i386/div64.asm,
 * with start/div64.c as reference), and for population and bit counts
 * where the CPU may lack the instruction (start/bits.c).  Programs call
 * them through / and % and the __builtin_ functions, not by name.
 * Division of 128-bit integers on x86-64 (__udivti3 and its kin) is not
 * provided. */
unsigned long long __udivmoddi4(unsigned long long n, unsigned long long d,
				unsigned long long *rem);
long long __divmoddi4(long long a, long long b, long long *rem);
unsigned long long __udivdi3(unsigned long long n, unsigned long long d);
unsigned long long __umoddi3(unsigned long long n, unsigned long long d);
long long __divdi3(long long a, long long b);
long long __moddi3(long long a, long long b);
int __popcountsi2(unsigned x);
int __popcountdi2(unsigned long long x);
int __ctzdi2(unsigned long long x);
int __ffsdi2(long long x);

/* Decimal and 0x-prefixed hex, NUL-terminated in buf; they return buf. */
#define BA_UTOA_SIZE 21
#define BA_XTOA_SIZE 19
char *ba_utoa(unsigned long long v, char buf[BA_UTOA_SIZE]);
char *ba_xtoa(unsigned long long v, char buf[BA_XTOA_SIZE]);

#endif

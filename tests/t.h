/* The freestanding test harness.  Each check prints one line,
 *   [OK]   <case>
 *   [FAIL] <case>: got <value>, want <value> (file:line)
 * and a program's exit status is its number of failures, capped at 125 so
 * that it cannot be mistaken for a death by signal.  tests/run.sh counts
 * the lines and names the ISA and runner of every failure. */
#ifndef T_H
#define T_H

#include "ba_sys.h"

extern int t_failures;

/* A line builder: each call appends to the pending output line. */
void t_s(const char *s);
void t_d(long long v);           /* decimal; -4095..-1 also shows the errno name */
void t_x(unsigned long long v);  /* 0x-prefixed hex */
void t_nl(void);                 /* ends the line and writes it to fd 1 */

int t_check(const char *name, int ok, const char *what, const char *file, int line);
int t_check_eq(const char *name, long long got, long long want, const char *file, int line);
#define T_TRUE(name, cond) t_check((name), (cond) != 0, #cond, __FILE__, __LINE__)
#define T_EQ(name, got, want) \
	t_check_eq((name), (long long)(got), (long long)(want), __FILE__, __LINE__)

/* A case that cannot run on this runner: "[SKIP] <case>: <why>". */
void t_skip(const char *name, const char *why);
/* The runner, from BA_TEST_RUNNER (set by tests/run.sh): native or qemu-<isa>. */
int t_under_qemu(void);

/* Builds a case name with a number in it, e.g. "mmap offset 2^32". */
const char *t_name(const char *prefix, long long n, const char *suffix);

/* Appends text, a decimal or a 0x-prefixed hex number to the NUL-terminated
 * string in buf (size bytes, truncating), for names with several values in
 * them.  Each returns buf, so that a call can build a name as it passes it. */
char *t_cat(char *buf, size_t size, const char *s);
char *t_catu(char *buf, size_t size, unsigned long long v);
char *t_catx(char *buf, size_t size, unsigned long long v);

/* a followed by b, in one of four rotating buffers, so that
 * t_join(a, t_join(b, c)) works; a case name is printed before the buffer
 * comes round again. */
const char *t_join(const char *a, const char *b);

/* Sets RLIMIT_CORE's soft limit to 0: no core files from the children that
 * a misuse test expects to die of SIGABRT. */
void t_no_core_files(void);

/* The run's random seed: BA_TEST_SEED from the environment if set, else
 * fresh from getrandom; printed as a "# seed" line so a run can be replayed. */
uint64_t t_seed(const char *test);
uint64_t t_rand(uint64_t *state);  /* xorshift64*: fast and adequate for tests */

/* Calls fn(a..g) with canaries in every callee-saved register (checkasm's
 * idea) and records in t_clobbered what the callee failed to preserve:
 * 1 a callee-saved register, 2 the stack pointer, 4 the direction flag. */
long t_checkcall(void *fn, long a, long b, long c, long d, long e, long f, long g);
extern int t_clobbered;
/* The same function, for a 64-bit result (edx:eax on i386). */
long long t_checkcall64(void *fn, long a, long b, long c, long d, long e, long f, long g);

/* Runs fn(arg) in a forked child whose fd 2 is a pipe, and returns the
 * child's wait status (-1 if fork or wait failed).  What the child wrote on
 * fd 2 is left in out, NUL-terminated (at most size - 1 bytes), without the
 * line qemu-user adds when its guest dies of a signal.  A child whose fn
 * returns exits with fn's result. */
int t_child(int (*fn)(void *), void *arg, char *out, size_t size);

/* The wait status of child pid, or -1 (and the child killed) when it has
 * not ended within seconds: a hung child fails its case, not the run. */
int t_wait(long pid, int seconds);

/* s is exactly one line, ending in a newline, that starts with prefix and
 * has part somewhere after it. */
int t_one_line(const char *s, const char *prefix, const char *part);

/* Whether part occurs in s. */
int t_contains(const char *s, const char *part);

/* The process's resident memory in bytes (/proc/self/statm), 0 if it
 * cannot be read.  Under qemu-user it is the emulator's. */
size_t t_rss(void);

/* Writes what, then bytes in KiB and " KiB", on the current line. */
void t_kib(const char *what, size_t bytes);

const char *t_getenv(const char *name);
int t_streq(const char *a, const char *b);
size_t t_strlen(const char *s);
int t_exit_status(void);   /* what main returns: the failure count, capped */

#endif

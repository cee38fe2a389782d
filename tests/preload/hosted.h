/* The harness of the hosted tests of the preload library: programs built
 * with the system's gcc against glibc, run with build/<isa>/libbarealloc.so
 * preloaded.  The lines are those of tests/t.h,
 *   [OK]   <case>
 *   [FAIL] <case>: <what went wrong> (file:line)
 *   [SKIP] <case>: <why>
 * and the exit status is the number of failures, capped at 125.  Every
 * line is one write(2) to fd 1 from a buffer on the stack: no stdio
 * buffer is duplicated by fork, and a line is whole even when threads
 * print at once. */
#ifndef HOSTED_H
#define HOSTED_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int h_failures;

static __attribute__((unused)) void h_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static __attribute__((unused)) void h_line(const char *fmt, ...)
{
	char buf[600];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	if (write(1, buf, (size_t)n) < 0)
		_exit(126);
}

/* One case: [OK] name, or [FAIL] name: why (file:line), why being a
 * printf format for what was seen. */
static __attribute__((unused)) int h_check(const char *file, int line, int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static __attribute__((unused)) int h_check(const char *file, int line, int ok, const char *name, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	if (ok) {
		h_line("[OK]   %s", name);
		return 1;
	}
	__atomic_add_fetch(&h_failures, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	h_line("[FAIL] %s: %s (%s:%d)", name, why, file, line);
	return 0;
}
#define CHECK(ok, name, ...) h_check(__FILE__, __LINE__, (ok) != 0, (name), __VA_ARGS__)

static __attribute__((unused)) void h_skip(const char *name, const char *why)
{
	h_line("[SKIP] %s: %s", name, why);
}

static __attribute__((unused)) int h_exit_status(void)
{
	return h_failures > 125 ? 125 : h_failures;
}

/* The runner, from BA_TEST_RUNNER (tests/run.sh): qemu-user runs the
 * same cases with fewer iterations. */
static __attribute__((unused)) int h_under_qemu(void)
{
	const char *r = getenv("BA_TEST_RUNNER");

	return r && !strncmp(r, "qemu", 4);
}

/* BA_TEST_SEED from the environment, else fresh; printed so that a run
 * can be replayed. */
static __attribute__((unused)) uint64_t h_seed(const char *test)
{
	const char *s = getenv("BA_TEST_SEED");
	uint64_t seed = 0;

	if (s && *s)
		seed = strtoull(s, 0, 0);
	else if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
		seed = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL;
	if (!seed)
		seed = 1;
	h_line("# %s: seed %llu (BA_TEST_SEED=%llu replays it)", test,
	       (unsigned long long)seed, (unsigned long long)seed);
	return seed;
}

static __attribute__((unused)) uint64_t h_rand(uint64_t *state)   /* xorshift64* */
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* A size or a pointer the compiler cannot see through: no
 * -Walloc-size-larger-than for sizes meant to fail, no -Wuse-after-free
 * for a block that a failed realloc kept. */
static __attribute__((unused)) size_t opaque(size_t n)
{
	volatile size_t v = n;
	return v;
}

static __attribute__((unused)) void *same(void *p)
{
	void *volatile v = p;
	return v;
}

/* barealloc's own entry points, which only the preload library has. */
static __attribute__((unused)) void *h_ba(const char *name)
{
	return dlsym(RTLD_DEFAULT, name);
}

/* Runs fn(arg) in a forked child whose fd 2 is a pipe; returns its wait
 * status (-1 if fork failed) and leaves what it wrote on fd 2 in out,
 * without the lines qemu-user adds when its guest dies of a signal.  A
 * child whose fn returns exits with fn's result.  No core files. */
static __attribute__((unused)) int h_child(int (*fn)(void *), void *arg, char *out, size_t size)
{
	int fds[2], status = -1;
	size_t len = 0;
	struct rlimit no_core = { 0, 0 };

	out[0] = 0;
	if (pipe(fds))
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &no_core);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		_exit(fn(arg));
	}
	close(fds[1]);
	for (ssize_t n; len < size - 1 && (n = read(fds[0], out + len, size - 1 - len)) != 0;)
		if (n > 0)
			len += (size_t)n;
		else if (errno != EINTR)
			break;
	close(fds[0]);
	out[len] = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* qemu-user's "qemu: uncaught target signal 6 (Aborted) - core dumped" */
	for (char *q; (q = strstr(out, "qemu: ")) && (q == out || q[-1] == '\n');) {
		char *end = strchr(q, '\n');
		memmove(q, end ? end + 1 : q + strlen(q), strlen(end ? end + 1 : q + strlen(q)) + 1);
	}
	return status;
}

/* out is one line, "barealloc: <fn>(0x<hex>): <why>\n", for address p. */
static __attribute__((unused)) int h_misuse_line(const char *out, const char *fn, const void *p, const char *why)
{
	char want[200];

	snprintf(want, sizeof want, "barealloc: %s(%#lx): %s\n", fn, (unsigned long)(uintptr_t)p, why);
	return !strcmp(out, want);
}

/* A child that must die of SIGABRT with barealloc's one line. */
static __attribute__((unused)) void h_expect_abort(const char *name, int (*fn)(void *), void *arg, const char *call,
			   const void *p, const char *why)
{
	char out[400];
	int st = h_child(fn, arg, out, sizeof out);
	int died = st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;

	CHECK(died && h_misuse_line(out, call, p, why), name,
	      "status %#x (%s), stderr \"%.*s\", want SIGABRT and \"barealloc: %s(%p): %s\"",
	      st, st != -1 && WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "no signal",
	      (int)strcspn(out, "\n"), out, call, p, why);
}

#endif

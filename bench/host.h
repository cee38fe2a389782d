/* What the benchmark programs share, built freestanding against barealloc
 * (-DBA_FREESTANDING: raw syscalls through ba_sys.h) or hosted against a
 * libc (the same names over POSIX): opening a file, writing, leaving, the
 * generator that makes their inputs the same for every allocator, and, for
 * bench/threads.c, threads and a clock. */
#ifndef BENCH_HOST_H
#define BENCH_HOST_H

#ifdef BA_FREESTANDING
#include "ba_sys.h"
#include "barealloc.h"
static inline int open_ro(const char *path) { return (int)sys_openat(AT_FDCWD, path, O_RDONLY, 0); }
static inline _Noreturn void quit(int status) { sys_exit_group(status); }
#else
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define sys_read read
#define sys_write write
#define sys_close close
static inline int open_ro(const char *path) { return open(path, O_RDONLY); }
static inline _Noreturn void quit(int status) { _exit(status); }
#endif

static inline size_t str_len(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static inline void say(int fd, const char *s)
{
	sys_write(fd, s, str_len(s));
}

/* Appends the decimal v to buf at *at. */
static inline void put_u(char *buf, size_t *at, unsigned long long v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		buf[(*at)++] = tmp[--n];
}

/* Threads, for bench/threads.c (which defines BENCH_THREADS first): start
 * and join a thread (0 or an errno), give the CPU up, and a monotonic
 * clock in nanoseconds.  barealloc's own threads (ba_thread.h) when
 * freestanding, pthreads when hosted.  Atomics are gcc's __atomic
 * builtins in both. */
#ifdef BENCH_THREADS
#ifdef BA_FREESTANDING
#include "ba_thread.h"
typedef struct ba_thread *thread_t;
static inline int thread_start(thread_t *t, void *(*fn)(void *), void *arg)
{
	return ba_thread_create(t, fn, arg);
}
static inline int thread_join(thread_t t, void **ret) { return ba_thread_join(t, ret); }
static inline void thread_yield(void) { sys_sched_yield(); }
static inline uint64_t clock_ns(void)
{
	struct ba_timespec ts;
	sys_clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#else
#include <pthread.h>
#include <sched.h>
#include <time.h>
typedef pthread_t thread_t;
static inline int thread_start(thread_t *t, void *(*fn)(void *), void *arg)
{
	return pthread_create(t, NULL, fn, arg);
}
static inline int thread_join(thread_t t, void **ret) { return pthread_join(t, ret); }
static inline void thread_yield(void) { sched_yield(); }
static inline uint64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif
#endif

/* xorshift64 from a fixed seed: the same sequence on every machine. */
static inline uint32_t xorshift(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (uint32_t)(*state >> 32);
}

#endif

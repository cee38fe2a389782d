/* The malloc family through the preload library, in a glibc program,
 * against ../shared/CONFORMANCE.md: the rows a hosted program can check
 * (1-3, 5-14, 17-31, 33), and those of a preloaded library: 42 (fork from
 * a signal handler that interrupts malloc), 45 (malloc and free in
 * pthread key destructors and TLS destructors after barealloc's own
 * thread-exit hook), 46 (a constructor of the program that allocates) and
 * 47 (another allocator's memory given to free).  Misuse runs in a forked
 * child, which must die of SIGABRT with barealloc's one line.
 *
 *   conform               every case above
 *   conform foreign-leak  run with BAREALLOC_FOREIGN=leak: free ignores
 *                         foreign pointers, realloc still aborts
 *   conform stats         allocates and exits (BAREALLOC_STATS=1's line)
 *   conform double-free | foreign-free
 *                         the misuse itself, in this process: prints the
 *                         pointer ("# pointer 0x..."), then must die
 * tests/run.sh runs the modes under every runner. */
#include "hosted.h"
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/time.h>

/* C23, which glibc 2.36 lacks: weak, so that the preload library gives them. */
void free_sized(void *p, size_t size) __attribute__((weak));
void free_aligned_sized(void *p, size_t align, size_t size) __attribute__((weak));
int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso);
extern void *__dso_handle;

#define PAGE 4096
#define MiB ((size_t)1 << 20)

static char name[300];

static const char *nm(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *nm(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	return name;
}

/* A call that must fail with NULL and errno want. */
#define FAILS(want, call) do { \
	errno = 0; \
	void *p_ = (call); \
	int e_ = errno; \
	CHECK(!p_ && e_ == (want), nm("%s: NULL, errno %s", #call, strerrorname_np(want)), \
	      "got %p, errno %d (%s)", p_, e_, strerrorname_np(e_) ? strerrorname_np(e_) : "?"); \
	free(p_); \
} while (0)

static int aligned(const void *p, size_t a)
{
	return p && !((uintptr_t)p & (a - 1));
}

/* Row 46: the program's own constructor allocates; barealloc's ran first
 * (a preloaded object initialises before the program), glibc's stdio
 * may not have been used yet. */
static void *ctor_block, *ctor_zeroed;
static int ctor_ran;

__attribute__((constructor)) static void allocates_early(void)
{
	ctor_block = malloc(1000);
	if (ctor_block)
		memset(ctor_block, 0x3c, 1000);
	ctor_zeroed = calloc(300, 7);
	void *gone = malloc(70000);
	free(gone);
	ctor_ran = 1;
}

static void row46(void)
{
	int zero = 1;

	for (size_t i = 0; ctor_zeroed && i < 2100; i++)
		zero &= ((char *)ctor_zeroed)[i] == 0;
	CHECK(ctor_ran && ctor_block && ((unsigned char *)ctor_block)[999] == 0x3c &&
	      malloc_usable_size(ctor_block) >= 1000,
	      "row 46: a block from the program's constructor is intact in main", "block %p", ctor_block);
	CHECK(ctor_zeroed && zero, "row 46: calloc in the constructor gave zeroed memory", "block %p", ctor_zeroed);
	free(ctor_block);
	free(ctor_zeroed);
}

static void rows_1_to_3(void)
{
	void *a = malloc(0), *b = malloc(0), *c = malloc(1);

	CHECK(a && b && a != b && a != c && b != c, "row 1: malloc(0) twice: unique non-NULL pointers",
	      "%p %p (and malloc(1) %p)", a, b, c);
	free(a);
	free(b);
	free(c);
	FAILS(ENOMEM, malloc(opaque(SIZE_MAX)));
	for (size_t k = 1; k < 1 << 14; k = k * 3 + 1)
		FAILS(ENOMEM, malloc(opaque(SIZE_MAX - k)));
	FAILS(ENOMEM, malloc(opaque((size_t)PTRDIFF_MAX + 1)));
	FAILS(ENOMEM, malloc(opaque((size_t)PTRDIFF_MAX + (1 << 14))));
	void *p = malloc(100);
	CHECK(p != 0, "row 2: the heap works after the failures", "malloc(100) = NULL");
	free(p);
}

static void rows_5_to_7(void)
{
	FAILS(ENOMEM, calloc(opaque(SIZE_MAX / 2 + 1), 2));
	FAILS(ENOMEM, calloc(2, opaque(SIZE_MAX / 2 + 1)));
	FAILS(ENOMEM, calloc(opaque(SIZE_MAX), opaque(SIZE_MAX)));
	FAILS(ENOMEM, calloc(opaque((size_t)1 << (sizeof(size_t) * 4)), opaque((size_t)1 << (sizeof(size_t) * 4))));
	void *a = calloc(0, 10), *b = calloc(10, 0);
	CHECK(a && b && a != b, "row 6: calloc(0, 10), calloc(10, 0): unique non-NULL", "%p %p", a, b);
	free(a);
	free(b);

	static const size_t sizes[] = { 1, 24, 100, 1000, 4000, 20000, 100000, 600000, 2 * MiB, 5 * MiB };
	enum { N = sizeof sizes / sizeof sizes[0] };
	void *p[N];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++)
			if ((p[i] = malloc(sizes[i])))
				memset(p[i], 0xff, sizes[i]);
		for (int i = 0; i < N; i++)
			free(p[i]);
		for (int i = 0; i < N; i++) {
			unsigned char *z = calloc(1, sizes[i]);
			size_t bad = 0;
			for (size_t j = 0; z && j < sizes[i]; j++)
				bad += z[j] != 0;
			CHECK(z && !bad, nm("row 7: calloc(1, %zu) of recycled memory is zero, round %d", sizes[i], round),
			      "%p, %zu non-zero bytes", (void *)z, bad);
			p[i] = z;
		}
		for (int i = 0; i < N; i++)
			free(p[i]);
	}
}

static void *misuse_p;
static size_t misuse_n;

static int double_free_after_realloc0(void *unused)
{
	(void)unused;
	if (realloc(misuse_p, 0))
		return 3;
	free(misuse_p);         /* realloc(p, 0) freed it: a double free */
	return 0;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7 + (i >> 8));
}

static size_t unfilled(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed + i * 7 + (i >> 8)))
			return i + 1;
	return 0;
}

static void rows_8_to_13(void)
{
	void *p = realloc(0, 100);
	CHECK(p && malloc_usable_size(p) >= 100, "row 8: realloc(NULL, 100) is malloc(100)", "%p", p);
	free(p);
	void *a = realloc(0, 0), *b = realloc(0, 0);
	CHECK(a && b && a != b, "row 9: realloc(NULL, 0): unique non-NULL", "%p %p", a, b);
	free(a);
	free(b);

	static const size_t n10[] = { 16, 3000, 200000, 3 * MiB };
	for (int i = 0; i < 4; i++) {
		p = malloc(n10[i]);
		errno = 1234;
		void *q = realloc(p, 0);
		CHECK(!q && errno == 1234, nm("row 10: realloc(p, 0) of %zu bytes: NULL, errno untouched", n10[i]),
		      "got %p, errno %d", q, errno);
	}
	misuse_p = malloc(48);
	h_expect_abort("row 10: realloc(p, 0) freed p: free(p) after it is a double free",
		       double_free_after_realloc0, 0, "free", misuse_p, "double free");
	free(misuse_p);

	/* 11: failing realloc keeps the block, byte for byte. */
	for (int i = 0; i < 4; i++) {
		unsigned char *q = malloc(n10[i]);
		fill(q, n10[i], 11);
		FAILS(ENOMEM, realloc(q, opaque(SIZE_MAX)));
		FAILS(ENOMEM, realloc(q, opaque((size_t)PTRDIFF_MAX + 1)));
		CHECK(!unfilled(q, n10[i], 11), nm("row 11: a %zu-byte block is intact after the failed reallocs", n10[i]),
		      "byte %zu differs", unfilled(q, n10[i], 11) - 1);
		free(q);
	}

	/* 12: contents up to min(old, new) across every kind of block. */
	static const size_t sz[] = { 1, 15, 16, 200, 1024, 4096, 5000, 70000, 300000, MiB + 1, 4 * MiB };
	enum { NS = sizeof sz / sizeof sz[0] };
	int bad12 = 0;
	for (int i = 0; i < NS; i++)
		for (int j = 0; j < NS; j++) {
			unsigned char *q = malloc(sz[i]);
			fill(q, sz[i], (unsigned)(i * NS + j));
			unsigned char *r = realloc(q, sz[j]);
			size_t keep = sz[i] < sz[j] ? sz[i] : sz[j];
			if (!r || unfilled(r, keep, (unsigned)(i * NS + j)) || malloc_usable_size(r) < sz[j]) {
				bad12++;
				h_line("#   realloc %zu -> %zu: %p, byte %zu", sz[i], sz[j], (void *)r,
				       r ? unfilled(r, keep, (unsigned)(i * NS + j)) : 0);
			} else {
				memset(r, 1, sz[j]);
			}
			free(r);
		}
	CHECK(!bad12, "row 12: realloc between every two of 11 sizes (small, medium, large) keeps the contents",
	      "%d of %d transitions failed", bad12, NS * NS);

	unsigned char *q = malloc(64);
	fill(q, 64, 13);
	FAILS(ENOMEM, reallocarray(same(q), opaque(SIZE_MAX - 1), opaque(SIZE_MAX - 1)));
	FAILS(ENOMEM, reallocarray(same(q), 2, opaque(SIZE_MAX / 2 + 1)));
	q = same(q);
	CHECK(!unfilled(q, 64, 13), "row 13: the block is intact after the failed reallocarrays", "differs");
	q = reallocarray(q, 100, 10);
	CHECK(q && !unfilled(q, 64, 13) && malloc_usable_size(q) >= 1000, "row 13: reallocarray(p, 100, 10) grows p",
	      "%p", (void *)q);
	free(q);
}

static void rows_14_to_18(void)
{
	FAILS(EINVAL, aligned_alloc(opaque(3), 8));
	FAILS(EINVAL, aligned_alloc(opaque(65), 64));
	FAILS(EINVAL, aligned_alloc(opaque(0), 64));
	errno = 0;
	void *p = aligned_alloc(opaque(SIZE_MAX / 2 + 1), 64);
	CHECK(!p && (errno == EINVAL || errno == ENOMEM), "row 16: aligned_alloc(SIZE_MAX/2+1, 64): NULL, EINVAL or ENOMEM",
	      "%p, errno %d", p, errno);
	p = aligned_alloc(64, opaque(100));
	CHECK(aligned(p, 64) && malloc_usable_size(p) >= 100, "row 17: aligned_alloc(64, 100) succeeds, aligned", "%p", p);
	free_aligned_sized(p, 64, 100);
	for (size_t a = 1; a <= 2; a++) {
		p = aligned_alloc(a, 40);
		CHECK(aligned(p, 16), nm("row 18: aligned_alloc(%zu, 40): 16-byte aligned", a), "%p", p);
		free(p);
	}
	for (size_t a = 4; a <= 4 * MiB; a *= 4) {
		p = aligned_alloc(a, 3 * a);
		CHECK(aligned(p, a) && malloc_usable_size(p) >= 3 * a, nm("aligned_alloc(%zu, %zu): aligned", a, 3 * a), "%p", p);
		free_aligned_sized(p, a, 3 * a);
	}
}

static void rows_19_to_22(void)
{
	static const size_t bad[][2] = { { 0x300, 10 }, { 0, 10 }, { 3 * sizeof(void *), 32 } };
	for (int i = 0; i < 3; i++) {
		void *p = &p;
		int r = posix_memalign(&p, opaque(bad[i][0]), bad[i][1]);
		CHECK(r == EINVAL && p == &p, nm("row 19: posix_memalign(&p, %#zx, %zu): EINVAL, p untouched", bad[i][0], bad[i][1]),
		      "returned %d, p %p", r, p);
	}
	void *p = &p;
	int r = posix_memalign(&p, opaque(4), 10);
	if (sizeof(void *) == 8)
		CHECK(r == EINVAL && p == &p, "row 20: posix_memalign(&p, 4, 10): EINVAL on x86-64", "returned %d, p %p", r, p);
	else
		CHECK(r == 0 && aligned(p, 4) && p != &p, "row 20: posix_memalign(&p, 4, 10): valid on i386",
		      "returned %d, p %p", r, p);
	if (r == 0)
		free(p);
	static const size_t big[][2] = { { 8, SIZE_MAX }, { PAGE, -(size_t)PAGE } };
	for (int i = 0; i < 2; i++) {
		p = &p;
		r = posix_memalign(&p, big[i][0], opaque(big[i][1]));
		CHECK(r == ENOMEM && p == &p, nm("row 21: posix_memalign(&p, %zu, %#zx): ENOMEM, p untouched", big[i][0], big[i][1]),
		      "returned %d, p %p", r, p);
	}
	p = 0;
	r = posix_memalign(&p, sizeof(void *), opaque(0));
	CHECK(r == 0 && p, "row 22: posix_memalign(&p, sizeof(void *), 0): 0, non-NULL", "returned %d, p %p", r, p);
	free(p);
}

static void rows_23_to_26(void)
{
	void *p = memalign(opaque(3), 8), *q = memalign(opaque(24), 8);
	CHECK(aligned(p, 4) && aligned(q, 32), "row 23: memalign(3, 8), memalign(24, 8): rounded up to 4 and 32",
	      "%p %p", p, q);
	free(p);
	free(q);
	FAILS(EINVAL, memalign(opaque(SIZE_MAX), PAGE));
	FAILS(EINVAL, memalign(opaque(SIZE_MAX / 2 + 2), 1));

	/* 25: every power of 2: exactly aligned, or NULL with ENOMEM. */
	int bad = 0;
	for (unsigned k = 0; k < sizeof(size_t) * 8; k++) {
		size_t a = (size_t)1 << k;
		void *m = &m;
		errno = 0;
		int r = posix_memalign(&m, a < sizeof(void *) ? sizeof(void *) : a, 1);
		if (r ? r != ENOMEM || m != &m : !aligned(m, a)) {
			bad++;
			h_line("#   posix_memalign(&p, 2^%u, 1): %d, %p", k, r, m);
		}
		if (!r)
			free(m);
		errno = 0;
		m = memalign(a, 1);
		if (m ? !aligned(m, a) : errno != ENOMEM) {
			bad++;
			h_line("#   memalign(2^%u, 1): %p, errno %d", k, m, errno);
		}
		free(m);
	}
	CHECK(!bad, "row 25: posix_memalign and memalign with 2^k, every k: aligned, or NULL and ENOMEM",
	      "%d calls wrong", bad);

	FAILS(ENOMEM, valloc(opaque(SIZE_MAX)));
	FAILS(ENOMEM, pvalloc(opaque(SIZE_MAX)));
	FAILS(ENOMEM, pvalloc(opaque(SIZE_MAX - PAGE)));
	p = pvalloc(opaque(0));
	CHECK(aligned(p, PAGE) && malloc_usable_size(p) >= PAGE, "row 26: pvalloc(0): a whole page, page-aligned", "%p", p);
	free(p);
	p = valloc(100);
	q = pvalloc(PAGE + 1);
	CHECK(aligned(p, PAGE) && aligned(q, PAGE) && malloc_usable_size(q) >= 2 * PAGE,
	      "valloc(100), pvalloc(4097): page-aligned, pvalloc rounds to pages", "%p %p", p, q);
	free(p);
	free(q);
}

static void rows_27_28_33(void)
{
	errno = 4321;
	free(0);
	CHECK(errno == 4321, "row 27: free(NULL) leaves errno alone", "errno %d", errno);

	static const size_t sz[] = { 8, 900, 9000, 90000, 900000, 9 * MiB };
	int bad = 0;
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 6; i++) {
			void *p = malloc(sz[i]);
			errno = 4321 + i;
			free(p);
			bad += errno != 4321 + i;
			p = malloc(sz[i]);
			errno = 77;
			free_sized(p, sz[i]);
			bad += errno != 77;
		}
	CHECK(!bad, "row 28: free and free_sized leave errno alone, every kind of block", "%d changed it", bad);

	CHECK(malloc_usable_size(0) == 0, "row 33: malloc_usable_size(NULL) = 0", "%zu", malloc_usable_size(0));
	bad = 0;
	for (size_t n = 0; n <= 70000; n += n < 300 ? 1 : n < 5000 ? 37 : 1009) {
		unsigned char *p = malloc(n);
		size_t u = malloc_usable_size(p);
		if (!p || u < n) {
			bad++;
			continue;
		}
		memset(p, 0xa5, u);     /* the whole usable size may be written */
		bad += malloc_usable_size(p) != u;
		free(p);
	}
	CHECK(!bad, "row 33: malloc_usable_size(p) >= n and stable for n up to 70000, all of it writable",
	      "%d sizes wrong", bad);
}

/* Rows 29-32 and 47: misuse, each in a child. */
static int m_double_free(void *unused)
{
	(void)unused;
	free(misuse_p);
	free(misuse_p);
	return 0;
}

static int m_free(void *p)
{
	free(p);
	return 0;
}

static int m_realloc(void *p)
{
	return realloc(p, 100) != 0;
}

static int m_usable(void *p)
{
	return (int)malloc_usable_size(p);
}

static int m_overflow(void *unused)
{
	(void)unused;
	((char *)misuse_p)[misuse_n] = 'x';
	free(misuse_p);
	return 0;
}

static void rows_29_to_32(void)
{
	static const size_t sz[] = { 1, 100, 3000, 40000, 500000, 3 * MiB };
	for (int i = 0; i < 6; i++) {
		/* In the parent: the child's frees change nothing here. */
		misuse_p = malloc(misuse_n = sz[i]);
		h_expect_abort(nm("row 29: double free of a %zu-byte block: SIGABRT, \"double free\"", sz[i]),
			       m_double_free, 0, "free", misuse_p, "double free");
		for (size_t off = 1; off <= PAGE; off *= 16)
			if (off < sz[i])
				h_expect_abort(nm("row 31: free(p + %zu) of a %zu-byte block: SIGABRT", off, sz[i]),
					       m_free, (char *)misuse_p + off, "free", (char *)misuse_p + off,
					       "not the start of a block");
		if (sz[i] < 100000)
			h_expect_abort(nm("row 34: one byte past a %zu-byte block, then free: SIGABRT", sz[i]),
				       m_overflow, 0, "free", misuse_p, "overflow past the end of the block");
		free(misuse_p);
		h_expect_abort(nm("row 32: realloc of a freed %zu-byte block: SIGABRT", sz[i]), m_realloc, misuse_p,
			       "realloc", misuse_p, "double free");
	}
}

static void row47_foreign(void)
{
	char on_stack[64];
	static char global[64];
	char *mapped = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *ptrs[] = { on_stack + 16, global + 16, mapped, mapped + 16, (void *)(uintptr_t)16 };
	const char *what[] = { "a stack address", "a global", "an mmap page", "inside an mmap page", "(void *)16" };

	for (int i = 0; i < 5; i++) {
		h_expect_abort(nm("row 47: free of %s: SIGABRT, \"not from barealloc\"", what[i]), m_free, ptrs[i],
			       "free", ptrs[i], "invalid pointer (not from barealloc)");
		h_expect_abort(nm("row 32: realloc of %s: SIGABRT", what[i]), m_realloc, ptrs[i],
			       "realloc", ptrs[i], "invalid pointer (not from barealloc)");
		h_expect_abort(nm("row 32: malloc_usable_size of %s: SIGABRT", what[i]), m_usable, ptrs[i],
			       "malloc_usable_size", ptrs[i], "invalid pointer (not from barealloc)");
	}
	memset(mapped, 0x77, PAGE);
	munmap(mapped, PAGE);
}

/* BAREALLOC_FOREIGN=leak: free leaves another allocator's memory alone
 * and returns; everything else is checked as before. */
static int foreign_leak(void)
{
	char on_stack[64];
	static char global[64];
	unsigned char *mapped = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	memset(mapped, 0x77, PAGE);
	errno = 99;
	free(on_stack + 16);
	free(global);
	free(mapped);
	free(mapped + 16);
	int intact = 1;
	for (int i = 0; i < PAGE; i++)
		intact &= mapped[i] == 0x77;
	CHECK(errno == 99 && intact, "row 47, BAREALLOC_FOREIGN=leak: free of foreign pointers returns, writes nothing",
	      "errno %d, intact %d", errno, intact);
	h_expect_abort("row 47, BAREALLOC_FOREIGN=leak: realloc of a foreign pointer still aborts", m_realloc, mapped,
		       "realloc", mapped, "invalid pointer (not from barealloc)");
	h_expect_abort("row 47, BAREALLOC_FOREIGN=leak: malloc_usable_size of one still aborts", m_usable, global,
		       "malloc_usable_size", global, "invalid pointer (not from barealloc)");
	misuse_p = malloc(200);
	h_expect_abort("row 47, BAREALLOC_FOREIGN=leak: a double free of barealloc's block still aborts",
		       m_double_free, 0, "free", misuse_p, "double free");
	free(misuse_p);
	return h_exit_status();
}

/* Row 42, as glibc's tst-mallocfork2: a timer's signal interrupts the
 * allocating loop of this single-threaded process, and its handler forks;
 * the child exits at once, the parent waits for it.  fork's prepare hook
 * must not wait for a lock that the interrupted call holds.  The watchdog
 * (SIGALRM every 3 s) ends the run when no fork completed meanwhile. */
static volatile sig_atomic_t forks, fork_bad, last_bad_status, forks_seen;

static void fork_in_handler(int sig)
{
	int saved = errno;
	(void)sig;
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid > 0) {
		int st = 0;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			fork_bad++;
			last_bad_status = st;
		}
		forks++;
	}
	errno = saved;
}

static void watchdog(int sig)
{
	static const char msg[] = "[FAIL] row 42: fork from a signal handler that interrupts malloc: "
				  "no fork completed in 3 s (deadlock)\n";
	(void)sig;
	if (forks != forks_seen) {
		forks_seen = forks;
		alarm(3);
		return;
	}
	if (write(1, msg, sizeof msg - 1) < 0)
		_exit(125);
	_exit(125);
}

static void row42(uint64_t *rng)
{
	enum { LIVE = 1009 };
	static void *live[LIVE];
	int want = h_under_qemu() ? 40 : 400;     /* a fork under qemu-x86_64 costs about 0.1 s */
	struct sigaction sa = { .sa_handler = fork_in_handler, .sa_flags = SA_RESTART };
	struct itimerval every = { { 0, 500 }, { 0, 500 } }, off = { { 0, 0 }, { 0, 0 } };

	signal(SIGALRM, watchdog);
	alarm(3);
	sigaction(SIGVTALRM, &sa, 0);
	setitimer(ITIMER_VIRTUAL, &every, 0);
	while (forks < want) {
		uint64_t r = h_rand(rng);
		unsigned k = (unsigned)(r % LIVE);
		free(live[k]);
		size_t n = (r >> 32) % 70000 + 1;
		live[k] = (r >> 20) & 1 ? malloc(n) : calloc(1, n);
	}
	setitimer(ITIMER_VIRTUAL, &off, 0);
	alarm(0);
	signal(SIGVTALRM, SIG_DFL);
	for (int k = 0; k < LIVE; k++)
		free(live[k]);
	CHECK(!fork_bad, nm("row 42: fork from a signal handler that interrupts malloc/free, %d times: no deadlock", want),
	      "%d forks, %d children failed (last status %#x)", (int)forks, (int)fork_bad, (int)last_bad_status);
}

/* Row 45: malloc and free after barealloc's thread-exit hook.  Its key
 * was made at the process's first allocation, before these, so these
 * destructors run after its own in each round; glibc then frees its own
 * thread-local buffers (a pending dlerror, strerror's) last of all. */
enum { T45 = 24 };
static pthread_key_t late_key;
static void *handed[T45];
static int dtors_ran, tls_dtors_ran;

static void late_dtor(void *v)
{
	unsigned i = (unsigned)((unsigned char *)v)[0];
	free(v);
	unsigned char *p = malloc(300 + i);
	if (p)
		memset(p, (int)i, 300 + i);
	void *q = malloc(40000);
	free(q);
	__atomic_store_n(&handed[i % T45], p, __ATOMIC_RELEASE);
	__atomic_add_fetch(&dtors_ran, 1, __ATOMIC_RELAXED);
}

static void tls_dtor(void *v)
{
	free(v);
	free(calloc(10, 10));
	__atomic_add_fetch(&tls_dtors_ran, 1, __ATOMIC_RELAXED);
}

static void *row45_thread(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	unsigned char *p = malloc(100);

	p[0] = (unsigned char)i;
	pthread_setspecific(late_key, p);
	__cxa_thread_atexit_impl(tls_dtor, malloc(77), &__dso_handle);
	dlsym(RTLD_DEFAULT, "barealloc_no_such_symbol");     /* leaves a dlerror result */
	strerror(12345);                                     /* a thread-local buffer */
	return 0;
}

static void row45(void)
{
	pthread_t t[T45];
	int made = 0;

	pthread_key_create(&late_key, late_dtor);
	for (unsigned i = 0; i < T45; i += 6) {
		for (unsigned j = i; j < i + 6; j++)
			made += !pthread_create(&t[j], 0, row45_thread, (void *)(uintptr_t)j);
		for (unsigned j = i; j < i + 6; j++)
			pthread_join(t[j], 0);
	}
	int bad = 0;
	for (unsigned i = 0; i < T45; i++) {
		unsigned char *p = __atomic_load_n(&handed[i], __ATOMIC_ACQUIRE);
		for (unsigned j = 0; p && j < 300 + i; j++)
			bad += p[j] != (unsigned char)i;
		bad += !p;
		free(p);
	}
	CHECK(made == T45 && dtors_ran == T45 && tls_dtors_ran == T45 && !bad,
	      "row 45: malloc and free in key and TLS destructors after barealloc's hook, 24 threads",
	      "%d threads, %d key destructors, %d TLS destructors, %d bad blocks", made, dtors_ran, tls_dtors_ran, bad);
	pthread_key_delete(late_key);
}

static int misuse_here(const char *mode)
{
	char on_stack[32];

	if (!strcmp(mode, "double-free")) {
		void *p = malloc(64);
		free(p);
		h_line("# pointer %p", p);
		free(p);
	} else {
		h_line("# pointer %p", (void *)(on_stack + 8));
		free(on_stack + 8);
	}
	h_line("[FAIL] %s: free returned", mode);
	return 1;
}

int main(int argc, char **argv)
{
	int (*check)(void) = (int (*)(void))h_ba("ba_check");

	if (!check || !free_sized || !free_aligned_sized) {
		h_line("[FAIL] conform: no ba_check or free_sized in the process: libbarealloc.so is not preloaded");
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "foreign-leak"))
		return foreign_leak();
	if (argc > 1 && !strcmp(argv[1], "stats")) {
		void *keep = malloc(1000), *gone = malloc(100000);
		free(gone);
		(void)keep;
		return 0;
	}
	if (argc > 1)
		return misuse_here(argv[1]);

	uint64_t rng = h_seed("conform");
	row46();
	rows_1_to_3();
	rows_5_to_7();
	rows_8_to_13();
	rows_14_to_18();
	rows_19_to_22();
	rows_23_to_26();
	rows_27_28_33();
	rows_29_to_32();
	row47_foreign();
	int c = check();
	CHECK(c == 0, "ba_check() through the preload library: 0", "%d", c);
	row42(&rng);    /* while the process has had one thread only, as glibc's guarantee needs */
	c = check();
	CHECK(c == 0, "ba_check() after the forks from a signal handler: 0", "%d", c);
	row45();
	c = check();
	CHECK(c == 0, "ba_check() after the threads' destructors: 0", "%d", c);
	return h_exit_status();
}

/* malloc, calloc, realloc, reallocarray and malloc_usable_size against
 * /work/shared/CONFORMANCE.md, single-threaded: conformance rows 1-3, 5, 6,
 * 8-11, 13 and 33.  A call that must fail is checked for NULL and for its
 * errno; a call that must succeed for a 16-byte aligned block whose usable
 * size is exactly the request and whose every byte can be written.  The
 * alignment family is in tests/align.c, free and errno in tests/freeerrno.c,
 * realloc's copying in tests/content.c. */
#include "t.h"
#include "barealloc.h"

#define MiB ((size_t)1 << 20)
/* 2^(bits of size_t / 2): its square wraps around to 0. */
#define ROOT ((size_t)1 << (sizeof(size_t) * 4))

static char name[200];

static const char *cat2(const char *a, const char *b)
{
	name[0] = 0;
	t_cat(name, sizeof name, a);
	return t_cat(name, sizeof name, b);
}

/* errno is negated in the checks so that the harness prints its name. */
static void expect_null(const char *call, void *p, int err, int want)
{
	T_EQ(cat2(call, " returns NULL"), (uintptr_t)p, 0);
	T_EQ(cat2(call, want == ENOMEM ? " sets errno ENOMEM" : " sets errno EINVAL"), -err, -want);
}

#define FAILS_AS(text, call, want) do { \
	errno = 0; \
	void *p_ = (call); \
	int e_ = errno; \
	expect_null(text, p_, e_, want); \
} while (0)
#define FAILS(call, want) FAILS_AS(#call, call, want)

/* 0 when p is a good block of n bytes, else what is wrong with it. */
static const char *bad_block(void *p, size_t n)
{
	if (!p)
		return "NULL";
	if ((uintptr_t)p & 15)
		return "not 16-byte aligned";
	if (malloc_usable_size(p) != n)
		return "usable size is not the request";
	memset(p, 0x5a, n);   /* faults if any byte is not writable */
	return 0;
}

static void expect_block(const char *call, void *p, size_t n)
{
	const char *why = bad_block(p, n);

	if (why) {
		T_TRUE(cat2(call, ": non-NULL, 16-byte aligned, usable size = request"), 0);
		t_s("#   ");
		t_s(why);
		t_s(", usable size ");
		t_d(p ? (long long)malloc_usable_size(p) : -1);
		t_nl();
	} else {
		T_TRUE(cat2(call, ": non-NULL, 16-byte aligned, usable size = request, writable"), 1);
	}
}

/* Each entry point with everything but the size fixed, for the sweeps. */
static void *f_malloc(size_t n) { return malloc(n); }
static void *f_calloc_1n(size_t n) { return calloc(1, n); }
static void *f_calloc_n1(size_t n) { return calloc(n, 1); }
static void *f_realloc_null(size_t n) { return realloc(0, n); }
static void *f_reallocarray_null(size_t n) { return reallocarray(0, n, 1); }
static void *f_memalign(size_t n) { return memalign(64, n); }
static void *f_aligned_alloc(size_t n) { return aligned_alloc(4096, n); }
static void *f_valloc(size_t n) { return valloc(n); }
static void *f_pvalloc(size_t n) { return pvalloc(n); }
/* posix_memalign reports through its result and must leave *out alone. */
static void *f_posix_memalign(size_t n)
{
	void *out = &out;
	int rc = posix_memalign(&out, 32, n);

	if (rc == 0)
		return out;
	errno = rc;
	return out == &out ? 0 : out;
}

static const struct entry {
	const char *name;
	void *(*fn)(size_t);
} entries[] = {
	{ "malloc(n)", f_malloc }, { "calloc(1, n)", f_calloc_1n },
	{ "calloc(n, 1)", f_calloc_n1 }, { "realloc(NULL, n)", f_realloc_null },
	{ "reallocarray(NULL, n, 1)", f_reallocarray_null }, { "memalign(64, n)", f_memalign },
	{ "aligned_alloc(4096, n)", f_aligned_alloc }, { "valloc(n)", f_valloc },
	{ "pvalloc(n)", f_pvalloc }, { "posix_memalign(&p, 32, n)", f_posix_memalign },
};

/* Conformance rows 2 and 3: every n in from .. from + 2^14 - 1 fails with
 * ENOMEM; reports the first n that does not. */
static void sweep_too_large(const struct entry *e, size_t from, const char *range)
{
	size_t n = from;
	void *p = 0;
	int err = ENOMEM;

	for (size_t k = 0; k < (1u << 14); k++) {
		n = from + k;
		errno = 0;
		p = e->fn(n);
		err = errno;
		if (p || err != ENOMEM)
			break;
	}
	char call[120] = "";
	t_cat(call, sizeof call, e->name);
	t_cat(call, sizeof call, range);
	if (p || err != ENOMEM)
		t_catx(t_cat(call, sizeof call, ", first failure at n = "), sizeof call, n);
	expect_null(call, p, err, ENOMEM);
}

static void test_too_large(void)
{
	for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
		sweep_too_large(&entries[i], SIZE_MAX - ((1u << 14) - 1),
				" for n = SIZE_MAX - k, every k < 2^14");
		sweep_too_large(&entries[i], (size_t)PTRDIFF_MAX + 1,
				" for n = PTRDIFF_MAX + 1 + k, every k < 2^14");
	}
	FAILS(malloc(SIZE_MAX), ENOMEM);
	FAILS(malloc((size_t)PTRDIFF_MAX + 1), ENOMEM);
	void *p = malloc(100);
	expect_block("malloc(100) after the failures (the heap stays usable)", p, 100);
	free(p);
	T_EQ("ba_check() after the failures", ba_check(), 0);
}

/* Conformance row 5: products that overflow or exceed PTRDIFF_MAX, checked
 * before any rounding, with this ISA's size_t. */
static void test_calloc_overflow(void)
{
	FAILS(calloc(SIZE_MAX / 2 + 1, 2), ENOMEM);
	FAILS(calloc(2, SIZE_MAX / 2 + 1), ENOMEM);
	FAILS(calloc(SIZE_MAX, SIZE_MAX), ENOMEM);
	FAILS_AS("calloc(2^(w/2), 2^(w/2)), w = bits of size_t (wraps to 0)",
		 calloc(ROOT, ROOT), ENOMEM);
	FAILS_AS("calloc(2^(w/2), 2^(w/2) + 1) (wraps to 2^(w/2))", calloc(ROOT, ROOT + 1), ENOMEM);
	FAILS_AS("calloc(2^(w/2) + 1, 2^(w/2))", calloc(ROOT + 1, ROOT), ENOMEM);
	FAILS(calloc(SIZE_MAX / 16 + 2, 16), ENOMEM); /* wraps to 16 */
	FAILS(calloc(SIZE_MAX / 3, 3), ENOMEM);       /* exactly SIZE_MAX */
	FAILS(calloc(PTRDIFF_MAX / 2 + 1, 2), ENOMEM);
	FAILS(calloc(1, (size_t)PTRDIFF_MAX + 1), ENOMEM);
	FAILS(calloc((size_t)PTRDIFF_MAX + 1, 1), ENOMEM);
	if (sizeof(size_t) == 4) {
		FAILS(calloc(65536, 65537), ENOMEM);
		FAILS(calloc(65537, 65536), ENOMEM);
	} else {
		t_skip("calloc(65536, 65537) gives NULL + ENOMEM", "only overflows a 32-bit size_t");
	}
}

/* Blocks are distinct: [p, p + max(n, 1)) never meets another live block.
 * Returns the index + 1 of the first block that does, or 0. */
static int first_overlap(void **v, const size_t *n, int count)
{
	for (int i = 0; i < count; i++)
		for (int j = i + 1; j < count; j++) {
			uintptr_t a = (uintptr_t)v[i], b = (uintptr_t)v[j];
			size_t na = n[i] ? n[i] : 1, nb = n[j] ? n[j] : 1;
			if (a < b + nb && b < a + na)
				return i + 1;
		}
	return 0;
}

/* Conformance rows 1, 6, 9 and 22's sibling: every zero-sized request. */
static void test_zero_sizes(void)
{
	enum { N = 96 };
	void *v[N];
	size_t n[N];
	int bad = 0;

	for (int i = 0; i < N; i++) {
		n[i] = 0;
		switch (i % 8) {
		case 0: v[i] = malloc(0); break;
		case 1: v[i] = calloc(0, 100); break;
		case 2: v[i] = calloc(100, 0); break;
		case 3: v[i] = calloc(0, 0); break;
		case 4: v[i] = calloc(0, SIZE_MAX); break;   /* the product, 0, is fine */
		case 5: v[i] = realloc(0, 0); break;
		case 6: v[i] = reallocarray(0, 0, 7); break;
		default: v[i] = malloc(16); n[i] = 16; break;
		}
		if (!v[i] || ((uintptr_t)v[i] & 15) || malloc_usable_size(v[i]) != n[i])
			bad = bad ? bad : i + 1;
	}
	T_EQ("malloc(0), calloc(0, n), calloc(n, 0), realloc(NULL, 0): non-NULL, aligned, "
	     "usable size 0 (first bad index + 1)", bad, 0);
	T_EQ("zero-sized blocks are unique and meet no live block (first overlap + 1)",
	     first_overlap(v, n, N), 0);
	for (int i = 0; i < N; i++)
		free(v[i]);
	T_EQ("ba_check() after freeing zero-sized blocks", ba_check(), 0);
}

static const size_t spread[] = {
	0, 1, 15, 16, 17, 100, 255, 256, 257, 1000, 4095, 4096, 4097, 5000, 30000,
	65535, 65536, 65537, 100000, 500000, MiB - 1, MiB, MiB + 1, 2 * MiB + 3, 4 * MiB + 1,
};
#define NSPREAD (sizeof spread / sizeof spread[0])

/* Conformance row 8: realloc(NULL, n) is malloc(n). */
static void test_realloc_null(void)
{
	for (size_t i = 0; i < NSPREAD; i++) {
		void *p = realloc(0, spread[i]);
		expect_block(t_name("realloc(NULL, ", (long long)spread[i], ")"), p, spread[i]);
		free(p);
	}
	FAILS(realloc(0, SIZE_MAX), ENOMEM);
	FAILS(realloc(0, (size_t)PTRDIFF_MAX + 1), ENOMEM);
}

/* Conformance row 10: realloc(p, 0) frees p, returns NULL, keeps errno. */
static void test_realloc_zero(void)
{
	static const size_t sizes[] = { 0, 1, 100, 5000, 100000, 2 * MiB };
	struct ba_stats before, after;

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char call[64] = "realloc(malloc(";
		t_cat(t_catu(call, sizeof call, sizes[i]), sizeof call, "), 0)");
		void *p = malloc(sizes[i]);
		ba_stats(&before);
		errno = 12345;
		void *q = realloc(p, 0);
		int err = errno;
		ba_stats(&after);
		T_EQ(cat2(call, " returns NULL"), (uintptr_t)q, 0);
		T_EQ(cat2(call, " leaves errno alone"), err, 12345);
		T_EQ(cat2(call, " frees the block (live_blocks - 1)"),
		     after.live_blocks, before.live_blocks - 1);
	}
	void *p = memalign(4096, 100);
	errno = 12345;
	T_EQ("realloc(memalign(4096, 100), 0) returns NULL", (uintptr_t)realloc(p, 0), 0);
	T_EQ("realloc(memalign(4096, 100), 0) leaves errno alone", errno, 12345);

	ba_stats(&before);
	for (int i = 0; i < 1000; i++)
		realloc(malloc((size_t)(i & 7) << (i & 15)), 0);
	ba_stats(&after);
	T_EQ("1000 realloc(malloc(n), 0): no block leaks (live_blocks)",
	     after.live_blocks, before.live_blocks);
	T_EQ("1000 realloc(malloc(n), 0): no bytes leak (requested)", after.requested, before.requested);
	T_EQ("ba_check() after realloc(p, 0)", ba_check(), 0);
}

/* A block of n bytes filled with a pattern, to see that a failed call left
 * it alone. */
static unsigned char *patterned(size_t n)
{
	unsigned char *p = malloc(n);

	for (size_t i = 0; p && i < n; i++)
		p[i] = (unsigned char)(i * 7 + (i >> 8) + 1);
	return p;
}

static int prefix_intact(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 7 + (i >> 8) + 1))
			return 0;
	return 1;
}

static int pattern_intact(const unsigned char *p, size_t n)
{
	return prefix_intact(p, n) && malloc_usable_size((void *)p) == n;
}

/* Conformance rows 11 and 13: a failed realloc or reallocarray leaves the
 * block byte-identical and freeable. */
static void fail_resize(const char *call, unsigned char *p, size_t n, void *q, int err)
{
	char c[120] = "";

	t_cat(t_catu(t_cat(c, sizeof c, call), sizeof c, n), sizeof c, "-byte block");
	expect_null(c, q, err, ENOMEM);
	T_TRUE(cat2(c, ": the block is byte-identical"), pattern_intact(p, n));
}

#define RESIZE_FAILS_AS(text, call, p, n) do { \
	errno = 0; \
	void *q_ = (call); \
	int e_ = errno; \
	fail_resize(text " of a ", p, n, q_, e_); \
} while (0)
#define RESIZE_FAILS(call, p, n) RESIZE_FAILS_AS(#call, call, p, n)

static void test_resize_failures(void)
{
	static const size_t sizes[] = { 0, 100, 100000, 2 * MiB + 5 };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];
		unsigned char *p = patterned(n);
		RESIZE_FAILS(realloc(p, SIZE_MAX), p, n);
		RESIZE_FAILS(realloc(p, (size_t)PTRDIFF_MAX + 1), p, n);
		RESIZE_FAILS(realloc(p, SIZE_MAX - 4096), p, n);
		RESIZE_FAILS(reallocarray(p, SIZE_MAX - 1, SIZE_MAX - 1), p, n);
		RESIZE_FAILS(reallocarray(p, 2, SIZE_MAX / 2 + 1), p, n);
		RESIZE_FAILS_AS("reallocarray(p, 2^(w/2), 2^(w/2)) (wraps to 0)",
				reallocarray(p, ROOT, ROOT), p, n);
		RESIZE_FAILS(reallocarray(p, SIZE_MAX / 16 + 2, 16), p, n);
		RESIZE_FAILS(reallocarray(p, 1, (size_t)PTRDIFF_MAX + 1), p, n);
		free(p);
	}
	T_EQ("ba_check() after the failed resizes", ba_check(), 0);
}

/* Conformance row 13, the successful side. */
static void test_reallocarray(void)
{
	unsigned char *p = reallocarray(0, 3, 5);

	expect_block("reallocarray(NULL, 3, 5)", p, 15);
	free(p);
	p = patterned(100);
	p = reallocarray(p, 10, 30);
	T_TRUE("reallocarray(p, 10, 30) grows p to 300 bytes",
	       p && !((uintptr_t)p & 15) && malloc_usable_size(p) == 300);
	T_TRUE("reallocarray(p, 10, 30) keeps the first 100 bytes", p && prefix_intact(p, 100));
	struct ba_stats before, after;
	ba_stats(&before);
	errno = 12345;
	void *q = reallocarray(p, 0, 5);
	T_EQ("reallocarray(p, 0, 5) returns NULL (as realloc(p, 0))", (uintptr_t)q, 0);
	T_EQ("reallocarray(p, 0, 5) leaves errno alone", errno, 12345);
	ba_stats(&after);
	T_EQ("reallocarray(p, 0, 5) frees p", after.live_blocks, before.live_blocks - 1);
}

/* Conformance row 33, and the distinctness of live blocks: every size
 * 0..4096 live at once, each filled with its own byte, then checked. */
static void test_usable_small(void)
{
	enum { N = 4097 };
	static unsigned char *v[N];
	size_t bad = 0, overlap = 0;

	for (size_t n = 0; n < N; n++) {
		v[n] = malloc(n);
		if (bad_block(v[n], n))
			bad = bad ? bad : n + 1;
		else
			memset(v[n], (int)(n * 13 + 1), n);
	}
	for (size_t n = 0; n < N; n++)
		for (size_t i = 0; v[n] && i < n; i++)
			if (v[n][i] != (unsigned char)(n * 13 + 1))
				overlap = overlap ? overlap : n + 1;
	T_EQ("malloc(n), n = 0..4096: aligned, usable size = n, writable (first bad n + 1)", bad, 0);
	T_EQ("malloc(n), n = 0..4096, all live: no block overwrites another (first n + 1)",
	     overlap, 0);
	for (size_t n = 0; n < N; n++)
		if (v[n] && malloc_usable_size(v[n]) != n)
			bad = bad ? bad : n + 1;
	T_EQ("malloc_usable_size is stable until free (first bad n + 1)", bad, 0);
	for (size_t n = 0; n < N; n++)
		free(v[n]);
	T_EQ("ba_check() after 4097 blocks", ba_check(), 0);
}

static void test_usable(void)
{
	size_t bad = 0;

	T_EQ("malloc_usable_size(NULL)", malloc_usable_size(0), 0);
	test_usable_small();
	for (size_t n = 4097; n <= 65536 * 2; n++) {
		unsigned char *p = malloc(n);
		if (!p || ((uintptr_t)p & 15) || malloc_usable_size(p) != n)
			bad = bad ? bad : n;
		else
			p[0] = p[n / 2] = p[n - 1] = 1;
		free(p);
	}
	T_EQ("malloc(n), n = 4097..128 KiB: aligned, usable size = n (first bad n)", bad, 0);
	for (size_t i = 0; i < NSPREAD; i++) {
		void *p = malloc(spread[i]);
		expect_block(t_name("malloc(", (long long)spread[i], ")"), p, spread[i]);
		free(p);
	}
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	test_too_large();
	test_calloc_overflow();
	test_zero_sizes();
	test_realloc_null();
	test_realloc_zero();
	test_resize_failures();
	test_reallocarray();
	test_usable();
	T_EQ("ba_check() at the end", ba_check(), 0);
	return t_exit_status();
}

/* aligned_alloc, posix_memalign, memalign, valloc and pvalloc against
 * /work/shared/CONFORMANCE.md: conformance rows 14-26.  Bad alignments give
 * EINVAL, sizes that cannot be met ENOMEM, and every block is aligned to
 * what was asked (and to at least 16 bytes), with a usable size of exactly
 * the request (pvalloc: the request rounded up to the page size). */
#include "t.h"
#include "barealloc.h"

#define MiB ((size_t)1 << 20)
#define BITS ((int)sizeof(size_t) * 8)

static size_t page;
static char name[200];

static const char *cat2(const char *a, const char *b)
{
	name[0] = 0;
	t_cat(name, sizeof name, a);
	return t_cat(name, sizeof name, b);
}

static const char *errname(int e)
{
	return e == ENOMEM ? "ENOMEM" : e == EINVAL ? "EINVAL" : "?";
}

/* errno is negated in the checks so that the harness prints its name. */
static void expect_null(const char *call, void *p, int err, int want)
{
	T_EQ(cat2(call, " returns NULL"), (uintptr_t)p, 0);
	T_EQ(cat2(cat2(call, " sets errno "), errname(want)), -err, -want);
}

#define FAILS(call, want) do { \
	errno = 0; \
	void *p_ = (call); \
	int e_ = errno; \
	expect_null(#call, p_, e_, want); \
} while (0)

/* 0 when p is a good block: aligned to align and to 16, usable size
 * exactly n, every byte writable; else what is wrong. */
static const char *bad_block(void *p, size_t align, size_t n)
{
	if (!p)
		return "NULL";
	if ((uintptr_t)p & 15)
		return "not 16-byte aligned";
	if ((uintptr_t)p & (align - 1))
		return "not aligned as asked";
	if (malloc_usable_size(p) != n)
		return "usable size is not the request";
	memset(p, 0x3c, n);
	return 0;
}

static void expect_block(const char *call, void *p, size_t align, size_t n)
{
	const char *why = bad_block(p, align, n);

	T_TRUE(cat2(call, ": aligned, usable size as asked, writable"), !why);
	if (why) {
		t_s("#   ");
		t_s(why);
		t_s(": got ");
		t_x((uintptr_t)p);
		t_s(", usable size ");
		t_d(p ? (long long)malloc_usable_size(p) : -1);
		t_nl();
	}
	free(p);
}

#define GIVES(call, align, n) expect_block(#call, (call), (align), (n))

/* Conformance rows 14-18. */
static void test_aligned_alloc(void)
{
	FAILS(aligned_alloc(3, 8), EINVAL);
	FAILS(aligned_alloc(65, 64), EINVAL);
	FAILS(aligned_alloc(24, 8), EINVAL);
	FAILS(aligned_alloc(4097, 1), EINVAL);
	FAILS(aligned_alloc(SIZE_MAX, 1), EINVAL);
	FAILS(aligned_alloc(0, 64), EINVAL);
	errno = 0;
	void *p = aligned_alloc(SIZE_MAX / 2 + 1, 64);
	int err = errno;
	T_EQ("aligned_alloc(SIZE_MAX / 2 + 1, 64) returns NULL", (uintptr_t)p, 0);
	T_TRUE("aligned_alloc(SIZE_MAX / 2 + 1, 64) sets errno EINVAL or ENOMEM",
	       err == EINVAL || err == ENOMEM);
	GIVES(aligned_alloc(64, 100), 64, 100);
	GIVES(aligned_alloc(4096, 5000), 4096, 5000);
	GIVES(aligned_alloc(32, 1), 32, 1);
	GIVES(aligned_alloc(MiB, 3), MiB, 3);
	GIVES(aligned_alloc(64, 0), 64, 0);
	GIVES(aligned_alloc(1, 1), 1, 1);
	GIVES(aligned_alloc(1, 100), 1, 100);
	GIVES(aligned_alloc(2, 5000), 2, 5000);
	GIVES(aligned_alloc(2, 3), 2, 3);
	FAILS(aligned_alloc(4096, SIZE_MAX - 4095), ENOMEM);
	FAILS(aligned_alloc(MiB, (size_t)PTRDIFF_MAX + 1), ENOMEM);
	FAILS(aligned_alloc(64, SIZE_MAX), ENOMEM);
}

/* posix_memalign returns the error and must not touch *out on failure. */
static void pm_fails(const char *call, size_t align, size_t n, int want)
{
	void *out = &out;
	int rc = posix_memalign(&out, align, n);

	T_EQ(cat2(cat2(call, " returns "), errname(want)), -rc, -want);
	T_TRUE(cat2(call, " leaves *out untouched"), out == &out);
}

static void pm_gives(const char *call, size_t align, size_t n)
{
	void *out = &out;
	int rc = posix_memalign(&out, align, n);

	T_EQ(cat2(call, " returns 0"), rc, 0);
	expect_block(call, rc == 0 ? out : 0, align, n);
}

/* Conformance rows 19-22. */
static void test_posix_memalign(void)
{
	const size_t ptr = sizeof(void *);

	pm_fails("posix_memalign(&p, 0x300, 10)", 0x300, 10, EINVAL);
	pm_fails("posix_memalign(&p, 0, 10)", 0, 10, EINVAL);
	pm_fails("posix_memalign(&p, 3 * sizeof(void *), 32)", 3 * ptr, 32, EINVAL);
	pm_fails("posix_memalign(&p, 1, 10)", 1, 10, EINVAL);
	pm_fails("posix_memalign(&p, 2, 10)", 2, 10, EINVAL);
	pm_fails("posix_memalign(&p, sizeof(void *) + 1, 10)", ptr + 1, 10, EINVAL);
	pm_fails("posix_memalign(&p, SIZE_MAX, 10)", SIZE_MAX, 10, EINVAL);
	/* Conformance row 20: 4 is a multiple of sizeof(void *) only on i386. */
	if (ptr == 8)
		pm_fails("posix_memalign(&p, 4, 10) on x86-64", 4, 10, EINVAL);
	else
		pm_gives("posix_memalign(&p, 4, 10) on i386", 4, 10);
	pm_fails("posix_memalign(&p, 8, SIZE_MAX)", 8, SIZE_MAX, ENOMEM);
	pm_fails("posix_memalign(&p, pagesize, -pagesize)", page, (size_t)0 - page, ENOMEM);
	pm_fails("posix_memalign(&p, 16, PTRDIFF_MAX + 1)", 16, (size_t)PTRDIFF_MAX + 1, ENOMEM);
	pm_fails("posix_memalign(&p, 2^20, PTRDIFF_MAX - 100)", MiB, PTRDIFF_MAX - 100, ENOMEM);
	pm_gives("posix_memalign(&p, sizeof(void *), 0)", ptr, 0);
	pm_gives("posix_memalign(&p, sizeof(void *), 100)", ptr, 100);
	pm_gives("posix_memalign(&p, 256, 1000)", 256, 1000);
	pm_gives("posix_memalign(&p, pagesize, 3 * pagesize + 1)", page, 3 * page + 1);

	void *a = &a, *b = &b;
	posix_memalign(&a, sizeof(void *), 0);
	posix_memalign(&b, sizeof(void *), 0);
	T_TRUE("posix_memalign(&p, sizeof(void *), 0) twice gives two distinct pointers",
	       a != &a && b != &b && a && b && a != b);
	free(a);
	free(b);
}

/* Conformance rows 23 and 24: glibc rounds a non-power of two up. */
static void test_memalign(void)
{
	GIVES(memalign(3, 8), 4, 8);
	GIVES(memalign(24, 8), 32, 8);
	GIVES(memalign(48, 100), 64, 100);
	GIVES(memalign(100, 8), 128, 8);
	GIVES(memalign(3000, 5000), 4096, 5000);
	GIVES(memalign(4097, 8), 8192, 8);
	GIVES(memalign(0, 8), 1, 8);          /* glibc: below the minimum, as malloc */
	GIVES(memalign(1, 1), 1, 1);
	GIVES(memalign(8, 0), 8, 0);
	GIVES(memalign(65536, 65536 + 1), 65536, 65536 + 1);
	FAILS(memalign(-1, page), EINVAL);
	FAILS(memalign((size_t)-1, 1), EINVAL);
	FAILS(memalign(SIZE_MAX / 2 + 2, 1), EINVAL);
	FAILS(memalign(SIZE_MAX / 2 + 3, 1), EINVAL);
	FAILS(memalign(SIZE_MAX / 2, 1), ENOMEM);   /* rounds up to the top bit */
	FAILS(memalign(4096, SIZE_MAX - 4095), ENOMEM);
	FAILS(memalign(SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 1), ENOMEM);
	FAILS(memalign(16, SIZE_MAX), ENOMEM);
}

/* One alignment 2^k of the sweep: an exact block or NULL + ENOMEM.
 * Returns 0 when that holds; sets *why otherwise. */
static int odd_result(void *p, int err, size_t align, size_t n, const char **why)
{
	if (!p) {
		*why = "NULL without ENOMEM";
		return err != ENOMEM;
	}
	*why = bad_block(p, align, n);
	free(p);
	return *why != 0;
}

/* Conformance row 25: memalign(1 << 40, 1) on x86-64, memalign(1 << 31, 1)
 * on i386, and every 2^k up to the top bit for each entry point. */
static void sweep_alignments(int fn, const char *label, size_t n)
{
	int bad_k = -1;
	const char *why = 0;

	for (int k = 0; k < BITS && bad_k < 0; k++) {
		size_t align = (size_t)1 << k;
		void *p = 0;
		errno = 0;
		if (fn == 0) {
			p = memalign(align, n);
		} else if (fn == 1) {
			p = aligned_alloc(align, n);
			if (!p && k == BITS - 1 && errno == EINVAL)   /* row 16 allows it */
				errno = ENOMEM;
		} else if (align >= sizeof(void *)) {
			int rc = posix_memalign(&p, align, n);
			errno = rc;
		} else {
			continue;
		}
		if (odd_result(p, errno, align, n, &why))
			bad_k = k;
	}
	char call[120] = "";
	t_cat(t_catu(t_cat(call, sizeof call, label), sizeof call, n), sizeof call,
	      "): exactly aligned, or NULL + ENOMEM, for every k (first bad k + 1)");
	T_EQ(call, bad_k + 1, 0);
	if (why && bad_k >= 0) {
		t_s("#   ");
		t_s(why);
		t_nl();
	}
}

static void test_huge_alignments(void)
{
	static const size_t sizes[] = { 1, 100, 5000, 100000, 2 * MiB + 1 };
	size_t huge = (size_t)1 << (BITS == 64 ? 40 : 31);

	errno = 0;
	void *p = memalign(huge, 1);
	int err = errno;
	T_TRUE(BITS == 64 ? "memalign(1 << 40, 1): exactly aligned, or NULL + ENOMEM"
			  : "memalign(1 << 31, 1): exactly aligned, or NULL + ENOMEM",
	       p ? ((uintptr_t)p & (huge - 1)) == 0 : err == ENOMEM);
	free(p);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		sweep_alignments(0, "memalign(2^k, ", sizes[i]);
		sweep_alignments(1, "aligned_alloc(2^k, ", sizes[i]);
		sweep_alignments(2, "posix_memalign(&p, 2^k, ", sizes[i]);
	}
}

/* Every small alignment with every kind of size, all live at once, each
 * filled with its own byte: no block may overlap another. */
static void test_live_mix(void)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 100, 1000, 4095, 4096, 5000,
					65536, 100000, MiB + 1 };
	enum { NS = sizeof sizes / sizeof sizes[0], NK = 17 };
	static unsigned char *v[NK][NS];
	int bad = 0, overlap = 0;

	for (int k = 0; k < NK; k++)
		for (int i = 0; i < NS; i++) {
			size_t align = (size_t)1 << k;
			v[k][i] = (i & 1) ? memalign(align, sizes[i]) : aligned_alloc(align, sizes[i]);
			if (bad_block(v[k][i], align, sizes[i]))
				bad = bad ? bad : k * 100 + i + 1;
			else
				memset(v[k][i], k * NS + i + 1, sizes[i]);
		}
	for (int k = 0; k < NK; k++)
		for (int i = 0; i < NS; i++)
			for (size_t j = 0; v[k][i] && j < sizes[i]; j++)
				if (v[k][i][j] != (unsigned char)(k * NS + i + 1))
					overlap = overlap ? overlap : k * 100 + i + 1;
	T_EQ("memalign and aligned_alloc, 2^k for k = 0..16, 13 sizes: good blocks "
	     "(first bad 100k + i + 1)", bad, 0);
	T_EQ("... all live at once: none overwrites another (first 100k + i + 1)", overlap, 0);
	for (int k = 0; k < NK; k++)
		for (int i = 0; i < NS; i++)
			free(v[k][i]);
}

/* Conformance row 26. */
static void test_page_allocs(void)
{
	FAILS(valloc(SIZE_MAX), ENOMEM);
	FAILS(pvalloc(SIZE_MAX), ENOMEM);
	FAILS(valloc(SIZE_MAX - page + 2), ENOMEM);
	FAILS(pvalloc(SIZE_MAX - page + 2), ENOMEM);     /* rounding wraps */
	FAILS(pvalloc(SIZE_MAX - 2 * page + 2), ENOMEM);
	FAILS(valloc((size_t)PTRDIFF_MAX + 1), ENOMEM);
	FAILS(pvalloc((size_t)PTRDIFF_MAX), ENOMEM);     /* rounds above PTRDIFF_MAX */
	GIVES(pvalloc(0), page, page);
	GIVES(pvalloc(1), page, page);
	GIVES(pvalloc(page), page, page);
	GIVES(pvalloc(page + 1), page, 2 * page);
	GIVES(pvalloc(MiB + 1), page, MiB + page);
	GIVES(valloc(0), page, 0);
	GIVES(valloc(1), page, 1);
	GIVES(valloc(page + 1), page, page + 1);
	GIVES(valloc(100000), page, 100000);
	GIVES(valloc(2 * MiB + 1), page, 2 * MiB + 1);
	void *a = pvalloc(0), *b = pvalloc(0);
	T_TRUE("pvalloc(0) twice gives two distinct pages", a && b && a != b);
	free(a);
	free(b);
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	page = ba_getauxval(AT_PAGESZ);
	test_aligned_alloc();
	test_posix_memalign();
	test_memalign();
	test_huge_alignments();
	test_live_mix();
	test_page_allocs();
	T_EQ("ba_check() at the end", ba_check(), 0);
	return t_exit_status();
}

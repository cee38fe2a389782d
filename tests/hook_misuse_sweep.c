/* tests/misuse.c's checks of free, swept over every small size class
 * (16-byte steps to 256 B, then 8 classes per doubling up to 64 KiB) and a
 * spread of medium and large sizes, on a sealed heap (ba_test_seal,
 * alloc/hooks.h), so that a check that wrote metadata before rejecting the
 * pointer would die of SIGSEGV: conformance rows 29, 31 and 34.  Each sweep
 * prints one line with the first size that failed.
 *
 * The slack of a block, the bytes between the request and its size class
 * or its pages, is taken from ba_stats' in_use; an overflow is only written
 * there, so it can only reach the block's own bytes. */
#include "t.h"
#include "barealloc.h"
#include "hooks.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static size_t page;
static char out[1024];

static int sealed_free(void *p)
{
	ba_test_seal(1);
	free(p);
	return 99;
}

/* free(p) in a child must abort with one line naming p and the reason. */
static int aborts(void *p, const char *reason)
{
	char want[64] = "barealloc: free(";
	int status;

	t_cat(t_catx(want, sizeof want, (uintptr_t)p), sizeof want, "): ");
	status = t_child(sealed_free, p, out, sizeof out);
	return (status & 0x7f) == SIGABRT && t_one_line(out, want, reason);
}

/* The bytes a block of n occupies, by ba_stats' in_use. */
static size_t footprint(size_t n)
{
	struct ba_stats a, b;
	void *p;

	ba_stats(&a);
	p = malloc(n);
	ba_stats(&b);
	free(p);
	return b.in_use - a.in_use;
}

/* k bytes past a request of n are flipped, then freed in a child. */
static int overflow_caught(size_t n, size_t k)
{
	unsigned char *p = malloc(n);
	int ok;

	for (size_t i = n; i < n + k; i++)
		p[i] = (unsigned char)~p[i];
	ok = aborts(p, "overflow");
	for (size_t i = n; i < n + k; i++)
		p[i] = (unsigned char)~p[i];
	free(p);
	return ok;
}

static int double_free_caught(size_t n)
{
	void *p = malloc(n);

	free(p);
	return aborts(p, "double free");
}

/* Every interior offset of interest in a block of n bytes. */
static int interior_caught(size_t n)
{
	const size_t offs[] = { 1, 8, 16, n / 2, n - 16, page };
	unsigned char *p = malloc(n);
	int ok = 1;

	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++)
		if (offs[i] > 0 && offs[i] < n)
			ok &= aborts(p + offs[i], "not the start of a block");
	free(p);
	return ok;
}

enum { OVER1_TIGHT, OVER1_WIDE, OVER8, DOUBLE, INTERIOR, SCHEME, KINDS };
static const char *const kind_name[KINDS] = {
	"a 1-byte overflow past n = class - 1 is caught at free",
	"a 1-byte overflow past n = previous class + 1 is caught at free",
	"an 8-byte overflow past n = class - 8 is caught at free",
	"an immediate double free is caught",
	"free of p + 1, 8, 16, n/2, n - 16 and pagesize is caught as not the start of a block",
	"ba_stats in_use shows the documented class for n = class and n = previous class + 1",
};

/* One small class c, after the class prev: the first failures go in bad. */
static void sweep_class(size_t prev, size_t c, size_t bad[KINDS])
{
	int ok[KINDS];

	ok[SCHEME] = footprint(c) == c && footprint(prev + 1) == c;
	ok[OVER1_TIGHT] = overflow_caught(c - 1, 1);
	ok[OVER1_WIDE] = prev + 1 == c || overflow_caught(prev + 1, 1);
	ok[OVER8] = c < 16 || overflow_caught(c - 8, 8);
	ok[DOUBLE] = double_free_caught(c);
	ok[INTERIOR] = interior_caught(c);
	for (int k = 0; k < KINDS; k++)
		if (!ok[k] && !bad[k])
			bad[k] = c;
}

static void test_small_classes(void)
{
	size_t bad[KINDS] = { 0 }, prev = 0;
	int classes = 0;

	for (size_t c = 16; c <= 256; c += 16, classes++) {
		sweep_class(prev, c, bad);
		prev = c;
	}
	for (size_t base = 256; base < 64 * KiB; base *= 2)
		for (size_t j = 1; j <= 8; j++, classes++) {
			sweep_class(prev, base + j * (base / 8), bad);
			prev = base + j * (base / 8);
		}
	for (int k = 0; k < KINDS; k++) {
		char n[200] = "";
		t_cat(t_cat(t_catu(t_cat(n, sizeof n, "every small class ("), sizeof n,
				   (unsigned)classes), sizeof n, " classes): "), sizeof n, kind_name[k]);
		T_EQ(t_cat(n, sizeof n, " (first bad class)"), bad[k], 0);
	}
}

/* Medium and large blocks: the same checks where the slack allows. */
static void test_big_sizes(void)
{
	static const size_t sizes[] = { 64 * KiB + 1, 100001, 300001, MiB - 1, MiB + 1,
					2 * MiB + 1, 5 * MiB - 1 };
	size_t bad[KINDS] = { 0 };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i], slack = footprint(n) - n;
		int ok[KINDS] = { 1, 1, 1, 1, 1, 1 };
		ok[SCHEME] = footprint(n) >= n;
		ok[OVER1_TIGHT] = slack < 1 || overflow_caught(n, 1);
		ok[OVER8] = slack < 8 || overflow_caught(n, 8);
		ok[DOUBLE] = double_free_caught(n);
		ok[INTERIOR] = interior_caught(n);
		for (int k = 0; k < KINDS; k++)
			if (!ok[k] && !bad[k])
				bad[k] = n;
	}
	T_EQ("medium and large blocks (7 sizes, 64 KiB + 1 to 5 MiB - 1): overflows of 1 and 8 "
	     "bytes into the slack are caught at free (first bad size)",
	     bad[OVER1_TIGHT] ? bad[OVER1_TIGHT] : bad[OVER8], 0);
	T_EQ("medium and large blocks: an immediate double free is caught (first bad size)",
	     bad[DOUBLE], 0);
	T_EQ("medium and large blocks: free of p + 1, 8, 16, n/2, n - 16 and pagesize is caught "
	     "(first bad size)", bad[INTERIOR], 0);
	T_EQ("medium and large blocks: in_use covers the request (first bad size)", bad[SCHEME], 0);
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	page = ba_getauxval(AT_PAGESZ);
	t_no_core_files();
	test_small_classes();
	test_big_sizes();
	T_EQ("ba_check() in the parent after every case", ba_check(), 0);
	return t_exit_status();
}

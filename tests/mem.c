/* memcpy, memmove, memset and memcmp, in assembly and in their C twin
 * (alloc/mem.c, linked here as c_mem*), against byte-at-a-time references:
 * every length 0..512 at every source and destination alignment 0..63,
 * memmove overlapping both ways, and guard bytes around every destination.
 * The assembly is called through t_checkcall, which also checks that it
 * preserves the callee-saved registers, the stack pointer and the
 * direction flag. */
#include "t.h"
#include "barealloc.h"

void *c_memcpy(void *, const void *, size_t);
void *c_memmove(void *, const void *, size_t);
void *c_memset(void *, int, size_t);
int c_memcmp(const void *, const void *, size_t);

enum { MAXLEN = 512, ALIGNS = 64, GUARD = 32, SPAN = MAXLEN + ALIGNS + 2 * GUARD };

struct impl {
	const char *name;
	void *copy, *move, *set, *cmp;
	int aligns;   /* alignments tried: all 64 for the assembly */
};

static unsigned char src[SPAN], dst[SPAN], fill[SPAN], want[2 * SPAN];
static uint64_t rng;
static int checkasm;  /* call through t_checkcall */

static long call(void *fn, const void *a, const void *b, size_t n)
{
	if (checkasm)
		return t_checkcall(fn, (long)a, (long)b, (long)n, 0, 0, 0, 0);
	return (long)((void *(*)(const void *, const void *, size_t))fn)(a, b, n);
}

/* The first failure of a sweep, reported once. */
struct failure {
	int bad;
	size_t len, sa, da;
};

static void note(struct failure *f, size_t len, size_t sa, size_t da)
{
	if (!f->bad++) {
		f->len = len;
		f->sa = sa;
		f->da = da;
	}
}

static void report(const struct impl *m, const char *what, struct failure *f)
{
	t_s(f->bad ? "[FAIL] " : "[OK]   ");
	t_s(m->name);
	t_s(" ");
	t_s(what);
	t_s(": all lengths 0..512, alignments 0..");
	t_d(m->aligns - 1);
	if (f->bad) {
		t_s(": ");
		t_d(f->bad);
		t_s(" bad, first at length ");
		t_d((long long)f->len);
		t_s(" src+");
		t_d((long long)f->sa);
		t_s(" dst+");
		t_d((long long)f->da);
		t_failures++;
	}
	t_nl();
}

/* dst[0..SPAN) must equal fill except [d, d+len), which must equal from. */
static int window_ok(const unsigned char *d, const unsigned char *from, size_t len)
{
	size_t lo = (size_t)(d - dst), hi = lo + len;

	for (size_t i = lo - GUARD; i < lo; i++)
		if (dst[i] != fill[i])
			return 0;
	for (size_t i = 0; i < len; i++)
		if (d[i] != from[i])
			return 0;
	for (size_t i = hi; i < hi + GUARD; i++)
		if (dst[i] != fill[i])
			return 0;
	return 1;
}

static void restore(size_t lo, size_t len)
{
	for (size_t i = lo; i < lo + len; i++)
		dst[i] = fill[i];
}

static void sweep_copy(const struct impl *m, void *fn, const char *what)
{
	struct failure f = { 0 };

	for (size_t len = 0; len <= MAXLEN; len++)
		for (size_t sa = 0; sa < (size_t)m->aligns; sa++)
			for (size_t da = 0; da < (size_t)m->aligns; da++) {
				unsigned char *d = dst + GUARD + da;
				const unsigned char *s = src + GUARD + sa;
				long r = call(fn, d, s, len);
				if (r != (long)d || !window_ok(d, s, len))
					note(&f, len, sa, da);
				restore(GUARD + da, len);
			}
	report(m, what, &f);
}

/* Source and destination in one buffer, at offsets 0..63 of each other:
 * whenever len exceeds the distance they overlap, in either direction. */
static void sweep_overlap(const struct impl *m)
{
	struct failure f = { 0 };

	for (size_t len = 0; len <= MAXLEN; len++)
		for (size_t sa = 0; sa < (size_t)m->aligns; sa++)
			for (size_t da = 0; da < (size_t)m->aligns; da++) {
				unsigned char *d = dst + GUARD + da;
				const unsigned char *s = dst + GUARD + sa;
				for (size_t i = 0; i < len; i++)
					want[i] = s[i];
				long r = call(m->move, d, s, len);
				if (r != (long)d || !window_ok(d, want, len))
					note(&f, len, sa, da);
				restore(GUARD, len + ALIGNS);
			}
	report(m, "memmove overlapping", &f);
}

static void sweep_set(const struct impl *m)
{
	struct failure f = { 0 };

	for (size_t len = 0; len <= MAXLEN; len++)
		for (size_t v = 0; v < (size_t)m->aligns; v++)
			for (size_t da = 0; da < (size_t)m->aligns; da++) {
				unsigned char *d = dst + GUARD + da;
				int c = (int)(v * 0x35 + 0x100 * v);  /* high bits must be ignored */
				for (size_t i = 0; i < len; i++)
					want[i] = (unsigned char)c;
				long r = call(m->set, d, (void *)(long)c, len);
				if (r != (long)d || !window_ok(d, want, len))
					note(&f, len, v, da);
				restore(GUARD + da, len);
			}
	report(m, "memset", &f);
}

static int sign(long v)
{
	return (v > 0) - (v < 0);
}

/* Equal buffers, then one byte changed at a random place: the result's
 * sign must be that of the unsigned byte difference. */
static void sweep_cmp(const struct impl *m)
{
	struct failure f = { 0 };

	for (size_t len = 0; len <= MAXLEN; len++)
		for (size_t sa = 0; sa < (size_t)m->aligns; sa++)
			for (size_t da = 0; da < (size_t)m->aligns; da++) {
				unsigned char *a = src + GUARD + sa, *b = dst + GUARD + da;
				for (size_t i = 0; i < len; i++)
					b[i] = a[i];
				int ok = (int)call(m->cmp, a, b, len) == 0;
				if (len) {
					uint64_t r = t_rand(&rng);
					size_t at = (size_t)r % len;
					unsigned char old = b[at];
					b[at] = (unsigned char)(old + 1 + (uint32_t)(r >> 32) % 255);
					int want_sign = a[at] > b[at] ? 1 : -1;
					ok &= sign((int)call(m->cmp, a, b, len)) == want_sign;
					ok &= sign((int)call(m->cmp, b, a, len)) == -want_sign;
				}
				if (!ok)
					note(&f, len, sa, da);
				restore(GUARD + da, len);
			}
	report(m, "memcmp", &f);
}

/* Beyond the sweep: large sizes, where the loops switch strategy. */
static void test_large(const struct impl *m)
{
	static unsigned char a[1 << 17], b[1 << 17], orig[1 << 17];
	size_t sizes[] = { 4095, 4096, 4097, 65536 + 7, sizeof a - 64 };
	int ok = 1;

	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		size_t n = sizes[k];
		for (size_t i = 0; i < n + 64; i++)
			a[i] = (unsigned char)t_rand(&rng);
		call(m->copy, b + 3, a + 5, n);
		for (size_t i = 0; i < n; i++)
			ok &= b[3 + i] == a[5 + i];
		ok &= call(m->cmp, b + 3, a + 5, n) == 0;
		for (size_t i = 0; i < n + 64; i++)
			orig[i] = a[i];
		call(m->move, a + 1, a + 9, n);          /* down, overlapping */
		call(m->move, a + 17, a + 1, n);         /* up, overlapping */
		for (size_t i = 0; i < n; i++)
			ok &= a[17 + i] == orig[9 + i];
		call(m->set, b, (void *)0x1ab, n);
		for (size_t i = 0; i < n; i++)
			ok &= b[i] == 0xab;
	}
	t_s(ok ? "[OK]   " : "[FAIL] ");
	t_s(m->name);
	t_s(" large copies, moves, sets and compares up to 128 KiB");
	if (!ok)
		t_failures++;
	t_nl();
}

static void run(const struct impl *m)
{
	sweep_copy(m, m->copy, "memcpy");
	sweep_copy(m, m->move, "memmove apart");
	sweep_overlap(m);
	sweep_set(m);
	sweep_cmp(m);
	test_large(m);
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	rng = t_seed("mem");
	for (size_t i = 0; i < SPAN; i++) {
		src[i] = (unsigned char)t_rand(&rng);
		dst[i] = fill[i] = (unsigned char)t_rand(&rng);
	}
	struct impl asm_impl = { "asm", (void *)memcpy, (void *)memmove, (void *)memset,
				 (void *)memcmp, ALIGNS };
	/* The twin is the reference for ports, not the product: fewer alignments. */
	struct impl c_impl = { "C twin", (void *)c_memcpy, (void *)c_memmove, (void *)c_memset,
			       (void *)c_memcmp, 8 };
	checkasm = 1;
	run(&asm_impl);
	T_EQ("the assembly preserves callee-saved registers, sp and DF", t_clobbered, 0);
	checkasm = 0;
	run(&c_impl);
	return t_exit_status();
}

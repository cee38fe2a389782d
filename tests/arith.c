/* The compiler's helpers that the runtime provides instead of libgcc
 * (inc/ba_sys.h): 64-bit division and remainder, and the bit counts.
 * Each division helper of the library (on i386 the assembly of
 * start/i386/div64.asm) is called through t_checkcall on edge and random
 * inputs and checked against the identity n = q * d + r, |r| < |d| with
 * r of the dividend's sign; against the hardware's division on x86-64; and
 * against the C reference, start/div64.c, linked here as c_*.  Division by
 * zero must trap as the hardware does (SIGFPE, in a child). */
#include "t.h"

unsigned long long c_udivmoddi4(unsigned long long n, unsigned long long d, unsigned long long *rem);
long long c_divmoddi4(long long a, long long b, long long *rem);

typedef unsigned long long du;
typedef long long ds;

static uint64_t rng;
static char first[160];
static long bad;

static void fail(const char *what, du n, du d)
{
	if (!bad++)
		t_catx(t_cat(t_catx(t_cat(first, sizeof first, what), sizeof first, n), sizeof first, ", "),
		       sizeof first, d);
}

/* fn(n, d) through t_checkcall, 64-bit arguments and result on either ISA. */
static du call2(void *fn, du n, du d)
{
	t_clobbered = 0;
#if __SIZEOF_POINTER__ == 8
	du r = (du)t_checkcall64(fn, (long)n, (long)d, 0, 0, 0, 0, 0);
#else
	du r = (du)t_checkcall64(fn, (long)n, (long)(n >> 32), (long)d, (long)(d >> 32), 0, 0, 0);
#endif
	if (t_clobbered)
		fail("registers clobbered by a division of ", n, d);
	return r;
}

static du call3(void *fn, du n, du d, void *rem)
{
	t_clobbered = 0;
#if __SIZEOF_POINTER__ == 8
	du r = (du)t_checkcall64(fn, (long)n, (long)d, (long)rem, 0, 0, 0, 0);
#else
	du r = (du)t_checkcall64(fn, (long)n, (long)(n >> 32), (long)d, (long)(d >> 32), (long)rem, 0, 0);
#endif
	if (t_clobbered)
		fail("registers clobbered by a division of ", n, d);
	return r;
}

static void unsigned_case(du n, du d)
{
	du q = call2((void *)__udivdi3, n, d), r = call2((void *)__umoddi3, n, d), r4 = 0, rc = 0;
	du q4 = call3((void *)__udivmoddi4, n, d, &r4), qc = c_udivmoddi4(n, d, &rc);

	if (q * d + r != n || r >= d || q4 != q || r4 != r || qc != q || rc != r)
		fail("unsigned ", n, d);
#if __SIZEOF_POINTER__ == 8
	if (q != n / d || r != n % d)
		fail("unsigned, against the hardware: ", n, d);
#endif
}

static du magnitude(ds x)
{
	return x < 0 ? -(du)x : (du)x;
}

static void signed_case(ds a, ds b)
{
	ds q = (ds)call2((void *)__divdi3, (du)a, (du)b), r = (ds)call2((void *)__moddi3, (du)a, (du)b);
	ds r4 = 0, rc = 0, q4 = (ds)call3((void *)__divmoddi4, (du)a, (du)b, &r4), qc = c_divmoddi4(a, b, &rc);

	/* In 2^64 arithmetic, so that INT64_MIN / -1 (which wraps) is defined. */
	if ((du)q * (du)b + (du)r != (du)a || magnitude(r) >= magnitude(b) || (r && (r < 0) != (a < 0)) ||
	    q4 != q || r4 != r || qc != q || rc != r)
		fail("signed ", (du)a, (du)b);
#if __SIZEOF_POINTER__ == 8
	if (!(b == -1 && a == (ds)((du)1 << 63)) && (q != a / b || r != a % b))
		fail("signed, against the hardware: ", (du)a, (du)b);
#endif
}

/* A random number of a random bit length, so that every case of the
 * algorithm (divisor below and above 2^32, quotient 0, 1, large) comes up. */
static du random_bits(void)
{
	du x = t_rand(&rng);
	unsigned len = (unsigned)(t_rand(&rng) >> 58);   /* 0..63 */

	return len ? x >> (64 - len) | (du)1 << (len - 1) : x;
}

static void test_division(void)
{
	static const du edge[] = {
		0, 1, 2, 3, 7, 10, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
		0x100000001ull, 0x1ffffffffull, 0xfffffffffull, 0x7fffffffffffffffull,
		0x8000000000000000ull, 0x8000000000000001ull, 0xfffffffeffffffffull,
		0xffffffff00000000ull, 0xfffffffffffffffeull, 0xffffffffffffffffull,
	};
	const unsigned ne = sizeof edge / sizeof edge[0];
	long cases = 0;

	for (unsigned i = 0; i < ne; i++)
		for (unsigned j = 0; j < ne; j++) {
			if (edge[j])
				unsigned_case(edge[i], edge[j]), cases++;
			if (edge[j])
				signed_case((ds)edge[i], (ds)edge[j]), cases++;
		}
	for (int i = 0; i < 200000; i++) {
		du n = random_bits(), d = random_bits();
		if (d) {
			unsigned_case(n, d);
			signed_case((ds)n, (ds)d);
			cases += 2;
		}
	}
	T_TRUE("the division helpers on edge and random inputs (cases run)", cases > 400000);
	if (!T_EQ("... every quotient and remainder right, registers kept (failures)", bad, 0))
		t_s("#   first: "), t_s(first), t_nl();
}

static int divide_by_zero(void *fn)
{
	return (int)call2(fn, 5, 0);
}

static void test_zero(void)
{
	char out[64];
	void *const fns[] = { (void *)__udivdi3, (void *)__umoddi3, (void *)__divdi3, (void *)__moddi3 };
	const char *const names[] = { "__udivdi3", "__umoddi3", "__divdi3", "__moddi3" };

	t_no_core_files();
	for (int i = 0; i < 4; i++)
		T_EQ(t_join(names[i], "(5, 0) traps with SIGFPE, as the hardware's division"),
		     t_child(divide_by_zero, fns[i], out, sizeof out) & 0x7f, SIGFPE);
}

static int slow_popcount(du x)
{
	int n = 0;

	for (; x; x >>= 1)
		n += (int)(x & 1);
	return n;
}

static void test_bits(void)
{
	long wrong = 0;

	for (int i = 0; i < 100000; i++) {
		du x = i < 64 ? (du)1 << i : random_bits();
		int tz = 0;
		while (x && !(x >> tz & 1))
			tz++;
		wrong += __popcountsi2((unsigned)x) != slow_popcount((unsigned)x);
		wrong += __popcountdi2(x) != slow_popcount(x);
		wrong += x && __ctzdi2(x) != tz;
		wrong += __ffsdi2((ds)x) != (x ? tz + 1 : 0);
	}
	wrong += __popcountdi2(0) != 0 || __ffsdi2(0) != 0 || __popcountdi2(~0ull) != 64;
	T_EQ("__popcountsi2, __popcountdi2, __ctzdi2, __ffsdi2 against bit loops (wrong)", wrong, 0);
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	rng = t_seed("arith");
	test_division();
	test_zero();
	test_bits();
	return t_exit_status();
}

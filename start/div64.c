/* 64-bit division for i386, which has no instruction for it: gcc calls
 * these for / and % on 64-bit integers, and a program without libgcc must
 * have them.  start/i386/div64.asm replaces this file there with the same
 * functions built on the 64/32 div instruction; this portable C is its
 * reference (tests/arith.c checks both, and this file against the
 * hardware on x86-64).  Division by zero traps, as the hardware does. */
#include "ba_sys.h"

typedef unsigned long long du;
typedef long long ds;

/* The number of leading zero bits of x != 0, from 32-bit halves: gcc
 * inlines the 32-bit count on both ISAs. */
static int clz64(du x)
{
	unsigned hi = (unsigned)(x >> 32);

	return hi ? __builtin_clz(hi) : 32 + __builtin_clz((unsigned)x);
}

/* Bit by bit, from the divisor shifted under the dividend's top bit: at
 * most 64 steps of a compare and a subtract, no division. */
du __udivmoddi4(du n, du d, du *rem)
{
	du q = 0;

	if (d == 0) {   /* the hardware's divide error; volatile, so it is not optimised out */
		volatile unsigned zero = 0, trap = (unsigned)n / zero;
		return trap;
	}
	if (n >= d) {
		int shift = clz64(d) - clz64(n);
		for (d <<= shift; shift >= 0; shift--, d >>= 1) {
			q <<= 1;
			if (n >= d) {
				n -= d;
				q |= 1;
			}
		}
	}
	if (rem)
		*rem = n;
	return q;
}

/* Truncating, as C's / and %: the remainder takes the dividend's sign. */
ds __divmoddi4(ds a, ds b, ds *rem)
{
	du ua = a < 0 ? -(du)a : (du)a, ub = b < 0 ? -(du)b : (du)b, r = 0;
	du q = __udivmoddi4(ua, ub, &r);

	if (rem)
		*rem = a < 0 ? -(ds)r : (ds)r;
	return (a < 0) != (b < 0) ? -(ds)q : (ds)q;
}

du __udivdi3(du n, du d)
{
	return __udivmoddi4(n, d, 0);
}

du __umoddi3(du n, du d)
{
	du r = 0;

	__udivmoddi4(n, d, &r);
	return r;
}

ds __divdi3(ds a, ds b)
{
	return __divmoddi4(a, b, 0);
}

ds __moddi3(ds a, ds b)
{
	ds r = 0;

	__divmoddi4(a, b, &r);
	return r;
}

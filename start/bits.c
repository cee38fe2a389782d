/* Bit counts that gcc calls instead of inlining them when the CPU may not
 * have the instruction: population counts without POPCNT (both ISAs), and
 * 64-bit trailing-zero counts on i386.  Written with shifts and masks, so
 * that gcc cannot turn them back into calls to themselves. */
#include "ba_sys.h"

int __popcountsi2(unsigned x)
{
	x -= (x >> 1) & 0x55555555u;
	x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
	x = (x + (x >> 4)) & 0x0f0f0f0fu;
	return (int)((x * 0x01010101u) >> 24);
}

int __popcountdi2(unsigned long long x)
{
	return __popcountsi2((unsigned)x) + __popcountsi2((unsigned)(x >> 32));
}

/* Undefined for 0, as __builtin_ctzll. */
int __ctzdi2(unsigned long long x)
{
	unsigned lo = (unsigned)x;

	return lo ? __builtin_ctz(lo) : 32 + __builtin_ctz((unsigned)(x >> 32));
}

/* 1 + the index of the lowest set bit, or 0 for 0. */
int __ffsdi2(long long x)
{
	return x ? __ctzdi2((unsigned long long)x) + 1 : 0;
}

/* Number formatting for messages, without libc and without 64-bit division
 * (which on i386 would need libgcc's __udivdi3, never linked here). */
#include "ba_sys.h"

char *ba_utoa(unsigned long long v, char buf[BA_UTOA_SIZE])
{
	static const unsigned long long pow10[] = {
		10000000000000000000ULL, 1000000000000000000ULL, 100000000000000000ULL,
		10000000000000000ULL, 1000000000000000ULL, 100000000000000ULL,
		10000000000000ULL, 1000000000000ULL, 100000000000ULL, 10000000000ULL,
		1000000000ULL, 100000000ULL, 10000000ULL, 1000000ULL, 100000ULL,
		10000ULL, 1000ULL, 100ULL, 10ULL, 1ULL,
	};
	char *p = buf;

	for (unsigned i = 0; i < sizeof pow10 / sizeof pow10[0]; i++) {
		char digit = '0';
		while (v >= pow10[i]) {
			v -= pow10[i];
			digit++;
		}
		if (digit != '0' || p != buf || pow10[i] == 1)
			*p++ = digit;
	}
	*p = 0;
	return buf;
}

char *ba_xtoa(unsigned long long v, char buf[BA_XTOA_SIZE])
{
	char *p = buf;

	*p++ = '0';
	*p++ = 'x';
	for (int shift = 60; shift >= 0; shift -= 4)
		if ((v >> shift) || p > buf + 2 || shift == 0)
			*p++ = "0123456789abcdef"[(v >> shift) & 15];
	*p = 0;
	return buf;
}

/* Ordinary C, as written against the standard headers, built with
 * barealloc-gcc like any user's program (the Makefile builds every
 * tests/std_*.c that way): gcc's own freestanding headers, <stdlib.h> and
 * <string.h> for what barealloc implements, main with no parameters, and
 * 64-bit division, which on i386 needs the runtime's helpers. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"

struct pair { char c; int64_t v; };

static int sum(int n, ...)
{
	va_list ap;
	int s = 0;

	va_start(ap, n);
	while (n--)
		s += va_arg(ap, int);
	va_end(ap);
	return s;
}

int main(void)
{
	volatile uint64_t big = 0xfedcba9876543210ull, d = 1000003;
	volatile int64_t neg = -123456789012345ll;
	bool ok;

	T_TRUE("<stdint.h>, <stddef.h>: fixed widths, SIZE_MAX and offsetof",
	       sizeof(uint64_t) == 8 && sizeof(int8_t) == 1 && SIZE_MAX == (size_t)-1 &&
	       offsetof(struct pair, v) == 8 * (sizeof(void *) == 8) + 4 * (sizeof(void *) == 4));
	T_EQ("<stdarg.h>: a variadic sum", sum(4, 1, 2, 3, 4), 10);
	ok = true;
	T_TRUE("<stdbool.h>: bool and true", ok == 1);
	T_TRUE("64-bit / and % (unsigned)", big / d == 18364703450382ull && big % d == 713574ull &&
	       big / d * d + big % d == big);
	T_TRUE("64-bit / and % (signed)", neg / 1000 == -123456789012ll && neg % 1000 == -345);
	char *p = malloc(1000), *q = calloc(10, 100);
	T_TRUE("<stdlib.h>: malloc and calloc", p && q && q[999] == 0);
	memset(p, 'x', 1000);
	memcpy(q, p, 500);
	T_TRUE("<string.h>: memset, memcpy, memcmp", memcmp(p, q, 500) == 0 && memcmp(p, q, 501) != 0);
	p = realloc(p, 100000);
	T_TRUE("<stdlib.h>: realloc keeps the contents", p && p[999] == 'x');
	free(p);
	free(q);
	return t_exit_status() ? EXIT_FAILURE : EXIT_SUCCESS;
}

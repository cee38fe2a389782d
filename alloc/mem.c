/* memcpy, memmove, memset and memcmp in plain C: the reference twin of
 * alloc/<isa>/mem.asm, which replaces this file in the build.  gcc emits
 * calls to these four even in freestanding code, so this file is compiled
 * with -fno-tree-loop-distribute-patterns: otherwise gcc would turn each
 * loop back into a call to itself. */
#include "barealloc.h"

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if ((uintptr_t)d - (uintptr_t)s >= n)   /* no overlap with a later source byte */
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

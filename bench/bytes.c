/* The byte loops against their plain C twins (alloc/mem.c, linked as
 * c_mem*): `bytes FUNC SIZE N` calls FUNC N times on SIZE bytes, with the
 * destination and source at different alignments each call, so that
 * bench/bytes.sh can take callgrind's instructions per call and per byte
 * from the difference of N and 2N.  Freestanding, both ISAs. */
#include "barealloc.h"
#include "ba_sys.h"

void *c_memcpy(void *, const void *, size_t);
void *c_memset(void *, int, size_t);

static unsigned long num(const char *s)
{
	unsigned long v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (unsigned long)(*s++ - '0');
	return v;
}

static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static char src[65536 + 64], dst[65536 + 64];

int main(int argc, char **argv, char **envp)
{
	(void)envp;
	if (argc != 4)
		return 2;
	const char *fn = argv[1];
	unsigned long size = num(argv[2]), n = num(argv[3]);
	if (size > 65536)
		return 2;
	/* "none" runs the loop alone: bytes.sh subtracts it. */
	int f = same(fn, "memcpy") ? 1 : same(fn, "c_memcpy") ? 2 : same(fn, "memset") ? 3 :
		same(fn, "c_memset") ? 4 : same(fn, "none") ? 0 : -1;
	if (f < 0)
		return 2;
	for (unsigned long i = 0; i < n; i++) {
		char *d = dst + (i & 15), *s = src + ((i >> 4) & 15);
		switch (f) {
		case 1: memcpy(d, s, size); break;
		case 2: c_memcpy(d, s, size); break;
		case 3: memset(d, (int)i, size); break;
		case 4: c_memset(d, (int)i, size); break;
		}
		__asm__ volatile("" ::: "memory");
	}
	return 0;
}

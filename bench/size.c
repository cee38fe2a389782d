/* The size yardstick: a small program that uses the allocator as a real
 * one does and checks every byte it wrote.  1000 blocks of 1..4096 bytes,
 * a third of them grown by realloc, all freed in a shuffled order, then
 * one 1 MiB block filled.  Standard C only, so that it builds unchanged
 * against barealloc (barealloc-gcc), musl and glibc; make bench reports
 * each build's stripped size.  The exit status is 0 when every check
 * passed.
 *
 * Built with -DWRITE_ONLY, the program takes an argument: "baseline"
 * replaces the allocation by writing the same peak of live bytes into a
 * static buffer, so that bench/peak.c can subtract what the program itself
 * holds resident from the allocator's run (make bench, docs/BENCH.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N 1000
#define BIG ((size_t)1 << 20)

static unsigned char *blk[N];
static size_t len[N];
static uint32_t order[N];
static uint32_t rng = 2463534242u;

static uint32_t next(void)      /* xorshift32: the same sequence everywhere */
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void fill(size_t i, size_t from)
{
	for (size_t j = from; j < len[i]; j++)
		blk[i][j] = (unsigned char)(i + j);
}

static int intact(size_t i)
{
	for (size_t j = 0; j < len[i]; j++)
		if (blk[i][j] != (unsigned char)(i + j))
			return 0;
	return 1;
}

#ifdef WRITE_ONLY
/* The baseline: the same sizes, their peak sum written once. */
static unsigned char flat[8u << 20];

static int baseline(void)
{
	size_t live = 0;

	for (size_t i = 0; i < N; i++)
		live += len[i] = 1 + next() % 4096;
	for (size_t i = 0; i < N; i += 3) {
		size_t n = len[i] + 1 + next() % 4096;
		live += n - len[i];
		len[i] = n;
	}
	if (live < BIG)
		live = BIG;
	memset(flat, 0x5a, live);
	return flat[live - 1] != 0x5a;
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return baseline();
#else
int main(void)
{
#endif
	for (size_t i = 0; i < N; i++) {
		len[i] = 1 + next() % 4096;
		if (!(blk[i] = malloc(len[i])))
			return 1;
		fill(i, 0);
	}
	for (size_t i = 0; i < N; i += 3) {
		size_t old = len[i], n = old + 1 + next() % 4096;
		unsigned char *p = realloc(blk[i], n);
		if (!p)
			return 1;
		blk[i] = p, len[i] = n;
		fill(i, old);
	}
	for (uint32_t i = 0; i < N; i++)
		order[i] = i;
	for (uint32_t i = N - 1; i > 0; i--) {      /* Fisher-Yates */
		uint32_t k = next() % (i + 1), t = order[i];
		order[i] = order[k], order[k] = t;
	}
	for (size_t i = 0; i < N; i++) {
		if (!intact(order[i]))
			return 1;
		free(blk[order[i]]);
	}
	unsigned char *big = malloc(BIG);
	if (!big)
		return 1;
	memset(big, 0x5a, BIG);
	for (size_t j = 0; j < BIG; j += 4096)
		if (big[j] != 0x5a)
			return 1;
	free(big);
	return EXIT_SUCCESS;
}

/* Synthetic allocation traces for bench/replay.c, in the textbook format
 * ("a ID SIZE", "r ID SIZE", "f ID"), the same bytes on every machine
 * (a fixed xorshift seed).  Each holds at least 1 MiB of live payload at
 * its peak.
 *
 *   tracegen random     random sizes (2^4..2^13, then uniform below), 2000
 *                       live blocks replaced one at a time at random
 *   tracegen binary     64 and 448 bytes alternately, every 448 freed, then
 *                       512-byte blocks: the holes fit none of them
 *   tracegen realloc    one block grown by 128 bytes at a time to 1.5 MiB,
 *                       a short-lived 128-byte block between steps
 *   tracegen compiler   60 "functions": many small nodes, strings and
 *                       vectors grown by doubling, all freed at the end of
 *                       the function but a long-lived 5 %
 */
#include "host.h"
#include <stdio.h>

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t rnd(void)
{
	return xorshift(&rng);
}

static uint32_t next_id;
static uint32_t a(uint32_t size) { printf("a %u %u\n", next_id, size); return next_id++; }
static void f(uint32_t id) { printf("f %u\n", id); }
static void r(uint32_t id, uint32_t size) { printf("r %u %u\n", id, size); }

static void random_sizes(void)
{
	enum { LIVE = 2000, STEPS = 20000 };
	static uint32_t live[LIVE];

	for (int i = 0; i < LIVE; i++)
		live[i] = a(1 + rnd() % (16u << rnd() % 10));
	for (int s = 0; s < STEPS; s++) {
		uint32_t k = rnd() % LIVE;
		f(live[k]);
		live[k] = a(1 + rnd() % (16u << rnd() % 10));
	}
	for (int i = 0; i < LIVE; i++)
		f(live[i]);
}

static void binary(void)
{
	enum { N = 2400 };
	static uint32_t small[N], big[N];

	for (int i = 0; i < N; i++) {
		small[i] = a(64);
		big[i] = a(448);
	}
	for (int i = 0; i < N; i++)
		f(big[i]);
	for (int i = 0; i < N; i++)
		big[i] = a(512);
	for (int i = 0; i < N; i++) {
		f(small[i]);
		f(big[i]);
	}
}

static void grow(void)
{
	uint32_t id = a(512), tmp = a(128);

	for (uint32_t size = 640; size <= (3u << 19); size += 128) {
		r(id, size);
		uint32_t t = a(128);
		f(tmp);
		tmp = t;
	}
	f(tmp);
	f(id);
}

/* Node sizes of a compiler's trees: mostly 24..64 bytes. */
static uint32_t node_size(void)
{
	static const uint32_t sizes[] = { 16, 24, 24, 32, 32, 32, 40, 48, 48, 56, 64, 80, 96, 128 };
	return sizes[rnd() % (sizeof sizes / sizeof sizes[0])];
}

static void compiler(void)
{
	enum { FUNCS = 60, MAXN = 16000 };
	static uint32_t ids[MAXN];

	for (int fn = 0; fn < FUNCS; fn++) {
		uint32_t n = 2000 + rnd() % 12000, vec = a(16), vsize = 16, vlen = 0;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t k = rnd() % 16;
			if (k < 12)
				ids[i] = a(node_size());
			else if (k < 15)
				ids[i] = a(4 + rnd() % 60);             /* a string */
			else
				ids[i] = a(64 + rnd() % 960);           /* a table */
			if ((vlen += 8) > vsize)
				r(vec, vsize *= 2);
		}
		for (uint32_t i = n; i-- > 0;)
			if (rnd() % 20)                                 /* 5 % live on */
				f(ids[i]);
		f(vec);
	}
}

int main(int argc, char **argv)
{
	const char *w = argc == 2 ? argv[1] : "";

	if (!strcmp(w, "random"))
		random_sizes();
	else if (!strcmp(w, "binary"))
		binary();
	else if (!strcmp(w, "realloc"))
		grow();
	else if (!strcmp(w, "compiler"))
		compiler();
	else {
		fprintf(stderr, "usage: tracegen random|binary|realloc|compiler\n");
		return 2;
	}
	return 0;
}

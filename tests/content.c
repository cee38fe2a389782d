/* What realloc keeps: min(old, new) bytes on every size path and every
 * crossing between them, growing and shrinking, in place or moved
 * (conformance row 12); and after it, the whole new size is usable without
 * a false overflow report.  calloc's zeroing is in tests/calloc_zero.c.
 *
 * The paths: small (n <= 64 KiB, size classes), medium (64 KiB < n <= 1 MiB)
 * and large (n > 1 MiB: an own mapping, mremap on realloc).  Blocks are
 * filled with a position-dependent pattern, so that a copy from the wrong
 * offset or a lost page shows as well as a short copy. */
#include "t.h"
#include "barealloc.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* The pattern: 32-bit words of a hash of their index and a seed, read as
 * little-endian bytes, so that a block can be filled and checked a word at
 * a time from any offset. */
static uint32_t word_at(size_t w, uint32_t seed)
{
	uint32_t x = (uint32_t)w * 0x9E3779B1u + seed;

	return x ^ (x >> 15) ^ (uint32_t)(w >> 20);
}

static unsigned char byte_at(size_t i, uint32_t seed)
{
	return (unsigned char)(word_at(i / 4, seed) >> (8 * (i & 3)));
}

static void fill(unsigned char *p, size_t from, size_t to, uint32_t seed)
{
	size_t i = from;

	for (; i < to && (i & 3); i++)
		p[i] = byte_at(i, seed);
	for (; i + 4 <= to; i += 4)
		*(uint32_t *)(p + i) = word_at(i / 4, seed);
	for (; i < to; i++)
		p[i] = byte_at(i, seed);
}

/* The first byte in [0, n) that is not the pattern's, plus 1; 0 if none. */
static size_t first_bad(const unsigned char *p, size_t n, uint32_t seed)
{
	size_t i = 0;

	for (; i + 4 <= n; i += 4)
		if (*(const uint32_t *)(p + i) != word_at(i / 4, seed))
			break;
	for (; i < n; i++)
		if (p[i] != byte_at(i, seed))
			return i + 1;
	return 0;
}

static const char *path(size_t n)
{
	return n <= 64 * KiB ? "small" : n <= MiB ? "medium" : "large";
}

static void note(const char *what, size_t a, size_t b, size_t c)
{
	t_s("#   ");
	t_s(what);
	t_s(" ");
	t_d((long long)a);
	t_s(" -> ");
	t_d((long long)b);
	t_s(": ");
	t_d((long long)c);
	t_nl();
}

/* realloc(p, to) of a block of from bytes filled with seed: checks the
 * result and its prefix, refills the rest.  Returns the block, or NULL
 * after printing what went wrong. */
static unsigned char *resize(unsigned char *p, size_t from, size_t to, uint32_t seed)
{
	unsigned char *q = realloc(p, to);
	size_t keep = from < to ? from : to, bad;

	if (!q || ((uintptr_t)q & 15) || malloc_usable_size(q) != to) {
		note("realloc gave a bad block (NULL, misaligned or wrong usable size):", from, to, 0);
		return 0;
	}
	if ((bad = first_bad(q, keep, seed)) != 0) {
		note("realloc lost the contents; first bad byte + 1:", from, to, bad);
		free(q);
		return 0;
	}
	fill(q, keep, to, seed);
	return q;
}

static const size_t set[] = {
	1, 16, 17, 100, 256, 257, 1000, 4096, 4097, 30000, 64 * KiB, 64 * KiB + 1,
	100000, 500000, MiB, MiB + 1, 2 * MiB + 5, 4 * MiB + 1,
};
#define NSET (sizeof set / sizeof set[0])

/* realloc(malloc(a), b) and back to a, between neighbours that must not be
 * touched; returns 0 if all is well. */
static int round_trip(size_t a, size_t b)
{
	uint32_t seed = (uint32_t)(a * 31 + b);
	size_t gn = a < 4096 ? a : 4096;
	unsigned char *g1 = malloc(gn), *p = malloc(a), *g2 = malloc(gn);
	int bad = !g1 || !p || !g2;

	if (!bad) {
		fill(g1, 0, gn, ~seed);
		fill(g2, 0, gn, ~seed);
		fill(p, 0, a, seed);
		p = resize(p, a, b, seed);
		p = p ? resize(p, b, a, seed) : 0;
		bad = !p || first_bad(p, a, seed);
		if (first_bad(g1, gn, ~seed) || first_bad(g2, gn, ~seed)) {
			note("realloc overwrote a neighbour", a, b, 0);
			bad = 1;
		}
	}
	free(g1);
	free(p);
	free(g2);
	return bad;
}

/* Conformance row 12: every pair of the set, reported per crossing. */
static void test_crossings(void)
{
	static const char *const paths[] = { "small", "medium", "large" };

	for (int from = 0; from < 3; from++)
		for (int to = 0; to < 3; to++) {
			int pairs = 0, bad = 0;
			for (size_t i = 0; i < NSET; i++)
				for (size_t j = 0; j < NSET; j++) {
					if (!t_streq(path(set[i]), paths[from]) ||
					    !t_streq(path(set[j]), paths[to]))
						continue;
					pairs++;
					bad += round_trip(set[i], set[j]);
				}
			char c[120] = "realloc ";
			t_cat(t_cat(t_cat(c, sizeof c, paths[from]), sizeof c, " -> "),
			      sizeof c, paths[to]);
			t_cat(t_catu(t_cat(c, sizeof c, " and back keeps min(old, new) bytes, "),
				     sizeof c, (unsigned)pairs), sizeof c, " size pairs (failing pairs)");
			T_EQ(c, bad, 0);
		}
	T_EQ("ba_check() after the crossings", ba_check(), 0);
}

/* Many small steps from a to b, mostly in place; checks after each. */
static void chain(const char *what, size_t a, size_t b, size_t step)
{
	uint32_t seed = (uint32_t)(a ^ b ^ step);
	unsigned char *p = malloc(a);
	size_t n = a, moves = 0;

	if (p)
		fill(p, 0, a, seed);
	do {   /* at least once, for a == b */
		size_t next = a < b ? (b - n > step ? n + step : b) : (n - b > step ? n - step : b);
		unsigned char *q = p ? resize(p, n, next, seed) : 0;
		moves += q != p;
		p = q;
		n = next;
	} while (p && n != b);
	T_TRUE(what, p && !first_bad(p, b, seed));
	t_s("#   ");
	t_s(what);
	t_s(": the block moved ");
	t_d((long long)moves);
	t_s(" times");
	t_nl();
	free(p);
}

static void test_chains(void)
{
	chain("small growth 1 -> 4096 by 1 byte keeps the contents", 1, 4096, 1);
	chain("small shrink 4096 -> 1 by 1 byte keeps the contents", 4096, 1, 1);
	chain("small -> medium growth 60000 -> 140000 by 997 bytes", 60000, 140000, 997);
	chain("medium -> small shrink 140000 -> 60000 by 997 bytes", 140000, 60000, 997);
	chain("medium -> large growth 900000 -> 1.3 MiB by 4093 bytes", 900000, 1363148, 4093);
	chain("large -> medium shrink 1.3 MiB -> 900000 by 4093 bytes", 1363148, 900000, 4093);
	chain("large growth 1 MiB + 1 -> 8 MiB by 256 KiB + 1 (mremap)", MiB + 1, 8 * MiB, 256 * KiB + 1);
	chain("large shrink 8 MiB -> 1 MiB + 1 by 256 KiB + 1", 8 * MiB, MiB + 1, 256 * KiB + 1);
	chain("small -> large: 100 -> 3 MiB in one step", 100, 3 * MiB, 3 * MiB);
	chain("large -> small: 3 MiB -> 100 in one step", 3 * MiB, 100, 3 * MiB);
	chain("same size: realloc(p, 5000) of a 5000-byte block", 5000, 5000, 1);
	T_EQ("ba_check() after the chains", ba_check(), 0);
}

/* Blocks from the alignment family are resized like any other. */
static void test_aligned_sources(void)
{
	static const size_t to[] = { 50, 5000, 200000, 2 * MiB };
	size_t page = ba_getauxval(AT_PAGESZ);
	int bad = 0;

	for (size_t i = 0; i < sizeof to / sizeof to[0]; i++)
		for (int kind = 0; kind < 4; kind++) {
			size_t n = kind == 3 ? page : 3000;
			unsigned char *p = kind == 0 ? memalign(4096, n) : kind == 1 ?
				aligned_alloc(64 * KiB, n) : kind == 2 ? valloc(n) : pvalloc(1);
			uint32_t seed = (uint32_t)(i * 4 + (size_t)kind);
			if (!p) {
				bad++;
				continue;
			}
			fill(p, 0, n, seed);
			p = resize(p, n, to[i], seed);
			bad += !p;
			free(p);
		}
	T_EQ("realloc of memalign, aligned_alloc, valloc and pvalloc blocks keeps the contents "
	     "(failures)", bad, 0);
	bad = 0;
	for (size_t i = 0; i < sizeof to / sizeof to[0]; i++) {   /* trimmed mappings */
		unsigned char *p = i & 1 ? aligned_alloc(8 * MiB, 100) : memalign(16 * MiB, 5 * MiB);
		size_t n = i & 1 ? 100 : 5 * MiB;
		if (!p || ((uintptr_t)p & (8 * MiB - 1))) {
			bad++;
			free(p);
			continue;
		}
		fill(p, 0, n, (uint32_t)i);
		p = resize(p, n, to[i] + 9 * MiB * (i == 3), (uint32_t)i);
		bad += !p;
		free(p);
	}
	T_EQ("realloc of blocks aligned to 8 and 16 MiB (over-allocated, trimmed mappings) keeps "
	     "the contents (failures)", bad, 0);
}

/* A seeded random walk over a few slots: sizes of every path. */
static void test_random_walk(void)
{
	uint64_t rng = t_seed("content random walk");
	enum { SLOTS = 8, STEPS = 1500 };
	unsigned char *slot[SLOTS] = { 0 };
	size_t size[SLOTS] = { 0 };
	int bad = 0;

	for (int step = 0; step < STEPS && !bad; step++) {
		uint32_t r = (uint32_t)t_rand(&rng);
		int s = (int)(r & (SLOTS - 1));
		size_t n = (size_t)t_rand(&rng) & (((size_t)1 << ((r >> 8) % 23)) - 1);
		if (slot[s] && (r >> 16) % 8 == 0) {
			bad = first_bad(slot[s], size[s], (uint32_t)s) != 0;
			free(slot[s]);
			slot[s] = 0;
		} else if (!slot[s]) {
			slot[s] = malloc(n);
			bad = !slot[s];
			if (!bad)
				fill(slot[s], 0, n, (uint32_t)s);
			size[s] = n;
		} else if (n == 0) {   /* realloc(p, 0) frees p and returns NULL */
			bad = first_bad(slot[s], size[s], (uint32_t)s) != 0 || realloc(slot[s], 0);
			slot[s] = 0;
		} else {
			slot[s] = resize(slot[s], size[s], n, (uint32_t)s);
			bad = !slot[s];
			size[s] = n;
		}
	}
	for (int s = 0; s < SLOTS; s++) {
		bad |= slot[s] && first_bad(slot[s], size[s], (uint32_t)s);
		free(slot[s]);
	}
	T_EQ("random walk of malloc, realloc and free over 8 slots, sizes up to 4 MiB: "
	     "the contents survive", bad, 0);
}


/* After realloc, the whole new size is usable: writing all of it and
 * freeing is not an overflow (run in a child: a false report aborts). */
static int write_all_then_free(void *arg)
{
	const size_t *n = arg;
	unsigned char *p = realloc(malloc(n[0]), n[1]);

	memset(p, 0xab, n[1]);
	free(p);
	return 0;
}

static void test_no_false_overflow(void)
{
	static const size_t pairs[][2] = {
		{ 100, 104 }, { 100, 111 }, { 111, 100 }, { 17, 31 }, { 5000, 5100 },
		{ 100001, 150001 }, { 300000, 100001 }, { 2 * MiB + 1, 3 * MiB + 1 },
		{ 3 * MiB + 1, 2 * MiB + 1 }, { 3 * MiB + 1, 100 },
	};
	char out[256];

	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		int status = t_child(write_all_then_free, (void *)pairs[i], out, sizeof out);
		char n[120] = "realloc ";
		t_cat(t_catu(t_cat(t_catu(n, sizeof n, pairs[i][0]), sizeof n, " -> "), sizeof n,
			     pairs[i][1]), sizeof n, ", write all of it, free: no overflow report");
		T_TRUE(n, status == 0 && out[0] == 0);
		if (status != 0 || out[0]) {
			t_s("#   status ");
			t_x((unsigned)status);
			t_s(", fd 2: ");
			t_s(out);
			t_nl();
		}
	}
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	test_crossings();
	test_chains();
	test_aligned_sources();
	test_random_walk();
	test_no_false_overflow();
	T_EQ("ba_check() at the end", ba_check(), 0);
	return t_exit_status();
}

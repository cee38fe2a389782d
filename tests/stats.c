/* The introspection calls: ba_check() is 0 on a healthy heap, ba_stats()
 * counts the live blocks and the bytes they asked for, and
 * ba_release_all() frees everything and unmaps every byte, after which the
 * allocator works again. */
#include "t.h"
#include "barealloc.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static size_t page;

/* The relations that hold between the fields at any time. */
static void check_invariants(const char *when)
{
	struct ba_stats s;
	char n[120];

	ba_stats(&s);
	n[0] = 0;
	T_TRUE(t_cat(t_cat(n, sizeof n, when), sizeof n, ": requested <= in_use <= mapped <= "
		     "mapped_peak, meta <= mapped, dirty <= mapped"),
	       s.requested <= s.in_use && s.in_use <= s.mapped && s.mapped <= s.mapped_peak &&
	       s.meta <= s.mapped && s.dirty <= s.mapped);
	n[0] = 0;
	T_EQ(t_cat(t_cat(n, sizeof n, "ba_check() "), sizeof n, when), ba_check(), 0);
}

static void test_fresh(void)
{
	struct ba_stats s;

	T_EQ("ba_check() before any allocation", ba_check(), 0);
	ba_stats(&s);
	T_EQ("before any allocation: live_blocks", s.live_blocks, 0);
	T_EQ("before any allocation: requested", s.requested, 0);
	T_TRUE("ba_check_name(0) is a name", ba_check_name(0) && ba_check_name(0)[0]);
}

enum { NB = 12 };
static void *blocks[NB];

/* One block of every kind; returns the sum of their usable sizes. */
static size_t allocate_mix(void)
{
	blocks[0] = malloc(0);
	blocks[1] = malloc(1);
	blocks[2] = malloc(100);
	blocks[3] = malloc(5000);
	blocks[4] = calloc(10, 30000);
	blocks[5] = malloc(100000);
	blocks[6] = malloc(2 * MiB + 3);
	blocks[7] = memalign(4096, 3000);
	blocks[8] = aligned_alloc(64 * KiB, 70000);
	blocks[9] = valloc(10);
	blocks[10] = pvalloc(10);   /* a whole page */
	blocks[11] = realloc(malloc(10), 20000);
	size_t sum = 0;
	for (int i = 0; i < NB; i++)
		sum += malloc_usable_size(blocks[i]);
	return sum;
}

static void test_counts(void)
{
	struct ba_stats before, with, after;

	ba_stats(&before);
	size_t sum = allocate_mix();
	ba_stats(&with);
	T_EQ("12 blocks of every kind: live_blocks grows by 12",
	     with.live_blocks - before.live_blocks, NB);
	T_EQ("12 blocks: requested grows by the sum of their usable sizes",
	     with.requested - before.requested, sum);
	T_EQ("pvalloc(10) counts as a whole page", malloc_usable_size(blocks[10]), page);
	T_TRUE("12 blocks: in_use grows by at least requested",
	       with.in_use - before.in_use >= sum);
	T_TRUE("mapped_peak is at least mapped", with.mapped_peak >= with.mapped);
	check_invariants("with 12 blocks live");

	blocks[3] = realloc(blocks[3], 6000);
	ba_stats(&after);
	T_EQ("realloc 5000 -> 6000: requested grows by 1000", after.requested - with.requested, 1000);
	T_EQ("realloc: live_blocks unchanged", after.live_blocks, with.live_blocks);
	blocks[3] = realloc(blocks[3], 5000);

	for (int i = 0; i < NB; i++)
		free(blocks[i]);
	ba_stats(&after);
	T_EQ("after freeing the 12: live_blocks as before", after.live_blocks, before.live_blocks);
	T_EQ("after freeing the 12: requested as before", after.requested, before.requested);
	T_TRUE("peak kept after the frees", after.mapped_peak >= with.mapped);
	check_invariants("after the frees");
}

/* Many blocks of many sizes, freed in a different order: the counters come
 * back exactly. */
static void test_many(void)
{
	enum { N = 3000 };
	static void *v[N];
	struct ba_stats before, with, after;
	uint64_t rng = t_seed("stats");
	size_t sum = 0;

	ba_stats(&before);
	for (int i = 0; i < N; i++) {
		uint32_t r = (uint32_t)t_rand(&rng);
		v[i] = malloc(r & ((1u << (r >> 27) % 21) - 1));
		sum += malloc_usable_size(v[i]);
	}
	ba_stats(&with);
	T_EQ("3000 random blocks: live_blocks", with.live_blocks - before.live_blocks, N);
	T_EQ("3000 random blocks: requested is the sum of the requests",
	     with.requested - before.requested, sum);
	check_invariants("with 3000 random blocks");
	for (int i = 0; i < N; i += 3)
		free(v[i]);
	for (int i = N - 1; i >= 0; i--)
		if (i % 3)
			free(v[i]);
	ba_stats(&after);
	T_EQ("3000 random blocks freed: live_blocks as before", after.live_blocks,
	     before.live_blocks);
	T_EQ("3000 random blocks freed: requested as before", after.requested, before.requested);
	check_invariants("after freeing 3000 random blocks");
}

/* Many large blocks live at once, freed in a random order: each is found
 * (usable size, free) through the large table as it grows and shrinks. */
static void test_many_large(void)
{
	enum { N = 600 };
	static unsigned char *v[N];
	uint64_t rng = t_seed("stats large");
	struct ba_stats before, after;
	size_t bad = 0;

	ba_stats(&before);
	for (int i = 0; i < N; i++) {
		size_t n = MiB + 1 + (size_t)(i & 15) * page;
		v[i] = malloc(n);
		if (!v[i] || malloc_usable_size(v[i]) != n)
			bad = bad ? bad : (size_t)i + 1;
		else
			v[i][0] = v[i][n - 1] = 1;
	}
	for (int i = N - 1; i > 0; i--) {   /* Fisher-Yates, without 64-bit modulo */
		int j = (int)((uint32_t)t_rand(&rng) % (uint32_t)(i + 1));
		unsigned char *t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	for (int i = 0; i < N; i++) {
		for (int k = i; k < N && !bad; k += 37)
			if (v[k] && malloc_usable_size(v[k]) < MiB + 1)
				bad = (size_t)k + 1;
		free(v[i]);
	}
	ba_stats(&after);
	T_EQ("600 large blocks live, freed in random order: each found with its size "
	     "(first bad + 1)", bad, 0);
	T_EQ("600 large blocks freed: live_blocks as before", after.live_blocks, before.live_blocks);
	check_invariants("after 600 large blocks");
}

static void expect_empty(const char *when)
{
	struct ba_stats s;
	char n[120];

	ba_stats(&s);
	n[0] = 0;
	T_EQ(t_cat(t_cat(n, sizeof n, when), sizeof n, ": mapped == 0"), s.mapped, 0);
	n[0] = 0;
	T_EQ(t_cat(t_cat(n, sizeof n, when), sizeof n, ": live_blocks == 0"), s.live_blocks, 0);
	n[0] = 0;
	T_EQ(t_cat(t_cat(n, sizeof n, when), sizeof n, ": requested == 0"), s.requested, 0);
	n[0] = 0;
	T_EQ(t_cat(t_cat(n, sizeof n, when), sizeof n, ": in_use == 0"), s.in_use, 0);
	n[0] = 0;
	T_EQ(t_cat(t_cat(n, sizeof n, when), sizeof n, ": ba_check()"), ba_check(), 0);
}

/* After ba_release_all() every entry point works again, from nothing. */
static void use_again(const char *when)
{
	char n[120];
	unsigned char *p = malloc(100), *c = calloc(1000, 3), *a = memalign(4096, 50);
	unsigned char *l = malloc(3 * MiB);
	int ok = p && c && a && l && !((uintptr_t)p & 15) && !((uintptr_t)a & 4095) &&
		 malloc_usable_size(p) == 100 && malloc_usable_size(l) == 3 * MiB;

	for (size_t i = 0; ok && i < 3000; i++)
		ok = c[i] == 0;
	if (ok) {
		memset(p, 1, 100);
		memset(l, 2, 3 * MiB);
		memset(a, 3, 50);
		p = realloc(p, 200000);
		ok = p && p[99] == 1 && l[3 * MiB - 1] == 2;
	}
	n[0] = 0;
	T_TRUE(t_cat(t_cat(n, sizeof n, when), sizeof n, ": malloc, calloc (zeroed), memalign, "
		     "realloc and a large block work"), ok);
	free(p);
	free(c);
	free(a);
	free(l);
}

static void test_release_all(void)
{
	struct ba_stats s;

	allocate_mix();
	for (int i = 0; i < 500; i++)
		malloc((size_t)i * 37);   /* left live on purpose */
	ba_release_all();
	expect_empty("after ba_release_all() with 512 live blocks");
	use_again("after ba_release_all()");
	ba_stats(&s);
	T_EQ("after use and free: live_blocks == 0", s.live_blocks, 0);
	ba_release_all();
	expect_empty("after a second ba_release_all()");
	ba_release_all();
	expect_empty("after ba_release_all() on an empty heap");
	use_again("after three ba_release_all()");
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	page = ba_getauxval(AT_PAGESZ);
	test_fresh();
	test_counts();
	test_many();
	test_many_large();
	test_release_all();
	return t_exit_status();
}

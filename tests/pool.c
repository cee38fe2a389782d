/* Pools (inc/ba_pool.h), every call on both ISAs:
 * - arguments: a size of 0, an unknown flag bit, a region with no whole
 *   page give NULL with EINVAL; a size that overflows when rounded, ENOMEM;
 * - region pools over static memory at odd addresses and lengths, with a
 *   guard pattern around them: filled to the last byte, churned by
 *   realloc, reset and destroyed, they never write outside their whole
 *   pages, and a reset gives the same capacity back;
 * - mapped pools: the size rounded to pages, exhaustion (NULL with ENOMEM,
 *   the pool still usable), one block of every page, the mapping gone
 *   after destroy;
 * - the family within a pool: malloc, calloc (zero on reused memory,
 *   overflow), realloc (contents across sizes, NULL, 0, failure leaves the
 *   block), aligned_alloc, usable_size, stats, check;
 * - BA_POOL_REPORT: each misuse returns its code, ba_pool_error says it,
 *   and the pool and the block are as they were.
 * The aborts of the default mode are tests/pool_misuse.c's; random
 * sessions, threads, fork and utilization are tests/pool_random.c's. */
#include "pool_blocks.h"

/* ---- Arguments. ---- */
static int einval(ba_pool *pool)
{
	if (pool)
		ba_pool_destroy(pool);
	return pool == 0 && errno == EINVAL;
}

static void test_flags(void)
{
	unsigned bad = 0;

	for (unsigned bit = 1; bit < 32; bit++) {
		errno = 0;
		bad += !einval(ba_pool_new(page, 1u << bit));
		errno = 0;
		bad += !einval(ba_pool_new_in(area + page, 4 * page, 1u << bit));
		errno = 0;
		bad += !einval(ba_pool_new_in(area + page, 4 * page, (1u << bit) | BA_POOL_REPORT));
	}
	T_EQ("ba_pool_new and ba_pool_new_in with an unknown flag bit (each of 1 << 1 .. 1 << 31): "
	     "NULL with EINVAL", bad, 0);
}

static void test_no_page(void)
{
	static const size_t cases[][2] = {
		{ 0, 0 }, { 1, 4095 }, { 1, 4096 }, { 4096, 4095 }, { 4097, 8190 }, { 4095, 4096 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char name[120] = "ba_pool_new_in(area + ";
		t_cat(t_catu(t_cat(t_catu(name, sizeof name, cases[i][0]), sizeof name, ", "),
			     sizeof name, cases[i][1]), sizeof name, "), no whole page: NULL with EINVAL");
		errno = 0;
		T_TRUE(name, einval(ba_pool_new_in(area + cases[i][0], cases[i][1], 0)));
	}
	T_TRUE("no whole page: the region is untouched", guard_intact(0, 0));
}

/* A region holding exactly one whole page: that page is the pool. */
static void one_page(size_t off, size_t len)
{
	char name[120] = "ba_pool_new_in(area + ";
	t_cat(t_cat(t_catu(t_cat(t_catu(name, sizeof name, off), sizeof name, ", "), sizeof name, len),
		    sizeof name, "): "), sizeof name, "one page, a 16-byte block in it");
	ba_pool *pool = ba_pool_new_in(area + off, len, 0);
	unsigned char *p = pool ? ba_pool_malloc(pool, 16) : 0;
	uintptr_t lo = page_up((uintptr_t)area + off);

	T_TRUE(name, p && (uintptr_t)p >= lo && (uintptr_t)p + 16 <= lo + page &&
		     stats_of(pool).mapped == page);
	if (pool) {
		ba_pool_free(pool, p);
		ba_pool_destroy(pool);
	}
}

static void test_sizes(void)
{
	errno = 0;
	T_TRUE("ba_pool_new(0, 0): NULL with EINVAL", einval(ba_pool_new(0, 0)));
	errno = 0;
	ba_pool *p = ba_pool_new(SIZE_MAX, 0);
	T_TRUE("ba_pool_new(SIZE_MAX, 0): NULL with ENOMEM", null_with(p, ENOMEM));
	errno = 0;
	ba_pool *q = ba_pool_new(SIZE_MAX - page + 2, 0);
	T_TRUE("ba_pool_new(SIZE_MAX - page + 2, 0), which overflows when rounded to pages: NULL "
	       "with ENOMEM", null_with(q, ENOMEM));
	errno = 0;
	ba_pool *r = ba_pool_new((size_t)PTRDIFF_MAX + 1, 0);
	T_TRUE("ba_pool_new(PTRDIFF_MAX + 1, 0): NULL with ENOMEM", null_with(r, ENOMEM));
	if (p)
		ba_pool_destroy(p);
	if (q)
		ba_pool_destroy(q);
	if (r)
		ba_pool_destroy(r);
}

static void test_arguments(void)
{
	guard_fill();
	test_sizes();
	test_flags();
	test_no_page();
	one_page(page, page);
	one_page(page - 5, page + 10);
	one_page(1, 2 * page - 1);
}

/* ---- Region pools: filled, churned, reset, destroyed; never a byte
 * written outside their pages. ---- */
static const size_t fill_sizes[] = { 16, 100, 1000, 5000, 24, 300, 70000, 2000, 48, 9000, 1, 0 };
#define NFILL (sizeof fill_sizes / sizeof fill_sizes[0])

struct counts {
	unsigned out_of_bounds, bad_errno, bad_usable;
};

/* Takes blocks of the sizes above, round robin, until two whole rounds
 * fail; each must lie in [lo, hi). */
static void fill_up(ba_pool *pool, uintptr_t lo, uintptr_t hi, struct counts *c)
{
	unsigned misses = 0;

	for (unsigned k = 0; misses < 2 * NFILL && tb.n < MAXB; k++) {
		size_t n = fill_sizes[k % NFILL];
		errno = 0;
		unsigned char *p = ba_pool_malloc(pool, n);
		if (!p) {
			c->bad_errno += errno != ENOMEM;
			misses++;
			continue;
		}
		misses = 0;
		c->out_of_bounds += (uintptr_t)p < lo || (uintptr_t)p + (n ? n : 1) > hi;
		c->bad_usable += ba_pool_usable_size(pool, p) != n;
		tb_add(&tb, p, n);
	}
}

/* Each block reallocated to another size of the list: its pattern kept up
 * to the smaller size, or, when realloc fails, kept whole. */
static void churn(ba_pool *pool, uintptr_t lo, uintptr_t hi, struct counts *c, unsigned *lost)
{
	for (unsigned i = 0; i < tb.n; i++) {
		struct blk *b = &tb.b[i];
		size_t n = fill_sizes[below(NFILL)];
		errno = 0;
		unsigned char *q = ba_pool_realloc(pool, b->p, n);
		if (!q && n) {
			c->bad_errno += errno != ENOMEM;
			*lost += !intact(b->p, b->n, b->tag);
			continue;
		}
		if (!q) {   /* realloc(p, 0) freed the block */
			tb_forget(&tb, i--);
			continue;
		}
		*lost += !intact(q, b->n < n ? b->n : n, b->tag);
		c->out_of_bounds += (uintptr_t)q < lo || (uintptr_t)q + (n ? n : 1) > hi;
		tb.bytes += n - b->n;
		b->p = q;
		b->n = n;
		fill(q, n, b->tag);
	}
}

/* How many blocks of n bytes a pool takes, all freed again. */
static unsigned capacity(ba_pool *pool, size_t n)
{
	unsigned count = 0;
	void *p;

	while (tb.n < MAXB && (p = ba_pool_malloc(pool, n)) != 0) {
		tb_add(&tb, p, n);
		count++;
	}
	tb_free_all(pool, &tb);
	return count;
}

static const char *region_name(size_t off, size_t len, const char *what)
{
	static char name[200];

	name[0] = 0;
	t_cat(t_catu(t_cat(name, sizeof name, "region at area + "), sizeof name, off), sizeof name, ", ");
	t_cat(t_catu(name, sizeof name, len), sizeof name, " bytes: ");
	return t_cat(name, sizeof name, what);
}

static void region_churned(ba_pool *pool, size_t off, size_t len, uintptr_t lo, uintptr_t hi)
{
	struct counts c = { 0, 0, 0 };
	unsigned lost = 0;

	fill_up(pool, lo, hi, &c);
	T_TRUE(region_name(off, len, "filled to the last block, every failure ENOMEM"),
	       tb.n > 0 && c.bad_errno == 0);
	T_EQ(region_name(off, len, "every block inside the pool's pages"), c.out_of_bounds, 0);
	T_EQ(region_name(off, len, "every block's usable size is its request"), c.bad_usable, 0);
	counted(region_name(off, len, "full"), pool, &tb);
	clean(region_name(off, len, "full"), pool);
	for (int round = 0; round < 3; round++) {
		churn(pool, lo, hi, &c, &lost);
		fill_up(pool, lo, hi, &c);
	}
	T_EQ(region_name(off, len, "realloc churn keeps every block's contents"), lost + tb_damaged(&tb), 0);
	T_EQ(region_name(off, len, "realloc churn stays inside the pages, fails with ENOMEM only"),
	     c.out_of_bounds + c.bad_errno, 0);
	counted(region_name(off, len, "after the churn"), pool, &tb);
	clean(region_name(off, len, "after the churn"), pool);
	T_TRUE(region_name(off, len, "full and churned: no byte outside the pages written"),
	       guard_intact(lo, hi));
}

static void region_reset(ba_pool *pool, size_t off, size_t len, uintptr_t lo, uintptr_t hi, unsigned cap)
{
	for (unsigned i = 0; i < tb.n; i += 2)   /* half freed, half left to reset */
		ba_pool_free(pool, tb.b[i].p);
	tb.n = 0, tb.bytes = 0;
	ba_pool_reset(pool);
	struct ba_stats st = stats_of(pool);
	T_TRUE(region_name(off, len, "after reset: no block, nothing requested or in use, the same pages"),
	       st.live_blocks == 0 && st.requested == 0 && st.in_use == 0 && st.mapped == hi - lo);
	clean(region_name(off, len, "after reset"), pool);
	T_EQ(region_name(off, len, "after reset: as many 1000-byte blocks as at first"), capacity(pool, 1000), cap);
	ba_pool_destroy(pool);
	T_TRUE(region_name(off, len, "after reset and destroy: no byte outside the pages written"),
	       guard_intact(lo, hi));
	pool = ba_pool_new_in(area + off, len, 0);
	void *p = pool ? ba_pool_malloc(pool, 100) : 0;
	T_TRUE(region_name(off, len, "a new pool over the same region after destroy works"),
	       p && (uintptr_t)p >= lo && (uintptr_t)p + 100 <= hi);
	if (pool)
		ba_pool_destroy(pool);
}

static void region_case(size_t off, size_t len)
{
	uintptr_t lo = page_up((uintptr_t)area + off), hi = page_down((uintptr_t)area + off + len);

	guard_fill();
	ba_pool *pool = ba_pool_new_in(area + off, len, 0);
	if (!T_TRUE(region_name(off, len, "made"), pool != 0))
		return;
	struct ba_stats st = stats_of(pool);
	T_TRUE(region_name(off, len, "stats: mapped and mapped_peak are its whole pages, meta > 0, "
			   "dirty_limit 0, no block"),
	       st.mapped == hi - lo && st.mapped_peak == hi - lo && st.meta > 0 && st.dirty_limit == 0 &&
	       st.live_blocks == 0 && st.requested == 0 && st.in_use == 0);
	unsigned cap = capacity(pool, 1000);
	T_TRUE(region_name(off, len, "holds 1000-byte blocks"), cap > 0);
	region_churned(pool, off, len, lo, hi);
	region_reset(pool, off, len, lo, hi, cap);
}

static void test_regions(void)
{
	region_case(4096 + 123, 128 * KiB + 777);
	region_case(1, 20 * 4096 - 1);          /* ends on a page boundary */
	region_case(3 * 4096, 4096 * 7);        /* exactly whole pages */
	region_case(4095, 65 * 4096 + 4000);
}

/* ---- Mapped pools. ---- */
static int read_fault(void *arg)
{
	return *(volatile unsigned char *)arg;
}

static void mapped_size(size_t size, size_t want)
{
	errno = 0;
	ba_pool *pool = ba_pool_new(size, 0);
	struct ba_stats st = pool ? stats_of(pool) : (struct ba_stats){ 0 };

	T_TRUE(t_name("ba_pool_new(", (long long)size, "): mapped and mapped_peak are the size rounded to pages"),
	       pool && st.mapped == want && st.mapped_peak == want && st.meta > 0 && st.live_blocks == 0);
	if (pool)
		ba_pool_destroy(pool);
}

/* Full of n-byte blocks: NULL with ENOMEM, every block within the pool's
 * bytes. */
static void mapped_fill(ba_pool *pool, size_t n, size_t size, const char *what)
{
	uintptr_t lo = (uintptr_t)-1, hi = 0;
	void *p;

	errno = 0;
	while (tb.n < MAXB && (p = ba_pool_malloc(pool, n)) != 0) {
		tb_add(&tb, p, n);
		lo = (uintptr_t)p < lo ? (uintptr_t)p : lo;
		hi = (uintptr_t)p + n > hi ? (uintptr_t)p + n : hi;
		errno = 0;
	}
	T_TRUE(t_join(what, ": full, then NULL with ENOMEM"), tb.n < MAXB && errno == ENOMEM);
	T_TRUE(t_join(what, ": every block within the pool's bytes"), hi - lo <= size);
	counted(what, pool, &tb);
	clean(what, pool);
}

static void test_exhaustion(void)
{
	size_t size = 256 * KiB;
	ba_pool *pool = ba_pool_new(size, 0);

	if (!T_TRUE("ba_pool_new(256 KiB)", pool != 0))
		return;
	mapped_fill(pool, 1000, size, "a 256 KiB pool of 1000-byte blocks");
	unsigned before = tb.n, again = 0;
	for (unsigned i = tb.n; i-- > 0;)
		if (i % 2 == 0) {
			ba_pool_free(pool, tb.b[i].p);
			tb_forget(&tb, i);
		}
	clean("... half of them freed", pool);
	for (void *p; again < before / 4 && (p = ba_pool_malloc(pool, 1000)) != 0; again++)
		tb_add(&tb, p, 1000);
	T_EQ("... then a quarter as many allocate again", again, before / 4);
	mapped_fill(pool, 100, size, "... and filled up again with 100-byte blocks");
	T_EQ("... every block intact, all freed", tb_damaged(&tb) + tb_free_all(pool, &tb), 0);
	counted("... all freed", pool, &tb);
	clean("... all freed", pool);

	char out[64];
	void *first = ba_pool_malloc(pool, 100);
	ba_pool_destroy(pool);
	int status = t_child(read_fault, first, out, sizeof out);
	T_EQ("after ba_pool_destroy, reading a block of the mapped pool faults (SIGSEGV)", status & 0x7f, SIGSEGV);
}

/* One block may take every page of a pool (up to 4 MiB): when it is
 * new, after a smaller block came and went, and after a reset. */
static void whole(ba_pool *pool, size_t bytes, const char *what)
{
	void *p = ba_pool_malloc(pool, bytes);

	T_TRUE(t_join(what, ": one block of all its pages"), p != 0);
	ba_pool_free(pool, p);
	ba_pool_reset(pool);
	ba_pool_free(pool, ba_pool_malloc(pool, bytes / 8 * 5));
	p = ba_pool_malloc(pool, bytes / 4 * 3);
	T_TRUE(t_join(what, ": after reset, a block of 5/8 of it freed, then one of 3/4"), p != 0);
	ba_pool_free(pool, p);
	p = ba_pool_malloc(pool, bytes);
	T_TRUE(t_join(what, ": ... then one of all its pages again"), p != 0);
	ba_pool_free(pool, p);
	clean(what, pool);
	ba_pool_destroy(pool);
}

static void test_whole(void)
{
	static const size_t sizes[] = { 64 * KiB, 1 * MiB, 4 * MiB };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		ba_pool *pool = ba_pool_new(sizes[i], 0);
		if (T_TRUE(t_name("ba_pool_new(", (long long)sizes[i], ")"), pool != 0))
			whole(pool, sizes[i], t_name("a mapped pool of ", (long long)sizes[i], " bytes"));
	}
	ba_pool *pool = ba_pool_new_in(area + 4096 + 9, 64 * 4096, 0);
	if (T_TRUE("a region pool of 63 pages", pool != 0))
		whole(pool, 63 * 4096, "a region pool of 63 pages");
}

static void test_mapped(void)
{
	mapped_size(1, page);
	mapped_size(page, page);
	mapped_size(100000, 102400);
	mapped_size(3 * page + 1, 4 * page);
	mapped_size(5 * MiB, 5 * MiB);
	test_exhaustion();
	test_whole();
}

/* ---- The family. ---- */
static void test_malloc(ba_pool *pool)
{
	errno = 0;
	void *a = ba_pool_malloc(pool, 0), *b = ba_pool_malloc(pool, 0);
	T_TRUE("ba_pool_malloc(0) twice: two distinct non-NULL blocks of usable size 0",
	       a && b && a != b && ba_pool_usable_size(pool, a) == 0);
	T_TRUE("... both freed: 0", ba_pool_free(pool, a) == 0 && ba_pool_free(pool, b) == 0);
	errno = 0;
	T_TRUE("ba_pool_malloc(SIZE_MAX): NULL with ENOMEM", null_with(ba_pool_malloc(pool, SIZE_MAX), ENOMEM));
	errno = 0;
	T_TRUE("ba_pool_malloc(PTRDIFF_MAX + 1): NULL with ENOMEM",
	       null_with(ba_pool_malloc(pool, (size_t)PTRDIFF_MAX + 1), ENOMEM));
	errno = 0;
	T_TRUE("ba_pool_malloc(5 MiB) in a 4 MiB pool: NULL with ENOMEM",
	       null_with(ba_pool_malloc(pool, 5 * MiB), ENOMEM));
	T_EQ("ba_pool_free(pool, NULL) is 0", ba_pool_free(pool, 0), 0);
	T_EQ("ba_pool_usable_size(pool, NULL) is 0", ba_pool_usable_size(pool, 0), 0);
	T_EQ("after these, no block is live", stats_of(pool).live_blocks, 0);
}

/* Every byte of a 64 KiB region is written with 0xff by blocks, all freed,
 * then calloc takes the same memory: it must read as zero. */
static void calloc_reused(void)
{
	ba_pool *pool = ba_pool_new_in(area + 4096 + 40, 64 * KiB, 0);
	unsigned bad = 0, n = 0;
	void *p;

	if (!T_TRUE("a 64 KiB region pool for calloc", pool != 0))
		return;
	for (unsigned k = 0; tb.n < MAXB && (p = ba_pool_malloc(pool, fill_sizes[k % 4])) != 0; k++) {
		tb_add(&tb, p, fill_sizes[k % 4]);
		for (size_t i = 0; i < fill_sizes[k % 4]; i++)
			((unsigned char *)p)[i] = 0xff;
	}
	tb.n = 0, tb.bytes = 0;
	ba_pool_reset(pool);
	for (unsigned k = 0; (p = ba_pool_calloc(pool, fill_sizes[k % 4], 1)) != 0; k++, n++)
		bad += !all_zero(p, fill_sizes[k % 4]);
	T_TRUE("calloc over a region written with 0xff then reset: blocks until full, each all zero",
	       n > 0 && bad == 0);
	ba_pool_reset(pool);
	for (unsigned k = 0; tb.n < MAXB && (p = ba_pool_malloc(pool, 300)) != 0; k++)
		tb_add(&tb, p, 300), memset(p, 0xff, 300);
	bad = n = 0;
	while (tb.n) {   /* freed one by one, so each calloc may reuse a block just freed */
		ba_pool_free(pool, tb.b[tb.n - 1].p);
		tb_forget(&tb, tb.n - 1);
		unsigned char *q = ba_pool_calloc(pool, 30, 10);
		if (q)
			bad += !all_zero(q, 300), n++, ba_pool_free(pool, q);
	}
	T_TRUE("calloc(30, 10) after each free of a 300-byte block written with 0xff: all zero",
	       n > 0 && bad == 0);
	ba_pool_destroy(pool);
}

static void test_calloc(ba_pool *pool)
{
	static const size_t over[][2] = {
		{ SIZE_MAX / 2 + 1, 2 }, { 2, SIZE_MAX / 2 + 1 }, { SIZE_MAX, SIZE_MAX },
		{ 65536, 65537 }, { (size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4) },
	};
	unsigned bad = 0;

	for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
		errno = 0;
		bad += !null_with(ba_pool_calloc(pool, over[i][0], over[i][1]), ENOMEM);
	}
	T_EQ("ba_pool_calloc with products that overflow or exceed the pool: NULL with ENOMEM", bad, 0);
	void *a = ba_pool_calloc(pool, 0, 10), *b = ba_pool_calloc(pool, 10, 0);
	T_TRUE("ba_pool_calloc(0, 10) and (10, 0): distinct non-NULL blocks", a && b && a != b);
	ba_pool_free(pool, a);
	ba_pool_free(pool, b);
	unsigned char *c = ba_pool_calloc(pool, 1000, 300);
	T_TRUE("ba_pool_calloc(1000, 300): 300000 zero bytes", c && all_zero(c, 300000) &&
	       ba_pool_usable_size(pool, c) == 300000);
	ba_pool_free(pool, c);
	calloc_reused();
}

/* One block through every size, small to large and back: its pattern kept
 * up to the smaller size at each step. */
static void test_realloc_chain(ba_pool *pool)
{
	static const size_t chain[] = { 1, 17, 100, 1000, 5000, 65536, 70000, 300000, MiB + 1,
					100, 3 * MiB, 5000, 64, 1, 200000, 16 };
	unsigned char *p = ba_pool_realloc(pool, 0, 0);
	size_t n = 0;
	unsigned lost = 0, usable = 0, failed = 0;

	T_TRUE("ba_pool_realloc(NULL, 0): a block of usable size 0", p && ba_pool_usable_size(pool, p) == 0);
	for (size_t i = 0; i < sizeof chain / sizeof chain[0]; i++) {
		unsigned char *q = ba_pool_realloc(pool, p, chain[i]);
		if (!q) {
			failed++;
			t_s("#   realloc from "), t_d((long long)n), t_s(" to "), t_d((long long)chain[i]);
			t_s(" bytes failed, errno "), t_d(-errno), t_nl();
			continue;
		}
		lost += !intact(q, n < chain[i] ? n : chain[i], 7);
		usable += ba_pool_usable_size(pool, q) != chain[i];
		fill(q, chain[i], 7);
		p = q, n = chain[i];
	}
	T_EQ("realloc through 1 .. 3 MiB and back in a 4 MiB pool: each succeeds", failed, 0);
	T_EQ("... each keeps the contents up to the smaller size", lost, 0);
	T_EQ("... each usable size is the new request", usable, 0);
	T_TRUE("... stats: one block of the last size", stats_of(pool).live_blocks == 1 &&
	       stats_of(pool).requested == n);
	int e = errno = 1234;
	T_TRUE("ba_pool_realloc(p, 0): NULL, errno untouched, the block freed",
	       ba_pool_realloc(pool, p, 0) == 0 && errno == e && stats_of(pool).live_blocks == 0);
	clean("... after realloc(p, 0)", pool);
}

/* A realloc that cannot be met: NULL with ENOMEM, the block as it was. */
static void test_realloc_fails(void)
{
	static const size_t sizes[] = { MiB, 65 * KiB, SIZE_MAX, (size_t)PTRDIFF_MAX + 1 };
	ba_pool *pool = ba_pool_new(64 * KiB, 0);
	unsigned char *p = pool ? ba_pool_malloc(pool, 1000) : 0;
	unsigned bad = 0;

	if (!T_TRUE("a 64 KiB pool and a 1000-byte block", p != 0))
		return;
	fill(p, 1000, 99);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		errno = 0;
		bad += !null_with(ba_pool_realloc(pool, p, sizes[i]), ENOMEM);
	}
	T_EQ("ba_pool_realloc(p, 1 MiB / 65 KiB / SIZE_MAX / PTRDIFF_MAX + 1) in a 64 KiB pool: NULL with ENOMEM",
	     bad, 0);
	T_TRUE("... p keeps its contents and usable size", intact(p, 1000, 99) && ba_pool_usable_size(pool, p) == 1000);
	T_TRUE("... p frees, and the pool is empty",
	       ba_pool_free(pool, p) == 0 && stats_of(pool).live_blocks == 0);
	clean("... then", pool);
	ba_pool_destroy(pool);
}

static void test_aligned(ba_pool *pool)
{
	static const size_t sizes[] = { 1, 100, 5000, 70000 };
	unsigned misaligned = 0, failed = 0, bad = 0;

	for (size_t a = 1; a <= 64 * KiB; a <<= 1)
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			unsigned char *p = ba_pool_aligned_alloc(pool, a, sizes[i]);
			failed += !p;
			misaligned += p && ((uintptr_t)p & (a - 1));
			bad += p && ba_pool_usable_size(pool, p) != sizes[i];
			if (p)
				fill(p, sizes[i], 3), bad += ba_pool_free(pool, p) != 0;
		}
	T_EQ("ba_pool_aligned_alloc(1 .. 64 KiB, 1 .. 70000) in a 4 MiB pool: every one succeeds", failed, 0);
	T_EQ("... aligned", misaligned, 0);
	T_EQ("... of usable size the request, and freed", bad, 0);
	static const size_t nonpow2[] = { 0, 3, 24, 65, 4097, SIZE_MAX };
	bad = 0;
	for (size_t i = 0; i < sizeof nonpow2 / sizeof nonpow2[0]; i++) {
		errno = 0;
		bad += !null_with(ba_pool_aligned_alloc(pool, nonpow2[i], 64), EINVAL);
	}
	T_EQ("ba_pool_aligned_alloc(0 / 3 / 24 / 65 / 4097 / SIZE_MAX, 64): NULL with EINVAL", bad, 0);
	bad = 0;
	for (size_t a = 128 * KiB; a; a <<= 1) {   /* to the top bit: never misaligned */
		errno = 0;
		void *p = ba_pool_aligned_alloc(pool, a, 64);
		bad += p ? ((uintptr_t)p & (a - 1)) != 0 : errno != ENOMEM && errno != EINVAL;
		if (p)
			ba_pool_free(pool, p);
	}
	T_EQ("ba_pool_aligned_alloc(128 KiB .. the top bit, 64): aligned, or NULL with ENOMEM or EINVAL", bad, 0);
	clean("... after aligned_alloc", pool);
}

/* Alignment in a pool whose pages start at an odd place of the address
 * space, and an alignment bigger than the whole region. */
static void test_aligned_region(void)
{
	ba_pool *pool = ba_pool_new_in(area + 4096 + 77, 40 * 4096, 0);
	unsigned bad = 0;

	if (!T_TRUE("a region pool for aligned_alloc", pool != 0))
		return;
	for (size_t a = 16; a <= 16 * KiB; a <<= 1) {
		void *p = ba_pool_aligned_alloc(pool, a, 3000);
		bad += !p || ((uintptr_t)p & (a - 1));
		ba_pool_free(pool, p);
	}
	T_EQ("ba_pool_aligned_alloc(16 .. 16 KiB, 3000) in a 160 KiB region pool: aligned", bad, 0);
	errno = 0;
	void *p = ba_pool_aligned_alloc(pool, 1 * MiB, 64);
	T_TRUE("ba_pool_aligned_alloc(1 MiB, 64) there: aligned, or NULL with ENOMEM or EINVAL",
	       p ? ((uintptr_t)p & (MiB - 1)) == 0 : errno == ENOMEM || errno == EINVAL);
	ba_pool_destroy(pool);
}

/* The whole usable size may be written: no false overflow report. */
static void test_usable(void)
{
	ba_pool *pool = ba_pool_new(2 * MiB, BA_POOL_REPORT);
	unsigned bad = 0, reports = 0;

	if (!T_TRUE("a 2 MiB pool with BA_POOL_REPORT", pool != 0))
		return;
	for (size_t n = 0; n <= 4200; n += n < 300 ? 1 : 97) {
		unsigned char *p = ba_pool_malloc(pool, n);
		size_t u = p ? ba_pool_usable_size(pool, p) : 0;
		bad += !p || u < n || u != n;
		if (p)
			fill(p, u, (uint32_t)n), reports += ba_pool_free(pool, p) != 0;
	}
	static const size_t big[] = { 65536, 65537, 100000, 262144, MiB + 3 };
	for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
		unsigned char *p = ba_pool_malloc(pool, big[i]);
		bad += !p || ba_pool_usable_size(pool, p) != big[i];
		if (p)
			fill(p, big[i], 5), reports += ba_pool_free(pool, p) != 0;
	}
	T_EQ("ba_pool_usable_size of 0 .. 4200 and 64 KiB .. 1 MiB + 3 bytes: the request", bad, 0);
	T_EQ("... the whole usable size written, each frees with no report", reports, 0);
	ba_pool_destroy(pool);
}

static void test_stats(ba_pool *pool)
{
	struct ba_stats s0 = stats_of(pool);
	void *a = ba_pool_malloc(pool, 100), *b = ba_pool_malloc(pool, 16);
	void *c = ba_pool_calloc(pool, 10, 30), *d = ba_pool_aligned_alloc(pool, 4096, 5000);
	struct ba_stats s1 = stats_of(pool);

	T_TRUE("stats of an empty 4 MiB pool: no block, mapped 4 MiB, meta > 0, dirty_limit 0",
	       s0.live_blocks == 0 && s0.requested == 0 && s0.in_use == 0 && s0.mapped == 4 * MiB &&
	       s0.meta > 0 && s0.dirty_limit == 0);
	T_EQ("after malloc(100), malloc(16), calloc(10, 30), aligned_alloc(4096, 5000): live_blocks",
	     s1.live_blocks, 4);
	T_EQ("... requested", s1.requested, 100 + 16 + 300 + 5000);
	T_TRUE("... in_use at least requested", s1.in_use >= s1.requested);
	T_EQ("... mapped unchanged", s1.mapped, s0.mapped);
	ba_pool_free(pool, b);
	struct ba_stats s2 = stats_of(pool);
	T_EQ("freeing the 16-byte block takes 16 bytes off in_use", s1.in_use - s2.in_use, 16);
	void *e = ba_pool_realloc(pool, a, 1000);
	struct ba_stats s3 = stats_of(pool);
	T_TRUE("realloc(100 -> 1000): requested grows by 900, live_blocks the same",
	       e && s3.requested == s2.requested + 900 && s3.live_blocks == 3);
	void *m = ba_pool_malloc(pool, 200000);
	T_EQ("a 200000-byte block adds its 49 pages to in_use", stats_of(pool).in_use - s3.in_use, 49 * 4096);
	ba_pool_free(pool, m);
	ba_pool_free(pool, c);
	ba_pool_free(pool, d);
	ba_pool_free(pool, e);
	struct ba_stats s4 = stats_of(pool);
	T_TRUE("all freed: live_blocks, requested, in_use 0; mapped the same",
	       s4.live_blocks == 0 && s4.requested == 0 && s4.in_use == 0 && s4.mapped == s0.mapped);
}

static void test_family(void)
{
	ba_pool *pool = ba_pool_new(4 * MiB, 0);

	if (!T_TRUE("ba_pool_new(4 MiB)", pool != 0))
		return;
	test_malloc(pool);
	test_calloc(pool);
	test_realloc_chain(pool);
	test_realloc_fails();
	test_aligned(pool);
	test_aligned_region();
	test_usable();
	test_stats(pool);
	clean("the 4 MiB pool after the family", pool);
	ba_pool_destroy(pool);
}

/* ---- A mapped pool's reset: empty, the same capacity, its pages zero
 * again. ---- */
static void test_mapped_reset(void)
{
	ba_pool *pool = ba_pool_new(512 * KiB, 0);

	if (!T_TRUE("ba_pool_new(512 KiB)", pool != 0))
		return;
	unsigned cap = capacity(pool, 3000);
	void *p;
	while (tb.n < MAXB && (p = ba_pool_malloc(pool, 3000)) != 0)
		tb_add(&tb, p, 3000), memset(p, 0xee, 3000);
	tb.n = 0, tb.bytes = 0;
	ba_pool_reset(pool);
	struct ba_stats st = stats_of(pool);
	T_TRUE("a full 512 KiB pool reset: no block, mapped 512 KiB",
	       st.live_blocks == 0 && st.requested == 0 && st.in_use == 0 && st.mapped == 512 * KiB);
	clean("... after reset", pool);
	unsigned zero = 1, n = 0;
	while ((p = ba_pool_malloc(pool, 3000)) != 0)
		zero &= all_zero(p, 3000), n++;
	T_TRUE("... malloc then reads zero everywhere (the mapping went back to the kernel)", zero);
	T_EQ("... and takes as many 3000-byte blocks as at first", n, cap);
	ba_pool_reset(pool);
	ba_pool_reset(pool);
	T_EQ("two resets in a row: empty", stats_of(pool).live_blocks, 0);
	clean("two resets in a row", pool);
	ba_pool_destroy(pool);
}

/* ---- BA_POOL_REPORT: the code, the error, and nothing changed. ---- */
static ba_pool *rp;   /* the pool under test, reporting */

static const char *const keyword[] = {
	[BA_POOL_FOREIGN] = "invalid pointer", [BA_POOL_INTERIOR] = "not the start",
	[BA_POOL_DOUBLE] = "double free", [BA_POOL_OVERFLOW] = "overflow", [BA_POOL_OTHER] = "another",
};

/* free, realloc and usable_size of a bad p: each gives code, and
 * ba_pool_error says it; the pool's counts do not move. */
static void reported(const char *what, void *p, int code)
{
	struct ba_stats before = stats_of(rp);
	int f = ba_pool_free(rp, p), fe = ba_pool_error(rp);
	void *r = ba_pool_realloc(rp, p, 50);
	int re = ba_pool_error(rp);
	size_t u = ba_pool_usable_size(rp, p);
	int ue = ba_pool_error(rp);
	struct ba_stats after = stats_of(rp);

	if (!T_TRUE(t_join(what, t_join(": ba_pool_free returns ", keyword[code])), f == code && fe == code))
		t_s("#   returned "), t_d(f), t_s(", ba_pool_error "), t_d(fe), t_nl();
	T_TRUE(t_join(what, ": ba_pool_realloc gives NULL, ba_pool_error the same code"), r == 0 && re == code);
	T_TRUE(t_join(what, ": ba_pool_usable_size gives 0, ba_pool_error the same code"), u == 0 && ue == code);
	T_TRUE(t_join(what, ": the pool's counts are unchanged"),
	       after.live_blocks == before.live_blocks && after.requested == before.requested);
	clean(what, rp);
}

static void report_other(ba_pool *other)
{
	unsigned char *theirs = ba_pool_malloc(other, 100), *heap = malloc(100);

	fill(theirs, 100, 1);
	fill(heap, 100, 2);
	reported("a block of another pool", theirs, BA_POOL_OTHER);
	reported("a block of malloc's heap", heap, BA_POOL_OTHER);
	T_TRUE("... both blocks keep their contents and free through their owners",
	       intact(theirs, 100, 1) && intact(heap, 100, 2) && ba_pool_free(other, theirs) == 0);
	clean("... the other pool", other);
	free(heap);
}

static unsigned char global_block[64] __attribute__((aligned(64)));

static void report_foreign(void)
{
	unsigned char stack_block[64] __attribute__((aligned(64)));

	stack_block[0] = 1;
	reported("a stack address", stack_block, BA_POOL_FOREIGN);
	reported("a global", global_block, BA_POOL_FOREIGN);
	reported("(void *)16", (void *)16, BA_POOL_FOREIGN);
}

static void report_double(void)
{
	void *small = ba_pool_malloc(rp, 100), *medium = ba_pool_malloc(rp, 200000);
	void *keep = ba_pool_malloc(rp, 100);

	ba_pool_free(rp, small);
	ba_pool_free(rp, medium);
	reported("a freed 100-byte block", small, BA_POOL_DOUBLE);
	reported("a freed 200000-byte block", medium, BA_POOL_DOUBLE);
	T_EQ("after the double frees, the pool holds the one live block", stats_of(rp).live_blocks, 1);
	ba_pool_free(rp, keep);
}

static void report_interior(void)
{
	static const size_t sizes[] = { 100, 5000, 200000 };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		unsigned char *p = ba_pool_malloc(rp, sizes[i]);
		fill(p, sizes[i], 4);
		reported(t_name("p + 16 of a ", (long long)sizes[i], "-byte block"), p + 16, BA_POOL_INTERIOR);
		reported(t_name("p + 1 of a ", (long long)sizes[i], "-byte block"), p + 1, BA_POOL_INTERIOR);
		if (sizes[i] > page)
			reported(t_name("p + page of a ", (long long)sizes[i], "-byte block"), p + page,
				 BA_POOL_INTERIOR);
		T_TRUE(t_name("... the ", (long long)sizes[i], "-byte block is intact and frees with 0"),
		       intact(p, sizes[i], 4) && ba_pool_usable_size(rp, p) == sizes[i] && ba_pool_free(rp, p) == 0);
	}
}

static void report_overflow(void)
{
	static const size_t sizes[][2] = { { 24, 1 }, { 100, 1 }, { 100, 8 }, { 5000, 1 }, { 200000, 1 } };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i][0], k = sizes[i][1];
		unsigned char *p = ba_pool_malloc(rp, n), saved[8];
		for (size_t j = 0; j < k; j++)
			saved[j] = p[n + j], p[n + j] = (unsigned char)~p[n + j];
		char what[80] = "";
		t_cat(t_catu(t_cat(t_catu(what, sizeof what, n), sizeof what, "-byte block, "), sizeof what, k),
		      sizeof what, " byte(s) written past it");
		struct ba_stats before = stats_of(rp);
		int f = ba_pool_free(rp, p);
		T_TRUE(t_join(what, ": ba_pool_free returns BA_POOL_OVERFLOW, ba_pool_error too"),
		       f == BA_POOL_OVERFLOW && ba_pool_error(rp) == BA_POOL_OVERFLOW);
		T_EQ(t_join(what, ": the block is still live"), stats_of(rp).live_blocks, before.live_blocks);
		for (size_t j = 0; j < k; j++)
			p[n + j] = saved[j];
		clean(t_join(what, ", put back"), rp);
		T_TRUE(t_join(what, ": once the bytes are put back, it frees with 0 and ba_pool_error is OK"),
		       ba_pool_free(rp, p) == 0 && ba_pool_error(rp) == BA_POOL_OK);
	}
}

static void report_strerror(void)
{
	unsigned bad = 0;

	for (int c = BA_POOL_FOREIGN; c <= BA_POOL_OTHER; c++) {
		const char *s = ba_pool_strerror(c);
		bad += !s || !t_contains(s, keyword[c]);
		for (int d = BA_POOL_FOREIGN; s && d < c; d++)
			bad += t_streq(s, ba_pool_strerror(d));
	}
	T_EQ("ba_pool_strerror of each code: its own text (\"double free\", ...)", bad, 0);
	T_TRUE("ba_pool_strerror(BA_POOL_OK) is a text", ba_pool_strerror(BA_POOL_OK) != 0);
}

/* The error is the last pointer call's: calls that take none leave it. */
static void report_kept(void)
{
	int code = ba_pool_free(rp, (void *)16);
	void *p = ba_pool_malloc(rp, 10);
	struct ba_stats st;

	ba_pool_stats(rp, &st);
	(void)ba_pool_check(rp);
	T_TRUE("ba_pool_error after a misuse, then malloc, stats and check (which take no pointer): "
	       "still the misuse's code", code == BA_POOL_FOREIGN && ba_pool_error(rp) == BA_POOL_FOREIGN);
	T_TRUE("... and BA_POOL_OK after a good free", ba_pool_free(rp, p) == 0 && ba_pool_error(rp) == BA_POOL_OK);
}

/* A block of a region pool that was destroyed is foreign to every pool. */
static void report_destroyed(void)
{
	ba_pool *gone = ba_pool_new_in(area + 30 * 4096, 8 * 4096, 0);
	void *p = gone ? ba_pool_malloc(gone, 100) : 0;

	if (gone)
		ba_pool_destroy(gone);
	if (p)
		reported("a block of a destroyed region pool", p, BA_POOL_FOREIGN);
}

static void test_report(void)
{
	ba_pool *other = ba_pool_new_in(area + 4096 + 5, 20 * 4096, BA_POOL_REPORT);

	rp = ba_pool_new(1 * MiB, BA_POOL_REPORT);
	if (!T_TRUE("two pools with BA_POOL_REPORT, mapped and over a region", rp && other))
		return;
	void *p = ba_pool_malloc(rp, 10);
	T_TRUE("ba_pool_error after good calls: BA_POOL_OK",
	       ba_pool_free(rp, p) == 0 && ba_pool_error(rp) == BA_POOL_OK);
	report_other(other);
	report_foreign();
	report_double();
	report_interior();
	report_overflow();
	report_destroyed();
	report_kept();
	report_strerror();
	p = ba_pool_malloc(rp, 10);
	T_TRUE("after all that: a good free, ba_pool_error back to BA_POOL_OK, the pool empty",
	       ba_pool_free(rp, p) == 0 && ba_pool_error(rp) == BA_POOL_OK && stats_of(rp).live_blocks == 0);
	clean("the reporting pool at the end", rp);
	ba_pool_destroy(rp);
	ba_pool_destroy(other);
}

/* ---- Pools side by side. ---- */

/* Two pools never share pages, but a pool may live in a block of another. */
static void test_overlap(void)
{
	ba_pool *a = ba_pool_new_in(area, 16 * 4096, 0);

	if (!T_TRUE("a region pool of 16 pages", a != 0))
		return;
	T_TRUE("the same region again: NULL with EINVAL", einval(ba_pool_new_in(area, 16 * 4096, 0)));
	T_TRUE("a region that overlaps its end: NULL with EINVAL",
	       einval(ba_pool_new_in(area + 8 * 4096, 16 * 4096, 0)));
	T_TRUE("a region that holds it whole: NULL with EINVAL",
	       einval(ba_pool_new_in(area, 32 * 4096, 0)));
	ba_pool *b = ba_pool_new_in(area + 16 * 4096, 4 * 4096, 0);
	T_TRUE("the region just after it: a pool", b != 0);
	ba_pool_destroy(b);
	unsigned char *blk = ba_pool_malloc(a, 8 * 4096);
	ba_pool *in = blk ? ba_pool_new_in(blk, 8 * 4096, BA_POOL_REPORT) : 0;
	if (T_TRUE("a pool over a block of the first", in != 0)) {
		void *p = ba_pool_malloc(in, 100);
		T_TRUE("... its block lies in the outer block", (unsigned char *)p >= blk && (unsigned char *)p < blk + 8 * 4096);
		T_EQ("... and frees through its own pool", ba_pool_free(in, p), 0);
		ba_pool_destroy(in);
	}
	T_EQ("... and the outer pool checks clean", ba_pool_check(a), 0);
	ba_pool_destroy(a);
}

/* A full pool still shrinks a block: in place, when no smaller block fits. */
static void test_shrink_full(void)
{
	ba_pool *pool = ba_pool_new(64 * KiB, 0);
	unsigned char *big = pool ? ba_pool_malloc(pool, 8192) : 0, *small = pool ? ba_pool_malloc(pool, 1024) : 0;

	if (!T_TRUE("a 64 KiB pool with blocks of 8192 and 1024 bytes", big && small))
		return;
	while (ba_pool_malloc(pool, 16))
		;
	fill(big, 8192, 7);
	fill(small, 1024, 8);
	errno = 0;
	T_TRUE("full: realloc(8192 -> 5000) keeps the block where it is",
	       ba_pool_realloc(pool, big, 5000) == big && intact(big, 5000, 7) && ba_pool_usable_size(pool, big) == 5000);
	T_TRUE("full: realloc(1024 -> 100) keeps the block where it is",
	       ba_pool_realloc(pool, small, 100) == small && intact(small, 100, 8) && ba_pool_usable_size(pool, small) == 100);
	T_EQ("... errno untouched", errno, 0);
	clean("... then", pool);
	ba_pool_destroy(pool);
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	page = ba_getauxval(AT_PAGESZ);
	rng = t_seed("pool");
	t_no_core_files();
	test_arguments();
	test_regions();
	test_mapped();
	test_family();
	test_mapped_reset();
	test_report();
	test_overlap();
	test_shrink_full();
	T_EQ("ba_check() of malloc's heap at the end", ba_check(), 0);
	return t_exit_status();
}

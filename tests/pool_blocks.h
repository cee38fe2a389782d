/* What the pool tests share: the page size and the random generator,
 * patterns that tell every block's bytes apart, a table of live blocks
 * with their patterns, the checks of a pool against such a table, and a
 * static area for region pools with a guard pattern around them. */
#ifndef POOL_BLOCKS_H
#define POOL_BLOCKS_H

#include "t.h"
#include "ba_pool.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static size_t page;
static uint64_t rng;

static inline uint32_t below(uint32_t n)   /* uniform in [0, n), no 64-bit division on i386 */
{
	return (uint32_t)(((t_rand(&rng) >> 32) * n) >> 32);
}

static inline uintptr_t page_up(uintptr_t a)
{
	return (a + page - 1) & ~(uintptr_t)(page - 1);
}

static inline uintptr_t page_down(uintptr_t a)
{
	return a & ~(uintptr_t)(page - 1);
}

/* A NULL result with errno err; errno is cleared before each call checked. */
static inline int null_with(const void *p, int err)
{
	return p == 0 && errno == err;
}

static inline struct ba_stats stats_of(ba_pool *pool)
{
	struct ba_stats st;

	ba_pool_stats(pool, &st);
	return st;
}

/* ---- Patterns: byte i of a block tagged tag, different along a block
 * and between blocks. ---- */
static inline unsigned char pat(uint32_t tag, size_t i)
{
	return (unsigned char)((tag * 0x9E3779B1u) >> 24) ^ (unsigned char)(i * 31 + (i >> 8));
}

static inline void fill(unsigned char *p, size_t n, uint32_t tag)
{
	for (size_t i = 0; i < n; i++)
		p[i] = pat(tag, i);
}

static inline int intact(const unsigned char *p, size_t n, uint32_t tag)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != pat(tag, i))
			return 0;
	return 1;
}

static inline int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* ---- A table of live blocks, each with its pattern. ---- */
enum { MAXB = 6000 };
struct blk {
	unsigned char *p;
	size_t n;
	uint32_t tag;
};
struct table {
	struct blk b[MAXB];
	unsigned n;
	size_t bytes;
	uint32_t next_tag;
};
static struct table tb;

static inline void tb_add(struct table *t, void *p, size_t n)
{
	struct blk *b = &t->b[t->n++];

	b->p = p;
	b->n = n;
	b->tag = ++t->next_tag;
	fill(b->p, n, b->tag);
	t->bytes += n;
}

static inline void tb_forget(struct table *t, unsigned i)
{
	t->bytes -= t->b[i].n;
	t->b[i] = t->b[--t->n];
}

static inline unsigned tb_damaged(const struct table *t)
{
	unsigned bad = 0;

	for (unsigned i = 0; i < t->n; i++)
		bad += !intact(t->b[i].p, t->b[i].n, t->b[i].tag);
	return bad;
}

/* Frees every block, after checking it; the number of failed frees and
 * damaged blocks. */
static inline unsigned tb_free_all(ba_pool *pool, struct table *t)
{
	unsigned bad = 0;

	while (t->n) {
		struct blk *b = &t->b[t->n - 1];
		bad += !intact(b->p, b->n, b->tag);
		bad += ba_pool_free(pool, b->p) != 0;
		tb_forget(t, t->n - 1);
	}
	return bad;
}

/* The pool's statistics agree with the table. */
static inline int tb_counted(ba_pool *pool, const struct table *t)
{
	struct ba_stats st = stats_of(pool);

	return st.live_blocks == t->n && st.requested == t->bytes && st.in_use >= st.requested;
}

/* ba_pool_check is 0; a failure names the violation. */
static inline int clean(const char *name, ba_pool *pool)
{
	int code = ba_pool_check(pool);

	if (T_EQ(t_join(name, ": ba_pool_check"), code, 0))
		return 1;
	t_s("#   "), t_s(ba_check_name(code)), t_nl();
	return 0;
}

/* The statistics count the table's blocks. */
static inline int counted(const char *name, ba_pool *pool, const struct table *t)
{
	struct ba_stats st = stats_of(pool);
	int ok = T_EQ(t_join(name, ": stats.live_blocks"), st.live_blocks, t->n);

	ok &= T_EQ(t_join(name, ": stats.requested"), st.requested, t->bytes);
	ok &= T_TRUE(t_join(name, ": stats.in_use >= stats.requested"), st.in_use >= st.requested);
	return ok;
}

/* ---- Regions: static memory with a guard pattern around the pool. ---- */
static unsigned char area[80 * 4096] __attribute__((aligned(4096)));

static inline unsigned char guard_byte(size_t i)
{
	return (unsigned char)(i * 7 + 0x5a + (i >> 12));
}

static inline void guard_fill(void)
{
	for (size_t i = 0; i < sizeof area; i++)
		area[i] = guard_byte(i);
}

/* Every byte of area outside [lo, hi) still holds the guard pattern. */
static inline int guard_intact(uintptr_t lo, uintptr_t hi)
{
	for (size_t i = 0; i < sizeof area; i++) {
		uintptr_t a = (uintptr_t)&area[i];
		if ((a < lo || a >= hi) && area[i] != guard_byte(i))
			return 0;
	}
	return 1;
}


#endif

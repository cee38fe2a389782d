/* Pools (inc/ba_pool.h) under random and concurrent use:
 * - a random session of malloc, calloc, realloc, aligned_alloc and free,
 *   checked against a model, in a region pool and in a mapped pool, with
 *   exhaustion on the way (NULL with ENOMEM, then on);
 * - four threads on one pool, handing blocks to each other, and four
 *   threads each on a pool of its own at once;
 * - ba_fork while threads use a pool: the child uses it at once;
 * - utilization of a 64 KiB region, printed, with a floor that only
 *   catches breakage (bench/pool_fill.c measures). */
#include "pool_blocks.h"
#include "ba_thread.h"

/* ---- A random session checked against a model. ---- */
#define IV_MAX MAXB
#include "intervals.h"

enum { P_ERRNO, P_BOUNDS, P_ALIGN, P_USABLE, P_OVERLAP, P_ZERO, P_PATTERN, P_PRESERVE, P_FREE,
       P_CHECK, P_STATS, NPROP };
static const char *const prop_name[NPROP] = {
	"every failed allocation says ENOMEM",
	"every block lies inside the region's pages",
	"every block is aligned to 16 or to the alignment asked",
	"usable size is the request",
	"no new block overlaps a live one",
	"calloc blocks read as zero",
	"every pattern is intact at free, realloc and checkpoints",
	"realloc keeps min(old, new) bytes",
	"ba_pool_free returns 0 for every live block",
	"ba_pool_check == 0 at every checkpoint",
	"stats.live_blocks and stats.requested match the model",
};

struct session {
	ba_pool *pool;
	uintptr_t lo, hi;     /* the region's pages, or 0 .. (uintptr_t)-1 */
	size_t cap;           /* the largest block asked for */
	long op, first[NPROP], fails[NPROP], nomem;
	int check;            /* the first ba_pool_check code that was not 0 */
};

static void flag(struct session *s, int prop)
{
	if (s->fails[prop]++ == 0)
		s->first[prop] = s->op;
}

static size_t draw(struct session *s)
{
	uint32_t r = below(100);
	size_t n = r < 60 ? 1 + below(256) : r < 90 ? 1 + below(4096) : r < 98 ? 1 + below(65536) :
		   1 + below((uint32_t)s->cap);

	return n > s->cap ? s->cap : n;
}

/* A block the pool just gave: checked, then entered in the model. */
static void take(struct session *s, unsigned char *p, size_t n, size_t align, int zeroed, uint32_t tag)
{
	uintptr_t a = (uintptr_t)p, e = a + (n ? n : 1);

	if (a < s->lo || e > s->hi)
		flag(s, P_BOUNDS);
	if (a & (align - 1))
		flag(s, P_ALIGN);
	if (ba_pool_usable_size(s->pool, p) != n)
		flag(s, P_USABLE);
	if (iv_overlaps(a, e))
		flag(s, P_OVERLAP);
	iv_insert(a, e, (uint32_t)t_rand(&rng));
	if (zeroed && !all_zero(p, n))
		flag(s, P_ZERO);
	tb_add(&tb, p, n);
	if (tag)   /* after realloc: the block keeps its tag */
		tb.b[tb.n - 1].tag = tag, fill(p, n, tag);
}

static void failed(struct session *s)
{
	s->nomem++;
	if (errno != ENOMEM)
		flag(s, P_ERRNO);
}

static void s_alloc(struct session *s)
{
	size_t n = draw(s), align = 16;
	uint32_t kind = below(10);
	unsigned char *p;

	errno = 0;
	if (kind < 4) {
		p = ba_pool_malloc(s->pool, n);
	} else if (kind < 6) {
		uint32_t k = 1 + below(8);
		p = n % k ? ba_pool_calloc(s->pool, 1, n) : ba_pool_calloc(s->pool, k, n / k);
	} else if (kind < 7) {
		p = ba_pool_realloc(s->pool, 0, n);
	} else {
		align = (size_t)16 << below(10);
		p = ba_pool_aligned_alloc(s->pool, align, n);
	}
	if (p)
		take(s, p, n, align, kind >= 4 && kind < 6, 0);
	else
		failed(s);
}

static void s_free(struct session *s, unsigned i)
{
	struct blk *b = &tb.b[i];

	if (!intact(b->p, b->n, b->tag))
		flag(s, P_PATTERN);
	iv_erase((uintptr_t)b->p);
	if (ba_pool_free(s->pool, b->p))
		flag(s, P_FREE);
	tb_forget(&tb, i);
}

static void s_realloc(struct session *s, unsigned i)
{
	struct blk b = tb.b[i];
	size_t n = below(2) ? draw(s) : 1 + b.n / 2 + below((uint32_t)b.n + 64);

	if (!intact(b.p, b.n, b.tag))
		flag(s, P_PATTERN);
	errno = 0;
	unsigned char *p = ba_pool_realloc(s->pool, b.p, n);
	if (!p) {   /* the block stays as it was */
		failed(s);
		if (!intact(b.p, b.n, b.tag))
			flag(s, P_PRESERVE);
		return;
	}
	iv_erase((uintptr_t)b.p);
	tb_forget(&tb, i);
	if (!intact(p, b.n < n ? b.n : n, b.tag))
		flag(s, P_PRESERVE);
	take(s, p, n, 16, 0, b.tag);
}

static void s_checkpoint(struct session *s)
{
	int code = ba_pool_check(s->pool);
	if (code && !s->fails[P_CHECK])
		s->check = code;
	if (code)
		flag(s, P_CHECK);
	if (tb_damaged(&tb))
		flag(s, P_PATTERN);
	if (!tb_counted(s->pool, &tb))
		flag(s, P_STATS);
	uintptr_t end = 0;
	if (!iv_sorted(iv_root, &end))
		flag(s, P_OVERLAP);
}

static void s_report(struct session *s, const char *what)
{
	t_s("# "), t_s(what), t_s(": "), t_d(s->op), t_s(" ops, "), t_d(s->nomem);
	t_s(" allocations refused for want of room"), t_nl();
	for (int k = 0; k < NPROP; k++)
		if (!T_TRUE(t_join(what, t_join(": ", prop_name[k])), s->fails[k] == 0))
			t_s("#   first at op "), t_d(s->first[k]), t_s(" (replay with the seed above)"),
			k == P_CHECK ? t_s(": "), t_s(ba_check_name(s->check)) : (void)0, t_nl();
}

enum { SESSION_OPS = 100000, CHECK_EVERY = 2000 };

static void session(ba_pool *pool, uintptr_t lo, uintptr_t hi, size_t cap, const char *what)
{
	struct session s = { pool, lo, hi, cap, 0, { 0 }, { 0 }, 0, 0 };

	iv_init();
	for (s.op = 0; s.op < SESSION_OPS; s.op++) {
		uint32_t r = below(100);
		if (tb.n == 0 || (tb.n < MAXB - 1 && r < 50))
			s_alloc(&s);
		else if (r < 80)
			s_free(&s, below(tb.n));
		else
			s_realloc(&s, below(tb.n));
		if (s.op % CHECK_EVERY == 0)
			s_checkpoint(&s);
	}
	s_checkpoint(&s);
	while (tb.n)
		s_free(&s, tb.n - 1);
	s_checkpoint(&s);
	s_report(&s, what);
	iv_root = 0, iv_nfree = 0;
}

static void test_sessions(void)
{
	uintptr_t lo = page_up((uintptr_t)area + 333), hi = page_down((uintptr_t)area + 333 + 256 * KiB);
	ba_pool *region = ba_pool_new_in(area + 333, 256 * KiB, 0);
	ba_pool *mapped = ba_pool_new(MiB, 0);

	guard_fill();
	if (!T_TRUE("a 256 KiB region pool and a 1 MiB mapped pool for the random sessions", region && mapped))
		return;
	session(region, lo, hi, 64 * KiB, "random session in a 256 KiB region pool");
	T_TRUE("... no byte outside the region's pages written", guard_intact(lo, hi));
	session(mapped, 0, (uintptr_t)-1, 256 * KiB, "random session in a 1 MiB mapped pool");
	ba_pool_destroy(region);
	ba_pool_destroy(mapped);
}

/* ---- Threads. ---- */
enum { THREADS = 4, SLOTS = 64, XCHG = 16 };

struct worker {
	ba_pool *pool;
	unsigned id, ops;
	uint64_t rng;
	unsigned char *p[SLOTS];
	size_t n[SLOTS];
	long bad, nomem;
	int check;            /* a ba_pool_check code that was not 0 */
};

/* The blocks threads hand each other on the shared pool. */
static struct {
	ba_mutex lock;
	unsigned char *p[XCHG];
	size_t n[XCHG];
	uint32_t tag[XCHG];
} xchg;

static uint32_t w_below(struct worker *w, uint32_t n)
{
	return (uint32_t)(((t_rand(&w->rng) >> 32) * n) >> 32);
}

static uint32_t w_tag(const struct worker *w, unsigned slot)
{
	return w->id << 16 | slot;
}

/* Swaps slot i's block with one another thread left, whose pattern is
 * checked before it is freed here. */
static void w_exchange(struct worker *w, unsigned i)
{
	unsigned x = w_below(w, XCHG);

	ba_mutex_lock(&xchg.lock);
	unsigned char *q = xchg.p[x];
	size_t qn = xchg.n[x];
	uint32_t qtag = xchg.tag[x];
	xchg.p[x] = w->p[i], xchg.n[x] = w->n[i], xchg.tag[x] = w_tag(w, i);
	ba_mutex_unlock(&xchg.lock);
	w->p[i] = 0;
	if (q) {
		w->bad += !intact(q, qn, qtag);
		w->bad += ba_pool_free(w->pool, q) != 0;
	}
}

static void w_step(struct worker *w, int share)
{
	unsigned i = w_below(w, SLOTS);
	size_t n = w_below(w, 32) ? 1 + w_below(w, 512) : 1 + w_below(w, 8192);

	if (!w->p[i]) {
		errno = 0;
		w->p[i] = ba_pool_malloc(w->pool, n);
		if (!w->p[i]) {
			w->nomem++, w->bad += errno != ENOMEM;
			return;
		}
		w->n[i] = n;
		fill(w->p[i], n, w_tag(w, i));
		return;
	}
	w->bad += !intact(w->p[i], w->n[i], w_tag(w, i));
	uint32_t r = w_below(w, 10);
	if (share && r < 2) {
		w_exchange(w, i);
	} else if (r < 6) {
		w->bad += ba_pool_free(w->pool, w->p[i]) != 0;
		w->p[i] = 0;
	} else {
		unsigned char *q = ba_pool_realloc(w->pool, w->p[i], n);
		if (!q)
			return;
		w->bad += !intact(q, w->n[i] < n ? w->n[i] : n, w_tag(w, i));
		fill(q, n, w_tag(w, i));
		w->p[i] = q, w->n[i] = n;
	}
}

static void w_finish(struct worker *w)
{
	for (unsigned i = 0; i < SLOTS; i++)
		if (w->p[i]) {
			w->bad += !intact(w->p[i], w->n[i], w_tag(w, i));
			w->bad += ba_pool_free(w->pool, w->p[i]) != 0;
			w->p[i] = 0;
		}
}

static void *shared_worker(void *arg)
{
	struct worker *w = arg;

	for (unsigned k = 0; k < w->ops; k++)
		w_step(w, 1);
	w_finish(w);
	return 0;
}

/* A pool of the thread's own: used, checked, reset, used, destroyed. */
static void *own_worker(void *arg)
{
	struct worker *w = arg;

	for (unsigned k = 0; k < w->ops; k++)
		w_step(w, 0);
	w->check |= ba_pool_check(w->pool);
	ba_pool_reset(w->pool);
	for (unsigned i = 0; i < SLOTS; i++)
		w->p[i] = 0;
	for (unsigned k = 0; k < w->ops / 4; k++)
		w_step(w, 0);
	w_finish(w);
	w->check |= ba_pool_check(w->pool);
	w->bad += stats_of(w->pool).live_blocks != 0;
	ba_pool_destroy(w->pool);
	return 0;
}

static struct worker workers[THREADS];

static int run_workers(void *(*fn)(void *))
{
	struct ba_thread *t[THREADS];
	int ok = 1;

	for (unsigned i = 0; i < THREADS; i++)
		ok &= ba_thread_create(&t[i], fn, &workers[i]) == 0;
	for (unsigned i = 0; ok && i < THREADS; i++)
		ok &= ba_thread_join(t[i], 0) == 0;
	return ok;
}

static void init_workers(ba_pool *shared, unsigned ops)
{
	for (unsigned i = 0; i < THREADS; i++) {
		struct worker *w = &workers[i];
		*w = (struct worker){ .pool = shared, .id = i + 1, .ops = ops, .rng = t_rand(&rng) | 1 };
	}
}

static long workers_bad(long *nomem)
{
	long bad = 0;

	*nomem = 0;
	for (unsigned i = 0; i < THREADS; i++) {
		bad += workers[i].bad, *nomem += workers[i].nomem;
		if (workers[i].check)
			bad++, t_s("#   thread "), t_d(i), t_s(": ba_pool_check "), t_s(ba_check_name(workers[i].check)), t_nl();
	}
	return bad;
}

static void test_shared_pool(unsigned ops)
{
	ba_pool *pool = ba_pool_new(2 * MiB, 0);
	long nomem;

	if (!T_TRUE("a 2 MiB pool for four threads", pool != 0))
		return;
	init_workers(pool, ops);
	T_TRUE("four threads run random calls on one pool, passing blocks to each other", run_workers(shared_worker));
	T_EQ("... every pattern intact, every free 0, every failure ENOMEM", workers_bad(&nomem), 0);
	for (unsigned x = 0; x < XCHG; x++)
		if (xchg.p[x]) {
			T_TRUE("... a block left in the exchange is intact and frees",
			       intact(xchg.p[x], xchg.n[x], xchg.tag[x]) && ba_pool_free(pool, xchg.p[x]) == 0);
			xchg.p[x] = 0;
		}
	T_TRUE("... then the pool is empty", stats_of(pool).live_blocks == 0 && stats_of(pool).requested == 0);
	clean("... the shared pool", pool);
	t_s("# shared pool: "), t_d(nomem), t_s(" allocations refused for want of room"), t_nl();
	ba_pool_destroy(pool);
}

static void test_own_pools(unsigned ops)
{
	long nomem;
	size_t slice = 18 * 4096;

	guard_fill();
	init_workers(0, ops);
	workers[0].pool = ba_pool_new(256 * KiB, 0);
	workers[1].pool = ba_pool_new(256 * KiB, BA_POOL_REPORT);
	workers[2].pool = ba_pool_new_in(area + 100, slice, 0);
	workers[3].pool = ba_pool_new_in(area + 100 + 2 * slice, slice, BA_POOL_REPORT);
	if (!T_TRUE("four pools, two mapped and two over regions", workers[0].pool && workers[1].pool &&
		    workers[2].pool && workers[3].pool))
		return;
	T_TRUE("four threads each on a pool of its own at once, then reset and destroy it",
	       run_workers(own_worker));
	T_EQ("... every pattern intact, every check clean, every failure ENOMEM", workers_bad(&nomem), 0);
	uintptr_t a = (uintptr_t)area + 100, b = a + 2 * slice;
	int ok = 1;
	for (size_t i = 0; i < sizeof area; i++) {
		uintptr_t at = (uintptr_t)&area[i];
		int inside = (at >= page_up(a) && at < page_down(a + slice)) ||
			     (at >= page_up(b) && at < page_down(b + slice));
		ok &= inside || area[i] == guard_byte(i);
	}
	T_TRUE("... neither region pool wrote outside its pages", ok);
	t_s("# own pools: "), t_d(nomem), t_s(" allocations refused for want of room"), t_nl();
}

/* ---- fork: the child has every pool, usable at once, even when a thread
 * was inside a pool call. ---- */
static ba_pool *fork_pool;

static int child_uses_pool(void)
{
	unsigned char *p = ba_pool_malloc(fork_pool, 300);

	if (!p)
		return 1;
	fill(p, 300, 77);
	if (!intact(p, 300, 77) || ba_pool_free(fork_pool, p) != 0)
		return 2;
	return ba_pool_check(fork_pool) ? 10 + ba_pool_check(fork_pool) : 0;
}

static void *fork_worker(void *arg)
{
	struct worker *w = arg;

	while (__atomic_load_n(&w->ops, __ATOMIC_RELAXED))
		w_step(w, 0);
	w_finish(w);
	return 0;
}

static void test_fork(void)
{
	struct ba_thread *t[2];
	int made = 1, children = 0;

	fork_pool = ba_pool_new(MiB, 0);
	if (!T_TRUE("a 1 MiB pool for fork", fork_pool != 0))
		return;
	init_workers(fork_pool, 1);
	for (unsigned i = 0; i < 2; i++)
		made &= ba_thread_create(&t[i], fork_worker, &workers[i]) == 0;
	for (int k = 0; made && k < 10; k++) {
		long pid = ba_fork();
		if (pid == 0)
			sys_exit_group(child_uses_pool());
		int status = sys_failed(pid) ? -1 : t_wait(pid, 20);
		children += status == 0;
		if (status)
			t_s("#   a child ended with status "), t_x((unsigned)status), t_nl();
	}
	for (unsigned i = 0; i < 2; i++)
		__atomic_store_n(&workers[i].ops, 0, __ATOMIC_RELAXED);
	for (unsigned i = 0; made && i < 2; i++)
		ba_thread_join(t[i], 0);
	T_EQ("ba_fork while two threads use a pool: each of 10 children allocates, frees and checks it",
	     children, 10);
	long nomem;
	T_TRUE("... the parent's pool is intact and empty",
	       workers_bad(&nomem) == 0 && stats_of(fork_pool).live_blocks == 0);
	clean("... the parent's pool", fork_pool);
	ba_pool_destroy(fork_pool);
}

static void test_threads(void)
{
	unsigned ops = t_under_qemu() ? 40000 : 100000;

	test_shared_pool(ops);
	test_own_pools(ops);
	test_fork();
}

/* ---- Utilization: a 64 KiB region filled with random sizes. ---- */
static unsigned percent(size_t part, size_t whole)   /* in tenths, no 64-bit division */
{
	return (unsigned)((uint32_t)(part * 1000 / 64) / (uint32_t)(whole / 64));
}

static void print_percent(const char *what, unsigned tenths)
{
	char buf[8] = { (char)('0' + tenths % 10), 0 };

	t_s(what), t_d(tenths / 10), t_s("."), t_s(buf), t_s(" %");
}

static void test_utilization(void)
{
	ba_pool *pool = ba_pool_new_in(area, 64 * KiB, 0);
	size_t at_first = 0;
	unsigned misses = 0;

	if (!T_TRUE("a 64 KiB region pool", pool != 0))
		return;
	while (misses < 64 && tb.n < MAXB) {
		size_t n = 16 + below(241);
		void *p = ba_pool_malloc(pool, n);
		if (!p) {
			at_first = at_first ? at_first : tb.bytes;
			misses++;
			continue;
		}
		misses = 0;
		tb_add(&tb, p, n);
	}
	unsigned full = percent(tb.bytes, 64 * KiB), first = percent(at_first, 64 * KiB);
	print_percent("# utilization of a 64 KiB region, sizes 16..256: at the first failure ", first);
	print_percent(", full (64 failures in a row) ", full);
	t_s(", "), t_d(tb.n), t_s(" blocks"), t_nl();
	T_TRUE("a 64 KiB region filled with sizes 16..256 holds at least 75 % requested bytes", full >= 750);
	T_EQ("... every block intact", tb_damaged(&tb), 0);
	counted("... the full 64 KiB region", pool, &tb);
	clean("... the full 64 KiB region", pool);
	tb.n = 0, tb.bytes = 0;
	ba_pool_destroy(pool);
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	page = ba_getauxval(AT_PAGESZ);
	rng = t_seed("pool_random");
	test_sessions();
	test_threads();
	test_utilization();
	T_EQ("ba_check() of malloc's heap at the end", ba_check(), 0);
	return t_exit_status();
}

/* Model-checked random stress: a million random calls to the allocation
 * family, each checked against a shadow table of the live blocks.
 *
 * Every block carries a pattern derived from a per-block tag: byte i holds
 * byte i%4 of pat(tag, i/4).  Small blocks (up to 64 KiB) are filled and
 * checked whole; bigger ones only at their first and last 64 bytes and at
 * about 64 words spread over them, so that an 8 MiB block costs 100 words
 * and 70 page faults, not 2M words (the run must fit in 20 s under
 * qemu-i386).  Overlap is checked exactly on every allocation, against
 * the set of live intervals (intervals.h).  One line per property; a
 * failure names the first failing op. */
#include "t.h"
#include "barealloc.h"

#define OPS          1000000L
#define CHECK_EVERY  50000L     /* ba_check() is O(heap) */
#define MAXLIVE      4096
#define IV_MAX       MAXLIVE
#include "intervals.h"
#define FULL_LIMIT   65536      /* small blocks are verified whole */
#define SAMPLES      64         /* words sampled in a medium or large block */
#define MIN_STRIDE   256
#define LIVE_CAP     (sizeof(void *) == 8 ? (size_t)64 << 20 : (size_t)32 << 20)

static uint64_t rng;

static uint32_t below(uint32_t n)   /* uniform in [0, n): multiply-shift, no 64-bit division */
{
	return (uint32_t)(((t_rand(&rng) >> 32) * n) >> 32);
}

/* ---- The properties, with the first op that broke each. ---- */
enum { P_ALLOC, P_ALIGN, P_USABLE, P_OVERLAP, P_ZERO, P_PATTERN, P_PRESERVE, P_CHECK,
       P_STATS, NPROP };
static const char *const prop_name[NPROP] = {
	"every allocation succeeds (live memory is bounded)",
	"every block is aligned to 16 or to the requested alignment",
	"malloc_usable_size equals the requested size",
	"no new block overlaps a live block",
	"calloc memory reads as zero",
	"every pattern is intact at free, realloc and checkpoints",
	"realloc preserves min(old, new) bytes",
	"ba_check() == 0 at every checkpoint",
	"stats.live_blocks and stats.requested match the shadow table at every checkpoint",
};
static long first_fail[NPROP], n_fail[NPROP];
static long op;
static int check_code;

static void fail(int prop)
{
	if (n_fail[prop]++ == 0)
		first_fail[prop] = op;
}

/* ---- Patterns. ---- */
static uint32_t pat(uint32_t tag, size_t w)
{
	return tag ^ ((uint32_t)w * 0x9E3779B1u);
}

static uint8_t pat_byte(uint32_t tag, size_t i)
{
	return (uint8_t)(pat(tag, i >> 2) >> ((i & 3) * 8));
}

static void fill_range(unsigned char *p, uint32_t tag, size_t from, size_t to)
{
	size_t i = from;

	for (; i < to && (i & 3); i++)
		p[i] = pat_byte(tag, i);
	for (; i + 4 <= to; i += 4)
		*(uint32_t *)(p + i) = pat(tag, i >> 2);
	for (; i < to; i++)
		p[i] = pat_byte(tag, i);
}

static int check_range(const unsigned char *p, uint32_t tag, size_t from, size_t to)
{
	size_t i = from;
	uint32_t bad = 0;

	for (; i < to && (i & 3); i++)
		bad |= p[i] ^ pat_byte(tag, i);
	for (; i + 4 <= to; i += 4)
		bad |= *(const uint32_t *)(p + i) ^ pat(tag, i >> 2);
	for (; i < to; i++)
		bad |= p[i] ^ pat_byte(tag, i);
	return bad == 0;
}

static int zero_range(const unsigned char *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (p[i])
			return 0;
	return 1;
}

enum { FILL, CHECK, ZERO };   /* what range() does to its bytes */

static int range(unsigned char *p, uint32_t tag, size_t from, size_t to, int mode)
{
	if (mode == ZERO)
		return zero_range(p, from, to);
	if (mode == CHECK)
		return check_range(p, tag, from, to);
	fill_range(p, tag, from, to);
	return 1;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* A big block gets about SAMPLES words, one at a tag-dependent place in
 * each chunk of `stride` bytes. */
static size_t stride_of(size_t n)
{
	size_t s = MIN_STRIDE;

	while (s * SAMPLES < n)
		s <<= 1;
	return s;
}

static size_t sample_at(uint32_t tag, size_t chunk, size_t stride)
{
	return chunk * stride + ((pat(tag * 0x85EBCA6Bu, chunk) >> 3) & (stride - 4));
}

/* The layout of a block of n bytes, restricted to [0, limit): written,
 * compared, or checked for zero (mode).  limit < n after a shrinking
 * realloc; a realloc'd block is then rewritten with its new size's layout. */
static int layout(unsigned char *p, uint32_t tag, size_t n, size_t limit, int mode)
{
	size_t end = min_size(n, limit), stride = stride_of(n);
	int ok = 1;

	if (n <= FULL_LIMIT)
		return range(p, tag, 0, end, mode);
	ok &= range(p, tag, 0, min_size(64, end), mode);
	ok &= range(p, tag, n - 64 < end ? n - 64 : end, end, mode);
	for (size_t c = 0; c * stride < end; c++) {
		size_t at = sample_at(tag, c, stride);
		if (at + 4 <= end)
			ok &= range(p, tag, at, at + 4, mode);
	}
	return ok;
}

/* A calloc block must be zero wherever its layout will be written, and in
 * a random 256-byte window. */
static int is_zero(unsigned char *p, uint32_t tag, size_t n)
{
	size_t w = n > FULL_LIMIT ? below((uint32_t)(n - 256)) : 0;

	return layout(p, tag, n, n, ZERO) && (n <= FULL_LIMIT || zero_range(p, w, w + 256));
}

/* ---- The shadow table: a dense array, so a random pick is one index. ---- */
struct blk {
	unsigned char *p;
	size_t n;
	uint32_t tag;
};
static struct blk live[MAXLIVE];
static uint32_t nlive, next_tag = 1;
static size_t live_bytes;

/* The mix actually run, for the summary line. */
enum { M_SMALL, M_MEDIUM, M_LARGE, M_ALIGNED, M_REALLOC, M_FREE, NMIX };
static long mix[NMIX];
static uint32_t peak_live;
static size_t peak_bytes;

/* Checks a block the allocator just returned and enters it in the table,
 * with a fresh tag, or with the old one (tag != 0) after a realloc, whose
 * kept prefix already holds the right pattern. */
static void adopt(void *v, size_t n, size_t align, int zeroed, uint32_t tag)
{
	unsigned char *p = v;
	uintptr_t s = (uintptr_t)p;

	if (!p) {
		fail(P_ALLOC);
		return;
	}
	if (s & (align - 1))
		fail(P_ALIGN);
	if (malloc_usable_size(p) != n)
		fail(P_USABLE);
	uintptr_t e = s + (n ? n : 1);   /* malloc(0) still owns a unique address */
	if (iv_overlaps(s, e))
		fail(P_OVERLAP);
	iv_insert(s, e, (uint32_t)t_rand(&rng));
	struct blk *b = &live[nlive++];
	b->p = p;
	b->n = n;
	b->tag = tag ? tag : next_tag++ * 0x2545F491u;
	if (zeroed && !is_zero(p, b->tag, n))
		fail(P_ZERO);
	layout(p, b->tag, n, n, FILL);
	live_bytes += n;
	mix[n <= 65536 ? M_SMALL : n <= (1u << 20) ? M_MEDIUM : M_LARGE]++;
	if (nlive > peak_live)
		peak_live = nlive;
	if (live_bytes > peak_bytes)
		peak_bytes = live_bytes;
}

static void forget(uint32_t i)
{
	live_bytes -= live[i].n;
	live[i] = live[--nlive];
}

/* ---- The operations. ---- */
static size_t small_size(void)
{
	uint32_t r = below(100);

	if (r < 60)
		return 1 + below(128);
	if (r < 98)
		return 1 + below(1024);
	uint32_t shift = 10 + below(6);    /* log-uniform 1 KiB..64 KiB */
	size_t n = ((size_t)1 << shift) + below((uint32_t)1 << shift);
	return n > 65536 ? 65536 : n;
}

static size_t draw_size(void)
{
	uint32_t r = below(1000);

	if (r < 965)
		return small_size();
	if (r < 996)
		return 65537 + below((1u << 20) - 65536);
	return (1u << 20) + 1 + below(7u << 20);
}

static size_t draw_align(void)
{
	if (below(50) == 0)
		return (size_t)1 << (13 + below(8));   /* 8 KiB..1 MiB */
	return (size_t)16 << below(9);             /* 16..4096 */
}

static void do_alloc(void)
{
	size_t n = draw_size(), align = 16;
	uint32_t kind = below(100);
	void *p;

	if (live_bytes + n > LIVE_CAP)
		n = small_size();
	if (kind < 50) {
		p = malloc(n);
	} else if (kind < 65) {
		uint32_t k = 1 + below(16);   /* n = nmemb * size when k divides n */
		p = (uint32_t)n % k ? calloc(n, 1) : calloc((uint32_t)n / k, k);
	} else if (kind < 75) {
		p = realloc(0, n);
	} else if (kind < 99) {
		align = draw_align();
		mix[M_ALIGNED]++;
		if (kind < 83) {
			p = aligned_alloc(align, n);
		} else if (kind < 91) {
			if (posix_memalign(&p, align, n))
				p = 0;
		} else {
			p = memalign(align, n);
		}
	} else {
		n = 0;
		p = malloc(0);
	}
	adopt(p, n, align, kind >= 50 && kind < 65, 0);
}

static void do_free(uint32_t i)
{
	struct blk *b = &live[i];

	if (!layout(b->p, b->tag, b->n, b->n, CHECK))
		fail(P_PATTERN);
	iv_erase((uintptr_t)b->p);
	free(b->p);
	forget(i);
	mix[M_FREE]++;
}

static void do_realloc(uint32_t i)
{
	struct blk b = live[i];
	size_t n = below(2) ? draw_size() : 1 + b.n / 2 + below((uint32_t)b.n + 64);

	if (live_bytes - b.n + n > LIVE_CAP)
		n = small_size();
	if (!layout(b.p, b.tag, b.n, b.n, CHECK))
		fail(P_PATTERN);
	unsigned char *p = realloc(b.p, n);
	if (!p) {   /* the old block stays valid */
		fail(P_ALLOC);
		return;
	}
	iv_erase((uintptr_t)b.p);
	forget(i);
	mix[M_REALLOC]++;
	if (!layout(p, b.tag, b.n, n, CHECK))
		fail(P_PRESERVE);
	adopt(p, n, 16, 0, b.tag);
}

static void checkpoint(void)
{
	struct ba_stats st;
	size_t sum = 0;
	uintptr_t end = 0;
	int code = ba_check();

	if (code && !n_fail[P_CHECK])
		check_code = code;
	if (code)
		fail(P_CHECK);
	for (uint32_t i = 0; i < nlive; i++) {
		sum += live[i].n;
		if (!layout(live[i].p, live[i].tag, live[i].n, live[i].n, CHECK))
			fail(P_PATTERN);
	}
	if (!iv_sorted(iv_root, &end))
		fail(P_OVERLAP);
	ba_stats(&st);
	if (st.live_blocks != nlive || st.requested != sum)
		fail(P_STATS);
}

static void one_op(uint32_t target)
{
	uint32_t r = below(100);
	int grow = nlive == 0 || (nlive < target ? r < 60 : r < 40);

	if (nlive >= MAXLIVE - 1)
		grow = 0;
	if (grow)
		do_alloc();
	else if (below(10) < 6)
		do_free(below(nlive));
	else
		do_realloc(below(nlive));
}

static long long now_ms(void)
{
	struct ba_timespec ts;

	sys_clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + (uint32_t)ts.tv_nsec / 1000000u;   /* no 64-bit division */
}

static void summary(long long ms)
{
	t_s("# stress: "), t_d(OPS), t_s(" ops in "), t_d(ms), t_s(" ms: made ");
	t_d(mix[M_SMALL]), t_s(" small, "), t_d(mix[M_MEDIUM]), t_s(" medium, ");
	t_d(mix[M_LARGE]), t_s(" large blocks ("), t_d(mix[M_ALIGNED]), t_s(" aligned); ");
	t_d(mix[M_REALLOC]), t_s(" reallocs, "), t_d(mix[M_FREE]), t_s(" frees; peak ");
	t_d(peak_live), t_s(" blocks, "), t_d((long long)(peak_bytes >> 10)), t_s(" KiB");
	t_nl();
}

static void report(void)
{
	for (int k = 0; k < NPROP; k++) {
		if (T_TRUE(prop_name[k], n_fail[k] == 0))
			continue;
		t_s("#   first failure at op "), t_d(first_fail[k]), t_s(", "), t_d(n_fail[k]);
		t_s(" failures in all (replay with the seed above)");
		if (k == P_CHECK)
			t_s(": "), t_s(ba_check_name(check_code));
		t_nl();
	}
}

static void finish(void)
{
	struct ba_stats st;

	while (nlive)
		do_free(nlive - 1);
	ba_stats(&st);
	T_EQ("after freeing every block, stats.requested == 0", st.requested, 0);
	T_EQ("after freeing every block, stats.live_blocks == 0", st.live_blocks, 0);
	T_EQ("after freeing every block, ba_check() == 0", ba_check(), 0);
	ba_release_all();
	ba_stats(&st);
	T_EQ("after ba_release_all, stats.mapped == 0", st.mapped, 0);
	void *p = malloc(100);
	T_TRUE("after ba_release_all, malloc(100) works again", p && ba_check() == 0);
	free(p);
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	rng = t_seed("stress");
	iv_init();
	uint32_t target = 0;
	long long t0 = now_ms();
	for (op = 0; op < OPS; op++) {
		if (op % 20000 == 0)   /* phases of growth and shrinking */
			target = 1 + below(MAXLIVE - 100);
		one_op(target);
		if (op % CHECK_EVERY == CHECK_EVERY - 1)
			checkpoint();
	}
	summary(now_ms() - t0);
	report();
	finish();
	return t_exit_status();
}

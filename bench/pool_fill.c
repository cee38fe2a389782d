/* The overheads of pools (inc/ba_pool.h), measured: how much of a region
 * its blocks can use, and what the pool costs besides.
 *
 * A pool over a page-aligned region of 16 KiB, 64 KiB, 256 KiB or 1 MiB
 * takes blocks of random sizes (uniform in 16..256, or in 16..4096) and
 * frees none.  Utilization is the bytes requested by the live blocks over
 * the region's bytes, taken at the first failed malloc and when the pool is
 * full: 64 failures in a row and then the smallest size failing too.  Each
 * case runs over SEEDS fixed seeds (the same numbers every run) and shows
 * the median and the worst.  Then the pool's own metadata (ba_pool_stats
 * meta, out of band), empty and full (the last seed's, and its share of
 * the region), and the smallest region, in pages,
 * that holds one block of a given size.  Markdown on fd 1.  Freestanding,
 * both ISAs: `pool_fill` takes no argument. */
#include "ba_pool.h"
#include "ba_sys.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
enum { SEEDS = 9, MISSES = 64, PAGE = 4096 };

static unsigned char region[1 << 20] __attribute__((aligned(4096)));

/* ---- Output: one line built at a time. ---- */
static char line[256];
static size_t len;

static void put(const char *s)
{
	while (*s && len < sizeof line)
		line[len++] = *s++;
}

static void put_u(unsigned long long v)
{
	char buf[BA_UTOA_SIZE];

	put(ba_utoa(v, buf));
}

static void put_tenths(unsigned t)   /* 123 -> "12.3" */
{
	char d[2] = { (char)('0' + t % 10), 0 };

	put_u(t / 10), put("."), put(d);
}

static void put_size(size_t n)
{
	if (n >= MiB && n % MiB == 0)
		put_u(n / MiB), put(" MiB");
	else if (n >= KiB && n % KiB == 0)
		put_u(n / KiB), put(" KiB");
	else
		put_u(n), put(" B");
}

static void end_line(void)
{
	put("\n");
	sys_write(1, line, len);
	len = 0;
}

/* ---- The fill. ---- */
static uint64_t rng;

static uint32_t below(uint32_t n)   /* xorshift64*, multiply-shift: no division */
{
	rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
	return (uint32_t)((((rng * 0x2545F4914F6CDD1DULL) >> 32) * n) >> 32);
}

struct fill {
	size_t first, full;     /* requested bytes at the first failure, and when full */
	size_t blocks, meta_empty, meta_full;
};

static size_t meta_of(ba_pool *pool)
{
	struct ba_stats st;

	ba_pool_stats(pool, &st);
	return st.meta;
}

/* Blocks of lo..hi bytes until MISSES failures in a row and lo fails too. */
static struct fill fill(size_t bytes, uint32_t lo, uint32_t hi, uint64_t seed)
{
	struct fill f = { 0, 0, 0, 0, 0 };
	ba_pool *pool = ba_pool_new_in(region, bytes, 0);
	unsigned misses = 0;

	if (!pool)
		return f;
	rng = seed;
	f.meta_empty = meta_of(pool);
	for (;;) {
		size_t n = misses < MISSES ? lo + below(hi - lo + 1) : lo;
		if (ba_pool_malloc(pool, n)) {
			f.full += n, f.blocks++, misses = 0;
			continue;
		}
		if (!f.first)
			f.first = f.full;
		if (misses++ == MISSES)
			break;
	}
	f.meta_full = meta_of(pool);
	ba_pool_destroy(pool);
	return f;
}

/* ---- Order statistics of SEEDS values. ---- */
static void sort(unsigned *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j && v[j - 1] > v[j]; j--) {
			unsigned t = v[j];
			v[j] = v[j - 1], v[j - 1] = t;
		}
}

static unsigned tenths(size_t part, size_t whole)   /* in 0.1 %, 32-bit only */
{
	return (unsigned)((uint32_t)(part / 16 * 1000) / (uint32_t)(whole / 16));
}

static void put_median_min(unsigned *v)
{
	sort(v, SEEDS);
	put(" | "), put_tenths(v[SEEDS / 2]), put(" % | "), put_tenths(v[0]), put(" %");
}

static void utilization_row(size_t bytes, uint32_t lo, uint32_t hi)
{
	unsigned first[SEEDS], full[SEEDS];
	struct fill f = { 0, 0, 0, 0, 0 };
	size_t blocks = 0;

	for (unsigned s = 0; s < SEEDS; s++) {
		f = fill(bytes, lo, hi, 0x9E3779B97F4A7C15ULL * (s + 1));
		first[s] = tenths(f.first, bytes);
		full[s] = tenths(f.full, bytes);
		blocks += f.blocks;
	}
	put("| "), put_size(bytes), put(" | "), put_u(lo), put(".."), put_u(hi);
	put_median_min(first);
	put_median_min(full);
	put(" | "), put_u(blocks / SEEDS);
	put(" | "), put_u(f.meta_empty), put(" | "), put_u(f.meta_full);
	put(" ("), put_tenths(tenths(f.meta_full, bytes)), put(" %) |");
	end_line();
}

/* The fewest pages whose pool serves one block of n bytes, 0 if none up
 * to the whole buffer. */
static size_t smallest_region(size_t n)
{
	for (size_t pages = 1; pages <= sizeof region / PAGE; pages++) {
		ba_pool *pool = ba_pool_new_in(region, pages * PAGE, 0);
		void *p = pool ? ba_pool_malloc(pool, n) : 0;
		if (pool)
			ba_pool_destroy(pool);
		if (p)
			return pages;
	}
	return 0;
}

static void smallest_table(void)
{
	static const size_t sizes[] = { 1, 16, 256, 257, 1000, 4096, 4097, 5000, 65536, 65537, 200000, MiB };

	put("| block | smallest region | of which the block |"), end_line();
	put("|---|---|---|"), end_line();
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t pages = smallest_region(sizes[i]);
		put("| "), put_size(sizes[i]), put(" | ");
		if (pages)
			put_u(pages), put(pages == 1 ? " page | " : " pages | "),
			put_tenths(tenths(sizes[i], pages * PAGE)), put(" % |");
		else
			put("none up to 1 MiB | |");
		end_line();
	}
}

int main(void)
{
	static const size_t regions[] = { 16 * KiB, 64 * KiB, 256 * KiB, MiB };
	static const uint32_t ranges[][2] = { { 16, 256 }, { 16, 4096 } };

	put("Pools on "), put(sizeof(void *) == 8 ? "x86-64" : "i386"), put(": utilization, requested bytes of ");
	put("live blocks / region bytes, over "), put_u(SEEDS), put(" seeds (median | min)"), end_line();
	end_line();
	put("| region | sizes | first failure | min | full | min | blocks when full | meta empty (B) | ");
	put("meta full (B), last seed |"), end_line();
	put("|---|---|---|---|---|---|---|---|---|"), end_line();
	for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
		for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++)
			utilization_row(regions[i], ranges[r][0], ranges[r][1]);
	end_line();
	smallest_table();
	return 0;
}

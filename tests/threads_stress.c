/* Model-checked threaded stress.  Rounds of THREADS threads run random
 * operations on one shared table of blocks: each op takes a random slot
 * (under the slot's stripe lock), checks the pattern of the block there,
 * frees it or reallocs it, and puts a new block in, of a random size among
 * small, medium and large.  A slot's block was most often made by another
 * thread, so most frees are remote; the threads of a round end and new
 * ones start while their blocks live on in the table, so heaps are left
 * and adopted with live blocks in them.  At the end the main thread
 * checks and frees everything: ba_check is clean, and the memory comes
 * back under the single-threaded bound: what one heap keeps (its dirty
 * budget) and the freed large mappings kept for reuse (LARGE_KEPT_MAX,
 * 16 MiB, process-wide), plus ~1% of the peak. */
#include "t.h"
#include "barealloc.h"
#include "ba_thread.h"

#define THREADS    4
#define ROUNDS     4
#define OPS        6000         /* per thread and round */
#define SLOTS      2048
#define STRIPES    64
#define HEAD       64           /* bytes checked at each end of a block */

struct slot {
	unsigned char *p;
	size_t n;
	uint32_t tag;
};

static struct slot table[SLOTS];
static ba_mutex stripe[STRIPES];
static uint64_t seed;
static long failures[4];        /* pattern, allocation, zero, realloc: counted by any thread */
static const char *const failure_name[] = {
	"every block's pattern is intact when it is checked",
	"every allocation succeeds",
	"calloc memory reads as zero",
	"realloc keeps the bytes of the block",
};

static uint8_t pat(uint32_t tag, size_t i)
{
	return (uint8_t)((tag >> (i & 3) * 8) ^ (i * 0x9Du));
}

/* The first and last HEAD bytes of a block, and one byte per 4 KiB. */
static int pattern(unsigned char *p, size_t n, uint32_t tag, int fill)
{
	int ok = 1;

	for (size_t i = 0; i < n; i = (i + 1 == HEAD && n > 2 * HEAD) ? (n - HEAD > i + 4096 ? i + 4096 : n - HEAD)
								       : i + 1) {
		if (fill)
			p[i] = pat(tag, i);
		else
			ok &= p[i] == pat(tag, i);
	}
	return ok;
}

static void count_failure(int what)
{
	__atomic_fetch_add(&failures[what], 1, __ATOMIC_RELAXED);
}

static size_t random_size(uint64_t *rng)
{
	uint64_t r = t_rand(rng);
	unsigned kind = (unsigned)(r % 100);

	r >>= 8;
	if (kind < 80)
		return 1 + r % 1024;                    /* small */
	if (kind < 97)
		return 1 + r % (64 << 10);              /* small and the bigger classes */
	if (kind < 99 || r % 4)
		return (64 << 10) + r % (512 << 10);    /* medium */
	return (1 << 20) + r % (2 << 20);               /* large: one op in 400 */
}

static void one_op(uint64_t *rng, uint32_t tag)
{
	uint64_t r = t_rand(rng);
	unsigned k = (unsigned)(r % SLOTS);
	struct slot *s = &table[k];
	size_t n = random_size(rng);

	ba_mutex_lock(&stripe[k % STRIPES]);
	if (s->p && !pattern(s->p, s->n, s->tag, 0))
		count_failure(0);
	if (s->p && (r >> 32) % 8 == 0) {               /* realloc: the old bytes stay */
		unsigned char *q = realloc(s->p, n);
		if (!q) {
			count_failure(1);
		} else {
			size_t keep = n < s->n ? n : s->n;
			for (size_t i = 0; i < keep && i < HEAD; i++)
				if (q[i] != pat(s->tag, i))
					count_failure(3);
			s->p = q;
			s->n = n;
			pattern(q, n, s->tag, 1);
		}
	} else {
		free(s->p);
		int zeroed = (r >> 32) % 8 == 1;
		unsigned char *q = zeroed ? calloc(1, n) : malloc(n);
		if (!q)
			count_failure(1);
		else if (zeroed && (q[0] || q[n - 1] || q[n / 2]))
			count_failure(2);
		s->p = q;
		s->n = q ? n : 0;
		s->tag = tag;
		if (q)
			pattern(q, n, tag, 1);
	}
	ba_mutex_unlock(&stripe[k % STRIPES]);
}

static void *worker(void *arg)
{
	uint64_t rng = seed ^ ((uintptr_t)arg * 0x9E3779B97F4A7C15ULL);

	for (uint32_t i = 0; i < OPS; i++)
		one_op(&rng, (uint32_t)(uintptr_t)arg << 20 ^ i);
	return arg;
}

/* Many short threads: each allocates SHORT_BLOCKS blocks, frees half and
 * leaves the rest to the main thread, then ends.  Their heaps are left and
 * adopted again and again: the mapped bytes must not grow with the number
 * of threads (within twice what 100 threads left). */
#define SHORT_THREADS 1000
#define SHORT_BLOCKS  40

static void *short_lived(void *arg)
{
	void **keep = arg;
	uint64_t rng = seed ^ (uintptr_t)arg;

	for (int i = 0; i < SHORT_BLOCKS; i++) {
		size_t n = 1 + t_rand(&rng) % (i % 10 ? 2000 : 100000);
		unsigned char *p = malloc(n);
		if (!p) {
			count_failure(1);
			continue;
		}
		p[0] = p[n - 1] = (unsigned char)i;
		if (i % 2)
			free(p);
		else
			keep[i / 2] = p;
	}
	return 0;
}

static void short_threads(void)
{
	static void *kept[4][SHORT_BLOCKS / 2];
	struct ba_stats st;
	size_t mapped_at_100 = 0;
	int ok = 1;

	for (int done = 0; done < SHORT_THREADS; done += 4) {
		struct ba_thread *t[4];
		for (int i = 0; i < 4; i++)
			ok &= ba_thread_create(&t[i], short_lived, kept[i]) == 0;
		for (int i = 0; i < 4; i++)
			ok &= ba_thread_join(t[i], 0) == 0;
		for (int i = 0; i < 4; i++)
			for (int k = 0; k < SHORT_BLOCKS / 2; k++) {
				free(kept[i][k]);       /* a block of a heap no thread owns now */
				kept[i][k] = 0;
			}
		if (done + 4 == 100) {
			ba_stats(&st);
			mapped_at_100 = st.mapped;
		}
	}
	ba_stats(&st);
	T_TRUE(t_name("", SHORT_THREADS, " short threads, each leaving blocks to the main thread"), ok);
	t_s("#"), t_kib(" mapped after 100 short threads ", mapped_at_100), t_kib(", after 1000 ", st.mapped), t_nl();
	/* A heap per thread, not adopted, would map an arena (4 MiB) each:
	 * ten times as much.  Arenas and kept large mappings make the rest
	 * move by a few MiB from run to run. */
	T_TRUE("... the mapped bytes do not grow with the number of threads (heaps are adopted)",
	       st.mapped <= 2 * mapped_at_100);
	T_EQ("... ba_check() afterwards", ba_check(), 0);
}

int main(void)
{
	struct ba_stats base, peak, after;
	size_t rss_base, rss_peak = 0, rss_after;
	int joined = 1;

	seed = t_seed("threads_stress");
	ba_stats(&base);
	rss_base = t_rss();
	for (unsigned round = 0; round < ROUNDS; round++) {
		struct ba_thread *t[THREADS];
		for (uintptr_t i = 0; i < THREADS; i++)
			if (ba_thread_create(&t[i], worker, (void *)(round * THREADS + i + 1)))
				t[i] = 0;
		for (uintptr_t i = 0; i < THREADS; i++) {
			void *ret = 0;
			joined &= t[i] && ba_thread_join(t[i], &ret) == 0 && ret == (void *)(round * THREADS + i + 1);
		}
		size_t rss = t_rss();
		rss_peak = rss > rss_peak ? rss : rss_peak;
	}
	T_TRUE(t_name("", ROUNDS * THREADS, " threads ran and were joined, each returning its value"), joined);
	ba_stats(&peak);
	for (unsigned k = 0; k < SLOTS; k++) {
		if (table[k].p && !pattern(table[k].p, table[k].n, table[k].tag, 0))
			count_failure(0);
		free(table[k].p);
	}
	for (int i = 0; i < 4; i++) {
		if (!T_EQ(failure_name[i], failures[i], 0))
			t_s("#   failures: "), t_d(failures[i]), t_nl();
	}
	T_EQ("ba_check() after everything is freed", ba_check(), 0);
	short_threads();
	ba_stats(&after);
	rss_after = t_rss();
	T_EQ("the main heap holds no live block", after.live_blocks, base.live_blocks);
	t_s("#"), t_kib(" mapped: peak ", peak.mapped), t_kib(", after ", after.mapped), t_kib(", dirty ", after.dirty);
	t_kib("; RSS: baseline ", rss_base), t_kib(", peak ", rss_peak), t_kib(", after ", rss_after), t_nl();
	if (t_under_qemu())
		t_skip("all freed: RSS <= baseline + the dirty budget + 16 MiB of large mappings + ~1% of the peak",
		       "under qemu-user the RSS is the emulator's, translation cache included");
	else
		T_TRUE("all freed: RSS <= baseline + the dirty budget + 16 MiB of large mappings + ~1% of the peak",
		       rss_after <= rss_base + after.dirty_limit + (16 << 20) + (rss_peak >> 7) + (rss_peak >> 9));
	return t_exit_status();
}

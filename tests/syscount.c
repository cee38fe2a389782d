/* Syscalls in the steady state, counted through ba_stats: once warmed up,
 * malloc/free loops at every size class and the large ping-pong must not
 * call mmap, munmap, mremap or madvise at all (the hysteresis keeps what a
 * loop gives back).  And the converse, CONFORMANCE row 49: after 64 MiB of
 * small blocks are freed, the memory goes back to the kernel, within a
 * stated bound. */
#include "t.h"
#include "barealloc.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define ITERS 100000L
#define BATCH 100

static uint64_t rng;

static uint32_t below(uint32_t n)
{
	return (uint32_t)(((t_rand(&rng) >> 32) * n) >> 32);
}

/* ---- Counting. ---- */
struct counts {
	unsigned long c[4];
};

static struct counts snap(void)
{
	struct ba_stats st;
	struct counts k;

	ba_stats(&st);
	k.c[0] = st.mmap_calls;
	k.c[1] = st.munmap_calls;
	k.c[2] = st.mremap_calls;
	k.c[3] = st.madvise_calls;
	return k;
}

/* One line: no call of any of the four since `before`; the counts if not. */
static void no_syscalls(const char *name, struct counts before)
{
	static const char *const what[4] = { " mmap +", " munmap +", " mremap +", " madvise +" };
	struct counts after = snap();
	unsigned long sum = 0;

	for (int i = 0; i < 4; i++)
		sum += after.c[i] - before.c[i];
	if (T_TRUE(name, sum == 0))
		return;
	t_s("#  ");
	for (int i = 0; i < 4; i++) {
		t_s(what[i]);
		t_d((long long)(after.c[i] - before.c[i]));
	}
	t_nl();
}

/* ---- The steady-state loops. ---- */
static void pingpong(size_t n, long iters, const char *name)
{
	for (int i = 0; i < 100; i++) {   /* warm-up */
		unsigned char *p = malloc(n);
		p[0] = p[n - 1] = 1;
		free(p);
	}
	struct counts before = snap();
	int ok = 1;
	for (long i = 0; i < iters; i++) {
		unsigned char *p = malloc(n);
		if (!p) {
			ok = 0;
			break;
		}
		p[0] = p[n - 1] = (unsigned char)i;   /* the block is really used */
		free(p);
	}
	T_TRUE(name, ok);
	no_syscalls(t_name("  ... with no mmap/munmap/mremap/madvise (", iters, " iterations)"),
		    before);
}

static unsigned char *ptrs[BATCH];

/* BATCH blocks allocated, then freed in reverse (order 0) or random order. */
static void batch_round(size_t n, int random_order)
{
	for (int i = 0; i < BATCH; i++) {
		ptrs[i] = malloc(n);
		if (ptrs[i])
			ptrs[i][0] = ptrs[i][n - 1] = (unsigned char)i;
	}
	if (random_order)
		for (int i = BATCH - 1; i > 0; i--) {
			uint32_t j = below((uint32_t)i + 1);
			unsigned char *t = ptrs[i];
			ptrs[i] = ptrs[j];
			ptrs[j] = t;
		}
	for (int i = BATCH - 1; i >= 0; i--)
		free(ptrs[i]);
}

static void batches(size_t n, int random_order, const char *name)
{
	for (int r = 0; r < 3; r++)   /* warm-up */
		batch_round(n, random_order);
	struct counts before = snap();
	for (long r = 0; r < ITERS / BATCH; r++)
		batch_round(n, random_order);
	no_syscalls(name, before);
}

/* ---- Memory return (row 49). ---- */
#define MANY 131072
static unsigned char *many[MANY];

/* Fills 64 MiB with blocks of small (16..2048) or medium (64 KiB..1 MiB)
 * sizes, every byte written, then frees them in random order.  A fresh
 * case starts from ba_release_all, so the purge budget is DIRTY_MAX
 * (4 MiB); after the loops, which cycle 25 MiB, the budget may have grown
 * by design, so stats.dirty is not bounded there. */
static void memory_return(const char *ctx, int medium, int fresh)
{
	struct ba_stats base, peak, after;
	size_t total = 0, rss_base, rss_peak, rss_after;
	uint32_t n = 0;

	if (fresh)
		ba_release_all();
	memset(many, 0, sizeof many);   /* the table's own pages count in the baseline */
	ba_stats(&base);
	rss_base = t_rss();
	while (total < 64 * MiB && n < MANY) {
		size_t size = medium ? 65537 + below(MiB - 65536) : 16 + below(2033);
		unsigned char *p = malloc(size);
		if (!p)
			break;
		memset(p, 0x77, size);
		many[n++] = p;
		total += size;
	}
	T_TRUE(ctx, total >= 64 * MiB);
	ba_stats(&peak);
	rss_peak = t_rss();
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = below(i + 1);
		unsigned char *t = many[i];
		many[i] = many[j];
		many[j] = t;
	}
	for (uint32_t i = 0; i < n; i++)
		free(many[i]);
	ba_stats(&after);
	rss_after = t_rss();
	t_s("#   mapped:");
	t_kib(" baseline ", base.mapped), t_kib(", peak ", peak.mapped), t_kib(", after ", after.mapped);
	t_kib("; dirty after ", after.dirty);
	t_kib("; RSS: baseline ", rss_base), t_kib(", peak ", rss_peak), t_kib(", after ", rss_after);
	t_nl();
	if (fresh)
		T_TRUE("  ... all freed: stats.dirty <= 4 MiB", after.dirty <= 4 * MiB);
	/* Address space may stay: empty arenas go when they empty, but an
	 * arena that holds an empty run kept at its bin's head (one per size
	 * class) stays until the next purge (docs/DESIGN.md).  The memory
	 * itself must come back: that is the RSS check below. */
	T_TRUE("  ... all freed: stats.mapped is no more than its peak", after.mapped <= peak.mapped);
	/* Free memory kept resident is bounded by the budget: 4 MiB in a
	 * fresh heap, grown by the loops before (they cycle a working set). */
	T_TRUE("  ... all freed: stats.dirty <= stats.dirty_limit", after.dirty <= after.dirty_limit);
	if (t_under_qemu())
		t_skip("  ... all freed: RSS <= baseline + the dirty budget + ~1% of the peak",
		       "under qemu-user the RSS is the emulator's, translation cache included");
	else
		T_TRUE("  ... all freed: RSS <= baseline + the dirty budget + ~1% of the peak",
		       rss_after <= rss_base + after.dirty_limit + (rss_peak >> 7) + (rss_peak >> 9));
	/* stats.dirty is an upper bound on free resident bytes: a freed span
	 * merged with purged pages counts whole (docs/DESIGN.md).  It can only
	 * exceed what was freed and written by that merging, never reach the
	 * peak of what was freed. */
	if (medium)
		T_TRUE("  ... all freed: stats.dirty stays below what was freed",
		       after.dirty < peak.mapped - base.mapped);
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	rng = t_seed("syscount");
	memory_return("64 MiB in small blocks", 0, 1);
	memory_return("64 MiB in medium blocks", 1, 1);
	pingpong(16, ITERS, "steady state: malloc(16)/free");
	pingpong(4 * KiB, ITERS, "steady state: malloc(4 KiB)/free");
	pingpong(256 * KiB, ITERS, "steady state: malloc(256 KiB)/free");
	pingpong(MiB, ITERS / 10, "steady state: malloc(1 MiB)/free (medium, the largest)");
	pingpong(4 * MiB, ITERS / 10, "steady state: malloc(4 MiB)/free (large)");
	batches(16, 0, "steady state: 100 blocks of 16 B, freed in reverse: no syscall");
	batches(16, 1, "steady state: 100 blocks of 16 B, freed in random order: no syscall");
	batches(4 * KiB, 0, "steady state: 100 blocks of 4 KiB, freed in reverse: no syscall");
	batches(4 * KiB, 1, "steady state: 100 blocks of 4 KiB, freed in random order: no syscall");
	batches(256 * KiB, 0, "steady state: 100 blocks of 256 KiB, freed in reverse: no syscall");
	batches(256 * KiB, 1, "steady state: 100 blocks of 256 KiB, freed in random order: no syscall");
	memory_return("64 MiB in small blocks again, after the loops", 0, 0);
	return t_exit_status();
}

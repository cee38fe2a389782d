/* Fault injection (CONFORMANCE row 37), with the test library's hook
 * ba_test_fail_maps: for each allocation path, let the first k mapping
 * calls succeed and fail all the later ones, for k = 0, 1, 2, ... until k
 * covers every mapping call the path makes.  Each attempt must either give
 * a valid block or NULL with errno ENOMEM (leaving a realloc'd block
 * intact), with the heap consistent; once mapping works again, everything
 * frees and the same operation succeeds.  Then one single failure is
 * injected at every mapping call of a sequence of 200 mixed operations.
 * Each path runs in a child, so that a crash names its path. */
#include "t.h"
#include "barealloc.h"
#include "hooks.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define MAX_K 400

static uint64_t rng;

static uint32_t below(uint32_t n)
{
	return (uint32_t)(((t_rand(&rng) >> 32) * n) >> 32);
}

/* ---- Patterns: whole blocks up to 64 KiB; bigger ones at their ends and
 * at one byte per page, which is plenty to see a lost copy. ---- */
static uint8_t pat(uint32_t tag, size_t i)
{
	return (uint8_t)(tag + i * 7 + (i >> 9));
}

static int pattern(unsigned char *p, size_t n, size_t limit, uint32_t tag, int check)
{
	size_t step = n <= 64 * KiB ? 1 : 4096;

	for (size_t i = 0; i < n && i < limit; i += (i < 64 || i + 64 >= n) ? 1 : step) {
		if (!check)
			p[i] = pat(tag, i);
		else if (p[i] != pat(tag, i))
			return 0;
	}
	return 1;
}

/* ---- The paths. ---- */
#define MAX_HOLD 128
static unsigned char *old, *warm, *held[MAX_HOLD];
static size_t old_n;
static int nheld;
static int op_err;   /* errno, or posix_memalign's result */

/* A path's operation must make mapping calls for injection to test it, but
 * after ba_release_all only the first arena is new.  So the setup holds
 * blocks of hold_size until the arenas are too full for the operation:
 * run_path searches for the smallest such count. */
struct path {
	const char *name;
	int warm;          /* allocate a small block first, so the heap exists */
	size_t old_n;      /* realloc paths: the block to grow or shrink */
	size_t hold_size;  /* 0: the operation maps without help */
	int kind;          /* 'm'alloc, 'c'alloc, 'r'ealloc, 'a' memalign, 'p'osix_memalign */
	size_t n, align;
	unsigned long min_maps;   /* hold blocks until the operation makes this many calls (0: 1) */
};

#define RUN_PAGES (64 * KiB + 1)   /* more pages than any run */
static const struct path paths[] = {
	{ "small, the first block after ba_release_all", 0, 0, 0, 'm', 100, 16, 0 },
	{ "small, the first block of a new size class", 1, 0, RUN_PAGES, 'm', 3000, 16, 0 },
	{ "medium (200 KiB)", 1, 0, 200 * KiB, 'm', 200 * KiB, 16, 0 },
	{ "medium (1 MiB)", 1, 0, MiB, 'm', MiB, 16, 0 },
	{ "medium, needing a new arena and a new metadata region", 1, 0, MiB, 'm', MiB, 16, 2 },
	{ "large (3 MiB)", 1, 0, 0, 'm', 3 * MiB, 16, 0 },
	{ "realloc small to medium", 0, 1000, 300 * KiB, 'r', 300 * KiB, 16, 0 },
	{ "realloc medium to large", 0, 512 * KiB, 0, 'r', 5 * MiB, 16, 0 },   /* past an arena: it cannot grow in place */
	{ "realloc large to larger (mremap)", 0, 2 * MiB, 0, 'r', 16 * MiB, 16, 0 },
	{ "realloc large to small", 1, 2 * MiB, RUN_PAGES, 'r', 5000, 16, 0 },
	{ "memalign(4096, 5000)", 1, 0, RUN_PAGES, 'a', 5000, 4096, 0 },
	{ "memalign(64 KiB, 100 KiB)", 1, 0, 128 * KiB, 'a', 100 * KiB, 64 * KiB, 0 },
	{ "memalign(1 MiB, 100)", 1, 0, 0, 'a', 100, MiB, 0 },
	{ "memalign(1 MiB, 3 MiB)", 1, 0, 0, 'a', 3 * MiB, MiB, 0 },
	{ "posix_memalign(64 KiB, 1000)", 1, 0, RUN_PAGES, 'p', 1000, 64 * KiB, 0 },
	{ "calloc small (30 x 100)", 1, 0, RUN_PAGES, 'c', 3000, 16, 0 },
	{ "calloc medium (100 x 1000)", 1, 0, 100 * KiB, 'c', 100000, 16, 0 },
	{ "calloc large (1 x 5 MiB)", 1, 0, 0, 'c', 5 * MiB, 16, 0 },
};
#define NPATHS (int)(sizeof paths / sizeof paths[0])

/* Builds the starting state, with injection off. */
static void setup(const struct path *w)
{
	ba_release_all();
	warm = w->warm ? malloc(24) : 0;
	old_n = w->old_n;
	old = old_n ? malloc(old_n) : 0;
	if (old)
		pattern(old, old_n, old_n, 0xA5, 0);
	for (int i = 0; i < nheld; i++)
		held[i] = malloc(w->hold_size);
}

static void *run_op(const struct path *w)
{
	void *p = 0;

	errno = 0;
	switch (w->kind) {
	case 'm': p = malloc(w->n); break;
	case 'c': p = calloc(w->n / 100 ? w->n / 100 : 1, w->n / 100 ? 100 : w->n); break;
	case 'r': p = realloc(old, w->n); break;
	case 'a': p = memalign(w->align, w->n); break;
	case 'p': {
		void *sentinel = &p;
		p = sentinel;
		op_err = posix_memalign(&p, w->align, w->n);
		if (op_err && p != sentinel)
			op_err = -1;   /* *memptr must stay untouched on failure */
		return op_err ? 0 : p;
	}
	}
	op_err = errno;
	return p;
}

/* A block the operation returned: right size, alignment, contents. */
static int valid(const struct path *w, unsigned char *p)
{
	size_t n = w->kind == 'c' ? (w->n / 100 ? w->n / 100 * 100 : w->n) : w->n;
	int ok = ((uintptr_t)p & (w->align - 1)) == 0 && malloc_usable_size(p) == n;

	if (w->kind == 'c')
		for (size_t i = 0; i < n; i += i < 4096 ? 1 : 509)
			ok &= p[i] == 0;
	if (w->kind == 'r')
		ok &= pattern(p, old_n, n, 0xA5, 1);
	pattern(p, n, n, 0x3C, 0);
	return ok & pattern(p, n, n, 0x3C, 1);
}

static void teardown(unsigned char *p, const struct path *w)
{
	free(p);
	if (w->kind == 'r' && !p)
		free(old);
	free(warm);
	for (int i = 0; i < nheld; i++)
		free(held[i]);
}

static struct ba_stats stats(void)
{
	struct ba_stats st;

	ba_stats(&st);
	return st;
}

/* mremap counts too: the hook fails it when it grows a mapping. */
static unsigned long map_calls(void)
{
	struct ba_stats st = stats();

	return st.mmap_calls + st.mremap_calls;
}

/* A half-built structure that kept a mapping nobody refers to would
 * survive ba_release_all. */
static int leaks_maps(void)
{
	ba_release_all();
	return stats().mapped != 0;
}

static const char *why;

/* One attempt with the first k mapping calls allowed; 1 if all is well. */
static int attempt(const struct path *w, long k, int *succeeded)
{
	setup(w);
	ba_test_fail_maps(k, -1);
	unsigned char *p = run_op(w);
	ba_test_fail_maps(0, 0);
	*succeeded = p != 0;
	if (p ? !valid(w, p) : op_err != ENOMEM)
		return why = p ? "the block is wrong" : "NULL without ENOMEM", 0;
	if (!p && w->kind == 'r' && !pattern(old, old_n, old_n, 0xA5, 1))
		return why = "the failed realloc changed the old block", 0;
	if (ba_check())
		return why = "ba_check() after the operation", 0;
	teardown(p, w);
	if (ba_check() || stats().live_blocks)
		return why = "ba_check() or live blocks after freeing", 0;
	if (leaks_maps())
		return why = "stats.mapped != 0 after ba_release_all", 0;
	setup(w);
	p = run_op(w);
	if (!p || !valid(w, p))
		return why = "the same operation fails once mapping works again", 0;
	teardown(p, w);
	return 1;
}


/* The number of mapping calls the operation makes without injection, with
 * nheld blocks held; 0 with `why` set if it fails. */
static unsigned long measure(const struct path *w)
{
	setup(w);
	unsigned long before = map_calls();
	unsigned char *p = run_op(w);
	unsigned long maps = map_calls() - before;
	int ok = p && valid(w, p);

	teardown(p, w);
	if (!ok)
		why = "the operation fails without injection";
	return ok ? maps : 0;
}

static void run_path(int i)
{
	const struct path *w = &paths[i];
	int ok = 1, succeeded = 0, failures = 0;
	unsigned long maps;
	long k;

	why = 0;
	nheld = 0;
	unsigned long want = w->min_maps ? w->min_maps : 1;
	while ((maps = measure(w)) < want && !why && w->hold_size && nheld < MAX_HOLD)
		nheld++;
	ok = !why;
	/* Past `maps`, no failure comes before the operation is done. */
	for (k = 0; ok && k <= (long)maps && k < MAX_K; k++) {
		ok = attempt(w, k, &succeeded);
		failures += !succeeded;
		if (ok && k == (long)maps && !succeeded)
			ok = 0, why = "it fails although all its mapping calls were allowed";
	}
	T_TRUE(t_join("fault injection, ", t_join(w->name, ": NULL + ENOMEM or a valid block for every "
		"k, the heap consistent, then recovery")), ok && maps >= want);
	t_s(ok ? "#   " : "#   first failure at k = ");
	if (!ok) {
		t_d(k - 1);
		t_s(": ");
		t_s(why);
		t_s("; ");
	}
	t_d((long long)maps);
	t_s(" mapping calls with ");
	t_d(nheld);
	t_s(" blocks held; NULL + ENOMEM for ");
	t_d(failures);
	t_s(" values of k");
	t_nl();
}

/* ---- One failure at every mapping call of a 200-op sequence. ---- */
#define SEQ 200
#define SLOTS 24
static unsigned char *slot[SLOTS];
static size_t slot_n[SLOTS];
static int nulls;

static size_t seq_size(void)
{
	uint32_t r = below(10);   /* weighted to the sizes that map */

	if (r < 4)
		return 1 + below(4096);
	if (r < 7)
		return 65537 + below(960 * 1024);
	return MiB + 1 + below(5 * MiB);
}

static int seq_alloc(uint32_t s)
{
	size_t n = seq_size(), align = (size_t)64 << below(10);
	uint32_t r = below(3);

	errno = 0;
	unsigned char *p = r == 0 ? malloc(n) : r == 1 ? calloc(1, n) : memalign(align, n);
	if (!p) {
		nulls++;
		return errno == ENOMEM;
	}
	int ok = malloc_usable_size(p) == n && (r < 2 || ((uintptr_t)p & (align - 1)) == 0);
	for (size_t i = 0; r == 1 && i < n; i += i < 4096 ? 1 : 4093)
		ok &= p[i] == 0;
	pattern(p, n, n, s, 0);
	slot[s] = p;
	slot_n[s] = n;
	return ok;
}

static int seq_realloc(uint32_t s)
{
	size_t n = seq_size();

	errno = 0;
	unsigned char *p = realloc(slot[s], n);
	if (!p) {
		nulls++;
		return errno == ENOMEM && pattern(slot[s], slot_n[s], slot_n[s], s, 1);
	}
	int ok = pattern(p, slot_n[s], n, s, 1) && malloc_usable_size(p) == n;
	pattern(p, n, n, s, 0);
	slot[s] = p;
	slot_n[s] = n;
	return ok;
}

static int seq_free(uint32_t s)
{
	int ok = pattern(slot[s], slot_n[s], slot_n[s], s, 1);

	free(slot[s]);
	slot[s] = 0;
	return ok;
}

/* The same seed gives the same sequence until an injected failure. */
static int run_sequence(uint64_t seed)
{
	int ok = 1;

	rng = seed;
	for (int i = 0; i < SEQ; i++) {
		uint32_t s = below(SLOTS);
		if (!slot[s])
			ok &= seq_alloc(s);
		else if (below(3) == 0)
			ok &= seq_free(s);
		else
			ok &= seq_realloc(s);
		ok &= ba_check() == 0;
	}
	for (uint32_t s = 0; s < SLOTS; s++)
		if (slot[s])
			ok &= seq_free(s);
	return ok & (ba_check() == 0 && stats().live_blocks == 0);
}

static uint64_t seed;

static void sequence_test(int unused)
{
	long pos, first_bad = -1;

	(void)unused;
	ba_release_all();
	unsigned long before = map_calls();
	int ok = run_sequence(seed);
	long maps = (long)(map_calls() - before);
	T_TRUE("200 mixed operations without injection", ok);
	nulls = 0;
	for (pos = 0; pos < maps && pos < MAX_K; pos++) {
		ba_release_all();
		ba_test_fail_maps(pos, 1);
		ok = run_sequence(seed);
		ba_test_fail_maps(0, 0);
		void *a = malloc(100), *b = malloc(300 * KiB), *c = malloc(3 * MiB);
		ok &= a && b && c;
		free(a), free(b), free(c);
		ok &= !leaks_maps();
		if (!ok && first_bad < 0)
			first_bad = pos;
	}
	T_TRUE("fault injection, one failed mapping call at each position of 200 mixed "
	       "operations: NULL + ENOMEM or valid blocks, contents kept, heap consistent", first_bad < 0);
	t_s("#   ");
	t_d(maps);
	t_s(" mapping calls, ");
	t_d(nulls);
	t_s(" NULL results in all");
	if (first_bad >= 0) {
		t_s("; first failure with the failure at call ");
		t_d(first_bad);
		t_s(" (replay with the seed above)");
	}
	t_nl();
}

/* Runs fn(arg) in a child: a crash costs one line, not the whole program. */
static void isolated(void (*fn)(int), int arg, const char *name)
{
	int status = -1;
	long pid = sys_fork();

	if (pid == 0) {
		fn(arg);
		sys_exit_group(t_exit_status());
	}
	if (!sys_failed(pid))
		sys_wait4((int)pid, &status, 0, 0);
	if (status >= 0 && (status & 0x7f) == 0) {
		t_failures += status >> 8;   /* its [FAIL] lines are already out */
		return;
	}
	T_TRUE(t_join("fault injection, ", t_join(name, ": the child survives")), 0);
	t_s("#   wait status ");
	t_d(status);
	t_nl();
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	seed = t_seed("hook_inject");
	for (int i = 0; i < NPATHS; i++)
		isolated(run_path, i, paths[i].name);
	isolated(sequence_test, 0, "200 mixed operations");
	return t_exit_status();
}

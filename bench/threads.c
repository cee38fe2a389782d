/* The threaded allocation benchmark: one source, built freestanding
 * against barealloc and its threads (-DBA_FREESTANDING: ba_thread.h) and
 * hosted with pthreads (glibc; jemalloc, mimalloc and tcmalloc through
 * LD_PRELOAD), like bench/bench.c.  It measures throughput and asserts
 * nothing about it; it does assert the data:
 *
 *   threads larson  T [OPS]   each thread replaces the blocks (16..1024 B)
 *                             of a slot array, every slot once per round in
 *                             a random order; after each round the arrays
 *                             move on to the next thread, so that with T > 1
 *                             every free is of a block another thread made
 *   threads prodcon T [OPS]   T = 2: one thread mallocs blocks (16..512 B)
 *                             into a lock-free single-producer single-
 *                             consumer ring, the other checks and frees them
 *                             (every free remote); T = 1: one thread fills
 *                             the ring and drains it, in turns
 *   threads local   T [OPS]   each thread replaces random blocks (16..256 B)
 *                             of its own working set of 1000, shares nothing
 *
 * OPS (the whole run's, split between the threads) counts malloc+free
 * pairs; each workload has a default (below) that run.sh uses.  T is 1 to
 * MAXT (prodcon: 1 or 2).  The threads are all started by main, which
 * only waits, so that T = 1 runs on a started thread as T = 2 does.  The
 * time is the wall time from before the first start to after the last
 * join, filling and emptying the working sets included (under 1 % of the
 * pairs).  One line on stdout:
 *
 *   WORKLOAD threads=T ops=N ns=T ops_per_s=R remote_pct=P
 *
 * remote_pct: the share of frees that freed a block another thread
 * allocated.  Every block gets a tag unique in the run: its first 16 bytes
 * hold the tag and a check word made of the tag, the block's address and
 * its size, and its last byte one more copy (blocks over 16 B).  Whoever
 * frees it checks all three against what it recorded, and its 16-byte
 * alignment, so blocks handed out twice, overlapping, misaligned or
 * overwritten end the run with status 1 and a message, as a NULL from
 * malloc does. */
#define BENCH_THREADS
#include "host.h"

#define MAXT 8
#define LARSON_OPS 4000000u
#define PRODCON_OPS 2000000u
#define LOCAL_OPS 8000000u
#define LARSON_SLOTS 4096u   /* per thread; a round replaces each once */
#define LOCAL_SLOTS 1000u
#define RING 1024u           /* prodcon: entries, a power of two */
#define CACHE_LINE 64

/* One write, so that two threads dying at once do not mix their lines. */
static _Noreturn void die(const char *msg)
{
	char line[160] = "threads: ";
	size_t at = str_len(line);
	while (*msg && at < sizeof line - 1)
		line[at++] = *msg++;
	line[at++] = '\n';
	sys_write(2, line, at);
	quit(1);
}

/* 0..n-1 from a 32-bit random number, without a division. */
static inline uint32_t below(uint32_t r, uint32_t n)
{
	return (uint32_t)(((uint64_t)r * n) >> 32);
}

/* --- Blocks: made, stamped, checked and freed. --- */

#define MAGIC 0x6a09e667f3bcc909ull
#define TAG_THREAD(tag) ((unsigned)((tag) >> 56))

struct slot {
	char *p;
	uint64_t tag;
	uint32_t size;
};

static inline uint64_t check_word(const char *p, uint32_t size, uint64_t tag)
{
	return tag ^ (uint64_t)(uintptr_t)p ^ ((uint64_t)size << 40) ^ MAGIC;
}

static inline char *make(uint32_t size, uint64_t tag)
{
	char *p = malloc(size);
	if (!p)
		die("malloc returned NULL");
	if ((uintptr_t)p & 15)
		die("malloc returned a block not aligned to 16 bytes");
	p[size - 1] = (char)(tag ^ 0x5a);       /* first: a block of 16 B has it in the header */
	uint64_t *w = (uint64_t *)(void *)p;
	w[0] = tag;
	w[1] = check_word(p, size, tag);
	return p;
}

static inline void unmake(char *p, uint32_t size, uint64_t tag)
{
	const uint64_t *w = (const uint64_t *)(const void *)p;
	if (w[0] != tag)
		die("a block's tag changed while it was live (handed out twice?)");
	if (w[1] != check_word(p, size, tag))
		die("a block's check word changed while it was live");
	if (size > 16 && (unsigned char)p[size - 1] != (unsigned char)(tag ^ 0x5a))
		die("a block's last byte changed while it was live (overlapping blocks?)");
	free(p);
}

/* --- What the threads share. --- */

static unsigned nthreads;

struct worker {
	unsigned id;
	uint64_t ops;           /* malloc+free pairs to do */
	uint64_t rng;
	uint64_t seq;           /* the next tag: thread id + 1 in the top byte */
	uint64_t frees, remote;
	thread_t thread;
} __attribute__((aligned(CACHE_LINE)));

static struct worker workers[MAXT];

static inline void relax(unsigned *spins)
{
	if (++*spins < 256)
		__builtin_ia32_pause();
	else
		thread_yield();  /* the other thread may not be running: give it the CPU */
}

/* A spinning barrier for nthreads threads, generation-counted. */
static struct {
	unsigned count __attribute__((aligned(CACHE_LINE)));
	unsigned gen __attribute__((aligned(CACHE_LINE)));
} bar;

static void barrier(void)
{
	unsigned g = __atomic_load_n(&bar.gen, __ATOMIC_ACQUIRE);
	if (__atomic_add_fetch(&bar.count, 1, __ATOMIC_ACQ_REL) == nthreads) {
		__atomic_store_n(&bar.count, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&bar.gen, g + 1, __ATOMIC_RELEASE);
		return;
	}
	for (unsigned spins = 0; __atomic_load_n(&bar.gen, __ATOMIC_ACQUIRE) == g;)
		relax(&spins);
}

static inline void replace(struct worker *w, struct slot *s, uint32_t size)
{
	w->frees++;
	w->remote += TAG_THREAD(s->tag) != w->id + 1;
	unmake(s->p, s->size, s->tag);
	s->size = size;
	s->tag = w->seq++;
	s->p = make(size, s->tag);
}

static inline void fill(struct worker *w, struct slot *s, uint32_t n, uint32_t min, uint32_t span)
{
	for (uint32_t i = 0; i < n; i++) {
		s[i].size = min + below(xorshift(&w->rng), span);
		s[i].tag = w->seq++;
		s[i].p = make(s[i].size, s[i].tag);
	}
}

static inline void empty(struct worker *w, struct slot *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		w->frees++;
		w->remote += TAG_THREAD(s[i].tag) != w->id + 1;
		unmake(s[i].p, s[i].size, s[i].tag);
	}
}

/* --- larson: slot arrays that move from thread to thread. --- */

static struct slot larson_slots[MAXT][LARSON_SLOTS];
static uint32_t larson_order[MAXT][LARSON_SLOTS];

/* Round r: thread id works on array (id + r) % nthreads.  Round 0 fills
 * the thread's own; the last one empties what the previous thread left. */
static void *larson(void *arg)
{
	struct worker *w = arg;
	uint32_t *order = larson_order[w->id];
	uint64_t rounds = w->ops / LARSON_SLOTS, r;

	for (uint32_t i = 0; i < LARSON_SLOTS; i++)
		order[i] = i;
	fill(w, larson_slots[w->id], LARSON_SLOTS, 16, 1009);
	for (r = 1; r <= rounds; r++) {
		barrier();
		struct slot *s = larson_slots[(w->id + r) % nthreads];
		/* Each slot once, in a random order: step k takes one of the
		 * slots not yet taken (Fisher-Yates, as it goes). */
		for (uint32_t k = 0; k < LARSON_SLOTS; k++) {
			uint32_t j = k + below(xorshift(&w->rng), LARSON_SLOTS - k), i = order[j];
			order[j] = order[k];
			order[k] = i;
			replace(w, &s[i], 16 + below(xorshift(&w->rng), 1009));
		}
	}
	barrier();
	empty(w, larson_slots[(w->id + r) % nthreads], LARSON_SLOTS);
	return w;
}

/* --- prodcon: a single-producer single-consumer ring. --- */

static struct {
	uint64_t head __attribute__((aligned(CACHE_LINE)));  /* blocks taken: the consumer's */
	uint64_t tail __attribute__((aligned(CACHE_LINE)));  /* blocks put: the producer's */
	char *slot[RING] __attribute__((aligned(CACHE_LINE)));
} ring;

/* Producer and consumer draw the same sizes from the same seed; the tag
 * is the block's number, so the consumer knows what each must hold. */
#define PRODCON_SEED 0x243f6a8885a308d3ull
#define PRODCON_TAG (1ull << 56)   /* thread 0's */

/* Each side publishes its index every PUBLISH blocks, and before it waits
 * for the other, so that the two do not trade the index's cache line for
 * every block. */
#define PUBLISH 16u

static void produce(uint64_t from, uint64_t to, uint64_t *rng, uint64_t *head_seen)
{
	for (uint64_t n = from; n < to; n++) {
		char *p = make(16 + below(xorshift(rng), 497), PRODCON_TAG | n);
		if (n - *head_seen >= RING) {
			__atomic_store_n(&ring.tail, n, __ATOMIC_RELEASE);
			for (unsigned spins = 0; n - (*head_seen = __atomic_load_n(&ring.head, __ATOMIC_ACQUIRE)) >= RING;)
				relax(&spins);
		}
		ring.slot[n & (RING - 1)] = p;
		if ((n + 1) % PUBLISH == 0)
			__atomic_store_n(&ring.tail, n + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&ring.tail, to, __ATOMIC_RELEASE);
}

static void consume(struct worker *w, uint64_t from, uint64_t to, uint64_t *rng, uint64_t *tail_seen)
{
	for (uint64_t n = from; n < to; n++) {
		if (n >= *tail_seen) {
			__atomic_store_n(&ring.head, n, __ATOMIC_RELEASE);
			for (unsigned spins = 0; n >= (*tail_seen = __atomic_load_n(&ring.tail, __ATOMIC_ACQUIRE));)
				relax(&spins);
		}
		char *p = ring.slot[n & (RING - 1)];
		w->frees++;
		w->remote += w->id != 0;
		unmake(p, 16 + below(xorshift(rng), 497), PRODCON_TAG | n);
		if ((n + 1) % PUBLISH == 0)
			__atomic_store_n(&ring.head, n + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&ring.head, to, __ATOMIC_RELEASE);
}

static uint64_t prodcon_total;

static void *prodcon(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = PRODCON_SEED, seen = 0;

	if (nthreads == 1) {
		uint64_t rng2 = PRODCON_SEED, seen2 = 0;
		for (uint64_t n = 0; n < prodcon_total; n += RING) {
			uint64_t end = n + RING < prodcon_total ? n + RING : prodcon_total;
			produce(n, end, &rng, &seen);
			consume(w, n, end, &rng2, &seen2);
		}
	} else if (w->id == 0)
		produce(0, prodcon_total, &rng, &seen);
	else
		consume(w, 0, prodcon_total, &rng, &seen);
	return w;
}

/* --- local: each thread's own working set. --- */

static struct slot local_slots[MAXT][LOCAL_SLOTS];

static void *local(void *arg)
{
	struct worker *w = arg;
	struct slot *s = local_slots[w->id];

	fill(w, s, LOCAL_SLOTS, 16, 241);
	for (uint64_t k = 0; k < w->ops; k++) {
		uint32_t i = below(xorshift(&w->rng), LOCAL_SLOTS);
		replace(w, &s[i], 16 + below(xorshift(&w->rng), 241));
	}
	empty(w, s, LOCAL_SLOTS);
	return w;
}

/* --- main --- */

static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static uint64_t atou(const char *s)
{
	uint64_t v = 0;
	if (!*s)
		die("empty number");
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			die("not a number");
		v = v * 10 + (uint64_t)(*s - '0');
	}
	return v;
}

int main(int argc, char **argv, char **envp)
{
	(void)envp;
	if (argc != 3 && argc != 4)
		die("usage: threads larson|prodcon|local THREADS [OPS]");
	const char *name = argv[1];
	void *(*fn)(void *);
	uint64_t ops;

	if (same(name, "larson"))
		fn = larson, ops = LARSON_OPS;
	else if (same(name, "prodcon"))
		fn = prodcon, ops = PRODCON_OPS;
	else if (same(name, "local"))
		fn = local, ops = LOCAL_OPS;
	else
		die("unknown workload");
	nthreads = (unsigned)atou(argv[2]);
	if (argc == 4)
		ops = atou(argv[3]);
	if (nthreads < 1 || nthreads > MAXT || (fn == prodcon && nthreads > 2))
		die("THREADS out of range (prodcon: 1 or 2; else 1..8)");

	/* What each thread does: larson whole rounds, at least one. */
	uint64_t per = ops / nthreads;
	if (fn == larson)
		per = per < LARSON_SLOTS ? LARSON_SLOTS : per / LARSON_SLOTS * LARSON_SLOTS;
	if (per == 0)
		die("OPS too small");
	prodcon_total = ops;
	ops = fn == prodcon ? ops : per * nthreads;

	uint64_t t0 = clock_ns();
	for (unsigned i = 0; i < nthreads; i++) {
		struct worker *w = &workers[i];
		w->id = i;
		w->ops = per;
		w->rng = 0x9e3779b97f4a7c15ull * (i + 1);
		w->seq = (uint64_t)(i + 1) << 56;
		if (thread_start(&w->thread, fn, w) != 0)
			die("cannot start a thread");
	}
	uint64_t frees = 0, remote = 0;
	for (unsigned i = 0; i < nthreads; i++) {
		void *ret;
		if (thread_join(workers[i].thread, &ret) != 0 || ret != &workers[i])
			die("cannot join a thread");
		frees += workers[i].frees;
		remote += workers[i].remote;
	}
	uint64_t ns = clock_ns() - t0;
	if (ns == 0)
		ns = 1;

	char out[200];
	size_t at = 0;
	for (const char *k = name; *k; k++)
		out[at++] = *k;
	const char *keys[] = { " threads=", " ops=", " ns=", " ops_per_s=", " remote_pct=" };
	uint64_t v[] = { nthreads, ops, ns, ops * 1000000000u / ns, frees ? remote * 100 / frees : 0 };
	for (unsigned i = 0; i < 5; i++) {
		for (const char *k = keys[i]; *k; k++)
			out[at++] = *k;
		put_u(out, &at, v[i]);
	}
	out[at++] = '\n';
	sys_write(1, out, at);
	return 0;
}

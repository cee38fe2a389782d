/* Resident memory first (docs/DESIGN.md, "Returning memory"): new runs,
 * medium blocks and growth take pages that are already resident before
 * fresh ones, a run reuses its freed blocks before it touches new pages
 * (and a request those of a slightly bigger class), a block
 * grown by realloc leaves no trail of runs, and a big free gives back its
 * pages, its metadata and its arenas.  Addresses and ba_stats say where
 * memory went; the RSS checks run natively only (under qemu-user the RSS is
 * the emulator's). */
#include "t.h"
#include "barealloc.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static struct ba_stats stats(void)
{
	struct ba_stats s;

	ba_stats(&s);
	return s;
}

static int inside(const void *p, const void *lo, size_t len)
{
	return (uintptr_t)p - (uintptr_t)lo < len;
}

static void fill(void *p, size_t n)
{
	memset(p, 0x5a, n);
}

/* A freed medium block's pages serve the next one, and a new run. */
static void test_spans(void)
{
	ba_release_all();
	unsigned char *m = malloc(200 * KiB);
	fill(m, 200 * KiB);
	free(m);
	unsigned char *again = malloc(200 * KiB);
	T_TRUE("a medium block takes the resident pages a freed one left", again == m);
	free(again);
	unsigned char *small = malloc(16);
	T_TRUE("a new run takes resident pages, not fresh ones", inside(small, m, 200 * KiB));
	free(small);
}

/* Runs whose blocks are all free give their pages to a medium block, with
 * no new mapping. */
static void test_empty_runs(void)
{
	enum { N = 1024 };
	static unsigned char *b[N];
	uintptr_t lo = ~(uintptr_t)0, hi = 0;

	ba_release_all();
	for (int i = 0; i < N; i++) {
		fill(b[i] = malloc(1024), 1024);
		lo = (uintptr_t)b[i] < lo ? (uintptr_t)b[i] : lo;
		hi = (uintptr_t)b[i] > hi ? (uintptr_t)b[i] : hi;
	}
	for (int i = 0; i < N; i++)
		free(b[i]);
	unsigned char *m = malloc(512 * KiB);
	T_TRUE("a medium block takes the pages of empty runs, not the arena's clean ones",
	       (uintptr_t)m >= lo && (uintptr_t)m <= hi);
	free(m);
	T_EQ("ba_check", ba_check(), 0);
}

/* A run hands freed blocks out again before never-used ones, but for the
 * never-used ones it was fed already (4 pages' worth at most) and those in
 * quarantine: 300 blocks of 64 bytes freed and asked for again come from
 * the pages of the first 300 and at most 4 pages past them.  Handing out
 * every never-used block first (blocks 300 to 599) would go past them. */
static void test_touched_first(void)
{
	enum { N = 300 };
	static unsigned char *p[N];
	uintptr_t end = 0, reach = 0;

	ba_release_all();
	for (int i = 0; i < N; i++) {
		fill(p[i] = malloc(64), 64);
		end = (uintptr_t)p[i] + 64 > end ? (uintptr_t)p[i] + 64 : end;
	}
	for (int i = 0; i < N; i++)
		free(p[i]);
	for (int i = 0; i < N; i++) {
		unsigned char *q = malloc(64);
		reach = (uintptr_t)q + 64 > reach ? (uintptr_t)q + 64 : reach;
	}
	T_TRUE("300 blocks of 64 B freed and asked for again reach at most 4 pages past the first 300",
	       reach <= ((end + 4095) & ~(uintptr_t)4095) + 4 * 4096);
	ba_release_all();
}

/* A request whose class has no free block takes a freed block of a
 * slightly bigger class (within a quarter) before it touches a new page.
 * 300 blocks of 320 bytes fill one run (204 blocks) and start another, so
 * that a run of freed blocks only is there after the frees. */
static void test_borrow(void)
{
	enum { N = 300 };
	static unsigned char *b[N];

	ba_release_all();
	for (int i = 0; i < N; i++)
		fill(b[i] = malloc(320), 320);
	for (int i = 0; i < N; i++)
		free(b[i]);
	size_t in_use = stats().in_use;
	unsigned char *p = malloc(280);         /* class 288: no run yet */
	T_EQ("malloc(280) takes a freed 320-byte block rather than a new run of 288 (bytes in use)",
	     (long long)(stats().in_use - in_use), 320);
	T_EQ("... its usable size is what was asked", (long long)malloc_usable_size(p), 280);
	fill(p, 280);
	free(p);
	T_EQ("ba_check", ba_check(), 0);
}

/* realloc: a medium block grows in place past 1 MiB; a block grown step
 * by step through every small class leaves no run behind per class. */
static void test_realloc(void)
{
	ba_release_all();
	unsigned char *p = malloc(600 * KiB);
	fill(p, 600 * KiB);
	unsigned long mmaps = stats().mmap_calls;
	unsigned char *q = realloc(p, 3 * MiB);
	T_TRUE("realloc(600 KiB -> 3 MiB) in a fresh arena stays in place", q == p);
	T_EQ("... with no new mapping", (long long)(stats().mmap_calls - mmaps), 0);
	int intact = 1;
	for (size_t i = 0; i < 600 * KiB; i++)
		intact &= q[i] == 0x5a;
	T_TRUE("... and keeps its contents", intact);
	free(q);

	ba_release_all();
	p = malloc(20000);
	int moves = 0;
	for (size_t n = 20000 + 512; n <= 200000; n += 512) {
		q = realloc(p, n);
		moves += q != p;
		p = q;
	}
	T_EQ("a block grown by realloc from 20000 to 200000 bytes by 512 moves once, into a span",
	     (long long)moves, 1);
	free(p);

	ba_release_all();
	size_t rss0 = t_rss();
	p = malloc(16);
	for (size_t n = 32; n <= 64 * KiB; n += n / 16 > 16 ? n / 16 : 16) {
		p = realloc(p, n);
		fill(p, n);
	}
	size_t grown = t_rss() - rss0;
	free(p);
	t_kib("#   a block grown to 64 KiB through every class: RSS grew by ", grown);
	t_nl();
	if (t_under_qemu())
		t_skip("... RSS grows by less than 512 KiB (one run per class would be 1.1 MiB)",
		       "under qemu-user the RSS is the emulator's");
	else
		T_TRUE("... RSS grows by less than 512 KiB (one run per class would be 1.1 MiB)", grown < 512 * KiB);
	T_EQ("ba_check", ba_check(), 0);
}

/* 64 MiB of 64-byte blocks freed: the arenas, their metadata and the
 * pages go back, down to the budget and one kept arena. */
static void test_big_free(void)
{
	ba_release_all();
	size_t rss0 = t_rss();
	void **head = 0;
	for (size_t done = 0; done < 64 * MiB; done += 64) {
		void **p = malloc(64);
		fill(p, 64);
		p[0] = head;
		head = p;
	}
	struct ba_stats peak = stats();
	size_t rss_peak = t_rss();
	while (head) {
		void **next = head[0];
		free(head);
		head = next;
	}
	struct ba_stats after = stats();
	size_t rss_after = t_rss();
	t_kib("#   64 MiB of 64 B blocks: mapped ", peak.mapped), t_kib(" -> ", after.mapped);
	t_kib(", metadata ", peak.meta), t_kib(" -> ", after.meta);
	t_kib(", RSS ", rss_peak), t_kib(" -> ", rss_after);
	t_nl();
	T_TRUE("all freed: at most one arena and 1 MiB of metadata stay mapped", after.mapped <= 4 * MiB + MiB);
	T_TRUE("... dirty within the budget", after.dirty <= after.dirty_limit);
	if (t_under_qemu())
		t_skip("... RSS back to the start + 1 % of the growth + 4 MiB", "under qemu-user the RSS is the emulator's");
	else
		T_TRUE("... RSS back to the start + 1 % of the growth + 4 MiB",
		       rss_after <= rss0 + (rss_peak - rss0) / 100 + 4 * MiB);
	T_EQ("ba_check", ba_check(), 0);
}

/* The budget learns the working set of the cycle that undoes a purge, not
 * what was given back long before: 100 MiB freed once, other work, then 6
 * MiB cycled must not grow the budget to 100 MiB. */
static void test_budget_learns_cycle(void)
{
	enum { BIG = 100, SMALL = 24 };
	static unsigned char *b[BIG];

	ba_release_all();
	for (int i = 0; i < BIG; i++)
		fill(b[i] = malloc(MiB), MiB);
	for (int i = 0; i < BIG; i++)
		free(b[i]);
	for (long i = 0; i < 10000; i++)        /* 20000 span operations, far from that purge */
		free(malloc(100 * KiB));
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < SMALL; i++)
			fill(b[i] = malloc(256 * KiB), 256 * KiB);
		for (int i = 0; i < SMALL; i++)
			free(b[i]);
	}
	size_t budget = stats().dirty_limit;
	t_kib("#   budget after 100 MiB freed once, then 6 MiB cycled: ", budget);
	t_nl();
	T_TRUE("... at most 32 MiB", budget <= 32 * MiB);
	T_EQ("ba_check", ba_check(), 0);
}

/* realloc moves the last live block of a listed run while the heap is one
 * run short of its budget, so that freeing the block starts a purge: the
 * heap stays consistent. */
static void test_realloc_under_purge(void)
{
	static unsigned char *b[65];
	void *m[4];

	ba_release_all();
	for (int i = 0; i < 65; i++)
		b[i] = malloc(1024);
	for (int i = 1; i < 64; i++)
		free(b[i]);
	m[0] = malloc(MiB), m[1] = malloc(MiB), m[2] = malloc(MiB), m[3] = malloc(MiB - 16 * KiB);
	for (int i = 0; i < 4; i++)
		free(m[i]);
	void *q = realloc(b[0], 20000);
	T_TRUE("realloc of a run's last block as a purge starts", q != NULL);
	T_EQ("... ba_check", ba_check(), 0);
	free(q);
	free(b[64]);
	T_EQ("... ba_check after", ba_check(), 0);
}

/* A budget grown by cycling a working set shrinks back once the program
 * stops cycling it: its growth halves after 65536 span operations in which
 * dirty never fell below half the budget. */
static void test_decay(void)
{
	enum { N = 64 };
	static unsigned char *b[N];

	ba_release_all();
	for (int round = 0; round < 3; round++) {           /* 16 MiB of 256 KiB blocks, cycled */
		for (int i = 0; i < N; i++)
			fill(b[i] = malloc(256 * KiB), 256 * KiB);
		for (int i = 0; i < N; i++)
			free(b[i]);
	}
	size_t grown = stats().dirty_limit;
	T_TRUE("cycling 16 MiB grows the budget past 4 MiB", grown > 4 * MiB);
	for (long i = 0; i < 70000; i++)                    /* then 140000 span operations on 100 KiB */
		free(malloc(100 * KiB));
	size_t later = stats().dirty_limit;
	t_kib("#   budget: ", grown), t_kib(" after the cycles, ", later);
	t_s(" after 140000 span operations without one");
	t_nl();
	T_TRUE("... and it shrinks back when the cycles stop", later < grown);
	T_EQ("ba_check", ba_check(), 0);
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	test_spans();
	test_empty_runs();
	test_touched_first();
	test_borrow();
	test_realloc();
	test_big_free();
	test_budget_learns_cycle();
	test_realloc_under_purge();
	test_decay();
	return t_exit_status();
}

/* Use after free cannot steer the allocator or read its state:
 * conformance rows 35 and 36.  Each case runs in a forked child, since it
 * does what C leaves undefined.
 *
 * Row 35: the program writes over a freed block, with the address of a
 * global it would like malloc to return, then allocates the same size many
 * times.  Passing outcomes: no block lands on the global or overlaps
 * another (the free state is out of band or encoded), the child dies of
 * SIGABRT (the write was detected), or it dies of SIGSEGV during the write
 * (the freed memory was no longer mapped).
 * Row 36: a zeroed block is freed and read back, and the next block of the
 * same size is read before it is written: neither may hold a word that
 * points near the heap (a free-list link, a header). */
#include "t.h"
#include "barealloc.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static unsigned char target[64 * KiB] __attribute__((aligned(4096)));
static volatile int *phase;   /* shared with the child: how far it got */

enum { WROTE = 1, ALLOCATED = 2 };
enum { AFTER = 200 };

static int overlaps(uintptr_t a, size_t na, uintptr_t b, size_t nb)
{
	na = na ? na : 1;
	nb = nb ? nb : 1;
	return a < b + nb && b < a + na;
}

/* The child of a row-35 case: 0 when nothing was steered. */
static int steer(size_t n, int how)
{
	static void *v[AFTER];
	void *keep1 = malloc(n), *p = malloc(n), *keep2 = malloc(n);

	free(p);
	for (size_t i = 0; i + sizeof(void *) <= n; i += sizeof(void *))
		*(uintptr_t *)((char *)p + i) = how == 0 ? (uintptr_t)target + 64 :
			how == 1 ? ~(uintptr_t)0 : (uintptr_t)keep1;
	*phase = WROTE;
	for (int i = 0; i < AFTER; i++) {
		v[i] = malloc(n);
		if (!v[i] || ((uintptr_t)v[i] & 15) || overlaps((uintptr_t)v[i], n,
			(uintptr_t)target, sizeof target) || overlaps((uintptr_t)v[i], n,
			(uintptr_t)keep1, n) || overlaps((uintptr_t)v[i], n, (uintptr_t)keep2, n))
			return 1;
		for (int j = 0; j < i; j++)
			if (overlaps((uintptr_t)v[i], n, (uintptr_t)v[j], n))
				return 2;
		memset(v[i], 0x11, n);
	}
	*phase = ALLOCATED;
	return 0;
}

/* Runs fn(n, how) in a child; returns its wait status, or -1. */
static int in_child(int (*fn)(size_t, int), size_t n, int how)
{
	int status = -1;

	*phase = 0;
	long pid = sys_fork();
	if (pid == 0)
		sys_exit_group(fn(n, how));
	if (sys_failed(pid) || sys_failed(sys_wait4((int)pid, &status, 0, 0)))
		return -1;
	return status;
}

static void test_write_after_free(void)
{
	static const size_t sizes[] = { 16, 100, 1000, 30000, 100000, 2 * MiB };
	static const char *const hows[] = {
		"the address of a global", "all ones", "the address of a live neighbour",
	};

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		for (int how = 0; how < 3; how++) {
			int status = in_child(steer, sizes[i], how);
			int sig = status & 0x7f;
			int ok = status == 0 || sig == SIGABRT || (sig == SIGSEGV && *phase == 0);
			char n[160] = "write after free of a ";
			t_cat(t_catu(n, sizeof n, sizes[i]), sizeof n, "-byte block, filled with ");
			t_cat(t_cat(n, sizeof n, hows[how]), sizeof n,
			      ": the next 200 blocks of its size are sound, or it is detected");
			T_TRUE(n, ok);
			if (!ok) {
				t_s("#   child status ");
				t_x((unsigned)status);
				t_s(", phase ");
				t_d(*phase);
				t_nl();
			}
		}
}

/* A word that points within 64 MiB of the block, or of the program's
 * other blocks, is taken for allocator state. */
static uintptr_t lo, hi;

static size_t first_pointer(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i + sizeof(uintptr_t) <= n; i += sizeof(uintptr_t)) {
		uintptr_t w = *(const uintptr_t *)(p + i);
		if (w >= lo && w < hi)
			return i + 1;
	}
	return 0;
}

static void widen(void *p)
{
	uintptr_t a = (uintptr_t)p;
	uintptr_t l = a > 64 * MiB ? a - 64 * MiB : 0;
	uintptr_t h = a < (uintptr_t)-1 - 64 * MiB ? a + 64 * MiB : (uintptr_t)-1;

	lo = !lo || l < lo ? l : lo;
	hi = h > hi ? h : hi;
}

/* The child of a row-36 case: 0 when no freed or fresh block leaks. */
static int leak(size_t n, int unused)
{
	void *v[8];

	(void)unused;
	for (int i = 0; i < 8; i++) {
		v[i] = calloc(1, n);
		widen(v[i]);
	}
	free(v[3]);
	free(v[5]);
	if (first_pointer(v[3], n) || first_pointer(v[5], n))
		return 1;
	*phase = WROTE;
	for (int i = 0; i < 4; i++) {
		unsigned char *q = malloc(n);
		if (first_pointer(q, n))
			return 2;
	}
	*phase = ALLOCATED;
	return 0;
}

static void test_read_after_free(void)
{
	static const size_t sizes[] = { 16, 48, 100, 1000, 5000, 30000, 100000, 2 * MiB };

	widen(target);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		int status = in_child(leak, sizes[i], 0);
		int ok = status == 0 || ((status & 0x7f) == SIGSEGV && *phase == 0);
		char n[160] = "";
		t_cat(t_catu(n, sizeof n, sizes[i]), sizeof n,
		      "-byte blocks: no heap pointer in freed memory, nor in a recycled block");
		T_TRUE(n, ok);
		if (!ok) {
			t_s("#   child status ");
			t_x((unsigned)status);
			t_s(status == 1 << 8 ? " (in a freed block)" : " (in a recycled block)");
			t_nl();
		}
	}
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	t_no_core_files();
	long m = sys_mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sys_failed(m)) {
		T_TRUE("a shared page for the children", 0);
		return t_exit_status();
	}
	phase = (volatile int *)m;
	test_write_after_free();
	test_read_after_free();
	T_EQ("ba_check() in the parent", ba_check(), 0);
	return t_exit_status();
}

/* ba_check and ba_stats only read.  A heap with every structure in use
 * (runs at the head of their bins, listed behind it, empty and full; free
 * and purged spans; medium blocks; large and kept mappings; a second heap)
 * is sealed read-only with the test library's ba_test_seal, in a child,
 * and then checked and counted: any write into allocator state would end
 * the child with SIGSEGV.  A free on the sealed heap shows that the seal
 * does catch writes. */
#include "t.h"
#include "barealloc.h"
#include "hooks.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
enum { N = 3000 };

static void *v[N];
static struct ba_test_heap *hb;
static char out[256];

/* Every kind of run and span at once. */
static void build(void)
{
	uint64_t rng = t_seed("check_ro");

	for (int i = 0; i < N; i++) {
		uint32_t r = (uint32_t)t_rand(&rng);
		size_t n = r % 4 ? 1 + (r >> 4) % 2048 : 1 + (r >> 4) % (300 * KiB);
		v[i] = malloc(i % 500 == 0 ? 2 * MiB + i : n);
	}
	for (int i = 0; i < N; i += 3)          /* full runs get frees: listed behind heads */
		free(v[i]), v[i] = 0;
	for (int i = 1; i < N / 2; i += 3)      /* some runs empty out */
		free(v[i]), v[i] = 0;
	void *big = malloc(5 * MiB);            /* a kept mapping */
	free(big);
	hb = ba_test_heap_new();
	for (int i = 0; i < 100; i++)
		ba_test_heap_malloc(hb, (size_t)i * 97);
}

static int sealed_check(void *arg)
{
	struct ba_stats st;

	(void)arg;
	ba_test_seal(1);
	int code = ba_check();
	ba_stats(&st);
	code |= ba_test_heap_check(hb);
	ba_test_heap_stats(hb, &st);
	return code;
}

static int sealed_free(void *arg)
{
	ba_test_seal(1);
	free(arg);
	return 0;
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	t_no_core_files();
	build();
	T_EQ("ba_check() of the heap, unsealed", ba_check(), 0);
	int status = t_child(sealed_check, 0, out, sizeof out);
	T_EQ("sealed: ba_check, ba_stats and the second heap's check end normally (no signal)",
	     status & 0x7f, 0);
	T_EQ("sealed: ba_check() and the second heap's check find nothing", status >> 8 & 0xff, 0);
	void *p = 0;
	for (int i = N - 1; i >= 0 && !p; i--)
		p = v[i];
	status = t_child(sealed_free, p, out, sizeof out);
	T_EQ("sealed: free of a live block dies of SIGSEGV (the seal catches writes)",
	     status & 0x7f, SIGSEGV);
	T_EQ("ba_check() after the children", ba_check(), 0);
	return t_exit_status();
}

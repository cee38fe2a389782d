/* The fast paths of malloc and free as the library has them (on x86-64,
 * alloc/x86_64/fast.asm) against their C twin (alloc/fast.c, linked here
 * as c_malloc and c_free), in the manner of dav1d's checkasm: from the same
 * heap state, each version makes the same call, and the result and every
 * byte of the run's metadata they change must be the same.  The library's
 * version is called through t_checkcall, which also checks the callee-saved
 * registers, the stack pointer and the direction flag.  Calls that take a
 * slow path (refill, trigger, the choke point) are made but not compared:
 * both versions hand those to the same C functions. */
#include "t.h"
#include "run.h"

void *c_malloc(size_t n);
void c_free(void *p);

enum { OPS = 30000, LIVE = 3000, META_MAX = sizeof(struct run) + RUN_MAX_BLOCKS * sizeof(union slot) };

static void *live[LIVE];
static size_t nlive;
static unsigned char before[META_MAX], after[META_MAX];
static uint64_t rng;
static long compared_malloc, compared_free, slow_calls;
static long bad_result, bad_state, bad_regs;
static char first_bad[160];

static void note_bad(long *count, const char *what, size_t n)
{
	if (!(*count)++ && !first_bad[0])
		t_catu(t_cat(first_bad, sizeof first_bad, what), sizeof first_bad, n);
}

/* fn(arg), the library's malloc or free, through t_checkcall. */
static long call(void *fn, long arg)
{
	t_clobbered = 0;
	long r = t_checkcall(fn, arg, 0, 0, 0, 0, 0, 0);
	if (t_clobbered)
		note_bad(&bad_regs, fn == (void *)malloc ? "registers clobbered by malloc of "
							 : "registers clobbered by free, t_clobbered ",
			 fn == (void *)malloc ? (size_t)arg : (size_t)t_clobbered);
	return r;
}

/* Requests: half of them fill a class exactly (the common case for free's
 * fast path: no canary), the rest anything up to 64 KiB, with a few 0 and
 * medium ones. */
static size_t random_size(void)
{
	uint32_t r = (uint32_t)t_rand(&rng);

	switch (r % 16) {
	case 0:
		return 0;
	case 1:
		return 65536 + (r >> 8) % 100000;
	case 2: case 3: case 4:
		return 1 + (r >> 8) % 65536;
	case 5: case 6: case 7:
		return 1 + (r >> 8) % 256;
	default:
		return _ba_class_size((r >> 8) % NCLASSES);
	}
}

static void check_malloc(size_t n)
{
	struct run *r = n && n <= SMALL_MAX ? heap_current()->bins[size_class(n)] : NULL;

	if (!r || !run_takeable(r)) {
		void *p = (void *)call((void *)malloc, (long)n);
		slow_calls++;
		if (p && nlive < LIVE)
			live[nlive++] = p;
		else
			free(p);
		return;
	}
	size_t meta = run_meta_size(r->mask + 1);
	memcpy(before, r, meta);
	unsigned char *p = (unsigned char *)call((void *)malloc, (long)n);
	memcpy(after, r, meta);
	unsigned char canary_lib = n < r->size ? p[n] : 0;
	memcpy(r, before, meta);
	unsigned char *q = c_malloc(n);
	compared_malloc++;
	if (p != q)
		note_bad(&bad_result, "malloc returned another block for ", n);
	else if (memcmp(after, r, meta) || (n < r->size && p[n] != canary_lib))
		note_bad(&bad_state, "malloc left other metadata or canary for ", n);
	if (nlive < LIVE)
		live[nlive++] = q;
	else
		c_free(q);
}

static void check_free(size_t k)
{
	void *p = live[k];
	struct run *r = run_of((uintptr_t)p);
	uintptr_t idx;

	live[k] = live[--nlive];
	if (!r || !is_run(r) || !run_index(r, (uintptr_t)p, &idx) || r->tail == r->trigger) {
		call((void *)free, (long)p);
		slow_calls++;
		return;
	}
	size_t meta = run_meta_size(r->mask + 1);
	memcpy(before, r, meta);
	call((void *)free, (long)p);
	memcpy(after, r, meta);
	memcpy(r, before, meta);
	c_free(p);
	compared_free++;
	if (memcmp(after, r, meta))
		note_bad(&bad_state, "free left other metadata for a block of ", r->size);
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	rng = t_seed("fast");
	for (long i = 0; i < OPS; i++) {
		uint32_t r = (uint32_t)t_rand(&rng);
		if (nlive && (nlive == LIVE || r % 2))
			check_free((r >> 1) % nlive);
		else
			check_malloc(random_size());
	}
	while (nlive)
		check_free(nlive - 1);
	t_s("# fast: ");
	t_d(compared_malloc), t_s(" mallocs and "), t_d(compared_free);
	t_s(" frees compared, "), t_d(slow_calls), t_s(" calls on slow paths");
	t_nl();
	if (first_bad[0])
		t_s("# first difference: "), t_s(first_bad), t_nl();
	T_EQ("malloc: the same block from both versions", bad_result, 0);
	T_EQ("malloc and free: the same metadata and canary from both versions", bad_state, 0);
	T_EQ("malloc and free: callee-saved registers, stack and direction flag kept", bad_regs, 0);
	T_TRUE("enough calls were compared (at least 5000 mallocs and 5000 frees)",
	       compared_malloc >= 5000 && compared_free >= 5000);
	T_EQ("ba_check() after every block was freed", ba_check(), 0);
	return t_exit_status();
}

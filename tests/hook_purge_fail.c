/* A purge the kernel refuses.  MADV_DONTNEED fails on locked pages (after
 * mlock or mlockall), and those pages keep what they held: they must stay
 * dirty, or calloc would take them for zero.  The test library's
 * ba_test_fail_purges makes every purge fail that way; freed blocks full of
 * 0xaa pass the dirty budget (one block in eight stays live, so that no
 * arena empties and goes back whole), and calloc of the same sizes must
 * still give zeros, with the heap consistent.  Then purges work again and
 * the dirty bytes come down. */
#include "t.h"
#include "barealloc.h"
#include "hooks.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static const size_t sizes[] = { 100, 3000, 60000, 200 * KiB, MiB };
enum { NSIZES = sizeof sizes / sizeof sizes[0], PER = 40 };
static unsigned char *p[NSIZES][PER];

static size_t nonzero(const unsigned char *q, size_t n)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += q[i] != 0;
	return bad;
}

int main(int argc, char **argv, char **envp)
{
	struct ba_stats st;
	size_t bad = 0;
	int ok = 1;

	(void)argc, (void)argv, (void)envp;
	ba_test_fail_purges(1);
	for (int k = 0; k < NSIZES; k++)
		for (int i = 0; i < PER; i++) {
			ok &= (p[k][i] = malloc(sizes[k])) != 0;
			if (p[k][i])
				memset(p[k][i], 0xaa, sizes[k]);
		}
	T_TRUE("40 blocks of each of 100 B .. 1 MiB, filled with 0xaa", ok);
	for (int k = 0; k < NSIZES; k++)
		for (int i = 0; i < PER; i++)
			if (i % 8)
				free(p[k][i]), p[k][i] = 0;
	ba_stats(&st);
	T_TRUE("7/8 freed with purges refused: more dirty bytes than the budget", st.dirty > st.dirty_limit);
	T_TRUE("... and purges were tried", st.madvise_calls > 0);
	T_EQ("ba_check() with the pages still dirty", ba_check(), 0);
	for (int k = 0; k < NSIZES; k++)
		for (int i = 0; i < PER; i++)
			if (!p[k][i]) {
				p[k][i] = calloc(1, sizes[k]);
				bad += p[k][i] ? nonzero(p[k][i], sizes[k]) : sizes[k];
			}
	T_EQ("calloc of the same sizes: every byte zero (non-zero bytes)", bad, 0);
	T_EQ("ba_check() after the callocs", ba_check(), 0);

	ba_test_fail_purges(0);
	for (int k = 0; k < NSIZES; k++)
		for (int i = 0; i < PER; i++)
			free(p[k][i]);
	ba_stats(&st);
	T_TRUE("with purges working again, freeing it all brings dirty within the budget",
	       st.dirty <= st.dirty_limit);
	T_EQ("ba_check() at the end", ba_check(), 0);
	return t_exit_status();
}

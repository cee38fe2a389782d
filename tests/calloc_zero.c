/* calloc memory reads as zero, also when it is recycled: conformance
 * row 7.  barealloc skips the memset for pages it knows are clean (fresh,
 * or purged with MADV_DONTNEED), so every route by which a page can get
 * dirty is tried: small and medium blocks freed and reused, spans freed
 * with and without a purge, the tail an in-place shrink gave back, a span
 * grown into, and large mappings kept for reuse. */
#include "t.h"
#include "barealloc.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static size_t first_nonzero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return i + 1;
	return 0;
}

/* Conformance row 7: dirty blocks of every path, free them, then calloc
 * the same sizes in three shapes; also a many-block round of one class and
 * a large block shrunk by realloc before it was freed. */
static void test_calloc_recycled(void)
{
	static const size_t sizes[] = { 1, 16, 48, 100, 1000, 4096, 5000, 30000, 64 * KiB,
					100000, MiB, 2 * MiB, 4 * MiB + 1 };
	enum { NS = sizeof sizes / sizeof sizes[0], MANY = 500 };
	static unsigned char *v[MANY];
	size_t bad = 0;

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < NS; i++) {
			v[i] = malloc(sizes[i]);
			memset(v[i], 0xa5, sizes[i]);
		}
		for (int i = 0; i < NS; i++)
			free(v[i]);
		for (int i = 0; i < NS; i++) {
			size_t n = sizes[i], quads = n / 4 ? n / 4 : 1;
			v[i] = round == 0 ? calloc(n, 1) : round == 1 ? calloc(1, n) :
				calloc(quads, 4);
			n = round == 2 ? quads * 4 : n;
			if (!v[i] || first_nonzero(v[i], n))
				bad = bad ? bad : n;
		}
		for (int i = 0; i < NS; i++)
			free(v[i]);
	}
	T_EQ("calloc of recycled blocks, every path: all zero (first bad size)", bad, 0);

	for (int i = 0; i < MANY; i++)
		memset(v[i] = malloc(48), 0xff, 48);
	for (int i = 0; i < MANY; i++)
		free(v[i]);
	for (int i = 0; i < MANY; i++)
		if (!(v[i] = calloc(3, 16)) || first_nonzero(v[i], 48))
			bad = bad ? bad : (size_t)i + 1;
	for (int i = 0; i < MANY; i++)
		free(v[i]);
	T_EQ("calloc(3, 16) x 500 after 500 dirty 48-byte blocks: all zero (first bad + 1)", bad, 0);

	unsigned char *p = malloc(4 * MiB);
	memset(p, 0x77, 4 * MiB);
	p = realloc(p, MiB + 1);
	free(p);
	p = calloc(4 * MiB, 1);
	T_EQ("calloc(4 MiB) after a dirty 4 MiB block shrunk and freed: all zero (first bad + 1)",
	     p ? first_nonzero(p, 4 * MiB) : 1, 0);
	free(p);
}
/* calloc skips the memset for pages it knows are clean; memory dirtied by
 * every route must still read as zero: medium spans freed with and without
 * a purge, the tail an in-place shrink gave back, a span grown into, and a
 * kept large mapping. */
static void test_calloc_dirty_paths(void)
{
	enum { N = 40, M = 300000 };
	static unsigned char *v[N];
	size_t bad = 0;

	for (int round = 0; round < 4; round++) {
		int count = round & 1 ? N : N / 2;   /* 12 MB: over the 4 MiB purge budget */
		for (int i = 0; i < count; i++)
			memset(v[i] = malloc(M + (size_t)round * 4096), 0xee, M);
		for (int i = 0; i < count; i++)
			free(v[i]);
		for (int i = 0; i < N; i++) {
			if (!(v[i] = calloc(1, M)) || first_nonzero(v[i], M))
				bad = bad ? bad : (size_t)round * 100 + (size_t)i + 1;
			memset(v[i], 0xdd, M);
		}
		for (int i = 0; i < N; i++)
			free(v[i]);
	}
	T_EQ("calloc of 300000-byte blocks after dirty frees, with and without a purge: all zero "
	     "(first bad 100 round + i + 1)", bad, 0);

	unsigned char *p = malloc(800000), *q;
	memset(p, 0xff, 800000);
	p = realloc(p, 70000);
	q = calloc(1, 700000);
	T_EQ("calloc(700000) after a dirty 800000-byte block shrank to 70000: all zero "
	     "(first bad + 1)", q ? first_nonzero(q, 700000) : 1, 0);
	free(q);
	free(p);
	p = malloc(200000);
	q = malloc(200000);
	memset(q, 0xff, 200000);
	free(q);
	p = realloc(p, 500000);
	memset(p, 0xff, 500000);
	free(p);
	q = calloc(500000, 1);
	T_EQ("calloc(500000) after a dirty block grown in place and freed: all zero (first bad + 1)",
	     q ? first_nonzero(q, 500000) : 1, 0);
	free(q);
	p = malloc(4 * MiB);
	memset(p, 0xff, 4 * MiB);
	free(p);
	q = calloc(1, 3 * MiB + 1);
	T_EQ("calloc(3 MiB + 1) after a dirty 4 MiB block was freed (kept for reuse): all zero "
	     "(first bad + 1)", q ? first_nonzero(q, 3 * MiB + 1) : 1, 0);
	free(q);
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	test_calloc_recycled();
	test_calloc_dirty_paths();
	T_EQ("ba_check() at the end", ba_check(), 0);
	return t_exit_status();
}

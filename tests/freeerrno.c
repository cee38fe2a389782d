/* free never changes errno, on any path: conformance rows 27 and 28.
 * The paths: NULL, every kind of block (small, medium, large, zero-sized,
 * aligned, page-aligned, calloc'd, moved by realloc), frees that empty a
 * whole span or return memory to the kernel, and, natively, frees made
 * while the kernel's table of mappings is full, so that any munmap that
 * would split a mapping fails with ENOMEM (tst-free-errno's idea). */
#include "t.h"
#include "barealloc.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static size_t page;

/* Frees p with errno set to a sentinel; returns whether errno survived. */
static int free_keeps(void *p, int sentinel)
{
	errno = sentinel;
	free(p);
	return errno == sentinel;
}

static void test_null(void)
{
	static const int sentinels[] = { 0, 12345, ENOMEM, EINVAL, -1 };

	for (size_t i = 0; i < sizeof sentinels / sizeof sentinels[0]; i++)
		T_TRUE(t_name("free(NULL) leaves errno = ", sentinels[i], " alone"),
		       free_keeps(0, sentinels[i]));
}

/* One block of each kind, freed with errno = 12345. */
static void test_kinds(void)
{
	static const size_t sizes[] = { 0, 1, 100, 1000, 5000, 30000, 64 * KiB, 64 * KiB + 1,
					100000, MiB, MiB + 1, 4 * MiB + 1 };
	int bad = 0;

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];
		bad += !free_keeps(malloc(n), 12345);
		bad += !free_keeps(calloc(n, 1), 12345);
		bad += !free_keeps(memalign(4096, n), 12345);
		bad += !free_keeps(aligned_alloc(64 * KiB, n), 12345);
		bad += !free_keeps(valloc(n), 12345);
		bad += !free_keeps(pvalloc(n), 12345);
		bad += !free_keeps(realloc(malloc(n), n * 2 + 1), 12345);
		bad += !free_keeps(realloc(malloc(n * 2 + 1), n), 12345);
	}
	T_EQ("free of malloc, calloc, memalign, aligned_alloc, valloc, pvalloc and realloc "
	     "blocks of 12 sizes leaves errno alone (failures)", bad, 0);

	errno = 0;
	void *none = malloc(SIZE_MAX);
	void *p = malloc(100);
	errno = ENOMEM;
	free(p);
	T_TRUE("after a failed malloc, free leaves errno = ENOMEM alone", !none && errno == ENOMEM);
}

/* Frees in bulk, so that spans empty and memory goes back to the kernel:
 * 64 MiB of one size at a time, freed in two interleaved halves. */
static void test_bulk(void)
{
	static const size_t sizes[] = { 16, 1000, 30000, 200000, 2 * MiB };
	enum { MAX = 4096 };
	static void *v[MAX];
	int bad = 0;

	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		size_t count = 64 * MiB / sizes[s];
		count = count < MAX ? count : MAX;
		for (size_t i = 0; i < count; i++)
			v[i] = malloc(sizes[s]);
		for (size_t i = 0; i < count; i += 2)
			bad += !free_keeps(v[i], 12345);
		for (size_t i = 1; i < count; i += 2)
			bad += !free_keeps(v[i], EINVAL);
	}
	T_EQ("free of 64 MiB in blocks of 16 B, 1000 B, 30000 B, 200 KB and 2 MiB, emptying "
	     "whole spans, leaves errno alone (failures)", bad, 0);
	T_EQ("ba_check() after the bulk frees", ba_check(), 0);
}

/* In a child: maps single pages of alternating protection (so that no two
 * merge) until the kernel refuses with ENOMEM; returns how many. */
static long fill_map_table(void)
{
	long count = 0;

	for (; count < 400000; count++) {
		int prot = (count & 1) ? PROT_READ : PROT_READ | PROT_WRITE;
		long m = sys_mmap(0, page, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (sys_failed(m))
			return m == -ENOMEM ? count : -1;
	}
	return -1;
}

/* The child's exit status: how many frees changed errno, + 100 if
 * ba_check() then fails, 120 if the map table never filled. */
static int child_with_full_map_table(void)
{
	static const size_t sizes[] = { 16, 1000, 30000, 100000, 200000, 2 * MiB, 8 * MiB };
	enum { PER = 64, NS = sizeof sizes / sizeof sizes[0] };
	static void *v[NS][PER];
	int bad = 0;

	for (int s = 0; s < NS; s++)
		for (int i = 0; i < PER; i++)
			v[s][i] = malloc(sizes[s]);
	void *grown = malloc(8 * MiB);
	if (fill_map_table() < 0)
		return 120;
	for (int s = 0; s < NS; s++) {
		for (int i = 1; i < PER; i += 2)   /* holes first: splits */
			bad += !free_keeps(v[s][i], 12345);
		for (int i = 0; i < PER; i += 2)
			bad += !free_keeps(v[s][i], ENOMEM);
	}
	errno = 12345;
	grown = realloc(grown, MiB + 1);   /* a shrink that unmaps a tail */
	bad += !free_keeps(grown, 12345);
	bad = bad > 99 ? 99 : bad;
	return bad + (ba_check() != 0 ? 100 : 0);
}

/* vm.max_map_count, or 0 if unreadable. */
static long max_map_count(void)
{
	char buf[32] = { 0 };
	long fd = sys_openat(AT_FDCWD, "/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC, 0);
	long n = 0;

	if (sys_failed(fd))
		return 0;
	if (sys_read((int)fd, buf, sizeof buf - 1) <= 0)
		buf[0] = 0;
	sys_close((int)fd);
	for (const char *c = buf; *c >= '0' && *c <= '9'; c++)
		n = n * 10 + (*c - '0');
	return n;
}

static void test_full_map_table(void)
{
	const char *what = "with the kernel's map table full, free keeps errno on every path "
			   "and ba_check() passes (child status)";
	int status = -1;

	if (t_under_qemu()) {
		t_skip(what, "qemu-user maps its own memory too and would fail first");
		return;
	}
	long limit = max_map_count();
	if (limit <= 0 || limit > 300000) {
		t_skip(what, "vm.max_map_count is unreadable or above 300000 (too many to fill)");
		return;
	}
	long pid = sys_fork();
	if (pid == 0)
		sys_exit_group(child_with_full_map_table());
	if (sys_failed(pid) || sys_failed(sys_wait4((int)pid, &status, 0, 0)))
		status = -1;
	T_EQ(what, status, 0);
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	page = ba_getauxval(AT_PAGESZ);
	test_null();
	test_kinds();
	test_bulk();
	test_full_map_table();
	T_EQ("ba_check() at the end", ba_check(), 0);
	return t_exit_status();
}

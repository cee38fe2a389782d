/* Address-space exhaustion (CONFORMANCE rows 4, 38, 50).
 *
 * i386 has 4 GiB of address space at most, so it is exhausted for real,
 * natively and under qemu-i386.  x86-64 is exhausted under RLIMIT_AS = 1 GiB
 * in a forked child (natively only: qemu-user keeps RLIMIT_AS to itself,
 * since it would limit the emulator).  Either way: fill the space with
 * blocks from 64 MiB down to 1 KiB until malloc fails, check that every
 * member of the family then fails with ENOMEM and the heap stays
 * consistent, that freed space is reused, and that after freeing
 * everything the same space can be filled again. */
#include "t.h"
#include "barealloc.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define MAXBLOCKS 32768

static unsigned char *blocks[MAXBLOCKS];
static size_t sizes[MAXBLOCKS];
static uint32_t nblocks;


/* ---- Filling the address space. ---- */
static const size_t levels[] = {
	64 * MiB, 16 * MiB, 4 * MiB, MiB + 1,   /* large */
	MiB, 256 * KiB, 64 * KiB + 1,             /* medium */
	16 * KiB, KiB,                            /* small */
};
#define NLEVELS (sizeof levels / sizeof levels[0])

struct fill {
	uint64_t bytes;
	uint32_t first_medium;   /* index of a 256 KiB block, or MAXBLOCKS */
	int bad_errno;           /* failures whose errno was not ENOMEM */
};

static struct fill fill_space(void)
{
	struct fill f = { 0, MAXBLOCKS, 0 };

	for (uint32_t l = 0; l < NLEVELS && nblocks < MAXBLOCKS; l++) {
		for (;;) {
			errno = 0;
			unsigned char *p = malloc(levels[l]);
			if (!p) {
				f.bad_errno += errno != ENOMEM;
				break;
			}
			p[0] = p[levels[l] - 1] = (unsigned char)l;  /* the block is really there */
			if (levels[l] == 256 * KiB && f.first_medium == MAXBLOCKS)
				f.first_medium = nblocks;
			sizes[nblocks] = levels[l];
			blocks[nblocks++] = p;
			f.bytes += levels[l];
			if (nblocks == MAXBLOCKS)
				break;
		}
	}
	return f;
}

static void free_all(void)
{
	while (nblocks) {
		nblocks--;
		free(blocks[nblocks]);
	}
}

/* ---- Every member of the family, for a size that cannot be met. ---- */
enum { F_MALLOC, F_CALLOC, F_REALLOC, F_REALLOCARRAY, F_MEMALIGN, F_POSIX_MEMALIGN,
       F_ALIGNED_ALLOC, F_VALLOC, F_PVALLOC, NFAM };
static const char *const fam_name[NFAM] = {
	": malloc gives NULL + ENOMEM", ": calloc gives NULL + ENOMEM",
	": realloc gives NULL + ENOMEM and keeps the block",
	": reallocarray gives NULL + ENOMEM and keeps the block",
	": memalign(4096) gives NULL + ENOMEM", ": posix_memalign(64) returns ENOMEM, p untouched",
	": aligned_alloc(64) gives NULL + ENOMEM", ": valloc gives NULL + ENOMEM",
	": pvalloc gives NULL + ENOMEM",
};

/* Calls member f for n bytes; old is a live 100-byte block full of 0x5A for
 * the realloc members, which must leave it untouched when they fail. */
static int fails_enomem(int f, size_t n, unsigned char **old)
{
	void *p = 0, *sentinel = &p;

	errno = 0;
	switch (f) {
	case F_MALLOC: p = malloc(n); break;
	case F_CALLOC: p = calloc(n, 1); break;
	case F_REALLOC: p = realloc(*old, n); break;
	case F_REALLOCARRAY: p = reallocarray(*old, n, 1); break;
	case F_MEMALIGN: p = memalign(4096, n); break;
	case F_POSIX_MEMALIGN: {
		p = sentinel;
		int r = posix_memalign(&p, 64, n);
		if (r == ENOMEM && p == sentinel)
			return 1;
		if (r == 0)
			free(p);
		return 0;
	}
	case F_ALIGNED_ALLOC: p = aligned_alloc(64, n); break;
	case F_VALLOC: p = valloc(n); break;
	case F_PVALLOC: p = pvalloc(n); break;
	}
	if (p && (f == F_REALLOC || f == F_REALLOCARRAY))
		*old = p;   /* it wrongly succeeded: the old block is gone */
	else if (p)
		free(p);
	return !p && errno == ENOMEM;
}

static int old_intact(const unsigned char *old)
{
	for (int i = 0; i < 100; i++)
		if (old[i] != 0x5A)
			return 0;
	return 1;
}

/* One line per member: every size in ns[] fails with NULL + ENOMEM. */
static void family_fails(const char *context, const size_t *ns, int count)
{
	char ctx[200];   /* context may be one of cat's buffers, which rotate */
	unsigned char *old = malloc(100);

	ctx[0] = 0;
	for (size_t i = 0; context[i] && i < sizeof ctx - 1; i++)
		ctx[i] = context[i], ctx[i + 1] = 0;
	if (!T_TRUE(t_join(ctx, ": a 100-byte block for realloc"), old != 0))
		return;
	memset(old, 0x5A, 100);
	for (int f = 0; f < NFAM; f++) {
		int ok = 1;
		for (int i = 0; i < count; i++)
			ok &= fails_enomem(f, ns[i], &old);
		if (f == F_REALLOC || f == F_REALLOCARRAY)
			ok &= old_intact(old);
		T_TRUE(t_join(ctx, fam_name[f]), ok);
	}
	free(old);
	T_EQ(t_join(ctx, ": ba_check() after the failed calls"), ba_check(), 0);
}

/* ---- The suite; `big` is a block a quarter of the space or so. ---- */
static void big_cycles(const char *ctx, size_t big)
{
	struct ba_stats st;
	size_t mapped_first = 0;
	int ok = 1;

	for (int i = 0; i < 10; i++) {
		unsigned char *p = malloc(big);
		ok &= p != 0;
		if (p)
			p[0] = p[big - 1] = 1;
		free(p);
		ba_stats(&st);
		if (i == 0)
			mapped_first = st.mapped;
	}
	T_TRUE(t_join(ctx, t_name(": malloc/free of ", (long long)(big >> 20), " MiB 10 times")), ok);
	T_TRUE(t_join(ctx, ": the cycles reuse address space (stats.mapped does not grow)"),
	       st.mapped <= mapped_first);
}

static void overflows(const char *ctx)
{
	errno = 0;
	void *p = calloc(65536, 65537);
	T_TRUE(t_join(ctx, ": calloc(65536, 65537) gives NULL + ENOMEM"), !p && errno == ENOMEM);
	free(p);
	errno = 0;
	p = memalign((size_t)1 << 31, 1);
	T_TRUE(t_join(ctx, ": memalign(2^31, 1) is aligned to 2^31, or NULL + ENOMEM"),
	       p ? ((uintptr_t)p & (((uintptr_t)1 << 31) - 1)) == 0 : errno == ENOMEM);
	free(p);
}

static void at_exhaustion(const char *ctx, struct fill *f)
{
	static const size_t big[] = { 64 * MiB };

	T_EQ(t_join(ctx, ": every failed malloc set errno to ENOMEM"), f->bad_errno, 0);
	T_EQ(t_join(ctx, ": ba_check() when exhausted"), ba_check(), 0);
	family_fails(t_join(ctx, " exhausted, 64 MiB"), big, 1);
	if (f->first_medium < MAXBLOCKS) {   /* libc-test malloc-brk-fail */
		free(blocks[f->first_medium]);
		blocks[f->first_medium] = malloc(10000);
		sizes[f->first_medium] = 10000;
		T_TRUE(t_join(ctx, ": after freeing a 256 KiB block, malloc(10000) works"),
		       blocks[f->first_medium] != 0);
	}
	/* Address reuse: a freed 64 MiB block can be taken and given back over and over. */
	int ok = sizes[0] == 64 * MiB;
	if (ok) {
		free(blocks[0]);
		for (int i = 0; i < 10; i++) {
			blocks[0] = malloc(64 * MiB);
			ok &= blocks[0] != 0;
			free(blocks[0]);
		}
		blocks[0] = malloc(64 * MiB);
		ok &= blocks[0] != 0;
	}
	T_TRUE(t_join(ctx, ": when exhausted, free + malloc of 64 MiB works 10 times"), ok);
}

static void suite(const char *ctx, size_t big)
{
	struct ba_stats st;

	overflows(ctx);
	big_cycles(ctx, big);
	struct fill first = fill_space();
	t_s("# ");
	t_s(ctx);
	t_s(": filled ");
	t_d((long long)(first.bytes >> 20));
	t_s(" MiB in ");
	t_d(nblocks);
	t_s(" blocks");
	t_nl();
	T_TRUE(t_join(ctx, ": malloc eventually fails"), nblocks < MAXBLOCKS && first.bytes > 0);
	at_exhaustion(ctx, &first);
	free_all();
	ba_stats(&st);
	T_TRUE(t_join(ctx, ": after freeing everything, ba_check() == 0 and no live block"),
	       ba_check() == 0 && st.live_blocks == 0 && st.requested == 0);
	struct fill again = fill_space();
	/* Freed space must come back: 15/16 of the first fill, without a division. */
	T_TRUE(t_join(ctx, ": the same space can be filled again"), again.bytes * 16 >= first.bytes * 15);
	free_all();
	void *a = malloc(100), *b = malloc(300 * KiB), *c = malloc(3 * MiB);
	T_TRUE(t_join(ctx, ": small, medium and large malloc work after exhaustion"),
	       a && b && c && ba_check() == 0);
	free(a), free(b), free(c);
}

#if __SIZEOF_SIZE_T__ == 8
/* ---- x86-64: a child under RLIMIT_AS. ---- */
__attribute__((noinline)) static void grow_stack(void)
{
	volatile char buf[256 * 1024];   /* the stack must not need to grow at exhaustion */

	for (size_t i = 0; i < sizeof buf; i += 4096)
		buf[i] = 0;
}

static void limited_child(void)
{
	static const size_t huge[] = { (size_t)1 << 31, (size_t)1 << 40, (size_t)1 << 50 };
	struct ba_rlimit lim;

	grow_stack();
	sys_prlimit64(0, RLIMIT_AS, 0, &lim);
	lim.rlim_cur = (size_t)1 << 30;
	if (!T_EQ("prlimit64 sets RLIMIT_AS to 1 GiB", sys_prlimit64(0, RLIMIT_AS, &lim, 0), 0))
		return;
	family_fails("RLIMIT_AS 1 GiB, sizes 2^31, 2^40, 2^50", huge, 3);
	suite("RLIMIT_AS 1 GiB", 256 * MiB);
}

static void x86_64_main(void)
{
	static const size_t huge[] = { (size_t)1 << 48, (size_t)1 << 50, (size_t)1 << 62 };

	family_fails("no limit, sizes 2^48, 2^50, 2^62 (beyond the 47-bit user space)", huge, 3);
	if (t_under_qemu()) {
		t_skip("exhaustion under RLIMIT_AS 1 GiB",
		       "qemu-user does not pass RLIMIT_AS to the host (it would limit the emulator)");
		return;
	}
	int status = -1;
	long pid = sys_fork();
	if (pid == 0) {
		limited_child();
		sys_exit_group(t_exit_status());
	}
	if (!sys_failed(pid))
		sys_wait4((int)pid, &status, 0, 0);
	T_TRUE("the RLIMIT_AS child ran to the end", status >= 0 && (status & 0x7f) == 0);
	if (status > 0 && (status & 0x7f) == 0)
		t_failures += status >> 8;   /* its [FAIL] lines are already out */
}

#else
static void i386_main(void)
{
	static const size_t huge[] = {
		(size_t)1 << 31, ((size_t)1 << 31) + 1, (size_t)3 << 30,
		SIZE_MAX - 65536, SIZE_MAX - 4096, SIZE_MAX - 16, SIZE_MAX,
	};
	const char *ctx = "i386";

	family_fails("i386, sizes 2^31 to 2^32-1", huge, 7);
	for (int k = 512; k <= 1024; k += 512) {
		void *p = malloc((size_t)k * MiB);
		T_TRUE(t_join(ctx, t_name(": a fresh ", k, " MiB block")), p != 0);
		free(p);
	}
	suite(ctx, 1024 * MiB);
}
#endif

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
#if __SIZEOF_SIZE_T__ == 8
	x86_64_main();
#else
	i386_main();
#endif
	return t_exit_status();
}

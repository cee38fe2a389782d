/* Misuse of pools in the default mode (no BA_POOL_REPORT): each bad call
 * is made alone in a forked child, and passes when the child dies of
 * SIGABRT after writing exactly one line on fd 2,
 *   barealloc: <function>(<the pointer, 0x lowercase hex>): <reason>
 * for ba_pool_free, ba_pool_realloc and ba_pool_usable_size of a block of
 * another pool or of malloc's heap, a pointer barealloc never gave, a
 * freed block, a pointer inside a block and a block written past its end;
 * for free, realloc and malloc_usable_size of a pool's block; and for a
 * handle that is no live pool.  The
 * parent prepares every case, so it knows the address to expect, and its
 * pools must be untouched at the end.
 *
 * tests/hook_pool_misuse.c builds this file again with POOL_SEALED against
 * the test library: the child seals barealloc's metadata read-only just
 * before the bad call, so that a check that wrote anything before it
 * rejected the pointer would die of SIGSEGV instead. */
#include "t.h"
#include "ba_pool.h"
#ifdef POOL_SEALED
#include "hooks.h"
#endif

#define MiB ((size_t)1 << 20)

enum call { POOL_FREE, POOL_REALLOC, POOL_USABLE, FREE, REALLOC, USABLE };
static const char *const call_name[] = {
	"ba_pool_free", "ba_pool_realloc", "ba_pool_usable_size", "free", "realloc", "malloc_usable_size",
};

/* What each reason's message says, at least. */
static const char *const keyword[] = {
	[BA_POOL_FOREIGN] = "invalid pointer", [BA_POOL_INTERIOR] = "not the start of a block",
	[BA_POOL_DOUBLE] = "double free", [BA_POOL_OVERFLOW] = "overflow", [BA_POOL_OTHER] = "another",
};

static size_t page;
static ba_pool *pa, *pb;   /* a region pool and a mapped pool, both aborting on misuse */
static unsigned char region[96 * 4096] __attribute__((aligned(4096)));
static char out[1024];     /* the child's fd 2 */

struct bad {
	enum call fn;
	ba_pool *pool;
	void *p;
};

#ifdef POOL_SEALED
/* Every byte of metadata read-only but the pool's own header: a call on a
 * pool takes its lock, and clears its error, before it looks at the
 * pointer.  The header is what a ba_pool * points to, a heap of about
 * 2 KiB; the two pages from its start are left writable.  A write to a
 * block's state, a run or a span still faults. */
static void seal_but_lock(ba_pool *pool)
{
	uintptr_t at = (uintptr_t)pool & ~(uintptr_t)(page - 1);

	ba_test_seal(1);
	if (pool)
		sys_mprotect((void *)at, 2 * page, PROT_READ | PROT_WRITE);
}
#endif

/* The child: the bad call, alone.  Returning means it was accepted. */
static int bad_call(void *arg)
{
	const struct bad *b = arg;

#ifdef POOL_SEALED
	seal_but_lock(b->pool);
#endif
	switch (b->fn) {
	case POOL_FREE: (void)ba_pool_free(b->pool, b->p); break;
	case POOL_REALLOC: (void)ba_pool_realloc(b->pool, b->p, 5000); break;
	case POOL_USABLE: (void)ba_pool_usable_size(b->pool, b->p); break;
	case FREE: free(b->p); break;
	case REALLOC: (void)realloc(b->p, 5000); break;
	case USABLE: (void)malloc_usable_size(b->p); break;
	}
	return 99;
}

static void show_child(int status)
{
	t_s("#   child status "), t_x((unsigned)status), t_s(", fd 2: \"");
	for (size_t i = 0; out[i] && i < 300; i++) {
		char c[2] = { out[i] == '\n' ? '|' : out[i], 0 };
		t_s(c);
	}
	t_s("\""), t_nl();
}

/* fn(pool, p) must abort with the message of code. */
static void expect(const char *what, enum call fn, ba_pool *pool, void *p, int code)
{
	struct bad b = { fn, pool, p };
	char head[200] = "", want[96] = "barealloc: ";

	t_cat(t_cat(t_cat(head, sizeof head, call_name[fn]), sizeof head, " of "), sizeof head, what);
	t_cat(t_catx(t_cat(t_cat(want, sizeof want, call_name[fn]), sizeof want, "("), sizeof want,
		     (uintptr_t)p), sizeof want, "): ");
	int status = t_child(bad_call, &b, out, sizeof out);
	int ok = T_EQ(t_join(head, ": the child dies of SIGABRT"), status & 0x7f, SIGABRT);
	ok &= T_TRUE(t_join(head, t_join(": one line `barealloc: fn(p): ", t_join(keyword[code], "...`"))),
		     t_one_line(out, want, keyword[code]));
	if (!ok)
		show_child(status);
}

/* The three calls of pool pa on p. */
static void expect_pool(const char *what, void *p, int code)
{
	for (int fn = POOL_FREE; fn <= POOL_USABLE; fn++)
		expect(what, (enum call)fn, pa, p, code);
}

static unsigned char global_block[64] __attribute__((aligned(64)));

static void test_other(void)
{
	unsigned char *theirs = ba_pool_malloc(pb, 100), *heap = malloc(100), *ours = ba_pool_malloc(pa, 100);
	unsigned char *big = ba_pool_malloc(pa, 200000);

	if (!T_TRUE("blocks in both pools and malloc's heap", theirs && heap && ours && big))
		return;

	expect_pool("a block of another pool", theirs, BA_POOL_OTHER);
	expect_pool("a block of malloc's heap", heap, BA_POOL_OTHER);
	for (int fn = FREE; fn <= USABLE; fn++) {
		expect("a 100-byte block of a region pool", (enum call)fn, 0, ours, BA_POOL_OTHER);
		expect("a 200000-byte block of a region pool", (enum call)fn, 0, big, BA_POOL_OTHER);
		expect("a block of a mapped pool", (enum call)fn, 0, theirs, BA_POOL_OTHER);
	}
	expect("a region pool's block through a mapped pool", POOL_FREE, pb, ours, BA_POOL_OTHER);
	ba_pool_free(pb, theirs);
	ba_pool_free(pa, ours);
	ba_pool_free(pa, big);
	free(heap);
}

static void test_foreign(void)
{
	unsigned char stack_block[64] __attribute__((aligned(64)));

	stack_block[0] = 1;
	expect_pool("a stack address", stack_block, BA_POOL_FOREIGN);
	expect_pool("a global", global_block, BA_POOL_FOREIGN);
	expect_pool("(void *)16", (void *)16, BA_POOL_FOREIGN);
	expect_pool("the region's first byte, before the pool's first whole page", region + 10,
		    BA_POOL_FOREIGN);
}

static void test_double(void)
{
	void *small = ba_pool_malloc(pa, 100), *medium = ba_pool_malloc(pa, 200000);
	void *keep = ba_pool_malloc(pa, 100);

	ba_pool_free(pa, small);
	ba_pool_free(pa, medium);
	expect_pool("a freed 100-byte block", small, BA_POOL_DOUBLE);
	expect_pool("a freed 200000-byte block", medium, BA_POOL_DOUBLE);
	void *moved = ba_pool_malloc(pa, 100), *old = moved;
	moved = ba_pool_realloc(pa, moved, 300000);
	if (moved != old)
		expect("the old pointer of a block that realloc moved", POOL_FREE, pa, old, BA_POOL_DOUBLE);
	ba_pool_free(pa, moved);
	ba_pool_free(pa, keep);
}

static void test_interior(void)
{
	static const size_t sizes[] = { 100, 5000, 200000 };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		unsigned char *p = ba_pool_malloc(pa, sizes[i]);
		expect_pool(t_name("p + 16, p a ", (long long)sizes[i], "-byte block"), p + 16, BA_POOL_INTERIOR);
		expect(t_name("p + 1, p a ", (long long)sizes[i], "-byte block"), POOL_FREE, pa, p + 1,
		       BA_POOL_INTERIOR);
		if (sizes[i] > page)
			expect(t_name("p + page, p a ", (long long)sizes[i], "-byte block"), POOL_FREE, pa,
			       p + page, BA_POOL_INTERIOR);
		ba_pool_free(pa, p);
	}
}

/* k bytes written past an n-byte block; put back before the parent frees it. */
static void overflow(size_t n, size_t k)
{
	unsigned char *p = ba_pool_malloc(pa, n), saved[8];
	char what[96] = "";

	for (size_t i = 0; i < k; i++)
		saved[i] = p[n + i], p[n + i] = (unsigned char)~p[n + i];
	t_cat(t_catu(t_cat(t_catu(what, sizeof what, n), sizeof what, "-byte block after a write of "),
		     sizeof what, k), sizeof what, " byte(s) past its end");
	expect(what, POOL_FREE, pa, p, BA_POOL_OVERFLOW);
	expect(what, POOL_REALLOC, pa, p, BA_POOL_OVERFLOW);
	for (size_t i = 0; i < k; i++)
		p[n + i] = saved[i];
	ba_pool_free(pa, p);
}

static void test_overflow(void)
{
	overflow(24, 1);
	overflow(100, 1);
	overflow(100, 8);
	overflow(5000, 1);
	overflow(200000, 1);
	unsigned char *p = ba_pool_realloc(pa, ba_pool_malloc(pa, 100), 200);
	p[200] = (unsigned char)~p[200];
	expect("a block reallocated from 100 to 200 bytes, written 1 byte past", POOL_FREE, pa, p,
	       BA_POOL_OVERFLOW);
	p[200] = (unsigned char)~p[200];
	ba_pool_free(pa, p);
}

/* The harness itself: a good call in a child is not reported. */
static void test_control(void)
{
	void *p = ba_pool_malloc(pa, 100);
	struct bad b = { POOL_FREE, pa, p };
	int status = t_child(bad_call, &b, out, sizeof out);

#ifdef POOL_SEALED
	T_EQ("control: a good ba_pool_free on sealed metadata writes, so it dies of SIGSEGV",
	     status & 0x7f, SIGSEGV);
#else
	T_EQ("control: a good ba_pool_free in a child exits normally", status, 99 << 8);
	T_EQ("control: a good ba_pool_free writes nothing on fd 2", t_strlen(out), 0);
#endif
	ba_pool_free(pa, p);
}

/* A handle that is no live pool: NULL, any other memory, a destroyed pool. */
static int handle_call(void *pool)
{
#ifdef POOL_SEALED
	ba_test_seal(1);
#endif
	(void)ba_pool_malloc(pool, 10);
	return 99;
}

static void test_handle(void)
{
	static uintptr_t fake[64];
	ba_pool *gone = ba_pool_new(MiB, 0), *pools[] = { 0, (ba_pool *)fake, gone };
	static const char *const what[] = { "NULL", "a static array", "a destroyed pool" };

	ba_pool_destroy(gone);
	for (int i = 0; i < 3; i++) {
		char head[96] = "ba_pool_malloc of ", want[96] = "barealloc: ba_pool_malloc(";
		t_cat(head, sizeof head, what[i]);
		t_cat(t_catx(want, sizeof want, (uintptr_t)pools[i]), sizeof want, "): ");
		int status = t_child(handle_call, pools[i], out, sizeof out);
		int ok = T_EQ(t_join(head, ": the child dies of SIGABRT"), status & 0x7f, SIGABRT);
		ok &= T_TRUE(t_join(head, ": one line `barealloc: ba_pool_malloc(p): not a pool`"),
			     t_one_line(out, want, "not a pool"));
		if (!ok)
			show_child(status);
	}
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	page = ba_getauxval(AT_PAGESZ);
	t_no_core_files();
	pa = ba_pool_new_in(region + 10, sizeof region - 10, 0);
	pb = ba_pool_new(MiB, 0);
	if (!T_TRUE("a region pool and a mapped pool", pa && pb))
		return t_exit_status();
	test_control();
	test_other();
	test_foreign();
	test_double();
	test_interior();
	test_overflow();
	test_handle();
	struct ba_stats sa, sb;
	ba_pool_stats(pa, &sa);
	ba_pool_stats(pb, &sb);
	T_TRUE("in the parent after every case: both pools empty and clean",
	       sa.live_blocks == 0 && sb.live_blocks == 0 && ba_pool_check(pa) == 0 && ba_pool_check(pb) == 0);
	T_EQ("ba_check() of malloc's heap", ba_check(), 0);
	ba_pool_destroy(pa);
	ba_pool_destroy(pb);
	return t_exit_status();
}

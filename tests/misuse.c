/* Misuse that C leaves undefined ends the process: conformance rows 29-32
 * and 34.  Each case makes one bad call, free, realloc or
 * malloc_usable_size, in a forked child, and passes when the child dies of
 * SIGABRT after writing exactly one line on fd 2:
 *   barealloc: <function>(<the pointer, 0x lowercase hex>): <reason>
 * where the reason names what is wrong: "double free", "invalid pointer",
 * "not the start of a block" or "overflow".
 *
 * The parent prepares every case (the child only makes the bad call), so it
 * knows the address to expect and can clean up afterwards.
 * tests/hook_misuse.c builds this file again with MISUSE_SEALED against the
 * test library: there the child seals the allocator's metadata read-only
 * just before the bad call, so that a check that wrote anything before it
 * rejected the pointer would die of SIGSEGV instead. */
#include "t.h"
#include "barealloc.h"
#ifdef MISUSE_SEALED
#include "hooks.h"
#endif

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

enum call { FREE, REALLOC, USABLE };
static const char *const call_name[] = { "free", "realloc", "malloc_usable_size" };

static size_t page;
static char name[240];
static char out[1024];      /* the child's fd 2 */

static const char *cat2(const char *a, const char *b)
{
	name[0] = 0;
	t_cat(name, sizeof name, a);
	return t_cat(name, sizeof name, b);
}

/* What a child does: the bad call, alone, on a sealed heap in the test
 * library.  Returning means the call was accepted. */
struct bad {
	enum call fn;
	void *p;
};

static int bad_call(void *arg)
{
	const struct bad *b = arg;

#ifdef MISUSE_SEALED
	ba_test_seal(1);   /* from here on, any metadata write faults */
#endif
	if (b->fn == FREE)
		free(b->p);
	else if (b->fn == REALLOC)
		(void)realloc(b->p, 5000);
	else
		(void)malloc_usable_size(b->p);
	return 99;
}

static int run_child(enum call fn, void *p)
{
	struct bad b = { fn, p };

	return t_child(bad_call, &b, out, sizeof out);
}

static void show_child(int status)
{
	t_s("#   child status ");
	t_x((unsigned)status);
	t_s(", fd 2: \"");
	for (size_t i = 0; out[i] && i < 300; i++) {
		char c[2] = { out[i] == '\n' ? '|' : out[i], 0 };
		t_s(c);
	}
	t_s("\"");
	t_nl();
}

/* One case: fn(p) must abort with reason, in one line that names fn and p. */
static void misuse(const char *what, enum call fn, void *p, const char *reason)
{
	char head[160] = "", msg[96] = ": one line `barealloc: ", want[96] = "barealloc: ";

	t_cat(t_cat(t_cat(head, sizeof head, call_name[fn]), sizeof head, " of "),
	      sizeof head, what);
	t_cat(t_cat(t_cat(t_cat(msg, sizeof msg, call_name[fn]), sizeof msg, "(p): "),
		    sizeof msg, reason), sizeof msg, "` on fd 2");
	t_cat(t_catx(t_cat(t_cat(want, sizeof want, call_name[fn]), sizeof want, "("),
		     sizeof want, (uintptr_t)p), sizeof want, "): ");
	int status = run_child(fn, p);
	int ok = T_EQ(cat2(head, ": the child dies of SIGABRT (signal)"), status & 0x7f, SIGABRT);
	ok &= T_TRUE(cat2(head, msg), t_one_line(out, want, reason));
	if (!ok)
		show_child(status);
}

static const char *block_name(const char *prefix, size_t n, const char *suffix)
{
	static char b[120];

	b[0] = 0;
	return t_cat(t_catu(t_cat(b, sizeof b, prefix), sizeof b, n), sizeof b, suffix);
}

/* Intervening allocations of n bytes: up to 64 MiB of them stay live, the
 * rest are freed at once, and so is any that reuses p, so that p's block is
 * still free when the case frees it again. */
enum { MAX_LIVE = 100000 };
static void *live[MAX_LIVE];
static size_t nlive;

static void intervene(size_t n, long count, void *p)
{
	size_t budget = 64 * MiB;

	for (long i = 0; i < count; i++) {
		void *q = malloc(n);
		if (q != p && nlive < MAX_LIVE && (n ? n : 1) <= budget) {
			live[nlive++] = q;
			budget -= n ? n : 1;
		} else {
			free(q);
		}
	}
}

static void release_live(void)
{
	while (nlive)
		free(live[--nlive]);
}

/* Conformance rows 29 and 32: a block freed, then n allocations, then the
 * bad call, in every size class. */
static void test_double_free(void)
{
	static const size_t sizes[] = { 0, 1, 16, 17, 100, 1000, 4096, 5000, 30000,
					64 * KiB, 100000, MiB, 4 * MiB + 1 };
	static const long after[] = { 0, 1, 10, 100000 };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		for (size_t j = 0; j < sizeof after / sizeof after[0]; j++) {
			void *p = malloc(sizes[i]);
			free(p);
			intervene(sizes[i], after[j], p);
			char what[120] = "";
			t_cat(what, sizeof what, block_name("a freed ", sizes[i], "-byte block, after "));
			t_cat(t_catu(what, sizeof what, (unsigned long long)after[j]), sizeof what,
			      " allocations of its size");
			misuse(what, FREE, p, "double free");
			release_live();
		}
	void *a = memalign(4096, 5000), *b = aligned_alloc(64 * KiB, 2 * MiB);
	free(a);
	free(b);
	misuse("a freed memalign(4096, 5000) block", FREE, a, "double free");
	misuse("a freed aligned_alloc(64 KiB, 2 MiB) block", FREE, b, "double free");
	a = aligned_alloc(8 * MiB, 2 * MiB);
	free(a);
	misuse("a freed aligned_alloc(8 MiB, 2 MiB) block (a trimmed mapping)", FREE, a,
	       "double free");
	static const size_t few[] = { 100, 100000, 2 * MiB };
	for (size_t i = 0; i < sizeof few / sizeof few[0]; i++) {
		void *p = malloc(few[i]);
		free(p);
		misuse(block_name("a freed ", few[i], "-byte block"), REALLOC, p, "double free");
		misuse(block_name("a freed ", few[i], "-byte block"), USABLE, p, "double free");
	}
}

/* Conformance row 29 where the freed block is gone from view: merged with
 * a free neighbour, its whole span freed, moved away by realloc, or freed
 * by realloc(p, 0). */
static void test_double_free_hidden(void)
{
	static const size_t sizes[] = { 100, 30000, 200000, 2 * MiB };
	enum { SPAN = 3000 };   /* three 64 KiB runs of 48-byte blocks */
	static void *v[SPAN];
	void *p;

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];
		void *a = malloc(n), *b = malloc(n), *c = malloc(n);
		free(b);
		free(a);
		free(c);
		misuse(block_name("a freed ", n, "-byte block whose neighbours were freed after it"),
		       FREE, b, "double free");
	}
	for (int i = 0; i < SPAN; i++)
		v[i] = malloc(48);
	for (int i = 0; i < SPAN; i++)
		free(v[i]);
	misuse("a freed 48-byte block after all 3000 blocks of its class were freed (its run "
	       "emptied)", FREE, v[SPAN - 1], "double free");
	/* Once unmapped, a large block's address is remembered among the last
	 * 16 unmapped (docs/DESIGN.md); past that it is foreign memory, and the
	 * abort says "invalid pointer".  8 blocks stay within the ring. */
	p = malloc(2 * MiB);
	free(p);
	for (int i = 0; i < 8; i++)
		v[i] = malloc(3 * MiB);
	for (int i = 0; i < 8; i++)
		free(v[i]);
	misuse("a freed 2 MiB block after 8 blocks of 3 MiB were freed (its mapping is gone)",
	       FREE, p, "double free");
	void *q = malloc(100);
	p = malloc(100);
	void *moved = realloc(p, 300000);
	misuse("the old pointer of a 100-byte block that realloc moved to 300000 bytes", FREE, p,
	       "double free");
	free(moved);
	free(q);
	p = malloc(3 * MiB);
	moved = realloc(p, 10);
	misuse("the old pointer of a 3 MiB block that realloc moved to 10 bytes", FREE, p,
	       moved == p ? "not the start of a block" : "double free");
	free(moved);
	p = malloc(1000);
	(void)realloc(p, 0);
	misuse("a 1000-byte block freed by realloc(p, 0)", FREE, p, "double free");
}

static unsigned char global_block[64] __attribute__((aligned(64)));

/* Conformance rows 30 and 32: pointers barealloc never returned. */
static void test_foreign(void)
{
	unsigned char stack_block[64] __attribute__((aligned(64)));
	long m = sys_mmap(0, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static const char *const names[] = {
		"a stack address", "a global", "(void *)1", "(void *)-4096",
		"a page the program mapped itself", "16 bytes into a page the program mapped",
	};
	void *ptrs[] = { stack_block, global_block, (void *)1, (void *)-4096,
			 (void *)m, (char *)m + 16 };

	stack_block[0] = 1;
	for (int fn = FREE; fn <= USABLE; fn++)
		for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++)
			misuse(names[i], (enum call)fn, ptrs[i], "invalid pointer");
	sys_munmap((void *)m, page);
}

/* Conformance rows 31 and 32: pointers into a block, not at its start. */
static void interior(const char *kind, unsigned char *p, size_t n)
{
	const size_t offs[] = { 1, 8, 16, 512, page };

	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		if (offs[i] >= n)
			continue;
		char what[120] = "";
		t_cat(t_catu(t_cat(what, sizeof what, "p + "), sizeof what, offs[i]), sizeof what,
		      ", p a ");
		t_cat(t_cat(t_catu(what, sizeof what, n), sizeof what, "-byte "), sizeof what, kind);
		misuse(what, FREE, p + offs[i], "not the start of a block");
		if (offs[i] == 16 || offs[i] == page) {
			misuse(what, REALLOC, p + offs[i], "not the start of a block");
			misuse(what, USABLE, p + offs[i], "not the start of a block");
		}
	}
	free(p);
}

static void test_interior(void)
{
	interior("small block", malloc(100), 100);
	interior("small block", malloc(1000), 1000);
	interior("small block", malloc(30000), 30000);
	interior("medium block", malloc(200000), 200000);
	interior("large block", malloc(2 * MiB), 2 * MiB);
	interior("memalign(4096) block", memalign(4096, 3 * page), 3 * page);
	interior("aligned_alloc(8 MiB) block", aligned_alloc(8 * MiB, 2 * MiB), 2 * MiB);
}

/* Conformance row 34: k bytes written past the request, in the block's
 * slack; the parent puts them back before it frees the block itself. */
static void overflow(size_t n, size_t k, enum call fn)
{
	unsigned char *p = malloc(n), saved[8];

	for (size_t i = 0; i < k; i++) {
		saved[i] = p[n + i];
		p[n + i] = (unsigned char)~p[n + i];
	}
	char what[120] = "";
	t_cat(t_catu(what, sizeof what, n), sizeof what, "-byte block after a write ");
	t_cat(t_catu(what, sizeof what, k), sizeof what, k == 1 ? " byte past its end" :
	      " bytes past its end");
	misuse(what, fn, p, "overflow");
	for (size_t i = 0; i < k; i++)
		p[n + i] = saved[i];
	free(p);
}

/* After realloc the canary follows the new request. */
static void overflow_after_realloc(size_t n, size_t m)
{
	unsigned char *p = realloc(malloc(n), m);
	char what[120] = "";

	p[m] = (unsigned char)~p[m];
	t_cat(t_catu(t_cat(t_catu(what, sizeof what, n), sizeof what, "-byte block reallocated to "),
		     sizeof what, m), sizeof what, " bytes, after a write 1 byte past its end");
	misuse(what, FREE, p, "overflow");
	p[m] = (unsigned char)~p[m];
	free(p);
}

static void test_overflow(void)
{
	overflow_after_realloc(100, 104);
	overflow_after_realloc(111, 100);
	overflow_after_realloc(300000, 100001);
	overflow_after_realloc(100001, 150001);
	overflow_after_realloc(2 * MiB + 1, 3 * MiB + 1);
	overflow_after_realloc(3 * MiB + 1, 2 * MiB + 1);
	static const size_t sizes[] = { 17, 100, 1000, 5000, 30000, 100001, MiB + 1 };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		overflow(sizes[i], 1, FREE);
		overflow(sizes[i], 8, FREE);
		overflow(sizes[i], 1, REALLOC);
	}
}

/* The harness itself: a good free in a child is not reported. */
static void test_control(void)
{
	void *p = malloc(100);
	int status = run_child(FREE, p);

#ifdef MISUSE_SEALED
	T_EQ("control: a good free on a sealed heap writes metadata, so it dies of SIGSEGV",
	     status & 0x7f, SIGSEGV);
#else
	T_EQ("control: a good free in a child exits normally", status, 99 << 8);
	T_EQ("control: a good free writes nothing on fd 2", t_strlen(out), 0);
#endif
	free(p);
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	page = ba_getauxval(AT_PAGESZ);
	t_no_core_files();
	test_control();
	test_double_free();
	test_double_free_hidden();
	test_foreign();
	test_interior();
	test_overflow();
	T_EQ("ba_check() in the parent after every case", ba_check(), 0);
	return t_exit_status();
}

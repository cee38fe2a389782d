/* Two heaps side by side: the main heap (malloc and free) and a second one
 * made with the test library's ba_test_heap_new (alloc/hooks.h).  Blocks of
 * every kind in both, with a pattern per heap; they never share an arena,
 * each heap counts and checks only its own, freeing one heap's block
 * through the other is misuse (in a child, with the metadata sealed, so a
 * write before the abort would be SIGSEGV), and releasing one heap leaves
 * the other's blocks and structures intact, as ba_release_all of the main
 * heap leaves the second one. */
#include "t.h"
#include "barealloc.h"
#include "hooks.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
enum { N = 600 };

static const size_t kinds[] = { 16, 100, 4096, 60000, 100 * KiB, 700 * KiB, 3 * MiB };
#define NKINDS (sizeof kinds / sizeof kinds[0])

struct set {
	unsigned char *p[N];
	size_t n[N];
	unsigned char tag;
};
static struct set a = { .tag = 0xa1 }, b = { .tag = 0xb2 };
static struct ba_test_heap *hb;
static uint64_t rng;

static size_t size_of(unsigned i)
{
	uint32_t r = (uint32_t)t_rand(&rng);
	size_t k = kinds[i % NKINDS];

	return k < MiB ? k + r % (k / 2 + 1) : k;   /* large ones stay few MiB */
}

static void fill(struct set *s, unsigned i)
{
	for (size_t j = 0; j < s->n[i]; j += j < 64 || j + 64 >= s->n[i] ? 1 : 4096)
		s->p[i][j] = (unsigned char)(s->tag + j);
}

static int intact(const struct set *s)
{
	for (unsigned i = 0; i < N; i++)
		for (size_t j = 0; s->p[i] && j < s->n[i]; j += j < 64 || j + 64 >= s->n[i] ? 1 : 4096)
			if (s->p[i][j] != (unsigned char)(s->tag + j))
				return 0;
	return 1;
}

static size_t live(struct ba_test_heap *h)
{
	struct ba_stats st;

	if (h)
		ba_test_heap_stats(h, &st);
	else
		ba_stats(&st);
	return st.live_blocks;
}

/* No small or medium block of one heap is in an arena of the other. */
static int arenas_apart(void)
{
	for (unsigned i = 0; i < N; i++)
		for (unsigned j = 0; j < N; j++)
			if (a.n[i] <= MiB && b.n[j] <= MiB && (uintptr_t)a.p[i] >> 22 == (uintptr_t)b.p[j] >> 22)
				return 0;
	return 1;
}

/* ---- Misuse in a child. ---- */
static char out[512];
struct wrong { int usable; void *p; };

static int wrong_heap(void *arg)
{
	struct wrong *w = arg;

	ba_test_seal(1);
	if (w->usable)
		ba_test_heap_usable(hb, w->p);
	else
		ba_test_heap_free(hb, w->p);
	return 99;
}

static void expect_abort(const char *what, int usable, void *p, const char *reason)
{
	struct wrong w = { usable, p };
	char want[64] = "barealloc: ";
	int status = t_child(wrong_heap, &w, out, sizeof out);

	t_catx(t_cat(t_cat(want, sizeof want, usable ? "malloc_usable_size" : "free"), sizeof want, "("),
	       sizeof want, (uintptr_t)p);
	T_EQ(t_join(what, ": the child dies of SIGABRT"), status & 0x7f, SIGABRT);
	if (!T_TRUE(t_join(what, t_join(": one line naming the call and \"", t_join(reason, "\""))),
		    t_one_line(out, want, reason)))
		t_s("#   fd 2: "), t_s(out), t_nl();
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	t_no_core_files();
	rng = t_seed("heaps");
	hb = ba_test_heap_new();
	if (!T_TRUE("a second heap can be made", hb != 0))
		return t_exit_status();
	size_t a0 = live(0);
	for (unsigned i = 0; i < N; i++) {
		a.p[i] = malloc(a.n[i] = size_of(i));
		b.p[i] = ba_test_heap_malloc(hb, b.n[i] = size_of(i));
		if (!a.p[i] || !b.p[i])
			break;
		fill(&a, i);
		fill(&b, i);
	}
	T_TRUE("600 blocks of every kind in each heap", a.p[N - 1] && b.p[N - 1]);
	T_EQ("the main heap counts its own blocks only", live(0) - a0, N);
	T_EQ("the second heap counts its own blocks only", live(hb), N);
	T_TRUE("no arena holds blocks of both heaps", arenas_apart());
	T_EQ("ba_check() of the main heap", ba_check(), 0);
	T_EQ("ba_check of the second heap", ba_test_heap_check(hb), 0);
	T_TRUE("every block of both heaps has its pattern", intact(&a) && intact(&b));

	for (unsigned k = 0; k < NKINDS; k++) {
		char what[96] = "";
		t_cat(t_catu(t_cat(what, sizeof what, "a main-heap block of "), sizeof what, a.n[k]),
		      sizeof what, " B through the second heap");
		expect_abort(t_join("free of ", what), 0, a.p[k], "block of another heap");
		expect_abort(t_join("malloc_usable_size of ", what), 1, a.p[k], "block of another heap");
	}
	T_EQ("the second heap's usable size of its own block", ba_test_heap_usable(hb, b.p[1]), b.n[1]);

	/* The plain free() gives a block back to the heap that owns it. */
	for (unsigned i = 0; i < N; i += 2) {
		free(b.p[i]);
		b.p[i] = 0;
	}
	T_EQ("free() of the second heap's blocks returns them to it", live(hb), N / 2);
	T_EQ("... and the main heap still has its own", live(0) - a0, N);
	T_EQ("ba_check of the second heap after those frees", ba_test_heap_check(hb), 0);

	struct ba_stats before, after;
	ba_stats(&before);
	void *old = b.p[1];
	ba_test_heap_release(hb);
	ba_stats(&after);
	T_EQ("after releasing the second heap, it has no block", live(hb), 0);
	T_EQ("... the main heap has all of its own", after.live_blocks, before.live_blocks);
	T_EQ("... with the same requested bytes", after.requested, before.requested);
	T_TRUE("... every main-heap block keeps its pattern", intact(&a));
	T_EQ("... ba_check() of the main heap", ba_check(), 0);
	T_EQ("... ba_check of the released heap", ba_test_heap_check(hb), 0);
	expect_abort("free of a block of the released heap", 0, old, "invalid pointer");
	void *again = ba_test_heap_malloc(hb, 1000);
	T_TRUE("the released heap allocates again", again && ba_test_heap_usable(hb, again) == 1000);
	ba_test_heap_free(hb, again);

	for (unsigned i = 0; i < N; i++)
		free(a.p[i]);
	T_EQ("after the main heap frees everything: no live block", live(0), a0);
	T_EQ("ba_check() at the end", ba_check(), 0);

	/* ba_release_all empties the main heap and, when nothing else holds
	 * memory, the metadata: not while another heap lives there. */
	ba_test_heap_release(hb);
	ba_release_all();
	again = ba_test_heap_malloc(hb, 100);
	T_TRUE("an empty second heap survives ba_release_all and allocates",
	       again && ba_test_heap_usable(hb, again) == 100 && ba_test_heap_check(hb) == 0);
	ba_test_heap_free(hb, again);
	ba_test_heap_delete(hb);
	struct ba_stats st;
	ba_release_all();
	ba_stats(&st);
	T_EQ("once it is deleted, ba_release_all returns every mapping", st.mapped, 0);
	return t_exit_status();
}

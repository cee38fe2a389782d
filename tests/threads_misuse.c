/* Misuse across threads: a block freed twice, by any two threads, ends the
 * process with "double free", at the second free or at the latest when the
 * block's owner takes back what other threads freed (docs/DESIGN.md,
 * "Threads").  Each case runs in a forked child and is checked from
 * outside, as tests/misuse.c does: death by SIGABRT and one line
 *   barealloc: free(<the block>): double free
 * on fd 2.  The parent allocates the block, so it knows the address; in the
 * child the main thread is its owner. */
#include "t.h"
#include "barealloc.h"
#include "ba_thread.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define RACES 40                /* forks per racing case */

static char out[1024];

static void *free_it(void *p)
{
	free(p);
	return 0;
}

/* Frees p on a thread of its own, and waits for it. */
static void free_elsewhere(void *p)
{
	struct ba_thread *t;

	if (ba_thread_create(&t, free_it, p) == 0)
		ba_thread_join(t, 0);
}

static int remote_then_owner(void *p)
{
	free_elsewhere(p);
	free(p);
	return 99;
}

static int owner_then_remote(void *p)
{
	free(p);
	free_elsewhere(p);
	return 99;
}

static int two_remotes(void *p)
{
	free_elsewhere(p);
	free_elsewhere(p);
	return 99;
}

static int remote_then_realloc(void *p)
{
	free_elsewhere(p);
	(void)realloc(p, 10);
	return 99;
}

/* Two frees at the same instant: both threads spin until go, then free. */
static int go;
static void *free_at_go(void *p)
{
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		;
	free(p);
	return 0;
}

static int race_two_remotes(void *p)
{
	struct ba_thread *a, *b;

	if (ba_thread_create(&a, free_at_go, p) || ba_thread_create(&b, free_at_go, p))
		return 98;
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	ba_thread_join(a, 0);
	ba_thread_join(b, 0);
	free(malloc(16));       /* the owner takes back what was freed */
	return 99;
}

static int race_owner_remote(void *p)
{
	struct ba_thread *a;

	if (ba_thread_create(&a, free_at_go, p))
		return 98;
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	free(p);
	ba_thread_join(a, 0);
	free(malloc(16));
	free(malloc(100000));   /* a medium block too: its slow path collects */
	return 99;
}

/* Passes when the child died of SIGABRT with the one line naming call
 * and p. */
static int expect_double(const char *what, const char *call, int (*fn)(void *), void *p, int quiet)
{
	char want[64] = "barealloc: ";
	int status = t_child(fn, p, out, sizeof out);
	int ok = (status & 0x7f) == SIGABRT &&
		 t_one_line(out, t_catx(t_cat(t_cat(want, sizeof want, call), sizeof want, "("), sizeof want, (uintptr_t)p),
			    "double free");

	if (!quiet || !ok) {
		T_TRUE(t_join(what, t_join(": SIGABRT and \"barealloc: ", t_join(call, "(p): double free\""))), ok);
		if (!ok)
			t_s("#   status "), t_d(status), t_s(", fd 2: "), t_s(out), t_nl();
	}
	return ok;
}

int main(void)
{
	static const size_t sizes[] = { 24, 100, 4000, 40 * KiB, 200 * KiB, 3 * MiB };
	static const struct { const char *name, *call; int (*fn)(void *); } seq[] = {
		{ "freed by another thread, then by its owner", "free", remote_then_owner },
		{ "freed by its owner, then by another thread", "free", owner_then_remote },
		{ "freed by two other threads in turn", "free", two_remotes },
		{ "freed by another thread, then realloc by its owner", "realloc", remote_then_realloc },
	};

	t_no_core_files();
	for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		char size[40] = "";
		t_cat(t_catu(size, sizeof size, sizes[s]), sizeof size, " B: ");
		for (unsigned k = 0; k < sizeof seq / sizeof seq[0]; k++) {
			void *p = malloc(sizes[s]);
			expect_double(t_join(size, seq[k].name), seq[k].call, seq[k].fn, p, 0);
			free(p);
		}
		/* A race is caught whichever free wins; repeated to meet the
		 * interleavings. */
		int ok_two = 1, ok_owner = 1;
		for (int i = 0; i < RACES; i++) {
			void *p = malloc(sizes[s]);
			ok_two &= expect_double(t_join(size, "two other threads at once"), "free", race_two_remotes, p, 1);
			ok_owner &= expect_double(t_join(size, "its owner and another thread at once"), "free",
						  race_owner_remote, p, 1);
			free(p);
		}
		T_TRUE(t_join(size, t_name("two other threads free at once, ", RACES, " times: every time one aborts")), ok_two);
		T_TRUE(t_join(size, t_name("the owner and another thread free at once, ", RACES,
					   " times: every time one aborts")), ok_owner);
	}
	T_EQ("the parent's heap is intact", ba_check(), 0);
	return t_exit_status();
}

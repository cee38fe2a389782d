/* The quarantine (docs/DESIGN.md, "Reuse and the double-free window"): in
 * every size class, a freed block is not handed out again before the
 * class's window of later frees of its run, so a second free of it within
 * them aborts with "double free", from a child, on sealed metadata (a write
 * before the abort would be a SIGSEGV), checked from outside.  The window
 * comes from the library (ba_test_window), and the test checks it against
 * the stated rule: 2 KiB's worth of blocks, at least 1 and at most 16. */
#include "t.h"
#include "barealloc.h"
#include "hooks.h"

enum { MAX_BLOCKS = 4096 };
static char out[512];
static unsigned char *b[MAX_BLOCKS];

/* A run filled whole, so that no never-used block stands in its ring
 * before the freed ones; its first block freed, then window - 1 others of
 * it; then window rounds of malloc and free, none of which may return the
 * first block (nothing of its run is out of quarantine, so without the
 * gate the first malloc would); then the first block freed again: the
 * child must die there.  Status 1: the block came back too early. */
static int refree_within_window(void *arg)
{
	size_t n = (size_t)arg;
	unsigned w = ba_test_window(n), nb = ba_test_run_blocks(n);

	ba_release_all();
	for (unsigned i = 0; i < nb; i++)
		b[i] = malloc(n);
	for (unsigned i = 0; i < w; i++)
		free(b[i]);
	for (unsigned i = 0; i < w; i++) {
		unsigned char *q = malloc(n);
		if (q == b[0])
			return 1;
		free(q);
	}
	ba_test_seal(1);
	free(b[0]);
	return 99;
}

static unsigned stated_window(size_t size)
{
	size_t w = 2048 / size;

	return w < 1 ? 1 : w > 16 ? 16 : (unsigned)w;
}

int main(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	size_t first_bad = 0, first_window = 0, classes = 0;

	t_no_core_files();
	for (size_t size = 16; size <= 65536; classes++) {
		int status = t_child(refree_within_window, (void *)size, out, sizeof out);
		if (!first_bad && !((status & 0x7f) == SIGABRT && t_one_line(out, "barealloc: free(", "double free")))
			first_bad = size;
		if (!first_window && ba_test_window(size) != stated_window(size))
			first_window = size;
		/* the next class: 16-byte steps to 256, then 8 per doubling */
		size += size < 256 ? 16 : (size_t)1 << (63 - __builtin_clzll(size) - 3);
	}
	T_EQ("size classes swept", (long long)classes, 80);
	T_EQ("a second free within the window aborts with \"double free\" in every size class "
	     "(first class that did not, else 0)", (long long)first_bad, 0);
	T_EQ("the window is 2 KiB of blocks, 1 to 16, in every size class (first class that is not, else 0)",
	     (long long)first_window, 0);
	return t_exit_status();
}

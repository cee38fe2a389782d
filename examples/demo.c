/* barealloc at work: small, medium and large blocks, a realloc that grows
 * through all three, and after each step what the allocator asked of the
 * kernel.  Last, a double free in a child process, which barealloc
 * reports and ends with SIGABRT. */
#include "barealloc.h"
#include "ba_sys.h"

static void say(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	sys_write(1, s, n);
}

static void say_num(unsigned long long v)
{
	char buf[BA_UTOA_SIZE];

	say(ba_utoa(v, buf));
}

static struct ba_stats last;

/* One line: the step, then the kernel calls since the previous step and
 * the heap's state after it. */
static void step(const char *what)
{
	struct ba_stats s;

	ba_stats(&s);
	say(what);
	say("\n    mmap +");
	say_num(s.mmap_calls - last.mmap_calls);
	say("  munmap +");
	say_num(s.munmap_calls - last.munmap_calls);
	say("  mremap +");
	say_num(s.mremap_calls - last.mremap_calls);
	say("  madvise +");
	say_num(s.madvise_calls - last.madvise_calls);
	say("  | live ");
	say_num(s.live_blocks);
	say(", requested ");
	say_num(s.requested);
	say(" B, mapped ");
	say_num(s.mapped >> 10);
	say(" KiB, dirty ");
	say_num(s.dirty >> 10);
	say(" KiB, ba_check ");
	say(ba_check_name(ba_check()));
	say("\n");
	last = s;
}

static void double_free_in_child(void)
{
	long pid = sys_fork();

	if (pid == 0) {
		char *p = malloc(24);
		free(p);
		free(p);                /* barealloc aborts here */
		sys_exit_group(0);
	}
	int status = 0;
	sys_wait4((int)pid, &status, 0, 0);
	say((status & 0x7f) == SIGABRT ? "    the child died of SIGABRT\n"
					: "    the child was not stopped!\n");
}

int main(int argc, char **argv, char **envp)
{
	static char *small[1000];

	(void)argc, (void)argv, (void)envp;
	step("start");
	for (int i = 0; i < 1000; i++)
		small[i] = malloc(16 + i % 200);
	step("1000 small blocks of 16..215 B: one arena, runs carved from it");
	char *medium = malloc(300000);
	step("one medium block of 300000 B: a span of pages in the same arena");
	char *grow = malloc(100);
	for (int i = 0; i < 100; i++)
		grow[i] = (char)i;
	grow = realloc(grow, 200000);
	step("realloc 100 B -> 200000 B: from a run to a span, contents copied");
	grow = realloc(grow, 8 << 20);
	step("realloc -> 8 MiB: a mapping of its own");
	grow = realloc(grow, 64 << 20);
	say(grow[99] == 99 ? "    byte 99 survived every move\n" : "    byte 99 was lost!\n");
	step("realloc -> 64 MiB: mremap moves the pages, no copy");
	for (int i = 0; i < 1000; i++)
		free(small[i]);
	free(medium);
	free(grow);
	step("everything freed: pages kept for reuse (dirty), within the 4 MiB budget");
	for (int round = 0; round < 1000; round++)
		free(malloc(300000));
	step("1000 x malloc/free of 300000 B: no kernel call");
	ba_release_all();
	step("ba_release_all: every mapping returned");
	say("double free in a child process:\n");
	double_free_in_child();
	return 0;
}

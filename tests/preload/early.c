/* Conformance row 46 in a program whose first allocation comes from
 * glibc's dynamic linker interface: dlsym of a missing name and dlerror
 * (glibc allocates the message with malloc), in the main thread and as
 * the first call of a new thread.  barealloc must initialise itself there,
 * without recursing into dlsym.  No constructor of this program
 * allocates; ba_stats, a weak reference that the preload library binds,
 * shows whether anything had been allocated before. */
#include "hosted.h"
#include <pthread.h>

/* struct ba_stats of inc/barealloc.h: eight size_t, then four counters. */
struct ba_stats {
	size_t requested, in_use, live_blocks, mapped, mapped_peak, meta, dirty, dirty_limit;
	unsigned long mmap_calls, munmap_calls, mremap_calls, madvise_calls;
};
void ba_stats(struct ba_stats *out) __attribute__((weak));
int ba_check(void) __attribute__((weak));

/* dlsym of a name nobody has, then dlerror: the message names it. */
static int dl_error_names(const char *missing)
{
	void *sym = dlsym(RTLD_DEFAULT, missing);
	const char *e = dlerror();
	int ok = !sym && e && strstr(e, missing);

	return ok && dlerror() == 0;
}

static void *thread_first(void *arg)
{
	(void)arg;
	if (!dl_error_names("barealloc_missing_in_thread"))
		return (void *)1;
	char *p = malloc(5000);
	if (!p)
		return (void *)2;
	memset(p, 1, 5000);
	free(p);
	return 0;
}

/* With BAREALLOC_FOREIGN=leak, a free of a foreign pointer may be the
 * process's very first call: the option must be known by then. */
static int foreign_first(void)
{
	static char global[64];

	free(global + 16);
	CHECK(1, "row 47, BAREALLOC_FOREIGN=leak: a foreign free as the first call returns", "%s", "");
	return h_exit_status();
}

int main(int argc, char **argv)
{
	struct ba_stats before, after;

	if (!ba_stats || !ba_check) {
		h_line("[FAIL] early: no ba_stats in the process: libbarealloc.so is not preloaded");
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "foreign-first"))
		return foreign_first();
	ba_stats(&before);
	int first = dl_error_names("barealloc_missing_symbol");
	ba_stats(&after);
	if (before.mapped || before.mmap_calls)
		h_skip("row 46: dlsym/dlerror make the first allocation", "something allocated before main");
	else
		CHECK(first && after.mapped && after.mmap_calls,
		      "row 46: dlsym and dlerror make the process's first allocation, and work",
		      "message %s, mapped %zu, mmap calls %lu", first ? "right" : "wrong", after.mapped,
		      after.mmap_calls);
	void *p = dlopen("libbarealloc-no-such-library.so", RTLD_NOW);
	const char *e = dlerror();
	CHECK(!p && e && strstr(e, "no-such-library"), "row 46: dlopen of a missing library: dlerror explains",
	      "%p, %s", p, e ? e : "(no message)");
	pthread_t t;
	void *res = (void *)-1;
	if (!pthread_create(&t, 0, thread_first, 0))
		pthread_join(t, &res);
	CHECK(res == 0, "row 46: a thread whose first allocation is dlerror's", "thread result %p", res);
	int c = ba_check();
	CHECK(c == 0, "ba_check(): 0", "%d", c);
	return h_exit_status();
}

/* Conformance row 48: libbarealloc.so loaded with dlopen instead of
 * LD_PRELOAD, into a process whose malloc stays glibc's.  Its thread
 * word is initial-exec TLS, so dlopen may refuse it ("cannot allocate
 * memory in static TLS block") or load it into glibc's surplus of static
 * TLS; either way the process goes on.  Loaded, its malloc family works
 * through dlsym, beside glibc's, in this thread and in another that ends
 * (its thread-exit hook runs); then it is closed, and fork and thread
 * exit, whose hooks it had registered, still work.
 *   usage: dlopen /path/to/libbarealloc.so */
#include "hosted.h"
#include <pthread.h>

static void *(*ba_malloc)(size_t);
static void (*ba_free)(void *);
static void *(*ba_realloc)(void *, size_t);
static void *(*ba_calloc)(size_t, size_t);
static size_t (*ba_usable)(void *);
static int (*ba_check)(void);

/* Blocks of every kind from barealloc's family, and glibc's beside them. */
static int use_both(unsigned seed)
{
	static const size_t sz[] = { 1, 40, 300, 5000, 70000, 400000, 3 << 20 };
	int bad = 0;

	for (int i = 0; i < 7; i++) {
		unsigned char *p = ba_malloc(sz[i]), *g = malloc(sz[i]);
		if (!p || !g || ba_usable(p) < sz[i])
			return ++bad;
		memset(p, (int)(seed + (unsigned)i), sz[i]);
		memset(g, 0x11, sz[i]);
		p = ba_realloc(p, sz[i] * 2 + 1);
		bad += !p || p[sz[i] - 1] != (unsigned char)(seed + (unsigned)i);
		free(g);
		ba_free(p);
		unsigned char *z = ba_calloc(sz[i], 1);
		bad += !z || z[sz[i] - 1] != 0;
		ba_free(z);
	}
	return bad;
}

static void *thread_uses(void *arg)
{
	return (void *)(uintptr_t)use_both((unsigned)(uintptr_t)arg);
}

static void *thread_plain(void *arg)
{
	free(malloc(100));
	return arg;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		h_line("[FAIL] dlopen: usage: dlopen /path/to/libbarealloc.so");
		return 1;
	}
	if (h_ba("ba_check")) {
		h_line("[FAIL] dlopen: barealloc is already in the process (LD_PRELOAD?)");
		return 1;
	}
	void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		const char *e = dlerror();
		CHECK(e && strstr(e, "static TLS"), "row 48: dlopen refuses the library: static TLS",
		      "dlerror: %s", e ? e : "(none)");
		void *p = malloc(1000);
		CHECK(p != 0, "row 48: glibc's malloc goes on after the refusal", "NULL");
		free(p);
		return h_exit_status();
	}
	h_line("[OK]   row 48: dlopen(RTLD_NOW) loads the library");
	ba_malloc = (void *(*)(size_t))dlsym(lib, "malloc");
	ba_free = (void (*)(void *))dlsym(lib, "free");
	ba_realloc = (void *(*)(void *, size_t))dlsym(lib, "realloc");
	ba_calloc = (void *(*)(size_t, size_t))dlsym(lib, "calloc");
	ba_usable = (size_t (*)(void *))dlsym(lib, "malloc_usable_size");
	ba_check = (int (*)(void))dlsym(lib, "ba_check");
	if (!CHECK(ba_malloc && ba_free && ba_realloc && ba_calloc && ba_usable && ba_check &&
		   (void *)ba_malloc != (void *)malloc,
		   "row 48: dlsym finds its malloc family, which is not glibc's", "malloc %p", (void *)ba_malloc))
		return h_exit_status();
	int bad = use_both(1);
	CHECK(!bad, "row 48: its malloc, realloc, calloc and free work beside glibc's", "%d wrong", bad);
	pthread_t t;
	void *res = (void *)1;
	if (!pthread_create(&t, 0, thread_uses, (void *)7))
		pthread_join(t, &res);
	CHECK(res == 0, "row 48: a thread uses it and ends", "thread result %p", res);
	int c = ba_check();
	CHECK(c == 0, "row 48: its ba_check(): 0", "%d", c);

	CHECK(dlclose(lib) == 0, "row 48: dlclose", "%s", dlerror());
	pid_t pid = fork();
	if (pid == 0) {
		free(malloc(100));
		_exit(0);
	}
	int st = -1;
	if (pid > 0)
		waitpid(pid, &st, 0);
	CHECK(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "row 48: fork after dlclose: parent and child go on",
	      "pid %d, status %#x", (int)pid, st);
	res = (void *)1;
	if (!pthread_create(&t, 0, thread_plain, 0))
		pthread_join(t, &res);
	CHECK(res == 0, "row 48: a thread starts and ends after dlclose", "thread result %p", res);
	return h_exit_status();
}

/* The preload library's own parts (build/<isa>/libbarealloc.so): the
 * thread's heap word, the other names by which glibc's programs and glibc
 * itself reach malloc, glibc's tuning calls, and the statistics at exit.
 * The family itself is alloc/'s, the same code as the static library's;
 * so/glue.c is the glue's backend. */
#include "ba_sys.h"
#include "../alloc/heap.h"

/* The calling thread's heap (alloc/os.h): initial-exec, one word of the
 * static TLS block, reached with no call (glibc's manual asks this of a
 * malloc replacement).  NULL until the thread's first slow path. */
__thread void *_ba_tls_heap __attribute__((tls_model("initial-exec")));

/* glibc's own names, as its manual ("Replacing malloc") lists them: a
 * program or library that calls one of them must reach barealloc, never
 * glibc's allocator, which holds none of these blocks. */
void cfree(void *p);
void *__libc_malloc(size_t n);
void __libc_free(void *p);
void *__libc_calloc(size_t nmemb, size_t size);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void *__libc_valloc(size_t n);
void *__libc_pvalloc(size_t n);
int __posix_memalign(void **out, size_t align, size_t n);
int mallopt(int param, int value);
int malloc_trim(size_t pad);

void cfree(void *p) { free(p); }
void *__libc_malloc(size_t n) { return malloc(n); }
void __libc_free(void *p) { free(p); }
void *__libc_calloc(size_t nmemb, size_t size) { return calloc(nmemb, size); }
void *__libc_realloc(void *p, size_t n) { return realloc(p, n); }
void *__libc_memalign(size_t align, size_t n) { return memalign(align, n); }
void *__libc_valloc(size_t n) { return valloc(n); }
void *__libc_pvalloc(size_t n) { return pvalloc(n); }
int __posix_memalign(void **out, size_t align, size_t n) { return posix_memalign(out, align, n); }

/* barealloc has no knobs of glibc's kind; 0 would read as failure to the
 * programs and test suites that set them. */
int mallopt(int param, int value)
{
	(void)param, (void)value;
	return 1;
}

/* Everything the calling thread's heap keeps for reuse goes back, with the
 * kept large mappings; 1 when anything did.  pad is glibc's top-of-heap
 * slack, which barealloc has no such thing as. */
int malloc_trim(size_t pad)
{
	(void)pad;
	return _ba_trim();
}

/* BAREALLOC_STATS=1 (so/options.c): one line on fd 2 as the program ends. */

static char *put(char *at, const char *s)
{
	while (*s)
		*at++ = *s++;
	return at;
}

static char *put_num(char *at, const char *name, unsigned long long v)
{
	char num[BA_UTOA_SIZE];

	return put(put(at, name), ba_utoa(v, num));
}

__attribute__((destructor)) static void stats_at_exit(void)
{
	struct ba_stats st;
	char line[400], *at = line;

	if (_ba_proc_init() || !_ba_os_stats_at_exit)
		return;         /* start-up reads the options, in a program that never allocated too */
	ba_stats(&st);
	at = put_num(at, "barealloc: live blocks ", st.live_blocks);
	at = put_num(at, ", in use ", st.in_use);
	at = put_num(at, " B, mapped ", st.mapped);
	at = put_num(at, " B (peak ", st.mapped_peak);
	at = put_num(at, " B, metadata ", st.meta);
	at = put_num(at, " B), mmap ", st.mmap_calls);
	at = put_num(at, ", munmap ", st.munmap_calls);
	at = put_num(at, ", mremap ", st.mremap_calls);
	at = put_num(at, ", madvise ", st.madvise_calls);
	*at++ = '\n';
	sys_write(2, line, (size_t)(at - line));
}

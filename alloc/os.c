/* The only bridge between the allocator and the kernel: mappings, with the
 * counts that ba_stats reports, and the abort on misuse. */
#include "heap.h"

#ifdef BA_TESTING
#include "hooks.h"
static long fail_after, fail_count;

void ba_test_fail_maps(long after, long count)
{
	fail_after = after;
	fail_count = count;
}

/* True when this mapping call is one that the test asked to fail. */
static int injected_failure(void)
{
	if (fail_after > 0) {
		fail_after--;
		return 0;
	}
	if (fail_count == 0)
		return 0;
	if (fail_count > 0)
		fail_count--;
	return 1;
}
#else
#define injected_failure() 0
#endif

static void count_mapped(struct heap *h, long delta)
{
	h->st.mapped += delta;
	if (h->st.mapped > h->st.mapped_peak)
		h->st.mapped_peak = h->st.mapped;
}

/* Over-maps by align - page and trims both ends when the kernel's address
 * is not aligned already: three syscalls only for a new arena or an
 * over-aligned large block. */
void *os_map(struct heap *h, size_t len, size_t align)
{
	size_t extra = align > h->page ? align - h->page : 0;

	if (len + extra < len || len + extra > PTRDIFF_MAX || injected_failure())
		return NULL;
	h->st.mmap_calls++;
	long r = sys_mmap(0, len + extra, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sys_failed(r))
		return NULL;
	uintptr_t start = (uintptr_t)r, aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
	if (aligned > start) {
		h->st.munmap_calls++;
		sys_munmap((void *)start, aligned - start);
	}
	if (start + extra > aligned) {
		h->st.munmap_calls++;
		sys_munmap((void *)(aligned + len), start + extra - aligned);
	}
	count_mapped(h, (long)len);
	return (void *)aligned;
}

/* munmap only fails for arguments barealloc never passes, or when splitting
 * a mapping would pass vm.max_map_count; barealloc unmaps whole mappings
 * or their ends, and free must not change errno, so the result is ignored. */
void os_unmap(struct heap *h, void *p, size_t len)
{
	h->st.munmap_calls++;
	sys_munmap(p, len);
	count_mapped(h, -(long)len);
}

void *os_remap(struct heap *h, void *p, size_t old, size_t len)
{
	if (len > old && injected_failure())
		return NULL;
	h->st.mremap_calls++;
	long r = sys_mremap(p, old, len, MREMAP_MAYMOVE, 0);
	if (sys_failed(r))
		return NULL;
	count_mapped(h, (long)len - (long)old);
	return (void *)r;
}

/* MADV_DONTNEED, not MADV_FREE: the pages leave the resident set at once
 * and read as zero afterwards, which calloc relies on. */
void os_purge(struct heap *h, void *p, size_t len)
{
	h->st.madvise_calls++;
	sys_madvise(p, len, MADV_DONTNEED);
}

int os_protect(void *p, size_t len, int prot)
{
	return (int)sys_mprotect(p, len, prot);
}

static char *append(char *at, const char *s)
{
	while (*s)
		*at++ = *s++;
	return at;
}

/* One line on fd 2, then SIGABRT.  Nothing here writes allocator state, so
 * the heap is exactly as the misuse found it. */
_Noreturn void ba_misuse(const char *fn, const void *p, const char *why)
{
	char line[160], hex[BA_XTOA_SIZE], *at = line;
	unsigned long long abrt = 1ULL << (SIGABRT - 1);
	unsigned long dfl[4] = { 0 };

	at = append(at, "barealloc: ");
	at = append(at, fn);
	at = append(at, "(");
	at = append(at, ba_xtoa((uintptr_t)p, hex));
	at = append(at, "): ");
	at = append(at, why);
	*at++ = '\n';
	sys_write(2, line, (size_t)(at - line));

	/* As abort(3): unblock SIGABRT and raise it; if a handler returns,
	 * restore the default action and raise it again. */
	sys_rt_sigprocmask(SIG_UNBLOCK, &abrt, 0, 8);
	sys_tgkill((int)sys_getpid(), (int)sys_gettid(), SIGABRT);
	sys_rt_sigaction(SIGABRT, dfl, 0, 8);
	sys_tgkill((int)sys_getpid(), (int)sys_gettid(), SIGABRT);
	sys_exit_group(127);
}

/* The glue's half that every backend shares: raw syscalls for memory,
 * waiting and the misuse report.  The only file in alloc/ that includes
 * ba_sys.h; what depends on how the process started (errno, the page
 * size, the random bytes) is the backend's: start/glue.c for the
 * freestanding runtime, so/glue.c for a shared object in a libc
 * process. */
#include "ba_sys.h"
#include "ba_thread.h"
#include "barealloc.h"
#include "os.h"

_Static_assert((int)OS_ENOMEM == (int)ENOMEM && (int)OS_EINVAL == (int)EINVAL,
	       "os.h's errno values are Linux's");
_Static_assert((int)OS_NONE == (int)PROT_NONE && (int)OS_READ == (int)PROT_READ &&
	       (int)OS_RW == (PROT_READ | PROT_WRITE), "os.h's protections are mmap's");

_Static_assert(sizeof(ba_mutex) == sizeof(int), "os.h: the glue's mutex is an int");

void _ba_os_lock_wait(int *m)
{
	ba_mutex_lock((ba_mutex *)m);
}

/* What ba_mutex_unlock does after its exchange found waiters. */
void _ba_os_wake(int *m)
{
	sys_futex(m, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, 0, 0, 0);
}

size_t _ba_os_page_size(void)
{
	return _ba_os_auxval(AT_PAGESZ);
}

/* AT_RANDOM's 16 bytes, else getrandom. */
int _ba_os_random(void *buf, size_t n)
{
	const unsigned char *rnd = (const unsigned char *)_ba_os_auxval(AT_RANDOM);
	unsigned char *out = buf;

	for (size_t i = 0; i < n; i++)
		out[i] = rnd ? rnd[i] : 0;
	if (rnd)
		return 1;
	return (size_t)sys_getrandom(buf, n, GRND_NONBLOCK) == n;
}

void *_ba_os_map(size_t len)
{
	long r = sys_mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return sys_failed(r) ? NULL : (void *)r;
}

/* munmap only fails for arguments barealloc never passes, or when splitting
 * a mapping would pass vm.max_map_count; barealloc unmaps whole mappings
 * or their ends, and free must not change errno, so the result is ignored. */
void _ba_os_unmap(void *p, size_t len)
{
	sys_munmap(p, len);
}

void *_ba_os_remap(void *p, size_t old, size_t len)
{
	long r = sys_mremap(p, old, len, MREMAP_MAYMOVE, 0);

	return sys_failed(r) ? NULL : (void *)r;
}

/* MADV_DONTNEED, not MADV_FREE: the pages leave the resident set at once
 * and read as zero afterwards, which calloc relies on. */
int _ba_os_purge(void *p, size_t len)
{
	return sys_failed(sys_madvise(p, len, MADV_DONTNEED)) ? -1 : 0;
}

int _ba_os_protect(void *p, size_t len, enum os_prot prot)
{
	return (int)sys_mprotect(p, len, (int)prot);
}

static char *append(char *at, const char *s)
{
	while (*s)
		*at++ = *s++;
	return at;
}

_Noreturn void _ba_os_misuse(const char *fn, const void *p, const char *why)
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

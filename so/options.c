/* The shared objects' options (the glue's _ba_os_init and
 * _ba_os_leak_foreign, alloc/os.h), read once at start-up. */
#include "ba_sys.h"
#include "../alloc/heap.h"

/* The options, from the initial environment (/proc/self/environ: the
 * libc's may not be set up yet, and getenv is not ours to call), ignored
 * in a set-user-id or otherwise secure process (AT_SECURE). */
static int leak_foreign;
int _ba_os_stats_at_exit;

static int starts(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return 0;
	return 1;
}

static void option(const char *var)
{
	if (starts(var, "BAREALLOC_FOREIGN=leak") && !var[22])
		leak_foreign = 1;
	else if (starts(var, "BAREALLOC_STATS=1") && !var[17])
		_ba_os_stats_at_exit = 1;
}

void _ba_os_init(void)
{
	char buf[4096], var[64];
	size_t len = 0;
	long fd, n;

	if (_ba_os_auxval(AT_SECURE) ||
	    sys_failed(fd = sys_openat(AT_FDCWD, "/proc/self/environ", O_RDONLY | O_CLOEXEC, 0)))
		return;
	while ((n = sys_read((int)fd, buf, sizeof buf)) > 0)
		for (long i = 0; i < n; i++) {
			if (len < sizeof var - 1)
				var[len++] = buf[i];
			if (buf[i])
				continue;
			var[len] = 0;
			option(var);
			len = 0;
		}
	sys_close((int)fd);
}

int _ba_os_leak_foreign(void)
{
	return leak_foreign;
}

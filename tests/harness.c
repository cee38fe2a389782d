/* The freestanding test harness: see t.h. */
#include "t.h"

int t_failures;
int t_clobbered;

static char line[512];
static size_t used;

void t_s(const char *s)
{
	while (*s && used < sizeof line - 1)
		line[used++] = *s++;
}

void t_nl(void)
{
	line[used++] = '\n';
	sys_write(1, line, used);
	used = 0;
}

static void put_unsigned(unsigned long long v)
{
	char buf[BA_UTOA_SIZE];

	t_s(ba_utoa(v, buf));
}

static const char *errno_name(long long e)
{
	switch (e) {
	case EPERM: return "EPERM";     case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";     case EINTR: return "EINTR";
	case EBADF: return "EBADF";     case ECHILD: return "ECHILD";
	case EAGAIN: return "EAGAIN";   case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";   case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";   case EMFILE: return "EMFILE";
	case ERANGE: return "ERANGE";   case ENOSYS: return "ENOSYS";
	case EOVERFLOW: return "EOVERFLOW";
	}
	return 0;
}

void t_d(long long v)
{
	if (v < 0) {
		t_s("-");
		put_unsigned(-(unsigned long long)v);
	} else {
		put_unsigned(v);
	}
	if (v < 0 && v >= -4095 && errno_name(-v)) {
		t_s(" (-");
		t_s(errno_name(-v));
		t_s(")");
	}
}

void t_x(unsigned long long v)
{
	char buf[BA_XTOA_SIZE];

	t_s(ba_xtoa(v, buf));
}

static void where(const char *file, int line_no)
{
	t_s(" (");
	t_s(file);
	t_s(":");
	t_d(line_no);
	t_s(")");
}

int t_check(const char *name, int ok, const char *what, const char *file, int line_no)
{
	t_s(ok ? "[OK]   " : "[FAIL] ");
	t_s(name);
	if (!ok) {
		t_s(": expected ");
		t_s(what);
		where(file, line_no);
		t_failures++;
	}
	t_nl();
	return ok;
}

int t_check_eq(const char *name, long long got, long long want, const char *file, int line_no)
{
	int ok = got == want;

	t_s(ok ? "[OK]   " : "[FAIL] ");
	t_s(name);
	if (!ok) {
		t_s(": got ");
		t_d(got);
		t_s(", want ");
		t_d(want);
		where(file, line_no);
		t_failures++;
	}
	t_nl();
	return ok;
}

void t_skip(const char *name, const char *why)
{
	t_s("[SKIP] ");
	t_s(name);
	t_s(": ");
	t_s(why);
	t_nl();
}

int t_under_qemu(void)
{
	const char *r = t_getenv("BA_TEST_RUNNER");

	return r && r[0] == 'q' && r[1] == 'e' && r[2] == 'm' && r[3] == 'u';
}

const char *t_name(const char *prefix, long long n, const char *suffix)
{
	static char buf[200];
	size_t start = used;

	/* Borrow the line builder, then move the text out of it. */
	t_s(prefix);
	t_d(n);
	t_s(suffix);
	size_t len = used - start;
	for (size_t i = 0; i < len && i < sizeof buf - 1; i++)
		buf[i] = line[start + i];
	buf[len < sizeof buf - 1 ? len : sizeof buf - 1] = 0;
	used = start;
	return buf;
}

char *t_cat(char *buf, size_t size, const char *s)
{
	size_t n = t_strlen(buf);

	while (*s && n + 1 < size)
		buf[n++] = *s++;
	buf[n] = 0;
	return buf;
}

char *t_catu(char *buf, size_t size, unsigned long long v)
{
	char digits[BA_UTOA_SIZE];

	return t_cat(buf, size, ba_utoa(v, digits));
}

char *t_catx(char *buf, size_t size, unsigned long long v)
{
	char digits[BA_XTOA_SIZE];

	return t_cat(buf, size, ba_xtoa(v, digits));
}

/* Keeps the lines of buf[0..len) that do not start with "qemu: "; returns
 * the new length. */
static size_t drop_qemu_lines(char *buf, size_t len)
{
	size_t w = 0;

	for (size_t r = 0; r < len;) {
		size_t end = r;
		while (end < len && buf[end] != '\n')
			end++;
		end += end < len;
		int qemu = end - r >= 6 && buf[r] == 'q' && buf[r + 1] == 'e' &&
			   buf[r + 2] == 'm' && buf[r + 3] == 'u' && buf[r + 4] == ':' &&
			   buf[r + 5] == ' ';
		for (size_t i = r; i < end && !qemu; i++)
			buf[w++] = buf[i];
		r = end;
	}
	return w;
}

int t_child(int (*fn)(void *), void *arg, char *out, size_t size)
{
	int fds[2], status = -1;
	size_t len = 0;
	long n;

	out[0] = 0;
	if (sys_pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	long pid = sys_fork();
	if (pid == 0) {
		sys_dup3(fds[1], 2, 0);
		sys_exit_group(fn(arg));
	}
	sys_close(fds[1]);
	for (;;) {   /* read to the end, dropping what does not fit */
		char spill[256];
		int room = len + 1 < size;
		n = room ? sys_read(fds[0], out + len, size - 1 - len)
			 : sys_read(fds[0], spill, sizeof spill);
		if (n <= 0)
			break;
		len += room ? (size_t)n : 0;
	}
	sys_close(fds[0]);
	if (t_under_qemu())
		len = drop_qemu_lines(out, len);
	out[len] = 0;
	if (sys_failed(pid) || sys_failed(sys_wait4((int)pid, &status, 0, 0)))
		return -1;
	return status;
}

int t_wait(long pid, int seconds)
{
	struct ba_timespec start, now;
	int status = 0;

	sys_clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		long r = sys_wait4((int)pid, &status, WNOHANG, 0);
		if (r == pid)
			return status;
		sys_clock_gettime(CLOCK_MONOTONIC, &now);
		if (sys_failed(r) || now.tv_sec - start.tv_sec > seconds) {
			sys_kill((int)pid, SIGKILL);
			sys_wait4((int)pid, &status, 0, 0);
			return -1;
		}
		sys_sched_yield();
	}
}

int t_contains(const char *s, const char *part)
{
	size_t n = t_strlen(s), m = t_strlen(part);

	for (size_t i = 0; i + m <= n; i++) {
		size_t j = 0;
		while (j < m && s[i + j] == part[j])
			j++;
		if (j == m)
			return 1;
	}
	return 0;
}

int t_one_line(const char *s, const char *prefix, const char *part)
{
	size_t n = t_strlen(s), k = t_strlen(prefix);

	if (n == 0 || s[n - 1] != '\n' || n < k)
		return 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '\n')
			return 0;
	for (size_t i = 0; i < k; i++)
		if (s[i] != prefix[i])
			return 0;
	return t_contains(s + k, part);
}

size_t t_rss(void)
{
	char buf[128];
	long fd = sys_openat(AT_FDCWD, "/proc/self/statm", O_RDONLY | O_CLOEXEC, 0);
	long n = sys_failed(fd) ? -1 : sys_read((int)fd, buf, sizeof buf - 1);
	size_t pages = 0;
	int i = 0;

	if (!sys_failed(fd))
		sys_close((int)fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	while (buf[i] && buf[i] != ' ')
		i++;
	while (buf[i] == ' ')
		i++;
	while (buf[i] >= '0' && buf[i] <= '9')
		pages = pages * 10 + (size_t)(buf[i++] - '0');
	return pages * (size_t)ba_getauxval(AT_PAGESZ);
}

void t_kib(const char *what, size_t bytes)
{
	t_s(what);
	t_d((long long)(bytes >> 10));
	t_s(" KiB");
}

int t_streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

size_t t_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

const char *t_getenv(const char *name)
{
	size_t n = t_strlen(name);

	for (char **e = ba_environ; e && *e; e++) {
		size_t i = 0;
		while (i < n && (*e)[i] == name[i])
			i++;
		if (i == n && (*e)[n] == '=')
			return *e + n + 1;
	}
	return 0;
}

uint64_t t_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

uint64_t t_seed(const char *test)
{
	const char *env = t_getenv("BA_TEST_SEED");
	uint64_t seed = 0;

	if (env) {
		while (*env >= '0' && *env <= '9')
			seed = seed * 10 + (uint64_t)(*env++ - '0');
	} else if (sys_getrandom(&seed, sizeof seed, 0) != sizeof seed) {
		seed = 0x9E3779B97F4A7C15ULL;
	}
	if (seed == 0)
		seed = 1;   /* xorshift's one fixed point */
	t_s("# ");
	t_s(test);
	t_s(": seed ");
	put_unsigned(seed);
	t_s(" (replay with BA_TEST_SEED=");
	put_unsigned(seed);
	t_s(")");
	t_nl();
	return seed;
}

int t_exit_status(void)
{
	return t_failures > 125 ? 125 : t_failures;
}

const char *t_join(const char *a, const char *b)
{
	static char bufs[4][240];
	static unsigned next;
	char *buf = bufs[next++ & 3];
	size_t n = 0;

	while (*a && n < sizeof bufs[0] - 1)
		buf[n++] = *a++;
	while (*b && n < sizeof bufs[0] - 1)
		buf[n++] = *b++;
	buf[n] = 0;
	return buf;
}

void t_no_core_files(void)
{
	struct ba_rlimit lim = { 0, 0 };

	sys_prlimit64(0, RLIMIT_CORE, 0, &lim);
	lim.rlim_cur = 0;
	sys_prlimit64(0, RLIMIT_CORE, &lim, 0);
}

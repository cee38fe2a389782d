/* The trace replayer: runs an allocation trace against malloc, realloc and
 * free and prints the allocator's memory utilization.  One source, built
 * freestanding against barealloc (-DBA_FREESTANDING) and hosted against
 * glibc and musl, as bench.c is.
 *
 *   replay TRACE   prints "live=B grown=B ops=K"
 *
 * The trace is the textbook format (the CMU malloc lab's .rep files): one
 * operation per line, "a ID SIZE" allocates, "r ID SIZE" reallocates, "f
 * ID" frees; any other line (a header, a comment) is skipped.  Every block
 * is written whole with a pattern of its ID, and checked whole when it is
 * freed or moved by realloc, so a broken allocator cannot post a number.
 *
 * live is the peak of the live payload (the sum of the sizes of the blocks
 * allocated and not yet freed); grown is the peak of resident memory
 * (VmHWM) minus the resident memory before the first operation, when the
 * trace is already read and the replayer's own tables written.  live /
 * grown is the utilization that bench/run.sh reports. */
#include "host.h"

#define MAX_TEXT (64u << 20)
#define MAX_OPS (4u << 20)
#define MAX_IDS (1u << 20)

struct op {
	uint32_t id, size;
	char kind;
};

static char text[MAX_TEXT];
static struct op ops[MAX_OPS];
static unsigned char *blk[MAX_IDS];
static uint32_t len[MAX_IDS];

static _Noreturn void die(const char *msg, size_t at)
{
	char out[160];
	size_t n = 0;

	say(2, "replay: ");
	say(2, msg);
	if (at) {
		for (const char *k = " at operation "; *k; k++)
			out[n++] = *k;
		put_u(out, &n, at);
	}
	out[n++] = '\n';
	sys_write(2, out, n);
	quit(1);
}

static size_t read_all(const char *path)
{
	int fd = open_ro(path);
	size_t n = 0;
	long got;

	if (fd < 0)
		die("cannot open the trace", 0);
	while ((got = sys_read(fd, text + n, MAX_TEXT - 1 - n)) > 0)
		n += (size_t)got;
	sys_close(fd);
	if (n == MAX_TEXT - 1)
		die("trace too long", 0);
	text[n] = 0;
	return n;
}

static uint32_t number(const char **s)
{
	uint64_t v = 0;

	while (**s == ' ' || **s == '\t')
		++*s;
	if (**s < '0' || **s > '9')
		die("malformed line", 0);
	for (; **s >= '0' && **s <= '9'; ++*s)
		if ((v = v * 10 + (uint64_t)(**s - '0')) > 0xffffffffu)
			die("number too large", 0);
	return (uint32_t)v;
}

static size_t parse(void)
{
	size_t n = 0;

	for (const char *s = text; *s;) {
		char k = *s;
		if (k == 'a' || k == 'r' || k == 'f') {
			if (n == MAX_OPS)
				die("too many operations", 0);
			s++;
			ops[n].kind = k;
			ops[n].id = number(&s);
			ops[n].size = k == 'f' ? 0 : number(&s);
			if (ops[n].id >= MAX_IDS)
				die("ID too large", n + 1);
			n++;
		}
		while (*s && *s != '\n')
			s++;
		if (*s)
			s++;
	}
	return n;
}

static void fill(uint32_t id, size_t from)
{
	for (size_t j = from; j < len[id]; j++)
		blk[id][j] = (unsigned char)(id * 7 + j);
}

static void check(uint32_t id, size_t n, size_t at)
{
	for (size_t j = 0; j < n; j++)
		if (blk[id][j] != (unsigned char)(id * 7 + j))
			die("a block's contents changed", at);
}

/* VmRSS or VmHWM of /proc/self/status, in bytes. */
static unsigned long long status_kib(const char *key)
{
	static char buf[8192];
	int fd = open_ro("/proc/self/status");
	size_t n = 0, klen = str_len(key);
	long got;

	if (fd < 0)
		die("cannot open /proc/self/status", 0);
	while ((got = sys_read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)got;
	sys_close(fd);
	buf[n] = 0;
	for (const char *s = buf; *s; s++) {
		size_t i = 0;
		while (i < klen && s[i] == key[i])
			i++;
		if (i == klen) {
			const char *p = s + klen;
			return (unsigned long long)number(&p) * 1024;
		}
	}
	die("no such line in /proc/self/status", 0);
}

static void put(char *out, size_t *at, const char *key, unsigned long long v)
{
	while (*key)
		out[(*at)++] = *key++;
	put_u(out, at, v);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: replay TRACE", 0);
	read_all(argv[1]);
	size_t n = parse();
	memset(blk, 0, sizeof blk);             /* the tables are part of the baseline */
	memset(len, 0, sizeof len);
	unsigned long long rss0 = status_kib("VmRSS:"), live = 0, peak = 0;

	for (size_t i = 0; i < n; i++) {
		struct op o = ops[i];
		unsigned char *p;
		if (o.kind == 'a') {
			if (blk[o.id])
				die("allocation of a live ID", i + 1);
			if (!(p = malloc(o.size ? o.size : 1)))
				die("malloc returned NULL", i + 1);
			blk[o.id] = p, len[o.id] = o.size;
			fill(o.id, 0);
			live += o.size;
		} else if (!blk[o.id]) {
			die("realloc or free of an ID that is not live", i + 1);
		} else if (o.kind == 'f') {
			check(o.id, len[o.id], i + 1);
			free(blk[o.id]);
			blk[o.id] = NULL;
			live -= len[o.id];
		} else {
			size_t old = len[o.id];
			if (!(p = realloc(blk[o.id], o.size ? o.size : 1)))
				die("realloc returned NULL", i + 1);
			blk[o.id] = p, len[o.id] = o.size;
			check(o.id, old < o.size ? old : o.size, i + 1);
			fill(o.id, old);
			live = live - old + o.size;
		}
		if (live > peak)
			peak = live;
	}
	unsigned long long hwm = status_kib("VmHWM:");
	char out[96];
	size_t at = 0;
	put(out, &at, "live=", peak);
	put(out, &at, " grown=", hwm > rss0 ? hwm - rss0 : 0);
	put(out, &at, " ops=", n);
	out[at++] = '\n';
	sys_write(1, out, at);
	return 0;
}

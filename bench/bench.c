/* The allocation micro-benchmark: one source, written against malloc and
 * free only, built freestanding against barealloc (-DBA_FREESTANDING) and
 * hosted against a libc (glibc, musl; jemalloc, mimalloc and tcmalloc
 * through LD_PRELOAD), so every allocator runs exactly the same code.
 *
 *   bench pair   SIZE N   N times: p = malloc(SIZE), touch a byte, free(p)
 *   bench random SIZE N   ROUNDS times: allocate N blocks, touch a byte of
 *                         each, free them in one fixed shuffled order
 *   bench live   SIZE N   keep N blocks of SIZE (>= 8) alive, then print
 *                         the memory the process gained for them
 *   bench mixed  0    N   keep N blocks of log-uniform sizes 16..65535 alive,
 *                         replace 4N of them one at a time at random, then
 *                         print the memory the process gained for them
 *   bench drain  SIZE N   fill N bytes with blocks of SIZE, free them all (the
 *                         last first), twice, and print the resident memory
 *                         gained at the first peak, after the first free and
 *                         after the second
 *
 * pair and random print "pairs=K", the malloc+free pairs they did; run.sh
 * measures them from outside (callgrind, strace).  live and mixed print
 * "live=B anon=B mapped=B": the bytes the blocks asked for, and the
 * growth since main started of the resident anonymous memory
 * (/proc/self/smaps_rollup "Anonymous:") and of the readable or writable
 * anonymous mappings (/proc/self/maps).  drain prints "peak=B freed=B
 * again=B" in the same way.
 * A NULL from malloc ends the run with status 1, so a failing allocator
 * cannot post a number. */
#include "host.h"

#define ROUNDS 10          /* of the random workload: the first one grows the heap */
#define MAXN (1u << 17)    /* live blocks at most, for random and mixed */

static char *ptrs[MAXN];
static uint32_t order[MAXN];   /* random: the free order; mixed: block sizes */
static void *volatile sink;    /* a pointer stored here escapes: gcc cannot drop the pair */

static _Noreturn void die(const char *msg)
{
	say(2, "bench: ");
	say(2, msg);
	say(2, "\n");
	quit(1);
}

static char *xmalloc(size_t n)
{
	char *p = malloc(n);
	if (!p)
		die("malloc returned NULL");
	return p;
}

static size_t atou(const char *s)
{
	size_t v = 0;
	if (!*s)
		die("empty number");
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			die("not a number");
		v = v * 10 + (size_t)(*s - '0');
	}
	return v;
}

/* The same sequence for every allocator. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	return xorshift(&rng);
}

/* --- Reading /proc without allocating: a file, line by line. --- */

static char iobuf[4096], line[512];

static void each_line(const char *path, void (*fn)(const char *))
{
	int fd = open_ro(path);
	size_t n = 0;
	long got;

	if (fd < 0)
		die("cannot open a /proc file");
	while ((got = sys_read(fd, iobuf, sizeof iobuf)) > 0)
		for (long i = 0; i < got; i++) {
			if (iobuf[i] != '\n') {
				if (n < sizeof line - 1)   /* a longer line is cut: only its head matters */
					line[n++] = iobuf[i];
				continue;
			}
			line[n] = 0;
			fn(line);
			n = 0;
		}
	sys_close(fd);
}

static unsigned long long anon, mapped;

static void anon_line(const char *l)
{
	static const char key[] = "Anonymous:";
	unsigned long long kb = 0;

	for (size_t i = 0; i < sizeof key - 1; i++)
		if (l[i] != key[i])
			return;
	for (l += sizeof key - 1; *l; l++)
		if (*l >= '0' && *l <= '9')
			kb = kb * 10 + (unsigned long long)(*l - '0');
	anon += kb * 1024;
}

static unsigned long long hex(const char **s)
{
	unsigned long long v = 0;
	for (;; ++*s) {
		char c = **s;
		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned long long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (unsigned long long)(c - 'a' + 10);
		else
			return v;
	}
}

/* "lo-hi perms offset dev inode [path]": counts an anonymous or [heap]
 * mapping that can be read or written (a PROT_NONE reservation costs no
 * memory). */
static void maps_line(const char *l)
{
	unsigned long long lo = hex(&l);
	l++;
	unsigned long long hi = hex(&l);
	l++;
	int usable = l[0] == 'r' || l[1] == 'w';
	for (int field = 0; field < 4; field++) {   /* perms, offset, dev, inode */
		while (*l && *l != ' ')
			l++;
		while (*l == ' ')
			l++;
	}
	int anonymous = !*l || (l[0] == '[' && l[1] == 'h');   /* "" or "[heap]" */
	if (usable && anonymous)
		mapped += hi - lo;
}

static void measure(void)
{
	anon = mapped = 0;
	each_line("/proc/self/smaps_rollup", anon_line);
	each_line("/proc/self/maps", maps_line);
}

/* --- The workloads. --- */

static void pair(size_t size, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *p = xmalloc(size);
		p[0] = (char)i;
		sink = p;
		free(p);
	}
}

static void random_order(size_t size, size_t n)
{
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	for (uint32_t i = (uint32_t)n; i > 1; i--) {   /* Fisher-Yates */
		uint32_t j = rnd() % i, t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	for (int r = 0; r < ROUNDS; r++) {
		for (size_t i = 0; i < n; i++) {
			ptrs[i] = xmalloc(size);
			ptrs[i][0] = (char)i;
		}
		for (size_t i = 0; i < n; i++)
			free(ptrs[order[i]]);
	}
}

/* N live blocks of SIZE, chained through their first word: no array
 * outside the heap grows with N. */
static unsigned long long live(size_t size, size_t n)
{
	void **head = 0;
	if (size < sizeof(void *))
		die("live needs SIZE >= 8");
	for (size_t i = 0; i < n; i++) {
		void **p = (void **)xmalloc(size);
		memset(p, 0x5a, size);
		p[0] = head;
		head = p;
	}
	sink = head;
	return (unsigned long long)n * size;
}

/* log-uniform in 16..65535: a power of two 16..32768, plus a uniform part. */
static uint32_t mixed_size(void)
{
	uint32_t e = 4 + rnd() % 12;
	return (1u << e) | (rnd() & ((1u << e) - 1));
}

static unsigned long long mixed(size_t n)
{
	unsigned long long total = 0;
	for (size_t i = 0; i < 5 * n; i++) {
		size_t k = i < n ? i : rnd() % n;   /* fill, then churn 4N replacements */
		if (i >= n) {
			free(ptrs[k]);
			total -= order[k];
		}
		order[k] = mixed_size();
		ptrs[k] = xmalloc(order[k]);
		memset(ptrs[k], 0x5a, order[k]);   /* resident, as a program's data is */
		total += order[k];
	}
	return total;
}

/* N bytes of SIZE blocks, chained through their first word, then freed
 * from the last one made. */
static void fill_and_free(size_t size, size_t n, unsigned long long *peak)
{
	void **head = 0;
	for (size_t done = 0; done < n; done += size) {
		void **p = (void **)xmalloc(size);
		memset(p, 0x5a, size);
		p[0] = head;
		head = p;
	}
	measure();
	*peak = anon;
	while (head) {
		void **next = head[0];
		free(head);
		head = next;
	}
}

static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* One output line, "key=value" pairs: keys[i] is "name=" or " name=". */
static void report(int n, const char *const *keys, const unsigned long long *values)
{
	char out[160];
	size_t at = 0;
	for (int i = 0; i < n; i++) {
		for (const char *k = keys[i]; *k; k++)
			out[at++] = *k;
		put_u(out, &at, values[i]);
	}
	out[at++] = '\n';
	sys_write(1, out, at);
}

int main(int argc, char **argv, char **envp)
{
	(void)envp;
	if (argc != 4)
		die("usage: bench pair|random|live|mixed|drain SIZE N");
	const char *w = argv[1];
	size_t size = atou(argv[2]), n = atou(argv[3]);
	unsigned long long v[3];

	if ((same(w, "random") || same(w, "mixed")) && n > MAXN)
		die("N too large");
	if (same(w, "pair") || same(w, "random")) {
		if (same(w, "pair"))
			pair(size, n);
		else
			random_order(size, n);
		/* run.sh divides the cost by the difference of two runs' pairs. */
		v[0] = same(w, "pair") ? n : (unsigned long long)n * ROUNDS;
		report(1, (const char *const[]){ "pairs=" }, v);
		return 0;
	}
	if (same(w, "drain")) {
		unsigned long long peak;
		if (size < sizeof(void *))
			die("drain needs SIZE >= 8");
		measure();
		unsigned long long anon0 = anon;
		fill_and_free(size, n, &peak);
		measure();
		v[0] = peak - anon0;
		v[1] = anon - anon0;
		fill_and_free(size, n, &peak);
		measure();
		v[2] = anon - anon0;
		report(3, (const char *const[]){ "peak=", " freed=", " again=" }, v);
		return 0;
	}
	if (!same(w, "live") && !same(w, "mixed"))
		die("unknown workload");

	/* Touch the arrays first so that they are part of the baseline. */
	memset(ptrs, 0, sizeof ptrs);
	memset(order, 0, sizeof order);
	measure();
	unsigned long long anon0 = anon, mapped0 = mapped;
	v[0] = same(w, "live") ? live(size, n) : mixed(n);
	measure();
	v[1] = anon - anon0;
	v[2] = mapped - mapped0;
	report(3, (const char *const[]){ "live=", " anon=", " mapped=" }, v);
	return 0;
}

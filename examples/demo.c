/* The runtime at work: what _start passed in, then one page mapped,
 * written, read back and unmapped, with each syscall's raw result. */
#include "ba_sys.h"

static void say(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	sys_write(1, s, n);
}

static void say_num(const char *label, long long v)
{
	char buf[BA_UTOA_SIZE];

	say(label);
	if (v < 0) {
		say("-");
		v = -v;
	}
	say(ba_utoa((unsigned long long)v, buf));
	say("\n");
}

static void say_hex(const char *label, unsigned long v)
{
	char buf[BA_XTOA_SIZE];

	say(label);
	say(ba_xtoa(v, buf));
	say("\n");
}

int main(int argc, char **argv, char **envp)
{
	(void)envp;
	say_num("argc          ", argc);
	for (int i = 0; i < argc; i++) {
		say("argv[");
		char buf[BA_UTOA_SIZE];
		say(ba_utoa((unsigned)i, buf));
		say("]       ");
		say(argv[i]);
		say("\n");
	}
	unsigned long page = ba_getauxval(AT_PAGESZ);
	say_num("AT_PAGESZ     ", (long long)page);
	say_hex("AT_RANDOM     ", ba_getauxval(AT_RANDOM));

	long p = sys_mmap(0, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	say_hex("mmap          ", (unsigned long)p);
	if (sys_failed(p))
		return 1;
	char *c = (char *)p;
	c[0] = 42;
	c[page - 1] = 7;
	say_num("read back     ", c[0] + c[page - 1]);
	say_num("munmap        ", sys_munmap(c, page));
	say_num("munmap again, misaligned (-EINVAL = -22) ", sys_munmap(c + 1, page));
	return 0;
}

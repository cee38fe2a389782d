/* What _start hands to main: argc, argv, envp and the auxiliary vector, as
 * the runner passed them, with the stack aligned and the frame chain ended.
 * tests/run.sh runs every program as
 *   env -i BA_TEST_ENV='one two' BA_TEST_EMPTY= prog alpha 'two words' ''
 */
#include "t.h"

extern char _start[];

static int ctor_ran;
static uintptr_t ctor_sp_mod16 = 99;

/* The stack pointer before the call that entered the calling function:
 * the frame address plus the saved frame pointer and the return address. */
static __attribute__((noinline)) uintptr_t caller_sp_mod16(void)
{
	void **own_frame = __builtin_frame_address(0);

	return ((uintptr_t)*own_frame + 2 * sizeof(void *)) % 16;
}

/* Constructors are called from the C start code, so a misaligned _start
 * shows here even on i386, where gcc realigns main's own stack. */
__attribute__((constructor)) static void ctor(void)
{
	ctor_ran = 1;
	ctor_sp_mod16 = ((uintptr_t)__builtin_frame_address(0) + 2 * sizeof(void *)) % 16;
}

static int frame_chain_ends(void)
{
	void **fp = __builtin_frame_address(0);

	for (int depth = 0; depth < 8 && fp; depth++)
		fp = *fp;
	return fp == 0;
}

/* The auxv as the kernel (or qemu) reports it in /proc/self/auxv. */
static unsigned long proc_auxv[128];

static long read_proc_auxv(void)
{
	long fd = sys_openat(AT_FDCWD, "/proc/self/auxv", O_RDONLY | O_CLOEXEC, 0);
	long total = 0, n;

	if (sys_failed(fd))
		return fd;
	while ((n = sys_read((int)fd, (char *)proc_auxv + total, sizeof proc_auxv - total)) > 0)
		total += n;
	sys_close((int)fd);
	return sys_failed(n) ? n : total;
}

static void test_args(int argc, char **argv, char **envp)
{
	T_EQ("argc counts the runner's three arguments", argc, 4);
	T_TRUE("argv[1] is \"alpha\"", argc > 1 && t_streq(argv[1], "alpha"));
	T_TRUE("argv[2] keeps its space", argc > 2 && t_streq(argv[2], "two words"));
	T_TRUE("argv[3] is empty", argc > 3 && t_streq(argv[3], ""));
	T_TRUE("argv[argc] is NULL", argv[argc] == 0);
	T_TRUE("envp follows argv's NULL", envp == argv + argc + 1);
	T_TRUE("ba_environ is envp", ba_environ == envp);
	T_TRUE("BA_TEST_ENV is passed whole", t_getenv("BA_TEST_ENV") &&
					       t_streq(t_getenv("BA_TEST_ENV"), "one two"));
	T_TRUE("an empty variable is passed", t_getenv("BA_TEST_EMPTY") &&
					       *t_getenv("BA_TEST_EMPTY") == 0);
	T_TRUE("an unset variable is absent", t_getenv("BA_TEST_UNSET") == 0);
}

static void test_auxv(char **envp)
{
	char **end = envp;
	while (*end)
		end++;
	T_TRUE("auxv follows envp's NULL", ba_auxv == (unsigned long *)(end + 1));

	long bytes = read_proc_auxv();
	T_TRUE("/proc/self/auxv is readable", bytes > 0);
	long words = bytes > 0 ? bytes / (long)sizeof(unsigned long) : 0;
	long i = 0, same = 1;
	for (; i < words && same; i += 2) {
		same = ba_auxv[i] == proc_auxv[i] && ba_auxv[i + 1] == proc_auxv[i + 1];
		if (proc_auxv[i] == AT_NULL)
			break;
	}
	T_TRUE("every auxv pair matches /proc/self/auxv", same && i < words);

	unsigned long page = ba_getauxval(AT_PAGESZ);
	T_TRUE("AT_PAGESZ is a power of two >= 4096", page >= 4096 && (page & (page - 1)) == 0);
	T_TRUE("AT_ENTRY is _start", ba_getauxval(AT_ENTRY) == (unsigned long)_start);

	const unsigned char *rnd = (const unsigned char *)ba_getauxval(AT_RANDOM);
	int nonzero = 0;
	for (int k = 0; rnd && k < 16; k++)
		nonzero |= rnd[k];
	T_TRUE("AT_RANDOM points at 16 bytes that are not all zero", rnd && nonzero);
	T_EQ("an absent key gives 0", ba_getauxval(0x7fff), 0);
}

int main(int argc, char **argv, char **envp)
{
	test_args(argc, argv, envp);
	test_auxv(envp);
	T_TRUE("constructors run before main", ctor_ran);
	T_EQ("the stack is 16-byte aligned at the call into the start code", ctor_sp_mod16, 0);
	T_EQ("the stack is 16-byte aligned at the call into main", caller_sp_mod16(), 0);
	T_TRUE("the frame-pointer chain ends in NULL", frame_chain_ends());
	return t_exit_status();
}

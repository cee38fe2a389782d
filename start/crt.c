/* The portable half of program start: walk the initial stack that _start
 * hands over, run constructors, call main and exit with its status. */
#include "ba_sys.h"

char **ba_environ;
unsigned long *ba_auxv;

/* main may be declared with no parameters, two or three: called with all
 * three, it uses the ones it declares (the System V calling convention
 * lets a callee ignore trailing arguments). */
int main(int argc, char **argv, char **envp);

typedef void (*ba_ctor)(int, char **, char **);
typedef void (*ba_dtor)(void);
extern ba_ctor __preinit_array_start[], __preinit_array_end[];
extern ba_ctor __init_array_start[], __init_array_end[];
extern ba_dtor __fini_array_start[], __fini_array_end[];

unsigned long ba_getauxval(unsigned long key)
{
	for (unsigned long *a = ba_auxv; a && a[0] != AT_NULL; a += 2)
		if (a[0] == key)
			return a[1];
	return 0;
}

static void run_ctors(ba_ctor *begin, ba_ctor *end, int argc, char **argv, char **envp)
{
	for (ba_ctor *f = begin; f < end; f++)
		(*f)(argc, argv, envp);
}

/* Called by start/<isa>.asm: hidden, as every internal name is. */
__attribute__((visibility("hidden"))) _Noreturn void _ba_start_c(long *sp);

/* sp points at argc; argv, envp and auxv follow it, each list ending with a
 * NULL word (auxv with an AT_NULL pair). */
_Noreturn void _ba_start_c(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	char **envp = argv + argc + 1;
	char **end = envp;

	while (*end)
		end++;
	ba_environ = envp;
	ba_auxv = (unsigned long *)(end + 1);

	run_ctors(__preinit_array_start, __preinit_array_end, argc, argv, envp);
	run_ctors(__init_array_start, __init_array_end, argc, argv, envp);
	int status = main(argc, argv, envp);
	for (ba_dtor *f = __fini_array_end; f > __fini_array_start;)
		(*--f)();
	sys_exit_group(status);
}

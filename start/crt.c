/* The portable half of program start: walk the initial stack that _start
 * hands over, run constructors, call main and exit with its status. */
#include "thread.h"
#include "barealloc.h"

#define MAIN_TLS_ON_STACK 16384

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

	/* The main thread's TLS and control block: on this frame, which lives
	 * as long as the process, unless the program's TLS is big. */
	size_t need = _ba_tls_main_need();
	char *tls = need <= MAIN_TLS_ON_STACK ? __builtin_alloca(need) : NULL;
	if (tls) {
		memset(tls, 0, need);
	} else {
		long m = sys_mmap(0, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (sys_failed(m)) {
			static const char msg[] = "barealloc: no memory for thread-local storage\n";
			sys_write(2, msg, sizeof msg - 1);
			sys_exit_group(127);
		}
		tls = (char *)m;
	}
	_ba_tls_init_main(tls, need);

	run_ctors(__preinit_array_start, __preinit_array_end, argc, argv, envp);
	run_ctors(__init_array_start, __init_array_end, argc, argv, envp);
	int status = main(argc, argv, envp);
	for (ba_dtor *f = __fini_array_end; f > __fini_array_start;)
		(*--f)();
	sys_exit_group(status);
}

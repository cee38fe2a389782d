/* int main(void) compiles and runs: _start calls main with argc, argv and
 * envp, and a main that declares none of them ignores them.  The process
 * state is there all the same. */
#include "t.h"

int main(void)
{
	T_TRUE("int main(void) runs, with the environment set up", t_getenv("BA_TEST_ENV") != 0);
	T_TRUE("... and the auxiliary vector", ba_getauxval(AT_PAGESZ) == 4096);
	return t_exit_status();
}

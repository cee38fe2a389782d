/* int main(int argc, char **argv) compiles and gets its arguments (the
 * runner passes alpha, 'two words' and an empty one). */
#include "t.h"

int main(int argc, char **argv)
{
	T_EQ("int main(int argc, char **argv): argc", argc, 4);
	T_TRUE("... argv[1] and argv[2]", t_streq(argv[1], "alpha") && t_streq(argv[2], "two words"));
	T_TRUE("... argv[argc] is NULL", argv[argc] == 0);
	return t_exit_status();
}

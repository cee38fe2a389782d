/* Returns the number given as argv[1] from main: tests/run.sh checks that
 * _start passes it to exit_group, as the shell sees it (status & 255). */
#include "ba_sys.h"

int main(int argc, char **argv, char **envp)
{
	(void)envp;
	if (argc < 2)
		return 100;
	const char *s = argv[1];
	int sign = 1, n = 0;
	if (*s == '-') {
		sign = -1;
		s++;
	}
	while (*s >= '0' && *s <= '9')
		n = n * 10 + (*s++ - '0');
	return sign * n;
}

/* The launcher of make bench-preload (bench/preload.sh): runs a program to
 * its end and writes its wall time and its peak resident memory to a file.
 *
 *   wall [-R] [-t SECONDS] [-p LIBRARY] RESULT PROGRAM [ARG...]
 *
 * writes "ns=T cpu_ns=C maxrss_kib=K status=S" to RESULT.  T: CLOCK_MONOTONIC
 * from just before the fork to the return of wait4.  C: the user and system
 * time of wait4's rusage, the program's and that of the programs it started
 * and waited for, all its threads included.  K: ru_maxrss of wait4's
 * rusage, the kernel's VmHWM of the program at its exit or, where it
 * started programs of its own and waited for them (gcc's cc1 and as), of
 * the largest of them if that is higher.  S: the program's exit status,
 * 128 + the signal when one killed it.
 *
 * -p sets LD_PRELOAD=LIBRARY in the program's environment only, so that the
 * launcher itself runs on glibc's malloc whatever the library.  -R starts
 * the program without address randomisation (setarch -R's personality,
 * set in the child: a setarch process in between would add its own
 * resident memory to K).  -t kills the program and whatever it started (it
 * runs in a process group of its own; SIGKILL, status 137) when it has not
 * ended after SECONDS.  The program inherits the launcher's
 * standard streams and the rest of its environment; the caller redirects
 * them.  The launcher's own status is 0 when it could measure, whatever
 * the program's. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child;

static void on_alarm(int sig)
{
	(void)sig;
	kill(-child, SIGKILL);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const char *preload = NULL;
	unsigned timeout = 0;
	int norandom = 0, opt;

	while ((opt = getopt(argc, argv, "+Rt:p:")) != -1)
		switch (opt) {
		case 'R': norandom = 1; break;
		case 't': timeout = (unsigned)atoi(optarg); break;
		case 'p': preload = optarg; break;
		default: goto usage;
		}
	if (argc - optind < 2) {
usage:
		fprintf(stderr, "usage: wall [-R] [-t SECONDS] [-p LIBRARY] RESULT PROGRAM [ARG...]\n");
		return 2;
	}
	FILE *out = fopen(argv[optind], "w");
	if (!out)
		return perror(argv[optind]), 2;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);

	long long t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0)
		return perror("wall: fork"), 2;
	if (pid == 0) {
		setpgid(0, 0);
		if (norandom && personality((unsigned long)personality(0xffffffff) | ADDR_NO_RANDOMIZE) == -1)
			perror("wall: personality");
		if (preload && setenv("LD_PRELOAD", preload, 1))
			perror("wall: setenv");
		execvp(argv[optind + 1], argv + optind + 1);
		perror("wall: exec");
		_exit(127);
	}
	setpgid(pid, pid);      /* as the child does: whichever runs first */
	child = pid;
	if (timeout)
		alarm(timeout);
	int st;
	struct rusage ru;
	if (wait4(pid, &st, 0, &ru) != pid)
		return perror("wall: wait4"), 2;
	long long t1 = now_ns();
	alarm(0);
	long long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ll +
		(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ll;
	fprintf(out, "ns=%lld cpu_ns=%lld maxrss_kib=%ld status=%d\n", t1 - t0, cpu, ru.ru_maxrss,
		WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return fclose(out) ? 2 : 0;
}

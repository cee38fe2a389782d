/* The peak-memory launcher: runs a program to its end and prints the peak
 * of its resident memory, VmHWM of /proc/PID/status, read at the moment it
 * exits (a ptrace exit stop: the process still has its memory, and its
 * high-water mark covers the whole run, start-up included).  A freestanding
 * program cannot be asked to print its own VmHWM at exit without changing
 * what it holds, so the launcher reads it from outside.
 *
 *   peak PROGRAM [ARG...]   prints "hwm_kib=K status=S" on stdout
 *
 * S is the program's exit status (128 + the signal when one killed it);
 * the launcher's own status is 0 when it could measure. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static long vm_hwm(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: peak PROGRAM [ARG...]\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0)
		return perror("peak: fork"), 2;
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execv(argv[1], argv + 1);
		perror("peak: exec");
		_exit(127);
	}
	int st;
	long hwm = -1;
	if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st))     /* the stop at exec */
		return fprintf(stderr, "peak: %s did not start\n", argv[1]), 2;
	ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL));
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	for (;;) {
		if (waitpid(pid, &st, 0) != pid)
			return perror("peak: waitpid"), 2;
		if (WIFEXITED(st) || WIFSIGNALED(st))
			break;
		int sig = 0;
		if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)))
			hwm = vm_hwm(pid);
		else
			sig = WSTOPSIG(st);     /* the program's own signal: pass it on */
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
	}
	if (hwm < 0)
		return fprintf(stderr, "peak: no VmHWM for %s\n", argv[1]), 2;
	printf("hwm_kib=%ld status=%d\n", hwm, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}

/* Row 41 with glibc's stdio: fork while one thread flushes every stream
 * (holding glibc's list of streams) and another reads lines from a
 * stream it holds locked, whose getline allocates.  glibc's fork takes
 * the list's lock before its malloc's locks; barealloc's fork hooks must
 * come after it too, or the three threads wait for each other for good.
 * A watchdog ends a run that stops forking. */
#define _GNU_SOURCE
#include "hosted.h"
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

static FILE *f;
static volatile int stop;
static volatile long forks;

static void *flusher(void *unused)
{
	while (!stop)
		fflush(NULL);
	return unused;
}

static void *reader(void *unused)
{
	char *line = 0;
	size_t cap = 0;

	while (!stop) {
		flockfile(f);
		rewind(f);
		for (int i = 0; i < 4 && getline(&line, &cap, f) >= 0; i++) {
			free(line);
			line = 0;
			cap = 0;
		}
		funlockfile(f);
	}
	free(line);
	return unused;
}

static void watchdog(int sig)
{
	static const char msg[] = "[FAIL] row 41, stdio: fork while threads flush and read streams: "
				  "no progress in 20 s (deadlock)\n";
	(void)sig;
	if (write(1, msg, sizeof msg - 1) < 0)
		_exit(125);
	_exit(125);
}

int main(void)
{
	pthread_t t1, t2;
	int bad = 0, secs = h_under_qemu() ? 1 : 3;

	f = tmpfile();
	for (int i = 0; f && i < 8; i++) {
		for (int j = 0; j < 200000; j++)
			fputc('a' + i, f);
		fputc('\n', f);
	}
	if (!f || fflush(f) || pthread_create(&t1, 0, flusher, 0) || pthread_create(&t2, 0, reader, 0)) {
		h_line("[FAIL] row 41, stdio: setting up the stream and the threads failed");
		return 1;
	}
	signal(SIGALRM, watchdog);
	alarm(20);
	for (time_t end = time(0) + secs; time(0) < end; forks++) {
		int st = 0;
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		bad += p < 0 || waitpid(p, &st, 0) != p || st != 0;
	}
	stop = 1;
	pthread_join(t1, 0);
	pthread_join(t2, 0);
	alarm(0);
	CHECK(!bad && forks > 0, "row 41, stdio: fork while threads flush and read streams (getline allocates)",
	      "%ld forks, %d failed", (long)forks, bad);
	return h_exit_status();
}

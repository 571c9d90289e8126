// SPDX-License-Identifier: GPL-2.0
/*
 * Measure how late a high-priority thread wakes up on one CPU.
 *
 * Pins itself to CPU, becomes SCHED_FIFO at priority 99 and sleeps PERIOD_US
 * at a time (absolute deadlines, CLOCK_MONOTONIC) until STOP_FILE exists;
 * each wake-up's delay past its deadline is a sample. Under a kernel that
 * is not preemptible (PREEMPT_NONE or PREEMPT_VOLUNTARY), a task that runs
 * in the kernel on that CPU without a reschedule point delays the thread
 * until it reaches one, so the longest delay bounds the longest stretch
 * without one. Prints "max_us=M samples=N over_1ms=K over_10ms=L" and
 * exits 0; creates READY_FILE once it runs at its priority.
 *
 * Usage: guest-latency CPU PERIOD_US READY_FILE STOP_FILE
 * Exit status: 1 on bad arguments, or if it cannot pin itself or take its
 * priority.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(int argc, char **argv)
{
	struct sched_param sp = { .sched_priority = 99 };
	long long period, delay, max = 0, over1 = 0, over10 = 0, n = 0;
	struct timespec next, now;
	cpu_set_t set;
	char *end;
	long cpu;
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: %s CPU PERIOD_US READY_FILE STOP_FILE\n", argv[0]);
		return 1;
	}
	cpu = strtol(argv[1], &end, 10);
	if (end == argv[1] || *end || cpu < 0 || cpu >= CPU_SETSIZE) {
		fprintf(stderr, "bad CPU '%s'\n", argv[1]);
		return 1;
	}
	period = strtoll(argv[2], &end, 10);
	if (end == argv[2] || *end || period <= 0 || period > 60000000) {
		fprintf(stderr, "bad PERIOD_US '%s'\n", argv[2]);
		return 1;
	}
	period *= 1000;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "cannot pin to CPU %ld: %s\n", cpu, strerror(errno));
		return 1;
	}
	if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
		fprintf(stderr, "cannot take SCHED_FIFO 99: %s\n", strerror(errno));
		return 1;
	}
	fd = open(argv[3], O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (access(argv[4], F_OK)) {
		long long t = ns(&next) + period;

		next.tv_sec = t / 1000000000LL;
		next.tv_nsec = t % 1000000000LL;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		clock_gettime(CLOCK_MONOTONIC, &now);
		delay = ns(&now) - ns(&next);
		n++;
		if (delay > max)
			max = delay;
		over1 += delay > 1000000;
		over10 += delay > 10000000;
		/* After a long delay, start again from now, not from deadlines long past. */
		if (delay > period)
			next = now;
	}
	printf("max_us=%lld samples=%lld over_1ms=%lld over_10ms=%lld\n",
	       max / 1000, n, over1, over10);
	return 0;
}

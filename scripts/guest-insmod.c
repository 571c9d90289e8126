// SPDX-License-Identifier: GPL-2.0
/*
 * Load a kernel module once, with finit_module(2), and report the result.
 *
 * busybox insmod retries a failed finit_module() with init_module(), which
 * runs a module whose init fails on purpose (test_vmalloc.ko returns
 * -EAGAIN after its run) a second time. This loads it exactly once.
 *
 * With FAIL_PAGE_ALLOC_PROBABILITY set, it writes that percentage to
 * fail_page_alloc's probability just before the load and 0 right after it,
 * so that injected page-allocation failures hit the module's run but never
 * the guest's shell (a fork that fails would kill init).
 *
 * Usage: guest-insmod MODULE.ko [PARAM=VALUE...]
 * Exit status: 0 if the module loaded or its init returned -EAGAIN, else 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FAIL_PROBABILITY "/sys/kernel/debug/fail_page_alloc/probability"

static int set_fail_probability(const char *percent)
{
	int fd = open(FAIL_PROBABILITY, O_WRONLY | O_CLOEXEC);
	ssize_t n = -1;

	if (fd >= 0) {
		n = write(fd, percent, strlen(percent));
		close(fd);
	}
	if (n < 0)
		fprintf(stderr, "guest-insmod: %s: %s\n", FAIL_PROBABILITY, strerror(errno));
	return n < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *fail = getenv("FAIL_PAGE_ALLOC_PROBABILITY");
	long ret;
	int err;
	char params[4096] = "";
	size_t len = 0;
	int fd, i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s MODULE.ko [PARAM=VALUE...]\n", argv[0]);
		return 1;
	}
	for (i = 2; i < argc; i++) {
		int n = snprintf(params + len, sizeof(params) - len, "%s%s",
				 len ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= sizeof(params) - len) {
			fprintf(stderr, "%s: parameters too long\n", argv[0]);
			return 1;
		}
		len += n;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	if (fail && set_fail_probability(fail))
		return 1;
	ret = syscall(SYS_finit_module, fd, params, 0);
	err = errno;
	if (fail && set_fail_probability("0"))
		return 1;
	if (ret == 0 || err == EAGAIN)
		return 0;
	fprintf(stderr, "%s: loading %s failed: %s\n", argv[0], argv[1], strerror(err));
	return 1;
}

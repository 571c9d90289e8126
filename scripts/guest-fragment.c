// SPDX-License-Identifier: GPL-2.0
/*
 * Bring the guest's free memory down to order-0 holes, then hold it.
 *
 * Fills anonymous memory (no THP) until MemFree is down to RESERVE_KB,
 * reading MemFree as it goes (the kernel's own use grows meanwhile: page
 * tables, KASAN's quarantine), then gives back HOLES_KB of it one page at a
 * time, spread evenly over the whole filled range, so that the pages given
 * back have no free buddy: free memory is then about RESERVE_KB + HOLES_KB,
 * mostly as isolated order-0 pages, and high-order allocations that may not
 * reclaim or compact fail. Creates READY_FILE when done and sleeps until
 * killed (the memory stays taken).
 *
 * Usage: guest-fragment RESERVE_KB HOLES_KB READY_FILE
 * Exit status: 1 on bad arguments or when memory cannot be taken.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static long meminfo_kb(const char *key)
{
	char line[256];
	long val = -1;
	size_t len = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, len) && line[len] == ':') {
			val = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	long reserve_kb, holes_kb, free_kb, max_pages, fill_pages, hole_pages, stride, i;
	const long chunk = 256;		/* pages touched between MemFree reads */
	char *mem;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: %s RESERVE_KB HOLES_KB READY_FILE\n", argv[0]);
		return 1;
	}
	reserve_kb = atol(argv[1]);
	holes_kb = atol(argv[2]);
	free_kb = meminfo_kb("MemFree");
	if (free_kb < 0 || reserve_kb < 0 || holes_kb <= 0) {
		fprintf(stderr, "guest-fragment: bad arguments or no MemFree\n");
		return 1;
	}
	max_pages = (free_kb - reserve_kb) * 1024 / page;
	hole_pages = holes_kb * 1024 / page;
	if (max_pages < 2 * hole_pages) {
		fprintf(stderr, "guest-fragment: MemFree %ld kB is too small for %ld kB reserve + %ld kB holes\n",
			free_kb, reserve_kb, holes_kb);
		return 1;
	}
	mem = mmap(NULL, max_pages * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		perror("guest-fragment: mmap");
		return 1;
	}
	/* Order-0 pages only: a huge page would be given back whole. */
	madvise(mem, max_pages * page, MADV_NOHUGEPAGE);
	for (fill_pages = 0; fill_pages < max_pages; fill_pages++) {
		if (fill_pages % chunk == 0 && meminfo_kb("MemFree") <= reserve_kb)
			break;
		mem[fill_pages * page] = 1;
	}
	if (fill_pages < 2 * hole_pages) {
		fprintf(stderr, "guest-fragment: only %ld pages could be filled, too few for %ld kB holes\n",
			fill_pages, holes_kb);
		return 1;
	}

	stride = fill_pages / hole_pages;
	for (i = 0; i < hole_pages; i++) {
		if (madvise(mem + i * stride * page, page, MADV_DONTNEED)) {
			perror("guest-fragment: madvise");
			return 1;
		}
	}
	printf("guest-fragment: filled %ld kB, gave back %ld kB as single pages (every %ld pages)\n",
	       fill_pages * page / 1024, hole_pages * page / 1024, stride);
	fflush(stdout);

	fd = open(argv[3], O_CREAT | O_WRONLY, 0644);
	if (fd < 0) {
		perror("guest-fragment: ready file");
		return 1;
	}
	close(fd);
	for (;;)
		pause();
}

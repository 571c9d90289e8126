// SPDX-License-Identifier: GPL-2.0
/*
 * Bring the guest's free memory down to order-0 holes, then hold it.
 *
 * Fills anonymous memory (no THP) until MemFree is down to RESERVE_KB,
 * reading MemFree as it goes (the kernel's own use grows meanwhile: page
 * tables, KASAN's quarantine), then gives back HOLES_KB of it one page at a
 * time, spread evenly over the whole range, so that the pages given back
 * have no free buddy. The order-0 fill leaves the largest free blocks for
 * last, so it then takes every free block of order TAKE_ORDER or above
 * (/proc/buddyinfo, any zone) with transparent huge page faults, which take
 * such a block or nothing (the caller sets THP defrag to "never", so they
 * neither reclaim nor compact), until none has formed for 3 s. Free memory
 * is then about RESERVE_KB + HOLES_KB, without a block of order TAKE_ORDER
 * or above that such an allocation can take, mostly as isolated order-0
 * pages, and high-order allocations that may not reclaim or compact fail.
 * Prints what it did and "untaken=N", the free order-TAKE_ORDER units that
 * the faults could not take; creates READY_FILE when done and sleeps until
 * killed (the memory stays taken).
 *
 * Usage: guest-fragment RESERVE_KB HOLES_KB TAKE_ORDER READY_FILE
 * Exit status: 1 on bad arguments, when memory cannot be taken, or when
 * blocks of order TAKE_ORDER still form after a minute.
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

/*
 * Free memory in blocks of order @order or above, all zones, in units of
 * 2^@order pages (an order-10 block is two units), from /proc/buddyinfo.
 */
static long high_order_units(int order)
{
	char line[512], *tok;
	long units = 0;
	int o;
	FILE *f = fopen("/proc/buddyinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* "Node 0, zone   DMA32   count(order 0) count(order 1) ..." */
		tok = strstr(line, "zone");
		if (!tok)
			continue;
		strtok(tok, " \t\n");		/* "zone" */
		strtok(NULL, " \t\n");	/* its name */
		for (o = 0; (tok = strtok(NULL, " \t\n")); o++)
			if (o >= order)
				units += atol(tok) << (o - order);
	}
	fclose(f);
	return units;
}

/*
 * Take free blocks of order @order or above with huge page faults in a
 * MADV_HUGEPAGE mapping, one unit per fault, while faults take them; two
 * faults in a row that take nothing (the block is behind a watermark or a
 * zone's lowmem reserve, which an order-@order allocation of vmalloc() faces
 * as well) end it. Returns the units left free, or -1 on error.
 */
static long take_high_order(int order, long page, long *taken)
{
	long huge = page << order, left = high_order_units(order), now;
	int misses = 0;
	char *map, *p;

	while (left > 0 && misses < 2) {
		map = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (map == MAP_FAILED)
			return -1;
		p = (char *)(((unsigned long)map + huge - 1) & ~(huge - 1));
		madvise(p, huge, MADV_HUGEPAGE);
		p[0] = 1;
		now = high_order_units(order);
		if (now < left) {
			(*taken)++;
			misses = 0;
		} else {
			/*
			 * The fault fell back to a single page: unmapped, so
			 * that khugepaged has no range here to collapse.
			 */
			munmap(map, 2 * huge);
			misses++;
		}
		left = now;
	}
	return left;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	long reserve_kb, holes_kb, free_kb, max_pages, fill_pages, hole_pages, stride, i;
	long left, taken = 0, before, rounds;
	int quiet;
	int take_order;
	const long chunk = 256;		/* pages touched between MemFree reads */
	char *mem;
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: %s RESERVE_KB HOLES_KB TAKE_ORDER READY_FILE\n", argv[0]);
		return 1;
	}
	reserve_kb = atol(argv[1]);
	holes_kb = atol(argv[2]);
	take_order = atoi(argv[3]);
	free_kb = meminfo_kb("MemFree");
	if (free_kb < 0 || reserve_kb < 0 || holes_kb <= 0 || take_order < 1 || take_order > 20) {
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

	/*
	 * Take the blocks of order >= take_order that are free now, and those
	 * that form over the next seconds: free pages that sat on the per-cpu
	 * lists go back to the buddy allocator as the lists' high limit decays
	 * or overflows, and merge. Done when three checks a second apart take
	 * nothing.
	 */
	for (quiet = 0, rounds = 0; quiet < 3; rounds++) {
		if (rounds == 60) {
			fprintf(stderr, "guest-fragment: blocks of order >= %d still forming after %ld s (%ld taken)\n",
				take_order, rounds, taken);
			return 1;
		}
		if (rounds)
			sleep(1);
		before = taken;
		left = take_high_order(take_order, page, &taken);
		if (left < 0) {
			perror("guest-fragment: huge page mapping");
			return 1;
		}
		quiet = taken == before ? quiet + 1 : 0;
	}
	printf("guest-fragment: filled %ld kB, gave back %ld kB as single pages (every %ld pages); huge page faults took %ld blocks of order %d, %ld left that they could not take\n",
	       fill_pages * page / 1024, hole_pages * page / 1024, stride, taken, take_order, left);
	printf("untaken=%ld\n", left);
	fflush(stdout);

	fd = open(argv[4], O_CREAT | O_WRONLY, 0644);
	if (fd < 0) {
		perror("guest-fragment: ready file");
		return 1;
	}
	close(fd);
	for (;;)
		pause();
}

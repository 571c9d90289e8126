// SPDX-License-Identifier: GPL-2.0
/*
 * Bring the guest's free memory down to order-0 holes, then hold it.
 *
 * Fills anonymous memory (no THP) until MemFree is down to RESERVE_KB,
 * reading MemFree as it goes (the kernel's own use grows meanwhile: page
 * tables, KASAN's quarantine), then gives back BLOCKS_KB of it as whole
 * naturally aligned blocks of order BLOCK_ORDER (physical frames from
 * /proc/self/pagemap, so root only; each block's buddy stays taken, so it
 * cannot merge into a larger one), spread evenly over the range, and
 * HOLES_KB one page at a time, spread evenly over the whole range, so that
 * the pages given back have no free buddy. The blocks are what a fragmented
 * machine still has for the kernel's own small high-order allocations
 * (kernel stacks of order 2 at fork): without them, those fail once the
 * free blocks of order 1..8 are used up, compaction may not find any, and
 * the OOM killer runs. The order-0 fill leaves the largest free blocks for
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
 * With "late", the blocks and then the holes are given back after the huge
 * page faults, not before, so that BLOCK_ORDER may be TAKE_ORDER or above:
 * free blocks of that order beside the holes, which the faults did not
 * take (a hole that falls in a block given back is no extra page).
 *
 * Usage: guest-fragment RESERVE_KB HOLES_KB BLOCKS_KB BLOCK_ORDER TAKE_ORDER READY_FILE [late]
 *        guest-fragment --pick BLOCK_ORDER COUNT < PFNS
 * Exit status: 1 on bad arguments, when memory cannot be taken, when the
 * filled range holds fewer whole blocks than BLOCKS_KB asks for, or when
 * blocks of order TAKE_ORDER still form after a minute.
 * --pick (a test of the block choice, no memory taken): reads one page
 * frame number per line, the frames of a filled range in its order, and
 * prints the range's indices of the first page of each block chosen.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Seconds since the first call: the phases' times, on stderr. */
static void phase(const char *what)
{
	static struct timespec t0;
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	if (!t0.tv_sec && !t0.tv_nsec)
		t0 = t;
	fprintf(stderr, "phase %s at %.1f s\n", what,
		(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9);
}

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

struct frame {
	uint64_t pfn;
	long idx;
};

static int frame_cmp(const void *a, const void *b)
{
	const struct frame *x = a, *y = b;

	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

/*
 * Choose @want blocks of order @order among the @n pages whose frames are
 * @pfn[] (0: no frame), spread evenly over the candidates: a candidate is a
 * naturally aligned block of 2^@order frames all in @pfn[], whose block
 * number is even, so that no two chosen blocks are buddies (and none can
 * merge beyond @order with another). Stores in @first[] the index in @pfn[]
 * of each chosen block's first frame and in @frames[] its pages' indices
 * (2^@order each). Returns the number of candidates, -1 on no memory; fewer
 * candidates than @want: nothing is chosen.
 */
static long pick_blocks(const uint64_t *pfn, long n, int order, long want,
			long *first, long *frames)
{
	long size = 1L << order, cands = 0, i, j, k, c;
	struct frame *f = malloc(n * sizeof(*f));
	long *at;

	if (!f)
		return -1;
	for (i = 0, j = 0; i < n; i++)
		if (pfn[i]) {
			f[j].pfn = pfn[i];
			f[j++].idx = i;
		}
	n = j;
	qsort(f, n, sizeof(*f), frame_cmp);
	at = malloc((n / size + 1) * sizeof(*at));
	if (!at) {
		free(f);
		return -1;
	}
	for (i = 0; i + size <= n; i++) {
		if (f[i].pfn & (2 * size - 1))
			continue;	/* not aligned, or an odd block number */
		/* Sorted frames, each mapped once: the block is whole. */
		if (f[i + size - 1].pfn != f[i].pfn + size - 1)
			continue;
		at[cands++] = i;
	}
	for (c = 0; cands >= want && c < want; c++) {
		i = at[c * cands / want];
		first[c] = f[i].idx;
		for (k = 0; k < size; k++)
			frames[c * size + k] = f[i + k].idx;
	}
	free(at);
	free(f);
	return cands;
}

static int pick_main(int argc, char **argv)
{
	long n = 0, cap = 1024, want, cands, c, *first, *frames;
	int order;
	uint64_t *pfn = malloc(cap * sizeof(*pfn)), v;

	if (argc != 4 || !pfn) {
		fprintf(stderr, "usage: guest-fragment --pick BLOCK_ORDER COUNT < PFNS\n");
		return 1;
	}
	order = atoi(argv[2]);
	want = atol(argv[3]);
	if (order < 1 || order > 10 || want < 1) {
		fprintf(stderr, "guest-fragment: bad BLOCK_ORDER or COUNT\n");
		return 1;
	}
	while (scanf("%llu", (unsigned long long *)&v) == 1) {
		if (n == cap) {
			cap *= 2;
			pfn = realloc(pfn, cap * sizeof(*pfn));
			if (!pfn)
				return 1;
		}
		pfn[n++] = v;
	}
	first = malloc(want * sizeof(*first));
	frames = malloc((want << order) * sizeof(*frames));
	if (!first || !frames)
		return 1;
	cands = pick_blocks(pfn, n, order, want, first, frames);
	if (cands < want) {
		fprintf(stderr, "guest-fragment: %ld whole blocks of order %d, %ld wanted\n",
			cands, order, want);
		return 1;
	}
	for (c = 0; c < want; c++)
		printf("%ld\n", first[c]);
	return 0;
}

/*
 * Give back @blocks_kb of the @n pages at @mem as whole blocks of order
 * @order (pick_blocks()). Returns the number of blocks, -1 on error.
 */
/*
 * The buffers of choose_blocks(), taken and touched before the fill, when
 * memory is still free (after it, a fault may find none): the fill's frame
 * numbers, the first page of each block, and the pages of the blocks
 * chosen (the fill's indices), with their count.
 */
static uint64_t *pfn;
static long *first, *chosen, nr_chosen;

static void *touched(size_t size)
{
	char *p = malloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

static int choose_buffers(long max_pages, long page, long blocks_kb, int order)
{
	long want = blocks_kb * 1024 / (page << order);

	pfn = touched(max_pages * sizeof(*pfn));
	first = touched(want * sizeof(*first));
	chosen = touched((want << order) * sizeof(*chosen));
	if (!pfn || !first || !chosen) {
		perror("guest-fragment: malloc");
		return -1;
	}
	return 0;
}

/*
 * Choose BLOCKS_KB of whole blocks of @order among the @n pages of the fill
 * at @mem (their pages go to chosen[] for release_blocks()). Returns the
 * number of blocks, or -1 on error.
 */
static long choose_blocks(char *mem, long n, long page, long blocks_kb, int order)
{
	long size = 1L << order, want = blocks_kb * 1024 / (page << order);
	int fd = open("/proc/self/pagemap", O_RDONLY);
	long cands, k;
	ssize_t len;

	if (fd < 0) {
		perror("guest-fragment: pagemap");
		return -1;
	}
	len = pread(fd, pfn, n * sizeof(*pfn), (off_t)((unsigned long)mem / page) * sizeof(*pfn));
	close(fd);
	if (len != (ssize_t)(n * sizeof(*pfn))) {
		fprintf(stderr, "guest-fragment: short read of /proc/self/pagemap\n");
		return -1;
	}
	/* Bit 63: present; bits 0-54: the frame (0 without CAP_SYS_ADMIN). */
	for (k = 0; k < n; k++)
		pfn[k] = (pfn[k] >> 63) ? pfn[k] & ((1ULL << 55) - 1) : 0;
	cands = pick_blocks(pfn, n, order, want, first, chosen);
	if (cands < want) {
		fprintf(stderr, "guest-fragment: the filled range holds %ld whole blocks of order %d, %ld wanted (no frame numbers in /proc/self/pagemap without CAP_SYS_ADMIN)\n",
			cands, order, want);
		return -1;
	}
	nr_chosen = want * size;
	return want;
}

/* Give back the pages of the blocks choose_blocks() chose. */
static int release_blocks(char *mem, long page)
{
	long c;

	for (c = 0; c < nr_chosen; c++) {
		if (madvise(mem + chosen[c] * page, page, MADV_DONTNEED)) {
			perror("guest-fragment: madvise");
			return -1;
		}
	}
	free(chosen);
	phase("blocks given back");
	return 0;
}

/* Give back @n single pages, one every @stride pages of the fill. */
static int give_back_holes(char *mem, long n, long stride, long page)
{
	long i;

	for (i = 0; i < n; i++) {
		if (madvise(mem + i * stride * page, page, MADV_DONTNEED)) {
			perror("guest-fragment: madvise");
			return -1;
		}
	}
	phase("holes given back");
	return 0;
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
	long reserve_kb, holes_kb, blocks_kb, free_kb, max_pages, fill_pages, hole_pages, stride;
	long left, taken = 0, before, rounds, blocks = 0;
	int quiet;
	int take_order, block_order, late;
	const long chunk = 256;		/* pages touched between MemFree reads */
	char *mem;
	int fd;

	if (argc > 1 && !strcmp(argv[1], "--pick"))
		return pick_main(argc, argv);
	if ((argc != 7 && argc != 8) || (argc == 8 && strcmp(argv[7], "late"))) {
		fprintf(stderr, "usage: %s RESERVE_KB HOLES_KB BLOCKS_KB BLOCK_ORDER TAKE_ORDER READY_FILE [late]\n",
			argv[0]);
		return 1;
	}
	late = argc == 8;
	reserve_kb = atol(argv[1]);
	holes_kb = atol(argv[2]);
	blocks_kb = atol(argv[3]);
	block_order = atoi(argv[4]);
	take_order = atoi(argv[5]);
	free_kb = meminfo_kb("MemFree");
	if (free_kb < 0 || reserve_kb < 0 || holes_kb <= 0 || blocks_kb < 0 ||
	    take_order < 1 || take_order > 20 || block_order < 1 || block_order > 20 ||
	    (!late && block_order >= take_order)) {
		fprintf(stderr, "guest-fragment: bad arguments or no MemFree\n");
		return 1;
	}
	max_pages = (free_kb - reserve_kb) * 1024 / page;
	hole_pages = holes_kb * 1024 / page;
	if (max_pages < 2 * (hole_pages + blocks_kb * 1024 / page)) {
		fprintf(stderr, "guest-fragment: MemFree %ld kB is too small for %ld kB reserve + %ld kB holes + %ld kB blocks\n",
			free_kb, reserve_kb, holes_kb, blocks_kb);
		return 1;
	}
	phase("start");
	if (blocks_kb && choose_buffers(max_pages, page, blocks_kb, block_order))
		return 1;
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
	if (fill_pages < 2 * (hole_pages + blocks_kb * 1024 / page)) {
		fprintf(stderr, "guest-fragment: only %ld pages could be filled, too few for %ld kB holes + %ld kB blocks\n",
			fill_pages, holes_kb, blocks_kb);
		return 1;
	}
	phase("filled");
	/* Chosen now, while the fill's memory is whole and some is free. */
	if (blocks_kb) {
		blocks = choose_blocks(mem, fill_pages, page, blocks_kb, block_order);
		if (blocks < 0 || (!late && release_blocks(mem, page)))
			return 1;
	}

	stride = fill_pages / hole_pages;
	if (!late && give_back_holes(mem, hole_pages, stride, page))
		return 1;

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
	phase("huge page faults done");
	if (late) {
		/* Blocks first: a hole in one would leave it incomplete. */
		if ((blocks_kb && release_blocks(mem, page)) ||
		    give_back_holes(mem, hole_pages, stride, page))
			return 1;
	}
	printf("guest-fragment: filled %ld kB, gave back %ld blocks of order %d and %ld kB as single pages (every %ld pages); huge page faults took %ld blocks of order %d, %ld left that they could not take\n",
	       fill_pages * page / 1024, blocks, block_order, hole_pages * page / 1024, stride,
	       taken, take_order, left);
	printf("untaken=%ld\n", left);
	fflush(stdout);

	fd = open(argv[6], O_CREAT | O_WRONLY, 0644);
	if (fd < 0) {
		perror("guest-fragment: ready file");
		return 1;
	}
	close(fd);
	phase("ready");
	for (;;)
		pause();
}

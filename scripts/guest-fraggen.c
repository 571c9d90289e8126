// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded memory-fragmentation workload, and the classic high-order probe.
 *
 * The workload of the fragmentation study: does vmalloc's high-order
 * allocation, freed back whole, preserve contiguity or consume it? The
 * kernels compared run the same sequence of allocations and frees, which
 * depends only on (SEED, TICKS, BUDGET_KB), never on whether an operation
 * succeeded, and the state of the page allocator is sampled as it goes.
 * The pseudo-random numbers are splitmix64, seeded with SEED (no rand(),
 * no clock).
 *
 * Usage:
 *   guest-fraggen plan --seed S --ticks N --budget-kb B [--max-life L]
 *   guest-fraggen run --seed S --ticks N --budget-kb B --sample-every K
 *       --log FILE --dir DIR [--max-life L] [--extfrag-dir D] [--vmalloc-ctl FILE]
 *       [--ready FILE] [--tick-ms MS] [--proc-dir DIR]
 *   guest-fraggen probe --defrag never|always --log FILE
 *       [--thp-dir /sys/kernel/mm/transparent_hugepage] [--reserve-kb 32768]
 *
 * The workload. Ticks 0..N-1; at each tick the objects whose lifetime has
 * ended are freed first (lowest id first), then 1-3 operations are drawn,
 * each creating one object of a kind drawn by weight (per 100):
 *   pt 10       unmovable page tables: a child process (fork) that maps
 *               (MAP_SHARED) a 1-16 MiB sub-range of a 16 MiB shared
 *               anonymous buffer made once at the start, touches one byte
 *               per 4 KiB page of it and sleeps in pause(); freed by SIGKILL
 *               and waitpid(). At most 48 live. The anonymous and THP
 *               objects are MADV_DONTFORK and the child closes every file
 *               descriptor, so that it holds only its page tables (and its
 *               kernel stack, task, mm).
 *   pipe 15     unmovable pipe buffers: pipe2(O_NONBLOCK) with 4-64 KiB
 *               written (stops at EAGAIN), both ends held; freed by closing
 *               them. At most 200 live.
 *   files 20    slab and shmem page cache: 8-64 files of 1-4 KiB in a new
 *               subdirectory DIR/oID of DIR (a tmpfs); freed by deleting
 *               them and the subdirectory. The dentries are reclaimable
 *               slab; tmpfs inodes (shmem_inode_cache, no
 *               SLAB_RECLAIM_ACCOUNT) are unmovable slab; the pages movable.
 *   anon 25     movable: an anonymous mapping of 16-1024 pages (64 KiB-
 *               4 MiB, log-uniform as vmalloc's), MADV_NOHUGEPAGE, every
 *               page touched; freed by munmap().
 *   thp 10      high-order demand: the 2 MiB-aligned 2 MiB inside a 4 MiB
 *               anonymous mapping, MADV_HUGEPAGE, one byte written (a huge
 *               page fault, which compacts or not as THP's defrag setting
 *               says; the kernel's thp_fault_alloc/_fallback count it);
 *               freed by munmap().
 *   vmalloc 20  vmalloc() areas of 1-1024 pages, log-uniform: half of them
 *               a power of two 2^k, k uniform in 0..10, the others 2^k +
 *               uniform 0..2^k, k uniform in 0..9. Held by the test module
 *               lib/test_frag_vmalloc.ko: one write() of
 *               "alloc ID NPAGES\n" to its debugfs file --vmalloc-ctl,
 *               freed by "free ID\n". ID is the lowest free slot in
 *               0..65535 (the module's limit), not the object's id. A failed
 *               alloc (ENOMEM...) is counted in vmalloc_fail. Without
 *               --vmalloc-ctl the object is in the plan all the same (its
 *               size in the budget) but nothing is done.
 * Lifetimes: 15% whole run (never freed by the workload), 55% short (1-20
 * ticks, uniform), 30% medium (20-M ticks, uniform; --max-life M, default
 * 200); an object made at tick T with lifetime L is freed at tick T+L.
 *
 * Budget: the sum of the objects' sizes, the 16 MiB shared buffer counted
 * once from the start, stays at most BUDGET_KB (at least 20480). Sizes:
 * anon its length, thp 2 MiB, pipe the bytes to write, files the files'
 * bytes, vmalloc NPAGES * 4096, pt the pages touched * 8 (page table
 * estimate) + 16 KiB. An object that would exceed the budget first has the
 * live objects that are not whole-run freed, the earliest end first (then
 * the lowest id), until it fits; if it cannot fit even with all of those
 * freed, none is freed and it is skipped. Whole-run objects may together
 * hold at most half of the budget beyond the shared buffer (others are
 * skipped), so that a long run keeps churning. A pt or pipe beyond its
 * limit is skipped too. All of this is in the plan: it depends only on the
 * plan's sizes, not on what the kernel did.
 *
 * plan prints the sequence, with no side effects, one line per event:
 *   tick=T op=NAME id=I size=BYTES life=L    (L ticks, or "whole")
 *   tick=T skip op=NAME id=I size=BYTES life=L why=budget|limit
 *   tick=T free id=I           (end of life, eviction, or tick=N at the end)
 * Ids count every operation drawn, skipped ones too.
 *
 * run performs it. At tick 0, every K ticks and after the last tick (tick=N),
 * before that tick's frees, it appends ONE line to --log (opened for each
 * line with O_WRONLY|O_APPEND: in the guest it is /dev/kmsg, which allows
 * an open file 10 lines per 5 s unless printk.devkmsg=on, and drops the
 * rest silently; one write() per line, under 900 bytes):
 *   harness: bench frag-sample tick=T ms=MS free_kb= o9_units= o4_plus_kb=
 *     o0_pages= [pb_unmovable= pb_movable= pb_reclaimable=] [extfrag= steal=]
 *     compact_stall= compact_fail= compact_success= compact_daemon_wake=
 *     compact_migrate_scanned= compact_free_scanned= pgmigrate_success=
 *     pageoutrun= pgscan_kswapd= pgsteal_kswapd= pgscan_direct=
 *     pgsteal_direct= allocstall_normal= allocstall_dma32= thp_fault_alloc=
 *     thp_fault_fallback= live_pt= live_pipe= live_files= live_anon=
 *     live_thp= live_vmalloc= used_kb= vmalloc_fail= skipped= failed=
 * all integers: ms since the run started (CLOCK_MONOTONIC); free_kb MemFree;
 * from /proc/buddyinfo, all zones: o9_units the free blocks of order 9 plus
 * 2 x those of order 10 (2^(o-9) for order o >= 9), o4_plus_kb the free kB in
 * blocks of order >= 4, o0_pages the free order-0 blocks; pb_* the sums over
 * the zones of /proc/pagetypeinfo's "Number of blocks type" table (absent
 * if it cannot be read: root only); extfrag and steal (with --extfrag-dir D)
 * the written count B of "# entries-in-buffer/entries-written: A/B" in the
 * header of D/extfrag/trace and D/steal/trace (tracefs instances set up by
 * the caller; only read here); the /proc/vmstat counters as deltas since
 * the run started (a counter the kernel lacks is absent); live_* the objects
 * held now (live_files: directories), used_kb the plan's budget sum
 * (shared buffer included), vmalloc_fail the failed vmalloc allocs so far,
 * skipped the operations skipped by the plan, failed the operations that
 * failed for want of memory (ENOMEM, EAGAIN, ENOSPC...). Should a line not
 * fit in 900 bytes (20-digit values), the vmstat keys are shortened to
 * c_stall c_fail c_succ c_wake c_mscan c_fscan mig_ok pgout scan_k steal_k
 * scan_d steal_d as_norm as_dma32 thp_ok thp_fb, and what then does not fit
 * is left off (a warning on stderr). --proc-dir (tests) reads meminfo,
 * buddyinfo, pagetypeinfo and vmstat from another directory than /proc.
 * After the last tick it frees every object that is not whole-run, appends
 *   harness: bench frag-end ticks=N ops=N freed=N kept=N vmalloc_fail=N
 *     skipped=N failed=N
 * (ops: drawn, = freed + kept + skipped; these are the plan's counts),
 * creates --ready, and holds the whole-run objects until SIGTERM or SIGINT,
 * on which it frees everything and exits 0. A SIGTERM or SIGINT before the
 * end frees everything and exits 1 (the run is incomplete).
 *
 * probe writes never or always to THP_DIR/defrag, maps R = (MemFree -
 * RESERVE_KB) / 2 MiB regions of 2 MiB, 2 MiB-aligned, MADV_HUGEPAGE, writes
 * one byte to each (the loop timed with CLOCK_MONOTONIC), and appends
 *   harness: bench frag-probe defrag=D tried=R huge=H share_pm=S ms=MS
 *     compact_stall= compact_success= compact_fail= compact_migrate_scanned=
 *     compact_free_scanned= pgmigrate_success=
 * H being the delta of thp_fault_alloc (system-wide: in the guest, only
 * the probe faults), S = H * 2048 * 1000 / MemTotal kB,
 * the others /proc/vmstat deltas; then unmaps it all.
 *
 * Exit status: 0 done; 2 bad arguments; 1 when the run or probe cannot be
 * meaningful: the log, --dir, --vmalloc-ctl or THP_DIR/defrag cannot be
 * used, fork() fails other than with EAGAIN/ENOMEM, files cannot be made in
 * DIR other than for ENOSPC/ENOMEM, a vmalloc free fails, or it is stopped
 * early (the message names the operation and errno; what it held is freed
 * first). Children never outlive it (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE_BYTES	4096ULL
#define SHARED_BYTES	(16ULL << 20)	/* the pt children's shared buffer */
#define MIN_BUDGET_KB	(SHARED_BYTES / 1024 + 4096)
#define MAX_LIVE_PT	48
#define MAX_LIVE_PIPE	200
#define LINE_LIMIT	900		/* a log line, '\n' included, is shorter */
#define NR_SLOTS	65536		/* vmalloc ids of the test module */
#define HUGE_BYTES	(2ULL << 20)

enum kind { PT, PIPE, FILES, ANON, THP, VMALLOC, NR_KINDS };

static const char *const kind_name[NR_KINDS] = {
	"pt", "pipe", "files", "anon", "thp", "vmalloc"
};
static const unsigned int kind_weight[NR_KINDS] = { 10, 15, 20, 25, 10, 20 };

struct obj {
	unsigned long long id;
	uint64_t seed;		/* the object's own random stream */
	uint64_t size;		/* bytes counted in the budget */
	long long end;		/* the tick it is freed at; -1: whole run */
	int kind;
	unsigned int pages;	/* pt: pages touched; anon, vmalloc: pages */
	unsigned int off;	/* pt: first page in the shared buffer */
	unsigned int count;	/* files: how many */
	unsigned int bytes;	/* pipe: bytes to write */
	/* What the run holds for it. */
	int held;
	pid_t pid;
	int fd[2];
	char *map;
	size_t maplen;
	int slot;
};

struct plan;

struct actions {
	void (*create)(struct plan *p, struct obj *o, long long tick);
	void (*destroy)(struct plan *p, struct obj *o, long long tick);
	void (*skip)(struct plan *p, const struct obj *o, long long tick,
		     const char *why);
};

struct plan {
	uint64_t rng;
	uint64_t budget;	/* bytes */
	uint64_t whole_cap;	/* bytes the whole-run objects may hold */
	uint64_t used;		/* bytes, the shared buffer included */
	uint64_t whole_used;
	unsigned int max_life;	/* longest medium lifetime, ticks */
	unsigned long long next_id;
	struct obj *live;	/* by id */
	size_t nlive, cap;
	unsigned int live_kind[NR_KINDS];
	unsigned long long ops, freed, kept, skipped;
	const struct actions *act;
};

/* splitmix64 */
static uint64_t next64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in 0..n-1 (the modulo bias is below 2^-50 here). */
static uint64_t below(uint64_t *s, uint64_t n)
{
	return next64(s) % n;
}

/*
 * 2^lo..2^hi, log-uniform: half the time a power of two 2^k, k uniform in
 * lo..hi; otherwise 2^k + uniform 0..2^k, k uniform in lo..hi-1.
 */
static unsigned int log_uniform(uint64_t *s, int lo, int hi)
{
	unsigned int k;

	if (below(s, 2))
		return 1U << (lo + below(s, hi - lo + 1));
	k = lo + below(s, hi - lo);
	return (1U << k) + below(s, (1U << k) + 1);
}

/* The files stream after the count: each next below(s, 3073) is a size. */
static uint64_t files_stream(const struct obj *o)
{
	uint64_t s = o->seed;

	below(&s, 57);
	return s;
}

/* The object's shape and size, from its own stream. */
static void shape(struct obj *o)
{
	uint64_t s = o->seed;
	unsigned int i;

	switch (o->kind) {
	case PT:
		o->pages = 256 + below(&s, 4096 - 256 + 1);
		o->off = below(&s, 4096 - o->pages + 1);
		o->size = o->pages * 8ULL + 16384;
		break;
	case PIPE:
		o->bytes = (4 + below(&s, 61)) * 1024;
		o->size = o->bytes;
		break;
	case FILES:
		o->count = 8 + below(&s, 57);
		o->size = 0;
		for (i = 0; i < o->count; i++)
			o->size += 1024 + below(&s, 3073);
		break;
	case ANON:
		o->pages = log_uniform(&s, 4, 10);
		o->size = o->pages * PAGE_BYTES;
		break;
	case THP:
		o->size = HUGE_BYTES;
		break;
	case VMALLOC:
		o->pages = log_uniform(&s, 0, 10);
		o->size = o->pages * PAGE_BYTES;
		break;
	}
}

static void plan_init(struct plan *p, uint64_t seed, uint64_t budget_kb,
		      unsigned int max_life, const struct actions *act)
{
	memset(p, 0, sizeof(*p));
	p->rng = seed;
	p->max_life = max_life;
	p->budget = budget_kb * 1024;
	p->used = SHARED_BYTES;
	p->whole_cap = (p->budget - SHARED_BYTES) / 2;
	p->act = act;
}

/* Free live[i]: its lifetime ended, or it is evicted, or the run ends. */
static void plan_drop(struct plan *p, size_t i, long long tick)
{
	struct obj *o = &p->live[i];

	p->act->destroy(p, o, tick);
	p->used -= o->size;
	if (o->end < 0)
		p->whole_used -= o->size;
	p->live_kind[o->kind]--;
	p->freed++;
	memmove(o, o + 1, (p->nlive - i - 1) * sizeof(*o));
	p->nlive--;
}

/* The live object that is not whole-run with the earliest end, then id. */
static size_t plan_earliest(const struct plan *p)
{
	size_t i, best = p->nlive;

	for (i = 0; i < p->nlive; i++) {
		if (p->live[i].end < 0)
			continue;
		if (best == p->nlive || p->live[i].end < p->live[best].end)
			best = i;
	}
	return best;
}

static void plan_op(struct plan *p, long long tick)
{
	struct obj o;
	unsigned int w = below(&p->rng, 100), lc = below(&p->rng, 100);
	uint64_t evictable;
	long long life;

	memset(&o, 0, sizeof(o));
	for (o.kind = 0; o.kind < NR_KINDS - 1; o.kind++) {
		if (w < kind_weight[o.kind])
			break;
		w -= kind_weight[o.kind];
	}
	if (lc < 15)
		life = -1;
	else if (lc < 70)
		life = 1 + below(&p->rng, 20);
	else
		life = 20 + below(&p->rng, p->max_life - 19);
	o.seed = next64(&p->rng);
	o.id = p->next_id++;
	o.end = life < 0 ? -1 : tick + life;
	o.fd[0] = o.fd[1] = -1;
	o.slot = -1;
	shape(&o);
	p->ops++;

	if ((o.kind == PT && p->live_kind[PT] >= MAX_LIVE_PT) ||
	    (o.kind == PIPE && p->live_kind[PIPE] >= MAX_LIVE_PIPE)) {
		p->skipped++;
		p->act->skip(p, &o, tick, "limit");
		return;
	}
	evictable = p->used - SHARED_BYTES - p->whole_used;
	if ((o.end < 0 && p->whole_used + o.size > p->whole_cap) ||
	    p->used - evictable + o.size > p->budget) {
		p->skipped++;
		p->act->skip(p, &o, tick, "budget");
		return;
	}
	while (p->used + o.size > p->budget)
		plan_drop(p, plan_earliest(p), tick);

	if (p->nlive == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 256;
		p->live = realloc(p->live, p->cap * sizeof(*p->live));
		if (!p->live) {
			fprintf(stderr, "guest-fraggen: out of memory for the plan\n");
			exit(1);
		}
	}
	p->live[p->nlive] = o;
	p->used += o.size;
	if (o.end < 0)
		p->whole_used += o.size;
	p->live_kind[o.kind]++;
	p->act->create(p, &p->live[p->nlive++], tick);
}

static void plan_tick(struct plan *p, long long tick)
{
	size_t i = 0;
	unsigned int n;

	while (i < p->nlive) {
		if (p->live[i].end >= 0 && p->live[i].end <= tick)
			plan_drop(p, i, tick);
		else
			i++;
	}
	for (n = 1 + below(&p->rng, 3); n; n--)
		plan_op(p, tick);
}

/* After the last tick: free what is not whole-run; the rest is kept. */
static void plan_finish(struct plan *p, long long tick)
{
	size_t i = 0;

	while (i < p->nlive) {
		if (p->live[i].end >= 0)
			plan_drop(p, i, tick);
		else
			i++;
	}
	p->kept = p->nlive;
}

/* --- plan mode: print it ------------------------------------------------ */

static const char *life_str(const struct obj *o, long long tick, char *buf,
			    size_t len)
{
	if (o->end < 0)
		return "whole";
	snprintf(buf, len, "%lld", o->end - tick);
	return buf;
}

static void print_create(struct plan *p, struct obj *o, long long tick)
{
	char b[32];

	printf("tick=%lld op=%s id=%llu size=%llu life=%s\n", tick,
	       kind_name[o->kind], o->id, (unsigned long long)o->size,
	       life_str(o, tick, b, sizeof(b)));
}

static void print_destroy(struct plan *p, struct obj *o, long long tick)
{
	printf("tick=%lld free id=%llu\n", tick, o->id);
}

static void print_skip(struct plan *p, const struct obj *o, long long tick,
		       const char *why)
{
	char b[32];

	printf("tick=%lld skip op=%s id=%llu size=%llu life=%s why=%s\n", tick,
	       kind_name[o->kind], o->id, (unsigned long long)o->size,
	       life_str(o, tick, b, sizeof(b)), why);
}

static const struct actions print_actions = {
	print_create, print_destroy, print_skip
};

/* --- /proc readers ------------------------------------------------------ */

static long long meminfo_kb(const char *path, const char *key)
{
	char line[256];
	long long val = -1;
	size_t len = strlen(key);
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, len) && line[len] == ':') {
			val = strtoll(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/* The tokens after "zone NAME" in a buddyinfo or pagetypeinfo line. */
static char *after_zone(char *line)
{
	char *p = strstr(line, "zone");

	if (!p)
		return NULL;
	p += 4;
	p += strspn(p, " \t");
	p += strcspn(p, " \t\n");	/* the zone's name */
	return p;
}

struct buddy {
	unsigned long long o9_units, o4_plus_kb, o0_pages;
};

static int read_buddyinfo(const char *path, struct buddy *b)
{
	char line[1024], *p, *end;
	unsigned long long n;
	int o, found = 0;
	FILE *f = fopen(path, "r");

	memset(b, 0, sizeof(*b));
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		p = after_zone(line);
		if (!p)
			continue;
		found = 1;
		for (o = 0; ; o++) {
			n = strtoull(p, &end, 10);
			if (end == p)
				break;
			p = end;
			if (o == 0)
				b->o0_pages += n;
			if (o >= 4)
				b->o4_plus_kb += (n << o) * (PAGE_BYTES / 1024);
			if (o >= 9)
				b->o9_units += n << (o - 9);
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

/* Sums of the Unmovable, Movable, Reclaimable columns of "Number of blocks type". */
static int read_pageblocks(const char *path, unsigned long long pb[3])
{
	static const char *const cols[3] = { "Unmovable", "Movable", "Reclaimable" };
	char line[1024], *tok, *save, *p, *end;
	int col[3] = { -1, -1, -1 }, i, c, in = 0, found = 0;
	unsigned long long n;
	FILE *f = fopen(path, "r");

	pb[0] = pb[1] = pb[2] = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!in) {
			if (strncmp(line, "Number of blocks type", 21))
				continue;
			for (c = 0, tok = strtok_r(line + 21, " \t\n", &save); tok;
			     c++, tok = strtok_r(NULL, " \t\n", &save))
				for (i = 0; i < 3; i++)
					if (!strcmp(tok, cols[i]))
						col[i] = c;
			in = 1;
			continue;
		}
		p = strncmp(line, "Node", 4) ? NULL : after_zone(line);
		if (!p)
			break;
		for (c = 0; ; c++) {
			n = strtoull(p, &end, 10);
			if (end == p)
				break;
			p = end;
			for (i = 0; i < 3; i++)
				if (c == col[i])
					pb[i] += n;
		}
		found = 1;
	}
	fclose(f);
	return found && col[0] >= 0 && col[1] >= 0 && col[2] >= 0 ? 0 : -1;
}

/* B of "# entries-in-buffer/entries-written: A/B" in a trace file's header. */
static long long trace_written(const char *path)
{
	static const char key[] = "entries-in-buffer/entries-written:";
	char buf[4096], *p;
	ssize_t len;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	p = strstr(buf, key);
	if (!p)
		return -1;
	p = strchr(p + sizeof(key) - 1, '/');
	if (!p || p[1] < '0' || p[1] > '9')
		return -1;
	return strtoll(p + 1, NULL, 10);
}

struct counter {
	const char *name, *alt;
};

/* The run's /proc/vmstat deltas, with the short names used if need be. */
static const struct counter run_counters[] = {
	{ "compact_stall", "c_stall" },
	{ "compact_fail", "c_fail" },
	{ "compact_success", "c_succ" },
	{ "compact_daemon_wake", "c_wake" },
	{ "compact_migrate_scanned", "c_mscan" },
	{ "compact_free_scanned", "c_fscan" },
	{ "pgmigrate_success", "mig_ok" },
	{ "pageoutrun", "pgout" },
	{ "pgscan_kswapd", "scan_k" },
	{ "pgsteal_kswapd", "steal_k" },
	{ "pgscan_direct", "scan_d" },
	{ "pgsteal_direct", "steal_d" },
	{ "allocstall_normal", "as_norm" },
	{ "allocstall_dma32", "as_dma32" },
	{ "thp_fault_alloc", "thp_ok" },
	{ "thp_fault_fallback", "thp_fb" },
};
#define NR_RUN_COUNTERS (sizeof(run_counters) / sizeof(run_counters[0]))

/* The probe's: thp_fault_alloc first (huge=), then the ones it prints. */
static const struct counter probe_counters[] = {
	{ "thp_fault_alloc", NULL },
	{ "compact_stall", NULL },
	{ "compact_success", NULL },
	{ "compact_fail", NULL },
	{ "compact_migrate_scanned", NULL },
	{ "compact_free_scanned", NULL },
	{ "pgmigrate_success", NULL },
};
#define NR_PROBE_COUNTERS (sizeof(probe_counters) / sizeof(probe_counters[0]))
#define NR_COUNTERS_MAX 16

/* Reads the @n counters @c of @path into @val; @have[i]: found. */
static void read_vmstat(const char *path, const struct counter *c, int n,
			long long *val, int *have)
{
	char line[256], name[128];
	long long v;
	int i;
	FILE *f = fopen(path, "r");

	for (i = 0; i < n; i++)
		have[i] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %lld", name, &v) != 2)
			continue;
		for (i = 0; i < n; i++)
			if (!strcmp(name, c[i].name)) {
				val[i] = v;
				have[i] = 1;
			}
	}
	fclose(f);
}

static long long now_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000LL + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* --- log lines ---------------------------------------------------------- */

struct kv {
	const char *name, *alt;
	long long val;
};

struct line {
	char buf[LINE_LIMIT];
	size_t len;
	int left_off;
};

/* @head then " key=value" for each of @kv that fits, and '\n'. */
static void format_line(struct line *l, const char *head, const struct kv *kv,
			int n, int use_alt)
{
	char item[128];
	int i, len;

	l->len = snprintf(l->buf, sizeof(l->buf), "%s", head);
	l->left_off = 0;
	for (i = 0; i < n; i++) {
		len = snprintf(item, sizeof(item), " %s=%lld",
			       use_alt && kv[i].alt ? kv[i].alt : kv[i].name, kv[i].val);
		if (l->len + len + 1 >= LINE_LIMIT) {
			l->left_off++;
			continue;
		}
		memcpy(l->buf + l->len, item, len);
		l->len += len;
	}
	l->buf[l->len++] = '\n';
}

/* One line, one open() and one write(); returns 0 or an errno. */
static int append_line(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	ssize_t n;
	int err;

	if (fd < 0)
		return errno;
	n = write(fd, buf, len);
	err = n < 0 ? errno : (size_t)n != len ? EIO : 0;
	close(fd);
	return err;
}

/* --- argument parsing --------------------------------------------------- */

enum { M_PLAN = 1, M_RUN = 2, M_PROBE = 4 };

enum opt_id {
	O_SEED, O_TICKS, O_BUDGET, O_SAMPLE, O_LOG, O_DIR, O_EXTFRAG, O_VCTL,
	O_READY, O_TICK_MS, O_PROC, O_DEFRAG, O_THP_DIR, O_RESERVE, O_MAX_LIFE,
	NR_OPTS
};

static const struct {
	const char *name;
	int modes;
} opts[NR_OPTS] = {
	[O_SEED] = { "--seed", M_PLAN | M_RUN },
	[O_TICKS] = { "--ticks", M_PLAN | M_RUN },
	[O_BUDGET] = { "--budget-kb", M_PLAN | M_RUN },
	[O_SAMPLE] = { "--sample-every", M_RUN },
	[O_LOG] = { "--log", M_RUN | M_PROBE },
	[O_DIR] = { "--dir", M_RUN },
	[O_EXTFRAG] = { "--extfrag-dir", M_RUN },
	[O_VCTL] = { "--vmalloc-ctl", M_RUN },
	[O_READY] = { "--ready", M_RUN },
	[O_TICK_MS] = { "--tick-ms", M_RUN },
	[O_PROC] = { "--proc-dir", M_RUN },
	[O_DEFRAG] = { "--defrag", M_PROBE },
	[O_THP_DIR] = { "--thp-dir", M_PROBE },
	[O_RESERVE] = { "--reserve-kb", M_PROBE },
	[O_MAX_LIFE] = { "--max-life", M_PLAN | M_RUN },
};

static const char *optval[NR_OPTS];
static const char *mode_name;

static void usage(void)
{
	fprintf(stderr,
		"usage: guest-fraggen plan --seed S --ticks N --budget-kb B [--max-life L]\n"
		"       guest-fraggen run --seed S --ticks N --budget-kb B --sample-every K --log FILE --dir DIR\n"
		"                         [--max-life L] [--extfrag-dir D] [--vmalloc-ctl FILE] [--ready FILE] [--tick-ms MS] [--proc-dir DIR]\n"
		"       guest-fraggen probe --defrag never|always --log FILE [--thp-dir DIR] [--reserve-kb KB]\n");
}

static void __attribute__((noreturn, format(printf, 1, 2)))
bad_args(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "guest-fraggen: ");
	if (mode_name)
		fprintf(stderr, "%s: ", mode_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage();
	exit(2);
}

static void parse_opts(int argc, char **argv, int mode)
{
	int i, k;

	for (i = 2; i < argc; i += 2) {
		for (k = 0; k < NR_OPTS; k++)
			if (!strcmp(argv[i], opts[k].name))
				break;
		if (k == NR_OPTS)
			bad_args("unknown option '%s'", argv[i]);
		if (!(opts[k].modes & mode))
			bad_args("%s is not an option of %s", argv[i], mode_name);
		if (i + 1 >= argc)
			bad_args("%s needs a value", argv[i]);
		if (optval[k])
			bad_args("%s given twice", argv[i]);
		optval[k] = argv[i + 1];
	}
}

static const char *required(int k)
{
	if (!optval[k])
		bad_args("missing %s", opts[k].name);
	return optval[k];
}

/* A decimal number in min..max, or exit 2. */
static unsigned long long number(int k, unsigned long long min,
				 unsigned long long max)
{
	const char *s = required(k);
	unsigned long long v;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		bad_args("%s: bad number '%s'", opts[k].name, s);
	v = strtoull(s, &end, 10);
	if (errno || *end)
		bad_args("%s: bad number '%s'", opts[k].name, s);
	if (v < min || v > max)
		bad_args("%s: %llu is not in %llu..%llu", opts[k].name, v, min, max);
	return v;
}

static unsigned long long number_or(int k, unsigned long long dflt,
				    unsigned long long min, unsigned long long max)
{
	return optval[k] ? number(k, min, max) : dflt;
}

/* --- run mode ----------------------------------------------------------- */

static struct {
	const char *log, *dir, *extfrag, *ready;
	char meminfo[4096], buddyinfo[4096], pagetypeinfo[4096], vmstat[4096];
	int ctl;		/* the vmalloc ctl file, or -1 */
	char *shared;		/* the pt children's buffer */
	pid_t self;
	struct timespec t0;
	long long base[NR_COUNTERS_MAX];
	int have_base[NR_COUNTERS_MAX];
	unsigned int held[NR_KINDS];
	unsigned long long failed, vmalloc_fail;
	uint64_t slots[NR_SLOTS / 64];
	int tearing_down, warned_line, warned_trace;
	sigset_t stop_signals;
	struct plan *plan;
} run;

static char fill[65536];	/* what pipes and files are written with */

static void teardown(void);

/* Print the error, free what is held, exit 1. */
static void __attribute__((noreturn, format(printf, 1, 2)))
die_run(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "guest-fraggen: run: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	teardown();
	exit(1);
}

static int transient(int err)
{
	return err == ENOMEM || err == EAGAIN || err == ENOSPC || err == EDQUOT;
}

static void files_path(char *buf, size_t len, const struct obj *o, int file)
{
	if (file < 0)
		snprintf(buf, len, "%s/o%llu", run.dir, o->id);
	else
		snprintf(buf, len, "%s/o%llu/%d", run.dir, o->id, file);
}

/* Deletes the first @n files of @o and its directory; returns an errno or 0. */
static int files_remove(const struct obj *o, unsigned int n)
{
	char path[4200];
	unsigned int i;
	int err = 0;

	for (i = 0; i < n; i++) {
		files_path(path, sizeof(path), o, i);
		if (unlink(path) && errno != ENOENT)
			err = errno;
	}
	files_path(path, sizeof(path), o, -1);
	if (rmdir(path) && errno != ENOENT)
		err = errno;
	return err;
}

/* 0: made; 1: failed for want of memory or space; exits on other errors. */
static int create_files(struct obj *o)
{
	char path[4200];
	uint64_t s = files_stream(o);
	unsigned int i, size;
	ssize_t n;
	int fd, err;

	files_path(path, sizeof(path), o, -1);
	if (mkdir(path, 0700)) {
		if (transient(errno))
			return 1;
		die_run("files: mkdir %s: %s", path, strerror(errno));
	}
	for (i = 0; i < o->count; i++) {
		size = 1024 + below(&s, 3073);
		files_path(path, sizeof(path), o, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0) {
			err = errno;
			files_remove(o, i);
			goto fail;
		}
		n = write(fd, fill, size);
		err = n < 0 ? errno : (unsigned int)n != size ? ENOSPC : 0;
		close(fd);
		if (err) {
			files_remove(o, i + 1);
			goto fail;
		}
	}
	return 0;
fail:
	if (transient(err))
		return 1;
	die_run("files: create %s: %s", path, strerror(err));
}

/* The child of a pt object: its page tables, then nothing but pause(). */
static void pt_child(const struct obj *o)
{
	volatile char *p = run.shared + o->off * PAGE_BYTES;
	sigset_t none;
	unsigned int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != run.self)
		_exit(0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	/* No pipe end nor ctl file kept alive by it. */
	if (close_range(3, ~0U, 0))
		for (i = 3; i < 4096; i++)
			close(i);
	for (i = 0; i < o->pages; i++)
		p[i * PAGE_BYTES] = 1;
	raise(SIGSTOP);		/* tells the parent that it is done */
	for (;;)
		pause();
}

/* 0: running; 1: failed for want of memory; exits on other errors. */
static int create_pt(struct obj *o)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		if (errno == EAGAIN || errno == ENOMEM)
			return 1;
		die_run("pt: fork: %s", strerror(errno));
	}
	if (!pid)
		pt_child(o);
	while (waitpid(pid, &st, WUNTRACED) < 0)
		if (errno != EINTR)
			die_run("pt: waitpid: %s", strerror(errno));
	if (!WIFSTOPPED(st))
		return 1;	/* killed while touching (the OOM killer) */
	o->pid = pid;
	kill(pid, SIGCONT);
	return 0;
}

static int create_pipe(struct obj *o)
{
	unsigned int done = 0;
	ssize_t n;

	if (pipe2(o->fd, O_NONBLOCK))
		return 1;
	while (done < o->bytes) {
		n = write(o->fd[1], fill, o->bytes - done);
		if (n <= 0)
			break;		/* EAGAIN: the pipe is full */
		done += n;
	}
	return 0;
}

static int create_anon(struct obj *o)
{
	size_t i;

	o->maplen = o->pages * PAGE_BYTES;
	o->map = mmap(NULL, o->maplen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (o->map == MAP_FAILED) {
		o->map = NULL;
		return 1;
	}
	madvise(o->map, o->maplen, MADV_NOHUGEPAGE);
	madvise(o->map, o->maplen, MADV_DONTFORK);
	for (i = 0; i < o->maplen; i += PAGE_BYTES)
		o->map[i] = 1;
	return 0;
}

static int create_thp(struct obj *o)
{
	char *p;

	o->maplen = 2 * HUGE_BYTES;
	o->map = mmap(NULL, o->maplen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (o->map == MAP_FAILED) {
		o->map = NULL;
		return 1;
	}
	madvise(o->map, o->maplen, MADV_DONTFORK);
	p = (char *)(((uintptr_t)o->map + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1));
	madvise(p, HUGE_BYTES, MADV_HUGEPAGE);
	p[0] = 1;
	return 0;
}

static int ctl_write(const char *cmd)
{
	size_t len = strlen(cmd);
	ssize_t n = write(run.ctl, cmd, len);

	if (n < 0)
		return errno;
	return (size_t)n == len ? 0 : EIO;
}

/* 0: held; 1: the alloc failed (vmalloc_fail); -1: nothing to do. */
static int create_vmalloc(struct obj *o)
{
	char cmd[64];
	int w, b;

	if (run.ctl < 0)
		return -1;
	for (w = 0; w < NR_SLOTS / 64 && run.slots[w] == ~0ULL; w++)
		;
	if (w == NR_SLOTS / 64) {
		run.vmalloc_fail++;
		return -1;
	}
	b = __builtin_ctzll(~run.slots[w]);
	snprintf(cmd, sizeof(cmd), "alloc %d %u\n", w * 64 + b, o->pages);
	if (ctl_write(cmd)) {
		run.vmalloc_fail++;
		return -1;
	}
	run.slots[w] |= 1ULL << b;
	o->slot = w * 64 + b;
	return 0;
}

static void run_create(struct plan *p, struct obj *o, long long tick)
{
	int r = 0;

	switch (o->kind) {
	case PT:
		r = create_pt(o);
		break;
	case PIPE:
		r = create_pipe(o);
		break;
	case FILES:
		r = create_files(o);
		break;
	case ANON:
		r = create_anon(o);
		break;
	case THP:
		r = create_thp(o);
		break;
	case VMALLOC:
		r = create_vmalloc(o);
		break;
	}
	if (r > 0 && o->kind != VMALLOC)
		run.failed++;
	if (r == 0) {
		o->held = 1;
		run.held[o->kind]++;
	}
}

/* Frees what the run holds for @o (nothing if its creation failed). */
static void release(struct obj *o)
{
	char cmd[64];
	int err;

	if (!o->held)
		return;
	o->held = 0;
	run.held[o->kind]--;
	switch (o->kind) {
	case PT:
		kill(o->pid, SIGKILL);
		while (waitpid(o->pid, NULL, 0) < 0 && errno == EINTR)
			;
		break;
	case PIPE:
		close(o->fd[0]);
		close(o->fd[1]);
		break;
	case FILES:
		err = files_remove(o, o->count);
		if (err)
			fprintf(stderr, "guest-fraggen: run: files: cannot delete %s/o%llu: %s\n",
				run.dir, o->id, strerror(err));
		break;
	case ANON:
	case THP:
		munmap(o->map, o->maplen);
		break;
	case VMALLOC:
		snprintf(cmd, sizeof(cmd), "free %d\n", o->slot);
		err = ctl_write(cmd);
		run.slots[o->slot / 64] &= ~(1ULL << (o->slot % 64));
		if (err && !run.tearing_down)
			die_run("vmalloc: write 'free %d' to %s: %s", o->slot,
				optval[O_VCTL], strerror(err));
		if (err)
			fprintf(stderr, "guest-fraggen: run: vmalloc: write 'free %d': %s\n",
				o->slot, strerror(err));
		break;
	}
}

static void run_destroy(struct plan *p, struct obj *o, long long tick)
{
	release(o);
}

static void run_skip(struct plan *p, const struct obj *o, long long tick,
		     const char *why)
{
}

static const struct actions run_actions = { run_create, run_destroy, run_skip };

/* Everything held freed: after SIGTERM, or on an error. */
static void teardown(void)
{
	size_t i;

	if (run.tearing_down)
		return;
	run.tearing_down = 1;
	if (run.plan)
		for (i = 0; i < run.plan->nlive; i++)
			release(&run.plan->live[i]);
	if (run.shared)
		munmap(run.shared, SHARED_BYTES);
	run.shared = NULL;
	if (run.ctl >= 0)
		close(run.ctl);
	run.ctl = -1;
}

static void log_or_die(const char *buf, size_t len)
{
	int err = append_line(run.log, buf, len);

	if (err)
		die_run("log %s: %s", run.log, strerror(err));
}

static void sample(long long tick)
{
	struct kv kv[64];
	struct buddy b;
	struct line l;
	long long vals[NR_COUNTERS_MAX], v;
	unsigned long long pb[3];
	int have[NR_COUNTERS_MAX], n = 0, i;
	char head[128], path[4200];
	static const char *const traces[2] = { "extfrag", "steal" };

	snprintf(head, sizeof(head), "harness: bench frag-sample tick=%lld ms=%lld",
		 tick, now_ms(&run.t0));
	v = meminfo_kb(run.meminfo, "MemFree");
	if (v >= 0)
		kv[n++] = (struct kv){ "free_kb", NULL, v };
	if (!read_buddyinfo(run.buddyinfo, &b)) {
		kv[n++] = (struct kv){ "o9_units", NULL, (long long)b.o9_units };
		kv[n++] = (struct kv){ "o4_plus_kb", NULL, (long long)b.o4_plus_kb };
		kv[n++] = (struct kv){ "o0_pages", NULL, (long long)b.o0_pages };
	}
	if (!read_pageblocks(run.pagetypeinfo, pb)) {
		kv[n++] = (struct kv){ "pb_unmovable", NULL, (long long)pb[0] };
		kv[n++] = (struct kv){ "pb_movable", NULL, (long long)pb[1] };
		kv[n++] = (struct kv){ "pb_reclaimable", NULL, (long long)pb[2] };
	}
	for (i = 0; run.extfrag && i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s/trace", run.extfrag, traces[i]);
		v = trace_written(path);
		if (v >= 0) {
			kv[n++] = (struct kv){ traces[i], NULL, v };
		} else if (!run.warned_trace) {
			fprintf(stderr, "guest-fraggen: run: no entries-written count in %s: %s left off\n",
				path, traces[i]);
			run.warned_trace = 1;
		}
	}
	read_vmstat(run.vmstat, run_counters, NR_RUN_COUNTERS, vals, have);
	for (i = 0; i < (int)NR_RUN_COUNTERS; i++)
		if (have[i] && run.have_base[i])
			kv[n++] = (struct kv){ run_counters[i].name, run_counters[i].alt,
					       vals[i] - run.base[i] };
	kv[n++] = (struct kv){ "live_pt", NULL, run.held[PT] };
	kv[n++] = (struct kv){ "live_pipe", NULL, run.held[PIPE] };
	kv[n++] = (struct kv){ "live_files", NULL, run.held[FILES] };
	kv[n++] = (struct kv){ "live_anon", NULL, run.held[ANON] };
	kv[n++] = (struct kv){ "live_thp", NULL, run.held[THP] };
	kv[n++] = (struct kv){ "live_vmalloc", NULL, run.held[VMALLOC] };
	kv[n++] = (struct kv){ "used_kb", NULL, (long long)(run.plan->used / 1024) };
	kv[n++] = (struct kv){ "vmalloc_fail", NULL, (long long)run.vmalloc_fail };
	kv[n++] = (struct kv){ "skipped", NULL, (long long)run.plan->skipped };
	kv[n++] = (struct kv){ "failed", NULL, (long long)run.failed };

	format_line(&l, head, kv, n, 0);
	if (l.left_off)
		format_line(&l, head, kv, n, 1);
	if (l.left_off && !run.warned_line) {
		fprintf(stderr, "guest-fraggen: run: tick %lld: %d keys left off the sample line (%d bytes at most)\n",
			tick, l.left_off, LINE_LIMIT - 1);
		run.warned_line = 1;
	}
	log_or_die(l.buf, l.len);
}

/* 1 if SIGTERM or SIGINT came, after waiting up to @ms for one. */
static int stop_signal(long long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	return sigtimedwait(&run.stop_signals, NULL, &ts) > 0;
}

static int run_main(void)
{
	uint64_t seed = number(O_SEED, 0, UINT64_MAX);
	unsigned long long ticks = number(O_TICKS, 1, 100000000);
	unsigned long long budget_kb = number(O_BUDGET, MIN_BUDGET_KB, 1ULL << 40);
	unsigned long long every = number(O_SAMPLE, 1, 100000000);
	unsigned long long tick_ms = number_or(O_TICK_MS, 0, 0, 3600000);
	const char *proc = optval[O_PROC] ? optval[O_PROC] : "/proc";
	struct plan plan;
	struct stat st;
	char line[LINE_LIMIT];
	unsigned long long t;
	int fd, len, i;

	run.log = required(O_LOG);
	run.dir = required(O_DIR);
	run.extfrag = optval[O_EXTFRAG];
	run.ready = optval[O_READY];
	run.ctl = -1;
	run.self = getpid();
	if (strlen(run.dir) > 4000 || strlen(proc) > 4000 ||
	    (run.extfrag && strlen(run.extfrag) > 4000))
		bad_args("a path is too long");
	snprintf(run.meminfo, sizeof(run.meminfo), "%s/meminfo", proc);
	snprintf(run.buddyinfo, sizeof(run.buddyinfo), "%s/buddyinfo", proc);
	snprintf(run.pagetypeinfo, sizeof(run.pagetypeinfo), "%s/pagetypeinfo", proc);
	snprintf(run.vmstat, sizeof(run.vmstat), "%s/vmstat", proc);

	/* SIGTERM and SIGINT are taken with sigtimedwait(), never delivered. */
	sigemptyset(&run.stop_signals);
	sigaddset(&run.stop_signals, SIGTERM);
	sigaddset(&run.stop_signals, SIGINT);
	sigprocmask(SIG_BLOCK, &run.stop_signals, NULL);

	fd = open(run.log, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0)
		die_run("cannot open the log %s: %s", run.log, strerror(errno));
	close(fd);
	if (stat(run.dir, &st))
		die_run("--dir %s: %s", run.dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die_run("--dir %s: not a directory", run.dir);
	if (optval[O_VCTL]) {
		run.ctl = open(optval[O_VCTL], O_WRONLY);
		if (run.ctl < 0)
			die_run("vmalloc: cannot open %s: %s", optval[O_VCTL], strerror(errno));
	}
	memset(fill, 'f', sizeof(fill));

	plan_init(&plan, seed, budget_kb, number_or(O_MAX_LIFE, 200, 20, 1000000),
		  &run_actions);
	run.plan = &plan;
	clock_gettime(CLOCK_MONOTONIC, &run.t0);
	read_vmstat(run.vmstat, run_counters, NR_RUN_COUNTERS, run.base, run.have_base);

	run.shared = mmap(NULL, SHARED_BYTES, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (run.shared == MAP_FAILED) {
		run.shared = NULL;
		die_run("pt: shared buffer: mmap: %s", strerror(errno));
	}
	/* Order-0 pages, so that the children map them with page tables. */
	madvise(run.shared, SHARED_BYTES, MADV_NOHUGEPAGE);
	memset(run.shared, 1, SHARED_BYTES);

	for (t = 0; t < ticks; t++) {
		if (stop_signal(0))
			die_run("stopped by a signal at tick %llu of %llu", t, ticks);
		if (t % every == 0)
			sample(t);
		plan_tick(&plan, t);
		if (tick_ms && stop_signal(tick_ms))
			die_run("stopped by a signal at tick %llu of %llu", t, ticks);
	}
	sample(ticks);
	plan_finish(&plan, ticks);
	len = snprintf(line, sizeof(line),
		       "harness: bench frag-end ticks=%llu ops=%llu freed=%llu kept=%llu vmalloc_fail=%llu skipped=%llu failed=%llu\n",
		       ticks, plan.ops, plan.freed, plan.kept, run.vmalloc_fail,
		       plan.skipped, run.failed);
	log_or_die(line, len);
	if (run.ready) {
		fd = open(run.ready, O_WRONLY | O_CREAT, 0644);
		if (fd < 0)
			die_run("cannot create the ready file %s: %s", run.ready, strerror(errno));
		close(fd);
	}
	while ((i = sigwaitinfo(&run.stop_signals, NULL)) < 0)
		;
	teardown();
	return 0;
}

/* --- probe mode --------------------------------------------------------- */

static int probe_main(void)
{
	const char *defrag = required(O_DEFRAG), *log = required(O_LOG);
	const char *thp_dir = optval[O_THP_DIR] ? optval[O_THP_DIR] :
			      "/sys/kernel/mm/transparent_hugepage";
	unsigned long long reserve_kb = number_or(O_RESERVE, 32768, 0, 1ULL << 40);
	long long before[NR_COUNTERS_MAX], after[NR_COUNTERS_MAX];
	long long free_kb, total_kb, huge, ms;
	int have0[NR_COUNTERS_MAX], have1[NR_COUNTERS_MAX], fd, err, i, n;
	unsigned long long r, k;
	struct timespec t0;
	struct line l;
	struct kv kv[NR_COUNTERS_MAX];
	char path[4200], val[16], head[256], *map, *p;
	ssize_t w;

	if (strcmp(defrag, "never") && strcmp(defrag, "always"))
		bad_args("unknown --defrag value '%s' (never or always)", defrag);
	if (strlen(thp_dir) > 4000)
		bad_args("a path is too long");

	snprintf(path, sizeof(path), "%s/defrag", thp_dir);
	n = snprintf(val, sizeof(val), "%s\n", defrag);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0) {
		err = errno;
	} else {
		w = write(fd, val, n);
		err = w < 0 ? errno : w != n ? EIO : 0;
		if (close(fd) && !err)
			err = errno;
	}
	if (err) {
		fprintf(stderr, "guest-fraggen: probe: cannot set %s to %s: %s\n",
			path, defrag, strerror(err));
		return 1;
	}
	free_kb = meminfo_kb("/proc/meminfo", "MemFree");
	total_kb = meminfo_kb("/proc/meminfo", "MemTotal");
	if (free_kb < 0 || total_kb <= 0) {
		fprintf(stderr, "guest-fraggen: probe: no MemFree or MemTotal in /proc/meminfo\n");
		return 1;
	}
	r = free_kb > (long long)reserve_kb ? (free_kb - reserve_kb) / 2048 : 0;
	if (!r) {
		fprintf(stderr, "guest-fraggen: probe: MemFree %lld kB leaves no 2 MiB region above --reserve-kb %llu\n",
			free_kb, reserve_kb);
		return 1;
	}
	map = mmap(NULL, (r + 1) * HUGE_BYTES, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "guest-fraggen: probe: mmap of %llu MiB: %s\n", 2 * r,
			strerror(errno));
		return 1;
	}
	p = (char *)(((uintptr_t)map + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1));
	if (madvise(p, r * HUGE_BYTES, MADV_HUGEPAGE)) {
		fprintf(stderr, "guest-fraggen: probe: madvise(MADV_HUGEPAGE): %s\n",
			strerror(errno));
		return 1;
	}
	read_vmstat("/proc/vmstat", probe_counters, NR_PROBE_COUNTERS, before, have0);
	if (!have0[0]) {
		fprintf(stderr, "guest-fraggen: probe: no thp_fault_alloc in /proc/vmstat\n");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < r; k++)
		p[k * HUGE_BYTES] = 1;
	ms = now_ms(&t0);
	read_vmstat("/proc/vmstat", probe_counters, NR_PROBE_COUNTERS, after, have1);
	huge = have1[0] ? after[0] - before[0] : 0;
	if (huge < 0)
		huge = 0;
	snprintf(head, sizeof(head),
		 "harness: bench frag-probe defrag=%s tried=%llu huge=%lld share_pm=%lld ms=%lld",
		 defrag, r, huge, huge * 2048 * 1000 / total_kb, ms);
	for (i = 1, n = 0; i < (int)NR_PROBE_COUNTERS; i++)
		if (have0[i] && have1[i])
			kv[n++] = (struct kv){ probe_counters[i].name, NULL,
					       after[i] - before[i] };
	format_line(&l, head, kv, n, 0);
	err = append_line(log, l.buf, l.len);
	munmap(map, (r + 1) * HUGE_BYTES);
	if (err) {
		fprintf(stderr, "guest-fraggen: probe: log %s: %s\n", log, strerror(err));
		return 1;
	}
	return 0;
}

/* --- plan mode and main ------------------------------------------------- */

static int plan_main(void)
{
	uint64_t seed = number(O_SEED, 0, UINT64_MAX);
	unsigned long long ticks = number(O_TICKS, 1, 100000000);
	unsigned long long budget_kb = number(O_BUDGET, MIN_BUDGET_KB, 1ULL << 40);
	struct plan plan;
	unsigned long long t;

	plan_init(&plan, seed, budget_kb, number_or(O_MAX_LIFE, 200, 20, 1000000),
		  &print_actions);
	for (t = 0; t < ticks; t++)
		plan_tick(&plan, t);
	plan_finish(&plan, ticks);
	if (fflush(stdout)) {
		perror("guest-fraggen: plan: stdout");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int mode;

	if (argc < 2) {
		fprintf(stderr, "guest-fraggen: no mode (plan, run or probe)\n");
		usage();
		return 2;
	}
	if (!strcmp(argv[1], "plan"))
		mode = M_PLAN;
	else if (!strcmp(argv[1], "run"))
		mode = M_RUN;
	else if (!strcmp(argv[1], "probe"))
		mode = M_PROBE;
	else
		bad_args("unknown mode '%s' (plan, run or probe)", argv[1]);
	mode_name = argv[1];
	parse_opts(argc, argv, mode);
	if (mode == M_PLAN)
		return plan_main();
	if (mode == M_RUN)
		return run_main();
	return probe_main();
}

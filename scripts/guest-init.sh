#!/bin/sh
# Guest init of the harness (runs as PID 1 from the initramfs).
#
# Reads its plan from the kernel command line (harness.plan=NAME) and writes
# protocol markers into the kernel log, where scripts/check-log.py finds them:
#   harness: start variant=V plan=P
#   harness: vmalloc-row LABEL      (before each test_vmalloc.ko load)
#   harness: vmalloc-expect summaries=N tests=T threads=W
#                                   (right after it: the Summary lines due)
#   harness: bench NAME key=value...
#   harness: leak phase=P ...       (stress plan: pages before/after a phase)
#   harness: expect-alloc-failures begin|end  (stress plan: the fault window)
#   harness: vmstat phase=P KEY=DELTA...  (pressure plan: /proc/vmstat deltas)
#   harness: direct phase=P task=T event=E FIELDS... stack=F1<F2...
#                                   (pressure plan: a traced entry into direct
#                                   compaction or reclaim)
#   harness: direct-summary phase=P events=N logged=L entries=B written=W
#   harness: note TEXT
#   harness: error TEXT
#   harness: done
# check-log.py knows what each plan must log (its PLANS): "done" alone
# does not pass. KUnit suites are built in and have already run when this
# starts.

/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug

log() { echo "harness: $*" > /dev/kmsg; }

arg() {
	for w in $(cat /proc/cmdline); do
		case "$w" in "harness.$1="*) echo "${w#*=}"; return;; esac
	done
	echo "$2"
}

plan=$(arg plan smoke)
variant=$(arg variant unknown)
loops=$(arg loops 1000)
log "start variant=$variant plan=$plan"

# vmalloc_expect IDS PARAMS...: "summaries=N tests=T threads=W" for a
# test_vmalloc.ko load with module parameters PARAMS: the module prints one
# "Summary:" line per worker thread and selected test case, a case being
# selected if its id (IDS: "ID NAME" lines of the module's cases, made by
# initramfs.sh) is in run_test_mask. The module's defaults (lib/
# test_vmalloc.c): run_test_mask=INT_MAX, nr_threads=0, and nr_threads is
# clamped to 1..USHRT_MAX. Prints nothing and fails if it cannot tell.
# A subshell: its variables stay in it, and a bad number ends it, not init.
vmalloc_expect() (
	ids=$1 mask=2147483647 threads=0
	shift
	[ -s "$ids" ] || exit 1
	for p; do
		case "$p" in
		run_test_mask=*) mask=${p#*=} ;;
		nr_threads=*) threads=${p#*=} ;;
		esac
	done
	for v in "$mask" "$threads"; do    # what kstrtoint(v, 0) takes
		case "$v" in
		0[Xx]*) case "${v#0?}" in ''|*[!0-9A-Fa-f]*) exit 1 ;; esac ;;
		*) case "${v#-}" in ''|*[!0-9]*) exit 1 ;; esac ;;
		esac
	done
	mask=$((mask)) threads=$((threads)) tests=0
	[ "$threads" -lt 1 ] && threads=1
	[ "$threads" -gt 65535 ] && threads=65535
	while read -r id _; do
		[ $((mask & id)) -ne 0 ] && tests=$((tests + 1))
	done < "$ids"
	echo "summaries=$((tests * threads)) tests=$tests threads=$threads"
)

# vmalloc_row LABEL PARAMS...: one test_vmalloc.ko load, announced by LABEL
# and followed by the number of Summary lines it must print.
# The module fails its init on purpose (-EAGAIN) after the run, which
# guest-insmod takes as success (busybox insmod would load it twice).
vmalloc_row() {
	label=$1
	shift
	expect=$(vmalloc_expect /vmalloc-ids "$@") ||
		log "error row $label: cannot tell how many Summary lines it prints (no /vmalloc-ids in the initramfs, or bad parameters: $*)"
	log "vmalloc-row $label"
	[ -n "$expect" ] && log "vmalloc-expect $expect"
	if ! guest-insmod /modules/test_vmalloc.ko "$@" 2>/tmp/insmod.err; then
		case "$label" in
		# Injected faults may fail the module load itself.
		faults*) log "note $(cat /tmp/insmod.err)" ;;
		*) log "error $(cat /tmp/insmod.err)" ;;
		esac
	fi
}

# Test runs (passed + failed) that test_vmalloc reported after the last
# vmalloc-row marker in the kernel log.
last_row_runs() {
	dmesg | awk '/harness: vmalloc-row / { n = 0 }
		/ Summary: / { for (i = 1; i < NF; i++) if ($i == "passed:" || $i == "failed:") n += $(i + 1) }
		END { print n + 0 }'
}

# Every test case except align_shift_alloc_test (id 64), which fails by design.
SMOKE_MASK=$((0x7fffffff & ~64))
ncpu=$(grep -c ^processor /proc/cpuinfo)

# Free pages as the allocator has them: buddy ("pages free") plus every
# CPU's pcp lists ("count:"), so no drain is needed to count them exactly.
free_pages() {
	awk '$1 == "pages" && $2 == "free" { s += $3 } $1 == "count:" { s += $2 } END { print s }' /proc/zoneinfo
}
vmalloc_kb() { awk '$1 == "VmallocUsed:" { print $2 }' /proc/meminfo; }
# The kernel's own bookkeeping memory that a phase may legitimately leave
# grown: slab (KASAN's quarantine holds freed objects, so their slabs stay),
# percpu, page tables and kernel stacks.
other_kb() {
	awk '$1 ~ /^(Slab|Percpu|PageTables|SecPageTables|KernelStack):$/ { s += $2 } END { print s }' /proc/meminfo
}

# Let deferred frees settle: kvfree_rcu() batches (drained after up to 5 s,
# or by its shrinker, which drop_caches runs) and lazily purged vmap areas.
# Wait until VmallocUsed and the free pages hold still for 3 s (at most 60 s).
settle() {
	echo 2 > /proc/sys/vm/drop_caches
	last="" same=0 i=0
	while [ $same -lt 3 ] && [ $i -lt 60 ]; do
		sleep 1
		now="$(vmalloc_kb) $(free_pages)"
		if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; fi
		last=$now i=$((i + 1))
	done
}

# Pages of live vmalloc areas by caller, one "CALLER PAGES" line each.
vmalloc_callers() {
	awk '{ for (i = 4; i <= NF; i++) if ($i ~ /^pages=/) n[$3] += substr($i, 7) }
		END { for (c in n) print c, n[c] }' /proc/vmallocinfo | sort
}

# snapshot: "FREE_PAGES VMALLOC_KB OTHER_KB" now; the vmalloc callers go to
# /tmp/vmalloc-callers (the last snapshot's).
snapshot() {
	vmalloc_callers > /tmp/vmalloc-callers
	echo "$(free_pages) $(vmalloc_kb) $(other_kb)"
}

# leak PHASE BEFORE: record what a phase gave back (BEFORE: a snapshot).
leak() {
	settle
	cp /tmp/vmalloc-callers /tmp/vmalloc-callers.before
	set -- "$1" $2 $(snapshot)
	log "leak phase=$1 free_before=$2 free_after=$5 vmalloc_kb_before=$3 vmalloc_kb_after=$6 other_kb_before=$4 other_kb_after=$7"
	# Which vmalloc users hold more or fewer pages than before the phase.
	awk 'NR == FNR { b[$1] = $2; next } { a[$1] = $2 }
		END { for (c in a) if (a[c] != b[c]) printf "%s %+d; ", c, a[c] - b[c]
		      for (c in b) if (!(c in a)) printf "%s %+d; ", c, -b[c] }' \
		/tmp/vmalloc-callers.before /tmp/vmalloc-callers > /tmp/vmalloc-delta
	[ -s /tmp/vmalloc-delta ] && log "note vmalloc pages by caller, phase $1: $(cat /tmp/vmalloc-delta)"
}

# cma_loop DIR: CMA allocations and releases (alloc_contig_range() +
# cma_release()) through the CMA debugfs directory DIR in the background
# until /tmp/stop-cma exists; the count is in /tmp/cma-ops.
cma_loop() {
	d=$1
	n=0
	if [ -n "$d" ]; then
		while [ ! -e /tmp/stop-cma ]; do
			echo 1000 > "$d/alloc" 2>/dev/null && echo 1000 > "$d/free" 2>/dev/null &&
				n=$((n + 1))
		done
	fi
	echo "$n" > /tmp/cma-ops
}

# Stress: test_vmalloc with a thread per CPU, every case but the one that
# fails by design, repeated; a warm-up first fills slab, percpu and page
# table caches, so that the measured phases start from a steady state.
stress_plan() {
	repeat=$(arg repeat 3)
	args="run_test_mask=$SMOKE_MASK test_loop_count=$loops nr_threads=$ncpu test_repeat_count=$repeat"
	vmalloc_row "warmup t:$ncpu l:$loops r:$repeat" $args
	settle
	s0=$(snapshot)
	# Looked up here, not in the background: a marker logged during a row
	# would end it.
	cma=$(ls -d /sys/kernel/debug/cma/* 2>/dev/null | head -1)
	[ -n "$cma" ] || log "error no CMA area in /sys/kernel/debug/cma (needs CONFIG_CMA_DEBUGFS and a CMA area, e.g. CONFIG_CMA_SIZE_MBYTES or cma=): the CMA loop cannot run"
	rm -f /tmp/stop-cma
	cma_loop "$cma" &
	vmalloc_row "stress t:$ncpu l:$loops r:$repeat" $args
	touch /tmp/stop-cma
	wait
	rounds=$(cat /tmp/cma-ops)
	log "bench cma_alloc_release rounds=$rounds pages=1000"
	[ -n "$cma" ] && [ "$rounds" = 0 ] &&
		log "error the CMA loop made no round: every allocation of 1000 pages through $cma/alloc failed"
	leak stress "$s0"

	fpa=/sys/kernel/debug/fail_page_alloc
	if [ ! -d "$fpa" ]; then
		log "error no $fpa (needs CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAULT_INJECTION_DEBUG_FS): the faults phase cannot run"
		return 0
	fi
	s1=$(snapshot)
	# Fail 1 in 50 page allocations of any order, sleeping ones included.
	echo N > $fpa/ignore-gfp-wait
	echo N > $fpa/ignore-gfp-highmem
	echo 0 > $fpa/min-order
	echo 0 > $fpa/verbose
	echo 1000000 > $fpa/times
	echo 1 > $fpa/interval
	echo 0 > $fpa/probability
	log "expect-alloc-failures begin"
	# guest-insmod turns the faults on for the module's run only: a fork of
	# this shell that failed would kill init. The faults may also fail the
	# module load, and then nothing was tested: such a try is repeated
	# (check-log.py fails a phase without a test run). If no worker thread
	# starts at all, test_vmalloc waits for them forever (6.12's
	# do_concurrent_test()): the boot's TIMEOUT ends that run, which fails.
	for try in 1 2 3; do
		FAIL_PAGE_ALLOC_PROBABILITY=2 vmalloc_row "faults t:$ncpu l:$loops p:2%" \
			run_test_mask=$SMOKE_MASK test_loop_count="$loops" nr_threads="$ncpu"
		[ "$(last_row_runs)" -gt 0 ] && break
		log "note faults try $try: no test ran"
	done
	log "expect-alloc-failures end"
	log "bench fail_page_alloc injected=$((1000000 - $(cat $fpa/times)))"
	leak faults "$s1"
}

# vmstat_delta PHASE BEFORE_FILE: the reclaim and compaction counters of
# /proc/vmstat, as differences to a copy taken before the phase.
VMSTAT_KEYS="compact_stall compact_fail compact_success compact_daemon_wake allocstall_dma allocstall_dma32 allocstall_normal allocstall_movable pgscan_direct pgscan_kswapd pageoutrun"
vmstat_delta() {
	log "vmstat phase=$1 $(vmstat_diff "$2" "$VMSTAT_KEYS")"
}

# vmstat_diff BEFORE_FILE KEYS: "KEY=DELTA ..." of /proc/vmstat since BEFORE_FILE.
vmstat_diff() {
	awk -v keys="$2" '
		BEGIN { n = split(keys, k); for (i = 1; i <= n; i++) want[k[i]] = 1 }
		NR == FNR { before[$1] = $2; next }
		$1 in want { printf "%s=%d ", $1, $2 - before[$1] }' "$1" /proc/vmstat
}

# Direct compaction and direct reclaim, attributed: the counters of
# /proc/vmstat are global, so a stall during the pressure run may come from
# any allocation in the guest. Where the kernel has the tracepoints (7.x:
# CONFIG_FTRACE in bases/7.3/kconfig), every entry into direct compaction
# (compaction:mm_compaction_try_to_compact_pages) and direct reclaim
# (vmscan:mm_vmscan_direct_reclaim_begin) of the phase is traced with its
# kernel stack (a stacktrace trigger), and logged for check-log.py, which
# fails a phase on any entry from inside vmalloc() and on counters that moved
# with no traced entry to explain them. Without the tracepoints the phase is
# judged on the counters alone.
TRACEFS=/sys/kernel/tracing
DIRECT_EVENTS="compaction/mm_compaction_try_to_compact_pages vmscan/mm_vmscan_direct_reclaim_begin"
# At most this many entries are logged a phase (check-log.py treats the rest
# as unattributed).
DIRECT_LOG_MAX=200

# direct_trace_start: 0 if the entries are traced from now on.
direct_trace_start() {
	[ -d $TRACEFS/events ] || mount -t tracefs tracefs $TRACEFS 2>/dev/null
	for e in $DIRECT_EVENTS; do
		[ -d $TRACEFS/events/$e ] || { log "note direct: no tracepoint $e, judged on the counters"; return 1; }
	done
	echo 0 > $TRACEFS/tracing_on
	echo > $TRACEFS/trace
	echo 4096 > $TRACEFS/buffer_size_kb
	for e in $DIRECT_EVENTS; do
		echo stacktrace > $TRACEFS/events/$e/trigger || return 1
		echo 1 > $TRACEFS/events/$e/enable || return 1
	done
	echo 1 > $TRACEFS/tracing_on
}

# direct_trace_stop PHASE: one "direct" marker an entry (task, event, its
# fields, the stack innermost first as "f1<f2<..."), then "direct-summary".
direct_trace_stop() {
	echo 0 > $TRACEFS/tracing_on
	for e in $DIRECT_EVENTS; do
		echo 0 > $TRACEFS/events/$e/enable
		echo '!stacktrace' > $TRACEFS/events/$e/trigger
	done
	awk -v phase="$1" -v max=$DIRECT_LOG_MAX '
		function flush() {
			if (head == "") return
			if (++n <= max) print "direct phase=" phase " " head " stack=" substr(stack, 1, 700)
			head = ""
		}
		/entries-in-buffer\/entries-written:/ {
			split($0, w, /[:\/ ]+/)
			for (i = 1; i in w; i++) if (w[i] == "entries-written") { inbuf = w[i + 1]; written = w[i + 2] }
			next
		}
		/^#/ { next }
		/: (mm_compaction_try_to_compact_pages|mm_vmscan_direct_reclaim_begin): / {
			flush()
			task = $1
			ev = $0; sub(/^.*[0-9]: /, "", ev)
			name = ev; sub(/:.*/, "", name)
			sub(/^[^:]*: /, "", ev)
			head = "task=" task " event=" name " " ev
			stack = ""
			next
		}
		/^ => / {
			f = $2; sub(/\+0x.*/, "", f)
			stack = stack (stack == "" ? "" : "<") f
		}
		END {
			flush()
			print "direct-summary phase=" phase " events=" n + 0 " logged=" (n > max ? max : n + 0) \
				" entries=" (inbuf == "" ? "?" : inbuf) " written=" (written == "" ? "?" : written)
		}' $TRACEFS/trace > /tmp/direct.out
	while read -r line; do log "$line"; done < /tmp/direct.out
}

# What moved the free pages while guest-fragment ran (a note, not checked).
FRAGMENT_VMSTAT_KEYS="compact_daemon_wake compact_daemon_migrate_scanned compact_migrate_scanned compact_stall thp_fault_alloc thp_fault_fallback thp_collapse_alloc thp_collapse_alloc_failed pgscan_kswapd"
# The pressure run's premise on free memory (check-log.py checks it too):
# at least 4096 free pages, four times what its two threads hold at a time
# (2 x 512 pages), well above the zone's high watermark (about 940 pages in
# the 384 MiB guest), so that the order-0 fallback has no reason to reclaim.
PRESSURE_MIN_FREE_PAGES=4096

# fragment BLOCKS_KB BLOCK_ORDER PREMISE [late]: make free memory
# fragmented, with guest-fragment left running (its pid in fpid, the
# order-9 units it could not take in untaken) until the caller kills it.
# BLOCKS_KB is given back as whole blocks of BLOCK_ORDER (with "late",
# after the huge page faults, so that they may be of order 9); PREMISE 1
# wants no free block of order >= 9 afterwards (retried up to 3 times), 0
# leaves the blocks be. Returns non-zero (an error logged) if
# guest-fragment failed.
fragment() {
	blocks_kb=$1 block_order=$2 premise=$3 late=${4:-}
	# guest-fragment keeps 8 MiB untouched, gives back BLOCKS_KB as blocks
	# of BLOCK_ORDER that cannot merge (pressure: 16 MiB of order 3) and
	# 32 MiB in single pages (the run needs nr_threads x 2 MiB at a time),
	# then takes the free blocks of order >= 9 (the order of the run's first
	# attempt: 512 pages) with huge page faults that may not compact. The
	# order-3 blocks (PAGE_ALLOC_COSTLY_ORDER, the
	# largest order the kernel's own allocations expect to get) are for the
	# guest's kernel stacks (order 2, at every fork): with single pages only,
	# a fork during the run found no order-2 block once the few left over
	# were taken (vmalloc's high-order attempts step down through them on
	# 7.3), compaction failed, and the OOM killer ran (seen three times in 7.3's
	# pressure boot, results/7.3/reliability.md).
	# Turning THP on starts khugepaged, which raises min_free_kbytes for
	# its own sake (to 18 MiB in this guest): the setting is kept as it was.
	thp=/sys/kernel/mm/transparent_hugepage
	mfk=$(cat /proc/sys/vm/min_free_kbytes)
	echo never > $thp/defrag
	# Background compaction undoes the fragmenting: kcompactd's proactive
	# compaction (and khugepaged's collapses, which may compact) move the
	# filled pages into the single free pages, and the blocks so formed go
	# to the huge page faults, until few free pages are left (seen: 266
	# order-0 pages instead of about 8000, then direct reclaim in the
	# run). Both stay off for the plan; guest-fragment leaves khugepaged
	# nothing to collapse besides.
	echo 0 > /proc/sys/vm/compaction_proactiveness
	echo 0 > $thp/khugepaged/defrag
	# The premise of the run (check-log.py checks it): no free block of
	# order >= 9 that vmalloc() could take. A block may still form after
	# guest-fragment's last look (pages coming back off the pcp lists, or
	# watermarks that khugepaged had raised while it took blocks going back
	# down), so it is checked here once THP is off again, and a try whose
	# premise does not hold is done anew from nothing (3 tries).
	for try in 1 2 3; do
		echo madvise > $thp/enabled
		sleep 1		# khugepaged starts and raises min_free_kbytes
		echo "$mfk" > /proc/sys/vm/min_free_kbytes
		rm -f /tmp/fragmented
		cp /proc/vmstat /tmp/vmstat.fragment
		guest-fragment 8192 32768 "$blocks_kb" "$block_order" 9 /tmp/fragmented $late > /tmp/fragment.out 2>&1 &
		fpid=$!
		i=0
		while [ ! -e /tmp/fragmented ] && [ $i -lt 300 ] && kill -0 $fpid 2>/dev/null; do
			sleep 1
			i=$((i + 1))
		done
		if [ ! -e /tmp/fragmented ]; then
			# Where it waits, before it goes.
			[ -d /proc/$fpid ] && log "note guest-fragment after ${i}s: $(grep '^State:' /proc/$fpid/status) wchan=$(cat /proc/$fpid/wchan 2>/dev/null) stack: $(tr '\n' '<' 2>/dev/null < /proc/$fpid/stack)"
			if kill $fpid 2>/dev/null; then
				why="still running after ${i}s"
			else
				wait $fpid
				why="exit status $? (137: killed, e.g. by the OOM killer)"
			fi
			log "error guest-fragment did not finish, $why: $(cat /tmp/fragment.out)"
			return 1
		fi
		log "note $(grep '^guest-fragment:' /tmp/fragment.out | tr '\n' ' ')"
		log "note guest-fragment's $(grep '^phase' /tmp/fragment.out | tr '\n' ';')"
		log "note vmstat while fragmenting: $(vmstat_diff /tmp/vmstat.fragment "$FRAGMENT_VMSTAT_KEYS")"
		untaken=$(sed -n 's/^untaken=//p' /tmp/fragment.out)
		echo never > $thp/enabled
		echo "$mfk" > /proc/sys/vm/min_free_kbytes
		# Free units of order 9 (fields 14, 15: orders 9 and 10), and
		# free pages (busybox awk has no "^": the block size doubles).
		units=$(awk '{ u += $14 + 2 * $15 } END { print u + 0 }' /proc/buddyinfo)
		free=$(awk '{ n = 1; for (o = 5; o <= NF; o++) { f += $o * n; n *= 2 } }
			END { print f + 0 }' /proc/buddyinfo)
		[ "$premise" = 0 ] && [ "$free" -ge $PRESSURE_MIN_FREE_PAGES ] && break
		[ "$units" -le "${untaken:-0}" ] && [ "$free" -ge $PRESSURE_MIN_FREE_PAGES ] && break
		[ $try = 3 ] && break
		log "note pressure premise: $units free order-9 units, ${untaken:-0} out of reach, $free free pages (at least $PRESSURE_MIN_FREE_PAGES wanted), after try $try: fragmenting anew"
		kill $fpid
		wait $fpid 2>/dev/null
	done
}

# Pressure (a small guest): free memory is brought down to about the working
# set, mostly in isolated order-0 pages and some order-3 blocks
# (guest-fragment), so that vmalloc()'s high-order attempts fail and it falls
# back to lower orders. Those attempts
# must neither reclaim nor compact: the compaction and reclaim counters are
# recorded around the run, and check-log.py fails on direct compaction or
# direct reclaim. A warm-up run before the fragmenting grows the slab caches
# (whose own high-order slab allocations may compact) to the working set.
# It allocates 511 pages, not 512: the series frees an order-9 chunk to the
# pcp lists, where the run's order-9 attempts would find it (the pcp lists
# are not in /proc/buddyinfo, and userspace cannot drain them); 511 pages
# take the same slab caches (a 4 KiB page array) without an order-9 chunk.
pressure_plan() {
	n=$((loops / 5))
	args="run_test_mask=9 test_loop_count=$n nr_threads=$ncpu"
	vmalloc_row "pressure-warmup t:$ncpu p:511 l:$n" nr_pages=511 $args
	settle
	fragment 16384 3 1 || return 0
	# Free pages by order, all zones: what a high-order attempt could get.
	# (busybox awk has no "^": the block size is doubled as it goes.)
	log "bench fragmentation $(awk '{ z += $5; n = 1; for (o = 6; o <= NF; o++) { n *= 2; h += $o * n } }
		END { printf "order0_free_pages=%d higher_order_free_pages=%d", z, h }' /proc/buddyinfo) untaken_order9_units=${untaken:-0}"
	while read -r line; do log "note buddyinfo: $line"; done < /proc/buddyinfo
	direct_trace_start && traced=1 || traced=0
	cp /proc/vmstat /tmp/vmstat.before
	vmalloc_row "pressure t:$ncpu p:512 l:$n" nr_pages=512 $args
	vmstat_delta pressure /tmp/vmstat.before
	[ $traced = 0 ] || direct_trace_stop pressure
	kill $fpid
	wait
}

# The wakeups plan: what vmalloc()'s high-order blocks cost the rest of the
# guest when free memory is fragmented. The pressure plan's guest
# (harness.frag=holes: single pages and order-3 blocks, no free block of
# order >= 9) or one with about half of its free memory in order-9 blocks
# (harness.frag=half), then each row of /bench-rows with a thread per CPU,
# and after each row what it caused ("bench wakeups row=..."):
#   hi_calls   high-order page allocations (kmem:mm_page_alloc, order > 0;
#              failed ones included: their pfn is -1)
#   hi_fails   ... of them failed
#   kswapd_wake, kcompactd_wake  wakeups that woke the thread
#              (vmscan:mm_vmscan_wakeup_kswapd,
#              compaction:mm_compaction_wakeup_kcompactd)
#   avg_us     test_vmalloc's time for the row
# and the /proc/vmstat counters of WAKE_VMSTAT_KEYS over the row.
WAKE_COUNTERS="hi_calls|kmem/mm_page_alloc|order > 0
hi_fails|kmem/mm_page_alloc|order > 0 && pfn > 0xffffffff
kswapd_wake|vmscan/mm_vmscan_wakeup_kswapd|
kcompactd_wake|compaction/mm_compaction_wakeup_kcompactd|"
WAKE_VMSTAT_KEYS="pageoutrun compact_daemon_wake pgscan_kswapd pgsteal_kswapd compact_daemon_migrate_scanned compact_daemon_free_scanned compact_migrate_scanned compact_free_scanned pgmigrate_success compact_stall compact_success compact_fail"

# Tracepoint counts: one tracefs instance per count, with one event and an
# optional filter, so that the instance's "entries-written" (which includes
# what its small buffer overwrote) is the number of events. COUNTERS is a
# list of lines "NAME|SUBSYSTEM/EVENT|FILTER".
# trace_counters_start PLAN COUNTERS: set the instances up (an error logged
# for PLAN and non-zero if one cannot be).
trace_counters_start() {
	[ -d $TRACEFS/events ] || mount -t tracefs tracefs $TRACEFS 2>/dev/null
	echo "$2" | while IFS='|' read -r name ev filter; do
		d=$TRACEFS/instances/$name
		[ -d $TRACEFS/events/$ev ] || { log "error $1: no tracepoint $ev (needs CONFIG_FTRACE)"; return 1; }
		# Reading the trace file must not stop the counting.
		mkdir -p $d && echo 4 > $d/buffer_size_kb &&
			{ [ ! -e $d/options/pause-on-trace ] || echo 0 > $d/options/pause-on-trace; } &&
			{ [ -z "$filter" ] || echo "$filter" > $d/events/$ev/filter; } &&
			echo 1 > $d/events/$ev/enable ||
			{ log "error $1: cannot set up the tracefs instance $name"; return 1; }
	done
}

# trace_counts COUNTERS: "NAME=EVENTS ..." since the last trace_counts_reset.
trace_counts() {
	echo "$1" | while IFS='|' read -r name ev filter; do
		n=$(head -n 5 $TRACEFS/instances/$name/trace |
			sed -n 's/.*entries-written: [0-9]*\/\([0-9]*\).*/\1/p')
		printf '%s=%s ' "$name" "${n:-?}"
	done
}

trace_counts_reset() {
	echo "$1" | while IFS='|' read -r name ev filter; do
		echo > $TRACEFS/instances/$name/trace
	done
}

wakeups_plan() {
	frag=$(arg frag holes)
	n=$((loops / 5))
	vmalloc_row "wakeups-warmup t:$ncpu p:511 l:$n" nr_pages=511 \
		run_test_mask=9 test_loop_count=$n nr_threads=$ncpu
	settle
	case "$frag" in
	holes) fragment 16384 3 1 || return 0 ;;
	# 32 MiB of the fill given back as whole order-9 blocks after the huge
	# page faults, beside the 32 MiB of single pages (no order-3 blocks:
	# the order-9 ones serve the kernel stacks).
	half) fragment 32768 9 0 late || return 0 ;;
	*) log "error wakeups: unknown harness.frag=$frag (holes or half)"; return 0 ;;
	esac
	log "bench fragmentation $(awk '{ z += $5; n = 1; for (o = 6; o <= NF; o++) { n *= 2; h += $o * n } }
		END { printf "order0_free_pages=%d higher_order_free_pages=%d", z, h }' /proc/buddyinfo) order9_free_units=$(awk '{ u += $14 + 2 * $15 } END { print u + 0 }' /proc/buddyinfo) frag=$frag"
	while read -r line; do log "note buddyinfo: $line"; done < /proc/buddyinfo
	trace_counters_start wakeups "$WAKE_COUNTERS" || { kill $fpid; wait; return 0; }
	while IFS='|' read -r label params; do
		[ -n "$label" ] || continue
		trace_counts_reset "$WAKE_COUNTERS"
		cp /proc/vmstat /tmp/vmstat.row
		# shellcheck disable=SC2086
		vmalloc_row "$label" $params
		counts=$(trace_counts "$WAKE_COUNTERS")
		avg=$(dmesg | sed -n 's/.*Summary: .* avg: \([0-9]*\) usec.*/\1/p' | tail -n 1)
		l=$(echo "$params" | sed -n 's/.*test_loop_count=\([0-9]*\).*/\1/p')
		t=$(echo "$params" | sed -n 's/.*nr_threads=\([0-9]*\).*/\1/p')
		log "bench wakeups row=$(echo "$label" | tr ' ' _) $counts$(vmstat_diff /tmp/vmstat.row "$WAKE_VMSTAT_KEYS")avg_us=${avg:-?} vmallocs=$(( ${l:-0} * ${t:-1} ))"
		# Who woke kswapd or kcompactd, for what order (the first 20).
		for w in kswapd_wake kcompactd_wake; do
			grep -v '^#' $TRACEFS/instances/$w/trace | head -n 20 |
				sed 's/^ *//; s/ \[[0-9]*\] [^ ]* *[0-9.]*: [a-z_]*://' > /tmp/wake.who
			[ -s /tmp/wake.who ] && log "note wakeups row=$(echo "$label" | tr ' ' _) $w by: $(tr '\n' ';' < /tmp/wake.who)"
		done
	done < /bench-rows
	kill $fpid
	wait
}

# The frag plan (make frag, scripts/frag.sh): the fragmentation study's
# seeded workload, guest-fraggen run (its header says what each part stands
# for), for harness.ticks ticks with the seed harness.seed, under
# vm.compaction_proactiveness=harness.proactiveness, THP enabled and
# defrag "madvise"; vmalloc() areas through lib/test_frag_vmalloc.ko.
# guest-fraggen logs "bench frag-sample ..." every harness.sample_every
# ticks and "bench frag-end ..." itself; the fallbacks of
# kmem:mm_page_alloc_extfrag are counted for it (FRAG_COUNTERS). Then,
# with the workload's whole-run objects still held, the high-order probe:
# huge page faults over the free memory, with defrag never (no
# compaction), then always (direct compaction): "bench frag-probe ...".
FRAG_COUNTERS="extfrag|kmem/mm_page_alloc_extfrag|
steal|kmem/mm_page_alloc_extfrag|change_ownership == 1"

frag_plan() {
	seed=$(arg seed 1) ticks=$(arg ticks 3000) every=$(arg sample_every 100)
	pro=$(arg proactiveness 20) limit=$(arg frag_timeout 1200)
	life=$(arg max_life 1000)
	thp=/sys/kernel/mm/transparent_hugepage
	echo "$pro" > /proc/sys/vm/compaction_proactiveness ||
		{ log "error frag: cannot set vm.compaction_proactiveness to $pro"; return 0; }
	{ echo madvise > $thp/enabled && echo madvise > $thp/defrag; } ||
		{ log "error frag: cannot set THP enabled and defrag to madvise (CONFIG_TRANSPARENT_HUGEPAGE?)"; return 0; }
	trace_counters_start frag "$FRAG_COUNTERS" || return 0
	if ! guest-insmod /modules/test_frag_vmalloc.ko 2>/tmp/insmod.err; then
		log "error frag: cannot load test_frag_vmalloc.ko: $(cat /tmp/insmod.err)"
		return 0
	fi
	ctl=/sys/kernel/debug/frag_vmalloc
	[ -e $ctl ] || { log "error frag: no $ctl after loading test_frag_vmalloc.ko"; return 0; }
	mkdir -p /frag && mount -t tmpfs -o size=50% tmpfs /frag ||
		{ log "error frag: cannot mount a tmpfs on /frag"; return 0; }
	memkb=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
	budget=$((memkb * $(arg budget_pct 75) / 100))
	log "bench frag-config seed=$seed proactiveness=$pro mem_kb=$memkb ticks=$ticks sample_every=$every budget_kb=$budget max_life=$life"
	rm -f /tmp/frag.ready
	guest-fraggen run --seed "$seed" --ticks "$ticks" --budget-kb $budget \
		--max-life "$life" \
		--sample-every "$every" --log /dev/kmsg --dir /frag \
		--extfrag-dir $TRACEFS/instances --vmalloc-ctl $ctl \
		--ready /tmp/frag.ready > /tmp/fraggen.out 2>&1 &
	gpid=$!
	i=0
	while [ ! -e /tmp/frag.ready ] && [ $i -lt "$limit" ] && kill -0 $gpid 2>/dev/null; do
		sleep 1
		i=$((i + 1))
	done
	if [ ! -e /tmp/frag.ready ]; then
		[ -d /proc/$gpid ] && log "note guest-fraggen after ${i}s: $(grep '^State:' /proc/$gpid/status) wchan=$(cat /proc/$gpid/wchan 2>/dev/null) stack: $(tr '\n' '<' 2>/dev/null < /proc/$gpid/stack)"
		if kill -KILL $gpid 2>/dev/null; then
			why="still running after ${i}s"
		else
			wait $gpid
			why="exit status $? (137: killed, e.g. by the OOM killer)"
		fi
		log "error frag: guest-fraggen did not finish, $why: $(tail -c 600 /tmp/fraggen.out | tr '\n' ' ')"
		return 0
	fi
	for d in never always; do
		guest-fraggen probe --defrag $d --log /dev/kmsg > /tmp/probe.out 2>&1 ||
			log "error frag: the probe with defrag $d failed: $(tail -c 600 /tmp/probe.out | tr '\n' ' ')"
	done
	kill -TERM $gpid
	wait $gpid
	rc=$?
	[ $rc = 0 ] || log "error frag: guest-fraggen exited with $rc on SIGTERM: $(tail -c 600 /tmp/fraggen.out | tr '\n' ' ')"
	rmmod test_frag_vmalloc || log "error frag: cannot remove test_frag_vmalloc"
	umount /frag
}

# The pcp plan: the rows of /bench-rows, each followed by the pcp traffic it
# caused (issue point d: batched frees of order-1..3 chunks feed the pcp
# free_high heuristic, which order-0 frees never did). Counted with
# tracepoints, one tracefs instance per count with a filter, so that each
# instance's "entries-written" (which includes what its small buffer
# overwrote) is the number of events:
#   drainN  kmem:mm_page_pcpu_drain, order N: a block of order N that left
#           a pcp list for the buddy (free_pcppages_bulk())
#   takeN   kmem:mm_page_alloc_zone_locked, order N: a block of order N
#           taken from the buddy under the zone lock (pcp refills included)
# and pcp->high, pcp->count of every CPU in the largest zone (/proc/zoneinfo),
# sampled every 0.1 s during the row: the lowest high, the high at the end
# (summed over CPUs), the highest count.
PCP_COUNTERS="drain0|kmem/mm_page_pcpu_drain|order == 0
drain1|kmem/mm_page_pcpu_drain|order == 1
drain2|kmem/mm_page_pcpu_drain|order == 2
drain3|kmem/mm_page_pcpu_drain|order == 3
drain9|kmem/mm_page_pcpu_drain|order == 9
take0|kmem/mm_page_alloc_zone_locked|order == 0"

# pcp_zone: the name of the zone with the most managed pages.
pcp_zone() {
	awk '$1 == "Node" { z = $4 } $1 == "managed" && $2 + 0 > m { m = $2 + 0; best = z }
		END { print best }' /proc/zoneinfo
}

# pcp_sample ZONE: "high count" of each CPU of ZONE, one line each.
pcp_sample() {
	awk -v z="$1" '$1 == "Node" { in_z = ($4 == z) }
		in_z && $1 == "count:" { c = $2 }
		in_z && $1 == "high:" { print $2, c }' /proc/zoneinfo
}

pcp_plan() {
	trace_counters_start pcp "$PCP_COUNTERS" || return 0
	zone=$(pcp_zone)
	# The pcp limits of CPU 0 (free_high needs free_count, capped at
	# batch << CONFIG_PCP_BATCH_SCALE_MAX, to reach batch + high_min / 2).
	log "bench pcp_zone zone=$zone $(awk -v z="$zone" '$1 == "Node" { in_z = ($4 == z) }
		in_z && $1 == "cpu:" { n++ }
		in_z && n == 1 && $1 ~ /^(batch|high_min|high_max):$/ { sub(/:$/, "", $1); printf "%s=%s ", $1, $2 }' /proc/zoneinfo)"
	# harness.pcp_settle=0: as the bench plan runs its rows, back to back
	# (no settling, and no sampling loop, whose forks would feed the pcp
	# lists); pcp->high is then read only before and after each row.
	bench_like=$([ "$(arg pcp_settle 1)" = 0 ] && echo 1)
	while IFS='|' read -r label params; do
		[ -n "$label" ] || continue
		[ -n "$bench_like" ] || settle
		pcp_sample "$zone" > /tmp/pcp-before
		rm -f /tmp/pcp-stop /tmp/pcp-samples
		trace_counts_reset "$PCP_COUNTERS"
		if [ -n "$bench_like" ]; then
			: > /tmp/pcp-samples
			spid=
		else
			( while [ ! -e /tmp/pcp-stop ]; do
				pcp_sample "$zone" >> /tmp/pcp-samples
				sleep 0.1
			done ) &
			spid=$!
		fi
		# shellcheck disable=SC2086
		vmalloc_row "$label" $params
		counts=$(trace_counts "$PCP_COUNTERS")
		touch /tmp/pcp-stop
		[ -z "$spid" ] || wait $spid
		pcp_sample "$zone" > /tmp/pcp-after
		stats=$(cat /tmp/pcp-before /tmp/pcp-samples /tmp/pcp-after 2>/dev/null |
			awk 'NR == 1 || $1 < lo { lo = $1 } $2 > hc { hc = $2 } END { printf "high_low=%d count_high=%d", lo, hc }')
		ends=$(awk '{ h += $1; c += $2 } END { printf "high_end=%d count_end=%d", h, c }' /tmp/pcp-after)
		starts=$(awk '{ h += $1 } END { printf "high_start=%d", h }' /tmp/pcp-before)
		log "bench pcp row=$(echo "$label" | tr ' ' _) zone=$zone $counts$stats $starts $ends samples=$(( $(wc -l < /tmp/pcp-samples) / ncpu ))"
	done < /bench-rows
}

# The latency plan: each row of /bench-rows with guest-latency running on
# CPU 0 at SCHED_FIFO 99, waking every millisecond: its longest wake-up
# delay during the row ("bench latency row=... max_us=..."). In a guest of
# one CPU, the row's worker and the thread share it, so under a kernel
# without involuntary preemption in the kernel the delay is the longest
# stretch the worker ran without a reschedule point (e.g. vfree() of a large
# area under init_on_free, which zeroes every page it frees).
latency_plan() {
	while IFS='|' read -r label params; do
		[ -n "$label" ] || continue
		settle
		rm -f /tmp/lat-ready /tmp/lat-stop
		guest-latency 0 1000 /tmp/lat-ready /tmp/lat-stop > /tmp/lat.out 2>&1 &
		lpid=$!
		i=0
		while [ ! -e /tmp/lat-ready ] && [ $i -lt 50 ] && kill -0 $lpid 2>/dev/null; do
			sleep 0.1
			i=$((i + 1))
		done
		if [ ! -e /tmp/lat-ready ]; then
			log "error guest-latency did not start: $(cat /tmp/lat.out)"
			kill $lpid 2>/dev/null
			return 0
		fi
		# shellcheck disable=SC2086
		vmalloc_row "$label" $params
		touch /tmp/lat-stop
		wait $lpid
		log "bench latency row=$(echo "$label" | tr ' ' _) $(cat /tmp/lat.out)"
	done < /bench-rows
}

case "$plan" in
smoke)
	vmalloc_row "smoke t:$ncpu l:$loops" run_test_mask=$SMOKE_MASK \
		test_loop_count="$loops" nr_threads="$ncpu"
	;;
bench)
	# /bench-rows: "LABEL|module parameters" per line, one load each.
	while IFS='|' read -r label params; do
		[ -n "$label" ] || continue
		# shellcheck disable=SC2086
		vmalloc_row "$label" $params
	done < /bench-rows
	;;
stress)
	stress_plan
	;;
pressure)
	pressure_plan
	;;
pcp)
	pcp_plan
	;;
wakeups)
	wakeups_plan
	;;
frag)
	frag_plan
	;;
latency)
	latency_plan
	;;
boot)
	;;
*)
	log "error unknown plan '$plan'"
	;;
esac

log "done"
poweroff -f

#!/bin/bash
# What vmalloc()'s high-order blocks cost the rest of a guest whose free
# memory is fragmented: boot each kernel of WAKE_VARIANTS (base.conf; 7.3:
# upstream series), interleaved, RUNS times each in one timing MODE, with
# the guest plan wakeups (scripts/guest-init.sh, wakeups_plan) in each
# fragmentation of WAKE_FRAGS: "holes" (the pressure plan's guest: free
# memory in single pages and order-3 blocks, no free block of order >= 9)
# and "half" (about half of free memory in whole order-9 blocks). Rows:
# fix_size of each size of WAKE_SIZES pages, WAKE_LOOPS loops, a thread per
# CPU; per row the high-order page allocations (failed ones included), the
# wakeups of kswapd and kcompactd, reclaim and compaction counters and
# test_vmalloc's time. Checks every console log and writes
# results/$BASE/wakeups-KERNELS-FRAG-MODE.{md,json} (scripts/pcp-report.py
# --plan wakeups).
# Usage: scripts/wakeups.sh MODE          (MODE: tcg | icount)
#        scripts/wakeups.sh --variants    (print the kernels it boots)
# Environment: WAKE_VARIANTS, WAKE_FRAGS (holes half), WAKE_SIZES
# (512 256 64 16 4), WAKE_LOOPS (200), RUNS (5), SMP (2), WAKE_MEM (the
# pressure plan's guest, PRESSURE_MEM: 384M), WAKE_TIMEOUT (1800),
# REPORT_ONLY=1 (remake the reports from the last run's logs)
. "$(dirname "$0")/common.sh"

read -ra variants <<<"${WAKE_VARIANTS:-}"
[ ${#variants[@]} -ge 2 ] ||
	die "base $BASE: WAKE_VARIANTS (bases/$BASE/base.conf) must name at least two kernels, not '${WAKE_VARIANTS:-}'"
if [ "${1:-}" = --variants ]; then
	echo "${variants[*]}"
	exit 0
fi
[ $# -eq 1 ] || die "usage: $0 tcg|icount"
RUNS=${RUNS:-5}
timing_mode "$1"
read -ra frags <<<"${WAKE_FRAGS-holes half}"
read -ra sizes <<<"${WAKE_SIZES-512 256 64 16 4}"
loops=${WAKE_LOOPS:-200}
[ ${#frags[@]} -ge 1 ] || die "WAKE_FRAGS names no fragmentation (holes, half)"
[ ${#sizes[@]} -ge 1 ] || die "WAKE_SIZES names no size"
for f in "${frags[@]}"; do
	case "$f" in holes|half) ;; *) die "WAKE_FRAGS: '$f' is not holes or half" ;; esac
done
for s in "${sizes[@]}" "$loops"; do
	case "$s" in ''|*[!0-9]*|0) die "WAKE_SIZES and WAKE_LOOPS must be positive integers, not '$s'" ;; esac
done
# The pressure plan's small guest, whatever MEM the Makefile passes.
export SMP=${SMP:-2} MEM=${WAKE_MEM:-$(pressure_mem)} TIMEOUT=${WAKE_TIMEOUT:-1800}
[ "$PROFILE" = bench ] || die "the wakeups study boots the kernels of PROFILE=bench (make wakeups builds them), not '$PROFILE'"
for v in "${variants[@]}"; do
	[ -f "$OUT/$v/bzImage" ] && [ -f "$OUT/$v/info" ] || die "variant $v is not built: make wakeups"
done
/usr/bin/python3 -c 'import scipy' 2>/dev/null ||
	die "/usr/bin/python3 lacks scipy: run make deps (scripts/deps.sh installs python3-scipy)"

kernels=$(IFS=-; echo "${variants[*]}")
rc=0
for f in "${frags[@]}"; do
	dir=$BUILDB/wakeups/$kernels/$mode/$f
	rows=$dir/rows.txt
	start=$(date +%s)
	if [ "${REPORT_ONLY:-0}" = 1 ]; then
		[ -f "$rows" ] || die "no previous run of ${variants[*]} ($mode, $f) in $dir"
		load_run_params "$dir" RUNS loops SMP
	else
		rm -rf "$dir"
		mkdir -p "$dir"
		for s in "${sizes[@]}"; do
			echo "fix_size p:$s l:$loops t:$SMP|run_test_mask=1 test_loop_count=$loops nr_threads=$SMP nr_pages=$s"
		done >"$rows"
		KARGS="$(pressure_kargs) harness.frag=$f" interleaved_boots wakeups "$dir" "$rows"
		save_run_params "$dir" "$start" "$RUNS" "$loops" "$SMP"
	fi

	report_meta "$SMP vCPUs, $MEM"
	mkdir -p "$TOP/results/$BASE"
	report=$TOP/results/$BASE/wakeups-$kernels-$f-$mode
	/usr/bin/python3 "$TOP/scripts/pcp-report.py" --plan wakeups --out "$report" \
		--kernels "$(IFS=,; echo "${variants[*]}")" \
		--meta "command=make wakeups BASE=$BASE (scripts/wakeups.sh $mode, RUNS=$RUNS WAKE_FRAGS=$f WAKE_SIZES=\"${sizes[*]}\" WAKE_LOOPS=$loops)" \
		--meta "mode=$desc" \
		--meta "runs=$RUNS boots per kernel, interleaved ${variants[*]}" \
		--meta "fragmentation=$f: $([ "$f" = holes ] && echo "the pressure plan's guest-fragment (8 MiB kept, 16 MiB as order-3 blocks that cannot merge, 32 MiB in single pages, every free block of order >= 9 taken; no free order-9 block before the rows)" || echo "guest-fragment with 32 MiB given back as whole order-9 blocks beside the 32 MiB of single pages (about half of free memory in order-9 blocks)"); compaction_proactiveness 0, THP off during the rows" \
		--meta "rows=fix_size of ${sizes[*]} pages, $loops loops, nr_threads=$SMP, one module load each, back to back after a warm-up (511 pages) and the fragmenting" \
		--meta "counts=tracepoints kmem:mm_page_alloc with order > 0, every such allocation in the guest (failed ones included, their pfn is -1; alloc_pages_bulk_orders() traces only the blocks it takes, one call per vmalloc() of more than one page, so for the series hi_calls counts blocks, not tries), vmscan:mm_vmscan_wakeup_kswapd, compaction:mm_compaction_wakeup_kcompactd, one tracefs instance each; /proc/vmstat deltas over the row; avg_us is test_vmalloc's Summary line of the row" \
		--meta "config=profile $PROFILE: kconfig/*.config, kconfig/$PROFILE/, bases/$BASE/kconfig/" \
		"${meta[@]}" \
		"$dir"/*.log.json || rc=1
done
exit $rc

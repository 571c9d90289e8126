#!/bin/bash
# Measure how long vfree() and vmalloc() run without a reschedule point:
# boot each kernel of LATENCY_VARIANTS (base.conf; 6.12: base series
# unbounded, the production-like kernels of PROFILE=bench), interleaved,
# RUNS times each in one timing MODE, with the guest plan latency in a guest
# of one CPU: test_vmalloc rows of large areas (LATENCY_PAGES pages, one
# thread, init_on_free=1 so that every freed page is zeroed) while
# guest-latency, a SCHED_FIFO thread on the same CPU, wakes every
# millisecond; its longest wake-up delay per row is the longest stretch the
# worker ran in the kernel without a reschedule point (the kernels have no
# involuntary preemption in the kernel: PREEMPT_VOLUNTARY). Checks every
# console log and writes results/$BASE/latency-KERNELS-MODE.{md,json} with
# scripts/latency-report.py (KERNELS: LATENCY_VARIANTS joined by "-").
# Usage: scripts/latency.sh MODE          (MODE: tcg | icount)
#        scripts/latency.sh --variants    (print the kernels it boots)
# Environment: LATENCY_VARIANTS, RUNS (icount 3, tcg 3), LATENCY_PAGES
# (65536: 256 MiB), LATENCY_LOOPS (4), MEM (2G), TIMEOUT (1800),
# REPORT_ONLY=1 (remake the report from the last run's logs)
. "$(dirname "$0")/common.sh"

read -ra variants <<<"${LATENCY_VARIANTS:-}"
[ ${#variants[@]} -ge 2 ] ||
	die "base $BASE: LATENCY_VARIANTS (bases/$BASE/base.conf) must name at least two kernels, not '${LATENCY_VARIANTS:-}'"
if [ "${1:-}" = --variants ]; then
	echo "${variants[*]}"
	exit 0
fi
[ $# -eq 1 ] || die "usage: $0 tcg|icount"
RUNS=${RUNS:-3}
timing_mode "$1"
pages=${LATENCY_PAGES:-65536} loops=${LATENCY_LOOPS:-4}
[[ $pages =~ ^[1-9][0-9]*$ ]] || die "LATENCY_PAGES must be a positive integer, not '$pages'"
[[ $loops =~ ^[1-9][0-9]*$ ]] || die "LATENCY_LOOPS must be a positive integer, not '$loops'"
export SMP=1 MEM=${MEM:-2G} TIMEOUT=${TIMEOUT:-1800}
[ "$PROFILE" = bench ] || die "the latency study boots the kernels of PROFILE=bench (make latency builds them), not '$PROFILE'"
export KARGS="kunit.enable=0 init_on_free=1" KUNIT_FILTER=
for v in "${variants[@]}"; do
	[ -f "$OUT/$v/bzImage" ] && [ -f "$OUT/$v/info" ] && [ -f "$OUT/$v/config" ] ||
		die "variant $v is not built (no bzImage, info or config in $OUT/$v): make latency"
	grep -q '^CONFIG_PREEMPT_VOLUNTARY=y\|^CONFIG_PREEMPT_NONE=y' "$OUT/$v/config" ||
		die "variant $v is preemptible in the kernel ($OUT/$v/config has neither PREEMPT_NONE nor PREEMPT_VOLUNTARY): a missing reschedule point delays nothing there"
done
/usr/bin/python3 -c 'import scipy' 2>/dev/null ||
	die "/usr/bin/python3 lacks scipy: run make deps (scripts/deps.sh installs python3-scipy)"

# The rows: fix_size_alloc_test of LATENCY_PAGES pages, LATENCY_LOOPS loops
# and one thread, its mask from the kernel's own test_vmalloc.c ($1).
latency_rows() {
	"$TOP/scripts/bench-rows.sh" --source "$1" |
		sed -n "s/^fix_size p:1 l:[0-9]*|run_test_mask=\([0-9]*\) .*/fix_size p:$pages l:$loops|run_test_mask=\1 test_loop_count=$loops nr_threads=1 nr_pages=$pages/p"
}

dir=$BUILDB/latency/$(IFS=-; echo "${variants[*]}")/$mode
rows=$dir/rows.txt
start=$(date +%s)
if [ "${REPORT_ONLY:-0}" = 1 ]; then
	[ -f "$rows" ] || die "no previous run of ${variants[*]} ($mode) in $dir"
	load_run_params "$dir" RUNS pages loops
else
	rm -rf "$dir"
	mkdir -p "$dir"
	variant_rows "$dir" latency fix_size "" latency_rows
	interleaved_boots latency "$dir" "$rows"
	save_run_params "$dir" "$start" "$RUNS" "$pages" "$loops"
fi

report_meta "1 vCPU, $MEM"
mkdir -p "$TOP/results/$BASE"
report=$TOP/results/$BASE/latency-$(IFS=-; echo "${variants[*]}")-$mode
/usr/bin/python3 "$TOP/scripts/latency-report.py" --out "$report" --kernels "$(IFS=,; echo "${variants[*]}")" \
	--meta "command=make latency BASE=$BASE (scripts/latency.sh $mode, RUNS=$RUNS LATENCY_PAGES=$pages LATENCY_LOOPS=$loops)" \
	--meta "mode=$desc" \
	--meta "runs=$RUNS boots per kernel, interleaved ${variants[*]}" \
	--meta "rows=fix_size_alloc_test, nr_pages=$pages ($((pages / 256)) MiB), test_loop_count=$loops, nr_threads=1; kernel arguments $KARGS" \
	--meta "probe=scripts/guest-latency.c: SCHED_FIFO 99 on CPU 0, clock_nanosleep() to absolute 1 ms deadlines, the delay past each deadline" \
	--meta "config=profile $PROFILE: kconfig/*.config, kconfig/$PROFILE/, bases/$BASE/kconfig/; $(grep -h '^CONFIG_PREEMPT_\(NONE\|VOLUNTARY\)=y' "$OUT/${variants[0]}/config" | head -1)" \
	"${meta[@]}" \
	"$dir"/*.log.json || die "latency-report.py failed"

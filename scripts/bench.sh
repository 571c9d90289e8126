#!/bin/bash
# Run the benchmark: boot the built kernels base, hiorder and series
# interleaved (b h s b h s ...), RUNS times each, in one timing MODE, each
# boot loading test_vmalloc.ko once per row of scripts/bench-rows.sh; check
# every console log, then write results/bench-base-hiorder-series-MODE.{md,png,json}.
# Usage: scripts/bench.sh MODE        (MODE: tcg | icount)
# Environment: RUNS (5), SCALE (50), SMP (2), MEM (2G), TIMEOUT (1800)
. "$(dirname "$0")/common.sh"

[ $# -eq 1 ] || die "usage: $0 tcg|icount"
mode=$1
case "$mode" in
tcg) export ICOUNT=0 ACCEL=tcg
     desc="TCG, wall clock inside the guest (ktime): compare kernels only as ratios" ;;
icount) export ICOUNT=1
     desc="TCG with -icount shift=0,sleep=off: virtual time = guest instructions executed; no cache, TLB or lock-contention costs" ;;
*) die "MODE must be tcg or icount, not '$mode'" ;;
esac
RUNS=${RUNS:-5} SCALE=${SCALE:-50}
export SMP=${SMP:-2} MEM=${MEM:-2G} TIMEOUT=${TIMEOUT:-1800}
# No KUnit at boot (only series has the suite) and no debug options.
export KARGS="kunit.enable=0" KUNIT_FILTER=
variants=(base hiorder series)
for v in "${variants[@]}"; do
	[ -f "$OUT/$v/bzImage" ] || die "variant $v is not built: make build VARIANT=$v"
done
/usr/bin/python3 -c 'import scipy, matplotlib' 2>/dev/null ||
	die "/usr/bin/python3 lacks scipy/matplotlib: run make deps (scripts/deps.sh installs python3-scipy python3-matplotlib)"

dir=$BUILD/bench/$mode
rows=$dir/rows.txt
start=$(date +%s)
# REPORT_ONLY=1: remake the report from the logs of the last run.
if [ "${REPORT_ONLY:-0}" = 1 ]; then
	[ -f "$rows" ] || die "no previous run in $dir"
	RUNS=$(ls "$dir"/base-*.log.json | wc -l)
	SCALE=$(cat "$dir/scale")
	secs=$(cat "$dir/seconds")
	set -- report-only
else
	rm -rf "$dir"
	mkdir -p "$dir"
	"$TOP/scripts/bench-rows.sh" "$SCALE" >"$rows"
	echo "$SCALE" >"$dir/scale"
	set --
fi
for r in $(seq 1 "$RUNS"); do
	[ $# -eq 0 ] || break
	for v in "${variants[@]}"; do
		log=$dir/$v-$r.log
		BENCH_ROWS=$rows "$TOP/scripts/boot.sh" "$v" bench "$log"
		"$TOP/scripts/check-log.py" --expect-vmalloc --json "$log.json" "$log" >/dev/null ||
			{ "$TOP/scripts/check-log.py" --expect-vmalloc "$log" >&2 || true
			  die "benchmark boot $v run $r failed (log: $log)"; }
	done
done
if [ $# -eq 0 ]; then
	secs=$(( $(date +%s) - start ))
	echo "$secs" >"$dir/seconds"
fi

kver() { sed -n 's/^kernel: //p' "$OUT/$1/info"; }
mkdir -p "$TOP/results"
report=$TOP/results/bench-base-hiorder-series-$mode
rc=0
/usr/bin/python3 "$TOP/scripts/bench-report.py" --mode "$mode" \
	--out "$report" \
	--meta "command=make bench (scripts/bench.sh $mode, RUNS=$RUNS SCALE=$SCALE)" \
	--meta "mode=$desc" \
	--meta "runs=$RUNS per kernel, interleaved base, hiorder, series" \
	--meta "loop scale=published loop counts / $SCALE (labels show the loops used); one test per module load, nr_threads=1" \
	--meta "guest=$SMP vCPUs, $MEM, qemu $(qemu-system-x86_64 --version | head -1 | sed 's/.*version //'), host $(nproc) cores" \
	--meta "base=$BASE_PKG $(cat "$BUILD/base-version")" \
	--meta "kernels=base: $(kver base); hiorder: $(kver hiorder); series: $(kver series)" \
	--meta "series=$(git -C "$TOP" log -1 --format='%h %cs' -- patches) (patches/ at that project commit)" \
	--meta "duration=${secs}s for $((RUNS * 3)) boots" \
	--meta "date=$(date -u +%Y-%m-%d)" \
	"$dir"/*.log.json || rc=$?
# 3: the report is written, but a target is missed (listed above).
[ $rc = 3 ] && die "benchmark ($mode): targets missed; report: $report.md"
[ $rc = 0 ] || die "bench-report.py failed (exit $rc)"

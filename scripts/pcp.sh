#!/bin/bash
# Measure what batched frees do to the pcp lists (free_high): boot each
# kernel of PCP_VARIANTS (base.conf; 7.3: order0 upstream series, the
# production-like kernels of make bench), interleaved, RUNS times each in
# one timing MODE, with the guest plan pcp: test_vmalloc rows of
# scripts/bench-rows.sh that free more than one page, run with one thread
# per CPU (nr_threads=SMP), each followed by its pcp traffic (pages drained
# from the pcp lists to the buddy by order, order-0 pages taken from the
# buddy, pcp->high of each CPU; scripts/guest-init.sh, pcp_plan). Checks
# every console log and writes results/$BASE/pcp-KERNELS-MEM-MODE.{md,json}
# with scripts/pcp-report.py (KERNELS: PCP_VARIANTS joined by "-").
# Usage: scripts/pcp.sh MODE          (MODE: tcg | icount)
#        scripts/pcp.sh --variants    (print the kernels it boots)
# Environment: PCP_VARIANTS, RUNS (icount 5, tcg 5), SCALE (50), SMP (2),
# MEM (512M: pcp->high_min is small enough there for free_high to trigger;
# in 2G its condition, free_count >= batch + high_min / 2, cannot be met,
# free_count being capped at batch << CONFIG_PCP_BATCH_SCALE_MAX),
# TIMEOUT (1800), REPORT_ONLY=1 (remake the report from the last run's logs)
. "$(dirname "$0")/common.sh"

read -ra variants <<<"${PCP_VARIANTS:-}"
[ ${#variants[@]} -ge 2 ] ||
	die "base $BASE: PCP_VARIANTS (bases/$BASE/base.conf) must name at least two kernels, not '${PCP_VARIANTS:-}'"
if [ "${1:-}" = --variants ]; then
	echo "${variants[*]}"
	exit 0
fi
[ $# -eq 1 ] || die "usage: $0 tcg|icount"
RUNS=${RUNS:-5}
timing_mode "$1"
SCALE=${SCALE:-50}
export SMP=${SMP:-2} MEM=${MEM:-512M} TIMEOUT=${TIMEOUT:-1800}
[ "$PROFILE" = bench ] || die "the pcp study boots the kernels of PROFILE=bench (make pcp builds them), not '$PROFILE'"
export KARGS="kunit.enable=0" KUNIT_FILTER=
for v in "${variants[@]}"; do
	[ -f "$OUT/$v/bzImage" ] && [ -f "$OUT/$v/info" ] || die "variant $v is not built: make pcp"
done
/usr/bin/python3 -c 'import scipy' 2>/dev/null ||
	die "/usr/bin/python3 lacks scipy: run make deps (scripts/deps.sh installs python3-scipy)"

# The rows: those of the benchmark that free more than one page (the
# single-page rows never batch), vmalloc only (no huge mappings), each with
# a thread per CPU.
pcp_rows() {
	"$TOP/scripts/bench-rows.sh" --source "$1" "$SCALE" |
		grep -E '^(fix_size p:(4|16|64|256|512)|long_busy_list p:1|random_size p:1) l:' |
		sed -E "s/^([^|]*)\|(.*)nr_threads=1(.*)$/\1 t:$SMP|\2nr_threads=$SMP\3/"
}

dir=$BUILDB/pcp/$(IFS=-; echo "${variants[*]}")-$MEM/$mode
rows=$dir/rows.txt
start=$(date +%s)
if [ "${REPORT_ONLY:-0}" = 1 ]; then
	[ -f "$rows" ] || die "no previous run of ${variants[*]} ($mode) in $dir"
	load_run_params "$dir" RUNS SCALE SMP
else
	rm -rf "$dir"
	mkdir -p "$dir"
	variant_rows "$dir" pcp pcp "scripts/bench-rows.sh gave none of the selected rows" pcp_rows
	interleaved_boots pcp "$dir" "$rows"
	save_run_params "$dir" "$start" "$RUNS" "$SCALE" "$SMP"
fi

report_meta "$SMP vCPUs, $MEM"
mkdir -p "$TOP/results/$BASE"
report=$TOP/results/$BASE/pcp-$(IFS=-; echo "${variants[*]}")-$MEM-$mode
/usr/bin/python3 "$TOP/scripts/pcp-report.py" --out "$report" --kernels "$(IFS=,; echo "${variants[*]}")" \
	--meta "command=make pcp BASE=$BASE (scripts/pcp.sh $mode, MEM=$MEM RUNS=$RUNS SCALE=$SCALE)" \
	--meta "mode=$desc" \
	--meta "runs=$RUNS boots per kernel, interleaved ${variants[*]}" \
	--meta "rows=scripts/bench-rows.sh's rows that free more than one page (loops: published / $SCALE), nr_threads=$SMP (one per CPU), one test per module load, the guest settled (scripts/guest-init.sh settle) before each" \
	--meta "counts=tracepoints kmem:mm_page_pcpu_drain (blocks leaving a pcp list for the buddy, by order) and kmem:mm_page_alloc_zone_locked (order-0 pages taken from the buddy), one tracefs instance per count; pcp->high and count of each CPU of the largest zone from /proc/zoneinfo every 0.5 s" \
	--meta "config=profile $PROFILE: kconfig/*.config, kconfig/$PROFILE/, bases/$BASE/kconfig/" \
	"${meta[@]}" \
	"$dir"/*.log.json || die "pcp-report.py failed"

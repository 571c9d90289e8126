#!/bin/bash
# Measure the contiguous free against its floor: boot each kernel of
# FLOOR_VARIANTS (base.conf; 7.3: upstream and series) with the harness
# probe bases/$BASE/harness/probe-floor.patch on top (variant NAME+floor,
# built by make floor), interleaved, RUNS times each in one timing MODE,
# with contig_free_floor=FLOOR_LOOPS and nothing else to do; check every
# console log, collect the probe's line and write
# results/$BASE/floor-PROFILE-KERNELS-MODE.{md,json} (KERNELS joined by "-")
# with scripts/floor-report.py:
# per kernel the batched free, its floor (one reference drop and one
# free_pages_prepare() per page), the free of the prepared chunks and the
# per-page free of 512 pages, and batched/floor.
# PROFILE=bench (THP: order 9 recycles through the pcp lists) or nothp
# (order 9 goes to the buddy).
# Usage: scripts/floor.sh MODE           (MODE: tcg | icount)
#        scripts/floor.sh --variants     (print the kernels it boots)
# Environment: FLOOR_VARIANTS, RUNS (icount 10, tcg 5), FLOOR_LOOPS (200),
# SMP (2), MEM (2G), TIMEOUT (900), REPORT_ONLY=1 (remake the report from
# the last run's logs)
. "$(dirname "$0")/common.sh"

read -ra kernels <<<"${FLOOR_VARIANTS:-}"
[ ${#kernels[@]} -ge 1 ] ||
	die "base $BASE: no FLOOR_VARIANTS in bases/$BASE/base.conf (the kernels to measure the floor in)"
[ -f "$HARNESS_PATCHES/probe-floor.patch" ] ||
	die "base $BASE: no floor probe $HARNESS_PATCHES/probe-floor.patch"
variants=()
for k in "${kernels[@]}"; do
	variants+=("$k+floor")
done
if [ "${1:-}" = --variants ]; then
	echo "${variants[*]}"
	exit 0
fi

[ $# -eq 1 ] || die "usage: $0 tcg|icount"
timing_mode "$1"
LOOPS=${FLOOR_LOOPS:-200}
[[ $LOOPS =~ ^[1-9][0-9]*$ ]] || die "FLOOR_LOOPS must be a positive integer (no leading 0), not '$LOOPS'"
export SMP=${SMP:-2} MEM=${MEM:-2G} TIMEOUT=${TIMEOUT:-900}
case "$PROFILE" in
bench|nothp) ;;
*) die "the floor is measured in production-like kernels, PROFILE=bench or nothp, not '$PROFILE'" ;;
esac
export KARGS="kunit.enable=0 contig_free_floor=$LOOPS" KUNIT_FILTER=

for v in "${variants[@]}"; do
	[ -f "$OUT/$v/bzImage" ] && [ -f "$OUT/$v/info" ] ||
		die "variant $v is not built: make floor PROFILE=$PROFILE"
done
/usr/bin/python3 -c 'import scipy' 2>/dev/null ||
	die "/usr/bin/python3 lacks scipy: run make deps (scripts/deps.sh installs python3-scipy)"

# The data of a run, by profile, kernels and mode; REPORT_ONLY=1 takes the
# kernels from FLOOR_VARIANTS and RUNS and FLOOR_LOOPS from the run.
dir=$BUILDB/floor-$PROFILE/$(IFS=-; echo "${kernels[*]}")/$mode
data=$dir/floor.tsv
start=$(date +%s)
if [ "${REPORT_ONLY:-0}" = 1 ]; then
	[ -f "$data" ] || die "no previous run of ${kernels[*]} ($PROFILE, $mode) in $dir"
	load_run_params "$dir" RUNS LOOPS
else
	rm -rf "$dir"
	mkdir -p "$dir"
	printf 'kernel\trun\tbatched_ns\tfloor_ns\tchunks_ns\tper_page_ns\n' >"$data.tmp"
	for r in $(seq 1 "$RUNS"); do
		for v in "${variants[@]}"; do
			log=$dir/$v-$r.log
			"$TOP/scripts/boot.sh" "$v" boot "$log" ||
				die "floor boot $v run $r failed (log: $log)"
			check_boot_log floor "$v" "$r" "$log"
			line=$(grep -a 'contig-free-floor: ' "$log" | tail -1 | tr -d '\r' || true)
			re='contig-free-floor: order 9 loops ([0-9]+) ns per range: batched ([0-9]+) floor ([0-9]+) chunks ([0-9]+) per-page ([0-9]+)'
			[[ $line =~ $re ]] ||
				die "floor boot $v run $r: no result of the probe in $log (${line:-no contig-free-floor line}; is contig_free_floor= handled?)"
			[ "${BASH_REMATCH[1]}" = "$LOOPS" ] ||
				die "floor boot $v run $r: the probe ran ${BASH_REMATCH[1]} loops, not $LOOPS ($log)"
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${v%+floor}" "$r" "${BASH_REMATCH[2]}" \
				"${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}" "${BASH_REMATCH[5]}" >>"$data.tmp"
		done
	done
	mv "$data.tmp" "$data"
	save_run_params "$dir" "$start" "$RUNS" "$LOOPS"
fi

report_meta "$SMP vCPUs, $MEM"
mkdir -p "$TOP/results/$BASE"
report=$TOP/results/$BASE/floor-$PROFILE-$(IFS=-; echo "${kernels[*]}")-$mode
/usr/bin/python3 "$TOP/scripts/floor-report.py" --out "$report" \
	--meta "command=make floor BASE=$BASE PROFILE=$PROFILE FLOOR_VARIANTS=\"${kernels[*]}\" (scripts/floor.sh $mode, RUNS=$RUNS FLOOR_LOOPS=$LOOPS)" \
	--meta "mode=$desc" \
	--meta "probe=bases/$BASE/harness/probe-floor.patch on top of each kernel: contig_free_floor=$LOOPS at boot, order-9 blocks split into 512 pages, only the free timed, each from drained pcp lists" \
	--meta "runs=$RUNS boots per kernel, interleaved ${kernels[*]}" \
	--meta "config=profile $PROFILE: kconfig/*.config, kconfig/{${PROFILE_DIRS// /,}}/, bases/$BASE/kconfig/" \
	"${meta[@]}" \
	"$data" || die "floor-report.py failed"

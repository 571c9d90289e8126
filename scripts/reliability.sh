#!/bin/bash
# Reliability matrix: build the series with a debug config fragment of
# kconfig/debug/ (each in its own object directory, so re-runs stay
# incremental) and boot it twice:
#  - plan stress (MEM): KUnit suite at boot, then test_vmalloc stress with
#    CMA allocations beside it, leak accounting, and page-allocation fault
#    injection;
#  - plan pressure (a small guest, PRESSURE_MEM): free memory fragmented
#    down to about the working set, vmalloc falls back from high orders, and
#    direct compaction or reclaim fails the run.
# Any kernel report fails. Each boot goes through scripts/run.sh (the KUnit
# suite is required in stress iff the variant's patches add it); its JSON
# result is build/logs/VARIANT-ENTRY-PLAN.json. Each entry's outcome is
# appended to build/logs/reliability-summary.txt.
# Usage: scripts/reliability.sh [--variant mutant-NAME] ENTRY...
#   ENTRY: vm | kasan | lockdep; --variant runs a mutant (bases/$BASE/mutations/)
#   through the matrix instead of the series.
# Environment: LOOPS (1000), REPEAT (3), MEM (2G), PRESSURE_MEM (384M),
#   SMP (2), TIMEOUT (3600)
. "$(dirname "$0")/common.sh"

base=series
if [ "${1:-}" = --variant ]; then
	base=${2:-}
	shift 2 || true
fi
case "$base" in series|mutant-?*) ;; *) die "--variant takes mutant-NAME, not '$base'" ;; esac
[ $# -ge 1 ] || die "usage: $0 [--variant mutant-NAME] vm|kasan|lockdep ..."
export LOOPS=${LOOPS:-1000} TIMEOUT=${TIMEOUT:-3600} KUNIT_FILTER=$KUNIT_GLOB
summary=$LOGS/reliability-summary.txt
mkdir -p "$LOGS"
for entry in "$@"; do
	frag=$TOP/kconfig/debug/$entry.config
	[ -f "$frag" ] || die "no matrix entry '$entry' (no $frag)"
	case "$entry" in
	vm) kargs="debug_pagealloc=on page_owner=on page_poison=1 init_on_free=1" ;;
	*) kargs="init_on_free=1" ;;
	esac
	v=$base-$entry
	"$TOP/scripts/apply.sh" "$base"
	start=$(date +%s)
	OBJ=$BUILDB/obj-$entry KCONFIG_EXTRA=$frag "$TOP/scripts/build.sh" "$v"
	built=$(date +%s)
	rc=0
	for plan in stress pressure; do
		# scripts/run.sh: boot, then check-log.py with the KUnit suite
		# required iff the patches of $base add it (not in pressure).
		# (run.sh gives the pressure plan its small guest and arguments).
		log=$LOGS/$v-$plan.log args=$kargs
		[ $plan = pressure ] || args+=" harness.repeat=${REPEAT:-3}"
		MEM=${MEM:-2G} KARGS=$args "$TOP/scripts/run.sh" --patches-of "$base" "$v" $plan "$log" \
			>"$log.summary" || rc=1
		grep -vE '^  (warmup|stress|faults|pressure)' "$log.summary" || true
	done
	{
		echo "== $v: $(date -u +%FT%TZ), build $((built - start))s, boot+run $(( $(date +%s) - built ))s, kernel args: $kargs"
		for plan in stress pressure; do
			grep -vE '^  (warmup|stress|faults|pressure)' "$LOGS/$v-$plan.log.summary" || true
		done
	} >>"$summary"
	[ $rc = 0 ] || die "reliability matrix entry '$entry' failed for $base (logs: $LOGS/$v-{stress,pressure}.log)"
done

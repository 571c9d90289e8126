#!/bin/bash
# Reliability matrix: build the series with a debug config fragment of
# kconfig/debug/ (each in its own object directory, so re-runs stay
# incremental), boot it with the stress plan (KUnit suite at boot, then
# test_vmalloc stress with CMA allocations beside it, leak accounting, and
# page-allocation fault injection), and check the console. Any report fails.
# Usage: scripts/reliability.sh ENTRY...     (ENTRY: vm | kasan | lockdep)
# Environment: LOOPS (1000), REPEAT (3), MEM (2G), SMP (2), TIMEOUT (3600)
. "$(dirname "$0")/common.sh"

[ $# -ge 1 ] || die "usage: $0 vm|kasan|lockdep ..."
export LOOPS=${LOOPS:-1000} TIMEOUT=${TIMEOUT:-3600} KUNIT_FILTER='page_alloc*'
summary=$BUILD/logs/reliability-summary.txt
mkdir -p "$BUILD/logs"
for entry in "$@"; do
	frag=$TOP/kconfig/debug/$entry.config
	[ -f "$frag" ] || die "no matrix entry '$entry' (no $frag)"
	case "$entry" in
	vm) kargs="debug_pagealloc=on page_owner=on page_poison=1 init_on_free=1" ;;
	*) kargs="init_on_free=1" ;;
	esac
	v=series-$entry
	"$TOP/scripts/apply.sh" series
	start=$(date +%s)
	OBJ=$BUILD/obj-$entry KCONFIG_EXTRA=$frag "$TOP/scripts/build.sh" "$v"
	built=$(date +%s)
	log=$BUILD/logs/$v-stress.log
	rc=0
	KARGS="$kargs harness.repeat=${REPEAT:-3}" "$TOP/scripts/boot.sh" "$v" stress "$log" || rc=$?
	"$TOP/scripts/check-log.py" --kernel-tree "$TREE" --expect-kunit --expect-vmalloc \
		--json "$log.json" "$log" | tee "$log.summary" | grep -vE '^  (warmup|stress|faults) ' || rc=1
	{
		echo "== $entry: $(date -u +%FT%TZ), build $((built - start))s, boot+run $(( $(date +%s) - built ))s, kernel args: $kargs"
		grep -vE '^  (warmup|stress|faults) ' "$log.summary"
	} >>"$summary"
	[ $rc = 0 ] || die "reliability matrix entry '$entry' failed (log: $log)"
done

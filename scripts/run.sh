#!/bin/bash
# Boot a built variant with a guest plan (scripts/boot.sh) and check its
# console log (scripts/check-log.py), with what the run must show:
#   --expect-kunit $KUNIT_SUITE  iff the variant's patches create the suite's
#                  file ($KUNIT_FILE) and the plan runs KUnit (every plan
#                  but pressure, which boots with kunit.enable=0);
#   --expect-vmalloc             unless the plan is boot (KUnit only).
# The patches are the source of truth, not the built config: a renamed or
# lost config symbol must not drop the requirement.
# The log is LOG (default build/logs/VARIANT-PLAN.log), its JSON result is
# beside it (LOG with .json for .log). Plan pressure boots with the pressure
# settings of common.sh (PRESSURE_MEM, no CMA, no KUnit) on top of KARGS.
# The log is checked even when the boot failed (a timeout, a qemu error);
# the run fails if either did.
# Usage: scripts/run.sh [--patches-of VARIANT] VARIANT PLAN [LOG]
#   --patches-of: the variant whose patches the kernel VARIANT was built from
#   (reliability.sh builds variant series as series-vm, ...; default VARIANT)
# Environment: as boot.sh; KARGS (init_on_free=1), KUNIT_FILTER (the base's KUNIT_GLOB)
. "$(dirname "$0")/common.sh"

usage="usage: $0 [--patches-of VARIANT] VARIANT PLAN [LOG]"
source_variant=
if [ "${1:-}" = --patches-of ]; then
	source_variant=${2:-}
	[ -n "$source_variant" ] || die "$usage"
	shift 2
fi
[ $# -eq 2 ] || [ $# -eq 3 ] || die "$usage"
variant=$1 plan=$2 log=${3:-$LOGS/$1-$2.log}
source_variant=${source_variant:-$variant}
case "$log" in
*.log) json=${log%.log}.json ;;
*) json=$log.json ;;
esac
export KARGS=${KARGS-init_on_free=1} KUNIT_FILTER=${KUNIT_FILTER-$KUNIT_GLOB}

patches=$("$TOP/scripts/variant-patches.sh" "$source_variant") || exit 1
expect=()
[ "$plan" = boot ] || expect+=(--expect-vmalloc)
if [ "$plan" != pressure ]; then
	# shellcheck disable=SC2086
	if [ -n "$patches" ] && patches_add_kunit_suite $patches; then
		expect+=(--expect-kunit "$KUNIT_SUITE")
	fi
fi
if [ "$plan" = pressure ]; then
	export MEM KARGS
	MEM=$(pressure_mem)
	KARGS=$(pressure_kargs "$KARGS")
fi

# A result of an earlier run must not pass for this one's.
rm -f "$log" "$json"
rc=0
"$TOP/scripts/boot.sh" "$variant" "$plan" "$log" >&2 || rc=1   # stdout: the check's summary
[ -f "$log" ] || die "no console log of $variant (plan $plan): $log"
"$TOP/scripts/check-log.py" --kernel-tree "$TREE" "${expect[@]}" --json "$json" "$log" || rc=1
exit $rc

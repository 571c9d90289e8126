#!/bin/bash
# The tests must catch a broken batched free: build and boot the series with
# each deliberately broken change of tests/mutations/ (variant mutant-NAME)
# and require that the run FAILS. A mutant whose run passes "survived": the
# tests missed it, and this script fails. A mutation's commit message names
# the guest plan that must catch it with a "Harness-Plan: PLAN" line (default
# smoke; the pressure plan runs in a small guest, without CMA and KUnit).
# Usage: scripts/mutants.sh [NAME...]   (default: every tests/mutations/*.patch)
. "$(dirname "$0")/common.sh"

if [ $# -eq 0 ]; then
	set -- $(cd "$TOP/tests/mutations" && ls *.patch | sed 's/\.patch$//')
fi
export KARGS=${KARGS:-init_on_free=1} KUNIT_FILTER=${KUNIT_FILTER:-page_alloc*} MEM=${MEM:-2G}
survived=()
for m in "$@"; do
	v=mutant-$m
	"$TOP/scripts/apply.sh" "$v"
	"$TOP/scripts/build.sh" "$v"
	plan=$(sed -n 's/^Harness-Plan: *//p' "$TOP/tests/mutations/$m.patch" | head -1)
	plan=${plan:-smoke} expect=--expect-kunit
	log=$BUILD/logs/$v-$plan.log
	case "$plan" in
	smoke) mem=$MEM kargs=$KARGS ;;
	pressure) mem=${PRESSURE_MEM:-384M} kargs="$KARGS cma=0 kunit.enable=0" expect= ;;
	*) die "tests/mutations/$m.patch: unknown Harness-Plan '$plan'" ;;
	esac
	MEM=$mem KARGS=$kargs "$TOP/scripts/boot.sh" "$v" "$plan" "$log" || true
	if out=$("$TOP/scripts/check-log.py" --kernel-tree "$TREE" $expect \
			--expect-vmalloc "$log" 2>&1); then
		echo "mutant $m: SURVIVED (the run passed)"
		survived+=("$m")
	else
		echo "mutant $m: caught: $(echo "$out" | grep '^result:')"
	fi
done
[ ${#survived[@]} -eq 0 ] || die "mutants not caught by the tests: ${survived[*]}"
note "all $# mutants caught"

#!/bin/bash
# The tests must catch a broken batched free: build and boot the series with
# each deliberately broken change of tests/mutations/ (variant mutant-NAME)
# and require that the run FAILS. A mutant whose run passes "survived": the
# tests missed it, and this script fails. A mutation's commit message names
# the guest plan that must catch it with a "Harness-Plan: PLAN" line (default
# smoke; the pressure plan runs in a small guest, without CMA and KUnit).
# With --matrix ENTRY, each mutant instead goes through that entry of the
# reliability matrix (scripts/reliability.sh: debug kernel, stress, leak
# accounting, pressure), which must fail for it.
# Usage: scripts/mutants.sh [--matrix ENTRY] [NAME...]
#   (default NAME: every tests/mutations/*.patch)
. "$(dirname "$0")/common.sh"

matrix=
if [ "${1:-}" = --matrix ]; then
	matrix=${2:-}
	[ -n "$matrix" ] || die "usage: $0 [--matrix ENTRY] [NAME...]"
	shift 2
fi
if [ $# -eq 0 ]; then
	set -- $(cd "$TOP/tests/mutations" && ls *.patch | sed 's/\.patch$//')
fi
export KARGS=${KARGS:-init_on_free=1} KUNIT_FILTER=${KUNIT_FILTER:-page_alloc*} MEM=${MEM:-2G}
survived=()
for m in "$@"; do
	v=mutant-$m
	[ -f "$TOP/tests/mutations/$m.patch" ] || die "no mutant '$m' (no tests/mutations/$m.patch)"
	if [ -n "$matrix" ]; then
		# Caught means a guest run failed, not the build: the summaries
		# (check-log.py) must hold the failure.
		sums=("$BUILD/logs/$v-$matrix-stress.log.summary" "$BUILD/logs/$v-$matrix-pressure.log.summary")
		rm -f "${sums[@]}"
		if "$TOP/scripts/reliability.sh" --variant "$v" "$matrix"; then
			echo "mutant $m: SURVIVED matrix entry $matrix"
			survived+=("$m")
		elif grep -h '^result: FAIL' "${sums[@]}" 2>/dev/null; then
			echo "mutant $m: caught by matrix entry $matrix"
		else
			die "mutant $m: matrix entry $matrix failed before any guest ran (build?)"
		fi
		continue
	fi
	"$TOP/scripts/apply.sh" "$v"
	"$TOP/scripts/build.sh" "$v"
	plan=$(sed -n 's/^Harness-Plan: *//p' "$TOP/tests/mutations/$m.patch" | head -1)
	plan=${plan:-smoke} expect=--expect-kunit
	log=$BUILD/logs/$v-$plan.log
	case "$plan" in
	smoke) mem=$MEM kargs=$KARGS ;;
	pressure) mem=$(pressure_mem) kargs=$(pressure_kargs "$KARGS") expect='' ;;
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

#!/bin/bash
# The tests must catch a broken batched free: build and boot the series with
# each deliberately broken change of bases/$BASE/mutations/ (variant mutant-NAME)
# and require that the run fails FOR ITS MUTATION. A mutation's commit
# message says what its run must show (scripts/mutant-expect.py):
#   Harness-Plan: smoke|pressure   the guest plan (default smoke; pressure is a
#                                  small guest without CMA and KUnit)
#   Harness-Expect: kunit SUITE.CASE   a KUnit case that must fail (a
#                                  parameterised case: any of its parameters)
#   Harness-Expect: report KIND    a kernel report of that kind (check-log.py's
#                                  names: "page poisoning", "KASAN", ...)
#   Harness-Expect: reason TEXT    part of a reason check-log.py gives
#   Harness-Expect-Matrix: ...     the same, for --matrix
# Every expectation must be met (check-log.py's JSON result). A mutant is
#   caught       its run failed and showed every expectation (printed);
#   survived     its run passed: the tests missed it;
#   failed for another reason   its run failed without showing them (a boot
#                that never started, a KUnit output that did not parse, a
#                check-log.py traceback, ...): proves nothing.
# This script fails unless every mutant was caught. A mutation without its
# Harness-Expect line, or no mutation at all, is an error.
# With --matrix ENTRY, each mutant instead goes through that entry of the
# reliability matrix (scripts/reliability.sh: debug kernel, stress, leak
# accounting, pressure), whose two runs together must show the mutation's
# Harness-Expect-Matrix expectations.
# Usage: scripts/mutants.sh [--matrix ENTRY] [NAME...]
#   (default NAME: every bases/$BASE/mutations/*.patch)
. "$(dirname "$0")/common.sh"

matrix=
if [ "${1:-}" = --matrix ]; then
	matrix=${2:-}
	[ -n "$matrix" ] || die "usage: $0 [--matrix ENTRY] [NAME...]"
	shift 2
fi
dir=$MUTATIONS
if [ $# -eq 0 ]; then
	mapfile -t names < <(find "$dir" -maxdepth 1 -name '*.patch' -printf '%f\n' 2>/dev/null |
		sed 's/\.patch$//' | sort)
	[ ${#names[@]} -gt 0 ] || die "no mutants in $dir/ (*.patch)"
	set -- "${names[@]}"
fi
expect=$TOP/scripts/mutant-expect.py
field=Harness-Expect
[ -z "$matrix" ] || field=Harness-Expect-Matrix
# Every mutation is well-formed before anything is built.
for m in "$@"; do
	[ -f "$dir/$m.patch" ] || die "no mutant '$m' (no $dir/$m.patch)"
	"$expect" list "$field" "$dir/$m.patch" >/dev/null || die "mutant $m: see above"
done

export KARGS=${KARGS:-init_on_free=1} KUNIT_FILTER=${KUNIT_FILTER-$KUNIT_GLOB} MEM=${MEM:-2G}
mkdir -p "$LOGS"
caught=() survived=() other=()
for m in "$@"; do
	v=mutant-$m patch=$dir/$m.patch
	if [ -n "$matrix" ]; then
		how="matrix entry $matrix"
		jsons=("$LOGS/$v-$matrix-stress.json" "$LOGS/$v-$matrix-pressure.json")
		rm -f "${jsons[@]}"
		"$TOP/scripts/reliability.sh" --variant "$v" "$matrix" || true
	else
		plan=$("$expect" plan "$patch")
		how="plan $plan"
		log=$LOGS/$v-$plan.log
		jsons=("$LOGS/$v-$plan.json")
		rm -f "${jsons[@]}"
		"$TOP/scripts/apply.sh" "$v"
		"$TOP/scripts/build.sh" "$v"
		# The suite is required iff the mutant's patches add it (run.sh).
		"$TOP/scripts/run.sh" "$v" "$plan" "$log" >"$log.out" 2>&1 || true
		grep '^result:' "$log.out" || true
	fi
	rc=0
	verdict=$("$expect" match "$field" "$patch" "${jsons[@]}") || rc=$?
	case $rc in
	0)
		echo "mutant $m: caught by $how: $verdict"
		caught+=("$m") ;;
	1)
		echo "mutant $m: SURVIVED $how (the run passed)"
		survived+=("$m") ;;
	3)
		echo "mutant $m: run failed for another reason ($how): $verdict"
		[ -n "$matrix" ] || { echo "  last lines of $log.out:"; tail -n 15 "$log.out" | sed 's/^/  | /'; }
		other+=("$m") ;;
	*)
		die "mutant $m: cannot judge its run (mutant-expect.py exit $rc)" ;;
	esac
done
fail=0
if [ ${#survived[@]} -gt 0 ]; then
	echo "error: mutants not caught by the tests: ${survived[*]}" >&2
	fail=1
fi
if [ ${#other[@]} -gt 0 ]; then
	echo "error: mutants whose runs failed for another reason than their mutation" \
		"(not caught): ${other[*]}" >&2
	fail=1
fi
[ $fail = 0 ] || exit 1
note "all ${#caught[@]} mutants caught${matrix:+ by matrix entry $matrix}"

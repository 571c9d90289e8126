#!/bin/bash
# The tests must catch a broken batched free: build and boot the series with
# each deliberately broken change of tests/mutations/ (variant mutant-NAME)
# and require that the run FAILS. A mutant whose run passes "survived": the
# tests missed it, and this script fails.
# Usage: scripts/mutants.sh [NAME...]   (default: every tests/mutations/*.patch)
. "$(dirname "$0")/common.sh"

if [ $# -eq 0 ]; then
	set -- $(cd "$TOP/tests/mutations" && ls *.patch | sed 's/\.patch$//')
fi
export KARGS=${KARGS:-init_on_free=1} KUNIT_FILTER=${KUNIT_FILTER:-page_alloc*}
survived=()
for m in "$@"; do
	v=mutant-$m
	"$TOP/scripts/apply.sh" "$v"
	"$TOP/scripts/build.sh" "$v"
	log=$BUILD/logs/$v-smoke.log
	"$TOP/scripts/boot.sh" "$v" smoke "$log" || true
	if out=$("$TOP/scripts/check-log.py" --kernel-tree "$TREE" --expect-kunit \
			--expect-vmalloc "$log" 2>&1); then
		echo "mutant $m: SURVIVED (the run passed)"
		survived+=("$m")
	else
		echo "mutant $m: caught: $(echo "$out" | grep '^result:')"
	fi
done
[ ${#survived[@]} -eq 0 ] || die "mutants not caught by the tests: ${survived[*]}"
note "all $# mutants caught"

#!/bin/bash
# Print the patch files (one per line, in order) that make up a variant of
# the base BASE.
#   series    every patch of bases/$BASE/patches/series
#   prefix-N  the first N patches of the series, N >= 1 (bisection builds)
#   mutant-M  series + bases/$BASE/mutations/M.patch: a deliberately broken
#             kernel that the tests must catch (never part of the series)
#   cand-N    series + the first N patches of bases/$BASE/candidates/ (in
#             file name order): candidates measured patch by patch before
#             they may join the series
#   V+P       variant V plus the harness-only probe bases/$BASE/harness/probe-P.patch
#             on top (7.3: upstream+floor, cand-N+floor for scripts/floor.sh)
#   others    as the base's base.conf says (base_variant): 6.12 has base and
#             hiorder, 7.3 has order0, regression and upstream
# A missing series file, or one that lists no patch, is an error.
. "$(dirname "$0")/common.sh"

[ $# -eq 1 ] || die "usage: $0 VARIANT"
variant=$1
read_series
all=("${SERIES[@]}")

# For base_variant (base.conf): the series patch whose name matches *$1*
# (exactly one; with $2 = optional, none is fine too).
series_patch() {
	local hits
	hits=$(printf '%s\n' "${all[@]}" | grep -F -- "$1" || true)
	if [ -z "$hits" ]; then
		[ "${2:-}" = optional ] && return 0
		die "variant $variant: no *$1* patch in $PATCHES/series"
	fi
	[ "$(wc -l <<<"$hits")" = 1 ] || die "variant $variant: more than one *$1* patch in $PATCHES/series"
	echo "$PATCHES/$hits"
}
# For base_variant: a harness-only patch of bases/$BASE/harness/.
harness_patch() {
	[ -f "$HARNESS_PATCHES/$1" ] || die "variant $variant: no $HARNESS_PATCHES/$1"
	echo "$HARNESS_PATCHES/$1"
}

case "$variant" in
?*+?*)
	probe=$HARNESS_PATCHES/probe-${variant##*+}.patch
	[ -f "$probe" ] || die "variant $variant: no probe $probe"
	"$0" "${variant%+*}" || exit 1
	echo "$probe" ;;
series)
	printf "$PATCHES/%s\n" "${all[@]}" ;;
prefix-[0-9]*)
	n=${variant#prefix-}
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "variant $variant: N of prefix-N must be 1 to ${#all[@]}"
	[ "$n" -le ${#all[@]} ] || die "variant $variant: the series has only ${#all[@]} patches"
	printf "$PATCHES/%s\n" "${all[@]:0:$n}" ;;
mutant-*)
	m=$MUTATIONS/${variant#mutant-}.patch
	[ -f "$m" ] || die "variant $variant: no $m"
	printf "$PATCHES/%s\n" "${all[@]}"
	echo "$m" ;;
cand-[0-9]*)
	n=${variant#cand-}
	cands=()
	for c in "$CANDIDATES"/[0-9]*.patch; do
		[ -f "$c" ] && cands+=("$c")
	done
	[ ${#cands[@]} -gt 0 ] || die "variant $variant: no candidate patches in $CANDIDATES"
	[[ $n =~ ^[1-9][0-9]*$ ]] && [ "$n" -le ${#cands[@]} ] ||
		die "variant $variant: N of cand-N must be 1 to ${#cands[@]} (the patches of $CANDIDATES)"
	printf "$PATCHES/%s\n" "${all[@]}"
	printf '%s\n' "${cands[@]:0:$n}" ;;
*)
	[[ " $NAMED_VARIANTS " == *" $variant "* ]] ||
		die "unknown variant '$variant' of base $BASE (known: series, prefix-N, mutant-NAME, cand-N, ${NAMED_VARIANTS// /, })"
	out=$(base_variant "$variant") || exit 1	# series_patch said why
	[ -z "$out" ] || printf '%s\n' "$out" ;;
esac

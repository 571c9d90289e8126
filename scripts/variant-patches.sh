#!/bin/bash
# Print the patch files (one per line, in order) that make up a variant.
#   base      the Debian base with only the series' test_vmalloc benchmark
#             patch (*-lib-test_vmalloc-*), which changes no mm code, so
#             that every kernel runs the same benchmark module
#   series    every patch of patches/series
#   hiorder   base + only the high-order vmalloc patch (6 of 7 in the
#             series): the upstream regression
#   prefix-N  the first N patches of the series, N >= 1 (bisection builds)
#   mutant-M  series + tests/mutations/M.patch: a deliberately broken
#             kernel that the tests must catch (never part of the series)
# A missing patches/series, or one that lists no patch, is an error.
. "$(dirname "$0")/common.sh"

[ $# -eq 1 ] || die "usage: $0 VARIANT"
variant=$1
read_series
all=("${SERIES[@]}")

bench=$(printf '%s\n' "${all[@]}" | grep -- '-lib-test_vmalloc-' || true)
case "$variant" in
base)
	printf '%s' "${bench:+$bench$'\n'}" ;;
series)
	printf '%s\n' "${all[@]}" ;;
hiorder)
	hi=$(printf '%s\n' "${all[@]}" | grep -- '-vmalloc-request-large-order' || true)
	[ -n "$hi" ] || die "variant hiorder: no *-vmalloc-request-large-order* patch in patches/series"
	printf '%s' "${bench:+$bench$'\n'}"
	echo "$hi" ;;
prefix-[0-9]*)
	n=${variant#prefix-}
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "variant $variant: N of prefix-N must be 1 to ${#all[@]}"
	[ "$n" -le ${#all[@]} ] || die "variant $variant: the series has only ${#all[@]} patches"
	printf '%s\n' "${all[@]:0:$n}" ;;
mutant-*)
	m=$TOP/tests/mutations/${variant#mutant-}.patch
	[ -f "$m" ] || die "variant $variant: no $m"
	printf '%s\n' "${all[@]}"
	echo "$m" ;;
*)
	die "unknown variant '$variant' (known: base, series, hiorder, prefix-N, mutant-NAME)" ;;
esac | sed -e '/^$/d' -e "s|^\([^/]\)|$PATCHES/\1|"

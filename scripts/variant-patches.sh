#!/bin/bash
# Print the patch files (one per line, in order) that make up a variant.
#   base      no patches: the Debian base as is
#   series    every patch of patches/series
#   hiorder   only the high-order vmalloc patch (the last of the series)
#   prefix-N  the first N patches of the series (bisection builds)
. "$(dirname "$0")/common.sh"

[ $# -eq 1 ] || die "usage: $0 VARIANT"
variant=$1
mapfile -t all < <(grep -v -e '^#' -e '^[[:space:]]*$' "$PATCHES/series" 2>/dev/null || true)

case "$variant" in
base)
	;;
series)
	printf '%s\n' "${all[@]}" ;;
hiorder)
	hi=$(printf '%s\n' "${all[@]}" | grep -- '-vmalloc-request-high-order' || true)
	[ -n "$hi" ] || die "variant hiorder: no *-vmalloc-request-high-order* patch in patches/series"
	echo "$hi" ;;
prefix-[0-9]*)
	n=${variant#prefix-}
	[ "$n" -le ${#all[@]} ] || die "variant $variant: the series has only ${#all[@]} patches"
	printf '%s\n' "${all[@]:0:$n}" ;;
*)
	die "unknown variant '$variant' (known: base, series, hiorder, prefix-N)" ;;
esac | sed "s|^|$PATCHES/|"

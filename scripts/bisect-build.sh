#!/bin/bash
# Bisectability: build every prefix of the series, in order, incrementally
# in the same object directory. Stops at the first prefix that fails.
# Usage: scripts/bisect-build.sh
. "$(dirname "$0")/common.sh"

n=$(grep -cv -e '^#' -e '^[[:space:]]*$' "$PATCHES/series" 2>/dev/null || true)
[ "${n:-0}" -gt 0 ] || { note "bisect: the series is empty, nothing to build"; exit 0; }
for i in $(seq 1 "$n"); do
	"$TOP/scripts/apply.sh" "prefix-$i"
	"$TOP/scripts/build.sh" "prefix-$i" ||
		die "prefix $i of $n does not build: $(sed -n "${i}p" "$PATCHES/series")"
done
note "bisect: all $n prefixes build"

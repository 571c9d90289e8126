#!/bin/bash
# Bisectability: build every prefix of the series, in order, incrementally
# in the same object directory. Stops at the first prefix that fails. A
# missing or empty patches/series is an error (there is nothing to prove).
# Usage: scripts/bisect-build.sh
. "$(dirname "$0")/common.sh"

read_series
n=${#SERIES[@]}
for i in $(seq 1 "$n"); do
	"$TOP/scripts/apply.sh" "prefix-$i"
	"$TOP/scripts/build.sh" "prefix-$i" ||
		die "prefix $i of $n does not build: ${SERIES[$((i - 1))]}"
done
note "bisect: all $n prefixes build"

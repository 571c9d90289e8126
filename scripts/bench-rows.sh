#!/bin/bash
# Print the benchmark plan: one test_vmalloc.ko load per line, as
# "LABEL|module parameters", the rows of the published comparison plus the
# contiguous-free microbenchmark. Loop counts are the published ones
# divided by SCALE (default 100), the same for every kernel; labels carry
# the loop count used.
#
# Each row names its test case; its run_test_mask is computed from the
# kernel's own lib/test_vmalloc.c (--source; "-" reads it from stdin):
# bit i of run_test_mask selects test_case_array[i], and the array differs
# between kernels (7.3 inserts no_block_alloc_test and vrealloc_test before
# the series' contig_free_test: bit 13 = 8192 there, bit 11 = 2048 on 6.12).
# A test the source does not have is an error naming the file and the test.
#
# Every entry of the array counts, including those inside a preprocessor
# conditional: the only one there is contig_free_test's
# "#ifdef CONFIG_CONTIG_ALLOC", which the benchmark kernels enable (the
# harness's kconfig fragments set CONFIG_CMA=y, kconfig/mm.config today, and
# CONTIG_ALLOC is "def_bool (MEMORY_ISOLATION && COMPACTION) || CMA"; were
# it off, the module would lack the test, and check-log.py fails a row that
# produced no result). Any other conditional inside the array is refused:
# whether its entries are compiled in, and so the bits of the entries after
# them, is not known here.
#
# Usage: scripts/bench-rows.sh --source FILE [SCALE]
set -euo pipefail

usage() {
	echo "usage: $0 --source FILE|- [SCALE]" >&2
	exit 1
}
src=
while [ $# -gt 0 ]; do
	case "$1" in
	--source) [ $# -ge 2 ] || usage; src=$2; shift 2 ;;
	--source=*) src=${1#--source=}; shift ;;
	--) shift; break ;;
	-?*) usage ;;
	*) break ;;
	esac
done
[ $# -le 1 ] || usage
[ -n "$src" ] || { echo "error: no test_vmalloc.c source: give --source FILE (- for stdin)" >&2; usage; }
scale=${1:-100}
case "$scale" in ''|*[!0-9]*|0) echo "error: SCALE must be a positive integer" >&2; exit 1 ;; esac
long=$((500000 / scale)) short=$((100000 / scale))

what=$src
if [ "$src" = - ]; then
	what="test_vmalloc.c source on stdin"
	[ ! -t 0 ] || { echo "error: --source -: stdin is a terminal, not a test_vmalloc.c" >&2; exit 1; }
	text=$(cat)
else
	[ -f "$src" ] || { echo "error: test_vmalloc.c source not found: $src" >&2; exit 1; }
	text=$(cat -- "$src")
fi

# The names of test_case_array[]'s entries, one per line, in index order.
# Entries look like { "fix_size_alloc_test", fix_size_alloc_test, },
# possibly several on a line.
names=$(awk -v what="$what" '
	function fail(msg) { print "error: " what ":" NR ": " msg > "/dev/stderr"; bad = 1; exit 1 }
	!inarray && /test_case_array[[:space:]]*\[[[:space:]]*\][[:space:]]*=/ {
		inarray = 1; found = 1; depth = 0
		sub(/.*test_case_array[[:space:]]*\[[[:space:]]*\][[:space:]]*=/, "")
	}
	!inarray { next }
	/^[[:space:]]*#/ {
		line = $0; sub(/^[[:space:]]*#[[:space:]]*/, "", line)
		if (line ~ /^ifdef[[:space:]]+CONFIG_CONTIG_ALLOC[[:space:]]*$/) { depth++; next }
		if (line ~ /^endif/ && depth > 0) { depth--; next }
		fail("test_case_array[] has \"#" line "\": only \"#ifdef CONFIG_CONTIG_ALLOC\" is known to be enabled in the benchmark kernels, so the bits of the entries cannot be told")
	}
	{
		line = $0
		gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", line)    # one-line comments
		while (match(line, /\{[[:space:]]*"[^"]*"/)) {
			entry = substr(line, RSTART, RLENGTH)
			sub(/^\{[[:space:]]*"/, "", entry); sub(/"$/, "", entry)
			print entry; n++
			line = substr(line, RSTART + RLENGTH)
		}
		if (line ~ /}[[:space:]]*;/) { done = 1; exit }
	}
	END {
		if (bad) exit 1
		if (!found) { print "error: " what ": no test_case_array[] initialiser (not lib/test_vmalloc.c?)" > "/dev/stderr"; exit 1 }
		if (!done) { print "error: " what ": test_case_array[] initialiser not closed with \"};\"" > "/dev/stderr"; exit 1 }
		if (!n) { print "error: " what ": test_case_array[] has no entry" > "/dev/stderr"; exit 1 }
	}' <<<"$text")

# mask TEST: print 1 << (index of TEST in test_case_array[]).
mask() {
	local i=0 name
	while IFS= read -r name; do
		if [ "$name" = "$1" ]; then
			echo $((1 << i))
			return 0
		fi
		i=$((i + 1))
	done <<<"$names"
	echo "error: $what: test_case_array[] has no test \"$1\"" >&2
	return 1
}

# Every mask first, so that a missing test stops before any row is printed.
declare -A masks
for t in fix_size_alloc_test fix_align_alloc_test full_fit_alloc_test \
	kvfree_rcu_1_arg_vmalloc_test kvfree_rcu_2_arg_vmalloc_test \
	long_busy_list_alloc_test pcpu_alloc_test random_size_align_alloc_test \
	random_size_alloc_test vm_map_ram_test contig_free_test; do
	masks[$t]=$(mask "$t") || exit 1
done

row() { # LABEL TEST LOOPS [PAGES [HUGE]]
	local label="$1" params="run_test_mask=${masks[$2]} test_loop_count=$3 nr_threads=1"
	[ -n "${4:-}" ] && { label+=" p:$4"; params+=" nr_pages=$4"; }
	[ -n "${5:-}" ] && { label+=" h:1"; params+=" use_huge=1"; }
	echo "$label l:$3|$params"
}

row fix_align fix_align_alloc_test "$long" 1
row fix_size fix_size_alloc_test "$long" 1
row fix_size fix_size_alloc_test "$long" 4
row fix_size fix_size_alloc_test "$long" 16
row fix_size fix_size_alloc_test "$long" 16 1
for p in 64 256 512; do
	row fix_size fix_size_alloc_test "$short" "$p"
	row fix_size fix_size_alloc_test "$short" "$p" 1
done
row full_fit full_fit_alloc_test "$long" 1
row kvfree_rcu_1_arg kvfree_rcu_1_arg_vmalloc_test "$long" 1
row kvfree_rcu_2_arg kvfree_rcu_2_arg_vmalloc_test "$long" 1
row long_busy_list long_busy_list_alloc_test "$long" 1
row pcpu_alloc pcpu_alloc_test "$long" 1
row random_size_align random_size_align_alloc_test "$long" 1
row random_size random_size_alloc_test "$long" 1
row vm_map_ram vm_map_ram_test "$long" 1
# 100000 x { alloc order-9, split_page(), free_contig_range() } published.
row contig_free contig_free_test "$short"

#!/bin/bash
# Print the benchmark plan: one test_vmalloc.ko load per line, as
# "LABEL|module parameters", the rows of the published comparison plus the
# contiguous-free microbenchmark. Loop counts are the published ones
# divided by SCALE (default 100), the same for every kernel; labels carry
# the loop count used.
# Usage: scripts/bench-rows.sh [SCALE]
set -euo pipefail
scale=${1:-100}
case "$scale" in ''|*[!0-9]*|0) echo "error: SCALE must be a positive integer" >&2; exit 1 ;; esac
long=$((500000 / scale)) short=$((100000 / scale))

row() { # NAME MASK LOOPS [PAGES [HUGE]]
	local label="$1" params="run_test_mask=$2 test_loop_count=$3 nr_threads=1"
	[ -n "${4:-}" ] && { label+=" p:$4"; params+=" nr_pages=$4"; }
	[ -n "${5:-}" ] && { label+=" h:1"; params+=" use_huge=1"; }
	echo "$label l:$3|$params"
}

row fix_align 16 "$long" 1
row fix_size 1 "$long" 1
row fix_size 1 "$long" 4
row fix_size 1 "$long" 16
row fix_size 1 "$long" 16 1
for p in 64 256 512; do
	row fix_size 1 "$short" "$p"
	row fix_size 1 "$short" "$p" 1
done
row full_fit 2 "$long" 1
row kvfree_rcu_1_arg 256 "$long" 1
row kvfree_rcu_2_arg 512 "$long" 1
row long_busy_list 4 "$long" 1
row pcpu_alloc 128 "$long" 1
row random_size_align 32 "$long" 1
row random_size 8 "$long" 1
row vm_map_ram 1024 "$long" 1
# 100000 x { alloc order-9, split_page(), free_contig_range() } published.
row contig_free 2048 "$short"

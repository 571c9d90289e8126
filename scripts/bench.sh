#!/bin/bash
# Run the benchmark: boot the built kernels of the base's BENCH_VARIANTS
# (6.12: base hiorder series; 7.3: order0 regression upstream series)
# interleaved in that order (b h s b h s ...), RUNS times each, in one timing
# MODE, each boot loading test_vmalloc.ko once per row of
# scripts/bench-rows.sh; check every console log, then write
# results/$BASE/bench-VARIANTS-MODE.{md,png,json} (VARIANTS joined by "-",
# e.g. bench-base-hiorder-series-icount) with scripts/bench-report.py: the
# base's BENCH_PAIRS, BENCH_PUBLISHED and BENCH_TARGETS (base.conf) are its
# --pairs, --published and --targets.
# The rows' run_test_mask values come from the test names and the kernels'
# own lib/test_vmalloc.c (branch variant/VARIANT of the work tree, as
# scripts/apply.sh made it for the build): every variant must give the
# same rows.
# BENCH_SET=candidates measures the base's candidates patch by patch
# instead: BENCH_CANDIDATE_ANCHORS (base.conf), then cand-1 ... cand-N (the
# series plus the first N patches of bases/$BASE/candidates/), each compared
# with the kernel before it and the last with every anchor; no targets (the
# report's significance per row decides); its own build/$BASE/bench-candidates/
# logs and results/$BASE/bench-candidates-MODE.*
# Usage: scripts/bench.sh MODE        (MODE: tcg | icount)
#        scripts/bench.sh --variants  (print the kernels the set boots)
# Environment: RUNS (icount 10, tcg 5), SCALE (50), SMP (2), MEM (2G),
# TIMEOUT (1800), REPORT_ONLY=1 (remake the report from the last run's logs),
# BENCH_SET (published | candidates)
. "$(dirname "$0")/common.sh"

benchdir=bench
case "${BENCH_SET:-published}" in
published) ;;
candidates)
	read -ra anchors <<<"${BENCH_CANDIDATE_ANCHORS:-}"
	[ ${#anchors[@]} -ge 1 ] ||
		die "base $BASE: BENCH_SET=candidates needs BENCH_CANDIDATE_ANCHORS in bases/$BASE/base.conf"
	n=0
	for c in "$CANDIDATES"/[0-9]*.patch; do
		[ -f "$c" ] && n=$((n + 1))
	done
	[ $n -ge 1 ] || die "base $BASE: BENCH_SET=candidates: no candidate patches in $CANDIDATES"
	BENCH_VARIANTS="${anchors[*]}" BENCH_PAIRS=
	prev=${anchors[${#anchors[@]} - 1]}
	for i in $(seq 1 $n); do
		BENCH_VARIANTS+=" cand-$i" BENCH_PAIRS+=" $prev:cand-$i" prev=cand-$i
	done
	for a in "${anchors[@]}"; do
		[[ " $BENCH_PAIRS " == *" $a:cand-$n "* ]] || BENCH_PAIRS+=" $a:cand-$n"
	done
	BENCH_PUBLISHED='' BENCH_TARGETS=none benchdir=bench-candidates ;;
*) die "BENCH_SET must be published or candidates, not '$BENCH_SET'" ;;
esac
if [ "${1:-}" = --variants ]; then
	echo "$BENCH_VARIANTS"
	exit 0
fi

[ $# -eq 1 ] || die "usage: $0 tcg|icount"
timing_mode "$1"
SCALE=${SCALE:-50}
export SMP=${SMP:-2} MEM=${MEM:-2G} TIMEOUT=${TIMEOUT:-1800}
# The production-like kernels of make bench (kconfig/bench/); no KUnit at
# boot and no debug options.
[ "$PROFILE" = bench ] || die "the benchmark boots the kernels of PROFILE=bench (make bench builds them), not '$PROFILE'"
export KARGS="kunit.enable=0" KUNIT_FILTER=

read -ra variants <<<"${BENCH_VARIANTS:-}"
[ ${#variants[@]} -ge 2 ] ||
	die "base $BASE: BENCH_VARIANTS (bases/$BASE/base.conf) must name at least two kernels, not '${BENCH_VARIANTS:-}'"
[ -n "${BENCH_TARGETS:-}" ] ||
	die "base $BASE: no BENCH_TARGETS in bases/$BASE/base.conf (the targets of bench-report.py --targets, or none)"
joined() { local IFS=$1; shift; echo "$*"; }
report_args=(--variants "$(joined , "${variants[@]}")" --targets "$BENCH_TARGETS")
read -ra pairs <<<"${BENCH_PAIRS:-}"
[ ${#pairs[@]} -eq 0 ] || report_args+=(--pairs "$(joined , "${pairs[@]}")")
read -ra published <<<"${BENCH_PUBLISHED:-}"
for p in "${published[@]}"; do
	report_args+=(--published "$p")
done

for v in "${variants[@]}"; do
	[ -f "$OUT/$v/bzImage" ] || die "variant $v is not built: make build VARIANT=$v"
done
/usr/bin/python3 -c 'import scipy, matplotlib' 2>/dev/null ||
	die "/usr/bin/python3 lacks scipy/matplotlib: run make deps (scripts/deps.sh installs python3-scipy python3-matplotlib)"
mkdir -p "$TOP/results/$BASE"
report=$TOP/results/$BASE/bench-$(joined - "${variants[@]}")-$mode
[ "${BENCH_SET:-published}" = published ] || report=$TOP/results/$BASE/bench-$BENCH_SET-$mode
# A bad BENCH_* setting stops here, not after the boots.
/usr/bin/python3 "$TOP/scripts/bench-report.py" --check-args --mode "$mode" --out "$report" \
	"${report_args[@]}" ||
	die "base $BASE: bench-report.py refuses BENCH_VARIANTS/BENCH_PAIRS/BENCH_PUBLISHED/BENCH_TARGETS of bases/$BASE/base.conf (above)"

dir=$BUILDB/$benchdir/$mode
rows=$dir/rows.txt
start=$(date +%s)
# REPORT_ONLY=1: remake the report from the logs of the last run.
if [ "${REPORT_ONLY:-0}" = 1 ]; then
	[ -f "$rows" ] || die "no previous run in $dir"
	RUNS=$(ls "$dir/${variants[0]}"-*.log.json | wc -l)
	SCALE=$(cat "$dir/scale")
	secs=$(cat "$dir/seconds")
	set -- report-only
else
	rm -rf "$dir"
	mkdir -p "$dir"
	# The rows of each variant from its own lib/test_vmalloc.c (kept in
	# $dir); they all carry the series' benchmark patch, so the rows
	# must be the same.
	for v in "${variants[@]}"; do
		src=$dir/test_vmalloc-$v.c
		variant_test_vmalloc "$v" "$src" bench "the branch scripts/apply.sh makes for variant $v"
		"$TOP/scripts/bench-rows.sh" --source "$src" "$SCALE" >"$dir/rows-$v.txt" ||
			die "cannot make the benchmark rows of variant $v (from $src, variant/$v:lib/test_vmalloc.c)"
		if [ "$v" != "${variants[0]}" ] && ! cmp -s "$dir/rows-${variants[0]}.txt" "$dir/rows-$v.txt"; then
			diff "$dir/rows-${variants[0]}.txt" "$dir/rows-$v.txt" >&2 || true
			die "variants ${variants[0]} and $v have different test_vmalloc rows (their lib/test_vmalloc.c differ, above): they would not run the same benchmark"
		fi
	done
	cp "$dir/rows-${variants[0]}.txt" "$rows"
	echo "$SCALE" >"$dir/scale"
	set --
fi
for r in $(seq 1 "$RUNS"); do
	[ $# -eq 0 ] || break
	for v in "${variants[@]}"; do
		log=$dir/$v-$r.log
		BENCH_ROWS=$rows "$TOP/scripts/boot.sh" "$v" bench "$log"
		"$TOP/scripts/check-log.py" --expect-vmalloc --json "$log.json" "$log" >/dev/null ||
			{ "$TOP/scripts/check-log.py" --expect-vmalloc "$log" >&2 || true
			  die "benchmark boot $v run $r failed (log: $log)"; }
	done
done
if [ $# -eq 0 ]; then
	secs=$(( $(date +%s) - start ))
	echo "$secs" >"$dir/seconds"
fi

kver() { sed -n 's/^kernel: //p' "$OUT/$1/info"; }
kernels=()
for v in "${variants[@]}"; do
	kernels+=("$v: $(kver "$v")")
done
contig_mask=$(sed -n 's/^contig_free .*run_test_mask=\([0-9]*\).*/\1/p' "$rows")
command="make bench" set_meta=()
if [ "${BENCH_SET:-published}" = candidates ]; then
	command="make bench-candidates"
	set_meta=(--meta "candidates=$(git -C "$TOP" log -1 --format='%h %cs' -- "$CANDIDATES") (bases/$BASE/candidates/ at that project commit$(git -C "$TOP" status --porcelain -- "$CANDIDATES" | grep -q . && echo ', with uncommitted changes'))")
fi
rc=0
/usr/bin/python3 "$TOP/scripts/bench-report.py" --mode "$mode" \
	--out "$report" "${report_args[@]}" \
	--meta "command=$command BASE=$BASE (${BENCH_SET:+BENCH_SET=$BENCH_SET }scripts/bench.sh $mode, RUNS=$RUNS SCALE=$SCALE)" \
	--meta "mode=$desc" \
	--meta "runs=$RUNS per kernel, interleaved $(joined , "${variants[@]}" | sed 's/,/, /g')" \
	--meta "loop scale=published loop counts / $SCALE (labels show the loops used); one test per module load, nr_threads=1" \
	--meta "rows=run_test_mask from the test names in the kernels' lib/test_vmalloc.c (scripts/bench-rows.sh; contig_free_test: $contig_mask)" \
	--meta "config=profile $PROFILE: kconfig/*.config, kconfig/$PROFILE/, bases/$BASE/kconfig/ (production-like: no DEBUG_VM, PAGE_OWNER, PAGE_POISONING)" \
	--meta "guest=$SMP vCPUs, $MEM, qemu $(qemu-system-x86_64 --version | head -1 | sed 's/.*version //'), host $(nproc) cores" \
	--meta "base=$BASE_PKG $(cat "$BUILDB/base-version")" \
	--meta "kernels=$(joined ';' "${kernels[@]}" | sed 's/;/; /g')" \
	--meta "series=$(git -C "$TOP" log -1 --format='%h %cs' -- "$PATCHES") (bases/$BASE/patches/ at that project commit)" \
	"${set_meta[@]}" \
	--meta "duration=${secs}s for $((RUNS * ${#variants[@]})) boots" \
	--meta "date=$(date -u +%Y-%m-%d)" \
	"$dir"/*.log.json || rc=$?
# 3: the report is written, but a target is missed (listed above).
[ $rc = 3 ] && die "benchmark ($mode): targets missed; report: $report.md"
[ $rc = 0 ] || die "bench-report.py failed (exit $rc)"

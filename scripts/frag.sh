#!/bin/bash
# The fragmentation study (make frag): does vmalloc()'s high-order
# allocation, freed back whole, preserve contiguity or consume it? Boots
# each kernel of FRAG_VARIANTS (base.conf; 7.3: order0 regression upstream
# series) with the harness module bases/$BASE/harness/probe-frag.patch on
# top (variant NAME+frag, built by make frag) in the guest plan frag
# (scripts/guest-init.sh, frag_plan): the seeded workload
# scripts/guest-fraggen.c run for FRAG_TICKS ticks, sampled every
# FRAG_SAMPLE ticks, then the high-order probe without and with compaction.
# For each vm.compaction_proactiveness of FRAG_PROACTIVENESS and each seed
# of FRAG_SEEDS, the kernels boot one after the other (same seed, same
# workload); every console log is checked, and scripts/frag-report.py writes
# results/frag-$BASE.{md,json} and its charts (-o9, -work, -probe
# .png). The premise (order0's free order-9 memory falls during the run) is
# checked by the report: a run in which it does not hold fails.
# Usage: scripts/frag.sh MODE          (MODE: tcg | icount)
#        scripts/frag.sh --variants    (print the kernels it boots)
# Environment: FRAG_VARIANTS, FRAG_SEEDS (1 2 3 4 5), FRAG_PROACTIVENESS
# (20 0), FRAG_TICKS (3000), FRAG_SAMPLE (100), FRAG_MEM (1G), SMP (2),
# FRAG_BUDGET_PCT (75: the workload's budget, % of MemTotal), FRAG_MAX_LIFE
# (1000: the longest medium lifetime, ticks), FRAG_TIMEOUT (900 s a boot),
# FRAG_OUT (results/frag-$BASE: the
# report's prefix), FRAG_DISCUSSION (a file: the report's "What the data
# says"; default results/$BASE/frag-discussion.md if it exists; none: no
# discussion),
# FRAG_MIN_FALL_PCT (20: how far order0's free order-9 memory must fall for
# the premise, 1..99; 1 for a smoke run), REPORT_ONLY=1 (remake the report from
# the last run's logs)
. "$(dirname "$0")/common.sh"

read -ra kernels <<<"${FRAG_VARIANTS:-}"
[ ${#kernels[@]} -ge 1 ] ||
	die "base $BASE: no FRAG_VARIANTS in bases/$BASE/base.conf (the kernels of the fragmentation study)"
[ -f "$HARNESS_PATCHES/probe-frag.patch" ] ||
	die "base $BASE: no harness module $HARNESS_PATCHES/probe-frag.patch"
variants=()
for k in "${kernels[@]}"; do
	variants+=("$k+frag")
done
if [ "${1:-}" = --variants ]; then
	echo "${variants[*]}"
	exit 0
fi
[ $# -eq 1 ] || die "usage: $0 tcg|icount"
RUNS=1
timing_mode "$1"
read -ra seeds <<<"${FRAG_SEEDS-1 2 3 4 5}"
read -ra pros <<<"${FRAG_PROACTIVENESS-20 0}"
ticks=${FRAG_TICKS:-3000}
every=${FRAG_SAMPLE:-100}
budget=${FRAG_BUDGET_PCT:-75}
life=${FRAG_MAX_LIFE:-1000}
[ ${#seeds[@]} -ge 1 ] || die "FRAG_SEEDS names no seed"
[[ $budget =~ ^[1-9][0-9]?$ ]] || die "FRAG_BUDGET_PCT must be 1..99 (% of MemTotal), not '$budget'"
[[ $life =~ ^[1-9][0-9]*$ ]] && [ "$life" -ge 20 ] || die "FRAG_MAX_LIFE must be an integer >= 20 (ticks), not '$life'"
[ ${#pros[@]} -ge 1 ] || die "FRAG_PROACTIVENESS names no value"
for n in "${seeds[@]}" "$ticks" "$every"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "FRAG_SEEDS, FRAG_TICKS and FRAG_SAMPLE must be positive integers (no leading 0), not '$n'"
done
for p in "${pros[@]}"; do
	[[ $p =~ ^(0|[1-9][0-9]?|100)$ ]] || die "FRAG_PROACTIVENESS: '$p' is not 0..100 (vm.compaction_proactiveness)"
done
export SMP=${SMP:-2} MEM=${FRAG_MEM:-1G} TIMEOUT=${FRAG_TIMEOUT:-900}
# The guest gives up on the workload a minute before the boot's timeout, so
# that its own error (with where the workload waits) reaches the log.
[[ $TIMEOUT =~ ^[0-9]+$ ]] && [ "$TIMEOUT" -ge 120 ] || die "FRAG_TIMEOUT must be at least 120 (seconds), not '$TIMEOUT'"
[ "$PROFILE" = bench ] || die "the fragmentation study boots the kernels of PROFILE=bench (make frag builds them), not '$PROFILE'"
for v in "${variants[@]}"; do
	[ -f "$OUT/$v/bzImage" ] && [ -f "$OUT/$v/info" ] || die "variant $v is not built: make frag"
	[ -f "$OUT/$v/modules/test_frag_vmalloc.ko" ] ||
		die "variant $v has no test_frag_vmalloc.ko (CONFIG_TEST_VMALLOC=m and $HARNESS_PATCHES/probe-frag.patch): make frag"
done
/usr/bin/python3 -c 'import scipy, matplotlib' 2>/dev/null ||
	die "/usr/bin/python3 lacks scipy or matplotlib: run make deps (scripts/deps.sh installs them)"

dir=$BUILDB/frag/$(IFS=-; echo "${kernels[*]}")/$mode
start=$(date +%s)
if [ "${REPORT_ONLY:-0}" = 1 ]; then
	[ -f "$dir/params" ] || die "no previous run of ${kernels[*]} ($mode) in $dir"
	load_run_params "$dir" ticks every budget life
else
	rm -rf "$dir"
	mkdir -p "$dir"
	total=$(( ${#pros[@]} * ${#seeds[@]} * ${#variants[@]} ))
	i=0
	for p in "${pros[@]}"; do
		for s in "${seeds[@]}"; do
			for v in "${variants[@]}"; do
				i=$((i + 1))
				log=$dir/$v-p$p-s$s.log
				echo "==> frag boot $i of $total: $v, proactiveness $p, seed $s ($(( $(date +%s) - start ))s so far)"
				KARGS="$(pressure_kargs) harness.seed=$s harness.proactiveness=$p harness.ticks=$ticks harness.sample_every=$every harness.budget_pct=$budget harness.max_life=$life harness.frag_timeout=$((TIMEOUT - 60))" \
					"$TOP/scripts/boot.sh" "$v" frag "$log" ||
					die "frag boot $v (proactiveness $p, seed $s) failed (log: $log)"
				check_boot_log frag "$v" "p$p-s$s" "$log" --json "$log.json"
				/usr/bin/python3 - "$log.json" <<-'EOF'
					import json, sys
					d = json.load(open(sys.argv[1]))
					s = [b for b in d["bench"] if b["name"] == "frag-sample"]
					p = {b.get("defrag"): b for b in d["bench"] if b["name"] == "frag-probe"}
					if s:
					    print(f"    o9_units {s[0].get('o9_units')} -> {s[-1].get('o9_units')} "
					          f"(min {min(x.get('o9_units', 0) for x in s)}), extfrag {s[-1].get('extfrag')}, "
					          f"compact_stall {s[-1].get('compact_stall')}; probe share "
					          + ", ".join(f"{k} {v.get('share_pm')}/1000" for k, v in p.items()))
				EOF
			done
		done
	done
	save_run_params "$dir" "$start" "$ticks" "$every" "$budget" "$life"
fi

# report_meta counts RUNS boots of each kernel: one per seed and proactiveness.
RUNS=$(( ${#seeds[@]} * ${#pros[@]} ))
report_meta "$SMP vCPUs, $MEM"
out=${FRAG_OUT:-$TOP/results/frag-$BASE}
mkdir -p "$(dirname "$out")"
disc=${FRAG_DISCUSSION:-$TOP/results/$BASE/frag-discussion.md}
args=()
if [ "$disc" != none ]; then
	[ -f "$disc" ] && args+=(--discussion "$disc")
	[ -n "${FRAG_DISCUSSION:-}" ] && [ ! -f "$disc" ] && die "FRAG_DISCUSSION: no file $disc"
fi
/usr/bin/python3 "$TOP/scripts/frag-report.py" --out "$out" \
	--min-fall-pct "${FRAG_MIN_FALL_PCT:-20}" \
	--kernels "$(IFS=,; echo "${kernels[*]}")" \
	--meta "command=make frag BASE=$BASE (scripts/frag.sh $mode, FRAG_SEEDS=\"${seeds[*]}\" FRAG_PROACTIVENESS=\"${pros[*]}\" FRAG_TICKS=$ticks FRAG_SAMPLE=$every FRAG_BUDGET_PCT=$budget FRAG_MAX_LIFE=$life)" \
	--meta "mode=$desc" \
	--meta "boots=one per kernel, seed and proactiveness; for each proactiveness and seed the kernels one after the other (${kernels[*]})" \
	--meta "workload=scripts/guest-fraggen.c run: $ticks ticks, a sample every $every; 1-3 operations a tick drawn by weight from the seed alone: page tables of forked children (unmovable), pipe buffers (unmovable), small tmpfs files (slab, shmem pages), anonymous memory (movable), THP faults (MADV_HUGEPAGE, order 9, may compact), vmalloc() areas of 1-1024 pages held by lib/test_frag_vmalloc.ko; lifetimes 15% whole run (together at most half of the budget), 55% 1-20 ticks, 30% 20-$life ticks; objects that would exceed the budget evict the live ones that end first; a budget of $budget% of MemTotal; then the probe: huge page faults over the free memory with THP defrag never (no compaction), then always (direct compaction)" \
	--meta "guest=cma=0, THP enabled=madvise defrag=madvise during the workload, no swap, vm.compaction_proactiveness as the table says" \
	--meta "counts=/proc/buddyinfo (o9_units: free order-9 blocks + 2 x order-10), /proc/pagetypeinfo (pageblocks per migratetype), tracepoint kmem:mm_page_alloc_extfrag in two tracefs instances (extfrag: every fallback; steal: change_ownership=1), /proc/vmstat deltas since the workload started" \
	--meta "config=profile $PROFILE: kconfig/*.config, kconfig/$PROFILE/, bases/$BASE/kconfig/, with bases/$BASE/harness/probe-frag.patch" \
	"${meta[@]}" "${args[@]}" \
	"$dir"/*.log.json

#!/bin/bash
# Boot a built variant in QEMU with the guest init and a plan; the serial
# console goes to LOG. Never hangs: a guest still running after TIMEOUT
# seconds is killed and the run fails with the last console lines.
# Usage: scripts/boot.sh VARIANT PLAN LOG
# Environment: MEM (2G), SMP (2), ACCEL (auto|kvm|tcg), ICOUNT (0|1: TCG with
# -icount shift=0,sleep=off), TIMEOUT (900), KARGS (extra kernel args),
# KUNIT_FILTER (kunit.filter_glob), LOOPS (test_vmalloc loops for smoke),
# BENCH_ROWS (rows file for the bench plan), NUMA (the size of node 0, e.g.
# 1026M: a guest of two NUMA nodes, node 1 holding the rest of MEM, CPU 0
# in node 0 and the others in node 1; empty: one node).
. "$(dirname "$0")/common.sh"

[ $# -eq 3 ] || die "usage: $0 VARIANT PLAN LOG"
variant=$1 plan=$2 log=$3
MEM=${MEM:-2G} SMP=${SMP:-2} ACCEL=${ACCEL:-auto} ICOUNT=${ICOUNT:-0}
TIMEOUT=${TIMEOUT:-900} LOOPS=${LOOPS:-1000}
kernel=$OUT/$variant/bzImage
[ -f "$kernel" ] || die "variant $variant is not built (no $kernel)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found: install qemu-system-x86"

initrd=$(mktemp --suffix=.cpio.gz)
trap 'rm -f "$initrd"' EXIT
"$TOP/scripts/initramfs.sh" "$variant" "$initrd" ${BENCH_ROWS:+"$BENCH_ROWS"}

if [ "$ICOUNT" = 1 ]; then
	ACCEL=tcg
elif [ "$ACCEL" = auto ]; then
	ACCEL=$("$TOP/scripts/accel.sh" "$kernel")
fi
case "$ACCEL" in
kvm) accel=(-accel kvm -cpu host) ;;
tcg) accel=(-accel tcg -cpu max) ;;
*) die "ACCEL must be auto, kvm or tcg, not '$ACCEL'" ;;
esac
mode=$ACCEL
if [ "$ICOUNT" = 1 ]; then
	accel+=(-icount shift=0,sleep=off)
	mode="tcg, icount"
fi

append="console=ttyS0 panic=-1 oops=panic loglevel=7 harness.variant=$variant harness.plan=$plan harness.loops=$LOOPS"
[ -n "${KUNIT_FILTER:-}" ] && append+=" kunit.filter_glob=$KUNIT_FILTER"
[ -n "${KARGS:-}" ] && append+=" $KARGS"

# A size in MiB: N, NM or NG.
mib() {
	case "$1" in
	*[Gg]) echo $(( ${1%[Gg]} * 1024 )) ;;
	*[Mm]) echo "${1%[Mm]}" ;;
	*) echo "$1" ;;
	esac
}
numa=()
desc=$MEM
if [ -n "${NUMA:-}" ]; then
	[[ "$MEM" =~ ^[0-9]+[MmGg]?$ && "$NUMA" =~ ^[0-9]+[MmGg]?$ ]] ||
		die "NUMA=$NUMA and MEM=$MEM must be sizes such as 1026M or 2G"
	total=$(mib "$MEM") node0=$(mib "$NUMA")
	[ "$node0" -gt 0 ] && [ "$node0" -lt "$total" ] ||
		die "NUMA=$NUMA: node 0 must be smaller than MEM=$MEM"
	cpus0=,cpus=0 cpus1=
	[ "$SMP" -ge 2 ] && cpus1=,cpus=1-$((SMP - 1))
	numa=(-object "memory-backend-ram,id=node0,size=${node0}M"
	      -object "memory-backend-ram,id=node1,size=$((total - node0))M"
	      -numa "node,nodeid=0,memdev=node0$cpus0"
	      -numa "node,nodeid=1,memdev=node1$cpus1")
	desc="$MEM in nodes of ${node0}M and $((total - node0))M"
fi

mkdir -p "$(dirname "$log")"
note "booting $variant (plan $plan, $mode, ${SMP} CPUs, $desc) -> $log"
start=$(date +%s)
rc=0
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${accel[@]}" -m "$MEM" -smp "$SMP" "${numa[@]}" \
	-bios qboot.rom -display none -monitor none -no-reboot \
	-serial "file:$log" -kernel "$kernel" -initrd "$initrd" \
	-append "$append" </dev/null || rc=$?
secs=$(( $(date +%s) - start ))
if [ $rc = 124 ] || [ $rc = 137 ]; then
	echo "---- last console lines ($log) ----" >&2
	tail -n 25 "$log" >&2
	die "guest $variant (plan $plan) timed out after ${TIMEOUT}s and was killed"
elif [ $rc != 0 ]; then
	tail -n 25 "$log" >&2
	die "qemu exited with status $rc for $variant (plan $plan)"
fi
note "guest $variant (plan $plan) stopped after ${secs}s"

#!/bin/bash
# Boot a built variant in QEMU with the guest init and a plan; the serial
# console goes to LOG. Never hangs: a guest still running after TIMEOUT
# seconds is killed and the run fails with the last console lines.
# Usage: scripts/boot.sh VARIANT PLAN LOG
# Environment: MEM (2G), SMP (2), ACCEL (auto|kvm|tcg), ICOUNT (0|1: TCG with
# -icount shift=0,sleep=off), TIMEOUT (900), KARGS (extra kernel args),
# KUNIT_FILTER (kunit.filter_glob), LOOPS (test_vmalloc loops for smoke),
# BENCH_ROWS (rows file for the bench plan).
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

mkdir -p "$(dirname "$log")"
note "booting $variant (plan $plan, $mode, ${SMP} CPUs, $MEM) -> $log"
start=$(date +%s)
rc=0
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${accel[@]}" -m "$MEM" -smp "$SMP" \
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

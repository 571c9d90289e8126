#!/bin/sh
# Guest init of the harness (runs as PID 1 from the initramfs).
#
# Reads its plan from the kernel command line (harness.plan=NAME) and writes
# protocol markers into the kernel log, where scripts/check-log.py finds them:
#   harness: start variant=V plan=P
#   harness: vmalloc-row LABEL      (before each test_vmalloc.ko load)
#   harness: bench NAME key=value...
#   harness: error TEXT
#   harness: done
# KUnit suites are built in and have already run when this starts.

/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug

log() { echo "harness: $*" > /dev/kmsg; }

arg() {
	for w in $(cat /proc/cmdline); do
		case "$w" in "harness.$1="*) echo "${w#*=}"; return;; esac
	done
	echo "$2"
}

plan=$(arg plan smoke)
variant=$(arg variant unknown)
loops=$(arg loops 1000)
log "start variant=$variant plan=$plan"

# vmalloc_row LABEL PARAMS...: one test_vmalloc.ko load, announced by LABEL.
# The module fails its init on purpose (-EAGAIN) after the run, which
# guest-insmod takes as success (busybox insmod would load it twice).
vmalloc_row() {
	label=$1
	shift
	log "vmalloc-row $label"
	guest-insmod /modules/test_vmalloc.ko "$@" 2>/tmp/insmod.err ||
		log "error $(cat /tmp/insmod.err)"
}

# Every test case except align_shift_alloc_test (id 64), which fails by design.
SMOKE_MASK=$((0x7fffffff & ~64))
ncpu=$(grep -c ^processor /proc/cpuinfo)

case "$plan" in
smoke)
	vmalloc_row "smoke t:$ncpu l:$loops" run_test_mask=$SMOKE_MASK \
		test_loop_count="$loops" nr_threads="$ncpu"
	;;
bench)
	# /bench-rows: "LABEL|module parameters" per line, one load each.
	while IFS='|' read -r label params; do
		[ -n "$label" ] || continue
		# shellcheck disable=SC2086
		vmalloc_row "$label" $params
	done < /bench-rows
	;;
boot)
	;;
*)
	log "error unknown plan '$plan'"
	;;
esac

log "done"
poweroff -f

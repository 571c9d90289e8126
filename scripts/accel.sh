#!/bin/bash
# Print the QEMU accelerator to use: "kvm" only if a short probe boot of
# KERNEL under KVM reaches the kernel's root-mount panic, otherwise "tcg".
# The answer is cached in $BUILD/accel (delete it to probe again).
# Usage: scripts/accel.sh KERNEL
. "$(dirname "$0")/common.sh"

[ $# -eq 1 ] || die "usage: $0 KERNEL"
cache=$BUILD/accel
if [ -s "$cache" ]; then cat "$cache"; exit 0; fi
accel=tcg
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	probe=$(mktemp)
	(timeout -k 5 60 qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 1 \
		-display none -monitor none -no-reboot -serial "file:$probe" \
		-kernel "$1" -append "console=ttyS0 panic=-1") >/dev/null 2>&1 || true
	grep -q "VFS: Unable to mount root\|Kernel panic - not syncing: VFS" "$probe" && accel=kvm
	rm -f "$probe"
fi
echo "$accel" >"$cache"
echo "$accel"

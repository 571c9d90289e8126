#!/bin/bash
# Make the guest initramfs of a built variant: busybox, the guest init, the
# variant's modules, and optionally a bench-rows file for the bench plan.
# Uses the tree's gen_init_cpio, so no root is needed for device nodes.
# Usage: scripts/initramfs.sh VARIANT OUTPUT.cpio.gz [BENCH_ROWS_FILE]
. "$(dirname "$0")/common.sh"

[ $# -ge 2 ] || die "usage: $0 VARIANT OUTPUT.cpio.gz [BENCH_ROWS_FILE]"
variant=$1 output=$2 rows=${3:-}
dir=$OUT/$variant
[ -d "$dir/modules" ] || die "variant $variant is not built (no $dir): run make build VARIANT=$variant"
busybox=/bin/busybox   # busybox-static: statically linked
[ -x "$busybox" ] || die "$busybox not found: install busybox-static"
gen=$OBJ/usr/gen_init_cpio
[ -x "$gen" ] || make -s -C "$TREE" O="$OBJ" ARCH=x86_64 usr/gen_init_cpio
[ -x "$gen" ] || die "$gen could not be built"

# The guest's static helpers (guest-insmod: module loader; guest-fragment:
# memory fragmenter of the pressure plan), each rebuilt when its source changes.
for h in guest-insmod guest-fragment; do
	if [ ! -x "$BUILD/$h" ] || [ "$TOP/scripts/$h.c" -nt "$BUILD/$h" ]; then
		gcc -static -Os -Wall -o "$BUILD/$h" "$TOP/scripts/$h.c" ||
			die "cannot build $BUILD/$h (static libc missing? install libc6-dev)"
	fi
done

spec=$(mktemp)
trap 'rm -f "$spec"' EXIT
{
	echo "dir /dev 0755 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "nod /dev/kmsg 0644 0 0 c 1 11"
	echo "nod /dev/null 0666 0 0 c 1 3"
	for d in /bin /proc /sys /tmp /modules; do echo "dir $d 0755 0 0"; done
	echo "file /bin/busybox $busybox 0755 0 0"
	echo "slink /bin/sh busybox 0777 0 0"
	echo "file /init $TOP/scripts/guest-init.sh 0755 0 0"
	echo "file /bin/guest-insmod $BUILD/guest-insmod 0755 0 0"
	echo "file /bin/guest-fragment $BUILD/guest-fragment 0755 0 0"
	for m in "$dir"/modules/*.ko; do
		[ -e "$m" ] && echo "file /modules/$(basename "$m") $m 0644 0 0"
	done
	[ -n "$rows" ] && echo "file /bench-rows $rows 0644 0 0"
} >"$spec"
"$gen" "$spec" | gzip -1 >"$output"

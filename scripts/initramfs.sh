#!/bin/bash
# Make the guest initramfs of a built variant: busybox, the guest init, the
# variant's modules, the test cases of its test_vmalloc.ko (/vmalloc-ids),
# and optionally a bench-rows file for the bench plan.
# Uses the tree's gen_init_cpio, so no root is needed for device nodes.
# Usage: scripts/initramfs.sh VARIANT OUTPUT.cpio.gz [BENCH_ROWS_FILE]
. "$(dirname "$0")/common.sh"

[ $# -ge 2 ] || die "usage: $0 VARIANT OUTPUT.cpio.gz [BENCH_ROWS_FILE]"
variant=$1 output=$2 rows=${3:-}
dir=$OUT/$variant
[ -d "$dir/modules" ] || die "variant $variant is not built (no $dir): run make build VARIANT=$variant"

# /vmalloc-ids: the test cases of this variant's test_vmalloc.ko, "ID NAME"
# per line, from the description of its run_test_mask parameter ("id: 1,
# name: fix_size_alloc_test", one line per case; lib/test_vmalloc.c). The
# module prints one "Summary:" line per worker and selected case (a bit of
# run_test_mask that is one of these ids), so the guest init computes from
# them how many lines each row must print, and check-log.py counts them.
# No guessing: a module whose cases cannot be read stops the boot here.
ko=$dir/modules/test_vmalloc.ko
[ -f "$ko" ] || die "no $ko: variant $variant has no test_vmalloc module (CONFIG_TEST_VMALLOC=m)"
# kmod installs modinfo in /usr/sbin, which a user's PATH may not have.
modinfo=$(PATH=$PATH:/usr/sbin:/sbin command -v modinfo) || die "modinfo not found: install kmod"
parm=$("$modinfo" -F parm "$ko") || die "modinfo cannot read $ko"
# modinfo prints "NAME:DESCRIPTION (TYPE)" per parameter; the description
# lines after the first are indented, the next parameter's line is not.
cases=$(printf '%s\n' "$parm" | awk '
	/^run_test_mask:/ { mask = 1; next }
	/^[^[:space:]]/ { mask = 0 }
	mask && $1 == "id:" && $2 ~ /^[0-9]+,$/ && $3 == "name:" && NF == 4 {
		print substr($2, 1, length($2) - 1), $4
	}')
[ -n "$cases" ] || die "cannot read the test cases of $ko: no 'id: N, name: NAME' lines in the description of its run_test_mask parameter (modinfo -F parm)"
seen=0
while read -r id name; do
	# Each id is one bit of an int mask, and no two cases share one.
	case "$id" in 0*|*[!0-9]*) die "$ko: test case $name has id $id, not a power of two" ;; esac
	if [ ${#id} -gt 10 ] || [ "$id" -gt 1073741824 ] || [ $((id & (id - 1))) != 0 ]; then
		die "$ko: test case $name has id $id, not a power of two below 2^31"
	fi
	[ $((seen & id)) = 0 ] || die "$ko: two test cases have id $id"
	seen=$((seen | id))
done <<<"$cases"

busybox=/bin/busybox   # busybox-static: statically linked
[ -x "$busybox" ] || die "$busybox not found: install busybox-static"
gen=$OBJ/usr/gen_init_cpio
[ -x "$gen" ] || make -s -C "$TREE" O="$OBJ" ARCH=x86_64 usr/gen_init_cpio
[ -x "$gen" ] || die "$gen could not be built"

# The guest's static helpers (guest-insmod: module loader; guest-fragment:
# memory fragmenter of the pressure plan; guest-latency: wake-up delay probe
# of the latency plan; guest-fraggen: workload and probe of the frag plan),
# each rebuilt when its source changes.
for h in guest-insmod guest-fragment guest-latency guest-fraggen; do
	if [ ! -x "$BUILD/$h" ] || [ "$TOP/scripts/$h.c" -nt "$BUILD/$h" ]; then
		gcc -static -Os -Wall -o "$BUILD/$h" "$TOP/scripts/$h.c" ||
			die "cannot build $BUILD/$h (static libc missing? install libc6-dev)"
	fi
done

spec=$(mktemp)
ids=$(mktemp)
trap 'rm -f "$spec" "$ids"' EXIT
printf '%s\n' "$cases" >"$ids"
{
	echo "dir /dev 0755 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "nod /dev/kmsg 0644 0 0 c 1 11"
	echo "nod /dev/null 0666 0 0 c 1 3"
	for d in /bin /proc /sys /tmp /modules; do echo "dir $d 0755 0 0"; done
	echo "file /bin/busybox $busybox 0755 0 0"
	echo "slink /bin/sh busybox 0777 0 0"
	echo "file /init $TOP/scripts/guest-init.sh 0755 0 0"
	echo "file /vmalloc-ids $ids 0644 0 0"
	echo "file /bin/guest-insmod $BUILD/guest-insmod 0755 0 0"
	echo "file /bin/guest-fragment $BUILD/guest-fragment 0755 0 0"
	echo "file /bin/guest-latency $BUILD/guest-latency 0755 0 0"
	echo "file /bin/guest-fraggen $BUILD/guest-fraggen 0755 0 0"
	for m in "$dir"/modules/*.ko; do
		[ -e "$m" ] && echo "file /modules/$(basename "$m") $m 0644 0 0"
	done
	[ -n "$rows" ] && echo "file /bench-rows $rows 0644 0 0"
} >"$spec"
"$gen" "$spec" | gzip -1 >"$output"

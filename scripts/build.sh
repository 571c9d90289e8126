#!/bin/bash
# Build the checked-out work tree ($TREE) into $OBJ incrementally and keep
# the result as variant VARIANT: $OUT/VARIANT/{bzImage,modules/*.ko,info}.
# The config is allnoconfig plus the kconfig/*.config fragments (and any
# extra fragments named in KCONFIG_EXTRA).
# Usage: scripts/build.sh VARIANT
. "$(dirname "$0")/common.sh"

[ $# -eq 1 ] || die "usage: $0 VARIANT"
variant=$1
mkdir -p "$OBJ" "$BUILD/logs"
log=$BUILD/logs/build-$variant.log
export KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 2026" KBUILD_BUILD_USER=harness KBUILD_BUILD_HOST=qemu
export CCACHE_DIR=${CCACHE_DIR:-$BUILD/ccache} CCACHE_BASEDIR=$BUILD CCACHE_MAXSIZE=5G
CC="gcc"
command -v ccache >/dev/null && CC="ccache gcc"
kmake() { make -C "$TREE" O="$OBJ" ARCH=x86_64 CC="$CC" -j"$(nproc)" "$@"; }

# shellcheck disable=SC2206
fragments=("$TOP"/kconfig/*.config ${KCONFIG_EXTRA:-})
{
	kmake -s allnoconfig &&
	"$TREE/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" "${fragments[@]}" &&
	kmake -s olddefconfig
} >"$log" 2>&1 || { tail -20 "$log" >&2; die "kernel configuration failed (log: $log)"; }

# Every option of the fragments must have survived olddefconfig, except
# options that this variant's tree does not have (e.g. a test of the series).
# A later fragment overrides an earlier one, "# CONFIG_X is not set" included.
declare -A want from
for f in "${fragments[@]}"; do
	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)= ]]; then
			want[${BASH_REMATCH[1]}]=$line
		elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set ]]; then
			want[${BASH_REMATCH[1]}]=unset
		else
			continue
		fi
		from[${BASH_REMATCH[1]}]=$f
	done <"$f"
done
bad=0
for sym in "${!want[@]}"; do
	line=${want[$sym]}
	if [ "$line" = unset ]; then
		grep -qE "^$sym=[ym]\$" "$OBJ/.config" || continue
		line="# $sym is not set"
	else
		grep -qx -- "$line" "$OBJ/.config" && continue
	fi
	grep -rqE "^(menu)?config ${sym#CONFIG_}\$" --include='Kconfig*' "$TREE" || continue
	echo "error: ${from[$sym]}: $line did not survive olddefconfig (dependency missing?)" >&2
	bad=1
done
[ $bad = 0 ] || die "kernel configuration for $variant is not what kconfig/ asks"

note "building $variant ($(git -C "$TREE" rev-list --count base..HEAD) patches on base) [log: $log]"
start=$(date +%s)
if ! kmake bzImage modules >>"$log" 2>&1; then
	echo "---- compiler/linker errors ----" >&2
	grep -E -A3 ': (fatal )?error: |undefined reference|^ERROR: |Error [0-9]+' "$log" | head -40 >&2
	die "build of variant $variant failed (full log: $log)"
fi
# Warnings in files touched by the variant's patches count as errors.
touched=$(git -C "$TREE" diff --name-only base HEAD -- '*.c' '*.h' | tr '\n' '|')
if [ -n "$touched" ] && grep -E ": warning: " "$log" | grep -E "(${touched%|})" >&2; then
	die "build of variant $variant has compiler warnings in patched files"
fi

dest=$OUT/$variant
rm -rf "$dest"
mkdir -p "$dest/modules"
cp "$OBJ/arch/x86/boot/bzImage" "$dest/"
find "$OBJ" -name '*.ko' -exec cp {} "$dest/modules/" \;
cp "$OBJ/.config" "$dest/config"
{
	echo "variant: $variant"
	echo "base: $BASE_PKG $(cat "$BUILD/base-version" 2>/dev/null || echo unknown)"
	echo "kernel: $(cat "$OBJ/include/config/kernel.release")"
	echo "patches:"
	git -C "$TREE" log --reverse --format='  %h %s' base..HEAD
} >"$dest/info"
note "built $variant in $(( $(date +%s) - start ))s: $dest"

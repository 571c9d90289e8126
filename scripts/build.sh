#!/bin/bash
# Build the checked-out work tree ($TREE) into $OBJ incrementally and keep
# the result as variant VARIANT: $OUT/VARIANT/{bzImage,modules/*.ko,info}
# (the modules of $OBJ/modules.order only).
# The config is allnoconfig plus the kconfig/*.config fragments, those of
# the profile (kconfig/$PROFILE/*.config: test or bench; nothp: bench's and
# its own), the base's
# bases/$BASE/kconfig/*.config and any extra fragments in KCONFIG_EXTRA.
# Usage: scripts/build.sh VARIANT
. "$(dirname "$0")/common.sh"

[ $# -eq 1 ] || die "usage: $0 VARIANT"
variant=$1
mkdir -p "$OBJ" "$LOGS"
log=$LOGS/build-$variant.log
export KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 2026" KBUILD_BUILD_USER=harness KBUILD_BUILD_HOST=qemu
export CCACHE_DIR=${CCACHE_DIR:-$BUILD/ccache} CCACHE_BASEDIR=$BUILD CCACHE_MAXSIZE=5G
CC="gcc"
command -v ccache >/dev/null && CC="ccache gcc"
kmake() { make -C "$TREE" O="$OBJ" ARCH=x86_64 CC="$CC" -j"$(nproc)" "$@"; }

# The shared fragments, the profile's, then the base's delta
# (bases/$BASE/kconfig/), then KCONFIG_EXTRA.
shopt -s nullglob
fragments=("$TOP"/kconfig/*.config)
for d in $PROFILE_DIRS; do
	fragments+=("$TOP/kconfig/$d"/*.config)
done
# shellcheck disable=SC2206
fragments+=("$BASEDIR"/kconfig/*.config ${KCONFIG_EXTRA:-})
shopt -u nullglob
{
	kmake -s allnoconfig &&
	"$TREE/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" "${fragments[@]}" &&
	kmake -s olddefconfig
} >"$log" 2>&1 || { tail -20 "$log" >&2; die "kernel configuration failed (log: $log)"; }

# Every option of the fragments must be declared by a Kconfig file of the
# tree and have survived olddefconfig. The one exception: an option that a
# patch of the series declares ("+config NAME"), which the variants with
# only a part of the series (base, hiorder, prefix-N) lack. A later fragment
# overrides an earlier one, "# CONFIG_X is not set" included.
declare -A want from declared
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
while read -r _ name; do
	declared[$name]=1
done < <(grep -rhoE '^(menu)?config[[:space:]]+[A-Za-z0-9_]+' --include='Kconfig*' "$TREE" || true)
# Whether a patch of the series declares option $1 (without CONFIG_).
series_declares() {
	local p
	[ -f "$PATCHES/series" ] || return 1
	while read -r p; do
		case $p in '#'*|'') continue ;; esac
		grep -qE "^\+(menu)?config[[:space:]]+$1[[:space:]]*\$" "$PATCHES/$p" 2>/dev/null && return 0
	done <"$PATCHES/series"
	return 1
}
bad=0
for sym in "${!want[@]}"; do
	line=${want[$sym]}
	[ "$line" = unset ] && line="# $sym is not set"
	if [ -z "${declared[${sym#CONFIG_}]:-}" ]; then
		series_declares "${sym#CONFIG_}" && continue
		echo "error: ${from[$sym]}: $line: no Kconfig file of $TREE and no patch of $PATCHES/series declares ${sym#CONFIG_} (misspelt or renamed?)" >&2
		bad=1
		continue
	fi
	if [ "${want[$sym]}" = unset ]; then
		grep -qE "^$sym=[ym]\$" "$OBJ/.config" || continue
	else
		grep -qx -- "$line" "$OBJ/.config" && continue
	fi
	echo "error: ${from[$sym]}: $line did not survive olddefconfig (dependency missing?)" >&2
	bad=1
done
[ $bad = 0 ] || die "kernel configuration for $variant is not what kconfig/ asks"

# The files the variant's patches touch: a compiler warning in one of them is
# an error. So that a warning fails every build, not only the one that
# compiled the file, their objects are always recompiled (ccache replays the
# warnings cheaply), and a header whose warning failed a build is touched so
# that its includers are recompiled by the next one.
mapfile -t touched < <(git -C "$TREE" diff --name-only --diff-filter=d base HEAD -- '*.c' '*.h')
for f in "${touched[@]}"; do
	if [[ $f == *.c ]]; then rm -f "$OBJ/${f%.c}.o"; fi
done

note "building $variant ($(git -C "$TREE" rev-list --count base..HEAD) patches on base) [log: $log]"
start=$(date +%s)
if ! kmake bzImage modules >>"$log" 2>&1; then
	echo "---- compiler/linker errors ----" >&2
	grep -E -A3 ': (fatal )?error: |undefined reference|^ERROR: |Error [0-9]+' "$log" | head -40 >&2
	die "build of variant $variant failed (full log: $log)"
fi
# Warnings in files touched by the variant's patches count as errors.
# objtool names the object ("mm/page_alloc.o: warning: objtool: ...").
objects=()
for f in "${touched[@]}"; do
	if [[ $f == *.c ]]; then objects+=("${f%.c}.o:"); fi
done
if [ ${#touched[@]} -gt 0 ] &&
   warned=$(grep -E ": warning: " "$log" | grep -F "${touched[@]/#/-e}" "${objects[@]/#/-e}"); then
	echo "$warned" >&2
	for f in "${touched[@]}"; do
		if [[ $f == *.h ]] && grep -qF -- "$f" <<<"$warned"; then
			touch "$TREE/$f"    # its includers are recompiled next time
			note "touched $f: the next build recompiles its includers and sees the warning again"
		fi
	done
	die "build of variant $variant has compiler warnings in patched files"
fi

# The modules of this build: those kbuild lists in modules.order (the object
# directory may hold stale modules of other variants).
order=$OBJ/modules.order
[ -f "$order" ] || die "no $order after the build of $variant"
modules=()
while IFS= read -r m; do
	[ -n "$m" ] || continue
	ko=$OBJ/${m%.o}
	ko=${ko%.ko}.ko
	[ -f "$ko" ] || die "module $m of $order was not built (no $ko)"
	modules+=("$ko")
done <"$order"

dest=$OUT/$variant
rm -rf "$dest"
mkdir -p "$dest/modules"
cp "$OBJ/arch/x86/boot/bzImage" "$dest/"
[ ${#modules[@]} -eq 0 ] || cp "${modules[@]}" "$dest/modules/"
cp "$OBJ/.config" "$dest/config"
{
	echo "variant: $variant"
	echo "profile: $PROFILE (kconfig/{${PROFILE_DIRS// /,}}/)"
	echo "base: $BASE_PKG $(cat "$BUILDB/base-version" 2>/dev/null || echo unknown)"
	echo "kernel: $(cat "$OBJ/include/config/kernel.release")"
	echo "patches:"
	git -C "$TREE" log --reverse --format='  %h %s' base..HEAD
} >"$dest/info"
note "built $variant in $(( $(date +%s) - start ))s: $dest"

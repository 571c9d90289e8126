#!/bin/bash
# Install the Debian packages the harness needs (idempotent).
# Usage: scripts/deps.sh [extra-package...]
. "$(dirname "$0")/common.sh"

PKGS=(build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils
      kmod git perl python3 ccache qemu-system-x86 busybox-static codespell)
PKGS+=("$@")

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done

# The base kernel source: the pinned version while the registry serves it.
have_base=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null || true)
[ -n "$have_base" ] && [ -f "$BASE_TARBALL" ] || missing+=("$BASE_PKG")

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	die "missing packages: ${missing[*]}
       run as root (apt-get install) or install them: apt-get install ${missing[*]}"
fi

export DEBIAN_FRONTEND=noninteractive
note "installing: ${missing[*]}"
mkdir -p "$BUILD"
apt-get update -q >/dev/null || die "apt-get update failed"

pkgs=()
for p in "${missing[@]}"; do
	if [ "$p" = "$BASE_PKG" ]; then
		if apt-cache madison "$BASE_PKG" | grep -qF "| $BASE_DEB_VERSION |"; then
			p="$BASE_PKG=$BASE_DEB_VERSION"
		else
			echo "WARNING: $BASE_PKG $BASE_DEB_VERSION is no longer served;" \
			     "installing the newest $BASE_PKG instead." >&2
		fi
	fi
	pkgs+=("$p")
done
apt-get install -y -q --no-install-recommends "${pkgs[@]}" >"$BUILD/apt.log" 2>&1 || {
	tail -20 "$BUILD/apt.log" >&2
	die "apt-get install failed (log: $BUILD/apt.log)"
}

#!/bin/bash
# Install every Debian package the harness uses, for every target and test,
# and the pinned source of base BASE if it is a package of the host's own
# apt sources (BASE_FETCH=install; a base fetched by download is
# scripts/fetch-deb.sh's). Idempotent: with everything in place it runs no
# apt command and prints nothing.
# Usage: scripts/deps.sh [extra-package...]
# Without root it installs nothing: it names what is missing and stops.
# Environment: APT_LOCK_TIMEOUT (600): seconds to wait for another apt/dpkg
# to release its lock.
. "$(dirname "$0")/common.sh"

# The one list (who uses what):
PKGS=(
	make              # every target; the kernel build
	build-essential   # gcc: build.sh, initramfs.sh (guest helpers), kunit.sh
	libc6-dev         # static libc for gcc -static (initramfs.sh: guest-insmod, guest-fragment)
	bc bison flex     # the kernel build (timeconst, kconfig parsers, genksyms)
	libelf-dev        # the kernel build: objtool (x86_64)
	libssl-dev        # the kernel build: host tools that link libcrypto (certs, sign-file)
	cpio kmod         # the kernel build's minimal requirements (Documentation/process/changes.rst)
	xz-utils          # fetch-base.sh: tar -xf of the .tar.xz base
	git               # fetch-base.sh, apply.sh, build.sh, export.sh, tests
	perl              # the kernel build; checkpatch.pl, get_maintainer.pl (checkpatch.sh, export.sh)
	python3           # tests/run, check-log.py, kunit.py (kunit.sh, check-log.py parse)
	python3-scipy python3-matplotlib   # bench-report.py (make bench; tests/test_bench_report.py)
	ccache            # build.sh (used when present)
	qemu-system-x86   # boot.sh, accel.sh, kunit.sh: qemu-system-x86_64
	qemu-system-data  # boot.sh: -bios qboot.rom and the -kernel option ROM (/usr/share/qemu)
	busybox-static    # initramfs.sh: /bin/busybox, the guest's userland
	codespell         # checkpatch.sh: checkpatch.pl --codespell dictionary
	debian-archive-keyring   # fetch-deb.sh: checks the index of a base's suite (BASE_FETCH=download)
)
PKGS+=("$@")
LOCK_TIMEOUT=${APT_LOCK_TIMEOUT:-600}
case "$LOCK_TIMEOUT" in ''|*[!0-9]*) die "APT_LOCK_TIMEOUT must be a number of seconds" ;; esac
APT_GET=(apt-get -o "DPkg::Lock::Timeout=$LOCK_TIMEOUT")

warn() { echo "WARNING: $*" >&2; }

# have[PACKAGE]: the installed version of each installed PACKAGE of "$@"
# (one dpkg-query for them all).
declare -A have=()
query_installed() {
	local pkg bpkg status ver
	while read -r pkg bpkg _ _ status ver; do
		[ "$status" = installed ] || continue
		have[$pkg]=$ver have[$bpkg]=$ver
	done < <(dpkg-query -W -f='${Package} ${binary:Package} ${Status} ${Version}\n' "$@" 2>/dev/null || true)
}

# Whether the apt lists serve the pinned base. The whole output is read
# first: with `apt-cache madison | grep -q` and pipefail, grep's early exit
# can kill apt-cache with SIGPIPE and fail the pipeline.
pin_served() {
	local out
	out=$(apt-cache madison "$BASE_PKG" 2>/dev/null) || true
	grep -qF -- "| $BASE_DEB_VERSION |" <<<"$out"
}

# A base fetched by download (fetch-deb.sh) is no package of the host.
[ "$BASE_FETCH" = install ] || BASE_PKG=
query_installed "${PKGS[@]}" ${BASE_PKG:+"$BASE_PKG"}
missing=()
for p in "${PKGS[@]}"; do
	[ -n "${have[$p]:-}" ] || missing+=("$p")
done

# The base kernel source: the pinned version, installed with its tarball.
have_base=
[ -z "$BASE_PKG" ] || have_base=${have[$BASE_PKG]:-}
base_ok=0
[ "$have_base" = "$BASE_DEB_VERSION" ] && [ -f "$BASE_TARBALL" ] && base_ok=1
[ -n "$BASE_PKG" ] || base_ok=1
# A base other than the pin is kept only if the pin is not served.
keep_other_base() {
	[ -n "$have_base" ] && [ -f "$BASE_TARBALL" ] || return 1
	warn "$BASE_PKG $BASE_DEB_VERSION (the pin) is not served by the apt sources;" \
	     "using the installed $have_base"
}

[ ${#missing[@]} -eq 0 ] && [ $base_ok = 1 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	flags=()
	if [ $base_ok = 0 ]; then
		if pin_served; then
			missing+=("$BASE_PKG=$BASE_DEB_VERSION")
			if [ "$have_base" = "$BASE_DEB_VERSION" ]; then
				flags+=(--reinstall)      # installed, but the tarball is gone
			elif [ -n "$have_base" ]; then
				flags+=(--allow-downgrades)
				echo "error: $BASE_PKG $have_base is installed, the pin is $BASE_DEB_VERSION" >&2
			fi
		elif ! keep_other_base; then
			missing+=("$BASE_PKG")
			[ -n "$have_base" ] && flags+=(--reinstall)
		fi
	fi
	[ ${#missing[@]} -eq 0 ] && exit 0
	die "missing packages: ${missing[*]}
       run as root (apt-get install) or install them: apt-get install ${flags[*]:+${flags[*]} }${missing[*]}"
fi

export DEBIAN_FRONTEND=noninteractive
mkdir -p "$BUILD"
log=$BUILD/apt.log
: >"$log"

# apt-get update, waiting up to LOCK_TIMEOUT seconds for a lock held by
# another apt (DPkg::Lock::Timeout covers the dpkg lock, not the lists lock).
apt_update() {
	local start=$SECONDS waiting=0
	while ! "${APT_GET[@]}" update -q >>"$log" 2>&1; do
		if grep -q 'Could not get lock' "$log" && [ $((SECONDS - start)) -lt "$LOCK_TIMEOUT" ]; then
			[ $waiting = 1 ] || note "another apt holds the lock; waiting (up to ${LOCK_TIMEOUT}s)"
			waiting=1
			: >"$log"
			sleep 2
			continue
		fi
		tail -20 "$log" >&2
		die "apt-get update failed (log: $log)"
	done
}
apt_update

flags=()
if [ $base_ok = 0 ]; then
	if pin_served; then
		if [ "$have_base" = "$BASE_DEB_VERSION" ]; then
			flags+=(--reinstall)          # installed, but the tarball is gone
		elif [ -n "$have_base" ]; then
			note "replacing $BASE_PKG $have_base with the pinned $BASE_DEB_VERSION"
		fi
		flags+=(--allow-downgrades)
		missing+=("$BASE_PKG=$BASE_DEB_VERSION")
	elif ! keep_other_base; then
		warn "$BASE_PKG $BASE_DEB_VERSION (the pin) is not served by the apt sources;" \
		     "installing the newest $BASE_PKG instead"
		[ -n "$have_base" ] && flags+=(--reinstall)
		missing+=("$BASE_PKG")
	fi
fi
[ ${#missing[@]} -eq 0 ] && exit 0

note "installing: ${missing[*]}"
"${APT_GET[@]}" install -y -q --no-install-recommends "${flags[@]}" "${missing[@]}" >>"$log" 2>&1 || {
	tail -20 "$log" >&2
	die "apt-get install failed (log: $log)"
}
[ -n "$BASE_PKG" ] || exit 0
[ -f "$BASE_TARBALL" ] || die "$BASE_PKG is installed but $BASE_TARBALL is missing"
have=()
query_installed "$BASE_PKG"
have_base=${have[$BASE_PKG]:-}
[ "$have_base" = "$BASE_DEB_VERSION" ] ||
	warn "the base is $BASE_PKG $have_base, not the pinned $BASE_DEB_VERSION"

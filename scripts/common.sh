# Shared settings of the harness scripts (sourced, not run).
# shellcheck shell=bash
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
TREE=$BUILD/linux          # kernel work tree: git repo of the base
OBJ=$(realpath -m "${OBJ:-$BUILD/obj}")   # object directory, rebuilt incrementally
OUT=$BUILD/out             # per-variant kernels: $OUT/<variant>/{bzImage,modules/}
PATCHES=$TOP/patches

# The base: Debian's linux-source-6.12 at this version (pinned; see deps.sh).
BASE_PKG=linux-source-6.12
BASE_DEB_VERSION=6.12.117-1~deb12u1
BASE_TARBALL=/usr/src/linux-source-6.12.tar.xz

die() { echo "error: $*" >&2; exit 1; }
note() { echo "==> $*" >&2; }

# Tag of the base commit in the work tree; git refs cannot contain '~'.
base_tag() { echo "debian-$(echo "$1" | tr '~' '_')"; }

# Boot settings of the 'pressure' plan, added to the kernel arguments $1: a
# small guest (PRESSURE_MEM) with no CMA area and no KUnit, so that its memory
# is for the test and high-order allocations have to fail and fall back.
pressure_mem() { echo "${PRESSURE_MEM:-384M}"; }
pressure_kargs() { echo "${1:+$1 }cma=0 kunit.enable=0"; }

# The series' KUnit suite and the file of the series that adds it. A run is
# expected to show the suite iff the variant's patches create that file (see
# patches_add_kunit_suite), not iff a config symbol happens to be set.
KUNIT_SUITE=page_alloc_batch
KUNIT_FILE=mm/tests/page_alloc_kunit.c

# read_series: set SERIES to the patch names of patches/series, in order
# (comments and blank lines skipped). A missing series, or one that lists no
# patch, is an error: the base alone must never pass as the series.
read_series() {
	local file=$PATCHES/series
	[ -f "$file" ] || die "$file not found: no series (make export writes it)"
	mapfile -t SERIES < <(grep -v -e '^#' -e '^[[:space:]]*$' "$file" || true)
	[ ${#SERIES[@]} -gt 0 ] || die "$file lists no patch"
}

# patches_add_kunit_suite PATCH...: true iff one of the patch files creates
# $KUNIT_FILE ("+++ b/$KUNIT_FILE" right after "--- /dev/null").
patches_add_kunit_suite() {
	local p
	for p; do
		[ -f "$p" ] || die "patch not found: $p"
		awk -v new="+++ b/$KUNIT_FILE" '
			$0 == new && prev == "--- /dev/null" { found = 1 }
			{ prev = $0 }
			END { exit !found }' "$p" && return 0
	done
	return 1
}

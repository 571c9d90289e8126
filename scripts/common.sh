# Shared settings of the harness scripts (sourced, not run).
# shellcheck shell=bash
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The base kernel (bases/$BASE/): what differs per base is its base.conf
# (package, pinned version, KUnit suite, variants), its patches/ (the series,
# with series file and cover letter), harness/ (harness-only patches),
# mutations/ (mutants) and kconfig/ (a config delta). Everything built is
# keyed by base: build/$BASE/{linux,obj,out,logs}.
BASE=${BASE:-7.3}
BASEDIR=$TOP/bases/$BASE
if [ ! -f "$BASEDIR/base.conf" ]; then
	echo "error: no base '$BASE' (no $BASEDIR/base.conf; known: $(cd "$TOP/bases" 2>/dev/null && ls -d -- */ | tr -d / | tr '\n' ' '))" >&2
	exit 1
fi
# shellcheck source=/dev/null
. "$BASEDIR/base.conf"
BUILD=${BUILD:-$TOP/build}
BUILDB=$BUILD/$BASE        # this base's build directory
TREE=$BUILDB/linux         # kernel work tree: git repo of the base
# The config profile (kconfig/$PROFILE/): "test" kernels carry the debug
# options of the checks (DEBUG_VM, ...); "bench" kernels are production-like,
# nothing that changes the free path. Each profile has its own object and
# output directories, so that switching costs no rebuild.
# "nothp" is bench without transparent huge pages (kconfig/bench/ and
# kconfig/nothp/). PROFILE_DIRS: the profile's fragment directories.
PROFILE=${PROFILE:-test}
case "$PROFILE" in
test) sfx= PROFILE_DIRS="test" ;;
bench) sfx=-bench PROFILE_DIRS="bench" ;;
nothp) sfx=-nothp PROFILE_DIRS="bench nothp" ;;
*) echo "error: PROFILE must be test, bench or nothp, not '$PROFILE'" >&2; exit 1 ;;
esac
OBJ=$(realpath -m "${OBJ:-$BUILDB/obj$sfx}")   # object directory, rebuilt incrementally
OUT=$BUILDB/out$sfx        # per-variant kernels: $OUT/<variant>/{bzImage,modules/}
unset sfx
LOGS=$BUILDB/logs          # console logs, build logs, JSON results
PATCHES=$BASEDIR/patches   # the series: git format-patch files, series, cover letter
HARNESS_PATCHES=$BASEDIR/harness   # harness-only patches (never in the series)
MUTATIONS=$BASEDIR/mutations       # mutants: deliberately broken changes
CANDIDATES=$BASEDIR/candidates     # patches under measurement, not yet in the series
COVER=$BASEDIR/cover-letter.txt    # the cover letter's text (make export)
BASE_TARBALL=/usr/src/$BASE_PKG.tar.xz
[ "$BASE_FETCH" = install ] || BASE_TARBALL=$BUILDB/deb/usr/src/$BASE_PKG.tar.xz

die() { echo "error: $*" >&2; exit 1; }
note() { echo "==> $*" >&2; }

# Tag of the base commit in the work tree; git refs cannot contain '~'.
base_tag() { echo "debian-$(echo "$1" | tr '~' '_')"; }

# Boot settings of the 'pressure' plan, added to the kernel arguments $1: a
# small guest (PRESSURE_MEM) with no CMA area and no KUnit, so that its memory
# is for the test and high-order allocations have to fail and fall back.
pressure_mem() { echo "${PRESSURE_MEM:-384M}"; }
pressure_kargs() { echo "${1:+$1 }cma=0 kunit.enable=0"; }

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

# timing_mode MODE (tcg | icount), for the timed runs of bench.sh and
# floor.sh: set mode, ICOUNT (and ACCEL=tcg) for boot.sh, desc (how the
# mode measures, for the reports) and RUNS (default: icount 10, tcg 5).
timing_mode() {
	mode=$1
	case "$mode" in
	tcg) export ICOUNT=0 ACCEL=tcg
	     RUNS=${RUNS:-5}
	     desc="TCG, wall clock inside the guest (ktime): compare kernels only as ratios" ;;
	icount) export ICOUNT=1
	     RUNS=${RUNS:-10}
	     desc="TCG with -icount shift=0,sleep=off: virtual time = guest instructions executed; no cache, TLB or lock-contention costs" ;;
	*) die "MODE must be tcg or icount, not '$mode'" ;;
	esac
	case "$RUNS" in ''|*[!0-9]*|0) die "RUNS must be a positive integer, not '$RUNS'" ;; esac
}

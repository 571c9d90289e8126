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

# variant_test_vmalloc V SRC TARGET [NOTE]: write lib/test_vmalloc.c of
# branch variant/V of the work tree (scripts/apply.sh makes it) to SRC; a
# variant without it is an error: make TARGET applies and builds every
# variant (NOTE, if given, follows the tree in the message, in parentheses).
variant_test_vmalloc() {
	git -C "$TREE" show "variant/$1:lib/test_vmalloc.c" >"$2" 2>/dev/null ||
		die "no lib/test_vmalloc.c on branch variant/$1 of $TREE${4:+ ($4)}: make $3 applies and builds every variant"
}

# variant_rows DIR TARGET WHAT WHY MAKE_ROWS...: the test_vmalloc rows of
# the kernels of the array variants, for the studies: each variant's
# lib/test_vmalloc.c in DIR/test_vmalloc-V.c (variant_test_vmalloc, with
# TARGET), its rows from MAKE_ROWS... DIR/test_vmalloc-V.c in DIR/rows-V.txt.
# Every variant must give rows (else "no WHAT row for variant V (WHY)", WHY
# empty for "from" its source) and the same rows; DIR/rows.txt is a copy.
variant_rows() {
	local dir=$1 target=$2 what=$3 why=$4 v src
	shift 4
	for v in "${variants[@]}"; do
		src=$dir/test_vmalloc-$v.c
		variant_test_vmalloc "$v" "$src" "$target"
		"$@" "$src" >"$dir/rows-$v.txt" || die "cannot make the rows of variant $v (from $src)"
		[ -s "$dir/rows-$v.txt" ] || die "no $what row for variant $v (${why:-from $src})"
		cmp -s "$dir/rows-${variants[0]}.txt" "$dir/rows-$v.txt" ||
			die "variants ${variants[0]} and $v have different test_vmalloc rows: they would not run the same workload"
	done
	cp "$dir/rows-${variants[0]}.txt" "$dir/rows.txt"
}

# check_boot_log STUDY V R LOG [OPTION...]: check the console log LOG of run
# R of variant V with scripts/check-log.py OPTION... (its output in
# LOG.check); a log that fails is an error of the study STUDY, with that
# output shown.
check_boot_log() {
	local study=$1 v=$2 r=$3 log=$4
	shift 4
	"$TOP/scripts/check-log.py" "$@" "$log" >"$log.check" 2>&1 ||
		{ cat "$log.check" >&2; die "$study boot $v run $r: its console log fails the checks (log: $log)"; }
}

# interleaved_boots STUDY DIR ROWS: boot the kernels of the array variants
# interleaved (a b a b ...), RUNS times each, in the guest plan STUDY with
# the rows file ROWS; console logs DIR/V-R.log, each checked by
# check_boot_log with --expect-vmalloc (its results in DIR/V-R.log.json).
interleaved_boots() {
	local study=$1 dir=$2 rows=$3 r v log
	for r in $(seq 1 "$RUNS"); do
		for v in "${variants[@]}"; do
			log=$dir/$v-$r.log
			BENCH_ROWS=$rows "$TOP/scripts/boot.sh" "$v" "$study" "$log" ||
				die "$study boot $v run $r failed (log: $log)"
			check_boot_log "$study" "$v" "$r" "$log" --expect-vmalloc --json "$log.json"
		done
	done
}

# save_run_params DIR START VALUE...: at the end of a study's run begun at
# START (date +%s), set secs to its duration and keep it in DIR/seconds, and
# the run's parameters VALUE... in DIR/params (for load_run_params).
save_run_params() {
	local dir=$1 start=$2
	shift 2
	secs=$(( $(date +%s) - start ))
	echo "$secs" >"$dir/seconds"
	echo "$*" >"$dir/params"
}

# load_run_params DIR NAME...: for REPORT_ONLY=1, set secs and the variables
# NAME... back to what save_run_params kept in DIR.
load_run_params() {
	local dir=$1
	shift
	secs=$(cat "$dir/seconds")
	read -r "$@" <"$dir/params"
}

# report_meta GUEST: set meta to the --meta arguments that end every study
# report: guest (GUEST, then qemu's version and the host's cores), base,
# kernels (each of the array variants with the kernel: line of its
# $OUT/V/info), patches (the project commit of bases/$BASE/), duration (secs,
# RUNS boots of each variant) and date.
report_meta() {
	local v klist=
	for v in "${variants[@]}"; do
		klist+="${klist:+; }$v: $(sed -n 's/^kernel: //p' "$OUT/$v/info")"
	done
	# A failing command (no qemu, no base-version) leaves its part empty
	# instead of stopping the script.
	meta=(--meta "guest=$1, qemu $(qemu-system-x86_64 --version | head -1 | sed 's/.*version //'), host $(nproc) cores"
		--meta "base=$BASE_PKG $(cat "$BUILDB/base-version")"
		--meta "kernels=$klist"
		--meta "patches=$(git -C "$TOP" log -1 --format='%h %cs' -- "$BASEDIR") (bases/$BASE/ at that project commit)"
		--meta "duration=${secs}s for $((RUNS * ${#variants[@]})) boots"
		--meta "date=$(date -u +%Y-%m-%d)") || true
}

"""Tests of the harness scripts' failure paths (scripts/*.sh), with fakes.

Nothing here builds a kernel or boots QEMU, and nothing touches the real
build/ directory.  Each test class makes a throw-away copy of the project in a
temporary directory T:

    T/scripts/        copy of the repo's scripts/ (so TOP=T)
    T/kconfig/        copy of the repo's kconfig/
    T/bases/6.12/     copy of the repo's base.conf of base 6.12 (BASE=6.12 is
                      passed in the environment), so PATCHES=T/bases/6.12/patches
    T/bases/6.12/patches/series  written by the tests
    T/build/          BUILD (passed in the environment); T/build/6.12/linux is
                      a tiny git work tree with a "base" tag when a test needs one
    T/bin/            fake tools (make, qemu-system-x86_64, dpkg-query, id,
                      apt-get, ...) put first on PATH
                      (RunLayout also replaces T/scripts/boot.sh,
                      check-log.py, apply.sh and build.sh with fakes)
    T/tmp/            TMPDIR

Run from the repo root: bash tests/run  (or python3 -m unittest tests.test_scripts)
"""
import gzip
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 60          # for every subprocess
BASE_TARBALL = "/usr/src/linux-source-6.12.tar.xz"   # as in scripts/common.sh
TEST_BASE = "6.12"    # the base the tests run the scripts with (bases/6.12/)

# Variables the Makefile exports (or a user may have set) that change what the
# scripts do; the tests set the ones they need explicitly.
HARNESS_VARS = {"BASE", "BUILD", "MEM", "SMP", "ACCEL", "ICOUNT", "TIMEOUT", "KARGS", "LOOPS",
                "KUNIT_FILTER", "BENCH_ROWS", "KCONFIG_EXTRA", "CCACHE_DIR", "EXPORT_REF",
                "APT_LOCK_TIMEOUT"}

# The names of the series as exported (the rules of variant-patches.sh go by name).
SERIES = [
    "0001-lib-test_vmalloc-add-a-contiguous-range-freeing-benc.patch",
    "0002-mm-page_alloc-free-contiguous-ranges-of-order-0-page.patch",
    "0003-mm-page_alloc-add-free_pages_bulk.patch",
    "0004-mm-vmalloc-free-vmalloc-pages-in-contiguous-runs.patch",
    "0005-mm-page_alloc-free-the-excess-of-alloc_contig_range-.patch",
    "0006-mm-vmalloc-request-large-order-pages-from-buddy-allo.patch",
]

FOO_C = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/mm.h>

int foo(void)
{
	return 0;
}
"""


def write(path, text, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    if mode is not None:
        os.chmod(path, mode)


def write_exec(path, text):
    write(path, text, 0o755)


def read(path):
    with open(path) as f:
        return f.read()


def git_env():
    """A copy of the environment with git isolated from the user's config."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GIT_") and k not in HARNESS_VARS}
    env.update(LC_ALL="C", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
               GIT_AUTHOR_NAME="Test", GIT_AUTHOR_EMAIL="test@example.org",
               GIT_COMMITTER_NAME="Test", GIT_COMMITTER_EMAIL="test@example.org")
    return env


def git(tree, *args):
    return subprocess.run(["git", "-C", tree, *args], env=git_env(), check=True,
                          capture_output=True, text=True, timeout=TIMEOUT).stdout


def run_isolated(cmd, env, timeout=TIMEOUT):
    """Run CMD in its own session and return the CompletedProcess.  On
    timeout, kill its whole process group (a hung script leaves no children
    behind) and fail."""
    with subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, start_new_session=True) as p:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            raise AssertionError(f"{' '.join(map(str, cmd))} still ran after {timeout}s; "
                                 f"stderr:\n{err}") from None
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


class Layout:
    """A temporary copy of the project (see the module docstring)."""

    def __init__(self, name):
        self._tmp = tempfile.TemporaryDirectory(prefix=f"harness-{name}-")
        self.root = self._tmp.name
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(os.path.join(REPO, "scripts"), os.path.join(self.root, "scripts"),
                        ignore=ignore)
        shutil.copytree(os.path.join(REPO, "kconfig"), os.path.join(self.root, "kconfig"))
        self.base_dir = os.path.join(self.root, "bases", TEST_BASE)
        os.makedirs(self.base_dir)
        shutil.copy(os.path.join(REPO, "bases", TEST_BASE, "base.conf"), self.base_dir)
        self.patches = os.path.join(self.base_dir, "patches")
        self.mutations = os.path.join(self.base_dir, "mutations")
        self.build = os.path.join(self.root, "build")
        self.build_base = os.path.join(self.build, TEST_BASE)
        self.tree = os.path.join(self.build_base, "linux")
        self.bin = os.path.join(self.root, "bin")
        self.tmpdir = os.path.join(self.root, "tmp")
        for d in (self.patches, self.build, self.bin, self.tmpdir):
            os.makedirs(d, exist_ok=True)
        self.write_series([])

    def cleanup(self):
        self._tmp.cleanup()

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write_series(self, names):
        write(os.path.join(self.patches, "series"),
              "# Applied in this order with git am on the base (see ../cover-letter.txt).\n"
              + "".join(n + "\n" for n in names))

    def init_tree(self, files, modes=None):
        """T/build/6.12/linux: a git repo whose one commit has FILES, tagged base."""
        os.makedirs(self.tree)
        git(self.tree, "init", "-q", "-b", "base-tree")
        git(self.tree, "config", "user.name", "Test")
        git(self.tree, "config", "user.email", "test@example.org")
        for rel, text in files.items():
            write(os.path.join(self.tree, rel), text, (modes or {}).get(rel))
        git(self.tree, "add", "-Af")
        git(self.tree, "commit", "-q", "-m", "base")
        git(self.tree, "tag", "base")

    def make_patch(self, name, edits, subject, prepare=None):
        """Write patches/NAME: a git format-patch of EDITS (path -> new content)
        made on base in a scratch clone.  With PREPARE (path -> content), the
        patch is made on top of a commit of PREPARE that is not exported, so its
        context does not exist in base."""
        scratch = tempfile.mkdtemp(dir=self.tmpdir)
        try:
            subprocess.run(["git", "clone", "-q", self.tree, scratch], env=git_env(),
                           check=True, capture_output=True, timeout=TIMEOUT)
            git(scratch, "checkout", "-q", "base")
            for step, msg in ((prepare, "prepare"), (edits, subject)):
                if step is None:
                    continue
                for rel, text in step.items():
                    write(os.path.join(scratch, rel), text)
                git(scratch, "commit", "-q", "-a", "-m", msg)
            text = git(scratch, "format-patch", "-1", "--stdout")
        finally:
            shutil.rmtree(scratch)
        write(os.path.join(self.patches, name), text)

    def env(self, **extra):
        env = git_env()
        env.update(BASE=TEST_BASE, BUILD=self.build, TMPDIR=self.tmpdir,
                   PATH=self.bin + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"))
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def run(self, script, *args, **extra_env):
        """Run T/scripts/SCRIPT (run_isolated); the result has .elapsed."""
        start = time.monotonic()
        proc = run_isolated([self.path("scripts", script), *args], self.env(**extra_env))
        proc.elapsed = time.monotonic() - start
        return proc


class ScriptTestCase(unittest.TestCase):
    def assertFails(self, proc, *messages):
        """Non-zero exit, and every message in stderr."""
        self.assertNotEqual(proc.returncode, 0, f"expected a failure; stderr:\n{proc.stderr}")
        for m in messages:
            self.assertIn(m, proc.stderr)

    def assertSucceeds(self, proc):
        self.assertEqual(proc.returncode, 0,
                         f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")


# --------------------------------------------------------------------------
# variant-patches.sh: which patches make up a variant
# --------------------------------------------------------------------------
class VariantPatchesTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = Layout("variants")

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def setUp(self):
        self.t.write_series(SERIES)

    def patches(self, variant):
        proc = self.t.run("variant-patches.sh", variant)
        self.assertSucceeds(proc)
        return proc.stdout.splitlines()

    def paths(self, names):
        return [os.path.join(self.t.patches, n) for n in names]

    def test_series_is_every_patch_in_order(self):
        self.assertEqual(self.patches("series"), self.paths(SERIES))

    def test_comments_and_blank_lines_of_series_are_ignored(self):
        write(os.path.join(self.t.patches, "series"),
              "# comment\n\n" + SERIES[0] + "\n   \n# " + SERIES[1] + "\n" + SERIES[2] + "\n")
        self.assertEqual(self.patches("series"), self.paths([SERIES[0], SERIES[2]]))

    def test_base_is_only_the_test_vmalloc_benchmark_patch(self):
        # base = the Debian base + the series' *-lib-test_vmalloc-* patch
        # (test-only, no mm code), so every kernel runs the same benchmark.
        self.assertEqual(self.patches("base"), self.paths([SERIES[0]]))

    def test_base_without_a_benchmark_patch_is_empty(self):
        self.t.write_series(SERIES[1:])
        self.assertEqual(self.patches("base"), [])

    def test_prefix_2_is_the_first_two(self):
        self.assertEqual(self.patches("prefix-2"), self.paths(SERIES[:2]))

    def test_prefix_n_for_the_whole_series(self):
        self.assertEqual(self.patches(f"prefix-{len(SERIES)}"), self.paths(SERIES))

    def test_hiorder_is_benchmark_plus_the_large_order_vmalloc_patch(self):
        self.assertEqual(self.patches("hiorder"), self.paths([SERIES[0], SERIES[5]]))

    def test_hiorder_without_the_large_order_patch_fails(self):
        self.t.write_series(SERIES[:5])
        proc = self.t.run("variant-patches.sh", "hiorder")
        self.assertFails(proc, "variant hiorder: no *-vmalloc-request-large-order* patch")
        self.assertEqual(proc.stdout, "")

    def test_prefix_beyond_the_series_fails_naming_its_length(self):
        proc = self.t.run("variant-patches.sh", "prefix-99")
        self.assertFails(proc, "variant prefix-99: the series has only 6 patches")
        self.assertEqual(proc.stdout, "")

    def test_unknown_variant_fails(self):
        proc = self.t.run("variant-patches.sh", "bogus")
        self.assertFails(proc, "unknown variant 'bogus'", "of base 6.12 (known: series, prefix-N, mutant-NAME, cand-N, base, hiorder, unbounded)")

    def test_usage(self):
        self.assertFails(self.t.run("variant-patches.sh"), "usage:")

    def test_empty_series_fails(self):
        # A series that lists no patch must not pass the base off as the
        # series: every variant fails, naming the file.
        self.t.write_series([])
        for variant in ("series", "base", "hiorder", "prefix-1", "mutant-x"):
            with self.subTest(variant=variant):
                proc = self.t.run("variant-patches.sh", variant)
                self.assertFails(proc, os.path.join(self.t.patches, "series") + " lists no patch")
                self.assertEqual(proc.stdout, "")

    def test_missing_series_fails(self):
        os.remove(os.path.join(self.t.patches, "series"))
        for variant in ("series", "base", "prefix-1"):
            with self.subTest(variant=variant):
                proc = self.t.run("variant-patches.sh", variant)
                self.assertFails(proc, os.path.join(self.t.patches, "series") + " not found")
                self.assertEqual(proc.stdout, "")

    def test_prefix_0_fails(self):
        # prefix-0 would be the plain base: not a prefix of the series.
        proc = self.t.run("variant-patches.sh", "prefix-0")
        self.assertFails(proc, "variant prefix-0: N of prefix-N must be 1 to 6")
        self.assertEqual(proc.stdout, "")

    def write_candidates(self, names):
        cdir = os.path.join(self.t.base_dir, "candidates")
        shutil.rmtree(cdir, ignore_errors=True)
        os.makedirs(os.path.join(cdir, "mutations"))
        # Not a candidate: the mutants of the candidates live below.
        write(os.path.join(cdir, "mutations", "x.patch"), "")
        for n in names:
            write(os.path.join(cdir, n), "")
        return [os.path.join(cdir, n) for n in sorted(names)]

    def test_cand_n_is_the_series_plus_the_first_n_candidates(self):
        cands = self.write_candidates(["0002-b.patch", "0001-a.patch", "0003-c.patch"])
        try:
            self.assertEqual(self.patches("cand-2"), self.paths(SERIES) + cands[:2])
            self.assertEqual(self.patches("cand-3"), self.paths(SERIES) + cands)
            for bad in ("cand-0", "cand-4", "cand-1x"):
                with self.subTest(variant=bad):
                    proc = self.t.run("variant-patches.sh", bad)
                    self.assertFails(proc, f"variant {bad}: N of cand-N must be 1 to 3")
                    self.assertEqual(proc.stdout, "")
        finally:
            shutil.rmtree(os.path.join(self.t.base_dir, "candidates"))

    def test_cand_n_without_candidates_fails(self):
        proc = self.t.run("variant-patches.sh", "cand-1")
        self.assertFails(proc, "variant cand-1: no candidate patches in")
        self.assertEqual(proc.stdout, "")

    def test_bench_set_candidates_boots_the_anchors_then_every_candidate(self):
        self.write_candidates(["0001-a.patch", "0002-b.patch"])
        try:
            proc = self.t.run("bench.sh", "--variants", BENCH_SET="candidates",
                              BENCH_CANDIDATE_ANCHORS="base hiorder")
            self.assertSucceeds(proc)
            self.assertEqual(proc.stdout.split(), ["base", "hiorder", "cand-1", "cand-2"])
            proc = self.t.run("bench.sh", "--variants")
            self.assertSucceeds(proc)
            self.assertEqual(proc.stdout.split(), ["base", "hiorder", "series"])
            proc = self.t.run("bench.sh", "--variants", BENCH_SET="bogus")
            self.assertFails(proc, "BENCH_SET must be published or candidates, not 'bogus'")
        finally:
            shutil.rmtree(os.path.join(self.t.base_dir, "candidates"))


class RealSeriesTest(ScriptTestCase):
    """The repo's own patches/series: every variant names existing patches
    (the rules go by file name, which export.sh derives from the subjects)."""

    def run_real(self, variant):
        proc = subprocess.run([os.path.join(REPO, "scripts", "variant-patches.sh"), variant],
                              env=dict(git_env(), BASE=TEST_BASE), stdin=subprocess.DEVNULL,
                              capture_output=True,
                              text=True, timeout=TIMEOUT)
        self.assertSucceeds(proc)
        return proc.stdout.splitlines()

    def test_every_variant_names_existing_patches(self):
        series = self.run_real("series")    # fails on a missing or empty series
        self.assertTrue(series)
        for variant in ("series", "base", "hiorder", f"prefix-{len(series)}"):
            with self.subTest(variant=variant):
                for p in self.run_real(variant):
                    self.assertTrue(os.path.isfile(p), f"{variant}: {p} does not exist")
        hiorder = self.run_real("hiorder")
        self.assertIn(hiorder[-1], series, "hiorder's patch is one of the series")
        self.assertIn("-vmalloc-request-large-order", hiorder[-1])
        self.assertEqual(self.run_real("base"), hiorder[:-1])


# --------------------------------------------------------------------------
# apply.sh: check out a variant with git am
# --------------------------------------------------------------------------
GOOD = "0001-mm-foo-return-one.patch"
BAD = "0002-mm-foo-change-bar.patch"


class ApplyTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = t = Layout("apply")
        t.init_tree({"mm/foo.c": FOO_C, "mm/bar.c": "int bar;\n"})
        t.make_patch(GOOD, {"mm/foo.c": FOO_C.replace("return 0;", "return 1;")},
                     "mm/foo: return one")
        # Its hunk changes lines of mm/foo.c that are not in base.
        other = FOO_C.replace("int foo(void)", "int bar(void)").replace("return 0;", "return 2;")
        t.make_patch(BAD, {"mm/foo.c": other.replace("return 2;", "return 3;")},
                     "mm/foo: change bar", prepare={"mm/foo.c": other})

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def setUp(self):
        subprocess.run(["git", "-C", self.t.tree, "am", "--abort"], env=git_env(),
                       capture_output=True, timeout=TIMEOUT)
        git(self.t.tree, "checkout", "-q", "-f", "base")
        git(self.t.tree, "clean", "-q", "-fdx")

    def head_branch(self):
        return git(self.t.tree, "symbolic-ref", "--short", "HEAD").strip()

    def test_good_patch_applies_on_branch_variant_series(self):
        self.t.write_series([GOOD])
        proc = self.t.run("apply.sh", "series")
        self.assertSucceeds(proc)
        self.assertIn("variant series: 1 patches on base (0 kept, 1 applied)", proc.stderr)
        self.assertEqual(self.head_branch(), "variant/series")
        self.assertIn("return 1;", read(os.path.join(self.t.tree, "mm/foo.c")))
        self.assertEqual(git(self.t.tree, "log", "-1", "--format=%s").strip(), "mm/foo: return one")
        self.assertEqual(git(self.t.tree, "rev-list", "--count", "base..HEAD").strip(), "1")

    def test_reapplying_keeps_the_applied_commits(self):
        self.t.write_series([GOOD])
        self.assertSucceeds(self.t.run("apply.sh", "series"))
        first = git(self.t.tree, "rev-parse", "HEAD")
        proc = self.t.run("apply.sh", "series")
        self.assertSucceeds(proc)
        self.assertIn("(1 kept, 0 applied)", proc.stderr)
        self.assertEqual(git(self.t.tree, "rev-parse", "HEAD"), first)

    def test_patch_that_does_not_apply_is_named_with_its_file(self):
        self.t.write_series([GOOD, BAD])
        proc = self.t.run("apply.sh", "series")
        self.assertFails(proc, f"patch does not apply: {BAD}", "failing hunk in: mm/foo.c",
                         "error: patch failed: mm/foo.c")
        self.assertNotIn(f"patch does not apply: {GOOD}", proc.stderr)
        # The failed git am was aborted; the patches before it are applied.
        self.assertFalse(os.path.exists(os.path.join(self.t.tree, ".git", "rebase-apply")))
        self.assertEqual(git(self.t.tree, "status", "--porcelain"), "")
        self.assertEqual(git(self.t.tree, "log", "-1", "--format=%s").strip(), "mm/foo: return one")

    def test_unknown_variant(self):
        proc = self.t.run("apply.sh", "bogus")
        self.assertFails(proc, "unknown variant 'bogus'")
        self.assertEqual(git(self.t.tree, "rev-parse", "HEAD"), git(self.t.tree, "rev-parse", "base"))

    def test_missing_patch_file(self):
        self.t.write_series([GOOD, "0002-not-there.patch"])
        proc = self.t.run("apply.sh", "series")
        self.assertFails(proc, "patch of variant series not found: "
                         + os.path.join(self.t.patches, "0002-not-there.patch"))

    def test_uncommitted_changes_are_refused(self):
        self.t.write_series([GOOD])
        write(os.path.join(self.t.tree, "mm/bar.c"), "int bar = 1;\n")
        proc = self.t.run("apply.sh", "series")
        self.assertFails(proc, f"work tree {self.t.tree} has uncommitted changes")
        self.assertEqual(read(os.path.join(self.t.tree, "mm/bar.c")), "int bar = 1;\n")

    def test_empty_series_fails(self):
        # Not the base checked out as "series": an error naming the file.
        self.t.write_series([])
        proc = self.t.run("apply.sh", "series")
        self.assertFails(proc, os.path.join(self.t.patches, "series") + " lists no patch")
        self.assertNotIn("variant series:", proc.stderr)
        self.assertEqual(git(self.t.tree, "rev-parse", "HEAD"), git(self.t.tree, "rev-parse", "base"))

    def test_missing_series_fails(self):
        series = os.path.join(self.t.patches, "series")
        os.remove(series)
        try:
            proc = self.t.run("apply.sh", "series")
        finally:
            self.t.write_series([])
        self.assertFails(proc, series + " not found")
        self.assertEqual(git(self.t.tree, "rev-parse", "HEAD"), git(self.t.tree, "rev-parse", "base"))

    def test_no_work_tree(self):
        t = Layout("apply-notree")
        try:
            t.write_series([GOOD])
            shutil.copy(os.path.join(self.t.patches, GOOD), t.patches)
            self.assertFails(t.run("apply.sh", "series"), f"no work tree at {t.tree}")
        finally:
            t.cleanup()


# --------------------------------------------------------------------------
# build.sh: configuration, compiler errors, warnings in patched files
# --------------------------------------------------------------------------
FAKE_MAKE = r"""#!/bin/bash
# Fake make for build.sh: make -C TREE O=OBJ ARCH=x86_64 CC=... -jN TARGET...
# FAKE_MAKE_MODE (for "bzImage modules"): ok | error | warning | incremental
# (like make: compiles mm/page_alloc.o and mm/vmscan.o, both including
# include/linux/batch.h, only when missing or older than a source, and warns
# about FAKE_MAKE_WARN_FILE only then).
# FAKE_MAKE_WARN_FILE: the file of the warning; FAKE_MAKE_DROP: a .config line
# that olddefconfig drops; FAKE_MAKE_CONFIG_FAIL=1: allnoconfig fails;
# FAKE_MAKE_ORDER_EXTRA: more lines of modules.order (modules not built).
obj= tree= targets=()
while [ $# -gt 0 ]; do
	case $1 in
	-C) tree=$2; shift ;;
	O=*) obj=${1#O=} ;;
	-s|-j*|ARCH=*|CC=*) ;;
	*) targets+=("$1") ;;
	esac
	shift
done
echo "${targets[*]}" >>"$FAKE_MAKE_CALLS"
noise() {
	echo "  CC      mm/filemap.o"
	echo "  CC      mm/mempool.o"
	echo "  CC      mm/page_alloc.o"
}
outputs() {
	mkdir -p "$obj/arch/x86/boot" "$obj/include/config" "$obj/lib"
	echo fake-bzImage >"$obj/arch/x86/boot/bzImage"
	echo 6.12.117 >"$obj/include/config/kernel.release"
	echo fake-ko >"$obj/lib/test_vmalloc.ko"
	printf '%s\n' lib/test_vmalloc.o ${FAKE_MAKE_ORDER_EXTRA:-} >"$obj/modules.order"
	echo "Kernel: arch/x86/boot/bzImage is ready  (#1)"
}
compile() {	# OBJECT SOURCE...
	local o=$1 s stale=0
	shift
	[ -f "$obj/$o" ] || stale=1
	for s; do
		[ -f "$tree/$s" ] && [ "$tree/$s" -nt "$obj/$o" ] && stale=1
	done
	[ $stale = 1 ] || return 0
	echo "  CC      $o"
	for s; do
		[ "$s" = "${FAKE_MAKE_WARN_FILE:-}" ] &&
			echo "$s:10:1: warning: unused variable 'x' [-Wunused-variable]"
	done
	mkdir -p "$(dirname "$obj/$o")"
	echo fake-object >"$obj/$o"
}
case "${targets[*]}" in
allnoconfig)
	if [ "${FAKE_MAKE_CONFIG_FAIL:-0}" = 1 ]; then
		echo "scripts/kconfig/conf: fake kconfig failure" >&2
		exit 2
	fi
	mkdir -p "$obj"
	echo "# CONFIG_SWAP is not set" >"$obj/.config" ;;
olddefconfig)
	if [ -n "${FAKE_MAKE_DROP:-}" ]; then
		grep -vxF -- "$FAKE_MAKE_DROP" "$obj/.config" >"$obj/.config.new"
		mv "$obj/.config.new" "$obj/.config"
	fi ;;
"bzImage modules")
	case ${FAKE_MAKE_MODE:-ok} in
	error)
		noise
		echo "mm/page_alloc.c: In function 'free_contig_range':"
		echo "mm/page_alloc.c:123:5: error: 'foo' undeclared (first use in this function)"
		echo "  123 |     foo = 1;"
		echo "      |     ^~~"
		echo "mm/page_alloc.c:123:5: note: each undeclared identifier is reported only once for each function it appears in"
		echo "make[4]: *** [../scripts/Makefile.build:229: mm/page_alloc.o] Error 1"
		echo "make[3]: *** [../scripts/Makefile.build:478: mm] Error 2"
		echo "make[1]: *** [Makefile:224: __sub-make] Error 2"
		exit 2 ;;
	warning)
		noise
		f=${FAKE_MAKE_WARN_FILE:-mm/page_alloc.c}
		echo "$f: In function 'free_pages_bulk':"
		echo "$f:10:1: warning: unused variable 'x' [-Wunused-variable]"
		echo "   10 | int x;"
		outputs ;;
	incremental)
		compile mm/page_alloc.o mm/page_alloc.c include/linux/batch.h
		compile mm/vmscan.o mm/vmscan.c include/linux/batch.h
		outputs ;;
	ok)
		noise
		outputs ;;
	esac ;;
*)
	echo "fake make: unexpected targets: ${targets[*]}" >&2
	exit 99 ;;
esac
"""

MERGE_CONFIG_STUB = r"""#!/bin/bash
# Stub of merge_config.sh: -m -O OBJDIR BASE FRAGMENT... appends the fragments.
[ "$1" = -m ] && [ "$2" = -O ] || { echo "merge_config stub: bad args: $*" >&2; exit 1; }
if [ "${FAKE_MERGE_FAIL:-0}" = 1 ]; then
	echo "fake merge_config failure" >&2
	exit 1
fi
base=$4
shift 4
grep -h '^CONFIG_' "$@" >>"$base"
"""

# Kconfig files that declare every option of BuildTest's fragments.
BUILD_KCONFIG = {
    "arch/x86/Kconfig": "config 64BIT\n\tbool\nconfig SMP\n\tbool\nconfig NR_CPUS\n\tint\n",
    "mm/Kconfig": "config CMA\n\tbool \"Contiguous Memory Allocator\"\n"
                  "config COMPACTION\n\tbool\n",
    "lib/kunit/Kconfig": "menuconfig KUNIT\n\ttristate\n",
    "lib/Kconfig.debug": "config TEST_VMALLOC\n\ttristate\n",
}


def build_fragments(t):
    """Fragments of our own, so the tests do not depend on the repo's kconfig/."""
    shutil.rmtree(t.path("kconfig"))
    write(t.path("kconfig", "base.config"), "# base\nCONFIG_64BIT=y\nCONFIG_SMP=y\nCONFIG_NR_CPUS=8\n")
    write(t.path("kconfig", "mm.config"), "# mm\nCONFIG_COMPACTION=y\nCONFIG_CMA=y\n")
    write(t.path("kconfig", "test.config"), "# test\nCONFIG_KUNIT=y\nCONFIG_TEST_VMALLOC=m\n")


class BuildTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = t = Layout("build")
        t.init_tree(dict(BUILD_KCONFIG, **{
                     "mm/page_alloc.c": "int page_alloc;\n",
                     "mm/vmscan.c": "int vmscan;\n",
                     "scripts/kconfig/merge_config.sh": MERGE_CONFIG_STUB}),
                    modes={"scripts/kconfig/merge_config.sh": 0o755})
        # The variant: one patch on base that touches mm/page_alloc.c.
        git(t.tree, "checkout", "-q", "-b", "variant/series")
        write(os.path.join(t.tree, "mm/page_alloc.c"), "int page_alloc = 1;\n")
        git(t.tree, "commit", "-q", "-a", "-m", "mm/page_alloc: change")
        write_exec(os.path.join(t.bin, "make"), FAKE_MAKE)
        cls.calls = t.path("make-calls")
        build_fragments(t)

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def setUp(self):
        if os.path.exists(self.calls):
            os.remove(self.calls)
        shutil.rmtree(os.path.join(self.t.build_base, "out"), ignore_errors=True)
        self.t.write_series([])

    def build(self, **env):
        return self.t.run("build.sh", "series", FAKE_MAKE_CALLS=self.calls, **env)

    def log(self):
        return os.path.join(self.t.build_base, "logs", "build-series.log")

    def test_compiler_error_is_shown_and_fails(self):
        proc = self.build(FAKE_MAKE_MODE="error")
        self.assertFails(proc,
                         "mm/page_alloc.c:123:5: error: 'foo' undeclared (first use in this function)",
                         "---- compiler/linker errors ----",
                         f"build of variant series failed (full log: {self.log()})")
        self.assertIn("Error 2", proc.stderr)
        self.assertNotIn("CC      mm/filemap.o", proc.stderr, "only the errors, not the noise")
        self.assertIn("error: 'foo' undeclared", read(self.log()))
        self.assertFalse(os.path.exists(os.path.join(self.t.build_base, "out", "series")))
        self.assertEqual(read(self.calls).splitlines(), ["allnoconfig", "olddefconfig", "bzImage modules"])

    def test_warning_in_a_patched_file_fails(self):
        proc = self.build(FAKE_MAKE_MODE="warning", FAKE_MAKE_WARN_FILE="mm/page_alloc.c")
        self.assertFails(proc, "mm/page_alloc.c:10:1: warning: unused variable",
                         "build of variant series has compiler warnings in patched files")
        self.assertFalse(os.path.exists(os.path.join(self.t.build_base, "out", "series")))

    def test_warning_in_an_unpatched_file_is_allowed(self):
        proc = self.build(FAKE_MAKE_MODE="warning", FAKE_MAKE_WARN_FILE="mm/vmscan.c")
        self.assertSucceeds(proc)
        self.assertNotIn("warning:", proc.stderr)
        self.assertIn("built series in", proc.stderr)

    def test_successful_build_keeps_the_variant(self):
        proc = self.build(FAKE_MAKE_MODE="ok")
        self.assertSucceeds(proc)
        out = os.path.join(self.t.build_base, "out", "series")
        self.assertEqual(read(os.path.join(out, "bzImage")), "fake-bzImage\n")
        self.assertEqual(os.listdir(os.path.join(out, "modules")), ["test_vmalloc.ko"])
        config = read(os.path.join(out, "config")).splitlines()
        for line in ("CONFIG_64BIT=y", "CONFIG_CMA=y", "CONFIG_TEST_VMALLOC=m"):
            self.assertIn(line, config)
        info = read(os.path.join(out, "info"))
        self.assertIn("variant: series", info)
        self.assertIn("kernel: 6.12.117", info)
        self.assertIn("mm/page_alloc: change", info)

    def test_configuration_failure(self):
        proc = self.build(FAKE_MAKE_CONFIG_FAIL=1)
        self.assertFails(proc, "fake kconfig failure", "kernel configuration failed (log: ")
        self.assertEqual(read(self.calls).splitlines(), ["allnoconfig"])

    def test_merge_config_failure(self):
        proc = self.build(FAKE_MERGE_FAIL=1)
        self.assertFails(proc, "fake merge_config failure", "kernel configuration failed (log: ")
        self.assertEqual(read(self.calls).splitlines(), ["allnoconfig"])

    def test_fragment_option_dropped_by_olddefconfig_fails(self):
        # CONFIG_CMA exists in the tree (mm/Kconfig) but did not survive.
        proc = self.build(FAKE_MAKE_DROP="CONFIG_CMA=y")
        self.assertFails(proc, "mm.config: CONFIG_CMA=y did not survive olddefconfig",
                         "kernel configuration for series is not what kconfig/ asks")
        self.assertNotIn("bzImage modules", read(self.calls))

    def extra_fragment(self, text):
        path = self.t.path("extra", "kunit.config")
        write(path, text)
        return path

    def series_declaring(self, name):
        """patches/series: one patch, which declares option NAME."""
        patch = "0001-mm-add-a-test.patch"
        write(os.path.join(self.t.patches, patch),
              "Subject: [PATCH] mm: add a test\n---\n"
              "--- a/mm/Kconfig.debug\n+++ b/mm/Kconfig.debug\n@@ -1,0 +1,3 @@\n"
              f"+config {name}\n+\ttristate \"A test\" if !KUNIT_ALL_TESTS\n"
              "+\tdepends on KUNIT\n")
        self.t.write_series([patch])

    def test_option_the_tree_lacks_but_a_series_patch_declares_is_allowed(self):
        # As for the series' KUnit option in base, hiorder and the prefixes:
        # olddefconfig drops it, since this tree has no such option.
        self.series_declaring("PAGE_ALLOC_KUNIT_TEST")
        extra = self.extra_fragment("CONFIG_PAGE_ALLOC_KUNIT_TEST=y\n")
        proc = self.build(KCONFIG_EXTRA=extra, FAKE_MAKE_DROP="CONFIG_PAGE_ALLOC_KUNIT_TEST=y")
        self.assertSucceeds(proc)
        self.assertNotIn("error:", proc.stderr)

    def test_option_declared_nowhere_fails(self):
        # Neither a Kconfig of the tree nor a patch of the series declares it
        # (a typo, or renamed upstream): naming the fragment.
        self.series_declaring("PAGE_ALLOC_KUNIT_TEST")
        extra = self.extra_fragment("CONFIG_PAGE_ALOC_KUNIT_TEST=y\n")
        for drop in ("", "CONFIG_PAGE_ALOC_KUNIT_TEST=y"):
            with self.subTest(dropped_by_olddefconfig=bool(drop)):
                proc = self.build(KCONFIG_EXTRA=extra, FAKE_MAKE_DROP=drop)
                self.assertFails(proc, f"error: {extra}: CONFIG_PAGE_ALOC_KUNIT_TEST=y: no Kconfig"
                                 " file of", "and no patch of " + os.path.join(self.t.patches, "series") + " declares"
                                 " PAGE_ALOC_KUNIT_TEST",
                                 "kernel configuration for series is not what kconfig/ asks")
                self.assertNotIn("bzImage modules", read(self.calls))

    def test_option_the_tree_lacks_without_a_series_fails(self):
        extra = self.extra_fragment("CONFIG_PAGE_ALLOC_KUNIT_TEST=y\n")
        for series in (None, []):
            with self.subTest(series=series):
                if series is None:
                    os.remove(os.path.join(self.t.patches, "series"))
                else:
                    self.t.write_series(series)
                proc = self.build(KCONFIG_EXTRA=extra,
                                  FAKE_MAKE_DROP="CONFIG_PAGE_ALLOC_KUNIT_TEST=y")
                self.assertFails(proc, f"error: {extra}: CONFIG_PAGE_ALLOC_KUNIT_TEST=y: no Kconfig")

    def test_option_declared_by_the_tree_and_dropped_fails(self):
        proc = self.build(FAKE_MAKE_DROP="CONFIG_TEST_VMALLOC=m")
        self.assertFails(proc, "test.config: CONFIG_TEST_VMALLOC=m did not survive olddefconfig")

    def test_only_the_modules_of_modules_order_are_kept(self):
        # A module of another variant, left in the shared object directory.
        stale = os.path.join(self.t.build_base, "obj", "mm", "stale_test.ko")
        write(stale, "stale-ko\n")
        try:
            proc = self.build(FAKE_MAKE_MODE="ok")
        finally:
            os.remove(stale)
        self.assertSucceeds(proc)
        self.assertEqual(os.listdir(os.path.join(self.t.build_base, "out", "series", "modules")),
                         ["test_vmalloc.ko"])

    def test_module_of_modules_order_not_built_fails(self):
        proc = self.build(FAKE_MAKE_MODE="ok", FAKE_MAKE_ORDER_EXTRA="mm/page_alloc_test.o")
        self.assertFails(proc, "module mm/page_alloc_test.o of "
                         + os.path.join(self.t.build_base, "obj", "modules.order") + " was not built")
        self.assertFalse(os.path.exists(os.path.join(self.t.build_base, "out", "series")))


class BuildRecompileTest(ScriptTestCase):
    """A compiler warning in a file the patches touch fails every build, not
    only the one that compiled it (make: incremental, like kbuild)."""

    @classmethod
    def setUpClass(cls):
        cls.t = t = Layout("recompile")
        t.init_tree(dict(BUILD_KCONFIG, **{
                     "mm/page_alloc.c": "int page_alloc;\n",
                     "mm/vmscan.c": "int vmscan;\n",
                     "include/linux/batch.h": "int batch(void);\n",
                     "scripts/kconfig/merge_config.sh": MERGE_CONFIG_STUB}),
                    modes={"scripts/kconfig/merge_config.sh": 0o755})
        # Two variants: one touches a .c file, the other only a header.
        for branch, path, text in (("variant/cfile", "mm/page_alloc.c", "int page_alloc = 1;\n"),
                                   ("variant/header", "include/linux/batch.h", "int batch(int);\n")):
            git(t.tree, "checkout", "-q", "-b", branch, "base")
            write(os.path.join(t.tree, path), text)
            git(t.tree, "commit", "-q", "-a", "-m", f"change {path}")
        write_exec(os.path.join(t.bin, "make"), FAKE_MAKE)
        cls.calls = t.path("make-calls")
        build_fragments(t)

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def setUp(self):
        shutil.rmtree(os.path.join(self.t.build_base, "obj"), ignore_errors=True)

    def build(self, branch, warn_file):
        git(self.t.tree, "checkout", "-q", branch)
        return self.t.run("build.sh", "series", FAKE_MAKE_CALLS=self.calls,
                          FAKE_MAKE_MODE="incremental", FAKE_MAKE_WARN_FILE=warn_file)

    def test_warning_in_a_patched_c_file_fails_again(self):
        for run in (1, 2):
            with self.subTest(run=run):
                proc = self.build("variant/cfile", "mm/page_alloc.c")
                self.assertFails(proc, "mm/page_alloc.c:10:1: warning: unused variable",
                                 "build of variant series has compiler warnings in patched files")

    def test_warning_in_a_patched_header_fails_again(self):
        for run in (1, 2, 3):
            with self.subTest(run=run):
                proc = self.build("variant/header", "include/linux/batch.h")
                self.assertFails(proc, "include/linux/batch.h:10:1: warning: unused variable",
                                 "build of variant series has compiler warnings in patched files")

    def test_unpatched_objects_are_not_recompiled(self):
        self.assertSucceeds(self.build("variant/cfile", ""))
        proc = self.build("variant/cfile", "")
        self.assertSucceeds(proc)
        log = read(os.path.join(self.t.build_base, "logs", "build-series.log"))
        self.assertIn("CC      mm/page_alloc.o", log)
        self.assertNotIn("CC      mm/vmscan.o", log)


# --------------------------------------------------------------------------
# boot.sh: a guest that hangs is killed; qemu failures are reported
# --------------------------------------------------------------------------
FAKE_QEMU = r"""#!/bin/bash
# Fake qemu-system-x86_64: writes console lines to the -serial file:PATH, then
# FAKE_QEMU_MODE: hang (sleeps) | fail (exit 1) | ok (exit 0).
printf '%s\n' "$@" >"$FAKE_QEMU_ARGS"
log= initrd= prev=
for a; do
	case $prev in
	-serial) log=${a#file:} ;;
	-initrd) initrd=$a ;;
	esac
	prev=$a
done
[ -n "$initrd" ] && cp "$initrd" "$FAKE_QEMU_ARGS.initrd"
{
	echo "[    0.000000] Linux version 6.12.117 (harness@qemu) #1 SMP"
	for i in $(seq 1 30); do echo "[    0.$((100000 + i))] console line $i"; done
	echo "[    2.345678] harness: start variant=series plan=smoke"
	echo "[    2.456789] harness: vmalloc-row smoke t:2 l:1000"
} >"$log"
case ${FAKE_QEMU_MODE:-ok} in
hang)
	echo $$ >"$FAKE_QEMU_ARGS.pid"
	exec sleep 1000 ;;
fail)
	echo "qemu-system-x86_64: -bios qboot.rom: could not load BIOS" >&2
	exit 1 ;;
esac
exit 0
"""

UNEXPECTED = r"""#!/bin/bash
echo "fake: unexpected call: $(basename "$0") $*" >&2
exit 99
"""

FAKE_MODINFO = r"""#!/bin/bash
# Fake modinfo -F parm test_vmalloc.ko: test_vmalloc's run_test_mask cases.
[ "$1 $2" = "-F parm" ] || { echo "fake modinfo: unexpected: $*" >&2; exit 1; }
printf 'run_test_mask:Set tests specified in the mask.\n\n'
printf '\t\tid: 1,    name: fix_size_alloc_test\n'
printf '\t\tid: 2,    name: full_fit_alloc_test\n (uint)\n'
printf 'nr_threads:Number of workers to perform tests(default: 1) (uint)\n'
"""


class BootTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = t = Layout("boot")
        out = os.path.join(t.build_base, "out", "series")
        write(os.path.join(out, "bzImage"), "fake-bzImage\n")
        write(os.path.join(out, "modules", "test_vmalloc.ko"), "fake-ko\n")
        write_exec(os.path.join(t.build_base, "obj", "usr", "gen_init_cpio"), '#!/bin/sh\ncat "$1"\n')
        # Guest helpers newer than their sources, so initramfs.sh does not compile them.
        for helper in ("guest-insmod", "guest-fragment", "guest-latency", "guest-fraggen"):
            exe = os.path.join(t.build, helper)
            write_exec(exe, "#!/bin/sh\nexit 0\n")
            src = os.path.getmtime(t.path("scripts", helper + ".c"))
            os.utime(exe, (src + 100, src + 100))
        write_exec(os.path.join(t.bin, "qemu-system-x86_64"), FAKE_QEMU)
        write_exec(os.path.join(t.bin, "modinfo"), FAKE_MODINFO)
        for tool in ("make", "gcc"):   # must not be needed
            write_exec(os.path.join(t.bin, tool), UNEXPECTED)
        cls.args = t.path("qemu-args")
        cls.console = t.path("logs", "series-smoke.log")

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def setUp(self):
        for f in (self.args, self.args + ".pid", self.args + ".initrd", self.console):
            if os.path.exists(f):
                os.remove(f)

    def boot(self, mode, variant="series", **env):
        env = dict(dict(ACCEL="tcg", ICOUNT=0, TIMEOUT=3, MEM="256M", SMP=1,
                        FAKE_QEMU_ARGS=self.args, FAKE_QEMU_MODE=mode), **env)
        return self.t.run("boot.sh", variant, "smoke", self.console, **env)

    def test_hanging_guest_is_killed_after_timeout(self):
        proc = self.boot("hang")
        self.assertLess(proc.elapsed, 20)
        self.assertGreaterEqual(proc.elapsed, 2.5, "killed before TIMEOUT")
        self.assertFails(proc, "guest series (plan smoke) timed out after 3s and was killed",
                         f"---- last console lines ({self.console}) ----",
                         "harness: vmalloc-row smoke t:2 l:1000", "console line 30")
        self.assertNotIn("console line 5\n", proc.stderr, "only the last 25 lines")
        # The fake guest process is gone.
        pid = int(read(self.args + ".pid"))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
            self.fail(f"the guest (pid {pid}) still runs after boot.sh returned")

    def test_qemu_failure_is_reported(self):
        proc = self.boot("fail")
        self.assertFails(proc, "qemu exited with status 1 for series (plan smoke)",
                         "harness: vmalloc-row smoke t:2 l:1000")
        self.assertNotIn("timed out", proc.stderr)

    def test_clean_run(self):
        proc = self.boot("ok")
        self.assertSucceeds(proc)
        self.assertIn("guest series (plan smoke) stopped after", proc.stderr)
        args = read(self.args).splitlines()
        self.assertEqual(args[args.index("-accel") + 1], "tcg")
        append = args[args.index("-append") + 1]
        self.assertIn("harness.variant=series harness.plan=smoke", append)
        self.assertIn("panic=-1", append)
        # The initramfs (here: gen_init_cpio's spec, gzipped).
        with gzip.open(self.args + ".initrd", "rt") as f:
            spec = f.read()
        self.assertIn(f"file /init {self.t.path('scripts', 'guest-init.sh')} 0755 0 0", spec)
        self.assertIn("file /modules/test_vmalloc.ko", spec)
        self.assertIn("file /bin/busybox /bin/busybox 0755 0 0", spec)
        self.assertEqual(os.listdir(self.t.tmpdir), [], "temporary files left behind")

    def test_variant_not_built(self):
        proc = self.boot("ok", variant="prefix-3")
        self.assertFails(proc, "variant prefix-3 is not built (no "
                         + os.path.join(self.t.build_base, "out", "prefix-3", "bzImage") + ")")
        self.assertFalse(os.path.exists(self.args), "qemu was started")

    def test_bad_accel(self):
        proc = self.boot("ok", ACCEL="xen")
        self.assertFails(proc, "ACCEL must be auto, kvm or tcg, not 'xen'")


# --------------------------------------------------------------------------
# bisect-build.sh and checkpatch.sh: the series must exist and list patches
# --------------------------------------------------------------------------
class SeriesRequiredTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = t = Layout("series-required")
        for tool in ("make", "gcc", "git"):   # must not be needed
            write_exec(os.path.join(t.bin, tool), UNEXPECTED)

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def test_missing_or_empty_series_fails(self):
        series = os.path.join(self.t.patches, "series")
        for script in ("bisect-build.sh", "checkpatch.sh"):
            for case in ("missing", "empty"):
                with self.subTest(script=script, series=case):
                    self.t.write_series([])
                    if case == "missing":
                        os.remove(series)
                    proc = self.t.run(script)
                    self.assertFails(proc, series + (" not found" if case == "missing"
                                                     else " lists no patch"))
                    self.assertNotIn("fake: unexpected call", proc.stderr)


# --------------------------------------------------------------------------
# run.sh (make run), reliability.sh, mutants.sh: what a run must show
# --------------------------------------------------------------------------
def text_patch(subject, diff):
    return (f"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
            f"From: Test <test@example.org>\nSubject: [PATCH] {subject}\n\n---\n{diff}-- \n2.39.5\n")


KUNIT_PATCH_DIFF = ("diff --git a/mm/tests/page_alloc_kunit.c b/mm/tests/page_alloc_kunit.c\n"
                    "new file mode 100644\n--- /dev/null\n+++ b/mm/tests/page_alloc_kunit.c\n"
                    "@@ -0,0 +1 @@\n+// SPDX-License-Identifier: GPL-2.0\n")
CHANGE_KUNIT_DIFF = ("diff --git a/mm/tests/page_alloc_kunit.c b/mm/tests/page_alloc_kunit.c\n"
                     "--- a/mm/tests/page_alloc_kunit.c\n+++ b/mm/tests/page_alloc_kunit.c\n"
                     "@@ -1 +1 @@\n-// old\n+// new\n")
PAGE_ALLOC_DIFF = ("diff --git a/mm/page_alloc.c b/mm/page_alloc.c\n"
                   "--- a/mm/page_alloc.c\n+++ b/mm/page_alloc.c\n@@ -1 +1 @@\n-int a;\n+int b;\n")
# A series: benchmark patch (base), an mm change, the KUnit suite, a change of it.
RUN_SERIES = {
    "0001-lib-test_vmalloc-add-a-benchmark.patch": ("lib/test_vmalloc: add a benchmark",
                                                    PAGE_ALLOC_DIFF.replace("mm/page_alloc", "lib/test_vmalloc")),
    "0002-mm-page_alloc-free-in-batches.patch": ("mm/page_alloc: free in batches", PAGE_ALLOC_DIFF),
    "0003-mm-add-KUnit-tests.patch": ("mm: add KUnit tests", KUNIT_PATCH_DIFF),
    "0004-mm-tests-more-tests.patch": ("mm/tests: more tests", CHANGE_KUNIT_DIFF),
}

FAKE_BOOT = r"""#!/bin/bash
# Fake scripts/boot.sh VARIANT PLAN LOG: records its call, writes a console
# log; FAKE_BOOT_MODE: ok | fail (log written, exit 1) | nolog (exit 1).
echo "boot $1 $2 $3 MEM=$MEM KARGS=$KARGS KUNIT_FILTER=$KUNIT_FILTER" >>"$FAKE_CALLS"
[ "${FAKE_BOOT_MODE:-ok}" = nolog ] && { echo "fake boot: not built" >&2; exit 1; }
mkdir -p "$(dirname "$3")"
echo "harness: start variant=$1 plan=$2" >"$3"
[ "${FAKE_BOOT_MODE:-ok}" = fail ] && { echo "fake boot: guest timed out" >&2; exit 1; }
exit 0
"""

FAKE_CHECK_LOG = r"""#!/bin/bash
# Fake scripts/check-log.py [...] --json OUT LOG: records its arguments; the
# result is $FAKE_RESULTS/NAME.json for LOG NAME.log (copied to OUT); without
# one, it fails like a Python traceback, writing no JSON.
echo "check-log $*" >>"$FAKE_CALLS"
json= prev=
for a; do [ "$prev" = --json ] && json=$a; prev=$a; done
src=${FAKE_RESULTS:-/nonexistent}/$(basename "${!#}" .log).json
if [ ! -f "$src" ]; then
	echo "Traceback (most recent call last):" >&2
	echo "KeyError: 'status'" >&2
	exit 1
fi
[ -z "$json" ] || cp "$src" "$json"
if grep -q '"pass": true' "$src"; then echo "result: PASS"; exit 0; fi
echo "result: FAIL (fake)"
exit 1
"""

FAKE_RECORD = r"""#!/bin/bash
echo "$(basename "$0") $* OBJ=${OBJ:-} KCONFIG_EXTRA=${KCONFIG_EXTRA:-}" >>"$FAKE_CALLS"
"""


def result(plan="smoke", reasons=(), failures=(), reports=()):
    """A check-log.py JSON result: failed KUnit cases FAILURES, report kinds
    REPORTS; it passes when it has no reasons."""
    reasons = list(reasons)
    if failures:
        reasons.append(f"KUnit: {len(failures)} failed, 0 crashed: " + ", ".join(failures))
    if reports:
        reasons.append("kernel reports: " + ", ".join(dict.fromkeys(reports)))
    return {"plan": plan, "pass": not reasons, "reasons": reasons,
            "kunit": {"present": True, "suites": ["page_alloc_batch"],
                      "failures": [{"name": n, "status": "failed", "diagnostics": []}
                                   for n in failures]},
            "reports": [{"kind": k, "line": 10 + i, "text": f"report {i}: {k}"}
                        for i, k in enumerate(reports)]}


class RunLayout(Layout):
    """A project copy whose guest and checker are fakes (scripts/boot.sh,
    scripts/check-log.py), and apply.sh/build.sh record their calls."""

    def __init__(self, name):
        super().__init__(name)
        self.calls = self.path("calls")
        self.results = self.path("results")
        os.makedirs(self.results)
        write_exec(self.path("scripts", "boot.sh"), FAKE_BOOT)
        write_exec(self.path("scripts", "check-log.py"), FAKE_CHECK_LOG)
        for script in ("apply.sh", "build.sh"):
            write_exec(self.path("scripts", script), FAKE_RECORD)
        for tool in ("make", "gcc", "qemu-system-x86_64"):   # must not be needed
            write_exec(os.path.join(self.bin, tool), UNEXPECTED)
        for name_, (subject, diff) in RUN_SERIES.items():
            write(os.path.join(self.patches, name_), text_patch(subject, diff))
        self.write_series(list(RUN_SERIES))

    def reset(self):
        for d in (self.results, os.path.join(self.build_base, "logs")):
            shutil.rmtree(d, ignore_errors=True)
        os.makedirs(self.results)
        if os.path.exists(self.calls):
            os.remove(self.calls)
        self.write_series(list(RUN_SERIES))

    def give(self, name, res):
        """The checker's result for the log build/logs/NAME.log."""
        with open(os.path.join(self.results, name + ".json"), "w") as f:
            json.dump(res, f)

    def calls_of(self, what):
        if not os.path.exists(self.calls):
            return []
        return [line.split(" ", 1)[1] for line in read(self.calls).splitlines()
                if line.split(" ", 1)[0] == what]

    def run(self, script, *args, **extra_env):
        return super().run(script, *args, FAKE_CALLS=self.calls, FAKE_RESULTS=self.results,
                           **extra_env)


class RunTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = RunLayout("run")

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def setUp(self):
        self.t.reset()

    def logs(self, *parts):
        return os.path.join(self.t.build_base, "logs", *parts)

    def check_args(self, variant, plan):
        self.t.give(f"{variant}-{plan}", result(plan))
        proc = self.t.run("run.sh", variant, plan)
        self.assertSucceeds(proc)
        calls = self.t.calls_of("check-log")
        self.assertEqual(len(calls), 1, calls)
        return calls[0].split()

    def test_the_suite_is_expected_iff_the_variants_patches_add_it(self):
        # Not from the built config: series' config here lacks the symbol
        # (renamed, say), and base's has it; the patches decide.
        write(os.path.join(self.t.build_base, "out", "series", "config"), "CONFIG_KUNIT=y\n")
        write(os.path.join(self.t.build_base, "out", "base", "config"), "CONFIG_PAGE_ALLOC_KUNIT_TEST=y\n")
        for variant, expected in (("series", True), ("prefix-3", True), ("prefix-2", False),
                                  ("base", False), ("hiorder", False)):
            with self.subTest(variant=variant):
                self.t.reset()
                if variant == "hiorder":
                    self.t.write_series(list(RUN_SERIES)[:3] + ["0006-mm-vmalloc-request-large-order-pages.patch"])
                    write(os.path.join(self.t.patches, "0006-mm-vmalloc-request-large-order-pages.patch"),
                          text_patch("mm/vmalloc: large orders", PAGE_ALLOC_DIFF))
                args = self.check_args(variant, "smoke")
                self.assertIn("--expect-vmalloc", args)
                if expected:
                    i = args.index("--expect-kunit")
                    self.assertEqual(args[i + 1], "page_alloc_batch")
                else:
                    self.assertNotIn("--expect-kunit", args)
                self.assertEqual(args[-3:], ["--json", self.logs(f"{variant}-smoke.json"),
                                             self.logs(f"{variant}-smoke.log")])
                self.assertEqual(args[:2], ["--kernel-tree", self.t.tree])

    def test_boot_plan_expects_no_test_vmalloc(self):
        args = self.check_args("series", "boot")
        self.assertNotIn("--expect-vmalloc", args)
        self.assertIn("--expect-kunit", args)

    def test_pressure_plan_expects_no_kunit_and_boots_small(self):
        args = self.check_args("series", "pressure")
        self.assertNotIn("--expect-kunit", args)
        self.assertIn("--expect-vmalloc", args)
        boot, = self.t.calls_of("boot")
        self.assertIn(" MEM=384M KARGS=init_on_free=1 cma=0 kunit.enable=0 ", boot)

    def test_a_failed_boot_is_checked_and_fails(self):
        self.t.give("series-smoke", result())
        proc = self.t.run("run.sh", "series", "smoke", FAKE_BOOT_MODE="fail")
        self.assertFails(proc, "fake boot: guest timed out")
        self.assertEqual(len(self.t.calls_of("check-log")), 1)
        self.assertIn("result: PASS", proc.stdout)

    def test_no_console_log(self):
        proc = self.t.run("run.sh", "series", "smoke", FAKE_BOOT_MODE="nolog")
        self.assertFails(proc, "no console log of series (plan smoke): " + self.logs("series-smoke.log"))
        self.assertEqual(self.t.calls_of("check-log"), [])

    def test_an_earlier_result_is_removed(self):
        write(self.logs("series-smoke.json"), json.dumps(result()))
        proc = self.t.run("run.sh", "series", "smoke")    # the checker crashes
        self.assertFails(proc, "Traceback")
        self.assertFalse(os.path.exists(self.logs("series-smoke.json")))

    def test_missing_series_fails_before_booting(self):
        os.remove(os.path.join(self.t.patches, "series"))
        proc = self.t.run("run.sh", "series", "smoke")
        self.assertFails(proc, os.path.join(self.t.patches, "series") + " not found")
        self.assertEqual(self.t.calls_of("boot"), [])

    def test_usage(self):
        self.assertFails(self.t.run("run.sh", "series"), "usage: ")

    def test_makefile_run_target_uses_run_sh(self):
        # The Makefile's run target: run.sh, no config grep for KUnit.
        with open(os.path.join(REPO, "Makefile")) as f:
            makefile = f.read()
        recipe = makefile.split("\nrun:\n", 1)[1].split("\n\n", 1)[0]
        self.assertEqual(recipe.strip(), "$(S)/run.sh $(VARIANT) $(PLAN) $(LOGS)/$(VARIANT)-$(PLAN).log")
        self.assertNotIn("CONFIG_PAGE_ALLOC_KUNIT_TEST", makefile)


class ReliabilityRunTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = RunLayout("reliability")

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def setUp(self):
        self.t.reset()

    def test_stress_expects_the_suite_pressure_does_not(self):
        self.t.give("series-vm-stress", result("stress"))
        self.t.give("series-vm-pressure", result("pressure"))
        proc = self.t.run("reliability.sh", "vm")
        self.assertSucceeds(proc)
        stress, pressure = (c.split() for c in self.t.calls_of("check-log"))
        self.assertEqual(stress[stress.index("--expect-kunit") + 1], "page_alloc_batch")
        self.assertNotIn("--expect-kunit", pressure)
        boots = self.t.calls_of("boot")
        self.assertIn("KARGS=debug_pagealloc=on page_owner=on page_poison=1 init_on_free=1"
                      " harness.repeat=3 ", boots[0])
        self.assertIn("MEM=384M KARGS=debug_pagealloc=on page_owner=on page_poison=1"
                      " init_on_free=1 cma=0 kunit.enable=0 ", boots[1])
        self.assertEqual(self.t.calls_of("apply.sh")[0].split()[0], "series")

    def test_a_failed_plan_fails_the_entry(self):
        self.t.give("series-vm-stress", result("stress", reports=["KASAN"]))
        self.t.give("series-vm-pressure", result("pressure"))
        proc = self.t.run("reliability.sh", "vm")
        self.assertFails(proc, "reliability matrix entry 'vm' failed for series")
        self.assertEqual(len(self.t.calls_of("check-log")), 2, "both plans run")


MUTATION_DIFF = PAGE_ALLOC_DIFF.replace("+int b;", "+int c;")


class MutantsTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = RunLayout("mutants")
        cls.mutations = cls.t.mutations

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def setUp(self):
        self.t.reset()
        shutil.rmtree(self.mutations, ignore_errors=True)
        os.makedirs(self.mutations)

    def mutation(self, name, *headers):
        body = "A deliberately broken change.\n\n" + "".join(h + "\n" for h in headers)
        write(os.path.join(self.mutations, name + ".patch"),
              text_patch("MUTANT: " + name, MUTATION_DIFF).replace("\n---\n", "\n" + body + "---\n", 1))

    def standard(self):
        self.mutation("per-page", "Harness-Expect: kunit page_alloc_batch.free_contig_range_whole_block",
                      "Harness-Expect: kunit page_alloc_batch.free_contig_range_unaligned")
        self.mutation("reclaim", "Harness-Plan: pressure",
                      "Harness-Expect: reason direct compaction/reclaim")

    def test_caught_by_what_the_mutations_name(self):
        self.standard()
        self.t.give("mutant-per-page-smoke", result(failures=[
            "page_alloc_batch.free_contig_range_whole_block.order 1",
            "page_alloc_batch.free_contig_range_whole_block.order 9",
            "page_alloc_batch.free_contig_range_unaligned",
            "page_alloc_batch.cma_release_batched"]))
        self.t.give("mutant-reclaim-pressure", result("pressure", reasons=[
            "phase pressure: direct compaction/reclaim: compact_stall +2, allocstall_normal +1"]))
        proc = self.t.run("mutants.sh")
        self.assertSucceeds(proc)
        self.assertIn("mutant per-page: caught by plan smoke: kunit page_alloc_batch."
                      "free_contig_range_whole_block: KUnit page_alloc_batch.free_contig_range_"
                      "whole_block.order 1, page_alloc_batch.free_contig_range_whole_block.order 9"
                      " failed [smoke]; kunit page_alloc_batch.free_contig_range_unaligned: KUnit"
                      " page_alloc_batch.free_contig_range_unaligned failed [smoke]\n", proc.stdout)
        self.assertIn("mutant reclaim: caught by plan pressure: reason direct compaction/reclaim:"
                      " reason [pressure]: phase pressure: direct compaction/reclaim: compact_stall"
                      " +2", proc.stdout)
        self.assertIn("all 2 mutants caught", proc.stderr)
        # What the runs had to show: the suite where the patches add it.
        smoke, pressure = (c.split() for c in self.t.calls_of("check-log"))
        self.assertEqual(smoke[smoke.index("--expect-kunit") + 1], "page_alloc_batch")
        self.assertIn("--expect-vmalloc", smoke)
        self.assertNotIn("--expect-kunit", pressure)
        boots = self.t.calls_of("boot")
        self.assertTrue(boots[0].startswith("mutant-per-page smoke "), boots)
        self.assertIn("MEM=2G KARGS=init_on_free=1 KUNIT_FILTER=page_alloc*", boots[0])
        self.assertIn("MEM=384M KARGS=init_on_free=1 cma=0 kunit.enable=0 ", boots[1])

    def test_a_failure_for_another_reason_is_not_caught(self):
        self.standard()
        cases = {
            "never started": result(reasons=["no 'harness: start' marker",
                                             "log truncated: no 'harness: done' marker"]),
            "other KUnit case": result(failures=["page_alloc_batch.free_pages_bulk_arrays"]),
            "one of two cases": result(failures=["page_alloc_batch.free_contig_range_unaligned"]),
            "name prefix only": result(failures=["page_alloc_batch.free_contig_range_whole_blocks",
                                                 "page_alloc_batch.free_contig_range_unaligned"]),
            "unparsable KUnit": result(reasons=["cannot parse KUnit output"]),
        }
        for case, res in cases.items():
            with self.subTest(case=case):
                self.t.reset()
                self.t.give("mutant-per-page-smoke", res)
                proc = self.t.run("mutants.sh", "per-page")
                self.assertFails(proc, "mutants whose runs failed for another reason than their"
                                 " mutation (not caught): per-page")
                self.assertIn("mutant per-page: run failed for another reason (plan smoke): "
                              + res["reasons"][0], proc.stdout)
                self.assertNotIn("caught by", proc.stdout)
                self.assertNotIn("mutants caught", proc.stderr)

    def test_a_checker_traceback_is_not_caught(self):
        self.standard()
        # An earlier run's result, which would match, must not count.
        write(os.path.join(self.t.build_base, "logs", "mutant-per-page-smoke.json"), json.dumps(
            result(failures=["page_alloc_batch.free_contig_range_whole_block.order 1",
                             "page_alloc_batch.free_contig_range_unaligned"])))
        proc = self.t.run("mutants.sh", "per-page")
        self.assertFails(proc, "failed for another reason than their mutation (not caught): per-page")
        self.assertIn("mutant per-page: run failed for another reason (plan smoke): no check-log.py"
                      " result " + os.path.join(self.t.build_base, "logs", "mutant-per-page-smoke.json"),
                      proc.stdout)
        self.assertIn("Traceback (most recent call last):", proc.stdout)

    def test_a_survivor_fails(self):
        self.standard()
        self.t.give("mutant-reclaim-pressure", result("pressure"))
        proc = self.t.run("mutants.sh", "reclaim")
        self.assertFails(proc, "mutants not caught by the tests: reclaim")
        self.assertIn("mutant reclaim: SURVIVED plan pressure (the run passed)", proc.stdout)

    def test_a_mutation_without_expectations_is_an_error(self):
        self.standard()
        self.mutation("vague", "Harness-Plan: smoke")
        proc = self.t.run("mutants.sh")
        self.assertFails(proc, os.path.join(self.mutations, "vague.patch")
                         + ": no 'Harness-Expect:' line in the commit message")
        self.assertEqual(self.t.calls_of("apply.sh"), [], "built before every mutation was checked")

    def test_malformed_expectations_are_errors(self):
        for header, message in (("Harness-Expect: kunit free_contig_range_unaligned", "is SUITE.CASE"),
                                ("Harness-Expect: panic", "bad 'Harness-Expect: panic'"),
                                ("Harness-Plan: stress\nHarness-Expect: report BUG",
                                 "unknown Harness-Plan 'stress'")):
            with self.subTest(header=header):
                self.mutation("bad", header)
                self.assertFails(self.t.run("mutants.sh", "bad"), message)
                self.assertEqual(self.t.calls_of("apply.sh"), [])

    def test_expectations_in_the_diff_do_not_count(self):
        # Only the commit message counts, not a line of the diff.
        write(os.path.join(self.mutations, "sneaky.patch"), text_patch(
            "MUTANT: sneaky", MUTATION_DIFF + "+Harness-Expect: reason no\n"))
        self.assertFails(self.t.run("mutants.sh", "sneaky"), "no 'Harness-Expect:' line")

    def test_no_mutants(self):
        for case in ("empty", "missing"):
            with self.subTest(tests_mutations=case):
                if case == "missing":
                    shutil.rmtree(self.mutations)
                proc = self.t.run("mutants.sh")
                self.assertFails(proc, "no mutants in " + self.mutations)
                self.assertNotIn("mutants caught", proc.stderr)
        os.makedirs(self.mutations)

    def matrix_mutant(self):
        self.mutation("skip", "Harness-Expect: kunit page_alloc_batch.free_contig_range_init_on_free",
                      "Harness-Expect-Matrix: report page poisoning")

    def test_matrix_caught_by_its_reports(self):
        self.matrix_mutant()
        self.t.give("mutant-skip-vm-stress", result("stress", reports=["page poisoning", "page_owner",
                                                                     "page poisoning"]))
        self.t.give("mutant-skip-vm-pressure", result("pressure", reports=["page poisoning"]))
        proc = self.t.run("mutants.sh", "--matrix", "vm", "skip")
        self.assertSucceeds(proc)
        self.assertIn("mutant skip: caught by matrix entry vm: report page poisoning: 2 'page"
                      " poisoning' report(s) [stress], first at line 10: report 0: page poisoning"
                      " | 1 'page poisoning' report(s) [pressure]", proc.stdout)
        self.assertIn("all 1 mutants caught by matrix entry vm", proc.stderr)
        stress, pressure = (c.split() for c in self.t.calls_of("check-log"))
        self.assertEqual(stress[stress.index("--expect-kunit") + 1], "page_alloc_batch")
        self.assertNotIn("--expect-kunit", pressure)
        self.assertEqual(self.t.calls_of("apply.sh")[0].split()[0], "mutant-skip")

    def test_matrix_failure_for_another_reason_is_not_caught(self):
        self.matrix_mutant()
        self.t.give("mutant-skip-vm-stress", result("stress", reports=["KASAN"], reasons=[
            "leak: phase stress lost 9000 free pages"]))
        self.t.give("mutant-skip-vm-pressure", result("pressure"))
        proc = self.t.run("mutants.sh", "--matrix", "vm", "skip")
        self.assertFails(proc, "failed for another reason than their mutation (not caught): skip")
        self.assertIn("mutant skip: run failed for another reason (matrix entry vm): leak: phase"
                      " stress lost 9000 free pages [stress]; kernel reports: KASAN [stress]\n"
                      "  expected, not seen: report page poisoning", proc.stdout)

    def test_matrix_that_failed_before_any_guest_is_not_caught(self):
        self.matrix_mutant()
        write_exec(self.t.path("scripts", "build.sh"), "#!/bin/bash\necho 'fake build error' >&2\nexit 1\n")
        try:
            proc = self.t.run("mutants.sh", "--matrix", "vm", "skip")
        finally:
            write_exec(self.t.path("scripts", "build.sh"), FAKE_RECORD)
        self.assertFails(proc, "failed for another reason than their mutation (not caught): skip")
        self.assertIn("no check-log.py result", proc.stdout)

    def test_matrix_needs_the_matrix_expectations(self):
        self.mutation("plain", "Harness-Expect: kunit page_alloc_batch.free_contig_range_unaligned")
        proc = self.t.run("mutants.sh", "--matrix", "vm", "plain")
        self.assertFails(proc, "no 'Harness-Expect-Matrix:' line")
        self.assertEqual(self.t.calls_of("apply.sh"), [])

    def test_the_repos_mutations_name_their_expectations(self):
        # Each base's mutations/ says what catches it, in both fields where
        # it is run (make mutants; skip-prepare through matrix entry vm), and
        # every KUnit case named is a case of the base's series (the suite's
        # patch, or a later patch that adds cases to it).
        tool = os.path.join(REPO, "scripts", "mutant-expect.py")
        for base in sorted(os.listdir(os.path.join(REPO, "bases"))):
            d = os.path.join(REPO, "bases", base, "mutations")
            names = sorted(n[:-len(".patch")] for n in os.listdir(d) if n.endswith(".patch"))
            self.assertTrue(names, base)
            series = self.series_text(base)
            for name in names:
                with self.subTest(base=base, mutation=name):
                    proc = subprocess.run([tool, "list", "Harness-Expect", os.path.join(d, name + ".patch")],
                                          capture_output=True, text=True, timeout=TIMEOUT)
                    self.assertSucceeds(proc)
                    for line in proc.stdout.splitlines():
                        if line.startswith("kunit "):
                            self.assertTrue(line.startswith("kunit page_alloc_batch."), line)
                            case = line.split(".", 1)[1]
                            self.assertRegex(series, rf"\n\+\s*KUNIT_CASE(_PARAM)?\({case}\b")
            proc = subprocess.run([tool, "list", "Harness-Expect-Matrix", os.path.join(d, "skip-prepare.patch")],
                                  capture_output=True, text=True, timeout=TIMEOUT)
            self.assertSucceeds(proc)

    def series_text(self, base):
        d = os.path.join(REPO, "bases", base, "patches")
        names = [n for n in read(os.path.join(d, "series")).split() if n.endswith(".patch")]
        self.assertTrue(any("KUnit" in n for n in names), names)
        return "".join(read(os.path.join(d, n)) for n in names)


# --------------------------------------------------------------------------
# reliability.sh and mutants.sh: argument errors, before anything is built
# (deps.sh and fetch-base.sh: tests/test_deps.py)
# --------------------------------------------------------------------------
class MatrixArgsTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = t = Layout("matrix")
        os.makedirs(t.mutations)
        write(os.path.join(t.mutations, "broken.patch"), "not used\n")
        for tool in ("make", "gcc", "git", "qemu-system-x86_64"):   # must not be needed
            write_exec(os.path.join(t.bin, tool), UNEXPECTED)

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def test_reliability_needs_an_entry(self):
        self.assertFails(self.t.run("reliability.sh"), "usage: ")

    def test_reliability_unknown_entry(self):
        self.assertFails(self.t.run("reliability.sh", "nosuch"), "no matrix entry 'nosuch'")

    def test_reliability_variant_must_be_a_mutant(self):
        self.assertFails(self.t.run("reliability.sh", "--variant", "hiorder", "vm"),
                         "--variant takes mutant-NAME, not 'hiorder'")

    def test_mutants_unknown_name(self):
        self.assertFails(self.t.run("mutants.sh", "nosuch"), "no mutant 'nosuch'")

    def test_mutants_matrix_needs_an_entry(self):
        self.assertFails(self.t.run("mutants.sh", "--matrix"), "usage: ")


if __name__ == "__main__":
    unittest.main()

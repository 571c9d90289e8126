"""Tests of the harness scripts' failure paths (scripts/*.sh), with fakes.

Nothing here builds a kernel or boots QEMU, and nothing touches the real
build/ directory.  Each test class makes a throw-away copy of the project in a
temporary directory T:

    T/scripts/        copy of the repo's scripts/ (so TOP=T and PATCHES=T/patches)
    T/kconfig/        copy of the repo's kconfig/
    T/patches/series  written by the tests
    T/build/          BUILD (passed in the environment); T/build/linux is a
                      tiny git work tree with a "base" tag when a test needs one
    T/bin/            fake tools (make, qemu-system-x86_64, dpkg-query, id,
                      apt-get, ...) put first on PATH
    T/tmp/            TMPDIR

Run from the repo root: bash tests/run  (or python3 -m unittest tests.test_scripts)
"""
import gzip
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

# Variables the Makefile exports (or a user may have set) that change what the
# scripts do; the tests set the ones they need explicitly.
HARNESS_VARS = {"BUILD", "MEM", "SMP", "ACCEL", "ICOUNT", "TIMEOUT", "KARGS", "LOOPS",
                "KUNIT_FILTER", "BENCH_ROWS", "KCONFIG_EXTRA", "CCACHE_DIR", "EXPORT_REF"}

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


class Layout:
    """A temporary copy of the project (see the module docstring)."""

    def __init__(self, name):
        self._tmp = tempfile.TemporaryDirectory(prefix=f"harness-{name}-")
        self.root = self._tmp.name
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(os.path.join(REPO, "scripts"), os.path.join(self.root, "scripts"),
                        ignore=ignore)
        shutil.copytree(os.path.join(REPO, "kconfig"), os.path.join(self.root, "kconfig"))
        self.patches = os.path.join(self.root, "patches")
        self.build = os.path.join(self.root, "build")
        self.tree = os.path.join(self.build, "linux")
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
              "# Applied in this order with git am on the base (see README.patches).\n"
              + "".join(n + "\n" for n in names))

    def init_tree(self, files, modes=None):
        """T/build/linux: a git repo whose one commit has FILES, tagged base."""
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
        env.update(BUILD=self.build, TMPDIR=self.tmpdir,
                   PATH=self.bin + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"))
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def run(self, script, *args, **extra_env):
        """Run T/scripts/SCRIPT in its own session; return the CompletedProcess
        with .elapsed.  On timeout, kill its whole process group (a hung script
        leaves no children behind) and fail."""
        cmd = [self.path("scripts", script), *args]
        start = time.monotonic()
        with subprocess.Popen(cmd, env=self.env(**extra_env), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True) as p:
            try:
                out, err = p.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                out, err = p.communicate()
                raise AssertionError(f"{script} {' '.join(args)} still ran after {TIMEOUT}s;"
                                     f" stderr:\n{err}") from None
        proc = subprocess.CompletedProcess(cmd, p.returncode, out, err)
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
        self.assertFails(proc, "unknown variant 'bogus'", "known: base, series, hiorder, prefix-N")

    def test_usage(self):
        self.assertFails(self.t.run("variant-patches.sh"), "usage:")

    def test_empty_series_gives_no_patches(self):
        # An empty series (as patches/series was before the first export):
        # every variant is the base as is, not a bogus "patches/" entry.
        self.t.write_series([])
        for variant in ("series", "base", "prefix-0"):
            with self.subTest(variant=variant):
                self.assertEqual(self.patches(variant), [])

    def test_prefix_0_is_empty(self):
        self.assertEqual(self.patches("prefix-0"), [])


class RealSeriesTest(ScriptTestCase):
    """The repo's own patches/series: every variant names existing patches
    (the rules go by file name, which export.sh derives from the subjects)."""

    def run_real(self, variant):
        proc = subprocess.run([os.path.join(REPO, "scripts", "variant-patches.sh"), variant],
                              env=git_env(), stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=TIMEOUT)
        self.assertSucceeds(proc)
        return proc.stdout.splitlines()

    def test_every_variant_names_existing_patches(self):
        series = self.run_real("series")
        if not series:
            self.skipTest("patches/series is empty")
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
        self.assertFails(proc, "patch listed in patches/series not found: "
                         + os.path.join(self.t.patches, "0002-not-there.patch"))

    def test_uncommitted_changes_are_refused(self):
        self.t.write_series([GOOD])
        write(os.path.join(self.t.tree, "mm/bar.c"), "int bar = 1;\n")
        proc = self.t.run("apply.sh", "series")
        self.assertFails(proc, f"work tree {self.t.tree} has uncommitted changes")
        self.assertEqual(read(os.path.join(self.t.tree, "mm/bar.c")), "int bar = 1;\n")

    def test_empty_series_applies_as_the_base(self):
        self.t.write_series([])
        proc = self.t.run("apply.sh", "series")
        self.assertSucceeds(proc)
        self.assertIn("variant series: 0 patches on base", proc.stderr)
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
# FAKE_MAKE_MODE (for "bzImage modules"): ok | error | warning
# FAKE_MAKE_WARN_FILE: the file of the warning; FAKE_MAKE_DROP: a .config line
# that olddefconfig drops; FAKE_MAKE_CONFIG_FAIL=1: allnoconfig fails.
obj= targets=()
while [ $# -gt 0 ]; do
	case $1 in
	-C) shift ;;
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
	echo "Kernel: arch/x86/boot/bzImage is ready  (#1)"
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


class BuildTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = t = Layout("build")
        t.init_tree({"mm/page_alloc.c": "int page_alloc;\n",
                     "mm/vmscan.c": "int vmscan;\n",
                     "mm/Kconfig": "config CMA\n\tbool \"Contiguous Memory Allocator\"\n",
                     "scripts/kconfig/merge_config.sh": MERGE_CONFIG_STUB},
                    modes={"scripts/kconfig/merge_config.sh": 0o755})
        # The variant: one patch on base that touches mm/page_alloc.c.
        git(t.tree, "checkout", "-q", "-b", "variant/series")
        write(os.path.join(t.tree, "mm/page_alloc.c"), "int page_alloc = 1;\n")
        git(t.tree, "commit", "-q", "-a", "-m", "mm/page_alloc: change")
        write_exec(os.path.join(t.bin, "make"), FAKE_MAKE)
        cls.calls = t.path("make-calls")
        # Fragments of our own, so the tests do not depend on the repo's kconfig/.
        shutil.rmtree(t.path("kconfig"))
        write(t.path("kconfig", "base.config"), "# base\nCONFIG_64BIT=y\nCONFIG_SMP=y\nCONFIG_NR_CPUS=8\n")
        write(t.path("kconfig", "mm.config"), "# mm\nCONFIG_COMPACTION=y\nCONFIG_CMA=y\n")
        write(t.path("kconfig", "test.config"), "# test\nCONFIG_KUNIT=y\nCONFIG_TEST_VMALLOC=m\n")

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def setUp(self):
        if os.path.exists(self.calls):
            os.remove(self.calls)
        shutil.rmtree(os.path.join(self.t.build, "out"), ignore_errors=True)

    def build(self, **env):
        return self.t.run("build.sh", "series", FAKE_MAKE_CALLS=self.calls, **env)

    def log(self):
        return os.path.join(self.t.build, "logs", "build-series.log")

    def test_compiler_error_is_shown_and_fails(self):
        proc = self.build(FAKE_MAKE_MODE="error")
        self.assertFails(proc,
                         "mm/page_alloc.c:123:5: error: 'foo' undeclared (first use in this function)",
                         "---- compiler/linker errors ----",
                         f"build of variant series failed (full log: {self.log()})")
        self.assertIn("Error 2", proc.stderr)
        self.assertNotIn("CC      mm/filemap.o", proc.stderr, "only the errors, not the noise")
        self.assertIn("error: 'foo' undeclared", read(self.log()))
        self.assertFalse(os.path.exists(os.path.join(self.t.build, "out", "series")))
        self.assertEqual(read(self.calls).splitlines(), ["allnoconfig", "olddefconfig", "bzImage modules"])

    def test_warning_in_a_patched_file_fails(self):
        proc = self.build(FAKE_MAKE_MODE="warning", FAKE_MAKE_WARN_FILE="mm/page_alloc.c")
        self.assertFails(proc, "mm/page_alloc.c:10:1: warning: unused variable",
                         "build of variant series has compiler warnings in patched files")
        self.assertFalse(os.path.exists(os.path.join(self.t.build, "out", "series")))

    def test_warning_in_an_unpatched_file_is_allowed(self):
        proc = self.build(FAKE_MAKE_MODE="warning", FAKE_MAKE_WARN_FILE="mm/vmscan.c")
        self.assertSucceeds(proc)
        self.assertNotIn("warning:", proc.stderr)
        self.assertIn("built series in", proc.stderr)

    def test_successful_build_keeps_the_variant(self):
        proc = self.build(FAKE_MAKE_MODE="ok")
        self.assertSucceeds(proc)
        out = os.path.join(self.t.build, "out", "series")
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

    def test_fragment_option_unknown_to_the_tree_is_ignored(self):
        # No Kconfig of this tree declares TEST_VMALLOC (as for a test option
        # a variant lacks): that it is missing from .config is not an error.
        proc = self.build(FAKE_MAKE_DROP="CONFIG_TEST_VMALLOC=m")
        self.assertSucceeds(proc)
        self.assertNotIn("did not survive", proc.stderr)


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


class BootTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = t = Layout("boot")
        out = os.path.join(t.build, "out", "series")
        write(os.path.join(out, "bzImage"), "fake-bzImage\n")
        write(os.path.join(out, "modules", "test_vmalloc.ko"), "fake-ko\n")
        write_exec(os.path.join(t.build, "obj", "usr", "gen_init_cpio"), '#!/bin/sh\ncat "$1"\n')
        # Guest helpers newer than their sources, so initramfs.sh does not compile them.
        for helper in ("guest-insmod", "guest-fragment"):
            exe = os.path.join(t.build, helper)
            write_exec(exe, "#!/bin/sh\nexit 0\n")
            src = os.path.getmtime(t.path("scripts", helper + ".c"))
            os.utime(exe, (src + 100, src + 100))
        write_exec(os.path.join(t.bin, "qemu-system-x86_64"), FAKE_QEMU)
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
                         + os.path.join(self.t.build, "out", "prefix-3", "bzImage") + ")")
        self.assertFalse(os.path.exists(self.args), "qemu was started")

    def test_bad_accel(self):
        proc = self.boot("ok", ACCEL="xen")
        self.assertFails(proc, "ACCEL must be auto, kvm or tcg, not 'xen'")


# --------------------------------------------------------------------------
# deps.sh: missing packages without root
# --------------------------------------------------------------------------
FAKE_DPKG_QUERY = r"""#!/bin/bash
# Fake dpkg-query -W -f=FORMAT PACKAGE: installed iff PACKAGE is in
# FAKE_DPKG_INSTALLED (space-separated).
pkg=${!#} fmt=
for a; do case $a in -f=*) fmt=${a#-f=} ;; esac; done
case " ${FAKE_DPKG_INSTALLED:-} " in
*" $pkg "*) ;;
*) echo "dpkg-query: no packages found matching $pkg" >&2; exit 1 ;;
esac
case $fmt in
'${Status}') printf 'install ok installed' ;;
'${Version}') printf '6.12.117-1~deb12u1' ;;
esac
"""

FAKE_ID = r"""#!/bin/bash
[ "$1" = -u ] && { echo 1000; exit 0; }
echo "fake id: unexpected: $*" >&2
exit 1
"""

# deps.sh's package list (a change there should be a change here too).
DEPS = ["build-essential", "bc", "bison", "flex", "libelf-dev", "libssl-dev", "cpio",
        "xz-utils", "kmod", "git", "perl", "python3", "ccache", "qemu-system-x86",
        "busybox-static", "codespell"]


# --------------------------------------------------------------------------
# reliability.sh and mutants.sh: argument errors, before anything is built
# --------------------------------------------------------------------------
class MatrixArgsTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = t = Layout("matrix")
        os.makedirs(t.path("tests", "mutations"))
        write(t.path("tests", "mutations", "broken.patch"), "not used\n")
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


class DepsTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = t = Layout("deps")
        write_exec(os.path.join(t.bin, "dpkg-query"), FAKE_DPKG_QUERY)
        write_exec(os.path.join(t.bin, "id"), FAKE_ID)
        cls.apt_calls = t.path("apt-calls")
        for tool in ("apt-get", "apt-cache"):
            write_exec(os.path.join(t.bin, tool),
                       f'#!/bin/bash\necho "$(basename "$0") $*" >>"{cls.apt_calls}"\nexit 1\n')

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def missing_line(self, stderr):
        lines = [line for line in stderr.splitlines() if line.startswith("error: missing packages: ")]
        self.assertEqual(len(lines), 1, stderr)
        return lines[0][len("error: missing packages: "):].split()

    def test_nothing_installed_not_root(self):
        proc = self.t.run("deps.sh", FAKE_DPKG_INSTALLED="")
        self.assertFails(proc, "error: missing packages: build-essential ",
                         "run as root (apt-get install)", "apt-get install build-essential ")
        self.assertEqual(self.missing_line(proc.stderr), DEPS + ["linux-source-6.12"])
        self.assertFalse(os.path.exists(self.apt_calls), "apt was run without root")

    def test_one_package_missing_not_root(self):
        installed = [p for p in DEPS if p != "codespell"] + ["linux-source-6.12"]
        proc = self.t.run("deps.sh", FAKE_DPKG_INSTALLED=" ".join(installed))
        expected = ["codespell"]
        if not os.path.isfile(BASE_TARBALL):
            expected.append("linux-source-6.12")
        self.assertFails(proc, "run as root", "apt-get install " + " ".join(expected))
        self.assertEqual(self.missing_line(proc.stderr), expected)
        self.assertFalse(os.path.exists(self.apt_calls), "apt was run without root")

    def test_extra_package_argument_is_required_too(self):
        installed = DEPS + ["linux-source-6.12"]
        proc = self.t.run("deps.sh", "extra-pkg", FAKE_DPKG_INSTALLED=" ".join(installed))
        self.assertFails(proc, "run as root", "apt-get install extra-pkg")
        self.assertIn("extra-pkg", self.missing_line(proc.stderr))

    @unittest.skipUnless(os.path.isfile(BASE_TARBALL), f"no {BASE_TARBALL}")
    def test_everything_installed(self):
        proc = self.t.run("deps.sh", FAKE_DPKG_INSTALLED=" ".join(DEPS + ["linux-source-6.12"]))
        self.assertSucceeds(proc)
        self.assertEqual(proc.stderr, "")
        self.assertFalse(os.path.exists(self.apt_calls))


if __name__ == "__main__":
    unittest.main()

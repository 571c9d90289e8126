"""Tests of scripts/bench-rows.sh (the benchmark rows, masks by test name) and
of scripts/bench.sh with fakes (no kernel, no QEMU).

bench-rows.sh reads the test_case_array[] of the kernels' lib/test_vmalloc.c;
tests/bench-rows/test_vmalloc-{6.12,7.3}.c are that array of each base (with
the series' contig_free_test), copied from the kernel sources.

bench.sh runs in a throw-away copy of the project T (T/scripts with fake
boot.sh and check-log.py, T/bases/BASE/base.conf, T/build/BASE/linux a tiny
git tree with a variant/NAME branch per kernel, T/build/BASE/out/NAME the
"built" kernels, T/bin a fake qemu-system-x86_64); bench-report.py is the
real one (Debian's python3-scipy and python3-matplotlib, as in
test_bench_report.py: without them those tests fail, never skip).
Run from the repo root: bash tests/run
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_bench_report import PackagesTestCase  # noqa: E402
from test_scripts import git, git_env, read, run_isolated, write, write_exec  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS_SCRIPT = os.path.join(REPO, "scripts", "bench-rows.sh")
FIXTURES = os.path.join(REPO, "tests", "bench-rows")
FIXTURE = {base: os.path.join(FIXTURES, f"test_vmalloc-{base}.c") for base in ("6.12", "7.3")}
TIMEOUT = 120

# The row names and the bit of their test in each base's test_case_array[].
COMMON_MASKS = {"fix_size": 1, "full_fit": 2, "long_busy_list": 4, "random_size": 8,
                "fix_align": 16, "random_size_align": 32, "pcpu_alloc": 128,
                "kvfree_rcu_1_arg": 256, "kvfree_rcu_2_arg": 512, "vm_map_ram": 1024}
MASKS = {"6.12": dict(COMMON_MASKS, contig_free=2048),     # bit 11
         "7.3": dict(COMMON_MASKS, contig_free=8192)}      # bit 13: after no_block, vrealloc


def rows_script(*args, stdin=None):
    proc = subprocess.run(["bash", ROWS_SCRIPT, *args], capture_output=True, text=True,
                          input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                          timeout=TIMEOUT)
    return proc.returncode, proc.stdout, proc.stderr


def parse_rows(out):
    """[(label, {param: value})] of bench-rows.sh's output."""
    rows = []
    for line in out.splitlines():
        label, sep, params = line.partition("|")
        assert sep, line
        rows.append((label, dict(p.split("=", 1) for p in params.split())))
    return rows


class BenchRowsTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name

    def source(self, text, name="test_vmalloc.c"):
        path = os.path.join(self.tmp, name)
        write(path, text)
        return path

    def assertMasks(self, out, masks):
        rows = parse_rows(out)
        self.assertEqual(len(rows), 20)
        for label, params in rows:
            self.assertEqual(params["run_test_mask"], str(masks[label.split()[0]]), label)
            self.assertEqual(params["nr_threads"], "1")

    def test_masks_612(self):
        rc, out, err = rows_script("--source", FIXTURE["6.12"], "50")
        self.assertEqual(rc, 0, err)
        self.assertMasks(out, MASKS["6.12"])
        lines = out.splitlines()
        self.assertEqual(lines[0], "fix_align p:1 l:10000|run_test_mask=16 test_loop_count=10000 "
                                   "nr_threads=1 nr_pages=1")
        self.assertEqual(lines[-1], "contig_free l:2000|run_test_mask=2048 test_loop_count=2000 "
                                    "nr_threads=1")
        self.assertIn("fix_size p:512 h:1 l:2000|run_test_mask=1 test_loop_count=2000 "
                      "nr_threads=1 nr_pages=512 use_huge=1", lines)

    def test_masks_73(self):
        """7.3 inserts no_block_alloc_test and vrealloc_test: contig_free_test,
        inside #ifdef CONFIG_CONTIG_ALLOC, is bit 13."""
        rc, out, err = rows_script("--source", FIXTURE["7.3"], "50")
        self.assertEqual(rc, 0, err)
        self.assertMasks(out, MASKS["7.3"])
        self.assertEqual(out.splitlines()[-1], "contig_free l:2000|run_test_mask=8192 "
                         "test_loop_count=2000 nr_threads=1")
        # the same rows as 6.12 but for the mask of contig_free
        _, out612, _ = rows_script("--source", FIXTURE["6.12"], "50")
        self.assertEqual(out.replace("run_test_mask=8192", "run_test_mask=2048"), out612)

    def test_by_name_not_position(self):
        """Reordered entries: each row keeps its test, whatever its bit."""
        lines = read(FIXTURE["6.12"]).splitlines(keepends=True)
        entries = [line for line in lines if line.lstrip().startswith('{ "')]
        start = lines.index(entries[0])
        shuffled = lines[:start] + entries[::-1] + lines[start + len(entries):]
        rc, out, err = rows_script("--source", self.source("".join(shuffled)))
        self.assertEqual(rc, 0, err)
        n = len(entries)
        names = [e.split('"')[1] for e in entries]
        masks = {row: 1 << (n - 1 - names.index(name)) for row, name in (
            ("fix_size", "fix_size_alloc_test"), ("contig_free", "contig_free_test"),
            ("vm_map_ram", "vm_map_ram_test"), ("random_size", "random_size_alloc_test"),
            ("random_size_align", "random_size_align_alloc_test"))}
        for label, params in parse_rows(out):
            if label.split()[0] in masks:
                self.assertEqual(params["run_test_mask"], str(masks[label.split()[0]]), label)
        self.assertEqual(masks["contig_free"], 1)

    def test_stdin(self):
        rc, out, err = rows_script("--source", "-", stdin=read(FIXTURE["7.3"]))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, rows_script("--source", FIXTURE["7.3"])[1])
        self.assertIn("l:1000|", out)          # SCALE 100 by default

    def test_missing_test(self):
        """A test the source lacks: error naming the file and the test, no rows."""
        text = read(FIXTURE["7.3"]).replace('\t{ "contig_free_test", contig_free_test, },\n', "")
        path = self.source(text)
        rc, out, err = rows_script("--source", path, "50")
        self.assertNotEqual(rc, 0)
        self.assertEqual(out, "")
        self.assertIn(f'error: {path}: test_case_array[] has no test "contig_free_test"', err)

    def test_unknown_conditional(self):
        """An entry under a conditional other than CONFIG_CONTIG_ALLOC: its bit,
        and those after it, cannot be told."""
        text = read(FIXTURE["7.3"]).replace("#ifdef CONFIG_CONTIG_ALLOC", "#ifdef CONFIG_FOO")
        path = self.source(text)
        rc, out, err = rows_script("--source", path)
        self.assertNotEqual(rc, 0)
        self.assertEqual(out, "")
        self.assertIn(f'error: {path}:18: test_case_array[] has "#ifdef CONFIG_FOO"', err)

    def test_not_test_vmalloc(self):
        path = self.source("int main(void) { return 0; }\n")
        rc, out, err = rows_script("--source", path)
        self.assertNotEqual(rc, 0)
        self.assertIn(f"error: {path}: no test_case_array[] initialiser", err)
        missing = os.path.join(self.tmp, "nope.c")
        rc, out, err = rows_script("--source", missing)
        self.assertNotEqual(rc, 0)
        self.assertIn(f"error: test_vmalloc.c source not found: {missing}", err)

    def test_usage(self):
        rc, out, err = rows_script("50")
        self.assertNotEqual(rc, 0)
        self.assertIn("no test_vmalloc.c source: give --source FILE", err)
        rc, out, err = rows_script("--source", FIXTURE["6.12"], "0")
        self.assertNotEqual(rc, 0)
        self.assertIn("SCALE must be a positive integer", err)
        self.assertEqual(out, "")


# ---------------------------------------------------------------- bench.sh --

# Fake scripts/boot.sh: records the boot (T/boots.txt) and writes a "log"
# with the variant and the rows file.
FAKE_BOOT = """#!/bin/bash
set -e
echo "$1 $2" >>"$(dirname "$0")/../boots.txt"
{ echo "variant $1"; cat "$BENCH_ROWS"; } >"$3"
"""

# Fake scripts/check-log.py --expect-vmalloc --json OUT LOG: the rows of the
# log with made-up timings: every kernel as fast as the series but order0
# and base 2x slower on fix_size p:512 h:1, hiorder and regression 2x slower
# on the large fix_size rows, and all but the series 6x slower on contig_free:
# every target of 6.12 and 7.3 met.
FAKE_CHECK_LOG = """#!/usr/bin/python3
import json, re, sys
args = sys.argv[1:]
out = args[args.index("--json") + 1] if "--json" in args else None
log = args[-1]
lines = open(log).read().splitlines()
variant = lines[0].split()[1]
run = int(re.search(r"-(\\d+)\\.log$", log).group(1))
noise = [0.99, 1.01, 1.0, 0.995, 1.005][(run - 1) % 5]
rows = []
for line in lines[1:]:
    label = line.split("|")[0]
    t = 50000.0
    if variant != "series" and label.startswith("contig_free"):
        t *= 6
    if variant in ("base", "order0") and label.startswith("fix_size p:512 h:1 "):
        t *= 2
    if variant in ("hiorder", "regression") and re.match(r"fix_size p:(64|256|512) ", label):
        t *= 2
    rows.append({"row": label, "test": label.split()[0], "worker": 0, "avg_us": round(t * noise)})
if out:
    with open(out, "w") as f:
        json.dump({"variant": variant, "plan": "bench", "pass": True, "reasons": [],
                   "vmalloc": rows}, f)
"""

VARIANTS = {"6.12": ["base", "hiorder", "series"],
            "7.3": ["order0", "regression", "upstream", "series"]}


class BenchLayout:
    """A throw-away copy of the project for bench.sh of BASE (module docstring)."""

    def __init__(self, base):
        self._tmp = tempfile.TemporaryDirectory(prefix="harness-bench-")
        self.root = self._tmp.name
        self.base = base
        shutil.copytree(os.path.join(REPO, "scripts"), self.path("scripts"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        write_exec(self.path("scripts", "boot.sh"), FAKE_BOOT)
        write_exec(self.path("scripts", "check-log.py"), FAKE_CHECK_LOG)
        write(self.path("bases", base, "patches", "series"), "# the series (not used here)\n")
        shutil.copy(os.path.join(REPO, "bases", base, "base.conf"), self.path("bases", base))
        write_exec(self.path("bin", "qemu-system-x86_64"),
                   "#!/bin/sh\necho 'QEMU emulator version 7.2.22 (fake)'\n")
        os.makedirs(self.path("tmp"))
        # T is a git repository of its own bases/ (bench.sh records the
        # project commit of the series).
        git(self.root, "init", "-q")
        git(self.root, "add", "bases")
        git(self.root, "commit", "-q", "-m", "project")
        self.build_base = self.path("build", base)
        write(os.path.join(self.build_base, "base-version"), f"{base}.4-1~fake\n")
        self.tree = os.path.join(self.build_base, "linux")
        os.makedirs(self.tree)
        git(self.tree, "init", "-q", "-b", "base-tree")
        write(os.path.join(self.tree, "lib", "test_vmalloc.c"), read(FIXTURE[base]))
        git(self.tree, "add", "-A")
        git(self.tree, "commit", "-q", "-m", "base")
        git(self.tree, "tag", "base")
        for v in VARIANTS[base]:
            git(self.tree, "branch", f"variant/{v}")
            write(os.path.join(self.build_base, "out-bench", v, "bzImage"), "fake\n")
            write(os.path.join(self.build_base, "out-bench", v, "info"),
                  f"variant: {v}\nkernel: {base}.4-{v}\npatches:\n")

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def cleanup(self):
        self._tmp.cleanup()

    def boots(self):
        path = self.path("boots.txt")
        return read(path).split("\n")[:-1] if os.path.exists(path) else []

    def run(self, mode, **env):
        full = git_env()
        full.update(BASE=self.base, PROFILE="bench", BUILD=self.path("build"), TMPDIR=self.path("tmp"),
                    PATH=self.path("bin") + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"))
        full.update({k: str(v) for k, v in env.items()})
        proc = run_isolated([self.path("scripts", "bench.sh"), mode], full, TIMEOUT)
        return proc.returncode, proc.stdout, proc.stderr


class BenchScriptTest(PackagesTestCase):
    def layout(self, base):
        lay = BenchLayout(base)
        self.addCleanup(lay.cleanup)
        return lay

    def report(self, lay, mode):
        prefix = lay.path("results", lay.base, f"bench-{'-'.join(VARIANTS[lay.base])}-{mode}")
        for ext in (".md", ".png"):
            self.assertTrue(os.path.isfile(prefix + ext), prefix + ext)
        with open(prefix + ".json", encoding="utf-8") as f:
            return json.load(f)

    def test_73(self):
        """7.3: four kernels interleaved, RUNS overriding icount's 10, the
        base.conf's pairs, published columns and targets; rows from the
        kernels' test_vmalloc.c (contig_free_test = 8192)."""
        lay = self.layout("7.3")
        rc, out, err = lay.run("icount", RUNS=2)
        self.assertEqual(rc, 0, err)
        order = ["order0", "regression", "upstream", "series"]
        self.assertEqual(lay.boots(), [f"{v} bench" for v in order * 2])
        data = self.report(lay, "icount")
        self.assertEqual(data["variants"], order)
        self.assertEqual([(p["old"], p["new"], p["published"]) for p in data["pairs"]], [
            ("order0", "regression", "hiorder_vs_base"), ("order0", "upstream", "series_vs_base"),
            ("regression", "upstream", None), ("upstream", "series", None),
            ("order0", "series", "series_vs_base")])
        self.assertEqual(data["targets_set"], "7.3")
        self.assertTrue(all(t.startswith("MET: ") for t in data["targets"]), data["targets"])
        meta = data["meta"]
        self.assertEqual(meta["runs"], "2 per kernel, interleaved order0, regression, upstream, "
                                       "series")
        self.assertEqual(meta["kernels"], "order0: 7.3.4-order0; regression: 7.3.4-regression; "
                                          "upstream: 7.3.4-upstream; series: 7.3.4-series")
        self.assertRegex(meta["duration"], r"^\d+s for 8 boots$")
        self.assertIn("contig_free_test: 8192", meta["rows"])
        self.assertIn("RUNS=2 SCALE=50", meta["command"])
        self.assertRegex(meta["series"], r"^[0-9a-f]{7,} \d{4}-\d\d-\d\d \(bases/7.3/patches/")
        self.assertNotIn("fatal", err)
        rows = read(lay.path("build", "7.3", "bench", "icount", "rows.txt"))
        self.assertIn("contig_free l:2000|run_test_mask=8192 ", rows)
        self.assertIn("MET: microbenchmark series / order0 >= 5.6x (published)", out)

    def test_612_default_runs(self):
        """6.12 in tcg without RUNS: 5 runs of its three kernels; its targets."""
        lay = self.layout("6.12")
        rc, out, err = lay.run("tcg")
        self.assertEqual(rc, 0, err)
        self.assertEqual(lay.boots(), [f"{v} bench" for v in ["base", "hiorder", "series"] * 5])
        data = self.report(lay, "tcg")
        self.assertEqual(data["runs"], {"base": 5, "hiorder": 5, "series": 5})
        self.assertEqual([p["published"] for p in data["pairs"]],
                         ["hiorder_vs_base", "series_vs_base", "series_vs_hiorder"])
        self.assertEqual(data["targets_set"], "6.12")
        self.assertEqual(len(data["targets"]), 4)
        self.assertTrue(all(t.startswith("MET: ") for t in data["targets"]), data["targets"])
        self.assertRegex(data["meta"]["duration"], r"^\d+s for 15 boots$")
        self.assertIn("contig_free_test: 2048", data["meta"]["rows"])

    def test_icount_default_runs(self):
        lay = self.layout("6.12")
        rc, _, err = lay.run("icount")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(lay.boots()), 30)      # 10 runs of 3 kernels

    def test_report_only(self):
        """REPORT_ONLY=1: the report again from the last run's logs, no boot."""
        lay = self.layout("7.3")
        rc, _, err = lay.run("icount", RUNS=2)
        self.assertEqual(rc, 0, err)
        prefix = lay.path("results", "7.3", "bench-order0-regression-upstream-series-icount")
        os.remove(prefix + ".md")
        rc, _, err = lay.run("icount", REPORT_ONLY=1)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(lay.boots()), 8)
        data = self.report(lay, "icount")
        self.assertEqual(data["runs"], {v: 2 for v in VARIANTS["7.3"]})
        self.assertRegex(data["meta"]["duration"], r"^\d+s for 8 boots$")

    def test_variants_differ(self):
        """A kernel whose test_vmalloc.c gives other rows: stop before booting."""
        lay = self.layout("7.3")
        git(lay.tree, "checkout", "-q", "variant/upstream")
        src = os.path.join(lay.tree, "lib", "test_vmalloc.c")
        write(src, read(src).replace('#ifdef CONFIG_CONTIG_ALLOC\n',
                                     '\t{ "extra_test", extra_test, },\n#ifdef CONFIG_CONTIG_ALLOC\n'))
        git(lay.tree, "commit", "-q", "-am", "extra")
        rc, _, err = lay.run("icount", RUNS=1)
        self.assertNotEqual(rc, 0)
        self.assertIn("variants order0 and upstream have different test_vmalloc rows", err)
        self.assertIn("run_test_mask=16384", err)
        self.assertEqual(lay.boots(), [])

    def test_no_variant_branch(self):
        lay = self.layout("7.3")
        git(lay.tree, "branch", "-D", "variant/regression")
        rc, _, err = lay.run("icount", RUNS=1)
        self.assertNotEqual(rc, 0)
        self.assertIn("no lib/test_vmalloc.c on branch variant/regression of", err)
        self.assertEqual(lay.boots(), [])

    def test_test_profile_refused(self):
        """The benchmark boots only the production-like kernels (PROFILE=bench)."""
        lay = self.layout("7.3")
        rc, _, err = lay.run("icount", RUNS=1, PROFILE="test")
        self.assertNotEqual(rc, 0)
        self.assertIn("the benchmark boots the kernels of PROFILE=bench", err)
        self.assertEqual(lay.boots(), [])

    def test_bad_conf(self):
        """A BENCH_PAIRS naming no kernel of BENCH_VARIANTS: stop before booting."""
        lay = self.layout("7.3")
        conf = lay.path("bases", "7.3", "base.conf")
        write(conf, read(conf) + 'BENCH_PAIRS="order0:hiorder"\n')
        rc, _, err = lay.run("icount", RUNS=1)
        self.assertNotEqual(rc, 0)
        self.assertIn("'hiorder' (in 'order0:hiorder') is not one of --variants "
                      "order0,regression,upstream,series", err)
        self.assertIn("bench-report.py refuses BENCH_VARIANTS/BENCH_PAIRS/BENCH_PUBLISHED/"
                      "BENCH_TARGETS of bases/7.3/base.conf", err)
        self.assertEqual(lay.boots(), [])


if __name__ == "__main__":
    unittest.main()

"""Tests of scripts/bench-report.py on synthetic check-log.py JSON results.

The script runs with Debian's /usr/bin/python3, which needs python3-scipy and
python3-matplotlib (scripts/deps.sh installs them: make deps).  Nothing here
is skipped: without them, every test that makes a report FAILS and says so.
Run from the repo root: bash tests/run
"""
import functools
import json
import os
import subprocess
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "scripts", "bench-report.py")
PYTHON = "/usr/bin/python3"
TIMEOUT = 120
PACKAGES = {"scipy": "python3-scipy", "matplotlib": "python3-matplotlib"}


@functools.lru_cache(maxsize=None)
def missing_packages():
    """None, or why /usr/bin/python3 cannot make a report."""
    if not os.access(PYTHON, os.X_OK):
        return f"{PYTHON} not found: run `make deps` (scripts/deps.sh, as root)"
    missing = []
    for module, package in (("scipy.stats", PACKAGES["scipy"]),
                            ("matplotlib.pyplot", PACKAGES["matplotlib"])):
        proc = subprocess.run([PYTHON, "-c", f"import {module}"], capture_output=True,
                              timeout=TIMEOUT, env={**os.environ, "MPLBACKEND": "Agg"})
        if proc.returncode:
            missing.append(package)
    if not missing:
        return None
    return (f"{PYTHON} lacks {', '.join(missing)}, which bench-report.py needs: "
            f"run `make deps` (scripts/deps.sh, as root, installs them)")


class PackagesTestCase(unittest.TestCase):
    """Every test fails, not skips, when /usr/bin/python3 cannot make a report."""

    def setUp(self):
        why = missing_packages()
        if why:
            self.fail(why)


# Run-to-run noise: the same five factors in a different order per variant,
# so equal means stay exactly equal while each sample has some variance.
NOISE = {"base": [0.99, 1.01, 1.0, 0.995, 1.005],
         "hiorder": [1.005, 0.99, 1.01, 1.0, 0.995],
         "series": [1.0, 1.005, 0.995, 0.99, 1.01]}
# row -> mean avg_us per variant
ROWS = {
    "fix_size p:512 h:1 l:1000": {"base": 200000, "hiorder": 100000, "series": 100000},
    "fix_size p:1 l:5000": {"base": 50000, "hiorder": 50000, "series": 50000},
    "fix_size p:512 l:1000": {"base": 100000, "hiorder": 200000, "series": 100000},
    "contig_free l:1000": {"base": 50000, "hiorder": 50000, "series": 10000},
}


def result(variant, rows, passed=True):
    """A check-log.py --json result; rows: {row label: avg_us}."""
    return {"log": f"/tmp/{variant}.log", "variant": variant, "plan": "bench",
            "kunit": {"present": False}, "bench": [], "reports": [], "errors": [],
            "reasons": [] if passed else ["kernel reports: WARNING"], "pass": passed,
            "vmalloc": [{"row": row, "test": "fix_size_alloc_test", "worker": 0, "passed": 1,
                         "failed": 0, "repeat": 1, "loops": 1000, "avg_us": us}
                        for row, us in rows.items()]}


def write_runs(directory, runs=5, variants=("base", "hiorder", "series"), rows=ROWS):
    """Write runs x variants JSON files (interleaved as bench.sh runs them)."""
    paths = []
    for run in range(runs):
        for v in variants:
            path = os.path.join(directory, f"run{run + 1}-{v}.json")
            with open(path, "w") as f:
                json.dump(result(v, {r: round(m[v] * NOISE[v][run % 5]) for r, m in rows.items()}), f)
            paths.append(path)
    return paths


def run(*args):
    proc = subprocess.run([PYTHON, SCRIPT, *args], capture_output=True, text=True,
                          timeout=TIMEOUT, env={**os.environ, "MPLBACKEND": "Agg"})
    return proc.returncode, proc.stdout, proc.stderr


def table(md, header_start="| row | base mean"):
    """The markdown table starting with header_start: {row: [cells...]}."""
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


class ReportTest(PackagesTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.rc, cls.out, cls.err, cls.md = None, "", "", ""
        if missing_packages():
            return
        cls.inputs = write_runs(cls.tmp.name)
        cls.prefix = os.path.join(cls.tmp.name, "report")
        cls.rc, cls.out, cls.err = run(
            "--mode", "tcg", "--out", cls.prefix, "--meta", "command=make bench MODE=tcg RUNS=5",
            "--meta", "runs=5", "--meta", "guest=2 CPUs, 2G", *cls.inputs)
        cls.md = ""
        if os.path.exists(cls.prefix + ".md"):
            with open(cls.prefix + ".md", encoding="utf-8") as f:
                cls.md = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exit_status(self):
        """The report is written, but two targets are missed: exit 3, each listed."""
        self.assertEqual(self.rc, 3, self.err)
        self.assertNotIn("Traceback", self.err)
        self.assertIn("bench-report: 2 of 4 targets missed:\n", self.err)
        missed = [line.strip() for line in self.err.split("targets missed:\n", 1)[-1].splitlines()]
        self.assertEqual(missed, [
            "microbenchmark series / base >= 5.6x (published): 5.00x [contig_free l:1000]",
            "large fix_size rows (p:64..p:512) series vs hiorder >= +54% (published): "
            "cannot be evaluated: no fix_size p:64, p:256 row in the inputs"])
        for ext in (".md", ".png", ".json"):
            self.assertTrue(os.path.isfile(self.prefix + ext), ext)

    def test_targets(self):
        expected = [
            "MISSED: microbenchmark series / base >= 5.6x (published): 5.00x [contig_free l:1000]",
            "MET: no row where series is significantly slower than base",
            "MET: fix_size p:512 h:1 series vs base >= +49% (published): +100.0%",
            "MISSED: large fix_size rows (p:64..p:512) series vs hiorder >= +54% (published): "
            "cannot be evaluated: no fix_size p:64, p:256 row in the inputs"]
        self.assertEqual([line for line in self.out.splitlines()
                          if line.startswith(("MET: ", "MISSED: "))], expected)
        for line in expected:
            self.assertIn(f"- {line}\n", self.md)

    def test_how_produced(self):
        for text in ("## How produced", "- mode: tcg", "- command: make bench MODE=tcg RUNS=5",
                     "- runs: 5", "- guest: 2 CPUs, 2G",
                     "- inputs: 15 check-log.py JSON files (base 5, hiorder 5, series 5)"):
            self.assertIn(text, self.md)
        for path in self.inputs:
            self.assertIn(path, self.md)

    def test_table(self):
        t = table(self.md)
        self.assertEqual(list(t), list(ROWS))           # order of first appearance
        header = next(line for line in self.md.splitlines() if line.startswith("| row | base mean"))
        self.assertEqual(header, "| row | base mean (µs) ±CI | Δ% hiorder vs base | "
                                 "Δ% series vs base | Δ% series vs hiorder |")
        # series 2x faster than base: +100%, improvement
        base, hb, sb, sh = t["fix_size p:512 h:1 l:1000"]
        self.assertRegex(base, r"^200000 ±\d+$")
        self.assertRegex(sb, r"^\+100\.0% \(I\) p[<=]0\.00\d$")
        self.assertRegex(hb, r"^\+100\.0% \(I\) ")
        self.assertRegex(sh, r"^[+-]0\.0% p=\d\.\d{3}$")
        # identical: no mark
        for cell in t["fix_size p:1 l:5000"][1:]:
            self.assertRegex(cell, r"^[+-]0\.0% p=\d\.\d{3}$")
            self.assertNotIn("(", cell)
        # hiorder 2x slower than base: -50%, regression; series recovers it
        _, hb, sb, sh = t["fix_size p:512 l:1000"]
        self.assertRegex(hb, r"^-50\.0% \(R\) p")
        self.assertNotIn("(", sb)
        self.assertRegex(sh, r"^\+100\.0% \(I\) p")

    def test_summary(self):
        lines = self.out.splitlines()
        self.assertIn("hiorder vs base: 1 improved (I), 1 regressed (R), 1 not significant, "
                      "of 3 test_vmalloc rows; geometric-mean speed ratio 1.000x (+0.0%, no change)",
                      lines)
        self.assertIn("series vs base: 1 improved (I), 0 regressed (R), 2 not significant, "
                      "of 3 test_vmalloc rows; geometric-mean speed ratio 1.260x (+26.0%, series faster)",
                      lines)
        micro = [line for line in lines if line.startswith("Microbenchmark:")]
        self.assertEqual(len(micro), 1, self.out)
        self.assertTrue(micro[0].startswith(
            "Microbenchmark: series is 5.00x faster than base (base 50000 µs, series 10000 µs)"),
            micro[0])
        for line in lines:
            if not line.startswith("wrote "):
                self.assertIn(line, self.md)

    def test_raw_means(self):
        t = table(self.md, "| row | base | hiorder | series |")
        self.assertEqual(t["contig_free l:1000"], ["50000 ± 395 (n=5)", "50000 ± 395 (n=5)",
                                                   "10000 ± 79.1 (n=5)"])

    def test_png(self):
        with open(self.prefix + ".png", "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        self.assertGreaterEqual(width, 800)
        self.assertGreaterEqual(height, 600)

    def test_json(self):
        with open(self.prefix + ".json") as f:
            data = json.load(f)
        self.assertEqual(data["mode"], "tcg")
        self.assertEqual([r["row"] for r in data["rows"]], list(ROWS))
        row = data["rows"][0]
        self.assertEqual(row["stats"]["base"]["n"], 5)
        self.assertAlmostEqual(row["pairs"]["series_vs_base"]["delta_pct"], 100.0, places=1)
        self.assertEqual(row["pairs"]["series_vs_base"]["mark"], "I")
        self.assertTrue(data["rows"][3]["micro"])
        self.assertEqual(data["summary"]["hiorder_vs_base"]["regressed"], 1)


class SubsetTest(PackagesTestCase):
    def test_two_variants_and_single_run(self):
        """base and series only, series has one run: no mark, p=n/a; the targets
        that need hiorder or two runs cannot be evaluated (exit 3)."""
        with tempfile.TemporaryDirectory() as tmp:
            paths = write_runs(tmp, runs=3, variants=("base",)) + \
                write_runs(tmp, runs=1, variants=("series",))
            prefix = os.path.join(tmp, "r")
            rc, out, err = run("--mode", "icount", "--out", prefix, *paths)
            self.assertEqual(rc, 3, err)
            with open(prefix + ".md", encoding="utf-8") as f:
                md = f.read()
            t = table(md)
            self.assertEqual(len(t["fix_size p:1 l:5000"]), 2)   # base mean, series vs base
            self.assertRegex(t["fix_size p:512 h:1 l:1000"][1], r"^\+\d+\.\d% p=n/a$")
            self.assertIn("3 untested (n<2)", out)
            self.assertIn("(icount)", md)
            self.assertIn("no row where series is significantly slower than base: cannot be "
                          "evaluated: fewer than 2 runs of base or series on fix_size p:512 h:1 "
                          "l:1000, fix_size p:1 l:5000, fix_size p:512 l:1000", err)


# Every target met: series 6x faster on the microbenchmark, 2x faster than
# base on p:512 h:1 and than hiorder on the large rows, never slower than base.
ROWS_MET = {
    "fix_size p:64 l:1000": {"base": 100000, "hiorder": 200000, "series": 100000},
    "fix_size p:256 l:1000": {"base": 100000, "hiorder": 200000, "series": 100000},
    "fix_size p:512 h:1 l:1000": {"base": 200000, "hiorder": 200000, "series": 100000},
    "contig_free l:1000": {"base": 60000, "hiorder": 60000, "series": 10000},
}


class TargetsTest(PackagesTestCase):
    """The targets decide the exit status; a target that cannot be evaluated
    is missed, never a crash; the report is written in every case."""

    def report(self, paths):
        prefix = os.path.join(self.tmp, "r")
        rc, out, err = run("--mode", "tcg", "--out", prefix, *paths)
        self.assertNotIn("Traceback", err)
        for ext in (".md", ".png", ".json"):
            self.assertTrue(os.path.isfile(prefix + ext), f"no {ext} written; stderr:\n{err}")
        with open(prefix + ".json") as f:
            targets = json.load(f)["targets"]
        self.assertEqual([line for line in out.splitlines()
                          if line.startswith(("MET: ", "MISSED: "))], targets)
        return rc, targets, err

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name

    def test_all_met(self):
        rc, targets, err = self.report(write_runs(self.tmp, rows=ROWS_MET))
        self.assertEqual(rc, 0, err)
        self.assertEqual(targets, [
            "MET: microbenchmark series / base >= 5.6x (published): 6.00x [contig_free l:1000]",
            "MET: no row where series is significantly slower than base",
            "MET: fix_size p:512 h:1 series vs base >= +49% (published): +100.0%",
            "MET: large fix_size rows (p:64..p:512) series vs hiorder >= +54% (published): "
            "lowest +100.0% [fix_size p:64 l:1000]"])
        self.assertNotIn("missed", err)

    def test_missed_by_number(self):
        rows = dict(ROWS_MET)
        rows["contig_free l:1000"] = {"base": 50000, "hiorder": 50000, "series": 10000}
        rc, targets, err = self.report(write_runs(self.tmp, rows=rows))
        self.assertEqual(rc, 3, err)
        self.assertIn("MISSED: microbenchmark series / base >= 5.6x (published): 5.00x "
                      "[contig_free l:1000]", targets)
        self.assertEqual(sum(t.startswith("MISSED: ") for t in targets), 1, targets)
        self.assertIn("bench-report: 1 of 4 targets missed:\n"
                      "  microbenchmark series / base >= 5.6x (published): 5.00x "
                      "[contig_free l:1000]\n", err)

    def test_mean_zero(self):
        """A mean of 0 has no ratio: cannot be evaluated (was a TypeError)."""
        rows = dict(ROWS_MET)
        rows["contig_free l:1000"] = {"base": 60000, "hiorder": 60000, "series": 0}
        rows["fix_size p:512 h:1 l:1000"] = {"base": 200000, "hiorder": 0, "series": 100000}
        rc, targets, err = self.report(write_runs(self.tmp, rows=rows))
        self.assertEqual(rc, 3, err)
        self.assertIn("MISSED: microbenchmark series / base >= 5.6x (published) "
                      "[contig_free l:1000]: cannot be evaluated: row 'contig_free l:1000': "
                      "mean avg_us not positive (series 0)", targets)
        self.assertIn("MISSED: large fix_size rows (p:64..p:512) series vs hiorder >= +54% "
                      "(published): cannot be evaluated: row 'fix_size p:512 h:1 l:1000': "
                      "mean avg_us not positive (hiorder 0)", targets)
        self.assertIn("bench-report: 2 of 4 targets missed:", err)
        self.assertIn("  large fix_size rows (p:64..p:512) series vs hiorder >= +54% (published): "
                      "cannot be evaluated: row 'fix_size p:512 h:1 l:1000'", err)

    def test_row_missing_in_a_variant(self):
        """A row the series runs lack: every target on it cannot be evaluated."""
        series_rows = {r: m for r, m in ROWS_MET.items() if r != "fix_size p:512 h:1 l:1000"}
        paths = write_runs(self.tmp, variants=("base", "hiorder"), rows=ROWS_MET) + \
            write_runs(self.tmp, variants=("series",), rows=series_rows)
        rc, targets, err = self.report(paths)
        self.assertEqual(rc, 3, err)
        why = "cannot be evaluated: row 'fix_size p:512 h:1 l:1000' has no series result"
        self.assertEqual(targets, [
            "MET: microbenchmark series / base >= 5.6x (published): 6.00x [contig_free l:1000]",
            "MISSED: no row where series is significantly slower than base: " + why,
            "MISSED: fix_size p:512 h:1 series vs base >= +49% (published): " + why,
            "MISSED: large fix_size rows (p:64..p:512) series vs hiorder >= +54% (published): "
            + why])
        self.assertIn("bench-report: 3 of 4 targets missed:", err)

    def test_variant_absent(self):
        """No hiorder runs: the target against hiorder cannot be evaluated."""
        rc, targets, err = self.report(write_runs(self.tmp, variants=("base", "series"),
                                                  rows=ROWS_MET))
        self.assertEqual(rc, 3, err)
        self.assertEqual(targets[-1], "MISSED: large fix_size rows (p:64..p:512) series vs "
                         "hiorder >= +54% (published): cannot be evaluated: no hiorder runs "
                         "in the inputs")
        self.assertEqual(sum(t.startswith("MISSED: ") for t in targets), 1, targets)


class InputErrorTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.prefix = os.path.join(self.tmp.name, "out")

    def assertFails(self, paths, *expect, code=None):
        rc, out, err = run("--mode", "tcg", "--out", self.prefix, *paths)
        self.assertNotEqual(rc, 0, out)
        if code is not None:
            self.assertEqual(rc, code, err)
        for text in expect:
            self.assertIn(text, err)
        self.assertFalse(os.path.exists(self.prefix + ".md"))

    def test_missing_file(self):
        paths = write_runs(self.tmp.name, runs=1)
        missing = os.path.join(self.tmp.name, "nope.json")
        self.assertFails(paths + [missing], f"no such file: {missing}", code=2)

    def test_bad_json(self):
        paths = write_runs(self.tmp.name, runs=1)
        with open(paths[1], "w") as f:
            f.write('{"variant": "hiorder", "vmalloc": [')
        self.assertFails(paths, paths[1], "not valid JSON", code=1)

    def test_not_check_log_json(self):
        paths = write_runs(self.tmp.name, runs=1)
        with open(paths[0], "w") as f:
            json.dump({"variant": "base"}, f)
        self.assertFails(paths, paths[0], "not a check-log.py --json result")

    def test_several_workers(self):
        paths = write_runs(self.tmp.name, runs=1)
        with open(paths[2]) as f:
            data = json.load(f)
        extra = dict(data["vmalloc"][0], worker=1)
        data["vmalloc"].insert(1, extra)
        with open(paths[2], "w") as f:
            json.dump(data, f)
        self.assertFails(paths, paths[2], "row 'fix_size p:512 h:1 l:1000' has 2 results",
                         "one thread", code=1)

    def test_failed_boot(self):
        paths = write_runs(self.tmp.name, runs=1)
        with open(paths[0], "w") as f:
            json.dump(result("base", {"fix_size p:1 l:5000": 1}, passed=False), f)
        self.assertFails(paths, "did not pass (kernel reports: WARNING)")

    def test_unknown_variant(self):
        paths = write_runs(self.tmp.name, runs=1)
        with open(paths[0], "w") as f:
            json.dump(result("prefix-3", {"fix_size p:1 l:5000": 1}), f)
        self.assertFails(paths, "variant 'prefix-3' is not one of base, hiorder, series")

    def test_one_variant(self):
        paths = write_runs(self.tmp.name, runs=2, variants=("series",))
        self.assertFails(paths, "need at least two of base, hiorder, series")

    def test_usage(self):
        rc, _, err = run("--out", self.prefix, "x.json")
        self.assertEqual(rc, 2)
        self.assertIn("--mode", err)
        rc, _, err = run("--mode", "tcg", "--out", self.prefix, "--meta", "novalue", "x.json")
        self.assertEqual(rc, 2)
        self.assertIn("KEY=VALUE", err)

    def fake_packages(self, missing):
        """A directory of fake scipy and matplotlib packages: MISSING raises
        ImportError, the other is a stub that imports fine."""
        root = os.path.join(self.tmp.name, "fake-" + missing)
        stubs = {
            "scipy": {"__init__.py": "", "stats.py": "t = None\n"},
            "matplotlib": {"__init__.py": "def use(backend):\n    pass\n",
                           "pyplot.py": "", "patches.py": "class Patch:\n    pass\n"},
        }
        for module, files in stubs.items():
            if module == missing:
                files = {"__init__.py": f"raise ImportError('{module} hidden by the test')\n"}
            os.makedirs(os.path.join(root, module))
            for name, text in files.items():
                with open(os.path.join(root, module, name), "w") as f:
                    f.write(text)
        return root

    def test_missing_package(self):
        """scipy or matplotlib cannot be imported: exit 2, naming exactly that
        Debian package, whatever this machine has installed."""
        paths = write_runs(self.tmp.name, runs=2)
        for module, package in PACKAGES.items():
            with self.subTest(missing=module):
                fake = self.fake_packages(module)
                proc = subprocess.run(
                    [PYTHON, SCRIPT, "--mode", "tcg", "--out", self.prefix, *paths],
                    capture_output=True, text=True, timeout=TIMEOUT,
                    env={**os.environ, "PYTHONPATH": fake, "MPLBACKEND": "Agg"})
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn(f"cannot import {module} ({module} hidden by the test)", proc.stderr)
                self.assertIn(f"apt-get install {package}", proc.stderr)
                other = [p for p in PACKAGES.values() if p != package]
                for p in other:
                    self.assertNotIn(p, proc.stderr)
                self.assertFalse(os.path.exists(self.prefix + ".md"))

if __name__ == "__main__":
    unittest.main()

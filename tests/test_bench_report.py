"""Tests of scripts/bench-report.py on synthetic check-log.py JSON results.

The script runs with Debian's /usr/bin/python3, which needs python3-scipy and
python3-matplotlib; the tests that produce a report are skipped without them
(the input-error tests do not need them).
Run from the repo root: bash tests/run
"""
import json
import os
import subprocess
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "scripts", "bench-report.py")
PYTHON = "/usr/bin/python3"
TIMEOUT = 120


def _missing_packages():
    if not os.access(PYTHON, os.X_OK):
        return f"{PYTHON} not found"
    missing = []
    for module, package in (("scipy.stats", "python3-scipy"), ("matplotlib", "python3-matplotlib")):
        proc = subprocess.run([PYTHON, "-c", f"import {module}"], capture_output=True, timeout=TIMEOUT)
        if proc.returncode:
            missing.append(package)
    return f"{PYTHON} lacks {', '.join(missing)} (apt-get install {' '.join(missing)})" \
        if missing else None


MISSING = _missing_packages()
needs_packages = unittest.skipIf(MISSING, MISSING or "")
needs_python = unittest.skipUnless(os.access(PYTHON, os.X_OK), f"{PYTHON} not found")

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


@needs_packages
class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
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
        self.assertEqual(self.rc, 0, self.err)

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


@needs_packages
class SubsetTest(unittest.TestCase):
    def test_two_variants_and_single_run(self):
        """base and series only, series has one run: no mark, p=n/a."""
        with tempfile.TemporaryDirectory() as tmp:
            paths = write_runs(tmp, runs=3, variants=("base",)) + \
                write_runs(tmp, runs=1, variants=("series",))
            prefix = os.path.join(tmp, "r")
            rc, out, err = run("--mode", "icount", "--out", prefix, *paths)
            self.assertEqual(rc, 0, err)
            with open(prefix + ".md", encoding="utf-8") as f:
                md = f.read()
            t = table(md)
            self.assertEqual(len(t["fix_size p:1 l:5000"]), 2)   # base mean, series vs base
            self.assertRegex(t["fix_size p:512 h:1 l:1000"][1], r"^\+\d+\.\d% p=n/a$")
            self.assertIn("3 untested (n<2)", out)
            self.assertIn("(icount)", md)


@needs_python
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

    def test_missing_package(self):
        """A scipy or matplotlib that cannot be imported: exit 2, names the package."""
        paths = write_runs(self.tmp.name, runs=2)
        for module, package in (("scipy", "python3-scipy"), ("matplotlib", "python3-matplotlib")):
            fake = os.path.join(self.tmp.name, "fake-" + module, module)
            os.makedirs(fake)
            with open(os.path.join(fake, "__init__.py"), "w") as f:
                f.write(f"raise ImportError('{module} hidden by the test')\n")
            proc = subprocess.run([PYTHON, SCRIPT, "--mode", "tcg", "--out", self.prefix, *paths],
                                  capture_output=True, text=True, timeout=TIMEOUT,
                                  env={**os.environ, "PYTHONPATH": os.path.dirname(fake)})
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn(package, proc.stderr)
            self.assertIn(f"apt-get install {package}", proc.stderr)


if __name__ == "__main__":
    unittest.main()

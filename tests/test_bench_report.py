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
         "series": [1.0, 1.005, 0.995, 0.99, 1.01],
         "order0": [0.99, 1.01, 1.0, 0.995, 1.005],
         "regression": [1.005, 0.99, 1.01, 1.0, 0.995],
         "upstream": [0.995, 1.0, 1.01, 1.005, 0.99]}
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
                json.dump(result(v, {r: round(m[v] * NOISE.get(v, NOISE["base"])[run % 5])
                                     for r, m in rows.items()}), f)
            paths.append(path)
    return paths


def write_values(directory, values, test="fix_size_alloc_test"):
    """Write one JSON file per run from explicit samples:
    values = {variant: {row: [avg_us of run 1, run 2, ...]}}."""
    paths = []
    for v, rows in values.items():
        for i in range(len(next(iter(rows.values())))):
            path = os.path.join(directory, f"v-{v}-{i + 1}.json")
            data = result(v, {r: vals[i] for r, vals in rows.items()})
            for e in data["vmalloc"]:
                e["test"] = test
            with open(path, "w") as f:
                json.dump(data, f)
            paths.append(path)
    return paths


def run(*args):
    proc = subprocess.run([PYTHON, SCRIPT, *args], capture_output=True, text=True,
                          timeout=TIMEOUT, env={**os.environ, "MPLBACKEND": "Agg"})
    return proc.returncode, proc.stdout, proc.stderr


def table(md, header_start):
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


def pair_header(md, old, new):
    """The header line of the table of pair old -> new (after "### new vs old")."""
    lines = md.splitlines()
    start = lines.index(f"### {new} vs {old}")
    return next(line for line in lines[start:] if line.startswith("| row |"))


def pair_table(md, old, new):
    """The table of pair old -> new: {row: [old ±CI, new ±CI, Δ%, p(, published)]}."""
    return table(md, pair_header(md, old, new))


def pair_headings(md):
    """The "### new vs old" headings of the comparison tables, in order."""
    return [line[4:] for line in md.splitlines() if line.startswith("### ")]


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
        """Without --variants/--pairs: 6.12's three kernels and their three
        pairs, a table each; no published column without --published."""
        self.assertEqual(pair_headings(self.md),
                         ["hiorder vs base", "series vs base", "series vs hiorder"])
        self.assertIn("# test_vmalloc benchmark: base, hiorder, series (tcg)", self.md)
        self.assertEqual(pair_header(self.md, "base", "series"),
                         "| row | base (µs) ±CI | series (µs) ±CI | Δ% | p |")
        self.assertNotIn("published", self.md.lower().split("## summary")[0])
        hb, sb, sh = (pair_table(self.md, o, n) for o, n in
                      (("base", "hiorder"), ("base", "series"), ("hiorder", "series")))
        for t in (hb, sb, sh):
            self.assertEqual(list(t), list(ROWS))       # order of first appearance
        # series 2x faster than base: +100%, improvement
        base, series, delta, p = sb["fix_size p:512 h:1 l:1000"]
        self.assertRegex(base, r"^200000 ±\d+$")
        self.assertRegex(series, r"^100000 ±\d+$")
        self.assertEqual(delta, "+100.0% (I)")
        self.assertRegex(p, r"^(<0\.001|0\.00\d)$")
        self.assertEqual(hb["fix_size p:512 h:1 l:1000"][2], "+100.0% (I)")
        self.assertRegex(sh["fix_size p:512 h:1 l:1000"][2], r"^[+-]0\.0%$")
        # identical: no mark
        for t in (hb, sb, sh):
            self.assertRegex(t["fix_size p:1 l:5000"][2], r"^[+-]0\.0%$")
            self.assertRegex(t["fix_size p:1 l:5000"][3], r"^\d\.\d{3}$")
        # hiorder 2x slower than base: -50%, regression; series recovers it
        self.assertEqual(hb["fix_size p:512 l:1000"][2], "-50.0% (R)")
        self.assertNotIn("(", sb["fix_size p:512 l:1000"][2])
        self.assertEqual(sh["fix_size p:512 l:1000"][2], "+100.0% (I)")
        # the old and new columns are the pair's kernels
        self.assertRegex(sh["fix_size p:512 l:1000"][0], r"^200000 ±")

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
            # hiorder has no runs: its pairs are not compared, and the report says so
            self.assertEqual(pair_headings(md), ["series vs base"])
            self.assertIn("Not compared (a kernel without runs in the inputs): hiorder vs base, "
                          "series vs hiorder", md)
            t = pair_table(md, "base", "series")
            self.assertEqual(t["fix_size p:1 l:5000"][:2], ["50000 ±1242", "50000 (n=1)"])
            self.assertRegex(t["fix_size p:512 h:1 l:1000"][2], r"^\+\d+\.\d%$")
            self.assertEqual(t["fix_size p:512 h:1 l:1000"][3], "n/a")
            self.assertIn("3 untested (n<2 or no variance)", out)
            self.assertIn("(icount)", md)
            self.assertIn("no row where series is significantly slower than base: cannot be "
                          "evaluated: not tested (fewer than 2 runs of base or series, or no "
                          "variance in either) on fix_size p:512 h:1 l:1000, fix_size p:1 l:5000, "
                          "fix_size p:512 l:1000", err)


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


class ReportCase(PackagesTestCase):
    """A temporary directory and a report() that runs bench-report.py."""

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name

    def report(self, paths, *options):
        """(rc, stdout, stderr, markdown, JSON) of a report of paths."""
        prefix = os.path.join(self.tmp, "r")
        rc, out, err = run("--mode", "icount", "--out", prefix, *options, *paths)
        self.assertNotIn("Traceback", err)
        for ext in (".md", ".png", ".json"):
            self.assertTrue(os.path.isfile(prefix + ext), f"no {ext} written; stderr:\n{err}")
        with open(prefix + ".md", encoding="utf-8") as f:
            md = f.read()
        with open(prefix + ".json", encoding="utf-8") as f:
            data = json.load(f)
        return rc, out, err, md, data


# 6.12's published columns beside its three pairs (bases/6.12/base.conf).
PUBLISHED_612 = ["--published", "base:hiorder=hiorder_vs_base",
                 "--published", "base:series=series_vs_base,hiorder:series=series_vs_hiorder"]


class PublishedTest(ReportCase):
    """The published figures: in their pair's table, on their row, as published."""

    def test_published_612(self):
        rc, _, err, md, data = self.report(write_runs(self.tmp), *PUBLISHED_612)
        self.assertEqual(rc, 3, err)        # the targets of ReportTest
        self.assertEqual(pair_header(md, "base", "hiorder"),
                         "| row | base (µs) ±CI | hiorder (µs) ±CI | Δ% | p | "
                         "published Δ% (base → high-order vmalloc alone) |")
        self.assertEqual(pair_header(md, "base", "series"),
                         "| row | base (µs) ±CI | series (µs) ±CI | Δ% | p | "
                         "published Δ% (base → high-order vmalloc + series) |")
        self.assertEqual(pair_header(md, "hiorder", "series"),
                         "| row | hiorder (µs) ±CI | series (µs) ±CI | Δ% | p | "
                         "published Δ% (high-order alone → + series) |")
        hb, sb, sh = (pair_table(md, o, n) for o, n in
                      (("base", "hiorder"), ("base", "series"), ("hiorder", "series")))
        # the last cell: the published figure of that column and row, or empty
        self.assertEqual([t["fix_size p:1 l:5000"][4] for t in (hb, sb, sh)], ["-12%", "-7%", ""])
        self.assertEqual([t["fix_size p:512 h:1 l:1000"][4] for t in (hb, sb, sh)],
                         ["", "+49%", ""])
        self.assertEqual([t["fix_size p:512 l:1000"][4] for t in (hb, sb, sh)], ["", "+13%", ""])
        self.assertEqual([t["contig_free l:1000"][4] for t in (hb, sb, sh)],
                         ["", "+461% (5.6x)", "+461% (5.6x)"])
        # the ranges without per-row figures are said below the table
        self.assertIn("Published column: hiorder_vs_base (base → high-order vmalloc alone); "
                      "also published: −35..−38% on fix_size p:4..p:512", md)
        self.assertEqual([p["published"] for p in data["pairs"]],
                         ["hiorder_vs_base", "series_vs_base", "series_vs_hiorder"])
        self.assertEqual(data["rows"][1]["pairs"]["hiorder_vs_base"]["published_pct"], -12)

    def test_sign(self):
        """A published regression (-12%: the new kernel slower) sits beside our
        negative Delta% of a slower kernel, sign unchanged, and the legend says
        how the published figures map onto Delta%."""
        rows = {"fix_size p:1 l:10000": {"base": 50000, "hiorder": 57000, "series": 50000},
                "fix_align p:1 l:10000": {"base": 100000, "hiorder": 200000, "series": 100000}}
        rc, _, err, md, _ = self.report(write_runs(self.tmp, rows=rows), "--targets", "none",
                                        *PUBLISHED_612)
        self.assertEqual(rc, 0, err)
        hb = pair_table(md, "base", "hiorder")
        self.assertEqual(hb["fix_size p:1 l:10000"][2:], ["-12.3% (R)", "<0.001", "-12%"])
        self.assertEqual(hb["fix_align p:1 l:10000"][2:], ["-50.0% (R)", "<0.001", "-51%"])
        self.assertEqual(pair_table(md, "hiorder", "series")["fix_align p:1 l:10000"][2:],
                         ["+100.0% (I)", "<0.001", "+67%"])
        self.assertIn("is shown as published, with no change of sign, because the published "
                      "figures follow our convention: (t_old / t_new − 1)·100, negative when "
                      "the new kernel is slower.", md)

    def test_no_published_without_option(self):
        rc, _, err, md, data = self.report(write_runs(self.tmp), "--targets", "none")
        self.assertEqual(rc, 0, err)
        self.assertEqual(pair_header(md, "base", "series"),
                         "| row | base (µs) ±CI | series (µs) ±CI | Δ% | p |")
        self.assertNotIn("no change of sign", md)
        self.assertNotIn("published_pct", data["rows"][0]["pairs"]["series_vs_base"])


# 7.3's four kernels (bases/7.3/base.conf): order0 (the published base),
# regression (high-order vmalloc without batched freeing), upstream (merged
# batched freeing), series.  series is never slower, and 6x order0 on the
# microbenchmark: every 7.3 target met.
VARIANTS_73 = ["order0", "regression", "upstream", "series"]
ROWS_73 = {
    "fix_align p:1 l:10000": {"order0": 100000, "regression": 200000, "upstream": 100000,
                              "series": 100000},
    "fix_size p:1 l:10000": {"order0": 50000, "regression": 60000, "upstream": 50000,
                             "series": 50000},
    "fix_size p:512 h:1 l:2000": {"order0": 200000, "regression": 200000, "upstream": 110000,
                                  "series": 100000},
    "pcpu_alloc p:1 l:10000": {"order0": 40000, "regression": 40000, "upstream": 40000,
                               "series": 40000},
    "contig_free l:2000": {"order0": 60000, "regression": 60000, "upstream": 12000,
                           "series": 10000},
}
OPTIONS_73 = ["--variants", ",".join(VARIANTS_73),
              "--pairs", "order0:regression,order0:upstream,upstream:series,order0:series",
              "--published", "order0:regression=hiorder_vs_base",
              "--published", "order0:upstream=series_vs_base",
              "--published", "order0:series=series_vs_base",
              "--targets", "7.3"]


class FourVariantsTest(ReportCase):
    def test_custom_pairs(self):
        """Four kernels, four pairs in the order of --pairs, a published
        column on the three mapped pairs only; the 7.3 targets all met."""
        rc, out, err, md, data = self.report(
            write_runs(self.tmp, variants=VARIANTS_73, rows=ROWS_73), *OPTIONS_73)
        self.assertEqual(rc, 0, err)
        self.assertIn("# test_vmalloc benchmark: order0, regression, upstream, series (icount)", md)
        self.assertIn("- inputs: 20 check-log.py JSON files (order0 5, regression 5, upstream 5, "
                      "series 5)", md)
        self.assertEqual(pair_headings(md), ["regression vs order0", "upstream vs order0",
                                             "series vs upstream", "series vs order0"])
        self.assertEqual(pair_header(md, "upstream", "series"),
                         "| row | upstream (µs) ±CI | series (µs) ±CI | Δ% | p |")
        self.assertEqual(pair_header(md, "order0", "regression"),
                         "| row | order0 (µs) ±CI | regression (µs) ±CI | Δ% | p | "
                         "published Δ% (base → high-order vmalloc alone) |")
        ro, uo, su, so = (pair_table(md, o, n) for o, n in
                          (("order0", "regression"), ("order0", "upstream"),
                           ("upstream", "series"), ("order0", "series")))
        # the regression reproduced beside the published one
        self.assertEqual(ro["fix_size p:1 l:10000"][2:], ["-16.7% (R)", "<0.001", "-12%"])
        self.assertEqual(ro["fix_align p:1 l:10000"][2:], ["-50.0% (R)", "<0.001", "-51%"])
        self.assertEqual(ro["pcpu_alloc p:1 l:10000"][4], "")
        self.assertEqual(ro["fix_size p:512 h:1 l:2000"][4], "")
        # the merged code and the series against the published "this series" column
        for t, delta in ((uo, "+81.8% (I)"), (so, "+100.0% (I)")):
            self.assertEqual(t["fix_size p:512 h:1 l:2000"][2:], [delta, "<0.001", "+49%"])
            self.assertEqual(t["fix_align p:1 l:10000"][4], "-14%")
            self.assertEqual(t["contig_free l:2000"][4], "+461% (5.6x)")
            self.assertEqual(t["pcpu_alloc p:1 l:10000"][4], "")
        # upstream -> series: no published column
        self.assertEqual(su["fix_size p:512 h:1 l:2000"], ["110000 ±1080", "100000 ±982",
                                                           "+10.0% (I)", "<0.001"])
        self.assertEqual([p["key"] for p in data["pairs"]],
                         ["regression_vs_order0", "upstream_vs_order0", "series_vs_upstream",
                          "series_vs_order0"])
        self.assertEqual(data["variants"], VARIANTS_73)
        self.assertEqual(data["reference"], "order0")
        summary = [line for line in out.splitlines() if " vs " in line and "rows;" in line]
        self.assertEqual([line.split(":")[0] for line in summary], pair_headings(md))
        self.assertIn("regression vs order0: 0 improved (I), 2 regressed (R), 2 not significant, "
                      "of 4 test_vmalloc rows", out)
        self.assertIn("Microbenchmark: series is 6.00x faster than order0 (order0 60000 µs, "
                      "series 10000 µs)", out)
        self.assertEqual(data["targets"], [
            "MET: no row where series is significantly slower than upstream",
            "MET: no row where series is significantly slower than order0",
            "MET: microbenchmark series / order0 >= 5.6x (published): 6.00x [contig_free l:2000]"])
        self.assertIn("| row | order0 | regression | upstream | series |", md)

    def test_default_pairs(self):
        """Without --pairs: every pair of --variants, old before new, in their order."""
        rc, _, err, md, _ = self.report(
            write_runs(self.tmp, variants=VARIANTS_73, rows=ROWS_73),
            "--variants", ",".join(VARIANTS_73), "--targets", "none")
        self.assertEqual(rc, 0, err)
        self.assertEqual(pair_headings(md), [
            "regression vs order0", "upstream vs order0", "series vs order0",
            "upstream vs regression", "series vs regression", "series vs upstream"])
        self.assertIn("- none (--targets none)", md)

    def test_many_pairs(self):
        """Five kernels, ten pairs: more pairs than named colours."""
        names = ["k1", "k2", "k3", "k4", "k5"]
        rows = {r: {n: m["order0"] for n in names} for r, m in ROWS_73.items()}
        rc, _, err, md, data = self.report(write_runs(self.tmp, variants=names, rows=rows),
                                           "--variants", ",".join(names), "--targets", "none")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(pair_headings(md)), 10)
        self.assertEqual(len(data["summary"]), 10)


class Targets73Test(ReportCase):
    """--targets 7.3: series against upstream and order0 (Welch), and the
    microbenchmark against order0."""

    def targets(self, rows, variants=VARIANTS_73):
        rc, out, err, _, data = self.report(write_runs(self.tmp, variants=variants, rows=rows),
                                            *OPTIONS_73)
        self.assertEqual([line for line in out.splitlines()
                          if line.startswith(("MET: ", "MISSED: "))], data["targets"])
        return rc, data["targets"], err

    def test_slower_than_upstream(self):
        rows = dict(ROWS_73)
        rows["fix_size p:1 l:10000"] = {"order0": 50000, "regression": 60000, "upstream": 45000,
                                        "series": 50000}
        rc, targets, err = self.targets(rows)
        self.assertEqual(rc, 3, err)
        self.assertEqual(targets, [
            "MISSED: no row where series is significantly slower than upstream: slower on "
            "fix_size p:1 l:10000",
            "MET: no row where series is significantly slower than order0",
            "MET: microbenchmark series / order0 >= 5.6x (published): 6.00x [contig_free l:2000]"])
        self.assertIn("bench-report: 1 of 3 targets missed:\n  no row where series is "
                      "significantly slower than upstream: slower on fix_size p:1 l:10000\n", err)

    def test_slower_than_order0(self):
        rows = dict(ROWS_73)
        rows["pcpu_alloc p:1 l:10000"] = {"order0": 50000, "regression": 60000,
                                          "upstream": 60000, "series": 55000}
        rc, targets, err = self.targets(rows)
        self.assertEqual(rc, 3, err)
        self.assertEqual(targets[:2], [
            "MET: no row where series is significantly slower than upstream",
            "MISSED: no row where series is significantly slower than order0: slower on "
            "pcpu_alloc p:1 l:10000"])

    def test_microbenchmark(self):
        rows = dict(ROWS_73)
        rows["contig_free l:2000"] = {"order0": 50000, "regression": 50000, "upstream": 12000,
                                      "series": 10000}
        rc, targets, err = self.targets(rows)
        self.assertEqual(rc, 3, err)
        self.assertEqual(targets[2], "MISSED: microbenchmark series / order0 >= 5.6x "
                         "(published): 5.00x [contig_free l:2000]")
        self.assertEqual(sum(t.startswith("MISSED: ") for t in targets), 1, targets)

    def test_upstream_absent(self):
        rc, targets, err = self.targets(ROWS_73, variants=("order0", "regression", "series"))
        self.assertEqual(rc, 3, err)
        self.assertEqual(targets[0], "MISSED: no row where series is significantly slower than "
                         "upstream: cannot be evaluated: no upstream runs in the inputs")
        self.assertEqual(sum(t.startswith("MISSED: ") for t in targets), 1, targets)


# Samples of 5 runs (µs) for the significance tests.  Against OLD:
#   CLOSE_FASTER  3 faster (about 2 sample stdevs): Welch p = 0.017, yet the two
#                 95% CIs (±1.96 each) overlap: significant, (I)
#   CLOSE_SLOWER  the same, slower: (R)
#   NOISY         1 faster: p = 0.35, not significant
OLD = [100, 102, 98, 101, 99]
CLOSE_FASTER = [97, 99, 95, 98, 96]
CLOSE_SLOWER = [103, 105, 101, 104, 102]
NOISY = [99, 101, 97, 100, 98]


class WelchTest(ReportCase):
    """(I)/(R) mean Welch's t-test p < 0.05, not "95% CIs disjoint"."""

    def setUp(self):
        super().setUp()
        values = {"base": {"fix_size p:1 l:1": OLD, "fix_size p:4 l:1": OLD,
                           "fix_size p:16 l:1": OLD, "fix_size p:64 l:1": [100] * 5},
                  "series": {"fix_size p:1 l:1": CLOSE_FASTER, "fix_size p:4 l:1": CLOSE_SLOWER,
                             "fix_size p:16 l:1": NOISY, "fix_size p:64 l:1": [90] * 5}}
        self.rc, self.out, self.err, self.md, self.data = self.report(
            write_values(self.tmp, values), "--variants", "base,series", "--targets", "none")
        self.assertEqual(self.rc, 0, self.err)
        self.rows = {r["row"]: r for r in self.data["rows"]}
        self.table = pair_table(self.md, "base", "series")

    def test_overlapping_cis_marked(self):
        for row, mark in (("fix_size p:1 l:1", "I"), ("fix_size p:4 l:1", "R")):
            r = self.rows[row]
            old, new = r["stats"]["base"], r["stats"]["series"]
            c = r["pairs"]["series_vs_base"]
            # the premise: CIs overlap, p < 0.05
            self.assertLessEqual(abs(old["mean"] - new["mean"]), old["ci95"] + new["ci95"])
            self.assertLess(c["p"], 0.05)
            self.assertAlmostEqual(c["p"], 0.017, places=3)
            self.assertEqual(c["mark"], mark)
            self.assertTrue(c["significant"])
        self.assertEqual(self.table["fix_size p:1 l:1"][2:], ["+3.1% (I)", "0.017"])
        self.assertEqual(self.table["fix_size p:4 l:1"][2:], ["-2.9% (R)", "0.017"])

    def test_not_significant(self):
        c = self.rows["fix_size p:16 l:1"]["pairs"]["series_vs_base"]
        self.assertGreaterEqual(c["p"], 0.05)
        self.assertEqual(c["mark"], "")
        self.assertFalse(c["significant"])
        self.assertEqual(self.table["fix_size p:16 l:1"][2:], ["+1.0%", "0.347"])

    def test_no_variance_untested(self):
        c = self.rows["fix_size p:64 l:1"]["pairs"]["series_vs_base"]
        self.assertEqual((c["tested"], c["p"], c["mark"]), (False, None, ""))
        self.assertEqual(self.table["fix_size p:64 l:1"][2:], ["+11.1%", "n/a"])

    def test_summary_and_legend(self):
        self.assertIn("series vs base: 1 improved (I), 1 regressed (R), 1 not significant, "
                      "1 untested (n<2 or no variance), of 4 test_vmalloc rows", self.out)
        self.assertIn("p: Welch's t-test, two-sided; (I) improvement, (R) regression: "
                      "p < 0.05 (I: new faster, R: new slower), whether or not the CIs overlap.",
                      self.md)
        self.assertNotIn("do not overlap", self.md)
        self.assertEqual(self.data["significance"],
                         {"test": "Welch's t-test, two-sided", "alpha": 0.05})


class OptionsTest(unittest.TestCase):
    """Bad --variants, --pairs, --published or --targets: usage error (exit 2)
    before any input is read."""

    def usage(self, *options):
        rc, _, err = run("--mode", "tcg", "--out", "/nonexistent/r", *options, "x.json")
        self.assertEqual(rc, 2, err)
        return err

    def test_errors(self):
        for options, text in [
                (["--variants", "base"], "--variants wants at least two kernels"),
                (["--variants", "base,base"], "--variants names base twice"),
                (["--pairs", "base:order0"], "'order0' (in 'base:order0') is not one of "
                 "--variants base,hiorder,series"),
                (["--pairs", "base-series"], "--pairs: want OLD:NEW, got 'base-series'"),
                (["--pairs", "base:base"], "compares a kernel with itself"),
                (["--pairs", "base:series,base:series"], "--pairs lists base:series twice"),
                (["--published", "base:series=series_vs_order0"],
                 "column 'series_vs_order0' is not one of hiorder_vs_base, series_vs_base, "
                 "series_vs_hiorder"),
                (["--pairs", "base:series", "--published", "base:hiorder=hiorder_vs_base"],
                 "--published: pair base:hiorder is not one of --pairs"),
                (["--targets", "7.3"], "--targets 7.3 compares order0, upstream, series; "
                 "--variants base,hiorder,series lacks order0, upstream"),
                (["--targets", "7.4"], "invalid choice: '7.4'")]:
            with self.subTest(options=options):
                self.assertIn(text, self.usage(*options))

    def test_check_args(self):
        rc, out, err = run("--check-args", "--mode", "icount", "--out", "/nonexistent/r",
                           *OPTIONS_73)
        self.assertEqual((rc, out), (0, ""), err)
        rc, _, err = run("--check-args", "--mode", "icount", "--out", "/nonexistent/r",
                         "--targets", "7.3")
        self.assertEqual(rc, 2, err)


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

    def test_row_runs_another_test(self):
        """A row whose test differs between inputs (another run_test_mask bit
        layout): the kernels did not run the same benchmark."""
        paths = write_runs(self.tmp.name, runs=1)
        with open(paths[2]) as f:
            data = json.load(f)
        data["vmalloc"][3]["test"] = "no_block_alloc_test"
        with open(paths[2], "w") as f:
            json.dump(data, f)
        self.assertFails(paths, paths[2], "row 'contig_free l:1000' ran test "
                         "'no_block_alloc_test', but", "ran 'fix_size_alloc_test'", code=1)

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

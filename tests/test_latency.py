"""Tests of make latency: the guest plan latency as scripts/check-log.py judges
it (synthetic console logs), scripts/latency-report.py on synthetic LOG.json
files (the shape check-log.py --json writes), scripts/latency.sh's arguments
and refusals before anything boots (and a whole run with a fake boot.sh),
scripts/guest-latency.c (compiled with gcc: its argument errors, and a real
run when SCHED_FIFO is possible) and guest-init.sh's latency_plan (run by
busybox sh with a fake guest-latency).

latency.sh runs in a throw-away copy of the project (tests/test_scripts.py's
Layout, BASE=6.12, whose base.conf has LATENCY_VARIANTS="base series
unbounded" unless the environment names others) whose scripts/boot.sh is a
fake that fails if called, and, for the repo's own base 6.12, from the repo
itself (--variants and the patches of its kernels).  latency-report.py runs
with Debian's /usr/bin/python3, which needs python3-scipy (make deps);
without it, every test that makes a report FAILS and says so.  The expected
figures are computed here without scipy (the t quantiles, in
tests/report_helpers.py, and Welch's p are constants, see where they are
used), so the tests run under any python3.

Run from the repo root: bash tests/run  (or python3 -m unittest tests.test_latency)
"""
import functools
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

# The file helpers, the project copy and the assertions of the script tests,
# what the tests of the studies share, and the guest-init.sh helpers of the
# check-log tests (tests/ is on sys.path when run by tests/run; added here for
# python3 -m unittest tests.test_latency).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_scripts import (TEST_BASE, UNEXPECTED, ScriptTestCase, git, read,  # noqa: E402
                          write, write_exec)
from test_check_log import busybox_sh, guest_function, need_busybox  # noqa: E402
from report_helpers import (REPO, T975, TIMEOUT, CheckLogCase, LogReportCase, fake_log_json,  # noqa: E402
                            ScipyTestCase, StudyLayout, check_log, ci95, mean, result_line,
                            run_real, table)

PROBE_C = os.path.join(REPO, "scripts", "guest-latency.c")
FIXTURE_612 = os.path.join(REPO, "tests", "bench-rows", "test_vmalloc-6.12.c")
MEASURES = ("max_us", "over_1ms", "over_10ms", "samples")      # latency-report.py's order
TITLES = {"max_us": "longest wake-up delay (us)", "over_1ms": "wake-ups over 1 ms",
          "over_10ms": "wake-ups over 10 ms", "samples": "wake-ups"}

# Variables of latency.sh (besides test_scripts.HARNESS_VARS) that a user or
# the Makefile may have set; the tests set the ones they need.
LATENCY_VARS = {"LATENCY_VARIANTS", "LATENCY_PAGES", "LATENCY_LOOPS", "LATENCY_MODES", "RUNS",
                "PROFILE", "REPORT_ONLY", "OBJ"}


# --------------------------------------------------------------------------
# check-log.py: the plan latency
# --------------------------------------------------------------------------
ROW_A = "fix_size p:65536 l:4"
ROW_B = "fix_size p:512 l:2"
# A "bench latency" line's values as guest-latency prints them.
FULL = {"max_us": 1234, "samples": 500, "over_1ms": 3, "over_10ms": 0}


def latency_line(label, stamp, **over):
    """The "bench latency" line of row LABEL: FULL with OVER (None: the key left out)."""
    values = dict(FULL, **over)
    words = " ".join(f"{k}={v}" for k, v in values.items() if v is not None)
    return f"[{stamp:>12.6f}] harness: bench latency row={label.replace(' ', '_')} {words}\n"


def console_log(rows, plan="latency", variant="series", done=True, extra=""):
    """A console log of plan PLAN: ROWS is [(label, "bench latency" line or
    None)], each row a test_vmalloc load with one worker (one Summary line),
    as latency.sh's rows are."""
    text = ("[    0.000000] Linux version 6.12.117-series (fake)\n"
            f"[    1.000000] harness: start variant={variant} plan={plan}\n" + extra)
    t = 2.0
    for label, line in rows:
        test = label.split()[0] + "_alloc_test"
        text += (f"[{t:>12.6f}] harness: vmalloc-row {label}\n"
                 f"[{t + 0.01:>12.6f}] harness: vmalloc-expect summaries=1 tests=1 threads=1\n"
                 f"[{t + 0.5:>12.6f}] Summary: {test} passed: 1 failed: 0 "
                 "repeat: 1 loops: 4 avg: 70000 usec\n"
                 f"[{t + 0.55:>12.6f}] All test took worker0=1234560 cycles\n")
        if line:
            text += line
        t += 1
    if done:
        text += f"[{t:>12.6f}] harness: done\n"
    return text


class CheckLogLatencyTest(CheckLogCase):
    plan = "latency"

    def test_row_with_its_bench_latency_line_passes(self):
        rc, out, err, res = self.check(console_log([(ROW_A, latency_line(ROW_A, 2.9))]))
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(result_line(out), "result: PASS")
        self.assertIn("variant=series plan=latency", out)
        self.assertEqual((res["variant"], res["plan"], res["pass"], res["reasons"]),
                         ("series", "latency", True, []))
        # What latency-report.py reads: the numbers as numbers, the row as logged.
        self.assertEqual(res["bench"], [{"name": "latency", "row": "fix_size_p:65536_l:4",
                                         "max_us": 1234, "samples": 500, "over_1ms": 3,
                                         "over_10ms": 0}])
        self.assertEqual([(r["label"], r["expected"], r["summaries"]) for r in res["rows"]],
                         [(ROW_A, 1, 1)])
        self.assertIn("bench: latency row=fix_size_p:65536_l:4 max_us=1234 samples=500 "
                      "over_1ms=3 over_10ms=0", out)

    def test_two_rows_each_with_its_line_pass(self):
        rc, out, err, res = self.check(console_log(
            [(ROW_A, latency_line(ROW_A, 2.9)),
             (ROW_B, latency_line(ROW_B, 3.9, max_us=0, samples=1, over_1ms=0))]))
        self.assertEqual(rc, 0, out + err)
        self.assertEqual([(b["row"], b["max_us"], b["samples"]) for b in res["bench"]],
                         [("fix_size_p:65536_l:4", 1234, 500), ("fix_size_p:512_l:2", 0, 1)])

    def test_row_without_its_bench_latency_line_fails(self):
        res = self.assertFailsFor(console_log([(ROW_A, None)]),
                                  "plan latency: 0 'bench latency' lines for 1 rows")
        self.assertEqual([r for r in res["reasons"] if r.startswith("plan latency")],
                         ["plan latency: 0 'bench latency' lines for 1 rows"])

    def test_second_row_without_its_line_fails(self):
        self.assertFailsFor(console_log([(ROW_A, latency_line(ROW_A, 2.9)), (ROW_B, None)]),
                            "plan latency: 1 'bench latency' lines for 2 rows")

    def test_no_row_fails(self):
        res = self.assertFailsFor(console_log([]), "plan latency: no test_vmalloc row")
        self.assertFalse(any("'bench latency' lines" in r for r in res["reasons"]),
                         res["reasons"])

    def test_max_us_that_is_no_number_fails_naming_the_row(self):
        res = self.assertFailsFor(console_log([(ROW_A, latency_line(ROW_A, 2.9, max_us="?"))]),
                                  "plan latency: bench latency row=fix_size_p:65536_l:4: "
                                  "no max_us, or no sample")
        self.assertEqual([r for r in res["reasons"] if r.startswith("plan latency")],
                         ["plan latency: bench latency row=fix_size_p:65536_l:4: "
                          "no max_us, or no sample"])

    def test_no_sample_fails_naming_the_row(self):
        for over in ({"samples": 0}, {"samples": None}, {"samples": "?"}, {"max_us": None},
                     {"max_us": "1.5"}):
            with self.subTest(over=over):
                self.assertFailsFor(
                    console_log([(ROW_A, latency_line(ROW_A, 2.9)),
                                 (ROW_B, latency_line(ROW_B, 3.9, **over))]),
                    "plan latency: bench latency row=fix_size_p:512_l:2: no max_us, or no sample")

    def test_guest_latency_that_did_not_start_fails(self):
        # latency_plan's failure path: the error, and no row at all.
        res = self.assertFailsFor(
            console_log([], extra="[    1.500000] harness: error guest-latency did not start: "
                                  "cannot take SCHED_FIFO 99: Operation not permitted\n"),
            "guest error: guest-latency did not start: cannot take SCHED_FIFO 99",
            "plan latency: no test_vmalloc row")
        self.assertEqual(res["errors"], ["guest-latency did not start: cannot take SCHED_FIFO "
                                         "99: Operation not permitted"])

    def test_truncated_log_fails(self):
        self.assertFailsFor(console_log([(ROW_A, latency_line(ROW_A, 2.9))], done=False),
                            "log truncated: no 'harness: done' marker")

    def test_bench_latency_lines_are_not_required_by_other_plans(self):
        rc, out, err, res = self.check(console_log([(ROW_A, None)], plan="bench"))
        self.assertEqual(rc, 0, out + err)

    def test_latency_is_a_known_plan(self):
        res = self.assertFailsFor(console_log([(ROW_A, latency_line(ROW_A, 2.9))],
                                              plan="latencyx"),
                                  "unknown plan 'latencyx' (known: ")
        known = [r.split("(known: ", 1)[1].rstrip(")").split(", ")
                 for r in res["reasons"] if r.startswith("unknown plan")]
        self.assertEqual(len(known), 1, res["reasons"])
        self.assertIn("latency", known[0])


# --------------------------------------------------------------------------
# latency-report.py
# --------------------------------------------------------------------------
LABEL_A = "fix_size_p:65536_l:4"        # as the guest logs it (spaces -> _)
LABEL_B = "fix_size_p:512_l:2"
ROWS = {LABEL_A: ROW_A, LABEL_B: ROW_B}
KERNELS = ("base", "series", "unbounded")
# Per kernel and row, per measure: the value of each of three boots.
DATA = {
    "base": {LABEL_A: dict(max_us=[1200, 1300, 1250], samples=[500, 510, 505],
                           over_1ms=[3, 4, 2], over_10ms=[0, 0, 0]),
             LABEL_B: dict(max_us=[200, 200, 200], samples=[100, 100, 100],
                           over_1ms=[0, 0, 0], over_10ms=[0, 0, 0])},
    "series": {LABEL_A: dict(max_us=[300, 320, 340], samples=[520, 515, 518],
                             over_1ms=[0, 0, 0], over_10ms=[0, 0, 0]),
               LABEL_B: dict(max_us=[150, 160, 170], samples=[100, 100, 100],
                             over_1ms=[0, 0, 0], over_10ms=[0, 0, 0])},
    "unbounded": {LABEL_A: dict(max_us=[15000, 16000, 14500], samples=[450, 455, 440],
                                over_1ms=[30, 28, 35], over_10ms=[2, 3, 1]),
                  LABEL_B: dict(max_us=[200, 200, 200], samples=[100, 100, 100],
                                over_1ms=[0, 0, 0], over_10ms=[0, 0, 0])}}
# Welch's p of row A, each kernel against base (scipy.stats.ttest_ind(base,
# kernel, equal_var=False); Student's, equal_var=True, for contrast).
WELCH_P_A = {"series": {"max_us": 0.00021265854969583432, "samples": 0.030408727954145464,
                        "over_1ms": 0.03509871864598465},
             "unbounded": {"max_us": 0.0009596569390885291, "samples": 0.0008998109150973111,
                           "over_1ms": 0.003327502569179535, "over_10ms": 0.07417990022744853}}
STUDENT_P_A = {"series": {"max_us": 7.439502409222747e-06, "over_1ms": 0.006533376338915146},
               "unbounded": {"max_us": 6.059019461760818e-06, "over_10ms": 0.025721420742506516}}


def boots(data=DATA):
    """{kernel: [{logged label: {measure: value}} per boot]} of DATA."""
    out = {}
    for k, rows in data.items():
        n = max(len(v) for r in rows.values() for v in r.values())
        out[k] = [{label: {m: vals[m][i] for m in MEASURES}
                   for label, vals in rows.items() if i < len(vals["max_us"])}
                  for i in range(n)]
    return out


BOOTS = boots()


def log_json(variant, rows, plan="latency", passed=True, extra=()):
    """A LOG.json as check-log.py --json writes it, with the bench latency
    entries of ROWS ({label: values})."""
    bench = [dict({"name": "latency", "row": label}, **vals) for label, vals in rows.items()]
    bench += list(extra)
    return fake_log_json(variant, plan, bench, passed)


class LatencyReportCase(LogReportCase):
    script = "latency-report.py"
    out_name = "latency-base-series-unbounded-icount"
    kernels = "base,series,unbounded"
    boots = BOOTS

    def boot_log(self, kernel, rows):
        """With an entry of another bench that the report must ignore."""
        return log_json(kernel, rows, extra=[{"name": "pcp_zone", "zone": "Normal", "batch": 63}])


class LatencyReportTest(LatencyReportCase):
    def setUp(self):
        super().setUp()
        self.proc, self.md, self.json = self.report_data(
            self.boot_logs(), "base,series,unbounded",
            "--meta", "command=make latency BASE=6.12 (RUNS=3)", "--meta", "mode=icount")
        self.rows = self.json["rows"]
        self.row = dict(zip((LABEL_A, LABEL_B), self.rows))   # logged label -> report's

    # The guest logs the label with "_" for each space; the report turns
    # those back into spaces, not the "_" of the test name.
    def test_row_labels_are_the_rows_own(self):
        self.assertEqual(self.rows, ["fix_size p:65536 l:4", "fix_size p:512 l:2"])
        self.assertEqual(list(self.json["results"]), self.rows)
        self.assertEqual(list(self.json["raw"]), self.rows)
        self.assertIn("\n| fix_size p:65536 l:4 | ", self.md)
        self.assertNotIn("fix_size_p:", self.md)
        self.assertNotIn("fix size", self.md)

    def test_raw_values_per_boot(self):
        for label in (LABEL_A, LABEL_B):
            for k in KERNELS:
                with self.subTest(row=label, kernel=k):
                    self.assertEqual(self.json["raw"][self.row[label]][k], DATA[k][label])

    def test_means_and_intervals(self):
        for label in (LABEL_A, LABEL_B):
            for k in KERNELS:
                for m in MEASURES:
                    with self.subTest(row=label, kernel=k, measure=m):
                        v = DATA[k][label][m]
                        s = self.json["results"][self.row[label]][m]["kernels"][k]
                        self.assertEqual(s["n"], 3)
                        self.assertAlmostEqual(s["mean"], mean(v), places=9)
                        self.assertAlmostEqual(s["ci95"], ci95(v), delta=1e-6 * (1 + ci95(v)))
        # By hand: sd 50 of 1200, 1300, 1250, so 4.3027 * 50 / sqrt(3).
        a = self.json["results"][self.row[LABEL_A]]["max_us"]["kernels"]
        self.assertEqual(a["base"]["mean"], 1250)
        self.assertAlmostEqual(a["base"]["ci95"], 124.2068, places=3)
        self.assertEqual(a["series"]["mean"], 320)
        self.assertAlmostEqual(a["unbounded"]["mean"], 45500 / 3, places=9)
        self.assertEqual(self.json["results"][self.row[LABEL_B]]["max_us"]["kernels"]["base"],
                         {"n": 3, "mean": 200, "ci95": 0})

    def test_ratio_kernel_over_first_and_welch(self):
        a = self.json["results"][self.row[LABEL_A]]
        for m in MEASURES:
            self.assertEqual(list(a[m]["versus"]), ["series", "unbounded"])
        for k, ps in WELCH_P_A.items():
            for m, p in ps.items():
                with self.subTest(kernel=k, measure=m):
                    v = a[m]["versus"][k]
                    base = mean(DATA["base"][LABEL_A][m])
                    if base:
                        self.assertAlmostEqual(v["ratio"], mean(DATA[k][LABEL_A][m]) / base,
                                               places=12)
                    self.assertAlmostEqual(v["p"], p, places=9)
                    if m in STUDENT_P_A.get(k, {}):
                        self.assertNotAlmostEqual(v["p"], STUDENT_P_A[k][m], places=4)
        self.assertAlmostEqual(a["max_us"]["versus"]["series"]["ratio"], 320 / 1250, places=12)
        self.assertAlmostEqual(a["max_us"]["versus"]["unbounded"]["ratio"], 45500 / 3 / 1250,
                               places=12)
        self.assertEqual(a["over_1ms"]["versus"]["series"]["ratio"], 0.0)

    def test_constant_samples_and_zero_first_mean(self):
        a = self.json["results"][self.row[LABEL_A]]
        # Equal constant samples: p 1; no ratio when the first kernel's mean is 0.
        self.assertEqual(a["over_10ms"]["versus"]["series"], {"ratio": None, "p": 1.0})
        self.assertIsNone(a["over_10ms"]["versus"]["unbounded"]["ratio"])
        b = self.json["results"][self.row[LABEL_B]]
        self.assertEqual(b["max_us"]["versus"]["unbounded"], {"ratio": 1.0, "p": 1.0})
        self.assertEqual(b["samples"]["versus"]["series"], {"ratio": 1.0, "p": 1.0})
        self.assertEqual(b["over_1ms"]["kernels"]["series"], {"n": 3, "mean": 0, "ci95": 0})

    def test_md_tables(self):
        header = ("| row | base | series | unbounded | series / base | unbounded / base |\n"
                  "| --- | ---: | ---: | ---: | ---: | ---: |\n")
        self.assertEqual(self.md.count(header), len(MEASURES))
        for m in MEASURES:
            with self.subTest(measure=m):
                rows = table(self.md, f"## {TITLES[m]} (`{m}`)")
                self.assertEqual([r[0] for r in rows], self.rows)
        a, b = table(self.md, "## longest wake-up delay (us) (`max_us`)")
        self.assertEqual(a[1:], ["1250 ± 124", "320 ± 50", "15167 ± 1897",
                                 "0.26x (p=0.00021) *", "12.13x (p=0.00096) *"])
        self.assertEqual(b[1:], ["200 ± 0", "160 ± 25", "200 ± 0", "0.80x (p=0.02) *",
                                 "1.00x (p=1)"])
        a, _ = table(self.md, "## wake-ups over 1 ms (`over_1ms`)")
        self.assertEqual(a[1:], ["3 ± 2", "0 ± 0", "31 ± 9", "0.00x (p=0.035) *",
                                 "10.33x (p=0.0033) *"])
        a, _ = table(self.md, "## wake-ups (`samples`)")
        self.assertEqual(a[1:], ["505 ± 12", "518 ± 6", "448 ± 19", "1.03x (p=0.03) *",
                                 "0.89x (p=0.0009) *"])
        a, b = table(self.md, "## wake-ups over 10 ms (`over_10ms`)")
        self.assertEqual(a[1:], ["0 ± 0", "0 ± 0", "2 ± 2", "n/a (p=1)", "n/a (p=0.074)"])
        self.assertEqual(b[1:], ["0 ± 0", "0 ± 0", "0 ± 0", "n/a (p=1)", "n/a (p=1)"])

    def test_boots_and_meta(self):
        self.assertEqual(self.json["kernels"], list(KERNELS))
        self.assertEqual(self.json["boots"], {"base": 3, "series": 3, "unbounded": 3})
        self.assertEqual(self.json["meta"], {"command": "make latency BASE=6.12 (RUNS=3)",
                                             "mode": "icount"})
        self.assertTrue(self.md.startswith(
            "# Wake-up delays of a high-priority thread during test_vmalloc rows\n\n"
            "- command: make latency BASE=6.12 (RUNS=3)\n- mode: icount\n"
            "- boots: base 3, series 3, unbounded 3\n\n"
            "Mean ± 95% CI over the boots; against base: ratio kernel/base of the means, "
            "Welch's t-test (* = significant, p < 0.05).\n"), self.md[:400])

    def test_stdout(self):
        self.assertEqual(self.proc.stdout.splitlines(),
                         ["fix_size p:65536 l:4: max_us base 1250, series 320, unbounded 15167",
                          "fix_size p:512 l:2: max_us base 200, series 160, unbounded 200",
                          f"report: {self.prefix}.md"])


class LatencyReportCasesTest(LatencyReportCase):
    def test_first_of_kernels_is_the_reference(self):
        # Each kernel against the first of --kernels, whatever the order of the logs.
        _, md, js = self.report_data(self.boot_logs(), "series,base,unbounded")
        self.assertEqual(js["kernels"], ["series", "base", "unbounded"])
        a = js["results"][js["rows"][0]]["max_us"]["versus"]
        self.assertEqual(list(a), ["base", "unbounded"])
        self.assertAlmostEqual(a["base"]["ratio"], 1250 / 320, places=12)
        self.assertAlmostEqual(a["unbounded"]["ratio"], 45500 / 3 / 320, places=12)
        self.assertAlmostEqual(a["base"]["p"], WELCH_P_A["series"]["max_us"], places=9)
        self.assertIn("| row | series | base | unbounded | base / series | unbounded / series |",
                      md)
        self.assertIn("against series: ratio kernel/series", md)

    def test_zero_first_mean_has_no_ratio_but_its_p(self):
        # series is 0 over 1 ms in every boot: no ratio over its mean, but
        # Welch's p (and its star) as in the other cells.
        _, md, js = self.report_data(self.boot_logs(), "series,base,unbounded")
        v = js["results"][js["rows"][0]]["over_1ms"]["versus"]
        self.assertIsNone(v["base"]["ratio"])
        self.assertAlmostEqual(v["base"]["p"], WELCH_P_A["series"]["over_1ms"], places=9)
        a, b = table(md, "## wake-ups over 1 ms (`over_1ms`)")
        self.assertEqual(a[4:], ["n/a (p=0.035) *", "n/a (p=0.0045) *"])
        self.assertEqual(b[4:], ["n/a (p=1)", "n/a (p=1)"])

    def test_two_boots_use_t_of_one_degree(self):
        data = {k: {LABEL_A: {m: v[:2] for m, v in DATA[k][LABEL_A].items()}} for k in KERNELS}
        _, _, js = self.report_data(self.boot_logs(boots(data)))
        s = js["results"][js["rows"][0]]["max_us"]["kernels"]["base"]
        self.assertEqual(s["n"], 2)
        self.assertAlmostEqual(s["ci95"], T975[1] * math.sqrt(5000) / math.sqrt(2), places=4)

    def test_one_boot_has_no_interval_and_no_test(self):
        data = {k: {LABEL_A: {m: v[:1] for m, v in DATA[k][LABEL_A].items()}} for k in KERNELS}
        _, md, js = self.report_data(self.boot_logs(boots(data)))
        r = js["results"][js["rows"][0]]["max_us"]
        self.assertEqual(r["kernels"]["base"], {"n": 1, "mean": 1200, "ci95": None})
        self.assertEqual(r["versus"]["series"], {"ratio": 300 / 1200, "p": None})
        self.assertEqual(table(md, "## longest wake-up delay (us) (`max_us`)")[0][1:],
                         ["1200", "300", "15000", "0.25x (p=n/a)", "12.50x (p=n/a)"])
        self.assertEqual(table(md, "## wake-ups over 10 ms (`over_10ms`)")[0][1:],
                         ["0", "0", "2", "n/a (p=n/a)", "n/a (p=n/a)"])

    def test_row_one_kernel_lacks(self):
        data = {"base": {LABEL_A: DATA["base"][LABEL_A]},
                "series": DATA["series"], "unbounded": DATA["unbounded"]}
        _, md, js = self.report_data(self.boot_logs(boots(data)))
        self.assertEqual(js["rows"], ["fix_size p:65536 l:4", "fix_size p:512 l:2"])
        b = js["results"][js["rows"][1]]["max_us"]
        self.assertIsNone(b["kernels"]["base"])
        self.assertEqual(b["versus"], {"series": None, "unbounded": None})
        self.assertEqual(table(md, "## longest wake-up delay (us) (`max_us`)")[1][1:],
                         ["-", "160 ± 25", "200 ± 0", "-", "-"])
        self.assertIn("fix_size p:512 l:2: max_us series 160, unbounded 200",
                      self.report(self.boot_logs(boots(data))).stdout)

    def test_check_log_json_feeds_the_report(self):
        # The whole path of latency.sh: console log -> check-log.py --json ->
        # latency-report.py.
        paths = []
        for k in KERNELS:
            for r, boot in enumerate(BOOTS[k], 1):
                d = os.path.join(self.dir, f"{k}-{r}")
                os.makedirs(d)
                text = console_log([(ROWS[logged], latency_line(ROWS[logged], 2.9 + i, **vals))
                                    for i, (logged, vals) in enumerate(boot.items())],
                                   variant=k)
                rc, out, err, res = check_log(text, d)
                self.assertEqual(rc, 0, out + err)
                paths.append(os.path.join(d, "console.log.json"))
        _, md, js = self.report_data(paths)
        self.assertEqual(js["rows"], ["fix_size p:65536 l:4", "fix_size p:512 l:2"])
        self.assertEqual(js["boots"], {"base": 3, "series": 3, "unbounded": 3})
        self.assertEqual(js["raw"]["fix_size p:65536 l:4"]["unbounded"],
                         DATA["unbounded"][LABEL_A])
        self.assertAlmostEqual(js["results"]["fix_size p:65536 l:4"]["max_us"]["versus"]
                               ["unbounded"]["p"], WELCH_P_A["unbounded"]["max_us"], places=9)

    def test_meta_value_may_contain_equals(self):
        _, md, js = self.report_data(self.boot_logs(), "base,series,unbounded",
                                     "--meta", "command=make latency RUNS=3")
        self.assertEqual(js["meta"], {"command": "make latency RUNS=3"})
        self.assertIn("- command: make latency RUNS=3\n", md)


class LatencyReportErrorTest(LatencyReportCase):
    def good(self):
        return self.boot_logs()

    def test_kernel_not_in_kernels(self):
        bad = self.write_log(log_json("hiorder", BOOTS["base"][0]))
        self.assertDies(self.report(self.good() + [bad]),
                        f"{bad}: kernel 'hiorder' is not one of --kernels base,series,unbounded")

    def test_log_without_variant(self):
        log = log_json("base", BOOTS["base"][0])
        del log["variant"]
        bad = self.write_log(log, "novariant.log.json")
        self.assertDies(self.report(self.good() + [bad]),
                        f"{bad}: kernel None is not one of --kernels")

    def test_other_plan_or_failed_boot(self):
        for name, log in (("plan pcp", log_json("series", BOOTS["series"][0], plan="pcp")),
                          ("no plan", dict(log_json("series", BOOTS["series"][0]), plan=None)),
                          ("pass false", log_json("series", BOOTS["series"][0], passed=False))):
            with self.subTest(name):
                bad = self.write_log(log)
                self.assertDies(self.report(self.good() + [bad]),
                                f"{bad}: not a passing boot of the plan latency")

    def test_no_bench_latency_entry(self):
        bad = self.write_log(log_json("series", {}, extra=[{"name": "pcp", "row": LABEL_A}]))
        self.assertDies(self.report(self.good() + [bad]), f"{bad}: no 'bench latency' line")

    def test_entry_lacking_a_measure(self):
        for key in MEASURES:
            for how, value in (("missing", None), ("not a number", "?"), ("float", 1.5)):
                with self.subTest(key=key, how=how):
                    vals = dict(BOOTS["series"][1][LABEL_A])
                    if value is None:
                        del vals[key]
                    else:
                        vals[key] = value
                    bad = self.write_log(log_json("series", {LABEL_B: BOOTS["series"][1][LABEL_B],
                                                             LABEL_A: vals}))
                    self.assertDies(self.report(self.good() + [bad]),
                                    f"{bad}: row {LABEL_A}: no number for {key}")

    def test_several_missing_measures_are_named_together(self):
        vals = dict(BOOTS["series"][1][LABEL_A], over_10ms="?")
        del vals["max_us"]
        bad = self.write_log(log_json("series", {LABEL_A: vals}))
        self.assertDies(self.report([bad] + self.good()),
                        f"{bad}: row {LABEL_A}: no number for max_us, over_10ms")

    def test_kernel_with_no_boot(self):
        some = [p for p in self.good() if not os.path.basename(p).startswith("unbounded-")]
        self.assertDies(self.report(some), "no boot of kernel unbounded")
        self.assertDies(self.report(self.good(), "base,series,unbounded,hiorder"),
                        "no boot of kernel hiorder")

    def test_fewer_than_two_kernels(self):
        for kernels in ("base", "base,", ",base,", ""):
            with self.subTest(kernels=kernels):
                self.assertDies(self.report(self.good(), kernels),
                                "--kernels must name at least two kernels")

    def test_unreadable_log(self):
        missing = os.path.join(self.dir, "nonexistent.log.json")
        self.assertDies(self.report(self.good() + [missing]), f"cannot read {missing}")
        notjson = os.path.join(self.dir, "bad.log.json")
        write(notjson, "result: PASS\n")
        self.assertDies(self.report(self.good() + [notjson]), f"cannot read {notjson}")

    def test_bad_meta(self):
        self.assertDies(self.report(self.good(), "base,series,unbounded", "--meta", "novalue"),
                        "--meta 'novalue' is not KEY=VALUE")


# --------------------------------------------------------------------------
# latency.sh: its kernels (--variants) and what it refuses before booting
# --------------------------------------------------------------------------
VOLUNTARY = "CONFIG_PREEMPT_BUILD=y\nCONFIG_PREEMPT_VOLUNTARY=y\n# CONFIG_PREEMPT is not set\n"
NONE = "CONFIG_PREEMPT_NONE=y\n# CONFIG_PREEMPT_VOLUNTARY is not set\n"
PREEMPT = ("# CONFIG_PREEMPT_NONE is not set\n# CONFIG_PREEMPT_VOLUNTARY is not set\n"
           "CONFIG_PREEMPT=y\nCONFIG_PREEMPT_COUNT=y\n")


class LatencyLayout(StudyLayout):
    """A project copy for latency.sh whose boot.sh, make, gcc and qemu must
    not be called."""
    study_vars = LATENCY_VARS

    def __init__(self, name):
        super().__init__(name)
        write_exec(self.path("scripts", "boot.sh"), UNEXPECTED)
        for tool in ("make", "gcc", "qemu-system-x86_64"):
            write_exec(os.path.join(self.bin, tool), UNEXPECTED)
        self.out = os.path.join(self.build_base, "out-bench")

    def built(self, variant, config=VOLUNTARY):
        """OUT/VARIANT as make latency leaves it: bzImage, info and config
        (None: no config)."""
        d = os.path.join(self.out, variant)
        write(os.path.join(d, "bzImage"), "fake-bzImage\n")
        write(os.path.join(d, "info"), f"kernel: 6.12.117-{variant}\n")
        if config is not None:
            write(os.path.join(d, "config"), "CONFIG_MMU=y\n" + config + "CONFIG_SMP=y\n")

    def clean(self):
        for d in (self.out, os.path.join(self.build_base, "latency"), self.path("results")):
            shutil.rmtree(d, ignore_errors=True)


class LatencyShTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = LatencyLayout("latency")

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def setUp(self):
        self.t.clean()

    def tearDown(self):
        self.t.clean()

    def run_icount(self, **env):
        env = dict({"LATENCY_VARIANTS": "a b", "PROFILE": "bench"}, **env)
        return self.t.run("latency.sh", "icount", **env)

    def assertRefused(self, proc, *messages):
        self.assertFails(proc, *messages)
        self.assertEqual(proc.stdout, "")
        self.assertNotIn("unexpected call", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.t.build_base, "latency")))
        self.assertFalse(os.path.exists(self.t.path("results")))

    def test_variants_prints_the_kernels(self):
        proc = self.t.run("latency.sh", "--variants", LATENCY_VARIANTS="a b")
        self.assertSucceeds(proc)
        self.assertEqual(proc.stdout, "a b\n")
        proc = self.t.run("latency.sh", "--variants",
                          LATENCY_VARIANTS="  base \t series  unbounded ")
        self.assertSucceeds(proc)
        self.assertEqual(proc.stdout, "base series unbounded\n")

    def test_variants_of_the_base_by_default(self):
        # bases/6.12/base.conf: LATENCY_VARIANTS=${LATENCY_VARIANTS:-"base series unbounded"}
        self.assertIn('LATENCY_VARIANTS=${LATENCY_VARIANTS:-"base series unbounded"}',
                      read(os.path.join(self.t.base_dir, "base.conf")))
        for value in (None, ""):
            with self.subTest(LATENCY_VARIANTS=value):
                proc = self.t.run("latency.sh", "--variants", LATENCY_VARIANTS=value)
                self.assertSucceeds(proc)
                self.assertEqual(proc.stdout, "base series unbounded\n")

    def test_fewer_than_two_kernels_are_refused(self):
        for value in ("a", " a ", "\t"):
            for args in (["--variants"], ["icount"]):
                with self.subTest(LATENCY_VARIANTS=value, args=args):
                    proc = self.t.run("latency.sh", *args, LATENCY_VARIANTS=value,
                                      PROFILE="bench")
                    self.assertRefused(proc, f"base {TEST_BASE}: LATENCY_VARIANTS "
                                             f"(bases/{TEST_BASE}/base.conf) must name at least "
                                             f"two kernels, not '{value}'")

    def test_usage_and_bad_mode(self):
        for args in ([], ["icount", "tcg"]):
            with self.subTest(args=args):
                self.assertRefused(self.t.run("latency.sh", *args, LATENCY_VARIANTS="a b"),
                                   "usage:", "tcg|icount")
        for mode in ("kvm", "ICOUNT"):
            with self.subTest(mode=mode):
                self.assertRefused(self.t.run("latency.sh", mode, LATENCY_VARIANTS="a b"),
                                   f"MODE must be tcg or icount, not '{mode}'")

    def test_profile_must_be_bench(self):
        for profile in ("test", None, "nothp"):   # None: common.sh's default, test
            with self.subTest(PROFILE=profile):
                proc = self.run_icount(PROFILE=profile)
                self.assertRefused(proc, "the latency study boots the kernels of PROFILE=bench "
                                         "(make latency builds them), not "
                                         f"'{profile or 'test'}'")

    def test_pages_and_loops_must_be_positive_integers(self):
        self.t.built("a")
        self.t.built("b")
        for var in ("LATENCY_PAGES", "LATENCY_LOOPS"):
            for bad in ("0", "x", "-1", "1.5", "08", "1 2", "4k"):
                with self.subTest(var=var, value=bad):
                    self.assertRefused(self.run_icount(**{var: bad}),
                                       f"{var} must be a positive integer, not '{bad}'")

    def test_bad_runs(self):
        for bad in ("0", "x", "-1"):
            with self.subTest(RUNS=bad):
                self.assertRefused(self.run_icount(RUNS=bad),
                                   f"RUNS must be a positive integer, not '{bad}'")

    def test_variant_not_built(self):
        self.t.built("a")
        proc = self.run_icount()
        msg = "variant {0} is not built (no bzImage, info or config in {1}/{0}): make latency"
        self.assertRefused(proc, msg.format("b", self.t.out))
        self.assertNotIn("variant a", proc.stderr)
        self.t.built("b")
        for name in ("info", "config"):
            with self.subTest(missing=name):
                self.t.built("a")
                os.remove(os.path.join(self.t.out, "a", name))
                proc = self.run_icount()
                self.assertRefused(proc, msg.format("a", self.t.out))
                self.assertNotIn("preemptible", proc.stderr)
                self.assertNotIn("No such file", proc.stderr)

    def test_preemptible_kernel_is_refused(self):
        for cfg_a, cfg_b, bad in ((PREEMPT, VOLUNTARY, "a"), (NONE, PREEMPT, "b"),
                                  ("CONFIG_PREEMPT_RT=y\n", NONE, "a"),
                                  (VOLUNTARY, "CONFIG_PREEMPT_DYNAMIC=y\nCONFIG_PREEMPT=y\n", "b"),
                                  # A comment is no setting.
                                  ("# CONFIG_PREEMPT_VOLUNTARY=y\n", NONE, "a"),
                                  (VOLUNTARY, "CONFIG_PREEMPT_NONE=n\n", "b")):
            with self.subTest(a=cfg_a, b=cfg_b):
                self.t.clean()
                self.t.built("a", cfg_a)
                self.t.built("b", cfg_b)
                proc = self.run_icount()
                self.assertRefused(
                    proc, f"variant {bad} is preemptible in the kernel ({self.t.out}/{bad}/config "
                          "has neither PREEMPT_NONE nor PREEMPT_VOLUNTARY): a missing "
                          "reschedule point delays nothing there")
                other = "b" if bad == "a" else "a"
                self.assertNotIn(f"variant {other} ", proc.stderr)

    def test_kernel_without_config_is_refused(self):
        self.t.built("a")
        self.t.built("b", config=None)
        proc = self.run_icount()
        self.assertRefused(proc, f"variant b is not built (no bzImage, info or config in "
                                 f"{self.t.out}/b): make latency")
        self.assertNotIn("preemptible", proc.stderr)


# A fake boot.sh for a whole run: it records its call and writes the console
# log of the plan with a "bench latency" line per row of BENCH_ROWS; max_us
# of kernel a is 1000 + 100 * run, of the others 300 + 10 * run.
FAKE_BOOT = r"""#!/bin/bash
echo "$1 $2 $(basename "$3") SMP=$SMP MEM=$MEM TIMEOUT=$TIMEOUT ICOUNT=${ICOUNT-} KARGS=$KARGS KUNIT_FILTER=[${KUNIT_FILTER-unset}] BENCH_ROWS=$BENCH_ROWS" >>"$(dirname "$0")/../boot-calls"
r=$(basename "$3" .log)
r=${r##*-}
case "$1" in a) max=$((1000 + 100 * r)) ;; *) max=$((300 + 10 * r)) ;; esac
{
	echo "[    0.000000] Linux version 6.12.117-$1 (fake)"
	echo "[    1.000000] harness: start variant=$1 plan=$2"
	t=2
	while IFS='|' read -r label params; do
		echo "[    $t.000000] harness: vmalloc-row $label"
		echo "[    $t.010000] harness: vmalloc-expect summaries=1 tests=1 threads=1"
		echo "[    $t.500000] Summary: fix_size_alloc_test passed: 1 failed: 0 repeat: 1 loops: 2 avg: 700 usec"
		echo "[    $t.550000] All test took worker0=1234560 cycles"
		echo "[    $t.900000] harness: bench latency row=$(echo "$label" | tr ' ' _) max_us=$max samples=500 over_1ms=$((max / 1000)) over_10ms=0"
		t=$((t + 1))
	done <"$BENCH_ROWS"
	echo "[    $t.000000] harness: done"
} >"$3"
"""
FAKE_QEMU = '#!/bin/sh\necho "QEMU emulator version 8.2.2 (fake)"\n'


class LatencyShRunTest(ScipyTestCase):
    """latency.sh past its refusals: the rows from each kernel's own
    test_vmalloc.c, the boots (a fake boot.sh), check-log.py and the report."""
    script = "latency-report.py"

    def setUp(self):
        super().setUp()
        self.t = LatencyLayout("latency-run")
        self.addCleanup(self.t.cleanup)
        self.dir = os.path.join(self.t.build_base, "latency", "a-b", "icount")

    def tree(self, b_source=None):
        """T/build/6.12/linux with branches variant/a and variant/b whose
        lib/test_vmalloc.c is the 6.12 fixture (B_SOURCE: b's instead)."""
        self.t.init_tree({"lib/test_vmalloc.c": read(FIXTURE_612)})
        git(self.t.tree, "branch", "variant/a", "base")
        git(self.t.tree, "checkout", "-q", "-b", "variant/b", "base")
        if b_source is not None:
            write(os.path.join(self.t.tree, "lib", "test_vmalloc.c"), b_source)
            git(self.t.tree, "commit", "-q", "-a", "-m", "b")

    def run_icount(self, **env):
        env = dict({"LATENCY_VARIANTS": "a b", "PROFILE": "bench"}, **env)
        return self.t.run("latency.sh", "icount", **env)

    def test_voluntary_and_none_pass_the_preemption_check(self):
        self.t.built("a", VOLUNTARY)
        self.t.built("b", NONE)
        proc = self.run_icount()
        self.assertFails(proc, f"no lib/test_vmalloc.c on branch variant/a of {self.t.tree}: "
                               "make latency applies and builds every variant")
        self.assertNotIn("preemptible", proc.stderr)
        self.assertNotIn("unexpected call", proc.stderr)

    def test_kernels_with_other_rows_are_refused(self):
        text = read(FIXTURE_612)
        first, second = ('\t{ "fix_size_alloc_test", fix_size_alloc_test },\n',
                         '\t{ "full_fit_alloc_test", full_fit_alloc_test },\n')
        self.assertIn(first + second, text)
        self.tree(text.replace(first + second, second + first))
        self.t.built("a")
        self.t.built("b")
        proc = self.run_icount()
        self.assertFails(proc, "variants a and b have different test_vmalloc rows: they would "
                               "not run the same workload")
        self.assertNotIn("unexpected call", proc.stderr)
        self.assertEqual(read(os.path.join(self.dir, "rows-a.txt")),
                         "fix_size p:65536 l:4|run_test_mask=1 test_loop_count=4 nr_threads=1 "
                         "nr_pages=65536\n")
        self.assertEqual(read(os.path.join(self.dir, "rows-b.txt")),
                         "fix_size p:65536 l:4|run_test_mask=2 test_loop_count=4 nr_threads=1 "
                         "nr_pages=65536\n")

    def test_a_whole_run_and_its_report(self):
        self.tree()
        self.t.built("a", VOLUNTARY)
        self.t.built("b", VOLUNTARY)
        write_exec(self.t.path("scripts", "boot.sh"), FAKE_BOOT)
        write_exec(os.path.join(self.t.bin, "qemu-system-x86_64"), FAKE_QEMU)
        write(os.path.join(self.t.build_base, "base-version"), "6.12.117\n")
        proc = self.run_icount(RUNS=2, LATENCY_PAGES=512, LATENCY_LOOPS=2)
        self.assertSucceeds(proc)
        rows = os.path.join(self.dir, "rows.txt")
        self.assertEqual(read(rows), "fix_size p:512 l:2|run_test_mask=1 test_loop_count=2 "
                                     "nr_threads=1 nr_pages=512\n")
        # Interleaved, in a guest of one CPU with init_on_free=1, as benchmark boots.
        env = (f"SMP=1 MEM=2G TIMEOUT=1800 ICOUNT=1 KARGS=kunit.enable=0 init_on_free=1 "
               f"KUNIT_FILTER=[] BENCH_ROWS={rows}")
        self.assertEqual(read(self.t.path("boot-calls")).splitlines(),
                         [f"{v} latency {v}-{r}.log {env}" for r in (1, 2) for v in ("a", "b")])
        self.assertEqual(read(os.path.join(self.dir, "params")), "2 512 2\n")
        self.assertEqual(json.loads(read(os.path.join(self.dir, "a-2.log.json")))["pass"], True)
        report = self.t.path("results", TEST_BASE, "latency-a-b-icount")
        self.assertEqual(proc.stdout.splitlines(),
                         ["fix_size p:512 l:2: max_us a 1150, b 315", f"report: {report}.md"])
        with open(report + ".json") as f:
            js = json.load(f)
        self.assertEqual(js["kernels"], ["a", "b"])
        self.assertEqual(js["boots"], {"a": 2, "b": 2})
        self.assertEqual(js["raw"], {"fix_size p:512 l:2": {
            "a": {"max_us": [1100, 1200], "over_1ms": [1, 1], "over_10ms": [0, 0],
                  "samples": [500, 500]},
            "b": {"max_us": [310, 320], "over_1ms": [0, 0], "over_10ms": [0, 0],
                  "samples": [500, 500]}}})
        self.assertAlmostEqual(js["results"]["fix_size p:512 l:2"]["max_us"]["versus"]["b"]
                               ["ratio"], 315 / 1150, places=12)
        meta = js["meta"]
        self.assertEqual(meta["command"], "make latency BASE=6.12 (scripts/latency.sh icount, "
                                          "RUNS=2 LATENCY_PAGES=512 LATENCY_LOOPS=2)")
        self.assertTrue(meta["mode"].startswith("TCG with -icount"), meta["mode"])
        self.assertEqual(meta["runs"], "2 boots per kernel, interleaved a b")
        self.assertEqual(meta["rows"], "fix_size_alloc_test, nr_pages=512 (2 MiB), "
                                       "test_loop_count=2, nr_threads=1; kernel arguments "
                                       "kunit.enable=0 init_on_free=1")
        self.assertEqual(meta["config"], "profile bench: kconfig/*.config, kconfig/bench/, "
                                         "bases/6.12/kconfig/; CONFIG_PREEMPT_VOLUNTARY=y")
        self.assertTrue(meta["guest"].startswith("1 vCPU, 2G, qemu 8.2.2 (fake), host "),
                        meta["guest"])
        self.assertEqual(meta["base"], "linux-source-6.12 6.12.117")
        self.assertEqual(meta["kernels"], "a: 6.12.117-a; b: 6.12.117-b")
        self.assertRegex(meta["duration"], r"^\d+s for 4 boots$")

        # REPORT_ONLY=1: the report again from the same logs, with the run's
        # parameters, and no boot.
        write_exec(self.t.path("scripts", "boot.sh"), UNEXPECTED)
        os.remove(report + ".json")
        proc = self.run_icount(REPORT_ONLY=1, LATENCY_PAGES=64)
        self.assertSucceeds(proc)
        with open(report + ".json") as f:
            again = json.load(f)
        self.assertEqual(again["raw"], js["raw"])
        self.assertEqual(again["meta"]["command"], meta["command"])

    def test_report_only_without_a_run(self):
        self.t.built("a")
        self.t.built("b")
        proc = self.run_icount(REPORT_ONLY=1)
        self.assertFails(proc, f"no previous run of a b (icount) in {self.dir}")
        self.assertNotIn("unexpected call", proc.stderr)


class LatencyShRealTest(ScriptTestCase):
    """The repo's own base 6.12: its LATENCY_VARIANTS and their patches."""

    def run_real(self, script, *args, **extra):
        return run_real(script, LATENCY_VARS, *args, BASE=TEST_BASE, **extra)

    def patches(self, variant):
        proc = self.run_real("variant-patches.sh", variant)
        self.assertSucceeds(proc)
        return [os.path.realpath(p) for p in proc.stdout.splitlines()]

    def test_latency_variants_of_612(self):
        proc = self.run_real("latency.sh", "--variants")
        self.assertSucceeds(proc)
        self.assertEqual(proc.stdout, "base series unbounded\n")
        for v in proc.stdout.split():
            with self.subTest(variant=v):
                for p in self.patches(v):
                    self.assertTrue(os.path.isfile(p), f"{v}: {p} does not exist")

    def test_unbounded_is_the_series_and_the_undo_patch(self):
        series = self.patches("series")
        names = [line.strip() for line in read(os.path.join(REPO, "bases", TEST_BASE, "patches",
                                                            "series")).splitlines()
                 if line.strip() and not line.startswith("#")]
        self.assertTrue(names)
        self.assertEqual(series, [os.path.realpath(os.path.join(REPO, "bases", TEST_BASE,
                                                                "patches", n)) for n in names])
        undo = os.path.realpath(os.path.join(REPO, "bases", TEST_BASE, "harness",
                                             "undo-bounded-runs.patch"))
        self.assertEqual(self.patches("unbounded"), series + [undo])

    def test_undo_patch_removes_lines_the_series_adds(self):
        # Each line the harness patch removes is one a series patch adds: it
        # undoes the series' bound, on top of the series.
        text = read(os.path.join(REPO, "bases", TEST_BASE, "harness", "undo-bounded-runs.patch"))
        # The hunks: after the first "@@" line, before the signature.
        hunks = text.split("\n-- \n")[0].split("\n@@ ", 1)[1].split("\n", 1)[1]
        removed = [line[1:] for line in hunks.splitlines() if line.startswith("-")]
        # It takes the MAX_ORDER_NR_PAGES bound out of the run's limit.
        self.assertTrue(any("MAX_ORDER_NR_PAGES" in line for line in removed), removed)
        added = set()
        for p in self.patches("series"):
            added |= {line[1:] for line in read(p).splitlines()
                      if line.startswith("+") and not line.startswith("+++")}
        for line in removed:
            self.assertTrue(line in added, f"{line!r}: no series patch adds it")

    def test_environment_overrides_the_base(self):
        proc = self.run_real("latency.sh", "--variants", LATENCY_VARIANTS="series unbounded")
        self.assertSucceeds(proc)
        self.assertEqual(proc.stdout, "series unbounded\n")

    def test_one_kernel_is_refused(self):
        proc = self.run_real("latency.sh", "--variants", LATENCY_VARIANTS="series")
        self.assertFails(proc, "base 6.12: LATENCY_VARIANTS (bases/6.12/base.conf) must name at "
                               "least two kernels, not 'series'")
        self.assertEqual(proc.stdout, "")


# --------------------------------------------------------------------------
# guest-latency.c: the wake-up delay probe
# --------------------------------------------------------------------------
USAGE = "usage: {} CPU PERIOD_US READY_FILE STOP_FILE\n"
SAMPLE_RE = re.compile(r"^max_us=(\d+) samples=(\d+) over_1ms=(\d+) over_10ms=(\d+)\n$")


def no_rt_priority():
    """For preexec_fn: no SCHED_FIFO without CAP_SYS_NICE."""
    resource.setrlimit(resource.RLIMIT_RTPRIO, (0, 0))


_PROBE_DIRS = []        # kept until the interpreter exits


@functools.lru_cache(maxsize=None)
def compiled_probe():
    """guest-latency compiled once (plain gcc -Wall -Werror, not static) in a
    temporary directory readable by all (a test runs it as nobody):
    (path, None, gcc's result), or (None, why not, gcc's result)."""
    tmp = tempfile.TemporaryDirectory(prefix="harness-guest-latency-")
    _PROBE_DIRS.append(tmp)
    os.chmod(tmp.name, 0o755)
    exe = os.path.join(tmp.name, "guest-latency")
    if not shutil.which("gcc"):
        return None, "gcc not found: install gcc (make deps)", None
    proc = subprocess.run(["gcc", "-Wall", "-Werror", "-o", exe, PROBE_C],
                          capture_output=True, text=True, timeout=TIMEOUT)
    if proc.returncode:
        return None, f"gcc -Wall -Werror {PROBE_C} failed:\n{proc.stderr}", proc
    return exe, None, proc


@functools.lru_cache(maxsize=None)
def fifo_possible():
    """Whether guest-latency may take SCHED_FIFO 99 here (as root, outside a
    container that forbids it): its run with the stop file there already."""
    exe, why, _ = compiled_probe()
    if why:
        return None
    with tempfile.TemporaryDirectory() as d:
        write(os.path.join(d, "stop"), "")
        proc = subprocess.run([exe, "0", "1000", os.path.join(d, "ready"),
                               os.path.join(d, "stop")], capture_output=True, text=True,
                              timeout=30)
    return proc.returncode == 0


class GuestLatencyCase(unittest.TestCase):
    """Tests that run the compiled guest-latency: they fail without gcc."""

    def setUp(self):
        self.exe, why, self.compile = compiled_probe()
        if why:
            self.fail(why)
        self.work = tempfile.mkdtemp(dir=os.path.dirname(self.exe))
        os.chmod(self.work, 0o755)
        self.addCleanup(shutil.rmtree, self.work, True)
        self.ready = os.path.join(self.work, "ready")
        self.stop = os.path.join(self.work, "stop")

    def probe(self, *args, **kw):
        return subprocess.run([self.exe, *args], capture_output=True, text=True,
                              timeout=30, **kw)


class GuestLatencyTest(GuestLatencyCase):
    def test_compiles_without_warnings(self):
        self.assertEqual(self.compile.returncode, 0, self.compile.stderr)
        self.assertEqual(self.compile.stderr, "")
        self.assertTrue(os.access(self.exe, os.X_OK))

    def test_wrong_argument_count(self):
        for args in ([], ["0"], ["0", "1000", self.ready],
                     ["0", "1000", self.ready, self.stop, "extra"]):
            with self.subTest(args=args):
                proc = self.probe(*args)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertEqual(proc.stderr, USAGE.format(self.exe))
                self.assertEqual(proc.stdout, "")
                self.assertFalse(os.path.exists(self.ready))

    def test_bad_cpu(self):
        for cpu in ("x", "-1", "1024", "99999", "1x", "0.5", "0x1", "",
                    "4294967296"):
            with self.subTest(cpu=cpu):
                proc = self.probe(cpu, "1000", self.ready, self.stop)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertEqual(proc.stderr, f"bad CPU '{cpu}'\n")
                self.assertEqual(proc.stdout, "")
                self.assertFalse(os.path.exists(self.ready))

    def test_bad_period(self):
        for period in ("0", "-5", "x", "1.5", "", "1000us",
                       "60000001", "9223372036854775807"):
            with self.subTest(period=period):
                proc = self.probe("0", period, self.ready, self.stop)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertEqual(proc.stderr, f"bad PERIOD_US '{period}'\n")
                self.assertEqual(proc.stdout, "")
                self.assertFalse(os.path.exists(self.ready))

    def test_cpu_that_is_not_there(self):
        if (os.cpu_count() or 1) >= 1024:
            self.fail("a host of 1024 CPUs or more: CPU 1023 may be online")
        proc = self.probe("1023", "1000", self.ready, self.stop)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stderr, "cannot pin to CPU 1023: Invalid argument\n")
        self.assertFalse(os.path.exists(self.ready))

    def test_without_sched_fifo_it_says_so(self):
        # No real-time priority allowed (RLIMIT_RTPRIO 0, and not root).
        kw = {"preexec_fn": no_rt_priority}
        if os.geteuid() == 0:
            kw.update(user=65534, group=65534, extra_groups=[])
            os.chown(self.work, 65534, 65534)    # so that it could create READY_FILE
        write(self.stop, "")
        proc = self.probe("0", "1000", self.ready, self.stop, **kw)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertEqual(proc.stderr, "cannot take SCHED_FIFO 99: Operation not permitted\n")
        self.assertEqual(proc.stdout, "")
        self.assertFalse(os.path.exists(self.ready))

    def test_stop_file_already_there(self):
        write(self.stop, "")
        proc = self.probe("0", "1000", self.ready, self.stop)
        if not fifo_possible():
            # Unprivileged (or a container without real-time scheduling).
            self.assertEqual(proc.returncode, 1)
            self.assertTrue(proc.stderr.startswith("cannot take SCHED_FIFO 99: "), proc.stderr)
            self.assertFalse(os.path.exists(self.ready))
            return
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "max_us=0 samples=0 over_1ms=0 over_10ms=0\n")
        self.assertEqual(proc.stderr, "")
        self.assertTrue(os.path.exists(self.ready))

    def test_a_short_run_counts_its_wake_ups(self):
        if not fifo_possible():
            proc = self.probe("0", "1000", self.ready, self.stop)
            self.assertEqual(proc.returncode, 1)
            self.assertTrue(proc.stderr.startswith("cannot take SCHED_FIFO 99: "), proc.stderr)
            return
        start = time.monotonic()
        p = subprocess.Popen([self.exe, "0", "1000", self.ready, self.stop],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = start + 10
            while not os.path.exists(self.ready) and p.poll() is None \
                    and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertTrue(os.path.exists(self.ready), "no READY_FILE after 10 s")
            time.sleep(0.3)
            write(self.stop, "")
            out, err = p.communicate(timeout=10)
            elapsed_ms = (time.monotonic() - start) * 1000
        finally:
            write(self.stop, "")
            if p.poll() is None:
                p.kill()
                p.communicate()
        self.assertEqual(p.returncode, 0, err)
        m = SAMPLE_RE.match(out)
        self.assertIsNotNone(m, out)
        max_us, samples, over1, over10 = map(int, m.groups())
        # One wake-up a millisecond, none more often, while it ran.
        self.assertGreaterEqual(samples, 50, out)
        self.assertLessEqual(samples, elapsed_ms + 2, out)
        self.assertLessEqual(over10, over1)
        self.assertLessEqual(over1, samples)
        self.assertLess(max_us, elapsed_ms * 1000)
        # The counts agree with the longest delay (max_us is rounded down).
        if max_us < 1000:
            self.assertEqual(over1, 0, out)
        if max_us < 10000:
            self.assertEqual(over10, 0, out)
        if over1 == 0:
            self.assertLessEqual(max_us, 1000, out)
        # At real-time priority, most wake-ups are on time.
        self.assertLessEqual(over1, samples // 2, out)


# --------------------------------------------------------------------------
# guest-init.sh's latency_plan, run by busybox sh with stubs
# --------------------------------------------------------------------------
# A fake guest-latency: records its arguments, is ready at once, and waits
# for the stop file.
FAKE_PROBE = """#!/bin/sh
echo "$*" >> {calls}
touch "$3"
while [ ! -e "$4" ]; do sleep 0.05; done
echo "max_us=1234 samples=500 over_1ms=3 over_10ms=0"
"""
FAKE_PROBE_NO_FIFO = """#!/bin/sh
echo "cannot take SCHED_FIFO 99: Operation not permitted" >&2
exit 1
"""
FAKE_PROBE_HANGS = "#!/bin/sh\nexec sleep 60\n"


class LatencyPlanTest(unittest.TestCase):
    def setUp(self):
        need_busybox(self)
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.log = os.path.join(self.tmp, "kmsg")
        self.calls = os.path.join(self.tmp, "calls")
        self.rows = os.path.join(self.tmp, "bench-rows")
        self.bin = os.path.join(self.tmp, "bin")
        os.makedirs(os.path.join(self.tmp, "t"))
        write(self.rows, "fix_size p:65536 l:4|run_test_mask=1 test_loop_count=4 nr_threads=1 "
                         "nr_pages=65536\n\nfix_size p:512 l:2|run_test_mask=1 test_loop_count=2 "
                         "nr_threads=1 nr_pages=512\n")

    def latency_plan(self, probe=None, row_sleep=0):
        """latency_plan with stubs for what needs a kernel, and PROBE as
        guest-latency (None: the compiled one); returns the markers it logged."""
        if probe is None:
            exe, why, _ = compiled_probe()
            if why:
                self.fail(why)
            os.makedirs(self.bin, exist_ok=True)
            os.symlink(exe, os.path.join(self.bin, "guest-latency"))
        else:
            write_exec(os.path.join(self.bin, "guest-latency"), probe)
        t = os.path.join(self.tmp, "t") + "/"
        stubs = f"""
log() {{ echo "harness: $*" >> {self.log}; }}
settle() {{ :; }}
vmalloc_row() {{
	log "vmalloc-row $1"
	shift
	[ -e {t}lat-ready ] && [ ! -e {t}lat-stop ] && log "note probe running during: $*"
	sleep {row_sleep}
}}
"""
        subst = (("/bench-rows", self.rows), ("/tmp/", t))
        start = time.monotonic()
        proc = busybox_sh(stubs + guest_function("latency_plan", subst) + "latency_plan\n",
                          path=self.bin)
        self.elapsed = time.monotonic() - start
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return read(self.log).splitlines()

    def test_a_bench_latency_line_per_row(self):
        lines = self.latency_plan(FAKE_PROBE.format(calls=self.calls))
        self.assertEqual(lines, [
            "harness: vmalloc-row fix_size p:65536 l:4",
            "harness: note probe running during: run_test_mask=1 test_loop_count=4 "
            "nr_threads=1 nr_pages=65536",
            "harness: bench latency row=fix_size_p:65536_l:4 max_us=1234 samples=500 "
            "over_1ms=3 over_10ms=0",
            "harness: vmalloc-row fix_size p:512 l:2",
            "harness: note probe running during: run_test_mask=1 test_loop_count=2 "
            "nr_threads=1 nr_pages=512",
            "harness: bench latency row=fix_size_p:512_l:2 max_us=1234 samples=500 "
            "over_1ms=3 over_10ms=0"])
        t = os.path.join(self.tmp, "t")
        self.assertEqual(read(self.calls).splitlines(),
                         [f"0 1000 {t}/lat-ready {t}/lat-stop"] * 2)

    def test_its_lines_pass_check_log(self):
        lines = self.latency_plan(FAKE_PROBE.format(calls=self.calls))
        text = ("[    0.000000] Linux version 6.12.117-series (fake)\n"
                "[    1.000000] harness: start variant=series plan=latency\n")
        for i, line in enumerate(l for l in lines if not l.startswith("harness: note")):
            text += f"[{2 + i:>12.6f}] {line}\n"
            if line.startswith("harness: vmalloc-row"):
                text += (f"[{2.1 + i:>12.6f}] harness: vmalloc-expect summaries=1 tests=1 "
                         f"threads=1\n[{2.2 + i:>12.6f}] Summary: fix_size_alloc_test passed: 1 "
                         "failed: 0 repeat: 1 loops: 4 avg: 70000 usec\n")
        text += "[   10.000000] harness: done\n"
        rc, out, err, res = check_log(text, self.tmp)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual([(b["row"], b["max_us"], b["samples"]) for b in res["bench"]],
                         [("fix_size_p:65536_l:4", 1234, 500), ("fix_size_p:512_l:2", 1234, 500)])

    def test_probe_that_cannot_start_is_an_error(self):
        lines = self.latency_plan(FAKE_PROBE_NO_FIFO)
        self.assertEqual(lines, ["harness: error guest-latency did not start: cannot take "
                                 "SCHED_FIFO 99: Operation not permitted"])
        self.assertLess(self.elapsed, 4, "waited for a probe that had exited")

    def test_probe_that_never_gets_ready_is_an_error(self):
        lines = self.latency_plan(FAKE_PROBE_HANGS)
        self.assertEqual(lines, ["harness: error guest-latency did not start: "])
        self.assertGreaterEqual(self.elapsed, 4.5)
        self.assertLess(self.elapsed, 30)

    def test_with_the_real_probe(self):
        lines = self.latency_plan(row_sleep=0.2)
        if not fifo_possible():
            self.assertEqual(len(lines), 1, lines)
            self.assertTrue(lines[0].startswith("harness: error guest-latency did not start: "
                                                "cannot take SCHED_FIFO 99: "), lines)
            return
        bench = [l for l in lines if l.startswith("harness: bench latency ")]
        self.assertEqual(len(bench), 2, lines)
        for line, row in zip(bench, ("fix_size_p:65536_l:4", "fix_size_p:512_l:2")):
            m = re.fullmatch(rf"harness: bench latency row={row} max_us=(\d+) samples=(\d+) "
                             r"over_1ms=(\d+) over_10ms=(\d+)", line)
            self.assertIsNotNone(m, line)
            self.assertGreaterEqual(int(m.group(2)), 20, line)    # 200 ms of 1 ms wake-ups


if __name__ == "__main__":
    unittest.main()

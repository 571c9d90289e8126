"""Tests of make pcp: the guest plan pcp as scripts/check-log.py judges it
(synthetic console logs), scripts/pcp-report.py on synthetic LOG.json files
(the shape check-log.py --json writes) and scripts/pcp.sh's arguments
(--variants, and the refusals before anything boots).

pcp.sh runs in a throw-away copy of the project (tests/test_scripts.py's
Layout, BASE=6.12, whose base.conf has no PCP_VARIANTS: the tests give it
in the environment) whose scripts/boot.sh is a fake that fails if called,
and, for the repo's own base 7.3, from the repo itself (--variants only).
pcp-report.py runs with Debian's /usr/bin/python3, which needs
python3-scipy (make deps); without it, every test that makes a report
FAILS and says so.  The expected figures are computed here without scipy
(the t quantiles, in tests/report_helpers.py, and Welch's p are constants,
see where they are used), so the tests run under any python3.

Run from the repo root: bash tests/run  (or python3 -m unittest tests.test_pcp)
"""
import os
import sys
import unittest

# The file helpers, the project copy and the assertions of the script tests,
# and what the tests of the studies share (tests/ is on sys.path when run by
# tests/run; added here for python3 -m unittest tests.test_pcp).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_scripts import (TEST_BASE, UNEXPECTED, ScriptTestCase, read, write,  # noqa: E402
                          write_exec)
from report_helpers import (CheckLogCase, LogReportCase, StudyLayout, check_log, fake_log_json,  # noqa: E402
                            ci95, mean, result_line, run_real, table)

COUNTS = ("drain0", "drain1", "drain2", "drain3", "drain9", "take0")
# Pages per drained block of each order counted: 1 << order.
PAGES = {"drain0": 1, "drain1": 2, "drain2": 4, "drain3": 8, "drain9": 512}

# Variables of pcp.sh (besides test_scripts.HARNESS_VARS) that a user or the
# Makefile may have set; the tests set the ones they need.
PCP_VARS = {"PCP_VARIANTS", "RUNS", "SCALE", "PROFILE", "REPORT_ONLY", "OBJ"}


# --------------------------------------------------------------------------
# check-log.py: the plan pcp
# --------------------------------------------------------------------------
ROW_A = "fix_size p:4 l:10 t:2"
ROW_B = "random_size p:1 l:20 t:2"
# A complete "bench pcp" line's values (as scripts/guest-init.sh's pcp_plan
# logs them).
FULL = {"drain0": 1000, "drain1": 40, "drain2": 20, "drain3": 10, "drain9": 1, "take0": 2000,
        "high_low": 60, "count_high": 300, "high_start": 900, "high_end": 800,
        "count_end": 120, "samples": 3}


def pcp_line(label, stamp, **over):
    """The "bench pcp" line of row LABEL: FULL with OVER (None: the key left out)."""
    values = dict(FULL, **over)
    words = " ".join(f"{k}={v}" for k, v in values.items() if v is not None)
    return f"[{stamp:>12.6f}] harness: bench pcp row={label.replace(' ', '_')} zone=Normal {words}\n"


def console_log(rows, plan="pcp", variant="upstream", done=True):
    """A console log of plan PLAN: ROWS is [(label, "bench pcp" line or None)],
    each row a test_vmalloc load with two workers (two Summary lines)."""
    text = ("[    0.000000] Linux version 7.3.0-pcp (fake)\n"
            f"[    1.000000] harness: start variant={variant} plan={plan}\n"
            "[    1.010000] harness: bench pcp_zone zone=Normal batch=63 high_min=378 "
            "high_max=1512 \n")
    t = 2.0
    for label, line in rows:
        test = label.split()[0] + "_alloc_test"
        text += (f"[{t:>12.6f}] harness: vmalloc-row {label}\n"
                 f"[{t + 0.01:>12.6f}] harness: vmalloc-expect summaries=2 tests=1 threads=2\n")
        for w in (0, 1):
            text += (f"[{t + 0.5 + w / 10:>12.6f}] Summary: {test} passed: 1 failed: 0 "
                     f"repeat: 1 loops: 10 avg: {700 + w} usec\n"
                     f"[{t + 0.55 + w / 10:>12.6f}] All test took worker{w}=123456{w} cycles\n")
        if line:
            text += line
        t += 1
    if done:
        text += f"[{t:>12.6f}] harness: done\n"
    return text


class CheckLogPcpTest(CheckLogCase):
    plan = "pcp"

    def test_row_with_its_bench_pcp_line_passes(self):
        rc, out, err, res = self.check(console_log([(ROW_A, pcp_line(ROW_A, 2.9))]))
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(result_line(out), "result: PASS")
        self.assertIn("variant=upstream plan=pcp", out)
        self.assertEqual((res["variant"], res["plan"], res["pass"], res["reasons"]),
                         ("upstream", "pcp", True, []))
        # What pcp-report.py reads: the counts as numbers, the row as logged.
        pcp = [b for b in res["bench"] if b["name"] == "pcp"]
        self.assertEqual(pcp, [dict({"name": "pcp", "row": "fix_size_p:4_l:10_t:2",
                                     "zone": "Normal"}, **FULL)])
        self.assertEqual([b["name"] for b in res["bench"]], ["pcp_zone", "pcp"])
        self.assertEqual([(r["label"], r["expected"], r["summaries"]) for r in res["rows"]],
                         [(ROW_A, 2, 2)])
        self.assertIn("bench: pcp row=fix_size_p:4_l:10_t:2 zone=Normal drain0=1000 drain1=40 "
                      "drain2=20 drain3=10 drain9=1 take0=2000 high_low=60", out)

    def test_two_rows_each_with_its_line_pass(self):
        rc, out, err, res = self.check(console_log(
            [(ROW_A, pcp_line(ROW_A, 2.9)), (ROW_B, pcp_line(ROW_B, 3.9, drain9=0))]))
        self.assertEqual(rc, 0, out + err)
        self.assertEqual([(b["row"], b["drain9"]) for b in res["bench"] if b["name"] == "pcp"],
                         [("fix_size_p:4_l:10_t:2", 1), ("random_size_p:1_l:20_t:2", 0)])

    def test_counts_of_zero_pass(self):
        zero = {k: 0 for k in COUNTS}
        rc, out, err, res = self.check(console_log([(ROW_A, pcp_line(ROW_A, 2.9, **zero))]))
        self.assertEqual(rc, 0, out + err)

    def test_row_without_its_bench_pcp_line_fails(self):
        self.assertFailsFor(console_log([(ROW_A, None)]),
                            "plan pcp: 0 'bench pcp' lines for 1 rows")

    def test_second_row_without_its_line_fails(self):
        self.assertFailsFor(console_log([(ROW_A, pcp_line(ROW_A, 2.9)), (ROW_B, None)]),
                            "plan pcp: 1 'bench pcp' lines for 2 rows")

    def test_no_row_fails(self):
        res = self.assertFailsFor(console_log([]), "plan pcp: no test_vmalloc row",
                                  "no test_vmalloc Summary lines")
        self.assertFalse(any("'bench pcp' lines" in r for r in res["reasons"]), res["reasons"])

    def test_count_that_is_no_number_fails_naming_it(self):
        # The guest logs "?" when a tracefs instance gave no entries-written.
        res = self.assertFailsFor(console_log([(ROW_A, pcp_line(ROW_A, 2.9, drain1="?"))]),
                                  "plan pcp: bench pcp row=fix_size_p:4_l:10_t:2: no count of drain1")
        self.assertEqual([r for r in res["reasons"] if r.startswith("plan pcp")],
                         ["plan pcp: bench pcp row=fix_size_p:4_l:10_t:2: no count of drain1"])

    def test_every_count_is_required(self):
        for name in COUNTS:
            for bad in ("?", None, "1.5"):
                with self.subTest(count=name, value=bad):
                    self.assertFailsFor(
                        console_log([(ROW_A, pcp_line(ROW_A, 2.9, **{name: bad}))]),
                        f"bench pcp row=fix_size_p:4_l:10_t:2: no count of {name}")

    def test_several_bad_counts_are_named_together(self):
        self.assertFailsFor(
            console_log([(ROW_A, pcp_line(ROW_A, 2.9)),
                         (ROW_B, pcp_line(ROW_B, 3.9, drain3="?", take0=None))]),
            "plan pcp: bench pcp row=random_size_p:1_l:20_t:2: no count of drain3, take0")

    def test_truncated_log_fails(self):
        self.assertFailsFor(console_log([(ROW_A, pcp_line(ROW_A, 2.9))], done=False),
                            "log truncated: no 'harness: done' marker")

    def test_bench_pcp_lines_are_not_required_by_other_plans(self):
        rc, out, err, res = self.check(console_log([(ROW_A, None)], plan="bench"))
        self.assertEqual(rc, 0, out + err)

    def test_pcp_is_a_known_plan(self):
        res = self.assertFailsFor(console_log([(ROW_A, pcp_line(ROW_A, 2.9))], plan="pcpx"),
                                  "unknown plan 'pcpx' (known: ")
        known = [r.split("(known: ", 1)[1].rstrip(")").split(", ")
                 for r in res["reasons"] if r.startswith("unknown plan")]
        self.assertEqual(len(known), 1, res["reasons"])
        self.assertIn("pcp", known[0])


# --------------------------------------------------------------------------
# pcp-report.py
# --------------------------------------------------------------------------
LABEL_A = "fix_size_p:4_l:10_t:2"       # as the guest logs it (spaces -> _)
LABEL_B = "random_size_p:1_l:20_t:2"
ROWS = {LABEL_A: ROW_A, LABEL_B: ROW_B}
# Per kernel, per boot, per row: the "bench pcp" values.
BOOTS = {
    "upstream": [
        {LABEL_A: dict(drain0=1000, drain1=40, drain2=20, drain3=10, drain9=1, take0=2000,
                       high_low=60, high_end=800),
         LABEL_B: dict(drain0=300, drain1=0, drain2=0, drain3=0, drain9=0, take0=500,
                       high_low=10, high_end=100)},
        {LABEL_A: dict(drain0=1100, drain1=44, drain2=18, drain3=12, drain9=0, take0=2100,
                       high_low=62, high_end=820),
         LABEL_B: dict(drain0=300, drain1=0, drain2=0, drain3=0, drain9=0, take0=500,
                       high_low=10, high_end=100)}],
    "series": [
        {LABEL_A: dict(drain0=600, drain1=10, drain2=5, drain3=3, drain9=2, take0=900,
                       high_low=30, high_end=700),
         LABEL_B: dict(drain0=300, drain1=1, drain2=0, drain3=0, drain9=0, take0=500,
                       high_low=20, high_end=100)},
        {LABEL_A: dict(drain0=640, drain1=12, drain2=6, drain3=3, drain9=1, take0=1000,
                       high_low=34, high_end=720),
         LABEL_B: dict(drain0=300, drain1=1, drain2=0, drain3=0, drain9=0, take0=500,
                       high_low=20, high_end=100)}]}
# Row A, worked out by hand: drained = d0 + 2 d1 + 4 d2 + 8 d3 + 512 d9,
# drained_high = 2 d1 + 4 d2 + 8 d3.
DRAINED_A = {"upstream": [1752, 1356], "series": [1688, 1224]}
DRAINED_HIGH_A = {"upstream": [240, 256], "series": [64, 72]}
# Welch's p of row A, series against upstream (scipy.stats.ttest_ind(upstream,
# series, equal_var=False); Student's, equal_var=True, for contrast).
WELCH_P_A = {"drained_pages": 0.7791117419207967, "drained_high_pages": 0.008985445087153252,
             "take0": 0.0041067935322961595, "high_low": 0.01709989698344776,
             "high_end": 0.019419324309079843}
STUDENT_P_A = {"drained_high_pages": 0.0024600283266865077, "high_low": 0.0058928032229616295}
MEASURES = ("drained_pages", "drained_high_pages", "take0", "high_low", "high_end")
TITLES = {"drained_pages": "pages drained pcp -> buddy",
          "drained_high_pages": "of them in order-1..3 blocks",
          "take0": "order-0 pages taken from the buddy",
          "high_low": "lowest pcp->high of a CPU",
          "high_end": "pcp->high after the row (sum of CPUs)"}


def drained(b):
    return sum(b[k] * n for k, n in PAGES.items())


def drained_high(b):
    return 2 * b["drain1"] + 4 * b["drain2"] + 8 * b["drain3"]


def values(kernel, label, measure):
    """The per-boot values of MEASURE that pcp-report.py must compute."""
    f = {"drained_pages": drained, "drained_high_pages": drained_high}.get(
        measure, lambda b: b[measure])
    return [f(boot[label]) for boot in BOOTS[kernel]]


def log_json(variant, rows, plan="pcp", passed=True, extra=()):
    """A LOG.json as check-log.py --json writes it, with the bench pcp entries
    of ROWS ({label: values})."""
    bench = [{"name": "pcp_zone", "zone": "Normal", "batch": 63, "high_min": 378,
              "high_max": 1512}]
    for label, vals in rows.items():
        bench.append(dict({"name": "pcp", "row": label, "zone": "Normal"}, **vals,
                          count_high=100, high_start=900, count_end=50, samples=3))
    bench += list(extra)
    return fake_log_json(variant, plan, bench, passed)


class PcpReportCase(LogReportCase):
    script = "pcp-report.py"
    out_name = "pcp-upstream-series-512M-icount"
    kernels = "upstream,series"
    boots = BOOTS

    def boot_log(self, kernel, rows):
        return log_json(kernel, rows)


class PcpReportTest(PcpReportCase):
    def setUp(self):
        super().setUp()
        self.proc, self.md, self.json = self.report_data(
            self.boot_logs(), "upstream,series",
            "--meta", "command=make pcp BASE=7.3 (MEM=512M RUNS=2)", "--meta", "mode=icount")
        self.rows = self.json["rows"]
        self.assertEqual(len(self.rows), 2, self.rows)
        self.row = dict(zip((LABEL_A, LABEL_B), self.rows))   # logged label -> report's

    def test_rows_in_order_of_first_appearance_with_spaces(self):
        # (What holds despite the bug below: the separators are spaces again.)
        self.assertTrue(self.rows[0].endswith(" p:4 l:10 t:2"), self.rows)
        self.assertTrue(self.rows[1].endswith(" p:1 l:20 t:2"), self.rows)
        self.assertEqual(list(self.json["results"]), self.rows)
        self.assertEqual(list(self.json["raw"]), self.rows)

    def test_drained_pages_per_boot(self):
        # By hand, so that the formula (blocks << order, orders 0..3 and 9)
        # is checked, not re-derived.
        self.assertEqual(values("upstream", LABEL_A, "drained_pages"), DRAINED_A["upstream"])
        self.assertEqual(values("series", LABEL_A, "drained_high_pages"),
                         DRAINED_HIGH_A["series"])
        raw = self.json["raw"][self.row[LABEL_A]]
        for k in ("upstream", "series"):
            with self.subTest(kernel=k):
                self.assertEqual(raw[k]["drained_pages"], DRAINED_A[k])
                self.assertEqual(raw[k]["drained_high_pages"], DRAINED_HIGH_A[k])
                self.assertEqual(raw[k]["take0"], values(k, LABEL_A, "take0"))
                self.assertEqual(raw[k]["high_low"], values(k, LABEL_A, "high_low"))
                self.assertEqual(raw[k]["high_end"], values(k, LABEL_A, "high_end"))
        # Row B: one order-1 block is 2 pages.
        raw = self.json["raw"][self.row[LABEL_B]]
        self.assertEqual(raw["series"]["drained_pages"], [302, 302])
        self.assertEqual(raw["series"]["drained_high_pages"], [2, 2])
        self.assertEqual(raw["upstream"]["drained_high_pages"], [0, 0])

    def test_means_and_intervals(self):
        for label in (LABEL_A, LABEL_B):
            for k in ("upstream", "series"):
                for m in MEASURES:
                    with self.subTest(row=label, kernel=k, measure=m):
                        v = values(k, label, m)
                        s = self.json["results"][self.row[label]][m]["kernels"][k]
                        self.assertEqual(s["n"], 2)
                        self.assertAlmostEqual(s["mean"], mean(v), places=9)
                        self.assertAlmostEqual(s["ci95"], ci95(v), delta=1e-6 * (1 + ci95(v)))
        a = self.json["results"][self.row[LABEL_A]]
        self.assertEqual(a["drained_pages"]["kernels"]["upstream"]["mean"], 1554)
        self.assertEqual(a["drained_high_pages"]["kernels"]["series"]["mean"], 68)
        self.assertEqual(self.json["results"][self.row[LABEL_B]]["take0"]["kernels"]["series"]["ci95"], 0)

    def test_ratio_new_over_old_and_welch(self):
        a = self.json["results"][self.row[LABEL_A]]
        for m in MEASURES:
            with self.subTest(measure=m):
                self.assertEqual(list(a[m]["versus"]), ["upstream:series"])
                v = a[m]["versus"]["upstream:series"]
                self.assertAlmostEqual(v["ratio"], mean(values("series", LABEL_A, m))
                                       / mean(values("upstream", LABEL_A, m)), places=12)
                self.assertAlmostEqual(v["p"], WELCH_P_A[m], places=9)
                if m in STUDENT_P_A:
                    self.assertNotAlmostEqual(v["p"], STUDENT_P_A[m], places=4)
        self.assertAlmostEqual(a["drained_pages"]["versus"]["upstream:series"]["ratio"],
                               1456 / 1554, places=12)
        self.assertAlmostEqual(a["drained_high_pages"]["versus"]["upstream:series"]["ratio"],
                               68 / 248, places=12)

    def test_constant_samples(self):
        # Row B: equal constant samples: p 1; different ones: p 0; no ratio
        # when the old mean is 0.
        b = self.json["results"][self.row[LABEL_B]]
        self.assertEqual(b["take0"]["versus"]["upstream:series"], {"ratio": 1.0, "p": 1.0})
        self.assertEqual(b["high_low"]["versus"]["upstream:series"], {"ratio": 2.0, "p": 0.0})
        self.assertEqual(b["drained_high_pages"]["versus"]["upstream:series"],
                         {"ratio": None, "p": 0.0})

    def test_md_tables(self):
        for m in MEASURES:
            with self.subTest(measure=m):
                rows = table(self.md, f"## {TITLES[m]} (`{m}`)")
                self.assertEqual(len(rows), 2, rows)
                self.assertEqual([r[0] for r in rows], self.rows)
        self.assertIn("\n| row | upstream | series | upstream → series |\n", self.md)
        a, b = table(self.md, "## pages drained pcp -> buddy (`drained_pages`)")
        self.assertEqual(a[1:], [f"1554 ± {ci95(DRAINED_A['upstream']):.0f}",
                                 f"1456 ± {ci95(DRAINED_A['series']):.0f}", "0.94x (p=0.78)"])
        self.assertEqual(b[1:], ["300 ± 0", "302 ± 0", "1.01x (p=0) *"])
        a, b = table(self.md, "## of them in order-1..3 blocks (`drained_high_pages`)")
        self.assertEqual(a[1:], ["248 ± 102", "68 ± 51", "0.27x (p=0.009) *"])
        self.assertEqual(b[1:], ["0 ± 0", "2 ± 0", "n/a (p=0) *"])

    def test_md_row_label_keeps_the_spaces(self):
        self.assertIn("| " + self.row[LABEL_A] + " |", self.md)
        self.assertNotIn("fix_size_p:4", self.md)
        self.assertIn(" p:4 l:10 t:2 |", self.md)

    # The guest logs the label with "_" for each space; the report must not
    # turn the "_" of the test names into spaces too.
    def test_row_label_is_the_rows_own(self):
        self.assertEqual(self.rows, ["fix_size p:4 l:10 t:2", "random_size p:1 l:20 t:2"])
        self.assertIn("\n| fix_size p:4 l:10 t:2 | ", self.md)

    def test_boots_and_meta(self):
        self.assertEqual(self.json["kernels"], ["upstream", "series"])
        self.assertEqual(self.json["boots"], {"upstream": 2, "series": 2})
        self.assertEqual(self.json["meta"], {"command": "make pcp BASE=7.3 (MEM=512M RUNS=2)",
                                             "mode": "icount"})
        self.assertIn("- command: make pcp BASE=7.3 (MEM=512M RUNS=2)\n- mode: icount\n"
                      "- boots: upstream 2, series 2\n", self.md)

    def test_stdout(self):
        lines = self.proc.stdout.splitlines()
        self.assertEqual(lines[0], f"{self.rows[0]}: drained upstream 1554, series 1456; "
                                   "take0 upstream 2050, series 950")
        self.assertEqual(lines[-1], f"report: {self.prefix}.md")


class PcpReportCasesTest(PcpReportCase):
    def test_kernels_compared_in_the_order_of_kernels(self):
        # Each kernel against the one before it in --kernels, whatever the
        # order of the logs.
        boots = {"series": BOOTS["series"], "upstream": BOOTS["upstream"],
                 "order0": BOOTS["upstream"]}
        _, md, js = self.report_data(self.boot_logs(boots), "order0,upstream,series")
        self.assertEqual(js["kernels"], ["order0", "upstream", "series"])
        a = js["results"][js["rows"][0]]["drained_pages"]
        self.assertEqual(list(a["versus"]), ["order0:upstream", "upstream:series"])
        # order0 booted as upstream did: the same samples.
        self.assertEqual(a["versus"]["order0:upstream"], {"ratio": 1.0, "p": 1.0})
        self.assertAlmostEqual(a["versus"]["upstream:series"]["ratio"], 1456 / 1554, places=12)
        self.assertIn("| row | order0 | upstream | series | order0 → upstream "
                      "| upstream → series |", md)

    def test_reversed_kernels_reverse_the_ratio(self):
        _, _, js = self.report_data(self.boot_logs(), "series,upstream")
        v = js["results"][js["rows"][0]]["drained_pages"]["versus"]
        self.assertEqual(list(v), ["series:upstream"])
        self.assertAlmostEqual(v["series:upstream"]["ratio"], 1554 / 1456, places=12)

    def test_one_boot_has_no_interval_and_no_test(self):
        boots = {k: v[:1] for k, v in BOOTS.items()}
        _, md, js = self.report_data(self.boot_logs(boots))
        r = js["results"][js["rows"][0]]["drained_pages"]
        self.assertEqual(r["kernels"]["upstream"], {"n": 1, "mean": 1752, "ci95": None})
        self.assertEqual(r["versus"]["upstream:series"], {"ratio": 1688 / 1752, "p": None})
        self.assertEqual(table(md, "## pages drained pcp -> buddy (`drained_pages`)")[0][1:],
                         ["1752", "1688", "0.96x (p n/a)"])

    def test_row_one_kernel_lacks(self):
        boots = {"upstream": [{LABEL_A: BOOTS["upstream"][0][LABEL_A]}],
                 "series": [{LABEL_A: BOOTS["series"][0][LABEL_A],
                             LABEL_B: BOOTS["series"][0][LABEL_B]}]}
        _, md, js = self.report_data(self.boot_logs(boots))
        b = js["results"][js["rows"][1]]["take0"]
        self.assertIsNone(b["kernels"]["upstream"])
        self.assertIsNone(b["versus"]["upstream:series"])
        self.assertEqual(table(md, "## order-0 pages taken from the buddy (`take0`)")[1][1:],
                         ["-", "500", "-"])

    def test_check_log_json_feeds_the_report(self):
        # The whole path of pcp.sh: console log -> check-log.py --json ->
        # pcp-report.py.
        paths = []
        for k in ("upstream", "series"):
            for r, boot in enumerate(BOOTS[k], 1):
                d = os.path.join(self.dir, f"{k}-{r}")
                os.makedirs(d)
                text = console_log([(ROWS[logged], pcp_line(ROWS[logged], 2.9 + i, **vals))
                                    for i, (logged, vals) in enumerate(boot.items())],
                                   variant=k)
                rc, out, err, res = check_log(text, d)
                self.assertEqual(rc, 0, out + err)
                paths.append(os.path.join(d, "console.log.json"))
        _, md, js = self.report_data(paths)
        self.assertEqual(js["boots"], {"upstream": 2, "series": 2})
        raw = js["raw"][js["rows"][0]]
        self.assertEqual(raw["upstream"]["drained_pages"], DRAINED_A["upstream"])
        self.assertEqual(raw["series"]["drained_high_pages"], DRAINED_HIGH_A["series"])

    def test_meta_value_may_contain_equals(self):
        _, md, js = self.report_data(self.boot_logs(), "upstream,series",
                                     "--meta", "command=make pcp RUNS=2")
        self.assertEqual(js["meta"], {"command": "make pcp RUNS=2"})


class PcpReportErrorTest(PcpReportCase):
    def good(self):
        return self.boot_logs()

    def test_kernel_not_in_kernels(self):
        bad = self.write_log(log_json("order0", BOOTS["upstream"][0]))
        self.assertDies(self.report(self.good() + [bad]),
                        f"{bad}: kernel 'order0' is not one of --kernels upstream,series")

    def test_log_without_variant(self):
        log = log_json("upstream", BOOTS["upstream"][0])
        del log["variant"]
        bad = self.write_log(log, "novariant.log.json")
        self.assertDies(self.report(self.good() + [bad]),
                        f"{bad}: kernel None is not one of --kernels")

    def test_other_plan_or_failed_boot(self):
        for name, log in (("plan bench", log_json("series", BOOTS["series"][0], plan="bench")),
                          ("no plan", dict(log_json("series", BOOTS["series"][0]), plan=None)),
                          ("pass false", log_json("series", BOOTS["series"][0], passed=False))):
            with self.subTest(name):
                bad = self.write_log(log)
                self.assertDies(self.report(self.good() + [bad]),
                                f"{bad}: not a passing boot of the plan pcp")

    def test_no_bench_pcp_entry(self):
        bad = self.write_log(log_json("series", {}))
        self.assertDies(self.report(self.good() + [bad]), f"{bad}: no 'bench pcp' line")

    def test_bench_pcp_entry_lacking_a_count(self):
        for key in COUNTS + ("high_low", "high_end"):
            for how, value in (("missing", None), ("not a number", "?")):
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

    def test_several_missing_counts_are_named_together(self):
        vals = dict(BOOTS["series"][1][LABEL_A], drain2="?", take0=1.5)
        bad = self.write_log(log_json("series", {LABEL_A: vals}))
        self.assertDies(self.report([bad] + self.good()),
                        f"{bad}: row {LABEL_A}: no number for drain2, take0")

    def test_kernel_with_no_boot(self):
        up = [self.write_log(log_json("upstream", b)) for b in BOOTS["upstream"]]
        self.assertDies(self.report(up), "no boot of kernel series")
        self.assertDies(self.report(up, "upstream,series,order0"), "no boot of kernel series")

    def test_fewer_than_two_kernels(self):
        for kernels in ("upstream", "upstream,", ""):
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
        self.assertDies(self.report(self.good(), "upstream,series", "--meta", "novalue"),
                        "--meta 'novalue' is not KEY=VALUE")


# --------------------------------------------------------------------------
# pcp.sh: its kernels (--variants) and what it refuses before booting
# --------------------------------------------------------------------------
class PcpLayout(StudyLayout):
    """A project copy for pcp.sh whose boot.sh must not be called."""
    study_vars = PCP_VARS

    def __init__(self, name):
        super().__init__(name)
        write_exec(self.path("scripts", "boot.sh"), UNEXPECTED)
        for tool in ("make", "gcc", "qemu-system-x86_64"):   # must not be needed
            write_exec(os.path.join(self.bin, tool), UNEXPECTED)


class PcpShTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = PcpLayout("pcp")

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def test_variants_prints_the_kernels(self):
        proc = self.t.run("pcp.sh", "--variants", PCP_VARIANTS="a b")
        self.assertSucceeds(proc)
        self.assertEqual(proc.stdout, "a b\n")
        proc = self.t.run("pcp.sh", "--variants", PCP_VARIANTS="  order0 \t upstream  series ")
        self.assertSucceeds(proc)
        self.assertEqual(proc.stdout, "order0 upstream series\n")

    def test_variants_needs_two_kernels(self):
        # bases/6.12/base.conf has no PCP_VARIANTS: the environment's or none.
        self.assertNotIn("PCP_VARIANTS", read(os.path.join(self.t.base_dir, "base.conf")))
        for value in ("a", " a ", "", None):
            for args in (["--variants"], ["icount"]):
                with self.subTest(PCP_VARIANTS=value, args=args):
                    proc = self.t.run("pcp.sh", *args, PCP_VARIANTS=value)
                    self.assertFails(proc, f"base {TEST_BASE}: PCP_VARIANTS "
                                           f"(bases/{TEST_BASE}/base.conf) must name at least "
                                           f"two kernels, not '{value or ''}'")
                    self.assertEqual(proc.stdout, "")

    def test_usage_and_bad_mode(self):
        for args in ([], ["icount", "tcg"]):
            with self.subTest(args=args):
                self.assertFails(self.t.run("pcp.sh", *args, PCP_VARIANTS="a b"),
                                 "usage:", "tcg|icount")
        for mode in ("kvm", "ICOUNT"):
            with self.subTest(mode=mode):
                self.assertFails(self.t.run("pcp.sh", mode, PCP_VARIANTS="a b"),
                                 f"MODE must be tcg or icount, not '{mode}'")

    def test_profile_must_be_bench(self):
        for profile in ("test", None, "nothp"):   # None: common.sh's default, test
            with self.subTest(PROFILE=profile):
                proc = self.t.run("pcp.sh", "icount", PCP_VARIANTS="a b", PROFILE=profile)
                self.assertFails(proc, "the pcp study boots the kernels of PROFILE=bench "
                                       f"(make pcp builds them), not '{profile or 'test'}'")

    def test_variant_not_built(self):
        d = os.path.join(self.t.build_base, "out-bench", "a")
        write(os.path.join(d, "bzImage"), "fake-bzImage\n")
        write(os.path.join(d, "info"), "kernel: 6.12.117-a\n")
        proc = self.t.run("pcp.sh", "icount", PCP_VARIANTS="a b", PROFILE="bench")
        self.assertFails(proc, "variant b is not built: make pcp")
        self.assertNotIn("variant a", proc.stderr)
        self.assertNotIn("unexpected call", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.t.build_base, "pcp")))
        self.assertFalse(os.path.exists(self.t.path("results")))

    def test_bad_runs(self):
        for bad in ("0", "x", "-1"):
            with self.subTest(RUNS=bad):
                proc = self.t.run("pcp.sh", "icount", PCP_VARIANTS="a b", PROFILE="bench",
                                  RUNS=bad)
                self.assertFails(proc, f"RUNS must be a positive integer, not '{bad}'")


class PcpShRealTest(ScriptTestCase):
    """The repo's own base 7.3: its PCP_VARIANTS, which the environment may
    override (base.conf: PCP_VARIANTS=${PCP_VARIANTS:-...})."""

    def run_real(self, script, *args, **extra):
        return run_real(script, PCP_VARS, *args, BASE="7.3", **extra)

    def test_pcp_variants_of_73(self):
        proc = self.run_real("pcp.sh", "--variants")
        self.assertSucceeds(proc)
        self.assertEqual(proc.stdout, "order0 upstream series\n")
        for v in proc.stdout.split():
            with self.subTest(variant=v):
                patches = self.run_real("variant-patches.sh", v)
                self.assertSucceeds(patches)
                for p in patches.stdout.splitlines():
                    self.assertTrue(os.path.isfile(p), f"{v}: {p} does not exist")

    def test_environment_overrides_the_base(self):
        proc = self.run_real("pcp.sh", "--variants", PCP_VARIANTS="a b")
        self.assertSucceeds(proc)
        self.assertEqual(proc.stdout, "a b\n")

    def test_one_kernel_is_refused(self):
        proc = self.run_real("pcp.sh", "--variants", PCP_VARIANTS="a")
        self.assertFails(proc, "base 7.3: PCP_VARIANTS (bases/7.3/base.conf) must name at "
                               "least two kernels, not 'a'")
        self.assertEqual(proc.stdout, "")


if __name__ == "__main__":
    unittest.main()

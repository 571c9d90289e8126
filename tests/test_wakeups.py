"""Tests of make wakeups: the guest plan wakeups as scripts/check-log.py
judges it (synthetic console logs), scripts/pcp-report.py --plan wakeups on
LOG.json files (the shape check-log.py --json writes, and check-log.py's own
output) and scripts/wakeups.sh's arguments (--variants, and the refusals
before anything boots).

wakeups.sh runs from the repo itself with BASE=7.3 (its base.conf has
WAKE_VARIANTS) and BUILD set to an empty temporary directory, so that no
kernel is ever found built and nothing can boot: every refusal is tested
with PROFILE=bench, which proves it comes before the check of the built
kernels (a refusal that came after it would say "variant upstream is not
built" instead). What needs kernels that look built (REPORT_ONLY=1 without
a previous run) runs in a throw-away copy of the project
(tests/test_scripts.py's Layout, BASE=6.12, WAKE_VARIANTS in the
environment) whose scripts/boot.sh is a fake that fails if called.
pcp-report.py runs with Debian's /usr/bin/python3, which needs python3-scipy
(make deps); without it, every test that makes a report FAILS and says so.
The expected figures are computed here without scipy (the t quantiles in
tests/report_helpers.py, Welch's p are constants, see WELCH_P_A), so the
tests run under any python3.

Run from the repo root: bash tests/run  (or python3 -m unittest tests.test_wakeups)
"""
import os
import shutil
import sys
import unittest

# tests/ is on sys.path when run by tests/run; added here for
# python3 -m unittest tests.test_wakeups.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_scripts import UNEXPECTED, ScriptTestCase, write, write_exec  # noqa: E402
from report_helpers import (REPO, CheckLogCase, LogReportCase, RealStudyCase,  # noqa: E402
                            StudyLayout, check_log, fake_log_json, ci95, mean, result_line,
                            table)

# Variables of wakeups.sh (besides test_scripts.HARNESS_VARS, which
# git_env() drops) that a user or the Makefile may have set; the tests set
# the ones they need.
WAKE_VARS = {"WAKE_VARIANTS", "WAKE_FRAGS", "WAKE_SIZES", "WAKE_LOOPS", "WAKE_MODES", "RUNS",
             "PROFILE", "REPORT_ONLY", "OBJ", "PRESSURE_MEM"}


# --------------------------------------------------------------------------
# check-log.py: the plan wakeups
# --------------------------------------------------------------------------
WARMUP = "wakeups-warmup t:2 p:511 l:40"
ROW_A = "fix_size p:512 l:200 t:2"
ROW_B = "fix_size p:4 l:200 t:2"
LABEL_A = "fix_size_p:512_l:200_t:2"     # as the guest logs them (spaces -> _)
LABEL_B = "fix_size_p:4_l:200_t:2"
ROWS = {LABEL_A: ROW_A, LABEL_B: ROW_B}
# A complete "bench wakeups" line's values, in the order scripts/guest-init.sh's
# wakeups_plan logs them: the tracefs counts (WAKE_COUNTERS), the /proc/vmstat
# deltas (WAKE_VMSTAT_KEYS), avg_us and vmallocs.
FULL = {"hi_calls": 900, "hi_fails": 850, "kswapd_wake": 3, "kcompactd_wake": 4,
        "pageoutrun": 5, "compact_daemon_wake": 4, "pgscan_kswapd": 2000, "pgsteal_kswapd": 1500,
        "compact_daemon_migrate_scanned": 300, "compact_daemon_free_scanned": 4000,
        "compact_migrate_scanned": 20, "compact_free_scanned": 100, "pgmigrate_success": 250,
        "compact_stall": 1, "compact_success": 0, "compact_fail": 1, "avg_us": 90000,
        "vmallocs": 400}
# The counts check-log.py requires to be numbers (its WAKE_COUNTS).
CHECKED = ("hi_calls", "hi_fails", "kswapd_wake", "kcompactd_wake", "pageoutrun",
           "compact_daemon_wake", "pgsteal_kswapd", "compact_migrate_scanned",
           "compact_free_scanned", "compact_stall", "avg_us")
FRAG_LINE = ("harness: bench fragmentation order0_free_pages=8210 higher_order_free_pages=4104 "
             "order9_free_units=0 frag=holes")


def wake_line(label, stamp, **over):
    """The "bench wakeups" line of row LABEL: FULL with OVER (None: the key left out)."""
    values = dict(FULL, **over)
    words = " ".join(f"{k}={v}" for k, v in values.items() if v is not None)
    return f"[{stamp:>12.6f}] harness: bench wakeups row={label.replace(' ', '_')} {words}\n"


def row_block(t, label, tests, threads=2):
    """A test_vmalloc load of row LABEL at time T: TESTS x THREADS Summary lines."""
    text = (f"[{t:>12.6f}] harness: vmalloc-row {label}\n"
            f"[{t + 0.01:>12.6f}] harness: vmalloc-expect summaries={len(tests) * threads} "
            f"tests={len(tests)} threads={threads}\n")
    for w in range(threads):
        for i, test in enumerate(tests):
            text += (f"[{t + 0.5 + w / 10 + i / 100:>12.6f}] Summary: {test} passed: 1 failed: 0 "
                     f"repeat: 1 loops: 200 avg: {900 + w} usec\n")
        text += f"[{t + 0.59 + w / 10:>12.6f}] All test took worker{w}=123456{w} cycles\n"
    return text


def console_log(rows, plan="wakeups", variant="upstream", done=True, warmups=(WARMUP,),
                frag=True):
    """A console log of plan PLAN as wakeups_plan writes it: the warm-up
    rows WARMUPS (run_test_mask=9: two cases), the "bench fragmentation"
    line (unless not FRAG) and buddyinfo notes, then ROWS, [(label,
    "bench wakeups" line or None)], each a fix_size load with two workers."""
    text = ("[    0.000000] Linux version 7.3.0-wakeups (fake)\n"
            f"[    1.000000] harness: start variant={variant} plan={plan}\n")
    t = 2.0
    for w in warmups:
        text += row_block(t, w, ("fix_size_alloc_test", "random_size_alloc_test"))
        t += 1
    if frag:
        text += f"[{t:>12.6f}] {FRAG_LINE}\n"
    text += (f"[{t + 0.01:>12.6f}] harness: note buddyinfo: Node 0, zone      DMA      1      1"
             "      0      1      1      1      1      0      1      0      0\n")
    t += 1
    for label, line in rows:
        text += row_block(t, label, ("fix_size_alloc_test",))
        if line:
            text += line
        t += 1
    if done:
        text += f"[{t:>12.6f}] harness: done\n"
    return text


class CheckLogWakeupsTest(CheckLogCase):
    plan = "wakeups"

    def test_complete_log_passes(self):
        rc, out, err, res = self.check(console_log([(ROW_A, wake_line(ROW_A, 3.9))]))
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(result_line(out), "result: PASS")
        self.assertIn("variant=upstream plan=wakeups", out)
        self.assertEqual((res["variant"], res["plan"], res["pass"], res["reasons"]),
                         ("upstream", "wakeups", True, []))
        # What pcp-report.py --plan wakeups reads: the counts as numbers, the
        # row as logged; the warm-up has no line.
        wake = [b for b in res["bench"] if b["name"] == "wakeups"]
        self.assertEqual(wake, [dict({"name": "wakeups", "row": LABEL_A}, **FULL)])
        self.assertEqual([b["name"] for b in res["bench"]], ["fragmentation", "wakeups"])
        self.assertEqual(res["bench"][0], {"name": "fragmentation", "order0_free_pages": 8210,
                                           "higher_order_free_pages": 4104,
                                           "order9_free_units": 0, "frag": "holes"})
        self.assertEqual([(r["label"], r["expected"], r["summaries"]) for r in res["rows"]],
                         [(WARMUP, 4, 4), (ROW_A, 2, 2)])
        self.assertIn(f"bench: wakeups row={LABEL_A} hi_calls=900 hi_fails=850 kswapd_wake=3 ",
                      out)

    def test_two_rows_each_with_its_line_pass(self):
        rc, out, err, res = self.check(console_log(
            [(ROW_A, wake_line(ROW_A, 3.9)), (ROW_B, wake_line(ROW_B, 4.9, hi_fails=0))]))
        self.assertEqual(rc, 0, out + err)
        self.assertEqual([(b["row"], b["hi_fails"]) for b in res["bench"]
                          if b["name"] == "wakeups"], [(LABEL_A, 850), (LABEL_B, 0)])

    def test_counts_of_zero_pass(self):
        zero = {k: 0 for k in FULL if k != "vmallocs"}
        rc, out, err, res = self.check(console_log([(ROW_A, wake_line(ROW_A, 3.9, **zero))]))
        self.assertEqual(rc, 0, out + err)

    def test_row_without_its_bench_wakeups_line_fails(self):
        reason = "plan wakeups: row fix_size p:512 l:200 t:2: 0 'bench wakeups' lines, expected 1"
        res = self.assertFailsFor(console_log([(ROW_A, None)]), reason)
        self.assertEqual([r for r in res["reasons"] if r.startswith("plan wakeups")], [reason])

    def test_second_row_without_its_line_fails_naming_it(self):
        self.assertFailsFor(console_log([(ROW_A, wake_line(ROW_A, 3.9)), (ROW_B, None)]),
                            "plan wakeups: row fix_size p:4 l:200 t:2: 0 'bench wakeups' lines, expected 1")

    def test_count_that_is_no_number_fails_naming_it(self):
        # The guest logs "?" when a tracefs instance gave no entries-written.
        res = self.assertFailsFor(console_log([(ROW_A, wake_line(ROW_A, 3.9, hi_calls="?"))]),
                                  f"plan wakeups: bench wakeups row={LABEL_A}: no count of hi_calls")
        self.assertEqual([r for r in res["reasons"] if r.startswith("plan wakeups")],
                         [f"plan wakeups: bench wakeups row={LABEL_A}: no count of hi_calls"])

    def test_every_checked_count_is_required(self):
        for name in CHECKED:
            for bad in ("?", None, "1.5"):
                with self.subTest(count=name, value=bad):
                    self.assertFailsFor(
                        console_log([(ROW_A, wake_line(ROW_A, 3.9, **{name: bad}))]),
                        f"plan wakeups: bench wakeups row={LABEL_A}: no count of {name}")

    def test_several_bad_counts_are_named_together(self):
        self.assertFailsFor(
            console_log([(ROW_A, wake_line(ROW_A, 3.9)),
                         (ROW_B, wake_line(ROW_B, 4.9, kswapd_wake="?", avg_us=None))]),
            f"plan wakeups: bench wakeups row={LABEL_B}: no count of kswapd_wake, avg_us")

    def test_no_warmup_row_fails(self):
        res = self.assertFailsFor(console_log([(ROW_A, wake_line(ROW_A, 3.9))], warmups=()),
                                  "plan wakeups: 0 'wakeups-warmup ...' rows, expected 1")
        # The one row is a row after the warm-up, with its line.
        self.assertEqual([r for r in res["reasons"] if r.startswith("plan wakeups")],
                         ["plan wakeups: 0 'wakeups-warmup ...' rows, expected 1"])

    def test_two_warmup_rows_fail(self):
        self.assertFailsFor(console_log([(ROW_A, wake_line(ROW_A, 3.9))],
                                        warmups=(WARMUP, WARMUP)),
                            "plan wakeups: 2 'wakeups-warmup ...' rows, expected 1")

    def test_no_row_after_the_warmup_fails(self):
        res = self.assertFailsFor(console_log([]),
                                  "plan wakeups: no test_vmalloc row after the warm-up")
        self.assertFalse(any("'bench wakeups' lines" in r for r in res["reasons"]), res["reasons"])

    def test_no_row_at_all_fails(self):
        self.assertFailsFor(console_log([], warmups=()),
                            "plan wakeups: 0 'wakeups-warmup ...' rows, expected 1",
                            "plan wakeups: no test_vmalloc row after the warm-up",
                            "no test_vmalloc Summary lines")

    def test_no_fragmentation_line_fails(self):
        res = self.assertFailsFor(console_log([(ROW_A, wake_line(ROW_A, 3.9))], frag=False),
                                  "plan wakeups: no 'bench fragmentation' line")
        self.assertEqual([r for r in res["reasons"] if r.startswith("plan wakeups")],
                         ["plan wakeups: no 'bench fragmentation' line"])

    def test_truncated_log_fails(self):
        self.assertFailsFor(console_log([(ROW_A, wake_line(ROW_A, 3.9))], done=False),
                            "log truncated: no 'harness: done' marker")

    def test_wakeups_lines_are_not_required_by_other_plans(self):
        rc, out, err, res = self.check(console_log([(ROW_A, None)], plan="bench"))
        self.assertEqual(rc, 0, out + err)

    def test_wakeups_is_a_known_plan(self):
        rc, out, err, res = self.check(console_log([(ROW_A, wake_line(ROW_A, 3.9))]))
        self.assertFalse(any(r.startswith("unknown plan") for r in res["reasons"]), res["reasons"])
        res = self.assertFailsFor(console_log([(ROW_A, wake_line(ROW_A, 3.9))], plan="wakeup"),
                                  "unknown plan 'wakeup' (known: ")
        known = [r.split("(known: ", 1)[1].rstrip(")").split(", ")
                 for r in res["reasons"] if r.startswith("unknown plan")]
        self.assertEqual(len(known), 1, res["reasons"])
        self.assertIn("wakeups", known[0])
        self.assertIn("pcp", known[0])


# --------------------------------------------------------------------------
# pcp-report.py --plan wakeups
# --------------------------------------------------------------------------
def counts(**over):
    """A "bench wakeups" entry's values: all zero but vmallocs (400: l:200
    t:2) and avg_us, with OVER."""
    return dict(dict({k: 0 for k in FULL}, avg_us=1000, vmallocs=400), **over)


# Per kernel, per boot, per row: the "bench wakeups" values.
BOOTS = {
    "upstream": [
        {LABEL_A: counts(hi_calls=800, hi_fails=780, kswapd_wake=3, kcompactd_wake=5,
                         pageoutrun=4, compact_daemon_wake=5, pgscan_kswapd=2000,
                         pgsteal_kswapd=1500, compact_daemon_migrate_scanned=300,
                         compact_daemon_free_scanned=4000, compact_migrate_scanned=20,
                         compact_free_scanned=100, pgmigrate_success=250, compact_stall=1,
                         avg_us=90000),
         LABEL_B: counts(hi_calls=400, avg_us=3000)},
        {LABEL_A: counts(hi_calls=820, hi_fails=790, kswapd_wake=5, kcompactd_wake=7,
                         pageoutrun=6, compact_daemon_wake=6, pgscan_kswapd=2600,
                         pgsteal_kswapd=1700, compact_daemon_migrate_scanned=340,
                         compact_daemon_free_scanned=4400, pgmigrate_success=270,
                         avg_us=94000),
         LABEL_B: counts(hi_calls=400, avg_us=3100)}],
    "series": [
        {LABEL_A: counts(hi_calls=60, avg_us=70000),
         LABEL_B: counts(hi_calls=400, avg_us=2900)},
        {LABEL_A: counts(hi_calls=52, kswapd_wake=1, pageoutrun=1, pgscan_kswapd=100,
                         pgsteal_kswapd=90, compact_daemon_migrate_scanned=10,
                         compact_daemon_free_scanned=50, pgmigrate_success=5, avg_us=72000),
         LABEL_B: counts(hi_calls=400, avg_us=2950)}]}
# Row A, worked out by hand (vmallocs 400 in every boot):
# hi_calls / vmallocs, hi_fails / vmallocs, (hi_calls - hi_fails) / vmallocs,
# compact_daemon_migrate_scanned + compact_migrate_scanned and
# compact_daemon_free_scanned + compact_free_scanned.
RAW_A = {
    "upstream": {"hi_calls_per_vmalloc": [2.0, 2.05], "hi_fails_per_vmalloc": [1.95, 1.975],
                 "blocks_per_vmalloc": [0.05, 0.075], "migrate_scanned": [320, 340],
                 "free_scanned": [4100, 4400]},
    "series": {"hi_calls_per_vmalloc": [0.15, 0.13], "hi_fails_per_vmalloc": [0.0, 0.0],
               "blocks_per_vmalloc": [0.15, 0.13], "migrate_scanned": [0, 10],
               "free_scanned": [0, 50]}}
# Welch's p of row A, series against upstream (scipy 1.10
# stats.ttest_ind(upstream, series, equal_var=False); Student's, equal_var=True,
# for contrast).
WELCH_P_A = {"avg_us": 0.02737512864470889, "hi_calls_per_vmalloc": 0.00264321928608865,
             "hi_fails_per_vmalloc": 0.004054848174784972,
             "blocks_per_vmalloc": 0.043988374714648705,
             "migrate_scanned": 0.005237381284057123, "free_scanned": 0.019267999465394692,
             "kswapd_wake": 0.12904783554828336, "pgsteal_kswapd": 0.01799080717708849}
STUDENT_P_A = {"avg_us": 0.011148620369176658, "hi_calls_per_vmalloc": 0.00020397756459005953,
               "migrate_scanned": 0.0011813353208440448}
# The measures of the plan wakeups, in the report's order, with their titles.
TITLES = {
    "avg_us": "test_vmalloc time (us)",
    "hi_calls_per_vmalloc": "high-order page allocations per vmalloc(), failed ones included",
    "hi_fails_per_vmalloc": "failed high-order page allocations per vmalloc()",
    "blocks_per_vmalloc": "high-order blocks obtained per vmalloc()",
    "kswapd_wake": "kswapd wakeups (mm_vmscan_wakeup_kswapd)",
    "kcompactd_wake": "kcompactd wakeups (mm_compaction_wakeup_kcompactd)",
    "pageoutrun": "kswapd balancing runs (pageoutrun)",
    "compact_daemon_wake": "kcompactd runs (compact_daemon_wake)",
    "pgsteal_kswapd": "pages kswapd reclaimed (pgsteal_kswapd)",
    "migrate_scanned": "pages compaction scanned to migrate (compact_*migrate_scanned)",
    "free_scanned": "free pages compaction scanned (compact_*free_scanned)",
    "pgmigrate_success": "pages migrated (pgmigrate_success)",
    "compact_stall": "direct compaction stalls (compact_stall)",
}
MEASURES = tuple(TITLES)
# What pcp-report.py --plan wakeups requires of each entry (its WAKE_COUNTS).
REPORT_COUNTS = ("hi_calls", "hi_fails", "kswapd_wake", "kcompactd_wake", "pageoutrun",
                 "compact_daemon_wake", "pgsteal_kswapd", "pgscan_kswapd",
                 "compact_daemon_migrate_scanned", "compact_daemon_free_scanned",
                 "compact_migrate_scanned", "compact_free_scanned", "pgmigrate_success",
                 "compact_stall", "avg_us", "vmallocs")
FORMULAS = {
    "hi_calls_per_vmalloc": lambda b: b["hi_calls"] / b["vmallocs"],
    "hi_fails_per_vmalloc": lambda b: b["hi_fails"] / b["vmallocs"],
    "blocks_per_vmalloc": lambda b: (b["hi_calls"] - b["hi_fails"]) / b["vmallocs"],
    "migrate_scanned": lambda b: b["compact_daemon_migrate_scanned"] + b["compact_migrate_scanned"],
    "free_scanned": lambda b: b["compact_daemon_free_scanned"] + b["compact_free_scanned"],
}


def values(kernel, label, measure, boots=BOOTS):
    """The per-boot values of MEASURE that pcp-report.py must compute."""
    f = FORMULAS.get(measure, lambda b: b[measure])
    return [f(boot[label]) for boot in boots[kernel]]


def log_json(variant, rows, plan="wakeups", passed=True):
    """A LOG.json as check-log.py --json writes it for a boot of the plan
    wakeups, with the bench wakeups entries of ROWS ({label: values})."""
    bench = [{"name": "fragmentation", "order0_free_pages": 8210, "higher_order_free_pages": 4104,
              "order9_free_units": 0, "frag": "holes"}]
    for label, vals in rows.items():
        bench.append(dict({"name": "wakeups", "row": label}, **vals))
    return fake_log_json(variant, plan, bench, passed)


def pcp_log_json(variant):
    """A LOG.json of a passing boot of the plan pcp (one row)."""
    return fake_log_json(variant, "pcp", [
        {"name": "pcp_zone", "zone": "Normal", "batch": 63, "high_min": 378, "high_max": 1512},
        {"name": "pcp", "row": LABEL_A, "zone": "Normal", "drain0": 1000, "drain1": 40,
         "drain2": 20, "drain3": 10, "drain9": 1, "take0": 2000, "high_low": 60,
         "count_high": 300, "high_start": 900, "high_end": 800, "count_end": 120,
         "samples": 3}])


class WakeReportCase(LogReportCase):
    script = "pcp-report.py"
    out_name = "wakeups-upstream-series-holes-icount"
    kernels = "upstream,series"
    boots = BOOTS

    def boot_log(self, kernel, rows):
        return log_json(kernel, rows)

    def report(self, paths, kernels=None, *args, plan=("--plan", "wakeups")):
        """pcp-report.py PLAN --kernels KERNELS ARGS PATHS (PLAN: () for the default)."""
        kernels = self.kernels if kernels is None else kernels
        return self.run_report(*plan, "--kernels", kernels, *args, *paths)


class WakeReportTest(WakeReportCase):
    def setUp(self):
        super().setUp()
        self.proc, self.md, self.json = self.report_data(
            self.boot_logs(), "upstream,series",
            "--meta", "command=make wakeups BASE=7.3 (RUNS=2)", "--meta", "mode=icount")
        self.rows = self.json["rows"]
        self.assertEqual(len(self.rows), 2, self.rows)
        self.row = dict(zip((LABEL_A, LABEL_B), self.rows))   # logged label -> report's

    def test_rows_keep_their_spaces(self):
        self.assertEqual(self.rows, [ROW_A, ROW_B])
        self.assertEqual(list(self.json["results"]), self.rows)
        self.assertEqual(list(self.json["raw"]), self.rows)

    def test_measures_of_the_plan(self):
        for row in self.rows:
            with self.subTest(row=row):
                self.assertEqual(tuple(self.json["results"][row]), MEASURES)
                self.assertEqual({k: tuple(v) for k, v in self.json["raw"][row].items()},
                                 {"upstream": MEASURES, "series": MEASURES})
        self.assertNotIn("drained_pages", self.json["results"][ROW_A])

    def test_per_vmalloc_and_sum_measures_per_boot(self):
        # By hand (RAW_A), so that the formulas are checked, not re-derived.
        for k in ("upstream", "series"):
            for m, want in RAW_A[k].items():
                with self.subTest(kernel=k, measure=m):
                    self.assertEqual(values(k, LABEL_A, m), want)
                    got = self.json["raw"][ROW_A][k][m]
                    self.assertEqual(len(got), 2)
                    for g, w in zip(got, want):
                        self.assertAlmostEqual(g, w, places=12)
        # Row B: every order-2 attempt succeeds: one call, one block, no failure.
        raw = self.json["raw"][ROW_B]
        self.assertEqual(raw["upstream"]["hi_calls_per_vmalloc"], [1.0, 1.0])
        self.assertEqual(raw["series"]["blocks_per_vmalloc"], [1.0, 1.0])
        self.assertEqual(raw["series"]["hi_fails_per_vmalloc"], [0.0, 0.0])

    def test_counts_as_logged(self):
        raw = self.json["raw"][ROW_A]
        self.assertEqual(raw["upstream"]["avg_us"], [90000, 94000])
        self.assertEqual(raw["upstream"]["kswapd_wake"], [3, 5])
        self.assertEqual(raw["upstream"]["kcompactd_wake"], [5, 7])
        self.assertEqual(raw["upstream"]["compact_daemon_wake"], [5, 6])
        self.assertEqual(raw["upstream"]["pgsteal_kswapd"], [1500, 1700])
        self.assertEqual(raw["upstream"]["compact_stall"], [1, 0])
        self.assertEqual(raw["series"]["pgmigrate_success"], [0, 5])
        self.assertEqual(raw["series"]["pageoutrun"], [0, 1])

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
        a = self.json["results"][ROW_A]
        self.assertAlmostEqual(a["hi_calls_per_vmalloc"]["kernels"]["upstream"]["mean"], 2.025,
                               places=12)
        self.assertAlmostEqual(a["blocks_per_vmalloc"]["kernels"]["upstream"]["mean"], 0.0625,
                               places=12)
        self.assertAlmostEqual(a["blocks_per_vmalloc"]["kernels"]["series"]["mean"], 0.14,
                               places=12)
        self.assertEqual(a["migrate_scanned"]["kernels"]["upstream"]["mean"], 330)
        self.assertEqual(a["free_scanned"]["kernels"]["series"]["mean"], 25)
        self.assertEqual(a["hi_fails_per_vmalloc"]["kernels"]["series"]["ci95"], 0)

    def test_ratio_new_over_old_and_welch(self):
        a = self.json["results"][ROW_A]
        for m in MEASURES:
            with self.subTest(measure=m):
                self.assertEqual(list(a[m]["versus"]), ["upstream:series"])
                v = a[m]["versus"]["upstream:series"]
                old, new = (mean(values(k, LABEL_A, m)) for k in ("upstream", "series"))
                if old:
                    self.assertAlmostEqual(v["ratio"], new / old, places=12)
                else:
                    self.assertIsNone(v["ratio"])
                if m in WELCH_P_A:
                    self.assertAlmostEqual(v["p"], WELCH_P_A[m], places=9)
                if m in STUDENT_P_A:
                    self.assertNotAlmostEqual(v["p"], STUDENT_P_A[m], places=4)
        v = a["blocks_per_vmalloc"]["versus"]["upstream:series"]
        self.assertAlmostEqual(v["ratio"], 0.14 / 0.0625, places=12)
        self.assertLess(v["p"], 0.05)
        self.assertGreater(a["kswapd_wake"]["versus"]["upstream:series"]["p"], 0.05)
        # Constant samples: equal, p 1; different, p 0 (compact_stall: 1, 0
        # against 0, 0 is not constant on one side).
        b = self.json["results"][ROW_B]
        self.assertEqual(b["hi_calls_per_vmalloc"]["versus"]["upstream:series"],
                         {"ratio": 1.0, "p": 1.0})
        self.assertEqual(b["kswapd_wake"]["versus"]["upstream:series"], {"ratio": None, "p": 1.0})

    def test_md(self):
        self.assertTrue(self.md.startswith(
            "# vmalloc()'s high-order blocks in a fragmented guest: allocator calls, wakeups, "
            "reclaim and compaction\n"), self.md[:200])
        self.assertNotIn("pcp", self.md.split("\n", 1)[0])
        self.assertIn("- command: make wakeups BASE=7.3 (RUNS=2)\n- mode: icount\n"
                      "- boots: upstream 2, series 2\n", self.md)
        for m in MEASURES:
            with self.subTest(measure=m):
                rows = table(self.md, f"## {TITLES[m]} (`{m}`)")
                self.assertEqual([r[0] for r in rows], self.rows)
        self.assertNotIn("drained_pages", self.md)
        self.assertIn("\n| row | upstream | series | upstream → series |\n", self.md)
        a, b = table(self.md, "## test_vmalloc time (us) (`avg_us`)")
        self.assertEqual(a[1:], [f"92000 ± {ci95([90000, 94000]):.0f}",
                                 f"71000 ± {ci95([70000, 72000]):.0f}", "0.77x (p=0.027) *"])
        a, b = table(self.md, "## pages compaction scanned to migrate (compact_*migrate_scanned) "
                              "(`migrate_scanned`)")
        self.assertEqual(a[1:], [f"330 ± {ci95([320, 340]):.0f}", "5 ± 64", "0.02x (p=0.0052) *"])

    def test_boots_and_meta(self):
        self.assertEqual(self.json["kernels"], ["upstream", "series"])
        self.assertEqual(self.json["boots"], {"upstream": 2, "series": 2})
        self.assertEqual(self.json["meta"], {"command": "make wakeups BASE=7.3 (RUNS=2)",
                                             "mode": "icount"})

    def test_stdout(self):
        lines = self.proc.stdout.splitlines()
        self.assertEqual(lines, [
            f"{ROW_A}: time upstream 9.2e+04, series 7.1e+04; "
            "high-order calls per vmalloc upstream 2.025, series 0.14",
            f"{ROW_B}: time upstream 3050, series 2925; "
            "high-order calls per vmalloc upstream 1, series 1",
            f"report: {self.prefix}.md"])


class WakeReportCasesTest(WakeReportCase):
    def test_check_log_json_feeds_the_report(self):
        # The whole path of wakeups.sh: console log -> check-log.py --json ->
        # pcp-report.py --plan wakeups.
        paths = []
        for k in ("upstream", "series"):
            for r, boot in enumerate(BOOTS[k], 1):
                d = os.path.join(self.dir, f"{k}-{r}")
                os.makedirs(d)
                text = console_log([(ROWS[logged], wake_line(ROWS[logged], 4.9 + i, **vals))
                                    for i, (logged, vals) in enumerate(boot.items())],
                                   variant=k)
                rc, out, err, res = check_log(text, d)
                self.assertEqual(rc, 0, out + err)
                paths.append(os.path.join(d, "console.log.json"))
        _, md, js = self.report_data(paths)
        self.assertEqual(js["boots"], {"upstream": 2, "series": 2})
        self.assertEqual(js["rows"], [ROW_A, ROW_B])     # the warm-up is no row of the report
        raw = js["raw"][ROW_A]
        for k in ("upstream", "series"):
            for m in ("migrate_scanned", "free_scanned"):
                self.assertEqual(raw[k][m], RAW_A[k][m])
            for g, w in zip(raw[k]["blocks_per_vmalloc"], RAW_A[k]["blocks_per_vmalloc"]):
                self.assertAlmostEqual(g, w, places=12)
        self.assertAlmostEqual(js["results"][ROW_A]["hi_calls_per_vmalloc"]["versus"]
                               ["upstream:series"]["p"], WELCH_P_A["hi_calls_per_vmalloc"],
                               places=9)

    def test_vmallocs_divide_per_boot(self):
        # Each boot's count over its own vmallocs.
        boots = {"upstream": [{LABEL_A: counts(hi_calls=800, hi_fails=600, vmallocs=400)},
                              {LABEL_A: counts(hi_calls=300, hi_fails=100, vmallocs=100)}],
                 "series": [{LABEL_A: counts(hi_calls=10, vmallocs=10)},
                            {LABEL_A: counts(hi_calls=10, vmallocs=20)}]}
        _, _, js = self.report_data(self.boot_logs(boots))
        raw = js["raw"][ROW_A]
        self.assertEqual(raw["upstream"]["hi_calls_per_vmalloc"], [2.0, 3.0])
        self.assertEqual(raw["upstream"]["blocks_per_vmalloc"], [0.5, 2.0])
        self.assertEqual(raw["series"]["hi_calls_per_vmalloc"], [1.0, 0.5])

    def test_kernels_compared_in_the_order_of_kernels(self):
        boots = {"series": BOOTS["series"], "upstream": BOOTS["upstream"]}
        _, md, js = self.report_data(self.boot_logs(boots), "series,upstream")
        v = js["results"][ROW_A]["avg_us"]["versus"]
        self.assertEqual(list(v), ["series:upstream"])
        self.assertAlmostEqual(v["series:upstream"]["ratio"], 92000 / 71000, places=12)
        self.assertIn("| row | series | upstream | series → upstream |", md)


class WakeReportErrorTest(WakeReportCase):
    def good(self):
        return self.boot_logs()

    def test_pcp_log_given_to_plan_wakeups(self):
        bad = self.write_log(pcp_log_json("series"))
        self.assertDies(self.report(self.good() + [bad]),
                        f"{bad}: not a passing boot of the plan wakeups")
        only_pcp = [self.write_log(pcp_log_json(k)) for k in ("upstream", "series")]
        self.assertDies(self.report(only_pcp), "not a passing boot of the plan wakeups")

    def test_default_plan_is_pcp(self):
        # Without --plan, a wakeups log is refused and a pcp one reported as before.
        proc = self.report(self.good(), plan=())
        self.assertDies(proc, "not a passing boot of the plan pcp")
        logs = [self.write_log(pcp_log_json(k)) for k in ("upstream", "series")]
        _, md, js = self.outputs(self.report(logs, plan=()))
        self.assertTrue(md.startswith("# Batched frees and the pcp lists\n"), md[:100])
        self.assertEqual(list(js["results"][js["rows"][0]]),
                         ["drained_pages", "drained_high_pages", "take0", "high_low", "high_end"])
        self.assertEqual(js["raw"][js["rows"][0]]["upstream"]["drained_pages"], [1752])
        _, md2, _ = self.outputs(self.report(logs, plan=("--plan", "pcp")))
        self.assertEqual(md2, md)

    def test_unknown_plan(self):
        proc = self.report(self.good(), plan=("--plan", "wakeup"))
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("--plan: invalid choice: 'wakeup'", proc.stderr)
        self.assertFalse(os.path.exists(self.prefix + ".md"))

    def test_failed_boot_or_other_plan(self):
        for name, log in (("pass false", log_json("series", BOOTS["series"][0], passed=False)),
                          ("plan pressure", log_json("series", BOOTS["series"][0],
                                                     plan="pressure")),
                          ("no plan", dict(log_json("series", BOOTS["series"][0]), plan=None))):
            with self.subTest(name):
                bad = self.write_log(log)
                self.assertDies(self.report(self.good() + [bad]),
                                f"{bad}: not a passing boot of the plan wakeups")

    def test_no_bench_wakeups_entry(self):
        bad = self.write_log(log_json("series", {}))
        self.assertDies(self.report(self.good() + [bad]), f"{bad}: no 'bench wakeups' line")

    def test_entry_lacking_a_count(self):
        for key in REPORT_COUNTS:
            for how, value in (("missing", None), ("not a number", "?")):
                with self.subTest(key=key, how=how):
                    vals = dict(BOOTS["series"][1][LABEL_A])
                    if value is None:
                        del vals[key]
                    else:
                        vals[key] = value
                    bad = self.write_log(log_json("series", {LABEL_A: vals}))
                    self.assertDies(self.report(self.good() + [bad]),
                                    f"{bad}: row {LABEL_A}: no number for {key}")

    def test_kernel_with_no_boot(self):
        up = [self.write_log(log_json("upstream", b)) for b in BOOTS["upstream"]]
        self.assertDies(self.report(up), "no boot of kernel series")

    def test_kernel_not_in_kernels(self):
        bad = self.write_log(log_json("order0", BOOTS["upstream"][0]))
        self.assertDies(self.report(self.good() + [bad]),
                        f"{bad}: kernel 'order0' is not one of --kernels upstream,series")


# --------------------------------------------------------------------------
# Bugs of the wakeups study found when these tests were written, fixed since:
# each test states what must hold.
# --------------------------------------------------------------------------
class WakeupsKnownBugsTest(WakeReportCase):
    def test_check_log_requires_what_the_report_needs(self):
        # Was: check-log.py's WAKE_COUNTS lacks pgscan_kswapd,
        # compact_daemon_migrate_scanned, compact_daemon_free_scanned,
        # pgmigrate_success and vmallocs, which pcp-report.py --plan wakeups
        # requires: a boot passes its check, then the report refuses it.
        d = os.path.join(self.dir, "boot")
        os.makedirs(d)
        rc, out, err, res = check_log(console_log([(ROW_A, wake_line(ROW_A, 3.9, vmallocs="?"))]),
                                      d)
        self.assertEqual(rc, 1, out)

    def test_vmallocs_of_zero_is_an_error_not_a_traceback(self):
        # Was: vmallocs=0 (the guest logs $((l * t)) with l 0 when a row has no
        # test_loop_count) passes check-log.py, and pcp-report.py dies with a
        # ZeroDivisionError traceback.
        bad = self.write_log(log_json("series", {LABEL_A: counts(hi_calls=5, vmallocs=0)}))
        self.assertDies(self.report(self.boot_logs() + [bad]), f"{bad}: row {LABEL_A}")

    def test_per_vmalloc_cells_are_not_rounded_to_integers(self):
        # Was: the markdown cells use reportstats.fmt ("%.0f"), so
        # blocks_per_vmalloc 0.0625 and 0.14 both print as "0 ± 0".
        _, md, _ = self.report_data(self.boot_logs())
        a = table(md, "## high-order blocks obtained per vmalloc() (`blocks_per_vmalloc`)")[0]
        self.assertNotEqual(a[1:3], ["0 ± 0", "0 ± 0"], a)

    def test_each_row_needs_its_own_line(self):
        # Was: check-log.py matches "bench wakeups" lines to rows by count
        # only: row B without its line passes when row A has two.
        d = os.path.join(self.dir, "boot")
        os.makedirs(d)
        rc, out, err, res = check_log(console_log([(ROW_A, wake_line(ROW_A, 3.9)),
                                                   (ROW_B, wake_line(ROW_A, 4.9))]), d)
        self.assertEqual(rc, 1, out)


# --------------------------------------------------------------------------
# wakeups.sh: its kernels (--variants) and what it refuses before booting
# --------------------------------------------------------------------------
class WakeupsShRealTest(RealStudyCase):
    """The repo's own scripts and base 7.3, with BUILD an empty temporary
    directory (no kernel is built there) and fakes of qemu, make and gcc
    first on PATH, so that nothing can be built or booted
    (report_helpers.RealStudyCase)."""
    study_vars = WAKE_VARS

    def wakeups(self, *args, **env):
        return self.run_real("wakeups.sh", *args, **env)

    def test_variants_of_73(self):
        proc = self.wakeups("--variants")
        self.assertSucceeds(proc)
        self.assertEqual(proc.stdout, "upstream series\n")
        self.assertEqual(proc.stderr, "")
        for v in proc.stdout.split():
            with self.subTest(variant=v):
                patches = self.run_real("variant-patches.sh", v)
                self.assertSucceeds(patches)
                for p in patches.stdout.splitlines():
                    self.assertTrue(os.path.isfile(p), f"{v}: {p} does not exist")

    def test_environment_overrides_the_base(self):
        proc = self.wakeups("--variants", WAKE_VARIANTS="  order0 \t upstream  series ")
        self.assertSucceeds(proc)
        self.assertEqual(proc.stdout, "order0 upstream series\n")

    def test_one_kernel_is_refused(self):
        for value in ("a", " a "):
            for args in (["--variants"], ["icount"]):
                with self.subTest(WAKE_VARIANTS=value, args=args):
                    self.assertRefused(
                        self.wakeups(*args, WAKE_VARIANTS=value, PROFILE="bench"),
                        "base 7.3: WAKE_VARIANTS (bases/7.3/base.conf) must name at least two "
                        f"kernels, not '{value}'")

    def test_base_without_wake_variants(self):
        # bases/6.12/base.conf has no WAKE_VARIANTS.
        self.assertRefused(self.wakeups("--variants", BASE="6.12"),
                           "base 6.12: WAKE_VARIANTS (bases/6.12/base.conf) must name at least "
                           "two kernels, not ''")

    def test_usage(self):
        for args in ([], ["icount", "tcg"]):
            with self.subTest(args=args):
                proc = self.wakeups(*args, PROFILE="bench")
                self.assertRefused(proc, f"usage: {os.path.join(REPO, 'scripts', 'wakeups.sh')} "
                                         "tcg|icount")

    def test_bad_mode(self):
        for mode in ("kvm", "ICOUNT", ""):
            with self.subTest(mode=mode):
                self.assertRefused(self.wakeups(mode, PROFILE="bench"),
                                   f"MODE must be tcg or icount, not '{mode}'")

    def test_bad_frags(self):
        for frags, bad in (("bogus", "bogus"), ("holes bogus", "bogus"), ("Half", "Half")):
            with self.subTest(WAKE_FRAGS=frags):
                self.assertRefused(self.wakeups("icount", WAKE_FRAGS=frags, PROFILE="bench"),
                                   f"WAKE_FRAGS: '{bad}' is not holes or half")

    def test_bad_sizes_and_loops(self):
        for env, bad in (({"WAKE_SIZES": "abc"}, "abc"), ({"WAKE_SIZES": "512 4x"}, "4x"),
                         ({"WAKE_SIZES": "0"}, "0"), ({"WAKE_SIZES": "-4"}, "-4"),
                         ({"WAKE_LOOPS": "0"}, "0"), ({"WAKE_LOOPS": "1e3"}, "1e3")):
            with self.subTest(**env):
                self.assertRefused(self.wakeups("tcg", PROFILE="bench", **env),
                                   f"WAKE_SIZES and WAKE_LOOPS must be positive integers, "
                                   f"not '{bad}'")

    def test_bad_runs(self):
        for bad in ("0", "x", "-1"):
            with self.subTest(RUNS=bad):
                self.assertRefused(self.wakeups("icount", RUNS=bad, PROFILE="bench"),
                                   f"RUNS must be a positive integer, not '{bad}'")

    def test_profile_must_be_bench(self):
        for profile in ("test", None, "nothp"):   # None: common.sh's default, test
            with self.subTest(PROFILE=profile):
                self.assertRefused(self.wakeups("icount", PROFILE=profile),
                                   "the wakeups study boots the kernels of PROFILE=bench "
                                   f"(make wakeups builds them), not '{profile or 'test'}'")

    def test_valid_arguments_reach_the_built_kernels(self):
        # The refusals above all come before this check: with valid
        # arguments, the first kernel of WAKE_VARIANTS is not built in BUILD.
        proc = self.wakeups("icount", PROFILE="bench", WAKE_FRAGS="half holes",
                            WAKE_SIZES="4 512", WAKE_LOOPS="3", RUNS="1")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("error: variant upstream is not built: make wakeups\n", proc.stderr)
        self.assertNotIn("unexpected call", proc.stderr)
        self.assertEqual(os.listdir(self.build), [])


class WakeupsLayout(StudyLayout):
    """A project copy for wakeups.sh whose boot.sh must not be called."""
    study_vars = WAKE_VARS

    def __init__(self, name):
        super().__init__(name)
        write_exec(self.path("scripts", "boot.sh"), UNEXPECTED)
        for tool in ("make", "gcc", "qemu-system-x86_64"):   # must not be needed
            write_exec(os.path.join(self.bin, tool), UNEXPECTED)

    def fake_built(self, *variants):
        for v in variants:
            d = os.path.join(self.build_base, "out-bench", v)
            write(os.path.join(d, "bzImage"), "fake-bzImage\n")
            write(os.path.join(d, "info"), f"kernel: 6.12.117-{v}\n")


class WakeupsShTest(ScriptTestCase):
    """What needs kernels that look built: a project copy (BASE=6.12)."""

    @classmethod
    def setUpClass(cls):
        cls.t = WakeupsLayout("wakeups")

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def setUp(self):
        shutil.rmtree(os.path.join(self.t.build_base, "out-bench"), ignore_errors=True)

    def test_variant_not_built(self):
        self.t.fake_built("a")
        proc = self.t.run("wakeups.sh", "icount", WAKE_VARIANTS="a b", PROFILE="bench")
        self.assertFails(proc, "variant b is not built: make wakeups")
        self.assertNotIn("variant a", proc.stderr)
        self.assertNotIn("unexpected call", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.t.build_base, "wakeups")))
        self.assertFalse(os.path.exists(self.t.path("results")))

    def test_report_only_without_a_previous_run(self):
        self.t.fake_built("a", "b")
        proc = self.t.run("wakeups.sh", "tcg", WAKE_VARIANTS="a b", PROFILE="bench",
                          REPORT_ONLY="1", WAKE_FRAGS="half")
        dir_ = os.path.join(self.t.build_base, "wakeups", "a-b", "tcg", "half")
        self.assertFails(proc, f"no previous run of a b (tcg, half) in {dir_}")
        self.assertNotIn("unexpected call", proc.stderr)
        self.assertFalse(os.path.exists(self.t.path("results")))


if __name__ == "__main__":
    unittest.main()

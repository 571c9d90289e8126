"""Tests of make floor: scripts/floor-report.py on synthetic TSV files,
scripts/floor.sh with fakes (no kernel is built, no QEMU boots) and the
variant form V+P of scripts/variant-patches.sh (V plus the harness probe
bases/$BASE/harness/probe-P.patch).

floor.sh runs in a throw-away copy of the project (tests/test_scripts.py's
Layout, BASE=6.12) whose scripts/boot.sh and scripts/check-log.py are fakes:
the fake boot writes a console log with the probe's line the test gives it.
floor-report.py runs with Debian's /usr/bin/python3, which needs
python3-scipy (make deps); without it, every test that makes a report FAILS
and says so.  The expected figures here are computed without scipy (the
t quantiles, in tests/report_helpers.py, and Welch's p are constants, see
where they are used), so the tests run under any python3.

Run from the repo root: bash tests/run  (or python3 -m unittest tests.test_floor)
"""
import json
import os
import shutil
import sys
import unittest

# The file helpers, the project copy and the assertions of the script tests,
# and what the tests of the studies share (tests/ is on sys.path when run by
# tests/run; added here for python3 -m unittest tests.test_floor).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_scripts import (SERIES, TEST_BASE, UNEXPECTED, Layout,  # noqa: E402
                          ScriptTestCase, read, write, write_exec)
from report_helpers import REPO, ReportCase, StudyLayout, ci95, mean, run_real  # noqa: E402

HEADER = "kernel\trun\tbatched_ns\tfloor_ns\tchunks_ns\tper_page_ns"
MEASURES = ("batched_ns", "floor_ns", "chunks_ns", "per_page_ns")

# Variables of floor.sh (besides test_scripts.HARNESS_VARS) that a user or the
# Makefile may have set; the tests set the ones they need.
FLOOR_VARS = {"FLOOR_VARIANTS", "RUNS", "FLOOR_LOOPS", "PROFILE", "REPORT_ONLY", "OBJ",
              "BENCH_SET"}


def tsv_lines(data):
    """TSV lines of {kernel: {measure: [per run]}}, run-major (interleaved)."""
    lines = []
    runs = max(len(m["batched_ns"]) for m in data.values())
    for r in range(runs):
        for k, m in data.items():
            if r < len(m["batched_ns"]):
                lines.append("\t".join([k, str(r + 1)] + [str(m[x][r]) for x in MEASURES]))
    return lines


def table(md, header_start):
    """The markdown table starting with header_start: [[cells...] per row]."""
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


# --------------------------------------------------------------------------
# floor-report.py
# --------------------------------------------------------------------------
# Five boots of upstream, six of series: unequal sizes and variances, so
# that Welch's test and Student's differ (batched: Welch p = 0.000987,
# Student p = 0.000181; floor: Welch 0.869, Student 0.878; computed with
# scipy.stats.ttest_ind(a, b, equal_var=False / True)).
UPSTREAM = {"batched_ns": [1000, 1010, 990, 1005, 995],
            "floor_ns": [500, 505, 495, 502, 498],
            "chunks_ns": [200, 210, 190, 205, 195],
            "per_page_ns": [3000, 3030, 2970, 3015, 2985]}
SERIES_K = {"batched_ns": [800, 900, 700, 850, 750, 820],
            "floor_ns": [480, 530, 470, 520, 490, 500],
            "chunks_ns": [100, 100, 100, 100, 100, 100],
            "per_page_ns": [2900, 3100, 3000, 3050, 2950, 3000]}
WELCH_P = {"batched_ns": 0.0009869219815512751, "floor_ns": 0.8687123471318571}
STUDENT_P = {"batched_ns": 0.00018106198752836528, "floor_ns": 0.8781686157078807}


class FloorReportCase(ReportCase):
    script = "floor-report.py"
    out_name = "floor-bench-icount"

    def report(self, text, *args, name="floor.tsv"):
        """Run floor-report.py on a TSV of TEXT: CompletedProcess."""
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return self.run_report(*args, path)

    def report_data(self, data, *args):
        return self.outputs(self.report(HEADER + "\n" + "\n".join(tsv_lines(data)) + "\n",
                                         *args))


class FloorReportTest(FloorReportCase):
    def setUp(self):
        super().setUp()
        self.proc, self.md, self.json = self.report_data(
            {"upstream": UPSTREAM, "series": SERIES_K},
            "--meta", "command=make floor BASE=7.3 (RUNS=5)", "--meta", "mode=icount")

    def test_summaries_of_each_measure(self):
        for k, data in (("upstream", UPSTREAM), ("series", SERIES_K)):
            for m in MEASURES:
                with self.subTest(kernel=k, measure=m):
                    s = self.json["kernels"][k][m]
                    self.assertEqual(s["n"], len(data[m]))
                    self.assertAlmostEqual(s["mean"], mean(data[m]), places=9)
                    self.assertAlmostEqual(s["ci95"], ci95(data[m]), places=6)
        self.assertEqual(self.json["kernels"]["series"]["chunks_ns"]["ci95"], 0)

    def test_ratios(self):
        for k, data in (("upstream", UPSTREAM), ("series", SERIES_K)):
            with self.subTest(kernel=k):
                s = self.json["kernels"][k]
                b, f, c, p = (mean(data[m]) for m in MEASURES)
                self.assertAlmostEqual(s["batched_over_floor"], b / f, places=12)
                self.assertAlmostEqual(s["batched_over_floor_chunks"], b / (f + c), places=12)
                self.assertAlmostEqual(s["per_page_over_batched"], p / b, places=12)
        # upstream: 1000 / 500 and 1000 / (500 + 200), not 1000 / 500 + 200 or so.
        self.assertEqual(self.json["kernels"]["upstream"]["batched_over_floor"], 2.0)
        self.assertAlmostEqual(self.json["kernels"]["upstream"]["batched_over_floor_chunks"],
                               1000 / 700, places=12)

    def test_table(self):
        self.assertIn("\n| kernel | boots | batched | floor | chunks | per-page | batched/floor "
                      "| batched/(floor+chunks) | per-page/batched |\n", self.md)

        def cell(values):
            return f"{mean(values):.0f} ± {ci95(values):.0f}"

        b, f, c, p = (mean(SERIES_K[m]) for m in MEASURES)
        self.assertEqual(table(self.md, "| kernel | boots |"), [
            ["upstream", "5", "1000 ± 10", "500 ± 5", "200 ± 10", "3000 ± 29",
             "2.00", "1.43", "3.00"],
            ["series", "6", *(cell(SERIES_K[m]) for m in MEASURES),
             f"{b / f:.2f}", f"{b / (f + c):.2f}", f"{p / b:.2f}"],
        ])

    def test_welch_against_the_first_kernel(self):
        versus = self.json["versus"]
        self.assertEqual([(v["old"], v["new"], v["measure"]) for v in versus],
                         [("upstream", "series", "batched_ns"), ("upstream", "series", "floor_ns")])
        for v in versus:
            with self.subTest(measure=v["measure"]):
                m = v["measure"]
                self.assertAlmostEqual(v["ratio"], mean(UPSTREAM[m]) / mean(SERIES_K[m]),
                                       places=12)
                # Welch's (unequal variances), not Student's t-test.
                self.assertAlmostEqual(v["p"], WELCH_P[m], places=9)
                self.assertNotAlmostEqual(v["p"], STUDENT_P[m], places=4)
        self.assertEqual(table(self.md, "| kernel | measure |"), [
            ["series", "batched_ns", "1.245", "0.000987", "yes"],
            ["series", "floor_ns", "1.003", "0.869", "no"],
        ])
        self.assertIn("Against upstream (ratio upstream/kernel", self.md)

    def test_meta_and_raw(self):
        self.assertEqual(self.json["meta"], {"command": "make floor BASE=7.3 (RUNS=5)",
                                             "mode": "icount"})
        self.assertIn("- command: make floor BASE=7.3 (RUNS=5)\n- mode: icount\n", self.md)
        self.assertEqual(self.json["raw"], {"upstream": UPSTREAM, "series": SERIES_K})

    def test_stdout(self):
        self.assertIn("upstream: batched 1000 ns, floor 500 ns, chunks 200 ns, per-page 3000 ns: "
                      "batched/floor 2.00", self.proc.stdout)
        self.assertEqual(self.proc.stdout.splitlines()[-1], f"report: {self.prefix}.md")
        self.assertEqual(self.proc.stderr, "")


class FloorReportCasesTest(FloorReportCase):
    @staticmethod
    def same(runs, **over):
        d = {"batched_ns": [1000] * runs, "floor_ns": [500] * runs,
             "chunks_ns": [100] * runs, "per_page_ns": [2000] * runs}
        d.update(over)
        return d

    def test_kernels_in_order_of_first_appearance(self):
        _, md, js = self.report_data({"series": self.same(2), "upstream": self.same(2)})
        self.assertEqual(list(js["kernels"]), ["series", "upstream"])
        self.assertEqual([r[0] for r in table(md, "| kernel | boots |")], ["series", "upstream"])
        self.assertEqual({v["old"] for v in js["versus"]}, {"series"})

    def test_constant_samples(self):
        # Equal constant samples: p 1; different ones: p 0 (no t-test of
        # zero variance); the ratio still first/kernel.
        _, md, js = self.report_data({"a": self.same(3), "b": self.same(3, batched_ns=[500] * 3)})
        self.assertEqual([(v["measure"], v["ratio"], v["p"]) for v in js["versus"]],
                         [("batched_ns", 2.0, 0.0), ("floor_ns", 1.0, 1.0)])
        self.assertEqual(table(md, "| kernel | measure |"),
                         [["b", "batched_ns", "2.000", "0", "yes"],
                          ["b", "floor_ns", "1.000", "1", "no"]])

    def test_one_boot_has_no_interval_and_no_test(self):
        _, md, js = self.report_data({"a": self.same(1), "b": self.same(1, floor_ns=[250])})
        self.assertIsNone(js["kernels"]["a"]["batched_ns"]["ci95"])
        self.assertEqual(js["kernels"]["b"]["batched_over_floor"], 4.0)
        self.assertEqual([v["p"] for v in js["versus"]], [None, None])
        self.assertEqual(table(md, "| kernel | boots |")[1][:4], ["b", "1", "1000", "250"])
        self.assertEqual(table(md, "| kernel | measure |")[1], ["b", "floor_ns", "2.000", "n/a", "n/a"])

    def test_one_kernel_has_no_comparison(self):
        _, md, js = self.report_data({"series": self.same(2)})
        self.assertEqual(js["versus"], [])
        self.assertNotIn("| kernel | measure |", md)

    def test_blank_lines_are_ignored(self):
        text = HEADER + "\n\n" + "\n\n".join(tsv_lines({"a": self.same(2)})) + "\n\n"
        self.assertSucceeds(self.report(text))

    def test_meta_value_may_contain_equals(self):
        _, md, js = self.report_data({"a": self.same(2)}, "--meta", "command=make floor RUNS=2")
        self.assertEqual(js["meta"], {"command": "make floor RUNS=2"})


class FloorReportErrorTest(FloorReportCase):
    GOOD = "a\t1\t1000\t500\t100\t2000\n"

    def path(self):
        return os.path.join(self.dir, "floor.tsv")

    def test_bad_header(self):
        want = ("the first line must be the header "
                "kernel run batched_ns floor_ns chunks_ns per_page_ns")
        for name, header in (
                ("the header before chunks_ns", "kernel\trun\tbatched_ns\tfloor_ns\tper_page_ns"),
                ("spaces, not tabs", HEADER.replace("\t", " ")),
                ("columns swapped", HEADER.replace("floor_ns\tchunks_ns", "chunks_ns\tfloor_ns")),
                ("an extra column", HEADER + "\textra"),
                ("no header", self.GOOD.rstrip("\n"))):
            with self.subTest(name):
                self.assertDies(self.report(header + "\n" + self.GOOD), f"{self.path()}: {want}")
        with self.subTest("empty file"):
            self.assertDies(self.report(""), want)

    def test_wrong_field_count(self):
        for line, n in (("a\t1\t1000\t500\t2000", 5), ("a\t1\t1000\t500\t100\t2000\t9", 7),
                        ("a 1 1000 500 100 2000", 1)):
            with self.subTest(fields=n):
                self.assertDies(self.report(f"{HEADER}\n{self.GOOD}{line}\n"),
                                f"{self.path()}:3: {n} fields, not 6")

    def test_not_a_number(self):
        for bad in ("1.5", "abc", "", "1e3", "0x10"):
            with self.subTest(value=bad):
                line = f"a\t2\t1000\t500\t{bad}\t2000"
                self.assertDies(self.report(f"{HEADER}\n{self.GOOD}{line}\n"),
                                f"{self.path()}:3: not a number of ns: {line!r}")

    def test_time_of_zero_or_less(self):
        for bad in ("0", "-5"):
            for col in range(2, 6):
                with self.subTest(value=bad, column=col):
                    f = self.GOOD.rstrip("\n").split("\t")
                    f[col] = bad
                    line = "\t".join(f)
                    self.assertDies(self.report(f"{HEADER}\n{line}\n"),
                                    f"{self.path()}:2: a time of 0 ns or less: {line!r}")

    def test_no_measurement(self):
        self.assertDies(self.report(HEADER + "\n"), f"{self.path()}: no measurement")
        self.assertDies(self.report(HEADER + "\n\n  \n"), f"{self.path()}: no measurement")

    def test_missing_file(self):
        proc = self.run_report(os.path.join(self.dir, "nonexistent.tsv"))
        self.assertDies(proc, "cannot read", "nonexistent.tsv")

    def test_bad_meta(self):
        for bad in ("novalue", ""):
            with self.subTest(meta=bad):
                self.assertDies(self.report(HEADER + "\n" + self.GOOD, "--meta", "a=b",
                                            "--meta", bad),
                                f"--meta {bad!r} is not KEY=VALUE")

    # BUG (scripts/floor-report.py, read_tsv): blank lines are dropped before
    # the lines are numbered, so after a blank line the error names the
    # wrong line (here :3 for the bad line 4).  Remove expectedFailure once
    # the numbers count the file's own lines.
    def test_error_names_the_files_line_after_a_blank_line(self):
        self.assertDies(self.report(f"{HEADER}\n\n{self.GOOD}a\t2\t1000\n"),
                        f"{self.path()}:4: 3 fields, not 6")


# --------------------------------------------------------------------------
# floor.sh: boots FLOOR_VARIANTS+floor, interleaved, and makes the report
# --------------------------------------------------------------------------
FAKE_FLOOR_BOOT = r"""#!/bin/bash
# Fake scripts/boot.sh VARIANT PLAN LOG: records its call and the settings
# floor.sh exports (fields split by |), writes a console log: a start line,
# then $FAKE_PROBES/NAME for LOG NAME.log if there is one, then an end line.
# It fails (exit 1, log written) for the log named $FAKE_BOOT_FAIL.
echo "boot|$1|$2|$3|ICOUNT=${ICOUNT-unset}|ACCEL=${ACCEL-unset}|SMP=${SMP-unset}|MEM=${MEM-unset}|TIMEOUT=${TIMEOUT-unset}|KARGS=${KARGS-unset}|KUNIT_FILTER=${KUNIT_FILTER-unset}|PROFILE=${PROFILE-unset}" >>"$FAKE_CALLS"
name=$(basename "$3" .log)
mkdir -p "$(dirname "$3")"
{
	echo "[    0.000000] Linux version 6.12.117 (fake)"
	echo "[    1.000000] harness: start variant=$1 plan=$2"
	if [ -f "$FAKE_PROBES/$name" ]; then cat "$FAKE_PROBES/$name"; fi
	echo "[    3.000000] harness: end"
} >"$3"
if [ "${FAKE_BOOT_FAIL:-}" = "$name" ]; then echo "fake boot: guest timed out" >&2; exit 1; fi
exit 0
"""

FAKE_FLOOR_CHECK_LOG = r"""#!/bin/bash
# Fake scripts/check-log.py LOG: records its arguments; passes, but for the
# log named $FAKE_CHECK_FAIL.
echo "check-log|$*" >>"$FAKE_CALLS"
if [ "${FAKE_CHECK_FAIL:-}" = "$(basename "${!#}" .log)" ]; then
	echo "reason: kernel reports: BUG (fake)"
	echo "result: FAIL (fake)"
	exit 1
fi
echo "result: PASS"
"""

FAKE_QEMU_VERSION = r"""#!/bin/bash
# Fake qemu-system-x86_64: only --version (floor.sh's report names the QEMU).
[ "$*" = --version ] || { echo "fake: unexpected call: qemu-system-x86_64 $*" >&2; exit 99; }
echo "QEMU emulator version 9.9.9 (Debian 1:9.9.9+fake)"
echo "Copyright (c) 2003-2099 Fabrice Bellard and the QEMU Project developers"
"""

BASE_VERSION = "6.12.117-1~deb12u1"
KVER = {"upstream": "6.12.117-floor-up", "series": "6.12.117-floor-se"}


def probe_line(batched, floor, chunks, per_page, loops=200):
    return (f"[    2.000000] contig-free-floor: order 9 loops {loops} ns per range: "
            f"batched {batched} floor {floor} chunks {chunks} per-page {per_page}")


class FloorLayout(StudyLayout):
    """A project copy for floor.sh: fake boot.sh and check-log.py, the 6.12
    harness probe (empty), FLOOR_VARIANTS upstream and series built
    (out-bench/, out-nothp/: bzImage and info), base-version and a QEMU that
    only tells its version."""
    study_vars = FLOOR_VARS

    def __init__(self, name):
        super().__init__(name)
        self.calls = self.path("calls")
        self.probes = self.path("probes")
        self.probe_patch = os.path.join(self.base_dir, "harness", "probe-floor.patch")
        write(self.probe_patch, "")
        write_exec(self.path("scripts", "boot.sh"), FAKE_FLOOR_BOOT)
        write_exec(self.path("scripts", "check-log.py"), FAKE_FLOOR_CHECK_LOG)
        write_exec(os.path.join(self.bin, "qemu-system-x86_64"), FAKE_QEMU_VERSION)
        for tool in ("make", "gcc"):   # must not be needed
            write_exec(os.path.join(self.bin, tool), UNEXPECTED)
        write(os.path.join(self.build_base, "base-version"), BASE_VERSION + "\n")
        self.build_all()

    def build_all(self):
        for out in ("out-bench", "out-nothp"):
            shutil.rmtree(os.path.join(self.build_base, out), ignore_errors=True)
            for k, kver in KVER.items():
                d = os.path.join(self.build_base, out, k + "+floor")
                write(os.path.join(d, "bzImage"), "fake-bzImage\n")
                write(os.path.join(d, "info"), f"kernel: {kver}\nbase: linux-source-6.12\n")

    def reset(self):
        for d in (self.probes, self.path("results"),
                  *(os.path.join(self.build_base, f"floor-{p}") for p in ("bench", "nothp"))):
            shutil.rmtree(d, ignore_errors=True)
        os.makedirs(self.probes)
        if os.path.exists(self.calls):
            os.remove(self.calls)
        write(self.probe_patch, "")
        self.build_all()

    def give(self, name, *lines):
        """The console lines the fake boot writes into the log NAME.log."""
        write(os.path.join(self.probes, name), "".join(l + "\n" for l in lines))

    def calls_of(self, what):
        if not os.path.exists(self.calls):
            return []
        return [line.split("|")[1:] for line in read(self.calls).splitlines()
                if line.split("|")[0] == what]

    def env(self, **extra):
        return super().env(**{"FAKE_CALLS": self.calls, "FAKE_PROBES": self.probes,
                              "FLOOR_VARIANTS": "upstream series", "PROFILE": "bench", **extra})


# Per kernel and run: batched, floor, chunks, per-page.
FLOOR_RUNS = {"upstream": [(1000, 500, 100, 3000), (1200, 600, 100, 3300)],
              "series": [(600, 500, 50, 3000), (700, 500, 150, 3000)]}


class FloorShCase(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = FloorLayout("floor")

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def setUp(self):
        self.t.reset()

    def dir(self, profile="bench", mode="icount", kernels="upstream-series"):
        return os.path.join(self.t.build_base, f"floor-{profile}", kernels, mode)

    def report(self, profile="bench", mode="icount", kernels="upstream-series"):
        """results/BASE/floor-PROFILE-KERNELS-MODE (KERNELS joined by -)."""
        return self.t.path("results", TEST_BASE, f"floor-{profile}-{kernels}-{mode}")

    def give_runs(self, runs=2, loops=200, values=None):
        values = values or FLOOR_RUNS
        for k, per_run in values.items():
            for r in range(1, runs + 1):
                self.t.give(f"{k}+floor-{r}", probe_line(*per_run[(r - 1) % len(per_run)],
                                                         loops=loops))

    def assertNoBoot(self):
        self.assertEqual(self.t.calls_of("boot"), [])

    def reports(self):
        """The files in results/BASE/."""
        d = self.t.path("results", TEST_BASE)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def assertNoReport(self):
        self.assertEqual(self.reports(), [])


class FloorShArgsTest(FloorShCase):
    def test_variants_prints_each_kernel_with_floor(self):
        proc = self.t.run("floor.sh", "--variants")
        self.assertSucceeds(proc)
        self.assertEqual(proc.stdout, "upstream+floor series+floor\n")
        proc = self.t.run("floor.sh", "--variants", FLOOR_VARIANTS="  cand-2 \t series ")
        self.assertSucceeds(proc)
        self.assertEqual(proc.stdout, "cand-2+floor series+floor\n")
        self.assertNoBoot()

    def test_variants_needs_no_built_kernel_and_no_profile(self):
        shutil.rmtree(os.path.join(self.t.build_base, "out-bench"))
        proc = self.t.run("floor.sh", "--variants", PROFILE=None)
        self.assertSucceeds(proc)
        self.assertEqual(proc.stdout.split(), ["upstream+floor", "series+floor"])

    def test_no_floor_variants(self):
        # bases/6.12/base.conf has no FLOOR_VARIANTS.
        self.assertNotIn("FLOOR_VARIANTS", read(os.path.join(self.t.base_dir, "base.conf")))
        for value in (None, "", "  "):
            for args in (["--variants"], ["icount"]):
                with self.subTest(FLOOR_VARIANTS=value, args=args):
                    proc = self.t.run("floor.sh", *args, FLOOR_VARIANTS=value)
                    self.assertFails(proc, f"base {TEST_BASE}: no FLOOR_VARIANTS in "
                                           f"bases/{TEST_BASE}/base.conf")
                    self.assertEqual(proc.stdout, "")
        self.assertNoBoot()

    def test_missing_probe_patch(self):
        os.remove(self.t.probe_patch)
        for args in (["--variants"], ["icount"]):
            with self.subTest(args=args):
                proc = self.t.run("floor.sh", *args)
                self.assertFails(proc, f"base {TEST_BASE}: no floor probe {self.t.probe_patch}")
                self.assertEqual(proc.stdout, "")
        self.assertNoBoot()

    def test_usage_and_bad_mode(self):
        for args in ([], ["icount", "tcg"]):
            with self.subTest(args=args):
                self.assertFails(self.t.run("floor.sh", *args), "usage:", "tcg|icount")
        for mode in ("kvm", "ICOUNT", ""):
            with self.subTest(mode=mode):
                self.assertFails(self.t.run("floor.sh", mode),
                                 f"MODE must be tcg or icount, not '{mode}'")
        self.assertNoBoot()

    def test_bad_runs_and_loops(self):
        for var, what in (("RUNS", "RUNS"), ("FLOOR_LOOPS", "FLOOR_LOOPS")):
            # FLOOR_LOOPS=010 would be octal 8 to the kernel's kstrtouint(, 0, ).
            for bad in ("0", "x", "-1", "1.5", "2 ", "1e3") + (("010",) if var == "FLOOR_LOOPS" else ()):
                with self.subTest(var=var, value=bad):
                    proc = self.t.run("floor.sh", "icount", **{var: bad})
                    self.assertFails(proc, f"{what} must be a positive integer", f"not '{bad}'")
        self.assertNoBoot()
        self.assertNoReport()

    def test_profile_must_be_bench_or_nothp(self):
        for profile in ("test", None):   # None: common.sh's default, test
            with self.subTest(PROFILE=profile):
                proc = self.t.run("floor.sh", "icount", PROFILE=profile)
                self.assertFails(proc, "PROFILE=bench or nothp, not 'test'")
        proc = self.t.run("floor.sh", "icount", PROFILE="fast")
        self.assertFails(proc, "PROFILE must be test, bench or nothp, not 'fast'")
        self.assertNoBoot()
        self.assertNoReport()

    def test_variant_not_built(self):
        os.remove(os.path.join(self.t.build_base, "out-bench", "series+floor", "bzImage"))
        proc = self.t.run("floor.sh", "icount")
        self.assertFails(proc, "variant series+floor is not built: make floor PROFILE=bench")
        shutil.rmtree(os.path.join(self.t.build_base, "out-nothp"))
        proc = self.t.run("floor.sh", "tcg", PROFILE="nothp")
        self.assertFails(proc, "variant upstream+floor is not built: make floor PROFILE=nothp")
        self.assertNoBoot()
        self.assertNoReport()


class FloorShRunTest(FloorShCase):
    def test_full_run_icount(self):
        self.give_runs(2)
        proc = self.t.run("floor.sh", "icount", RUNS=2)
        self.assertSucceeds(proc)
        d = self.dir()
        # Interleaved: run 1 of each kernel, then run 2; each with the probe's
        # argument and nothing else to do, in icount mode.
        boots = self.t.calls_of("boot")
        self.assertEqual([b[:3] for b in boots], [
            ["upstream+floor", "boot", os.path.join(d, "upstream+floor-1.log")],
            ["series+floor", "boot", os.path.join(d, "series+floor-1.log")],
            ["upstream+floor", "boot", os.path.join(d, "upstream+floor-2.log")],
            ["series+floor", "boot", os.path.join(d, "series+floor-2.log")]])
        for b in boots:
            self.assertEqual(b[3:], ["ICOUNT=1", "ACCEL=unset", "SMP=2", "MEM=2G", "TIMEOUT=900",
                                     "KARGS=kunit.enable=0 contig_free_floor=200",
                                     "KUNIT_FILTER=", "PROFILE=bench"])
        self.assertEqual(self.t.calls_of("check-log"), [[b[2]] for b in boots])
        # The probe's figures, per boot, without +floor.
        self.assertEqual(read(os.path.join(d, "floor.tsv")).splitlines(), [
            HEADER,
            "upstream\t1\t1000\t500\t100\t3000",
            "series\t1\t600\t500\t50\t3000",
            "upstream\t2\t1200\t600\t100\t3300",
            "series\t2\t700\t500\t150\t3000"])
        self.assertFalse(os.path.exists(os.path.join(d, "floor.tsv.tmp")))
        self.assertRegex(read(os.path.join(d, "seconds")), r"^[0-9]+\n$")
        # The report: results/6.12/floor-bench-upstream-series-icount.{md,json},
        # and no other.
        self.assertEqual(self.reports(), ["floor-bench-upstream-series-icount.json",
                          "floor-bench-upstream-series-icount.md"])
        md = read(self.report() + ".md")
        with open(self.report() + ".json") as f:
            js = json.load(f)
        self.assertIn(f"report: {self.report()}.md", proc.stdout)
        self.assertEqual(list(js["kernels"]), ["upstream", "series"])
        up, se = js["kernels"]["upstream"], js["kernels"]["series"]
        self.assertEqual(up["batched_ns"]["n"], 2)
        self.assertEqual(up["batched_over_floor"], 1100 / 550)
        self.assertAlmostEqual(up["batched_over_floor_chunks"], 1100 / 650, places=12)
        self.assertAlmostEqual(se["batched_over_floor"], 650 / 500, places=12)
        self.assertAlmostEqual(se["batched_over_floor_chunks"], 650 / 600, places=12)
        self.assertEqual(js["raw"]["series"]["chunks_ns"], [50, 150])
        self.assertEqual([(v["new"], v["measure"]) for v in js["versus"]],
                         [("series", "batched_ns"), ("series", "floor_ns")])
        rows = table(md, "| kernel | boots |")
        self.assertEqual([r[:2] + r[6:8] for r in rows],
                         [["upstream", "2", "2.00", "1.69"], ["series", "2", "1.30", "1.08"]])
        meta = js["meta"]
        self.assertEqual(meta["command"], f"make floor BASE={TEST_BASE} PROFILE=bench "
                                          'FLOOR_VARIANTS="upstream series" '
                                          "(scripts/floor.sh icount, RUNS=2 FLOOR_LOOPS=200)")
        self.assertIn("-icount", meta["mode"])
        self.assertEqual(meta["runs"], "2 boots per kernel, interleaved upstream series")
        self.assertEqual(meta["kernels"], f"upstream+floor: {KVER['upstream']}; "
                                          f"series+floor: {KVER['series']}")
        self.assertEqual(meta["base"], f"linux-source-6.12 {BASE_VERSION}")
        self.assertIn("qemu 9.9.9 (Debian 1:9.9.9+fake)", meta["guest"])
        self.assertTrue(meta["guest"].startswith("2 vCPUs, 2G, "), meta["guest"])
        self.assertIn(f"bases/{TEST_BASE}/harness/probe-floor.patch", meta["probe"])
        self.assertIn("contig_free_floor=200", meta["probe"])
        self.assertRegex(meta["duration"], r"^[0-9]+s for 4 boots$")
        self.assertIn("profile bench:", meta["config"])
        self.assertIn(f"- runs: 2 boots per kernel, interleaved upstream series", md)

    def test_tcg_nothp_default_runs_and_loops(self):
        self.give_runs(5, loops=50)
        proc = self.t.run("floor.sh", "tcg", PROFILE="nothp", FLOOR_LOOPS=50, SMP=1, MEM="1G")
        self.assertSucceeds(proc)
        boots = self.t.calls_of("boot")
        self.assertEqual(len(boots), 10, "RUNS defaults to 5 in tcg mode")
        self.assertEqual(boots[-1][2], os.path.join(self.dir("nothp", "tcg"), "series+floor-5.log"))
        for b in boots:
            self.assertEqual(b[3:], ["ICOUNT=0", "ACCEL=tcg", "SMP=1", "MEM=1G", "TIMEOUT=900",
                                     "KARGS=kunit.enable=0 contig_free_floor=50",
                                     "KUNIT_FILTER=", "PROFILE=nothp"])
        with open(self.report("nothp", "tcg") + ".json") as f:
            js = json.load(f)
        self.assertEqual(js["kernels"]["upstream"]["batched_ns"]["n"], 5)
        self.assertIn("RUNS=5 FLOOR_LOOPS=50", js["meta"]["command"])
        self.assertIn("PROFILE=nothp", js["meta"]["command"])
        self.assertIn("profile nothp:", js["meta"]["config"])
        self.assertIn("ktime", js["meta"]["mode"])
        self.assertEqual(self.reports(), ["floor-nothp-upstream-series-tcg.json",
                                          "floor-nothp-upstream-series-tcg.md"])

    def test_report_named_by_the_kernels(self):
        for out in ("out-bench", "out-nothp"):
            d = os.path.join(self.t.build_base, out, "cand-1+floor")
            write(os.path.join(d, "bzImage"), "fake-bzImage\n")
            write(os.path.join(d, "info"), "kernel: 6.12.117-floor-c1\n")
        self.give_runs(1, values={"upstream": FLOOR_RUNS["upstream"],
                                  "cand-1": FLOOR_RUNS["series"]})
        proc = self.t.run("floor.sh", "icount", RUNS=1, FLOOR_VARIANTS="upstream cand-1")
        self.assertSucceeds(proc)
        self.assertEqual(self.reports(), ["floor-bench-upstream-cand-1-icount.json",
                                          "floor-bench-upstream-cand-1-icount.md"])
        with open(self.report(kernels="upstream-cand-1") + ".json") as f:
            js = json.load(f)
        self.assertEqual(list(js["kernels"]), ["upstream", "cand-1"])
        self.assertIn('FLOOR_VARIANTS="upstream cand-1"', js["meta"]["command"])
        self.assertEqual(js["meta"]["kernels"],
                         f"upstream+floor: {KVER['upstream']}; cand-1+floor: 6.12.117-floor-c1")

    def test_the_last_probe_line_counts(self):
        self.give_runs(1)
        self.t.give("upstream+floor-1", probe_line(1, 1, 1, 1) + "\r",
                    probe_line(900, 450, 90, 2700) + "\r")
        proc = self.t.run("floor.sh", "icount", RUNS=1)
        self.assertSucceeds(proc)
        self.assertIn("upstream\t1\t900\t450\t90\t2700\n", read(os.path.join(self.dir(), "floor.tsv")))

    def test_report_only_remakes_the_report_without_booting(self):
        self.give_runs(2)
        self.assertSucceeds(self.t.run("floor.sh", "icount", RUNS=2))
        os.remove(self.report() + ".md")
        os.remove(self.t.calls)
        proc = self.t.run("floor.sh", "icount", RUNS=2, REPORT_ONLY=1)
        self.assertSucceeds(proc)
        self.assertNoBoot()
        self.assertTrue(os.path.exists(self.report() + ".md"))

    def test_report_only_without_a_run(self):
        proc = self.t.run("floor.sh", "icount", REPORT_ONLY=1)
        self.assertFails(proc, f"no previous run of upstream series (bench, icount) in {self.dir()}")
        self.assertNoBoot()

    # BUG (scripts/floor.sh): with REPORT_ONLY=1 the report is named and
    # described by the current FLOOR_VARIANTS, RUNS and FLOOR_LOOPS, not by
    # the last run that build/BASE/floor-PROFILE/MODE/floor.tsv holds (that
    # directory is not keyed by the kernels).  Here the last run booted
    # upstream and series; REPORT_ONLY=1 FLOOR_VARIANTS="upstream cand-1"
    # writes floor-bench-upstream-cand-1-icount.* with the figures of
    # upstream and series.  Remove expectedFailure once it refuses (or names
    # the report by the data's kernels).
    def test_report_only_never_names_kernels_its_data_lacks(self):
        self.give_runs(1)
        self.assertSucceeds(self.t.run("floor.sh", "icount", RUNS=1))
        d = os.path.join(self.t.build_base, "out-bench", "cand-1+floor")
        write(os.path.join(d, "bzImage"), "fake-bzImage\n")
        write(os.path.join(d, "info"), "kernel: 6.12.117-floor-c1\n")
        proc = self.t.run("floor.sh", "icount", RUNS=1, REPORT_ONLY=1,
                          FLOOR_VARIANTS="upstream cand-1")
        for name in self.reports():
            if name.endswith(".json"):
                with self.subTest(report=name):
                    with open(self.t.path("results", TEST_BASE, name)) as f:
                        kernels = list(json.load(f)["kernels"])
                    self.assertEqual(name, f"floor-bench-{'-'.join(kernels)}-icount.json",
                                     f"exit {proc.returncode}")

    # BUG (scripts/floor.sh): the same for RUNS: REPORT_ONLY=1 without the
    # run's RUNS describes 2 boots per kernel as "RUNS=10", "10 boots per
    # kernel" and "20 boots" (icount's default).  Remove expectedFailure once
    # the meta comes from the run (or REPORT_ONLY refuses a mismatch).
    def test_report_only_describes_the_runs_it_reports(self):
        self.give_runs(2)
        self.assertSucceeds(self.t.run("floor.sh", "icount", RUNS=2))
        proc = self.t.run("floor.sh", "icount", REPORT_ONLY=1)
        if proc.returncode == 0:
            with open(self.report() + ".json") as f:
                meta = json.load(f)["meta"]
            self.assertIn("RUNS=2 ", meta["command"])
            self.assertTrue(meta["runs"].startswith("2 boots per kernel"), meta["runs"])
            self.assertRegex(meta["duration"], r" for 4 boots$")

    # BUG (scripts/floor.sh): a built kernel without its info file is found
    # out only after every boot: kver's sed fails inside klist+="$(...)",
    # set -e ends the script with sed's message alone, and the run's report
    # is never written.  Remove expectedFailure once the run either makes the
    # report or refuses before booting, naming the kernel.
    def test_missing_info_does_not_lose_the_run(self):
        self.give_runs(1)
        os.remove(os.path.join(self.t.build_base, "out-bench", "series+floor", "info"))
        proc = self.t.run("floor.sh", "icount", RUNS=1)
        if proc.returncode == 0:
            self.assertEqual(len(self.reports()), 2)
        else:
            self.assertEqual(self.t.calls_of("boot"), [], "failed after booting")
            self.assertIn("series+floor", proc.stderr)

    # BUG (scripts/floor.sh): line=$(grep -a 'contig-free-floor: ' LOG | ...)
    # under set -e -o pipefail: when grep finds no line, the assignment fails
    # and the script exits 1 at once, silently, so the "no result of the probe
    # in LOG" message (naming the log) is never printed.  Remove
    # expectedFailure once floor.sh says which log lacks the probe's line.
    def test_log_without_the_probe_line_fails_naming_the_log(self):
        self.give_runs(2)
        os.remove(os.path.join(self.t.probes, "series+floor-1"))
        proc = self.t.run("floor.sh", "icount", RUNS=2)
        log = os.path.join(self.dir(), "series+floor-1.log")
        self.assertFails(proc, f"floor boot series+floor run 1: no result of the probe in {log}",
                         "no contig-free-floor line")

    def test_log_without_the_probe_line_fails_before_the_next_boot(self):
        # What holds despite the bug above: it fails, boots no further and
        # writes no report.
        self.give_runs(2)
        os.remove(os.path.join(self.t.probes, "series+floor-1"))
        proc = self.t.run("floor.sh", "icount", RUNS=2)
        self.assertNotEqual(proc.returncode, 0)
        self.assertEqual(len(self.t.calls_of("boot")), 2)
        self.assertNoReport()
        self.assertFalse(os.path.exists(os.path.join(self.dir(), "floor.tsv")))

    def test_failed_probe_fails_naming_the_log(self):
        self.give_runs(2)
        self.t.give("upstream+floor-2",
                    "[    2.000000] contig-free-floor: failed in loop 3 (no order-9 block)")
        proc = self.t.run("floor.sh", "icount", RUNS=2)
        log = os.path.join(self.dir(), "upstream+floor-2.log")
        self.assertFails(proc, f"floor boot upstream+floor run 2: no result of the probe in {log}",
                         "contig-free-floor: failed in loop 3")
        self.assertEqual(len(self.t.calls_of("boot")), 3)
        self.assertNoReport()

    def test_probe_line_of_the_older_format_fails(self):
        # Without chunks (the probe before it timed them apart).
        self.give_runs(1)
        self.t.give("upstream+floor-1", "contig-free-floor: order 9 loops 200 ns per range: "
                                        "batched 1000 floor 500 per-page 3000")
        proc = self.t.run("floor.sh", "icount", RUNS=1)
        self.assertFails(proc, "no result of the probe in "
                               + os.path.join(self.dir(), "upstream+floor-1.log"))

    def test_probe_ran_other_loops(self):
        self.give_runs(1, loops=100)
        proc = self.t.run("floor.sh", "icount", RUNS=1)
        self.assertFails(proc, "floor boot upstream+floor run 1: the probe ran 100 loops, not 200 ("
                               + os.path.join(self.dir(), "upstream+floor-1.log"))
        self.assertNoReport()

    def test_log_failing_the_checks(self):
        self.give_runs(2)
        proc = self.t.run("floor.sh", "icount", RUNS=2, FAKE_CHECK_FAIL="series+floor-1")
        log = os.path.join(self.dir(), "series+floor-1.log")
        self.assertFails(proc, f"floor boot series+floor run 1: its console log fails the checks "
                               f"(log: {log})", "reason: kernel reports: BUG (fake)")
        self.assertEqual(len(self.t.calls_of("boot")), 2)
        self.assertNoReport()

    def test_failed_boot(self):
        self.give_runs(2)
        proc = self.t.run("floor.sh", "icount", RUNS=2, FAKE_BOOT_FAIL="upstream+floor-1")
        log = os.path.join(self.dir(), "upstream+floor-1.log")
        self.assertFails(proc, f"floor boot upstream+floor run 1 failed (log: {log})")
        self.assertEqual(self.t.calls_of("check-log"), [])
        self.assertNoReport()

    def test_failed_run_removes_the_previous_data(self):
        # A later REPORT_ONLY=1 must not report an earlier run's figures as
        # the last run's.
        self.give_runs(1)
        self.assertSucceeds(self.t.run("floor.sh", "icount", RUNS=1))
        proc = self.t.run("floor.sh", "icount", RUNS=1, FAKE_BOOT_FAIL="series+floor-1")
        self.assertFails(proc, "floor boot series+floor run 1 failed")
        self.assertFails(self.t.run("floor.sh", "icount", REPORT_ONLY=1), "no previous run of upstream series (bench, icount) in")


class FloorShRealTest(ScriptTestCase):
    """The repo's own base 7.3: its FLOOR_VARIANTS and probe make the kernels
    make floor builds, and each is a variant whose patches exist."""

    def run_real(self, script, *args):
        proc = run_real(script, FLOOR_VARS, *args, BASE="7.3")
        self.assertSucceeds(proc)
        return proc.stdout

    def test_floor_variants_of_73(self):
        variants = self.run_real("floor.sh", "--variants").split()
        self.assertEqual(variants, ["upstream+floor", "series+floor"])
        probe = os.path.join(REPO, "bases", "7.3", "harness", "probe-floor.patch")
        for v in variants:
            with self.subTest(variant=v):
                patches = self.run_real("variant-patches.sh", v).splitlines()
                self.assertEqual(patches[-1], probe)
                self.assertEqual(patches[:-1], self.run_real(
                    "variant-patches.sh", v[:-len("+floor")]).splitlines())
                for p in patches:
                    self.assertTrue(os.path.isfile(p), f"{v}: {p} does not exist")


# --------------------------------------------------------------------------
# variant-patches.sh: V+P, variant V plus the harness probe probe-P.patch
# --------------------------------------------------------------------------
class ProbeVariantTest(ScriptTestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = Layout("probe-variant")
        cls.harness = os.path.join(cls.t.base_dir, "harness")
        for p in ("floor", "other"):
            write(os.path.join(cls.harness, f"probe-{p}.patch"), "")

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def setUp(self):
        self.t.write_series(SERIES)

    def probe(self, name):
        return os.path.join(self.harness, f"probe-{name}.patch")

    def paths(self, names):
        return [os.path.join(self.t.patches, n) for n in names]

    def patches(self, variant):
        proc = self.t.run("variant-patches.sh", variant)
        self.assertSucceeds(proc)
        return proc.stdout.splitlines()

    def test_variant_plus_probe(self):
        self.assertEqual(self.patches("series+floor"), self.paths(SERIES) + [self.probe("floor")])
        self.assertEqual(self.patches("hiorder+floor"),
                         self.paths([SERIES[0], SERIES[5]]) + [self.probe("floor")])
        self.assertEqual(self.patches("prefix-2+other"),
                         self.paths(SERIES[:2]) + [self.probe("other")])
        self.assertEqual(self.patches("base+floor"), self.paths([SERIES[0]]) + [self.probe("floor")])

    def test_probes_stack_in_order(self):
        self.assertEqual(self.patches("series+floor+other"),
                         self.paths(SERIES) + [self.probe("floor"), self.probe("other")])

    def test_missing_probe(self):
        proc = self.t.run("variant-patches.sh", "series+nosuch")
        self.assertFails(proc, f"variant series+nosuch: no probe {self.probe('nosuch')}")
        self.assertEqual(proc.stdout, "")

    def test_unknown_variant_under_the_probe(self):
        proc = self.t.run("variant-patches.sh", "bogus+floor")
        self.assertFails(proc, "unknown variant 'bogus' of base")
        self.assertEqual(proc.stdout, "")

    def test_failing_variant_under_the_probe_prints_no_probe(self):
        self.t.write_series(SERIES[:5])   # no large-order patch: hiorder fails
        proc = self.t.run("variant-patches.sh", "hiorder+floor")
        self.assertFails(proc, "variant hiorder: no *-vmalloc-request-large-order* patch")
        self.assertNotIn("probe-floor.patch", proc.stdout)

    def test_plus_without_a_name_on_either_side(self):
        for bad in ("+floor", "series+"):
            with self.subTest(variant=bad):
                proc = self.t.run("variant-patches.sh", bad)
                self.assertFails(proc, f"unknown variant '{bad}' of base")
                self.assertEqual(proc.stdout, "")


if __name__ == "__main__":
    unittest.main()

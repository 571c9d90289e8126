"""Tests of scripts/frag-report.py on synthetic LOG.json files (the shape
check-log.py --json writes: "variant", "pass" and the "bench" entries of the
guest's frag-config, frag-sample, frag-end and frag-probe lines).

The script runs with Debian's /usr/bin/python3, which needs python3-scipy and
python3-matplotlib (make deps); without them every test FAILS and says so.
The expected means and CIs are computed here without scipy (the t quantiles
are in tests/report_helpers.py); Welch's p is checked against scipy run by
/usr/bin/python3, so the tests run under any python3.

Run from the repo root: bash tests/run  (or python3 -m unittest tests.test_frag_report)
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_scripts import write  # noqa: E402
from report_helpers import (PYTHON, TIMEOUT, ReportCase, ci95, fake_log_json,  # noqa: E402
                            mean)

SCRIPT = "frag-report.py"
KERNELS = ("order0", "regression", "upstream", "series")
PROACTIVENESS = (20, 0)
SEEDS = (1, 2, 3)
TICKS = 10
# o9_units falls linearly from START + seed at tick 0 to FLOOR[kernel] + seed
# at the last tick (order0: 100 -> 20, a fall of 80%).
START = 100
FLOOR = {"order0": 20, "regression": 10, "upstream": 40, "series": 60}
# End-of-run counters per kernel (scaled by the seed and proactiveness below).
COUNTERS = {
    "compact_stall": {"order0": 50, "regression": 80, "upstream": 40, "series": 20},
    "compact_fail": {"order0": 30, "regression": 60, "upstream": 20, "series": 10},
    "compact_success": {"order0": 20, "regression": 20, "upstream": 20, "series": 10},
    "compact_daemon_wake": {"order0": 5, "regression": 6, "upstream": 7, "series": 8},
    "compact_migrate_scanned": {"order0": 90000, "regression": 150000, "upstream": 70000,
                                "series": 30000},
    "compact_free_scanned": {"order0": 400000, "regression": 600000, "upstream": 300000,
                             "series": 100000},
    "pgmigrate_success": {"order0": 7000, "regression": 9000, "upstream": 6000, "series": 3000},
    "pageoutrun": {"order0": 12, "regression": 14, "upstream": 12, "series": 11},
    "pgscan_kswapd": {"order0": 3000, "regression": 4000, "upstream": 3000, "series": 2500},
    "pgsteal_kswapd": {"order0": 2000, "regression": 3000, "upstream": 2000, "series": 1500},
    "pgscan_direct": {"order0": 100, "regression": 200, "upstream": 90, "series": 40},
    "pgsteal_direct": {"order0": 80, "regression": 150, "upstream": 70, "series": 30},
    "allocstall_normal": {"order0": 4, "regression": 8, "upstream": 3, "series": 1},
    "allocstall_dma32": {"order0": 1, "regression": 2, "upstream": 1, "series": 0},
    "thp_fault_alloc": {"order0": 60, "regression": 40, "upstream": 70, "series": 80},
    "thp_fault_fallback": {"order0": 40, "regression": 60, "upstream": 30, "series": 20},
    "extfrag": {"order0": 500, "regression": 900, "upstream": 400, "series": 200},
    "steal": {"order0": 50, "regression": 90, "upstream": 40, "series": 20},
    "vmalloc_fail": {"order0": 0, "regression": 1, "upstream": 0, "series": 0},
}
SHARE_PM = {"never": {"order0": 100, "regression": 80, "upstream": 150, "series": 250},
            "always": {"order0": 300, "regression": 200, "upstream": 350, "series": 450}}


def o9(kernel, seed, tick):
    start, floor = START + seed, FLOOR[kernel] + seed
    return start - (start - floor) * tick // TICKS


def counter(key, kernel, p, seed):
    """The end value of counter KEY (cumulative: at tick t, its t/TICKS part)."""
    return COUNTERS[key][kernel] * (10 + seed) // 10 + (0 if p else COUNTERS[key][kernel] // 5)


def share_pm(defrag, kernel, seed):
    return SHARE_PM[defrag][kernel] + 7 * seed * (2 if defrag == "always" else 1)


def boot_bench(kernel, p, seed, o9_of=None, drop=None, keys=None):
    """The bench entries of a boot.  O9_OF(tick) replaces o9(); DROP(tick,
    key) is true for the keys left out of a sample; KEYS: the counters."""
    o9_of = o9_of or (lambda t: o9(kernel, seed, t))
    drop = drop or (lambda t, k: False)
    keys = COUNTERS if keys is None else keys
    bench = [{"name": "frag-config", "seed": seed, "proactiveness": p, "mem_kb": 524288,
              "ticks": TICKS, "sample_every": 1}]
    for t in range(TICKS + 1):
        s = {"name": "frag-sample", "tick": t, "ms": 100 * t, "free_kb": 200000 - 1000 * t,
             "o9_units": o9_of(t), "o4_plus_kb": 90000 - 500 * t, "o0_pages": 1000 + 10 * t,
             "pb_unmovable": 10 + t, "pb_movable": 200 - t, "pb_reclaimable": 3,
             "used_kb": 1000 * t, "live_vmalloc": t, "skipped": 0}
        for k in keys:
            s[k] = counter(k, kernel, p, seed) * t // TICKS
        bench.append({k: v for k, v in s.items() if k in ("name", "tick") or not drop(t, k)})
    bench.append({"name": "frag-end", "ticks": TICKS, "ops": 5000 + seed, "freed": 3000,
                  "kept": 2000 + seed, "vmalloc_fail": counter("vmalloc_fail", kernel, p, seed),
                  "skipped": 0})
    for d in ("never", "always"):
        bench.append({"name": "frag-probe", "defrag": d, "tried": 64, "huge": 10,
                      "share_pm": share_pm(d, kernel, seed), "ms": 40 + seed,
                      "compact_stall": 3, "compact_success": 1, "compact_fail": 2,
                      "compact_migrate_scanned": 500, "compact_free_scanned": 900,
                      "pgmigrate_success": 100})
    return bench


def boot_log(kernel, p, seed, passed=True, **kw):
    return fake_log_json(kernel, "frag", boot_bench(kernel, p, seed, **kw), passed)


def scipy_welch(a, b):
    """Welch's p of A against B, by scipy under /usr/bin/python3."""
    code = ("import json, sys; from scipy import stats; a, b = json.load(sys.stdin); "
            "print(repr(float(stats.ttest_ind(a, b, equal_var=False).pvalue)))")
    proc = subprocess.run([PYTHON, "-c", code], input=json.dumps([a, b]), capture_output=True,
                          text=True, timeout=TIMEOUT)
    if proc.returncode:
        raise AssertionError(proc.stderr)
    return float(proc.stdout)


def missing_matplotlib():
    proc = subprocess.run([PYTHON, "-c", "import matplotlib; matplotlib.use('Agg'); "
                           "import matplotlib.pyplot"], capture_output=True, timeout=TIMEOUT)
    if proc.returncode:
        return f"{PYTHON} lacks python3-matplotlib, which {SCRIPT} needs: run `make deps`"
    return None


class FragCase(ReportCase):
    """A run of frag-report.py in a temporary directory per test."""
    script = SCRIPT
    out_name = "frag"

    def setUp(self):
        super().setUp()
        why = missing_matplotlib()
        if why:
            self.fail(why)
        self.n = 0

    def write_log(self, log, name=None):
        self.n += 1
        path = os.path.join(self.dir, "logs", name or f"boot-{self.n}.log.json")
        write(path, json.dumps(log, indent=1) + "\n")
        return path

    def logs(self, kernels=KERNELS, props=PROACTIVENESS, seeds=SEEDS, skip=(), special=None):
        """The boots of every (p, kernel, seed) but SKIP; SPECIAL maps one to
        its own LOG.json."""
        special = special or {}
        paths = []
        for p in props:
            for s in seeds:
                for k in kernels:
                    if (p, k, s) in skip:
                        continue
                    log = special.get((p, k, s)) or boot_log(k, p, s)
                    paths.append(self.write_log(log, f"{k}-p{p}-s{s}.log.json"))
        return paths

    def frag(self, paths, kernels="order0,regression,upstream,series", *args):
        return self.run_report("--kernels", kernels, *args, *paths)

    def data(self, proc, code=0):
        self.assertEqual(proc.returncode, code,
                         f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        self.assertNotIn("Traceback", proc.stderr)
        with open(self.prefix + ".md", encoding="utf-8") as f:
            md = f.read()
        with open(self.prefix + ".json", encoding="utf-8") as f:
            return md, json.load(f)

    def assertRefused(self, proc, *messages):
        """Exit 2, the messages in stderr, nothing written."""
        self.assertEqual(proc.returncode, 2, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        self.assertIn(f"{SCRIPT}: error:", proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)
        for m in messages:
            self.assertIn(m, proc.stderr)
        for ext in (".md", ".json", "-o9.png", "-work.png", "-probe.png"):
            self.assertFalse(os.path.exists(self.prefix + ext), f"{ext} written on an error")


class FragReportTest(FragCase):
    """The full study: 4 kernels x 2 proactiveness x 3 seeds, run once."""

    @classmethod
    def setUpClass(cls):
        cls.result = None

    def setUp(self):
        super().setUp()
        cls = type(self)
        if cls.result is None:
            # One report for the class, kept outside the per-test directory.
            cls._keep = tempfile.TemporaryDirectory(prefix="harness-frag-report-")
            self.dir, self.n = cls._keep.name, 0
            self.prefix = os.path.join(self.dir, "out", "frag")
            os.makedirs(os.path.dirname(self.prefix))
            paths = self.logs()
            proc = self.frag(paths, "order0,regression,upstream,series",
                             "--meta", "command=make frag BASE=7.3", "--meta", "mode=icount")
            md, js = self.data(proc)
            cls.result = (proc, md, js, self.prefix, paths)
        self.proc, self.md, self.json, self.out, self.paths = cls.result

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "_keep", None):
            cls._keep.cleanup()

    def agg(self, p, k, m):
        return self.json["aggregates"][str(p)][k][m]

    def test_exit_and_premise_holds(self):
        self.assertEqual(self.proc.returncode, 0)
        prem = self.json["premise"]
        self.assertTrue(prem["holds"])
        self.assertEqual(prem["reference"], "order0")
        rows = prem["by_proactiveness"]["20"]["seeds"]
        self.assertEqual([(r["seed"], r["start"], r["min"], r["end"]) for r in rows],
                         [(s, START + s, FLOOR["order0"] + s, FLOOR["order0"] + s)
                          for s in SEEDS])
        self.assertAlmostEqual(rows[0]["fall_pct"], (1 - 21 / 101) * 100)
        self.assertIn("**The premise holds**", self.md)
        self.assertNotIn("does not hold", self.md)

    def test_means_and_ci(self):
        for p in PROACTIVENESS:
            for k in KERNELS:
                with self.subTest(p=p, kernel=k):
                    end = [FLOOR[k] + s for s in SEEDS]
                    a = self.agg(p, k, "o9_end")
                    self.assertEqual(a["n"], 3)
                    self.assertAlmostEqual(a["mean"], mean(end))
                    self.assertEqual(a["values"], end)
                    self.assertAlmostEqual(self.agg(p, k, "o9_min")["mean"], mean(end))
                    self.assertAlmostEqual(self.agg(p, k, "o9_start")["mean"],
                                           mean([START + s for s in SEEDS]))
                    area = [mean([o9(k, s, t) for t in range(TICKS + 1)]) for s in SEEDS]
                    self.assertAlmostEqual(self.agg(p, k, "o9_area")["mean"], mean(area))
                    stall = [counter("compact_stall", k, p, s) for s in SEEDS]
                    self.assertAlmostEqual(self.agg(p, k, "compact_stall")["mean"], mean(stall))
                    self.assertAlmostEqual(self.agg(p, k, "compact_stall")["ci95"], ci95(stall))
                    mixed = TICKS + 10 + 3
                    self.assertAlmostEqual(self.agg(p, k, "pb_mixed_end")["mean"], mixed)
                    thp = [counter("thp_fault_alloc", k, p, s)
                           / (counter("thp_fault_alloc", k, p, s)
                              + counter("thp_fault_fallback", k, p, s)) for s in SEEDS]
                    self.assertAlmostEqual(self.agg(p, k, "thp_fault_success")["mean"], mean(thp))
                    for d in ("never", "always"):
                        sh = [share_pm(d, k, s) for s in SEEDS]
                        self.assertAlmostEqual(self.agg(p, k, f"probe_{d}_share_pm")["mean"],
                                               mean(sh))
                        self.assertAlmostEqual(self.agg(p, k, f"probe_{d}_share_pm")["ci95"],
                                               ci95(sh))

    def test_welch_p_against_scipy(self):
        a = [counter("compact_stall", "order0", 20, s) for s in SEEDS]
        b = [counter("compact_stall", "series", 20, s) for s in SEEDS]
        c = self.json["comparisons"]["20"]["order0:series"]["compact_stall"]
        self.assertAlmostEqual(c["p"], scipy_welch(a, b), places=12)
        self.assertAlmostEqual(c["mean_a"], mean(a))
        self.assertAlmostEqual(c["mean_b"], mean(b))
        self.assertAlmostEqual(c["delta_pct"], (mean(b) / mean(a) - 1) * 100)
        self.assertTrue(c["significant"])
        self.assertEqual(c["higher"], "a")
        # share_pm: series higher than upstream.
        a = [share_pm("never", "upstream", s) for s in SEEDS]
        b = [share_pm("never", "series", s) for s in SEEDS]
        c = self.json["comparisons"]["0"]["upstream:series"]["probe_never_share_pm"]
        self.assertAlmostEqual(c["p"], scipy_welch(a, b), places=12)
        self.assertEqual(c["higher"], "b")

    def test_default_pairs(self):
        self.assertEqual([p["key"] for p in self.json["pairs"]],
                         ["order0:regression", "order0:upstream", "order0:series",
                          "upstream:series"])
        self.assertEqual(sorted(self.json["comparisons"]), ["0", "20"])
        self.assertEqual(list(self.json["comparisons"]["20"]),
                         [p["key"] for p in self.json["pairs"]])
        for h in ("### Proactiveness 20: series vs order0",
                  "### Proactiveness 0: series vs upstream",
                  "### Proactiveness 0: regression vs order0"):
            self.assertIn(h, self.md)

    def test_comparison_table_marks(self):
        lines = self.md.splitlines()
        start = lines.index("### Proactiveness 20: series vs order0")
        row = next(line for line in lines[start:] if line.startswith("| `compact_stall` |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        d = (mean([counter("compact_stall", "series", 20, s) for s in SEEDS])
             / mean([counter("compact_stall", "order0", 20, s) for s in SEEDS]) - 1) * 100
        self.assertEqual(cells[3], f"{d:+.1f}%")
        self.assertEqual(cells[5], "(L)")
        row = next(line for line in lines[start:] if line.startswith("| `o9_end` |"))
        self.assertTrue(row.rstrip().endswith("| (H) |"), row)
        self.assertIn("positive when B's mean is higher", self.md)

    def test_seeds(self):
        for p in ("20", "0"):
            self.assertEqual(self.json["seeds"][p]["all"], list(SEEDS))
            self.assertEqual(self.json["seeds"][p]["missing"], {k: [] for k in KERNELS})
        self.assertIn("every kernel has the same seeds", self.md)
        self.assertIn("No failed boot.", self.md)

    def test_how_produced(self):
        self.assertTrue(self.md.startswith("# Fragmentation study: order0, regression, "
                                           "upstream, series\n"))
        self.assertIn("## How produced\n\n- command: make frag BASE=7.3\n- mode: icount\n",
                      self.md)
        self.assertEqual(self.json["meta"], {"command": "make frag BASE=7.3", "mode": "icount"})
        self.assertIn("<details><summary>JSON inputs</summary>", self.md)
        for p in self.paths:
            self.assertIn(f"- {p}\n", self.md)
        self.assertIn("frag-config mem_kb=524288, ticks=10, sample_every=1", self.md)

    def test_tables(self):
        lines = self.md.splitlines()
        start = lines.index("### Proactiveness 20")
        head = next(i for i in range(start, len(lines))
                    if lines[i].startswith("#### Free order-≥9 memory"))
        self.assertTrue(lines[head + 2].startswith("| kernel | n | `o9_start` | `o9_end` |"))
        rows = lines[head + 4:head + 8]
        self.assertEqual([r.split("|")[1].strip() for r in rows], list(KERNELS))
        end = [FLOOR["series"] + s for s in SEEDS]
        cells = [c.strip() for c in rows[3].strip("|").split("|")]
        self.assertEqual(cells[1], "3")
        self.assertEqual(cells[3], f"{mean(end):.3g} ± {ci95(end):.3g}")
        for g in ("Pageblock mixing", "Compaction", "kswapd", "Direct reclaim", "THP faults",
                  "Workload", "Probe with THP defrag=never", "Probe with THP defrag=always"):
            self.assertIn(f"#### {g}", self.md)

    def test_pngs(self):
        for suffix in ("-o9.png", "-work.png", "-probe.png"):
            with self.subTest(png=suffix):
                with open(self.out + suffix, "rb") as f:
                    head = f.read(8)
                self.assertEqual(head, b"\x89PNG\r\n\x1a\n")
                self.assertGreater(os.path.getsize(self.out + suffix), 5000)
                self.assertIn(f"](frag{suffix})", self.md)
        self.assertEqual(self.json["outputs"]["o9_png"], self.out + "-o9.png")

    def test_o9_curve(self):
        c = self.json["o9_curve"]["20"]["series"]
        self.assertEqual(c["tick"], list(range(TICKS + 1)))
        self.assertEqual(c["n"], [3] * (TICKS + 1))
        for t in (0, 5, TICKS):
            vals = [o9("series", s, t) for s in SEEDS]
            self.assertAlmostEqual(c["mean"][t], mean(vals))
            self.assertAlmostEqual(c["ci95"][t], ci95(vals))

    def test_json_boots(self):
        boots = self.json["boots"]
        self.assertEqual(len(boots), len(KERNELS) * len(PROACTIVENESS) * len(SEEDS))
        b = next(b for b in boots if b["kernel"] == "upstream" and b["seed"] == 2
                 and b["proactiveness"] == 0)
        self.assertTrue(b["used"])
        self.assertEqual(b["values"]["o9_end"], FLOOR["upstream"] + 2)
        self.assertEqual(b["values"]["compact_stall"], counter("compact_stall", "upstream", 0, 2))
        self.assertEqual(b["values"]["ops"], 5002)
        self.assertEqual(b["probes"]["always"]["share_pm"], share_pm("always", "upstream", 2))
        self.assertEqual(b["o9"][0], [0, START + 2])
        self.assertEqual(self.json["proactiveness"], [0, 20])
        self.assertEqual(self.json["failed"], [])
        keys = [m["key"] for m in self.json["metrics"]]
        for k in ("o9_end", "o9_min", "o9_area", "pb_mixed_end", "extfrag", "steal",
                  "compact_stall", "pageoutrun", "pgsteal_kswapd", "pgsteal_direct",
                  "allocstall_normal", "allocstall_dma32", "thp_fault_success", "vmalloc_fail",
                  "probe_never_share_pm", "probe_always_ms", "probe_always_compact_stall"):
            self.assertIn(k, keys)

    def test_discussion_placeholder(self):
        self.assertIn("## What the data says\n\n(To be written", self.md)


class FragReportCasesTest(FragCase):
    def test_failed_boot_is_listed_and_left_out(self):
        paths = self.logs(props=(20,))
        bad = boot_log("series", 20, 4, passed=False, o9_of=lambda t: 999)
        paths.append(self.write_log(bad, "series-failed.log.json"))
        nostart = fake_log_json(None, None, [], passed=False)
        paths.append(self.write_log(nostart, "nostart.log.json"))
        md, js = self.data(self.frag(paths))
        self.assertEqual([(f["kernel"], f["seed"], f["reasons"]) for f in js["failed"]],
                         [("series", 4, ["fake reason"]), (None, None, ["fake reason"])])
        self.assertEqual(js["aggregates"]["20"]["series"]["o9_end"]["n"], 3)
        self.assertEqual(js["aggregates"]["20"]["series"]["o9_end"]["values"],
                         [FLOOR["series"] + s for s in SEEDS])
        self.assertEqual(js["seeds"]["20"]["all"], [1, 2, 3])
        self.assertIn("Failed boots (\"pass\" false), left out (2):", md)
        self.assertIn(f"- {paths[-2]}: kernel series (proactiveness 20, seed 4): fake reason",
                      md)
        self.assertIn(f"- {paths[-1]}: kernel None: fake reason", md)
        used = {b["path"]: b["used"] for b in js["boots"]}
        self.assertFalse(used[paths[-2]])
        self.assertTrue(used[paths[0]])

    def test_missing_seeds_are_reported(self):
        paths = self.logs(kernels=("order0", "upstream", "series"),
                          skip={(0, "series", 2), (20, "upstream", 1), (20, "upstream", 3)})
        md, js = self.data(self.frag(paths, "order0,upstream,series"))
        self.assertEqual(js["seeds"]["0"]["missing"], {"order0": [], "upstream": [], "series": [2]})
        self.assertEqual(js["seeds"]["20"]["missing"],
                         {"order0": [], "upstream": [1, 3], "series": []})
        self.assertEqual(js["seeds"]["20"]["by_kernel"]["upstream"], [2])
        self.assertIn("- **missing seeds**: series at proactiveness 0 lacks seed 2", md)
        self.assertIn("- **missing seeds**: upstream at proactiveness 20 lacks seeds 1, 3", md)
        self.assertEqual(js["aggregates"]["0"]["series"]["o9_end"]["n"], 2)
        # One boot: a mean without CI, and no p against it.
        self.assertIsNone(js["aggregates"]["20"]["upstream"]["o9_end"]["ci95"])
        self.assertIsNone(js["comparisons"]["20"]["upstream:series"]["o9_end"]["p"])

    def test_premise_failure_exits_1_with_report(self):
        flat = boot_log("order0", 0, 3, o9_of=lambda t: 103 - t)     # falls 9.7%
        paths = self.logs(kernels=("order0", "series"), special={(0, "order0", 3): flat})
        proc = self.frag(paths, "order0,series")
        md, js = self.data(proc, code=1)
        self.assertIn("premise does not hold", proc.stderr)
        self.assertIn("The premise does not hold", md)
        self.assertIn("this run does not count", md)
        self.assertFalse(js["premise"]["holds"])
        self.assertTrue(js["premise"]["by_proactiveness"]["20"]["holds"])
        e = js["premise"]["by_proactiveness"]["0"]
        self.assertFalse(e["holds"])
        self.assertEqual([r["holds"] for r in e["seeds"]], [True, True, False])
        self.assertEqual((e["seeds"][2]["start"], e["seeds"][2]["min"], e["seeds"][2]["end"]),
                         (103, 103 - TICKS, 103 - TICKS))
        self.assertIn("seed 3: o9_units fell by", e["why"])
        for suffix in ("-o9.png", "-work.png", "-probe.png"):
            self.assertTrue(os.path.exists(self.prefix + suffix), suffix)
        self.assertIn("| 3 | 103 | 93 | 93 | 9.7% | FAILS: ", md)

    def test_premise_needs_a_start_above_zero(self):
        zero = boot_log("order0", 20, 1, o9_of=lambda t: 0)
        paths = self.logs(kernels=("order0", "series"), props=(20,),
                          special={(20, "order0", 1): zero})
        md, js = self.data(self.frag(paths, "order0,series"), code=1)
        self.assertIn("o9_units at tick 0 is 0", js["premise"]["by_proactiveness"]["20"]["why"])

    def test_premise_threshold(self):
        # order0's seeds 1, 2, 3 fall by 79.2%, 78.4%, 77.7%.
        paths = self.logs(kernels=("order0", "series"), props=(20,))
        self.data(self.frag(paths, "order0,series", "--min-fall-pct", "50"))
        md, js = self.data(self.frag(paths, "order0,series", "--min-fall-pct", "78.5"), code=1)
        self.assertEqual([r["holds"] for r in js["premise"]["by_proactiveness"]["20"]["seeds"]],
                         [True, False, False])
        self.assertEqual(js["min_fall_pct"], 78.5)
        self.assertIn("under 78.5%", md)

    def test_premise_without_order0_uses_the_first_kernel(self):
        paths = self.logs(kernels=("upstream", "series"), props=(20,))
        md, js = self.data(self.frag(paths, "upstream,series"))
        self.assertEqual(js["premise"]["reference"], "upstream")
        self.assertEqual([p["key"] for p in js["pairs"]], ["upstream:series"])

    def test_premise_without_reference_boots_fails(self):
        paths = self.logs(kernels=("series",), props=(20,))
        md, js = self.data(self.frag(paths, "order0,series"), code=1)
        self.assertIn("no passing boot of order0 at proactiveness 20", md)

    def test_missing_keys_are_absent_not_zero(self):
        # Boot A: no o9_units in the samples of ticks 8-10 (where it is
        # lowest) nor compact_stall in the last sample; boot B: no THP counts.
        a = boot_log("series", 20, 1, drop=lambda t, k: (k == "o9_units" and t >= 8)
                     or (k == "compact_stall" and t == TICKS))
        b = boot_log("series", 20, 2, drop=lambda t, k: k.startswith("thp_"))
        paths = self.logs(kernels=("order0", "series"), props=(20,),
                          special={(20, "series", 1): a, (20, "series", 2): b})
        md, js = self.data(self.frag(paths, "order0,series"))
        va = next(x for x in js["boots"] if x["path"].endswith("series-p20-s1.log.json"))
        self.assertEqual(va["values"]["o9_min"], o9("series", 1, 7))
        self.assertEqual(va["values"]["o9_end"], o9("series", 1, 7))
        self.assertAlmostEqual(va["values"]["o9_area"],
                               mean([o9("series", 1, t) for t in range(8)]))
        self.assertEqual(va["values"]["compact_stall"],
                         counter("compact_stall", "series", 20, 1) * (TICKS - 1) // TICKS)
        self.assertEqual(va["o9"][-1], [7, o9("series", 1, 7)])
        vb = next(x for x in js["boots"] if x["path"].endswith("series-p20-s2.log.json"))
        self.assertIsNone(vb["values"]["thp_fault_success"])
        self.assertIsNone(vb["values"]["thp_fault_alloc"])
        thp = js["aggregates"]["20"]["series"]["thp_fault_success"]
        self.assertEqual(thp["n"], 2)
        self.assertEqual(len(thp["values"]), 2)
        self.assertNotIn(0, thp["values"])
        curve = js["o9_curve"]["20"]["series"]
        self.assertEqual(curve["n"], [3] * 8 + [2] * 3)
        self.assertIn("(n=2)", md)

    def test_short_counter_names(self):
        # guest-fraggen shortens the vmstat keys of a line that would be too long.
        short = {"compact_stall": "c_stall", "pgsteal_kswapd": "steal_k",
                 "thp_fault_alloc": "thp_ok", "thp_fault_fallback": "thp_fb",
                 "allocstall_dma32": "as_dma32"}
        log = boot_log("series", 20, 1)
        for e in log["bench"]:
            if e["name"] == "frag-sample" and e["tick"] >= 5:
                for full, abbr in short.items():
                    e[abbr] = e.pop(full)
        paths = self.logs(kernels=("order0", "series"), props=(20,),
                          special={(20, "series", 1): log})
        md, js = self.data(self.frag(paths, "order0,series"))
        v = next(x for x in js["boots"] if x["path"].endswith("series-p20-s1.log.json"))["values"]
        for full in short:
            self.assertEqual(v[full], counter(full, "series", 20, 1), full)
        self.assertEqual(js["aggregates"]["20"]["series"]["compact_stall"]["n"], 3)

    def test_metric_absent_everywhere(self):
        paths = self.logs(kernels=("order0", "series"), props=(20,))
        for p in paths:     # no allocstall_dma32 in any sample
            with open(p) as f:
                log = json.load(f)
            for e in log["bench"]:
                e.pop("allocstall_dma32", None)
            write(p, json.dumps(log))
        md, js = self.data(self.frag(paths, "order0,series"))
        self.assertIsNone(js["aggregates"]["20"]["series"]["allocstall_dma32"])
        self.assertIsNone(js["comparisons"]["20"]["order0:series"]["allocstall_dma32"])
        self.assertIn("| `allocstall_dma32` | - | - | n/a | n/a | |", md)

    def test_discussion_is_verbatim(self):
        text = ("The series keeps *more* order-9 units | table-like text.\n\n"
                "- seed 2: `compact_stall` 50 → 20\n\n<!-- kept -->\n")
        path = os.path.join(self.dir, "discussion.md")
        write(path, text)
        paths = self.logs(kernels=("order0", "series"), props=(20,))
        md, js = self.data(self.frag(paths, "order0,series", "--discussion", path))
        self.assertIn("## What the data says\n\n" + text, md)
        self.assertNotIn("To be written", md)

    def test_custom_pairs(self):
        paths = self.logs(kernels=("order0", "upstream", "series"), props=(0,))
        md, js = self.data(self.frag(paths, "order0,upstream,series", "--pairs",
                                     "series:upstream"))
        self.assertEqual(list(js["comparisons"]["0"]), ["series:upstream"])
        self.assertIn("### Proactiveness 0: upstream vs series", md)
        self.assertNotIn("vs order0", md)

    def test_one_kernel(self):
        paths = self.logs(kernels=("order0",), props=(20,))
        md, js = self.data(self.frag(paths, "order0"))
        self.assertEqual(js["pairs"], [])
        self.assertIn("No pair to compare.", md)

    def test_defrag_as_delivered(self):
        # check-log.py delivers the words as strings; the case and sysfs
        # brackets do not matter.
        log = boot_log("series", 20, 1)
        for e in log["bench"]:
            if e["name"] == "frag-probe":
                e["defrag"] = "[Always]" if e["defrag"] == "always" else "never"
        paths = self.logs(kernels=("order0", "series"), props=(20,),
                          special={(20, "series", 1): log})
        md, js = self.data(self.frag(paths, "order0,series"))
        self.assertEqual(js["aggregates"]["20"]["series"]["probe_always_share_pm"]["n"], 3)


class FragReportErrorTest(FragCase):
    def test_unknown_kernel_in_pairs(self):
        paths = self.logs(kernels=("order0", "series"), props=(20,))
        proc = self.frag(paths, "order0,series", "--pairs", "order0:bogus")
        self.assertRefused(proc, "--pairs: unknown kernel 'bogus' in 'order0:bogus'")

    def test_bad_pair_syntax(self):
        paths = self.logs(kernels=("order0", "series"), props=(20,))
        self.assertRefused(self.frag(paths, "order0,series", "--pairs", "order0-series"),
                           "--pairs: want A:B, got 'order0-series'")
        self.assertRefused(self.frag(paths, "order0,series", "--pairs", "series:series"),
                           "compares a kernel with itself")

    def test_no_inputs(self):
        self.assertRefused(self.frag([], "order0,series"), "no input")

    def test_not_json(self):
        paths = self.logs(kernels=("order0", "series"), props=(20,))
        bad = os.path.join(self.dir, "console.log")
        write(bad, "[    0.000000] Linux version 7.3.0\n")
        self.assertRefused(self.frag(paths + [bad], "order0,series"),
                           f"{bad}: not JSON")

    def test_json_but_not_check_log(self):
        bad = os.path.join(self.dir, "other.json")
        write(bad, json.dumps([1, 2]))
        self.assertRefused(self.frag([bad], "order0,series"),
                           "not a check-log.py --json result")

    def test_missing_file(self):
        self.assertRefused(self.frag([os.path.join(self.dir, "nope.json")], "order0,series"),
                           "cannot read")

    def test_kernel_not_in_kernels(self):
        paths = self.logs(kernels=("order0", "series"), props=(20,))
        self.assertRefused(self.frag(paths, "order0,upstream"),
                           "kernel (variant) 'series' is not one of --kernels order0,upstream")

    def test_passing_boot_without_config(self):
        log = fake_log_json("order0", "frag", [{"name": "frag-sample", "tick": 0}])
        self.assertRefused(self.frag([self.write_log(log)], "order0"),
                           "no 'bench frag-config' line")

    def test_same_seed_twice(self):
        paths = self.logs(kernels=("order0",), props=(20,))
        paths.append(self.write_log(boot_log("order0", 20, 2), "again.log.json"))
        self.assertRefused(self.frag(paths, "order0"), "seed 2 again")

    def test_same_probe_twice(self):
        log = boot_log("order0", 20, 1)
        for e in log["bench"]:
            if e["name"] == "frag-probe":
                e["defrag"] = "never"
        self.assertRefused(self.frag([self.write_log(log)], "order0"),
                           "two probes with defrag=never")

    def test_bad_options(self):
        paths = self.logs(kernels=("order0",), props=(20,))
        for args, msg in ((["--min-fall-pct", "0"], "--min-fall-pct must be above 0"),
                          (["--min-fall-pct", "100"], "--min-fall-pct must be above 0"),
                          (["--meta", "novalue"], "--meta wants KEY=VALUE"),
                          (["--discussion", os.path.join(self.dir, "none.md")],
                           "--discussion: cannot read")):
            with self.subTest(args=args):
                self.assertRefused(self.frag(paths, "order0", *args), msg)
        self.assertRefused(self.frag(paths, "order0,order0"), "--kernels names order0 twice")


if __name__ == "__main__":
    unittest.main()

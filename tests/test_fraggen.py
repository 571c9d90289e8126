"""scripts/guest-fraggen.c, compiled on the host as initramfs.sh compiles the
guest helpers (gcc -static -Os -Wall, no warning allowed): its plan (the
seeded sequence of operations, which must depend only on the seed, the ticks
and the budget, keep to the budget and the limits, and never free a
whole-run object), its argument errors, and small real runs on this machine
(run: the sample lines and their keys, the end line, the vmalloc commands,
the ready file, and nothing left behind after SIGTERM; probe: with a stand-in
THP directory, so that the host's defrag setting is left alone)."""
import functools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(TOP, "scripts", "guest-fraggen.c")
TIMEOUT = 120
_DIRS = []      # kept until the interpreter exits

SHARED_KB = 16384       # the pt children's shared buffer, in the budget from the start
KINDS = ("pt", "pipe", "files", "anon", "thp", "vmalloc")
LIMITS = {"pt": 48, "pipe": 200}
VMSTAT = ("compact_stall", "compact_fail", "compact_success", "compact_daemon_wake",
          "compact_migrate_scanned", "compact_free_scanned", "pgmigrate_success",
          "pageoutrun", "pgscan_kswapd", "pgsteal_kswapd", "pgscan_direct",
          "pgsteal_direct", "allocstall_normal", "allocstall_dma32", "thp_fault_alloc",
          "thp_fault_fallback")
SHORT = ("c_stall", "c_fail", "c_succ", "c_wake", "c_mscan", "c_fscan", "mig_ok", "pgout",
         "scan_k", "steal_k", "scan_d", "steal_d", "as_norm", "as_dma32", "thp_ok", "thp_fb")
MEM_KEYS = ("free_kb", "o9_units", "o4_plus_kb", "o0_pages")
PB_KEYS = ("pb_unmovable", "pb_movable", "pb_reclaimable")
TAIL_KEYS = ("live_pt", "live_pipe", "live_files", "live_anon", "live_thp", "live_vmalloc",
             "used_kb", "vmalloc_fail", "skipped", "failed")
PROBE_KEYS = ("compact_stall", "compact_success", "compact_fail", "compact_migrate_scanned",
              "compact_free_scanned", "pgmigrate_success")

OP = re.compile(r"tick=(\d+) (op|skip op)=(\w+) id=(\d+) size=(\d+) life=(\d+|whole)"
                r"(?: why=(budget|limit))?")
FREE = re.compile(r"tick=(\d+) free id=(\d+)")
SAMPLE = re.compile(r"harness: bench frag-sample ((?:\S+=-?\d+ ?)+)")
END = re.compile(r"harness: bench frag-end ticks=(\d+) ops=(\d+) freed=(\d+) kept=(\d+) "
                 r"vmalloc_fail=(\d+) skipped=(\d+) failed=(\d+)")


@functools.lru_cache(maxsize=None)
def compiled():
    """(path, None, gcc's result) or (None, why not, gcc's result)."""
    if not shutil.which("gcc"):
        return None, "gcc not found: install gcc (make deps)", None
    tmp = tempfile.TemporaryDirectory(prefix="harness-guest-fraggen-")
    _DIRS.append(tmp)
    exe = os.path.join(tmp.name, "guest-fraggen")
    proc = subprocess.run(["gcc", "-static", "-Os", "-Wall", "-o", exe, SRC],
                          capture_output=True, text=True, timeout=TIMEOUT)
    if proc.returncode:
        return None, f"gcc -static -Os -Wall {SRC} failed:\n{proc.stderr}", proc
    return exe, None, proc


@functools.lru_cache(maxsize=None)
def plan_text(exe, seed, ticks, budget_kb):
    """guest-fraggen plan's output, or raises."""
    proc = subprocess.run([exe, "plan", "--seed", str(seed), "--ticks", str(ticks),
                           "--budget-kb", str(budget_kb)], capture_output=True, text=True,
                          timeout=TIMEOUT)
    if proc.returncode or proc.stderr:
        raise AssertionError(f"plan exit {proc.returncode}: {proc.stderr}")
    return proc.stdout


def parse_plan(text):
    """The plan's events: dicts with ev (op, skip, free), tick, id, and for
    op and skip: kind, size, life (None: whole run), why."""
    events = []
    for line in text.splitlines():
        m = OP.fullmatch(line)
        if m:
            life = None if m.group(6) == "whole" else int(m.group(6))
            events.append({"ev": "op" if m.group(2) == "op" else "skip",
                           "tick": int(m.group(1)), "kind": m.group(3), "id": int(m.group(4)),
                           "size": int(m.group(5)), "life": life, "why": m.group(7)})
            continue
        m = FREE.fullmatch(line)
        if not m:
            raise AssertionError(f"not a plan line: {line!r}")
        events.append({"ev": "free", "tick": int(m.group(1)), "id": int(m.group(2))})
    return events


def state_before(events, tick):
    """(live objects by id, skipped count) before TICK's frees and ops."""
    live, skipped = {}, 0
    for e in events:
        if e["tick"] >= tick:
            break
        if e["ev"] == "op":
            live[e["id"]] = e
        elif e["ev"] == "free":
            del live[e["id"]]
        else:
            skipped += 1
    return live, skipped


def kv(line):
    """KEY=VALUE pairs of a sample line, in order: [(key, int)]."""
    m = SAMPLE.fullmatch(line)
    assert m, f"not a sample line: {line!r}"
    return [(k, int(v)) for k, v in (x.split("=") for x in m.group(1).split())]


def children(pid):
    """The pids whose parent is PID."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status") as f:
                status = f.read()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{pid}$", status, re.M):
            out.append(int(d))
    return out


def host_vmstat():
    with open("/proc/vmstat") as f:
        return {line.split()[0] for line in f}


def pagetypeinfo_readable():
    try:
        with open("/proc/pagetypeinfo") as f:
            return "Number of blocks type" in f.read()
    except OSError:
        return False


class FraggenCase(unittest.TestCase):
    def setUp(self):
        self.exe, why, self.compile = compiled()
        if why:
            self.fail(why)
        tmp = tempfile.TemporaryDirectory(prefix="harness-fraggen-test-")
        self.addCleanup(tmp.cleanup)    # after the runs' kill, registered later
        self.tmp = tmp.name

    def run_it(self, *args):
        return subprocess.run([self.exe, *args], capture_output=True, text=True,
                              timeout=TIMEOUT)

    def plan_text(self, seed, ticks, budget_kb):
        return plan_text(self.exe, seed, ticks, budget_kb)

    def plan(self, seed, ticks, budget_kb):
        return parse_plan(self.plan_text(seed, ticks, budget_kb))

    def assertBadArgs(self, args, message):
        proc = self.run_it(*args)
        self.assertEqual(proc.returncode, 2, (args, proc.stdout, proc.stderr))
        self.assertEqual(proc.stdout, "")
        self.assertTrue(proc.stderr.startswith("guest-fraggen: "), proc.stderr)
        self.assertIn(message, proc.stderr)
        self.assertIn("usage: guest-fraggen plan --seed S --ticks N --budget-kb B", proc.stderr)


class PlanTest(FraggenCase):
    def test_compiles_without_warnings(self):
        self.assertEqual(self.compile.returncode, 0, self.compile.stderr)
        self.assertEqual(self.compile.stderr, "")

    def test_same_seed_same_plan(self):
        a = self.run_it("plan", "--seed", "42", "--ticks", "300", "--budget-kb", "65536")
        b = self.run_it("plan", "--seed", "42", "--ticks", "300", "--budget-kb", "65536")
        self.assertEqual(a.returncode, 0, a.stderr)
        self.assertGreater(len(a.stdout.splitlines()), 600)
        self.assertEqual(a.stdout, b.stdout)

    def test_other_seed_other_plan(self):
        a = self.plan_text(1, 300, 65536)
        self.assertNotEqual(a, self.plan_text(2, 300, 65536))
        self.assertNotEqual(a, self.plan_text(2**64 - 1, 300, 65536))

    def test_draws_depend_on_nothing_else(self):
        """The operations drawn (kind, size, life, in id order) are the same
        for any budget, and for any number of ticks up to the shorter run's
        end; the budget only decides what is evicted or skipped."""
        def draws(events, before_tick):
            return [(e["id"], e["kind"], e["size"], e["life"]) for e in events
                    if e["ev"] != "free" and e["tick"] < before_tick]
        small, big = self.plan(7, 400, 24576), self.plan(7, 400, 1 << 20)
        self.assertEqual(draws(small, 400), draws(big, 400))
        self.assertGreater(sum(e["ev"] == "skip" for e in small), 0)
        self.assertEqual(sum(e["ev"] == "skip" for e in big), 0)
        short = self.plan(7, 100, 65536)
        longer = self.plan(7, 400, 65536)
        self.assertEqual([e for e in short if e["tick"] < 100],
                         [e for e in longer if e["tick"] < 100])

    def test_all_kinds_occur(self):
        events = self.plan(1, 500, 262144)
        made = {e["kind"] for e in events if e["ev"] == "op"}
        self.assertEqual(made, set(KINDS))
        self.assertTrue(any(e["life"] is None for e in events if e["ev"] == "op"))

    def test_draws_follow_the_documented_distributions(self):
        events = [e for e in self.plan(3, 5000, 1 << 22) if e["ev"] != "free"]
        n = len(events)
        ticks = {}
        for e in events:
            ticks[e["tick"]] = ticks.get(e["tick"], 0) + 1
        self.assertEqual(set(ticks), set(range(5000)))
        self.assertEqual(set(ticks.values()), {1, 2, 3})
        weights = {"pt": 10, "pipe": 15, "files": 20, "anon": 25, "thp": 10, "vmalloc": 20}
        for kind, w in weights.items():
            share = sum(e["kind"] == kind for e in events) / n
            self.assertAlmostEqual(share, w / 100, delta=0.025, msg=kind)
        lives = [e["life"] for e in events]
        self.assertAlmostEqual(sum(x is None for x in lives) / n, 0.15, delta=0.02)
        self.assertAlmostEqual(sum(x is not None and x < 20 for x in lives) / n, 0.55 * 19 / 20,
                               delta=0.03)
        self.assertTrue(all(x is None or 1 <= x <= 200 for x in lives))
        for e in events:
            size, kind = e["size"], e["kind"]
            with self.subTest(event=e):
                if kind == "pt":
                    self.assertEqual((size - 16384) % 8, 0)
                    self.assertTrue(256 <= (size - 16384) // 8 <= 4096)
                elif kind == "pipe":
                    self.assertEqual(size % 1024, 0)
                    self.assertTrue(4 <= size // 1024 <= 64)
                elif kind == "files":
                    self.assertTrue(8 * 1024 <= size <= 64 * 4096)
                elif kind == "anon":
                    self.assertEqual(size % 4096, 0)
                    self.assertTrue(16 <= size // 4096 <= 1024)
                elif kind == "thp":
                    self.assertEqual(size, 2 << 20)
                else:
                    self.assertEqual(size % 4096, 0)
                    self.assertTrue(1 <= size // 4096 <= 1024)
        # vmalloc: half of them exact powers of two 1..1024 (each about
        # 1/22, a little more from the other half's bounds), the rest
        # log-uniform in between.
        pages = [e["size"] // 4096 for e in events if e["kind"] == "vmalloc"]
        for k in range(11):
            share = pages.count(1 << k) / len(pages)
            self.assertTrue(1 / 22 - 0.015 < share < 1 / 22 + 0.05, f"{1 << k} pages: {share}")
        between = [p for p in pages if p & (p - 1)]
        self.assertGreater(len(between) / len(pages), 0.25)
        for k in range(1, 10):
            self.assertTrue(any((1 << k) < p < (2 << k) for p in between), k)

    def check_plan(self, events, ticks, budget_kb):
        """Replays the plan: the budget, the limits, the lifetimes, the
        evictions' order, and whole-run objects never freed. Returns the
        counts (ops, freed, kept, skipped)."""
        budget = budget_kb * 1024
        live, used, whole_used = {}, SHARED_KB * 1024, 0
        count = {k: 0 for k in KINDS}
        freed = skipped = 0
        next_id = 0
        checked_tick = -1
        for i, e in enumerate(events):
            self.assertLessEqual(e["tick"], ticks)
            if i:
                self.assertGreaterEqual(e["tick"], events[i - 1]["tick"])
            if e["ev"] == "free":
                o = live.pop(e["id"], None)
                self.assertIsNotNone(o, f"free of an object not live: {e}")
                self.assertIsNotNone(o["life"], f"whole-run object freed: {o}")
                end = o["tick"] + o["life"]
                if e["tick"] == ticks:
                    pass                    # the end of the run
                elif e["tick"] == end:
                    pass                    # its lifetime ended
                else:
                    # Evicted, for the op that follows at this tick: the
                    # earliest end first, then the lowest id.
                    self.assertLess(e["tick"], end, e)
                    nxt = next(x for x in events[i:] if x["ev"] != "free")
                    self.assertEqual((nxt["ev"], nxt["tick"]), ("op", e["tick"]), e)
                    rest = [(x["tick"] + x["life"], x["id"]) for x in live.values()
                            if x["life"] is not None]
                    self.assertTrue(all((end, o["id"]) < r for r in rest), e)
                    self.assertGreater(used + nxt["size"], budget, "eviction not needed")
                used -= o["size"]
                count[o["kind"]] -= 1
                freed += 1
                continue
            self.assertEqual(e["id"], next_id)
            next_id += 1
            self.assertLess(e["tick"], ticks)
            if e["tick"] != checked_tick:
                # Frees of ended lifetimes come before the tick's ops.
                checked_tick = e["tick"]
                self.assertFalse([x for x in live.values() if x["life"] is not None
                                  and x["tick"] + x["life"] <= e["tick"]], e)
            if e["ev"] == "skip":
                skipped += 1
                if e["why"] == "limit":
                    self.assertIn(e["kind"], LIMITS)
                    self.assertEqual(count[e["kind"]], LIMITS[e["kind"]])
                else:
                    over = SHARED_KB * 1024 + whole_used + e["size"] > budget
                    whole_over = (e["life"] is None and
                                  whole_used + e["size"] > (budget - SHARED_KB * 1024) // 2)
                    self.assertTrue(over or whole_over, f"skipped but it fits: {e}")
                continue
            live[e["id"]] = e
            used += e["size"]
            count[e["kind"]] += 1
            if e["life"] is None:
                whole_used += e["size"]
            self.assertLessEqual(used, budget, f"over the budget after {e}")
            for kind, limit in LIMITS.items():
                self.assertLessEqual(count[kind], limit)
        self.assertTrue(all(x["life"] is None for x in live.values()), "left live at the end")
        return next_id, freed, len(live), skipped

    def test_max_life_bounds_the_medium_lifetimes(self):
        def lives(extra):
            proc = self.run_it("plan", "--seed", "5", "--ticks", "2000",
                               "--budget-kb", str(1 << 22), *extra)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            return [e["life"] for e in parse_plan(proc.stdout)
                    if e["ev"] != "free" and e["life"] is not None]
        default, longer = lives([]), lives(["--max-life", "1000"])
        self.assertEqual(max(default), 200)
        self.assertGreater(max(longer), 900)
        self.assertLessEqual(max(longer), 1000)
        self.assertEqual(lives(["--max-life", "200"]), default)
        self.assertBadArgs(["plan", "--seed", "1", "--ticks", "10", "--budget-kb", "32768",
                            "--max-life", "19"], "--max-life: 19 is not in 20..")

    def test_plan_keeps_the_budget_and_the_lifetimes(self):
        for seed, ticks, budget_kb in ((1, 500, 32768), (2, 500, 24576), (5, 800, 131072),
                                       (9, 300, 20480)):
            with self.subTest(seed=seed, budget_kb=budget_kb):
                events = self.plan(seed, ticks, budget_kb)
                ops, freed, kept, skipped = self.check_plan(events, ticks, budget_kb)
                self.assertEqual(ops, freed + kept + skipped)
                self.assertGreater(kept, 0)
                evicted = [e for e in events if e["ev"] == "free" and e["tick"] < ticks]
                self.assertTrue(evicted)

    def test_plan_never_frees_whole_run_objects(self):
        events = self.plan(11, 1000, 1 << 20)
        whole = {e["id"] for e in events if e["ev"] == "op" and e["life"] is None}
        self.assertGreater(len(whole), 100)
        self.assertFalse(whole & {e["id"] for e in events if e["ev"] == "free"})

    def test_plan_keeps_the_limits(self):
        """A long run with a large budget reaches 48 live pt children and
        skips what would exceed it (why=limit)."""
        events = self.plan(4, 3000, 1 << 22)
        self.check_plan(events, 3000, 1 << 22)
        self.assertTrue(any(e["ev"] == "skip" and e["why"] == "limit" and e["kind"] == "pt"
                            for e in events))

    def test_whole_run_objects_hold_at_most_half_the_budget(self):
        events = self.plan(6, 3000, 65536)
        whole = sum(e["size"] for e in events if e["ev"] == "op" and e["life"] is None)
        self.assertLessEqual(whole, (65536 - SHARED_KB) * 1024 // 2)
        self.assertGreater(whole, (65536 - SHARED_KB) * 1024 // 4)
        # Churn goes on until the end.
        self.assertTrue(any(e["ev"] == "op" and e["tick"] > 2900 for e in events))


class ArgumentTest(FraggenCase):
    def test_no_or_unknown_mode(self):
        self.assertBadArgs([], "no mode")
        self.assertBadArgs(["walk"], "unknown mode 'walk'")
        self.assertBadArgs(["--seed", "1"], "unknown mode '--seed'")

    def test_missing_options(self):
        self.assertBadArgs(["plan", "--ticks", "10", "--budget-kb", "32768"],
                           "plan: missing --seed")
        self.assertBadArgs(["plan", "--seed", "1", "--budget-kb", "32768"],
                           "plan: missing --ticks")
        self.assertBadArgs(["run", "--seed", "1", "--ticks", "10", "--budget-kb", "32768",
                            "--sample-every", "5", "--dir", self.tmp], "run: missing --log")
        self.assertBadArgs(["probe", "--log", os.path.join(self.tmp, "log")],
                           "probe: missing --defrag")
        self.assertBadArgs(["plan", "--seed"], "--seed needs a value")

    def test_bad_numbers(self):
        for bad in ("abc", "-1", "12x", "", " 5", "1e3", "0x10", "99999999999999999999999"):
            with self.subTest(bad=bad):
                self.assertBadArgs(["plan", "--seed", bad, "--ticks", "10",
                                    "--budget-kb", "32768"], f"--seed: bad number '{bad}'")
        self.assertBadArgs(["plan", "--seed", "1", "--ticks", "0", "--budget-kb", "32768"],
                           "--ticks: 0 is not in 1..")
        self.assertBadArgs(["plan", "--seed", "1", "--ticks", "10", "--budget-kb", "16384"],
                           "--budget-kb: 16384 is not in 20480..")
        self.assertBadArgs(["run", "--seed", "1", "--ticks", "10", "--budget-kb", "32768",
                            "--sample-every", "0", "--log", "x", "--dir", self.tmp],
                           "--sample-every: 0 is not in 1..")

    def test_unknown_or_misplaced_options(self):
        self.assertBadArgs(["plan", "--seed", "1", "--ticks", "10", "--budget-kb", "32768",
                            "--frobnicate", "1"], "unknown option '--frobnicate'")
        self.assertBadArgs(["plan", "--seed", "1", "--ticks", "10", "--budget-kb", "32768",
                            "--log", "x"], "--log is not an option of plan")
        self.assertBadArgs(["probe", "--defrag", "never", "--log", "x", "--seed", "1"],
                           "--seed is not an option of probe")
        self.assertBadArgs(["plan", "--seed", "1", "--seed", "2", "--ticks", "10",
                            "--budget-kb", "32768"], "--seed given twice")

    def test_unknown_defrag_value(self):
        thp = os.path.join(self.tmp, "thp")
        os.mkdir(thp)
        with open(os.path.join(thp, "defrag"), "w") as f:
            f.write("madvise\n")
        for bad in ("madvise", "defer", "defer+madvise", "Never", ""):
            with self.subTest(bad=bad):
                self.assertBadArgs(["probe", "--defrag", bad, "--log",
                                    os.path.join(self.tmp, "log"), "--thp-dir", thp],
                                   f"unknown --defrag value '{bad}'")
        with open(os.path.join(thp, "defrag")) as f:
            self.assertEqual(f.read(), "madvise\n")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "log")))


class RunTest(FraggenCase):
    """Small real runs on this machine."""

    def find_seed(self, ticks, budget_kb, want):
        """The first seed whose plan keeps whole-run objects of each kind in WANT."""
        for seed in range(1, 500):
            events = self.plan(seed, ticks, budget_kb)
            kept = {e["kind"] for e in events if e["ev"] == "op" and e["life"] is None}
            if want <= kept:
                return seed, events
        self.fail(f"no seed keeps {want}")

    def start(self, seed, ticks, budget_kb, every, *extra):
        self.dir = os.path.join(self.tmp, "dir")
        self.log = os.path.join(self.tmp, "log")
        self.ready = os.path.join(self.tmp, "ready")
        self.err = os.path.join(self.tmp, "stderr")
        os.mkdir(self.dir)
        with open(self.err, "w") as err:
            proc = subprocess.Popen([self.exe, "run", "--seed", str(seed), "--ticks", str(ticks),
                                     "--budget-kb", str(budget_kb), "--sample-every", str(every),
                                     "--log", self.log, "--dir", self.dir, "--ready", self.ready,
                                     *extra], stdout=subprocess.DEVNULL, stderr=err)
        self.addCleanup(self.kill, proc)
        return proc

    def kill(self, proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    def wait_ready(self, proc, seconds=20):
        deadline = time.monotonic() + seconds
        while not os.path.exists(self.ready) and proc.poll() is None:
            self.assertLess(time.monotonic(), deadline, "no ready file in time")
            time.sleep(0.05)
        if not os.path.exists(self.ready):
            self.fail(f"no ready file, exit {proc.poll()}: {self.stderr()}")

    def stderr(self):
        with open(self.err) as f:
            return f.read()

    def log_has_lines(self, n):
        if not os.path.exists(self.log):
            return False
        with open(self.log) as f:
            return f.read().count("\n") >= n

    def stop(self, proc):
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
        err = self.stderr()
        self.assertEqual(rc, 0, err)
        return err

    def log_lines(self):
        with open(self.log) as f:
            text = f.read()
        self.assertTrue(text.endswith("\n"))
        for line in text.splitlines(keepends=True):
            self.assertLess(len(line.encode()), 900, line)
        return text.splitlines()

    def expected_keys(self, extfrag=False):
        have = host_vmstat()
        return (["tick", "ms"] + list(MEM_KEYS) +
                (list(PB_KEYS) if pagetypeinfo_readable() else []) +
                (["extfrag", "steal"] if extfrag else []) +
                [k for k in VMSTAT if k in have] + list(TAIL_KEYS))

    def check_samples(self, lines, events, ticks, every, extfrag=False, ctl=False):
        samples = [dict(kv(x)) for x in lines if x.startswith("harness: bench frag-sample ")]
        self.assertEqual([s["tick"] for s in samples],
                         sorted(set(range(0, ticks, every)) | {ticks}))
        keys = self.expected_keys(extfrag)
        for line in lines:
            if line.startswith("harness: bench frag-sample "):
                self.assertEqual([k for k, _ in kv(line)], keys, line)
        ms = [s["ms"] for s in samples]
        self.assertEqual(ms, sorted(ms))
        for s in samples:
            live, skipped = state_before(events, s["tick"])
            with self.subTest(tick=s["tick"]):
                self.assertEqual(s["failed"], 0)
                self.assertEqual(s["vmalloc_fail"], 0)
                self.assertEqual(s["skipped"], skipped)
                self.assertEqual(s["used_kb"],
                                 (SHARED_KB * 1024 + sum(o["size"] for o in live.values())) // 1024)
                for kind in KINDS:
                    n = sum(o["kind"] == kind for o in live.values())
                    self.assertEqual(s["live_" + kind], 0 if kind == "vmalloc" and not ctl
                                     else n)
                self.assertGreater(s["free_kb"], 0)
                self.assertGreaterEqual(s["o4_plus_kb"], 0)
                for k in VMSTAT:
                    if k in s:
                        self.assertGreaterEqual(s[k], 0)
        self.assertEqual(samples[0]["used_kb"], SHARED_KB)
        for k in VMSTAT:
            if k in samples[0] and k not in ("thp_fault_alloc",):
                # Baseline at the start: little can have happened yet.
                self.assertLess(samples[0][k], 10 ** 6, k)
        return samples

    def check_end(self, lines, events, ticks):
        ends = [END.fullmatch(x) for x in lines if x.startswith("harness: bench frag-end")]
        self.assertEqual(len(ends), 1)
        self.assertEqual(lines[-1], ends[0].group(0))
        ops = sum(e["ev"] != "free" for e in events)
        freed = sum(e["ev"] == "free" for e in events)
        skipped = sum(e["ev"] == "skip" for e in events)
        self.assertEqual([int(x) for x in ends[0].groups()],
                         [ticks, ops, freed, ops - freed - skipped, 0, skipped, 0])

    def test_run_samples_ends_holds_and_cleans_up(self):
        ticks, budget_kb, every = 30, 32768, 10
        seed, events = self.find_seed(ticks, budget_kb, {"pt", "files", "pipe"})
        kept = [e for e in events if e["ev"] == "op" and e["life"] is None]
        proc = self.start(seed, ticks, budget_kb, every)
        self.wait_ready(proc)
        lines = self.log_lines()
        self.check_samples(lines, events, ticks, every)
        self.check_end(lines, events, ticks)
        self.assertEqual(len(lines), 5)

        # It holds the whole-run objects: the pt children (sleeping, not
        # stopped) and the files' directories.
        kids = children(proc.pid)
        self.assertEqual(len(kids), sum(e["kind"] == "pt" for e in kept))
        for pid in kids:
            with open(f"/proc/{pid}/status") as f:
                self.assertRegex(f.read(), r"(?m)^State:\s+S ")
        self.assertEqual(sorted(os.listdir(self.dir)),
                         sorted(f"o{e['id']}" for e in kept if e["kind"] == "files"))
        for d in os.listdir(self.dir):
            self.assertTrue(8 <= len(os.listdir(os.path.join(self.dir, d))) <= 64)
        fds = os.listdir(f"/proc/{proc.pid}/fd")
        self.assertGreaterEqual(len(fds), 2 * sum(e["kind"] == "pipe" for e in kept))

        err = self.stop(proc)
        self.assertEqual(err, "")
        for pid in kids:
            self.assertFalse(os.path.exists(f"/proc/{pid}"), f"child {pid} left")
        self.assertEqual(os.listdir(self.dir), [])
        self.assertEqual(len(self.log_lines()), 5, "lines after SIGTERM")

    def test_run_vmalloc_commands_and_trace_counts(self):
        """With --vmalloc-ctl (a plain file here: the commands it gets) and
        --extfrag-dir (trace headers): one "alloc SLOT NPAGES" per vmalloc
        object, SLOT the lowest free, and one "free SLOT" when the plan
        frees it, the whole-run ones after SIGTERM."""
        ticks, budget_kb, every = 40, 65536, 20
        seed, events = self.find_seed(ticks, budget_kb, {"vmalloc"})
        ctl = os.path.join(self.tmp, "ctl")
        open(ctl, "w").close()
        trace = os.path.join(self.tmp, "tracefs")
        for name, header in (("extfrag", "12/345"), ("steal", "0/7")):
            os.makedirs(os.path.join(trace, name))
            with open(os.path.join(trace, name, "trace"), "w") as f:
                f.write(f"# tracer: nop\n#\n# entries-in-buffer/entries-written: {header}"
                        "   #P:2\n#\n#           TASK-PID     CPU#  |||||  TIMESTAMP\n")
        proc = self.start(seed, ticks, budget_kb, every, "--vmalloc-ctl", ctl,
                          "--extfrag-dir", trace)
        self.wait_ready(proc)
        lines = self.log_lines()
        samples = self.check_samples(lines, events, ticks, every, extfrag=True, ctl=True)
        self.assertEqual({(s["extfrag"], s["steal"]) for s in samples}, {(345, 7)})
        self.check_end(lines, events, ticks)
        self.stop(proc)

        expect, slots, used = [], {}, set()
        for e in events:
            if e["ev"] == "op" and e["kind"] == "vmalloc":
                slot = min(set(range(len(used) + 1)) - used)
                used.add(slot)
                slots[e["id"]] = slot
                expect.append(f"alloc {slot} {e['size'] // 4096}")
            elif e["ev"] == "free" and e["id"] in slots:
                slot = slots.pop(e["id"])
                used.discard(slot)
                expect.append(f"free {slot}")
        self.assertTrue(slots, "no whole-run vmalloc object")
        expect += [f"free {slots[i]}" for i in sorted(slots)]
        with open(ctl) as f:
            self.assertEqual(f.read().splitlines(), expect)
        self.assertEqual(os.listdir(self.dir), [])

    def fake_proc(self, vmstat):
        """A stand-in for /proc (--proc-dir) with known text; returns a
        function that replaces one of its files at once."""
        proc_dir = os.path.join(self.tmp, "proc")
        os.mkdir(proc_dir)

        def put(name, text):
            tmp = os.path.join(proc_dir, name + ".new")
            with open(tmp, "w") as f:
                f.write(text)
            os.rename(tmp, os.path.join(proc_dir, name))

        put("meminfo", "MemTotal:        1000000 kB\nMemFree:          123456 kB\n"
                       "MemAvailable:     200000 kB\n")
        put("buddyinfo",
            "Node 0, zone      DMA      1      1      1      0      2      1      1      0      1      1      3 \n"
            "Node 0, zone    DMA32      5      4      3      2      1      0      0      1      0      2    100 \n")
        put("pagetypeinfo",
            "Page block order: 9\nPages per block:  512\n\n"
            "Free pages count per migrate type at order       0      1      2 \n"
            "Node    0, zone      DMA, type    Unmovable      0      0      1 \n"
            "Node    0, zone      DMA, type      Movable      5      9      9 \n\n"
            "Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic          CMA      Isolate \n"
            "Node 0, zone      DMA            1            7            0            0            0            0 \n"
            "Node 0, zone    DMA32           12          400            3            1            0            0 \n")
        put("vmstat", vmstat)
        return proc_dir, put

    def test_fake_proc_parsing(self):
        """--proc-dir: the memory keys from known buddyinfo and pagetypeinfo
        text; the vmstat counters the file lacks are left out; without
        pagetypeinfo, so are the pb_* keys."""
        proc_dir, put = self.fake_proc("nr_free_pages 30864\ncompact_stall 5\n"
                                       "pgmigrate_success 3\nthp_fault_alloc 7\n")
        proc = self.start(5, 1, 32768, 1, "--proc-dir", proc_dir)
        self.wait_ready(proc)
        lines = self.log_lines()
        self.stop(proc)
        self.assertEqual(len(lines), 3)
        first = kv(lines[0])
        self.assertEqual([k for k, _ in first],
                         ["tick", "ms", *MEM_KEYS, *PB_KEYS, "compact_stall",
                          "pgmigrate_success", "thp_fault_alloc", *TAIL_KEYS])
        first = dict(first)
        o4 = (2 * 16 + 32 + 64 + 256 + 512 + 3 * 1024 + 16 + 128 + 2 * 512 + 100 * 1024) * 4
        self.assertEqual({k: first[k] for k in MEM_KEYS + PB_KEYS},
                         {"free_kb": 123456, "o9_units": 1 + 2 * 3 + 2 + 2 * 100,
                          "o4_plus_kb": o4, "o0_pages": 6, "pb_unmovable": 13,
                          "pb_movable": 407, "pb_reclaimable": 3})
        self.assertEqual((first["compact_stall"], first["pgmigrate_success"],
                          first["thp_fault_alloc"]), (0, 0, 0))

        os.remove(os.path.join(proc_dir, "pagetypeinfo"))
        os.remove(self.ready)
        os.remove(self.log)
        shutil.rmtree(self.dir)
        proc = self.start(5, 1, 32768, 1, "--proc-dir", proc_dir)
        self.wait_ready(proc)
        lines = self.log_lines()
        self.stop(proc)
        self.assertEqual([k for k, _ in kv(lines[0])],
                         ["tick", "ms", *MEM_KEYS, "compact_stall", "pgmigrate_success",
                          "thp_fault_alloc", *TAIL_KEYS])

    def test_long_lines_use_the_short_names(self):
        """When 19-digit vmstat deltas would make a sample line 900 bytes or
        more, the short vmstat names keep it below, with every key."""
        proc_dir, put = self.fake_proc("".join(f"{k} 0\n" for k in VMSTAT))
        trace = os.path.join(self.tmp, "tracefs")
        for name in ("extfrag", "steal"):
            os.makedirs(os.path.join(trace, name))
            with open(os.path.join(trace, name, "trace"), "w") as f:
                f.write("# entries-in-buffer/entries-written: 99999/9000000000000000000"
                        "   #P:2\n")
        proc = self.start(5, 2, 32768, 1, "--proc-dir", proc_dir, "--tick-ms", "3000",
                          "--extfrag-dir", trace)
        deadline = time.monotonic() + 10
        while not self.log_has_lines(1):
            self.assertLess(time.monotonic(), deadline, "no tick=0 line")
            if proc.poll() is not None:
                self.fail(f"exit {proc.poll()}: {self.stderr()}")
            time.sleep(0.01)
        # Between tick 0 and tick 1 (3 s apart): every counter grows by 19 digits.
        put("vmstat", "".join(f"{k} {10 ** 18 + i}\n" for i, k in enumerate(VMSTAT)))
        self.wait_ready(proc)
        lines = self.log_lines()          # each below 900 bytes
        err = self.stop(proc)
        self.assertEqual(err, "")
        self.assertEqual([k for k, _ in kv(lines[0])],
                         ["tick", "ms", *MEM_KEYS, *PB_KEYS, "extfrag", "steal", *VMSTAT,
                          *TAIL_KEYS])
        self.assertEqual(dict(kv(lines[0]))["extfrag"], 9000000000000000000)
        for line in lines[1:3]:
            # With the long names, it would not have fitted.
            long_line = line
            for short, name in zip(SHORT, VMSTAT):
                long_line = long_line.replace(f" {short}=", f" {name}=")
            self.assertGreaterEqual(len(long_line) + 1, 900, "the test's numbers are too short")
            keys = kv(line)
            self.assertEqual([k for k, _ in keys],
                             ["tick", "ms", *MEM_KEYS, *PB_KEYS, "extfrag", "steal", *SHORT,
                              *TAIL_KEYS])
            self.assertEqual([v for k, v in keys if k in SHORT],
                             [10 ** 18 + i for i in range(16)])
        self.assertIn("frag-end ticks=2", lines[-1])

    def test_run_errors(self):
        args = ["run", "--seed", "1", "--ticks", "5", "--budget-kb", "32768",
                "--sample-every", "1"]
        log = os.path.join(self.tmp, "log")
        proc = self.run_it(*args, "--log", log, "--dir", os.path.join(self.tmp, "none"))
        self.assertEqual(proc.returncode, 1)
        self.assertIn("guest-fraggen: run: --dir", proc.stderr)
        self.assertIn("No such file or directory", proc.stderr)
        proc = self.run_it(*args, "--log", os.path.join(self.tmp, "no", "log"), "--dir", self.tmp)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("cannot open the log", proc.stderr)
        proc = self.run_it(*args, "--log", log, "--dir", self.tmp, "--vmalloc-ctl",
                           os.path.join(self.tmp, "no-ctl"))
        self.assertEqual(proc.returncode, 1)
        self.assertIn("vmalloc: cannot open", proc.stderr)

    def test_sigterm_before_the_end_frees_everything(self):
        ticks = 1000
        proc = self.start(1, ticks, 32768, 100, "--tick-ms", "10")
        deadline = time.monotonic() + 10
        while not (os.path.exists(self.log) and os.listdir(self.dir)):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        kids = children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=20), 1)
        self.assertRegex(self.stderr(), r"guest-fraggen: run: stopped by a signal at tick \d+ of 1000")
        self.assertEqual(os.listdir(self.dir), [])
        for pid in kids:
            self.assertFalse(os.path.exists(f"/proc/{pid}"))
        self.assertFalse(os.path.exists(self.ready))


class ProbeTest(FraggenCase):
    def test_probe_with_a_stand_in_thp_dir(self):
        """A real probe of about 64 regions (the reserve is MemFree less
        128 MiB) with THP_DIR a temporary directory: the defrag value is
        written there, the host's own setting is left alone."""
        thp = os.path.join(self.tmp, "thp")
        os.mkdir(thp)
        with open(os.path.join(thp, "defrag"), "w") as f:
            f.write("madvise\n")
        with open("/proc/meminfo") as f:
            mem = {line.split(":")[0]: int(line.split()[1]) for line in f}
        log = os.path.join(self.tmp, "log")
        proc = self.run_it("probe", "--defrag", "never", "--log", log, "--thp-dir", thp,
                           "--reserve-kb", str(mem["MemFree"] - 131072))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(os.path.join(thp, "defrag")) as f:
            self.assertEqual(f.read(), "never\n")
        with open(log) as f:
            lines = f.read().splitlines(keepends=True)
        self.assertEqual(len(lines), 1)
        self.assertLess(len(lines[0]), 900)
        m = re.fullmatch(r"harness: bench frag-probe defrag=never tried=(\d+) huge=(\d+) "
                         r"share_pm=(\d+) ms=(\d+)((?: \w+=-?\d+)*)\n", lines[0])
        self.assertTrue(m, lines[0])
        tried, huge, share = int(m.group(1)), int(m.group(2)), int(m.group(3))
        self.assertTrue(1 <= tried <= 300, tried)
        self.assertEqual(share, huge * 2048 * 1000 // mem["MemTotal"])
        have = host_vmstat()
        self.assertEqual([x.split("=")[0] for x in m.group(5).split()],
                         [k for k in PROBE_KEYS if k in have])

    def test_probe_cannot_set_defrag(self):
        proc = self.run_it("probe", "--defrag", "always", "--log", os.path.join(self.tmp, "log"),
                           "--thp-dir", os.path.join(self.tmp, "none"))
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr, f"guest-fraggen: probe: cannot set "
                         f"{self.tmp}/none/defrag to always: No such file or directory\n")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "log")))


if __name__ == "__main__":
    unittest.main()

"""Tests of make frag's harness glue: the guest plan frag as
scripts/check-log.py judges it (synthetic console logs, checked as
scripts/frag.sh checks them: without --expect-vmalloc), scripts/frag.sh's
arguments (--variants, and the refusals before anything boots), and
scripts/guest-init.sh's frag_plan run by busybox sh with fakes: of
guest-fraggen, guest-insmod, the procfs, sysfs, debugfs and tracefs files it
uses, and stubs of log, mount, umount and rmmod. The tracefs counters it
shares with the pcp and wakeups plans (trace_counters_start, trace_counts,
trace_counts_reset) are run the same way with those plans' counters, and
pcp_plan and wakeups_plan themselves with stubs, so that their "bench pcp"
and "bench wakeups" lines are shown to still carry their counts (and to pass
check-log.py, as tests/test_pcp.py and test_wakeups.py build their logs).
That initramfs.sh packs /bin/guest-fraggen is tested with its other helpers
in tests/test_check_log.py (InitramfsIds).

frag.sh runs from the repo itself with BASE=7.3 and BUILD a temporary
directory (report_helpers.RealStudyCase): with nothing built there, every
refusal is tested with PROFILE=bench, which proves it comes before the check
of the built kernels; the checks of the built kernels get fake ones in a
BUILD of their own. Nothing is ever booted (qemu, make and gcc are fakes
that fail if called). guest-fraggen.c and frag-report.py have their own
tests (test_fraggen.py, test_frag_report.py); the synthetic logs here carry
the bench entries test_frag_report.py reports on.

Run from the repo root: bash tests/run  (or python3 -m unittest tests.test_frag)
"""
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

# tests/ is on sys.path when run by tests/run; added here for
# python3 -m unittest tests.test_frag.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_scripts import read, write, write_exec  # noqa: E402
from test_check_log import GUEST_INIT, busybox_sh, guest_function, need_busybox  # noqa: E402
from report_helpers import (REPO, CheckLogCase, RealStudyCase, check_log,  # noqa: E402
                            missing_scipy, result_line)
from test_frag_report import boot_bench, missing_matplotlib  # noqa: E402
import test_pcp  # noqa: E402
import test_wakeups  # noqa: E402

# Variables of frag.sh (besides test_scripts.HARNESS_VARS) that a user or the
# Makefile may have set; the tests set the ones they need.
FRAG_VARS = {"FRAG_VARIANTS", "FRAG_SEEDS", "FRAG_PROACTIVENESS", "FRAG_TICKS", "FRAG_SAMPLE",
             "FRAG_BUDGET_PCT", "FRAG_MAX_LIFE", "FRAG_MEM", "FRAG_TIMEOUT", "FRAG_OUT",
             "FRAG_DISCUSSION", "FRAG_MODE", "RUNS", "PROFILE", "REPORT_ONLY", "OBJ"}


# --------------------------------------------------------------------------
# check-log.py: the plan frag
# --------------------------------------------------------------------------
def bench_text(entry, stamp):
    """The console line of the bench entry ENTRY ({"name": NAME, key: value})
    at time STAMP, as the guest logs it."""
    words = "".join(f" {k}={v}" for k, v in entry.items() if k != "name")
    return f"[{stamp:>12.6f}] harness: bench {entry['name']}{words}\n"


def good_bench():
    """The bench entries of a passing frag boot: test_frag_report.py's boot
    of series, proactiveness 20, seed 1 (a frag-config, 11 frag-samples, a
    frag-end and the probes of defrag never and always)."""
    return boot_bench("series", 20, 1)


def console_log(bench=None, variant="series+frag", extra="", done=True):
    """A console log of the plan frag whose bench lines are those of BENCH
    (default: good_bench()), then the text EXTRA, then "done" (if DONE)."""
    text = ("[    0.000000] Linux version 7.3.0-frag (fake)\n"
            f"[    1.000000] harness: start variant={variant} plan=frag\n")
    t = 2.0
    for entry in good_bench() if bench is None else bench:
        text += bench_text(entry, t)
        t += 0.25
    text += extra
    if done:
        text += f"[{t + 1:>12.6f}] harness: done\n"
    return text


def without(bench, pred):
    """BENCH without the entries for which PRED is true."""
    return [b for b in bench if not pred(b)]


def edited(bench, pred, **over):
    """BENCH with OVER in the entries for which PRED is true (a value of None:
    the key left out)."""
    out = []
    for b in bench:
        if pred(b):
            b = {k: v for k, v in dict(b, **over).items() if v is not None}
        out.append(b)
    return out


def named(name, **keys):
    """A predicate: the entry is a NAME line with KEYS."""
    return lambda b: b["name"] == name and all(b.get(k) == v for k, v in keys.items())


class CheckLogFragTest(CheckLogCase):
    plan = "frag"
    options = ()        # as frag.sh runs it (check_boot_log ... --json): no test_vmalloc rows

    def test_complete_log_passes(self):
        rc, out, err, res = self.check(console_log())
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(result_line(out), "result: PASS")
        self.assertIn("variant=series+frag plan=frag", out)
        self.assertEqual((res["variant"], res["plan"], res["pass"], res["reasons"]),
                         ("series+frag", "frag", True, []))
        # What frag-report.py reads: every entry as logged, numbers as numbers.
        self.assertEqual(res["bench"], good_bench())
        self.assertEqual(res["rows"], [])

    def test_the_least_that_passes(self):
        # One frag-config, two samples, one frag-end, one probe of each defrag.
        bench = [b for b in good_bench()
                 if b["name"] != "frag-sample" or b["tick"] in (0, 10)]
        self.assertEqual(len(bench), 6)
        rc, out, err, res = self.check(console_log(bench))
        self.assertEqual(rc, 0, out + err)

    def test_with_expect_vmalloc_it_would_fail(self):
        # Why frag.sh checks its logs without --expect-vmalloc: the plan
        # loads no test_vmalloc.ko.
        rc, out, err, res = check_log(console_log(), self.tmp)
        self.assertEqual(rc, 1, out)
        self.assertEqual(res["reasons"], ["no test_vmalloc Summary lines"])

    def test_no_frag_config_fails(self):
        self.assertFailsFor(console_log(without(good_bench(), named("frag-config"))),
                            "plan frag: 0 'bench frag-config' lines, expected 1")

    def test_two_frag_configs_fail(self):
        bench = good_bench()
        self.assertFailsFor(console_log(bench[:1] + bench),
                            "plan frag: 2 'bench frag-config' lines, expected 1")

    def test_one_sample_only_fails(self):
        bench = without(good_bench(), lambda b: b["name"] == "frag-sample" and b["tick"] > 0)
        self.assertFailsFor(console_log(bench),
                            "plan frag: 1 'bench frag-sample' lines, expected at least 2")
        self.assertFailsFor(console_log(without(good_bench(), named("frag-sample"))),
                            "plan frag: 0 'bench frag-sample' lines, expected at least 2")

    def test_sample_without_o9_units_fails_naming_it(self):
        for value in (None, "?", "1.5"):
            with self.subTest(o9_units=value):
                res = self.assertFailsFor(
                    console_log(edited(good_bench(), named("frag-sample", tick=5), o9_units=value)),
                    "plan frag: bench frag-sample tick=5: no o9_units")
                self.assertEqual([r for r in res["reasons"] if r.startswith("plan frag")],
                                 ["plan frag: bench frag-sample tick=5: no o9_units"])

    def test_sample_without_a_tick_fails(self):
        self.assertFailsFor(
            console_log(edited(good_bench(), named("frag-sample", tick=3), tick="?",
                               o9_units=None)),
            "plan frag: bench frag-sample tick=?: no tick, o9_units")

    def test_no_frag_end_fails(self):
        self.assertFailsFor(console_log(without(good_bench(), named("frag-end"))),
                            "plan frag: 0 'bench frag-end' lines, expected 1")

    def test_two_frag_ends_fail(self):
        bench = good_bench()
        end = [b for b in bench if b["name"] == "frag-end"]
        self.assertFailsFor(console_log(bench + end),
                            "plan frag: 2 'bench frag-end' lines, expected 1")

    def test_probe_never_missing_fails(self):
        res = self.assertFailsFor(
            console_log(without(good_bench(), named("frag-probe", defrag="never"))),
            "plan frag: 0 'bench frag-probe defrag=never' lines, expected 1")
        self.assertFalse(any("defrag=always" in r for r in res["reasons"]), res["reasons"])

    def test_two_probes_of_a_defrag_fail(self):
        bench = good_bench()
        always = [b for b in bench if b.get("defrag") == "always"]
        self.assertFailsFor(console_log(bench + always),
                            "plan frag: 2 'bench frag-probe defrag=always' lines, expected 1")

    def test_probe_always_without_share_pm_fails(self):
        for value in (None, "?"):
            with self.subTest(share_pm=value):
                self.assertFailsFor(
                    console_log(edited(good_bench(), named("frag-probe", defrag="always"),
                                       share_pm=value)),
                    "plan frag: bench frag-probe defrag=always: no share_pm")

    def test_guest_error_fails(self):
        line = ("harness: error frag: guest-fraggen did not finish, still running after 1200s: "
                "run: tick 40")
        res = self.assertFailsFor(console_log(extra=f"[    9.000000] {line}\n"),
                                  "guest error: frag: guest-fraggen did not finish")
        self.assertEqual(res["errors"], [line[len("harness: error "):]])

    def test_truncated_log_fails(self):
        self.assertFailsFor(console_log(done=False), "log truncated: no 'harness: done' marker")

    def test_frag_lines_are_not_required_by_other_plans(self):
        rc, out, err, res = self.check(console_log([]).replace("plan=frag", "plan=boot"))
        self.assertEqual(rc, 0, out + err)
        self.assertFailsFor(console_log([]), "plan frag: 0 'bench frag-config' lines")

    def test_frag_is_a_known_plan(self):
        res = self.assertFailsFor(console_log().replace("plan=frag", "plan=fragx"),
                                  "unknown plan 'fragx' (known: ")
        known = [r.split("(known: ", 1)[1].rstrip(")").split(", ")
                 for r in res["reasons"] if r.startswith("unknown plan")]
        self.assertEqual(len(known), 1, res["reasons"])
        self.assertIn("frag", known[0])


# --------------------------------------------------------------------------
# frag.sh: its kernels (--variants) and what it refuses before booting
# --------------------------------------------------------------------------
FRAG_SH = os.path.join(REPO, "scripts", "frag.sh")
PROBE_FRAG = os.path.join(REPO, "bases", "7.3", "harness", "probe-frag.patch")


class FragShRealTest(RealStudyCase):
    """The repo's own scripts and base 7.3 (report_helpers.RealStudyCase:
    BUILD an empty temporary directory, fakes of qemu, make and gcc)."""
    study_vars = FRAG_VARS

    def frag(self, *args, **env):
        return self.run_real("frag.sh", *args, **env)

    def test_variants_of_73(self):
        proc = self.frag("--variants")
        self.assertSucceeds(proc)
        self.assertEqual(proc.stdout, "order0+frag regression+frag upstream+frag series+frag\n")
        self.assertEqual(proc.stderr, "")
        self.assertEqual(os.listdir(self.build), [])
        for v in proc.stdout.split():
            with self.subTest(variant=v):
                patches = self.run_real("variant-patches.sh", v)
                self.assertSucceeds(patches)
                paths = patches.stdout.splitlines()
                self.assertEqual(paths[-1], PROBE_FRAG)     # the harness module on top
                for p in paths:
                    self.assertTrue(os.path.isfile(p), f"{v}: {p} does not exist")

    def test_environment_overrides_the_base(self):
        for value, want in (("  a \t b  ", "a+frag b+frag\n"), ("series", "series+frag\n")):
            with self.subTest(FRAG_VARIANTS=value):
                proc = self.frag("--variants", FRAG_VARIANTS=value)
                self.assertSucceeds(proc)
                self.assertEqual(proc.stdout, want)

    def test_base_without_frag_variants(self):
        # bases/6.12/base.conf has no FRAG_VARIANTS.
        self.assertNotIn("FRAG_VARIANTS", read(os.path.join(REPO, "bases", "6.12", "base.conf")))
        for args in (["--variants"], ["icount"]):
            for value in (None, "", "  "):
                with self.subTest(args=args, FRAG_VARIANTS=value):
                    self.assertRefused(
                        self.frag(*args, BASE="6.12", FRAG_VARIANTS=value, PROFILE="bench"),
                        "base 6.12: no FRAG_VARIANTS in bases/6.12/base.conf (the kernels of "
                        "the fragmentation study)")
        self.assertRefused(self.frag("icount", FRAG_VARIANTS=" ", PROFILE="bench"),
                           "base 7.3: no FRAG_VARIANTS in bases/7.3/base.conf (the kernels of "
                           "the fragmentation study)")

    def test_base_without_the_harness_module(self):
        self.assertRefused(self.frag("--variants", BASE="6.12", FRAG_VARIANTS="a b"),
                           "base 6.12: no harness module "
                           f"{REPO}/bases/6.12/harness/probe-frag.patch")

    def test_usage(self):
        for args in ([], ["icount", "tcg"]):
            with self.subTest(args=args):
                self.assertRefused(self.frag(*args, PROFILE="bench"),
                                   f"usage: {FRAG_SH} tcg|icount")

    def test_bad_mode(self):
        for mode in ("kvm", "ICOUNT", ""):
            with self.subTest(mode=mode):
                self.assertRefused(self.frag(mode, PROFILE="bench"),
                                   f"MODE must be tcg or icount, not '{mode}'")

    def test_bad_seeds_ticks_and_sample(self):
        for env, bad in (({"FRAG_SEEDS": "x"}, "x"), ({"FRAG_SEEDS": "0"}, "0"),
                         ({"FRAG_SEEDS": "1 02"}, "02"), ({"FRAG_SEEDS": "-1"}, "-1"),
                         ({"FRAG_SEEDS": "1 2.5"}, "2.5"),
                         ({"FRAG_TICKS": "0"}, "0"), ({"FRAG_TICKS": "300x"}, "300x"),
                         ({"FRAG_TICKS": "030"}, "030"), ({"FRAG_TICKS": "1e3"}, "1e3"),
                         ({"FRAG_SAMPLE": "0"}, "0"), ({"FRAG_SAMPLE": "ten"}, "ten"),
                         ({"FRAG_SAMPLE": "-5"}, "-5")):
            with self.subTest(**env):
                self.assertRefused(self.frag("icount", PROFILE="bench", **env),
                                   "FRAG_SEEDS, FRAG_TICKS and FRAG_SAMPLE must be positive "
                                   f"integers (no leading 0), not '{bad}'")

    def test_no_seed(self):
        for value in ("", "  "):
            with self.subTest(FRAG_SEEDS=value):
                self.assertRefused(self.frag("tcg", PROFILE="bench", FRAG_SEEDS=value),
                                   "FRAG_SEEDS names no seed")

    def test_bad_proactiveness(self):
        for value, bad in (("101", "101"), ("-1", "-1"), ("x", "x"), ("07", "07"),
                           ("20 1000", "1000"), ("00", "00"), ("1e2", "1e2")):
            with self.subTest(FRAG_PROACTIVENESS=value):
                self.assertRefused(
                    self.frag("icount", PROFILE="bench", FRAG_PROACTIVENESS=value),
                    f"FRAG_PROACTIVENESS: '{bad}' is not 0..100 (vm.compaction_proactiveness)")
        self.assertRefused(self.frag("icount", PROFILE="bench", FRAG_PROACTIVENESS=" "),
                           "FRAG_PROACTIVENESS names no value")

    def test_bad_budget_and_max_life(self):
        for value in ("0", "100", "x", "075", "-5", "50%"):
            with self.subTest(FRAG_BUDGET_PCT=value):
                self.assertRefused(self.frag("icount", PROFILE="bench", FRAG_BUDGET_PCT=value),
                                   f"FRAG_BUDGET_PCT must be 1..99 (% of MemTotal), not '{value}'")
        for value in ("19", "0", "x", "020", "1e3", "-100"):
            with self.subTest(FRAG_MAX_LIFE=value):
                self.assertRefused(self.frag("icount", PROFILE="bench", FRAG_MAX_LIFE=value),
                                   f"FRAG_MAX_LIFE must be an integer >= 20 (ticks), not '{value}'")

    def test_kernel_arguments_are_those_frag_plan_reads(self):
        # frag.sh passes the workload's parameters as harness.NAME=VALUE,
        # which frag_plan reads with arg NAME: a name misspelt on either
        # side would leave the guest on its default.
        m = re.search(r'KARGS="([^"]*)"', read(FRAG_SH))
        self.assertIsNotNone(m, "frag.sh sets no KARGS")
        passed = re.findall(r"harness\.(\w+)=", m.group(1))
        read_ = re.findall(r"\$\(arg (\w+) ", guest_function("frag_plan"))
        self.assertEqual(sorted(passed), ["budget_pct", "frag_timeout", "max_life",
                                          "proactiveness", "sample_every", "seed", "ticks"])
        self.assertEqual(sorted(set(read_)), sorted(passed))

    def test_runs_is_not_frag_shs(self):
        # One boot per kernel, seed and proactiveness: RUNS is not frag.sh's.
        proc = self.frag("icount", PROFILE="bench", RUNS="x")
        self.assertIn("error: variant order0+frag is not built: make frag\n", proc.stderr)

    def test_profile_must_be_bench(self):
        for profile in ("test", None, "nothp"):   # None: common.sh's default, test
            with self.subTest(PROFILE=profile):
                self.assertRefused(self.frag("icount", PROFILE=profile),
                                   "the fragmentation study boots the kernels of PROFILE=bench "
                                   f"(make frag builds them), not '{profile or 'test'}'")

    def test_valid_arguments_reach_the_built_kernels(self):
        # The refusals above all come before this check: with valid arguments,
        # the first kernel of FRAG_VARIANTS is not built in BUILD.
        for env in ({}, {"FRAG_SEEDS": "1 9 10", "FRAG_TICKS": "1", "FRAG_SAMPLE": "300",
                         "FRAG_PROACTIVENESS": "0 1 99 100", "FRAG_BUDGET_PCT": "1",
                         "FRAG_MAX_LIFE": "20"},
                    {"FRAG_BUDGET_PCT": "99", "FRAG_MAX_LIFE": "100000", "FRAG_TICKS": "",
                     "FRAG_SAMPLE": ""}):
            with self.subTest(**env):
                proc = self.frag("tcg", PROFILE="bench", **env)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertEqual(proc.stderr,
                                 "error: variant order0+frag is not built: make frag\n")
                self.assertEqual(os.listdir(self.build), [])

    # What needs kernels that look built: a BUILD of its own per test.
    def built_tree(self, *variants):
        """A BUILD in which VARIANTS look built by make frag (with
        test_frag_vmalloc.ko): its path."""
        build = tempfile.mkdtemp(prefix="harness-frag-built-")
        self.addCleanup(shutil.rmtree, build)
        for v in variants:
            d = os.path.join(build, "7.3", "out-bench", v)
            write(os.path.join(d, "bzImage"), "fake-bzImage\n")
            write(os.path.join(d, "info"), f"kernel: 7.3.0-{v}\n")
            write(os.path.join(d, "modules", "test_frag_vmalloc.ko"), "fake-ko\n")
        return build

    def frag_built(self, build, mode, **env):
        """frag.sh MODE with BUILD, FRAG_VARIANTS="a b" and the report's
        prefix in BUILD/out (which must not be made)."""
        return self.frag(mode, PROFILE="bench", BUILD=build, FRAG_VARIANTS="a b",
                         FRAG_OUT=os.path.join(build, "out", "frag"), **env)

    def assertStopsBeforeBooting(self, proc, build, message):
        """Exit 1 with only "error: MESSAGE", nothing made in BUILD but the
        kernels, no report."""
        self.assertEqual(proc.returncode, 1, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        self.assertEqual(proc.stderr, f"error: {message}\n")
        self.assertEqual(proc.stdout, "")
        self.assertEqual(sorted(os.listdir(os.path.join(build, "7.3"))), ["out-bench"])
        self.assertFalse(os.path.exists(os.path.join(build, "out")))

    def test_variant_not_built(self):
        build = self.built_tree("a+frag")
        proc = self.frag_built(build, "icount")
        self.assertStopsBeforeBooting(proc, build, "variant b+frag is not built: make frag")

    def test_variant_without_info_is_not_built(self):
        build = self.built_tree("a+frag", "b+frag")
        os.remove(os.path.join(build, "7.3", "out-bench", "a+frag", "info"))
        proc = self.frag_built(build, "icount")
        self.assertStopsBeforeBooting(proc, build, "variant a+frag is not built: make frag")

    def test_variant_built_without_the_module(self):
        build = self.built_tree("a+frag", "b+frag")
        os.remove(os.path.join(build, "7.3", "out-bench", "b+frag", "modules",
                               "test_frag_vmalloc.ko"))
        proc = self.frag_built(build, "tcg")
        self.assertStopsBeforeBooting(
            proc, build, "variant b+frag has no test_frag_vmalloc.ko (CONFIG_TEST_VMALLOC=m and "
                         f"{REPO}/bases/7.3/harness/probe-frag.patch): make frag")

    def test_report_only_without_a_previous_run(self):
        why = missing_scipy("frag.sh") or missing_matplotlib()
        if why:
            self.fail(why)
        build = self.built_tree("a+frag", "b+frag")
        proc = self.frag_built(build, "icount", REPORT_ONLY="1")
        self.assertStopsBeforeBooting(
            proc, build, f"no previous run of a b (icount) in {build}/7.3/frag/a-b/icount")


# --------------------------------------------------------------------------
# guest-init.sh's frag_plan and tracefs counters, run by busybox sh
# --------------------------------------------------------------------------
def guest_variable(name):
    """The line(s) of guest-init.sh that set NAME="..." (a list of counters
    spans several lines): shell text to run before the functions that read it."""
    m = re.search(r'^%s="[^"]*"\n' % re.escape(name), read(GUEST_INIT), re.M)
    assert m, f"guest-init.sh sets no {name}"
    return m.group(0)


def counters(name):
    """[(NAME, SUBSYSTEM/EVENT, FILTER)] of guest-init.sh's counter list NAME."""
    value = guest_variable(name).split('"')[1]
    return [tuple(line.split("|", 2)) for line in value.splitlines()]


def trace_header(written):
    """The head of a tracefs trace file whose buffer has had WRITTEN events
    (at most 40 of which it still holds)."""
    return ("# tracer: nop\n#\n"
            f"# entries-in-buffer/entries-written: {min(written, 40)}/{written}   #P:2\n#\n"
            "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n")


def write_trace_header(path, written):
    """Shell: write the head of a trace file whose buffer has had WRITTEN
    events (a number or a shell arithmetic expansion) to PATH."""
    return ("printf '# tracer: nop\\n#\\n# entries-in-buffer/entries-written: 40/%d   #P:2\\n#\\n' "
            f'"{written}" > {path}\n')


def fake_tracefs(root, counter_list, missing=()):
    """A tracefs at ROOT for the counters COUNTER_LIST, with the events
    MISSING left out: events/SUBSYSTEM/EVENT, and each counter's instance as
    the kernel makes it on mkdir (its events, options/pause-on-trace 1)."""
    os.makedirs(os.path.join(root, "events"), exist_ok=True)
    for name, ev, _ in counter_list:
        if ev not in missing:
            os.makedirs(os.path.join(root, "events", ev), exist_ok=True)
        inst = os.path.join(root, "instances", name)
        write(os.path.join(inst, "buffer_size_kb"), "1408\n")
        write(os.path.join(inst, "options", "pause-on-trace"), "1\n")
        write(os.path.join(inst, "events", ev, "filter"), "none\n")
        write(os.path.join(inst, "events", ev, "enable"), "0\n")
        write(os.path.join(inst, "trace"), trace_header(0))


def instance_state(root, counter_list):
    """{counter: (buffer_size_kb, pause-on-trace, filter, enable)} of the fake tracefs ROOT."""
    state = {}
    for name, ev, _ in counter_list:
        inst = os.path.join(root, "instances", name)
        state[name] = tuple(read(os.path.join(inst, *p)).strip() for p in (
            ("buffer_size_kb",), ("options", "pause-on-trace"), ("events", ev, "filter"),
            ("events", ev, "enable")))
    return state


def to_console(lines, plan, variant="series+frag"):
    """The console log of a boot of PLAN whose markers are LINES."""
    text = ("[    0.000000] Linux version 7.3.0 (fake)\n"
            f"[    1.000000] harness: start variant={variant} plan={plan}\n")
    for i, line in enumerate(lines):
        text += f"[{2 + i / 10:>12.6f}] {line}\n"
    return text + f"[{3 + len(lines) / 10:>12.6f}] harness: done\n"


class GuestPlanCase(unittest.TestCase):
    """Functions of guest-init.sh run by busybox sh in a temporary directory:
    self.log stands for /dev/kmsg (the stub of log() appends its markers
    there), self.calls records the fakes' calls, self.bin is first on PATH,
    self.t stands for /tmp/ and self.tracefs for $TRACEFS."""

    def setUp(self):
        need_busybox(self)
        self._tmp = tempfile.TemporaryDirectory(prefix="harness-guest-")
        self.tmp = self._tmp.name
        self.log = os.path.join(self.tmp, "kmsg")
        self.calls = os.path.join(self.tmp, "calls")
        self.bin = os.path.join(self.tmp, "bin")
        self.t = os.path.join(self.tmp, "t") + "/"
        self.tracefs = os.path.join(self.tmp, "tracefs")
        self.cmdline = os.path.join(self.tmp, "cmdline")
        os.makedirs(self.bin)
        os.makedirs(self.t)
        write(self.log, "")
        write(self.calls, "")

    def tearDown(self):
        self._tmp.cleanup()

    def stubs(self, extra=""):
        return (f'log() {{ echo "harness: $*" >> {self.log}; }}\n'
                f"TRACEFS={self.tracefs}\n" + extra)

    def arg(self, cmdline):
        """guest-init.sh's arg(), reading the kernel command line CMDLINE."""
        write(self.cmdline, cmdline + "\n")
        return guest_function("arg", (("/proc/cmdline", self.cmdline),))

    def sh(self, script, timeout=60):
        """Run SCRIPT: (CompletedProcess, the markers logged)."""
        proc = busybox_sh(script, timeout=timeout, path=self.bin)
        return proc, read(self.log).splitlines()

    def trace_functions(self):
        return "".join(guest_function(f) for f in ("trace_counters_start", "trace_counts",
                                                    "trace_counts_reset"))


# A fake guest-fraggen: records its arguments; "run" logs a frag-sample line
# at tick 0, every --sample-every ticks and at --ticks, then frag-end, as the
# real one does to --log, creates --ready and holds until SIGTERM (then exits
# TERM_STATUS); "probe" logs its frag-probe line (share_pm 100 with defrag
# never, 250 with always). EARLY runs in "run" before any of that,
# PROBE_EARLY in "probe" (e.g. to fail).
FAKE_FRAGGEN = """#!/bin/sh
echo "guest-fraggen $*" >> {calls}
cmd=$1
shift
while [ $# -ge 2 ]; do
	case $1 in
	--ticks) ticks=$2 ;;
	--sample-every) every=$2 ;;
	--log) log=$2 ;;
	--ready) ready=$2 ;;
	--defrag) defrag=$2 ;;
	esac
	shift 2
done
if [ "$cmd" = probe ]; then
	{probe_early}
	echo "harness: bench frag-probe defrag=$defrag tried=200 huge=50 share_pm=$([ "$defrag" = never ] && echo 100 || echo 250) ms=9" >> "$log"
	exit 0
fi
echo "run: started"
{early}
trap 'echo "run: stopped"; exit {term_status}' TERM
t=0
while [ $t -lt $ticks ]; do
	echo "harness: bench frag-sample tick=$t ms=$((t * 10)) free_kb=500000 o9_units=$((200 - t)) extfrag=$((3 * t)) steal=$t" >> "$log"
	t=$((t + every))
done
echo "harness: bench frag-sample tick=$ticks ms=$((ticks * 10)) free_kb=400000 o9_units=$((200 - ticks)) extfrag=$((3 * ticks)) steal=$ticks" >> "$log"
echo "harness: bench frag-end ticks=$ticks ops=40 freed=30 kept=6 vmalloc_fail=0 skipped=4 failed=0" >> "$log"
touch "$ready"
i=0
while [ $i -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
echo "run: never stopped"
exit 9
"""


def fake_fraggen(calls, early="", term_status=0, probe_early=""):
    return FAKE_FRAGGEN.format(calls=calls, early=early, term_status=term_status,
                               probe_early=probe_early)


CMDLINE = ("console=ttyS0 harness.variant=series+frag harness.plan=frag harness.seed=3 "
           "harness.proactiveness=0 harness.ticks=20 harness.sample_every=5 "
           "harness.budget_pct=75 harness.max_life=1000 harness.frag_timeout={timeout} cma=0")
MEMINFO = "MemTotal:        1000000 kB\nMemFree:          900000 kB\n"


class FragPlanTest(GuestPlanCase):
    """frag_plan with fakes of everything it touches outside the shell."""

    def setUp(self):
        super().setUp()
        self.proactiveness = os.path.join(self.tmp, "proc", "sys", "vm", "compaction_proactiveness")
        self.thp = os.path.join(self.tmp, "sys", "thp")
        self.meminfo = os.path.join(self.tmp, "proc", "meminfo")
        self.debugfs = os.path.join(self.tmp, "debugfs")
        self.fragdir = os.path.join(self.tmp, "frag")
        self.ctl = os.path.join(self.debugfs, "frag_vmalloc")
        write(self.proactiveness, "20\n")
        write(os.path.join(self.thp, "enabled"), "always [madvise] never\n")
        write(os.path.join(self.thp, "defrag"), "always defer defer+madvise [madvise] never\n")
        write(self.meminfo, MEMINFO)
        os.makedirs(self.debugfs)
        self.counters = counters("FRAG_COUNTERS")
        fake_tracefs(self.tracefs, self.counters)
        self.insmod(ok=True)

    def insmod(self, ok):
        """The fake guest-insmod: loading the module makes its debugfs file."""
        if ok:
            body = f"touch {self.ctl}\n"
        else:
            body = ('echo "guest-insmod: init_module /modules/test_frag_vmalloc.ko: '
                    'Unknown symbol in module" >&2\nexit 1\n')
        write_exec(os.path.join(self.bin, "guest-insmod"),
                   f'#!/bin/sh\necho "guest-insmod $*" >> {self.calls}\n{body}')

    def frag_plan(self, fraggen, timeout=30, cmdline=CMDLINE, mount_status=0):
        """frag_plan with FRAGGEN as guest-fraggen and harness.frag_timeout
        TIMEOUT: the markers it logged (self.elapsed: how long it took)."""
        write_exec(os.path.join(self.bin, "guest-fraggen"), fraggen)
        stubs = self.stubs(
            f'mount() {{ echo "mount $*" >> {self.calls}; return {mount_status}; }}\n'
            f'umount() {{ echo "umount $*" >> {self.calls}; }}\n'
            f'rmmod() {{ echo "rmmod $*" >> {self.calls}; }}\n')
        subst = (("/proc/sys/vm/compaction_proactiveness", self.proactiveness),
                 ("/sys/kernel/mm/transparent_hugepage", self.thp),
                 ("/proc/meminfo", self.meminfo),
                 ("/sys/kernel/debug/", self.debugfs + "/"),
                 ("/dev/kmsg", self.log),
                 ("/tmp/", self.t),
                 ("/frag", self.fragdir))
        script = (stubs + guest_variable("FRAG_COUNTERS") +
                  self.arg(cmdline.format(timeout=timeout)) + self.trace_functions() +
                  guest_function("frag_plan", subst) + 'frag_plan\necho "rc=$?"\n')
        start = time.monotonic()
        proc, lines = self.sh(script)
        self.elapsed = time.monotonic() - start
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "rc=0\n")    # errors are logged, init goes on
        return lines

    def calls_made(self):
        return read(self.calls).splitlines()

    def run_args(self, seed=3, ticks=20, every=5, budget=750000, life=1000):
        return (f"guest-fraggen run --seed {seed} --ticks {ticks} --budget-kb {budget} "
                f"--max-life {life} --sample-every {every} --log {self.log} --dir {self.fragdir} "
                f"--extfrag-dir {self.tracefs}/instances --vmalloc-ctl {self.ctl} "
                f"--ready {self.t}frag.ready")

    def errors(self, lines):
        return [l for l in lines if l.startswith("harness: error")]

    def test_a_whole_run(self):
        lines = self.frag_plan(fake_fraggen(self.calls))
        self.assertEqual(lines, [
            "harness: bench frag-config seed=3 proactiveness=0 mem_kb=1000000 ticks=20 "
            "sample_every=5 budget_kb=750000 max_life=1000"] + [
            f"harness: bench frag-sample tick={t} ms={t * 10} "
            f"free_kb={400000 if t == 20 else 500000} o9_units={200 - t} extfrag={3 * t} "
            f"steal={t}" for t in (0, 5, 10, 15, 20)] + [
            "harness: bench frag-end ticks=20 ops=40 freed=30 kept=6 vmalloc_fail=0 skipped=4 "
            "failed=0",
            "harness: bench frag-probe defrag=never tried=200 huge=50 share_pm=100 ms=9",
            "harness: bench frag-probe defrag=always tried=200 huge=50 share_pm=250 ms=9"])
        self.assertEqual(self.calls_made(), [
            "guest-insmod /modules/test_frag_vmalloc.ko",
            f"mount -t tmpfs -o size=50% tmpfs {self.fragdir}",
            self.run_args(),
            f"guest-fraggen probe --defrag never --log {self.log}",
            f"guest-fraggen probe --defrag always --log {self.log}",
            "rmmod test_frag_vmalloc",
            f"umount {self.fragdir}"])
        self.assertTrue(os.path.isdir(self.fragdir))
        self.assertLess(self.elapsed, 10)

    def test_guest_settings(self):
        self.frag_plan(fake_fraggen(self.calls))
        self.assertEqual(read(self.proactiveness), "0\n")
        self.assertEqual(read(os.path.join(self.thp, "enabled")), "madvise\n")
        self.assertEqual(read(os.path.join(self.thp, "defrag")), "madvise\n")
        # The two counters of kmem:mm_page_alloc_extfrag that guest-fraggen
        # reads: every fallback, and those that stole the pageblock.
        self.assertEqual(self.counters, [
            ("extfrag", "kmem/mm_page_alloc_extfrag", ""),
            ("steal", "kmem/mm_page_alloc_extfrag", "change_ownership == 1")])
        self.assertEqual(instance_state(self.tracefs, self.counters), {
            "extfrag": ("4", "0", "none", "1"),
            "steal": ("4", "0", "change_ownership == 1", "1")})

    def test_its_lines_pass_check_log(self):
        lines = self.frag_plan(fake_fraggen(self.calls))
        rc, out, err, res = check_log(to_console(lines, "frag"), self.tmp, ())
        self.assertEqual(rc, 0, out + err)
        self.assertEqual([b["name"] for b in res["bench"]],
                         ["frag-config"] + ["frag-sample"] * 5 +
                         ["frag-end", "frag-probe", "frag-probe"])
        self.assertEqual(res["bench"][0], {"name": "frag-config", "seed": 3, "proactiveness": 0,
                                           "mem_kb": 1000000, "ticks": 20, "sample_every": 5,
                                           "budget_kb": 750000, "max_life": 1000})

    def test_defaults_without_harness_arguments(self):
        lines = self.frag_plan(fake_fraggen(self.calls), cmdline="console=ttyS0 harness.plan=frag")
        self.assertEqual(lines[0], "harness: bench frag-config seed=1 proactiveness=20 "
                                   "mem_kb=1000000 ticks=3000 sample_every=100 budget_kb=750000 "
                                   "max_life=1000")
        self.assertEqual(len([l for l in lines if "frag-sample" in l]), 31)
        self.assertIn(self.run_args(seed=1, ticks=3000, every=100, budget=750000, life=1000),
                      self.calls_made())
        self.assertEqual(read(self.proactiveness), "20\n")
        self.assertEqual(self.errors(lines), [])

    def test_guest_fraggen_that_never_gets_ready(self):
        lines = self.frag_plan(fake_fraggen(self.calls, early="exec sleep 60"), timeout=2)
        self.assertEqual(len(lines), 3, lines)
        self.assertTrue(lines[1].startswith("harness: note guest-fraggen after 2s: State:"),
                        lines)
        self.assertEqual(lines[2], "harness: error frag: guest-fraggen did not finish, still "
                                   "running after 2s: run: started ")
        self.assertGreaterEqual(self.elapsed, 2)
        self.assertLess(self.elapsed, 20)
        self.assertNotIn("probe", read(self.calls))
        # It is killed: a console log with the error fails.
        rc, out, err, res = check_log(to_console(lines, "frag"), self.tmp, ())
        self.assertEqual(rc, 1, out)
        self.assertIn("guest error: frag: guest-fraggen did not finish, still running after 2s",
                      result_line(out))

    def test_guest_fraggen_that_exits_before_it_is_ready(self):
        early = 'echo "run: cannot open /frag/o1: Read-only file system" >&2\nexit 1'
        lines = self.frag_plan(fake_fraggen(self.calls, early=early), timeout=30)
        self.assertEqual(self.errors(lines), [
            "harness: error frag: guest-fraggen did not finish, exit status 1 (137: killed, e.g. "
            "by the OOM killer): run: started run: cannot open /frag/o1: Read-only file system "])
        self.assertLess(self.elapsed, 10, "waited for a guest-fraggen that had exited")
        self.assertNotIn("probe", read(self.calls))

    def test_failing_probe_is_an_error(self):
        probe_early = ('[ "$defrag" = always ] && { echo "probe: cannot write always to '
                       '/sys/kernel/mm/transparent_hugepage/defrag: Permission denied" >&2; '
                       'exit 1; }')
        lines = self.frag_plan(fake_fraggen(self.calls, probe_early=probe_early))
        self.assertEqual(self.errors(lines), [
            "harness: error frag: the probe with defrag always failed: probe: cannot write "
            "always to /sys/kernel/mm/transparent_hugepage/defrag: Permission denied "])
        self.assertIn("harness: bench frag-probe defrag=never tried=200 huge=50 share_pm=100 ms=9",
                      lines)
        # The run is still stopped and the module removed.
        self.assertEqual(self.calls_made()[-2:], ["rmmod test_frag_vmalloc",
                                                  f"umount {self.fragdir}"])
        rc, out, err, res = check_log(to_console(lines, "frag"), self.tmp, ())
        self.assertEqual(rc, 1, out)
        self.assertIn("guest error: frag: the probe with defrag always failed", result_line(out))
        self.assertIn("plan frag: 0 'bench frag-probe defrag=always' lines, expected 1",
                      result_line(out))

    def test_non_zero_exit_on_sigterm_is_an_error(self):
        lines = self.frag_plan(fake_fraggen(self.calls, term_status=1))
        self.assertEqual(self.errors(lines), [
            "harness: error frag: guest-fraggen exited with 1 on SIGTERM: run: started "
            "run: stopped "])
        self.assertEqual(len([l for l in lines if "frag-probe" in l]), 2)
        self.assertIn("rmmod test_frag_vmalloc", self.calls_made())

    def test_module_that_cannot_be_loaded(self):
        self.insmod(ok=False)
        lines = self.frag_plan(fake_fraggen(self.calls))
        self.assertEqual(lines, ["harness: error frag: cannot load test_frag_vmalloc.ko: "
                                 "guest-insmod: init_module /modules/test_frag_vmalloc.ko: "
                                 "Unknown symbol in module"])
        self.assertEqual(self.calls_made(), ["guest-insmod /modules/test_frag_vmalloc.ko"])

    def test_module_without_its_debugfs_file(self):
        write_exec(os.path.join(self.bin, "guest-insmod"), "#!/bin/sh\nexit 0\n")
        lines = self.frag_plan(fake_fraggen(self.calls))
        self.assertEqual(lines, [f"harness: error frag: no {self.ctl} after loading "
                                 "test_frag_vmalloc.ko"])
        self.assertEqual(self.calls_made(), [])

    def test_tmpfs_that_cannot_be_mounted(self):
        lines = self.frag_plan(fake_fraggen(self.calls), mount_status=1)
        self.assertEqual(lines, [f"harness: error frag: cannot mount a tmpfs on {self.fragdir}"])
        self.assertNotIn("guest-fraggen", read(self.calls))

    def test_guest_settings_that_cannot_be_made(self):
        shutil.rmtree(self.thp)
        lines = self.frag_plan(fake_fraggen(self.calls))
        self.assertEqual(lines, ["harness: error frag: cannot set THP enabled and defrag to "
                                 "madvise (CONFIG_TRANSPARENT_HUGEPAGE?)"])
        shutil.rmtree(os.path.dirname(self.proactiveness))
        write(self.log, "")
        lines = self.frag_plan(fake_fraggen(self.calls))
        self.assertEqual(lines, ["harness: error frag: cannot set vm.compaction_proactiveness "
                                 "to 0"])
        self.assertEqual(self.calls_made(), [])

    def test_kernel_without_the_tracepoint(self):
        shutil.rmtree(self.tracefs)
        fake_tracefs(self.tracefs, self.counters, missing=("kmem/mm_page_alloc_extfrag",))
        lines = self.frag_plan(fake_fraggen(self.calls))
        self.assertEqual(lines, ["harness: error frag: no tracepoint kmem/mm_page_alloc_extfrag "
                                 "(needs CONFIG_FTRACE)"])
        self.assertEqual(self.calls_made(), [])


class TraceCountersTest(GuestPlanCase):
    """trace_counters_start, trace_counts and trace_counts_reset with the
    counters of the pcp and wakeups plans (which had their own copies)."""

    def run_counters(self, plan, name, script):
        return self.sh(self.stubs() + guest_variable(name) + self.trace_functions() +
                       script.format(plan=plan, name=name))

    def test_counters_of_the_plans(self):
        self.assertEqual([c[0] for c in counters("PCP_COUNTERS")],
                         ["drain0", "drain1", "drain2", "drain3", "drain9", "take0"])
        self.assertEqual([c[0] for c in counters("WAKE_COUNTERS")],
                         ["hi_calls", "hi_fails", "kswapd_wake", "kcompactd_wake"])

    def test_instances_counts_and_reset(self):
        for plan, name in (("pcp", "PCP_COUNTERS"), ("wakeups", "WAKE_COUNTERS")):
            with self.subTest(plan=plan):
                shutil.rmtree(self.tracefs, ignore_errors=True)
                cl = counters(name)
                fake_tracefs(self.tracefs, cl)
                # The events each instance saw, as its trace file's header says.
                script = "trace_counters_start {plan} \"${name}\" || echo start failed\n"
                for i, (c, _, _) in enumerate(cl):
                    script += write_trace_header(f"$TRACEFS/instances/{c}/trace", 10 + i)
                script += ('echo "counts: $(trace_counts "${name}")"\n'
                           'trace_counts_reset "${name}"\n'
                           'echo "after reset: $(trace_counts "${name}")"\n')
                proc, lines = self.run_counters(plan, name, script)
                self.assertEqual(lines, [])
                self.assertEqual(proc.stdout.splitlines(), [
                    "counts: " + "".join(f"{c}={10 + i} " for i, (c, _, _) in enumerate(cl)),
                    "after reset: " + "".join(f"{c}=? " for c, _, _ in cl)])
                state = instance_state(self.tracefs, cl)
                self.assertEqual(state, {c: ("4", "0", f or "none", "1") for c, _, f in cl})
                for c, _, _ in cl:
                    self.assertEqual(read(os.path.join(self.tracefs, "instances", c, "trace")),
                                     "\n")
                if plan == "wakeups":
                    self.assertEqual(state["hi_fails"][2], "order > 0 && pfn > 0xffffffff")

    def test_pcp_filters_by_order(self):
        cl = counters("PCP_COUNTERS")
        fake_tracefs(self.tracefs, cl)
        self.run_counters("pcp", "PCP_COUNTERS", 'trace_counters_start {plan} "${name}"\n')
        state = instance_state(self.tracefs, cl)
        self.assertEqual({c: s[2] for c, s in state.items()},
                         {"drain0": "order == 0", "drain1": "order == 1", "drain2": "order == 2",
                          "drain3": "order == 3", "drain9": "order == 9", "take0": "order == 0"})
        self.assertEqual(dict((c, ev) for c, ev, _ in cl)["take0"],
                         "kmem/mm_page_alloc_zone_locked")

    def test_missing_tracepoint(self):
        cl = counters("WAKE_COUNTERS")
        fake_tracefs(self.tracefs, cl, missing=("vmscan/mm_vmscan_wakeup_kswapd",))
        proc, lines = self.run_counters("wakeups", "WAKE_COUNTERS",
                                        'trace_counters_start {plan} "${name}"; echo "rc=$?"\n')
        self.assertEqual(proc.stdout, "rc=1\n")
        self.assertEqual(lines, ["harness: error wakeups: no tracepoint "
                                 "vmscan/mm_vmscan_wakeup_kswapd (needs CONFIG_FTRACE)"])
        # The counters before it were set up, none after it.
        state = instance_state(self.tracefs, cl)
        self.assertEqual(state["hi_fails"][3], "1")
        self.assertEqual(state["kcompactd_wake"][3], "0")

    def test_instance_that_cannot_be_set_up(self):
        cl = counters("PCP_COUNTERS")
        fake_tracefs(self.tracefs, cl)
        shutil.rmtree(os.path.join(self.tracefs, "instances", "drain2", "events"))
        proc, lines = self.run_counters("pcp", "PCP_COUNTERS",
                                        'trace_counters_start {plan} "${name}"; echo "rc=$?"\n')
        self.assertEqual(proc.stdout, "rc=1\n")
        self.assertEqual(lines, ["harness: error pcp: cannot set up the tracefs instance drain2"])


# /proc/zoneinfo of a guest whose largest zone is Normal, two CPUs.
ZONEINFO = """Node 0, zone      DMA
  pages free     3000
        managed  3840
  pagesets
    cpu: 0
              count:    0
              high:     0
              batch:    1
              high_min: 0
              high_max: 0
  vm stats threshold: 4
Node 0, zone   Normal
  pages free     100000
        managed  240000
  pagesets
    cpu: 0
              count:    120
              high:     900
              batch:    63
              high_min: 378
              high_max: 1512
  vm stats threshold: 24
    cpu: 1
              count:    30
              high:     800
              batch:    63
              high_min: 378
              high_max: 1512
  vm stats threshold: 24
"""
BUDDYINFO = ("Node 0, zone      DMA      1      1      0      1      1      1      1      0      1"
             "      0      0\n"
             "Node 0, zone   Normal   8000   4000    500     10      2      1      0      0      0"
             "      0      0\n")


class PlanCountsTest(GuestPlanCase):
    """pcp_plan and wakeups_plan with stubs for what needs a kernel: each
    row (a stub of vmalloc_row) makes its tracefs instances count events,
    and the plan's "bench" line carries the counts."""

    def vmalloc_row_stub(self, cl):
        """A vmalloc_row whose row N makes counter I of CL count 100 N + I events."""
        body = "".join("\t" + write_trace_header(f"$TRACEFS/instances/{c}/trace",
                                                   f"$((row_n * 100 + {i}))")
                       for i, (c, _, _) in enumerate(cl))
        return ("row_n=0\nvmalloc_row() {\n\tlog \"vmalloc-row $1\"\n"
                "\trow_n=$((row_n + 1))\n" + body + "}\n")

    def test_pcp_plan(self):
        cl = counters("PCP_COUNTERS")
        fake_tracefs(self.tracefs, cl)
        zoneinfo = os.path.join(self.tmp, "zoneinfo")
        rows = os.path.join(self.tmp, "bench-rows")
        write(zoneinfo, ZONEINFO)
        write(rows, f"{test_pcp.ROW_A}|run_test_mask=1 nr_pages=4 test_loop_count=10 "
                    f"nr_threads=2\n\n{test_pcp.ROW_B}|run_test_mask=8 nr_pages=1 "
                    "test_loop_count=20 nr_threads=2\n")
        subst = (("/proc/zoneinfo", zoneinfo), ("/bench-rows", rows), ("/tmp/", self.t))
        script = (self.stubs("ncpu=2\nsettle() { :; }\n") + guest_variable("PCP_COUNTERS") +
                  self.arg("harness.plan=pcp harness.pcp_settle=0") + self.trace_functions() +
                  self.vmalloc_row_stub(cl) +
                  "".join(guest_function(f, subst) for f in ("pcp_zone", "pcp_sample",
                                                             "pcp_plan")) + "pcp_plan\n")
        proc, lines = self.sh(script)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        counts = lambda n: " ".join(f"{c}={100 * n + i}" for i, (c, _, _) in enumerate(cl))
        self.assertEqual(lines, [
            "harness: bench pcp_zone zone=Normal batch=63 high_min=378 high_max=1512 ",
            f"harness: vmalloc-row {test_pcp.ROW_A}",
            f"harness: bench pcp row=fix_size_p:4_l:10_t:2 zone=Normal {counts(1)} "
            "high_low=800 count_high=120 high_start=1700 high_end=1700 count_end=150 samples=0",
            f"harness: vmalloc-row {test_pcp.ROW_B}",
            f"harness: bench pcp row=random_size_p:1_l:20_t:2 zone=Normal {counts(2)} "
            "high_low=800 count_high=120 high_start=1700 high_end=1700 count_end=150 samples=0"])
        # The lines pass check-log.py in a pcp boot's log (tests/test_pcp.py's).
        text = test_pcp.console_log([(test_pcp.ROW_A, f"[    2.900000] {lines[2]}\n"),
                                     (test_pcp.ROW_B, f"[    3.900000] {lines[4]}\n")])
        rc, out, err, res = check_log(text, self.tmp)
        self.assertEqual(rc, 0, out + err)
        pcp = [b for b in res["bench"] if b["name"] == "pcp"]
        self.assertEqual([(b["drain0"], b["drain9"], b["take0"]) for b in pcp],
                         [(100, 104, 105), (200, 204, 205)])

    def test_wakeups_plan(self):
        cl = counters("WAKE_COUNTERS")
        fake_tracefs(self.tracefs, cl)
        keys = guest_variable("WAKE_VMSTAT_KEYS").split('"')[1].split()
        vmstat = os.path.join(self.tmp, "vmstat")
        buddyinfo = os.path.join(self.tmp, "buddyinfo")
        rows = os.path.join(self.tmp, "bench-rows")
        write(vmstat, "nr_free_pages 100000\n" + "".join(f"{k} {10 * i}\n"
                                                          for i, k in enumerate(keys)))
        write(buddyinfo, BUDDYINFO)
        write(rows, f"{test_wakeups.ROW_A}|run_test_mask=1 nr_pages=512 test_loop_count=200 "
                    "nr_threads=2\n")
        # Each row moves every counter of /proc/vmstat by 7.
        grow = (f"\tawk '{{ print $1, $2 + 7 }}' {vmstat} > {vmstat}.new && "
                f"mv {vmstat}.new {vmstat}\n")
        stubs = self.stubs(
            "ncpu=2 loops=1000\nsettle() { :; }\n"
            'fragment() { sleep 30 >/dev/null 2>&1 & fpid=$!; }\n'
            "dmesg() { echo '[    3.5] Summary: fix_size_alloc_test passed: 1 failed: 0 "
            "repeat: 1 loops: 200 avg: 90000 usec'; }\n")
        subst = (("/proc/vmstat", vmstat), ("/proc/buddyinfo", buddyinfo), ("/bench-rows", rows),
                 ("/tmp/", self.t))
        script = (stubs + guest_variable("WAKE_COUNTERS") + guest_variable("WAKE_VMSTAT_KEYS") +
                  self.arg("harness.plan=wakeups") + self.trace_functions() +
                  self.vmalloc_row_stub(cl).replace("\trow_n=$((row_n + 1))\n",
                                                    "\trow_n=$((row_n + 1))\n" + grow) +
                  "".join(guest_function(f, subst) for f in ("vmstat_diff", "wakeups_plan")) +
                  "wakeups_plan\n")
        proc, lines = self.sh(script)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual([l for l in lines if l.startswith("harness: error")], [])
        wake = [l for l in lines if l.startswith("harness: bench wakeups ")]
        # Row 2 (the warm-up is row 1): the tracefs counts, then the vmstat deltas.
        counts = " ".join(f"{c}={200 + i}" for i, (c, _, _) in enumerate(cl))
        deltas = " ".join(f"{k}=7" for k in keys)
        self.assertEqual(wake, [f"harness: bench wakeups row=fix_size_p:512_l:200_t:2 {counts} "
                                f"{deltas} avg_us=90000 vmallocs=400"])
        # The line passes check-log.py in a wakeups boot's log (tests/test_wakeups.py's).
        text = test_wakeups.console_log([(test_wakeups.ROW_A, f"[    4.900000] {wake[0]}\n")])
        rc, out, err, res = check_log(text, self.tmp)
        self.assertEqual(rc, 0, out + err)
        b = [b for b in res["bench"] if b["name"] == "wakeups"][0]
        self.assertEqual((b["hi_calls"], b["hi_fails"], b["kswapd_wake"], b["kcompactd_wake"]),
                         (200, 201, 202, 203))


if __name__ == "__main__":
    unittest.main()

"""Tests of scripts/check-log.py on the console logs in tests/logs/, and of the
guest side of its protocol (scripts/guest-init.sh, scripts/initramfs.sh).

Run from the repo root: python3 -m unittest tests.test_check_log -v
KUnit output is parsed by the kernel tree's kunit.py; the tree is taken from
$KERNEL_TREE (default: <repo>/build/$BASE/linux, BASE 7.3 by default).  No test is skipped: a test that
needs the tree fails when it is absent ("run `make base` first").

tests/logs/ holds hand-made logs (each failing one fails for the reason named
in FAILING) and, once recorded, real logs of guest runs: recorded_<plan>.log
(see RecordedLogs), which must pass with exact expectations.
"""
import gzip
import importlib.util
import itertools
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

# What the tests of the studies share: runs of check-log.py --json (tests/ is
# on sys.path when run by tests/run; added here for
# python3 -m unittest tests.test_check_log).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report_helpers import result_line, run_json  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "scripts", "check-log.py")
GUEST_INIT = os.path.join(REPO, "scripts", "guest-init.sh")
INITRAMFS = os.path.join(REPO, "scripts", "initramfs.sh")
LOGS = os.path.join(REPO, "tests", "logs")
TREE = os.environ.get("KERNEL_TREE", os.path.join(REPO, "build", os.environ.get("BASE", "7.3"), "linux"))
KUNIT_PY = os.path.join(TREE, "tools", "testing", "kunit", "kunit.py")
BUSYBOX = "/bin/busybox"        # busybox-static, as the guest's (initramfs.sh)

SUITE = "page_alloc_batch"      # patches/0005: the series' KUnit suite
EXPECT_KUNIT = ("--expect-kunit", SUITE)
# Its KTAP case names: 12 KUNIT_CASEs, the first parameterised by order
# (KUNIT_ARRAY_PARAM with descriptions "order %u" of 1, 3, 9 and
# MAX_PAGE_ORDER, 10 on x86_64), so 15 leaves.
SUITE_CASES = sorted(
    [f"{SUITE}.free_contig_range_whole_block.order {o}" for o in (1, 3, 9, 10)] +
    [f"{SUITE}.{c}" for c in (
        "free_contig_range_unaligned", "free_contig_range_extra_ref", "free_pages_bulk_arrays",
        "free_pages_bulk_zone_boundary", "vfree_contiguous_area", "vfree_restores_nr_pages",
        "alloc_contig_round_trip", "cma_release_batched", "cma_excess_returned",
        "free_contig_range_init_on_free", "free_random_rounds")])
# test_vmalloc.ko's cases (lib/test_vmalloc.c + patches/0001), by id.
VMALLOC_CASES = [(1, "fix_size_alloc_test"), (2, "full_fit_alloc_test"),
                 (4, "long_busy_list_alloc_test"), (8, "random_size_alloc_test"),
                 (16, "fix_align_alloc_test"), (32, "random_size_align_alloc_test"),
                 (64, "align_shift_alloc_test"), (128, "pcpu_alloc_test"),
                 (256, "kvfree_rcu_1_arg_vmalloc_test"), (512, "kvfree_rcu_2_arg_vmalloc_test"),
                 (1024, "vm_map_ram_test"), (2048, "contig_free_test")]
# The smoke and stress rows: every case but align_shift_alloc_test (id 64).
SMOKE_CASES = [name for i, name in VMALLOC_CASES if i != 64]
SMOKE_MASK = 0x7fffffff & ~64


def run(log, *args, tree=TREE):
    """Run check-log.py; return (exit code, stdout, stderr, json result)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [sys.executable, SCRIPT]
        if tree is not None:
            cmd += ["--kernel-tree", tree]
        path = log if os.path.isabs(log) else os.path.join(LOGS, log)
        return run_json(cmd + ["--json", out, *args, path], out, timeout=300)


def load_script():
    spec = importlib.util.spec_from_file_location("check_log", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class NeedsTree(unittest.TestCase):
    """Tests that parse KTAP with the tree's kunit.py: they fail, never skip,
    without it."""

    def setUp(self):
        if not os.path.isfile(KUNIT_PY):
            self.fail(f"no kernel tree at {TREE} (no {KUNIT_PY}): run `make base` first "
                      "(or set KERNEL_TREE)")


# log -> substrings that must appear in the "result:" line of a failing run
# (check-log.py without --expect-* options: each fails on its own).
FAILING = {
    "panic.log": ["Kernel panic", "Oops", "BUG", "row smoke t:2 l:1000 produced no result",
                  "log truncated: no 'harness: done' marker"],
    "warning.log": ["kernel reports: WARNING"],
    "bad_page.log": ["Bad page", "page_owner"],
    "kasan.log": ["kernel reports: KASAN"],
    "lockdep.log": ["kernel reports: lockdep"],
    "call_trace.log": ["kernel reports: Call Trace"],
    "kunit_fail.log": [f"KUnit: 1 failed, 0 crashed: {SUITE}.free_contig_range_unaligned"],
    "kunit_crash.log": ["KUnit: 0 failed, 10 crashed", "no 'harness: start' marker",
                        "kernel reports: list corruption, kernel BUG, Oops, Kernel panic",
                        "log truncated"],
    "vmalloc_failed.log": ["test_vmalloc row fix_size p:512 h:1 l:100000: fix_size_alloc_test"],
    "vmalloc_noresult.log": ["row full_fit l:100000 produced no result"],
    "truncated.log": ["log truncated: no 'harness: done' marker",
                      "row random_size l:100000 produced no result"],
    "stress_faults_notest.log": ["faults phase: no test_vmalloc test ran in 3 tries"],
    "pressure_highorder.log": [
        "pressure: 4 free order-9 units before the run (DMA 2, DMA32 2), 1 of them out of reach"],
    "pressure_no_buddyinfo.log": ["pressure: no buddyinfo before the run"],
    # The free pages of a CI run whose fragmenting background compaction had
    # undone; its direct reclaim (the fallback's, not the attempts') failed
    # the phase for the wrong reason. The premise now fails it.
    "pressure_low_free.log": [
        "pressure: 2500 free pages before the run, fewer than 4096: the order-0 fallback"],
    "insmod_error.log": ["guest error: insmod test_vmalloc.ko", "invalid module format",
                         "row smoke t:2 l:1000 produced no result"],
    # Each of the following passed check-log.py before the per-plan and
    # per-row requirements (it had no reason to fail them).
    # -- "done" alone does not pass: what each plan must have logged.
    "smoke_no_row.log": ["plan smoke: 0 'smoke ...' rows, expected 1"],
    "bench_no_rows.log": ["plan bench: no test_vmalloc row"],
    "unknown_plan.log": ["unknown plan 'benchmark' (known: smoke, bench, stress, pressure, boot, pcp, latency, wakeups, frag)"],
    "stress_no_warmup.log": ["plan stress: 0 'warmup ...' rows, expected 1"],
    "stress_no_stress_row.log": ["plan stress: 0 'stress ...' rows, expected 1"],
    "stress_no_faults_row.log": [
        "plan stress: no 'faults ...' row (the fault-injection phase did not run)"],
    "stress_no_leak_stress.log": ["plan stress: no leak line for phase stress"],
    "stress_no_leak_faults.log": ["plan stress: no leak line for phase faults"],
    "stress_no_cma.log": ["plan stress: no 'bench cma_alloc_release' line"],
    "stress_cma_zero.log": ["plan stress: bench cma_alloc_release rounds=0: no CMA rounds"],
    "stress_no_window.log": ["plan stress: 0 expect-alloc-failures begin/end windows, expected 1"],
    "stress_window_open.log": ["bad marker: expect-alloc-failures begin without end"],
    "stress_no_injected.log": ["plan stress: no 'bench fail_page_alloc' line"],
    "stress_injected_zero.log": ["plan stress: bench fail_page_alloc injected=0: no injected faults"],
    # The guest init before this change, on a kernel without fail_page_alloc:
    # the faults phase left out without a word.
    "stress_faults_skipped.log": ["plan stress: no 'faults ...' row",
                                  "plan stress: no leak line for phase faults",
                                  "plan stress: 0 expect-alloc-failures begin/end windows",
                                  "plan stress: no 'bench fail_page_alloc' line"],
    "pressure_no_vmstat.log": ["plan pressure: no vmstat line"],
    "pressure_no_fragmentation.log": ["plan pressure: no 'bench fragmentation' line"],
    "pressure_no_row.log": ["plan pressure: no 'pressure ...' row"],
    "pressure_nothing.log": ["pressure: no buddyinfo before the run",
                             "plan pressure: no 'pressure ...' row",
                             "plan pressure: no vmstat line",
                             "plan pressure: no 'bench fragmentation' line"],
    # -- traced entries into direct compaction/reclaim (7.x): one from inside
    #    vmalloc() fails, and so do counters the entries cannot explain
    "pressure_direct_vmalloc.log": [
        "phase pressure: 2 direct compaction/reclaim entries from inside vmalloc() in "
        "test_vmalloc, first: "
        "compaction by vmalloc_test/0-85 order 9"],
    "pressure_direct_unattributed.log": [
        "phase pressure: direct compaction/reclaim not attributed: compact_stall +1 with 0 "
        "traced direct compactions"],
    "pressure_direct_overrun.log": [
        "phase pressure: direct compaction/reclaim not attributed: compact_stall +1; the trace "
        "kept 2 of 9 entries"],
    "pressure_direct_short.log": [
        "phase pressure: direct-summary says 2 entries logged, the log has 0"],
    # one traced reclaim explains at most 4 allocstalls (do_try_to_free_pages()
    # counts each of its 3 retries)
    "pressure_direct_allocstall.log": [
        "phase pressure: direct compaction/reclaim not attributed: allocstall +5, "
        "pgscan_direct +0 with 1 traced direct reclaims"],
    # -- a missing vmstat key is not a zero
    "pressure_vmstat_missing_key.log": [
        "phase pressure: no allocstall_movable counter in the vmstat line"],
    # -- rows print the number of Summary lines their parameters select
    "row_count_short.log": [
        "row smoke t:2 l:1000: 21 Summary lines, expected 22 (11 test cases x 2 threads)"],
    "row_no_expect.log": ["row smoke t:2 l:1000: no vmalloc-expect marker"],
    "smoke_worker_not_started.log": [
        "test_vmalloc row smoke t:2 l:1000: fix_size_alloc_test (worker1) ran 0 of 1 repeats "
        "(and 10 more Summary lines like it)"],
    # -- in the fault window, only an expected report's own trace is dropped
    "stress_trace_in_window.log": ["kernel reports: Call Trace"],
    "stress_second_trace.log": ["kernel reports: Call Trace"],
}


class PassingLogs(NeedsTree):
    def test_pass_smoke(self):
        rc, out, err, res = run("pass_smoke.log", *EXPECT_KUNIT, "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("log: ", out)
        self.assertIn("variant=series plan=smoke", out)
        self.assertIn(f"kunit: 14 passed, 0 failed, 1 skipped, 0 crashed (suites: {SUITE})", out)
        self.assertIn("row smoke t:2 l:1000: 22 test runs, 22000 loop iterations, 0 failed, "
                      "22 Summary lines (expected 22)", out)
        self.assertIn("bench: contig_free order=9 loops=1000 usec=12345", out)
        self.assertIn("kernel reports: none", out)
        self.assertEqual(result_line(out), "result: PASS")
        self.assertEqual(err, "")

    def test_pass_smoke_json(self):
        rc, out, err, res = run("pass_smoke.log", *EXPECT_KUNIT, "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertIs(res["pass"], True)
        self.assertEqual((res["variant"], res["plan"]), ("series", "smoke"))
        self.assertEqual({k: res["kunit"][k] for k in ("passed", "failed", "skipped", "crashed")},
                         {"passed": 14, "failed": 0, "skipped": 1, "crashed": 0})
        self.assertEqual(res["kunit"]["suites"], [SUITE])
        self.assertEqual(sorted(c["name"] for c in res["kunit"]["cases"]), SUITE_CASES)
        self.assertIn({"name": f"{SUITE}.free_pages_bulk_zone_boundary", "status": "skipped"},
                      res["kunit"]["cases"])
        vm = res["vmalloc"]
        self.assertEqual(len(vm), 22)           # 11 test cases x 2 workers
        self.assertEqual({v["row"] for v in vm}, {"smoke t:2 l:1000"})
        self.assertEqual(vm[0], {"row": "smoke t:2 l:1000", "test": "fix_size_alloc_test",
                                 "worker": 0, "passed": 1, "failed": 0, "xfailed": 0, "repeat": 1,
                                 "loops": 1000, "avg_us": 352})
        self.assertEqual((vm[11]["worker"], vm[11]["test"], vm[11]["avg_us"]),
                         (1, "fix_size_alloc_test", 365))
        self.assertEqual(sorted((v["worker"], v["test"]) for v in vm),
                         sorted(itertools.product((0, 1), SMOKE_CASES)))
        self.assertEqual(res["rows"], [{"label": "smoke t:2 l:1000", "line": 53, "expected": 22,
                                        "tests": 11, "threads": 2, "summaries": 22,
                                        "faults": False}])
        self.assertEqual(res["bench"], [{"name": "contig_free", "order": 9,
                                         "loops": 1000, "usec": 12345}])
        self.assertEqual(res["reports"], [])

    def test_pass_log_contains_false_positive_bait(self):
        # Guards the intent of the pass log: these normal lines must not fail it.
        with open(os.path.join(LOGS, "pass_smoke.log"), "rb") as f:
            raw = f.read()
        self.assertIn(b"\r\n", raw)             # recorded with CRLF like ttyS0
        for bait in (b"panic=-1 oops=panic", b"RETBleed: WARNING: Spectre v2",
                     b"page_owner is disabled"):
            self.assertIn(bait, raw)

    def test_hand_made_logs_name_the_real_suite(self):
        # Every KTAP suite and case of the hand-made logs is the series' own
        # (or, in kunit_other_suite.log, the kernel's KUnit example suite).
        real = {SUITE, "example", "example_simple_test"} | \
            {c.split(".")[1] for c in SUITE_CASES} | {f"order {o}" for o in (1, 3, 9, 10)}
        for name in sorted(os.listdir(LOGS)):
            if not name.endswith(".log") or name.startswith("recorded_"):
                continue
            with open(os.path.join(LOGS, name), encoding="utf-8", errors="replace") as f:
                text = f.read()
            for m in re.finditer(r"\] +(?:# Subtest: |(?:not )?ok \d+ )([^#\r\n]*?)\s*(?:#.*)?$",
                                 text, re.M):
                with self.subTest(log=name, name=m.group(1)):
                    self.assertIn(m.group(1), real)

    def test_base_vmalloc_rows(self):
        rc, out, err, res = run("base_vmalloc.log", "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("variant=base plan=bench", out)  # start marker is interleaved
        self.assertIn("kunit: 0 passed, 0 failed, 0 skipped, 0 crashed (suites: none)", out)
        self.assertEqual([(v["row"], v["test"], v["avg_us"]) for v in res["vmalloc"]], [
            ("fix_size p:1 l:100000", "fix_size_alloc_test", 31245),
            ("fix_size p:512 h:1 l:100000", "fix_size_alloc_test", 94812),
            ("full_fit l:100000", "full_fit_alloc_test", 42067),
            ("vm_map_ram l:100000", "vm_map_ram_test", 34391)])
        self.assertEqual([(r["label"], r["expected"], r["summaries"]) for r in res["rows"]], [
            ("fix_size p:1 l:100000", 1, 1), ("fix_size p:512 h:1 l:100000", 1, 1),
            ("full_fit l:100000", 1, 1), ("vm_map_ram l:100000", 1, 1)])
        self.assertRegex(out, r"fix_size p:512 h:1 l:100000 +fix_size_alloc_test +"
                              r"passed 1 failed 0 avg 94812 usec")

    def test_bench_lines(self):
        rc, out, err, res = run("bench.log", "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(res["bench"], [
            {"name": "contig_free", "order": 9, "loops": 1000, "usec": 12345},
            {"name": "contig_free", "order": 10, "loops": 500, "usec": 13001,
             "ratio": 1.07, "mode": "batched"}])
        self.assertIn("bench: contig_free order=10 loops=500 usec=13001 ratio=1.07 mode=batched", out)

    def test_boot_plan_needs_nothing_more(self):
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "console.log")
            with open(log, "w") as f:
                f.write("[    1.000000] harness: start variant=v plan=boot\n"
                        "[    1.100000] harness: done\n")
            rc, out, err, res = run(log)
            self.assertEqual(rc, 0, out + err)


class ExpectKunit(NeedsTree):
    """--expect-kunit SUITE: that suite, with a passed case."""

    def test_expect_kunit_names_a_suite(self):
        # The bare flag of before is a usage error, wherever it stands.
        rc, out, err, res = run("pass_smoke.log", "--expect-kunit", "--expect-vmalloc")
        self.assertEqual(rc, 2)
        self.assertIn("argument --expect-kunit: expected one argument", err)
        rc, out, err, res = run("pass_smoke.log", "--expect-kunit")    # the log taken as SUITE
        self.assertEqual(rc, 2)
        self.assertIn("the following arguments are required: CONSOLE.log", err)

    def test_all_cases_skipped_fails(self):
        rc, out, err, res = run("kunit_all_skipped.log", *EXPECT_KUNIT)
        self.assertEqual(rc, 1, out + err)
        self.assertIn(f"KUnit: suite {SUITE} has no passed case (15 skipped of 15)",
                      result_line(out))
        self.assertEqual(res["kunit"]["skipped"], 15)
        # Without the expectation, skipped cases are no failure.
        self.assertEqual(run("kunit_all_skipped.log")[0], 0)

    def test_other_suite_only_fails(self):
        rc, out, err, res = run("kunit_other_suite.log", *EXPECT_KUNIT)
        self.assertEqual(rc, 1, out + err)
        self.assertIn(f"KUnit: no suite {SUITE} ran (suites: example)", result_line(out))
        rc, out, err, res = run("kunit_other_suite.log", "--expect-kunit", "example")
        self.assertEqual(rc, 0, out + err)

    def test_no_suite_at_all_fails(self):
        rc, out, err, res = run("base_vmalloc.log", *EXPECT_KUNIT)
        self.assertEqual(rc, 1)
        self.assertIn(f"KUnit: no suite {SUITE} ran (suites: none)", result_line(out))

    def test_failed_case_fails_with_the_suite_present(self):
        rc, out, err, res = run("kunit_fail.log", *EXPECT_KUNIT)
        self.assertEqual(rc, 1)
        self.assertNotIn("no passed case", result_line(out))
        self.assertIn("KUnit: 1 failed", result_line(out))

    def test_stress_pass_has_the_suite(self):
        rc, out, err, res = run("stress_pass.log", *EXPECT_KUNIT, "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)


class FailingLogs(NeedsTree):
    def test_every_failure_log_fails_for_its_reason(self):
        for log, reasons in FAILING.items():
            with self.subTest(log=log):
                rc, out, err, res = run(log)
                self.assertEqual(rc, 1, out + err)
                self.assertTrue(result_line(out).startswith("result: FAIL ("))
                for reason in reasons:
                    self.assertIn(reason, result_line(out))
                self.assertIs(res["pass"], False)

    def test_every_hand_made_log_is_tested(self):
        tested = set(FAILING) | {
            "pass_smoke.log", "base_vmalloc.log", "bench.log", "stress_pass.log",
            "stress_leak.log", "stress_slab_held.log", "stress_slab_partly.log",
            "stress_unexpected_failure.log", "pressure_pass.log", "pressure_untaken.log",
            "pressure_compaction.log", "pressure_no_compaction.log", "pressure_direct_other.log",
            "kunit_all_skipped.log",
            "kunit_other_suite.log"}
        logs = {n for n in os.listdir(LOGS) if n.endswith(".log") and not n.startswith("recorded_")}
        self.assertEqual(logs - tested, set())

    def test_stress_pass_with_expected_faults(self):
        rc, out, err, res = run("stress_pass.log", "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(res["expected_alloc_failures"], 1)
        self.assertEqual([lk["phase"] for lk in res["leaks"]], ["stress", "faults"])
        self.assertEqual(res["reports"], [])
        self.assertEqual([(r["label"], r["expected"], r["summaries"], r["faults"])
                          for r in res["rows"]],
                         [("warmup t:2 l:1000 r:3", 22, 22, False),
                          ("stress t:2 l:1000 r:3", 22, 22, False),
                          ("faults t:2 l:1000 p:2%", 22, 22, True)])
        # The faults row may fail; its failures are recorded, not fatal.
        self.assertTrue(any(v["row"].startswith("faults") and v["failed"] == 1
                            for v in res["vmalloc"]))

    def test_stress_leak_fails(self):
        rc, out, err, res = run("stress_leak.log", "--expect-vmalloc")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("leak: phase stress lost 5000 free pages", result_line(out))
        self.assertIn("VmallocUsed 4679 kB higher", result_line(out))

    def test_pressure_untaken_blocks_pass(self):
        # Blocks that huge page faults could not take are out of vmalloc's
        # reach as well: the premise holds.
        rc, out, err, res = run("pressure_untaken.log", "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertIn({"name": "fragmentation", "order0_free_pages": 9000,
                       "higher_order_free_pages": 1500, "untaken_order9_units": 1},
                      res["bench"])

    def test_pressure_pass(self):
        rc, out, err, res = run("pressure_pass.log", "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(res["vmstat"][0]["phase"], "pressure")
        self.assertEqual(res["vmstat"][0]["compact_stall"], 0)
        self.assertEqual(res["vmstat"][0]["compact_daemon_wake"], 1)  # reported, not fatal
        self.assertIn("vmstat: phase pressure: compact_stall +0", out)
        self.assertIn({"name": "fragmentation", "order0_free_pages": 9000,
                       "higher_order_free_pages": 1500, "untaken_order9_units": 0},
                      res["bench"])
        self.assertEqual([(r["label"], r["expected"], r["summaries"]) for r in res["rows"]],
                         [("pressure-warmup t:2 p:511 l:200", 4, 4),
                          ("pressure t:2 p:512 l:200", 4, 4)])

    def test_pressure_direct_compaction_elsewhere_passes(self):
        # compact_stall +2, explained by traced entries outside test_vmalloc's
        # vmalloc(): a slab allocation, and the module's own loading (execmem's
        # huge-page vmalloc, as seen on 7.3).
        rc, out, err, res = run("pressure_direct_other.log", "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("direct: phase pressure: not from test_vmalloc's vmalloc() (allowed): "
                      "compaction by kworker/u8:1-45 order 3", out)
        self.assertIn("direct: phase pressure: not from test_vmalloc's vmalloc() (allowed): "
                      "compaction by guest-insmod-382 order 9", out)
        self.assertEqual(res["direct_summary"], [{"phase": "pressure", "events": 2, "logged": 2,
                                                  "entries": 4, "written": 4}])
        self.assertEqual(res["direct"][0]["stack"][-2:], ["___slab_alloc", "kthread"])
        self.assertEqual(res["direct"][1]["stack"][-1], "execmem_alloc")

    def test_pressure_direct_compaction_fails(self):
        rc, out, err, res = run("pressure_compaction.log", "--expect-vmalloc")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("phase pressure: direct compaction/reclaim: compact_stall +12, "
                      "allocstall_normal +3", result_line(out))

    def test_pressure_without_compaction_counters_fails(self):
        rc, out, err, res = run("pressure_no_compaction.log", "--expect-vmalloc")
        self.assertEqual(rc, 1, out + err)
        for key in ("compact_stall", "compact_fail", "compact_success"):
            self.assertEqual(f"no {key} counter" in result_line(out), key == "compact_stall")
        self.assertIn("no compact_stall counter in the vmstat line (kernel without "
                      "CONFIG_COMPACTION?)", result_line(out))

    def test_pages_held_by_slab_are_not_lost(self):
        # 1372 pages fewer free, 1400 more held by slab & co (KASAN quarantine).
        rc, out, err, res = run("stress_slab_held.log", "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("slab/percpu/page tables/stacks 60000 -> 65600 kB", out)

    def test_pages_partly_held_by_slab_still_leak(self):
        # 1372 pages fewer free, only 500 of them held by slab & co.
        rc, out, err, res = run("stress_slab_partly.log", "--expect-vmalloc")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("leak: phase stress lost 1372 free pages, 500 of them held by "
                      "slab/percpu/page tables (unexplained 872, tolerance 512)", result_line(out))

    def test_alloc_failure_outside_fault_window_fails(self):
        rc, out, err, res = run("stress_unexpected_failure.log", "--expect-vmalloc")
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(result_line(out), "result: FAIL (kernel reports: allocation failure)")
        self.assertEqual(len(res["reports"]), 1)

    def test_unexplained_traces_in_fault_window(self):
        rc, out, err, res = run("stress_trace_in_window.log")
        self.assertEqual([(r["kind"], r["text"]) for r in res["reports"]],
                         [("Call Trace", "Call Trace:")])
        self.assertEqual(res["expected_alloc_failures"], 0)
        # The expected report's own trace is dropped, the bare one after it is not.
        rc, out, err, res = run("stress_second_trace.log")
        self.assertEqual(res["expected_alloc_failures"], 1)
        self.assertEqual(len(res["reports"]), 1)
        self.assertIn("[Call Trace] Call Trace:", err)

    def test_panic_details(self):
        rc, out, err, res = run("panic.log")
        self.assertIn("line 54: [BUG] BUG: unable to handle page fault", err)
        self.assertIn("line 58: [Oops] Oops: Oops: 0002 [#1]", err)
        self.assertIn("line 85: [Kernel panic] Kernel panic - not syncing: Fatal exception", err)
        self.assertIn("context after line 54:", err)
        self.assertIn("   64| [    1.416578] RAX:", err)     # 10 lines of context
        self.assertNotIn("   65| [    1.416901] RDX:", err)
        self.assertEqual([r["kind"] for r in res["reports"]], ["BUG", "Oops", "Kernel panic"])

    def test_warning_call_trace_belongs_to_report(self):
        rc, out, err, res = run("warning.log")
        self.assertEqual([(r["line"], r["kind"]) for r in res["reports"]], [(55, "WARNING")])
        self.assertIn("at mm/page_alloc.c:1287 __free_pages_ok", err)
        self.assertIn("Call Trace:", err)               # shown as context

    def test_bad_page_and_kasan_and_lockdep_text(self):
        for log, text in (("bad_page.log", "[Bad page] BUG: Bad page state in process"),
                          ("kasan.log", "[KASAN] BUG: KASAN: use-after-free in free_pcppages_bulk"),
                          ("lockdep.log", "[lockdep] WARNING: possible circular locking dependency")):
            with self.subTest(log=log):
                rc, out, err, res = run(log)
                self.assertIn(text, err)
        rc, out, err, res = run("kasan.log")
        self.assertEqual(len(res["reports"]), 1)        # not the KASAN boot banner

    def test_kunit_failed_case(self):
        rc, out, err, res = run("kunit_fail.log")
        self.assertIn(f"kunit: 14 passed, 1 failed, 0 skipped, 0 crashed (suites: {SUITE})", out)
        self.assertIn(f"KUnit failed: {SUITE}.free_contig_range_unaligned", err)
        self.assertIn("EXPECTATION FAILED at mm/tests/page_alloc_kunit.c:232", err)
        self.assertIn("f->freed == 20 (0x14)", err)
        fail = res["kunit"]["failures"]
        self.assertEqual([f["name"] for f in fail], [f"{SUITE}.free_contig_range_unaligned"])
        self.assertEqual(fail[0]["diagnostics"], [
            "    # free_contig_range_unaligned: EXPECTATION FAILED at "
            "mm/tests/page_alloc_kunit.c:232",
            "    Expected f->freed == expect_freed, but",
            "        f->freed == 20 (0x14)",
            "        expect_freed == 21 (0x15)",
            "free pages must grow by exactly the pages freed"])   # the _MSG text: not indented

    def test_kunit_crashed_mid_suite(self):
        rc, out, err, res = run("kunit_crash.log")
        self.assertIn("kunit: 5 passed, 0 failed, 0 skipped, 10 crashed", out)
        self.assertIn(f"KUnit crashed: {SUITE}.<no result line>", err)
        self.assertIn("kernel BUG at lib/list_debug.c:56!", err)

    def test_vmalloc_failed_json(self):
        rc, out, err, res = run("vmalloc_failed.log")
        bad = [v for v in res["vmalloc"] if v["failed"]]
        self.assertEqual([(v["row"], v["test"], v["failed"]) for v in bad],
                         [("fix_size p:512 h:1 l:100000", "fix_size_alloc_test", 1)])

    def test_truncated_prints_last_20_lines(self):
        rc, out, err, res = run("truncated.log")
        self.assertIn("last 20 lines:", err)
        self.assertIn("   36| [   61.2", err)
        self.assertIn("   17| ", err)
        self.assertNotIn("   16| ", err)

    def test_insmod_error_text(self):
        rc, out, err, res = run("insmod_error.log")
        self.assertIn("harness error: insmod test_vmalloc.ko", err)
        self.assertIn("can't insert '/modules/test_vmalloc.ko': invalid module format", err)
        self.assertEqual(len(res["errors"]), 1)


class RecordedLogs(NeedsTree):
    """Real console logs of guest runs with this harness, one per plan, must
    pass with exact expectations.  A missing one fails: record it."""
    HOW = {
        "smoke": "`make` (or `make run VARIANT=series PLAN=smoke`), then "
                 "`cp build/logs/series-smoke.log tests/logs/recorded_smoke.log`",
        "stress": "`make reliability MATRIX=vm` (or step 7 of `make check`), then "
                  "`cp build/logs/series-vm-stress.log tests/logs/recorded_stress.log`",
        "pressure": "`make reliability MATRIX=vm` (or step 7 of `make check`), then "
                    "`cp build/logs/series-vm-pressure.log tests/logs/recorded_pressure.log`",
    }

    def recorded(self, plan, *args):
        path = os.path.join(LOGS, f"recorded_{plan}.log")
        if not os.path.isfile(path):
            self.fail(f"{path} is missing: record a {plan} run of the series with this "
                      f"harness: {self.HOW[plan]}")
        rc, out, err, res = run(path, *args)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(result_line(out), "result: PASS")
        self.assertEqual(err, "")
        self.assertEqual((res["plan"], res["reports"], res["errors"]), (plan, [], []))
        return res

    def assert_suite(self, res):
        k = res["kunit"]
        self.assertEqual(k["suites"], [SUITE])
        self.assertEqual(sorted(c["name"] for c in k["cases"]), SUITE_CASES)
        self.assertEqual((k["failed"], k["crashed"]), (0, 0))
        self.assertEqual(k["passed"] + k["skipped"], len(SUITE_CASES))
        self.assertGreater(k["passed"], 0)

    def assert_row(self, res, row, threads, cases, repeat, loops):
        """A row of a load of CASES on THREADS workers: one Summary per pair."""
        self.assertEqual((row["expected"], row["tests"], row["threads"]),
                         (len(cases) * threads, len(cases), threads))
        vm = [v for v in res["vmalloc"] if v["row"] == row["label"]]
        if row["faults"]:
            self.assertLessEqual(row["summaries"], row["expected"])
            return
        self.assertEqual(row["summaries"], row["expected"])
        self.assertEqual(sorted((v["worker"], v["test"]) for v in vm),
                         sorted(itertools.product(range(threads), cases)))
        for v in vm:
            self.assertEqual((v["passed"], v["failed"], v["repeat"], v["loops"]),
                             (repeat, 0, repeat, loops), v)

    def test_recorded_smoke(self):
        res = self.recorded("smoke", *EXPECT_KUNIT, "--expect-vmalloc")
        self.assertEqual(res["variant"], "series")
        self.assert_suite(res)
        self.assertEqual(len(res["rows"]), 1)
        row = res["rows"][0]
        m = re.fullmatch(r"smoke t:(\d+) l:(\d+)", row["label"])
        self.assertTrue(m, row["label"])
        self.assert_row(res, row, int(m.group(1)), SMOKE_CASES, 1, int(m.group(2)))
        self.assertEqual((res["leaks"], res["vmstat"], res["expected_alloc_failures"]),
                         ([], [], 0))

    def test_recorded_stress(self):
        res = self.recorded("stress", *EXPECT_KUNIT, "--expect-vmalloc")
        self.assertEqual(res["variant"], "series-vm")
        self.assert_suite(res)
        labels = [r["label"] for r in res["rows"]]
        m = re.fullmatch(r"warmup t:(\d+) l:(\d+) r:(\d+)", labels[0])
        self.assertTrue(m, labels)
        t, loops, repeat = (int(g) for g in m.groups())
        faults = f"faults t:{t} l:{loops} p:2%"
        self.assertEqual(labels[1], f"stress t:{t} l:{loops} r:{repeat}")
        self.assertTrue(1 <= len(labels) - 2 <= 3 and set(labels[2:]) == {faults}, labels)
        for row in res["rows"]:
            self.assertEqual(row["faults"], row["label"] == faults)
            self.assert_row(res, row, t, SMOKE_CASES, repeat, loops)
        self.assertEqual([lk["phase"] for lk in res["leaks"]], ["stress", "faults"])
        bench = {b["name"]: b for b in res["bench"]}
        self.assertGreater(bench["cma_alloc_release"]["rounds"], 0)
        self.assertEqual(bench["cma_alloc_release"]["pages"], 1000)
        self.assertGreater(bench["fail_page_alloc"]["injected"], 0)

    def test_recorded_pressure(self):
        res = self.recorded("pressure", "--expect-vmalloc")
        self.assertEqual(res["variant"], "series-vm")
        self.assertFalse(res["kunit"]["present"])       # kunit.enable=0
        labels = [r["label"] for r in res["rows"]]
        m = re.fullmatch(r"pressure-warmup t:(\d+) p:511 l:(\d+)", labels[0])
        self.assertTrue(m, labels)
        t, loops = int(m.group(1)), int(m.group(2))
        self.assertEqual(labels, [labels[0], f"pressure t:{t} p:512 l:{loops}"])
        for row in res["rows"]:
            self.assert_row(res, row, t, ["fix_size_alloc_test", "random_size_alloc_test"],
                            1, loops)
        mod = load_script()
        self.assertEqual(len(res["vmstat"]), 1)
        self.assertEqual({k: res["vmstat"][0].get(k) for k in mod.VMSTAT_MUST_STAY},
                         {k: 0 for k in mod.VMSTAT_MUST_STAY})
        self.assertIn("fragmentation", [b["name"] for b in res["bench"]])
        self.assertTrue(any(n.startswith("buddyinfo: Node 0, zone") for n in res["notes"]))


    def test_recorded_pressure_7_3_direct_compaction_attributed(self):
        # A 7.3.4 pressure run of the series (`scripts/reliability.sh vm`,
        # BASE=7.3): compact_stall +1, and the one traced entry is the
        # loading of test_vmalloc.ko (execmem's huge-page vmalloc) by
        # guest-insmod, not a high-order attempt of test_vmalloc's own areas.
        rc, out, err, res = run("recorded_pressure_7.3.log", "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(res["vmstat"][0]["compact_stall"], 1)
        self.assertEqual(len(res["direct"]), 1)
        entry = res["direct"][0]
        self.assertTrue(entry["task"].startswith("guest-insmod-"), entry)
        self.assertIn("execmem_alloc", entry["stack"])
        self.assertIn("__vmalloc_node_range_noprof", entry["stack"])


    def test_recorded_pressure_7_3_kasan_slab_allocations_of_vmalloc_allowed(self):
        # A 7.3.4 pressure run of the series' KASAN kernel (`make check-rest`,
        # matrix entry kasan): 9 entries from test_vmalloc's workers inside
        # vmalloc(), all the order-1 slab allocation of the area's page array
        # (KASAN's redzone makes kmalloc-4k order 1), none a page of the area;
        # allocstall_normal +4 for 2 traced reclaims (retries).
        rc, out, err, res = run("recorded_pressure_kasan_7.3.log", "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(len(res["direct"]), 9)
        mod = load_script()
        for entry in res["direct"]:
            self.assertRegex(entry["task"], mod.VMALLOC_TASK_RE)
            self.assertIn("__vmalloc_node_range_noprof", entry["stack"])
            self.assertIn("allocate_slab", entry["stack"])
            self.assertFalse(mod.from_vmalloc(entry))
        self.assertEqual(res["vmstat"][0]["allocstall_normal"], 4)
        self.assertEqual(sum(e["event"] == "mm_vmscan_direct_reclaim_begin" for e in res["direct"]), 2)
        # The same stack without the slab frames is a page of the area: blamed.
        page = dict(res["direct"][0])
        page["stack"] = [f for f in page["stack"] if not mod.SLAB_FRAME_RE.match(f)]
        self.assertTrue(mod.from_vmalloc(page))


class WithoutKernelTree(unittest.TestCase):
    def test_missing_kunit_py(self):
        rc, out, err, res = run("pass_smoke.log", tree="/nonexistent/linux")
        self.assertEqual(rc, 1)
        self.assertIn("kunit.py not found: /nonexistent/linux/tools/testing/kunit/kunit.py", err)
        self.assertIn("cannot parse KUnit output", result_line(out))

    def test_no_kernel_tree_option(self):
        rc, out, err, res = run("pass_smoke.log", tree=None)
        self.assertEqual(rc, 1)
        self.assertIn("no --kernel-tree was given", err)

    def test_expect_kunit_without_ktap(self):
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "console.log")
            with open(log, "w") as f:
                f.write("[    1.000000] harness: start variant=v plan=boot\n"
                        "[    1.100000] harness: done\n")
            rc, out, err, res = run(log, tree=None)
            self.assertEqual(rc, 0, out + err)
            rc, out, err, res = run(log, *EXPECT_KUNIT, tree=None)
            self.assertEqual(rc, 1)
            self.assertIn(f"no KTAP output (KUnit did not run; suite {SUITE} expected)",
                          result_line(out))
            rc, out, err, res = run(log, "--expect-vmalloc", tree=None)
            self.assertIn("no test_vmalloc Summary lines", result_line(out))


class Usage(unittest.TestCase):
    def call(self, *args):
        return subprocess.run([sys.executable, SCRIPT, *args],
                              capture_output=True, text=True, timeout=60)

    def test_usage_errors_exit_2(self):
        self.assertEqual(self.call().returncode, 2)
        self.assertEqual(self.call("--bogus", "x.log").returncode, 2)
        proc = self.call("/nonexistent/console.log")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("no such file", proc.stderr)

    def test_executable(self):
        self.assertTrue(os.access(SCRIPT, os.X_OK))


class ReportPatterns(unittest.TestCase):
    """The report table on single lines (no kunit.py needed)."""
    POSITIVE = {
        "[    5.100000] Kernel panic - not syncing: hung_task: blocked tasks": "Kernel panic",
        "[    5.100000] BUG: sleeping function called from invalid context at mm/page_alloc.c:4567":
            "sleeping in atomic",
        "[    5.100000] kernel BUG at mm/page_alloc.c:1234!": "kernel BUG",
        "[    5.100000] Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI": "Oops",
        "[    5.100000] Oops: general protection fault, probably for non-canonical address "
        "0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI": "general protection fault",
        "[    5.100000] KASAN: null-ptr-deref in range [0x0000000000000008-0x000000000000000f]": "KASAN",
        "[    5.100000] WARNING: possible recursive locking detected": "lockdep",
        "[    5.100000] WARNING: inconsistent lock state": "lockdep",
        "[    5.100000] INFO: possible irq lock inversion dependency detected": "lockdep",
        "[    5.100000] WARNING: CPU: 1 PID: 1 at mm/page_alloc.c:123 foo+0x1/0x2": "WARNING",
        "[    5.100000] list_del corruption, ffff888100000000->next is LIST_POISON1 (dead000000000100)":
            "list corruption",
        "[    5.100000] list_add corruption. prev->next should be next (ffff8881), but was 0.":
            "list corruption",
        "[    5.100000] UBSAN: shift-out-of-bounds in mm/page_alloc.c:99:12": "UBSAN",
        "[    5.100000] refcount_t: underflow; use-after-free.": "refcount_t",
        "[   25.100000] rcu: INFO: rcu_sched self-detected stall on CPU": "RCU stall",
        "[  245.100000] INFO: task kworker/0:1:12 blocked for more than 122 seconds.": "hung task",
        "[    5.100000] BUG: soft lockup - CPU#0 stuck for 26s! [vmalloc_test/0:111]": "lockup",
        "[    5.100000] page_owner allocation stack trace missing": "page_owner",
        "[    5.100000] pagealloc: memory corruption": "page poisoning",
        "[    5.100000] pagealloc: single bit error": "page poisoning",
        "[    5.100000] insmod: page allocation failure: order:10, mode:0xcc0(GFP_KERNEL)":
            "allocation failure",
        "[  243.667269] percpu: allocation failed, size=360 align=2048 atomic=0, failed to populate":
            "allocation failure",
        "[    5.100000] BUG: Bad page map in process a.out  pte:8000000104a00025": "Bad page",
        "[    5.100000] Call Trace:": "Call Trace",
    }
    # Synthetic KTAP lines whose (made-up) case names hold report words.
    NEGATIVE = [
        "[    0.000000] Command line: console=ttyS0 panic=-1 oops=panic panic_on_warn=0",
        "[    0.000000] Kernel command line: console=ttyS0 panic=-1 oops=panic",
        "[    0.021508] RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable",
        "[    0.021509] Spectre V2 : WARNING: Unprivileged eBPF is enabled with eIBRS on",
        "[    0.000000] kasan: KernelAddressSanitizer initialized (generic)",
        "[    0.521634] page_owner is disabled",
        "[    0.655203]     ok 3 synthetic_case_no_warning",
        "[    0.655204]     ok 4 synthetic_bug_on_case # SKIP not built",
        "[    0.655205]     # synthetic_panic_path: freeing 512 pages",
        "[    1.423290] ---[ end Kernel panic - not syncing: Fatal exception ]---",
        "[    1.012345] harness: bench oops_free order=9 usec=1",
    ]

    @classmethod
    def setUpClass(cls):
        cls.mod = load_script()

    def kinds(self, line):
        return [r["kind"] for r in self.mod.Log(line + "\n").reports]

    def test_positive(self):
        for line, kind in self.POSITIVE.items():
            with self.subTest(line=line):
                self.assertEqual(self.kinds(line), [kind])

    def test_negative(self):
        for line in self.NEGATIVE:
            with self.subTest(line=line):
                self.assertEqual(self.kinds(line), [])

    def test_interleaved_messages_are_split(self):
        log = self.mod.Log("[    1.000000] random: crng init done\n"
                           "busybox output[    1.200000] harness: vmalloc-row fix_size p:1"
                           "[    1.200000] harness: vmalloc-expect summaries=1"
                           "[    1.200001] Summary: fix_size_alloc_test passed: 1 failed: 0 "
                           "repeat: 1 loops: 10 avg: 7 usec\n")
        self.assertEqual([(v["row"], v["avg_us"]) for v in log.vmalloc], [("fix_size p:1", 7)])
        self.assertEqual(log.empty_rows, [])
        self.assertEqual([(r["expected"], r["summaries"]) for r in log.rows], [(1, 1)])


def check(mod, text):
    """The reasons check-log.py's non-KUnit checks give for a log TEXT."""
    log = mod.Log(text)
    reasons = []
    mod.check_rows(log, reasons)
    mod.check_leaks(log, reasons)
    if log.vmstat or log.info.get("plan") == "pressure":
        mod.check_pressure(log, reasons)
    mod.check_plan(log, reasons)
    return log, reasons


def summary(test="fix_size_alloc_test", passed=1, failed=0, repeat=1, stamp="2.000000"):
    return (f"[    {stamp}] Summary: {test} passed: {passed} failed: {failed} "
            f"repeat: {repeat} loops: 10 avg: 7 usec\n")


class RowsAndWindows(unittest.TestCase):
    """Row expectations and fault windows on small logs (no kunit.py needed)."""

    @classmethod
    def setUpClass(cls):
        cls.mod = load_script()

    START = "[    1.000000] harness: start variant=v plan=bench\n"
    DONE = "[    9.000000] harness: done\n"

    def test_expectation_met(self):
        log, reasons = check(self.mod, self.START +
                             "[    1.1] harness: vmalloc-row r l:10\n"
                             "[    1.2] harness: vmalloc-expect summaries=2 tests=2 threads=1\n"
                             + summary() + summary("full_fit_alloc_test") + self.DONE)
        self.assertEqual(reasons, [])

    def test_more_lines_than_expected_fail(self):
        log, reasons = check(self.mod, self.START +
                             "[    1.1] harness: vmalloc-row r l:10\n"
                             "[    1.2] harness: vmalloc-expect summaries=1 tests=1 threads=1\n"
                             + summary() + summary() + self.DONE)
        self.assertEqual(reasons, ["row r l:10: 2 Summary lines, expected 1 "
                                   "(1 test cases x 1 threads)"])

    def test_expect_marker_must_follow_its_row(self):
        for text, why in (
                ("[    1.2] harness: vmalloc-expect summaries=1\n", "not right after a vmalloc-row"),
                ("[    1.1] harness: vmalloc-row r\n" + summary() +
                 "[    1.2] harness: vmalloc-expect summaries=1\n", "not right after a vmalloc-row"),
                ("[    1.1] harness: vmalloc-row r\n"
                 "[    1.2] harness: vmalloc-expect tests=1\n", "of row r: no summaries=N")):
            with self.subTest(text=text):
                log, reasons = check(self.mod, self.START + text + self.DONE)
                self.assertTrue(any(r.startswith("bad marker: vmalloc-expect") and why in r
                                    for r in reasons), reasons)

    def test_summary_outside_any_row_fails(self):
        log, reasons = check(self.mod, self.START +
                             "[    1.1] harness: vmalloc-row r\n"
                             "[    1.2] harness: vmalloc-expect summaries=1\n" + summary() +
                             "[    1.3] harness: note something\n" + summary() + self.DONE)
        self.assertIn("1 test_vmalloc Summary lines outside any vmalloc-row", reasons)

    FAULTS = ("[    1.0] harness: start variant=v plan=bench\n"
              "[    1.1] harness: expect-alloc-failures begin\n"
              "[    1.2] harness: vmalloc-row faults t:2\n"
              "[    1.3] harness: vmalloc-expect summaries=2 tests=1 threads=2\n")

    def test_faults_row_may_print_fewer_never_more(self):
        end = "[    3.0] harness: expect-alloc-failures end\n" + self.DONE
        log, reasons = check(self.mod, self.FAULTS + summary(passed=0, failed=1) + end)
        self.assertEqual(reasons, [])
        log, reasons = check(self.mod, self.FAULTS + summary() * 3 + end)
        self.assertEqual(reasons, ["row faults t:2: 3 Summary lines, expected at most 2 "
                                   "(1 test cases x 2 threads)"])

    def test_faults_row_outside_the_window_is_an_ordinary_row(self):
        log, reasons = check(self.mod, self.START +
                             "[    1.2] harness: vmalloc-row faults t:1\n"
                             "[    1.3] harness: vmalloc-expect summaries=1\n"
                             + summary(passed=0, failed=1) + self.DONE)
        self.assertEqual(reasons, ["test_vmalloc row faults t:1: fix_size_alloc_test failed: 1"])

    def test_window_markers_must_pair(self):
        for text, why in (("end\n", "'end' with the window closed"),
                          ("begin\n[    1.6] harness: expect-alloc-failures begin\n",
                           "'begin' with the window open")):
            with self.subTest(text=text):
                log, reasons = check(self.mod, self.START +
                                     "[    1.5] harness: expect-alloc-failures " + text + self.DONE)
                self.assertIn(f"bad marker: expect-alloc-failures {why}", reasons)

    REPORT = ("[    2.{n}00000] vmalloc_test/{n}: vmalloc error: size 4096, failed to allocate "
              "pages, mode:0xcc2(GFP_KERNEL|__GFP_HIGHMEM), nodemask=(null)\n")
    TRACE = "[    2.{n}50000] Call Trace:\n[    2.{n}50001]  dump_stack_lvl+0x5d/0x80\n"

    def window(self, body):
        return self.mod.Log(self.FAULTS + body + "[    3.0] harness: expect-alloc-failures end\n")

    def test_each_expected_report_explains_one_trace(self):
        # Two workers' reports, interleaved: each has its trace.
        log = self.window(self.REPORT.format(n=1) + self.REPORT.format(n=2) +
                          self.TRACE.format(n=1) + self.TRACE.format(n=2))
        self.assertEqual((log.expected_alloc_failures, log.reports), (2, []))
        # A third trace has no report of its own.
        log = self.window(self.REPORT.format(n=1) + self.REPORT.format(n=2) +
                          self.TRACE.format(n=1) + self.TRACE.format(n=2) + self.TRACE.format(n=3))
        self.assertEqual([r["kind"] for r in log.reports], ["Call Trace"])

    PCPU = ("[    2.{n}00000] percpu: allocation failed, size=360 align=2048 atomic=0, "
            "failed to populate\n")

    def test_percpu_allocation_failure_explains_its_trace(self):
        # pcpu_alloc_test under injected faults (recorded in a vm stress run).
        log = self.window(self.PCPU.format(n=1) + self.TRACE.format(n=1))
        self.assertEqual((log.expected_alloc_failures, log.reports), (1, []))
        # Outside the window it is a failure, its trace with it.
        log = self.mod.Log(self.PCPU.format(n=1) + self.TRACE.format(n=1))
        self.assertEqual([r["kind"] for r in log.reports], ["allocation failure"])

    def test_trace_long_after_the_report_is_unexplained(self):
        filler = "".join(f"[    2.5{i:05d}] Node 0 DMA32 free:{i}kB\n"
                         for i in range(self.mod.CALL_TRACE_WINDOW + 1))
        log = self.window(self.REPORT.format(n=1) + filler + self.TRACE.format(n=7))
        self.assertEqual([r["kind"] for r in log.reports], ["Call Trace"])

    def test_bare_trace_in_the_window_fails(self):
        log = self.window(self.TRACE.format(n=1))
        self.assertEqual([r["kind"] for r in log.reports], ["Call Trace"])

    def test_trace_of_a_failing_report_is_not_reported_twice(self):
        log = self.window("[    2.1] WARNING: CPU: 0 PID: 1 at mm/page_alloc.c:1 f+0x1/0x2\n"
                          + self.TRACE.format(n=1))
        self.assertEqual([r["kind"] for r in log.reports], ["WARNING"])


class VmstatKeys(NeedsTree):
    """Every key of VMSTAT_MUST_STAY is one the harness kernel prints, and
    one the guest logs."""

    def read(self, rel):
        with open(os.path.join(TREE, rel)) as f:
            return f.read()

    def test_guest_logs_every_key(self):
        mod = load_script()
        with open(GUEST_INIT) as f:
            keys = re.search(r'^VMSTAT_KEYS="([^"]*)"', f.read(), re.M).group(1).split()
        self.assertEqual([k for k in mod.VMSTAT_MUST_STAY if k not in keys], [])

    def test_every_key_exists_in_the_kernel(self):
        mod = load_script()
        vmstat = self.read("mm/vmstat.c")
        items = self.read("include/linux/vm_event_item.h")
        # allocstall_<zone>: one per configured zone (TEXTS_FOR_ZONES; 6.12
        # TEXTS_FOR_ZONES("allocstall") with xx "_dma", 7.x designated
        # initialisers TEXTS_FOR_ZONES(OFF+ALLOCSTALL, "allocstall") with
        # [xx##_DMA] = yy "_dma").
        self.assertRegex(vmstat, r'TEXTS_FOR_ZONES\((?:[^,()]+, )?"allocstall"\)')
        self.assertIn("FOR_ALL_ZONES(ALLOCSTALL)", items)
        zones = re.search(r"#define TEXTS_FOR_ZONES\(xx(?:, yy)?\)(.*?[^\\])\n", vmstat, re.S).group(1)
        for key in mod.VMSTAT_MUST_STAY:
            with self.subTest(key=key):
                if not key.startswith("allocstall_"):
                    self.assertIn(f'"{key}",', vmstat)
                    continue
                zone = key[len("allocstall_"):]
                if zone in ("dma", "dma32"):    # TEXT_FOR_DMA(xx), if CONFIG_ZONE_<ZONE>
                    self.assertRegex(zones, r"TEXT_FOR_%s\(xx(?:, yy)?\)" % zone.upper())
                    self.assertRegex(vmstat, r'#ifdef CONFIG_ZONE_%s\n#define TEXT_FOR_%s\(xx(?:, yy)?\) '
                                     r'(?:xx|\[xx##_%s\] = yy) "_%s",'
                                     % (zone.upper(), zone.upper(), zone.upper(), zone))
                else:                           # always there
                    self.assertRegex(zones, r'(?:xx|yy) "_%s"' % zone)
        # The zones of the harness kernel: ZONE_DMA defaults to y on x86 and
        # only EXPERT (via ARCH_HAS_ZONE_DMA_SET) can turn it off; X86_64
        # selects ZONE_DMA32. No fragment sets EXPERT or either zone.
        mm = self.read("mm/Kconfig")
        x86 = self.read("arch/x86/Kconfig")
        self.assertIn('bool "Support DMA zone" if ARCH_HAS_ZONE_DMA_SET\n\tdefault y if ARM64 || X86', mm)
        self.assertIn("select ARCH_HAS_ZONE_DMA_SET if EXPERT", x86)
        self.assertIn("select ZONE_DMA32", x86)
        frags = []
        for root, _, files in os.walk(os.path.join(REPO, "kconfig")):
            frags += [os.path.join(root, f) for f in files if f.endswith(".config")]
        self.assertTrue(frags)
        compaction = False
        for frag in frags:
            with open(frag) as f:
                text = f.read()
            with self.subTest(fragment=frag):
                self.assertNotRegex(text, r"CONFIG_(EXPERT|ZONE_DMA|ZONE_DMA32|HIGHMEM|"
                                          r"VM_EVENT_COUNTERS)\b")
            compaction |= "CONFIG_COMPACTION=y" in text.splitlines()
        self.assertTrue(compaction, "no fragment sets CONFIG_COMPACTION=y (compact_stall)")


# --------------------------------------------------------------------------
# The guest side: guest-init.sh's functions run by busybox sh, and
# initramfs.sh's /vmalloc-ids from a module's modinfo.
# --------------------------------------------------------------------------
def need_busybox(test):
    if not os.access(BUSYBOX, os.X_OK):
        test.fail(f"{BUSYBOX} not found: install busybox-static (make deps)")


def guest_function(name, subst=()):
    """The text of shell function NAME of guest-init.sh, with the paths of
    SUBST ((old, new) pairs) replaced."""
    with open(GUEST_INIT) as f:
        text = f.read()
    m = re.search(r"^%s\(\) ([{(])\n.*?^[})]\n" % re.escape(name), text, re.M | re.S)
    assert m, f"guest-init.sh has no function {name}()"
    body = m.group(0)
    if subst:       # in one pass: a new path may hold an old one
        table = dict(subst)
        body = re.sub("|".join(re.escape(old) for old in table), lambda o: table[o.group(0)], body)
    return body


def busybox_sh(script, timeout=60, path=None):
    env = dict(os.environ)
    if path:
        env["PATH"] = path + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    return subprocess.run([BUSYBOX, "sh", "-c", script], capture_output=True, text=True,
                          timeout=timeout, env=env)


def write_ids(path, cases=VMALLOC_CASES):
    with open(path, "w") as f:
        f.write("".join(f"{i} {name}\n" for i, name in cases))


class GuestInit(unittest.TestCase):
    def setUp(self):
        need_busybox(self)
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.ids = os.path.join(self.tmp, "vmalloc-ids")
        self.log = os.path.join(self.tmp, "kmsg")

    def expect(self, *params, ids=None):
        args = " ".join(shlex.quote(a) for a in (ids or self.ids, *params))
        proc = busybox_sh(guest_function("vmalloc_expect") +
                          f'vmalloc_expect {args}; echo "rc=$?"')
        return proc.stdout.strip()

    def test_vmalloc_expect(self):
        write_ids(self.ids)
        for params, want in (
                ((f"run_test_mask={SMOKE_MASK}", "test_loop_count=1000", "nr_threads=2"),
                 "summaries=22 tests=11 threads=2"),
                ((), "summaries=12 tests=12 threads=1"),   # module defaults: INT_MAX, 0 -> 1
                (("run_test_mask=9", "nr_threads=2", "nr_pages=512"), "summaries=4 tests=2 threads=2"),
                (("run_test_mask=0x800",), "summaries=1 tests=1 threads=1"),
                (("run_test_mask=4096",), "summaries=0 tests=0 threads=1"),
                (("nr_threads=-3",), "summaries=12 tests=12 threads=1"),
                (("nr_threads=100000",), "summaries=786420 tests=12 threads=65535")):
            with self.subTest(params=params):
                self.assertEqual(self.expect(*params), want + "\nrc=0")
        for params in (("run_test_mask=abc",), ("run_test_mask=0x",), ("nr_threads=",)):
            with self.subTest(params=params):
                self.assertEqual(self.expect(*params), "rc=1")
        self.assertEqual(self.expect("nr_threads=1", ids=os.path.join(self.tmp, "none")), "rc=1")

    def vmalloc_row(self, *args):
        stubs = f'log() {{ echo "harness: $*" >> {self.log}; }}\n'
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir)
        with open(os.path.join(bindir, "guest-insmod"), "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(os.path.join(bindir, "guest-insmod"), 0o755)
        subst = (("/vmalloc-ids", self.ids), ("/tmp/", self.tmp + "/"))
        proc = busybox_sh(stubs + guest_function("vmalloc_expect") +
                          guest_function("vmalloc_row", subst) + "vmalloc_row " + " ".join(args),
                          path=bindir)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(self.log) as f:
            return f.read().splitlines()

    def test_vmalloc_row_announces_its_summaries(self):
        write_ids(self.ids)
        self.assertEqual(self.vmalloc_row("'smoke t:2 l:1000'", f"run_test_mask={SMOKE_MASK}",
                                          "test_loop_count=1000", "nr_threads=2"),
                         ["harness: vmalloc-row smoke t:2 l:1000",
                          "harness: vmalloc-expect summaries=22 tests=11 threads=2"])

    def test_vmalloc_row_without_ids_logs_an_error(self):
        lines = self.vmalloc_row("'smoke t:2 l:1000'", "nr_threads=2")
        self.assertEqual(len(lines), 2, lines)
        self.assertTrue(lines[0].startswith("harness: error row smoke t:2 l:1000: cannot tell "
                                            "how many Summary lines it prints"), lines)
        self.assertEqual(lines[1], "harness: vmalloc-row smoke t:2 l:1000")

    def stress_plan(self, debugfs):
        """guest-init.sh's stress_plan with a fake debugfs and stubs for what
        needs a kernel; returns the markers it logged."""
        stubs = f"""
log() {{ echo "harness: $*" >> {self.log}; }}
arg() {{ echo "$2"; }}
vmalloc_row() {{ log "vmalloc-row $1"; sleep 1; }}
settle() {{ :; }}
snapshot() {{ echo "1 2 3"; }}
leak() {{ log "leak phase=$1"; }}
last_row_runs() {{ echo 1; }}
loops=1000 ncpu=2 SMOKE_MASK={SMOKE_MASK}
"""
        os.makedirs(os.path.join(self.tmp, "t"))
        subst = (("/sys/kernel/debug/", debugfs + "/"), ("/tmp/", self.tmp + "/t/"))
        proc = busybox_sh(stubs + guest_function("cma_loop", subst) +
                          guest_function("stress_plan", subst) + "stress_plan\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(self.log) as f:
            return f.read().splitlines()

    def test_stress_without_cma_and_fail_page_alloc_says_so(self):
        debugfs = os.path.join(self.tmp, "debugfs")
        os.makedirs(debugfs)
        lines = self.stress_plan(debugfs)
        self.assertIn(f"harness: error no CMA area in {debugfs}/cma (needs CONFIG_CMA_DEBUGFS "
                      "and a CMA area, e.g. CONFIG_CMA_SIZE_MBYTES or cma=): the CMA loop "
                      "cannot run", lines)
        self.assertIn("harness: bench cma_alloc_release rounds=0 pages=1000", lines)
        self.assertIn(f"harness: error no {debugfs}/fail_page_alloc (needs CONFIG_FAIL_PAGE_ALLOC "
                      "and CONFIG_FAULT_INJECTION_DEBUG_FS): the faults phase cannot run", lines)
        self.assertNotIn("harness: expect-alloc-failures begin", lines)
        # The CMA error comes before the stress row, not inside it.
        self.assertLess(lines.index(next(l for l in lines if "no CMA area" in l)),
                        lines.index("harness: vmalloc-row stress t:2 l:1000 r:3"))

    def test_stress_with_cma_and_fail_page_alloc(self):
        debugfs = os.path.join(self.tmp, "debugfs")
        os.makedirs(os.path.join(debugfs, "cma", "reserved"))
        os.makedirs(os.path.join(debugfs, "fail_page_alloc"))
        lines = self.stress_plan(debugfs)
        self.assertEqual([l for l in lines if l.startswith("harness: error")], [])
        rounds = int(re.search(r"cma_alloc_release rounds=(\d+)", "\n".join(lines)).group(1))
        self.assertGreater(rounds, 0)
        self.assertEqual(lines[lines.index("harness: expect-alloc-failures begin") + 1],
                         "harness: vmalloc-row faults t:2 l:1000 p:2%")
        self.assertIn("harness: expect-alloc-failures end", lines)


def fake_module(path, modinfo):
    """Write a minimal ELF64 relocatable file whose .modinfo section holds the
    strings MODINFO ("key=value"), which is what modinfo reads."""
    info = b"".join(s.encode() + b"\0" for s in modinfo)
    shstr = b"\0.modinfo\0.shstrtab\0"
    info_off = 64
    shstr_off = info_off + len(info)
    shoff = (shstr_off + len(shstr) + 7) & ~7
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)      # 64-bit, LE, SysV
    header = ident + struct.pack("<HHIQQQIHHHHHH", 1, 62, 1, 0, 0, shoff, 0,
                                 64, 0, 0, 64, 3, 2)       # ET_REL, x86-64
    def section(name, kind, flags, off, size):
        return struct.pack("<IIQQQQIIQQ", name, kind, flags, 0, off, size, 0, 0, 1, 0)
    data = header + info + shstr
    data += bytes(shoff - len(data))
    data += section(0, 0, 0, 0, 0) + section(1, 1, 2, info_off, len(info)) + \
        section(10, 3, 0, shstr_off, len(shstr))
    with open(path, "wb") as f:
        f.write(data)


def mask_description(cases):
    """run_test_mask's description as lib/test_vmalloc.c has it."""
    return "Set tests specified in the mask.\n\n" + "".join(
        f"\t\tid: {i},{' ' * max(1, 5 - len(str(i)))}name: {name}\n" for i, name in cases)


# The guest's static helpers that initramfs.sh builds from scripts/NAME.c and
# packs as /bin/NAME.
HELPERS = ("guest-insmod", "guest-fragment", "guest-latency", "guest-fraggen")


class InitramfsIds(unittest.TestCase):
    """initramfs.sh ships the module's test cases as /vmalloc-ids, or stops."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.build = os.path.join(self.tmp, "build")
        self.ko = os.path.join(self.build, "6.12", "out", "series", "modules", "test_vmalloc.ko")
        os.makedirs(os.path.dirname(self.ko))
        os.makedirs(os.path.join(self.tmp, "tmp"))
        gen = os.path.join(self.build, "6.12", "obj", "usr", "gen_init_cpio")
        os.makedirs(os.path.dirname(gen))
        self.capture = os.path.join(self.tmp, "vmalloc-ids")
        with open(gen, "w") as f:   # the spec as the archive; a copy of /vmalloc-ids
            f.write('#!/bin/sh\ncat "$1"\n'
                    "f=$(sed -n 's|^file /vmalloc-ids \\([^ ]*\\) .*|\\1|p' \"$1\")\n"
                    f'[ -z "$f" ] || cp "$f" {self.capture}\n')
        os.chmod(gen, 0o755)
        for helper in HELPERS:   # executable, newer than their sources: not rebuilt
            exe = os.path.join(self.build, helper)
            with open(exe, "w") as f:
                f.write("#!/bin/sh\n")
            os.chmod(exe, 0o755)
            src = os.path.getmtime(os.path.join(REPO, "scripts", helper + ".c"))
            os.utime(exe, (src + 100, src + 100))

    def initramfs(self, path=None):
        env = dict(os.environ, BASE="6.12", BUILD=self.build,
                   TMPDIR=os.path.join(self.tmp, "tmp"))
        if path:
            env["PATH"] = path + os.pathsep + env.get("PATH", "/usr/bin:/bin")
        out = os.path.join(self.tmp, "initrd.cpio.gz")
        proc = subprocess.run([INITRAMFS, "series", out], env=env, capture_output=True,
                              text=True, timeout=120)
        return proc, out

    def module(self, description):
        fake_module(self.ko, ["license=GPL", "parmtype=nr_threads:int",
                              "parm=nr_threads:Number of workers to perform tests(min: 1 max: USHRT_MAX)",
                              "parmtype=run_test_mask:int", "parm=run_test_mask:" + description,
                              "parmtype=use_huge:bool", "parm=use_huge:Use vmalloc_huge in fix_size_alloc_test"])

    def test_ids_from_the_module(self):
        need_busybox(self)
        self.module(mask_description(VMALLOC_CASES))
        proc, out = self.initramfs()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with gzip.open(out, "rt") as f:
            self.assertRegex(f.read(), r"(?m)^file /vmalloc-ids \S+ 0644 0 0$")
        with open(self.capture) as f:
            self.assertEqual(f.read(), "".join(f"{i} {n}\n" for i, n in VMALLOC_CASES))
        self.assertEqual(os.listdir(os.path.join(self.tmp, "tmp")), [], "temporary files left")

    def test_packs_the_guest_helpers(self):
        need_busybox(self)
        self.module(mask_description(VMALLOC_CASES))
        proc, out = self.initramfs()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with gzip.open(out, "rt") as f:
            spec = f.read().splitlines()
        for helper in HELPERS:
            with self.subTest(helper=helper):
                self.assertIn(f"file /bin/{helper} {self.build}/{helper} 0755 0 0", spec)
        self.assertIn("file /init " + GUEST_INIT + " 0755 0 0", spec)

    def test_rebuilds_a_helper_older_than_its_source(self):
        need_busybox(self)
        self.module(mask_description(VMALLOC_CASES))
        exe = os.path.join(self.build, "guest-fraggen")
        src = os.path.join(REPO, "scripts", "guest-fraggen.c")
        os.utime(exe, (os.path.getmtime(src) - 100,) * 2)
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir)
        calls = os.path.join(self.tmp, "gcc-calls")
        with open(os.path.join(bindir, "gcc"), "w") as f:     # records; writes its -o
            f.write(f'#!/bin/sh\necho "$*" >> {calls}\n'
                    'while [ $# -gt 1 ]; do [ "$1" = -o ] && echo built > "$2"; shift; done\n')
        os.chmod(os.path.join(bindir, "gcc"), 0o755)
        proc, out = self.initramfs(path=bindir)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(calls) as f:
            self.assertEqual(f.read(), f"-static -Os -Wall -o {exe} {src}\n")
        with open(exe) as f:
            self.assertEqual(f.read(), "built\n")
        # A helper that cannot be built stops it.
        os.utime(exe, (os.path.getmtime(src) - 100,) * 2)
        with open(os.path.join(bindir, "gcc"), "w") as f:
            f.write("#!/bin/sh\nexit 1\n")
        os.remove(out)
        proc, out = self.initramfs(path=bindir)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(f"cannot build {exe} (static libc missing? install libc6-dev)", proc.stderr)
        self.assertFalse(os.path.exists(out))

    def test_the_series_module_description(self):
        # The description in the tree, 6.12's patch 0001's contig_free_test included.
        with open(os.path.join(REPO, "bases", "6.12", "patches",
                               "0001-lib-test_vmalloc-add-a-contiguous-range-freeing-benc.patch")) as f:
            self.assertIn('+\t\t"\\t\\tid: 2048, name: contig_free_test\\n"\n', f.read())

    def test_stops_without_ids(self):
        for description, why in (
                ("Set tests specified in the mask.", "cannot read the test cases of"),
                (mask_description([(1, "a_test"), (3, "b_test")]), "test case b_test has id 3, not a power of two"),
                (mask_description([(1, "a_test"), (1, "b_test")]), "two test cases have id 1"),
                (mask_description([(2147483648, "a_test")]), "not a power of two below 2^31")):
            with self.subTest(why=why):
                self.module(description)
                proc, out = self.initramfs()
                self.assertNotEqual(proc.returncode, 0)
                self.assertIn(why, proc.stderr)
                self.assertFalse(os.path.exists(out))

    def test_stops_on_a_file_modinfo_cannot_read(self):
        with open(self.ko, "w") as f:
            f.write("fake-ko\n")
        proc, out = self.initramfs()
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(f"modinfo cannot read {self.ko}", proc.stderr)

    def test_stops_without_the_module(self):
        proc, out = self.initramfs()
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(f"no {self.ko}: variant series has no test_vmalloc module", proc.stderr)


if __name__ == "__main__":
    unittest.main()

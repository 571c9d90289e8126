"""Tests of scripts/check-log.py on the recorded console logs in tests/logs/.

Run from the repo root: python3 -m unittest discover -s tests -p 'test_*.py' -v
KUnit output is parsed by the kernel tree's kunit.py; the tree is taken from
$KERNEL_TREE (default: <repo>/build/linux).  Tests that need it are skipped
when it is absent.
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "scripts", "check-log.py")
LOGS = os.path.join(REPO, "tests", "logs")
TREE = os.environ.get("KERNEL_TREE", os.path.join(REPO, "build", "linux"))
HAVE_KUNIT = os.path.isfile(os.path.join(TREE, "tools", "testing", "kunit", "kunit.py"))
needs_tree = unittest.skipUnless(
    HAVE_KUNIT, f"no kernel tree with tools/testing/kunit/kunit.py at {TREE} (set KERNEL_TREE)")


def run(log, *args, tree=TREE):
    """Run check-log.py; return (exit code, stdout, stderr, json result)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [sys.executable, SCRIPT]
        if tree is not None:
            cmd += ["--kernel-tree", tree]
        path = log if os.path.isabs(log) else os.path.join(LOGS, log)
        proc = subprocess.run(cmd + ["--json", out, *args, path],
                              capture_output=True, text=True, timeout=300)
        result = None
        if os.path.exists(out):
            with open(out) as f:
                result = json.load(f)
    return proc.returncode, proc.stdout, proc.stderr, result


def result_line(stdout):
    return [line for line in stdout.splitlines() if line.startswith("result: ")][-1]


# log -> substrings that must appear in the "result:" line of a failing run.
FAILING = {
    "panic.log": ["Kernel panic", "Oops", "BUG", "row smoke t:2 l:1000 produced no result",
                  "log truncated: no 'harness: done' marker"],
    "warning.log": ["kernel reports: WARNING"],
    "bad_page.log": ["Bad page", "page_owner"],
    "kasan.log": ["kernel reports: KASAN"],
    "lockdep.log": ["kernel reports: lockdep"],
    "call_trace.log": ["kernel reports: Call Trace"],
    "kunit_fail.log": ["KUnit: 1 failed, 0 crashed: page_alloc.test_free_contig_range_order9"],
    "kunit_crash.log": ["KUnit: 0 failed, 2 crashed", "no 'harness: start' marker",
                        "log truncated"],
    "vmalloc_failed.log": ["test_vmalloc row fix_size p:512 h:1 l:100000: fix_size_alloc_test"],
    "vmalloc_noresult.log": ["row full_fit l:100000 produced no result"],
    "truncated.log": ["log truncated: no 'harness: done' marker",
                      "row random_size l:100000 produced no result"],
    "stress_faults_notest.log": ["faults phase: no test_vmalloc test ran in 3 tries"],
    "pressure_highorder.log": [
        "pressure: 4 free order-9 units before the run (DMA 2, DMA32 2), 1 of them out of reach"],
    "pressure_no_buddyinfo.log": ["pressure: no buddyinfo before the run"],
    "insmod_error.log": ["guest error: insmod test_vmalloc.ko", "invalid module format",
                         "row smoke t:2 l:1000 produced no result"],
}


@needs_tree
class PassingLogs(unittest.TestCase):
    def test_pass_smoke(self):
        rc, out, err, res = run("pass_smoke.log", "--expect-kunit", "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("log: ", out)
        self.assertIn("variant=series plan=smoke", out)
        self.assertIn("kunit: 4 passed, 0 failed, 1 skipped, 0 crashed (suites: page_alloc)", out)
        self.assertIn("bench: contig_free order=9 loops=1000 usec=12345", out)
        self.assertIn("kernel reports: none", out)
        self.assertEqual(result_line(out), "result: PASS")
        self.assertEqual(err, "")

    def test_pass_smoke_json(self):
        rc, out, err, res = run("pass_smoke.log", "--expect-kunit", "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertIs(res["pass"], True)
        self.assertEqual((res["variant"], res["plan"]), ("series", "smoke"))
        self.assertEqual({k: res["kunit"][k] for k in ("passed", "failed", "skipped", "crashed")},
                         {"passed": 4, "failed": 0, "skipped": 1, "crashed": 0})
        self.assertEqual(res["kunit"]["suites"], ["page_alloc"])
        vm = res["vmalloc"]
        self.assertEqual(len(vm), 20)           # 10 test cases x 2 workers
        self.assertEqual({v["row"] for v in vm}, {"smoke t:2 l:1000"})
        self.assertEqual(vm[0], {"row": "smoke t:2 l:1000", "test": "fix_size_alloc_test",
                                 "worker": 0, "passed": 1, "failed": 0, "repeat": 1,
                                 "loops": 1000, "avg_us": 352})
        self.assertEqual((vm[10]["worker"], vm[10]["test"], vm[10]["avg_us"]),
                         (1, "fix_size_alloc_test", 365))
        self.assertNotIn("align_shift_alloc_test", [v["test"] for v in vm])
        self.assertEqual(res["bench"], [{"name": "contig_free", "order": 9,
                                         "loops": 1000, "usec": 12345}])
        self.assertEqual(res["reports"], [])

    def test_pass_log_contains_false_positive_bait(self):
        # Guards the intent of the pass log: these normal lines must not fail it.
        with open(os.path.join(LOGS, "pass_smoke.log"), "rb") as f:
            raw = f.read()
        self.assertIn(b"\r\n", raw)             # recorded with CRLF like ttyS0
        for bait in (b"panic=-1 oops=panic", b"RETBleed: WARNING: Spectre v2",
                     b"page_owner is disabled", b"ok 3 test_free_pages_bulk_no_warning"):
            self.assertIn(bait, raw)

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
        self.assertRegex(out, r"fix_size p:512 h:1 l:100000 +fix_size_alloc_test +"
                              r"passed 1 failed 0 avg 94812 usec")

    def test_base_without_suites_fails_expect_kunit(self):
        rc, out, err, res = run("base_vmalloc.log", "--expect-kunit")
        self.assertEqual(rc, 1)
        self.assertIn("no KUnit test cases ran", result_line(out))

    def test_bench_lines(self):
        rc, out, err, res = run("bench.log", "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(res["bench"], [
            {"name": "contig_free", "order": 9, "loops": 1000, "usec": 12345},
            {"name": "contig_free", "order": 10, "loops": 500, "usec": 13001,
             "ratio": 1.07, "mode": "batched"}])
        self.assertIn("bench: contig_free order=10 loops=500 usec=13001 ratio=1.07 mode=batched", out)


@needs_tree
class FailingLogs(unittest.TestCase):
    def test_every_failure_log_fails_for_its_reason(self):
        for log, reasons in FAILING.items():
            with self.subTest(log=log):
                rc, out, err, res = run(log, "--expect-vmalloc")
                self.assertEqual(rc, 1, out + err)
                self.assertTrue(result_line(out).startswith("result: FAIL ("))
                for reason in reasons:
                    self.assertIn(reason, result_line(out))
                self.assertIs(res["pass"], False)

    def test_stress_pass_with_expected_faults(self):
        rc, out, err, res = run("stress_pass.log", "--expect-vmalloc")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(res["expected_alloc_failures"], 1)
        self.assertEqual([lk["phase"] for lk in res["leaks"]], ["stress", "faults"])
        self.assertEqual(res["reports"], [])
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

    def test_pressure_direct_compaction_fails(self):
        rc, out, err, res = run("pressure_compaction.log", "--expect-vmalloc")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("phase pressure: direct compaction/reclaim: compact_stall +12, "
                      "allocstall_normal +3", result_line(out))

    def test_pressure_without_compaction_counters_fails(self):
        rc, out, err, res = run("pressure_no_compaction.log", "--expect-vmalloc")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("no compact_stall counter", result_line(out))

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
        self.assertIn("kernel reports: allocation failure", result_line(out))
        self.assertEqual(len(res["reports"]), 1)

    def test_panic_details(self):
        rc, out, err, res = run("panic.log")
        self.assertIn("line 39: [BUG] BUG: unable to handle page fault", err)
        self.assertIn("line 43: [Oops] Oops: Oops: 0002 [#1]", err)
        self.assertIn("line 70: [Kernel panic] Kernel panic - not syncing: Fatal exception", err)
        self.assertIn("context after line 39:", err)
        self.assertIn("   49| [    1.416578] RAX:", err)     # 10 lines of context
        self.assertNotIn("   50| [    1.416901] RDX:", err)
        self.assertEqual([r["kind"] for r in res["reports"]], ["BUG", "Oops", "Kernel panic"])

    def test_warning_call_trace_belongs_to_report(self):
        rc, out, err, res = run("warning.log")
        self.assertEqual([(r["line"], r["kind"]) for r in res["reports"]], [(40, "WARNING")])
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
        self.assertIn("kunit: 2 passed, 1 failed, 0 skipped, 0 crashed (suites: page_alloc)", out)
        self.assertIn("KUnit failed: page_alloc.test_free_contig_range_order9", err)
        self.assertIn("EXPECTATION FAILED at mm/page_alloc_kunit.c:118", err)
        self.assertIn("nr_free_after == 1234 (0x4d2)", err)
        fail = res["kunit"]["failures"]
        self.assertEqual([f["name"] for f in fail], ["page_alloc.test_free_contig_range_order9"])
        self.assertEqual(len(fail[0]["diagnostics"]), 4)

    def test_kunit_crashed_mid_suite(self):
        rc, out, err, res = run("kunit_crash.log")
        self.assertIn("kunit: 2 passed, 0 failed, 0 skipped, 2 crashed", out)
        self.assertIn("KUnit crashed: page_alloc.<no result line>", err)
        self.assertIn("test_free_pages_bulk_no_warning: freeing 512 pages", err)

    def test_vmalloc_failed_json(self):
        rc, out, err, res = run("vmalloc_failed.log")
        bad = [v for v in res["vmalloc"] if v["failed"]]
        self.assertEqual([(v["row"], v["test"], v["failed"]) for v in bad],
                         [("fix_size p:512 h:1 l:100000", "fix_size_alloc_test", 1)])

    def test_truncated_prints_last_20_lines(self):
        rc, out, err, res = run("truncated.log")
        self.assertIn("last 20 lines:", err)
        self.assertIn("   33| [   61.2", err)
        self.assertIn("   14| ", err)
        self.assertNotIn("   13| ", err)

    def test_insmod_error_text(self):
        rc, out, err, res = run("insmod_error.log")
        self.assertIn("harness error: insmod test_vmalloc.ko", err)
        self.assertIn("can't insert '/modules/test_vmalloc.ko': invalid module format", err)
        self.assertEqual(len(res["errors"]), 1)


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
            rc, out, err, res = run(log, "--expect-kunit", tree=None)
            self.assertEqual(rc, 1)
            self.assertIn("no KTAP output", result_line(out))
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


def load_script():
    spec = importlib.util.spec_from_file_location("check_log", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


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
        "[    5.100000] BUG: Bad page map in process a.out  pte:8000000104a00025": "Bad page",
        "[    5.100000] Call Trace:": "Call Trace",
    }
    NEGATIVE = [
        "[    0.000000] Command line: console=ttyS0 panic=-1 oops=panic panic_on_warn=0",
        "[    0.000000] Kernel command line: console=ttyS0 panic=-1 oops=panic",
        "[    0.021508] RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable",
        "[    0.021509] Spectre V2 : WARNING: Unprivileged eBPF is enabled with eIBRS on",
        "[    0.000000] kasan: KernelAddressSanitizer initialized (generic)",
        "[    0.521634] page_owner is disabled",
        "[    0.655203]     ok 3 test_free_pages_bulk_no_warning",
        "[    0.655204]     ok 4 test_bug_on_bad_order # SKIP not built",
        "[    0.655205]     # test_panic_path: freeing 512 pages",
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
                           "[    1.200001] Summary: fix_size_alloc_test passed: 1 failed: 0 "
                           "repeat: 1 loops: 10 avg: 7 usec\n")
        self.assertEqual([(v["row"], v["avg_us"]) for v in log.vmalloc], [("fix_size p:1", 7)])
        self.assertEqual(log.empty_rows, [])


if __name__ == "__main__":
    unittest.main()

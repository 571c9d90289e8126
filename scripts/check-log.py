#!/usr/bin/env python3
"""Decide pass/fail for one harness guest boot from its serial console log.

usage: check-log.py [--kernel-tree DIR] [--expect-kunit SUITE] [--expect-vmalloc]
                    [--json OUT.json] CONSOLE.log

The guest init (scripts/guest-init.sh) writes these markers into the kernel
log through /dev/kmsg, so they appear as "[    2.000000] harness: ...":
  harness: start variant=<name> plan=<plan>  first marker; plan is one of
                                  smoke, bench, stress, pressure, boot, pcp,
                                  latency, wakeups (each has its own requirements:
                                  PLANS below)
  harness: vmalloc-row <label>    the next test_vmalloc.ko load is row <label>
                                  (free text: the row's name in reports)
  harness: vmalloc-expect summaries=N [tests=T threads=W]
                                  right after a vmalloc-row marker: the load
                                  prints N "Summary:" lines (T selected test
                                  cases x W worker threads); a row without it,
                                  or with another number of them, fails (rows
                                  labelled "faults ..." in a fault window may
                                  print fewer: injected faults kill workers)
  harness: bench <name> <key>=<value> ...    a benchmark or phase result
  harness: error <text>           the guest init detected a problem (fails)
  harness: note <text>            information only
  harness: leak phase=P free_before=N free_after=N vmalloc_kb_before=N vmalloc_kb_after=N
                [other_kb_before=N other_kb_after=N]
                                  pages a stress phase did not give back (fails
                                  beyond LEAK_TOLERANCE_*); other_kb: slab,
                                  percpu, page tables, kernel stacks
  harness: vmstat phase=P KEY=DELTA ...
                                  /proc/vmstat counters' change over a pressure
                                  phase; direct compaction or reclaim fails, and
                                  so does a VMSTAT_MUST_STAY key that is missing
                                  (judged on DIRECT markers instead, if any)
  harness: direct phase=P task=T event=E FIELDS... stack=F1<F2<...
                                  a traced entry into direct compaction or
                                  direct reclaim during a pressure phase, with
                                  its kernel stack (innermost frame first)
  harness: direct-summary phase=P events=N logged=L entries=B written=W
                                  the phase's entries were traced: N of them,
                                  L logged; the trace buffer kept B of W
  harness: expect-alloc-failures begin|end
                                  injected faults: allocation-failure reports
                                  (warn_alloc) between these are expected, each
                                  with the one Call Trace that follows it, and
                                  rows labelled "faults ..." may fail
  harness: done                   last marker; without it the log is truncated
test_vmalloc.ko prints "Summary: <test> passed: N failed: N repeat: N loops: N
avg: N usec" per selected test case and worker, then "All test took
workerN=C cycles".  KTAP output (KUnit) is parsed with the kernel tree's
kunit.py; --expect-kunit SUITE requires that suite with a passed case.

A human summary goes to stdout, error details to stderr.
Exit status: 0 pass, 1 test failure or bad log, 2 usage error / missing file.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap

# Kernel reports that fail the run, matched against every kernel message (the
# timestamp is stripped).  The first matching pattern names the report, so the
# specific patterns come before the generic ones.
#   kind            regex                               example message
REPORT_PATTERNS = [
    ("Kernel panic", r"Kernel panic - not syncing"),    # ...not syncing: Fatal exception
    ("KASAN", r"\bKASAN: "),                             # BUG: KASAN: use-after-free in f+0x1/0x2
    ("Bad page", r"\bBad page (state|map)\b|\bBad rss-counter"),  # BUG: Bad page state in process
    ("sleeping in atomic", r"BUG: (sleeping function called from invalid context"
                           r"|scheduling while atomic)"),
    ("lockup", r"BUG: soft lockup|hard LOCKUP"),         # BUG: soft lockup - CPU#0 stuck for 26s!
    ("kernel BUG", r"\bkernel BUG at "),                 # kernel BUG at mm/page_alloc.c:123!
    ("lockdep", r"WARNING: (possible (circular|recursive|irq lock inversion)"
                r"|inconsistent lock state|bad unlock balance|held lock freed"
                r"|lock held when returning|suspicious RCU usage|Nested lock was not taken"
                r"|\S+-safe -> \S+-unsafe)|\bINFO: possible \w|\S+/\d+ still has locks held"),
    ("RCU stall", r"\bINFO: \S+ (self-detected stall|detected stalls)"),  # rcu: INFO: rcu_sched self-detected stall
    ("hung task", r"\bINFO: task \S+ blocked for more than|\bhung_task: "),
    ("general protection fault", r"\bgeneral protection fault\b"),
    ("list corruption", r"\blist_(add|del) corruption"),  # list_del corruption, ffff...->next is NULL
    ("UBSAN", r"\bUBSAN: "),                             # UBSAN: shift-out-of-bounds in mm/x.c:1:2
    ("refcount_t", r"\brefcount_t: "),                   # refcount_t: underflow; use-after-free.
    # warn_alloc(), and the percpu allocator's own report of a failed
    # (non-atomic) allocation, which dumps the stack too (mm/percpu.c).
    ("allocation failure", r"\b(page allocation failure|vmalloc error): "
                           r"|\bpercpu: allocation failed, "),
    ("page poisoning", r"\bpagealloc: (single bit error|memory corruption)"),  # mm/page_poison.c
    ("page_owner", r"\bpage_owner (info is not present|allocation stack trace missing"
                   r"|free stack trace missing)"),
    ("BUG", r"\bBUG: "),                                 # BUG: unable to handle page fault for address
    ("WARNING", r"\bWARNING: CPU: \d+ PID: \d+|^WARNING: at "),  # WARNING: CPU: 0 PID: 1 at mm/x.c:1 f+0x1
    ("Oops", r"\bOops\b"),                               # Oops: Oops: 0002 [#1] PREEMPT SMP NOPTI
]
# Deliberately not matched: "WARNING:" in the middle of a line (x86 boot prints
# e.g. "RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable ..."),
# "loops:"/"oops=" (case-sensitive \bOops\b), and lines in SKIP_RE: the kernel
# command line (panic=-1, oops=panic) and "---[ end ... ]---" report trailers.
REPORTS = [(kind, re.compile(rx)) for kind, rx in REPORT_PATTERNS]
SKIP_RE = re.compile(r"^(Kernel )?[Cc]ommand line: |^---\[ end ")
# "Call Trace:" with no report in the CALL_TRACE_WINDOW lines before it is
# still a failure (some unrecognised report or a stray dump_stack()).  An
# expected allocation-failure report (inside a fault window) explains only
# the one Call Trace that follows it within CALL_TRACE_WINDOW lines (its
# dump_stack()); any other Call Trace, in the window or not, fails.
CALL_TRACE_RE = re.compile(r"^\s*Call Trace:")
CALL_TRACE_WINDOW = 100

TIMESTAMP_RE = re.compile(r"\[\s*\d+\.\d{6}\](?:\[\s*[TC]\d+\])? ?")
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
MARKER_RE = re.compile(r"(?:^|\s)harness: (start|vmalloc-row|vmalloc-expect|bench|error"
                       r"|note|leak|vmstat|direct-summary|direct|expect-alloc-failures"
                       r"|done)\b(.*)$")

# Leak accounting of a stress phase (plan "stress"). Free pages are counted
# exactly (buddy + every pcp list), after a warm-up run has grown slab,
# percpu and vmalloc page-table caches to the phase's working set, and after
# deferred frees settled. Pages the kernel's bookkeeping took during the
# phase (slab, percpu, page tables, kernel stacks: other_kb) are accounted
# for, not lost: KASAN's quarantine, for one, keeps freed objects and so
# their slabs (megabytes under stress). What remains unexplained is memory
# in no such counter: a few hundred pages at most (the guest's own files and
# processes, pages in flight on pcp-list drains). A batched free that loses
# one page per vfree() or per run loses thousands in a phase (each does >=
# 1000 vfree()s per thread), so 512 pages (2 MiB) separates the two.
LEAK_TOLERANCE_PAGES = 512
PAGE_KB = 4     # x86_64
# VmallocUsed counts the pages of live vmalloc areas. After the phase, only
# the kernel's own long-lived vmalloc users may hold more (or fewer) pages
# than before: test_vmalloc's pcpu_alloc_test can leave the percpu allocator
# with one more chunk, whose vmalloc'd maps take 531 pages (2124 kB, seen in
# the guest's "vmalloc pages by caller" note: pcpu_create_chunk()). A
# vfree() that leaks leaks in every one of the phase's >= 66000 loop
# iterations, hundreds of MiB, so 4 MiB separates the two.
LEAK_TOLERANCE_VMALLOC_KB = 4096
FAULTS_ROW_PREFIX = "faults"
# Pressure phase (plan "pressure"): free memory is isolated order-0 pages and
# a few order-3 blocks, and vmalloc()'s high-order attempts fail. They may not reclaim or compact, and
# the order-0 fallback is served from free pages sized above the working set,
# so nothing in the phase has a reason to enter direct compaction or direct
# reclaim: any count of these fails the run. (kswapd and kcompactd wake-ups
# are reported, not failed: they run on their own, outside the allocations.)
# Every key must be in the vmstat line (a missing one is not a zero: the run
# fails naming it).  All of them exist in the harness kernel (6.12 x86_64,
# allnoconfig + kconfig/*.config): allocstall_<zone> per configured zone
# (include/linux/vm_event_item.h, mm/vmstat.c TEXTS_FOR_ZONES), and the zones
# are DMA (ZONE_DMA is "default y if X86" and its prompt needs
# ARCH_HAS_ZONE_DMA_SET, selected only with EXPERT, which nothing sets),
# DMA32 (selected by X86_64), NORMAL and MOVABLE (always); no HIGHMEM
# (64-bit) and no DEVICE (ZONE_DEVICE needs MEMORY_HOTPLUG), so neither
# allocstall_high nor allocstall_device is listed.  compact_stall needs
# CONFIG_COMPACTION (kconfig/mm.config); pgscan_direct needs only
# VM_EVENT_COUNTERS (default y, its prompt needs EXPERT).
VMSTAT_MUST_STAY = ("compact_stall", "allocstall_dma", "allocstall_dma32",
                    "allocstall_normal", "allocstall_movable", "pgscan_direct")
# That premise is checked too: the run allocates 512 pages at a time, so its
# first attempts are order 9; /proc/buddyinfo, logged just before the run,
# must show no free block of order 9 or above in any zone, or the attempts
# could succeed and the phase would not test the fallback at all. Except
# blocks that guest-fragment's huge page faults (order 9, no reclaim, no
# compaction, as vmalloc's attempts) could not take: a zone's lowmem reserve
# or watermark keeps them from vmalloc() too (the DMA zone's last order-9
# block, seen in the KASAN guest). Counted in order-9 units (an order-10
# block is two).
PRESSURE_FIRST_ORDER = 9
# And the fallback must have room: at least this many free pages before the
# run (the "bench fragmentation" line's order-0 and higher-order pages), four
# times what the run's two threads hold at a time (2 x 512 pages) and well
# above the 384 MiB guest's high watermark (about 940 pages). With less, the
# order-0 fallback itself may enter direct reclaim, which would fail the
# phase for a reason that is not the one it tests (seen: 2500 free pages,
# allocstall_normal +10, when background compaction had undone the
# fragmenting).
PRESSURE_MIN_FREE_PAGES = 4096
# The counters are global: a direct compaction during the phase may come
# from any allocation in the guest (seen on 7.3: compact_stall +1 with
# vmalloc's high-order attempts unable to compact). Where the guest traced
# every entry into direct compaction and direct reclaim with its stack
# (direct and direct-summary markers), the phase fails on an entry from
# inside vmalloc() -- a frame of VMALLOC_FRAME_RE -- made by a test_vmalloc
# worker (VMALLOC_TASK_RE: the phase's own order-0 areas, whose high-order
# attempts are the subject), and on counters that moved further than the
# traced entries explain (an entry lost or not logged); the other entries are
# reported, not failed. Among those, seen on 7.3: loading test_vmalloc.ko
# itself (guest-insmod: execmem_alloc() -> __vmalloc_node_range() of a
# huge-page mapping, order 9 with direct reclaim, as its caller asked). And
# vmalloc()'s own metadata: an entry whose stack passes through the slab
# allocator (SLAB_FRAME_RE) before it reaches the vmalloc frame is a kmalloc()
# of vmalloc, such as the page array of __vmalloc_area_node(), a GFP_KERNEL
# allocation that may reclaim, not a page of the area (seen on 7.3 with KASAN:
# the 4 KiB array of a 512-page area needs an order-1 slab there).
# compact_stall counts at most one stall per traced try_to_compact_pages(),
# allocstall_* at most ALLOCSTALLS_PER_RECLAIM per traced direct reclaim
# (do_try_to_free_pages() counts one each time it starts over: its
# memcg_full_walk, skipped_deactivate and memcg_low_skipped retries; seen on
# 7.3 with KASAN: allocstall_normal +4 for 2 traced reclaims), and
# pgscan_direct only moves in a direct reclaim.
VMALLOC_FRAME_RE = re.compile(r"^(?:__)?vmalloc|^vm_area_alloc_pages")
SLAB_FRAME_RE = re.compile(r"^_*(?:kmalloc|kvmalloc|kmem_cache_alloc|allocate_slab|slab_alloc|new_slab)")
ALLOCSTALLS_PER_RECLAIM = 4
VMALLOC_TASK_RE = re.compile(r"^vmalloc_test/\d+-\d+$")   # comm-pid (lib/test_vmalloc.c)
DIRECT_EVENTS = {"mm_compaction_try_to_compact_pages": "compaction",
                 "mm_vmscan_direct_reclaim_begin": "reclaim"}
BUDDYINFO_RE = re.compile(r"^buddyinfo: Node \d+, zone\s+(\S+)\s+([\d\s]+)$")
# (7.x prints "xfailed: N" after "failed:": cases that fail by design.)
SUMMARY_RE = re.compile(r"\bSummary: (?P<test>\S+) passed: (?P<passed>\d+) failed: (?P<failed>\d+) "
                        r"(?:xfailed: (?P<xfailed>\d+) )?repeat: (?P<repeat>\d+) "
                        r"loops: (?P<loops>\d+) avg: (?P<avg>\d+) usec")
WORKER_RE = re.compile(r"\bAll test took worker(\d+)=(\d+) cycles")
KTAP_START_RE = re.compile(r"^\s*(KTAP|TAP) version \d+\s*$")
KTAP_RESULT_RE = re.compile(r"^\s*(ok|not ok) \d+ (?:- )?(.*?)(?:\s+#.*)?$")
KTAP_STRUCT_RE = re.compile(r"^\s*(KTAP version|TAP version|1\.\.\d+|# Subtest:|(not )?ok \d+)")
MAX_DIAG = 30

# What each guest plan (scripts/guest-init.sh) must have logged besides
# "done"; checked by check_plan().  Rows are matched by the first word of
# their label.
#   smoke     one "smoke ..." row
#   bench     at least one row
#   stress    one "warmup ..." and one "stress ..." row, at least one
#             "faults ..." row (one per fault-injection try), leak lines of
#             phases stress and faults, "bench cma_alloc_release rounds=N"
#             with N > 0, one expect-alloc-failures begin/end window and
#             "bench fail_page_alloc injected=N" with N > 0
#   pressure  a "pressure ..." row, the vmstat line, the buddyinfo notes and
#             "bench fragmentation ..." logged before the run
#   boot      nothing more (KUnit only)
#   pcp       at least one row, and one "bench pcp row=..." line per row
#             whose tracepoint counts are all numbers
#   latency   at least one row, and one "bench latency row=..." line per
#             row with its max_us and samples (at least one)
#   wakeups   one "wakeups-warmup ..." row, at least one more row, one
#             "bench wakeups row=..." line per row after the warm-up whose
#             counts are all numbers, and "bench fragmentation ..."
#   frag      "bench frag-config ...", at least two "bench frag-sample ..."
#             lines with a tick and o9_units each, one "bench frag-end ...",
#             and one "bench frag-probe ..." of defrag never and one of
#             always, each with its share_pm
PLANS = ("smoke", "bench", "stress", "pressure", "boot", "pcp", "latency", "wakeups", "frag")
PCP_COUNTS = ("drain0", "drain1", "drain2", "drain3", "drain9", "take0")
# What scripts/pcp-report.py --plan wakeups needs of each "bench wakeups" line.
WAKE_COUNTS = ("hi_calls", "hi_fails", "kswapd_wake", "kcompactd_wake", "pageoutrun",
               "compact_daemon_wake", "pgsteal_kswapd", "pgscan_kswapd",
               "compact_daemon_migrate_scanned", "compact_daemon_free_scanned",
               "compact_migrate_scanned", "compact_free_scanned", "pgmigrate_success",
               "compact_stall", "avg_us", "vmallocs")


def split_messages(text):
    """Yield (line number, message) for every kernel message.

    The timestamp is stripped from the message.  A console line holding
    several messages (output interleaved without a newline) yields each."""
    for num, raw in enumerate(text.split("\n"), 1):
        raw = ANSI_RE.sub("", raw.replace("\r", ""))
        stamps = list(TIMESTAMP_RE.finditer(raw))
        starts = [0] + [m.end() for m in stamps]
        ends = [m.start() for m in stamps] + [len(raw)]
        for i, (a, b) in enumerate(zip(starts, ends)):
            if i == 0 and stamps and not raw[:b].strip():
                continue        # nothing before the first timestamp
            yield num, raw[a:b]


def parse_value(v):
    for conv in (int, float):
        try:
            return conv(v)
        except ValueError:
            pass
    return v


class Log:
    """Everything extracted from one console log (no kunit.py involved)."""

    def __init__(self, text):
        self.lines = text.split("\n")
        self.info = {}                  # key=value pairs of the start marker
        self.started = self.done = self.ktap = False
        self.errors, self.bench, self.vmalloc, self.reports = [], [], [], []
        self.empty_rows = []            # vmalloc-row markers without a Summary
        self.rows = []                  # every vmalloc-row marker, in order (see marker())
        self.row = None                 # the open row (a dict of self.rows)
        self.orphans = 0                # Summary lines outside any row
        self.entry_rows = []            # the row (or None) of each self.vmalloc entry
        self.malformed = []             # markers that break the protocol
        self.diag = {}                  # KUnit case name -> [diagnostic lines]
        self.ktap_tail = []             # output since the last KTAP result line
        self.unassigned = []
        self.leaks, self.notes, self.vmstat = [], [], []
        self.direct, self.direct_summary = [], []
        self.faults_tries = 0           # "faults ..." rows inside a fault window
        self.expect_alloc, self.expected_alloc_failures = False, 0
        self.windows = 0                # complete expect-alloc-failures windows
        pending = []        # lines of expected alloc failures whose trace is due
        last_report = -CALL_TRACE_WINDOW - 1    # last report that fails the run
        for num, msg in split_messages(text):
            if self.marker(msg, num):
                continue
            self.vmalloc_line(msg)
            self.ktap_line(msg)
            if SKIP_RE.search(msg):
                continue
            kind = next((k for k, rx in REPORTS if rx.search(msg)), None)
            if kind is None and CALL_TRACE_RE.search(msg):
                pending = [p for p in pending if num - p <= CALL_TRACE_WINDOW]
                if pending:
                    pending.pop(0)      # the stack dump of an expected report
                    continue
                if num - last_report > CALL_TRACE_WINDOW:
                    kind = "Call Trace"     # no report explains this trace
            if kind:
                if self.expect_alloc and kind == "allocation failure":
                    self.expected_alloc_failures += 1
                    pending.append(num)
                    continue
                last_report = num
                self.reports.append({"line": num, "kind": kind, "text": msg.strip()})
        self.close_row()
        if self.expect_alloc:
            self.malformed.append("expect-alloc-failures begin without end")

    def marker(self, msg, num=0):
        m = MARKER_RE.search(msg)
        if not m:
            return False
        kind, args = m.group(1), m.group(2).strip()
        if kind == "vmalloc-expect":    # belongs to the open row: keeps it open
            self.row_expect(args)
            return True
        self.close_row()
        if kind == "start":
            self.started = True
            self.info = dict(w.split("=", 1) for w in args.split() if "=" in w)
        elif kind == "vmalloc-row":
            faults = args.startswith(FAULTS_ROW_PREFIX) and self.expect_alloc
            self.row = {"label": args, "line": num, "expected": None, "tests": None,
                        "threads": None, "summaries": 0, "faults": faults}
            self.rows.append(self.row)
            self.faults_tries += faults
        elif kind == "bench":
            words = args.split()
            entry = {"name": words[0] if words else ""}
            entry.update((k, parse_value(v)) for k, v in
                         (w.split("=", 1) for w in words[1:] if "=" in w))
            self.bench.append(entry)
        elif kind == "error":
            self.errors.append(args)
        elif kind == "note":
            self.notes.append(args)
        elif kind == "leak":
            self.leaks.append({k: parse_value(v) for k, v in
                               (w.split("=", 1) for w in args.split() if "=" in w)})
        elif kind == "vmstat":
            self.vmstat.append({k: parse_value(v) for k, v in
                                (w.split("=", 1) for w in args.split() if "=" in w)})
        elif kind == "direct":
            head, _, stack = args.partition(" stack=")
            entry = dict(w.split("=", 1) for w in head.split() if "=" in w)
            entry["stack"] = stack.split("<") if stack else []
            self.direct.append(entry)
        elif kind == "direct-summary":
            self.direct_summary.append({k: parse_value(v) for k, v in
                                        (w.split("=", 1) for w in args.split() if "=" in w)})
        elif kind == "expect-alloc-failures":
            if args == "begin" and not self.expect_alloc:
                self.expect_alloc = True
            elif args == "end" and self.expect_alloc:
                self.expect_alloc = False
                self.windows += 1
            else:
                state = "open" if self.expect_alloc else "closed"
                self.malformed.append(f"expect-alloc-failures {args!r} with the window {state}")
        elif kind == "done":
            self.done = True
        return True

    def row_expect(self, args):
        """A vmalloc-expect marker: the Summary count of the open row."""
        vals = {k: parse_value(v) for k, v in
                (w.split("=", 1) for w in args.split() if "=" in w)}
        row = self.row
        if row is None or row["expected"] is not None or row["summaries"]:
            self.malformed.append(f"vmalloc-expect {args} not right after a vmalloc-row marker")
        elif not isinstance(vals.get("summaries"), int) or vals["summaries"] < 0:
            self.malformed.append(f"vmalloc-expect {args} of row {row['label']}: "
                                  f"no summaries=N")
        else:
            row["expected"] = vals["summaries"]
            row["tests"], row["threads"] = vals.get("tests"), vals.get("threads")

    def close_row(self):
        if self.row is not None and self.row["summaries"] == 0 and not self.row["faults"]:
            self.empty_rows.append(self.row["label"])
        self.row = None

    def vmalloc_line(self, msg):
        m = SUMMARY_RE.search(msg)
        if m:
            row = self.row
            entry = {"row": row["label"] if row is not None else "(no row marker)",
                     "test": m["test"], "worker": None,
                     "passed": int(m["passed"]), "failed": int(m["failed"]),
                     "xfailed": int(m["xfailed"] or 0),
                     "repeat": int(m["repeat"]), "loops": int(m["loops"]),
                     "avg_us": int(m["avg"])}
            self.vmalloc.append(entry)
            self.entry_rows.append(row)
            self.unassigned.append(entry)
            if row is not None:
                row["summaries"] += 1
            else:
                self.orphans += 1
            return
        m = WORKER_RE.search(msg)
        if m:       # the Summary lines before it belong to this worker
            for entry in self.unassigned:
                entry["worker"] = int(m.group(1))
            self.unassigned = []

    def ktap_line(self, msg):
        """Remember diagnostic lines of KUnit cases for failure reports."""
        if KTAP_START_RE.search(msg):
            self.ktap = True
        if not self.ktap:
            return
        if not KTAP_STRUCT_RE.search(msg):
            if msg.strip():
                self.ktap_tail = (self.ktap_tail + [msg.rstrip()])[-MAX_DIAG:]
            return
        m = KTAP_RESULT_RE.search(msg)
        if m and m.group(1) == "not ok":
            self.diag.setdefault(m.group(2), []).append(self.ktap_tail)
        self.ktap_tail = []


def run_kunit(tree, logfile):
    """Parse the log with the tree's kunit.py; return (kunit json, stdout)."""
    if not tree:
        raise RuntimeError("KTAP needs kunit.py to be parsed, but no --kernel-tree was given")
    kunit_py = os.path.join(tree, "tools", "testing", "kunit", "kunit.py")
    if not os.path.isfile(kunit_py):
        raise RuntimeError(f"kunit.py not found: {kunit_py}")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "kunit.json")  # absolute: kunit.py chdirs
        proc = subprocess.run([sys.executable, kunit_py, "parse", "--json=" + out,
                               os.path.abspath(logfile)],
                              capture_output=True, text=True, timeout=600)
        if not os.path.isfile(out):
            raise RuntimeError(f"kunit.py parse failed (exit {proc.returncode}): "
                               f"{proc.stderr.strip()[-2000:]}")
        with open(out) as f:
            return json.load(f), proc.stdout


def kunit_cases(group, prefix=""):
    """Yield (suite.case name, leaf name, status) for every KUnit test case."""
    for sub in group.get("sub_groups", []):
        yield from kunit_cases(sub, prefix + sub["name"] + ".")
    for case in group.get("test_cases", []):
        name = case["name"] or "<no result line>"
        yield prefix + name, case["name"], case["status"]


def check_kunit(log, args, reasons, err):
    """KUnit part: returns the "kunit" dict of the JSON result."""
    res = {"present": log.ktap, "passed": 0, "failed": 0, "skipped": 0,
           "crashed": 0, "suites": [], "cases": [], "failures": []}
    suite = args.expect_kunit
    if not log.ktap:
        if suite:
            reasons.append(f"no KTAP output (KUnit did not run; suite {suite} expected)")
        return res
    try:
        data, kunit_out = run_kunit(args.kernel_tree, args.log)
    except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as e:
        reasons.append("cannot parse KUnit output")
        err(f"KUnit: {e}")
        return res
    res["suites"] = [g["name"] for g in data.get("sub_groups", [])] + \
        [c["name"] for c in data.get("test_cases", []) if c["name"]]
    diag = {k: list(v) for k, v in log.diag.items()}
    tail = log.ktap_tail        # output after the last KTAP result line
    key = {"PASS": "passed", "SKIP": "skipped", "ERROR": "crashed"}
    for full, leaf, status in kunit_cases(data):
        res[key.get(status, "failed")] += 1
        res["cases"].append({"name": full, "status": key.get(status, "failed")})
        if status in ("PASS", "SKIP"):
            continue
        if leaf:                # a "not ok" case: its diagnostic lines
            lines = diag[leaf].pop(0) if diag.get(leaf) else []
        else:                   # crashed, no result line: last output seen
            lines, tail = tail, []
        res["failures"].append({"name": full, "status": key.get(status, "failed"),
                                "diagnostics": textwrap.dedent("\n".join(lines)).splitlines()})
    if res["failed"] or res["crashed"]:
        names = ", ".join(f["name"] for f in res["failures"][:5])
        reasons.append(f"KUnit: {res['failed']} failed, {res['crashed']} crashed: {names}")
        for f in res["failures"]:
            err(f"KUnit {f['status']}: {f['name']}")
            for line in f["diagnostics"]:
                err(f"    {line}")
        for line in kunit_out.splitlines():
            if "[ERROR]" in line:
                err(f"  kunit.py: {line}")
    if suite:
        # The suite is a group of its cases, or a bare result when it has
        # none (it crashed or failed to initialise before its first case).
        groups = [g for g in data.get("sub_groups", []) if g["name"] == suite] + \
            [{"test_cases": [c]} for c in data.get("test_cases", []) if c["name"] == suite]
        statuses = [status for g in groups for _, _, status in kunit_cases(g)]
        if not groups:
            reasons.append(f"KUnit: no suite {suite} ran (suites: "
                           f"{', '.join(res['suites']) or 'none'})")
        elif "PASS" not in statuses:
            skipped = statuses.count("SKIP")
            reasons.append(f"KUnit: suite {suite} has no passed case "
                           f"({skipped} skipped of {len(statuses)})")
    return res


def check_rows(log, reasons):
    """test_vmalloc rows: a result, the expected number of Summary lines, and
    in every Summary a run of each repeat that did not fail."""
    for text in log.malformed:
        reasons.append(f"bad marker: {text}")
    for row in log.empty_rows:
        reasons.append(f"row {row} produced no result")
    for row in log.rows:
        n, want = row["summaries"], row["expected"]
        split = "" if row["tests"] is None else \
            f" ({row['tests']} test cases x {row['threads']} threads)"
        if want is None:
            reasons.append(f"row {row['label']}: no vmalloc-expect marker "
                           "(the number of Summary lines it must print is unknown)")
        elif row["faults"]:
            # Injected faults may fail the module load (no line) or its
            # worker array (no line): fewer lines, never more.
            if n > want:
                reasons.append(f"row {row['label']}: {n} Summary lines, expected at most "
                               f"{want}{split}")
        elif n and n != want:
            reasons.append(f"row {row['label']}: {n} Summary lines, expected {want}{split}")
    if log.orphans:
        reasons.append(f"{log.orphans} test_vmalloc Summary lines outside any vmalloc-row")
    # Injected faults may fail a try's module load or every worker's start:
    # the guest tries again, and a phase that never tested anything fails.
    if log.faults_tries and not any(v["passed"] + v["failed"]
                                    for v, row in zip(log.vmalloc, log.entry_rows)
                                    if row is not None and row["faults"]):
        reasons.append(f"faults phase: no test_vmalloc test ran in {log.faults_tries} "
                       f"tries (the injected faults failed the module load or "
                       f"every worker's start)")
    short = {}              # row -> Summary lines with runs missing
    for v, row in zip(log.vmalloc, log.entry_rows):
        if row is not None and row["faults"]:
            continue
        worker = "" if v["worker"] is None else f" (worker{v['worker']})"
        if v["failed"] > 0:
            reasons.append(f"test_vmalloc row {v['row']}: {v['test']}{worker} failed: {v['failed']}")
        elif v["passed"] + v["failed"] != v["repeat"]:
            # Each worker runs each selected case test_repeat_count times;
            # "passed: 0 failed: 0" is a worker that never started.
            short.setdefault(v["row"], []).append(
                f"{v['test']}{worker} ran {v['passed'] + v['failed']} of {v['repeat']} repeats")
    for row, what in short.items():
        more = f" (and {len(what) - 1} more Summary lines like it)" if len(what) > 1 else ""
        reasons.append(f"test_vmalloc row {row}: {what[0]}{more}")


def check_leaks(log, reasons):
    for lk in log.leaks:
        try:
            lost = lk["free_before"] - lk["free_after"]
            grown = lk["vmalloc_kb_after"] - lk["vmalloc_kb_before"]
            other = (lk["other_kb_after"] - lk["other_kb_before"]) // PAGE_KB \
                if "other_kb_before" in lk else 0
            # Pages of live vmalloc areas (a new percpu chunk: 531) are
            # VmallocUsed's to account for, with its own tolerance below.
            other += max(grown, 0) // PAGE_KB
        except (KeyError, TypeError):
            reasons.append(f"malformed leak line: {lk}")
            continue
        if lost - other > LEAK_TOLERANCE_PAGES:
            held = f", {other} of them held by slab/percpu/page tables" if other else ""
            reasons.append(f"leak: phase {lk.get('phase')} lost {lost} free pages{held} "
                           f"(unexplained {lost - other}, tolerance {LEAK_TOLERANCE_PAGES})")
        if grown > LEAK_TOLERANCE_VMALLOC_KB:
            reasons.append(f"leak: phase {lk.get('phase')} left VmallocUsed {grown} kB higher "
                           f"(tolerance {LEAK_TOLERANCE_VMALLOC_KB} kB)")


def from_vmalloc(entry):
    """True if ENTRY came from a page allocation inside vmalloc() in a
    test_vmalloc worker: a vmalloc frame with no slab frame inside it (the
    stack runs from the innermost frame out)."""
    if not VMALLOC_TASK_RE.match(entry.get("task", "")):
        return False
    for f in entry["stack"]:
        if SLAB_FRAME_RE.match(f):
            return False
        if VMALLOC_FRAME_RE.match(f):
            return True
    return False


def describe_direct(entry):
    kind = DIRECT_EVENTS.get(entry.get("event"), entry.get("event"))
    gfp = entry.get("gfp_mask", entry.get("gfp_flags", "?"))
    return (f"{kind} by {entry.get('task', '?')} order {entry.get('order', '?')} gfp {gfp} "
            f"(stack {'<'.join(entry['stack'][:8]) or 'empty'})")


def check_direct(log, phase, vs, summary, grown, reasons):
    """A pressure phase whose entries into direct compaction/reclaim were traced."""
    entries = [d for d in log.direct if d.get("phase") == phase]
    for k in ("events", "logged", "entries", "written"):
        if not isinstance(summary.get(k), int):
            reasons.append(f"phase {phase}: direct-summary {k}={summary.get(k)} is not a number")
            return
    if summary["logged"] != len(entries):
        reasons.append(f"phase {phase}: direct-summary says {summary['logged']} entries "
                       f"logged, the log has {len(entries)}")
    vmalloc = [d for d in entries if from_vmalloc(d)]
    if vmalloc:
        reasons.append(f"phase {phase}: {len(vmalloc)} direct compaction/reclaim entries "
                       f"from inside vmalloc() in test_vmalloc, first: "
                       f"{describe_direct(vmalloc[0])}")
    complete = (summary["entries"] == summary["written"]
                and summary["logged"] == summary["events"])
    counts = {kind: sum(DIRECT_EVENTS.get(d.get("event")) == kind for d in entries)
              for kind in ("compaction", "reclaim")}
    stalls = vs.get("compact_stall", 0) if isinstance(vs.get("compact_stall"), int) else 0
    allocstalls = sum(v for k, v in vs.items() if k.startswith("allocstall_") and isinstance(v, int))
    pgscan = vs.get("pgscan_direct", 0) if isinstance(vs.get("pgscan_direct"), int) else 0
    unexplained = []
    if stalls > counts["compaction"]:
        unexplained.append(f"compact_stall +{stalls} with {counts['compaction']} traced "
                           f"direct compactions")
    if (allocstalls > ALLOCSTALLS_PER_RECLAIM * counts["reclaim"]
            or (pgscan > 0 and not counts["reclaim"])):
        unexplained.append(f"allocstall +{allocstalls}, pgscan_direct +{pgscan} with "
                           f"{counts['reclaim']} traced direct reclaims")
    if unexplained or (grown and not complete):
        lost = (f"; the trace kept {summary['entries']} of {summary['written']} entries and "
                f"{summary['logged']} of {summary['events']} were logged" if not complete else "")
        reasons.append(f"phase {phase}: direct compaction/reclaim not attributed: "
                       + ", ".join(unexplained or grown) + lost)


def check_pressure(log, reasons):
    """Direct compaction/reclaim counters, and the premise of the phase."""
    for vs in log.vmstat:
        phase = vs.get("phase")
        for k in VMSTAT_MUST_STAY:
            if k not in vs:
                hint = " (kernel without CONFIG_COMPACTION?)" if k.startswith("compact") else ""
                reasons.append(f"phase {phase}: no {k} counter in the vmstat line{hint}")
            elif not isinstance(vs[k], int):
                reasons.append(f"phase {phase}: vmstat {k}={vs[k]} is not a number")
        grown = [f"{k} +{vs[k]}" for k in VMSTAT_MUST_STAY
                 if isinstance(vs.get(k), int) and vs[k] > 0]
        summary = next((d for d in log.direct_summary if d.get("phase") == phase), None)
        if summary is None:
            if grown:
                reasons.append(f"phase {phase}: direct compaction/reclaim: " + ", ".join(grown))
        else:
            check_direct(log, phase, vs, summary, grown, reasons)
    zones = [m.groups() for m in (BUDDYINFO_RE.match(n) for n in log.notes) if m]
    if not zones:
        reasons.append("pressure: no buddyinfo before the run (is the premise of "
                       "failing high-order attempts true?)")
    units = {zone: sum(int(c) << o for o, c in
                       enumerate(counts.split()[PRESSURE_FIRST_ORDER:]))
             for zone, counts in zones}
    frag = next((b for b in log.bench if b["name"] == "fragmentation"), {})
    untaken = frag.get("untaken_order9_units", 0)
    free = [frag.get(k) for k in ("order0_free_pages", "higher_order_free_pages")]
    if frag and not all(isinstance(f, int) for f in free):
        reasons.append("pressure: the fragmentation line's free page counts are not numbers: "
                       f"{free}")
    elif frag and sum(free) < PRESSURE_MIN_FREE_PAGES:
        reasons.append(f"pressure: {sum(free)} free pages before the run, fewer than "
                       f"{PRESSURE_MIN_FREE_PAGES}: the order-0 fallback could need reclaim, "
                       f"the phase would not test the high-order attempts alone")
    if not isinstance(untaken, int):
        reasons.append(f"pressure: untaken_order9_units={untaken} is not a number")
        untaken = 0
    if sum(units.values()) > untaken:
        where = ", ".join(f"{z} {u}" for z, u in units.items() if u)
        reasons.append(f"pressure: {sum(units.values())} free order-{PRESSURE_FIRST_ORDER} "
                       f"units before the run ({where}), {untaken} of them out of reach: "
                       f"high-order attempts could succeed, the fallback went untested")


def check_plan(log, reasons):
    """What the start marker's plan must have logged (PLANS above)."""
    if not log.started:
        return                  # reported already
    plan = log.info.get("plan")
    if plan is None:
        reasons.append("the start marker names no plan")
        return
    if plan not in PLANS:
        reasons.append(f"unknown plan '{plan}' (known: {', '.join(PLANS)})")
        return
    count = {}
    for row in log.rows:
        first = (row["label"].split() or [""])[0]
        count[first] = count.get(first, 0) + 1
    bench = {}
    for b in log.bench:
        bench.setdefault(b["name"], b)
    missing = []
    if plan == "smoke" and count.get("smoke", 0) != 1:
        missing.append(f"{count.get('smoke', 0)} 'smoke ...' rows, expected 1")
    elif plan == "bench" and not log.rows:
        missing.append("no test_vmalloc row")
    elif plan == "stress":
        for word in ("warmup", "stress"):
            if count.get(word, 0) != 1:
                missing.append(f"{count.get(word, 0)} '{word} ...' rows, expected 1")
        if not count.get("faults"):
            missing.append("no 'faults ...' row (the fault-injection phase did not run)")
        phases = [lk.get("phase") for lk in log.leaks]
        for phase in ("stress", "faults"):
            if phase not in phases:
                missing.append(f"no leak line for phase {phase}")
        if log.windows != 1:
            missing.append(f"{log.windows} expect-alloc-failures begin/end windows, expected 1")
        for name, key, what in (("cma_alloc_release", "rounds",
                                 "CMA rounds (alloc_contig_range()/cma_release() untested)"),
                                ("fail_page_alloc", "injected",
                                 "injected faults (no failure path tested)")):
            if name not in bench:
                missing.append(f"no 'bench {name}' line")
                continue
            n = bench[name].get(key)
            if not isinstance(n, int) or n <= 0:
                missing.append(f"bench {name} {key}={n}: no {what}")
    elif plan == "pressure":
        if not count.get("pressure"):
            missing.append("no 'pressure ...' row")
        if not log.vmstat:
            missing.append("no vmstat line")
        if "fragmentation" not in bench:
            missing.append("no 'bench fragmentation' line")
    elif plan == "pcp":
        pcp = [b for b in log.bench if b["name"] == "pcp"]
        if not log.rows:
            missing.append("no test_vmalloc row")
        elif len(pcp) != len(log.rows):
            missing.append(f"{len(pcp)} 'bench pcp' lines for {len(log.rows)} rows")
        for b in pcp:
            bad = [k for k in PCP_COUNTS + ("high_low", "high_end") if not isinstance(b.get(k), int)]
            if bad:
                missing.append(f"bench pcp row={b.get('row')}: no count of {', '.join(bad)}")
    elif plan == "latency":
        lat = [b for b in log.bench if b["name"] == "latency"]
        if not log.rows:
            missing.append("no test_vmalloc row")
        elif len(lat) != len(log.rows):
            missing.append(f"{len(lat)} 'bench latency' lines for {len(log.rows)} rows")
        for b in lat:
            if any(not isinstance(b.get(k), int) for k in ("max_us", "samples", "over_1ms", "over_10ms")) \
                    or b["samples"] < 1:
                missing.append(f"bench latency row={b.get('row')}: no max_us, or no sample")
    elif plan == "wakeups":
        wake = [b for b in log.bench if b["name"] == "wakeups"]
        runs = [r for r in log.rows if not r["label"].startswith("wakeups-warmup")]
        if count.get("wakeups-warmup", 0) != 1:
            missing.append(f"{count.get('wakeups-warmup', 0)} 'wakeups-warmup ...' rows, expected 1")
        if not runs:
            missing.append("no test_vmalloc row after the warm-up")
        lines = {}
        for b in wake:
            lines.setdefault(str(b.get("row")), []).append(b)
        for r in runs:
            name = r["label"].replace(" ", "_")
            n = len(lines.pop(name, []))
            if n != 1:
                missing.append(f"row {r['label']}: {n} 'bench wakeups' lines, expected 1")
        for name in lines:
            missing.append(f"'bench wakeups' line of row {name}, which did not run")
        for b in wake:
            bad = [k for k in WAKE_COUNTS if not isinstance(b.get(k), int)]
            if bad:
                missing.append(f"bench wakeups row={b.get('row')}: no count of {', '.join(bad)}")
            elif b["vmallocs"] <= 0:
                missing.append(f"bench wakeups row={b.get('row')}: vmallocs={b['vmallocs']}, "
                               "no vmalloc() to count per")
        if "fragmentation" not in bench:
            missing.append("no 'bench fragmentation' line")
    elif plan == "frag":
        samples = [b for b in log.bench if b["name"] == "frag-sample"]
        probes = [b for b in log.bench if b["name"] == "frag-probe"]
        for name in ("frag-config", "frag-end"):
            n = sum(b["name"] == name for b in log.bench)
            if n != 1:
                missing.append(f"{n} 'bench {name}' lines, expected 1")
        if len(samples) < 2:
            missing.append(f"{len(samples)} 'bench frag-sample' lines, expected at least 2")
        for b in samples:
            bad = [k for k in ("tick", "o9_units") if not isinstance(b.get(k), int)]
            if bad:
                missing.append(f"bench frag-sample tick={b.get('tick')}: no {', '.join(bad)}")
        for d in ("never", "always"):
            got = [b for b in probes if b.get("defrag") == d]
            if len(got) != 1:
                missing.append(f"{len(got)} 'bench frag-probe defrag={d}' lines, expected 1")
            elif not isinstance(got[0].get("share_pm"), int):
                missing.append(f"bench frag-probe defrag={d}: no share_pm")
    for text in missing:
        reasons.append(f"plan {plan}: {text}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernel-tree", metavar="DIR", help="kernel tree holding tools/testing/kunit/kunit.py")
    ap.add_argument("--expect-kunit", metavar="SUITE",
                    help="fail unless KUnit suite SUITE ran with a passed case")
    ap.add_argument("--expect-vmalloc", action="store_true", help="fail unless test_vmalloc printed results")
    ap.add_argument("--json", metavar="OUT.json", help="write the results as JSON")
    ap.add_argument("log", metavar="CONSOLE.log")
    args = ap.parse_args()
    if not os.path.isfile(args.log):
        print(f"check-log: no such file: {args.log}", file=sys.stderr)
        return 2

    def err(msg):
        print(msg, file=sys.stderr, flush=True)

    with open(args.log, encoding="utf-8", errors="replace") as f:
        log = Log(f.read())
    reasons = []

    if not log.started:
        reasons.append("no 'harness: start' marker")
    for text in log.errors:
        reasons.append(f"guest error: {text}")
        err(f"harness error: {text}")
    if log.reports:
        kinds = list(dict.fromkeys(r["kind"] for r in log.reports))
        reasons.append("kernel reports: " + ", ".join(kinds))
        err(f"kernel reports ({len(log.reports)}):")
        for r in log.reports[:50]:
            err(f"  line {r['line']}: [{r['kind']}] {r['text']}")
        first = log.reports[0]["line"]
        err(f"context after line {first}:")
        for n in range(first, min(first + 11, len(log.lines) + 1)):
            err(f"  {n:5}| {log.lines[n - 1].rstrip()}")
    kunit = check_kunit(log, args, reasons, err)
    check_rows(log, reasons)
    check_leaks(log, reasons)
    if log.vmstat or log.info.get("plan") == "pressure":
        check_pressure(log, reasons)
    check_plan(log, reasons)
    if args.expect_vmalloc and not log.vmalloc:
        reasons.append("no test_vmalloc Summary lines")
    if not log.done:
        reasons.append("log truncated: no 'harness: done' marker")
        err("log truncated: no 'harness: done' marker; last 20 lines:")
        last = len(log.lines)
        while last > 0 and not log.lines[last - 1].strip():
            last -= 1
        for n in range(max(1, last - 19), last + 1):
            err(f"  {n:5}| {log.lines[n - 1].rstrip()}")

    # Human summary on stdout.
    print(f"log: {args.log}  variant={log.info.get('variant', '?')} plan={log.info.get('plan', '?')}")
    if kunit["present"]:
        print(f"kunit: {kunit['passed']} passed, {kunit['failed']} failed, "
              f"{kunit['skipped']} skipped, {kunit['crashed']} crashed "
              f"(suites: {', '.join(kunit['suites']) or 'none'})")
    else:
        print("kunit: no KTAP output")
    print("test_vmalloc:" + ("" if log.vmalloc else " no results"))
    workers = {}            # row -> workers seen; name the worker if several
    for v in log.vmalloc:
        workers.setdefault(v["row"], set()).add(v["worker"])
    for v in log.vmalloc:
        worker = f" w{v['worker']}" if len(workers[v["row"]]) > 1 else ""
        print(f"  {v['row'] + worker:<30} {v['test']:<30} passed {v['passed']} "
              f"failed {v['failed']} avg {v['avg_us']} usec")
    rows = {}               # row -> [test runs, loop iterations, failed runs]
    for v in log.vmalloc:
        r = rows.setdefault(v["row"], [0, 0, 0])
        r[0] += v["passed"] + v["failed"]
        r[1] += (v["passed"] + v["failed"]) * v["loops"]
        r[2] += v["failed"]
    lines = {}              # row -> [Summary lines, expected] over its loads
    for row in log.rows:
        n = lines.setdefault(row["label"], [0, 0])
        n[0] += row["summaries"]
        n[1] = None if n[1] is None or row["expected"] is None else n[1] + row["expected"]
    for row, (runs, iters, failed) in rows.items():
        have, want = lines.get(row, (0, None))
        print(f"row {row}: {runs} test runs, {iters} loop iterations, {failed} failed, "
              f"{have} Summary lines (expected {'?' if want is None else want})")
    for lk in log.leaks:
        other = ""
        if "other_kb_before" in lk:
            other = (f", slab/percpu/page tables/stacks {lk.get('other_kb_before')} -> "
                     f"{lk.get('other_kb_after')} kB")
        print(f"leak: phase {lk.get('phase')}: free pages {lk.get('free_before')} -> "
              f"{lk.get('free_after')}, VmallocUsed {lk.get('vmalloc_kb_before')} -> "
              f"{lk.get('vmalloc_kb_after')} kB{other}")
    for vs in log.vmstat:
        print(f"vmstat: phase {vs.get('phase')}: " +
              " ".join(f"{k} {v:+d}" if isinstance(v, int) else f"{k} {v}"
                       for k, v in vs.items() if k != "phase"))
    for d in log.direct_summary:
        print(f"direct: phase {d.get('phase')}: {d.get('events')} entries into direct "
              f"compaction/reclaim traced")
    for d in log.direct:
        where = ("from vmalloc() in test_vmalloc" if from_vmalloc(d)
                 else "not from test_vmalloc's vmalloc() (allowed)")
        print(f"direct: phase {d.get('phase')}: {where}: {describe_direct(d)}")
    if log.expected_alloc_failures:
        print(f"expected allocation-failure reports (injected faults): "
              f"{log.expected_alloc_failures}")
    for b in log.bench:
        print("bench: " + " ".join([b["name"]] + [f"{k}={v}" for k, v in b.items() if k != "name"]))
    if log.reports:
        print("kernel reports: " + ", ".join(f"{r['kind']} (line {r['line']})" for r in log.reports[:10]))
    else:
        print("kernel reports: none")
    print("result: PASS" if not reasons else f"result: FAIL ({'; '.join(reasons)})")

    if args.json:
        result = {"log": os.path.abspath(args.log), "variant": log.info.get("variant"),
                  "plan": log.info.get("plan"), "kunit": kunit, "vmalloc": log.vmalloc,
                  "rows": log.rows, "bench": log.bench, "reports": log.reports,
                  "errors": log.errors,
                  "leaks": log.leaks, "notes": log.notes, "vmstat": log.vmstat,
                  "direct": log.direct, "direct_summary": log.direct_summary,
                  "expected_alloc_failures": log.expected_alloc_failures,
                  "reasons": reasons, "pass": not reasons}
        try:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=2)
                f.write("\n")
        except OSError as e:
            err(f"check-log: cannot write {args.json}: {e}")
            return 2
    return 0 if not reasons else 1


if __name__ == "__main__":
    sys.exit(main())

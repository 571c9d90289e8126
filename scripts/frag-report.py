#!/usr/bin/python3
"""Report of the fragmentation study: free order-9 memory, pageblock mixing,
compaction and reclaim per kernel, over seeds, per compaction proactiveness.

Usage: frag-report.py --out PREFIX --kernels K1,K2,... [--pairs A:B,...]
                      [--meta KEY=VALUE ...] [--discussion FILE]
                      [--min-fall-pct PCT] LOG.json...

Each LOG.json is check-log.py's --json result of one guest boot: "variant"
(the kernel; a suffix "+frag", the harness module of make frag, is dropped), "pass" and "bench", whose entries come from the guest's
"harness: bench NAME key=value ..." lines.  This report reads:
  frag-config   seed, proactiveness (vm.compaction_proactiveness), mem_kb,
                ticks, sample_every
  frag-sample   one per sample, in order: tick, o9_units (free order-9 blocks
                + 2 x order-10), free_kb, o4_plus_kb, pb_unmovable,
                pb_movable, pb_reclaimable, extfrag, steal and the counters
                of /proc/vmstat since the workload started (compact_*,
                pgmigrate_success, pageoutrun, pgscan/pgsteal_kswapd/direct,
                allocstall_normal/dma32, thp_fault_alloc/fallback; or the
                short names guest-fraggen uses when a line would be too
                long: c_stall, c_fail, ... thp_fb, see SHORT_KEYS), used_kb,
                vmalloc_fail, skipped, failed, ...
  frag-end      ticks, ops, freed, kept, vmalloc_fail, skipped, failed
  frag-probe    two per boot, defrag=never and defrag=always: tried, huge,
                share_pm (per mille of the memory obtained as order-9
                blocks), ms and the compaction counters during the probe.
A key missing from a sample is absent, never zero: a value "at the end" is
that of the last sample carrying the key, the minimum and mean of o9_units
are over the samples carrying it.  Samples without a numeric tick are not used.

Boots are grouped by (proactiveness, kernel); each boot of a group is one
seed.  A boot whose "pass" is not true is listed and left out.  Every kernel
of a proactiveness should have the same seeds: the seeds a kernel lacks are
listed.  Boots of one (proactiveness, kernel, seed) given twice, a passing
boot of a kernel not in --kernels or without a usable frag-config, and two
probes with the same defrag in one boot are input errors.

Premise: the workload must fragment the reference kernel (order0, or the
first of --kernels without it).  For each of its seeds, per proactiveness,
o9_units at tick 0 must be > 0 and its minimum over the samples after tick 0
at most (100 - PCT)% of it (--min-fall-pct PCT, default 20).  If a seed
fails, or the reference has no passing boot at a proactiveness, the report
says "premise does not hold" and the exit status is 1 (all outputs written).

Statistics (scripts/reportstats.py): per (proactiveness, kernel, metric) the
mean and 95% CI of the mean over the seeds; per pair A:B (--pairs, default
each kernel against order0 (or the first kernel) and series against
upstream) and metric, delta_pct = (mean B / mean A - 1) * 100 and Welch's p;
p < 0.05 marks B as significantly higher (H) or lower (L) than A.  The report
does not call either better: that depends on the metric.

Writes PREFIX.md, PREFIX.json, PREFIX-o9.png (o9_units over the ticks, mean
and 95% CI band per kernel, a panel per proactiveness), PREFIX-work.png (the
end-of-run compaction, reclaim and fallback counters per kernel, a panel per
counter, a row per proactiveness) and PREFIX-probe.png (probe share_pm per
kernel, defrag never and always, a panel per proactiveness).

PREFIX.json (proactiveness values are string keys, e.g. "20"):
  meta            {KEY: VALUE} of --meta
  inputs          the LOG.json paths as given
  kernels         --kernels, in order; reference: the premise's kernel
  pairs           [{"a": A, "b": B, "key": "A:B"}]
  min_fall_pct    --min-fall-pct
  alpha           0.05
  metrics         [{"key", "group", "title"}], in report order
  groups          [{"key", "title"}]
  proactiveness   [P, ...] (numbers, ascending)
  boots           per input file: {"path", "kernel", "pass", "used",
                  "proactiveness", "seed", "reasons" (check-log's, for a
                  failed boot), "config" (frag-config), "end" (frag-end),
                  "probes" {"never"|"always": frag-probe}, "untimed"
                  (frag-sample lines without a numeric tick), "values"
                  {metric: number or null}, "o9" [[tick, o9_units], ...]}
  failed          [{"path", "kernel", "proactiveness", "seed", "reasons"}]
  seeds           {P: {"all": [seeds of any kernel], "by_kernel": {K: [...]},
                  "missing": {K: [seeds of other kernels K lacks]}}}
  aggregates      {P: {K: {metric: {"n", "mean", "ci95", "values"} or null}}}
  o9_curve        {P: {K: {"tick": [...], "n": [...], "mean": [...],
                  "ci95": [... or null]}}}
  comparisons     {P: {"A:B": {metric: {"mean_a", "mean_b", "n_a", "n_b",
                  "delta_pct", "p", "significant", "higher" ("a", "b" or
                  null)} or null}}}
  premise         {"reference", "min_fall_pct", "holds", "problems" [text],
                  "by_proactiveness": {P: {"holds", "why", "seeds": [{"seed",
                  "path", "start", "min", "end", "fall_pct", "holds", "why"}]}},
                  "other_kernels": {P: {K: [the same per-seed dicts]}}}
  outputs         {"md", "json", "o9_png", "work_png", "probe_png"}

Exit status: 0 report written, premise holds; 1 report written, premise
does not hold; 2 usage error or unusable input (nothing written).
Needs Debian's python3-scipy and python3-matplotlib (/usr/bin/python3).
"""
import argparse
import json
import math
import os
import re
import sys
import warnings

sys.dont_write_bytecode = True     # no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reportstats import summary, welch  # noqa: E402

PROG = "frag-report.py"
ALPHA = 0.05
DEFRAGS = ("never", "always")
PROBE_KEYS = ("share_pm", "ms", "tried", "huge", "compact_stall", "compact_success",
              "compact_fail", "compact_migrate_scanned", "compact_free_scanned",
              "pgmigrate_success")
# The end-of-run counters of PREFIX-work.png.
WORK_KEYS = ("compact_stall", "compact_migrate_scanned", "compact_free_scanned",
             "compact_daemon_wake", "pageoutrun", "pgsteal_kswapd", "extfrag", "steal")
NAME_RE = re.compile(r"[A-Za-z0-9_.+-]+")
# The short names guest-fraggen gives the /proc/vmstat counters of a
# frag-sample line that would not fit in 900 bytes otherwise.
SHORT_KEYS = {"c_stall": "compact_stall", "c_fail": "compact_fail", "c_succ": "compact_success",
              "c_wake": "compact_daemon_wake", "c_mscan": "compact_migrate_scanned",
              "c_fscan": "compact_free_scanned", "mig_ok": "pgmigrate_success",
              "pgout": "pageoutrun", "scan_k": "pgscan_kswapd", "steal_k": "pgsteal_kswapd",
              "scan_d": "pgscan_direct", "steal_d": "pgsteal_direct",
              "as_norm": "allocstall_normal", "as_dma32": "allocstall_dma32",
              "thp_ok": "thp_fault_alloc", "thp_fb": "thp_fault_fallback"}


class InputError(Exception):
    """Unusable input: exit 2, nothing written."""


def die(msg, code=2):
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    sys.exit(code)


def number(v):
    """V if it is a finite number (not a bool), else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


# ---------------------------------------------------------------- metrics --
# Each metric is made from a boot (see Boot below) by a function that returns
# a number or None (absent).

def last(key):
    return lambda b: b.last(key)


def last_sum(*keys):
    """The sum of KEYS in the last sample that carries all of them."""
    def f(b):
        for s in reversed(b.samples):
            vals = [number(s.get(k)) for k in keys]
            if all(v is not None for v in vals):
                return sum(vals)
        return None
    return f


def end_or_last(key):
    """frag-end's KEY, else the last sample's."""
    def f(b):
        v = number(b.end.get(key))
        return v if v is not None else b.last(key)
    return f


def end_only(key):
    return lambda b: number(b.end.get(key))


def last_sum_pair(b, ok_key, fail_key):
    """ok / (ok + fail) from the last sample carrying both."""
    for s in reversed(b.samples):
        ok, fail = number(s.get(ok_key)), number(s.get(fail_key))
        if ok is not None and fail is not None:
            return ok / (ok + fail) if ok + fail > 0 else None
    return None


def probe(defrag, key):
    return lambda b: number(b.probes.get(defrag, {}).get(key))


GROUPS = [
    ("o9", "Free order-≥9 memory (o9_units: free order-9 blocks + 2 × order-10)", [
        ("o9_start", "o9_units at tick 0", lambda b: b.o9_start()),
        ("o9_end", "o9_units at the end", last("o9_units")),
        ("o9_min", "o9_units minimum after tick 0", lambda b: b.o9_min()),
        ("o9_area", "o9_units mean over the samples (area)", lambda b: b.o9_area()),
        ("o4_plus_kb_end", "free kB in order-≥4 blocks at the end", last("o4_plus_kb")),
        ("free_kb_end", "free kB at the end", last("free_kb")),
    ]),
    ("mix", "Pageblock mixing and fallbacks (at the end)", [
        ("pb_mixed_end", "pb_unmovable + pb_reclaimable (mixed-use proxy)",
         last_sum("pb_unmovable", "pb_reclaimable")),
        ("pb_unmovable_end", "pb_unmovable", last("pb_unmovable")),
        ("pb_reclaimable_end", "pb_reclaimable", last("pb_reclaimable")),
        ("pb_movable_end", "pb_movable", last("pb_movable")),
        ("extfrag", "fallbacks (mm_page_alloc_extfrag)", last("extfrag")),
        ("steal", "fallbacks that changed a pageblock's owner", last("steal")),
    ]),
    ("compaction", "Compaction (counters since the workload started, at the end)", [
        ("compact_stall", "compact_stall", last("compact_stall")),
        ("compact_fail", "compact_fail", last("compact_fail")),
        ("compact_success", "compact_success", last("compact_success")),
        ("compact_daemon_wake", "compact_daemon_wake", last("compact_daemon_wake")),
        ("compact_migrate_scanned", "compact_migrate_scanned", last("compact_migrate_scanned")),
        ("compact_free_scanned", "compact_free_scanned", last("compact_free_scanned")),
        ("pgmigrate_success", "pgmigrate_success", last("pgmigrate_success")),
    ]),
    ("kswapd", "kswapd (at the end)", [
        ("pageoutrun", "pageoutrun", last("pageoutrun")),
        ("pgscan_kswapd", "pgscan_kswapd", last("pgscan_kswapd")),
        ("pgsteal_kswapd", "pgsteal_kswapd", last("pgsteal_kswapd")),
    ]),
    ("direct", "Direct reclaim (at the end)", [
        ("pgscan_direct", "pgscan_direct", last("pgscan_direct")),
        ("pgsteal_direct", "pgsteal_direct", last("pgsteal_direct")),
        ("allocstall_normal", "allocstall_normal", last("allocstall_normal")),
        ("allocstall_dma32", "allocstall_dma32", last("allocstall_dma32")),
    ]),
    ("thp", "THP faults (at the end)", [
        ("thp_fault_alloc", "thp_fault_alloc", last("thp_fault_alloc")),
        ("thp_fault_fallback", "thp_fault_fallback", last("thp_fault_fallback")),
        ("thp_fault_success", "thp_fault_alloc / (thp_fault_alloc + thp_fault_fallback)",
         lambda b: last_sum_pair(b, "thp_fault_alloc", "thp_fault_fallback")),
    ]),
    ("workload", "Workload (frag-end; vmalloc_fail, skipped and failed from the last sample "
     "when frag-end lacks them)", [
        ("vmalloc_fail", "vmalloc() failures", end_or_last("vmalloc_fail")),
        ("ops", "operations", end_only("ops")),
        ("freed", "freed", end_only("freed")),
        ("kept", "kept", end_only("kept")),
        ("skipped", "skipped", end_or_last("skipped")),
        ("failed", "operations failed for want of memory", end_or_last("failed")),
        ("used_kb_end", "used kB at the end", last("used_kb")),
    ]),
] + [
    (f"probe_{d}", f"Probe with THP defrag={d} (share_pm: per mille of memory "
     "obtained as order-9 blocks; counters: deltas during the probe)",
     [(f"probe_{d}_{k}", f"{k}", probe(d, k)) for k in PROBE_KEYS])
    for d in DEFRAGS
]
METRICS = [(key, gkey, title, f) for gkey, _, ms in GROUPS for key, title, f in ms]
METRIC_TITLE = {key: title for key, _, title, _ in METRICS}


# ------------------------------------------------------------------ input --

class Boot:
    """One LOG.json."""

    def __init__(self, path, log):
        self.path = path
        # make frag boots each kernel with the harness module on top
        # (variant NAME+frag): the kernel is NAME.
        kernel = log.get("variant")
        if isinstance(kernel, str) and kernel.endswith("+frag"):
            kernel = kernel[:-len("+frag")]
        self.kernel = kernel
        self.passed = log.get("pass") is True
        self.reasons = [str(r) for r in (log.get("reasons") or [])]
        bench = [b for b in log.get("bench") or [] if isinstance(b, dict)]
        configs = [b for b in bench if b.get("name") == "frag-config"]
        self.config = {k: v for k, v in configs[0].items() if k != "name"} if configs else {}
        self.proactiveness = number(self.config.get("proactiveness"))
        self.seed = self.config.get("seed")
        if isinstance(self.seed, float) and self.seed.is_integer():
            self.seed = int(self.seed)
        ends = [b for b in bench if b.get("name") == "frag-end"]
        self.end = {k: v for k, v in ends[-1].items() if k != "name"} if ends else {}
        self.samples = [long_keys(b) for b in bench if b.get("name") == "frag-sample"
                        and number(b.get("tick")) is not None]
        self.untimed = sum(1 for b in bench if b.get("name") == "frag-sample") - len(self.samples)
        self.probes, self.bad_probes = {}, []
        for b in bench:
            if b.get("name") != "frag-probe":
                continue
            d = str(b.get("defrag", "")).strip().strip("[]").lower()
            if d not in DEFRAGS:
                self.bad_probes.append(f"defrag={b.get('defrag')!r} (want never or always)")
            elif d in self.probes:
                self.bad_probes.append(f"two probes with defrag={d}")
            else:
                self.probes[d] = {k: v for k, v in b.items() if k != "name"}
        self.values = {}

    def last(self, key):
        for s in reversed(self.samples):
            v = number(s.get(key))
            if v is not None:
                return v
        return None

    def o9(self):
        """[(tick, o9_units)] of the samples that carry o9_units."""
        return [(s["tick"], number(s.get("o9_units"))) for s in self.samples
                if number(s.get("o9_units")) is not None]

    def o9_start(self):
        return next((v for t, v in self.o9() if t == 0), None)

    def o9_min(self):
        after = [v for t, v in self.o9() if t > 0]
        return min(after) if after else None

    def o9_area(self):
        vals = [v for _, v in self.o9()]
        return sum(vals) / len(vals) if vals else None

    def where(self):
        if self.proactiveness is None:
            return ""
        return f" (proactiveness {fmt_p_val(self.proactiveness)}, seed {self.seed})"


def long_keys(sample):
    """SAMPLE with the short counter names spelt out (a full name wins)."""
    out = {k: v for k, v in sample.items() if k not in SHORT_KEYS}
    for k, v in sample.items():
        if k in SHORT_KEYS:
            out.setdefault(SHORT_KEYS[k], v)
    return out


def fmt_p_val(p):
    return str(int(p)) if float(p).is_integer() else str(p)


def read_log(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read {path}: {e}")
    try:
        log = json.loads(text)
    except ValueError as e:
        raise InputError(f"{path}: not JSON ({e}); want check-log.py --json results")
    if not isinstance(log, dict) or not isinstance(log.get("bench"), list) or "pass" not in log:
        raise InputError(f"{path}: not a check-log.py --json result (no \"bench\" list "
                         "or no \"pass\")")
    return log


def load(paths, kernels):
    """(boots used, failed boots, every boot), the Boot objects."""
    seen, every = {}, []
    for p in paths:
        real = os.path.realpath(p)
        if real in seen:
            raise InputError(f"{p}: given twice (also as {seen[real]})")
        seen[real] = p
        every.append(Boot(p, read_log(p)))
    used, failed, where = [], [], {}
    for b in every:
        if not b.passed:
            failed.append(b)
            continue
        if b.kernel not in kernels:
            raise InputError(f"{b.path}: kernel (variant) {b.kernel!r} is not one of "
                             f"--kernels {','.join(kernels)}")
        if not b.config:
            raise InputError(f"{b.path}: no 'bench frag-config' line: not a boot of the "
                             "fragmentation study")
        if b.proactiveness is None or not isinstance(b.seed, (int, str)) or b.seed == "":
            raise InputError(f"{b.path}: frag-config lacks a numeric proactiveness or a seed "
                             f"({b.config})")
        if not b.samples:
            raise InputError(f"{b.path}: no 'bench frag-sample' line with a numeric tick")
        if b.bad_probes:
            raise InputError(f"{b.path}: frag-probe: {'; '.join(b.bad_probes)}")
        key = (b.proactiveness, b.kernel, b.seed)
        if key in where:
            raise InputError(f"{b.path}: kernel {b.kernel}, proactiveness "
                             f"{fmt_p_val(b.proactiveness)}, seed {b.seed} again "
                             f"(also {where[key]}): one boot per seed")
        where[key] = b.path
        b.values = {m: f(b) for m, _, _, f in METRICS}
        used.append(b)
    return used, failed, every


# ------------------------------------------------------------ statistics --

def seed_key(s):
    return (0, s, "") if isinstance(s, int) else (1, 0, str(s))


def analyse(used, kernels, pairs):
    props = sorted({b.proactiveness for b in used})
    seeds, aggregates, curves, comparisons = {}, {}, {}, {}
    for P in props:
        pk = fmt_p_val(P)
        here = [b for b in used if b.proactiveness == P]
        by_k = {k: sorted((b.seed for b in here if b.kernel == k), key=seed_key) for k in kernels}
        every = sorted({b.seed for b in here}, key=seed_key)
        seeds[pk] = {"all": every, "by_kernel": by_k,
                     "missing": {k: [s for s in every if s not in by_k[k]] for k in kernels}}
        aggregates[pk], curves[pk], values = {}, {}, {}
        for k in kernels:
            boots = [b for b in here if b.kernel == k]
            values[k] = {m: [b.values[m] for b in boots if b.values[m] is not None]
                         for m, _, _, _ in METRICS}
            aggregates[pk][k] = {}
            for m, _, _, _ in METRICS:
                vals = values[k][m]
                aggregates[pk][k][m] = dict(summary(vals), values=vals) if vals else None
            per_tick = {}
            for b in boots:
                for t, v in b.o9():
                    per_tick.setdefault(t, []).append(v)
            ticks = sorted(per_tick)
            sums = [summary(per_tick[t]) for t in ticks]
            curves[pk][k] = {"tick": ticks, "n": [s["n"] for s in sums],
                             "mean": [s["mean"] for s in sums], "ci95": [s["ci95"] for s in sums]}
        comparisons[pk] = {}
        for a, b in pairs:
            comparisons[pk][f"{a}:{b}"] = {m: compare(values[a][m], values[b][m])
                                           for m, _, _, _ in METRICS}
    return props, seeds, aggregates, curves, comparisons


def compare(va, vb):
    if not va or not vb:
        return None
    ma, mb = sum(va) / len(va), sum(vb) / len(vb)
    with warnings.catch_warnings():     # nearly constant values: precision warnings
        warnings.simplefilter("ignore")
        p = welch(va, vb)
    if p is not None and math.isnan(p):
        p = None
    sig = p is not None and p < ALPHA and ma != mb
    return {"mean_a": ma, "mean_b": mb, "n_a": len(va), "n_b": len(vb),
            "delta_pct": (mb / ma - 1) * 100 if ma else None, "p": p, "significant": sig,
            "higher": ("b" if mb > ma else "a") if sig else None}


def premise_seed(b, min_fall_pct):
    start, low, end = b.o9_start(), b.o9_min(), b.last("o9_units")
    r = {"seed": b.seed, "path": b.path, "start": start, "min": low, "end": end,
         "fall_pct": None, "holds": False, "why": None}
    if start is None:
        r["why"] = "no o9_units at tick 0"
    elif start <= 0:
        r["why"] = f"o9_units at tick 0 is {start}, nothing to fall from"
    elif low is None:
        r["why"] = "no o9_units after tick 0"
    else:
        r["fall_pct"] = (1 - low / start) * 100
        r["holds"] = low <= start * (100 - min_fall_pct) / 100
        if not r["holds"]:
            r["why"] = (f"o9_units fell by {r['fall_pct']:.1f}% at most "
                        f"({start:g} -> minimum {low:g}), under {min_fall_pct:g}%")
    return r


def premise(used, kernels, reference, props, min_fall_pct):
    res = {"reference": reference, "min_fall_pct": min_fall_pct, "holds": True,
           "problems": [], "by_proactiveness": {}, "other_kernels": {}}
    if not props:
        res["holds"] = False
        res["problems"].append(f"no passing boot of {reference} (nor of any kernel)")
    for P in props:
        pk = fmt_p_val(P)
        rows = [premise_seed(b, min_fall_pct) for b in
                sorted((b for b in used if b.proactiveness == P and b.kernel == reference),
                       key=lambda b: seed_key(b.seed))]
        entry = {"holds": bool(rows) and all(r["holds"] for r in rows), "why": None, "seeds": rows}
        if not rows:
            entry["why"] = f"no passing boot of {reference} at proactiveness {pk}"
        else:
            bad = [r for r in rows if not r["holds"]]
            if bad:
                entry["why"] = "; ".join(f"seed {r['seed']}: {r['why']}" for r in bad)
        if not entry["holds"]:
            res["holds"] = False
            res["problems"].append(f"proactiveness {pk}: {entry['why']}")
        res["by_proactiveness"][pk] = entry
        res["other_kernels"][pk] = {
            k: [premise_seed(b, min_fall_pct) for b in
                sorted((b for b in used if b.proactiveness == P and b.kernel == k),
                       key=lambda b: seed_key(b.seed))]
            for k in kernels if k != reference}
    return res


# ---------------------------------------------------------------- output --

def num(x):
    if x is None:
        return "-"
    if isinstance(x, int) or (abs(x) >= 100 and float(x).is_integer()):
        return f"{x:.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.3g}"


def cell(s, n_boots):
    """"mean ± ci95", and "(n=N)" when fewer values than the kernel's N_BOOTS."""
    if s is None:
        return "-"
    ci = s["ci95"]
    if ci is not None and ci < 1e-9 * max(1.0, abs(s["mean"])):
        ci = 0      # rounding noise of a constant
    ci = "" if ci is None else f" ± {num(ci)}"
    n = "" if s["n"] == n_boots else f" (n={s['n']})"
    return f"{num(s['mean'])}{ci}{n}"


def fmt_p(p):
    if p is None:
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_md(path, args, kernels, pairs, reference, every, used, failed, props, seeds,
             aggregates, comparisons, prem, pngs, discussion):
    out = [f"# Fragmentation study: {', '.join(kernels)}", ""]
    out += ["## How produced", ""]
    for k, v in args.meta:
        out.append(f"- {md_cell(k)}: {md_cell(v)}")
    out.append(f"- inputs: {len(every)} check-log.py JSON files, {len(used)} passing boots used, "
               f"{len(failed)} failed boots left out")
    for P in props:
        here = [b for b in used if b.proactiveness == P]
        conf = []
        for key in ("mem_kb", "ticks", "sample_every"):
            vals = sorted({str(b.config.get(key)) for b in here})
            conf.append(f"{key}={'/'.join(vals)}")
        out.append(f"- proactiveness {fmt_p_val(P)}: frag-config {', '.join(conf)}"
                   + (" (configs differ between boots)" if any("/" in c for c in conf) else ""))
    out.append(f"- report: scripts/frag-report.py (kernels {','.join(kernels)}; premise "
               f"reference {reference}; --min-fall-pct {args.min_fall_pct:g}; pairs "
               + (", ".join(f"{a}:{b}" for a, b in pairs) or "none") + ")")
    out += ["", "<details><summary>JSON inputs</summary>", ""]
    out += [f"- {md_cell(b.path)}" for b in every]
    out += ["", "</details>", ""]

    out += ["## Premise", ""]
    if prem["holds"]:
        out.append(f"**The premise holds**: at every proactiveness, o9_units of each seed of "
                   f"{reference} fell during the run by at least {args.min_fall_pct:g}% from "
                   "its tick-0 value (minimum over the samples after tick 0).")
    else:
        out.append(f"**The premise does not hold: the workload did not fragment {reference} "
                   f"as required (o9_units must fall by at least {args.min_fall_pct:g}% from "
                   "tick 0 for every seed); this run does not count.**")
        out.append("")
        out += [f"- {md_cell(p)}" for p in prem["problems"]]
    out.append("")
    for P in props:
        pk = fmt_p_val(P)
        e = prem["by_proactiveness"][pk]
        out += [f"### Proactiveness {pk}: {reference}", ""]
        if not e["seeds"]:
            out += [f"No passing boot of {reference}.", ""]
            continue
        out += ["| seed | o9 at tick 0 | minimum after tick 0 | end | fall | premise |",
                "|---|---:|---:|---:|---:|---|"]
        for r in e["seeds"]:
            fall = "-" if r["fall_pct"] is None else f"{r['fall_pct']:.1f}%"
            verdict = "holds" if r["holds"] else f"FAILS: {r['why']}"
            out.append(f"| {md_cell(r['seed'])} | {num(r['start'])} | {num(r['min'])} | "
                       f"{num(r['end'])} | {fall} | {md_cell(verdict)} |")
        others = prem["other_kernels"][pk]
        lines = [f"{k} {sum(r['holds'] for r in rs)} of {len(rs)}" for k, rs in others.items()
                 if rs]
        if lines:
            out += ["", "Other kernels, seeds whose o9_units fell as far (for information): "
                    + ", ".join(lines) + "."]
        out.append("")

    out += ["## Boots", ""]
    out.append("| proactiveness | " + " | ".join(kernels) + " |")
    out.append("|---|" + "---:|" * len(kernels))
    for P in props:
        pk = fmt_p_val(P)
        out.append(f"| {pk} | " + " | ".join(
            str(len(seeds[pk]["by_kernel"][k])) for k in kernels) + " |")
    out.append("")
    gaps = [(fmt_p_val(P), k, seeds[fmt_p_val(P)]["missing"][k]) for P in props for k in kernels
            if seeds[fmt_p_val(P)]["missing"][k]]
    for P in props:
        pk = fmt_p_val(P)
        out.append(f"- proactiveness {pk}: seeds {', '.join(map(str, seeds[pk]['all']))}")
    if gaps:
        for pk, k, miss in gaps:
            out.append(f"- **missing seeds**: {k} at proactiveness {pk} lacks seed"
                       f"{'s' if len(miss) > 1 else ''} {', '.join(map(str, miss))}")
    elif props:
        out.append("- every kernel has the same seeds at each proactiveness")
    if failed:
        out += ["", f"Failed boots (\"pass\" false), left out ({len(failed)}):", ""]
        for b in failed:
            why = "; ".join(b.reasons) or "no reason given"
            out.append(f"- {md_cell(b.path)}: kernel {md_cell(b.kernel)}{b.where()}: "
                       f"{md_cell(why)}")
    else:
        out += ["", "No failed boot."]
    out.append("")

    out += ["## Results", "",
            "Per kernel: mean ± 95% CI of the mean over the seeds (one boot each); "
            "(n=…) when fewer boots carry the value than the kernel has; - when none does. "
            "Counters are cumulative since the workload started, taken at the last sample "
            "that carries them.", ""]
    out += ["Metrics: " + "; ".join(f"`{m}`: {METRIC_TITLE[m]}" for m, _, _, _ in METRICS
                                   if METRIC_TITLE[m] != m and not m.startswith("probe_")) + ".",
            ""]
    for P in props:
        pk = fmt_p_val(P)
        out += [f"### Proactiveness {pk}", ""]
        for gkey, gtitle, ms in GROUPS:
            out += [f"#### {gtitle}", ""]
            out.append("| kernel | n | " + " | ".join(f"`{m}`" for m, _, _ in ms) + " |")
            out.append("|---|---:|" + "---:|" * len(ms))
            for k in kernels:
                nb = len(seeds[pk]["by_kernel"][k])
                out.append(f"| {k} | {nb} | " + " | ".join(
                    cell(aggregates[pk][k][m], nb) for m, _, _ in ms) + " |")
            out.append("")

    out += ["## Comparisons", "",
            "For a pair A → B: Δ% = (mean B / mean A − 1) × 100, positive when B's mean is "
            "higher than A's. p: Welch's t-test, two-sided. "
            f"(H): B significantly higher than A, (L): B significantly lower (p < {ALPHA}). "
            "Whether higher is better depends on the metric; this report does not judge. "
            "p n/a: fewer than 2 values on a side.", ""]
    if not pairs:
        out += ["No pair to compare.", ""]
    for P in props:
        pk = fmt_p_val(P)
        for a, b in pairs:
            out += [f"### Proactiveness {pk}: {b} vs {a}", ""]
            out += [f"| metric | {a} | {b} | Δ% | p | mark |", "|---|---:|---:|---:|---:|---|"]
            comp = comparisons[pk][f"{a}:{b}"]
            na, nb = len(seeds[pk]["by_kernel"][a]), len(seeds[pk]["by_kernel"][b])
            sig = []
            for m, _, _, _ in METRICS:
                c = comp[m]
                if c is None:
                    out.append(f"| `{m}` | {num(mean_of(aggregates[pk][a][m]))} | "
                               f"{num(mean_of(aggregates[pk][b][m]))} | n/a | n/a | |")
                    continue
                d = "n/a" if c["delta_pct"] is None else f"{c['delta_pct']:+.1f}%"
                mark = "" if not c["significant"] else ("(H)" if c["higher"] == "b" else "(L)")
                if mark:
                    sig.append(f"`{m}` {'higher' if c['higher'] == 'b' else 'lower'}")
                out.append(f"| `{m}` | {cell(aggregates[pk][a][m], na)} | "
                           f"{cell(aggregates[pk][b][m], nb)} | {d} | {fmt_p(c['p'])} | {mark} |")
            out += ["", f"{b} against {a} at proactiveness {pk}, p < {ALPHA}: "
                    + (", ".join(sig) if sig else "no metric differs significantly") + ".", ""]

    out += ["## Figures", ""]
    for what, p in (("o9_units over the ticks", pngs["o9_png"]),
                    ("end-of-run compaction, reclaim and fallback counters", pngs["work_png"]),
                    ("probe share_pm, defrag never and always", pngs["probe_png"])):
        out += [f"![{what}]({os.path.basename(p)})", ""]

    out += ["## What the data says", ""]
    if discussion is None:
        out += ["(To be written: give --discussion FILE.)", ""]
    else:
        out.append(discussion.rstrip("\n"))
        out.append("")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


def mean_of(s):
    return None if s is None else s["mean"]


def kernel_colors(kernels, plt):
    cmap = plt.get_cmap("tab10")
    return {k: cmap(i % 10) for i, k in enumerate(kernels)}


def no_data(ax):
    ax.text(0.5, 0.5, "no passing boot", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def plot_o9(path, kernels, props, curves, plt):
    colors = kernel_colors(kernels, plt)
    n = max(1, len(props))
    fig, axes = plt.subplots(1, n, figsize=(6.5 * n, 4.5), squeeze=False)
    if not props:
        no_data(axes[0][0])
    for ax, P in zip(axes[0], props):
        pk = fmt_p_val(P)
        for k in kernels:
            c = curves[pk][k]
            if not c["tick"]:
                continue
            ax.plot(c["tick"], c["mean"], color=colors[k], label=f"{k}", linewidth=1.4)
            band = [(t, m, ci) for t, m, ci in zip(c["tick"], c["mean"], c["ci95"])
                    if ci is not None]
            if band:
                ax.fill_between([t for t, _, _ in band], [m - ci for _, m, ci in band],
                                [m + ci for _, m, ci in band], color=colors[k], alpha=0.2,
                                linewidth=0)
        ax.set_title(f"vm.compaction_proactiveness={pk}")
        ax.set_xlabel("tick")
        ax.set_ylabel("free order-≥9 units (o9_units)")
        ax.grid(color="#e6e6e6", linewidth=0.6)
        ax.legend(fontsize=8)
    fig.suptitle("o9_units: mean over seeds, band: 95% CI")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def bars(ax, kernels, stats_by_k, colors):
    xs = list(range(len(kernels)))
    means = [s["mean"] if s else 0 for s in (stats_by_k[k] for k in kernels)]
    errs = [(s["ci95"] or 0) if s else 0 for s in (stats_by_k[k] for k in kernels)]
    ax.bar(xs, means, yerr=errs, capsize=3, color=[colors[k] for k in kernels])
    for x, k in zip(xs, kernels):
        if stats_by_k[k] is None:
            ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(xs)
    ax.set_xticklabels(kernels, rotation=40, ha="right", fontsize=8)
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="y", color="#e6e6e6", linewidth=0.6)
    ax.set_axisbelow(True)


def plot_work(path, kernels, props, aggregates, plt):
    colors = kernel_colors(kernels, plt)
    rows = max(1, len(props))
    fig, axes = plt.subplots(rows, len(WORK_KEYS), figsize=(2.6 * len(WORK_KEYS), 3.4 * rows),
                             squeeze=False)
    if not props:
        for ax in axes[0]:
            no_data(ax)
    for row, P in zip(axes, props):
        pk = fmt_p_val(P)
        for ax, m in zip(row, WORK_KEYS):
            bars(ax, kernels, {k: aggregates[pk][k][m] for k in kernels}, colors)
            ax.set_title(f"{m}\n(proactiveness {pk})", fontsize=9)
    fig.suptitle("End-of-run counters: mean over seeds, error bars: 95% CI "
                 "(each panel its own scale)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_probe(path, kernels, props, aggregates, plt):
    n = max(1, len(props))
    fig, axes = plt.subplots(1, n, figsize=(max(5.0, 1.3 * len(kernels) + 2) * n, 4.5),
                             squeeze=False)
    if not props:
        no_data(axes[0][0])
    width = 0.38
    shades = {"never": "#9ecae1", "always": "#3182bd"}
    for ax, P in zip(axes[0], props):
        pk = fmt_p_val(P)
        for i, d in enumerate(DEFRAGS):
            xs = [j + (i - 0.5) * width for j in range(len(kernels))]
            st = [aggregates[pk][k][f"probe_{d}_share_pm"] for k in kernels]
            ax.bar(xs, [s["mean"] if s else 0 for s in st], width=width,
                   yerr=[(s["ci95"] or 0) if s else 0 for s in st], capsize=3,
                   color=shades[d], label=f"defrag={d}")
        ax.set_xticks(range(len(kernels)))
        ax.set_xticklabels(kernels, rotation=30, ha="right")
        ax.set_ylabel("share_pm (‰ of memory as order-9 blocks)")
        ax.set_title(f"vm.compaction_proactiveness={pk}")
        ax.grid(axis="y", color="#e6e6e6", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.legend(fontsize=8)
    fig.suptitle("Probe share_pm: mean over seeds, error bars: 95% CI")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def json_safe(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return x


# --------------------------------------------------------------- options --

def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog=PROG, description=" ".join(__doc__.split("\n\n")[0].split()),
        usage="%(prog)s --out PREFIX --kernels K1,K2,... [--pairs A:B,...] "
              "[--meta KEY=VALUE ...] [--discussion FILE] [--min-fall-pct PCT] LOG.json...")
    ap.add_argument("--out", required=True, metavar="PREFIX",
                    help="write PREFIX.md, PREFIX.json, PREFIX-{o9,work,probe}.png")
    ap.add_argument("--kernels", required=True, metavar="K1,K2,...",
                    help="the kernels (check-log's variant), in report order")
    ap.add_argument("--pairs", metavar="A:B,...",
                    help="comparisons B against A (default: each kernel against order0, or "
                         "the first kernel, and series against upstream)")
    ap.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                    help="a line of the report's 'How produced' section (repeatable)")
    ap.add_argument("--discussion", metavar="FILE",
                    help="markdown put verbatim under 'What the data says'")
    ap.add_argument("--min-fall-pct", type=float, default=20.0, metavar="PCT",
                    help="the premise: o9_units of the reference kernel must fall by at "
                         "least PCT%% from tick 0 (default: %(default)g)")
    ap.add_argument("logs", nargs="*", metavar="LOG.json")
    args = ap.parse_args(argv)

    kernels = [k.strip() for k in args.kernels.split(",") if k.strip()]
    if not kernels:
        ap.error("--kernels names no kernel")
    for k in kernels:
        if not NAME_RE.fullmatch(k):
            ap.error(f"--kernels: bad kernel name {k!r}")
        if kernels.count(k) > 1:
            ap.error(f"--kernels names {k} twice")
    args.kernels = kernels
    args.reference = "order0" if "order0" in kernels else kernels[0]
    if args.pairs is None:
        ref = args.reference
        pairs = [(ref, k) for k in kernels if k != ref]
        if "upstream" in kernels and "series" in kernels and ("upstream", "series") not in pairs:
            pairs.append(("upstream", "series"))
    else:
        pairs = []
        for text in args.pairs.split(","):
            if not text.strip():
                continue
            a, sep, b = text.strip().partition(":")
            if not sep or not a or not b:
                ap.error(f"--pairs: want A:B, got {text.strip()!r}")
            for k in (a, b):
                if k not in kernels:
                    ap.error(f"--pairs: unknown kernel {k!r} in {text.strip()!r} "
                             f"(not one of --kernels {','.join(kernels)})")
            if a == b:
                ap.error(f"--pairs: {text.strip()!r} compares a kernel with itself")
            if (a, b) in pairs:
                ap.error(f"--pairs lists {a}:{b} twice")
            pairs.append((a, b))
        if not pairs:
            ap.error("--pairs lists no pair")
    args.pairs = pairs
    meta = []
    for m in args.meta:
        k, sep, v = m.partition("=")
        if not sep or not k.strip():
            ap.error(f"--meta wants KEY=VALUE, got {m!r}")
        meta.append((k.strip(), v))
    args.meta = meta
    if not (0 < args.min_fall_pct < 100) or not math.isfinite(args.min_fall_pct):
        ap.error(f"--min-fall-pct must be above 0 and below 100, got {args.min_fall_pct:g}")
    if not args.logs:
        ap.error("no input: give the LOG.json files (check-log.py --json results)")
    return args


def main(argv=None):
    args = parse_args(argv)
    outdir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(outdir):
        die(f"output directory does not exist: {outdir}")
    discussion = None
    if args.discussion is not None:
        try:
            with open(args.discussion, encoding="utf-8") as f:
                discussion = f.read()
        except (OSError, UnicodeDecodeError) as e:
            die(f"--discussion: cannot read {args.discussion}: {e}")
    try:
        used, failed, every = load(args.logs, args.kernels)
    except InputError as e:
        die(str(e))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        die(f"cannot import matplotlib ({e}); install Debian's python3-matplotlib")

    kernels, pairs, reference = args.kernels, args.pairs, args.reference
    props, seeds, aggregates, curves, comparisons = analyse(used, kernels, pairs)
    prem = premise(used, kernels, reference, props, args.min_fall_pct)
    outputs = {"md": args.out + ".md", "json": args.out + ".json",
               "o9_png": args.out + "-o9.png", "work_png": args.out + "-work.png",
               "probe_png": args.out + "-probe.png"}

    write_md(outputs["md"], args, kernels, pairs, reference, every, used, failed, props, seeds,
             aggregates, comparisons, prem, outputs, discussion)
    plot_o9(outputs["o9_png"], kernels, props, curves, plt)
    plot_work(outputs["work_png"], kernels, props, aggregates, plt)
    plot_probe(outputs["probe_png"], kernels, props, aggregates, plt)
    used_set = set(id(b) for b in used)
    doc = {
        "meta": dict(args.meta), "inputs": list(args.logs), "kernels": kernels,
        "reference": reference, "pairs": [{"a": a, "b": b, "key": f"{a}:{b}"} for a, b in pairs],
        "min_fall_pct": args.min_fall_pct, "alpha": ALPHA,
        "metrics": [{"key": m, "group": g, "title": t} for m, g, t, _ in METRICS],
        "groups": [{"key": g, "title": t} for g, t, _ in GROUPS],
        "proactiveness": props,
        "boots": [{"path": b.path, "kernel": b.kernel, "pass": b.passed,
                   "used": id(b) in used_set, "proactiveness": b.proactiveness,
                   "seed": b.seed, "reasons": b.reasons, "config": b.config, "end": b.end,
                   "probes": b.probes, "untimed": b.untimed, "values": b.values,
                   "o9": [[t, v] for t, v in b.o9()] if id(b) in used_set else []}
                  for b in every],
        "failed": [{"path": b.path, "kernel": b.kernel, "proactiveness": b.proactiveness,
                    "seed": b.seed, "reasons": b.reasons} for b in failed],
        "seeds": seeds, "aggregates": aggregates, "o9_curve": curves,
        "comparisons": comparisons, "premise": prem, "outputs": outputs,
    }
    with open(outputs["json"], "w", encoding="utf-8") as f:
        json.dump(json_safe(doc), f, indent=1, ensure_ascii=False, allow_nan=False)
        f.write("\n")

    for P in props:
        pk = fmt_p_val(P)
        print(f"proactiveness {pk}: o9_end " + ", ".join(
            f"{k} {num(mean_of(aggregates[pk][k]['o9_end']))}" for k in kernels)
            + "; seeds " + ", ".join(f"{k} {len(seeds[pk]['by_kernel'][k])}" for k in kernels))
    for b in failed:
        print(f"failed boot left out: {b.path} (kernel {b.kernel}{b.where()})")
    print(f"wrote {', '.join(outputs.values())}")
    if not prem["holds"]:
        print(f"{PROG}: premise does not hold ({reference} not fragmented as required); this "
              "run does not count:\n" + "\n".join(f"  {p}" for p in prem["problems"]),
              file=sys.stderr)
        return 1
    print(f"premise holds ({reference}: o9_units fell by >= {args.min_fall_pct:g}% "
          "for every seed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

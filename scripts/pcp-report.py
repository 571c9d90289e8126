#!/usr/bin/python3
"""Report of scripts/pcp.sh and scripts/wakeups.sh: counts per test_vmalloc row.

Usage: pcp-report.py [--plan pcp|wakeups] --out PREFIX --kernels K1,K2,...
                     [--meta KEY=VALUE ...] LOG.json...

--plan wakeups (scripts/wakeups.sh): each LOG.json is a boot of the guest
plan wakeups, whose "bench wakeups" lines carry per row the high-order
page allocations (hi_calls, failed ones included; hi_fails), the wakeups
of kswapd and kcompactd, the reclaim and compaction counters of
/proc/vmstat, test_vmalloc's time (avg_us) and the row's vmalloc() count.

--plan pcp (the default): each LOG.json is check-log.py's result of one
boot of the guest plan pcp:
its "bench pcp" lines carry, per test_vmalloc row, the events counted
during the row (drainN: blocks of order N that left a pcp list for the
buddy; take0: order-0 pages taken from the buddy) and pcp->high of the
largest zone (high_low: the lowest of any CPU in the row's samples;
high_start, high_end: summed over the CPUs before and after the row).
Writes PREFIX.md and PREFIX.json: per row and kernel the mean and 95%
confidence interval of each measure over the boots, and each kernel against
the one before it in --kernels (ratio of the means, Welch's t-test,
significant when p < 0.05).
"""
import argparse
import json
import os
import sys

sys.dont_write_bytecode = True     # no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reportstats import fmt, fmt_cmp, label, summary, welch  # noqa: E402


def fmt_fine(s):
    """A cell of a measure below 100 or so: 3 significant digits."""
    if s is None:
        return "-"
    ci = "" if s["ci95"] is None else f" ± {s['ci95']:.3g}"
    return f"{s['mean']:.3g}{ci}"

COUNTS = ("drain0", "drain1", "drain2", "drain3", "drain9", "take0", "high_low", "high_end")
# (key, title, how it is made from a "bench pcp" entry)
MEASURES = (
    ("drained_pages", "pages drained pcp -> buddy",
     lambda b: sum(b[f"drain{o}"] << o for o in (0, 1, 2, 3, 9))),
    ("drained_high_pages", "of them in order-1..3 blocks",
     lambda b: sum(b[f"drain{o}"] << o for o in (1, 2, 3))),
    ("take0", "order-0 pages taken from the buddy", lambda b: b["take0"]),
    ("high_low", "lowest pcp->high of a CPU", lambda b: b["high_low"]),
    ("high_end", "pcp->high after the row (sum of CPUs)", lambda b: b["high_end"]),
)

WAKE_COUNTS = ("hi_calls", "hi_fails", "kswapd_wake", "kcompactd_wake", "pageoutrun",
               "compact_daemon_wake", "pgsteal_kswapd", "pgscan_kswapd",
               "compact_daemon_migrate_scanned", "compact_daemon_free_scanned",
               "compact_migrate_scanned", "compact_free_scanned", "pgmigrate_success",
               "compact_stall", "avg_us", "vmallocs")
WAKE_MEASURES = (
    ("avg_us", "test_vmalloc time (us)", lambda b: b["avg_us"]),
    ("hi_calls_per_vmalloc", "high-order page allocations per vmalloc(), failed ones included",
     lambda b: b["hi_calls"] / b["vmallocs"]),
    ("hi_fails_per_vmalloc", "failed high-order page allocations per vmalloc()",
     lambda b: b["hi_fails"] / b["vmallocs"]),
    ("blocks_per_vmalloc", "high-order blocks obtained per vmalloc()",
     lambda b: (b["hi_calls"] - b["hi_fails"]) / b["vmallocs"]),
    ("kswapd_wake", "kswapd wakeups (mm_vmscan_wakeup_kswapd)", lambda b: b["kswapd_wake"]),
    ("kcompactd_wake", "kcompactd wakeups (mm_compaction_wakeup_kcompactd)",
     lambda b: b["kcompactd_wake"]),
    ("pageoutrun", "kswapd balancing runs (pageoutrun)", lambda b: b["pageoutrun"]),
    ("compact_daemon_wake", "kcompactd runs (compact_daemon_wake)",
     lambda b: b["compact_daemon_wake"]),
    ("pgsteal_kswapd", "pages kswapd reclaimed (pgsteal_kswapd)", lambda b: b["pgsteal_kswapd"]),
    ("migrate_scanned", "pages compaction scanned to migrate (compact_*migrate_scanned)",
     lambda b: b["compact_daemon_migrate_scanned"] + b["compact_migrate_scanned"]),
    ("free_scanned", "free pages compaction scanned (compact_*free_scanned)",
     lambda b: b["compact_daemon_free_scanned"] + b["compact_free_scanned"]),
    ("pgmigrate_success", "pages migrated (pgmigrate_success)", lambda b: b["pgmigrate_success"]),
    ("compact_stall", "direct compaction stalls (compact_stall)", lambda b: b["compact_stall"]),
)
PLANS = {
    "pcp": ("Batched frees and the pcp lists", COUNTS, MEASURES),
    "wakeups": ("vmalloc()'s high-order blocks in a fragmented guest: allocator calls, "
                "wakeups, reclaim and compaction", WAKE_COUNTS, WAKE_MEASURES),
}


def die(msg):
    print(f"pcp-report.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def load(paths, kernels, plan):
    _, counts, measures = PLANS[plan]
    data = {}       # row -> kernel -> measure -> [values]
    rows = []
    boots = {k: 0 for k in kernels}
    for path in paths:
        try:
            with open(path) as f:
                log = json.load(f)
        except (OSError, ValueError) as e:
            die(f"cannot read {path}: {e}")
        k = log.get("variant")
        if k not in kernels:
            die(f"{path}: kernel {k!r} is not one of --kernels {','.join(kernels)}")
        if log.get("plan") != plan or not log.get("pass"):
            die(f"{path}: not a passing boot of the plan {plan}")
        boots[k] += 1
        entries = [b for b in log.get("bench", []) if b.get("name") == plan]
        if not entries:
            die(f"{path}: no 'bench {plan}' line")
        for b in entries:
            missing = [c for c in counts if not isinstance(b.get(c), int)]
            if missing:
                die(f"{path}: row {b.get('row')}: no number for {', '.join(missing)}")
            if plan == "wakeups" and b["vmallocs"] <= 0:
                die(f"{path}: row {b.get('row')}: vmallocs={b['vmallocs']}, no vmalloc() to count per")
            row = label(b["row"])
            if row not in data:
                data[row] = {}
                rows.append(row)
            per = data[row].setdefault(k, {m: [] for m, _, _ in measures})
            for m, _, f in measures:
                per[m].append(f(b))
    for k, n in boots.items():
        if not n:
            die(f"no boot of kernel {k}")
    return rows, data, boots


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plan", choices=sorted(PLANS), default="pcp")
    ap.add_argument("--out", required=True, metavar="PREFIX")
    ap.add_argument("--kernels", required=True, metavar="K1,K2,...")
    ap.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("logs", nargs="+", metavar="LOG.json")
    args = ap.parse_args()
    kernels = [k for k in args.kernels.split(",") if k]
    if len(kernels) < 2:
        die("--kernels must name at least two kernels")
    meta = []
    for m in args.meta:
        if "=" not in m:
            die(f"--meta {m!r} is not KEY=VALUE")
        meta.append(m.split("=", 1))
    rows, data, boots = load(args.logs, kernels, args.plan)
    title, _, measures = PLANS[args.plan]

    res = {}
    for row in rows:
        res[row] = {}
        for m, _, _ in measures:
            r = res[row][m] = {"kernels": {}, "versus": {}}
            for k in kernels:
                vals = data[row].get(k, {}).get(m)
                r["kernels"][k] = summary(vals) if vals else None
            for old, new in zip(kernels, kernels[1:]):
                a = data[row].get(old, {}).get(m)
                b = data[row].get(new, {}).get(m)
                if not a or not b:
                    r["versus"][f"{old}:{new}"] = None
                    continue
                ma, mb = sum(a) / len(a), sum(b) / len(b)
                r["versus"][f"{old}:{new}"] = {
                    "ratio": mb / ma if ma else None, "p": welch(a, b)}

    pairs = [f"{o}:{n}" for o, n in zip(kernels, kernels[1:])]
    out = [f"# {title}", ""]
    out += [f"- {k}: {v}" for k, v in meta]
    out += [f"- boots: {', '.join(f'{k} {n}' for k, n in boots.items())}", ""]
    out += ["Per row and measure: mean ± 95% CI over the boots; the last columns compare "
            "each kernel with the one before it (ratio new/old of the means, Welch's "
            "t-test; * = significant, p < 0.05).", ""]
    for m, mtitle, _ in measures:
        out += [f"## {mtitle} (`{m}`)", "",
                "| row | " + " | ".join(kernels) + " | " + " | ".join(p.replace(":", " → ") for p in pairs) + " |",
                "| --- |" + " ---: |" * (len(kernels) + len(pairs))]
        for row in rows:
            r = res[row][m]
            cell = fmt_fine if m.endswith("_per_vmalloc") else fmt
            out.append(f"| {row} | " + " | ".join(cell(r["kernels"][k]) for k in kernels) + " | "
                       + " | ".join(fmt_cmp(r["versus"][p]) for p in pairs) + " |")
        out.append("")
    with open(args.out + ".md", "w") as f:
        f.write("\n".join(out))
    with open(args.out + ".json", "w") as f:
        json.dump({"meta": dict(meta), "kernels": kernels, "boots": boots, "rows": rows,
                   "results": res, "raw": data}, f, indent=1)
        f.write("\n")
    for row in rows:
        r = res[row]
        shown = ([("avg_us", "time"), ("hi_calls_per_vmalloc", "high-order calls per vmalloc")]
                 if args.plan == "wakeups" else [("drained_pages", "drained"), ("take0", "take0")])
        print(f"{row}: " + "; ".join(
            f"{name} " + ", ".join(f"{k} {r[m]['kernels'][k]['mean']:.4g}"
                                for k in kernels if r[m]['kernels'][k]) for m, name in shown))
    print(f"report: {args.out}.md")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Report of scripts/pcp.sh: what batched frees do to the pcp lists.

Usage: pcp-report.py --out PREFIX --kernels K1,K2,... [--meta KEY=VALUE ...] LOG.json...

Each LOG.json is check-log.py's result of one boot of the guest plan pcp:
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

COUNTS = ("drain0", "drain1", "drain2", "drain3", "drain9", "take0")
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


def die(msg):
    print(f"pcp-report.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def load(paths, kernels):
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
        if log.get("plan") != "pcp" or not log.get("pass"):
            die(f"{path}: not a passing boot of the plan pcp")
        boots[k] += 1
        entries = [b for b in log.get("bench", []) if b.get("name") == "pcp"]
        if not entries:
            die(f"{path}: no 'bench pcp' line")
        for b in entries:
            missing = [c for c in COUNTS + ("high_low", "high_end") if not isinstance(b.get(c), int)]
            if missing:
                die(f"{path}: row {b.get('row')}: no number for {', '.join(missing)}")
            row = label(b["row"])
            if row not in data:
                data[row] = {}
                rows.append(row)
            per = data[row].setdefault(k, {m: [] for m, _, _ in MEASURES})
            for m, _, f in MEASURES:
                per[m].append(f(b))
    for k, n in boots.items():
        if not n:
            die(f"no boot of kernel {k}")
    return rows, data, boots


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
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
    rows, data, boots = load(args.logs, kernels)

    res = {}
    for row in rows:
        res[row] = {}
        for m, _, _ in MEASURES:
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
    out = ["# Batched frees and the pcp lists", ""]
    out += [f"- {k}: {v}" for k, v in meta]
    out += [f"- boots: {', '.join(f'{k} {n}' for k, n in boots.items())}", ""]
    out += ["Per row and measure: mean ± 95% CI over the boots; the last columns compare "
            "each kernel with the one before it (ratio new/old of the means, Welch's "
            "t-test; * = significant, p < 0.05).", ""]
    for m, title, _ in MEASURES:
        out += [f"## {title} (`{m}`)", "",
                "| row | " + " | ".join(kernels) + " | " + " | ".join(p.replace(":", " → ") for p in pairs) + " |",
                "| --- |" + " ---: |" * (len(kernels) + len(pairs))]
        for row in rows:
            r = res[row][m]
            out.append(f"| {row} | " + " | ".join(fmt(r["kernels"][k]) for k in kernels) + " | "
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
        print(f"{row}: drained " + ", ".join(f"{k} {r['drained_pages']['kernels'][k]['mean']:.0f}"
                                             for k in kernels if r['drained_pages']['kernels'][k])
              + "; take0 " + ", ".join(f"{k} {r['take0']['kernels'][k]['mean']:.0f}"
                                        for k in kernels if r['take0']['kernels'][k]))
    print(f"report: {args.out}.md")


if __name__ == "__main__":
    main()

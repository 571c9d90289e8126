#!/usr/bin/python3
"""Report of scripts/latency.sh: wake-up delays of a high-priority thread.

Usage: latency-report.py --out PREFIX --kernels K1,K2,... [--meta KEY=VALUE ...] LOG.json...

Each LOG.json is check-log.py's result of one boot of the guest plan
latency: its "bench latency" lines carry, per test_vmalloc row, the longest
delay (max_us) of guest-latency's wake-ups during the row and how many were
over 1 ms and over 10 ms. Writes PREFIX.md and PREFIX.json: per row and
kernel the mean and 95% confidence interval over the boots, and each kernel
against the first of --kernels (ratio of the means, Welch's t-test,
significant when p < 0.05).
"""
import argparse
import json
import os
import sys

sys.dont_write_bytecode = True     # no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reportstats import fmt, fmt_cmp, label, summary, welch  # noqa: E402

MEASURES = (("max_us", "longest wake-up delay (us)"),
            ("over_1ms", "wake-ups over 1 ms"),
            ("over_10ms", "wake-ups over 10 ms"),
            ("samples", "wake-ups"))


def die(msg):
    print(f"latency-report.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


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

    data, rows = {}, []
    boots = {k: 0 for k in kernels}
    for path in args.logs:
        try:
            with open(path) as f:
                log = json.load(f)
        except (OSError, ValueError) as e:
            die(f"cannot read {path}: {e}")
        k = log.get("variant")
        if k not in kernels:
            die(f"{path}: kernel {k!r} is not one of --kernels {','.join(kernels)}")
        if log.get("plan") != "latency" or not log.get("pass"):
            die(f"{path}: not a passing boot of the plan latency")
        boots[k] += 1
        entries = [b for b in log.get("bench", []) if b.get("name") == "latency"]
        if not entries:
            die(f"{path}: no 'bench latency' line")
        for b in entries:
            bad = [m for m, _ in MEASURES if not isinstance(b.get(m), int)]
            if bad:
                die(f"{path}: row {b.get('row')}: no number for {', '.join(bad)}")
            row = label(b["row"])
            if row not in data:
                data[row] = {}
                rows.append(row)
            per = data[row].setdefault(k, {m: [] for m, _ in MEASURES})
            for m, _ in MEASURES:
                per[m].append(b[m])
    for k, n in boots.items():
        if not n:
            die(f"no boot of kernel {k}")

    first = kernels[0]
    res = {}
    for row in rows:
        res[row] = {}
        for m, _ in MEASURES:
            r = res[row][m] = {"kernels": {}, "versus": {}}
            for k in kernels:
                vals = data[row].get(k, {}).get(m)
                r["kernels"][k] = summary(vals) if vals else None
            a = data[row].get(first, {}).get(m)
            for k in kernels[1:]:
                b = data[row].get(k, {}).get(m)
                if not a or not b:
                    r["versus"][k] = None
                    continue
                ma = sum(a) / len(a)
                r["versus"][k] = {"ratio": (sum(b) / len(b)) / ma if ma else None, "p": welch(a, b)}

    out = ["# Wake-up delays of a high-priority thread during test_vmalloc rows", ""]
    out += [f"- {k}: {v}" for k, v in meta]
    out += [f"- boots: {', '.join(f'{k} {n}' for k, n in boots.items())}", ""]
    out += [f"Mean ± 95% CI over the boots; against {first}: ratio kernel/{first} of the "
            "means, Welch's t-test (* = significant, p < 0.05).", ""]
    for m, title in MEASURES:
        out += [f"## {title} (`{m}`)", "",
                "| row | " + " | ".join(kernels) + " | " +
                " | ".join(f"{k} / {first}" for k in kernels[1:]) + " |",
                "| --- |" + " ---: |" * (2 * len(kernels) - 1)]
        for row in rows:
            r = res[row][m]
            out.append(f"| {row} | " + " | ".join(fmt(r["kernels"][k]) for k in kernels) + " | "
                       + " | ".join(fmt_cmp(r["versus"][k], "p=n/a") for k in kernels[1:]) + " |")
        out.append("")
    with open(args.out + ".md", "w") as f:
        f.write("\n".join(out))
    with open(args.out + ".json", "w") as f:
        json.dump({"meta": dict(meta), "kernels": kernels, "boots": boots, "rows": rows,
                   "results": res, "raw": data}, f, indent=1)
        f.write("\n")
    for row in rows:
        r = res[row]["max_us"]["kernels"]
        print(f"{row}: max_us " + ", ".join(f"{k} {r[k]['mean']:.0f}" for k in kernels if r[k]))
    print(f"report: {args.out}.md")


if __name__ == "__main__":
    main()

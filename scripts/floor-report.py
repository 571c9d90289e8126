#!/usr/bin/python3
"""Report of scripts/floor.sh: the contiguous free against its floor.

Usage: floor-report.py --out PREFIX [--meta KEY=VALUE ...] FLOOR.tsv

FLOOR.tsv has a header line and one line per boot: kernel, run, batched_ns,
floor_ns, chunks_ns, per_page_ns (the probe's means over its loops, ns per
512-page range).  Writes PREFIX.md and PREFIX.json: per kernel the mean and
95% confidence interval of each measure, batched/floor (how far the batched
free is above the work it cannot avoid), batched/(floor+chunks) (above the
same work done as two flat loops) and per-page/batched; then each
kernel's batched free against the first kernel's (ratio, Welch's t-test).
Kernels are reported in the order they first appear.
"""
import argparse
import json
import os
import sys

sys.dont_write_bytecode = True     # no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reportstats import fmt, summary, welch  # noqa: E402

MEASURES = ("batched_ns", "floor_ns", "chunks_ns", "per_page_ns")


def die(msg):
    print(f"floor-report.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def read_tsv(path):
    try:
        with open(path) as f:
            lines = [(n, l.rstrip("\n")) for n, l in enumerate(f, 1) if l.strip()]
    except OSError as e:
        die(f"cannot read {path}: {e}")
    want = ["kernel", "run", *MEASURES]
    if not lines or lines[0][1].split("\t") != want:
        die(f"{path}: the first line must be the header {' '.join(want)}")
    data = {}
    for n, line in lines[1:]:
        f = line.split("\t")
        if len(f) != len(want):
            die(f"{path}:{n}: {len(f)} fields, not {len(want)}")
        try:
            vals = [int(x) for x in f[2:]]
        except ValueError:
            die(f"{path}:{n}: not a number of ns: {line!r}")
        if min(vals) <= 0:
            die(f"{path}:{n}: a time of 0 ns or less: {line!r}")
        runs = data.setdefault(f[0], {m: [] for m in MEASURES})
        for m, v in zip(MEASURES, vals):
            runs[m].append(v)
    if not data:
        die(f"{path}: no measurement")
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, metavar="PREFIX")
    ap.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("tsv")
    args = ap.parse_args()
    meta = []
    for m in args.meta:
        if "=" not in m:
            die(f"--meta {m!r} is not KEY=VALUE")
        meta.append(m.split("=", 1))

    data = read_tsv(args.tsv)
    kernels = list(data)
    res = {}
    for k in kernels:
        s = {m: summary(data[k][m]) for m in MEASURES}
        s["batched_over_floor"] = s["batched_ns"]["mean"] / s["floor_ns"]["mean"]
        s["batched_over_floor_chunks"] = s["batched_ns"]["mean"] / (
            s["floor_ns"]["mean"] + s["chunks_ns"]["mean"])
        s["per_page_over_batched"] = s["per_page_ns"]["mean"] / s["batched_ns"]["mean"]
        res[k] = s
    first = kernels[0]
    versus = []
    for k in kernels[1:]:
        for m in ("batched_ns", "floor_ns"):
            a, b = data[first][m], data[k][m]
            versus.append({"old": first, "new": k, "measure": m,
                           "ratio": res[first][m]["mean"] / res[k][m]["mean"],
                           "p": welch(a, b)})

    out = ["# The contiguous free against its floor", ""]
    out += [f"- {k}: {v}" for k, v in meta]
    out += ["", "ns per 512-page range (order-9 block split into order-0 pages), "
            "mean ± 95% CI over the boots; each boot's value is the probe's mean over its loops.",
            "batched/floor: how far the batched free is above one reference drop and one "
            "free_pages_prepare() per page (1.00 = nothing but the floor); chunks: the free of "
            "those prepared pages as one order-9 chunk, timed apart; batched/(floor+chunks): "
            "the batched free against the same work as two flat loops.", "",
            "| kernel | boots | batched | floor | chunks | per-page | batched/floor "
            "| batched/(floor+chunks) | per-page/batched |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for k in kernels:
        s = res[k]
        out.append(f"| {k} | {s['batched_ns']['n']} | {fmt(s['batched_ns'])} | {fmt(s['floor_ns'])} "
                   f"| {fmt(s['chunks_ns'])} | {fmt(s['per_page_ns'])} | {s['batched_over_floor']:.2f} "
                   f"| {s['batched_over_floor_chunks']:.2f} | {s['per_page_over_batched']:.2f} |")
    if versus:
        out += ["", f"Against {first} (ratio {first}/kernel: > 1 means the kernel is faster; "
                "Welch's t-test, significant when p < 0.05):", "",
                "| kernel | measure | ratio | p | significant |", "| --- | --- | ---: | ---: | --- |"]
        for v in versus:
            p = "n/a" if v["p"] is None else f"{v['p']:.3g}"
            sig = "n/a" if v["p"] is None else ("yes" if v["p"] < 0.05 else "no")
            out.append(f"| {v['new']} | {v['measure']} | {v['ratio']:.3f} | {p} | {sig} |")
    with open(args.out + ".md", "w") as f:
        f.write("\n".join(out) + "\n")
    with open(args.out + ".json", "w") as f:
        json.dump({"meta": dict(meta), "kernels": res, "versus": versus, "raw": data}, f, indent=1)
    for k in kernels:
        s = res[k]
        print(f"{k}: batched {s['batched_ns']['mean']:.0f} ns, floor {s['floor_ns']['mean']:.0f} ns, "
              f"chunks {s['chunks_ns']['mean']:.0f} ns, per-page {s['per_page_ns']['mean']:.0f} ns: batched/floor {s['batched_over_floor']:.2f}")
    print(f"report: {args.out}.md")


if __name__ == "__main__":
    main()

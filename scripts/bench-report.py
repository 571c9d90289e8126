#!/usr/bin/python3
"""Compare the test_vmalloc benchmark of the base, hiorder and series kernels.

usage: bench-report.py --mode MODE --out PREFIX [--meta KEY=VALUE ...] JSON...

JSON... are the results of scripts/check-log.py --json, one per boot (any
number of runs of each of the variants base, hiorder and series, all in the
one timing MODE, e.g. tcg or icount).  The value of a row in a run is the
avg_us of its test_vmalloc Summary line; a row must have one such line per
run (the benchmark uses one thread).  Per row and variant: n, mean, sample
stdev, 95% confidence interval of the mean (Student t).

Per kernel pair old -> new, Delta% = (mean_old / mean_new - 1) * 100
(positive: new is faster; +100% is 2x faster, -50% is 2x slower).  A change
is significant when the two 95% CIs do not overlap: (I) improvement, (R)
regression; p is Welch's t-test (two-sided), n/a with fewer than 2 runs on a
side.  The contig_free row is a microbenchmark (alloc order-9, split_page,
free_contig_range), reported on its own and left out of the per-pair counts
and geometric means, which cover the test_vmalloc rows.

Writes PREFIX.md (report), PREFIX.png (chart of the Delta% columns) and
PREFIX.json (the statistics); prints the summary lines.
Needs Debian's python3-scipy and python3-matplotlib.
The targets (published figures) are checked last: a target that is missed,
or whose ratio cannot be computed ("cannot be evaluated: <why>"), is listed
on stderr after the report has been written, and the exit status is 3.
Exit status: 0 done, every target met; 1 bad input data; 2 usage error /
missing file or package; 3 report written, some target missed.
"""
import argparse
import json
import math
import os
import sys
import warnings

VARIANTS = ["base", "hiorder", "series"]
PAIRS = [("base", "hiorder"), ("base", "series"), ("hiorder", "series")]  # (old, new)
MICRO = {"contig_free"}     # first word of the microbenchmark rows
COLORS = {("base", "hiorder"): "#d95f02", ("base", "series"): "#1b9e77",
          ("hiorder", "series"): "#7570b3"}


class InputError(Exception):
    """Bad input data: exit 1."""


def die(msg, code):
    print(f"bench-report: {msg}", file=sys.stderr)
    sys.exit(code)


def pair_key(old, new):
    return f"{new}_vs_{old}"


def pair_title(old, new):
    return f"{new} vs {old}"


def is_micro(row):
    return row.split()[0] in MICRO if row.split() else False


def import_packages():
    """Import scipy.stats and matplotlib (Agg); exit 2 naming the package."""
    try:
        from scipy import stats
    except ImportError as e:
        die(f"cannot import scipy ({e}); install Debian's python3-scipy: "
            "apt-get install python3-scipy", 2)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError as e:
        die(f"cannot import matplotlib ({e}); install Debian's python3-matplotlib: "
            "apt-get install python3-matplotlib", 2)
    return stats, plt, Patch


# ---------------------------------------------------------------- inputs --

def load_inputs(paths):
    """Return (rows in order of first appearance, {(row, variant): [values]},
    {variant: number of runs}, plan)."""
    seen = {}
    for p in paths:
        if not os.path.isfile(p):
            die(f"no such file: {p}", 2)
        real = os.path.realpath(p)
        if real in seen:
            raise InputError(f"{p}: given twice (also as {seen[real]})")
        seen[real] = p
    rows, values, runs, plans = [], {}, {}, {}
    for p in paths:
        try:
            with open(p, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, UnicodeDecodeError) as e:
            die(f"cannot read {p}: {e}", 2)
        except json.JSONDecodeError as e:
            raise InputError(f"{p}: not valid JSON: {e}")
        if not isinstance(data, dict) or not isinstance(data.get("vmalloc"), list):
            raise InputError(f"{p}: not a check-log.py --json result (no \"vmalloc\" list)")
        variant = data.get("variant")
        if variant not in VARIANTS:
            raise InputError(f"{p}: variant {variant!r} is not one of {', '.join(VARIANTS)}")
        if data.get("pass") is not True:
            reasons = "; ".join(map(str, data.get("reasons") or [])) or "no \"pass\": true"
            raise InputError(f"{p}: the boot did not pass ({reasons}); "
                             "its timings are not reported")
        plans.setdefault(data.get("plan"), []).append(p)
        if not data["vmalloc"]:
            raise InputError(f"{p}: no test_vmalloc results")
        per_row = {}
        for i, e in enumerate(data["vmalloc"]):
            if not isinstance(e, dict) or not isinstance(e.get("row"), str) or \
                    not isinstance(e.get("avg_us"), (int, float)) or \
                    isinstance(e.get("avg_us"), bool):
                raise InputError(f"{p}: vmalloc entry {i} lacks a \"row\" or a numeric \"avg_us\"")
            per_row.setdefault(e["row"], []).append(e)
        for row, entries in per_row.items():
            if len(entries) > 1:
                what = ", ".join(f"{e.get('test')} worker {e.get('worker')}" for e in entries)
                raise InputError(f"{p}: row {row!r} has {len(entries)} results ({what}); "
                                 "the benchmark runs one thread, one test per row")
            if row not in rows:
                rows.append(row)
            values.setdefault((row, variant), []).append(float(entries[0]["avg_us"]))
        runs[variant] = runs.get(variant, 0) + 1
    if len(plans) > 1:
        raise InputError("inputs mix plans: " + "; ".join(
            f"{plan} ({len(ps)} files, e.g. {ps[0]})" for plan, ps in plans.items()))
    return rows, values, runs, next(iter(plans))


# ------------------------------------------------------------ statistics --

def describe(vals, stats):
    n = len(vals)
    mean = sum(vals) / n
    sd = ci = None
    if n >= 2:
        sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1))
        ci = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return {"n": n, "mean": mean, "stdev": sd, "ci95": ci, "values": vals}


def compare(a, b, stats):
    """Pair old a -> new b (describe() dicts)."""
    res = {"delta_pct": None, "ratio": None, "tested": False, "significant": False,
           "mark": "", "p": None}
    if a["mean"] > 0 and b["mean"] > 0:
        res["ratio"] = a["mean"] / b["mean"]       # > 1: new is faster
        res["delta_pct"] = (res["ratio"] - 1) * 100
    if a["n"] < 2 or b["n"] < 2:
        return res
    res["tested"] = True
    if abs(a["mean"] - b["mean"]) > a["ci95"] + b["ci95"]:
        res["significant"] = True
        res["mark"] = "I" if b["mean"] < a["mean"] else "R"
    with warnings.catch_warnings():     # constant samples: precision warnings
        warnings.simplefilter("ignore")
        p = float(stats.ttest_ind(a["values"], b["values"], equal_var=False).pvalue)
    res["p"] = None if math.isnan(p) else p    # nan: no variance on either side
    return res


def analyse(rows, values, stats):
    present = {v for (_, v) in values}
    pairs = [(o, n) for o, n in PAIRS if o in present and n in present]
    out = []
    for row in rows:
        st = {v: describe(values[(row, v)], stats) for v in VARIANTS if (row, v) in values}
        cmp = {pair_key(o, n): compare(st[o], st[n], stats)
               for o, n in pairs if o in st and n in st}
        out.append({"row": row, "micro": is_micro(row), "stats": st, "pairs": cmp})
    summary = {}
    for o, n in pairs:
        k = pair_key(o, n)
        cs = [r["pairs"][k] for r in out if not r["micro"] and k in r["pairs"]]
        ratios = [c["ratio"] for c in cs if c["ratio"]]
        summary[k] = {
            "old": o, "new": n, "rows": len(cs),
            "improved": sum(c["mark"] == "I" for c in cs),
            "regressed": sum(c["mark"] == "R" for c in cs),
            "not_significant": sum(c["tested"] and not c["mark"] for c in cs),
            "untested": sum(not c["tested"] for c in cs),
            "geomean_ratio": math.exp(sum(map(math.log, ratios)) / len(ratios)) if ratios else None,
        }
    return pairs, out, summary


# --------------------------------------------------------------- output --

def fmt_p(p):
    if p is None:
        return "p=n/a"
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def fmt_delta(c):
    if c is None or c["delta_pct"] is None:
        return "n/a"
    mark = f" ({c['mark']})" if c["mark"] else ""
    return f"{c['delta_pct']:+.1f}%{mark} {fmt_p(c['p'])}"


def fmt_us(x):
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def summary_lines(pairs, summary, results):
    lines = []
    for o, n in pairs:
        s = summary[pair_key(o, n)]
        g = s["geomean_ratio"]
        if g is None:
            gtxt = "geometric-mean speed ratio n/a"
        else:
            how = "no change" if round(g, 3) == 1 else f"{n} faster" if g > 1 else f"{n} slower"
            gtxt = f"geometric-mean speed ratio {g:.3f}x ({(g - 1) * 100:+.1f}%, {how})"
        untested = f", {s['untested']} untested (n<2)" if s["untested"] else ""
        lines.append(f"{n} vs {o}: {s['improved']} improved (I), {s['regressed']} regressed (R), "
                     f"{s['not_significant']} not significant{untested}, "
                     f"of {s['rows']} test_vmalloc rows; " + gtxt)
    for r in results:
        k = pair_key("base", "series")
        if not r["micro"] or k not in r["pairs"] or r["pairs"][k]["ratio"] is None:
            continue
        c, b, s = r["pairs"][k], r["stats"]["base"], r["stats"]["series"]
        speed = (f"{c['ratio']:.2f}x faster" if c["ratio"] >= 1
                 else f"{1 / c['ratio']:.2f}x slower")
        mark = f"({c['mark']}) " if c["mark"] else "not significant, "
        lines.append(f"Microbenchmark: series is {speed} than base "
                     f"(base {fmt_us(b['mean'])} µs, series {fmt_us(s['mean'])} µs) "
                     f"[{r['row']}: {mark}{fmt_p(c['p'])}]")
    return lines


def target_lines(rows_res, runs):
    """The targets the series is judged by (published figures): one line each,
    "MET: ..." or "MISSED: ...".  A target whose ratio cannot be computed (a
    variant, row or result missing, a mean that is not positive, too few runs
    to test significance) is "MISSED: ...: cannot be evaluated: <why>"."""
    def problem(r, o, n):
        """Why the o -> n ratio of row r cannot be computed, or None."""
        for v in (o, n):
            if v not in runs:
                return f"no {v} runs in the inputs"
            if v not in r["stats"]:
                return f"row {r['row']!r} has no {v} result"
        c = r["pairs"].get(pair_key(o, n))
        if c is None or c["ratio"] is None:
            bad = [f"{v} {r['stats'][v]['mean']:g}" for v in (o, n) if r["stats"][v]["mean"] <= 0]
            return (f"row {r['row']!r}: mean avg_us not positive ({', '.join(bad) or 'n/a'})")
        return None

    def line(ok, text):
        return f"{'MET' if ok else 'MISSED'}: {text}"

    def unevaluated(text, why):
        return f"MISSED: {text}: cannot be evaluated: {why}"

    def find(prefix):
        return [r for r in rows_res if r["row"].startswith(prefix)]

    lines = []
    # The contiguous-free microbenchmark.
    text = "microbenchmark series / base >= 5.6x (published)"
    micro = [r for r in rows_res if r["micro"]]
    if not micro:
        lines.append(unevaluated(text, "no microbenchmark (contig_free) row in the inputs"))
    for r in micro:
        why = problem(r, "base", "series")
        if why:
            lines.append(unevaluated(f"{text} [{r['row']}]", why))
        else:
            c = r["pairs"][pair_key("base", "series")]
            lines.append(line(c["ratio"] >= 5.6, f"{text}: {c['ratio']:.2f}x [{r['row']}]"))

    # No significant regression of series against base on any test_vmalloc row.
    text = "no row where series is significantly slower than base"
    rows = [r for r in rows_res if not r["micro"]]
    whys = [w for w in (problem(r, "base", "series") for r in rows) if w]
    untested = [r["row"] for r in rows if not whys and
                not r["pairs"][pair_key("base", "series")]["tested"]]
    if not rows:
        lines.append(unevaluated(text, "no test_vmalloc rows in the inputs"))
    elif whys:
        lines.append(unevaluated(text, "; ".join(dict.fromkeys(whys))))
    elif untested:
        lines.append(unevaluated(text, "fewer than 2 runs of base or series on "
                                 + ", ".join(untested)))
    else:
        bad = [r["row"] for r in rows if r["pairs"][pair_key("base", "series")]["mark"] == "R"]
        lines.append(line(not bad, text + (f": slower on {', '.join(bad)}" if bad else "")))

    # fix_size p:512 h:1, series against base.
    text = "fix_size p:512 h:1 series vs base >= +49% (published)"
    found = find("fix_size p:512 h:1 ")
    if not found:
        lines.append(unevaluated(text, "no fix_size p:512 h:1 row in the inputs"))
    for r in found:
        why = problem(r, "base", "series")
        if why:
            lines.append(unevaluated(text, why))
        else:
            d = r["pairs"][pair_key("base", "series")]["delta_pct"]
            lines.append(line(d >= 49, f"{text}: {d:+.1f}%"))

    # The large fix_size rows, series against hiorder (the regression).
    text = "large fix_size rows (p:64..p:512) series vs hiorder >= +54% (published)"
    large = [r for p in (64, 256, 512) for r in find(f"fix_size p:{p} ")]
    absent = [f"p:{p}" for p in (64, 256, 512) if not find(f"fix_size p:{p} ")]
    whys = [w for w in (problem(r, "hiorder", "series") for r in large) if w]
    if absent:
        lines.append(unevaluated(text, f"no fix_size {', '.join(absent)} row in the inputs"))
    elif whys:
        lines.append(unevaluated(text, "; ".join(dict.fromkeys(whys))))
    else:
        worst = min(large, key=lambda r: r["pairs"][pair_key("hiorder", "series")]["delta_pct"])
        d = worst["pairs"][pair_key("hiorder", "series")]["delta_pct"]
        lines.append(line(d >= 54, f"{text}: lowest {d:+.1f}% [{worst['row']}]"))
    return lines


def md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_md(path, args, plan, runs, rows_res, pairs, lines, targets):
    n_in = len(args.json)
    out = [f"# test_vmalloc benchmark: base, hiorder, series ({args.mode})", ""]
    out += ["## How produced", ""]
    out.append(f"- mode: {md_cell(args.mode)}")
    for k, v in args.meta:
        out.append(f"- {md_cell(k)}: {md_cell(v)}")
    out.append(f"- plan: {md_cell(plan)}")
    out.append(f"- inputs: {n_in} check-log.py JSON files ("
               + ", ".join(f"{v} {runs[v]}" for v in VARIANTS if v in runs) + ")")
    out.append("- report: scripts/bench-report.py")
    out += ["", "<details><summary>JSON inputs</summary>", ""]
    out += [f"- {md_cell(p)}" for p in args.json]
    out += ["", "</details>", ""]
    out += ["Values are test_vmalloc's `avg:` (µs) of each boot, one per run; mean over the "
            "runs, ±CI is the 95% confidence interval of the mean (Student t). "
            "Δ% of old → new is `(mean_old / mean_new - 1) * 100`: positive means new is "
            "faster (+100% = 2x faster, -50% = 2x slower). (I) improvement, (R) regression: "
            "the two 95% CIs do not overlap. p: Welch's t-test, two-sided "
            "(n/a with fewer than 2 runs on a side or no variance on either side).", ""]
    out += ["## Comparison", ""]
    out.append("| row | base mean (µs) ±CI | "
               + " | ".join(f"Δ% {pair_title(o, n)}" for o, n in pairs) + " |")
    out.append("|---|---:|" + "---:|" * len(pairs))
    for r in rows_res:
        b = r["stats"].get("base")
        if b is None:
            base = "n/a"
        elif b["ci95"] is None:
            base = f"{fmt_us(b['mean'])} (n={b['n']})"
        else:
            base = f"{fmt_us(b['mean'])} ±{fmt_us(b['ci95'])}"
        cells = [fmt_delta(r["pairs"].get(pair_key(o, n))) for o, n in pairs]
        out.append(f"| {md_cell(r['row'])} | {base} | " + " | ".join(cells) + " |")
    out += ["", "## Summary", ""]
    out += [f"- {line}" for line in lines]
    out += ["", "(The contig_free row is a microbenchmark: loops x {alloc order-9, split_page, "
            "free_contig_range}; it is not counted in the per-pair lines above.)", ""]
    out += ["## Targets", ""] + [f"- {md_cell(t)}" for t in targets] + [""]
    out += ["## Per-variant means", "", "mean ± sample stdev (µs), n runs", ""]
    present = [v for v in VARIANTS if v in runs]
    out.append("| row | " + " | ".join(present) + " |")
    out.append("|---|" + "---:|" * len(present))
    for r in rows_res:
        cells = []
        for v in present:
            s = r["stats"].get(v)
            if s is None:
                cells.append("n/a")
            else:
                sd = "" if s["stdev"] is None else f" ± {fmt_us(s['stdev'])}"
                cells.append(f"{fmt_us(s['mean'])}{sd} (n={s['n']})")
        out.append(f"| {md_cell(r['row'])} | " + " | ".join(cells) + " |")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def write_png(path, args, runs, rows_res, pairs, plt, Patch):
    nrows = len(rows_res)
    height = max(8.0, 0.36 * nrows + 1.0)
    fig, ax = plt.subplots(figsize=(10, height), dpi=100)
    npairs = max(1, len(pairs))
    bar_h = 0.8 / npairs
    # The x range covers the test_vmalloc rows; a microbenchmark bar far
    # beyond it is clipped at the edge, its label gives the value.
    normal = [r["pairs"][pair_key(o, n)]["delta_pct"] for r in rows_res if not r["micro"]
              for o, n in pairs if r["pairs"].get(pair_key(o, n), {}).get("delta_pct") is not None]
    every = [r["pairs"][pair_key(o, n)]["delta_pct"] for r in rows_res
             for o, n in pairs if r["pairs"].get(pair_key(o, n), {}).get("delta_pct") is not None]
    ref = normal or every or [0.0]
    lo, hi = min(min(ref), -5.0), max(max(ref), 5.0)
    slack = max(hi - lo, 20.0)
    if every and min(every) >= lo - slack:
        lo = min(lo, min(every))
    if every and max(every) <= hi + slack:
        hi = max(hi, max(every))
    span = hi - lo
    xmin, xmax = lo - 0.22 * span, hi + 0.22 * span
    clipped = False
    for j, (o, n) in enumerate(pairs):
        color = COLORS[(o, n)]
        for i, r in enumerate(rows_res):
            c = r["pairs"].get(pair_key(o, n))
            if c is None or c["delta_pct"] is None:
                continue
            d = c["delta_pct"]
            shown = min(max(d, lo - 0.05 * span), hi + 0.05 * span)
            y = i - 0.4 + bar_h * (j + 0.5)
            if c["significant"]:
                ax.barh(y, shown, height=bar_h * 0.92, color=color, edgecolor="black", linewidth=1.0)
            else:
                ax.barh(y, shown, height=bar_h * 0.92, color="white", edgecolor=color,
                        hatch="////", linewidth=1.0)
            label = f"{d:+.1f}%" + (f" ({c['mark']})" if c["mark"] else "")
            if shown != d:
                clipped = True
                label = ("◀ " if d < 0 else "▶ ") + label
            pad = 0.01 * span
            ax.text(shown + (pad if shown >= 0 else -pad), y, label, va="center",
                    ha="left" if shown >= 0 else "right", fontsize=7,
                    fontweight="bold" if c["significant"] else "normal")
    ax.axvline(0, color="black", linewidth=1.0)
    ax.set_xlim(xmin, xmax)
    ax.set_yticks(range(nrows))
    ax.set_yticklabels([r["row"] for r in rows_res], fontsize=9)
    ax.set_ylim(nrows - 0.5, -0.5)          # first row at the top
    for i in range(nrows - 1):
        ax.axhline(i + 0.5, color="#dddddd", linewidth=0.6)
    ax.grid(axis="x", color="#e6e6e6", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel("Δ% = (mean_old / mean_new − 1) × 100   (positive: new kernel faster)")
    nruns = sorted(set(runs.values()))
    nr = f"{nruns[0]} runs per kernel" if len(nruns) == 1 else \
        "runs: " + ", ".join(f"{v} {runs[v]}" for v in VARIANTS if v in runs)
    ax.set_title(f"test_vmalloc avg time change, mode: {args.mode} ({nr})", fontsize=12)
    handles = [Patch(facecolor=COLORS[(o, n)], edgecolor="black", label=pair_title(o, n))
               for o, n in pairs]
    handles += [Patch(facecolor="#888888", edgecolor="black", label="significant (95% CIs disjoint)"),
                Patch(facecolor="white", edgecolor="#888888", hatch="////",
                      label="not significant")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=3,
              fontsize=8, frameon=False)
    fig.tight_layout()
    if clipped:
        fig.text(0.99, 0.005, "▶ ◀: bar clipped at the axis edge, the label gives its value",
                 ha="right", va="bottom", fontsize=7, color="#555555")
    fig.savefig(path)
    plt.close(fig)


def json_safe(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, list):
        return [json_safe(v) for v in x]
    return x


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        usage="%(prog)s --mode MODE --out PREFIX [--meta KEY=VALUE ...] JSON...")
    ap.add_argument("--mode", required=True, help="timing mode of the runs (tcg or icount)")
    ap.add_argument("--out", required=True, metavar="PREFIX",
                    help="write PREFIX.md, PREFIX.png and PREFIX.json")
    ap.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                    help="a line of the report's 'How produced' section (repeatable)")
    ap.add_argument("json", nargs="+", metavar="JSON", help="check-log.py --json results")
    args = ap.parse_args()
    if not args.mode.strip():
        ap.error("--mode must not be empty")
    meta = []
    for m in args.meta:
        k, sep, v = m.partition("=")
        if not sep or not k.strip():
            ap.error(f"--meta wants KEY=VALUE, got {m!r}")
        meta.append((k.strip(), v))
    args.meta = meta
    outdir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(outdir):
        die(f"output directory does not exist: {outdir}", 2)

    try:
        rows, values, runs, plan = load_inputs(args.json)
        if len(runs) < 2:
            raise InputError(f"only variant {', '.join(runs)} in the inputs; "
                             f"need at least two of {', '.join(VARIANTS)} to compare")
    except InputError as e:
        die(str(e), 1)
    stats, plt, Patch = import_packages()
    pairs, results, summary = analyse(rows, values, stats)
    lines = summary_lines(pairs, summary, results)
    targets = target_lines(results, runs)

    write_md(args.out + ".md", args, plan, runs, results, pairs, lines, targets)
    write_png(args.out + ".png", args, runs, results, pairs, plt, Patch)
    doc = {"mode": args.mode, "meta": dict(meta), "plan": plan,
           "inputs": [os.path.abspath(p) for p in args.json], "runs": runs,
           "pairs": [{"key": pair_key(o, n), "old": o, "new": n} for o, n in pairs],
           "rows": results, "summary": summary, "summary_lines": lines, "targets": targets}
    with open(args.out + ".json", "w", encoding="utf-8") as f:
        json.dump(json_safe(doc), f, indent=2, ensure_ascii=False, allow_nan=False)
        f.write("\n")
    for line in lines + targets:
        print(line)
    print(f"wrote {args.out}.md, {args.out}.png, {args.out}.json")
    missed = [t for t in targets if t.startswith("MISSED: ")]
    if missed:
        die(f"{len(missed)} of {len(targets)} targets missed:\n"
            + "\n".join(f"  {t[len('MISSED: '):]}" for t in missed), 3)
    return 0


if __name__ == "__main__":
    sys.exit(main())

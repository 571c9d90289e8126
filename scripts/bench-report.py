#!/usr/bin/python3
"""Compare the test_vmalloc benchmark of a base's kernels, pair by pair.

usage: bench-report.py --mode MODE --out PREFIX [--variants A,B[,C...]]
                       [--pairs OLD:NEW[,OLD:NEW...]] [--published OLD:NEW=COLUMN ...]
                       [--targets 6.12|7.3|none] [--meta KEY=VALUE ...] JSON...
       bench-report.py --check-args [the same options, no JSON]

JSON... are the results of scripts/check-log.py --json, one per boot (any
number of runs of each of the --variants, all in the one timing MODE, e.g.
tcg or icount).  --variants lists the kernels in their interleave order; the
first is the reference (default: base,hiorder,series, the kernels of 6.12).
The value of a row in a run is the avg_us of its test_vmalloc Summary line;
a row must have one such line per run (the benchmark uses one thread), and
the same test in every run.  Per row and variant: n, mean, sample stdev,
95% confidence interval of the mean (Student t).

--pairs lists the comparisons old -> new, one table each, in that order
(default: every pair of --variants in their order, old first; for 6.12
base:hiorder, base:series, hiorder:series).  Per pair and row,
Delta% = (mean_old / mean_new - 1) * 100 (positive: new is faster; +100% is
2x faster, -50% is 2x slower), and p of Welch's t-test (two-sided).  A change
is significant when p < 0.05: (I) improvement (new faster), (R) regression
(new slower).  The confidence intervals are shown as information only (two
of them can overlap while p < 0.05).  With fewer than 2 runs on a side, or
no variance on either side, the row is untested: p n/a, no mark.
The contig_free row is a microbenchmark (alloc order-9, split_page,
free_contig_range), reported on its own (last variant against the
reference) and left out of the per-pair counts and geometric means, which
cover the test_vmalloc rows.

--published OLD:NEW=COLUMN (repeatable, or comma-separated) puts the
published figures of COLUMN (BRIEF.md "Figures to beat") beside that pair's
Delta%: hiorder_vs_base ("base -> high-order vmalloc alone"), series_vs_base
("base -> high-order vmalloc + series"), series_vs_hiorder ("high-order
alone -> + series").  They are shown as published: their sign is that of our
Delta% (negative: the new kernel slower), see PUBLISHED_SIGN.

--targets picks the targets the report is judged by ("significantly
slower": Welch p < 0.05, as the marks):
  6.12 (default)  microbenchmark series / base >= 5.6x; no test_vmalloc row
                  where series is significantly slower than base;
                  fix_size p:512 h:1 series vs base >= +49%; the large
                  fix_size rows (p:64..p:512) series vs hiorder >= +54%
  7.3             no test_vmalloc row where series is significantly slower
                  than upstream; none where it is than order0;
                  microbenchmark series / order0 >= 5.6x
  none            no targets
The variants a set compares must be among --variants.  The targets are
checked last: a target that is missed, or whose ratio cannot be computed
("cannot be evaluated: <why>"), is listed on stderr after the report has
been written, and the exit status is 3.

--check-args checks the options (and that scipy and matplotlib import) and
exits 0 without reading or writing anything: bench.sh runs it before its
boots, so that a bad BENCH_* setting stops it before, not after, an hour.

Writes PREFIX.md (report), PREFIX.png (chart of the Delta% columns) and
PREFIX.json (the statistics); prints the summary lines.
Needs Debian's python3-scipy and python3-matplotlib.
Exit status: 0 done, every target met; 1 bad input data; 2 usage error /
missing file or package; 3 report written, some target missed.
"""
import argparse
import itertools
import json
import math
import os
import re
import sys
import warnings

DEFAULT_VARIANTS = ["base", "hiorder", "series"]
MICRO = {"contig_free"}     # first word of the microbenchmark rows
ALPHA = 0.05                # significance level of Welch's t-test (two-sided)
# Colours of the pairs, in --pairs order (the first three are 6.12's
# base:hiorder, base:series, hiorder:series of earlier reports); beyond
# them, matplotlib's tab20.
PAIR_COLORS = ["#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02",
               "#a6761d", "#666666"]

# The published figures (BRIEF.md "Figures to beat": arm64 server, mm-new,
# test_vmalloc avg of 3 runs, unscaled loop counts), per column, as
# {(test, nr_pages, use_huge): percent}; a row with only a range or "noise"
# in the text has no per-row figure (its cell stays empty; the note says
# what was published).
PUBLISHED_SIGN = (
    "Published Δ% (BRIEF.md \"Figures to beat\": arm64 server, mm-new, mean of 3 runs, "
    "unscaled loop counts) is shown as published, with no change of sign, because the "
    "published figures follow our convention: (t_old / t_new − 1)·100, negative when the new "
    "kernel is slower. Evidence: base → high-order vmalloc alone, which the text calls a "
    "regression of 12–51%, is given as −12% .. −51%; and high-order alone → + series reaches "
    "+118%, which a reduction of time ((t_old − t_new) / t_old, at most +100%) cannot be. "
    "So a published −12% means the new kernel took 1/0.88 = 1.14x the old one's time, as our "
    "−12% would. Compare direction and rough size, not digits: the machine, kernel and loop "
    "counts differ.")
# 100000 x { alloc order-9, split_page, free_contig_range }:
# 4,097,358 us before the series, 729,831 us after: 5.6x.
MICRO_PUBLISHED = (4097358 / 729831 - 1) * 100
PUBLISHED = {
    "hiorder_vs_base": {
        "title": "base → high-order vmalloc alone",
        "rows": {("fix_size", 1, False): -12, ("fix_align", 1, False): -51},
        "note": "also published: −35..−38% on fix_size p:4..p:512 (a range, no per-row figure)",
    },
    "series_vs_base": {
        "title": "base → high-order vmalloc + series",
        "rows": {("fix_align", 1, False): -14, ("fix_size", 1, False): -7,
                 ("fix_size", 4, False): -1.6, ("fix_size", 16, False): 1.6,
                 ("fix_size", 16, True): 16, ("fix_size", 64, False): 9,
                 ("fix_size", 64, True): 38, ("fix_size", 256, False): 13,
                 ("fix_size", 256, True): 39, ("fix_size", 512, False): 13,
                 ("fix_size", 512, True): 49, ("contig_free", None, False): MICRO_PUBLISHED},
        "note": "also published: the other rows ±noise (no figure); contig_free is the "
                "microbenchmark, 4,097,358 → 729,831 µs before → after the series (5.6x)",
    },
    "series_vs_hiorder": {
        "title": "high-order alone → + series",
        "rows": {("fix_align", 1, False): 67, ("long_busy_list", 1, False): 75,
                 ("contig_free", None, False): MICRO_PUBLISHED},
        "note": "also published: +54% to +118% on fix_size p:4..p:512 h:1 and +72..+77% on "
                "random_size(_align) (ranges, no per-row figure); contig_free is the "
                "microbenchmark, 4,097,358 → 729,831 µs before → after the series (5.6x), "
                "measured on mm-new, the high-order kernel",
    },
}


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


def row_id(row):
    """(test, nr_pages, use_huge) of a row label such as 'fix_size p:16 h:1 l:10000'."""
    words = row.split()
    pages, huge = None, False
    for w in words[1:]:
        if re.fullmatch(r"p:\d+", w):
            pages = int(w[2:])
        elif w == "h:1":
            huge = True
    return (words[0] if words else "", pages, huge)


def published_pct(column, row):
    if not column:
        return None
    return PUBLISHED[column]["rows"].get(row_id(row))


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

def load_inputs(paths, variants):
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
    rows, values, runs, plans, tests = [], {}, {}, {}, {}
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
        if variant not in variants:
            raise InputError(f"{p}: variant {variant!r} is not one of {', '.join(variants)}")
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
            test = entries[0].get("test")
            if test is not None:
                first = tests.setdefault(row, (test, p))
                if first[0] != test:
                    raise InputError(
                        f"{p}: row {row!r} ran test {test!r}, but {first[1]} ran {first[0]!r}: "
                        "the kernels' test_vmalloc.c differ (run_test_mask selected another "
                        "test); make the rows from each kernel's source (bench-rows.sh --source)")
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
    """Pair old a -> new b (describe() dicts).  Significant: Welch's t-test,
    two-sided, p < ALPHA; untested (p None) with n < 2 on a side or no
    variance on either side."""
    res = {"delta_pct": None, "ratio": None, "tested": False, "significant": False,
           "mark": "", "p": None}
    if a["mean"] > 0 and b["mean"] > 0:
        res["ratio"] = a["mean"] / b["mean"]       # > 1: new is faster
        res["delta_pct"] = (res["ratio"] - 1) * 100
    if a["n"] < 2 or b["n"] < 2 or (a["stdev"] == 0 and b["stdev"] == 0):
        return res
    with warnings.catch_warnings():     # nearly constant samples: precision warnings
        warnings.simplefilter("ignore")
        p = float(stats.ttest_ind(a["values"], b["values"], equal_var=False).pvalue)
    if math.isnan(p):
        return res
    res["tested"] = True
    res["p"] = p
    if p < ALPHA and a["mean"] != b["mean"]:
        res["significant"] = True
        res["mark"] = "I" if b["mean"] < a["mean"] else "R"
    return res


def analyse(rows, values, runs, variants, pairs, extra_pairs, published, stats):
    """Statistics per row; comparisons for the displayed pairs (those whose
    two variants have runs) and for extra_pairs (targets, microbenchmark)."""
    shown = [(o, n) for o, n in pairs if o in runs and n in runs]
    needed = list(dict.fromkeys(shown + [(o, n) for o, n in extra_pairs
                                         if o in runs and n in runs]))
    out = []
    for row in rows:
        st = {v: describe(values[(row, v)], stats) for v in variants if (row, v) in values}
        cmp = {}
        for o, n in needed:
            if o in st and n in st:
                c = compare(st[o], st[n], stats)
                if (o, n) in published:
                    c["published_pct"] = published_pct(published[(o, n)], row)
                cmp[pair_key(o, n)] = c
        out.append({"row": row, "micro": is_micro(row), "stats": st, "pairs": cmp})
    summary = {}
    for o, n in shown:
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
    return shown, out, summary


# --------------------------------------------------------------- output --

def fmt_p(p):
    if p is None:
        return "p=n/a"
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def fmt_p_cell(p):
    if p is None:
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_delta(c):
    if c is None or c["delta_pct"] is None:
        return "n/a"
    mark = f" ({c['mark']})" if c["mark"] else ""
    return f"{c['delta_pct']:+.1f}%{mark}"


def fmt_published(pct):
    if pct is None:
        return ""
    if pct > 100:       # the microbenchmark: also as the published speed ratio
        return f"{pct:+.0f}% ({pct / 100 + 1:.1f}x)"
    return f"{pct:+g}%"


def fmt_us(x):
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def fmt_mean_ci(s):
    if s is None:
        return "n/a"
    if s["ci95"] is None:
        return f"{fmt_us(s['mean'])} (n={s['n']})"
    return f"{fmt_us(s['mean'])} ±{fmt_us(s['ci95'])}"


def summary_lines(pairs, summary, results, micro_pair):
    lines = []
    for o, n in pairs:
        s = summary[pair_key(o, n)]
        g = s["geomean_ratio"]
        if g is None:
            gtxt = "geometric-mean speed ratio n/a"
        else:
            how = "no change" if round(g, 3) == 1 else f"{n} faster" if g > 1 else f"{n} slower"
            gtxt = f"geometric-mean speed ratio {g:.3f}x ({(g - 1) * 100:+.1f}%, {how})"
        untested = f", {s['untested']} untested (n<2 or no variance)" if s["untested"] else ""
        lines.append(f"{n} vs {o}: {s['improved']} improved (I), {s['regressed']} regressed (R), "
                     f"{s['not_significant']} not significant{untested}, "
                     f"of {s['rows']} test_vmalloc rows; " + gtxt)
    ref, last = micro_pair
    k = pair_key(ref, last)
    for r in results:
        if not r["micro"] or k not in r["pairs"] or r["pairs"][k]["ratio"] is None:
            continue
        c, b, s = r["pairs"][k], r["stats"][ref], r["stats"][last]
        speed = (f"{c['ratio']:.2f}x faster" if c["ratio"] >= 1
                 else f"{1 / c['ratio']:.2f}x slower")
        mark = f"({c['mark']}) " if c["mark"] else "not significant, "
        lines.append(f"Microbenchmark: {last} is {speed} than {ref} "
                     f"({ref} {fmt_us(b['mean'])} µs, {last} {fmt_us(s['mean'])} µs) "
                     f"[{r['row']}: {mark}{fmt_p(c['p'])}]")
    return lines


# ---------------------------------------------------------------- targets --
# Each target is a function (rows_res, runs) -> [lines], made by one of the
# makers below; TARGETS maps a --targets name to the variants it needs and
# its targets, in the order they are reported.

def _problem(r, o, n, runs):
    """Why the o -> n ratio of row r cannot be computed, or None."""
    for v in (o, n):
        if v not in runs:
            return f"no {v} runs in the inputs"
        if v not in r["stats"]:
            return f"row {r['row']!r} has no {v} result"
    c = r["pairs"].get(pair_key(o, n))
    if c is None or c["ratio"] is None:
        bad = [f"{v} {r['stats'][v]['mean']:g}" for v in (o, n) if r["stats"][v]["mean"] <= 0]
        return f"row {r['row']!r}: mean avg_us not positive ({', '.join(bad) or 'n/a'})"
    return None


def _line(ok, text):
    return f"{'MET' if ok else 'MISSED'}: {text}"


def _unevaluated(text, why):
    return f"MISSED: {text}: cannot be evaluated: {why}"


def _find(rows_res, prefix):
    return [r for r in rows_res if r["row"].startswith(prefix)]


def micro_target(old, new, minimum):
    """The contiguous-free microbenchmark: new / old speed >= minimum."""
    text = f"microbenchmark {new} / {old} >= {minimum}x (published)"

    def check(rows_res, runs):
        micro = [r for r in rows_res if r["micro"]]
        if not micro:
            return [_unevaluated(text, "no microbenchmark (contig_free) row in the inputs")]
        lines = []
        for r in micro:
            why = _problem(r, old, new, runs)
            if why:
                lines.append(_unevaluated(f"{text} [{r['row']}]", why))
            else:
                c = r["pairs"][pair_key(old, new)]
                lines.append(_line(c["ratio"] >= minimum, f"{text}: {c['ratio']:.2f}x [{r['row']}]"))
        return lines
    return check, [(old, new)]


def no_regression_target(old, new):
    """No test_vmalloc row where new is significantly slower than old (Welch)."""
    text = f"no row where {new} is significantly slower than {old}"

    def check(rows_res, runs):
        rows = [r for r in rows_res if not r["micro"]]
        whys = [w for w in (_problem(r, old, new, runs) for r in rows) if w]
        if not rows:
            return [_unevaluated(text, "no test_vmalloc rows in the inputs")]
        if whys:
            return [_unevaluated(text, "; ".join(dict.fromkeys(whys)))]
        k = pair_key(old, new)
        untested = [r["row"] for r in rows if not r["pairs"][k]["tested"]]
        if untested:
            return [_unevaluated(text, f"not tested (fewer than 2 runs of {old} or {new}, or "
                                 "no variance in either) on " + ", ".join(untested))]
        bad = [r["row"] for r in rows if r["pairs"][k]["mark"] == "R"]
        return [_line(not bad, text + (f": slower on {', '.join(bad)}" if bad else ""))]
    return check, [(old, new)]


def row_delta_target(prefix, label, old, new, minimum):
    """Rows starting with prefix: Delta% of old -> new >= minimum."""
    text = f"{label} {new} vs {old} >= {minimum:+d}% (published)"

    def check(rows_res, runs):
        found = _find(rows_res, prefix)
        if not found:
            return [_unevaluated(text, f"no {label} row in the inputs")]
        lines = []
        for r in found:
            why = _problem(r, old, new, runs)
            if why:
                lines.append(_unevaluated(text, why))
            else:
                d = r["pairs"][pair_key(old, new)]["delta_pct"]
                lines.append(_line(d >= minimum, f"{text}: {d:+.1f}%"))
        return lines
    return check, [(old, new)]


def large_rows_target(old, new, minimum):
    """The large fix_size rows (p:64, p:256, p:512): lowest Delta% >= minimum."""
    text = f"large fix_size rows (p:64..p:512) {new} vs {old} >= {minimum:+d}% (published)"
    sizes = (64, 256, 512)

    def check(rows_res, runs):
        large = [r for p in sizes for r in _find(rows_res, f"fix_size p:{p} ")]
        absent = [f"p:{p}" for p in sizes if not _find(rows_res, f"fix_size p:{p} ")]
        whys = [w for w in (_problem(r, old, new, runs) for r in large) if w]
        if absent:
            return [_unevaluated(text, f"no fix_size {', '.join(absent)} row in the inputs")]
        if whys:
            return [_unevaluated(text, "; ".join(dict.fromkeys(whys)))]
        k = pair_key(old, new)
        worst = min(large, key=lambda r: r["pairs"][k]["delta_pct"])
        d = worst["pairs"][k]["delta_pct"]
        return [_line(d >= minimum, f"{text}: lowest {d:+.1f}% [{worst['row']}]")]
    return check, [(old, new)]


TARGETS = {
    # The published figures the series must beat on 6.12.
    "6.12": (("base", "hiorder", "series"), [
        micro_target("base", "series", 5.6),
        no_regression_target("base", "series"),
        row_delta_target("fix_size p:512 h:1 ", "fix_size p:512 h:1", "base", "series", 49),
        large_rows_target("hiorder", "series", 54),
    ]),
    # 7.3: the series must not lose against upstream's merged batched
    # freeing, nor against the kernel before both changes, and must keep
    # the published microbenchmark gain.
    "7.3": (("order0", "upstream", "series"), [
        no_regression_target("upstream", "series"),
        no_regression_target("order0", "series"),
        micro_target("order0", "series", 5.6),
    ]),
    "none": ((), []),
}


def target_lines(rows_res, runs, targets):
    """The targets of the chosen set: one line each, "MET: ..." or
    "MISSED: ...".  A target whose ratio cannot be computed (a variant, row
    or result missing, a mean that is not positive, too few runs to test
    significance) is "MISSED: ...: cannot be evaluated: <why>"."""
    lines = []
    for check, _ in TARGETS[targets][1]:
        lines += check(rows_res, runs)
    return lines


# ------------------------------------------------------------------ report --

def md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_md(path, args, plan, runs, rows_res, pairs, lines, targets):
    n_in = len(args.json)
    variants = args.variants
    out = [f"# test_vmalloc benchmark: {', '.join(variants)} ({args.mode})", ""]
    out += ["## How produced", ""]
    out.append(f"- mode: {md_cell(args.mode)}")
    for k, v in args.meta:
        out.append(f"- {md_cell(k)}: {md_cell(v)}")
    out.append(f"- plan: {md_cell(plan)}")
    out.append(f"- inputs: {n_in} check-log.py JSON files ("
               + ", ".join(f"{v} {runs[v]}" for v in variants if v in runs) + ")")
    out.append(f"- report: scripts/bench-report.py (variants {','.join(variants)}; reference "
               f"{variants[0]}; targets {args.targets})")
    out += ["", "<details><summary>JSON inputs</summary>", ""]
    out += [f"- {md_cell(p)}" for p in args.json]
    out += ["", "</details>", ""]
    out += ["Values are test_vmalloc's `avg:` (µs) of each boot, one per run; mean over the "
            "runs, ±CI is the 95% confidence interval of the mean (Student t), for information. "
            "Δ% of old → new is `(mean_old / mean_new - 1) * 100`: positive means new is "
            "faster (+100% = 2x faster, -50% = 2x slower). p: Welch's t-test, two-sided; "
            f"(I) improvement, (R) regression: p < {ALPHA} (I: new faster, R: new slower), "
            "whether or not the CIs overlap. Untested (p n/a, no mark): fewer than 2 runs on a "
            "side, or no variance on either side.", ""]
    if any(p in args.published for p in pairs):
        out += [PUBLISHED_SIGN, ""]
    out += ["## Comparison", ""]
    absent = [(o, n) for o, n in args.pairs if (o, n) not in pairs]
    if absent:
        out += ["Not compared (a kernel without runs in the inputs): "
                + ", ".join(pair_title(o, n) for o, n in absent), ""]
    for o, n in pairs:
        k = pair_key(o, n)
        column = args.published.get((o, n))
        out += [f"### {pair_title(o, n)}", ""]
        head = f"| row | {o} (µs) ±CI | {n} (µs) ±CI | Δ% | p |"
        rule = "|---|---:|---:|---:|---:|"
        if column:
            head += f" published Δ% ({PUBLISHED[column]['title']}) |"
            rule += "---:|"
        out += [head, rule]
        for r in rows_res:
            c = r["pairs"].get(k)
            cells = [fmt_mean_ci(r["stats"].get(o)), fmt_mean_ci(r["stats"].get(n)),
                     fmt_delta(c), fmt_p_cell(c["p"] if c else None)]
            if column:
                cells.append(fmt_published(published_pct(column, r["row"])))
            out.append(f"| {md_cell(r['row'])} | " + " | ".join(cells) + " |")
        if column:
            out += ["", f"Published column: {column} ({PUBLISHED[column]['title']}); "
                    + PUBLISHED[column]["note"] + "."]
        out.append("")
    out += ["## Summary", ""]
    out += [f"- {line}" for line in lines]
    out += ["", "(The contig_free row is a microbenchmark: loops x {alloc order-9, split_page, "
            "free_contig_range}; it is not counted in the per-pair lines above.)", ""]
    out += ["## Targets", ""]
    if targets:
        out += [f"- {md_cell(t)}" for t in targets]
    else:
        out.append(f"- none (--targets {args.targets})")
    out.append("")
    out += ["## Per-variant means", "", "mean ± sample stdev (µs), n runs", ""]
    present = [v for v in variants if v in runs]
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


def pair_colors(pairs, plt):
    """A colour per pair of --pairs (by position), any number of them."""
    colors = {}
    tab20 = plt.get_cmap("tab20")
    for i, p in enumerate(pairs):
        colors[p] = PAIR_COLORS[i] if i < len(PAIR_COLORS) else \
            tab20((i - len(PAIR_COLORS)) % 20)
    return colors


def write_png(path, args, runs, rows_res, pairs, plt, Patch):
    colors = pair_colors(args.pairs, plt)
    nrows = len(rows_res)
    height = max(8.0, 0.36 * nrows * max(1.0, len(pairs) / 3) + 1.0)
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
        color = colors[(o, n)]
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
    xlabel = "Δ% = (mean_old / mean_new − 1) × 100   (positive: new kernel faster)"
    if clipped:
        xlabel += "\n▶ ◀: bar clipped at the axis edge, the label gives its value"
    ax.set_xlabel(xlabel)
    nruns = sorted(set(runs.values()))
    nr = f"{nruns[0]} runs per kernel" if len(nruns) == 1 else \
        "runs: " + ", ".join(f"{v} {runs[v]}" for v in args.variants if v in runs)
    ax.set_title(f"test_vmalloc avg time change, mode: {args.mode} ({nr})", fontsize=12)
    handles = [Patch(facecolor=colors[(o, n)], edgecolor="black", label=pair_title(o, n))
               for o, n in pairs]
    handles += [Patch(facecolor="#888888", edgecolor="black",
                      label=f"significant (Welch p < {ALPHA})"),
                Patch(facecolor="white", edgecolor="#888888", hatch="////",
                      label="not significant / untested")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=3,
              fontsize=8, frameon=False)
    fig.tight_layout()
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


# --------------------------------------------------------------- options --

NAME_RE = re.compile(r"[A-Za-z0-9_.+-]+")


def parse_variants(ap, text):
    variants = [v.strip() for v in text.split(",")]
    for v in variants:
        if not NAME_RE.fullmatch(v):
            ap.error(f"--variants: bad variant name {v!r} in {text!r} (want A,B[,C...])")
    if len(variants) < 2:
        ap.error(f"--variants wants at least two kernels, got {text!r}")
    dup = [v for v in variants if variants.count(v) > 1]
    if dup:
        ap.error(f"--variants names {dup[0]} twice")
    return variants


def parse_pair(ap, opt, text, variants):
    old, sep, new = text.strip().partition(":")
    if not sep or not old or not new:
        ap.error(f"{opt}: want OLD:NEW, got {text!r}")
    for v in (old, new):
        if v not in variants:
            ap.error(f"{opt}: {v!r} (in {text!r}) is not one of --variants {','.join(variants)}")
    if old == new:
        ap.error(f"{opt}: {text!r} compares a kernel with itself")
    return old, new


def parse_pairs(ap, text, variants):
    if text is None:
        return list(itertools.combinations(variants, 2))
    pairs = [parse_pair(ap, "--pairs", t, variants) for t in text.split(",") if t.strip()]
    if not pairs:
        ap.error("--pairs lists no pair")
    for p in pairs:
        if pairs.count(p) > 1:
            ap.error(f"--pairs lists {p[0]}:{p[1]} twice")
    return pairs


def parse_published(ap, items, pairs, variants):
    published = {}
    for item in items:
        for text in item.split(","):
            if not text.strip():
                continue
            pair_text, sep, column = text.strip().partition("=")
            if not sep:
                ap.error(f"--published: want OLD:NEW=COLUMN, got {text!r}")
            pair = parse_pair(ap, "--published", pair_text, variants)
            if column not in PUBLISHED:
                ap.error(f"--published: column {column!r} is not one of {', '.join(PUBLISHED)}")
            if pair not in pairs:
                ap.error(f"--published: pair {pair_text} is not one of --pairs")
            if pair in published and published[pair] != column:
                ap.error(f"--published: pair {pair_text} mapped to both "
                         f"{published[pair]} and {column}")
            published[pair] = column
    return published


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        usage="%(prog)s --mode MODE --out PREFIX [--variants A,B[,C...]] "
              "[--pairs OLD:NEW[,OLD:NEW...]] [--published OLD:NEW=COLUMN ...] "
              "[--targets 6.12|7.3|none] [--meta KEY=VALUE ...] JSON...\n"
              "       %(prog)s --check-args [the same options, no JSON]")
    ap.add_argument("--mode", required=True, help="timing mode of the runs (tcg or icount)")
    ap.add_argument("--out", required=True, metavar="PREFIX",
                    help="write PREFIX.md, PREFIX.png and PREFIX.json")
    ap.add_argument("--variants", default=",".join(DEFAULT_VARIANTS), metavar="A,B[,C...]",
                    help="the kernels, in interleave order; the first is the reference "
                         "(default: %(default)s)")
    ap.add_argument("--pairs", metavar="OLD:NEW[,OLD:NEW...]",
                    help="the comparisons, a table each, in this order "
                         "(default: every pair of --variants, old before new)")
    ap.add_argument("--published", action="append", default=[], metavar="OLD:NEW=COLUMN",
                    help="show the published figures of COLUMN ("
                         + ", ".join(PUBLISHED) + ") beside pair OLD:NEW (repeatable)")
    ap.add_argument("--targets", default="6.12", choices=list(TARGETS),
                    help="the targets to check (default: %(default)s)")
    ap.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                    help="a line of the report's 'How produced' section (repeatable)")
    ap.add_argument("--check-args", action="store_true",
                    help="check the options and the packages, then exit 0 (no JSON)")
    ap.add_argument("json", nargs="*", metavar="JSON", help="check-log.py --json results")
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
    args.variants = parse_variants(ap, args.variants)
    args.pairs = parse_pairs(ap, args.pairs, args.variants)
    args.published = parse_published(ap, args.published, args.pairs, args.variants)
    need = [v for v in TARGETS[args.targets][0] if v not in args.variants]
    if need:
        ap.error(f"--targets {args.targets} compares {', '.join(TARGETS[args.targets][0])}; "
                 f"--variants {','.join(args.variants)} lacks {', '.join(need)}")
    if args.check_args:
        if args.json:
            ap.error("--check-args takes no JSON")
        import_packages()
        return 0
    if not args.json:
        ap.error("the following arguments are required: JSON")
    outdir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(outdir):
        die(f"output directory does not exist: {outdir}", 2)

    try:
        rows, values, runs, plan = load_inputs(args.json, args.variants)
        if len(runs) < 2:
            raise InputError(f"only variant {', '.join(runs)} in the inputs; "
                             f"need at least two of {', '.join(args.variants)} to compare")
    except InputError as e:
        die(str(e), 1)
    stats, plt, Patch = import_packages()
    micro_pair = (args.variants[0], args.variants[-1])
    extra = [p for _, ps in TARGETS[args.targets][1] for p in ps] + [micro_pair]
    pairs, results, summary = analyse(rows, values, runs, args.variants, args.pairs, extra,
                                      args.published, stats)
    lines = summary_lines(pairs, summary, results, micro_pair)
    targets = target_lines(results, runs, args.targets)

    write_md(args.out + ".md", args, plan, runs, results, pairs, lines, targets)
    write_png(args.out + ".png", args, runs, results, pairs, plt, Patch)
    doc = {"mode": args.mode, "meta": dict(meta), "plan": plan,
           "inputs": [os.path.abspath(p) for p in args.json], "runs": runs,
           "variants": args.variants, "reference": args.variants[0],
           "significance": {"test": "Welch's t-test, two-sided", "alpha": ALPHA},
           "pairs": [{"key": pair_key(o, n), "old": o, "new": n,
                      "published": args.published.get((o, n))} for o, n in pairs],
           "published_columns": {c: {"title": PUBLISHED[c]["title"], "note": PUBLISHED[c]["note"]}
                                 for c in dict.fromkeys(args.published.values())},
           "rows": results, "summary": summary, "summary_lines": lines,
           "targets_set": args.targets, "targets": targets}
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

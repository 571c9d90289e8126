"""What the study reports share (floor-report.py, pcp-report.py,
latency-report.py): the mean and 95% confidence interval of a measure over
the boots, Welch's t-test of two kernels, and the cells of their tables.
"""
import math
import re

from scipy import stats


def label(row):
    """The row's label: the guest logs it with "_" for each space, and an
    "_" before a "key:" word is one of those (test names have "_" too)."""
    return re.sub(r"_(?=[a-z]+:)", " ", str(row))


def summary(values):
    """n, mean and the half-width of the 95% CI of VALUES (None under 2 values)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return {"n": n, "mean": mean, "ci95": None}
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return {"n": n, "mean": mean, "ci95": float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)}


def welch(a, b):
    """Welch's p of A against B: None under 2 values on a side, 1 or 0 when
    both are constant (equal or not)."""
    if len(a) < 2 or len(b) < 2:
        return None
    if len(set(a)) == 1 and len(set(b)) == 1:
        return 1.0 if a[0] == b[0] else 0.0
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def fmt(s):
    """A summary's cell, "mean ± ci95" (or "-" without one)."""
    if s is None:
        return "-"
    ci = "" if s["ci95"] is None else f" ± {s['ci95']:.0f}"
    return f"{s['mean']:.0f}{ci}"


def fmt_cmp(c, p_na="p n/a"):
    """A comparison's cell, "ratio (p=P)" and " *" when p < 0.05: "n/a" for
    no ratio, P_NA for no p (or "-" without a comparison)."""
    if c is None:
        return "-"
    r = "n/a" if c["ratio"] is None else f"{c['ratio']:.2f}x"
    p = p_na if c["p"] is None else f"p={c['p']:.2g}"
    return f"{r} ({p}){' *' if c['p'] is not None and c['p'] < 0.05 else ''}"

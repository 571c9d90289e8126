#!/usr/bin/env python3
"""What a mutant's run must show to count as caught (for scripts/mutants.sh).

A mutation (bases/BASE/mutations/NAME.patch) names in its commit message, one per
line, the failures its runs must show:

    Harness-Plan: smoke|pressure           the guest plan of `make mutants`
    Harness-Expect: kunit SUITE.CASE       a KUnit case that must fail or
                                           crash; a parameterised case matches
                                           when any of its parameters
                                           (SUITE.CASE.PARAM) fails
    Harness-Expect: report KIND            a kernel report of that kind (as
                                           check-log.py names it: "page
                                           poisoning", "KASAN", "BUG", ...)
    Harness-Expect: reason TEXT            TEXT is part of one of the reasons
                                           check-log.py gives for the failure
    Harness-Expect-Matrix: ...             the same, for runs through a
                                           reliability matrix entry
                                           (mutants.sh --matrix)

Every expectation of the field must be met, in any of the run's check-log.py
JSON results (a matrix entry has two: stress and pressure).

Usage:
    mutant-expect.py plan PATCH                 print the plan (default smoke)
    mutant-expect.py list FIELD PATCH           print the expectations
    mutant-expect.py match FIELD PATCH JSON...  the verdict on a run
Exit status of match: 0 caught (the matches are printed), 1 survived (every
result passed), 3 failed for another reason (the reasons and the unmet
expectations are printed); 2: usage or a malformed mutation.
"""
import json
import re
import sys

FIELDS = ("Harness-Expect", "Harness-Expect-Matrix")
KINDS = ("kunit", "report", "reason")
PLANS = ("smoke", "pressure")


class Malformed(Exception):
    pass


def message(path):
    """The commit message part of a git format-patch file (before "---")."""
    lines = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line == "---" or line.startswith("diff --git "):
                break
            lines.append(line)
    return lines


def header(path, field):
    rx = re.compile(re.escape(field) + r":[ \t]*(.*?)[ \t]*$")
    return [m.group(1) for m in map(rx.fullmatch, message(path)) if m]


def plan(path):
    plans = header(path, "Harness-Plan")
    if len(plans) > 1:
        raise Malformed(f"{path}: more than one Harness-Plan line")
    p = plans[0] if plans else "smoke"
    if p not in PLANS:
        raise Malformed(f"{path}: unknown Harness-Plan '{p}' (known: {', '.join(PLANS)})")
    return p


def expectations(path, field):
    if field not in FIELDS:
        raise Malformed(f"unknown field '{field}' (known: {', '.join(FIELDS)})")
    out = []
    for value in header(path, field):
        kind, _, arg = value.partition(" ")
        arg = arg.strip()
        if kind not in KINDS or not arg:
            raise Malformed(f"{path}: bad '{field}: {value}' "
                            f"(want: {field}: kunit SUITE.CASE | report KIND | reason TEXT)")
        if kind == "kunit" and "." not in arg:
            raise Malformed(f"{path}: '{field}: {value}': a KUnit case is SUITE.CASE")
        out.append((kind, arg))
    if not out:
        raise Malformed(f"{path}: no '{field}:' line in the commit message: "
                        f"say what the run must show (kunit SUITE.CASE, report KIND "
                        f"or reason TEXT)")
    return out


def load(paths):
    """[(path, result or None, problem)]"""
    results = []
    for p in paths:
        try:
            with open(p) as f:
                r = json.load(f)
            if not isinstance(r, dict) or not isinstance(r.get("pass"), bool):
                raise ValueError("no \"pass\" in it")
            results.append((p, r, None))
        except (OSError, ValueError) as e:
            results.append((p, None, f"no check-log.py result {p} ({e.__class__.__name__}: "
                                     f"{e}; the run did not get that far, or check-log.py failed)"))
    return results


def where(result):
    plan = result.get("plan")
    return f" [{plan}]" if plan else ""


def find(kind, arg, results):
    """The descriptions of what met the expectation (empty: not met)."""
    found = []
    for _, r, _ in results:
        if r is None:
            continue
        if kind == "kunit":
            names = [f.get("name", "") for f in (r.get("kunit") or {}).get("failures", [])
                     if f.get("status") in ("failed", "crashed")]
            hits = [n for n in names if n == arg or n.startswith(arg + ".")]
            if hits:
                found.append(f"KUnit {', '.join(hits)} failed{where(r)}")
        elif kind == "report":
            hits = [x for x in r.get("reports", []) if x.get("kind") == arg]
            if hits:
                first = hits[0]
                found.append(f"{len(hits)} '{arg}' report(s){where(r)}, first at line "
                             f"{first.get('line')}: {str(first.get('text', '')).strip()}")
        else:
            hits = [x for x in r.get("reasons", []) if arg in x]
            if hits:
                found.append(f"reason{where(r)}: {hits[0]}")
    return found


def match(field, path, jsons):
    exp = expectations(path, field)
    results = load(jsons)
    if all(r is not None and r["pass"] for _, r, _ in results):
        print("every run passed")
        return 1
    met, unmet = [], []
    for kind, arg in exp:
        found = find(kind, arg, results)
        (met if found else unmet).append((kind, arg, found))
    if not unmet and all(r is not None for _, r, _ in results):
        print("; ".join(f"{kind} {arg}: {' | '.join(found)}" for kind, arg, found in met))
        return 0
    reasons = [problem for _, r, problem in results if r is None]
    for _, r, _ in results:
        if r is not None:
            reasons += [f"{x}{where(r)}" for x in r.get("reasons", [])]
    print("; ".join(reasons) or "none given")
    for kind, arg, _ in unmet:
        print(f"  expected, not seen: {kind} {arg}")
    for kind, arg, found in met:
        print(f"  expected, seen: {kind} {arg}: {' | '.join(found)}")
    return 3


def main(argv):
    try:
        if len(argv) == 2 and argv[0] == "plan":
            print(plan(argv[1]))
        elif len(argv) == 3 and argv[0] == "list":
            plan(argv[2])
            for kind, arg in expectations(argv[2], argv[1]):
                print(f"{kind} {arg}")
        elif len(argv) >= 4 and argv[0] == "match":
            return match(argv[1], argv[2], argv[3:])
        else:
            print(__doc__.split("Usage:")[1].split("Exit status")[0].rstrip(), file=sys.stderr)
            return 2
    except (Malformed, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What the tests of the studies share (tests/test_floor.py, test_pcp.py,
test_latency.py, test_wakeups.py, test_frag.py): their report scripts run
with Debian's /usr/bin/python3 and scipy, the figures they must print
(computed without scipy), their project copies, their runs of the repo's
own study scripts with nothing built, and runs of check-log.py --json (also
tests/test_check_log.py).

Not a test file itself (tests/run runs tests/test_*.py); the test files put
tests/ on sys.path before they import it.
"""
import functools
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

from test_scripts import UNEXPECTED, Layout, ScriptTestCase, git_env, read, write, write_exec

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECK_LOG = os.path.join(REPO, "scripts", "check-log.py")
PYTHON = "/usr/bin/python3"
TIMEOUT = 120
# Two-sided 95% quantiles of Student's t by degrees of freedom
# (scipy.stats.t.ppf(0.975, df); the last digits differ between scipy versions).
T975 = {1: 12.706204736174698, 2: 4.302652729749464, 4: 2.7764451051977987,
        5: 2.5705818366147395}


@functools.lru_cache(maxsize=None)
def missing_scipy(script):
    """None, or why /usr/bin/python3 cannot run scripts/SCRIPT."""
    if not os.access(PYTHON, os.X_OK):
        return f"{PYTHON} not found: run `make deps` (scripts/deps.sh, as root)"
    proc = subprocess.run([PYTHON, "-c", "import scipy.stats"], capture_output=True,
                          timeout=TIMEOUT)
    if proc.returncode:
        return (f"{PYTHON} lacks python3-scipy, which {script} needs: "
                "run `make deps` (scripts/deps.sh, as root, installs it)")
    return None


def mean(values):
    return sum(values) / len(values)


def ci95(values):
    """The half-width of the 95% CI of VALUES."""
    n = len(values)
    m = mean(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1))
    return T975[n - 1] * sd / math.sqrt(n)


def table(md, header_start):
    """The markdown table right after the line HEADER_START: [[cells...] per row]."""
    lines = md.splitlines()
    start = lines.index(header_start)
    rows = []
    for line in lines[start + 1:]:
        if not line.startswith("|"):
            if rows or line.strip():
                break
            continue
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[2:]     # without the header and the alignment line


class ScipyTestCase(ScriptTestCase):
    """Every test fails, not skips, when /usr/bin/python3 lacks scipy."""
    script = None       # the report script the tests run (scripts/SCRIPT)

    def setUp(self):
        why = missing_scipy(self.script)
        if why:
            self.fail(why)


class ReportCase(ScipyTestCase):
    """Runs of scripts/SCRIPT in a temporary directory (self.dir) whose
    report is self.prefix, out/OUT_NAME there."""
    out_name = None

    def setUp(self):
        super().setUp()
        self._tmp = tempfile.TemporaryDirectory(prefix=f"harness-{self.script[:-3]}-")
        self.dir = self._tmp.name
        self.prefix = os.path.join(self.dir, "out", self.out_name)
        os.makedirs(os.path.dirname(self.prefix))

    def tearDown(self):
        self._tmp.cleanup()

    def run_report(self, *args):
        """SCRIPT --out PREFIX ARGS: CompletedProcess."""
        return subprocess.run([PYTHON, os.path.join(REPO, "scripts", self.script),
                               "--out", self.prefix, *args],
                              capture_output=True, text=True, timeout=TIMEOUT)

    def outputs(self, proc):
        """(PROC, PREFIX.md, PREFIX.json) of a run that must have succeeded."""
        self.assertSucceeds(proc)
        with open(self.prefix + ".json") as f:
            return proc, read(self.prefix + ".md"), json.load(f)

    def assertDies(self, proc, *messages):
        """Exit 1 with "SCRIPT: error:" and every message in stderr, no report."""
        self.assertEqual(proc.returncode, 1, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        self.assertTrue(proc.stderr.startswith(f"{self.script}: error:"), proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)
        for m in messages:
            self.assertIn(m, proc.stderr)
        for ext in (".md", ".json"):
            self.assertFalse(os.path.exists(self.prefix + ext), f"{ext} written on an error")


def fake_log_json(variant, plan, bench, passed=True):
    """A LOG.json as check-log.py --json writes it for a boot of VARIANT
    with PLAN, whose bench entries are BENCH."""
    return {"log": f"/fake/{variant}.log", "variant": variant, "plan": plan, "kunit": {},
            "vmalloc": [], "rows": [], "bench": bench, "reports": [], "errors": [],
            "reasons": [] if passed else ["fake reason"], "pass": passed}


class LogReportCase(ReportCase):
    """A report of LOG.json files (pcp-report.py, latency-report.py): by
    default of the boots BOOTS ({kernel: [{logged label: values} per boot]})
    and --kernels KERNELS; boot_log(kernel, rows) is a boot's LOG.json."""
    kernels = None
    boots = None

    def setUp(self):
        super().setUp()
        self.n = 0

    def boot_log(self, kernel, rows):
        raise NotImplementedError

    def write_log(self, log, name=None):
        self.n += 1
        path = os.path.join(self.dir, name or f"extra-{self.n}-{log.get('variant')}.log.json")
        write(path, json.dumps(log, indent=2) + "\n")
        return path

    def boot_logs(self, boots=None):
        """The LOG.json files of BOOTS, interleaved as the study boots them."""
        boots = self.boots if boots is None else boots
        paths = []
        for r in range(max(len(b) for b in boots.values())):
            for k, per_boot in boots.items():
                if r < len(per_boot):
                    paths.append(self.write_log(self.boot_log(k, per_boot[r]),
                                                f"{k}-{r + 1}.log.json"))
        return paths

    def report(self, paths, kernels=None, *args):
        kernels = self.kernels if kernels is None else kernels
        return self.run_report("--kernels", kernels, *args, *paths)

    def report_data(self, paths, kernels=None, *args):
        return self.outputs(self.report(paths, kernels, *args))


class StudyLayout(Layout):
    """A project copy for a study script: the study's variables STUDY_VARS
    (those a user or the Makefile may have set) are unset unless a test
    gives them, and a value of None unsets one."""
    study_vars = ()

    def env(self, **extra):
        env = super().env()
        for k in self.study_vars:
            env.pop(k, None)
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        return env


def run_real(script, study_vars, *args, **env):
    """The repo's own scripts/SCRIPT with ENV, without the study's variables
    STUDY_VARS: CompletedProcess."""
    env = dict({k: v for k, v in git_env().items() if k not in study_vars}, **env)
    return subprocess.run([os.path.join(REPO, "scripts", script), *args], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=TIMEOUT)


class RealStudyCase(ScriptTestCase):
    """Runs of the repo's own scripts with BASE=7.3 (run_real), with BUILD
    an empty temporary directory (self.build: no kernel is built there) and
    fakes of qemu, make and gcc first on PATH, so that nothing can be built
    or booted; the study's variables STUDY_VARS are unset unless a test
    gives them."""
    study_vars = ()

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="harness-study-sh-")
        cls.build = os.path.join(cls._tmp.name, "build")
        cls.bin = os.path.join(cls._tmp.name, "bin")
        os.makedirs(cls.build)
        for tool in ("make", "gcc", "qemu-system-x86_64"):
            write_exec(os.path.join(cls.bin, tool), UNEXPECTED)

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def run_real(self, script, *args, **env):
        """scripts/SCRIPT ARGS with BASE=7.3 and ENV (a value of None: unset)."""
        extra = dict(BASE="7.3", BUILD=self.build,
                     PATH=self.bin + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"))
        extra.update(env)
        return run_real(script, self.study_vars, *args,
                        **{k: str(v) for k, v in extra.items() if v is not None})

    def assertRefused(self, proc, message):
        """Exit 1 with "error: MESSAGE", nothing on stdout, nothing built or booted."""
        self.assertEqual(proc.returncode, 1, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        self.assertIn(f"error: {message}\n", proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertNotIn("unexpected call", proc.stderr)
        self.assertNotIn("is not built", proc.stderr)
        self.assertEqual(os.listdir(self.build), [])


def run_json(cmd, out, timeout=TIMEOUT):
    """Run CMD, which writes its JSON result to OUT: (exit code, stdout,
    stderr, the result or None)."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    result = None
    if os.path.exists(out):
        with open(out) as f:
            result = json.load(f)
    return proc.returncode, proc.stdout, proc.stderr, result


def check_log(text, tmp, options=("--expect-vmalloc",)):
    """Run check-log.py OPTIONS on the console log TEXT as the studies do
    (those of test_vmalloc rows with --expect-vmalloc, the frag study
    without), in the directory TMP: (exit code, stdout, stderr, json result)."""
    log = os.path.join(tmp, "console.log")
    out = os.path.join(tmp, "console.log.json")
    write(log, text)
    if os.path.exists(out):
        os.remove(out)
    return run_json([sys.executable, CHECK_LOG, *options, "--json", out, log], out)


def result_line(stdout):
    return [line for line in stdout.splitlines() if line.startswith("result: ")][-1]


class CheckLogCase(unittest.TestCase):
    """check-log.py OPTIONS on the console logs of the plan PLAN."""
    plan = None
    options = ("--expect-vmalloc",)

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix=f"harness-{self.plan}-check-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def check(self, text):
        return check_log(text, self.tmp, self.options)

    def assertFailsFor(self, text, *reasons):
        rc, out, err, res = self.check(text)
        self.assertEqual(rc, 1, out + err)
        line = result_line(out)
        self.assertTrue(line.startswith("result: FAIL ("), line)
        for r in reasons:
            self.assertIn(r, line)
        self.assertIsNotNone(res)
        self.assertFalse(res["pass"])
        for r in reasons:
            self.assertTrue(any(r in x for x in res["reasons"]), res["reasons"])
        return res

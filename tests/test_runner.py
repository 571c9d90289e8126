"""Tests of the test runner tests/run and of the CI entry point .ci/run, each
run from a copy in a temporary directory (with fakes for .ci/run: nothing is
installed, make check does not run).

Run from the repo root: bash tests/run  (or python3 -m unittest tests.test_runner)
"""
import os
import shutil
import subprocess
import tempfile
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_scripts import write  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 120

PASSING = """\
import unittest


class T(unittest.TestCase):
    def test_one(self):
        pass

    def test_two(self):
        pass
"""

SKIPPING = """\
import unittest


class T(unittest.TestCase):
    def test_runs(self):
        pass

    @unittest.skipUnless(False, "needs something this machine lacks")
    def test_skipped(self):
        pass
"""

FAILING = """\
import unittest


class T(unittest.TestCase):
    def test_runs(self):
        pass

    def test_fails(self):
        self.fail("broken")
"""


class RunnerTest(unittest.TestCase):
    """tests/run on a directory of given test files."""

    def runner(self, files):
        tmp = tempfile.TemporaryDirectory(prefix="harness-runner-")
        self.addCleanup(tmp.cleanup)
        run = os.path.join(tmp.name, "tests", "run")
        os.makedirs(os.path.dirname(run))
        shutil.copy(os.path.join(REPO, "tests", "run"), run)
        for name, text in files.items():
            write(os.path.join(tmp.name, "tests", name), text)
        proc = subprocess.run(["bash", run], capture_output=True, text=True, timeout=TIMEOUT,
                              stdin=subprocess.DEVNULL)
        lines = proc.stdout.splitlines()
        return proc, lines[-1] if lines else ""

    def test_all_pass(self):
        proc, last = self.runner({"test_a.py": PASSING})
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(last, "2 passed, 0 failed")

    def test_failure(self):
        proc, last = self.runner({"test_a.py": FAILING})
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(last, "1 passed, 1 failed")

    def test_skip_counts_as_failed(self):
        """A skipped test fails the run, and is listed with its reason."""
        proc, last = self.runner({"test_a.py": PASSING, "test_b.py": SKIPPING})
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertEqual(last, "3 passed, 1 failed")
        self.assertIn("1 skipped, each counted as failed", proc.stdout)
        self.assertIn("  SKIPPED test_b.T.test_skipped: needs something this machine lacks\n",
                      proc.stdout)

    def test_no_test(self):
        proc, last = self.runner({"test_a.py": "# nothing here\n"})
        self.assertEqual(proc.returncode, 1)
        self.assertIn("error: no test ran", proc.stdout)
        self.assertEqual(last, "0 passed, 0 failed")

    def test_import_error_fails(self):
        proc, last = self.runner({"test_a.py": PASSING, "test_b.py": "import nosuchmodule\n"})
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(last, "2 passed, 1 failed")


FAKE_APT_GET = r"""#!/bin/bash
# Fake apt-get: logs its arguments; "update" fails with a lock error while the
# count in $T/locked is above 0; "install make" installs a fake make.
echo "apt-get $*" >>"$T/calls"
case " $* " in
*" update "*)
	n=$(cat "$T/locked" 2>/dev/null || echo 0)
	if [ "$n" -gt 0 ]; then
		echo $((n - 1)) >"$T/locked"
		echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2
		exit 100
	fi ;;
*" install "*" make "*)
	printf '#!/bin/bash\necho "make $*" >>"$T/calls"\n' >"$T/bin/make"
	chmod +x "$T/bin/make" ;;
esac
exit 0
"""

FAKE_ID = r"""#!/bin/bash
[ "$1" = -u ] && { echo "${FAKE_UID:-0}"; exit 0; }
exit 1
"""


class CiRunTest(unittest.TestCase):
    """.ci/run on a machine without make (and without python3: .ci/run itself
    must not need it; make check's first step, deps, installs it)."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="harness-ci-")
        self.addCleanup(tmp.cleanup)
        self.root = tmp.name
        self.bin = os.path.join(self.root, "bin")
        self.run_script = os.path.join(self.root, ".ci", "run")
        os.makedirs(os.path.dirname(self.run_script))
        shutil.copy(os.path.join(REPO, ".ci", "run"), self.run_script)
        write(os.path.join(self.bin, "apt-get"), FAKE_APT_GET, 0o755)
        write(os.path.join(self.bin, "id"), FAKE_ID, 0o755)
        # Only these real tools on PATH: no make, no python3.
        for tool in ("dirname", "seq", "grep", "sleep", "cat", "chmod"):
            real = shutil.which(tool)
            self.assertIsNotNone(real, tool)
            os.symlink(real, os.path.join(self.bin, tool))

    def ci(self, **env):
        e = {"PATH": self.bin, "T": self.root, "HOME": self.root, "LC_ALL": "C"}
        e.update(env)
        proc = subprocess.run(["/bin/bash", self.run_script], capture_output=True, text=True,
                              timeout=TIMEOUT, env=e, stdin=subprocess.DEVNULL)
        path = os.path.join(self.root, "calls")
        calls = []
        if os.path.exists(path):
            with open(path) as f:
                calls = f.read().splitlines()
        return proc, calls

    def test_installs_make_then_runs_make_check(self):
        proc, calls = self.ci()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(calls, [
            "apt-get -o DPkg::Lock::Timeout=600 update -q",
            "apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends make",
            "make check"])

    def test_waits_for_the_lists_lock(self):
        with open(os.path.join(self.root, "locked"), "w") as f:
            f.write("1\n")
        proc, calls = self.ci()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(calls[:2], ["apt-get -o DPkg::Lock::Timeout=600 update -q"] * 2)
        self.assertEqual(calls[-1], "make check")

    def test_not_root(self):
        proc, calls = self.ci(FAKE_UID="1000")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("make is missing and this is not root", proc.stderr)
        self.assertEqual(calls, [])

    def test_make_present(self):
        write(os.path.join(self.bin, "make"), '#!/bin/bash\necho "make $*" >>"$T/calls"\n', 0o755)
        proc, calls = self.ci()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(calls, ["make check"])

    def test_make_check_installs_before_testing(self):
        """make check's first prerequisite is deps (scripts/deps.sh, which needs
        only bash, dpkg and apt), so python3 is there before tests/run."""
        with open(os.path.join(REPO, "Makefile")) as f:
            rules = {line.split(":", 1)[0]: line.split(":", 1)[1].split()
                     for line in f if line[:1].isalpha() and ":" in line and "=" not in line}
        self.assertEqual(rules["check"][:1], ["deps"], rules.get("check"))
        self.assertEqual(rules["base"][:1], ["deps"], rules.get("base"))


if __name__ == "__main__":
    unittest.main()

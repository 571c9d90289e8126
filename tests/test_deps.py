"""Tests of the install step, scripts/deps.sh, and of scripts/fetch-base.sh,
with fakes.

Nothing here installs a package or touches the real build/ directory.  Each
test makes a throw-away copy of the project in a temporary directory T:

    T/scripts/        copy of the repo's scripts/; its common.sh points
                      BASE_TARBALL at T/src/linux-source-6.12.tar
    T/bin/            fakes first on PATH: dpkg-query (over T/dpkg-db),
                      apt-get, apt-cache (both log to T/apt-calls), id;
                      dpkg and apt fail if called
    T/build/          BUILD (passed in the environment)

Run from the repo root: bash tests/run  (or python3 -m unittest tests.test_deps)
"""
import os
import re
import shutil
import tarfile
import tempfile
import sys
import unittest

# The file and git helpers of the script tests (tests/ is on sys.path when
# run by tests/run; added here for python3 -m unittest tests.test_deps).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_scripts import git, git_env, read, run_isolated, write  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 60          # for every subprocess
BASE = "linux-source-6.12"
PIN = "6.12.117-1~deb12u1"          # BASE_DEB_VERSION in bases/6.12/base.conf
OLDER = "6.12.115-2~deb12u1"
NEWER = "6.12.118-1~deb12u1"

# Variables that change what the scripts do; the tests set the ones they need.

# deps.sh's one package list, in its order (a change there is a change here).
DEPS = ["make", "build-essential", "libc6-dev", "bc", "bison", "flex", "libelf-dev",
        "libssl-dev", "cpio", "kmod", "xz-utils", "git", "perl", "python3",
        "python3-scipy", "python3-matplotlib", "ccache", "qemu-system-x86",
        "qemu-system-data", "busybox-static", "codespell", "debian-archive-keyring"]

# What the scripts use, and the package in DEPS that provides it:
# (file, text that shows the use, package).
USES = [
    ("scripts/boot.sh", "qemu-system-x86_64", "qemu-system-x86"),
    ("scripts/boot.sh", "-bios qboot.rom", "qemu-system-data"),     # /usr/share/qemu/qboot.rom
    ("scripts/accel.sh", "qemu-system-x86_64", "qemu-system-x86"),
    ("scripts/initramfs.sh", "gcc -static", "libc6-dev"),            # libc.a
    ("scripts/initramfs.sh", "/bin/busybox", "busybox-static"),
    ("scripts/initramfs.sh", "command -v modinfo", "kmod"),
    ("scripts/build.sh", "ccache", "ccache"),
    ("scripts/build.sh", "make -C", "make"),
    ("scripts/fetch-base.sh", "tar -C", "xz-utils"),                 # the .tar.xz
    ("scripts/fetch-base.sh", "git init", "git"),
    ("scripts/checkpatch.sh", "--codespell", "codespell"),
    ("scripts/fetch-deb.sh", "debian-archive-keyring.gpg", "debian-archive-keyring"),
    ("scripts/checkpatch.sh", "checkpatch.pl", "perl"),
    ("scripts/kunit.sh", "python3 ./tools/testing/kunit/kunit.py", "python3"),
    ("scripts/bench-report.py", "from scipy import stats", "python3-scipy"),
    ("scripts/bench-report.py", "import matplotlib", "python3-matplotlib"),
    ("tests/run", "exec python3", "python3"),
]

FAKE_DPKG_QUERY = r"""#!/bin/bash
# Fake dpkg-query -W -f=FORMAT PACKAGE... over $FAKE_DPKG_DB ("package
# version" lines): ${Package}, ${binary:Package}, ${Status} and ${Version} of
# each installed PACKAGE; exit 1 if one is not installed.
fmt= pkgs=()
for a; do case $a in -f=*) fmt=${a#-f=} ;; -*) ;; *) pkgs+=("$a") ;; esac; done
declare -A db
while read -r p v; do db[$p]=$v; done <"$FAKE_DPKG_DB"
rc=0
for pkg in "${pkgs[@]}"; do
	ver=${db[$pkg]:-}
	if [ -z "$ver" ]; then
		echo "dpkg-query: no packages found matching $pkg" >&2
		rc=1
		continue
	fi
	out=${fmt//'${Status}'/install ok installed}
	out=${out//'${Version}'/$ver}
	out=${out//'${Package}'/$pkg}
	out=${out//'${binary:Package}'/$pkg}
	printf '%b' "$out"
done
exit $rc
"""

FAKE_APT_GET = r"""#!/bin/bash
# Fake apt-get: logs its arguments; "update" fails with a lock error while
# the count in $FAKE_APT_LOCKED is above 0; "install" adds the packages to
# $FAKE_DPKG_DB (PKG=VERSION, or $FAKE_NEWEST for the base, 1.0 for the
# others) and writes the base's tarball.
echo "apt-get $*" >>"$FAKE_APT_CALLS"
cmd= pkgs=()
while [ $# -gt 0 ]; do
	case $1 in
	-o) shift ;;
	-*) ;;
	*) if [ -z "$cmd" ]; then cmd=$1; else pkgs+=("$1"); fi ;;
	esac
	shift
done
case $cmd in
update)
	n=$(cat "$FAKE_APT_LOCKED" 2>/dev/null || echo 0)
	if [ "$n" -gt 0 ]; then
		echo $((n - 1)) >"$FAKE_APT_LOCKED"
		echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2
		echo "E: Unable to lock directory /var/lib/apt/lists/" >&2
		exit 100
	fi
	echo "Reading package lists..." ;;
install)
	if [ -n "${FAKE_APT_INSTALL_FAILS:-}" ]; then
		echo "E: Unable to locate package $FAKE_APT_INSTALL_FAILS" >&2
		exit 100
	fi
	for p in "${pkgs[@]}"; do
		name=${p%%=*} ver=${p#*=}
		if [ "$name" = "$p" ]; then
			ver=1.0
			[ "$name" = linux-source-6.12 ] && ver=$FAKE_NEWEST
		fi
		awk -v p="$name" '$1 != p' "$FAKE_DPKG_DB" >"$FAKE_DPKG_DB.new"
		echo "$name $ver" >>"$FAKE_DPKG_DB.new"
		mv "$FAKE_DPKG_DB.new" "$FAKE_DPKG_DB"
		[ "$name" = linux-source-6.12 ] && echo "tarball $ver" >"$FAKE_TARBALL"
	done ;;
*) echo "fake apt-get: unexpected: $cmd" >&2; exit 1 ;;
esac
exit 0
"""

FAKE_APT_CACHE = r"""#!/bin/bash
# Fake apt-cache madison PACKAGE: the lines of $FAKE_MADISON; with
# FAKE_MADISON_FLOOD=1 then 20000 more lines (about 1.6 MB, far more than a
# pipe holds), as a long version list would.
echo "apt-cache $*" >>"$FAKE_APT_CALLS"
[ "$1" = madison ] || { echo "fake apt-cache: unexpected: $*" >&2; exit 1; }
cat "$FAKE_MADISON"
if [ "${FAKE_MADISON_FLOOD:-0}" = 1 ]; then
	for ((i = 0; i < 20000; i++)); do
		echo " linux-source-6.12 | 6.12.$i-1~deb12u1 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages"
	done
fi
exit 0
"""

FAKE_ID = r"""#!/bin/bash
[ "$1" = -u ] && { echo "${FAKE_UID:-1000}"; exit 0; }
echo "fake id: unexpected: $*" >&2
exit 1
"""

UNEXPECTED = r"""#!/bin/bash
echo "unexpected call: $(basename "$0") $*" >&2
exit 99
"""


def madison_line(version):
    return (f" {BASE} | {version} | http://deb.debian.org/debian-security "
            "bookworm-security/main amd64 Packages\n")


class Layout:
    """A temporary copy of the project with the fakes (see the module docstring)."""

    def __init__(self, name):
        self._tmp = tempfile.TemporaryDirectory(prefix=f"harness-{name}-")
        self.root = root = self._tmp.name
        shutil.copytree(os.path.join(REPO, "scripts"), self.path("scripts"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        self.build = self.path("build")
        self.tree = self.path("build", "6.12", "linux")
        shutil.copytree(os.path.join(REPO, "bases"), self.path("bases"),
                        ignore=shutil.ignore_patterns("*.patch"))
        self.bin = self.path("bin")
        self.tarball = self.path("src", f"{BASE}.tar")
        self.db = self.path("dpkg-db")
        self.calls = self.path("apt-calls")
        self.madison = self.path("madison")
        self.locked = self.path("apt-locked")
        for d in (self.build, self.bin, self.path("src"), self.path("tmp")):
            os.makedirs(d, exist_ok=True)
        # The scripts' base tarball is the test's.
        common = self.path("scripts", "common.sh")
        text, n = re.subn(r"^BASE_TARBALL=.*$", f"BASE_TARBALL={self.tarball}",
                          read(common), flags=re.M)
        assert n == 1, "scripts/common.sh has no BASE_TARBALL= line"
        write(common, text)
        for tool, text in (("dpkg-query", FAKE_DPKG_QUERY), ("apt-get", FAKE_APT_GET),
                           ("apt-cache", FAKE_APT_CACHE), ("id", FAKE_ID),
                           ("dpkg", UNEXPECTED), ("apt", UNEXPECTED)):
            write(os.path.join(self.bin, tool), text, 0o755)
        self.set_installed({})
        self.set_madison([PIN])

    def cleanup(self):
        self._tmp.cleanup()

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def set_installed(self, packages):
        """The fake dpkg database: {package: version}."""
        write(self.db, "".join(f"{p} {v}\n" for p, v in packages.items()))

    def installed(self):
        return dict(line.split() for line in read(self.db).splitlines())

    def set_madison(self, versions):
        write(self.madison, "".join(madison_line(v) for v in versions))

    def apt_calls(self):
        return read(self.calls).splitlines() if os.path.exists(self.calls) else []

    def env(self, **extra):
        env = git_env()
        env.update(BASE="6.12", BUILD=self.build, TMPDIR=self.path("tmp"),
                   PATH=self.bin + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
                   FAKE_DPKG_DB=self.db, FAKE_APT_CALLS=self.calls, FAKE_MADISON=self.madison,
                   FAKE_APT_LOCKED=self.locked, FAKE_TARBALL=self.tarball, FAKE_NEWEST=NEWER)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def run(self, script, *args, **extra_env):
        return run_isolated([self.path("scripts", script), *args], self.env(**extra_env))


class ScriptTestCase(unittest.TestCase):
    layout_name = "deps"

    def setUp(self):
        self.t = Layout(self.layout_name)
        self.addCleanup(self.t.cleanup)

    def assertFails(self, proc, *messages):
        """Non-zero exit, and every message in stderr."""
        self.assertNotEqual(proc.returncode, 0, f"expected a failure; stderr:\n{proc.stderr}")
        for m in messages:
            self.assertIn(m, proc.stderr)

    def assertSucceeds(self, proc):
        self.assertEqual(proc.returncode, 0,
                         f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")


# --------------------------------------------------------------------------
# deps.sh
# --------------------------------------------------------------------------
class DepsTest(ScriptTestCase):
    def everything(self, base=PIN, tarball=True, but=()):
        """Install every package of DEPS (except BUT) and the base at version BASE."""
        packages = {p: "1.0" for p in DEPS if p not in but}
        if base:
            packages[BASE] = base
        self.t.set_installed(packages)
        if tarball:
            write(self.t.tarball, "tarball\n")

    def installs(self):
        """The packages of the apt-get install calls, and those calls."""
        calls = [c for c in self.t.apt_calls() if " install " in f" {c} "]
        return calls, [w for c in calls for w in c.split()[1:]
                                    if not w.startswith("-") and "Timeout" not in w
                                    and w != "install"]

    def missing_line(self, stderr):
        lines = [line for line in stderr.splitlines() if line.startswith("error: missing packages: ")]
        self.assertEqual(len(lines), 1, stderr)
        return lines[0][len("error: missing packages: "):].split()

    def assertNoAptGet(self):
        self.assertEqual([c for c in self.t.apt_calls() if c.startswith("apt-get")], [],
                         "apt-get was run")

    # --- the package list -------------------------------------------------
    def test_package_list(self):
        """Nothing installed, not root: the whole list and the pinned base."""
        proc = self.t.run("deps.sh")
        self.assertFails(proc, "run as root (apt-get install)", "apt-get install make ")
        self.assertEqual(self.missing_line(proc.stderr), DEPS + [f"{BASE}={PIN}"])
        self.assertNoAptGet()

    def test_list_covers_what_the_scripts_use(self):
        for path, text, package in USES:
            with self.subTest(path=path, uses=text):
                self.assertIn(text, read(os.path.join(REPO, path)),
                              f"{path} no longer uses {text!r}: update USES")
                self.assertIn(package, DEPS)

    def test_one_package_missing_not_root(self):
        self.everything(but=("codespell",))
        proc = self.t.run("deps.sh")
        self.assertFails(proc, "run as root", "apt-get install codespell\n")
        self.assertEqual(self.missing_line(proc.stderr), ["codespell"])
        self.assertNoAptGet()

    def test_extra_package_argument_is_required_too(self):
        self.everything()
        proc = self.t.run("deps.sh", "extra-pkg")
        self.assertFails(proc, "run as root", "apt-get install extra-pkg")
        self.assertEqual(self.missing_line(proc.stderr), ["extra-pkg"])

    def test_extra_package_installed_as_root(self):
        self.everything()
        proc = self.t.run("deps.sh", "extra-pkg", FAKE_UID=0)
        self.assertSucceeds(proc)
        self.assertEqual(self.installs()[1], ["extra-pkg"])
        self.assertIn("extra-pkg", self.t.installed())

    def test_everything_installed(self):
        """Nothing to do: no apt command at all, no output, root or not."""
        self.everything()
        for uid in (1000, 0):
            with self.subTest(uid=uid):
                proc = self.t.run("deps.sh", FAKE_UID=uid)
                self.assertSucceeds(proc)
                self.assertEqual(proc.stdout + proc.stderr, "")
                self.assertEqual(self.t.apt_calls(), [])

    def test_nothing_installed_root(self):
        proc = self.t.run("deps.sh", FAKE_UID=0)
        self.assertSucceeds(proc)
        calls, pkgs = self.installs()
        self.assertEqual(len(calls), 1, calls)
        self.assertEqual(pkgs, DEPS + [f"{BASE}={PIN}"])
        self.assertNotIn("WARNING", proc.stderr)
        self.assertEqual(self.t.installed()[BASE], PIN)

    # --- the pinned base --------------------------------------------------
    def test_pin_served_read_whole_madison_output(self):
        """apt-cache madison lists the pin first, then far more than a pipe
        holds: the pin is found (a `madison | grep -q` under pipefail fails
        here when grep's early exit kills apt-cache with SIGPIPE)."""
        self.everything(base=None, tarball=False)
        proc = self.t.run("deps.sh", FAKE_UID=0, FAKE_MADISON_FLOOD=1)
        self.assertSucceeds(proc)
        self.assertNotIn("WARNING", proc.stderr)
        self.assertEqual(self.installs()[1], [f"{BASE}={PIN}"])
        self.assertEqual(self.t.installed()[BASE], PIN)

    def test_pin_served_read_whole_madison_output_not_root(self):
        self.everything(base=None, tarball=False)
        proc = self.t.run("deps.sh", FAKE_MADISON_FLOOD=1)
        self.assertFails(proc, f"apt-get install {BASE}={PIN}\n")
        self.assertNotIn("WARNING", proc.stderr)

    def test_other_version_installed_pin_served_root(self):
        """An installed base other than the pin is replaced by the pin (a
        downgrade here) while the pin is served."""
        self.everything(base=NEWER)
        self.t.set_madison([NEWER, PIN, OLDER])
        proc = self.t.run("deps.sh", FAKE_UID=0)
        self.assertSucceeds(proc)
        self.assertIn(f"replacing {BASE} {NEWER} with the pinned {PIN}", proc.stderr)
        calls, pkgs = self.installs()
        self.assertEqual(pkgs, [f"{BASE}={PIN}"])
        self.assertIn("--allow-downgrades", calls[0].split())
        self.assertEqual(self.t.installed()[BASE], PIN)
        self.assertNotIn("WARNING", proc.stderr)

    def test_other_version_installed_pin_served_not_root(self):
        self.everything(base=OLDER)
        proc = self.t.run("deps.sh")
        self.assertFails(proc, f"{BASE} {OLDER} is installed, the pin is {PIN}",
                         f"apt-get install --allow-downgrades {BASE}={PIN}\n")
        self.assertEqual(self.missing_line(proc.stderr), [f"{BASE}={PIN}"])
        self.assertNoAptGet()

    def test_pin_not_served_installs_newest_root(self):
        self.everything(base=None, tarball=False)
        self.t.set_madison([NEWER])
        proc = self.t.run("deps.sh", FAKE_UID=0)
        self.assertSucceeds(proc)
        self.assertIn(f"WARNING: {BASE} {PIN} (the pin) is not served by the apt sources; "
                      f"installing the newest {BASE} instead", proc.stderr)
        self.assertEqual(self.installs()[1], [BASE])
        self.assertIn(f"WARNING: the base is {BASE} {NEWER}, not the pinned {PIN}", proc.stderr)

    def test_pin_not_served_keeps_installed_base(self):
        """The pin is gone: an installed base is kept (replacing it would not
        bring the pin back), with a warning; root or not."""
        self.everything(base=OLDER)
        self.t.set_madison([NEWER])
        for uid in (1000, 0):
            with self.subTest(uid=uid):
                proc = self.t.run("deps.sh", FAKE_UID=uid)
                self.assertSucceeds(proc)
                self.assertIn(f"WARNING: {BASE} {PIN} (the pin) is not served by the apt "
                              f"sources; using the installed {OLDER}", proc.stderr)
                self.assertEqual(self.installs()[0], [])
                self.assertEqual(self.t.installed()[BASE], OLDER)

    def test_madison_fails(self):
        """apt-cache fails: the pin counts as not served, never a crash."""
        self.everything(base=None, tarball=False)
        os.remove(self.t.madison)           # the fake's cat fails
        proc = self.t.run("deps.sh", FAKE_UID=0)
        self.assertSucceeds(proc)
        self.assertIn("is not served", proc.stderr)
        self.assertEqual(self.installs()[1], [BASE])

    def test_tarball_missing_reinstalls_the_pin(self):
        """The package is installed at the pin but its tarball is gone:
        reinstall it (a plain install of an installed version does nothing)."""
        self.everything(base=PIN, tarball=False)
        proc = self.t.run("deps.sh", FAKE_UID=0)
        self.assertSucceeds(proc)
        calls, pkgs = self.installs()
        self.assertEqual(pkgs, [f"{BASE}={PIN}"])
        self.assertIn("--reinstall", calls[0].split())
        self.assertTrue(os.path.isfile(self.t.tarball))

    def test_tarball_missing_not_root(self):
        self.everything(base=PIN, tarball=False)
        proc = self.t.run("deps.sh")
        self.assertFails(proc, f"apt-get install --reinstall {BASE}={PIN}\n")

    # --- apt itself -------------------------------------------------------
    def test_waits_for_the_apt_lock(self):
        """Another apt holds the lock: apt-get install waits for the dpkg lock
        (DPkg::Lock::Timeout), and update is retried while the lists lock is
        held."""
        self.everything(but=("codespell",))
        write(self.t.locked, "1\n")          # the first update finds the lists locked
        proc = self.t.run("deps.sh", FAKE_UID=0)
        self.assertSucceeds(proc)
        self.assertIn("another apt holds the lock; waiting (up to 600s)", proc.stderr)
        calls = self.t.apt_calls()
        self.assertEqual([c for c in calls if "update" in c.split()],
                         ["apt-get -o DPkg::Lock::Timeout=600 update -q"] * 2)
        installs = self.installs()[0]
        self.assertEqual(len(installs), 1, calls)
        self.assertTrue(installs[0].startswith("apt-get -o DPkg::Lock::Timeout=600 install "),
                        installs[0])
        self.assertEqual(self.installs()[1], ["codespell"])

    def test_lock_not_released_in_time(self):
        self.everything(but=("codespell",))
        write(self.t.locked, "1000\n")
        proc = self.t.run("deps.sh", FAKE_UID=0, APT_LOCK_TIMEOUT=0)
        self.assertFails(proc, "Could not get lock /var/lib/apt/lists/lock",
                         "error: apt-get update failed (log: ")
        self.assertEqual(self.installs()[0], [])

    def test_bad_lock_timeout(self):
        proc = self.t.run("deps.sh", APT_LOCK_TIMEOUT="ten")
        self.assertFails(proc, "APT_LOCK_TIMEOUT must be a number of seconds")

    def test_install_fails(self):
        self.everything(but=("codespell",))
        proc = self.t.run("deps.sh", FAKE_UID=0, FAKE_APT_INSTALL_FAILS="codespell")
        self.assertFails(proc, "E: Unable to locate package codespell",
                         f"error: apt-get install failed (log: {self.t.build}/apt.log)")


# --------------------------------------------------------------------------
# fetch-base.sh
# --------------------------------------------------------------------------
class FetchBaseTest(ScriptTestCase):
    layout_name = "fetch-base"

    def setUp(self):
        super().setUp()
        # The base: a tiny tarball with Debian's ignore-everything .gitignore.
        src = self.t.path("tmp", "src", BASE)
        write(os.path.join(src, "Makefile"), "VERSION = 6\n")
        write(os.path.join(src, "mm", "page_alloc.c"), "int x;\n")
        write(os.path.join(src, ".gitignore"), "*\n")
        with tarfile.open(self.t.tarball, "w") as tar:
            tar.add(src, arcname=BASE)
        shutil.rmtree(self.t.path("tmp", "src"))
        self.t.set_installed({BASE: PIN})

    def fetch(self, version=None):
        if version:
            self.t.set_installed({BASE: version})
        return self.t.run("fetch-base.sh")

    def user_work(self):
        """A commit of the user's on a branch of the work tree."""
        git(self.t.tree, "checkout", "-q", "-b", "work", "base")
        write(os.path.join(self.t.tree, "mm", "page_alloc.c"), "int y;\n")
        git(self.t.tree, "commit", "-q", "-a", "-m", "my work")
        return git(self.t.tree, "rev-parse", "HEAD").strip()

    def test_fresh_tree(self):
        proc = self.fetch()
        self.assertSucceeds(proc)
        self.assertNotIn("WARNING", proc.stderr)
        tags = git(self.t.tree, "tag", "--points-at", "base").split()
        self.assertEqual(sorted(tags), ["base", "debian-6.12.117-1_deb12u1"])
        self.assertEqual(git(self.t.tree, "config", "harness.baseVersion").strip(), PIN)
        self.assertEqual(read(os.path.join(self.t.build, "6.12", "base-version")), PIN + "\n")
        self.assertEqual(git(self.t.tree, "log", "-1", "--format=%s", "base").strip(),
                         f"Debian {BASE} {PIN}")
        self.assertEqual(read(os.path.join(self.t.tree, "Makefile")), "VERSION = 6\n")
        self.assertFalse(os.path.exists(self.t.tree + ".tmp"))

    def test_same_version_reused(self):
        self.assertSucceeds(self.fetch())
        head = self.user_work()
        os.remove(os.path.join(self.t.build, "6.12", "base-version"))
        proc = self.fetch()
        self.assertSucceeds(proc)
        self.assertEqual(proc.stderr, "")
        self.assertEqual(git(self.t.tree, "rev-parse", "HEAD").strip(), head)
        self.assertEqual(read(os.path.join(self.t.build, "6.12", "base-version")), PIN + "\n")

    def test_other_version_installed_fails_and_keeps_the_tree(self):
        self.assertSucceeds(self.fetch(OLDER))
        head = self.user_work()
        proc = self.fetch(PIN)
        self.assertFails(proc, f"the work tree {self.t.tree} was made from {BASE} {OLDER}",
                         f"but the base is now {PIN}", "rm -rf " + os.path.dirname(self.t.tree), f"move {self.t.tree} away")
        self.assertEqual(git(self.t.tree, "rev-parse", "HEAD").strip(), head)
        self.assertEqual(git(self.t.tree, "config", "harness.baseVersion").strip(), OLDER)

    def test_tree_made_before_the_version_record(self):
        """A tree without harness.baseVersion: its debian-<version> tag tells."""
        self.assertSucceeds(self.fetch(OLDER))
        git(self.t.tree, "config", "--unset", "harness.baseVersion")
        self.assertSucceeds(self.fetch(OLDER))
        self.assertFails(self.fetch(PIN), f"was made from {BASE} {OLDER},")

    def test_tree_of_unknown_version(self):
        self.assertSucceeds(self.fetch())
        git(self.t.tree, "config", "--unset", "harness.baseVersion")
        git(self.t.tree, "tag", "-d", "debian-6.12.117-1_deb12u1")
        self.assertFails(self.fetch(), "of an unknown version")

    def test_not_a_work_tree_is_left_alone(self):
        write(os.path.join(self.t.tree, "notes.txt"), "mine\n")
        proc = self.fetch()
        self.assertFails(proc, "exists but is not a work tree made by this script")
        self.assertEqual(os.listdir(self.t.tree), ["notes.txt"])

    def test_installed_version_not_the_pin(self):
        proc = self.fetch(NEWER)
        self.assertSucceeds(proc)
        self.assertIn(f"WARNING: base is {BASE} {NEWER}, not the pinned {PIN}", proc.stderr)
        self.assertEqual(git(self.t.tree, "config", "harness.baseVersion").strip(), NEWER)

    def test_package_not_installed(self):
        self.t.set_installed({})
        self.assertFails(self.t.run("fetch-base.sh"), f"{BASE} is not installed: run scripts/deps.sh")


if __name__ == "__main__":
    unittest.main()

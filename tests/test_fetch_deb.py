"""Tests of scripts/fetch-deb.sh, the download of a base's source package
(BASE_FETCH=download, here the base 7.3), and of its use by
scripts/fetch-base.sh and scripts/deps.sh, with fakes.

Nothing here touches the network, the host's apt state or the real build/
directory.  Each test makes a throw-away copy of the project in a temporary
directory T:

    T/scripts/, T/bases/   copies of the repo's (bases without their patches)
    T/bin/                 fakes first on PATH: apt-get (update, download,
                           indextargets), apt-cache (madison, over
                           T/madison/PACKAGE), dpkg-deb (-x: writes the
                           base's tarball T/src/linux-source-7.3.tar.xz into
                           the package's tree), dpkg-query (over T/dpkg-db)
                           and id; each logs its calls to T/calls; dpkg and
                           apt fail if called
    T/build/               BUILD (passed in the environment): the base's
                           files are T/build/7.3/{apt,deb,linux,logs}

fetch-deb.sh checks the index with the host's Debian archive keyring
(/usr/share/keyrings/debian-archive-keyring.gpg, debian-archive-keyring,
which scripts/deps.sh installs): it must exist here; it is only named in the
private sources list, never read by the fakes.

Run from the repo root: bash tests/run  (or python3 -m unittest tests.test_fetch_deb)
"""
import os
import shutil
import sys
import tarfile
import tempfile
import unittest

# The file and git helpers of the script tests (tests/ is on sys.path when
# run by tests/run; added here for python3 -m unittest tests.test_fetch_deb).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_scripts import git, git_env, read, run_isolated, write  # noqa: E402
from test_deps import DEPS  # noqa: E402  deps.sh's package list (test_deps checks it)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 60          # for every subprocess
BASE = "7.3"                          # bases/7.3: BASE_FETCH=download
PKG = "linux-source-7.3"              # BASE_PKG
PIN = "7.3.4-1~bpo13+1"               # BASE_DEB_VERSION
SUITE = "trixie-backports"            # BASE_SUITE
OLDER = "7.3.2-1~bpo13+1"
NEWER = "7.3.10-1~bpo13+1"            # newer than OLDER by version, not by text
MIRROR = "http://mirror.example/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
SEP = "\x1f"                          # between the fields of a logged call

# Variables that change what the scripts do and are not in test_scripts'
# HARNESS_VARS: dropped from the environment, the tests set the ones they need.
EXTRA_VARS = ("BASE_MIRROR", "OBJ", "APT_LOCK_TIMEOUT")

# Every fake logs its call as one line of T/calls: tool, working directory,
# then its arguments, separated by \x1f.
LOG_CALL = r"""{ printf '%s\x1f%s' "$(basename "$0")" "$PWD"; printf '\x1f%s' "$@"; printf '\n'; } >>"$FAKE_CALLS"
"""

FAKE_APT_GET = r"""#!/bin/bash
# Fake apt-get.
#   update: succeeds, printing $FAKE_UPDATE_WARNS (if set) on stderr; fails
#           with an E: line if FAKE_UPDATE_FAILS is set
#   download PKG=VER: writes PKG_VER_all.deb in the current directory; fails
#           if FAKE_DOWNLOAD_FAILS is set; writes nothing (and succeeds) if
#           FAKE_DOWNLOAD_NO_DEB is set
#   indextargets: prints $FAKE_INDEXTARGETS (nothing if there is no such file)
""" + LOG_CALL + r"""cmd= pkgs=()
while [ $# -gt 0 ]; do
	case $1 in
	-o|--format) shift ;;
	-*) ;;
	*) if [ -z "$cmd" ]; then cmd=$1; else pkgs+=("$1"); fi ;;
	esac
	shift
done
case $cmd in
update)
	if [ -n "${FAKE_UPDATE_FAILS:-}" ]; then
		echo "E: The repository 'http://mirror.example/debian trixie-backports Release' does not have a Release file." >&2
		exit 100
	fi
	echo "Get:1 http://mirror.example/debian trixie-backports InRelease [54.0 kB]"
	[ -z "${FAKE_UPDATE_WARNS:-}" ] || echo "$FAKE_UPDATE_WARNS" >&2
	echo "Reading package lists..." ;;
download)
	[ ${#pkgs[@]} = 1 ] || { echo "fake apt-get: download of ${#pkgs[@]} packages" >&2; exit 1; }
	name=${pkgs[0]%%=*} ver=${pkgs[0]#*=}
	if [ -n "${FAKE_DOWNLOAD_FAILS:-}" ]; then
		echo "E: Can't find a source to download version '$ver' of '$name:amd64'" >&2
		exit 100
	fi
	[ -n "${FAKE_DOWNLOAD_NO_DEB:-}" ] || echo "deb of $name $ver" >"${name}_${ver}_all.deb" ;;
indextargets)
	[ ! -f "$FAKE_INDEXTARGETS" ] || cat "$FAKE_INDEXTARGETS" ;;
*) echo "fake apt-get: unexpected: $cmd" >&2; exit 1 ;;
esac
exit 0
"""

FAKE_APT_CACHE = r"""#!/bin/bash
# Fake apt-cache madison PACKAGE: the lines of $FAKE_MADISON/PACKAGE;
# nothing on stdout for a package no file serves.
""" + LOG_CALL + r"""args=()
while [ $# -gt 0 ]; do
	case $1 in -o) shift ;; -*) ;; *) args+=("$1") ;; esac
	shift
done
[ "${args[0]:-}" = madison ] && [ ${#args[@]} = 2 ] ||
	{ echo "fake apt-cache: unexpected: ${args[*]}" >&2; exit 1; }
f=$FAKE_MADISON/${args[1]}
[ -f "$f" ] || { echo "N: Unable to locate package ${args[1]}" >&2; exit 0; }
cat "$f"
"""

FAKE_DPKG_DEB = r"""#!/bin/bash
# Fake dpkg-deb -x DEB DIR: the package's tree in DIR, with the base's
# tarball $FAKE_TARXZ as DIR/usr/src/linux-source-7.3.tar.xz (left out if
# FAKE_DEB_NO_TARBALL is set); fails if FAKE_DPKG_DEB_FAILS is set.
""" + LOG_CALL + r"""[ "$1" = -x ] && [ $# = 3 ] || { echo "fake dpkg-deb: unexpected: $*" >&2; exit 1; }
[ -f "$2" ] || { echo "dpkg-deb: error: failed to read archive '$2': No such file or directory" >&2; exit 2; }
if [ -n "${FAKE_DPKG_DEB_FAILS:-}" ]; then
	echo "dpkg-deb: error: '$2' is not a Debian format archive" >&2
	exit 2
fi
mkdir -p "$3/usr/share/doc/linux-source-7.3"
if [ -z "${FAKE_DEB_NO_TARBALL:-}" ]; then
	mkdir -p "$3/usr/src"
	cp "$FAKE_TARXZ" "$3/usr/src/linux-source-7.3.tar.xz"
fi
"""

FAKE_DPKG_QUERY = r"""#!/bin/bash
# Fake dpkg-query -W -f=FORMAT PACKAGE... over $FAKE_DPKG_DB ("package
# version" lines), as in test_deps.py.
""" + LOG_CALL + r"""fmt= pkgs=()
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

FAKE_ID = r"""#!/bin/bash
[ "$1" = -u ] && { echo "${FAKE_UID:-1000}"; exit 0; }
echo "fake id: unexpected: $*" >&2
exit 1
"""

UNEXPECTED = r"""#!/bin/bash
""" + LOG_CALL + r"""echo "unexpected call: $(basename "$0") $*" >&2
exit 99
"""


def host_codename():
    """VERSION_CODENAME of the host's /etc/os-release (what fetch-deb.sh reads)."""
    with open("/etc/os-release") as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            if key == "VERSION_CODENAME":
                return value.strip('"\'')
    return ""


def madison_line(version, package=PKG):
    return f" {package} | {version} | {MIRROR} {SUITE}/main amd64 Packages\n"


class Call:
    """One logged call of a fake: tool, working directory, arguments."""

    def __init__(self, line):
        self.tool, self.cwd, *self.args = line.split(SEP)

    def options(self):
        """The values of its -o options."""
        return [self.args[i + 1] for i, a in enumerate(self.args[:-1]) if a == "-o"]

    def words(self):
        """Its arguments without the options (-o VALUE, --format VALUE, -x...)."""
        out, skip = [], False
        for a in self.args:
            if skip:
                skip = False
            elif a in ("-o", "--format"):
                skip = True
            elif not a.startswith("-"):
                out.append(a)
        return out

    def __repr__(self):
        return f"<{self.tool} {' '.join(self.args)} (in {self.cwd})>"


class Layout:
    """A temporary copy of the project with the fakes (see the module docstring)."""

    def __init__(self, name):
        self._tmp = tempfile.TemporaryDirectory(prefix=f"harness-{name}-")
        self.root = self._tmp.name
        shutil.copytree(os.path.join(REPO, "scripts"), self.path("scripts"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(os.path.join(REPO, "bases"), self.path("bases"),
                        ignore=shutil.ignore_patterns("*.patch"))
        self.build = self.path("build")
        self.buildb = self.path("build", BASE)
        self.apt = self.path("build", BASE, "apt")
        self.archives = self.path("build", BASE, "apt", "cache", "archives")
        self.sources = self.path("build", BASE, "apt", "sources.list")
        self.deb = self.path("build", BASE, "deb")
        self.version_file = self.path("build", BASE, "deb", "version")
        self.tarball = self.path("build", BASE, "deb", "usr", "src", f"{PKG}.tar.xz")
        self.log = self.path("build", BASE, "logs", "fetch-deb.log")
        self.tree = self.path("build", BASE, "linux")
        self.bin = self.path("bin")
        self.calls = self.path("calls")
        self.madison = self.path("madison")
        self.indextargets = self.path("indextargets")
        self.db = self.path("dpkg-db")
        self.tarxz = self.path("src", f"{PKG}.tar.xz")
        for d in (self.build, self.bin, self.madison, self.path("src"), self.path("tmp")):
            os.makedirs(d, exist_ok=True)
        for tool, text in (("apt-get", FAKE_APT_GET), ("apt-cache", FAKE_APT_CACHE),
                           ("dpkg-deb", FAKE_DPKG_DEB), ("dpkg-query", FAKE_DPKG_QUERY),
                           ("id", FAKE_ID), ("dpkg", UNEXPECTED), ("apt", UNEXPECTED)):
            write(os.path.join(self.bin, tool), text, 0o755)
        self.make_tarxz()
        self.set_installed({})
        self.set_madison([PIN])

    def cleanup(self):
        self._tmp.cleanup()

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def make_tarxz(self):
        """The base's tarball: linux-source-7.3/ with a Makefile, a source
        file and Debian's ignore-everything .gitignore."""
        src = self.path("tmp", "src", PKG)
        write(os.path.join(src, "Makefile"), "VERSION = 7\nPATCHLEVEL = 3\nSUBLEVEL = 4\n")
        write(os.path.join(src, "mm", "page_alloc.c"), "int x;\n")
        write(os.path.join(src, ".gitignore"), "*\n")
        with tarfile.open(self.tarxz, "w:xz") as tar:
            tar.add(src, arcname=PKG)
        shutil.rmtree(self.path("tmp", "src"))

    def set_madison(self, versions, package=PKG):
        """What apt-cache madison PACKAGE lists (None: the package is not served)."""
        f = os.path.join(self.madison, package)
        if versions is None:
            if os.path.exists(f):
                os.remove(f)
        else:
            write(f, "".join(madison_line(v, package) for v in versions))

    def set_installed(self, packages):
        """The fake dpkg database: {package: version}."""
        write(self.db, "".join(f"{p} {v}\n" for p, v in packages.items()))

    def all_calls(self):
        return [Call(line) for line in read(self.calls).splitlines()] \
            if os.path.exists(self.calls) else []

    def calls_of(self, *tools):
        return [c for c in self.all_calls() if c.tool in tools]

    def apt_commands(self):
        """The apt-get/apt-cache commands run, e.g. ["update", "madison", "download"]."""
        return [c.words()[0] for c in self.calls_of("apt-get", "apt-cache")]

    def forget_calls(self):
        if os.path.exists(self.calls):
            os.remove(self.calls)

    def env(self, mirror=MIRROR, **extra):
        env = git_env()
        for k in EXTRA_VARS:
            env.pop(k, None)
        env.update(BASE=BASE, BUILD=self.build, TMPDIR=self.path("tmp"),
                   PATH=self.bin + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
                   FAKE_CALLS=self.calls, FAKE_MADISON=self.madison,
                   FAKE_INDEXTARGETS=self.indextargets, FAKE_TARXZ=self.tarxz,
                   FAKE_DPKG_DB=self.db)
        if mirror is not None:
            env["BASE_MIRROR"] = mirror
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def run(self, script, *args, mirror=MIRROR, **extra_env):
        return run_isolated([self.path("scripts", script), *args],
                            self.env(mirror=mirror, **extra_env))


class ScriptTestCase(unittest.TestCase):
    layout_name = "fetch-deb"

    def setUp(self):
        self.assertTrue(os.path.isfile(KEYRING),
                        f"{KEYRING} not found: install debian-archive-keyring (make deps)")
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

    def assertPrivateApt(self, calls):
        """Every apt call runs on the private sources list, state and cache
        under T/build/7.3/apt, never on the host's."""
        self.assertTrue(calls)
        for c in calls:
            with self.subTest(call=c):
                opts = c.options()
                self.assertIn(f"Dir::Etc::SourceList={self.t.sources}", opts)
                self.assertIn("Dir::Etc::SourceParts=/dev/null", opts)
                self.assertIn(f"Dir::State={self.t.apt}", opts)
                self.assertIn(f"Dir::State::Lists={self.t.apt}/lists", opts)
                self.assertIn(f"Dir::State::status={self.t.apt}/status", opts)
                self.assertIn(f"Dir::Cache={self.t.apt}/cache", opts)
                self.assertIn("Dir::Etc::Preferences=/dev/null", opts)

    def assertUnpacked(self, version):
        """T/build/7.3/deb holds the base's tarball and records VERSION."""
        self.assertEqual(read(self.t.version_file), version + "\n")
        with open(self.t.tarball, "rb") as got, open(self.t.tarxz, "rb") as want:
            self.assertEqual(got.read(), want.read())
        self.assertFalse(os.path.exists(self.t.deb + ".tmp"))

    def downloads(self):
        """The PKG=VER of each apt-get download call."""
        return [c.words()[1:] for c in self.t.calls_of("apt-get") if c.words()[0] == "download"]


# --------------------------------------------------------------------------
# fetch-deb.sh
# --------------------------------------------------------------------------
class FetchDebTest(ScriptTestCase):

    def test_pin_served(self):
        proc = self.t.run("fetch-deb.sh")
        self.assertSucceeds(proc)
        self.assertNotIn("WARNING", proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertIn(f"{PKG} {PIN} unpacked into {self.t.deb}", proc.stderr)
        self.assertUnpacked(PIN)
        # The suite alone, checked with the archive keyring.
        self.assertEqual(read(self.t.sources),
                         f"deb [signed-by={KEYRING}] {MIRROR} {SUITE} main\n")
        self.assertEqual(self.t.apt_commands(), ["update", "madison", "download"])
        self.assertEqual(self.t.calls_of("apt-cache")[0].words(), ["madison", PKG])
        self.assertPrivateApt(self.t.calls_of("apt-get", "apt-cache"))
        # Downloaded into the private cache, unpacked from there, then removed.
        download = [c for c in self.t.calls_of("apt-get") if c.words()[0] == "download"]
        self.assertEqual(download[0].words(), ["download", f"{PKG}={PIN}"])
        self.assertEqual(download[0].cwd, self.t.archives)
        unpack = self.t.calls_of("dpkg-deb")
        self.assertEqual([c.args for c in unpack],
                         [["-x", os.path.join(self.t.archives, f"{PKG}_{PIN}_all.deb"),
                           self.t.deb + ".tmp"]])
        self.assertEqual([f for f in os.listdir(self.t.archives) if f.endswith(".deb")], [])
        self.assertTrue(os.path.isfile(self.t.log))

    def test_pin_served_among_others(self):
        """The pin is taken while served, even with newer versions served."""
        self.t.set_madison([NEWER, PIN, OLDER])
        proc = self.t.run("fetch-deb.sh")
        self.assertSucceeds(proc)
        self.assertNotIn("WARNING", proc.stderr)
        self.assertEqual(self.downloads(), [[f"{PKG}={PIN}"]])
        self.assertUnpacked(PIN)

    def test_pin_not_served_takes_newest(self):
        self.t.set_madison([OLDER, NEWER])
        proc = self.t.run("fetch-deb.sh")
        self.assertSucceeds(proc)
        self.assertIn(f"WARNING: {PKG} {PIN} (the pin) is not served by {SUITE}; "
                      f"taking the newest, {NEWER}\n", proc.stderr)
        self.assertEqual(self.downloads(), [[f"{PKG}={NEWER}"]])
        self.assertUnpacked(NEWER)

    def test_package_not_served(self):
        self.t.set_madison(None)
        proc = self.t.run("fetch-deb.sh")
        self.assertFails(proc, f"error: {PKG} is not served by {MIRROR} {SUITE}\n")
        self.assertEqual(self.t.apt_commands(), ["update", "madison"])
        self.assertFalse(os.path.exists(self.t.deb))

    def test_update_fails(self):
        proc = self.t.run("fetch-deb.sh", FAKE_UPDATE_FAILS=1)
        self.assertFails(proc, "E: The repository 'http://mirror.example/debian trixie-backports "
                               "Release' does not have a Release file.",
                         f"error: apt-get update of {SUITE} failed (log: {self.t.log})\n")
        self.assertEqual(self.t.apt_commands(), ["update"])
        self.assertFalse(os.path.exists(self.t.deb))

    def test_update_index_not_verified(self):
        """apt-get update succeeds but warns that the index is not signed
        by a known key, or not fetched: nothing is taken from it."""
        for warning in ("W: GPG error: http://mirror.example/debian trixie-backports InRelease: "
                        "The following signatures couldn't be verified because the public key "
                        "is not available: NO_PUBKEY 0E98404D386FA1D9",
                        "W: Failed to fetch http://mirror.example/debian/dists/trixie-backports/"
                        "InRelease  Temporary failure resolving 'mirror.example'"):
            with self.subTest(warning=warning[:20]):
                self.t.forget_calls()
                proc = self.t.run("fetch-deb.sh", FAKE_UPDATE_WARNS=warning)
                self.assertFails(proc, warning,
                                 f"error: apt-get update of {SUITE}: index not verified or "
                                 f"not fetched (log: {self.t.log})\n")
                self.assertEqual(self.t.apt_commands(), ["update"])
                self.assertFalse(os.path.exists(self.t.deb))

    def test_download_fails(self):
        proc = self.t.run("fetch-deb.sh", FAKE_DOWNLOAD_FAILS=1)
        self.assertFails(proc, f"E: Can't find a source to download version '{PIN}' of '{PKG}:amd64'",
                         f"error: apt-get download {PKG}={PIN} failed (log: {self.t.log})\n")
        self.assertEqual(self.t.apt_commands(), ["update", "madison", "download"])
        self.assertEqual(self.t.calls_of("dpkg-deb"), [])
        self.assertFalse(os.path.exists(self.t.deb))

    # FAILS: a bug of scripts/fetch-deb.sh, not of this test. Its line
    #   deb=$(ls "$apt/cache/archives/"*.deb 2>/dev/null | head -n1)
    # fails under set -e -o pipefail when there is no .deb (ls exits 2), so
    # the script exits 2 there, silently, and never reaches its
    # "apt-get download left no .deb in ..." error.
    def test_download_leaves_no_deb(self):
        proc = self.t.run("fetch-deb.sh", FAKE_DOWNLOAD_NO_DEB=1)
        self.assertFails(proc, f"error: apt-get download left no .deb in {self.t.archives}\n")
        self.assertEqual(self.t.calls_of("dpkg-deb"), [])
        self.assertFalse(os.path.exists(self.t.deb))

    def test_stale_deb_in_cache_is_not_unpacked(self):
        """A .deb left in the private cache (an interrupted run, another
        version) is removed before the download: the version to take is the
        one unpacked."""
        stale = os.path.join(self.t.archives, f"{PKG}_7.3.1-1~bpo13+1_all.deb")
        write(stale, "stale deb\n")
        proc = self.t.run("fetch-deb.sh")
        self.assertSucceeds(proc)
        self.assertEqual([c.args[1] for c in self.t.calls_of("dpkg-deb")],
                         [os.path.join(self.t.archives, f"{PKG}_{PIN}_all.deb")])
        self.assertFalse(os.path.exists(stale))
        self.assertUnpacked(PIN)

    def test_unpack_fails(self):
        proc = self.t.run("fetch-deb.sh", FAKE_DPKG_DEB_FAILS=1)
        deb = os.path.join(self.t.archives, f"{PKG}_{PIN}_all.deb")
        self.assertFails(proc, f"error: cannot unpack {deb}\n")
        self.assertFalse(os.path.exists(self.t.version_file))
        self.assertFalse(os.path.exists(self.t.tarball))

    def test_deb_without_tarball(self):
        proc = self.t.run("fetch-deb.sh", FAKE_DEB_NO_TARBALL=1)
        deb = os.path.join(self.t.archives, f"{PKG}_{PIN}_all.deb")
        self.assertFails(proc, f"error: {deb} holds no usr/src/{PKG}.tar.xz\n")
        self.assertFalse(os.path.exists(self.t.version_file))

    def test_already_unpacked(self):
        """The version to take is already unpacked, with its tarball: the
        index is updated, nothing is downloaded."""
        self.assertSucceeds(self.t.run("fetch-deb.sh"))
        self.t.forget_calls()
        proc = self.t.run("fetch-deb.sh")
        self.assertSucceeds(proc)
        self.assertEqual(self.t.apt_commands(), ["update", "madison"])
        self.assertEqual(self.t.calls_of("dpkg-deb"), [])
        self.assertNotIn("downloading", proc.stderr)
        self.assertNotIn("WARNING", proc.stderr)
        self.assertUnpacked(PIN)

    def test_unpacked_but_tarball_gone(self):
        self.assertSucceeds(self.t.run("fetch-deb.sh"))
        os.remove(self.t.tarball)
        self.t.forget_calls()
        proc = self.t.run("fetch-deb.sh")
        self.assertSucceeds(proc)
        self.assertEqual(self.downloads(), [[f"{PKG}={PIN}"]])
        self.assertUnpacked(PIN)

    def test_other_version_unpacked_is_replaced(self):
        """The pin was not served, the newest was taken; once the pin is
        served, it replaces it."""
        self.t.set_madison([OLDER])
        self.assertSucceeds(self.t.run("fetch-deb.sh"))
        self.assertUnpacked(OLDER)
        self.t.set_madison([OLDER, PIN])
        self.t.forget_calls()
        proc = self.t.run("fetch-deb.sh")
        self.assertSucceeds(proc)
        self.assertNotIn("WARNING", proc.stderr)
        self.assertEqual(self.downloads(), [[f"{PKG}={PIN}"]])
        self.assertUnpacked(PIN)

    def test_mirror_from_host_sources(self):
        """No BASE_MIRROR: the mirror is the URI of the host's Debian index of
        its own release (not the security archive, not another origin)."""
        codename = host_codename()
        self.assertTrue(codename, "/etc/os-release names no VERSION_CODENAME")
        write(self.t.indextargets,
              f"http://security.debian.org/debian-security/ {codename}-security Debian\n"
              f"https://packages.example/repo/ {codename} Example\n"
              f"{MIRROR}/ {codename} Debian\n"
              f"http://other.example/debian/ {codename}-updates Debian\n")
        proc = self.t.run("fetch-deb.sh", mirror=None)
        self.assertSucceeds(proc)
        self.assertEqual(read(self.t.sources),
                         f"deb [signed-by={KEYRING}] {MIRROR} {SUITE} main\n")
        targets = [c for c in self.t.calls_of("apt-get") if c.words()[0] == "indextargets"]
        self.assertEqual(len(targets), 1)
        self.assertEqual(targets[0].args,
                         ["indextargets", "--format", "$(REPO_URI) $(CODENAME) $(ORIGIN)"])
        self.assertEqual(self.t.apt_commands(), ["indextargets", "update", "madison", "download"])
        self.assertPrivateApt([c for c in self.t.calls_of("apt-get", "apt-cache")
                               if c.words()[0] != "indextargets"])
        self.assertUnpacked(PIN)

    def test_no_mirror(self):
        codename = host_codename()
        for name, targets in (
                ("no index", None),
                ("other releases only", f"http://security.debian.org/debian-security/ "
                                        f"{codename}-security Debian\n"
                                        f"{MIRROR}/ some-other-release Debian\n"
                                        f"https://packages.example/repo/ {codename} Example\n")):
            with self.subTest(name):
                if targets is None:
                    if os.path.exists(self.t.indextargets):
                        os.remove(self.t.indextargets)
                else:
                    write(self.t.indextargets, targets)
                self.t.forget_calls()
                proc = self.t.run("fetch-deb.sh", mirror=None)
                self.assertFails(proc, "error: cannot tell the Debian mirror from the host's "
                                       f"apt sources (no index of release '{codename}'; "
                                       "run apt-get update, or set BASE_MIRROR)\n")
                self.assertEqual(self.t.apt_commands(), ["indextargets"])
                self.assertFalse(os.path.exists(self.t.sources))

    def test_mirror_trailing_slash(self):
        proc = self.t.run("fetch-deb.sh", mirror=MIRROR + "/")
        self.assertSucceeds(proc)
        self.assertEqual(read(self.t.sources),
                         f"deb [signed-by={KEYRING}] {MIRROR} {SUITE} main\n")

    def test_base_not_fetched_by_download(self):
        proc = self.t.run("fetch-deb.sh", BASE="6.12")
        self.assertFails(proc, "error: base 6.12 is not fetched by download (BASE_FETCH=install)\n")
        self.assertEqual(self.t.all_calls(), [])
        self.assertEqual(os.listdir(self.t.build), [])


# --------------------------------------------------------------------------
# fetch-base.sh of a base fetched by download
# --------------------------------------------------------------------------
class FetchBaseDownloadTest(ScriptTestCase):
    layout_name = "fetch-base-download"

    def test_fresh_tree(self):
        proc = self.t.run("fetch-base.sh")
        self.assertSucceeds(proc)
        self.assertNotIn("WARNING", proc.stderr)
        self.assertEqual(self.downloads(), [[f"{PKG}={PIN}"]])
        tags = git(self.t.tree, "tag", "--points-at", "base").split()
        self.assertEqual(sorted(tags), ["base", "debian-7.3.4-1_bpo13+1"])
        self.assertEqual(git(self.t.tree, "config", "harness.baseVersion").strip(), PIN)
        self.assertEqual(read(os.path.join(self.t.buildb, "base-version")), PIN + "\n")
        self.assertEqual(git(self.t.tree, "log", "-1", "--format=%s", "base").strip(),
                         f"Debian {PKG} {PIN}")
        self.assertEqual(read(os.path.join(self.t.tree, "Makefile")),
                         "VERSION = 7\nPATCHLEVEL = 3\nSUBLEVEL = 4\n")
        self.assertEqual(git(self.t.tree, "ls-files").split(),
                         [".gitignore", "Makefile", "mm/page_alloc.c"])
        self.assertFalse(os.path.exists(self.t.tree + ".tmp"))

    def test_second_run_reuses_tree_and_download(self):
        self.assertSucceeds(self.t.run("fetch-base.sh"))
        head = git(self.t.tree, "rev-parse", "HEAD").strip()
        self.t.forget_calls()
        proc = self.t.run("fetch-base.sh")
        self.assertSucceeds(proc)
        self.assertNotIn("WARNING", proc.stderr)
        self.assertEqual(self.downloads(), [])
        self.assertEqual(git(self.t.tree, "rev-parse", "HEAD").strip(), head)

    def test_pin_not_served(self):
        self.t.set_madison([NEWER, OLDER])
        proc = self.t.run("fetch-base.sh")
        self.assertSucceeds(proc)
        self.assertIn(f"WARNING: {PKG} {PIN} (the pin) is not served by {SUITE}; "
                      f"taking the newest, {NEWER}\n", proc.stderr)
        self.assertIn(f"WARNING: base is {PKG} {NEWER}, not the pinned {PIN}\n", proc.stderr)
        self.assertEqual(git(self.t.tree, "config", "harness.baseVersion").strip(), NEWER)
        self.assertEqual(read(os.path.join(self.t.buildb, "base-version")), NEWER + "\n")

    def test_download_fails_no_tree(self):
        proc = self.t.run("fetch-base.sh", FAKE_UPDATE_FAILS=1)
        self.assertFails(proc, f"error: apt-get update of {SUITE} failed")
        self.assertFalse(os.path.exists(self.t.tree))
        self.assertFalse(os.path.exists(os.path.join(self.t.buildb, "base-version")))


# --------------------------------------------------------------------------
# deps.sh of a base fetched by download
# --------------------------------------------------------------------------
class DepsDownloadTest(ScriptTestCase):
    layout_name = "deps-download"

    def queried(self):
        """Every package named to dpkg-query."""
        return [w for c in self.t.calls_of("dpkg-query") for w in c.words()]

    def test_everything_installed(self):
        """deps.sh's whole list installed: the base is no package of the
        host, so nothing is missing: no apt command, no output."""
        self.t.set_installed({p: "1.0" for p in DEPS})
        for uid in (1000, 0):
            with self.subTest(uid=uid):
                self.t.forget_calls()
                proc = self.t.run("deps.sh", FAKE_UID=uid)
                self.assertSucceeds(proc)
                self.assertEqual(proc.stdout + proc.stderr, "")
                self.assertEqual(self.t.calls_of("apt-get", "apt-cache", "apt", "dpkg"), [])
                self.assertEqual(self.queried(), DEPS)
                self.assertNotIn(PKG, self.queried())

    def test_nothing_installed_not_root(self):
        proc = self.t.run("deps.sh")
        self.assertFails(proc, "run as root (apt-get install)")
        lines = [line for line in proc.stderr.splitlines()
                 if line.startswith("error: missing packages: ")]
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertEqual(lines[0][len("error: missing packages: "):].split(), DEPS)
        self.assertNotIn(PKG, proc.stderr)
        self.assertEqual(self.t.calls_of("apt-get", "apt-cache", "apt", "dpkg"), [])


if __name__ == "__main__":
    unittest.main()

"""scripts/guest-fragment.c, compiled with gcc on the host: its argument
errors (which come before it takes any memory) and its choice of the blocks
it gives back whole (--pick: frames in, chosen blocks out), which must be
naturally aligned, entirely in the filled range, never buddies of each other,
as many as asked for and spread over the range."""
import functools
import os
import random
import re
import shutil
import subprocess
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(TOP, "scripts", "guest-fragment.c")
TIMEOUT = 120
_DIRS = []      # kept until the interpreter exits


@functools.lru_cache(maxsize=None)
def compiled():
    """(path, None, gcc's result) or (None, why not, gcc's result)."""
    if not shutil.which("gcc"):
        return None, "gcc not found: install gcc (make deps)", None
    tmp = tempfile.TemporaryDirectory(prefix="harness-guest-fragment-")
    _DIRS.append(tmp)
    exe = os.path.join(tmp.name, "guest-fragment")
    proc = subprocess.run(["gcc", "-Wall", "-Werror", "-o", exe, SRC],
                          capture_output=True, text=True, timeout=TIMEOUT)
    if proc.returncode:
        return None, f"gcc -Wall -Werror {SRC} failed:\n{proc.stderr}", proc
    return exe, None, proc


class GuestFragmentTest(unittest.TestCase):
    def setUp(self):
        self.exe, why, self.compile = compiled()
        if why:
            self.fail(why)

    def run_it(self, *args, stdin=""):
        return subprocess.run([self.exe, *args], input=stdin, capture_output=True,
                              text=True, timeout=TIMEOUT)

    def pick(self, pfns, order, count):
        return self.run_it("--pick", str(order), str(count),
                           stdin="".join(f"{p}\n" for p in pfns))

    def assert_blocks(self, pfns, order, count):
        """--pick's choice, checked against the properties; returns the first
        frame of each block."""
        proc = self.pick(pfns, order, count)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        first = [int(x) for x in proc.stdout.split()]
        self.assertEqual(len(first), count)
        ours = set(p for p in pfns if p)
        size = 1 << order
        starts = []
        for i in first:
            p = pfns[i]
            self.assertEqual(p % size, 0, f"block at frame {p} not aligned to {size}")
            self.assertEqual((p >> order) % 2, 0,
                             f"block at frame {p}: odd block number, a buddy could be chosen")
            for k in range(size):
                self.assertIn(p + k, ours, f"frame {p + k} of the block at {p} is not ours")
            starts.append(p)
        self.assertEqual(len(set(starts)), count, "a block chosen twice")
        for p in starts:
            self.assertNotIn(p ^ size, starts, f"blocks at {p} and {p ^ size} are buddies")
        return starts

    def test_compiles_without_warnings(self):
        self.assertEqual(self.compile.returncode, 0, self.compile.stderr)
        self.assertEqual(self.compile.stderr, "")

    def test_wrong_argument_count(self):
        for args in ([], ["8192"], ["8192", "32768", "9", "/tmp/x"],
                     ["8192", "32768", "16384", "3", "9"],
                     ["8192", "32768", "16384", "3", "9", "/tmp/x", "extra"]):
            with self.subTest(args=args):
                proc = self.run_it(*args)
                self.assertEqual(proc.returncode, 1)
                self.assertIn("usage:", proc.stderr)
                self.assertIn("RESERVE_KB HOLES_KB BLOCKS_KB BLOCK_ORDER TAKE_ORDER READY_FILE",
                              proc.stderr)

    def test_bad_arguments(self):
        with tempfile.TemporaryDirectory() as d:
            ready = os.path.join(d, "ready")
            for args in (["-1", "32768", "16384", "3", "9"],     # reserve
                         ["8192", "0", "16384", "3", "9"],       # holes
                         ["8192", "32768", "-1", "3", "9"],      # blocks
                         ["8192", "32768", "16384", "0", "9"],   # block order
                         ["8192", "32768", "16384", "9", "9"],   # not below take order
                         ["8192", "32768", "16384", "3", "0"],   # take order
                         ["8192", "32768", "16384", "3", "21"]):
                with self.subTest(args=args):
                    proc = self.run_it(*args, ready)
                    self.assertEqual(proc.returncode, 1)
                    self.assertEqual(proc.stderr, "guest-fragment: bad arguments or no MemFree\n")
                    self.assertFalse(os.path.exists(ready))

    def test_pick_contiguous_range_spreads_blocks(self):
        pfns = list(range(4096, 4096 + 8192))
        starts = self.assert_blocks(pfns, 3, 64)
        # Spread evenly: the candidates are every 16th frame, 512 of them;
        # every 8th is chosen, so the first and the last are far apart.
        self.assertEqual(starts[0], 4096)
        self.assertGreater(starts[-1], 4096 + 8192 - 256)
        self.assertEqual(sorted(starts), starts)

    def test_pick_any_order_of_frames(self):
        rng = random.Random(1)
        pfns = list(range(1 << 20, (1 << 20) + 4096))
        rng.shuffle(pfns)
        for order in (1, 2, 3, 5):
            with self.subTest(order=order):
                self.assert_blocks(pfns, order, 16)

    def test_pick_only_whole_blocks(self):
        # Frames 0x10000.. with one frame missing from every order-3 block
        # but those starting at a multiple of 256: exactly those qualify.
        pfns = [p for p in range(0x10000, 0x10000 + 4096)
                if p % 256 < 8 or p % 8 != 5]
        starts = self.assert_blocks(pfns, 3, 16)
        self.assertEqual(starts, list(range(0x10000, 0x10000 + 4096, 256)))
        proc = self.pick(pfns, 3, 17)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr, "guest-fragment: 16 whole blocks of order 3, 17 wanted\n")
        self.assertEqual(proc.stdout, "")

    def test_pick_skips_pages_without_frame(self):
        # 0: not present, or no frame number without CAP_SYS_ADMIN.
        pfns = [0] * 100 + list(range(800, 816)) + [0] * 100
        starts = self.assert_blocks(pfns, 3, 1)
        self.assertEqual(starts, [800])
        proc = self.pick([0] * 4096, 3, 1)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr, "guest-fragment: 0 whole blocks of order 3, 1 wanted\n")

    def test_pick_odd_blocks_are_not_candidates(self):
        # Only the odd-numbered order-3 block 0x108..0x10f is whole: not taken,
        # since its buddy could be given back beside it.
        pfns = list(range(0x108, 0x110))
        proc = self.pick(pfns, 3, 1)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("0 whole blocks of order 3", proc.stderr)

    def test_real_run_gives_back_blocks_and_holes(self):
        """A real run on this machine, kept small: it fills 128 MiB (the
        reserve is MemFree less that), gives back 8 MiB as order-3 blocks and
        4 MiB as single pages, takes no huge page (TAKE_ORDER 20: no such free
        block), creates the ready file and holds the rest until killed. Root
        only: /proc/self/pagemap shows frame numbers to CAP_SYS_ADMIN."""
        self.real_run([], ["start", "filled", "blocks given back", "holes given back",
                           "huge page faults done", "ready"])

    def test_real_run_late_gives_back_after_the_faults(self):
        """The same with "late": the blocks, then the holes, are given back
        after the huge page faults, which therefore cannot take them."""
        self.real_run(["late"], ["start", "filled", "huge page faults done",
                                 "blocks given back", "holes given back", "ready"])

    def test_late_lets_blocks_reach_the_take_order(self):
        """Without "late", BLOCK_ORDER must be below TAKE_ORDER; with it, not:
        the arguments pass (the run then fails for want of memory to fill,
        RESERVE_KB being above MemFree, not with the bad-arguments message)."""
        with tempfile.TemporaryDirectory() as d:
            ready = os.path.join(d, "ready")
            proc = self.run_it("999999999", "32768", "16384", "9", "9", ready, "late")
            self.assertEqual(proc.returncode, 1)
            self.assertNotIn("bad arguments", proc.stderr)
            self.assertNotIn("usage:", proc.stderr)
            proc = self.run_it("8192", "32768", "16384", "3", "9", ready, "early")
            self.assertEqual(proc.returncode, 1)
            self.assertIn("usage:", proc.stderr)

    def real_run(self, extra, phases):
        if os.geteuid() != 0:
            self.fail("needs root (frame numbers in /proc/self/pagemap)")
        # The run needs whole order-3 blocks in its fill: after hours of
        # guests and builds the host's free memory may hold too few (seen:
        # 56 of 256), so compact it first.
        with open("/proc/sys/vm/compact_memory", "w") as f:
            f.write("1\n")
        with open("/proc/meminfo") as f:
            free_kb = next(int(line.split()[1]) for line in f if line.startswith("MemFree:"))
        with tempfile.TemporaryDirectory() as d:
            ready, out = os.path.join(d, "ready"), os.path.join(d, "out")
            with open(out, "w") as o:
                proc = subprocess.Popen([self.exe, str(free_kb - 131072), "4096", "8192",
                                         "3", "20", ready] + extra,
                                        stdout=o, stderr=subprocess.STDOUT)
            try:
                for _ in range(600):
                    if os.path.exists(ready) or proc.poll() is not None:
                        break
                    subprocess.run(["sleep", "0.1"])
                self.assertTrue(os.path.exists(ready), f"no ready file; exit {proc.poll()}")
                with open(f"/proc/{proc.pid}/status") as f:
                    rss_kb = next(int(line.split()[1]) for line in f
                                  if line.startswith("VmRSS:"))
            finally:
                proc.kill()
                proc.wait()
            with open(out) as f:
                text = f.read()
        self.assertRegex(text, r"filled (\d+) kB, gave back 256 blocks of order 3 and 4096 kB "
                               r"as single pages \(every \d+ pages\); huge page faults took 0 "
                               r"blocks of order 20, 0 left")
        self.assertIn("untaken=0\n", text)
        # Its phases, timed on stderr, in order.
        self.assertEqual(re.findall(r"^phase (.*) at [0-9.]+ s$", text, re.M),
                         phases[:len(re.findall("^phase", text, re.M))])
        self.assertGreaterEqual(len(re.findall("^phase", text, re.M)), 5)
        filled = int(re.search(r"guest-fragment: filled (\d+) kB", text).group(1))
        # What it holds: the fill less the 12 MiB given back (a hole that
        # falls in a block frees nothing more), plus its own binary and heap
        # (about 2 MiB): were the blocks or the holes not given back, it
        # would hold 4 or 8 MiB more.
        given_back = 8192 + 4096
        self.assertLess(rss_kb, filled - given_back + 3072, text)
        self.assertGreater(rss_kb, filled - given_back, text)

    def test_pick_bad_arguments(self):
        for args in (["0", "1"], ["11", "1"], ["3", "0"], ["3"]):
            with self.subTest(args=args):
                proc = self.run_it("--pick", *args)
                self.assertEqual(proc.returncode, 1)
                self.assertTrue(proc.stderr.startswith(("guest-fragment: bad", "usage:")),
                                proc.stderr)


if __name__ == "__main__":
    unittest.main()

"""Shared helpers of the Python package's tests: import `bakthat` from the
build tree (or skip, saying why), a private HOME per test, and subprocesses
running Python with the package on their path."""
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", ".."))
PYTHONPATH = os.environ.get("BAKTHAT_PYTHONPATH") or os.path.join(SOURCE_DIR, "build", "python")
BIN = os.environ.get("BAKTHAT_BIN") or os.path.join(SOURCE_DIR, "build", "bakthat")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "e2e"))  # harness.servers(), s3util

if PYTHONPATH not in sys.path:
    sys.path.insert(0, PYTHONPATH)
try:
    import bakthat  # noqa: F401
    IMPORT_ERROR = None
except ImportError as e:
    bakthat = None
    IMPORT_ERROR = "the bakthat Python module is not built (needs python3-dev and pybind11-dev): %s" % e


class PackageTestCase(unittest.TestCase):
    """A private HOME (config, catalog, local store) and work directory per test."""

    def setUp(self):
        if IMPORT_ERROR:  # the CMake build registers these tests only with the module built
            raise AssertionError(IMPORT_ERROR)
        self.tmp = tempfile.mkdtemp(prefix="bakthat-py-")
        self.home = os.path.join(self.tmp, "home")
        self.work = os.path.join(self.tmp, "work")
        os.makedirs(self.home)
        os.makedirs(self.work)
        self.saved_env = dict(os.environ)
        self.saved_cwd = os.getcwd()
        os.environ["HOME"] = self.home
        for k in ("BAKTHAT_PASSWORD", "BAKTHAT_DB", "XDG_DATA_HOME", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
            os.environ.pop(k, None)
        os.chdir(self.work)

    def assert_runs_without_the_gil(self, action, min_seconds=0.5, min_ticks=20):
        """Calls action() while another thread ticks every millisecond;
        checks that the thread ran all along (holding the GIL, action would
        have stopped it from start to end). Returns what action returned."""
        ticks = []
        running = threading.Event()
        done = threading.Event()

        def count():
            running.set()
            while not done.is_set():
                ticks.append(time.monotonic())
                time.sleep(0.001)

        t = threading.Thread(target=count)
        t.start()
        running.wait()
        start = time.monotonic()
        try:
            result = action()
        finally:
            end = time.monotonic()
            done.set()
            t.join()
        during = [x for x in ticks if start <= x <= end]
        gaps = [b - a for a, b in zip([start] + during, during + [end])]
        self.assertGreater(end - start, min_seconds)
        self.assertGreater(len(during), min_ticks, (end - start, len(during)))
        self.assertLess(max(gaps), (end - start) / 2, (max(gaps), end - start))
        return result

    def tearDown(self):
        os.chdir(self.saved_cwd)
        os.environ.clear()
        os.environ.update(self.saved_env)
        subprocess.run(["rm", "-rf", self.tmp])

    def local_conf(self, **extra):
        """A conf dict for the local store inside this test's HOME."""
        conf = {"default_destination": "local", "local_path": os.path.join(self.home, "store"),
                "database": os.path.join(self.home, "catalog.sqlite")}
        conf.update(extra)
        return conf

    def write(self, path, data):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return path

    def python(self, code, env=None, cwd=None, timeout=600, **kw):
        """Runs `code` with /usr/bin/python3 and the package on its path."""
        e = dict(os.environ)
        e["PYTHONPATH"] = PYTHONPATH
        e.update(env or {})
        return subprocess.run([PYTHON, "-c", code], env=e, cwd=cwd or self.work, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, **kw)

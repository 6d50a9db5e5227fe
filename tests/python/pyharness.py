"""Shared helpers of the Python package's tests: import `bakthat` from the
build tree (or skip, saying why), a private HOME per test, and subprocesses
running Python with the package on their path."""
import os
import subprocess
import sys
import tempfile
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

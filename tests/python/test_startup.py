"""What `import bakthat` costs a script before its first operation (a
Python backup is set against the command line's, start-up included): the
package's modules come compiled, from the build tree and from an install,
even where Python cannot write a __pycache__; the import leaves out what
only some operations use; the extension keeps the engine's symbols to
itself, as the command line does."""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import unittest

from pyharness import PYTHON, PYTHONPATH, PackageTestCase, bakthat

PACKAGE = ("__init__", "conf", "events", "plugin", "helper")  # what `import bakthat, bakthat.helper` runs


def code_objects(pythonpath, code):
    """The files the code of the package's modules came from, as `python3 -v`
    says, with PYTHONDONTWRITEBYTECODE set (as where the package's folder is
    not writable): {module file stem: path}."""
    env = dict(os.environ, PYTHONPATH=pythonpath, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([PYTHON, "-v", "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)
    if proc.returncode != 0:
        raise AssertionError(proc.stderr.decode()[-2000:])
    pkg = os.path.join(pythonpath, "bakthat")
    found = {}
    for line in proc.stderr.decode().splitlines():
        m = re.match(r"# code object from '?(.*?)'?$", line)
        if m and os.path.dirname(m.group(1)).startswith(pkg):
            found[os.path.basename(m.group(1)).split(".")[0]] = m.group(1)
    return found


class StartUp(PackageTestCase):
    def assert_compiled(self, pythonpath):
        found = code_objects(pythonpath, "import bakthat, bakthat.helper")
        self.assertEqual(sorted(found), sorted(PACKAGE))
        tag = importlib.util.cache_from_source("x.py").split(".")[-2]
        for stem, path in found.items():
            self.assertEqual(path, os.path.join(pythonpath, "bakthat", "__pycache__", "%s.%s.pyc" % (stem, tag)))

    def test_the_build_tree_package_is_imported_compiled(self):
        self.assert_compiled(PYTHONPATH)

    def test_the_installed_package_is_imported_compiled_and_stripped(self):
        # cmake --install BUILD --component python --strip, into a scratch
        # prefix; the build tree is the folder above the package's.
        cmake = shutil.which("cmake")
        if not cmake:
            self.skipTest("cmake is not on PATH")
        prefix = os.path.join(self.tmp, "prefix")
        proc = subprocess.run([cmake, "--install", os.path.dirname(PYTHONPATH), "--component", "python", "--strip",
                               "--prefix", prefix], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stdout.decode())
        site = os.path.join(prefix, "lib", "python3", "dist-packages")
        self.assert_compiled(site)
        # An installed copy whose source was edited is compiled again, not
        # run from its stale .pyc (the .pyc holds the source's hash).
        with open(os.path.join(site, "bakthat", "conf.py"), "a") as f:
            f.write("EDITED = True\n")
        proc = subprocess.run([PYTHON, "-c", "import bakthat.conf; print(bakthat.conf.EDITED)"],
                              env=dict(os.environ, PYTHONPATH=site, PYTHONDONTWRITEBYTECODE="1"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(proc.stdout.decode(), "True\n", proc.stderr.decode())
        # --strip: the module without the build's debug information (about
        # twenty times its code), and it still backs up.
        module = [n for n in os.listdir(os.path.join(site, "bakthat")) if n.startswith("_bakthat.")]
        self.assertEqual(len(module), 1, module)
        sections = subprocess.run(["objdump", "-h", os.path.join(site, "bakthat", module[0])],
                                  stdout=subprocess.PIPE, check=True).stdout.decode()
        self.assertNotIn(".debug_info", sections)
        src = self.write(os.path.join(self.tmp, "data", "a.txt"), "alpha\n")
        proc = subprocess.run([PYTHON, "-c", "import bakthat, json, sys; "
                               "print(bakthat.backup(sys.argv[1], conf=json.loads(sys.argv[2]), prompt='no')['size'])",
                               os.path.dirname(src), json.dumps(self.local_conf())],
                              env=dict(os.environ, PYTHONPATH=site), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertGreater(int(proc.stdout), 0)

    def test_import_leaves_out_what_only_some_operations_use(self):
        # -S: only what `import bakthat` itself loads, not the site's hooks.
        code = ("import sys; before = set(sys.modules); import bakthat; "
                "print(' '.join(sorted(set(sys.modules) - before)))")
        proc = subprocess.run([PYTHON, "-S", "-c", code], env=dict(os.environ, PYTHONPATH=PYTHONPATH),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        loaded = proc.stdout.decode().split()
        self.assertIn("bakthat._bakthat", loaded)
        # getpass only when a password is asked for, datetime only for show()
        for name in ("getpass", "termios", "datetime", "_datetime"):
            self.assertNotIn(name, loaded)

    def test_the_extension_exports_only_its_entry_point(self):
        nm = shutil.which("nm")
        if not nm:
            self.skipTest("nm (binutils) is not installed")
        out = subprocess.run([nm, "-D", "--defined-only", "-C", bakthat._bakthat.__file__], stdout=subprocess.PIPE,
                             check=True).stdout.decode()
        engine = [line for line in out.splitlines() if "bakthat" in line and "PyInit__bakthat" not in line]
        self.assertEqual(engine, [])
        self.assertIn("PyInit__bakthat", out)


if __name__ == "__main__":
    unittest.main()

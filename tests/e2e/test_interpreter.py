"""The suites run with Debian's python3 where there is one
(cmake/BakthatPythonTests.cmake): the loopback servers' modules, the aws
tool and the bakthat module are installed for it, and a python3 found
first on PATH (a pyenv shim) is another interpreter."""
import os
import sys
import unittest

DEBIAN_PYTHON = "/usr/bin/python3"


class Interpreter(unittest.TestCase):
    def test_debian_python3_runs_the_tests(self):
        if not os.path.exists(DEBIAN_PYTHON):
            self.skipTest("no " + DEBIAN_PYTHON + " here: the python3 on PATH runs the tests")
        self.assertEqual(os.path.realpath(sys.executable), os.path.realpath(DEBIAN_PYTHON))


if __name__ == "__main__":
    unittest.main()

"""Runs e2e tests for ctest, so that a skipped test is reported to ctest as
skipped (with its reason), never as a pass.

A test that can skip (its method, or a helper of its class it calls, calls
skipTest) is a ctest test of its own; the rest of its module is one ctest
test. CMakeLists.txt asks for the list at configure time:

    run.py --list-skippable test_local.py ...   ids, one a line
    run.py test_local                           the module without those
    run.py test_local.LocalTest.test_x          one test; exit 77 if skipped

A skip anywhere else fails the run, naming the test, so that no skip is
ever counted as a pass."""
import inspect
import os
import re
import sys
import unittest

SKIPPED = 77  # ctest's SKIP_RETURN_CODE
SELF_CALL = re.compile(r"self\.(\w+)\(")


def tests_of(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from tests_of(t)
        else:
            yield t


def can_skip(test):
    """True when the test method, or a method of its class it calls (at any
    depth), calls skipTest."""
    cls = type(test)
    seen, todo = set(), [test._testMethodName]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        fn = getattr(cls, name, None)
        if not inspect.isfunction(fn):
            continue
        try:
            src = inspect.getsource(fn)
        except (OSError, TypeError):
            continue
        if "skipTest(" in src or "unittest.skip" in src:
            return True
        todo.extend(SELF_CALL.findall(src))
    return False


def module_tests(module):
    return list(tests_of(unittest.defaultTestLoader.loadTestsFromName(module)))


def main(argv):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if argv[0] == "--list-skippable":
        for path in argv[1:]:
            module = os.path.splitext(os.path.basename(path))[0]
            for t in module_tests(module):
                if can_skip(t):
                    print(t.id())
        return 0
    name = argv[0]
    single = "." in name
    tests = module_tests(name)
    if not single:
        tests = [t for t in tests if not can_skip(t)]
    result = unittest.TextTestRunner(verbosity=2).run(unittest.TestSuite(tests))
    if not result.wasSuccessful():
        return 1
    if result.skipped and not single:
        for t, reason in result.skipped:
            print("run.py: %s skipped (%s) but is not a ctest test of its own" % (t.id(), reason))
        return 1
    if result.skipped:
        for t, reason in result.skipped:
            print("SKIPPED %s: %s" % (t.id(), reason))
        return SKIPPED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

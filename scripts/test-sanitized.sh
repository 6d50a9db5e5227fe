#!/usr/bin/env bash
# Builds a sanitized tree (clang) with only the unit and integration test
# executables, and for `address` the libFuzzer harnesses, then runs those
# tests and fuzzes each harness for a bounded time. A sanitizer report fails
# the test that made it, and so the run. `make test` calls it after the
# normal tests, with the loopback servers up (the integration tests use them).
#   scripts/test-sanitized.sh address|thread [BUILD_DIR]
#     address  ASan + UBSan (+ LeakSanitizer), and the fuzzers (fuzz/README.md)
#     thread   TSan
# FUZZ_SECONDS (default 60) is each harness's fuzzing time.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?address or thread}
src=$PWD
case $kind in
  address) build=${2:-build-asan}; targets=(unit_tests integration_tests fuzzers)
           labels='^(unit|integration|fuzz_run)$'
           extra=(-DBAKTHAT_FUZZ=ON -DBAKTHAT_FUZZ_SECONDS="${FUZZ_SECONDS:-60}") ;;
  thread)  build=${2:-build-tsan}; targets=(unit_tests integration_tests)
           labels='^(unit|integration)$'; extra=() ;;
  *) echo "test-sanitized: address or thread, not $kind" >&2; exit 2 ;;
esac
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DBAKTHAT_SANITIZE="$kind" "${extra[@]}" "${launcher[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

# Every report stops the process with a non-zero status; suppressions (each
# with its reason) are for third-party code only.
supp=$src/tests/sanitizers
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:check_initialization_order=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp"
cd "$build"
ctest -L "$labels" -j2 --output-on-failure --no-tests=error

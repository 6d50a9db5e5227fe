# Quick start:  make demo   (install what is missing, build, back up and restore a sample)
#               make test   (install, build, start the test servers, run every test)
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps configure build demo test test-sanitized bench package clean servers-up servers-down

all: build

# Installs the Debian packages that are missing (sudo when not root); demo
# and test run it first, build never does.
deps:
	@scripts/install-deps.sh

# ccache, where installed, makes rebuilds of unchanged sources instant.
LAUNCHER := $(if $(shell command -v ccache),-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

configure:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(LAUNCHER) >/dev/null

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

# The demo builds only the command line, not the tests and benchmarks.
demo: deps
	@$(MAKE) --no-print-directory configure
	@cmake --build $(BUILD) -j$(JOBS) --target bakthat_cli
	@scripts/demo.sh $(BUILD)/bakthat

# After the normal tests, the unit and integration tests again under
# ASan+UBSan and under TSan (clang, trees build-asan and build-tsan), and
# each fuzz harness for a bounded time (scripts/test-sanitized.sh). Any
# failure fails `make test`; the servers are stopped either way.
test: deps
	@scripts/install-deps.sh --test
	@$(MAKE) --no-print-directory build
	@tests/servers/up.sh
	@rc=0; (cd $(BUILD) && ctest --output-on-failure -j2 $(CTEST_ARGS)) || rc=1; \
	  scripts/test-sanitized.sh address || rc=1; \
	  scripts/test-sanitized.sh thread || rc=1; \
	  tests/servers/down.sh; exit $$rc

# The sanitizer runs alone, leaving the servers up.
test-sanitized: deps
	@scripts/install-deps.sh --test
	@tests/servers/up.sh
	@rc=0; scripts/test-sanitized.sh address || rc=1; scripts/test-sanitized.sh thread || rc=1; exit $$rc

bench: deps
	@scripts/install-deps.sh --bench
	@$(MAKE) --no-print-directory build
	@bench/run.sh $(BUILD)/bakthat

# The Debian package build/bakthat_<version>_<arch>.deb (cmake/BakthatPackage.cmake);
# builds only what it holds.
package: configure
	@cmake --build $(BUILD) -j$(JOBS) --target deb

clean:
	rm -rf $(BUILD) build-asan build-tsan

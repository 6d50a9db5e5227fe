# Quick start:  make demo   (install what is missing, build, back up and restore a sample)
#               make test   (install, build, start the test servers, run every test)
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build demo test bench clean servers-up servers-down

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)/bakthat

test: build
	@scripts/install-deps.sh --test
	@tests/servers/up.sh
	@cd $(BUILD) && ctest --output-on-failure -j2 $(CTEST_ARGS); rc=$$?; cd .. ; tests/servers/down.sh; exit $$rc

bench: build
	@scripts/install-deps.sh --bench
	@bench/run.sh $(BUILD)/bakthat

clean:
	rm -rf $(BUILD)

# ipcverify: the two commands a new user runs are `make verify` and `make check`; both install
# what they need first (`make deps`), so a fresh Debian 12 machine needs nothing else.

BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

# Every Debian package the project needs to build, test and verify.
PACKAGES := make g++ clang libclang-rt-14-dev cmake ninja-build pkg-config git procps \
            libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev valgrind \
            libcli11-dev libsimdjson-dev nlohmann-json3-dev libxxhash-dev libfmt-dev \
            libexpat1-dev llvm-14 clang-format-14 perl-base mount \
            libboost-dev libzmq3-dev libnng-dev

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build deps verify verify-tsan check check-fast check-tsan check-asan check-valgrind bench format clean help

all: build

help:
	@echo "make verify      run every channel against the contract and the specs (installs deps)"
	@echo "make verify-tsan thread mode of every channel in a ThreadSanitizer build: race-free judged"
	@echo "make check       every configuration: default, TSan, ASan+UBSan, Valgrind, fuzz smoke, hygiene"
	@echo "make check-fast  the default build's tests only"
	@echo "make check-tsan  the tests under ThreadSanitizer (build-tsan/)"
	@echo "make check-asan  the tests under AddressSanitizer + UBSan (build-asan/)"
	@echo "make check-valgrind  Memcheck over a test subset, Helgrind and DRD over the shm thread tests"
	@echo "make bench       ipcbench (all channels, sizes, baselines) and the engine's time to catch each fixture"
	@echo "make format      rewrite the C++ files as .clang-format says (make check fails on a difference)"
	@echo "make deps        install the Debian packages the project needs"
	@echo "make             build into $(BUILD)/ (CLI: $(BUILD)/bin/ipcverify)"

# Idempotent: asks dpkg what is missing and only then calls apt-get (update first, since a
# fresh machine may have no package lists).
deps:
	@missing=$$(for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing" $$missing; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "deps: all $(words $(PACKAGES)) packages present"; \
	fi

$(BUILD)/build.ninja:
	cmake -G Ninja -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The main job: the contract's conformance checks, then the engine over every channel and
# every spec (VERIFY_BUDGET seconds in all), with the verdict matrix on stdout and the report
# in $(BUILD)/report/. Exit status 1 when any claim is broken, except the adapters' known
# findings on record (FAIL*, adapters/<lib>/expected.json). The in-tree adapters (the
# plugins adapters/ built, listed in $(BUILD)/adapters/plugins.txt) load by default, before
# whatever IPCV_PLUGINS names: `IPCV_PLUGINS=./libmine.so make verify`; their records go the
# same way through IPCV_EXPECTED.
# 160 s: about 10 s per channel for the 6 reference channels and the 10 of the adapters, so
# the libraries' slow cases (a long case through ZeroMQ takes seconds) judge more than a few.
VERIFY_BUDGET ?= 160
# Seconds one conformance check may take before its channel is judged to hang: a check of a
# correct channel takes under 2 s here (one that waits out its 3 s deadline, as a library
# without peer_gone does, under 4 s), and a library that hangs in close (ZeroMQ's default
# ZMQ_LINGER, in 7 checks of each of two channels) would otherwise cost 60 s per check.
CHECK_LIMIT ?= 10
verify: deps
	@$(MAKE) --no-print-directory build
	@plugins=$$(cat $(BUILD)/adapters/plugins.txt 2>/dev/null); \
	plugins=$$plugins$${plugins:+$${IPCV_PLUGINS:+:}}$${IPCV_PLUGINS:-}; \
	if [ -n "$$plugins" ]; then export IPCV_PLUGINS="$$plugins"; echo "plugins: $$plugins"; \
	else unset IPCV_PLUGINS; fi; \
	records=$$(cat $(BUILD)/adapters/expected.txt 2>/dev/null); \
	records=$$records$${records:+$${IPCV_EXPECTED:+:}}$${IPCV_EXPECTED:-}; \
	if [ -n "$$records" ]; then export IPCV_EXPECTED="$$records"; echo "known findings: $$records"; \
	else unset IPCV_EXPECTED; fi; \
	set -x; $(BUILD)/bin/ipcverify verify --check-limit $(CHECK_LIMIT) && mkdir -p $(BUILD)/report && \
	$(BUILD)/bin/ipcverify run --time-budget $(VERIFY_BUDGET) \
	  --json $(BUILD)/report/report.json --markdown $(BUILD)/report/report.md
	@echo "report: $(BUILD)/report/report.json, $(BUILD)/report/report.md"

# Races only ThreadSanitizer sees (a relaxed publication that x86 forgives): thread mode of the
# engine in a TSan build (build-tsan/, clang), where `race-free` is judged instead of skipped.
TSAN_BUILD ?= build-tsan
verify-tsan: deps
	@bash -c "source sanitizer_runs/lib.sh && ipcv_configure $(TSAN_BUILD) thread" >/dev/null
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target ipcverify
	@mkdir -p $(BUILD)/report
	TSAN_OPTIONS="halt_on_error=1 external_symbolizer_path=/usr/lib/llvm-14/bin/llvm-symbolizer" \
	  $(TSAN_BUILD)/bin/ipcverify run --mode thread --time-budget $(VERIFY_BUDGET) \
	  --json $(BUILD)/report/report-tsan.json --markdown $(BUILD)/report/report-tsan.md

check-fast: deps
	@$(MAKE) --no-print-directory build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) --timeout 600 \
	  --output-junit $(CURDIR)/$(BUILD)/junit/ctest.xml

# Every configuration, then hygiene (ci/check.sh); wall times in sanitizer_runs/README.md.
check: deps
	@BUILD=$(BUILD) JOBS=$(JOBS) MAKE="$(MAKE)" ci/check.sh

check-tsan: deps
	@JOBS=$(JOBS) sanitizer_runs/tsan.sh build-tsan

check-asan: deps
	@JOBS=$(JOBS) sanitizer_runs/asan.sh build-asan

check-valgrind: deps
	@$(MAKE) --no-print-directory build
	@JOBS=$(JOBS) sanitizer_runs/valgrind.sh $(BUILD)

# Benchmarks, never part of check: figures are ratios within one run on a quiet machine.
# ipcbench comes from its own build without test instrumentation (perturbation points, Valgrind
# annotations), with the in-tree adapters of that build loaded, so the libraries are measured
# in the same run as the reference channels; the engine's time to catch needs the default build.
BENCH_BUILD ?= build-bench
bench: deps
	@$(MAKE) --no-print-directory build
	cmake -G Ninja -S . -B $(BENCH_BUILD) -DIPCV_PERTURB=OFF -DIPCV_VALGRIND=OFF \
	  -DIPCV_BUILD_TESTS=OFF $(CMAKE_ARGS) >/dev/null
	cmake --build $(BENCH_BUILD) -j $(JOBS)
	@mkdir -p $(BUILD)/report
	IPCV_PLUGINS=$$(cat $(BENCH_BUILD)/adapters/plugins.txt) \
	  $(BENCH_BUILD)/bin/ipcbench --json $(BUILD)/report/bench.json
	bench/catch_time.sh $(BUILD) 9 process
	bench/catch_time.sh $(BUILD) 9 thread

format: deps
	@ci/format.sh --fix

clean:
	rm -rf build build-*

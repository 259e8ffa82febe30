# The two commands a newcomer needs:
#   make demo   installs what is missing, builds, runs an example end to end
#   make test   installs what is missing, builds, runs every test
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

MAKEFLAGS  += --no-print-directory

# Node.js 20 and npm 10 for the tests where the system's node is older
# (scripts/install-deps puts them there; absent, this changes nothing).
export PATH := $(CURDIR)/.deps/node/bin:$(PATH)

.PHONY: all deps build test demo install asan valgrind fuzz clean bench bench-peers bench-gateway bench-gateway-load

all: build

deps:
	@scripts/install-deps

$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

demo: build
	@scripts/demo $(BUILD)/bin/toolgate

# make install [PREFIX=/usr/local] [DESTDIR=...]: libraries (shared and
# static), headers, pkg-config files, the CMake package, the command and its
# man pages (docs/embedding.md).
PREFIX ?= /usr/local
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTG_SANITIZE=ON \
		-DCMAKE_C_COMPILER=clang -DTG_WERROR=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# make fuzz: every libFuzzer target (tests/fuzz) for FUZZ_SECONDS each, one
# process at a time, under ASan+UBSan. Findings land in
# $(FUZZ_BUILD)/fuzz-artifacts/TARGET/; once fixed, copy them into
# tests/fuzz/regressions/TARGET/ where ctest replays them.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= compile load request suite gateway

fuzz: deps
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
		-DTG_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_TARGETS)

# make valgrind: the whole ctest under valgrind memcheck (CLI scripts too:
# children are traced, except system programs and python3 fake servers),
# failing on any error or leak. Excluded: tests that spawn node or Python,
# the gateway operations test (its limits are timed to the millisecond), the
# load test (wrk), and the install test (it runs cmake and a compiler). The
# mutation, limits and differential tests run a sample (every 16th mutation;
# no 16 MiB at-the-limit inputs; 500 policies, 50,000 pairs, instead of 2,000).
VALGRIND_BUILD   ?= build-valgrind
VALGRIND_EXCLUDE ?= regex/python|cli/proxy_e2e|cli/gateway_e2e|cli/gateway_tls|cli/gateway_oauth|cli/gateway_oidc_e2e|cli/gateway_ops|cli/gateway_2026_e2e|cli/gateway_load|cli/gateway_loop|install/|bindings/
VALGRIND_OPTS    ?= --leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite,possible \
	--show-leak-kinds=definite,possible --num-callers=30 --trace-children=yes \
	--trace-children-skip=/bin/*,/usr/bin/*,/usr/local/bin/*,*/node,*/python3*

valgrind: deps
	@cmake -S . -B $(VALGRIND_BUILD) -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(VALGRIND_BUILD) -j $(JOBS)
	@cd $(VALGRIND_BUILD) && TG_MUTATION_STRIDE=16 TG_LIMITS_QUICK=1 TG_DIFF_ITERATIONS=500 ctest -T memcheck \
		--overwrite MemoryCheckCommand=$$(command -v valgrind) \
		--overwrite "MemoryCheckCommandOptions=$(VALGRIND_OPTS)" \
		--overwrite MemoryCheckSuppressionFile=$(CURDIR)/tests/valgrind.supp \
		-E '$(VALGRIND_EXCLUDE)' -j $(JOBS) --output-on-failure

# Benchmarks (opt-in, never part of `make test`): bench/README.md.
bench: build
	@cmake --build $(BUILD) --target tg-bench -j $(JOBS)
	@bench/run $(BUILD)

# toolgate against Cedar, casbin and CEL on the same requests; installs the
# peers from npm into the git-ignored bench/node_modules.
bench-peers: build
	@cmake --build $(BUILD) --target tg-bench -j $(JOBS)
	@bench/peers/install
	@node bench/peers/run.mjs $(BUILD)/bin/tg-bench $(BUILD)/bench-peers

# The gateway's added latency, CPU per request and memory per idle
# connection against a direct connection and nginx (bench/gateway/latency.mjs).
BENCH_GW_ROUNDS ?= 8
BENCH_GW_IDLE   ?= 200
bench-gateway: build
	@cmake --build $(BUILD) --target tg-bench-client
	@node bench/gateway/latency.mjs $(BUILD)/bin/toolgate $(BENCH_GW_ROUNDS) $(BENCH_GW_IDLE)

# The gateway under load (bench/gateway/load.sh): wrk at 64 connections for
# GATEWAY_SECONDS, with and without policy reloads, next to nginx proxying
# the same upstream; numbers go to bench/RESULTS.md by hand.
GATEWAY_SECONDS ?= 25
bench-gateway-load: build
	@bench/gateway/load.sh $(BUILD)/bin/toolgate $(GATEWAY_SECONDS) 64

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(VALGRIND_BUILD)

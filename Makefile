# Everything starts here; see README.md.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
TIER       ?=

.PHONY: all deps configure build run test spec unit cli wasi-test asan asan-test clean bench bench-smoke

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@[ -f $(BUILD)/build.ninja ] || cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@bash examples/run-example.sh $(BUILD)/skiff

test: build
	@cd $(BUILD) && ctest --output-on-failure

# TIER=interp|jit|aot|auto|baseline runs one tier; without TIER: all of them (aot: each module through a .skc round
# trip; auto: functions and running loops move to tier 2 as early as they can).
SPEC_TIERS = $(if $(TIER),$(TIER),interp jit aot auto baseline)
spec: build
	@set -e; for tier in $(SPEC_TIERS); do \
	  echo "== spec: tier $$tier"; \
	  tests/spec/run-spec.sh $(BUILD)/skiff_spec ../shared/testsuite/wasm2 $(BUILD)/spec-json --tier=$$tier; \
	done

unit: build
	@$(BUILD)/skiff_unit_tests

cli: build
	@bash tests/cli/run-cli-tests.sh $(BUILD)/skiff

# ---- diff: tier 0 vs tier 2 on random (binaryen) and spec modules; see tests/diff/README.md.
# DIFF_ARGS passes options through, e.g. make diff DIFF_ARGS="--fuzz=2000 --seed=301 --no-spec".
.PHONY: diff
diff: build
	@tests/diff/run-diff.sh $(BUILD)/skiff_diff ../shared/testsuite/wasm2 $(BUILD)/diff $(DIFF_ARGS)
# ---- end diff

# The official WASI preview 1 testsuite, run through `skiff run`.
wasi-test: build
	@bash tests/wasi/run-testsuite.sh $(BUILD)/skiff

bench: build
	@cmake --build $(BUILD) --target skiff_embed_bench
	@python3 bench/run --skiff $(BUILD)/skiff

bench-smoke: build
	@python3 bench/run --smoke --skiff $(BUILD)/skiff --build-dir $(BUILD)/bench

asan: deps
	@[ -f $(ASAN_BUILD)/build.ninja ] || cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSKIFF_ASAN=ON
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

asan-test: asan
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=handle_segv=0:allow_user_segv_handler=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest --output-on-failure

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

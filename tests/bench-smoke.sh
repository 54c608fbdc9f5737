#!/usr/bin/env bash
# CI smoke run of the benchmark harness: tiny inputs, every workload's
# checksum verified under every runtime found, no timing judgement.
#   tests/bench-smoke.sh SKIFF_BINARY [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
skiff="${1:?usage: bench-smoke.sh SKIFF_BINARY [BUILD_DIR]}"
build_dir="${2:-$here/bench/build}"
exec python3 "$here/bench/run" --smoke --skiff "$skiff" --build-dir "$build_dir"

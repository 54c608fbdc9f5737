#!/bin/sh
# Runs the official wasi-testsuite (../shared/wasi-testsuite) through the unit
# test binary and prints "N passed, N failed, N skipped".
#   SKIFF_WASI_STRICT_ERRNO=1  Rust tests expect Linux errnos exactly
#   SKIFF_WASI_FORCE_WALK=1    resolve paths with the O_NOFOLLOW walk, not openat2
unit=${1:?usage: run-testsuite.sh path/to/skiff_unit_tests}
"$unit" --gtest_filter='WasiTestsuite.*' --gtest_brief=1

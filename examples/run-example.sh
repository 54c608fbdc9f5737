#!/usr/bin/env bash
# `make run`: builds examples/fib.wat and runs it with the skiff command.
#   run-example.sh SKIFF
set -uo pipefail
skiff=${1:?usage: run-example.sh SKIFF}
skiff=$(cd "$(dirname "$skiff")" && pwd)/$(basename "$skiff")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v wat2wasm >/dev/null || { echo "run-example: wat2wasm not found (apt-get install wabt)" >&2; exit 2; }
wat2wasm --debug-names "$here/fib.wat" -o "$work/fib.wasm" || exit 1
cd "$work" || exit 1

echo "\$ skiff run --invoke fib fib.wasm 30"
start=$(date +%s%N)
out=$("$skiff" run --invoke fib fib.wasm 30)
code=$?
end=$(date +%s%N)
echo "$out"
echo "(exit $code, $(( (end - start) / 1000000 )) ms)"
[ "$code" -eq 0 ] && [ "$out" = 832040 ] || { echo "run-example: expected 832040 and exit 0" >&2; exit 1; }

echo
echo "\$ skiff run --invoke average fib.wasm 10"
out=$("$skiff" run --invoke average fib.wasm 10)
echo "$out"
[ "$out" = 5 ] || { echo "run-example: expected 5" >&2; exit 1; }

echo
echo "\$ skiff run --invoke average fib.wasm 0      # divides by zero: a trap, exit code 6"
"$skiff" run --invoke average fib.wasm 0
code=$?
echo "(exit $code)"
[ "$code" -eq 6 ] || { echo "run-example: expected exit code 6 for a trap" >&2; exit 1; }
echo
echo "example ok"

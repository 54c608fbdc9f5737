#!/usr/bin/env bash
# `make run`: builds examples/fib.wat and the WASI command examples/wordcount.c
# and runs them with the skiff command.
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

# A WASI command: it reads the files of the one directory it was granted.
command -v clang >/dev/null || { echo "run-example: clang not found (make deps)" >&2; exit 2; }
clang --target=wasm32-wasi -O2 -o "$work/wordcount.wasm" "$here/wordcount.c" ||
  { echo "run-example: clang --target=wasm32-wasi failed (make deps installs wasi-libc)" >&2; exit 1; }
echo
echo "\$ skiff run --dir examples/data::/data wordcount.wasm /data"
start=$(date +%s%N)
out=$("$skiff" run --dir "$here/data::/data" wordcount.wasm /data)
code=$?
end=$(date +%s%N)
echo "$out"
echo "(exit $code, $(( (end - start) / 1000000 )) ms)"
[ "$code" -eq 0 ] && [[ $out == *"total (2 files)"* ]] ||
  { echo "run-example: expected a summary of 2 files and exit 0" >&2; exit 1; }

echo
echo "\$ skiff run --dir examples/data::/data wordcount.wasm /etc/passwd     # outside the sandbox: refused, exit 1"
"$skiff" run --dir "$here/data::/data" wordcount.wasm /etc/passwd
code=$?
echo "(exit $code)"
[ "$code" -eq 1 ] || { echo "run-example: expected exit code 1 from the guest" >&2; exit 1; }
echo
echo "example ok"

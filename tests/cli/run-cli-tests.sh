#!/usr/bin/env bash
# End-to-end tests of the `skiff` command: output and exit codes.
#   run-cli-tests.sh SKIFF
# Builds the .wasm inputs from tests/cli/*.wat with wat2wasm, and the WASI C
# programs of tests/wasi with clang --target=wasm32-wasi, at test time.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 SKIFF" >&2; exit 2; }
skiff=$1
[ -x "$skiff" ] || { echo "run-cli-tests: $skiff is not executable" >&2; exit 2; }
skiff=$(cd "$(dirname "$skiff")" && pwd)/$(basename "$skiff")  # some tests run in another directory
command -v wat2wasm >/dev/null || { echo "run-cli-tests: wat2wasm not found (apt-get install wabt)" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for wat in "$here"/*.wat; do
  name=$(basename "$wat" .wat)
  flags=(--debug-names)
  [ "$name" = invalid ] && flags+=(--no-check)
  wat2wasm "${flags[@]}" "$wat" -o "$work/$name.wasm" || { echo "run-cli-tests: wat2wasm failed for $wat" >&2; exit 2; }
done
bash "$here/../wasi/build.sh" "$work/c" && clang --target=wasm32-wasi -O2 -o "$work/c/wordcount.wasm" "$here/../../examples/wordcount.c" ||
  { echo "run-cli-tests: cannot build tests/wasi/*.c (make deps)" >&2; exit 2; }
printf 'XXXX\1\0\0\0' >"$work/bad-magic.wasm"
# A type section that claims 5 bytes but holds 3.
printf '\0asm\1\0\0\0\1\5\1\x60\0' >"$work/truncated.wasm"

passed=0 failed=0

# check NAME EXIT STDOUT STDERR -- ARGS...
#   STDOUT: the exact output, or "~TEXT" for "contains TEXT", or "" for empty.
#   STDERR: "~TEXT" (contains), "" (empty) or "*" (anything).
#   stdin is /dev/null, or the file named by $check_stdin.
check() {
  local name=$1 want_exit=$2 want_out=$3 want_err=$4
  shift 5
  local out err code problems=()
  out=$("$skiff" "$@" 2>"$work/stderr" <"${check_stdin:-/dev/null}")
  code=$?
  err=$(cat "$work/stderr")
  [ "$code" -eq "$want_exit" ] || problems+=("exit $code, want $want_exit")
  case $want_out in
    "~"*) [[ $out == *"${want_out#\~}"* ]] || problems+=("stdout lacks '${want_out#\~}'") ;;
    *) [ "$out" = "$want_out" ] || problems+=("stdout differs") ;;
  esac
  case $want_err in
    "*") ;;
    "~"*) [[ $err == *"${want_err#\~}"* ]] || problems+=("stderr lacks '${want_err#\~}'") ;;
    *) [ "$err" = "$want_err" ] || problems+=("stderr differs") ;;
  esac
  if [ ${#problems[@]} -eq 0 ]; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name: ${problems[*]}"
    echo "     command: skiff $*"
    echo "     stdout: $(printf '%s' "$out" | head -c 600)"
    echo "     stderr: $(printf '%s' "$err" | head -c 600)"
  fi
}

w=$work
nl=$'\n'

# run --invoke: integers, floats, multi-value, no results
check "run add"                0 "5"                 "" -- run --invoke add "$w/arith.wasm" 2 3
check "run add negative"       0 "-7"                "" -- run --invoke add "$w/arith.wasm" -10 3
check "run add wraps"          0 "-2147483648"       "" -- run --invoke add "$w/arith.wasm" 2147483647 1
check "run add unsigned input" 0 "-1"                "" -- run --invoke add "$w/arith.wasm" 4294967295 0
check "run add64"              0 "9223372036854775807" "" -- run --invoke add64 "$w/arith.wasm" 9223372036854775806 1
check "run add64 negative"     0 "-9000000000"       "" -- run --invoke add64 "$w/arith.wasm" -4500000000 -4500000000
check "run f32"                0 "3.75"              "" -- run --invoke addf "$w/arith.wasm" 1.5 2.25
check "run f64 shortest"       0 "0.3333333333333333" "" -- run --invoke div "$w/arith.wasm" 1 3
check "run f64 negative"       0 "-2.5"              "" -- run --invoke div "$w/arith.wasm" -5 2
check "run f64 inf result"     0 "-inf"              "" -- run --invoke div "$w/arith.wasm" -1 0
check "run f64 nan result"     0 "NaN"               "" -- run --invoke div "$w/arith.wasm" 0 0
check "run f32 inf argument"   0 "inf"               "" -- run --invoke addf "$w/arith.wasm" inf 1
check "run f64 nan argument"   0 "NaN"               "" -- run --invoke div "$w/arith.wasm" nan 1
check "run multi-value"        0 "9${nl}-4"          "" -- run --invoke swap "$w/arith.wasm" -4 9
check "run no results"         0 ""                  "" -- run --invoke nothing "$w/arith.wasm"
check "run _start"             0 ""                  "" -- run "$w/start.wasm"
check "run no entry point"     0 ""                  "" -- run "$w/arith.wasm"

# traps: exit 6, message and a backtrace with names from the name section
check "trap message"           6 ""  "~integer divide by zero" -- run --invoke entry "$w/trap.wasm" 0
check "trap backtrace inner"   6 ""  "~innermost"              -- run --invoke entry "$w/trap.wasm" 0
check "trap backtrace outer"   6 ""  "~middle"                 -- run --invoke entry "$w/trap.wasm" 0
check "trap no trap"           0 "1" ""                        -- run --invoke entry "$w/trap.wasm" 1
check "trap unreachable"       6 ""  "~unreachable"            -- run --invoke boom "$w/trap.wasm"
check "trap stack exhausted"   6 ""  "~call stack exhausted"   -- run --invoke recurse "$w/trap.wasm" 0
check "trap in start function" 6 ""  "~unreachable"            -- run "$w/start-trap.wasm"
check "proc_exit in start"     9 ""  ""                        -- run "$w/start-exit.wasm"

# link errors: exit 5
check "unknown env import"     5 ""  '~unknown import ("env" "host_log")' -- run "$w/env-import.wasm"
check "wasi 0.2 import"        5 ""  "~needs WASI 0.2"   -- run "$w/preview2.wasm"
check "wasi 0.2 import named"  5 ""  "~wasi:cli/environment@0.2.0" -- run "$w/preview2.wasm"
check "missing export"         5 ""  "~no exported function \"nope\""    -- run --invoke nope "$w/arith.wasm"

# WASI commands: the exit status is the guest's
c=$work/c
check "wasi proc_exit code"    7 "hello from wat"    "" -- run "$w/wasi.wasm"
check "wasi reactor invoke"    0 "41"                "" -- run --invoke answer "$w/reactor.wasm"
check "wasi hello"             0 "hello, wasi"       "" -- run "$c/hello.wasm"
check "wasi exit code"         42 ""                 "" -- run "$c/exit_code.wasm" 42
check "wasi exit 0 from main"  0 ""                  "" -- run "$c/exit_code.wasm"
check "wasi argv0 is file name" 0 "~argv[0]=args_env.wasm" "" -- run "$c/args_env.wasm"
check "wasi --argv0"           0 "~argv[0]=clang++"  "" -- run --argv0 clang++ "$c/args_env.wasm"
check "wasi guest options"     0 "~argv[1]=--env${nl}argv[2]=-x${nl}argv[3]=--${nl}argv[4]=--dir" "" \
                                                        -- run "$c/args_env.wasm" --env -x -- --dir
check "wasi argc"              0 "~argc=3"           "" -- run "$c/args_env.wasm" "a b" ""
check "wasi no host env"       0 "~HOME=(unset)"     "" -- run "$c/args_env.wasm"
check "wasi --env NAME=VALUE"  0 "~env GREETING=a=b c" "" -- run --env "GREETING=a=b c" "$c/args_env.wasm"
check "wasi --env NAME inherits" 0 "~HOME=$HOME"     "" -- run --env HOME "$c/args_env.wasm"
check "wasi --env unset NAME"  0 "~argc=1${nl}argv[0]=args_env.wasm${nl}HOME=(unset)" "" \
                                                        -- run --env SKIFF_SURELY_UNSET_VARIABLE "$c/args_env.wasm"
check "wasi bad --env"         2 ""  "~expected NAME=VALUE" -- run --env =x "$c/args_env.wasm"
printf 'piped in\n' >"$work/stdin.txt"
check_stdin=$work/stdin.txt
check "wasi stdin"             0 "PIPED IN"          "" -- run "$c/stdin_upper.wasm"
unset check_stdin
check "wasi trap exit code"    6 "about to abort"    "~wasm trap: unreachable" -- run "$c/abort.wasm"
check "wasi trap backtrace"    6 "about to abort"    "~at give_up"             -- run "$c/abort.wasm"
check "wasi trap backtrace outer" 6 "about to abort" "~at _start"              -- run "$c/abort.wasm"

# preopens: --dir HOST[::GUEST], --dir-ro; nothing else is reachable
mkdir -p "$work/ro" "$work/rw"
printf 'kept\n' >"$work/ro/data.txt"
printf 'kept\n' >"$work/rw/data.txt"
check "wasi --dir-ro holds"    0 "~read-only holds"  "" -- run --dir-ro "$work/ro::/ro" "$c/readonly.wasm"
check "wasi --dir writable"    1 "~WRITABLE"         "" -- run --dir "$work/rw::/ro" "$c/readonly.wasm"
[ "$(cat "$work/ro/data.txt")" = kept ] && passed=$((passed + 1)) && echo "ok   wasi --dir-ro left host file untouched" ||
  { failed=$((failed + 1)); echo "FAIL wasi --dir-ro changed $work/ro/data.txt"; }
check "wasi no preopen"        2 "~read failed"  ""  -- run "$c/readonly.wasm"
check "wasi missing --dir"     3 ""  "~$work/nope"     -- run --dir "$work/nope" "$c/hello.wasm"
mkdir -p "$work/cwd/sub" && printf 'one two\nthree\n' >"$work/cwd/sub/words.txt"
(cd "$work/cwd" && check "wasi --dir . (relative paths)" 0 "~14  sub/words.txt" "" \
  -- run --dir . "$c/wordcount.wasm" sub/words.txt; echo "$passed $failed" >"$work/counts")
read -r passed failed <"$work/counts"
check "wasi --dir HOST::GUEST" 0 "~/data/words.txt"  "" -- run --dir "$work/cwd/sub::/data" "$c/wordcount.wasm" /data/words.txt
check "wasi path outside preopen" 1 ""  "~Capabilities insufficient" -- run --dir "$work/cwd/sub::/data" "$c/wordcount.wasm" /data/../../ro/data.txt

# validate
check "validate ok"            0 "ok" ""                         -- validate "$w/arith.wasm"
check "validate invalid"       4 ""   "~type mismatch"           -- validate "$w/invalid.wasm"
check "validate invalid offset" 4 ""  "~offset 0x"               -- validate "$w/invalid.wasm"
check "validate bad magic"     4 ""   "~magic header not detected" -- validate "$w/bad-magic.wasm"
check "validate bad magic offset" 4 "" "~offset 0x0"             -- validate "$w/bad-magic.wasm"
check "validate truncated"     4 ""   "~offset 0x"               -- validate "$w/truncated.wasm"
check "run invalid module"     4 ""   "~type mismatch"           -- run "$w/invalid.wasm"

# inspect
check "inspect exports"        0 "~func   add (index 0): (i32, i32) -> (i32)" "" -- inspect "$w/arith.wasm"
check "inspect multi-value"    0 "~swap (index 4): (i32, i64) -> (i64, i32)"  "" -- inspect "$w/arith.wasm"
check "inspect memory export"  0 "~memory mem"                   "" -- inspect "$w/arith.wasm"
check "inspect global export"  0 "~global answer"                "" -- inspect "$w/arith.wasm"
check "inspect sections"       0 "~code"                         "" -- inspect "$w/arith.wasm"
check "inspect name section"   0 "~custom \"name\""              "" -- inspect "$w/trap.wasm"
check "inspect function count" 0 "~functions: 6 (0 imported, 6 defined)" "" -- inspect "$w/arith.wasm"
check "inspect imports"        0 "~func   wasi_snapshot_preview1::fd_write" "" -- inspect "$w/wasi.wasm"
check "inspect imported count" 0 "~functions: 3 (2 imported, 1 defined)" "" -- inspect "$w/wasi.wasm"

# tier 2 ahead of time (.skc) and the compile cache. SKIFF_LLVM_LIB=/nonexistent
# proves a run needs no LLVM: loading the compiler would fail.
export SKIFF_CACHE_DIR="$work/cache"
nollvm=/nonexistent/libskiff_llvm.so
check "compile"                0 ""   "" -- compile "$w/arith.wasm" -o "$w/arith.skc"
check "compile default output" 0 ""   "" -- compile "$w/trap.wasm"
[ -f "$w/trap.skc" ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL compile default output: no trap.skc"; }
SKIFF_LLVM_LIB=$nollvm check "run .skc without LLVM" 0 "5" "" -- run --invoke add "$w/arith.skc" 2 3
check "run .skc multi-value"   0 "9${nl}-4" "" -- run --invoke swap "$w/arith.skc" -4 9
check "run .skc trap"          6 ""  "~integer divide by zero" -- run --invoke entry "$w/trap.skc" 0
check "run .skc backtrace"     6 ""  "~middle"                 -- run --invoke entry "$w/trap.skc" 0
check "run .skc stack exhausted" 6 "" "~call stack exhausted"  -- run --invoke recurse "$w/trap.skc" 0
check "compile wasi"           0 ""  "" -- compile "$c/hello.wasm" -o "$w/hello.skc"
SKIFF_LLVM_LIB=$nollvm check "run wasi .skc" 0 "hello, wasi" "" -- run "$w/hello.skc"
check "compile invalid"        4 ""  "~type mismatch" -- compile "$w/invalid.wasm" -o "$w/invalid.skc"
check "compile missing file"   3 ""  "~cannot read"   -- compile "$w/does-not-exist.wasm"
# Damage anywhere is caught by the checksum; a cut file too.
cp "$w/arith.skc" "$w/corrupt.skc"
printf '\x5a' | dd of="$w/corrupt.skc" bs=1 seek=$(( $(stat -c %s "$w/arith.skc") / 2 )) conv=notrunc status=none
check "corrupt .skc rejected"  4 ""  "~checksum mismatch" -- run --invoke add "$w/corrupt.skc" 2 3
head -c 60 "$w/arith.skc" >"$w/cut.skc"
check "truncated .skc rejected" 4 "" "~not a usable .skc file" -- run --invoke add "$w/cut.skc" 2 3
check "jit fills the cache"    0 "5" "" -- run --tier=jit --invoke add "$w/arith.wasm" 2 3
n=$(find "$work/cache" -name '*.skc' | wc -l)
[ "$n" -eq 1 ] && { passed=$((passed + 1)); echo "ok   cache holds one entry"; } ||
  { failed=$((failed + 1)); echo "FAIL cache holds one entry: $n"; }
SKIFF_LLVM_LIB=$nollvm check "jit from the cache" 0 "5" "" -- run --tier=jit --invoke add "$w/arith.wasm" 2 3
# A damaged entry is ignored and replaced.
for f in "$work"/cache/*.skc; do printf '\x5a' | dd of="$f" bs=1 seek=100 conv=notrunc status=none; done
check "damaged cache entry recompiled" 0 "5" "" -- run --tier=jit --invoke add "$w/arith.wasm" 2 3
SKIFF_LLVM_LIB=$nollvm check "replaced cache entry" 0 "5" "" -- run --tier=jit --invoke add "$w/arith.wasm" 2 3
SKIFF_CACHE_DIR="$work/cache2" check "--no-cache" 0 "5" "" -- run --no-cache --tier=jit --invoke add "$w/arith.wasm" 2 3
[ ! -e "$work/cache2" ] && { passed=$((passed + 1)); echo "ok   --no-cache writes nothing"; } ||
  { failed=$((failed + 1)); echo "FAIL --no-cache wrote $work/cache2"; }
SKIFF_LLVM_LIB=$nollvm check "jit without LLVM" 2 "" "~tier 2 (LLVM) is unavailable" -- run --no-cache --tier=jit --invoke add "$w/arith.wasm" 2 3

# ---- tier-up: --tier=auto (the default) starts interpreted and moves hot
# functions to machine code mid-run, with the interpreter's output and traps.
# SKIFF_TIERUP_THRESHOLD=100 makes fib and check hot within microseconds;
# sum_until, called once, turns hot in its loop: the first batch compiles
# check and that loop, and its frame continues in machine code (on-stack
# replacement); the trap keeps the interpreter's message and backtrace.
tu=$w/tierup.wasm
fib_out=$("$skiff" run --tier=interp --invoke fib "$tu" 30)
sum_out=$("$skiff" run --tier=interp --invoke sum_until "$tu" 30000000 40000000)
trap_err=$("$skiff" run --tier=interp --invoke sum_until "$tu" 30000000 20000000 2>&1 >/dev/null)
export SKIFF_TIERUP_THRESHOLD=100
check "auto is the default tier"  0 "~auto (default"  "" -- run --help
check "auto fib as interp"        0 "$fib_out" ""           -- run --no-cache --invoke fib "$tu" 30
check "auto loop as interp"       0 "$sum_out" ""           -- run --no-cache --tier=auto --invoke sum_until "$tu" 30000000 40000000
check "auto trap as interp"       6 ""         "$trap_err"  -- run --no-cache --tier=auto --invoke sum_until "$tu" 30000000 20000000
# Both usually land in the first batch; on a loaded machine the loop's report
# can miss it and come in the next one.
err=$(SKIFF_TIERUP_LOG=1 "$skiff" run --no-cache --invoke sum_until "$tu" 30000000 40000000 2>&1 >/dev/null)
if grep -q "ms\] compiled 1 function (check) and 1 loop (of sum_until)" <<<"$err" ||
   { grep -q "ms\] compiled 1 function in .* ms (check)" <<<"$err" && grep -q "ms\] compiled 1 loop (of sum_until) in" <<<"$err"; }; then
  passed=$((passed + 1)); echo "ok   auto logs its batches"
else
  failed=$((failed + 1)); echo "FAIL auto logs its batches: $err"
fi
check "auto on a WASI program"    0 "hello, wasi" ""        -- run --no-cache "$c/hello.wasm"
# osr.wat: three functions, each called once and spending its time in one
# loop (long enough that the first batch, which loads LLVM, lands in time),
# continue in machine code from that loop's header.
osr_out=$("$skiff" run --tier=interp --invoke all "$w/osr.wasm" 40000000)
check "auto loops as interp"      0 "$osr_out" ""           -- run --no-cache --invoke all "$w/osr.wasm" 40000000
err=$(SKIFF_TIERUP_LOG=1 "$skiff" run --no-cache --invoke all "$w/osr.wasm" 40000000 2>&1 >/dev/null)
n=$(grep -c "continues in machine code" <<<"$err")
[ "$n" -eq 3 ] && { passed=$((passed + 1)); echo "ok   auto replaces 3 running loops"; } ||
  { failed=$((failed + 1)); echo "FAIL auto replaces 3 running loops: $n: $err"; }
# Without libskiff_llvm.so auto keeps interpreting; the log says why, once.
SKIFF_LLVM_LIB=$nollvm check "auto without LLVM" 0 "$fib_out" "" -- run --no-cache --invoke fib "$tu" 30
err=$(SKIFF_LLVM_LIB=$nollvm SKIFF_TIERUP_LOG=1 "$skiff" run --no-cache --invoke fib "$tu" 30 2>&1 >/dev/null)
n=$(grep -c "tier 2 (LLVM) is unavailable" <<<"$err")
[ "$n" -eq 1 ] && { passed=$((passed + 1)); echo "ok   auto without LLVM logs once"; } ||
  { failed=$((failed + 1)); echo "FAIL auto without LLVM logs once: $n times: $err"; }
# Without LLVM, a function hot at its calls still runs tier 1's code.
err=$(SKIFF_LLVM_LIB=$nollvm SKIFF_TIERUP_LOG=1 "$skiff" run --no-cache --invoke fib "$tu" 30 2>&1 >/dev/null)
n=$(grep -c "tier 1 compiled" <<<"$err")
[ "$n" -eq 1 ] && { passed=$((passed + 1)); echo "ok   auto without LLVM runs tier 1"; } ||
  { failed=$((failed + 1)); echo "FAIL auto without LLVM runs tier 1: $n times: $err"; }
# --tier=baseline: tier 1 compiles every function first, no LLVM needed.
SKIFF_LLVM_LIB=$nollvm check "baseline fib as interp"  0 "$fib_out" ""          -- run --tier=baseline --invoke fib "$tu" 30
SKIFF_LLVM_LIB=$nollvm check "baseline loop as interp" 0 "$sum_out" ""          -- run --tier=baseline --invoke sum_until "$tu" 30000000 40000000
SKIFF_LLVM_LIB=$nollvm check "baseline trap as interp" 6 ""         "$trap_err" -- run --tier=baseline --invoke sum_until "$tu" 30000000 20000000
SKIFF_LLVM_LIB=$nollvm check "baseline WASI program"   0 "hello, wasi" ""       -- run --tier=baseline "$c/hello.wasm"
# On CPUs with the JCC erratum tier 1 keeps jumps off 32-byte boundaries
# (base/cpu.h); SKIFF_JUMP_PADDING forces the choice. The same code unpadded
# has such jumps, so the check can fail.
for pad in 1 0; do
  SKIFF_JUMP_PADDING=$pad SKIFF_BASELINE_DUMP="$work/tier1-pad$pad.o" "$skiff" run --tier=baseline "$c/hello.wasm" >/dev/null
done
padded=$(python3 "$here/jump_padding.py" "$work/tier1-pad1.o" | head -1)
unpadded=$(python3 "$here/jump_padding.py" "$work/tier1-pad0.o" | head -1)
[[ $padded == "0 of "* && $unpadded != "0 of "* && $unpadded == *" jumps touch a boundary" ]] &&
  { passed=$((passed + 1)); echo "ok   tier 1 pads jumps off 32-byte boundaries"; } ||
  { failed=$((failed + 1)); echo "FAIL tier 1 pads jumps off 32-byte boundaries: padded: $padded; unpadded: $unpadded"; }
# A module that turns hot is also compiled whole in the background into
# the cache, a second after its first batch (the ~2 s of sum_until leave
# time for that): the next run starts with machine code and tiers nothing up.
cache_auto="$work/cache-auto"
SKIFF_CACHE_DIR=$cache_auto "$skiff" run --invoke sum_until "$tu" 1000000000 1000000100 >/dev/null
n=$(find "$cache_auto" -name '*.skc' 2>/dev/null | wc -l)
[ "$n" -eq 1 ] && { passed=$((passed + 1)); echo "ok   auto writes the hot module to the cache"; } ||
  { failed=$((failed + 1)); echo "FAIL auto writes the hot module to the cache: $n entries"; }
SKIFF_CACHE_DIR=$cache_auto SKIFF_TIERUP_LOG=1 check "auto starts from the cache" 0 "$sum_out" "" \
                                                            -- run --invoke sum_until "$tu" 30000000 40000000
# A run too short for that still leaves its tier-up batches in the cache,
# and the next run starts with them.
cache_batches="$work/cache-batches"
SKIFF_CACHE_DIR=$cache_batches "$skiff" run --invoke sum_until "$tu" 30000000 40000000 >/dev/null
n=$(find "$cache_batches" -name '*.tierup' 2>/dev/null | wc -l)
[ "$n" -eq 1 ] && { passed=$((passed + 1)); echo "ok   auto writes its batches to the cache"; } ||
  { failed=$((failed + 1)); echo "FAIL auto writes its batches to the cache: $n entries"; }
SKIFF_CACHE_DIR=$cache_batches SKIFF_TIERUP_LOG=1 check "auto starts with its cached batches" 0 "$sum_out" \
  "~1 function and 1 loop from the cache" -- run --invoke sum_until "$tu" 30000000 40000000
SKIFF_TIERUP_THRESHOLD=x check "bad SKIFF_TIERUP_THRESHOLD" 0 "$fib_out" "~ignoring SKIFF_TIERUP_THRESHOLD" \
                                                            -- run --invoke fib "$tu" 30
unset SKIFF_TIERUP_THRESHOLD
# ---- end tier-up

# usage and I/O errors
check "missing file"           3 ""  "~cannot read"        -- run "$w/does-not-exist.wasm"
check "validate missing file"  3 ""  "~cannot read"        -- validate "$w/does-not-exist.wasm"
check "no command"             2 ""  "~skiff: error:"      --
check "unknown option"         2 ""  "~skiff: error:"      -- run --bogus "$w/arith.wasm"
check "missing file argument"  2 ""  "~skiff: error:"      -- validate
check "too few arguments"      2 ""  "~takes 2 argument"   -- run --invoke add "$w/arith.wasm" 1
check "bad integer"            2 ""  "~not a valid i32"    -- run --invoke add "$w/arith.wasm" 1 x
check "i32 out of range"       2 ""  "~not a valid i32"    -- run --invoke add "$w/arith.wasm" 1 4294967296
check "help"                   0 "~validate"   "" -- --help
check "version"                0 "~skiff 0."   "" -- --version

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

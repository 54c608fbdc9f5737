#!/usr/bin/env bash
# Differential test of tier 0 against tier 2: random modules from binaryen's
# translate-to-fuzz plus every module of the spec testsuite, each run on both
# tiers by skiff_diff, which fails on any difference.
#
#   run-diff.sh SKIFF_DIFF TESTSUITE_DIR OUT_DIR [--fuzz=N] [--seed=S] [--no-spec] [SKIFF_DIFF OPTIONS...]
#
# Defaults: 300 fuzz seeds starting at 1, the reproducers in tests/diff/repro,
# and every .wast of TESTSUITE_DIR (simd/ included), converted with wast2json
# into OUT_DIR/spec-json (reused while newer than its .wast). Generated
# modules stay in OUT_DIR/fuzz so a difference can be replayed:
# `skiff_diff OUT_DIR/fuzz/fuzz-N.wasm` (see tests/diff/README.md).
# Unless --fuel=N is given, a second pass runs the random modules and the
# reproducers without fuel (tier 2 code without interrupt checks).
set -uo pipefail

usage() {
  echo "usage: $0 SKIFF_DIFF TESTSUITE_DIR OUT_DIR [--fuzz=N] [--seed=S] [--no-spec] [SKIFF_DIFF OPTIONS...]" >&2
  exit 2
}
[ $# -ge 3 ] || usage
driver=$1 suite=$2 out=$3
shift 3

fuzz=300
with_spec=1
driver_flags=()
for arg in "$@"; do
  case $arg in
    --fuzz=*) fuzz=${arg#--fuzz=} ;;
    --no-spec) with_spec=0 ;;
    --*) driver_flags+=("$arg") ;;
    *) echo "run-diff: unexpected argument $arg" >&2; usage ;;
  esac
done

[ -x "$driver" ] || { echo "run-diff: driver $driver is not executable" >&2; exit 2; }
if [ "$fuzz" != 0 ]; then
  command -v wasm-opt >/dev/null || { echo "run-diff: wasm-opt not found (apt-get install binaryen)" >&2; exit 2; }
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

jsons=()
if [ $with_spec = 1 ]; then
  command -v wast2json >/dev/null || { echo "run-diff: wast2json not found (apt-get install wabt)" >&2; exit 2; }
  [ -d "$suite" ] || { echo "run-diff: testsuite dir $suite not found" >&2; exit 2; }
  spec_out=$out/spec-json
  failed=0
  while IFS= read -r wast; do
    json=$spec_out/${wast%.wast}.json
    if ! [ "$json" -nt "$suite/$wast" ]; then
      mkdir -p "$(dirname "$json")"
      err=$spec_out/${wast%.wast}.stderr
      # As in tests/spec/run-spec.sh: converted only with exit 0 and an empty stderr.
      if (cd "$suite" && wast2json "$wast" -o "$json" 2>"$err") && [ ! -s "$err" ]; then
        rm -f "$err"
      else
        rm -f "$json"
        echo "run-diff: wast2json failed for $wast: $(head -c 300 "$err")" >&2
        failed=$((failed + 1))
        continue
      fi
    fi
    jsons+=("$json")
  done < <(cd "$suite" && find . -name '*.wast' | sed 's|^\./||' | LC_ALL=C sort)
  # A file that cannot be converted is a file not compared: that fails the run.
  [ $failed -eq 0 ] || { echo "run-diff: $failed spec file(s) not converted" >&2; exit 1; }
fi

fuzz_flags=()
[ "$fuzz" != 0 ] && fuzz_flags=(--fuzz="$fuzz" --work-dir="$out/fuzz")
# Reduced reproducers of differences found so far: they stay in the run as
# regression tests once the engine agrees on them. Also modules aimed at
# one tier's code paths.
here=$(cd "$(dirname "$0")" && pwd)
repros=("$here"/repro/*.wat)
[ -e "${repros[0]}" ] || repros=()
# Tier 2 bounds recursion by the native stack, not max_call_depth
# (docs/architecture.md, Tier 2): the tiers stop deep recursion at different
# depths by design. Such differences are counted and shown, not failed.
"$driver" --allow-stack-depth "${fuzz_flags[@]}" "${driver_flags[@]}" "${repros[@]}" "${jsons[@]}"
status=$?
# Again without fuel, the random modules and reproducers only (they end by
# themselves): tier 2 code then has no interrupt checks, as `skiff run`
# compiles it, and its bounds-versioned loops run (they take no checks).
case " ${driver_flags[*]} " in *" --fuel="*) exit $status ;; esac
echo "== again without fuel (tier 2 code without interrupt checks): random modules and reproducers"
"$driver" --allow-stack-depth --fuel=0 "${fuzz_flags[@]}" "${driver_flags[@]}" "${repros[@]}"
second=$?
[ $status -ne 0 ] && exit $status
exit $second

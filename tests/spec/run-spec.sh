#!/usr/bin/env bash
# Converts the spec testsuite's .wast files with wast2json and runs them all
# through skiff_spec in one invocation.
#
#   run-spec.sh SKIFF_SPEC TESTSUITE_DIR OUT_DIR [--tier=T] [--verbose] [FILES...]
#
# FILES are .wast paths relative to TESTSUITE_DIR (".wast" optional), e.g.
# `i32` or `simd/simd_lane.wast`; default: every .wast, simd/ included.
# A file counts as converted only when wast2json exits 0 with empty stderr
# (wast2json 1.0.32 exits 0 on validation errors). The JSON is reused while
# it is newer than its .wast.
set -uo pipefail

usage() {
  echo "usage: $0 SKIFF_SPEC TESTSUITE_DIR OUT_DIR [--tier=T] [--verbose] [FILES...]" >&2
  exit 2
}
[ $# -ge 3 ] || usage
runner=$1 suite=$2 out=$3
shift 3

runner_flags=()
selected=()
for arg in "$@"; do
  case $arg in
    --tier=*|--verbose|-v|--no-fork|--max-details=*|--timeout=*|--max-left-out=*) runner_flags+=("$arg") ;;
    -*) echo "run-spec: unknown option $arg" >&2; usage ;;
    *) selected+=("$arg") ;;
  esac
done

command -v wast2json >/dev/null || { echo "run-spec: wast2json not found (apt-get install wabt)" >&2; exit 2; }
[ -x "$runner" ] || { echo "run-spec: runner $runner is not executable" >&2; exit 2; }
[ -d "$suite" ] || { echo "run-spec: testsuite dir $suite not found" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
runner=$(cd "$(dirname "$runner")" && pwd)/$(basename "$runner")
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$suite" || exit 2

if [ ${#selected[@]} -eq 0 ]; then
  mapfile -t wasts < <(find . -name '*.wast' | sed 's|^\./||' | LC_ALL=C sort)
else
  wasts=()
  for f in "${selected[@]}"; do
    f=${f#./}
    [[ $f == *.wast ]] || f=$f.wast
    [ -f "$f" ] || { echo "run-spec: no such test file $suite/$f" >&2; exit 2; }
    wasts+=("$f")
  done
fi

jsons=()
not_converted=$out/not-converted.txt
: >"$not_converted"
converted=0
for wast in "${wasts[@]}"; do
  json=$out/${wast%.wast}.json
  if [ "$json" -nt "$wast" ]; then
    jsons+=("$json")
    continue
  fi
  # Each .wast gets its own directory: wast2json names the modules it writes
  # after the JSON, and different folders can hold equal basenames.
  mkdir -p "$(dirname "$json")"
  err=$out/${wast%.wast}.stderr
  if wast2json "$wast" -o "$json" 2>"$err" && [ ! -s "$err" ]; then
    rm -f "$err"
    jsons+=("$json")
    converted=$((converted + 1))
  else
    rm -f "$json"
    echo "run-spec: wast2json failed for $wast: $(head -c 300 "$err")" >&2
    echo "$wast" >>"$not_converted"
  fi
done
[ $converted -gt 0 ] && echo "run-spec: converted $converted file(s) into $out"

exec "$runner" "${runner_flags[@]}" --skip-list="$here/skip-list.txt" --not-converted="$not_converted" "${jsons[@]}"

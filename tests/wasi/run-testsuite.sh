#!/usr/bin/env bash
# Runs the official WASI preview 1 testsuite through the real command,
# `skiff run`, with each test's .json expectations (args, env, root, exit_code,
# stdout, stderr), and ends with "N passed, N failed, N skipped".
#   run-testsuite.sh SKIFF [SUITE_DIR]     SUITE_DIR defaults to ../shared/wasi-testsuite
#   SKIFF_WASI_STRICT_ERRNO=1  the Rust tests expect Linux errnos exactly (ERRNO_MODE_UNIX)
#   SKIFF_WASI_FILTER=TEXT     run only the tests whose id (e.g. rust/renumber) contains TEXT
# Tests listed in testsuite-skip.txt (id, then the reason) are counted as skipped.
set -uo pipefail

skiff=${1:?usage: run-testsuite.sh SKIFF [SUITE_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
suite=${2:-$here/../../../shared/wasi-testsuite}
[ -x "$skiff" ] || { echo "run-testsuite: $skiff is not executable" >&2; exit 2; }
skiff=$(cd "$(dirname "$skiff")" && pwd)/$(basename "$skiff")
[ -d "$suite/tests" ] || { echo "run-testsuite: no testsuite at $suite" >&2; exit 2; }
suite=$(cd "$suite" && pwd)  # each test runs in its own directory
command -v jq >/dev/null || { echo "run-testsuite: jq not found (apt-get install jq)" >&2; exit 2; }

declare -A skip_reason=()
while read -r id reason; do
  [[ -z $id || $id == \#* ]] && continue
  skip_reason[$id]=$reason
done <"$here/testsuite-skip.txt"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo '{}' >"$work/defaults.json"

passed=0 failed=0 skipped=0
shopt -s nullglob
for wasm in "$suite"/tests/*/testsuite/wasm32-wasip1/*.wasm; do
  dir=$(dirname "$wasm")
  lang=$(basename "$(dirname "$(dirname "$dir")")")
  name=$(basename "$wasm" .wasm)
  id=$lang/$name
  [[ -n ${SKIFF_WASI_FILTER:-} && $id != *"$SKIFF_WASI_FILTER"* ]] && continue
  json=$dir/$name.json
  [ -f "$json" ] || json=$work/defaults.json  # no .json: every field has its default

  # The guest's command line, NUL-separated so values may hold newlines and quotes.
  opts=()
  while IFS= read -r -d '' kv; do opts+=(--env "$kv"); done < <(jq -j '(.env // {}) | to_entries[] | "\(.key)=\(.value)\u0000"' "$json")
  [[ -n ${SKIFF_WASI_STRICT_ERRNO:-} && $lang == rust ]] && opts+=(--env ERRNO_MODE_UNIX=1)
  root=$(jq -r '.root // empty' "$json")
  case_dir=$work/case
  rm -rf "$case_dir" && mkdir -p "$case_dir"
  if [ -n "$root" ]; then
    # A fresh copy per test: tests write scratch files and must not see each other's.
    cp -a "$dir/$root" "$case_dir/root"
    opts+=(--dir "$case_dir/root::/")
  fi
  guest_args=()
  while IFS= read -r -d '' a; do guest_args+=("$a"); done < <(jq -j '(.args // [])[] | . + "\u0000"' "$json")
  want_exit=$(jq -r '.exit_code // 0' "$json")

  # stdin is an empty pipe, closed at once, as upstream's runner gives it.
  (cd "$case_dir" && true | timeout 60 "$skiff" run "${opts[@]}" "$wasm" "${guest_args[@]}" \
     >"$work/stdout" 2>"$work/stderr")
  code=$?

  why=""
  if [ "$code" -ne "$want_exit" ]; then
    why="exit $code, want $want_exit"
  else
    for stream in stdout stderr; do
      jq -e "has(\"$stream\")" "$json" >/dev/null || continue
      jq -j ".$stream" "$json" >"$work/want"
      # Upstream reads as many bytes as expected: a prefix match.
      head -c "$(wc -c <"$work/want")" "$work/$stream" | cmp -s - "$work/want" || why="$stream differs"
    done
  fi

  if [ -n "${skip_reason[$id]+set}" ]; then
    if [ -z "$why" ]; then
      echo "FAIL $id passes now: drop it from testsuite-skip.txt"
      failed=$((failed + 1))
    else
      echo "skip $id: ${skip_reason[$id]}"
      skipped=$((skipped + 1))
    fi
  elif [ -z "$why" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $id: $why"
    echo "     stdout: $(head -c 600 "$work/stdout")"
    echo "     stderr: $(head -c 600 "$work/stderr")"
  fi
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ $((passed + skipped)) -gt 0 ]

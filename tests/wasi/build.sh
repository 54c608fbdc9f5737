#!/bin/sh
# Compiles every C test program here to OUT_DIR/NAME.wasm with Debian's
# clang + wasi-libc. Exit status 77 when the toolchain is missing.
set -e
src_dir=$(cd "$(dirname "$0")" && pwd)
out_dir=${1:?usage: build.sh OUT_DIR}
mkdir -p "$out_dir"
if ! echo 'int main(void){return 0;}' | clang --target=wasm32-wasi -x c -o "$out_dir/.probe.wasm" - 2>/dev/null; then
  echo "clang --target=wasm32-wasi does not work (apt-get install clang wasi-libc libclang-rt-14-dev-wasm32)" >&2
  exit 77
fi
for c in "$src_dir"/*.c; do
  name=$(basename "$c" .c)
  if [ ! -f "$out_dir/$name.wasm" ] || [ "$c" -nt "$out_dir/$name.wasm" ]; then
    # Compile and link apart: clang runs binaryen's wasm-opt (which drops the
    # name section the backtrace tests read) when it links with -O.
    clang --target=wasm32-wasi -O2 -c -o "$out_dir/$name.o" "$c"
    clang --target=wasm32-wasi -o "$out_dir/$name.wasm" "$out_dir/$name.o"
  fi
done

#!/usr/bin/env bash
# Installs every Debian package Skiff's build and tests need. Idempotent:
# does nothing when all are present. Uses sudo only when not root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libgtest-dev nlohmann-json3-dev libcli11-dev
  wabt            # wast2json for the spec testsuite
  binaryen        # wasm-opt --translate-to-fuzz: random modules for the tier differential test
  jq              # reads the wasi-testsuite's .json expectations
  clang lld wasi-libc libclang-rt-dev-wasm32  # C test programs -> wasm32-wasi
  python3         # bench/run, tests/cli/jump_padding.py
  binutils        # objdump, for tests/cli/jump_padding.py
  llvm-19-dev     # tier 2 (--tier=jit): libskiff_llvm.so links LLVM 19's static libraries
  zlib1g-dev libzstd-dev  # ... which need these
  libxbyak-dev    # tier 1 (--tier=baseline): Xbyak, a header-only x86-64 assembler
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

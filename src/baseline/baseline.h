// Tier 1: a single-pass compiler from validated wasm to x86-64 machine code,
// part of the engine (no LLVM). It compiles in one decode of each body, with
// every value in its tier-0 home slot on the native frame, so it starts in
// microseconds where LLVM takes tens of milliseconds; the code is slower
// than tier 2's. Its output follows tier 2's conventions (llvm/abi.h: the
// same entries, calling convention, frame pointers, traps and guard-page
// accesses) as one ELF object, installed by llvmjit::install, so the
// runtime, backtraces and tier-2 code treat it as any compiled code.
// Opcodes not expanded inline call the interpreter's ops (fallback_ops.h);
// a function using something it does not handle yet is left out and stays
// interpreted.
#pragma once
#include <cstdint>
#include <vector>

#include "llvm/jit.h"
#include "skiff/result.h"
#include "wasm/module.h"

namespace skiff::baseline {

struct Compiled {
  llvmjit::CompiledCode code;       // one ELF object (no object when nothing compiled)
  std::vector<uint32_t> functions;  // the function indices it compiled
};

// Compiles those of the defined functions `funcs` (all when empty) it
// supports. `interruptible`: fuel and epoch checks at entries and loop
// back-edges when the store asks for them (abi.h). Without `fallback_ops`,
// functions that would call the interpreter's ops (SIMD, mostly) are left
// out too: tier 0 runs those ops inline, faster than a call each.
Result<Compiled> compile(const wasm::Module& module, const std::vector<uint32_t>& funcs, bool interruptible,
                         bool fallback_ops = true);

// Functions compiled and left out (interpreted) by every compile() of the
// process so far, for tests and logs.
struct Stats {
  uint64_t compiled = 0;
  uint64_t left_out = 0;
};
Stats stats();

// Whether this machine runs its code (x86-64 with SSE4.1, POPCNT, LZCNT
// and BMI1).
bool host_supported();

}  // namespace skiff::baseline

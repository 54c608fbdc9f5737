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
#include <atomic>
#include <cstdint>
#include <vector>

#include "llvm/jit.h"
#include "skiff/result.h"
#include "wasm/module.h"

namespace skiff::baseline {

struct Options {
  // Fuel and epoch checks at entries and loop back-edges when the store
  // asks for them (abi.h).
  bool interruptible = true;
  // Without it, functions that would call the interpreter's ops (the SIMD
  // ops tier 1 lacks, float min/max, truncations) are left out too: tier 0
  // runs those ops inline, faster than a call each.
  bool fallback_ops = true;
  // Tier::Auto's on-stack replacement, both ways at loop headers: an entry
  // per loop (skiff_osr_N_L, abi.h) for a frame tier 0 hands over, and a
  // flag per loop (Compiled::loops) that, once set, sends a frame passing
  // the header to tier 2's code for the loop (skiff_rt_loop_exit).
  bool loop_transfers = false;
};

// A compiled function's loops, with loop_transfers.
struct FunctionLoops {
  uint32_t func_index = 0;
  std::vector<uint32_t> offsets;               // of each `loop` instruction, in code order
  std::atomic<uint8_t>* exit_flags = nullptr;  // one per loop, zero; owned by code.data
};

struct Compiled {
  llvmjit::CompiledCode code;       // one ELF object (no object when nothing compiled)
  std::vector<uint32_t> functions;  // the function indices it compiled
  std::vector<FunctionLoops> loops;
};

// Compiles those of the defined functions `funcs` (all when empty) it
// supports.
Result<Compiled> compile(const wasm::Module& module, const std::vector<uint32_t>& funcs, const Options& options);

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

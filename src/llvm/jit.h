// Tier 2, engine side: loads libskiff_llvm.so on demand, compiles whole
// modules with it, and runs compiled functions (see abi.h for the machine
// code conventions).
#pragma once
#include <functional>
#include <utility>
#include <string>
#include <vector>

#include "runtime/objects.h"
#include "skiff/result.h"

namespace skiff::llvmjit {

// Reports compile progress (functions done of total), from compile threads.
using ProgressFn = std::function<void(uint32_t done, uint32_t total)>;

// Machine code for some functions of a module: ELF objects as the compiler
// emitted them, and the target they were compiled for (triple, CPU, features).
struct CompiledCode {
  std::vector<std::string> objects;
  std::string target;
  bool interruptible = true;  // fuel and epoch checks compiled in (abi.h)
  uint32_t versioned_loops = 0;  // loops given an in-bounds copy (diagnosis, tests)
  bool baseline = false;         // tier 1's code (src/baseline), not LLVM's
  // Memory the code addresses directly (tier 1's loop flags), kept with it.
  std::shared_ptr<void> data;
};

// One tier-up batch's machine code, kept so that a later run can install it
// without compiling (the on-disk cache, tierup.h): the defined functions it
// gave code to and, for a batch compiled from a module copy, the loops
// whose on-stack-replacement functions the copy appended, in that order.
struct TierUpBatch {
  std::vector<uint32_t> functions;                   // defined indices
  std::vector<std::pair<uint32_t, uint32_t>> loops;  // (defined index, loop's byte offset)
  CompiledCode code;
};

struct CompileOptions {
  bool interruptible = true;
  std::vector<uint32_t> unversioned;  // function indices: no bounds versioning (CompileRequest)
  ProgressFn progress;
};

// Compiles the defined functions `funcs` of `module` (all of them when
// empty) with LLVM. Loads libskiff_llvm.so on first use; a missing or
// mismatched library is a UsageError naming the paths tried
// ($SKIFF_LLVM_LIB, else next to the executable, else the build directory).
Result<CompiledCode> compile(const wasm::Module& module, std::vector<uint32_t> funcs, const CompileOptions& options);

// Loads compiled objects (from compile() or an AOT file) and sets the
// native_entry of every function they define; `compiled` keeps the code.
// Code compiled without interrupt checks marks the module
// (CompiledModule::native_uninterruptible): stores that set fuel or an epoch
// deadline then run it in the interpreter, so limits always hold.
struct InstallOptions {
  // Functions of a module copy that continue a frame of another function at
  // a loop header (tier-up's loop variants): (index in the copy, index of
  // the function they continue). Backtraces name their frames after that
  // function; one that tier 1's code ran (skiff_rt_loop_exit) stands for
  // tier 1's frame too.
  std::vector<std::pair<uint32_t, uint32_t>> loop_variants;
  // False: the code only serves on-stack replacement (tier 1's skiff_osr_
  // entries), not calls: native_entry and native_bodies stay as they are.
  bool for_calls = true;
  // Filled with the skiff_osr_N_L entries (tier 1): (name, address).
  std::vector<std::pair<std::string, void*>>* loop_entries = nullptr;
};
Result<void> install(rt::CompiledModule& compiled, const CompiledCode& code, const InstallOptions& options = {});

// The executor behind rt::call_guarded: runs `func` natively when it has
// machine code, otherwise in the interpreter. Same contract as
// interp::execute, fuel and epoch deadlines included.
TrapKind execute(rt::Store& store, rt::FuncInst* func, rt::Slot* slots, rt::Trap* trap);

// The machine code to run `func` (a wasm function) with in `store`, or null
// when it has none or lacks the fuel/epoch checks the store asks for.
void* native_entry_for(const rt::Store& store, const rt::FuncInst* func);

// Whether libskiff_llvm.so has been loaded into this process.
bool library_loaded();
// Loads it now (the first compile would), off a thread that waits anyway;
// false when it cannot be loaded.
bool load_library();

}  // namespace skiff::llvmjit

// Tier 2, engine side: loads libskiff_llvm.so on demand, compiles whole
// modules with it, and runs compiled functions (see abi.h for the machine
// code conventions).
#pragma once
#include "runtime/objects.h"
#include "skiff/result.h"

namespace skiff::llvmjit {

// Compiles every defined function of `module` (LLVM, ORC LLJIT) and sets
// each CompiledFunc::native_entry. Loads libskiff_llvm.so on first use; a
// missing or mismatched library is a UsageError naming the paths tried
// ($SKIFF_LLVM_LIB, else next to the executable, else the build directory).
Result<void> compile_module(rt::CompiledModule& module);

// The executor behind rt::call_guarded: runs `func` natively when it has
// machine code, otherwise in the interpreter. Same contract as
// interp::execute, fuel and epoch deadlines included.
TrapKind execute(rt::Store& store, rt::FuncInst* func, rt::Slot* slots, rt::Trap* trap);

// Whether libskiff_llvm.so has been loaded into this process.
bool library_loaded();

}  // namespace skiff::llvmjit

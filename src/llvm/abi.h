// The boundary between the engine and tier 2's shared object
// (libskiff_llvm.so, built from src/llvm/compiler/). The engine dlopens it
// only when a module must be compiled, so processes that interpret or run
// ahead-of-time code never map libLLVM. Both sides are built from the same
// headers by the same compiler; the version number catches a stale .so.
//
// The compiler returns ELF relocatable objects; the engine links and loads
// them itself (object_loader.h), the same way for JIT output and for .skc
// files. Machine code conventions:
//  - Entry of every compiled function (CompiledFunc::native_entry), symbol
//    skiff_entry_N, C calling convention:
//      void entry(rt::Instance* instance, rt::Slot* args_results)
//    arguments in slots[0..], results written to slots[0..] (4-byte values
//    zero-extended to their slot, v128 over two slots), as in tier 0.
//  - Between functions compiled together: direct native calls to wasm_func_N
//      swiftcc R f(rt::Instance* swiftself, params...)
//    The instance travels in swiftself's register (r13 on x86-64), which is
//    callee-saved: a caller keeps it across calls for free, where a plain
//    argument would cost a save and restore in every function that calls.
//    (Memory 0's base is loaded from the instance where a function needs
//    it.) R is void, the one result, or a struct of the results. A call to
//    a function compiled in another batch (tier-up) takes its wasm_func_N
//    from instance->native_bodies (CompiledModule::native_bodies, set by
//    install), the same convention; while that is null, and for imports,
//    calls go through skiff_rt_call. call_indirect calls an element of the
//    same instance with the expected type and code in native_bodies the
//    same way, and anything else through skiff_rt_call_indirect (which
//    checks in full and traps).
//  - Every function keeps a frame pointer, and its prologue checks the
//    native stack against instance->native_stack_limit (set by every entry
//    from the runtime). Backtraces walk the frame pointer chain (jit.cpp),
//    so compiled frames are not in store.frames.
//  - Code compiled `interruptible`: when store.check_interrupts is set,
//    function entries and loop back-edges call skiff_rt_check_interrupts
//    (1 fuel each, then the epoch
//    deadline), as tier 0 does; the flag is re-read after every call.
//  - Traps call skiff_rt_trap, which never returns: it unwinds by
//    siglongjmp to the innermost entry (llvmjit::execute), the same path a
//    guard-page fault takes.
//  - Imports, call_indirect's other cases, tables and bulk memory ops call the runtime
//    helpers below; opcodes not expanded inline call skiff_op_NAME
//    (fallback_ops.h). Both are resolved by name when the code is loaded.
//  - Tier 1's code for tier-up (baseline.h) also has entries at loop
//    headers, skiff_osr_N_L (the entry's convention, the slots holding the
//    frame's locals and operand stack at the header of the loop at byte L),
//    and leaves at those headers for tier 2's code through
//    skiff_rt_loop_exit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/objects.h"

namespace skiff::llvmjit {

inline constexpr uint32_t kAbiVersion = 13;

using EntryFn = void (*)(rt::Instance*, rt::Slot*);

// Offsets of the runtime objects that machine code reads. AOT files record
// them (with kAbiVersion), so code built against another layout never runs.
namespace layout {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
inline constexpr uint64_t kInstanceStore = offsetof(rt::Instance, store);
inline constexpr uint64_t kInstanceNativeStackLimit = offsetof(rt::Instance, native_stack_limit);
inline constexpr uint64_t kStoreCheckInterrupts = offsetof(rt::Store, check_interrupts);
inline constexpr uint64_t kInstanceFuncs = offsetof(rt::Instance, funcs);
inline constexpr uint64_t kInstanceMemories = offsetof(rt::Instance, memories);
inline constexpr uint64_t kInstanceGlobals = offsetof(rt::Instance, globals);
inline constexpr uint64_t kInstanceMem0 = offsetof(rt::Instance, mem0);
inline constexpr uint64_t kInstanceNativeBodies = offsetof(rt::Instance, native_bodies);
inline constexpr uint64_t kInstanceTypeIds = offsetof(rt::Instance, type_ids);
inline constexpr uint64_t kInstanceTables = offsetof(rt::Instance, tables);
// A std::vector is {begin, end, capacity} (libstdc++; unit test VectorLayout).
inline constexpr uint64_t kTableElemsBegin = offsetof(rt::TableInst, elems);
// The table's size: grow keeps its type's minimum at the current size.
inline constexpr uint64_t kTableSize = offsetof(rt::TableInst, type) + offsetof(TableType, limits) + offsetof(Limits, min);
inline constexpr uint64_t kFuncInstTypeId = offsetof(rt::FuncInst, type_id);
inline constexpr uint64_t kFuncInstInstance = offsetof(rt::FuncInst, instance);
inline constexpr uint64_t kFuncInstNativeBody = offsetof(rt::FuncInst, native_body);
inline constexpr uint64_t kMemoryBase = offsetof(rt::MemoryInst, base);
inline constexpr uint64_t kMemorySize = offsetof(rt::MemoryInst, size);
inline constexpr uint64_t kGlobalValue = offsetof(rt::GlobalInst, value);
#pragma GCC diagnostic pop
inline constexpr uint64_t kAll[] = {kInstanceStore,    kInstanceNativeStackLimit, kStoreCheckInterrupts, kInstanceFuncs,
                                    kInstanceMemories, kInstanceGlobals,          kInstanceMem0,         kInstanceNativeBodies,
                                    kInstanceTypeIds,  kInstanceTables,           kTableElemsBegin,      kTableSize,
                                    kFuncInstTypeId,   kFuncInstInstance,         kFuncInstNativeBody,   kMemoryBase,
                                    kMemorySize,       kGlobalValue,              sizeof(rt::Slot),
                                    static_cast<uint64_t>(TrapKind::Exit)};
}  // namespace layout

// Runtime helpers compiled code calls, by symbol name. Every one is defined
// in the engine (src/llvm/jit.cpp); their C signatures are listed there.
#define SKIFF_JIT_HELPERS(X) \
  X(skiff_rt_trap)           \
  X(skiff_rt_call)           \
  X(skiff_rt_call_indirect)  \
  X(skiff_rt_memory_size)    \
  X(skiff_rt_memory_grow)    \
  X(skiff_rt_memory_fill)    \
  X(skiff_rt_memory_copy)    \
  X(skiff_rt_memory_init)    \
  X(skiff_rt_data_drop)      \
  X(skiff_rt_table_get)      \
  X(skiff_rt_table_set)      \
  X(skiff_rt_table_size)     \
  X(skiff_rt_table_grow)     \
  X(skiff_rt_table_fill)     \
  X(skiff_rt_table_copy)     \
  X(skiff_rt_table_init)     \
  X(skiff_rt_elem_drop)      \
  X(skiff_rt_check_interrupts) \
  X(skiff_rt_loop_exit)

struct CompileRequest {
  const wasm::Module* module = nullptr;
  // Defined functions to compile (function indices); empty: all of them.
  std::vector<uint32_t> funcs;
  // Whether the code checks fuel and epoch deadlines (abi banner). Without
  // the checks loops and calls are faster; the engine then runs the module
  // in the interpreter for stores that set fuel or a deadline.
  bool interruptible = true;
  // Functions of `funcs` compiled without bounds versioning (tier-up: their
  // calls are short, see tierup.h).
  std::vector<uint32_t> unversioned;
  // Called from compile threads as functions finish (done of total); may be null.
  void (*progress)(void* user, uint32_t done, uint32_t total) = nullptr;
  void* progress_user = nullptr;
};

struct CompileOutput {
  std::vector<std::string> objects;  // ELF relocatable objects, loaded together
  std::string target;                // triple, CPU and features the code needs
  uint32_t versioned_loops = 0;      // loops given an in-bounds copy (compiler/bounds_versioning.cpp)
  std::string error;                 // set when compilation fails
};

// Exported by libskiff_llvm.so (extern "C"):
using AbiVersionFn = uint32_t (*)();
using CompileFn = bool (*)(const CompileRequest*, CompileOutput*);
inline constexpr const char* kAbiVersionSymbol = "skiff_llvm_abi_version";
inline constexpr const char* kCompileSymbol = "skiff_llvm_compile";
inline constexpr const char* kLibraryName = "libskiff_llvm.so";

}  // namespace skiff::llvmjit

// Runtime services beyond the object model: allocating entities in a store,
// building a CompiledModule, checking imports and instantiating.
#pragma once
#include <memory>
#include <span>

#include "runtime/objects.h"
#include "skiff/result.h"

namespace skiff::rt {

// Largest table we agree to grow to; beyond it grow returns -1 (a wasm table
// may in principle reach 2^32 entries, 32 GiB of references).
constexpr uint64_t kMaxTableElems = 10'000'000;

// New entities owned by `store`. Memories fail (ResourceLimit) when the
// address space cannot be reserved or the initial pages committed.
Result<MemoryInst*> new_memory(Store& store, const wasm::MemoryType& type);
Result<TableInst*> new_table(Store& store, const wasm::TableType& type, Ref init);
GlobalInst* new_global(Store& store, const wasm::GlobalType& type, Slot lo, Slot hi = 0);
FuncInst* new_host_func(Store& store, const wasm::FuncType& type, HostFunc host);

// Wraps a decoded and validated module: one CompiledFunc per defined
// function (lowered later) and the canonical id of every type.
std::shared_ptr<CompiledModule> make_compiled_module(std::shared_ptr<const wasm::Module> module);

// An entity to satisfy an import, or an export's entity.
struct ExternVal {
  ExternKind kind = ExternKind::Func;
  FuncInst* func = nullptr;
  TableInst* table = nullptr;
  MemoryInst* memory = nullptr;
  GlobalInst* global = nullptr;
};

// IncompatibleImportType unless `value` matches import `import_index`
// (functions: same type; tables/memories: limits subtyping; globals: same
// type and mutability).
Result<void> check_import(const CompiledModule& module, uint32_t import_index, const ExternVal& value);

ExternVal export_value(const Instance& instance, const wasm::Export& exp);

// Runs a function; interp::execute in practice (the runtime does not call a
// tier directly).
using Executor = TrapKind (*)(Store&, FuncInst*, Slot*, Trap*);

// Instantiates with imports already resolved and checked (in import order).
// Spec 2.0 order: allocate, evaluate element segments, apply active element
// segments then active data segments (stopping at the first out-of-bounds
// one, earlier writes stay), then run the start function. The instance is
// owned by the store even when this fails, because functions it put into
// imported tables stay reachable.
Result<Instance*> instantiate(Store& store, std::shared_ptr<const CompiledModule> module,
                              std::span<const ExternVal> imports, Executor run);

}  // namespace skiff::rt

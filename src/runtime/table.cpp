// Tables and globals: plain vectors and slots.
#include <new>

#include "runtime/runtime.h"

namespace skiff::rt {

int64_t TableInst::grow(uint64_t delta, Ref init) {
  uint64_t old_size = elems.size();
  uint64_t max = type.limits.max ? *type.limits.max : uint64_t{UINT32_MAX};
  if (max > UINT32_MAX) max = UINT32_MAX;
  if (delta > max || old_size + delta > max) return -1;
  if (old_size + delta > kMaxTableElems) return -1;
  if (owner != nullptr && owner->table_elements + delta > owner->limits.max_table_elements) return -1;
  try {
    elems.resize(old_size + delta, init);
  } catch (const std::bad_alloc&) {
    return -1;
  }
  if (owner != nullptr) owner->table_elements += delta;
  type.limits.min = elems.size();
  return static_cast<int64_t>(old_size);
}

TableInst::~TableInst() {
  if (owner != nullptr) owner->table_elements -= elems.size();
}

Result<TableInst*> new_table(Store& store, const wasm::TableType& type, Ref init) {
  const StoreLimits& limits = store.limits;
  if (store.tables.size() >= limits.max_tables)
    return Error(ErrorCode::ResourceLimit, Error::kNoOffset,
                 "store table limit: at most " + std::to_string(limits.max_tables) + " tables");
  if (store.table_elements + type.limits.min > limits.max_table_elements)
    return Error(ErrorCode::ResourceLimit, Error::kNoOffset,
                 "store table element limit: a table of " + std::to_string(type.limits.min) +
                     " elements would bring the total over " + std::to_string(limits.max_table_elements));
  auto table = std::make_unique<TableInst>();
  table->owner = &store;
  table->type = type;
  table->type.limits.min = 0;
  if (table->grow(type.limits.min, init) < 0)
    return Error(ErrorCode::ResourceLimit, Error::kNoOffset, "table too large");
  TableInst* raw = table.get();
  store.tables.push_back(std::move(table));
  return raw;
}

GlobalInst* new_global(Store& store, const wasm::GlobalType& type, Slot lo, Slot hi) {
  auto global = std::make_unique<GlobalInst>();
  global->type = type;
  global->value[0] = lo;
  global->value[1] = hi;
  GlobalInst* raw = global.get();
  store.globals.push_back(std::move(global));
  return raw;
}

FuncInst* new_host_func(Store& store, const wasm::FuncType& type, HostFunc host) {
  auto func = std::make_unique<FuncInst>();
  func->kind = FuncInst::Kind::Host;
  func->type_id = canonical_type_id(type);
  func->type = &canonical_type(func->type_id);
  func->host = std::move(host);
  FuncInst* raw = func.get();
  store.funcs.push_back(std::move(func));
  return raw;
}

}  // namespace skiff::rt

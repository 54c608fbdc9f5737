// Process-wide canonical function types: structurally equal types share an
// id, so a call_indirect type check is one integer comparison across modules.
#include <deque>
#include <mutex>
#include <unordered_map>

#include "runtime/objects.h"

namespace skiff::rt {

namespace {

struct FuncTypeHash {
  size_t operator()(const wasm::FuncType& type) const {
    size_t h = type.params.size() * 0x9e3779b97f4a7c15ull ^ type.results.size();
    for (ValType t : type.params) h = h * 31 + static_cast<size_t>(t);
    h = h * 131 + 7;
    for (ValType t : type.results) h = h * 31 + static_cast<size_t>(t);
    return h;
  }
};

struct Registry {
  std::mutex mutex;
  std::deque<wasm::FuncType> types;  // deque: references stay valid on growth
  std::unordered_map<wasm::FuncType, uint32_t, FuncTypeHash> ids;
};

Registry& registry() {
  static Registry* instance = new Registry();  // never destroyed: ids outlive static destructors
  return *instance;
}

}  // namespace

uint32_t canonical_type_id(const wasm::FuncType& type) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.ids.find(type);
  if (it != r.ids.end()) return it->second;
  auto id = static_cast<uint32_t>(r.types.size());
  r.types.push_back(type);
  r.ids.emplace(type, id);
  return id;
}

const wasm::FuncType& canonical_type(uint32_t id) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  return r.types.at(id);
}

}  // namespace skiff::rt

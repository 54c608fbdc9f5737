// The spec testsuite's host module "spectest" (print functions, four
// globals, a table and a memory), shared by skiff_spec and skiff_diff.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "skiff/skiff.hh"

namespace spectest {

// Called by every print function with its name and arguments.
using PrintFn = std::function<void(const std::string& name, const skiff::Val* args, size_t count)>;

// Defines "spectest" in `linker`; returns what could not be created ("" when
// all of it was).
inline std::string define(skiff::Linker& linker, skiff::Store& store, PrintFn on_print) {
  using skiff::Val;
  using skiff::ValType;
  const std::pair<const char*, std::vector<ValType>> prints[] = {
      {"print", {}},
      {"print_i32", {ValType::I32}},
      {"print_i64", {ValType::I64}},
      {"print_f32", {ValType::F32}},
      {"print_f64", {ValType::F64}},
      {"print_i32_f32", {ValType::I32, ValType::F32}},
      {"print_f64_f64", {ValType::F64, ValType::F64}},
  };
  for (const auto& [name, params] : prints) {
    std::string tag = name;
    size_t count = params.size();
    linker.func("spectest", name, skiff::FuncType{params, {}},
                [on_print, tag, count](skiff::Caller&, const Val* args, Val*) -> std::optional<skiff::Trap> {
                  if (on_print) on_print(tag, args, count);
                  return std::nullopt;
                });
  }
  auto global = [&](const char* name, ValType type, Val init) {
    linker.define("spectest", name, skiff::Extern::of(skiff::Global::create(store, skiff::GlobalType{type, false}, init)));
  };
  global("global_i32", ValType::I32, Val::make_i32(666));
  global("global_i64", ValType::I64, Val::make_i64(666));
  global("global_f32", ValType::F32, Val::make_f32(666.6f));
  global("global_f64", ValType::F64, Val::make_f64(666.6));

  std::string missing;
  auto table = skiff::Table::create(store, skiff::TableType{ValType::FuncRef, skiff::Limits{10, 20}},
                                    Val::null_of(ValType::FuncRef));
  if (table) linker.define("spectest", "table", skiff::Extern::of(*table));
  else missing += "table: " + table.error().to_string() + "; ";
  auto memory = skiff::Memory::create(store, skiff::MemoryType{skiff::Limits{1, 2}});
  if (memory) linker.define("spectest", "memory", skiff::Extern::of(*memory));
  else missing += "memory: " + memory.error().to_string() + "; ";
  return missing;
}

}  // namespace spectest

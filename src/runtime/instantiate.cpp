// Instantiation with the semantics of the WebAssembly 2.0 spec.
#include <cstring>

#include "runtime/call.h"
#include "runtime/runtime.h"

namespace skiff::rt {

namespace {

struct Value128 {
  Slot lo = 0;
  Slot hi = 0;
};

// Evaluates a validated constant expression (2.0 forms plus the
// extended-const arithmetic, which costs nothing to support).
Value128 eval_const(const wasm::ConstExpr& expr, const Instance& instance) {
  std::vector<Value128> stack;
  stack.reserve(expr.instrs.size());
  auto pop = [&] {
    Value128 v = stack.empty() ? Value128{} : stack.back();
    if (!stack.empty()) stack.pop_back();
    return v;
  };
  for (const wasm::ConstInstr& in : expr.instrs) {
    switch (in.op) {
      case wasm::Opcode::I32Const:
      case wasm::Opcode::F32Const: stack.push_back({static_cast<uint32_t>(in.value), 0}); break;
      case wasm::Opcode::I64Const:
      case wasm::Opcode::F64Const: stack.push_back({in.value, 0}); break;
      case wasm::Opcode::V128Const: stack.push_back({in.v128.lo(), in.v128.hi()}); break;
      case wasm::Opcode::RefNull: stack.push_back({0, 0}); break;
      case wasm::Opcode::RefFunc:
        stack.push_back({in.value < instance.funcs.size() ? reinterpret_cast<Slot>(instance.funcs[in.value]) : 0, 0});
        break;
      case wasm::Opcode::GlobalGet: {
        const GlobalInst* g = in.value < instance.globals.size() ? instance.globals[in.value] : nullptr;
        stack.push_back(g ? Value128{g->value[0], g->value[1]} : Value128{});
        break;
      }
      case wasm::Opcode::I32Add:
      case wasm::Opcode::I32Sub:
      case wasm::Opcode::I32Mul: {
        auto b = static_cast<uint32_t>(pop().lo), a = static_cast<uint32_t>(pop().lo);
        uint32_t r = in.op == wasm::Opcode::I32Add ? a + b : in.op == wasm::Opcode::I32Sub ? a - b : a * b;
        stack.push_back({r, 0});
        break;
      }
      case wasm::Opcode::I64Add:
      case wasm::Opcode::I64Sub:
      case wasm::Opcode::I64Mul: {
        uint64_t b = pop().lo, a = pop().lo;
        uint64_t r = in.op == wasm::Opcode::I64Add ? a + b : in.op == wasm::Opcode::I64Sub ? a - b : a * b;
        stack.push_back({r, 0});
        break;
      }
      default: break;  // rejected by validation
    }
  }
  return stack.empty() ? Value128{} : stack.back();
}

bool limits_match(uint64_t actual_min, std::optional<uint64_t> actual_max, const Limits& expected) {
  if (actual_min < expected.min) return false;
  if (!expected.max) return true;
  return actual_max && *actual_max <= *expected.max;
}

std::string limits_text(uint64_t min, std::optional<uint64_t> max) {
  return std::to_string(min) + ".." + (max ? std::to_string(*max) : std::string());
}

}  // namespace

Result<void> check_import(const CompiledModule& compiled, uint32_t import_index, const ExternVal& value) {
  const wasm::Module& module = *compiled.module;
  const wasm::Import& import = module.imports[import_index];
  auto incompatible = [&](const std::string& why) {
    return Error(ErrorCode::IncompatibleImportType, Error::kNoOffset, "\"" + import.module + "\" \"" + import.name + "\": " + why);
  };
  if (value.kind != import.kind)
    return incompatible(std::string("expected a ") + to_string(import.kind) + ", got a " + to_string(value.kind));
  switch (import.kind) {
    case ExternKind::Func: {
      if (value.func == nullptr) return incompatible("null function");
      if (value.func->type_id != compiled.type_ids[import.func_type])
        return incompatible("expected " + module.types[import.func_type].to_string() + ", got " +
                            canonical_type(value.func->type_id).to_string());
      return {};
    }
    case ExternKind::Table: {
      const TableInst* t = value.table;
      if (t == nullptr) return incompatible("null table");
      if (t->type.elem != import.table.elem)
        return incompatible(std::string("expected ") + to_string(import.table.elem) + " table, got " + to_string(t->type.elem));
      if (!limits_match(t->elems.size(), t->type.limits.max, import.table.limits))
        return incompatible("table limits " + limits_text(t->elems.size(), t->type.limits.max) + " do not fit " +
                            limits_text(import.table.limits.min, import.table.limits.max));
      return {};
    }
    case ExternKind::Memory: {
      const MemoryInst* m = value.memory;
      if (m == nullptr) return incompatible("null memory");
      if (!limits_match(m->pages(), m->type.limits.max, import.memory.limits))
        return incompatible("memory limits " + limits_text(m->pages(), m->type.limits.max) + " do not fit " +
                            limits_text(import.memory.limits.min, import.memory.limits.max));
      return {};
    }
    case ExternKind::Global: {
      const GlobalInst* g = value.global;
      if (g == nullptr) return incompatible("null global");
      if (g->type.type != import.global.type || g->type.is_mutable != import.global.is_mutable)
        return incompatible(std::string("expected global ") + (import.global.is_mutable ? "mut " : "") +
                            to_string(import.global.type) + ", got " + (g->type.is_mutable ? "mut " : "") +
                            to_string(g->type.type));
      return {};
    }
  }
  return incompatible("unknown kind");
}

ExternVal export_value(const Instance& instance, const wasm::Export& exp) {
  ExternVal v;
  v.kind = exp.kind;
  switch (exp.kind) {
    case ExternKind::Func: v.func = exp.index < instance.funcs.size() ? instance.funcs[exp.index] : nullptr; break;
    case ExternKind::Table: v.table = exp.index < instance.tables.size() ? instance.tables[exp.index] : nullptr; break;
    case ExternKind::Memory: v.memory = exp.index < instance.memories.size() ? instance.memories[exp.index] : nullptr; break;
    case ExternKind::Global: v.global = exp.index < instance.globals.size() ? instance.globals[exp.index] : nullptr; break;
  }
  return v;
}

Result<Instance*> instantiate(Store& store, std::shared_ptr<const CompiledModule> compiled,
                              std::span<const ExternVal> imports, Executor run) {
  const wasm::Module& module = *compiled->module;
  if (imports.size() != module.imports.size())
    return Error(ErrorCode::Internal, Error::kNoOffset, "wrong number of resolved imports");
  if (store.instances.size() >= store.limits.max_instances)
    return Error(ErrorCode::ResourceLimit, Error::kNoOffset,
                 "store instance limit: at most " + std::to_string(store.limits.max_instances) + " instances");

  store.instances.push_back(std::make_unique<Instance>());
  Instance& instance = *store.instances.back();
  instance.store = &store;
  instance.compiled = compiled;
  instance.native_bodies = compiled->native_bodies.get();
  instance.type_ids = compiled->type_ids.data();
  instance.module = &module;

  for (const ExternVal& value : imports) {
    switch (value.kind) {
      case ExternKind::Func: instance.funcs.push_back(value.func); break;
      case ExternKind::Table: instance.tables.push_back(value.table); break;
      case ExternKind::Memory: instance.memories.push_back(value.memory); break;
      case ExternKind::Global: instance.globals.push_back(value.global); break;
    }
  }

  // Functions first: global and element initialisers may take their refs.
  for (uint32_t i = 0; i < module.num_defined_funcs(); ++i) {
    uint32_t func_index = module.num_imported_funcs + i;
    uint32_t type_index = module.funcs[func_index];
    auto func = std::make_unique<FuncInst>();
    func->kind = FuncInst::Kind::Wasm;
    func->type_id = compiled->type_ids[type_index];
    func->type = &module.types[type_index];
    func->instance = &instance;
    func->func_index = func_index;
    func->compiled = &compiled->funcs[i];
    func->native_body = &compiled->native_bodies[i];
    instance.funcs.push_back(func.get());
    store.funcs.push_back(std::move(func));
  }
  for (size_t i = module.num_imported_tables; i < module.tables.size(); ++i) {
    auto table = new_table(store, module.tables[i], 0);
    if (!table) return table.error();
    instance.tables.push_back(*table);
  }
  for (size_t i = module.num_imported_memories; i < module.memories.size(); ++i) {
    auto memory = new_memory(store, module.memories[i]);
    if (!memory) return memory.error();
    instance.memories.push_back(*memory);
  }
  instance.mem0 = instance.mem0_base();
  for (size_t i = module.num_imported_globals; i < module.globals.size(); ++i) {
    size_t defined = i - module.num_imported_globals;
    Value128 init = defined < module.global_inits.size() ? eval_const(module.global_inits[defined], instance) : Value128{};
    instance.globals.push_back(new_global(store, module.globals[i], init.lo, init.hi));
  }

  instance.elem_segments.resize(module.elems.size());
  for (size_t s = 0; s < module.elems.size(); ++s) {
    const wasm::ElemSegment& seg = module.elems[s];
    std::vector<Ref>& refs = instance.elem_segments[s];
    refs.reserve(seg.size());
    if (seg.uses_exprs) {
      for (const auto& expr : seg.exprs) refs.push_back(eval_const(expr, instance).lo);
    } else {
      for (uint32_t f : seg.func_indices)
        refs.push_back(f < instance.funcs.size() ? reinterpret_cast<Ref>(instance.funcs[f]) : 0);
    }
  }
  instance.data_dropped.assign(module.datas.size(), false);

  // Active element segments: table.init then elem.drop, in order.
  for (size_t s = 0; s < module.elems.size(); ++s) {
    const wasm::ElemSegment& seg = module.elems[s];
    std::vector<Ref>& refs = instance.elem_segments[s];
    if (seg.mode == wasm::SegmentMode::Active) {
      uint64_t offset = static_cast<uint32_t>(eval_const(seg.offset, instance).lo);
      TableInst* table = seg.table < instance.tables.size() ? instance.tables[seg.table] : nullptr;
      if (table == nullptr || offset + refs.size() > table->elems.size())
        return Error(ErrorCode::OutOfBoundsTableAccessInit, seg.offset_in_binary,
                     "element segment " + std::to_string(s));
      std::copy(refs.begin(), refs.end(), table->elems.begin() + static_cast<ptrdiff_t>(offset));
    }
    if (seg.mode != wasm::SegmentMode::Passive) {
      refs.clear();
      refs.shrink_to_fit();
    }
  }

  // Active data segments: memory.init then data.drop, in order.
  for (size_t s = 0; s < module.datas.size(); ++s) {
    const wasm::DataSegment& seg = module.datas[s];
    if (seg.mode != wasm::SegmentMode::Active) continue;
    uint64_t offset = static_cast<uint32_t>(eval_const(seg.offset, instance).lo);
    MemoryInst* memory = seg.memory < instance.memories.size() ? instance.memories[seg.memory] : nullptr;
    if (memory == nullptr || offset + seg.data_size > memory->size)
      return Error(ErrorCode::OutOfBoundsMemoryAccessInit, seg.offset_in_binary, "data segment " + std::to_string(s));
    if (seg.data_size > 0) std::memcpy(memory->base + offset, module.bytes.data() + seg.data_offset, seg.data_size);
    instance.data_dropped[s] = true;
  }

  if (module.start) {
    FuncInst* start = *module.start < instance.funcs.size() ? instance.funcs[*module.start] : nullptr;
    if (start == nullptr) return Error(ErrorCode::Internal, Error::kNoOffset, "start function missing");
    Trap trap;
    TrapKind kind = call_guarded(store, start, store.stack_top, &trap, run);
    // A WASI proc_exit in a start section is an exit, not a failure.
    if (kind == TrapKind::Exit)
      return Error(ErrorCode::StartFunctionExited, Error::kNoOffset, std::to_string(trap.exit_code));
    if (kind != TrapKind::None) return Error(ErrorCode::StartFunctionTrapped, Error::kNoOffset, trap.what());
  }
  return &instance;
}

}  // namespace skiff::rt

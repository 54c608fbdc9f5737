// Module-level validation of WebAssembly 2.0, then every function body
// through the body validator (in parallel for larger modules).
#include <algorithm>
#include <atomic>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_set>

#include "wasm/const_expr.h"
#include "wasm/module.h"
#include "wasm/validator.h"

namespace skiff::wasm {

namespace {

Error unknown(ErrorCode code, uint64_t offset, uint64_t index) {
  return Error(code, offset, std::to_string(index));
}

Result<void> check_limits(const Limits& limits, uint64_t bound, ErrorCode too_large) {
  if (limits.min > bound) return Error(too_large);
  if (limits.max && *limits.max > bound) return Error(too_large);
  if (limits.max && limits.min > *limits.max) return Error(ErrorCode::SizeMinGreaterThanMax);
  return {};
}

Result<void> check_table_type(const TableType& t) {
  // Table sizes are u32 in the binary, so only the order can be wrong.
  return check_limits(t.limits, UINT32_MAX, ErrorCode::SizeMinGreaterThanMax);
}

Result<void> check_memory_type(const MemoryType& t) {
  return check_limits(t.limits, kMaxPages, ErrorCode::MemorySizeLimit);
}

// 2.0 constant expressions: t.const, ref.null, ref.func and global.get of an
// immutable imported global; the result must be one value of type `expected`.
Result<void> check_const_expr(const Module& m, const ConstExpr& expr, ValType expected) {
  for (const ConstInstr& in : expr.instrs) {
    if (!is_constant_opcode(in.op)) return Error(ErrorCode::ConstantExprRequired, in.offset);
    if (in.op == Opcode::GlobalGet) {
      // Only imported globals are visible to constant expressions in 2.0.
      if (in.value >= m.num_imported_globals) return unknown(ErrorCode::UnknownGlobal, in.offset, in.value);
      if (m.globals[in.value].is_mutable) return Error(ErrorCode::ConstantExprRequired, in.offset);
    }
  }
  std::vector<ValType> stack;
  for (const ConstInstr& in : expr.instrs) {
    switch (in.op) {
      case Opcode::I32Const: stack.push_back(ValType::I32); break;
      case Opcode::I64Const: stack.push_back(ValType::I64); break;
      case Opcode::F32Const: stack.push_back(ValType::F32); break;
      case Opcode::F64Const: stack.push_back(ValType::F64); break;
      case Opcode::V128Const: stack.push_back(ValType::V128); break;
      case Opcode::RefNull: stack.push_back(static_cast<ValType>(in.value)); break;
      case Opcode::RefFunc:
        if (in.value >= m.funcs.size()) return unknown(ErrorCode::UnknownFunction, in.offset, in.value);
        stack.push_back(ValType::FuncRef);
        break;
      case Opcode::GlobalGet: stack.push_back(m.globals[in.value].type); break;
      default: return Error(ErrorCode::ConstantExprRequired, in.offset);
    }
  }
  if (stack.size() != 1 || stack[0] != expected) return Error(ErrorCode::TypeMismatch, expr.offset);
  return {};
}

void declare_refs(const ConstExpr& expr, std::vector<bool>& declared) {
  for (const ConstInstr& in : expr.instrs)
    if (in.op == Opcode::RefFunc && in.value < declared.size()) declared[in.value] = true;
}

// Functions that ref.func in a body may name: those referenced outside
// function bodies (element segments, exports, constant expressions).
std::vector<bool> compute_declared_funcs(const Module& m) {
  std::vector<bool> declared(m.funcs.size(), false);
  for (const ConstExpr& init : m.global_inits) declare_refs(init, declared);
  for (const ElemSegment& seg : m.elems) {
    declare_refs(seg.offset, declared);
    for (uint32_t f : seg.func_indices)
      if (f < declared.size()) declared[f] = true;
    for (const ConstExpr& e : seg.exprs) declare_refs(e, declared);
  }
  for (const DataSegment& seg : m.datas) declare_refs(seg.offset, declared);
  for (const Export& e : m.exports)
    if (e.kind == ExternKind::Func && e.index < declared.size()) declared[e.index] = true;
  return declared;
}

Result<void> check_func_types(const Module& m) {
  for (const Import& imp : m.imports)
    if (imp.kind == ExternKind::Func && imp.func_type >= m.types.size())
      return unknown(ErrorCode::UnknownType, Error::kNoOffset, imp.func_type);
  for (uint32_t i = m.num_imported_funcs; i < m.funcs.size(); ++i)
    if (m.funcs[i] >= m.types.size()) return unknown(ErrorCode::UnknownType, Error::kNoOffset, m.funcs[i]);
  return {};
}

// Checks that come before function bodies in the spec's order.
Result<void> check_declarations(const Module& m) {
  for (const Import& imp : m.imports) {
    if (imp.kind == ExternKind::Table) SKIFF_TRY(check_table_type(imp.table));
    if (imp.kind == ExternKind::Memory) SKIFF_TRY(check_memory_type(imp.memory));
  }
  for (size_t i = 0; i < m.global_inits.size(); ++i)
    SKIFF_TRY(check_const_expr(m, m.global_inits[i], m.globals[m.num_imported_globals + i].type));
  for (size_t i = m.num_imported_tables; i < m.tables.size(); ++i) SKIFF_TRY(check_table_type(m.tables[i]));
  for (size_t i = m.num_imported_memories; i < m.memories.size(); ++i) SKIFF_TRY(check_memory_type(m.memories[i]));
  if (m.memories.size() > 1) return Error(ErrorCode::MultipleMemories);

  for (const ElemSegment& seg : m.elems) {
    for (const ConstExpr& e : seg.exprs) SKIFF_TRY(check_const_expr(m, e, seg.elem_type));
    for (uint32_t f : seg.func_indices)
      if (f >= m.funcs.size()) return unknown(ErrorCode::UnknownFunction, seg.offset_in_binary, f);
    if (seg.mode == SegmentMode::Active) {
      if (seg.table >= m.tables.size()) return unknown(ErrorCode::UnknownTable, seg.offset_in_binary, seg.table);
      if (m.tables[seg.table].elem != seg.elem_type) return Error(ErrorCode::TypeMismatch, seg.offset_in_binary);
      SKIFF_TRY(check_const_expr(m, seg.offset, ValType::I32));
    }
  }
  for (const DataSegment& seg : m.datas) {
    if (seg.mode != SegmentMode::Active) continue;
    if (seg.memory >= m.memories.size()) return unknown(ErrorCode::UnknownMemory, seg.offset_in_binary, seg.memory);
    SKIFF_TRY(check_const_expr(m, seg.offset, ValType::I32));
  }
  return {};
}

// Checks that come after function bodies in the spec's order.
Result<void> check_start_and_exports(const Module& m) {
  if (m.start) {
    if (*m.start >= m.funcs.size()) return unknown(ErrorCode::UnknownFunction, Error::kNoOffset, *m.start);
    const FuncType& ft = m.func_type(*m.start);
    if (!ft.params.empty() || !ft.results.empty()) return Error(ErrorCode::StartFunctionType);
  }
  std::unordered_set<std::string_view> names;
  names.reserve(m.exports.size());
  for (const Export& e : m.exports) {
    size_t count = 0;
    ErrorCode code = ErrorCode::UnknownFunction;
    switch (e.kind) {
      case ExternKind::Func: count = m.funcs.size(); code = ErrorCode::UnknownFunction; break;
      case ExternKind::Table: count = m.tables.size(); code = ErrorCode::UnknownTable; break;
      case ExternKind::Memory: count = m.memories.size(); code = ErrorCode::UnknownMemory; break;
      case ExternKind::Global: count = m.globals.size(); code = ErrorCode::UnknownGlobal; break;
    }
    if (e.index >= count) return unknown(code, Error::kNoOffset, e.index);
    if (!names.insert(e.name).second) return Error(ErrorCode::DuplicateExportName, Error::kNoOffset, e.name);
  }
  return {};
}

// Below this many functions per thread, starting threads costs more than it saves.
constexpr uint32_t kFuncsPerThread = 64;
constexpr uint32_t kChunk = 8;
constexpr unsigned kMaxThreads = 8;

// Validates every defined function. The answer does not depend on thread
// timing: the lowest-indexed Decode-phase error if there is one (malformed
// beats invalid), else the lowest-indexed error.
Result<void> validate_bodies(const Module& m) {
  const uint32_t n = m.num_defined_funcs();
  if (n == 0) return {};
  // Errors are rare: collect them sparsely rather than keeping a slot per
  // function (100k+ functions would mean megabytes to clear and free).
  std::mutex errors_mutex;
  std::vector<std::pair<uint32_t, Error>> errors;
  std::atomic<uint32_t> next{0};
  std::atomic<uint32_t> first_malformed{n};

  auto worker = [&] {
    for (;;) {
      uint32_t begin = next.fetch_add(kChunk, std::memory_order_relaxed);
      if (begin >= n) return;
      uint32_t end = std::min(n, begin + kChunk);
      for (uint32_t i = begin; i < end; ++i) {
        // Chunks are handed out in increasing order, so nothing later can win.
        if (i > first_malformed.load(std::memory_order_relaxed)) return;
        std::optional<Error> err;
        try {
          auto r = validate_function_body(m, m.num_imported_funcs + i);
          if (!r.ok()) err = r.error();
        } catch (const std::bad_alloc&) {
          err = Error(ErrorCode::ResourceLimit, Error::kNoOffset, "out of memory validating a function");
        }
        if (!err) continue;
        if (err->phase() == Phase::Decode) {
          uint32_t seen = first_malformed.load(std::memory_order_relaxed);
          while (i < seen && !first_malformed.compare_exchange_weak(seen, i, std::memory_order_relaxed)) {}
        }
        std::lock_guard<std::mutex> lock(errors_mutex);
        errors.emplace_back(i, std::move(*err));
      }
    }
  };

  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  unsigned threads = std::min({hw, kMaxThreads, std::max(1u, n / kFuncsPerThread)});
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    try {
      for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
    } catch (const std::system_error&) {
      // Could not start a thread: the ones we have (and this one) do the work.
    }
    worker();
    for (auto& t : pool) t.join();
  }

  uint32_t malformed = first_malformed.load();
  const std::pair<uint32_t, Error>* first = nullptr;
  for (const auto& entry : errors) {
    if (malformed < n && entry.first != malformed) continue;
    if (!first || entry.first < first->first) first = &entry;
  }
  if (first) return first->second;
  return {};
}

}  // namespace

Result<void> validate_module(Module& module) {
  // Bodies cannot be checked against function types that do not exist.
  SKIFF_TRY(check_func_types(module));

  auto declarations = check_declarations(module);
  module.declared_funcs = compute_declared_funcs(module);

  // Bodies are validated even when a declaration is invalid: a malformed
  // body makes the whole module malformed, which must win.
  auto bodies = validate_bodies(module);
  if (!bodies.ok() && bodies.error().phase() == Phase::Decode) return bodies.error();
  if (!declarations.ok()) return declarations.error();
  if (!bodies.ok()) return bodies.error();
  return check_start_and_exports(module);
}

}  // namespace skiff::wasm

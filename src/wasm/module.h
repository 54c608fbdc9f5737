// The decoded module: an immutable description of a binary, produced by the
// decoder and checked by the validator. Function bodies stay as byte ranges
// into `bytes`; the validator walks them once (validating and lowering).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/result.h"
#include "wasm/types.h"

namespace skiff::wasm {

// One instruction of a constant expression (2.0: t.const, ref.null,
// ref.func, global.get). The decoder records whatever instruction it finds;
// the validator rejects non-constant ones.
struct ConstInstr {
  Opcode op = Opcode::Nop;
  uint64_t value = 0;  // i32/i64 (sign-extended), f32/f64 bits, ref.func/global.get index, ref.null type byte
  V128 v128{};         // v128.const
  uint64_t offset = 0; // byte offset of the instruction, for errors
};

struct ConstExpr {
  std::vector<ConstInstr> instrs;  // without the final `end`
  uint64_t offset = 0;             // byte offset of the expression
};

struct Import {
  std::string module;
  std::string name;
  ExternKind kind = ExternKind::Func;
  uint32_t func_type = 0;  // type index, for Func
  TableType table;         // for Table
  MemoryType memory;       // for Memory
  GlobalType global;       // for Global
};

struct Export {
  std::string name;
  ExternKind kind = ExternKind::Func;
  uint32_t index = 0;
};

enum class SegmentMode : uint8_t { Active, Passive, Declarative };

struct ElemSegment {
  SegmentMode mode = SegmentMode::Active;
  uint32_t table = 0;
  ConstExpr offset;              // Active only
  ValType elem_type = ValType::FuncRef;
  // Exactly one of these is used: plain function indices (forms 0-3) or
  // expressions (forms 4-7).
  bool uses_exprs = false;
  std::vector<uint32_t> func_indices;
  std::vector<ConstExpr> exprs;
  uint64_t offset_in_binary = 0;
  size_t size() const { return uses_exprs ? exprs.size() : func_indices.size(); }
};

struct DataSegment {
  SegmentMode mode = SegmentMode::Active;  // never Declarative
  uint32_t memory = 0;
  ConstExpr offset;        // Active only
  uint32_t data_offset = 0;  // range of the bytes in Module::bytes
  uint32_t data_size = 0;
  uint64_t offset_in_binary = 0;
};

struct FunctionBody {
  uint32_t type_index = 0;
  std::vector<ValType> locals;  // declared locals (params not included), expanded
  uint32_t body_offset = 0;      // first instruction byte in Module::bytes
  uint32_t body_end = 0;         // one past the final `end`
};

struct CustomSection {
  std::string name;
  uint32_t data_offset = 0;  // payload after the name, in Module::bytes
  uint32_t data_size = 0;
};

// From the `name` custom section; empty strings where absent. A malformed
// name section is ignored, as the spec allows for custom sections.
struct Names {
  std::string module;
  std::vector<std::string> functions;  // by function index (may be shorter)
  std::vector<std::vector<std::pair<uint32_t, std::string>>> locals;  // by function index
};

struct SectionInfo {
  uint8_t id = 0;
  uint32_t offset = 0;  // of the section id byte
  uint32_t size = 0;    // payload size
};

struct Module {
  std::vector<uint8_t> bytes;  // the binary, owned; bodies and data point into it

  std::vector<FuncType> types;
  std::vector<Import> imports;

  // Index spaces: imported entities first, then defined ones.
  std::vector<uint32_t> funcs;  // type index of every function
  std::vector<TableType> tables;
  std::vector<MemoryType> memories;
  std::vector<GlobalType> globals;
  uint32_t num_imported_funcs = 0;
  uint32_t num_imported_tables = 0;
  uint32_t num_imported_memories = 0;
  uint32_t num_imported_globals = 0;

  std::vector<ConstExpr> global_inits;  // for defined globals only
  std::vector<Export> exports;
  std::optional<uint32_t> start;
  std::vector<ElemSegment> elems;
  std::vector<DataSegment> datas;
  std::optional<uint32_t> data_count;
  std::vector<FunctionBody> bodies;  // for defined functions only

  std::vector<CustomSection> customs;
  std::vector<SectionInfo> sections;
  Names names;

  // Filled in by validation: functions that may be referenced by ref.func
  // (those named in elems, exports and global initialisers).
  std::vector<bool> declared_funcs;

  const FuncType& func_type(uint32_t func_index) const { return types[funcs[func_index]]; }
  uint32_t num_defined_funcs() const { return static_cast<uint32_t>(bodies.size()); }
  const FunctionBody& body(uint32_t func_index) const { return bodies[func_index - num_imported_funcs]; }
  // The function's name from the name section, or "" if none.
  std::string_view func_name(uint32_t func_index) const {
    return func_index < names.functions.size() ? std::string_view(names.functions[func_index]) : std::string_view();
  }
  const Export* find_export(std::string_view name) const {
    for (const auto& e : exports)
      if (e.name == name) return &e;
    return nullptr;
  }
};

// Decodes a whole binary (all sections, not function bodies' instructions).
// Errors carry the byte offset and the spec's message.
Result<std::unique_ptr<Module>> decode_module(std::vector<uint8_t> bytes);

// Module-level validation (types, indices, limits, exports, start, constant
// expressions, segments) and, through the body validator, every function.
Result<void> validate_module(Module& module);

}  // namespace skiff::wasm

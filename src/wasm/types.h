// Value and entity types of WebAssembly 2.0, the opcode table's C++ face,
// and the raw 128-bit vector value.
#pragma once
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "skiff/types.h"

namespace skiff::wasm {

using skiff::ValType;
using skiff::is_ref;
using skiff::is_valtype_byte;
using skiff::slot_count;
using skiff::to_string;
using skiff::FuncType;
using skiff::Limits;
using skiff::TableType;
using skiff::MemoryType;
using skiff::GlobalType;
using skiff::ExternKind;
using skiff::kPageSize;
using skiff::kMaxPages;
using skiff::V128;

// ---- the opcode table ------------------------------------------------------

enum class Opcode : uint16_t {
#define SKIFF_OP(name, text, prefix, code, imm, cls, sig, arg) name,
#include "wasm/opcodes.def"
  Count
};
constexpr size_t kOpcodeCount = static_cast<size_t>(Opcode::Count);

enum class Imm : uint8_t {
  None,
  Block,         // blocktype (s33)
  Label,         // labelidx
  BrTable,       // vec(labelidx) labelidx
  Func,          // funcidx
  CallIndirect,  // typeidx tableidx
  Local,         // localidx
  Global,        // globalidx
  Table,         // tableidx
  Memory,        // memidx (a zero byte in 2.0)
  MemArg,        // align offset
  MemArgLane,    // align offset laneidx
  I32,           // s32
  I64,           // s64
  F32,           // 4 bytes
  F64,           // 8 bytes
  V128,          // 16 bytes
  Lane,          // laneidx byte
  Shuffle,       // 16 laneidx bytes
  RefType,       // reftype byte
  SelectT,       // vec(valtype)
  Data,          // dataidx
  Elem,          // elemidx
  MemoryInit,    // dataidx memidx
  MemoryCopy,    // memidx memidx
  TableInit,     // elemidx tableidx
  TableCopy,     // tableidx tableidx
};

enum class OpClass : uint8_t { Special, Pure, Trap, Load, Store };

struct OpInfo {
  const char* text;
  uint8_t prefix;  // 0, 0xFC or 0xFD
  uint8_t code;
  Imm imm;
  OpClass cls;
  uint8_t num_params;
  uint8_t num_results;
  ValType params[3];
  ValType results[1];
  uint8_t arg;  // access width in bytes for memory ops, lane count for lane ops
};

const OpInfo& op_info(Opcode op);
inline const char* op_name(Opcode op) { return op_info(op).text; }
// Looks an encoding up; nullopt for an unassigned one.
std::optional<Opcode> opcode_from(uint8_t prefix, uint32_t code);

}  // namespace skiff::wasm

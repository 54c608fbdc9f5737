#include "wasm/const_expr.h"

#include <cstring>

namespace skiff::wasm {

namespace {

// A zero byte stands in for a memory index in 2.0 encodings.
Result<void> zero_byte(Reader& r) {
  uint64_t at = r.offset();
  auto b = r.u8();
  if (!b.ok()) return b.error();
  if (*b != 0) return Error(ErrorCode::ZeroByteExpected, at);
  return {};
}

Result<void> read_u32_into(Reader& r, uint64_t& out) {
  auto v = r.u32();
  if (!v.ok()) return v.error();
  out = *v;
  return {};
}

// Past this many recorded instructions only a first non-constant one is kept:
// a valid 2.0 constant expression has one instruction, and keeping every one
// of a huge expression would let a small file claim a lot of memory.
constexpr size_t kMaxRecordedInstrs = 1024;

}  // namespace

bool is_constant_opcode(Opcode op) {
  switch (op) {
    case Opcode::I32Const:
    case Opcode::I64Const:
    case Opcode::F32Const:
    case Opcode::F64Const:
    case Opcode::V128Const:
    case Opcode::RefNull:
    case Opcode::RefFunc:
    case Opcode::GlobalGet:
      return true;
    default:
      return false;
  }
}

Result<Opcode> read_opcode(Reader& r) {
  uint64_t at = r.offset();
  auto b = r.u8();
  if (!b.ok()) return b.error();
  uint8_t prefix = 0;
  uint32_t code = *b;
  if (*b == 0xfc || *b == 0xfd) {
    prefix = *b;
    auto c = r.u32();
    if (!c.ok()) return c.error();
    code = *c;
  }
  auto op = opcode_from(prefix, code);
  if (!op) return Error(ErrorCode::IllegalOpcode, at);
  return *op;
}

Result<void> read_immediates(Reader& r, Opcode op, ConstInstr& instr) {
  switch (op_info(op).imm) {
    case Imm::None:
      return {};
    case Imm::Block: {
      auto bt = r.s33();
      if (!bt.ok()) return bt.error();
      instr.value = static_cast<uint64_t>(*bt);
      return {};
    }
    case Imm::Label:
    case Imm::Func:
    case Imm::Local:
    case Imm::Global:
    case Imm::Table:
    case Imm::Data:
    case Imm::Elem:
      return read_u32_into(r, instr.value);
    case Imm::BrTable: {
      auto n = r.u32();
      if (!n.ok()) return n.error();
      // Each label takes at least a byte, so the loop is bounded by the input.
      for (uint64_t i = 0; i <= *n; ++i) {
        auto l = r.u32();
        if (!l.ok()) return l.error();
      }
      return {};
    }
    case Imm::CallIndirect:
    case Imm::TableInit:
    case Imm::TableCopy: {
      SKIFF_TRY(read_u32_into(r, instr.value));
      uint64_t second = 0;
      return read_u32_into(r, second);
    }
    case Imm::Memory:
      return zero_byte(r);
    case Imm::MemArg:
    case Imm::MemArgLane: {
      uint64_t align = 0;
      SKIFF_TRY(read_u32_into(r, align));
      SKIFF_TRY(read_u32_into(r, instr.value));
      if (op_info(op).imm == Imm::MemArgLane) {
        auto lane = r.u8();
        if (!lane.ok()) return lane.error();
      }
      return {};
    }
    case Imm::I32: {
      auto v = r.s32();
      if (!v.ok()) return v.error();
      instr.value = static_cast<uint64_t>(static_cast<int64_t>(*v));
      return {};
    }
    case Imm::I64: {
      auto v = r.s64();
      if (!v.ok()) return v.error();
      instr.value = static_cast<uint64_t>(*v);
      return {};
    }
    case Imm::F32: {
      auto v = r.fixed_u32();
      if (!v.ok()) return v.error();
      instr.value = *v;
      return {};
    }
    case Imm::F64: {
      auto v = r.fixed_u64();
      if (!v.ok()) return v.error();
      instr.value = *v;
      return {};
    }
    case Imm::V128:
    case Imm::Shuffle: {
      auto p = r.bytes(16);
      if (!p.ok()) return p.error();
      std::memcpy(instr.v128.bytes, *p, 16);
      return {};
    }
    case Imm::Lane: {
      auto lane = r.u8();
      if (!lane.ok()) return lane.error();
      instr.value = *lane;
      return {};
    }
    case Imm::RefType: {
      uint64_t at = r.offset();
      auto t = r.u8();
      if (!t.ok()) return t.error();
      if (*t != static_cast<uint8_t>(ValType::FuncRef) && *t != static_cast<uint8_t>(ValType::ExternRef))
        return Error(ErrorCode::MalformedReferenceType, at);
      instr.value = *t;
      return {};
    }
    case Imm::SelectT: {
      auto n = r.u32();
      if (!n.ok()) return n.error();
      for (uint32_t i = 0; i < *n; ++i) {
        uint64_t at = r.offset();
        auto t = r.u8();
        if (!t.ok()) return t.error();
        if (!is_valtype_byte(*t)) return Error(ErrorCode::MalformedValueType, at);
      }
      return {};
    }
    case Imm::MemoryInit:
      SKIFF_TRY(read_u32_into(r, instr.value));
      return zero_byte(r);
    case Imm::MemoryCopy:
      SKIFF_TRY(zero_byte(r));
      return zero_byte(r);
  }
  return Error(ErrorCode::Internal, r.offset(), "unknown immediate kind");
}

Result<ConstExpr> decode_const_expr(Reader& r) {
  ConstExpr expr;
  expr.offset = r.offset();
  uint32_t depth = 0;  // nested blocks are not constant, but must still parse
  bool kept_nonconstant = false;
  for (;;) {
    ConstInstr instr;
    instr.offset = r.offset();
    auto op = read_opcode(r);
    if (!op.ok()) return op.error();
    instr.op = *op;
    SKIFF_TRY(read_immediates(r, instr.op, instr));
    if (instr.op == Opcode::End) {
      if (depth == 0) return expr;
      --depth;
    } else if (instr.op == Opcode::Block || instr.op == Opcode::Loop || instr.op == Opcode::If) {
      ++depth;
    }
    bool constant = is_constant_opcode(instr.op);
    if (expr.instrs.size() < kMaxRecordedInstrs || (!constant && !kept_nonconstant)) {
      if (!constant) kept_nonconstant = true;
      expr.instrs.push_back(instr);
    }
  }
}

}  // namespace skiff::wasm

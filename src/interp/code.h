// Tier 0's internal code: the contract between the lowering (which writes
// it while validating a body) and the interpreter (which runs it).
//
// Code is an array of 64-bit words. Each instruction is a handler word (the
// address the dispatch loop jumps to, i.e. direct threading) followed by its
// operand words. Operands are never LEB-encoded.
//
// Instructions are IOps: every wasm opcode of class Pure/Trap/Load/Store
// keeps its wasm::Opcode number, and internal_ops.def adds the rest.
// Operand layout of the wasm-numbered ones, derived from the opcode table:
//   Pure   [dst if a result] [src for each param, in order] [lane if Imm::Lane]
//          [2 words of lane bytes if Imm::Shuffle]
//   Trap   [dst] [src...]
//   Load   [dst] [addr] [vector src if MemArgLane] [offset] [lane if MemArgLane]
//   Store  [addr] [value] [offset] [lane if MemArgLane]
// A "slot" operand is a byte offset from the frame pointer (slot index * 8).
// `offset` is the memarg offset (u32, zero-extended); alignment is dropped.
#pragma once
#include <cstdint>
#include <vector>

#include "wasm/types.h"

namespace skiff::interp {

enum class IOp : uint16_t {
#define SKIFF_OP(name, text, prefix, code, imm, cls, sig, arg) name,
#include "wasm/opcodes.def"
#define SKIFF_IOP(name, operands) name##_,
#include "interp/internal_ops.def"
  Count
};
constexpr size_t kIOpCount = static_cast<size_t>(IOp::Count);

inline IOp iop(wasm::Opcode op) { return static_cast<IOp>(op); }

// Handler addresses, indexed by IOp; provided by the interpreter.
const void* const* handler_table();

// Words (handler included) of the instruction starting at `instr`, and its
// name; for disassemblers (tests, SKIFF_DUMP_CODE=1). Provided by the interpreter.
size_t instruction_words(IOp op, const uint64_t* instr);
const char* iop_name(IOp op);
// The IOp whose handler word is `word`; IOp::Count if none.
IOp iop_of_handler(uint64_t word);

// Appends instructions; the lowering uses it.
class CodeBuilder {
 public:
  size_t pos() const { return words_.size(); }
  // Starts an instruction; returns the index of its handler word.
  size_t op(IOp o) {
    words_.push_back(reinterpret_cast<uint64_t>(handler_table()[static_cast<size_t>(o)]));
    return words_.size() - 1;
  }
  void word(uint64_t w) { words_.push_back(w); }
  void slot(uint32_t slot_index) { words_.push_back(uint64_t{slot_index} * 8); }
  uint64_t& at(size_t i) { return words_[i]; }
  std::vector<uint64_t>& words() { return words_; }

 private:
  std::vector<uint64_t> words_;
};

}  // namespace skiff::interp

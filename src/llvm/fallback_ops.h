// Out-of-line implementations of every Pure/Trap/Load/Store opcode, for the
// opcodes the IR builder does not expand inline (SIMD, mostly). They are the
// interpreter's ops:: functions behind one uniform C signature:
//
//   uint32_t op(uint8_t* io, uint8_t* address)
//
// io holds four 16-byte cells: operand i of the instruction in cell i (for
// loads and stores operand 0, the address, is passed as `address` instead,
// already translated to a host pointer), a lane or shuffle immediate in
// cell 3, and the result is written to cell 0 after every operand is read.
// The return value is a TrapKind (Trap class) or 0.
#pragma once
#include <cstdint>
#include <string_view>

#include "wasm/types.h"

namespace skiff::llvmjit {

using FallbackOp = uint32_t (*)(uint8_t* io, uint8_t* address);

inline constexpr uint32_t kFallbackCellBytes = 16;
inline constexpr uint32_t kFallbackImmCell = 3;

// Null for Special opcodes.
FallbackOp fallback_op(wasm::Opcode op);

// Compiled code names them skiff_op_<Opcode enumerator> (e.g.
// skiff_op_I8x16Shuffle); null for any other name.
FallbackOp find_fallback_op(std::string_view symbol);
// The symbol of `op`'s entry.
const char* fallback_symbol(wasm::Opcode op);

}  // namespace skiff::llvmjit

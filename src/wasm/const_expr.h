// Constant expressions: decoding (generic, from the opcode table) and the
// 2.0 validation rules. Shared by the module decoder and module validator.
#pragma once
#include "base/reader.h"
#include "skiff/result.h"
#include "wasm/module.h"

namespace skiff::wasm {

// Reads one opcode (with its 0xFC/0xFD prefix, if any); "illegal opcode" for
// an unassigned encoding.
Result<Opcode> read_opcode(Reader& r);

// Reads the immediates of `op` as its opcode-table Imm kind says, storing the
// first meaningful one in `instr` (constants, indices, ref.null type byte).
Result<void> read_immediates(Reader& r, Opcode op, ConstInstr& instr);

// Decodes instructions up to and including the `end` that closes the
// expression. Any instruction is accepted; validation decides constness.
Result<ConstExpr> decode_const_expr(Reader& r);

// True for the instructions 2.0 allows in a constant expression (global.get
// is further restricted to immutable imported globals by the validator).
bool is_constant_opcode(Opcode op);

}  // namespace skiff::wasm

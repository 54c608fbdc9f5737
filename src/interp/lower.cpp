// Lowering to tier-0 code: the shared BodyDecoder walks a validated body once
// and this interface writes register-style internal code (code.h).
//
// Frame layout: each local has a fixed slot (a v128 takes two), params
// first; the operand stack entry at slot height h lives in "home" slot
// local_slots + h. Values therefore never move unless control flow needs
// them somewhere else: an instruction reads its operands from their slots
// and writes its result to the home slot of the stack position it fills.
//
// Cheap improvements over a plain stack machine:
//  - local.get emits nothing: the stack entry refers to the local's slot and
//    consumers read the local directly. Such references are materialised
//    (copied to the home slot) before the local is written, and all of them
//    at block entries, so every control-flow join sees values in home slots.
//  - local.set/tee of a value the previous instruction just produced rewrites
//    that instruction's destination to the local instead of copying.
//  - branches copy only the values that are not already in the label's slots.
//
// Handlers may therefore see a destination that aliases any source, fully or
// partly (e.g. v128.load8_lane's result over its address and vector): they
// must read every operand before writing the result.
//
// Branch targets are forward (> 0) except for loop back-edges, which are
// exactly the branches with a target <= 0: where fuel and epochs are checked.
#include "interp/lower.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <unordered_map>

#include "interp/code.h"
#include "interp/interp.h"
#include "wasm/body_decoder.h"

namespace skiff::interp {

namespace {

using wasm::BlockKind;
using wasm::FuncType;
using wasm::Immediates;
using wasm::Imm;
using wasm::OpClass;
using wasm::Opcode;
using wasm::OpInfo;
using wasm::op_info;

constexpr size_t kNone = std::numeric_limits<size_t>::max();

class Lowering {
 public:
  struct ValueData {
    bool is_local_ref = false;  // the value is the current content of local_slot
    uint32_t local_slot = 0;
  };
  struct Patch {
    size_t word;   // operand word holding the target
    size_t instr;  // first word of the branching instruction
  };
  struct ControlData {
    std::vector<Patch> patches;  // forward branches to this label
    size_t loop_pos = 0;         // loops: the label (branches go backwards)
    Patch else_patch{kNone, 0};  // ifs: the BrUnless that skips the then-branch
    size_t hot_weight = kNone;   // loops that count hotness: their HotCount's weight word
  };
  using S = wasm::StateOf<Lowering>;
  using V = S::Value;
  using C = S::Control;

  CodeBuilder code;
  // Tier::Auto: the function whose hotness this code counts; null: no counting.
  rt::CompiledFunc* counted = nullptr;

  void start_function(S&) { entry_hot_weight_ = count_hotness(kFunctionEntry); }
  void finish_function(S&) { set_hot_weight(entry_hot_weight_, code.pos()); }

  // ---- plain instructions ----------------------------------------------------

  void op(S& s, Opcode op, const Immediates& imm, V* args, uint32_t nargs, V* result) {
    const OpInfo& info = op_info(op);
    if (info.cls != OpClass::Special) {
      emit_numeric(op, info, imm, args, result);
      return;
    }
    size_t dst_word = kNone;
    auto dst = [&](const V* r) {
      dst_word = code.pos();
      code.slot(r->slot);
    };
    switch (op) {
      case Opcode::Unreachable:
        emit(IOp::Unreachable_);
        break;
      case Opcode::GlobalGet:
        emit(wide(result->type) ? IOp::GlobalGet128_ : IOp::GlobalGet64_);
        dst(result);
        code.word(imm.index);
        break;
      case Opcode::GlobalSet:
        emit(wide(args[0].type) ? IOp::GlobalSet128_ : IOp::GlobalSet64_);
        code.slot(src(args[0]));
        code.word(imm.index);
        break;
      case Opcode::TableGet:
        emit(IOp::TableGet_);
        dst(result);
        code.slot(src(args[0]));
        code.word(imm.index);
        break;
      case Opcode::TableSet:
        emit(IOp::TableSet_);
        srcs(args, nargs);
        code.word(imm.index);
        break;
      case Opcode::TableSize:
        emit(IOp::TableSize_);
        dst(result);
        code.word(imm.index);
        break;
      case Opcode::TableGrow:
        emit(IOp::TableGrow_);
        dst(result);
        srcs(args, nargs);
        code.word(imm.index);
        break;
      case Opcode::TableFill:
        emit(IOp::TableFill_);
        srcs(args, nargs);
        code.word(imm.index);
        break;
      case Opcode::TableCopy:
        emit(IOp::TableCopy_);
        srcs(args, nargs);
        code.word(imm.index);   // destination table
        code.word(imm.index2);  // source table
        break;
      case Opcode::TableInit:
        emit(IOp::TableInit_);
        srcs(args, nargs);
        code.word(imm.index2);  // element segment
        code.word(imm.index);   // table
        break;
      case Opcode::ElemDrop:
        emit(IOp::ElemDrop_);
        code.word(imm.index);
        break;
      case Opcode::MemorySize:
        emit(IOp::MemorySize_);
        dst(result);
        break;
      case Opcode::MemoryGrow:
        emit(IOp::MemoryGrow_);
        dst(result);
        srcs(args, nargs);
        break;
      case Opcode::MemoryFill:
        emit(IOp::MemoryFill_);
        srcs(args, nargs);
        break;
      case Opcode::MemoryCopy:
        emit(IOp::MemoryCopy_);
        srcs(args, nargs);
        break;
      case Opcode::MemoryInit:
        emit(IOp::MemoryInit_);
        srcs(args, nargs);
        code.word(imm.index);
        break;
      case Opcode::DataDrop:
        emit(IOp::DataDrop_);
        code.word(imm.index);
        break;
      case Opcode::RefNull:
        emit(IOp::RefNull_);
        dst(result);
        break;
      case Opcode::RefIsNull:
        emit(IOp::RefIsNull_);
        dst(result);
        code.slot(src(args[0]));
        break;
      case Opcode::RefFunc:
        emit(IOp::RefFunc_);
        dst(result);
        code.word(imm.index);
        break;
      default:
        // Every other Special op has its own hook; reaching here is a bug.
        emit(IOp::Unreachable_);
        break;
    }
    produced(dst_word, result);
  }

  void constant(S&, Opcode op, const Immediates& imm, V& result) {
    size_t dst_word;
    if (op == Opcode::V128Const) {
      emit(IOp::Const128_);
      dst_word = code.pos();
      code.slot(result.slot);
      code.word(imm.v128.lo());
      code.word(imm.v128.hi());
    } else {
      emit(IOp::Const64_);
      dst_word = code.pos();
      code.slot(result.slot);
      // i32 constants are kept zero-extended, like every i32 in a slot.
      code.word(op == Opcode::I32Const ? (imm.bits & 0xffffffffu) : imm.bits);
    }
    produced(dst_word, &result);
  }

  // ---- locals -------------------------------------------------------------------

  void local_get(S& s, uint32_t index, V& result) {
    result.data = ValueData{true, s.local_slot[index]};
    note_ref(s);
  }

  void local_set(S& s, uint32_t index, V& value) { store_local(s, index, value); }

  void local_tee(S& s, uint32_t index, V& value, V& result) {
    uint32_t local = s.local_slot[index];
    // The result is the local's content from now on: refer to it, unless
    // the value already sits in its home slot.
    bool was_home = !value.data.is_local_ref;
    bool retargeted = store_local(s, index, value);
    if (was_home && !retargeted) {
      result.data = ValueData{};
    } else {
      result.data = ValueData{true, retargeted ? local : value.data.local_slot};
      note_ref(s);
    }
  }

  void drop(S&, V&) { last_dst_word_ = kNone; }

  void select(S&, V* vs, V& result) {
    emit(wide(result.type) ? IOp::Select128_ : IOp::Select64_);
    size_t dst_word = code.pos();
    code.slot(result.slot);
    srcs(vs, 3);
    produced(dst_word, &result);
  }

  // ---- control ------------------------------------------------------------------

  void block(S& s, C& c) {
    last_dst_word_ = kNone;
    materialise_all(s);
    barrier();
    if (c.kind == BlockKind::Loop) {
      c.data.loop_pos = code.pos();
      c.data.hot_weight = count_hotness(c.offset);  // at the label: once per iteration
    }
  }

  void if_(S& s, V& cond, C& c) {
    last_dst_word_ = kNone;
    materialise_all(s);
    size_t at = emit_conditional_branch(cond, false);
    c.data.else_patch = Patch{code.pos(), at};
    code.word(0);
  }

  void else_(S&, C& c, V* results) {
    last_dst_word_ = kNone;
    if (!c.unreachable) {
      materialise(c.sig.num_results, results);
      size_t at = emit(IOp::Br_);
      c.data.patches.push_back(Patch{code.pos(), at});
      code.word(0);
    }
    patch(c.data.else_patch, code.pos());
    c.data.else_patch.word = kNone;
    barrier();
  }

  void end(S& s, C& c, V* results) {
    if (c.kind == BlockKind::Function) {
      if (!c.unreachable) emit_return(s, results);
      return;
    }
    if (c.kind == BlockKind::Loop) set_hot_weight(c.data.hot_weight, code.pos() - c.data.loop_pos);
    last_dst_word_ = kNone;  // a label: values may arrive from elsewhere
    if (!c.unreachable) materialise(c.sig.num_results, results);
    if (c.data.else_patch.word != kNone) patch(c.data.else_patch, code.pos());
    for (const Patch& p : c.data.patches) patch(p, code.pos());
    barrier();
  }

  void br(S& s, uint32_t depth, V* values) { branch(s, depth, values); }

  void br_if(S& s, uint32_t depth, V& cond, V* values) {
    if (!s.is_function_label(depth) && !needs_moves(s.label(depth), values)) {
      size_t at = emit_conditional_branch(cond, true);
      target(s.label(depth), at);
      return;
    }
    // Moves happen only when the branch is taken: skip them otherwise.
    size_t at = emit_conditional_branch(cond, false);
    Patch skip{code.pos(), at};
    code.word(0);
    branch(s, depth, values);
    patch(skip, code.pos());
    barrier();
  }

  void br_table(S& s, const std::vector<uint32_t>& targets, V& index, V* values) {
    size_t at = emit(IOp::BrTable_);
    code.slot(src(index));
    code.word(targets.size() - 1);
    size_t first = code.pos();
    for (size_t i = 0; i < targets.size(); ++i) code.word(0);
    // Arms whose values must move first go through a stub (one per label).
    std::unordered_map<uint32_t, size_t> stubs;
    for (size_t i = 0; i < targets.size(); ++i) {
      uint32_t depth = targets[i];
      if (!s.is_function_label(depth) && !needs_moves(s.label(depth), values)) {
        target_at(s.label(depth), first + i, at);
        continue;
      }
      auto [it, fresh] = stubs.try_emplace(depth, code.pos());
      barrier();
      if (fresh) branch(s, depth, values);
      code.at(first + i) = offset(it->second, at);
    }
  }

  void return_(S& s, V* values) { emit_return(s, values); }

  // ---- calls --------------------------------------------------------------------

  // Arguments already occupy consecutive home slots at the stack top (once
  // local references among them are copied there); the callee's frame starts
  // at the first one and leaves its results there.
  void call(S& s, uint32_t func_index, const FuncType& type, V* args) {
    uint32_t base = arg_base(s, type, args);
    emit(IOp::Call_);
    code.word(func_index);
    code.slot(base);
  }

  void call_indirect(S& s, uint32_t type_index, uint32_t table_index, const FuncType& type, V* args, V& index) {
    uint32_t base = arg_base(s, type, args);
    emit(IOp::CallIndirect_);
    code.word(type_index);
    code.word(table_index);
    code.slot(src(index));
    code.slot(base);
  }

 private:
  static bool wide(wasm::ValType t) { return t == wasm::ValType::V128; }
  static uint32_t src(const V& v) { return v.data.is_local_ref ? v.data.local_slot : v.slot; }
  static uint64_t offset(size_t to, size_t from) {
    return static_cast<uint64_t>(static_cast<int64_t>(to) - static_cast<int64_t>(from));
  }

  size_t emit(IOp o) {
    last_dst_word_ = kNone;
    history_.push_back({code.pos(), o});
    return code.op(o);
  }
  // A label is placed here: nothing emitted so far may be fused with what follows.
  void barrier() {
    last_dst_word_ = kNone;
    history_.clear();
  }

  // Tier-up's counter (interp.h), at function entry and loop headers
  // (`loop`: the loop instruction's offset, or kFunctionEntry). Not in the
  // fusion history, so nothing fuses with it or removes it. Returns its
  // weight word (kNone when not counting), set once the size of the code
  // it stands for is known.
  size_t count_hotness(uint64_t loop) {
    if (counted == nullptr) return kNone;
    code.word(tier_up_handler(loop == kFunctionEntry ? TierUpOp::HotCountEntry : TierUpOp::HotCount));
    code.word(reinterpret_cast<uint64_t>(counted));
    const size_t weight = code.pos();
    code.word(0);
    code.word(loop);
    barrier();
    return weight;
  }
  // The work a function entry or loop iteration stands for: the words of
  // its code (the whole function, the loop body), an estimate of the time
  // tier 0 spends in it. Capped so one count never overflows the countdown.
  void set_hot_weight(size_t word, size_t code_words) {
    if (word == kNone) return;
    code.at(word) = std::clamp<size_t>(code_words, 1, size_t{1} << 16);
  }

  // ---- superinstructions -----------------------------------------------------
  // A fusion replaces the instruction just emitted (which produced one of
  // the current instruction's operands, never read again) by a combined
  // one. Only the last instruction is ever removed, so no label or pending
  // branch can point into or past it.

  // Whether `v` is the result the last instruction wrote, and that
  // instruction was `o` with its destination as its first operand word.
  bool just_produced(const V& v, IOp o) const {
    return op_back(0) == o && !v.data.is_local_ref && last_dst_word_ != kNone && last_dst_word_ == at_back(0) + 1 &&
           last_dst_slot_ == v.slot;
  }
  // The op of the instruction emitted k before the last (0: the last) since
  // the last label; IOp::Count if there is none.
  IOp op_back(size_t k) const { return k < history_.size() ? history_[history_.size() - 1 - k].op : IOp::Count; }
  // Its first word; only for k < history_.size().
  size_t at_back(size_t k) const { return history_[history_.size() - 1 - k].at; }
  // Operand word w (1 = the first after the handler) of that instruction.
  uint64_t operand_back(size_t k, size_t w) { return code.at(at_back(k) + w); }
  // Operand word k of the last instruction.
  uint64_t last_operand(size_t k) { return operand_back(0, k); }
  // Removes the last n instructions (none of them is a label target: the
  // history starts at the last label).
  void drop_last_instructions(size_t n) {
    code.words().resize(at_back(n - 1));
    history_.resize(history_.size() - n);
    last_dst_word_ = kNone;
  }
  // The one before it becomes the last again (its result is not tracked).
  void drop_last_instruction() { drop_last_instructions(1); }
  // Operand word k of the instruction before the last.
  uint64_t prev_operand(size_t k) { return operand_back(1, k); }
  // Whether the instruction before the last was `o` and wrote `v` (its
  // first operand word), which is still on the stack, not a local.
  bool prev_produced(const V& v, IOp o) {
    return op_back(1) == o && !v.data.is_local_ref && prev_operand(1) == uint64_t{v.slot} * 8;
  }

  static IOp imm_variant(Opcode op) {
    switch (op) {
#define SKIFF_CASE(name) \
  case Opcode::name:     \
    return IOp::name##Imm_;
      SKIFF_IMM_BINOPS(SKIFF_CASE)
#undef SKIFF_CASE
      default:
        return IOp::Count;
    }
  }
  // The op computing op(b, a), for turning `const op x` into `x op' const`.
  // Float arithmetic is left alone (the NaN an engine picks may depend on
  // operand order).
  static Opcode mirrored(Opcode op) {
    switch (op) {
      case Opcode::I32Add: case Opcode::I32Mul: case Opcode::I32And: case Opcode::I32Or: case Opcode::I32Xor:
      case Opcode::I32Eq: case Opcode::I32Ne:
      case Opcode::I64Add: case Opcode::I64Mul: case Opcode::I64And: case Opcode::I64Or: case Opcode::I64Xor:
      case Opcode::I64Eq: case Opcode::I64Ne:
      case Opcode::F32Eq: case Opcode::F32Ne: case Opcode::F64Eq: case Opcode::F64Ne:
        return op;
      case Opcode::I32LtS: return Opcode::I32GtS;
      case Opcode::I32GtS: return Opcode::I32LtS;
      case Opcode::I32LtU: return Opcode::I32GtU;
      case Opcode::I32GtU: return Opcode::I32LtU;
      case Opcode::I32LeS: return Opcode::I32GeS;
      case Opcode::I32GeS: return Opcode::I32LeS;
      case Opcode::I32LeU: return Opcode::I32GeU;
      case Opcode::I32GeU: return Opcode::I32LeU;
      case Opcode::I64LtS: return Opcode::I64GtS;
      case Opcode::I64GtS: return Opcode::I64LtS;
      case Opcode::I64LtU: return Opcode::I64GtU;
      case Opcode::I64GtU: return Opcode::I64LtU;
      case Opcode::I64LeS: return Opcode::I64GeS;
      case Opcode::I64GeS: return Opcode::I64LeS;
      case Opcode::I64LeU: return Opcode::I64GeU;
      case Opcode::I64GeU: return Opcode::I64LeU;
      case Opcode::F32Lt: return Opcode::F32Gt;
      case Opcode::F32Gt: return Opcode::F32Lt;
      case Opcode::F32Le: return Opcode::F32Ge;
      case Opcode::F32Ge: return Opcode::F32Le;
      case Opcode::F64Lt: return Opcode::F64Gt;
      case Opcode::F64Gt: return Opcode::F64Lt;
      case Opcode::F64Le: return Opcode::F64Ge;
      case Opcode::F64Ge: return Opcode::F64Le;
      default:
        return Opcode::Unreachable;  // none
    }
  }

  // `a op const` (or a mirrored `const op a`) as NameImm dst a imm.
  bool emit_with_immediate(Opcode op, V* args, V* result) {
    if (imm_variant(op) == IOp::Count) return false;
    uint32_t a;
    if (just_produced(args[1], IOp::Const64_)) {
      a = src(args[0]);
    } else if (just_produced(args[0], IOp::Const64_) && mirrored(op) != Opcode::Unreachable) {
      op = mirrored(op);
      a = src(args[1]);
    } else {
      return false;
    }
    uint64_t bits = last_operand(2);
    drop_last_instruction();
    emit(imm_variant(op));
    size_t dst_word = code.pos();
    code.slot(result->slot);
    code.slot(a);
    code.word(bits);
    produced(dst_word, result);
    return true;
  }

  // `a op b` where b was just loaded by the plain load of its type.
  bool emit_with_loaded_operand(Opcode op, V* args, V* result) {
    IOp fused;
    switch (op) {
#define SKIFF_CASE(name)                 \
  case Opcode::name:                     \
    fused = IOp::name##Load_;            \
    break;
      SKIFF_LOAD_OPERAND_BINOPS(SKIFF_CASE)
#undef SKIFF_CASE
      default:
        return false;
    }
    Opcode load;
    switch (op_info(op).params[1]) {
      case wasm::ValType::I32: load = Opcode::I32Load; break;
      case wasm::ValType::I64: load = Opcode::I64Load; break;
      case wasm::ValType::F32: load = Opcode::F32Load; break;
      default: load = Opcode::F64Load; break;
    }
    uint64_t addr, addend, offset;
    if (just_produced(args[1], iop(load))) {
      addr = last_operand(2), addend = 0, offset = last_operand(3);
    } else if (just_produced(args[1], addimm_load(load))) {
      addr = last_operand(2), addend = last_operand(3), offset = last_operand(4);
    } else {
      return false;
    }
    if (emit_sum_loads(op, load, args, result, addr, addend, offset)) return true;
    drop_last_instruction();
    emit(fused);
    size_t dst_word = code.pos();
    code.slot(result->slot);
    code.slot(src(args[0]));
    code.word(addr);
    code.word(addend);
    code.word(offset);
    produced(dst_word, result);
    return true;
  }

  static IOp addimm_load(Opcode op) {
    switch (op) {
#define SKIFF_CASE(name) \
  case Opcode::name:     \
    return IOp::name##AddImm_;
      SKIFF_ADDIMM_LOADS(SKIFF_CASE)
#undef SKIFF_CASE
      default:
        return IOp::Count;
    }
  }

  // A load whose address was just computed by i32.add a, const.
  bool emit_addimm_load(Opcode op, const Immediates& imm, V* args, V* result) {
    IOp fused = addimm_load(op);
    if (fused == IOp::Count || !just_produced(args[0], IOp::I32AddImm_)) return false;
    uint64_t base = last_operand(2), addend = last_operand(3);
    drop_last_instruction();
    emit(fused);
    size_t dst_word = code.pos();
    code.slot(result->slot);
    code.word(base);
    code.word(addend);
    code.word(imm.offset);
    produced(dst_word, result);
    return true;
  }

  // Starts a branch taken when `cond` is non-zero (when_true) or zero,
  // fusing the comparison that just computed it; the caller appends the
  // target word. Returns the instruction's first word.
  size_t emit_conditional_branch(const V& cond, bool when_true) {
    IOp fused = IOp::Count;
    switch (cond.data.is_local_ref ? IOp::Count : op_back(0)) {
#define SKIFF_CASE(name)                                                \
  case IOp::name:                                                       \
    fused = when_true ? IOp::BrIf##name##_ : IOp::BrUnless##name##_;    \
    break;                                                              \
  case IOp::name##Imm_:                                                 \
    fused = when_true ? IOp::BrIf##name##Imm_ : IOp::BrUnless##name##Imm_; \
    break;
      SKIFF_FUSED_COMPARES(SKIFF_CASE)
#undef SKIFF_CASE
      case IOp::I32Eqz:
        fused = when_true ? IOp::BrUnless_ : IOp::BrIf_;
        break;
      default:
        break;
    }
    if (fused != IOp::Count && just_produced(cond, op_back(0))) {
      bool unary = op_back(0) == IOp::I32Eqz;
      uint64_t a = last_operand(2), b = unary ? 0 : last_operand(3);
      IOp counted = op_back(1) == IOp::I32AddImm_ ? counter_variant(fused) : IOp::Count;
      if (counted != IOp::Count) {
        // i += k just before: one instruction does both, in order.
        uint64_t dst = prev_operand(1), x = prev_operand(2), addend = prev_operand(3);
        drop_last_instructions(2);
        size_t at = emit(counted);
        code.word(dst);
        code.word(x);
        code.word(addend);
        code.word(a);
        code.word(b);
        return at;
      }
      drop_last_instruction();
      size_t at = emit(fused);
      code.word(a);
      if (!unary) code.word(b);
      return at;
    }
    size_t at = emit(when_true ? IOp::BrIf_ : IOp::BrUnless_);
    code.slot(src(cond));
    return at;
  }
  // The CountBr... form of a fused branch, if there is one.
  static IOp counter_variant(IOp branch) {
    switch (branch) {
#define SKIFF_CASE(name)                                                   \
  case IOp::BrIf##name##_: return IOp::CountBrIf##name##_;                 \
  case IOp::BrUnless##name##_: return IOp::CountBrUnless##name##_;         \
  case IOp::BrIf##name##Imm_: return IOp::CountBrIf##name##Imm_;           \
  case IOp::BrUnless##name##Imm_: return IOp::CountBrUnless##name##Imm_;
      SKIFF_COUNTER_COMPARES(SKIFF_CASE)
#undef SKIFF_CASE
      default:
        return IOp::Count;
    }
  }

  static IOp sum_loads_variant(Opcode op) {
    switch (op) {
#define SKIFF_CASE(name) \
  case Opcode::name:     \
    return IOp::name##SumLoads_;
      SKIFF_SUM_LOADS(SKIFF_CASE)
#undef SKIFF_CASE
      default:
        return IOp::Count;
    }
  }

  static IOp sum_loads_indexed_variant(Opcode op) {
    switch (op) {
#define SKIFF_CASE(name) \
  case Opcode::name:     \
    return IOp::name##SumLoadsIndexed_;
      SKIFF_SUM_LOADS(SKIFF_CASE)
#undef SKIFF_CASE
      default:
        return IOp::Count;
    }
  }

  // `a op b` where b was just loaded from (addr, addend, offset) and a was
  // loaded (or summed) from the same addr slot by the instruction before:
  // one NameSumLoads. It reads the address before writing the result, so
  // the address must not be the slot the first load wrote. When the
  // instruction before the first load was the `i32.add` that wrote addr,
  // it is folded in too (NameSumLoadsIndexed).
  bool emit_sum_loads(Opcode op, Opcode load, V* args, V* result, uint64_t addr, uint64_t addend, uint64_t offset) {
    IOp sum = sum_loads_variant(op), indexed = sum_loads_indexed_variant(op);
    if (sum == IOp::Count || addr == uint64_t{args[0].slot} * 8 || result->slot != args[0].slot) return false;
    if ((prev_produced(args[0], sum) || prev_produced(args[0], indexed)) && prev_operand(2) == addr) {
      drop_last_instruction();  // the load; the sum is last again and grows
      code.at(at_back(0) + (op_back(0) == indexed ? 5 : 3)) += 1;
    } else if ((prev_produced(args[0], iop(load)) || prev_produced(args[0], addimm_load(load))) &&
               prev_operand(2) == addr) {
      bool plain = op_back(1) == iop(load);
      uint64_t a_addend = plain ? 0 : prev_operand(3), a_offset = prev_operand(plain ? 3 : 4);
      bool add_before = op_back(2) == IOp::I32Add && operand_back(2, 1) == addr;
      uint64_t base = add_before ? operand_back(2, 2) : 0, index = add_before ? operand_back(2, 3) : 0;
      drop_last_instructions(add_before ? 3 : 2);
      emit(add_before ? indexed : sum);
      code.slot(result->slot);
      code.word(addr);
      if (add_before) {
        code.word(base);
        code.word(index);
      }
      code.word(2);
      code.word(a_addend);
      code.word(a_offset);
    } else {
      return false;
    }
    code.word(addend);
    code.word(offset);
    last_dst_word_ = at_back(0) + 1;
    last_dst_slot_ = result->slot;
    return true;
  }

  // store(p, a op load(p)) where the NameLoad just computed the value:
  // one NameUpdate. The value is not written to its slot any more; nothing
  // else can read it (the store popped it).
  bool emit_update(Opcode store, const Immediates& imm, V* args) {
    IOp update = IOp::Count;
    Opcode store_of_type = Opcode::Unreachable;
    switch (op_back(0)) {
#define SKIFF_CASE(name)                                                          \
  case IOp::name##Load_:                                                          \
    update = IOp::name##Update_;                                                  \
    switch (op_info(Opcode::name).params[1]) {                                    \
      case wasm::ValType::I32: store_of_type = Opcode::I32Store; break;           \
      case wasm::ValType::I64: store_of_type = Opcode::I64Store; break;           \
      case wasm::ValType::F32: store_of_type = Opcode::F32Store; break;           \
      default: store_of_type = Opcode::F64Store; break;                           \
    }                                                                             \
    break;
      SKIFF_UPDATE_BINOPS(SKIFF_CASE)
#undef SKIFF_CASE
      default:
        return false;
    }
    if (store != store_of_type || !just_produced(args[1], op_back(0))) return false;
    // NameLoad: [dst] [a] [addr] [addend] [offset]
    uint64_t a = last_operand(2), addr = last_operand(3), addend = last_operand(4), offset = last_operand(5);
    if (addr != uint64_t{src(args[0])} * 8 || addend != 0 || offset != imm.offset) return false;
    drop_last_instruction();
    emit(update);
    code.word(a);
    code.word(addr);
    code.word(addend);
    code.word(offset);
    return true;
  }

  // store(p, a op const) where the NameImm just computed the value: one
  // NameImmStore (the value's slot is not written; the store popped it).
  bool emit_imm_store(Opcode store, const Immediates& imm, V* args) {
    IOp fused = IOp::Count;
    Opcode op = Opcode::Unreachable;
    switch (op_back(0)) {
#define SKIFF_CASE(name)             \
  case IOp::name##Imm_:              \
    fused = IOp::name##ImmStore_;    \
    op = Opcode::name;               \
    break;
      SKIFF_IMM_STORE_BINOPS(SKIFF_CASE)
#undef SKIFF_CASE
      default:
        return false;
    }
    Opcode store_of_type;
    switch (op_info(op).results[0]) {
      case wasm::ValType::I32: store_of_type = Opcode::I32Store; break;
      case wasm::ValType::I64: store_of_type = Opcode::I64Store; break;
      case wasm::ValType::F32: store_of_type = Opcode::F32Store; break;
      default: store_of_type = Opcode::F64Store; break;
    }
    if (store != store_of_type || !just_produced(args[1], op_back(0))) return false;
    uint64_t a = last_operand(2), bits = last_operand(3);
    if (emit_imm_store_indexed(fused, imm, args, a, bits)) return true;
    drop_last_instruction();
    emit(fused);
    code.slot(src(args[0]));
    code.word(a);
    code.word(bits);
    code.word(imm.offset);
    return true;
  }

  static IOp imm_store_indexed_variant(IOp imm_store) {
    switch (imm_store) {
#define SKIFF_CASE(name)      \
  case IOp::name##ImmStore_: \
    return IOp::name##ImmStoreIndexed_;
      SKIFF_IMM_STORE_BINOPS(SKIFF_CASE)
#undef SKIFF_CASE
      default:
        return IOp::Count;
    }
  }

  // The slots the instruction k back writes, if it is one that may be moved
  // (no branch target, no side effect but its writes and a possible trap).
  bool movable_writes(size_t k, uint64_t (&writes)[2], size_t& n) {
    IOp o = op_back(k);
    n = 0;
    switch (o) {
#define SKIFF_CASE(name) case IOp::name##SumLoadsIndexed_:
      SKIFF_SUM_LOADS(SKIFF_CASE)
#undef SKIFF_CASE
      writes[n++] = operand_back(k, 2);
      break;
#define SKIFF_CASE(name) case IOp::name##SumLoads_:
      SKIFF_SUM_LOADS(SKIFF_CASE)
#undef SKIFF_CASE
#define SKIFF_CASE(name) case IOp::name##Imm_:
      SKIFF_IMM_BINOPS(SKIFF_CASE)
#undef SKIFF_CASE
#define SKIFF_CASE(name) case IOp::name##Load_:
      SKIFF_LOAD_OPERAND_BINOPS(SKIFF_CASE)
#undef SKIFF_CASE
#define SKIFF_CASE(name) case IOp::name##AddImm_:
      SKIFF_ADDIMM_LOADS(SKIFF_CASE)
#undef SKIFF_CASE
      break;
      default: {
        if (o >= IOp::Copy64_) return false;  // other internal ops: not known here
        const OpInfo& info = op_info(static_cast<Opcode>(o));
        if ((info.cls != OpClass::Pure && info.cls != OpClass::Load) || info.num_results != 1 ||
            wide(info.results[0]))
          return false;
        break;
      }
    }
    writes[n++] = operand_back(k, 1);
    return true;
  }

  // store(base + index, a op const) where the address add is the
  // instruction before the NameImm or the one before that (the value's
  // computation in between, `dst[i] = f(...)`): one NameImmStoreIndexed. The
  // add's result was a stack temporary only the store reads; an instruction
  // in between runs before the add then, so it must not write base or index.
  bool emit_imm_store_indexed(IOp imm_store, const Immediates& imm, V* args, uint64_t a, uint64_t bits) {
    IOp fused = imm_store_indexed_variant(imm_store);
    if (fused == IOp::Count || args[0].data.is_local_ref) return false;
    const uint64_t addr = uint64_t{args[0].slot} * 8;
    size_t k = 1;
    while (k <= 2 && !(op_back(k) == IOp::I32Add && operand_back(k, 1) == addr)) ++k;
    if (k > 2) return false;
    const uint64_t base = operand_back(k, 2), index = operand_back(k, 3);
    if (k == 2) {
      uint64_t writes[2];
      size_t n;
      if (!movable_writes(1, writes, n)) return false;
      for (size_t i = 0; i < n; ++i)
        if (writes[i] == base || writes[i] == index || writes[i] == addr) return false;
    }
    IOp moved_op = op_back(1);
    std::vector<uint64_t> moved(code.words().begin() + static_cast<ptrdiff_t>(at_back(1)),
                                code.words().begin() + static_cast<ptrdiff_t>(at_back(0)));
    drop_last_instructions(k + 1);  // the NameImm, what is between, the add
    if (k == 2) {
      history_.push_back({code.pos(), moved_op});
      for (uint64_t w : moved) code.word(w);
    }
    emit(fused);
    code.word(base);
    code.word(index);
    code.word(a);
    code.word(bits);
    code.word(imm.offset);
    return true;
  }

  void srcs(const V* vs, uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) code.slot(src(vs[i]));
  }
  // Remembers the instruction that just wrote `result`, for local.set.
  void produced(size_t dst_word, const V* result) {
    if (dst_word == kNone || result == nullptr) return;
    last_dst_word_ = dst_word;
    last_dst_slot_ = result->slot;
  }

  void copy(wasm::ValType t, uint32_t dst, uint32_t from) {
    if (dst == from) return;
    emit(wide(t) ? IOp::Copy128_ : IOp::Copy64_);
    code.slot(dst);
    code.slot(from);
  }

  // Pure/Trap/Load/Store: operands laid out as code.h says.
  void emit_numeric(Opcode op, const OpInfo& info, const Immediates& imm, V* args, V* result) {
    if (info.cls == OpClass::Pure && info.num_params == 2 && info.num_results == 1 && info.imm == Imm::None &&
        (emit_with_immediate(op, args, result) || emit_with_loaded_operand(op, args, result)))
      return;
    if (info.cls == OpClass::Load && info.imm == Imm::MemArg && emit_addimm_load(op, imm, args, result)) return;
    if (info.cls == OpClass::Store && info.imm == Imm::MemArg &&
        (emit_update(op, imm, args) || emit_imm_store(op, imm, args)))
      return;
    emit(iop(op));
    size_t dst_word = kNone;
    if (info.num_results) {
      dst_word = code.pos();
      code.slot(result->slot);
    }
    switch (info.cls) {
      case OpClass::Load:
        code.slot(src(args[0]));
        if (info.imm == Imm::MemArgLane) code.slot(src(args[1]));
        code.word(imm.offset);
        if (info.imm == Imm::MemArgLane) code.word(imm.lane);
        break;
      case OpClass::Store:
        code.slot(src(args[0]));
        code.slot(src(args[1]));
        code.word(imm.offset);
        if (info.imm == Imm::MemArgLane) code.word(imm.lane);
        break;
      default:
        srcs(args, info.num_params);
        if (info.imm == Imm::Lane) code.word(imm.lane);
        if (info.imm == Imm::Shuffle) {
          code.word(imm.v128.lo());
          code.word(imm.v128.hi());
        }
        break;
    }
    produced(dst_word, result);
  }

  // ---- references to locals --------------------------------------------------

  void note_ref(S& s) { lowest_ref_ = std::min(lowest_ref_, s.stack.size()); }

  void materialise_entry(V& v) {
    if (!v.data.is_local_ref) return;
    copy(v.type, v.slot, v.data.local_slot);
    v.data = ValueData{};
  }
  // Values popped for a block end/else: they must be in their home slots,
  // which are the label's slots.
  void materialise(uint32_t n, V* vs) {
    for (uint32_t i = 0; i < n; ++i)
      if (vs[i].data.is_local_ref) copy(vs[i].type, vs[i].slot, vs[i].data.local_slot);
  }
  void materialise_all(S& s) {
    for (size_t i = lowest_ref_; i < s.stack.size(); ++i) materialise_entry(s.stack[i]);
    lowest_ref_ = kNone;
  }

  // Writes `value` to local `index`. Returns true if it did so by retargeting
  // the instruction that produced the value.
  bool store_local(S& s, uint32_t index, const V& value) {
    uint32_t local = s.local_slot[index];
    // Entries still reading the old content get their own copy first.
    for (size_t i = lowest_ref_; i < s.stack.size(); ++i) {
      V& e = s.stack[i];
      if (e.data.is_local_ref && e.data.local_slot == local) materialise_entry(e);
    }
    if (!value.data.is_local_ref && last_dst_word_ != kNone && last_dst_slot_ == value.slot) {
      code.at(last_dst_word_) = uint64_t{local} * 8;
      last_dst_word_ = kNone;
      return true;
    }
    copy(s.local_types[index], local, src(value));
    return false;
  }

  // ---- branches -----------------------------------------------------------------

  // Whether the values a branch carries are not all in the label's slots.
  bool needs_moves(const C& c, const V* values) const {
    uint32_t dst = c.slot_base;
    for (wasm::ValType t : c.label_types()) {
      if (src(*values) != dst) return true;
      dst += slot_count(t);
      ++values;
    }
    return false;
  }

  // The target operand of a branch at `instr` to label `c`.
  void target(C& c, size_t instr) {
    size_t word = code.pos();
    code.word(0);
    target_at(c, word, instr);
  }
  void target_at(C& c, size_t word, size_t instr) {
    if (c.kind == BlockKind::Loop) code.at(word) = offset(c.data.loop_pos, instr);
    else c.data.patches.push_back(Patch{word, instr});
  }
  void patch(const Patch& p, size_t label) { code.at(p.word) = offset(label, p.instr); }

  // Unconditional branch: move the carried values into the label's slots
  // and jump (or return, for the function's own label).
  void branch(S& s, uint32_t depth, V* values) {
    if (s.is_function_label(depth)) {
      emit_return(s, values);
      return;
    }
    C& c = s.label(depth);
    // Destinations are at or below each value's home slot and above every
    // local, so copying upwards never overwrites a value not yet moved.
    uint32_t dst = c.slot_base;
    const V* v = values;
    for (wasm::ValType t : c.label_types()) {
      copy(t, dst, src(*v++));
      dst += slot_count(t);
    }
    size_t at = emit(IOp::Br_);
    target(c, at);
  }

  // Results go to slots [0, result_slots), which may overlap locals that
  // later results still read: those go through their home slots first.
  void emit_return(S& s, V* values) {
    size_t n = s.type.results.size();
    // A single result computed by the previous instruction is written
    // straight to slot 0.
    if (n == 1 && !values[0].data.is_local_ref && last_dst_word_ != kNone && last_dst_slot_ == values[0].slot) {
      code.at(last_dst_word_) = 0;
      emit(IOp::Return_);
      return;
    }
    reroute_.assign(n, false);
    for (size_t i = 0; i < n; ++i) {
      if (values[i].data.is_local_ref && values[i].data.local_slot < s.result_slots) {
        copy(values[i].type, values[i].slot, values[i].data.local_slot);
        reroute_[i] = true;
      }
    }
    uint32_t dst = 0;
    for (size_t i = 0; i < n; ++i) {
      copy(values[i].type, dst, reroute_[i] ? values[i].slot : src(values[i]));
      dst += slot_count(values[i].type);
    }
    emit(IOp::Return_);
  }

  uint32_t arg_base(S& s, const FuncType& type, V* args) {
    for (size_t i = 0; i < type.params.size(); ++i)
      if (args[i].data.is_local_ref) copy(args[i].type, args[i].slot, args[i].data.local_slot);
    return type.params.empty() ? s.next_slot() : args[0].slot;
  }

  struct Emitted {
    size_t at;  // first word
    IOp op;
  };
  std::vector<Emitted> history_;  // instructions emitted since the last label, oldest first
  size_t entry_hot_weight_ = kNone;
  size_t last_dst_word_ = kNone;  // destination operand of the last instruction, if it produced a value
  uint32_t last_dst_slot_ = 0;
  size_t lowest_ref_ = kNone;     // no stack entry below this index refers to a local
  std::vector<bool> reroute_;
};
static_assert(wasm::BodyInterface<Lowering>);

// SKIFF_DUMP_CODE=1: a listing of every function as it is lowered, on stderr.
void dump_code(uint32_t func_index, const std::vector<uint64_t>& words) {
  std::fprintf(stderr, "func %u:\n", func_index);
  for (size_t pc = 0; pc < words.size();) {
    const bool at_entry = words[pc] == tier_up_handler(TierUpOp::HotCountEntry);
    if (at_entry || words[pc] == tier_up_handler(TierUpOp::HotCount)) {
      std::fprintf(stderr, "  %5zu  %-24s weight %llu\n", pc, at_entry ? "HotCountEntry" : "HotCount",
                   static_cast<unsigned long long>(pc + 2 < words.size() ? words[pc + 2] : 0));
      pc += kTierUpOpWords[static_cast<size_t>(TierUpOp::HotCount)];
      continue;
    }
    IOp op = iop_of_handler(words[pc]);
    if (op == IOp::Count) {
      std::fprintf(stderr, "  %5zu  ?\n", pc);
      return;
    }
    size_t n = instruction_words(op, &words[pc]);
    std::fprintf(stderr, "  %5zu  %-24s", pc, iop_name(op));
    for (size_t k = 1; k < n && pc + k < words.size(); ++k)
      std::fprintf(stderr, " %lld", static_cast<long long>(words[pc + k]));
    std::fprintf(stderr, "\n");
    pc += n;
  }
}

}  // namespace

Result<void> lower_function(const wasm::Module& module, uint32_t defined_index, rt::CompiledFunc& out,
                            bool count_hotness) {
  if (defined_index >= module.bodies.size())
    return Error(ErrorCode::Internal, Error::kNoOffset, "no such defined function");
  uint32_t func_index = module.num_imported_funcs + defined_index;
  Lowering lowering;
  if (count_hotness) lowering.counted = &out;
  // The body was validated at load: decode it again without the checks.
  wasm::BodyDecoder<wasm::NoValidation, Lowering> decoder(module, func_index, lowering);
  SKIFF_TRY(decoder.decode());
  const auto& st = decoder.state();
  std::vector<uint64_t>& words = lowering.code.words();
  if (words.empty()) lowering.code.op(IOp::Unreachable_);
  static const bool dump = std::getenv("SKIFF_DUMP_CODE") != nullptr;
  if (dump) dump_code(func_index, words);
  out.param_slots = st.param_slots;
  out.local_slots = st.local_slots;
  out.result_slots = st.result_slots;
  out.frame_slots = std::max(st.max_slot, st.result_slots);
  out.storage = std::move(words);
  out.code.store(out.storage.data(), std::memory_order_release);
  return {};
}

Result<void> ensure_lowered(const rt::CompiledModule& module, uint32_t defined_index) {
  if (!module.module || defined_index >= module.module->bodies.size())
    return Error(ErrorCode::Internal, Error::kNoOffset, "no such defined function");
  rt::CompiledFunc& f = module.funcs[defined_index];
  if (f.code.load(std::memory_order_acquire) != nullptr) return {};
  std::lock_guard<std::mutex> lock(f.lower_mutex);
  if (f.code.load(std::memory_order_relaxed) != nullptr) return {};
  return lower_function(*module.module, defined_index, f, module.tier_up != nullptr);
}

}  // namespace skiff::interp

// Tier 1's code generator (baseline.h). One BodyDecoder pass per function;
// each hook reads its operands from their home slots into scratch
// registers, computes, and writes the result to its home slot, so no value
// lives in a register between two instructions and control flow needs no
// merging of register states.
//
// Frame of wasm_func_N (after the prologue):
//   rbp        saved rbp, then saved r12 and rbx below it
//   rsp + 64   slot k at rsp + 64 + 8k: locals, then the operand stack
//              (the frame's size is checked against the stack limit first)
//   rsp + 0    four 16-byte cells for fallback ops (fallback_ops.h)
// Registers: r13 the instance (swiftself, callee-saved, never written),
// r12 memory 0's base. A 4-byte value is stored zero-extended to its
// 8-byte slot, as tier 0 stores it.
#include "baseline/baseline.h"

#include <xbyak/xbyak.h>
#include <xbyak/xbyak_util.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "baseline/elf_object.h"
#include "llvm/abi.h"
#include "llvm/fallback_ops.h"
#include "wasm/body_decoder.h"

namespace skiff::baseline {

namespace {

using namespace Xbyak::util;
using wasm::BlockKind;
using wasm::Immediates;
using wasm::OpClass;
using wasm::Opcode;
using wasm::OpInfo;
namespace layout = llvmjit::layout;

constexpr int kIoBytes = 4 * static_cast<int>(llvmjit::kFallbackCellBytes);

// The names of the opcode enumerators, for skiff_op_NAME symbols.
constexpr const char* kOpNames[] = {
#define SKIFF_OP(name, text, prefix, code, imm, cls, sig, arg) #name,
#include "wasm/opcodes.def"
#undef SKIFF_OP
};

// Xbyak writes into plain heap memory: the bytes are copied into an ELF
// object, never run from here.
struct PlainAllocator : Xbyak::Allocator {
  uint8_t* alloc(size_t size) override { return static_cast<uint8_t*>(std::malloc(size)); }
  void free(uint8_t* p) override { std::free(p); }
  bool useProtect() const override { return false; }
};

bool is_float(ValType t) { return t == ValType::F32 || t == ValType::F64; }
bool is_wide(ValType t) { return t == ValType::I64 || t == ValType::F64 || is_ref(t); }

// A signature tier 2's convention passes in registers only: up to six
// integer and eight float parameters, no v128, at most one result.
bool register_signature(const wasm::FuncType& type) {
  int ints = 0, floats = 0;
  for (ValType t : type.params) {
    if (t == ValType::V128) return false;
    (is_float(t) ? floats : ints)++;
  }
  if (ints > 6 || floats > 8 || type.results.size() > 1) return false;
  return type.results.empty() || type.results[0] != ValType::V128;
}

const Xbyak::Reg64 kIntArgs[] = {rdi, rsi, rdx, rcx, r8, r9};

// What a float comparison tests after ucomis(a, b).
enum class FloatCondition { Above, AboveOrEqual, Equal, NotEqual };

class FunctionCompiler {
 public:
  struct ValueData {};
  struct ControlData {
    Xbyak::Label* label = nullptr;       // where branches to this block go
    Xbyak::Label* else_label = nullptr;  // ifs: the else arm, or the end without one
    bool has_else = false;
  };
  using S = wasm::StateOf<FunctionCompiler>;
  using V = S::Value;
  using C = S::Control;

  FunctionCompiler(Xbyak::CodeGenerator& gen, const wasm::Module& module, bool interruptible)
      : g_(gen), module_(module), interruptible_(interruptible) {}

  bool supported() const { return supported_; }
  const char* why_unsupported() const { return why_; }
  const std::vector<ElfCall>& calls() const { return calls_; }
  // Jump tables to fill once label offsets are known: (table offset, targets).
  std::vector<std::pair<size_t, std::vector<Xbyak::Label*>>>& jump_tables() { return jump_tables_; }
  Xbyak::Label& body_label() { return body_; }

  // ---- frame ------------------------------------------------------------------------------

  void start_function(S& s) {
    if (!register_signature(s.type)) return unsupported("signature");
    g_.L(body_);
    g_.push(rbp);
    g_.mov(rbp, rsp);
    g_.push(r12);
    g_.push(rbx);
    // The frame's lowest address against the stack limit before anything
    // is written there: a large frame must not reach past the margin below
    // the limit. mov eax, imm32: the size is known at the end
    // (finish_function). rax, r10 and r11 carry no argument.
    g_.db(0xB8);
    frame_size_at_ = g_.getSize();
    g_.dd(0);
    g_.mov(r11, rsp);
    g_.sub(r11, rax);
    g_.cmp(r11, qword[r13 + layout::kInstanceNativeStackLimit]);
    g_.jb(trap_label(TrapKind::StackExhausted), Xbyak::CodeGenerator::T_NEAR);
    g_.mov(rsp, r11);
    if (!module_.memories.empty()) g_.mov(r12, qword[r13 + layout::kInstanceMem0]);
    int ints = 0, floats = 0;
    for (size_t i = 0; i < s.type.params.size(); ++i) {
      ValType t = s.type.params[i];
      auto at = slot(s.local_slot[i]);
      if (t == ValType::F32) {
        g_.movd(eax, Xbyak::Xmm(floats++));
        g_.mov(at, rax);
      } else if (t == ValType::F64) {
        g_.movq(at, Xbyak::Xmm(floats++));
      } else if (t == ValType::I32) {
        g_.mov(eax, kIntArgs[ints++].cvt32());
        g_.mov(at, rax);
      } else {
        g_.mov(at, kIntArgs[ints++]);
      }
    }
    if (s.local_slots > s.param_slots) {
      g_.xor_(eax, eax);
      for (uint32_t k = s.param_slots; k < s.local_slots; ++k) g_.mov(slot(k), rax);
    }
    check_interrupts();
  }

  void finish_function(S& s) {
    const uint32_t size = (static_cast<uint32_t>(kIoBytes) + 8 * s.max_slot + 15) & ~15u;
    frame_size_ = size;
    // Trap stubs: the call's return address stays inside this function.
    for (auto& [kind, label] : trap_labels_) {
      g_.L(*label);
      g_.mov(edi, kind);
      call_helper("skiff_rt_trap");
    }
    if (dynamic_trap_used_) {
      g_.L(dynamic_trap_);
      g_.mov(edi, eax);
      call_helper("skiff_rt_trap");
    }
  }

  uint32_t frame_size() const { return frame_size_; }
  size_t frame_size_at() const { return frame_size_at_; }

  // ---- values -----------------------------------------------------------------------------

  void constant(S&, Opcode op, const Immediates& imm, V& result) {
    if (op == Opcode::V128Const) {
      store_imm64(result.slot, imm.v128.lo());
      store_imm64(result.slot + 1, imm.v128.hi());
      return;
    }
    uint64_t bits = imm.bits;
    if (op == Opcode::I32Const || op == Opcode::F32Const) bits &= 0xffffffffu;
    store_imm64(result.slot, bits);
  }

  void local_get(S& s, uint32_t index, V& result) { copy_value(s.local_types[index], s.local_slot[index], result.slot); }
  void local_set(S& s, uint32_t index, V& value) { copy_value(value.type, value.slot, s.local_slot[index]); }
  void local_tee(S& s, uint32_t index, V& value, V& result) {
    copy_value(value.type, value.slot, s.local_slot[index]);
    copy_value(value.type, value.slot, result.slot);
  }
  void drop(S&, V&) {}

  void select(S&, V* vs, V& result) {
    Xbyak::Label keep;
    ValType t = vs[0].type;
    if (t == ValType::V128) {
      g_.movdqu(xmm0, xword[slot_address(vs[0].slot)]);
      g_.cmp(dword[slot_address(vs[2].slot)], 0);
      g_.jnz(keep, Xbyak::CodeGenerator::T_NEAR);
      g_.movdqu(xmm0, xword[slot_address(vs[1].slot)]);
      g_.L(keep);
      g_.movdqu(xword[slot_address(result.slot)], xmm0);
      return;
    }
    g_.mov(rax, slot(vs[0].slot));
    g_.mov(rcx, slot(vs[1].slot));
    g_.cmp(dword[slot_address(vs[2].slot)], 0);
    g_.cmovz(rax, rcx);
    g_.mov(slot(result.slot), rax);
  }

  // ---- control ----------------------------------------------------------------------------

  void block(S&, C& c) {
    c.data.label = new_label();
    if (c.kind == BlockKind::Loop) g_.L(*c.data.label);
  }

  void if_(S&, V& cond, C& c) {
    c.data.label = new_label();
    c.data.else_label = new_label();
    g_.cmp(dword[slot_address(cond.slot)], 0);
    g_.jz(*c.data.else_label, Xbyak::CodeGenerator::T_NEAR);
  }

  void else_(S&, C& c, V* results) {
    if (live_) {
      copy_to_label(c, c.sig.result_types(), results);
      g_.jmp(*c.data.label, Xbyak::CodeGenerator::T_NEAR);
    }
    c.data.has_else = true;
    g_.L(*c.data.else_label);
    live_ = true;
  }

  void end(S& s, C& c, V* results) {
    if (live_) copy_to_label(c, c.sig.result_types(), results);
    if (c.kind == BlockKind::Function) {
      g_.L(return_label_);
      emit_return(s, c);
      return;
    }
    if (c.kind == BlockKind::If && !c.data.has_else) g_.L(*c.data.else_label);
    if (c.kind != BlockKind::Loop) g_.L(*c.data.label);
    live_ = true;
  }

  void br(S& s, uint32_t depth, V* values) {
    branch_to(s, s.label(depth), values);
    live_ = false;
  }

  void br_if(S& s, uint32_t depth, V& cond, V* values) {
    Xbyak::Label skip;
    g_.cmp(dword[slot_address(cond.slot)], 0);
    g_.jz(skip, Xbyak::CodeGenerator::T_NEAR);
    branch_to(s, s.label(depth), values);
    g_.L(skip);
  }

  void br_table(S& s, const std::vector<uint32_t>& targets, V& index, V* values) {
    // A table of 32-bit offsets from the table itself, filled in once the
    // code is laid out; the default (the last target) takes every index
    // past the arms.
    std::vector<Xbyak::Label*> arms;
    for (uint32_t depth : targets) {
      Xbyak::Label* arm = new_label();
      arms.push_back(arm);
      (void)depth;
    }
    const uint32_t num_arms = static_cast<uint32_t>(targets.size() - 1);
    Xbyak::Label table;
    g_.mov(eax, dword[slot_address(index.slot)]);
    g_.mov(ecx, num_arms);
    g_.cmp(eax, ecx);
    g_.cmova(eax, ecx);
    g_.lea(rcx, ptr[rip + table]);
    g_.movsxd(rax, dword[rcx + rax * 4]);
    g_.add(rax, rcx);
    g_.jmp(rax);
    g_.align(4);
    g_.L(table);
    jump_tables_.emplace_back(g_.getSize(), arms);
    for (size_t i = 0; i < arms.size(); ++i) g_.dd(0);
    for (size_t i = 0; i < targets.size(); ++i) {
      g_.L(*arms[i]);
      branch_to(s, s.label(targets[i]), values);
    }
    live_ = false;
  }

  void return_(S& s, V* values) {
    C& fn = s.controls[0];
    copy_to_label(fn, fn.sig.result_types(), values);
    g_.jmp(return_label_, Xbyak::CodeGenerator::T_NEAR);
    live_ = false;
  }

  void call(S& s, uint32_t func_index, const wasm::FuncType& type, V* args) {
    const uint32_t buf = s.next_slot();
    Xbyak::Label runtime, done;
    if (func_index >= module_.num_imported_funcs && register_signature(type)) {
      g_.mov(rax, qword[r13 + layout::kInstanceNativeBodies]);
      g_.mov(rax, qword[rax + 8 * (func_index - module_.num_imported_funcs)]);
      g_.test(rax, rax);
      g_.jz(runtime, Xbyak::CodeGenerator::T_NEAR);
      load_arguments(type, args);
      g_.call(rax);
      store_result(type, buf);
      g_.jmp(done, Xbyak::CodeGenerator::T_NEAR);
    }
    g_.L(runtime);
    g_.mov(rdi, r13);
    g_.mov(esi, func_index);
    g_.lea(rdx, ptr[slot_address(buf)]);
    call_helper("skiff_rt_call");
    g_.L(done);
    check_interrupts_after_call();
  }

  void call_indirect(S& s, uint32_t type_index, uint32_t table_index, const wasm::FuncType&, V*, V& index) {
    const uint32_t buf = s.next_slot();
    g_.mov(rdi, r13);
    g_.mov(esi, table_index);
    g_.mov(edx, type_index);
    g_.mov(ecx, dword[slot_address(index.slot)]);
    g_.lea(r8, ptr[slot_address(buf)]);
    call_helper("skiff_rt_call_indirect");
    check_interrupts_after_call();
  }

  // ---- instructions with operands -----------------------------------------------------------

  void op(S& s, Opcode op, const Immediates& imm, V* args, uint32_t nargs, V* result) {
    const OpInfo& info = wasm::op_info(op);
    switch (info.cls) {
      case OpClass::Special: return special(op, imm, args, result);
      case OpClass::Load: return load(op, info, imm, args, result);
      case OpClass::Store: return store(op, info, imm, args);
      case OpClass::Pure:
      case OpClass::Trap:
        if (numeric(op, args, result)) return;
        return fallback(op, info, imm, args, result, nullptr);
    }
  }

 private:
  // ---- slots and registers ------------------------------------------------------------------

  Xbyak::RegExp slot_address(uint32_t k) const { return rsp + kIoBytes + 8 * static_cast<int>(k); }
  Xbyak::Address slot(uint32_t k) const { return qword[slot_address(k)]; }

  void store_imm64(uint32_t k, uint64_t bits) {
    if (static_cast<int64_t>(bits) == static_cast<int32_t>(bits)) {
      g_.mov(slot(k), static_cast<int32_t>(bits));
    } else {
      g_.mov(rax, bits);
      g_.mov(slot(k), rax);
    }
  }

  void copy_value(ValType t, uint32_t from, uint32_t to) {
    if (from == to) return;
    if (t == ValType::V128) {
      g_.movdqu(xmm0, xword[slot_address(from)]);
      g_.movdqu(xword[slot_address(to)], xmm0);
      return;
    }
    g_.mov(rax, slot(from));
    g_.mov(slot(to), rax);
  }

  Xbyak::Label* new_label() { return &labels_.emplace_back(); }

  Xbyak::Label& trap_label(TrapKind kind) {
    auto [it, fresh] = trap_labels_.try_emplace(static_cast<uint32_t>(kind), nullptr);
    if (fresh) it->second = new_label();
    return *it->second;
  }

  void unsupported(const char* why) {
    if (supported_) why_ = why;
    supported_ = false;
  }

  void call_helper(const std::string& name) {
    g_.db(0xE8);
    calls_.push_back({g_.getSize(), name});
    g_.dd(0);
  }

  // The store's flag, then skiff_rt_check_interrupts (fuel and epoch) when set.
  void check_interrupts() {
    if (!interruptible_) return;
    Xbyak::Label skip;
    g_.mov(rdi, qword[r13 + layout::kInstanceStore]);
    g_.cmp(byte[rdi + layout::kStoreCheckInterrupts], 0);
    g_.jz(skip, Xbyak::CodeGenerator::T_NEAR);
    call_helper("skiff_rt_check_interrupts");
    g_.L(skip);
  }
  // Tier 2 re-reads the flag after calls; here every check reads it.
  void check_interrupts_after_call() {}

  // ---- branches -----------------------------------------------------------------------------

  // Moves the values a branch carries to the label's slots.
  void copy_to_label(C& target, std::span<const ValType> types, V* values) {
    uint32_t to = target.slot_base;
    for (size_t i = 0; i < types.size(); ++i) {
      copy_value(types[i], values[i].slot, to);
      to += slot_count(types[i]);
    }
  }

  void branch_to(S& s, C& target, V* values) {
    copy_to_label(target, target.label_types(), values);
    if (target.kind == BlockKind::Loop) check_interrupts();  // a back-edge
    if (target.kind == BlockKind::Function) {
      g_.jmp(return_label_, Xbyak::CodeGenerator::T_NEAR);
    } else {
      g_.jmp(*target.data.label, Xbyak::CodeGenerator::T_NEAR);
    }
  }

  void emit_return(S& s, C& fn) {
    if (!s.type.results.empty()) {
      ValType t = s.type.results[0];
      auto at = slot_address(fn.slot_base);
      if (t == ValType::F32) g_.movss(xmm0, dword[at]);
      else if (t == ValType::F64) g_.movsd(xmm0, qword[at]);
      else if (t == ValType::I32) g_.mov(eax, dword[at]);
      else g_.mov(rax, qword[at]);
    }
    g_.lea(rsp, ptr[rbp - 16]);
    g_.pop(rbx);
    g_.pop(r12);
    g_.pop(rbp);
    g_.ret();
  }

  // ---- calls ------------------------------------------------------------------------------

  void load_arguments(const wasm::FuncType& type, V* args) {
    int ints = 0, floats = 0;
    for (size_t i = 0; i < type.params.size(); ++i) {
      ValType t = type.params[i];
      auto at = slot_address(args[i].slot);
      if (t == ValType::F32) g_.movss(Xbyak::Xmm(floats++), dword[at]);
      else if (t == ValType::F64) g_.movsd(Xbyak::Xmm(floats++), qword[at]);
      else g_.mov(kIntArgs[ints++], qword[at]);
    }
  }

  void store_result(const wasm::FuncType& type, uint32_t to) {
    if (type.results.empty()) return;
    ValType t = type.results[0];
    if (t == ValType::F32) {
      g_.movd(eax, xmm0);
      g_.mov(slot(to), rax);
    } else if (t == ValType::F64) {
      g_.movq(slot(to), xmm0);
    } else if (t == ValType::I32) {
      g_.mov(eax, eax);
      g_.mov(slot(to), rax);
    } else {
      g_.mov(slot(to), rax);
    }
  }

  // ---- memory -----------------------------------------------------------------------------

  // rax = zero-extended address, the offset folded in when it fits a disp32.
  Xbyak::RegExp effective_address(const V& address, uint32_t offset) {
    g_.mov(eax, dword[slot_address(address.slot)]);
    if (offset >= 0x80000000u) {
      g_.mov(ecx, offset);
      g_.add(rax, rcx);
      return r12 + rax;
    }
    return r12 + rax + static_cast<int>(offset);
  }

  void load(Opcode op, const OpInfo& info, const Immediates& imm, V* args, V* result) {
    Xbyak::RegExp p = effective_address(args[0], imm.offset);
    const uint32_t r = result->slot;
    switch (op) {
      case Opcode::I32Load: case Opcode::F32Load: g_.mov(ecx, dword[p]); break;
      case Opcode::I64Load: case Opcode::F64Load: g_.mov(rcx, qword[p]); break;
      case Opcode::I32Load8S: g_.movsx(ecx, byte[p]); break;
      case Opcode::I32Load8U: case Opcode::I64Load8U: g_.movzx(ecx, byte[p]); break;
      case Opcode::I32Load16S: g_.movsx(ecx, word[p]); break;
      case Opcode::I32Load16U: case Opcode::I64Load16U: g_.movzx(ecx, word[p]); break;
      case Opcode::I64Load8S: g_.movsx(rcx, byte[p]); break;
      case Opcode::I64Load16S: g_.movsx(rcx, word[p]); break;
      case Opcode::I64Load32S: g_.movsxd(rcx, dword[p]); break;
      case Opcode::I64Load32U: g_.mov(ecx, dword[p]); break;
      case Opcode::V128Load:
        g_.movdqu(xmm0, xword[p]);
        g_.movdqu(xword[slot_address(r)], xmm0);
        return;
      default: {
        // Other SIMD loads: touch both ends of the access here, so that an
        // out-of-bounds one faults in this code, then the interpreter's op.
        probe(p, info.arg);
        g_.lea(rsi, ptr[p]);
        return fallback(op, info, imm, args, result, &rsi);
      }
    }
    g_.mov(slot(r), rcx);
  }

  void store(Opcode op, const OpInfo& info, const Immediates& imm, V* args) {
    Xbyak::RegExp p = effective_address(args[0], imm.offset);
    const auto value = slot_address(args[1].slot);
    switch (op) {
      case Opcode::I32Store: case Opcode::F32Store: case Opcode::I64Store32:
        g_.mov(ecx, dword[value]);
        g_.mov(dword[p], ecx);
        return;
      case Opcode::I64Store: case Opcode::F64Store:
        g_.mov(rcx, qword[value]);
        g_.mov(qword[p], rcx);
        return;
      case Opcode::I32Store8: case Opcode::I64Store8:
        g_.mov(cl, byte[value]);
        g_.mov(byte[p], cl);
        return;
      case Opcode::I32Store16: case Opcode::I64Store16:
        g_.mov(cx, word[value]);
        g_.mov(word[p], cx);
        return;
      case Opcode::V128Store:
        g_.movdqu(xmm0, xword[value]);
        g_.movdqu(xword[p], xmm0);
        return;
      default:
        probe(p, info.arg);
        g_.lea(rsi, ptr[p]);
        return fallback(op, info, imm, args, nullptr, &rsi);
    }
  }

  void probe(const Xbyak::RegExp& p, uint32_t width) {
    g_.mov(cl, byte[p]);
    if (width > 1) g_.mov(cl, byte[p + static_cast<int>(width - 1)]);
  }

  // ---- special instructions -------------------------------------------------------------------

  void special(Opcode op, const Immediates& imm, V* args, V* result) {
    switch (op) {
      case Opcode::Unreachable:
        g_.jmp(trap_label(TrapKind::Unreachable), Xbyak::CodeGenerator::T_NEAR);
        live_ = false;
        return;
      case Opcode::Nop: return;
      case Opcode::GlobalGet:
      case Opcode::GlobalSet: {
        g_.mov(rdx, qword[r13 + layout::kInstanceGlobals]);
        g_.mov(rdx, qword[rdx + 8 * static_cast<int>(imm.index)]);
        const bool v128 = module_.globals[imm.index].type == ValType::V128;
        auto value = rdx + layout::kGlobalValue;
        uint32_t k = op == Opcode::GlobalGet ? result->slot : args[0].slot;
        if (v128) {
          if (op == Opcode::GlobalGet) {
            g_.movdqu(xmm0, xword[value]);
            g_.movdqu(xword[slot_address(k)], xmm0);
          } else {
            g_.movdqu(xmm0, xword[slot_address(k)]);
            g_.movdqu(xword[value], xmm0);
          }
        } else if (op == Opcode::GlobalGet) {
          g_.mov(rax, qword[value]);
          g_.mov(slot(k), rax);
        } else {
          g_.mov(rax, slot(k));
          g_.mov(qword[value], rax);
        }
        return;
      }
      case Opcode::MemorySize:
        g_.mov(rdi, r13);
        call_helper("skiff_rt_memory_size");
        g_.mov(eax, eax);
        g_.mov(slot(result->slot), rax);
        return;
      case Opcode::MemoryGrow:
        g_.mov(rdi, r13);
        g_.mov(esi, dword[slot_address(args[0].slot)]);
        call_helper("skiff_rt_memory_grow");
        g_.mov(eax, eax);
        g_.mov(slot(result->slot), rax);
        return;
      case Opcode::MemoryFill:
      case Opcode::MemoryCopy:
        g_.mov(rdi, r13);
        g_.mov(esi, dword[slot_address(args[0].slot)]);
        g_.mov(edx, dword[slot_address(args[1].slot)]);
        g_.mov(ecx, dword[slot_address(args[2].slot)]);
        call_helper(op == Opcode::MemoryFill ? "skiff_rt_memory_fill" : "skiff_rt_memory_copy");
        return;
      case Opcode::RefNull:
        g_.mov(slot(result->slot), 0);
        return;
      case Opcode::RefIsNull:
        g_.xor_(eax, eax);
        g_.cmp(slot(args[0].slot), 0);
        g_.sete(al);
        g_.mov(slot(result->slot), rax);
        return;
      default:
        return unsupported(wasm::op_name(op));
    }
  }

  // ---- numeric instructions -------------------------------------------------------------------

  // The interpreter's op through its C entry (fallback_ops.h); `address`
  // holds the host address of a memory op.
  void fallback(Opcode op, const OpInfo& info, const Immediates& imm, V* args, V* result,
                const Xbyak::Reg64* address) {
    if (llvmjit::fallback_op(op) == nullptr) return unsupported(wasm::op_name(op));
    const bool memory_op = info.cls == OpClass::Load || info.cls == OpClass::Store;
    for (uint32_t i = memory_op ? 1 : 0; i < info.num_params; ++i) {
      const int cell = static_cast<int>(i * llvmjit::kFallbackCellBytes);
      if (info.params[i] == ValType::V128) {
        g_.movdqu(xmm0, xword[slot_address(args[i].slot)]);
        g_.movdqu(xword[rsp + cell], xmm0);
      } else {
        g_.mov(rax, slot(args[i].slot));
        g_.mov(qword[rsp + cell], rax);
      }
    }
    const int imm_cell = static_cast<int>(llvmjit::kFallbackImmCell * llvmjit::kFallbackCellBytes);
    if (info.imm == wasm::Imm::Lane || info.imm == wasm::Imm::MemArgLane) g_.mov(dword[rsp + imm_cell], imm.lane);
    if (info.imm == wasm::Imm::Shuffle) {
      g_.mov(rax, imm.v128.lo());
      g_.mov(qword[rsp + imm_cell], rax);
      g_.mov(rax, imm.v128.hi());
      g_.mov(qword[rsp + imm_cell + 8], rax);
    }
    if (address == nullptr) g_.xor_(esi, esi);
    g_.mov(rdi, rsp);
    call_helper(std::string("skiff_op_") + kOpNames[static_cast<size_t>(op)]);
    if (info.cls == OpClass::Trap) {
      g_.test(eax, eax);
      g_.jnz(dynamic_trap_, Xbyak::CodeGenerator::T_NEAR);
      dynamic_trap_used_ = true;
    }
    if (info.num_results == 0) return;
    ValType t = info.results[0];
    if (t == ValType::V128) {
      g_.movdqu(xmm0, xword[rsp]);
      g_.movdqu(xword[slot_address(result->slot)], xmm0);
    } else if (is_wide(t)) {
      g_.mov(rax, qword[rsp]);
      g_.mov(slot(result->slot), rax);
    } else {
      g_.mov(eax, dword[rsp]);
      g_.mov(slot(result->slot), rax);
    }
  }

  // Scalar operations expanded inline; false leaves the op to fallback().
  bool numeric(Opcode op, V* args, V* result) {
    auto a = [&](int i) { return slot_address(args[i].slot); };
    const uint32_t r = result != nullptr ? result->slot : 0;
    // i32: eax = a op b, then stored zero-extended.
    auto i32_binary = [&](auto&& emit) {
      g_.mov(eax, dword[a(0)]);
      g_.mov(ecx, dword[a(1)]);
      emit();
      g_.mov(slot(r), rax);
      return true;
    };
    auto i64_binary = [&](auto&& emit) {
      g_.mov(rax, qword[a(0)]);
      g_.mov(rcx, qword[a(1)]);
      emit();
      g_.mov(slot(r), rax);
      return true;
    };
    // Comparisons: flags from cmp, then a setcc into the zero-extended result.
    auto compare = [&](bool wide, auto&& setcc) {
      if (wide) {
        g_.mov(rcx, qword[a(0)]);
        g_.cmp(rcx, qword[a(1)]);
      } else {
        g_.mov(ecx, dword[a(0)]);
        g_.cmp(ecx, dword[a(1)]);
      }
      g_.mov(eax, 0);
      setcc();
      g_.mov(slot(r), rax);
      return true;
    };
    using F = FloatCondition;
    switch (op) {
      case Opcode::I32Add: return i32_binary([&] { g_.add(eax, ecx); });
      case Opcode::I32Sub: return i32_binary([&] { g_.sub(eax, ecx); });
      case Opcode::I32Mul: return i32_binary([&] { g_.imul(eax, ecx); });
      case Opcode::I32And: return i32_binary([&] { g_.and_(eax, ecx); });
      case Opcode::I32Or: return i32_binary([&] { g_.or_(eax, ecx); });
      case Opcode::I32Xor: return i32_binary([&] { g_.xor_(eax, ecx); });
      case Opcode::I32Shl: return i32_binary([&] { g_.shl(eax, cl); });
      case Opcode::I32ShrS: return i32_binary([&] { g_.sar(eax, cl); });
      case Opcode::I32ShrU: return i32_binary([&] { g_.shr(eax, cl); });
      case Opcode::I32Rotl: return i32_binary([&] { g_.rol(eax, cl); });
      case Opcode::I32Rotr: return i32_binary([&] { g_.ror(eax, cl); });
      case Opcode::I64Add: return i64_binary([&] { g_.add(rax, rcx); });
      case Opcode::I64Sub: return i64_binary([&] { g_.sub(rax, rcx); });
      case Opcode::I64Mul: return i64_binary([&] { g_.imul(rax, rcx); });
      case Opcode::I64And: return i64_binary([&] { g_.and_(rax, rcx); });
      case Opcode::I64Or: return i64_binary([&] { g_.or_(rax, rcx); });
      case Opcode::I64Xor: return i64_binary([&] { g_.xor_(rax, rcx); });
      case Opcode::I64Shl: return i64_binary([&] { g_.shl(rax, cl); });
      case Opcode::I64ShrS: return i64_binary([&] { g_.sar(rax, cl); });
      case Opcode::I64ShrU: return i64_binary([&] { g_.shr(rax, cl); });
      case Opcode::I64Rotl: return i64_binary([&] { g_.rol(rax, cl); });
      case Opcode::I64Rotr: return i64_binary([&] { g_.ror(rax, cl); });

      case Opcode::I32DivS: case Opcode::I32DivU: case Opcode::I32RemS: case Opcode::I32RemU:
        return divide(op, false, a(0), a(1), r);
      case Opcode::I64DivS: case Opcode::I64DivU: case Opcode::I64RemS: case Opcode::I64RemU:
        return divide(op, true, a(0), a(1), r);

      case Opcode::I32Eq: return compare(false, [&] { g_.sete(al); });
      case Opcode::I32Ne: return compare(false, [&] { g_.setne(al); });
      case Opcode::I32LtS: return compare(false, [&] { g_.setl(al); });
      case Opcode::I32LtU: return compare(false, [&] { g_.setb(al); });
      case Opcode::I32GtS: return compare(false, [&] { g_.setg(al); });
      case Opcode::I32GtU: return compare(false, [&] { g_.seta(al); });
      case Opcode::I32LeS: return compare(false, [&] { g_.setle(al); });
      case Opcode::I32LeU: return compare(false, [&] { g_.setbe(al); });
      case Opcode::I32GeS: return compare(false, [&] { g_.setge(al); });
      case Opcode::I32GeU: return compare(false, [&] { g_.setae(al); });
      case Opcode::I64Eq: return compare(true, [&] { g_.sete(al); });
      case Opcode::I64Ne: return compare(true, [&] { g_.setne(al); });
      case Opcode::I64LtS: return compare(true, [&] { g_.setl(al); });
      case Opcode::I64LtU: return compare(true, [&] { g_.setb(al); });
      case Opcode::I64GtS: return compare(true, [&] { g_.setg(al); });
      case Opcode::I64GtU: return compare(true, [&] { g_.seta(al); });
      case Opcode::I64LeS: return compare(true, [&] { g_.setle(al); });
      case Opcode::I64LeU: return compare(true, [&] { g_.setbe(al); });
      case Opcode::I64GeS: return compare(true, [&] { g_.setge(al); });
      case Opcode::I64GeU: return compare(true, [&] { g_.setae(al); });
      case Opcode::I32Eqz:
        g_.xor_(eax, eax);
        g_.cmp(dword[a(0)], 0);
        g_.sete(al);
        g_.mov(slot(r), rax);
        return true;
      case Opcode::I64Eqz:
        g_.xor_(eax, eax);
        g_.cmp(qword[a(0)], 0);
        g_.sete(al);
        g_.mov(slot(r), rax);
        return true;

      case Opcode::I32Clz: g_.lzcnt(eax, dword[a(0)]); g_.mov(slot(r), rax); return true;
      case Opcode::I32Ctz: g_.tzcnt(eax, dword[a(0)]); g_.mov(slot(r), rax); return true;
      case Opcode::I32Popcnt: g_.popcnt(eax, dword[a(0)]); g_.mov(slot(r), rax); return true;
      case Opcode::I64Clz: g_.lzcnt(rax, qword[a(0)]); g_.mov(slot(r), rax); return true;
      case Opcode::I64Ctz: g_.tzcnt(rax, qword[a(0)]); g_.mov(slot(r), rax); return true;
      case Opcode::I64Popcnt: g_.popcnt(rax, qword[a(0)]); g_.mov(slot(r), rax); return true;

      case Opcode::I32WrapI64: g_.mov(eax, dword[a(0)]); g_.mov(slot(r), rax); return true;
      case Opcode::I64ExtendI32S: g_.movsxd(rax, dword[a(0)]); g_.mov(slot(r), rax); return true;
      case Opcode::I64ExtendI32U: g_.mov(eax, dword[a(0)]); g_.mov(slot(r), rax); return true;
      case Opcode::I32Extend8S: g_.movsx(eax, byte[a(0)]); g_.mov(slot(r), rax); return true;
      case Opcode::I32Extend16S: g_.movsx(eax, word[a(0)]); g_.mov(slot(r), rax); return true;
      case Opcode::I64Extend8S: g_.movsx(rax, byte[a(0)]); g_.mov(slot(r), rax); return true;
      case Opcode::I64Extend16S: g_.movsx(rax, word[a(0)]); g_.mov(slot(r), rax); return true;
      case Opcode::I64Extend32S: g_.movsxd(rax, dword[a(0)]); g_.mov(slot(r), rax); return true;
      // Bits are bits: a reinterpretation is a copy.
      case Opcode::I32ReinterpretF32: case Opcode::F32ReinterpretI32:
      case Opcode::I64ReinterpretF64: case Opcode::F64ReinterpretI64:
        copy_value(ValType::I64, args[0].slot, r);
        return true;

      // Floats: exact IEEE operations; sign ops work on the bits.
      case Opcode::F32Add: return f_binary(false, a(0), a(1), r, [&] { g_.addss(xmm0, xmm1); });
      case Opcode::F32Sub: return f_binary(false, a(0), a(1), r, [&] { g_.subss(xmm0, xmm1); });
      case Opcode::F32Mul: return f_binary(false, a(0), a(1), r, [&] { g_.mulss(xmm0, xmm1); });
      case Opcode::F32Div: return f_binary(false, a(0), a(1), r, [&] { g_.divss(xmm0, xmm1); });
      case Opcode::F64Add: return f_binary(true, a(0), a(1), r, [&] { g_.addsd(xmm0, xmm1); });
      case Opcode::F64Sub: return f_binary(true, a(0), a(1), r, [&] { g_.subsd(xmm0, xmm1); });
      case Opcode::F64Mul: return f_binary(true, a(0), a(1), r, [&] { g_.mulsd(xmm0, xmm1); });
      case Opcode::F64Div: return f_binary(true, a(0), a(1), r, [&] { g_.divsd(xmm0, xmm1); });
      case Opcode::F32Sqrt: g_.sqrtss(xmm0, dword[a(0)]); return store_f32(r);
      case Opcode::F64Sqrt: g_.sqrtsd(xmm0, qword[a(0)]); return store_f64(r);
      case Opcode::F32Ceil: return f_round(false, a(0), r, 0x0a);
      case Opcode::F32Floor: return f_round(false, a(0), r, 0x09);
      case Opcode::F32Trunc: return f_round(false, a(0), r, 0x0b);
      case Opcode::F32Nearest: return f_round(false, a(0), r, 0x08);
      case Opcode::F64Ceil: return f_round(true, a(0), r, 0x0a);
      case Opcode::F64Floor: return f_round(true, a(0), r, 0x09);
      case Opcode::F64Trunc: return f_round(true, a(0), r, 0x0b);
      case Opcode::F64Nearest: return f_round(true, a(0), r, 0x08);
      case Opcode::F32Abs: g_.mov(eax, dword[a(0)]); g_.and_(eax, 0x7fffffff); g_.mov(slot(r), rax); return true;
      case Opcode::F32Neg: g_.mov(eax, dword[a(0)]); g_.xor_(eax, 0x80000000); g_.mov(slot(r), rax); return true;
      case Opcode::F64Abs:
        g_.mov(rax, qword[a(0)]);
        g_.btr(rax, 63);
        g_.mov(slot(r), rax);
        return true;
      case Opcode::F64Neg:
        g_.mov(rax, qword[a(0)]);
        g_.btc(rax, 63);
        g_.mov(slot(r), rax);
        return true;
      case Opcode::F32Copysign:
        g_.mov(eax, dword[a(0)]);
        g_.mov(ecx, dword[a(1)]);
        g_.and_(eax, 0x7fffffff);
        g_.and_(ecx, 0x80000000);
        g_.or_(eax, ecx);
        g_.mov(slot(r), rax);
        return true;
      case Opcode::F64Copysign:
        g_.mov(rax, qword[a(0)]);
        g_.mov(rcx, qword[a(1)]);
        g_.btr(rax, 63);
        g_.shr(rcx, 63);
        g_.shl(rcx, 63);
        g_.or_(rax, rcx);
        g_.mov(slot(r), rax);
        return true;
      // ucomis sets ZF, PF and CF for unordered operands: a > b is "above",
      // and a < b is b > a, so NaN compares false without a parity test.
      case Opcode::F32Eq: return f_compare(false, a(0), a(1), r, F::Equal);
      case Opcode::F32Ne: return f_compare(false, a(0), a(1), r, F::NotEqual);
      case Opcode::F32Lt: return f_compare(false, a(1), a(0), r, F::Above);
      case Opcode::F32Gt: return f_compare(false, a(0), a(1), r, F::Above);
      case Opcode::F32Le: return f_compare(false, a(1), a(0), r, F::AboveOrEqual);
      case Opcode::F32Ge: return f_compare(false, a(0), a(1), r, F::AboveOrEqual);
      case Opcode::F64Eq: return f_compare(true, a(0), a(1), r, F::Equal);
      case Opcode::F64Ne: return f_compare(true, a(0), a(1), r, F::NotEqual);
      case Opcode::F64Lt: return f_compare(true, a(1), a(0), r, F::Above);
      case Opcode::F64Gt: return f_compare(true, a(0), a(1), r, F::Above);
      case Opcode::F64Le: return f_compare(true, a(1), a(0), r, F::AboveOrEqual);
      case Opcode::F64Ge: return f_compare(true, a(0), a(1), r, F::AboveOrEqual);
      case Opcode::F64PromoteF32: g_.cvtss2sd(xmm0, dword[a(0)]); return store_f64(r);
      case Opcode::F32DemoteF64: g_.cvtsd2ss(xmm0, qword[a(0)]); return store_f32(r);
      case Opcode::F32ConvertI32S: g_.mov(eax, dword[a(0)]); g_.cvtsi2ss(xmm0, eax); return store_f32(r);
      case Opcode::F64ConvertI32S: g_.mov(eax, dword[a(0)]); g_.cvtsi2sd(xmm0, eax); return store_f64(r);
      case Opcode::F32ConvertI64S: g_.mov(rax, qword[a(0)]); g_.cvtsi2ss(xmm0, rax); return store_f32(r);
      case Opcode::F64ConvertI64S: g_.mov(rax, qword[a(0)]); g_.cvtsi2sd(xmm0, rax); return store_f64(r);
      // An u32 is exact as a non-negative i64.
      case Opcode::F32ConvertI32U: g_.mov(eax, dword[a(0)]); g_.cvtsi2ss(xmm0, rax); return store_f32(r);
      case Opcode::F64ConvertI32U: g_.mov(eax, dword[a(0)]); g_.cvtsi2sd(xmm0, rax); return store_f64(r);
      default: return false;
    }
  }

  // div and rem with the spec's traps: by zero, and INT_MIN / -1 overflowing
  // (whose remainder is 0, where x86's idiv would fault).
  bool divide(Opcode op, bool wide, const Xbyak::RegExp& a, const Xbyak::RegExp& b, uint32_t r) {
    const bool is_signed = op == Opcode::I32DivS || op == Opcode::I32RemS || op == Opcode::I64DivS ||
                           op == Opcode::I64RemS;
    const bool is_rem = op == Opcode::I32RemS || op == Opcode::I32RemU || op == Opcode::I64RemS ||
                        op == Opcode::I64RemU;
    const Xbyak::Reg64 ax = rax, cx = rcx;
    Xbyak::Label normal, done;
    if (wide) {
      g_.mov(rax, qword[a]);
      g_.mov(rcx, qword[b]);
      g_.test(rcx, rcx);
    } else {
      g_.mov(eax, dword[a]);
      g_.mov(ecx, dword[b]);
      g_.test(ecx, ecx);
    }
    g_.jz(trap_label(TrapKind::IntDivideByZero), Xbyak::CodeGenerator::T_NEAR);
    if (is_signed) {
      if (wide) g_.cmp(rcx, -1);
      else g_.cmp(ecx, -1);
      g_.jne(normal, Xbyak::CodeGenerator::T_NEAR);
      if (is_rem) {
        g_.xor_(eax, eax);  // x % -1 == 0, INT_MIN included
      } else {
        if (wide) {
          g_.mov(rdx, 0x8000000000000000ull);
          g_.cmp(rax, rdx);
        } else {
          g_.cmp(eax, 0x80000000);
        }
        g_.je(trap_label(TrapKind::IntOverflow), Xbyak::CodeGenerator::T_NEAR);
        if (wide) g_.neg(rax);
        else g_.neg(eax);
      }
      g_.jmp(done, Xbyak::CodeGenerator::T_NEAR);
    }
    g_.L(normal);
    if (wide) {
      if (is_signed) {
        g_.cqo();
        g_.idiv(cx);
      } else {
        g_.xor_(edx, edx);
        g_.div(cx);
      }
      if (is_rem) g_.mov(rax, rdx);
    } else {
      if (is_signed) {
        g_.cdq();
        g_.idiv(ecx);
      } else {
        g_.xor_(edx, edx);
        g_.div(ecx);
      }
      if (is_rem) g_.mov(eax, edx);
    }
    g_.L(done);
    if (!wide) g_.mov(eax, eax);
    g_.mov(slot(r), ax);
    return true;
  }

  template <typename Emit>
  bool f_binary(bool wide, const Xbyak::RegExp& a, const Xbyak::RegExp& b, uint32_t r, Emit&& emit) {
    if (wide) {
      g_.movsd(xmm0, qword[a]);
      g_.movsd(xmm1, qword[b]);
    } else {
      g_.movss(xmm0, dword[a]);
      g_.movss(xmm1, dword[b]);
    }
    emit();
    return wide ? store_f64(r) : store_f32(r);
  }

  bool f_round(bool wide, const Xbyak::RegExp& a, uint32_t r, uint8_t mode) {
    if (wide) {
      g_.roundsd(xmm0, qword[a], mode);
      return store_f64(r);
    }
    g_.roundss(xmm0, dword[a], mode);
    return store_f32(r);
  }

  // result = `condition` after ucomis(a, b); equality also rules out NaN
  // (unordered sets ZF too) with a parity test.
  bool f_compare(bool wide, const Xbyak::RegExp& a, const Xbyak::RegExp& b, uint32_t r,
                 FloatCondition condition) {
    if (wide) {
      g_.movsd(xmm0, qword[a]);
      g_.ucomisd(xmm0, qword[b]);
    } else {
      g_.movss(xmm0, dword[a]);
      g_.ucomiss(xmm0, dword[b]);
    }
    g_.mov(eax, 0);
    switch (condition) {
      case FloatCondition::Above: g_.seta(al); break;
      case FloatCondition::AboveOrEqual: g_.setae(al); break;
      case FloatCondition::Equal:  // ordered and equal
        g_.setnp(al);
        g_.mov(ecx, 0);
        g_.sete(cl);
        g_.and_(eax, ecx);
        break;
      case FloatCondition::NotEqual:  // unordered or not equal
        g_.setp(al);
        g_.mov(ecx, 0);
        g_.setne(cl);
        g_.or_(eax, ecx);
        break;
    }
    g_.mov(slot(r), rax);
    return true;
  }

  bool store_f32(uint32_t r) {
    g_.movd(eax, xmm0);
    g_.mov(slot(r), rax);
    return true;
  }
  bool store_f64(uint32_t r) {
    g_.movq(slot(r), xmm0);
    return true;
  }

  Xbyak::CodeGenerator& g_;
  const wasm::Module& module_;
  const bool interruptible_;
  bool supported_ = true;
  const char* why_ = "";
  bool live_ = true;  // the code being emitted is reachable
  std::deque<Xbyak::Label> labels_;
  std::map<uint32_t, Xbyak::Label*> trap_labels_;
  Xbyak::Label dynamic_trap_;  // skiff_rt_trap(eax): a fallback op's trap
  bool dynamic_trap_used_ = false;
  Xbyak::Label body_, return_label_;
  std::vector<ElfCall> calls_;
  std::vector<std::pair<size_t, std::vector<Xbyak::Label*>>> jump_tables_;
  size_t frame_size_at_ = 0;
  uint32_t frame_size_ = 0;
};

// skiff_entry_N (abi.h): C convention, (Instance*, Slot* args_results).
void emit_entry(Xbyak::CodeGenerator& g, const wasm::FuncType& type, Xbyak::Label& body) {
  g.push(rbp);
  g.mov(rbp, rsp);
  g.push(r13);
  g.push(rbx);
  g.mov(r13, rdi);
  g.mov(rbx, rsi);
  int ints = 0, floats = 0, k = 0;
  for (ValType t : type.params) {
    if (t == ValType::F32) g.movss(Xbyak::Xmm(floats++), dword[rbx + 8 * k]);
    else if (t == ValType::F64) g.movsd(Xbyak::Xmm(floats++), qword[rbx + 8 * k]);
    else g.mov(kIntArgs[ints++], qword[rbx + 8 * k]);
    k += static_cast<int>(slot_count(t));
  }
  g.call(body);
  if (!type.results.empty()) {
    ValType t = type.results[0];
    if (t == ValType::F32) {
      g.movd(eax, xmm0);
      g.mov(qword[rbx], rax);
    } else if (t == ValType::F64) {
      g.movq(qword[rbx], xmm0);
    } else if (t == ValType::I32) {
      g.mov(eax, eax);
      g.mov(qword[rbx], rax);
    } else {
      g.mov(qword[rbx], rax);
    }
  }
  g.pop(rbx);
  g.pop(r13);
  g.pop(rbp);
  g.ret();
}

struct FunctionCode {
  uint32_t index = 0;
  std::vector<uint8_t> bytes;
  uint64_t body_size = 0;  // wasm_func_N, then skiff_entry_N
  std::vector<ElfCall> calls;
};

// One function's code, or nullopt when it uses something tier 1 lacks.
std::optional<FunctionCode> compile_function(const wasm::Module& module, uint32_t index, bool interruptible) {
  PlainAllocator allocator;
  Xbyak::CodeGenerator g(4096, Xbyak::AutoGrow, &allocator);
  FunctionCompiler fc(g, module, interruptible);
  FunctionCode out;
  out.index = index;
  try {
    wasm::BodyDecoder<wasm::NoValidation, FunctionCompiler> decoder(module, index, fc);
    if (!decoder.decode().ok() || !fc.supported()) {
      if (std::getenv("SKIFF_BASELINE_LOG") != nullptr)
        std::fprintf(stderr, "skiff: tier 1: function %u left out: %s\n", index, fc.why_unsupported());
      return std::nullopt;
    }
    out.body_size = g.getSize();
    g.align(16);
    const size_t entry_at = g.getSize();
    emit_entry(g, module.func_type(index), fc.body_label());
    g.ready();
    out.bytes.assign(g.getCode(), g.getCode() + g.getSize());
    const uint32_t frame = fc.frame_size();
    std::memcpy(out.bytes.data() + fc.frame_size_at(), &frame, 4);
    for (auto& [at, arms] : fc.jump_tables()) {
      for (size_t i = 0; i < arms.size(); ++i) {
        const auto target = static_cast<int64_t>(arms[i]->getAddress() - g.getCode());
        const auto delta = static_cast<int32_t>(target - static_cast<int64_t>(at));
        std::memcpy(out.bytes.data() + at + 4 * i, &delta, 4);
      }
    }
    out.calls = fc.calls();
    out.body_size = entry_at;  // the entry follows the body (and its padding)
  } catch (const Xbyak::Error&) {
    return std::nullopt;
  }
  return out;
}

std::atomic<uint64_t> g_compiled{0}, g_left_out{0};

}  // namespace

Stats stats() { return {g_compiled.load(std::memory_order_relaxed), g_left_out.load(std::memory_order_relaxed)}; }

bool host_supported() {
  static const bool ok = [] {
    using Cpu = Xbyak::util::Cpu;
    Cpu cpu;
    return cpu.has(Cpu::tSSE41) && cpu.has(Cpu::tPOPCNT) && cpu.has(Cpu::tLZCNT) && cpu.has(Cpu::tBMI1);
  }();
  return ok;
}

Result<Compiled> compile(const wasm::Module& module, const std::vector<uint32_t>& funcs, bool interruptible) {
  Compiled out;
  out.code.interruptible = interruptible;
  out.code.target = "x86_64 baseline";
  if (!host_supported()) {
    g_left_out.fetch_add(funcs.empty() ? module.num_defined_funcs() : funcs.size(), std::memory_order_relaxed);
    return out;
  }
  std::vector<uint32_t> indices = funcs;
  if (indices.empty())
    for (uint32_t i = module.num_imported_funcs; i < module.funcs.size(); ++i) indices.push_back(i);
  std::vector<uint8_t> text;
  std::vector<ElfFunction> symbols;
  std::vector<ElfCall> calls;
  for (uint32_t index : indices) {
    std::optional<FunctionCode> code = compile_function(module, index, interruptible);
    if (!code) {
      g_left_out.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    g_compiled.fetch_add(1, std::memory_order_relaxed);
    while (text.size() % 16 != 0) text.push_back(0xcc);
    const uint64_t at = text.size();
    text.insert(text.end(), code->bytes.begin(), code->bytes.end());
    symbols.push_back({"wasm_func_" + std::to_string(index), at, code->body_size});
    symbols.push_back({"skiff_entry_" + std::to_string(index), at + code->body_size,
                       code->bytes.size() - code->body_size});
    for (ElfCall& call : code->calls) calls.push_back({call.offset + at, std::move(call.symbol)});
    out.functions.push_back(index);
  }
  if (!out.functions.empty()) out.code.objects.push_back(write_elf_object(text, symbols, calls));
  return out;
}

}  // namespace skiff::baseline

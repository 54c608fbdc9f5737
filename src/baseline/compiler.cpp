// Tier 1's code generator (baseline.h). Two BodyDecoder passes per
// function: one counts local accesses (weighted by loop depth), the second
// emits code. The hottest locals live in registers for the whole function;
// operand-stack values live in scratch registers, as constants or as a
// comparison's flags until they are used, and go to their tier-0 home slots
// at every block boundary, branch and call, so control flow needs no
// merging of register states.
//
// Frame of wasm_func_N (after the prologue):
//   rbp        saved rbp, then below it those of r12, rbx, r14 and r15 the
//              code writes (r12 when it accesses memory, the others when
//              a local is pinned there)
//   rsp + 80   slot k at rsp + 80 + 8k: locals, then the operand stack
//              (the frame's size is checked against the stack limit first;
//              with loop transfers one more slot, for tier 2's selector)
//   rsp + 64   the results' address, when they go through memory
//   rsp + 0    four 16-byte cells for fallback ops (fallback_ops.h)
// Registers: r13 the instance (swiftself, callee-saved, never written),
// r12 memory 0's base (in functions that load or store). A 4-byte value
// is stored zero-extended to its 8-byte slot, as tier 0 stores it.
#include "baseline/baseline.h"

#include <xbyak/xbyak.h>
#include <xbyak/xbyak_util.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <type_traits>

#include "base/cpu.h"
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
// After the fallback cells: where a function whose results go to memory
// keeps their address (16 bytes, for alignment); then the slots.
constexpr int kSlotsAt = kIoBytes + 16;
static_assert(kSlotsAt == 80, "the frame layout in the header comment");

// Xbyak writes into plain heap memory: the bytes are copied into an ELF
// object, never run from here.
struct PlainAllocator : Xbyak::Allocator {
  uint8_t* alloc(size_t size) override { return static_cast<uint8_t*>(std::malloc(size)); }
  void free(uint8_t* p) override { std::free(p); }
  bool useProtect() const override { return false; }
};

// Functions start 32-byte aligned, so that offsets in a function's code
// are addresses modulo 32 (see Assembler).
constexpr size_t kFunctionAlignment = 32;

// Pads with nops to a multiple of `x` bytes from the function's start
// (Xbyak's align() aligns the address of its temporary buffer instead).
constexpr size_t kCodeAlignment = 16;
void align_code(Xbyak::CodeGenerator& g, size_t x = kCodeAlignment) {
  if (const size_t misaligned = g.getSize() % x; misaligned != 0) g.nop(x - misaligned);
}

// Xbyak's generator, keeping jumps off 32-byte boundaries on the CPUs that
// want it (base/cpu.h). A cmp or test right before a conditional jump
// fuses with it (unless it compares memory with an immediate or addresses
// rip-relative) and must stay off them too: when the pair would touch one,
// the compare's bytes move after the padding. They can: a fusing compare
// refers to no label, and no label is bound between the two.
class Assembler : public Xbyak::CodeGenerator {
 public:
  using Xbyak::CodeGenerator::CodeGenerator;
  using LabelType = Xbyak::CodeGenerator::LabelType;

  // A jump of at most `length` bytes comes next.
  void before_jump(size_t length, bool conditional = false) {
    const size_t at = getSize();
    const bool fused = conditional && at == compare_end_ && compare_begin_ != kNone;
    compare_end_ = kNone;
    if (!pad_) return;
    const size_t begin = fused ? compare_begin_ : at;
    if (begin % kBoundary + (at - begin) + length < kBoundary) return;
    const size_t padding = kBoundary - begin % kBoundary;
    if (!fused) return nop(padding);
    uint8_t compare[16];  // an instruction has at most 15 bytes
    std::memcpy(compare, getCode() + begin, at - begin);
    setSize(begin);
    nop(padding);
    db(compare, at - begin);
  }

  void cmp(const Xbyak::Operand& a, const Xbyak::Operand& b) {
    const size_t at = getSize();
    CodeGenerator::cmp(a, b);
    compared(at, fuses(a) && fuses(b));
  }
  void cmp(const Xbyak::Operand& a, uint32_t imm) {
    const size_t at = getSize();
    CodeGenerator::cmp(a, imm);
    compared(at, !a.isMEM());
  }
  void test(const Xbyak::Operand& a, const Xbyak::Reg& b) {
    const size_t at = getSize();
    CodeGenerator::test(a, b);
    compared(at, fuses(a));
  }
  void test(const Xbyak::Operand& a, uint32_t imm) {
    const size_t at = getSize();
    CodeGenerator::test(a, imm);
    compared(at, !a.isMEM());
  }
  void L(Xbyak::Label& label) {
    compare_end_ = kNone;
    CodeGenerator::L(label);
  }

#define SKIFF_CONDITIONAL_JUMP(name)                       \
  void name(const Xbyak::Label& to, LabelType type) {      \
    before_jump(6, true);                                   \
    CodeGenerator::name(to, type);                          \
  }
  SKIFF_CONDITIONAL_JUMP(jo)
  SKIFF_CONDITIONAL_JUMP(jno)
  SKIFF_CONDITIONAL_JUMP(jb)
  SKIFF_CONDITIONAL_JUMP(jae)
  SKIFF_CONDITIONAL_JUMP(je)
  SKIFF_CONDITIONAL_JUMP(jne)
  SKIFF_CONDITIONAL_JUMP(jz)
  SKIFF_CONDITIONAL_JUMP(jnz)
  SKIFF_CONDITIONAL_JUMP(jbe)
  SKIFF_CONDITIONAL_JUMP(ja)
  SKIFF_CONDITIONAL_JUMP(jl)
  SKIFF_CONDITIONAL_JUMP(jge)
  SKIFF_CONDITIONAL_JUMP(jle)
  SKIFF_CONDITIONAL_JUMP(jg)
#undef SKIFF_CONDITIONAL_JUMP
  void jmp(const Xbyak::Label& to, LabelType type) {
    before_jump(5);
    CodeGenerator::jmp(to, type);
  }
  void jmp(const Xbyak::Reg64& target) {
    before_jump(3);
    CodeGenerator::jmp(target);
  }
  void call(const Xbyak::Reg64& target) {
    before_jump(3);
    CodeGenerator::call(target);
  }
  void call(const Xbyak::Label& target) {
    before_jump(5);
    CodeGenerator::call(target);
  }
  void ret() {
    before_jump(1);
    CodeGenerator::ret();
  }

 private:
  static constexpr size_t kBoundary = 32;
  static_assert(kFunctionAlignment % kBoundary == 0);
  static constexpr size_t kNone = SIZE_MAX;
  static bool fuses(const Xbyak::Operand& op) {
    if (!op.isMEM()) return true;
    const auto& address = static_cast<const Xbyak::Address&>(op);
    return address.getMode() == Xbyak::Address::M_ModRM && address.getLabel() == nullptr;
  }
  void compared(size_t begin, bool fusing) {
    compare_begin_ = fusing ? begin : kNone;
    compare_end_ = getSize();
  }
  const bool pad_ = pad_jumps_for_host();
  size_t compare_begin_ = kNone, compare_end_ = kNone;
};

bool is_float(ValType t) { return t == ValType::F32 || t == ValType::F64; }
bool is_wide(ValType t) { return t == ValType::I64 || t == ValType::F64 || is_ref(t); }

// Tier 2's convention (abi.h), the Swift one: integer and reference
// parameters in rdi, rsi, rdx, rcx, r8, r9, float and v128 ones in
// xmm0-7; one or two results in rax, rdx and xmm0, xmm1 (each class in
// order); three or more written as slots through a pointer passed after
// the parameters. Tier 1 handles the signatures that fit those registers.
bool in_xmm(ValType t) { return is_float(t) || t == ValType::V128; }
bool results_in_memory(const wasm::FuncType& type) { return type.results.size() > 2; }
bool register_signature(const wasm::FuncType& type) {
  int ints = results_in_memory(type) ? 1 : 0, xmms = 0;
  for (ValType t : type.params) (in_xmm(t) ? xmms : ints)++;
  return ints <= 6 && xmms <= 8;
}

const Xbyak::Reg64 kIntArgs[] = {rdi, rsi, rdx, rcx, r8, r9};
const Xbyak::Reg64 kIntResults[] = {rax, rdx};

// A register of either class: GPR n, or XMM n as kXmm + n.
constexpr int kXmm = 16;

// Each parameter's register, then the results' (none when in memory).
std::vector<int> param_registers(const wasm::FuncType& type) {
  std::vector<int> out;
  int ints = 0, xmms = 0;
  for (ValType t : type.params) out.push_back(in_xmm(t) ? kXmm + xmms++ : kIntArgs[ints++].getIdx());
  return out;
}
int out_pointer_register(const wasm::FuncType& type) {
  int ints = 0;
  for (ValType t : type.params) ints += in_xmm(t) ? 0 : 1;
  return kIntArgs[ints].getIdx();
}
std::vector<int> result_registers(const wasm::FuncType& type) {
  std::vector<int> out;
  if (results_in_memory(type)) return out;
  int ints = 0, xmms = 0;
  for (ValType t : type.results) out.push_back(in_xmm(t) ? kXmm + xmms++ : kIntResults[ints++].getIdx());
  return out;
}

// A value of type t between register `reg` and 8 (v128: 16) bytes at `at`;
// 4-byte values are stored zero-extended, as in tier 0's slots. No scratch
// register: the other results may still be in theirs.
void store_register(Xbyak::CodeGenerator& g, ValType t, int reg, const Xbyak::RegExp& at) {
  if (reg >= kXmm) {
    Xbyak::Xmm x(reg - kXmm);
    if (t == ValType::V128) {
      g.movdqu(xword[at], x);
    } else if (t == ValType::F32) {
      g.movss(dword[at], x);
      g.mov(dword[at + 4], 0);
    } else {
      g.movq(qword[at], x);
    }
  } else if (t == ValType::I32) {
    g.mov(dword[at], Xbyak::Reg32(reg));  // the register's upper half may be anything
    g.mov(dword[at + 4], 0);
  } else {
    g.mov(qword[at], Xbyak::Reg64(reg));
  }
}
void load_register(Xbyak::CodeGenerator& g, ValType t, int reg, const Xbyak::RegExp& at) {
  if (reg >= kXmm) {
    Xbyak::Xmm x(reg - kXmm);
    if (t == ValType::V128) g.movdqu(x, xword[at]);
    else if (t == ValType::F32) g.movss(x, dword[at]);
    else g.movsd(x, qword[at]);
  } else {
    g.mov(Xbyak::Reg64(reg), qword[at]);
  }
}

// Where a value is while the function compiles. Values on the operand stack
// may be in a scratch register, a constant not yet materialised, a pinned
// local's register (local.get costs nothing), a pinned local plus a
// constant (an integer add not yet done: one lea where it is used, often
// straight into an address), or the flags of a comparison that a br_if or
// if can branch on; everything is in its home slot at the start of every
// block and at every branch.
enum class Loc : uint8_t { Slot, Const, Reg, Local, LocalPlus, Flags };

// Scratch registers for operand-stack values, and registers that hold the
// hottest locals for the whole function. rax, rcx and rdx stay free for
// single instructions (division, shift counts, addresses); xmm14 and xmm15
// likewise. r10, r11 and xmm8-13 do not survive calls: they are stored to
// their locals' slots around every call. The scratch registers go in the
// order of the convention's first arguments, so the values of a call's
// arguments are often in place already.
const Xbyak::Reg64 kTempGprs[] = {rdi, rsi, r8, r9};
const Xbyak::Reg64 kPinnedGprs[] = {rbx, r14, r15, r10, r11};
constexpr int kTempXmms = 8;  // xmm0-7
constexpr int kFirstPinnedXmm = 8;
constexpr int kPinnedXmms = 6;  // xmm8-13

bool callee_saved(int gpr) { return gpr == rbx.getIdx() || gpr == r14.getIdx() || gpr == r15.getIdx(); }

// Condition codes (the x86 encoding's low nibble) a comparison leaves.
enum Cond : uint8_t { kO = 0, kB = 2, kAE = 3, kE = 4, kNE = 5, kBE = 6, kA = 7, kL = 12, kGE = 13, kLE = 14, kG = 15 };
Cond negate(Cond c) { return static_cast<Cond>(c ^ 1); }

// Which locals a function reads and writes most, loops weighing 8x per
// level: the first pass, before code is emitted.
class LocalUseCounter : public wasm::NoHooks {
 public:
  struct ValueData {};
  struct ControlData {};
  using S = wasm::StateOf<LocalUseCounter>;
  using V = S::Value;
  using C = S::Control;
  std::vector<uint64_t> weight;
  uint32_t loop_depth = 0;
  uint32_t loops = 0;  // reachable ones
  bool uses_memory = false;  // loads or stores: the code needs memory 0's base in r12

  void start_function(S& s) { weight.assign(s.local_types.size(), 0); }
  void local_get(S&, uint32_t n, V&) { use(n); }
  void local_set(S&, uint32_t n, V&) { use(n); }
  void local_tee(S&, uint32_t n, V&, V&) { use(n); }
  void block(S&, C& c) {
    if (c.kind == BlockKind::Loop) ++loop_depth, ++loops;
  }
  void end(S&, C& c, V*) {
    if (c.kind == BlockKind::Loop) --loop_depth;
  }
  template <typename A, typename R>
  void op(S&, Opcode op, const Immediates&, A, uint32_t, R) {
    const OpClass cls = wasm::op_info(op).cls;
    uses_memory |= cls == OpClass::Load || cls == OpClass::Store;
  }

 private:
  void use(uint32_t n) { weight[n] += uint64_t{1} << (3 * std::min<uint32_t>(loop_depth, 6)); }
};

class FunctionCompiler {
 public:
  struct ValueData {
    Loc loc = Loc::Slot;
    uint8_t reg = 0;    // Reg: the register; Flags: the condition
    uint32_t local = 0;  // Local, LocalPlus: which
    uint64_t bits = 0;   // Const; LocalPlus: the addend (an int32)
  };
  struct ControlData {
    Xbyak::Label* label = nullptr;       // where branches to this block go
    Xbyak::Label* else_label = nullptr;  // ifs: the else arm, or the end without one
    bool has_else = false;
  };
  using S = wasm::StateOf<FunctionCompiler>;
  using V = S::Value;
  using C = S::Control;

  // A loop header's on-stack replacement (Options::loop_transfers).
  struct LoopHeader {
    uint32_t offset = 0;    // of the `loop` instruction
    uint32_t slots = 0;     // the locals and operand stack at the header
    Xbyak::Label* label = nullptr;
    Xbyak::Label entry, exit, resume;
  };

  // `exit_flags`: one per loop (loop transfers), or null.
  FunctionCompiler(Assembler& gen, const wasm::Module& module, uint32_t defined_index,
                   const Options& options, const LocalUseCounter& uses, std::atomic<uint8_t>* exit_flags)
      : g_(gen),
        module_(module),
        defined_index_(defined_index),
        interruptible_(options.interruptible),
        fallback_ops_(options.fallback_ops),
        local_weights_(uses.weight),
        uses_memory_(uses.uses_memory && !module.memories.empty()),
        exit_flags_(exit_flags),
        num_loops_(uses.loops) {}

  bool supported() const { return supported_; }
  const char* why_unsupported() const { return why_; }
  const std::vector<ElfCall>& calls() const { return calls_; }
  // Jump tables to fill once label offsets are known: (table offset, targets).
  std::vector<std::pair<size_t, std::vector<Xbyak::Label*>>>& jump_tables() { return jump_tables_; }
  Xbyak::Label& body_label() { return body_; }
  uint32_t frame_size() const { return frame_size_; }
  size_t frame_size_at() const { return frame_size_at_; }
  std::deque<LoopHeader>& loop_headers() { return loop_headers_; }

  // ---- frame ------------------------------------------------------------------------------

  void start_function(S& s) {
    pin_locals(s);
    if (!register_signature(s.type)) return unsupported("signature");
    g_.L(body_);
    // The callee-saved registers the code writes: r12 for memory 0's
    // base, and the pinned locals' among rbx, r14, r15.
    if (uses_memory_) saved_[num_saved_++] = r12;
    for (const Xbyak::Reg64& r : {rbx, r14, r15})
      if (std::find(local_reg_.begin(), local_reg_.end(), r.getIdx()) != local_reg_.end()) saved_[num_saved_++] = r;
    enter_frame(s, results_in_memory(s.type) ? Xbyak::Reg64(out_pointer_register(s.type)) : rdi, std::nullopt);
    const std::vector<int> arg_regs = param_registers(s.type);
    for (size_t i = 0; i < s.type.params.size(); ++i) {
      ValType t = s.type.params[i];
      const int pinned = local_reg_[i];
      const int arg = arg_regs[i];
      if (pinned < 0) {
        store_register(g_, t, arg, slot_address(s.local_slot[i]));
      } else if (arg >= kXmm) {
        g_.movaps(Xbyak::Xmm(pinned), Xbyak::Xmm(arg - kXmm));
      } else if (t == ValType::I32) {
        g_.mov(Xbyak::Reg32(pinned), Xbyak::Reg32(arg));  // the upper half may be anything
      } else {
        g_.mov(Xbyak::Reg64(pinned), Xbyak::Reg64(arg));
      }
    }
    bool zeroed = false;
    for (size_t i = s.type.params.size(); i < s.local_types.size(); ++i) {
      const int pinned = local_reg_[i];
      if (pinned >= 0) {
        if (in_xmm(s.local_types[i])) g_.xorps(Xbyak::Xmm(pinned), Xbyak::Xmm(pinned));
        else g_.xor_(Xbyak::Reg32(pinned), Xbyak::Reg32(pinned));
        continue;
      }
      if (!zeroed) g_.xor_(eax, eax);
      zeroed = true;
      for (uint32_t k = 0; k < slot_count(s.local_types[i]); ++k) g_.mov(slot(s.local_slot[i] + k), rax);
    }
    if (interruptible_) check_interrupts(s);
  }

  // Saves the registers and sets up the frame (of `size` bytes, or of the
  // size finish_function patches in) and the registers every instruction
  // expects; `out` holds the results' address when they go through memory
  // (else it is unused).
  void enter_frame(S& s, const Xbyak::Reg64& out, std::optional<uint32_t> size) {
    g_.push(rbp);
    g_.mov(rbp, rsp);
    for (uint32_t i = 0; i < num_saved_; ++i) g_.push(saved_[i]);
    // The frame's lowest address against the stack limit before anything
    // is written there: a large frame must not reach past the margin below
    // the limit. r11 carries no argument.
    if (size.has_value()) {
      g_.lea(r11, ptr[rsp - static_cast<int>(*size)]);
    } else {
      g_.lea(r11, ptr[rsp - 0x10000000]);  // a placeholder that takes a disp32
      frame_size_at_ = g_.getSize() - 4;
    }
    g_.cmp(r11, qword[r13 + layout::kInstanceNativeStackLimit]);
    g_.jb(trap_label(TrapKind::StackExhausted), Xbyak::CodeGenerator::T_NEAR);
    g_.mov(rsp, r11);
    if (uses_memory_) g_.mov(r12, qword[r13 + layout::kInstanceMem0]);
    if (results_in_memory(s.type)) g_.mov(qword[rsp + kIoBytes], out);
  }

  void finish_function(S& s) {
    // Loop transfers: a slot past every value, where tier 2's code for a
    // loop takes its selector.
    const uint32_t slots = s.max_slot + (exit_flags_ != nullptr ? 1 : 0);
    // rsp stays 16-byte aligned below an odd number of saved registers too.
    frame_size_ = ((static_cast<uint32_t>(kSlotsAt) + 8 * slots + 15) & ~15u) + 8 * (num_saved_ % 2);
    for (LoopHeader& loop : loop_headers_) {
      // The entry from tier 0 (skiff_osr_N_L calls it with the frame's
      // slots in rdi): this function's frame, the slots copied in, the
      // pinned locals loaded, then the loop's header.
      g_.L(loop.entry);
      enter_frame(s, rdi, frame_size_);
      for (uint32_t k = 0; k < loop.slots; ++k) {
        g_.mov(rax, qword[rdi + 8 * k]);
        g_.mov(slot(k), rax);
      }
      restore_pinned(s, /*all=*/true);
      if (interruptible_) check_interrupts(s);  // the function entry tier 0 gives back
      g_.jmp(*loop.label, Xbyak::CodeGenerator::T_NEAR);
      // The exit to tier 2's code, once the loop's flag is set: every value
      // is in its slot at a header, where that code takes them.
      g_.L(loop.exit);
      save_pinned(s, /*all=*/true);
      g_.mov(rdi, r13);
      g_.mov(esi, defined_index_);
      g_.mov(edx, loop.offset);
      g_.lea(rcx, ptr[slot_address(0)]);
      g_.mov(r8d, slots);
      call_helper("skiff_rt_loop_exit");
      Xbyak::Label done;
      g_.test(eax, eax);
      g_.jnz(done, Xbyak::CodeGenerator::T_NEAR);
      restore_pinned(s, /*all=*/true);
      g_.jmp(loop.resume, Xbyak::CodeGenerator::T_NEAR);
      g_.L(done);
      emit_return(s, 0);  // the results are in the first slots
    }
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
    // v128 constants, aligned: SSE ops may take them as memory operands.
    if (!pool_.empty()) align_code(g_);
    for (auto& [halves, label] : pool_) {
      g_.L(*label);
      g_.dq(halves.first);
      g_.dq(halves.second);
    }
  }

  // ---- values -----------------------------------------------------------------------------

  void constant(S& s, Opcode op, const Immediates& imm, V& result) {
    if (op == Opcode::V128Const) {
      Xbyak::Xmm x = alloc_xmm(s);
      load_v128_constant(x, imm.v128.lo(), imm.v128.hi());
      set_reg(result, x.getIdx());
      return;
    }
    uint64_t bits = imm.bits;
    if (op == Opcode::I32Const || op == Opcode::F32Const) bits &= 0xffffffffu;
    result.data = {Loc::Const, 0, 0, bits};
  }

  void local_get(S& s, uint32_t index, V& result) {
    settle_flags(s);
    if (local_reg_[index] >= 0) {
      result.data = {Loc::Local, 0, index, 0};
      return;
    }
    const bool xmm = in_xmm(s.local_types[index]);
    // Still in the register the last write took it from: no load (which
    // would wait for that store), and no instruction at all while that
    // register is free.
    if (const int cached = cached_register(index); cached >= 0) {
      const int reg = xmm ? cached - kXmm : cached;
      uint32_t& busy = xmm ? xmm_busy_ : gpr_busy_;
      if (!(busy & (1u << reg))) {
        busy |= 1u << reg;
        set_reg(result, reg);
        return;
      }
      if (xmm) {
        Xbyak::Xmm x = alloc_xmm(s);
        g_.movaps(x, Xbyak::Xmm(reg));
        set_reg(result, x.getIdx());
      } else {
        Xbyak::Reg64 r = alloc_gpr(s);
        g_.mov(r, Xbyak::Reg64(reg));
        set_reg(result, r.getIdx());
      }
      return;
    }
    if (xmm) {
      Xbyak::Xmm x = alloc_xmm(s);
      load_xmm(x, s.local_types[index], slot_address(s.local_slot[index]));
      set_reg(result, x.getIdx());
    } else {
      Xbyak::Reg64 r = alloc_gpr(s);
      load_gpr(r, s.local_types[index], slot_address(s.local_slot[index]));
      set_reg(result, r.getIdx());
    }
  }

  void local_set(S& s, uint32_t index, V& value) {
    settle_flags(s, &value, 1);
    write_local(s, index, value);
    release(value);
  }

  void local_tee(S& s, uint32_t index, V& value, V& result) {
    settle_flags(s, &value, 1);
    write_local(s, index, value);
    if (local_reg_[index] >= 0) {
      release(value);
      result.data = {Loc::Local, 0, index, 0};
    } else {
      result.data = value.data;  // the same register or constant
    }
  }

  void drop(S& s, V& v) {
    settle_flags(s, &v, 1);
    release(v);
  }

  void select(S& s, V* vs, V& result) {
    settle_flags(s, vs, 2);  // vs[2], the condition, may stay flags
    ValType t = vs[0].type;
    if (in_xmm(t)) {
      Xbyak::Xmm a = own_xmm(s, vs[0]);
      Xbyak::Xmm b = use_xmm(s, vs[1]);
      Xbyak::Label keep;
      jcc(condition_of(s, vs[2]), keep);  // true: a stays
      g_.movaps(a, b);
      g_.L(keep);
      release(vs[1]);
      set_reg(result, a.getIdx());
      return;
    }
    Xbyak::Reg64 a = own_gpr(s, vs[0]);
    Xbyak::Reg64 b = use_gpr(s, vs[1]);
    Cond taken = condition_of(s, vs[2]);
    cmov(negate(taken), a, b);  // b where the condition fails
    release(vs[1]);
    set_reg(result, a.getIdx());
  }

  // ---- control ----------------------------------------------------------------------------

  void block(S& s, C& c) {
    settle_flags(s);
    spill_all(s);
    c.data.label = new_label();
    if (c.kind != BlockKind::Loop) return;
    align_code(g_);  // loop headers aligned, as LLVM aligns them
    g_.L(*c.data.label);
    forget_all_registers();
    if (exit_flags_ != nullptr && loop_headers_.size() < num_loops_) {
      // Each pass of the header reads the loop's flag.
      LoopHeader& loop = loop_headers_.emplace_back();
      loop.offset = static_cast<uint32_t>(c.offset);
      loop.slots = s.next_slot();
      loop.label = c.data.label;
      g_.mov(rax, reinterpret_cast<uintptr_t>(exit_flags_ + (loop_headers_.size() - 1)));
      g_.cmp(byte[rax], 0);
      g_.jne(loop.exit, Xbyak::CodeGenerator::T_NEAR);
      g_.L(loop.resume);
    }
  }

  void if_(S& s, V& cond, C& c) {
    settle_flags(s);  // a comparison below the condition
    spill_all(s);     // moves only: the condition's flags survive
    c.data.label = new_label();
    c.data.else_label = new_label();
    branch_unless(s, cond, *c.data.else_label);
  }

  void else_(S& s, C& c, V* results) {
    if (live_) {
      settle_flags(s, results, c.sig.num_results);
      copy_to_label(s, c, c.sig.result_types(), results);
      g_.jmp(*c.data.label, Xbyak::CodeGenerator::T_NEAR);
    }
    reset_registers();
    c.data.has_else = true;
    g_.L(*c.data.else_label);
    live_ = true;
  }

  void end(S& s, C& c, V* results) {
    if (live_ && c.kind == BlockKind::Function) {
      return_values(s, results);
    } else if (live_) {
      settle_flags(s, results, c.sig.num_results);
      copy_to_label(s, c, c.sig.result_types(), results);
    }
    reset_registers();
    if (c.kind == BlockKind::Function) {
      g_.L(return_label_);
      emit_return(s, c.slot_base);
      return;
    }
    if (c.kind == BlockKind::If && !c.data.has_else) g_.L(*c.data.else_label);
    if (c.kind != BlockKind::Loop) g_.L(*c.data.label);
    live_ = true;
  }

  void br(S& s, uint32_t depth, V* values) {
    C& target = s.label(depth);
    settle_flags(s, values, static_cast<uint32_t>(target.label_types().size()));
    branch_to(s, target, values);
    live_ = false;
  }

  void br_if(S& s, uint32_t depth, V& cond, V* values) {
    C& target = s.label(depth);
    const auto n = static_cast<uint32_t>(target.label_types().size());
    // The values stay on the stack for the fall-through: copies, in slots.
    settle_flags(s, values, n);
    for (uint32_t i = 0; i < n; ++i) spill_value(s, values[i]);
    // Nothing to move or check on the way: one conditional jump.
    if (Xbyak::Label* to = direct_label(target, values)) {
      jcc(condition_of(s, cond), *to);
      return;
    }
    Xbyak::Label skip;
    branch_unless(s, cond, skip);
    branch_to(s, target, values);
    g_.L(skip);
  }

  // The label a branch with these values (in their slots) can jump to
  // straight, or null when they move or a back-edge checks interrupts.
  Xbyak::Label* direct_label(C& target, V* values) {
    if (target.kind == BlockKind::Loop && interruptible_) return nullptr;
    const auto n = static_cast<uint32_t>(target.label_types().size());
    for (uint32_t i = 0, to = target.slot_base; i < n; to += slot_count(values[i].type), ++i)
      if (values[i].slot != to) return nullptr;
    return target.kind == BlockKind::Function ? &return_label_ : target.data.label;
  }

  void br_table(S& s, const std::vector<uint32_t>& targets, V& index, V* values) {
    // A table of 32-bit offsets from the table itself, filled in once the
    // code is laid out; the default (the last target) takes every index
    // past the arms.
    const auto n = static_cast<uint32_t>(s.label(targets.back()).label_types().size());
    settle_flags(s, values, n, &index);
    for (uint32_t i = 0; i < n; ++i) spill_value(s, values[i]);
    // A target reached without moves gets the table's entry itself.
    std::vector<Xbyak::Label*> arms;
    std::vector<bool> direct;
    for (uint32_t depth : targets) {
      Xbyak::Label* to = direct_label(s.label(depth), values);
      direct.push_back(to != nullptr);
      arms.push_back(to != nullptr ? to : new_label());
    }
    const auto num_arms = static_cast<uint32_t>(targets.size() - 1);
    Xbyak::Label table;
    read_i32(s, index, eax);
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
      if (direct[i]) continue;
      g_.L(*arms[i]);
      branch_to(s, s.label(targets[i]), values);
    }
    live_ = false;
  }

  void return_(S& s, V* values) {
    return_values(s, values);
    live_ = false;
  }
  // Returns the function's results from where they are: into the
  // convention's registers, then the epilogue (through their slots when
  // they go to memory).
  void return_values(S& s, V* values) {
    C& fn = s.controls[0];
    settle_flags(s, values, fn.sig.num_results);
    if (results_in_memory(s.type)) {
      copy_to_label(s, fn, fn.sig.result_types(), values);
      g_.jmp(return_label_, Xbyak::CodeGenerator::T_NEAR);
      return;
    }
    const std::vector<int> regs = result_registers(s.type);
    Moves& moves = scratch_moves();
    for (size_t i = 0; i < regs.size(); ++i) moves.push_back({regs[i], &values[i]});
    parallel_move(moves);
    emit_epilogue();
  }

  void call(S& s, uint32_t func_index, const wasm::FuncType& type, V* args) {
    const uint32_t buf = s.next_slot();
    const auto nargs = static_cast<uint32_t>(type.params.size());
    call_result_reg_ = call_result_register(type);
    prepare_wasm_call(s, args, nargs);
    Xbyak::Label runtime, done;
    if (func_index >= module_.num_imported_funcs && register_signature(type)) {
      const ArgumentState before = save_arguments(args, nargs);
      g_.mov(rax, qword[r13 + layout::kInstanceNativeBodies]);
      g_.mov(rax, qword[rax + 8 * (func_index - module_.num_imported_funcs)]);
      call_code(type, args, buf, runtime, done);
      restore_arguments(args, before);
    }
    g_.L(runtime);
    arguments_to_slots(args, nargs);
    g_.mov(rdi, r13);
    g_.mov(esi, func_index);
    g_.lea(rdx, ptr[slot_address(buf)]);
    call_helper("skiff_rt_call");
    load_call_result(type, buf);
    g_.L(done);
    restore_pinned(s);
  }

  void call_indirect(S& s, uint32_t type_index, uint32_t table_index, const wasm::FuncType& type, V* args,
                     V& index) {
    const uint32_t buf = s.next_slot();
    call_result_reg_ = call_result_register(type);
    settle_flags(s, args, static_cast<uint32_t>(type.params.size()), &index);
    read_i32(s, index, ecx);
    g_.mov(qword[rsp + 8], rcx);  // the index survives in the fallback cells
    release(index);
    const auto nargs = static_cast<uint32_t>(type.params.size());
    prepare_wasm_call(s, args, nargs);  // through rax at most: rcx keeps the index
    Xbyak::Label runtime, done;
    if (register_signature(type)) {
      const ArgumentState before = save_arguments(args, nargs);
      // Inline, as tier 2 does: an element of this instance, of the
      // expected type, with code in native_bodies is called directly.
      // Anything else (traps included) goes through the runtime, which
      // checks in full. rcx holds the index.
      g_.mov(rax, qword[r13 + layout::kInstanceTables]);
      g_.mov(rax, qword[rax + 8 * static_cast<int>(table_index)]);
      g_.cmp(rcx, qword[rax + layout::kTableSize]);
      g_.jae(runtime, Xbyak::CodeGenerator::T_NEAR);
      g_.mov(rax, qword[rax + layout::kTableElemsBegin]);
      g_.mov(rax, qword[rax + rcx * 8]);  // the FuncInst, or null
      g_.test(rax, rax);
      g_.jz(runtime, Xbyak::CodeGenerator::T_NEAR);
      g_.cmp(qword[rax + layout::kFuncInstInstance], r13);
      g_.jne(runtime, Xbyak::CodeGenerator::T_NEAR);
      g_.mov(rdx, qword[r13 + layout::kInstanceTypeIds]);
      g_.mov(edx, dword[rdx + 4 * static_cast<int>(type_index)]);
      g_.cmp(dword[rax + layout::kFuncInstTypeId], edx);
      g_.jne(runtime, Xbyak::CodeGenerator::T_NEAR);
      g_.mov(rax, qword[rax + layout::kFuncInstNativeBody]);
      g_.mov(rax, qword[rax]);
      call_code(type, args, buf, runtime, done);
      restore_arguments(args, before);
    }
    g_.L(runtime);
    arguments_to_slots(args, nargs);
    g_.mov(rdi, r13);
    g_.mov(esi, table_index);
    g_.mov(edx, type_index);
    g_.mov(ecx, dword[rsp + 8]);
    g_.lea(r8, ptr[slot_address(buf)]);
    call_helper("skiff_rt_call_indirect");
    load_call_result(type, buf);
    g_.L(done);
    restore_pinned(s);
  }

  // The result of the call just emitted stays in the register it is in
  // (call_result_register).
  void call_results(S&, V* results, uint32_t) {
    if (call_result_reg_ < 0) return;
    // A value's register is its number within its class.
    const bool xmm = call_result_reg_ >= kXmm;
    const int reg = xmm ? call_result_reg_ - kXmm : call_result_reg_;
    set_reg(results[0], reg);
    (xmm ? xmm_busy_ : gpr_busy_) |= 1u << reg;
    call_result_reg_ = -1;
  }

  // ---- instructions with operands -----------------------------------------------------------

  void op(S& s, Opcode op, const Immediates& imm, V* args, uint32_t nargs, V* result) {
    const OpInfo& info = wasm::op_info(op);
    // A comparison's flags are only branched on by the next instruction.
    if (!(op == Opcode::I32Eqz && nargs == 1)) settle_flags(s, args, nargs);
    switch (info.cls) {
      case OpClass::Special: return special(s, op, imm, args, result);
      case OpClass::Load: return load(s, op, info, imm, args, result);
      case OpClass::Store: return store(s, op, info, imm, args);
      case OpClass::Pure:
      case OpClass::Trap:
        if (numeric(s, op, args, result) || simd(s, op, imm, args, result)) return;
        return fallback(s, op, info, imm, args, nargs, result, false);
    }
  }

 private:
  // ---- slots ---------------------------------------------------------------------------------

  Xbyak::RegExp slot_address(uint32_t k) const { return rsp + kSlotsAt + 8 * static_cast<int>(k); }
  Xbyak::Address slot(uint32_t k) const { return qword[slot_address(k)]; }

  void store_imm64(const Xbyak::RegExp& at, uint64_t bits) {
    if (static_cast<int64_t>(bits) == static_cast<int32_t>(bits)) {
      g_.mov(qword[at], static_cast<int32_t>(bits));
    } else {
      g_.mov(rax, bits);
      g_.mov(qword[at], rax);
    }
  }

  void copy_slots(uint32_t from, uint32_t to, uint32_t count) {
    if (from == to) return;
    if (count == 2) {
      g_.movdqu(xmm15, xword[slot_address(from)]);
      g_.movdqu(xword[slot_address(to)], xmm15);
      return;
    }
    g_.mov(rax, slot(from));
    g_.mov(slot(to), rax);
  }

  void load_gpr(const Xbyak::Reg64& r, ValType t, const Xbyak::RegExp& at) {
    if (t == ValType::I32 || t == ValType::F32) g_.mov(r.cvt32(), dword[at]);
    else g_.mov(r, qword[at]);
  }
  void load_xmm(const Xbyak::Xmm& x, ValType t, const Xbyak::RegExp& at) {
    if (t == ValType::F32) g_.movss(x, dword[at]);
    else if (t == ValType::F64) g_.movsd(x, qword[at]);
    else g_.movdqu(x, xword[at]);
  }
  // A pinned local's register to its slot (f32: the whole 8 bytes, as
  // the slot's upper half is not read).
  void store_xmm(ValType t, const Xbyak::Xmm& x, const Xbyak::RegExp& at) {
    if (t == ValType::V128) g_.movdqu(xword[at], x);
    else g_.movsd(qword[at], x);
  }
  // A v128 constant from the function's pool; zero and all-ones without
  // one.
  void load_v128_constant(const Xbyak::Xmm& x, uint64_t lo, uint64_t hi) {
    if (lo == 0 && hi == 0) return g_.pxor(x, x);
    if (lo == ~uint64_t{0} && hi == ~uint64_t{0}) return g_.pcmpeqd(x, x);
    g_.movdqu(x, xword[rip + pool_constant(lo, hi)]);
  }
  Xbyak::Label& pool_constant(uint64_t lo, uint64_t hi) {
    auto [it, fresh] = pool_.try_emplace({lo, hi}, nullptr);
    if (fresh) it->second = new_label();
    return *it->second;
  }

  // ---- registers -----------------------------------------------------------------------------

  // The hottest locals of each register class get a register of their own.
  void pin_locals(S& s) {
    local_reg_.assign(s.local_types.size(), -1);
    cached_.assign(s.local_types.size(), CachedLocal{});
    std::vector<uint32_t> order(s.local_types.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return local_weights_[a] > local_weights_[b]; });
    size_t gprs = 0, xmms = 0;
    for (uint32_t i : order) {
      if (local_weights_[i] == 0) break;
      ValType t = s.local_types[i];
      if (in_xmm(t)) {
        if (xmms < kPinnedXmms) local_reg_[i] = kFirstPinnedXmm + static_cast<int>(xmms++);
      } else if (gprs < std::size(kPinnedGprs)) {
        local_reg_[i] = kPinnedGprs[gprs++].getIdx();
      }
    }
  }

  // Registers pinned locals keep: those that calls clobber, or `all`.
  template <typename F>
  void for_each_pinned(S& s, bool all, F&& f) {
    for (uint32_t i = 0; i < local_reg_.size(); ++i) {
      const int r = local_reg_[i];
      if (r < 0) continue;
      if (all || in_xmm(s.local_types[i]) || !callee_saved(r)) f(i, r);
    }
  }
  void save_pinned(S& s, bool all = false) {
    forget_all_registers();  // a call follows: it clobbers the scratch registers
    for_each_pinned(s, all, [&](uint32_t i, int r) {
      if (in_xmm(s.local_types[i])) store_xmm(s.local_types[i], Xbyak::Xmm(r), slot_address(s.local_slot[i]));
      else g_.mov(slot(s.local_slot[i]), Xbyak::Reg64(r));
    });
  }
  void restore_pinned(S& s, bool all = false) {
    for_each_pinned(s, all, [&](uint32_t i, int r) {
      if (in_xmm(s.local_types[i])) load_xmm(Xbyak::Xmm(r), s.local_types[i], slot_address(s.local_slot[i]));
      else g_.mov(Xbyak::Reg64(r), slot(s.local_slot[i]));
    });
  }

  Xbyak::Reg64 alloc_gpr(S& s) {
    for (const Xbyak::Reg64& r : kTempGprs)
      if (!(gpr_busy_ & (1u << r.getIdx()))) {
        gpr_busy_ |= 1u << r.getIdx();
        return r;
      }
    // All taken: the deepest stack value in one goes to its slot.
    for (V& v : s.stack)
      if (v.data.loc == Loc::Reg && !in_xmm(v.type)) {
        const int r = v.data.reg;
        spill_value(s, v);
        gpr_busy_ |= 1u << r;
        return Xbyak::Reg64(r);
      }
    unsupported("out of scratch registers");
    return rsi;
  }
  Xbyak::Xmm alloc_xmm(S& s) {
    for (int r = 0; r < kTempXmms; ++r)
      if (!(xmm_busy_ & (1u << r))) {
        xmm_busy_ |= 1u << r;
        return Xbyak::Xmm(r);
      }
    for (V& v : s.stack)
      if (v.data.loc == Loc::Reg && in_xmm(v.type)) {
        const int r = v.data.reg;
        spill_value(s, v);
        xmm_busy_ |= 1u << r;
        return Xbyak::Xmm(r);
      }
    unsupported("out of scratch registers");
    return xmm0;
  }

  void set_reg(V& v, int reg) {
    v.data = {Loc::Reg, static_cast<uint8_t>(reg), 0, 0};
    forget_register(in_xmm(v.type) ? kXmm + reg : reg);  // a new value: whatever it held is gone
  }

  // Locals not pinned whose value a scratch register (GPR n, kXmm + n)
  // still holds since the last write (local_get reads it there). Valid
  // until the register takes another value (set_reg) and only in straight
  // code: forgotten at every label and call. An entry holds while its
  // register's generation and the epoch are the ones it recorded.
  struct CachedLocal {
    int8_t reg = -1;
    uint32_t generation = 0, epoch = 0;
  };
  void remember_local(uint32_t local, int reg) { cached_[local] = {static_cast<int8_t>(reg), generation_[reg], epoch_}; }
  int cached_register(uint32_t local) const {
    const CachedLocal& c = cached_[local];
    return c.reg >= 0 && c.epoch == epoch_ && c.generation == generation_[c.reg] ? c.reg : -1;
  }
  void forget_register(int reg) { ++generation_[reg]; }
  void forget_local(uint32_t local) { cached_[local].reg = -1; }
  void forget_all_registers() { ++epoch_; }

  void release(V& v) {
    if (v.data.loc != Loc::Reg) return;
    if (in_xmm(v.type)) xmm_busy_ &= ~(1u << v.data.reg);
    else gpr_busy_ &= ~(1u << v.data.reg);
    v.data.loc = Loc::Slot;
  }

  // After a block's end or else nothing above its base survives, and what
  // is below it has been in its slot since the block began.
  void reset_registers() {
    gpr_busy_ = 0;
    xmm_busy_ = 0;
    forget_all_registers();
  }

  // A register holding v (v keeps it; a local's or a temporary one). R is
  // Xbyak::Reg64 or Xbyak::Xmm.
  template <typename R>
  R use_reg(S& s, V& v) {
    if (v.data.loc == Loc::Local) return R(local_reg_[v.data.local]);
    return own_reg<R>(s, v);
  }
  // A scratch register holding v, free to overwrite (it becomes the result's).
  template <typename R>
  R own_reg(S& s, V& v) {
    if (v.data.loc == Loc::Reg) return R(v.data.reg);
    R r = alloc_reg<R>(s);
    materialize(r, v);
    set_reg(v, r.getIdx());
    return r;
  }
  template <typename R>
  R alloc_reg(S& s) {
    if constexpr (std::is_same_v<R, Xbyak::Xmm>) return alloc_xmm(s);
    else return alloc_gpr(s);
  }
  Xbyak::Reg64 use_gpr(S& s, V& v) { return use_reg<Xbyak::Reg64>(s, v); }
  Xbyak::Reg64 own_gpr(S& s, V& v) { return own_reg<Xbyak::Reg64>(s, v); }
  Xbyak::Xmm use_xmm(S& s, V& v) { return use_reg<Xbyak::Xmm>(s, v); }
  Xbyak::Xmm own_xmm(S& s, V& v) { return own_reg<Xbyak::Xmm>(s, v); }

  void materialize(const Xbyak::Reg64& r, V& v) { materialize_gpr(r, v); }
  void materialize(const Xbyak::Xmm& x, V& v) { materialize_xmm(x, v); }
  void materialize_gpr(const Xbyak::Reg64& r, V& v) {
    switch (v.data.loc) {
      case Loc::Slot: load_gpr(r, v.type, slot_address(v.slot)); break;
      case Loc::Const: g_.mov(r, v.data.bits); break;  // mov: pending flags survive
      case Loc::Reg: g_.mov(r, Xbyak::Reg64(v.data.reg)); break;
      case Loc::Local: g_.mov(r, Xbyak::Reg64(local_reg_[v.data.local])); break;
      case Loc::LocalPlus: local_plus(v, v.type == ValType::I32 ? Xbyak::Reg(r.cvt32()) : Xbyak::Reg(r)); break;
      case Loc::Flags: unsupported("internal: a comparison read before it was settled"); break;
    }
  }
  // A LocalPlus value into `to` (32-bit for i32: lea wraps as i32.add does).
  void local_plus(const V& v, const Xbyak::Reg& to) {
    g_.lea(to, ptr[Xbyak::Reg64(local_reg_[v.data.local]) + static_cast<int32_t>(v.data.bits)]);
  }

  void materialize_xmm(const Xbyak::Xmm& x, V& v) {
    switch (v.data.loc) {
      case Loc::Slot: load_xmm(x, v.type, slot_address(v.slot)); break;
      case Loc::Const:  // from the pool: no GPR needed (call_code's rax stays)
        if (v.data.bits == 0) g_.xorps(x, x);
        else if (v.type == ValType::F32) g_.movss(x, dword[rip + pool_constant(v.data.bits, 0)]);
        else g_.movsd(x, qword[rip + pool_constant(v.data.bits, 0)]);
        break;
      case Loc::Reg: g_.movaps(x, Xbyak::Xmm(v.data.reg)); break;
      case Loc::Local: g_.movaps(x, Xbyak::Xmm(local_reg_[v.data.local])); break;
      case Loc::LocalPlus: unsupported("internal: an integer sum read as a float"); break;
      case Loc::Flags: unsupported("internal: a comparison read before it was settled"); break;
    }
  }

  // An i32 operand into a fixed scratch register (zero-extended).
  void read_i32(S& s, V& v, const Xbyak::Reg32& to) {
    switch (v.data.loc) {
      case Loc::Slot: g_.mov(to, dword[slot_address(v.slot)]); break;
      case Loc::Const: g_.mov(to, static_cast<uint32_t>(v.data.bits)); break;
      case Loc::Reg: g_.mov(to, Xbyak::Reg32(v.data.reg)); break;
      case Loc::Local: g_.mov(to, Xbyak::Reg32(local_reg_[v.data.local])); break;
      case Loc::LocalPlus: local_plus(v, to); break;
      case Loc::Flags: unsupported("internal: a comparison read before it was settled"); break;
    }
  }

  // Writes v into 8 bytes (v128: 16) at `at` (a slot, a cell): 4-byte values
  // zero-extended.
  void store_value(const Xbyak::RegExp& at, V& v) {
    switch (v.data.loc) {
      case Loc::Slot:
        if (v.type == ValType::V128) {
          g_.movdqu(xmm15, xword[slot_address(v.slot)]);
          g_.movdqu(xword[at], xmm15);
        } else {
          g_.mov(rax, slot(v.slot));
          g_.mov(qword[at], rax);
        }
        break;
      case Loc::Const: store_imm64(at, v.data.bits); break;
      case Loc::LocalPlus:
        local_plus(v, v.type == ValType::I32 ? Xbyak::Reg(eax) : Xbyak::Reg(rax));
        g_.mov(qword[at], rax);
        break;
      case Loc::Reg:
      case Loc::Local: {
        const int r = v.data.loc == Loc::Reg ? v.data.reg : local_reg_[v.data.local];
        if (v.type == ValType::F32) {
          g_.movd(eax, Xbyak::Xmm(r));
          g_.mov(qword[at], rax);
        } else if (v.type == ValType::F64) {
          g_.movq(qword[at], Xbyak::Xmm(r));
        } else if (v.type == ValType::V128) {
          g_.movdqu(xword[at], Xbyak::Xmm(r));
        } else {
          g_.mov(qword[at], Xbyak::Reg64(r));
        }
        break;
      }
      case Loc::Flags: unsupported("internal: a comparison stored before it was settled"); break;
    }
  }

  // v into its home slot; its register is free again.
  void spill_value(S&, V& v) {
    if (v.data.loc == Loc::Slot) return;
    store_value(slot_address(v.slot), v);
    release(v);
    v.data.loc = Loc::Slot;
  }
  void spill_all(S& s) {
    for (V& v : s.stack) spill_value(s, v);
  }

  // A comparison's flags become an i32 0/1 in a register unless the
  // instruction now compiling branches on them (its last operand).
  void settle_flags(S& s, V* args = nullptr, uint32_t n = 0, V* also = nullptr) {
    if (!flags_pending_) return;
    flags_pending_ = false;
    auto settle = [&](V& v) {
      if (v.data.loc != Loc::Flags) return;
      const Cond c = static_cast<Cond>(v.data.reg);
      Xbyak::Reg64 r = alloc_gpr(s);
      setcc(c, al);
      g_.movzx(r.cvt32(), al);
      set_reg(v, r.getIdx());
    };
    for (V& v : s.stack) settle(v);
    for (uint32_t i = 0; i < n; ++i) settle(args[i]);
    if (also != nullptr) settle(*also);
  }
  void set_flags(V& result, Cond c) {
    result.data = {Loc::Flags, c, 0, 0};
    flags_pending_ = true;
  }

  // The condition under which an i32 value counts as true (flags set here
  // when it is not a pending comparison).
  Cond condition_of(S& s, V& v) {
    if (v.data.loc == Loc::Flags) {
      flags_pending_ = false;
      return static_cast<Cond>(v.data.reg);
    }
    if (v.data.loc == Loc::Const) {
      g_.mov(eax, static_cast<uint32_t>(v.data.bits));
      g_.test(eax, eax);
    } else if (v.data.loc == Loc::Slot) {
      g_.cmp(dword[slot_address(v.slot)], 0);
    } else if (v.data.loc == Loc::LocalPlus) {
      local_plus(v, eax);
      g_.test(eax, eax);
    } else {
      const int r = v.data.loc == Loc::Reg ? v.data.reg : local_reg_[v.data.local];
      g_.test(Xbyak::Reg32(r), Xbyak::Reg32(r));
    }
    release(v);
    return kNE;
  }
  void branch_unless(S& s, V& cond, Xbyak::Label& to) { jcc(negate(condition_of(s, cond)), to); }

  void jcc(Cond c, Xbyak::Label& to) {
    using G = Xbyak::CodeGenerator;
    switch (c) {
      case kO: g_.jo(to, G::T_NEAR); break;
      case kB: g_.jb(to, G::T_NEAR); break;
      case kAE: g_.jae(to, G::T_NEAR); break;
      case kE: g_.je(to, G::T_NEAR); break;
      case kNE: g_.jne(to, G::T_NEAR); break;
      case kBE: g_.jbe(to, G::T_NEAR); break;
      case kA: g_.ja(to, G::T_NEAR); break;
      case kL: g_.jl(to, G::T_NEAR); break;
      case kGE: g_.jge(to, G::T_NEAR); break;
      case kLE: g_.jle(to, G::T_NEAR); break;
      case kG: g_.jg(to, G::T_NEAR); break;
      default: g_.jno(to, G::T_NEAR); break;
    }
  }
  void setcc(Cond c, const Xbyak::Reg8& r) {
    switch (c) {
      case kB: g_.setb(r); break;
      case kAE: g_.setae(r); break;
      case kE: g_.sete(r); break;
      case kNE: g_.setne(r); break;
      case kBE: g_.setbe(r); break;
      case kA: g_.seta(r); break;
      case kL: g_.setl(r); break;
      case kGE: g_.setge(r); break;
      case kLE: g_.setle(r); break;
      case kG: g_.setg(r); break;
      case kO: g_.seto(r); break;
      default: g_.setno(r); break;
    }
  }
  void cmov(Cond c, const Xbyak::Reg64& to, const Xbyak::Reg64& from) {
    switch (c) {
      case kB: g_.cmovb(to, from); break;
      case kAE: g_.cmovae(to, from); break;
      case kE: g_.cmove(to, from); break;
      case kNE: g_.cmovne(to, from); break;
      case kBE: g_.cmovbe(to, from); break;
      case kA: g_.cmova(to, from); break;
      case kL: g_.cmovl(to, from); break;
      case kGE: g_.cmovge(to, from); break;
      case kLE: g_.cmovle(to, from); break;
      case kG: g_.cmovg(to, from); break;
      case kO: g_.cmovo(to, from); break;
      default: g_.cmovno(to, from); break;
    }
  }

  // ---- locals --------------------------------------------------------------------------------

  void write_local(S& s, uint32_t index, V& value) {
    // Stack values that read the local's register keep the old value.
    for (V& v : s.stack)
      if ((v.data.loc == Loc::Local || v.data.loc == Loc::LocalPlus) && v.data.local == index) spill_value(s, v);
    const int pinned = local_reg_[index];
    if (pinned < 0) {
      store_value(slot_address(s.local_slot[index]), value);
      forget_local(index);
      if (value.data.loc == Loc::Reg) remember_local(index, in_xmm(value.type) ? kXmm + value.data.reg : value.data.reg);
      return;
    }
    if (value.data.loc == Loc::Local && value.data.local == index) return;
    if (in_xmm(value.type)) {
      Xbyak::Xmm to(pinned);
      if (value.data.loc == Loc::Reg || value.data.loc == Loc::Local) {
        g_.movaps(to, use_xmm(s, value));
      } else {
        materialize_xmm(to, value);
      }
    } else {
      Xbyak::Reg64 to(pinned);
      if (value.data.loc == Loc::Reg || value.data.loc == Loc::Local) {
        Xbyak::Reg64 from = use_gpr(s, value);
        if (value.type == ValType::I32) g_.mov(to.cvt32(), from.cvt32());
        else g_.mov(to, from);
      } else if (value.data.loc == Loc::Const && value.type == ValType::I32) {
        g_.mov(to.cvt32(), static_cast<uint32_t>(value.data.bits));
      } else {
        materialize_gpr(to, value);
      }
    }
  }

  // ---- branches ------------------------------------------------------------------------------

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
    g_.before_jump(5);
    g_.db(0xE8);
    calls_.push_back({g_.getSize(), name});
    g_.dd(0);
  }

  // Fuel and epoch: the store's flag, then skiff_rt_check_interrupts.
  void check_interrupts(S& s) {
    Xbyak::Label skip;
    g_.mov(rdi, qword[r13 + layout::kInstanceStore]);
    g_.cmp(byte[rdi + layout::kStoreCheckInterrupts], 0);
    g_.jz(skip, Xbyak::CodeGenerator::T_NEAR);
    save_pinned(s);
    call_helper("skiff_rt_check_interrupts");
    restore_pinned(s);
    g_.L(skip);
  }

  // Moves the values a branch carries to the label's slots. Sources are
  // read before any target is written only where they overlap, which the
  // order makes safe: a carried value's home slot is at or above its label
  // slot, and they are copied lowest first.
  void copy_to_label(S& s, C& target, std::span<const ValType> types, V* values) {
    uint32_t to = target.slot_base;
    for (size_t i = 0; i < types.size(); ++i) {
      if (values[i].data.loc == Loc::Slot) {
        copy_slots(values[i].slot, to, slot_count(types[i]));
      } else {
        store_value(slot_address(to), values[i]);
      }
      to += slot_count(types[i]);
    }
  }

  void branch_to(S& s, C& target, V* values) {
    copy_to_label(s, target, target.label_types(), values);
    if (target.kind == BlockKind::Loop && interruptible_) check_interrupts(s);  // a back-edge
    if (target.kind == BlockKind::Function) g_.jmp(return_label_, Xbyak::CodeGenerator::T_NEAR);
    else g_.jmp(*target.data.label, Xbyak::CodeGenerator::T_NEAR);
  }

  // The results from their slots (from `k` on) to where the caller takes
  // them, then the epilogue.
  void emit_return(S& s, uint32_t k) {
    if (results_in_memory(s.type)) {
      g_.mov(rdx, qword[rsp + kIoBytes]);
      uint32_t out = 0;
      for (ValType t : s.type.results) {
        if (t == ValType::V128) {
          g_.movdqu(xmm15, xword[slot_address(k)]);
          g_.movdqu(xword[rdx + 8 * static_cast<int>(out)], xmm15);
        } else {
          g_.mov(rax, slot(k));
          g_.mov(qword[rdx + 8 * static_cast<int>(out)], rax);
        }
        k += slot_count(t);
        out += slot_count(t);
      }
    } else {
      const std::vector<int> regs = result_registers(s.type);
      for (size_t i = 0; i < regs.size(); ++i) {
        load_register(g_, s.type.results[i], regs[i], slot_address(k));
        k += slot_count(s.type.results[i]);
      }
    }
    emit_epilogue();
  }
  void emit_epilogue() {
    g_.lea(rsp, ptr[rbp - 8 * static_cast<int>(num_saved_)]);
    for (uint32_t i = num_saved_; i-- > 0;) g_.pop(saved_[i]);
    g_.pop(rbp);
    g_.ret();
  }

  // ---- calls ---------------------------------------------------------------------------------

  // Before a call: every value in its slot (arguments included) and the
  // pinned locals that calls clobber in theirs.
  void prepare_call(S& s, V* args, uint32_t nargs) {
    prepare_wasm_call(s, args, nargs);
    for (uint32_t i = 0; i < nargs; ++i) spill_value(s, args[i]);
  }
  // Before a call of wasm code: the same, but the arguments stay where
  // they are, for call_code to move into the convention's registers (or
  // arguments_to_slots, on the way to the runtime).
  void prepare_wasm_call(S& s, V* args, uint32_t nargs) {
    settle_flags(s, args, nargs);
    spill_all(s);
    save_pinned(s);
  }

  // Calls the code in rax (a native_bodies entry: null while the callee has
  // none, then to `runtime`) with the convention, then on to `done`. The
  // arguments' locations at `runtime` are as before: emit that path after
  // restoring them (ArgumentState).
  void call_code(const wasm::FuncType& type, V* args, uint32_t buf, Xbyak::Label& runtime, Xbyak::Label& done) {
    g_.test(rax, rax);
    g_.jz(runtime, Xbyak::CodeGenerator::T_NEAR);
    move_arguments(type, args, buf);
    g_.call(rax);
    const int reg = call_result_reg_;
    if (reg < 0) store_results(type, buf);
    else if (reg < kXmm && type.results[0] == ValType::I32) g_.mov(Xbyak::Reg32(reg), eax);  // upper half: zero
    else if (reg < kXmm) g_.mov(Xbyak::Reg64(reg), rax);  // xmm0 holds a float result already
    g_.jmp(done, Xbyak::CodeGenerator::T_NEAR);
  }

  // Where a single scalar result stays after the call (all scratch
  // registers are free then): rdi or xmm0, the first scratch ones; -1
  // when the results go to their slots.
  static int call_result_register(const wasm::FuncType& type) {
    if (type.results.size() != 1 || type.results[0] == ValType::V128) return -1;
    return in_xmm(type.results[0]) ? kXmm : rdi.getIdx();
  }
  // The runtime helpers leave the results in the slots from `buf`.
  void load_call_result(const wasm::FuncType& type, uint32_t buf) {
    if (call_result_reg_ >= 0) load_register(g_, type.results[0], call_result_reg_, slot_address(buf));
  }

  // The arguments into the convention's registers, from wherever they
  // are (rax, holding the callee, stays as it is).
  void move_arguments(const wasm::FuncType& type, V* args, uint32_t results_at) {
    const std::vector<int> regs = param_registers(type);
    Moves& moves = scratch_moves();
    for (size_t i = 0; i < type.params.size(); ++i) moves.push_back({regs[i], &args[i]});
    parallel_move(moves);
    if (results_in_memory(type)) g_.lea(Xbyak::Reg64(out_pointer_register(type)), ptr[slot_address(results_at)]);
  }
  // The arguments to their slots, where the runtime's call takes them.
  void arguments_to_slots(V* args, uint32_t nargs) {
    for (uint32_t i = 0; i < nargs; ++i) {
      if (args[i].data.loc != Loc::Slot) store_value(slot_address(args[i].slot), args[i]);
      release(args[i]);
    }
  }
  // Where the arguments were before call_code moved them, to emit the
  // runtime's path from that state.
  struct ArgumentState {
    std::array<ValueData, 14> data;  // register signatures: at most 6 + 8 parameters
    uint32_t count = 0, gprs = 0, xmms = 0;
  };
  ArgumentState save_arguments(V* args, uint32_t nargs) const {
    ArgumentState state{{}, nargs, gpr_busy_, xmm_busy_};
    for (uint32_t i = 0; i < nargs; ++i) state.data[i] = args[i].data;
    return state;
  }
  void restore_arguments(V* args, const ArgumentState& state) {
    for (uint32_t i = 0; i < state.count; ++i) args[i].data = state.data[i];
    gpr_busy_ = state.gprs;
    xmm_busy_ = state.xmms;
  }

  // Values into registers all at once (a GPR n or kXmm + n each): a
  // target may be the scratch register another value still has to leave.
  // Uses no register but the targets (rax stays as it is, unless a
  // target); a cycle sends one value through its slot.
  struct Move {
    int to;
    V* value;
  };
  using Moves = std::vector<Move>;
  // One vector per thread, reused: no allocation per call site.
  static Moves& scratch_moves() {
    thread_local Moves moves;
    moves.clear();
    return moves;
  }
  void parallel_move(Moves& moves) {
    auto source = [](const V& v) {
      if (v.data.loc != Loc::Reg) return -1;
      return in_xmm(v.type) ? kXmm + v.data.reg : static_cast<int>(v.data.reg);
    };
    while (!moves.empty()) {
      auto ready = std::find_if(moves.begin(), moves.end(), [&](const Move& m) {
        return std::none_of(moves.begin(), moves.end(),
                            [&](const Move& other) { return &other != &m && source(*other.value) == m.to; });
      });
      if (ready == moves.end()) {
        // Every target still holds a value to move: a cycle. One of them
        // goes to its slot (its type's width; no register needed).
        V& v = *std::find_if(moves.begin(), moves.end(),
                             [&](const Move& m) { return source(*m.value) == moves.front().to; })->value;
        const int r = v.data.reg;
        if (v.type == ValType::F32) g_.movss(dword[slot_address(v.slot)], Xbyak::Xmm(r));
        else if (v.type == ValType::F64) g_.movsd(qword[slot_address(v.slot)], Xbyak::Xmm(r));
        else if (v.type == ValType::V128) g_.movdqu(xword[slot_address(v.slot)], Xbyak::Xmm(r));
        else g_.mov(slot(v.slot), Xbyak::Reg64(r));
        release(v);
        continue;
      }
      if (source(*ready->value) == ready->to) {
        // in place
      } else if (ready->to >= kXmm) {
        materialize_xmm(Xbyak::Xmm(ready->to - kXmm), *ready->value);
      } else {
        materialize_gpr(Xbyak::Reg64(ready->to), *ready->value);
      }
      release(*ready->value);
      moves.erase(ready);
    }
  }

  // The callee's results from their registers to their slots (from results_at).
  void store_results(const wasm::FuncType& type, uint32_t results_at) {
    const std::vector<int> regs = result_registers(type);
    uint32_t k = results_at;
    for (size_t i = 0; i < regs.size(); ++i) {
      store_register(g_, type.results[i], regs[i], slot_address(k));
      k += slot_count(type.results[i]);
    }
  }

  // ---- memory --------------------------------------------------------------------------------

  // rax = the zero-extended address; the offset folds in when it fits a disp32.
  Xbyak::RegExp effective_address(S& s, V& address, uint32_t offset) {
    // An i32 in a register is zero-extended (as in its slot): it indexes
    // memory as it is.
    if (offset < 0x80000000u && (address.data.loc == Loc::Reg || address.data.loc == Loc::Local)) {
      const int r = address.data.loc == Loc::Reg ? address.data.reg : local_reg_[address.data.local];
      release(address);
      return r12 + Xbyak::Reg64(r) + static_cast<int>(offset);
    }
    read_i32(s, address, eax);
    release(address);
    if (offset >= 0x80000000u) {
      g_.mov(ecx, offset);
      g_.add(rax, rcx);
      return r12 + rax;
    }
    return r12 + rax + static_cast<int>(offset);
  }

  void load(S& s, Opcode op, const OpInfo& info, const Immediates& imm, V* args, V* result) {
    // The result's register first: taking one may spill through rax.
    if (op == Opcode::V128Load) {
      Xbyak::Xmm x = alloc_xmm(s);
      Xbyak::RegExp p = effective_address(s, args[0], imm.offset);
      g_.movdqu(x, xword[p]);
      set_reg(*result, x.getIdx());
      return;
    }
    if (op == Opcode::V128Load8x8S || op == Opcode::V128Load8x8U || op == Opcode::V128Load16x4S ||
        op == Opcode::V128Load16x4U || op == Opcode::V128Load32x2S || op == Opcode::V128Load32x2U) {
      Xbyak::Xmm x = alloc_xmm(s);
      Xbyak::RegExp p = effective_address(s, args[0], imm.offset);
      switch (op) {
        case Opcode::V128Load8x8S: g_.pmovsxbw(x, qword[p]); break;
        case Opcode::V128Load8x8U: g_.pmovzxbw(x, qword[p]); break;
        case Opcode::V128Load16x4S: g_.pmovsxwd(x, qword[p]); break;
        case Opcode::V128Load16x4U: g_.pmovzxwd(x, qword[p]); break;
        case Opcode::V128Load32x2S: g_.pmovsxdq(x, qword[p]); break;
        default: g_.pmovzxdq(x, qword[p]); break;
      }
      set_reg(*result, x.getIdx());
      return;
    }
    if (load_v128(s, op, imm, args, result)) return;
    if (info.results[0] == ValType::V128 || (info.num_params > 1 && info.params[1] == ValType::V128)) {
      // Other SIMD loads: touch both ends of the access here, so that an
      // out-of-bounds one faults in this code, then the interpreter's op.
      return fallback(s, op, info, imm, args, info.num_params, result, true);
    }
    if (op == Opcode::F32Load || op == Opcode::F64Load) {
      Xbyak::Xmm x = alloc_xmm(s);
      Xbyak::RegExp p = effective_address(s, args[0], imm.offset);
      if (op == Opcode::F32Load) g_.movss(x, dword[p]);
      else g_.movsd(x, qword[p]);
      set_reg(*result, x.getIdx());
      return;
    }
    Xbyak::Reg64 r = alloc_gpr(s);
    Xbyak::RegExp p = effective_address(s, args[0], imm.offset);
    const Xbyak::Reg32 r32 = r.cvt32();
    switch (op) {
      case Opcode::I32Load: g_.mov(r32, dword[p]); break;
      case Opcode::I64Load: g_.mov(r, qword[p]); break;
      case Opcode::I32Load8S: g_.movsx(r32, byte[p]); break;
      case Opcode::I32Load8U: case Opcode::I64Load8U: g_.movzx(r32, byte[p]); break;
      case Opcode::I32Load16S: g_.movsx(r32, word[p]); break;
      case Opcode::I32Load16U: case Opcode::I64Load16U: g_.movzx(r32, word[p]); break;
      case Opcode::I64Load8S: g_.movsx(r, byte[p]); break;
      case Opcode::I64Load16S: g_.movsx(r, word[p]); break;
      case Opcode::I64Load32S: g_.movsxd(r, dword[p]); break;
      case Opcode::I64Load32U: g_.mov(r32, dword[p]); break;
      default: unsupported(wasm::op_name(op)); break;
    }
    set_reg(*result, r.getIdx());
  }

  // Splatting, zero-extending and lane loads; false for the others.
  bool load_v128(S& s, Opcode op, const Immediates& imm, V* args, V* result) {
    switch (op) {
      case Opcode::V128Load8Lane: case Opcode::V128Load16Lane: case Opcode::V128Load32Lane:
      case Opcode::V128Load64Lane: {
        Xbyak::Xmm x = own_xmm(s, args[1]);  // before the address: it may spill through rax
        Xbyak::RegExp p = effective_address(s, args[0], imm.offset);
        switch (op) {
          case Opcode::V128Load8Lane: g_.pinsrb(x, byte[p], imm.lane); break;
          case Opcode::V128Load16Lane: g_.pinsrw(x, word[p], imm.lane); break;
          case Opcode::V128Load32Lane: g_.pinsrd(x, dword[p], imm.lane); break;
          default: g_.pinsrq(x, qword[p], imm.lane); break;
        }
        set_reg(*result, x.getIdx());
        return true;
      }
      case Opcode::V128Load8Splat: case Opcode::V128Load16Splat: case Opcode::V128Load32Splat:
      case Opcode::V128Load64Splat: case Opcode::V128Load32Zero: case Opcode::V128Load64Zero: {
        Xbyak::Xmm x = alloc_xmm(s);
        Xbyak::RegExp p = effective_address(s, args[0], imm.offset);
        switch (op) {
          case Opcode::V128Load8Splat:
            g_.pinsrb(x, byte[p], 0);
            g_.pxor(xmm15, xmm15);
            g_.pshufb(x, xmm15);
            break;
          case Opcode::V128Load16Splat:
            g_.pinsrw(x, word[p], 0);
            g_.pshuflw(x, x, 0);
            g_.punpcklqdq(x, x);
            break;
          case Opcode::V128Load32Splat:
            g_.movss(x, dword[p]);
            g_.shufps(x, x, 0);
            break;
          case Opcode::V128Load64Splat: g_.movddup(x, qword[p]); break;
          case Opcode::V128Load32Zero: g_.movss(x, dword[p]); break;
          default: g_.movq(x, qword[p]); break;
        }
        set_reg(*result, x.getIdx());
        return true;
      }
      default: return false;
    }
  }

  void store(S& s, Opcode op, const OpInfo& info, const Immediates& imm, V* args) {
    if (op == Opcode::V128Store) {
      Xbyak::Xmm x = use_xmm(s, args[1]);  // before the address: it may spill through rax
      Xbyak::RegExp p = effective_address(s, args[0], imm.offset);
      g_.movdqu(xword[p], x);
      release(args[1]);
      return;
    }
    if (op == Opcode::V128Store8Lane || op == Opcode::V128Store16Lane || op == Opcode::V128Store32Lane ||
        op == Opcode::V128Store64Lane) {
      Xbyak::Xmm x = use_xmm(s, args[1]);
      Xbyak::RegExp p = effective_address(s, args[0], imm.offset);
      switch (op) {
        case Opcode::V128Store8Lane: g_.pextrb(byte[p], x, imm.lane); break;
        case Opcode::V128Store16Lane: g_.pextrw(word[p], x, imm.lane); break;
        case Opcode::V128Store32Lane: g_.pextrd(dword[p], x, imm.lane); break;
        default: g_.pextrq(qword[p], x, imm.lane); break;
      }
      release(args[1]);
      return;
    }
    if (info.params[1] == ValType::V128) return fallback(s, op, info, imm, args, info.num_params, nullptr, true);
    V& value = args[1];
    if (value.type == ValType::F32 || value.type == ValType::F64) {
      Xbyak::Xmm x = use_xmm(s, value);
      Xbyak::RegExp p = effective_address(s, args[0], imm.offset);
      if (value.type == ValType::F32) g_.movss(dword[p], x);
      else g_.movsd(qword[p], x);
      release(value);
      return;
    }
    if (value.data.loc == Loc::Const && op != Opcode::I64Store) {
      const auto bits = static_cast<uint32_t>(value.data.bits);
      Xbyak::RegExp p = effective_address(s, args[0], imm.offset);
      switch (op) {
        case Opcode::I32Store: case Opcode::I64Store32: g_.mov(dword[p], bits); break;
        case Opcode::I32Store8: case Opcode::I64Store8: g_.mov(byte[p], bits & 0xff); break;
        default: g_.mov(word[p], bits & 0xffff); break;
      }
      return;
    }
    Xbyak::Reg64 r = use_gpr(s, value);
    Xbyak::RegExp p = effective_address(s, args[0], imm.offset);
    switch (op) {
      case Opcode::I32Store: case Opcode::I64Store32: g_.mov(dword[p], r.cvt32()); break;
      case Opcode::I64Store: g_.mov(qword[p], r); break;
      case Opcode::I32Store8: case Opcode::I64Store8: g_.mov(byte[p], r.cvt8()); break;
      default: g_.mov(word[p], r.cvt16()); break;
    }
    release(value);
  }

  // ---- special instructions -------------------------------------------------------------------

  void special(S& s, Opcode op, const Immediates& imm, V* args, V* result) {
    switch (op) {
      case Opcode::Unreachable:
        g_.jmp(trap_label(TrapKind::Unreachable), Xbyak::CodeGenerator::T_NEAR);
        live_ = false;
        return;
      case Opcode::Nop: return;
      case Opcode::GlobalGet: {
        g_.mov(rdx, qword[r13 + layout::kInstanceGlobals]);
        g_.mov(rdx, qword[rdx + 8 * static_cast<int>(imm.index)]);
        ValType t = module_.globals[imm.index].type;
        auto value = rdx + layout::kGlobalValue;
        if (in_xmm(t)) {
          Xbyak::Xmm x = alloc_xmm(s);
          load_xmm(x, t, value);
          set_reg(*result, x.getIdx());
        } else {
          Xbyak::Reg64 r = alloc_gpr(s);
          load_gpr(r, t, value);
          set_reg(*result, r.getIdx());
        }
        return;
      }
      case Opcode::GlobalSet: {
        g_.mov(rdx, qword[r13 + layout::kInstanceGlobals]);
        g_.mov(rdx, qword[rdx + 8 * static_cast<int>(imm.index)]);
        store_value(rdx + layout::kGlobalValue, args[0]);
        release(args[0]);
        return;
      }
      case Opcode::MemorySize:
        prepare_call(s, args, 0);
        g_.mov(rdi, r13);
        call_helper("skiff_rt_memory_size");
        restore_pinned(s);
        g_.mov(eax, eax);
        g_.mov(slot(result->slot), rax);
        return;
      case Opcode::MemoryGrow:
        prepare_call(s, args, 1);
        g_.mov(rdi, r13);
        g_.mov(esi, dword[slot_address(args[0].slot)]);
        call_helper("skiff_rt_memory_grow");
        restore_pinned(s);
        g_.mov(eax, eax);
        g_.mov(slot(result->slot), rax);
        return;
      case Opcode::MemoryFill:
      case Opcode::MemoryCopy:
        prepare_call(s, args, 3);
        g_.mov(rdi, r13);
        g_.mov(esi, dword[slot_address(args[0].slot)]);
        g_.mov(edx, dword[slot_address(args[1].slot)]);
        g_.mov(ecx, dword[slot_address(args[2].slot)]);
        call_helper(op == Opcode::MemoryFill ? "skiff_rt_memory_fill" : "skiff_rt_memory_copy");
        restore_pinned(s);
        return;
      case Opcode::MemoryInit: return runtime_call(s, "skiff_rt_memory_init", {imm.index}, args, 3, nullptr);
      case Opcode::DataDrop: return runtime_call(s, "skiff_rt_data_drop", {imm.index}, args, 0, nullptr);
      case Opcode::TableGet: return runtime_call(s, "skiff_rt_table_get", {imm.index}, args, 1, result);
      case Opcode::TableSet: return runtime_call(s, "skiff_rt_table_set", {imm.index}, args, 2, nullptr);
      case Opcode::TableSize: return runtime_call(s, "skiff_rt_table_size", {imm.index}, args, 0, result);
      case Opcode::TableGrow: return runtime_call(s, "skiff_rt_table_grow", {imm.index}, args, 2, result);
      case Opcode::TableFill: return runtime_call(s, "skiff_rt_table_fill", {imm.index}, args, 3, nullptr);
      case Opcode::TableCopy:
        return runtime_call(s, "skiff_rt_table_copy", {imm.index, imm.index2}, args, 3, nullptr);
      case Opcode::TableInit:
        return runtime_call(s, "skiff_rt_table_init", {imm.index, imm.index2}, args, 3, nullptr);
      case Opcode::ElemDrop: return runtime_call(s, "skiff_rt_elem_drop", {imm.index}, args, 0, nullptr);
      case Opcode::RefFunc: {  // a funcref is the FuncInst's address
        Xbyak::Reg64 r = alloc_gpr(s);
        g_.mov(r, qword[r13 + layout::kInstanceFuncs]);
        g_.mov(r, qword[r + 8 * static_cast<int>(imm.index)]);
        set_reg(*result, r.getIdx());
        return;
      }
      case Opcode::RefNull:
        result->data = {Loc::Const, 0, 0, 0};
        return;
      case Opcode::RefIsNull: {
        Xbyak::Reg64 r = use_gpr(s, args[0]);
        g_.test(r, r);
        release(args[0]);
        set_flags(*result, kE);
        return;
      }
      default:
        return unsupported(wasm::op_name(op));
    }
  }

  // A runtime helper (abi.h) called as helper(instance, immediates...,
  // operands...), its result (an i32 or a reference) in rax.
  void runtime_call(S& s, const char* helper, std::initializer_list<uint32_t> immediates, V* args, uint32_t nargs,
                    V* result) {
    prepare_call(s, args, nargs);
    g_.mov(rdi, r13);
    size_t next = 1;
    for (uint32_t k : immediates) g_.mov(kIntArgs[next++].cvt32(), k);
    for (uint32_t i = 0; i < nargs; ++i) {
      if (args[i].type == ValType::I32) g_.mov(kIntArgs[next++].cvt32(), dword[slot_address(args[i].slot)]);
      else g_.mov(kIntArgs[next++], slot(args[i].slot));
    }
    call_helper(helper);
    restore_pinned(s);
    if (result == nullptr) return;
    if (result->type == ValType::I32) g_.mov(eax, eax);
    g_.mov(slot(result->slot), rax);
  }

  // ---- numeric instructions -------------------------------------------------------------------

  // The interpreter's op through its C entry (fallback_ops.h). A memory
  // op's address is translated here, and both ends of the access touched,
  // so that an out-of-bounds access faults in compiled code.
  void fallback(S& s, Opcode op, const OpInfo& info, const Immediates& imm, V* args, uint32_t nargs, V* result,
                bool memory_op) {
    if (llvmjit::fallback_op(op) == nullptr) return unsupported(wasm::op_name(op));
    if (!fallback_ops_) return unsupported("an op through the interpreter's (fallback_ops off)");
    prepare_call(s, args, nargs);
    for (uint32_t i = memory_op ? 1 : 0; i < info.num_params; ++i) {
      const int cell = static_cast<int>(i * llvmjit::kFallbackCellBytes);
      if (info.params[i] == ValType::V128) {
        g_.movdqu(xmm15, xword[slot_address(args[i].slot)]);
        g_.movdqu(xword[rsp + cell], xmm15);
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
    if (memory_op) {
      Xbyak::RegExp p = effective_address(s, args[0], imm.offset);
      g_.mov(cl, byte[p]);
      if (info.arg > 1) g_.mov(cl, byte[p + static_cast<int>(info.arg - 1)]);
      g_.lea(rsi, ptr[p]);
    } else {
      g_.xor_(esi, esi);
    }
    g_.mov(rdi, rsp);
    call_helper(llvmjit::fallback_symbol(op));
    restore_pinned(s);
    if (info.cls == OpClass::Trap) {
      g_.test(eax, eax);
      g_.jnz(dynamic_trap_, Xbyak::CodeGenerator::T_NEAR);
      dynamic_trap_used_ = true;
    }
    if (info.num_results == 0) return;
    ValType t = info.results[0];
    if (t == ValType::V128) {
      g_.movdqu(xmm15, xword[rsp]);
      g_.movdqu(xword[slot_address(result->slot)], xmm15);
    } else if (is_wide(t)) {
      g_.mov(rax, qword[rsp]);
      g_.mov(slot(result->slot), rax);
    } else {
      g_.mov(eax, dword[rsp]);
      g_.mov(slot(result->slot), rax);
    }
  }

  // SIMD ops that SSE4.1 does in an instruction or a few, on registers
  // as the scalar float ops; false leaves the op to fallback(). xmm14 and
  // xmm15 are free within one op.
  bool simd(S& s, Opcode op, const Immediates& imm, V* args, V* result) {
    using X = const Xbyak::Xmm&;
    auto binary = [&](auto&& emit) { return f_binary(s, args, result, emit); };
    // a shifted by the count's low bits, masked to the lane width.
    auto shift = [&](auto&& emit, uint32_t lane_bits) {
      Xbyak::Xmm a = own_xmm(s, args[0]);  // first: taking it may spill through rax
      read_i32(s, args[1], eax);
      release(args[1]);
      g_.and_(eax, lane_bits - 1);
      g_.movd(xmm15, eax);
      emit(a, xmm15);
      set_reg(*result, a.getIdx());
      return true;
    };
    // A splat's register, then the scalar: taking the register may spill
    // through rax.
    auto splat = [&](auto&& emit) {
      Xbyak::Xmm x = alloc_xmm(s);
      emit(x);
      release(args[0]);
      set_reg(*result, x.getIdx());
      return true;
    };
    switch (op) {
      case Opcode::I8x16Add: return binary([&](X a, X b) { g_.paddb(a, b); });
      case Opcode::I8x16Sub: return binary([&](X a, X b) { g_.psubb(a, b); });
      case Opcode::I8x16AddSatS: return binary([&](X a, X b) { g_.paddsb(a, b); });
      case Opcode::I8x16AddSatU: return binary([&](X a, X b) { g_.paddusb(a, b); });
      case Opcode::I8x16SubSatS: return binary([&](X a, X b) { g_.psubsb(a, b); });
      case Opcode::I8x16SubSatU: return binary([&](X a, X b) { g_.psubusb(a, b); });
      case Opcode::I8x16MinS: return binary([&](X a, X b) { g_.pminsb(a, b); });
      case Opcode::I8x16MinU: return binary([&](X a, X b) { g_.pminub(a, b); });
      case Opcode::I8x16MaxS: return binary([&](X a, X b) { g_.pmaxsb(a, b); });
      case Opcode::I8x16MaxU: return binary([&](X a, X b) { g_.pmaxub(a, b); });
      case Opcode::I8x16AvgrU: return binary([&](X a, X b) { g_.pavgb(a, b); });
      case Opcode::I8x16Eq: return binary([&](X a, X b) { g_.pcmpeqb(a, b); });
      case Opcode::I8x16NarrowI16x8S: return binary([&](X a, X b) { g_.packsswb(a, b); });
      case Opcode::I8x16NarrowI16x8U: return binary([&](X a, X b) { g_.packuswb(a, b); });
      case Opcode::I16x8Add: return binary([&](X a, X b) { g_.paddw(a, b); });
      case Opcode::I16x8Sub: return binary([&](X a, X b) { g_.psubw(a, b); });
      case Opcode::I16x8Mul: return binary([&](X a, X b) { g_.pmullw(a, b); });
      case Opcode::I16x8AddSatS: return binary([&](X a, X b) { g_.paddsw(a, b); });
      case Opcode::I16x8AddSatU: return binary([&](X a, X b) { g_.paddusw(a, b); });
      case Opcode::I16x8SubSatS: return binary([&](X a, X b) { g_.psubsw(a, b); });
      case Opcode::I16x8SubSatU: return binary([&](X a, X b) { g_.psubusw(a, b); });
      case Opcode::I16x8MinS: return binary([&](X a, X b) { g_.pminsw(a, b); });
      case Opcode::I16x8MinU: return binary([&](X a, X b) { g_.pminuw(a, b); });
      case Opcode::I16x8MaxS: return binary([&](X a, X b) { g_.pmaxsw(a, b); });
      case Opcode::I16x8MaxU: return binary([&](X a, X b) { g_.pmaxuw(a, b); });
      case Opcode::I16x8AvgrU: return binary([&](X a, X b) { g_.pavgw(a, b); });
      case Opcode::I16x8Eq: return binary([&](X a, X b) { g_.pcmpeqw(a, b); });
      case Opcode::I16x8NarrowI32x4S: return binary([&](X a, X b) { g_.packssdw(a, b); });
      case Opcode::I16x8NarrowI32x4U: return binary([&](X a, X b) { g_.packusdw(a, b); });
      case Opcode::I16x8Shl: return shift([&](X a, X b) { g_.psllw(a, b); }, 16);
      case Opcode::I16x8ShrS: return shift([&](X a, X b) { g_.psraw(a, b); }, 16);
      case Opcode::I16x8ShrU: return shift([&](X a, X b) { g_.psrlw(a, b); }, 16);
      case Opcode::I32x4Add: return binary([&](X a, X b) { g_.paddd(a, b); });
      case Opcode::I32x4Sub: return binary([&](X a, X b) { g_.psubd(a, b); });
      case Opcode::I32x4Mul: return binary([&](X a, X b) { g_.pmulld(a, b); });
      case Opcode::I32x4MinS: return binary([&](X a, X b) { g_.pminsd(a, b); });
      case Opcode::I32x4MinU: return binary([&](X a, X b) { g_.pminud(a, b); });
      case Opcode::I32x4MaxS: return binary([&](X a, X b) { g_.pmaxsd(a, b); });
      case Opcode::I32x4MaxU: return binary([&](X a, X b) { g_.pmaxud(a, b); });
      case Opcode::I32x4Eq: return binary([&](X a, X b) { g_.pcmpeqd(a, b); });
      case Opcode::I32x4DotI16x8S: return binary([&](X a, X b) { g_.pmaddwd(a, b); });
      case Opcode::I32x4Shl: return shift([&](X a, X b) { g_.pslld(a, b); }, 32);
      case Opcode::I32x4ShrS: return shift([&](X a, X b) { g_.psrad(a, b); }, 32);
      case Opcode::I32x4ShrU: return shift([&](X a, X b) { g_.psrld(a, b); }, 32);
      case Opcode::I64x2Add: return binary([&](X a, X b) { g_.paddq(a, b); });
      case Opcode::I64x2Sub: return binary([&](X a, X b) { g_.psubq(a, b); });
      case Opcode::I64x2Shl: return shift([&](X a, X b) { g_.psllq(a, b); }, 64);
      case Opcode::I64x2ShrU: return shift([&](X a, X b) { g_.psrlq(a, b); }, 64);
      case Opcode::V128And: return binary([&](X a, X b) { g_.pand(a, b); });
      case Opcode::V128Or: return binary([&](X a, X b) { g_.por(a, b); });
      case Opcode::V128Xor: return binary([&](X a, X b) { g_.pxor(a, b); });
      case Opcode::F32x4Add: return binary([&](X a, X b) { g_.addps(a, b); });
      case Opcode::F32x4Sub: return binary([&](X a, X b) { g_.subps(a, b); });
      case Opcode::F32x4Mul: return binary([&](X a, X b) { g_.mulps(a, b); });
      case Opcode::F32x4Div: return binary([&](X a, X b) { g_.divps(a, b); });
      case Opcode::F64x2Add: return binary([&](X a, X b) { g_.addpd(a, b); });
      case Opcode::F64x2Sub: return binary([&](X a, X b) { g_.subpd(a, b); });
      case Opcode::F64x2Mul: return binary([&](X a, X b) { g_.mulpd(a, b); });
      case Opcode::F64x2Div: return binary([&](X a, X b) { g_.divpd(a, b); });
      case Opcode::I8x16Splat:
        return splat([&](X x) {
          read_i32(s, args[0], eax);
          g_.movd(x, eax);
          g_.pxor(xmm15, xmm15);
          g_.pshufb(x, xmm15);  // byte 0 everywhere
        });
      case Opcode::I16x8Splat:
        return splat([&](X x) {
          read_i32(s, args[0], eax);
          g_.movd(x, eax);
          g_.pshuflw(x, x, 0);
          g_.punpcklqdq(x, x);
        });
      case Opcode::I32x4Splat:
        return splat([&](X x) {
          read_i32(s, args[0], eax);
          g_.movd(x, eax);
          g_.pshufd(x, x, 0);
        });
      case Opcode::I64x2Splat:
        return splat([&](X x) {
          materialize_gpr(rax, args[0]);
          g_.movq(x, rax);
          g_.punpcklqdq(x, x);
        });
      case Opcode::F32x4Splat:
        return splat([&](X x) {
          materialize_xmm(x, args[0]);
          g_.shufps(x, x, 0);
        });
      case Opcode::F64x2Splat:
        return splat([&](X x) {
          materialize_xmm(x, args[0]);
          g_.punpcklqdq(x, x);
        });
      case Opcode::I32x4ExtractLane: case Opcode::I64x2ExtractLane: case Opcode::I8x16ExtractLaneS:
      case Opcode::I8x16ExtractLaneU: case Opcode::I16x8ExtractLaneS: case Opcode::I16x8ExtractLaneU: {
        Xbyak::Xmm v = use_xmm(s, args[0]);
        Xbyak::Reg64 r = alloc_gpr(s);  // spills nothing of class xmm
        const uint8_t lane = imm.lane;
        switch (op) {
          case Opcode::I32x4ExtractLane: g_.pextrd(r.cvt32(), v, lane); break;
          case Opcode::I64x2ExtractLane: g_.pextrq(r, v, lane); break;
          case Opcode::I8x16ExtractLaneS:
            g_.pextrb(r.cvt32(), v, lane);
            g_.movsx(r.cvt32(), r.cvt8());
            break;
          case Opcode::I8x16ExtractLaneU: g_.pextrb(r.cvt32(), v, lane); break;
          case Opcode::I16x8ExtractLaneS:
            g_.pextrw(r.cvt32(), v, lane);
            g_.movsx(r.cvt32(), r.cvt16());
            break;
          default: g_.pextrw(r.cvt32(), v, lane); break;
        }
        release(args[0]);
        set_reg(*result, r.getIdx());
        return true;
      }
      case Opcode::F32x4ExtractLane: case Opcode::F64x2ExtractLane: {
        // The lane moves to the bottom; the bits above it are not read.
        Xbyak::Xmm x = own_xmm(s, args[0]);
        if (op == Opcode::F32x4ExtractLane && imm.lane != 0) g_.shufps(x, x, imm.lane);
        if (op == Opcode::F64x2ExtractLane && imm.lane != 0) g_.unpckhpd(x, x);
        set_reg(*result, x.getIdx());
        return true;
      }
      case Opcode::I8x16Shuffle: {
        // pshufb of each input by a mask that picks its lanes (0x80 clears
        // the others), or'ed; the masks come from the pool.
        uint8_t lanes[16], from_a[16], from_b[16];
        const uint64_t halves[2] = {imm.v128.lo(), imm.v128.hi()};
        std::memcpy(lanes, halves, 16);
        for (int i = 0; i < 16; ++i) {
          from_a[i] = lanes[i] < 16 ? lanes[i] : 0x80;
          from_b[i] = lanes[i] >= 16 ? static_cast<uint8_t>(lanes[i] - 16) : 0x80;
        }
        uint64_t mask_a[2], mask_b[2];
        std::memcpy(mask_a, from_a, 16);
        std::memcpy(mask_b, from_b, 16);
        return binary([&](X a, X b) {
          g_.pshufb(a, xword[rip + pool_constant(mask_a[0], mask_a[1])]);
          g_.movdqa(xmm15, b);
          g_.pshufb(xmm15, xword[rip + pool_constant(mask_b[0], mask_b[1])]);
          g_.por(a, xmm15);
        });
      }
      default: return simd_more(s, op, imm, args, result);
    }
  }

  // An extended multiply: `widen` each operand (its high half moved
  // down first when `high`), then `mul`.
  template <typename Widen, typename Mul>
  bool extmul(S& s, V* args, V* result, bool high, Widen&& widen, Mul&& mul) {
    return f_binary(s, args, result, [&](const Xbyak::Xmm& a, const Xbyak::Xmm& b) {
      g_.movdqa(xmm15, b);
      if (high) {
        g_.pshufd(a, a, 0xee);
        g_.pshufd(xmm15, xmm15, 0xee);
      }
      widen(a);
      widen(xmm15);
      mul(a, xmm15);
    });
  }

  // More of them: complements, comparisons, lane tests and masks,
  // replace_lane, widening, rounding and conversions SSE4.1 does exactly.
  bool simd_more(S& s, Opcode op, const Immediates& imm, V* args, V* result) {
    using X = const Xbyak::Xmm&;
    auto binary = [&](auto&& emit) { return f_binary(s, args, result, emit); };
    // b op a, into a's register.
    auto reversed = [&](auto&& emit) {
      return binary([&](X a, X b) {
        g_.movdqa(xmm15, b);
        emit(xmm15, a);
        g_.movdqa(a, xmm15);
      });
    };
    auto complement = [&](X a) {  // xmm14: `a` may be xmm15
      g_.pcmpeqd(xmm14, xmm14);
      g_.pxor(a, xmm14);
    };
    // a op= a, in place.
    auto unary = [&](auto&& emit) {
      Xbyak::Xmm a = own_xmm(s, args[0]);
      emit(a);
      set_reg(*result, a.getIdx());
      return true;
    };
    // 0 - a.
    auto negate = [&](auto&& sub) {
      return unary([&](X a) {
        g_.pxor(xmm15, xmm15);
        sub(xmm15, a);
        g_.movdqa(a, xmm15);
      });
    };
    // Unsigned a >= b as max(a, b) == a (with min: a <= b).
    auto unsigned_ge = [&](auto&& max_or_min, auto&& eq) {
      return binary([&](X a, X b) {
        g_.movdqa(xmm15, a);
        max_or_min(xmm15, b);
        eq(a, xmm15);
      });
    };
    // The sign bits' mask (or its complement) from the pool.
    auto sign_mask = [&](uint64_t lane_bits) { return xword[rip + pool_constant(lane_bits, lane_bits)]; };
    // An i32 from the vector, into a scratch register.
    auto to_gpr = [&](auto&& emit) {
      Xbyak::Xmm v = use_xmm(s, args[0]);
      Xbyak::Reg64 r = alloc_gpr(s);  // spills nothing of class xmm
      emit(r.cvt32(), v);
      release(args[0]);
      set_reg(*result, r.getIdx());
      return true;
    };
    // all_true: no lane equals zero; the flags answer (ZF).
    auto all_true = [&](auto&& eq) {
      Xbyak::Xmm v = use_xmm(s, args[0]);
      g_.pxor(xmm15, xmm15);
      eq(xmm15, v);
      g_.ptest(xmm15, xmm15);
      release(args[0]);
      set_flags(*result, kE);
      return true;
    };
#define SKIFF_SSE(insn) [&](X a, X b) { g_.insn(a, b); }
    const uint64_t f32_sign = 0x8000000080000000ull, f64_sign = 0x8000000000000000ull;
    switch (op) {
      case Opcode::V128Not: return unary([&](X a) { complement(a); });
      case Opcode::V128Andnot: return reversed(SKIFF_SSE(pandn));  // a & ~b: pandn complements its destination
      case Opcode::V128Bitselect: {  // (a & c) | (b & ~c)
        Xbyak::Xmm a = own_xmm(s, args[0]);
        Xbyak::Xmm b = use_xmm(s, args[1]);
        Xbyak::Xmm c = use_xmm(s, args[2]);
        g_.pand(a, c);
        g_.movdqa(xmm15, c);
        g_.pandn(xmm15, b);
        g_.por(a, xmm15);
        release(args[1]);
        release(args[2]);
        set_reg(*result, a.getIdx());
        return true;
      }
      case Opcode::V128AnyTrue: {
        Xbyak::Xmm v = use_xmm(s, args[0]);
        g_.ptest(v, v);
        release(args[0]);
        set_flags(*result, kNE);
        return true;
      }
      case Opcode::I8x16AllTrue: return all_true(SKIFF_SSE(pcmpeqb));
      case Opcode::I16x8AllTrue: return all_true(SKIFF_SSE(pcmpeqw));
      case Opcode::I32x4AllTrue: return all_true(SKIFF_SSE(pcmpeqd));
      case Opcode::I64x2AllTrue: return all_true(SKIFF_SSE(pcmpeqq));
      case Opcode::I8x16Bitmask: return to_gpr([&](const Xbyak::Reg32& r, X v) { g_.pmovmskb(r, v); });
      case Opcode::I16x8Bitmask:
        return to_gpr([&](const Xbyak::Reg32& r, X v) {
          g_.movdqa(xmm15, v);
          g_.packsswb(xmm15, xmm15);  // each word's sign into a byte
          g_.pmovmskb(r, xmm15);
          g_.movzx(r, r.cvt8());
        });
      case Opcode::I32x4Bitmask: return to_gpr([&](const Xbyak::Reg32& r, X v) { g_.movmskps(r, v); });
      case Opcode::I64x2Bitmask: return to_gpr([&](const Xbyak::Reg32& r, X v) { g_.movmskpd(r, v); });
      case Opcode::I8x16Abs: return unary([&](X a) { g_.pabsb(a, a); });
      case Opcode::I16x8Abs: return unary([&](X a) { g_.pabsw(a, a); });
      case Opcode::I32x4Abs: return unary([&](X a) { g_.pabsd(a, a); });
      case Opcode::I64x2Abs:  // (a ^ sign) - sign
        return unary([&](X a) {
          g_.pshufd(xmm15, a, 0xf5);
          g_.psrad(xmm15, 31);
          g_.pxor(a, xmm15);
          g_.psubq(a, xmm15);
        });
      case Opcode::I8x16Neg: return negate(SKIFF_SSE(psubb));
      case Opcode::I16x8Neg: return negate(SKIFF_SSE(psubw));
      case Opcode::I32x4Neg: return negate(SKIFF_SSE(psubd));
      case Opcode::I64x2Neg: return negate(SKIFF_SSE(psubq));
      case Opcode::I8x16Ne: return binary([&](X a, X b) { g_.pcmpeqb(a, b); complement(a); });
      case Opcode::I16x8Ne: return binary([&](X a, X b) { g_.pcmpeqw(a, b); complement(a); });
      case Opcode::I32x4Ne: return binary([&](X a, X b) { g_.pcmpeqd(a, b); complement(a); });
      case Opcode::I64x2Eq: return binary([&](X a, X b) { g_.pcmpeqq(a, b); });
      case Opcode::I64x2Ne: return binary([&](X a, X b) { g_.pcmpeqq(a, b); complement(a); });
      case Opcode::I8x16GtS: return binary([&](X a, X b) { g_.pcmpgtb(a, b); });
      case Opcode::I16x8GtS: return binary([&](X a, X b) { g_.pcmpgtw(a, b); });
      case Opcode::I32x4GtS: return binary([&](X a, X b) { g_.pcmpgtd(a, b); });
      case Opcode::I8x16LtS: return reversed([&](X b, X a) { g_.pcmpgtb(b, a); });
      case Opcode::I16x8LtS: return reversed([&](X b, X a) { g_.pcmpgtw(b, a); });
      case Opcode::I32x4LtS: return reversed([&](X b, X a) { g_.pcmpgtd(b, a); });
      case Opcode::I8x16LeS: return binary([&](X a, X b) { g_.pcmpgtb(a, b); complement(a); });
      case Opcode::I16x8LeS: return binary([&](X a, X b) { g_.pcmpgtw(a, b); complement(a); });
      case Opcode::I32x4LeS: return binary([&](X a, X b) { g_.pcmpgtd(a, b); complement(a); });
      case Opcode::I8x16GeS: return reversed([&](X b, X a) { g_.pcmpgtb(b, a); complement(b); });
      case Opcode::I16x8GeS: return reversed([&](X b, X a) { g_.pcmpgtw(b, a); complement(b); });
      case Opcode::I32x4GeS: return reversed([&](X b, X a) { g_.pcmpgtd(b, a); complement(b); });
      case Opcode::I8x16GeU: return unsigned_ge(SKIFF_SSE(pmaxub), SKIFF_SSE(pcmpeqb));
      case Opcode::I16x8GeU: return unsigned_ge(SKIFF_SSE(pmaxuw), SKIFF_SSE(pcmpeqw));
      case Opcode::I32x4GeU: return unsigned_ge(SKIFF_SSE(pmaxud), SKIFF_SSE(pcmpeqd));
      case Opcode::I8x16LeU: return unsigned_ge(SKIFF_SSE(pminub), SKIFF_SSE(pcmpeqb));
      case Opcode::I16x8LeU: return unsigned_ge(SKIFF_SSE(pminuw), SKIFF_SSE(pcmpeqw));
      case Opcode::I32x4LeU: return unsigned_ge(SKIFF_SSE(pminud), SKIFF_SSE(pcmpeqd));
      case Opcode::I8x16LtU: unsigned_ge(SKIFF_SSE(pmaxub), SKIFF_SSE(pcmpeqb)); break;
      case Opcode::I16x8LtU: unsigned_ge(SKIFF_SSE(pmaxuw), SKIFF_SSE(pcmpeqw)); break;
      case Opcode::I32x4LtU: unsigned_ge(SKIFF_SSE(pmaxud), SKIFF_SSE(pcmpeqd)); break;
      case Opcode::I8x16GtU: unsigned_ge(SKIFF_SSE(pminub), SKIFF_SSE(pcmpeqb)); break;
      case Opcode::I16x8GtU: unsigned_ge(SKIFF_SSE(pminuw), SKIFF_SSE(pcmpeqw)); break;
      case Opcode::I32x4GtU: unsigned_ge(SKIFF_SSE(pminud), SKIFF_SSE(pcmpeqd)); break;
      // Float comparisons: ordered, but ne true on NaN (cmpps predicates).
      case Opcode::F32x4Eq: return binary([&](X a, X b) { g_.cmpeqps(a, b); });
      case Opcode::F32x4Ne: return binary([&](X a, X b) { g_.cmpneqps(a, b); });
      case Opcode::F32x4Lt: return binary([&](X a, X b) { g_.cmpltps(a, b); });
      case Opcode::F32x4Le: return binary([&](X a, X b) { g_.cmpleps(a, b); });
      case Opcode::F32x4Gt: return reversed([&](X b, X a) { g_.cmpltps(b, a); });
      case Opcode::F32x4Ge: return reversed([&](X b, X a) { g_.cmpleps(b, a); });
      case Opcode::F64x2Eq: return binary([&](X a, X b) { g_.cmpeqpd(a, b); });
      case Opcode::F64x2Ne: return binary([&](X a, X b) { g_.cmpneqpd(a, b); });
      case Opcode::F64x2Lt: return binary([&](X a, X b) { g_.cmpltpd(a, b); });
      case Opcode::F64x2Le: return binary([&](X a, X b) { g_.cmplepd(a, b); });
      case Opcode::F64x2Gt: return reversed([&](X b, X a) { g_.cmpltpd(b, a); });
      case Opcode::F64x2Ge: return reversed([&](X b, X a) { g_.cmplepd(b, a); });
      // pmin(a, b) = b < a ? b : a: minps returns its second operand
      // unless the first is less (NaNs included), so b takes a's place.
      case Opcode::F32x4Pmin: return reversed([&](X b, X a) { g_.minps(b, a); });
      case Opcode::F32x4Pmax: return reversed([&](X b, X a) { g_.maxps(b, a); });
      case Opcode::F64x2Pmin: return reversed([&](X b, X a) { g_.minpd(b, a); });
      case Opcode::F64x2Pmax: return reversed([&](X b, X a) { g_.maxpd(b, a); });
      case Opcode::F32x4Abs: return unary([&](X a) { g_.andps(a, sign_mask(~f32_sign)); });
      case Opcode::F64x2Abs: return unary([&](X a) { g_.andpd(a, sign_mask(~f64_sign)); });
      case Opcode::F32x4Neg: return unary([&](X a) { g_.xorps(a, sign_mask(f32_sign)); });
      case Opcode::F64x2Neg: return unary([&](X a) { g_.xorpd(a, sign_mask(f64_sign)); });
      case Opcode::F32x4Sqrt: return unary([&](X a) { g_.sqrtps(a, a); });
      case Opcode::F64x2Sqrt: return unary([&](X a) { g_.sqrtpd(a, a); });
      // roundps modes: 0 nearest (even), 1 floor, 2 ceil, 3 trunc; NaNs come out quiet.
      case Opcode::F32x4Nearest: return unary([&](X a) { g_.roundps(a, a, 0); });
      case Opcode::F32x4Floor: return unary([&](X a) { g_.roundps(a, a, 1); });
      case Opcode::F32x4Ceil: return unary([&](X a) { g_.roundps(a, a, 2); });
      case Opcode::F32x4Trunc: return unary([&](X a) { g_.roundps(a, a, 3); });
      case Opcode::F64x2Nearest: return unary([&](X a) { g_.roundpd(a, a, 0); });
      case Opcode::F64x2Floor: return unary([&](X a) { g_.roundpd(a, a, 1); });
      case Opcode::F64x2Ceil: return unary([&](X a) { g_.roundpd(a, a, 2); });
      case Opcode::F64x2Trunc: return unary([&](X a) { g_.roundpd(a, a, 3); });
      case Opcode::F32x4ConvertI32x4S: return unary([&](X a) { g_.cvtdq2ps(a, a); });
      case Opcode::F64x2ConvertLowI32x4S: return unary([&](X a) { g_.cvtdq2pd(a, a); });
      case Opcode::F64x2PromoteLowF32x4: return unary([&](X a) { g_.cvtps2pd(a, a); });
      case Opcode::F32x4DemoteF64x2Zero: return unary([&](X a) { g_.cvtpd2ps(a, a); });
      // Widening: the low half as it is, the high half moved down first.
      case Opcode::I16x8ExtendLowI8x16S: return unary([&](X a) { g_.pmovsxbw(a, a); });
      case Opcode::I16x8ExtendLowI8x16U: return unary([&](X a) { g_.pmovzxbw(a, a); });
      case Opcode::I32x4ExtendLowI16x8S: return unary([&](X a) { g_.pmovsxwd(a, a); });
      case Opcode::I32x4ExtendLowI16x8U: return unary([&](X a) { g_.pmovzxwd(a, a); });
      case Opcode::I64x2ExtendLowI32x4S: return unary([&](X a) { g_.pmovsxdq(a, a); });
      case Opcode::I64x2ExtendLowI32x4U: return unary([&](X a) { g_.pmovzxdq(a, a); });
      case Opcode::I16x8ExtendHighI8x16S: return unary([&](X a) { g_.pshufd(a, a, 0xee); g_.pmovsxbw(a, a); });
      case Opcode::I16x8ExtendHighI8x16U: return unary([&](X a) { g_.pshufd(a, a, 0xee); g_.pmovzxbw(a, a); });
      case Opcode::I32x4ExtendHighI16x8S: return unary([&](X a) { g_.pshufd(a, a, 0xee); g_.pmovsxwd(a, a); });
      case Opcode::I32x4ExtendHighI16x8U: return unary([&](X a) { g_.pshufd(a, a, 0xee); g_.pmovzxwd(a, a); });
      case Opcode::I64x2ExtendHighI32x4S: return unary([&](X a) { g_.pshufd(a, a, 0xee); g_.pmovsxdq(a, a); });
      case Opcode::I64x2ExtendHighI32x4U: return unary([&](X a) { g_.pshufd(a, a, 0xee); g_.pmovzxdq(a, a); });
      // Indices past 15 pick zero: + 0x70 (saturating) sets their top bit.
      case Opcode::I8x16Swizzle:
        return binary([&](X a, X b) {
          g_.movdqa(xmm15, b);
          g_.paddusb(xmm15, xword[rip + pool_constant(0x7070707070707070ull, 0x7070707070707070ull)]);
          g_.pshufb(a, xmm15);
        });
      case Opcode::I8x16ReplaceLane: case Opcode::I16x8ReplaceLane: case Opcode::I32x4ReplaceLane:
      case Opcode::I64x2ReplaceLane: {
        Xbyak::Xmm a = own_xmm(s, args[0]);
        Xbyak::Reg64 v = use_gpr(s, args[1]);
        switch (op) {
          case Opcode::I8x16ReplaceLane: g_.pinsrb(a, v.cvt32(), imm.lane); break;
          case Opcode::I16x8ReplaceLane: g_.pinsrw(a, v.cvt32(), imm.lane); break;
          case Opcode::I32x4ReplaceLane: g_.pinsrd(a, v.cvt32(), imm.lane); break;
          default: g_.pinsrq(a, v, imm.lane); break;
        }
        release(args[1]);
        set_reg(*result, a.getIdx());
        return true;
      }
      case Opcode::F32x4ReplaceLane:
        return binary([&](X a, X b) { g_.insertps(a, b, static_cast<uint8_t>(imm.lane << 4)); });
      case Opcode::F64x2ReplaceLane:
        return binary([&](X a, X b) {
          if (imm.lane == 0) g_.movsd(a, b);  // the register form keeps the high lane
          else g_.movlhps(a, b);
        });
      // Extended multiplies: both halves widened (the high ones moved down
      // first), then multiplied; 32x32->64 bits by pmuldq/pmuludq, which
      // take the even dwords.
      case Opcode::I16x8ExtmulLowI8x16S: return extmul(s, args, result, false, [&](X a) { g_.pmovsxbw(a, a); }, SKIFF_SSE(pmullw));
      case Opcode::I16x8ExtmulHighI8x16S: return extmul(s, args, result, true, [&](X a) { g_.pmovsxbw(a, a); }, SKIFF_SSE(pmullw));
      case Opcode::I16x8ExtmulLowI8x16U: return extmul(s, args, result, false, [&](X a) { g_.pmovzxbw(a, a); }, SKIFF_SSE(pmullw));
      case Opcode::I16x8ExtmulHighI8x16U: return extmul(s, args, result, true, [&](X a) { g_.pmovzxbw(a, a); }, SKIFF_SSE(pmullw));
      case Opcode::I32x4ExtmulLowI16x8S: return extmul(s, args, result, false, [&](X a) { g_.pmovsxwd(a, a); }, SKIFF_SSE(pmulld));
      case Opcode::I32x4ExtmulHighI16x8S: return extmul(s, args, result, true, [&](X a) { g_.pmovsxwd(a, a); }, SKIFF_SSE(pmulld));
      case Opcode::I32x4ExtmulLowI16x8U: return extmul(s, args, result, false, [&](X a) { g_.pmovzxwd(a, a); }, SKIFF_SSE(pmulld));
      case Opcode::I32x4ExtmulHighI16x8U: return extmul(s, args, result, true, [&](X a) { g_.pmovzxwd(a, a); }, SKIFF_SSE(pmulld));
      case Opcode::I64x2ExtmulLowI32x4S: return extmul(s, args, result, false, [&](X a) { g_.pshufd(a, a, 0x50); }, SKIFF_SSE(pmuldq));
      case Opcode::I64x2ExtmulHighI32x4S: return extmul(s, args, result, false, [&](X a) { g_.pshufd(a, a, 0xfa); }, SKIFF_SSE(pmuldq));
      case Opcode::I64x2ExtmulLowI32x4U: return extmul(s, args, result, false, [&](X a) { g_.pshufd(a, a, 0x50); }, SKIFF_SSE(pmuludq));
      case Opcode::I64x2ExtmulHighI32x4U: return extmul(s, args, result, false, [&](X a) { g_.pshufd(a, a, 0xfa); }, SKIFF_SSE(pmuludq));
      // Pairwise sums: pmaddubsw takes its first operand unsigned and its
      // second signed, pmaddwd both signed (unsigned words: biased by
      // 0x8000 each, 0x10000 added back).
      case Opcode::I16x8ExtaddPairwiseI8x16S:
        return unary([&](X a) {
          g_.movdqa(xmm15, xword[rip + pool_constant(0x0101010101010101ull, 0x0101010101010101ull)]);
          g_.pmaddubsw(xmm15, a);
          g_.movdqa(a, xmm15);
        });
      case Opcode::I16x8ExtaddPairwiseI8x16U:
        return unary([&](X a) { g_.pmaddubsw(a, xword[rip + pool_constant(0x0101010101010101ull, 0x0101010101010101ull)]); });
      case Opcode::I32x4ExtaddPairwiseI16x8S:
        return unary([&](X a) { g_.pmaddwd(a, xword[rip + pool_constant(0x0001000100010001ull, 0x0001000100010001ull)]); });
      case Opcode::I32x4ExtaddPairwiseI16x8U:
        return unary([&](X a) {
          g_.pxor(a, xword[rip + pool_constant(0x8000800080008000ull, 0x8000800080008000ull)]);
          g_.pmaddwd(a, xword[rip + pool_constant(0x0001000100010001ull, 0x0001000100010001ull)]);
          g_.paddd(a, xword[rip + pool_constant(0x0001000000010000ull, 0x0001000000010000ull)]);
        });
      // Rounding Q15 multiply: pmulhrsw, except 0x8000 * 0x8000, which
      // saturates to 0x7fff (pmulhrsw gives 0x8000 there).
      case Opcode::I16x8Q15mulrSatS:
        return binary([&](X a, X b) {
          g_.pmulhrsw(a, b);
          g_.movdqa(xmm15, xword[rip + pool_constant(0x8000800080008000ull, 0x8000800080008000ull)]);
          g_.pcmpeqw(xmm15, a);
          g_.pxor(a, xmm15);
        });
      // a * b = lo*lo + ((hi(a)*lo(b) + lo(a)*hi(b)) << 32), per 64-bit lane.
      case Opcode::I64x2Mul:
        return binary([&](X a, X b) {
          g_.movdqa(xmm15, a);
          g_.psrlq(xmm15, 32);
          g_.pmuludq(xmm15, b);  // hi(a) * lo(b)
          g_.movdqa(xmm14, b);
          g_.psrlq(xmm14, 32);
          g_.pmuludq(xmm14, a);  // lo(a) * hi(b)
          g_.paddq(xmm15, xmm14);
          g_.psllq(xmm15, 32);
          g_.pmuludq(a, b);  // lo(a) * lo(b)
          g_.paddq(a, xmm15);
        });
      // Byte shifts through word shifts: a mask drops the bits that cross
      // into the next byte (shl, shr_u); shr_s shifts each byte as the
      // high half of a word, then packs.
      case Opcode::I8x16Shl: case Opcode::I8x16ShrU: case Opcode::I8x16ShrS: case Opcode::I64x2ShrS: {
        Xbyak::Xmm a = own_xmm(s, args[0]);  // first: taking it may spill through rax
        read_i32(s, args[1], eax);
        release(args[1]);
        g_.and_(eax, op == Opcode::I64x2ShrS ? 63 : 7);
        if (op == Opcode::I8x16ShrS) g_.add(eax, 8);
        g_.movd(xmm15, eax);
        switch (op) {
          case Opcode::I8x16Shl:
            g_.psllw(a, xmm15);
            g_.pcmpeqb(xmm14, xmm14);
            g_.psllw(xmm14, xmm15);  // each word's low byte: 0xff << count
            g_.pxor(xmm15, xmm15);
            g_.pshufb(xmm14, xmm15);
            g_.pand(a, xmm14);
            break;
          case Opcode::I8x16ShrU:
            g_.psrlw(a, xmm15);
            g_.pcmpeqb(xmm14, xmm14);
            g_.psrlw(xmm14, xmm15);  // each word's high byte: 0xff >> count
            g_.pshufb(xmm14, xword[rip + pool_constant(0x0101010101010101ull, 0x0101010101010101ull)]);
            g_.pand(a, xmm14);
            break;
          case Opcode::I8x16ShrS:
            g_.movdqa(xmm14, a);
            g_.punpckhbw(xmm14, xmm14);
            g_.punpcklbw(a, a);
            g_.psraw(a, xmm15);
            g_.psraw(xmm14, xmm15);
            g_.packsswb(a, xmm14);
            break;
          default:  // i64x2.shr_s: a logical shift between two flips by the sign
            g_.pshufd(xmm14, a, 0xf5);
            g_.psrad(xmm14, 31);
            g_.pxor(a, xmm14);
            g_.psrlq(a, xmm15);
            g_.pxor(a, xmm14);
            break;
        }
        set_reg(*result, a.getIdx());
        return true;
      }
      // Popcount by nibbles: two pshufb lookups in a table of 0-15's counts.
      case Opcode::I8x16Popcnt:
        return unary([&](X a) {
          const uint64_t counts_lo = 0x0302020102010100ull, counts_hi = 0x0403030203020201ull;
          const uint64_t low_nibbles = 0x0f0f0f0f0f0f0f0full;
          g_.movdqa(xmm15, a);
          g_.psrlw(xmm15, 4);
          g_.pand(xmm15, xword[rip + pool_constant(low_nibbles, low_nibbles)]);  // high nibbles
          g_.pand(a, xword[rip + pool_constant(low_nibbles, low_nibbles)]);
          g_.movdqa(xmm14, xword[rip + pool_constant(counts_lo, counts_hi)]);
          g_.pshufb(xmm14, a);
          g_.movdqa(a, xword[rip + pool_constant(counts_lo, counts_hi)]);
          g_.pshufb(a, xmm15);
          g_.paddb(a, xmm14);
        });
      default: return false;
    }
#undef SKIFF_SSE
    // The unsigned lt/gt above: the complement of ge/le.
    complement(Xbyak::Xmm(result->data.reg));
    return true;
  }

  // An i32/i64 immediate operand, when b is a constant that fits one.
  static bool imm32_of(const V& b, bool wide, int32_t& out) {
    if (b.data.loc != Loc::Const) return false;
    if (!wide) {
      out = static_cast<int32_t>(static_cast<uint32_t>(b.data.bits));
      return true;
    }
    const auto v = static_cast<int64_t>(b.data.bits);
    if (v != static_cast<int32_t>(v)) return false;
    out = static_cast<int32_t>(v);
    return true;
  }

  // A pinned local plus a constant stays pending (Loc::LocalPlus): one lea
  // where it is used, into an address, a scratch register, or the local
  // itself (i += k).
  bool add_local_imm(S&, bool wide, V* args, V* result) {
    int32_t k;
    if (args[1].data.loc == Loc::Local && imm32_of(args[0], wide, k)) std::swap(args[0], args[1]);
    if (args[0].data.loc != Loc::Local || !imm32_of(args[1], wide, k)) return false;
    result->data = {Loc::LocalPlus, 0, args[0].data.local, static_cast<uint64_t>(static_cast<int64_t>(k))};
    return true;
  }

  // A commutative op works in place on its first operand's register: a
  // second operand that already is in a scratch register (and a first one
  // that is not: a local, a constant, a slot) trade places, which saves
  // copying the first (and a constant becomes an immediate).
  void commute_into_scratch(V* args) {
    if (args[1].data.loc == Loc::Reg && args[0].data.loc != Loc::Reg) std::swap(args[0], args[1]);
  }

  // Scalar operations expanded inline; false leaves the op to fallback().
  bool numeric(S& s, Opcode op, V* args, V* result) {
    // a op= b on a scratch copy of a, which becomes the result.
    auto sized = [](const Xbyak::Reg64& r, bool wide) { return wide ? Xbyak::Reg(r) : Xbyak::Reg(r.cvt32()); };
    auto binary = [&](bool wide, auto&& emit_reg, auto&& emit_imm, bool commutative = false) {
      if (commutative) commute_into_scratch(args);
      Xbyak::Reg64 a = own_gpr(s, args[0]);
      int32_t k;
      if (imm32_of(args[1], wide, k)) {
        emit_imm(sized(a, wide), k);
      } else {
        Xbyak::Reg64 b = use_gpr(s, args[1]);
        emit_reg(sized(a, wide), sized(b, wide));
        release(args[1]);
      }
      set_reg(*result, a.getIdx());
      return true;
    };
    // emit(a, count) with count cl, or a constant (masked as the
    // instruction would mask cl).
    auto shift = [&](bool wide, auto&& emit) {
      Xbyak::Reg64 a = own_gpr(s, args[0]);
      if (args[1].data.loc == Loc::Const) {
        emit(sized(a, wide), static_cast<uint8_t>(args[1].data.bits & (wide ? 63 : 31)));
      } else {
        read_i32(s, args[1], ecx);  // the count's low bits are all that count
        release(args[1]);
        emit(sized(a, wide), cl);
      }
      set_reg(*result, a.getIdx());
      return true;
    };
    auto compare = [&](bool wide, Cond c) {
      Xbyak::Reg64 a = use_gpr(s, args[0]);
      int32_t k;
      if (imm32_of(args[1], wide, k)) {
        g_.cmp(sized(a, wide), k);
      } else {
        Xbyak::Reg64 b = use_gpr(s, args[1]);
        g_.cmp(sized(a, wide), sized(b, wide));
        release(args[1]);
      }
      release(args[0]);
      set_flags(*result, c);
      return true;
    };
    // r = f(a) into a fresh scratch register.
    auto unary = [&](auto&& emit) {
      Xbyak::Reg64 a = use_gpr(s, args[0]);
      release(args[0]);
      Xbyak::Reg64 r = alloc_gpr(s);
      emit(r, a);
      set_reg(*result, r.getIdx());
      return true;
    };
    using R = Xbyak::Reg;
    using R64 = Xbyak::Reg64;
    auto add = [&](const R& a, const R& b) { g_.add(a, b); };
    auto add_k = [&](const R& a, int32_t k) { g_.add(a, k); };
    auto sub = [&](const R& a, const R& b) { g_.sub(a, b); };
    auto sub_k = [&](const R& a, int32_t k) { g_.sub(a, k); };
    auto and_ = [&](const R& a, const R& b) { g_.and_(a, b); };
    auto and_k = [&](const R& a, int32_t k) { g_.and_(a, k); };
    auto or_ = [&](const R& a, const R& b) { g_.or_(a, b); };
    auto or_k = [&](const R& a, int32_t k) { g_.or_(a, k); };
    auto xor_ = [&](const R& a, const R& b) { g_.xor_(a, b); };
    auto xor_k = [&](const R& a, int32_t k) { g_.xor_(a, k); };
    auto mul = [&](const R& a, const R& b) { g_.imul(a, b); };
    auto mul_k = [&](const R& a, int32_t k) { g_.imul(a, a, k); };
    switch (op) {
      case Opcode::I32Add: return add_local_imm(s, false, args, result) || binary(false, add, add_k, true);
      case Opcode::I32Sub: return binary(false, sub, sub_k);
      case Opcode::I32Mul: return binary(false, mul, mul_k, true);
      case Opcode::I32And: return binary(false, and_, and_k, true);
      case Opcode::I32Or: return binary(false, or_, or_k, true);
      case Opcode::I32Xor: return binary(false, xor_, xor_k, true);
      case Opcode::I64Add: return add_local_imm(s, true, args, result) || binary(true, add, add_k, true);
      case Opcode::I64Sub: return binary(true, sub, sub_k);
      case Opcode::I64Mul: return binary(true, mul, mul_k, true);
      case Opcode::I64And: return binary(true, and_, and_k, true);
      case Opcode::I64Or: return binary(true, or_, or_k, true);
      case Opcode::I64Xor: return binary(true, xor_, xor_k, true);
      case Opcode::I32Shl: return shift(false, [&](const R& a, const auto& n) { g_.shl(a, n); });
      case Opcode::I32ShrS: return shift(false, [&](const R& a, const auto& n) { g_.sar(a, n); });
      case Opcode::I32ShrU: return shift(false, [&](const R& a, const auto& n) { g_.shr(a, n); });
      case Opcode::I32Rotl: return shift(false, [&](const R& a, const auto& n) { g_.rol(a, n); });
      case Opcode::I32Rotr: return shift(false, [&](const R& a, const auto& n) { g_.ror(a, n); });
      case Opcode::I64Shl: return shift(true, [&](const R& a, const auto& n) { g_.shl(a, n); });
      case Opcode::I64ShrS: return shift(true, [&](const R& a, const auto& n) { g_.sar(a, n); });
      case Opcode::I64ShrU: return shift(true, [&](const R& a, const auto& n) { g_.shr(a, n); });
      case Opcode::I64Rotl: return shift(true, [&](const R& a, const auto& n) { g_.rol(a, n); });
      case Opcode::I64Rotr: return shift(true, [&](const R& a, const auto& n) { g_.ror(a, n); });

      case Opcode::I32DivS: case Opcode::I32DivU: case Opcode::I32RemS: case Opcode::I32RemU:
        return divide(s, op, false, args, result);
      case Opcode::I64DivS: case Opcode::I64DivU: case Opcode::I64RemS: case Opcode::I64RemU:
        return divide(s, op, true, args, result);

      case Opcode::I32Eq: return compare(false, kE);
      case Opcode::I32Ne: return compare(false, kNE);
      case Opcode::I32LtS: return compare(false, kL);
      case Opcode::I32LtU: return compare(false, kB);
      case Opcode::I32GtS: return compare(false, kG);
      case Opcode::I32GtU: return compare(false, kA);
      case Opcode::I32LeS: return compare(false, kLE);
      case Opcode::I32LeU: return compare(false, kBE);
      case Opcode::I32GeS: return compare(false, kGE);
      case Opcode::I32GeU: return compare(false, kAE);
      case Opcode::I64Eq: return compare(true, kE);
      case Opcode::I64Ne: return compare(true, kNE);
      case Opcode::I64LtS: return compare(true, kL);
      case Opcode::I64LtU: return compare(true, kB);
      case Opcode::I64GtS: return compare(true, kG);
      case Opcode::I64GtU: return compare(true, kA);
      case Opcode::I64LeS: return compare(true, kLE);
      case Opcode::I64LeU: return compare(true, kBE);
      case Opcode::I64GeS: return compare(true, kGE);
      case Opcode::I64GeU: return compare(true, kAE);
      case Opcode::I32Eqz:
        if (args[0].data.loc == Loc::Flags) {  // eqz of a comparison: its negation
          const Cond c = static_cast<Cond>(args[0].data.reg);
          flags_pending_ = false;
          set_flags(*result, negate(c));
          return true;
        }
        settle_flags(s, args, 1);
        {
          Xbyak::Reg64 a = use_gpr(s, args[0]);
          g_.test(a.cvt32(), a.cvt32());
          release(args[0]);
          set_flags(*result, kE);
        }
        return true;
      case Opcode::I64Eqz: {
        Xbyak::Reg64 a = use_gpr(s, args[0]);
        g_.test(a, a);
        release(args[0]);
        set_flags(*result, kE);
        return true;
      }

      case Opcode::I32Clz: return unary([&](const R64& r, const R64& a) { g_.lzcnt(r.cvt32(), a.cvt32()); });
      case Opcode::I32Ctz: return unary([&](const R64& r, const R64& a) { g_.tzcnt(r.cvt32(), a.cvt32()); });
      case Opcode::I32Popcnt: return unary([&](const R64& r, const R64& a) { g_.popcnt(r.cvt32(), a.cvt32()); });
      case Opcode::I64Clz: return unary([&](const R64& r, const R64& a) { g_.lzcnt(r, a); });
      case Opcode::I64Ctz: return unary([&](const R64& r, const R64& a) { g_.tzcnt(r, a); });
      case Opcode::I64Popcnt: return unary([&](const R64& r, const R64& a) { g_.popcnt(r, a); });
      // A 32-bit move zero-extends.
      case Opcode::I32WrapI64:
      case Opcode::I64ExtendI32U: return unary([&](const R64& r, const R64& a) { g_.mov(r.cvt32(), a.cvt32()); });
      case Opcode::I64ExtendI32S:
      case Opcode::I64Extend32S: return unary([&](const R64& r, const R64& a) { g_.movsxd(r, a.cvt32()); });
      case Opcode::I32Extend8S: return unary([&](const R64& r, const R64& a) { g_.movsx(r.cvt32(), a.cvt8()); });
      case Opcode::I32Extend16S: return unary([&](const R64& r, const R64& a) { g_.movsx(r.cvt32(), a.cvt16()); });
      case Opcode::I64Extend8S: return unary([&](const R64& r, const R64& a) { g_.movsx(r, a.cvt8()); });
      case Opcode::I64Extend16S: return unary([&](const R64& r, const R64& a) { g_.movsx(r, a.cvt16()); });

      // The same bits in the other register class.
      case Opcode::I32ReinterpretF32:
      case Opcode::I64ReinterpretF64: {
        Xbyak::Xmm a = use_xmm(s, args[0]);
        release(args[0]);
        Xbyak::Reg64 r = alloc_gpr(s);
        if (op == Opcode::I32ReinterpretF32) g_.movd(r.cvt32(), a);
        else g_.movq(r, a);
        set_reg(*result, r.getIdx());
        return true;
      }
      case Opcode::F32ReinterpretI32:
      case Opcode::F64ReinterpretI64: {
        Xbyak::Reg64 a = use_gpr(s, args[0]);
        release(args[0]);
        Xbyak::Xmm x = alloc_xmm(s);
        if (op == Opcode::F32ReinterpretI32) g_.movd(x, a.cvt32());
        else g_.movq(x, a);
        set_reg(*result, x.getIdx());
        return true;
      }

      // Floats: exact IEEE operations; sign operations work on the bits.
      case Opcode::F32Add: return f_binary(s, args, result, [&](auto& a, auto& b) { g_.addss(a, b); }, true);
      case Opcode::F32Sub: return f_binary(s, args, result, [&](auto& a, auto& b) { g_.subss(a, b); });
      case Opcode::F32Mul: return f_binary(s, args, result, [&](auto& a, auto& b) { g_.mulss(a, b); }, true);
      case Opcode::F32Div: return f_binary(s, args, result, [&](auto& a, auto& b) { g_.divss(a, b); });
      case Opcode::F64Add: return f_binary(s, args, result, [&](auto& a, auto& b) { g_.addsd(a, b); }, true);
      case Opcode::F64Sub: return f_binary(s, args, result, [&](auto& a, auto& b) { g_.subsd(a, b); });
      case Opcode::F64Mul: return f_binary(s, args, result, [&](auto& a, auto& b) { g_.mulsd(a, b); }, true);
      case Opcode::F64Div: return f_binary(s, args, result, [&](auto& a, auto& b) { g_.divsd(a, b); });
      case Opcode::F32Sqrt: return f_unary(s, args, result, [&](auto& r, auto& a) { g_.sqrtss(r, a); });
      case Opcode::F64Sqrt: return f_unary(s, args, result, [&](auto& r, auto& a) { g_.sqrtsd(r, a); });
      case Opcode::F32Ceil: return f_unary(s, args, result, [&](auto& r, auto& a) { g_.roundss(r, a, 0x0a); });
      case Opcode::F32Floor: return f_unary(s, args, result, [&](auto& r, auto& a) { g_.roundss(r, a, 0x09); });
      case Opcode::F32Trunc: return f_unary(s, args, result, [&](auto& r, auto& a) { g_.roundss(r, a, 0x0b); });
      case Opcode::F32Nearest: return f_unary(s, args, result, [&](auto& r, auto& a) { g_.roundss(r, a, 0x08); });
      case Opcode::F64Ceil: return f_unary(s, args, result, [&](auto& r, auto& a) { g_.roundsd(r, a, 0x0a); });
      case Opcode::F64Floor: return f_unary(s, args, result, [&](auto& r, auto& a) { g_.roundsd(r, a, 0x09); });
      case Opcode::F64Trunc: return f_unary(s, args, result, [&](auto& r, auto& a) { g_.roundsd(r, a, 0x0b); });
      case Opcode::F64Nearest: return f_unary(s, args, result, [&](auto& r, auto& a) { g_.roundsd(r, a, 0x08); });
      case Opcode::F32Abs: case Opcode::F32Neg: case Opcode::F64Abs: case Opcode::F64Neg:
        return sign_op(s, op, args, result);
      case Opcode::F32Copysign: case Opcode::F64Copysign:
        return copysign(s, op == Opcode::F64Copysign, args, result);
      // ucomis sets ZF, PF and CF for unordered operands: a > b is "above",
      // and a < b is b > a, so NaN compares false without a parity test.
      case Opcode::F32Gt: case Opcode::F64Gt: return f_compare(s, args, 0, 1, kA, result);
      case Opcode::F32Ge: case Opcode::F64Ge: return f_compare(s, args, 0, 1, kAE, result);
      case Opcode::F32Lt: case Opcode::F64Lt: return f_compare(s, args, 1, 0, kA, result);
      case Opcode::F32Le: case Opcode::F64Le: return f_compare(s, args, 1, 0, kAE, result);
      case Opcode::F32Eq: case Opcode::F64Eq: return f_equal(s, args, true, result);
      case Opcode::F32Ne: case Opcode::F64Ne: return f_equal(s, args, false, result);
      case Opcode::F64PromoteF32: return f_unary(s, args, result, [&](auto& r, auto& a) { g_.cvtss2sd(r, a); });
      case Opcode::F32DemoteF64: return f_unary(s, args, result, [&](auto& r, auto& a) { g_.cvtsd2ss(r, a); });
      case Opcode::F32ConvertI32S: return convert(s, args, result, false, false, true);
      case Opcode::F64ConvertI32S: return convert(s, args, result, false, false, false);
      case Opcode::F32ConvertI64S: return convert(s, args, result, true, false, true);
      case Opcode::F64ConvertI64S: return convert(s, args, result, true, false, false);
      // An u32 is exact as a non-negative i64.
      case Opcode::F32ConvertI32U: return convert(s, args, result, false, true, true);
      case Opcode::F64ConvertI32U: return convert(s, args, result, false, true, false);
      default: return false;
    }
  }

  // div and rem with the spec's traps: by zero, and INT_MIN / -1 overflowing
  // (whose remainder is 0, where x86's idiv would fault).
  bool divide(S& s, Opcode op, bool wide, V* args, V* result) {
    const bool is_signed = op == Opcode::I32DivS || op == Opcode::I32RemS || op == Opcode::I64DivS ||
                           op == Opcode::I64RemS;
    const bool is_rem = op == Opcode::I32RemS || op == Opcode::I32RemU || op == Opcode::I64RemS ||
                        op == Opcode::I64RemU;
    Xbyak::Label normal, done;
    materialize_gpr(rax, args[0]);
    materialize_gpr(rcx, args[1]);
    release(args[0]);
    release(args[1]);
    if (wide) g_.test(rcx, rcx);
    else g_.test(ecx, ecx);
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
        g_.idiv(rcx);
      } else {
        g_.xor_(edx, edx);
        g_.div(rcx);
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
    Xbyak::Reg64 r = alloc_gpr(s);
    if (wide) g_.mov(r, rax);
    else g_.mov(r.cvt32(), eax);
    set_reg(*result, r.getIdx());
    return true;
  }

  // a = a op b on a scratch copy of a, which becomes the result: float
  // and v128 ops.
  template <typename Emit>
  bool f_binary(S& s, V* args, V* result, Emit&& emit, bool commutative = false) {
    if (commutative) commute_into_scratch(args);
    Xbyak::Xmm a = own_xmm(s, args[0]);
    Xbyak::Xmm b = use_xmm(s, args[1]);
    emit(a, b);
    release(args[1]);
    set_reg(*result, a.getIdx());
    return true;
  }
  template <typename Emit>
  bool f_unary(S& s, V* args, V* result, Emit&& emit) {
    Xbyak::Xmm a = use_xmm(s, args[0]);
    release(args[0]);
    Xbyak::Xmm r = alloc_xmm(s);
    emit(r, a);
    set_reg(*result, r.getIdx());
    return true;
  }

  bool sign_op(S& s, Opcode op, V* args, V* result) {
    const bool wide = op == Opcode::F64Abs || op == Opcode::F64Neg;
    const bool abs = op == Opcode::F32Abs || op == Opcode::F64Abs;
    Xbyak::Xmm a = use_xmm(s, args[0]);
    release(args[0]);
    Xbyak::Xmm r = alloc_xmm(s);
    if (wide) {
      g_.movq(rax, a);
      if (abs) g_.btr(rax, 63);
      else g_.btc(rax, 63);
      g_.movq(r, rax);
    } else {
      g_.movd(eax, a);
      if (abs) g_.and_(eax, 0x7fffffff);
      else g_.xor_(eax, 0x80000000);
      g_.movd(r, eax);
    }
    set_reg(*result, r.getIdx());
    return true;
  }

  bool copysign(S& s, bool wide, V* args, V* result) {
    Xbyak::Xmm a = use_xmm(s, args[0]);
    Xbyak::Xmm b = use_xmm(s, args[1]);
    release(args[0]);
    release(args[1]);
    Xbyak::Xmm r = alloc_xmm(s);
    if (wide) {
      g_.movq(rax, a);
      g_.movq(rcx, b);
      g_.btr(rax, 63);
      g_.shr(rcx, 63);
      g_.shl(rcx, 63);
      g_.or_(rax, rcx);
      g_.movq(r, rax);
    } else {
      g_.movd(eax, a);
      g_.movd(ecx, b);
      g_.and_(eax, 0x7fffffff);
      g_.and_(ecx, 0x80000000);
      g_.or_(eax, ecx);
      g_.movd(r, eax);
    }
    set_reg(*result, r.getIdx());
    return true;
  }

  // ucomis(args[x], args[y]), then the condition as a pending comparison.
  bool f_compare(S& s, V* args, int x, int y, Cond c, V* result) {
    Xbyak::Xmm a = use_xmm(s, args[x]);
    Xbyak::Xmm b = use_xmm(s, args[y]);
    if (args[0].type == ValType::F32) g_.ucomiss(a, b);
    else g_.ucomisd(a, b);
    release(args[0]);
    release(args[1]);
    set_flags(*result, c);
    return true;
  }
  // Equality needs ZF and PF (unordered sets both): settled at once.
  bool f_equal(S& s, V* args, bool equal, V* result) {
    Xbyak::Xmm a = use_xmm(s, args[0]);
    Xbyak::Xmm b = use_xmm(s, args[1]);
    if (args[0].type == ValType::F32) g_.ucomiss(a, b);
    else g_.ucomisd(a, b);
    release(args[0]);
    release(args[1]);
    Xbyak::Reg64 r = alloc_gpr(s);
    if (equal) {
      g_.setnp(al);
      g_.sete(cl);
      g_.and_(al, cl);
    } else {
      g_.setp(al);
      g_.setne(cl);
      g_.or_(al, cl);
    }
    g_.movzx(r.cvt32(), al);
    set_reg(*result, r.getIdx());
    return true;
  }

  bool convert(S& s, V* args, V* result, bool from64, bool unsigned32, bool to32) {
    Xbyak::Reg64 a = use_gpr(s, args[0]);
    if (from64) g_.mov(rax, a);
    else if (unsigned32) g_.mov(eax, a.cvt32());
    else g_.movsxd(rax, a.cvt32());
    release(args[0]);
    Xbyak::Xmm r = alloc_xmm(s);
    g_.xorps(r, r);  // no dependency on the register's old value
    if (to32) g_.cvtsi2ss(r, rax);
    else g_.cvtsi2sd(r, rax);
    set_reg(*result, r.getIdx());
    return true;
  }

  Assembler& g_;
  const wasm::Module& module_;
  const uint32_t defined_index_;
  const bool interruptible_;
  const bool fallback_ops_;
  const std::vector<uint64_t>& local_weights_;
  const bool uses_memory_;  // memory 0's base in r12
  std::atomic<uint8_t>* const exit_flags_;
  const uint32_t num_loops_;
  std::deque<LoopHeader> loop_headers_;
  int call_result_reg_ = -1;  // the register the call being emitted leaves its result in, for call_results
  std::vector<int> local_reg_;  // per local: its register (GPR or XMM index), or -1
  std::vector<CachedLocal> cached_;        // per local not pinned: a scratch register still holding it
  uint32_t generation_[2 * kXmm] = {};    // per register: bumped at each new value
  uint32_t epoch_ = 0;                    // bumped at labels and calls
  uint32_t gpr_busy_ = 0;        // scratch registers holding stack values
  uint32_t xmm_busy_ = 0;
  bool flags_pending_ = false;   // a stack value is a comparison's flags
  bool supported_ = true;
  const char* why_ = "";
  bool live_ = true;  // the code being emitted is reachable
  std::deque<Xbyak::Label> labels_;
  std::map<uint32_t, Xbyak::Label*> trap_labels_;
  std::map<std::pair<uint64_t, uint64_t>, Xbyak::Label*> pool_;  // v128 constants: (low, high) half
  Xbyak::Label dynamic_trap_;  // skiff_rt_trap(eax): a fallback op's trap
  bool dynamic_trap_used_ = false;
  Xbyak::Label body_, return_label_;
  std::vector<ElfCall> calls_;
  std::vector<std::pair<size_t, std::vector<Xbyak::Label*>>> jump_tables_;
  size_t frame_size_at_ = 0;  // of the prologue's frame size (a disp32, negated)
  uint32_t frame_size_ = 0;
  Xbyak::Reg64 saved_[4];  // callee-saved registers pushed after rbp
  uint32_t num_saved_ = 0;
};

// skiff_entry_N (abi.h): C convention, (Instance*, Slot* args_results).
// With `from_slots`, skiff_osr_N_L: `body` (a loop's entry) takes the
// slots' address in rdi, and the results' when they go through memory.
void emit_entry(Assembler& g, const wasm::FuncType& type, Xbyak::Label& body, bool from_slots = false) {
  g.push(rbp);
  g.mov(rbp, rsp);
  g.push(r13);
  g.push(rbx);
  g.mov(r13, rdi);
  g.mov(rbx, rsi);
  int k = 0;
  if (from_slots) {
    g.mov(rdi, rbx);
  } else {
    const std::vector<int> regs = param_registers(type);
    for (size_t i = 0; i < type.params.size(); ++i) {
      load_register(g, type.params[i], regs[i], rbx + 8 * k);
      k += static_cast<int>(slot_count(type.params[i]));
    }
    // Results through memory go straight to the caller's slots.
    if (results_in_memory(type)) g.mov(Xbyak::Reg64(out_pointer_register(type)), rbx);
  }
  g.call(body);
  const std::vector<int> results = result_registers(type);
  k = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    store_register(g, type.results[i], results[i], rbx + 8 * k);
    k += static_cast<int>(slot_count(type.results[i]));
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
  uint64_t entry_size = 0;
  std::vector<ElfCall> calls;
  struct LoopEntry {
    uint32_t offset;       // of the loop
    uint64_t at, size;     // skiff_osr_N_L, after skiff_entry_N
  };
  std::vector<LoopEntry> loop_entries;
  std::unique_ptr<std::atomic<uint8_t>[]> exit_flags;  // one per loop entry
};

// One function's code, or nullopt when it uses something tier 1 lacks.
std::optional<FunctionCode> compile_function(const wasm::Module& module, uint32_t index, const Options& options) {
  PlainAllocator allocator;
  Assembler g(4096, Xbyak::AutoGrow, &allocator);
  LocalUseCounter counter;
  {
    wasm::BodyDecoder<wasm::NoValidation, LocalUseCounter> decoder(module, index, counter);
    if (!decoder.decode().ok()) return std::nullopt;
  }
  FunctionCode out;
  out.index = index;
  if (options.loop_transfers && counter.loops > 0) out.exit_flags.reset(new std::atomic<uint8_t>[counter.loops]());
  FunctionCompiler fc(g, module, index - module.num_imported_funcs, options, counter, out.exit_flags.get());
  try {
    wasm::BodyDecoder<wasm::NoValidation, FunctionCompiler> decoder(module, index, fc);
    if (!decoder.decode().ok() || !fc.supported()) {
      if (std::getenv("SKIFF_BASELINE_LOG") != nullptr)
        std::fprintf(stderr, "skiff: tier 1: function %u left out: %s\n", index, fc.why_unsupported());
      return std::nullopt;
    }
    out.body_size = g.getSize();
    align_code(g);
    const size_t entry_at = g.getSize();
    emit_entry(g, module.func_type(index), fc.body_label());
    out.entry_size = g.getSize() - entry_at;
    for (FunctionCompiler::LoopHeader& loop : fc.loop_headers()) {
      const size_t at = g.getSize();
      emit_entry(g, module.func_type(index), loop.entry, /*from_slots=*/true);
      out.loop_entries.push_back({loop.offset, at, g.getSize() - at});
    }
    g.ready();
    out.bytes.assign(g.getCode(), g.getCode() + g.getSize());
    const int32_t frame_disp = -static_cast<int32_t>(fc.frame_size());
    std::memcpy(out.bytes.data() + fc.frame_size_at(), &frame_disp, 4);
    for (auto& [at, arms] : fc.jump_tables()) {
      for (size_t i = 0; i < arms.size(); ++i) {
        const auto target = static_cast<int64_t>(arms[i]->getAddress() - g.getCode());
        const auto delta = static_cast<int32_t>(target - static_cast<int64_t>(at));
        std::memcpy(out.bytes.data() + at + 4 * i, &delta, 4);
      }
    }
    out.calls = fc.calls();
    out.body_size = entry_at;  // the entry follows the body (and its padding)
  } catch (const Xbyak::Error& e) {
    if (std::getenv("SKIFF_BASELINE_LOG") != nullptr)
      std::fprintf(stderr, "skiff: tier 1: function %u left out: %s\n", index, e.what());
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

Result<Compiled> compile(const wasm::Module& module, const std::vector<uint32_t>& funcs, const Options& options) {
  Compiled out;
  out.code.interruptible = options.interruptible;
  out.code.target = "x86_64 baseline";
  out.code.baseline = true;
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
  auto flags = std::make_shared<std::vector<std::unique_ptr<std::atomic<uint8_t>[]>>>();
  const bool log = std::getenv("SKIFF_BASELINE_LOG") != nullptr;
  for (uint32_t index : indices) {
    const auto start = std::chrono::steady_clock::now();
    std::optional<FunctionCode> code = compile_function(module, index, options);
    if (log && code)
      std::fprintf(stderr, "skiff: tier 1: function %u: %zu bytes of code in %.0f us\n", index, code->bytes.size(),
                   std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
    if (!code) {
      g_left_out.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    g_compiled.fetch_add(1, std::memory_order_relaxed);
    while (text.size() % kFunctionAlignment != 0) text.push_back(0xcc);
    const uint64_t at = text.size();
    text.insert(text.end(), code->bytes.begin(), code->bytes.end());
    symbols.push_back({"wasm_func_" + std::to_string(index), at, code->body_size});
    symbols.push_back({"skiff_entry_" + std::to_string(index), at + code->body_size, code->entry_size});
    for (ElfCall& call : code->calls) calls.push_back({call.offset + at, std::move(call.symbol)});
    out.functions.push_back(index);
    if (!options.loop_transfers) continue;
    FunctionLoops& loops = out.loops.emplace_back();
    loops.func_index = index;
    for (const FunctionCode::LoopEntry& entry : code->loop_entries) {
      symbols.push_back({"skiff_osr_" + std::to_string(index) + "_" + std::to_string(entry.offset), at + entry.at,
                         entry.size});
      loops.offsets.push_back(entry.offset);
    }
    loops.exit_flags = code->exit_flags.get();
    if (code->exit_flags != nullptr) flags->push_back(std::move(code->exit_flags));
  }
  if (!flags->empty()) out.code.data = flags;
  if (!out.functions.empty()) out.code.objects.push_back(write_elf_object(text, symbols, calls, kFunctionAlignment));
  // $SKIFF_BASELINE_DUMP=FILE: the object, for objdump.
  if (const char* path = std::getenv("SKIFF_BASELINE_DUMP"); path != nullptr && !out.code.objects.empty()) {
    if (FILE* f = std::fopen(path, "wb")) {
      std::fwrite(out.code.objects[0].data(), 1, out.code.objects[0].size(), f);
      std::fclose(f);
    }
  }
  return out;
}

}  // namespace skiff::baseline

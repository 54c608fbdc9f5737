// Tier 2's compiler: one walk of the shared BodyDecoder per function with an
// interface that builds LLVM IR, a function pass pipeline chosen for wasm,
// and LLVM's code generator, which emits one ELF object per partition of the
// functions (partitions are built and compiled on parallel threads). The
// engine loads the objects itself. Conventions are in src/llvm/abi.h.
//
// Diagnosis: $SKIFF_LLVM_TIMING=1 (phase times), $SKIFF_LLVM_OPTIONS="-time-passes"
// (LLVM's flags), $SKIFF_LLVM_DUMP_BEFORE / _AFTER=FILE (IR),
// $SKIFF_LLVM_PIPELINE (a pass pipeline text instead of ours),
// $SKIFF_LLVM_CODEGEN=0..3 (codegen level), $SKIFF_LLVM_THREADS=N (partitions),
// $SKIFF_LLVM_CPU=NAME (another CPU than the host's, with its features only).
//
// Values. Every operand-stack home slot and every local is an alloca of its
// type (keyed by slot and type); hooks load operands from their slots and
// store results into theirs. Control-flow joins therefore need no phis of
// our own: mem2reg in the pipeline turns the allocas into SSA values.
//
// Semantics. Integer, float and most SIMD instructions with an exact LLVM
// counterpart are expanded inline (no fast-math flags, no fmuladd, so no
// contraction); division, remainder and float→int truncation branch to a
// trap block first; the rest (swizzle, q15mulr, ...) calls the
// interpreter's ops:: function through the uniform wrapper of
// fallback_ops.h. Loads and stores compute base + zext(address) + offset
// with no bounds check: 32-bit memories are guard-page reservations and the
// engine turns the fault into a trap. Accesses are volatile (see wasm_access).
#include <llvm/ADT/StringMap.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/SubtargetFeature.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/InlineAsm.h>
#include <llvm/TargetParser/Triple.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Passes/StandardInstrumentations.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/IR/PassTimingInfo.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/Utils/LoopUtils.h>
#include <llvm/Transforms/Vectorize/VectorCombine.h>

#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstddef>
#include <cstring>
#include <atomic>
#include <mutex>
#include <algorithm>
#include <optional>
#include <thread>
#include <unordered_map>

#include "base/cpu.h"
#include "llvm/abi.h"
#include "llvm/compiler/bounds_versioning.h"
#include "llvm/fallback_ops.h"
#include "wasm/body_decoder.h"

namespace skiff::llvmjit {

namespace {

using wasm::BlockKind;
using wasm::FuncType;
using wasm::Immediates;
using wasm::Imm;
using wasm::OpClass;
using wasm::Opcode;
using wasm::OpInfo;
using wasm::op_info;

// ---- runtime object layout seen by machine code (abi.h) -------------------------------

using namespace layout;

// Machine code reads a std::vector's elements through its first word.
bool vector_layout_ok() {
  std::vector<void*> v(1);
  void* first_word;
  std::memcpy(&first_word, &v, sizeof(void*));
  return first_word == v.data();
}

// On functions whose wasm code has v128 values (see CombineVectorisedLoopsPass).
constexpr const char* kSimdFunctionAttribute = "skiff-simd";

const char* const kOpNames[] = {
#define SKIFF_OP(name, text, prefix, code, imm, cls, sig, arg) #name,
#include "wasm/opcodes.def"
};

// ---- per-module state ----------------------------------------------------------------

struct ModuleState {
  llvm::LLVMContext& ctx;
  llvm::Module& mod;
  const wasm::Module& wasm;
  llvm::IRBuilder<> b;
  llvm::Type* i8;
  llvm::Type* i32;
  llvm::Type* i64;
  llvm::Type* f32;
  llvm::Type* f64;
  llvm::Type* v128;
  llvm::PointerType* ptr;
  std::vector<llvm::Function*> funcs;  // internal functions, by function index (null for imports)
  std::vector<bool> in_batch;          // by function index: compiled in this request
  bool interruptible = true;           // fuel and epoch checks compiled in

  // Wasm memory accesses are volatile. A wasm load traps when out of
  // bounds even if nothing uses its value, but LLVM deletes unused plain
  // loads, in IR passes and in instruction selection alike (e.g. the
  // magnitude operand of a copysign whose sign comes from elsewhere);
  // marking only the unused ones was not enough (skiff_diff found such
  // loads). Stores likewise: instruction selection merges adjacent ones, and
  // a merged store that faults loses the part that was in bounds. Loops
  // proven in bounds get a copy with plain accesses (bounds_versioning.cpp).
  template <typename Access>
  static Access* wasm_access(Access* access) {
    access->setVolatile(true);
    return access;
  }
  std::unordered_map<std::string, llvm::FunctionCallee> decls;

  ModuleState(llvm::LLVMContext& c, llvm::Module& m, const wasm::Module& w)
      : ctx(c), mod(m), wasm(w), b(c) {
    i8 = b.getInt8Ty();
    i32 = b.getInt32Ty();
    i64 = b.getInt64Ty();
    f32 = b.getFloatTy();
    f64 = b.getDoubleTy();
    v128 = llvm::FixedVectorType::get(i64, 2);
    ptr = b.getPtrTy();
  }

  llvm::Type* type(ValType t) const {
    switch (t) {
      case ValType::I32: return i32;
      case ValType::I64: return i64;
      case ValType::F32: return f32;
      case ValType::F64: return f64;
      case ValType::V128: return v128;
      default: return i64;  // references: FuncInst* or host word
    }
  }

  // Three or more results go through a slot buffer the caller passes last:
  // as an LLVM aggregate the third float would come back in x87's ST0, and
  // loading a signalling NaN there quiets it.
  static bool results_in_memory(const FuncType& ft) { return ft.results.size() > 2; }

  llvm::Type* return_type(const FuncType& ft) {
    if (ft.results.empty() || results_in_memory(ft)) return b.getVoidTy();
    if (ft.results.size() == 1) return type(ft.results[0]);
    std::vector<llvm::Type*> fields;
    for (ValType t : ft.results) fields.push_back(type(t));
    return llvm::StructType::get(ctx, fields);
  }

  llvm::FunctionType* internal_type(const FuncType& ft) {
    std::vector<llvm::Type*> params = {ptr};  // the instance (swiftself: see abi.h)
    for (ValType t : ft.params) params.push_back(type(t));
    if (results_in_memory(ft)) params.push_back(ptr);
    return llvm::FunctionType::get(return_type(ft), params, false);
  }

  // A function of this module's partition, or a declaration of one that
  // another partition defines.
  llvm::Function* callee(uint32_t index) {
    llvm::Function*& fn = funcs[index];
    if (fn == nullptr) {
      fn = llvm::Function::Create(internal_type(wasm.func_type(index)), llvm::GlobalValue::ExternalLinkage,
                                  func_name(index), mod);
      set_wasm_convention(fn);
    }
    return fn;
  }
  // Frame pointers everywhere: backtraces walk the chain (jit.cpp). Ours are
  // dso_local: they are linked into one region, so calls are direct.
  // Vectors wider than v128 only as the CPU prefers them: without this
  // attribute (clang sets it too) LLVM makes 512-bit types legal on
  // AVX-512 CPUs whose tuning asks for 256 bits, and on Cascade Lake the
  // zmm code made fannkuch 1.2x slower.
  static void set_attributes(llvm::Function* fn) {
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    fn->addFnAttr("frame-pointer", "all");
    fn->addFnAttr("min-legal-vector-width", "128");
    fn->setDSOLocal(true);
  }
  // The convention of wasm_func_N (abi.h): the instance as swiftself.
  static void set_wasm_convention(llvm::Function* fn) {
    set_attributes(fn);
    fn->setCallingConv(llvm::CallingConv::Swift);
    fn->addParamAttr(0, llvm::Attribute::SwiftSelf);
  }
  static llvm::CallInst* call_wasm(llvm::IRBuilder<>& b, llvm::FunctionCallee callee,
                                   llvm::ArrayRef<llvm::Value*> args) {
    llvm::CallInst* call = b.CreateCall(callee, args);
    call->setCallingConv(llvm::CallingConv::Swift);
    call->addParamAttr(0, llvm::Attribute::SwiftSelf);
    return call;
  }
  static std::string func_name(uint32_t index) { return "wasm_func_" + std::to_string(index); }

  llvm::FunctionCallee decl(const std::string& name, llvm::Type* ret, std::vector<llvm::Type*> params,
                            bool noreturn = false) {
    auto it = decls.find(name);
    if (it != decls.end()) return it->second;
    llvm::FunctionCallee callee = mod.getOrInsertFunction(name, llvm::FunctionType::get(ret, params, false));
    auto* fn = llvm::cast<llvm::Function>(callee.getCallee());
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    if (noreturn) fn->addFnAttr(llvm::Attribute::NoReturn);
    decls.emplace(name, callee);
    return callee;
  }
};

// ---- the IR-building interface of BodyDecoder ---------------------------------------------

class FunctionCompiler {
 public:
  struct ValueData {
    bool is_const = false;  // a t.const still on the stack: its bits
    uint64_t bits = 0;
  };
  struct ControlData {
    llvm::BasicBlock* label = nullptr;    // where branches to this label go
    llvm::BasicBlock* else_bb = nullptr;  // ifs
  };
  using S = wasm::StateOf<FunctionCompiler>;
  using V = S::Value;
  using C = S::Control;

  FunctionCompiler(ModuleState& m, uint32_t func_index) : m_(m), b_(m.b), func_index_(func_index) {
    fn_ = m.funcs[func_index];
  }

  // ---- function frame ------------------------------------------------------------------

  void start_function(S& s) {
    entry_ = llvm::BasicBlock::Create(m_.ctx, "entry", fn_);
    b_.SetInsertPoint(entry_);
    auto arg = fn_->arg_begin();
    inst_ = &*arg++;
    // Loaded once here; functions that touch no memory lose the load. The
    // tag lets bounds versioning recognise wasm memory accesses.
    mem_ = llvm::ConstantPointerNull::get(m_.ptr);
    if (!m_.wasm.memories.empty()) {
      auto* base = llvm::cast<llvm::Instruction>(fixed_load_at(m_.ptr, inst_, kInstanceMem0));
      base->setMetadata(kMem0BaseMetadata, llvm::MDNode::get(m_.ctx, {}));
      mem_ = base;
    }
    for (size_t i = 0; i < s.local_types.size(); ++i) {
      llvm::Type* t = m_.type(s.local_types[i]);
      llvm::AllocaInst* a = alloca(t);
      locals_.push_back(a);
      llvm::Value* init = i < s.type.params.size() ? static_cast<llvm::Value*>(&*arg++) : llvm::Constant::getNullValue(t);
      b_.CreateStore(init, a);
    }
    if (ModuleState::results_in_memory(s.type)) results_out_ = &*arg;
    prologue();
    return_bb_ = llvm::BasicBlock::Create(m_.ctx, "return", fn_);
    s.controls[0].data.label = return_bb_;
  }

  void finish_function(S&) {
    if (has_simd_) fn_->addFnAttr(kSimdFunctionAttribute);
  }

  // ---- plain instructions ------------------------------------------------------------------

  void op(S& s, Opcode op, const Immediates& imm, V* args, uint32_t nargs, V* result) {
    const OpInfo& info = op_info(op);
    llvm::Value* r = nullptr;
    switch (info.cls) {
      case OpClass::Special: r = special(s, op, imm, args); break;
      case OpClass::Load: r = load(op, info, imm, args); break;
      case OpClass::Store: store(op, info, imm, args); break;
      case OpClass::Pure:
      case OpClass::Trap:
        r = numeric(op, args, nargs);
        if (r == nullptr) r = simd(op, imm, args);
        if (r == nullptr) r = fallback(op, info, imm, args, nullptr);
        break;
    }
    if (result != nullptr) {
      if (r == nullptr) r = llvm::Constant::getNullValue(m_.type(result->type));  // unreachable: never read
      put(*result, r);
    }
  }

  void constant(S&, Opcode op, const Immediates& imm, V& result) {
    llvm::Value* c = nullptr;
    switch (op) {
      case Opcode::I32Const: c = b_.getInt32(static_cast<uint32_t>(imm.bits)); break;
      case Opcode::I64Const: c = b_.getInt64(imm.bits); break;
      case Opcode::F32Const: c = b_.CreateBitCast(b_.getInt32(static_cast<uint32_t>(imm.bits)), m_.f32); break;
      case Opcode::F64Const: c = b_.CreateBitCast(b_.getInt64(imm.bits), m_.f64); break;
      default: c = v128_const(imm.v128); break;
    }
    put(result, c);
    result.data.is_const = true;
    result.data.bits = imm.bits;
  }

  void local_get(S&, uint32_t index, V& result) { put(result, b_.CreateLoad(local_type(index), locals_[index])); }
  void local_set(S&, uint32_t index, V& value) { b_.CreateStore(get(value), locals_[index]); }
  void local_tee(S&, uint32_t index, V& value, V& result) {
    llvm::Value* v = get(value);
    b_.CreateStore(v, locals_[index]);
    put(result, v);
  }
  // Loads whose value nothing uses still trap: see ModuleState::wasm_access.
  void drop(S&, V&) {}
  void select(S&, V* vs, V& result) {
    llvm::Value* cond = b_.CreateICmpNE(get(vs[2]), b_.getInt32(0));
    put(result, b_.CreateSelect(cond, get(vs[0]), get(vs[1])));
  }

  // ---- control ------------------------------------------------------------------------------

  void block(S&, C& c) {
    if (c.kind == BlockKind::Loop) {
      c.data.label = new_block("loop");
      b_.CreateBr(c.data.label);
      b_.SetInsertPoint(c.data.label);
    } else {
      c.data.label = new_block("block_end");
    }
  }

  void if_(S&, V& cond, C& c) {
    llvm::BasicBlock* then_bb = new_block("then");
    c.data.else_bb = new_block("else");
    c.data.label = new_block("if_end");
    b_.CreateCondBr(b_.CreateICmpNE(get(cond), b_.getInt32(0)), then_bb, c.data.else_bb);
    b_.SetInsertPoint(then_bb);
  }

  void else_(S&, C& c, V* results) {
    if (live()) {
      copy_to_label(c, c.sig.result_types(), results);
      b_.CreateBr(c.data.label);
    }
    b_.SetInsertPoint(c.data.else_bb);
  }

  void end(S& s, C& c, V* results) {
    if (live()) copy_to_label(c, c.sig.result_types(), results);
    if (c.kind == BlockKind::Function) {
      if (live()) b_.CreateBr(return_bb_);
      emit_return(s, c);
      return;
    }
    llvm::BasicBlock* next = c.kind == BlockKind::Loop ? new_block("loop_end") : c.data.label;
    if (live()) b_.CreateBr(next);
    if (c.kind == BlockKind::If) {  // no else: the params pass through as results
      b_.SetInsertPoint(c.data.else_bb);
      b_.CreateBr(next);
    }
    b_.SetInsertPoint(next);
  }

  void br(S& s, uint32_t depth, V* values) {
    C& target = s.label(depth);
    if (target.kind == BlockKind::Loop) check_interrupts();  // a back-edge
    copy_to_label(target, target.label_types(), values);
    b_.CreateBr(target.data.label);
  }

  void br_if(S& s, uint32_t depth, V& cond, V* values) {
    C& target = s.label(depth);
    llvm::Value* taken = b_.CreateICmpNE(get(cond), b_.getInt32(0));
    llvm::BasicBlock* cont = new_block("br_if_cont");
    if (needs_copy(target, values) || target.kind == BlockKind::Loop) {
      llvm::BasicBlock* copy = new_block("br_if_copy");
      b_.CreateCondBr(taken, copy, cont);
      b_.SetInsertPoint(copy);
      if (target.kind == BlockKind::Loop) check_interrupts();  // a back-edge
      copy_to_label(target, target.label_types(), values);
      b_.CreateBr(target.data.label);
    } else {
      b_.CreateCondBr(taken, target.data.label, cont);
    }
    b_.SetInsertPoint(cont);
  }

  void br_table(S& s, const std::vector<uint32_t>& targets, V& index, V* values) {
    llvm::Value* idx = get(index);
    llvm::BasicBlock* here = b_.GetInsertBlock();
    std::unordered_map<uint32_t, llvm::BasicBlock*> dest;  // by depth
    auto dest_of = [&](uint32_t depth) {
      auto it = dest.find(depth);
      if (it != dest.end()) return it->second;
      C& target = s.label(depth);
      llvm::BasicBlock* bb = target.data.label;
      if (needs_copy(target, values) || target.kind == BlockKind::Loop) {
        bb = new_block("br_table_copy");
        b_.SetInsertPoint(bb);
        if (target.kind == BlockKind::Loop) check_interrupts();  // a back-edge
        copy_to_label(target, target.label_types(), values);
        b_.CreateBr(target.data.label);
      }
      dest.emplace(depth, bb);
      return bb;
    };
    llvm::BasicBlock* default_bb = dest_of(targets.back());
    std::vector<llvm::BasicBlock*> arms;
    for (size_t i = 0; i + 1 < targets.size(); ++i) arms.push_back(dest_of(targets[i]));
    b_.SetInsertPoint(here);
    llvm::SwitchInst* sw = b_.CreateSwitch(idx, default_bb, static_cast<unsigned>(arms.size()));
    for (size_t i = 0; i < arms.size(); ++i) sw->addCase(b_.getInt32(static_cast<uint32_t>(i)), arms[i]);
  }

  void return_(S& s, V* values) {
    C& fn = s.controls[0];
    copy_to_label(fn, fn.sig.result_types(), values);
    b_.CreateBr(return_bb_);
  }

  void call(S& s, uint32_t func_index, const FuncType& type, V* args) {
    if (m_.in_batch[func_index]) {
      call_compiled(s, type, args, m_.callee(func_index));
      return;
    }
    auto through_runtime = [&] {
      call_through_buffer(s, type, args, [&](llvm::Value* buf) {
        b_.CreateCall(helper("skiff_rt_call", m_.b.getVoidTy(), {m_.ptr, m_.i32, m_.ptr}),
                      {inst_, b_.getInt32(func_index), buf});
      });
    };
    if (func_index < m_.wasm.num_imported_funcs) {
      through_runtime();
      return;
    }
    // A function compiled another time: its code, when it has some by now
    // (instance->native_bodies), else through the runtime.
    llvm::BasicBlock* runtime = new_block("call_through_runtime");
    llvm::Value* body = native_body(b_.getInt64(func_index - m_.wasm.num_imported_funcs));
    continue_if(b_.CreateIsNotNull(body), runtime, "call_direct");
    call_body_else(s, type, args, body, runtime, through_runtime);
  }

  // Code of defined function `defined` (i64) from instance->native_bodies;
  // null while it has none.
  llvm::Value* native_body(llvm::Value* defined) {
    llvm::Value* bodies = at_entry(kNativeBodiesKey, [&] { return fixed_load_at(m_.ptr, inst_, kInstanceNativeBodies); });
    return load_code(b_.CreateInBoundsGEP(m_.ptr, bodies, defined));
  }
  // A native_bodies entry: install() publishes the code with a release store.
  llvm::Value* load_code(llvm::Value* entry) {
    llvm::LoadInst* body = b_.CreateAlignedLoad(m_.ptr, entry, llvm::Align(8));
    body->setAtomic(llvm::AtomicOrdering::Acquire);
    return body;
  }
  // Goes on in a new block when `ok`, else to `otherwise`.
  void continue_if(llvm::Value* ok, llvm::BasicBlock* otherwise, const char* name) {
    llvm::BasicBlock* next = new_block(name);
    b_.CreateCondBr(ok, next, otherwise);
    b_.SetInsertPoint(next);
  }
  // Calls `body` here, and the call `through_runtime` emits in `runtime`;
  // both go on in one block.
  template <typename Emit>
  void call_body_else(S& s, const FuncType& type, V* args, llvm::Value* body, llvm::BasicBlock* runtime,
                      Emit&& through_runtime) {
    llvm::BasicBlock* done = new_block("called");
    call_compiled(s, type, args, llvm::FunctionCallee(m_.internal_type(type), body));
    b_.CreateBr(done);
    b_.SetInsertPoint(runtime);
    through_runtime();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }

  // A call in the convention between compiled functions (abi.h); the
  // results go to the operand stack.
  void call_compiled(S& s, const FuncType& type, V* args, llvm::FunctionCallee callee) {
    std::vector<llvm::Value*> call_args = {inst_};
    for (size_t i = 0; i < type.params.size(); ++i) call_args.push_back(get(args[i]));
    llvm::AllocaInst* out = nullptr;
    if (ModuleState::results_in_memory(type)) {
      uint32_t n = 0;
      for (ValType t : type.results) n += slot_count(t);
      out = alloca(llvm::ArrayType::get(m_.i64, n));
      out->setAlignment(llvm::Align(16));
      call_args.push_back(out);
    }
    llvm::Value* r = ModuleState::call_wasm(b_, callee, call_args);
    reload_checking();
    uint32_t slot = s.next_slot(), out_slot = 0;
    for (size_t i = 0; i < type.results.size(); ++i) {
      llvm::Value* v = out != nullptr               ? load_slot(out, out_slot, type.results[i])
                       : type.results.size() == 1 ? r
                                                  : b_.CreateExtractValue(r, {static_cast<unsigned>(i)});
      store_to_slot(slot, type.results[i], v);
      slot += slot_count(type.results[i]);
      out_slot += slot_count(type.results[i]);
    }
  }

  void call_indirect(S& s, uint32_t type_index, uint32_t table_index, const FuncType& type, V* args, V& index) {
    llvm::Value* elem = get(index);
    // Inline, the common case: an element of this instance, of the
    // expected type, that has machine code: a direct call. Anything else
    // (traps included) goes through the runtime, which checks in full.
    llvm::BasicBlock* runtime = new_block("call_indirect_through_runtime");
    llvm::Value* table =
        at_entry(kTableKey | table_index, [&] { return vector_elem(inst_, kInstanceTables, b_.getInt64(table_index)); });
    llvm::Value* begin = load_at(m_.ptr, table, kTableElemsBegin);
    llvm::Value* size = load_at(m_.i64, table, kTableSize);
    llvm::Value* i = b_.CreateZExt(elem, m_.i64);
    continue_if(b_.CreateICmpULT(i, size), runtime, "element_in_bounds");
    llvm::Value* callee = b_.CreateLoad(m_.ptr, b_.CreateInBoundsGEP(m_.i64, begin, i));
    continue_if(b_.CreateIsNotNull(callee), runtime, "element_set");
    llvm::Value* expected = at_entry(kTypeIdKey | type_index, [&] {
      llvm::Value* ids = at_entry(kTypeIdsKey, [&] { return fixed_load_at(m_.ptr, inst_, kInstanceTypeIds); });
      return fixed(b_.CreateLoad(m_.i32, b_.CreateConstInBoundsGEP1_64(m_.i32, ids, type_index)));
    });
    llvm::Value* same_instance = b_.CreateICmpEQ(fixed_load_at(m_.ptr, callee, kFuncInstInstance), inst_);
    llvm::Value* same_type = b_.CreateICmpEQ(fixed_load_at(m_.i32, callee, kFuncInstTypeId), expected);
    continue_if(b_.CreateAnd(same_instance, same_type), runtime, "element_of_this_instance");
    // The same instance: its code is this module's, in native_bodies.
    llvm::Value* body = load_code(fixed_load_at(m_.ptr, callee, kFuncInstNativeBody));
    continue_if(b_.CreateIsNotNull(body), runtime, "call_indirect_direct");
    call_body_else(s, type, args, body, runtime, [&] {
      call_through_buffer(s, type, args, [&](llvm::Value* buf) {
        b_.CreateCall(
            helper("skiff_rt_call_indirect", m_.b.getVoidTy(), {m_.ptr, m_.i32, m_.i32, m_.i32, m_.ptr}),
            {inst_, b_.getInt32(table_index), b_.getInt32(type_index), elem, buf});
      });
    });
  }

 private:
  // ---- slots and locals ----------------------------------------------------------------------

  llvm::AllocaInst* alloca(llvm::Type* t) {
    llvm::IRBuilder<> eb(entry_, entry_->begin());
    llvm::AllocaInst* a = eb.CreateAlloca(t);
    if (t == m_.v128) a->setAlignment(llvm::Align(16));
    return a;
  }

  static uint32_t type_class(ValType t) {
    switch (t) {
      case ValType::I32: return 0;
      case ValType::F32: return 2;
      case ValType::F64: return 3;
      case ValType::V128: return 4;
      default: return 1;  // i64 and references
    }
  }

  llvm::AllocaInst* slot_alloca(uint32_t slot, ValType t) {
    uint64_t key = uint64_t{slot} * 8 + type_class(t);
    auto it = slots_.find(key);
    if (it != slots_.end()) return it->second;
    llvm::AllocaInst* a = alloca(m_.type(t));
    slots_.emplace(key, a);
    return a;
  }

  llvm::Value* get(const V& v) { return b_.CreateLoad(m_.type(v.type), slot_alloca(v.slot, v.type)); }
  void put(const V& v, llvm::Value* x) { store_to_slot(v.slot, v.type, x); }
  void store_to_slot(uint32_t slot, ValType t, llvm::Value* x) {
    has_simd_ |= t == ValType::V128;
    b_.CreateStore(x, slot_alloca(slot, t));
  }
  llvm::Type* local_type(uint32_t index) { return locals_[index]->getAllocatedType(); }

  bool live() { return b_.GetInsertBlock()->getTerminator() == nullptr; }
  llvm::BasicBlock* new_block(const char* name) { return llvm::BasicBlock::Create(m_.ctx, name, fn_); }

  // Values a branch carries go to the label's slots (loaded first: the
  // source and destination ranges may overlap).
  bool needs_copy(const C& target, const V* values) {
    auto types = target.label_types();
    uint32_t slot = target.slot_base;
    for (size_t i = 0; i < types.size(); ++i) {
      if (values[i].slot != slot || type_class(values[i].type) != type_class(types[i])) return true;
      slot += slot_count(types[i]);
    }
    return false;
  }
  void copy_to_label(const C& target, std::span<const ValType> types, const V* values) {
    if (!needs_copy(target, values)) return;
    std::vector<llvm::Value*> loaded;
    for (size_t i = 0; i < types.size(); ++i) loaded.push_back(get(values[i]));
    uint32_t slot = target.slot_base;
    for (size_t i = 0; i < types.size(); ++i) {
      store_to_slot(slot, types[i], loaded[i]);
      slot += slot_count(types[i]);
    }
  }

  // ---- prologue, epilogue, traps ----------------------------------------------------------------

  llvm::Value* byte_gep(llvm::Value* base, uint64_t offset) {
    return offset == 0 ? base : b_.CreateConstInBoundsGEP1_64(m_.i8, base, offset);
  }
  llvm::Value* load_at(llvm::Type* t, llvm::Value* base, uint64_t offset) {
    return b_.CreateLoad(t, byte_gep(base, offset));
  }
  // A load of what never changes once the instance exists (its vectors of
  // functions, tables and globals and their elements, its memory base, a
  // FuncInst's fields): LLVM may reuse it across calls and hoist it out of
  // loops, as it could not a plain load.
  llvm::Value* fixed(llvm::Value* load) {
    llvm::cast<llvm::LoadInst>(load)->setMetadata(llvm::LLVMContext::MD_invariant_load, llvm::MDNode::get(m_.ctx, {}));
    return load;
  }
  llvm::Value* fixed_load_at(llvm::Type* t, llvm::Value* base, uint64_t offset) {
    return fixed(load_at(t, base, offset));
  }
  // A fixed value, loaded once in the entry block (which the prologue's
  // stack check has closed): LLVM does not hoist a load out of the
  // conditional path it sits on (call_indirect's checks), so a loop of
  // calls would reload it at every call.
  static constexpr uint64_t kNativeBodiesKey = 0, kTypeIdsKey = 1, kTypeIdKey = 1ull << 32, kTableKey = 2ull << 32;
  template <typename Load>
  llvm::Value* at_entry(uint64_t key, Load&& load) {
    auto found = entry_values_.find(key);
    if (found != entry_values_.end()) return found->second;
    llvm::IRBuilderBase::InsertPointGuard guard(b_);
    b_.SetInsertPoint(entry_->getTerminator());
    llvm::Value* v = load();
    entry_values_.emplace(key, v);
    return v;
  }
  // Element `index` of a std::vector<T*> member at `offset` of `object`,
  // both fixed.
  llvm::Value* vector_elem(llvm::Value* object, uint64_t offset, llvm::Value* index) {
    llvm::Value* data = fixed_load_at(m_.ptr, object, offset);
    return fixed(b_.CreateLoad(m_.ptr, b_.CreateInBoundsGEP(m_.ptr, data, index)));
  }

  void prologue() {
    llvm::Value* sp = b_.CreateIntrinsic(llvm::Intrinsic::frameaddress, {m_.ptr}, {b_.getInt32(0)});
    llvm::Value* limit = load_at(m_.i64, inst_, kInstanceNativeStackLimit);
    trap_if(b_.CreateICmpULT(b_.CreatePtrToInt(sp, m_.i64), limit), TrapKind::StackExhausted);
    // Fuel and epoch (when compiled in): the store's flag, read at entry and
    // after every call (a host function may set fuel or a deadline), guards
    // an out-of-line check, made after the stack check as tier 0 does.
    if (!m_.interruptible) return;
    store_ = fixed_load_at(m_.ptr, inst_, kInstanceStore);
    checking_ = alloca(m_.i8);
    reload_checking();
    check_interrupts();
  }

  void reload_checking() {
    if (m_.interruptible) b_.CreateStore(load_at(m_.i8, store_, kStoreCheckInterrupts), checking_);
  }

  // One unit of fuel and an epoch check, when the store asks for them.
  void check_interrupts() {
    if (!m_.interruptible) return;
    llvm::Value* on = b_.CreateICmpNE(b_.CreateLoad(m_.i8, checking_), b_.getInt8(0));
    llvm::BasicBlock* check = new_block("check_interrupts");
    llvm::BasicBlock* cont = new_block("checked");
    b_.CreateCondBr(on, check, cont, llvm::MDBuilder(m_.ctx).createBranchWeights(1, 1u << 20));
    b_.SetInsertPoint(check);
    b_.CreateCall(helper("skiff_rt_check_interrupts", m_.b.getVoidTy(), {m_.ptr}), {store_});
    b_.CreateBr(cont);
    b_.SetInsertPoint(cont);
  }

  void emit_return(S& s, C& fn) {
    b_.SetInsertPoint(return_bb_);
    const FuncType& ft = s.type;
    std::vector<llvm::Value*> results;
    uint32_t slot = fn.slot_base;
    for (ValType t : ft.results) {
      results.push_back(b_.CreateLoad(m_.type(t), slot_alloca(slot, t)));
      slot += slot_count(t);
    }
    if (results_out_ != nullptr) {
      slot = 0;
      for (size_t i = 0; i < results.size(); ++i) {
        store_slot(results_out_, slot, ft.results[i], results[i]);
        slot += slot_count(ft.results[i]);
      }
      b_.CreateRetVoid();
    } else if (results.empty()) b_.CreateRetVoid();
    else if (results.size() == 1) b_.CreateRet(results[0]);
    else b_.CreateAggregateRet(results.data(), static_cast<unsigned>(results.size()));
  }

  llvm::FunctionCallee helper(const char* name, llvm::Type* ret, std::vector<llvm::Type*> params) {
    return m_.decl(name, ret, std::move(params));
  }
  llvm::FunctionCallee trap_fn() { return m_.decl("skiff_rt_trap", m_.b.getVoidTy(), {m_.i32}, true); }

  llvm::BasicBlock* trap_block(TrapKind kind) {
    llvm::BasicBlock*& bb = trap_blocks_[static_cast<uint32_t>(kind)];
    if (bb == nullptr) {
      bb = new_block("trap");
      llvm::IRBuilder<> tb(bb);
      tb.CreateCall(trap_fn(), {tb.getInt32(static_cast<uint32_t>(kind))});
      tb.CreateUnreachable();
    }
    return bb;
  }

  void trap_if(llvm::Value* cond, TrapKind kind) {
    llvm::BasicBlock* cont = new_block("ok");
    llvm::MDNode* weights = llvm::MDBuilder(m_.ctx).createBranchWeights(1, 1u << 20);
    b_.CreateCondBr(cond, trap_block(kind), cont, weights);
    b_.SetInsertPoint(cont);
  }

  void trap_now(TrapKind kind) { b_.CreateBr(trap_block(kind)); }

  // ---- calls through a slot buffer (imports, call_indirect) ------------------------------------

  template <typename Emit>
  void call_through_buffer(S& s, const FuncType& type, V* args, Emit&& emit) {
    uint32_t in = 0, out = 0;
    for (ValType t : type.params) in += slot_count(t);
    for (ValType t : type.results) out += slot_count(t);
    uint32_t n = std::max({in, out, 1u});
    llvm::AllocaInst* buf = alloca(llvm::ArrayType::get(m_.i64, n));
    buf->setAlignment(llvm::Align(16));
    uint32_t slot = 0;
    for (size_t i = 0; i < type.params.size(); ++i) {
      store_slot(buf, slot, type.params[i], get(args[i]));
      slot += slot_count(type.params[i]);
    }
    emit(buf);
    reload_checking();
    uint32_t dst = s.next_slot();
    slot = 0;
    for (ValType t : type.results) {
      store_to_slot(dst, t, load_slot(buf, slot, t));
      dst += slot_count(t);
      slot += slot_count(t);
    }
  }

 public:
  // Slot-array access shared with the entry wrappers: 4-byte values are
  // written zero-extended to their slot, as tier 0 does.
  static void store_slot_with(ModuleState& m, llvm::IRBuilder<>& b, llvm::Value* base, uint32_t slot, ValType t,
                              llvm::Value* v) {
    llvm::Value* p = b.CreateConstInBoundsGEP1_64(m.i64, base, slot);
    if (t == ValType::I32) v = b.CreateZExt(v, m.i64);
    else if (t == ValType::F32) v = b.CreateZExt(b.CreateBitCast(v, m.i32), m.i64);
    b.CreateAlignedStore(v, p, llvm::Align(8));
  }
  static llvm::Value* load_slot_with(ModuleState& m, llvm::IRBuilder<>& b, llvm::Value* base, uint32_t slot,
                                     ValType t) {
    llvm::Value* p = b.CreateConstInBoundsGEP1_64(m.i64, base, slot);
    return b.CreateAlignedLoad(m.type(t), p, llvm::Align(8));
  }

 private:
  void store_slot(llvm::Value* base, uint32_t slot, ValType t, llvm::Value* v) {
    store_slot_with(m_, b_, base, slot, t, v);
  }
  llvm::Value* load_slot(llvm::Value* base, uint32_t slot, ValType t) { return load_slot_with(m_, b_, base, slot, t); }

  // ---- memory ---------------------------------------------------------------------------------

  llvm::Value* effective_address(const V& addr, uint32_t offset) {
    llvm::Value* a = b_.CreateZExt(get(addr), m_.i64);
    if (offset != 0) a = b_.CreateAdd(a, b_.getInt64(offset), "", /*HasNUW=*/true);
    return b_.CreateGEP(m_.i8, mem_, a);
  }

  llvm::Value* load(Opcode op, const OpInfo& info, const Immediates& imm, V* args) {
    llvm::Value* p = effective_address(args[0], imm.offset);
    auto ld = [&](llvm::Type* t) {
      return m_.wasm_access(b_.CreateAlignedLoad(t, p, llvm::Align(1)));
    };
    llvm::Type* i8 = m_.i8;
    llvm::Type* i16 = b_.getInt16Ty();
    switch (op) {
      case Opcode::I32Load: return ld(m_.i32);
      case Opcode::I64Load: return ld(m_.i64);
      case Opcode::F32Load: return ld(m_.f32);
      case Opcode::F64Load: return ld(m_.f64);
      case Opcode::V128Load: return ld(m_.v128);
      case Opcode::I32Load8S: return b_.CreateSExt(ld(i8), m_.i32);
      case Opcode::I32Load8U: return b_.CreateZExt(ld(i8), m_.i32);
      case Opcode::I32Load16S: return b_.CreateSExt(ld(i16), m_.i32);
      case Opcode::I32Load16U: return b_.CreateZExt(ld(i16), m_.i32);
      case Opcode::I64Load8S: return b_.CreateSExt(ld(i8), m_.i64);
      case Opcode::I64Load8U: return b_.CreateZExt(ld(i8), m_.i64);
      case Opcode::I64Load16S: return b_.CreateSExt(ld(i16), m_.i64);
      case Opcode::I64Load16U: return b_.CreateZExt(ld(i16), m_.i64);
      case Opcode::I64Load32S: return b_.CreateSExt(ld(m_.i32), m_.i64);
      case Opcode::I64Load32U: return b_.CreateZExt(ld(m_.i32), m_.i64);
      case Opcode::V128Load8x8S: return v128(b_.CreateSExt(ld(vec(8, 8)), vec(16, 8)));
      case Opcode::V128Load8x8U: return v128(b_.CreateZExt(ld(vec(8, 8)), vec(16, 8)));
      case Opcode::V128Load16x4S: return v128(b_.CreateSExt(ld(vec(16, 4)), vec(32, 4)));
      case Opcode::V128Load16x4U: return v128(b_.CreateZExt(ld(vec(16, 4)), vec(32, 4)));
      case Opcode::V128Load32x2S: return v128(b_.CreateSExt(ld(vec(32, 2)), vec(64, 2)));
      case Opcode::V128Load32x2U: return v128(b_.CreateZExt(ld(vec(32, 2)), vec(64, 2)));
      case Opcode::V128Load8Splat: return v128(b_.CreateVectorSplat(16, ld(i8)));
      case Opcode::V128Load16Splat: return v128(b_.CreateVectorSplat(8, ld(i16)));
      case Opcode::V128Load32Splat: return v128(b_.CreateVectorSplat(4, ld(m_.i32)));
      case Opcode::V128Load64Splat: return v128(b_.CreateVectorSplat(2, ld(m_.i64)));
      case Opcode::V128Load32Zero:
        return v128(b_.CreateInsertElement(llvm::Constant::getNullValue(vec(32, 4)), ld(m_.i32), uint64_t{0}));
      case Opcode::V128Load64Zero:
        return b_.CreateInsertElement(llvm::Constant::getNullValue(m_.v128), ld(m_.i64), uint64_t{0});
      case Opcode::V128Load8Lane: return load_lane(args[1], ld(i8), 8, imm.lane);
      case Opcode::V128Load16Lane: return load_lane(args[1], ld(i16), 16, imm.lane);
      case Opcode::V128Load32Lane: return load_lane(args[1], ld(m_.i32), 32, imm.lane);
      case Opcode::V128Load64Lane: return load_lane(args[1], ld(m_.i64), 64, imm.lane);
      default: return fallback(op, info, imm, args, p);
    }
  }

  // SIMD memory accesses are expanded here like scalar ones, so every wasm
  // memory access (and any guard-page fault) happens in compiled code.
  llvm::Type* vec(unsigned bits, unsigned lanes) {
    return llvm::FixedVectorType::get(b_.getIntNTy(bits), lanes);
  }
  llvm::Value* v128(llvm::Value* x) { return b_.CreateBitCast(x, m_.v128); }
  llvm::Value* lanes_of(const V& v, unsigned bits) { return b_.CreateBitCast(get(v), vec(bits, 128 / bits)); }
  llvm::Value* load_lane(const V& vector, llvm::Value* scalar, unsigned bits, uint32_t lane) {
    return v128(b_.CreateInsertElement(lanes_of(vector, bits), scalar, uint64_t{lane}));
  }

  void store(Opcode op, const OpInfo& info, const Immediates& imm, V* args) {
    llvm::Value* p = effective_address(args[0], imm.offset);
    auto st = [&](llvm::Value* v) { m_.wasm_access(b_.CreateAlignedStore(v, p, llvm::Align(1))); };
    switch (op) {
      case Opcode::I32Store:
      case Opcode::I64Store:
      case Opcode::F32Store:
      case Opcode::F64Store:
      case Opcode::V128Store: st(get(args[1])); return;
      case Opcode::I32Store8:
      case Opcode::I64Store8: st(b_.CreateTrunc(get(args[1]), m_.i8)); return;
      case Opcode::I32Store16:
      case Opcode::I64Store16: st(b_.CreateTrunc(get(args[1]), b_.getInt16Ty())); return;
      case Opcode::I64Store32: st(b_.CreateTrunc(get(args[1]), m_.i32)); return;
      case Opcode::V128Store8Lane: st(b_.CreateExtractElement(lanes_of(args[1], 8), uint64_t{imm.lane})); return;
      case Opcode::V128Store16Lane: st(b_.CreateExtractElement(lanes_of(args[1], 16), uint64_t{imm.lane})); return;
      case Opcode::V128Store32Lane: st(b_.CreateExtractElement(lanes_of(args[1], 32), uint64_t{imm.lane})); return;
      case Opcode::V128Store64Lane: st(b_.CreateExtractElement(lanes_of(args[1], 64), uint64_t{imm.lane})); return;
      default: fallback(op, info, imm, args, p); return;
    }
  }

  // ---- the out-of-line path: fallback_ops.h -----------------------------------------------------

  llvm::Value* fallback(Opcode op, const OpInfo& info, const Immediates& imm, V* args, llvm::Value* address) {
    llvm::AllocaInst* io = alloca(llvm::ArrayType::get(m_.i8, 4 * kFallbackCellBytes));
    io->setAlignment(llvm::Align(16));
    bool memory_op = info.cls == OpClass::Load || info.cls == OpClass::Store;
    for (uint32_t i = memory_op ? 1 : 0; i < info.num_params; ++i)
      b_.CreateStore(get(args[i]), byte_gep(io, i * kFallbackCellBytes));
    llvm::Value* imm_cell = byte_gep(io, kFallbackImmCell * kFallbackCellBytes);
    if (info.imm == Imm::Lane || info.imm == Imm::MemArgLane) b_.CreateStore(b_.getInt32(imm.lane), imm_cell);
    if (info.imm == Imm::Shuffle) b_.CreateStore(v128_const(imm.v128), imm_cell);
    std::string name = std::string("skiff_op_") + kOpNames[static_cast<size_t>(op)];
    llvm::FunctionCallee fn = m_.decl(name, m_.i32, {m_.ptr, m_.ptr});
    llvm::Value* status =
        b_.CreateCall(fn, {io, address ? address : llvm::ConstantPointerNull::get(m_.ptr)});
    if (info.cls == OpClass::Trap) {
      llvm::BasicBlock* trap = new_block("op_trap");
      llvm::BasicBlock* cont = new_block("op_ok");
      llvm::MDNode* weights = llvm::MDBuilder(m_.ctx).createBranchWeights(1, 1u << 20);
      b_.CreateCondBr(b_.CreateICmpNE(status, b_.getInt32(0)), trap, cont, weights);
      b_.SetInsertPoint(trap);
      b_.CreateCall(trap_fn(), {status});
      b_.CreateUnreachable();
      b_.SetInsertPoint(cont);
    }
    if (info.num_results == 0) return nullptr;
    return b_.CreateLoad(m_.type(info.results[0]), io);
  }

  llvm::Value* v128_const(const V128& v) {
    return llvm::ConstantVector::get({b_.getInt64(v.lo()), b_.getInt64(v.hi())});
  }

  // ---- inline numerics -------------------------------------------------------------------------

  llvm::Value* bool32(llvm::Value* i1) { return b_.CreateZExt(i1, m_.i32); }

  llvm::Value* unary_intrinsic(llvm::Intrinsic::ID id, llvm::Value* x) {
    return b_.CreateUnaryIntrinsic(id, x);
  }

  // Integer division and remainder with the spec's traps.
  llvm::Value* divide(Opcode op, llvm::Value* a, llvm::Value* d, bool is_signed, bool is_rem) {
    llvm::Type* t = a->getType();
    trap_if(b_.CreateICmpEQ(d, llvm::ConstantInt::get(t, 0)), TrapKind::IntDivideByZero);
    if (!is_signed) return is_rem ? b_.CreateURem(a, d) : b_.CreateUDiv(a, d);
    llvm::Value* minus_one = b_.CreateICmpEQ(d, llvm::ConstantInt::getAllOnesValue(t));
    if (!is_rem) {
      llvm::Value* min = llvm::ConstantInt::get(t, llvm::APInt::getSignedMinValue(t->getIntegerBitWidth()));
      trap_if(b_.CreateAnd(minus_one, b_.CreateICmpEQ(a, min)), TrapKind::IntOverflow);
      return b_.CreateSDiv(a, d);
    }
    // x rem -1 is 0; dividing by 1 instead keeps INT_MIN rem -1 defined.
    llvm::Value* safe = b_.CreateSelect(minus_one, llvm::ConstantInt::get(t, 1), d);
    return b_.CreateSelect(minus_one, llvm::ConstantInt::get(t, 0), b_.CreateSRem(a, safe));
  }

  // float → int with traps: NaN is an invalid conversion, anything outside
  // (lo, hi) an overflow (bounds are exact in the source type).
  llvm::Value* truncate(llvm::Value* x, llvm::Type* to, bool is_signed) {
    llvm::Type* from = x->getType();
    bool to64 = to == m_.i64;
    double lo, hi;
    if (is_signed) {
      lo = to64 ? -9223372036854775808.0 : -2147483648.0;
      hi = to64 ? 9223372036854775808.0 : 2147483648.0;
    } else {
      lo = 0.0;
      hi = to64 ? 18446744073709551616.0 : 4294967296.0;
    }
    trap_if(b_.CreateFCmpUNO(x, x), TrapKind::InvalidConversion);
    // In range: lo - 1 < x < hi after truncation toward zero, i.e. x > lo - 1
    // (or x >= lo where lo - 1 is not representable) and x < hi.
    llvm::Value* below;
    if (!is_signed) {
      below = b_.CreateFCmpOLE(x, llvm::ConstantFP::get(from, -1.0));
    } else if (from == m_.f64 && !to64) {
      below = b_.CreateFCmpOLE(x, llvm::ConstantFP::get(from, lo - 1.0));
    } else {
      below = b_.CreateFCmpOLT(x, llvm::ConstantFP::get(from, lo));
    }
    llvm::Value* above = b_.CreateFCmpOGE(x, llvm::ConstantFP::get(from, hi));
    trap_if(b_.CreateOr(below, above), TrapKind::IntOverflow);
    return is_signed ? b_.CreateFPToSI(x, to) : b_.CreateFPToUI(x, to);
  }

  llvm::Value* saturate(llvm::Value* x, llvm::Type* to, bool is_signed) {
    auto id = is_signed ? llvm::Intrinsic::fptosi_sat : llvm::Intrinsic::fptoui_sat;
    return b_.CreateIntrinsic(id, {to, x->getType()}, {x});
  }

  // An identity LLVM cannot see through. Wasm wants an arithmetic (quiet)
  // NaN from every float operation, while LLVM may fold x-0, x*1, -0-x,
  // x*-1, x/±1 and demote(promote(x)) to x or -x and so pass a signalling
  // NaN through unchanged; hiding the operand keeps the operation.
  llvm::Value* opaque(llvm::Value* x) {
    const llvm::Triple triple(m_.mod.getTargetTriple());
    const char* constraint = triple.isAArch64() ? "=w,0" : "=x,0";
    auto* asm_fn = llvm::InlineAsm::get(llvm::FunctionType::get(x->getType(), {x->getType()}, false), "",
                                        constraint, /*hasSideEffects=*/false);
    // Touches no memory: LICM may hoist it out of loops (and then the loop
    // vectoriser, which takes no calls, may take the loop).
    llvm::CallInst* call = b_.CreateCall(asm_fn, {x});
    call->setDoesNotAccessMemory();
    call->setDoesNotThrow();
    call->addFnAttr(llvm::Attribute::WillReturn);
    return call;
  }
  static bool is_identity_constant(const V& v) {
    if (!v.data.is_const) return false;
    if (v.type == ValType::F32) {
      float f = std::bit_cast<float>(static_cast<uint32_t>(v.data.bits));
      return f == 0.0f || f == 1.0f || f == -1.0f;
    }
    if (v.type == ValType::F64) {
      double d = std::bit_cast<double>(v.data.bits);
      return d == 0.0 || d == 1.0 || d == -1.0;
    }
    return false;
  }
  // min/max: llvm.minimum's lowering may return a signalling NaN operand
  // as is; a NaN operand takes the quieting a + b path instead.
  llvm::Value* min_max(llvm::Value* a, llvm::Value* c, bool is_min) {
    llvm::Value* any_nan = b_.CreateFCmpUNO(a, c);
    llvm::Value* r = b_.CreateBinaryIntrinsic(is_min ? llvm::Intrinsic::minimum : llvm::Intrinsic::maximum, a, c);
    return b_.CreateSelect(any_nan, b_.CreateFAdd(a, c), r);
  }

  // Null when the opcode has no inline expansion.
  llvm::Value* numeric(Opcode op, V* args, uint32_t nargs) {
    llvm::Value* a = nargs > 0 ? get(args[0]) : nullptr;
    llvm::Value* c = nargs > 1 ? get(args[1]) : nullptr;
    if (nargs == 2 && (args[0].type == ValType::F32 || args[0].type == ValType::F64)) {
      if (is_identity_constant(args[0])) a = opaque(a);
      if (is_identity_constant(args[1])) c = opaque(c);
    }
    using I = llvm::Intrinsic::ID;
    auto shift_amount = [&](llvm::Value* n) {
      return b_.CreateAnd(n, llvm::ConstantInt::get(n->getType(), n->getType()->getIntegerBitWidth() - 1));
    };
    auto fbin = [&](I id) { return b_.CreateBinaryIntrinsic(id, a, c); };
    switch (op) {
#define INT_OPS(P, T)                                                                       \
  case Opcode::P##Eqz: return bool32(b_.CreateICmpEQ(a, llvm::ConstantInt::get(T, 0)));      \
  case Opcode::P##Eq: return bool32(b_.CreateICmpEQ(a, c));                                  \
  case Opcode::P##Ne: return bool32(b_.CreateICmpNE(a, c));                                  \
  case Opcode::P##LtS: return bool32(b_.CreateICmpSLT(a, c));                                \
  case Opcode::P##LtU: return bool32(b_.CreateICmpULT(a, c));                                \
  case Opcode::P##GtS: return bool32(b_.CreateICmpSGT(a, c));                                \
  case Opcode::P##GtU: return bool32(b_.CreateICmpUGT(a, c));                                \
  case Opcode::P##LeS: return bool32(b_.CreateICmpSLE(a, c));                                \
  case Opcode::P##LeU: return bool32(b_.CreateICmpULE(a, c));                                \
  case Opcode::P##GeS: return bool32(b_.CreateICmpSGE(a, c));                                \
  case Opcode::P##GeU: return bool32(b_.CreateICmpUGE(a, c));                                \
  case Opcode::P##Clz: return b_.CreateBinaryIntrinsic(llvm::Intrinsic::ctlz, a, b_.getFalse()); \
  case Opcode::P##Ctz: return b_.CreateBinaryIntrinsic(llvm::Intrinsic::cttz, a, b_.getFalse()); \
  case Opcode::P##Popcnt: return unary_intrinsic(llvm::Intrinsic::ctpop, a);                 \
  case Opcode::P##Add: return b_.CreateAdd(a, c);                                            \
  case Opcode::P##Sub: return b_.CreateSub(a, c);                                            \
  case Opcode::P##Mul: return b_.CreateMul(a, c);                                            \
  case Opcode::P##DivS: return divide(op, a, c, true, false);                                \
  case Opcode::P##DivU: return divide(op, a, c, false, false);                               \
  case Opcode::P##RemS: return divide(op, a, c, true, true);                                 \
  case Opcode::P##RemU: return divide(op, a, c, false, true);                                \
  case Opcode::P##And: return b_.CreateAnd(a, c);                                            \
  case Opcode::P##Or: return b_.CreateOr(a, c);                                              \
  case Opcode::P##Xor: return b_.CreateXor(a, c);                                            \
  case Opcode::P##Shl: return b_.CreateShl(a, shift_amount(c));                              \
  case Opcode::P##ShrS: return b_.CreateAShr(a, shift_amount(c));                            \
  case Opcode::P##ShrU: return b_.CreateLShr(a, shift_amount(c));                            \
  case Opcode::P##Rotl: return b_.CreateIntrinsic(llvm::Intrinsic::fshl, {T}, {a, a, c});    \
  case Opcode::P##Rotr: return b_.CreateIntrinsic(llvm::Intrinsic::fshr, {T}, {a, a, c});
      INT_OPS(I32, m_.i32)
      INT_OPS(I64, m_.i64)
#undef INT_OPS
#define FLOAT_OPS(P)                                                       \
  case Opcode::P##Eq: return bool32(b_.CreateFCmpOEQ(a, c));               \
  case Opcode::P##Ne: return bool32(b_.CreateFCmpUNE(a, c));               \
  case Opcode::P##Lt: return bool32(b_.CreateFCmpOLT(a, c));               \
  case Opcode::P##Gt: return bool32(b_.CreateFCmpOGT(a, c));               \
  case Opcode::P##Le: return bool32(b_.CreateFCmpOLE(a, c));               \
  case Opcode::P##Ge: return bool32(b_.CreateFCmpOGE(a, c));               \
  case Opcode::P##Abs: return unary_intrinsic(llvm::Intrinsic::fabs, a);   \
  case Opcode::P##Neg: return b_.CreateFNeg(a);                            \
  case Opcode::P##Ceil: return unary_intrinsic(llvm::Intrinsic::ceil, a);  \
  case Opcode::P##Floor: return unary_intrinsic(llvm::Intrinsic::floor, a); \
  case Opcode::P##Trunc: return unary_intrinsic(llvm::Intrinsic::trunc, a); \
  case Opcode::P##Nearest: return unary_intrinsic(llvm::Intrinsic::roundeven, a); \
  case Opcode::P##Sqrt: return unary_intrinsic(llvm::Intrinsic::sqrt, a);  \
  case Opcode::P##Add: return b_.CreateFAdd(a, c);                         \
  case Opcode::P##Sub: return b_.CreateFSub(a, c);                         \
  case Opcode::P##Mul: return b_.CreateFMul(a, c);                         \
  case Opcode::P##Div: return b_.CreateFDiv(a, c);                         \
  case Opcode::P##Min: return min_max(a, c, true);                         \
  case Opcode::P##Max: return min_max(a, c, false);                        \
  case Opcode::P##Copysign: return fbin(llvm::Intrinsic::copysign);
      FLOAT_OPS(F32)
      FLOAT_OPS(F64)
#undef FLOAT_OPS
      case Opcode::I32WrapI64: return b_.CreateTrunc(a, m_.i32);
      case Opcode::I64ExtendI32S: return b_.CreateSExt(a, m_.i64);
      case Opcode::I64ExtendI32U: return b_.CreateZExt(a, m_.i64);
      case Opcode::I32Extend8S: return b_.CreateSExt(b_.CreateTrunc(a, m_.i8), m_.i32);
      case Opcode::I32Extend16S: return b_.CreateSExt(b_.CreateTrunc(a, b_.getInt16Ty()), m_.i32);
      case Opcode::I64Extend8S: return b_.CreateSExt(b_.CreateTrunc(a, m_.i8), m_.i64);
      case Opcode::I64Extend16S: return b_.CreateSExt(b_.CreateTrunc(a, b_.getInt16Ty()), m_.i64);
      case Opcode::I64Extend32S: return b_.CreateSExt(b_.CreateTrunc(a, m_.i32), m_.i64);
      case Opcode::I32TruncF32S:
      case Opcode::I32TruncF64S: return truncate(a, m_.i32, true);
      case Opcode::I32TruncF32U:
      case Opcode::I32TruncF64U: return truncate(a, m_.i32, false);
      case Opcode::I64TruncF32S:
      case Opcode::I64TruncF64S: return truncate(a, m_.i64, true);
      case Opcode::I64TruncF32U:
      case Opcode::I64TruncF64U: return truncate(a, m_.i64, false);
      case Opcode::I32TruncSatF32S:
      case Opcode::I32TruncSatF64S: return saturate(a, m_.i32, true);
      case Opcode::I32TruncSatF32U:
      case Opcode::I32TruncSatF64U: return saturate(a, m_.i32, false);
      case Opcode::I64TruncSatF32S:
      case Opcode::I64TruncSatF64S: return saturate(a, m_.i64, true);
      case Opcode::I64TruncSatF32U:
      case Opcode::I64TruncSatF64U: return saturate(a, m_.i64, false);
      case Opcode::F32ConvertI32S:
      case Opcode::F32ConvertI64S: return b_.CreateSIToFP(a, m_.f32);
      case Opcode::F32ConvertI32U:
      case Opcode::F32ConvertI64U: return b_.CreateUIToFP(a, m_.f32);
      case Opcode::F64ConvertI32S:
      case Opcode::F64ConvertI64S: return b_.CreateSIToFP(a, m_.f64);
      case Opcode::F64ConvertI32U:
      case Opcode::F64ConvertI64U: return b_.CreateUIToFP(a, m_.f64);
      case Opcode::F32DemoteF64: return b_.CreateFPTrunc(opaque(a), m_.f32);
      case Opcode::F64PromoteF32: return b_.CreateFPExt(a, m_.f64);
      case Opcode::I32ReinterpretF32: return b_.CreateBitCast(a, m_.i32);
      case Opcode::I64ReinterpretF64: return b_.CreateBitCast(a, m_.i64);
      case Opcode::F32ReinterpretI32: return b_.CreateBitCast(a, m_.f32);
      case Opcode::F64ReinterpretI64: return b_.CreateBitCast(a, m_.f64);
      case Opcode::V128And: return b_.CreateAnd(a, c);
      case Opcode::V128Or: return b_.CreateOr(a, c);
      case Opcode::V128Xor: return b_.CreateXor(a, c);
      case Opcode::V128Not: return b_.CreateNot(a);
      default: return nullptr;
    }
  }

  // ---- SIMD ------------------------------------------------------------------------------------

  // The SIMD instructions with a direct LLVM vector counterpart; null for
  // the rest (swizzle, q15mulr, ...), which take the fallback path. v128
  // values are <2 x i64> in slots and reinterpreted per lane shape here.
  llvm::Value* simd(Opcode op, const Immediates& imm, V* args) {
    using ID = llvm::Intrinsic::ID;
    namespace I = llvm::Intrinsic;
    llvm::Type* f4 = llvm::FixedVectorType::get(m_.f32, 4);
    llvm::Type* d2 = llvm::FixedVectorType::get(m_.f64, 2);
    auto in = [&](uint32_t i, llvm::Type* t) { return b_.CreateBitCast(get(args[i]), t); };
    auto i8 = [&](uint32_t i) { return in(i, vec(8, 16)); };
    auto i16 = [&](uint32_t i) { return in(i, vec(16, 8)); };
    auto i32 = [&](uint32_t i) { return in(i, vec(32, 4)); };
    auto i64 = [&](uint32_t i) { return in(i, vec(64, 2)); };
    auto f32 = [&](uint32_t i) { return in(i, f4); };
    auto f64 = [&](uint32_t i) { return in(i, d2); };
    auto out = [&](llvm::Value* x) { return v128(x); };
    auto mask = [&](llvm::Value* cmp, llvm::Type* lanes) { return out(b_.CreateSExt(cmp, lanes)); };
    auto bin = [&](ID id, llvm::Value* x, llvm::Value* y) { return out(b_.CreateBinaryIntrinsic(id, x, y)); };
    auto un = [&](ID id, llvm::Value* x) { return out(unary_intrinsic(id, x)); };
    // Shift counts are taken modulo the lane width.
    auto shift = [&](llvm::Value* x, unsigned bits, llvm::Instruction::BinaryOps kind) {
      llvm::Value* n = b_.CreateAnd(get(args[1]), b_.getInt32(bits - 1));
      n = b_.CreateZExtOrTrunc(n, b_.getIntNTy(bits));
      auto* lanes = llvm::cast<llvm::FixedVectorType>(x->getType());
      return out(b_.CreateBinOp(kind, x, b_.CreateVectorSplat(lanes->getNumElements(), n)));
    };
    auto half = [&](llvm::Value* x, bool high) {
      unsigned n = llvm::cast<llvm::FixedVectorType>(x->getType())->getNumElements() / 2;
      std::vector<int> lanes;
      for (unsigned i = 0; i < n; ++i) lanes.push_back(static_cast<int>(high ? n + i : i));
      return b_.CreateShuffleVector(x, lanes);
    };
    auto extend = [&](llvm::Value* x, bool high, bool is_signed, unsigned to_bits) {
      llvm::Value* h = half(x, high);
      llvm::Type* t = vec(to_bits, llvm::cast<llvm::FixedVectorType>(h->getType())->getNumElements());
      return is_signed ? b_.CreateSExt(h, t) : b_.CreateZExt(h, t);
    };
    auto extmul = [&](llvm::Value* x, llvm::Value* y, bool high, bool is_signed, unsigned to_bits) {
      return out(b_.CreateMul(extend(x, high, is_signed, to_bits), extend(y, high, is_signed, to_bits)));
    };
    // Lanes 0,2,4.. plus lanes 1,3,5.. of a vector.
    auto pairwise_add = [&](llvm::Value* x) {
      unsigned n = llvm::cast<llvm::FixedVectorType>(x->getType())->getNumElements();
      std::vector<int> even, odd;
      for (unsigned i = 0; i < n; i += 2) even.push_back(static_cast<int>(i)), odd.push_back(static_cast<int>(i + 1));
      return b_.CreateAdd(b_.CreateShuffleVector(x, even), b_.CreateShuffleVector(x, odd));
    };
    auto extadd = [&](llvm::Value* x, bool is_signed, unsigned to_bits) {
      unsigned n = llvm::cast<llvm::FixedVectorType>(x->getType())->getNumElements();
      llvm::Type* t = vec(to_bits, n);
      return out(pairwise_add(is_signed ? b_.CreateSExt(x, t) : b_.CreateZExt(x, t)));
    };
    // Saturating narrow of two vectors of signed lanes into one of half width.
    auto narrow = [&](llvm::Value* x, llvm::Value* y, unsigned bits, bool is_signed) {
      unsigned n = llvm::cast<llvm::FixedVectorType>(x->getType())->getNumElements();
      std::vector<int> all;
      for (unsigned i = 0; i < 2 * n; ++i) all.push_back(static_cast<int>(i));
      llvm::Value* both = b_.CreateShuffleVector(x, y, all);
      llvm::Type* wide = both->getType();
      int64_t lo = is_signed ? -(int64_t{1} << (bits - 1)) : 0;
      int64_t hi = is_signed ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1;
      llvm::Value* clamped = b_.CreateBinaryIntrinsic(I::smax, both, llvm::ConstantInt::getSigned(wide, lo));
      clamped = b_.CreateBinaryIntrinsic(I::smin, clamped, llvm::ConstantInt::getSigned(wide, hi));
      return out(b_.CreateTrunc(clamped, vec(bits, 2 * n)));
    };
    // Rounding average of unsigned lanes, computed one width up.
    auto avgr = [&](llvm::Value* x, llvm::Value* y, unsigned bits, unsigned n) {
      llvm::Type* wide = vec(bits * 2, n);
      llvm::Value* sum = b_.CreateAdd(b_.CreateZExt(x, wide), b_.CreateZExt(y, wide));
      sum = b_.CreateAdd(sum, llvm::ConstantInt::get(wide, 1));
      return out(b_.CreateTrunc(b_.CreateLShr(sum, llvm::ConstantInt::get(wide, 1)), vec(bits, n)));
    };
    auto bitmask = [&](llvm::Value* x, unsigned n) {
      llvm::Value* negative = b_.CreateICmpSLT(x, llvm::Constant::getNullValue(x->getType()));
      return b_.CreateZExt(b_.CreateBitCast(negative, b_.getIntNTy(n)), m_.i32);
    };
    auto all_true = [&](llvm::Value* x) {
      llvm::Value* nonzero = b_.CreateICmpNE(x, llvm::Constant::getNullValue(x->getType()));
      return bool32(b_.CreateAndReduce(nonzero));
    };
    auto pmin = [&](llvm::Value* x, llvm::Value* y) { return out(b_.CreateSelect(b_.CreateFCmpOLT(y, x), y, x)); };
    auto pmax = [&](llvm::Value* x, llvm::Value* y) { return out(b_.CreateSelect(b_.CreateFCmpOLT(x, y), y, x)); };
    auto low_then_zero = [&](llvm::Value* two) {  // <2 x T> into lanes 0-1 of <4 x T>, zeros above
      return b_.CreateShuffleVector(two, llvm::Constant::getNullValue(two->getType()), {0, 1, 2, 3});
    };
    auto lane_bits = [&](llvm::Value* x, unsigned bits) { return b_.CreateTrunc(x, b_.getIntNTy(bits)); };
    switch (op) {
      // construction and lanes
      case Opcode::I8x16Splat: return out(b_.CreateVectorSplat(16, lane_bits(get(args[0]), 8)));
      case Opcode::I16x8Splat: return out(b_.CreateVectorSplat(8, lane_bits(get(args[0]), 16)));
      case Opcode::I32x4Splat: return out(b_.CreateVectorSplat(4, get(args[0])));
      case Opcode::I64x2Splat: return out(b_.CreateVectorSplat(2, get(args[0])));
      case Opcode::F32x4Splat: return out(b_.CreateVectorSplat(4, get(args[0])));
      case Opcode::F64x2Splat: return out(b_.CreateVectorSplat(2, get(args[0])));
      case Opcode::I8x16ExtractLaneS: return b_.CreateSExt(b_.CreateExtractElement(i8(0), uint64_t{imm.lane}), m_.i32);
      case Opcode::I8x16ExtractLaneU: return b_.CreateZExt(b_.CreateExtractElement(i8(0), uint64_t{imm.lane}), m_.i32);
      case Opcode::I16x8ExtractLaneS: return b_.CreateSExt(b_.CreateExtractElement(i16(0), uint64_t{imm.lane}), m_.i32);
      case Opcode::I16x8ExtractLaneU: return b_.CreateZExt(b_.CreateExtractElement(i16(0), uint64_t{imm.lane}), m_.i32);
      case Opcode::I32x4ExtractLane: return b_.CreateExtractElement(i32(0), uint64_t{imm.lane});
      case Opcode::I64x2ExtractLane: return b_.CreateExtractElement(i64(0), uint64_t{imm.lane});
      case Opcode::F32x4ExtractLane: return b_.CreateExtractElement(f32(0), uint64_t{imm.lane});
      case Opcode::F64x2ExtractLane: return b_.CreateExtractElement(f64(0), uint64_t{imm.lane});
      case Opcode::I8x16ReplaceLane:
        return out(b_.CreateInsertElement(i8(0), lane_bits(get(args[1]), 8), uint64_t{imm.lane}));
      case Opcode::I16x8ReplaceLane:
        return out(b_.CreateInsertElement(i16(0), lane_bits(get(args[1]), 16), uint64_t{imm.lane}));
      case Opcode::I32x4ReplaceLane: return out(b_.CreateInsertElement(i32(0), get(args[1]), uint64_t{imm.lane}));
      case Opcode::I64x2ReplaceLane: return out(b_.CreateInsertElement(i64(0), get(args[1]), uint64_t{imm.lane}));
      case Opcode::F32x4ReplaceLane: return out(b_.CreateInsertElement(f32(0), get(args[1]), uint64_t{imm.lane}));
      case Opcode::F64x2ReplaceLane: return out(b_.CreateInsertElement(f64(0), get(args[1]), uint64_t{imm.lane}));
      case Opcode::I8x16Shuffle: {
        std::vector<int> lanes;
        for (int i = 0; i < 16; ++i)
          lanes.push_back(static_cast<int>(((i < 8 ? imm.v128.lo() >> (8 * i) : imm.v128.hi() >> (8 * (i - 8)))) & 31));
        return out(b_.CreateShuffleVector(i8(0), i8(1), lanes));
      }
      // bitwise
      case Opcode::V128Andnot: return b_.CreateAnd(get(args[0]), b_.CreateNot(get(args[1])));
      case Opcode::V128Bitselect: {
        llvm::Value* c = get(args[2]);
        return b_.CreateOr(b_.CreateAnd(get(args[0]), c), b_.CreateAnd(get(args[1]), b_.CreateNot(c)));
      }
      case Opcode::V128AnyTrue:
        return bool32(b_.CreateICmpNE(b_.CreateBitCast(get(args[0]), b_.getInt128Ty()), b_.getIntN(128, 0)));
      // integer comparisons
#define SKIFF_SIMD_ICMP(P, L, T)                                                       \
  case Opcode::P##Eq: return mask(b_.CreateICmpEQ(L(0), L(1)), T);                     \
  case Opcode::P##Ne: return mask(b_.CreateICmpNE(L(0), L(1)), T);                     \
  case Opcode::P##LtS: return mask(b_.CreateICmpSLT(L(0), L(1)), T);                   \
  case Opcode::P##GtS: return mask(b_.CreateICmpSGT(L(0), L(1)), T);                   \
  case Opcode::P##LeS: return mask(b_.CreateICmpSLE(L(0), L(1)), T);                   \
  case Opcode::P##GeS: return mask(b_.CreateICmpSGE(L(0), L(1)), T);
#define SKIFF_SIMD_UCMP(P, L, T)                                                       \
  case Opcode::P##LtU: return mask(b_.CreateICmpULT(L(0), L(1)), T);                   \
  case Opcode::P##GtU: return mask(b_.CreateICmpUGT(L(0), L(1)), T);                   \
  case Opcode::P##LeU: return mask(b_.CreateICmpULE(L(0), L(1)), T);                   \
  case Opcode::P##GeU: return mask(b_.CreateICmpUGE(L(0), L(1)), T);
      SKIFF_SIMD_ICMP(I8x16, i8, vec(8, 16))
      SKIFF_SIMD_UCMP(I8x16, i8, vec(8, 16))
      SKIFF_SIMD_ICMP(I16x8, i16, vec(16, 8))
      SKIFF_SIMD_UCMP(I16x8, i16, vec(16, 8))
      SKIFF_SIMD_ICMP(I32x4, i32, vec(32, 4))
      SKIFF_SIMD_UCMP(I32x4, i32, vec(32, 4))
      SKIFF_SIMD_ICMP(I64x2, i64, vec(64, 2))
#undef SKIFF_SIMD_ICMP
#undef SKIFF_SIMD_UCMP
      // float comparisons: ordered except ne (true when either is NaN)
#define SKIFF_SIMD_FCMP(P, L, T)                                         \
  case Opcode::P##Eq: return mask(b_.CreateFCmpOEQ(L(0), L(1)), T);      \
  case Opcode::P##Ne: return mask(b_.CreateFCmpUNE(L(0), L(1)), T);      \
  case Opcode::P##Lt: return mask(b_.CreateFCmpOLT(L(0), L(1)), T);      \
  case Opcode::P##Gt: return mask(b_.CreateFCmpOGT(L(0), L(1)), T);      \
  case Opcode::P##Le: return mask(b_.CreateFCmpOLE(L(0), L(1)), T);      \
  case Opcode::P##Ge: return mask(b_.CreateFCmpOGE(L(0), L(1)), T);
      SKIFF_SIMD_FCMP(F32x4, f32, vec(32, 4))
      SKIFF_SIMD_FCMP(F64x2, f64, vec(64, 2))
#undef SKIFF_SIMD_FCMP
      // integer arithmetic, shared by every lane shape
#define SKIFF_SIMD_INT(P, L, BITS, N)                                                   \
  case Opcode::P##Abs: return out(b_.CreateBinaryIntrinsic(I::abs, L(0), b_.getFalse())); \
  case Opcode::P##Neg: return out(b_.CreateNeg(L(0)));                                  \
  case Opcode::P##Add: return out(b_.CreateAdd(L(0), L(1)));                            \
  case Opcode::P##Sub: return out(b_.CreateSub(L(0), L(1)));                            \
  case Opcode::P##Shl: return shift(L(0), BITS, llvm::Instruction::Shl);                \
  case Opcode::P##ShrS: return shift(L(0), BITS, llvm::Instruction::AShr);              \
  case Opcode::P##ShrU: return shift(L(0), BITS, llvm::Instruction::LShr);              \
  case Opcode::P##AllTrue: return all_true(L(0));                                       \
  case Opcode::P##Bitmask: return bitmask(L(0), N);
      SKIFF_SIMD_INT(I8x16, i8, 8, 16)
      SKIFF_SIMD_INT(I16x8, i16, 16, 8)
      SKIFF_SIMD_INT(I32x4, i32, 32, 4)
      SKIFF_SIMD_INT(I64x2, i64, 64, 2)
#undef SKIFF_SIMD_INT
#define SKIFF_SIMD_MINMAX(P, L)                                            \
  case Opcode::P##MinS: return bin(I::smin, L(0), L(1));                   \
  case Opcode::P##MinU: return bin(I::umin, L(0), L(1));                   \
  case Opcode::P##MaxS: return bin(I::smax, L(0), L(1));                   \
  case Opcode::P##MaxU: return bin(I::umax, L(0), L(1));
      SKIFF_SIMD_MINMAX(I8x16, i8)
      SKIFF_SIMD_MINMAX(I16x8, i16)
      SKIFF_SIMD_MINMAX(I32x4, i32)
#undef SKIFF_SIMD_MINMAX
#define SKIFF_SIMD_SAT(P, L)                                               \
  case Opcode::P##AddSatS: return bin(I::sadd_sat, L(0), L(1));            \
  case Opcode::P##AddSatU: return bin(I::uadd_sat, L(0), L(1));            \
  case Opcode::P##SubSatS: return bin(I::ssub_sat, L(0), L(1));            \
  case Opcode::P##SubSatU: return bin(I::usub_sat, L(0), L(1));
      SKIFF_SIMD_SAT(I8x16, i8)
      SKIFF_SIMD_SAT(I16x8, i16)
#undef SKIFF_SIMD_SAT
      case Opcode::I16x8Mul: return out(b_.CreateMul(i16(0), i16(1)));
      case Opcode::I32x4Mul: return out(b_.CreateMul(i32(0), i32(1)));
      case Opcode::I64x2Mul: return out(b_.CreateMul(i64(0), i64(1)));
      case Opcode::I8x16Popcnt: return un(I::ctpop, i8(0));
      case Opcode::I8x16AvgrU: return avgr(i8(0), i8(1), 8, 16);
      case Opcode::I16x8AvgrU: return avgr(i16(0), i16(1), 16, 8);
      case Opcode::I8x16NarrowI16x8S: return narrow(i16(0), i16(1), 8, true);
      case Opcode::I8x16NarrowI16x8U: return narrow(i16(0), i16(1), 8, false);
      case Opcode::I16x8NarrowI32x4S: return narrow(i32(0), i32(1), 16, true);
      case Opcode::I16x8NarrowI32x4U: return narrow(i32(0), i32(1), 16, false);
#define SKIFF_SIMD_EXTEND(P, FROM, L, BITS)                                                        \
  case Opcode::P##ExtendLow##FROM##S: return out(extend(L(0), false, true, BITS));                 \
  case Opcode::P##ExtendHigh##FROM##S: return out(extend(L(0), true, true, BITS));                 \
  case Opcode::P##ExtendLow##FROM##U: return out(extend(L(0), false, false, BITS));                \
  case Opcode::P##ExtendHigh##FROM##U: return out(extend(L(0), true, false, BITS));                \
  case Opcode::P##ExtmulLow##FROM##S: return extmul(L(0), L(1), false, true, BITS);                \
  case Opcode::P##ExtmulHigh##FROM##S: return extmul(L(0), L(1), true, true, BITS);                \
  case Opcode::P##ExtmulLow##FROM##U: return extmul(L(0), L(1), false, false, BITS);               \
  case Opcode::P##ExtmulHigh##FROM##U: return extmul(L(0), L(1), true, false, BITS);
      SKIFF_SIMD_EXTEND(I16x8, I8x16, i8, 16)
      SKIFF_SIMD_EXTEND(I32x4, I16x8, i16, 32)
      SKIFF_SIMD_EXTEND(I64x2, I32x4, i32, 64)
#undef SKIFF_SIMD_EXTEND
      case Opcode::I16x8ExtaddPairwiseI8x16S: return extadd(i8(0), true, 16);
      case Opcode::I16x8ExtaddPairwiseI8x16U: return extadd(i8(0), false, 16);
      case Opcode::I32x4ExtaddPairwiseI16x8S: return extadd(i16(0), true, 32);
      case Opcode::I32x4ExtaddPairwiseI16x8U: return extadd(i16(0), false, 32);
      case Opcode::I32x4DotI16x8S: {
        llvm::Type* wide = vec(32, 8);
        return out(pairwise_add(b_.CreateMul(b_.CreateSExt(i16(0), wide), b_.CreateSExt(i16(1), wide))));
      }
      // floating point: IEEE operations, wasm's NaN-propagating min/max
#define SKIFF_SIMD_FLOAT(P, L)                                                   \
  case Opcode::P##Abs: return un(I::fabs, L(0));                                 \
  case Opcode::P##Neg: return out(b_.CreateFNeg(L(0)));                          \
  case Opcode::P##Sqrt: return un(I::sqrt, L(0));                                \
  case Opcode::P##Ceil: return un(I::ceil, L(0));                                \
  case Opcode::P##Floor: return un(I::floor, L(0));                              \
  case Opcode::P##Trunc: return un(I::trunc, L(0));                              \
  case Opcode::P##Nearest: return un(I::roundeven, L(0));                        \
  case Opcode::P##Add: return out(b_.CreateFAdd(L(0), L(1)));                    \
  case Opcode::P##Sub: return out(b_.CreateFSub(L(0), L(1)));                    \
  case Opcode::P##Mul: return out(b_.CreateFMul(L(0), L(1)));                    \
  case Opcode::P##Div: return out(b_.CreateFDiv(L(0), L(1)));                    \
  case Opcode::P##Min: return out(min_max(L(0), L(1), true));                    \
  case Opcode::P##Max: return out(min_max(L(0), L(1), false));                   \
  case Opcode::P##Pmin: return pmin(L(0), L(1));                                 \
  case Opcode::P##Pmax: return pmax(L(0), L(1));
      SKIFF_SIMD_FLOAT(F32x4, f32)
      SKIFF_SIMD_FLOAT(F64x2, f64)
#undef SKIFF_SIMD_FLOAT
      // conversions
      case Opcode::F32x4ConvertI32x4S: return out(b_.CreateSIToFP(i32(0), f4));
      case Opcode::F32x4ConvertI32x4U: return out(b_.CreateUIToFP(i32(0), f4));
      case Opcode::F64x2ConvertLowI32x4S: return out(b_.CreateSIToFP(half(i32(0), false), d2));
      case Opcode::F64x2ConvertLowI32x4U: return out(b_.CreateUIToFP(half(i32(0), false), d2));
      case Opcode::F64x2PromoteLowF32x4: return out(b_.CreateFPExt(half(f32(0), false), d2));
      case Opcode::F32x4DemoteF64x2Zero:
        return out(low_then_zero(b_.CreateFPTrunc(f64(0), llvm::FixedVectorType::get(m_.f32, 2))));
      case Opcode::I32x4TruncSatF32x4S:
        return out(b_.CreateIntrinsic(I::fptosi_sat, {vec(32, 4), f4}, {f32(0)}));
      case Opcode::I32x4TruncSatF32x4U:
        return out(b_.CreateIntrinsic(I::fptoui_sat, {vec(32, 4), f4}, {f32(0)}));
      case Opcode::I32x4TruncSatF64x2SZero:
        return out(low_then_zero(b_.CreateIntrinsic(I::fptosi_sat, {vec(32, 2), d2}, {f64(0)})));
      case Opcode::I32x4TruncSatF64x2UZero:
        return out(low_then_zero(b_.CreateIntrinsic(I::fptoui_sat, {vec(32, 2), d2}, {f64(0)})));
      default: return nullptr;
    }
  }

  // ---- variables, tables, memory management, references ------------------------------------

  llvm::Value* global_ptr(uint32_t index) {
    llvm::Value* global = vector_elem(inst_, kInstanceGlobals, b_.getInt64(index));
    return byte_gep(global, kGlobalValue);
  }

  llvm::Value* special(S& s, Opcode op, const Immediates& imm, V* args) {
    llvm::Type* vt = m_.b.getVoidTy();
    llvm::Type* i32 = m_.i32;
    llvm::Type* i64 = m_.i64;
    llvm::Type* p = m_.ptr;
    auto arg = [&](uint32_t i) { return get(args[i]); };
    auto u32 = [&](uint32_t v) { return b_.getInt32(v); };
    switch (op) {
      case Opcode::Unreachable: trap_now(TrapKind::Unreachable); return nullptr;
      case Opcode::GlobalGet: {
        ValType t = m_.wasm.globals[imm.index].type;
        return b_.CreateLoad(m_.type(t), global_ptr(imm.index));
      }
      case Opcode::GlobalSet: {
        ValType t = m_.wasm.globals[imm.index].type;
        llvm::Value* v = arg(0);
        if (t == ValType::I32) v = b_.CreateZExt(v, i64);
        if (t == ValType::F32) v = b_.CreateZExt(b_.CreateBitCast(v, i32), i64);
        b_.CreateStore(v, global_ptr(imm.index));
        return nullptr;
      }
      case Opcode::MemorySize: return b_.CreateCall(helper("skiff_rt_memory_size", i32, {p}), {inst_});
      case Opcode::MemoryGrow:
        return b_.CreateCall(helper("skiff_rt_memory_grow", i32, {p, i32}), {inst_, arg(0)});
      case Opcode::MemoryFill:
        b_.CreateCall(helper("skiff_rt_memory_fill", vt, {p, i32, i32, i32}), {inst_, arg(0), arg(1), arg(2)});
        return nullptr;
      case Opcode::MemoryCopy:
        b_.CreateCall(helper("skiff_rt_memory_copy", vt, {p, i32, i32, i32}), {inst_, arg(0), arg(1), arg(2)});
        return nullptr;
      case Opcode::MemoryInit:
        b_.CreateCall(helper("skiff_rt_memory_init", vt, {p, i32, i32, i32, i32}),
                      {inst_, u32(imm.index), arg(0), arg(1), arg(2)});
        return nullptr;
      case Opcode::DataDrop:
        b_.CreateCall(helper("skiff_rt_data_drop", vt, {p, i32}), {inst_, u32(imm.index)});
        return nullptr;
      case Opcode::TableGet:
        return b_.CreateCall(helper("skiff_rt_table_get", i64, {p, i32, i32}), {inst_, u32(imm.index), arg(0)});
      case Opcode::TableSet:
        b_.CreateCall(helper("skiff_rt_table_set", vt, {p, i32, i32, i64}), {inst_, u32(imm.index), arg(0), arg(1)});
        return nullptr;
      case Opcode::TableSize:
        return b_.CreateCall(helper("skiff_rt_table_size", i32, {p, i32}), {inst_, u32(imm.index)});
      case Opcode::TableGrow:
        return b_.CreateCall(helper("skiff_rt_table_grow", i32, {p, i32, i64, i32}),
                             {inst_, u32(imm.index), arg(0), arg(1)});
      case Opcode::TableFill:
        b_.CreateCall(helper("skiff_rt_table_fill", vt, {p, i32, i32, i64, i32}),
                      {inst_, u32(imm.index), arg(0), arg(1), arg(2)});
        return nullptr;
      case Opcode::TableCopy:
        b_.CreateCall(helper("skiff_rt_table_copy", vt, {p, i32, i32, i32, i32, i32}),
                      {inst_, u32(imm.index), u32(imm.index2), arg(0), arg(1), arg(2)});
        return nullptr;
      case Opcode::TableInit:
        b_.CreateCall(helper("skiff_rt_table_init", vt, {p, i32, i32, i32, i32, i32}),
                      {inst_, u32(imm.index), u32(imm.index2), arg(0), arg(1), arg(2)});
        return nullptr;
      case Opcode::ElemDrop:
        b_.CreateCall(helper("skiff_rt_elem_drop", vt, {p, i32}), {inst_, u32(imm.index)});
        return nullptr;
      case Opcode::RefNull: return b_.getInt64(0);
      case Opcode::RefIsNull: return bool32(b_.CreateICmpEQ(arg(0), b_.getInt64(0)));
      case Opcode::RefFunc:
        return b_.CreatePtrToInt(vector_elem(inst_, kInstanceFuncs, b_.getInt64(imm.index)), i64);
      default: trap_now(TrapKind::Unreachable); return nullptr;  // every Special op with a hook is above
    }
    (void)s;
  }

  ModuleState& m_;
  llvm::IRBuilder<>& b_;
  uint32_t func_index_;
  llvm::Function* fn_ = nullptr;
  llvm::BasicBlock* entry_ = nullptr;
  llvm::BasicBlock* return_bb_ = nullptr;
  llvm::Value* inst_ = nullptr;
  llvm::Value* mem_ = nullptr;
  llvm::Value* store_ = nullptr;
  llvm::AllocaInst* checking_ = nullptr;  // i8: the store's check_interrupts as last read
  llvm::Value* results_out_ = nullptr;    // the slot buffer for 3+ results
  bool has_simd_ = false;                 // some value is a v128
  std::vector<llvm::AllocaInst*> locals_;
  std::unordered_map<uint64_t, llvm::AllocaInst*> slots_;
  std::unordered_map<uint64_t, llvm::Value*> entry_values_;  // at_entry's, by key
  std::unordered_map<uint32_t, llvm::BasicBlock*> trap_blocks_;
};

static_assert(wasm::BodyInterface<FunctionCompiler>);

// The host-facing wrapper of function `index`: arguments and results in a slot array.
void build_entry(ModuleState& m, uint32_t index, llvm::Function* entry) {
  const FuncType& ft = m.wasm.func_type(index);
  llvm::IRBuilder<>& b = m.b;
  b.SetInsertPoint(llvm::BasicBlock::Create(m.ctx, "entry", entry));
  auto arg = entry->arg_begin();
  llvm::Value* inst = &*arg++;
  llvm::Value* slots = &*arg++;
  std::vector<llvm::Value*> args = {inst};
  uint32_t slot = 0;
  for (ValType t : ft.params) {
    args.push_back(FunctionCompiler::load_slot_with(m, b, slots, slot, t));
    slot += slot_count(t);
  }
  if (ModuleState::results_in_memory(ft)) {  // written straight into the caller's slots
    args.push_back(slots);
    ModuleState::call_wasm(b, m.funcs[index], args);
    b.CreateRetVoid();
    return;
  }
  llvm::Value* r = ModuleState::call_wasm(b, m.funcs[index], args);
  slot = 0;
  for (size_t i = 0; i < ft.results.size(); ++i) {
    llvm::Value* v = ft.results.size() == 1 ? r : b.CreateExtractValue(r, {static_cast<unsigned>(i)});
    FunctionCompiler::store_slot_with(m, b, slots, slot, ft.results[i], v);
    slot += slot_count(ft.results[i]);
  }
  b.CreateRetVoid();
}

std::string entry_name(uint32_t index) { return "skiff_entry_" + std::to_string(index); }

// VectorCombine tidies what the loop vectoriser leaves (the shuffles of
// interleaved accesses), but it made the producer's own SIMD code (bench
// simd) 15% slower: it runs only where the vectoriser worked and the wasm
// code had no v128 values (kSimdFunctionAttribute).
struct CombineVectorisedLoopsPass : llvm::PassInfoMixin<CombineVectorisedLoopsPass> {
  llvm::PreservedAnalyses run(llvm::Function& fn, llvm::FunctionAnalysisManager& fam) {
    if (fn.hasFnAttribute(kSimdFunctionAttribute) || !has_vectorised_loop(fn)) return llvm::PreservedAnalyses::all();
    return llvm::VectorCombinePass().run(fn, fam);
  }
  static bool has_vectorised_loop(llvm::Function& fn) {
    for (llvm::BasicBlock& bb : fn) {
      llvm::MDNode* loop = bb.getTerminator() != nullptr ? bb.getTerminator()->getMetadata(llvm::LLVMContext::MD_loop)
                                                          : nullptr;
      if (loop != nullptr && llvm::findOptionMDForLoopID(loop, "llvm.loop.isvectorized") != nullptr) return true;
    }
    return false;
  }
};
constexpr const char* kCombineVectorisedLoopsPassName = "skiff-combine-vectorised-loops";

// Function passes suited to wasm, instead of the whole -O2 module pipeline:
// mem2reg turns our slot allocas into SSA (each is a scalar of one type,
// only loaded and stored: SROA did the same in twice the time, 22 % of
// optimisation), then cleanup, loop-invariant code
// motion and GVN. Then innermost loops proven in bounds get a copy with
// plain memory accesses (bounds_versioning.cpp), which the loop vectoriser
// may vectorise; every other loop keeps volatile accesses, which it leaves
// alone. No inliner or unroller: on fib, nbody and sha256 the -O2 pipeline
// cost ~0.4 s more per run (optimisation and the larger code it hands to
// codegen) without making the code faster.
constexpr const char* kWasmPipeline =
    "function(mem2reg,early-cse<memssa>,simplifycfg,instcombine<no-verify-fixpoint>,loop(loop-rotate),"
    "loop-mssa(licm),gvn,instcombine<no-verify-fixpoint>,simplifycfg,loop-simplify,skiff-bounds-versioning,loop-vectorize,"
    "skiff-combine-vectorised-loops,instcombine<no-verify-fixpoint>,simplifycfg)";

void optimize(llvm::Module& mod, llvm::TargetMachine& tm, std::atomic<uint32_t>& versioned_loops) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // LLVM's instrumentation (-time-passes, -print-after...) only when asked
  // for through $SKIFF_LLVM_OPTIONS: its callbacks cost time on every pass.
  llvm::PassInstrumentationCallbacks callbacks;
  std::optional<llvm::StandardInstrumentations> instrumentations;
  if (std::getenv("SKIFF_LLVM_OPTIONS") != nullptr) {
    instrumentations.emplace(mod.getContext(), false);
    instrumentations->registerCallbacks(callbacks, &mam);
  }
  llvm::PassBuilder pb(&tm, llvm::PipelineTuningOptions(), std::nullopt, &callbacks);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.registerPipelineParsingCallback([&](llvm::StringRef name, llvm::FunctionPassManager& fpm,
                                         llvm::ArrayRef<llvm::PassBuilder::PipelineElement>) {
    if (name == kCombineVectorisedLoopsPassName) {
      fpm.addPass(CombineVectorisedLoopsPass());
      return true;
    }
    if (name != kBoundsVersioningPassName) return false;
    fpm.addPass(BoundsVersioningPass({kInstanceMemories, kMemorySize}, &versioned_loops));
    return true;
  });

  llvm::ModulePassManager mpm;
  if (const char* text = std::getenv("SKIFF_LLVM_PIPELINE"); text != nullptr && *text != 0) {
    if (auto err = pb.parsePassPipeline(mpm, text)) {
      llvm::errs() << "bad SKIFF_LLVM_PIPELINE: " << err << "\n";
      mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2);
    }
  } else if (auto err = pb.parsePassPipeline(mpm, kWasmPipeline)) {
    llvm::consumeError(std::move(err));  // cannot happen: the text is fixed and tested
    mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2);
  }
  mpm.run(mod, mam);
}

// $SKIFF_LLVM_TIMING=1 prints the time of each compile phase to stderr.
struct PhaseTimer {
  bool on = std::getenv("SKIFF_LLVM_TIMING") != nullptr;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  void lap(const char* phase) {
    if (!on) return;
    auto now = std::chrono::steady_clock::now();
    std::fprintf(stderr, "skiff-llvm: %-10s %8.1f ms\n", phase,
                 std::chrono::duration<double, std::milli>(now - last).count());
    last = now;
  }
};

// Functions are split into partitions, each an LLVM module of its own (own
// context) that a worker thread builds, optimises and compiles to an
// object. Bodies go to the lightest partition, largest first. Small batches
// stay in one partition (threads would cost more than they save); large
// ones get several partitions per thread, so progress moves steadily.
constexpr size_t kMinPartitionBytes = 8 * 1024;
constexpr size_t kTargetPartitionBytes = 64 * 1024;

size_t worker_count() {
  size_t count = std::max<size_t>(1, std::min<size_t>(std::thread::hardware_concurrency(), 8));
  if (const char* env = std::getenv("SKIFF_LLVM_THREADS"); env != nullptr && std::atoi(env) > 0)
    count = static_cast<size_t>(std::atoi(env));
  if (llvm::TimePassesIsEnabled) count = 1;  // LLVM's pass timers are not thread-safe
  return count;
}

std::vector<std::vector<uint32_t>> partition_functions(const wasm::Module& wasm, const std::vector<uint32_t>& funcs,
                                                       size_t workers) {
  size_t total = 0;
  std::vector<std::pair<size_t, uint32_t>> by_size;  // body bytes, function index
  for (uint32_t i : funcs) {
    const wasm::FunctionBody& body = wasm.body(i);
    size_t bytes = body.body_end - body.body_offset;
    total += bytes;
    by_size.emplace_back(bytes, i);
  }
  size_t count = std::min(workers, std::max<size_t>(1, total / kMinPartitionBytes));
  if (count > 1) count = std::max(count, std::min<size_t>(256, total / kTargetPartitionBytes));
  std::vector<std::vector<uint32_t>> parts(count);
  std::vector<size_t> load(count, 0);
  std::stable_sort(by_size.begin(), by_size.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (auto [bytes, index] : by_size) {
    size_t lightest = std::min_element(load.begin(), load.end()) - load.begin();
    load[lightest] += bytes;
    parts[lightest].push_back(index);
  }
  return parts;
}

// Builds the IR of one partition; false with `error` set on failure.
bool build_partition(const CompileRequest& request, const std::vector<bool>& in_batch,
                     const std::vector<uint32_t>& members, bool alone, llvm::Module& mod, std::string& error) {
  const wasm::Module& wasm = *request.module;
  ModuleState m(mod.getContext(), mod, wasm);
  m.funcs.assign(wasm.funcs.size(), nullptr);
  m.in_batch = in_batch;
  m.interruptible = request.interruptible;
  std::vector<llvm::Function*> entries;
  llvm::FunctionType* entry_type = llvm::FunctionType::get(m.b.getVoidTy(), {m.ptr, m.ptr}, false);
  for (uint32_t i : members) {
    // Other partitions call these by name, so only a lone partition keeps them internal.
    auto* fn = llvm::Function::Create(m.internal_type(wasm.func_type(i)),
                                      alone ? llvm::GlobalValue::InternalLinkage : llvm::GlobalValue::ExternalLinkage,
                                      ModuleState::func_name(i), mod);
    ModuleState::set_wasm_convention(fn);
    if (std::find(request.unversioned.begin(), request.unversioned.end(), i) != request.unversioned.end())
      fn->addFnAttr(kNoBoundsVersioningAttribute);
    m.funcs[i] = fn;
    auto* entry = llvm::Function::Create(entry_type, llvm::GlobalValue::ExternalLinkage, entry_name(i), mod);
    ModuleState::set_attributes(entry);
    entries.push_back(entry);
  }
  for (size_t k = 0; k < members.size(); ++k) {
    uint32_t i = members[k];
    FunctionCompiler fc(m, i);
    wasm::BodyDecoder<wasm::NoValidation, FunctionCompiler> decoder(wasm, i, fc);
    auto decoded = decoder.decode();
    if (!decoded.ok()) {
      error = "function " + std::to_string(i) + ": " + decoded.error().to_string();
      return false;
    }
    build_entry(m, i, entries[k]);
  }
  std::string verify_errors;
  llvm::raw_string_ostream verify_stream(verify_errors);
  if (llvm::verifyModule(mod, &verify_stream)) {
    error = "invalid IR: " + verify_stream.str().substr(0, 2000);
    return false;
  }
  return true;
}

// $SKIFF_LLVM_DUMP_BEFORE / _AFTER name a file for the IR before / after
// optimisation; with several partitions, partition N goes to FILE.N.
// Each compile appends (tier-up compiles many times per run).
void dump_partition(const llvm::Module& mod, const char* env) {
  const char* path = std::getenv(env);
  if (path == nullptr || *path == 0) return;
  std::string name = path;
  if (mod.getModuleIdentifier() != "wasm") name += "." + mod.getModuleIdentifier().substr(5);
  std::error_code ec;
  llvm::raw_fd_ostream out(name, ec, llvm::sys::fs::OF_Append);
  if (!ec) mod.print(out, nullptr);
}

// The host as a code generation target: its triple, CPU and every feature
// it has, as -march=native would pick. Code is position independent with
// the small code model: the engine's loader keeps it in one region and
// reaches the runtime helpers through stubs.
struct HostTarget {
  const llvm::Target* target = nullptr;
  std::string triple, cpu, features, error;
  llvm::CodeGenOptLevel level = llvm::CodeGenOptLevel::Default;

  HostTarget() {
    triple = llvm::sys::getProcessTriple();
    target = llvm::TargetRegistry::lookupTarget(triple, error);
    cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures list;
    for (const auto& [name, on] : llvm::sys::getHostCPUFeatures()) list.AddFeature(name.str(), on);
    features = list.getString();
    if (const char* env = std::getenv("SKIFF_LLVM_CPU"); env != nullptr && *env != 0) {
      cpu = env;
      features.clear();
    }
    if (const char* env = std::getenv("SKIFF_LLVM_CODEGEN"); env != nullptr && *env >= '0' && *env <= '3')
      level = static_cast<llvm::CodeGenOptLevel>(*env - '0');
  }
  std::unique_ptr<llvm::TargetMachine> machine() const {
    return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
        triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_, llvm::CodeModel::Small, level));
  }
  std::string id() const { return triple + " " + cpu + " " + features; }
};

bool compile(const CompileRequest& request, CompileOutput& output) {
  PhaseTimer timer;
  static std::once_flag init;
  std::call_once(init, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    // X86's domain reassignment (GPR code into AVX-512 mask registers)
    // changed none of bench/'s 14 modules, took 5 % of a compile, and grows
    // quadratically: 15 of 29 s on a main of 888 loops. $SKIFF_LLVM_OPTIONS
    // adds LLVM's own flags (e.g. -time-passes) for diagnosis.
    static std::string text = "skiff";
    const char* options = std::getenv("SKIFF_LLVM_OPTIONS");
    if (options == nullptr || std::strstr(options, "domain-reassignment") == nullptr)
      text += " -disable-x86-domain-reassignment";  // an option given twice is an error
    if (pad_jumps_for_host()) text += " -x86-branches-within-32B-boundaries";  // base/cpu.h
    if (options != nullptr) text += std::string(" ") + options;
    std::vector<const char*> argv;
    for (char* tok = std::strtok(text.data(), " "); tok != nullptr; tok = std::strtok(nullptr, " ")) argv.push_back(tok);
    llvm::cl::ParseCommandLineOptions(static_cast<int>(argv.size()), argv.data());
  });
  static const HostTarget host;
  if (host.target == nullptr) {
    output.error = "no LLVM target for " + host.triple + ": " + host.error;
    return false;
  }
  if (!vector_layout_ok()) {
    output.error = "unsupported std::vector layout";
    return false;
  }
  const wasm::Module& wasm = *request.module;
  std::vector<uint32_t> funcs = request.funcs;
  if (funcs.empty())
    for (uint32_t i = wasm.num_imported_funcs; i < wasm.funcs.size(); ++i) funcs.push_back(i);
  std::vector<bool> in_batch(wasm.funcs.size(), false);
  for (uint32_t i : funcs) {
    if (i < wasm.num_imported_funcs || i >= wasm.funcs.size()) {
      output.error = "function " + std::to_string(i) + " is not a defined function";
      return false;
    }
    in_batch[i] = true;
  }
  const size_t workers = worker_count();
  const std::vector<std::vector<uint32_t>> parts = partition_functions(wasm, funcs, workers);
  const llvm::DataLayout data_layout = host.machine()->createDataLayout();
  timer.lap("init");

  // Workers take partitions in order; each builds, optimises and emits one
  // object with its own context and target machine.
  std::vector<std::string> objects(parts.size());
  std::vector<std::string> errors(parts.size());
  std::atomic<size_t> next{0};
  std::atomic<uint32_t> done{0};
  std::atomic<uint32_t> versioned_loops{0};
  std::mutex progress_mutex;
  const uint32_t total = static_cast<uint32_t>(funcs.size());
  auto work = [&] {
    for (size_t p = next++; p < parts.size(); p = next++) {
      llvm::LLVMContext context;
      llvm::Module mod(parts.size() == 1 ? "wasm" : "wasm." + std::to_string(p), context);
      mod.setDataLayout(data_layout);
      mod.setTargetTriple(host.triple);
      if (!build_partition(request, in_batch, parts[p], parts.size() == 1, mod, errors[p])) continue;
      dump_partition(mod, "SKIFF_LLVM_DUMP_BEFORE");
      std::unique_ptr<llvm::TargetMachine> tm = host.machine();
      optimize(mod, *tm, versioned_loops);
      dump_partition(mod, "SKIFF_LLVM_DUMP_AFTER");
      llvm::SmallVector<char, 0> buffer;
      llvm::raw_svector_ostream stream(buffer);
      llvm::legacy::PassManager codegen;
      if (tm->addPassesToEmitFile(codegen, stream, nullptr, llvm::CodeGenFileType::ObjectFile)) {
        errors[p] = "the target cannot emit object files";
        continue;
      }
      codegen.run(mod);
      objects[p].assign(buffer.data(), buffer.size());
      uint32_t now = done += static_cast<uint32_t>(parts[p].size());
      if (request.progress != nullptr) {
        std::lock_guard lock(progress_mutex);
        request.progress(request.progress_user, now, total);
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(workers, parts.size()); ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  timer.lap("compile");
  if (timer.on) std::fprintf(stderr, "skiff-llvm: %u loops bounds-versioned\n", versioned_loops.load());
  if (llvm::TimePassesIsEnabled) llvm::reportAndResetTimings(&llvm::errs());
  for (const std::string& error : errors) {
    if (!error.empty()) {
      output.error = error;
      return false;
    }
  }
  output.objects = std::move(objects);
  output.target = host.id();
  output.versioned_loops = versioned_loops;
  return true;
}

}  // namespace

}  // namespace skiff::llvmjit

extern "C" {

[[gnu::visibility("default")]] uint32_t skiff_llvm_abi_version() { return skiff::llvmjit::kAbiVersion; }

[[gnu::visibility("default")]] bool skiff_llvm_compile(const skiff::llvmjit::CompileRequest* request,
                                                       skiff::llvmjit::CompileOutput* output) {
  return skiff::llvmjit::compile(*request, *output);
}

}  // extern "C"

// The default tier behind rt::call_guarded (src/runtime does not call a tier
// itself, so the api layer binds one here), and the unboxed call path of
// TypedFunc. llvmjit::execute runs a function's machine code when its module
// was compiled by tier 2 and hands everything else to the interpreter.
#include <algorithm>

#include "interp/interp.h"
#include "llvm/jit.h"
#include "runtime/call.h"
#include "skiff/skiff.hh"

namespace skiff::rt {

TrapKind call_guarded(Store& store, FuncInst* func, Slot* slots, Trap* trap) {
  return call_guarded(store, func, slots, trap, &llvmjit::execute);
}

}  // namespace skiff::rt

namespace skiff::detail {

TrapKind call_unboxed(rt::Store* store, rt::FuncInst* func, const uint64_t* args, uint32_t in_slots,
                      uint64_t* results, uint32_t out_slots, Trap* trap) {
  if (store == nullptr || func == nullptr) {
    *trap = Trap(TrapKind::Host, "call of a null function");
    return trap->kind;
  }
  rt::Slot* const slots = store->stack_top;
  if (slots + std::max(in_slots, out_slots) > store->value_stack_end) {
    *trap = Trap(TrapKind::StackExhausted);
    return trap->kind;
  }
  // The arguments go straight into the store's value stack, where the callee's frame begins.
  for (uint32_t i = 0; i < in_slots; ++i) slots[i] = args[i];
  TrapKind kind = rt::call_guarded(*store, func, slots, trap);
  store->stack_top = slots;
  if (kind != TrapKind::None) {
    if (trap->kind == TrapKind::None) trap->kind = kind;
    return kind;
  }
  for (uint32_t i = 0; i < out_slots; ++i) results[i] = slots[i];
  return TrapKind::None;
}

Result<void> check_func_type(const rt::FuncInst* func, const FuncType& expected) {
  if (func == nullptr || func->type == nullptr) return Error(ErrorCode::UsageError, Error::kNoOffset, "null function");
  const FuncType& actual = *func->type;
  if (actual.params != expected.params || actual.results != expected.results)
    return Error(ErrorCode::ArgumentMismatch, Error::kNoOffset,
                 "function has type " + actual.to_string() + ", not " + expected.to_string());
  return {};
}

}  // namespace skiff::detail

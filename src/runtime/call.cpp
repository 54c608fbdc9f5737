// Guarded entry into wasm: see call.h and the banner of signals.cpp.
#include "runtime/call.h"

namespace skiff::rt {

namespace {
// Native stack kept free for the host→wasm chain's own frames and a host
// function's work; a deeper chain ends in "call stack exhausted".
constexpr size_t kNativeStackMargin = 256 * 1024;
}  // namespace

std::vector<BacktraceFrame> build_backtrace(const Store& store, uint32_t from_depth) {
  std::vector<BacktraceFrame> backtrace;
  uint32_t depth = store.frame_depth < store.max_call_depth ? store.frame_depth : store.max_call_depth;
  for (uint32_t i = depth; i > from_depth; --i) {
    const FuncInst* func = store.frames[i - 1].func;
    if (func == nullptr) continue;
    BacktraceFrame frame;
    frame.func_index = func->func_index;
    if (func->kind == FuncInst::Kind::Wasm && func->instance != nullptr && func->instance->module != nullptr) {
      const wasm::Module& module = *func->instance->module;
      frame.func_name = std::string(module.func_name(func->func_index));
      frame.module_name = module.names.module;
    } else if (func->kind == FuncInst::Kind::Host) {
      frame.func_name = "<host>";
    }
    backtrace.push_back(std::move(frame));
  }
  return backtrace;
}

TrapKind call_guarded(Store& store, FuncInst* func, Slot* slots, Trap* trap, Executor run) {
  if (store.frame_depth >= store.max_call_depth || native_stack_low(kNativeStackMargin)) {
    *trap = Trap(TrapKind::StackExhausted);
    return trap->kind;
  }
  // A deadline already passed stops the call before it starts (the tiers
  // check again at function entries and loop back-edges).
  if (store.check_interrupts && store.epoch != nullptr &&
      store.epoch->load(std::memory_order_relaxed) >= store.epoch_deadline) [[unlikely]] {
    *trap = Trap(TrapKind::Interrupted);
    return trap->kind;
  }
  if (func->kind == FuncInst::Kind::Host) {
    Caller caller{&store, nullptr};
    std::optional<Trap> result;
    {
      HostCallScope scope;
      result = func->host(caller, slots);
    }
    if (!result) return TrapKind::None;
    *trap = std::move(*result);
    if (trap->kind == TrapKind::None) trap->kind = TrapKind::Host;
    return trap->kind;
  }

  return run_in_activation(store, func, slots, trap, run);
}

TrapKind run_in_activation(Store& store, FuncInst* func, Slot* slots, Trap* trap, Executor run) {
  ensure_fault_handling();
  Activation activation;
  activation.prev = current_activation();
  const uint32_t saved_depth = store.frame_depth;
  Slot* const saved_top = store.stack_top;
  if (sigsetjmp(activation.jump, 0) == 0) {
    set_current_activation(&activation);
    TrapKind kind = run(store, func, slots, trap);
    set_current_activation(activation.prev);
    if (kind != TrapKind::None) {
      store.frame_depth = saved_depth;
      store.stack_top = saved_top;
    }
    return kind;
  }
  // Reached from the fault handler: a wasm access hit a guard page.
  set_current_activation(activation.prev);
  *trap = Trap(TrapKind::MemoryOutOfBounds);
  trap->backtrace = build_backtrace(store, saved_depth);
  store.frame_depth = saved_depth;
  store.stack_top = saved_top;
  return trap->kind;
}

}  // namespace skiff::rt

// Entering wasm from the host: the guarded call that turns guard-page
// faults into traps and bounds native recursion.
#pragma once
#include "runtime/objects.h"
#include "runtime/runtime.h"
#include "runtime/signals.h"

namespace skiff::rt {

// Runs `func` with `run` inside an activation: arguments in slots[0..],
// results written to slots[0..] (slots at or above store.stack_top). A fault
// on a memory's guard pages becomes TrapKind::MemoryOutOfBounds with a
// backtrace from store.frames. On any trap frame_depth and stack_top are
// restored. Host functions are called directly (no tier involved).
TrapKind call_guarded(Store& store, FuncInst* func, Slot* slots, Trap* trap, Executor run);

// The activation part of call_guarded alone, for wasm code running inside
// another activation (machine code calling an interpreted function): a
// guard-page fault in it becomes MemoryOutOfBounds with the backtrace of
// the frames it pushed, not a jump to the outer activation.
TrapKind run_in_activation(Store& store, FuncInst* func, Slot* slots, Trap* trap, Executor run);

// The same with the default tier (interp::execute); defined in src/api.
TrapKind call_guarded(Store& store, FuncInst* func, Slot* slots, Trap* trap);

// Frames [from_depth, store.frame_depth) as a backtrace, innermost first.
std::vector<BacktraceFrame> build_backtrace(const Store& store, uint32_t from_depth);

// Suspends the thread's activation while host code runs, so a fault in host
// code is never mistaken for a wasm access (and skips no host destructors).
class HostCallScope {
 public:
  HostCallScope() : saved_(current_activation()) { set_current_activation(nullptr); }
  ~HostCallScope() { set_current_activation(saved_); }
  HostCallScope(const HostCallScope&) = delete;
  HostCallScope& operator=(const HostCallScope&) = delete;

 private:
  Activation* saved_;
};

}  // namespace skiff::rt

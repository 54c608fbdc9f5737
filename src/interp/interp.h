// Tier 0: the dispatch loop.
#pragma once
#include "runtime/objects.h"

namespace skiff::rt {
// The interpreter consumes fuel (one unit per function entry and loop
// iteration) and checks the epoch deadline when store.check_interrupts is set.
inline constexpr bool kInterpreterChecksInterrupts = true;
}  // namespace skiff::rt

namespace skiff::interp {

// Runs `func` (wasm or host) in `store`. Arguments are in slots[0..]
// (`slots` must be store.stack_top or above, inside the value stack);
// results are written to slots[0..]. Returns TrapKind::None, or fills `trap`
// (kind, message, backtrace) and returns its kind.
//
// Memory accesses beyond a memory's size fault on guard pages; the caller
// (rt::call_guarded) turns that fault into a trap, so execute() must keep
// store.frames and store.frame_depth up to date at every call and return.
TrapKind execute(rt::Store& store, rt::FuncInst* func, rt::Slot* slots, rt::Trap* trap);

}  // namespace skiff::interp

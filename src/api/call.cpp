// The default tier behind rt::call_guarded: src/runtime does not call a tier
// itself, so the api layer binds the interpreter here.
#include "interp/interp.h"
#include "runtime/call.h"

namespace skiff::rt {

TrapKind call_guarded(Store& store, FuncInst* func, Slot* slots, Trap* trap) {
  return call_guarded(store, func, slots, trap, &interp::execute);
}

}  // namespace skiff::rt

// Tier 0: the dispatch loop.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

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

// ---- tier-up (Tier::Auto, src/llvm/tierup.cpp) ----------------------------------

// From now on every call of defined function `defined_index` that reaches
// the interpreter runs the function's machine code (its native_entry, which
// must be set) through module.native_executor, in the frame the call set up.
// Frames already running its tier-0 code stay there, unless one of their
// loops moves them to machine code (HotCount below). Thread-safe; no effect
// without native code.
void use_native_code(const rt::CompiledModule& module, uint32_t defined_index);

// Tier-up: sets the weight (HotCount below) of the header of each loop in
// `weights` (the offset of its `loop` instruction, its new weight) in the
// tier-0 code of defined function `defined_index`, and returns the weights
// they had; none when the function was never lowered. Thread-safe.
using LoopWeights = std::vector<std::pair<uint32_t, uint64_t>>;
std::optional<LoopWeights> set_loop_header_weights(const rt::CompiledModule& module, uint32_t defined_index,
                                                   const LoopWeights& weights);

// Instructions that exist only in code lowered for a module that tiers up
// (CompiledModule::tier_up set), so they are not IOps and cost the plain
// interpreter nothing:
//   HotCount [CompiledFunc*] [weight] [loop]
//                at every loop header (loop = the `loop` instruction's
//                byte offset), and as HotCountEntry at function entry
//                (loop = kFunctionEntry; it also counts the call):
//                takes `weight` (the size of the code entered, in words)
//                off the function's hotness countdown; at zero the
//                module's tier_up hears of it. At a loop header it may
//                answer with machine code for the rest of the frame
//                (on-stack replacement): that code takes the frame's
//                locals and then its operand stack as arguments, in slot
//                order (at a loop header every value is in its home slot,
//                so they already are in place), and returns the function's
//                results.
//   EnterNative  the whole code of a function that has machine code (see
//                use_native_code).
enum class TierUpOp { HotCount, HotCountEntry, EnterNative };
inline constexpr size_t kTierUpOpWords[] = {4, 4, 1};
inline constexpr uint64_t kFunctionEntry = UINT64_MAX;
uint64_t tier_up_handler(TierUpOp op);

}  // namespace skiff::interp

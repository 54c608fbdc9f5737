// Lowering: one pass of the shared BodyDecoder over a validated body, with an
// interface that writes tier-0 code (code.h) instead of only checking types.
#pragma once
#include "runtime/objects.h"
#include "skiff/result.h"

namespace skiff::interp {

// Fills `out` (code, slot counts) for defined function `defined_index`.
// With `count_hotness` (Tier::Auto) the code counts `out`'s hotness.
Result<void> lower_function(const wasm::Module& module, uint32_t defined_index, rt::CompiledFunc& out,
                            bool count_hotness = false);

// Lowers on first use; safe to call from several threads.
Result<void> ensure_lowered(const rt::CompiledModule& module, uint32_t defined_index);

}  // namespace skiff::interp

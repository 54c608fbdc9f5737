// Tier 2's on-disk cache, used by Module::compile (src/api/aot.cpp).
#pragma once
#include "runtime/objects.h"
#include "skiff/skiff.hh"

namespace skiff::detail {

// Installs machine code for every function of `compiled` from the engine's
// cache; false when there is no cache, no entry, or an unusable one.
bool install_cached(const Engine& engine, rt::CompiledModule& compiled);

// Machine code for every function: from the cache, else compiled now (and
// then written to the cache).
Result<void> compile_all(const Engine& engine, rt::CompiledModule& compiled);

}  // namespace skiff::detail

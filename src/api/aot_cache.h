// Tier 2's on-disk cache, used by Module::compile, and the decoding both
// Module::compile and Module::deserialize start with (src/api/aot.cpp).
#pragma once
#include "llvm/tierup.h"
#include "runtime/objects.h"
#include "skiff/skiff.hh"

namespace skiff::detail {

// Decoded and validated, ready for a tier (Module::compile, deserialize).
Result<std::shared_ptr<rt::CompiledModule>> decode_and_validate(std::vector<uint8_t> bytes);

// Installs machine code for every function of `compiled` from the engine's
// cache; false when there is no cache, no entry, or an unusable one.
bool install_cached(const Engine& engine, rt::CompiledModule& compiled);

// Tier::Auto with EngineConfig::cache_hot_modules: writes a module's
// whole code to the engine's cache (TierUpCompiler::attach); null without
// a cache.
llvmjit::TierUpCompiler::WholeModuleSink cache_writer(const Engine& engine);

// Tier::Auto with a cache: each tier-up batch is written there too, with
// the module's batches before it (null without a cache or
// cache_hot_modules); a later run installs them (cached_batches).
llvmjit::TierUpCompiler::BatchSink batch_writer(const Engine& engine);
std::vector<llvmjit::TierUpBatch> cached_batches(const Engine& engine, const rt::CompiledModule& compiled);

// Machine code for every function: from the cache, else compiled now (and
// then written to the cache).
Result<void> compile_all(const Engine& engine, rt::CompiledModule& compiled);

}  // namespace skiff::detail

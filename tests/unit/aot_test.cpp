// Tier 2 ahead of time: .skc files (src/llvm/aot.h) round trip through
// Module::precompile / deserialize, and anything damaged, cut or made for
// another build or CPU is rejected before any code is loaded.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "api_builder.h"
#include "llvm/aot.h"
#include "skiff/skiff.hh"

namespace skiff {
namespace {

Engine jit_engine() { return Engine(EngineConfig{.tier = Tier::Jit}); }

std::vector<uint8_t> precompiled_plugin() {
  auto skc = Module::precompile(jit_engine(), test_wasm::plugin_module());
  EXPECT_TRUE(skc.ok()) << (skc.ok() ? "" : skc.error().to_string());
  return skc.ok() ? skc.value() : std::vector<uint8_t>{};
}

// Rewrites the trailing checksum so only the edit is wrong with the file.
void reseal(std::vector<uint8_t>& skc) {
  uint64_t sum = llvmjit::aot_checksum(std::span<const uint8_t>(skc).first(skc.size() - 8));
  std::memcpy(skc.data() + skc.size() - 8, &sum, 8);
}

std::string load_error(const std::vector<uint8_t>& skc) {
  auto module = Module::deserialize(jit_engine(), skc);
  return module.ok() ? std::string("loaded") : module.error().to_string();
}

TEST(Aot, RoundTripRunsMachineCode) {
  std::vector<uint8_t> skc = precompiled_plugin();
  ASSERT_TRUE(Module::is_precompiled(skc));
  EXPECT_FALSE(Module::is_precompiled(test_wasm::plugin_module()));
  Engine engine = jit_engine();
  auto module = Module::deserialize(engine, skc);
  ASSERT_TRUE(module.ok()) << module.error().to_string();
  const rt::CompiledModule& compiled = *module.value().raw();
  for (uint32_t i = 0; i < compiled.module->num_defined_funcs(); ++i)
    EXPECT_NE(compiled.funcs[i].native_entry.load(), nullptr) << "function " << i;
  Store store(engine);
  Linker linker(engine);
  linker.func_wrap("env", "log", [](Caller&, int32_t, int32_t) -> Result<void, Trap> { return {}; });
  auto inst = linker.instantiate(store, module.value());
  ASSERT_TRUE(inst.ok()) << inst.error().to_string();
  EXPECT_EQ(inst.value().func("add")->call({Val::make_i32(40), Val::make_i32(2)}).value()[0].of.i32, 42);
  auto trap = inst.value().func("div")->call({Val::make_i32(1), Val::make_i32(0)});
  ASSERT_FALSE(trap.ok());
  EXPECT_EQ(trap.error().kind, TrapKind::IntDivideByZero);
}

TEST(Aot, InvalidWasmIsRejectedAtPrecompile) {
  std::vector<uint8_t> bytes = test_wasm::plugin_module();
  bytes[4] = 2;  // version 2
  auto skc = Module::precompile(jit_engine(), bytes);
  ASSERT_FALSE(skc.ok());
  EXPECT_EQ(skc.error().phase(), Phase::Decode);
}

TEST(Aot, AnotherBuildIsRejected) {
  std::vector<uint8_t> skc = precompiled_plugin();
  std::string text(skc.begin(), skc.end());
  size_t at = text.find("skiff ");
  ASSERT_NE(at, std::string::npos);
  skc[at + 6] = '9';  // "skiff 9.x": another version
  reseal(skc);
  EXPECT_NE(load_error(skc).find("compiled by another Skiff build"), std::string::npos) << load_error(skc);
}

TEST(Aot, AnotherCpuIsRejected) {
  std::vector<uint8_t> skc = precompiled_plugin();
  // The feature words follow the engine id and target strings.
  size_t pos = 8 + 4;
  for (int field = 0; field < 2; ++field) {
    uint64_t n;
    std::memcpy(&n, skc.data() + pos, 8);
    pos += 8 + n;
  }
  uint64_t feature_bytes;
  std::memcpy(&feature_bytes, skc.data() + pos, 8);
  ASSERT_GT(feature_bytes, 0u);
  std::memset(skc.data() + pos + 8, 0xff, feature_bytes);  // every feature there is
  reseal(skc);
  EXPECT_NE(load_error(skc).find("features this one lacks"), std::string::npos) << load_error(skc);
}

TEST(Aot, DamageAndTruncationAreRejected) {
  const std::vector<uint8_t> skc = precompiled_plugin();
  ASSERT_GT(skc.size(), 64u);
  size_t step = std::max<size_t>(1, skc.size() / 500);
  for (size_t at = 0; at < skc.size(); at += step) {
    std::vector<uint8_t> damaged = skc;
    damaged[at] ^= 0x40;
    EXPECT_NE(load_error(damaged), "loaded") << "flipped byte " << at;
    std::vector<uint8_t> cut(skc.begin(), skc.begin() + static_cast<ptrdiff_t>(at));
    EXPECT_NE(load_error(cut), "loaded") << "cut at " << at;
  }
}

TEST(Aot, CacheServesTheSecondCompile) {
  std::string dir = ::testing::TempDir() + "skiff-aot-cache-" + std::to_string(::getpid());
  EngineConfig config{.tier = Tier::Jit};
  config.cache_dir = dir;
  Engine engine(config);
  uint32_t progress_calls = 0;
  auto first = Module::compile(engine, test_wasm::plugin_module());
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  // A second engine with a progress callback: a cache hit compiles nothing.
  config.compile_progress = [&](uint32_t, uint32_t) { ++progress_calls; };
  auto second = Module::compile(Engine(config), test_wasm::plugin_module());
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(progress_calls, 0u);
  EXPECT_NE(second.value().raw()->funcs[0].native_entry.load(), nullptr);
  // Without the cache the compile reports progress.
  config.cache_dir.clear();
  auto third = Module::compile(Engine(config), test_wasm::plugin_module());
  ASSERT_TRUE(third.ok());
  EXPECT_GT(progress_calls, 0u);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace skiff

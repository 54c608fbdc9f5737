// Tier 1 (src/baseline): the single-pass compiler, through Tier::Baseline and
// the public API — results, traps with backtraces, guard-page faults,
// functions it leaves to the interpreter, calls both ways, fuel.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>
#include <string>

#include "api_builder.h"
#include "compiled_checks.h"
#include "baseline/baseline.h"
#include "llvm/jit.h"
#include "runtime/objects.h"
#include "skiff/skiff.hh"

namespace skiff {
namespace {

using namespace test_wasm::op;
using test_wasm::Bytes;
using test_wasm::kI32;
using test_wasm::ModuleBuilder;
using test_wasm::seq;

Engine baseline_engine() { return Engine(EngineConfig{.tier = Tier::Baseline}); }

using test_compiled::has_machine_code;

struct BaselineHost {
  Engine engine = baseline_engine();
  Store store{engine};
  Linker linker{engine};

  Instance load(const Bytes& bytes) {
    linker.func_wrap("env", "log", [](Caller&, int32_t, int32_t) {});
    auto module = Module::compile(engine, bytes);
    EXPECT_TRUE(module.ok()) << (module.ok() ? "" : module.error().to_string());
    auto inst = linker.instantiate(store, module.value());
    EXPECT_TRUE(inst.ok()) << (inst.ok() ? "" : inst.error().to_string());
    return inst.value();
  }
};

TEST(Baseline, CompilesAndComputes) {
  if (!baseline::host_supported()) GTEST_SKIP() << "no SSE4.1/POPCNT/LZCNT/BMI1";
  BaselineHost host;
  Instance inst = host.load(test_wasm::plugin_module());
  test_compiled::expect_plugin_computes(inst);
}

TEST(Baseline, TrapsNameTheFunction) {
  if (!baseline::host_supported()) GTEST_SKIP() << "no SSE4.1/POPCNT/LZCNT/BMI1";
  BaselineHost host;
  Instance inst = host.load(test_wasm::plugin_module());
  test_compiled::expect_plugin_traps(inst);
}

TEST(Baseline, GuardPageFaultTraps) {
  if (!baseline::host_supported()) GTEST_SKIP() << "no SSE4.1/POPCNT/LZCNT/BMI1";
  ModuleBuilder m;
  uint32_t t_i_i = m.type({kI32}, {kI32});
  m.memory(1);
  m.export_func("load", m.func(t_i_i, seq({local_get(0), i32_load()})));
  BaselineHost host;
  Instance inst = host.load(m.build());
  EXPECT_TRUE(has_machine_code(inst, "load"));
  EXPECT_EQ(inst.func("load")->call({Val::make_i32(65532)}).value()[0].of.i32, 0);
  auto r = inst.func("load")->call({Val::make_i32(65533)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::MemoryOutOfBounds);
  ASSERT_FALSE(r.error().backtrace.empty());
}

// Adds an interpreted callee(x, a, b, c, d, e, g) with `body` (seven
// integer parameters: tier 1 leaves it out) and a compiled caller(x) =
// callee(x, 0, ..., 0) + 10; returns their indices.
std::pair<uint32_t, uint32_t> interpreted_callee(ModuleBuilder& m, Bytes body) {
  uint32_t t_i_i = m.type({kI32}, {kI32});
  uint32_t t_7i_i = m.type({kI32, kI32, kI32, kI32, kI32, kI32, kI32}, {kI32});
  uint32_t callee = m.func(t_7i_i, std::move(body));
  uint32_t caller = m.func(t_i_i, seq({local_get(0), i32_const(0), i32_const(0), i32_const(0), i32_const(0),
                                       i32_const(0), i32_const(0), call(callee), i32_const(10), i32_add}));
  return {callee, caller};
}

// A function tier 1 does not compile (seven integer parameters: the
// convention passes six in registers) stays interpreted; compiled and
// interpreted functions call each other.
TEST(Baseline, LeavesOutWhatItDoesNotSupport) {
  if (!baseline::host_supported()) GTEST_SKIP() << "no SSE4.1/POPCNT/LZCNT/BMI1";
  ModuleBuilder m;
  // (x + 1) / (x + 1) + x + g: divides by zero for x = -1.
  auto [interpreted, compiled] =
      interpreted_callee(m, seq({local_get(0), i32_const(1), i32_add, local_get(0), i32_const(1), i32_add, i32_div_s,
                                 local_get(0), i32_add, local_get(6), i32_add}));
  m.export_func("interpreted", interpreted);
  m.export_func("compiled", compiled);
  const baseline::Stats before = baseline::stats();
  BaselineHost host;
  Instance inst = host.load(m.build());
  EXPECT_EQ(baseline::stats().compiled - before.compiled, 1u);
  EXPECT_EQ(baseline::stats().left_out - before.left_out, 1u);
  EXPECT_FALSE(has_machine_code(inst, "interpreted"));
  EXPECT_TRUE(has_machine_code(inst, "compiled"));
  EXPECT_EQ(inst.func("compiled")->call({Val::make_i32(5)}).value()[0].of.i32, 16);  // 1 + 5 + 10
  // A trap in the interpreted callee: its frame, then the compiled caller's.
  auto r = inst.func("compiled")->call({Val::make_i32(-1)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::IntDivideByZero);
  ASSERT_EQ(r.error().backtrace.size(), 2u);
  EXPECT_EQ(r.error().backtrace[0].func_index, interpreted);
  EXPECT_EQ(r.error().backtrace[1].func_index, compiled);
}

// A guard-page fault in an interpreted function called from machine code:
// the interpreted frame, then the compiled caller (the fault used to jump
// straight to the outer entry, leaving no frames).
TEST(Baseline, AFaultInAnInterpretedCalleeKeepsEveryFrame) {
  if (!baseline::host_supported()) GTEST_SKIP() << "no SSE4.1/POPCNT/LZCNT/BMI1";
  ModuleBuilder m;
  m.memory(1);
  auto [interpreted, compiled] = interpreted_callee(m, seq({local_get(0), i32_load()}));
  m.export_func("compiled", compiled);
  BaselineHost host;
  Instance inst = host.load(m.build());
  ASSERT_TRUE(has_machine_code(inst, "compiled"));
  auto r = inst.func("compiled")->call({Val::make_i32(-1)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::MemoryOutOfBounds);
  ASSERT_EQ(r.error().backtrace.size(), 2u);
  EXPECT_EQ(r.error().backtrace[0].func_index, interpreted);
  EXPECT_EQ(r.error().backtrace[1].func_index, compiled);
  EXPECT_EQ(inst.func("compiled")->call({Val::make_i32(0)}).value()[0].of.i32, 10);
}

// Frames of 400 KB (50,000 locals, the most a function may declare): the prologue checks the frame's lowest address, so deep
// recursion traps before a frame reaches past the stack's guard margin.
TEST(Baseline, LargeFramesTrapBeforeTheStackEnds) {
  if (!baseline::host_supported()) GTEST_SKIP() << "no SSE4.1/POPCNT/LZCNT/BMI1";
  ModuleBuilder m;
  uint32_t t_v_v = m.type({}, {});
  uint32_t self = m.func(t_v_v, call(0), {{50000, test_wasm::kI64}});
  m.export_func("recurse", self);
  BaselineHost host;
  Instance inst = host.load(m.build());
  ASSERT_TRUE(has_machine_code(inst, "recurse"));
  auto r = inst.func("recurse")->call({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::StackExhausted);
}

TEST(Baseline, FuelStopsAnEndlessLoop) {
  if (!baseline::host_supported()) GTEST_SKIP() << "no SSE4.1/POPCNT/LZCNT/BMI1";
  ModuleBuilder m;
  uint32_t t_v_v = m.type({}, {});
  m.export_func("spin", m.func(t_v_v, seq({loop_void, br(0), end})));
  BaselineHost host;
  Instance inst = host.load(m.build());
  EXPECT_TRUE(has_machine_code(inst, "spin"));
  host.store.set_fuel(1000);
  auto r = inst.func("spin")->call({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::OutOfFuel);
}

}  // namespace
}  // namespace skiff


namespace skiff {
namespace {

// Calls between tier 1's and tier 2's code in both directions, through
// every way the convention passes values: i32, i64, f32, f64 and v128
// parameters, two results in registers of both classes, four through
// memory. Each caller folds what it got into an i32, compared with the
// interpreter's.
Bytes convention_module() {
  ModuleBuilder m;
  const uint8_t kV128 = 0x7b;
  uint32_t t_a = m.type({kI32, test_wasm::kF32, test_wasm::kI64, test_wasm::kF64}, {test_wasm::kF64, kI32});
  uint32_t t_b = m.type({kV128, kI32}, {kV128});
  uint32_t t_c = m.type({kI32}, {kI32, test_wasm::kI64, test_wasm::kF32, test_wasm::kF64});
  uint32_t t_i_i = m.type({kI32}, {kI32});
  auto f32_const = [](float v) { Bytes b{0x43}; uint32_t bits; std::memcpy(&bits, &v, 4); for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(bits >> (8 * i))); return b; };
  auto f64_const = [](double v) { Bytes b{0x44}; uint64_t bits; std::memcpy(&bits, &v, 8); for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(bits >> (8 * i))); return b; };
  const Bytes f64_add{0xa0}, f64_promote{0xbb}, i32_wrap{0xa7}, i64_reinterpret_f64{0xbd}, i32_reinterpret_f32{0xbc},
      i32_xor{0x73}, i64_extend_s{0xac}, i64_const_2{0x42, 0x02}, i64_mul{0x7e}, f32_convert_s{0xb2},
      f64_convert_s{0xb7}, i32x4_splat{0xfd, 0x11}, i32x4_add{0xfd, 0xae, 0x01}, i32x4_extract_2{0xfd, 0x1b, 0x02};
  Bytes v128_const{0xfd, 0x0c};
  for (uint32_t lane : {1u, 2u, 3u, 4u})
    for (int i = 0; i < 4; ++i) v128_const.push_back(static_cast<uint8_t>(lane >> (8 * i)));
  // a(x, y, z, w) = (w + promote(y), x + wrap(z))
  m.export_func("a", m.func(t_a, seq({local_get(3), local_get(1), f64_promote, f64_add, local_get(0), local_get(2),
                                      i32_wrap, i32_add})));
  // b(v, x) = v + splat(x)
  m.export_func("b", m.func(t_b, seq({local_get(0), local_get(1), i32x4_splat, i32x4_add})));
  // c(x) = (x, 2x, f32(x), f64(x))
  m.export_func("c", m.func(t_c, seq({local_get(0), local_get(0), i64_extend_s, i64_const_2, i64_mul, local_get(0),
                                      f32_convert_s, local_get(0), f64_convert_s})));
  // call_a(x): (d, i) = a(x, 1.5, x, 2.25); wrap(bits(d)) ^ i
  m.export_func("call_a", m.func(t_i_i, seq({local_get(0), f32_const(1.5f), local_get(0), i64_extend_s,
                                             f64_const(2.25), call(0), local_set(1), i64_reinterpret_f64, i32_wrap,
                                             local_get(1), i32_xor}),
                                 {{1, kI32}}));
  // call_b(x) = lane 2 of b([1, 2, 3, 4], x)
  m.export_func("call_b", m.func(t_i_i, seq({v128_const, local_get(0), call(1), i32x4_extract_2})));
  // call_c(x): (i, l, f, d) = c(x); i + wrap(l) + bits(f) + wrap(bits(d))
  m.export_func("call_c", m.func(t_i_i, seq({local_get(0), call(2), i64_reinterpret_f64, i32_wrap, local_set(1),
                                             i32_reinterpret_f32, local_get(1), i32_add, local_set(1), i32_wrap,
                                             local_get(1), i32_add, i32_add}),
                                 {{1, kI32}}));
  return m.build();
}

TEST(Baseline, CallsBetweenTier1AndTier2) {
  if (!baseline::host_supported()) GTEST_SKIP() << "no SSE4.1/POPCNT/LZCNT/BMI1";
  const Bytes bytes = convention_module();
  Engine interp_engine;
  Module reference = Module::compile(interp_engine, bytes).value();
  Store reference_store(interp_engine);
  Instance expected = Linker(interp_engine).instantiate(reference_store, reference).value();
  const std::vector<uint32_t> leaves = {0, 1, 2}, callers = {3, 4, 5};
  for (bool tier1_calls : {true, false}) {
    Module module = Module::compile(interp_engine, bytes).value();
    auto& compiled = const_cast<rt::CompiledModule&>(*module.raw());
    compiled.native_executor = &llvmjit::execute;
    auto tier2 = llvmjit::compile(*compiled.module, tier1_calls ? leaves : callers, {});
    ASSERT_TRUE(tier2.ok()) << tier2.error().to_string();
    ASSERT_TRUE(llvmjit::install(compiled, tier2.value()).ok());
    auto tier1 = baseline::compile(*compiled.module, tier1_calls ? callers : leaves, {});
    ASSERT_TRUE(tier1.ok());
    ASSERT_EQ(tier1.value().functions.size(), 3u);
    ASSERT_TRUE(llvmjit::install(compiled, tier1.value().code).ok());
    Store store(interp_engine);
    Instance inst = Linker(interp_engine).instantiate(store, module).value();
    for (const char* name : {"call_a", "call_b", "call_c"})
      for (int32_t x : {0, 7, -3, 123456789}) {
        auto want = expected.func(name)->call({Val::make_i32(x)});
        auto got = inst.func(name)->call({Val::make_i32(x)});
        ASSERT_TRUE(got.ok()) << name;
        EXPECT_EQ(got.value()[0].of.i32, want.value()[0].of.i32) << name << "(" << x << "), tier 1 calls: " << tier1_calls;
      }
  }
}

}  // namespace
}  // namespace skiff

// Tier 1 (src/baseline): the single-pass compiler, through Tier::Baseline and
// the public API — results, traps with backtraces, guard-page faults,
// functions it leaves to the interpreter, calls both ways, fuel.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "api_builder.h"
#include "baseline/baseline.h"
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

bool has_machine_code(const Instance& inst, const char* name) {
  const rt::FuncInst* f = inst.raw()->funcs[inst.raw()->module->find_export(name)->index];
  return f->compiled != nullptr && f->compiled->native_entry.load() != nullptr;
}

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
  EXPECT_TRUE(has_machine_code(inst, "add"));
  EXPECT_EQ(inst.func("add")->call({Val::make_i32(40), Val::make_i32(2)}).value()[0].of.i32, 42);
  EXPECT_EQ(inst.func("div")->call({Val::make_i32(-9), Val::make_i32(2)}).value()[0].of.i32, -4);
  EXPECT_EQ(inst.func("count")->call({Val::make_i32(1000)}).value()[0].of.i32, 1000);
  EXPECT_EQ(inst.func("depth")->call({Val::make_i32(500)}).value()[0].of.i32, 500);
}

TEST(Baseline, TrapsNameTheFunction) {
  if (!baseline::host_supported()) GTEST_SKIP() << "no SSE4.1/POPCNT/LZCNT/BMI1";
  BaselineHost host;
  Instance inst = host.load(test_wasm::plugin_module());
  auto div = inst.func("div")->call({Val::make_i32(1), Val::make_i32(0)});
  ASSERT_FALSE(div.ok());
  EXPECT_EQ(div.error().kind, TrapKind::IntDivideByZero);
  ASSERT_FALSE(div.error().backtrace.empty());
  EXPECT_EQ(div.error().backtrace[0].func_index, inst.raw()->module->find_export("div")->index);
  auto overflow = inst.func("div")->call({Val::make_i32(INT32_MIN), Val::make_i32(-1)});
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.error().kind, TrapKind::IntOverflow);
  auto recurse = inst.func("recurse")->call({});
  ASSERT_FALSE(recurse.ok());
  EXPECT_EQ(recurse.error().kind, TrapKind::StackExhausted);
  EXPECT_GT(recurse.error().backtrace.size(), 100u);
  EXPECT_EQ(inst.func("add")->call({Val::make_i32(1), Val::make_i32(2)}).value()[0].of.i32, 3);
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

// A function using what tier 1 does not compile yet (table.copy) stays
// interpreted; compiled and interpreted functions call each other.
TEST(Baseline, LeavesOutWhatItDoesNotSupport) {
  if (!baseline::host_supported()) GTEST_SKIP() << "no SSE4.1/POPCNT/LZCNT/BMI1";
  ModuleBuilder m;
  uint32_t t_i_i = m.type({kI32}, {kI32});
  m.table(4);
  const Bytes table_copy{0xfc, 0x0e, 0x00, 0x00};
  // (x + 1) / (x + 1) + x: divides by zero for x = -1.
  uint32_t interpreted = m.func(t_i_i, seq({i32_const(0), i32_const(1), i32_const(2), table_copy, local_get(0),
                                            i32_const(1), i32_add, local_get(0), i32_const(1), i32_add, i32_div_s,
                                            local_get(0), i32_add}));
  uint32_t compiled = m.func(t_i_i, seq({local_get(0), call(interpreted), i32_const(10), i32_add}));
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
  uint32_t t_i_i = m.type({kI32}, {kI32});
  m.table(4);
  m.memory(1);
  const Bytes table_copy{0xfc, 0x0e, 0x00, 0x00};
  uint32_t interpreted =
      m.func(t_i_i, seq({i32_const(0), i32_const(1), i32_const(2), table_copy, local_get(0), i32_load()}));
  uint32_t compiled = m.func(t_i_i, seq({local_get(0), call(interpreted), i32_const(10), i32_add}));
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


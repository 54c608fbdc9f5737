// Tier 2 (src/llvm): functions compiled with LLVM and called through the
// public API — results, traps with backtraces, calls between compiled
// functions, host imports, and mixing with interpreted modules.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "api_builder.h"
#include "compiled_checks.h"
#include "llvm/jit.h"
#include "runtime/objects.h"
#include "skiff/skiff.hh"

namespace skiff {
namespace {

using namespace test_wasm::op;
using test_wasm::Bytes;
using test_wasm::kI32;
using test_wasm::kI64;
using test_wasm::ModuleBuilder;
using test_wasm::seq;

Engine jit_engine() { return Engine(EngineConfig{.tier = Tier::Jit}); }

// A plug-in host on the JIT tier; env.log appends what it reads.
struct JitHost {
  Engine engine = jit_engine();
  Store store{engine};
  Linker linker{engine};
  std::vector<std::string> logged;

  Instance load(const Bytes& bytes) {
    linker.func_wrap("env", "log", [this](Caller& caller, int32_t ptr, int32_t len) -> Result<void, Trap> {
      auto text = caller.memory().string(static_cast<uint32_t>(ptr), static_cast<uint32_t>(len));
      if (!text) return text.error();
      logged.emplace_back(*text);
      return {};
    });
    auto module = Module::compile(engine, bytes);
    EXPECT_TRUE(module.ok()) << (module.ok() ? "" : module.error().to_string());
    auto inst = linker.instantiate(store, module.value());
    EXPECT_TRUE(inst.ok()) << (inst.ok() ? "" : inst.error().to_string());
    return inst.value();
  }
};

using test_compiled::has_machine_code;

// Machine code reads a table's elements through its std::vector's begin
// pointer (abi.h's kTableElemsBegin), and its size from its type's minimum
// (kTableSize), which grow keeps equal to the size.
TEST(LlvmJit, VectorLayout) {
  rt::TableInst table;
  table.elems.assign(5, 0);
  table.elems.reserve(9);
  const auto* words = reinterpret_cast<const rt::Ref* const*>(&table.elems);
  EXPECT_EQ(words[0], table.elems.data());
  EXPECT_EQ(words[1], table.elems.data() + 5);
  table.type.limits.min = 5;
  ASSERT_EQ(table.grow(3, 0), 5);
  EXPECT_EQ(table.type.limits.min, 8u);
  EXPECT_EQ(table.elems.size(), 8u);
}

TEST(LlvmJit, CompilesEveryFunctionAndComputes) {
  JitHost host;
  Instance inst = host.load(test_wasm::plugin_module());
  EXPECT_TRUE(llvmjit::library_loaded());
  test_compiled::expect_plugin_computes(inst);
}

TEST(LlvmJit, TrapsNameTheFunction) {
  JitHost host;
  Instance inst = host.load(test_wasm::plugin_module());
  test_compiled::expect_plugin_traps(inst);
}

TEST(LlvmJit, GuardPageFaultInMachineCodeTraps) {
  ModuleBuilder m;
  uint32_t t_i_i = m.type({kI32}, {kI32});
  m.memory(1);
  m.export_func("load", m.func(t_i_i, seq({local_get(0), i32_load()})));
  m.export_func("load_dropped", m.func(t_i_i, seq({local_get(0), i32_load(), drop, i32_const(7)})));
  JitHost host;
  Instance inst = host.load(m.build());
  EXPECT_EQ(inst.func("load")->call({Val::make_i32(65532)}).value()[0].of.i32, 0);
  for (const char* name : {"load", "load_dropped"}) {
    auto r = inst.func(name)->call({Val::make_i32(65533)});
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().kind, TrapKind::MemoryOutOfBounds) << name;
    ASSERT_FALSE(r.error().backtrace.empty());
  }
  EXPECT_EQ(inst.func("load_dropped")->call({Val::make_i32(0)}).value()[0].of.i32, 7);
}

TEST(LlvmJit, HostImportsAndMemory) {
  JitHost host;
  Instance inst = host.load(test_wasm::plugin_module());
  ASSERT_TRUE(inst.func("hello")->call({}).ok());
  ASSERT_EQ(host.logged.size(), 1u);
  EXPECT_EQ(host.logged[0], "hello");
  EXPECT_EQ(inst.func("grow")->call({Val::make_i32(2)}).value()[0].of.i32, 1);
  // A host trap keeps its message and gains the wasm frame under it.
  auto bad = inst.func("say")->call({Val::make_i32(1 << 30), Val::make_i32(4)});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().kind, TrapKind::None);
  EXPECT_FALSE(bad.error().backtrace.empty());
}

TEST(LlvmJit, CallsBetweenCompiledFunctionsAndMultiValue) {
  // swap(a, b) -> (b, a); sum_swapped(a, b) = b*1000 + a through swap.
  ModuleBuilder m;
  uint32_t t_swap = m.type({kI64, kI32}, {kI32, kI64});
  uint32_t t_sum = m.type({kI64, kI32}, {kI64});
  uint32_t swap = m.func(t_swap, seq({local_get(1), local_get(0)}));
  Bytes extend_mul{0xad, 0x42, 0xe8, 0x07, 0x7e};  // i64.extend_i32_u, i64.const 1000, i64.mul
  Bytes body = seq({local_get(0), local_get(1), call(swap), local_set(2), extend_mul, local_get(2), Bytes{0x7c}});
  m.export_func("sum_swapped", m.func(t_sum, body, {{1, kI64}}));
  m.export_func("swap", swap);
  JitHost host;
  Instance inst = host.load(m.build());
  auto r = inst.func("sum_swapped")->call({Val::make_i64(5), Val::make_i32(7)});
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(r.value()[0].of.i64, 7005);
  auto s = inst.func("swap")->call({Val::make_i64(-1), Val::make_i32(3)});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value()[0].of.i32, 3);
  EXPECT_EQ(s.value()[1].of.i64, -1);
}

TEST(LlvmJit, InterpretedModulesStayInTheInterpreter) {
  Engine engine;  // Tier::Interp
  auto module = Module::compile(engine, test_wasm::plugin_module());
  ASSERT_TRUE(module.ok());
  Store store(engine);
  Linker linker(engine);
  linker.func_wrap("env", "log", [](Caller&, int32_t, int32_t) {});
  auto inst = linker.instantiate(store, module.value());
  ASSERT_TRUE(inst.ok());
  EXPECT_FALSE(has_machine_code(inst.value(), "add"));
  EXPECT_EQ(inst->func("add")->call({Val::make_i32(2), Val::make_i32(3)}).value()[0].of.i32, 5);
}

// What a call leaves behind under a fuel budget: its result or trap, and the fuel left.
struct FuelOutcome {
  TrapKind trap = TrapKind::None;
  int64_t value = 0;
  uint64_t fuel_left = 0;
  bool operator==(const FuelOutcome&) const = default;
};

std::vector<FuelOutcome> run_with_budgets(Tier tier, const char* func, int32_t arg) {
  Engine engine(EngineConfig{.tier = tier});
  auto module = Module::compile(engine, test_wasm::plugin_module());
  EXPECT_TRUE(module.ok());
  std::vector<FuelOutcome> out;
  for (uint64_t budget : {0, 1, 2, 3, 10, 30, 31, 32, 33, 499, 500, 501, 502, 503, 1000}) {
    Store store(engine);
    Linker linker(engine);
    linker.func_wrap("env", "log", [](Caller&, int32_t, int32_t) {});
    auto inst = linker.instantiate(store, module.value());
    EXPECT_TRUE(inst.ok());
    EXPECT_EQ(has_machine_code(inst.value(), func), tier == Tier::Jit);
    store.set_fuel(budget);
    FuelOutcome o;
    auto r = inst->func(func)->call({Val::make_i32(arg)});
    if (r.ok()) o.value = r.value()[0].of.i32;
    else o.trap = r.error().kind;
    o.fuel_left = store.get_fuel().value();
    out.push_back(o);
  }
  return out;
}

TEST(LlvmJit, FuelStopsWhereTheInterpreterStops) {
  // count: one entry plus a back-edge per iteration; depth: one entry per call.
  for (auto [func, arg] : {std::pair{"count", 500}, std::pair{"depth", 30}}) {
    std::vector<FuelOutcome> interp = run_with_budgets(Tier::Interp, func, arg);
    std::vector<FuelOutcome> jit = run_with_budgets(Tier::Jit, func, arg);
    ASSERT_EQ(interp.size(), jit.size());
    bool some_ran_out = false, some_finished = false;
    for (size_t i = 0; i < interp.size(); ++i) {
      EXPECT_EQ(interp[i], jit[i]) << func << " budget #" << i << ": interp trap " << static_cast<int>(interp[i].trap)
                                   << " fuel " << interp[i].fuel_left << ", jit trap " << static_cast<int>(jit[i].trap)
                                   << " fuel " << jit[i].fuel_left;
      some_ran_out |= jit[i].trap == TrapKind::OutOfFuel;
      some_finished |= jit[i].trap == TrapKind::None && jit[i].value == arg;
    }
    EXPECT_TRUE(some_ran_out);
    EXPECT_TRUE(some_finished);
  }
}

TEST(LlvmJit, FuelStopsAnEndlessLoopInMachineCode) {
  JitHost host;
  Instance inst = host.load(test_wasm::plugin_module());
  ASSERT_TRUE(has_machine_code(inst, "nested_spin"));
  host.store.set_fuel(100000);
  auto r = inst.func("nested_spin")->call({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::OutOfFuel);
  ASSERT_FALSE(r.error().backtrace.empty());
  EXPECT_EQ(r.error().backtrace[0].func_index, inst.raw()->module->find_export("nested_spin")->index);
  // Without fuel the same store runs compiled code unchecked again.
  host.store.clear_interrupts();
  EXPECT_EQ(inst.func("count")->call({Val::make_i32(100)}).value()[0].of.i32, 100);
}

// Code compiled without the checks never runs under fuel: the store's
// calls go to the interpreter, so the budget holds and is spent as there.
TEST(LlvmJit, UninterruptibleCodeLeavesFuelToTheInterpreter) {
  EngineConfig config{.tier = Tier::Jit};
  config.interruptible = false;
  Engine engine(config);
  auto module = Module::compile(engine, test_wasm::plugin_module());
  ASSERT_TRUE(module.ok());
  EXPECT_TRUE(module.value().raw()->native_uninterruptible.load());
  Store store(engine);
  Linker linker(engine);
  linker.func_wrap("env", "log", [](Caller&, int32_t, int32_t) {});
  auto inst = linker.instantiate(store, module.value());
  ASSERT_TRUE(inst.ok());
  ASSERT_TRUE(has_machine_code(inst.value(), "nested_spin"));
  EXPECT_EQ(inst->func("count")->call({Val::make_i32(100)}).value()[0].of.i32, 100);  // machine code
  store.set_fuel(100000);
  auto r = inst->func("nested_spin")->call({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::OutOfFuel);
  EXPECT_EQ(store.get_fuel().value(), 0u);
  std::vector<FuelOutcome> interp = run_with_budgets(Tier::Interp, "count", 500);
  store.set_fuel(499);
  auto counted = inst->func("count")->call({Val::make_i32(500)});
  EXPECT_FALSE(counted.ok());
  EXPECT_EQ(store.get_fuel().value(), interp[9].fuel_left);  // budget 499, as the interpreter leaves it
}

// loop { call tick; br 0 } where tick advances the engine's epoch: the
// back-edge after the first tick sees the deadline reached.
TEST(LlvmJit, EpochDeadlineInterruptsALoopAfterAHostCall) {
  for (Tier tier : {Tier::Interp, Tier::Jit}) {
    ModuleBuilder m;
    uint32_t t_v_v = m.type({}, {});
    uint32_t tick = m.import_func("env", "tick", t_v_v);
    m.export_func("run", m.func(t_v_v, seq({loop_void, call(tick), br(0), end})));
    Engine engine(EngineConfig{.tier = tier});
    Store store(engine);
    Linker linker(engine);
    int ticks = 0;
    linker.func_wrap("env", "tick", [&](Caller&) {
      ++ticks;
      engine.increment_epoch();
    });
    auto module = Module::compile(engine, m.build());
    ASSERT_TRUE(module.ok());
    auto inst = linker.instantiate(store, module.value());
    ASSERT_TRUE(inst.ok());
    store.set_epoch_deadline(1);
    auto r = inst->func("run")->call({});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, TrapKind::Interrupted);
    EXPECT_EQ(ticks, 1) << "tier " << static_cast<int>(tier);
  }
}

// store32(1024 + 4i, load32(4i) + 1) for i < bound (default: run's
// argument n): affine addresses, no calls.
Bytes array_loop_module(const Bytes& bound = local_get(0)) {
  ModuleBuilder m;
  m.memory(1, 1);
  m.export_memory("memory");
  const Bytes i32_shl{0x74}, i32_lt_u{0x49}, tee_i{0x22, 0x01};
  const Bytes address = seq({local_get(1), i32_const(2), i32_shl});
  Bytes body = seq({loop_void, address, address, i32_load(), i32_const(1), i32_add, i32_store(1024), local_get(1),
                    i32_const(1), i32_add, tee_i, bound, i32_lt_u, br_if(0), end});
  m.export_func("run", m.func(m.type({kI32}, {}), body, {{1, kI32}}));
  return m.build();
}

// Tier 2 code of `module` without interrupt checks (where bounds
// versioning applies).
Result<llvmjit::CompiledCode> compile_without_checks(const Module& module, std::vector<uint32_t> unversioned = {}) {
  llvmjit::CompileOptions options;
  options.interruptible = false;
  options.unversioned = std::move(unversioned);
  return llvmjit::compile(*module.raw()->module, {}, options);
}

uint32_t load32(const Instance& inst, uint32_t address) {
  uint32_t v = 0;
  std::memcpy(&v, inst.memory("memory")->data() + address, 4);
  return v;
}

// Such a loop gets a copy with plain accesses behind a bounds check
// (compiler/bounds_versioning.cpp), but only in code without interrupt
// checks (a back-edge check calls the runtime). Whichever copy runs, the
// results and the stores before an out-of-bounds trap are the interpreter's.
TEST(LlvmJit, AffineLoopsGetAnInBoundsCopyWithoutInterruptChecks) {
  Engine interp_engine;
  Module module = Module::compile(interp_engine, array_loop_module()).value();
  for (bool interruptible : {false, true}) {
    llvmjit::CompileOptions options;
    options.interruptible = interruptible;
    auto code = llvmjit::compile(*module.raw()->module, {}, options);
    ASSERT_TRUE(code.ok()) << code.error().to_string();
    EXPECT_EQ(code->versioned_loops, interruptible ? 0u : 1u);
  }

  for (Tier tier : {Tier::Interp, Tier::Jit}) {
    Engine engine(EngineConfig{.tier = tier, .interruptible = false});
    Store store(engine);
    Instance inst = Linker(engine).instantiate(store, Module::compile(engine, array_loop_module()).value()).value();
    SCOPED_TRACE(tier == Tier::Jit ? "jit" : "interp");
    ASSERT_TRUE(inst.func("run")->call({Val::make_i32(100)}).ok());
    EXPECT_EQ(load32(inst, 1024 + 4 * 99), 1u);
    EXPECT_EQ(load32(inst, 1024 + 4 * 100), 0u);
    // From i = 256 on, iteration i reads what iteration i - 256 stored:
    // element i ends up floor(i / 256) + 1, in bounds (the checked copy).
    ASSERT_TRUE(inst.func("run")->call({Val::make_i32(300)}).ok());
    EXPECT_EQ(load32(inst, 1024 + 4 * 255), 1u);
    EXPECT_EQ(load32(inst, 1024 + 4 * 299), 2u);
    // The store of i = 16128 is the first out of bounds: every earlier one
    // happened (the original copy), the last one at 65532.
    auto r = inst.func("run")->call({Val::make_i32(20000)});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, TrapKind::MemoryOutOfBounds);
    EXPECT_EQ(load32(inst, 65532), 16127u / 256 + 1);
  }
}

// A loop whose trip count is a constant under 16 would never take the
// in-bounds copy (it skips the check below 16 iterations): it gets none.
TEST(LlvmJit, LoopsOfFewIterationsGetNoInBoundsCopy) {
  for (uint32_t trips : {10u, 100u}) {
    Engine engine;
    Module module = Module::compile(engine, array_loop_module(i32_const(static_cast<int32_t>(trips)))).value();
    auto code = compile_without_checks(module);
    ASSERT_TRUE(code.ok()) << code.error().to_string();
    EXPECT_EQ(code->versioned_loops, trips < 16 ? 0u : 1u) << trips << " iterations";
  }
}

// A loop counted by an i64 local (the address comes from an i32 one): its
// trip count may exceed anything i64 arithmetic could multiply by a stride,
// so its check computes in i128 (bounds_versioning.cpp, check_type). In
// i64, 4 * (2^62 + 99) wraps to 396, and the check would pass.
TEST(LlvmJit, LoopsCountedIn64BitsKeepAnExactCheck) {
  ModuleBuilder m;
  m.memory(1, 1);
  m.export_memory("memory");
  const Bytes i32_shl{0x74}, i64_add{0x7c}, i64_lt_u{0x54}, tee_i{0x22, 0x01};
  const Bytes address = seq({local_get(2), i32_const(2), i32_shl});
  // Stores to 1028 + 4j: a vector store of the in-bounds copy would
  // straddle the end of memory, and fault before writing its first lanes.
  Bytes body = seq({loop_void, address, address, i32_load(), i32_const(1), i32_add, i32_store(1028), local_get(2),
                    i32_const(1), i32_add, local_set(2), local_get(1), i64_const(1), i64_add, tee_i, local_get(0),
                    i64_lt_u, br_if(0), end});
  m.export_func("run", m.func(m.type({kI64}, {}), body, {{1, kI64}, {1, kI32}}));
  const Bytes wasm = m.build();
  {
    Engine engine;
    auto code = compile_without_checks(Module::compile(engine, wasm).value());
    ASSERT_TRUE(code.ok()) << code.error().to_string();
    EXPECT_EQ(code->versioned_loops, 1u);
  }
  std::vector<std::vector<uint8_t>> memories;
  for (Tier tier : {Tier::Interp, Tier::Jit}) {
    Engine engine(EngineConfig{.tier = tier, .interruptible = false});
    Store store(engine);
    Instance inst = Linker(engine).instantiate(store, Module::compile(engine, wasm).value()).value();
    SCOPED_TRACE(tier == Tier::Jit ? "jit" : "interp");
    ASSERT_TRUE(inst.func("run")->call({Val::make_i64(300)}).ok());
    EXPECT_EQ(load32(inst, 1028 + 4 * 299), 2u);
    auto r = inst.func("run")->call({Val::make_i64((int64_t{1} << 62) + 100)});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, TrapKind::MemoryOutOfBounds);
    const uint8_t* data = inst.memory("memory")->data();
    memories.emplace_back(data, data + 65536);
  }
  EXPECT_TRUE(memories[0] == memories[1]);
}

// The same module compiles to the same bytes every time (the cache and
// benchmarks rely on it): here a versioned loop with many access groups,
// whose check once followed the groups' addresses in memory.
TEST(LlvmJit, CompilingTwiceGivesTheSameCode) {
  ModuleBuilder m;
  m.memory(1, 1);
  const Bytes i32_shl{0x74}, i32_lt_u{0x49}, tee_i{0x22, 0x01};
  const Bytes address = seq({local_get(1), i32_const(2), i32_shl});
  // a[i] = b[i] + c[i] + ... over 12 arrays of 1 KB.
  Bytes sum = seq({address, i32_load(1024)});
  for (uint32_t k = 2; k < 12; ++k) sum = seq({sum, address, i32_load(1024 * k), i32_add});
  Bytes body = seq({loop_void, address, sum, i32_store(0), local_get(1), i32_const(1), i32_add, tee_i, local_get(0),
                    i32_lt_u, br_if(0), end});
  m.export_func("run", m.func(m.type({kI32}, {}), body, {{1, kI32}}));
  Engine engine;
  Module module = Module::compile(engine, m.build()).value();
  auto first = compile_without_checks(module);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(first->versioned_loops, 1u);
  for (int i = 0; i < 5; ++i) {
    auto again = compile_without_checks(module);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->objects == first->objects) << "compile " << i + 2 << " differs";
  }
}

// CompileOptions::unversioned (tier-up's functions with short calls): the
// same loop keeps only its original copy.
TEST(LlvmJit, UnversionedFunctionsGetNoInBoundsCopy) {
  Engine engine;
  Module module = Module::compile(engine, array_loop_module()).value();
  auto code = compile_without_checks(module, {module.raw()->module->num_imported_funcs});
  ASSERT_TRUE(code.ok()) << code.error().to_string();
  EXPECT_EQ(code->versioned_loops, 0u);
  // And it still runs like the interpreter.
  rt::CompiledModule& compiled = const_cast<rt::CompiledModule&>(*module.raw());
  ASSERT_TRUE(llvmjit::install(compiled, code.value()).ok());
  Store store(engine);
  Instance inst = Linker(engine).instantiate(store, module).value();
  ASSERT_TRUE(inst.func("run")->call({Val::make_i32(300)}).ok());
  EXPECT_EQ(load32(inst, 1024 + 4 * 299), 2u);
}

}  // namespace
}  // namespace skiff

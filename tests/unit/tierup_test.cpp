// Tier::Auto (src/llvm/tierup.*): hot functions move from the interpreter to
// machine code while the program runs, with the same results, traps,
// backtraces and fuel as either tier alone, and without lifetime hazards
// when modules or engines go away while a compile is pending.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <optional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api_builder.h"
#include "baseline/baseline.h"
#include "interp/interp.h"
#include "llvm/jit.h"
#include "llvm/tierup.h"
#include "runtime/objects.h"
#include "skiff/skiff.hh"

namespace skiff {
namespace {

using namespace test_wasm::op;
using test_wasm::Bytes;
using test_wasm::kI32;
using test_wasm::ModuleBuilder;
using test_wasm::seq;

// Compiles take tens of milliseconds; a loaded machine may be much slower.
constexpr auto kPatience = std::chrono::seconds(60);

const Bytes i32_eq{0x46};
const Bytes i32_lt_s{0x48};
Bytes local_tee(uint32_t i) { Bytes b{0x22}; test_wasm::uleb(b, i); return b; }
const Bytes if_i32{0x04, kI32};
const Bytes else_{0x05};

// Function indices of tierup_module().
constexpr uint32_t kSync = 0, kLeaf = 1, kCallee = 2, kCaller = 3;
constexpr int32_t kTrapAt = 1000;

enum class TrapIn { Callee, Leaf };

// env.sync(i) is called before every iteration of caller's loop.
//   leaf(x)    = 100 / x
//   callee(i)  = i + 1; at i == kTrapAt: unreachable, or leaf(0) (divide by zero)
//   caller(n)  = sum of callee(i) for i in [0, n)       (n >= 1)
Bytes tierup_module(TrapIn trap_in) {
  ModuleBuilder m;
  uint32_t t_i_v = m.type({kI32}, {});
  uint32_t t_i_i = m.type({kI32}, {kI32});
  m.import_func("env", "sync", t_i_v);
  m.export_func("leaf", m.func(t_i_i, seq({i32_const(100), local_get(0), i32_div_s})));
  Bytes at_trap = trap_in == TrapIn::Callee ? unreachable : seq({i32_const(0), call(kLeaf)});
  m.export_func("callee", m.func(t_i_i, seq({local_get(0), i32_const(kTrapAt), i32_eq, if_i32, at_trap, else_,
                                             local_get(0), i32_const(1), i32_add, end})));
  m.export_func("caller",
                m.func(t_i_i,
                       seq({loop_void, local_get(1), call(kSync), local_get(2), local_get(1), call(kCallee), i32_add,
                            local_set(2), local_get(1), i32_const(1), i32_add, local_tee(1), local_get(0), i32_lt_s,
                            br_if(0), end, local_get(2)}),
                       {{2, kI32}}));
  return m.build();
}

const rt::CompiledFunc& compiled_func(const Module& module, uint32_t func_index) {
  return module.raw()->funcs[func_index - module.raw()->module->num_imported_funcs];
}

bool has_machine_code(const Module& module, uint32_t func_index) {
  return compiled_func(module, func_index).native_entry.load() != nullptr;
}

// Whether the interpreter now enters the function's machine code.
bool interpreter_runs_machine_code(const Module& module, uint32_t func_index) {
  const uint64_t* code = compiled_func(module, func_index).code.load();
  return code != nullptr && code[0] == interp::tier_up_handler(interp::TierUpOp::EnterNative);
}

template <typename Pred>
bool eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

Engine engine_for(Tier tier, uint32_t tier_up_threshold = 0) {
  EngineConfig config;
  config.tier = tier;
  config.tier_up_threshold = tier_up_threshold;
  return Engine(config);
}
Engine auto_engine(uint32_t threshold) { return engine_for(Tier::Auto, threshold); }

llvmjit::TierUpPolicy test_policy(bool on_stack_replacement) {
  llvmjit::TierUpPolicy policy;
  policy.threshold = 100;
  policy.on_stack_replacement = on_stack_replacement;
  return policy;
}

// tierup_module() tiering up through a compiler of its own (so the test
// picks the policy); the store is an interpreter engine's, whose executor
// runs machine code wherever a function has some. `on_sync(i)` runs at
// every iteration of caller's loop and may hold it there.
struct MixedRun {
  Engine engine;
  Module module;
  std::shared_ptr<llvmjit::TierUpCompiler> compiler;
  Store store{engine};
  Linker linker{engine};
  std::function<void(int32_t)> on_sync = [](int32_t) {};
  std::optional<Instance> instance;

  MixedRun(TrapIn trap_in, bool on_stack_replacement) : MixedRun(trap_in, test_policy(on_stack_replacement)) {}
  MixedRun(TrapIn trap_in, const llvmjit::TierUpPolicy& policy)
      : module(Module::compile(engine, tierup_module(trap_in)).value()),
        compiler(std::make_shared<llvmjit::TierUpCompiler>(policy)) {
    compiler->attach(const_cast<rt::CompiledModule&>(*module.raw()));  // before anything is lowered
    linker.func_wrap("env", "sync", [this](Caller&, int32_t i) { on_sync(i); });
    auto inst = linker.instantiate(store, module);
    EXPECT_TRUE(inst.ok()) << (inst.ok() ? "" : inst.error().to_string());
    instance = inst.value();
  }
  // Holds caller's loop at iteration `i` until `ready()`; `held` says whether it came true.
  void hold_at(int32_t i, std::function<bool()> ready, bool& held) {
    auto previous = on_sync;
    on_sync = [=, &held](int32_t at) {
      previous(at);
      if (at == i) held = eventually(ready);
    };
  }
  // The tier-up counters as caller's loop reaches iteration `i`.
  void snapshot_at(int32_t i, llvmjit::TierUpStats& stats, bool& taken) {
    hold_at(i, [&stats] {
      stats = llvmjit::tier_up_stats();
      return true;
    }, taken);
  }
  Result<std::vector<Val>, Trap> call(const char* name, int32_t arg) { return instance->func(name)->call({Val::make_i32(arg)}); }
};

int32_t expected_sum(int32_t n) { return n * (n + 1) / 2; }

std::vector<uint32_t> frames_of(const Trap& trap) {
  std::vector<uint32_t> frames;
  for (const BacktraceFrame& f : trap.backtrace) frames.push_back(f.func_index);
  return frames;
}

TEST(TierUp, CodeCountsHotnessOnlyInAutoModules) {
  for (Tier tier : {Tier::Interp, Tier::Auto}) {
    Engine engine = engine_for(tier, 1000);
    Module module = Module::compile(engine, tierup_module(TrapIn::Callee)).value();
    Store store(engine);
    Linker linker(engine);
    linker.func_wrap("env", "sync", [](Caller&, int32_t) {});
    Instance inst = linker.instantiate(store, module).value();
    ASSERT_EQ(inst.func("callee")->call({Val::make_i32(1)}).value()[0].of.i32, 2);
    const uint64_t* code = compiled_func(module, kCallee).code.load();
    ASSERT_NE(code, nullptr);
    const rt::CompiledFunc& callee = compiled_func(module, kCallee);
    if (tier == Tier::Interp) {
      EXPECT_NE(code[0], interp::tier_up_handler(interp::TierUpOp::HotCount));
      EXPECT_EQ(callee.hotness_countdown.load(), INT32_MAX);
      continue;
    }
    // One entry counted, weighing the whole function (it has no loop).
    ASSERT_EQ(code[0], interp::tier_up_handler(interp::TierUpOp::HotCountEntry));
    EXPECT_EQ(code[2], callee.storage.size());
    EXPECT_EQ(callee.hotness_countdown.load(), 1000 - static_cast<int32_t>(callee.storage.size()));
    EXPECT_EQ(callee.entries.load(), 1u);
  }
}

TEST(TierUp, HotFunctionSwitchesToMachineCodeMidRun) {
  MixedRun run(TrapIn::Callee, /*on_stack_replacement=*/false);
  bool switched = false;
  run.hold_at(300, [&] { return interpreter_runs_machine_code(run.module, kCallee); }, switched);
  EXPECT_FALSE(has_machine_code(run.module, kCallee));
  auto first = run.call("caller", 900);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  ASSERT_TRUE(switched) << "callee did not get machine code within " << kPatience.count() << " s";
  EXPECT_EQ(first.value()[0].of.i32, expected_sum(900));
  // caller's loop made it hot too: once compiled, the host enters it natively.
  EXPECT_TRUE(eventually([&] { return has_machine_code(run.module, kCaller); }));
  for (int32_t n : {1, 2, 500, 900}) EXPECT_EQ(run.call("caller", n).value()[0].of.i32, expected_sum(n)) << n;
  EXPECT_EQ(run.call("callee", 41).value()[0].of.i32, 42);
  // leaf never ran: no counting, no compile.
  EXPECT_FALSE(has_machine_code(run.module, kLeaf));
}

// caller stays interpreted (no on-stack replacement) and calls callee's
// machine code after iteration 300; callee traps at kTrapAt.
TEST(TierUp, TrapInMachineCodeCalledFromTheInterpreter) {
  for (TrapIn trap_in : {TrapIn::Callee, TrapIn::Leaf}) {
    MixedRun run(trap_in, /*on_stack_replacement=*/false);
    bool switched = false;
    run.hold_at(300, [&] { return interpreter_runs_machine_code(run.module, kCallee); }, switched);
    auto r = run.call("caller", 2000);
    ASSERT_TRUE(switched);
    ASSERT_FALSE(r.ok());
    // Innermost first: [leaf, interpreted under machine code,] callee's
    // machine code, caller's interpreted frame.
    if (trap_in == TrapIn::Callee) {
      EXPECT_EQ(r.error().kind, TrapKind::Unreachable);
      EXPECT_EQ(frames_of(r.error()), (std::vector<uint32_t>{kCallee, kCaller}));
    } else {
      EXPECT_EQ(r.error().kind, TrapKind::IntDivideByZero);
      EXPECT_EQ(frames_of(r.error()), (std::vector<uint32_t>{kLeaf, kCallee, kCaller}));
      EXPECT_FALSE(has_machine_code(run.module, kLeaf));
    }
    // The store is usable afterwards.
    EXPECT_EQ(run.call("caller", 10).value()[0].of.i32, expected_sum(10));
  }
}

// callee compiles in one batch, caller in a later one: caller's machine
// code calls callee's directly (CompiledModule::native_bodies), with the
// same results, and a trap under it unwinds both batches' frames.
TEST(TierUp, CallsIntoAnEarlierBatch) {
  MixedRun run(TrapIn::Leaf, /*on_stack_replacement=*/false);
  ASSERT_TRUE(eventually([&] {
    EXPECT_EQ(run.call("callee", 41).value()[0].of.i32, 42);
    return has_machine_code(run.module, kCallee);
  }));
  ASSERT_FALSE(has_machine_code(run.module, kCaller));
  ASSERT_TRUE(eventually([&] {
    EXPECT_EQ(run.call("caller", 3).value()[0].of.i32, expected_sum(3));
    return interpreter_runs_machine_code(run.module, kCaller);
  }));
  EXPECT_EQ(run.call("caller", 900).value()[0].of.i32, expected_sum(900));
  auto r = run.call("caller", 2000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::IntDivideByZero);
  EXPECT_EQ(frames_of(r.error()), (std::vector<uint32_t>{kLeaf, kCallee, kCaller}));
  EXPECT_EQ(run.call("caller", 10).value()[0].of.i32, expected_sum(10));
}

// caller(n) is called once and turns hot in its loop: that loop compiles
// (not the function: nothing would call it), and the running frame moves
// into the loop's machine code (on-stack replacement).
struct OnStackReplacement {
  MixedRun run;
  bool loop_compiled = false;
  llvmjit::TierUpStats before = llvmjit::tier_up_stats();
  explicit OnStackReplacement(TrapIn trap_in) : run(trap_in, /*on_stack_replacement=*/true) {
    run.hold_at(300, [&] { return llvmjit::tier_up_stats().loops > before.loops; }, loop_compiled);
  }
  uint64_t loops_entered() const { return llvmjit::tier_up_stats().loops_entered - before.loops_entered; }
};

TEST(TierUp, RunningLoopMovesToMachineCode) {
  OnStackReplacement osr(TrapIn::Callee);
  auto r = osr.run.call("caller", 900);
  ASSERT_TRUE(osr.loop_compiled);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value()[0].of.i32, expected_sum(900));
  EXPECT_GE(osr.loops_entered(), 1u);
  EXPECT_FALSE(has_machine_code(osr.run.module, kCaller));
  EXPECT_EQ(llvmjit::tier_up_stats().loops - osr.before.loops, 1u);
  // A new long call moves into the same loop code; short calls that turn
  // the function hot at its entry get the function compiled.
  EXPECT_EQ(osr.run.call("caller", 1000).value()[0].of.i32, expected_sum(1000));
  EXPECT_GE(osr.loops_entered(), 2u);
  EXPECT_TRUE(eventually([&] {
    EXPECT_EQ(osr.run.call("caller", 2).value()[0].of.i32, expected_sum(2));
    return has_machine_code(osr.run.module, kCaller);
  }));
  EXPECT_EQ(osr.run.call("caller", 1000).value()[0].of.i32, expected_sum(1000));
}

// Once a loop's code is ready, its frame moves in at its next pass of the
// loop's header, not a whole threshold of interpretation later.
TEST(TierUp, FrameMovesInAtItsNextPassOfTheLoopHeader) {
  llvmjit::TierUpPolicy policy = test_policy(/*on_stack_replacement=*/true);
  policy.threshold = 5000;  // a report every ~200 iterations of caller's loop
  MixedRun run(TrapIn::Callee, policy);
  const llvmjit::TierUpStats before = llvmjit::tier_up_stats();
  bool compiled = false, checked = false;
  llvmjit::TierUpStats at_502;
  run.hold_at(500, [&] { return llvmjit::tier_up_stats().loops > before.loops; }, compiled);
  run.snapshot_at(502, at_502, checked);
  auto r = run.call("caller", 900);
  ASSERT_TRUE(compiled);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value()[0].of.i32, expected_sum(900));
  EXPECT_EQ(at_502.loops_entered - before.loops_entered, 1u);
}

// caller turns hot in its loop in its second call, whose frames count as
// long here: the compile that gives it machine code also compiles that
// loop, which the running frame moves into.
TEST(TierUp, FunctionWithLongCallsGetsItsLoopInTheSameCompile) {
  llvmjit::TierUpPolicy policy = test_policy(/*on_stack_replacement=*/true);
  policy.long_frame_words = 10;  // threshold 100 over 2 calls: 50 words a call
  MixedRun run(TrapIn::Callee, policy);
  ASSERT_EQ(run.call("caller", 1).value()[0].of.i32, expected_sum(1));
  const llvmjit::TierUpStats before = llvmjit::tier_up_stats();
  bool compiled = false, recorded = false;
  llvmjit::TierUpStats at_switch;
  run.hold_at(300, [&] { return has_machine_code(run.module, kCaller); }, compiled);
  run.snapshot_at(301, at_switch, recorded);
  auto r = run.call("caller", 900);
  ASSERT_TRUE(compiled);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value()[0].of.i32, expected_sum(900));
  EXPECT_EQ(at_switch.loops - before.loops, 1u);
  EXPECT_EQ(at_switch.batches - before.batches, 1u);
  const llvmjit::TierUpStats after = llvmjit::tier_up_stats();
  EXPECT_EQ(after.loops - before.loops, 1u);
  EXPECT_GE(after.loops_entered - before.loops_entered, 1u);
  EXPECT_EQ(after.unversioned, before.unversioned);  // long calls: bounds versioning stays
}

// Short calls (a memcpy): only the function compiles, even though it
// turned hot in its loop.
TEST(TierUp, FunctionWithShortCallsCompilesWithoutItsLoop) {
  llvmjit::TierUpPolicy policy = test_policy(/*on_stack_replacement=*/true);
  policy.threshold = 1000;
  policy.long_frame_words = 1000;
  MixedRun run(TrapIn::Callee, policy);
  const llvmjit::TierUpStats before = llvmjit::tier_up_stats();
  EXPECT_TRUE(eventually([&] {
    EXPECT_EQ(run.call("caller", 10).value()[0].of.i32, expected_sum(10));
    return has_machine_code(run.module, kCaller);
  }));
  EXPECT_EQ(llvmjit::tier_up_stats().loops, before.loops);
  // Its calls average under short_frame_words: no bounds versioning.
  EXPECT_GE(llvmjit::tier_up_stats().unversioned - before.unversioned, 1u);
}

// A function called once turns hot in its outer loop, which compiles; its
// frame is in the inner loop by then. It moves into that code at the inner
// loop's next header (the code serves every loop of the function) rather
// than asking for the inner loop too.
TEST(TierUp, FrameInAnInnerLoopEntersTheCodeCompiledForItsOuterLoop) {
  ModuleBuilder m;
  const Bytes i32_ge_s{0x4e}, if_void{0x04, 0x40};
  m.import_func("env", "sync", m.type({kI32}, {}));
  // nest(n): for i in [1, n]: if i >= 8: for j in [0, 50): sync(j); sum += j
  uint32_t nest = m.func(
      m.type({kI32}, {kI32}),
      seq({loop_void, local_get(1), i32_const(1), i32_add, local_set(1), local_get(1), i32_const(8), i32_ge_s,
           if_void, i32_const(0), local_set(2), loop_void, local_get(2), call(0), local_get(3), local_get(2), i32_add,
           local_set(3), local_get(2), i32_const(1), i32_add, local_tee(2), i32_const(50), i32_lt_s, br_if(0), end,
           end, local_get(1), local_get(0), i32_lt_s, br_if(0), end, local_get(3)}),
      {{3, kI32}});
  m.export_func("nest", nest);
  Engine engine;
  Module module = Module::compile(engine, m.build()).value();
  auto compiler = std::make_shared<llvmjit::TierUpCompiler>(test_policy(/*on_stack_replacement=*/true));
  compiler->attach(const_cast<rt::CompiledModule&>(*module.raw()));
  const llvmjit::TierUpStats before = llvmjit::tier_up_stats();
  // The outer loop turns hot before i reaches 8; the first sync waits for
  // its code, and the second one runs in machine code.
  int syncs = 0;
  uint64_t entered_at_second_sync = 0;
  Store store(engine);
  Linker linker(engine);
  linker.func_wrap("env", "sync", [&](Caller&, int32_t) {
    if (++syncs == 1) {
      EXPECT_TRUE(eventually([&] { return llvmjit::tier_up_stats().loops > before.loops; }));
    }
    if (syncs == 2) entered_at_second_sync = llvmjit::tier_up_stats().loops_entered - before.loops_entered;
  });
  Instance inst = linker.instantiate(store, module).value();
  EXPECT_EQ(inst.func("nest")->call({Val::make_i32(20)}).value()[0].of.i32, (20 - 7) * 1225);
  ASSERT_TRUE(compiler->wait_idle(kPatience));
  const llvmjit::TierUpStats after = llvmjit::tier_up_stats();
  EXPECT_EQ(after.loops - before.loops, 1u);
  EXPECT_EQ(after.loops_entered - before.loops_entered, 1u);
  EXPECT_EQ(entered_at_second_sync, 1u);
}

// A `main` with phases: its first loop turns hot and compiles, but ends
// before the code is ready. The frame moves into that code at the header
// of the next loop it reaches (in an `else` arm, in a block), which needs
// no compile of its own.
TEST(TierUp, FrameEntersTheCodeOfAnEarlierPhaseAtItsNextLoop) {
  ModuleBuilder m;
  const Bytes if_void{0x04, 0x40}, block_void{0x02, 0x40};
  m.import_func("env", "sync", m.type({kI32}, {}));
  // phases(n): for i in [0, n): sync(1); sum += i
  //            block { if n < 0 { unreachable } else { for i in [0, n): sync(2); sum += 2 * i } }
  auto phase = [](int32_t id, int32_t factor) {
    return seq({i32_const(0), local_set(1), loop_void, i32_const(id), call(0), local_get(2), local_get(1),
                i32_const(factor), Bytes{0x6c}, i32_add, local_set(2), local_get(1), i32_const(1), i32_add, local_tee(1),
                local_get(0), i32_lt_s, br_if(0), end});
  };
  uint32_t phases = m.func(m.type({kI32}, {kI32}),
                           seq({phase(1, 1), block_void, local_get(0), i32_const(0), i32_lt_s, if_void, unreachable,
                                else_, phase(2, 2), end, end, local_get(2)}),
                           {{2, kI32}});
  m.export_func("phases", phases);
  Engine engine;
  Module module = Module::compile(engine, m.build()).value();
  llvmjit::TierUpPolicy policy = test_policy(/*on_stack_replacement=*/true);
  policy.first_batch_delay = std::chrono::milliseconds(50);  // the first loop ends before its code is ready
  auto compiler = std::make_shared<llvmjit::TierUpCompiler>(policy);
  compiler->attach(const_cast<rt::CompiledModule&>(*module.raw()));
  const llvmjit::TierUpStats before = llvmjit::tier_up_stats();
  int second_phase_syncs = 0;
  uint64_t entered_in_first_phase = 0, entered_at_second_sync = 0;
  Store store(engine);
  Linker linker(engine);
  linker.func_wrap("env", "sync", [&](Caller&, int32_t id) {
    const llvmjit::TierUpStats now = llvmjit::tier_up_stats();
    if (id == 1) entered_in_first_phase = now.loops_entered - before.loops_entered;
    if (id != 2) return;
    if (++second_phase_syncs == 1) {
      EXPECT_TRUE(eventually([&] { return llvmjit::tier_up_stats().loops > before.loops; }));
    }
    if (second_phase_syncs == 2) entered_at_second_sync = now.loops_entered - before.loops_entered;
  });
  Instance inst = linker.instantiate(store, module).value();
  constexpr int32_t n = 12;
  EXPECT_EQ(inst.func("phases")->call({Val::make_i32(n)}).value()[0].of.i32, 3 * n * (n - 1) / 2);
  ASSERT_TRUE(compiler->wait_idle(kPatience));
  const llvmjit::TierUpStats after = llvmjit::tier_up_stats();
  EXPECT_EQ(entered_in_first_phase, 0u);
  EXPECT_EQ(entered_at_second_sync, 1u);
  EXPECT_EQ(after.loops - before.loops, 1u);
  EXPECT_EQ(after.loops_entered - before.loops_entered, 1u);
}

// A frame runs in the code compiled for a function's second loop and calls
// the function again, whose first loop turns hot and gets code that serves
// the second loop too. That code must not replace what the outer frame
// runs in: the outer frame returns into it afterwards.
TEST(TierUp, LaterLoopCodeLeavesTheCodeFramesRunIn) {
  ModuleBuilder m;
  const Bytes if_void{0x04, 0x40}, i32_sub{0x6b}, return_{0x0f};
  m.import_func("env", "sync", m.type({kI32}, {}));
  // f(n, inner): if inner { for i in [0, 50): sync(2); sum += i; return sum }
  //              for i in [0, n): sync(1); if i == n - 10 { sum += f(0, 1) }; sum += i
  auto count_loop = [](int32_t id, Bytes body, Bytes bound) {
    return seq({loop_void, i32_const(id), call(0), body, local_get(2), local_get(3), i32_add, local_set(3),
                local_get(2), i32_const(1), i32_add, local_tee(2), bound, i32_lt_s, br_if(0), end});
  };
  constexpr uint32_t kF = 1;
  Bytes inner = seq({local_get(1), if_void, count_loop(2, {}, i32_const(50)), local_get(3), return_, end});
  Bytes call_inner = seq({local_get(2), local_get(0), i32_const(10), i32_sub, i32_eq, if_void, local_get(3),
                          i32_const(0), i32_const(1), call(kF), i32_add, local_set(3), end});
  m.export_func("f", m.func(m.type({kI32, kI32}, {kI32}),
                            seq({inner, count_loop(1, call_inner, local_get(0)), local_get(3)}), {{2, kI32}}));
  Engine engine;
  Module module = Module::compile(engine, m.build()).value();
  auto compiler = std::make_shared<llvmjit::TierUpCompiler>(test_policy(/*on_stack_replacement=*/true));
  compiler->attach(const_cast<rt::CompiledModule&>(*module.raw()));
  const llvmjit::TierUpStats before = llvmjit::tier_up_stats();
  bool outer_moved_in = false;
  int inner_syncs = 0;
  Store store(engine);
  Linker linker(engine);
  linker.func_wrap("env", "sync", [&](Caller&, int32_t id) {
    // The outer frame moves into its loop's code early on; the inner call
    // waits for its own loop's code at its first iteration.
    if (id == 1 && !outer_moved_in)
      outer_moved_in = eventually([&] { return llvmjit::tier_up_stats().loops > before.loops; });
    if (id == 2 && ++inner_syncs == 1) {
      EXPECT_TRUE(eventually([&] { return llvmjit::tier_up_stats().loops >= before.loops + 2; }));
    }
  });
  Instance inst = linker.instantiate(store, module).value();
  constexpr int32_t n = 300;
  EXPECT_EQ(inst.func("f")->call({Val::make_i32(n), Val::make_i32(0)}).value()[0].of.i32,
            n * (n - 1) / 2 + 50 * 49 / 2);
  ASSERT_TRUE(outer_moved_in);
  ASSERT_TRUE(compiler->wait_idle(kPatience));
  const llvmjit::TierUpStats after = llvmjit::tier_up_stats();
  EXPECT_EQ(after.loops - before.loops, 2u);
  EXPECT_EQ(after.loops_entered - before.loops_entered, 2u);  // the outer frame, then the inner one
}

// Two functions called once, each hot in its loop within one batch: both
// loops are compiled into one module copy. A later long call of either
// moves into its loop's code, and a trap there names the function itself.
TEST(TierUp, LoopsOfOneBatchKeepTheirNamesInBacktraces) {
  ModuleBuilder m;
  uint32_t t_i_i = m.type({kI32}, {kI32});
  // callee(i) = i + 1, unreachable at i == kTrapAt; a(n) and b(n) = sum of callee(i) for i in [0, n).
  uint32_t callee = m.func(t_i_i, seq({local_get(0), i32_const(kTrapAt), i32_eq, if_i32, unreachable, else_,
                                       local_get(0), i32_const(1), i32_add, end}));
  Bytes loop_body = seq({loop_void, local_get(2), local_get(1), call(callee), i32_add, local_set(2), local_get(1),
                         i32_const(1), i32_add, local_tee(1), local_get(0), i32_lt_s, br_if(0), end, local_get(2)});
  uint32_t a = m.func(t_i_i, loop_body, {{2, kI32}});
  uint32_t b = m.func(t_i_i, loop_body, {{2, kI32}});
  m.export_func("a", a);
  m.export_func("b", b);
  Engine engine;
  Module module = Module::compile(engine, m.build()).value();
  llvmjit::TierUpPolicy policy = test_policy(/*on_stack_replacement=*/true);
  policy.first_batch_delay = std::chrono::milliseconds(300);  // a and b join one batch
  auto compiler = std::make_shared<llvmjit::TierUpCompiler>(policy);
  compiler->attach(const_cast<rt::CompiledModule&>(*module.raw()));
  Store store(engine);
  Instance inst = Linker(engine).instantiate(store, module).value();
  const llvmjit::TierUpStats before = llvmjit::tier_up_stats();
  for (const char* name : {"a", "b"}) ASSERT_EQ(inst.func(name)->call({Val::make_i32(200)}).value()[0].of.i32, expected_sum(200));
  ASSERT_TRUE(eventually([&] { return llvmjit::tier_up_stats().loops >= before.loops + 2; }));
  EXPECT_EQ(llvmjit::tier_up_stats().batches - before.batches, 1u);  // callee, with both loops
  for (auto [name, index] : {std::pair{"a", a}, std::pair{"b", b}}) {
    const uint64_t entered = llvmjit::tier_up_stats().loops_entered;
    auto r = inst.func(name)->call({Val::make_i32(2000)});
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().kind, TrapKind::Unreachable) << name;
    EXPECT_EQ(frames_of(r.error()), (std::vector<uint32_t>{callee, index})) << name;
    EXPECT_GT(llvmjit::tier_up_stats().loops_entered, entered) << name;
  }
}

// caller(n) of `module` in a store of its own (env.sync does nothing).
int32_t call_caller(const Engine& engine, const Module& module, int32_t n) {
  Store store(engine);
  Linker linker(engine);
  linker.func_wrap("env", "sync", [](Caller&, int32_t) {});
  Instance inst = linker.instantiate(store, module).value();
  return inst.func("caller")->call({Val::make_i32(n)}).value()[0].of.i32;
}

// Whether `dir` holds a file ending in `kind` (".skc": the whole module,
// ".tierup": tier-up batches; empty: anything).
bool has_cache_entry(const std::string& dir, const std::string& kind = "") {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().string().ends_with(kind)) return true;
  return false;
}

// An Auto engine with cache_hot_modules and an empty cache directory
// `dir` (a fresh one under the test's temporary directory).
EngineConfig caching_auto_config(std::string& dir, const char* name) {
  dir = ::testing::TempDir() + name + std::to_string(::getpid());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  EngineConfig config;
  config.tier = Tier::Auto;
  config.tier_up_threshold = 100;
  config.cache_dir = dir;
  config.cache_hot_modules = true;
  return config;
}

// With cache_hot_modules, a module that turns hot is compiled whole in the
// background into the cache: the next compile of it starts with machine
// code everywhere, without tiering up.
TEST(TierUp, HotModuleIsCompiledWholeIntoTheCache) {
  std::string dir;
  EngineConfig config = caching_auto_config(dir, "skiff-tierup-cache-");
  std::error_code ec;
  {
    Engine engine(config);
    Module module = Module::compile(engine, tierup_module(TrapIn::Callee)).value();
    EXPECT_FALSE(has_machine_code(module, kLeaf));
    ASSERT_EQ(call_caller(engine, module, 900), expected_sum(900));
    EXPECT_TRUE(eventually([&] { return has_cache_entry(dir, ".skc"); })) << "no .skc entry in " << dir;
  }  // the engine waits for a whole-module compile in progress
  Engine engine(config);
  Module again = Module::compile(engine, tierup_module(TrapIn::Callee)).value();
  for (uint32_t f : {kLeaf, kCallee, kCaller}) EXPECT_TRUE(has_machine_code(again, f)) << f;
  EXPECT_EQ(again.raw()->tier_up, nullptr);
  EXPECT_EQ(call_caller(engine, again, 900), expected_sum(900));
  // Without the option the cache stays empty.
  std::filesystem::remove_all(dir, ec);
  config.cache_hot_modules = false;
  {
    Engine plain(config);
    Module module = Module::compile(plain, tierup_module(TrapIn::Callee)).value();
    ASSERT_EQ(call_caller(plain, module, 900), expected_sum(900));
    EXPECT_TRUE(eventually([&] { return has_machine_code(module, kCallee); }));
  }
  EXPECT_FALSE(has_cache_entry(dir));
  std::filesystem::remove_all(dir, ec);
}

// With cache_hot_modules each batch also goes to the cache as it is
// installed: a run too short for the whole-module compile still leaves
// its hot code, and the next run installs it and compiles nothing.
TEST(TierUp, BatchesFromTheCacheNeedNoCompile) {
  std::string dir;
  const EngineConfig config = caching_auto_config(dir, "skiff-tierup-batches-");
  std::error_code ec;
  {
    Engine engine(config);
    Module module = Module::compile(engine, tierup_module(TrapIn::Callee)).value();
    ASSERT_EQ(call_caller(engine, module, 900), expected_sum(900));  // its loop compiles and is entered
    EXPECT_TRUE(eventually([&] { return has_cache_entry(dir, ".tierup"); })) << "no .tierup entry in " << dir;
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().extension() == ".skc") std::filesystem::remove(entry.path(), ec);  // only the batches stay
  const llvmjit::TierUpStats before = llvmjit::tier_up_stats();
  Engine engine(config);
  Module again = Module::compile(engine, tierup_module(TrapIn::Callee)).value();
  ASSERT_NE(again.raw()->tier_up, nullptr);
  EXPECT_EQ(call_caller(engine, again, 900), expected_sum(900));
  const llvmjit::TierUpStats after = llvmjit::tier_up_stats();
  EXPECT_GE(after.cached_loops - before.cached_loops, 1u);
  EXPECT_GE(after.loops_entered - before.loops_entered, 1u);  // at its first pass of the header
  EXPECT_EQ(after.batches, before.batches);                    // nothing compiled
  EXPECT_EQ(after.loops, before.loops);
  // A damaged entry is ignored: the module tiers up again.
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');
  }
  Engine third(config);
  Module damaged = Module::compile(third, tierup_module(TrapIn::Callee)).value();
  const llvmjit::TierUpStats before_damaged = llvmjit::tier_up_stats();
  EXPECT_EQ(call_caller(third, damaged, 900), expected_sum(900));
  EXPECT_EQ(llvmjit::tier_up_stats().cached_loops, before_damaged.cached_loops);
  std::filesystem::remove_all(dir, ec);
}

TEST(TierUp, TrapAfterOnStackReplacement) {
  for (TrapIn trap_in : {TrapIn::Callee, TrapIn::Leaf}) {
    OnStackReplacement osr(trap_in);
    auto r = osr.run.call("caller", 2000);
    ASSERT_TRUE(osr.loop_compiled);
    EXPECT_GE(osr.loops_entered(), 1u);
    ASSERT_FALSE(r.ok());
    // caller's frame is the loop's machine code now, under its own index.
    if (trap_in == TrapIn::Callee) {
      EXPECT_EQ(r.error().kind, TrapKind::Unreachable);
      EXPECT_EQ(frames_of(r.error()), (std::vector<uint32_t>{kCallee, kCaller}));
    } else {
      EXPECT_EQ(r.error().kind, TrapKind::IntDivideByZero);
      EXPECT_EQ(frames_of(r.error()), (std::vector<uint32_t>{kLeaf, kCallee, kCaller}));
    }
    EXPECT_EQ(osr.run.call("caller", 10).value()[0].of.i32, expected_sum(10));
  }
}

// Fuel under on-stack replacement: caller(900) costs 1 + 2 per iteration
// (a back-edge and callee's entry); the budgets run out before, during and
// after the loop moves to machine code (around iteration 600).
TEST(TierUp, FuelAcrossOnStackReplacement) {
  struct Outcome {
    TrapKind trap = TrapKind::None;
    int32_t value = 0;
    uint64_t fuel_left = 0;
    int32_t last_iteration = -1;
    bool operator==(const Outcome&) const = default;
  };
  for (uint64_t budget : {500, 1300, 1700, 1800, 1801, 1802, 5000}) {
    Outcome interp, mixed;
    {
      Engine engine;
      Store store(engine);
      Linker linker(engine);
      linker.func_wrap("env", "sync", [&](Caller&, int32_t i) { interp.last_iteration = i; });
      Instance inst = linker.instantiate(store, Module::compile(engine, tierup_module(TrapIn::Callee)).value()).value();
      store.set_fuel(budget);
      auto r = inst.func("caller")->call({Val::make_i32(900)});
      if (r.ok()) interp.value = r.value()[0].of.i32;
      else interp.trap = r.error().kind;
      interp.fuel_left = store.get_fuel().value();
    }
    OnStackReplacement osr(TrapIn::Callee);
    auto record = osr.run.on_sync;
    osr.run.on_sync = [&](int32_t i) {
      mixed.last_iteration = i;
      record(i);
    };
    osr.run.store.set_fuel(budget);
    auto r = osr.run.call("caller", 900);
    if (r.ok()) mixed.value = r.value()[0].of.i32;
    else mixed.trap = r.error().kind;
    mixed.fuel_left = osr.run.store.get_fuel().value();
    EXPECT_EQ(interp.trap, mixed.trap) << budget;
    EXPECT_EQ(interp.value, mixed.value) << budget;
    EXPECT_EQ(interp.fuel_left, mixed.fuel_left) << budget;
    EXPECT_EQ(interp.last_iteration, mixed.last_iteration) << budget;
    if (mixed.last_iteration > 600) {
      EXPECT_GE(osr.loops_entered(), 1u) << budget;
    }
  }
}

// ---- fuel and deadlines ------------------------------------------------------

// progress(i) stores i at address 0 and spins k = i % 4 times;
// drive(n) calls progress(i) for i in [0, n) and returns the sum of i.
Bytes fuel_module() {
  ModuleBuilder m;
  uint32_t t_i_i = m.type({kI32}, {kI32});
  m.memory(1);
  m.export_memory("memory");
  // progress(i): mem[0] = i; k = i & 3; while (k != 0) k -= 1; return i
  uint32_t progress = m.func(t_i_i,
                             seq({i32_const(0), local_get(0), i32_store(), local_get(0), i32_const(3), Bytes{0x71},
                                  local_set(1), block_void, loop_void, local_get(1), i32_eqz, br_if(1), local_get(1),
                                  i32_const(1), i32_sub, local_set(1), br(0), end, end, local_get(0)}),
                             {{1, kI32}});
  m.export_func("progress", progress);
  m.export_func("drive", m.func(t_i_i,
                                seq({loop_void, local_get(2), local_get(1), call(progress), i32_add, local_set(2),
                                     local_get(1), i32_const(1), i32_add, local_tee(1), local_get(0), i32_lt_s,
                                     br_if(0), end, local_get(2)}),
                                {{2, kI32}}));
  return m.build();
}

struct FuelOutcome {
  TrapKind trap = TrapKind::None;
  int32_t value = 0;
  uint64_t fuel_left = 0;
  uint32_t progress = 0;  // the last i progress() stored
  bool operator==(const FuelOutcome&) const = default;
};

std::string describe(const FuelOutcome& o) {
  return "trap " + std::to_string(static_cast<int>(o.trap)) + " value " + std::to_string(o.value) + " fuel " +
         std::to_string(o.fuel_left) + " progress " + std::to_string(o.progress);
}

void PrintTo(const FuelOutcome& o, std::ostream* os) { *os << describe(o); }

// Budgets around where drive(30) runs out and finishes.
const std::vector<uint64_t> kBudgets = {0, 1, 2, 3, 4, 5, 10, 20, 33, 34, 35, 50, 100, 101, 102, 103, 1000};

std::vector<FuelOutcome> run_with_budgets(Tier tier) {
  Engine engine = engine_for(tier, 50);
  Module module = Module::compile(engine, fuel_module()).value();
  const uint32_t progress = 0, drive = 1;
  if (tier == Tier::Auto) {
    // Make progress() hot from the host, so drive() (cold, interpreted)
    // calls its machine code during the measured runs.
    Store store(engine);
    Instance inst = Linker(engine).instantiate(store, module).value();
    for (int32_t i = 0; i < 100; ++i) inst.func("progress")->call({Val::make_i32(i)}).value();
    EXPECT_TRUE(eventually([&] { return interpreter_runs_machine_code(module, progress); }));
    EXPECT_FALSE(has_machine_code(module, drive));
  }
  std::vector<FuelOutcome> out;
  for (uint64_t budget : kBudgets) {
    Store store(engine);
    Instance inst = Linker(engine).instantiate(store, module).value();
    store.set_fuel(budget);
    FuelOutcome o;
    auto r = inst.func("drive")->call({Val::make_i32(30)});
    if (r.ok()) o.value = r.value()[0].of.i32;
    else o.trap = r.error().kind;
    o.fuel_left = store.get_fuel().value();
    std::memcpy(&o.progress, inst.memory("memory")->data(), 4);
    out.push_back(o);
  }
  return out;
}

TEST(TierUp, FuelRunsOutAtTheSamePointInEveryTier) {
  std::vector<FuelOutcome> interp = run_with_budgets(Tier::Interp);
  std::vector<FuelOutcome> jit = run_with_budgets(Tier::Jit);
  std::vector<FuelOutcome> mixed = run_with_budgets(Tier::Auto);
  ASSERT_EQ(interp.size(), mixed.size());
  ASSERT_EQ(interp.size(), jit.size());
  bool some_ran_out = false, some_finished = false;
  for (size_t i = 0; i < interp.size(); ++i) {
    EXPECT_EQ(interp[i], jit[i]) << "budget #" << i;
    EXPECT_EQ(interp[i], mixed[i]) << "budget #" << i;
    some_ran_out |= interp[i].trap == TrapKind::OutOfFuel && interp[i].progress > 0;
    some_finished |= interp[i].trap == TrapKind::None && interp[i].value == 29 * 30 / 2;
  }
  EXPECT_TRUE(some_ran_out);
  EXPECT_TRUE(some_finished);
}

// loop { progress(1) (machine code); tick (advances the epoch) }: the
// back-edge after the first tick sees the deadline, in every tier.
TEST(TierUp, EpochDeadlineStopsAtTheSamePoint) {
  for (Tier tier : {Tier::Interp, Tier::Jit, Tier::Auto}) {
    ModuleBuilder m;
    uint32_t t_v_v = m.type({}, {});
    uint32_t t_i_i = m.type({kI32}, {kI32});
    uint32_t tick = m.import_func("env", "tick", t_v_v);
    uint32_t work = m.func(t_i_i, seq({local_get(0), i32_const(1), i32_add}));
    m.export_func("work", work);
    m.export_func("run", m.func(t_v_v, seq({loop_void, i32_const(1), call(work), drop, call(tick), br(0), end})));
    Engine engine = engine_for(tier, 20);
    Module module = Module::compile(engine, m.build()).value();
    Store store(engine);
    Linker linker(engine);
    int ticks = 0;
    linker.func_wrap("env", "tick", [&](Caller&) {
      ++ticks;
      engine.increment_epoch();
    });
    Instance inst = linker.instantiate(store, module).value();
    if (tier == Tier::Auto) {
      for (int32_t i = 0; i < 50; ++i) inst.func("work")->call({Val::make_i32(i)}).value();
      ASSERT_TRUE(eventually([&] { return interpreter_runs_machine_code(module, work); }));
    }
    store.set_epoch_deadline(1);
    auto r = inst.func("run")->call({});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, TrapKind::Interrupted);
    EXPECT_EQ(ticks, 1) << "tier " << static_cast<int>(tier);
  }
}

// ---- lifetimes ------------------------------------------------------------------

// Calls callee often enough to queue it (threshold 10), then returns.
void make_callee_hot(const Engine& engine, const Module& module) {
  Store store(engine);
  Linker linker(engine);
  linker.func_wrap("env", "sync", [](Caller&, int32_t) {});
  Instance inst = linker.instantiate(store, module).value();
  for (int32_t i = 0; i < 20; ++i) ASSERT_EQ(inst.func("callee")->call({Val::make_i32(i)}).value()[0].of.i32, i + 1);
}

TEST(TierUp, EngineDestroyedWhileCompiling) {
  for (int delay_ms : {0, 1, 5, 30}) {
    std::optional<Module> module;
    {
      Engine engine = auto_engine(10);
      module = Module::compile(engine, tierup_module(TrapIn::Callee)).value();
      make_callee_hot(engine, *module);
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    }  // the engine goes: its compiler finishes or drops the batch and joins
    // The module outlives its engine and keeps working, in whatever tier it reached.
    Engine other;
    Store store(other);
    Linker linker(other);
    linker.func_wrap("env", "sync", [](Caller&, int32_t) {});
    Instance inst = linker.instantiate(store, *module).value();
    EXPECT_EQ(inst.func("caller")->call({Val::make_i32(50)}).value()[0].of.i32, expected_sum(50)) << delay_ms;
    EXPECT_EQ(inst.func("callee")->call({Val::make_i32(7)}).value()[0].of.i32, 8);
  }
}

TEST(TierUp, ModuleDestroyedWhileCompiling) {
  Engine engine = auto_engine(10);
  for (int delay_ms : {0, 1, 5, 30}) {
    {
      Module module = Module::compile(engine, tierup_module(TrapIn::Callee)).value();
      make_callee_hot(engine, module);
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    }  // the only reference left is the pending request's
  }
  // The engine's compiler still serves new modules.
  Module module = Module::compile(engine, tierup_module(TrapIn::Callee)).value();
  make_callee_hot(engine, module);
  EXPECT_TRUE(eventually([&] { return interpreter_runs_machine_code(module, kCallee); }));
}

// With tier 1 in the policy, a function hot at its calls runs tier 1's code
// at once (compiled on the reporting thread), and tier 2's once ready.
TEST(TierUp, HotFunctionsRunTier1CodeUntilTier2sIsReady) {
  if (!baseline::host_supported()) GTEST_SKIP() << "no tier 1 on this CPU";
  Engine interp_engine;
  Module module = Module::compile(interp_engine, tierup_module(TrapIn::Callee)).value();
  llvmjit::TierUpPolicy policy = test_policy(/*on_stack_replacement=*/false);
  policy.baseline = true;
  policy.batch_window = std::chrono::milliseconds(200);  // tier 2 comes later
  auto compiler = std::make_shared<llvmjit::TierUpCompiler>(policy);
  compiler->attach(const_cast<rt::CompiledModule&>(*module.raw()));
  const llvmjit::TierUpStats before = llvmjit::tier_up_stats();
  Store store(interp_engine);
  Linker linker(interp_engine);
  linker.func_wrap("env", "sync", [](Caller&, int32_t) {});
  Instance inst = linker.instantiate(store, module).value();
  for (int32_t i = 0; i < 20; ++i) ASSERT_EQ(inst.func("callee")->call({Val::make_i32(i)}).value()[0].of.i32, i + 1);
  const rt::CompiledFunc& callee = compiled_func(module, kCallee);
  EXPECT_EQ(llvmjit::tier_up_stats().tier1_functions - before.tier1_functions, 1u);
  EXPECT_TRUE(interpreter_runs_machine_code(module, kCallee));
  EXPECT_TRUE(callee.baseline_code.load());
  EXPECT_EQ(llvmjit::tier_up_stats().functions, before.functions);  // tier 2's batch waits
  EXPECT_EQ(inst.func("callee")->call({Val::make_i32(41)}).value()[0].of.i32, 42);
  auto trap = inst.func("callee")->call({Val::make_i32(kTrapAt)});  // unreachable in tier 1's code
  ASSERT_FALSE(trap.ok());
  EXPECT_EQ(trap.error().kind, TrapKind::Unreachable);
  ASSERT_FALSE(trap.error().backtrace.empty());
  EXPECT_EQ(trap.error().backtrace[0].func_index, kCallee);
  ASSERT_TRUE(compiler->wait_idle(std::chrono::duration_cast<std::chrono::milliseconds>(kPatience)));
  EXPECT_EQ(llvmjit::tier_up_stats().functions - before.functions, 1u);
  EXPECT_FALSE(callee.baseline_code.load());
  EXPECT_EQ(inst.func("callee")->call({Val::make_i32(41)}).value()[0].of.i32, 42);
  EXPECT_EQ(inst.func("caller")->call({Val::make_i32(50)}).value()[0].of.i32, expected_sum(50));
}

// caller(n), called once, turns hot in its loop: the frame continues in
// tier 1's code at once, and moves on to tier 2's code for the loop at the
// first header it passes once that is ready. A trap in either keeps one
// frame of caller in the backtrace.
TEST(TierUp, RunningLoopMovesThroughTier1ToTier2) {
  if (!baseline::host_supported()) GTEST_SKIP() << "no tier 1 on this CPU";
  for (bool tier2_in_time : {true, false}) {
    SCOPED_TRACE(tier2_in_time ? "tier 2's code ready at iteration 300" : "a trap in tier 1's code");
    llvmjit::TierUpPolicy policy = test_policy(/*on_stack_replacement=*/true);
    policy.baseline = true;
    if (!tier2_in_time) policy.first_batch_delay = std::chrono::seconds(5);
    MixedRun run(TrapIn::Callee, policy);
    const llvmjit::TierUpStats before = llvmjit::tier_up_stats();
    bool compiled = false, checked = false;
    llvmjit::TierUpStats at_200, at_302;
    run.snapshot_at(200, at_200, checked);
    if (tier2_in_time) {
      run.hold_at(300, [&] { return llvmjit::tier_up_stats().loops > before.loops; }, compiled);
      run.snapshot_at(302, at_302, checked);
    }
    auto r = run.call("caller", 2000);  // callee traps at kTrapAt
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, TrapKind::Unreachable);
    EXPECT_EQ(frames_of(r.error()), (std::vector<uint32_t>{kCallee, kCaller}));
    EXPECT_EQ(at_200.tier1_loops_entered - before.tier1_loops_entered, 1u);
    EXPECT_EQ(at_200.loops_entered, before.loops_entered);
    if (tier2_in_time) {
      ASSERT_TRUE(compiled);
      EXPECT_EQ(at_302.loops_entered - before.loops_entered, 1u);
    } else {
      EXPECT_EQ(llvmjit::tier_up_stats().loops_entered, before.loops_entered);
    }
    EXPECT_FALSE(has_machine_code(run.module, kCaller));  // called once: only its loop compiles
    EXPECT_EQ(run.call("caller", 900).value()[0].of.i32, expected_sum(900));
  }
}

// ---- batching ---------------------------------------------------------------------

// Past the batch's byte budget the smallest functions go first; the rest
// make the next batch (tierup.h).
TEST(TierUp, LargeFunctionsWaitForTheNextBatch) {
  Engine interp_engine;
  Module module = Module::compile(interp_engine, tierup_module(TrapIn::Leaf)).value();
  auto& compiled = const_cast<rt::CompiledModule&>(*module.raw());
  const wasm::Module& wasm = *compiled.module;
  auto size_of = [&](uint32_t f) { return wasm.body(f).body_end - wasm.body(f).body_offset; };
  ASSERT_LT(size_of(kLeaf), size_of(kCaller));
  ASSERT_LT(size_of(kCallee), size_of(kCaller));
  llvmjit::TierUpPolicy policy;
  policy.batch_window = std::chrono::milliseconds(300);
  policy.batch_bytes = size_of(kLeaf) + size_of(kCallee);  // caller does not fit
  auto compiler = std::make_shared<llvmjit::TierUpCompiler>(policy);
  compiler->attach(compiled);
  const llvmjit::TierUpStats before = llvmjit::tier_up_stats();
  for (uint32_t f : {kCaller, kLeaf, kCallee}) compiler->submit({module.raw(), f - 1});
  // The first batch holds the two small functions.
  ASSERT_TRUE(eventually([&] { return llvmjit::tier_up_stats().batches > before.batches; }));
  if (llvmjit::tier_up_stats().batches == before.batches + 1) {
    EXPECT_TRUE(has_machine_code(module, kLeaf));
    EXPECT_TRUE(has_machine_code(module, kCallee));
  }
  ASSERT_TRUE(compiler->wait_idle(std::chrono::duration_cast<std::chrono::milliseconds>(kPatience)));
  const llvmjit::TierUpStats after = llvmjit::tier_up_stats();
  EXPECT_EQ(after.batches - before.batches, 2u);
  EXPECT_EQ(after.functions - before.functions, 3u);
  for (uint32_t f : {kLeaf, kCallee, kCaller}) EXPECT_TRUE(interpreter_runs_machine_code(module, f)) << f;
}

TEST(TierUp, FunctionsThatTurnHotTogetherCompileInOneBatch) {
  Engine interp_engine;
  Module module = Module::compile(interp_engine, tierup_module(TrapIn::Leaf)).value();
  auto& compiled = const_cast<rt::CompiledModule&>(*module.raw());
  llvmjit::TierUpPolicy policy;
  policy.batch_window = std::chrono::milliseconds(300);
  auto compiler = std::make_shared<llvmjit::TierUpCompiler>(policy);
  compiler->attach(compiled);  // before anything is lowered or instantiated
  const llvmjit::TierUpStats before = llvmjit::tier_up_stats();
  for (uint32_t f : {kLeaf, kCallee, kCaller}) compiler->submit({module.raw(), f - 1});
  ASSERT_TRUE(compiler->wait_idle(std::chrono::duration_cast<std::chrono::milliseconds>(kPatience)));
  const llvmjit::TierUpStats after = llvmjit::tier_up_stats();
  EXPECT_EQ(after.batches - before.batches, 1u);
  EXPECT_EQ(after.functions - before.functions, 3u);
  EXPECT_EQ(after.failed_functions, before.failed_functions);
  for (uint32_t f : {kLeaf, kCallee, kCaller}) EXPECT_TRUE(interpreter_runs_machine_code(module, f)) << f;
  // Submitting a compiled function again compiles nothing.
  compiler->submit({module.raw(), kCallee - 1});
  ASSERT_TRUE(compiler->wait_idle(std::chrono::duration_cast<std::chrono::milliseconds>(kPatience)));
  EXPECT_EQ(llvmjit::tier_up_stats().batches, after.batches);

  Store store(interp_engine);
  Linker linker(interp_engine);
  linker.func_wrap("env", "sync", [](Caller&, int32_t) {});
  Instance inst = linker.instantiate(store, module).value();
  EXPECT_EQ(inst.func("caller")->call({Val::make_i32(100)}).value()[0].of.i32, expected_sum(100));
  auto r = inst.func("caller")->call({Val::make_i32(kTrapAt + 1)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::IntDivideByZero);
  std::vector<uint32_t> frames;
  for (const BacktraceFrame& f : r.error().backtrace) frames.push_back(f.func_index);
  EXPECT_EQ(frames, (std::vector<uint32_t>{kLeaf, kCallee, kCaller}));
}

// Machine code compiled without interrupt checks cannot serve a store with
// fuel: the interpreter's calls of it fall back to its tier-0 code.
TEST(TierUp, CodeWithoutInterruptChecksIsInterpretedUnderFuel) {
  Engine interp_engine;
  Module module = Module::compile(interp_engine, fuel_module()).value();
  auto& compiled = const_cast<rt::CompiledModule&>(*module.raw());
  auto compiler = std::make_shared<llvmjit::TierUpCompiler>(llvmjit::TierUpPolicy{});
  compiler->attach(compiled);
  const uint32_t progress = 0;
  llvmjit::CompileOptions options;
  options.interruptible = false;
  auto code = llvmjit::compile(*compiled.module, {progress}, options);
  ASSERT_TRUE(code.ok()) << code.error().to_string();
  ASSERT_TRUE(llvmjit::install(compiled, code.value()).ok());
  interp::use_native_code(compiled, progress);
  ASSERT_TRUE(interpreter_runs_machine_code(module, progress));

  Store store(interp_engine);
  Instance inst = Linker(interp_engine).instantiate(store, module).value();
  EXPECT_EQ(inst.func("drive")->call({Val::make_i32(30)}).value()[0].of.i32, 29 * 30 / 2);  // machine code
  std::vector<FuelOutcome> interp = run_with_budgets(Tier::Interp);
  ASSERT_EQ(kBudgets.size(), interp.size());
  for (size_t i = 0; i < kBudgets.size(); ++i) {
    Store limited(interp_engine);
    Instance limited_inst = Linker(interp_engine).instantiate(limited, module).value();
    limited.set_fuel(kBudgets[i]);
    FuelOutcome o;
    auto r = limited_inst.func("drive")->call({Val::make_i32(30)});
    if (r.ok()) o.value = r.value()[0].of.i32;
    else o.trap = r.error().kind;
    o.fuel_left = limited.get_fuel().value();
    std::memcpy(&o.progress, limited_inst.memory("memory")->data(), 4);
    EXPECT_EQ(o, interp[i]) << "budget " << kBudgets[i];
  }
}

}  // namespace
}  // namespace skiff

// Per-store resource control: memory and table caps, instance/memory/table
// counts, call depth, fuel and epoch deadlines. Every limit ends in a trap or
// an error the host sees, and the store (and other stores) go on.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "api_builder.h"
#include "interp/interp.h"
#include "skiff/skiff.hh"

// The interpreter engineer defines skiff::rt::kInterpreterChecksInterrupts
// (true) in interp/interp.h once the tiers consume fuel and check epochs.
// Until then this fallback answers false: qualified lookup only looks through
// the using-directive when the namespace itself has no such name.
namespace skiff::rt {
namespace interrupt_checks_fallback {
constexpr bool kInterpreterChecksInterrupts = false;
}
using namespace interrupt_checks_fallback;
}  // namespace skiff::rt

namespace skiff {
namespace {

constexpr bool kTiersCheckInterrupts = skiff::rt::kInterpreterChecksInterrupts;
#define SKIP_UNLESS_TIERS_CHECK_INTERRUPTS() \
  if (!kTiersCheckInterrupts) GTEST_SKIP() << "needs interpreter fuel checks"

struct Plugin {
  Engine engine;
  Module module;
  Store store;
  Linker linker;

  explicit Plugin(EngineConfig config = {})
      : engine(config), module(Module::compile(engine, test_wasm::plugin_module()).value()), store(engine),
        linker(engine) {
    linker.func_wrap("env", "log", [](Caller&, int32_t, int32_t) {});
  }
  Result<Instance> instantiate() { return linker.instantiate(store, module); }
};

TrapKind call_kind(const Instance& inst, std::string_view name, std::initializer_list<Val> args = {}) {
  auto r = inst.func(name)->call(args);
  return r.ok() ? TrapKind::None : r.error().kind;
}

TEST(Limits, MemoryGrowStopsAtTheStoreCap) {
  Plugin p;
  StoreLimits limits;
  limits.max_memory_bytes = 4 * kPageSize;
  p.store.set_limits(limits);
  auto inst = p.instantiate();
  ASSERT_TRUE(inst.ok()) << inst.error().to_string();
  auto grow = inst->typed_func<int32_t(int32_t)>("grow").value();
  EXPECT_EQ(grow.call(2).value(), 1);   // 1 -> 3 pages
  EXPECT_EQ(grow.call(2).value(), -1);  // 5 pages would pass the cap
  EXPECT_EQ(grow.call(1).value(), 3);   // exactly at the cap
  EXPECT_EQ(grow.call(1).value(), -1);
  EXPECT_EQ(p.store.memory_bytes(), 4 * kPageSize);
  // Host-side growth obeys the same cap.
  EXPECT_EQ(inst->memory("memory")->grow(1), -1);
  EXPECT_EQ(inst->typed_func<int32_t(int32_t, int32_t)>("add")->call(1, 2).value(), 3);
}

// StoreLimits::trap_on_grow_failure: the same grow traps instead, on both
// tiers, and the store goes on (a later grow within the cap still works).
TEST(Limits, MemoryGrowPastTheCapTrapsWhenAsked) {
  for (Tier tier : {Tier::Interp, Tier::Jit}) {
    SCOPED_TRACE(tier == Tier::Jit ? "jit" : "interp");
    Plugin p(EngineConfig{.tier = tier});
    StoreLimits limits;
    limits.max_memory_bytes = 4 * kPageSize;
    limits.trap_on_grow_failure = true;
    p.store.set_limits(limits);
    EXPECT_TRUE(p.store.limits().trap_on_grow_failure);
    auto inst = p.instantiate();
    ASSERT_TRUE(inst.ok()) << inst.error().to_string();
    auto grow = inst->typed_func<int32_t(int32_t)>("grow").value();
    EXPECT_EQ(grow.call(2).value(), 1);  // 1 -> 3 pages
    auto past = grow.call(2);            // 5 pages would pass the cap
    ASSERT_FALSE(past.ok());
    EXPECT_EQ(past.error().kind, TrapKind::MemoryLimit);
    EXPECT_NE(std::string(past.error().what()).find("memory limit"), std::string::npos) << past.error().what();
    EXPECT_EQ(p.store.memory_bytes(), 3 * kPageSize);
    EXPECT_EQ(grow.call(1).value(), 3);  // exactly at the cap
    EXPECT_EQ(call_kind(*inst, "grow", {Val::make_i32(1)}), TrapKind::MemoryLimit);
    // The host's Memory::grow keeps returning -1.
    EXPECT_EQ(inst->memory("memory")->grow(1), -1);
    EXPECT_EQ(inst->typed_func<int32_t(int32_t, int32_t)>("add")->call(1, 2).value(), 3);
  }
}

TEST(Limits, InstantiationNeedingMoreMemoryFailsClearly) {
  Plugin p;
  StoreLimits limits;
  limits.max_memory_bytes = kPageSize + kPageSize / 2;
  p.store.set_limits(limits);
  ASSERT_TRUE(p.instantiate().ok());  // 1 page
  auto second = p.instantiate();      // another page: 2 > 1.5
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::ResourceLimit);
  EXPECT_NE(second.error().detail.find("memory limit"), std::string::npos) << second.error().detail;
  auto host_memory = Memory::create(p.store, MemoryType{Limits{1, std::nullopt}});
  EXPECT_FALSE(host_memory.ok());
}

TEST(Limits, MemoryCapIsPerStore) {
  Plugin a, b;
  StoreLimits limits;
  limits.max_memory_bytes = kPageSize;
  a.store.set_limits(limits);
  auto ia = a.instantiate();
  auto ib = b.instantiate();
  ASSERT_TRUE(ia.ok() && ib.ok());
  EXPECT_EQ(ia->typed_func<int32_t(int32_t)>("grow")->call(1).value(), -1);
  EXPECT_EQ(ib->typed_func<int32_t(int32_t)>("grow")->call(1).value(), 1);
}

TEST(Limits, TableElementCap) {
  Plugin p;
  StoreLimits limits;
  limits.max_table_elements = 3;
  p.store.set_limits(limits);
  auto inst = p.instantiate();  // its table starts with 1 element
  ASSERT_TRUE(inst.ok()) << inst.error().to_string();
  auto grow = inst->typed_func<int32_t(int32_t)>("table_grow").value();
  EXPECT_EQ(grow.call(2).value(), 1);
  EXPECT_EQ(grow.call(1).value(), -1);
  EXPECT_EQ(inst->table("table")->grow(1, Val::null_of(ValType::FuncRef)), -1);
  auto host_table = Table::create(p.store, TableType{ValType::FuncRef, Limits{1, std::nullopt}},
                                  Val::null_of(ValType::FuncRef));
  ASSERT_FALSE(host_table.ok());
  EXPECT_EQ(host_table.error().code, ErrorCode::ResourceLimit);
}

TEST(Limits, InstanceMemoryAndTableCounts) {
  {
    Plugin p;
    StoreLimits limits;
    limits.max_instances = 3;
    p.store.set_limits(limits);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(p.instantiate().ok());
    auto fourth = p.instantiate();
    ASSERT_FALSE(fourth.ok());
    EXPECT_EQ(fourth.error().code, ErrorCode::ResourceLimit);
    EXPECT_NE(fourth.error().detail.find("instance"), std::string::npos);
  }
  {
    Plugin p;
    StoreLimits limits;
    limits.max_memories = 2;
    p.store.set_limits(limits);
    ASSERT_TRUE(p.instantiate().ok());
    ASSERT_TRUE(p.instantiate().ok());
    auto third = p.instantiate();
    ASSERT_FALSE(third.ok());
    EXPECT_NE(third.error().detail.find("memories"), std::string::npos);
  }
  {
    Plugin p;
    StoreLimits limits;
    limits.max_tables = 1;
    p.store.set_limits(limits);
    ASSERT_TRUE(p.instantiate().ok());
    auto second = p.instantiate();
    ASSERT_FALSE(second.ok());
    EXPECT_NE(second.error().detail.find("tables"), std::string::npos);
  }
}

TEST(Limits, CallDepthCap) {
  Plugin p;
  StoreLimits limits;
  limits.max_call_depth = 100;
  p.store.set_limits(limits);
  EXPECT_EQ(p.store.limits().max_call_depth, 100u);
  auto inst = p.instantiate();
  ASSERT_TRUE(inst.ok());
  auto depth = inst->typed_func<int32_t(int32_t)>("depth").value();
  EXPECT_EQ(depth.call(50).value(), 50);
  auto deep = depth.call(500);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().kind, TrapKind::StackExhausted);
  EXPECT_EQ(depth.call(90).value(), 90);
  // Never more than the engine reserved.
  limits.max_call_depth = 1u << 30;
  p.store.set_limits(limits);
  EXPECT_EQ(p.store.limits().max_call_depth, p.engine.config().max_call_depth);
}

TEST(Limits, FuelAccounting) {
  Plugin p;
  EXPECT_FALSE(p.store.get_fuel().ok());  // off until set
  p.store.set_fuel(12345);
  ASSERT_TRUE(p.store.get_fuel().ok());
  EXPECT_EQ(p.store.get_fuel().value(), 12345u);
  p.store.clear_interrupts();
  EXPECT_FALSE(p.store.get_fuel().ok());
}

TEST(Limits, PassedDeadlineStopsTheNextCall) {
  Plugin p;
  auto inst = p.instantiate();
  ASSERT_TRUE(inst.ok());
  p.store.set_epoch_deadline(0);
  EXPECT_EQ(call_kind(*inst, "add", {Val::make_i32(1), Val::make_i32(2)}), TrapKind::Interrupted);
  p.store.set_epoch_deadline(5);
  EXPECT_EQ(call_kind(*inst, "add", {Val::make_i32(1), Val::make_i32(2)}), TrapKind::None);
  for (int i = 0; i < 5; ++i) p.engine.increment_epoch();
  EXPECT_EQ(call_kind(*inst, "add", {Val::make_i32(1), Val::make_i32(2)}), TrapKind::Interrupted);
  p.store.clear_interrupts();
  EXPECT_EQ(call_kind(*inst, "add", {Val::make_i32(1), Val::make_i32(2)}), TrapKind::None);
}

TEST(Limits, FuelStopsAnInfiniteLoop) {
  SKIP_UNLESS_TIERS_CHECK_INTERRUPTS();
  Plugin p;
  auto inst = p.instantiate();
  ASSERT_TRUE(inst.ok());
  for (const char* name : {"spin", "nested_spin", "recurse"}) {
    p.store.set_fuel(1000);
    EXPECT_EQ(call_kind(*inst, name), TrapKind::OutOfFuel) << name;
    EXPECT_EQ(p.store.get_fuel().value(), 0u);
  }
  p.store.set_fuel(1000);
  EXPECT_EQ(call_kind(*inst, "add", {Val::make_i32(1), Val::make_i32(2)}), TrapKind::None);
}

// Deterministic: the same budget stops at the same point, and each loop
// iteration costs exactly one unit.
TEST(Limits, FuelIsDeterministic) {
  SKIP_UNLESS_TIERS_CHECK_INTERRUPTS();
  Plugin p;
  auto inst = p.instantiate();
  ASSERT_TRUE(inst.ok());
  auto count = inst->typed_func<int32_t(int32_t)>("count").value();
  auto consumed = [&](int32_t n) {
    p.store.set_fuel(1'000'000);
    EXPECT_TRUE(count.call(n).ok());
    return 1'000'000 - static_cast<int64_t>(p.store.get_fuel().value());
  };
  int64_t c100 = consumed(100), c200 = consumed(200);
  EXPECT_EQ(consumed(100), c100);
  EXPECT_EQ(c200 - c100, 100);
  p.store.set_fuel(static_cast<uint64_t>(c100 - 1));
  EXPECT_EQ(count.call(100).error().kind, TrapKind::OutOfFuel);
  p.store.set_fuel(static_cast<uint64_t>(c100));
  EXPECT_TRUE(count.call(100).ok());
}

TEST(Limits, EpochDeadlineInterruptsLoops) {
  SKIP_UNLESS_TIERS_CHECK_INTERRUPTS();
  Plugin p;
  auto inst = p.instantiate();
  ASSERT_TRUE(inst.ok());
  EpochTicker ticker(p.engine, std::chrono::milliseconds(1));
  for (const char* name : {"spin", "nested_spin"}) {
    p.store.set_epoch_deadline(ticker.ticks_for(std::chrono::milliseconds(20)));
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(call_kind(*inst, name), TrapKind::Interrupted) << name;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  }
  p.store.clear_interrupts();
  EXPECT_EQ(call_kind(*inst, "add", {Val::make_i32(1), Val::make_i32(2)}), TrapKind::None);
}

// A host thread bumps the epoch while another store keeps running freely.
TEST(Limits, EpochIsPerStoreDeadline) {
  SKIP_UNLESS_TIERS_CHECK_INTERRUPTS();
  Engine engine;
  auto module = Module::compile(engine, test_wasm::plugin_module()).value();
  Linker linker(engine);
  linker.func_wrap("env", "log", [](int32_t, int32_t) {});
  Store limited(engine), free_store(engine);
  auto a = linker.instantiate(limited, module).value();
  auto b = linker.instantiate(free_store, module).value();
  limited.set_epoch_deadline(1);
  std::thread bump([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    engine.increment_epoch();
  });
  EXPECT_EQ(call_kind(a, "spin"), TrapKind::Interrupted);
  bump.join();
  EXPECT_EQ(b.typed_func<int32_t(int32_t)>("count")->call(100000).value(), 100000);
}

TEST(Limits, ParseByteSize) {
  EXPECT_EQ(parse_byte_size("4096").value(), 4096u);
  EXPECT_EQ(parse_byte_size("64K").value(), 65536u);
  EXPECT_EQ(parse_byte_size("16m").value(), 16u << 20);
  EXPECT_EQ(parse_byte_size("2G").value(), 2ull << 30);
  EXPECT_EQ(parse_byte_size("1GiB").value(), 1ull << 30);
  EXPECT_EQ(parse_byte_size("512kb").value(), 512u << 10);
  for (const char* bad : {"", "K", "12Q", "-5", "1.5G", "99999999999999999999", "17179869184G", " 5"})
    EXPECT_FALSE(parse_byte_size(bad).ok()) << bad;
}

TEST(Limits, ParseDuration) {
  using namespace std::chrono;
  EXPECT_EQ(parse_duration("2s").value(), seconds(2));
  EXPECT_EQ(parse_duration("500ms").value(), milliseconds(500));
  EXPECT_EQ(parse_duration("1.5s").value(), milliseconds(1500));
  EXPECT_EQ(parse_duration("3").value(), seconds(3));
  EXPECT_EQ(parse_duration("2m").value(), minutes(2));
  for (const char* bad : {"", "s", "5 parsecs", "-1s", "1e30s"}) EXPECT_FALSE(parse_duration(bad).ok()) << bad;
}

TEST(Limits, EpochTickerAdvancesTheEpoch) {
  Engine engine;
  uint64_t start = engine.current_epoch();
  {
    EpochTicker ticker(engine, std::chrono::milliseconds(1));
    EXPECT_EQ(ticker.ticks_for(std::chrono::seconds(2)), 2000u);
    EXPECT_EQ(ticker.ticks_for(std::chrono::microseconds(1)), 1u);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (engine.current_epoch() < start + 3 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GE(engine.current_epoch(), start + 3);
}

}  // namespace
}  // namespace skiff

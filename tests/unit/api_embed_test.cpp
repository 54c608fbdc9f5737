// The embedding guarantees of issue 5: a host loads an untrusted plug-in,
// every way the plug-in misbehaves ends in the right trap, and the host (and
// other stores) go on. Also typed host functions, typed calls, checked
// memory views, a Module shared by threads, and memory freed with the Store.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>

#include "api_builder.h"
#include "skiff/skiff.hh"

namespace skiff {
namespace {

using test_wasm::plugin_module;

// A host with the plug-in loaded; `logged` collects what env.log received.
struct PluginHost {
  Engine engine;
  Module module;
  Store store;
  Linker linker;
  Instance instance;
  std::vector<std::string> logged;
  std::vector<std::string> host_errors;

  PluginHost() : module(Module::compile(engine, plugin_module()).value()), store(engine), linker(engine) {
    linker.func_wrap("env", "log", [this](Caller& caller, int32_t ptr, int32_t len) -> Result<void, Trap> {
      // Pointers from the guest are untrusted: the view checks them.
      auto text = caller.memory().string(static_cast<uint32_t>(ptr), static_cast<uint32_t>(len));
      if (!text) {
        host_errors.push_back(text.error().what());
        return text.error();
      }
      logged.emplace_back(*text);
      return {};
    });
    auto inst = linker.instantiate(store, module);
    EXPECT_TRUE(inst.ok()) << (inst.ok() ? "" : inst.error().to_string());
    instance = inst.value();
  }

  // The host keeps serving: a plain call still works.
  void expect_alive() {
    auto add = instance.typed_func<int32_t(int32_t, int32_t)>("add");
    ASSERT_TRUE(add.ok());
    auto r = add->call(40, 2);
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(*r, 42);
  }

  TrapKind trap_of(std::string_view name, std::initializer_list<Val> args = {}) {
    auto f = instance.func(name);
    EXPECT_TRUE(f.has_value()) << name;
    if (!f) return TrapKind::None;
    auto r = f->call(args);
    return r.ok() ? TrapKind::None : r.error().kind;
  }
};

TEST(ApiEmbed, HostFunctionReceivesGuestString) {
  PluginHost host;
  EXPECT_EQ(host.trap_of("hello"), TrapKind::None);
  ASSERT_EQ(host.logged.size(), 1u);
  EXPECT_EQ(host.logged[0], "hello");
}

TEST(ApiEmbed, InfiniteRecursionTrapsAndHostContinues) {
  PluginHost host;
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(host.trap_of("recurse"), TrapKind::StackExhausted);
    host.expect_alive();
  }
}

TEST(ApiEmbed, DivideByZeroAndUnreachable) {
  PluginHost host;
  EXPECT_EQ(host.trap_of("div", {Val::make_i32(1), Val::make_i32(0)}), TrapKind::IntDivideByZero);
  host.expect_alive();
  EXPECT_EQ(host.trap_of("div", {Val::make_i32(INT32_MIN), Val::make_i32(-1)}), TrapKind::IntOverflow);
  host.expect_alive();
  EXPECT_EQ(host.trap_of("boom"), TrapKind::Unreachable);
  host.expect_alive();
}

TEST(ApiEmbed, WildPointersGiveTheHostAnError) {
  PluginHost host;
  const std::pair<int32_t, int32_t> wild[] = {
      {-16, 100},            // 0xfffffff0: far past the 64 KiB memory
      {65530, 100},          // runs off the end
      {0, INT32_MAX},        // absurd length
      {-1, -1},              // both at the top of the address range
      {65536, 0},            // empty but one past the end is fine...
  };
  for (auto [ptr, len] : wild) {
    size_t before = host.host_errors.size();
    TrapKind k = host.trap_of("say", {Val::make_i32(ptr), Val::make_i32(len)});
    if (ptr == 65536 && len == 0) {
      EXPECT_EQ(k, TrapKind::None);  // ...an empty range at the end is in bounds
      continue;
    }
    EXPECT_EQ(k, TrapKind::MemoryOutOfBounds) << ptr << "," << len;
    EXPECT_EQ(host.host_errors.size(), before + 1);
    host.expect_alive();
  }
  EXPECT_EQ(host.trap_of("say", {Val::make_i32(0), Val::make_i32(5)}), TrapKind::None);
  EXPECT_EQ(host.logged.back(), "hello");
}

TEST(ApiEmbed, MemoryViewChecksEveryAccess) {
  std::vector<uint8_t> bytes(16, 0);
  MemoryView view(bytes.data(), bytes.size());
  EXPECT_TRUE(view.read(0, 16).ok());
  EXPECT_TRUE(view.read(16, 0).ok());
  EXPECT_FALSE(view.read(16, 1).ok());
  EXPECT_FALSE(view.read(UINT64_MAX, 2).ok());
  EXPECT_FALSE(view.read(8, UINT64_MAX).ok());
  ASSERT_TRUE(view.store<uint32_t>(12, 0xdeadbeef).ok());
  EXPECT_FALSE(view.store<uint32_t>(13, 1).ok());
  auto v = view.load<uint32_t>(12);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 0xdeadbeefu);
  EXPECT_EQ(view.read(20, 1).error().kind, TrapKind::MemoryOutOfBounds);
  MemoryView none;
  EXPECT_FALSE(none.read(0, 0).ok());
}

TEST(ApiEmbed, TypedHostFunctionsDeriveTheirType) {
  Engine engine;
  Store store(engine);
  Func plain = Func::wrap(store, [](int32_t a, int64_t b) { return b + a; });
  EXPECT_EQ(plain.type().to_string(), FuncType({ValType::I32, ValType::I64}, {ValType::I64}).to_string());
  auto r = plain.call({Val::make_i32(2), Val::make_i64(40)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()[0].of.i64, 42);

  Func swap = Func::wrap(store, [](Caller&, float f, double d) { return std::make_tuple(d, f); });
  auto typed_swap = swap.typed<std::tuple<double, float>(float, double)>();
  ASSERT_TRUE(typed_swap.ok()) << typed_swap.error().to_string();
  auto swapped = typed_swap->call(1.5f, 2.25);
  ASSERT_TRUE(swapped.ok());
  EXPECT_EQ(std::get<0>(*swapped), 2.25);
  EXPECT_EQ(std::get<1>(*swapped), 1.5f);

  Func checked = Func::wrap(store, [](uint32_t x) -> Result<uint32_t, Trap> {
    if (x == 0) return Trap(TrapKind::Host, "zero is not allowed");
    return x * 2;
  });
  auto typed_checked = checked.typed<uint32_t(uint32_t)>();
  ASSERT_TRUE(typed_checked.ok());
  EXPECT_EQ(typed_checked->call(21).value(), 42u);
  auto refused = typed_checked->call(0);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, TrapKind::Host);
  EXPECT_EQ(std::string(refused.error().what()), "zero is not allowed");

  Func thrower = Func::wrap(store, []() -> int32_t { throw std::runtime_error("kaput"); });
  auto thrown = thrower.call({});
  ASSERT_FALSE(thrown.ok());
  EXPECT_EQ(thrown.error().kind, TrapKind::Host);
  EXPECT_NE(std::string(thrown.error().what()).find("kaput"), std::string::npos);

  Func quitter = Func::wrap(store, [](Caller&) -> std::optional<Trap> { return Caller::exit(3); });
  auto quit = quitter.call({});
  ASSERT_FALSE(quit.ok());
  EXPECT_EQ(quit.error().kind, TrapKind::Exit);
  EXPECT_EQ(quit.error().exit_code, 3);
}

TEST(ApiEmbed, HostExitStopsTheGuest) {
  Engine engine;
  Store store(engine);
  Linker linker(engine);
  int calls = 0;
  linker.func_wrap("env", "log", [&](Caller&, int32_t, int32_t) -> std::optional<Trap> {
    ++calls;
    return Caller::exit(7);
  });
  auto module = Module::compile(engine, plugin_module());
  ASSERT_TRUE(module.ok());
  auto inst = linker.instantiate(store, *module);
  ASSERT_TRUE(inst.ok());
  auto r = inst->func("hello")->call({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::Exit);
  EXPECT_EQ(r.error().exit_code, 7);
  EXPECT_EQ(calls, 1);
}

TEST(ApiEmbed, TypedFuncChecksTheSignature) {
  PluginHost host;
  auto add = host.instance.typed_func<int32_t(int32_t, int32_t)>("add");
  ASSERT_TRUE(add.ok());
  for (int32_t i = 0; i < 1000; ++i) EXPECT_EQ(add->call(i, i).value(), 2 * i);
  auto wrong = host.instance.typed_func<int64_t(int32_t, int32_t)>("add");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::ArgumentMismatch);
  auto missing = host.instance.typed_func<void()>("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::UnknownExport);
  auto boom = host.instance.typed_func<void()>("boom");
  ASSERT_TRUE(boom.ok());
  auto r = boom->call();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::Unreachable);
}

// One compiled Module, many stores on several threads at once: lowering
// happens lazily on first call, so the threads race to lower the same code.
TEST(ApiEmbed, SharedModuleAcrossThreads) {
  Engine engine;
  auto module = Module::compile(engine, plugin_module());
  ASSERT_TRUE(module.ok());
  constexpr int kThreads = 4, kInstancesPerThread = 250;
  std::atomic<int> ready{0}, good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      Linker linker(engine);
      int logs = 0;
      linker.func_wrap("env", "log", [&](Caller& c, int32_t p, int32_t n) {
        if (c.memory().string(static_cast<uint32_t>(p), static_cast<uint32_t>(n)).ok()) ++logs;
      });
      std::unique_ptr<Store> store;
      for (int i = 0; i < kInstancesPerThread; ++i) {
        // A fresh store every 50 instances: several stores per thread.
        if (i % 50 == 0) store = std::make_unique<Store>(engine);
        auto inst = linker.instantiate(*store, *module);
        if (!inst) continue;
        auto add = inst->typed_func<int32_t(int32_t, int32_t)>("add");
        auto count = inst->typed_func<int32_t(int32_t)>("count");
        auto hello = inst->typed_func<void()>("hello");
        if (!add || !count || !hello) continue;
        auto sum = add->call(t, i);
        auto n = count->call(100 + i);
        auto h = hello->call();
        if (sum.ok() && *sum == t + i && n.ok() && *n == 100 + i && h.ok()) good.fetch_add(1);
      }
      EXPECT_EQ(logs, kInstancesPerThread);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), kThreads * kInstancesPerThread);
}

uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// Every instance writes to its memory (so its pages are really committed);
// if dropping a Store did not free them, 100,000 of them would need 6 GiB.
TEST(ApiEmbed, DroppingStoresFreesMemories) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's quarantine keeps freed blocks resident, so RSS says nothing here";
#endif
  Engine engine;
  test_wasm::ModuleBuilder b;
  using namespace test_wasm::op;
  uint32_t t = b.type({}, {test_wasm::kI32});
  b.memory(1);
  b.data(100, "x");
  b.export_func("touch", b.func(t, test_wasm::seq({i32_const(60000), i32_const(7), i32_store(), i32_const(60000),
                                                   i32_load()})));
  auto module = Module::compile(engine, b.build());
  ASSERT_TRUE(module.ok()) << module.error().to_string();
  Linker linker(engine);
  auto run_batch = [&](int stores, int per_store) {
    int ok = 0;
    for (int s = 0; s < stores; ++s) {
      Store store(engine);
      for (int i = 0; i < per_store; ++i) {
        auto inst = linker.instantiate(store, *module);
        if (!inst) continue;
        auto r = inst->typed_func<int32_t()>("touch")->call();
        if (r.ok() && *r == 7) ++ok;
      }
    }
    return ok;
  };
  EXPECT_EQ(run_batch(10, 100), 1000);  // warm up allocators and lowering
  uint64_t before = resident_bytes();
  EXPECT_EQ(run_batch(1000, 100), 100000);
  uint64_t after = resident_bytes();
  EXPECT_LT(after, before + (64u << 20)) << "RSS grew from " << before << " to " << after;
}

}  // namespace
}  // namespace skiff

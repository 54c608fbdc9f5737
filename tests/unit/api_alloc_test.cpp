// The hot paths of the embedding API allocate nothing: a TypedFunc call and
// a call from wasm into a func_wrap host function. Counts every operator new
// in this test binary (the replacement only counts, then forwards to malloc).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "api_builder.h"
#include "skiff/skiff.hh"

#if !defined(__SANITIZE_ADDRESS__)
#define SKIFF_COUNT_ALLOCATIONS 1
// GCC cannot see that this file's operator new is malloc underneath.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<uint64_t> g_allocations{0};
}
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace skiff {
namespace {

TEST(ApiAlloc, TypedCallsDoNotAllocate) {
#ifndef SKIFF_COUNT_ALLOCATIONS
  GTEST_SKIP() << "operator new is the sanitizer's in this build";
#else
  Engine engine;
  auto module = Module::compile(engine, test_wasm::plugin_module());
  ASSERT_TRUE(module.ok());
  Store store(engine);
  Linker linker(engine);
  int logged = 0;
  linker.func_wrap("env", "log", [&](Caller& c, int32_t ptr, int32_t len) {
    if (c.memory().read(static_cast<uint32_t>(ptr), static_cast<uint32_t>(len)).ok()) ++logged;
  });
  auto inst = linker.instantiate(store, *module);
  ASSERT_TRUE(inst.ok());
  auto add = inst->typed_func<int32_t(int32_t, int32_t)>("add").value();
  auto hello = inst->typed_func<void()>("hello").value();
  ASSERT_TRUE(add.call(1, 2).ok());  // first calls lower the code
  ASSERT_TRUE(hello.call().ok());

  uint64_t before = g_allocations.load();
  int32_t sum = 0;
  for (int i = 0; i < 10000; ++i) {
    auto r = add.call(sum, 1);
    if (r.ok()) sum = r.value();
    (void)hello.call();
  }
  uint64_t after = g_allocations.load();
  EXPECT_EQ(sum, 10000);
  EXPECT_EQ(logged, 10001);
  EXPECT_EQ(after - before, 0u);
#endif
}

}  // namespace
}  // namespace skiff

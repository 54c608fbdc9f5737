// Calls an exported function many times and reports calls per second, for
// the typed (unboxed) path and the boxed Func::call path.
// Usage: call_bench bench.wasm [calls]   (default: one million)
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "skiff/skiff.hh"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s bench.wasm [calls]\n", argv[0]);
    return 2;
  }
  const long calls = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 1'000'000;
  if (calls <= 0) {
    std::fprintf(stderr, "calls must be positive\n");
    return 2;
  }
  skiff::Engine engine;
  auto module = skiff::Module::from_file(engine, argv[1]);
  if (!module) {
    std::fprintf(stderr, "cannot load %s: %s\n", argv[1], module.error().to_string().c_str());
    return 1;
  }
  skiff::Store store(engine);
  skiff::Linker linker(engine);
  auto instance = linker.instantiate(store, *module);
  if (!instance) {
    std::fprintf(stderr, "cannot instantiate: %s\n", instance.error().to_string().c_str());
    return 1;
  }
  auto add = instance->typed_func<int32_t(int32_t, int32_t)>("add");
  if (!add) {
    std::fprintf(stderr, "%s\n", add.error().to_string().c_str());
    return 1;
  }

  using Clock = std::chrono::steady_clock;
  auto report = [&](const char* what, Clock::duration elapsed) {
    double seconds = std::chrono::duration<double>(elapsed).count();
    std::printf("%-6s %ld calls in %.3f s: %.0f calls/s\n", what, calls, seconds, calls / seconds);
  };

  int32_t sum = 0;
  auto start = Clock::now();
  for (long i = 0; i < calls; ++i) {
    auto r = add->call(sum, 1);
    if (!r) {
      std::fprintf(stderr, "trap: %s\n", r.error().what());
      return 1;
    }
    sum = r.value();
  }
  report("typed", Clock::now() - start);

  skiff::Func boxed = add->func();
  int32_t boxed_sum = 0;
  start = Clock::now();
  for (long i = 0; i < calls; ++i) {
    auto r = boxed.call({skiff::Val::make_i32(boxed_sum), skiff::Val::make_i32(1)});
    if (!r) return 1;
    boxed_sum = r.value()[0].of.i32;
  }
  report("boxed", Clock::now() - start);
  return sum == calls && boxed_sum == calls ? 0 : 1;
}

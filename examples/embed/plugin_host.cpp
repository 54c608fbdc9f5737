// A host that loads an untrusted plug-in, gives it a `log` function, limits
// its memory, and survives whatever it does. Usage: plugin_host plugin.wasm
#include <cstdio>
#include <string>

#include "skiff/skiff.hh"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s plugin.wasm\n", argv[0]);
    return 2;
  }
  skiff::Engine engine;
  auto module = skiff::Module::from_file(engine, argv[1]);
  if (!module) {
    std::fprintf(stderr, "cannot load %s: %s\n", argv[1], module.error().to_string().c_str());
    return 1;
  }

  // One store per tenant, with its limits.
  skiff::Store store(engine);
  skiff::StoreLimits limits;
  limits.max_memory_bytes = 4 * skiff::kPageSize;
  limits.max_instances = 1;
  store.set_limits(limits);

  // The host function: its wasm type (i32, i32) -> () comes from the lambda.
  // Guest pointers are checked; a bad one becomes a trap, never a host crash.
  skiff::Linker linker(engine);
  int lines = 0;
  linker.func_wrap("env", "log", [&](skiff::Caller& caller, int32_t ptr, int32_t len) -> skiff::Result<void, skiff::Trap> {
    auto text = caller.memory().string(static_cast<uint32_t>(ptr), static_cast<uint32_t>(len));
    if (!text) return text.error();
    std::printf("plug-in says: %.*s\n", static_cast<int>(text->size()), text->data());
    ++lines;
    return {};
  });

  auto instance = linker.instantiate(store, *module);
  if (!instance) {
    std::fprintf(stderr, "cannot instantiate: %s\n", instance.error().to_string().c_str());
    return 1;
  }

  auto run = instance->typed_func<int32_t(int32_t)>("run");
  if (!run) {
    std::fprintf(stderr, "%s\n", run.error().to_string().c_str());
    return 1;
  }
  auto squared = run->call(12);
  if (!squared) {
    std::fprintf(stderr, "run trapped: %s\n", squared.error().to_string().c_str());
    return 1;
  }
  std::printf("run(12) = %d\n", squared.value());

  // Misbehaviour: each ends in a trap the host reports, then the host goes on.
  int traps = 0;
  for (const char* name : {"bad_pointer", "crash", "recurse_forever"}) {
    auto f = instance->typed_func<void()>(name);
    if (!f) return 1;
    auto r = f->call();
    if (r.ok()) {
      std::fprintf(stderr, "%s did not trap\n", name);
      return 1;
    }
    std::printf("%s trapped: %s\n", name, r.error().what());
    ++traps;
  }
  auto pages = instance->typed_func<int32_t()>("grow_until_refused");
  if (!pages) return 1;
  auto grown = pages->call();
  if (!grown) return 1;
  std::printf("memory stopped growing at %d pages (store limit %llu bytes)\n", grown.value(),
              static_cast<unsigned long long>(limits.max_memory_bytes));

  // Still serving.
  auto again = run->call(3);
  if (!again || again.value() != 9) return 1;
  std::printf("run(3) = %d after %d traps\n", again.value(), traps);
  return lines == 2 && grown.value() == 4 ? 0 : 1;
}

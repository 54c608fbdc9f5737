// In-process costs an embedder pays, measured through the public API:
//   skiff_embed_bench [MODULE.wasm]
// compile (decode+validate+lower) time, instantiation time (fresh Store +
// instantiate, median over many), host->wasm call rate (typed and boxed
// Func::call) and wasm->host call rate. MODULE must import nothing; without
// it, only the built-in probe module is used. Prints one JSON object.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "skiff/skiff.hh"

namespace {

using Clock = std::chrono::steady_clock;

// (module
//   (import "env" "inc" (func $inc (param i32) (result i32)))
//   (memory 1)
//   (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
//   (func (export "call_host") (param i32) (result i32) (local $acc i32)
//     (loop $top (local.set $acc (call $inc (local.get $acc)))
//       (br_if $top (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
//     (local.get $acc)))
const std::vector<uint8_t> kProbeModule = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x02, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f,
    0x60, 0x01, 0x7f, 0x01, 0x7f, 0x02, 0x0b, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x69, 0x6e, 0x63, 0x00,
    0x01, 0x03, 0x03, 0x02, 0x00, 0x01, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x13, 0x02, 0x03, 0x61, 0x64,
    0x64, 0x00, 0x01, 0x09, 0x63, 0x61, 0x6c, 0x6c, 0x5f, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x02, 0x0a, 0x22,
    0x02, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, 0x18, 0x01, 0x01, 0x7f, 0x03, 0x40, 0x20, 0x01,
    0x10, 0x00, 0x21, 0x01, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b, 0x20, 0x01, 0x0b};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "skiff_embed_bench: %s\n", what.c_str());
  std::exit(1);
}

void add_inc(skiff::Linker& linker) {
  linker.func_wrap("env", "inc", [](skiff::Caller&, int32_t x) -> int32_t { return x + 1; });
}

// Median microseconds for Module::compile of `bytes`.
double compile_us(const skiff::Engine& engine, const std::vector<uint8_t>& bytes, int rounds) {
  std::vector<double> t;
  for (int i = 0; i < rounds; i++) {
    auto start = Clock::now();
    auto m = skiff::Module::compile(engine, bytes);
    t.push_back(seconds_since(start) * 1e6);
    if (!m) fail("compile: " + m.error().to_string());
  }
  return median(t);
}

// Median microseconds for a fresh Store plus instantiate (the per-request cost of a server).
double instantiate_us(const skiff::Engine& engine, const skiff::Module& module, bool probe, int rounds) {
  skiff::Linker linker(engine);
  if (probe) add_inc(linker);
  std::vector<double> t;
  for (int i = 0; i < rounds; i++) {
    auto start = Clock::now();
    skiff::Store store(engine);
    auto inst = linker.instantiate(store, module);
    t.push_back(seconds_since(start) * 1e6);
    if (!inst) fail("instantiate: " + inst.error().to_string());
  }
  return median(t);
}

}  // namespace

int main(int argc, char** argv) {
  skiff::Engine engine;
  const int kRounds = 1000;

  auto probe = skiff::Module::compile(engine, kProbeModule);
  if (!probe) fail("probe module: " + probe.error().to_string());
  skiff::Store store(engine);
  skiff::Linker linker(engine);
  add_inc(linker);
  auto inst = linker.instantiate(store, *probe);
  if (!inst) fail("probe instantiate: " + inst.error().to_string());

  // host -> wasm, typed (unboxed) calls.
  auto add = inst->typed_func<int32_t(int32_t, int32_t)>("add");
  if (!add) fail("typed add: " + add.error().to_string());
  const int kCalls = 2'000'000;
  int32_t acc = 0;
  auto start = Clock::now();
  for (int i = 0; i < kCalls; i++) {
    auto r = add->call(acc, 1);
    if (!r) fail(std::string("add trapped: ") + r.error().what());
    acc = *r;
  }
  double typed_rate = kCalls / seconds_since(start);
  if (acc != kCalls) fail("add returned a wrong sum");

  // host -> wasm, boxed Func::call.
  auto add_func = inst->func("add");
  const int kBoxedCalls = 500'000;
  start = Clock::now();
  for (int i = 0; i < kBoxedCalls; i++) {
    auto r = add_func->call({skiff::Val::make_i32(i), skiff::Val::make_i32(1)});
    if (!r) fail(std::string("boxed add trapped: ") + r.error().what());
  }
  double boxed_rate = kBoxedCalls / seconds_since(start);

  // wasm -> host: one loop in wasm calling the imported function.
  auto call_host = inst->typed_func<int32_t(int32_t)>("call_host");
  if (!call_host) fail("typed call_host: " + call_host.error().to_string());
  const int kHostCalls = 2'000'000;
  start = Clock::now();
  auto hr = call_host->call(kHostCalls);
  double host_rate = kHostCalls / seconds_since(start);
  if (!hr || *hr != kHostCalls) fail("call_host returned a wrong count");

  double probe_inst_us = instantiate_us(engine, *probe, true, kRounds);
  double probe_compile_us = compile_us(engine, kProbeModule, kRounds);

  std::string file_json;
  if (argc > 1) {
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) fail(std::string("cannot read ") + argv[1]);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto module = skiff::Module::compile(engine, bytes);
    if (!module) fail(std::string(argv[1]) + ": " + module.error().to_string());
    double c = compile_us(engine, bytes, 50);
    double i = instantiate_us(engine, *module, false, kRounds);
    char buf[512];
    std::snprintf(buf, sizeof buf, ", \"module\": {\"file\": \"%s\", \"bytes\": %zu, \"compile_us\": %.2f, \"instantiate_us\": %.2f}",
                  argv[1], bytes.size(), c, i);
    file_json = buf;
  }
  std::printf("{\"probe_compile_us\": %.2f, \"probe_instantiate_us\": %.2f, \"host_to_wasm_typed_calls_per_s\": %.0f, "
              "\"host_to_wasm_boxed_calls_per_s\": %.0f, \"wasm_to_host_calls_per_s\": %.0f%s}\n",
              probe_compile_us, probe_inst_us, typed_rate, boxed_rate, host_rate, file_json.c_str());
  return 0;
}

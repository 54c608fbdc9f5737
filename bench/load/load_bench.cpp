// Load-time throughput of one module, phase by phase:
//   load_bench FILE.wasm [--repeat N] [--only validate1]
// prints MB/s (of the whole file) for reading, decoding the sections,
// validating every body on one thread and with the parallel validator, and
// lowering every body to tier-0 code on one thread. Built by bench/load/run
// against a skiff_core library.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "interp/lower.h"
#include "runtime/objects.h"
#include "wasm/module.h"
#include "wasm/validator.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Best of `repeat` runs: the machine is shared, the minimum is the least noisy.
double best_of(int repeat, const std::function<void()>& body) {
  double best = 1e30;
  for (int i = 0; i < repeat; ++i) {
    auto t0 = Clock::now();
    body();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

bool read_all(const char* path, std::vector<uint8_t>& out) {
  FILE* f = std::fopen(path, "rb");
  if (!f) return false;
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  out.resize(size > 0 ? static_cast<size_t>(size) : 0);
  size_t got = std::fread(out.data(), 1, out.size(), f);
  std::fclose(f);
  return got == out.size();
}

void die(const char* what, const skiff::Error& e) {
  std::fprintf(stderr, "%s: %s\n", what, e.to_string().c_str());
  std::exit(1);
}

void report(const char* phase, double secs, double mb) {
  std::printf("%-22s %9.1f ms %9.1f MB/s\n", phase, secs * 1e3, mb / secs);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: load_bench FILE.wasm [--repeat N]\n");
    return 2;
  }
  int repeat = 3;
  std::string only;  // one phase alone (e.g. under perf stat): validate1, validate, lower
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
  }
  auto wanted = [&](const char* phase) { return only.empty() || only == phase; };

  std::vector<uint8_t> bytes;
  double read_s = best_of(repeat, [&] {
    if (!read_all(argv[1], bytes)) {
      std::perror(argv[1]);
      std::exit(1);
    }
  });
  const double mb = static_cast<double>(bytes.size()) / 1e6;

  std::unique_ptr<skiff::wasm::Module> module;
  double decode_s = best_of(repeat, [&] {
    auto decoded = skiff::wasm::decode_module(bytes);  // copies: part of the cost a caller pays too
    if (!decoded) die("decode", decoded.error());
    module = std::move(decoded.value());
  });
  size_t code_bytes = 0;
  for (const auto& b : module->bodies) code_bytes += b.body_end - b.body_offset;
  std::printf("%s: %.1f MB, %u functions, %.1f MB of code\n", argv[1], mb, module->num_defined_funcs(),
              static_cast<double>(code_bytes) / 1e6);

  if (!wanted("validate")) {
    // Later phases need declared_funcs, which validation fills in.
    auto r = skiff::wasm::validate_module(*module);
    if (!r) die("validate", r.error());
  }
  double validate_par_s = !wanted("validate") ? 0 : best_of(repeat, [&] {
    auto r = skiff::wasm::validate_module(*module);
    if (!r) die("validate", r.error());
  });
  // One thread, bodies only (validate_module has filled in declared_funcs).
  double validate_one_s = !wanted("validate1") ? 0 : best_of(repeat, [&] {
    for (uint32_t i = 0; i < module->num_defined_funcs(); ++i) {
      auto r = skiff::wasm::validate_function_body(*module, module->num_imported_funcs + i);
      if (!r) die("validate body", r.error());
    }
  });
  double lower_s = !wanted("lower") ? 0 : best_of(repeat, [&] {
    auto funcs = std::make_unique<skiff::rt::CompiledFunc[]>(module->num_defined_funcs());
    for (uint32_t i = 0; i < module->num_defined_funcs(); ++i) {
      auto r = skiff::interp::lower_function(*module, i, funcs[i]);
      if (!r) die("lower", r.error());
    }
  });

  report("read file", read_s, mb);
  report("decode sections", decode_s, mb);
  if (wanted("validate1")) report("validate (1 thread)", validate_one_s, mb);
  if (wanted("validate")) report("validate (parallel)", validate_par_s, mb);
  if (wanted("lower")) report("lower all (1 thread)", lower_s, mb);
  if (wanted("validate")) report("decode+validate", decode_s + validate_par_s, mb);
  return 0;
}

// Shared entry points for every benchmark workload.
//
// Each workload defines `uint32_t bench_run(int n)` returning a checksum.
// Built as a WASI command (and natively) it reads N from argv[1] and prints
// the checksum; built with -DBENCH_INVOKE it exports `run(n)` instead, so a
// runtime without WASI can still be measured through `--invoke run`, and
// with -DBENCH_FIXED_N=N it exports an argument-less `run_fixed()`.
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t bench_run(int n);

// Deterministic PRNG (xorshift32) shared by workloads that need data.
static inline uint32_t bench_rand(uint32_t* state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

// Mixes a value into a running checksum (FNV-1a over the 4 bytes).
static inline uint32_t bench_mix(uint32_t h, uint32_t v) {
  for (int i = 0; i < 4; i++) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= 16777619u;
  }
  return h;
}

// Doubles are checksummed by their bits: wasm and x86-64 SSE2 both give
// IEEE-754 results, so any difference is a real bug.
static inline uint32_t bench_mix_f64(uint32_t h, double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  return bench_mix(bench_mix(h, (uint32_t)bits), (uint32_t)(bits >> 32));
}

#if defined(BENCH_FIXED_N)
// For runners that can call an export but not pass it arguments (wabt's
// wasm-interp --run-all-exports). The volatile read keeps the compiler from
// specialising the workload for this N.
static volatile int bench_fixed_n = BENCH_FIXED_N;
__attribute__((export_name("run_fixed"))) uint32_t run_fixed(void) { return bench_run(bench_fixed_n); }
#elif defined(BENCH_INVOKE)
__attribute__((export_name("run"))) uint32_t run(int n) { return bench_run(n); }
#else
int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s N\n", argv[0]);
    return 2;
  }
  printf("%u\n", bench_run(atoi(argv[1])));
  return 0;
}
#endif

// Indirect calls: small handlers picked from a function-pointer table by
// data, as C callback tables and C++ virtual calls compile to wasm
// (call_indirect). The handler sequence repeats every 6 entries, so branch
// predictors learn it, as they do at most real call sites.
#include "bench.h"

typedef uint32_t (*Handler)(uint32_t acc, uint32_t x);

__attribute__((noinline)) static uint32_t add(uint32_t a, uint32_t x) { return a + x; }
__attribute__((noinline)) static uint32_t mix(uint32_t a, uint32_t x) { return (a ^ x) * 16777619u; }
__attribute__((noinline)) static uint32_t rotate(uint32_t a, uint32_t x) {
  uint32_t s = x & 31;
  return (a << s) | (a >> ((32 - s) & 31));
}
__attribute__((noinline)) static uint32_t subtract(uint32_t a, uint32_t x) { return a - (x | 1); }
__attribute__((noinline)) static uint32_t scale(uint32_t a, uint32_t x) { return a * (x | 1) + 7; }
__attribute__((noinline)) static uint32_t fold(uint32_t a, uint32_t x) { return a ^ (a >> 15) ^ x; }

static Handler const handlers[] = {add, mix, rotate, subtract, scale, fold};

#define ENTRIES 4096

uint32_t bench_run(int n) {
  static uint8_t ops[ENTRIES];
  static uint32_t values[ENTRIES];
  uint32_t state = 0x9e3779b9u;
  for (int i = 0; i < ENTRIES; i++) {
    ops[i] = (uint8_t)(i % 6);
    values[i] = bench_rand(&state);
  }
  uint32_t acc = 2166136261u;
  for (int r = 0; r < n; r++)
    for (int i = 0; i < ENTRIES; i++) acc = handlers[ops[i]](acc, values[i]);
  return acc;
}

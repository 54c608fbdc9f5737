// Recursive calls: naive Fibonacci, dominated by call/return cost.
#include "bench.h"

__attribute__((noinline)) static uint32_t fib(uint32_t n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

uint32_t bench_run(int n) { return fib((uint32_t)n); }

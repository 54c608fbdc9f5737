// Integer: sieve of Eratosthenes over 256 KiB, run n times.
#include "bench.h"

#define LIMIT (1 << 18)

uint32_t bench_run(int n) {
  unsigned char* composite = malloc(LIMIT);
  uint32_t h = 2166136261u;
  for (int rep = 0; rep < n; rep++) {
    for (int i = 0; i < LIMIT; i++) composite[i] = 0;
    uint32_t primes = 0, last = 0;
    for (uint32_t i = 2; i < LIMIT; i++) {
      if (composite[i]) continue;
      primes++;
      last = i;
      for (uint32_t j = i * 2; j < LIMIT; j += i) composite[j] = 1;
    }
    h = bench_mix(bench_mix(h, primes), last + rep);
  }
  free(composite);
  return h;
}

// String and byte work: block copies, fills, moves and compares that the
// compiler turns into memcpy/memset/memmove (memory.copy/fill with -mbulk-memory).
#include "bench.h"

#define BUF (256 * 1024)

uint32_t bench_run(int n) {
  uint8_t* a = malloc(BUF);
  uint8_t* b = malloc(BUF);
  uint32_t seed = 4242;
  for (int i = 0; i < BUF; i++) a[i] = (uint8_t)bench_rand(&seed);
  uint32_t h = 2166136261u;
  for (int rep = 0; rep < n; rep++) {
    uint32_t r = bench_rand(&seed);
    size_t len = 1024 + r % (BUF / 2);
    size_t src = (r >> 7) % (BUF - len);
    size_t dst = (r >> 13) % (BUF - len);
    memcpy(b + dst, a + src, len);                 // forward copy
    memset(a + (r >> 3) % (BUF / 2), (int)(r & 0xff), 4096 + (r >> 20) % 8192);  // fill
    memmove(a + 1 + (r & 63), a + (r & 31), len / 2);  // overlapping move
    // Many short copies, as in string building.
    size_t off = 0;
    for (int k = 0; k < 64; k++) {
      size_t piece = 8 + ((r >> (k & 15)) & 31);
      memcpy(b + off, a + ((k * 977 + r) % (BUF - 64)), piece);
      off += piece;
    }
    h = bench_mix(h, (uint32_t)memcmp(a, b, 64) > 0);
    h = bench_mix(h, b[dst + len / 2] | (uint32_t)a[(r >> 5) % BUF] << 8 | (uint32_t)b[off - 1] << 16);
  }
  for (int i = 0; i < BUF; i += 61) h = bench_mix(h, a[i] | (uint32_t)b[i] << 8);
  free(a);
  free(b);
  return h;
}

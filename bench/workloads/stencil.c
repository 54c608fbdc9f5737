// Memory-bound loops: 2-D 5-point Jacobi stencil on a 512 x 512 float grid, n sweeps.
#include "bench.h"

#define W 512
#define H 512

uint32_t bench_run(int n) {
  float* src = malloc(W * H * sizeof(float));
  float* dst = malloc(W * H * sizeof(float));
  uint32_t seed = 777;
  for (int i = 0; i < W * H; i++) src[i] = dst[i] = (float)(bench_rand(&seed) % 256);
  for (int it = 0; it < n; it++) {
    for (int y = 1; y < H - 1; y++)
      for (int x = 1; x < W - 1; x++) {
        int i = y * W + x;
        dst[i] = 0.2f * (src[i] + src[i - 1] + src[i + 1] + src[i - W] + src[i + W]);
      }
    float* t = src;
    src = dst;
    dst = t;
  }
  uint32_t h = 2166136261u;
  for (int i = 0; i < W * H; i += 3) {
    uint32_t bits;
    memcpy(&bits, &src[i], 4);
    h = bench_mix(h, bits);
  }
  free(src);
  free(dst);
  return h;
}

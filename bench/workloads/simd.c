// SIMD kernel (built with -msimd128 for wasm; the compiler auto-vectorizes
// these loops on both targets): alpha blending of 8-bit pixel rows, a
// saturating add and a 16-bit dot product, all exact integer arithmetic.
#include "bench.h"

#define PIXELS (64 * 1024)

static void blend(uint8_t* restrict dst, const uint8_t* restrict fg, const uint8_t* restrict bg, uint8_t alpha) {
  for (int i = 0; i < PIXELS; i++)
    dst[i] = (uint8_t)((fg[i] * alpha + bg[i] * (255 - alpha) + 128) >> 8);
}

static void add_saturate(uint8_t* restrict dst, const uint8_t* restrict src) {
  for (int i = 0; i < PIXELS; i++) {
    unsigned s = dst[i] + src[i];
    dst[i] = s > 255 ? 255 : (uint8_t)s;
  }
}

static int32_t dot16(const int16_t* restrict a, const int16_t* restrict b) {
  int32_t sum = 0;
  for (int i = 0; i < PIXELS; i++) sum += a[i] * b[i];
  return sum;
}

uint32_t bench_run(int n) {
  uint8_t* fg = malloc(PIXELS);
  uint8_t* bg = malloc(PIXELS);
  uint8_t* out = malloc(PIXELS);
  int16_t* va = malloc(PIXELS * sizeof(int16_t));
  int16_t* vb = malloc(PIXELS * sizeof(int16_t));
  uint32_t seed = 31337;
  for (int i = 0; i < PIXELS; i++) {
    fg[i] = (uint8_t)bench_rand(&seed);
    bg[i] = (uint8_t)bench_rand(&seed);
    va[i] = (int16_t)bench_rand(&seed);
    vb[i] = (int16_t)(bench_rand(&seed) % 512);
  }
  uint32_t h = 2166136261u;
  for (int rep = 0; rep < n; rep++) {
    blend(out, fg, bg, (uint8_t)(rep * 7));
    add_saturate(bg, out);
    va[rep % PIXELS] = (int16_t)rep;
    h = bench_mix(h, (uint32_t)dot16(va, vb) ^ out[rep % PIXELS]);
    bg[rep % PIXELS] = (uint8_t)rep;  // keep bg from saturating to all 255
    if ((rep & 15) == 15) memcpy(bg, fg, PIXELS);
  }
  free(fg);
  free(bg);
  free(out);
  free(va);
  free(vb);
  return h;
}

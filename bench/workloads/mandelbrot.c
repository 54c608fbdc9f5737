// Floating point: Mandelbrot set membership on an n x n grid (escape-time loop).
#include "bench.h"

uint32_t bench_run(int n) {
  uint32_t h = 2166136261u;
  const int max_iter = 50;
  for (int y = 0; y < n; y++) {
    uint32_t row_bits = 0, inside = 0;
    double ci = 2.0 * y / n - 1.0;
    for (int x = 0; x < n; x++) {
      double cr = 2.0 * x / n - 1.5;
      double zr = 0, zi = 0, zr2 = 0, zi2 = 0;
      int i = 0;
      while (i < max_iter && zr2 + zi2 <= 4.0) {
        zi = 2.0 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        zr2 = zr * zr;
        zi2 = zi * zi;
        i++;
      }
      row_bits = (row_bits << 1) | (i == max_iter);
      inside += (i == max_iter);
    }
    h = bench_mix(bench_mix(h, row_bits), inside);
  }
  return h;
}

// Memory-bound loops: dense n x n double matrix multiply (i-k-j order).
#include "bench.h"

uint32_t bench_run(int n) {
  double* a = malloc((size_t)n * n * sizeof(double));
  double* b = malloc((size_t)n * n * sizeof(double));
  double* c = malloc((size_t)n * n * sizeof(double));
  uint32_t seed = 12345;
  for (int i = 0; i < n * n; i++) {
    a[i] = (double)(bench_rand(&seed) % 1000) / 100.0;
    b[i] = (double)(bench_rand(&seed) % 1000) / 100.0;
    c[i] = 0.0;
  }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < n; k++) {
      double aik = a[i * n + k];
      for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  uint32_t h = 2166136261u;
  for (int i = 0; i < n * n; i += 7) h = bench_mix_f64(h, c[i]);
  free(a);
  free(b);
  free(c);
  return h;
}

// Floating point: spectral norm of the infinite matrix A(i,j) = 1/((i+j)(i+j+1)/2+i+1).
#include <math.h>
#include "bench.h"

static double eval_a(int i, int j) { return 1.0 / ((i + j) * (i + j + 1) / 2 + i + 1); }

static void mul_av(int n, const double* v, double* out) {
  for (int i = 0; i < n; i++) {
    double sum = 0;
    for (int j = 0; j < n; j++) sum += eval_a(i, j) * v[j];
    out[i] = sum;
  }
}

static void mul_atv(int n, const double* v, double* out) {
  for (int i = 0; i < n; i++) {
    double sum = 0;
    for (int j = 0; j < n; j++) sum += eval_a(j, i) * v[j];
    out[i] = sum;
  }
}

static void mul_atav(int n, const double* v, double* out, double* tmp) {
  mul_av(n, v, tmp);
  mul_atv(n, tmp, out);
}

uint32_t bench_run(int n) {
  double* u = malloc(n * sizeof(double));
  double* v = malloc(n * sizeof(double));
  double* tmp = malloc(n * sizeof(double));
  for (int i = 0; i < n; i++) u[i] = 1.0;
  for (int i = 0; i < 10; i++) {
    mul_atav(n, u, v, tmp);
    mul_atav(n, v, u, tmp);
  }
  double vbv = 0, vv = 0;
  for (int i = 0; i < n; i++) {
    vbv += u[i] * v[i];
    vv += v[i] * v[i];
  }
  uint32_t h = bench_mix_f64(2166136261u, sqrt(vbv / vv));
  free(u);
  free(v);
  free(tmp);
  return h;
}

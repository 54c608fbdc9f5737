// Sorting: quicksort and merge sort of a PRNG array of n 32-bit integers.
#include "bench.h"

static void quicksort(uint32_t* a, int lo, int hi) {
  while (hi - lo > 16) {
    uint32_t pivot = a[lo + (hi - lo) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        uint32_t t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    // Recurse into the smaller half to bound the stack depth.
    if (j - lo < hi - i) {
      quicksort(a, lo, j);
      lo = i;
    } else {
      quicksort(a, i, hi);
      hi = j;
    }
  }
  for (int i = lo + 1; i <= hi; i++) {
    uint32_t v = a[i];
    int j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

static void merge_sort(uint32_t* a, uint32_t* tmp, int n) {
  for (int width = 1; width < n; width *= 2) {
    for (int lo = 0; lo < n; lo += 2 * width) {
      int mid = lo + width < n ? lo + width : n;
      int hi = lo + 2 * width < n ? lo + 2 * width : n;
      int i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
      while (i < mid) tmp[k++] = a[i++];
      while (j < hi) tmp[k++] = a[j++];
    }
    uint32_t* t = a;
    a = tmp;
    tmp = t;
    memcpy(tmp, a, n * sizeof(uint32_t));  // keep the caller's buffer current
  }
}

static uint32_t digest(const uint32_t* a, int n) {
  uint32_t h = 2166136261u;
  for (int i = 1; i < n; i++)
    if (a[i - 1] > a[i]) return 0;  // not sorted: a checksum that cannot match
  for (int i = 0; i < n; i += 97) h = bench_mix(h, a[i]);
  return h;
}

uint32_t bench_run(int n) {
  uint32_t* a = malloc(n * sizeof(uint32_t));
  uint32_t* b = malloc(n * sizeof(uint32_t));
  uint32_t* tmp = malloc(n * sizeof(uint32_t));
  uint32_t seed = 2463534242u;
  for (int i = 0; i < n; i++) a[i] = b[i] = bench_rand(&seed) % 1000000;
  quicksort(a, 0, n - 1);
  merge_sort(b, tmp, n);
  uint32_t h = bench_mix(digest(a, n), digest(b, n));
  free(a);
  free(b);
  free(tmp);
  return h;
}

// Integer and branchy: fannkuch-redux (pancake flips over all permutations of 1..n).
#include "bench.h"

uint32_t bench_run(int n) {
  int perm[16], perm1[16], count[16];
  int max_flips = 0, checksum = 0, perm_count = 0;
  for (int i = 0; i < n; i++) perm1[i] = i;
  int r = n;
  for (;;) {
    while (r != 1) {
      count[r - 1] = r;
      r--;
    }
    for (int i = 0; i < n; i++) perm[i] = perm1[i];
    int flips = 0;
    for (int k = perm[0]; k != 0; k = perm[0]) {
      for (int i = 0, j = k; i < j; i++, j--) {
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      flips++;
    }
    if (flips > max_flips) max_flips = flips;
    checksum += (perm_count % 2 == 0) ? flips : -flips;
    for (;;) {
      if (r == n) return bench_mix(bench_mix(2166136261u, (uint32_t)checksum), (uint32_t)max_flips);
      int first = perm1[0];
      for (int i = 0; i < r; i++) perm1[i] = perm1[i + 1];
      perm1[r] = first;
      if (--count[r] > 0) break;
      r++;
    }
    perm_count++;
  }
}

// Hands the host pointers outside linear memory; every call must return
// EFAULT (21) instead of touching host memory.
#include <stdio.h>
#include <wasi/api.h>

int main(void) {
  const unsigned bad = 0xFFFFFFF0u;
  __wasi_ciovec_t iov = {(const uint8_t*)bad, 64};
  __wasi_size_t n = 0;
  printf("fd_write bad buf: %d\n", __wasi_fd_write(1, &iov, 1, &n));
  printf("fd_write bad iovs: %d\n", __wasi_fd_write(1, (const __wasi_ciovec_t*)bad, 1, &n));
  iov.buf = (const uint8_t*)"x";
  iov.buf_len = 0xFFFFFFFFu;
  printf("fd_write huge len: %d\n", __wasi_fd_write(1, &iov, 1, &n));
  printf("random_get: %d\n", __wasi_random_get((uint8_t*)bad, 32));
  printf("args_sizes_get: %d\n", __wasi_args_sizes_get((__wasi_size_t*)bad, &n));
  printf("clock_time_get: %d\n", __wasi_clock_time_get(0, 1, (__wasi_timestamp_t*)bad));
  printf("fd_fdstat_get: %d\n", __wasi_fd_fdstat_get(1, (__wasi_fdstat_t*)bad));
  return 0;
}

// Sleeps 20 ms through poll_oneoff (a clock subscription) and checks the clock moved.
#include <stdio.h>
#include <time.h>
#include <wasi/api.h>

int main(void) {
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  __wasi_subscription_t sub = {0};
  sub.userdata = 42;
  sub.u.tag = __WASI_EVENTTYPE_CLOCK;
  sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  sub.u.u.clock.timeout = 20 * 1000000ull;
  __wasi_event_t ev;
  __wasi_size_t n = 0;
  __wasi_errno_t err = __wasi_poll_oneoff(&sub, &ev, 1, &n);
  clock_gettime(CLOCK_MONOTONIC, &b);
  long long ms = (b.tv_sec - a.tv_sec) * 1000LL + (b.tv_nsec - a.tv_nsec) / 1000000;
  printf("err=%d n=%u userdata=%llu type=%d slept_enough=%d\n", err, (unsigned)n, (unsigned long long)ev.userdata,
         ev.type, ms >= 19);
  unsigned char r[16] = {0};
  if (__wasi_random_get(r, sizeof r) != 0) return 1;
  int nonzero = 0;
  for (int i = 0; i < 16; ++i) nonzero |= r[i];
  printf("random nonzero=%d\n", nonzero != 0);
  return 0;
}

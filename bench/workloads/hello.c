// Start-up probe: the smallest useful WASI program.
#include <stdio.h>

int main(void) {
  puts("hello");
  return 0;
}

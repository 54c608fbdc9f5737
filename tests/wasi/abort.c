// Prints, then aborts: a trap ("unreachable") with a backtrace through main.
#include <stdio.h>
#include <stdlib.h>
__attribute__((noinline)) static void give_up(void) { abort(); }
int main(void) {
  printf("about to abort\n");
  fflush(stdout);
  give_up();
}

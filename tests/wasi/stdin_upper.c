// Copies stdin to stdout in upper case.
#include <ctype.h>
#include <stdio.h>
int main(void) {
  int ch;
  while ((ch = getchar()) != EOF) putchar(toupper(ch));
  return 0;
}

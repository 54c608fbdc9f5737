#include <stdio.h>
int main(void) { printf("hello, wasi\n"); return 0; }

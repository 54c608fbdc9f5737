// File I/O inside the preopen /sandbox: read, write, list, rename, unlink, symlink.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

int main(void) {
  char buf[256];
  FILE* f = fopen("/sandbox/input.txt", "r");
  if (!f) { printf("open input: %s\n", strerror(errno)); return 1; }
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  printf("read: %s", buf);

  f = fopen("/sandbox/out.txt", "w");
  if (!f) { printf("create out: %s\n", strerror(errno)); return 1; }
  fprintf(f, "written by wasm\n");
  fclose(f);
  if (rename("/sandbox/out.txt", "/sandbox/renamed.txt") != 0) { printf("rename: %s\n", strerror(errno)); return 1; }
  if (mkdir("/sandbox/sub", 0755) != 0) { printf("mkdir: %s\n", strerror(errno)); return 1; }
  if (symlink("renamed.txt", "/sandbox/link") != 0) { printf("symlink: %s\n", strerror(errno)); return 1; }
  f = fopen("/sandbox/link", "r");
  if (!f) { printf("open via link: %s\n", strerror(errno)); return 1; }
  n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  printf("via link: %s", buf);
  char target[64] = {0};
  ssize_t tl = readlink("/sandbox/link", target, sizeof target - 1);
  printf("readlink: %s\n", tl > 0 ? target : "(failed)");

  struct stat sb;
  if (stat("/sandbox/renamed.txt", &sb) != 0) { printf("stat: %s\n", strerror(errno)); return 1; }
  printf("size: %lld\n", (long long)sb.st_size);

  DIR* d = opendir("/sandbox");
  if (!d) { printf("opendir: %s\n", strerror(errno)); return 1; }
  char* names[64];
  int count = 0;
  struct dirent* de;
  while ((de = readdir(d)) && count < 64)
    if (de->d_name[0] != '.') names[count++] = strdup(de->d_name);
  closedir(d);
  qsort(names, count, sizeof names[0], cmp);
  printf("list:");
  for (int i = 0; i < count; ++i) printf(" %s", names[i]);
  printf("\n");

  if (unlink("/sandbox/link") != 0) { printf("unlink: %s\n", strerror(errno)); return 1; }
  if (rmdir("/sandbox/sub") != 0) { printf("rmdir: %s\n", strerror(errno)); return 1; }
  printf("done\n");
  return 0;
}

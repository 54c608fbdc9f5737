// Writes through a read-only preopen /ro: every attempt must fail.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
  int bad = 0;
  int fd = open("/ro/data.txt", O_RDONLY);
  char buf[64] = {0};
  if (fd < 0 || read(fd, buf, sizeof buf - 1) <= 0) { printf("read failed: %s\n", strerror(errno)); return 2; }
  close(fd);
  printf("read: %s", buf);
  // wasi-libc masks the requested rights itself, so the open may succeed; the write must not.
  if ((fd = open("/ro/data.txt", O_WRONLY)) >= 0) {
    if (write(fd, "x", 1) >= 0) { printf("write succeeded\n"); bad = 1; }
    close(fd);
  }
  if ((fd = open("/ro/data.txt", O_WRONLY | O_TRUNC)) >= 0) { printf("truncate succeeded\n"); bad = 1; close(fd); }
  if ((fd = open("/ro/new.txt", O_WRONLY | O_CREAT, 0644)) >= 0) { printf("create succeeded\n"); bad = 1; close(fd); }
  if (unlink("/ro/data.txt") == 0) { printf("unlink succeeded\n"); bad = 1; }
  if (mkdir("/ro/dir", 0755) == 0) { printf("mkdir succeeded\n"); bad = 1; }
  if (rename("/ro/data.txt", "/ro/moved.txt") == 0) { printf("rename succeeded\n"); bad = 1; }
  if (symlink("data.txt", "/ro/l") == 0) { printf("symlink succeeded\n"); bad = 1; }
  printf(bad ? "WRITABLE\n" : "read-only holds\n");
  return bad;
}

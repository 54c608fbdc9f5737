// Every way out of /sandbox it can think of; prints one line per attempt:
// "NAME: refused (errno text)" or "NAME: ESCAPED".
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int escaped = 0;
static void report(const char* what, int rc) {
  if (rc >= 0) { printf("%s: ESCAPED\n", what); escaped = 1; }
  else printf("%s: refused (%s)\n", what, strerror(errno));
}
static int try_open(const char* path, int flags) {
  int fd = open(path, flags, 0644);
  if (fd >= 0) close(fd);
  return fd;
}

int main(void) {
  report("dotdot read", try_open("/sandbox/../secret.txt", O_RDONLY));
  report("dotdot deep", try_open("/sandbox/a/../../secret.txt", O_RDONLY));
  report("absolute", try_open("/etc/passwd", O_RDONLY));
  report("dotdot create", try_open("/sandbox/../created.txt", O_WRONLY | O_CREAT));
  report("symlink out read", try_open("/sandbox/out_link", O_RDONLY));
  report("symlink out trunc", try_open("/sandbox/out_link", O_WRONLY | O_TRUNC));
  report("symlink dir out", try_open("/sandbox/out_dir/secret.txt", O_RDONLY));
  report("abs symlink", try_open("/sandbox/abs_link", O_RDONLY));
  // A link the guest makes itself, then follows.
  symlink("../secret.txt", "/sandbox/made_link");
  report("own symlink write", try_open("/sandbox/made_link", O_WRONLY | O_APPEND));
  report("unlink outside", unlink("/sandbox/../secret.txt"));
  report("rename outside", rename("/sandbox/../secret.txt", "/sandbox/stolen.txt"));
  report("mkdir outside", mkdir("/sandbox/../newdir", 0755));
  report("link outside", linkat(AT_FDCWD, "/sandbox/out_link", AT_FDCWD, "/sandbox/hard", AT_SYMLINK_FOLLOW));
  struct stat sb;
  report("stat outside", stat("/sandbox/../secret.txt", &sb));
  printf(escaped ? "SOME ESCAPED\n" : "all refused\n");
  return escaped;
}

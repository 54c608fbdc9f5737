// rusage FILE CMD ARGS...: runs CMD, writes its peak RSS in KiB to FILE and
// exits with CMD's status. Python cannot give an exact figure itself: Linux
// charges the pre-exec address space to ru_maxrss, and Python's is ~18 MiB;
// this launcher's is about one.
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: rusage FILE CMD ARGS...\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) return 127;
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    perror(argv[2]);
    _exit(127);
  }
  int status = 0;
  struct rusage usage;
  if (wait4(pid, &status, 0, &usage) < 0) return 127;
  FILE* f = fopen(argv[1], "w");
  if (f) {
    fprintf(f, "%ld\n", usage.ru_maxrss);
    fclose(f);
  }
  if (WIFSIGNALED(status)) {
    signal(WTERMSIG(status), SIG_DFL);
    raise(WTERMSIG(status));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 127;
}

// A small WASI command for `make run`: counts lines, words and bytes of text
// files, like wc, and lists the most frequent words. A directory argument
// counts every regular file in it. It can only see the directories that
// `skiff run --dir` preopened.
//   skiff run --dir examples/data::/data wordcount.wasm /data
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { kMaxWords = 4096, kMaxWordLength = 31, kTop = 5 };

struct WordCount {
  char word[kMaxWordLength + 1];
  int count;
};

static struct WordCount words[kMaxWords];
static int distinct_words;

static void count_word(const char* word) {
  for (int i = 0; i < distinct_words; ++i)
    if (strcmp(words[i].word, word) == 0) {
      ++words[i].count;
      return;
    }
  if (distinct_words == kMaxWords) return;  // a summary, not a census
  strcpy(words[distinct_words].word, word);
  words[distinct_words++].count = 1;
}

struct Totals {
  long lines, words, bytes;
};

// Returns 0, or an errno when the file cannot be read.
static int count_file(const char* path, struct Totals* totals) {
  FILE* file = fopen(path, "r");
  if (!file) return errno;
  struct Totals t = {0, 0, 0};
  char word[kMaxWordLength + 1];
  int length = 0, ch;
  do {
    ch = getc(file);
    if (ch != EOF) ++t.bytes;
    if (ch == '\n') ++t.lines;
    if (ch != EOF && (isalnum(ch) || ch == '\'')) {
      if (length < kMaxWordLength) word[length++] = (char)tolower(ch);
      continue;
    }
    if (length > 0) {
      word[length] = '\0';
      count_word(word);
      ++t.words;
      length = 0;
    }
  } while (ch != EOF);
  int failed = ferror(file) ? EIO : 0;
  fclose(file);
  printf("%7ld %7ld %8ld  %s\n", t.lines, t.words, t.bytes, path);
  totals->lines += t.lines;
  totals->words += t.words;
  totals->bytes += t.bytes;
  return failed;
}

static int by_name(const void* a, const void* b) {
  return strcmp(*(const char* const*)a, *(const char* const*)b);
}

// Counts the regular files of a directory in name order (readdir's order is the host's).
static int count_dir(const char* path, struct Totals* totals, int* files) {
  DIR* dir = opendir(path);
  if (!dir) return errno;
  char* names[256];
  int n = 0;
  for (struct dirent* e; (e = readdir(dir)) && n < 256;)
    if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
  closedir(dir);
  qsort(names, n, sizeof names[0], by_name);
  int failed = 0;
  for (int i = 0; i < n; ++i) {
    char full[1024];
    snprintf(full, sizeof full, "%s/%s", path, names[i]);
    struct stat st;
    if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
      int err = count_file(full, totals);
      if (err) fprintf(stderr, "wordcount: %s: %s\n", full, strerror(err)), failed = err;
      else ++*files;
    }
    free(names[i]);
  }
  return failed;
}

static int by_count(const void* a, const void* b) {
  const struct WordCount *x = a, *y = b;
  return x->count != y->count ? y->count - x->count : strcmp(x->word, y->word);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  struct Totals totals = {0, 0, 0};
  int files = 0, status = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat st;
    int err = stat(argv[i], &st) != 0 ? errno
              : S_ISDIR(st.st_mode)   ? count_dir(argv[i], &totals, &files)
                                      : count_file(argv[i], &totals);
    if (!err && !S_ISDIR(st.st_mode)) ++files;
    if (err) {
      fprintf(stderr, "wordcount: %s: %s\n", argv[i], strerror(err));
      status = 1;
    }
  }
  if (files > 1) printf("%7ld %7ld %8ld  total (%d files)\n", totals.lines, totals.words, totals.bytes, files);
  qsort(words, distinct_words, sizeof words[0], by_count);
  if (distinct_words > 0) {
    printf("%d distinct words; most frequent:", distinct_words);
    for (int i = 0; i < distinct_words && i < kTop; ++i) printf(" %s (%d)", words[i].word, words[i].count);
    printf("\n");
  }
  return status;
}

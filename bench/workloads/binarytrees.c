// Allocation-heavy: binary trees built and torn down with malloc/free.
#include "bench.h"

typedef struct Node { struct Node *left, *right; } Node;

static Node* make(int depth) {
  Node* node = malloc(sizeof(Node));
  if (depth > 0) {
    node->left = make(depth - 1);
    node->right = make(depth - 1);
  } else {
    node->left = node->right = NULL;
  }
  return node;
}

static uint32_t check(const Node* node) {
  return node->left ? 1 + check(node->left) + check(node->right) : 1;
}

static void release(Node* node) {
  if (node->left) {
    release(node->left);
    release(node->right);
  }
  free(node);
}

uint32_t bench_run(int n) {
  const int min_depth = 4;
  int max_depth = n < min_depth + 2 ? min_depth + 2 : n;
  uint32_t h = 2166136261u;
  Node* stretch = make(max_depth + 1);
  h = bench_mix(h, check(stretch));
  release(stretch);
  Node* long_lived = make(max_depth);
  for (int depth = min_depth; depth <= max_depth; depth += 2) {
    int iterations = 1 << (max_depth - depth + min_depth);
    uint32_t sum = 0;
    for (int i = 0; i < iterations; i++) {
      Node* t = make(depth);
      sum += check(t);
      release(t);
    }
    h = bench_mix(bench_mix(h, (uint32_t)iterations), sum);
  }
  h = bench_mix(h, check(long_lived));
  release(long_lived);
  return h;
}

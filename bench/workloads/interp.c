// Integer and branchy: a small register bytecode interpreter with a switch
// dispatch loop, running a program that sums Collatz path lengths.
#include "bench.h"

enum { OP_LI, OP_ADD, OP_ADDI, OP_AND1, OP_SHR1, OP_MUL3P1, OP_MOV, OP_JZ, OP_JNZ, OP_JNE, OP_HALT };

typedef struct { uint8_t op, a, b, c; int32_t imm; } Insn;

__attribute__((noinline)) static uint32_t execute(const Insn* code, uint32_t* reg) {
  for (int pc = 0;;) {
    const Insn* in = &code[pc++];
    switch (in->op) {
      case OP_LI: reg[in->a] = (uint32_t)in->imm; break;
      case OP_ADD: reg[in->a] = reg[in->b] + reg[in->c]; break;
      case OP_ADDI: reg[in->a] = reg[in->b] + (uint32_t)in->imm; break;
      case OP_AND1: reg[in->a] = reg[in->b] & 1; break;
      case OP_SHR1: reg[in->a] = reg[in->b] >> 1; break;
      case OP_MUL3P1: reg[in->a] = reg[in->b] * 3 + 1; break;
      case OP_MOV: reg[in->a] = reg[in->b]; break;
      case OP_JZ: if (reg[in->a] == 0) pc = in->imm; break;
      case OP_JNZ: if (reg[in->a] != 0) pc = in->imm; break;
      case OP_JNE: if (reg[in->a] != reg[in->b]) pc = in->imm; break;
      case OP_HALT: return reg[in->a];
      default: return 0xdeadbeef;
    }
  }
}

// r0 = i, r1 = limit, r2 = x, r3 = total, r4 = tmp, r5 = 1.
// Starting values stay below 2^13, so no Collatz path overflows 32 bits.
static const Insn program[] = {
    /* 0 */ {OP_LI, 0, 0, 0, 2},
    /* 1 */ {OP_LI, 3, 0, 0, 0},
    /* 2 */ {OP_LI, 5, 0, 0, 1},
    /* 3 */ {OP_MOV, 2, 0, 0, 0},   // outer: x = i
    /* 4 */ {OP_AND1, 4, 2, 0, 0},  // path: tmp = x & 1
    /* 5 */ {OP_JNZ, 4, 0, 0, 8},
    /* 6 */ {OP_SHR1, 2, 2, 0, 0},
    /* 7 */ {OP_JZ, 4, 0, 0, 9},    // always taken
    /* 8 */ {OP_MUL3P1, 2, 2, 0, 0},
    /* 9 */ {OP_ADDI, 3, 3, 0, 1},
    /* 10 */ {OP_JNE, 2, 5, 0, 4},
    /* 11 */ {OP_ADD, 3, 3, 0, 0},  // total += i
    /* 12 */ {OP_ADDI, 0, 0, 0, 1},
    /* 13 */ {OP_JNE, 0, 1, 0, 3},
    /* 14 */ {OP_HALT, 3, 0, 0, 0},
};

uint32_t bench_run(int n) {
  uint32_t h = 2166136261u;
  for (int rep = 0; rep < n; rep++) {
    uint32_t reg[8] = {0};
    reg[1] = 2000 + (uint32_t)(rep % 7);
    h = bench_mix(h, execute(program, reg));
  }
  return h;
}

// Tier-0 lowering (interp/lower.cpp): slot layout, the exact code for a few
// small bodies (local references, retargeted local.set), and execution of
// the control-flow and move cases the lowering has to get right.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "interp/code.h"
#include "interp/lower.h"
#include "runtime/objects.h"
#include "skiff/skiff.hh"
#include "wasm/module.h"

namespace skiff::interp {
namespace {

using Bytes = std::vector<uint8_t>;
using wasm::Imm;
using wasm::OpClass;

constexpr uint8_t I32 = 0x7f, I64 = 0x7e, V128T = 0x7b, EMPTY = 0x40;
constexpr uint8_t UNREACHABLE = 0x00, BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, END = 0x0b, BR = 0x0c,
                  BR_IF = 0x0d, BR_TABLE = 0x0e, RETURN = 0x0f, CALL = 0x10, DROP = 0x1a, SELECT = 0x1b,
                  LOCAL_GET = 0x20, LOCAL_SET = 0x21, LOCAL_TEE = 0x22, I32_CONST = 0x41, I64_CONST = 0x42,
                  I32_LT_S = 0x48, I32_ADD = 0x6a, I32_SUB = 0x6b, I32_MUL = 0x6c, PREFIX_FD = 0xfd,
                  I32_LOAD = 0x28, I32_STORE = 0x36, I32_EQZ = 0x45, I32_GT_S = 0x4a, I32_NE = 0x47;

void leb(Bytes& out, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(v ? b | 0x80 : b);
  } while (v);
}
void append(Bytes& out, const Bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

// Functions only; function i is exported as "f<i>".
struct ModuleBuilder {
  std::vector<Bytes> types;
  std::vector<uint32_t> func_types;
  std::vector<Bytes> codes;
  bool memory = false;  // one page of memory 0

  uint32_t type(Bytes params, Bytes results) {
    Bytes t = {0x60};
    leb(t, params.size());
    append(t, params);
    leb(t, results.size());
    append(t, results);
    types.push_back(t);
    return static_cast<uint32_t>(types.size() - 1);
  }
  uint32_t func(uint32_t type_index, Bytes locals, Bytes body) {
    func_types.push_back(type_index);
    Bytes code;
    leb(code, locals.size());
    for (uint8_t t : locals) code.insert(code.end(), {0x01, t});
    append(code, body);
    codes.push_back(code);
    return static_cast<uint32_t>(func_types.size() - 1);
  }
  Bytes build() const {
    Bytes out = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    auto section = [&](uint8_t id, const Bytes& payload) {
      out.push_back(id);
      leb(out, payload.size());
      append(out, payload);
    };
    Bytes p;
    leb(p, types.size());
    for (const Bytes& t : types) append(p, t);
    section(1, p);
    p.clear();
    leb(p, func_types.size());
    for (uint32_t t : func_types) leb(p, t);
    section(3, p);
    if (memory) section(5, Bytes{0x01, 0x00, 0x01});
    p.clear();
    leb(p, func_types.size());
    for (size_t i = 0; i < func_types.size(); ++i) {
      std::string name = "f" + std::to_string(i);
      leb(p, name.size());
      p.insert(p.end(), name.begin(), name.end());
      p.push_back(0x00);
      leb(p, i);
    }
    section(7, p);
    p.clear();
    leb(p, codes.size());
    for (const Bytes& c : codes) {
      leb(p, c.size());
      append(p, c);
    }
    section(10, p);
    return out;
  }
};

std::unique_ptr<wasm::Module> decode_and_validate(const ModuleBuilder& b) {
  auto m = wasm::decode_module(b.build());
  EXPECT_TRUE(m.ok()) << m.error().to_string();
  if (!m.ok()) return nullptr;
  auto r = wasm::validate_module(**m);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  if (!r.ok()) return nullptr;
  return std::move(*m);
}

// ---- a disassembler for the tests ---------------------------------------------------

struct Instr {
  IOp op;
  std::vector<uint64_t> operands;
  bool operator==(const Instr&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Instr& i) {
  os << "IOp#" << static_cast<int>(i.op) << "(";
  for (size_t k = 0; k < i.operands.size(); ++k) os << (k ? " " : "") << static_cast<int64_t>(i.operands[k]);
  return os << ")";
}

std::vector<Instr> disassemble(const rt::CompiledFunc& f) {
  std::vector<Instr> out;
  const std::vector<uint64_t>& w = f.storage;
  for (size_t pc = 0; pc < w.size();) {
    IOp op = iop_of_handler(w[pc]);
    if (op == IOp::Count) {
      ADD_FAILURE() << "unknown handler word at " << pc;
      return out;
    }
    Instr instr{op, {}};
    size_t n = instruction_words(op, &w[pc]) - 1;
    if (pc + 1 + n > w.size()) {
      ADD_FAILURE() << "instruction at " << pc << " runs past the end";
      return out;
    }
    instr.operands.assign(w.begin() + static_cast<ptrdiff_t>(pc) + 1, w.begin() + static_cast<ptrdiff_t>(pc + 1 + n));
    out.push_back(instr);
    pc += 1 + n;
  }
  return out;
}

IOp wasm_op(wasm::Opcode op) { return iop(op); }
constexpr uint64_t slot(uint32_t s) { return uint64_t{s} * 8; }

std::vector<Instr> lower_first(const ModuleBuilder& b, rt::CompiledFunc& f) {
  auto m = decode_and_validate(b);
  if (!m) return {};
  auto r = lower_function(*m, 0, f);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(f.code.load(), f.storage.data());
  return disassemble(f);
}

// ---- slot layout -------------------------------------------------------------------------

TEST(LowerTest, SlotCounts) {
  ModuleBuilder b;
  // (i32, v128) -> i64 with locals f32, v128; the stack peaks at v128 + i32.
  b.func(b.type({I32, V128T}, {I64}), {0x7d, V128T},
         {PREFIX_FD, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, I32_CONST, 1, DROP, DROP,
          I64_CONST, 1, END});
  auto m = decode_and_validate(b);
  ASSERT_TRUE(m);
  rt::CompiledFunc f;
  ASSERT_TRUE(lower_function(*m, 0, f).ok());
  EXPECT_EQ(f.param_slots, 3u);
  EXPECT_EQ(f.local_slots, 6u);
  EXPECT_EQ(f.result_slots, 1u);
  EXPECT_EQ(f.frame_slots, 6u + 3u);
  EXPECT_NE(f.code.load(), nullptr);
}

TEST(LowerTest, EmptyFunctionReturns) {
  ModuleBuilder b;
  b.func(b.type({}, {}), {}, {END});
  rt::CompiledFunc f;
  EXPECT_EQ(lower_first(b, f), (std::vector<Instr>{{IOp::Return_, {}}}));
  EXPECT_EQ(f.frame_slots, 0u);
}

// ---- exact code ----------------------------------------------------------------------------

TEST(LowerTest, LocalGetEmitsNoCopy) {
  ModuleBuilder b;
  b.func(b.type({I32, I32}, {I32}), {}, {LOCAL_GET, 0, LOCAL_GET, 1, I32_ADD, END});
  rt::CompiledFunc f;
  // The add reads both params in place and writes the result slot directly.
  EXPECT_EQ(lower_first(b, f), (std::vector<Instr>{{wasm_op(wasm::Opcode::I32Add), {slot(0), slot(0), slot(1)}},
                                                   {IOp::Return_, {}}}));
}

TEST(LowerTest, LocalSetRetargetsTheProducer) {
  ModuleBuilder b;
  b.func(b.type({I32}, {}), {}, {LOCAL_GET, 0, I32_CONST, 1, I32_ADD, LOCAL_SET, 0, END});
  rt::CompiledFunc f;
  // The constant becomes the add's immediate operand.
  EXPECT_EQ(lower_first(b, f), (std::vector<Instr>{{IOp::I32AddImm_, {slot(0), slot(0), 1}},
                                                   {IOp::Return_, {}}}));
}

// ---- superinstructions -----------------------------------------------------------------------

TEST(LowerTest, ConstantBeforeAnOpIsMirroredIntoAnImmediate) {
  ModuleBuilder b;
  // 5 < x  is  x > 5
  b.func(b.type({I32}, {I32}), {}, {I32_CONST, 5, LOCAL_GET, 0, I32_LT_S, END});
  rt::CompiledFunc f;
  EXPECT_EQ(lower_first(b, f), (std::vector<Instr>{{IOp::I32GtSImm_, {slot(0), slot(0), 5}}, {IOp::Return_, {}}}));
}

TEST(LowerTest, CompareAndBranchFuseOnTheLoopBackEdge) {
  ModuleBuilder b;
  b.func(b.type({I32}, {}), {},
         {LOOP, EMPTY, LOCAL_GET, 0, I32_CONST, 1, I32_SUB, LOCAL_TEE, 0, I32_CONST, 0, I32_GT_S, BR_IF, 0, END, END});
  rt::CompiledFunc f;
  auto code = lower_first(b, f);
  ASSERT_EQ(code.size(), 3u);
  EXPECT_EQ(code[0], (Instr{IOp::I32SubImm_, {slot(0), slot(0), 1}}));
  // Jumps back to the sub, 4 words before it.
  EXPECT_EQ(code[1], (Instr{IOp::BrIfI32GtSImm_, {slot(0), 0, static_cast<uint64_t>(-4)}}));
  EXPECT_EQ(code[2].op, IOp::Return_);
}

TEST(LowerTest, EqzAndBranchBecomeBrUnless) {
  ModuleBuilder b;
  b.func(b.type({I32}, {}), {}, {BLOCK, EMPTY, LOCAL_GET, 0, I32_EQZ, BR_IF, 0, END, END});
  rt::CompiledFunc f;
  auto code = lower_first(b, f);
  ASSERT_EQ(code.size(), 2u);
  EXPECT_EQ(code[0], (Instr{IOp::BrUnless_, {slot(0), 3}}));
}

TEST(LowerTest, AddressArithmeticAndLoadsFuseIntoTheirUser) {
  ModuleBuilder b;
  b.memory = true;
  // x + mem[p + 8 + offset 4]
  b.func(b.type({I32, I32}, {I32}), {},
         {LOCAL_GET, 1, LOCAL_GET, 0, I32_CONST, 8, I32_ADD, I32_LOAD, 2, 4, I32_ADD, END});
  // mem[p + 8 + offset 4] alone
  b.func(b.type({I32}, {I32}), {}, {LOCAL_GET, 0, I32_CONST, 8, I32_ADD, I32_LOAD, 2, 4, END});
  auto m = decode_and_validate(b);
  ASSERT_TRUE(m);
  rt::CompiledFunc f, g;
  ASSERT_TRUE(lower_function(*m, 0, f).ok());
  ASSERT_TRUE(lower_function(*m, 1, g).ok());
  EXPECT_EQ(disassemble(f), (std::vector<Instr>{{IOp::I32AddLoad_, {slot(0), slot(1), slot(0), 8, 4}},
                                                {IOp::Return_, {}}}));
  EXPECT_EQ(disassemble(g), (std::vector<Instr>{{IOp::I32LoadAddImm_, {slot(0), slot(0), 8, 4}},
                                                {IOp::Return_, {}}}));
}

TEST(LowerTest, CounterIncrementFusesIntoTheBackEdge) {
  ModuleBuilder b;
  // loop: i += 1; br_if i != 10
  b.func(b.type({I32}, {}), {},
         {LOOP, EMPTY, LOCAL_GET, 0, I32_CONST, 1, I32_ADD, LOCAL_TEE, 0, I32_CONST, 10, I32_NE, BR_IF, 0, END, END});
  rt::CompiledFunc f;
  auto code = lower_first(b, f);
  ASSERT_EQ(code.size(), 2u);
  // The loop is this one instruction: it jumps to itself.
  EXPECT_EQ(code[0], (Instr{IOp::CountBrIfI32NeImm_, {slot(0), slot(0), 1, slot(0), 10, 0}}));
  EXPECT_EQ(code[1].op, IOp::Return_);
}

TEST(LowerTest, CounterIncrementBeforeALabelIsNotFused) {
  ModuleBuilder b;
  // i += 1; loop: br_if i != 10  (the loop label sits between the add and the compare)
  b.func(b.type({I32}, {}), {},
         {LOCAL_GET, 0, I32_CONST, 1, I32_ADD, LOCAL_SET, 0, LOOP, EMPTY, LOCAL_GET, 0, I32_CONST, 10, I32_NE, BR_IF, 0,
          END, END});
  rt::CompiledFunc f;
  auto code = lower_first(b, f);
  ASSERT_EQ(code.size(), 3u);
  EXPECT_EQ(code[0], (Instr{IOp::I32AddImm_, {slot(0), slot(0), 1}}));
  EXPECT_EQ(code[1], (Instr{IOp::BrIfI32NeImm_, {slot(0), 10, 0}}));
}

TEST(LowerTest, ChainedLoadsAddUpInOneInstruction) {
  ModuleBuilder b;
  b.memory = true;
  // mem[p] + mem[p + offset 4] + mem[(p + 8)]
  b.func(b.type({I32}, {I32}), {},
         {LOCAL_GET, 0, I32_LOAD, 2, 0, LOCAL_GET, 0, I32_LOAD, 2, 4, I32_ADD, LOCAL_GET, 0, I32_CONST, 8, I32_ADD,
          I32_LOAD, 2, 0, I32_ADD, END});
  rt::CompiledFunc f;
  // The result goes straight to slot 0, over the address: every load reads it first.
  EXPECT_EQ(lower_first(b, f),
            (std::vector<Instr>{{IOp::I32AddSumLoads_, {slot(0), slot(0), 3, 0, 0, 0, 4, 8, 0}},
                                {IOp::Return_, {}}}));
}

TEST(LowerTest, StoreOfAnOpOnTheSameAddressIsAnUpdate) {
  ModuleBuilder b;
  b.memory = true;
  // mem[p + offset 4] = x + mem[p + offset 4]
  b.func(b.type({I32, I32}, {}), {},
         {LOCAL_GET, 0, LOCAL_GET, 1, LOCAL_GET, 0, I32_LOAD, 2, 4, I32_ADD, I32_STORE, 2, 4, END});
  // A different offset is not.
  b.func(b.type({I32, I32}, {}), {},
         {LOCAL_GET, 0, LOCAL_GET, 1, LOCAL_GET, 0, I32_LOAD, 2, 4, I32_ADD, I32_STORE, 2, 8, END});
  auto m = decode_and_validate(b);
  ASSERT_TRUE(m);
  rt::CompiledFunc f, g;
  ASSERT_TRUE(lower_function(*m, 0, f).ok());
  ASSERT_TRUE(lower_function(*m, 1, g).ok());
  EXPECT_EQ(disassemble(f), (std::vector<Instr>{{IOp::I32AddUpdate_, {slot(1), slot(0), 0, 4}}, {IOp::Return_, {}}}));
  auto code = disassemble(g);
  ASSERT_EQ(code.size(), 3u);
  EXPECT_EQ(code[0].op, IOp::I32AddLoad_);
  EXPECT_EQ(code[1].op, wasm_op(wasm::Opcode::I32Store));
}

TEST(LowerTest, StoreOfAnOpWithAConstantIsOneInstruction) {
  ModuleBuilder b;
  b.memory = true;
  // mem[p + offset 8] = x + 3
  b.func(b.type({I32, I32}, {}), {}, {LOCAL_GET, 0, LOCAL_GET, 1, I32_CONST, 3, I32_ADD, I32_STORE, 2, 8, END});
  rt::CompiledFunc f;
  EXPECT_EQ(lower_first(b, f), (std::vector<Instr>{{IOp::I32AddImmStore_, {slot(0), slot(1), 3, 8}}, {IOp::Return_, {}}}));
}

TEST(LowerTest, LoadsFromDifferentBasesAreNotSummed) {
  ModuleBuilder b;
  b.memory = true;
  // mem[p] + mem[q]
  b.func(b.type({I32, I32}, {I32}), {}, {LOCAL_GET, 0, I32_LOAD, 2, 0, LOCAL_GET, 1, I32_LOAD, 2, 0, I32_ADD, END});
  rt::CompiledFunc f;
  auto code = lower_first(b, f);
  ASSERT_EQ(code.size(), 3u);
  EXPECT_EQ(code[0].op, wasm_op(wasm::Opcode::I32Load));
  EXPECT_EQ(code[1].op, IOp::I32AddLoad_);
}

TEST(LowerTest, PendingLocalReadIsMaterialisedBeforeTheLocalChanges) {
  ModuleBuilder b;
  b.func(b.type({I32}, {I32}), {}, {LOCAL_GET, 0, I32_CONST, 5, LOCAL_SET, 0, END});
  rt::CompiledFunc f;
  EXPECT_EQ(lower_first(b, f), (std::vector<Instr>{{IOp::Const64_, {slot(2), 5}},
                                                   {IOp::Copy64_, {slot(1), slot(0)}},  // old value to its home
                                                   {IOp::Copy64_, {slot(0), slot(2)}},
                                                   {IOp::Copy64_, {slot(0), slot(1)}},
                                                   {IOp::Return_, {}}}));
}

TEST(LowerTest, BranchWithValuesInPlaceNeedsNoMoves) {
  ModuleBuilder b;
  // block (result i32): the constant already sits in the block's result slot.
  b.func(b.type({I32}, {I32}), {},
         {BLOCK, I32, I32_CONST, 10, LOCAL_GET, 0, BR_IF, 0, DROP, I32_CONST, 20, END, END});
  rt::CompiledFunc f;
  auto code = lower_first(b, f);
  ASSERT_EQ(code.size(), 5u);
  EXPECT_EQ(code[0], (Instr{IOp::Const64_, {slot(1), 10}}));
  EXPECT_EQ(code[1].op, IOp::BrIf_);
  EXPECT_EQ(code[1].operands[0], slot(0));
  EXPECT_EQ(static_cast<int64_t>(code[1].operands[1]), 3 + 3);  // over itself and the next Const64
  EXPECT_EQ(code[2], (Instr{IOp::Const64_, {slot(1), 20}}));
  EXPECT_EQ(code[3], (Instr{IOp::Copy64_, {slot(0), slot(1)}}));
  EXPECT_EQ(code[4].op, IOp::Return_);
}

// ---- execution -------------------------------------------------------------------------------

class LowerRunTest : public ::testing::Test {
 protected:
  // Compiles and instantiates `b`; returns the results of calling f<index>.
  std::vector<int64_t> run(const ModuleBuilder& b, uint32_t index, std::vector<Val> args) {
    auto module = Module::compile(engine_, b.build());
    EXPECT_TRUE(module.ok()) << module.error().to_string();
    if (!module.ok()) return {};
    stores_.push_back(std::make_unique<Store>(engine_));
    Linker linker(engine_);
    auto inst = linker.instantiate(*stores_.back(), *module);
    EXPECT_TRUE(inst.ok()) << inst.error().to_string();
    if (!inst.ok()) return {};
    auto f = inst->func("f" + std::to_string(index));
    EXPECT_TRUE(f.has_value());
    if (!f) return {};
    auto r = f->call(std::span<const Val>(args));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r.ok()) return {};
    std::vector<int64_t> out;
    for (const Val& v : *r) out.push_back(v.type == ValType::I64 ? v.of.i64 : v.of.i32);
    return out;
  }
  static Val i32(int32_t v) { return Val::make_i32(v); }

  Engine engine_;
  std::vector<std::unique_ptr<Store>> stores_;
};

using R = std::vector<int64_t>;

TEST_F(LowerRunTest, FusedCountersSumsAndUpdatesCompute) {
  ModuleBuilder b;
  b.memory = true;
  // for (i = 0; i != 4; i += 1) mem[16] += mem[4*i] + mem[4*i + 4] + mem[4*i + 8]  after mem[4*k] = k + 1;
  // returns mem[16] and i.
  Bytes init;
  for (uint8_t k = 0; k < 7; ++k) append(init, {I32_CONST, static_cast<uint8_t>(4 * k), I32_CONST, static_cast<uint8_t>(k + 1), I32_STORE, 2, 0});
  Bytes body = init;
  append(body, {I32_CONST, 0, I32_CONST, 0, I32_STORE, 2, 40,  // the sum lives at 40
                LOOP, EMPTY,
                I32_CONST, 0,  // address of the update
                LOCAL_GET, 0, I32_CONST, 2, 0x74 /* i32.shl */, LOCAL_TEE, 1, I32_LOAD, 2, 0,
                LOCAL_GET, 1, I32_LOAD, 2, 4, I32_ADD,
                LOCAL_GET, 1, I32_CONST, 8, I32_ADD, I32_LOAD, 2, 0, I32_ADD,
                I32_CONST, 0, I32_LOAD, 2, 40, I32_ADD, I32_STORE, 2, 40,
                LOCAL_GET, 0, I32_CONST, 1, I32_ADD, LOCAL_TEE, 0, I32_CONST, 4, I32_NE, BR_IF, 0,
                END,
                I32_CONST, 0, I32_LOAD, 2, 40, LOCAL_GET, 0, I32_ADD, END});
  b.func(b.type({}, {I32}), {I32, I32}, body);
  // (1+2+3) + (2+3+4) + (3+4+5) + (4+5+6) = 42, plus i = 4
  EXPECT_EQ(run(b, 0, {}), R{46});
}

TEST_F(LowerRunTest, OldLocalValueSurvivesASet) {
  ModuleBuilder b;
  b.func(b.type({I32}, {I32}), {}, {LOCAL_GET, 0, I32_CONST, 5, LOCAL_SET, 0, LOCAL_GET, 0, I32_SUB, END});
  EXPECT_EQ(run(b, 0, {i32(7)}), R{2});
}

TEST_F(LowerRunTest, LocalReadIsSettledBeforeABlock) {
  // The pending read of local 0 crosses a block in which only one path sets it.
  ModuleBuilder b;
  b.func(b.type({I32}, {I32}), {},
         {LOCAL_GET, 0, BLOCK, EMPTY, LOCAL_GET, 0, BR_IF, 0, I32_CONST, 9, LOCAL_SET, 0, END, LOCAL_GET, 0, I32_ADD,
          END});
  EXPECT_EQ(run(b, 0, {i32(3)}), R{6});
  EXPECT_EQ(run(b, 0, {i32(0)}), R{9});
}

TEST_F(LowerRunTest, ReturnedLocalsAreSwappedSafely) {
  ModuleBuilder b;
  uint32_t t = b.type({I32, I32}, {I32, I32});
  b.func(t, {}, {LOCAL_GET, 1, LOCAL_GET, 0, END});
  b.func(t, {}, {BLOCK, EMPTY, LOCAL_GET, 1, LOCAL_GET, 0, BR, 1, END, UNREACHABLE, END});
  b.func(t, {}, {LOCAL_GET, 1, LOCAL_GET, 0, LOCAL_GET, 0, BR_IF, 0, DROP, DROP, I32_CONST, 5, I32_CONST, 6, END});
  EXPECT_EQ(run(b, 0, {i32(1), i32(2)}), (R{2, 1}));
  EXPECT_EQ(run(b, 1, {i32(1), i32(2)}), (R{2, 1}));
  EXPECT_EQ(run(b, 2, {i32(1), i32(2)}), (R{2, 1}));
  EXPECT_EQ(run(b, 2, {i32(0), i32(2)}), (R{5, 6}));
}

TEST_F(LowerRunTest, BrIfMovesLocalReferences) {
  ModuleBuilder b;
  b.func(b.type({I32}, {I32}), {},
         {BLOCK, I32, LOCAL_GET, 0, LOCAL_GET, 0, BR_IF, 0, I32_CONST, 1, I32_ADD, END, END});
  EXPECT_EQ(run(b, 0, {i32(4)}), R{4});
  EXPECT_EQ(run(b, 0, {i32(0)}), R{1});
}

TEST_F(LowerRunTest, BrTableArms) {
  // Three nested blocks; leaving each adds to the carried value.
  auto make = [](Bytes carried) {
    ModuleBuilder b;
    Bytes body = {BLOCK, I32, BLOCK, I32, BLOCK, I32};
    append(body, carried);
    append(body, {LOCAL_GET, 0, BR_TABLE, 2, 0, 1, 2, END, I32_CONST, 1, I32_ADD, END, I32_CONST, 2, I32_ADD, END,
                  END});
    b.func(b.type({I32}, {I32}), {}, body);
    return b;
  };
  ModuleBuilder in_place = make({I32_CONST, 50});  // already in the label slots
  EXPECT_EQ(run(in_place, 0, {i32(0)}), R{53});
  EXPECT_EQ(run(in_place, 0, {i32(1)}), R{52});
  EXPECT_EQ(run(in_place, 0, {i32(2)}), R{50});
  EXPECT_EQ(run(in_place, 0, {i32(-1)}), R{50});
  ModuleBuilder moved = make({LOCAL_GET, 0});  // a local reference: arms go through stubs
  EXPECT_EQ(run(moved, 0, {i32(0)}), R{3});
  EXPECT_EQ(run(moved, 0, {i32(1)}), R{3});
  EXPECT_EQ(run(moved, 0, {i32(9)}), R{9});

  // An arm that leaves the function returns the value.
  ModuleBuilder to_function;
  to_function.func(to_function.type({I32}, {I32}), {},
                   {BLOCK, I32, LOCAL_GET, 0, LOCAL_GET, 0, BR_TABLE, 1, 0, 1, END, I32_CONST, 10, I32_ADD, END});
  EXPECT_EQ(run(to_function, 0, {i32(0)}), R{10});
  EXPECT_EQ(run(to_function, 0, {i32(1)}), R{1});
  EXPECT_EQ(run(to_function, 0, {i32(7)}), R{7});
}

TEST_F(LowerRunTest, Loops) {
  ModuleBuilder b;
  uint32_t t = b.type({I32}, {I32});
  // Sum n + ... + 1 with an accumulator local.
  b.func(t, {I32},
         {LOOP, EMPTY, LOCAL_GET, 1, LOCAL_GET, 0, I32_ADD, LOCAL_SET, 1, LOCAL_GET, 0, I32_CONST, 1, I32_SUB,
          LOCAL_TEE, 0, BR_IF, 0, END, LOCAL_GET, 1, END});
  // A loop with a param: double until >= 60; the back edge carries a local reference.
  b.func(t, {I32},
         {LOCAL_GET, 0, LOOP, static_cast<uint8_t>(t), I32_CONST, 2, I32_MUL, LOCAL_TEE, 1, LOCAL_GET, 1, I32_CONST, 60,
          I32_LT_S, BR_IF, 0, END, END});
  EXPECT_EQ(run(b, 0, {i32(4)}), R{10});
  EXPECT_EQ(run(b, 1, {i32(3)}), R{96});
}

TEST_F(LowerRunTest, FusedAddressAddWrapsAt32Bits) {
  ModuleBuilder b;
  b.memory = true;
  // mem[4] = 55; then load from (-4 + 8) + offset 0, which wraps to 4 (no trap).
  b.func(b.type({I32}, {I32}), {},
         {I32_CONST, 4, I32_CONST, 55, I32_STORE, 2, 0, LOCAL_GET, 0, I32_CONST, 8, I32_ADD, I32_LOAD, 2, 0, END});
  // The same address feeding an add.
  b.func(b.type({I32}, {I32}), {},
         {I32_CONST, 4, I32_CONST, 55, I32_STORE, 2, 0, I32_CONST, 1, LOCAL_GET, 0, I32_CONST, 8, I32_ADD, I32_LOAD, 2, 0,
          I32_ADD, END});
  EXPECT_EQ(run(b, 0, {i32(-4)}), R{55});
  EXPECT_EQ(run(b, 1, {i32(-4)}), R{56});
}

// The stencil shape: dst[i] = (src[i] + src[i + 1] + src[i + 2]) + 3, with
// the index adds folded into the sum (which still writes the local.tee) and
// into the store. f1: the value's computation writes the store address's
// index (i = i + 5 in between), so that add stays where it is.
ModuleBuilder indexed_sum_and_store() {
  ModuleBuilder b;
  b.memory = true;
  uint32_t t = b.type({I32, I32, I32}, {I32});
  b.func(t, {I32},
         {I32_CONST, 16, I32_CONST, 1, I32_STORE, 2, 0, I32_CONST, 20, I32_CONST, 2, I32_STORE, 2, 0,
          I32_CONST, 24, I32_CONST, 4, I32_STORE, 2, 0,
          LOCAL_GET, 0, LOCAL_GET, 2, I32_ADD,
          LOCAL_GET, 1, LOCAL_GET, 2, I32_ADD, LOCAL_TEE, 3, I32_LOAD, 2, 0,
          LOCAL_GET, 3, I32_LOAD, 2, 4, I32_ADD, LOCAL_GET, 3, I32_LOAD, 2, 8, I32_ADD,
          I32_CONST, 3, I32_ADD, I32_STORE, 2, 0,
          // dst[i] * 1000 + the tee'd address
          LOCAL_GET, 0, LOCAL_GET, 2, I32_ADD, I32_LOAD, 2, 0, I32_CONST, 0xe8, 0x07, I32_MUL, LOCAL_GET, 3, I32_ADD,
          END});
  b.func(t, {I32},
         {LOCAL_GET, 0, LOCAL_GET, 2, I32_ADD, LOCAL_GET, 2, I32_CONST, 5, I32_ADD, LOCAL_TEE, 2, I32_CONST, 3,
          I32_ADD, I32_STORE, 2, 0, LOCAL_GET, 0, I32_LOAD, 2, 8, END});
  return b;
}

TEST(LowerTest, IndexAddsFoldIntoSumsAndStores) {
  ModuleBuilder b = indexed_sum_and_store();
  auto m = decode_and_validate(b);
  ASSERT_TRUE(m);
  rt::CompiledFunc f, g;
  ASSERT_TRUE(lower_function(*m, 0, f).ok());
  ASSERT_TRUE(lower_function(*m, 1, g).ok());
  auto has = [](const std::vector<Instr>& code, IOp op) {
    return std::any_of(code.begin(), code.end(), [&](const Instr& i) { return i.op == op; });
  };
  auto code = disassemble(f);
  auto sum = std::find_if(code.begin(), code.end(), [](const Instr& i) { return i.op == IOp::I32AddSumLoadsIndexed_; });
  ASSERT_NE(sum, code.end());
  // addr_dst (the tee'd local 3), base src (local 1), index (local 2), 3 loads
  EXPECT_EQ(std::vector<uint64_t>(sum->operands.begin() + 1, sum->operands.begin() + 11),
            (std::vector<uint64_t>{slot(3), slot(1), slot(2), 3, 0, 0, 0, 4, 0, 8}));
  auto store = std::find_if(code.begin(), code.end(), [](const Instr& i) { return i.op == IOp::I32AddImmStoreIndexed_; });
  ASSERT_NE(store, code.end());
  EXPECT_EQ(store->operands[0], slot(0));
  EXPECT_EQ(store->operands[1], slot(2));
  EXPECT_EQ(store->operands[3], 3u);
  // Only the two adds of the read-back are left.
  EXPECT_EQ(std::count_if(code.begin(), code.end(), [](const Instr& i) { return i.op == wasm_op(wasm::Opcode::I32Add); }), 2);
  EXPECT_FALSE(has(disassemble(g), IOp::I32AddImmStoreIndexed_));
}

TEST_F(LowerRunTest, IndexedSumsAndStoresCompute) {
  ModuleBuilder b = indexed_sum_and_store();
  EXPECT_EQ(run(b, 0, {i32(100), i32(8), i32(8)}), R{10 * 1000 + 16});
  // Both index adds wrap at 32 bits: -4 + 104 = 100, -88 + 104 = 16.
  EXPECT_EQ(run(b, 0, {i32(-4), i32(-88), i32(104)}), R{10 * 1000 + 16});
  EXPECT_EQ(run(b, 1, {i32(100), i32(0), i32(8)}), R{16});
}

TEST_F(LowerRunTest, FusedComparesBranchBothWays) {
  ModuleBuilder b;
  // if (x > 3) 1 else 2, and 10 < x through a mirrored immediate.
  uint32_t t = b.type({I32}, {I32});
  b.func(t, {}, {LOCAL_GET, 0, I32_CONST, 3, I32_GT_S, IF, I32, I32_CONST, 1, ELSE, I32_CONST, 2, END, END});
  b.func(t, {}, {I32_CONST, 10, LOCAL_GET, 0, I32_LT_S, END});
  EXPECT_EQ(run(b, 0, {i32(4)}), R{1});
  EXPECT_EQ(run(b, 0, {i32(3)}), R{2});
  EXPECT_EQ(run(b, 0, {i32(-5)}), R{2});
  EXPECT_EQ(run(b, 1, {i32(11)}), R{1});
  EXPECT_EQ(run(b, 1, {i32(10)}), R{0});
}

TEST_F(LowerRunTest, IfElseWithParams) {
  ModuleBuilder b;
  uint32_t t = b.type({I32}, {I32});
  b.func(t, {},
         {I32_CONST, 10, LOCAL_GET, 0, IF, static_cast<uint8_t>(t), I32_CONST, 1, I32_ADD, ELSE, I32_CONST, 2, I32_SUB,
          END, END});
  // Without else, the params pass through.
  b.func(t, {}, {I32_CONST, 10, LOCAL_GET, 0, IF, static_cast<uint8_t>(t), I32_CONST, 1, I32_ADD, END, END});
  EXPECT_EQ(run(b, 0, {i32(1)}), R{11});
  EXPECT_EQ(run(b, 0, {i32(0)}), R{8});
  EXPECT_EQ(run(b, 1, {i32(1)}), R{11});
  EXPECT_EQ(run(b, 1, {i32(0)}), R{10});
}

TEST_F(LowerRunTest, CallsAndSelect) {
  ModuleBuilder b;
  uint32_t sub = b.type({I32, I32}, {I32});
  uint32_t one = b.type({I32}, {I32, I64});
  uint32_t three = b.type({I32, I32, I32}, {I32});
  b.func(sub, {}, {LOCAL_GET, 0, LOCAL_GET, 1, I32_SUB, END});
  // f1(x) = sub(x, 3) and a second result, both from local references.
  b.func(one, {}, {LOCAL_GET, 0, I32_CONST, 3, CALL, 0, I64_CONST, 42, END});
  // f2(a, b, c) = c ? a : b, then + a to check a was not disturbed.
  b.func(three, {}, {LOCAL_GET, 0, LOCAL_GET, 1, LOCAL_GET, 2, SELECT, LOCAL_GET, 0, I32_ADD, END});
  // f3: results of a call pass through a tee and an early return.
  b.func(sub, {}, {LOCAL_GET, 1, LOCAL_GET, 0, CALL, 0, LOCAL_TEE, 0, LOCAL_GET, 0, I32_ADD, RETURN, END});
  EXPECT_EQ(run(b, 1, {i32(10)}), (R{7, 42}));
  EXPECT_EQ(run(b, 2, {i32(5), i32(6), i32(1)}), R{10});
  EXPECT_EQ(run(b, 2, {i32(5), i32(6), i32(0)}), R{11});
  EXPECT_EQ(run(b, 3, {i32(1), i32(4)}), R{6});
}

TEST_F(LowerRunTest, TeeOfAComputedValue) {
  ModuleBuilder b;
  b.func(b.type({I32}, {I32}), {}, {LOCAL_GET, 0, I32_CONST, 1, I32_ADD, LOCAL_TEE, 0, LOCAL_GET, 0, I32_ADD, END});
  EXPECT_EQ(run(b, 0, {i32(4)}), R{10});
}

TEST_F(LowerRunTest, Vectors) {
  ModuleBuilder b;
  // (v128) -> v128: x + x with i32x4.add (0xfd 0xae 0x01), through a local set.
  b.func(b.type({V128T}, {V128T}), {V128T},
         {LOCAL_GET, 0, LOCAL_GET, 0, PREFIX_FD, 0xae, 0x01, LOCAL_SET, 1, LOCAL_GET, 1, END});
  auto module = Module::compile(engine_, b.build());
  ASSERT_TRUE(module.ok()) << module.error().to_string();
  Store store(engine_);
  auto inst = Linker(engine_).instantiate(store, *module);
  ASSERT_TRUE(inst.ok());
  V128 in{};
  for (int i = 0; i < 16; ++i) in.bytes[i] = static_cast<uint8_t>(i);
  auto r = inst->func("f0")->call({Val::make_v128(in)});
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < 16; ++i) EXPECT_EQ(r->at(0).of.v128.bytes[i], static_cast<uint8_t>(2 * i)) << i;
}

// ---- lazy lowering -----------------------------------------------------------------------------

TEST(LowerTest, EnsureLoweredOnceAcrossThreads) {
  ModuleBuilder b;
  b.func(b.type({I32}, {I32}), {}, {LOCAL_GET, 0, I32_CONST, 1, I32_ADD, END});
  auto m = decode_and_validate(b);
  ASSERT_TRUE(m);
  rt::CompiledModule cm;
  cm.module = std::shared_ptr<const wasm::Module>(std::move(m));
  cm.funcs = std::make_unique<rt::CompiledFunc[]>(1);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { ok[i] = ensure_lowered(cm, 0).ok(); });
  for (auto& t : threads) t.join();
  for (int v : ok) EXPECT_TRUE(v);
  const uint64_t* code = cm.funcs[0].code.load();
  ASSERT_NE(code, nullptr);
  EXPECT_TRUE(ensure_lowered(cm, 0).ok());
  EXPECT_EQ(cm.funcs[0].code.load(), code);  // not lowered again
  EXPECT_FALSE(ensure_lowered(cm, 1).ok());
}

}  // namespace
}  // namespace skiff::interp

// Function-body validation (wasm/body_decoder.h through
// validate_function_body): hand-assembled modules, decoded and validated,
// checked for the exact error code, phase and offset.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "wasm/module.h"
#include "wasm/validator.h"

namespace skiff::wasm {
namespace {

using Bytes = std::vector<uint8_t>;

// Value types and opcodes used below, as bytes.
constexpr uint8_t I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, V128T = 0x7b, FUNCREF = 0x70, EXTERNREF = 0x6f;
constexpr uint8_t EMPTY = 0x40;
constexpr uint8_t UNREACHABLE = 0x00, NOP = 0x01, BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05,
                  END = 0x0b, BR = 0x0c, BR_IF = 0x0d, BR_TABLE = 0x0e, RETURN = 0x0f, CALL = 0x10,
                  CALL_INDIRECT = 0x11, DROP = 0x1a, SELECT = 0x1b, SELECT_T = 0x1c, LOCAL_GET = 0x20,
                  LOCAL_SET = 0x21, GLOBAL_GET = 0x23, GLOBAL_SET = 0x24, I32_LOAD = 0x28, I64_LOAD = 0x29,
                  I32_STORE = 0x36, MEMORY_SIZE = 0x3f, I32_CONST = 0x41, I64_CONST = 0x42, F32_CONST = 0x43,
                  I32_EQZ = 0x45, I32_ADD = 0x6a, REF_NULL = 0xd0, REF_IS_NULL = 0xd1, REF_FUNC = 0xd2,
                  PREFIX_FC = 0xfc, PREFIX_FD = 0xfd;

void leb(Bytes& out, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(v ? b | 0x80 : b);
  } while (v);
}

void append(Bytes& out, const Bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

// Builds a module of defined functions (plus optional memory, table,
// globals, data count and declared function references).
struct ModuleBuilder {
  std::vector<Bytes> types;
  std::vector<uint32_t> func_types;
  std::vector<Bytes> codes;
  std::vector<uint32_t> body_offsets;  // filled by build(): first instruction of each body
  bool memory = false;
  std::vector<uint8_t> tables;                      // element types
  std::vector<std::pair<uint8_t, bool>> globals;    // type, mutable (i32/i64 only)
  std::optional<uint32_t> data_count;
  uint32_t passive_datas = 0;
  std::vector<uint32_t> declared;  // functions listed in a declarative elem segment

  uint32_t type(Bytes params, Bytes results) {
    Bytes t = {0x60};
    leb(t, params.size());
    append(t, params);
    leb(t, results.size());
    append(t, results);
    types.push_back(t);
    return static_cast<uint32_t>(types.size() - 1);
  }
  // `body` includes the final `end`.
  uint32_t func(uint32_t type_index, Bytes locals, Bytes body) {
    func_types.push_back(type_index);
    Bytes code;
    leb(code, locals.size());
    for (uint8_t t : locals) code.insert(code.end(), {0x01, t});
    append(code, body);
    codes.push_back(code);
    return static_cast<uint32_t>(func_types.size() - 1);
  }

  Bytes build() {
    Bytes out = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    auto section = [&](uint8_t id, const Bytes& payload) {
      out.push_back(id);
      leb(out, payload.size());
      size_t start = out.size();
      append(out, payload);
      return start;
    };
    auto vec = [](const std::vector<Bytes>& items) {
      Bytes p;
      leb(p, items.size());
      for (const Bytes& i : items) append(p, i);
      return p;
    };
    section(1, vec(types));
    Bytes funcs;
    leb(funcs, func_types.size());
    for (uint32_t t : func_types) leb(funcs, t);
    section(3, funcs);
    if (!tables.empty()) {
      Bytes p;
      leb(p, tables.size());
      for (uint8_t t : tables) p.insert(p.end(), {t, 0x00, 0x01});
      section(4, p);
    }
    if (memory) section(5, {0x01, 0x00, 0x01});
    if (!globals.empty()) {
      Bytes p;
      leb(p, globals.size());
      for (auto [t, mut] : globals) {
        p.insert(p.end(), {t, static_cast<uint8_t>(mut)});
        p.insert(p.end(), {static_cast<uint8_t>(t == I64 ? I64_CONST : I32_CONST), 0x00, END});
      }
      section(6, p);
    }
    if (!declared.empty()) {
      Bytes p = {0x01, 0x03, 0x00};  // one declarative segment of function indices
      leb(p, declared.size());
      for (uint32_t f : declared) leb(p, f);
      section(9, p);
    }
    if (data_count) {
      Bytes p;
      leb(p, *data_count);
      section(12, p);
    }
    // Code section: remember where each body's instructions start.
    Bytes payload;
    leb(payload, codes.size());
    std::vector<size_t> starts;
    for (const Bytes& c : codes) {
      leb(payload, c.size());
      // Skip the locals declaration: its count and one (1, type) pair each.
      size_t locals = c[0];
      starts.push_back(payload.size() + 1 + 2 * locals);
      append(payload, c);
    }
    size_t base = section(10, payload);
    body_offsets.clear();
    for (size_t s : starts) body_offsets.push_back(static_cast<uint32_t>(base + s));
    if (passive_datas) {
      Bytes p;
      leb(p, passive_datas);
      for (uint32_t i = 0; i < passive_datas; ++i) p.insert(p.end(), {0x01, 0x00});
      section(11, p);
    }
    return out;
  }
};

// Decodes and validates; nullopt when the module is valid.
std::optional<Error> check(ModuleBuilder& b) {
  auto m = decode_module(b.build());
  if (!m.ok()) return m.error();
  auto r = validate_module(**m);
  if (!r.ok()) return r.error();
  return std::nullopt;
}

// A module with one function of type params -> results.
std::optional<Error> check_body(Bytes params, Bytes results, Bytes body, Bytes locals = {}) {
  ModuleBuilder b;
  b.func(b.type(std::move(params), std::move(results)), std::move(locals), std::move(body));
  return check(b);
}

#define EXPECT_VALID(expr)                                   \
  do {                                                       \
    auto err_ = (expr);                                      \
    EXPECT_FALSE(err_) << (err_ ? err_->to_string() : "");  \
  } while (0)
#define EXPECT_ERROR(expr, code_)                                                   \
  do {                                                                              \
    auto err_ = (expr);                                                             \
    ASSERT_TRUE(err_) << "expected " #code_;                                        \
    EXPECT_EQ(err_->code, ErrorCode::code_) << err_->to_string();                   \
  } while (0)

// ---- basic typing ------------------------------------------------------------

TEST(ValidatorTest, SimpleBodiesAreValid) {
  EXPECT_VALID(check_body({}, {}, {END}));
  EXPECT_VALID(check_body({I32, I32}, {I32}, {LOCAL_GET, 0, LOCAL_GET, 1, I32_ADD, END}));
  EXPECT_VALID(check_body({}, {I64}, {I64_CONST, 0x7f, END}));
}

TEST(ValidatorTest, OperandTypeMismatch) {
  EXPECT_ERROR(check_body({}, {I32}, {I32_CONST, 1, I64_CONST, 2, I32_ADD, END}), TypeMismatch);
  EXPECT_ERROR(check_body({}, {I32}, {I32_CONST, 1, I32_ADD, END}), TypeMismatch);  // stack underflow
}

TEST(ValidatorTest, FallthroughMustMatchResults) {
  EXPECT_ERROR(check_body({}, {I32}, {END}), TypeMismatch);
  EXPECT_ERROR(check_body({}, {}, {I32_CONST, 0, END}), TypeMismatch);
  EXPECT_ERROR(check_body({}, {I32}, {I64_CONST, 0, END}), TypeMismatch);
}

TEST(ValidatorTest, ErrorCarriesInstructionOffset) {
  ModuleBuilder b;
  b.func(b.type({}, {I32}), {}, {I32_CONST, 1, I64_CONST, 2, I32_ADD, END});
  auto err = check(b);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, ErrorCode::TypeMismatch);
  EXPECT_EQ(err->phase(), Phase::Validate);
  EXPECT_EQ(err->offset, b.body_offsets[0] + 4u);  // the i32.add
}

TEST(ValidatorTest, LocalsAndGlobals) {
  EXPECT_VALID(check_body({I32}, {F32}, {LOCAL_GET, 1, END}, {F32}));
  EXPECT_ERROR(check_body({I32}, {}, {LOCAL_GET, 2, DROP, END}, {F32}), UnknownLocal);
  EXPECT_ERROR(check_body({}, {}, {I32_CONST, 0, LOCAL_SET, 0, END}, {I64}), TypeMismatch);

  ModuleBuilder b;
  b.globals = {{I32, false}, {I64, true}};
  b.func(b.type({}, {}), {}, {I64_CONST, 1, GLOBAL_SET, 1, GLOBAL_GET, 0, DROP, END});
  EXPECT_VALID(check(b));

  ModuleBuilder immutable;
  immutable.globals = {{I32, false}};
  immutable.func(immutable.type({}, {}), {}, {I32_CONST, 1, GLOBAL_SET, 0, END});
  EXPECT_ERROR(check(immutable), GlobalImmutable);

  ModuleBuilder unknown;
  unknown.func(unknown.type({}, {}), {}, {GLOBAL_GET, 0, DROP, END});
  EXPECT_ERROR(check(unknown), UnknownGlobal);
}

// ---- unreachable code --------------------------------------------------------

TEST(ValidatorTest, UnreachableMakesTheStackPolymorphic) {
  EXPECT_VALID(check_body({}, {I32}, {UNREACHABLE, END}));
  EXPECT_VALID(check_body({}, {I32}, {UNREACHABLE, I32_ADD, END}));
  EXPECT_VALID(check_body({}, {I32}, {UNREACHABLE, SELECT, END}));
  EXPECT_VALID(check_body({}, {I32}, {UNREACHABLE, REF_IS_NULL, END}));
  EXPECT_VALID(check_body({}, {}, {RETURN, I32_ADD, DROP, END}));
  EXPECT_VALID(check_body({}, {}, {BLOCK, EMPTY, BR, 0, I64_CONST, 0, I32_CONST, 0, BR_IF, 0, DROP, END, END}));
}

TEST(ValidatorTest, UnreachableCodeIsStillTyped) {
  // Values pushed after `unreachable` are real and must match.
  EXPECT_ERROR(check_body({}, {I32}, {UNREACHABLE, I64_CONST, 0, I32_ADD, END}), TypeMismatch);
  EXPECT_ERROR(check_body({}, {I32}, {UNREACHABLE, I64_CONST, 0, END}), TypeMismatch);
  EXPECT_ERROR(check_body({}, {}, {UNREACHABLE, I32_CONST, 0, I64_CONST, 0, SELECT, DROP, END}), TypeMismatch);
  // A bottom does not make `select` accept a reference.
  EXPECT_ERROR(check_body({}, {}, {UNREACHABLE, REF_NULL, FUNCREF, I32_CONST, 0, SELECT, DROP, END}),
               TypeMismatch);
  // br_if refines bottoms to the label's types.
  EXPECT_ERROR(check_body({}, {},
                          {BLOCK, I32, UNREACHABLE, I32_CONST, 0, BR_IF, 0, I64_CONST, 0, I32_ADD, DROP,
                           I32_CONST, 0, END, DROP, END}),
               TypeMismatch);
  // The polymorphic stack ends at the enclosing block.
  EXPECT_ERROR(check_body({}, {}, {I32_CONST, 0, BLOCK, EMPTY, UNREACHABLE, END, I32_ADD, DROP, END}),
               TypeMismatch);
}

// ---- blocks and branches ---------------------------------------------------------

TEST(ValidatorTest, MultiValueBlocks) {
  ModuleBuilder b;
  b.type({}, {});
  uint32_t pair_to_one = b.type({I32, I32}, {I32});
  uint32_t to_pair = b.type({}, {I32, I64});
  b.func(0, {},
         {I32_CONST, 1, I32_CONST, 2, BLOCK, static_cast<uint8_t>(pair_to_one), I32_ADD, END, DROP,  //
          BLOCK, static_cast<uint8_t>(to_pair), I32_CONST, 1, I64_CONST, 2, END, DROP, DROP,         //
          I32_CONST, 1, I32_CONST, 2, LOOP, static_cast<uint8_t>(pair_to_one), I32_ADD, END, DROP, END});
  EXPECT_VALID(check(b));

  // Params must be on the stack, results must match.
  ModuleBuilder missing;
  missing.type({}, {});
  missing.type({I32, I32}, {I32});
  missing.func(0, {}, {I32_CONST, 1, BLOCK, 1, I32_ADD, END, DROP, END});
  EXPECT_ERROR(check(missing), TypeMismatch);

  ModuleBuilder wrong_result;
  wrong_result.type({}, {});
  wrong_result.type({}, {I32, I64});
  wrong_result.func(0, {}, {BLOCK, 1, I64_CONST, 1, I32_CONST, 2, END, DROP, DROP, END});
  EXPECT_ERROR(check(wrong_result), TypeMismatch);

  EXPECT_ERROR(check_body({}, {}, {BLOCK, 5, END, END}), UnknownType);
}

TEST(ValidatorTest, IfElseArity) {
  EXPECT_VALID(check_body({I32}, {I32}, {LOCAL_GET, 0, IF, I32, I32_CONST, 1, ELSE, I32_CONST, 2, END, END}));
  // An if with a result needs an else.
  EXPECT_ERROR(check_body({I32}, {I32}, {LOCAL_GET, 0, IF, I32, I32_CONST, 1, END, END}), TypeMismatch);
  EXPECT_ERROR(check_body({I32}, {I32}, {LOCAL_GET, 0, IF, I32, I32_CONST, 1, ELSE, END, END}), TypeMismatch);
  // The condition is an i32.
  EXPECT_ERROR(check_body({}, {}, {I64_CONST, 0, IF, EMPTY, END, END}), TypeMismatch);

  // Without else, params must equal results (they pass through).
  ModuleBuilder b;
  b.type({}, {});
  b.type({I32}, {I32});
  b.type({I32}, {I64});
  b.func(0, {}, {I32_CONST, 5, I32_CONST, 1, IF, 1, I32_CONST, 1, I32_ADD, END, DROP, END});
  EXPECT_VALID(check(b));
  b.func(0, {}, {I32_CONST, 5, I32_CONST, 1, IF, 2, DROP, I64_CONST, 1, END, DROP, END});
  auto err = check(b);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, ErrorCode::TypeMismatch);
  EXPECT_EQ(err->offset, b.body_offsets[1] + 9u);  // the end of the if
}

TEST(ValidatorTest, BranchesCarryLabelTypes) {
  EXPECT_VALID(check_body({}, {I32}, {BLOCK, I32, I32_CONST, 1, BR, 0, END, END}));
  EXPECT_VALID(check_body({}, {I32}, {I32_CONST, 1, BR, 0, END}));  // to the function label
  EXPECT_ERROR(check_body({}, {I32}, {BLOCK, I32, I64_CONST, 1, BR, 0, END, END}), TypeMismatch);
  EXPECT_ERROR(check_body({}, {}, {BR, 1, END}), UnknownLabel);
  // A branch to a loop carries the loop's params, not its results.
  EXPECT_VALID(check_body({}, {I32}, {LOOP, I32, BR, 0, END, END}));
  // br_if keeps the values on the stack.
  EXPECT_VALID(check_body({}, {I32}, {BLOCK, I32, I32_CONST, 1, I32_CONST, 0, BR_IF, 0, END, END}));
  EXPECT_ERROR(check_body({}, {}, {BLOCK, EMPTY, I32_CONST, 1, I64_CONST, 0, BR_IF, 0, DROP, END, END}),
               TypeMismatch);
}

TEST(ValidatorTest, BrTableArity) {
  // Both labels take an i32.
  EXPECT_VALID(check_body({}, {I32},
                          {BLOCK, I32, BLOCK, I32, I32_CONST, 7, I32_CONST, 0, BR_TABLE, 1, 0, 1, END, END, END}));
  // Different arities.
  EXPECT_ERROR(check_body({}, {I32},
                          {BLOCK, I32, BLOCK, EMPTY, I32_CONST, 7, I32_CONST, 0, BR_TABLE, 1, 0, 1, END, END, END}),
               TypeMismatch);
  // Same arity, different types, with a concrete value: no type fits both.
  EXPECT_ERROR(check_body({}, {},
                          {BLOCK, I64, BLOCK, I32, I32_CONST, 7, I32_CONST, 0, BR_TABLE, 1, 0, 1, END, DROP, UNREACHABLE,
                           END, DROP, END}),
               TypeMismatch);
  // ... but in unreachable code the bottom fits both.
  EXPECT_VALID(check_body({}, {},
                          {BLOCK, I64, BLOCK, I32, UNREACHABLE, I32_CONST, 0, BR_TABLE, 1, 0, 1, END, DROP, UNREACHABLE,
                           END, DROP, END}));
  EXPECT_ERROR(check_body({}, {}, {BLOCK, EMPTY, I32_CONST, 0, BR_TABLE, 1, 0, 2, END, END}), UnknownLabel);
  // The index must be an i32.
  EXPECT_ERROR(check_body({}, {}, {BLOCK, EMPTY, I64_CONST, 0, BR_TABLE, 0, 0, END, END}), TypeMismatch);
}

// ---- select --------------------------------------------------------------------------

TEST(ValidatorTest, SelectRules) {
  EXPECT_VALID(check_body({}, {I32}, {I32_CONST, 1, I32_CONST, 2, I32_CONST, 0, SELECT, END}));
  EXPECT_ERROR(check_body({}, {I32}, {I32_CONST, 1, I64_CONST, 2, I32_CONST, 0, SELECT, END}), TypeMismatch);
  // Untyped select is for numeric and vector types only.
  EXPECT_ERROR(check_body({}, {}, {REF_NULL, FUNCREF, REF_NULL, FUNCREF, I32_CONST, 0, SELECT, DROP, END}),
               TypeMismatch);
  // Typed select takes references, and exactly one type.
  EXPECT_VALID(check_body({}, {}, {REF_NULL, FUNCREF, REF_NULL, FUNCREF, I32_CONST, 0, SELECT_T, 1, FUNCREF, DROP, END}));
  EXPECT_ERROR(check_body({}, {}, {REF_NULL, EXTERNREF, REF_NULL, FUNCREF, I32_CONST, 0, SELECT_T, 1, FUNCREF, DROP,
                                   END}),
               TypeMismatch);
  EXPECT_ERROR(check_body({}, {}, {I32_CONST, 1, I32_CONST, 2, I32_CONST, 0, SELECT_T, 2, I32, I32, DROP, END}),
               InvalidResultArity);
  EXPECT_ERROR(check_body({}, {}, {I32_CONST, 1, I32_CONST, 2, I32_CONST, 0, SELECT_T, 0, DROP, END}),
               InvalidResultArity);
}

// ---- memory, SIMD lanes, alignment ------------------------------------------------

TEST(ValidatorTest, Alignment) {
  ModuleBuilder ok;
  ok.memory = true;
  ok.func(ok.type({}, {}), {}, {I32_CONST, 0, I32_LOAD, 2, 0, DROP, I32_CONST, 0, I64_LOAD, 3, 8, DROP, END});
  EXPECT_VALID(check(ok));

  ModuleBuilder too_big;
  too_big.memory = true;
  too_big.func(too_big.type({}, {}), {}, {I32_CONST, 0, I32_LOAD, 3, 0, DROP, END});
  EXPECT_ERROR(check(too_big), AlignmentTooLarge);

  ModuleBuilder store;
  store.memory = true;
  store.func(store.type({}, {}), {}, {I32_CONST, 0, I32_CONST, 0, I32_STORE, 0x80, 0x01, 0, END});  // align 128
  EXPECT_ERROR(check(store), AlignmentTooLarge);
}

TEST(ValidatorTest, MemoryOpsNeedAMemory) {
  EXPECT_ERROR(check_body({}, {}, {I32_CONST, 0, I32_LOAD, 2, 0, DROP, END}), UnknownMemory);
  EXPECT_ERROR(check_body({}, {}, {MEMORY_SIZE, 0, DROP, END}), UnknownMemory);
}

TEST(ValidatorTest, LaneIndices) {
  auto lane_body = [](uint8_t sub, uint8_t lane) {
    return Bytes{PREFIX_FD, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // v128.const 0
                 PREFIX_FD, sub, lane, DROP, END};
  };
  EXPECT_VALID(check_body({}, {}, lane_body(0x15, 15)));          // i8x16.extract_lane_s 15
  EXPECT_ERROR(check_body({}, {}, lane_body(0x15, 16)), InvalidLaneIndex);
  EXPECT_VALID(check_body({}, {}, lane_body(0x1d, 1)));           // i64x2.extract_lane 1
  EXPECT_ERROR(check_body({}, {}, lane_body(0x1d, 2)), InvalidLaneIndex);

  // i8x16.shuffle: lanes index both inputs, so below 32.
  Bytes shuffle = {PREFIX_FD, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, LOCAL_GET, 0, PREFIX_FD, 0x0d};
  Bytes good = shuffle, bad = shuffle;
  for (uint8_t i = 0; i < 16; ++i) {
    good.push_back(static_cast<uint8_t>(31 - i));
    bad.push_back(i == 7 ? 32 : i);
  }
  for (Bytes* b : {&good, &bad}) b->insert(b->end(), {DROP, END});
  EXPECT_VALID(check_body({V128T}, {}, good));
  EXPECT_ERROR(check_body({V128T}, {}, bad), InvalidLaneIndex);

  // v128.load32_lane: 4 lanes, and the alignment rule too.
  auto load_lane = [](uint8_t align, uint8_t lane) {
    ModuleBuilder b;
    b.memory = true;
    b.func(b.type({V128T}, {}), {}, {I32_CONST, 0, LOCAL_GET, 0, PREFIX_FD, 0x56, align, 0, lane, DROP, END});
    return check(b);
  };
  EXPECT_VALID(load_lane(2, 3));
  EXPECT_ERROR(load_lane(2, 4), InvalidLaneIndex);
  EXPECT_ERROR(load_lane(3, 0), AlignmentTooLarge);
}

// ---- calls, tables, references ---------------------------------------------------------

TEST(ValidatorTest, Calls) {
  ModuleBuilder b;
  uint32_t t = b.type({I32, I64}, {F32});
  b.type({}, {});
  b.func(t, {}, {F32_CONST, 0, 0, 0, 0, END});
  b.func(1, {}, {I32_CONST, 1, I64_CONST, 2, CALL, 0, DROP, END});
  EXPECT_VALID(check(b));

  ModuleBuilder wrong_args;
  wrong_args.type({I32}, {});
  wrong_args.func(0, {}, {I64_CONST, 1, CALL, 0, END});
  EXPECT_ERROR(check(wrong_args), TypeMismatch);

  ModuleBuilder unknown;
  unknown.type({}, {});
  unknown.func(0, {}, {CALL, 9, END});
  EXPECT_ERROR(check(unknown), UnknownFunction);
}

TEST(ValidatorTest, CallIndirectNeedsAFuncrefTable) {
  ModuleBuilder ok;
  ok.tables = {FUNCREF};
  ok.type({I32}, {I32});
  ok.func(0, {}, {LOCAL_GET, 0, I32_CONST, 0, CALL_INDIRECT, 0, 0, END});
  EXPECT_VALID(check(ok));

  ModuleBuilder externs;
  externs.tables = {EXTERNREF};
  externs.type({I32}, {I32});
  externs.func(0, {}, {LOCAL_GET, 0, I32_CONST, 0, CALL_INDIRECT, 0, 0, END});
  EXPECT_ERROR(check(externs), TypeMismatch);

  ModuleBuilder no_table;
  no_table.type({I32}, {I32});
  no_table.func(0, {}, {LOCAL_GET, 0, I32_CONST, 0, CALL_INDIRECT, 0, 0, END});
  EXPECT_ERROR(check(no_table), UnknownTable);

  ModuleBuilder bad_type;
  bad_type.tables = {FUNCREF};
  bad_type.type({}, {});
  bad_type.func(0, {}, {I32_CONST, 0, CALL_INDIRECT, 3, 0, END});
  EXPECT_ERROR(check(bad_type), UnknownType);
}

TEST(ValidatorTest, RefFuncNeedsADeclaration) {
  ModuleBuilder declared;
  declared.type({}, {});
  declared.func(0, {}, {REF_FUNC, 0, DROP, END});
  declared.declared = {0};
  EXPECT_VALID(check(declared));

  ModuleBuilder undeclared;
  undeclared.type({}, {});
  undeclared.func(0, {}, {REF_FUNC, 0, DROP, END});
  EXPECT_ERROR(check(undeclared), UndeclaredFunctionRef);
}

TEST(ValidatorTest, ReferenceTypes) {
  EXPECT_VALID(check_body({}, {I32}, {REF_NULL, EXTERNREF, REF_IS_NULL, END}));
  EXPECT_ERROR(check_body({}, {I32}, {I32_CONST, 0, REF_IS_NULL, END}), TypeMismatch);
  EXPECT_ERROR(check_body({}, {}, {REF_NULL, 0x7f, DROP, END}), MalformedReferenceType);
}

TEST(ValidatorTest, BulkMemoryNeedsDataCount) {
  ModuleBuilder ok;
  ok.memory = true;
  ok.data_count = 1;
  ok.passive_datas = 1;
  ok.type({}, {});
  ok.func(0, {}, {I32_CONST, 0, I32_CONST, 0, I32_CONST, 0, PREFIX_FC, 0x08, 0, 0, PREFIX_FC, 0x09, 0, END});
  EXPECT_VALID(check(ok));

  ModuleBuilder no_count;
  no_count.memory = true;
  no_count.passive_datas = 1;
  no_count.type({}, {});
  no_count.func(0, {}, {PREFIX_FC, 0x09, 0, END});
  auto err = check(no_count);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, ErrorCode::DataCountRequired);
  EXPECT_EQ(err->phase(), Phase::Decode);

  ModuleBuilder unknown;
  unknown.data_count = 1;
  unknown.passive_datas = 1;
  unknown.type({}, {});
  unknown.func(0, {}, {PREFIX_FC, 0x09, 1, END});
  EXPECT_ERROR(check(unknown), UnknownDataSegment);
}

// ---- malformed bodies ------------------------------------------------------------------

TEST(ValidatorTest, MalformedBodies) {
  EXPECT_ERROR(check_body({}, {}, {0xff, END}), IllegalOpcode);
  EXPECT_ERROR(check_body({}, {}, {PREFIX_FD, 0xff, 0x7f, END}), IllegalOpcode);  // SIMD code beyond the table
  EXPECT_ERROR(check_body({}, {}, {I32_CONST, 0, DROP}), EndOpcodeExpected);    // no final end
  EXPECT_ERROR(check_body({}, {}, {END, NOP}), SectionSizeMismatch);             // bytes after it
  EXPECT_ERROR(check_body({}, {}, {I32_CONST}), UnexpectedEnd);                  // truncated immediate
  EXPECT_ERROR(check_body({}, {}, {MEMORY_SIZE, 1, DROP, END}), ZeroByteExpected);
  EXPECT_ERROR(check_body({}, {}, {BLOCK, 0x7a, END, END}), MalformedValueType);  // not a block type
  EXPECT_ERROR(check_body({}, {}, {ELSE, END}), EndOpcodeExpected);              // else outside an if
}

TEST(ValidatorTest, MalformedBeatsInvalidLaterInTheBody) {
  // A type error first, then an illegal opcode: the module is malformed.
  auto err = check_body({}, {}, {I64_CONST, 0, I32_EQZ, DROP, 0xff, END});
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, ErrorCode::IllegalOpcode);
  EXPECT_EQ(err->phase(), Phase::Decode);
  // Nested blocks are followed to the real end of the body.
  EXPECT_ERROR(check_body({}, {}, {I64_CONST, 0, I32_EQZ, DROP, BLOCK, EMPTY, END, END, NOP}), SectionSizeMismatch);
  EXPECT_ERROR(check_body({}, {}, {I64_CONST, 0, I32_EQZ, DROP, BLOCK, EMPTY, END, END}), TypeMismatch);
}

}  // namespace
}  // namespace skiff::wasm

// Module-level validation: limits, exports, start function, constant
// expressions, segments, declared function references, and the rule that a
// malformed body beats an invalid declaration.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "binary_bytes.h"
#include "wasm/module.h"

namespace skiff::wasm {
namespace {

using namespace skiff::test_bytes;

// Code section with the given bodies (each without its size prefix).
Bytes code(std::initializer_list<Bytes> bodies) {
  Bytes payload = leb(bodies.size());
  for (const Bytes& b : bodies) payload = cat({payload, leb(b.size()), b});
  return section(10, payload);
}

const Bytes kEmptyBody = {0x00, 0x0b};
// Types: 0 = [] -> [], 1 = [i32] -> [].
const Bytes kTypes = section(1, {0x02, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f, 0x00});

// Decodes (which must succeed) and validates.
Result<void> validate(const Bytes& bytes) {
  auto m = decode_module(bytes);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().to_string());
  if (!m.ok()) return m.error();
  return validate_module(**m);
}

void expect_valid(const Bytes& bytes) {
  auto r = validate(bytes);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
}

void expect_invalid(const Bytes& bytes, ErrorCode code) {
  auto r = validate(bytes);
  ASSERT_FALSE(r.ok()) << "validated unexpectedly";
  EXPECT_EQ(r.error().code, code) << r.error().to_string();
}

Bytes memory(Bytes limits) { return section(5, cat({{0x01}, limits})); }
// A module holding only that memory or only that global.
Bytes memory_module(Bytes limits) { return module({memory(limits)}); }
Bytes global_module(uint8_t type, uint8_t mut, Bytes init) {
  return module({section(6, cat({{0x01, type, mut}, init, {0x0b}}))});
}

TEST(ModuleValidate, MemoryLimits) {
  expect_valid(memory_module({0x00, 0x00}));
  expect_valid(memory_module(cat({{0x01}, leb(0), leb(65536)})));
  expect_invalid(memory_module(cat({{0x00}, leb(65537)})), ErrorCode::MemorySizeLimit);
  expect_invalid(memory_module(cat({{0x01}, leb(0), leb(65537)})), ErrorCode::MemorySizeLimit);
  expect_invalid(memory_module(cat({{0x01}, leb(2), leb(1)})), ErrorCode::SizeMinGreaterThanMax);
  expect_invalid(module({section(5, {0x02, 0x00, 0x01, 0x00, 0x01})}), ErrorCode::MultipleMemories);
  // An imported memory counts too.
  expect_invalid(module({section(2, cat({{0x01}, str("m"), str("mem"), {0x02, 0x00, 0x01}})),
                         memory({0x00, 0x01})}),
                 ErrorCode::MultipleMemories);
  expect_invalid(module({section(2, cat({{0x01}, str("m"), str("mem"), {0x02, 0x01, 0x03, 0x02}}))}),
                 ErrorCode::SizeMinGreaterThanMax);
}

TEST(ModuleValidate, TableLimits) {
  expect_valid(module({section(4, cat({{0x01, 0x70, 0x01}, leb(0), leb(0xffffffff)}))}));
  expect_invalid(module({section(4, {0x01, 0x70, 0x01, 0x05, 0x04})}), ErrorCode::SizeMinGreaterThanMax);
  // Several tables are fine with reference types.
  expect_valid(module({section(4, {0x02, 0x70, 0x00, 0x01, 0x6f, 0x00, 0x01})}));
}

TEST(ModuleValidate, FunctionTypeIndices) {
  expect_invalid(module({kTypes, section(3, {0x01, 0x02}), code({kEmptyBody})}), ErrorCode::UnknownType);
  expect_invalid(module({kTypes, section(2, cat({{0x01}, str("m"), str("f"), {0x00, 0x05}}))}),
                 ErrorCode::UnknownType);
}

TEST(ModuleValidate, Exports) {
  Bytes funcs = section(3, {0x01, 0x00});
  auto exports = [](std::initializer_list<Bytes> entries) {
    Bytes payload = leb(entries.size());
    for (const Bytes& e : entries) payload = cat({payload, e});
    return section(7, payload);
  };
  expect_valid(module({kTypes, funcs, section(5, {0x01, 0x00, 0x01}),
                       exports({cat({str("a"), {0x00, 0x00}}), cat({str("b"), {0x02, 0x00}})}), code({kEmptyBody})}));
  expect_invalid(module({kTypes, funcs, exports({cat({str("a"), {0x00, 0x00}}), cat({str("a"), {0x00, 0x00}})}),
                         code({kEmptyBody})}),
                 ErrorCode::DuplicateExportName);
  expect_invalid(module({kTypes, funcs, exports({cat({str("a"), {0x00, 0x01}})}), code({kEmptyBody})}),
                 ErrorCode::UnknownFunction);
  expect_invalid(module({exports({cat({str("t"), {0x01, 0x00}})})}), ErrorCode::UnknownTable);
  expect_invalid(module({exports({cat({str("m"), {0x02, 0x00}})})}), ErrorCode::UnknownMemory);
  expect_invalid(module({exports({cat({str("g"), {0x03, 0x00}})})}), ErrorCode::UnknownGlobal);
}

TEST(ModuleValidate, StartFunction) {
  expect_valid(module({kTypes, section(3, {0x01, 0x00}), section(8, {0x00}), code({kEmptyBody})}));
  // Type 1 takes a parameter.
  expect_invalid(module({kTypes, section(3, {0x01, 0x01}), section(8, {0x00}), code({kEmptyBody})}),
                 ErrorCode::StartFunctionType);
  expect_invalid(module({kTypes, section(3, {0x01, 0x00}), section(8, {0x01}), code({kEmptyBody})}),
                 ErrorCode::UnknownFunction);
  // A function returning a value is not a start function either.
  expect_invalid(module({section(1, {0x01, 0x60, 0x00, 0x01, 0x7f}), section(3, {0x01, 0x00}), section(8, {0x00}),
                         code({{0x00, 0x41, 0x00, 0x0b}})}),
                 ErrorCode::StartFunctionType);
}

TEST(ModuleValidate, GlobalInitialisers) {
  expect_valid(global_module(0x7f, 0x00, {0x41, 0x2a}));
  expect_valid(global_module(0x7d, 0x01, {0x43, 0, 0, 0x80, 0x3f}));
  expect_valid(global_module(0x6f, 0x00, {0xd0, 0x6f}));
  expect_invalid(global_module(0x7f, 0x00, {0x42, 0x00}), ErrorCode::TypeMismatch);
  expect_invalid(global_module(0x7f, 0x00, {}), ErrorCode::TypeMismatch);
  expect_invalid(global_module(0x7f, 0x00, {0x41, 0x00, 0x41, 0x00}), ErrorCode::TypeMismatch);
  expect_invalid(global_module(0x7f, 0x00, {0x41, 0x01, 0x41, 0x02, 0x6a}), ErrorCode::ConstantExprRequired);
  expect_invalid(global_module(0x7f, 0x00, {0x01}), ErrorCode::ConstantExprRequired);
  expect_invalid(global_module(0x70, 0x00, {0xd0, 0x6f}), ErrorCode::TypeMismatch);

  Bytes imports = section(2, cat({{0x02}, str("m"), str("c"), {0x03, 0x7f, 0x00}, str("m"), str("v"), {0x03, 0x7f, 0x01}}));
  expect_valid(module({imports, section(6, {0x01, 0x7f, 0x00, 0x23, 0x00, 0x0b})}));
  // A mutable import is not constant.
  expect_invalid(module({imports, section(6, {0x01, 0x7f, 0x00, 0x23, 0x01, 0x0b})}), ErrorCode::ConstantExprRequired);
  // Only imported globals are visible in 2.0, not earlier defined ones.
  expect_invalid(module({section(6, {0x02, 0x7f, 0x00, 0x41, 0x00, 0x0b, 0x7f, 0x00, 0x23, 0x00, 0x0b})}),
                 ErrorCode::UnknownGlobal);
  expect_invalid(global_module(0x70, 0x00, {0xd2, 0x00}), ErrorCode::UnknownFunction);
}

TEST(ModuleValidate, ElementSegments) {
  Bytes funcs = section(3, {0x01, 0x00});
  Bytes funcref_table = section(4, {0x01, 0x70, 0x00, 0x01});
  Bytes externref_table = section(4, {0x01, 0x6f, 0x00, 0x01});
  auto elem = [](Bytes seg) { return section(9, cat({{0x01}, seg})); };
  expect_valid(module({kTypes, funcs, funcref_table, elem({0x00, 0x41, 0x00, 0x0b, 0x01, 0x00}), code({kEmptyBody})}));
  // Unknown function index in a segment.
  expect_invalid(module({kTypes, funcs, funcref_table, elem({0x00, 0x41, 0x00, 0x0b, 0x01, 0x03}), code({kEmptyBody})}),
                 ErrorCode::UnknownFunction);
  // No table at all.
  expect_invalid(module({kTypes, funcs, elem({0x00, 0x41, 0x00, 0x0b, 0x01, 0x00}), code({kEmptyBody})}),
                 ErrorCode::UnknownTable);
  // Offset must be an i32.
  expect_invalid(module({kTypes, funcs, funcref_table, elem({0x00, 0x42, 0x00, 0x0b, 0x01, 0x00}), code({kEmptyBody})}),
                 ErrorCode::TypeMismatch);
  // funcref segment into an externref table.
  expect_invalid(module({kTypes, funcs, externref_table, elem({0x00, 0x41, 0x00, 0x0b, 0x01, 0x00}), code({kEmptyBody})}),
                 ErrorCode::TypeMismatch);
  // Expression of the wrong reference type.
  expect_invalid(module({elem({0x05, 0x70, 0x01, 0xd0, 0x6f, 0x0b})}), ErrorCode::TypeMismatch);
  // Passive and declarative segments need no table.
  expect_valid(module({kTypes, funcs, elem({0x01, 0x00, 0x01, 0x00}), code({kEmptyBody})}));
  expect_valid(module({kTypes, funcs, elem({0x07, 0x70, 0x01, 0xd2, 0x00, 0x0b}), code({kEmptyBody})}));
}

TEST(ModuleValidate, DataSegments) {
  auto data = [](Bytes seg) { return section(11, cat({{0x01}, seg})); };
  expect_valid(module({memory({0x00, 0x01}), data(cat({{0x00, 0x41, 0x00, 0x0b}, str("x")}))}));
  expect_invalid(module({data(cat({{0x00, 0x41, 0x00, 0x0b}, str("x")}))}), ErrorCode::UnknownMemory);
  expect_invalid(module({memory({0x00, 0x01}), data(cat({{0x02, 0x01, 0x41, 0x00, 0x0b}, str("")}))}),
                 ErrorCode::UnknownMemory);
  expect_invalid(module({memory({0x00, 0x01}), data(cat({{0x00, 0x42, 0x00, 0x0b}, str("")}))}),
                 ErrorCode::TypeMismatch);
  // Passive segments need no memory.
  expect_valid(module({data(cat({{0x01}, str("x")}))}));
}

TEST(ModuleValidate, DeclaredFunctions) {
  // Four functions: 0 exported, 1 in an element segment, 2 in a global
  // initialiser, 3 nowhere.
  Bytes m = module({kTypes, section(3, {0x04, 0x00, 0x00, 0x00, 0x00}),
                    section(6, {0x01, 0x70, 0x00, 0xd2, 0x02, 0x0b}),
                    section(7, cat({{0x01}, str("f"), {0x00, 0x00}})),
                    section(9, {0x01, 0x01, 0x00, 0x01, 0x01}),
                    code({kEmptyBody, kEmptyBody, kEmptyBody, kEmptyBody})});
  auto decoded = decode_module(m);
  ASSERT_TRUE(decoded.ok());
  auto r = validate_module(**decoded);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ((*decoded)->declared_funcs, (std::vector<bool>{true, true, true, false}));
}

TEST(ModuleValidate, MalformedBodyBeatsInvalidOnes) {
  // Function 0 is invalid (i32.add on an empty stack), function 1 has an
  // unassigned opcode: the module is malformed.
  Bytes invalid = {0x00, 0x6a, 0x0b};
  Bytes malformed = {0x00, 0xff, 0x0b};
  auto r = validate(module({kTypes, section(3, {0x02, 0x00, 0x00}), code({invalid, malformed})}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().phase(), Phase::Decode);
  // Also ahead of an invalid declaration (a duplicate export).
  r = validate(module({kTypes, section(3, {0x01, 0x00}),
                       section(7, cat({{0x02}, str("a"), {0x00, 0x00}, str("a"), {0x00, 0x00}})), code({malformed})}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().phase(), Phase::Decode);
}

TEST(ModuleValidate, ManyFunctionsInParallelAreDeterministic) {
  // 600 functions (enough for several threads): a type error in some, a
  // malformed body in two; the lowest-indexed malformed one must win.
  const uint32_t n = 600;
  Bytes funcs = leb(n);
  for (uint32_t i = 0; i < n; ++i) funcs.push_back(0x00);
  Bytes bodies = leb(n);
  for (uint32_t i = 0; i < n; ++i) {
    Bytes body = kEmptyBody;
    if (i % 97 == 5) body = {0x00, 0x6a, 0x0b};              // invalid
    if (i == 350 || i == 480) body = {0x00, 0x01, 0xff, 0x0b};  // malformed
    bodies = cat({bodies, leb(body.size()), body});
  }
  Bytes m = module({kTypes, section(3, funcs), section(10, bodies)});
  for (int round = 0; round < 5; ++round) {
    auto r = validate(m);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().phase(), Phase::Decode);
    // The malformed byte of function 350.
    auto decoded = decode_module(m);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(r.error().offset, (*decoded)->bodies[350].body_offset + 1);
  }
  // Without malformed bodies the first invalid one (function 5) wins.
  Bytes only_invalid = leb(n);
  for (uint32_t i = 0; i < n; ++i) {
    Bytes body = i % 97 == 5 ? Bytes{0x00, 0x6a, 0x0b} : kEmptyBody;
    only_invalid = cat({only_invalid, leb(body.size()), body});
  }
  Bytes m2 = module({kTypes, section(3, funcs), section(10, only_invalid)});
  auto decoded = decode_module(m2);
  ASSERT_TRUE(decoded.ok());
  auto r = validate_module(**decoded);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().phase(), Phase::Validate);
  EXPECT_GE(r.error().offset, (*decoded)->bodies[5].body_offset);
  EXPECT_LT(r.error().offset, (*decoded)->bodies[5].body_end);
}

}  // namespace
}  // namespace skiff::wasm

// Binary decoder: LEB128 limits, header, section order, every section kind,
// element forms 0-7, the name section, and truncated input.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/reader.h"
#include "binary_bytes.h"
#include "wasm/module.h"

namespace skiff::wasm {
namespace {

using namespace skiff::test_bytes;

// Common pieces: type 0 is [] -> [], one function of it with an empty body.
const Bytes kTypeSection = section(1, {0x01, 0x60, 0x00, 0x00});
const Bytes kFuncSection = section(3, {0x01, 0x00});
const Bytes kCodeSection = section(10, {0x01, 0x02, 0x00, 0x0b});

ErrorCode decode_error(const Bytes& bytes) {
  auto m = decode_module(bytes);
  EXPECT_FALSE(m.ok()) << "decoded unexpectedly";
  return m.ok() ? ErrorCode::Internal : m.error().code;
}

std::unique_ptr<Module> decode_ok(const Bytes& bytes) {
  auto m = decode_module(bytes);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().to_string());
  return m.ok() ? std::move(m.value()) : nullptr;
}

// ---- LEB128 ------------------------------------------------------------------

TEST(Leb128, U32FiveBytesIsTheLimit) {
  Bytes five = {0x80, 0x80, 0x80, 0x80, 0x00};
  Reader r(five.data(), five.size());
  auto v = r.u32();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 0u);
  EXPECT_TRUE(r.at_end());

  Bytes max = {0xff, 0xff, 0xff, 0xff, 0x0f};
  Reader r2(max.data(), max.size());
  EXPECT_EQ(r2.u32().value(), 0xffffffffu);

  Bytes six = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  Reader r3(six.data(), six.size());
  EXPECT_EQ(r3.u32().error().code, ErrorCode::IntTooLong);

  Bytes unused_bits = {0x80, 0x80, 0x80, 0x80, 0x10};
  Reader r4(unused_bits.data(), unused_bits.size());
  EXPECT_EQ(r4.u32().error().code, ErrorCode::IntTooLarge);

  Bytes truncated = {0x80, 0x80};
  Reader r5(truncated.data(), truncated.size());
  EXPECT_EQ(r5.u32().error().code, ErrorCode::UnexpectedEnd);
}

TEST(Leb128, Signed32) {
  Bytes minus_one = {0xff, 0xff, 0xff, 0xff, 0x7f};
  Reader r(minus_one.data(), minus_one.size());
  EXPECT_EQ(r.s32().value(), -1);

  Bytes int_min = {0x80, 0x80, 0x80, 0x80, 0x78};
  Reader r2(int_min.data(), int_min.size());
  EXPECT_EQ(r2.s32().value(), INT32_MIN);

  // Unused bits must repeat the sign bit.
  for (Bytes bad : {Bytes{0xff, 0xff, 0xff, 0xff, 0x0f}, Bytes{0x80, 0x80, 0x80, 0x80, 0x70},
                    Bytes{0x80, 0x80, 0x80, 0x80, 0x1f}, Bytes{0xff, 0xff, 0xff, 0xff, 0x4f}}) {
    Reader rb(bad.data(), bad.size());
    EXPECT_EQ(rb.s32().error().code, ErrorCode::IntTooLarge);
  }
  Bytes too_long = {0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
  Reader r3(too_long.data(), too_long.size());
  EXPECT_EQ(r3.s32().error().code, ErrorCode::IntTooLong);
}

TEST(Leb128, Signed64And33) {
  Bytes minus_one(9, 0xff);
  minus_one.push_back(0x7f);
  Reader r(minus_one.data(), minus_one.size());
  EXPECT_EQ(r.s64().value(), -1);

  Bytes bad(9, 0x80);
  bad.push_back(0x02);  // an unused bit set on a positive value
  Reader r2(bad.data(), bad.size());
  EXPECT_EQ(r2.s64().error().code, ErrorCode::IntTooLarge);

  Bytes block_type = {0x40};  // empty block type is -64 as s33
  Reader r3(block_type.data(), block_type.size());
  EXPECT_EQ(r3.s33().value(), -64);
}

TEST(Leb128, ThroughTheDecoder) {
  // Memory minimum 2 written in five bytes is fine, in six it is not.
  auto m = decode_ok(module({section(5, {0x01, 0x00, 0x82, 0x80, 0x80, 0x80, 0x00})}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->memories.at(0).limits.min, 2u);
  EXPECT_EQ(decode_error(module({section(5, {0x01, 0x00, 0x82, 0x80, 0x80, 0x80, 0x80, 0x00})})),
            ErrorCode::IntTooLong);
  EXPECT_EQ(decode_error(module({section(5, {0x01, 0x00, 0x82, 0x80, 0x80, 0x80, 0x70})})),
            ErrorCode::IntTooLarge);
  // i32.const -1 with its unused bits clear is malformed.
  EXPECT_EQ(decode_error(module({section(6, {0x01, 0x7f, 0x00, 0x41, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0b})})),
            ErrorCode::IntTooLarge);
}

// ---- header and sections -----------------------------------------------------

TEST(Decoder, EmptyModule) {
  auto m = decode_ok(module({}));
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->types.empty());
  EXPECT_TRUE(m->sections.empty());
}

TEST(Decoder, Header) {
  EXPECT_EQ(decode_error({}), ErrorCode::UnexpectedEnd);
  EXPECT_EQ(decode_error({0x00, 0x61, 0x73}), ErrorCode::UnexpectedEnd);
  EXPECT_EQ(decode_error({0x00, 0x41, 0x53, 0x4d, 0x01, 0, 0, 0}), ErrorCode::MagicHeader);
  EXPECT_EQ(decode_error({0x00, 0x61, 0x73, 0x6d}), ErrorCode::UnexpectedEnd);
  EXPECT_EQ(decode_error({0x00, 0x61, 0x73, 0x6d, 0x02, 0, 0, 0}), ErrorCode::UnknownVersion);
}

TEST(Decoder, SectionIdsAndSizes) {
  EXPECT_EQ(decode_error(module({{0x0d, 0x00}})), ErrorCode::MalformedSectionId);
  EXPECT_EQ(decode_error(module({{0x80, 0x00, 0x01, 0x00}})), ErrorCode::MalformedSectionId);
  // Type section claims 1 type but holds 2.
  EXPECT_EQ(decode_error(module({{0x01, 0x07, 0x01, 0x60, 0x00, 0x00, 0x60, 0x00, 0x00}})),
            ErrorCode::SectionSizeMismatch);
  // Type section size beyond the end of the file.
  EXPECT_EQ(decode_error(module({{0x01, 0x07, 0x02, 0x60, 0x00, 0x00}})), ErrorCode::LengthOutOfBounds);
  // Table section that ends inside its only entry.
  EXPECT_EQ(decode_error(module({{0x04, 0x01, 0x01}})), ErrorCode::UnexpectedEndSection);
}

TEST(Decoder, SectionOrder) {
  auto m = decode_ok(module({kTypeSection, kFuncSection, kCodeSection}));
  ASSERT_TRUE(m);
  ASSERT_EQ(m->sections.size(), 3u);
  EXPECT_EQ(m->sections[0].id, 1);
  EXPECT_EQ(m->sections[0].offset, 8u);
  EXPECT_EQ(m->sections[2].id, 10);

  EXPECT_EQ(decode_error(module({kFuncSection, kTypeSection, kCodeSection})),
            ErrorCode::UnexpectedContentAfterEnd);
  EXPECT_EQ(decode_error(module({kTypeSection, kTypeSection})), ErrorCode::UnexpectedContentAfterEnd);
  EXPECT_EQ(decode_error(module({section(8, {0x00}), section(8, {0x00})})),
            ErrorCode::UnexpectedContentAfterEnd);

  // The data count section goes between element and code sections.
  Bytes data_count = section(12, {0x00});
  EXPECT_TRUE(decode_ok(module({kTypeSection, kFuncSection, section(9, {0x00}), data_count, kCodeSection})));
  EXPECT_EQ(decode_error(module({kTypeSection, kFuncSection, kCodeSection, data_count})),
            ErrorCode::UnexpectedContentAfterEnd);
  EXPECT_EQ(decode_error(module({data_count, section(9, {0x00})})), ErrorCode::UnexpectedContentAfterEnd);

  // Custom sections may appear anywhere, even repeatedly.
  Bytes custom = section(0, cat({str("x"), {1, 2, 3}}));
  m = decode_ok(module({custom, kTypeSection, custom, kFuncSection, custom, kCodeSection, custom}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->customs.size(), 4u);
  EXPECT_EQ(m->customs[0].name, "x");
  EXPECT_EQ(m->customs[0].data_size, 3u);
  EXPECT_EQ(m->bytes[m->customs[0].data_offset], 1);
}

TEST(Decoder, CustomSections) {
  EXPECT_EQ(decode_error(module({{0x00}})), ErrorCode::UnexpectedEndSection);
  // Name longer than the section itself.
  EXPECT_EQ(decode_error(module({{0x00, 0x00, 0x00, 0x05, 0x01, 0x00, 0x07, 0x00, 0x00}})),
            ErrorCode::UnexpectedEndSection);
  // Invalid UTF-8 in the section name.
  EXPECT_EQ(decode_error(module({section(0, {0x02, 0xc0, 0x80})})), ErrorCode::MalformedUtf8);
}

TEST(Decoder, Utf8Names) {
  auto import_named = [](Bytes name) {
    return module({section(2, cat({{0x01}, str("m"), leb(name.size()), name, {0x03, 0x7f, 0x00}}))});
  };
  EXPECT_TRUE(decode_ok(import_named({'a', 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80})));
  for (Bytes bad : {Bytes{0x80}, Bytes{0xc0, 0x80}, Bytes{0xc3}, Bytes{0xe0, 0x80, 0x80},
                    Bytes{0xed, 0xa0, 0x80}, Bytes{0xf4, 0x90, 0x80, 0x80}, Bytes{0xf8, 0x88, 0x80, 0x80, 0x80},
                    Bytes{0xff}}) {
    EXPECT_EQ(decode_error(import_named(bad)), ErrorCode::MalformedUtf8);
  }
}

TEST(Decoder, Imports) {
  Bytes imports = cat({{0x04},
                       str("env"), str("f"), {0x00, 0x00},
                       str("env"), str("t"), {0x01, 0x6f, 0x01, 0x01, 0x02},
                       str("env"), str("m"), {0x02, 0x00, 0x01},
                       str("env"), str("g"), {0x03, 0x7e, 0x01}});
  auto m = decode_ok(module({kTypeSection, section(2, imports)}));
  ASSERT_TRUE(m);
  ASSERT_EQ(m->imports.size(), 4u);
  EXPECT_EQ(m->num_imported_funcs, 1u);
  EXPECT_EQ(m->num_imported_tables, 1u);
  EXPECT_EQ(m->num_imported_memories, 1u);
  EXPECT_EQ(m->num_imported_globals, 1u);
  EXPECT_EQ(m->tables[0].elem, ValType::ExternRef);
  EXPECT_EQ(m->tables[0].limits.max, std::optional<uint64_t>(2));
  EXPECT_EQ(m->memories[0].limits.min, 1u);
  EXPECT_FALSE(m->memories[0].limits.max.has_value());
  EXPECT_EQ(m->globals[0].type, ValType::I64);
  EXPECT_TRUE(m->globals[0].is_mutable);

  for (uint8_t kind : {0x04, 0x05, 0x80})
    EXPECT_EQ(decode_error(module({section(2, cat({{0x01}, str("a"), str("b"), {kind, 0x00}}))})),
              ErrorCode::MalformedImportKind);
  EXPECT_EQ(decode_error(module({section(2, cat({{0x01}, str("a"), str("b"), {0x03, 0x7f, 0x02}}))})),
            ErrorCode::MalformedMutability);
  EXPECT_EQ(decode_error(module({section(2, cat({{0x01}, str("a"), str("b"), {0x01, 0x7f, 0x00, 0x00}}))})),
            ErrorCode::MalformedReferenceType);
}

TEST(Decoder, LimitsFlags) {
  // The flag is a 1-bit LEB128 to the reference decoder: "integer too large".
  EXPECT_EQ(decode_error(module({section(5, {0x01, 0x02, 0x00})})), ErrorCode::MalformedLimitsFlags);
  EXPECT_EQ(decode_error(module({section(5, {0x01, 0x81, 0x00, 0x00, 0x00})})), ErrorCode::IntTooLong);
  EXPECT_EQ(decode_error(module({section(4, {0x01, 0x70, 0x02, 0x00})})), ErrorCode::MalformedLimitsFlags);
  auto m = decode_ok(module({section(4, cat({{0x01, 0x70, 0x01}, leb(0), leb(0xffffffff)}))}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->tables[0].limits.max, std::optional<uint64_t>(0xffffffff));
}

TEST(Decoder, FunctionTypes) {
  auto m = decode_ok(module({section(1, {0x02, 0x60, 0x02, 0x7f, 0x7b, 0x01, 0x6f, 0x60, 0x00, 0x02, 0x7d, 0x7c})}));
  ASSERT_TRUE(m);
  ASSERT_EQ(m->types.size(), 2u);
  EXPECT_EQ(m->types[0].params, (std::vector<ValType>{ValType::I32, ValType::V128}));
  EXPECT_EQ(m->types[0].results, (std::vector<ValType>{ValType::ExternRef}));
  EXPECT_EQ(m->types[1].results, (std::vector<ValType>{ValType::F32, ValType::F64}));
  EXPECT_EQ(decode_error(module({section(1, {0x01, 0x60, 0x01, 0x40, 0x00})})), ErrorCode::MalformedValueType);
  EXPECT_EQ(decode_error(module({section(1, {0x01, 0xe0, 0x7f, 0x00, 0x00})})), ErrorCode::IntTooLong);
}

TEST(Decoder, CodeBodiesAndLocals) {
  // Locals: 2 x i32, 1 x f64; body: local.get 0, drop, end.
  Bytes body = {0x02, 0x02, 0x7f, 0x01, 0x7c, 0x20, 0x00, 0x1a, 0x0b};
  auto m = decode_ok(module({kTypeSection, kFuncSection, section(10, cat({{0x01}, leb(body.size()), body}))}));
  ASSERT_TRUE(m);
  ASSERT_EQ(m->bodies.size(), 1u);
  const FunctionBody& fb = m->bodies[0];
  EXPECT_EQ(fb.locals, (std::vector<ValType>{ValType::I32, ValType::I32, ValType::F64}));
  EXPECT_EQ(m->bytes[fb.body_offset], 0x20);
  EXPECT_EQ(fb.body_end, m->bytes.size());
  EXPECT_EQ(m->bytes[fb.body_end - 1], 0x0b);
  EXPECT_EQ(fb.type_index, 0u);
}

TEST(Decoder, TooManyLocals) {
  auto with_locals = [](Bytes locals) {
    Bytes body = cat({locals, {0x0b}});
    return module({kTypeSection, kFuncSection, section(10, cat({{0x01}, leb(body.size()), body}))});
  };
  EXPECT_TRUE(decode_ok(with_locals(cat({{0x01}, leb(50000), {0x7f}}))));
  EXPECT_EQ(decode_error(with_locals(cat({{0x01}, leb(50001), {0x7f}}))), ErrorCode::TooManyLocals);
  EXPECT_EQ(decode_error(with_locals(cat({{0x02}, leb(0xffffffff), {0x7f}, leb(2), {0x7e}}))),
            ErrorCode::TooManyLocals);
  EXPECT_EQ(decode_error(with_locals({0x01, 0x80, 0x80, 0x80, 0x80, 0x10, 0x7f})), ErrorCode::IntTooLarge);
}

TEST(Decoder, FunctionAndCodeCounts) {
  EXPECT_EQ(decode_error(module({kTypeSection, kFuncSection})), ErrorCode::FuncCodeMismatch);
  EXPECT_EQ(decode_error(module({kTypeSection, kCodeSection})), ErrorCode::FuncCodeMismatch);
  EXPECT_EQ(decode_error(module({kTypeSection, kFuncSection, section(10, {0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b})})),
            ErrorCode::FuncCodeMismatch);
}

TEST(Decoder, DataSegmentsAndCount) {
  Bytes memory = section(5, {0x01, 0x00, 0x01});
  Bytes data = section(11, cat({{0x03},
                                {0x00, 0x41, 0x05, 0x0b}, str("ab"),          // active, memory 0
                                {0x01}, str("xyz"),                           // passive
                                {0x02, 0x00, 0x41, 0x07, 0x0b}, str("")}));  // active, explicit memory
  auto m = decode_ok(module({memory, section(12, {0x03}), data}));
  ASSERT_TRUE(m);
  ASSERT_EQ(m->datas.size(), 3u);
  EXPECT_EQ(m->data_count, std::optional<uint32_t>(3));
  EXPECT_EQ(m->datas[0].mode, SegmentMode::Active);
  EXPECT_EQ(m->datas[0].offset.instrs.at(0).value, 5u);
  EXPECT_EQ(std::string(m->bytes.begin() + m->datas[0].data_offset,
                        m->bytes.begin() + m->datas[0].data_offset + m->datas[0].data_size),
            "ab");
  EXPECT_EQ(m->datas[1].mode, SegmentMode::Passive);
  EXPECT_EQ(m->datas[1].data_size, 3u);
  EXPECT_EQ(m->datas[2].offset.instrs.at(0).value, 7u);

  EXPECT_EQ(decode_error(module({memory, section(12, {0x01}), section(11, {0x00})})), ErrorCode::DataCountMismatch);
  EXPECT_EQ(decode_error(module({memory, section(11, {0x01, 0x03, 0x00})})), ErrorCode::MalformedDataSegmentKind);
  // A segment whose bytes run past the end of the file: a length beyond the
  // file is "length out of bounds", a shorter overrun "unexpected end".
  EXPECT_EQ(decode_error(module({memory, {0x0b, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x05, 0x61}})),
            ErrorCode::LengthOutOfBounds);
  EXPECT_EQ(decode_error(module({memory, {0x0b, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x02, 0x61}})),
            ErrorCode::UnexpectedEndSection);
}

TEST(Decoder, ElementForms) {
  Bytes offset = {0x41, 0x02, 0x0b};     // i32.const 2
  Bytes ref_func1 = {0xd2, 0x01, 0x0b};  // ref.func 1
  Bytes null_extern = {0xd0, 0x6f, 0x0b};
  Bytes elems = cat({{0x08},
                     cat({{0x00}, offset, {0x02, 0x00, 0x01}}),                     // 0: active table 0, funcs
                     cat({{0x01, 0x00}, {0x01, 0x01}}),                             // 1: passive, funcs
                     cat({{0x02, 0x01}, offset, {0x00}, {0x01, 0x00}}),             // 2: active table 1, funcs
                     cat({{0x03, 0x00}, {0x01, 0x01}}),                             // 3: declarative, funcs
                     cat({{0x04}, offset, {0x01}, ref_func1}),                      // 4: active table 0, exprs
                     cat({{0x05, 0x6f}, {0x02}, null_extern, null_extern}),         // 5: passive, exprs
                     cat({{0x06, 0x01}, offset, {0x70}, {0x01}, ref_func1}),        // 6: active table 1, exprs
                     cat({{0x07, 0x70}, {0x01}, {0xd0, 0x70, 0x0b}})});             // 7: declarative, exprs
  auto m = decode_ok(module({section(9, elems)}));
  ASSERT_TRUE(m);
  ASSERT_EQ(m->elems.size(), 8u);
  const auto& e = m->elems;
  SegmentMode modes[] = {SegmentMode::Active, SegmentMode::Passive, SegmentMode::Active, SegmentMode::Declarative,
                         SegmentMode::Active, SegmentMode::Passive, SegmentMode::Active, SegmentMode::Declarative};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(e[i].mode, modes[i]) << "form " << i;
    EXPECT_EQ(e[i].uses_exprs, i >= 4) << "form " << i;
  }
  EXPECT_EQ(e[0].table, 0u);
  EXPECT_EQ(e[0].func_indices, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(e[0].offset.instrs.at(0).op, Opcode::I32Const);
  EXPECT_EQ(e[1].func_indices, (std::vector<uint32_t>{1}));
  EXPECT_EQ(e[2].table, 1u);
  EXPECT_EQ(e[2].offset.instrs.at(0).value, 2u);
  EXPECT_EQ(e[3].elem_type, ValType::FuncRef);
  EXPECT_EQ(e[4].elem_type, ValType::FuncRef);
  ASSERT_EQ(e[4].exprs.size(), 1u);
  EXPECT_EQ(e[4].exprs[0].instrs.at(0).op, Opcode::RefFunc);
  EXPECT_EQ(e[4].exprs[0].instrs.at(0).value, 1u);
  EXPECT_EQ(e[5].elem_type, ValType::ExternRef);
  EXPECT_EQ(e[5].size(), 2u);
  EXPECT_EQ(e[5].exprs[1].instrs.at(0).value, 0x6fu);
  EXPECT_EQ(e[6].table, 1u);
  EXPECT_EQ(e[7].exprs[0].instrs.at(0).op, Opcode::RefNull);

  EXPECT_EQ(decode_error(module({section(9, {0x01, 0x08})})), ErrorCode::MalformedElemSegmentKind);
  EXPECT_EQ(decode_error(module({section(9, {0x01, 0x01, 0x01, 0x00})})), ErrorCode::MalformedElemKind);
  EXPECT_EQ(decode_error(module({section(9, {0x01, 0x05, 0x7f, 0x00})})), ErrorCode::MalformedReferenceType);
  // An unassigned opcode inside an element expression.
  EXPECT_EQ(decode_error(module({section(9, {0x01, 0x05, 0x70, 0x01, 0xf3, 0x00, 0x0b})})), ErrorCode::IllegalOpcode);
}

TEST(Decoder, ConstExprRecordsAnyInstruction) {
  // i32.const 1, i32.const 2, i32.add: decoded; the validator rejects it.
  auto m = decode_ok(module({section(6, {0x01, 0x7f, 0x00, 0x41, 0x01, 0x41, 0x02, 0x6a, 0x0b})}));
  ASSERT_TRUE(m);
  const auto& instrs = m->global_inits.at(0).instrs;
  ASSERT_EQ(instrs.size(), 3u);
  EXPECT_EQ(instrs[2].op, Opcode::I32Add);
  // Prefixed, with immediates: v128.const, memory.size's zero byte.
  m = decode_ok(module({section(6, cat({{0x01, 0x7b, 0x00, 0xfd, 0x0c}, Bytes(16, 0xab), {0x0b}}))}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->global_inits[0].instrs.at(0).op, Opcode::V128Const);
  EXPECT_EQ(m->global_inits[0].instrs[0].v128.bytes[15], 0xab);
  EXPECT_EQ(decode_error(module({section(6, {0x01, 0x7f, 0x00, 0x3f, 0x01, 0x0b})})), ErrorCode::ZeroByteExpected);
  // f64.const keeps the raw bits.
  m = decode_ok(module({section(6, {0x01, 0x7c, 0x00, 0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x0b})}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->global_inits[0].instrs.at(0).value, 0x3ff0000000000000u);
  // No `end`.
  EXPECT_EQ(decode_error(module({{0x06, 0x04, 0x01, 0x7f, 0x00, 0x41}})), ErrorCode::UnexpectedEndSection);
}

TEST(Decoder, ExportsAndStart) {
  Bytes exports = section(7, cat({{0x02}, str("f"), {0x00, 0x00}, str("m"), {0x02, 0x00}}));
  auto m = decode_ok(module({kTypeSection, kFuncSection, exports, section(8, {0x00}), kCodeSection}));
  ASSERT_TRUE(m);
  ASSERT_EQ(m->exports.size(), 2u);
  EXPECT_EQ(m->exports[1].kind, ExternKind::Memory);
  ASSERT_NE(m->find_export("f"), nullptr);
  EXPECT_EQ(m->start, std::optional<uint32_t>(0));
  EXPECT_EQ(decode_error(module({section(7, cat({{0x01}, str("x"), {0x04, 0x00}}))})), ErrorCode::MalformedExportKind);
}

// ---- the name section --------------------------------------------------------

Bytes name_subsection(uint8_t id, const Bytes& payload) { return cat({{id}, leb(payload.size()), payload}); }

TEST(NameSection, ModuleFunctionAndLocalNames) {
  Bytes names = cat({str("name"),
                     name_subsection(0, str("mod")),
                     name_subsection(1, cat({{0x01, 0x00}, str("main")})),
                     name_subsection(2, cat({{0x01, 0x00, 0x02}, {0x00}, str("a"), {0x01}, str("b")}))});
  auto m = decode_ok(module({kTypeSection, kFuncSection, kCodeSection, section(0, names)}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->names.module, "mod");
  EXPECT_EQ(m->func_name(0), "main");
  EXPECT_EQ(m->func_name(7), "");
  ASSERT_EQ(m->names.locals.size(), 1u);
  ASSERT_EQ(m->names.locals[0].size(), 2u);
  EXPECT_EQ(m->names.locals[0][1].first, 1u);
  EXPECT_EQ(m->names.locals[0][1].second, "b");
}

TEST(NameSection, MalformedIsIgnored) {
  // Function-name subsection whose name length runs past the subsection.
  Bytes names = cat({str("name"), name_subsection(0, str("mod")), name_subsection(1, {0x01, 0x00, 0x09, 'a'})});
  auto m = decode_ok(module({kTypeSection, kFuncSection, kCodeSection, section(0, names)}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->names.module, "");
  EXPECT_TRUE(m->names.functions.empty());
  // Invalid UTF-8 in a function name.
  names = cat({str("name"), name_subsection(1, {0x01, 0x00, 0x01, 0xff})});
  m = decode_ok(module({kTypeSection, kFuncSection, kCodeSection, section(0, names)}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->func_name(0), "");
  // Names for functions that do not exist are dropped.
  names = cat({str("name"), name_subsection(1, cat({{0x01}, leb(1000000), str("ghost")}))});
  m = decode_ok(module({kTypeSection, kFuncSection, kCodeSection, section(0, names)}));
  ASSERT_TRUE(m);
  EXPECT_LE(m->names.functions.size(), 1u);
}

// ---- robustness --------------------------------------------------------------

Bytes rich_module() {
  Bytes names = cat({str("name"), name_subsection(1, cat({{0x01, 0x01}, str("f")}))});
  Bytes body = {0x01, 0x01, 0x7f, 0x20, 0x00, 0x1a, 0x0b};
  return module({
      section(1, {0x02, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f}),
      section(2, cat({{0x02}, str("env"), str("f"), {0x00, 0x01}, str("env"), str("g"), {0x03, 0x7f, 0x00}})),
      section(3, {0x01, 0x00}),
      section(4, {0x01, 0x70, 0x01, 0x01, 0x04}),
      section(5, {0x01, 0x01, 0x01, 0x02}),
      section(6, {0x01, 0x7f, 0x01, 0x23, 0x00, 0x0b}),
      section(7, cat({{0x01}, str("run"), {0x00, 0x01}})),
      section(8, {0x01}),
      section(9, cat({{0x02}, {0x00, 0x41, 0x00, 0x0b, 0x01, 0x01}, {0x05, 0x70, 0x01, 0xd2, 0x00, 0x0b}})),
      section(12, {0x01}),
      section(10, cat({{0x01}, leb(body.size()), body})),
      section(11, cat({{0x01, 0x00, 0x41, 0x08, 0x0b}, str("hello")})),
      section(0, names),
  });
}

TEST(Robustness, TruncationAlwaysErrorsExceptAtSectionEnds) {
  Bytes full = rich_module();
  auto m = decode_ok(full);
  ASSERT_TRUE(m);
  std::vector<size_t> boundaries = {8};
  for (const SectionInfo& s : m->sections) boundaries.push_back(s.offset);
  for (size_t cut = 0; cut < full.size(); ++cut) {
    Bytes prefix(full.begin(), full.begin() + cut);
    auto r = decode_module(prefix);
    bool at_boundary = std::find(boundaries.begin(), boundaries.end(), cut) != boundaries.end();
    // A cut between sections leaves a shorter, possibly well-formed module.
    if (!at_boundary) { EXPECT_FALSE(r.ok()) << "cut at " << cut; }
    if (!r.ok()) { EXPECT_EQ(r.error().phase(), Phase::Decode); }
  }
}

TEST(Robustness, CorruptedBytesNeverCrash) {
  Bytes full = rich_module();
  uint32_t seed = 12345;
  for (int round = 0; round < 3000; ++round) {
    Bytes bytes = full;
    for (int k = 0; k < 3; ++k) {
      seed = seed * 1103515245 + 12345;
      size_t at = 8 + (seed >> 8) % (bytes.size() - 8);
      seed = seed * 1103515245 + 12345;
      bytes[at] = static_cast<uint8_t>(seed >> 16);
    }
    auto r = decode_module(bytes);
    if (!r.ok()) { EXPECT_EQ(r.error().phase(), Phase::Decode); }
  }
}

}  // namespace
}  // namespace skiff::wasm

// Lane semantics of the SIMD ops in src/interp/simd_ops.h, one test per
// family, concentrating on the edges where host instructions differ from
// wasm (NaN payloads, signed zeros, saturation bounds, shift counts).
#include "interp/simd_ops.h"

#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace skiff::interp::ops {
namespace {

template <class T, size_t N = 16 / sizeof(T)>
V128 make(const std::array<T, N>& lanes) {
  static_assert(N * sizeof(T) == 16);
  V128 v;
  std::memcpy(v.bytes, lanes.data(), 16);
  return v;
}
template <class T>
std::array<T, 16 / sizeof(T)> lanes(const V128& v) {
  std::array<T, 16 / sizeof(T)> a;
  std::memcpy(a.data(), v.bytes, 16);
  return a;
}
V128 iota_bytes(uint8_t start = 0) {
  V128 v;
  for (int i = 0; i < 16; ++i) v.bytes[i] = uint8_t(start + i);
  return v;
}

float f32_bits(uint32_t b) { return std::bit_cast<float>(b); }
double f64_bits(uint64_t b) { return std::bit_cast<double>(b); }
uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }
uint64_t bits(double d) { return std::bit_cast<uint64_t>(d); }

constexpr uint32_t kCanonNan32 = 0x7fc00000;
constexpr uint64_t kCanonNan64 = 0x7ff8000000000000;
bool is_canonical_nan(uint32_t b) { return (b & 0x7fffffff) == kCanonNan32; }
bool is_arithmetic_nan(uint32_t b) { return (b & 0x7fc00000) == 0x7fc00000; }
bool is_canonical_nan(uint64_t b) { return (b & 0x7fffffffffffffff) == kCanonNan64; }
bool is_arithmetic_nan(uint64_t b) { return (b & 0x7ff8000000000000) == 0x7ff8000000000000; }

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr double kInfD = std::numeric_limits<double>::infinity();

// --- memory --------------------------------------------------------------

TEST(SimdLoad, PlainAndUnaligned) {
  uint8_t mem[40];
  for (int i = 0; i < 40; ++i) mem[i] = uint8_t(0xA0 + i);
  V128 v = V128Load(mem + 3);  // deliberately unaligned
  for (int i = 0; i < 16; ++i) EXPECT_EQ(v.bytes[i], uint8_t(0xA3 + i));
  uint8_t dst[40] = {};
  V128Store(dst + 5, v);
  EXPECT_EQ(0, std::memcmp(dst + 5, mem + 3, 16));
  EXPECT_EQ(dst[4], 0);
  EXPECT_EQ(dst[21], 0);
}

TEST(SimdLoad, ExtendLoads) {
  const uint8_t mem[9] = {0xff, 0x80, 0x7f, 0x00, 0x01, 0xfe, 0x81, 0x02, 0x55};
  auto s8 = lanes<int16_t>(V128Load8x8S(mem));
  auto u8 = lanes<uint16_t>(V128Load8x8U(mem));
  EXPECT_EQ(s8, (std::array<int16_t, 8>{-1, -128, 127, 0, 1, -2, -127, 2}));
  EXPECT_EQ(u8, (std::array<uint16_t, 8>{255, 128, 127, 0, 1, 254, 129, 2}));
  auto s16 = lanes<int32_t>(V128Load16x4S(mem));
  auto u16 = lanes<uint32_t>(V128Load16x4U(mem));
  EXPECT_EQ(s16, (std::array<int32_t, 4>{int16_t(0x80ff), 0x007f, int16_t(0xfe01), 0x0281}));
  EXPECT_EQ(u16, (std::array<uint32_t, 4>{0x80ff, 0x007f, 0xfe01, 0x0281}));
  const uint8_t w[9] = {0xee, 0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0x7f};
  EXPECT_EQ(lanes<int64_t>(V128Load32x2S(w + 1)), (std::array<int64_t, 2>{INT32_MIN, INT32_MAX}));
  EXPECT_EQ(lanes<uint64_t>(V128Load32x2U(w + 1)), (std::array<uint64_t, 2>{0x80000000u, 0x7fffffffu}));
}

TEST(SimdLoad, SplatAndZero) {
  const uint8_t mem[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
  EXPECT_EQ(lanes<uint8_t>(V128Load8Splat(mem)), (std::array<uint8_t, 16>{
      0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11}));
  for (auto x : lanes<uint16_t>(V128Load16Splat(mem))) EXPECT_EQ(x, 0x2211);
  for (auto x : lanes<uint32_t>(V128Load32Splat(mem))) EXPECT_EQ(x, 0x44332211u);
  for (auto x : lanes<uint64_t>(V128Load64Splat(mem))) EXPECT_EQ(x, 0x8877665544332211ull);
  EXPECT_EQ(lanes<uint32_t>(V128Load32Zero(mem)), (std::array<uint32_t, 4>{0x44332211u, 0, 0, 0}));
  EXPECT_EQ(lanes<uint64_t>(V128Load64Zero(mem)), (std::array<uint64_t, 2>{0x8877665544332211ull, 0}));
}

TEST(SimdLoad, LaneLoadsAndStores) {
  const uint8_t mem[9] = {0xaa, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  V128 base = iota_bytes(0x10);
  V128 v = V128Load8Lane(mem, base, 15);
  EXPECT_EQ(v.bytes[15], 0xaa);
  EXPECT_EQ(v.bytes[14], 0x1e);
  EXPECT_EQ(lanes<uint16_t>(V128Load16Lane(mem + 1, base, 3))[3], 0x0201);
  EXPECT_EQ(lanes<uint32_t>(V128Load32Lane(mem + 1, base, 2))[2], 0x04030201u);
  auto l64 = lanes<uint64_t>(V128Load64Lane(mem + 1, base, 1));
  EXPECT_EQ(l64[1], 0x0807060504030201ull);
  EXPECT_EQ(l64[0], lanes<uint64_t>(base)[0]);

  uint8_t out[10] = {};
  V128Store8Lane(out + 1, base, 7);
  EXPECT_EQ(out[1], 0x17);
  EXPECT_EQ(out[2], 0);
  V128Store16Lane(out + 1, base, 7);
  EXPECT_EQ(out[1], 0x1e);
  EXPECT_EQ(out[2], 0x1f);
  V128Store32Lane(out + 1, base, 1);
  EXPECT_EQ(0, std::memcmp(out + 1, base.bytes + 4, 4));
  V128Store64Lane(out + 1, base, 1);
  EXPECT_EQ(0, std::memcmp(out + 1, base.bytes + 8, 8));
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[9], 0);
}

// --- shuffles, splats, lanes ---------------------------------------------

TEST(SimdLanes, ShuffleAndSwizzle) {
  V128 a = iota_bytes(0), b = iota_bytes(0x10);
  const uint8_t sel[16] = {31, 0, 16, 15, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 30, 14};
  V128 r = I8x16Shuffle(a, b, sel);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(r.bytes[i], sel[i]);

  V128 idx = make<uint8_t>({15, 0, 16, 255, 128, 3, 17, 2, 1, 1, 1, 1, 0x10, 0x7f, 14, 5});
  V128 s = I8x16Swizzle(b, idx);
  EXPECT_EQ(lanes<uint8_t>(s), (std::array<uint8_t, 16>{0x1f, 0x10, 0, 0, 0, 0x13, 0, 0x12, 0x11, 0x11,
                                                          0x11, 0x11, 0, 0, 0x1e, 0x15}));
}

TEST(SimdLanes, SplatExtractReplace) {
  for (auto x : lanes<uint8_t>(I8x16Splat(0x1ff))) EXPECT_EQ(x, 0xff);  // truncates
  for (auto x : lanes<uint16_t>(I16x8Splat(0x12345))) EXPECT_EQ(x, 0x2345);
  for (auto x : lanes<uint32_t>(I32x4Splat(0xdeadbeef))) EXPECT_EQ(x, 0xdeadbeefu);
  for (auto x : lanes<uint64_t>(I64x2Splat(0x0123456789abcdefull))) EXPECT_EQ(x, 0x0123456789abcdefull);
  for (auto x : lanes<uint32_t>(F32x4Splat(f32_bits(0x7fa00001)))) EXPECT_EQ(x, 0x7fa00001u);
  for (auto x : lanes<uint64_t>(F64x2Splat(-0.0))) EXPECT_EQ(x, 0x8000000000000000ull);

  V128 v = make<uint8_t>({0x80, 0x7f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe});
  EXPECT_EQ(I8x16ExtractLaneS(v, 0), 0xffffff80u);
  EXPECT_EQ(I8x16ExtractLaneU(v, 0), 0x80u);
  EXPECT_EQ(I8x16ExtractLaneS(v, 1), 0x7fu);
  EXPECT_EQ(I8x16ExtractLaneS(v, 15), uint32_t(-2));
  EXPECT_EQ(I8x16ExtractLaneU(v, 15), 0xfeu);
  V128 h = make<uint16_t>({0x8000, 0x7fff, 0, 0, 0, 0, 0, 0xffff});
  EXPECT_EQ(I16x8ExtractLaneS(h, 0), 0xffff8000u);
  EXPECT_EQ(I16x8ExtractLaneU(h, 0), 0x8000u);
  EXPECT_EQ(I16x8ExtractLaneS(h, 7), 0xffffffffu);
  EXPECT_EQ(I16x8ExtractLaneU(h, 7), 0xffffu);

  V128 r = I8x16ReplaceLane(v, 0x1234, 15);
  EXPECT_EQ(r.bytes[15], 0x34);
  EXPECT_EQ(r.bytes[14], 0);
  EXPECT_EQ(lanes<uint16_t>(I16x8ReplaceLane(h, 0xabcdef, 3))[3], 0xcdef);
  V128 w = I32x4ReplaceLane(I32x4Splat(1), 9, 3);
  EXPECT_EQ(lanes<uint32_t>(w), (std::array<uint32_t, 4>{1, 1, 1, 9}));
  EXPECT_EQ(I32x4ExtractLane(w, 3), 9u);
  V128 q = I64x2ReplaceLane(V128::zero(), 0xffffffff00000001ull, 1);
  EXPECT_EQ(I64x2ExtractLane(q, 1), 0xffffffff00000001ull);
  EXPECT_EQ(I64x2ExtractLane(q, 0), 0u);
  // Float lanes keep signalling-NaN payloads bit for bit.
  V128 f = F32x4ReplaceLane(V128::zero(), f32_bits(0xff800001), 2);
  EXPECT_EQ(bits(F32x4ExtractLane(f, 2)), 0xff800001u);
  V128 d = F64x2ReplaceLane(V128::zero(), f64_bits(0x7ff0000000000001), 0);
  EXPECT_EQ(bits(F64x2ExtractLane(d, 0)), 0x7ff0000000000001ull);
}

// --- comparisons -----------------------------------------------------------

TEST(SimdCompare, Integer) {
  V128 a = make<uint8_t>({0x80, 0x7f, 1, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  V128 b = make<uint8_t>({0x7f, 0x80, 1, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  auto lt_s = lanes<uint8_t>(I8x16LtS(a, b));
  auto lt_u = lanes<uint8_t>(I8x16LtU(a, b));
  EXPECT_EQ(lt_s[0], 0xff);  // -128 < 127
  EXPECT_EQ(lt_u[0], 0x00);  // 128 > 127
  EXPECT_EQ(lt_s[1], 0x00);
  EXPECT_EQ(lt_u[1], 0xff);
  EXPECT_EQ(lanes<uint8_t>(I8x16Eq(a, b))[2], 0xff);
  EXPECT_EQ(lanes<uint8_t>(I8x16Ne(a, b))[2], 0x00);
  EXPECT_EQ(lanes<uint8_t>(I8x16GeS(a, b))[3], 0x00);  // -1 >= 0 is false
  EXPECT_EQ(lanes<uint8_t>(I8x16GeU(a, b))[3], 0xff);
  EXPECT_EQ(lanes<uint8_t>(I8x16LeS(a, b))[2], 0xff);
  EXPECT_EQ(lanes<uint8_t>(I8x16GtU(a, b))[15], 0x00);
  EXPECT_EQ(lanes<uint8_t>(I8x16LeU(a, b))[15], 0xff);
  EXPECT_EQ(lanes<uint8_t>(I8x16GtS(b, a))[15], 0xff);

  V128 h1 = make<int16_t>({-32768, 32767, -1, 0, 5, 5, 5, 5});
  V128 h2 = make<int16_t>({32767, -32768, 0, 0, 5, 6, 4, 5});
  EXPECT_EQ(lanes<uint16_t>(I16x8LtS(h1, h2)), (std::array<uint16_t, 8>{0xffff, 0, 0xffff, 0, 0, 0xffff, 0, 0}));
  EXPECT_EQ(lanes<uint16_t>(I16x8LtU(h1, h2)), (std::array<uint16_t, 8>{0, 0xffff, 0, 0, 0, 0xffff, 0, 0}));
  EXPECT_EQ(lanes<uint16_t>(I16x8GeU(h1, h2)), (std::array<uint16_t, 8>{0xffff, 0, 0xffff, 0xffff, 0xffff, 0, 0xffff, 0xffff}));
  EXPECT_EQ(lanes<uint16_t>(I16x8GtS(h1, h2))[6], 0xffff);
  EXPECT_EQ(lanes<uint16_t>(I16x8LeS(h1, h2))[1], 0);
  EXPECT_EQ(lanes<uint16_t>(I16x8LeU(h1, h2))[1], 0xffff);  // 32767 <= 32768
  EXPECT_EQ(lanes<uint16_t>(I16x8GtU(h1, h2))[1], 0);
  EXPECT_EQ(lanes<uint16_t>(I16x8GeS(h1, h2))[3], 0xffff);
  EXPECT_EQ(lanes<uint16_t>(I16x8Eq(h1, h2))[7], 0xffff);
  EXPECT_EQ(lanes<uint16_t>(I16x8Ne(h1, h2))[7], 0);

  V128 w1 = make<int32_t>({INT32_MIN, -1, 7, 0});
  V128 w2 = make<int32_t>({INT32_MAX, 1, 7, 0});
  EXPECT_EQ(lanes<uint32_t>(I32x4LtS(w1, w2)), (std::array<uint32_t, 4>{~0u, ~0u, 0, 0}));
  EXPECT_EQ(lanes<uint32_t>(I32x4LtU(w1, w2)), (std::array<uint32_t, 4>{0, 0, 0, 0}));
  EXPECT_EQ(lanes<uint32_t>(I32x4GtU(w1, w2)), (std::array<uint32_t, 4>{~0u, ~0u, 0, 0}));
  EXPECT_EQ(lanes<uint32_t>(I32x4LeS(w1, w2)), (std::array<uint32_t, 4>{~0u, ~0u, ~0u, ~0u}));
  EXPECT_EQ(lanes<uint32_t>(I32x4LeU(w1, w2)), (std::array<uint32_t, 4>{0, 0, ~0u, ~0u}));
  EXPECT_EQ(lanes<uint32_t>(I32x4GtS(w1, w2)), (std::array<uint32_t, 4>{0, 0, 0, 0}));
  EXPECT_EQ(lanes<uint32_t>(I32x4GeS(w1, w2)), (std::array<uint32_t, 4>{0, 0, ~0u, ~0u}));
  EXPECT_EQ(lanes<uint32_t>(I32x4GeU(w1, w2)), (std::array<uint32_t, 4>{~0u, ~0u, ~0u, ~0u}));
  EXPECT_EQ(lanes<uint32_t>(I32x4Eq(w1, w2)), (std::array<uint32_t, 4>{0, 0, ~0u, ~0u}));
  EXPECT_EQ(lanes<uint32_t>(I32x4Ne(w1, w2)), (std::array<uint32_t, 4>{~0u, ~0u, 0, 0}));

  V128 q1 = make<int64_t>({INT64_MIN, 3});
  V128 q2 = make<int64_t>({INT64_MAX, 3});
  EXPECT_EQ(lanes<uint64_t>(I64x2LtS(q1, q2)), (std::array<uint64_t, 2>{~0ull, 0}));
  EXPECT_EQ(lanes<uint64_t>(I64x2GtS(q2, q1)), (std::array<uint64_t, 2>{~0ull, 0}));
  EXPECT_EQ(lanes<uint64_t>(I64x2LeS(q1, q2)), (std::array<uint64_t, 2>{~0ull, ~0ull}));
  EXPECT_EQ(lanes<uint64_t>(I64x2GeS(q1, q2)), (std::array<uint64_t, 2>{0, ~0ull}));
  EXPECT_EQ(lanes<uint64_t>(I64x2Eq(q1, q2)), (std::array<uint64_t, 2>{0, ~0ull}));
  EXPECT_EQ(lanes<uint64_t>(I64x2Ne(q1, q2)), (std::array<uint64_t, 2>{~0ull, 0}));
}

TEST(SimdCompare, FloatNanAndZero) {
  const float nan = f32_bits(kCanonNan32);
  V128 a = make<float>({nan, 0.0f, -1.0f, kInf});
  V128 b = make<float>({nan, -0.0f, 1.0f, kInf});
  EXPECT_EQ(lanes<uint32_t>(F32x4Eq(a, b)), (std::array<uint32_t, 4>{0, ~0u, 0, ~0u}));
  EXPECT_EQ(lanes<uint32_t>(F32x4Ne(a, b)), (std::array<uint32_t, 4>{~0u, 0, ~0u, 0}));
  EXPECT_EQ(lanes<uint32_t>(F32x4Lt(a, b)), (std::array<uint32_t, 4>{0, 0, ~0u, 0}));
  EXPECT_EQ(lanes<uint32_t>(F32x4Le(a, b)), (std::array<uint32_t, 4>{0, ~0u, ~0u, ~0u}));
  EXPECT_EQ(lanes<uint32_t>(F32x4Gt(a, b)), (std::array<uint32_t, 4>{0, 0, 0, 0}));
  EXPECT_EQ(lanes<uint32_t>(F32x4Ge(a, b)), (std::array<uint32_t, 4>{0, ~0u, 0, ~0u}));

  const double dnan = f64_bits(0x7ff0000000000001);  // signalling
  V128 c = make<double>({dnan, -0.0});
  V128 d = make<double>({1.0, 0.0});
  EXPECT_EQ(lanes<uint64_t>(F64x2Eq(c, d)), (std::array<uint64_t, 2>{0, ~0ull}));
  EXPECT_EQ(lanes<uint64_t>(F64x2Ne(c, d)), (std::array<uint64_t, 2>{~0ull, 0}));
  EXPECT_EQ(lanes<uint64_t>(F64x2Lt(c, d)), (std::array<uint64_t, 2>{0, 0}));
  EXPECT_EQ(lanes<uint64_t>(F64x2Le(c, d)), (std::array<uint64_t, 2>{0, ~0ull}));
  EXPECT_EQ(lanes<uint64_t>(F64x2Gt(d, c)), (std::array<uint64_t, 2>{0, 0}));
  EXPECT_EQ(lanes<uint64_t>(F64x2Ge(d, c)), (std::array<uint64_t, 2>{0, ~0ull}));
}

// --- bitwise -----------------------------------------------------------------

TEST(SimdBitwise, All) {
  V128 a = make<uint64_t>({0xff00ff00f0f0aaaaull, 0x0123456789abcdefull});
  V128 b = make<uint64_t>({0x0ff00ff00ff05555ull, 0xffffffff00000000ull});
  EXPECT_EQ(lanes<uint64_t>(V128Not(a)), (std::array<uint64_t, 2>{0x00ff00ff0f0f5555ull, 0xfedcba9876543210ull}));
  EXPECT_EQ(lanes<uint64_t>(V128And(a, b)), (std::array<uint64_t, 2>{0x0f000f0000f00000ull, 0x0123456700000000ull}));
  EXPECT_EQ(lanes<uint64_t>(V128Andnot(a, b)), (std::array<uint64_t, 2>{0xf000f000f000aaaaull, 0x0000000089abcdefull}));
  EXPECT_EQ(lanes<uint64_t>(V128Or(a, b)), (std::array<uint64_t, 2>{0xfff0fff0fff0ffffull, 0xffffffff89abcdefull}));
  EXPECT_EQ(lanes<uint64_t>(V128Xor(a, b)), (std::array<uint64_t, 2>{0xf0f0f0f0ff00ffffull, 0xfedcba9889abcdefull}));
  V128 mask = make<uint64_t>({0xffffffff00000000ull, 0x00000000ffff0000ull});
  EXPECT_EQ(lanes<uint64_t>(V128Bitselect(a, b, mask)),
            (std::array<uint64_t, 2>{0xff00ff000ff05555ull, 0xffffffff89ab0000ull}));
  EXPECT_EQ(V128AnyTrue(V128::zero()), 0u);
  V128 one_bit = V128::zero();
  one_bit.bytes[15] = 0x80;
  EXPECT_EQ(V128AnyTrue(one_bit), 1u);
}

// --- integer arithmetic ---------------------------------------------------------

TEST(SimdInt, AddSubMulWrap) {
  V128 a = make<uint8_t>({0xff, 0x80, 0x7f, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  V128 b = make<uint8_t>({0x01, 0x80, 0x01, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(lanes<uint8_t>(I8x16Add(a, b))[0], 0);
  EXPECT_EQ(lanes<uint8_t>(I8x16Add(a, b))[1], 0);
  EXPECT_EQ(lanes<uint8_t>(I8x16Add(a, b))[2], 0x80);
  EXPECT_EQ(lanes<uint8_t>(I8x16Sub(a, b))[3], 0xff);
  V128 h = make<int16_t>({-32768, 32767, 300, -2, 0, 0, 0, 0});
  V128 g = make<int16_t>({-1, 2, 300, -2, 0, 0, 0, 0});
  EXPECT_EQ(lanes<int16_t>(I16x8Mul(h, g)), (std::array<int16_t, 8>{-32768, -2, int16_t(90000 - 65536), 4, 0, 0, 0, 0}));
  EXPECT_EQ(lanes<int16_t>(I16x8Add(h, g))[0], 32767);
  EXPECT_EQ(lanes<int16_t>(I16x8Sub(h, g))[1], 32765);
  V128 w = make<uint32_t>({0xffffffff, 0x80000000, 65536, 3});
  V128 x = make<uint32_t>({2, 2, 65536, 0xffffffff});
  EXPECT_EQ(lanes<uint32_t>(I32x4Mul(w, x)), (std::array<uint32_t, 4>{0xfffffffe, 0, 0, 0xfffffffd}));
  EXPECT_EQ(lanes<uint32_t>(I32x4Add(w, x)), (std::array<uint32_t, 4>{1, 0x80000002, 131072, 2}));
  EXPECT_EQ(lanes<uint32_t>(I32x4Sub(x, w)), (std::array<uint32_t, 4>{3, 0x80000002, 0, 0xfffffffc}));
  V128 q = make<uint64_t>({0x8000000000000000ull, 0xffffffffffffffffull});
  EXPECT_EQ(lanes<uint64_t>(I64x2Mul(q, q)), (std::array<uint64_t, 2>{0, 1}));
  EXPECT_EQ(lanes<uint64_t>(I64x2Add(q, q)), (std::array<uint64_t, 2>{0, 0xfffffffffffffffeull}));
  EXPECT_EQ(lanes<uint64_t>(I64x2Sub(V128::zero(), q)), (std::array<uint64_t, 2>{0x8000000000000000ull, 1}));
}

TEST(SimdInt, NegAbsPopcnt) {
  V128 b = make<int8_t>({-128, 127, -1, 0, 1, -127, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5});
  auto neg = lanes<int8_t>(I8x16Neg(b));
  auto abs = lanes<int8_t>(I8x16Abs(b));
  EXPECT_EQ(neg[0], -128);
  EXPECT_EQ(neg[1], -127);
  EXPECT_EQ(neg[2], 1);
  EXPECT_EQ(abs[0], -128);  // wraps
  EXPECT_EQ(abs[2], 1);
  EXPECT_EQ(abs[5], 127);
  EXPECT_EQ(lanes<int16_t>(I16x8Abs(make<int16_t>({-32768, -5, 5, 0, 0, 0, 0, 0})))[0], -32768);
  EXPECT_EQ(lanes<int16_t>(I16x8Abs(make<int16_t>({-32768, -5, 5, 0, 0, 0, 0, 0})))[1], 5);
  EXPECT_EQ(lanes<int16_t>(I16x8Neg(make<int16_t>({-32768, -5, 5, 0, 0, 0, 0, 0})))[2], -5);
  EXPECT_EQ(lanes<int32_t>(I32x4Abs(make<int32_t>({INT32_MIN, -7, 7, 0}))), (std::array<int32_t, 4>{INT32_MIN, 7, 7, 0}));
  EXPECT_EQ(lanes<int32_t>(I32x4Neg(make<int32_t>({INT32_MIN, -7, 7, 0}))), (std::array<int32_t, 4>{INT32_MIN, 7, -7, 0}));
  EXPECT_EQ(lanes<int64_t>(I64x2Abs(make<int64_t>({INT64_MIN, -9}))), (std::array<int64_t, 2>{INT64_MIN, 9}));
  EXPECT_EQ(lanes<int64_t>(I64x2Neg(make<int64_t>({INT64_MIN, -9}))), (std::array<int64_t, 2>{INT64_MIN, 9}));
  auto pc = lanes<uint8_t>(I8x16Popcnt(make<uint8_t>({0, 1, 0xff, 0x80, 0x55, 0x0f, 3, 7, 0, 0, 0, 0, 0, 0, 0, 0xfe})));
  EXPECT_EQ(pc[0], 0);
  EXPECT_EQ(pc[1], 1);
  EXPECT_EQ(pc[2], 8);
  EXPECT_EQ(pc[3], 1);
  EXPECT_EQ(pc[4], 4);
  EXPECT_EQ(pc[5], 4);
  EXPECT_EQ(pc[15], 7);
}

TEST(SimdInt, AllTrueAndBitmask) {
  V128 ones = I8x16Splat(1);
  EXPECT_EQ(I8x16AllTrue(ones), 1u);
  EXPECT_EQ(I16x8AllTrue(ones), 1u);
  EXPECT_EQ(I32x4AllTrue(ones), 1u);
  EXPECT_EQ(I64x2AllTrue(ones), 1u);
  V128 holes = I8x16ReplaceLane(ones, 0, 9);
  EXPECT_EQ(I8x16AllTrue(holes), 0u);
  EXPECT_EQ(I16x8AllTrue(holes), 1u);  // lane 4 is 0x0100
  EXPECT_EQ(I16x8AllTrue(I16x8ReplaceLane(ones, 0, 7)), 0u);
  EXPECT_EQ(I32x4AllTrue(I32x4ReplaceLane(ones, 0, 0)), 0u);
  EXPECT_EQ(I64x2AllTrue(I64x2ReplaceLane(ones, 0, 1)), 0u);
  EXPECT_EQ(I8x16AllTrue(V128::zero()), 0u);

  V128 m = make<uint8_t>({0x80, 0, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81});
  EXPECT_EQ(I8x16Bitmask(m), 0x8005u);
  EXPECT_EQ(I16x8Bitmask(make<int16_t>({-1, 0, 1, -32768, 32767, 0, 0, -2})), 0x89u);
  EXPECT_EQ(I32x4Bitmask(make<int32_t>({0, INT32_MIN, -1, 1})), 0x6u);
  EXPECT_EQ(I64x2Bitmask(make<int64_t>({-1, 1})), 0x1u);
  EXPECT_EQ(I64x2Bitmask(make<int64_t>({0, INT64_MIN})), 0x2u);
}

TEST(SimdInt, Narrow) {
  V128 a = make<int16_t>({-32768, -129, -128, -1, 0, 127, 128, 32767});
  V128 b = make<int16_t>({255, 256, 1, 2, 3, 4, 5, -300});
  EXPECT_EQ(lanes<int8_t>(I8x16NarrowI16x8S(a, b)),
            (std::array<int8_t, 16>{-128, -128, -128, -1, 0, 127, 127, 127, 127, 127, 1, 2, 3, 4, 5, -128}));
  EXPECT_EQ(lanes<uint8_t>(I8x16NarrowI16x8U(a, b)),
            (std::array<uint8_t, 16>{0, 0, 0, 0, 0, 127, 128, 255, 255, 255, 1, 2, 3, 4, 5, 0}));
  V128 c = make<int32_t>({INT32_MIN, -32769, 32768, 65535});
  V128 d = make<int32_t>({-1, 65536, 40000, INT32_MAX});
  EXPECT_EQ(lanes<int16_t>(I16x8NarrowI32x4S(c, d)),
            (std::array<int16_t, 8>{-32768, -32768, 32767, 32767, -1, 32767, 32767, 32767}));
  EXPECT_EQ(lanes<uint16_t>(I16x8NarrowI32x4U(c, d)),
            (std::array<uint16_t, 8>{0, 0, 32768, 65535, 0, 65535, 40000, 65535}));
}

TEST(SimdInt, ShiftsTakeCountModuloWidth) {
  V128 b = make<uint8_t>({0x81, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff});
  EXPECT_EQ(lanes<uint8_t>(I8x16Shl(b, 9))[0], 0x02);  // 9 mod 8 = 1
  EXPECT_EQ(lanes<uint8_t>(I8x16ShrU(b, 1))[0], 0x40);
  EXPECT_EQ(lanes<uint8_t>(I8x16ShrS(b, 1))[0], 0xc0);
  EXPECT_EQ(lanes<uint8_t>(I8x16ShrS(b, 8))[0], 0x81);  // count 8 is 0
  EXPECT_EQ(lanes<uint8_t>(I8x16ShrS(b, 7))[1], 0x00);
  EXPECT_EQ(lanes<uint8_t>(I8x16ShrS(b, 0xffffffff))[15], 0xff);
  V128 h = make<int16_t>({-32768, 0x4001, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(lanes<int16_t>(I16x8ShrS(h, 15))[0], -1);
  EXPECT_EQ(lanes<uint16_t>(I16x8ShrU(h, 31))[0], 1);  // 31 mod 16 = 15
  EXPECT_EQ(lanes<uint16_t>(I16x8Shl(h, 17))[1], 0x8002);
  V128 w = make<int32_t>({INT32_MIN, 1, -16, 3});
  EXPECT_EQ(lanes<int32_t>(I32x4ShrS(w, 33)), (std::array<int32_t, 4>{INT32_MIN / 2, 0, -8, 1}));
  EXPECT_EQ(lanes<uint32_t>(I32x4ShrU(w, 32)), lanes<uint32_t>(w));
  EXPECT_EQ(lanes<uint32_t>(I32x4Shl(w, 31)), (std::array<uint32_t, 4>{0, 0x80000000u, 0, 0x80000000u}));
  V128 q = make<int64_t>({INT64_MIN, 5});
  EXPECT_EQ(lanes<int64_t>(I64x2ShrS(q, 63))[0], -1);
  EXPECT_EQ(lanes<uint64_t>(I64x2ShrU(q, 127))[0], 1u);
  EXPECT_EQ(lanes<uint64_t>(I64x2Shl(q, 65))[1], 10u);
}

TEST(SimdInt, SaturatingAddSub) {
  V128 a = make<int8_t>({127, -128, 100, -100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  V128 b = make<int8_t>({1, -1, 27, -28, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  auto s = lanes<int8_t>(I8x16AddSatS(a, b));
  EXPECT_EQ(s[0], 127);
  EXPECT_EQ(s[1], -128);
  EXPECT_EQ(s[2], 127);
  EXPECT_EQ(s[3], -128);
  auto d = lanes<int8_t>(I8x16SubSatS(a, b));
  EXPECT_EQ(d[0], 126);
  EXPECT_EQ(d[1], -127);
  EXPECT_EQ(lanes<int8_t>(I8x16SubSatS(b, a))[0], -126);
  EXPECT_EQ(lanes<int8_t>(I8x16SubSatS(make<int8_t>({-2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), a))[0], -128);
  V128 u = make<uint8_t>({255, 200, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  V128 v = make<uint8_t>({1, 100, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(lanes<uint8_t>(I8x16AddSatU(u, v))[0], 255);
  EXPECT_EQ(lanes<uint8_t>(I8x16AddSatU(u, v))[1], 255);
  EXPECT_EQ(lanes<uint8_t>(I8x16AddSatU(u, v))[2], 21);
  EXPECT_EQ(lanes<uint8_t>(I8x16SubSatU(u, v))[2], 0);
  EXPECT_EQ(lanes<uint8_t>(I8x16SubSatU(u, v))[1], 100);

  V128 h = make<int16_t>({32767, -32768, 1, -1, 0, 0, 0, 0});
  V128 g = make<int16_t>({1, -1, -32768, 32767, 0, 0, 0, 0});
  EXPECT_EQ(lanes<int16_t>(I16x8AddSatS(h, g)), (std::array<int16_t, 8>{32767, -32768, -32767, 32766, 0, 0, 0, 0}));
  EXPECT_EQ(lanes<int16_t>(I16x8SubSatS(h, g)), (std::array<int16_t, 8>{32766, -32767, 32767, -32768, 0, 0, 0, 0}));
  V128 hu = make<uint16_t>({65535, 0, 40000, 1, 0, 0, 0, 0});
  V128 gu = make<uint16_t>({1, 1, 30000, 1, 0, 0, 0, 0});
  EXPECT_EQ(lanes<uint16_t>(I16x8AddSatU(hu, gu)), (std::array<uint16_t, 8>{65535, 1, 65535, 2, 0, 0, 0, 0}));
  EXPECT_EQ(lanes<uint16_t>(I16x8SubSatU(hu, gu)), (std::array<uint16_t, 8>{65534, 0, 10000, 0, 0, 0, 0, 0}));
}

TEST(SimdInt, MinMaxAvgr) {
  V128 a = make<uint8_t>({0x80, 0x7f, 0xff, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  V128 b = make<uint8_t>({0x7f, 0x80, 0x00, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(lanes<uint8_t>(I8x16MinS(a, b))[0], 0x80);
  EXPECT_EQ(lanes<uint8_t>(I8x16MinU(a, b))[0], 0x7f);
  EXPECT_EQ(lanes<uint8_t>(I8x16MaxS(a, b))[2], 0x00);
  EXPECT_EQ(lanes<uint8_t>(I8x16MaxU(a, b))[2], 0xff);
  EXPECT_EQ(lanes<uint8_t>(I8x16AvgrU(a, b))[0], 0x80);  // (128 + 127 + 1) / 2
  EXPECT_EQ(lanes<uint8_t>(I8x16AvgrU(a, b))[2], 0x80);  // (255 + 0 + 1) / 2
  EXPECT_EQ(lanes<uint8_t>(I8x16AvgrU(a, b))[3], 1);
  EXPECT_EQ(lanes<uint8_t>(I8x16AvgrU(I8x16Splat(255), I8x16Splat(255)))[9], 255);

  V128 h = make<int16_t>({-32768, 32767, -1, 0, 0, 0, 0, 0});
  V128 g = make<int16_t>({32767, -32768, 1, 0, 0, 0, 0, 0});
  EXPECT_EQ(lanes<int16_t>(I16x8MinS(h, g))[0], -32768);
  EXPECT_EQ(lanes<int16_t>(I16x8MaxS(h, g))[0], 32767);
  EXPECT_EQ(lanes<uint16_t>(I16x8MinU(h, g))[2], 1);
  EXPECT_EQ(lanes<uint16_t>(I16x8MaxU(h, g))[2], 0xffff);
  EXPECT_EQ(lanes<uint16_t>(I16x8AvgrU(I16x8Splat(0xffff), I16x8Splat(0xfffe)))[0], 0xffff);

  V128 w = make<int32_t>({INT32_MIN, -1, 5, 0});
  V128 x = make<int32_t>({INT32_MAX, 1, 5, 0});
  EXPECT_EQ(lanes<int32_t>(I32x4MinS(w, x)), (std::array<int32_t, 4>{INT32_MIN, -1, 5, 0}));
  EXPECT_EQ(lanes<int32_t>(I32x4MaxS(w, x)), (std::array<int32_t, 4>{INT32_MAX, 1, 5, 0}));
  EXPECT_EQ(lanes<int32_t>(I32x4MinU(w, x)), (std::array<int32_t, 4>{INT32_MAX, 1, 5, 0}));
  EXPECT_EQ(lanes<int32_t>(I32x4MaxU(w, x)), (std::array<int32_t, 4>{INT32_MIN, -1, 5, 0}));
}

TEST(SimdInt, ExtendAndExtaddPairwise) {
  V128 b = make<int8_t>({-128, 127, -1, 1, 2, 3, 4, 5, -6, -7, 8, 9, 10, 11, 12, -13});
  EXPECT_EQ(lanes<int16_t>(I16x8ExtendLowI8x16S(b)), (std::array<int16_t, 8>{-128, 127, -1, 1, 2, 3, 4, 5}));
  EXPECT_EQ(lanes<int16_t>(I16x8ExtendHighI8x16S(b)), (std::array<int16_t, 8>{-6, -7, 8, 9, 10, 11, 12, -13}));
  EXPECT_EQ(lanes<int16_t>(I16x8ExtendLowI8x16U(b)), (std::array<int16_t, 8>{128, 127, 255, 1, 2, 3, 4, 5}));
  EXPECT_EQ(lanes<int16_t>(I16x8ExtendHighI8x16U(b)), (std::array<int16_t, 8>{250, 249, 8, 9, 10, 11, 12, 243}));
  V128 h = make<int16_t>({-32768, 32767, -1, 1, 7, -7, 100, -100});
  EXPECT_EQ(lanes<int32_t>(I32x4ExtendLowI16x8S(h)), (std::array<int32_t, 4>{-32768, 32767, -1, 1}));
  EXPECT_EQ(lanes<int32_t>(I32x4ExtendHighI16x8S(h)), (std::array<int32_t, 4>{7, -7, 100, -100}));
  EXPECT_EQ(lanes<int32_t>(I32x4ExtendLowI16x8U(h)), (std::array<int32_t, 4>{32768, 32767, 65535, 1}));
  EXPECT_EQ(lanes<int32_t>(I32x4ExtendHighI16x8U(h)), (std::array<int32_t, 4>{7, 65529, 100, 65436}));
  V128 w = make<int32_t>({INT32_MIN, -1, 3, -3});
  EXPECT_EQ(lanes<int64_t>(I64x2ExtendLowI32x4S(w)), (std::array<int64_t, 2>{INT32_MIN, -1}));
  EXPECT_EQ(lanes<int64_t>(I64x2ExtendHighI32x4S(w)), (std::array<int64_t, 2>{3, -3}));
  EXPECT_EQ(lanes<int64_t>(I64x2ExtendLowI32x4U(w)), (std::array<int64_t, 2>{0x80000000ll, 0xffffffffll}));
  EXPECT_EQ(lanes<int64_t>(I64x2ExtendHighI32x4U(w)), (std::array<int64_t, 2>{3, 0xfffffffdll}));

  EXPECT_EQ(lanes<int16_t>(I16x8ExtaddPairwiseI8x16S(b)), (std::array<int16_t, 8>{-1, 0, 5, 9, -13, 17, 21, -1}));
  EXPECT_EQ(lanes<int16_t>(I16x8ExtaddPairwiseI8x16S(I8x16Splat(0x80)))[0], -256);
  EXPECT_EQ(lanes<uint16_t>(I16x8ExtaddPairwiseI8x16U(I8x16Splat(0xff)))[7], 510);
  EXPECT_EQ(lanes<int32_t>(I32x4ExtaddPairwiseI16x8S(I16x8Splat(0x8000)))[0], -65536);
  EXPECT_EQ(lanes<int32_t>(I32x4ExtaddPairwiseI16x8S(h)), (std::array<int32_t, 4>{-1, 0, 0, 0}));
  EXPECT_EQ(lanes<uint32_t>(I32x4ExtaddPairwiseI16x8U(I16x8Splat(0xffff)))[3], 131070u);
}

TEST(SimdInt, ExtmulQ15Dot) {
  V128 b = make<int8_t>({-128, 127, -1, 2, 0, 0, 0, 0, -128, 5, 0, 0, 0, 0, 0, -1});
  auto lo_s = lanes<int16_t>(I16x8ExtmulLowI8x16S(b, b));
  EXPECT_EQ(lo_s[0], 16384);
  EXPECT_EQ(lo_s[1], 16129);
  EXPECT_EQ(lo_s[2], 1);
  auto hi_s = lanes<int16_t>(I16x8ExtmulHighI8x16S(b, I8x16Splat(0x7f)));
  EXPECT_EQ(hi_s[0], -16256);
  EXPECT_EQ(hi_s[7], -127);
  EXPECT_EQ(lanes<uint16_t>(I16x8ExtmulLowI8x16U(I8x16Splat(255), I8x16Splat(255)))[0], 65025);
  EXPECT_EQ(lanes<uint16_t>(I16x8ExtmulHighI8x16U(b, I8x16Splat(2)))[7], 510);

  V128 h = make<int16_t>({-32768, 32767, -1, 2, -32768, 3, 0, -1});
  EXPECT_EQ(lanes<int32_t>(I32x4ExtmulLowI16x8S(h, h)), (std::array<int32_t, 4>{1073741824, 1073676289, 1, 4}));
  EXPECT_EQ(lanes<int32_t>(I32x4ExtmulHighI16x8S(h, h)), (std::array<int32_t, 4>{1073741824, 9, 0, 1}));
  EXPECT_EQ(lanes<uint32_t>(I32x4ExtmulLowI16x8U(I16x8Splat(0xffff), I16x8Splat(0xffff)))[0], 0xfffe0001u);
  EXPECT_EQ(lanes<uint32_t>(I32x4ExtmulHighI16x8U(h, I16x8Splat(2)))[3], 131070u);
  V128 w = make<int32_t>({INT32_MIN, -1, INT32_MAX, -2});
  EXPECT_EQ(lanes<int64_t>(I64x2ExtmulLowI32x4S(w, w)), (std::array<int64_t, 2>{4611686018427387904ll, 1}));
  EXPECT_EQ(lanes<int64_t>(I64x2ExtmulHighI32x4S(w, w)), (std::array<int64_t, 2>{4611686014132420609ll, 4}));
  EXPECT_EQ(lanes<uint64_t>(I64x2ExtmulLowI32x4U(w, w))[1], 0xfffffffe00000001ull);
  EXPECT_EQ(lanes<uint64_t>(I64x2ExtmulHighI32x4U(w, w))[0], 0x3fffffff00000001ull);

  V128 q = make<int16_t>({-32768, 16384, -16384, 1, 0x4000, -1, 32767, 0});
  V128 r = make<int16_t>({-32768, 16384, 16384, 1, 1, 1, 32767, 0});
  // (a*b + 0x4000) >> 15, rounding half up, saturating only at (-1)*(-1).
  EXPECT_EQ(lanes<int16_t>(I16x8Q15mulrSatS(q, r)), (std::array<int16_t, 8>{32767, 8192, -8192, 0, 1, 0, 32766, 0}));

  V128 d1 = make<int16_t>({-32768, -32768, 1, 2, 32767, 32767, -5, 3});
  V128 d2 = make<int16_t>({-32768, -32768, 3, 4, 32767, 32767, 2, 7});
  EXPECT_EQ(lanes<int32_t>(I32x4DotI16x8S(d1, d2)), (std::array<int32_t, 4>{INT32_MIN, 11, 2147352578, 11}));
}

// --- floats ------------------------------------------------------------------

TEST(SimdFloat, AbsNegKeepNanPayloads) {
  V128 a = make<uint32_t>({0xffc00001, 0x7f800001, 0x80000000, 0x3f800000});
  EXPECT_EQ(lanes<uint32_t>(F32x4Abs(a)), (std::array<uint32_t, 4>{0x7fc00001, 0x7f800001, 0, 0x3f800000}));
  EXPECT_EQ(lanes<uint32_t>(F32x4Neg(a)), (std::array<uint32_t, 4>{0x7fc00001, 0xff800001, 0, 0xbf800000}));
  V128 d = make<uint64_t>({0xfff0000000000001ull, 0});
  EXPECT_EQ(lanes<uint64_t>(F64x2Abs(d)), (std::array<uint64_t, 2>{0x7ff0000000000001ull, 0}));
  EXPECT_EQ(lanes<uint64_t>(F64x2Neg(d)), (std::array<uint64_t, 2>{0x7ff0000000000001ull, 0x8000000000000000ull}));
}

TEST(SimdFloat, Arithmetic) {
  V128 a = make<float>({1.0f, 1.0f, 0.0f, kInf});
  V128 b = make<float>({3.0f, 0.0f, 0.0f, kInf});
  auto q = lanes<float>(F32x4Div(a, b));
  EXPECT_EQ(q[0], 1.0f / 3.0f);
  EXPECT_EQ(q[1], kInf);
  EXPECT_TRUE(is_canonical_nan(bits(q[2])));  // 0/0
  EXPECT_TRUE(is_canonical_nan(bits(q[3])));  // inf/inf
  EXPECT_TRUE(is_canonical_nan(bits(lanes<float>(F32x4Sub(a, b))[3])));
  EXPECT_TRUE(is_canonical_nan(bits(lanes<float>(F32x4Mul(make<float>({0, 0, 0, 0}), b))[3])));  // 0 * inf
  EXPECT_EQ(lanes<float>(F32x4Add(a, b))[0], 4.0f);
  EXPECT_EQ(lanes<float>(F32x4Mul(a, b))[0], 3.0f);
  // Arithmetic NaN inputs propagate as arithmetic NaNs.
  V128 n = make<uint32_t>({0x7f800001, 0xffa00000, 0x7fc12345, 0});
  auto sum = lanes<uint32_t>(F32x4Add(n, make<float>({1.0f, 1.0f, 1.0f, 1.0f})));
  EXPECT_TRUE(is_arithmetic_nan(sum[0]));
  EXPECT_TRUE(is_arithmetic_nan(sum[1]));
  EXPECT_TRUE(is_arithmetic_nan(sum[2]));
  auto s = lanes<float>(F32x4Sqrt(make<float>({4.0f, -1.0f, -0.0f, 2.0f})));
  EXPECT_EQ(s[0], 2.0f);
  EXPECT_TRUE(is_canonical_nan(bits(s[1])));
  EXPECT_EQ(bits(s[2]), 0x80000000u);
  EXPECT_EQ(s[3], std::sqrt(2.0f));

  V128 c = make<double>({1.0, -0.0});
  V128 d = make<double>({10.0, 0.0});
  EXPECT_EQ(lanes<double>(F64x2Div(c, d))[0], 0.1);
  EXPECT_EQ(bits(lanes<double>(F64x2Add(c, d))[1]), 0u);  // -0 + 0 = +0
  EXPECT_EQ(bits(lanes<double>(F64x2Sub(c, d))[1]), 0x8000000000000000ull);
  EXPECT_EQ(lanes<double>(F64x2Mul(c, d))[0], 10.0);
  auto ds = lanes<double>(F64x2Sqrt(make<double>({2.0, -kInfD})));
  EXPECT_EQ(ds[0], std::sqrt(2.0));
  EXPECT_TRUE(is_canonical_nan(bits(ds[1])));
}

TEST(SimdFloat, MinMaxNanAndSignedZero) {
  const float snan = f32_bits(0x7f800001), canon = f32_bits(kCanonNan32);
  V128 a = make<float>({0.0f, -0.0f, snan, 1.0f});
  V128 b = make<float>({-0.0f, 0.0f, 1.0f, canon});
  auto mn = lanes<uint32_t>(F32x4Min(a, b));
  auto mx = lanes<uint32_t>(F32x4Max(a, b));
  EXPECT_EQ(mn[0], 0x80000000u);
  EXPECT_EQ(mn[1], 0x80000000u);
  EXPECT_EQ(mx[0], 0u);
  EXPECT_EQ(mx[1], 0u);
  EXPECT_TRUE(is_arithmetic_nan(mn[2]));
  EXPECT_TRUE(is_arithmetic_nan(mx[2]));
  EXPECT_TRUE(is_canonical_nan(mn[3]));
  EXPECT_TRUE(is_canonical_nan(mx[3]));
  auto ord = lanes<float>(F32x4Min(make<float>({-kInf, 2, 3, -5}), make<float>({kInf, 1, 3, 5})));
  EXPECT_EQ(ord, (std::array<float, 4>{-kInf, 1, 3, -5}));
  ord = lanes<float>(F32x4Max(make<float>({-kInf, 2, 3, -5}), make<float>({kInf, 1, 3, 5})));
  EXPECT_EQ(ord, (std::array<float, 4>{kInf, 2, 3, 5}));

  V128 c = make<double>({-0.0, f64_bits(kCanonNan64)});
  V128 d = make<double>({0.0, 1.0});
  auto dmn = lanes<uint64_t>(F64x2Min(c, d));
  auto dmx = lanes<uint64_t>(F64x2Max(d, c));
  EXPECT_EQ(dmn[0], 0x8000000000000000ull);
  EXPECT_EQ(dmx[0], 0u);
  EXPECT_TRUE(is_canonical_nan(dmn[1]));
  EXPECT_TRUE(is_canonical_nan(dmx[1]));
  EXPECT_TRUE(is_arithmetic_nan(lanes<uint64_t>(F64x2Min(d, make<double>({f64_bits(0x7ff0000000000001), 0})))[0]));
}

TEST(SimdFloat, PseudoMinMaxAreExactSelects) {
  const float nan = f32_bits(0x7fc00123);
  V128 a = make<float>({0.0f, nan, 1.0f, -0.0f});
  V128 b = make<float>({-0.0f, 1.0f, nan, 0.0f});
  // pmin = b < a ? b : a ; pmax = a < b ? b : a
  EXPECT_EQ(lanes<uint32_t>(F32x4Pmin(a, b)), (std::array<uint32_t, 4>{0u, 0x7fc00123u, 0x3f800000u, 0x80000000u}));
  EXPECT_EQ(lanes<uint32_t>(F32x4Pmax(a, b)), (std::array<uint32_t, 4>{0u, 0x7fc00123u, 0x3f800000u, 0x80000000u}));
  EXPECT_EQ(lanes<float>(F32x4Pmin(make<float>({1, 2, 3, 4}), make<float>({4, 3, 2, 1}))), (std::array<float, 4>{1, 2, 2, 1}));
  EXPECT_EQ(lanes<float>(F32x4Pmax(make<float>({1, 2, 3, 4}), make<float>({4, 3, 2, 1}))), (std::array<float, 4>{4, 3, 3, 4}));
  V128 c = make<double>({f64_bits(0x7ff8000000000abcull), 2.0});
  V128 d = make<double>({1.0, -3.0});
  EXPECT_EQ(lanes<uint64_t>(F64x2Pmin(c, d))[0], 0x7ff8000000000abcull);
  EXPECT_EQ(lanes<double>(F64x2Pmin(c, d))[1], -3.0);
  EXPECT_EQ(lanes<double>(F64x2Pmin(d, c))[0], 1.0);
  EXPECT_EQ(lanes<uint64_t>(F64x2Pmax(c, d))[0], 0x7ff8000000000abcull);
  EXPECT_EQ(lanes<double>(F64x2Pmax(c, d))[1], 2.0);
  EXPECT_EQ(bits(lanes<double>(F64x2Pmax(make<double>({-0.0, 0}), make<double>({0.0, 0})))[0]), 0x8000000000000000ull);
}

TEST(SimdFloat, Rounding) {
  V128 a = make<float>({2.5f, -2.5f, 0.5f, -0.5f});
  EXPECT_EQ(lanes<float>(F32x4Nearest(a)), (std::array<float, 4>{2.0f, -2.0f, 0.0f, -0.0f}));
  EXPECT_EQ(lanes<uint32_t>(F32x4Nearest(a))[3], 0x80000000u);
  EXPECT_EQ(lanes<float>(F32x4Nearest(make<float>({3.5f, 1.5f, 8388609.0f, -1.5f}))), (std::array<float, 4>{4.0f, 2.0f, 8388609.0f, -2.0f}));
  EXPECT_EQ(lanes<float>(F32x4Ceil(a)), (std::array<float, 4>{3.0f, -2.0f, 1.0f, -0.0f}));
  EXPECT_EQ(lanes<uint32_t>(F32x4Ceil(a))[3], 0x80000000u);  // ceil(-0.5) = -0
  EXPECT_EQ(lanes<float>(F32x4Floor(a)), (std::array<float, 4>{2.0f, -3.0f, 0.0f, -1.0f}));
  EXPECT_EQ(lanes<float>(F32x4Trunc(a)), (std::array<float, 4>{2.0f, -2.0f, 0.0f, -0.0f}));
  EXPECT_EQ(lanes<uint32_t>(F32x4Trunc(a))[3], 0x80000000u);
  auto nan_in = lanes<uint32_t>(F32x4Floor(make<uint32_t>({0x7fc00000, 0xff800001, 0x7f800000, 0})));
  EXPECT_TRUE(is_canonical_nan(nan_in[0]));
  EXPECT_TRUE(is_arithmetic_nan(nan_in[1]));
  EXPECT_EQ(nan_in[2], 0x7f800000u);

  V128 d = make<double>({2.5, -0.5});
  EXPECT_EQ(lanes<double>(F64x2Nearest(d)), (std::array<double, 2>{2.0, -0.0}));
  EXPECT_EQ(lanes<uint64_t>(F64x2Nearest(d))[1], 0x8000000000000000ull);
  EXPECT_EQ(lanes<double>(F64x2Nearest(make<double>({4503599627370497.0, -3.5}))), (std::array<double, 2>{4503599627370497.0, -4.0}));
  EXPECT_EQ(lanes<double>(F64x2Ceil(d)), (std::array<double, 2>{3.0, -0.0}));
  EXPECT_EQ(lanes<uint64_t>(F64x2Ceil(d))[1], 0x8000000000000000ull);
  EXPECT_EQ(lanes<double>(F64x2Floor(d)), (std::array<double, 2>{2.0, -1.0}));
  EXPECT_EQ(lanes<double>(F64x2Trunc(make<double>({-1.9, 1e300}))), (std::array<double, 2>{-1.0, 1e300}));
}

// --- conversions -------------------------------------------------------------------

TEST(SimdConvert, TruncSatF32) {
  V128 a = make<float>({f32_bits(kCanonNan32), 2147483648.0f, -2147483904.0f, -2147483648.0f});
  EXPECT_EQ(lanes<int32_t>(I32x4TruncSatF32x4S(a)), (std::array<int32_t, 4>{0, INT32_MAX, INT32_MIN, INT32_MIN}));
  V128 b = make<float>({2147483520.0f, -1.9f, 1.9f, -kInf});
  EXPECT_EQ(lanes<int32_t>(I32x4TruncSatF32x4S(b)), (std::array<int32_t, 4>{2147483520, -1, 1, INT32_MIN}));
  V128 c = make<float>({-0.99f, -1.0f, 4294967296.0f, 4294967040.0f});
  EXPECT_EQ(lanes<uint32_t>(I32x4TruncSatF32x4U(c)), (std::array<uint32_t, 4>{0, 0, 0xffffffffu, 4294967040u}));
  V128 d = make<float>({f32_bits(0xffc00000), kInf, -kInf, 1.5f});
  EXPECT_EQ(lanes<uint32_t>(I32x4TruncSatF32x4U(d)), (std::array<uint32_t, 4>{0, 0xffffffffu, 0, 1}));
}

TEST(SimdConvert, TruncSatF64Zero) {
  V128 a = make<double>({2147483647.9, -2147483648.9});
  EXPECT_EQ(lanes<int32_t>(I32x4TruncSatF64x2SZero(a)), (std::array<int32_t, 4>{INT32_MAX, INT32_MIN, 0, 0}));
  V128 b = make<double>({2147483648.0, f64_bits(0x7ff0000000000001)});
  EXPECT_EQ(lanes<int32_t>(I32x4TruncSatF64x2SZero(b)), (std::array<int32_t, 4>{INT32_MAX, 0, 0, 0}));
  V128 c = make<double>({4294967295.9, -0.9});
  EXPECT_EQ(lanes<uint32_t>(I32x4TruncSatF64x2UZero(c)), (std::array<uint32_t, 4>{0xffffffffu, 0, 0, 0}));
  V128 d = make<double>({1e10, -1e10});
  EXPECT_EQ(lanes<uint32_t>(I32x4TruncSatF64x2UZero(d)), (std::array<uint32_t, 4>{0xffffffffu, 0, 0, 0}));
}

TEST(SimdConvert, IntToFloat) {
  V128 a = make<int32_t>({INT32_MIN, 16777217, -16777219, 2147483647});
  EXPECT_EQ(lanes<float>(F32x4ConvertI32x4S(a)), (std::array<float, 4>{-2147483648.0f, 16777216.0f, -16777220.0f, 2147483648.0f}));
  V128 u = make<uint32_t>({0xffffffffu, 0x80000080u, 0x80000081u, 16777219u});
  // 0x80000080 is a tie between 2^31 and 2^31+256 and rounds to even (2^31).
  EXPECT_EQ(lanes<float>(F32x4ConvertI32x4U(u)), (std::array<float, 4>{4294967296.0f, 2147483648.0f, 2147483904.0f, 16777220.0f}));
  EXPECT_EQ(lanes<double>(F64x2ConvertLowI32x4S(a)), (std::array<double, 2>{-2147483648.0, 16777217.0}));
  EXPECT_EQ(lanes<double>(F64x2ConvertLowI32x4U(u)), (std::array<double, 2>{4294967295.0, 2147483776.0}));
}

TEST(SimdConvert, DemotePromote) {
  V128 d = make<double>({1e300, f64_bits(kCanonNan64)});
  auto f = lanes<uint32_t>(F32x4DemoteF64x2Zero(d));
  EXPECT_EQ(f[0], bits(kInf));
  EXPECT_TRUE(is_canonical_nan(f[1]));
  EXPECT_EQ(f[2], 0u);
  EXPECT_EQ(f[3], 0u);
  auto g = lanes<float>(F32x4DemoteF64x2Zero(make<double>({1.0 + 0x1p-24, -0.0})));
  EXPECT_EQ(g[0], 1.0f);  // tie rounds to even
  EXPECT_EQ(bits(g[1]), 0x80000000u);
  EXPECT_EQ(lanes<float>(F32x4DemoteF64x2Zero(make<double>({1.0 + 0x1p-23 + 0x1p-24, 1e-50})))[0], 1.0f + 0x1p-22f);
  EXPECT_TRUE(is_arithmetic_nan(lanes<uint32_t>(F32x4DemoteF64x2Zero(make<double>({f64_bits(0x7ff4000000000000), 0})))[0]));

  V128 p = make<float>({-0.0f, f32_bits(0x7fa00000), 9.0f, 9.0f});
  auto e = lanes<uint64_t>(F64x2PromoteLowF32x4(p));
  EXPECT_EQ(e[0], 0x8000000000000000ull);
  EXPECT_TRUE(is_arithmetic_nan(e[1]));
  EXPECT_EQ(lanes<double>(F64x2PromoteLowF32x4(make<float>({0x1p-149f, 3.4e38f, 0, 0}))), (std::array<double, 2>{0x1p-149, double(3.4e38f)}));
}

}  // namespace
}  // namespace skiff::interp::ops

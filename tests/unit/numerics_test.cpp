// Edge cases of the scalar ops (interp/numerics.h), one family at a time.
#include "interp/numerics.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace skiff::interp {
namespace {

float f32(uint32_t bits) { return std::bit_cast<float>(bits); }
double f64(uint64_t bits) { return std::bit_cast<double>(bits); }
uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }
uint64_t bits(double x) { return std::bit_cast<uint64_t>(x); }

constexpr uint32_t kF32CanonicalNan = 0x7fc00000;
constexpr uint32_t kF32SignallingNan = 0x7f800001;
constexpr uint64_t kF64CanonicalNan = 0x7ff8000000000000;
constexpr uint64_t kF64SignallingNan = 0x7ff0000000000001;

bool is_arithmetic_nan(float x) { return std::isnan(x) && (bits(x) & 0x00400000u) != 0; }
bool is_arithmetic_nan(double x) { return std::isnan(x) && (bits(x) & 0x0008000000000000ull) != 0; }

TEST(Numerics, IntegerArithmeticWraps) {
  EXPECT_EQ(ops::I32Add(0xffffffffu, 1), 0u);
  EXPECT_EQ(ops::I32Sub(0, 1), 0xffffffffu);
  EXPECT_EQ(ops::I32Mul(0x10000, 0x10000), 0u);
  EXPECT_EQ(ops::I64Mul(0x100000000ull, 0x100000000ull), 0u);
  EXPECT_EQ(ops::I64Add(~0ull, 2), 1u);
}

TEST(Numerics, Comparisons) {
  EXPECT_EQ(ops::I32LtS(0xffffffffu, 0), 1u);
  EXPECT_EQ(ops::I32LtU(0xffffffffu, 0), 0u);
  EXPECT_EQ(ops::I64GeS(0x8000000000000000ull, 0), 0u);
  EXPECT_EQ(ops::I64GeU(0x8000000000000000ull, 0), 1u);
  EXPECT_EQ(ops::I32Eqz(0), 1u);
  EXPECT_EQ(ops::I64Eqz(1ull << 32), 0u);
  float nan = f32(kF32CanonicalNan);
  EXPECT_EQ(ops::F32Eq(nan, nan), 0u);
  EXPECT_EQ(ops::F32Ne(nan, nan), 1u);
  EXPECT_EQ(ops::F32Lt(nan, 1.0f), 0u);
  EXPECT_EQ(ops::F32Ge(nan, 1.0f), 0u);
  EXPECT_EQ(ops::F64Eq(0.0, -0.0), 1u);
  EXPECT_EQ(ops::F64Le(-0.0, 0.0), 1u);
}

TEST(Numerics, DivisionTraps) {
  uint32_t r32 = 77;
  EXPECT_EQ(ops::I32DivS(r32, 1, 0), TrapKind::IntDivideByZero);
  EXPECT_EQ(ops::I32DivU(r32, 1, 0), TrapKind::IntDivideByZero);
  EXPECT_EQ(ops::I32RemS(r32, 1, 0), TrapKind::IntDivideByZero);
  EXPECT_EQ(ops::I32RemU(r32, 1, 0), TrapKind::IntDivideByZero);
  EXPECT_EQ(ops::I32DivS(r32, 0x80000000u, 0xffffffffu), TrapKind::IntOverflow);
  EXPECT_EQ(r32, 77u);  // untouched on a trap

  ASSERT_EQ(ops::I32RemS(r32, 0x80000000u, 0xffffffffu), TrapKind::None);
  EXPECT_EQ(r32, 0u);
  ASSERT_EQ(ops::I32DivS(r32, uint32_t(-7), 2), TrapKind::None);
  EXPECT_EQ(int32_t(r32), -3);  // truncates toward zero
  ASSERT_EQ(ops::I32RemS(r32, uint32_t(-7), 2), TrapKind::None);
  EXPECT_EQ(int32_t(r32), -1);  // sign of the dividend
  ASSERT_EQ(ops::I32DivU(r32, 0x80000000u, 2), TrapKind::None);
  EXPECT_EQ(r32, 0x40000000u);

  uint64_t r64 = 0;
  EXPECT_EQ(ops::I64DivS(r64, 0x8000000000000000ull, ~0ull), TrapKind::IntOverflow);
  EXPECT_EQ(ops::I64DivU(r64, 5, 0), TrapKind::IntDivideByZero);
  ASSERT_EQ(ops::I64RemS(r64, 0x8000000000000000ull, ~0ull), TrapKind::None);
  EXPECT_EQ(r64, 0u);
  ASSERT_EQ(ops::I64RemU(r64, ~0ull, 10), TrapKind::None);
  EXPECT_EQ(r64, 5u);
}

TEST(Numerics, ShiftsAndRotatesTakeCountModuloWidth) {
  EXPECT_EQ(ops::I32Shl(1, 32), 1u);
  EXPECT_EQ(ops::I32Shl(1, 33), 2u);
  EXPECT_EQ(ops::I32ShrS(0x80000000u, 31), 0xffffffffu);
  EXPECT_EQ(ops::I32ShrS(0x80000000u, 63), 0xffffffffu);
  EXPECT_EQ(ops::I32ShrU(0x80000000u, 63), 1u);
  EXPECT_EQ(ops::I32Rotl(0x80000001u, 1), 3u);
  EXPECT_EQ(ops::I32Rotr(0x80000001u, 33), 0xc0000000u);
  EXPECT_EQ(ops::I32Rotl(0x12345678u, 0), 0x12345678u);
  EXPECT_EQ(ops::I64Shl(1, 64), 1u);
  EXPECT_EQ(ops::I64ShrS(0x8000000000000000ull, 127), ~0ull);
  EXPECT_EQ(ops::I64Rotl(0x8000000000000001ull, 65), 3u);
  EXPECT_EQ(ops::I64Rotr(1, 0xffffffffffffffffull), 2u);
}

TEST(Numerics, BitCounts) {
  EXPECT_EQ(ops::I32Clz(0), 32u);
  EXPECT_EQ(ops::I32Ctz(0), 32u);
  EXPECT_EQ(ops::I32Clz(1), 31u);
  EXPECT_EQ(ops::I32Ctz(0x80000000u), 31u);
  EXPECT_EQ(ops::I32Popcnt(0xffffffffu), 32u);
  EXPECT_EQ(ops::I64Clz(0), 64u);
  EXPECT_EQ(ops::I64Ctz(0), 64u);
  EXPECT_EQ(ops::I64Popcnt(0x8000000000000001ull), 2u);
}

TEST(Numerics, SignExtension) {
  EXPECT_EQ(ops::I32Extend8S(0x80), 0xffffff80u);
  EXPECT_EQ(ops::I32Extend8S(0x17f), 0x7fu);
  EXPECT_EQ(ops::I32Extend16S(0x8000), 0xffff8000u);
  EXPECT_EQ(ops::I64Extend8S(0xff), ~0ull);
  EXPECT_EQ(ops::I64Extend16S(0x7fff), 0x7fffull);
  EXPECT_EQ(ops::I64Extend32S(0x80000000ull), 0xffffffff80000000ull);
  EXPECT_EQ(ops::I64ExtendI32S(0xffffffffu), ~0ull);
  EXPECT_EQ(ops::I64ExtendI32U(0xffffffffu), 0xffffffffull);
  EXPECT_EQ(ops::I32WrapI64(0x123456789ull), 0x23456789u);
}

TEST(Numerics, SignBitOpsKeepNanPayloads) {
  EXPECT_EQ(bits(ops::F32Neg(f32(kF32SignallingNan))), 0xff800001u);
  EXPECT_EQ(bits(ops::F32Abs(f32(0xff800001u))), kF32SignallingNan);
  EXPECT_EQ(bits(ops::F32Copysign(f32(kF32SignallingNan), -1.0f)), 0xff800001u);
  EXPECT_EQ(bits(ops::F32Copysign(1.0f, f32(0xffc00000u))), bits(-1.0f));
  EXPECT_EQ(bits(ops::F64Neg(f64(kF64SignallingNan))), 0xfff0000000000001ull);
  EXPECT_EQ(bits(ops::F64Abs(-0.0)), 0u);
  EXPECT_EQ(bits(ops::F64Copysign(f64(kF64CanonicalNan), -0.0)), 0xfff8000000000000ull);
  EXPECT_EQ(bits(ops::F32Neg(0.0f)), 0x80000000u);
}

TEST(Numerics, MinMaxNanAndSignedZero) {
  EXPECT_EQ(bits(ops::F32Min(0.0f, -0.0f)), bits(-0.0f));
  EXPECT_EQ(bits(ops::F32Min(-0.0f, 0.0f)), bits(-0.0f));
  EXPECT_EQ(bits(ops::F32Max(-0.0f, 0.0f)), bits(0.0f));
  EXPECT_EQ(bits(ops::F32Max(0.0f, -0.0f)), bits(0.0f));
  EXPECT_EQ(bits(ops::F64Min(0.0, -0.0)), bits(-0.0));
  EXPECT_EQ(bits(ops::F64Max(-0.0, 0.0)), bits(0.0));
  EXPECT_EQ(ops::F32Min(1.0f, 2.0f), 1.0f);
  EXPECT_EQ(ops::F64Max(-1.0, -2.0), -1.0);
  EXPECT_EQ(ops::F32Min(-INFINITY, 0.0f), -INFINITY);

  EXPECT_TRUE(is_arithmetic_nan(ops::F32Min(f32(kF32SignallingNan), 1.0f)));
  EXPECT_TRUE(is_arithmetic_nan(ops::F32Max(1.0f, f32(kF32SignallingNan))));
  EXPECT_TRUE(is_arithmetic_nan(ops::F32Max(-INFINITY, f32(kF32CanonicalNan))));
  EXPECT_TRUE(is_arithmetic_nan(ops::F64Min(f64(kF64SignallingNan), 1.0)));
  EXPECT_TRUE(is_arithmetic_nan(ops::F64Max(INFINITY, f64(kF64CanonicalNan))));
}

TEST(Numerics, Nearest) {
  EXPECT_EQ(ops::F32Nearest(0.5f), 0.0f);
  EXPECT_EQ(ops::F32Nearest(1.5f), 2.0f);
  EXPECT_EQ(ops::F32Nearest(2.5f), 2.0f);
  EXPECT_EQ(ops::F32Nearest(-3.5f), -4.0f);
  EXPECT_EQ(bits(ops::F32Nearest(-0.5f)), bits(-0.0f));
  EXPECT_EQ(bits(ops::F32Nearest(-0.0f)), bits(-0.0f));
  EXPECT_EQ(ops::F32Nearest(8388609.0f), 8388609.0f);   // 2^23 + 1: already integral
  EXPECT_EQ(ops::F32Nearest(4194303.5f), 4194304.0f);   // 2^22 - 0.5
  EXPECT_EQ(ops::F32Nearest(INFINITY), INFINITY);
  EXPECT_TRUE(is_arithmetic_nan(ops::F32Nearest(f32(kF32SignallingNan))));

  EXPECT_EQ(ops::F64Nearest(2.5), 2.0);
  EXPECT_EQ(ops::F64Nearest(-2.5), -2.0);
  EXPECT_EQ(ops::F64Nearest(4503599627370495.5), 4503599627370496.0);  // 2^52 - 0.5
  EXPECT_EQ(ops::F64Nearest(4503599627370497.0), 4503599627370497.0);
  EXPECT_EQ(bits(ops::F64Nearest(-0.25)), bits(-0.0));
  EXPECT_TRUE(is_arithmetic_nan(ops::F64Nearest(f64(kF64SignallingNan))));
}

TEST(Numerics, CeilFloorTrunc) {
  EXPECT_EQ(bits(ops::F32Ceil(-0.5f)), bits(-0.0f));
  EXPECT_EQ(ops::F32Ceil(0.5f), 1.0f);
  EXPECT_EQ(ops::F32Ceil(-1.5f), -1.0f);
  EXPECT_EQ(ops::F32Ceil(8388607.5f), 8388608.0f);
  EXPECT_EQ(ops::F32Floor(-0.5f), -1.0f);
  EXPECT_EQ(bits(ops::F32Floor(-0.0f)), bits(-0.0f));
  EXPECT_EQ(ops::F32Floor(1.9999999f), 1.0f);
  EXPECT_EQ(ops::F32Floor(-8388607.5f), -8388608.0f);
  EXPECT_EQ(bits(ops::F32Trunc(-0.9f)), bits(-0.0f));
  EXPECT_EQ(ops::F32Trunc(-1.5f), -1.0f);
  EXPECT_EQ(ops::F32Trunc(2.5f), 2.0f);
  EXPECT_EQ(ops::F64Ceil(0.0000001), 1.0);
  EXPECT_EQ(ops::F64Floor(-4503599627370495.5), -4503599627370496.0);
  EXPECT_EQ(ops::F64Trunc(-4503599627370495.5), -4503599627370495.0);
  EXPECT_EQ(ops::F64Trunc(1e300), 1e300);
  EXPECT_EQ(ops::F64Floor(-INFINITY), -INFINITY);
  EXPECT_TRUE(is_arithmetic_nan(ops::F32Ceil(f32(kF32SignallingNan))));
  EXPECT_TRUE(is_arithmetic_nan(ops::F64Floor(f64(kF64SignallingNan))));
  EXPECT_TRUE(is_arithmetic_nan(ops::F64Trunc(f64(kF64SignallingNan))));
}

TEST(Numerics, ArithmeticNans) {
  EXPECT_TRUE(is_arithmetic_nan(ops::F32Add(f32(kF32SignallingNan), 1.0f)));
  EXPECT_TRUE(is_arithmetic_nan(ops::F32Sqrt(-1.0f)));
  EXPECT_TRUE(is_arithmetic_nan(ops::F64Div(0.0, 0.0)));
  EXPECT_TRUE(is_arithmetic_nan(ops::F64Sqrt(f64(kF64SignallingNan))));
  EXPECT_EQ(ops::F64Sqrt(4.0), 2.0);
}

TEST(Numerics, NoFusedMultiplyAdd) {
  // With a fused multiply-add, a*b - c would be exact and differ.
  double a = 1.0 + std::ldexp(1.0, -30);
  double product = ops::F64Mul(a, a);
  EXPECT_EQ(ops::F64Sub(product, 1.0), std::ldexp(1.0, -29));
}

TEST(Numerics, TruncTrapsExactlyAtTheBoundaries) {
  uint32_t r32 = 0;
  uint64_t r64 = 0;
  float nan32 = f32(kF32CanonicalNan);
  double nan64 = f64(kF64CanonicalNan);

  // i32.trunc_f32_s: [-2^31, 2^31)
  EXPECT_EQ(ops::I32TruncF32S(r32, -2147483648.0f), TrapKind::None);
  EXPECT_EQ(r32, 0x80000000u);
  EXPECT_EQ(ops::I32TruncF32S(r32, 2147483648.0f), TrapKind::IntOverflow);
  EXPECT_EQ(ops::I32TruncF32S(r32, -2147483904.0f), TrapKind::IntOverflow);  // next float below -2^31
  EXPECT_EQ(ops::I32TruncF32S(r32, 2147483520.0f), TrapKind::None);          // largest float below 2^31
  EXPECT_EQ(r32, 2147483520u);
  EXPECT_EQ(ops::I32TruncF32S(r32, nan32), TrapKind::InvalidConversion);
  EXPECT_EQ(ops::I32TruncF32S(r32, -INFINITY), TrapKind::IntOverflow);
  EXPECT_EQ(ops::I32TruncF32S(r32, -1.9f), TrapKind::None);
  EXPECT_EQ(int32_t(r32), -1);

  // i32.trunc_f32_u: (-1, 2^32)
  EXPECT_EQ(ops::I32TruncF32U(r32, -0.99999994f), TrapKind::None);
  EXPECT_EQ(r32, 0u);
  EXPECT_EQ(ops::I32TruncF32U(r32, -1.0f), TrapKind::IntOverflow);
  EXPECT_EQ(ops::I32TruncF32U(r32, 4294967040.0f), TrapKind::None);
  EXPECT_EQ(r32, 4294967040u);
  EXPECT_EQ(ops::I32TruncF32U(r32, 4294967296.0f), TrapKind::IntOverflow);

  // i32.trunc_f64_s: (-2^31 - 1, 2^31)
  EXPECT_EQ(ops::I32TruncF64S(r32, -2147483648.9), TrapKind::None);
  EXPECT_EQ(r32, 0x80000000u);
  EXPECT_EQ(ops::I32TruncF64S(r32, -2147483649.0), TrapKind::IntOverflow);
  EXPECT_EQ(ops::I32TruncF64S(r32, 2147483647.9), TrapKind::None);
  EXPECT_EQ(r32, 0x7fffffffu);
  EXPECT_EQ(ops::I32TruncF64S(r32, 2147483648.0), TrapKind::IntOverflow);
  EXPECT_EQ(ops::I32TruncF64S(r32, nan64), TrapKind::InvalidConversion);

  // i32.trunc_f64_u: (-1, 2^32)
  EXPECT_EQ(ops::I32TruncF64U(r32, -0.9), TrapKind::None);
  EXPECT_EQ(ops::I32TruncF64U(r32, 4294967295.9), TrapKind::None);
  EXPECT_EQ(r32, 0xffffffffu);
  EXPECT_EQ(ops::I32TruncF64U(r32, 4294967296.0), TrapKind::IntOverflow);
  EXPECT_EQ(ops::I32TruncF64U(r32, -1.0), TrapKind::IntOverflow);

  // i64 variants
  EXPECT_EQ(ops::I64TruncF32S(r64, -9223372036854775808.0f), TrapKind::None);
  EXPECT_EQ(r64, 0x8000000000000000ull);
  EXPECT_EQ(ops::I64TruncF32S(r64, 9223372036854775808.0f), TrapKind::IntOverflow);
  EXPECT_EQ(ops::I64TruncF32U(r64, 18446742974197923840.0f), TrapKind::None);
  EXPECT_EQ(r64, 18446742974197923840ull);
  EXPECT_EQ(ops::I64TruncF32U(r64, 18446744073709551616.0f), TrapKind::IntOverflow);
  EXPECT_EQ(ops::I64TruncF64S(r64, -9223372036854775808.0), TrapKind::None);
  EXPECT_EQ(ops::I64TruncF64S(r64, 9223372036854774784.0), TrapKind::None);
  EXPECT_EQ(r64, 9223372036854774784ull);
  EXPECT_EQ(ops::I64TruncF64S(r64, 9223372036854775808.0), TrapKind::IntOverflow);
  EXPECT_EQ(ops::I64TruncF64U(r64, 18446744073709549568.0), TrapKind::None);
  EXPECT_EQ(r64, 18446744073709549568ull);
  EXPECT_EQ(ops::I64TruncF64U(r64, 18446744073709551616.0), TrapKind::IntOverflow);
  EXPECT_EQ(ops::I64TruncF64U(r64, -0.9), TrapKind::None);
  EXPECT_EQ(r64, 0u);
  EXPECT_EQ(ops::I64TruncF64U(r64, nan64), TrapKind::InvalidConversion);
}

TEST(Numerics, SaturatingTrunc) {
  EXPECT_EQ(ops::I32TruncSatF32S(f32(kF32CanonicalNan)), 0u);
  EXPECT_EQ(ops::I32TruncSatF32S(3e9f), 0x7fffffffu);
  EXPECT_EQ(ops::I32TruncSatF32S(-3e9f), 0x80000000u);
  EXPECT_EQ(ops::I32TruncSatF32U(-5.0f), 0u);
  EXPECT_EQ(ops::I32TruncSatF32U(INFINITY), 0xffffffffu);
  EXPECT_EQ(ops::I32TruncSatF64S(-2147483648.5), 0x80000000u);
  EXPECT_EQ(ops::I32TruncSatF64U(4294967295.5), 0xffffffffu);
  EXPECT_EQ(ops::I64TruncSatF32S(-INFINITY), 0x8000000000000000ull);
  EXPECT_EQ(ops::I64TruncSatF32U(1e20f), ~0ull);
  EXPECT_EQ(ops::I64TruncSatF64S(9223372036854775808.0), 0x7fffffffffffffffull);
  EXPECT_EQ(ops::I64TruncSatF64U(-1e300), 0u);
  EXPECT_EQ(ops::I64TruncSatF64U(f64(kF64SignallingNan)), 0u);
  EXPECT_EQ(ops::I64TruncSatF64S(-1.5), ~0ull);
}

TEST(Numerics, IntToFloatRoundsOnce) {
  // 2^63 + 2^39 + 1 is just above the f32 halfway point between 2^63 and
  // 2^63 + 2^40; rounding through f64 first would land on the halfway point
  // and then round to even (down).
  uint64_t just_above_half = 0x8000008000000001ull;
  EXPECT_EQ(bits(ops::F32ConvertI64U(just_above_half)), 0x5f000001u);
  EXPECT_EQ(bits(ops::F32ConvertI64U(0x8000008000000000ull)), 0x5f000000u);  // exactly half: to even
  EXPECT_EQ(ops::F32ConvertI64U(~0ull), 18446744073709551616.0f);
  EXPECT_EQ(bits(ops::F32ConvertI64S(0x0000008000000001ull)), bits(549755813888.0f));
  EXPECT_EQ(ops::F32ConvertI64S(0x7fffff4000000001ull), 9223371487098961920.0f);
  EXPECT_EQ(ops::F32ConvertI32S(0x80000000u), -2147483648.0f);
  EXPECT_EQ(ops::F32ConvertI32U(0xffffffffu), 4294967296.0f);
  EXPECT_EQ(ops::F32ConvertI32S(16777217), 16777216.0f);
  EXPECT_EQ(ops::F64ConvertI64U(~0ull), 18446744073709551616.0);
  EXPECT_EQ(ops::F64ConvertI64U(0x8000000000000401ull), 9223372036854777856.0);
  EXPECT_EQ(ops::F64ConvertI64S(0x8000000000000000ull), -9223372036854775808.0);
  EXPECT_EQ(ops::F64ConvertI32U(0x80000000u), 2147483648.0);
  EXPECT_EQ(ops::F64ConvertI32S(0xffffffffu), -1.0);
}

TEST(Numerics, DemotePromote) {
  EXPECT_EQ(ops::F32DemoteF64(1e300), INFINITY);
  EXPECT_EQ(ops::F32DemoteF64(0x1.fffffefffffffp+127), 0x1.fffffep+127f);
  EXPECT_EQ(bits(ops::F32DemoteF64(-0.0)), bits(-0.0f));
  EXPECT_EQ(bits(ops::F32DemoteF64(f64(kF64CanonicalNan))), kF32CanonicalNan);
  EXPECT_EQ(bits(ops::F32DemoteF64(f64(0xfff8000000000000ull))), 0xffc00000u);
  EXPECT_TRUE(is_arithmetic_nan(ops::F32DemoteF64(f64(kF64SignallingNan))));
  EXPECT_EQ(bits(ops::F64PromoteF32(f32(kF32CanonicalNan))), kF64CanonicalNan);
  EXPECT_TRUE(is_arithmetic_nan(ops::F64PromoteF32(f32(kF32SignallingNan))));
  EXPECT_EQ(ops::F64PromoteF32(0x1p-149f), 0x1p-149);
}

TEST(Numerics, Reinterpret) {
  EXPECT_EQ(ops::I32ReinterpretF32(f32(kF32SignallingNan)), kF32SignallingNan);
  EXPECT_EQ(bits(ops::F32ReinterpretI32(0xffa00001u)), 0xffa00001u);
  EXPECT_EQ(ops::I64ReinterpretF64(-0.0), 0x8000000000000000ull);
  EXPECT_EQ(bits(ops::F64ReinterpretI64(kF64SignallingNan)), kF64SignallingNan);
}

TEST(Numerics, LoadsAndStores) {
  uint8_t mem[16] = {0x80, 0xff, 0x7f, 0x01, 0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(ops::I32Load8S(mem), 0xffffff80u);
  EXPECT_EQ(ops::I32Load8U(mem), 0x80u);
  EXPECT_EQ(ops::I32Load16S(mem), 0xffffff80u);
  EXPECT_EQ(ops::I32Load16U(mem), 0xff80u);
  EXPECT_EQ(ops::I32Load(mem), 0x017fff80u);
  EXPECT_EQ(ops::I64Load32S(mem + 4), ~1ull);
  EXPECT_EQ(ops::I64Load32U(mem + 4), 0xfffffffeull);
  EXPECT_EQ(ops::I64Load16S(mem + 1), 0x7fffull);
  EXPECT_EQ(ops::I64Load8S(mem + 1), ~0ull);
  EXPECT_EQ(ops::I64Load(mem), 0xfffffffe017fff80ull);

  ops::I64Store32(mem + 8, 0x1122334455667788ull);
  EXPECT_EQ(ops::I64Load(mem + 8), 0x55667788ull);
  ops::I32Store8(mem + 8, 0xabcd);
  EXPECT_EQ(mem[8], 0xcd);
  EXPECT_EQ(mem[9], 0x77);
  ops::I64Store16(mem + 12, 0xffff1234ull);
  EXPECT_EQ(ops::I32Load16U(mem + 12), 0x1234u);
  ops::F32Store(mem, f32(kF32SignallingNan));
  EXPECT_EQ(ops::I32Load(mem), kF32SignallingNan);
  EXPECT_EQ(bits(ops::F32Load(mem)), kF32SignallingNan);
  ops::F64Store(mem + 8, f64(kF64SignallingNan));
  EXPECT_EQ(bits(ops::F64Load(mem + 8)), kF64SignallingNan);
}

}  // namespace
}  // namespace skiff::interp

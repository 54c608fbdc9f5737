// Scalar semantics of every Pure/Trap opcode outside the 0xFD prefix, plus
// scalar loads and stores: one inline function per opcode, named as in
// opcodes.def. Exact WebAssembly semantics, independent of the host's
// rounding-mode state (beyond the default round-to-nearest-even) and of
// compiler flags such as FMA contraction (the build uses -ffp-contract=off).
//
// Types by signature letter: i→uint32_t, l→uint64_t, f→float, d→double.
// f32/f64 are passed as float/double: on x86-64 and AArch64 they travel in
// vector registers, which keep NaN payloads bit-exact.
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>

#include "skiff/trap.h"

namespace skiff::interp {

// The function-pointer type of an ops:: function without `noexcept`, so the
// handler generators (tier 0, and tier 2's fallback wrappers) need one
// specialisation per signature shape.
template <typename F>
struct PlainSignatureOf { using type = F; };
template <typename R, typename... A>
struct PlainSignatureOf<R (*)(A...) noexcept> { using type = R (*)(A...); };
template <auto F>
using OpSignature = typename PlainSignatureOf<decltype(F)>::type;

}  // namespace skiff::interp

namespace skiff::interp::ops {

#define SKIFF_OPS_INLINE [[gnu::always_inline]] inline

// ---- helpers ---------------------------------------------------------------

namespace detail {
SKIFF_OPS_INLINE uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }
SKIFF_OPS_INLINE uint64_t bits(double x) { return std::bit_cast<uint64_t>(x); }
SKIFF_OPS_INLINE float f32_of(uint32_t b) { return std::bit_cast<float>(b); }
SKIFF_OPS_INLINE double f64_of(uint64_t b) { return std::bit_cast<double>(b); }
SKIFF_OPS_INLINE bool is_nan(float x) { return x != x; }
SKIFF_OPS_INLINE bool is_nan(double x) { return x != x; }

// Rounding to an integral value without libm: adding and subtracting 2^(p-1)
// rounds to nearest-even in the default mode; values at or beyond 2^(p-1)
// are already integral. NaNs are quieted by `x + x` (the spec demands an
// arithmetic NaN, never a signalling one).
template <typename F, typename U, int kMantBits>
SKIFF_OPS_INLINE F nearest(F x) {
  constexpr F kTwoP = static_cast<F>(U{1} << kMantBits);
  if (is_nan(x)) return x + x;
  F a = x < 0 ? -x : x;
  if (!(a < kTwoP)) return x;  // integral or infinite
  // Without -ffast-math the compiler may not fold (a + c) - c into a.
  F r = (a + kTwoP) - kTwoP;
  // Restore the sign, which also keeps -0.5 → -0.
  U rb = std::bit_cast<U>(r) | (std::bit_cast<U>(x) & (U{1} << (sizeof(U) * 8 - 1)));
  return std::bit_cast<F>(rb);
}

template <typename F, typename U, int kMantBits>
SKIFF_OPS_INLINE F trunc(F x) {
  constexpr F kTwoP = static_cast<F>(U{1} << kMantBits);
  if (is_nan(x)) return x + x;
  F a = x < 0 ? -x : x;
  if (!(a < kTwoP)) return x;
  F r = nearest<F, U, kMantBits>(a);
  if (r > a) r -= F(1);  // rounded up: step back toward zero
  U rb = std::bit_cast<U>(r) | (std::bit_cast<U>(x) & (U{1} << (sizeof(U) * 8 - 1)));
  return std::bit_cast<F>(rb);
}

template <typename F, typename U, int kMantBits>
SKIFF_OPS_INLINE F floor(F x) {
  if (is_nan(x)) return x + x;
  F t = trunc<F, U, kMantBits>(x);
  if (t > x) return t - F(1);  // negative non-integer; never produces -0 wrongly
  return t;
}

template <typename F, typename U, int kMantBits>
SKIFF_OPS_INLINE F ceil(F x) {
  if (is_nan(x)) return x + x;
  F t = trunc<F, U, kMantBits>(x);
  // ceil(-0.5) is -0: trunc gives -0 there, which is not below x.
  if (t < x) return t + F(1);
  return t;
}

template <typename F, typename U>
SKIFF_OPS_INLINE F fmin(F a, F b) {
  if (is_nan(a) || is_nan(b)) return a + b;  // propagates a quieted input NaN
  if (a == b) return std::bit_cast<F>(std::bit_cast<U>(a) | std::bit_cast<U>(b));  // -0 wins
  return a < b ? a : b;
}

template <typename F, typename U>
SKIFF_OPS_INLINE F fmax(F a, F b) {
  if (is_nan(a) || is_nan(b)) return a + b;
  if (a == b) return std::bit_cast<F>(std::bit_cast<U>(a) & std::bit_cast<U>(b));  // +0 wins
  return a > b ? a : b;
}

template <typename T>
SKIFF_OPS_INLINE T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
SKIFF_OPS_INLINE void store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}
}  // namespace detail

// ---- i32 -------------------------------------------------------------------

SKIFF_OPS_INLINE uint32_t I32Eqz(uint32_t a) { return a == 0; }
SKIFF_OPS_INLINE uint32_t I32Eq(uint32_t a, uint32_t b) { return a == b; }
SKIFF_OPS_INLINE uint32_t I32Ne(uint32_t a, uint32_t b) { return a != b; }
SKIFF_OPS_INLINE uint32_t I32LtS(uint32_t a, uint32_t b) { return int32_t(a) < int32_t(b); }
SKIFF_OPS_INLINE uint32_t I32LtU(uint32_t a, uint32_t b) { return a < b; }
SKIFF_OPS_INLINE uint32_t I32GtS(uint32_t a, uint32_t b) { return int32_t(a) > int32_t(b); }
SKIFF_OPS_INLINE uint32_t I32GtU(uint32_t a, uint32_t b) { return a > b; }
SKIFF_OPS_INLINE uint32_t I32LeS(uint32_t a, uint32_t b) { return int32_t(a) <= int32_t(b); }
SKIFF_OPS_INLINE uint32_t I32LeU(uint32_t a, uint32_t b) { return a <= b; }
SKIFF_OPS_INLINE uint32_t I32GeS(uint32_t a, uint32_t b) { return int32_t(a) >= int32_t(b); }
SKIFF_OPS_INLINE uint32_t I32GeU(uint32_t a, uint32_t b) { return a >= b; }

SKIFF_OPS_INLINE uint32_t I32Clz(uint32_t a) { return std::countl_zero(a); }
SKIFF_OPS_INLINE uint32_t I32Ctz(uint32_t a) { return std::countr_zero(a); }
SKIFF_OPS_INLINE uint32_t I32Popcnt(uint32_t a) { return std::popcount(a); }
SKIFF_OPS_INLINE uint32_t I32Add(uint32_t a, uint32_t b) { return a + b; }
SKIFF_OPS_INLINE uint32_t I32Sub(uint32_t a, uint32_t b) { return a - b; }
SKIFF_OPS_INLINE uint32_t I32Mul(uint32_t a, uint32_t b) { return a * b; }

SKIFF_OPS_INLINE TrapKind I32DivS(uint32_t& out, uint32_t a, uint32_t b) {
  if (b == 0) [[unlikely]] return TrapKind::IntDivideByZero;
  if (a == 0x80000000u && b == 0xffffffffu) [[unlikely]] return TrapKind::IntOverflow;
  out = uint32_t(int32_t(a) / int32_t(b));
  return TrapKind::None;
}
SKIFF_OPS_INLINE TrapKind I32DivU(uint32_t& out, uint32_t a, uint32_t b) {
  if (b == 0) [[unlikely]] return TrapKind::IntDivideByZero;
  out = a / b;
  return TrapKind::None;
}
SKIFF_OPS_INLINE TrapKind I32RemS(uint32_t& out, uint32_t a, uint32_t b) {
  if (b == 0) [[unlikely]] return TrapKind::IntDivideByZero;
  // INT_MIN % -1 overflows in C++ (and faults on x86); the wasm answer is 0.
  out = b == 0xffffffffu ? 0 : uint32_t(int32_t(a) % int32_t(b));
  return TrapKind::None;
}
SKIFF_OPS_INLINE TrapKind I32RemU(uint32_t& out, uint32_t a, uint32_t b) {
  if (b == 0) [[unlikely]] return TrapKind::IntDivideByZero;
  out = a % b;
  return TrapKind::None;
}

SKIFF_OPS_INLINE uint32_t I32And(uint32_t a, uint32_t b) { return a & b; }
SKIFF_OPS_INLINE uint32_t I32Or(uint32_t a, uint32_t b) { return a | b; }
SKIFF_OPS_INLINE uint32_t I32Xor(uint32_t a, uint32_t b) { return a ^ b; }
SKIFF_OPS_INLINE uint32_t I32Shl(uint32_t a, uint32_t b) { return a << (b & 31); }
SKIFF_OPS_INLINE uint32_t I32ShrS(uint32_t a, uint32_t b) { return uint32_t(int32_t(a) >> (b & 31)); }
SKIFF_OPS_INLINE uint32_t I32ShrU(uint32_t a, uint32_t b) { return a >> (b & 31); }
SKIFF_OPS_INLINE uint32_t I32Rotl(uint32_t a, uint32_t b) { return std::rotl(a, int(b & 31)); }
SKIFF_OPS_INLINE uint32_t I32Rotr(uint32_t a, uint32_t b) { return std::rotr(a, int(b & 31)); }

// ---- i64 -------------------------------------------------------------------

SKIFF_OPS_INLINE uint32_t I64Eqz(uint64_t a) { return a == 0; }
SKIFF_OPS_INLINE uint32_t I64Eq(uint64_t a, uint64_t b) { return a == b; }
SKIFF_OPS_INLINE uint32_t I64Ne(uint64_t a, uint64_t b) { return a != b; }
SKIFF_OPS_INLINE uint32_t I64LtS(uint64_t a, uint64_t b) { return int64_t(a) < int64_t(b); }
SKIFF_OPS_INLINE uint32_t I64LtU(uint64_t a, uint64_t b) { return a < b; }
SKIFF_OPS_INLINE uint32_t I64GtS(uint64_t a, uint64_t b) { return int64_t(a) > int64_t(b); }
SKIFF_OPS_INLINE uint32_t I64GtU(uint64_t a, uint64_t b) { return a > b; }
SKIFF_OPS_INLINE uint32_t I64LeS(uint64_t a, uint64_t b) { return int64_t(a) <= int64_t(b); }
SKIFF_OPS_INLINE uint32_t I64LeU(uint64_t a, uint64_t b) { return a <= b; }
SKIFF_OPS_INLINE uint32_t I64GeS(uint64_t a, uint64_t b) { return int64_t(a) >= int64_t(b); }
SKIFF_OPS_INLINE uint32_t I64GeU(uint64_t a, uint64_t b) { return a >= b; }

SKIFF_OPS_INLINE uint64_t I64Clz(uint64_t a) { return std::countl_zero(a); }
SKIFF_OPS_INLINE uint64_t I64Ctz(uint64_t a) { return std::countr_zero(a); }
SKIFF_OPS_INLINE uint64_t I64Popcnt(uint64_t a) { return std::popcount(a); }
SKIFF_OPS_INLINE uint64_t I64Add(uint64_t a, uint64_t b) { return a + b; }
SKIFF_OPS_INLINE uint64_t I64Sub(uint64_t a, uint64_t b) { return a - b; }
SKIFF_OPS_INLINE uint64_t I64Mul(uint64_t a, uint64_t b) { return a * b; }

SKIFF_OPS_INLINE TrapKind I64DivS(uint64_t& out, uint64_t a, uint64_t b) {
  if (b == 0) [[unlikely]] return TrapKind::IntDivideByZero;
  if (a == 0x8000000000000000ull && b == ~0ull) [[unlikely]] return TrapKind::IntOverflow;
  out = uint64_t(int64_t(a) / int64_t(b));
  return TrapKind::None;
}
SKIFF_OPS_INLINE TrapKind I64DivU(uint64_t& out, uint64_t a, uint64_t b) {
  if (b == 0) [[unlikely]] return TrapKind::IntDivideByZero;
  out = a / b;
  return TrapKind::None;
}
SKIFF_OPS_INLINE TrapKind I64RemS(uint64_t& out, uint64_t a, uint64_t b) {
  if (b == 0) [[unlikely]] return TrapKind::IntDivideByZero;
  out = b == ~0ull ? 0 : uint64_t(int64_t(a) % int64_t(b));
  return TrapKind::None;
}
SKIFF_OPS_INLINE TrapKind I64RemU(uint64_t& out, uint64_t a, uint64_t b) {
  if (b == 0) [[unlikely]] return TrapKind::IntDivideByZero;
  out = a % b;
  return TrapKind::None;
}

SKIFF_OPS_INLINE uint64_t I64And(uint64_t a, uint64_t b) { return a & b; }
SKIFF_OPS_INLINE uint64_t I64Or(uint64_t a, uint64_t b) { return a | b; }
SKIFF_OPS_INLINE uint64_t I64Xor(uint64_t a, uint64_t b) { return a ^ b; }
SKIFF_OPS_INLINE uint64_t I64Shl(uint64_t a, uint64_t b) { return a << (b & 63); }
SKIFF_OPS_INLINE uint64_t I64ShrS(uint64_t a, uint64_t b) { return uint64_t(int64_t(a) >> (b & 63)); }
SKIFF_OPS_INLINE uint64_t I64ShrU(uint64_t a, uint64_t b) { return a >> (b & 63); }
SKIFF_OPS_INLINE uint64_t I64Rotl(uint64_t a, uint64_t b) { return std::rotl(a, int(b & 63)); }
SKIFF_OPS_INLINE uint64_t I64Rotr(uint64_t a, uint64_t b) { return std::rotr(a, int(b & 63)); }

// ---- f32 / f64 comparisons --------------------------------------------------

SKIFF_OPS_INLINE uint32_t F32Eq(float a, float b) { return a == b; }
SKIFF_OPS_INLINE uint32_t F32Ne(float a, float b) { return a != b; }
SKIFF_OPS_INLINE uint32_t F32Lt(float a, float b) { return a < b; }
SKIFF_OPS_INLINE uint32_t F32Gt(float a, float b) { return a > b; }
SKIFF_OPS_INLINE uint32_t F32Le(float a, float b) { return a <= b; }
SKIFF_OPS_INLINE uint32_t F32Ge(float a, float b) { return a >= b; }
SKIFF_OPS_INLINE uint32_t F64Eq(double a, double b) { return a == b; }
SKIFF_OPS_INLINE uint32_t F64Ne(double a, double b) { return a != b; }
SKIFF_OPS_INLINE uint32_t F64Lt(double a, double b) { return a < b; }
SKIFF_OPS_INLINE uint32_t F64Gt(double a, double b) { return a > b; }
SKIFF_OPS_INLINE uint32_t F64Le(double a, double b) { return a <= b; }
SKIFF_OPS_INLINE uint32_t F64Ge(double a, double b) { return a >= b; }

// ---- f32 arithmetic ------------------------------------------------------

// abs/neg/copysign only touch the sign bit, so NaN payloads survive.
SKIFF_OPS_INLINE float F32Abs(float a) { return detail::f32_of(detail::bits(a) & 0x7fffffffu); }
SKIFF_OPS_INLINE float F32Neg(float a) { return detail::f32_of(detail::bits(a) ^ 0x80000000u); }
SKIFF_OPS_INLINE float F32Ceil(float a) { return detail::ceil<float, uint32_t, 23>(a); }
SKIFF_OPS_INLINE float F32Floor(float a) { return detail::floor<float, uint32_t, 23>(a); }
SKIFF_OPS_INLINE float F32Trunc(float a) { return detail::trunc<float, uint32_t, 23>(a); }
SKIFF_OPS_INLINE float F32Nearest(float a) { return detail::nearest<float, uint32_t, 23>(a); }
SKIFF_OPS_INLINE float F32Sqrt(float a) { return __builtin_sqrtf(a); }
SKIFF_OPS_INLINE float F32Add(float a, float b) { return a + b; }
SKIFF_OPS_INLINE float F32Sub(float a, float b) { return a - b; }
SKIFF_OPS_INLINE float F32Mul(float a, float b) { return a * b; }
SKIFF_OPS_INLINE float F32Div(float a, float b) { return a / b; }
SKIFF_OPS_INLINE float F32Min(float a, float b) { return detail::fmin<float, uint32_t>(a, b); }
SKIFF_OPS_INLINE float F32Max(float a, float b) { return detail::fmax<float, uint32_t>(a, b); }
SKIFF_OPS_INLINE float F32Copysign(float a, float b) {
  return detail::f32_of((detail::bits(a) & 0x7fffffffu) | (detail::bits(b) & 0x80000000u));
}

// ---- f64 arithmetic ------------------------------------------------------

SKIFF_OPS_INLINE double F64Abs(double a) { return detail::f64_of(detail::bits(a) & 0x7fffffffffffffffull); }
SKIFF_OPS_INLINE double F64Neg(double a) { return detail::f64_of(detail::bits(a) ^ 0x8000000000000000ull); }
SKIFF_OPS_INLINE double F64Ceil(double a) { return detail::ceil<double, uint64_t, 52>(a); }
SKIFF_OPS_INLINE double F64Floor(double a) { return detail::floor<double, uint64_t, 52>(a); }
SKIFF_OPS_INLINE double F64Trunc(double a) { return detail::trunc<double, uint64_t, 52>(a); }
SKIFF_OPS_INLINE double F64Nearest(double a) { return detail::nearest<double, uint64_t, 52>(a); }
SKIFF_OPS_INLINE double F64Sqrt(double a) { return __builtin_sqrt(a); }
SKIFF_OPS_INLINE double F64Add(double a, double b) { return a + b; }
SKIFF_OPS_INLINE double F64Sub(double a, double b) { return a - b; }
SKIFF_OPS_INLINE double F64Mul(double a, double b) { return a * b; }
SKIFF_OPS_INLINE double F64Div(double a, double b) { return a / b; }
SKIFF_OPS_INLINE double F64Min(double a, double b) { return detail::fmin<double, uint64_t>(a, b); }
SKIFF_OPS_INLINE double F64Max(double a, double b) { return detail::fmax<double, uint64_t>(a, b); }
SKIFF_OPS_INLINE double F64Copysign(double a, double b) {
  return detail::f64_of((detail::bits(a) & 0x7fffffffffffffffull) | (detail::bits(b) & 0x8000000000000000ull));
}

// ---- conversions -----------------------------------------------------------

SKIFF_OPS_INLINE uint32_t I32WrapI64(uint64_t a) { return uint32_t(a); }
SKIFF_OPS_INLINE uint64_t I64ExtendI32S(uint32_t a) { return uint64_t(int64_t(int32_t(a))); }
SKIFF_OPS_INLINE uint64_t I64ExtendI32U(uint32_t a) { return a; }

// Trapping truncations. Each range is open or closed exactly where the bound
// is (or is not) itself a valid result; all bounds are exact in the source
// type. NaN fails every comparison and so lands in the invalid branch.
#define SKIFF_TRUNC(Name, Out, In, Cast, lo_ok, hi_ok)         \
  SKIFF_OPS_INLINE TrapKind Name(Out& out, In a) {             \
    if (!(lo_ok && hi_ok)) [[unlikely]]                        \
      return a != a ? TrapKind::InvalidConversion : TrapKind::IntOverflow; \
    out = Out(Cast(a));                                        \
    return TrapKind::None;                                     \
  }
SKIFF_TRUNC(I32TruncF32S, uint32_t, float, int32_t, a >= -2147483648.0f, a < 2147483648.0f)
SKIFF_TRUNC(I32TruncF32U, uint32_t, float, uint32_t, a > -1.0f, a < 4294967296.0f)
SKIFF_TRUNC(I32TruncF64S, uint32_t, double, int32_t, a > -2147483649.0, a < 2147483648.0)
SKIFF_TRUNC(I32TruncF64U, uint32_t, double, uint32_t, a > -1.0, a < 4294967296.0)
SKIFF_TRUNC(I64TruncF32S, uint64_t, float, int64_t, a >= -9223372036854775808.0f, a < 9223372036854775808.0f)
SKIFF_TRUNC(I64TruncF32U, uint64_t, float, uint64_t, a > -1.0f, a < 18446744073709551616.0f)
SKIFF_TRUNC(I64TruncF64S, uint64_t, double, int64_t, a >= -9223372036854775808.0, a < 9223372036854775808.0)
SKIFF_TRUNC(I64TruncF64U, uint64_t, double, uint64_t, a > -1.0, a < 18446744073709551616.0)
#undef SKIFF_TRUNC

// Saturating truncations: NaN → 0, out of range → the nearest bound.
#define SKIFF_TRUNC_SAT(Name, Out, In, Cast, lo_ok, hi_ok, lo_val, hi_val) \
  SKIFF_OPS_INLINE Out Name(In a) {                                        \
    if (a != a) [[unlikely]] return 0;                                     \
    if (!(lo_ok)) [[unlikely]] return Out(lo_val);                         \
    if (!(hi_ok)) [[unlikely]] return Out(hi_val);                         \
    return Out(Cast(a));                                                   \
  }
SKIFF_TRUNC_SAT(I32TruncSatF32S, uint32_t, float, int32_t, a >= -2147483648.0f, a < 2147483648.0f,
                0x80000000u, 0x7fffffffu)
SKIFF_TRUNC_SAT(I32TruncSatF32U, uint32_t, float, uint32_t, a > -1.0f, a < 4294967296.0f, 0u, 0xffffffffu)
SKIFF_TRUNC_SAT(I32TruncSatF64S, uint32_t, double, int32_t, a > -2147483649.0, a < 2147483648.0,
                0x80000000u, 0x7fffffffu)
SKIFF_TRUNC_SAT(I32TruncSatF64U, uint32_t, double, uint32_t, a > -1.0, a < 4294967296.0, 0u, 0xffffffffu)
SKIFF_TRUNC_SAT(I64TruncSatF32S, uint64_t, float, int64_t, a >= -9223372036854775808.0f,
                a < 9223372036854775808.0f, 0x8000000000000000ull, 0x7fffffffffffffffull)
SKIFF_TRUNC_SAT(I64TruncSatF32U, uint64_t, float, uint64_t, a > -1.0f, a < 18446744073709551616.0f, 0ull, ~0ull)
SKIFF_TRUNC_SAT(I64TruncSatF64S, uint64_t, double, int64_t, a >= -9223372036854775808.0,
                a < 9223372036854775808.0, 0x8000000000000000ull, 0x7fffffffffffffffull)
SKIFF_TRUNC_SAT(I64TruncSatF64U, uint64_t, double, uint64_t, a > -1.0, a < 18446744073709551616.0, 0ull, ~0ull)
#undef SKIFF_TRUNC_SAT

// Integer → float conversions round once, to nearest-even. The C++ casts do
// exactly that (GCC converts u64 with the halve-and-keep-sticky-bit
// sequence, never through double, so there is no double rounding).
SKIFF_OPS_INLINE float F32ConvertI32S(uint32_t a) { return float(int32_t(a)); }
SKIFF_OPS_INLINE float F32ConvertI32U(uint32_t a) { return float(a); }
SKIFF_OPS_INLINE float F32ConvertI64S(uint64_t a) { return float(int64_t(a)); }
SKIFF_OPS_INLINE float F32ConvertI64U(uint64_t a) { return float(a); }
SKIFF_OPS_INLINE double F64ConvertI32S(uint32_t a) { return double(int32_t(a)); }
SKIFF_OPS_INLINE double F64ConvertI32U(uint32_t a) { return double(a); }
SKIFF_OPS_INLINE double F64ConvertI64S(uint64_t a) { return double(int64_t(a)); }
SKIFF_OPS_INLINE double F64ConvertI64U(uint64_t a) { return double(a); }

// Hardware demote/promote quiet a NaN and keep its sign and top payload
// bits, so a canonical NaN stays canonical.
SKIFF_OPS_INLINE float F32DemoteF64(double a) { return float(a); }
SKIFF_OPS_INLINE double F64PromoteF32(float a) { return double(a); }

SKIFF_OPS_INLINE uint32_t I32ReinterpretF32(float a) { return detail::bits(a); }
SKIFF_OPS_INLINE uint64_t I64ReinterpretF64(double a) { return detail::bits(a); }
SKIFF_OPS_INLINE float F32ReinterpretI32(uint32_t a) { return detail::f32_of(a); }
SKIFF_OPS_INLINE double F64ReinterpretI64(uint64_t a) { return detail::f64_of(a); }

SKIFF_OPS_INLINE uint32_t I32Extend8S(uint32_t a) { return uint32_t(int32_t(int8_t(a))); }
SKIFF_OPS_INLINE uint32_t I32Extend16S(uint32_t a) { return uint32_t(int32_t(int16_t(a))); }
SKIFF_OPS_INLINE uint64_t I64Extend8S(uint64_t a) { return uint64_t(int64_t(int8_t(a))); }
SKIFF_OPS_INLINE uint64_t I64Extend16S(uint64_t a) { return uint64_t(int64_t(int16_t(a))); }
SKIFF_OPS_INLINE uint64_t I64Extend32S(uint64_t a) { return uint64_t(int64_t(int32_t(a))); }

// ---- scalar loads and stores (little-endian host) ----------------------------

SKIFF_OPS_INLINE uint32_t I32Load(const uint8_t* p) { return detail::load<uint32_t>(p); }
SKIFF_OPS_INLINE uint64_t I64Load(const uint8_t* p) { return detail::load<uint64_t>(p); }
SKIFF_OPS_INLINE float F32Load(const uint8_t* p) { return detail::load<float>(p); }
SKIFF_OPS_INLINE double F64Load(const uint8_t* p) { return detail::load<double>(p); }
SKIFF_OPS_INLINE uint32_t I32Load8S(const uint8_t* p) { return uint32_t(int32_t(detail::load<int8_t>(p))); }
SKIFF_OPS_INLINE uint32_t I32Load8U(const uint8_t* p) { return detail::load<uint8_t>(p); }
SKIFF_OPS_INLINE uint32_t I32Load16S(const uint8_t* p) { return uint32_t(int32_t(detail::load<int16_t>(p))); }
SKIFF_OPS_INLINE uint32_t I32Load16U(const uint8_t* p) { return detail::load<uint16_t>(p); }
SKIFF_OPS_INLINE uint64_t I64Load8S(const uint8_t* p) { return uint64_t(int64_t(detail::load<int8_t>(p))); }
SKIFF_OPS_INLINE uint64_t I64Load8U(const uint8_t* p) { return detail::load<uint8_t>(p); }
SKIFF_OPS_INLINE uint64_t I64Load16S(const uint8_t* p) { return uint64_t(int64_t(detail::load<int16_t>(p))); }
SKIFF_OPS_INLINE uint64_t I64Load16U(const uint8_t* p) { return detail::load<uint16_t>(p); }
SKIFF_OPS_INLINE uint64_t I64Load32S(const uint8_t* p) { return uint64_t(int64_t(detail::load<int32_t>(p))); }
SKIFF_OPS_INLINE uint64_t I64Load32U(const uint8_t* p) { return detail::load<uint32_t>(p); }

SKIFF_OPS_INLINE void I32Store(uint8_t* p, uint32_t v) { detail::store<uint32_t>(p, v); }
SKIFF_OPS_INLINE void I64Store(uint8_t* p, uint64_t v) { detail::store<uint64_t>(p, v); }
SKIFF_OPS_INLINE void F32Store(uint8_t* p, float v) { detail::store<float>(p, v); }
SKIFF_OPS_INLINE void F64Store(uint8_t* p, double v) { detail::store<double>(p, v); }
SKIFF_OPS_INLINE void I32Store8(uint8_t* p, uint32_t v) { detail::store<uint8_t>(p, uint8_t(v)); }
SKIFF_OPS_INLINE void I32Store16(uint8_t* p, uint32_t v) { detail::store<uint16_t>(p, uint16_t(v)); }
SKIFF_OPS_INLINE void I64Store8(uint8_t* p, uint64_t v) { detail::store<uint8_t>(p, uint8_t(v)); }
SKIFF_OPS_INLINE void I64Store16(uint8_t* p, uint64_t v) { detail::store<uint16_t>(p, uint16_t(v)); }
SKIFF_OPS_INLINE void I64Store32(uint8_t* p, uint64_t v) { detail::store<uint32_t>(p, uint32_t(v)); }

#undef SKIFF_OPS_INLINE

}  // namespace skiff::interp::ops

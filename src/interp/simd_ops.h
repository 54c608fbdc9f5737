// Exact semantics of every fixed-width SIMD (0xFD) opcode of class
// Pure/Load/Store in src/wasm/opcodes.def. One inline function per opcode,
// named like the table's first column; the interpreter generates a handler
// per opcode that calls these (see the signature conventions in opcodes.def).
//
// Implementation: GCC vector extensions where their lane semantics equal the
// spec's (wrapping unsigned arithmetic, bitwise ops, IEEE comparisons and
// basic arithmetic); SSE2 intrinsics only where the instruction's result is
// bit-identical to wasm's (saturating add/sub, packs, pmaddwd, movemask);
// per-lane loops where x86 differs (float min/max, float->int conversions).
// Define SKIFF_SIMD_PORTABLE to use the portable code everywhere.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "skiff/types.h"

#if defined(__SSE2__) && !defined(SKIFF_SIMD_PORTABLE)
#include <emmintrin.h>
#define SKIFF_SIMD_SSE2 1
#else
#define SKIFF_SIMD_SSE2 0
#endif

namespace skiff::interp::ops {

static_assert(std::endian::native == std::endian::little,
              "lane layout assumes a little-endian host (lane 0 at the lowest address)");

namespace simd_detail {

using I8 = int8_t __attribute__((vector_size(16)));
using U8 = uint8_t __attribute__((vector_size(16)));
using I16 = int16_t __attribute__((vector_size(16)));
using U16 = uint16_t __attribute__((vector_size(16)));
using I32 = int32_t __attribute__((vector_size(16)));
using U32 = uint32_t __attribute__((vector_size(16)));
using I64 = int64_t __attribute__((vector_size(16)));
using U64 = uint64_t __attribute__((vector_size(16)));
using F32 = float __attribute__((vector_size(16)));
using F64 = double __attribute__((vector_size(16)));

// V128 is only byte-aligned in memory (interpreter slots are 8-byte aligned),
// so every conversion goes through memcpy; the compiler turns it into movdqu.
template <class Vec>
inline Vec in(const V128& x) {
  Vec v;
  std::memcpy(&v, x.bytes, 16);
  return v;
}
template <class Vec>
inline V128 out(const Vec& v) {
  static_assert(sizeof(Vec) == 16);
  V128 r = {};
  std::memcpy(r.bytes, &v, 16);
  return r;
}

template <class Vec>
using Lane = std::remove_cvref_t<decltype(std::declval<Vec>()[0])>;
template <class Vec>
constexpr int kLanes = 16 / sizeof(Lane<Vec>);

template <class T>
inline T sat(int64_t v) {
  if (v < int64_t(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
  if (v > int64_t(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return T(v);
}

// Shift counts are taken modulo the lane width.
template <class Vec>
inline V128 shl(V128 a, uint32_t n) {
  return out(in<Vec>(a) << int(n & (sizeof(Lane<Vec>) * 8 - 1)));
}
template <class Vec>
inline V128 shr(V128 a, uint32_t n) {
  return out(in<Vec>(a) >> int(n & (sizeof(Lane<Vec>) * 8 - 1)));
}

template <class Vec>
inline uint32_t all_true(V128 a) {
  Vec v = in<Vec>(a);
  for (int i = 0; i < kLanes<Vec>; ++i)
    if (v[i] == 0) return 0;
  return 1;
}

template <class SVec>
inline uint32_t bitmask(V128 a) {
  SVec v = in<SVec>(a);
  uint32_t m = 0;
  for (int i = 0; i < kLanes<SVec>; ++i) m |= uint32_t(v[i] < 0) << i;
  return m;
}

template <class SVec>
inline V128 iabs(V128 a) {
  // abs(INT_MIN) wraps to INT_MIN: negate in the unsigned type.
  using S = Lane<SVec>;
  using U = std::make_unsigned_t<S>;
  SVec v = in<SVec>(a);
  SVec r = {};
  for (int i = 0; i < kLanes<SVec>; ++i) r[i] = v[i] < 0 ? S(U(0) - U(v[i])) : v[i];
  return out(r);
}

// Narrow two vectors of signed wide lanes into one of narrow lanes with
// saturation to the narrow (signed or unsigned) range; a's lanes come first.
template <class WideVec, class NarrowVec>
inline V128 narrow(V128 a, V128 b) {
  using N = Lane<NarrowVec>;
  constexpr int kHalf = kLanes<WideVec>;
  WideVec x = in<WideVec>(a), y = in<WideVec>(b);
  NarrowVec r = {};
  for (int i = 0; i < kHalf; ++i) {
    r[i] = sat<N>(x[i]);
    r[i + kHalf] = sat<N>(y[i]);
  }
  return out(r);
}

// Widen half of the source lanes (low half when high == false).
template <class SrcVec, class DstVec>
inline V128 extend(V128 a, bool high) {
  using D = Lane<DstVec>;
  constexpr int kN = kLanes<DstVec>;
  SrcVec v = in<SrcVec>(a);
  DstVec r = {};
  const int base = high ? kN : 0;
  for (int i = 0; i < kN; ++i) r[i] = D(v[base + i]);
  return out(r);
}

template <class SrcVec, class DstVec>
inline V128 extadd_pairwise(V128 a) {
  using D = Lane<DstVec>;
  SrcVec v = in<SrcVec>(a);
  DstVec r = {};
  for (int i = 0; i < kLanes<DstVec>; ++i) r[i] = D(D(v[2 * i]) + D(v[2 * i + 1]));
  return out(r);
}

// Products of widened lanes always fit the destination lane; compute them
// in int64_t/uint64_t to avoid promotion-to-int overflow.
template <class SrcVec, class DstVec>
inline V128 extmul(V128 a, V128 b, bool high) {
  using D = Lane<DstVec>;
  using W = std::conditional_t<std::is_signed_v<D>, int64_t, uint64_t>;
  constexpr int kN = kLanes<DstVec>;
  SrcVec x = in<SrcVec>(a), y = in<SrcVec>(b);
  DstVec r = {};
  const int base = high ? kN : 0;
  for (int i = 0; i < kN; ++i) r[i] = D(W(x[base + i]) * W(y[base + i]));
  return out(r);
}

template <class UVec>
inline V128 avgr(V128 a, V128 b) {
  using U = Lane<UVec>;
  UVec x = in<UVec>(a), y = in<UVec>(b);
  UVec r = {};
  for (int i = 0; i < kLanes<UVec>; ++i) r[i] = U((uint32_t(x[i]) + uint32_t(y[i]) + 1) >> 1);
  return out(r);
}

template <class Vec>
inline V128 add_sat(V128 a, V128 b) {
  using T = Lane<Vec>;
  Vec x = in<Vec>(a), y = in<Vec>(b);
  Vec r = {};
  for (int i = 0; i < kLanes<Vec>; ++i) r[i] = sat<T>(int64_t(x[i]) + int64_t(y[i]));
  return out(r);
}
template <class Vec>
inline V128 sub_sat(V128 a, V128 b) {
  using T = Lane<Vec>;
  Vec x = in<Vec>(a), y = in<Vec>(b);
  Vec r = {};
  for (int i = 0; i < kLanes<Vec>; ++i) r[i] = sat<T>(int64_t(x[i]) - int64_t(y[i]));
  return out(r);
}

template <class Vec>
inline V128 vmin(V128 a, V128 b) {
  Vec x = in<Vec>(a), y = in<Vec>(b);
  return out(y < x ? y : x);
}
template <class Vec>
inline V128 vmax(V128 a, V128 b) {
  Vec x = in<Vec>(a), y = in<Vec>(b);
  return out(x < y ? y : x);
}

// --- floats ---------------------------------------------------------------

template <class F>
using Bits = std::conditional_t<sizeof(F) == 4, uint32_t, uint64_t>;

// wasm min/max: any NaN operand gives a NaN (a + b propagates a quieted input
// payload, so canonical inputs stay canonical); -0 is below +0.
template <class F>
inline F wasm_fmin(F a, F b) {
  if (a != a || b != b) return a + b;
  if (a == b) return std::bit_cast<F>(Bits<F>(std::bit_cast<Bits<F>>(a) | std::bit_cast<Bits<F>>(b)));
  return a < b ? a : b;
}
template <class F>
inline F wasm_fmax(F a, F b) {
  if (a != a || b != b) return a + b;
  if (a == b) return std::bit_cast<F>(Bits<F>(std::bit_cast<Bits<F>>(a) & std::bit_cast<Bits<F>>(b)));
  return a > b ? a : b;
}

// GCC inlines ceil/floor/trunc as SSE2 bit tricks that pass a signalling
// NaN through unchanged; wasm wants it quieted (an arithmetic NaN).
template <class F> inline F wasm_ceil(F x) { return x != x ? x + x : std::ceil(x); }
template <class F> inline F wasm_floor(F x) { return x != x ? x + x : std::floor(x); }
template <class F> inline F wasm_trunc(F x) { return x != x ? x + x : std::trunc(x); }
// nearbyint under the default rounding mode rounds ties to even.
template <class F> inline F wasm_nearest(F x) { return x != x ? x + x : std::nearbyint(x); }
template <class F> inline F wasm_sqrt(F x) { return std::sqrt(x); }

template <class FVec, class Fn>
inline V128 fmap1(V128 a, Fn fn) {
  FVec v = in<FVec>(a);
  FVec r = {};
  for (int i = 0; i < kLanes<FVec>; ++i) r[i] = fn(v[i]);
  return out(r);
}
template <class FVec, class Fn>
inline V128 fmap2(V128 a, V128 b, Fn fn) {
  FVec x = in<FVec>(a), y = in<FVec>(b);
  FVec r = {};
  for (int i = 0; i < kLanes<FVec>; ++i) r[i] = fn(x[i], y[i]);
  return out(r);
}

// Saturating float -> int truncation: NaN -> 0, out of range -> the bound.
// The bounds are powers of two, so they are exact in both float and double.
template <class F>
inline int32_t trunc_sat_s32(F x) {
  if (x != x) return 0;
  if (x >= F(2147483648.0)) return std::numeric_limits<int32_t>::max();
  if (x < F(-2147483648.0)) return std::numeric_limits<int32_t>::min();
  return int32_t(x);
}
template <class F>
inline uint32_t trunc_sat_u32(F x) {
  if (!(x > F(-1.0))) return 0;  // also NaN
  if (x >= F(4294967296.0)) return std::numeric_limits<uint32_t>::max();
  return uint32_t(x);
}

template <class SrcLane, class DstVec>
inline V128 load_extend(const uint8_t* p) {
  constexpr int kN = kLanes<DstVec>;
  SrcLane src[kN];
  std::memcpy(src, p, sizeof src);
  DstVec r = {};
  for (int i = 0; i < kN; ++i) r[i] = src[i];
  return out(r);
}

template <class T>
inline V128 splat(T x) {
  V128 r = {};
  for (size_t i = 0; i < 16; i += sizeof(T)) std::memcpy(r.bytes + i, &x, sizeof(T));
  return r;
}

template <class T>
inline V128 load_zero(const uint8_t* p) {
  V128 r = V128::zero();
  std::memcpy(r.bytes, p, sizeof(T));
  return r;
}

// Lane indices are validated; the mask only keeps a bad index in bounds.
template <class T>
inline T get_lane(const V128& v, uint32_t lane) {
  T x;
  std::memcpy(&x, v.bytes + (lane & (16 / sizeof(T) - 1)) * sizeof(T), sizeof(T));
  return x;
}
template <class T>
inline V128 set_lane(V128 v, uint32_t lane, T x) {
  std::memcpy(v.bytes + (lane & (16 / sizeof(T) - 1)) * sizeof(T), &x, sizeof(T));
  return v;
}

template <size_t kWidth>
inline V128 load_lane(const uint8_t* p, V128 v, uint32_t lane) {
  std::memcpy(v.bytes + (lane & (16 / kWidth - 1)) * kWidth, p, kWidth);
  return v;
}
template <size_t kWidth>
inline void store_lane(uint8_t* p, const V128& v, uint32_t lane) {
  std::memcpy(p, v.bytes + (lane & (16 / kWidth - 1)) * kWidth, kWidth);
}

#if SKIFF_SIMD_SSE2
inline __m128i m(const V128& x) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.bytes)); }
inline V128 v(__m128i x) {
  V128 r;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(r.bytes), x);
  return r;
}
#if defined(__x86_64__) && defined(__GNUC__)
// Byte shuffles dominate auto-vectorised widening code. SSE2 has no byte
// shuffle; SSSE3's pshufb is used through inline asm (the build targets
// baseline x86-64) when the CPU has it, picked once at start-up.
inline const bool kHasPshufb = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("ssse3") != 0;
}();
// pshufb: r[i] = mask[i] & 0x80 ? 0 : x[mask[i] & 15].
inline __m128i pshufb(__m128i x, __m128i mask) {
  asm("pshufb %1, %0" : "+x"(x) : "x"(mask));
  return x;
}
#define SKIFF_SIMD_PSHUFB 1
#endif
#endif
#ifndef SKIFF_SIMD_PSHUFB
#define SKIFF_SIMD_PSHUFB 0
#endif

}  // namespace simd_detail

// NOLINTBEGIN(readability-identifier-naming): names follow opcodes.def.
namespace sd = simd_detail;

// --- memory ---------------------------------------------------------------

inline V128 V128Load(const uint8_t* p) {
  V128 r = {};
  std::memcpy(r.bytes, p, 16);
  return r;
}
inline V128 V128Load8x8S(const uint8_t* p) { return sd::load_extend<int8_t, sd::I16>(p); }
inline V128 V128Load8x8U(const uint8_t* p) { return sd::load_extend<uint8_t, sd::U16>(p); }
inline V128 V128Load16x4S(const uint8_t* p) { return sd::load_extend<int16_t, sd::I32>(p); }
inline V128 V128Load16x4U(const uint8_t* p) { return sd::load_extend<uint16_t, sd::U32>(p); }
inline V128 V128Load32x2S(const uint8_t* p) { return sd::load_extend<int32_t, sd::I64>(p); }
inline V128 V128Load32x2U(const uint8_t* p) { return sd::load_extend<uint32_t, sd::U64>(p); }
inline V128 V128Load8Splat(const uint8_t* p) { return sd::splat(p[0]); }
inline V128 V128Load16Splat(const uint8_t* p) { uint16_t x; std::memcpy(&x, p, 2); return sd::splat(x); }
inline V128 V128Load32Splat(const uint8_t* p) { uint32_t x; std::memcpy(&x, p, 4); return sd::splat(x); }
inline V128 V128Load64Splat(const uint8_t* p) { uint64_t x; std::memcpy(&x, p, 8); return sd::splat(x); }
inline void V128Store(uint8_t* p, V128 v) { std::memcpy(p, v.bytes, 16); }
inline V128 V128Load8Lane(const uint8_t* p, V128 v, uint32_t lane) { return sd::load_lane<1>(p, v, lane); }
inline V128 V128Load16Lane(const uint8_t* p, V128 v, uint32_t lane) { return sd::load_lane<2>(p, v, lane); }
inline V128 V128Load32Lane(const uint8_t* p, V128 v, uint32_t lane) { return sd::load_lane<4>(p, v, lane); }
inline V128 V128Load64Lane(const uint8_t* p, V128 v, uint32_t lane) { return sd::load_lane<8>(p, v, lane); }
inline void V128Store8Lane(uint8_t* p, V128 v, uint32_t lane) { sd::store_lane<1>(p, v, lane); }
inline void V128Store16Lane(uint8_t* p, V128 v, uint32_t lane) { sd::store_lane<2>(p, v, lane); }
inline void V128Store32Lane(uint8_t* p, V128 v, uint32_t lane) { sd::store_lane<4>(p, v, lane); }
inline void V128Store64Lane(uint8_t* p, V128 v, uint32_t lane) { sd::store_lane<8>(p, v, lane); }
inline V128 V128Load32Zero(const uint8_t* p) { return sd::load_zero<uint32_t>(p); }
inline V128 V128Load64Zero(const uint8_t* p) { return sd::load_zero<uint64_t>(p); }

// --- shuffles, splats, lanes ------------------------------------------------

inline V128 I8x16Shuffle(V128 a, V128 b, const uint8_t* lanes16) {
#if SKIFF_SIMD_PSHUFB
  if (sd::kHasPshufb) [[likely]] {
    // Lanes are < 32 (validated). lane + 0x70 keeps 0..15's low nibble with
    // bit 7 clear and sets bit 7 for 16..31; lane - 16 does the opposite.
    __m128i lanes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(lanes16));
    __m128i from_a = sd::pshufb(sd::m(a), _mm_add_epi8(lanes, _mm_set1_epi8(0x70)));
    __m128i from_b = sd::pshufb(sd::m(b), _mm_sub_epi8(lanes, _mm_set1_epi8(16)));
    return sd::v(_mm_or_si128(from_a, from_b));
  }
#endif
  uint8_t both[32];
  std::memcpy(both, a.bytes, 16);
  std::memcpy(both + 16, b.bytes, 16);
  V128 r = {};
  for (int i = 0; i < 16; ++i) r.bytes[i] = both[lanes16[i] & 31];
  return r;
}
inline V128 I8x16Swizzle(V128 a, V128 s) {
#if SKIFF_SIMD_PSHUFB
  if (sd::kHasPshufb) [[likely]] {
    // Indices >= 16 saturate to >= 0x80: zero, as wasm wants.
    return sd::v(sd::pshufb(sd::m(a), _mm_adds_epu8(sd::m(s), _mm_set1_epi8(0x70))));
  }
#endif
  V128 r = {};
  for (int i = 0; i < 16; ++i) r.bytes[i] = s.bytes[i] < 16 ? a.bytes[s.bytes[i]] : 0;
  return r;
}

inline V128 I8x16Splat(uint32_t x) { return sd::splat(uint8_t(x)); }
inline V128 I16x8Splat(uint32_t x) { return sd::splat(uint16_t(x)); }
inline V128 I32x4Splat(uint32_t x) { return sd::splat(x); }
inline V128 I64x2Splat(uint64_t x) { return sd::splat(x); }
inline V128 F32x4Splat(float x) { return sd::splat(x); }
inline V128 F64x2Splat(double x) { return sd::splat(x); }

inline uint32_t I8x16ExtractLaneS(V128 a, uint32_t lane) { return uint32_t(int32_t(sd::get_lane<int8_t>(a, lane))); }
inline uint32_t I8x16ExtractLaneU(V128 a, uint32_t lane) { return sd::get_lane<uint8_t>(a, lane); }
inline V128 I8x16ReplaceLane(V128 a, uint32_t x, uint32_t lane) { return sd::set_lane(a, lane, uint8_t(x)); }
inline uint32_t I16x8ExtractLaneS(V128 a, uint32_t lane) { return uint32_t(int32_t(sd::get_lane<int16_t>(a, lane))); }
inline uint32_t I16x8ExtractLaneU(V128 a, uint32_t lane) { return sd::get_lane<uint16_t>(a, lane); }
inline V128 I16x8ReplaceLane(V128 a, uint32_t x, uint32_t lane) { return sd::set_lane(a, lane, uint16_t(x)); }
inline uint32_t I32x4ExtractLane(V128 a, uint32_t lane) { return sd::get_lane<uint32_t>(a, lane); }
inline V128 I32x4ReplaceLane(V128 a, uint32_t x, uint32_t lane) { return sd::set_lane(a, lane, x); }
inline uint64_t I64x2ExtractLane(V128 a, uint32_t lane) { return sd::get_lane<uint64_t>(a, lane); }
inline V128 I64x2ReplaceLane(V128 a, uint64_t x, uint32_t lane) { return sd::set_lane(a, lane, x); }
inline float F32x4ExtractLane(V128 a, uint32_t lane) { return sd::get_lane<float>(a, lane); }
inline V128 F32x4ReplaceLane(V128 a, float x, uint32_t lane) { return sd::set_lane(a, lane, x); }
inline double F64x2ExtractLane(V128 a, uint32_t lane) { return sd::get_lane<double>(a, lane); }
inline V128 F64x2ReplaceLane(V128 a, double x, uint32_t lane) { return sd::set_lane(a, lane, x); }

// --- comparisons: true lanes are all ones, false lanes all zeros ----------

#define SKIFF_SIMD_CMP(Name, Vec, op) \
  inline V128 Name(V128 a, V128 b) { return sd::out(sd::in<sd::Vec>(a) op sd::in<sd::Vec>(b)); }
SKIFF_SIMD_CMP(I8x16Eq, U8, ==)
SKIFF_SIMD_CMP(I8x16Ne, U8, !=)
SKIFF_SIMD_CMP(I8x16LtS, I8, <)
SKIFF_SIMD_CMP(I8x16LtU, U8, <)
SKIFF_SIMD_CMP(I8x16GtS, I8, >)
SKIFF_SIMD_CMP(I8x16GtU, U8, >)
SKIFF_SIMD_CMP(I8x16LeS, I8, <=)
SKIFF_SIMD_CMP(I8x16LeU, U8, <=)
SKIFF_SIMD_CMP(I8x16GeS, I8, >=)
SKIFF_SIMD_CMP(I8x16GeU, U8, >=)
SKIFF_SIMD_CMP(I16x8Eq, U16, ==)
SKIFF_SIMD_CMP(I16x8Ne, U16, !=)
SKIFF_SIMD_CMP(I16x8LtS, I16, <)
SKIFF_SIMD_CMP(I16x8LtU, U16, <)
SKIFF_SIMD_CMP(I16x8GtS, I16, >)
SKIFF_SIMD_CMP(I16x8GtU, U16, >)
SKIFF_SIMD_CMP(I16x8LeS, I16, <=)
SKIFF_SIMD_CMP(I16x8LeU, U16, <=)
SKIFF_SIMD_CMP(I16x8GeS, I16, >=)
SKIFF_SIMD_CMP(I16x8GeU, U16, >=)
SKIFF_SIMD_CMP(I32x4Eq, U32, ==)
SKIFF_SIMD_CMP(I32x4Ne, U32, !=)
SKIFF_SIMD_CMP(I32x4LtS, I32, <)
SKIFF_SIMD_CMP(I32x4LtU, U32, <)
SKIFF_SIMD_CMP(I32x4GtS, I32, >)
SKIFF_SIMD_CMP(I32x4GtU, U32, >)
SKIFF_SIMD_CMP(I32x4LeS, I32, <=)
SKIFF_SIMD_CMP(I32x4LeU, U32, <=)
SKIFF_SIMD_CMP(I32x4GeS, I32, >=)
SKIFF_SIMD_CMP(I32x4GeU, U32, >=)
SKIFF_SIMD_CMP(I64x2Eq, U64, ==)
SKIFF_SIMD_CMP(I64x2Ne, U64, !=)
SKIFF_SIMD_CMP(I64x2LtS, I64, <)
SKIFF_SIMD_CMP(I64x2GtS, I64, >)
SKIFF_SIMD_CMP(I64x2LeS, I64, <=)
SKIFF_SIMD_CMP(I64x2GeS, I64, >=)
// Vector float compares follow C semantics: ordered except != (true on NaN).
SKIFF_SIMD_CMP(F32x4Eq, F32, ==)
SKIFF_SIMD_CMP(F32x4Ne, F32, !=)
SKIFF_SIMD_CMP(F32x4Lt, F32, <)
SKIFF_SIMD_CMP(F32x4Gt, F32, >)
SKIFF_SIMD_CMP(F32x4Le, F32, <=)
SKIFF_SIMD_CMP(F32x4Ge, F32, >=)
SKIFF_SIMD_CMP(F64x2Eq, F64, ==)
SKIFF_SIMD_CMP(F64x2Ne, F64, !=)
SKIFF_SIMD_CMP(F64x2Lt, F64, <)
SKIFF_SIMD_CMP(F64x2Gt, F64, >)
SKIFF_SIMD_CMP(F64x2Le, F64, <=)
SKIFF_SIMD_CMP(F64x2Ge, F64, >=)
#undef SKIFF_SIMD_CMP

// --- bitwise ----------------------------------------------------------------

inline V128 V128Not(V128 a) { return sd::out(~sd::in<sd::U64>(a)); }
inline V128 V128And(V128 a, V128 b) { return sd::out(sd::in<sd::U64>(a) & sd::in<sd::U64>(b)); }
inline V128 V128Andnot(V128 a, V128 b) { return sd::out(sd::in<sd::U64>(a) & ~sd::in<sd::U64>(b)); }
inline V128 V128Or(V128 a, V128 b) { return sd::out(sd::in<sd::U64>(a) | sd::in<sd::U64>(b)); }
inline V128 V128Xor(V128 a, V128 b) { return sd::out(sd::in<sd::U64>(a) ^ sd::in<sd::U64>(b)); }
// Bits of a where the mask c is 1, bits of b where it is 0.
inline V128 V128Bitselect(V128 a, V128 b, V128 c) {
  sd::U64 m = sd::in<sd::U64>(c);
  return sd::out((sd::in<sd::U64>(a) & m) | (sd::in<sd::U64>(b) & ~m));
}
inline uint32_t V128AnyTrue(V128 a) { return (a.lo() | a.hi()) != 0; }

// --- integer lane arithmetic (wrapping arithmetic is done unsigned) ---------

#define SKIFF_SIMD_BIN(Name, Vec, op) \
  inline V128 Name(V128 a, V128 b) { return sd::out(sd::in<sd::Vec>(a) op sd::in<sd::Vec>(b)); }
SKIFF_SIMD_BIN(I8x16Add, U8, +)
SKIFF_SIMD_BIN(I8x16Sub, U8, -)
SKIFF_SIMD_BIN(I16x8Add, U16, +)
SKIFF_SIMD_BIN(I16x8Sub, U16, -)
SKIFF_SIMD_BIN(I16x8Mul, U16, *)
SKIFF_SIMD_BIN(I32x4Add, U32, +)
SKIFF_SIMD_BIN(I32x4Sub, U32, -)
SKIFF_SIMD_BIN(I32x4Mul, U32, *)
SKIFF_SIMD_BIN(I64x2Add, U64, +)
SKIFF_SIMD_BIN(I64x2Sub, U64, -)
SKIFF_SIMD_BIN(I64x2Mul, U64, *)
SKIFF_SIMD_BIN(F32x4Add, F32, +)
SKIFF_SIMD_BIN(F32x4Sub, F32, -)
SKIFF_SIMD_BIN(F32x4Mul, F32, *)
SKIFF_SIMD_BIN(F32x4Div, F32, /)
SKIFF_SIMD_BIN(F64x2Add, F64, +)
SKIFF_SIMD_BIN(F64x2Sub, F64, -)
SKIFF_SIMD_BIN(F64x2Mul, F64, *)
SKIFF_SIMD_BIN(F64x2Div, F64, /)
#undef SKIFF_SIMD_BIN

inline V128 I8x16Neg(V128 a) { return sd::out(-sd::in<sd::U8>(a)); }
inline V128 I16x8Neg(V128 a) { return sd::out(-sd::in<sd::U16>(a)); }
inline V128 I32x4Neg(V128 a) { return sd::out(-sd::in<sd::U32>(a)); }
inline V128 I64x2Neg(V128 a) { return sd::out(-sd::in<sd::U64>(a)); }
inline V128 I8x16Abs(V128 a) { return sd::iabs<sd::I8>(a); }
inline V128 I16x8Abs(V128 a) { return sd::iabs<sd::I16>(a); }
inline V128 I32x4Abs(V128 a) { return sd::iabs<sd::I32>(a); }
inline V128 I64x2Abs(V128 a) { return sd::iabs<sd::I64>(a); }

inline V128 I8x16Popcnt(V128 a) {
  V128 r = {};
  for (int i = 0; i < 16; ++i) r.bytes[i] = uint8_t(std::popcount(a.bytes[i]));
  return r;
}

inline uint32_t I8x16AllTrue(V128 a) { return sd::all_true<sd::U8>(a); }
inline uint32_t I16x8AllTrue(V128 a) { return sd::all_true<sd::U16>(a); }
inline uint32_t I32x4AllTrue(V128 a) { return sd::all_true<sd::U32>(a); }
inline uint32_t I64x2AllTrue(V128 a) { return sd::all_true<sd::U64>(a); }
inline uint32_t I8x16Bitmask(V128 a) {
#if SKIFF_SIMD_SSE2
  return uint32_t(_mm_movemask_epi8(sd::m(a)));
#else
  return sd::bitmask<sd::I8>(a);
#endif
}
inline uint32_t I16x8Bitmask(V128 a) { return sd::bitmask<sd::I16>(a); }
inline uint32_t I32x4Bitmask(V128 a) {
#if SKIFF_SIMD_SSE2
  return uint32_t(_mm_movemask_ps(_mm_castsi128_ps(sd::m(a))));
#else
  return sd::bitmask<sd::I32>(a);
#endif
}
inline uint32_t I64x2Bitmask(V128 a) {
#if SKIFF_SIMD_SSE2
  return uint32_t(_mm_movemask_pd(_mm_castsi128_pd(sd::m(a))));
#else
  return sd::bitmask<sd::I64>(a);
#endif
}

inline V128 I8x16NarrowI16x8S(V128 a, V128 b) {
#if SKIFF_SIMD_SSE2
  return sd::v(_mm_packs_epi16(sd::m(a), sd::m(b)));
#else
  return sd::narrow<sd::I16, sd::I8>(a, b);
#endif
}
inline V128 I8x16NarrowI16x8U(V128 a, V128 b) {
#if SKIFF_SIMD_SSE2
  return sd::v(_mm_packus_epi16(sd::m(a), sd::m(b)));
#else
  return sd::narrow<sd::I16, sd::U8>(a, b);
#endif
}
inline V128 I16x8NarrowI32x4S(V128 a, V128 b) {
#if SKIFF_SIMD_SSE2
  return sd::v(_mm_packs_epi32(sd::m(a), sd::m(b)));
#else
  return sd::narrow<sd::I32, sd::I16>(a, b);
#endif
}
inline V128 I16x8NarrowI32x4U(V128 a, V128 b) { return sd::narrow<sd::I32, sd::U16>(a, b); }

inline V128 I8x16Shl(V128 a, uint32_t n) { return sd::shl<sd::U8>(a, n); }
inline V128 I8x16ShrS(V128 a, uint32_t n) { return sd::shr<sd::I8>(a, n); }
inline V128 I8x16ShrU(V128 a, uint32_t n) { return sd::shr<sd::U8>(a, n); }
inline V128 I16x8Shl(V128 a, uint32_t n) { return sd::shl<sd::U16>(a, n); }
inline V128 I16x8ShrS(V128 a, uint32_t n) { return sd::shr<sd::I16>(a, n); }
inline V128 I16x8ShrU(V128 a, uint32_t n) { return sd::shr<sd::U16>(a, n); }
inline V128 I32x4Shl(V128 a, uint32_t n) { return sd::shl<sd::U32>(a, n); }
inline V128 I32x4ShrS(V128 a, uint32_t n) { return sd::shr<sd::I32>(a, n); }
inline V128 I32x4ShrU(V128 a, uint32_t n) { return sd::shr<sd::U32>(a, n); }
inline V128 I64x2Shl(V128 a, uint32_t n) { return sd::shl<sd::U64>(a, n); }
inline V128 I64x2ShrS(V128 a, uint32_t n) { return sd::shr<sd::I64>(a, n); }
inline V128 I64x2ShrU(V128 a, uint32_t n) { return sd::shr<sd::U64>(a, n); }

inline V128 I8x16AddSatS(V128 a, V128 b) {
#if SKIFF_SIMD_SSE2
  return sd::v(_mm_adds_epi8(sd::m(a), sd::m(b)));
#else
  return sd::add_sat<sd::I8>(a, b);
#endif
}
inline V128 I8x16AddSatU(V128 a, V128 b) {
#if SKIFF_SIMD_SSE2
  return sd::v(_mm_adds_epu8(sd::m(a), sd::m(b)));
#else
  return sd::add_sat<sd::U8>(a, b);
#endif
}
inline V128 I8x16SubSatS(V128 a, V128 b) {
#if SKIFF_SIMD_SSE2
  return sd::v(_mm_subs_epi8(sd::m(a), sd::m(b)));
#else
  return sd::sub_sat<sd::I8>(a, b);
#endif
}
inline V128 I8x16SubSatU(V128 a, V128 b) {
#if SKIFF_SIMD_SSE2
  return sd::v(_mm_subs_epu8(sd::m(a), sd::m(b)));
#else
  return sd::sub_sat<sd::U8>(a, b);
#endif
}
inline V128 I16x8AddSatS(V128 a, V128 b) {
#if SKIFF_SIMD_SSE2
  return sd::v(_mm_adds_epi16(sd::m(a), sd::m(b)));
#else
  return sd::add_sat<sd::I16>(a, b);
#endif
}
inline V128 I16x8AddSatU(V128 a, V128 b) {
#if SKIFF_SIMD_SSE2
  return sd::v(_mm_adds_epu16(sd::m(a), sd::m(b)));
#else
  return sd::add_sat<sd::U16>(a, b);
#endif
}
inline V128 I16x8SubSatS(V128 a, V128 b) {
#if SKIFF_SIMD_SSE2
  return sd::v(_mm_subs_epi16(sd::m(a), sd::m(b)));
#else
  return sd::sub_sat<sd::I16>(a, b);
#endif
}
inline V128 I16x8SubSatU(V128 a, V128 b) {
#if SKIFF_SIMD_SSE2
  return sd::v(_mm_subs_epu16(sd::m(a), sd::m(b)));
#else
  return sd::sub_sat<sd::U16>(a, b);
#endif
}

inline V128 I8x16MinS(V128 a, V128 b) { return sd::vmin<sd::I8>(a, b); }
inline V128 I8x16MinU(V128 a, V128 b) { return sd::vmin<sd::U8>(a, b); }
inline V128 I8x16MaxS(V128 a, V128 b) { return sd::vmax<sd::I8>(a, b); }
inline V128 I8x16MaxU(V128 a, V128 b) { return sd::vmax<sd::U8>(a, b); }
inline V128 I16x8MinS(V128 a, V128 b) { return sd::vmin<sd::I16>(a, b); }
inline V128 I16x8MinU(V128 a, V128 b) { return sd::vmin<sd::U16>(a, b); }
inline V128 I16x8MaxS(V128 a, V128 b) { return sd::vmax<sd::I16>(a, b); }
inline V128 I16x8MaxU(V128 a, V128 b) { return sd::vmax<sd::U16>(a, b); }
inline V128 I32x4MinS(V128 a, V128 b) { return sd::vmin<sd::I32>(a, b); }
inline V128 I32x4MinU(V128 a, V128 b) { return sd::vmin<sd::U32>(a, b); }
inline V128 I32x4MaxS(V128 a, V128 b) { return sd::vmax<sd::I32>(a, b); }
inline V128 I32x4MaxU(V128 a, V128 b) { return sd::vmax<sd::U32>(a, b); }

inline V128 I8x16AvgrU(V128 a, V128 b) { return sd::avgr<sd::U8>(a, b); }
inline V128 I16x8AvgrU(V128 a, V128 b) { return sd::avgr<sd::U16>(a, b); }

inline V128 I16x8ExtaddPairwiseI8x16S(V128 a) { return sd::extadd_pairwise<sd::I8, sd::I16>(a); }
inline V128 I16x8ExtaddPairwiseI8x16U(V128 a) { return sd::extadd_pairwise<sd::U8, sd::U16>(a); }
inline V128 I32x4ExtaddPairwiseI16x8S(V128 a) { return sd::extadd_pairwise<sd::I16, sd::I32>(a); }
inline V128 I32x4ExtaddPairwiseI16x8U(V128 a) { return sd::extadd_pairwise<sd::U16, sd::U32>(a); }

// Rounding Q15 multiply; only -32768 * -32768 overflows and saturates.
inline V128 I16x8Q15mulrSatS(V128 a, V128 b) {
  sd::I16 x = sd::in<sd::I16>(a), y = sd::in<sd::I16>(b);
  sd::I16 r = {};
  for (int i = 0; i < 8; ++i) r[i] = sd::sat<int16_t>((int32_t(x[i]) * int32_t(y[i]) + 0x4000) >> 15);
  return sd::out(r);
}

inline V128 I16x8ExtendLowI8x16S(V128 a) { return sd::extend<sd::I8, sd::I16>(a, false); }
inline V128 I16x8ExtendHighI8x16S(V128 a) { return sd::extend<sd::I8, sd::I16>(a, true); }
inline V128 I16x8ExtendLowI8x16U(V128 a) { return sd::extend<sd::U8, sd::U16>(a, false); }
inline V128 I16x8ExtendHighI8x16U(V128 a) { return sd::extend<sd::U8, sd::U16>(a, true); }
inline V128 I32x4ExtendLowI16x8S(V128 a) { return sd::extend<sd::I16, sd::I32>(a, false); }
inline V128 I32x4ExtendHighI16x8S(V128 a) { return sd::extend<sd::I16, sd::I32>(a, true); }
inline V128 I32x4ExtendLowI16x8U(V128 a) { return sd::extend<sd::U16, sd::U32>(a, false); }
inline V128 I32x4ExtendHighI16x8U(V128 a) { return sd::extend<sd::U16, sd::U32>(a, true); }
inline V128 I64x2ExtendLowI32x4S(V128 a) { return sd::extend<sd::I32, sd::I64>(a, false); }
inline V128 I64x2ExtendHighI32x4S(V128 a) { return sd::extend<sd::I32, sd::I64>(a, true); }
inline V128 I64x2ExtendLowI32x4U(V128 a) { return sd::extend<sd::U32, sd::U64>(a, false); }
inline V128 I64x2ExtendHighI32x4U(V128 a) { return sd::extend<sd::U32, sd::U64>(a, true); }

inline V128 I16x8ExtmulLowI8x16S(V128 a, V128 b) { return sd::extmul<sd::I8, sd::I16>(a, b, false); }
inline V128 I16x8ExtmulHighI8x16S(V128 a, V128 b) { return sd::extmul<sd::I8, sd::I16>(a, b, true); }
inline V128 I16x8ExtmulLowI8x16U(V128 a, V128 b) { return sd::extmul<sd::U8, sd::U16>(a, b, false); }
inline V128 I16x8ExtmulHighI8x16U(V128 a, V128 b) { return sd::extmul<sd::U8, sd::U16>(a, b, true); }
inline V128 I32x4ExtmulLowI16x8S(V128 a, V128 b) { return sd::extmul<sd::I16, sd::I32>(a, b, false); }
inline V128 I32x4ExtmulHighI16x8S(V128 a, V128 b) { return sd::extmul<sd::I16, sd::I32>(a, b, true); }
inline V128 I32x4ExtmulLowI16x8U(V128 a, V128 b) { return sd::extmul<sd::U16, sd::U32>(a, b, false); }
inline V128 I32x4ExtmulHighI16x8U(V128 a, V128 b) { return sd::extmul<sd::U16, sd::U32>(a, b, true); }
inline V128 I64x2ExtmulLowI32x4S(V128 a, V128 b) { return sd::extmul<sd::I32, sd::I64>(a, b, false); }
inline V128 I64x2ExtmulHighI32x4S(V128 a, V128 b) { return sd::extmul<sd::I32, sd::I64>(a, b, true); }
inline V128 I64x2ExtmulLowI32x4U(V128 a, V128 b) { return sd::extmul<sd::U32, sd::U64>(a, b, false); }
inline V128 I64x2ExtmulHighI32x4U(V128 a, V128 b) { return sd::extmul<sd::U32, sd::U64>(a, b, true); }

// Sum of two adjacent products; only 2 * (-32768)^2 overflows, and wraps.
inline V128 I32x4DotI16x8S(V128 a, V128 b) {
#if SKIFF_SIMD_SSE2
  return sd::v(_mm_madd_epi16(sd::m(a), sd::m(b)));  // pmaddwd wraps the same way
#else
  sd::I16 x = sd::in<sd::I16>(a), y = sd::in<sd::I16>(b);
  sd::U32 r = {};
  for (int i = 0; i < 4; ++i)
    r[i] = uint32_t(int64_t(x[2 * i]) * y[2 * i] + int64_t(x[2 * i + 1]) * y[2 * i + 1]);
  return sd::out(r);
#endif
}

// --- float lane operations --------------------------------------------------

// abs/neg only touch the sign bit, NaN payloads included.
inline V128 F32x4Abs(V128 a) { return sd::out(sd::in<sd::U32>(a) & 0x7fffffffu); }
inline V128 F32x4Neg(V128 a) { return sd::out(sd::in<sd::U32>(a) ^ 0x80000000u); }
inline V128 F64x2Abs(V128 a) { return sd::out(sd::in<sd::U64>(a) & 0x7fffffffffffffffull); }
inline V128 F64x2Neg(V128 a) { return sd::out(sd::in<sd::U64>(a) ^ 0x8000000000000000ull); }

inline V128 F32x4Sqrt(V128 a) { return sd::fmap1<sd::F32>(a, sd::wasm_sqrt<float>); }
inline V128 F64x2Sqrt(V128 a) { return sd::fmap1<sd::F64>(a, sd::wasm_sqrt<double>); }
inline V128 F32x4Ceil(V128 a) { return sd::fmap1<sd::F32>(a, sd::wasm_ceil<float>); }
inline V128 F32x4Floor(V128 a) { return sd::fmap1<sd::F32>(a, sd::wasm_floor<float>); }
inline V128 F32x4Trunc(V128 a) { return sd::fmap1<sd::F32>(a, sd::wasm_trunc<float>); }
inline V128 F32x4Nearest(V128 a) { return sd::fmap1<sd::F32>(a, sd::wasm_nearest<float>); }
inline V128 F64x2Ceil(V128 a) { return sd::fmap1<sd::F64>(a, sd::wasm_ceil<double>); }
inline V128 F64x2Floor(V128 a) { return sd::fmap1<sd::F64>(a, sd::wasm_floor<double>); }
inline V128 F64x2Trunc(V128 a) { return sd::fmap1<sd::F64>(a, sd::wasm_trunc<double>); }
inline V128 F64x2Nearest(V128 a) { return sd::fmap1<sd::F64>(a, sd::wasm_nearest<double>); }

inline V128 F32x4Min(V128 a, V128 b) { return sd::fmap2<sd::F32>(a, b, sd::wasm_fmin<float>); }
inline V128 F32x4Max(V128 a, V128 b) { return sd::fmap2<sd::F32>(a, b, sd::wasm_fmax<float>); }
inline V128 F64x2Min(V128 a, V128 b) { return sd::fmap2<sd::F64>(a, b, sd::wasm_fmin<double>); }
inline V128 F64x2Max(V128 a, V128 b) { return sd::fmap2<sd::F64>(a, b, sd::wasm_fmax<double>); }
// Pseudo-min/max are defined as exactly these selects (NaN and -0 fall out).
inline V128 F32x4Pmin(V128 a, V128 b) {
  sd::F32 x = sd::in<sd::F32>(a), y = sd::in<sd::F32>(b);
  return sd::out(y < x ? y : x);
}
inline V128 F32x4Pmax(V128 a, V128 b) {
  sd::F32 x = sd::in<sd::F32>(a), y = sd::in<sd::F32>(b);
  return sd::out(x < y ? y : x);
}
inline V128 F64x2Pmin(V128 a, V128 b) {
  sd::F64 x = sd::in<sd::F64>(a), y = sd::in<sd::F64>(b);
  return sd::out(y < x ? y : x);
}
inline V128 F64x2Pmax(V128 a, V128 b) {
  sd::F64 x = sd::in<sd::F64>(a), y = sd::in<sd::F64>(b);
  return sd::out(x < y ? y : x);
}

// --- conversions --------------------------------------------------------------

inline V128 F32x4DemoteF64x2Zero(V128 a) {
  sd::F64 v = sd::in<sd::F64>(a);
  sd::F32 r = {float(v[0]), float(v[1]), 0.0f, 0.0f};
  return sd::out(r);
}
inline V128 F64x2PromoteLowF32x4(V128 a) {
  sd::F32 v = sd::in<sd::F32>(a);
  sd::F64 r = {double(v[0]), double(v[1])};
  return sd::out(r);
}

inline V128 I32x4TruncSatF32x4S(V128 a) {
  sd::F32 v = sd::in<sd::F32>(a);
  sd::I32 r = {};
  for (int i = 0; i < 4; ++i) r[i] = sd::trunc_sat_s32(v[i]);
  return sd::out(r);
}
inline V128 I32x4TruncSatF32x4U(V128 a) {
  sd::F32 v = sd::in<sd::F32>(a);
  sd::U32 r = {};
  for (int i = 0; i < 4; ++i) r[i] = sd::trunc_sat_u32(v[i]);
  return sd::out(r);
}
inline V128 I32x4TruncSatF64x2SZero(V128 a) {
  sd::F64 v = sd::in<sd::F64>(a);
  sd::I32 r = {sd::trunc_sat_s32(v[0]), sd::trunc_sat_s32(v[1]), 0, 0};
  return sd::out(r);
}
inline V128 I32x4TruncSatF64x2UZero(V128 a) {
  sd::F64 v = sd::in<sd::F64>(a);
  sd::U32 r = {sd::trunc_sat_u32(v[0]), sd::trunc_sat_u32(v[1]), 0, 0};
  return sd::out(r);
}

// int -> float conversions in C++ round to nearest-even, as wasm requires
// (u32 goes through a 64-bit signed convert on x86-64, so no double rounding).
inline V128 F32x4ConvertI32x4S(V128 a) {
  sd::I32 v = sd::in<sd::I32>(a);
  sd::F32 r = {};
  for (int i = 0; i < 4; ++i) r[i] = float(v[i]);
  return sd::out(r);
}
inline V128 F32x4ConvertI32x4U(V128 a) {
  sd::U32 v = sd::in<sd::U32>(a);
  sd::F32 r = {};
  for (int i = 0; i < 4; ++i) r[i] = float(v[i]);
  return sd::out(r);
}
inline V128 F64x2ConvertLowI32x4S(V128 a) {
  sd::I32 v = sd::in<sd::I32>(a);
  sd::F64 r = {double(v[0]), double(v[1])};
  return sd::out(r);
}
inline V128 F64x2ConvertLowI32x4U(V128 a) {
  sd::U32 v = sd::in<sd::U32>(a);
  sd::F64 r = {double(v[0]), double(v[1])};
  return sd::out(r);
}

// NOLINTEND(readability-identifier-naming)

}  // namespace skiff::interp::ops

// A bounds-checked cursor over a byte span, with the LEB128 rules of the
// WebAssembly binary format. Every read checks the end first, so malformed
// input can only produce an Error, never a read past the buffer.
#pragma once
#include <cstdint>
#include <cstring>
#include <string_view>

#include "skiff/result.h"

namespace skiff {

class Reader {
 public:
  // `base_offset` is the offset of data[0] in the whole module, for errors.
  Reader(const uint8_t* data, size_t size, uint64_t base_offset = 0)
      : begin_(data), pos_(data), end_(data + size), base_(base_offset) {}

  uint64_t offset() const { return base_ + static_cast<uint64_t>(pos_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - pos_); }
  bool at_end() const { return pos_ == end_; }
  const uint8_t* pos() const { return pos_; }

  Error error(ErrorCode code) const { return Error(code, offset()); }

  Result<uint8_t> u8() {
    if (pos_ >= end_) return error(ErrorCode::UnexpectedEnd);
    return *pos_++;
  }
  Result<uint32_t> fixed_u32() {
    if (remaining() < 4) return error(ErrorCode::UnexpectedEnd);
    uint32_t v;
    std::memcpy(&v, pos_, 4);
    pos_ += 4;
    return v;
  }
  Result<uint64_t> fixed_u64() {
    if (remaining() < 8) return error(ErrorCode::UnexpectedEnd);
    uint64_t v;
    std::memcpy(&v, pos_, 8);
    pos_ += 8;
    return v;
  }
  Result<const uint8_t*> bytes(size_t n) {
    if (remaining() < n) return error(ErrorCode::UnexpectedEnd);
    const uint8_t* p = pos_;
    pos_ += n;
    return p;
  }

  // Single-byte values (most counts, indices and sizes) are read inline;
  // the general decoders below hold the LEB128 rules.
  Result<uint32_t> u32() {
    if (pos_ != end_ && *pos_ < 0x80) [[likely]] return *pos_++;
    return uleb<uint32_t, 32>();
  }
  Result<uint64_t> u64() {
    if (pos_ != end_ && *pos_ < 0x80) [[likely]] return *pos_++;
    return uleb<uint64_t, 64>();
  }
  Result<int32_t> s32() {
    if (pos_ != end_ && *pos_ < 0x80) [[likely]] return sign_extend7(*pos_++);
    return sleb<int32_t, 32>();
  }
  Result<int64_t> s64() {
    if (pos_ != end_ && *pos_ < 0x80) [[likely]] return sign_extend7(*pos_++);
    return sleb<int64_t, 64>();
  }
  Result<int64_t> s33() {  // block types
    if (pos_ != end_ && *pos_ < 0x80) [[likely]] return sign_extend7(*pos_++);
    return sleb<int64_t, 33>();
  }

 private:
  static int32_t sign_extend7(uint8_t b) { return b < 0x40 ? b : static_cast<int32_t>(b) - 0x80; }

  // Unsigned LEB128 of at most ceil(N/7) bytes; unused bits of the last byte
  // must be zero ("integer too large"), more bytes is "integer representation too long".
  template <typename T, int N>
  Result<T> uleb() {
    constexpr int kMaxBytes = (N + 6) / 7;
    T result = 0;
    for (int i = 0; i < kMaxBytes; ++i) {
      if (pos_ >= end_) return error(ErrorCode::UnexpectedEnd);
      uint8_t b = *pos_++;
      if (i == kMaxBytes - 1) {
        if (b & 0x80) return Error(ErrorCode::IntTooLong, offset() - 1);
        int used = N - 7 * i;
        if (used < 7 && (b >> used) != 0) return Error(ErrorCode::IntTooLarge, offset() - 1);
      }
      result |= static_cast<T>(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) return result;
    }
    return error(ErrorCode::IntTooLong);
  }
  // Signed LEB128: the unused bits of the last byte must all equal the sign bit.
  template <typename T, int N>
  Result<T> sleb() {
    constexpr int kMaxBytes = (N + 6) / 7;
    uint64_t result = 0;
    int shift = 0;
    for (int i = 0; i < kMaxBytes; ++i) {
      if (pos_ >= end_) return error(ErrorCode::UnexpectedEnd);
      uint8_t b = *pos_++;
      if (i == kMaxBytes - 1) {
        if (b & 0x80) return Error(ErrorCode::IntTooLong, offset() - 1);
        int used = N - 7 * i;  // payload bits that belong to the value
        if (used < 7) {
          int sign = (b >> (used - 1)) & 1;
          uint8_t upper = static_cast<uint8_t>((b & 0x7f) >> (used - 1));  // sign bit and unused bits
          uint8_t want = sign ? static_cast<uint8_t>(0x7f >> (used - 1)) : 0;
          if (upper != want) return Error(ErrorCode::IntTooLarge, offset() - 1);
        }
      }
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) {
        if (shift < 64 && (b & 0x40)) result |= ~uint64_t{0} << shift;
        return static_cast<T>(static_cast<int64_t>(result));
      }
    }
    return error(ErrorCode::IntTooLong);
  }

  const uint8_t* begin_;
  const uint8_t* pos_;
  const uint8_t* end_;
  uint64_t base_;
};

}  // namespace skiff

// Plain WebAssembly types shared by the engine and the public API.
#pragma once
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace skiff {

enum class ValType : uint8_t {
  I32 = 0x7f,
  I64 = 0x7e,
  F32 = 0x7d,
  F64 = 0x7c,
  V128 = 0x7b,
  FuncRef = 0x70,
  ExternRef = 0x6f,
};

constexpr bool is_ref(ValType t) { return t == ValType::FuncRef || t == ValType::ExternRef; }
constexpr bool is_valtype_byte(uint8_t b) {
  return b == 0x7f || b == 0x7e || b == 0x7d || b == 0x7c || b == 0x7b || b == 0x70 || b == 0x6f;
}
// Interpreter frames are arrays of 8-byte slots; a v128 takes two.
constexpr uint32_t slot_count(ValType t) { return t == ValType::V128 ? 2 : 1; }
// Slots a sequence of values takes (parameters, results).
template <typename Types>
constexpr uint32_t slots_of(const Types& types) {
  uint32_t n = 0;
  for (ValType t : types) n += slot_count(t);
  return n;
}
const char* to_string(ValType t);

struct FuncType {
  std::vector<ValType> params;
  std::vector<ValType> results;
  bool operator==(const FuncType&) const = default;
  std::string to_string() const;  // "(i32, i64) -> (f32)"
};

struct Limits {
  uint64_t min = 0;
  std::optional<uint64_t> max;
  bool operator==(const Limits&) const = default;
};

struct TableType {
  ValType elem = ValType::FuncRef;
  Limits limits;
};

struct MemoryType {
  Limits limits;  // in 64 KiB pages
};

struct GlobalType {
  ValType type = ValType::I32;
  bool is_mutable = false;
};

enum class ExternKind : uint8_t { Func = 0, Table = 1, Memory = 2, Global = 3 };
const char* to_string(ExternKind k);

constexpr uint64_t kPageSize = 65536;
constexpr uint64_t kMaxPages = 65536;  // 4 GiB for a 32-bit memory

// 16 raw bytes, lane 0 at the lowest address. Copy with memcpy: interpreter
// slots are only 8-byte aligned.
struct V128 {
  uint8_t bytes[16];
  static V128 zero() { return V128{}; }
  uint64_t lo() const { uint64_t v; std::memcpy(&v, bytes, 8); return v; }
  uint64_t hi() const { uint64_t v; std::memcpy(&v, bytes + 8, 8); return v; }
  bool operator==(const V128&) const = default;
};

}  // namespace skiff

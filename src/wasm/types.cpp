#include "wasm/types.h"

#include <array>

namespace skiff {

const char* to_string(ValType t) {
  switch (t) {
    case ValType::I32: return "i32";
    case ValType::I64: return "i64";
    case ValType::F32: return "f32";
    case ValType::F64: return "f64";
    case ValType::V128: return "v128";
    case ValType::FuncRef: return "funcref";
    case ValType::ExternRef: return "externref";
  }
  return "?";
}

const char* to_string(ExternKind k) {
  switch (k) {
    case ExternKind::Func: return "func";
    case ExternKind::Table: return "table";
    case ExternKind::Memory: return "memory";
    case ExternKind::Global: return "global";
  }
  return "?";
}

std::string FuncType::to_string() const {
  std::string s = "(";
  for (size_t i = 0; i < params.size(); ++i) s += (i ? ", " : "") + std::string(skiff::to_string(params[i]));
  s += ") -> (";
  for (size_t i = 0; i < results.size(); ++i) s += (i ? ", " : "") + std::string(skiff::to_string(results[i]));
  return s + ")";
}

}  // namespace skiff

namespace skiff::wasm {

namespace {

constexpr ValType sig_type(char c) {
  switch (c) {
    case 'i': return ValType::I32;
    case 'l': return ValType::I64;
    case 'f': return ValType::F32;
    case 'd': return ValType::F64;
    default: return ValType::V128;
  }
}

constexpr OpInfo make_info(const char* text, uint8_t prefix, uint8_t code, Imm imm, OpClass cls,
                           const char* sig, uint8_t arg) {
  OpInfo info{text, prefix, code, imm, cls, 0, 0, {}, {}, arg};
  bool in_results = false;
  for (const char* p = sig; *p; ++p) {
    if (*p == ':') { in_results = true; continue; }
    if (in_results) info.results[info.num_results++] = sig_type(*p);
    else info.params[info.num_params++] = sig_type(*p);
  }
  return info;
}

constexpr OpInfo kOpInfo[] = {
#define SKIFF_OP(name, text, prefix, code, imm, cls, sig, arg) \
  make_info(text, prefix, code, Imm::imm, OpClass::cls, sig, arg),
#include "wasm/opcodes.def"
};
static_assert(std::size(kOpInfo) == kOpcodeCount);

struct Lookup {
  std::array<int16_t, 256> single{};
  std::array<int16_t, 256> fc{};
  std::array<int16_t, 256> fd{};
  Lookup() {
    single.fill(-1);
    fc.fill(-1);
    fd.fill(-1);
    for (size_t i = 0; i < kOpcodeCount; ++i) {
      const OpInfo& info = kOpInfo[i];
      auto& table = info.prefix == 0 ? single : info.prefix == 0xfc ? fc : fd;
      // select and select t share a name but have distinct encodings.
      table[info.code] = static_cast<int16_t>(i);
    }
  }
};

const Lookup& lookup() {
  static const Lookup table;
  return table;
}

}  // namespace

const OpInfo& op_info(Opcode op) { return kOpInfo[static_cast<size_t>(op)]; }

std::optional<Opcode> opcode_from(uint8_t prefix, uint32_t code) {
  if (code > 0xff) return std::nullopt;
  const Lookup& t = lookup();
  int16_t idx = prefix == 0 ? t.single[code] : prefix == 0xfc ? t.fc[code] : prefix == 0xfd ? t.fd[code] : -1;
  if (idx < 0) return std::nullopt;
  return static_cast<Opcode>(idx);
}

}  // namespace skiff::wasm

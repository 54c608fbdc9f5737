// Traps: how wasm execution ends early. A trap is a value returned to the
// caller, never a crash of the host.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace skiff {

enum class TrapKind : uint8_t {
#define SKIFF_TRAP(name, message) name,
#include "skiff/trap.def"
};
const char* trap_message(TrapKind kind);

struct BacktraceFrame {
  uint32_t func_index = 0;  // index in its module's function space
  std::string func_name;    // from the name section, or ""
  std::string module_name;  // from the name section, or ""
};

struct Trap {
  TrapKind kind = TrapKind::None;
  std::string message;                    // empty means trap_message(kind)
  std::vector<BacktraceFrame> backtrace;  // innermost first
  int exit_code = 0;                      // for TrapKind::Exit

  Trap() = default;
  Trap(TrapKind k, std::string msg = {}) : kind(k), message(std::move(msg)) {}
  const char* what() const { return message.empty() ? trap_message(kind) : message.c_str(); }
  // The message, then one "  at NAME (func N)" line per frame.
  std::string to_string() const;
};

}  // namespace skiff

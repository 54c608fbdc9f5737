// Trap messages and their printed form.
#include "skiff/trap.h"

#include <cstddef>
#include <iterator>

namespace skiff {

namespace {
constexpr const char* kTrapMessages[] = {
#define SKIFF_TRAP(name, message) message,
#include "skiff/trap.def"
};
}  // namespace

const char* trap_message(TrapKind kind) {
  auto index = static_cast<size_t>(kind);
  return index < std::size(kTrapMessages) ? kTrapMessages[index] : "unknown trap";
}

std::string Trap::to_string() const {
  std::string out = what();
  for (const BacktraceFrame& frame : backtrace) {
    out += "\n  at ";
    if (!frame.module_name.empty()) out += frame.module_name + "::";
    out += frame.func_name.empty() ? "<unnamed>" : frame.func_name;
    out += " (func " + std::to_string(frame.func_index) + ")";
  }
  return out;
}

}  // namespace skiff

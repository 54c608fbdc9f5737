#include "skiff/result.h"

#include <cstdio>

namespace skiff {

namespace {
constexpr ErrorInfo kErrorTable[] = {
#define SKIFF_ERROR(name, phase, message) {Phase::phase, message},
#include "skiff/errors.def"
};
}  // namespace

const ErrorInfo& error_info(ErrorCode code) { return kErrorTable[static_cast<size_t>(code)]; }

const char* to_string(Phase phase) {
  switch (phase) {
    case Phase::Decode: return "decode";
    case Phase::Validate: return "validate";
    case Phase::Link: return "link";
    case Phase::Instantiate: return "instantiate";
    case Phase::Runtime: return "runtime";
    case Phase::Io: return "io";
    case Phase::Usage: return "usage";
  }
  return "?";
}

std::string Error::to_string() const {
  std::string out;
  if (offset != kNoOffset) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "offset 0x%llx: ", static_cast<unsigned long long>(offset));
    out += buf;
  }
  out += message();
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

}  // namespace skiff

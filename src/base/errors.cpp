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

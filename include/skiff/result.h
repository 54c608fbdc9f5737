// Result<T>: a value or an Error. Errors carry a code from errors.def, the
// byte offset in the module (when there is one) and a message.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace skiff {

enum class ErrorCode : uint16_t {
#define SKIFF_ERROR(name, phase, message) name,
#include "skiff/errors.def"
};

enum class Phase : uint8_t { Decode, Validate, Link, Instantiate, Runtime, Io, Usage };
// "decode", "validate", ...
const char* to_string(Phase phase);

struct ErrorInfo {
  Phase phase;
  const char* message;  // the spec testsuite's wording
};
const ErrorInfo& error_info(ErrorCode code);

struct Error {
  static constexpr uint64_t kNoOffset = ~uint64_t{0};
  ErrorCode code = ErrorCode::Internal;
  uint64_t offset = kNoOffset;  // byte offset in the module binary
  std::string detail;           // optional extra context

  Error() = default;
  Error(ErrorCode c, uint64_t off = kNoOffset, std::string d = {})
      : code(c), offset(off), detail(std::move(d)) {}

  Phase phase() const { return error_info(code).phase; }
  const char* message() const { return error_info(code).message; }
  // "offset 0x1a: unexpected end (detail)"
  std::string to_string() const;
};

// A value or an error (by default an Error; calls into wasm use Trap).
template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& value() const& { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : err_(std::move(error)), ok_(false) {}
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { return err_; }

 private:
  E err_{};
  bool ok_ = true;
};

// Propagate an error from an expression returning Result<...>.
#define SKIFF_TRY(expr)                                \
  do {                                                 \
    auto&& skiff_try_r_ = (expr);                      \
    if (!skiff_try_r_.ok()) return skiff_try_r_.error(); \
  } while (0)

}  // namespace skiff

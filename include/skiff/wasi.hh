// WASI preview 1 (`wasi_snapshot_preview1`) for embedders.
//
//   skiff::wasi::Config config;
//   config.args({"app.wasm", "x"}).env("HOME", "/").preopen_dir("/srv/data", "/data", true);
//   config.stdout_to_buffer();
//   auto ctx = skiff::wasi::Context::create(config);
//   skiff::wasi::add_to_linker(linker, *ctx);
//   ... instantiate, call "_start"; a Trap of kind Exit carries proc_exit's code.
//   ctx.value()->stdout_contents();
//
// Every context owns its own file descriptor table, so several contexts (and
// several instances) run side by side in one process.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "skiff/result.h"
#include "skiff/skiff.hh"

namespace skiff::wasi {

// Where one of the guest's standard streams goes.
struct StdioSpec {
  enum class Kind : uint8_t { Inherit, HostFd, Buffer };
  Kind kind = Kind::Inherit;
  int host_fd = -1;       // Kind::HostFd: used as is, never closed by the context
  std::string input;      // Kind::Buffer on stdin: the bytes the guest reads
};

struct PreopenSpec {
  std::string host_path;
  std::string guest_path;
  bool read_only = false;
};

class Config {
 public:
  // argv as the guest sees it, argv[0] included.
  Config& args(std::vector<std::string> argv) { args_ = std::move(argv); return *this; }
  Config& arg(std::string a) { args_.push_back(std::move(a)); return *this; }
  // One NAME=VALUE pair; nothing from the host environment is passed otherwise.
  Config& env(std::string name, std::string value) {
    env_.push_back(std::move(name) + "=" + std::move(value));
    return *this;
  }
  Config& preopen_dir(std::string host_path, std::string guest_path, bool read_only = false) {
    preopens_.push_back({std::move(host_path), std::move(guest_path), read_only});
    return *this;
  }
  Config& inherit_stdio() { stdin_ = stdout_ = stderr_ = StdioSpec{}; return *this; }
  Config& stdin_from_fd(int fd) { stdin_ = {StdioSpec::Kind::HostFd, fd, {}}; return *this; }
  Config& stdout_to_fd(int fd) { stdout_ = {StdioSpec::Kind::HostFd, fd, {}}; return *this; }
  Config& stderr_to_fd(int fd) { stderr_ = {StdioSpec::Kind::HostFd, fd, {}}; return *this; }
  Config& stdin_from_buffer(std::string data) { stdin_ = {StdioSpec::Kind::Buffer, -1, std::move(data)}; return *this; }
  Config& stdout_to_buffer() { stdout_ = {StdioSpec::Kind::Buffer, -1, {}}; return *this; }
  Config& stderr_to_buffer() { stderr_ = {StdioSpec::Kind::Buffer, -1, {}}; return *this; }
  // Tests: resolve paths with the portable O_NOFOLLOW walk even where the
  // kernel has openat2(RESOLVE_BENEATH).
  Config& force_path_walk(bool on = true) { force_path_walk_ = on; return *this; }

  const std::vector<std::string>& argv() const { return args_; }
  const std::vector<std::string>& environ() const { return env_; }
  const std::vector<PreopenSpec>& preopens() const { return preopens_; }
  const StdioSpec& stdin_spec() const { return stdin_; }
  const StdioSpec& stdout_spec() const { return stdout_; }
  const StdioSpec& stderr_spec() const { return stderr_; }
  bool path_walk_forced() const { return force_path_walk_; }

 private:
  std::vector<std::string> args_;
  std::vector<std::string> env_;
  std::vector<PreopenSpec> preopens_;
  StdioSpec stdin_, stdout_, stderr_;
  bool force_path_walk_ = false;
};

struct ContextState;

// The state of one WASI guest: its fd table, arguments and environment.
class Context {
 public:
  // Opens the preopened directories (an IoError names one that cannot be opened).
  static Result<std::shared_ptr<Context>> create(const Config& config);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // What the guest wrote to a buffered stdout / stderr so far.
  std::string stdout_contents() const;
  std::string stderr_contents() const;

  ContextState& state() { return *state_; }

 private:
  Context();
  std::unique_ptr<ContextState> state_;
};

// Defines all 46 `wasi_snapshot_preview1` functions on `linker`, bound to `ctx`.
Result<void> add_to_linker(Linker& linker, std::shared_ptr<Context> ctx);

// The preview 1 errno values used by the host functions.
namespace errno_value {
constexpr uint16_t kSuccess = 0, k2Big = 1, kAcces = 2, kAgain = 6, kBadf = 8, kBusy = 10,
                   kExist = 20, kFault = 21, kFbig = 22, kIlseq = 25, kIntr = 27, kInval = 28,
                   kIo = 29, kIsdir = 31, kLoop = 32, kMfile = 33, kMlink = 34,
                   kNametoolong = 37, kNoent = 44, kNomem = 48, kNospc = 51, kNosys = 52,
                   kNotdir = 54, kNotempty = 55, kNotsock = 57, kNotsup = 58, kNotty = 59,
                   kNxio = 60, kOverflow = 61, kPerm = 63, kPipe = 64, kRange = 68, kRofs = 69,
                   kSpipe = 70, kXdev = 75, kNotcapable = 76;
}

}  // namespace skiff::wasi

// The `skiff` command: run, validate and inspect WebAssembly modules.
// Uses only the public API (skiff/skiff.hh). Errors are one line on stderr,
// "skiff: error: ...", and the exit code says which stage failed
// (skiff::exit_code, documented in README.md).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "skiff/skiff.hh"
#include "skiff/wasi.hh"

namespace {

namespace ec = skiff::exit_code;

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "skiff: error: %s\n", message.c_str());
  return code;
}

int exit_code_for(skiff::Phase phase) {
  switch (phase) {
    case skiff::Phase::Decode:
    case skiff::Phase::Validate: return ec::kInvalidModule;
    case skiff::Phase::Link: return ec::kLinkError;
    case skiff::Phase::Instantiate:
    case skiff::Phase::Runtime: return ec::kTrap;
    case skiff::Phase::Io: return ec::kIo;
    case skiff::Phase::Usage: return ec::kUsage;
  }
  return ec::kUsage;
}

// Names may hold any bytes; keep the terminal output readable.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c != 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%02x", c);
      out += buf;
    }
  }
  return out;
}

bool read_file(const std::string& path, std::vector<uint8_t>& bytes, std::string& error) {
  auto read = skiff::Module::read_file(path);
  if (!read) {
    error = "cannot read " + read.error().detail;
    return false;
  }
  bytes = std::move(read.value());
  return true;
}

// Reads and compiles; on failure prints the error and sets `exit`.
std::optional<skiff::Module> load(const skiff::Engine& engine, const std::string& path, int& exit) {
  std::vector<uint8_t> bytes;
  std::string error;
  if (!read_file(path, bytes, error)) {
    exit = fail(ec::kIo, error);
    return std::nullopt;
  }
  // A .skc from `skiff compile` runs its machine code, whatever the tier.
  if (skiff::Module::is_precompiled(bytes)) {
    auto module = skiff::Module::deserialize(engine, bytes);
    if (!module) {
      exit = fail(ec::kInvalidModule, path + ": " + module.error().to_string());
      return std::nullopt;
    }
    return std::move(module.value());
  }
  auto module = skiff::Module::compile(engine, std::move(bytes));
  if (!module) {
    const skiff::Error& e = module.error();
    // Tier 2 unavailable or failing is not the module's fault.
    if (e.code == skiff::ErrorCode::UsageError || e.code == skiff::ErrorCode::Internal) {
      exit = fail(e.code == skiff::ErrorCode::UsageError ? ec::kUsage : exit_code_for(e.phase()), e.to_string());
      return std::nullopt;
    }
    const char* what = e.phase() == skiff::Phase::Decode ? "malformed module" : "invalid module";
    exit = fail(exit_code_for(e.phase()), path + ": " + what + ": " + e.to_string());
    return std::nullopt;
  }
  return std::move(module.value());
}

// ---------------------------------------------------------------- arguments

bool parse_int(const std::string& text, int bits, int64_t& out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  if (text[0] == '-') {
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (errno || *end) return false;
    if (bits == 32 && v < INT32_MIN) return false;
    out = v;
  } else {
    // Unsigned spellings up to 2^bits - 1 wrap, as wasm values are bit patterns.
    unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (errno || *end || !std::isdigit(static_cast<unsigned char>(text[0]))) return false;
    if (bits == 32 && v > UINT32_MAX) return false;
    out = static_cast<int64_t>(v);
  }
  return true;
}

bool parse_arg(const std::string& text, skiff::ValType type, skiff::Val& out) {
  using skiff::Val;
  using skiff::ValType;
  int64_t i = 0;
  char* end = nullptr;
  switch (type) {
    case ValType::I32:
      if (!parse_int(text, 32, i)) return false;
      out = Val::make_i32(static_cast<int32_t>(static_cast<uint32_t>(i)));
      return true;
    case ValType::I64:
      if (!parse_int(text, 64, i)) return false;
      out = Val::make_i64(i);
      return true;
    case ValType::F32: {
      if (text.empty()) return false;
      float f = std::strtof(text.c_str(), &end);
      if (*end) return false;
      out = Val::make_f32(f);
      return true;
    }
    case ValType::F64: {
      if (text.empty()) return false;
      double d = std::strtod(text.c_str(), &end);
      if (*end) return false;
      out = Val::make_f64(d);
      return true;
    }
    default:
      return false;  // v128 and references have no command-line spelling
  }
}

// ---------------------------------------------------------------- commands

int report_trap(const std::string& path, const skiff::Trap& trap) {
  if (trap.kind == skiff::TrapKind::Exit) return trap.exit_code;  // proc_exit: a normal end
  // A stack overflow has thousands of frames: show the innermost ones.
  constexpr size_t kMaxFrames = 20;
  std::string text = path + ": wasm trap: " + trap.what();
  for (size_t i = 0; i < trap.backtrace.size() && i < kMaxFrames; ++i) {
    const skiff::BacktraceFrame& f = trap.backtrace[i];
    std::string name = f.func_name.empty() ? "<unnamed>" : printable(f.func_name);
    if (!f.module_name.empty()) name = printable(f.module_name) + "::" + name;
    text += "\n  at " + name + " (func " + std::to_string(f.func_index) + ")";
  }
  if (trap.backtrace.size() > kMaxFrames)
    text += "\n  ... " + std::to_string(trap.backtrace.size() - kMaxFrames) + " more frames";
  return fail(ec::kTrap, text);
}

// What `skiff run` grants the guest.
struct RunOptions {
  std::string invoke;
  std::vector<std::string> dirs, dirs_ro, envs;
  std::string argv0;
  std::string fuel, timeout, max_memory;  // resource limits; empty = none
  std::string tier = "auto";               // auto | interp | jit | baseline
  bool no_cache = false;
};

// HOST[::GUEST], as wasmtime spells it: `--dir .` maps the current directory as `.`.
void add_preopen(skiff::wasi::Config& config, const std::string& spec, bool read_only) {
  size_t sep = spec.find("::");
  if (sep == std::string::npos) config.preopen_dir(spec, spec, read_only);
  else config.preopen_dir(spec.substr(0, sep), spec.substr(sep + 2), read_only);
}

// NAME=VALUE sets a variable; a bare NAME passes the host's value, if it has one.
bool add_env(skiff::wasi::Config& config, const std::string& spec, std::string& error) {
  size_t eq = spec.find('=');
  std::string name = spec.substr(0, eq);
  if (name.empty()) {
    error = "--env \"" + spec + "\": expected NAME=VALUE or NAME";
    return false;
  }
  if (eq != std::string::npos) {
    config.env(name, spec.substr(eq + 1));
  } else if (const char* value = std::getenv(name.c_str())) {
    config.env(name, value);
  }
  return true;
}

std::string base_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "compiling: 1234/5678 functions" on stderr while tier 2 compiles, when
// stderr is a terminal; erased when done.
class CompileProgress {
 public:
  CompileProgress() : on_(isatty(STDERR_FILENO) == 1) {}
  ~CompileProgress() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }
  void attach(skiff::EngineConfig& config) {
    if (!on_) return;
    config.compile_progress = [this](uint32_t done, uint32_t total) {
      std::fprintf(stderr, "\rcompiling: %u/%u functions", done, total);
      std::fflush(stderr);
      shown_ = true;
    };
  }

 private:
  bool on_;
  bool shown_ = false;
};

// Tier 2's on-disk cache, as wasmtime keeps one: $SKIFF_CACHE_DIR, else
// $XDG_CACHE_HOME/skiff, else ~/.cache/skiff.
std::string default_cache_dir() {
  if (const char* dir = std::getenv("SKIFF_CACHE_DIR")) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') return std::string(xdg) + "/skiff";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') return std::string(home) + "/.cache/skiff";
  return {};
}

int link_error(const std::string& path, const skiff::Module& module, const skiff::Error& e) {
  std::string message = e.to_string();
  if (e.code == skiff::ErrorCode::UnknownImport) {
    bool preview2 = false;
    for (const auto& imp : module.imports()) {
      if (imp.module == "wasi_snapshot_preview1") continue;
      // Older engines leave the name out of the error: list what nobody provides.
      if (e.detail.empty()) message += ": " + printable(imp.module) + "::" + printable(imp.name) + " (" + imp.type + ")";
      preview2 |= imp.module.starts_with("wasi:");
    }
    if (preview2) message += "; this module needs WASI 0.2 (the component model), skiff runs WASI preview 1 modules";
    else if (e.detail.find("\"wasi_snapshot_preview1\"") != std::string::npos) message += "; not a WASI preview 1 function";
    else message += "; `skiff run` provides only wasi_snapshot_preview1 (WASI preview 1)";
  }
  return fail(ec::kLinkError, path + ": " + message);
}

int cmd_run(const std::string& path, const RunOptions& options, const std::vector<std::string>& args) {
  skiff::EngineConfig engine_config;
  engine_config.tier = options.tier == "jit"        ? skiff::Tier::Jit
                       : options.tier == "interp"   ? skiff::Tier::Interp
                       : options.tier == "baseline" ? skiff::Tier::Baseline
                                                    : skiff::Tier::Auto;
  if (!options.no_cache) engine_config.cache_dir = default_cache_dir();
  engine_config.cache_hot_modules = true;  // so a second `run` starts with machine code
  // Fuel and deadline checks cost compiled code a test per call and loop
  // iteration: compile them in only when this run sets a limit.
  engine_config.interruptible = !options.fuel.empty() || !options.timeout.empty();
  static CompileProgress progress;  // outlives every compile
  progress.attach(engine_config);
  // Never destroyed: that would wait for a tier-up compile in progress
  // (LLVM cannot be interrupted); main() ends `run` with _exit instead.
  const skiff::Engine& engine = *new skiff::Engine(engine_config);
  int exit = 0;
  auto module = load(engine, path, exit);
  if (!module) return exit;

  // With --invoke the arguments are the function's parameters, not argv.
  skiff::wasi::Config config;
  config.arg(options.argv0.empty() ? base_name(path) : options.argv0);
  if (options.invoke.empty())
    for (const auto& a : args) config.arg(a);
  for (const auto& d : options.dirs) add_preopen(config, d, false);
  for (const auto& d : options.dirs_ro) add_preopen(config, d, true);
  for (const auto& e : options.envs) {
    std::string error;
    if (!add_env(config, e, error)) return fail(ec::kUsage, error);
  }
  auto context = skiff::wasi::Context::create(config);
  if (!context) return fail(ec::kIo, context.error().to_string());

  skiff::Store store(engine);
  if (!options.max_memory.empty()) {
    auto bytes = skiff::parse_byte_size(options.max_memory);
    if (!bytes) return fail(ec::kUsage, "--max-memory: " + bytes.error().to_string());
    skiff::StoreLimits limits;
    limits.max_memory_bytes = bytes.value();
    store.set_limits(limits);
  }
  if (!options.fuel.empty()) {
    char* end = nullptr;
    errno = 0;
    unsigned long long fuel = std::strtoull(options.fuel.c_str(), &end, 10);
    if (errno || end == options.fuel.c_str() || *end || options.fuel[0] == '-')
      return fail(ec::kUsage, "--fuel: expected a non-negative integer, got \"" + options.fuel + "\"");
    store.set_fuel(fuel);
  }
  std::unique_ptr<skiff::EpochTicker> ticker;  // must outlive the run
  if (!options.timeout.empty()) {
    auto timeout = skiff::parse_duration(options.timeout);
    if (!timeout) return fail(ec::kUsage, "--timeout: " + timeout.error().to_string());
    ticker = std::make_unique<skiff::EpochTicker>(engine, std::chrono::milliseconds(1));
    store.set_epoch_deadline(ticker->ticks_for(timeout.value()));
  }
  skiff::Linker linker(engine);
  if (auto added = skiff::wasi::add_to_linker(linker, context.value()); !added)
    return fail(ec::kLinkError, added.error().to_string());
  auto instance = linker.instantiate(store, *module);
  if (!instance) {
    const skiff::Error& e = instance.error();
    if (e.phase() == skiff::Phase::Link) return link_error(path, *module, e);
    if (e.code == skiff::ErrorCode::StartFunctionExited) {
      std::fflush(stdout);
      return std::atoi(e.detail.c_str());  // proc_exit(n) in the start section: exit n
    }
    if (e.phase() == skiff::Phase::Instantiate)
      return fail(ec::kTrap, path + ": instantiation failed: " + e.to_string());
    return fail(exit_code_for(e.phase()), path + ": " + e.to_string());
  }

  const std::string& invoke = options.invoke;
  if (!invoke.empty()) {
    // A WASI reactor sets itself up in `_initialize` before any other export runs.
    if (auto init = instance->func("_initialize"); init && init->type().params.empty()) {
      auto done = init->call(std::span<const skiff::Val>());
      if (!done) return report_trap(path, done.error());
    }
  }
  std::string entry = invoke;
  if (entry.empty()) {
    // The start function already ran during instantiation; `_start` is the
    // command-module entry point.
    if (!instance->func("_start")) return ec::kOk;
    entry = "_start";
  }
  auto func = instance->func(entry);
  if (!func) {
    std::string message = path + ": no exported function \"" + printable(entry) + "\"";
    auto exports = module->exports();
    std::string names;
    for (const auto& e : exports)
      if (e.kind == skiff::ExternKind::Func) names += (names.empty() ? "" : ", ") + printable(e.name);
    message += names.empty() ? " (it exports no functions)" : " (exported functions: " + names + ")";
    return fail(ec::kLinkError, message);
  }

  const skiff::FuncType& type = func->type();
  std::vector<skiff::Val> values;
  if (!invoke.empty()) {
    if (args.size() != type.params.size())
      return fail(ec::kUsage, "\"" + printable(entry) + "\" takes " + std::to_string(type.params.size()) +
                                  " argument(s) " + type.to_string() + ", got " + std::to_string(args.size()));
    for (size_t i = 0; i < args.size(); ++i) {
      skiff::Val v;
      if (!parse_arg(args[i], type.params[i], v))
        return fail(ec::kUsage, "argument " + std::to_string(i + 1) + " \"" + args[i] + "\" is not a valid " +
                                    skiff::to_string(type.params[i]));
      values.push_back(v);
    }
  } else if (!type.params.empty()) {
    return fail(ec::kUsage, "_start takes parameters " + type.to_string() + "; use --invoke");
  }

  auto results = func->call(std::span<const skiff::Val>(values));
  if (!results) return report_trap(path, results.error());
  for (const skiff::Val& v : results.value()) std::printf("%s\n", v.to_string().c_str());
  return ec::kOk;
}

int cmd_compile(const std::string& path, std::string output, bool interruptible) {
  if (output.empty()) {
    output = path.size() > 5 && path.ends_with(".wasm") ? path.substr(0, path.size() - 5) : path;
    output += ".skc";
  }
  std::vector<uint8_t> bytes;
  std::string error;
  if (!read_file(path, bytes, error)) return fail(ec::kIo, error);
  skiff::EngineConfig config;
  config.tier = skiff::Tier::Jit;
  config.interruptible = interruptible;
  CompileProgress progress;
  progress.attach(config);
  auto skc = skiff::Module::precompile(skiff::Engine(config), std::move(bytes));
  if (!skc) {
    const skiff::Error& e = skc.error();
    if (e.code == skiff::ErrorCode::UsageError) return fail(ec::kUsage, e.to_string());
    const char* what = e.phase() == skiff::Phase::Decode ? "malformed module" : "invalid module";
    return fail(exit_code_for(e.phase()), path + ": " + what + ": " + e.to_string());
  }
  FILE* out = std::fopen(output.c_str(), "wb");
  bool ok = out != nullptr && std::fwrite(skc.value().data(), 1, skc.value().size(), out) == skc.value().size();
  if (out != nullptr && std::fclose(out) != 0) ok = false;
  if (!ok) return fail(ec::kIo, output + ": cannot write: " + std::strerror(errno));
  return ec::kOk;
}

int cmd_validate(const std::string& path) {
  skiff::Engine engine;
  int exit = 0;
  if (!load(engine, path, exit)) return exit;
  std::printf("ok\n");
  return ec::kOk;
}

const char* section_label(const skiff::SectionDesc& s) {
  return s.id == 0 ? "custom" : s.name.c_str();
}

int cmd_inspect(const std::string& path) {
  skiff::Engine engine;
  int exit = 0;
  auto module = load(engine, path, exit);
  if (!module) return exit;

  std::printf("module: %s\n", path.c_str());
  auto sections = module->sections();
  std::printf("sections (%zu):\n", sections.size());
  std::printf("  %-3s %-20s %10s %10s\n", "id", "name", "offset", "size");
  for (const auto& s : sections) {
    std::string name = section_label(s);
    if (s.id == 0) name += " \"" + printable(s.name) + "\"";
    std::printf("  %-3u %-20s %#10x %10u\n", s.id, name.c_str(), s.offset, s.size);
  }

  auto imports = module->imports();
  std::printf("imports (%zu):\n", imports.size());
  for (const auto& i : imports)
    std::printf("  %-6s %s::%s: %s\n", skiff::to_string(i.kind), printable(i.module).c_str(), printable(i.name).c_str(),
                i.type.c_str());

  auto exports = module->exports();
  std::printf("exports (%zu):\n", exports.size());
  for (const auto& e : exports) {
    std::string detail;
    if (e.kind == skiff::ExternKind::Func) {
      if (auto t = module->export_func_type(e.name)) detail = ": " + t->to_string();
    }
    std::printf("  %-6s %s (index %u)%s\n", skiff::to_string(e.kind), printable(e.name).c_str(), e.index,
                detail.c_str());
  }

  uint32_t total = module->num_functions(), imported = module->num_imported_functions();
  std::printf("functions: %u (%u imported, %u defined)\n", total, imported, total - imported);
  return ec::kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Skiff: a WebAssembly runtime.\n\n"
               "Exit codes: 0 ok, 2 usage, 3 cannot read file, 4 invalid or malformed module,\n"
               "5 link error (unresolved import, missing export), 6 wasm trap.\n"
               "`skiff run` of a WASI command exits with the guest's exit code.",
               "skiff"};
  app.set_version_flag("-V,--version", std::string("skiff ") + SKIFF_VERSION);
  app.require_subcommand(1);

  std::string file;
  RunOptions run_options;
  std::vector<std::string> run_args;
  auto* run = app.add_subcommand(
      "run", "Run a module: its start function and `_start` (a WASI command), or one export with --invoke.\n"
             "The guest gets WASI preview 1 with only what the options grant; its exit code is skiff's.");
  run->add_option("--invoke", run_options.invoke,
                  "Call this exported function (after `_initialize`, if exported); ARGS are its parameters, "
                  "results print one per line");
  run->add_option("--dir", run_options.dirs, "Preopen host directory HOST as GUEST (default: HOST as given)")
      ->type_name("HOST[::GUEST]")
      ->allow_extra_args(false);
  run->add_option("--dir-ro", run_options.dirs_ro, "Like --dir, but the guest can only read through it")
      ->type_name("HOST[::GUEST]")
      ->allow_extra_args(false);
  run->add_option("--env", run_options.envs, "Set a guest environment variable, or pass the host's value of NAME")
      ->type_name("NAME[=VALUE]")
      ->allow_extra_args(false);
  run->add_option("--argv0", run_options.argv0, "The guest's argv[0] (default: the module's file name)");
  run->add_option("--fuel", run_options.fuel, "Trap after N units of fuel (one per function entry or loop iteration)")
      ->type_name("N");
  run->add_option("--timeout", run_options.timeout, "Trap when the run takes longer, e.g. 2s, 500ms")
      ->type_name("DURATION");
  run->add_option("--max-memory", run_options.max_memory,
                  "Cap the total size of linear memories in bytes (K/M/G suffixes); memory.grow past it fails")
      ->type_name("BYTES");
  run->add_option("--tier", run_options.tier,
                  "Execution tier: auto (default: start in the interpreter, compile hot functions with LLVM in "
                  "the background), interp (tier 0 only), jit (LLVM-compile every function first) or baseline "
                  "(compile every function tier 1's single-pass compiler supports first, interpret the rest)")
      ->check(CLI::IsMember({"auto", "interp", "jit", "baseline"}))
      ->type_name("TIER");
  run->add_flag("--no-cache", run_options.no_cache,
               "Neither read nor write tier 2's compile cache ($SKIFF_CACHE_DIR, else ~/.cache/skiff)");
  run->add_option("file", file, "The .wasm file, or a .skc file from `skiff compile`")->required();
  run->add_option("args", run_args,
                  "The guest's arguments, even if they start with `-`; with --invoke: one per parameter "
                  "(i32/i64 decimal, f32/f64 decimal, inf, nan)");
  // Everything after FILE belongs to the guest (or is a parameter, e.g. a negative number).
  run->positionals_at_end();

  std::string compile_output;
  auto* compile = app.add_subcommand(
      "compile", "Compile a module ahead of time with tier 2 (LLVM) into a .skc file that `skiff run` starts "
                 "without compiling");
  compile->add_option("-o,--output", compile_output, "The .skc file to write (default: FILE with .skc for .wasm)");
  bool compile_interruptible = false;
  compile->add_flag("--interruptible", compile_interruptible,
                    "Compile in fuel and deadline checks, for `skiff run --fuel/--timeout` (without them such runs "
                    "interpret the module)");
  compile->add_option("file", file, "The .wasm file")->required();

  auto* validate = app.add_subcommand("validate", "Decode and validate a module; print `ok` or the error with its byte offset");
  validate->add_option("file", file, "The .wasm file")->required();

  auto* inspect = app.add_subcommand("inspect", "List a module's sections, imports, exports and function counts");
  inspect->add_option("file", file, "The .wasm file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (what.empty()) what = "bad usage";
    return fail(ec::kUsage, what + " (see `skiff --help`)");
  }

  if (run->parsed()) {
    int code = cmd_run(file, run_options, run_args);
    // Without waiting for a background compile (see cmd_run) or running
    // static destructors while it may still use LLVM.
    std::fflush(nullptr);
    _exit(code);
  }
  if (compile->parsed()) return cmd_compile(file, compile_output, compile_interruptible);
  if (validate->parsed()) return cmd_validate(file);
  if (inspect->parsed()) return cmd_inspect(file);
  return fail(ec::kUsage, "no command given (see `skiff --help`)");
}

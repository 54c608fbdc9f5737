// skiff_spec: runs the JSON that wast2json writes for the WebAssembly spec
// testsuite (see ../shared/testsuite/FORMAT.md) against the public API.
//
//   skiff_spec [--tier=interp|jit|aot|auto|baseline] [--verbose] [--skip-list=FILE] [--max-details=N]
//              [--not-converted=FILE] [--timeout=SECONDS] [--no-fork] [--max-left-out=N] JSON...
//
// --max-left-out=N (tier baseline): fails the run when tier 1 leaves more
// than N functions to the interpreter, so that a function it stops
// compiling (a safe fallback that passes every test) is noticed.
//
// --tier=auto tiers up as early as it can, synchronously (a threshold of 1
// and $SKIFF_TIERUP_SYNC): a function runs in machine code from its second
// call, and a frame moves into its loop's code (on-stack replacement) at
// the loop's second iteration.
//
// Each JSON file runs in a forked child so that an engine crash, a hang or a
// native stack overflow costs that file's remaining commands, not the whole
// run. Counters live in shared memory, so the parent knows how far a crashed
// child got. The last line printed is "N passed, N failed, N skipped".
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "baseline/baseline.h"
#include "skiff/skiff.hh"
#include "spectest.h"

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// ---------------------------------------------------------------- options

struct Options {
  bool verbose = false;
  bool fork_per_file = true;
  skiff::Tier tier = skiff::Tier::Interp;
  bool aot = false;  // every module through Module::precompile + deserialize (a .skc round trip)
  int max_details = 5;
  unsigned timeout_seconds = 600;
  std::string skip_list_path;
  std::string not_converted_path;
  std::vector<std::string> json_files;
  int64_t max_left_out = -1;  // -1: any number
};

// ---------------------------------------------------------------- skip list

// One checked-in skip rule. Selector forms:
//   TYPE[:MODULE_TYPE]   e.g. assert_malformed:text
//   FILE.wast[:LINE]     e.g. simd/simd_lane.wast:120
struct SkipRule {
  std::string selector;
  std::string reason;
  std::string command_type, module_type;  // command form
  std::string file;                       // file form
  long line = -1;

  bool matches(const std::string& file_name, const std::string& type, const std::string& mod_type,
               long cmd_line) const {
    if (!file.empty()) {
      bool same_file = file_name == file || file_name.ends_with("/" + file);
      return same_file && (line < 0 || line == cmd_line);
    }
    return type == command_type && (module_type.empty() || module_type == mod_type);
  }
};

constexpr size_t kMaxSkipRules = 64;

bool load_skip_list(const std::string& path, std::vector<SkipRule>& rules, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read skip list " + path;
    return false;
  }
  std::string text;
  for (int line_no = 1; std::getline(in, text); ++line_no) {
    size_t start = text.find_first_not_of(" \t");
    if (start == std::string::npos || text[start] == '#') continue;
    size_t end = text.find_first_of(" \t", start);
    SkipRule rule;
    rule.selector = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (end != std::string::npos) {
      size_t reason_start = text.find_first_not_of(" \t", end);
      if (reason_start != std::string::npos) rule.reason = text.substr(reason_start);
    }
    if (rule.reason.empty()) {
      error = path + ":" + std::to_string(line_no) + ": every skip entry needs a reason";
      return false;
    }
    size_t wast = rule.selector.find(".wast");
    if (wast != std::string::npos) {
      rule.file = rule.selector.substr(0, wast + 5);
      if (rule.selector.size() > wast + 5) {
        if (rule.selector[wast + 5] != ':') {
          error = path + ":" + std::to_string(line_no) + ": bad selector " + rule.selector;
          return false;
        }
        rule.line = std::strtol(rule.selector.c_str() + wast + 6, nullptr, 10);
      }
    } else {
      size_t colon = rule.selector.find(':');
      rule.command_type = rule.selector.substr(0, colon);
      if (colon != std::string::npos) rule.module_type = rule.selector.substr(colon + 1);
    }
    rules.push_back(std::move(rule));
  }
  if (rules.size() > kMaxSkipRules) {
    error = "skip list has more than " + std::to_string(kMaxSkipRules) + " entries";
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- counters

// Written by the child that runs a file, read by the parent afterwards.
struct FileCounters {
  uint64_t total_commands;
  uint64_t processed;
  uint64_t passed;
  uint64_t failed;
  uint64_t skipped;
  uint64_t text_mismatches;
  int64_t current_line;
  uint64_t skip_hits[kMaxSkipRules];
  uint64_t baseline_compiled;  // --tier=baseline: functions tier 1 compiled
  uint64_t baseline_left_out;  // ... and left interpreted
};

// ---------------------------------------------------------------- values

bool parse_u64(const std::string& s, uint64_t& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 10);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::optional<skiff::ValType> parse_type(const std::string& s) {
  using skiff::ValType;
  if (s == "i32") return ValType::I32;
  if (s == "i64") return ValType::I64;
  if (s == "f32") return ValType::F32;
  if (s == "f64") return ValType::F64;
  if (s == "v128") return ValType::V128;
  if (s == "funcref") return ValType::FuncRef;
  if (s == "externref") return ValType::ExternRef;
  return std::nullopt;
}

// Lane width in bytes and whether lanes are floats, for a v128 lane_type.
bool lane_shape(const std::string& lane_type, unsigned& width, bool& is_float) {
  is_float = lane_type == "f32" || lane_type == "f64";
  if (lane_type == "i8") width = 1;
  else if (lane_type == "i16") width = 2;
  else if (lane_type == "i32" || lane_type == "f32") width = 4;
  else if (lane_type == "i64" || lane_type == "f64") width = 8;
  else return false;
  return true;
}

// The host word that stands for (ref.extern N): unique, non-null, stable.
uint64_t extern_word(uint64_t n) { return n + 1; }

// A JSON argument value -> Val. Throws std::runtime_error on malformed JSON.
skiff::Val parse_arg(const json& v) {
  using skiff::Val;
  using skiff::ValType;
  std::string type_name = v.at("type").get<std::string>();
  auto type = parse_type(type_name);
  if (!type) throw std::runtime_error("unknown value type " + type_name);
  if (*type == ValType::V128) {
    std::string lane_type = v.at("lane_type").get<std::string>();
    unsigned width;
    bool is_float;
    if (!lane_shape(lane_type, width, is_float)) throw std::runtime_error("bad lane_type " + lane_type);
    const json& lanes = v.at("value");
    if (lanes.size() != 16 / width) throw std::runtime_error("wrong lane count");
    skiff::V128 vec{};
    for (unsigned i = 0; i < lanes.size(); ++i) {
      uint64_t bits;
      if (!parse_u64(lanes[i].get<std::string>(), bits)) throw std::runtime_error("bad lane value");
      std::memcpy(vec.bytes + i * width, &bits, width);  // little-endian host
    }
    return Val::make_v128(vec);
  }
  std::string text = v.at("value").get<std::string>();
  if (is_ref(*type)) {
    if (text == "null") return Val::null_of(*type);
    uint64_t n;
    if (*type != ValType::ExternRef || !parse_u64(text, n)) throw std::runtime_error("bad reference " + text);
    return Val::make_externref(extern_word(n));
  }
  uint64_t bits;
  if (!parse_u64(text, bits)) throw std::runtime_error("bad number " + text);
  switch (*type) {
    case ValType::I32: return Val::make_i32(static_cast<int32_t>(static_cast<uint32_t>(bits)));
    case ValType::I64: return Val::make_i64(static_cast<int64_t>(bits));
    case ValType::F32: return Val::make_f32_bits(static_cast<uint32_t>(bits));
    default: return Val::make_f64_bits(bits);
  }
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

// The runner's own rendering (independent of Val::to_string, which is
// engine code under test): exact bits for floats.
std::string show(const skiff::Val& v) {
  using skiff::ValType;
  char buf[96];
  switch (v.type) {
    case ValType::I32:
      std::snprintf(buf, sizeof buf, "i32:%" PRId32, v.of.i32);
      return buf;
    case ValType::I64:
      std::snprintf(buf, sizeof buf, "i64:%" PRId64, v.of.i64);
      return buf;
    case ValType::F32:
      std::snprintf(buf, sizeof buf, "f32:%.9g(0x%08" PRIx32 ")", static_cast<double>(v.of.f32), v.f32_bits());
      return buf;
    case ValType::F64:
      std::snprintf(buf, sizeof buf, "f64:%.17g(0x%016" PRIx64 ")", v.of.f64, v.f64_bits());
      return buf;
    case ValType::V128: {
      std::string s = "v128:";
      for (int i = 0; i < 16; ++i) {
        std::snprintf(buf, sizeof buf, "%02x", v.of.v128.bytes[i]);
        s += buf;
        if (i % 4 == 3 && i != 15) s += "_";
      }
      return s;
    }
    case ValType::FuncRef:
      return v.is_null() ? "funcref:null" : "funcref:" + hex(v.of.ref);
    case ValType::ExternRef:
      return v.is_null() ? "externref:null" : "externref:" + hex(v.of.ref);
  }
  return "?";
}

std::string show_expected(const json& e) {
  std::string s = e.value("type", std::string("?"));
  if (e.contains("lane_type")) s += "x" + e["lane_type"].get<std::string>();
  if (!e.contains("value")) return s;
  s += ":";
  // Integers as signed decimal, like show(), so both sides read alike.
  uint64_t bits;
  if (s == "i32:" && parse_u64(e["value"].get<std::string>(), bits))
    return s + std::to_string(static_cast<int32_t>(static_cast<uint32_t>(bits)));
  if (s == "i64:" && parse_u64(e["value"].get<std::string>(), bits))
    return s + std::to_string(static_cast<int64_t>(bits));
  if (e["value"].is_array()) {
    for (size_t i = 0; i < e["value"].size(); ++i) s += (i ? " " : "") + e["value"][i].get<std::string>();
  } else {
    s += e["value"].get<std::string>();
  }
  return s;
}

std::string show_vals(const std::vector<skiff::Val>& vals) {
  std::string s = "(";
  for (size_t i = 0; i < vals.size(); ++i) s += (i ? ", " : "") + show(vals[i]);
  return s + ")";
}

std::string show_expected_list(const json& list) {
  std::string s = "(";
  for (size_t i = 0; i < list.size(); ++i) s += (i ? ", " : "") + show_expected(list[i]);
  return s + ")";
}

bool float_matches(const std::string& text, uint64_t bits, unsigned width) {
  const uint64_t sign = width == 4 ? 0x80000000ull : 0x8000000000000000ull;
  const uint64_t canonical = width == 4 ? 0x7fc00000ull : 0x7ff8000000000000ull;
  if (text == "nan:canonical") return (bits & ~sign) == canonical;
  if (text == "nan:arithmetic") return (bits & canonical) == canonical;
  uint64_t want;
  if (!parse_u64(text, want)) throw std::runtime_error("bad float expectation " + text);
  return bits == want;
}

// Does `got` satisfy the expected JSON value?
bool matches(const json& expected, const skiff::Val& got) {
  using skiff::ValType;
  auto type = parse_type(expected.at("type").get<std::string>());
  if (!type) throw std::runtime_error("unknown expected type");
  if (got.type != *type) return false;
  if (*type == ValType::V128) {
    std::string lane_type = expected.at("lane_type").get<std::string>();
    unsigned width;
    bool is_float;
    if (!lane_shape(lane_type, width, is_float)) throw std::runtime_error("bad lane_type " + lane_type);
    const json& lanes = expected.at("value");
    if (lanes.size() != 16 / width) throw std::runtime_error("wrong lane count");
    for (unsigned i = 0; i < lanes.size(); ++i) {
      uint64_t lane = 0;
      std::memcpy(&lane, got.of.v128.bytes + i * width, width);
      std::string text = lanes[i].get<std::string>();
      if (is_float) {
        if (!float_matches(text, lane, width)) return false;
      } else {
        uint64_t want;
        if (!parse_u64(text, want)) throw std::runtime_error("bad lane " + text);
        if (lane != want) return false;
      }
    }
    return true;
  }
  std::string text = expected.at("value").get<std::string>();
  switch (*type) {
    case ValType::I32: {
      uint64_t want;
      if (!parse_u64(text, want)) throw std::runtime_error("bad i32 " + text);
      return static_cast<uint32_t>(got.of.i32) == want;
    }
    case ValType::I64: {
      uint64_t want;
      if (!parse_u64(text, want)) throw std::runtime_error("bad i64 " + text);
      return static_cast<uint64_t>(got.of.i64) == want;
    }
    case ValType::F32: return float_matches(text, got.f32_bits(), 4);
    case ValType::F64: return float_matches(text, got.f64_bits(), 8);
    case ValType::FuncRef:
      if (text == "null") return got.is_null();
      throw std::runtime_error("non-null funcref expectation");
    case ValType::ExternRef: {
      if (text == "null") return got.is_null();
      uint64_t n;
      if (!parse_u64(text, n)) throw std::runtime_error("bad externref " + text);
      return got.of.ref == extern_word(n);
    }
    default: return false;
  }
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Engine and reference messages differ in detail; accept either one
// containing the other, ignoring case.
bool text_agrees(const std::string& expected, const std::string& got) {
  std::string e = lower(expected), g = lower(got);
  return g.find(e) != std::string::npos || e.find(g) != std::string::npos;
}

std::string show_error(const skiff::Error& e) {
  return std::string(skiff::to_string(e.phase())) + " error: " + e.to_string();
}

// ---------------------------------------------------------------- one file

// The outcome of one action.
struct ActionResult {
  std::string setup_error;  // the action could not even start
  std::optional<skiff::Trap> trap;
  std::vector<skiff::Val> values;
};

// An instance from a `module` command, or why it failed.
struct LoadedModule {
  std::optional<skiff::Instance> instance;
  std::string error;
};

class FileRunner {
 public:
  FileRunner(const Options& opts, const std::vector<SkipRule>& rules, FileCounters& counters, int detail_fd)
      : opts_(opts), rules_(rules), counters_(counters), detail_fd_(detail_fd),
        // Tier 2 code without interrupt checks, as `skiff run` compiles it
        // (nothing here sets fuel; skiff_diff covers the checked variant).
        engine_(skiff::EngineConfig{.tier = opts.tier, .interruptible = false, .tier_up_threshold = 1}),
        store_(engine_),
        linker_(engine_),
        aot_(opts.aot) {}

  // Runs every command; counters and details record the outcome.
  void run(const std::string& json_path) {
    json doc;
    try {
      std::ifstream in(json_path);
      if (!in) throw std::runtime_error("cannot open");
      doc = json::parse(in);
    } catch (const std::exception& e) {
      file_name_ = json_path;
      counters_.total_commands = 1;
      fail(0, "json", std::string("cannot load ") + json_path + ": " + e.what());
      return;
    }
    dir_ = fs::path(json_path).parent_path();
    file_name_ = doc.value("source_filename", json_path);
    const json& commands = doc["commands"];
    counters_.total_commands = commands.size();
    define_spectest();
    for (const json& cmd : commands) {
      long line = cmd.value("line", 0L);
      counters_.current_line = line;
      std::string type = cmd.value("type", std::string("?"));
      try {
        run_command(cmd, type, line);
      } catch (const std::exception& e) {
        fail(line, type, std::string("runner error: ") + e.what());
      }
      ++counters_.processed;
    }
    counters_.current_line = 0;
  }

  const std::string& details() const { return details_; }

 private:
  void emit(const std::string& text) {
    if (detail_fd_ < 0) {
      details_ += text;
      return;
    }
    const char* p = text.data();
    size_t left = text.size();
    while (left > 0) {
      ssize_t n = write(detail_fd_, p, left);
      if (n <= 0) return;
      p += n;
      left -= static_cast<size_t>(n);
    }
  }

  void pass() { ++counters_.passed; }

  void fail(long line, const std::string& type, const std::string& why) {
    ++counters_.failed;
    if (opts_.verbose || failures_shown_ < opts_.max_details) {
      ++failures_shown_;
      emit("  " + file_name_ + ":" + std::to_string(line) + ": " + type + ": " + why + "\n");
    }
  }

  void note_text_mismatch(long line, const std::string& type, const std::string& expected, const std::string& got) {
    ++counters_.text_mismatches;
    if (opts_.verbose)
      emit("  note " + file_name_ + ":" + std::to_string(line) + ": " + type + ": expected text \"" + expected +
           "\", got \"" + got + "\"\n");
  }

  void define_spectest() { spectest_error_ = spectest::define(linker_, store_, nullptr); }

  std::optional<SkipRule const*> skip_rule(const std::string& type, const std::string& module_type, long line) {
    for (size_t i = 0; i < rules_.size(); ++i) {
      if (rules_[i].matches(file_name_, type, module_type, line)) {
        ++counters_.skip_hits[i];
        return &rules_[i];
      }
    }
    return std::nullopt;
  }

  std::string module_path(const json& cmd) const { return (dir_ / cmd.at("filename").get<std::string>()).string(); }

  static std::optional<std::vector<uint8_t>> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
  }

  skiff::Result<skiff::Module> compile(const json& cmd) {
    std::string path = module_path(cmd);
    auto bytes = read_bytes(path);
    if (!bytes) return skiff::Error(skiff::ErrorCode::IoError, skiff::Error::kNoOffset, path);
    if (!aot_) return skiff::Module::compile(engine_, std::move(*bytes));
    // Errors of malformed and invalid modules come from precompile, as from compile.
    auto skc = skiff::Module::precompile(engine_, std::move(*bytes));
    if (!skc) return skc.error();
    return skiff::Module::deserialize(engine_, skc.value());
  }

  // The instance an action or register names (or the current one).
  const LoadedModule* target(const json& holder, std::string& error) {
    if (holder.contains("module")) {
      std::string name = holder["module"].get<std::string>();
      auto it = named_.find(name);
      if (it == named_.end()) {
        error = "no module named " + name;
        return nullptr;
      }
      if (!it->second.instance) {
        error = "module " + name + " failed to load: " + it->second.error;
        return nullptr;
      }
      return &it->second;
    }
    if (!current_) {
      error = "no current module";
      return nullptr;
    }
    if (!current_->instance) {
      error = "current module failed to load: " + current_->error;
      return nullptr;
    }
    return &*current_;
  }

  ActionResult perform(const json& action) {
    ActionResult result;
    const LoadedModule* mod = target(action, result.setup_error);
    if (!mod) return result;
    std::string kind = action.at("type").get<std::string>();
    std::string field = action.at("field").get<std::string>();
    if (kind == "get") {
      auto global = mod->instance->global(field);
      if (!global) result.setup_error = "no exported global \"" + field + "\"";
      else result.values.push_back(global->get());
      return result;
    }
    if (kind != "invoke") {
      result.setup_error = "unknown action type " + kind;
      return result;
    }
    auto func = mod->instance->func(field);
    if (!func) {
      result.setup_error = "no exported function \"" + field + "\"";
      return result;
    }
    std::vector<skiff::Val> args;
    for (const json& a : action.at("args")) args.push_back(parse_arg(a));
    auto called = func->call(std::span<const skiff::Val>(args));
    if (called) result.values = std::move(called.value());
    else result.trap = called.error();
    return result;
  }

  static std::string describe_action(const json& action) {
    std::string s = action.value("type", std::string("?")) + " ";
    if (action.contains("module")) s += action["module"].get<std::string>() + ".";
    s += "\"" + action.value("field", std::string()) + "\"";
    if (action.contains("args")) s += show_expected_list(action["args"]);
    return s;
  }

  void run_command(const json& cmd, const std::string& type, long line) {
    std::string module_type = cmd.value("module_type", std::string());
    if (skip_rule(type, module_type, line)) {
      ++counters_.skipped;
      return;
    }
    if (type == "module") return cmd_module(cmd, line);
    if (type == "register") return cmd_register(cmd, line);
    if (type == "action") return cmd_action(cmd, line);
    if (type == "assert_return") return cmd_assert_return(cmd, line);
    if (type == "assert_trap" || type == "assert_exhaustion") return cmd_assert_trap(cmd, type, line);
    if (type == "assert_invalid" || type == "assert_malformed") return cmd_assert_bad_module(cmd, type, line);
    if (type == "assert_unlinkable" || type == "assert_uninstantiable") return cmd_assert_instantiate_fails(cmd, type, line);
    fail(line, type, "unsupported command type");
  }

  void cmd_module(const json& cmd, long line) {
    LoadedModule loaded;
    auto module = compile(cmd);
    if (!module) {
      loaded.error = show_error(module.error());
    } else {
      auto instance = linker_.instantiate(store_, *module);
      if (instance) loaded.instance = *instance;
      else loaded.error = show_error(instance.error());
    }
    if (!spectest_error_.empty() && !loaded.instance) loaded.error += " [spectest incomplete: " + spectest_error_ + "]";
    current_ = loaded;
    if (cmd.contains("name")) named_[cmd["name"].get<std::string>()] = loaded;
    if (loaded.instance) pass();
    else fail(line, "module", cmd.value("filename", std::string()) + ": " + loaded.error);
  }

  void cmd_register(const json& cmd, long line) {
    std::string error;
    const LoadedModule* mod = target(cmd, error);
    if (!mod) return fail(line, "register", error);
    linker_.define_instance(cmd.at("as").get<std::string>(), *mod->instance);
    pass();
  }

  void cmd_action(const json& cmd, long line) {
    ActionResult r = perform(cmd.at("action"));
    std::string what = "action " + describe_action(cmd["action"]);
    if (!r.setup_error.empty()) return fail(line, what, r.setup_error);
    if (r.trap) return fail(line, what, std::string("trapped: ") + r.trap->what());
    pass();
  }

  void cmd_assert_return(const json& cmd, long line) {
    ActionResult r = perform(cmd.at("action"));
    std::string what = "assert_return " + describe_action(cmd["action"]);
    if (!r.setup_error.empty()) return fail(line, what, r.setup_error);
    if (r.trap) return fail(line, what, std::string("trapped: ") + r.trap->what());
    if (cmd.contains("either")) {
      const json& either = cmd["either"];
      bool ok = r.values.size() == 1 &&
                std::any_of(either.begin(), either.end(), [&](const json& e) { return matches(e, r.values[0]); });
      if (ok) return pass();
      return fail(line, what, "expected one of " + show_expected_list(either) + ", got " + show_vals(r.values));
    }
    const json& expected = cmd.at("expected");
    bool ok = r.values.size() == expected.size();
    for (size_t i = 0; ok && i < expected.size(); ++i) ok = matches(expected[i], r.values[i]);
    if (ok) return pass();
    fail(line, what, "expected " + show_expected_list(expected) + ", got " + show_vals(r.values));
  }

  void cmd_assert_trap(const json& cmd, const std::string& type, long line) {
    ActionResult r = perform(cmd.at("action"));
    std::string what = type + " " + describe_action(cmd["action"]);
    std::string text = cmd.value("text", std::string());
    if (!r.setup_error.empty()) return fail(line, what, r.setup_error);
    if (!r.trap) return fail(line, what, "expected trap \"" + text + "\", got " + show_vals(r.values));
    std::string got = r.trap->what();
    if (type == "assert_exhaustion") {
      if (r.trap->kind == skiff::TrapKind::StackExhausted || text_agrees("call stack exhausted", got)) return pass();
      return fail(line, what, "expected stack exhaustion, got trap \"" + got + "\"");
    }
    if (!text_agrees(text, got)) note_text_mismatch(line, type, text, got);
    pass();
  }

  void cmd_assert_bad_module(const json& cmd, const std::string& type, long line) {
    std::string text = cmd.value("text", std::string());
    std::string module_type = cmd.value("module_type", std::string("binary"));
    std::string what = type + " " + cmd.value("filename", std::string());
    if (module_type != "binary") return fail(line, what, "text modules are not supported");
    const skiff::Phase want = type == "assert_invalid" ? skiff::Phase::Validate : skiff::Phase::Decode;
    auto module = compile(cmd);
    if (module) return fail(line, what, "expected " + std::string(skiff::to_string(want)) + " error \"" + text + "\", module compiled");
    const skiff::Error& err = module.error();
    if (err.phase() != want)
      return fail(line, what, "expected " + std::string(skiff::to_string(want)) + " error \"" + text + "\", got " + show_error(err));
    if (!text_agrees(text, err.message())) note_text_mismatch(line, type, text, err.message());
    pass();
  }

  void cmd_assert_instantiate_fails(const json& cmd, const std::string& type, long line) {
    std::string text = cmd.value("text", std::string());
    std::string what = type + " " + cmd.value("filename", std::string());
    const skiff::Phase want = type == "assert_unlinkable" ? skiff::Phase::Link : skiff::Phase::Instantiate;
    auto module = compile(cmd);
    if (!module) return fail(line, what, "expected " + std::string(skiff::to_string(want)) + " error, got " + show_error(module.error()));
    auto instance = linker_.instantiate(store_, *module);
    if (instance) return fail(line, what, "expected " + std::string(skiff::to_string(want)) + " error \"" + text + "\", instantiated");
    const skiff::Error& err = instance.error();
    if (err.phase() != want)
      return fail(line, what, "expected " + std::string(skiff::to_string(want)) + " error \"" + text + "\", got " + show_error(err));
    std::string got = err.message() + (err.detail.empty() ? "" : " " + err.detail);
    if (!text_agrees(text, got)) note_text_mismatch(line, type, text, got);
    pass();
  }

  const Options& opts_;
  const std::vector<SkipRule>& rules_;
  FileCounters& counters_;
  int detail_fd_;
  std::string details_;
  int failures_shown_ = 0;

  skiff::Engine engine_;
  skiff::Store store_;
  skiff::Linker linker_;
  bool aot_ = false;
  std::string spectest_error_;
  fs::path dir_;
  std::string file_name_;
  std::optional<LoadedModule> current_;
  std::map<std::string, LoadedModule> named_;
};

// ---------------------------------------------------------------- driver

struct FileOutcome {
  std::string name;
  FileCounters counters{};
  std::string details;
  std::string crash;  // why the child died, if it did
};

std::string display_name(const std::string& json_path) {
  // Matches source_filename when run-spec.sh ran wast2json from the suite root.
  std::ifstream in(json_path);
  std::string head(512, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  const std::string key = "\"source_filename\": \"";
  size_t at = head.find(key);
  if (at != std::string::npos) {
    size_t end = head.find('"', at + key.size());
    if (end != std::string::npos) return head.substr(at + key.size(), end - at - key.size());
  }
  return json_path;
}

FileOutcome run_in_process(const Options& opts, const std::vector<SkipRule>& rules, const std::string& path) {
  FileOutcome out;
  out.name = display_name(path);
  const skiff::baseline::Stats before = skiff::baseline::stats();
  FileRunner runner(opts, rules, out.counters, -1);
  runner.run(path);
  out.details = runner.details();
  out.counters.baseline_compiled = skiff::baseline::stats().compiled - before.compiled;
  out.counters.baseline_left_out = skiff::baseline::stats().left_out - before.left_out;
  return out;
}

FileOutcome run_forked(const Options& opts, const std::vector<SkipRule>& rules, const std::string& path,
                       FileCounters* shared) {
  FileOutcome out;
  out.name = display_name(path);
  std::memset(shared, 0, sizeof *shared);
  int fds[2];
  if (pipe(fds) != 0) {
    out.crash = std::string("pipe failed: ") + std::strerror(errno);
    return out;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    out.crash = std::string("fork failed: ") + std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    return out;
  }
  if (pid == 0) {
    close(fds[0]);
    alarm(opts.timeout_seconds);  // a hung engine ends this file only
    {
      FileRunner runner(opts, rules, *shared, fds[1]);
      runner.run(path);
    }
    shared->baseline_compiled = skiff::baseline::stats().compiled;
    shared->baseline_left_out = skiff::baseline::stats().left_out;
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    out.details.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  out.counters = *shared;
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    out.crash = sig == SIGALRM ? "timed out after " + std::to_string(opts.timeout_seconds) + "s"
                               : std::string("crashed with signal ") + strsignal(sig);
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    out.crash = "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  return out;
}

int usage(const char* error) {
  std::fprintf(stderr,
               "skiff_spec: %s\nusage: skiff_spec [--tier=interp|jit|aot|auto|baseline] [--verbose] [--skip-list=FILE] "
               "[--max-details=N] [--not-converted=FILE] [--timeout=SECONDS] [--no-fork] JSON...\n",
               error);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value_of = [&](const std::string& flag) -> std::optional<std::string> {
      if (arg.rfind(flag + "=", 0) == 0) return arg.substr(flag.size() + 1);
      return std::nullopt;
    };
    if (arg == "--verbose" || arg == "-v") opts.verbose = true;
    else if (arg == "--no-fork") opts.fork_per_file = false;
    else if (auto v = value_of("--tier")) {
      if (*v == "interp") opts.tier = skiff::Tier::Interp;
      else if (*v == "jit") opts.tier = skiff::Tier::Jit;
      else if (*v == "baseline") opts.tier = skiff::Tier::Baseline;
      else if (*v == "aot") opts.tier = skiff::Tier::Jit, opts.aot = true;
      else if (*v == "auto") opts.tier = skiff::Tier::Auto, setenv("SKIFF_TIERUP_SYNC", "1", 1);
      else return usage(("unknown tier " + *v + " (available: interp, jit, aot, auto)").c_str());
    } else if (auto v = value_of("--skip-list")) opts.skip_list_path = *v;
    else if (auto v = value_of("--not-converted")) opts.not_converted_path = *v;
    else if (auto v = value_of("--max-details")) opts.max_details = std::atoi(v->c_str());
    else if (auto v = value_of("--timeout")) opts.timeout_seconds = static_cast<unsigned>(std::atoi(v->c_str()));
    else if (auto v = value_of("--max-left-out")) opts.max_left_out = std::atoll(v->c_str());
    else if (arg == "--help" || arg == "-h") {
      std::printf("usage: skiff_spec [--tier=interp|jit|aot|auto|baseline] [--verbose] [--skip-list=FILE] [--max-details=N] "
                  "[--not-converted=FILE] [--timeout=SECONDS] [--no-fork] [--max-left-out=N] JSON...\n");
      return 0;
    }
    else if (arg.rfind("--", 0) == 0) return usage(("unknown option " + arg).c_str());
    else opts.json_files.push_back(arg);
  }

  std::vector<SkipRule> rules;
  if (!opts.skip_list_path.empty()) {
    std::string error;
    if (!load_skip_list(opts.skip_list_path, rules, error)) return usage(error.c_str());
  }
  std::vector<std::string> not_converted;
  if (!opts.not_converted_path.empty()) {
    std::ifstream in(opts.not_converted_path);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) not_converted.push_back(line);
  }
  if (opts.json_files.empty() && not_converted.empty()) return usage("no JSON files given");

  FileCounters* shared = nullptr;
  if (opts.fork_per_file) {
    void* mem = mmap(nullptr, sizeof(FileCounters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return usage("mmap failed");
    shared = static_cast<FileCounters*>(mem);
  }

  uint64_t passed = 0, failed = 0, skipped = 0, mismatches = 0, baseline_compiled = 0, baseline_left_out = 0;
  uint64_t skip_hits[kMaxSkipRules] = {};
  size_t files_failed = 0;

  for (const std::string& name : not_converted) {
    std::printf("FAIL %s: 0 passed, 1 failed, 0 skipped\n  %s: wast2json could not convert it\n", name.c_str(),
                name.c_str());
    ++failed;
    ++files_failed;
  }

  for (const std::string& path : opts.json_files) {
    FileOutcome r = opts.fork_per_file ? run_forked(opts, rules, path, shared) : run_in_process(opts, rules, path);
    FileCounters& c = r.counters;
    if (!r.crash.empty()) {
      // Whatever the child did not get to counts as failed.
      uint64_t remaining = c.total_commands > c.processed ? c.total_commands - c.processed : 1;
      c.failed += remaining;
      r.details += "  " + r.name + ":" + std::to_string(c.current_line) + ": " + r.crash + "; " +
                   std::to_string(remaining) + " remaining command(s) counted as failed\n";
    }
    bool ok = c.failed == 0;
    std::printf("%s %s: %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped\n", ok ? "PASS" : "FAIL",
                r.name.c_str(), c.passed, c.failed, c.skipped);
    std::fputs(r.details.c_str(), stdout);
    std::fflush(stdout);
    passed += c.passed;
    failed += c.failed;
    skipped += c.skipped;
    mismatches += c.text_mismatches;
    baseline_compiled += c.baseline_compiled;
    baseline_left_out += c.baseline_left_out;
    for (size_t i = 0; i < rules.size(); ++i) skip_hits[i] += c.skip_hits[i];
    if (!ok) ++files_failed;
  }

  size_t files = opts.json_files.size() + not_converted.size();
  std::printf("\nfiles: %zu, %zu passed, %zu failed\n", files, files - files_failed, files_failed);
  if (!rules.empty()) {
    std::printf("skip list (%s):\n", opts.skip_list_path.c_str());
    for (size_t i = 0; i < rules.size(); ++i)
      std::printf("  %-28s %6" PRIu64 " skipped  (%s)\n", rules[i].selector.c_str(), skip_hits[i],
                  rules[i].reason.c_str());
  }
  std::printf("skipped total: %" PRIu64 "\n", skipped);
  std::printf("error/trap text differences (counted as passed; --verbose lists them): %" PRIu64 "\n", mismatches);
  if (opts.tier == skiff::Tier::Baseline)
    std::printf("tier 1: %" PRIu64 " functions compiled, %" PRIu64 " left out (interpreted)\n", baseline_compiled,
                baseline_left_out);
  const bool too_many_left_out =
      opts.tier == skiff::Tier::Baseline && opts.max_left_out >= 0 &&
      baseline_left_out > static_cast<uint64_t>(opts.max_left_out);
  if (too_many_left_out)
    std::printf("FAIL: tier 1 left out %" PRIu64 " functions, more than the %" PRId64 " expected (SKIFF_BASELINE_LOG=1 says why)\n",
                baseline_left_out, opts.max_left_out);
  std::printf("%" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped\n", passed, failed, skipped);
  return failed == 0 && !too_many_left_out ? 0 : 1;
}

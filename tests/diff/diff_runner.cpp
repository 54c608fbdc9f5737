// skiff_diff: differential test of tier 0 (interpreter) against tier 2 (LLVM).
//
//   skiff_diff [--fuzz=N] [--seed=S] [--work-dir=DIR] [--wasm-opt=PATH] [--fuzz-bytes=N]
//              [--fuel=N] [--max-memory=BYTES] [--arg-sets=N] [--timeout=SECONDS]
//              [--max-details=N] [--allow-stack-depth] [--strict-nan] [--verbose]
//              [--against=jit|auto|baseline] [FILE.json | FILE.wasm | FILE.wat]...
//
// A unit is one random module (binaryen's translate-to-fuzz turns seeded
// random bytes into a valid module), one spec testsuite JSON file
// (wast2json output: its modules, registrations and actions in order), or
// one .wasm or .wat file given on the command line (to replay a reproducer;
// .wat goes through wat2wasm).
//
// Every unit runs once per tier, each tier in its own forked worker, so a
// crash costs one unit and the worker is restarted after it. A worker writes
// a transcript: one event per step (compile, instantiate, call), each a key
// (what was done, with its arguments) and an outcome (results or trap with
// kind, message and backtrace; the host log; the fuel left; a digest of the
// instance's exported memories, globals and tables). The parent compares the
// two transcripts event by event. Values compare bit for bit, except that two
// quiet NaNs of different payload or sign only make a "NaN note": the spec
// lets an operation producing NaN return any arithmetic NaN.
// --fuel=0 runs without fuel, tier 2 code then has no interrupt checks
// (as with `skiff run`); only for units that terminate by themselves.
// --strict-nan makes those fail too (to reduce one); --allow-stack-depth
// counts apart the differences where one tier ran out of call stack after
// deep recursion (tier 2 is bounded by the native stack, not max_call_depth).
// --against=auto compares the interpreter with tier auto instead of jit, with
// a hotness threshold of 1 and synchronous compiles ($SKIFF_TIERUP_SYNC): a
// function gets machine code at its second call, and a frame moves into
// its loop's code (on-stack replacement) at the loop's second iteration.
// --against=baseline compares it with tier 1 (every function the
// single-pass compiler supports compiled, the rest interpreted).
//
// Exit status: 0 when the tiers agree everywhere, 1 on any difference, crash
// or runner error, 2 on bad usage or when tier 2 is unavailable.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/skiff.hh"
#include "../spec/spectest.h"

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;
using skiff::Val;
using skiff::ValType;

// ---------------------------------------------------------------- options

struct Options {
  uint32_t fuzz_count = 0;
  uint64_t first_seed = 1;
  uint32_t fuzz_bytes = 8000;  // upper bound of the random input per module
  std::string work_dir;
  std::string wasm_opt = "wasm-opt";
  // Per call and per instantiation. 0: no fuel, and tier 2 compiles its
  // code without interrupt checks, as `skiff run` does (only for modules
  // that end by themselves: binaryen's count their loops down).
  uint64_t fuel = 1'000'000;
  uint64_t max_memory = 128ull << 20;   // per store
  uint32_t arg_sets = 3;                // set 0 is all zeros, the rest seeded
  unsigned timeout_seconds = 300;       // per unit and tier
  int max_details = 40;
  bool verbose = false;
  bool allow_stack_depth = false;
  bool strict_nan = false;  // NaN notes fail too (to reduce one with wasm-reduce)
  skiff::Tier against = skiff::Tier::Jit;
  std::vector<std::string> files;
};

// What binaryen 108 may use of Skiff's WebAssembly 2.0 feature set. Not
// reference types: binaryen 108's version of them emits anyref and typed
// (ref $t) values, which are not WebAssembly 2.0 (9 of 10 such modules are
// invalid); the spec modules cover reference types instead.
const char* const kFuzzFeatures[] = {
    "--mvp-features",        "--enable-sign-ext",    "--enable-mutable-globals", "--enable-nontrapping-float-to-int",
    "--enable-simd",         "--enable-bulk-memory", "--enable-multivalue",
};

// ---------------------------------------------------------------- units

struct Unit {
  enum Kind { Wasm, SpecJson } kind;
  std::string path;
  std::string label;
};

// ---------------------------------------------------------------- randomness

// splitmix64: a fixed, portable generator, so a seed means the same input everywhere.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }
};

uint64_t hash_text(std::string_view text, uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// ---------------------------------------------------------------- rendering

// Transcript fields are space-separated tokens on one line: names and
// messages are percent-escaped so they never contain separators.
std::string escape(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7f || c == '%' || c == ',' || c == '(' || c == ')' || c == '|') {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out.empty() ? "%" : out;  // a lone "%" stands for the empty string
}

std::string hex_digits(uint64_t v, int width) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%0*" PRIx64, width, v);
  return buf;
}

const char* trap_kind_name(skiff::TrapKind kind) {
  switch (kind) {
#define SKIFF_TRAP(name, message) \
  case skiff::TrapKind::name:     \
    return #name;
#include "skiff/trap.def"
  }
  return "?";
}

std::string error_outcome(const skiff::Error& e) {
  return std::string("error ") + skiff::to_string(e.phase()) + " " + escape(e.to_string());
}

// Funcrefs are engine pointers, different in each worker: they are shown as
// the name of the export they equal, which both tiers share.
using RefNames = std::vector<std::pair<uint64_t, std::string>>;

RefNames exported_func_refs(const skiff::Instance& inst) {
  RefNames names;
  for (const auto& [name, ext] : inst.exports())
    if (ext.kind == skiff::ExternKind::Func) names.emplace_back(Val::make_funcref(ext.func).of.ref, name);
  return names;
}

std::string token(const Val& v, const RefNames* names = nullptr) {
  switch (v.type) {
    case ValType::I32: return "i32:" + hex_digits(static_cast<uint32_t>(v.of.i32), 8);
    case ValType::I64: return "i64:" + hex_digits(static_cast<uint64_t>(v.of.i64), 16);
    case ValType::F32: return "f32:" + hex_digits(v.f32_bits(), 8);
    case ValType::F64: return "f64:" + hex_digits(v.f64_bits(), 16);
    case ValType::V128: {
      std::string s = "v128:";
      for (uint8_t b : v.of.v128.bytes) s += hex_digits(b, 2);
      return s;
    }
    case ValType::ExternRef: return v.is_null() ? "ref:extern:null" : "ref:extern:" + hex_digits(v.of.ref, 1);
    case ValType::FuncRef: {
      if (v.is_null()) return "ref:func:null";
      if (names)
        for (const auto& [word, name] : *names)
          if (word == v.of.ref) return "ref:func:" + escape(name);
      return "ref:func:unexported";
    }
  }
  return "?";
}

// A fast digest of linear memory (several MiB per call add up).
uint64_t hash_bytes(const uint8_t* p, uint64_t n) {
  uint64_t h[4] = {0x243f6a8885a308d3ull, 0x13198a2e03707344ull, 0xa4093822299f31d0ull, 0x082efa98ec4e6c89ull};
  constexpr uint64_t k = 0x9e3779b97f4a7c15ull;
  uint64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int lane = 0; lane < 4; ++lane) {
      uint64_t w;
      std::memcpy(&w, p + i + lane * 8, 8);
      h[lane] = (h[lane] ^ w) * k;
    }
  }
  uint64_t tail = hash_text(std::string_view(reinterpret_cast<const char*>(p + i), n - i));
  return ((h[0] * 3 + h[1]) * 5 + h[2]) * 7 + h[3] + tail + n;
}

// ---------------------------------------------------------------- arguments

// Values that tend to hit edge cases (lane and range limits, NaN kinds, -0).
const uint32_t kI32Edges[] = {0, 1, 2, 7, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe};
const uint64_t kI64Edges[] = {0, 1, 2, 0xff, 0xffff, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
                              0xffffffffffffffffull, 0xffffffff, 0x80000000};
const uint32_t kF32Edges[] = {0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3f000000, 0x7f7fffff, 0x00000001,
                              0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00000, 0x7fc01234, 0x4f000000,
                              0xcf000000, 0x4f800000, 0x5f000000, 0x40490fdb};
const uint64_t kF64Edges[] = {0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
                              0x3fe0000000000000ull, 0x7fefffffffffffffull, 1, 0x7ff0000000000000ull,
                              0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000000ull,
                              0x7ff4000000000000ull, 0x7ff8000000001234ull, 0x41e0000000000000ull,
                              0xc1e0000000200000ull, 0x41f0000000000000ull, 0x43e0000000000000ull,
                              0x400921fb54442d18ull};

template <typename T, size_t N>
T pick(Rng& rng, const T (&edges)[N]) {
  return edges[rng.below(N)];
}

uint32_t seeded_i32(Rng& rng) {
  switch (rng.below(4)) {
    case 0: return static_cast<uint32_t>(rng.next());
    case 1: return static_cast<uint32_t>(rng.below(4096));  // an address that is often in bounds
    default: return pick(rng, kI32Edges);
  }
}
uint64_t seeded_i64(Rng& rng) {
  switch (rng.below(4)) {
    case 0: return rng.next();
    case 1: return rng.below(4096);
    default: return pick(rng, kI64Edges);
  }
}
uint32_t seeded_f32(Rng& rng) {
  switch (rng.below(4)) {
    case 0: return static_cast<uint32_t>(rng.next());
    case 1: {
      float small = static_cast<float>(static_cast<int>(rng.below(200)) - 100) / 4.0f;
      uint32_t b;
      std::memcpy(&b, &small, 4);
      return b;
    }
    default: return pick(rng, kF32Edges);
  }
}
uint64_t seeded_f64(Rng& rng) {
  switch (rng.below(4)) {
    case 0: return rng.next();
    case 1: {
      double small = static_cast<double>(static_cast<int>(rng.below(200)) - 100) / 4.0;
      uint64_t b;
      std::memcpy(&b, &small, 8);
      return b;
    }
    default: return pick(rng, kF64Edges);
  }
}

// Argument set `set` for a function: set 0 is all zeros (null references),
// the others come from a generator seeded by the unit, export and set.
std::vector<Val> make_args(const skiff::FuncType& type, uint32_t set, uint64_t seed,
                           const std::vector<skiff::Func>& exported_funcs) {
  std::vector<Val> args;
  Rng rng{seed ^ (0x51ed27ull * (set + 1))};
  for (ValType t : type.params) {
    if (set == 0) {
      if (t == ValType::V128) args.push_back(Val::make_v128(skiff::V128::zero()));
      else if (skiff::is_ref(t)) args.push_back(Val::null_of(t));
      else if (t == ValType::I32) args.push_back(Val::make_i32(0));
      else if (t == ValType::I64) args.push_back(Val::make_i64(0));
      else if (t == ValType::F32) args.push_back(Val::make_f32_bits(0));
      else args.push_back(Val::make_f64_bits(0));
      continue;
    }
    switch (t) {
      case ValType::I32: args.push_back(Val::make_i32(static_cast<int32_t>(seeded_i32(rng)))); break;
      case ValType::I64: args.push_back(Val::make_i64(static_cast<int64_t>(seeded_i64(rng)))); break;
      case ValType::F32: args.push_back(Val::make_f32_bits(seeded_f32(rng))); break;
      case ValType::F64: args.push_back(Val::make_f64_bits(seeded_f64(rng))); break;
      case ValType::V128: {
        skiff::V128 v{};
        if (rng.below(2) == 0) {
          for (uint8_t& b : v.bytes) b = static_cast<uint8_t>(rng.next());
        } else {
          for (int lane = 0; lane < 4; ++lane) {
            uint32_t bits = rng.below(2) ? seeded_f32(rng) : seeded_i32(rng);
            std::memcpy(v.bytes + lane * 4, &bits, 4);
          }
        }
        args.push_back(Val::make_v128(v));
        break;
      }
      case ValType::ExternRef:
        args.push_back(rng.below(3) == 0 ? Val::null_of(t) : Val::make_externref(1 + rng.below(3)));
        break;
      case ValType::FuncRef:
        if (exported_funcs.empty() || rng.below(3) == 0) args.push_back(Val::null_of(t));
        else args.push_back(Val::make_funcref(exported_funcs[rng.below(exported_funcs.size())]));
        break;
    }
  }
  return args;
}

// ---------------------------------------------------------------- spec JSON values

bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(s.c_str(), &end, 10);
  return errno == 0 && *end == '\0';
}

// A JSON argument -> Val, as the spec runner reads it. Throws on bad input.
Val parse_arg(const json& v) {
  std::string type = v.at("type").get<std::string>();
  if (type == "v128") {
    std::string lane_type = v.at("lane_type").get<std::string>();
    unsigned width = lane_type == "i8" ? 1 : lane_type == "i16" ? 2 : (lane_type == "i32" || lane_type == "f32") ? 4 : 8;
    const json& lanes = v.at("value");
    if (lanes.size() * width != 16) throw std::runtime_error("wrong v128 lane count");
    skiff::V128 vec{};
    for (unsigned i = 0; i < lanes.size(); ++i) {
      uint64_t bits;
      if (!parse_u64(lanes[i].get<std::string>(), bits)) throw std::runtime_error("bad v128 lane");
      std::memcpy(vec.bytes + i * width, &bits, width);
    }
    return Val::make_v128(vec);
  }
  std::string text = v.at("value").get<std::string>();
  if (type == "funcref" || type == "externref") {
    ValType t = type == "funcref" ? ValType::FuncRef : ValType::ExternRef;
    if (text == "null") return Val::null_of(t);
    uint64_t n;
    if (t != ValType::ExternRef || !parse_u64(text, n)) throw std::runtime_error("bad reference " + text);
    return Val::make_externref(n + 1);
  }
  uint64_t bits;
  if (!parse_u64(text, bits)) throw std::runtime_error("bad number " + text);
  if (type == "i32") return Val::make_i32(static_cast<int32_t>(static_cast<uint32_t>(bits)));
  if (type == "i64") return Val::make_i64(static_cast<int64_t>(bits));
  if (type == "f32") return Val::make_f32_bits(static_cast<uint32_t>(bits));
  if (type == "f64") return Val::make_f64_bits(bits);
  throw std::runtime_error("unknown value type " + type);
}

std::optional<std::vector<uint8_t>> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// ---------------------------------------------------------------- worker

// Transcript records, one per line:
//   U idx            unit started          D idx          unit finished
//   E key \t outcome one step              S reason       something not compared
//   R message        runner error          X idx reason   (parent) the worker died in unit idx
//   F message        (worker) the tier cannot run at all
class Worker {
 public:
  Worker(const Options& opts, skiff::Tier tier, int out_fd) : opts_(opts), tier_(tier), fd_(out_fd) {}

  void record(const std::string& line) {
    std::string text = line + "\n";
    const char* p = text.data();
    size_t left = text.size();
    while (left > 0) {
      ssize_t n = write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(3);  // the parent sees an incomplete unit
      p += n;
      left -= static_cast<size_t>(n);
    }
  }

  // A module that only returns 42: proves the tier can compile and run at all.
  std::optional<std::string> preflight() {
    const std::vector<uint8_t> bytes = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60,
                                        0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x66,
                                        0x00, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b};
    skiff::Engine engine(skiff::EngineConfig{.tier = tier_});
    skiff::Store store(engine);
    skiff::Linker linker(engine);
    auto module = skiff::Module::compile(engine, bytes);
    if (!module) return "compile: " + module.error().to_string();
    auto inst = linker.instantiate(store, *module);
    if (!inst) return "instantiate: " + inst.error().to_string();
    auto r = inst->func("f")->call({});
    if (!r) return std::string("call: ") + r.error().what();
    if (r->size() != 1 || r->at(0).of.i32 != 42) return "call returned a wrong value";
    return std::nullopt;
  }

  void run(const std::vector<Unit>& units, size_t start) {
    for (size_t idx = start; idx < units.size(); ++idx) {
      record("U " + std::to_string(idx));
      alarm(opts_.timeout_seconds);  // a hang ends this unit only
      try {
        Session session(*this, units[idx]);
        if (units[idx].kind == Unit::Wasm) session.run_wasm();
        else session.run_spec();
      } catch (const std::exception& e) {
        record("R " + escape(e.what()));
      }
      alarm(0);
      record("D " + std::to_string(idx));
    }
  }

 private:
  // One unit on one tier: its own engine, store and linker.
  class Session {
   public:
    Session(Worker& w, const Unit& unit)
        : w_(w),
          unit_(unit),
          engine_(skiff::EngineConfig{
              .tier = w.tier_, .interruptible = w.opts_.fuel != 0, .tier_up_threshold = 1}),
          store_(engine_),
          linker_(engine_) {
      skiff::StoreLimits limits;
      limits.max_memory_bytes = w.opts_.max_memory;
      limits.max_table_elements = 1u << 20;
      store_.set_limits(limits);
      define_imports();
    }

    // A module file: compile, instantiate, then call every exported function.
    void run_wasm() {
      auto bytes = read_bytes(unit_.path);
      if (!bytes) throw std::runtime_error("cannot read " + unit_.path);
      // Arguments follow from the module's bytes, not its path, so a replay anywhere sees the same calls.
      std::string seed_label = "wasm:" + hex_digits(
          hash_text(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size())), 16);
      auto module = skiff::Module::compile(engine_, std::move(*bytes));
      event("compile", module ? "ok" : error_outcome(module.error()));
      if (!module) return;
      begin_call();
      auto inst = linker_.instantiate(store_, *module);
      if (!inst) {
        event("instantiate", error_outcome(inst.error()) + end_call(nullptr));
        return;
      }
      event("instantiate", "ok" + end_call(&*inst));
      sweep(*inst, "call", seed_label);
    }

    // A spec JSON file: its commands in order, and every export of each module swept.
    void run_spec() {
      json doc;
      {
        std::ifstream in(unit_.path);
        if (!in) throw std::runtime_error("cannot open " + unit_.path);
        doc = json::parse(in);
      }
      dir_ = fs::path(unit_.path).parent_path();
      spec_name_ = doc.value("source_filename", fs::path(unit_.path).filename().string());
      for (const json& cmd : doc.at("commands")) {
        std::string type = cmd.value("type", std::string("?"));
        std::string where = "L" + std::to_string(cmd.value("line", 0L));
        if (type == "module") {
          sweep_current();
          auto inst = load(cmd, "module " + where);
          current_ = inst ? std::optional<Current>(Current{*inst, where}) : std::nullopt;
          if (cmd.contains("name")) named_[cmd["name"].get<std::string>()] = inst;
        } else if (type == "register") {
          auto target = instance_for(cmd);
          if (target) linker_.define_instance(cmd.at("as").get<std::string>(), *target);
        } else if (type == "action" || type == "assert_return" || type == "assert_trap" ||
                   type == "assert_exhaustion") {
          perform(cmd.at("action"), where);
        } else if (type == "assert_invalid" || type == "assert_malformed") {
          if (cmd.value("module_type", std::string("binary")) != "binary") {
            w_.record("S " + type + " of a text module (Skiff has no text parser)");
            continue;
          }
          auto module = compile(cmd);
          event("compile " + where + " " + escape(cmd.value("filename", std::string())),
                module ? "ok" : error_outcome(module.error()));
        } else if (type == "assert_unlinkable" || type == "assert_uninstantiable") {
          load(cmd, type + " " + where);
        } else {
          w_.record("R " + escape("unknown command type " + type + " at " + where));
        }
      }
      sweep_current();
    }

   private:
    struct Current {
      skiff::Instance instance;
      std::string where;
    };

    void event(const std::string& key, const std::string& outcome) { w_.record("E " + key + "\t" + outcome); }

    void define_imports() {
      using skiff::FuncType;
      // binaryen's fuzzing harness imports: each logs its argument.
      const std::pair<const char*, ValType> logs[] = {
          {"log-i32", ValType::I32}, {"log-i64", ValType::I64},   {"log-f32", ValType::F32},
          {"log-f64", ValType::F64}, {"log-v128", ValType::V128},
      };
      for (const auto& [name, type] : logs) {
        std::string tag = name;
        linker_.func("fuzzing-support", name, FuncType{{type}, {}},
                     [this, tag](skiff::Caller&, const Val* args, Val*) -> std::optional<skiff::Trap> {
                       log(tag, args, 1);
                       return std::nullopt;
                     });
      }
      // The spec's host module; prints are logged too.
      std::string missing = spectest::define(linker_, store_, [this](const std::string& name, const Val* args,
                                                                     size_t count) { log(name, args, count); });
      if (!missing.empty()) throw std::runtime_error("spectest: " + missing);
    }

    static constexpr size_t kMaxLogEntries = 2000;  // kept per call; the total is always counted

    void log(const std::string& tag, const Val* args, size_t count) {
      ++log_total_;
      if (log_.size() >= kMaxLogEntries) return;
      // The tag then one token per value, so NaN rules apply to logged floats too.
      std::string entry = tag;
      for (size_t i = 0; i < count; ++i) {
        entry += ' ';
        entry += token(args[i]);
      }
      log_.push_back(std::move(entry));
    }

    void begin_call() {
      log_.clear();
      log_total_ = 0;
      if (w_.opts_.fuel != 0) store_.set_fuel(w_.opts_.fuel);
    }

    // The common tail of an outcome: host log, fuel left, observable state.
    std::string end_call(const skiff::Instance* inst) {
      std::string out = " | log " + std::to_string(log_total_);
      for (const std::string& e : log_) {
        out += ' ';
        out += e;
      }
      auto fuel = store_.get_fuel();
      out += " | fuel " + (fuel ? std::to_string(*fuel) : std::string("unset"));
      if (inst) out += " | state" + state(*inst);
      return out;
    }

    // Exported memories (size and digest), globals and tables (size, null count).
    std::string state(const skiff::Instance& inst) {
      RefNames names = exported_func_refs(inst);
      std::string out;
      for (const auto& [name, ext] : inst.exports()) {
        switch (ext.kind) {
          case skiff::ExternKind::Memory:
            out += " mem:" + escape(name) + ":" + std::to_string(ext.memory.pages()) + ":" +
                   hex_digits(hash_bytes(ext.memory.data(), ext.memory.size_bytes()), 16);
            break;
          case skiff::ExternKind::Global:
            out += " global:" + escape(name) + " " + token(ext.global.get(), &names);
            break;
          case skiff::ExternKind::Table: {
            uint64_t size = ext.table.size(), nulls = 0;
            for (uint64_t i = 0; i < size && i < 4096; ++i) {
              auto v = ext.table.get(i);
              if (v && v->is_null()) ++nulls;
            }
            out += " table:" + escape(name) + ":" + std::to_string(size) + ":nulls=" + std::to_string(nulls);
            break;
          }
          case skiff::ExternKind::Func: break;
        }
      }
      return out;
    }

    std::string call_outcome(const skiff::Func& func, const std::vector<Val>& args, const skiff::Instance& inst) {
      begin_call();
      auto r = func.call(std::span<const Val>(args));
      std::string out;
      RefNames names = exported_func_refs(inst);
      if (r) {
        out = "ok";
        for (const Val& v : *r) out += " " + token(v, &names);
      } else {
        const skiff::Trap& t = r.error();
        out = std::string("trap ") + trap_kind_name(t.kind) + " " + escape(t.what()) + " bt:";
        for (size_t i = 0; i < t.backtrace.size() && i < 8; ++i) {
          if (i) out += ',';
          out += std::to_string(t.backtrace[i].func_index);
        }
        if (t.backtrace.size() > 8) out += ",...(" + std::to_string(t.backtrace.size()) + ")";
      }
      return out + end_call(&inst);
    }

    static std::string show_args(const std::vector<Val>& args, const RefNames& names) {
      std::string s = "(";
      for (size_t i = 0; i < args.size(); ++i) {
        if (i) s += ',';
        s += token(args[i], &names);
      }
      return s + ")";
    }

    // Calls every exported function with each argument set. binaryen's
    // modules count loop iterations down in a global that
    // hangLimitInitializer resets, so it runs before every call (fuel
    // still bounds everything).
    void sweep(const skiff::Instance& inst, const std::string& prefix, const std::string& seed_label) {
      std::vector<std::pair<std::string, skiff::Func>> funcs;
      std::vector<skiff::Func> all_funcs;
      for (const auto& [name, ext] : inst.exports())
        if (ext.kind == skiff::ExternKind::Func) {
          funcs.emplace_back(name, ext.func);
          all_funcs.push_back(ext.func);
        }
      RefNames names = exported_func_refs(inst);
      std::optional<skiff::Func> reset = inst.func("hangLimitInitializer");
      for (const auto& [name, func] : funcs) {
        uint64_t seed = hash_text(name, hash_text(seed_label));
        for (uint32_t set = 0; set < w_.opts_.arg_sets; ++set) {
          std::vector<Val> args = make_args(func.type(), set, seed, all_funcs);
          std::string key = prefix + " " + escape(name) + show_args(args, names);
          std::string prelude;
          if (reset && name != "hangLimitInitializer" && reset->type().params.empty()) {
            if (w_.opts_.fuel != 0) store_.set_fuel(w_.opts_.fuel);
            auto r = reset->call({});
            if (!r) prelude = std::string("[reset trapped: ") + trap_kind_name(r.error().kind) + "] ";
          }
          event(key, prelude + call_outcome(func, args, inst));
        }
      }
    }

    void sweep_current() {
      if (current_) sweep(current_->instance, "sweep " + current_->where, spec_name_ + " " + current_->where);
      current_.reset();
    }

    skiff::Result<skiff::Module> compile(const json& cmd) {
      std::string path = (dir_ / cmd.at("filename").get<std::string>()).string();
      auto bytes = read_bytes(path);
      if (!bytes) return skiff::Error(skiff::ErrorCode::IoError, skiff::Error::kNoOffset, path);
      return skiff::Module::compile(engine_, std::move(*bytes));
    }

    // Compile and instantiate a command's module; the event shows either outcome.
    std::optional<skiff::Instance> load(const json& cmd, const std::string& key_prefix) {
      std::string key = key_prefix + " " + escape(cmd.value("filename", std::string()));
      auto module = compile(cmd);
      if (!module) {
        event(key, error_outcome(module.error()));
        return std::nullopt;
      }
      begin_call();
      auto inst = linker_.instantiate(store_, *module);
      if (!inst) {
        event(key, error_outcome(inst.error()) + end_call(nullptr));
        return std::nullopt;
      }
      event(key, "ok" + end_call(&*inst));
      return *inst;
    }

    std::optional<skiff::Instance> instance_for(const json& holder) {
      if (holder.contains("module")) {
        auto it = named_.find(holder["module"].get<std::string>());
        return it == named_.end() ? std::nullopt : it->second;
      }
      if (current_) return current_->instance;
      return std::nullopt;
    }

    void perform(const json& action, const std::string& where) {
      std::string field = action.at("field").get<std::string>();
      std::string kind = action.at("type").get<std::string>();
      std::string key = "action " + where + " " + kind + " " + escape(field);
      auto inst = instance_for(action);
      if (!inst) {
        event(key, "no-instance");  // the module failed to load; that event already compared
        return;
      }
      RefNames names = exported_func_refs(*inst);
      if (kind == "get") {
        auto g = inst->global(field);
        event(key, g ? "ok " + token(g->get(), &names) : "no-export");
        return;
      }
      std::vector<Val> args;
      for (const json& a : action.at("args")) args.push_back(parse_arg(a));
      auto func = inst->func(field);
      key += show_args(args, names);
      if (!func) {
        event(key, "no-export");
        return;
      }
      event(key, call_outcome(*func, args, *inst));
    }

    Worker& w_;
    const Unit& unit_;
    skiff::Engine engine_;
    skiff::Store store_;
    skiff::Linker linker_;
    std::vector<std::string> log_;
    uint64_t log_total_ = 0;
    fs::path dir_;
    std::string spec_name_;  // the .wast name: seeds the sweep's arguments
    std::optional<Current> current_;
    std::map<std::string, std::optional<skiff::Instance>> named_;
  };

  const Options& opts_;
  skiff::Tier tier_;
  int fd_;
};

// ---------------------------------------------------------------- parent: transcripts

struct UnitRecord {
  bool started = false, done = false;
  std::string crash;
  std::vector<std::pair<std::string, std::string>> events;
  std::vector<std::string> runner_errors;
  std::vector<std::string> skips;
};

struct Transcript {
  std::vector<UnitRecord> units;
  std::string fatal;
};

std::string read_fd(int fd) {
  std::string text;
  char buf[1 << 16];
  off_t at = 0;
  ssize_t n;
  while ((n = pread(fd, buf, sizeof buf, at)) > 0) {
    text.append(buf, static_cast<size_t>(n));
    at += n;
  }
  return text;
}

Transcript parse_transcript(const std::string& text, size_t unit_count) {
  Transcript t;
  t.units.resize(unit_count);
  UnitRecord* cur = nullptr;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) break;  // a torn last line from a crash
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() < 2) continue;
    char tag = line[0];
    std::string rest = line.substr(2);
    if (tag == 'U' || tag == 'D' || tag == 'X') {
      size_t idx = std::strtoul(rest.c_str(), nullptr, 10);
      if (idx >= unit_count) continue;
      cur = &t.units[idx];
      if (tag == 'U') cur->started = true;
      if (tag == 'D') cur->done = true;
      if (tag == 'X') {
        size_t space = rest.find(' ');
        cur->crash = space == std::string::npos ? "died" : rest.substr(space + 1);
      }
    } else if (tag == 'F') {
      t.fatal = rest;
    } else if (cur && tag == 'E') {
      size_t tab = rest.find('\t');
      cur->events.emplace_back(rest.substr(0, tab), tab == std::string::npos ? "" : rest.substr(tab + 1));
    } else if (cur && tag == 'R') {
      cur->runner_errors.push_back(rest);
    } else if (cur && tag == 'S') {
      cur->skips.push_back(rest);
    }
  }
  return t;
}

// ---------------------------------------------------------------- parent: comparing outcomes

// StackDepth: the outcomes differ and one of them is "call stack
// exhausted" after deep recursion. Tier 2 bounds recursion by the native
// stack, not by max_call_depth (docs/architecture.md, Tier 2), so the tiers
// give up at different depths; --allow-stack-depth counts these apart from
// failures.
enum class Verdict { Same, NanNote, StackDepth, Differ };

// Frames in the backtrace of a "call stack exhausted" outcome, else 0.
uint64_t exhausted_depth(const std::string& outcome) {
  if (outcome.rfind("trap StackExhausted ", 0) != 0) return 0;
  size_t bt = outcome.find(" bt:");
  size_t end = outcome.find(' ', bt + 1);
  std::string frames = outcome.substr(bt + 4, end == std::string::npos ? std::string::npos : end - bt - 4);
  size_t elided = frames.find("...(");
  if (elided != std::string::npos) return std::strtoull(frames.c_str() + elided + 4, nullptr, 10);
  return frames.empty() ? 0 : 1 + std::count(frames.begin(), frames.end(), ',');
}

// Shallower than this, running out of stack is no depth-limit difference.
constexpr uint64_t kDeepRecursion = 1000;

bool nan_bits(uint64_t bits, unsigned width, bool& quiet) {
  uint64_t exp = width == 4 ? 0x7f800000ull : 0x7ff0000000000000ull;
  uint64_t frac = width == 4 ? 0x007fffffull : 0x000fffffffffffffull;
  uint64_t quiet_bit = width == 4 ? 0x00400000ull : 0x0008000000000000ull;
  quiet = (bits & quiet_bit) != 0;
  return (bits & exp) == exp && (bits & frac) != 0;
}

// Two different bit patterns that the spec lets an arithmetic operation
// return alike: both quiet (arithmetic) NaNs.
bool both_arithmetic_nans(uint64_t a, uint64_t b, unsigned width) {
  bool qa, qb;
  return nan_bits(a, width, qa) && nan_bits(b, width, qb) && qa && qb;
}

Verdict compare_token(const std::string& a, const std::string& b) {
  if (a == b) return Verdict::Same;
  auto prefix = [&](const char* p) { return a.rfind(p, 0) == 0 && b.rfind(p, 0) == 0; };
  if (prefix("f32:") || prefix("f64:")) {
    unsigned width = a[1] == '3' ? 4 : 8;
    uint64_t x = std::strtoull(a.c_str() + 4, nullptr, 16), y = std::strtoull(b.c_str() + 4, nullptr, 16);
    return both_arithmetic_nans(x, y, width) ? Verdict::NanNote : Verdict::Differ;
  }
  if (prefix("v128:") && a.size() == 37 && b.size() == 37) {
    // Lanes are untyped: accept if every differing lane pair is a pair of
    // arithmetic NaNs as f32x4, or else as f64x2.
    for (unsigned width : {4u, 8u}) {
      bool all_nan = true;
      for (unsigned lane = 0; lane < 16 / width && all_nan; ++lane) {
        uint64_t x = 0, y = 0;
        for (unsigned i = 0; i < width; ++i) {
          auto byte_at = [&](const std::string& s) {
            return std::strtoull(s.substr(5 + 2 * (lane * width + i), 2).c_str(), nullptr, 16);
          };
          x |= byte_at(a) << (8 * i);
          y |= byte_at(b) << (8 * i);
        }
        if (x != y && !both_arithmetic_nans(x, y, width)) all_nan = false;
      }
      if (all_nan) return Verdict::NanNote;
    }
  }
  return Verdict::Differ;
}

std::vector<std::string> split_tokens(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find(' ', pos);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

Verdict compare_outcome(const std::string& a, const std::string& b) {
  if (a == b) return Verdict::Same;
  if (exhausted_depth(a) >= kDeepRecursion || exhausted_depth(b) >= kDeepRecursion) return Verdict::StackDepth;
  std::vector<std::string> ta = split_tokens(a), tb = split_tokens(b);
  if (ta.size() != tb.size()) return Verdict::Differ;
  Verdict v = Verdict::Same;
  for (size_t i = 0; i < ta.size(); ++i) {
    Verdict t = compare_token(ta[i], tb[i]);
    if (t == Verdict::Differ) return t;
    if (t == Verdict::NanNote) v = t;
  }
  return v;
}

// The comparison rules on known pairs: a mistake here would hide
// differences, so every run checks them first. Returns the failures.
std::vector<std::string> check_comparator() {
  struct Case {
    const char* a;
    const char* b;
    Verdict want;
  };
  const Case cases[] = {
      {"ok i32:00000001 | fuel 5", "ok i32:00000001 | fuel 5", Verdict::Same},
      {"ok i32:00000001 | fuel 5", "ok i32:00000002 | fuel 5", Verdict::Differ},
      {"ok i32:00000001 | fuel 5", "ok i32:00000001 | fuel 6", Verdict::Differ},
      {"ok f32:7fc00000", "ok f32:ffc00001", Verdict::NanNote},           // two quiet NaNs
      {"ok f32:7fa00000", "ok f32:7fe00000", Verdict::Differ},            // signalling vs quiet
      {"ok f64:7ff8000000000000", "ok f64:fff8000000000001", Verdict::NanNote},
      {"ok f64:7ff0000000000001", "ok f64:7ff8000000000001", Verdict::Differ},
      {"ok f64:3ff0000000000000", "ok f64:4000000000000000", Verdict::Differ},
      {"ok f32:00000000", "ok f32:80000000", Verdict::Differ},            // +0 vs -0
      {"ok v128:0000c07f0000c07f0000c07f0000c07f", "ok v128:0000e07f0000c0ff0000c07f0000c07f", Verdict::NanNote},
      {"ok v128:0000c07f0000c07f0000c07f0000c07f", "ok v128:0000a07f0000c07f0000c07f0000c07f", Verdict::Differ},
      {"ok v128:01000000000000000000000000000000", "ok v128:02000000000000000000000000000000", Verdict::Differ},
      {"ok i32:00000001", "ok i32:00000001 i32:00000002", Verdict::Differ},
      {"trap StackExhausted call%20stack%20exhausted bt:1,1,1,1,1,1,1,1,...(10000) | fuel 1", "ok i64:00 | fuel 2",
       Verdict::StackDepth},
      {"trap StackExhausted call%20stack%20exhausted bt:1,2 | fuel 1", "ok i64:00 | fuel 2", Verdict::Differ},
      {"trap MemoryOutOfBounds m bt:0", "ok i32:00000007", Verdict::Differ},
  };
  std::vector<std::string> failures;
  for (const Case& c : cases)
    if (compare_outcome(c.a, c.b) != c.want) failures.push_back(std::string(c.a) + " vs " + c.b);
  return failures;
}

// ---------------------------------------------------------------- parent: running workers

struct TierRun {
  const char* name;
  skiff::Tier tier;
  int fd = -1;
  pid_t pid = -1;
  int restarts = 0;
};

pid_t spawn_worker(const Options& opts, TierRun& run, const std::vector<Unit>& units, size_t start) {
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid != 0) return pid;
  Worker worker(opts, run.tier, run.fd);
  if (start == 0) {
    if (auto why = worker.preflight()) {
      worker.record("F " + *why);
      _exit(0);
    }
  }
  worker.run(units, start);
  _exit(0);
}

std::string describe_status(int status, unsigned timeout) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGALRM) return "timed out after " + std::to_string(timeout) + "s";
    return std::string("crashed with signal ") + strsignal(sig);
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

// Runs both tiers' workers side by side; a worker that dies is restarted after the unit it died in.
bool run_workers(const Options& opts, const std::vector<Unit>& units, TierRun (&runs)[2]) {
  for (TierRun& r : runs) {
    FILE* f = std::tmpfile();
    if (!f) {
      std::fprintf(stderr, "skiff_diff: cannot create a transcript file: %s\n", std::strerror(errno));
      return false;
    }
    r.fd = dup(fileno(f));
    std::fclose(f);  // the dup keeps the unlinked file
    r.pid = spawn_worker(opts, r, units, 0);
    if (r.pid < 0) {
      std::fprintf(stderr, "skiff_diff: fork failed: %s\n", std::strerror(errno));
      return false;
    }
  }
  int running = 2;
  while (running > 0) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "skiff_diff: waitpid: %s\n", std::strerror(errno));
      return false;
    }
    TierRun* r = runs[0].pid == pid ? &runs[0] : runs[1].pid == pid ? &runs[1] : nullptr;
    if (!r) continue;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      r->pid = -1;
      --running;
      continue;
    }
    // Find the unit it was in and note the death there.
    Transcript t = parse_transcript(read_fd(r->fd), units.size());
    size_t died_in = units.size();
    for (size_t i = 0; i < units.size(); ++i)
      if (t.units[i].started && !t.units[i].done && t.units[i].crash.empty()) died_in = i;
    size_t resume = 0;
    if (died_in < units.size()) {
      std::string note = "X " + std::to_string(died_in) + " " + describe_status(status, opts.timeout_seconds) + "\n";
      if (write(r->fd, note.data(), note.size()) < 0) return false;
      resume = died_in + 1;
    } else {
      // Died outside any unit: resume after the last finished one.
      for (size_t i = 0; i < units.size(); ++i)
        if (t.units[i].done || !t.units[i].crash.empty()) resume = i + 1;
      if (resume == 0 || ++r->restarts > 3) {
        std::fprintf(stderr, "skiff_diff: %s worker %s before running any unit\n", r->name,
                     describe_status(status, opts.timeout_seconds).c_str());
        return false;
      }
    }
    if (resume >= units.size()) {
      r->pid = -1;
      --running;
      continue;
    }
    r->pid = spawn_worker(opts, *r, units, resume);
  }
  return true;
}

// ---------------------------------------------------------------- parent: fuzz inputs

constexpr int kToolMissing = 127;

// Runs a tool with its output in `errors`; returns "" or why it failed
// (an exit status of 127 means the tool could not be started).
std::string run_tool(std::vector<std::string> argv, const std::string& errors) {
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    int log = open(errors.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(kToolMissing);
  }
  if (pid < 0) return std::string("fork failed: ") + std::strerror(errno);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream in(errors);
    std::string first;
    std::getline(in, first);
    return argv[0] + " " + describe_status(status, 0) + ": " + first;
  }
  std::remove(errors.c_str());
  return "";
}

bool tool_missing(const std::string& why) { return why.find("status " + std::to_string(kToolMissing)) != std::string::npos; }

// Runs wasm-opt -ttf on seeded random bytes; returns "" or why it failed.
std::string generate_fuzz_module(const Options& opts, uint64_t seed, const std::string& wasm_path) {
  Rng rng{seed};
  size_t size = 1000 + rng.below(opts.fuzz_bytes > 1000 ? opts.fuzz_bytes - 1000 : 1);
  std::string input = opts.work_dir + "/fuzz-" + std::to_string(seed) + ".in";
  {
    std::ofstream out(input, std::ios::binary);
    for (size_t i = 0; i < size; ++i) out.put(static_cast<char>(rng.next() >> 56));
    if (!out) return "cannot write " + input;
  }
  std::vector<std::string> argv = {opts.wasm_opt, input, "-ttf"};
  for (const char* f : kFuzzFeatures) argv.push_back(f);
  argv.insert(argv.end(), {"-o", wasm_path});
  std::string why = run_tool(argv, opts.work_dir + "/fuzz-" + std::to_string(seed) + ".log");
  std::remove(input.c_str());
  return why;
}

int usage(const std::string& error) {
  std::fprintf(stderr,
               "skiff_diff: %s\n"
               "usage: skiff_diff [--fuzz=N] [--seed=S] [--work-dir=DIR] [--wasm-opt=PATH] [--fuzz-bytes=N]\n"
               "                  [--fuel=N] [--max-memory=BYTES] [--arg-sets=N] [--timeout=SECONDS]\n"
               "                  [--max-details=N] [--allow-stack-depth] [--strict-nan] [--verbose]\n"
               "                  [--against=jit|auto|baseline] [FILE.json | FILE.wasm | FILE.wat]...\n",
               error.c_str());
  return 2;
}

bool parse_number(const std::string& text, uint64_t& out) {
  if (text.empty() || text[0] == '-') return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(text.c_str(), &end, 10);
  return errno == 0 && *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    std::string flag = arg.substr(0, eq), value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    uint64_t n = 0;
    auto number = [&]() {
      if (!parse_number(value, n)) throw std::invalid_argument(flag + " needs a non-negative number, got \"" + value + "\"");
      return n;
    };
    try {
      if (arg == "--verbose" || arg == "-v") opts.verbose = true;
      else if (arg == "--allow-stack-depth") opts.allow_stack_depth = true;
      else if (arg == "--strict-nan") opts.strict_nan = true;
      else if (arg == "--help" || arg == "-h") {
        std::printf("see the comment at the top of tests/diff/diff_runner.cpp\n");
        usage("help");
        return 0;
      }
      else if (arg == "--against=jit") opts.against = skiff::Tier::Jit;
      else if (arg == "--against=auto") opts.against = skiff::Tier::Auto;
      else if (arg == "--against=baseline") opts.against = skiff::Tier::Baseline;
      else if (flag == "--fuzz") opts.fuzz_count = static_cast<uint32_t>(number());
      else if (flag == "--seed") opts.first_seed = number();
      else if (flag == "--fuzz-bytes") opts.fuzz_bytes = static_cast<uint32_t>(number());
      else if (flag == "--work-dir") opts.work_dir = value;
      else if (flag == "--wasm-opt") opts.wasm_opt = value;
      else if (flag == "--fuel") opts.fuel = number();
      else if (flag == "--arg-sets") opts.arg_sets = static_cast<uint32_t>(number());
      else if (flag == "--timeout") opts.timeout_seconds = static_cast<unsigned>(number());
      else if (flag == "--max-details") opts.max_details = static_cast<int>(number());
      else if (flag == "--max-memory") {
        auto bytes = skiff::parse_byte_size(value);
        if (!bytes) return usage("--max-memory: " + bytes.error().to_string());
        opts.max_memory = *bytes;
      } else if (arg.rfind("--", 0) == 0) return usage("unknown option " + arg);
      else opts.files.push_back(arg);
    } catch (const std::invalid_argument& e) {
      return usage(e.what());
    }
  }
  if (auto failures = check_comparator(); !failures.empty()) {
    for (const std::string& f : failures) std::fprintf(stderr, "skiff_diff: comparator self-check failed: %s\n", f.c_str());
    return 2;
  }
  if (opts.fuzz_count == 0 && opts.files.empty()) return usage("nothing to compare: give --fuzz=N or files");
  if (opts.fuzz_count > 0 && opts.work_dir.empty()) return usage("--fuzz needs --work-dir");
  if (opts.arg_sets == 0) return usage("--arg-sets must be at least 1");

  std::vector<Unit> units;
  std::map<std::string, uint64_t> skipped;  // reason -> count
  std::vector<std::string> skip_examples;
  size_t fuzz_units = 0, spec_units = 0, wasm_units = 0;

  if (opts.fuzz_count > 0) {
    std::error_code ec;
    fs::create_directories(opts.work_dir, ec);
    if (ec) return usage("cannot create " + opts.work_dir + ": " + ec.message());
    for (uint64_t seed = opts.first_seed; seed < opts.first_seed + opts.fuzz_count; ++seed) {
      std::string path = opts.work_dir + "/fuzz-" + std::to_string(seed) + ".wasm";
      std::string why = generate_fuzz_module(opts, seed, path);
      if (tool_missing(why)) return usage("cannot run " + opts.wasm_opt + " (apt-get install binaryen)");
      if (!why.empty()) {
        ++skipped["fuzz seed not generated (wasm-opt failed)"];
        skip_examples.push_back("seed " + std::to_string(seed) + ": " + why);
        continue;
      }
      units.push_back({Unit::Wasm, path, "fuzz seed " + std::to_string(seed) + " (" + path + ")"});
      ++fuzz_units;
    }
  }
  std::string wat_dir;  // .wat inputs are converted here
  for (const std::string& f : opts.files) {
    if (!fs::exists(f)) return usage("no such file " + f);
    bool is_json = f.ends_with(".json");
    std::string path = f;
    if (f.ends_with(".wat")) {
      if (wat_dir.empty()) {
        char tmpl[] = "/tmp/skiff-diff-wat.XXXXXX";
        if (!mkdtemp(tmpl)) return usage(std::string("mkdtemp: ") + std::strerror(errno));
        wat_dir = tmpl;
      }
      path = wat_dir + "/" + std::to_string(units.size()) + "-" + fs::path(f).stem().string() + ".wasm";
      std::string why = run_tool({"wat2wasm", f, "-o", path}, path + ".log");
      if (tool_missing(why)) return usage("cannot run wat2wasm (apt-get install wabt)");
      if (!why.empty()) return usage("cannot convert " + f + ": " + why);
    }
    units.push_back({is_json ? Unit::SpecJson : Unit::Wasm, path, f});
    ++(is_json ? spec_units : wasm_units);
  }

  const char* against = opts.against == skiff::Tier::Auto       ? "auto"
                        : opts.against == skiff::Tier::Baseline ? "baseline"
                                                                : "jit";
  if (opts.against == skiff::Tier::Auto) setenv("SKIFF_TIERUP_SYNC", "1", 1);  // read by the workers' engines
  TierRun runs[2] = {{"interp", skiff::Tier::Interp}, {against, opts.against}};
  const std::string b_label =
      std::string(against) + ":" + std::string(std::max<size_t>(7, std::strlen(against)) - std::strlen(against), ' ');
  if (!run_workers(opts, units, runs)) return 2;
  Transcript a = parse_transcript(read_fd(runs[0].fd), units.size());
  Transcript b = parse_transcript(read_fd(runs[1].fd), units.size());
  for (const auto* t : {&a, &b}) {
    if (!t->fatal.empty()) {
      std::fprintf(stderr, "skiff_diff: tier %s cannot run: %s\n", t == &a ? "interp" : against, t->fatal.c_str());
      return 2;
    }
  }

  uint64_t events = 0, calls = 0, modules = 0, modules_both_ok = 0, differences = 0, nan_notes = 0;
  uint64_t crashes = 0, runner_errors = 0, differing_steps = 0, stack_depth = 0;
  std::vector<std::string> stack_examples;
  size_t units_differing = 0;
  int shown = 0;
  std::vector<std::string> nan_examples;
  auto show = [&](const std::string& text) {
    if (opts.verbose || shown < opts.max_details) std::fputs(text.c_str(), stdout);
    ++shown;
  };

  for (size_t u = 0; u < units.size(); ++u) {
    const UnitRecord& x = a.units[u];
    const UnitRecord& y = b.units[u];
    const Unit& unit = units[u];
    uint64_t before = differences + crashes + runner_errors;
    for (const auto* r : {&x, &y}) {
      const char* tier = r == &x ? "interp" : against;
      if (!r->crash.empty()) {
        ++crashes;
        show("CRASH " + unit.label + ": tier " + tier + " " + r->crash + " after " + std::to_string(r->events.size()) +
             " event(s)" + (r->events.empty() ? "" : ", last: " + r->events.back().first) + "\n");
      } else if (!r->done) {
        ++crashes;
        show("CRASH " + unit.label + ": tier " + tier + " never finished the unit\n");
      }
      for (const std::string& e : r->runner_errors) {
        ++runner_errors;
        show("ERROR " + unit.label + ": tier " + tier + ": runner error: " + e + "\n");
      }
    }
    // What a worker could not compare (the same on both tiers; counted once).
    for (const std::string& s : x.skips) ++skipped[s];
    // A module file that loads on neither tier exercised nothing: a skip, with its reason.
    if (unit.kind == Unit::Wasm && !x.events.empty() && !y.events.empty() &&
        x.events.back().second.rfind("error", 0) == 0 && y.events.back().second.rfind("error", 0) == 0) {
      ++skipped["module file fails to load on both tiers (identically or not: see DIFF lines)"];
      if (skip_examples.size() < 20) skip_examples.push_back(unit.label + ": " + x.events.back().second.substr(0, 200));
    }
    size_t common = std::min(x.events.size(), y.events.size());
    bool diverged = false;
    for (size_t i = 0; i < common; ++i) {
      const auto& [key_a, out_a] = x.events[i];
      const auto& [key_b, out_b] = y.events[i];
      if (key_a != key_b) {
        ++differences;
        diverged = true;
        show("DIFF " + unit.label + ": the tiers took different steps at step " + std::to_string(i + 1) +
             "\n    interp: " + key_a + "\n    " + b_label + key_b + "\n");
        break;
      }
      ++events;
      bool is_call = key_a.rfind("call ", 0) == 0 || key_a.rfind("sweep ", 0) == 0 ||
                     (key_a.rfind("action ", 0) == 0 && key_a.find(" invoke ") != std::string::npos);
      bool is_module = key_a.rfind("instantiate", 0) == 0 || key_a.rfind("module ", 0) == 0 ||
                       key_a.rfind("assert_un", 0) == 0;
      calls += is_call;
      modules += is_module;
      if (is_module && out_a.rfind("ok", 0) == 0 && out_b.rfind("ok", 0) == 0) ++modules_both_ok;
      Verdict v = compare_outcome(out_a, out_b);
      if (v == Verdict::NanNote && !opts.strict_nan) {
        ++nan_notes;
        if (nan_examples.size() < 5)
          nan_examples.push_back(unit.label + ": " + key_a + "\n      interp: " + out_a.substr(0, 300) +
                                 "\n      " + b_label + out_b.substr(0, 300));
      } else if (v == Verdict::StackDepth && opts.allow_stack_depth) {
        ++stack_depth;
        if (stack_examples.size() < 3)
          stack_examples.push_back(unit.label + ": " + key_a + "\n      interp: " + out_a.substr(0, 200) +
                                   "\n      " + b_label + out_b.substr(0, 200));
      } else if (v != Verdict::Same) {
        ++differences;
        ++differing_steps;
        show("DIFF " + unit.label + ": " + key_a + "\n    interp: " + out_a + "\n    " + b_label + out_b + "\n");
      }
    }
    if (!diverged && x.events.size() != y.events.size() && x.crash.empty() && y.crash.empty()) {
      ++differences;
      show("DIFF " + unit.label + ": interp recorded " + std::to_string(x.events.size()) + " step(s), jit " +
           std::to_string(y.events.size()) + "\n");
    }
    if (differences + crashes + runner_errors > before) ++units_differing;
  }
  if (shown > opts.max_details && !opts.verbose)
    std::printf("(%d more difference(s) not shown; --verbose shows all)\n", shown - opts.max_details);

  uint64_t skipped_total = 0;
  for (const auto& [reason, count] : skipped) skipped_total += count;
  std::string seeds = opts.fuzz_count == 0 ? std::string()
                                           : " (seeds " + std::to_string(opts.first_seed) + ".." +
                                                 std::to_string(opts.first_seed + opts.fuzz_count - 1) + ")";
  std::printf("\nskiff_diff: tier interp vs tier %s, %zu unit(s): %zu fuzz module(s)%s, %zu spec file(s), "
              "%zu module file(s)\n",
              against, units.size(), fuzz_units, seeds.c_str(), spec_units, wasm_units);
  std::printf("  modules compared: %" PRIu64 " (instantiated on both tiers: %" PRIu64 ")\n", modules, modules_both_ok);
  std::printf("  calls compared:   %" PRIu64 " (of %" PRIu64 " steps)\n", calls, events);
  std::printf("  differences:      %" PRIu64 " in %zu unit(s); worker crashes/timeouts: %" PRIu64
              "; runner errors: %" PRIu64 "\n",
              differences, units_differing, crashes, runner_errors);
  std::printf("  NaN notes (both tiers gave a quiet NaN, bits differ; allowed by the spec): %" PRIu64 "\n", nan_notes);
  for (const std::string& e : nan_examples) std::printf("    %s\n", e.c_str());
  if (opts.allow_stack_depth) {
    std::printf("  stack-depth differences (--allow-stack-depth: one tier ran out of call stack, tier 2 is bounded\n"
                "  by the native stack instead of max_call_depth; not counted as failures): %" PRIu64 "\n",
                stack_depth);
    for (const std::string& e : stack_examples) std::printf("    %s\n", e.c_str());
  }
  std::printf("  skipped: %" PRIu64 "\n", skipped_total);
  for (const auto& [reason, count] : skipped) std::printf("    %6" PRIu64 "  %s\n", count, reason.c_str());
  for (size_t i = 0; i < skip_examples.size() && i < 10; ++i) std::printf("      e.g. %s\n", skip_examples[i].c_str());
  uint64_t failed = differences + crashes + runner_errors;
  std::printf("%" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped\n", events - differing_steps - stack_depth,
              failed, skipped_total);
  return failed == 0 ? 0 : 1;
}

// Engine and Module: decoding, validation and module inspection.
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <unordered_map>

#include "api/aot_cache.h"
#include "baseline/baseline.h"
#include "interp/interp.h"
#include "llvm/jit.h"
#include "llvm/tierup.h"
#include "runtime/runtime.h"
#include "skiff/skiff.hh"
#include "wasm/validator.h"

namespace skiff {

// ---- Tier::Auto: each engine's background compiler -------------------------
// Module::compile cannot reach an Engine's State, so engines in Auto mode
// register their compiler under the address of their configuration.

namespace {
std::mutex g_auto_engines_mutex;
std::unordered_map<const EngineConfig*, std::weak_ptr<llvmjit::TierUpCompiler>> g_auto_engines;

std::shared_ptr<llvmjit::TierUpCompiler> tier_up_compiler(const Engine& engine) {
  std::lock_guard lock(g_auto_engines_mutex);
  auto it = g_auto_engines.find(&engine.config());
  return it == g_auto_engines.end() ? nullptr : it->second.lock();
}
}  // namespace

struct Engine::State {
  EngineConfig config;
  std::atomic<uint64_t> epoch{0};
  // Tier::Auto: compiles hot functions; its thread ends with the engine.
  std::shared_ptr<llvmjit::TierUpCompiler> tier_up;

  ~State() {
    if (tier_up == nullptr) return;
    std::lock_guard lock(g_auto_engines_mutex);
    g_auto_engines.erase(&config);
  }
};

Engine::Engine(EngineConfig config) : state_(std::make_shared<State>()) {
  state_->config = std::move(config);
  if (state_->config.tier == Tier::Auto) {
    state_->tier_up =
        std::make_shared<llvmjit::TierUpCompiler>(llvmjit::tier_up_policy(state_->config.tier_up_threshold,
                                                                          state_->config.interruptible));
    std::lock_guard lock(g_auto_engines_mutex);
    g_auto_engines[&state_->config] = state_->tier_up;
  }
}
const EngineConfig& Engine::config() const { return state_->config; }
void Engine::increment_epoch() const { state_->epoch.fetch_add(1, std::memory_order_relaxed); }
uint64_t Engine::current_epoch() const { return state_->epoch.load(std::memory_order_relaxed); }
const std::atomic<uint64_t>* Engine::epoch_counter() const { return &state_->epoch; }

namespace {

// Tier::Baseline: tier 1 compiles what it supports; the rest is interpreted,
// and the interpreter enters the compiled functions through their stubs.
Result<void> compile_baseline(const Engine& engine, rt::CompiledModule& compiled) {
  compiled.native_executor = &llvmjit::execute;
  auto code = baseline::compile(*compiled.module, {}, {.interruptible = engine.config().interruptible});
  if (!code.ok()) return code.error();
  if (code.value().functions.empty()) return {};
  SKIFF_TRY(llvmjit::install(compiled, code.value().code));
  for (uint32_t index : code.value().functions)
    interp::use_native_code(compiled, index - compiled.module->num_imported_funcs);
  return {};
}

}  // namespace

Result<Module> Module::compile(const Engine& engine, std::vector<uint8_t> bytes) {
  auto decoded = detail::decode_and_validate(std::move(bytes));
  if (!decoded) return decoded.error();
  std::shared_ptr<rt::CompiledModule> compiled = std::move(decoded.value());
  Module out;
  switch (engine.config().tier) {
    case Tier::Interp:
      break;
    case Tier::Jit:
      // Tier 2 compiles the whole module before anything runs (or takes it
      // from the on-disk cache).
      SKIFF_TRY(detail::compile_all(engine, *compiled));
      compiled->native_executor = &llvmjit::execute;
      break;
    case Tier::Baseline:
      SKIFF_TRY(compile_baseline(engine, *compiled));
      break;
    case Tier::Auto:
      // The whole module's machine code when the cache has it (a previous
      // Jit run, or a long Auto one); otherwise start interpreted, with the
      // tier-up batches an earlier run cached, and compile what turns hot.
      if (detail::install_cached(engine, *compiled)) {
        compiled->native_executor = &llvmjit::execute;
      } else if (auto tier_up = tier_up_compiler(engine)) {
        tier_up->attach(*compiled, detail::cache_writer(engine), detail::batch_writer(engine),
                        detail::cached_batches(engine, *compiled));
      }
      break;
  }
  out.impl_ = std::move(compiled);
  return out;
}

namespace {


std::string limits_text(const Limits& limits) {
  return std::to_string(limits.min) + ".." + (limits.max ? std::to_string(*limits.max) : std::string());
}

const char* section_name(uint8_t id) {
  static constexpr const char* kNames[] = {"custom", "type",    "import", "function", "table", "memory", "global",
                                           "export", "start",   "element", "code",    "data",  "datacount"};
  return id < std::size(kNames) ? kNames[id] : "unknown";
}

}  // namespace

Result<Module> Module::from_file(const Engine& engine, const std::string& path) {
  auto bytes = Module::read_file(path);
  if (!bytes) return bytes.error();
  return compile(engine, std::move(bytes.value()));
}

Result<void> Module::decode_only(std::vector<uint8_t> bytes) {
  auto decoded = wasm::decode_module(std::move(bytes));
  if (!decoded) return decoded.error();
  return {};
}

std::vector<ImportDesc> Module::imports() const {
  std::vector<ImportDesc> out;
  if (!impl_) return out;
  const wasm::Module& m = *impl_->module;
  for (const wasm::Import& imp : m.imports) {
    ImportDesc d{imp.module, imp.name, imp.kind, {}};
    switch (imp.kind) {
      case ExternKind::Func:
        d.type = "func " + (imp.func_type < m.types.size() ? m.types[imp.func_type].to_string() : std::string("?"));
        break;
      case ExternKind::Table:
        d.type = "table " + limits_text(imp.table.limits) + " " + to_string(imp.table.elem);
        break;
      case ExternKind::Memory: d.type = "memory " + limits_text(imp.memory.limits); break;
      case ExternKind::Global:
        d.type = std::string("global ") + (imp.global.is_mutable ? "mut " : "") + to_string(imp.global.type);
        break;
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<ExportDesc> Module::exports() const {
  std::vector<ExportDesc> out;
  if (!impl_) return out;
  for (const wasm::Export& e : impl_->module->exports) out.push_back({e.name, e.kind, e.index});
  return out;
}

std::vector<SectionDesc> Module::sections() const {
  std::vector<SectionDesc> out;
  if (!impl_) return out;
  const wasm::Module& m = *impl_->module;
  size_t custom = 0;
  for (const wasm::SectionInfo& s : m.sections) {
    std::string name = section_name(s.id);
    if (s.id == 0 && custom < m.customs.size()) name = m.customs[custom++].name;
    out.push_back({s.id, std::move(name), s.offset, s.size});
  }
  return out;
}

uint32_t Module::num_functions() const { return impl_ ? static_cast<uint32_t>(impl_->module->funcs.size()) : 0; }
uint32_t Module::num_imported_functions() const { return impl_ ? impl_->module->num_imported_funcs : 0; }

std::optional<FuncType> Module::export_func_type(std::string_view name) const {
  if (!impl_) return std::nullopt;
  const wasm::Module& m = *impl_->module;
  const wasm::Export* e = m.find_export(name);
  if (e == nullptr || e->kind != ExternKind::Func || e->index >= m.funcs.size()) return std::nullopt;
  return m.func_type(e->index);
}

}  // namespace skiff

namespace skiff {

Result<std::vector<uint8_t>> Module::read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Error(ErrorCode::IoError, Error::kNoOffset, path + ": " + std::strerror(errno));
  std::streamoff size = in.tellg();
  if (size < 0) return Error(ErrorCode::IoError, Error::kNoOffset, path);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    return Error(ErrorCode::IoError, Error::kNoOffset, path);
  return bytes;
}

}  // namespace skiff

// Ahead-of-time modules (Module::precompile / deserialize) and tier 2's
// on-disk cache (EngineConfig::cache_dir). The format is src/llvm/aot.h.
#include "api/aot_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "llvm/aot.h"
#include "llvm/jit.h"
#include "llvm/tierup.h"
#include "runtime/runtime.h"
#include "skiff/skiff.hh"
#include "wasm/validator.h"

namespace skiff {

Result<std::shared_ptr<rt::CompiledModule>> detail::decode_and_validate(std::vector<uint8_t> bytes) {
  auto decoded = wasm::decode_module(std::move(bytes));
  if (!decoded) return decoded.error();
  std::unique_ptr<wasm::Module> module = std::move(decoded.value());
  SKIFF_TRY(wasm::validate_module(*module));
  return rt::make_compiled_module(std::shared_ptr<const wasm::Module>(std::move(module)));
}

namespace {

// `kind`: ".skc" (the whole module) or ".tierup" (tier-up batches).
std::string cache_path(const std::string& cache_dir, bool interruptible, const wasm::Module& module,
                       const char* kind = ".skc") {
  std::string config = llvmjit::code_config_id() + (interruptible ? " interruptible" : "");
  std::string name = llvmjit::hash_hex(module.bytes) +
                     llvmjit::hash_hex({reinterpret_cast<const uint8_t*>(config.data()), config.size()});
  return cache_dir + "/" + name + kind;
}

std::string cache_path(const Engine& engine, const wasm::Module& module) {
  return cache_path(engine.config().cache_dir, engine.config().interruptible, module);
}

// Written to a temporary file and renamed, so concurrent runs never read a
// half-written entry. A cache that cannot be written is not an error.
void store_in_cache(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::string temp = path + ".tmp." + std::to_string(getpid());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  bool ok = done == bytes.size();
  if (close(fd) != 0) ok = false;
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) unlink(temp.c_str());
}

llvmjit::CompileOptions options_of(const Engine& engine) {
  llvmjit::CompileOptions options;
  options.interruptible = engine.config().interruptible;
  options.progress = engine.config().compile_progress;
  return options;
}

}  // namespace

namespace detail {

bool install_cached(const Engine& engine, rt::CompiledModule& compiled) {
  if (engine.config().cache_dir.empty() || compiled.module->num_defined_funcs() == 0) return false;
  auto file = Module::read_file(cache_path(engine, *compiled.module));
  if (!file.ok()) return false;
  auto contents = llvmjit::read_aot(file.value());
  // A stale or damaged entry is ignored (and replaced by the next compile).
  if (!contents.ok() || contents.value().wasm != compiled.module->bytes ||
      contents.value().code.interruptible != engine.config().interruptible)
    return false;
  return llvmjit::install(compiled, contents.value().code).ok();
}

llvmjit::TierUpCompiler::WholeModuleSink cache_writer(const Engine& engine) {
  if (engine.config().cache_dir.empty() || !engine.config().cache_hot_modules) return nullptr;
  // What it needs of the engine, by value: the module may outlive it.
  return [dir = engine.config().cache_dir, interruptible = engine.config().interruptible](
             const wasm::Module& module, const llvmjit::CompiledCode& code) {
    store_in_cache(cache_path(dir, interruptible, module), llvmjit::write_aot(module.bytes, code));
  };
}

llvmjit::TierUpCompiler::BatchSink batch_writer(const Engine& engine) {
  if (engine.config().cache_dir.empty() || !engine.config().cache_hot_modules) return nullptr;
  return [dir = engine.config().cache_dir, interruptible = engine.config().interruptible](
             const wasm::Module& module, const std::vector<llvmjit::TierUpBatch>& batches) {
    // The file is rewritten at every batch: past this size (a large
    // application's hot code) it stays as it is.
    constexpr size_t kMaxBatchCodeBytes = 16u << 20;
    size_t code_bytes = 0;
    for (const llvmjit::TierUpBatch& batch : batches)
      for (const std::string& object : batch.code.objects) code_bytes += object.size();
    if (code_bytes > kMaxBatchCodeBytes) return;
    store_in_cache(cache_path(dir, interruptible, module, ".tierup"),
                   llvmjit::write_tierup_batches(module.bytes, batches));
  };
}

std::vector<llvmjit::TierUpBatch> cached_batches(const Engine& engine, const rt::CompiledModule& compiled) {
  if (engine.config().cache_dir.empty()) return {};
  auto file = Module::read_file(cache_path(engine.config().cache_dir, engine.config().interruptible,
                                           *compiled.module, ".tierup"));
  if (!file.ok()) return {};
  // A stale or damaged entry is ignored (and replaced by the next batch).
  auto batches = llvmjit::read_tierup_batches(file.value(), compiled.module->bytes);
  return batches.ok() ? std::move(batches.value()) : std::vector<llvmjit::TierUpBatch>();
}

Result<void> compile_all(const Engine& engine, rt::CompiledModule& compiled) {
  if (install_cached(engine, compiled)) return {};
  if (compiled.module->num_defined_funcs() == 0) return {};
  auto code = llvmjit::compile(*compiled.module, {}, options_of(engine));
  if (!code.ok()) return code.error();
  SKIFF_TRY(llvmjit::install(compiled, code.value()));
  if (!engine.config().cache_dir.empty())
    store_in_cache(cache_path(engine, *compiled.module), llvmjit::write_aot(compiled.module->bytes, code.value()));
  return {};
}

}  // namespace detail

Result<std::vector<uint8_t>> Module::precompile(const Engine& engine, std::vector<uint8_t> wasm) {
  auto compiled = detail::decode_and_validate(std::move(wasm));
  if (!compiled.ok()) return compiled.error();
  const wasm::Module& module = *compiled.value()->module;
  llvmjit::CompiledCode code;
  code.interruptible = engine.config().interruptible;
  if (module.num_defined_funcs() != 0) {
    auto result = llvmjit::compile(module, {}, options_of(engine));
    if (!result.ok()) return result.error();
    code = std::move(result.value());
  }
  return llvmjit::write_aot(module.bytes, code);
}

Result<Module> Module::deserialize(const Engine& engine, std::span<const uint8_t> skc) {
  auto contents = llvmjit::read_aot(skc);
  if (!contents.ok()) return contents.error();
  auto compiled = detail::decode_and_validate(std::move(contents.value().wasm));
  if (!compiled.ok()) return compiled.error();
  SKIFF_TRY(llvmjit::install(*compiled.value(), contents.value().code));
  compiled.value()->native_executor = &llvmjit::execute;  // the interpreter's calls into it run machine code
  (void)engine;  // code is per process; the engine's tier does not matter for precompiled modules
  Module out;
  out.impl_ = std::move(compiled.value());
  return out;
}

bool Module::is_precompiled(std::span<const uint8_t> bytes) { return llvmjit::is_aot_file(bytes); }

}  // namespace skiff

// Instance export lookup and the Linker: name resolution for imports.
#include <atomic>
#include <map>

#include "api/convert.h"
#include "interp/interp.h"
#include "llvm/jit.h"
#include "runtime/runtime.h"

namespace skiff {

namespace {

Extern to_extern(rt::Store* store, const rt::ExternVal& v) {
  switch (v.kind) {
    case ExternKind::Func: return Extern::of(Func(store, v.func));
    case ExternKind::Table: return Extern::of(Table(store, v.table));
    case ExternKind::Memory: return Extern::of(Memory(store, v.memory));
    case ExternKind::Global: return Extern::of(Global(store, v.global));
  }
  return Extern{};
}

rt::ExternVal to_extern_val(const Extern& e) {
  rt::ExternVal v;
  v.kind = e.kind;
  v.func = e.func.raw();
  v.table = e.table.raw();
  v.memory = e.memory.raw();
  v.global = e.global.raw();
  return v;
}

}  // namespace

// ---- Instance -----------------------------------------------------------------

std::optional<Extern> Instance::get_export(std::string_view name) const {
  if (inst_ == nullptr) return std::nullopt;
  const wasm::Export* e = inst_->module->find_export(name);
  if (e == nullptr) return std::nullopt;
  return to_extern(store_, rt::export_value(*inst_, *e));
}

std::optional<Func> Instance::func(std::string_view name) const {
  auto e = get_export(name);
  if (!e || e->kind != ExternKind::Func) return std::nullopt;
  return e->func;
}

std::optional<Global> Instance::global(std::string_view name) const {
  auto e = get_export(name);
  if (!e || e->kind != ExternKind::Global) return std::nullopt;
  return e->global;
}

std::optional<Memory> Instance::memory(std::string_view name) const {
  auto e = get_export(name);
  if (!e || e->kind != ExternKind::Memory) return std::nullopt;
  return e->memory;
}

std::optional<Table> Instance::table(std::string_view name) const {
  auto e = get_export(name);
  if (!e || e->kind != ExternKind::Table) return std::nullopt;
  return e->table;
}

std::vector<std::pair<std::string, Extern>> Instance::exports() const {
  std::vector<std::pair<std::string, Extern>> out;
  if (inst_ == nullptr) return out;
  for (const wasm::Export& e : inst_->module->exports) out.emplace_back(e.name, to_extern(store_, rt::export_value(*inst_, e)));
  return out;
}

// ---- Linker -------------------------------------------------------------------

struct Linker::Impl {
  struct HostDef {
    uint64_t id;  // process-unique: keys the per-store FuncInst cache
    FuncType type;
    HostCallback callback;   // boxed form, or
    RawHostCallback raw;     // slot form
  };
  struct Entry {
    std::shared_ptr<const HostDef> host;  // set for Linker::func entries
    Extern value;
  };
  const Engine* engine;
  std::map<std::pair<std::string, std::string>, Entry, std::less<>> entries;

  static uint64_t next_host_id() {
    static std::atomic<uint64_t> counter{1};
    return counter.fetch_add(1, std::memory_order_relaxed);
  }
};

Linker::Linker(const Engine& engine) : impl_(std::make_unique<Impl>()) { impl_->engine = &engine; }
Linker::~Linker() = default;
Linker::Linker(Linker&&) noexcept = default;
Linker& Linker::operator=(Linker&&) noexcept = default;

void Linker::func(std::string module, std::string name, FuncType type, HostCallback callback) {
  auto def = std::make_shared<Impl::HostDef>(
      Impl::HostDef{Impl::next_host_id(), std::move(type), std::move(callback), nullptr});
  impl_->entries[{std::move(module), std::move(name)}] = Impl::Entry{std::move(def), Extern{}};
}

void Linker::func_raw(std::string module, std::string name, FuncType type, RawHostCallback callback) {
  auto def = std::make_shared<Impl::HostDef>(
      Impl::HostDef{Impl::next_host_id(), std::move(type), nullptr, std::move(callback)});
  impl_->entries[{std::move(module), std::move(name)}] = Impl::Entry{std::move(def), Extern{}};
}

void Linker::define(std::string module, std::string name, Extern value) {
  impl_->entries[{std::move(module), std::move(name)}] = Impl::Entry{nullptr, value};
}

void Linker::define_instance(std::string module, const Instance& instance) {
  for (auto& [name, value] : instance.exports()) define(module, name, value);
}

Result<Instance> Linker::instantiate(Store& store, const Module& module) const {
  const auto& compiled = module.raw();
  if (!compiled) return Error(ErrorCode::UsageError, Error::kNoOffset, "empty module");
  rt::Store& raw_store = *store.raw();
  const wasm::Module& m = *compiled->module;
  std::vector<rt::ExternVal> resolved;
  resolved.reserve(m.imports.size());
  for (uint32_t i = 0; i < m.imports.size(); ++i) {
    const wasm::Import& import = m.imports[i];
    auto it = impl_->entries.find(std::make_pair(import.module, import.name));
    if (it == impl_->entries.end())
      return Error(ErrorCode::UnknownImport, Error::kNoOffset, "\"" + import.module + "\" \"" + import.name + "\"");
    rt::ExternVal value;
    if (const auto& host = it->second.host) {
      rt::FuncInst*& cached = raw_store.host_func_cache[host->id];
      if (cached == nullptr)
        cached = rt::new_host_func(raw_store, host->type,
                                   host->raw ? api::wrap_raw_host_callback(host->raw)
                                             : api::wrap_host_callback(host->type, host->callback));
      value.kind = ExternKind::Func;
      value.func = cached;
    } else {
      const Extern& e = it->second.value;
      if (e.kind == ExternKind::Func && e.func.raw_store() != &raw_store)
        return Error(ErrorCode::IncompatibleImportType, Error::kNoOffset,
                     "\"" + import.module + "\" \"" + import.name + "\": function of another store");
      value = to_extern_val(e);
    }
    SKIFF_TRY(rt::check_import(*compiled, i, value));
    resolved.push_back(value);
  }
  auto instance = rt::instantiate(raw_store, compiled, resolved, &llvmjit::execute);
  if (!instance) return instance.error();
  return Instance(&raw_store, *instance);
}

}  // namespace skiff

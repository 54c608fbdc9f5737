// Skiff's public C++ API: the only header embedders include.
//
//   skiff::Engine engine;
//   auto module = skiff::Module::from_file(engine, "app.wasm");   // decode + validate
//   skiff::Store store(engine);
//   skiff::Linker linker(engine);
//   linker.func("env", "log", type, [](skiff::Caller&, skiff::Val* args, skiff::Val* results) { ... });
//   auto instance = linker.instantiate(store, *module);
//   auto results = instance->func("run")->call({skiff::Val::i32(7)});
//
// Handles (Func, Table, Memory, Global, Instance) are cheap to copy and stay
// valid as long as their Store lives.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/result.h"
#include "skiff/trap.h"
#include "skiff/types.h"

namespace skiff {

namespace rt {
struct FuncInst;
struct TableInst;
struct MemoryInst;
struct GlobalInst;
struct Instance;
struct Store;
struct CompiledModule;
}  // namespace rt

class Func;
class Store;

// A value of any wasm type. References: funcref holds an internal function
// pointer (0 = null); externref holds an opaque host word (0 = null).
struct Val {
  ValType type = ValType::I32;
  union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    V128 v128;
    uint64_t ref;
  } of{};

  static Val make_i32(int32_t v) { Val x; x.type = ValType::I32; x.of.i32 = v; return x; }
  static Val make_i64(int64_t v) { Val x; x.type = ValType::I64; x.of.i64 = v; return x; }
  static Val make_f32(float v) { Val x; x.type = ValType::F32; x.of.f32 = v; return x; }
  static Val make_f64(double v) { Val x; x.type = ValType::F64; x.of.f64 = v; return x; }
  static Val make_f32_bits(uint32_t bits) { Val x; x.type = ValType::F32; std::memcpy(&x.of.f32, &bits, 4); return x; }
  static Val make_f64_bits(uint64_t bits) { Val x; x.type = ValType::F64; std::memcpy(&x.of.f64, &bits, 8); return x; }
  static Val make_v128(const V128& v) { Val x; x.type = ValType::V128; x.of.v128 = v; return x; }
  static Val make_externref(uint64_t host_word) { Val x; x.type = ValType::ExternRef; x.of.ref = host_word; return x; }
  static Val null_of(ValType ref_type) { Val x; x.type = ref_type; x.of.ref = 0; return x; }
  static Val make_funcref(const Func& f);

  uint32_t f32_bits() const { uint32_t b; std::memcpy(&b, &of.f32, 4); return b; }
  uint64_t f64_bits() const { uint64_t b; std::memcpy(&b, &of.f64, 8); return b; }
  bool is_null() const { return of.ref == 0; }
  // i32/i64 as signed decimal, floats in shortest round-trip form, v128 as
  // four i32 lanes, references as "null" or "ref".
  std::string to_string() const;
};

enum class Tier : uint8_t { Interp };

struct EngineConfig {
  Tier tier = Tier::Interp;
  uint32_t max_call_depth = 10000;          // wasm frames per call into wasm
  uint64_t value_stack_bytes = 64ull << 20; // reserved per store, committed on use
};

// Configuration and code shared by all stores. Thread-safe.
class Engine {
 public:
  explicit Engine(EngineConfig config = {});
  const EngineConfig& config() const;

 private:
  std::shared_ptr<EngineConfig> config_;
};

struct ImportDesc {
  std::string module;
  std::string name;
  ExternKind kind;
  std::string type;  // e.g. "func (i32) -> ()", "memory 1..2"
};

struct ExportDesc {
  std::string name;
  ExternKind kind;
  uint32_t index;
};

struct SectionDesc {
  uint8_t id;
  std::string name;  // "type", "code", ... or the custom section's name
  uint32_t offset;
  uint32_t size;
};

// Decoded and validated code: compiled once, instantiated many times,
// shareable across threads.
class Module {
 public:
  static Result<Module> compile(const Engine& engine, std::vector<uint8_t> bytes);
  static Result<Module> from_file(const Engine& engine, const std::string& path);
  // Decodes only (for assert_malformed / `skiff inspect` of invalid modules).
  static Result<void> decode_only(std::vector<uint8_t> bytes);

  std::vector<ImportDesc> imports() const;
  std::vector<ExportDesc> exports() const;
  std::vector<SectionDesc> sections() const;
  uint32_t num_functions() const;          // imported + defined
  uint32_t num_imported_functions() const;
  std::optional<FuncType> export_func_type(std::string_view name) const;

  const std::shared_ptr<const rt::CompiledModule>& raw() const { return impl_; }

 private:
  std::shared_ptr<const rt::CompiledModule> impl_;
};

// One tenant's state. Used by one thread at a time.
class Store {
 public:
  explicit Store(const Engine& engine);
  ~Store();
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  rt::Store* raw() const { return impl_.get(); }
  const Engine& engine() const { return *engine_; }

 private:
  std::unique_ptr<rt::Store> impl_;
  const Engine* engine_;
};

// What a host function sees of its caller.
class Caller {
 public:
  Caller(rt::Store* store, rt::Instance* instance) : store_(store), instance_(instance) {}
  // The caller's memory 0 (null if it has none): base and size for checked access.
  uint8_t* memory_data() const;
  uint64_t memory_size() const;
  rt::Store* raw_store() const { return store_; }
  rt::Instance* raw_instance() const { return instance_; }

 private:
  rt::Store* store_;
  rt::Instance* instance_;
};

// args has type.params.size() values, results must be filled with
// type.results.size() values; return a Trap to stop the calling wasm code.
using HostCallback = std::function<std::optional<Trap>(Caller&, const Val* args, Val* results)>;

class Func {
 public:
  Func() = default;
  Func(rt::Store* store, rt::FuncInst* f) : store_(store), f_(f) {}
  // A host function owned by `store`.
  static Func create(Store& store, const FuncType& type, HostCallback callback);

  explicit operator bool() const { return f_ != nullptr; }
  const FuncType& type() const;
  // Checks the argument types, runs the function, returns its results or the trap.
  Result<std::vector<Val>, Trap> call(std::span<const Val> args) const;
  Result<std::vector<Val>, Trap> call(std::initializer_list<Val> args) const {
    return call(std::span<const Val>(args.begin(), args.size()));
  }
  rt::FuncInst* raw() const { return f_; }
  rt::Store* raw_store() const { return store_; }

 private:
  rt::Store* store_ = nullptr;
  rt::FuncInst* f_ = nullptr;
};

class Global {
 public:
  Global() = default;
  Global(rt::Store* store, rt::GlobalInst* g) : store_(store), g_(g) {}
  static Global create(Store& store, GlobalType type, Val init);
  GlobalType type() const;
  Val get() const;
  Result<void> set(Val v);  // fails on an immutable global or a wrong type
  rt::GlobalInst* raw() const { return g_; }

 private:
  rt::Store* store_ = nullptr;
  rt::GlobalInst* g_ = nullptr;
};

class Memory {
 public:
  Memory() = default;
  Memory(rt::Store* store, rt::MemoryInst* m) : store_(store), m_(m) {}
  static Result<Memory> create(Store& store, MemoryType type);
  MemoryType type() const;
  uint8_t* data() const;
  uint64_t size_bytes() const;
  uint64_t pages() const;
  int64_t grow(uint64_t delta_pages);  // old page count, or -1
  rt::MemoryInst* raw() const { return m_; }

 private:
  rt::Store* store_ = nullptr;
  rt::MemoryInst* m_ = nullptr;
};

class Table {
 public:
  Table() = default;
  Table(rt::Store* store, rt::TableInst* t) : store_(store), t_(t) {}
  static Result<Table> create(Store& store, TableType type, Val init);
  TableType type() const;
  uint64_t size() const;
  std::optional<Val> get(uint64_t index) const;
  bool set(uint64_t index, Val v);
  int64_t grow(uint64_t delta, Val init);
  rt::TableInst* raw() const { return t_; }

 private:
  rt::Store* store_ = nullptr;
  rt::TableInst* t_ = nullptr;
};

// Any importable/exportable entity.
struct Extern {
  ExternKind kind = ExternKind::Func;
  Func func;
  Table table;
  Memory memory;
  Global global;
  static Extern of(Func f) { Extern e; e.kind = ExternKind::Func; e.func = f; return e; }
  static Extern of(Table t) { Extern e; e.kind = ExternKind::Table; e.table = t; return e; }
  static Extern of(Memory m) { Extern e; e.kind = ExternKind::Memory; e.memory = m; return e; }
  static Extern of(Global g) { Extern e; e.kind = ExternKind::Global; e.global = g; return e; }
};

class Instance {
 public:
  Instance() = default;
  Instance(rt::Store* store, rt::Instance* inst) : store_(store), inst_(inst) {}
  std::optional<Extern> get_export(std::string_view name) const;
  std::optional<Func> func(std::string_view name) const;
  std::optional<Global> global(std::string_view name) const;
  std::optional<Memory> memory(std::string_view name) const;
  std::optional<Table> table(std::string_view name) const;
  std::vector<std::pair<std::string, Extern>> exports() const;
  rt::Instance* raw() const { return inst_; }

 private:
  rt::Store* store_ = nullptr;
  rt::Instance* inst_ = nullptr;
};

// Resolves imports by module and name. Errors from instantiate():
// Phase::Link ("unknown import", "incompatible import type") or
// Phase::Instantiate (a segment out of bounds, or the start function trapped;
// the trap's text is in Error::detail).
class Linker {
 public:
  explicit Linker(const Engine& engine);
  ~Linker();
  Linker(Linker&&) noexcept;
  Linker& operator=(Linker&&) noexcept;

  // A host function, created in each store that instantiates through this linker.
  void func(std::string module, std::string name, FuncType type, HostCallback callback);
  // An existing entity of some store.
  void define(std::string module, std::string name, Extern value);
  // Every export of an instance under `module`.
  void define_instance(std::string module, const Instance& instance);

  Result<Instance> instantiate(Store& store, const Module& module) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Process exit codes of the `skiff` command (documented in README).
namespace exit_code {
constexpr int kOk = 0;
constexpr int kUsage = 2;
constexpr int kIo = 3;
constexpr int kInvalidModule = 4;
constexpr int kLinkError = 5;
constexpr int kTrap = 6;
}  // namespace exit_code

}  // namespace skiff

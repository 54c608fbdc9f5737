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
// Typed forms avoid boxing: linker.func_wrap("env", "log", [](skiff::Caller&, int32_t p, int32_t n) {...})
// derives the wasm type from the C++ signature, and
// instance->typed_func<int32_t(int32_t, int32_t)>("add")->call(1, 2) calls without allocating.
// Resource limits (fuel, epoch deadlines, memory/table/instance caps) are per
// Store; see docs/embedding.md.
//
// Handles (Func, Table, Memory, Global, Instance) are cheap to copy and stay
// valid as long as their Store lives.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
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
template <typename Sig>
class TypedFunc;

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

// Interp: tier 0, instant start. Jit: every function compiled with LLVM
// before it runs (needs libskiff_llvm.so, loaded only for this tier).
// Auto: starts in tier 0 and compiles the functions that turn out hot with
// LLVM on a background thread (one per Engine), switching each to machine
// code once ready; a frame already running stays interpreted until it
// returns. Results, traps, fuel and deadlines are the same in every tier.
// Without libskiff_llvm.so, Auto simply keeps interpreting.
// Baseline: every function tier 1 (a single-pass compiler in the engine, no
// LLVM) supports is compiled with it before the module runs, the rest
// interpreted: microseconds per function, slower code than Jit's.
enum class Tier : uint8_t { Interp, Jit, Auto, Baseline };

struct EngineConfig {
  Tier tier = Tier::Interp;
  // Wasm frames per call into wasm, on the interpreter. Machine code (tier
  // 2) is bounded by the native stack instead: its frames are not counted.
  uint32_t max_call_depth = 10000;
  uint64_t value_stack_bytes = 64ull << 20; // reserved per store, committed on use
  // Tier 2 code checks fuel and epoch deadlines (the cost: a test per call
  // and loop iteration). Off: faster code, and a store that sets fuel or a
  // deadline runs such modules in the interpreter, so limits still hold.
  bool interruptible = true;
  // Tier 2's on-disk cache of compiled modules (.skc files named by a hash
  // of the module and of the code configuration); empty: no cache.
  std::string cache_dir{};
  // Tier::Auto with a cache_dir: a module that turns hot is also compiled
  // whole, on a background thread at the lowest priority, into the cache,
  // so its next Module::compile starts with machine code (as after a
  // Tier::Jit compile). Each tier-up batch goes to the cache too (a
  // .tierup file next to it), so a run too short for the whole-module
  // compile still leaves its hot code: the next Module::compile of the
  // module installs it. Destroying the Engine waits for a compile in
  // progress; `skiff run` sets it and exits without waiting.
  bool cache_hot_modules = false;
  // Called from compile threads while tier 2 compiles a whole module
  // (functions done of total), e.g. for a progress display.
  std::function<void(uint32_t done, uint32_t total)> compile_progress{};
  // Tier::Auto: how much a function runs in tier 0 before it is compiled,
  // in tier-0 code words (each call counts the function's size, each loop
  // iteration the loop's; about 1-2 words per ns); 0: $SKIFF_TIERUP_THRESHOLD
  // or the default, 1M (src/llvm/tierup.h).
  uint32_t tier_up_threshold = 0;
};

// Configuration and code shared by all stores. Thread-safe; copies share
// the same state (configuration and epoch counter).
class Engine {
 public:
  explicit Engine(EngineConfig config = {});
  const EngineConfig& config() const;

  // Epoch interruption: a store whose deadline (Store::set_epoch_deadline)
  // the epoch reaches traps with TrapKind::Interrupted. Any thread may
  // increment; EpochTicker does it from a timer thread.
  void increment_epoch() const;
  uint64_t current_epoch() const;
  const std::atomic<uint64_t>* epoch_counter() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// Increments an engine's epoch every `period` from a background thread,
// until destroyed. Turns a wall-clock timeout into an epoch deadline.
class EpochTicker {
 public:
  explicit EpochTicker(const Engine& engine, std::chrono::microseconds period = std::chrono::milliseconds(1));
  ~EpochTicker();
  EpochTicker(const EpochTicker&) = delete;
  EpochTicker& operator=(const EpochTicker&) = delete;
  std::chrono::microseconds period() const { return period_; }
  // Epochs that make up at least `timeout` (at least 1).
  uint64_t ticks_for(std::chrono::nanoseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::chrono::microseconds period_;
};

// "4096", "64K", "16M", "2G", "1GiB", "512kb" (suffixes are powers of 1024,
// case-insensitive). Errors (UsageError) on anything else or on overflow.
Result<uint64_t> parse_byte_size(std::string_view text);
// "2s", "500ms", "100us", "1.5s", "2m"; a bare number is seconds.
Result<std::chrono::nanoseconds> parse_duration(std::string_view text);

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
  // Reads a whole binary with one read (modules reach tens of MB).
  static Result<std::vector<uint8_t>> read_file(const std::string& path);
  // Decodes only (for assert_malformed / `skiff inspect` of invalid modules).
  static Result<void> decode_only(std::vector<uint8_t> bytes);

  // Ahead of time: compiles every function with tier 2 and returns a .skc
  // file (wasm bytes + machine code + metadata) for deserialize().
  static Result<std::vector<uint8_t>> precompile(const Engine& engine, std::vector<uint8_t> wasm);
  // Loads a .skc file written by precompile() of a compatible Skiff build on
  // a compatible CPU, without LLVM; anything else is rejected with an error.
  // A .skc is machine code: load only files from a trusted source.
  static Result<Module> deserialize(const Engine& engine, std::span<const uint8_t> skc);
  static bool is_precompiled(std::span<const uint8_t> bytes);

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

// Caps on what one store may hold. Past a cap, memory.grow / table.grow
// return -1 and instantiation fails with ErrorCode::ResourceLimit.
struct StoreLimits {
  uint64_t max_memory_bytes = UINT64_MAX;    // total of all linear memories
  uint64_t max_table_elements = UINT64_MAX;  // total of all tables' lengths
  uint64_t max_instances = UINT64_MAX;
  uint64_t max_memories = UINT64_MAX;
  uint64_t max_tables = UINT64_MAX;
  // Wasm frames per call into wasm; 0 keeps EngineConfig::max_call_depth,
  // which is also the upper bound (the frame stack is reserved per store).
  uint32_t max_call_depth = 0;
  // A wasm memory.grow that fails and would have passed max_memory_bytes
  // traps with TrapKind::MemoryLimit instead of returning -1 (a guest that
  // never checks grow's result then stops at once rather than writing
  // through a null allocation). Memory::grow from the host still returns -1.
  bool trap_on_grow_failure = false;
};

// One tenant's state. Used by one thread at a time.
class Store {
 public:
  explicit Store(const Engine& engine);
  ~Store();
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  rt::Store* raw() const { return impl_.get(); }
  const Engine& engine() const { return engine_; }

  void set_limits(const StoreLimits& limits);
  StoreLimits limits() const;
  uint64_t memory_bytes() const;  // current total of the store's memories

  // Fuel: a deterministic budget. One unit is one wasm function entry or one
  // loop iteration; when it runs out the call traps with OutOfFuel.
  void set_fuel(uint64_t fuel);
  // Fuel left; an error (UsageError) if fuel was never set.
  Result<uint64_t> get_fuel() const;
  // Traps with Interrupted once the engine's epoch reaches
  // current_epoch() + delta (delta 0: the next call traps at once).
  void set_epoch_deadline(uint64_t delta);
  // Removes the fuel budget and the deadline.
  void clear_interrupts();

 private:
  std::unique_ptr<rt::Store> impl_;
  Engine engine_;
};

class Instance;

// A bounds-checked view of a linear memory for host functions: every access
// is checked against the current size, so a wild guest pointer gives an
// error (a MemoryOutOfBounds Trap the host may return), never a host fault.
// Spans stay valid while the store lives (memories never move or shrink).
class MemoryView {
 public:
  MemoryView() = default;
  MemoryView(uint8_t* base, uint64_t size) : base_(base), size_(size) {}
  uint64_t size() const { return size_; }
  bool valid() const { return base_ != nullptr; }

  Result<std::span<uint8_t>, Trap> span(uint64_t ptr, uint64_t len) const {
    if (base_ == nullptr || ptr > size_ || len > size_ - ptr) return out_of_bounds(ptr, len, size_);
    return std::span<uint8_t>(base_ + ptr, static_cast<size_t>(len));
  }
  Result<std::span<const uint8_t>, Trap> read(uint64_t ptr, uint64_t len) const {
    auto s = span(ptr, len);
    if (!s) return s.error();
    return std::span<const uint8_t>(s->data(), s->size());
  }
  Result<std::string_view, Trap> string(uint64_t ptr, uint64_t len) const {
    auto s = span(ptr, len);
    if (!s) return s.error();
    return std::string_view(reinterpret_cast<const char*>(s->data()), s->size());
  }
  Result<void, Trap> write(uint64_t ptr, std::span<const uint8_t> bytes) const {
    auto s = span(ptr, bytes.size());
    if (!s) return s.error();
    if (!bytes.empty()) std::memcpy(s->data(), bytes.data(), bytes.size());
    return {};
  }
  // Little-endian scalar loads and stores (wasm byte order on every host we build for).
  template <typename T>
  Result<T, Trap> load(uint64_t ptr) const {
    static_assert(std::is_trivially_copyable_v<T>);
    auto s = span(ptr, sizeof(T));
    if (!s) return s.error();
    T v;
    std::memcpy(&v, s->data(), sizeof(T));
    return v;
  }
  template <typename T>
  Result<void, Trap> store(uint64_t ptr, const T& v) const {
    static_assert(std::is_trivially_copyable_v<T>);
    return write(ptr, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&v), sizeof(T)));
  }

 private:
  static Trap out_of_bounds(uint64_t ptr, uint64_t len, uint64_t size);
  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
};

// What a host function sees of its caller.
class Caller {
 public:
  Caller(rt::Store* store, rt::Instance* instance) : store_(store), instance_(instance) {}
  // The caller's memory 0 (null if it has none): base and size for checked access.
  uint8_t* memory_data() const;
  uint64_t memory_size() const;
  // Checked view of the caller's memory 0 (an empty view, where every access
  // fails, when the caller has no memory or is the host).
  MemoryView memory() const { return MemoryView(memory_data(), memory_size()); }
  // The calling instance (empty when the host called the function directly).
  Instance instance() const;
  // Fuel left in the calling store, if fuel is enabled.
  Result<uint64_t> get_fuel() const;
  // Return this from a host function to stop the guest as if it called exit:
  // the call ends with a Trap of kind Exit carrying `code`.
  static Trap exit(int code) {
    Trap t(TrapKind::Exit, "exit with code " + std::to_string(code));
    t.exit_code = code;
    return t;
  }
  rt::Store* raw_store() const { return store_; }
  rt::Instance* raw_instance() const { return instance_; }

 private:
  rt::Store* store_;
  rt::Instance* instance_;
};

// args has type.params.size() values, results must be filled with
// type.results.size() values; return a Trap to stop the calling wasm code.
using HostCallback = std::function<std::optional<Trap>(Caller&, const Val* args, Val* results)>;

// The unboxed form behind func_wrap: arguments in slots[0..], results
// written over them (8-byte slots; i32 in the low half, f32/f64 as bits,
// v128 in two slots low half first, references as words).
using RawHostCallback = std::function<std::optional<Trap>(Caller&, uint64_t* slots)>;

// How C++ types map to wasm value types in func_wrap and typed_func.
namespace detail {

template <typename T>
struct WasmValue;  // only the specialisations below are wasm values
template <>
struct WasmValue<int32_t> {
  static constexpr ValType kType = ValType::I32;
  static constexpr uint32_t kSlots = 1;
  static int32_t load(const uint64_t* s) { return static_cast<int32_t>(static_cast<uint32_t>(s[0])); }
  static void store(uint64_t* s, int32_t v) { s[0] = static_cast<uint32_t>(v); }
};
template <>
struct WasmValue<uint32_t> {
  static constexpr ValType kType = ValType::I32;
  static constexpr uint32_t kSlots = 1;
  static uint32_t load(const uint64_t* s) { return static_cast<uint32_t>(s[0]); }
  static void store(uint64_t* s, uint32_t v) { s[0] = v; }
};
template <>
struct WasmValue<int64_t> {
  static constexpr ValType kType = ValType::I64;
  static constexpr uint32_t kSlots = 1;
  static int64_t load(const uint64_t* s) { return static_cast<int64_t>(s[0]); }
  static void store(uint64_t* s, int64_t v) { s[0] = static_cast<uint64_t>(v); }
};
template <>
struct WasmValue<uint64_t> {
  static constexpr ValType kType = ValType::I64;
  static constexpr uint32_t kSlots = 1;
  static uint64_t load(const uint64_t* s) { return s[0]; }
  static void store(uint64_t* s, uint64_t v) { s[0] = v; }
};
template <>
struct WasmValue<float> {
  static constexpr ValType kType = ValType::F32;
  static constexpr uint32_t kSlots = 1;
  static float load(const uint64_t* s) { uint32_t b = static_cast<uint32_t>(s[0]); float v; std::memcpy(&v, &b, 4); return v; }
  static void store(uint64_t* s, float v) { uint32_t b; std::memcpy(&b, &v, 4); s[0] = b; }
};
template <>
struct WasmValue<double> {
  static constexpr ValType kType = ValType::F64;
  static constexpr uint32_t kSlots = 1;
  static double load(const uint64_t* s) { double v; std::memcpy(&v, s, 8); return v; }
  static void store(uint64_t* s, double v) { std::memcpy(s, &v, 8); }
};
template <>
struct WasmValue<V128> {
  static constexpr ValType kType = ValType::V128;
  static constexpr uint32_t kSlots = 2;
  static V128 load(const uint64_t* s) { V128 v; std::memcpy(v.bytes, s, 16); return v; }
  static void store(uint64_t* s, const V128& v) { std::memcpy(s, v.bytes, 16); }
};

template <typename... Ts>
constexpr std::array<uint32_t, sizeof...(Ts) + 1> slot_offsets() {
  std::array<uint32_t, sizeof...(Ts) + 1> offsets{};
  uint32_t i = 0, at = 0;
  ((offsets[i++] = at, at += WasmValue<Ts>::kSlots), ...);
  offsets[i] = at;
  return offsets;
}

// A list of wasm values as one C++ type: void (none), a scalar, or a tuple.
template <typename T>
struct ValueList {
  static constexpr uint32_t kSlots = WasmValue<T>::kSlots;
  static void types(std::vector<ValType>& out) { out.push_back(WasmValue<T>::kType); }
  static T load(const uint64_t* s) { return WasmValue<T>::load(s); }
  static void store(uint64_t* s, const T& v) { WasmValue<T>::store(s, v); }
};
template <>
struct ValueList<void> {
  static constexpr uint32_t kSlots = 0;
  static void types(std::vector<ValType>&) {}
};
template <typename... Ts>
struct ValueList<std::tuple<Ts...>> {
  static constexpr auto kOffsets = slot_offsets<Ts...>();
  static constexpr uint32_t kSlots = kOffsets[sizeof...(Ts)];
  static void types(std::vector<ValType>& out) { (out.push_back(WasmValue<Ts>::kType), ...); }
  static std::tuple<Ts...> load(const uint64_t* s) { return load_at(s, std::index_sequence_for<Ts...>{}); }
  static void store(uint64_t* s, const std::tuple<Ts...>& v) { store_at(s, v, std::index_sequence_for<Ts...>{}); }

 private:
  template <size_t... I>
  static std::tuple<Ts...> load_at(const uint64_t* s, std::index_sequence<I...>) {
    (void)s;  // unused for an empty tuple
    return std::tuple<Ts...>(WasmValue<Ts>::load(s + kOffsets[I])...);
  }
  template <size_t... I>
  static void store_at(uint64_t* s, const std::tuple<Ts...>& v, std::index_sequence<I...>) {
    (void)s;
    (void)v;
    (WasmValue<Ts>::store(s + kOffsets[I], std::get<I>(v)), ...);
  }
};

// What a wrapped host function may return: values (void, scalar, tuple),
// Result<values, Trap> to trap, or std::optional<Trap>.
template <typename R>
struct HostReturn {
  using Values = R;
  static std::optional<Trap> write(uint64_t* s, R&& r) {
    ValueList<R>::store(s, r);
    return std::nullopt;
  }
};
template <>
struct HostReturn<void> {
  using Values = void;
};
template <typename V>
struct HostReturn<Result<V, Trap>> {
  using Values = V;
  static std::optional<Trap> write(uint64_t* s, Result<V, Trap>&& r) {
    if (!r.ok()) return r.error();
    if constexpr (!std::is_void_v<V>) ValueList<V>::store(s, r.value());
    return std::nullopt;
  }
};
template <>
struct HostReturn<std::optional<Trap>> {
  using Values = void;
  static std::optional<Trap> write(uint64_t*, std::optional<Trap>&& r) { return std::move(r); }
};

template <typename F>
struct Signature : Signature<decltype(&F::operator())> {};
template <typename R, typename... A>
struct Signature<R (*)(A...)> {
  using Return = R;
  using Args = std::tuple<A...>;
};
template <typename R, typename... A>
struct Signature<R (*)(A...) noexcept> : Signature<R (*)(A...)> {};
template <typename C, typename R, typename... A>
struct Signature<R (C::*)(A...)> : Signature<R (*)(A...)> {};
template <typename C, typename R, typename... A>
struct Signature<R (C::*)(A...) const> : Signature<R (*)(A...)> {};
template <typename C, typename R, typename... A>
struct Signature<R (C::*)(A...) noexcept> : Signature<R (*)(A...)> {};
template <typename C, typename R, typename... A>
struct Signature<R (C::*)(A...) const noexcept> : Signature<R (*)(A...)> {};

template <typename Args>
struct HostArgs;
// With the Caller first ...
template <typename... A>
struct HostArgs<std::tuple<Caller&, A...>> {
  static constexpr bool kWithCaller = true;
  using Params = std::tuple<std::decay_t<A>...>;
};
// ... or without.
template <typename... A>
struct HostArgs<std::tuple<A...>> {
  static constexpr bool kWithCaller = false;
  using Params = std::tuple<std::decay_t<A>...>;
};

template <typename F>
struct HostAdapter {
  using Sig = Signature<F>;
  using Ret = typename Sig::Return;
  using Args = HostArgs<typename Sig::Args>;
  using Params = typename Args::Params;

  static FuncType type() {
    FuncType t;
    ValueList<Params>::types(t.params);
    ValueList<typename HostReturn<Ret>::Values>::types(t.results);
    return t;
  }

  static RawHostCallback make(F f) {
    return [f = std::move(f)](Caller& caller, uint64_t* slots) mutable -> std::optional<Trap> {
      Params params = ValueList<Params>::load(slots);
      auto invoke = [&]() -> decltype(auto) {
        if constexpr (Args::kWithCaller)
          return std::apply([&](auto&&... a) -> decltype(auto) { return f(caller, a...); }, params);
        else
          return std::apply([&](auto&&... a) -> decltype(auto) { return f(a...); }, params);
      };
      if constexpr (std::is_void_v<Ret>) {
        invoke();
        return std::nullopt;
      } else {
        return HostReturn<Ret>::write(slots, invoke());
      }
    };
  }
};

// Runs `func` with `in_slots` argument slots from `args`, copying
// `out_slots` result slots to `results`; no allocation unless it traps.
TrapKind call_unboxed(rt::Store* store, rt::FuncInst* func, const uint64_t* args, uint32_t in_slots,
                      uint64_t* results, uint32_t out_slots, Trap* trap);
// An error unless `func` has exactly the type `expected`.
Result<void> check_func_type(const rt::FuncInst* func, const FuncType& expected);

}  // namespace detail

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

  // A host function with slot-level arguments (see RawHostCallback).
  static Func create_raw(Store& store, const FuncType& type, RawHostCallback callback);
  // A host function from a C++ callable; the wasm type follows its signature.
  template <typename F>
  static Func wrap(Store& store, F f) {
    using Adapter = detail::HostAdapter<F>;
    return create_raw(store, Adapter::type(), Adapter::make(std::move(f)));
  }

  // This function as a TypedFunc; an error if the types differ.
  template <typename Sig>
  Result<TypedFunc<Sig>> typed() const;

 private:
  rt::Store* store_ = nullptr;
  rt::FuncInst* f_ = nullptr;
};

// A function called with C++ values, without boxing or heap allocation:
//   auto add = instance.typed_func<int32_t(int32_t, int32_t)>("add");
//   Result<int32_t, Trap> r = add->call(1, 2);
// Results: void, a scalar, or std::tuple<...> for several.
template <typename Sig>
class TypedFunc;
template <typename R, typename... A>
class TypedFunc<R(A...)> {
 public:
  using Params = std::tuple<A...>;
  static constexpr uint32_t kInSlots = detail::ValueList<Params>::kSlots;
  static constexpr uint32_t kOutSlots = detail::ValueList<R>::kSlots;

  TypedFunc() = default;
  TypedFunc(rt::Store* store, rt::FuncInst* f) : store_(store), f_(f) {}

  static FuncType type() {
    FuncType t;
    detail::ValueList<Params>::types(t.params);
    detail::ValueList<R>::types(t.results);
    return t;
  }

  Result<R, Trap> call(A... args) const {
    uint64_t in[kInSlots > 0 ? kInSlots : 1];
    uint64_t out[kOutSlots > 0 ? kOutSlots : 1];
    if constexpr (sizeof...(A) > 0) detail::ValueList<Params>::store(in, Params(args...));
    Trap trap;
    if (detail::call_unboxed(store_, f_, in, kInSlots, out, kOutSlots, &trap) != TrapKind::None) return trap;
    if constexpr (std::is_void_v<R>)
      return {};
    else
      return detail::ValueList<R>::load(out);
  }
  Func func() const { return Func(store_, f_); }

 private:
  rt::Store* store_ = nullptr;
  rt::FuncInst* f_ = nullptr;
};

template <typename Sig>
Result<TypedFunc<Sig>> Func::typed() const {
  if (f_ == nullptr) return Error(ErrorCode::UsageError, Error::kNoOffset, "null function");
  SKIFF_TRY(detail::check_func_type(f_, TypedFunc<Sig>::type()));
  return TypedFunc<Sig>(store_, f_);
}

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

  // An exported function with a checked C++ signature: UnknownExport if
  // there is no such function, ArgumentMismatch if its type differs.
  template <typename Sig>
  Result<TypedFunc<Sig>> typed_func(std::string_view name) const {
    auto f = func(name);
    if (!f) return Error(ErrorCode::UnknownExport, Error::kNoOffset, std::string(name));
    return f->template typed<Sig>();
  }

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
  // The same with slot-level arguments and results (no boxing).
  void func_raw(std::string module, std::string name, FuncType type, RawHostCallback callback);
  // A host function from a C++ callable; its wasm type follows the signature:
  //   linker.func_wrap("env", "log", [](Caller& c, int32_t ptr, int32_t len) { ... });
  // Parameters: int32_t/uint32_t (i32), int64_t/uint64_t (i64), float, double,
  // V128, optionally after a leading Caller&. Returns: void, one of those,
  // std::tuple of them, Result<that, Trap> or std::optional<Trap> to trap.
  // An exception thrown by the callable becomes a Host trap.
  template <typename F>
  void func_wrap(std::string module, std::string name, F f) {
    using Adapter = detail::HostAdapter<F>;
    func_raw(std::move(module), std::move(name), Adapter::type(), Adapter::make(std::move(f)));
  }
  template <typename F>
  void func(std::string module, std::string name, F f) {
    func_wrap(std::move(module), std::move(name), std::move(f));
  }
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

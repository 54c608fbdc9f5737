// Store, Caller, Val, and the entity handles (Func, Global, Memory, Table).
#include <cmath>
#include <charconv>
#include <exception>

#include "api/convert.h"
#include "runtime/call.h"
#include "runtime/runtime.h"

namespace skiff {

// ---- Val --------------------------------------------------------------------

Val Val::make_funcref(const Func& f) {
  Val x;
  x.type = ValType::FuncRef;
  x.of.ref = reinterpret_cast<uint64_t>(f.raw());
  return x;
}

namespace {
// Rust's Display for floats, as `wasmtime run --invoke` prints them: the
// shortest digits that round-trip, never in exponent form; "NaN", "inf".
template <typename F>
std::string shortest(F value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  // Shortest digits in scientific form, then placed without an exponent.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // e.g. "-1.25e-07"
  size_t e = sci.find('e');
  int exponent = std::stoi(sci.substr(e + 1));
  std::string out;
  if (sci[0] == '-') out.push_back('-');
  std::string digits;
  for (size_t i = 0; i < e; ++i)
    if (sci[i] >= '0' && sci[i] <= '9') digits += sci[i];
  int point = exponent + 1;  // digits before the decimal point
  if (point <= 0) {
    out.append("0.").append(static_cast<size_t>(-point), '0').append(digits);
  } else if (point >= static_cast<int>(digits.size())) {
    out.append(digits).append(static_cast<size_t>(point) - digits.size(), '0');
  } else {
    out.append(digits, 0, static_cast<size_t>(point)).append(".").append(digits, static_cast<size_t>(point));
  }
  return out;
}
}  // namespace

std::string Val::to_string() const {
  switch (type) {
    case ValType::I32: return std::to_string(of.i32);
    case ValType::I64: return std::to_string(of.i64);
    case ValType::F32: return shortest(of.f32);
    case ValType::F64: return shortest(of.f64);
    case ValType::V128: {  // one unsigned 128-bit integer, as wasmtime prints it
      unsigned __int128 v;
      std::memcpy(&v, of.v128.bytes, 16);
      std::string digits;
      do {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
        v /= 10;
      } while (v != 0);
      return digits;
    }
    case ValType::FuncRef: return is_null() ? "<null funcref>" : "<funcref>";
    case ValType::ExternRef: return is_null() ? "<null externref>" : "<externref>";
  }
  return "?";
}

// ---- Store and Caller ---------------------------------------------------------

Store::Store(const Engine& engine)
    : impl_(std::make_unique<rt::Store>(engine.config().value_stack_bytes, engine.config().max_call_depth)),
      engine_(engine) {}
Store::~Store() = default;
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;

void Store::set_limits(const StoreLimits& limits) {
  rt::Store& s = *impl_;
  s.limits.max_memory_bytes = limits.max_memory_bytes;
  s.limits.max_table_elements = limits.max_table_elements;
  s.limits.max_instances = limits.max_instances;
  s.limits.max_memories = limits.max_memories;
  s.limits.max_tables = limits.max_tables;
  s.limits.trap_on_grow_failure = limits.trap_on_grow_failure;
  // The frame stack was reserved for the engine's depth: never go past it.
  uint32_t depth = limits.max_call_depth == 0 ? s.frame_capacity : limits.max_call_depth;
  s.max_call_depth = depth < s.frame_capacity ? depth : s.frame_capacity;
}

StoreLimits Store::limits() const {
  const rt::Store& s = *impl_;
  StoreLimits out;
  out.max_memory_bytes = s.limits.max_memory_bytes;
  out.max_table_elements = s.limits.max_table_elements;
  out.max_instances = s.limits.max_instances;
  out.max_memories = s.limits.max_memories;
  out.max_tables = s.limits.max_tables;
  out.trap_on_grow_failure = s.limits.trap_on_grow_failure;
  out.max_call_depth = s.max_call_depth;
  return out;
}

uint64_t Store::memory_bytes() const { return impl_->memory_bytes; }

namespace {
void update_check_interrupts(rt::Store& s) {
  s.check_interrupts = s.fuel_enabled || s.epoch_deadline != UINT64_MAX;
}
Result<uint64_t> fuel_of(const rt::Store* s) {
  if (s == nullptr || !s->fuel_enabled) return Error(ErrorCode::UsageError, Error::kNoOffset, "fuel is not enabled");
  return s->fuel > 0 ? static_cast<uint64_t>(s->fuel) : uint64_t{0};
}
}  // namespace

void Store::set_fuel(uint64_t fuel) {
  rt::Store& s = *impl_;
  s.fuel_enabled = true;
  s.fuel = fuel > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(fuel);
  update_check_interrupts(s);
}

Result<uint64_t> Store::get_fuel() const { return fuel_of(impl_.get()); }

void Store::set_epoch_deadline(uint64_t delta) {
  rt::Store& s = *impl_;
  s.epoch = engine_.epoch_counter();
  uint64_t now = engine_.current_epoch();
  // Saturate: a huge delta means "practically never", not a wrap to the past.
  s.epoch_deadline = delta >= UINT64_MAX - 1 - now ? UINT64_MAX - 1 : now + delta;
  update_check_interrupts(s);
}

void Store::clear_interrupts() {
  rt::Store& s = *impl_;
  s.fuel_enabled = false;
  s.fuel = 0;
  s.epoch_deadline = UINT64_MAX;
  update_check_interrupts(s);
}

uint8_t* Caller::memory_data() const {
  return instance_ && !instance_->memories.empty() ? instance_->memories[0]->base : nullptr;
}
uint64_t Caller::memory_size() const {
  return instance_ && !instance_->memories.empty() ? instance_->memories[0]->size : 0;
}
Instance Caller::instance() const { return Instance(store_, instance_); }
Result<uint64_t> Caller::get_fuel() const { return fuel_of(store_); }

Trap MemoryView::out_of_bounds(uint64_t ptr, uint64_t len, uint64_t size) {
  return Trap(TrapKind::MemoryOutOfBounds, "out of bounds memory access: host access of " + std::to_string(len) +
                                               " bytes at " + std::to_string(ptr) + " in a memory of " +
                                               std::to_string(size) + " bytes");
}

// ---- Func -------------------------------------------------------------------

namespace api {

rt::HostFunc wrap_host_callback(FuncType type, HostCallback callback) {
  return [type = std::move(type), callback = std::move(callback)](rt::Caller& raw_caller,
                                                                  rt::Slot* slots) -> std::optional<Trap> {
    std::vector<Val> args;
    args.reserve(type.params.size());
    const rt::Slot* in = slots;
    for (ValType t : type.params) {
      args.push_back(slots_to_val(t, in));
      in += slot_count(t);
    }
    std::vector<Val> results;
    results.reserve(type.results.size());
    for (ValType t : type.results) results.push_back(Val::null_of(t));  // zero of the right type
    Caller caller(raw_caller.store, raw_caller.instance);
    std::optional<Trap> trap;
    {
      // Host code is not wasm: its faults must never become traps.
      rt::HostCallScope scope;
      try {
        trap = callback(caller, args.data(), results.data());
      } catch (const std::exception& e) {
        trap = Trap(TrapKind::Host, std::string("host function threw: ") + e.what());
      } catch (...) {
        trap = Trap(TrapKind::Host, "host function threw an exception");
      }
    }
    if (trap) {
      if (trap->kind == TrapKind::None) trap->kind = TrapKind::Host;
      return trap;
    }
    rt::Slot* out = slots;
    for (size_t i = 0; i < type.results.size(); ++i) {
      Val v = results[i];
      v.type = type.results[i];  // the slot layout follows the declared type
      out += val_to_slots(v, out);
    }
    return std::nullopt;
  };
}

rt::HostFunc wrap_raw_host_callback(RawHostCallback callback) {
  return [callback = std::move(callback)](rt::Caller& raw_caller, rt::Slot* slots) -> std::optional<Trap> {
    Caller caller(raw_caller.store, raw_caller.instance);
    std::optional<Trap> trap;
    {
      rt::HostCallScope scope;  // host faults stay host faults
      try {
        trap = callback(caller, slots);
      } catch (const std::exception& e) {
        trap = Trap(TrapKind::Host, std::string("host function threw: ") + e.what());
      } catch (...) {
        trap = Trap(TrapKind::Host, "host function threw an exception");
      }
    }
    if (trap && trap->kind == TrapKind::None) trap->kind = TrapKind::Host;
    return trap;
  };
}

}  // namespace api

Func Func::create_raw(Store& store, const FuncType& type, RawHostCallback callback) {
  rt::FuncInst* f = rt::new_host_func(*store.raw(), type, api::wrap_raw_host_callback(std::move(callback)));
  return Func(store.raw(), f);
}

Func Func::create(Store& store, const FuncType& type, HostCallback callback) {
  rt::FuncInst* f = rt::new_host_func(*store.raw(), type, api::wrap_host_callback(type, std::move(callback)));
  return Func(store.raw(), f);
}

const FuncType& Func::type() const {
  static const FuncType kEmpty;
  return f_ && f_->type ? *f_->type : kEmpty;
}

Result<std::vector<Val>, Trap> Func::call(std::span<const Val> args) const {
  if (f_ == nullptr || store_ == nullptr) return Trap(TrapKind::Host, "call of a null function");
  const FuncType& t = *f_->type;
  if (args.size() != t.params.size())
    return Trap(TrapKind::Host, "argument type mismatch: expected " + std::to_string(t.params.size()) +
                                    " arguments, got " + std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].type != t.params[i])
      return Trap(TrapKind::Host, "argument type mismatch: argument " + std::to_string(i) + " should be " +
                                      skiff::to_string(t.params[i]) + ", not " + skiff::to_string(args[i].type));
  }
  rt::Store& store = *store_;
  rt::Slot* const slots = store.stack_top;
  uint32_t in_slots = slots_of(t.params), out_slots = slots_of(t.results);
  if (slots + std::max(in_slots, out_slots) > store.value_stack_end) return Trap(TrapKind::StackExhausted);
  rt::Slot* p = slots;
  for (const Val& v : args) p += api::val_to_slots(v, p);

  Trap trap;
  TrapKind kind = rt::call_guarded(store, f_, slots, &trap);
  store.stack_top = slots;
  if (kind != TrapKind::None) {
    if (trap.kind == TrapKind::None) trap.kind = kind;
    return trap;
  }
  std::vector<Val> results;
  results.reserve(t.results.size());
  const rt::Slot* r = slots;
  for (ValType type : t.results) {
    results.push_back(api::slots_to_val(type, r));
    r += slot_count(type);
  }
  return results;
}

// ---- Global -----------------------------------------------------------------

Global Global::create(Store& store, GlobalType type, Val init) {
  rt::Slot raw[2] = {0, 0};
  init.type = type.type;
  api::val_to_slots(init, raw);
  return Global(store.raw(), rt::new_global(*store.raw(), type, raw[0], raw[1]));
}

GlobalType Global::type() const { return g_ ? g_->type : GlobalType{}; }

Val Global::get() const { return g_ ? api::slots_to_val(g_->type.type, g_->value) : Val{}; }

Result<void> Global::set(Val v) {
  if (g_ == nullptr) return Error(ErrorCode::UsageError, Error::kNoOffset, "null global");
  if (!g_->type.is_mutable) return Error(ErrorCode::GlobalImmutable);
  if (v.type != g_->type.type)
    return Error(ErrorCode::ArgumentMismatch, Error::kNoOffset,
                 std::string("global holds ") + skiff::to_string(g_->type.type) + ", not " + skiff::to_string(v.type));
  api::val_to_slots(v, g_->value);
  return {};
}

// ---- Memory -----------------------------------------------------------------

Result<Memory> Memory::create(Store& store, MemoryType type) {
  if (type.limits.min > kMaxPages || (type.limits.max && *type.limits.max > kMaxPages))
    return Error(ErrorCode::MemorySizeLimit);
  if (type.limits.max && type.limits.min > *type.limits.max) return Error(ErrorCode::SizeMinGreaterThanMax);
  auto m = rt::new_memory(*store.raw(), type);
  if (!m) return m.error();
  return Memory(store.raw(), *m);
}

MemoryType Memory::type() const { return m_ ? m_->type : MemoryType{}; }
uint8_t* Memory::data() const { return m_ ? m_->base : nullptr; }
uint64_t Memory::size_bytes() const { return m_ ? m_->size : 0; }
uint64_t Memory::pages() const { return m_ ? m_->pages() : 0; }
int64_t Memory::grow(uint64_t delta_pages) { return m_ ? m_->grow(delta_pages) : -1; }

// ---- Table ------------------------------------------------------------------

Result<Table> Table::create(Store& store, TableType type, Val init) {
  if (!is_ref(type.elem)) return Error(ErrorCode::MalformedReferenceType);
  if (init.type != type.elem)
    return Error(ErrorCode::ArgumentMismatch, Error::kNoOffset, "table initialiser has the wrong type");
  if (type.limits.max && type.limits.min > *type.limits.max) return Error(ErrorCode::SizeMinGreaterThanMax);
  auto t = rt::new_table(*store.raw(), type, init.of.ref);
  if (!t) return t.error();
  return Table(store.raw(), *t);
}

TableType Table::type() const { return t_ ? t_->type : TableType{}; }
uint64_t Table::size() const { return t_ ? t_->elems.size() : 0; }

std::optional<Val> Table::get(uint64_t index) const {
  if (t_ == nullptr || index >= t_->elems.size()) return std::nullopt;
  Val v = Val::null_of(t_->type.elem);
  v.of.ref = t_->elems[index];
  return v;
}

bool Table::set(uint64_t index, Val v) {
  if (t_ == nullptr || index >= t_->elems.size() || v.type != t_->type.elem) return false;
  t_->elems[index] = v.of.ref;
  return true;
}

int64_t Table::grow(uint64_t delta, Val init) {
  if (t_ == nullptr || init.type != t_->type.elem) return -1;
  return t_->grow(delta, init.of.ref);
}

}  // namespace skiff

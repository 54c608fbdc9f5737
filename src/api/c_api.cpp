// The C API (include/skiff/skiff.h): thin handles over the C++ objects.
#include "skiff/skiff.h"

#include <cstring>
#include <memory>
#include <string>

#include "skiff/skiff.hh"
#include "skiff/wasi.hh"

struct skiff_engine {
  skiff::Engine engine;
};
struct skiff_module {
  skiff::Module module;
};
struct skiff_store {
  skiff::Store store;
};
struct skiff_linker {
  skiff::Linker linker;
};
struct skiff_instance {
  skiff::Instance instance;
};
struct skiff_trap {
  skiff::Trap trap;
  std::string described;
};
struct skiff_error {
  std::string message;
};

namespace {

#define SKIFF_TRAP(name, message) \
  static_assert(static_cast<int>(SKIFF_TRAP_##name) == static_cast<int>(skiff::TrapKind::name));
#include "skiff/trap.def"

skiff_error_t* make_error(std::string message) { return new skiff_error{std::move(message)}; }
skiff_error_t* make_error(const skiff::Error& e) { return make_error(e.to_string()); }

bool valid_kind(skiff_valkind_t k) { return skiff::is_valtype_byte(k); }

skiff::Val to_val(const skiff_val_t& v) {
  skiff::Val x;
  x.type = static_cast<skiff::ValType>(v.kind);
  switch (x.type) {
    case skiff::ValType::I32: x.of.i32 = v.of.i32; break;
    case skiff::ValType::I64: x.of.i64 = v.of.i64; break;
    case skiff::ValType::F32: x.of.f32 = v.of.f32; break;
    case skiff::ValType::F64: x.of.f64 = v.of.f64; break;
    case skiff::ValType::V128: std::memcpy(x.of.v128.bytes, v.of.v128, 16); break;
    case skiff::ValType::FuncRef:
    case skiff::ValType::ExternRef: x.of.ref = v.of.ref; break;
  }
  return x;
}

skiff_val_t from_val(const skiff::Val& v) {
  skiff_val_t x;
  std::memset(&x, 0, sizeof x);
  x.kind = static_cast<skiff_valkind_t>(v.type);
  switch (v.type) {
    case skiff::ValType::I32: x.of.i32 = v.of.i32; break;
    case skiff::ValType::I64: x.of.i64 = v.of.i64; break;
    case skiff::ValType::F32: x.of.f32 = v.of.f32; break;
    case skiff::ValType::F64: x.of.f64 = v.of.f64; break;
    case skiff::ValType::V128: std::memcpy(x.of.v128, v.of.v128.bytes, 16); break;
    case skiff::ValType::FuncRef:
    case skiff::ValType::ExternRef: x.of.ref = v.of.ref; break;
  }
  return x;
}

skiff::MemoryView caller_view(const skiff_caller_t* caller) {
  if (caller == nullptr) return {};
  return reinterpret_cast<const skiff::Caller*>(caller)->memory();
}

}  // namespace

extern "C" {

const char* skiff_error_message(const skiff_error_t* error) { return error ? error->message.c_str() : ""; }
void skiff_error_delete(skiff_error_t* error) { delete error; }

skiff_engine_t* skiff_engine_new(void) { return new skiff_engine{skiff::Engine()}; }

skiff_engine_t* skiff_engine_new_with_config(uint32_t max_call_depth, uint64_t value_stack_bytes) {
  skiff::EngineConfig config;
  if (max_call_depth != 0) config.max_call_depth = max_call_depth;
  if (value_stack_bytes != 0) config.value_stack_bytes = value_stack_bytes;
  return new skiff_engine{skiff::Engine(config)};
}

void skiff_engine_delete(skiff_engine_t* engine) { delete engine; }
void skiff_engine_increment_epoch(const skiff_engine_t* engine) {
  if (engine) engine->engine.increment_epoch();
}

skiff_error_t* skiff_module_new(const skiff_engine_t* engine, const uint8_t* bytes, size_t size,
                                skiff_module_t** module_out) {
  if (engine == nullptr || module_out == nullptr || (bytes == nullptr && size != 0))
    return make_error("skiff_module_new: null argument");
  *module_out = nullptr;
  auto module = skiff::Module::compile(engine->engine, std::vector<uint8_t>(bytes, bytes + size));
  if (!module) return make_error(module.error());
  *module_out = new skiff_module{std::move(module.value())};
  return nullptr;
}

void skiff_module_delete(skiff_module_t* module) { delete module; }

skiff_store_t* skiff_store_new(const skiff_engine_t* engine) {
  return engine ? new skiff_store{skiff::Store(engine->engine)} : nullptr;
}
void skiff_store_delete(skiff_store_t* store) { delete store; }

void skiff_store_limits_init(skiff_store_limits_t* limits) {
  if (limits == nullptr) return;
  skiff::StoreLimits defaults;
  limits->max_memory_bytes = defaults.max_memory_bytes;
  limits->max_table_elements = defaults.max_table_elements;
  limits->max_instances = defaults.max_instances;
  limits->max_memories = defaults.max_memories;
  limits->max_tables = defaults.max_tables;
  limits->max_call_depth = defaults.max_call_depth;
  limits->trap_on_grow_failure = defaults.trap_on_grow_failure;
}

void skiff_store_set_limits(skiff_store_t* store, const skiff_store_limits_t* limits) {
  if (store == nullptr || limits == nullptr) return;
  skiff::StoreLimits l;
  l.max_memory_bytes = limits->max_memory_bytes;
  l.max_table_elements = limits->max_table_elements;
  l.max_instances = limits->max_instances;
  l.max_memories = limits->max_memories;
  l.max_tables = limits->max_tables;
  l.max_call_depth = limits->max_call_depth;
  l.trap_on_grow_failure = limits->trap_on_grow_failure;
  store->store.set_limits(l);
}

void skiff_store_set_fuel(skiff_store_t* store, uint64_t fuel) {
  if (store) store->store.set_fuel(fuel);
}

bool skiff_store_get_fuel(const skiff_store_t* store, uint64_t* fuel_out) {
  if (store == nullptr) return false;
  auto fuel = store->store.get_fuel();
  if (!fuel) return false;
  if (fuel_out) *fuel_out = *fuel;
  return true;
}

void skiff_store_set_epoch_deadline(skiff_store_t* store, uint64_t delta) {
  if (store) store->store.set_epoch_deadline(delta);
}

bool skiff_caller_memory_read(const skiff_caller_t* caller, uint64_t ptr, void* out, uint64_t len) {
  auto bytes = caller_view(caller).read(ptr, len);
  if (!bytes || (out == nullptr && len != 0)) return false;
  if (len != 0) std::memcpy(out, bytes->data(), bytes->size());
  return true;
}

bool skiff_caller_memory_write(const skiff_caller_t* caller, uint64_t ptr, const void* data, uint64_t len) {
  if (data == nullptr && len != 0) return false;
  return caller_view(caller).write(ptr, std::span<const uint8_t>(static_cast<const uint8_t*>(data), len)).ok();
}

uint64_t skiff_caller_memory_size(const skiff_caller_t* caller) { return caller_view(caller).size(); }

skiff_linker_t* skiff_linker_new(const skiff_engine_t* engine) {
  return engine ? new skiff_linker{skiff::Linker(engine->engine)} : nullptr;
}
void skiff_linker_delete(skiff_linker_t* linker) { delete linker; }

skiff_error_t* skiff_linker_define_func(skiff_linker_t* linker, const char* module, const char* name,
                                        const skiff_valkind_t* params, size_t nparams,
                                        const skiff_valkind_t* results, size_t nresults,
                                        skiff_host_callback_t callback, void* env, void (*finalizer)(void*)) {
  if (linker == nullptr || module == nullptr || name == nullptr || callback == nullptr ||
      (params == nullptr && nparams != 0) || (results == nullptr && nresults != 0))
    return make_error("skiff_linker_define_func: null argument");
  skiff::FuncType type;
  for (size_t i = 0; i < nparams; ++i) {
    if (!valid_kind(params[i])) return make_error("skiff_linker_define_func: bad parameter kind");
    type.params.push_back(static_cast<skiff::ValType>(params[i]));
  }
  for (size_t i = 0; i < nresults; ++i) {
    if (!valid_kind(results[i])) return make_error("skiff_linker_define_func: bad result kind");
    type.results.push_back(static_cast<skiff::ValType>(results[i]));
  }
  // Shared by every copy of the callback (one per store); the last one out finalizes.
  std::shared_ptr<void> owned_env(env, [finalizer](void* p) {
    if (finalizer) finalizer(p);
  });
  linker->linker.func(module, name, type,
                      [callback, owned_env, type](skiff::Caller& caller, const skiff::Val* args,
                                                  skiff::Val* out) -> std::optional<skiff::Trap> {
                        // Small fixed buffers cover nearly every signature without allocating.
                        skiff_val_t small_args[8], small_results[8];
                        std::vector<skiff_val_t> big_args, big_results;
                        skiff_val_t* c_args = small_args;
                        skiff_val_t* c_results = small_results;
                        if (type.params.size() > 8) c_args = (big_args.resize(type.params.size()), big_args.data());
                        if (type.results.size() > 8)
                          c_results = (big_results.resize(type.results.size()), big_results.data());
                        for (size_t i = 0; i < type.params.size(); ++i) c_args[i] = from_val(args[i]);
                        for (size_t i = 0; i < type.results.size(); ++i)
                          c_results[i] = from_val(skiff::Val::null_of(type.results[i]));
                        skiff_trap_t* trap = callback(owned_env.get(), reinterpret_cast<skiff_caller_t*>(&caller),
                                                      c_args, type.params.size(), c_results, type.results.size());
                        if (trap != nullptr) {
                          skiff::Trap t = std::move(trap->trap);
                          delete trap;
                          return t;
                        }
                        for (size_t i = 0; i < type.results.size(); ++i) {
                          if (c_results[i].kind != static_cast<skiff_valkind_t>(type.results[i]))
                            return skiff::Trap(skiff::TrapKind::Host, "host function returned a result of the wrong kind");
                          out[i] = to_val(c_results[i]);
                        }
                        return std::nullopt;
                      });
  return nullptr;
}

skiff_error_t* skiff_linker_define_wasi(skiff_linker_t* linker, size_t argc, const char* const* argv) {
  if (linker == nullptr || (argv == nullptr && argc != 0)) return make_error("skiff_linker_define_wasi: null argument");
  skiff::wasi::Config config;
  std::vector<std::string> args;
  for (size_t i = 0; i < argc; ++i) args.emplace_back(argv[i] ? argv[i] : "");
  config.args(std::move(args)).inherit_stdio();
  auto ctx = skiff::wasi::Context::create(config);
  if (!ctx) return make_error(ctx.error());
  auto linked = skiff::wasi::add_to_linker(linker->linker, ctx.value());
  if (!linked) return make_error(linked.error());
  return nullptr;
}

void skiff_linker_define_instance(skiff_linker_t* linker, const char* module, const skiff_instance_t* instance) {
  if (linker && module && instance) linker->linker.define_instance(module, instance->instance);
}

skiff_error_t* skiff_linker_instantiate(const skiff_linker_t* linker, skiff_store_t* store,
                                        const skiff_module_t* module, skiff_instance_t** instance_out) {
  if (linker == nullptr || store == nullptr || module == nullptr || instance_out == nullptr)
    return make_error("skiff_linker_instantiate: null argument");
  *instance_out = nullptr;
  auto instance = linker->linker.instantiate(store->store, module->module);
  if (!instance) return make_error(instance.error());
  *instance_out = new skiff_instance{instance.value()};
  return nullptr;
}

void skiff_instance_delete(skiff_instance_t* instance) { delete instance; }

skiff_error_t* skiff_instance_call(skiff_instance_t* instance, const char* name, const skiff_val_t* args,
                                   size_t nargs, skiff_val_t* results, size_t nresults, skiff_trap_t** trap_out) {
  if (instance == nullptr || name == nullptr || trap_out == nullptr || (args == nullptr && nargs != 0) ||
      (results == nullptr && nresults != 0))
    return make_error("skiff_instance_call: null argument");
  *trap_out = nullptr;
  auto func = instance->instance.func(name);
  if (!func) return make_error(std::string("unknown export: no function named \"") + name + "\"");
  const skiff::FuncType& type = func->type();
  if (nargs != type.params.size() || nresults != type.results.size())
    return make_error(std::string("\"") + name + "\" has type " + type.to_string() + ": got " +
                      std::to_string(nargs) + " arguments and room for " + std::to_string(nresults) + " results");
  std::vector<skiff::Val> vals;
  vals.reserve(nargs);
  for (size_t i = 0; i < nargs; ++i) {
    if (!valid_kind(args[i].kind) || static_cast<skiff::ValType>(args[i].kind) != type.params[i])
      return make_error("argument " + std::to_string(i) + " should be " + skiff::to_string(type.params[i]));
    vals.push_back(to_val(args[i]));
  }
  auto r = func->call(vals);
  if (!r) {
    *trap_out = new skiff_trap{r.error(), {}};
    return nullptr;
  }
  for (size_t i = 0; i < nresults; ++i) results[i] = from_val(r.value()[i]);
  return nullptr;
}

uint8_t* skiff_instance_memory_data(const skiff_instance_t* instance, const char* name, uint64_t* size_out) {
  if (size_out) *size_out = 0;
  if (instance == nullptr || name == nullptr) return nullptr;
  auto memory = instance->instance.memory(name);
  if (!memory) return nullptr;
  if (size_out) *size_out = memory->size_bytes();
  return memory->data();
}

skiff_trap_t* skiff_trap_new(const char* message) {
  return new skiff_trap{skiff::Trap(skiff::TrapKind::Host, message ? message : ""), {}};
}

skiff_trap_t* skiff_trap_new_exit(int exit_code) { return new skiff_trap{skiff::Caller::exit(exit_code), {}}; }

skiff_trap_kind_t skiff_trap_kind(const skiff_trap_t* trap) {
  return trap ? static_cast<skiff_trap_kind_t>(trap->trap.kind) : SKIFF_TRAP_None;
}

const char* skiff_trap_message(const skiff_trap_t* trap) { return trap ? trap->trap.what() : ""; }

const char* skiff_trap_describe(skiff_trap_t* trap) {
  if (trap == nullptr) return "";
  trap->described = trap->trap.to_string();
  return trap->described.c_str();
}

bool skiff_trap_exit_code(const skiff_trap_t* trap, int* code_out) {
  if (trap == nullptr || trap->trap.kind != skiff::TrapKind::Exit) return false;
  if (code_out) *code_out = trap->trap.exit_code;
  return true;
}

void skiff_trap_delete(skiff_trap_t* trap) { delete trap; }

}  // extern "C"

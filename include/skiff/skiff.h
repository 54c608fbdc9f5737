/* Skiff's C API: the same engine, modules, stores, linkers and instances as
 * skiff.hh, for C hosts and for bindings (Go, Python, Rust).
 *
 *   skiff_engine_t* engine = skiff_engine_new();
 *   skiff_module_t* module;
 *   skiff_error_t* err = skiff_module_new(engine, bytes, len, &module);
 *   skiff_store_t* store = skiff_store_new(engine);
 *   skiff_linker_t* linker = skiff_linker_new(engine);
 *   skiff_linker_define_func(linker, "env", "log", params, 2, NULL, 0, my_log, my_env, NULL);
 *   skiff_instance_t* inst;
 *   err = skiff_linker_instantiate(linker, store, module, &inst);
 *   skiff_val_t args[2] = {skiff_val_i32(1), skiff_val_i32(2)}, result;
 *   skiff_trap_t* trap = NULL;
 *   err = skiff_instance_call(inst, "add", args, 2, &result, 1, &trap);
 *
 * Conventions: functions that can fail return a skiff_error_t* (NULL on
 * success) that the caller frees with skiff_error_delete. A wasm trap is not
 * an error: it comes back through a skiff_trap_t** out parameter. Every
 * object made by a *_new function is freed by its *_delete; an instance
 * handle must not outlive its store, nor a store its engine.
 */
#ifndef SKIFF_SKIFF_H
#define SKIFF_SKIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct skiff_engine skiff_engine_t;
typedef struct skiff_module skiff_module_t;
typedef struct skiff_store skiff_store_t;
typedef struct skiff_linker skiff_linker_t;
typedef struct skiff_instance skiff_instance_t;
typedef struct skiff_trap skiff_trap_t;
typedef struct skiff_error skiff_error_t;
typedef struct skiff_caller skiff_caller_t;

/* Value kinds, numbered as in the wasm binary format. */
typedef uint8_t skiff_valkind_t;
enum {
  SKIFF_I32 = 0x7f,
  SKIFF_I64 = 0x7e,
  SKIFF_F32 = 0x7d,
  SKIFF_F64 = 0x7c,
  SKIFF_V128 = 0x7b,
  SKIFF_FUNCREF = 0x70,
  SKIFF_EXTERNREF = 0x6f,
};

typedef struct skiff_val {
  skiff_valkind_t kind;
  union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    uint8_t v128[16];
    uint64_t ref; /* 0 is null */
  } of;
} skiff_val_t;

static inline skiff_val_t skiff_val_i32(int32_t v) { skiff_val_t x; x.kind = SKIFF_I32; x.of.i64 = 0; x.of.i32 = v; return x; }
static inline skiff_val_t skiff_val_i64(int64_t v) { skiff_val_t x; x.kind = SKIFF_I64; x.of.i64 = v; return x; }
static inline skiff_val_t skiff_val_f32(float v) { skiff_val_t x; x.kind = SKIFF_F32; x.of.i64 = 0; x.of.f32 = v; return x; }
static inline skiff_val_t skiff_val_f64(double v) { skiff_val_t x; x.kind = SKIFF_F64; x.of.f64 = v; return x; }

/* Trap kinds: SKIFF_TRAP_Unreachable, SKIFF_TRAP_OutOfFuel, ... (trap.def). */
typedef enum skiff_trap_kind {
#define SKIFF_TRAP(name, message) SKIFF_TRAP_##name,
#include "skiff/trap.def"
} skiff_trap_kind_t;

/* ---- errors ---- */
const char* skiff_error_message(const skiff_error_t* error);
void skiff_error_delete(skiff_error_t* error);

/* ---- engine ---- */
skiff_engine_t* skiff_engine_new(void);
/* max_call_depth 0 and value_stack_bytes 0 keep the defaults. */
skiff_engine_t* skiff_engine_new_with_config(uint32_t max_call_depth, uint64_t value_stack_bytes);
void skiff_engine_delete(skiff_engine_t* engine);
/* Thread-safe: bumps the epoch that store deadlines are measured in. */
void skiff_engine_increment_epoch(const skiff_engine_t* engine);

/* ---- modules: decoded and validated once, shareable across threads ---- */
skiff_error_t* skiff_module_new(const skiff_engine_t* engine, const uint8_t* bytes, size_t size,
                                skiff_module_t** module_out);
void skiff_module_delete(skiff_module_t* module);

/* ---- stores: one tenant's state and limits; one thread at a time ---- */
typedef struct skiff_store_limits {
  uint64_t max_memory_bytes;   /* total of the store's linear memories */
  uint64_t max_table_elements; /* total of its tables' lengths */
  uint64_t max_instances;
  uint64_t max_memories;
  uint64_t max_tables;
  uint32_t max_call_depth; /* 0: the engine's (also the upper bound) */
  bool trap_on_grow_failure; /* memory.grow past max_memory_bytes traps instead of returning -1 */
} skiff_store_limits_t;

skiff_store_t* skiff_store_new(const skiff_engine_t* engine);
void skiff_store_delete(skiff_store_t* store);
/* Fills `limits` with "no limit". */
void skiff_store_limits_init(skiff_store_limits_t* limits);
void skiff_store_set_limits(skiff_store_t* store, const skiff_store_limits_t* limits);
/* One unit of fuel is one wasm function entry or loop iteration. */
void skiff_store_set_fuel(skiff_store_t* store, uint64_t fuel);
/* False if fuel was never set. */
bool skiff_store_get_fuel(const skiff_store_t* store, uint64_t* fuel_out);
/* Calls trap with SKIFF_TRAP_Interrupted once the engine's epoch has
 * advanced `delta` times from now. */
void skiff_store_set_epoch_deadline(skiff_store_t* store, uint64_t delta);

/* ---- host functions ---- */
/* Called with the arguments; must fill `results`. Return NULL to succeed,
 * or a trap (skiff_trap_new / skiff_trap_new_exit) to stop the guest; the
 * engine takes ownership of a returned trap. */
typedef skiff_trap_t* (*skiff_host_callback_t)(void* env, skiff_caller_t* caller, const skiff_val_t* args,
                                               size_t nargs, skiff_val_t* results, size_t nresults);

/* Checked access to the calling instance's memory 0: false (and nothing
 * copied) when [ptr, ptr + len) is not inside it. */
bool skiff_caller_memory_read(const skiff_caller_t* caller, uint64_t ptr, void* out, uint64_t len);
bool skiff_caller_memory_write(const skiff_caller_t* caller, uint64_t ptr, const void* data, uint64_t len);
uint64_t skiff_caller_memory_size(const skiff_caller_t* caller);

/* ---- linker ---- */
skiff_linker_t* skiff_linker_new(const skiff_engine_t* engine);
void skiff_linker_delete(skiff_linker_t* linker);
/* `finalizer(env)` runs once when the last store and the linker let go of the function. */
skiff_error_t* skiff_linker_define_func(skiff_linker_t* linker, const char* module, const char* name,
                                        const skiff_valkind_t* params, size_t nparams,
                                        const skiff_valkind_t* results, size_t nresults,
                                        skiff_host_callback_t callback, void* env, void (*finalizer)(void*));
/* WASI preview 1 with the given argv (argv[0] included), inherited stdio, no
 * environment and no preopened directories. */
skiff_error_t* skiff_linker_define_wasi(skiff_linker_t* linker, size_t argc, const char* const* argv);
/* Every export of `instance` under the module name `module`. */
void skiff_linker_define_instance(skiff_linker_t* linker, const char* module, const skiff_instance_t* instance);
/* Resolves imports, instantiates, runs the start function (a trap in it is
 * an error). */
skiff_error_t* skiff_linker_instantiate(const skiff_linker_t* linker, skiff_store_t* store,
                                        const skiff_module_t* module, skiff_instance_t** instance_out);

/* ---- instances ---- */
void skiff_instance_delete(skiff_instance_t* instance); /* the handle only; the store owns the instance */
/* Calls export `name`. An error for an unknown export or argument/result
 * counts or kinds that do not match; a trap through `trap_out` (which
 * must not be NULL) when the function trapped. */
skiff_error_t* skiff_instance_call(skiff_instance_t* instance, const char* name, const skiff_val_t* args,
                                   size_t nargs, skiff_val_t* results, size_t nresults, skiff_trap_t** trap_out);
/* An exported memory's bytes and size (NULL if there is no such memory). */
uint8_t* skiff_instance_memory_data(const skiff_instance_t* instance, const char* name, uint64_t* size_out);

/* ---- traps ---- */
skiff_trap_t* skiff_trap_new(const char* message);
skiff_trap_t* skiff_trap_new_exit(int exit_code);
skiff_trap_kind_t skiff_trap_kind(const skiff_trap_t* trap);
/* The message; `skiff_trap_describe` adds the backtrace. Valid until the trap is deleted. */
const char* skiff_trap_message(const skiff_trap_t* trap);
const char* skiff_trap_describe(skiff_trap_t* trap);
/* True for a trap of kind Exit, with its code. */
bool skiff_trap_exit_code(const skiff_trap_t* trap, int* code_out);
void skiff_trap_delete(skiff_trap_t* trap);

#ifdef __cplusplus
}
#endif

#endif /* SKIFF_SKIFF_H */

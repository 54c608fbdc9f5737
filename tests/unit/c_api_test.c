/* The C API (include/skiff/skiff.h) exercised from C: compiled as C11 and
 * run by ctest (registered in examples/embed/CMakeLists.txt, because the
 * unit-test glob takes only C++ files). Prints each failed check and exits
 * non-zero if any failed.
 *
 * The module below is wat2wasm's output for:
 *
 * (module
 *   (import "env" "log" (func $log (param i32 i32)))
 *   (import "env" "twice" (func $twice (param i64) (result i64)))
 *   (memory (export "memory") 1)
 *   (data (i32.const 8) "hi C")
 *   (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
 *   (func (export "hello") (call $log (i32.const 8) (i32.const 4)))
 *   (func (export "wild") (call $log (i32.const -8) (i32.const 64)))
 *   (func (export "quad") (param i64) (result i64) (call $twice (call $twice (local.get 0))))
 *   (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
 *   (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
 *   (func $r (export "recurse") (call $r))) */
#include <stdio.h>
#include <string.h>

#include "skiff/skiff.h"

static const uint8_t kModule[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x19, 0x05, 0x60, 0x02, 0x7f, 0x7f, 0x00,
    0x60, 0x01, 0x7e, 0x01, 0x7e, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00, 0x60, 0x01,
    0x7f, 0x01, 0x7f, 0x02, 0x17, 0x02, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x6c, 0x6f, 0x67, 0x00, 0x00,
    0x03, 0x65, 0x6e, 0x76, 0x05, 0x74, 0x77, 0x69, 0x63, 0x65, 0x00, 0x01, 0x03, 0x08, 0x07, 0x02,
    0x03, 0x03, 0x01, 0x02, 0x04, 0x03, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x3d, 0x08, 0x06, 0x6d,
    0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x03, 0x61, 0x64, 0x64, 0x00, 0x02, 0x05, 0x68, 0x65,
    0x6c, 0x6c, 0x6f, 0x00, 0x03, 0x04, 0x77, 0x69, 0x6c, 0x64, 0x00, 0x04, 0x04, 0x71, 0x75, 0x61,
    0x64, 0x00, 0x05, 0x03, 0x64, 0x69, 0x76, 0x00, 0x06, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x07,
    0x07, 0x72, 0x65, 0x63, 0x75, 0x72, 0x73, 0x65, 0x00, 0x08, 0x0a, 0x39, 0x07, 0x07, 0x00, 0x20,
    0x00, 0x20, 0x01, 0x6a, 0x0b, 0x08, 0x00, 0x41, 0x08, 0x41, 0x04, 0x10, 0x00, 0x0b, 0x09, 0x00,
    0x41, 0x78, 0x41, 0xc0, 0x00, 0x10, 0x00, 0x0b, 0x08, 0x00, 0x20, 0x00, 0x10, 0x01, 0x10, 0x01,
    0x0b, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6d, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b,
    0x04, 0x00, 0x10, 0x08, 0x0b, 0x0b, 0x0a, 0x01, 0x00, 0x41, 0x08, 0x0b, 0x04, 0x68, 0x69, 0x20,
    0x43,
};

static int failures = 0;
#define CHECK(cond)                                              \
  do {                                                           \
    if (!(cond)) {                                               \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                \
    }                                                            \
  } while (0)

struct log_state {
  int calls;
  int bad_pointers;
  char last[32];
  int finalized;
};

static skiff_trap_t* host_log(void* env, skiff_caller_t* caller, const skiff_val_t* args, size_t nargs,
                              skiff_val_t* results, size_t nresults) {
  struct log_state* state = (struct log_state*)env;
  (void)results;
  if (nargs != 2 || nresults != 0) return skiff_trap_new("log: wrong arity");
  uint32_t ptr = (uint32_t)args[0].of.i32, len = (uint32_t)args[1].of.i32;
  char buf[32];
  if (len >= sizeof buf || !skiff_caller_memory_read(caller, ptr, buf, len)) {
    ++state->bad_pointers;
    return skiff_trap_new("log: pointer outside the guest's memory");
  }
  buf[len] = '\0';
  strcpy(state->last, buf);
  ++state->calls;
  return NULL;
}

static skiff_trap_t* host_twice(void* env, skiff_caller_t* caller, const skiff_val_t* args, size_t nargs,
                                skiff_val_t* results, size_t nresults) {
  (void)env;
  (void)caller;
  if (nargs != 1 || nresults != 1) return skiff_trap_new("twice: wrong arity");
  if (args[0].of.i64 == 99) return skiff_trap_new_exit(5);
  results[0] = skiff_val_i64(args[0].of.i64 * 2);
  return NULL;
}

static void finalize_log(void* env) { ((struct log_state*)env)->finalized = 1; }

/* Calls `name` and returns the trap kind (SKIFF_TRAP_None on success). */
static skiff_trap_kind_t call(skiff_instance_t* inst, const char* name, const skiff_val_t* args, size_t nargs,
                              skiff_val_t* results, size_t nresults) {
  skiff_trap_t* trap = NULL;
  skiff_error_t* err = skiff_instance_call(inst, name, args, nargs, results, nresults, &trap);
  if (err != NULL) {
    fprintf(stderr, "call %s: %s\n", name, skiff_error_message(err));
    skiff_error_delete(err);
    ++failures;
    return SKIFF_TRAP_None;
  }
  if (trap == NULL) return SKIFF_TRAP_None;
  skiff_trap_kind_t kind = skiff_trap_kind(trap);
  CHECK(strlen(skiff_trap_message(trap)) > 0);
  CHECK(strlen(skiff_trap_describe(trap)) >= strlen(skiff_trap_message(trap)));
  skiff_trap_delete(trap);
  return kind;
}

int main(void) {
  struct log_state state;
  memset(&state, 0, sizeof state);

  skiff_engine_t* engine = skiff_engine_new();
  skiff_module_t* module = NULL;
  skiff_error_t* err = skiff_module_new(engine, kModule, sizeof kModule, &module);
  CHECK(err == NULL && module != NULL);

  /* Malformed bytes are an error with a message, not a crash. */
  skiff_module_t* bad = NULL;
  static const uint8_t kGarbage[] = {0x00, 0x61, 0x73, 0x6d, 0x02, 0x00};
  err = skiff_module_new(engine, kGarbage, sizeof kGarbage, &bad);
  CHECK(err != NULL && bad == NULL);
  if (err) {
    CHECK(strlen(skiff_error_message(err)) > 0);
    skiff_error_delete(err);
  }

  skiff_store_t* store = skiff_store_new(engine);
  skiff_store_limits_t limits;
  skiff_store_limits_init(&limits);
  limits.max_memory_bytes = 3 * 65536;
  limits.max_call_depth = 500;
  skiff_store_set_limits(store, &limits);

  skiff_linker_t* linker = skiff_linker_new(engine);
  /* Unresolved imports are a link error. */
  skiff_instance_t* inst = NULL;
  err = skiff_linker_instantiate(linker, store, module, &inst);
  CHECK(err != NULL && inst == NULL);
  if (err) skiff_error_delete(err);

  const skiff_valkind_t log_params[] = {SKIFF_I32, SKIFF_I32};
  const skiff_valkind_t i64[] = {SKIFF_I64};
  CHECK(skiff_linker_define_func(linker, "env", "log", log_params, 2, NULL, 0, host_log, &state, finalize_log) == NULL);
  CHECK(skiff_linker_define_func(linker, "env", "twice", i64, 1, i64, 1, host_twice, NULL, NULL) == NULL);
  err = skiff_linker_instantiate(linker, store, module, &inst);
  CHECK(err == NULL && inst != NULL);
  if (err) {
    fprintf(stderr, "instantiate: %s\n", skiff_error_message(err));
    skiff_error_delete(err);
    return 1;
  }

  skiff_val_t args[2] = {skiff_val_i32(40), skiff_val_i32(2)};
  skiff_val_t result;
  CHECK(call(inst, "add", args, 2, &result, 1) == SKIFF_TRAP_None);
  CHECK(result.kind == SKIFF_I32 && result.of.i32 == 42);

  CHECK(call(inst, "hello", NULL, 0, NULL, 0) == SKIFF_TRAP_None);
  CHECK(state.calls == 1 && strcmp(state.last, "hi C") == 0);

  /* A wild pointer: the host's checked read fails, it traps, the host goes on. */
  CHECK(call(inst, "wild", NULL, 0, NULL, 0) == SKIFF_TRAP_Host);
  CHECK(state.bad_pointers == 1);

  skiff_val_t x = skiff_val_i64(5);
  CHECK(call(inst, "quad", &x, 1, &result, 1) == SKIFF_TRAP_None);
  CHECK(result.kind == SKIFF_I64 && result.of.i64 == 20);

  /* A host function asking to exit. */
  {
    skiff_val_t ninety_nine = skiff_val_i64(99);
    skiff_trap_t* trap = NULL;
    err = skiff_instance_call(inst, "quad", &ninety_nine, 1, &result, 1, &trap);
    CHECK(err == NULL && trap != NULL);
    int code = 0;
    CHECK(trap != NULL && skiff_trap_kind(trap) == SKIFF_TRAP_Exit && skiff_trap_exit_code(trap, &code) && code == 5);
    if (trap) skiff_trap_delete(trap);
  }

  skiff_val_t div_args[2] = {skiff_val_i32(1), skiff_val_i32(0)};
  CHECK(call(inst, "div", div_args, 2, &result, 1) == SKIFF_TRAP_IntDivideByZero);
  CHECK(call(inst, "recurse", NULL, 0, NULL, 0) == SKIFF_TRAP_StackExhausted);

  /* The memory cap: 1 page + 2 fits, one more does not. */
  skiff_val_t two = skiff_val_i32(2), one = skiff_val_i32(1);
  CHECK(call(inst, "grow", &two, 1, &result, 1) == SKIFF_TRAP_None && result.of.i32 == 1);
  CHECK(call(inst, "grow", &one, 1, &result, 1) == SKIFF_TRAP_None && result.of.i32 == -1);
  /* ... or traps, when the host asks for that. */
  limits.trap_on_grow_failure = true;
  skiff_store_set_limits(store, &limits);
  CHECK(call(inst, "grow", &one, 1, &result, 1) == SKIFF_TRAP_MemoryLimit);

  uint64_t size = 0;
  uint8_t* data = skiff_instance_memory_data(inst, "memory", &size);
  CHECK(data != NULL && size == 3 * 65536);
  CHECK(data != NULL && memcmp(data + 8, "hi C", 4) == 0);
  CHECK(skiff_instance_memory_data(inst, "nope", &size) == NULL && size == 0);

  /* Misuse is an error, not a crash. */
  {
    skiff_trap_t* trap = NULL;
    err = skiff_instance_call(inst, "add", args, 1, &result, 1, &trap);
    CHECK(err != NULL && trap == NULL);
    if (err) skiff_error_delete(err);
    skiff_val_t wrong[2] = {skiff_val_i64(1), skiff_val_i32(2)};
    err = skiff_instance_call(inst, "add", wrong, 2, &result, 1, &trap);
    CHECK(err != NULL);
    if (err) skiff_error_delete(err);
    err = skiff_instance_call(inst, "missing", NULL, 0, NULL, 0, &trap);
    CHECK(err != NULL);
    if (err) skiff_error_delete(err);
  }

  /* Fuel bookkeeping and deadlines. */
  uint64_t fuel = 0;
  CHECK(!skiff_store_get_fuel(store, &fuel));
  skiff_store_set_fuel(store, 1000000);
  CHECK(skiff_store_get_fuel(store, &fuel) && fuel <= 1000000);
  skiff_store_set_epoch_deadline(store, 1);
  CHECK(call(inst, "add", args, 2, &result, 1) == SKIFF_TRAP_None);
  skiff_engine_increment_epoch(engine);
  CHECK(call(inst, "add", args, 2, &result, 1) == SKIFF_TRAP_Interrupted);

  /* Still alive after everything. */
  skiff_store_set_epoch_deadline(store, 1000);
  CHECK(call(inst, "add", args, 2, &result, 1) == SKIFF_TRAP_None && result.of.i32 == 42);

  /* WASI can be linked (the module does not import it, which is fine). */
  const char* argv[] = {"capi", "x"};
  CHECK(skiff_linker_define_wasi(linker, 2, argv) == NULL);

  skiff_instance_delete(inst);
  skiff_linker_delete(linker);
  CHECK(!state.finalized); /* the store still holds the log function */
  skiff_store_delete(store);
  CHECK(state.finalized);
  skiff_module_delete(module);
  skiff_engine_delete(engine);

  if (failures == 0) printf("c_api_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}

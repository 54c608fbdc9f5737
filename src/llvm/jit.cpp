// Tier 2, engine side: the loader of libskiff_llvm.so, the entry trampoline
// that runs machine code inside an activation, and the runtime helpers that
// compiled code calls (abi.h lists them).
//
// Traps. Compiled code calls skiff_rt_trap(kind), and helpers that fail call
// it too or fill the caller's Trap (host and interpreter traps keep their
// message and inner frames); both then siglongjmp to the activation of the
// innermost run_native, which builds the backtrace from store.frames (every
// compiled prologue records its function there). A guard-page fault reaches
// the same activation through the fault handler (it checks the faulting
// address and that the thread is inside wasm, not the PC, so faults in
// machine code work as in tier 0) and becomes MemoryOutOfBounds. The jump
// skips compiled frames, which own nothing, and never a frame of this file
// that holds an object with a destructor: helpers do their work in a
// function that returns a status and jump from a frame that owns nothing.
#include "llvm/jit.h"

#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "interp/interp.h"
#include "llvm/abi.h"
#include "runtime/call.h"
#include "runtime/signals.h"

namespace skiff::llvmjit {

namespace {

using rt::Slot;

// ---- loading libskiff_llvm.so ------------------------------------------------

struct Library {
  CompileFn compile = nullptr;
  ReleaseFn release = nullptr;
  std::string error;  // why loading failed
};

std::string executable_dir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return {};
  std::string path(buf, static_cast<size_t>(n));
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::atomic<bool> g_loaded{false};

const Library& library() {
  static const Library lib = [] {
    Library out;
    std::vector<std::string> candidates;
    // $SKIFF_LLVM_LIB, when set, is the only place looked at.
    if (const char* env = std::getenv("SKIFF_LLVM_LIB"); env != nullptr && *env != 0) {
      candidates.emplace_back(env);
    } else {
      if (std::string dir = executable_dir(); !dir.empty()) candidates.push_back(dir + "/" + kLibraryName);
#ifdef SKIFF_LLVM_BUILD_DIR
      candidates.push_back(std::string(SKIFF_LLVM_BUILD_DIR) + "/" + kLibraryName);
#endif
    }
    std::string tried;
    for (const std::string& path : candidates) {
      if (access(path.c_str(), F_OK) != 0) {
        tried += "\n  " + path + ": not found";
        continue;
      }
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle == nullptr) {
        const char* why = dlerror();
        tried += "\n  " + path + ": " + (why ? why : "dlopen failed");
        continue;
      }
      auto version = reinterpret_cast<AbiVersionFn>(dlsym(handle, kAbiVersionSymbol));
      out.compile = reinterpret_cast<CompileFn>(dlsym(handle, kCompileSymbol));
      out.release = reinterpret_cast<ReleaseFn>(dlsym(handle, kReleaseSymbol));
      if (version == nullptr || out.compile == nullptr || out.release == nullptr || version() != kAbiVersion) {
        tried += "\n  " + path + ": not a compatible tier-2 library (ABI version mismatch)";
        out.compile = nullptr;
        out.release = nullptr;
        continue;  // kept mapped: unloading a half-initialised LLVM is not worth the risk
      }
      g_loaded.store(true, std::memory_order_release);
      return out;
    }
    out.error = std::string("tier 2 (--tier=jit) is unavailable: cannot load ") + kLibraryName +
                " (build it with LLVM 19: apt-get install llvm-19-dev, then rebuild; or set SKIFF_LLVM_LIB)" + tried;
    return out;
  }();
  return lib;
}

// ---- trap state of the innermost native entry ---------------------------------

struct JitState {
  rt::Activation activation;
  JitState* prev = nullptr;
  rt::Trap* trap = nullptr;  // the caller's, filled in place
  uint32_t kind = 0;         // set by skiff_rt_trap
  bool has_kind = false;
  bool has_full_trap = false;  // *trap already holds a host or interpreter trap
};

thread_local JitState* t_state = nullptr;

[[noreturn]] void jump_to_entry() { siglongjmp(t_state->activation.jump, 1); }

// Lowest native stack pointer compiled prologues accept on this thread: the
// margin is left for host functions called from wasm and for the runtime.
uintptr_t stack_limit() {
  struct Bounds {
    uintptr_t limit = 0;
    Bounds() {
      pthread_attr_t attr;
      if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
      void* addr = nullptr;
      size_t size = 0;
      if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
        size_t margin = std::min<size_t>(256 * 1024, size / 4);
        limit = reinterpret_cast<uintptr_t>(addr) + margin;
      }
      pthread_attr_destroy(&attr);
    }
  };
  thread_local Bounds bounds;
  return bounds.limit;
}

uint32_t slots_of(const std::vector<ValType>& types) {
  uint32_t n = 0;
  for (ValType t : types) n += slot_count(t);
  return n;
}

// ---- calls through the runtime objects ---------------------------------------------

// False (with *t_state->trap filled) when the host function trapped.
[[gnu::noinline]] bool call_host(JitContext* ctx, rt::Instance* caller, rt::FuncInst* callee, Slot* buf) {
  std::optional<rt::Trap> result;
  {
    rt::HostCallScope scope;
    rt::Caller host_caller{ctx->store, caller};
    result = callee->host(host_caller, buf);
  }
  if (!result) return true;
  JitState* state = t_state;
  *state->trap = std::move(*result);
  if (state->trap->kind == TrapKind::None) state->trap->kind = TrapKind::Host;
  state->has_full_trap = true;
  return false;
}

// A wasm function without machine code (from a module compiled for the
// interpreter) runs in tier 0 on the store's value stack.
[[gnu::noinline]] bool call_interpreted(JitContext* ctx, rt::FuncInst* callee, Slot* buf) {
  rt::Store& store = *ctx->store;
  uint32_t in = slots_of(callee->type->params), out = slots_of(callee->type->results);
  Slot* slots = store.stack_top;
  JitState* state = t_state;
  if (slots + std::max(in, out) > store.value_stack_end) {
    *state->trap = rt::Trap(TrapKind::StackExhausted);
    state->has_full_trap = true;
    return false;
  }
  std::copy_n(buf, in, slots);
  rt::Trap trap;
  if (interp::execute(store, callee, slots, &trap) != TrapKind::None) {
    *state->trap = std::move(trap);
    state->has_full_trap = true;
    return false;
  }
  std::copy_n(slots, out, buf);
  return true;
}

void invoke(JitContext* ctx, rt::Instance* caller, rt::FuncInst* callee, Slot* buf) {
  if (callee->kind == rt::FuncInst::Kind::Wasm) {
    void* entry = callee->compiled ? callee->compiled->native_entry.load(std::memory_order_acquire) : nullptr;
    if (entry != nullptr) {
      reinterpret_cast<EntryFn>(entry)(ctx, callee->instance, buf);
      return;
    }
    if (!call_interpreted(ctx, callee, buf)) jump_to_entry();
    return;
  }
  if (!call_host(ctx, caller, callee, buf)) jump_to_entry();
}

}  // namespace

// ---- runtime helpers called from machine code (abi.h) ---------------------------

extern "C" {

[[noreturn]] void skiff_rt_trap(uint32_t kind) {
  t_state->kind = kind;
  t_state->has_kind = true;
  jump_to_entry();
}

void skiff_rt_call(JitContext* ctx, rt::Instance* caller, uint32_t func_index, Slot* buf) {
  invoke(ctx, caller, caller->funcs[func_index], buf);
}

void skiff_rt_call_indirect(JitContext* ctx, rt::Instance* inst, uint32_t table_index, uint32_t type_index,
                            uint32_t elem_index, Slot* buf) {
  const rt::TableInst* table = inst->tables[table_index];
  if (elem_index >= table->elems.size()) skiff_rt_trap(static_cast<uint32_t>(TrapKind::UndefinedElement));
  auto* callee = reinterpret_cast<rt::FuncInst*>(table->elems[elem_index]);
  if (callee == nullptr) skiff_rt_trap(static_cast<uint32_t>(TrapKind::UninitializedElement));
  if (callee->type_id != inst->compiled->type_ids[type_index])
    skiff_rt_trap(static_cast<uint32_t>(TrapKind::IndirectCallMismatch));
  invoke(ctx, inst, callee, buf);
}

uint32_t skiff_rt_memory_size(rt::Instance* inst) { return static_cast<uint32_t>(inst->memories[0]->pages()); }

uint32_t skiff_rt_memory_grow(rt::Instance* inst, uint32_t delta) {
  int64_t old = inst->memories[0]->grow(delta);
  if (old < 0 && rt::grow_failure_traps(*inst->memories[0], delta)) skiff_rt_trap(static_cast<uint32_t>(TrapKind::MemoryLimit));
  return static_cast<uint32_t>(old);  // -1 → 0xffffffff
}

void skiff_rt_memory_fill(rt::Instance* inst, uint32_t dst, uint32_t value, uint32_t count) {
  rt::MemoryInst* memory = inst->memories[0];
  if (uint64_t{dst} + count > memory->size) skiff_rt_trap(static_cast<uint32_t>(TrapKind::MemoryOutOfBounds));
  std::memset(memory->base + dst, static_cast<uint8_t>(value), count);
}

void skiff_rt_memory_copy(rt::Instance* inst, uint32_t dst, uint32_t src, uint32_t count) {
  rt::MemoryInst* memory = inst->memories[0];
  if (uint64_t{src} + count > memory->size || uint64_t{dst} + count > memory->size)
    skiff_rt_trap(static_cast<uint32_t>(TrapKind::MemoryOutOfBounds));
  std::memmove(memory->base + dst, memory->base + src, count);
}

void skiff_rt_memory_init(rt::Instance* inst, uint32_t data_index, uint32_t dst, uint32_t src, uint32_t count) {
  const wasm::DataSegment& segment = inst->module->datas[data_index];
  uint64_t segment_size = inst->data_dropped[data_index] ? 0 : segment.data_size;
  rt::MemoryInst* memory = inst->memories[0];
  if (uint64_t{src} + count > segment_size || uint64_t{dst} + count > memory->size)
    skiff_rt_trap(static_cast<uint32_t>(TrapKind::MemoryOutOfBounds));
  if (count != 0) std::memcpy(memory->base + dst, inst->module->bytes.data() + segment.data_offset + src, count);
}

void skiff_rt_data_drop(rt::Instance* inst, uint32_t data_index) { inst->data_dropped[data_index] = true; }

uint64_t skiff_rt_table_get(rt::Instance* inst, uint32_t table_index, uint32_t index) {
  const rt::TableInst* table = inst->tables[table_index];
  if (index >= table->elems.size()) skiff_rt_trap(static_cast<uint32_t>(TrapKind::TableOutOfBounds));
  return table->elems[index];
}

void skiff_rt_table_set(rt::Instance* inst, uint32_t table_index, uint32_t index, uint64_t ref) {
  rt::TableInst* table = inst->tables[table_index];
  if (index >= table->elems.size()) skiff_rt_trap(static_cast<uint32_t>(TrapKind::TableOutOfBounds));
  table->elems[index] = ref;
}

uint32_t skiff_rt_table_size(rt::Instance* inst, uint32_t table_index) {
  return static_cast<uint32_t>(inst->tables[table_index]->elems.size());
}

uint32_t skiff_rt_table_grow(rt::Instance* inst, uint32_t table_index, uint64_t init, uint32_t delta) {
  return static_cast<uint32_t>(inst->tables[table_index]->grow(delta, init));
}

void skiff_rt_table_fill(rt::Instance* inst, uint32_t table_index, uint32_t index, uint64_t ref, uint32_t count) {
  rt::TableInst* table = inst->tables[table_index];
  if (uint64_t{index} + count > table->elems.size()) skiff_rt_trap(static_cast<uint32_t>(TrapKind::TableOutOfBounds));
  std::fill_n(table->elems.begin() + index, count, ref);
}

void skiff_rt_table_copy(rt::Instance* inst, uint32_t dst_index, uint32_t src_index, uint32_t dst, uint32_t src,
                         uint32_t count) {
  rt::TableInst* dst_table = inst->tables[dst_index];
  const rt::TableInst* src_table = inst->tables[src_index];
  if (uint64_t{src} + count > src_table->elems.size() || uint64_t{dst} + count > dst_table->elems.size())
    skiff_rt_trap(static_cast<uint32_t>(TrapKind::TableOutOfBounds));
  if (count != 0) std::memmove(dst_table->elems.data() + dst, src_table->elems.data() + src, count * sizeof(rt::Ref));
}

void skiff_rt_table_init(rt::Instance* inst, uint32_t table_index, uint32_t elem_index, uint32_t dst, uint32_t src,
                         uint32_t count) {
  rt::TableInst* table = inst->tables[table_index];
  const std::vector<rt::Ref>& segment = inst->elem_segments[elem_index];
  if (uint64_t{src} + count > segment.size() || uint64_t{dst} + count > table->elems.size())
    skiff_rt_trap(static_cast<uint32_t>(TrapKind::TableOutOfBounds));
  if (count != 0) std::memcpy(table->elems.data() + dst, segment.data() + src, count * sizeof(rt::Ref));
}

void skiff_rt_elem_drop(rt::Instance* inst, uint32_t elem_index) { inst->elem_segments[elem_index].clear(); }

// Same order and unit as the interpreter's check_interrupts.
void skiff_rt_check_interrupts(rt::Store* store) {
  if (store->fuel_enabled && --store->fuel < 0) skiff_rt_trap(static_cast<uint32_t>(TrapKind::OutOfFuel));
  if (store->epoch != nullptr && store->epoch->load(std::memory_order_relaxed) >= store->epoch_deadline)
    skiff_rt_trap(static_cast<uint32_t>(TrapKind::Interrupted));
}

}  // extern "C"

// ---- public entry points ---------------------------------------------------------

bool library_loaded() { return g_loaded.load(std::memory_order_acquire); }

Result<void> compile_module(rt::CompiledModule& module) {
  const Library& lib = library();
  if (lib.compile == nullptr) return Error(ErrorCode::UsageError, Error::kNoOffset, lib.error);
  static const Helper kHelpers[] = {
#define SKIFF_HELPER_ENTRY(name) {#name, reinterpret_cast<void*>(&name)},
      SKIFF_JIT_HELPERS(SKIFF_HELPER_ENTRY)
#undef SKIFF_HELPER_ENTRY
  };
  CompileRequest request;
  request.module = module.module.get();
  request.helpers = kHelpers;
  request.num_helpers = std::size(kHelpers);
  CompileOutput output;
  if (!lib.compile(&request, &output))
    return Error(ErrorCode::Internal, Error::kNoOffset, "tier 2 compilation failed: " + output.error);
  const uint32_t defined = module.module->num_defined_funcs();
  if (output.entries.size() != defined) {
    lib.release(output.handle);
    return Error(ErrorCode::Internal, Error::kNoOffset, "tier 2 compilation returned the wrong number of functions");
  }
  module.native_code = std::shared_ptr<void>(output.handle, lib.release);
  for (uint32_t i = 0; i < defined; ++i) module.funcs[i].native_entry.store(output.entries[i], std::memory_order_release);
  return {};
}

namespace {

[[gnu::noinline]] TrapKind run_native(rt::Store& store, rt::FuncInst* func, EntryFn entry, Slot* slots,
                                      rt::Trap* trap) {
  rt::ensure_fault_handling();
  JitState state;
  state.trap = trap;
  state.prev = t_state;
  state.activation.prev = rt::current_activation();
  JitContext ctx;
  ctx.store = &store;
  ctx.stack_limit = stack_limit();
  const uint32_t saved_depth = store.frame_depth;
  Slot* const saved_top = store.stack_top;
  t_state = &state;
  if (sigsetjmp(state.activation.jump, 0) == 0) {
    rt::set_current_activation(&state.activation);
    entry(&ctx, func->instance, slots);
    rt::set_current_activation(state.activation.prev);
    t_state = state.prev;
    return TrapKind::None;
  }
  // A trap or a guard-page fault unwound the compiled frames.
  rt::set_current_activation(state.activation.prev);
  t_state = state.prev;
  std::vector<BacktraceFrame> frames = rt::build_backtrace(store, saved_depth);
  if (state.has_full_trap) {
    trap->backtrace.insert(trap->backtrace.end(), std::make_move_iterator(frames.begin()),
                           std::make_move_iterator(frames.end()));
  } else {
    TrapKind kind = state.has_kind ? static_cast<TrapKind>(state.kind) : TrapKind::MemoryOutOfBounds;
    *trap = rt::Trap(kind, trap_message(kind));
    trap->backtrace = std::move(frames);
  }
  store.frame_depth = saved_depth;
  store.stack_top = saved_top;
  return trap->kind;
}

}  // namespace

TrapKind execute(rt::Store& store, rt::FuncInst* func, rt::Slot* slots, rt::Trap* trap) {
  void* entry = nullptr;
  if (func->kind == rt::FuncInst::Kind::Wasm && func->compiled != nullptr)
    entry = func->compiled->native_entry.load(std::memory_order_acquire);
  if (entry == nullptr) return interp::execute(store, func, slots, trap);
  return run_native(store, func, reinterpret_cast<EntryFn>(entry), slots, trap);
}

}  // namespace skiff::llvmjit

// Tier 2, engine side: the loader of libskiff_llvm.so, the entry trampoline
// that runs machine code inside an activation, and the runtime helpers that
// compiled code calls (abi.h lists them).
//
// Traps. Compiled code calls skiff_rt_trap(kind), and helpers that fail call
// it too or fill the caller's Trap (host and interpreter traps keep their
// message and inner frames). A guard-page fault in machine code arrives as
// a call of skiff_rt_fault_trap, made by the fault handler (signals.cpp).
// Each first records the return addresses on the frame-pointer chain up to
// the innermost run_native (compiled code and this file keep frame
// pointers, see CMakeLists.txt), then siglongjmps there; run_native maps
// the addresses to wasm functions for the backtrace. The jump skips
// compiled frames, which own nothing, and never a frame of this file that
// holds an object with a destructor: helpers do their work in a function
// that returns a status and jump from a frame that owns nothing.
#include "llvm/jit.h"

#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "interp/interp.h"
#include "llvm/abi.h"
#include "llvm/fallback_ops.h"
#include "llvm/object_loader.h"
#include "runtime/call.h"
#include "runtime/signals.h"

namespace skiff::llvmjit {

namespace {

using rt::Slot;

// ---- loading libskiff_llvm.so ------------------------------------------------

struct Library {
  CompileFn compile = nullptr;
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
      if (version == nullptr || out.compile == nullptr || version() != kAbiVersion) {
        tried += "\n  " + path + ": not a compatible tier-2 library (ABI version mismatch)";
        out.compile = nullptr;
        continue;  // kept mapped: unloading a half-initialised LLVM is not worth the risk
      }
      g_loaded.store(true, std::memory_order_release);
      return out;
    }
    out.error = std::string("tier 2 (LLVM) is unavailable: cannot load ") + kLibraryName +
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
  uintptr_t entry_fp = 0;      // run_native's frame: where the frame walk stops
  std::vector<uintptr_t> return_addresses;  // innermost first, from the walk
};

thread_local JitState* t_state = nullptr;

// Records the return addresses of every frame between the caller and
// run_native, then unwinds to run_native. Only frames with a frame pointer
// may lie in between: compiled code and this file's functions.
[[noreturn, gnu::noinline]] void jump_to_entry() {
  JitState* state = t_state;
  auto fp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  state->return_addresses.clear();
  while (fp != 0 && fp < state->entry_fp && fp % alignof(uintptr_t) == 0) {
    const auto* record = reinterpret_cast<const uintptr_t*>(fp);
    state->return_addresses.push_back(record[1]);
    if (record[0] <= fp) break;  // chains only go up the stack
    fp = record[0];
  }
  siglongjmp(state->activation.jump, 1);
}

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

}  // namespace

void* native_entry_for(const rt::Store& store, const rt::FuncInst* func) {
  if (func->compiled == nullptr) return nullptr;
  void* entry = func->compiled->native_entry.load(std::memory_order_acquire);
  return entry != nullptr && rt::machine_code_serves(store, *func->instance->compiled) ? entry : nullptr;
}

namespace {

// ---- calls through the runtime objects ---------------------------------------------

// False (with *t_state->trap filled) when the host function trapped.
[[gnu::noinline]] bool call_host(rt::Instance* caller, rt::FuncInst* callee, Slot* buf) {
  std::optional<rt::Trap> result;
  {
    rt::HostCallScope scope;
    rt::Caller host_caller{caller->store, caller};
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
// interpreter, or whose code lacks the interrupt checks this store needs)
// runs in tier 0 on the store's value stack.
[[gnu::noinline]] bool call_interpreted(rt::FuncInst* callee, Slot* buf) {
  rt::Store& store = *callee->instance->store;
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
  // Its own activation: a guard-page fault in the interpreter then keeps
  // the interpreted frames, and the compiled ones are appended after it.
  if (rt::run_in_activation(store, callee, slots, &trap, &interp::execute) != TrapKind::None) {
    *state->trap = std::move(trap);
    state->has_full_trap = true;
    return false;
  }
  std::copy_n(slots, out, buf);
  return true;
}

void invoke(rt::Instance* caller, rt::FuncInst* callee, Slot* buf) {
  if (callee->kind == rt::FuncInst::Kind::Wasm) {
    void* entry = native_entry_for(*caller->store, callee);
    if (entry != nullptr) {
      callee->instance->native_stack_limit = stack_limit();
      reinterpret_cast<EntryFn>(entry)(callee->instance, buf);
      return;
    }
    if (!call_interpreted(callee, buf)) jump_to_entry();
    return;
  }
  if (!call_host(caller, callee, buf)) jump_to_entry();
}

}  // namespace

// ---- runtime helpers called from machine code (abi.h) ---------------------------

extern "C" {

[[noreturn]] void skiff_rt_trap(uint32_t kind) {
  t_state->kind = kind;
  t_state->has_kind = true;
  jump_to_entry();
}

// Where the fault handler sends a guard-page fault in machine code; its
// return address is the faulting instruction.
[[noreturn, gnu::noinline]] void skiff_rt_fault_trap() {
  skiff_rt_trap(static_cast<uint32_t>(TrapKind::MemoryOutOfBounds));
}

void skiff_rt_call(rt::Instance* caller, uint32_t func_index, Slot* buf) {
  invoke(caller, caller->funcs[func_index], buf);
}

void skiff_rt_call_indirect(rt::Instance* inst, uint32_t table_index, uint32_t type_index, uint32_t elem_index,
                            Slot* buf) {
  const rt::TableInst* table = inst->tables[table_index];
  if (elem_index >= table->elems.size()) skiff_rt_trap(static_cast<uint32_t>(TrapKind::UndefinedElement));
  auto* callee = reinterpret_cast<rt::FuncInst*>(table->elems[elem_index]);
  if (callee == nullptr) skiff_rt_trap(static_cast<uint32_t>(TrapKind::UninitializedElement));
  if (callee->type_id != inst->compiled->type_ids[type_index])
    skiff_rt_trap(static_cast<uint32_t>(TrapKind::IndirectCallMismatch));
  invoke(inst, callee, buf);
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

namespace {

// Tier-up's code for the loop, if ready; nothing here outlives the call.
[[gnu::noinline]] rt::LoopEntry tier2_loop_code(const rt::Instance& instance, uint32_t defined_index,
                                                uint32_t loop_offset) noexcept {
  rt::HotFunctionListener* tier_up = instance.compiled->tier_up.get();
  return tier_up != nullptr ? tier_up->tier2_loop_code(*instance.compiled, defined_index, loop_offset) : rt::LoopEntry{};
}

}  // namespace

extern "C" {

// Tier 1's code at the header of a loop whose flag says that tier 2's code
// for it is ready (baseline.h): runs that code on the frame's slots, which
// hold the locals and operand stack there as tier 0's frame would, and
// returns 1 once they hold the function's results; 0 when there is none
// and the frame stays in tier 1. The new code's frame stands for tier 1's
// in backtraces (frames_at).
uint32_t skiff_rt_loop_exit(rt::Instance* instance, uint32_t defined_index, uint32_t loop_offset, Slot* frame,
                            uint32_t frame_slots) {
  const rt::LoopEntry loop = tier2_loop_code(*instance, defined_index, loop_offset);
  if (loop.code == nullptr) return 0;
  void* entry = loop.code->native_entry.load(std::memory_order_acquire);
  if (entry == nullptr) return 0;
  if (loop.selector_slot != rt::LoopEntry::kNoSelector) {
    if (loop.selector_slot >= frame_slots) return 0;
    frame[loop.selector_slot] = loop.selector;
  }
  // As in run_loop_natively: that code charges a function entry no call spent.
  rt::Store& store = *instance->store;
  if (store.check_interrupts && store.fuel_enabled) ++store.fuel;
  reinterpret_cast<EntryFn>(entry)(instance, frame);
  return 1;
}

}  // extern "C"

// ---- loaded machine code and the map from addresses to functions ----------------

namespace {

// One compilation's machine code, registered for the fault handler and for
// backtraces while it lives.
struct NativeBatch {
  std::unique_ptr<LoadedCode> code;
  const wasm::Module* module = nullptr;
  struct Func {
    uintptr_t begin, end;
    uint32_t index;
    bool continues_frame = false;  // a loop variant (InstallOptions), named after the function it continues
  };
  std::vector<Func> funcs;  // wasm_func_N symbols, by address
  std::shared_ptr<void> data;  // CompiledCode::data
  bool registered = false;

  ~NativeBatch();
  const Func* find(uintptr_t pc) const {
    auto it = std::upper_bound(funcs.begin(), funcs.end(), pc, [](uintptr_t a, const Func& f) { return a < f.begin; });
    if (it == funcs.begin()) return nullptr;
    --it;
    return pc < it->end ? &*it : nullptr;
  }
};

std::mutex g_batches_mutex;
std::map<uintptr_t, const NativeBatch*> g_batches;  // by code_begin

NativeBatch::~NativeBatch() {
  if (code == nullptr) return;
  if (registered) rt::unregister_code_range(code->code_begin());
  std::lock_guard lock(g_batches_mutex);
  g_batches.erase(code->code_begin());
}

// Wasm frames for the recorded return addresses, innermost first. A loop
// variant's frame continues a frame of its function: when it is the
// outermost one, the interpreter's (run_loop_natively); otherwise the next
// one, tier 1's (skiff_rt_loop_exit), which is then left out.
std::vector<BacktraceFrame> frames_at(const std::vector<uintptr_t>& return_addresses) {
  std::vector<BacktraceFrame> frames;
  std::lock_guard lock(g_batches_mutex);
  bool continued = false;  // the previous frame continues a tier-1 frame, if it is next
  for (uintptr_t address : return_addresses) {
    uintptr_t pc = address - 1;  // inside the call (or faulting) instruction
    auto it = g_batches.upper_bound(pc);
    if (it == g_batches.begin()) continue;
    --it;
    const NativeBatch::Func* func = it->second->find(pc);
    if (func == nullptr) continue;
    const bool same = continued && frames.back().func_index == func->index;
    continued = func->continues_frame;
    if (same) continue;
    BacktraceFrame frame;
    frame.func_index = func->index;
    frame.func_name = std::string(it->second->module->func_name(func->index));
    frame.module_name = it->second->module->names.module;
    frames.push_back(std::move(frame));
  }
  return frames;
}

void* resolve_runtime_symbol(std::string_view name) {
#define SKIFF_HELPER_ENTRY(helper) \
  if (name == #helper) return reinterpret_cast<void*>(&helper);
  SKIFF_JIT_HELPERS(SKIFF_HELPER_ENTRY)
#undef SKIFF_HELPER_ENTRY
  return reinterpret_cast<void*>(find_fallback_op(name));
}

struct ProgressForward {
  const ProgressFn* fn;
};

// $SKIFF_PERF_MAP=1: each compiled function, named, goes to
// /tmp/perf-PID.map, from which `perf report` symbolises JIT code (the
// convention of wasmtime's --profile=perfmap and node's --perf-basic-prof).
void append_perf_map(const wasm::Module& module, const std::vector<NativeBatch::Func>& funcs) {
  static const bool enabled = [] {
    const char* env = std::getenv("SKIFF_PERF_MAP");
    return env != nullptr && *env != 0 && std::strcmp(env, "0") != 0;
  }();
  if (!enabled) return;
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::string path = "/tmp/perf-" + std::to_string(getpid()) + ".map";
  FILE* out = std::fopen(path.c_str(), "a");
  if (out == nullptr) return;
  for (const NativeBatch::Func& f : funcs) {
    std::string_view name = module.func_name(f.index);
    std::fprintf(out, "%" PRIxPTR " %" PRIxPTR " wasm[%u] %.*s\n", f.begin, f.end - f.begin, f.index,
                 static_cast<int>(name.size()), name.data());
  }
  std::fclose(out);
}

void forward_progress(void* user, uint32_t done, uint32_t total) {
  const ProgressFn& fn = *static_cast<ProgressForward*>(user)->fn;
  if (fn) fn(done, total);
}

}  // namespace

// ---- public entry points ---------------------------------------------------------

bool library_loaded() { return g_loaded.load(std::memory_order_acquire); }

bool load_library() { return library().compile != nullptr; }

Result<CompiledCode> compile(const wasm::Module& module, std::vector<uint32_t> funcs, const CompileOptions& options) {
  const Library& lib = library();
  if (lib.compile == nullptr) return Error(ErrorCode::UsageError, Error::kNoOffset, lib.error);
  CompileRequest request;
  request.module = &module;
  request.funcs = std::move(funcs);
  request.interruptible = options.interruptible;
  request.unversioned = options.unversioned;
  const ProgressFn& progress = options.progress;
  ProgressForward forward{&progress};
  if (progress) {
    request.progress = &forward_progress;
    request.progress_user = &forward;
  }
  CompileOutput output;
  if (!lib.compile(&request, &output))
    return Error(ErrorCode::Internal, Error::kNoOffset, "tier 2 compilation failed: " + output.error);
  CompiledCode code;
  code.objects = std::move(output.objects);
  code.target = std::move(output.target);
  code.interruptible = options.interruptible;
  code.versioned_loops = output.versioned_loops;
  return code;
}

Result<void> install(rt::CompiledModule& compiled, const CompiledCode& code, const InstallOptions& options) {
  const std::vector<std::string>& objects = code.objects;
  std::vector<std::string_view> views(objects.begin(), objects.end());
  auto loaded = load_objects(views, resolve_runtime_symbol);
  if (!loaded.ok()) return loaded.error();
  auto batch = std::make_shared<NativeBatch>();
  batch->code = std::move(loaded.value());
  batch->module = compiled.module.get();
  batch->data = code.data;
  const wasm::Module& module = *compiled.module;
  const uint32_t num_funcs = static_cast<uint32_t>(module.funcs.size());
  // Symbol names carry the function index: wasm_func_N, skiff_entry_N.
  auto index_of = [&](std::string_view name, std::string_view prefix) -> std::optional<uint32_t> {
    if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
    uint32_t index = 0;
    auto digits = name.substr(prefix.size());
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec != std::errc() || end != digits.data() + digits.size() || index < module.num_imported_funcs ||
        index >= num_funcs)
      return std::nullopt;
    return index;
  };
  std::vector<std::pair<uint32_t, void*>> entries, bodies;
  for (const CodeSymbol& symbol : batch->code->functions()) {
    if (auto index = index_of(symbol.name, "wasm_func_")) {
      NativeBatch::Func func{symbol.address, symbol.address + symbol.size, *index};
      for (auto [variant, continued] : options.loop_variants)
        if (variant == *index) func.index = continued, func.continues_frame = true;
      batch->funcs.push_back(func);
      bodies.emplace_back(*index, reinterpret_cast<void*>(symbol.address));
    } else if (auto entry = index_of(symbol.name, "skiff_entry_")) {
      entries.emplace_back(*entry, reinterpret_cast<void*>(symbol.address));
    } else if (options.loop_entries != nullptr && symbol.name.starts_with("skiff_osr_")) {
      options.loop_entries->emplace_back(symbol.name, reinterpret_cast<void*>(symbol.address));
    }
  }
  append_perf_map(module, batch->funcs);
  batch->registered = rt::register_code_range(batch->code->code_begin(), batch->code->code_end());
  {
    std::lock_guard lock(g_batches_mutex);
    g_batches[batch->code->code_begin()] = batch.get();
  }
  {
    std::lock_guard lock(compiled.native_mutex);
    compiled.native_code.push_back(batch);
  }
  if (!code.interruptible) compiled.native_uninterruptible.store(true, std::memory_order_release);
  if (!options.for_calls) return {};
  for (auto [index, body] : bodies)
    compiled.native_bodies[index - module.num_imported_funcs].store(body, std::memory_order_release);
  for (auto [index, entry] : entries) {
    rt::CompiledFunc& f = compiled.funcs[index - module.num_imported_funcs];
    f.baseline_code.store(code.baseline, std::memory_order_relaxed);
    f.native_entry.store(entry, std::memory_order_release);
  }
  return {};
}

namespace {

[[gnu::noinline]] TrapKind run_native(rt::Store& store, rt::FuncInst* func, EntryFn entry, Slot* slots,
                                      rt::Trap* trap) {
  rt::ensure_fault_handling();
  JitState state;
  state.trap = trap;
  state.prev = t_state;
  state.entry_fp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  state.activation.prev = rt::current_activation();
  state.activation.fault_redirect = reinterpret_cast<uintptr_t>(&skiff_rt_fault_trap);
  func->instance->native_stack_limit = stack_limit();
  Slot* const saved_top = store.stack_top;
  t_state = &state;
  if (sigsetjmp(state.activation.jump, 0) == 0) {
    rt::set_current_activation(&state.activation);
    entry(func->instance, slots);
    rt::set_current_activation(state.activation.prev);
    t_state = state.prev;
    return TrapKind::None;
  }
  // A trap or a guard-page fault unwound the compiled frames.
  rt::set_current_activation(state.activation.prev);
  t_state = state.prev;
  std::vector<BacktraceFrame> frames = frames_at(state.return_addresses);
  if (state.has_full_trap) {
    trap->backtrace.insert(trap->backtrace.end(), std::make_move_iterator(frames.begin()),
                           std::make_move_iterator(frames.end()));
  } else {
    // No kind: a fault the handler could not redirect (full code-range registry).
    TrapKind kind = state.has_kind ? static_cast<TrapKind>(state.kind) : TrapKind::MemoryOutOfBounds;
    *trap = rt::Trap(kind, trap_message(kind));
    trap->backtrace = std::move(frames);
  }
  store.stack_top = saved_top;
  return trap->kind;
}

}  // namespace

TrapKind execute(rt::Store& store, rt::FuncInst* func, rt::Slot* slots, rt::Trap* trap) {
  void* entry = func->kind == rt::FuncInst::Kind::Wasm ? native_entry_for(store, func) : nullptr;
  if (entry == nullptr) return interp::execute(store, func, slots, trap);
  return run_native(store, func, reinterpret_cast<EntryFn>(entry), slots, trap);
}

}  // namespace skiff::llvmjit

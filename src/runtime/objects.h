// The runtime's object model: the shapes every tier and the embedding API
// share. Instances live in a Store; an Instance points at its functions,
// tables, memories and globals (its own or imported from other instances).
//
// Values inside the engine are raw 8-byte slots (a v128 takes two):
//   i32 in the low 4 bytes, i64 as is, f32/f64 as their bits,
//   funcref = FuncInst* (0 is null), externref = host word (0 is null).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "skiff/trap.h"
#include "wasm/module.h"

namespace skiff::rt {

using skiff::TrapKind;
using skiff::trap_message;
using skiff::Trap;
using skiff::BacktraceFrame;

using Slot = uint64_t;
using Ref = uint64_t;  // 0 is null

struct Instance;
struct Store;
struct FuncInst;

// What a host function sees of its caller.
struct Caller {
  Store* store = nullptr;
  Instance* instance = nullptr;  // the calling wasm instance, or null from the host
};

// Host functions read their arguments from slots[0..] and write their
// results to slots[0..] (results overwrite arguments, as in wasm calls).
// Returning a Trap stops the wasm code that called it.
using HostFunc = std::function<std::optional<Trap>(Caller&, Slot* slots)>;

// Lowered code of one defined function, produced lazily by a tier and shared
// by every instance of the module. The calling convention of tier 0:
// slots [0, param_slots) hold the arguments, [param_slots, local_slots) the
// zero-initialised locals, and the rest up to frame_slots the operand stack.
// On return, results are in slots [0, result_slots).
struct CompiledFunc {
  std::atomic<const uint64_t*> code{nullptr};  // null until lowered
  uint32_t param_slots = 0;
  uint32_t local_slots = 0;   // params + locals
  uint32_t result_slots = 0;
  uint32_t frame_slots = 0;   // locals + max operand stack
  std::vector<uint64_t> storage;  // owns `code`
  std::mutex lower_mutex;
  // Tier 2 (src/llvm): machine code entry `void(Instance*, Slot*
  // args_results)`, or null when not compiled.
  std::atomic<void*> native_entry{nullptr};
  // That code is tier 1's (src/baseline), which Tier::Auto replaces with
  // tier 2's.
  std::atomic<bool> baseline_code{false};
  // Tier::Auto (src/llvm/tierup.h): work left before the interpreter reports
  // the function hot (each entry and loop iteration counts the size of its
  // code). Counted only by code lowered for a module with a tier_up
  // listener; racy decrements between threads may lose a count, which only
  // delays the report.
  std::atomic<int32_t> hotness_countdown{INT32_MAX};
  std::atomic<bool> hot_reported{false};  // function_became_hot was called
  std::atomic<uint32_t> entries{0};       // calls counted with the hotness (same caveat)
};

struct CompiledModule;

// Machine code that continues a frame at the header of one of its loops
// (on-stack replacement): it takes the frame's slots as its arguments, with
// `selector` (an i32) written at `selector_slot`, after the locals and the
// operand stack at that header, to name the loop (tier 2's), or with no
// selector (tier 1's: an entry per loop).
struct LoopEntry {
  static constexpr uint32_t kNoSelector = UINT32_MAX;
  const CompiledFunc* code = nullptr;
  uint32_t selector_slot = kNoSelector;
  uint32_t selector = 0;
};

// Tier::Auto: told (on the interpreting thread) when a function of `module`
// becomes hot. Implemented by src/llvm/tierup.cpp, which compiles in the
// background; both calls must return quickly.
class HotFunctionListener {
 public:
  virtual ~HotFunctionListener() = default;
  // `loop_offset`: the loop whose iterations made it hot (a frame that
  // may want on-stack replacement there), or kNoLoop for calls. Called
  // again at every later expiry at function entry while the function has
  // no machine code.
  // Returns code that continues the reporting frame at that loop right
  // away (tier 1's, compiled meanwhile), or none.
  static constexpr uint32_t kNoLoop = UINT32_MAX;
  virtual LoopEntry function_became_hot(std::shared_ptr<const CompiledModule> module, uint32_t defined_index,
                                        uint32_t loop_offset) = 0;
  // Its loop at byte `loop_offset` (of the `loop` instruction) is still
  // hot in the interpreter after the first report: a frame keeps looping
  // there. Returns machine code that continues such a frame at the loop's
  // header (on-stack replacement, interp.h's HotCount): tier 2's once
  // ready (the first call asks for it), tier 1's meanwhile, or none.
  virtual LoopEntry loop_is_hot(std::shared_ptr<const CompiledModule> module, uint32_t defined_index,
                                          uint32_t loop_offset) = 0;
  // A frame in tier 1's code passes the header of that loop, whose flag
  // says that tier 2's code for it is ready (llvmjit::skiff_rt_loop_exit):
  // that code, or none. Called on the running thread, from machine code.
  virtual LoopEntry tier2_loop_code(const CompiledModule& module, uint32_t defined_index, uint32_t loop_offset) = 0;
};

// A module ready to instantiate: decoded and validated, with per-function
// code filled in on demand. Immutable apart from lazily lowered code, and
// shareable between stores and threads.
struct CompiledModule {
  std::shared_ptr<const wasm::Module> module;
  std::unique_ptr<CompiledFunc[]> funcs;  // one per defined function
  // Canonical type id of each type index (see type_registry()).
  std::vector<uint32_t> type_ids;
  // Tier 2: owns the machine code behind every CompiledFunc::native_entry,
  // one batch per compilation (tier-up adds batches while the module runs).
  std::mutex native_mutex;
  std::vector<std::shared_ptr<void>> native_code;
  // Tier 2: by defined function, its machine code in the convention of
  // calls between compiled functions (abi.h), so that code of another
  // batch calls it directly; null while it has none.
  std::unique_ptr<std::atomic<void*>[]> native_bodies;
  // Some of that code does not check fuel and epoch deadlines: a store that
  // sets them runs this module's functions in the interpreter instead.
  std::atomic<bool> native_uninterruptible{false};
  // Runs a function that has machine code (llvmjit::execute); set for
  // modules compiled for tier 2. The interpreter calls functions whose
  // native_entry is set through it; null: it interprets them.
  TrapKind (*native_executor)(Store&, FuncInst*, Slot*, Trap*) = nullptr;
  // Tier::Auto: where the interpreter reports hot functions. Null for other
  // modules, whose tier-0 code then has no hotness counters at all.
  std::shared_ptr<HotFunctionListener> tier_up;
  // Tier::Auto: where each hotness countdown starts, and restarts after a
  // report (so a loop still running in tier 0 is reported again).
  int32_t hotness_threshold = INT32_MAX;
};

// Structurally equal function types get the same id, process wide, so
// call_indirect compares one integer.
uint32_t canonical_type_id(const wasm::FuncType& type);
const wasm::FuncType& canonical_type(uint32_t id);

struct FuncInst {
  enum class Kind : uint8_t { Wasm, Host } kind = Kind::Wasm;
  uint32_t type_id = 0;          // canonical
  const wasm::FuncType* type = nullptr;
  // Wasm functions:
  Instance* instance = nullptr;
  uint32_t func_index = 0;       // in the module's function space
  CompiledFunc* compiled = nullptr;
  // Tier 2: its entry of instance->compiled->native_bodies, so that an
  // inline call_indirect reaches the code in two loads.
  const std::atomic<void*>* native_body = nullptr;
  // Host functions:
  HostFunc host;
};

struct MemoryInst {
  Store* owner = nullptr;     // whose StoreLimits bound grow (null: unbounded)
  uint8_t* base = nullptr;    // reservation start; never moves
  uint64_t size = 0;          // current size in bytes (pages * 64 KiB)
  wasm::MemoryType type;      // current limits (min = current pages)
  uint64_t reserved = 0;      // bytes of address space reserved (incl. guard)
  uint64_t pages() const { return size / wasm::kPageSize; }
  // Grows by `delta` pages; returns the old page count or -1.
  int64_t grow(uint64_t delta);
  ~MemoryInst();
};

struct TableInst {
  Store* owner = nullptr;     // whose StoreLimits bound grow (null: unbounded)
  std::vector<Ref> elems;
  wasm::TableType type;
  // Grows by `delta` filled with `init`; returns the old size or -1.
  int64_t grow(uint64_t delta, Ref init);
  ~TableInst();  // returns its elements to the owner's budget
};

struct GlobalInst {
  alignas(16) Slot value[2] = {0, 0};  // v128 uses both
  wasm::GlobalType type;
};

struct Instance {
  Store* store = nullptr;
  std::shared_ptr<const CompiledModule> compiled;
  const wasm::Module* module = nullptr;  // == compiled->module.get()

  std::vector<FuncInst*> funcs;
  std::vector<TableInst*> tables;
  std::vector<MemoryInst*> memories;
  std::vector<GlobalInst*> globals;
  // Element segments as evaluated references; a dropped one is cleared.
  std::vector<std::vector<Ref>> elem_segments;
  std::vector<bool> data_dropped;

  // memories[0]->base, for machine code: a memory's base never moves.
  uint8_t* mem0 = nullptr;
  // Tier 2: the lowest native stack pointer a compiled prologue accepts,
  // set for the running thread at every entry into this instance's machine
  // code (calls between compiled functions keep the instance, others go
  // through the runtime). One load per call, where the store's copy would
  // cost two.
  uintptr_t native_stack_limit = 0;
  // Tier 2: compiled->native_bodies and compiled->type_ids.data(), one
  // load away for machine code.
  const std::atomic<void*>* native_bodies = nullptr;
  const uint32_t* type_ids = nullptr;

  uint8_t* mem0_base() const { return memories.empty() ? nullptr : memories[0]->base; }
};

// One frame of the wasm call stack, pushed by a call and popped by return.
struct CallFrame {
  const uint64_t* return_pc = nullptr;  // in the caller's code
  Slot* caller_fp = nullptr;
  Instance* caller_instance = nullptr;
  FuncInst* func = nullptr;             // the callee, for backtraces
};

// Per-store resource caps (the embedder's StoreLimits). Exceeding one makes
// memory.grow / table.grow return -1 and instantiation fail (ResourceLimit).
struct StoreLimits {
  uint64_t max_memory_bytes = UINT64_MAX;   // sum of all linear memories' sizes
  uint64_t max_table_elements = UINT64_MAX; // sum of all tables' lengths
  uint64_t max_instances = UINT64_MAX;
  uint64_t max_memories = UINT64_MAX;
  uint64_t max_tables = UINT64_MAX;
  // memory.grow past max_memory_bytes traps (TrapKind::MemoryLimit) instead of returning -1.
  bool trap_on_grow_failure = false;
};

// One tenant's state. Used by one thread at a time.
struct Store {
  // Execution stacks (reserved once, committed by the OS on touch).
  Slot* value_stack = nullptr;
  Slot* value_stack_end = nullptr;
  // First free slot. The interpreter sets it to the end of the current frame
  // before it calls a host function, so a nested call into wasm starts there.
  Slot* stack_top = nullptr;
  CallFrame* frames = nullptr;     // max_call_depth entries, reserved up front
  uint32_t frame_depth = 0;        // frames in use
  uint32_t max_call_depth = 10000;
  uint32_t frame_capacity = 0;     // entries reserved in `frames`; max_call_depth <= this

  // Interruption, checked by tiers at function entry and loop back-edges
  // only when `check_interrupts` is true (no cost otherwise).
  // Fuel unit: one function entry or one loop iteration.
  bool check_interrupts = false;        // fuel or deadline configured
  bool fuel_enabled = false;
  int64_t fuel = 0;                     // remaining; < 0 after consumption -> trap OutOfFuel
  const std::atomic<uint64_t>* epoch = nullptr;  // engine's epoch counter
  uint64_t epoch_deadline = UINT64_MAX;          // trap Interrupted when *epoch >= deadline

  StoreLimits limits;
  uint64_t memory_bytes = 0;   // current total of the store's memories
  uint64_t table_elements = 0; // current total of the store's tables

  // Everything the store owns.
  std::vector<std::unique_ptr<FuncInst>> funcs;
  std::vector<std::unique_ptr<TableInst>> tables;
  std::vector<std::unique_ptr<MemoryInst>> memories;
  std::vector<std::unique_ptr<GlobalInst>> globals;
  std::vector<std::unique_ptr<Instance>> instances;

  // Host functions a Linker made in this store, by the Linker entry's
  // process-unique id, so each store gets its own FuncInst once.
  std::unordered_map<uint64_t, FuncInst*> host_func_cache;

  Store();  // default stack sizes (EngineConfig's defaults)
  Store(uint64_t value_stack_bytes, uint32_t max_call_depth);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
};

// Whether `store` may run `module`'s machine code: not while the store
// checks fuel or a deadline and some of that code was compiled without the
// checks (the interpreter serves such calls; see EngineConfig::interruptible).
inline bool machine_code_serves(const Store& store, const CompiledModule& module) {
  return !store.check_interrupts || !module.native_uninterruptible.load(std::memory_order_acquire);
}

// After `memory.grow(delta)` returned -1: whether the store asked for a trap
// because the grow would have taken its memories past max_memory_bytes. Both
// tiers ask this, so they fail the same way.
inline bool grow_failure_traps(const MemoryInst& memory, uint64_t delta) {
  const Store* s = memory.owner;
  return s != nullptr && s->limits.trap_on_grow_failure &&
         s->memory_bytes - memory.size + (memory.pages() + delta) * wasm::kPageSize > s->limits.max_memory_bytes;
}

}  // namespace skiff::rt

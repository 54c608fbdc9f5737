// Tier 0's dispatch loop: direct threading over the internal code of
// code.h. Every instruction starts with the address of its handler, so a
// dispatch is one indirect jump (`goto *pc[0]`); pc, fp, the instance and
// memory 0's base stay in locals of one function.
//
// Handlers of the wasm opcodes of class Pure/Trap/Load/Store are generated
// from opcodes.def; their semantics are the ops:: functions of numerics.h
// and simd_ops.h, and their operand layout is derived from the signature of
// those functions (see code.h). The internal ops of internal_ops.def are
// written by hand below.
//
// Memory accesses are not bounds checked: every 32-bit memory is reserved
// with guard pages, so an out-of-bounds access faults and rt::call_guarded
// turns the fault into a trap. It longjmps over this function, so nothing
// here may own a resource, and store.frames / store.frame_depth are kept
// exact at every call and return (the backtrace is built from them).
//
// Fuel and epoch deadlines (rt::Store) are checked at function entry and on
// loop back-edges (taken branches with a non-positive offset) only when the
// store asks for it: the test of one cached flag otherwise.
//
// Tier-up (Tier::Auto): code of modules that tier up also counts hotness
// (HotCount), and a function with machine code gets the EnterNative stub as
// its code (interp.h). Both run machine code through the module's
// native_executor inside the interpreter's frame, keep fuel to one unit per
// call, and on a trap leave the machine code's frames in the backtrace
// above this activation's.
#include "interp/interp.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <iterator>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <tuple>
#include <utility>

#include "interp/code.h"
#include "interp/lower.h"
#include "interp/numerics.h"
#include "interp/simd_ops.h"
#include "runtime/call.h"

namespace skiff::interp {

namespace {

using rt::Slot;
using wasm::Imm;

#define SKIFF_INLINE [[gnu::always_inline]] inline

// ---- slot access ------------------------------------------------------------

template <typename T>
SKIFF_INLINE T rd(const Slot* fp, uint64_t byte_offset) {
  T v;
  std::memcpy(&v, reinterpret_cast<const char*>(fp) + byte_offset, sizeof(T));
  return v;
}

// 4-byte values are written zero-extended to the whole slot, so a slot never
// holds stale upper bits (hosts and Copy64 see clean values).
template <typename T>
SKIFF_INLINE void wr(Slot* fp, uint64_t byte_offset, T v) {
  char* p = reinterpret_cast<char*>(fp) + byte_offset;
  if constexpr (sizeof(T) == 4) {
    uint32_t b;
    std::memcpy(&b, &v, 4);
    uint64_t w = b;
    std::memcpy(p, &w, 8);
  } else {
    std::memcpy(p, &v, sizeof(T));
  }
}

SKIFF_INLINE Slot* slot_ptr(Slot* fp, uint64_t byte_offset) {
  return reinterpret_cast<Slot*>(reinterpret_cast<char*>(fp) + byte_offset);
}

// ---- generated handlers: operand layout from the ops:: function's type -------

// Pure: [dst] [src per param] [lane | 2 words of shuffle bytes].
template <auto F, Imm K, typename Sig = OpSignature<F>>
struct PureOp;
template <auto F, Imm K, typename R, typename... A>
struct PureOp<F, K, R (*)(A...)> {
  static constexpr size_t kArgs = sizeof...(A);
  static constexpr size_t kSlotArgs = K == Imm::None ? kArgs : kArgs - 1;
  static constexpr size_t kWords = 2 + kSlotArgs + (K == Imm::Lane ? 1 : K == Imm::Shuffle ? 2 : 0);
  using Args = std::tuple<A...>;

  template <size_t... I>
  SKIFF_INLINE static void run(const uint64_t* pc, Slot* fp, std::index_sequence<I...>) {
    if constexpr (K == Imm::None) {
      wr<R>(fp, pc[1], F(rd<std::tuple_element_t<I, Args>>(fp, pc[2 + I])...));
    } else if constexpr (K == Imm::Lane) {
      wr<R>(fp, pc[1],
            F(rd<std::tuple_element_t<I, Args>>(fp, pc[2 + I])..., static_cast<uint32_t>(pc[2 + kSlotArgs])));
    } else {
      static_assert(K == Imm::Shuffle);
      wr<R>(fp, pc[1],
            F(rd<std::tuple_element_t<I, Args>>(fp, pc[2 + I])..., reinterpret_cast<const uint8_t*>(pc + 2 + kSlotArgs)));
    }
  }
  SKIFF_INLINE static void run(const uint64_t* pc, Slot* fp) { run(pc, fp, std::make_index_sequence<kSlotArgs>{}); }
};

// Trap: [dst] [src per param]; dst is written only when there is no trap.
template <auto F, typename Sig = OpSignature<F>>
struct TrapOp;
template <auto F, typename R, typename... A>
struct TrapOp<F, TrapKind (*)(R&, A...)> {
  static constexpr size_t kWords = 2 + sizeof...(A);
  template <size_t... I>
  SKIFF_INLINE static TrapKind run(const uint64_t* pc, Slot* fp, std::index_sequence<I...>) {
    R out{};
    TrapKind k = F(out, rd<A>(fp, pc[2 + I])...);
    if (k == TrapKind::None) [[likely]] wr<R>(fp, pc[1], out);
    return k;
  }
  SKIFF_INLINE static TrapKind run(const uint64_t* pc, Slot* fp) {
    return run(pc, fp, std::index_sequence_for<A...>{});
  }
};

// The effective address: base + zero-extended u32 + u32 offset stays inside
// the 8 GiB reservation (4 GiB range + 4 GiB guard).
SKIFF_INLINE uint8_t* effective(uint8_t* mem, const Slot* fp, uint64_t addr_slot, uint64_t offset) {
  return mem + uint64_t{rd<uint32_t>(fp, addr_slot)} + offset;
}

// Load: [dst] [addr] [offset], or with a lane: [dst] [addr] [vector] [offset] [lane].
template <auto F, typename Sig = OpSignature<F>>
struct LoadOp;
template <auto F, typename R>
struct LoadOp<F, R (*)(const uint8_t*)> {
  static constexpr size_t kWords = 4;
  SKIFF_INLINE static void run(const uint64_t* pc, Slot* fp, uint8_t* mem) {
    wr<R>(fp, pc[1], F(effective(mem, fp, pc[2], pc[3])));
  }
};
template <auto F>
struct LoadOp<F, V128 (*)(const uint8_t*, V128, uint32_t)> {
  static constexpr size_t kWords = 6;
  SKIFF_INLINE static void run(const uint64_t* pc, Slot* fp, uint8_t* mem) {
    wr<V128>(fp, pc[1], F(effective(mem, fp, pc[2], pc[4]), rd<V128>(fp, pc[3]), static_cast<uint32_t>(pc[5])));
  }
};

// Store: [addr] [value] [offset] [lane if any].
template <auto F, typename Sig = OpSignature<F>>
struct StoreOp;
template <auto F, typename T>
struct StoreOp<F, void (*)(uint8_t*, T)> {
  static constexpr size_t kWords = 4;
  SKIFF_INLINE static void run(const uint64_t* pc, Slot* fp, uint8_t* mem) {
    F(effective(mem, fp, pc[1], pc[3]), rd<T>(fp, pc[2]));
  }
};
template <auto F>
struct StoreOp<F, void (*)(uint8_t*, V128, uint32_t)> {
  static constexpr size_t kWords = 5;
  SKIFF_INLINE static void run(const uint64_t* pc, Slot* fp, uint8_t* mem) {
    F(effective(mem, fp, pc[1], pc[3]), rd<V128>(fp, pc[2]), static_cast<uint32_t>(pc[4]));
  }
};

// ---- superinstructions (internal_ops.def's families) ---------------------------

// An immediate word as an operand of type T (its low bytes, like a slot).
template <typename T>
SKIFF_INLINE T imm_as(uint64_t word) {
  T v;
  std::memcpy(&v, &word, sizeof(T));
  return v;
}

// NameImm: [dst] [a] [imm].
template <auto F, typename Sig = OpSignature<F>>
struct ImmBinOp;
template <auto F, typename R, typename A, typename B>
struct ImmBinOp<F, R (*)(A, B)> {
  static constexpr size_t kWords = 4;
  SKIFF_INLINE static void run(const uint64_t* pc, Slot* fp) { wr<R>(fp, pc[1], F(rd<A>(fp, pc[2]), imm_as<B>(pc[3]))); }
};

// BrIfName / BrUnlessName: [a] [b] [target]; ...Imm: [a] [imm] [target].
template <auto F, typename Sig = OpSignature<F>>
struct CompareOp;
template <auto F, typename A, typename B>
struct CompareOp<F, uint32_t (*)(A, B)> {
  static constexpr size_t kWords = 4;
  SKIFF_INLINE static bool slots(const uint64_t* pc, const Slot* fp) { return F(rd<A>(fp, pc[1]), rd<B>(fp, pc[2])) != 0; }
  SKIFF_INLINE static bool imm(const uint64_t* pc, const Slot* fp) { return F(rd<A>(fp, pc[1]), imm_as<B>(pc[2])) != 0; }
};

// NameAddImm: [dst] [addr] [addend] [offset]; the address is the 32-bit
// wrapping sum addr + addend, as the i32.add it replaces computed it.
template <auto F, typename Sig = OpSignature<F>>
struct AddImmLoadOp;
template <auto F, typename R>
struct AddImmLoadOp<F, R (*)(const uint8_t*)> {
  static constexpr size_t kWords = 5;
  SKIFF_INLINE static void run(const uint64_t* pc, Slot* fp, uint8_t* mem) {
    uint32_t addr = rd<uint32_t>(fp, pc[2]) + static_cast<uint32_t>(pc[3]);
    wr<R>(fp, pc[1], F(mem + uint64_t{addr} + pc[4]));
  }
};

// NameLoad: [dst] [a] [addr] [addend] [offset]: dst = a op (the B at addr + addend + offset).
template <auto F, typename Sig = OpSignature<F>>
struct LoadOperandOp;
template <auto F, typename R, typename A, typename B>
struct LoadOperandOp<F, R (*)(A, B)> {
  static constexpr size_t kWords = 6;
  SKIFF_INLINE static void run(const uint64_t* pc, Slot* fp, uint8_t* mem) {
    uint32_t addr = rd<uint32_t>(fp, pc[3]) + static_cast<uint32_t>(pc[4]);
    B b;
    std::memcpy(&b, mem + uint64_t{addr} + pc[5], sizeof(B));
    wr<R>(fp, pc[1], F(rd<A>(fp, pc[2]), b));
  }
};

// NameSumLoads: [dst] [addr] [count] then [addend] [offset] per load.
template <auto F, typename Sig = OpSignature<F>>
struct SumLoadsOp;
template <auto F, typename R>
struct SumLoadsOp<F, R (*)(R, R)> {
  SKIFF_INLINE static R load(const uint64_t* l, uint32_t base, uint8_t* mem) {
    uint32_t addr = base + static_cast<uint32_t>(l[0]);
    R v;
    std::memcpy(&v, mem + uint64_t{addr} + l[1], sizeof(R));
    return v;
  }
  // Returns the instruction's length in words.
  SKIFF_INLINE static size_t run(const uint64_t* pc, Slot* fp, uint8_t* mem) {
    sum(fp, pc[1], rd<uint32_t>(fp, pc[2]), pc[3], pc + 4, mem);
    return 4 + 2 * pc[3];
  }
  // NameSumLoadsIndexed: [dst] [addr_dst] [base] [index] [count] then the loads.
  SKIFF_INLINE static size_t run_indexed(const uint64_t* pc, Slot* fp, uint8_t* mem) {
    const uint32_t base = rd<uint32_t>(fp, pc[3]) + rd<uint32_t>(fp, pc[4]);
    wr<uint32_t>(fp, pc[2], base);
    sum(fp, pc[1], base, pc[5], pc + 6, mem);
    return 6 + 2 * pc[5];
  }
  SKIFF_INLINE static void sum(Slot* fp, uint64_t dst, const uint32_t base, const uint64_t n, const uint64_t* l,
                               uint8_t* mem) {
    R acc = F(load(l, base, mem), load(l + 2, base, mem));  // count >= 2
    // Short sums unrolled: no loop counter on the hot path.
    switch (n) {
      case 5: acc = F(acc, load(l + 4, base, mem)); [[fallthrough]];
      case 4: acc = F(acc, load(l + 2 * (n - 2), base, mem)); [[fallthrough]];
      case 3: acc = F(acc, load(l + 2 * (n - 1), base, mem)); [[fallthrough]];
      case 2: break;
      default:
        for (uint64_t i = 2; i < n; ++i) acc = F(acc, load(l + 2 * i, base, mem));
    }
    wr<R>(fp, dst, acc);
  }
};

// NameImmStore: [addr] [a] [imm] [offset].
template <auto F, typename Sig = OpSignature<F>>
struct ImmStoreOp;
template <auto F, typename R, typename A, typename B>
struct ImmStoreOp<F, R (*)(A, B)> {
  static constexpr size_t kWords = 5;
  SKIFF_INLINE static void run(const uint64_t* pc, Slot* fp, uint8_t* mem) {
    R r = F(rd<A>(fp, pc[2]), imm_as<B>(pc[3]));
    std::memcpy(effective(mem, fp, pc[1], pc[4]), &r, sizeof(R));
  }
};
// NameImmStoreIndexed: [base] [index] [a] [imm] [offset].
template <auto F, typename Sig = OpSignature<F>>
struct ImmStoreIndexedOp;
template <auto F, typename R, typename A, typename B>
struct ImmStoreIndexedOp<F, R (*)(A, B)> {
  static constexpr size_t kWords = 6;
  SKIFF_INLINE static void run(const uint64_t* pc, Slot* fp, uint8_t* mem) {
    R r = F(rd<A>(fp, pc[3]), imm_as<B>(pc[4]));
    uint32_t addr = rd<uint32_t>(fp, pc[1]) + rd<uint32_t>(fp, pc[2]);
    std::memcpy(mem + uint64_t{addr} + pc[5], &r, sizeof(R));
  }
};

// NameUpdate: [a] [addr] [addend] [offset]: mem = a op mem, at one address.
template <auto F, typename Sig = OpSignature<F>>
struct UpdateOp;
template <auto F, typename R, typename A, typename B>
struct UpdateOp<F, R (*)(A, B)> {
  static constexpr size_t kWords = 5;
  SKIFF_INLINE static void run(const uint64_t* pc, Slot* fp, uint8_t* mem) {
    uint32_t addr = rd<uint32_t>(fp, pc[2]) + static_cast<uint32_t>(pc[3]);
    uint8_t* p = mem + uint64_t{addr} + pc[4];
    B b;
    std::memcpy(&b, p, sizeof(B));
    R r = F(rd<A>(fp, pc[1]), b);
    std::memcpy(p, &r, sizeof(R));
  }
};

// ---- cold paths, kept out of the loop -------------------------------------------

// Lowers a wasm function on its first call; null if lowering failed (only
// possible for a module that should not have validated). A function that
// already has machine code (tier 2) gets the EnterNative stub instead.
[[gnu::noinline]] const uint64_t* lower_on_first_call(rt::FuncInst* func) {
  const rt::Instance& instance = *func->instance;
  const uint32_t defined_index = func->func_index - instance.module->num_imported_funcs;
  if (func->compiled->native_entry.load(std::memory_order_acquire) != nullptr &&
      instance.compiled->native_executor != nullptr) {
    use_native_code(*instance.compiled, defined_index);
  } else {
    auto lowered = ensure_lowered(*instance.compiled, defined_index);
    if (!lowered.ok()) return nullptr;
  }
  return func->compiled->code.load(std::memory_order_acquire);
}

// HotCount reached zero in a frame of `func`, at `loop` (or kFunctionEntry).
// The first time, the module's tier-up queues the function (and its loop),
// and may answer at a loop with tier 1's code for the frame at once.
// Later ones come from frames still in tier 0: at entry while the function
// has no machine code, they report it again (the tier-up may have compiled
// only a loop so far); at a loop they ask for its on-stack replacement: the
// code to continue the frame with, returned when ready and usable by this
// store.
[[gnu::noinline, gnu::cold]] rt::LoopEntry report_hot(const rt::Store& store, const rt::Instance& instance,
                                                       rt::CompiledFunc* func, uint64_t loop) {
  const std::shared_ptr<const rt::CompiledModule>& module = instance.compiled;
  rt::HotFunctionListener* tier_up = module->tier_up.get();
  func->hotness_countdown.store(tier_up != nullptr ? module->hotness_threshold : INT32_MAX, std::memory_order_relaxed);
  if (tier_up == nullptr) return {};
  const auto defined_index = static_cast<uint32_t>(func - module->funcs.get());
  if (!func->hot_reported.exchange(true, std::memory_order_acq_rel)) {
    rt::LoopEntry now = tier_up->function_became_hot(
        module, defined_index, loop == kFunctionEntry ? rt::HotFunctionListener::kNoLoop : static_cast<uint32_t>(loop));
    return loop != kFunctionEntry && rt::machine_code_serves(store, *module) ? now : rt::LoopEntry{};
  }
  if (loop == kFunctionEntry) {
    if (func->native_entry.load(std::memory_order_acquire) == nullptr)
      tier_up->function_became_hot(module, defined_index, rt::HotFunctionListener::kNoLoop);
    return {};
  }
  // The same rule as EnterNative's for code without interrupt checks.
  if (!rt::machine_code_serves(store, *module)) return {};
  return tier_up->loop_is_hot(module, defined_index, static_cast<uint32_t>(loop));
}

// EnterNative: runs the machine code of the function whose frame (pushed by
// call_wasm, arguments in place) is on top, with the frame's slots as its
// argument/result buffer (the same layout, abi.h). On a trap the
// frame_depth is back to the caller's frame: the machine code's backtrace
// already names this function.
[[gnu::noinline]] TrapKind run_native_frame(rt::Store& store, Slot* fp, bool entry_charged, rt::Trap* trap) {
  const uint32_t depth = store.frame_depth;
  rt::FuncInst* func = store.frames[depth - 1].func;
  // call_wasm charged this entry's unit of fuel and machine code charges
  // its own at entry: give one back so a call costs one unit in every tier
  // (call_wasm did not trap, so the unit given back is taken again).
  if (entry_charged && store.fuel_enabled) ++store.fuel;
  Slot* const saved_top = store.stack_top;
  store.stack_top = fp + func->compiled->frame_slots;  // calls from machine code into tier 0 start here
  std::optional<rt::Trap> unused;
  TrapKind kind = func->instance->compiled->native_executor(store, func, fp, trap != nullptr ? trap : &unused.emplace());
  store.stack_top = saved_top;
  if (kind != TrapKind::None) store.frame_depth = depth - 1;
  return kind;
}

// On-stack replacement: runs `loop` (from report_hot) on the frame on top,
// which is at the header of that loop; its results end the frame as a
// return would. Same trap contract as run_native_frame.
[[gnu::noinline]] TrapKind run_loop_natively(rt::Store& store, Slot* fp, const rt::LoopEntry& loop,
                                             rt::Trap* trap) {
  const uint32_t depth = store.frame_depth;
  rt::FuncInst* func = store.frames[depth - 1].func;
  // The function as the executor sees it: the same instance, the loop's code.
  rt::FuncInst variant;
  variant.type_id = func->type_id;
  variant.type = func->type;
  variant.instance = func->instance;
  variant.func_index = func->func_index;
  variant.compiled = const_cast<rt::CompiledFunc*>(loop.code);
  if (loop.selector_slot != rt::LoopEntry::kNoSelector)
    fp[loop.selector_slot] = loop.selector;  // a free slot of the frame: loop_is_hot checked
  // The machine code charges a function entry that no call spent.
  if (store.check_interrupts && store.fuel_enabled) ++store.fuel;
  Slot* const saved_top = store.stack_top;
  store.stack_top = fp + func->compiled->frame_slots;
  std::optional<rt::Trap> unused;
  rt::Trap* out = trap != nullptr ? trap : &unused.emplace();
  TrapKind kind = func->instance->compiled->native_executor(store, &variant, fp, out);
  store.stack_top = saved_top;
  // The machine code's outermost frame stands for this one (its backtrace
  // names it as this function: llvmjit::install's loop_variants).
  if (kind != TrapKind::None) store.frame_depth = depth - 1;
  return kind;
}

// Calls a host function with its arguments at `args`. A nested call into
// wasm starts at store.stack_top, which must lie above both the caller's
// frame and the host's own argument/result slots.
[[gnu::noinline]] TrapKind call_host(rt::Store& store, rt::FuncInst* callee, rt::Instance* caller_instance,
                                     Slot* args, Slot* caller_frame_end, rt::Trap* trap) {
  Slot* const saved_top = store.stack_top;
  Slot* args_end = args + std::max(slots_of(callee->type->params), slots_of(callee->type->results));
  store.stack_top = std::max(caller_frame_end, args_end);
  std::optional<rt::Trap> result;
  {
    rt::HostCallScope scope;
    rt::Caller caller{&store, caller_instance};
    result = callee->host(caller, args);
  }
  store.stack_top = saved_top;
  if (!result) return TrapKind::None;
  TrapKind kind = result->kind == TrapKind::None ? TrapKind::Host : result->kind;
  if (trap != nullptr) {
    *trap = std::move(*result);
    trap->kind = kind;
  }
  return kind;
}

// Fills `trap` and unwinds the frames this execute() pushed. A host trap
// already carries its message (and maybe the inner frames of a nested
// call); the frames of this activation are appended as outer ones.
[[gnu::noinline, gnu::cold]] void finish_trap(rt::Store& store, uint32_t entry_depth, Slot* saved_top,
                                              rt::Trap* trap, TrapKind kind, bool from_host) {
  if (trap != nullptr) {
    std::vector<BacktraceFrame> frames = rt::build_backtrace(store, entry_depth);
    if (from_host) {
      trap->backtrace.insert(trap->backtrace.end(), std::make_move_iterator(frames.begin()),
                             std::make_move_iterator(frames.end()));
    } else {
      trap->kind = kind;
      trap->message = trap_message(kind);
      trap->backtrace = std::move(frames);
    }
  }
  store.frame_depth = entry_depth;
  store.stack_top = saved_top;
}

// ---- the loop ------------------------------------------------------------------

#define SKIFF_HANDLER_ADDR_Special(name) &&L_invalid
#define SKIFF_HANDLER_ADDR_Pure(name) &&L_##name
#define SKIFF_HANDLER_ADDR_Trap(name) &&L_##name
#define SKIFF_HANDLER_ADDR_Load(name) &&L_##name
#define SKIFF_HANDLER_ADDR_Store(name) &&L_##name

#define NEXT() goto* reinterpret_cast<void*>(*pc)

#define SKIFF_HANDLER_Special(name, imm)
#define SKIFF_HANDLER_Pure(name, imm)          \
  L_##name : {                                 \
    using Op = PureOp<&ops::name, Imm::imm>;   \
    Op::run(pc, fp);                           \
    pc += Op::kWords;                          \
    NEXT();                                    \
  }
#define SKIFF_HANDLER_Trap(name, imm)          \
  L_##name : {                                 \
    using Op = TrapOp<&ops::name>;             \
    TrapKind k = Op::run(pc, fp);              \
    if (k != TrapKind::None) [[unlikely]] {    \
      kind = k;                                \
      goto on_trap;                               \
    }                                          \
    pc += Op::kWords;                          \
    NEXT();                                    \
  }
#define SKIFF_HANDLER_Load(name, imm)          \
  L_##name : {                                 \
    using Op = LoadOp<&ops::name>;             \
    Op::run(pc, fp, mem);                      \
    pc += Op::kWords;                          \
    NEXT();                                    \
  }
#define SKIFF_HANDLER_Store(name, imm)         \
  L_##name : {                                 \
    using Op = StoreOp<&ops::name>;            \
    Op::run(pc, fp, mem);                      \
    pc += Op::kWords;                          \
    NEXT();                                    \
  }

// Takes a branch. Loop back-edges are exactly the non-positive offsets; they
// cost one unit of fuel and check the epoch when the store asks for it.
#define JUMP(offset_word)                                          \
  do {                                                             \
    const int64_t jump_offset_ = static_cast<int64_t>(offset_word); \
    pc += jump_offset_;                                            \
    if (checking) [[unlikely]] {                                   \
      if (jump_offset_ <= 0) goto check_interrupts;                \
    }                                                              \
    NEXT();                                                        \
  } while (0)

#define TRAP(k)  \
  do {           \
    kind = (k);  \
    goto on_trap;   \
  } while (0)

// With `table_out` set, only reports the handler addresses (labels are local
// to this function, so the table has to come from here).
[[gnu::noinline, gnu::noclone]] TrapKind run(rt::Store* store_ptr, rt::FuncInst* func, Slot* slots, rt::Trap* trap,
                                             const void* const** table_out) {
  static const void* const kHandlers[] = {
#define SKIFF_OP(name, text, prefix, code, imm, cls, sig, arg) SKIFF_HANDLER_ADDR_##cls(name),
#include "wasm/opcodes.def"
#define SKIFF_IOP(name, operands) &&L_##name##_,
#include "interp/internal_ops.def"
      // TierUpOp, in order, after the IOps (see tier_up_handler()).
      &&L_HotCount, &&L_HotCountEntry, &&L_EnterNative,
  };
  static_assert(std::size(kHandlers) == kIOpCount + std::size(kTierUpOpWords));
  if (table_out != nullptr) {
    *table_out = kHandlers;
    return TrapKind::None;
  }

  rt::Store& store = *store_ptr;
  const uint32_t entry_depth = store.frame_depth;
  // Whether fuel or an epoch deadline applies; cached so the checks cost a
  // test of one register when they are off. Re-read after host calls.
  bool checking = store.check_interrupts;
  Slot* const saved_top = store.stack_top;
  TrapKind kind = TrapKind::None;
  bool from_host = false;

  // State of the current frame.
  const uint64_t* pc = nullptr;
  Slot* fp = slots;
  rt::Instance* inst = nullptr;
  uint8_t* mem = nullptr;
  // Operands of the call in progress (shared by Call and CallIndirect).
  rt::FuncInst* callee = func;
  Slot* new_fp = slots;
  const uint64_t* return_pc = nullptr;

  if (func->kind == rt::FuncInst::Kind::Host) {
    kind = call_host(store, func, nullptr, slots, slots, trap);
    if (kind != TrapKind::None) {
      from_host = true;
      goto on_trap;
    }
    return TrapKind::None;
  }
  goto call_wasm;

// A call: `callee` with arguments at `new_fp`; returns to `return_pc` in
// the current frame (null for the entry frame).
call_wasm: {
  rt::CompiledFunc* cf = callee->compiled;
  const uint64_t* code = cf->code.load(std::memory_order_acquire);
  if (code == nullptr) [[unlikely]] {
    code = lower_on_first_call(callee);
    if (code == nullptr) TRAP(TrapKind::Unreachable);
  }
  if (new_fp + cf->frame_slots > store.value_stack_end || store.frame_depth >= store.max_call_depth) [[unlikely]]
    TRAP(TrapKind::StackExhausted);
  for (Slot* p = new_fp + cf->param_slots, *end = new_fp + cf->local_slots; p < end; ++p) *p = 0;
  store.frames[store.frame_depth++] = rt::CallFrame{return_pc, fp, inst, callee};
  fp = new_fp;
  pc = code;
  if (callee->instance != inst) {
    inst = callee->instance;
    mem = inst->mem0_base();
  }
  if (checking) [[unlikely]]
    goto check_interrupts;
  NEXT();
}

// One unit of fuel per function entry and loop iteration, then the epoch.
// Runs after the frame is set up (or the back-edge taken), so a trap here
// has the interrupted function in its backtrace; pc is where to go on.
check_interrupts: {
  if (store.fuel_enabled && --store.fuel < 0) [[unlikely]]
    TRAP(TrapKind::OutOfFuel);
  if (store.epoch != nullptr && store.epoch->load(std::memory_order_relaxed) >= store.epoch_deadline) [[unlikely]]
    TRAP(TrapKind::Interrupted);
  NEXT();
}

call_host_func: {
  Slot* frame_end = fp + store.frames[store.frame_depth - 1].func->compiled->frame_slots;
  TrapKind k = call_host(store, callee, inst, new_fp, frame_end, trap);
  if (k != TrapKind::None) [[unlikely]] {
    from_host = true;
    TRAP(k);
  }
  checking = store.check_interrupts;  // the host may have set fuel or a deadline
  pc = return_pc;
  NEXT();
}

// ---- generated: wasm opcodes of class Pure/Trap/Load/Store ----
#define SKIFF_OP(name, text, prefix, code, imm, cls, sig, arg) SKIFF_HANDLER_##cls(name, imm)
#include "wasm/opcodes.def"

// ---- moves and constants ----
L_Copy64_: {
  wr<uint64_t>(fp, pc[1], rd<uint64_t>(fp, pc[2]));
  pc += 3;
  NEXT();
}
L_Copy128_: {
  wr<V128>(fp, pc[1], rd<V128>(fp, pc[2]));
  pc += 3;
  NEXT();
}
L_Const64_: {
  wr<uint64_t>(fp, pc[1], pc[2]);
  pc += 3;
  NEXT();
}
L_Const128_: {
  wr<uint64_t>(fp, pc[1], pc[2]);
  wr<uint64_t>(fp, pc[1] + 8, pc[3]);
  pc += 4;
  NEXT();
}

// ---- branches ----
L_Br_: JUMP(pc[1]);
L_BrIf_: {
  if (rd<uint32_t>(fp, pc[1]) != 0) JUMP(pc[2]);
  pc += 3;
  NEXT();
}
L_BrUnless_: {
  if (rd<uint32_t>(fp, pc[1]) == 0) JUMP(pc[2]);
  pc += 3;
  NEXT();
}
L_BrTable_: {
  uint64_t index = rd<uint32_t>(fp, pc[1]);
  uint64_t count = pc[2];
  if (index > count) index = count;  // out of range: the default, stored last
  JUMP(pc[3 + index]);
}

// ---- calls ----
L_Call_: {
  callee = inst->funcs[pc[1]];
  new_fp = slot_ptr(fp, pc[2]);
  return_pc = pc + 3;
  if (callee->kind == rt::FuncInst::Kind::Host) [[unlikely]]
    goto call_host_func;
  goto call_wasm;
}
L_CallIndirect_: {
  const rt::TableInst* table = inst->tables[pc[2]];
  uint32_t index = rd<uint32_t>(fp, pc[3]);
  if (index >= table->elems.size()) [[unlikely]]
    TRAP(TrapKind::UndefinedElement);
  callee = reinterpret_cast<rt::FuncInst*>(table->elems[index]);
  if (callee == nullptr) [[unlikely]]
    TRAP(TrapKind::UninitializedElement);
  if (callee->type_id != inst->compiled->type_ids[pc[1]]) [[unlikely]]
    TRAP(TrapKind::IndirectCallMismatch);
  new_fp = slot_ptr(fp, pc[4]);
  return_pc = pc + 5;
  if (callee->kind == rt::FuncInst::Kind::Host) [[unlikely]]
    goto call_host_func;
  goto call_wasm;
}
L_Return_: {
  const rt::CallFrame& frame = store.frames[--store.frame_depth];
  if (store.frame_depth == entry_depth) [[unlikely]] {
    store.stack_top = saved_top;
    return TrapKind::None;
  }
  pc = frame.return_pc;
  fp = frame.caller_fp;
  if (frame.caller_instance != inst) {
    inst = frame.caller_instance;
    mem = inst->mem0_base();
  }
  NEXT();
}
L_Unreachable_: TRAP(TrapKind::Unreachable);

// ---- select ----
L_Select64_: {
  uint64_t off = rd<uint32_t>(fp, pc[4]) != 0 ? pc[2] : pc[3];
  wr<uint64_t>(fp, pc[1], rd<uint64_t>(fp, off));
  pc += 5;
  NEXT();
}
L_Select128_: {
  uint64_t off = rd<uint32_t>(fp, pc[4]) != 0 ? pc[2] : pc[3];
  wr<V128>(fp, pc[1], rd<V128>(fp, off));
  pc += 5;
  NEXT();
}

// ---- globals ----
L_GlobalGet64_: {
  wr<uint64_t>(fp, pc[1], inst->globals[pc[2]]->value[0]);
  pc += 3;
  NEXT();
}
L_GlobalGet128_: {
  std::memcpy(slot_ptr(fp, pc[1]), inst->globals[pc[2]]->value, 16);
  pc += 3;
  NEXT();
}
L_GlobalSet64_: {
  inst->globals[pc[2]]->value[0] = rd<uint64_t>(fp, pc[1]);
  pc += 3;
  NEXT();
}
L_GlobalSet128_: {
  std::memcpy(inst->globals[pc[2]]->value, slot_ptr(fp, pc[1]), 16);
  pc += 3;
  NEXT();
}

// ---- tables ----
L_TableGet_: {
  const rt::TableInst* table = inst->tables[pc[3]];
  uint32_t index = rd<uint32_t>(fp, pc[2]);
  if (index >= table->elems.size()) [[unlikely]]
    TRAP(TrapKind::TableOutOfBounds);
  wr<uint64_t>(fp, pc[1], table->elems[index]);
  pc += 4;
  NEXT();
}
L_TableSet_: {
  rt::TableInst* table = inst->tables[pc[3]];
  uint32_t index = rd<uint32_t>(fp, pc[1]);
  if (index >= table->elems.size()) [[unlikely]]
    TRAP(TrapKind::TableOutOfBounds);
  table->elems[index] = rd<uint64_t>(fp, pc[2]);
  pc += 4;
  NEXT();
}
L_TableSize_: {
  wr<uint32_t>(fp, pc[1], static_cast<uint32_t>(inst->tables[pc[2]]->elems.size()));
  pc += 3;
  NEXT();
}
L_TableGrow_: {
  int64_t old = inst->tables[pc[4]]->grow(rd<uint32_t>(fp, pc[3]), rd<uint64_t>(fp, pc[2]));
  wr<uint32_t>(fp, pc[1], static_cast<uint32_t>(old));  // -1 → 0xffffffff
  pc += 5;
  NEXT();
}
L_TableFill_: {
  rt::TableInst* table = inst->tables[pc[4]];
  uint64_t index = rd<uint32_t>(fp, pc[1]);
  uint64_t count = rd<uint32_t>(fp, pc[3]);
  if (index + count > table->elems.size()) [[unlikely]]
    TRAP(TrapKind::TableOutOfBounds);
  std::fill_n(table->elems.begin() + index, count, rd<uint64_t>(fp, pc[2]));
  pc += 5;
  NEXT();
}
L_TableCopy_: {
  rt::TableInst* dst_table = inst->tables[pc[4]];
  const rt::TableInst* src_table = inst->tables[pc[5]];
  uint64_t dst = rd<uint32_t>(fp, pc[1]);
  uint64_t src = rd<uint32_t>(fp, pc[2]);
  uint64_t count = rd<uint32_t>(fp, pc[3]);
  if (src + count > src_table->elems.size() || dst + count > dst_table->elems.size()) [[unlikely]]
    TRAP(TrapKind::TableOutOfBounds);
  if (count != 0) std::memmove(dst_table->elems.data() + dst, src_table->elems.data() + src, count * sizeof(rt::Ref));
  pc += 6;
  NEXT();
}
L_TableInit_: {
  rt::TableInst* table = inst->tables[pc[5]];
  const std::vector<rt::Ref>& segment = inst->elem_segments[pc[4]];
  uint64_t dst = rd<uint32_t>(fp, pc[1]);
  uint64_t src = rd<uint32_t>(fp, pc[2]);
  uint64_t count = rd<uint32_t>(fp, pc[3]);
  if (src + count > segment.size() || dst + count > table->elems.size()) [[unlikely]]
    TRAP(TrapKind::TableOutOfBounds);
  if (count != 0) std::memcpy(table->elems.data() + dst, segment.data() + src, count * sizeof(rt::Ref));
  pc += 6;
  NEXT();
}
L_ElemDrop_: {
  inst->elem_segments[pc[1]].clear();
  pc += 2;
  NEXT();
}

// ---- memory ----
L_MemorySize_: {
  wr<uint32_t>(fp, pc[1], static_cast<uint32_t>(inst->memories[0]->pages()));
  pc += 2;
  NEXT();
}
L_MemoryGrow_: {
  rt::MemoryInst* memory = inst->memories[0];
  const uint32_t delta = rd<uint32_t>(fp, pc[2]);
  int64_t old = memory->grow(delta);
  if (old < 0 && rt::grow_failure_traps(*memory, delta)) TRAP(TrapKind::MemoryLimit);
  wr<uint32_t>(fp, pc[1], static_cast<uint32_t>(old));  // -1 → 0xffffffff
  mem = memory->base;  // never moves; reloaded for clarity only
  pc += 3;
  NEXT();
}
L_MemoryFill_: {
  uint64_t dst = rd<uint32_t>(fp, pc[1]);
  uint64_t count = rd<uint32_t>(fp, pc[3]);
  if (dst + count > inst->memories[0]->size) [[unlikely]]
    TRAP(TrapKind::MemoryOutOfBounds);
  std::memset(mem + dst, static_cast<uint8_t>(rd<uint32_t>(fp, pc[2])), count);
  pc += 4;
  NEXT();
}
L_MemoryCopy_: {
  uint64_t dst = rd<uint32_t>(fp, pc[1]);
  uint64_t src = rd<uint32_t>(fp, pc[2]);
  uint64_t count = rd<uint32_t>(fp, pc[3]);
  uint64_t size = inst->memories[0]->size;
  if (src + count > size || dst + count > size) [[unlikely]]
    TRAP(TrapKind::MemoryOutOfBounds);
  std::memmove(mem + dst, mem + src, count);
  pc += 4;
  NEXT();
}
L_MemoryInit_: {
  const uint64_t data_index = pc[4];
  const wasm::DataSegment& segment = inst->module->datas[data_index];
  uint64_t segment_size = inst->data_dropped[data_index] ? 0 : segment.data_size;
  uint64_t dst = rd<uint32_t>(fp, pc[1]);
  uint64_t src = rd<uint32_t>(fp, pc[2]);
  uint64_t count = rd<uint32_t>(fp, pc[3]);
  if (src + count > segment_size || dst + count > inst->memories[0]->size) [[unlikely]]
    TRAP(TrapKind::MemoryOutOfBounds);
  if (count != 0) std::memcpy(mem + dst, inst->module->bytes.data() + segment.data_offset + src, count);
  pc += 5;
  NEXT();
}
L_DataDrop_: {
  inst->data_dropped[pc[1]] = true;
  pc += 2;
  NEXT();
}

// ---- references ----
L_RefNull_: {
  wr<uint64_t>(fp, pc[1], 0);
  pc += 2;
  NEXT();
}
L_RefIsNull_: {
  wr<uint32_t>(fp, pc[1], rd<uint64_t>(fp, pc[2]) == 0 ? 1u : 0u);
  pc += 3;
  NEXT();
}
L_RefFunc_: {
  wr<uint64_t>(fp, pc[1], reinterpret_cast<uint64_t>(inst->funcs[pc[2]]));
  pc += 3;
  NEXT();
}

// ---- superinstructions ----
#define SKIFF_IMM_HANDLER(name)             \
  L_##name##Imm_ : {                        \
    using Op = ImmBinOp<&ops::name>;        \
    Op::run(pc, fp);                        \
    pc += Op::kWords;                       \
    NEXT();                                 \
  }
SKIFF_IMM_BINOPS(SKIFF_IMM_HANDLER)
#undef SKIFF_IMM_HANDLER
#define SKIFF_BRANCH_HANDLERS(name)                                     \
  L_BrIf##name##_ : {                                                   \
    if (CompareOp<&ops::name>::slots(pc, fp)) JUMP(pc[3]);              \
    pc += 4;                                                            \
    NEXT();                                                             \
  }                                                                     \
  L_BrUnless##name##_ : {                                               \
    if (!CompareOp<&ops::name>::slots(pc, fp)) JUMP(pc[3]);             \
    pc += 4;                                                            \
    NEXT();                                                             \
  }                                                                     \
  L_BrIf##name##Imm_ : {                                                \
    if (CompareOp<&ops::name>::imm(pc, fp)) JUMP(pc[3]);                \
    pc += 4;                                                            \
    NEXT();                                                             \
  }                                                                     \
  L_BrUnless##name##Imm_ : {                                            \
    if (!CompareOp<&ops::name>::imm(pc, fp)) JUMP(pc[3]);               \
    pc += 4;                                                            \
    NEXT();                                                             \
  }
SKIFF_FUSED_COMPARES(SKIFF_BRANCH_HANDLERS)
#undef SKIFF_BRANCH_HANDLERS
#define SKIFF_ADDIMM_LOAD_HANDLER(name)     \
  L_##name##AddImm_ : {                     \
    using Op = AddImmLoadOp<&ops::name>;    \
    Op::run(pc, fp, mem);                   \
    pc += Op::kWords;                       \
    NEXT();                                 \
  }
SKIFF_ADDIMM_LOADS(SKIFF_ADDIMM_LOAD_HANDLER)
#undef SKIFF_ADDIMM_LOAD_HANDLER
#define SKIFF_LOAD_OPERAND_HANDLER(name)    \
  L_##name##Load_ : {                       \
    using Op = LoadOperandOp<&ops::name>;   \
    Op::run(pc, fp, mem);                   \
    pc += Op::kWords;                       \
    NEXT();                                 \
  }
SKIFF_LOAD_OPERAND_BINOPS(SKIFF_LOAD_OPERAND_HANDLER)
#undef SKIFF_LOAD_OPERAND_HANDLER

#define SKIFF_COUNTER_BRANCH_HANDLERS(name)                                            \
  L_CountBrIf##name##_ : {                                                             \
    wr<uint32_t>(fp, pc[1], rd<uint32_t>(fp, pc[2]) + static_cast<uint32_t>(pc[3]));  \
    if (CompareOp<&ops::name>::slots(pc + 3, fp)) JUMP(pc[6]);                         \
    pc += 7;                                                                           \
    NEXT();                                                                            \
  }                                                                                    \
  L_CountBrUnless##name##_ : {                                                         \
    wr<uint32_t>(fp, pc[1], rd<uint32_t>(fp, pc[2]) + static_cast<uint32_t>(pc[3]));  \
    if (!CompareOp<&ops::name>::slots(pc + 3, fp)) JUMP(pc[6]);                        \
    pc += 7;                                                                           \
    NEXT();                                                                            \
  }                                                                                    \
  L_CountBrIf##name##Imm_ : {                                                          \
    wr<uint32_t>(fp, pc[1], rd<uint32_t>(fp, pc[2]) + static_cast<uint32_t>(pc[3]));  \
    if (CompareOp<&ops::name>::imm(pc + 3, fp)) JUMP(pc[6]);                           \
    pc += 7;                                                                           \
    NEXT();                                                                            \
  }                                                                                    \
  L_CountBrUnless##name##Imm_ : {                                                      \
    wr<uint32_t>(fp, pc[1], rd<uint32_t>(fp, pc[2]) + static_cast<uint32_t>(pc[3]));  \
    if (!CompareOp<&ops::name>::imm(pc + 3, fp)) JUMP(pc[6]);                          \
    pc += 7;                                                                           \
    NEXT();                                                                            \
  }
SKIFF_COUNTER_COMPARES(SKIFF_COUNTER_BRANCH_HANDLERS)
#undef SKIFF_COUNTER_BRANCH_HANDLERS
#define SKIFF_SUM_LOADS_HANDLER(name)                        \
  L_##name##SumLoads_ : {                                    \
    pc += SumLoadsOp<&ops::name>::run(pc, fp, mem);          \
    NEXT();                                                  \
  }
SKIFF_SUM_LOADS(SKIFF_SUM_LOADS_HANDLER)
#undef SKIFF_SUM_LOADS_HANDLER
#define SKIFF_SUM_LOADS_INDEXED_HANDLER(name)                \
  L_##name##SumLoadsIndexed_ : {                             \
    pc += SumLoadsOp<&ops::name>::run_indexed(pc, fp, mem);  \
    NEXT();                                                  \
  }
SKIFF_SUM_LOADS(SKIFF_SUM_LOADS_INDEXED_HANDLER)
#undef SKIFF_SUM_LOADS_INDEXED_HANDLER
#define SKIFF_UPDATE_HANDLER(name)          \
  L_##name##Update_ : {                     \
    using Op = UpdateOp<&ops::name>;        \
    Op::run(pc, fp, mem);                   \
    pc += Op::kWords;                       \
    NEXT();                                 \
  }
SKIFF_UPDATE_BINOPS(SKIFF_UPDATE_HANDLER)
#undef SKIFF_UPDATE_HANDLER
#define SKIFF_IMM_STORE_HANDLER(name)       \
  L_##name##ImmStore_ : {                   \
    using Op = ImmStoreOp<&ops::name>;      \
    Op::run(pc, fp, mem);                   \
    pc += Op::kWords;                       \
    NEXT();                                 \
  }
SKIFF_IMM_STORE_BINOPS(SKIFF_IMM_STORE_HANDLER)
#undef SKIFF_IMM_STORE_HANDLER
#define SKIFF_IMM_STORE_INDEXED_HANDLER(name)  \
  L_##name##ImmStoreIndexed_ : {               \
    using Op = ImmStoreIndexedOp<&ops::name>;  \
    Op::run(pc, fp, mem);                      \
    pc += Op::kWords;                          \
    NEXT();                                    \
  }
SKIFF_IMM_STORE_BINOPS(SKIFF_IMM_STORE_INDEXED_HANDLER)
#undef SKIFF_IMM_STORE_INDEXED_HANDLER

// ---- tier-up (only in code of modules that tier up) ----
L_HotCountEntry: {
  auto* called = reinterpret_cast<rt::CompiledFunc*>(pc[1]);
  called->entries.store(called->entries.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  goto L_HotCount;  // then counts as the loops' HotCount does
}
L_HotCount: {
  auto* counted = reinterpret_cast<rt::CompiledFunc*>(pc[1]);
  // The weight may change under us (set_loop_header_weights).
  const auto weight = std::atomic_ref<uint64_t>(const_cast<uint64_t&>(pc[2])).load(std::memory_order_relaxed);
  const int32_t left = counted->hotness_countdown.load(std::memory_order_relaxed) - static_cast<int32_t>(weight);
  counted->hotness_countdown.store(left, std::memory_order_relaxed);
  if (left <= 0) [[unlikely]] {
    if (const rt::LoopEntry loop = report_hot(store, *inst, counted, pc[3]); loop.code != nullptr) {
      TrapKind k = run_loop_natively(store, fp, loop, trap);
      if (k != TrapKind::None) [[unlikely]] {
        from_host = true;  // the trap is filled: append this activation's frames
        TRAP(k);
      }
      checking = store.check_interrupts;
      goto L_Return_;
    }
  }
  pc += 4;
  NEXT();
}
L_EnterNative: {
  if (!rt::machine_code_serves(store, *inst->compiled)) [[unlikely]] {
    // The machine code lacks the fuel/deadline checks this store needs:
    // run the tier-0 code, which
    // use_native_code kept, in the frame call_wasm set up for it.
    pc = store.frames[store.frame_depth - 1].func->compiled->storage.data();
    NEXT();
  }
  TrapKind k = run_native_frame(store, fp, checking, trap);
  if (k != TrapKind::None) [[unlikely]] {
    from_host = true;  // the trap is filled: append this activation's frames
    TRAP(k);
  }
  checking = store.check_interrupts;  // a host function may have set fuel or a deadline
  goto L_Return_;
}

// A wasm opcode of class Special never reaches the code stream; treat one
// as a broken invariant rather than running off into garbage.
L_invalid:
  TRAP(TrapKind::Unreachable);

on_trap:
  finish_trap(store, entry_depth, saved_top, trap, kind, from_host);
  return kind;
}

#undef TRAP
#undef JUMP
#undef NEXT

// ---- instruction lengths and names, for disassemblers -----------------------------

struct OpDesc {
  const char* name;
  size_t words;          // wasm-numbered ops: fixed length, handler included
  const char* operands;  // internal ops: internal_ops.def's operand list
};
#define SKIFF_DESC_Special(name, text, imm) {text, 1, nullptr},
#define SKIFF_DESC_Pure(name, text, imm) {text, PureOp<&ops::name, Imm::imm>::kWords, nullptr},
#define SKIFF_DESC_Trap(name, text, imm) {text, TrapOp<&ops::name>::kWords, nullptr},
#define SKIFF_DESC_Load(name, text, imm) {text, LoadOp<&ops::name>::kWords, nullptr},
#define SKIFF_DESC_Store(name, text, imm) {text, StoreOp<&ops::name>::kWords, nullptr},
const OpDesc kOpDescs[] = {
#define SKIFF_OP(name, text, prefix, code, imm, cls, sig, arg) SKIFF_DESC_##cls(name, text, imm)
#include "wasm/opcodes.def"
#define SKIFF_IOP(name, operands) {#name, 0, operands},
#include "interp/internal_ops.def"
};
static_assert(std::size(kOpDescs) == kIOpCount);

}  // namespace

size_t instruction_words(IOp op, const uint64_t* instr) {
  const OpDesc& d = kOpDescs[static_cast<size_t>(op)];
  if (d.operands == nullptr) return d.words;
  // Operand lists are words separated by spaces; `x*count`, `x*(count+1)`
  // and `(x y)*count` repeat x (or the group) by the `count` operand's value.
  std::string_view rest = d.operands;
  size_t words = 1;
  uint64_t count = 0;
  while (!rest.empty()) {
    if (rest.front() == ' ') {
      rest.remove_prefix(1);
      continue;
    }
    size_t group = 1;
    size_t end;
    if (rest.front() == '(') {
      size_t close = rest.find(')');
      std::string_view inner = rest.substr(1, close - 1);
      group = static_cast<size_t>(std::count(inner.begin(), inner.end(), ' ')) + 1;
      end = rest.find(' ', close);
    } else {
      end = rest.find(' ');
    }
    std::string_view token = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    size_t star = token.find('*');
    if (star == std::string_view::npos) {
      if (token == "count") count = instr[words];
      words += 1;
    } else {
      words += group * (count + (token.substr(star + 1) == "(count+1)" ? 1 : 0));
    }
  }
  return words;
}

const char* iop_name(IOp op) { return kOpDescs[static_cast<size_t>(op)].name; }

IOp iop_of_handler(uint64_t word) {
  static const std::unordered_map<uint64_t, IOp> by_handler = [] {
    std::unordered_map<uint64_t, IOp> m;
    const void* const* table = handler_table();
    for (size_t i = kIOpCount; i-- > 0;) {  // Special wasm ops share L_invalid; they never appear
      if (kOpDescs[i].operands == nullptr && kOpDescs[i].words == 1) continue;
      m[reinterpret_cast<uint64_t>(table[i])] = static_cast<IOp>(i);
    }
    return m;
  }();
  auto it = by_handler.find(word);
  return it == by_handler.end() ? IOp::Count : it->second;
}

const void* const* handler_table() {
  static const void* const* const table = [] {
    const void* const* t = nullptr;
    run(nullptr, nullptr, nullptr, nullptr, &t);
    return t;
  }();
  return table;
}

TrapKind execute(rt::Store& store, rt::FuncInst* func, rt::Slot* slots, rt::Trap* trap) {
  return run(&store, func, slots, trap, nullptr);
}

uint64_t tier_up_handler(TierUpOp op) {
  return reinterpret_cast<uint64_t>(handler_table()[kIOpCount + static_cast<size_t>(op)]);
}

void use_native_code(const rt::CompiledModule& module, uint32_t defined_index) {
  rt::CompiledFunc& f = module.funcs[defined_index];
  if (f.native_entry.load(std::memory_order_acquire) == nullptr || module.native_executor == nullptr) return;
  static const uint64_t stub = tier_up_handler(TierUpOp::EnterNative);
  // Under the lowering lock, so a concurrent first call cannot publish its
  // tier-0 code over the stub. The tier-0 code stays in f.storage (frames
  // may still run it) and is lowered now if it never was: EnterNative falls
  // back to it for stores the machine code cannot serve, and its frame
  // layout is the tier-0 one.
  std::lock_guard<std::mutex> lock(f.lower_mutex);
  if (f.code.load(std::memory_order_relaxed) == nullptr &&
      !lower_function(*module.module, defined_index, f, module.tier_up != nullptr).ok())
    return;  // only for a module that should not have validated: keep interpreting it
  f.code.store(&stub, std::memory_order_release);
}

std::optional<LoopWeights> set_loop_header_weights(const rt::CompiledModule& module, uint32_t defined_index,
                                                   const LoopWeights& weights) {
  rt::CompiledFunc& f = module.funcs[defined_index];
  std::lock_guard<std::mutex> lock(f.lower_mutex);
  std::vector<uint64_t>& words = f.storage;
  if (words.empty()) return std::nullopt;
  const uint64_t hot_count = tier_up_handler(TierUpOp::HotCount);
  const uint64_t hot_count_entry = tier_up_handler(TierUpOp::HotCountEntry);
  LoopWeights previous;
  for (size_t pc = 0; pc < words.size();) {
    if (words[pc] == hot_count || words[pc] == hot_count_entry) {
      auto found = std::find_if(weights.begin(), weights.end(), [&](const auto& w) { return w.first == words[pc + 3]; });
      if (words[pc] == hot_count && found != weights.end()) {
        std::atomic_ref<uint64_t> weight(words[pc + 2]);
        previous.emplace_back(found->first, weight.load(std::memory_order_relaxed));
        weight.store(found->second, std::memory_order_relaxed);
      }
      pc += kTierUpOpWords[static_cast<size_t>(TierUpOp::HotCount)];
      continue;
    }
    const IOp op = iop_of_handler(words[pc]);
    if (op == IOp::Count) return std::nullopt;  // not tier-0 code
    pc += instruction_words(op, &words[pc]);
  }
  return previous;
}

}  // namespace skiff::interp

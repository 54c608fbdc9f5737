// Tier::Auto's background compiler: see tierup.h.
#include "llvm/tierup.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

#include "base/reader.h"
#include "baseline/baseline.h"
#include "interp/interp.h"
#include "llvm/jit.h"
#include "wasm/body_decoder.h"

namespace skiff::llvmjit {

namespace {

std::atomic<uint64_t> g_batches{0};
std::atomic<uint64_t> g_functions{0};
std::atomic<uint64_t> g_failed_functions{0};
std::atomic<uint64_t> g_loops{0};
std::atomic<uint64_t> g_loops_entered{0};
std::atomic<uint64_t> g_unversioned{0};
std::atomic<uint64_t> g_cached_functions{0};
std::atomic<uint64_t> g_cached_loops{0};
std::atomic<uint64_t> g_tier1_functions{0};
std::atomic<uint64_t> g_tier1_loops_entered{0};

// $SKIFF_TIERUP_LOG's lines, stamped with the time since the library was
// loaded (about the process's start), to read a run's timeline.
const std::chrono::steady_clock::time_point g_loaded = std::chrono::steady_clock::now();
[[gnu::format(printf, 1, 2)]] void log_line(const char* format, ...) {
  char message[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - g_loaded).count();
  std::fprintf(stderr, "skiff: tier-up: [%6.1f ms] %s", ms, message);
}

// ---- on-stack replacement: a function's code from its loop headers ---------------
//
// The interpreter can hand over a frame that sits at the header of a hot
// loop: its locals and operand stack are then all in their home slots, in
// order. The loop's machine code is a function that takes exactly those as
// parameters (so the frame's slots are its argument buffer), plus an i32
// selector naming the loop, and returns the original function's results.
//
// For a function called once (a `main`), such a variant serves more loops
// than the one that turned hot: the loops around it and the later ones
// (add_loop_variant says which), so that a frame that left that loop while
// LLVM worked (a phase of the program ended) moves in at the next of those
// headers it passes. Only loops whose headers have an empty operand stack
// (the loops a C compiler emits) share a variant; any other loop gets one
// of its own.
//
// The variant's body is the original body, rewritten so that control
// reaches the selected loop from the function's entry: in each block on
// the way, the code before the next block on the way is wrapped in an `if`
// on the selector that skips it, leaving instead the values it would have
// left on the stack (from the parameters, or an `if`'s condition that picks
// the arm on the way). The wrappers of one block nest: the code before its
// k-th block on the way is skipped when the selector names a loop in that
// block or a later one (selectors number the loops in code order, from 1).
// Entering the selected loop sets the selector to 0, so outer loops run
// all their code normally after that.
//
// The function is appended to a copy of the module, which the compiler
// takes like any module; calls to the original functions keep their
// indices and go through the runtime, as calls from outside a batch do.

using Bytes = std::vector<uint8_t>;

void put_uleb(Bytes& out, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(v != 0 ? b | 0x80 : b);
  } while (v != 0);
}

void put_sleb(Bytes& out, int64_t v) {
  for (;;) {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if ((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40))) {
      out.push_back(b);
      return;
    }
    out.push_back(b | 0x80);
  }
}

// The control frames from the function to a loop, and the operand stack at
// the loop's header, as the validation algorithm sees them.
struct PathFrame {
  wasm::BlockKind kind = wasm::BlockKind::Function;
  uint64_t offset = 0;   // of the block instruction (an `if`'s for its else arm too)
  uint32_t height = 0;   // stack entries below its params
  std::vector<ValType> params;
};
struct LoopHeader {
  uint64_t offset = 0;
  std::vector<ValType> stack;   // bottom first; the loop's params on top
  std::vector<PathFrame> path;  // the function first, the loop last
};
struct FunctionLoops {
  std::vector<ValType> locals;     // params, then declared locals
  std::vector<LoopHeader> loops;   // every reachable loop, in code order
};

class LoopProbe : public wasm::NoHooks {
 public:
  struct ValueData {};
  struct ControlData {};
  using S = wasm::StateOf<LoopProbe>;
  using V = S::Value;
  using C = S::Control;

  explicit LoopProbe(FunctionLoops& out) : out_(out) {}

  void block(S& s, C& c) {
    if (c.kind != wasm::BlockKind::Loop) return;
    LoopHeader& loop = out_.loops.emplace_back();
    loop.offset = c.offset;
    for (const V& v : s.stack) loop.stack.push_back(v.type);
    for (const C& frame : s.controls) {
      auto params = frame.sig.param_types();
      loop.path.push_back({frame.kind, frame.offset, frame.height, std::vector<ValType>(params.begin(), params.end())});
    }
  }
  void start_function(S& s) { out_.locals = s.local_types; }

 private:
  FunctionLoops& out_;
};
static_assert(wasm::BodyInterface<LoopProbe>);

using Decoder = wasm::BodyDecoder<wasm::NoValidation, LoopProbe>;
using Instr = Decoder::Instruction;

void put_zero(Bytes& out, ValType type) {
  switch (type) {
    case ValType::I32: out.insert(out.end(), {0x41, 0x00}); break;
    case ValType::I64: out.insert(out.end(), {0x42, 0x00}); break;
    case ValType::F32: out.push_back(0x43); out.insert(out.end(), 4, 0); break;
    case ValType::F64: out.push_back(0x44); out.insert(out.end(), 8, 0); break;
    case ValType::V128: out.insert(out.end(), {0xfd, 0x0c}); out.insert(out.end(), 16, 0); break;
    case ValType::FuncRef: case ValType::ExternRef: out.insert(out.end(), {0xd0, static_cast<uint8_t>(type)}); break;
  }
}

// A function's code from its loops' headers, in a module copy: the loops
// it serves by offset, with the selector of each.
struct LoopVariant {
  uint32_t func_index = 0;
  uint32_t continues = 0;      // the function it continues
  uint32_t selector_slot = 0;  // after the frame's locals and stack at the header
  std::vector<std::pair<uint64_t, uint32_t>> loops;
};

// A block on the way to some selected loop, with the blocks on the way
// that it holds directly (per arm of an `if`: 0 then, 1 else).
struct WayBlock {
  PathFrame frame;
  uint32_t selector = 0;                  // a selected loop's own
  uint32_t first = 0, last = 0;           // selectors of the loops it holds (itself included)
  uint32_t first_in_arm[2] = {0, 0};      // 0: no loop in that arm
  std::vector<uint64_t> children[2];      // offsets, in code order
};

// The later loops a variant serves, the nearest first: a main of 888 loops
// took 20 s to compile with them all.
constexpr uint32_t kMaxLaterLoops = 32;

// Appends to `copy`, a copy of `module`, one more function: function
// `func_index` entered at the header of a loop chosen by a selector (see
// above); the loop at `loop_offset` is always one of them, and with
// `other_loops` the others it can serve.
Result<LoopVariant> add_loop_variant(const wasm::Module& module, wasm::Module& copy, uint32_t func_index,
                                     uint32_t loop_offset, bool other_loops) {
  auto fail = [&](const char* why) {
    return Error(ErrorCode::Internal, loop_offset, std::string("no on-stack replacement for this loop: ") + why);
  };
  FunctionLoops function_loops;
  LoopProbe probe(function_loops);
  Decoder decoder(module, func_index, probe);
  SKIFF_TRY(decoder.decode());
  auto requested = std::find_if(function_loops.loops.begin(), function_loops.loops.end(),
                                [&](const LoopHeader& l) { return l.offset == loop_offset; });
  if (requested == function_loops.loops.end()) return fail("the interpreter named no reachable loop there");

  // The loops it serves: the requested one, and when its stack is empty
  // (and `other_loops`), the loops around it and the later ones with empty
  // stacks, unless inside another later loop: each entry costs compile
  // time (spectral_norm's main: 20 % more with the loops one level down),
  // and a frame in a nested loop passes the outer loop's header soon
  // enough. An earlier loop would keep the code before the requested one
  // alive (see the entry check below), most of a `main`, compiled for
  // nothing.
  std::vector<const LoopHeader*> selected;
  if (requested->stack.empty() && other_loops) {
    std::set<uint64_t> around;  // the requested loop and the loops around it
    for (const PathFrame& frame : requested->path)
      if (frame.kind == wasm::BlockKind::Loop) around.insert(frame.offset);
    uint32_t later = 0;
    for (const LoopHeader& loop : function_loops.loops) {
      const bool outermost_later = std::all_of(loop.path.begin(), loop.path.end() - 1, [&](const PathFrame& frame) {
        return frame.kind != wasm::BlockKind::Loop || around.contains(frame.offset);
      });
      if (!loop.stack.empty()) continue;
      if (around.contains(loop.offset)) selected.push_back(&loop);
      else if (loop.offset > loop_offset && outermost_later && later++ < kMaxLaterLoops) selected.push_back(&loop);
    }
  } else {
    selected.push_back(&*requested);
  }
  const LoopHeader& only = *selected.front();  // the stack values come from it (see above)
  const std::vector<ValType>& locals = function_loops.locals;
  const auto num_locals = static_cast<uint32_t>(locals.size());
  const auto selector_local = static_cast<uint32_t>(num_locals + only.stack.size());

  // The blocks on the way, the function's (offset: none) first.
  constexpr uint64_t kFunction = UINT64_MAX;
  std::map<uint64_t, WayBlock> way;
  LoopVariant variant;
  for (size_t i = 0; i < selected.size(); ++i) {
    const LoopHeader& loop = *selected[i];
    const auto selector = static_cast<uint32_t>(i + 1);
    variant.loops.push_back({loop.offset, selector});
    if (loop.path.size() < 2 || loop.path.back().kind != wasm::BlockKind::Loop) return fail("inconsistent block structure");
    for (size_t k = 0; k < loop.path.size(); ++k) {
      const PathFrame& frame = loop.path[k];
      WayBlock& block = way[k == 0 ? kFunction : frame.offset];
      if (block.first == 0) {
        block.frame = frame;
        block.first = selector;
      }
      block.last = selector;
      if (k + 1 == loop.path.size()) {
        block.selector = selector;
        break;
      }
      const int arm = frame.kind == wasm::BlockKind::Else ? 1 : 0;
      if (block.first_in_arm[arm] == 0) block.first_in_arm[arm] = selector;
      std::vector<uint64_t>& children = block.children[arm];
      if (children.empty() || children.back() != loop.path[k + 1].offset) children.push_back(loop.path[k + 1].offset);
    }
  }

  auto type_index = [&](std::vector<ValType> params, std::vector<ValType> results) {
    wasm::FuncType type{std::move(params), std::move(results)};
    for (uint32_t i = 0; i < copy.types.size(); ++i)
      if (copy.types[i].params == type.params && copy.types[i].results == type.results) return i;
    copy.types.push_back(std::move(type));
    return static_cast<uint32_t>(copy.types.size() - 1);
  };
  auto put_local_get = [](Bytes& out, uint32_t index) {
    out.push_back(0x20);
    put_uleb(out, index);
  };
  auto put_i32_const = [](Bytes& out, int32_t value) {
    out.push_back(0x41);
    put_sleb(out, value);
  };

  // The original frames open at the current position, each with the
  // wrappers open directly inside it and its blocks on the way still ahead.
  struct Open {
    const WayBlock* block = nullptr;  // null: not on the way
    const std::vector<uint64_t>* children = nullptr;
    size_t next_child = 0;
    uint32_t wrappers = 0;
  };
  std::vector<Open> open;
  Bytes code;

  // At the start of an arm of a block on the way: one wrapper per block on
  // the way in it, the last one's outermost.
  auto open_arm = [&](Open& frame, int arm) -> bool {
    const WayBlock& outer = *frame.block;
    frame.children = &outer.children[arm];
    frame.next_child = 0;
    const std::vector<ValType> in = outer.frame.kind == wasm::BlockKind::Function ? std::vector<ValType>()
                                                                                  : outer.frame.params;
    for (size_t j = frame.children->size(); j-- > 0;) {
      const WayBlock& inner = way.at((*frame.children)[j]);
      const bool inner_is_if = inner.frame.kind == wasm::BlockKind::If || inner.frame.kind == wasm::BlockKind::Else;
      // What the skipped code leaves: the stack values below `inner` and
      // its params (only with a single loop: see above), and an `if`'s
      // condition.
      if (inner.frame.height < outer.frame.height || inner.frame.height > only.stack.size())
        return false;
      std::vector<ValType> out(only.stack.begin() + outer.frame.height, only.stack.begin() + inner.frame.height);
      out.insert(out.end(), inner.frame.params.begin(), inner.frame.params.end());
      if (inner_is_if) out.push_back(ValType::I32);
      // if (selector >= first loop in inner) { those values } else { ... the code before inner }
      put_local_get(code, selector_local);
      if (inner.first > 1) {
        put_i32_const(code, static_cast<int32_t>(inner.first));
        code.push_back(0x4f);  // i32.ge_u
      }
      code.push_back(0x04);
      if (in.empty() && out.size() <= 1) code.push_back(out.empty() ? 0x40 : static_cast<uint8_t>(out[0]));
      else put_sleb(code, type_index(in, out));
      code.insert(code.end(), in.size(), 0x1a);  // drop the block's params: their values come from the frame
      for (uint32_t k = outer.frame.height; k < inner.frame.height; ++k) put_local_get(code, num_locals + k);
      if (inner.selector != 0) {
        if (inner.frame.height + inner.frame.params.size() != only.stack.size()) return false;
        for (uint32_t k = inner.frame.height; k < only.stack.size(); ++k) put_local_get(code, num_locals + k);
      } else {
        for (ValType t : inner.frame.params) put_zero(code, t);  // replaced inside `inner` in turn
      }
      if (inner_is_if) {
        // 1: the loop is in the then arm; 0: in the else arm.
        const uint32_t first_else = inner.first_in_arm[1];
        if (first_else == 0) put_i32_const(code, 1);
        else if (inner.first_in_arm[0] == 0) put_i32_const(code, 0);
        else {
          put_local_get(code, selector_local);
          put_i32_const(code, static_cast<int32_t>(first_else));
          code.push_back(0x49);  // i32.lt_u
        }
      }
      code.push_back(0x05);
    }
    frame.wrappers = static_cast<uint32_t>(frame.children->size());
    return true;
  };
  // A branch's label in the copy: it crosses the wrappers open inside its target too.
  auto relabel = [&](uint32_t label) -> std::optional<uint32_t> {
    if (label >= open.size()) return std::nullopt;
    uint32_t extra = 0;
    for (size_t k = open.size() - 1 - label; k < open.size(); ++k) extra += open[k].wrappers;
    return label + extra;
  };

  const wasm::FunctionBody& body = module.body(func_index);
  const Bytes& bytes = module.bytes;
  // The selector is never 0 on entry: LLVM then drops the code before the
  // first selected loop where no loop around it can reach it again.
  put_local_get(code, selector_local);
  code.insert(code.end(), {0x45, 0x04, 0x40, 0x00, 0x0b});  // i32.eqz, if, unreachable, end
  open.push_back({&way.at(kFunction)});
  if (!open_arm(open.back(), 0)) return fail("inconsistent block structure");
  Instr in;
  for (size_t pos = body.body_offset; pos < body.body_end;) {
    if (open.empty()) return fail("code after the function's end");
    Open& current = open.back();
    if (current.children != nullptr && current.next_child < current.children->size() &&
        (*current.children)[current.next_child] == pos) {
      code.push_back(0x0b);  // the wrapper of the code before this block on the way
      ++current.next_child;
      --current.wrappers;
    }
    if (!decoder.decode_instruction_at(pos, in) || in.end > body.body_end) return fail("undecodable code");
    switch (in.op) {
      case wasm::Opcode::Block: case wasm::Opcode::Loop: case wasm::Opcode::If: {
        code.insert(code.end(), bytes.begin() + pos, bytes.begin() + in.end);
        auto found = way.find(pos);
        open.push_back({found != way.end() ? &found->second : nullptr});
        if (found == way.end()) break;
        const WayBlock& block = found->second;
        if (block.selector != 0) {
          // Entering the selected loop ends the skipping. A loop that holds
          // other selected loops keeps the selector while it names one of them.
          if (block.last == block.selector) {
            put_i32_const(code, 0);
          } else {
            put_i32_const(code, 0);
            put_local_get(code, selector_local);
            put_local_get(code, selector_local);
            put_i32_const(code, static_cast<int32_t>(block.selector));
            code.insert(code.end(), {0x46, 0x1b});  // i32.eq, select
          }
          code.push_back(0x21);  // local.set
          put_uleb(code, selector_local);
        }
        if (!open_arm(open.back(), 0)) return fail("inconsistent block structure");
        break;
      }
      case wasm::Opcode::Else:
        if (current.wrappers != 0) return fail("inconsistent block structure");
        code.push_back(bytes[pos]);
        if (current.block != nullptr && !open_arm(current, 1)) return fail("inconsistent block structure");
        break;
      case wasm::Opcode::End:
        if (current.wrappers != 0) return fail("inconsistent block structure");
        code.push_back(bytes[pos]);
        open.pop_back();
        break;
      case wasm::Opcode::Br: case wasm::Opcode::BrIf: {
        auto label = relabel(in.imm.index);
        if (!label) return fail("undecodable code");
        code.push_back(bytes[pos]);
        put_uleb(code, *label);
        break;
      }
      case wasm::Opcode::BrTable:
        code.push_back(bytes[pos]);
        put_uleb(code, in.targets.size() - 1);  // the default is the last target
        for (uint32_t target : in.targets) {
          auto label = relabel(target);
          if (!label) return fail("undecodable code");
          put_uleb(code, *label);
        }
        break;
      default:
        code.insert(code.end(), bytes.begin() + pos, bytes.begin() + in.end);
    }
    pos = in.end;
  }
  if (!open.empty()) return fail("unbalanced blocks");

  if (copy.bytes.size() + code.size() > UINT32_MAX) return fail("module too large");
  std::vector<ValType> params = locals;
  params.insert(params.end(), only.stack.begin(), only.stack.end());
  params.push_back(ValType::I32);  // the selector
  for (size_t k = 0; k + 1 < params.size(); ++k) variant.selector_slot += params[k] == ValType::V128 ? 2 : 1;
  wasm::FunctionBody function;
  function.type_index = type_index(std::move(params), module.func_type(func_index).results);
  function.body_offset = static_cast<uint32_t>(copy.bytes.size());
  copy.bytes.insert(copy.bytes.end(), code.begin(), code.end());
  function.body_end = static_cast<uint32_t>(copy.bytes.size());
  const auto index = static_cast<uint32_t>(copy.funcs.size());
  copy.funcs.push_back(function.type_index);
  copy.bodies.push_back(std::move(function));
  if (copy.declared_funcs.size() == index) copy.declared_funcs.push_back(false);
  // Its frames in backtraces carry the original's name (and the
  // interpreter gives them the original's index).
  copy.names.functions.resize(index + 1);
  copy.names.functions[index] = std::string(module.func_name(func_index));
  variant.func_index = index;
  variant.continues = func_index;
  return variant;
}

// Whether a loop's code serves the function's later loops too: when the
// function itself is not in the same compile (a `main`, called once, whose
// phases run one after the other). With the function compiled, only the
// frame already running uses the loop's code, and those entries would
// cost compile time (musl's memcpy: twice as long).
bool serves_other_loops(const std::vector<uint32_t>& functions_compiled, uint32_t defined_index) {
  return std::find(functions_compiled.begin(), functions_compiled.end(), defined_index) == functions_compiled.end();
}

std::string describe(const wasm::Module& module, const std::vector<uint32_t>& defined) {
  constexpr size_t kMaxNames = 4;
  std::string out;
  for (size_t i = 0; i < defined.size() && i < kMaxNames; ++i) {
    uint32_t func_index = module.num_imported_funcs + defined[i];
    std::string_view name = module.func_name(func_index);
    if (!out.empty()) out += ", ";
    out += name.empty() ? "func " + std::to_string(func_index) : std::string(name);
  }
  if (defined.size() > kMaxNames) out += ", ...";
  return out;
}

}  // namespace

// What a module that tiers up reports to, and the machine code of its loops
// (on-stack replacement). Holds its compiler weakly: a module may outlive
// the engine, and then simply keeps interpreting.
class TierUpCompiler::ModuleListener final : public rt::HotFunctionListener {
 public:
  ModuleListener(std::weak_ptr<TierUpCompiler> compiler, bool log, WholeModuleSink whole_module, BatchSink batches)
      : compiler_(std::move(compiler)), log_(log), whole_module_(std::move(whole_module)),
        batch_sink_(std::move(batches)) {}

  // After a batch is installed (or one from the cache): with a batch sink,
  // hands it all of the module's batches so far. Compile thread, or attach.
  void record_batch(const wasm::Module& module, TierUpBatch batch) {
    if (batch_sink_ == nullptr) return;
    std::vector<TierUpBatch> all;
    {
      std::lock_guard lock(mutex_);
      batches_.push_back(std::move(batch));
      all = batches_;
    }
    batch_sink_(module, all);
  }
  void record_cached_batch(TierUpBatch batch) {
    std::lock_guard lock(mutex_);
    batches_.push_back(std::move(batch));
  }

  // Cached code for a function: reports at its entry need no compile.
  void mark_function(uint32_t defined_index) {
    std::lock_guard lock(mutex_);
    functions_.insert(defined_index);
  }

  // The whole module's sink, the first time (attach's `whole_module`).
  WholeModuleSink take_whole_module_sink() {
    std::lock_guard lock(mutex_);
    return std::exchange(whole_module_, nullptr);
  }

  // Called from the interpreter's loop (and tier2_loop_code from machine
  // code): nothing may propagate from here.
  rt::LoopEntry function_became_hot(std::shared_ptr<const rt::CompiledModule> module, uint32_t defined_index,
                                    uint32_t loop_offset) override {
    try {
      auto compiler = compiler_.lock();
      if (compiler == nullptr) return {};
      const TierUpPolicy& policy = compiler->policy();
      TierUpCompiler::Request request{std::move(module), defined_index, /*function=*/true, kNoLoop};
      // How long its frames run: the hotness of all its calls so far over
      // their number.
      const uint32_t calls = request.module->funcs[defined_index].entries.load(std::memory_order_relaxed);
      // A first call that turns hot at its entry (its loop's code came from
      // the cache and set the countdown to 1): compiling the function would
      // serve no other call yet.
      if (loop_offset == kNoLoop && calls <= 1) return {};
      const uint32_t frame_words = policy.threshold / std::max<uint32_t>(calls, 1);
      const bool long_frames = frame_words >= policy.long_frame_words;
      request.short_frames = calls > 1 && !long_frames && frame_words < policy.short_frame_words;
      {
        std::lock_guard lock(mutex_);
        if (loop_offset != kNoLoop && policy.on_stack_replacement) {
          // One call (a `main`) needs only the loop's code; the function
          // follows if it is called again and turns hot.
          const bool one_frame = calls <= 1;
          if (one_frame || long_frames) {
            loops_.try_emplace({defined_index, loop_offset});  // compiling: no second request
            request.loop_offset = loop_offset;
            request.function = !one_frame;
          }
        }
        if (request.function && !functions_.insert(defined_index).second) return {};  // asked before
      }
      // Tier 2's request first, so that it joins the batch of the functions
      // turning hot with it; tier 1's code then serves the calls meanwhile,
      // and the frame in the loop.
      const bool for_calls = request.function;
      std::shared_ptr<const rt::CompiledModule> hot = policy.baseline ? request.module : nullptr;
      compiler->submit(std::move(request));
      if (hot != nullptr) return compile_with_tier1(*hot, defined_index, for_calls, loop_offset, policy);
    } catch (...) {
      // Out of memory or no thread: the function stays interpreted.
    }
    return {};
  }

  // Tier 1 compiles the function here, on the reporting thread (tens of
  // microseconds), once: with `for_calls` its calls run that code while
  // tier 2 compiles it (code compiled earlier for a loop is installed for
  // calls then), and with on-stack replacement a frame hot in a loop
  // continues in it at once (the entry returned) until tier 2's code for
  // the loop is ready (then the loop's flag sends it there).
  rt::LoopEntry compile_with_tier1(const rt::CompiledModule& module, uint32_t defined_index, bool for_calls,
                                   uint32_t loop_offset, const TierUpPolicy& policy) {
    const rt::CompiledFunc& func = module.funcs[defined_index];
    // Not over tier 2's code (a synchronous compile, or a very quick one).
    for_calls &= func.native_entry.load(std::memory_order_acquire) == nullptr;
    const bool transfers = policy.on_stack_replacement;
    if (!for_calls && !(transfers && loop_offset != kNoLoop)) return {};
    auto& target = const_cast<rt::CompiledModule&>(module);  // as adopt_from_copy
    {
      std::lock_guard lock(mutex_);
      auto [tier1, fresh] = tier1_.try_emplace(defined_index);
      if (!fresh) {
        // Compiled before (or compiling): only the calls may still want it.
        if (!for_calls || tier1->second.for_calls || !tier1->second.code.has_value())
          return tier1_entry(module, defined_index, loop_offset);
        tier1->second.for_calls = true;
        const llvmjit::CompiledCode code = *tier1->second.code;
        if (install(target, code).ok()) switch_to_tier1(target, defined_index);
        return tier1_entry(module, defined_index, loop_offset);
      }
      tier1->second.for_calls = for_calls;
    }
    const auto start = std::chrono::steady_clock::now();
    const uint32_t index = module.module->num_imported_funcs + defined_index;
    auto code = baseline::compile(*module.module, {index},
                                  {.interruptible = policy.interruptible, .fallback_ops = false, .loop_transfers = transfers});
    if (!code.ok() || code.value().functions.empty()) return {};
    for_calls &= func.native_entry.load(std::memory_order_acquire) == nullptr;
    std::vector<std::pair<std::string, void*>> entries;
    InstallOptions options;
    options.for_calls = for_calls;
    options.loop_entries = &entries;
    if (!install(target, code.value().code, options).ok()) return {};
    if (for_calls) switch_to_tier1(target, defined_index);
    if (log_)
      log_line("tier 1 compiled %s in %.0f us\n",
                   describe(*module.module, {defined_index}).c_str(),
                   std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
    std::lock_guard lock(mutex_);
    Tier1Code& tier1 = tier1_[defined_index];
    tier1.code = code.value().code;
    for (const baseline::FunctionLoops& loops : code.value().loops) {
      for (size_t k = 0; k < loops.offsets.size(); ++k) {
        tier1.exit_flags[loops.offsets[k]] = &loops.exit_flags[k];
        // Tier 2's code for it may be ready already.
        auto found = loops_.find({defined_index, loops.offsets[k]});
        if (found != loops_.end() && found->second.variant != nullptr) loops.exit_flags[k].store(1);
      }
    }
    for (auto& [name, address] : entries) {
      // skiff_osr_N_L: L is the loop's offset
      uint32_t offset = 0;
      const std::string_view digits = std::string_view(name).substr(name.rfind('_') + 1);
      if (std::from_chars(digits.data(), digits.data() + digits.size(), offset).ec != std::errc()) continue;
      auto entry = std::make_unique<rt::CompiledFunc>();
      entry->native_entry.store(address, std::memory_order_release);
      tier1.entries[offset] = std::move(entry);
    }
    return tier1_entry(module, defined_index, loop_offset);
  }

  void switch_to_tier1(rt::CompiledModule& module, uint32_t defined_index) {
    interp::use_native_code(module, defined_index);
    g_tier1_functions.fetch_add(1, std::memory_order_relaxed);
  }

  // Tier 1's entry at that loop, if any. Under mutex_.
  rt::LoopEntry tier1_entry(const rt::CompiledModule& module, uint32_t defined_index, uint32_t loop_offset) {
    auto tier1 = tier1_.find(defined_index);
    if (tier1 == tier1_.end()) return {};
    auto entry = tier1->second.entries.find(loop_offset);
    if (entry == tier1->second.entries.end()) return {};
    if (log_ && !tier1->second.entered)
      log_line("a running frame of %s continues in tier 1's code at its loop\n",
                   describe(*module.module, {defined_index}).c_str());
    tier1->second.entered = true;
    g_tier1_loops_entered.fetch_add(1, std::memory_order_relaxed);
    return {entry->second.get()};
  }

  // Tier 2's code for the loop when ready, or else tier 1's.
  rt::LoopEntry loop_is_hot(std::shared_ptr<const rt::CompiledModule> module, uint32_t defined_index,
                            uint32_t loop_offset) override {
    try {
      if (rt::LoopEntry tier2 = tier2_loop_is_hot(module, defined_index, loop_offset); tier2.code != nullptr)
        return tier2;
      auto compiler = compiler_.lock();
      if (compiler == nullptr || !compiler->policy().baseline) return {};
      return compile_with_tier1(*module, defined_index, /*for_calls=*/false, loop_offset, compiler->policy());
    } catch (...) {
    }
    return {};
  }

  rt::LoopEntry tier2_loop_code(const rt::CompiledModule& module, uint32_t defined_index,
                                uint32_t loop_offset) override {
    try {
      std::lock_guard lock(mutex_);
      auto found = loops_.find({defined_index, loop_offset});
      if (found == loops_.end() || found->second.variant == nullptr || found->second.variant->entry == nullptr)
        return {};
      return enter(module, defined_index, found->second);
    } catch (...) {
    }
    return {};
  }

  // From the compile thread, or attach (cached code): the code for the
  // loop at `loop_offset` and the others `variant` serves. `code` owns the
  // machine code `entry` is in; both are null when the compile failed.
  // The headers of the loops it serves then weigh a whole threshold in
  // tier 0, so a frame moves in at its next pass of any of them, rather
  // than a threshold later. Until the function is lowered (cached code),
  // its countdown is 1 instead: its first frame reports at the first loop
  // header it passes, which weighs them.
  void set_loop_code(const rt::CompiledModule& module, uint32_t defined_index, uint32_t loop_offset,
                     const LoopVariant* variant, std::shared_ptr<rt::CompiledModule> code,
                     const rt::CompiledFunc* entry) {
    bool weighed = false;
    {
      std::lock_guard lock(mutex_);
      loops_[{defined_index, loop_offset}].compiling = false;
      if (entry == nullptr || variant == nullptr) return;
      auto shared = std::make_shared<Variant>(std::move(code), entry, variant->selector_slot);
      // Frames may run in older code: a loop it already serves keeps it.
      for (auto [offset, selector] : variant->loops) {
        LoopCode& loop = loops_[{defined_index, static_cast<uint32_t>(offset)}];
        if (loop.variant != nullptr) continue;
        loop.variant = shared;
        loop.selector = selector;
        loop.compiling = false;
        shared->loops.push_back(static_cast<uint32_t>(offset));
      }
      weighed = weigh_headers(module, defined_index, *shared);
      // Tier 1's frames move in at their next pass of those headers.
      if (auto tier1 = tier1_.find(defined_index); tier1 != tier1_.end())
        for (uint32_t offset : shared->loops)
          if (auto flag = tier1->second.exit_flags.find(offset); flag != tier1->second.exit_flags.end())
            flag->second->store(1, std::memory_order_release);
    }
    if (!weighed) module.funcs[defined_index].hotness_countdown.store(1, std::memory_order_relaxed);
  }

 private:
  // Machine code that serves loops of a function (see LoopVariant).
  struct Variant {
    Variant(std::shared_ptr<rt::CompiledModule> code, const rt::CompiledFunc* entry, uint32_t selector_slot)
        : code(std::move(code)), entry(entry), selector_slot(selector_slot) {}
    std::shared_ptr<rt::CompiledModule> code;  // the module copy it was installed in
    const rt::CompiledFunc* entry = nullptr;
    uint32_t selector_slot = 0;
    std::vector<uint32_t> loops;  // the loops it serves (no older code did)
    bool entered = false;         // logged
    // While no frame entered it, its loops' headers weigh a whole
    // threshold in tier 0; these are their usual weights.
    std::optional<interp::LoopWeights> weights;
  };
  // Makes the headers of the loops `variant` serves weigh a whole
  // threshold, unless the frame could not take the selector; false when
  // the function is not lowered yet. Under mutex_.
  bool weigh_headers(const rt::CompiledModule& module, uint32_t defined_index, Variant& variant) {
    if (variant.selector_slot >= module.funcs[defined_index].frame_slots) return true;  // never entered
    interp::LoopWeights heavy;
    for (uint32_t offset : variant.loops) heavy.emplace_back(offset, static_cast<uint64_t>(module.hotness_threshold));
    variant.weights = interp::set_loop_header_weights(module, defined_index, heavy);
    return variant.weights.has_value();
  }
  // An entry exists once the loop was asked for (compiling until its code
  // is ready or failed), or once code that serves it is ready.
  struct LoopCode {
    std::shared_ptr<Variant> variant;  // null while compiling, and for good if that failed; never replaced
    uint32_t selector = 0;
    bool compiling = true;
  };
  // Tier 1's code for a function, with its loop transfers (baseline.h).
  struct Tier1Code {
    std::optional<CompiledCode> code;  // none while compiling, or if tier 1 left the function out
    bool for_calls = false;            // installed for calls (or being installed)
    std::map<uint32_t, std::unique_ptr<rt::CompiledFunc>> entries;  // by loop offset: skiff_osr_N_L as native_entry
    std::map<uint32_t, std::atomic<uint8_t>*> exit_flags;           // by loop offset; owned by the code
    bool entered = false;                                           // logged
  };
  // A frame moves into `loop`'s code. Under mutex_.
  rt::LoopEntry enter(const rt::CompiledModule& module, uint32_t defined_index, const LoopCode& loop) {
    Variant& variant = *loop.variant;
    g_loops_entered.fetch_add(1, std::memory_order_relaxed);
    if (!variant.entered) {
      if (log_)
        log_line("a running frame of %s continues in machine code at its loop\n",
                     describe(*module.module, {defined_index}).c_str());
      // Later frames report at the usual pace again (and at entry,
      // which compiles the function when it has more calls).
      if (variant.weights.has_value()) interp::set_loop_header_weights(module, defined_index, *variant.weights);
      variant.entered = true;
    }
    return {variant.entry, variant.selector_slot, loop.selector};
  }

  // loop_is_hot's answer from tier 2: its code for the loop when ready;
  // else it may ask for that code.
  rt::LoopEntry tier2_loop_is_hot(std::shared_ptr<const rt::CompiledModule>& module, uint32_t defined_index,
                                  uint32_t loop_offset) {
    {
      std::lock_guard lock(mutex_);
      auto found = loops_.find({defined_index, loop_offset});
      if (found != loops_.end()) {
        const LoopCode& loop = found->second;
        Variant* variant = loop.variant.get();
        // null while compiling, or after a failure; the selector must fit in the frame
        if (variant == nullptr || variant->entry == nullptr ||
            variant->selector_slot >= module->funcs[defined_index].frame_slots)
          return {};
        return enter(*module, defined_index, loop);
      }
      // While the function itself compiles, its frames are taken to be
      // short (function_became_hot chose so); once it has machine code, a
      // frame still hot here entered before the switch.
      if (functions_.contains(defined_index) &&
          module->funcs[defined_index].native_entry.load(std::memory_order_acquire) == nullptr)
        return {};
      // One loop of a function at a time: its frame would move into the
      // first one ready, and the others' compiles would be wasted.
      // Code that serves loops of the function but was not entered yet:
      // the frame is in a loop it does not serve (one nested in a loop
      // it serves, usually) and moves in when it passes the header of
      // one it serves (those weigh a whole threshold: see set_loop_code).
      // A compile for this loop pays only when that takes long.
      std::shared_ptr<Variant> waiting_for;
      for (auto it = loops_.lower_bound({defined_index, 0}); it != loops_.end() && it->first.first == defined_index;
           ++it) {
        if (it->second.compiling) return {};
        const std::shared_ptr<Variant>& variant = it->second.variant;
        if (variant != nullptr && variant->entry != nullptr && !variant->entered) waiting_for = variant;
      }
      if (waiting_for != nullptr && header_waits_[defined_index]++ < kMaxHeaderWaits) {
        if (!waiting_for->weights.has_value()) weigh_headers(*module, defined_index, *waiting_for);
        return {};
      }
    }
    auto compiler = compiler_.lock();
    if (compiler == nullptr || !compiler->policy().on_stack_replacement) return {};
    {
      std::lock_guard lock(mutex_);
      if (!loops_.try_emplace({defined_index, loop_offset}).second) return {};  // another thread asked
    }
    compiler->submit({module, defined_index, /*function=*/false, loop_offset});
    return {};
  }

  std::weak_ptr<TierUpCompiler> compiler_;
  const bool log_;
  std::mutex mutex_;
  std::map<std::pair<uint32_t, uint32_t>, LoopCode> loops_;
  std::map<uint32_t, Tier1Code> tier1_;  // by defined index: compiled (or compiling) once
  std::set<uint32_t> functions_;  // asked to compile
  // Reports of a function's frames while waiting for a loop whose code is
  // ready (loop_is_hot): each is a threshold of interpretation (~1 ms),
  // about what a compile takes.
  static constexpr uint32_t kMaxHeaderWaits = 30;
  std::map<uint32_t, uint32_t> header_waits_;
  WholeModuleSink whole_module_;
  BatchSink batch_sink_;
  std::vector<TierUpBatch> batches_;  // kept only with a batch sink
};

TierUpPolicy tier_up_policy(uint32_t configured_threshold, bool interruptible) {
  TierUpPolicy policy;
  policy.interruptible = interruptible;
  if (configured_threshold != 0) {
    policy.threshold = configured_threshold;
  } else if (const char* env = std::getenv("SKIFF_TIERUP_THRESHOLD"); env != nullptr && *env != 0) {
    uint32_t value = 0;
    std::string_view text(env);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size() && value > 0) policy.threshold = value;
    else std::fprintf(stderr, "skiff: ignoring SKIFF_TIERUP_THRESHOLD=\"%s\" (expected a positive integer)\n", env);
  }
  // The countdown is an int32_t.
  policy.threshold = std::min<uint32_t>(policy.threshold, INT32_MAX);
  auto flag = [](const char* name, bool unset) {
    const char* value = std::getenv(name);
    return value == nullptr || *value == 0 ? unset : std::string_view(value) != "0";
  };
  policy.log = flag("SKIFF_TIERUP_LOG", false);
  policy.on_stack_replacement = flag("SKIFF_TIERUP_OSR", true);
  policy.synchronous = flag("SKIFF_TIERUP_SYNC", false);
  policy.baseline = flag("SKIFF_TIERUP_BASELINE", true) && baseline::host_supported();
  return policy;
}

TierUpStats tier_up_stats() {
  return TierUpStats{g_batches.load(std::memory_order_relaxed), g_functions.load(std::memory_order_relaxed),
                     g_failed_functions.load(std::memory_order_relaxed), g_loops.load(std::memory_order_relaxed),
                     g_loops_entered.load(std::memory_order_relaxed), g_unversioned.load(std::memory_order_relaxed),
                     g_cached_functions.load(std::memory_order_relaxed), g_cached_loops.load(std::memory_order_relaxed),
                     g_tier1_functions.load(std::memory_order_relaxed),
                     g_tier1_loops_entered.load(std::memory_order_relaxed)};
}

TierUpCompiler::TierUpCompiler(TierUpPolicy policy) : policy_(policy) {}

TierUpCompiler::~TierUpCompiler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  whole_wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (whole_thread_.joinable()) whole_thread_.join();
  // Modules still queued are released here, outside the lock.
  std::vector<Request> dropped;
  decltype(whole_queue_) dropped_whole;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(queue_);
    dropped_whole.swap(whole_queue_);
  }
}

void TierUpCompiler::attach(rt::CompiledModule& module, WholeModuleSink whole_module, BatchSink batches,
                            std::vector<TierUpBatch> cached) {
  for (uint32_t i = 0; i < module.module->num_defined_funcs(); ++i)
    module.funcs[i].hotness_countdown.store(static_cast<int32_t>(policy_.threshold), std::memory_order_relaxed);
  module.native_executor = &execute;
  module.hotness_threshold = static_cast<int32_t>(policy_.threshold);
  if (module.module->bytes.size() > kWholeModuleMaxBytes) whole_module = nullptr;
  auto listener =
      std::make_shared<ModuleListener>(weak_from_this(), policy_.log, std::move(whole_module), std::move(batches));
  module.tier_up = listener;
  if (!cached.empty()) install_cached(module, *listener, std::move(cached));
}

void TierUpCompiler::submit(Request request) {
  if (policy_.synchronous) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || unavailable_) return;
    }
    load_library();
    compile_batch({std::move(request)});
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || unavailable_) return;
    if (policy_.log)
      log_line("queued func %u%s%s\n", request.module->module->num_imported_funcs + request.defined_index,
               request.function ? " (calls)" : "", request.loop_offset != kNoLoop ? " (loop)" : "");
    queue_.push_back(std::move(request));
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  wake_.notify_one();
}

bool TierUpCompiler::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [&] { return (queue_.empty() && !busy_) || stopping_; });
}

namespace {

// Keeps in `requests` the smallest functions (with their loops) up to
// `budget` bytes of wasm, at least one; returns the others (tierup.h).
std::vector<TierUpCompiler::Request> split_batch(std::vector<TierUpCompiler::Request>& requests, size_t budget) {
  using Request = TierUpCompiler::Request;
  auto size_of = [](const Request& r) {
    const wasm::Module& module = *r.module->module;
    const wasm::FunctionBody& body = module.body(module.num_imported_funcs + r.defined_index);
    return static_cast<size_t>(body.body_end - body.body_offset);
  };
  auto key = [&](const Request& r) { return std::tuple(size_of(r), r.module.get(), r.defined_index); };
  std::stable_sort(requests.begin(), requests.end(), [&](const Request& a, const Request& b) { return key(a) < key(b); });
  size_t taken = 0, bytes = 0;
  while (taken < requests.size()) {
    const Request& first = requests[taken];
    if (taken > 0 && bytes + size_of(first) > budget) break;
    bytes += size_of(first);
    // The function's other requests (its loop and its calls) stay with it.
    size_t end = taken + 1;
    while (end < requests.size() && requests[end].module == first.module &&
           requests[end].defined_index == first.defined_index)
      ++end;
    taken = end;
  }
  std::vector<Request> rest(std::make_move_iterator(requests.begin() + static_cast<ptrdiff_t>(taken)),
                            std::make_move_iterator(requests.end()));
  requests.resize(taken);
  return rest;
}

}  // namespace

void TierUpCompiler::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    busy_ = true;
    // Functions that turn hot right after this one join its batch. The
    // first batch loads LLVM meanwhile (tierup.h).
    if (library_loaded()) {
      wake_.wait_for(lock, policy_.batch_window, [&] { return stopping_; });
    } else {
      const auto deadline = std::chrono::steady_clock::now() + policy_.first_batch_delay;
      lock.unlock();
      load_library();  // a failure shows in the first compile
      lock.lock();
      wake_.wait_until(lock, deadline, [&] { return stopping_; });
    }
    if (stopping_) break;
    std::vector<Request> batch;
    batch.swap(queue_);
    queue_ = split_batch(batch, policy_.batch_bytes);  // first in line for the next batch
    lock.unlock();
    compile_batch(std::move(batch));  // releases the batch's modules when done
    lock.lock();
    busy_ = !queue_.empty();
    if (!busy_) idle_.notify_all();
  }
  busy_ = false;
  idle_.notify_all();
}

void TierUpCompiler::compile_batch(std::vector<Request> requests) {
  // One compile() per module, in the order the modules first turned hot:
  // its functions, and its loops (on-stack replacement) in a module copy.
  while (!requests.empty()) {
    std::shared_ptr<const rt::CompiledModule> module = requests.front().module;
    std::vector<uint32_t> defined, unversioned;
    std::vector<LoopRef> loops;
    std::erase_if(requests, [&](const Request& r) {
      if (r.module != module) return false;
      if (r.function) defined.push_back(r.defined_index);
      if (r.function && r.short_frames) unversioned.push_back(r.defined_index);
      if (r.loop_offset != kNoLoop) loops.push_back({r.defined_index, r.loop_offset});
      return true;
    });
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || unavailable_) return;
    }
    if (module.use_count() == 1) continue;  // nobody can call it any more
    std::sort(defined.begin(), defined.end());
    defined.erase(std::unique(defined.begin(), defined.end()), defined.end());
    std::erase_if(defined, [&](uint32_t d) {  // tier 2's code already (tier 1's gets replaced)
      const rt::CompiledFunc& f = module->funcs[d];
      return f.native_entry.load(std::memory_order_acquire) != nullptr &&
             !f.baseline_code.load(std::memory_order_relaxed);
    });
    if (!loops.empty()) compile_with_loops(module, std::move(defined), loops, unversioned);
    else if (!defined.empty()) compile_module_batch(module, std::move(defined), unversioned);
    auto* listener = static_cast<ModuleListener*>(module->tier_up.get());
    if (WholeModuleSink sink = listener != nullptr ? listener->take_whole_module_sink() : nullptr) {
      std::lock_guard lock(mutex_);
      if (stopping_ || unavailable_) continue;
      whole_queue_.emplace_back(module, std::move(sink));
      if (!whole_thread_.joinable()) whole_thread_ = std::thread([this] { run_whole_modules(); });
      whole_wake_.notify_one();
    }
  }
}

void TierUpCompiler::run_whole_modules() {
  // The lowest priority, for this thread only (a Linux thread is a task):
  // the program and its hot code come first.
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
  std::unique_lock lock(mutex_);
  for (;;) {
    whole_wake_.wait(lock, [&] { return stopping_ || !whole_queue_.empty(); });
    if (stopping_) return;
    auto [module, sink] = std::move(whole_queue_.front());
    whole_queue_.erase(whole_queue_.begin());
    const bool stopping = whole_wake_.wait_for(lock, policy_.whole_module_delay, [&] { return stopping_; });
    lock.unlock();
    if (stopping) return;  // the module is released outside the lock
    if (module.use_count() == 1) {  // dropped meanwhile: nobody would load it again
      module.reset();
      lock.lock();
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    auto code = compile(*module->module, {}, compile_options(*module->module));
    if (code.ok()) sink(*module->module, code.value());
    else log_error("whole module: " + code.error().to_string());
    if (policy_.log && code.ok()) {
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      log_line("compiled the whole module in the background in %.1f ms\n", ms);
    }
    module.reset();  // outside the lock
    lock.lock();
  }
}

namespace {

// After a successful batch: new calls of `defined` run their machine code.
void switch_to_machine_code(const rt::CompiledModule& module, const std::vector<uint32_t>& defined,
                            const std::vector<uint32_t>& unversioned) {
  for (uint32_t d : defined) interp::use_native_code(module, d);
  g_batches.fetch_add(1, std::memory_order_relaxed);
  g_functions.fetch_add(defined.size(), std::memory_order_relaxed);
  g_unversioned.fetch_add(std::count_if(defined.begin(), defined.end(), [&](uint32_t d) {
                            return std::find(unversioned.begin(), unversioned.end(), d) != unversioned.end();
                          }),
                          std::memory_order_relaxed);
}

// A container for machine code compiled from a module copy: install()
// keeps the code and names its frames after the copy, whose names are the
// original's, and the frames of `variants` after the functions they continue.
Result<std::shared_ptr<rt::CompiledModule>> install_in_copy(std::shared_ptr<const wasm::Module> copy,
                                                           const CompiledCode& code,
                                                           const std::vector<LoopVariant>& variants) {
  auto holder = std::make_shared<rt::CompiledModule>();
  holder->module = std::move(copy);
  holder->funcs = std::make_unique<rt::CompiledFunc[]>(holder->module->num_defined_funcs());
  holder->native_bodies = std::make_unique<std::atomic<void*>[]>(holder->module->num_defined_funcs());
  InstallOptions options;
  for (const LoopVariant& variant : variants) options.loop_variants.emplace_back(variant.func_index, variant.continues);
  SKIFF_TRY(install(*holder, code, options));
  return holder;
}

// The functions `defined` of `target` run the code a module copy's
// `holder` has for them (the copy keeps the original's indices for them).
void adopt_from_copy(rt::CompiledModule& target, const std::shared_ptr<rt::CompiledModule>& holder,
                     const std::vector<uint32_t>& defined, bool interruptible) {
  {
    std::lock_guard lock(target.native_mutex);
    target.native_code.push_back(holder);
  }
  if (!interruptible) target.native_uninterruptible.store(true, std::memory_order_release);
  for (uint32_t d : defined) {
    target.native_bodies[d].store(holder->native_bodies[d].load(std::memory_order_acquire), std::memory_order_release);
    target.funcs[d].baseline_code.store(false, std::memory_order_relaxed);
    target.funcs[d].native_entry.store(holder->funcs[d].native_entry.load(std::memory_order_acquire),
                                       std::memory_order_release);
  }
}

}  // namespace

// The functions and the loops in one compile of a module copy that holds
// the loops' variants (one LLVM set-up). The functions' code serves the
// original module, as code compiled from the original would: the copy only
// appends functions and their types.
void TierUpCompiler::compile_with_loops(const std::shared_ptr<const rt::CompiledModule>& module,
                                        std::vector<uint32_t> defined, const std::vector<LoopRef>& loops,
                                        const std::vector<uint32_t>& unversioned) {
  const wasm::Module& wasm_module = *module->module;
  const uint32_t imports = wasm_module.num_imported_funcs;
  auto* listener = static_cast<ModuleListener*>(module->tier_up.get());
  const auto start = std::chrono::steady_clock::now();
  auto copy = std::make_shared<wasm::Module>(wasm_module);
  std::vector<uint32_t> func_indices;
  for (uint32_t d : defined) func_indices.push_back(imports + d);
  std::vector<std::pair<LoopRef, LoopVariant>> variants;  // a loop and its function in the copy
  for (const LoopRef& loop : loops) {
    auto variant = add_loop_variant(wasm_module, *copy, imports + loop.defined_index, loop.offset,
                                    serves_other_loops(defined, loop.defined_index));
    if (!variant.ok()) {
      log_error(describe(wasm_module, {loop.defined_index}) + ": " + variant.error().to_string());
      listener->set_loop_code(*module, loop.defined_index, loop.offset, nullptr, nullptr, nullptr);
      continue;
    }
    func_indices.push_back(variant.value().func_index);
    variants.emplace_back(loop, std::move(variant.value()));
  }
  if (variants.empty()) {
    if (!defined.empty()) compile_module_batch(module, std::move(defined), unversioned);
    return;
  }
  auto code = compile(*copy, func_indices, compile_options(wasm_module, unversioned));
  std::vector<LoopVariant> installed_variants;
  for (const auto& [loop, variant] : variants) installed_variants.push_back(variant);
  Result<std::shared_ptr<rt::CompiledModule>> holder =
      code.ok() ? install_in_copy(copy, code.value(), installed_variants)
                : Result<std::shared_ptr<rt::CompiledModule>>(code.error());
  if (!holder.ok()) {
    if (code.ok() || code.error().code != ErrorCode::UsageError) log_error(holder.error().to_string());
    for (const auto& [loop, variant] : variants)
      listener->set_loop_code(*module, loop.defined_index, loop.offset, nullptr, nullptr, nullptr);
    // The functions alone: that finds the one at fault, if any (or stops
    // trying when LLVM cannot be loaded).
    if (!defined.empty()) compile_module_batch(module, std::move(defined), unversioned);
    return;
  }
  if (!defined.empty()) {
    // const_cast: see compile_module_batch.
    adopt_from_copy(const_cast<rt::CompiledModule&>(*module), holder.value(), defined, code.value().interruptible);
    switch_to_machine_code(*module, defined, unversioned);
  }
  if (policy_.log) {
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::vector<uint32_t> looping;
    for (const auto& [loop, variant] : variants) looping.push_back(loop.defined_index);
    std::string functions = defined.empty() ? std::string()
                                            : std::to_string(defined.size()) +
                                                  (defined.size() == 1 ? " function (" : " functions (") +
                                                  describe(wasm_module, defined) + ") and ";
    log_line("compiled %s%zu loop%s (of %s) in %.1f ms (on-stack replacement), from %.1f ms\n",
                 functions.c_str(), variants.size(), variants.size() == 1 ? "" : "s",
                 describe(wasm_module, looping).c_str(), ms, elapsed_ms(start));
  }
  for (const auto& [loop, variant] : variants) {
    const rt::CompiledFunc* entry = &holder.value()->funcs[variant.func_index - imports];
    if (entry->native_entry.load(std::memory_order_acquire) == nullptr) entry = nullptr;
    listener->set_loop_code(*module, loop.defined_index, loop.offset, &variant, holder.value(), entry);
    // Counted once frames can enter it: tests wait for the count, then expect the entry.
    if (entry != nullptr) g_loops.fetch_add(1, std::memory_order_relaxed);
  }
  TierUpBatch batch{std::move(defined), {}, std::move(code.value())};
  for (const auto& [loop, variant] : variants) batch.loops.emplace_back(loop.defined_index, loop.offset);
  listener->record_batch(wasm_module, std::move(batch));
}

void TierUpCompiler::compile_module_batch(const std::shared_ptr<const rt::CompiledModule>& module,
                                          std::vector<uint32_t> defined, const std::vector<uint32_t>& unversioned) {
  const wasm::Module& wasm_module = *module->module;
  std::vector<uint32_t> func_indices;
  for (uint32_t d : defined) func_indices.push_back(wasm_module.num_imported_funcs + d);
  const auto start = std::chrono::steady_clock::now();
  auto code = compile(wasm_module, func_indices, compile_options(wasm_module, unversioned));
  if (!code.ok()) {
    const Error& error = code.error();
    if (error.code == ErrorCode::UsageError) {  // libskiff_llvm.so cannot be loaded: stop trying
      {
        std::lock_guard lock(mutex_);
        unavailable_ = true;
      }
      g_failed_functions.fetch_add(defined.size(), std::memory_order_relaxed);
      log_error(error.to_string());
      return;
    }
    // Find the function at fault: the others still deserve machine code.
    if (defined.size() > 1) {
      for (uint32_t d : defined) compile_module_batch(module, {d}, unversioned);
      return;
    }
    g_failed_functions.fetch_add(1, std::memory_order_relaxed);
    log_error(describe(wasm_module, defined) + ": " + error.to_string());
    return;
  }
  // A CompiledModule is shared as const because only its lazily filled
  // parts change; install() adds machine code under native_mutex and sets
  // the atomic native_entry of each function.
  auto installed = install(const_cast<rt::CompiledModule&>(*module), code.value());
  if (!installed.ok()) {
    g_failed_functions.fetch_add(defined.size(), std::memory_order_relaxed);
    log_error(describe(wasm_module, defined) + ": " + installed.error().to_string());
    return;
  }
  switch_to_machine_code(*module, defined, unversioned);
  if (policy_.log) {
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    log_line("compiled %zu function%s in %.1f ms (%s), from %.1f ms\n", defined.size(),
                 defined.size() == 1 ? "" : "s", ms, describe(wasm_module, defined).c_str(), elapsed_ms(start));
  }
  if (auto* listener = static_cast<ModuleListener*>(module->tier_up.get()))
    listener->record_batch(wasm_module, TierUpBatch{std::move(defined), {}, std::move(code.value())});
}

// Batches from the cache, as compile_module_batch and compile_with_loops
// install them (a loop batch rebuilds its module copy the same way, so its
// functions have the same indices); a batch that does not fit is skipped.
void TierUpCompiler::install_cached(rt::CompiledModule& module, ModuleListener& listener,
                                    std::vector<TierUpBatch> cached) {
  const wasm::Module& wasm_module = *module.module;
  const uint32_t imports = wasm_module.num_imported_funcs;
  const uint32_t defined_count = wasm_module.num_defined_funcs();
  size_t functions = 0, loops = 0;
  for (TierUpBatch& batch : cached) {
    if (batch.code.interruptible != policy_.interruptible) continue;
    bool fits = true;
    for (uint32_t d : batch.functions) fits &= d < defined_count;
    for (auto [d, offset] : batch.loops) fits &= d < defined_count;
    if (!fits) continue;
    std::shared_ptr<rt::CompiledModule> holder;
    std::vector<LoopVariant> variants;
    if (batch.loops.empty()) {
      if (!install(module, batch.code).ok()) continue;
    } else {
      auto copy = std::make_shared<wasm::Module>(wasm_module);
      for (size_t k = 0; k < batch.loops.size() && fits; ++k) {
        auto [d, offset] = batch.loops[k];
        auto variant = add_loop_variant(wasm_module, *copy, imports + d, offset, serves_other_loops(batch.functions, d));
        fits = variant.ok();
        if (fits) variants.push_back(std::move(variant.value()));
      }
      if (!fits) continue;
      auto installed = install_in_copy(copy, batch.code, variants);
      if (!installed.ok()) continue;
      holder = std::move(installed.value());
      adopt_from_copy(module, holder, batch.functions, batch.code.interruptible);
    }
    for (uint32_t d : batch.functions) {
      listener.mark_function(d);
      module.funcs[d].hot_reported.store(true, std::memory_order_relaxed);
      interp::use_native_code(module, d);
    }
    for (size_t k = 0; k < batch.loops.size(); ++k) {
      auto [d, offset] = batch.loops[k];
      const rt::CompiledFunc* entry = &holder->funcs[variants[k].func_index - imports];
      if (entry->native_entry.load(std::memory_order_acquire) == nullptr) continue;
      // The first report of a frame goes to loop_is_hot, which moves it in.
      module.funcs[d].hot_reported.store(true, std::memory_order_relaxed);
      listener.set_loop_code(module, d, offset, &variants[k], holder, entry);
      ++loops;
    }
    functions += batch.functions.size();
    listener.record_cached_batch(std::move(batch));
  }
  g_cached_functions.fetch_add(functions, std::memory_order_relaxed);
  g_cached_loops.fetch_add(loops, std::memory_order_relaxed);
  if (policy_.log && functions + loops > 0)
    log_line("%zu function%s and %zu loop%s from the cache\n", functions,
                 functions == 1 ? "" : "s", loops, loops == 1 ? "" : "s");
}

double TierUpCompiler::elapsed_ms(std::chrono::steady_clock::time_point when) const {
  return std::chrono::duration<double, std::milli>(when - created_).count();
}

CompileOptions TierUpCompiler::compile_options(const wasm::Module& module,
                                               const std::vector<uint32_t>& unversioned) const {
  CompileOptions options;
  options.interruptible = policy_.interruptible;
  for (uint32_t d : unversioned) options.unversioned.push_back(module.num_imported_funcs + d);
  return options;
}

void TierUpCompiler::log_error(const std::string& message) {
  if (!policy_.log) return;
  {
    std::lock_guard lock(mutex_);
    if (error_logged_) return;
    error_logged_ = true;
  }
  std::fprintf(stderr, "skiff: tier-up failed, the functions stay interpreted: %s\n", message.c_str());
}

}  // namespace skiff::llvmjit

// Tier::Auto's background compiler: see tierup.h.
#include "llvm/tierup.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "base/reader.h"
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

// ---- on-stack replacement: a loop's code as a function ---------------------------
//
// The interpreter can hand over a frame that sits at the header of a hot
// loop: its locals and operand stack are then all in their home slots, in
// order. The loop's machine code is a function that takes exactly those as
// parameters (so the frame's slots are its argument buffer) and returns the
// original function's results. Its body is the original body with a flag
// (a new local, set on entry): every block on the way to the loop skips,
// while the flag is set, the code before the next block on the way, and
// puts the values that code would have left on the stack from the
// parameters instead (an `if` on the flag around that code); entering the
// loop clears the flag, so outer loops run their code normally after that.
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

// The control frames from the function to the loop, and the operand stack
// at the loop's header, as the validation algorithm sees them.
struct PathFrame {
  wasm::BlockKind kind = wasm::BlockKind::Function;
  uint64_t offset = 0;   // of the block instruction
  uint32_t height = 0;   // stack entries below its params
  std::vector<ValType> params;
};
struct LoopState {
  bool found = false;
  std::vector<ValType> locals;  // params, then declared locals
  std::vector<ValType> stack;   // bottom first; the loop's params on top
  std::vector<PathFrame> path;  // the function first, the loop last
};

class LoopProbe {
 public:
  struct ValueData {};
  struct ControlData {};
  using S = wasm::StateOf<LoopProbe>;
  using V = S::Value;
  using C = S::Control;

  LoopProbe(uint64_t loop_offset, LoopState& out) : loop_offset_(loop_offset), out_(out) {}

  void block(S& s, C& c) {
    if (c.kind != wasm::BlockKind::Loop || c.offset != loop_offset_ || out_.found) return;
    out_.found = true;
    out_.locals = s.local_types;
    for (const V& v : s.stack) out_.stack.push_back(v.type);
    for (const C& frame : s.controls) {
      auto params = frame.sig.param_types();
      out_.path.push_back({frame.kind, frame.offset, frame.height, std::vector<ValType>(params.begin(), params.end())});
    }
  }
  void start_function(S&) {}
  void finish_function(S&) {}
  void op(S&, wasm::Opcode, const wasm::Immediates&, V*, uint32_t, V*) {}
  void constant(S&, wasm::Opcode, const wasm::Immediates&, V&) {}
  void local_get(S&, uint32_t, V&) {}
  void local_set(S&, uint32_t, V&) {}
  void local_tee(S&, uint32_t, V&, V&) {}
  void drop(S&, V&) {}
  void select(S&, V*, V&) {}
  void if_(S&, V&, C&) {}
  void else_(S&, C&, V*) {}
  void end(S&, C&, V*) {}
  void br(S&, uint32_t, V*) {}
  void br_if(S&, uint32_t, V&, V*) {}
  void br_table(S&, const std::vector<uint32_t>&, V&, V*) {}
  void return_(S&, V*) {}
  void call(S&, uint32_t, const wasm::FuncType&, V*) {}
  void call_indirect(S&, uint32_t, uint32_t, const wasm::FuncType&, V*, V&) {}

 private:
  uint64_t loop_offset_;
  LoopState& out_;
};
static_assert(wasm::BodyInterface<LoopProbe>);

using Decoder = wasm::BodyDecoder<wasm::NoValidation, LoopProbe>;
using Instr = Decoder::Instruction;

// Copies the instructions in [begin, end), which sit one block deeper in
// the copy than in the original: branches out of the range get one more
// label to cross.
bool copy_one_level_deeper(Decoder& decoder, const Bytes& bytes, size_t begin, size_t end, Bytes& out) {
  uint32_t depth = 0;  // blocks opened inside the range
  Instr in;
  for (size_t pos = begin; pos < end;) {
    if (!decoder.decode_instruction_at(pos, in) || in.end > end) return false;
    auto relabel = [&](uint32_t label) { return label >= depth ? label + 1 : label; };
    switch (in.op) {
      case wasm::Opcode::Block: case wasm::Opcode::Loop: case wasm::Opcode::If:
        ++depth;
        out.insert(out.end(), bytes.begin() + pos, bytes.begin() + in.end);
        break;
      case wasm::Opcode::End:
        if (depth == 0) return false;  // not a sequence of whole instructions
        --depth;
        out.push_back(bytes[pos]);
        break;
      case wasm::Opcode::Br: case wasm::Opcode::BrIf:
        out.push_back(bytes[pos]);
        put_uleb(out, relabel(in.imm.index));
        break;
      case wasm::Opcode::BrTable:
        out.push_back(bytes[pos]);
        put_uleb(out, in.targets.size() - 1);  // the default is the last target
        for (uint32_t target : in.targets) put_uleb(out, relabel(target));
        break;
      default:
        out.insert(out.end(), bytes.begin() + pos, bytes.begin() + in.end);
    }
    pos = in.end;
  }
  return depth == 0;
}

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

// Appends to `copy`, a copy of `module`, one more function: the rest of
// function `func_index` from the header of its loop at `loop_offset` (see
// above). Returns its index.
Result<uint32_t> add_loop_variant(const wasm::Module& module, wasm::Module& copy, uint32_t func_index,
                                  uint32_t loop_offset) {
  auto fail = [&](const char* why) {
    return Error(ErrorCode::Internal, loop_offset, std::string("no on-stack replacement for this loop: ") + why);
  };
  LoopState state;
  LoopProbe probe(loop_offset, state);
  Decoder decoder(module, func_index, probe);
  SKIFF_TRY(decoder.decode());
  if (!state.found || state.path.size() < 2) return fail("the interpreter named no reachable loop there");

  const Bytes& bytes = module.bytes;
  const wasm::FunctionBody& body = module.body(func_index);
  const auto num_locals = static_cast<uint32_t>(state.locals.size());
  const auto flag = static_cast<uint32_t>(num_locals + state.stack.size());
  auto put_local_get = [](Bytes& out, uint32_t index) {
    out.push_back(0x20);
    put_uleb(out, index);
  };
  auto put_flag_set = [&](Bytes& out, bool value) {
    out.insert(out.end(), {0x41, static_cast<uint8_t>(value ? 1 : 0), 0x21});
    put_uleb(out, flag);
  };
  auto type_index = [&](std::vector<ValType> params, std::vector<ValType> results) {
    wasm::FuncType type{std::move(params), std::move(results)};
    for (uint32_t i = 0; i < copy.types.size(); ++i)
      if (copy.types[i].params == type.params && copy.types[i].results == type.results) return i;
    copy.types.push_back(std::move(type));
    return static_cast<uint32_t>(copy.types.size() - 1);
  };

  Bytes code;
  put_flag_set(code, true);
  size_t pos = body.body_offset;
  for (size_t i = 0; i + 1 < state.path.size(); ++i) {
    const PathFrame& outer = state.path[i];
    const PathFrame& inner = state.path[i + 1];
    const bool inner_is_loop = i + 2 == state.path.size();
    // Where the code before `inner` starts: after the outer block's
    // instruction, or after its `else`.
    size_t start = body.body_offset;
    if (i > 0) {
      Instr head;
      if (!decoder.decode_instruction_at(outer.offset, head)) return fail("undecodable block");
      start = head.end;
      if (outer.kind == wasm::BlockKind::Else) {
        uint32_t depth = 0;
        for (;;) {
          Instr in;
          if (!decoder.decode_instruction_at(start, in)) return fail("no else found");
          start = in.end;
          if (in.op == wasm::Opcode::Block || in.op == wasm::Opcode::Loop || in.op == wasm::Opcode::If) ++depth;
          else if (in.op == wasm::Opcode::End) --depth;
          else if (in.op == wasm::Opcode::Else && depth == 0) break;
        }
      }
    }
    if (start > inner.offset || inner.height < outer.height || inner.height > state.stack.size())
      return fail("inconsistent block structure");
    code.insert(code.end(), bytes.begin() + pos, bytes.begin() + start);
    // if (flag) { values from the parameters } else { the original code }
    std::vector<ValType> in = i == 0 ? std::vector<ValType>() : outer.params;
    std::vector<ValType> out(state.stack.begin() + outer.height, state.stack.begin() + inner.height);
    out.insert(out.end(), inner.params.begin(), inner.params.end());
    const bool inner_is_if = inner.kind == wasm::BlockKind::If || inner.kind == wasm::BlockKind::Else;
    if (inner_is_if) out.push_back(ValType::I32);
    put_local_get(code, flag);
    code.push_back(0x04);
    if (in.empty() && out.size() <= 1) code.push_back(out.empty() ? 0x40 : static_cast<uint8_t>(out[0]));
    else put_sleb(code, type_index(in, out));
    code.insert(code.end(), in.size(), 0x1a);  // drop the block's params: their values come from the frame
    for (uint32_t j = outer.height; j < inner.height; ++j) put_local_get(code, num_locals + j);
    if (inner_is_loop) {
      if (inner.height + inner.params.size() != state.stack.size()) return fail("inconsistent loop params");
      for (uint32_t j = inner.height; j < state.stack.size(); ++j) put_local_get(code, num_locals + j);
    } else {
      for (ValType t : inner.params) put_zero(code, t);  // replaced inside `inner` in turn
    }
    if (inner_is_if) code.insert(code.end(), {0x41, static_cast<uint8_t>(inner.kind == wasm::BlockKind::If ? 1 : 0)});
    code.push_back(0x05);
    if (!copy_one_level_deeper(decoder, bytes, start, inner.offset, code)) return fail("undecodable code");
    code.push_back(0x0b);
    pos = inner.offset;
  }
  Instr loop;
  if (!decoder.decode_instruction_at(pos, loop) || loop.op != wasm::Opcode::Loop) return fail("no loop there");
  code.insert(code.end(), bytes.begin() + pos, bytes.begin() + loop.end);
  put_flag_set(code, false);
  code.insert(code.end(), bytes.begin() + loop.end, bytes.begin() + body.body_end);

  if (copy.bytes.size() + code.size() > UINT32_MAX) return fail("module too large");
  std::vector<ValType> params = state.locals;
  params.insert(params.end(), state.stack.begin(), state.stack.end());
  wasm::FunctionBody function;
  function.type_index = type_index(std::move(params), module.func_type(func_index).results);
  function.locals = {ValType::I32};
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
  return index;
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

  // Both called from the interpreter's loop: nothing may propagate from here.
  void function_became_hot(std::shared_ptr<const rt::CompiledModule> module, uint32_t defined_index,
                           uint32_t loop_offset) override {
    try {
      auto compiler = compiler_.lock();
      if (compiler == nullptr) return;
      const TierUpPolicy& policy = compiler->policy();
      TierUpCompiler::Request request{std::move(module), defined_index, /*function=*/true, kNoLoop};
      // How long its frames run: the hotness of all its calls so far over
      // their number.
      const uint32_t calls = request.module->funcs[defined_index].entries.load(std::memory_order_relaxed);
      // A first call that turns hot at its entry (its loop's code came from
      // the cache and set the countdown to 1): compiling the function would
      // serve no other call yet.
      if (loop_offset == kNoLoop && calls <= 1) return;
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
        if (request.function && !functions_.insert(defined_index).second) return;  // asked before
      }
      compiler->submit(std::move(request));
    } catch (...) {
      // Out of memory or no thread: the function stays interpreted.
    }
  }

  const rt::CompiledFunc* loop_is_hot(std::shared_ptr<const rt::CompiledModule> module, uint32_t defined_index,
                                      uint32_t loop_offset) override {
    try {
      {
        std::lock_guard lock(mutex_);
        auto found = loops_.find({defined_index, loop_offset});
        if (found != loops_.end()) {
          LoopCode& loop = found->second;
          if (loop.entry != nullptr) {
            g_loops_entered.fetch_add(1, std::memory_order_relaxed);
            if (log_ && !loop.entered)
              std::fprintf(stderr, "skiff: tier-up: a running frame of %s continues in machine code at its loop\n",
                           describe(*module->module, {defined_index}).c_str());
            loop.entered = true;
          }
          return loop.entry;  // null while compiling, or after a failure
        }
        // While the function itself compiles, its frames are taken to be
        // short (function_became_hot chose so); once it has machine code, a
        // frame still hot here entered before the switch.
        if (functions_.contains(defined_index) &&
            module->funcs[defined_index].native_entry.load(std::memory_order_acquire) == nullptr)
          return nullptr;
        // One loop of a function at a time: its frame would move into the
        // first one ready, and the others' compiles would be wasted.
        // A loop whose code is ready but not yet entered: the frame is in
        // another loop (usually one nested in it) and comes back to its
        // header soon. Until then it reports at every loop header, for a
        // while, so that it moves there as soon as it arrives.
        bool other_ready = false;
        for (auto it = loops_.lower_bound({defined_index, 0}); it != loops_.end() && it->first.first == defined_index;
             ++it) {
          if (it->second.compiling) return nullptr;
          other_ready |= it->second.entry != nullptr && !it->second.entered;
        }
        if (other_ready && header_waits_[defined_index]++ < kMaxHeaderWaits) {
          module->funcs[defined_index].hotness_countdown.store(1, std::memory_order_relaxed);
          return nullptr;
        }
      }
      auto compiler = compiler_.lock();
      if (compiler == nullptr || !compiler->policy().on_stack_replacement) return nullptr;
      {
        std::lock_guard lock(mutex_);
        if (!loops_.try_emplace({defined_index, loop_offset}).second) return nullptr;  // another thread asked
      }
      compiler->submit({std::move(module), defined_index, /*function=*/false, loop_offset});
    } catch (...) {
    }
    return nullptr;
  }

  // From the compile thread, or attach (cached code). `code` owns the
  // machine code `entry` is in; both are null when the compile failed.
  // With code, the function's frames report at the next loop header they
  // pass, rather than a threshold later, so one moves in when it reaches
  // this loop.
  void set_loop_code(const rt::CompiledModule& module, uint32_t defined_index, uint32_t loop_offset,
                     std::shared_ptr<rt::CompiledModule> code, const rt::CompiledFunc* entry) {
    {
      std::lock_guard lock(mutex_);
      LoopCode& loop = loops_[{defined_index, loop_offset}];
      loop.code = std::move(code);
      loop.entry = entry;
      loop.compiling = false;
    }
    if (entry != nullptr) module.funcs[defined_index].hotness_countdown.store(1, std::memory_order_relaxed);
  }

 private:
  // An entry exists once the loop was asked for; `entry` stays null while
  // it compiles, and for good if that failed.
  struct LoopCode {
    std::shared_ptr<rt::CompiledModule> code;  // the module copy the loop's code was installed in
    const rt::CompiledFunc* entry = nullptr;
    bool compiling = true;
    bool entered = false;  // logged
  };
  std::weak_ptr<TierUpCompiler> compiler_;
  const bool log_;
  std::mutex mutex_;
  std::map<std::pair<uint32_t, uint32_t>, LoopCode> loops_;
  std::set<uint32_t> functions_;  // asked to compile
  // Loop headers a function's frames passed while waiting for a loop whose
  // code is ready (loop_is_hot): up to ~1 ms of reports.
  static constexpr uint32_t kMaxHeaderWaits = 10'000;
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
  return policy;
}

TierUpStats tier_up_stats() {
  return TierUpStats{g_batches.load(std::memory_order_relaxed), g_functions.load(std::memory_order_relaxed),
                     g_failed_functions.load(std::memory_order_relaxed), g_loops.load(std::memory_order_relaxed),
                     g_loops_entered.load(std::memory_order_relaxed), g_unversioned.load(std::memory_order_relaxed),
                     g_cached_functions.load(std::memory_order_relaxed), g_cached_loops.load(std::memory_order_relaxed)};
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
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || unavailable_) return;
    queue_.push_back(std::move(request));
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  wake_.notify_one();
}

bool TierUpCompiler::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [&] { return (queue_.empty() && !busy_) || stopping_; });
}

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
    std::erase_if(defined, [&](uint32_t d) {
      return module->funcs[d].native_entry.load(std::memory_order_acquire) != nullptr;
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
      std::fprintf(stderr, "skiff: tier-up: compiled the whole module in the background in %.1f ms\n", ms);
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
// original's.
Result<std::shared_ptr<rt::CompiledModule>> install_in_copy(std::shared_ptr<const wasm::Module> copy,
                                                           const CompiledCode& code) {
  auto holder = std::make_shared<rt::CompiledModule>();
  holder->module = std::move(copy);
  holder->funcs = std::make_unique<rt::CompiledFunc[]>(holder->module->num_defined_funcs());
  SKIFF_TRY(install(*holder, code));
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
  for (uint32_t d : defined)
    target.funcs[d].native_entry.store(holder->funcs[d].native_entry.load(std::memory_order_acquire),
                                       std::memory_order_release);
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
  std::vector<std::pair<LoopRef, uint32_t>> variants;  // a loop and its function in the copy
  for (const LoopRef& loop : loops) {
    auto index = add_loop_variant(wasm_module, *copy, imports + loop.defined_index, loop.offset);
    if (!index.ok()) {
      log_error(describe(wasm_module, {loop.defined_index}) + ": " + index.error().to_string());
      listener->set_loop_code(*module, loop.defined_index, loop.offset, nullptr, nullptr);
      continue;
    }
    variants.emplace_back(loop, index.value());
    func_indices.push_back(index.value());
  }
  if (variants.empty()) {
    if (!defined.empty()) compile_module_batch(module, std::move(defined), unversioned);
    return;
  }
  auto code = compile(*copy, func_indices, compile_options(wasm_module, unversioned));
  Result<std::shared_ptr<rt::CompiledModule>> holder =
      code.ok() ? install_in_copy(copy, code.value()) : Result<std::shared_ptr<rt::CompiledModule>>(code.error());
  if (!holder.ok()) {
    if (code.ok() || code.error().code != ErrorCode::UsageError) log_error(holder.error().to_string());
    for (const auto& [loop, index] : variants)
      listener->set_loop_code(*module, loop.defined_index, loop.offset, nullptr, nullptr);
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
    for (const auto& [loop, index] : variants) looping.push_back(loop.defined_index);
    std::string functions = defined.empty() ? std::string()
                                            : std::to_string(defined.size()) +
                                                  (defined.size() == 1 ? " function (" : " functions (") +
                                                  describe(wasm_module, defined) + ") and ";
    std::fprintf(stderr, "skiff: tier-up: compiled %s%zu loop%s (of %s) in %.1f ms (on-stack replacement), from %.1f ms\n",
                 functions.c_str(), variants.size(), variants.size() == 1 ? "" : "s",
                 describe(wasm_module, looping).c_str(), ms, elapsed_ms(start));
  }
  for (const auto& [loop, index] : variants) {
    const rt::CompiledFunc* entry = &holder.value()->funcs[index - imports];
    if (entry->native_entry.load(std::memory_order_acquire) == nullptr) entry = nullptr;
    if (entry != nullptr) g_loops.fetch_add(1, std::memory_order_relaxed);
    listener->set_loop_code(*module, loop.defined_index, loop.offset, holder.value(), entry);
  }
  TierUpBatch batch{std::move(defined), {}, std::move(code.value())};
  for (const auto& [loop, index] : variants) batch.loops.emplace_back(loop.defined_index, loop.offset);
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
    std::fprintf(stderr, "skiff: tier-up: compiled %zu function%s in %.1f ms (%s), from %.1f ms\n", defined.size(),
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
    std::vector<uint32_t> variant_indices;
    if (batch.loops.empty()) {
      if (!install(module, batch.code).ok()) continue;
    } else {
      auto copy = std::make_shared<wasm::Module>(wasm_module);
      for (size_t k = 0; k < batch.loops.size() && fits; ++k) {
        auto index = add_loop_variant(wasm_module, *copy, imports + batch.loops[k].first, batch.loops[k].second);
        fits = index.ok();
        if (fits) variant_indices.push_back(index.value());
      }
      if (!fits) continue;
      auto installed = install_in_copy(copy, batch.code);
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
      const rt::CompiledFunc* entry = &holder->funcs[variant_indices[k] - imports];
      if (entry->native_entry.load(std::memory_order_acquire) == nullptr) continue;
      // The first report of a frame goes to loop_is_hot, which moves it in.
      module.funcs[d].hot_reported.store(true, std::memory_order_relaxed);
      listener.set_loop_code(module, d, offset, holder, entry);
      ++loops;
    }
    functions += batch.functions.size();
    listener.record_cached_batch(std::move(batch));
  }
  g_cached_functions.fetch_add(functions, std::memory_order_relaxed);
  g_cached_loops.fetch_add(loops, std::memory_order_relaxed);
  if (policy_.log && functions + loops > 0)
    std::fprintf(stderr, "skiff: tier-up: %zu function%s and %zu loop%s from the cache\n", functions,
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

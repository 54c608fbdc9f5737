// Tier::Auto: start in the interpreter, compile the functions that turn out
// hot with LLVM on a background thread, switch them to machine code.
//
//  - Hotness: code lowered for a module that tiers up (CompiledModule::tier_up
//    set) counts down CompiledFunc::hotness_countdown at every function
//    entry (by the function's size in tier-0 words) and every loop
//    iteration (by the loop body's size): an estimate of the time spent
//    interpreting it (interp.h's HotCount); entries also count calls
//    (HotCountEntry). At zero the function is reported and queued (again
//    at later expiries at entry while it has no machine code). Modules of
//    other tiers have no counters.
//  - Compiling: one thread per TierUpCompiler (one per Engine), started on
//    the first report. It waits a short window after a report so that
//    functions turning hot together (a loop and its callees) compile in one
//    batch, one llvmjit::compile() call per module: they then call each
//    other directly, and LLVM's set-up is paid once.
//  - Switching: install() sets native_entry, then interp::use_native_code
//    makes the interpreter run the machine code on its next call of the
//    function. A frame already running in tier 0 keeps counting; when one
//    of its loops expires the countdown again, it continues in machine
//    code at that loop's header (on-stack replacement, see tierup.cpp).
//    A function that turns hot in a loop gets that loop's code in the
//    same compile as its own, or instead of it when it was called once (a
//    `main`: see kTierUpLongFrameWords); then that code also serves the
//    loops around that loop and the later ones, so that the frame moves
//    in even if that loop ended meanwhile. Until a frame enters such code,
//    the headers of the loops it serves weigh a whole threshold in tier
//    0, so the frame moves in at its next pass of any of them. Other loops
//    compile when they turn hot, one at a time per function, and not
//    while the frame may still reach code ready for it (for up to ~30
//    thresholds of interpretation).
//  - Tier 1 (src/baseline, policy `baseline`): a function that turns hot
//    is compiled by it at once on the reporting thread, for its calls
//    (when tier 2 compiles the function) and with an entry at each loop
//    header: a frame reported hot in a loop continues in that code right
//    away. Its loop headers test a flag per loop, set when tier 2's code
//    for the loop is ready; the frame then moves on to that code there.
//  - Failure (no libskiff_llvm.so, a compile or load error) never traps:
//    the functions keep running in the interpreter. $SKIFF_TIERUP_LOG=1
//    reports every batch and the first error on stderr.
//  - Lifetime: queued requests hold the module (shared_ptr), so a module
//    dropped meanwhile stays valid until its batch is done; destroying the
//    compiler finishes the batch in progress, drops the rest and joins the
//    thread. Modules that outlive it keep interpreting.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "llvm/jit.h"
#include "runtime/objects.h"

namespace skiff::llvmjit {

// The policy, in one place. The numbers come from bench/ workloads on
// x86-64 (tier 0 runs roughly 1-2 code words per ns).
//
// Threshold, in tier-0 code words run by one function (each entry counts
// the function's size, each loop iteration the loop body's): 1M words is
// about 1 ms of that function's interpretation. Lower thresholds flood the
// single compile thread with lukewarm start-up functions (a 1000-word
// threshold made `sort` 2x slower than 300k-3M), higher ones keep hot code
// interpreted for longer.
//
// Batch window: after a report the thread waits 1 ms, so that callees
// turning hot at the same moment join the batch (one LLVM set-up, direct
// calls between them).
//
// First batch: it waits the same window, or for libskiff_llvm.so to load
// if that takes longer (dlopen alone takes 3-5 ms, 5-10 ms while the
// program runs on the other CPU: LLVM is linked in statically; libLLVM.so
// took 15-20 ms, and waiting 20 ms for the first batch made auto 5 %
// slower over bench/). Destroying an Engine waits for the batch in
// progress (LLVM cannot be interrupted); `skiff run` ends with _exit and
// never waits.
//
// A function that turns hot in a loop: its frames are long when the
// threshold over its calls so far is at least 100k words (~0.1 ms per
// call), and then a frame stuck in that loop wants its on-stack
// replacement in the same compile. With one call (a `main`) only that loop
// compiles; with short frames (memcpy) only the function.
//
// Short frames: a function whose calls so far average under 1000 words
// (about 1 us interpreted; musl's memcpy of a few dozen bytes) compiles
// without bounds versioning. Its loops run too few iterations for the
// in-bounds copy to pay, and the copies of many small loops tripled the
// compile (fannkuch's memcpy and memmove: 190-245 ms with, 54 ms without),
// which kept the loop calling them interpreted meanwhile.
//
// Batch size: LLVM takes ~10 ms per KB of wasm, so past 4 KB of function
// bodies a batch takes the smallest functions first and leaves the rest to
// the next one: one large function (musl's malloc, 7 KB, ~100 ms) then no
// longer holds back the small hot ones that turned hot with it, which run
// tier 1's code or tier 0 meanwhile.
//
// Whole-module compile for the cache (attach's `whole_module`): it starts 1 s
// after the module's first batch, so that programs too short to see it
// finish never run it (on this 2-vCPU VM any work on the other CPU slowed
// short auto runs by up to 10 %).
inline constexpr uint32_t kDefaultTierUpThreshold = 1'000'000;
inline constexpr std::chrono::milliseconds kTierUpWholeModuleDelay{1000};
inline constexpr uint32_t kTierUpLongFrameWords = 100'000;
inline constexpr uint32_t kTierUpShortFrameWords = 1'000;
inline constexpr std::chrono::microseconds kTierUpBatchWindow{1000};
inline constexpr std::chrono::microseconds kTierUpFirstBatchDelay = kTierUpBatchWindow;
inline constexpr size_t kTierUpBatchBytes = 4096;

struct TierUpPolicy {
  uint32_t threshold = kDefaultTierUpThreshold;
  std::chrono::microseconds batch_window = kTierUpBatchWindow;
  std::chrono::microseconds first_batch_delay = kTierUpFirstBatchDelay;  // counted from the start of LLVM's load
  size_t batch_bytes = kTierUpBatchBytes;
  bool interruptible = true;         // EngineConfig::interruptible
  bool on_stack_replacement = true;  // compile hot loops of frames stuck in tier 0
  uint32_t long_frame_words = kTierUpLongFrameWords;
  uint32_t short_frame_words = kTierUpShortFrameWords;
  std::chrono::milliseconds whole_module_delay = kTierUpWholeModuleDelay;
  bool log = false;                  // one line per batch and the first error, on stderr
  // Tier 1 compiles a function that turns hot at its calls at once, on the
  // reporting thread, for its calls until tier 2's code is ready.
  bool baseline = false;
  // Tests: compile each request in the thread that reports it, before the
  // frame goes on, so that every hot loop's code is entered at its next
  // header pass ($SKIFF_TIERUP_SYNC).
  bool synchronous = false;
};

// The policy for an engine: `configured_threshold` (EngineConfig) when not
// 0, else $SKIFF_TIERUP_THRESHOLD when set to a positive number, else the
// default; `log` from $SKIFF_TIERUP_LOG, and $SKIFF_TIERUP_OSR=0 turns
// on-stack replacement off and $SKIFF_TIERUP_SYNC=1 makes it synchronous
// (all: set and not "0"); tier 1 first unless $SKIFF_TIERUP_BASELINE=0.
TierUpPolicy tier_up_policy(uint32_t configured_threshold, bool interruptible = true);

// Process-wide counters, for tests and logs.
struct TierUpStats {
  uint64_t batches = 0;            // compile() calls of functions that succeeded
  uint64_t functions = 0;          // functions switched to machine code
  uint64_t failed_functions = 0;   // left in the interpreter after an error
  uint64_t loops = 0;              // loops compiled for on-stack replacement
  uint64_t loops_entered = 0;      // interpreter frames moved into such code
  uint64_t unversioned = 0;        // functions compiled without bounds versioning (short frames)
  uint64_t cached_functions = 0;   // functions and loops given code from cached batches (attach)
  uint64_t cached_loops = 0;
  uint64_t tier1_functions = 0;    // given tier 1's code when they turned hot
  uint64_t tier1_loops_entered = 0;  // interpreter frames moved into tier 1's code at a loop
};
TierUpStats tier_up_stats();

class TierUpCompiler : public std::enable_shared_from_this<TierUpCompiler> {
 public:
  explicit TierUpCompiler(TierUpPolicy policy);
  ~TierUpCompiler();
  TierUpCompiler(const TierUpCompiler&) = delete;
  TierUpCompiler& operator=(const TierUpCompiler&) = delete;

  // Makes `module` (not yet lowered or instantiated) count hotness and
  // report hot functions here. Its functions with machine code run it.
  // With `whole_module`, a while after its first batch is compiled the
  // whole module is compiled too, on a background thread at the lowest
  // priority, and handed to it (for an on-disk cache: the next run starts
  // with machine code); modules over kWholeModuleMaxBytes are left out.
  // With `batches`, every batch's code is handed to it, with the batches
  // before it, as it is installed (for the same cache: a run too short to
  // see the whole module compiled still leaves its hot code there).
  // `cached`: batches an earlier run handed over, installed now, so the
  // functions start with machine code and frames move into the loops at
  // their first pass of the header; a batch that does not fit the module
  // is left out.
  using WholeModuleSink = std::function<void(const wasm::Module&, const CompiledCode&)>;
  using BatchSink = std::function<void(const wasm::Module&, const std::vector<TierUpBatch>&)>;
  static constexpr size_t kWholeModuleMaxBytes = 4u << 20;
  void attach(rt::CompiledModule& module, WholeModuleSink whole_module = {}, BatchSink batches = {},
              std::vector<TierUpBatch> cached = {});

  // What to compile of defined function `defined_index` of `module`: the
  // function (for new calls), its code from the header of the loop at byte
  // `loop_offset` (on-stack replacement of a frame stuck there), or both in
  // one compile (a function that turned hot in a loop).
  static constexpr uint32_t kNoLoop = rt::HotFunctionListener::kNoLoop;
  struct Request {
    std::shared_ptr<const rt::CompiledModule> module;
    uint32_t defined_index = 0;
    bool function = true;
    uint32_t loop_offset = kNoLoop;
    bool short_frames = false;  // its calls are short: no bounds versioning (tierup.h)
  };
  // Queues a request; any thread.
  void submit(Request request);

  // Waits until nothing is queued or compiling (tests); false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout);

  const TierUpPolicy& policy() const { return policy_; }

 private:
  class ModuleListener;
  void run();
  void run_whole_modules();
  void compile_batch(std::vector<Request> requests);
  void compile_module_batch(const std::shared_ptr<const rt::CompiledModule>& module, std::vector<uint32_t> defined,
                            const std::vector<uint32_t>& unversioned);
  struct LoopRef {
    uint32_t defined_index;
    uint32_t offset;
  };
  void compile_with_loops(const std::shared_ptr<const rt::CompiledModule>& module, std::vector<uint32_t> defined,
                          const std::vector<LoopRef>& loops, const std::vector<uint32_t>& unversioned);
  void log_error(const std::string& message);
  void install_cached(rt::CompiledModule& module, ModuleListener& listener, std::vector<TierUpBatch> cached);
  // `unversioned`: defined indices of functions with short frames.
  CompileOptions compile_options(const wasm::Module& module, const std::vector<uint32_t>& unversioned = {}) const;

  // Milliseconds since this compiler was made, for the log.
  double elapsed_ms(std::chrono::steady_clock::time_point when) const;

  const TierUpPolicy policy_;
  const std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
  std::mutex mutex_;
  std::condition_variable wake_;  // requests arrived, or stopping
  std::condition_variable idle_;  // queue drained and no batch running
  std::vector<Request> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  bool unavailable_ = false;  // tier 2 cannot load: drop every request
  bool error_logged_ = false;
  std::thread thread_;        // started by the first submit()
  // Whole-module compiles (attach's `whole_module`), one at a time.
  std::vector<std::pair<std::shared_ptr<const rt::CompiledModule>, WholeModuleSink>> whole_queue_;
  std::condition_variable whole_wake_;
  std::thread whole_thread_;  // started by the first one
};

}  // namespace skiff::llvmjit

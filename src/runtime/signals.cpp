// ============================================================================
// FAULT HANDLER: turns guard-page faults of wasm memory accesses into traps.
//
// What it does. Every 32-bit linear memory reserves 8 GiB + 64 KiB of
// address space with PROT_NONE and makes only its current size accessible,
// so wasm loads and stores need no bounds checks: an out-of-bounds access
// touches an inaccessible page and the CPU raises SIGSEGV (SIGBUS on some
// systems). This handler, installed once for SIGSEGV and SIGBUS with
// SA_SIGINFO|SA_ONSTACK, converts such a fault into an "out of bounds memory
// access" trap by siglongjmp'ing to the innermost host→wasm entry
// (rt::call_guarded), which restores the store's stacks and returns a Trap.
//
// Why it is safe. It acts only when BOTH hold:
//   1. the fault was raised by the kernel for a memory access (si_code > 0),
//      on a thread that is currently running guarded wasm code (a
//      thread-local activation pointer is set only between entering wasm and
//      leaving it, and is cleared while a host function runs), and
//   2. the faulting address lies inside the reservation of a live linear
//      memory (a fixed registry of reservation bases, read with atomic loads
//      only: no locks, no allocation, nothing that is not async-signal-safe).
// Tier 0 is C++ code, so for it the two checks above are what ties the
// fault to a wasm access. Anything else — a real crash of the host, a
// stack overflow, a fault in an unrelated mapping — is passed on: to the
// previously installed handler if there was one, otherwise the default
// action is restored and the handler returns, so the faulting instruction
// runs again and the process dies with the usual signal. Real crashes are
// never swallowed.
//
// Tier 2's machine code (x86-64) is recognised by its PC, in a second fixed
// registry of code ranges. For a fault there the handler does not jump: it
// rewrites the interrupted context as if the faulting instruction had
// called the activation's `fault_redirect` function (return address pushed
// on an aligned stack, PC set), and returns. That function then runs as a
// normal call with the wasm frames still intact, so it can walk their frame
// pointers for the backtrace before it unwinds (src/llvm/jit.cpp).
//
// The jump skips the frames between the entry and the faulting access; they
// belong to the interpreter, which keeps no resources in destructors there
// (its state lives in the Store, which call_guarded resets). The handler runs
// with SA_NODEFER so the signal mask is unchanged and the jump needs no
// mask restore, and on a per-thread alternate stack so that it can also run
// (and pass on) a fault caused by native stack overflow.
// ============================================================================
#include "runtime/signals.h"

#include <pthread.h>
#include <signal.h>
#include <ucontext.h>
#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace skiff::rt {

namespace {

// ---- registry of memory reservations (read by the handler) ----------------

// 128 TiB of user address space holds at most ~16k reservations of 8 GiB.
constexpr size_t kRegistryCapacity = 16384;
std::atomic<uintptr_t> g_reservations[kRegistryCapacity];
std::atomic<size_t> g_registry_high_water{0};  // slots at or above are all empty

bool address_in_reservation(uintptr_t addr) {
  size_t n = g_registry_high_water.load(std::memory_order_acquire);
  if (n > kRegistryCapacity) n = kRegistryCapacity;
  for (size_t i = 0; i < n; ++i) {
    uintptr_t base = g_reservations[i].load(std::memory_order_acquire);
    if (base != 0 && addr >= base && addr - base < kMemoryReservationBytes) return true;
  }
  return false;
}

// ---- registry of tier-2 code ranges (read by the handler) -----------------

constexpr size_t kCodeRangeCapacity = 4096;
struct CodeRange {
  std::atomic<uintptr_t> begin{0};
  std::atomic<uintptr_t> end{0};
};
CodeRange g_code_ranges[kCodeRangeCapacity];
std::atomic<size_t> g_code_high_water{0};

bool pc_in_code(uintptr_t pc) {
  size_t n = g_code_high_water.load(std::memory_order_acquire);
  if (n > kCodeRangeCapacity) n = kCodeRangeCapacity;
  for (size_t i = 0; i < n; ++i) {
    uintptr_t begin = g_code_ranges[i].begin.load(std::memory_order_acquire);
    if (begin != 0 && pc >= begin && pc < g_code_ranges[i].end.load(std::memory_order_acquire)) return true;
  }
  return false;
}

// ---- the handler ----------------------------------------------------------

thread_local Activation* tls_activation = nullptr;

struct sigaction g_previous_segv;
struct sigaction g_previous_bus;

void pass_on(int sig, siginfo_t* info, void* context) {
  const struct sigaction& previous = sig == SIGSEGV ? g_previous_segv : g_previous_bus;
  if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction != nullptr) {
    previous.sa_sigaction(sig, info, context);
    return;
  }
  if (!(previous.sa_flags & SA_SIGINFO) && previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
    return;
  }
  // Default action: reinstall it and return; the access faults again and the
  // kernel terminates the process as it would have without us.
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
}

void handle_fault(int sig, siginfo_t* info, void* context) {
  Activation* activation = tls_activation;
  if (activation != nullptr && info != nullptr && info->si_code > 0 &&
      address_in_reservation(reinterpret_cast<uintptr_t>(info->si_addr))) {
#if defined(__x86_64__) && defined(__linux__)
    auto* uc = static_cast<ucontext_t*>(context);
    auto pc = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
    if (activation->fault_redirect != 0 && pc_in_code(pc)) {
      // Below the red zone is not needed: the faulting frame never resumes.
      auto sp = (static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]) & ~uintptr_t{15}) - 8;
      *reinterpret_cast<uintptr_t*>(sp) = pc;
      uc->uc_mcontext.gregs[REG_RSP] = static_cast<greg_t>(sp);
      uc->uc_mcontext.gregs[REG_RIP] = static_cast<greg_t>(activation->fault_redirect);
      return;
    }
#endif
    siglongjmp(activation->jump, 1);
  }
  pass_on(sig, info, context);
}

void install_handler() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_sigaction = handle_fault;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  sigaction(SIGSEGV, &action, &g_previous_segv);
  sigaction(SIGBUS, &action, &g_previous_bus);
}

// ---- per-thread alternate signal stack ------------------------------------

constexpr size_t kAltStackBytes = 64 * 1024;

struct AltStack {
  void* memory = nullptr;
  AltStack() {
    stack_t current;
    if (sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;  // someone else's
    void* p = mmap(nullptr, kAltStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    stack_t stack;
    stack.ss_sp = p;
    stack.ss_size = kAltStackBytes;
    stack.ss_flags = 0;
    if (sigaltstack(&stack, nullptr) != 0) {
      munmap(p, kAltStackBytes);
      return;
    }
    memory = p;
  }
  ~AltStack() {
    if (memory == nullptr) return;
    stack_t disable;
    std::memset(&disable, 0, sizeof disable);
    disable.ss_flags = SS_DISABLE;
    sigaltstack(&disable, nullptr);
    munmap(memory, kAltStackBytes);
  }
};

// ---- native stack bounds --------------------------------------------------

struct StackBounds {
  uintptr_t low = 0;  // 0 = unknown
  size_t size = 0;
  StackBounds() {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
    void* addr = nullptr;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) low = reinterpret_cast<uintptr_t>(addr);
    else size = 0;
    pthread_attr_destroy(&attr);
  }
};

}  // namespace

bool register_memory_reservation(const uint8_t* base) {
  auto value = reinterpret_cast<uintptr_t>(base);
  for (size_t i = 0; i < kRegistryCapacity; ++i) {
    uintptr_t expected = 0;
    if (g_reservations[i].compare_exchange_strong(expected, value, std::memory_order_acq_rel)) {
      size_t high = g_registry_high_water.load(std::memory_order_relaxed);
      while (high < i + 1 &&
             !g_registry_high_water.compare_exchange_weak(high, i + 1, std::memory_order_acq_rel)) {
      }
      return true;
    }
  }
  return false;
}

void unregister_memory_reservation(const uint8_t* base) {
  auto value = reinterpret_cast<uintptr_t>(base);
  size_t n = g_registry_high_water.load(std::memory_order_acquire);
  for (size_t i = 0; i < n && i < kRegistryCapacity; ++i) {
    uintptr_t expected = value;
    if (g_reservations[i].compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) return;
  }
}

bool register_code_range(uintptr_t begin, uintptr_t end) {
  for (size_t i = 0; i < kCodeRangeCapacity; ++i) {
    uintptr_t expected = 0;
    // Claim the slot through `end`, then publish `begin`, which readers test first.
    if (g_code_ranges[i].end.compare_exchange_strong(expected, end, std::memory_order_acq_rel)) {
      g_code_ranges[i].begin.store(begin, std::memory_order_release);
      size_t high = g_code_high_water.load(std::memory_order_relaxed);
      while (high < i + 1 && !g_code_high_water.compare_exchange_weak(high, i + 1, std::memory_order_acq_rel)) {
      }
      return true;
    }
  }
  return false;
}

void unregister_code_range(uintptr_t begin) {
  size_t n = g_code_high_water.load(std::memory_order_acquire);
  for (size_t i = 0; i < n && i < kCodeRangeCapacity; ++i) {
    uintptr_t expected = begin;
    if (g_code_ranges[i].begin.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) {
      g_code_ranges[i].end.store(0, std::memory_order_release);
      return;
    }
  }
}

void ensure_fault_handling() {
  static std::once_flag installed;
  std::call_once(installed, install_handler);
  thread_local AltStack alt_stack;
  (void)alt_stack;
}

Activation* current_activation() { return tls_activation; }
void set_current_activation(Activation* activation) { tls_activation = activation; }

bool native_stack_low(size_t margin) {
  thread_local StackBounds bounds;
  if (bounds.low == 0) return false;
  if (margin > bounds.size / 4) margin = bounds.size / 4;  // small thread stacks
  char marker;
  auto sp = reinterpret_cast<uintptr_t>(&marker);
  return sp < bounds.low || sp - bounds.low < margin;
}

}  // namespace skiff::rt

// Guard-page faults → traps. See the banner in signals.cpp.
#pragma once
#include <csetjmp>
#include <cstddef>
#include <cstdint>

namespace skiff::rt {

// Bytes of address space every 32-bit linear memory reserves: the 4 GiB
// index range, a 4 GiB guard (address + offset < 2^33) and one more page so
// that a 16-byte access at the very last offset still lands in the guard.
constexpr uint64_t kMemoryReservationBytes = (uint64_t{8} << 30) + 65536;

// Records a reservation [base, base + kMemoryReservationBytes) as one whose
// faults may become traps. Returns false if the registry is full.
bool register_memory_reservation(const uint8_t* base);
void unregister_memory_reservation(const uint8_t* base);

// One host→wasm entry on this thread. The fault handler jumps to the
// innermost one; `prev` chains nested entries (wasm→host→wasm).
struct Activation {
  sigjmp_buf jump;
  Activation* prev;
  // Tier 2: a fault in registered machine code "calls" this instead of
  // jumping (see the banner of signals.cpp); 0 = always jump.
  uintptr_t fault_redirect = 0;
};

// Records [begin, end) as tier-2 machine code (false if the registry is
// full: faults there then jump like tier 0's, with a shorter backtrace).
bool register_code_range(uintptr_t begin, uintptr_t end);
void unregister_code_range(uintptr_t begin);

// Installs the process-wide SIGSEGV/SIGBUS handler (once) and this thread's
// alternate signal stack (once per thread). Call before entering wasm.
void ensure_fault_handling();

// The innermost activation of this thread (null outside wasm, and while a
// host function runs: see HostCallScope in call.h).
Activation* current_activation();
void set_current_activation(Activation* activation);

// True when this thread's native stack has less than `margin` bytes left
// (at most a quarter of the stack, so small thread stacks still work).
bool native_stack_low(size_t margin);

}  // namespace skiff::rt

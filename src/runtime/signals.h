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
};

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

// The store: execution stacks and ownership of every entity.
#include <sys/mman.h>

#include <atomic>
#include <new>

#include "runtime/runtime.h"

namespace skiff::rt {

namespace {

constexpr uint64_t kDefaultValueStackBytes = 64ull << 20;
constexpr uint32_t kDefaultMaxCallDepth = 10000;
constexpr size_t kGuardBytes = 65536;

size_t round_to_pages(uint64_t bytes) { return static_cast<size_t>((bytes + 4095) & ~uint64_t{4095}); }

// Reserves `bytes` read-write (committed by the kernel on first touch)
// followed by an inaccessible guard, so an engine bug that overruns the
// stack crashes instead of corrupting the heap.
void* reserve_stack(size_t bytes) {
  void* p = mmap(nullptr, bytes + kGuardBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  mprotect(static_cast<uint8_t*>(p) + bytes, kGuardBytes, PROT_NONE);
  return p;
}

}  // namespace

Store::Store() : Store(kDefaultValueStackBytes, kDefaultMaxCallDepth) {}

Store::Store(uint64_t value_stack_bytes, uint32_t max_call_depth_) {
  if (value_stack_bytes < 4096) value_stack_bytes = 4096;
  if (max_call_depth_ == 0) max_call_depth_ = 1;
  size_t stack_bytes = round_to_pages(value_stack_bytes);
  value_stack = static_cast<Slot*>(reserve_stack(stack_bytes));
  value_stack_end = value_stack + stack_bytes / sizeof(Slot);
  stack_top = value_stack;
  max_call_depth = max_call_depth_;
  frame_capacity = max_call_depth_;
  size_t frame_bytes = round_to_pages(uint64_t{max_call_depth_} * sizeof(CallFrame));
  frames = static_cast<CallFrame*>(reserve_stack(frame_bytes));
}

Store::~Store() {
  // Instances point at everything else; drop them first.
  instances.clear();
  funcs.clear();
  tables.clear();
  memories.clear();
  globals.clear();
  size_t stack_bytes = reinterpret_cast<uint8_t*>(value_stack_end) - reinterpret_cast<uint8_t*>(value_stack);
  munmap(value_stack, stack_bytes + kGuardBytes);
  munmap(frames, round_to_pages(uint64_t{frame_capacity} * sizeof(CallFrame)) + kGuardBytes);
}

std::shared_ptr<CompiledModule> make_compiled_module(std::shared_ptr<const wasm::Module> module) {
  auto compiled = std::make_shared<CompiledModule>();
  uint32_t defined = module->num_defined_funcs();
  compiled->funcs = std::make_unique<CompiledFunc[]>(defined);
  compiled->native_bodies = std::make_unique<std::atomic<void*>[]>(defined);
  compiled->type_ids.reserve(module->types.size());
  for (const auto& type : module->types) compiled->type_ids.push_back(canonical_type_id(type));
  compiled->module = std::move(module);
  return compiled;
}

}  // namespace skiff::rt

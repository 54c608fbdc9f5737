// Linear memories: a fixed reservation whose accessible prefix grows.
#include <sys/mman.h>

#include "runtime/runtime.h"
#include "runtime/signals.h"

namespace skiff::rt {

namespace {

uint64_t max_pages_of(const wasm::MemoryType& type) {
  uint64_t max = type.limits.max ? *type.limits.max : kMaxPages;
  return max < kMaxPages ? max : kMaxPages;
}

}  // namespace

int64_t MemoryInst::grow(uint64_t delta) {
  uint64_t old_pages = pages();
  if (delta > kMaxPages) return -1;
  uint64_t new_pages = old_pages + delta;
  if (new_pages > max_pages_of(type)) return -1;
  if (base == nullptr) return -1;
  if (delta == 0) return static_cast<int64_t>(old_pages);
  uint64_t new_size = new_pages * kPageSize;
  // The store's cap on all its memories: past it grow fails like any
  // other refused allocation (the spec lets memory.grow return -1).
  if (owner != nullptr && owner->memory_bytes - size + new_size > owner->limits.max_memory_bytes) return -1;
  // Pages of a fresh reservation read as zero, and a memory never shrinks,
  // so committed-but-unused pages cannot exist: no clearing needed.
  if (mprotect(base + size, new_size - size, PROT_READ | PROT_WRITE) != 0) return -1;
  if (owner != nullptr) owner->memory_bytes += new_size - size;
  size = new_size;
  type.limits.min = new_pages;
  return static_cast<int64_t>(old_pages);
}

MemoryInst::~MemoryInst() {
  if (owner != nullptr) owner->memory_bytes -= size;
  if (base == nullptr) return;
  unregister_memory_reservation(base);
  munmap(base, reserved);
}

Result<MemoryInst*> new_memory(Store& store, const wasm::MemoryType& type) {
  if (type.limits.min > kMaxPages) return Error(ErrorCode::ResourceLimit, Error::kNoOffset, "memory larger than 4 GiB");
  const StoreLimits& limits = store.limits;
  if (store.memories.size() >= limits.max_memories)
    return Error(ErrorCode::ResourceLimit, Error::kNoOffset,
                 "store memory limit: at most " + std::to_string(limits.max_memories) + " memories");
  uint64_t initial_bytes = type.limits.min * kPageSize;
  if (initial_bytes > limits.max_memory_bytes || store.memory_bytes + initial_bytes > limits.max_memory_bytes)
    return Error(ErrorCode::ResourceLimit, Error::kNoOffset,
                 "store memory limit: a memory of " + std::to_string(initial_bytes) + " bytes would bring the total to " +
                     std::to_string(store.memory_bytes + initial_bytes) + " bytes, over the limit of " +
                     std::to_string(limits.max_memory_bytes));
  auto memory = std::make_unique<MemoryInst>();
  memory->owner = &store;
  memory->type = type;
  memory->type.limits.min = 0;
  void* p = mmap(nullptr, kMemoryReservationBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return Error(ErrorCode::ResourceLimit, Error::kNoOffset, "cannot reserve address space for a memory");
  memory->base = static_cast<uint8_t*>(p);
  memory->reserved = kMemoryReservationBytes;
  if (!register_memory_reservation(memory->base))
    return Error(ErrorCode::ResourceLimit, Error::kNoOffset, "too many live memories");
  if (memory->grow(type.limits.min) < 0)
    return Error(ErrorCode::ResourceLimit, Error::kNoOffset, "cannot commit the memory's initial pages");
  MemoryInst* raw = memory.get();
  store.memories.push_back(std::move(memory));
  return raw;
}

}  // namespace skiff::rt

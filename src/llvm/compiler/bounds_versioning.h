// Loops whose wasm memory accesses are all in bounds get a copy in which
// those accesses may be optimised like ordinary ones (see the .cpp).
#pragma once

#include <llvm/IR/PassManager.h>

#include <atomic>
#include <cstdint>

namespace skiff::llvmjit {

// Metadata kind on the load of memory 0's base in a function's entry: the
// pass recognises wasm memory accesses as addresses based on that value.
inline constexpr const char* kMem0BaseMetadata = "skiff.mem0";
// Name of the pass in pipeline texts ($SKIFF_LLVM_PIPELINE included).
inline constexpr const char* kBoundsVersioningPassName = "skiff-bounds-versioning";
// Function attribute: the pass leaves the function alone.
inline constexpr const char* kNoBoundsVersioningAttribute = "skiff-no-bounds-versioning";

struct BoundsVersioningOffsets {
  uint64_t instance_memories;  // Instance::memories (a vector: its first word is the data)
  uint64_t memory_size;        // MemoryInst::size, bytes
};

class BoundsVersioningPass : public llvm::PassInfoMixin<BoundsVersioningPass> {
 public:
  // `versioned` (may be null) counts the loops given a copy.
  BoundsVersioningPass(BoundsVersioningOffsets offsets, std::atomic<uint32_t>* versioned)
      : offsets_(offsets), versioned_(versioned) {}
  llvm::PreservedAnalyses run(llvm::Function& fn, llvm::FunctionAnalysisManager& fam);

 private:
  BoundsVersioningOffsets offsets_;
  std::atomic<uint32_t>* versioned_;
};

}  // namespace skiff::llvmjit

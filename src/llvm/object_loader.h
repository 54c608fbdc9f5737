// Tier 2's own loader for ELF64 x86-64 relocatable objects (ET_REL), as
// LLVM 19 emits them with the small code model and PIC. It links one or
// more objects into one fresh mapping, so the engine runs JIT output and
// ahead-of-time .skc code without libLLVM. Malformed or unsupported input is
// an Error naming the object and the bad byte offset, never a crash.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/result.h"

namespace skiff::llvmjit {

struct CodeSymbol {
  std::string name;
  uintptr_t address = 0;
  size_t size = 0;
};

// Loaded, relocated and protected code and data; unmapped on destruction.
class LoadedCode {
 public:
  ~LoadedCode();
  LoadedCode(const LoadedCode&) = delete;
  LoadedCode& operator=(const LoadedCode&) = delete;

  // A defined FUNC or OBJECT symbol (globals win over locals of the same
  // name), or nullptr.
  void* find(std::string_view name) const;
  // Every defined STT_FUNC with its size, sorted by address.
  const std::vector<CodeSymbol>& functions() const { return functions_; }
  // Whether pc is in the executable part (text sections and call stubs).
  bool contains_code(uintptr_t pc) const { return pc >= code_begin_ && pc < code_end_; }
  uintptr_t code_begin() const { return code_begin_; }
  uintptr_t code_end() const { return code_end_; }
  // The whole mapping (code, read-only data, GOT, writable data).
  uintptr_t region_begin() const { return reinterpret_cast<uintptr_t>(base_); }
  size_t region_size() const { return size_; }

 private:
  friend class ObjectLinker;
  LoadedCode() = default;

  void* base_ = nullptr;
  size_t size_ = 0;
  uintptr_t code_begin_ = 0;
  uintptr_t code_end_ = 0;
  std::map<std::string, uintptr_t, std::less<>> symbols_;
  std::vector<CodeSymbol> functions_;
};

// Address of a symbol outside the loaded objects; nullptr = unknown.
using SymbolResolver = std::function<void*(std::string_view name)>;

// Loads `objects` into one fresh mapping (so every PC-relative reference
// between them is within +-2 GiB): text ends up R+X, read-only data and the
// GOT R, writable data and bss RW; never writable and executable at once.
// Global symbols defined in one object resolve undefined references in the
// others; the rest go through `resolve`. Calls to external symbols go
// through stubs in the mapping and GOTPCREL references through GOT slots in
// it, so the host's helpers may be anywhere in the address space.
// Errors: UnknownImport for an unresolved symbol (named in the detail),
// ResourceLimit when the mapping fails, Internal for a malformed or
// unsupported object (offset = byte offset in that object).
Result<std::unique_ptr<LoadedCode>> load_objects(std::span<const std::string_view> objects,
                                                 const SymbolResolver& resolve);

}  // namespace skiff::llvmjit

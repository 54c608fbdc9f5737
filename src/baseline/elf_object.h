// A minimal x86-64 ELF relocatable object: one .text section, its function
// symbols and the calls it makes to symbols defined elsewhere. Tier 1 hands
// its code to the engine in this form, so that the loader tier 2 uses
// (llvm/object_loader.h) links, maps and registers it the same way.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace skiff::baseline {

struct ElfFunction {
  std::string name;
  uint64_t offset = 0;  // in .text
  uint64_t size = 0;
};

// A call to an external symbol: a 32-bit PC-relative field at `offset`
// (R_X86_64_PLT32, addend -4).
struct ElfCall {
  uint64_t offset = 0;
  std::string symbol;
};

// `text_alignment`: the alignment the code's offsets assume.
std::string write_elf_object(const std::vector<uint8_t>& text, const std::vector<ElfFunction>& functions,
                             const std::vector<ElfCall>& calls, uint64_t text_alignment);

}  // namespace skiff::baseline

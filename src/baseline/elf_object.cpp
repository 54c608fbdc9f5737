#include "baseline/elf_object.h"

#include <elf.h>

#include <cstring>
#include <map>

namespace skiff::baseline {

namespace {

template <typename T>
void append(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(value));
}

void pad_to(std::string& out, size_t alignment) {
  while (out.size() % alignment != 0) out.push_back('\0');
}

uint32_t add_string(std::string& table, const std::string& s) {
  auto at = static_cast<uint32_t>(table.size());
  table += s;
  table.push_back('\0');
  return at;
}

}  // namespace

std::string write_elf_object(const std::vector<uint8_t>& text, const std::vector<ElfFunction>& functions,
                             const std::vector<ElfCall>& calls, uint64_t text_alignment) {
  enum : uint16_t { kNull, kText, kRela, kSymtab, kStrtab, kShstrtab, kCount };
  std::string shstrtab(1, '\0');
  const uint32_t name_text = add_string(shstrtab, ".text");
  const uint32_t name_rela = add_string(shstrtab, ".rela.text");
  const uint32_t name_symtab = add_string(shstrtab, ".symtab");
  const uint32_t name_strtab = add_string(shstrtab, ".strtab");
  const uint32_t name_shstrtab = add_string(shstrtab, ".shstrtab");

  // Symbols: the null one, then every global (defined functions, then the
  // undefined symbols the calls name, once each).
  std::string strtab(1, '\0');
  std::vector<Elf64_Sym> symbols(1);
  for (const ElfFunction& f : functions) {
    Elf64_Sym sym{};
    sym.st_name = add_string(strtab, f.name);
    sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
    sym.st_shndx = kText;
    sym.st_value = f.offset;
    sym.st_size = f.size;
    symbols.push_back(sym);
  }
  std::map<std::string, uint32_t> undefined;
  std::vector<Elf64_Rela> relocations;
  for (const ElfCall& call : calls) {
    auto [it, fresh] = undefined.try_emplace(call.symbol, static_cast<uint32_t>(symbols.size()));
    if (fresh) {
      Elf64_Sym sym{};
      sym.st_name = add_string(strtab, call.symbol);
      sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE);
      sym.st_shndx = SHN_UNDEF;
      symbols.push_back(sym);
    }
    Elf64_Rela rela{};
    rela.r_offset = call.offset;
    rela.r_info = ELF64_R_INFO(it->second, R_X86_64_PLT32);
    rela.r_addend = -4;
    relocations.push_back(rela);
  }

  std::string out(sizeof(Elf64_Ehdr), '\0');
  Elf64_Shdr headers[kCount]{};
  auto place = [&](uint16_t index, uint32_t name, uint32_t type, uint64_t flags, const void* data, size_t size,
                   uint64_t alignment) {
    pad_to(out, alignment);
    Elf64_Shdr& h = headers[index];
    h.sh_name = name;
    h.sh_type = type;
    h.sh_flags = flags;
    h.sh_offset = out.size();
    h.sh_size = size;
    h.sh_addralign = alignment;
    out.append(static_cast<const char*>(data), size);
  };
  place(kText, name_text, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, text.data(), text.size(), text_alignment);
  place(kRela, name_rela, SHT_RELA, SHF_INFO_LINK, relocations.data(), relocations.size() * sizeof(Elf64_Rela), 8);
  headers[kRela].sh_link = kSymtab;
  headers[kRela].sh_info = kText;
  headers[kRela].sh_entsize = sizeof(Elf64_Rela);
  place(kSymtab, name_symtab, SHT_SYMTAB, 0, symbols.data(), symbols.size() * sizeof(Elf64_Sym), 8);
  headers[kSymtab].sh_link = kStrtab;
  headers[kSymtab].sh_info = 1;  // the first global
  headers[kSymtab].sh_entsize = sizeof(Elf64_Sym);
  place(kStrtab, name_strtab, SHT_STRTAB, 0, strtab.data(), strtab.size(), 1);
  place(kShstrtab, name_shstrtab, SHT_STRTAB, 0, shstrtab.data(), shstrtab.size(), 1);
  pad_to(out, 8);

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_REL;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_shoff = out.size();
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = kCount;
  eh.e_shstrndx = kShstrtab;
  std::memcpy(out.data(), &eh, sizeof(eh));
  for (const Elf64_Shdr& h : headers) append(out, h);
  return out;
}

}  // namespace skiff::baseline

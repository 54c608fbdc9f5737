// ELF64 x86-64 relocatable object loader (see object_loader.h).
//
// Layout of the one mapping, each part starting on a page:
//   [text sections | call stubs]  R+X
//   [read-only sections | GOT]    R
//   [data sections | bss]         RW
// Everything is written while the mapping is RW, then protected once.
#include "llvm/object_loader.h"

#include <elf.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>

namespace skiff::llvmjit {

LoadedCode::~LoadedCode() {
  if (base_ != nullptr) munmap(base_, size_);
}

void* LoadedCode::find(std::string_view name) const {
  auto it = symbols_.find(name);
  return it == symbols_.end() ? nullptr : reinterpret_cast<void*>(it->second);
}

namespace {

constexpr uint64_t kPage = 4096;
// Bounds the whole mapping, so every PC-relative reference inside it fits
// in 32 bits and a bogus size cannot ask for a huge mapping.
constexpr uint64_t kMaxRegion = uint64_t{1} << 30;
constexpr uint64_t kStubSize = 16;  // jmp *0(%rip); .quad target; 2 bytes padding
constexpr uint64_t kGotSlotSize = 8;

enum Segment : uint8_t { kText, kReadOnly, kWritable, kSegments, kNotLoaded = kSegments };

uint64_t align_up(uint64_t v, uint64_t align) { return (v + align - 1) & ~(align - 1); }

// What a relocation against a symbol refers to, once resolved.
struct Target {
  bool external = false;  // outside the mapping: calls need a stub
  bool missing = false;   // an unresolved weak symbol (address 0)
  uintptr_t address = 0;  // definitions: set after the mapping is made
  int64_t stub = -1;
  int64_t got = -1;
};

struct Section {
  Elf64_Shdr hdr{};
  std::string_view name;
  Segment segment = kNotLoaded;
  uint64_t offset = 0;  // within its segment
  uintptr_t address = 0;
};

struct Symbol {
  std::string_view name;
  Elf64_Sym sym{};
  Target own;                // this symbol as a definition
  Target* target = nullptr;  // what references mean; null until first used
  bool defined_in_loaded = false;
};

struct Object {
  size_t index = 0;
  std::string_view bytes;
  std::vector<Section> sections;
  std::vector<Symbol> symbols;
  uint32_t symtab = 0;  // 0: none
  std::vector<uint32_t> relas;
};

struct Reloc {
  Object* object;
  const Section* section;
  uint64_t file_offset;  // of the Elf64_Rela entry, for errors
  uint64_t offset;       // in the section
  uint32_t type;
  int64_t addend;
  const Symbol* symbol;
  const Target* target;
};

template <typename T>
bool read_at(std::string_view bytes, uint64_t offset, T* out) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
  std::memcpy(out, bytes.data() + offset, sizeof(T));
  return true;
}

const char* reloc_name(uint32_t type) {
  switch (type) {
    case R_X86_64_NONE: return "R_X86_64_NONE";
    case R_X86_64_64: return "R_X86_64_64";
    case R_X86_64_PC32: return "R_X86_64_PC32";
    case R_X86_64_PLT32: return "R_X86_64_PLT32";
    case R_X86_64_32: return "R_X86_64_32";
    case R_X86_64_32S: return "R_X86_64_32S";
    case R_X86_64_PC64: return "R_X86_64_PC64";
    case R_X86_64_GOTPCREL: return "R_X86_64_GOTPCREL";
    case R_X86_64_GOTPCRELX: return "R_X86_64_GOTPCRELX";
    case R_X86_64_REX_GOTPCRELX: return "R_X86_64_REX_GOTPCRELX";
    default: return nullptr;  // unsupported (TLS, GOT-relative, ...)
  }
}

// Bytes patched by a supported relocation type.
uint64_t reloc_width(uint32_t type) {
  switch (type) {
    case R_X86_64_NONE: return 0;
    case R_X86_64_64:
    case R_X86_64_PC64: return 8;
    default: return 4;
  }
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

class ObjectLinker {
 public:
  explicit ObjectLinker(const SymbolResolver& resolve) : resolve_(resolve) {}

  Result<std::unique_ptr<LoadedCode>> run(std::span<const std::string_view> inputs) {
    objects_.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      objects_[i].index = i;
      objects_[i].bytes = inputs[i];
      SKIFF_TRY(parse_sections(objects_[i]));
      SKIFF_TRY(parse_symbols(objects_[i]));
    }
    SKIFF_TRY(define_globals());
    for (Object& o : objects_) SKIFF_TRY(scan_relocations(o));
    SKIFF_TRY(layout());
    return map_and_link();
  }

 private:
  static Error bad(const Object& o, uint64_t offset, const std::string& what) {
    return Error(ErrorCode::Internal, offset, "object " + std::to_string(o.index) + ": " + what);
  }

  // The file bytes of a section, bounds-checked.
  static Result<std::string_view> contents(const Object& o, uint32_t index) {
    const Elf64_Shdr& h = o.sections[index].hdr;
    if (h.sh_offset > o.bytes.size() || o.bytes.size() - h.sh_offset < h.sh_size)
      return bad(o, h.sh_offset, "section " + std::to_string(index) + " extends past the end of the file");
    return o.bytes.substr(h.sh_offset, h.sh_size);
  }

  // A NUL-terminated string at `offset` in string table section `index`.
  static Result<std::string_view> string_at(const Object& o, uint32_t index, uint64_t offset) {
    if (index >= o.sections.size() || o.sections[index].hdr.sh_type != SHT_STRTAB)
      return bad(o, Error::kNoOffset, "section " + std::to_string(index) + " is not a string table");
    auto table = contents(o, index);
    if (!table) return table.error();
    std::string_view t = *table;
    size_t end = offset < t.size() ? t.find('\0', offset) : std::string_view::npos;
    if (end == std::string_view::npos)
      return bad(o, o.sections[index].hdr.sh_offset + offset, "string outside its string table");
    return t.substr(offset, end - offset);
  }

  Result<void> parse_sections(Object& o) {
    Elf64_Ehdr eh;
    if (!read_at(o.bytes, 0, &eh)) return bad(o, 0, "truncated ELF header");
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return bad(o, 0, "not an ELF file");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64) return bad(o, EI_CLASS, "not a 64-bit ELF file");
    if (eh.e_ident[EI_DATA] != ELFDATA2LSB) return bad(o, EI_DATA, "not a little-endian ELF file");
    if (eh.e_ident[EI_VERSION] != EV_CURRENT) return bad(o, EI_VERSION, "unknown ELF version");
    if (eh.e_type != ET_REL) return bad(o, offsetof(Elf64_Ehdr, e_type), "not a relocatable object (ET_REL)");
    if (eh.e_machine != EM_X86_64) return bad(o, offsetof(Elf64_Ehdr, e_machine), "not an x86-64 object");
    if (eh.e_shentsize != sizeof(Elf64_Shdr))
      return bad(o, offsetof(Elf64_Ehdr, e_shentsize), "unexpected section header size");
    // e_shnum 0 means extended numbering (>= 0xff00 sections): never produced for us.
    if (eh.e_shnum == 0 || eh.e_shstrndx >= eh.e_shnum)
      return bad(o, offsetof(Elf64_Ehdr, e_shnum), "bad section count or section name table index");
    if (eh.e_shoff > o.bytes.size() || (o.bytes.size() - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum)
      return bad(o, offsetof(Elf64_Ehdr, e_shoff), "section headers extend past the end of the file");

    o.sections.resize(eh.e_shnum);
    for (uint32_t i = 0; i < eh.e_shnum; ++i)
      read_at(o.bytes, eh.e_shoff + uint64_t{i} * sizeof(Elf64_Shdr), &o.sections[i].hdr);
    for (uint32_t i = 1; i < eh.e_shnum; ++i) {
      Section& s = o.sections[i];
      const Elf64_Shdr& h = s.hdr;
      const uint64_t at = eh.e_shoff + uint64_t{i} * sizeof(Elf64_Shdr);
      auto name = string_at(o, eh.e_shstrndx, h.sh_name);
      if (!name) return name.error();
      s.name = *name;
      const std::string what = "section " + std::to_string(i) + " (" + std::string(s.name) + ")";
      if (h.sh_type == SHT_SYMTAB) {
        if (o.symtab != 0) return bad(o, at, "more than one symbol table");
        o.symtab = i;
        continue;
      }
      if (h.sh_type == SHT_RELA || h.sh_type == SHT_REL) {
        o.relas.push_back(i);  // checked in scan_relocations, if its target is loaded
        continue;
      }
      // Unwind tables and notes are skipped: nothing unwinds through loaded code.
      if (!(h.sh_flags & SHF_ALLOC) || s.name == ".eh_frame" || h.sh_type == SHT_NOTE) continue;
      if (h.sh_flags & SHF_TLS) return bad(o, at, what + ": thread-local storage is not supported");
      if (h.sh_type != SHT_PROGBITS && h.sh_type != SHT_NOBITS)
        return bad(o, at, what + ": unsupported allocated section type " + hex(h.sh_type));
      if ((h.sh_flags & SHF_WRITE) && (h.sh_flags & SHF_EXECINSTR))
        return bad(o, at, what + " is writable and executable");
      const uint64_t align = std::max<uint64_t>(h.sh_addralign, 1);
      if ((align & (align - 1)) != 0 || align > kPage) return bad(o, at, what + ": bad alignment " + hex(align));
      if (h.sh_size > kMaxRegion) return bad(o, at, what + " is too large");
      if (h.sh_type == SHT_PROGBITS) SKIFF_TRY(contents(o, i));
      s.segment = (h.sh_flags & SHF_EXECINSTR) ? kText : (h.sh_flags & SHF_WRITE) ? kWritable : kReadOnly;
    }
    return {};
  }

  Result<void> parse_symbols(Object& o) {
    if (o.symtab == 0) return {};
    const Elf64_Shdr& h = o.sections[o.symtab].hdr;
    if (h.sh_entsize != sizeof(Elf64_Sym) || h.sh_size % sizeof(Elf64_Sym) != 0)
      return bad(o, h.sh_offset, "malformed symbol table");
    auto table = contents(o, o.symtab);
    if (!table) return table.error();
    o.symbols.resize(h.sh_size / sizeof(Elf64_Sym));
    for (size_t i = 0; i < o.symbols.size(); ++i) {
      Symbol& s = o.symbols[i];
      const uint64_t at = h.sh_offset + i * sizeof(Elf64_Sym);
      read_at(*table, i * sizeof(Elf64_Sym), &s.sym);
      auto name = string_at(o, h.sh_link, s.sym.st_name);
      if (!name) return name.error();
      s.name = *name;
      const std::string what = "symbol " + std::to_string(i) + " '" + std::string(s.name) + "'";
      const uint8_t type = ELF64_ST_TYPE(s.sym.st_info);
      const uint16_t shndx = s.sym.st_shndx;
      if (type == STT_TLS) return bad(o, at, what + ": thread-local storage is not supported");
      if (type == STT_GNU_IFUNC) return bad(o, at, what + ": indirect functions are not supported");
      if (shndx == SHN_COMMON) return bad(o, at, what + ": common symbols are not supported (use -fno-common)");
      if (shndx == SHN_ABS) {
        s.own = Target{.external = true, .address = s.sym.st_value};
      } else if (shndx >= SHN_LORESERVE || (shndx != SHN_UNDEF && shndx >= o.sections.size())) {
        return bad(o, at, what + ": bad section index " + std::to_string(shndx));
      } else if (shndx != SHN_UNDEF && o.sections[shndx].segment != kNotLoaded) {
        const uint64_t size = o.sections[shndx].hdr.sh_size;
        if (s.sym.st_value > size || s.sym.st_size > size - s.sym.st_value)
          return bad(o, at, what + " lies outside its section");
        s.defined_in_loaded = true;
      }
    }
    return {};
  }

  // Global definitions, visible to every object; a strong one beats a weak one.
  Result<void> define_globals() {
    for (Object& o : objects_) {
      for (Symbol& s : o.symbols) {
        const uint8_t bind = ELF64_ST_BIND(s.sym.st_info);
        if (bind == STB_LOCAL || s.name.empty() || !(s.defined_in_loaded || s.sym.st_shndx == SHN_ABS)) continue;
        auto [it, fresh] = globals_.try_emplace(s.name, &s);
        if (fresh || bind == STB_WEAK) continue;
        if (ELF64_ST_BIND(it->second->sym.st_info) != STB_WEAK)
          return bad(o, Error::kNoOffset, "symbol '" + std::string(s.name) + "' is defined more than once");
        it->second = &s;
      }
    }
    return {};
  }

  Result<Target*> target_of(Object& o, Symbol& s, uint64_t at) {
    if (s.target != nullptr) return s.target;
    const uint16_t shndx = s.sym.st_shndx;
    const std::string name(s.name);
    auto global = ELF64_ST_BIND(s.sym.st_info) == STB_LOCAL ? globals_.end() : globals_.find(s.name);
    if (&s == &o.symbols[0]) {
      s.target = &absolute_zero_;  // no symbol: S = 0
    } else if (global != globals_.end()) {
      s.target = &global->second->own;  // also binds a losing weak definition to the winner
    } else if (shndx != SHN_UNDEF) {
      if (shndx != SHN_ABS && !s.defined_in_loaded)
        return bad(o, at, "relocation against '" + name + "' in a section that is not loaded");
      s.target = &s.own;
    } else {
      auto [it, fresh] = externals_.try_emplace(s.name);
      Target& t = it->second;
      if (fresh) {
        void* address = resolve_ ? resolve_(s.name) : nullptr;
        t = Target{.external = true, .missing = address == nullptr, .address = reinterpret_cast<uintptr_t>(address)};
      }
      // An unresolved weak reference is 0, as a static linker would make it.
      if (t.missing && ELF64_ST_BIND(s.sym.st_info) != STB_WEAK)
        return Error(ErrorCode::UnknownImport, at,
                     "object " + std::to_string(o.index) + ": undefined symbol '" + name + "'");
      s.target = &t;
    }
    return s.target;
  }

  Result<void> scan_relocations(Object& o) {
    for (uint32_t index : o.relas) {
      const Elf64_Shdr& h = o.sections[index].hdr;
      const std::string what = "relocation section " + std::to_string(index) + " (" +
                               std::string(o.sections[index].name) + ")";
      if (h.sh_info == 0 || h.sh_info >= o.sections.size())
        return bad(o, h.sh_offset, what + ": bad target section " + std::to_string(h.sh_info));
      const Section& target = o.sections[h.sh_info];
      if (target.segment == kNotLoaded) continue;  // e.g. .rela.eh_frame
      if (h.sh_type != SHT_RELA) return bad(o, h.sh_offset, what + ": SHT_REL is not supported on x86-64");
      if (o.symtab == 0 || h.sh_link != o.symtab) return bad(o, h.sh_offset, what + ": bad symbol table link");
      if (h.sh_entsize != sizeof(Elf64_Rela) || h.sh_size % sizeof(Elf64_Rela) != 0)
        return bad(o, h.sh_offset, what + ": bad entry size");
      auto table = contents(o, index);
      if (!table) return table.error();
      if (h.sh_size != 0 && target.hdr.sh_type == SHT_NOBITS)
        return bad(o, h.sh_offset, what + ": relocations in a section without contents");
      for (uint64_t i = 0; i < h.sh_size / sizeof(Elf64_Rela); ++i) {
        Elf64_Rela r;
        read_at(*table, i * sizeof(Elf64_Rela), &r);
        const uint64_t at = h.sh_offset + i * sizeof(Elf64_Rela);
        const uint32_t type = ELF64_R_TYPE(r.r_info);
        const uint64_t sym = ELF64_R_SYM(r.r_info);
        const std::string where = what + " entry " + std::to_string(i);
        if (reloc_name(type) == nullptr)
          return bad(o, at, where + ": unsupported relocation type " + std::to_string(type));
        if (r.r_offset > target.hdr.sh_size || target.hdr.sh_size - r.r_offset < reloc_width(type))
          return bad(o, at, where + ": offset " + hex(r.r_offset) + " outside " + std::string(target.name));
        if (sym >= o.symbols.size()) return bad(o, at, where + ": bad symbol index " + std::to_string(sym));
        auto t = target_of(o, o.symbols[sym], at);
        if (!t) return t.error();
        Target& tg = **t;
        if ((type == R_X86_64_PC32 || type == R_X86_64_PLT32) && tg.external && tg.stub < 0)
          tg.stub = static_cast<int64_t>(stubs_.size()), stubs_.push_back(&tg);
        if ((type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX || type == R_X86_64_REX_GOTPCRELX) &&
            tg.got < 0)
          tg.got = static_cast<int64_t>(got_.size()), got_.push_back(&tg);
        relocs_.push_back(Reloc{&o, &target, at, r.r_offset, type, r.r_addend, &o.symbols[sym], &tg});
      }
    }
    return {};
  }

  // Offsets of every loaded section, the stubs and the GOT within their segments.
  Result<void> layout() {
    auto place = [&](Segment seg, uint64_t size, uint64_t align) {
      const uint64_t at = align_up(segment_size_[seg], align);
      segment_size_[seg] = at + size;
      return at;
    };
    for (Object& o : objects_) {
      for (Section& s : o.sections) {
        if (s.segment == kNotLoaded) continue;
        s.offset = place(s.segment, s.hdr.sh_size, std::max<uint64_t>(s.hdr.sh_addralign, 1));
        if (segment_size_[s.segment] > kMaxRegion) return Error(ErrorCode::Internal, Error::kNoOffset, "objects too large");
      }
    }
    stubs_offset_ = place(kText, stubs_.size() * kStubSize, kStubSize);
    got_offset_ = place(kReadOnly, got_.size() * kGotSlotSize, kGotSlotSize);
    uint64_t start = 0;
    for (int seg = 0; seg < kSegments; ++seg) {
      segment_start_[seg] = start;
      start += align_up(segment_size_[seg], kPage);
    }
    total_size_ = std::max(start, kPage);
    if (total_size_ > kMaxRegion) return Error(ErrorCode::Internal, Error::kNoOffset, "objects too large");
    return {};
  }

  Result<std::unique_ptr<LoadedCode>> map_and_link() {
    void* base = mmap(nullptr, total_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
      return Error(ErrorCode::ResourceLimit, Error::kNoOffset, "cannot map " + std::to_string(total_size_) + " bytes for code");
    std::unique_ptr<LoadedCode> code(new LoadedCode());
    code->base_ = base;
    code->size_ = total_size_;
    const auto b = reinterpret_cast<uintptr_t>(base);

    for (Object& o : objects_) {
      for (Section& s : o.sections) {
        if (s.segment == kNotLoaded) continue;
        s.address = b + segment_start_[s.segment] + s.offset;
        if (s.hdr.sh_type == SHT_PROGBITS)  // NOBITS stays zero, as mmap made it
          std::memcpy(reinterpret_cast<void*>(s.address), o.bytes.data() + s.hdr.sh_offset, s.hdr.sh_size);
      }
      for (Symbol& s : o.symbols)
        if (s.defined_in_loaded) s.own.address = o.sections[s.sym.st_shndx].address + s.sym.st_value;
    }
    const uintptr_t stubs = b + segment_start_[kText] + stubs_offset_;
    for (size_t i = 0; i < stubs_.size(); ++i) {
      static constexpr uint8_t kJmpRipIndirect[6] = {0xff, 0x25, 0, 0, 0, 0};  // jmp *0(%rip)
      auto* stub = reinterpret_cast<uint8_t*>(stubs + i * kStubSize);
      std::memcpy(stub, kJmpRipIndirect, sizeof kJmpRipIndirect);
      std::memcpy(stub + sizeof kJmpRipIndirect, &stubs_[i]->address, 8);
    }
    const uintptr_t got = b + segment_start_[kReadOnly] + got_offset_;
    for (size_t i = 0; i < got_.size(); ++i)
      std::memcpy(reinterpret_cast<void*>(got + i * kGotSlotSize), &got_[i]->address, 8);

    for (const Reloc& r : relocs_) SKIFF_TRY(apply(r, stubs, got));

    // Text R+X, then read-only data and GOT R; writable data stays RW.
    const int protections[kSegments] = {PROT_READ | PROT_EXEC, PROT_READ, PROT_READ | PROT_WRITE};
    for (int seg = 0; seg < kSegments; ++seg) {
      const uint64_t size = align_up(segment_size_[seg], kPage);
      if (size != 0 && mprotect(reinterpret_cast<void*>(b + segment_start_[seg]), size, protections[seg]) != 0)
        return Error(ErrorCode::ResourceLimit, Error::kNoOffset, "cannot protect loaded code");
    }
    code->code_begin_ = b + segment_start_[kText];
    code->code_end_ = code->code_begin_ + segment_size_[kText];

    // Locals first, so a global of the same name replaces them.
    for (Object& o : objects_) {
      for (Symbol& s : o.symbols) {
        if (!s.defined_in_loaded || s.name.empty()) continue;
        const uint8_t type = ELF64_ST_TYPE(s.sym.st_info);
        if (type == STT_FUNC) code->functions_.push_back(CodeSymbol{std::string(s.name), s.own.address, s.sym.st_size});
        if ((type == STT_FUNC || type == STT_OBJECT) && ELF64_ST_BIND(s.sym.st_info) == STB_LOCAL)
          code->symbols_.try_emplace(std::string(s.name), s.own.address);
      }
    }
    for (const auto& [name, s] : globals_) {
      const uint8_t type = ELF64_ST_TYPE(s->sym.st_info);
      if (type == STT_FUNC || type == STT_OBJECT) code->symbols_[std::string(name)] = s->own.address;
    }
    std::sort(code->functions_.begin(), code->functions_.end(),
              [](const CodeSymbol& x, const CodeSymbol& y) { return x.address < y.address; });
    return code;
  }

  Result<void> apply(const Reloc& r, uintptr_t stubs, uintptr_t got) {
    auto* place = reinterpret_cast<uint8_t*>(r.section->address + r.offset);
    const uint64_t p = reinterpret_cast<uintptr_t>(place);
    const uint64_t s = r.target->address;
    const uint64_t a = static_cast<uint64_t>(r.addend);  // wrapping arithmetic, range-checked below
    uint64_t value = 0;
    switch (r.type) {
      case R_X86_64_NONE: return {};
      case R_X86_64_64: value = s + a; break;
      case R_X86_64_PC64: value = s + a - p; break;
      case R_X86_64_32: value = s + a; break;
      case R_X86_64_32S: value = s + a; break;
      case R_X86_64_PC32:
      case R_X86_64_PLT32: {
        value = s + a - p;
        // A stub stands in for a branch target only: always for PLT32 (a
        // call or jump by definition), for PC32 only when the call/jmp rel32
        // could not reach directly. A data reference must reach directly.
        const bool branch = r.offset >= 1 && (place[-1] == 0xe8 || place[-1] == 0xe9);
        const bool fits = static_cast<int64_t>(value) == static_cast<int32_t>(value);
        if (r.target->stub >= 0 && (r.type == R_X86_64_PLT32 || (!fits && branch)))
          value = stubs + static_cast<uint64_t>(r.target->stub) * kStubSize + a - p;
        break;
      }
      default:  // the GOTPCREL family: the slot holds S
        value = got + static_cast<uint64_t>(r.target->got) * kGotSlotSize + a - p;
        break;
    }
    const uint64_t width = reloc_width(r.type);
    const bool in_range = width == 8 || (r.type == R_X86_64_32 ? value <= UINT32_MAX
                                                               : static_cast<int64_t>(value) == static_cast<int32_t>(value));
    if (!in_range)
      return bad(*r.object, r.file_offset,
                 std::string(reloc_name(r.type)) + " against '" + std::string(r.symbol->name) + "' at " +
                     std::string(r.section->name) + "+" + hex(r.offset) + " is out of range");
    std::memcpy(place, &value, width);  // little-endian: the low bytes
    return {};
  }

  const SymbolResolver& resolve_;
  std::vector<Object> objects_;
  std::map<std::string_view, Symbol*> globals_;
  std::map<std::string_view, Target> externals_;  // node-based: Target pointers stay valid
  Target absolute_zero_{.external = true};
  std::vector<Target*> stubs_;
  std::vector<Target*> got_;
  std::vector<Reloc> relocs_;
  uint64_t segment_size_[kSegments] = {};
  uint64_t segment_start_[kSegments] = {};
  uint64_t stubs_offset_ = 0;
  uint64_t got_offset_ = 0;
  uint64_t total_size_ = 0;
};

Result<std::unique_ptr<LoadedCode>> load_objects(std::span<const std::string_view> objects,
                                                 const SymbolResolver& resolve) {
  return ObjectLinker(resolve).run(objects);
}

}  // namespace skiff::llvmjit

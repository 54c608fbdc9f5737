// Tier 2's ELF object loader (src/llvm/object_loader.h) on real objects:
// C compiled by clang to bitcode and by LLVM 19's llc to ELF (clang -c
// alone when llc is missing), and assembly for the relocation types C does
// not produce. The tools come from tests/CMakeLists.txt; inputs are built
// once per run into a temporary directory. Also malformed and mutated
// objects, which must give errors and never crash.
#include "llvm/object_loader.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#ifndef SKIFF_TEST_CLANG
#error "tests/CMakeLists.txt defines SKIFF_TEST_CLANG (and SKIFF_TEST_LLC) for this file"
#endif

namespace skiff::llvmjit {
namespace {

namespace fs = std::filesystem;

// Host side of the loaded code: found by the resolver, far from the mapping.
int host_calls = 0;
int host_counter = 0;
int host_add(int a, int b) {
  ++host_calls;
  return a + b;
}

// Object A: data, rodata, jump tables, host calls and host data through the GOT.
constexpr const char* kSourceA = R"(
extern int host_add(int, int);
extern int host_counter;
int b_twice(int x);
int global_data = 42;
int global_bss;
static int static_bss;
const int kPrimes[4] = {2, 3, 5, 7};
__attribute__((noinline)) static int triple(int x) { return x * 3; }
int (*const fn_table[2])(int) = {b_twice, triple};
__attribute__((used)) static int dup_name(void) { return 1; }
int a_calls_b(int x) { return b_twice(x) + 1; }
int a_calls_host(int x) { return host_add(x, 100); }
int a_read_host_counter(void) { return host_counter; }
void a_write_host_counter(int v) { host_counter = v; }
double a_scale(double x) { return x * 1.25 + 0.5; }
int a_switch(int x, int y) {
  switch (x) {
    case 0: return y + 1; case 1: return y * 7; case 2: return y - 3;
    case 3: return y ^ 5; case 4: return y << 2; case 5: return y / 3;
    default: return -1;
  }
}
int a_lookup(unsigned i) { static const int t[] = {5, 8, 13, 21, 34, 55}; return i < 6 ? t[i] : 0; }
int a_bump(int by) { global_bss += by; static_bss += 2 * by; global_data += by; return global_data + static_bss; }
int a_via_table(int i, int x) { return fn_table[i & 1](x); }
)";

// Object B: calls into A and reads A's data.
constexpr const char* kSourceB = R"(
int a_calls_b(int);
extern int global_data;
int b_twice(int x) { return 2 * x; }
int b_calls_a(int x) { return a_calls_b(x) * 10; }
int b_read_a_data(void) { return global_data; }
int dup_name(void) { return 2; }
)";

// PC64, 32S and 32 relocations, and a call through a plain PC32.
constexpr const char* kAsmRelocs = R"(
  .text
  .globl asm_pc64_target
  .type asm_pc64_target,@function
asm_pc64_target:          # returns its own address, stored PC-relatively (PC64)
  leaq delta(%rip), %rcx
  movq (%rcx), %rax
  addq %rcx, %rax
  ret
  .size asm_pc64_target, .-asm_pc64_target
  .globl asm_small_imm
  .type asm_small_imm,@function
asm_small_imm:            # R_X86_64_32S
  movq $small_abs, %rax
  ret
  .size asm_small_imm, .-asm_small_imm
  .globl asm_call_pc32
  .type asm_call_pc32,@function
asm_call_pc32:            # call rel32 with R_X86_64_PC32 (not PLT32)
  pushq %rbp
  movq %rsp, %rbp
  .byte 0xe8
  .long host_add - . - 4
  popq %rbp
  ret
  .size asm_call_pc32, .-asm_call_pc32
  .section .rodata
  .p2align 3
delta:
  .quad asm_pc64_target - .
  .data
  .globl asm_word
  .type asm_word,@object
asm_word:
  .long small_abs + 4     # R_X86_64_32
  .size asm_word, 4
)";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Compiles `source` (C, or assembly when `assembly`) to an ELF object; cached.
const std::string& object(const std::string& source, bool assembly = false, const std::string& flags = "") {
  static std::map<std::string, std::string> cache;
  static const struct TempDir {
    fs::path path = fs::temp_directory_path() / ("skiff-object-loader-" + std::to_string(getpid()));
    TempDir() { fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
  } temp;
  const fs::path& dir = temp.path;
  const std::string key = std::to_string(assembly) + flags + source;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  const fs::path base = dir / std::to_string(cache.size());
  const std::string src = base.string() + (assembly ? ".s" : ".c"), obj = base.string() + ".o";
  const std::string bc = base.string() + ".bc";
  std::ofstream(src) << source;
  const std::string clang = SKIFF_TEST_CLANG, llc = SKIFF_TEST_LLC;
  std::string cmd;
  auto q = [](const std::string& path) { return "'" + path + "'"; };
  if (assembly) {
    cmd = q(clang) + " -c -x assembler " + q(src) + " -o " + q(obj);
  } else if (!llc.empty() && fs::exists(llc)) {
    cmd = q(clang) + " -O2 -fPIC " + flags + " -emit-llvm -c " + q(src) + " -o " + q(bc) + " && " + q(llc) +
          " -O2 -filetype=obj -relocation-model=pic " + q(bc) + " -o " + q(obj);
  } else {
    cmd = q(clang) + " -O2 -fPIC " + flags + " -c " + q(src) + " -o " + q(obj);
  }
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::string bytes = read_file(obj);
  EXPECT_GT(bytes.size(), sizeof(Elf64_Ehdr)) << "no object from: " << cmd;
  return cache.emplace(key, std::move(bytes)).first->second;
}

void* host_symbol(std::string_view name) {
  if (name == "host_add") return reinterpret_cast<void*>(&host_add);
  if (name == "host_counter") return &host_counter;
  return nullptr;
}

Result<std::unique_ptr<LoadedCode>> load(std::vector<std::string_view> objects,
                                         const SymbolResolver& resolve = host_symbol) {
  return load_objects(objects, resolve);
}

std::unique_ptr<LoadedCode> load_ok(std::vector<std::string_view> objects, const SymbolResolver& resolve = host_symbol) {
  auto loaded = load(std::move(objects), resolve);
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().to_string());
  return loaded.ok() ? std::move(loaded.value()) : nullptr;
}

template <typename Fn>
Fn fn(const LoadedCode& code, const char* name) {
  void* p = code.find(name);
  EXPECT_NE(p, nullptr) << name;
  return reinterpret_cast<Fn>(p);
}

int reference_switch(int x, int y) {
  switch (x) {
    case 0: return y + 1; case 1: return y * 7; case 2: return y - 3;
    case 3: return y ^ 5; case 4: return y << 2; case 5: return y / 3;
    default: return -1;
  }
}

// The permissions ("r-xp"...) of the mapping holding `address`, from /proc/self/maps.
std::string permissions_of(uintptr_t address) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    uintptr_t begin = 0, end = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %7s", &begin, &end, perms) == 3 && address >= begin && address < end)
      return perms;
  }
  return "unmapped";
}

// Where a section header and its contents are, for targeted corruption.
struct SectionRef {
  size_t header = 0;
  Elf64_Shdr shdr{};
};
SectionRef section_named(const std::string& obj, std::string_view name) {
  Elf64_Ehdr eh;
  std::memcpy(&eh, obj.data(), sizeof eh);
  Elf64_Shdr names;
  std::memcpy(&names, obj.data() + eh.e_shoff + eh.e_shstrndx * sizeof(Elf64_Shdr), sizeof names);
  for (size_t i = 0; i < eh.e_shnum; ++i) {
    SectionRef ref{eh.e_shoff + i * sizeof(Elf64_Shdr), {}};
    std::memcpy(&ref.shdr, obj.data() + ref.header, sizeof ref.shdr);
    if (std::string_view(obj.data() + names.sh_offset + ref.shdr.sh_name) == name) return ref;
  }
  ADD_FAILURE() << "no section " << name;
  return {};
}

std::string load_error(std::vector<std::string_view> objects, ErrorCode code = ErrorCode::Internal,
                       const SymbolResolver& resolve = host_symbol) {
  auto loaded = load(std::move(objects), resolve);
  if (loaded.ok()) {
    ADD_FAILURE() << "loaded, but an error was expected";
    return "";
  }
  EXPECT_EQ(loaded.error().code, code) << loaded.error().to_string();
  return loaded.error().to_string();
}

TEST(ObjectLoader, CallsBetweenObjectsAndToTheHost) {
  auto code = load_ok({object(kSourceA), object(kSourceB)});
  ASSERT_TRUE(code);
  EXPECT_EQ(fn<int (*)(int)>(*code, "a_calls_b")(5), 11);
  EXPECT_EQ(fn<int (*)(int)>(*code, "b_calls_a")(5), 110);
  // The host is in the executable, more than 2 GiB away: this goes through a stub.
  const int calls = host_calls;
  EXPECT_EQ(fn<int (*)(int)>(*code, "a_calls_host")(1), 101);
  EXPECT_EQ(host_calls, calls + 1);
  // Function pointers in .data.rel.ro (R_X86_64_64), to B and to a local of A.
  EXPECT_EQ(fn<int (*)(int, int)>(*code, "a_via_table")(0, 7), 14);
  EXPECT_EQ(fn<int (*)(int, int)>(*code, "a_via_table")(1, 7), 21);
  // A global beats a local of the same name.
  EXPECT_EQ(fn<int (*)()>(*code, "dup_name")(), 2);
}

TEST(ObjectLoader, ReadsReadOnlyTables) {
  auto code = load_ok({object(kSourceA), object(kSourceB)});
  ASSERT_TRUE(code);
  auto sw = fn<int (*)(int, int)>(*code, "a_switch");
  for (int x = -2; x < 9; ++x) EXPECT_EQ(sw(x, 1000 + x), reference_switch(x, 1000 + x)) << x;
  auto lookup = fn<int (*)(unsigned)>(*code, "a_lookup");
  const int expected[] = {5, 8, 13, 21, 34, 55, 0};
  for (unsigned i = 0; i < 7; ++i) EXPECT_EQ(lookup(i), expected[i]);
  EXPECT_EQ(fn<double (*)(double)>(*code, "a_scale")(2.0), 3.0);
  const int* primes = static_cast<const int*>(code->find("kPrimes"));
  ASSERT_NE(primes, nullptr);
  EXPECT_EQ(primes[3], 7);
}

TEST(ObjectLoader, WritesDataAndBss) {
  auto code = load_ok({object(kSourceA), object(kSourceB)});
  ASSERT_TRUE(code);
  // global_data 42 -> 45, static_bss 0 -> 6, global_bss 0 -> 3.
  EXPECT_EQ(fn<int (*)(int)>(*code, "a_bump")(3), 51);
  EXPECT_EQ(*static_cast<int*>(code->find("global_data")), 45);
  EXPECT_EQ(*static_cast<int*>(code->find("global_bss")), 3);
  EXPECT_EQ(fn<int (*)()>(*code, "b_read_a_data")(), 45);
  // A second load is independent.
  auto again = load_ok({object(kSourceA), object(kSourceB)});
  ASSERT_TRUE(again);
  EXPECT_EQ(*static_cast<int*>(again->find("global_data")), 42);
}

TEST(ObjectLoader, GotpcrelReachesExternalData) {
  auto code = load_ok({object(kSourceA), object(kSourceB)});
  ASSERT_TRUE(code);
  host_counter = 7;
  EXPECT_EQ(fn<int (*)()>(*code, "a_read_host_counter")(), 7);
  fn<void (*)(int)>(*code, "a_write_host_counter")(9);
  EXPECT_EQ(host_counter, 9);
}

TEST(ObjectLoader, FunctionsAreSortedWithSizesInsideTheCode) {
  auto code = load_ok({object(kSourceA), object(kSourceB)});
  ASSERT_TRUE(code);
  const auto& fns = code->functions();
  ASSERT_GE(fns.size(), 14u);  // 11 in A (triple and dup_name are local), 4 in B
  bool saw_local = false;
  for (size_t i = 0; i < fns.size(); ++i) {
    EXPECT_GT(fns[i].size, 0u) << fns[i].name;
    EXPECT_TRUE(code->contains_code(fns[i].address)) << fns[i].name;
    EXPECT_TRUE(code->contains_code(fns[i].address + fns[i].size - 1)) << fns[i].name;
    if (i > 0) {
      EXPECT_LE(fns[i - 1].address + fns[i - 1].size, fns[i].address) << fns[i].name;
    }
    saw_local |= fns[i].name == "triple";
  }
  EXPECT_TRUE(saw_local);
  const auto a_calls_b = reinterpret_cast<uintptr_t>(code->find("a_calls_b"));
  EXPECT_TRUE(std::any_of(fns.begin(), fns.end(), [&](const CodeSymbol& s) { return s.address == a_calls_b; }));
  EXPECT_TRUE(code->contains_code(a_calls_b));
  EXPECT_FALSE(code->contains_code(reinterpret_cast<uintptr_t>(code->find("global_data"))));
  EXPECT_FALSE(code->contains_code(reinterpret_cast<uintptr_t>(&host_add)));
  EXPECT_FALSE(code->contains_code(code->code_end()));
  EXPECT_EQ(code->find("no_such_symbol"), nullptr);
}

TEST(ObjectLoader, ProtectsTextReadOnlyDataAndDataSeparately) {
  auto code = load_ok({object(kSourceA), object(kSourceB)});
  ASSERT_TRUE(code);
  EXPECT_EQ(permissions_of(code->code_begin()), "r-xp");
  EXPECT_EQ(permissions_of(reinterpret_cast<uintptr_t>(code->find("kPrimes"))), "r--p");
  EXPECT_EQ(permissions_of(reinterpret_cast<uintptr_t>(code->find("global_data"))), "rw-p");
  for (uintptr_t page = code->region_begin(); page < code->region_begin() + code->region_size(); page += 4096) {
    const std::string perms = permissions_of(page);
    EXPECT_FALSE(perms.find('w') != std::string::npos && perms.find('x') != std::string::npos) << perms;
  }
  const uintptr_t begin = code->region_begin();
  code.reset();
  EXPECT_EQ(permissions_of(begin), "unmapped");
}

TEST(ObjectLoader, AbsoluteAndPc64RelocationsAndPlainPc32Calls) {
  const auto small = [](std::string_view name) -> void* {
    return name == "small_abs" ? reinterpret_cast<void*>(0x1234) : host_symbol(name);
  };
  auto code = load_ok({object(kAsmRelocs, true)}, small);
  ASSERT_TRUE(code);
  auto target = fn<uintptr_t (*)()>(*code, "asm_pc64_target");
  EXPECT_EQ(target(), reinterpret_cast<uintptr_t>(target));
  EXPECT_EQ(fn<uintptr_t (*)()>(*code, "asm_small_imm")(), 0x1234u);
  EXPECT_EQ(*static_cast<uint32_t*>(code->find("asm_word")), 0x1238u);
  EXPECT_EQ(fn<int (*)(int, int)>(*code, "asm_call_pc32")(40, 2), 42);
}

TEST(ObjectLoader, OutOfRangeRelocationsAreErrors) {
  // small_abs resolved to a host address: the 32-bit absolute relocations cannot hold it.
  const auto far = [](std::string_view name) -> void* {
    return name == "small_abs" ? reinterpret_cast<void*>(&host_counter) : host_symbol(name);
  };
  std::string error = load_error({object(kAsmRelocs, true)}, ErrorCode::Internal, far);
  EXPECT_NE(error.find("R_X86_64_32"), std::string::npos) << error;
  EXPECT_NE(error.find("'small_abs'"), std::string::npos) << error;
  EXPECT_NE(error.find("out of range"), std::string::npos) << error;
  // A PC32 data reference cannot go through a stub.
  const char* data_ref = "  .text\n  .globl f\nf:\n  movl host_counter(%rip), %eax\n  ret\n";
  error = load_error({object(data_ref, true)});
  EXPECT_NE(error.find("R_X86_64_PC32 against 'host_counter' at .text+0x2 is out of range"), std::string::npos)
      << error;
}

TEST(ObjectLoader, UnresolvedSymbolsAreNamed) {
  std::string error = load_error({object(kSourceA)}, ErrorCode::UnknownImport);
  EXPECT_NE(error.find("undefined symbol 'b_twice'"), std::string::npos) << error;
  error = load_error({object(kSourceA), object(kSourceB)}, ErrorCode::UnknownImport,
                     [](std::string_view name) -> void* { return name == "host_add" ? nullptr : host_symbol(name); });
  EXPECT_NE(error.find("undefined symbol 'host_add'"), std::string::npos) << error;
  // A weak reference to nothing is null, as with a static linker.
  const char* weak = "extern int maybe(void) __attribute__((weak));\nint has_maybe(void) { return maybe != 0; }\n";
  auto code = load_ok({object(weak)});
  ASSERT_TRUE(code);
  EXPECT_EQ(fn<int (*)()>(*code, "has_maybe")(), 0);
}

TEST(ObjectLoader, StrongDefinitionBeatsWeak) {
  const char* weak = "__attribute__((weak)) int pick(void) { return 1; }\nint call_pick(void) { return pick(); }\n";
  const char* strong = "int pick(void) { return 2; }\n";
  for (bool weak_first : {true, false}) {
    auto code = weak_first ? load_ok({object(weak), object(strong)}) : load_ok({object(strong), object(weak)});
    ASSERT_TRUE(code);
    EXPECT_EQ(fn<int (*)()>(*code, "call_pick")(), 2);
    EXPECT_EQ(fn<int (*)()>(*code, "pick")(), 2);
  }
}

TEST(ObjectLoader, UnsupportedFeaturesAreErrors) {
  std::string error = load_error({object("__thread int tls; int get(void) { return tls; }\n")});
  EXPECT_NE(error.find("thread-local"), std::string::npos) << error;
  error = load_error({object("int shared_common; int get(void) { return shared_common; }\n", false, "-fcommon")});
  EXPECT_NE(error.find("common symbols"), std::string::npos) << error;
  error = load_error({object(kSourceB), object(kSourceB)});
  EXPECT_NE(error.find("'b_twice' is defined more than once"), std::string::npos) << error;
}

TEST(ObjectLoader, MalformedHeadersAreErrors) {
  const std::string& good = object(kSourceB);
  EXPECT_NE(load_error({""}).find("truncated ELF header"), std::string::npos);
  EXPECT_NE(load_error({"not an object at all, but long enough for a header.............."}).find("not an ELF file"),
            std::string::npos);
  auto patched = [&](size_t offset, std::initializer_list<uint8_t> bytes) {
    std::string copy = good;
    std::copy(bytes.begin(), bytes.end(), copy.begin() + offset);
    return copy;
  };
  std::string bad = patched(EI_CLASS, {ELFCLASS32});
  EXPECT_NE(load_error({bad}).find("offset 0x4: internal error (object 0: not a 64-bit ELF file)"), std::string::npos);
  bad = patched(EI_DATA, {ELFDATA2MSB});
  EXPECT_NE(load_error({bad}).find("little-endian"), std::string::npos);
  bad = patched(offsetof(Elf64_Ehdr, e_type), {ET_EXEC, 0});
  EXPECT_NE(load_error({bad}).find("ET_REL"), std::string::npos);
  bad = patched(offsetof(Elf64_Ehdr, e_machine), {EM_AARCH64, 0});
  EXPECT_NE(load_error({bad}).find("not an x86-64 object"), std::string::npos);
  // The second object is the bad one, and the error says so.
  bad = patched(offsetof(Elf64_Ehdr, e_shoff) + 3, {0x7f});
  EXPECT_NE(load_error({object(kSourceA), bad}).find("object 1: section headers extend past"), std::string::npos);
}

TEST(ObjectLoader, TruncatedObjectsAreErrors) {
  const std::string& good = object(kSourceB);
  // LLVM puts the section headers last, so every proper prefix must fail.
  for (size_t size = 0; size < good.size(); ++size) {
    auto loaded = load({std::string_view(good).substr(0, size)});
    ASSERT_FALSE(loaded.ok()) << size;
    EXPECT_EQ(loaded.error().code, ErrorCode::Internal) << size;
  }
}

TEST(ObjectLoader, CorruptSectionsSymbolsAndRelocationsAreErrors) {
  const std::string& good = object(kSourceA);
  const SectionRef rela = section_named(good, ".rela.text");
  const SectionRef symtab = section_named(good, ".symtab");
  const SectionRef text = section_named(good, ".text");
  auto with = [&](size_t offset, auto value) {
    std::string copy = good;
    std::memcpy(copy.data() + offset, &value, sizeof value);
    return copy;
  };
  std::string b = object(kSourceB);
  auto error_of = [&](const std::string& obj) { return load_error({obj, b}); };

  const size_t first_rela = rela.shdr.sh_offset;
  std::string e = error_of(with(first_rela + offsetof(Elf64_Rela, r_info), ELF64_R_INFO(1, R_X86_64_GOTPC32)));
  EXPECT_NE(e.find("unsupported relocation type 26"), std::string::npos) << e;
  char expected_offset[32];
  std::snprintf(expected_offset, sizeof expected_offset, "offset 0x%zx:", first_rela);
  EXPECT_EQ(e.rfind(expected_offset, 0), 0u) << e;
  e = error_of(with(first_rela + offsetof(Elf64_Rela, r_offset), uint64_t{text.shdr.sh_size - 2}));
  EXPECT_NE(e.find("outside .text"), std::string::npos) << e;
  e = error_of(with(first_rela + offsetof(Elf64_Rela, r_info), ELF64_R_INFO(100000, R_X86_64_PC32)));
  EXPECT_NE(e.find("bad symbol index 100000"), std::string::npos) << e;
  e = error_of(with(rela.header + offsetof(Elf64_Shdr, sh_size), uint64_t{sizeof(Elf64_Rela)} << 40));
  EXPECT_NE(e.find("extends past the end of the file"), std::string::npos) << e;
  e = error_of(with(symtab.header + offsetof(Elf64_Shdr, sh_entsize), uint64_t{16}));
  EXPECT_NE(e.find("malformed symbol table"), std::string::npos) << e;
  const size_t symbol_1 = symtab.shdr.sh_offset + sizeof(Elf64_Sym);
  e = error_of(with(symbol_1 + offsetof(Elf64_Sym, st_name), uint32_t{0xfffffff0}));
  EXPECT_NE(e.find("string outside its string table"), std::string::npos) << e;
  e = error_of(with(symbol_1 + offsetof(Elf64_Sym, st_shndx), uint16_t{0x9999}));
  EXPECT_NE(e.find("bad section index"), std::string::npos) << e;
  e = error_of(with(text.header + offsetof(Elf64_Shdr, sh_flags), uint64_t{SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR}));
  EXPECT_NE(e.find("(.text) is writable and executable"), std::string::npos) << e;
  e = error_of(with(text.header + offsetof(Elf64_Shdr, sh_addralign), uint64_t{24}));
  EXPECT_NE(e.find("bad alignment"), std::string::npos) << e;
  // A huge .bss is refused before anything is mapped.
  const SectionRef bss = section_named(good, ".bss");
  e = error_of(with(bss.header + offsetof(Elf64_Shdr, sh_size), uint64_t{1} << 50));
  EXPECT_NE(e.find("(.bss) is too large"), std::string::npos) << e;
}

// Random corruption of a valid object: every load must return an error or
// succeed, never crash or touch memory it should not (run under ASan too).
// The loaded code is never executed.
TEST(ObjectLoader, SurvivesRandomMutations) {
  const std::string& good = object(kSourceA);
  const auto anything = [](std::string_view) -> void* { return reinterpret_cast<void*>(&host_add); };
  Elf64_Ehdr eh;
  std::memcpy(&eh, good.data(), sizeof eh);
  const SectionRef rela = section_named(good, ".rela.text");
  const SectionRef symtab = section_named(good, ".symtab");
  // Ranges the loader interprets: headers, section table, symbols, relocations.
  const std::pair<size_t, size_t> hot[] = {
      {0, sizeof eh},
      {eh.e_shoff, eh.e_shnum * sizeof(Elf64_Shdr)},
      {symtab.shdr.sh_offset, symtab.shdr.sh_size},
      {rela.shdr.sh_offset, rela.shdr.sh_size},
  };
  std::mt19937_64 rng(20240611);
  int loaded = 0, rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      size_t at;
      if (rng() % 4 == 0) {
        at = rng() % bytes.size();
      } else {
        const auto& [begin, size] = hot[rng() % std::size(hot)];
        at = begin + rng() % size;
      }
      const uint64_t value = rng();
      switch (rng() % 4) {
        case 0: bytes[at] = static_cast<char>(value); break;                    // random byte
        case 1: bytes[at] = static_cast<char>(bytes[at] ^ (1 << (value % 8))); break;  // bit flip
        case 2: std::memcpy(bytes.data() + at, &value, std::min<size_t>(8, bytes.size() - at)); break;
        case 3: {  // a small or boundary integer, as real corruption often is
          const uint64_t interesting[] = {0, 1, 0xff, 0xffff, 0xffffffff, ~uint64_t{0}, uint64_t{1} << 31,
                                          bytes.size(), value % 64};
          const uint64_t v = interesting[value % std::size(interesting)];
          std::memcpy(bytes.data() + at, &v, std::min<size_t>(8, bytes.size() - at));
          break;
        }
      }
    }
    if (rng() % 32 == 0) bytes.resize(rng() % bytes.size());
    auto result = load({bytes}, anything);
    (result.ok() ? loaded : rejected) += 1;
    if (!result.ok()) {
      ASSERT_FALSE(result.error().detail.empty());
    }
  }
  // Both outcomes must occur, or the mutations did not exercise the loader.
  EXPECT_GT(loaded, 100);
  EXPECT_GT(rejected, 100);
}

}  // namespace
}  // namespace skiff::llvmjit

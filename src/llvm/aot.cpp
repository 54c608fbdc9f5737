// The .skc format: see aot.h.
#include "llvm/aot.h"

#include <cstring>

#include "llvm/abi.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace skiff::llvmjit {

namespace {

constexpr char kMagic[8] = {'S', 'K', 'I', 'F', 'F', 'A', 'O', 'T'};
constexpr uint32_t kFormatVersion = 2;

// 64-bit hash, 8 bytes a step (a corrupt 100 MB file must not take long).
uint64_t hash64(std::span<const uint8_t> bytes) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ bytes.size();
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  for (; i < bytes.size(); ++i) h = (h ^ bytes[i]) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

// CPUID words that describe instruction set extensions (and XCR0, the
// register state the OS saves). Code compiled where a bit was set may use
// that feature, so a run needs every bit the compiling CPU had.
std::vector<uint32_t> cpu_feature_words() {
  std::vector<uint32_t> words;
#if defined(__x86_64__)
  unsigned a, b, c, d;
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  __cpuid(1, a, b, c, d);
  bool osxsave = (c >> 27) & 1;
  words.push_back(c & ~(1u << 31));  // not bit 31: "running under a hypervisor"
  words.push_back(d);
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    words.insert(words.end(), {b, c, d});
    __cpuid_count(7, 1, a, b, c, d);
    words.insert(words.end(), {a, d});
  } else {
    words.insert(words.end(), {0, 0, 0, 0, 0});
  }
  if (max_leaf >= 13) {
    __cpuid_count(13, 1, a, b, c, d);
    words.push_back(a);
  } else {
    words.push_back(0);
  }
  __cpuid(0x80000000, a, b, c, d);
  if (a >= 0x80000001) {
    __cpuid(0x80000001, a, b, c, d);
    words.insert(words.end(), {c, d});
  } else {
    words.insert(words.end(), {0, 0});
  }
  uint32_t xcr0 = 0;
  if (osxsave) {
    uint32_t hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(hi) : "c"(0));
  }
  words.push_back(xcr0);
#endif
  return words;
}

const std::vector<uint32_t>& host_features() {
  static const std::vector<uint32_t> words = cpu_feature_words();
  return words;
}

std::string engine_id() {
  std::string id = std::string("skiff ") + SKIFF_VERSION + " abi " + std::to_string(kAbiVersion) + " layout";
  for (uint64_t v : layout::kAll) id += " " + std::to_string(v);
  return id;
}

class Writer {
 public:
  void u32(uint32_t v) { append(&v, 4); }
  void u64(uint64_t v) { append(&v, 8); }
  void bytes(const void* p, size_t n) {
    u64(n);
    append(p, n);
  }
  void append(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  }
  std::vector<uint8_t> out;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  bool u32(uint32_t& v) { return take(&v, 4); }
  bool u64(uint64_t& v) { return take(&v, 8); }
  bool bytes(std::span<const uint8_t>& v) {
    uint64_t n;
    if (!u64(n) || n > in_.size() - pos_) return false;
    v = in_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool take_span(size_t n, std::span<const uint8_t>& v) {
    if (n > in_.size() - pos_) return false;
    v = in_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool string(std::string& v) {
    std::span<const uint8_t> b;
    if (!bytes(b)) return false;
    v.assign(b.begin(), b.end());
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  bool take(void* p, size_t n) {
    if (n > in_.size() - pos_) return false;
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
};

Error bad(std::string what) {
  return Error(ErrorCode::UsageError, Error::kNoOffset, "not a usable .skc file: " + what);
}

}  // namespace

bool is_aot_file(std::span<const uint8_t> bytes) {
  return bytes.size() >= sizeof(kMagic) && std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) == 0;
}

std::vector<uint8_t> write_aot(std::span<const uint8_t> wasm, const CompiledCode& code) {
  Writer w;
  w.append(kMagic, sizeof(kMagic));
  w.u32(kFormatVersion);
  std::string id = engine_id();
  w.bytes(id.data(), id.size());
  w.bytes(code.target.data(), code.target.size());
  const std::vector<uint32_t>& features = host_features();
  w.bytes(features.data(), features.size() * 4);
  uint8_t interruptible = code.interruptible ? 1 : 0;
  w.append(&interruptible, 1);
  w.bytes(wasm.data(), wasm.size());
  w.u32(static_cast<uint32_t>(code.objects.size()));
  for (const std::string& object : code.objects) w.bytes(object.data(), object.size());
  w.u64(hash64(w.out));
  return std::move(w.out);
}

Result<AotContents> read_aot(std::span<const uint8_t> file) {
  if (!is_aot_file(file)) return bad("it does not start with the SKIFFAOT magic");
  if (file.size() < sizeof(kMagic) + 4 + 8) return bad("truncated");
  Reader r(file.subspan(sizeof(kMagic)));
  uint32_t version = 0;
  r.u32(version);
  if (version != kFormatVersion)
    return bad("format version " + std::to_string(version) + ", this skiff reads version " +
               std::to_string(kFormatVersion) + " (recompile it with `skiff compile`)");
  // Damage first: every later field is then what the writer wrote.
  std::span<const uint8_t> body = file.first(file.size() - 8);
  uint64_t stored;
  std::memcpy(&stored, file.data() + body.size(), 8);
  if (stored != hash64(body)) return bad("checksum mismatch (the file is corrupt or truncated)");
  std::string id, target;
  std::span<const uint8_t> features, flag, wasm;
  if (!r.string(id) || !r.string(target) || !r.bytes(features) || !r.take_span(1, flag) || !r.bytes(wasm))
    return bad("truncated header");
  if (flag[0] > 1) return bad("bad interruptible flag");
  if (id != engine_id())
    return bad("compiled by another Skiff build (\"" + id + "\", this is \"" + engine_id() +
               "\"); recompile it with `skiff compile`");
  const std::vector<uint32_t>& host = host_features();
  if (features.size() % 4 != 0 || features.size() / 4 != host.size()) return bad("compiled for another kind of CPU");
  for (size_t i = 0; i < host.size(); ++i) {
    uint32_t needed;
    std::memcpy(&needed, features.data() + i * 4, 4);
    if ((needed & ~host[i]) != 0)
      return bad("compiled for a CPU with features this one lacks (target: " + target + ")");
  }
  AotContents out;
  out.code.target = std::move(target);
  out.code.interruptible = flag[0] == 1;
  out.wasm.assign(wasm.begin(), wasm.end());
  uint32_t count = 0;
  if (!r.u32(count)) return bad("truncated object list");
  for (uint32_t i = 0; i < count; ++i) {
    std::span<const uint8_t> object;
    if (!r.bytes(object)) return bad("truncated object " + std::to_string(i));
    out.code.objects.emplace_back(object.begin(), object.end());
  }
  if (r.pos() + sizeof(kMagic) != body.size()) return bad("trailing bytes before the checksum");
  return out;
}

namespace {
constexpr char kBatchMagic[8] = {'S', 'K', 'I', 'F', 'F', 'T', 'U', 'P'};
constexpr uint32_t kBatchFormatVersion = 2;  // 2: loop code takes a selector (tierup.cpp)
}  // namespace

std::vector<uint8_t> write_tierup_batches(std::span<const uint8_t> wasm, const std::vector<TierUpBatch>& batches) {
  Writer w;
  w.append(kBatchMagic, sizeof(kBatchMagic));
  w.u32(kBatchFormatVersion);
  // The module by size and hash, not its bytes: the file is rewritten at
  // every batch.
  w.u64(wasm.size());
  w.u64(hash64(wasm));
  w.u32(static_cast<uint32_t>(batches.size()));
  for (const TierUpBatch& batch : batches) {
    w.u32(static_cast<uint32_t>(batch.functions.size()));
    for (uint32_t f : batch.functions) w.u32(f);
    w.u32(static_cast<uint32_t>(batch.loops.size()));
    for (auto [f, offset] : batch.loops) {
      w.u32(f);
      w.u32(offset);
    }
    std::vector<uint8_t> code = write_aot({}, batch.code);
    w.bytes(code.data(), code.size());
  }
  w.u64(hash64(w.out));
  return std::move(w.out);
}

Result<std::vector<TierUpBatch>> read_tierup_batches(std::span<const uint8_t> file, std::span<const uint8_t> wasm) {
  auto bad_batches = [](const std::string& what) {
    return Error(ErrorCode::UsageError, Error::kNoOffset, "not a usable tier-up cache entry: " + what);
  };
  if (file.size() < sizeof(kBatchMagic) + 4 + 8 || std::memcmp(file.data(), kBatchMagic, sizeof(kBatchMagic)) != 0)
    return bad_batches("no SKIFFTUP magic");
  std::span<const uint8_t> body = file.first(file.size() - 8);
  uint64_t stored;
  std::memcpy(&stored, file.data() + body.size(), 8);
  if (stored != hash64(body)) return bad_batches("checksum mismatch");
  Reader r(body.subspan(sizeof(kBatchMagic)));
  uint32_t version = 0, count = 0;
  uint64_t module_size = 0, module_hash = 0;
  if (!r.u32(version) || version != kBatchFormatVersion) return bad_batches("another format version");
  if (!r.u64(module_size) || !r.u64(module_hash) || module_size != wasm.size() || module_hash != hash64(wasm))
    return bad_batches("written for another module");
  if (!r.u32(count)) return bad_batches("truncated");
  std::vector<TierUpBatch> batches;
  for (uint32_t i = 0; i < count; ++i) {
    TierUpBatch batch;
    uint32_t n = 0;
    if (!r.u32(n) || n > body.size()) return bad_batches("truncated batch");
    batch.functions.resize(n);
    for (uint32_t& f : batch.functions)
      if (!r.u32(f)) return bad_batches("truncated batch");
    if (!r.u32(n) || n > body.size()) return bad_batches("truncated batch");
    batch.loops.resize(n);
    for (auto& [f, offset] : batch.loops)
      if (!r.u32(f) || !r.u32(offset)) return bad_batches("truncated batch");
    std::span<const uint8_t> code;
    if (!r.bytes(code)) return bad_batches("truncated batch");
    auto contents = read_aot(code);
    if (!contents.ok()) return contents.error();
    batch.code = std::move(contents.value().code);
    batches.push_back(std::move(batch));
  }
  if (r.pos() + sizeof(kBatchMagic) != body.size()) return bad_batches("trailing bytes");
  return batches;
}

uint64_t aot_checksum(std::span<const uint8_t> bytes) { return hash64(bytes); }

std::string code_config_id() {
  std::string id = engine_id() + " cpu";
  for (uint32_t w : host_features()) id += " " + std::to_string(w);
  return id;
}

std::string hash_hex(std::span<const uint8_t> bytes) {
  static const char kDigits[] = "0123456789abcdef";
  uint64_t h = hash64(bytes);
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = kDigits[h & 15];
  return out;
}

}  // namespace skiff::llvmjit

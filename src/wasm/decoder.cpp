// The binary decoder: bytes -> Module, for every section of WebAssembly 2.0.
// Function bodies are only delimited here (locals expanded); their
// instructions are decoded by the body decoder during validation.
//
// Like the reference interpreter, one reader walks the whole binary: a
// section that overruns its declared size is reported as "section size
// mismatch" once it has been read, and lengths are checked against the end
// of the file ("length out of bounds").
#include <cstring>
#include <limits>
#include <string>

#include "base/reader.h"
#include "wasm/const_expr.h"
#include "wasm/module.h"

namespace skiff::wasm {

namespace {

#define DEC_CONCAT_INNER(a, b) a##b
#define DEC_CONCAT(a, b) DEC_CONCAT_INNER(a, b)
#define DEC_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                    \
  if (!tmp.ok()) return tmp.error();    \
  lhs = std::move(tmp.value())
// `DEC_ASSIGN(uint32_t n, r.u32());` declares n or returns the error.
#define DEC_ASSIGN(lhs, expr) DEC_ASSIGN_IMPL(DEC_CONCAT(dec_tmp_, __LINE__), lhs, expr)

// Above this many locals a function is rejected: expanding them costs memory
// per local, and real code stays far below (V8 uses the same limit).
constexpr uint64_t kMaxLocals = 50000;

enum SectionId : uint8_t {
  kCustom = 0, kType, kImport, kFunction, kTable, kMemory, kGlobal,
  kExport, kStart, kElem, kCode, kData, kDataCount,
};

// Position of a section in the required order (the data count section sits
// between element and code).
int section_rank(uint8_t id) {
  switch (id) {
    case kDataCount: return 2 * kElem + 1;
    default: return 2 * id;
  }
}

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(const uint8_t* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t b = s[i];
    if (b < 0x80) { ++i; continue; }
    size_t len;
    uint32_t cp;
    if (b >= 0xc2 && b <= 0xdf) { len = 2; cp = b & 0x1f; }
    else if (b >= 0xe0 && b <= 0xef) { len = 3; cp = b & 0x0f; }
    else if (b >= 0xf0 && b <= 0xf4) { len = 4; cp = b & 0x07; }
    else return false;
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      uint8_t c = s[i + k];
      if ((c & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) return false;
    if (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) return false;
    i += len;
  }
  return true;
}

// Reads a length (vector count, name or section size). Like the reference
// interpreter it may not exceed what is left of the file, counted from the
// length's own first byte.
Result<uint32_t> read_length(Reader& r) {
  uint64_t at = r.offset();
  size_t left = r.remaining();
  DEC_ASSIGN(uint32_t n, r.u32());
  if (n > left) return Error(ErrorCode::LengthOutOfBounds, at);
  return n;
}

Result<std::string> read_name(Reader& r) {
  uint64_t at = r.offset();
  DEC_ASSIGN(uint32_t n, read_length(r));
  DEC_ASSIGN(const uint8_t* p, r.bytes(n));
  if (!valid_utf8(p, n)) return Error(ErrorCode::MalformedUtf8, at);
  return std::string(reinterpret_cast<const char*>(p), n);
}

Result<ValType> read_valtype(Reader& r) {
  uint64_t at = r.offset();
  DEC_ASSIGN(uint8_t b, r.u8());
  if (!is_valtype_byte(b)) return Error(ErrorCode::MalformedValueType, at);
  return static_cast<ValType>(b);
}

Result<ValType> read_reftype(Reader& r) {
  uint64_t at = r.offset();
  DEC_ASSIGN(uint8_t b, r.u8());
  if (b != static_cast<uint8_t>(ValType::FuncRef) && b != static_cast<uint8_t>(ValType::ExternRef))
    return Error(ErrorCode::MalformedReferenceType, at);
  return static_cast<ValType>(b);
}

Result<Limits> read_limits(Reader& r) {
  uint64_t at = r.offset();
  // The flag is a 1-bit LEB128 in the reference decoder, hence its messages.
  DEC_ASSIGN(uint8_t flags, r.u8());
  if ((flags & 0x7f) > 1) return Error(ErrorCode::MalformedLimitsFlags, at);
  if (flags & 0x80) return Error(ErrorCode::IntTooLong, at + 1);
  Limits limits;
  DEC_ASSIGN(limits.min, r.u32());
  if (flags & 1) {
    DEC_ASSIGN(uint32_t max, r.u32());
    limits.max = max;
  }
  return limits;
}

Result<TableType> read_table_type(Reader& r) {
  TableType t;
  DEC_ASSIGN(t.elem, read_reftype(r));
  DEC_ASSIGN(t.limits, read_limits(r));
  return t;
}

Result<GlobalType> read_global_type(Reader& r) {
  GlobalType t;
  DEC_ASSIGN(t.type, read_valtype(r));
  uint64_t at = r.offset();
  DEC_ASSIGN(uint8_t mut, r.u8());
  if (mut > 1) return Error(ErrorCode::MalformedMutability, at);
  t.is_mutable = mut == 1;
  return t;
}

Result<FuncType> read_func_type(Reader& r) {
  uint64_t at = r.offset();
  DEC_ASSIGN(uint8_t form, r.u8());
  if (form != 0x60) {
    // The reference decoder reads the form as a one-byte signed LEB128.
    if (form & 0x80) return Error(ErrorCode::IntTooLong, at + 1);
    return Error(ErrorCode::MalformedFuncType, at);
  }
  FuncType ft;
  DEC_ASSIGN(uint32_t np, read_length(r));
  for (uint32_t i = 0; i < np; ++i) {
    DEC_ASSIGN(ValType t, read_valtype(r));
    ft.params.push_back(t);
  }
  DEC_ASSIGN(uint32_t nr, read_length(r));
  for (uint32_t i = 0; i < nr; ++i) {
    DEC_ASSIGN(ValType t, read_valtype(r));
    ft.results.push_back(t);
  }
  return ft;
}

Result<std::vector<uint32_t>> read_index_vector(Reader& r) {
  DEC_ASSIGN(uint32_t n, read_length(r));
  std::vector<uint32_t> out;
  out.reserve(n);  // bounded by the file size
  for (uint32_t i = 0; i < n; ++i) {
    DEC_ASSIGN(uint32_t x, r.u32());
    out.push_back(x);
  }
  return out;
}

class ModuleDecoder {
 public:
  explicit ModuleDecoder(Module& m) : m_(m), r_(m.bytes.data(), m.bytes.size()) {}

  Result<void> decode() {
    SKIFF_TRY(header());
    auto sections = all_sections();
    if (!sections.ok()) {
      // Inside sections, running out of input is reported in the spec's
      // words for that situation.
      Error e = sections.error();
      if (e.code == ErrorCode::UnexpectedEnd) e.code = ErrorCode::UnexpectedEndSection;
      return e;
    }
    return finish();
  }

 private:
  Result<void> header() {
    DEC_ASSIGN(const uint8_t* magic, r_.bytes(4));
    static constexpr uint8_t kMagic[4] = {0x00, 0x61, 0x73, 0x6d};
    if (std::memcmp(magic, kMagic, 4) != 0) return Error(ErrorCode::MagicHeader, 0);
    DEC_ASSIGN(uint32_t version, r_.fixed_u32());
    if (version != 1) return Error(ErrorCode::UnknownVersion, 4);
    return {};
  }

  Result<void> all_sections() {
    int last_rank = -1;
    while (!r_.at_end()) {
      uint64_t id_at = r_.offset();
      DEC_ASSIGN(uint8_t id, r_.u8());
      if (id > kDataCount) return Error(ErrorCode::MalformedSectionId, id_at);
      if (id != kCustom) {
        int rank = section_rank(id);
        if (rank <= last_rank) return Error(ErrorCode::UnexpectedContentAfterEnd, id_at);
        last_rank = rank;
      }
      DEC_ASSIGN(uint32_t size, read_length(r_));
      uint64_t start = r_.offset();
      uint64_t end = start + size;
      if (end > m_.bytes.size()) return Error(ErrorCode::UnexpectedEndSection, m_.bytes.size());
      m_.sections.push_back({id, static_cast<uint32_t>(id_at), size});
      SKIFF_TRY(section(id, start, end));
      if (r_.offset() != end) return Error(ErrorCode::SectionSizeMismatch, start);
    }
    return {};
  }

  Result<void> section(uint8_t id, uint64_t start, uint64_t end) {
    switch (id) {
      case kCustom: return custom_section(start, end);
      case kType: return type_section();
      case kImport: return import_section();
      case kFunction: return function_section();
      case kTable: return table_section();
      case kMemory: return memory_section();
      case kGlobal: return global_section();
      case kExport: return export_section();
      case kStart: {
        DEC_ASSIGN(uint32_t f, r_.u32());
        m_.start = f;
        return {};
      }
      case kElem: return elem_section();
      case kDataCount: {
        DEC_ASSIGN(uint32_t n, r_.u32());
        m_.data_count = n;
        return {};
      }
      case kCode: return code_section();
      case kData: return data_section();
    }
    return Error(ErrorCode::MalformedSectionId, start);
  }

  Result<void> custom_section(uint64_t start, uint64_t end) {
    DEC_ASSIGN(std::string name, read_name(r_));
    if (r_.offset() > end) return Error(ErrorCode::UnexpectedEndSection, end);
    uint64_t payload = r_.offset();
    DEC_ASSIGN(const uint8_t* skipped, r_.bytes(end - payload));
    (void)skipped;
    if (name == "name" && !name_section_) name_section_ = m_.customs.size();
    m_.customs.push_back({std::move(name), static_cast<uint32_t>(payload), static_cast<uint32_t>(end - payload)});
    return {};
  }

  Result<void> type_section() {
    DEC_ASSIGN(uint32_t n, read_length(r_));
    for (uint32_t i = 0; i < n; ++i) {
      DEC_ASSIGN(FuncType ft, read_func_type(r_));
      m_.types.push_back(std::move(ft));
    }
    return {};
  }

  Result<void> import_section() {
    DEC_ASSIGN(uint32_t n, read_length(r_));
    for (uint32_t i = 0; i < n; ++i) {
      Import imp;
      DEC_ASSIGN(imp.module, read_name(r_));
      DEC_ASSIGN(imp.name, read_name(r_));
      uint64_t kind_at = r_.offset();
      DEC_ASSIGN(uint8_t kind, r_.u8());
      switch (kind) {
        case 0: {
          imp.kind = ExternKind::Func;
          DEC_ASSIGN(imp.func_type, r_.u32());
          m_.funcs.push_back(imp.func_type);
          ++m_.num_imported_funcs;
          break;
        }
        case 1: {
          imp.kind = ExternKind::Table;
          DEC_ASSIGN(imp.table, read_table_type(r_));
          m_.tables.push_back(imp.table);
          ++m_.num_imported_tables;
          break;
        }
        case 2: {
          imp.kind = ExternKind::Memory;
          DEC_ASSIGN(imp.memory.limits, read_limits(r_));
          m_.memories.push_back(imp.memory);
          ++m_.num_imported_memories;
          break;
        }
        case 3: {
          imp.kind = ExternKind::Global;
          DEC_ASSIGN(imp.global, read_global_type(r_));
          m_.globals.push_back(imp.global);
          ++m_.num_imported_globals;
          break;
        }
        default:
          return Error(ErrorCode::MalformedImportKind, kind_at);
      }
      m_.imports.push_back(std::move(imp));
    }
    return {};
  }

  Result<void> function_section() {
    DEC_ASSIGN(std::vector<uint32_t> types, read_index_vector(r_));
    num_declared_funcs_ = types.size();
    m_.funcs.insert(m_.funcs.end(), types.begin(), types.end());
    return {};
  }

  Result<void> table_section() {
    DEC_ASSIGN(uint32_t n, read_length(r_));
    for (uint32_t i = 0; i < n; ++i) {
      DEC_ASSIGN(TableType t, read_table_type(r_));
      m_.tables.push_back(t);
    }
    return {};
  }

  Result<void> memory_section() {
    DEC_ASSIGN(uint32_t n, read_length(r_));
    for (uint32_t i = 0; i < n; ++i) {
      MemoryType t;
      DEC_ASSIGN(t.limits, read_limits(r_));
      m_.memories.push_back(t);
    }
    return {};
  }

  Result<void> global_section() {
    DEC_ASSIGN(uint32_t n, read_length(r_));
    for (uint32_t i = 0; i < n; ++i) {
      DEC_ASSIGN(GlobalType t, read_global_type(r_));
      DEC_ASSIGN(ConstExpr init, decode_const_expr(r_));
      m_.globals.push_back(t);
      m_.global_inits.push_back(std::move(init));
    }
    return {};
  }

  Result<void> export_section() {
    DEC_ASSIGN(uint32_t n, read_length(r_));
    for (uint32_t i = 0; i < n; ++i) {
      Export e;
      DEC_ASSIGN(e.name, read_name(r_));
      uint64_t kind_at = r_.offset();
      DEC_ASSIGN(uint8_t kind, r_.u8());
      if (kind > 3) return Error(ErrorCode::MalformedExportKind, kind_at);
      e.kind = static_cast<ExternKind>(kind);
      DEC_ASSIGN(e.index, r_.u32());
      m_.exports.push_back(std::move(e));
    }
    return {};
  }

  Result<ValType> elem_kind() {
    uint64_t at = r_.offset();
    DEC_ASSIGN(uint8_t kind, r_.u8());
    if (kind != 0x00) return Error(ErrorCode::MalformedElemKind, at);
    return ValType::FuncRef;
  }

  Result<void> elem_section() {
    DEC_ASSIGN(uint32_t n, read_length(r_));
    for (uint32_t i = 0; i < n; ++i) {
      ElemSegment seg;
      seg.offset_in_binary = r_.offset();
      DEC_ASSIGN(uint32_t form, r_.u32());
      if (form > 7) return Error(ErrorCode::MalformedElemSegmentKind, seg.offset_in_binary);
      // Bit 0: passive or declarative; bit 1: explicit table index (active)
      // or declarative; bit 2: expressions instead of function indices.
      bool not_active = form & 1;
      bool bit1 = form & 2;
      seg.uses_exprs = form & 4;
      seg.mode = !not_active ? SegmentMode::Active : bit1 ? SegmentMode::Declarative : SegmentMode::Passive;
      if (seg.mode == SegmentMode::Active) {
        if (bit1) { DEC_ASSIGN(seg.table, r_.u32()); }
        DEC_ASSIGN(seg.offset, decode_const_expr(r_));
      }
      // Forms 0 and 4 have an implicit funcref type.
      if (form != 0 && form != 4) {
        if (seg.uses_exprs) { DEC_ASSIGN(seg.elem_type, read_reftype(r_)); }
        else { DEC_ASSIGN(seg.elem_type, elem_kind()); }
      }
      if (seg.uses_exprs) {
        DEC_ASSIGN(uint32_t count, read_length(r_));
        for (uint32_t k = 0; k < count; ++k) {
          DEC_ASSIGN(ConstExpr e, decode_const_expr(r_));
          seg.exprs.push_back(std::move(e));
        }
      } else {
        DEC_ASSIGN(seg.func_indices, read_index_vector(r_));
      }
      m_.elems.push_back(std::move(seg));
    }
    return {};
  }

  Result<void> code_section() {
    DEC_ASSIGN(uint32_t n, read_length(r_));
    m_.bodies.reserve(n);  // read_length bounds n by the bytes left
    for (uint32_t i = 0; i < n; ++i) {
      DEC_ASSIGN(uint32_t size, read_length(r_));
      uint64_t start = r_.offset();
      if (size > r_.remaining()) return Error(ErrorCode::UnexpectedEndSection, m_.bytes.size());
      // Locals are read within the body, so they cannot run into the next one.
      Reader body(r_.pos(), size, start);
      FunctionBody fb;
      SKIFF_TRY(locals(body, fb));
      fb.body_offset = static_cast<uint32_t>(body.offset());
      fb.body_end = static_cast<uint32_t>(start + size);
      DEC_ASSIGN(const uint8_t* skipped, r_.bytes(size));
      (void)skipped;
      m_.bodies.push_back(std::move(fb));
    }
    return {};
  }

  static Result<void> locals(Reader& body, FunctionBody& fb) {
    uint64_t at = body.offset();
    DEC_ASSIGN(uint32_t groups, read_length(body));
    // Two passes over the groups (check and count, then expand) instead of
    // a temporary vector: this runs once per function.
    Reader first = body;
    uint64_t total = 0;  // at most 2^32 groups of 2^32, so no overflow
    for (uint32_t g = 0; g < groups; ++g) {
      DEC_ASSIGN(uint32_t count, first.u32());
      DEC_ASSIGN(ValType t, read_valtype(first));
      (void)t;
      total += count;
    }
    if (total > kMaxLocals) return Error(ErrorCode::TooManyLocals, at);
    fb.locals.reserve(total);
    for (uint32_t g = 0; g < groups; ++g) {
      DEC_ASSIGN(uint32_t count, body.u32());  // cannot fail: read above
      DEC_ASSIGN(ValType t, read_valtype(body));
      fb.locals.insert(fb.locals.end(), count, t);
    }
    return {};
  }

  Result<void> data_section() {
    DEC_ASSIGN(uint32_t n, read_length(r_));
    for (uint32_t i = 0; i < n; ++i) {
      DataSegment seg;
      seg.offset_in_binary = r_.offset();
      DEC_ASSIGN(uint32_t form, r_.u32());
      if (form > 2) return Error(ErrorCode::MalformedDataSegmentKind, seg.offset_in_binary);
      seg.mode = form == 1 ? SegmentMode::Passive : SegmentMode::Active;
      if (form == 2) { DEC_ASSIGN(seg.memory, r_.u32()); }
      if (seg.mode == SegmentMode::Active) { DEC_ASSIGN(seg.offset, decode_const_expr(r_)); }
      DEC_ASSIGN(uint32_t size, read_length(r_));
      seg.data_offset = static_cast<uint32_t>(r_.offset());
      seg.data_size = size;
      DEC_ASSIGN(const uint8_t* skipped, r_.bytes(size));
      (void)skipped;
      m_.datas.push_back(std::move(seg));
    }
    return {};
  }

  Result<void> finish() {
    uint64_t end = m_.bytes.size();
    if (num_declared_funcs_ != m_.bodies.size()) return Error(ErrorCode::FuncCodeMismatch, end);
    if (m_.data_count && *m_.data_count != m_.datas.size()) return Error(ErrorCode::DataCountMismatch, end);
    for (size_t i = 0; i < m_.bodies.size(); ++i) m_.bodies[i].type_index = m_.funcs[m_.num_imported_funcs + i];
    if (name_section_) parse_names(m_.customs[*name_section_]);
    return {};
  }

  // The name section is optional metadata: when it is malformed, drop it.
  void parse_names(const CustomSection& section) {
    Reader r(m_.bytes.data() + section.data_offset, section.data_size, section.data_offset);
    if (!read_names(r).ok()) m_.names = Names{};
  }

  Result<void> read_names(Reader& r) {
    const size_t num_funcs = m_.funcs.size();
    while (!r.at_end()) {
      DEC_ASSIGN(uint8_t id, r.u8());
      DEC_ASSIGN(uint32_t size, read_length(r));
      DEC_ASSIGN(const uint8_t* p, r.bytes(size));
      Reader sub(p, size, r.offset() - size);
      switch (id) {
        case 0: {
          DEC_ASSIGN(m_.names.module, read_name(sub));
          break;
        }
        case 1: {
          DEC_ASSIGN(uint32_t n, read_length(sub));
          for (uint32_t i = 0; i < n; ++i) {
            DEC_ASSIGN(uint32_t func, sub.u32());
            DEC_ASSIGN(std::string name, read_name(sub));
            if (func >= num_funcs) continue;  // names for nothing are harmless
            if (m_.names.functions.size() <= func) m_.names.functions.resize(func + 1);
            m_.names.functions[func] = std::move(name);
          }
          break;
        }
        case 2: {
          DEC_ASSIGN(uint32_t n, read_length(sub));
          for (uint32_t i = 0; i < n; ++i) {
            DEC_ASSIGN(uint32_t func, sub.u32());
            DEC_ASSIGN(uint32_t count, read_length(sub));
            std::vector<std::pair<uint32_t, std::string>> locals;
            for (uint32_t k = 0; k < count; ++k) {
              DEC_ASSIGN(uint32_t local, sub.u32());
              DEC_ASSIGN(std::string name, read_name(sub));
              locals.emplace_back(local, std::move(name));
            }
            if (func >= num_funcs) continue;
            if (m_.names.locals.size() <= func) m_.names.locals.resize(func + 1);
            m_.names.locals[func] = std::move(locals);
          }
          break;
        }
        default:
          continue;  // other subsections (labels, types, ...) are not used
      }
      if (!sub.at_end()) return Error(ErrorCode::SectionSizeMismatch, sub.offset());
    }
    return {};
  }

  Module& m_;
  Reader r_;
  size_t num_declared_funcs_ = 0;
  std::optional<size_t> name_section_;
};

}  // namespace

Result<std::unique_ptr<Module>> decode_module(std::vector<uint8_t> bytes) {
  if (bytes.size() > std::numeric_limits<uint32_t>::max())
    return Error(ErrorCode::LengthOutOfBounds, 0, "module larger than 4 GiB");
  auto module = std::make_unique<Module>();
  module->bytes = std::move(bytes);
  ModuleDecoder decoder(*module);
  SKIFF_TRY(decoder.decode());
  return module;
}

}  // namespace skiff::wasm

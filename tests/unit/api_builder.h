// A tiny wasm binary builder for the embedding tests: enough sections to
// write plug-ins by hand (types, func imports, functions, one table, one
// memory, exports, active data) without a text-format parser.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace skiff::test_wasm {

using Bytes = std::vector<uint8_t>;

constexpr uint8_t kI32 = 0x7f, kI64 = 0x7e, kF32 = 0x7d, kF64 = 0x7c, kFuncRef = 0x70;

inline void uleb(Bytes& out, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v) b |= 0x80;
    out.push_back(b);
  } while (v);
}

inline void sleb(Bytes& out, int64_t v) {
  for (;;) {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if ((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40))) {
      out.push_back(b);
      return;
    }
    out.push_back(b | 0x80);
  }
}

// Instruction helpers (bodies are plain byte vectors; `end` is added by func()).
namespace op {
inline Bytes i32_const(int32_t v) { Bytes b{0x41}; sleb(b, v); return b; }
inline Bytes i64_const(int64_t v) { Bytes b{0x42}; sleb(b, v); return b; }
inline Bytes local_get(uint32_t i) { Bytes b{0x20}; uleb(b, i); return b; }
inline Bytes local_set(uint32_t i) { Bytes b{0x21}; uleb(b, i); return b; }
inline Bytes call(uint32_t f) { Bytes b{0x10}; uleb(b, f); return b; }
inline Bytes br(uint32_t depth) { Bytes b{0x0c}; uleb(b, depth); return b; }
inline Bytes br_if(uint32_t depth) { Bytes b{0x0d}; uleb(b, depth); return b; }
inline const Bytes loop_void{0x03, 0x40};
inline const Bytes block_void{0x02, 0x40};
inline const Bytes end{0x0b};
inline const Bytes drop{0x1a};
inline const Bytes unreachable{0x00};
inline const Bytes i32_add{0x6a};
inline const Bytes i32_sub{0x6b};
inline const Bytes i32_div_s{0x6d};
inline const Bytes i32_eqz{0x45};
inline const Bytes memory_grow{0x40, 0x00};
inline const Bytes memory_size{0x3f, 0x00};
inline const Bytes ref_null_func{0xd0, 0x70};
inline const Bytes table_grow{0xfc, 0x0f, 0x00};
inline Bytes i32_load(uint32_t offset = 0) { Bytes b{0x28, 0x02}; uleb(b, offset); return b; }
inline Bytes i32_store(uint32_t offset = 0) { Bytes b{0x36, 0x02}; uleb(b, offset); return b; }
}  // namespace op

inline Bytes seq(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

class ModuleBuilder {
 public:
  uint32_t type(Bytes params, Bytes results) {
    for (uint32_t i = 0; i < types_.size(); ++i)
      if (types_[i].first == params && types_[i].second == results) return i;
    types_.emplace_back(std::move(params), std::move(results));
    return static_cast<uint32_t>(types_.size() - 1);
  }
  // Imports must come before func(): function indices count imports first.
  uint32_t import_func(std::string module, std::string name, uint32_t type_index) {
    imports_.push_back({std::move(module), std::move(name), type_index});
    return static_cast<uint32_t>(imports_.size() - 1);
  }
  uint32_t func(uint32_t type_index, Bytes body, std::vector<std::pair<uint32_t, uint8_t>> locals = {}) {
    funcs_.push_back({type_index, std::move(body), std::move(locals)});
    return static_cast<uint32_t>(imports_.size() + funcs_.size() - 1);
  }
  void memory(uint32_t min, std::optional<uint32_t> max = std::nullopt) { memory_ = {min, max}; }
  void table(uint32_t min, std::optional<uint32_t> max = std::nullopt) { table_ = {min, max}; }
  void export_func(std::string name, uint32_t index) { exports_.push_back({std::move(name), 0x00, index}); }
  void export_table(std::string name) { exports_.push_back({std::move(name), 0x01, 0}); }
  void export_memory(std::string name) { exports_.push_back({std::move(name), 0x02, 0}); }
  void data(uint32_t offset, std::string bytes) { datas_.push_back({offset, std::move(bytes)}); }

  Bytes build() const {
    Bytes out{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    auto section = [&](uint8_t id, const Bytes& content) {
      out.push_back(id);
      uleb(out, content.size());
      out.insert(out.end(), content.begin(), content.end());
    };
    auto name = [](Bytes& b, const std::string& s) {
      uleb(b, s.size());
      b.insert(b.end(), s.begin(), s.end());
    };
    auto limits = [](Bytes& b, uint32_t min, std::optional<uint32_t> max) {
      b.push_back(max ? 1 : 0);
      uleb(b, min);
      if (max) uleb(b, *max);
    };
    Bytes s;
    uleb(s, types_.size());
    for (const auto& [params, results] : types_) {
      s.push_back(0x60);
      uleb(s, params.size());
      s.insert(s.end(), params.begin(), params.end());
      uleb(s, results.size());
      s.insert(s.end(), results.begin(), results.end());
    }
    section(1, s);
    if (!imports_.empty()) {
      s.clear();
      uleb(s, imports_.size());
      for (const auto& imp : imports_) {
        name(s, imp.module);
        name(s, imp.name);
        s.push_back(0x00);
        uleb(s, imp.type);
      }
      section(2, s);
    }
    s.clear();
    uleb(s, funcs_.size());
    for (const auto& f : funcs_) uleb(s, f.type);
    section(3, s);
    if (table_) {
      s = {1, kFuncRef};
      limits(s, table_->first, table_->second);
      section(4, s);
    }
    if (memory_) {
      s = {1};
      limits(s, memory_->first, memory_->second);
      section(5, s);
    }
    s.clear();
    uleb(s, exports_.size());
    for (const auto& e : exports_) {
      name(s, e.name);
      s.push_back(e.kind);
      uleb(s, e.index);
    }
    section(7, s);
    s.clear();
    uleb(s, funcs_.size());
    for (const auto& f : funcs_) {
      Bytes body;
      uleb(body, f.locals.size());
      for (const auto& [count, type] : f.locals) {
        uleb(body, count);
        body.push_back(type);
      }
      body.insert(body.end(), f.body.begin(), f.body.end());
      body.push_back(0x0b);
      uleb(s, body.size());
      s.insert(s.end(), body.begin(), body.end());
    }
    section(10, s);
    if (!datas_.empty()) {
      s.clear();
      uleb(s, datas_.size());
      for (const auto& d : datas_) {
        s.push_back(0x00);
        Bytes offset = op::i32_const(static_cast<int32_t>(d.first));
        s.insert(s.end(), offset.begin(), offset.end());
        s.push_back(0x0b);
        uleb(s, d.second.size());
        s.insert(s.end(), d.second.begin(), d.second.end());
      }
      section(11, s);
    }
    return out;
  }

 private:
  struct Import {
    std::string module, name;
    uint32_t type;
  };
  struct Func {
    uint32_t type;
    Bytes body;
    std::vector<std::pair<uint32_t, uint8_t>> locals;
  };
  struct Export {
    std::string name;
    uint8_t kind;
    uint32_t index;
  };
  std::vector<std::pair<Bytes, Bytes>> types_;
  std::vector<Import> imports_;
  std::vector<Func> funcs_;
  std::optional<std::pair<uint32_t, std::optional<uint32_t>>> memory_, table_;
  std::vector<Export> exports_;
  std::vector<std::pair<uint32_t, std::string>> datas_;
};

// The plug-in most embedding tests load: it imports env.log(ptr, len) and
// misbehaves on request.
//   add(a, b) -> a + b         recurse()    calls itself forever
//   spin()    loops forever    nested_spin() an infinite loop inside a loop
//   grow(n)   memory.grow n    div(a, b) -> a / b (signed)
//   boom()    unreachable      say(ptr, len) calls env.log(ptr, len)
//   hello()   logs "hello"     count(n)  loops n times, returns n
//   depth(n)  recurses n deep  table_grow(n) -> table.grow n (null)
inline Bytes plugin_module() {
  using namespace op;
  ModuleBuilder m;
  uint32_t t_ii_v = m.type({kI32, kI32}, {});
  uint32_t t_ii_i = m.type({kI32, kI32}, {kI32});
  uint32_t t_v_v = m.type({}, {});
  uint32_t t_i_i = m.type({kI32}, {kI32});
  uint32_t log = m.import_func("env", "log", t_ii_v);
  m.memory(1);
  m.table(1);
  m.data(0, "hello");
  m.export_memory("memory");
  m.export_table("table");
  m.export_func("add", m.func(t_ii_i, seq({local_get(0), local_get(1), i32_add})));
  uint32_t recurse = 1 + 1;  // the next function index (log is 0, add is 1)
  m.export_func("recurse", m.func(t_v_v, call(recurse)));
  m.export_func("spin", m.func(t_v_v, seq({loop_void, br(0), end})));
  m.export_func("nested_spin", m.func(t_v_v, seq({loop_void, loop_void, br(0), end, br(0), end})));
  m.export_func("grow", m.func(t_i_i, seq({local_get(0), memory_grow})));
  m.export_func("div", m.func(t_ii_i, seq({local_get(0), local_get(1), i32_div_s})));
  m.export_func("boom", m.func(t_v_v, unreachable));
  m.export_func("say", m.func(t_ii_v, seq({local_get(0), local_get(1), call(log)})));
  m.export_func("hello", m.func(t_v_v, seq({i32_const(0), i32_const(5), call(log)})));
  // count(n): i = 0; loop { i += 1; br_if (i != n) } ; return i   (n >= 1)
  m.export_func("count", m.func(t_i_i,
                                seq({loop_void, local_get(1), i32_const(1), i32_add, local_set(1), local_get(1),
                                     local_get(0), i32_sub, br_if(0), end, local_get(1)}),
                                {{1, kI32}}));
  // depth(n): n == 0 ? 0 : depth(n - 1) + 1
  uint32_t depth = 11;
  uint32_t depth_index = m.func(t_i_i, seq({local_get(0), i32_eqz, Bytes{0x04, kI32}, i32_const(0), Bytes{0x05},
                                             local_get(0), i32_const(1), i32_sub, call(depth), i32_const(1),
                                             i32_add, end}));
  m.export_func("depth", depth_index);
  m.export_func("table_grow", m.func(t_i_i, seq({ref_null_func, local_get(0), table_grow})));
  return m.build();
}

}  // namespace skiff::test_wasm

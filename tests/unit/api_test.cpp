// Public API tests (include/skiff/skiff.hh) on small hand-assembled modules:
// memories and their guard pages through real wasm code, host functions and
// re-entry, linker errors and instantiation order.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "api_builder.h"
#include "runtime/objects.h"  // to look inside handles
#include "skiff/skiff.hh"

namespace skiff {
namespace {

using test_wasm::Bytes;
using test_wasm::op::i32_const;
using test_wasm::sleb;
using test_wasm::uleb;

void name(Bytes& out, const std::string& s) {
  uleb(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

void limits(Bytes& out, uint32_t min, std::optional<uint32_t> max) {
  out.push_back(max ? 1 : 0);
  uleb(out, min);
  if (max) uleb(out, *max);
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Builds a binary section by section (vectors counted as they are added).
class ModuleBuilder {
 public:
  uint32_t type(std::vector<ValType> params, std::vector<ValType> results) {
    types_.push_back(0x60);
    uleb(types_, params.size());
    for (ValType t : params) types_.push_back(static_cast<uint8_t>(t));
    uleb(types_, results.size());
    for (ValType t : results) types_.push_back(static_cast<uint8_t>(t));
    return num_types_++;
  }
  uint32_t import_func(const std::string& module, const std::string& field, uint32_t type_index) {
    import_header(module, field, 0x00);
    uleb(imports_, type_index);
    return num_funcs_++;
  }
  void import_memory(const std::string& module, const std::string& field, uint32_t min, std::optional<uint32_t> max) {
    import_header(module, field, 0x02);
    limits(imports_, min, max);
  }
  void import_table(const std::string& module, const std::string& field, uint32_t min, std::optional<uint32_t> max) {
    import_header(module, field, 0x01);
    imports_.push_back(0x70);
    limits(imports_, min, max);
  }
  // `body` is the instruction bytes without the final `end`.
  uint32_t func(uint32_t type_index, const Bytes& body) {
    uleb(funcs_, type_index);
    ++num_defined_;
    Bytes entry{0x00};  // no locals
    entry.insert(entry.end(), body.begin(), body.end());
    entry.push_back(0x0b);
    uleb(code_, entry.size());
    code_.insert(code_.end(), entry.begin(), entry.end());
    return num_funcs_++;
  }
  void memory(uint32_t min, std::optional<uint32_t> max) {
    limits(memories_, min, max);
    ++num_memories_;
  }
  void table(uint32_t min, std::optional<uint32_t> max) {
    tables_.push_back(0x70);
    limits(tables_, min, max);
    ++num_tables_;
  }
  void global_i32(bool is_mutable, int32_t init) {
    globals_.push_back(0x7f);
    globals_.push_back(is_mutable ? 1 : 0);
    Bytes c = i32_const(init);
    globals_.insert(globals_.end(), c.begin(), c.end());
    globals_.push_back(0x0b);
    ++num_globals_;
  }
  void export_(const std::string& field, ExternKind kind, uint32_t index) {
    name(exports_, field);
    exports_.push_back(static_cast<uint8_t>(kind));
    uleb(exports_, index);
    ++num_exports_;
  }
  void start(uint32_t func_index) { start_ = func_index; }
  void data(int32_t offset, const std::string& bytes) {
    datas_.push_back(0x00);
    Bytes c = i32_const(offset);
    datas_.insert(datas_.end(), c.begin(), c.end());
    datas_.push_back(0x0b);
    name(datas_, bytes);
    ++num_datas_;
  }
  void elem(int32_t offset, std::vector<uint32_t> funcs) {
    elems_.push_back(0x00);
    Bytes c = i32_const(offset);
    elems_.insert(elems_.end(), c.begin(), c.end());
    elems_.push_back(0x0b);
    uleb(elems_, funcs.size());
    for (uint32_t f : funcs) uleb(elems_, f);
    ++num_elems_;
  }

  Bytes build() const {
    Bytes out{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    section(out, 1, num_types_, types_);
    section(out, 2, num_imports_, imports_);
    section(out, 3, num_defined_, funcs_);
    section(out, 4, num_tables_, tables_);
    section(out, 5, num_memories_, memories_);
    section(out, 6, num_globals_, globals_);
    section(out, 7, num_exports_, exports_);
    if (start_) {
      Bytes s;
      uleb(s, *start_);
      raw_section(out, 8, s);
    }
    section(out, 9, num_elems_, elems_);
    section(out, 10, num_defined_, code_);
    section(out, 11, num_datas_, datas_);
    return out;
  }

 private:
  void import_header(const std::string& module, const std::string& field, uint8_t kind) {
    name(imports_, module);
    name(imports_, field);
    imports_.push_back(kind);
    ++num_imports_;
  }
  static void raw_section(Bytes& out, uint8_t id, const Bytes& payload) {
    out.push_back(id);
    uleb(out, payload.size());
    out.insert(out.end(), payload.begin(), payload.end());
  }
  static void section(Bytes& out, uint8_t id, uint32_t count, const Bytes& items) {
    if (count == 0) return;
    Bytes payload;
    uleb(payload, count);
    payload.insert(payload.end(), items.begin(), items.end());
    raw_section(out, id, payload);
  }

  Bytes types_, imports_, funcs_, tables_, memories_, globals_, exports_, elems_, code_, datas_;
  uint32_t num_types_ = 0, num_imports_ = 0, num_funcs_ = 0, num_defined_ = 0, num_tables_ = 0, num_memories_ = 0,
           num_globals_ = 0, num_exports_ = 0, num_elems_ = 0, num_datas_ = 0;
  std::optional<uint32_t> start_;
};

// Instruction snippets.
Bytes local_get(uint32_t i) {
  Bytes b{0x20};
  uleb(b, i);
  return b;
}
Bytes call(uint32_t f) {
  Bytes b{0x10};
  uleb(b, f);
  return b;
}
Bytes i32_load(uint32_t offset) {
  Bytes b{0x28, 0x02};
  uleb(b, offset);
  return b;
}
Bytes i32_store(uint32_t offset) {
  Bytes b{0x36, 0x02};
  uleb(b, offset);
  return b;
}
const Bytes kMemoryGrow{0x40, 0x00};
const Bytes kI32Add{0x6a};
const Bytes kUnreachable{0x00};

Module compile(const Engine& engine, const ModuleBuilder& builder) {
  auto m = Module::compile(engine, builder.build());
  EXPECT_TRUE(m.ok()) << m.error().to_string();
  return m.ok() ? std::move(m.value()) : Module{};
}

// (memory 1 2) with load/store/grow exports.
ModuleBuilder memory_module() {
  ModuleBuilder b;
  uint32_t load_t = b.type({ValType::I32}, {ValType::I32});
  uint32_t store_t = b.type({ValType::I32, ValType::I32}, {});
  b.memory(1, 2);
  b.export_("load", ExternKind::Func, b.func(load_t, cat({local_get(0), i32_load(0)})));
  b.export_("load_far", ExternKind::Func, b.func(load_t, cat({local_get(0), i32_load(0xfffffff0)})));
  b.export_("store", ExternKind::Func, b.func(store_t, cat({local_get(0), local_get(1), i32_store(0)})));
  b.export_("grow", ExternKind::Func, b.func(load_t, cat({local_get(0), kMemoryGrow})));
  b.export_("mem", ExternKind::Memory, 0);
  return b;
}

TEST(ApiMemory, OutOfBoundsAccessTrapsAndProcessSurvives) {
  Engine engine;
  Store store(engine);
  Linker linker(engine);
  Module module = compile(engine, memory_module());
  auto inst = linker.instantiate(store, module);
  ASSERT_TRUE(inst.ok()) << inst.error().to_string();
  Func load = *inst->func("load"), store_fn = *inst->func("store"), grow = *inst->func("grow");
  Func load_far = *inst->func("load_far");

  ASSERT_TRUE(store_fn.call({Val::make_i32(65532), Val::make_i32(1234)}).ok());
  auto r = load.call({Val::make_i32(65532)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()[0].of.i32, 1234);

  for (int32_t addr : {65533, 65536, -1, -4}) {
    auto t = load.call({Val::make_i32(addr)});
    ASSERT_FALSE(t.ok()) << addr;
    EXPECT_EQ(t.error().kind, TrapKind::MemoryOutOfBounds);
    EXPECT_EQ(std::string(t.error().what()), "out of bounds memory access");
  }
  // Address + offset beyond 4 GiB lands in the guard half.
  auto far = load_far.call({Val::make_i32(-1)});
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.error().kind, TrapKind::MemoryOutOfBounds);

  // The store is usable after a trap, and growing makes the access valid.
  auto g = grow.call({Val::make_i32(1)});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g.value()[0].of.i32, 1);
  auto after = load.call({Val::make_i32(65536)});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after.value()[0].of.i32, 0);
  EXPECT_EQ(grow.call({Val::make_i32(1)}).value()[0].of.i32, -1);  // max 2

  Memory mem = *inst->memory("mem");
  EXPECT_EQ(mem.pages(), 2u);
  EXPECT_EQ(mem.size_bytes(), 2 * kPageSize);
  EXPECT_EQ(mem.data()[65532], 1234 & 0xff);
}

TEST(ApiMemory, ThousandInstancesCreatedAndDropped) {
  Engine engine;
  Linker linker(engine);
  Module module = compile(engine, memory_module());
  for (int i = 0; i < 1000; ++i) {
    Store store(engine);
    auto inst = linker.instantiate(store, module);
    ASSERT_TRUE(inst.ok()) << i;
    ASSERT_FALSE(inst->func("load")->call({Val::make_i32(70000)}).ok());
  }
}

TEST(ApiMemory, HostCreatedMemory) {
  Engine engine;
  Store store(engine);
  auto mem = Memory::create(store, MemoryType{Limits{1, 3}});
  ASSERT_TRUE(mem.ok());
  EXPECT_EQ(mem->grow(2), 1);
  EXPECT_EQ(mem->grow(1), -1);
  EXPECT_EQ(mem->type().limits.min, 3u);
  EXPECT_FALSE(Memory::create(store, MemoryType{Limits{2, 1}}).ok());
  EXPECT_FALSE(Memory::create(store, MemoryType{Limits{70000, std::nullopt}}).ok());
}

TEST(ApiFunc, HostFunctionsAndArgumentChecks) {
  Engine engine;
  Store store(engine);
  Linker linker(engine);
  FuncType binop{{ValType::I32, ValType::I32}, {ValType::I32}};
  int host_calls = 0;
  linker.func("env", "add", binop, [&](Caller& caller, const Val* args, Val* results) -> std::optional<Trap> {
    ++host_calls;
    EXPECT_NE(caller.raw_instance(), nullptr);
    results[0] = Val::make_i32(args[0].of.i32 + args[1].of.i32);
    return std::nullopt;
  });
  ModuleBuilder b;
  uint32_t t = b.type({ValType::I32, ValType::I32}, {ValType::I32});
  uint32_t add = b.import_func("env", "add", t);
  b.export_("twice", ExternKind::Func, b.func(t, cat({local_get(0), local_get(1), call(add), local_get(1), kI32Add})));
  Module module = compile(engine, b);
  auto inst = linker.instantiate(store, module);
  ASSERT_TRUE(inst.ok()) << inst.error().to_string();
  Func twice = *inst->func("twice");
  auto r = twice.call({Val::make_i32(40), Val::make_i32(1)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()[0].of.i32, 42);
  EXPECT_EQ(host_calls, 1);
  EXPECT_EQ(twice.type(), binop);

  auto wrong_type = twice.call({Val::make_i32(1), Val::make_i64(2)});
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.error().message.find("argument type mismatch"), std::string::npos);
  EXPECT_FALSE(twice.call({Val::make_i32(1)}).ok());
  EXPECT_EQ(host_calls, 1);

  // A second instance in the same store reuses the store's host function.
  auto inst2 = linker.instantiate(store, module);
  ASSERT_TRUE(inst2.ok());
  EXPECT_EQ(inst->raw()->funcs[0], inst2->raw()->funcs[0]);

  // Exported import: the host function called directly through the API.
  Func direct = Func::create(store, binop, [](Caller&, const Val* args, Val* results) -> std::optional<Trap> {
    if (args[1].of.i32 == 0) return Trap(TrapKind::Host, "divide by zero in host");
    results[0] = Val::make_i32(args[0].of.i32 / args[1].of.i32);
    return std::nullopt;
  });
  EXPECT_EQ(direct.call({Val::make_i32(9), Val::make_i32(3)}).value()[0].of.i32, 3);
  auto host_trap = direct.call({Val::make_i32(9), Val::make_i32(0)});
  ASSERT_FALSE(host_trap.ok());
  EXPECT_EQ(host_trap.error().message, "divide by zero in host");
}

// wasm → host → wasm without end: the call-depth limit stops it.
TEST(ApiFunc, ReentrantRecursionIsBounded) {
  Engine engine;
  Store store(engine);
  Linker linker(engine);
  FuncType unary{{ValType::I32}, {ValType::I32}};
  std::optional<Func> callback_target;
  int depth = 0;
  linker.func("env", "reenter", unary, [&](Caller&, const Val* args, Val* results) -> std::optional<Trap> {
    ++depth;
    auto r = callback_target->call({args[0]});
    if (!r.ok()) return r.error();
    results[0] = r.value()[0];
    return std::nullopt;
  });
  ModuleBuilder b;
  uint32_t t = b.type({ValType::I32}, {ValType::I32});
  uint32_t reenter = b.import_func("env", "reenter", t);
  b.export_("f", ExternKind::Func, b.func(t, cat({local_get(0), call(reenter)})));
  Module module = compile(engine, b);
  auto inst = linker.instantiate(store, module);
  ASSERT_TRUE(inst.ok());
  callback_target = inst->func("f");
  auto r = callback_target->call({Val::make_i32(1)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::StackExhausted);
  EXPECT_GT(depth, 10);
  // The store still works.
  depth = 0;
  EXPECT_EQ(store.raw()->frame_depth, 0u);
}

TEST(ApiLinker, UnknownAndIncompatibleImports) {
  Engine engine;
  Store store(engine);
  Linker linker(engine);
  ModuleBuilder b;
  uint32_t t = b.type({ValType::I32}, {});
  b.import_func("env", "f", t);
  b.import_memory("env", "mem", 1, 2);
  Module module = compile(engine, b);

  auto missing = linker.instantiate(store, module);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::UnknownImport);
  EXPECT_EQ(missing.error().phase(), Phase::Link);

  linker.func("env", "f", FuncType{{ValType::I64}, {}}, [](Caller&, const Val*, Val*) { return std::optional<Trap>(); });
  auto wrong_func = linker.instantiate(store, module);
  ASSERT_FALSE(wrong_func.ok());
  EXPECT_EQ(wrong_func.error().code, ErrorCode::IncompatibleImportType);

  linker.func("env", "f", FuncType{{ValType::I32}, {}}, [](Caller&, const Val*, Val*) { return std::optional<Trap>(); });
  auto no_mem = linker.instantiate(store, module);
  ASSERT_FALSE(no_mem.ok());
  EXPECT_EQ(no_mem.error().code, ErrorCode::UnknownImport);

  linker.define("env", "mem", Extern::of(Memory::create(store, MemoryType{Limits{1, std::nullopt}}).value()));
  auto unbounded = linker.instantiate(store, module);  // import needs max <= 2
  ASSERT_FALSE(unbounded.ok());
  EXPECT_EQ(unbounded.error().code, ErrorCode::IncompatibleImportType);

  linker.define("env", "mem", Extern::of(Global::create(store, GlobalType{ValType::I32, false}, Val::make_i32(0))));
  auto wrong_kind = linker.instantiate(store, module);
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_EQ(wrong_kind.error().code, ErrorCode::IncompatibleImportType);

  linker.define("env", "mem", Extern::of(Memory::create(store, MemoryType{Limits{2, 2}}).value()));
  auto ok = linker.instantiate(store, module);
  EXPECT_TRUE(ok.ok()) << ok.error().to_string();
}

// Element segments, then data segments, then the start function; a failure
// leaves earlier writes to imported entities in place.
TEST(ApiInstantiate, SegmentOrderAndPartialEffects) {
  Engine engine;
  Store store(engine);
  Linker linker(engine);
  Memory mem = Memory::create(store, MemoryType{Limits{1, std::nullopt}}).value();
  Table table = Table::create(store, TableType{ValType::FuncRef, Limits{4, std::nullopt}}, Val::null_of(ValType::FuncRef)).value();
  linker.define("env", "mem", Extern::of(mem));
  linker.define("env", "table", Extern::of(table));

  auto base_module = [] {
    ModuleBuilder b;
    b.import_table("env", "table", 4, std::nullopt);
    b.import_memory("env", "mem", 1, std::nullopt);
    return b;
  };

  {  // A second data segment out of bounds: the first one's bytes stay.
    ModuleBuilder b = base_module();
    uint32_t t = b.type({}, {});
    uint32_t f = b.func(t, {});
    b.elem(0, {f});
    b.data(100, "abc");
    b.data(65535, "xy");
    auto r = linker.instantiate(store, compile(engine, b));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::OutOfBoundsMemoryAccessInit);
    EXPECT_EQ(r.error().phase(), Phase::Instantiate);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(mem.data()) + 100, 3), "abc");
    EXPECT_EQ(mem.data()[65535], 0);
    ASSERT_FALSE(table.get(0)->is_null());
    // The failed instance's function stays callable through the table.
    Func from_table(store.raw(), reinterpret_cast<rt::FuncInst*>(table.get(0)->of.ref));
    EXPECT_TRUE(from_table.call({}).ok());
  }
  {  // Elem out of bounds: no data segment runs.
    ModuleBuilder b = base_module();
    uint32_t t = b.type({}, {});
    uint32_t f = b.func(t, {});
    b.elem(1, {f});
    b.elem(4, {f});
    b.data(200, "zz");
    auto r = linker.instantiate(store, compile(engine, b));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::OutOfBoundsTableAccessInit);
    EXPECT_FALSE(table.get(1)->is_null());
    EXPECT_EQ(mem.data()[200], 0);
  }
  {  // The start function sees the data and its trap is an instantiation error.
    ModuleBuilder b = base_module();
    uint32_t t = b.type({}, {});
    // Copies the byte at 300 (written by the data segment) to 400, then traps.
    uint32_t start = b.func(t, cat({i32_const(400), i32_const(300), i32_load(0), i32_store(0), kUnreachable}));
    b.data(300, "\x2a");
    b.start(start);
    auto r = linker.instantiate(store, compile(engine, b));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::StartFunctionTrapped);
    EXPECT_EQ(r.error().phase(), Phase::Instantiate);
    EXPECT_EQ(r.error().detail, "unreachable");
    EXPECT_EQ(mem.data()[400], 0x2a);
  }
}

TEST(ApiInstantiate, ExportsAndDefineInstance) {
  Engine engine;
  Store store(engine);
  Linker linker(engine);
  ModuleBuilder provider;
  uint32_t t = provider.type({}, {ValType::I32});
  provider.export_("seven", ExternKind::Func, provider.func(t, i32_const(7)));
  provider.global_i32(true, 5);
  provider.export_("g", ExternKind::Global, 0);
  auto p = linker.instantiate(store, compile(engine, provider));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->exports().size(), 2u);
  EXPECT_FALSE(p->func("g").has_value());
  EXPECT_FALSE(p->get_export("nope").has_value());

  Global g = *p->global("g");
  EXPECT_EQ(g.get().of.i32, 5);
  EXPECT_TRUE(g.set(Val::make_i32(6)).ok());
  EXPECT_FALSE(g.set(Val::make_i64(6)).ok());
  EXPECT_EQ(g.get().of.i32, 6);
  Global constant = Global::create(store, GlobalType{ValType::F64, false}, Val::make_f64(1.5));
  EXPECT_FALSE(constant.set(Val::make_f64(2)).ok());
  EXPECT_EQ(constant.get().of.f64, 1.5);

  linker.define_instance("provider", *p);
  ModuleBuilder user;
  uint32_t ut = user.type({}, {ValType::I32});
  uint32_t seven = user.import_func("provider", "seven", ut);
  user.export_("call_seven", ExternKind::Func, user.func(ut, call(seven)));
  auto u = linker.instantiate(store, compile(engine, user));
  ASSERT_TRUE(u.ok()) << u.error().to_string();
  EXPECT_EQ(u->func("call_seven")->call({}).value()[0].of.i32, 7);
}

TEST(ApiTable, GetSetGrow) {
  Engine engine;
  Store store(engine);
  auto t = Table::create(store, TableType{ValType::ExternRef, Limits{2, 4}}, Val::make_externref(9));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->size(), 2u);
  EXPECT_EQ(t->get(1)->of.ref, 9u);
  EXPECT_FALSE(t->get(2).has_value());
  EXPECT_TRUE(t->set(0, Val::make_externref(3)));
  EXPECT_FALSE(t->set(0, Val::null_of(ValType::FuncRef)));  // wrong type
  EXPECT_FALSE(t->set(5, Val::make_externref(3)));
  EXPECT_EQ(t->grow(2, Val::null_of(ValType::ExternRef)), 2);
  EXPECT_EQ(t->grow(1, Val::null_of(ValType::ExternRef)), -1);
  EXPECT_TRUE(t->get(3)->is_null());
}

TEST(ApiModule, Inspection) {
  Engine engine;
  ModuleBuilder b;
  uint32_t t = b.type({ValType::I32}, {});
  b.import_func("env", "f", t);
  b.import_memory("env", "m", 1, 2);
  b.export_("g", ExternKind::Func, b.func(t, {}));
  Module m = compile(engine, b);
  auto imports = m.imports();
  ASSERT_EQ(imports.size(), 2u);
  EXPECT_EQ(imports[0].type, "func (i32) -> ()");
  EXPECT_EQ(imports[1].type, "memory 1..2");
  ASSERT_EQ(m.exports().size(), 1u);
  EXPECT_EQ(m.exports()[0].index, 1u);
  EXPECT_EQ(m.num_functions(), 2u);
  EXPECT_EQ(m.num_imported_functions(), 1u);
  EXPECT_EQ(m.export_func_type("g"), (FuncType{{ValType::I32}, {}}));
  EXPECT_FALSE(m.export_func_type("f").has_value());
  auto sections = m.sections();
  ASSERT_FALSE(sections.empty());
  EXPECT_EQ(sections[0].name, "type");

  EXPECT_FALSE(Module::compile(engine, {0x00, 0x61, 0x73}).ok());
  EXPECT_FALSE(Module::decode_only({0x01, 0x02}).ok());
  EXPECT_TRUE(Module::decode_only(b.build()).ok());
  auto missing = Module::from_file(engine, "/nonexistent/file.wasm");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::IoError);
}

TEST(ApiVal, ToString) {
  EXPECT_EQ(Val::make_i32(-5).to_string(), "-5");
  EXPECT_EQ(Val::make_i64(int64_t{1} << 40).to_string(), "1099511627776");
  EXPECT_EQ(Val::make_f32(0.1f).to_string(), "0.1");
  EXPECT_EQ(Val::make_f64(0.1).to_string(), "0.1");
  EXPECT_EQ(Val::make_f64(-0.0).to_string(), "-0");
  EXPECT_EQ(Val::make_f64(std::numeric_limits<double>::infinity()).to_string(), "inf");
  // Like Rust's Display (wasmtime run --invoke): no exponent form.
  EXPECT_EQ(Val::make_f64(1e21).to_string(), "1000000000000000000000");
  EXPECT_EQ(Val::make_f64(-1.5e-7).to_string(), "-0.00000015");
  EXPECT_EQ(Val::make_f32(std::numeric_limits<float>::quiet_NaN()).to_string(), "NaN");
  EXPECT_EQ(Val::null_of(ValType::FuncRef).to_string(), "<null funcref>");
  EXPECT_EQ(Val::make_externref(3).to_string(), "<externref>");
  V128 v{};
  int32_t lanes[4] = {1, -2, 3, 4};
  std::memcpy(v.bytes, lanes, 16);
  // One unsigned 128-bit integer: lanes 1, -2 (0xfffffffe), 3, 4 little-endian.
  EXPECT_EQ(Val::make_v128(v).to_string(), "316912650130844326660424073217");
}

TEST(ApiTrap, ToStringHasBacktrace) {
  Trap trap(TrapKind::IntDivideByZero);
  trap.backtrace.push_back({3, "div", ""});
  trap.backtrace.push_back({0, "", "m"});
  EXPECT_EQ(trap.to_string(), "integer divide by zero\n  at div (func 3)\n  at m::<unnamed> (func 0)");
  EXPECT_STREQ(trap_message(TrapKind::StackExhausted), "call stack exhausted");
}

}  // namespace
}  // namespace skiff

// Runtime tests that need no tier: memories and their guard pages, the fault
// handler (with stand-in executors), tables, the type registry and
// instantiation order on hand-built module IR.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>

#include <thread>

#include "runtime/call.h"
#include "runtime/runtime.h"

namespace skiff::rt {
namespace {

wasm::Import import_of(const char* module, const char* name, ExternKind kind) {
  wasm::Import import;
  import.module = module;
  import.name = name;
  import.kind = kind;
  return import;
}

wasm::MemoryType memory_type(uint64_t min, std::optional<uint64_t> max = std::nullopt) {
  wasm::MemoryType t;
  t.limits.min = min;
  t.limits.max = max;
  return t;
}

// ---- memories -----------------------------------------------------------------

TEST(Memory, GrowHonoursMaxAndKeepsBase) {
  Store store;
  auto m = new_memory(store, memory_type(1, 3));
  ASSERT_TRUE(m.ok());
  MemoryInst* mem = *m;
  uint8_t* base = mem->base;
  EXPECT_EQ(mem->pages(), 1u);
  EXPECT_EQ(mem->size, kPageSize);
  EXPECT_EQ(mem->grow(1), 1);
  EXPECT_EQ(mem->grow(0), 2);
  EXPECT_EQ(mem->grow(2), -1);  // would be 4 > max 3
  EXPECT_EQ(mem->grow(1), 2);
  EXPECT_EQ(mem->pages(), 3u);
  EXPECT_EQ(mem->type.limits.min, 3u);
  EXPECT_EQ(mem->base, base);
  // New pages are zeroed and writable.
  EXPECT_EQ(base[3 * kPageSize - 1], 0);
  base[3 * kPageSize - 1] = 7;
  EXPECT_EQ(base[3 * kPageSize - 1], 7);
}

TEST(Memory, GrowWithoutMaxStopsAt4GiB) {
  Store store;
  auto m = new_memory(store, memory_type(0));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->grow(kMaxPages + 1), -1);
  EXPECT_EQ((*m)->grow(uint64_t{1} << 62), -1);
  EXPECT_EQ((*m)->grow(1), 0);
  EXPECT_EQ((*m)->pages(), 1u);
}

TEST(Memory, ThousandMemoriesCreatedAndDropped) {
  for (int i = 0; i < 1000; ++i) {
    Store store(1 << 16, 16);
    auto m = new_memory(store, memory_type(1));
    ASSERT_TRUE(m.ok()) << "iteration " << i;
    (*m)->base[0] = 1;
  }
  // Also many alive at once in one store (8 GiB of address space each).
  Store store;
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(new_memory(store, memory_type(0)).ok());
}

// ---- fault handler ------------------------------------------------------------

// The stand-in executors below play the tier's part: they touch memory at an
// address taken from slots[0].
thread_local MemoryInst* g_memory = nullptr;

TrapKind read_at_slot(Store&, FuncInst*, Slot* slots, Trap*) {
  volatile uint8_t* p = g_memory->base + slots[0];
  slots[0] = *p;
  return TrapKind::None;
}

FuncInst* fake_wasm_func(Store& store) {
  auto f = std::make_unique<FuncInst>();
  f->kind = FuncInst::Kind::Wasm;
  FuncInst* raw = f.get();
  store.funcs.push_back(std::move(f));
  return raw;
}

TEST(FaultHandler, GuardPageAccessBecomesTrap) {
  Store store;
  auto m = new_memory(store, memory_type(1));
  ASSERT_TRUE(m.ok());
  g_memory = *m;
  g_memory->base[100] = 42;
  FuncInst* f = fake_wasm_func(store);

  Slot* slots = store.stack_top;
  slots[0] = 100;
  Trap trap;
  EXPECT_EQ(call_guarded(store, f, slots, &trap, read_at_slot), TrapKind::None);
  EXPECT_EQ(slots[0], 42u);

  for (uint64_t addr : {kPageSize, uint64_t{0xffffffff}, (uint64_t{1} << 33) - 2}) {
    slots[0] = addr;
    store.frame_depth = 0;
    EXPECT_EQ(call_guarded(store, f, slots, &trap, read_at_slot), TrapKind::MemoryOutOfBounds) << addr;
    EXPECT_STREQ(trap.what(), "out of bounds memory access");
    EXPECT_EQ(store.stack_top, slots);
  }
  // After growing, the same address is fine.
  ASSERT_EQ(g_memory->grow(1), 1);
  slots[0] = kPageSize;
  EXPECT_EQ(call_guarded(store, f, slots, &trap, read_at_slot), TrapKind::None);
  EXPECT_EQ(slots[0], 0u);
}

TEST(FaultHandler, RestoresFrameDepthAndBuildsBacktrace) {
  Store store;
  auto m = new_memory(store, memory_type(0));
  ASSERT_TRUE(m.ok());
  g_memory = *m;
  FuncInst* f = fake_wasm_func(store);
  f->func_index = 5;
  // An executor that pushes two frames before faulting.
  auto executor = [](Store& s, FuncInst* func, Slot* slots, Trap*) -> TrapKind {
    s.frames[s.frame_depth++].func = func;
    s.frames[s.frame_depth++].func = func;
    s.stack_top = slots + 100;
    volatile uint8_t* p = g_memory->base + 12345;
    slots[0] = *p;
    return TrapKind::None;
  };
  Trap trap;
  EXPECT_EQ(call_guarded(store, f, store.stack_top, &trap, executor), TrapKind::MemoryOutOfBounds);
  EXPECT_EQ(store.frame_depth, 0u);
  EXPECT_EQ(store.stack_top, store.value_stack);
  ASSERT_EQ(trap.backtrace.size(), 2u);
  EXPECT_EQ(trap.backtrace[0].func_index, 5u);
}

// wasm → host → wasm: the inner fault traps the inner call only.
TEST(FaultHandler, NestedActivationsChain) {
  Store store;
  auto m = new_memory(store, memory_type(1));
  ASSERT_TRUE(m.ok());
  g_memory = *m;
  FuncInst* inner = fake_wasm_func(store);
  FuncInst* outer = fake_wasm_func(store);
  static TrapKind inner_result;
  auto outer_exec = [](Store& s, FuncInst*, Slot* slots, Trap*) -> TrapKind {
    FuncInst* inner_func = reinterpret_cast<FuncInst*>(slots[1]);
    Slot* inner_slots = slots + 4;
    inner_slots[0] = uint64_t{1} << 32;  // out of bounds
    Trap inner_trap;
    {
      HostCallScope host;  // as the interpreter's host call would
      inner_result = call_guarded(s, inner_func, inner_slots, &inner_trap, read_at_slot);
    }
    // Still inside the outer activation: a fault here traps the outer call.
    volatile uint8_t* p = g_memory->base + (uint64_t{1} << 32);
    slots[0] = *p;
    return TrapKind::None;
  };
  Slot* slots = store.stack_top;
  slots[1] = reinterpret_cast<Slot>(inner);
  Trap trap;
  EXPECT_EQ(call_guarded(store, outer, slots, &trap, outer_exec), TrapKind::MemoryOutOfBounds);
  EXPECT_EQ(inner_result, TrapKind::MemoryOutOfBounds);
  EXPECT_EQ(current_activation(), nullptr);
}

TEST(FaultHandler, WorksOnOtherThreads) {
  Store store;
  auto m = new_memory(store, memory_type(1));
  ASSERT_TRUE(m.ok());
  MemoryInst* mem = *m;
  FuncInst* f = fake_wasm_func(store);
  TrapKind result = TrapKind::None;
  std::thread worker([&] {
    g_memory = mem;
    Slot* slots = store.stack_top;
    slots[0] = 3 * kPageSize;
    Trap trap;
    result = call_guarded(store, f, slots, &trap, read_at_slot);
  });
  worker.join();
  EXPECT_EQ(result, TrapKind::MemoryOutOfBounds);
}

// Faults that are not wasm accesses must still kill the process: by SIGSEGV,
// or through a sanitizer's own handler (which we chain to) exiting non-zero.
bool DiedOfFault(int status) {
  return (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

TEST(FaultHandlerDeathTest, RealCrashesAreNotSwallowed) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reports the deliberate crash itself";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // Outside any activation, inside a memory's reservation.
  EXPECT_EXIT(
      {
        Store store;
        auto m = new_memory(store, memory_type(1));
        ensure_fault_handling();
        volatile uint8_t* p = (*m)->base + 5 * kPageSize;
        *p = 1;
      },
      DiedOfFault, "");
  // Inside an activation, outside every memory.
  EXPECT_EXIT(
      {
        Store store;
        FuncInst* f = fake_wasm_func(store);
        Trap trap;
        auto executor = [](Store&, FuncInst*, Slot*, Trap*) -> TrapKind {
          void* p = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          *static_cast<volatile uint8_t*>(p) = 1;
          return TrapKind::None;
        };
        call_guarded(store, f, store.stack_top, &trap, executor);
      },
      DiedOfFault, "");
  // A host function's fault inside a memory's reservation.
  EXPECT_EXIT(
      {
        Store store;
        auto m = new_memory(store, memory_type(1));
        g_memory = *m;
        FuncInst* f = fake_wasm_func(store);
        Trap trap;
        auto executor = [](Store&, FuncInst*, Slot*, Trap*) -> TrapKind {
          HostCallScope host;
          volatile uint8_t* p = g_memory->base + 5 * kPageSize;
          *p = 1;
          return TrapKind::None;
        };
        call_guarded(store, f, store.stack_top, &trap, executor);
      },
      DiedOfFault, "");
}

TEST(CallGuarded, DepthLimitAndHostFunctions) {
  Store store(1 << 20, 8);
  FuncInst* f = fake_wasm_func(store);
  Trap trap;
  store.frame_depth = 8;
  EXPECT_EQ(call_guarded(store, f, store.stack_top, &trap, read_at_slot), TrapKind::StackExhausted);
  store.frame_depth = 0;

  wasm::FuncType type{{ValType::I32}, {ValType::I32}};
  FuncInst* host = new_host_func(store, type, [](Caller& caller, Slot* slots) -> std::optional<Trap> {
    if (slots[0] == 0) return Trap(TrapKind::Host, "zero");
    slots[0] = slots[0] * 2;
    return std::nullopt;
  });
  Slot* slots = store.stack_top;
  slots[0] = 21;
  EXPECT_EQ(call_guarded(store, host, slots, &trap, read_at_slot), TrapKind::None);
  EXPECT_EQ(slots[0], 42u);
  slots[0] = 0;
  EXPECT_EQ(call_guarded(store, host, slots, &trap, read_at_slot), TrapKind::Host);
  EXPECT_EQ(trap.message, "zero");
}

// A host→wasm→host→... chain that never touches store.frames is still
// bounded by the native stack check.
TEST(CallGuarded, DeepNativeRecursionTraps) {
  Store store;
  FuncInst* f = fake_wasm_func(store);
  static TrapKind deepest;
  struct Recurse {
    static TrapKind run(Store& s, FuncInst* func, Slot* slots, Trap* trap) {
      Trap inner;
      TrapKind k = call_guarded(s, func, slots + 1, &inner, run);
      if (k != TrapKind::None) {
        deepest = k;
        *trap = inner;
        return k;
      }
      return TrapKind::None;
    }
  };
  Trap trap;
  EXPECT_EQ(call_guarded(store, f, store.stack_top, &trap, Recurse::run), TrapKind::StackExhausted);
  EXPECT_EQ(deepest, TrapKind::StackExhausted);
}

// ---- tables ---------------------------------------------------------------------

TEST(Table, GrowLimits) {
  Store store;
  wasm::TableType type;
  type.elem = ValType::FuncRef;
  type.limits.min = 2;
  type.limits.max = 5;
  auto t = new_table(store, type, 0);
  ASSERT_TRUE(t.ok());
  TableInst* table = *t;
  EXPECT_EQ(table->elems.size(), 2u);
  EXPECT_EQ(table->grow(3, 9), 2);
  EXPECT_EQ(table->elems[4], 9u);
  EXPECT_EQ(table->grow(1, 0), -1);
  EXPECT_EQ(table->grow(0, 0), 5);

  wasm::TableType unbounded;
  unbounded.limits.min = 0;
  auto u = new_table(store, unbounded, 0);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ((*u)->grow(0xffffffff, 0), -1);  // absurd: refused, not thrown
  EXPECT_EQ((*u)->grow(uint64_t{1} << 40, 0), -1);
  EXPECT_EQ((*u)->grow(10, 0), 0);

  wasm::TableType huge;
  huge.limits.min = 0xffffffff;
  EXPECT_FALSE(new_table(store, huge, 0).ok());
}

// ---- type registry ----------------------------------------------------------------

TEST(TypeRegistry, StructuralIdentity) {
  wasm::FuncType a{{ValType::I32, ValType::I64}, {ValType::F32}};
  wasm::FuncType b{{ValType::I32, ValType::I64}, {ValType::F32}};
  wasm::FuncType c{{ValType::I32}, {ValType::I64, ValType::F32}};
  wasm::FuncType d{{}, {}};
  EXPECT_EQ(canonical_type_id(a), canonical_type_id(b));
  EXPECT_NE(canonical_type_id(a), canonical_type_id(c));
  EXPECT_NE(canonical_type_id(c), canonical_type_id(d));
  EXPECT_EQ(canonical_type(canonical_type_id(c)), c);
}

TEST(TypeRegistry, ThreadSafe) {
  std::vector<std::thread> threads;
  std::vector<std::vector<uint32_t>> ids(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&ids, t] {
      for (int n = 0; n < 200; ++n) {
        wasm::FuncType type;
        type.params.assign(static_cast<size_t>(n % 50), ValType::F64);
        type.results.assign(static_cast<size_t>(n / 50), ValType::I32);
        ids[t].push_back(canonical_type_id(type));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 1; t < 4; ++t) EXPECT_EQ(ids[t], ids[0]);
}

// ---- instantiation -------------------------------------------------------------

wasm::ConstExpr i32_const(int32_t v) {
  wasm::ConstExpr e;
  wasm::ConstInstr in;
  in.op = wasm::Opcode::I32Const;
  in.value = static_cast<uint64_t>(static_cast<int64_t>(v));
  e.instrs.push_back(in);
  return e;
}

// A module with memory 1 page, table 4 funcref, one () -> () function (the
// start function), an elem segment at `elem_offset` and data segments.
std::shared_ptr<wasm::Module> segment_module(int32_t elem_offset, std::vector<int32_t> data_offsets) {
  auto m = std::make_shared<wasm::Module>();
  m->types.push_back({});
  m->funcs.push_back(0);
  m->bodies.push_back({});
  wasm::TableType table;
  table.limits.min = 4;
  m->tables.push_back(table);
  m->memories.push_back(memory_type(1));
  wasm::ElemSegment elem;
  elem.offset = i32_const(elem_offset);
  elem.func_indices = {0, 0};
  m->elems.push_back(elem);
  m->bytes = {0xaa, 0xbb, 0xcc};
  for (int32_t off : data_offsets) {
    wasm::DataSegment data;
    data.offset = i32_const(off);
    data.data_offset = 0;
    data.data_size = 3;
    m->datas.push_back(data);
  }
  m->start = 0;
  return m;
}

struct StartProbe {
  static inline int calls = 0;
  static inline uint8_t first_byte = 0;
  static inline Ref table_entry = 0;
  static TrapKind run(Store& store, FuncInst* f, Slot*, Trap* trap) {
    ++calls;
    first_byte = f->instance->memories[0]->base[0];
    table_entry = f->instance->tables[0]->elems[1];
    return TrapKind::None;
  }
};

TEST(Instantiate, ElemThenDataThenStart) {
  Store store;
  auto compiled = make_compiled_module(segment_module(1, {0}));
  StartProbe::calls = 0;
  auto inst = instantiate(store, compiled, {}, StartProbe::run);
  ASSERT_TRUE(inst.ok()) << inst.error().to_string();
  EXPECT_EQ(StartProbe::calls, 1);
  EXPECT_EQ(StartProbe::first_byte, 0xaa);  // data written before start
  EXPECT_EQ(StartProbe::table_entry, reinterpret_cast<Ref>((*inst)->funcs[0]));
  EXPECT_EQ((*inst)->tables[0]->elems[0], 0u);
  EXPECT_TRUE((*inst)->elem_segments[0].empty());  // active segments are dropped
  EXPECT_TRUE((*inst)->data_dropped[0]);
  EXPECT_EQ((*inst)->funcs[0]->compiled, &compiled->funcs[0]);
  EXPECT_EQ((*inst)->funcs[0]->type_id, compiled->type_ids[0]);
}

TEST(Instantiate, OutOfBoundsSegmentsKeepEarlierWrites) {
  Store store;
  // Memory and table imported, so the partial writes stay observable.
  auto mem = new_memory(store, memory_type(1));
  wasm::TableType table_type;
  table_type.limits.min = 4;
  auto table = new_table(store, table_type, 0);
  ASSERT_TRUE(mem.ok() && table.ok());

  auto import_both = [](std::shared_ptr<wasm::Module> m) {
    wasm::Import t = import_of("env", "table", ExternKind::Table);
    t.table = m->tables[0];
    wasm::Import mi = import_of("env", "memory", ExternKind::Memory);
    mi.memory = m->memories[0];
    m->imports = {t, mi};
    m->num_imported_tables = 1;
    m->num_imported_memories = 1;
    return m;
  };
  ExternVal imports[2];
  imports[0].kind = ExternKind::Table;
  imports[0].table = *table;
  imports[1].kind = ExternKind::Memory;
  imports[1].memory = *mem;

  // Data: the first segment fits, the second does not: start never runs.
  StartProbe::calls = 0;
  auto data_oob = make_compiled_module(import_both(segment_module(0, {10, 65534})));
  auto r1 = instantiate(store, data_oob, imports, StartProbe::run);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, ErrorCode::OutOfBoundsMemoryAccessInit);
  EXPECT_EQ(r1.error().phase(), Phase::Instantiate);
  EXPECT_EQ((*mem)->base[10], 0xaa);
  EXPECT_EQ((*mem)->base[65534], 0);  // the failing segment wrote nothing
  EXPECT_NE((*table)->elems[0], 0u);  // elem segments ran before data
  EXPECT_EQ(StartProbe::calls, 0);

  // Elem out of bounds: no data is written at all.
  std::memset((*mem)->base, 0, 16);
  auto elem_oob = make_compiled_module(import_both(segment_module(3, {0})));
  auto r2 = instantiate(store, elem_oob, imports, StartProbe::run);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, ErrorCode::OutOfBoundsTableAccessInit);
  EXPECT_EQ((*mem)->base[0], 0);
}

TEST(Instantiate, StartTrapIsInstantiateError) {
  Store store;
  auto compiled = make_compiled_module(segment_module(0, {}));
  auto trapping = [](Store&, FuncInst*, Slot*, Trap* trap) -> TrapKind {
    *trap = Trap(TrapKind::Unreachable);
    return TrapKind::Unreachable;
  };
  auto r = instantiate(store, compiled, {}, trapping);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::StartFunctionTrapped);
  EXPECT_EQ(r.error().phase(), Phase::Instantiate);
  EXPECT_EQ(r.error().detail, "unreachable");
}

TEST(Instantiate, ImportChecks) {
  Store store;
  auto m = std::make_shared<wasm::Module>();
  m->types.push_back({{ValType::I32}, {}});
  wasm::Import f = import_of("env", "f", ExternKind::Func);
  f.func_type = 0;
  wasm::Import mem = import_of("env", "mem", ExternKind::Memory);
  mem.memory = memory_type(1, 2);
  wasm::Import g = import_of("env", "g", ExternKind::Global);
  g.global = {ValType::I64, true};
  m->imports = {f, mem, g};
  auto compiled = make_compiled_module(m);

  ExternVal func_val;
  func_val.func = new_host_func(store, {{ValType::I32}, {}}, [](Caller&, Slot*) { return std::optional<Trap>(); });
  EXPECT_TRUE(check_import(*compiled, 0, func_val).ok());
  func_val.func = new_host_func(store, {{ValType::I64}, {}}, [](Caller&, Slot*) { return std::optional<Trap>(); });
  EXPECT_EQ(check_import(*compiled, 0, func_val).error().code, ErrorCode::IncompatibleImportType);

  ExternVal mem_val;
  mem_val.kind = ExternKind::Memory;
  mem_val.memory = new_memory(store, memory_type(2, 2)).value();
  EXPECT_TRUE(check_import(*compiled, 1, mem_val).ok());
  mem_val.memory = new_memory(store, memory_type(1)).value();  // no max: does not fit max 2
  EXPECT_FALSE(check_import(*compiled, 1, mem_val).ok());
  mem_val.memory = new_memory(store, memory_type(0, 2)).value();  // min too small
  EXPECT_FALSE(check_import(*compiled, 1, mem_val).ok());
  EXPECT_FALSE(check_import(*compiled, 0, mem_val).ok());  // wrong kind

  ExternVal global_val;
  global_val.kind = ExternKind::Global;
  global_val.global = new_global(store, {ValType::I64, true}, 0);
  EXPECT_TRUE(check_import(*compiled, 2, global_val).ok());
  global_val.global = new_global(store, {ValType::I64, false}, 0);
  EXPECT_FALSE(check_import(*compiled, 2, global_val).ok());
}

}  // namespace
}  // namespace skiff::rt

// The tier-0 dispatch loop (interp/interp.cpp), driven two ways:
//  - LoopHarness: hand-assembled internal code (code.h) run by
//    interp::execute directly, so the loop is tested apart from the lowering;
//  - the public API on hand-assembled wasm binaries, end to end.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "interp/code.h"
#include "interp/interp.h"
#include "runtime/call.h"
#include "runtime/runtime.h"
#include "skiff/skiff.hh"

namespace skiff::interp {
namespace {

using rt::Slot;
using wasm::Opcode;

constexpr ValType I32 = ValType::I32;

// One instance whose defined functions run hand-written internal code.
class LoopHarness {
 public:
  explicit LoopHarness(uint32_t max_call_depth = 10000, uint64_t value_stack_bytes = 1 << 20)
      : store(value_stack_bytes, max_call_depth), module_(std::make_shared<wasm::Module>()) {}

  struct Layout {
    uint32_t local_slots;
    uint32_t frame_slots;
  };

  // Declares defined function N (in call order); code comes later.
  uint32_t declare(std::string name, FuncType type, Layout layout) {
    uint32_t type_index = static_cast<uint32_t>(module_->types.size());
    module_->types.push_back(type);
    module_->funcs.push_back(type_index);
    module_->bodies.push_back(wasm::FunctionBody{type_index, {}, 0, 0});
    module_->names.functions.push_back(std::move(name));
    layouts_.push_back(layout);
    return static_cast<uint32_t>(layouts_.size() - 1);
  }

  // Creates the instance; host functions get indices after the defined ones.
  void finish(std::vector<rt::FuncInst*> host_funcs = {}) {
    module_->names.module = "harness";
    compiled_ = rt::make_compiled_module(module_);
    auto owned = std::make_unique<rt::Instance>();
    instance = owned.get();
    store.instances.push_back(std::move(owned));
    instance->store = &store;
    instance->compiled = compiled_;
    instance->module = module_.get();
    for (uint32_t i = 0; i < layouts_.size(); ++i) {
      rt::CompiledFunc& cf = compiled_->funcs[i];
      const FuncType& type = module_->types[module_->funcs[i]];
      cf.param_slots = static_cast<uint32_t>(type.params.size());
      cf.result_slots = static_cast<uint32_t>(type.results.size());
      cf.local_slots = layouts_[i].local_slots;
      cf.frame_slots = layouts_[i].frame_slots;
      auto func = std::make_unique<rt::FuncInst>();
      func->kind = rt::FuncInst::Kind::Wasm;
      func->type_id = compiled_->type_ids[module_->funcs[i]];
      func->type = &type;
      func->instance = instance;
      func->func_index = i;
      func->compiled = &cf;
      instance->funcs.push_back(func.get());
      store.funcs.push_back(std::move(func));
    }
    for (rt::FuncInst* host : host_funcs) instance->funcs.push_back(host);
  }

  void set_code(uint32_t func_index, CodeBuilder& code) {
    rt::CompiledFunc& cf = compiled_->funcs[func_index];
    cf.storage = code.words();
    cf.code.store(cf.storage.data());
  }

  rt::FuncInst* func(uint32_t index) { return instance->funcs[index]; }

  // Runs a function with `args` in fresh slots at stack_top; returns the slots.
  Slot* call(uint32_t index, std::vector<Slot> args, TrapKind expected = TrapKind::None) {
    Slot* slots = store.stack_top;
    for (size_t i = 0; i < args.size(); ++i) slots[i] = args[i];
    last_kind = rt::call_guarded(store, func(index), slots, &last_trap, &execute);
    EXPECT_EQ(last_kind, expected) << last_trap.to_string();
    EXPECT_EQ(store.frame_depth, 0u);
    EXPECT_EQ(store.stack_top, slots);
    return slots;
  }

  rt::Store store;
  rt::Instance* instance = nullptr;
  rt::Trap last_trap;
  TrapKind last_kind = TrapKind::None;

 private:
  std::shared_ptr<wasm::Module> module_;
  std::shared_ptr<rt::CompiledModule> compiled_;
  std::vector<Layout> layouts_;
};

// Instruction helpers; slots are slot indices, converted to byte offsets.
void emit(CodeBuilder& b, Opcode op, std::initializer_list<uint32_t> slots, std::initializer_list<uint64_t> words = {}) {
  b.op(iop(op));
  for (uint32_t s : slots) b.slot(s);
  for (uint64_t w : words) b.word(w);
}
void emit(CodeBuilder& b, IOp op, std::initializer_list<uint32_t> slots, std::initializer_list<uint64_t> words = {}) {
  b.op(op);
  for (uint32_t s : slots) b.slot(s);
  for (uint64_t w : words) b.word(w);
}
void const64(CodeBuilder& b, uint32_t dst, uint64_t value) { emit(b, IOp::Const64_, {dst}, {value}); }
void ret(CodeBuilder& b) { b.op(IOp::Return_); }
// Patches a branch whose target word is at `word` and whose instruction starts at `insn`.
void patch(CodeBuilder& b, size_t insn, size_t word, size_t target) {
  b.at(word) = static_cast<uint64_t>(static_cast<int64_t>(target) - static_cast<int64_t>(insn));
}

TEST(InterpLoop, HandlerTableCoversEveryOp) {
  const void* const* table = handler_table();
  ASSERT_NE(table, nullptr);
  for (size_t i = 0; i < kIOpCount; ++i) EXPECT_NE(table[i], nullptr) << i;
  EXPECT_NE(table[static_cast<size_t>(IOp::I32Add)], table[static_cast<size_t>(IOp::I32Sub)]);
}

TEST(InterpLoop, PureOpWritesResultSlot) {
  LoopHarness h;
  h.declare("add", {{I32, I32}, {I32}}, {2, 2});
  h.finish();
  CodeBuilder b;
  emit(b, Opcode::I32Add, {0, 0, 1});
  ret(b);
  h.set_code(0, b);
  Slot* s = h.call(0, {0xffffffffu, 43});
  EXPECT_EQ(s[0], 42u);  // wrapped, and the upper half of the slot is clean
}

TEST(InterpLoop, CountingLoopWithBranches) {
  // sum(n) = n + (n-1) + ... + 1
  LoopHarness h;
  h.declare("sum", {{I32}, {I32}}, {2, 3});
  h.finish();
  CodeBuilder b;
  const64(b, 1, 0);
  const64(b, 2, 1);
  size_t loop = b.pos();
  size_t exit_branch = b.op(IOp::BrUnless_);
  b.slot(0);
  b.word(0);
  emit(b, Opcode::I32Add, {1, 1, 0});
  emit(b, Opcode::I32Sub, {0, 0, 2});
  size_t back = b.op(IOp::Br_);
  b.word(0);
  patch(b, back, back + 1, loop);
  patch(b, exit_branch, exit_branch + 2, b.pos());
  emit(b, IOp::Copy64_, {0, 1});
  ret(b);
  h.set_code(0, b);
  EXPECT_EQ(h.call(0, {100})[0], 5050u);
  EXPECT_EQ(h.call(0, {0})[0], 0u);
}

TEST(InterpLoop, BrTablePicksTargetOrDefault) {
  LoopHarness h;
  h.declare("pick", {{I32}, {I32}}, {1, 1});
  h.finish();
  CodeBuilder b;
  size_t table = b.op(IOp::BrTable_);
  b.slot(0);
  b.word(2);
  b.word(0);
  b.word(0);
  b.word(0);
  for (uint64_t i = 0; i < 3; ++i) {
    patch(b, table, table + 3 + i, b.pos());
    const64(b, 0, 100 + i);
    ret(b);
  }
  h.set_code(0, b);
  EXPECT_EQ(h.call(0, {0})[0], 100u);
  EXPECT_EQ(h.call(0, {1})[0], 101u);
  EXPECT_EQ(h.call(0, {2})[0], 102u);
  EXPECT_EQ(h.call(0, {0xffffffffu})[0], 102u);
}

TEST(InterpLoop, CallPassesArgumentsAndResults) {
  LoopHarness h;
  uint32_t outer = h.declare("outer", {{I32}, {I32}}, {2, 4});
  uint32_t square = h.declare("square", {{I32}, {I32}}, {2, 2});
  h.finish();
  CodeBuilder o;
  const64(o, 1, 1000);  // a local that must survive the call
  emit(o, IOp::Copy64_, {2, 0});
  emit(o, IOp::Call_, {}, {square, 2 * 8});
  emit(o, Opcode::I32Add, {0, 1, 2});
  ret(o);
  h.set_code(outer, o);
  CodeBuilder s;
  // The callee's local slot 1 must start at zero whatever the caller left there.
  emit(s, Opcode::I32Add, {1, 1, 0});
  emit(s, Opcode::I32Mul, {0, 1, 0});
  ret(s);
  h.set_code(square, s);
  Slot* slots = h.store.stack_top;
  slots[3] = 0xdead;  // garbage where the callee's local will live
  EXPECT_EQ(h.call(outer, {12})[0], 1144u);
}

TEST(InterpLoop, DeepRecursionEndsInStackExhausted) {
  LoopHarness h(/*max_call_depth=*/500);
  h.declare("forever", {{I32}, {}}, {1, 2});
  h.finish();
  CodeBuilder b;
  emit(b, IOp::Copy64_, {1, 0});
  emit(b, IOp::Call_, {}, {0, 1 * 8});
  ret(b);
  h.set_code(0, b);
  h.call(0, {1}, TrapKind::StackExhausted);
  EXPECT_STREQ(h.last_trap.what(), "call stack exhausted");
  EXPECT_EQ(h.last_trap.backtrace.size(), 500u);
}

TEST(InterpLoop, ValueStackOverflowEndsInStackExhausted) {
  LoopHarness h(/*max_call_depth=*/100000, /*value_stack_bytes=*/64 * 1024);
  h.declare("big_frames", {{}, {}}, {0, 1001});
  h.finish();
  CodeBuilder b;
  emit(b, IOp::Call_, {}, {0, 1000 * 8});
  ret(b);
  h.set_code(0, b);
  h.call(0, {}, TrapKind::StackExhausted);
  EXPECT_LT(h.last_trap.backtrace.size(), 10u);
}

TEST(InterpLoop, TrapHasBacktraceInnermostFirst) {
  LoopHarness h;
  uint32_t outer = h.declare("outer", {{I32}, {I32}}, {1, 3});
  uint32_t inner = h.declare("inner", {{I32, I32}, {I32}}, {2, 2});
  h.finish();
  CodeBuilder o;
  emit(o, IOp::Copy64_, {1, 0});
  const64(o, 2, 0);
  emit(o, IOp::Call_, {}, {inner, 1 * 8});
  emit(o, IOp::Copy64_, {0, 1});
  ret(o);
  h.set_code(outer, o);
  CodeBuilder i;
  emit(i, Opcode::I32DivS, {0, 0, 1});
  ret(i);
  h.set_code(inner, i);
  h.call(outer, {7}, TrapKind::IntDivideByZero);
  EXPECT_STREQ(h.last_trap.what(), "integer divide by zero");
  ASSERT_EQ(h.last_trap.backtrace.size(), 2u);
  EXPECT_EQ(h.last_trap.backtrace[0].func_name, "inner");
  EXPECT_EQ(h.last_trap.backtrace[0].func_index, inner);
  EXPECT_EQ(h.last_trap.backtrace[1].func_name, "outer");
  EXPECT_EQ(h.last_trap.backtrace[1].module_name, "harness");
}

TEST(InterpLoop, HostCallsAndHostTraps) {
  LoopHarness h;
  h.declare("call_host", {{I32}, {I32}}, {1, 3});
  rt::Instance* seen_instance = nullptr;
  Slot* seen_top = nullptr;
  Slot* seen_args = nullptr;
  auto* triple = rt::new_host_func(h.store, {{I32}, {I32}}, [&](rt::Caller& caller, Slot* args) -> std::optional<rt::Trap> {
    seen_instance = caller.instance;
    seen_top = caller.store->stack_top;
    seen_args = args;
    if (uint32_t(args[0]) == 13) return rt::Trap(TrapKind::Host, "unlucky");
    args[0] = uint32_t(args[0]) * 3;
    return std::nullopt;
  });
  h.finish({triple});
  const uint32_t host_index = 1;
  CodeBuilder b;
  emit(b, IOp::Copy64_, {2, 0});
  emit(b, IOp::Call_, {}, {host_index, 2 * 8});
  emit(b, Opcode::I32Add, {0, 2, 2});
  ret(b);
  h.set_code(0, b);
  Slot* slots = h.call(0, {5});
  EXPECT_EQ(slots[0], 30u);
  EXPECT_EQ(seen_instance, h.instance);
  EXPECT_EQ(seen_args, slots + 2);
  EXPECT_GE(seen_top, slots + 3);  // nested calls start above the caller's frame

  h.call(0, {13}, TrapKind::Host);
  EXPECT_STREQ(h.last_trap.what(), "unlucky");
  ASSERT_EQ(h.last_trap.backtrace.size(), 1u);
  EXPECT_EQ(h.last_trap.backtrace[0].func_name, "call_host");
}

TEST(InterpLoop, CallIndirectChecksTableEntries) {
  LoopHarness h;
  uint32_t dispatch = h.declare("dispatch", {{I32}, {I32}}, {1, 3});
  uint32_t add = h.declare("add", {{I32, I32}, {I32}}, {2, 2});
  uint32_t other = h.declare("other", {{I32}, {I32}}, {1, 1});
  h.finish();
  auto table = rt::new_table(h.store, TableType{ValType::FuncRef, Limits{4, 4}}, 0);
  ASSERT_TRUE(table.ok());
  (*table)->elems[0] = reinterpret_cast<rt::Ref>(h.func(add));
  (*table)->elems[2] = reinterpret_cast<rt::Ref>(h.func(other));
  h.instance->tables.push_back(*table);

  CodeBuilder d;
  const64(d, 1, 40);
  const64(d, 2, 2);
  emit(d, IOp::CallIndirect_, {}, {/*typeidx=*/add, /*tableidx=*/0, /*index=*/0 * 8, /*argbase=*/1 * 8});
  emit(d, IOp::Copy64_, {0, 1});
  ret(d);
  h.set_code(dispatch, d);
  CodeBuilder a;
  emit(a, Opcode::I32Add, {0, 0, 1});
  ret(a);
  h.set_code(add, a);
  CodeBuilder o;
  ret(o);
  h.set_code(other, o);

  EXPECT_EQ(h.call(dispatch, {0})[0], 42u);
  h.call(dispatch, {1}, TrapKind::UninitializedElement);
  h.call(dispatch, {2}, TrapKind::IndirectCallMismatch);
  h.call(dispatch, {4}, TrapKind::UndefinedElement);
  EXPECT_STREQ(h.last_trap.what(), "undefined element");
}

TEST(InterpLoop, MemoryAccessesAndGuardPageTraps) {
  LoopHarness h;
  uint32_t poke = h.declare("poke", {{I32, I32}, {I32}}, {2, 2});
  uint32_t far = h.declare("far", {{I32}, {I32}}, {1, 1});
  h.finish();
  auto memory = rt::new_memory(h.store, MemoryType{Limits{1, 2}});
  ASSERT_TRUE(memory.ok());
  h.instance->memories.push_back(*memory);

  CodeBuilder p;  // store s1 at s0+4, read back as i16 sign-extended
  emit(p, Opcode::I32Store, {0, 1}, {4});
  emit(p, Opcode::I32Load16S, {0, 0}, {4});
  ret(p);
  h.set_code(poke, p);
  CodeBuilder f;  // a load at the largest offset a memarg allows
  emit(f, Opcode::I64Load, {0, 0}, {0xffffffffu});
  ret(f);
  h.set_code(far, f);

  EXPECT_EQ(h.call(poke, {100, 0x1234ffff})[0], 0xffffffffu);
  uint32_t stored;
  std::memcpy(&stored, (*memory)->base + 104, 4);
  EXPECT_EQ(stored, 0x1234ffffu);
  EXPECT_EQ(h.call(poke, {65528, 0x7fff})[0], 0x7fffu);  // last 4 bytes of the page
  h.call(poke, {65529, 1}, TrapKind::MemoryOutOfBounds);
  EXPECT_STREQ(h.last_trap.what(), "out of bounds memory access");
  ASSERT_EQ(h.last_trap.backtrace.size(), 1u);
  EXPECT_EQ(h.last_trap.backtrace[0].func_name, "poke");
  h.call(far, {0xffffffffu}, TrapKind::MemoryOutOfBounds);
  h.call(far, {0}, TrapKind::MemoryOutOfBounds);
}

TEST(InterpLoop, BulkMemoryChecksBoundsBeforeWriting) {
  LoopHarness h;
  uint32_t fill = h.declare("fill", {{I32, I32, I32}, {}}, {3, 3});
  uint32_t copy = h.declare("copy", {{I32, I32, I32}, {}}, {3, 3});
  uint32_t grow = h.declare("grow", {{I32}, {I32}}, {1, 2});
  h.finish();
  auto memory = rt::new_memory(h.store, MemoryType{Limits{1, 3}});
  ASSERT_TRUE(memory.ok());
  h.instance->memories.push_back(*memory);
  uint8_t* base = (*memory)->base;

  CodeBuilder fb;
  emit(fb, IOp::MemoryFill_, {0, 1, 2});
  ret(fb);
  h.set_code(fill, fb);
  CodeBuilder cb;
  emit(cb, IOp::MemoryCopy_, {0, 1, 2});
  ret(cb);
  h.set_code(copy, cb);
  CodeBuilder gb;
  emit(gb, IOp::MemoryGrow_, {0, 0});
  emit(gb, IOp::MemorySize_, {1});
  emit(gb, Opcode::I32Add, {0, 0, 1});  // old pages + new pages, to check both
  ret(gb);
  h.set_code(grow, gb);

  h.call(fill, {65530, 0xaa, 7}, TrapKind::MemoryOutOfBounds);
  EXPECT_EQ(base[65530], 0);  // nothing written
  h.call(fill, {65530, 0x1aa, 6});
  EXPECT_EQ(base[65530], 0xaa);
  EXPECT_EQ(base[65535], 0xaa);
  h.call(fill, {65536, 0, 0});  // empty at the very end is fine
  h.call(fill, {65537, 0, 0}, TrapKind::MemoryOutOfBounds);

  h.call(copy, {0, 65530, 6});
  EXPECT_EQ(base[5], 0xaa);
  h.call(copy, {65000, 0, 0xffffffffu}, TrapKind::MemoryOutOfBounds);
  h.call(copy, {1, 0, 6});  // overlapping: memmove semantics
  EXPECT_EQ(base[6], 0xaa);

  EXPECT_EQ(h.call(grow, {1})[0], 1u + 2u);
  EXPECT_EQ((*memory)->pages(), 2u);
  EXPECT_EQ(h.call(grow, {2})[0], 0xffffffffu + 2u);  // -1, size unchanged
  h.call(fill, {65536, 7, 65536});  // the grown page is usable
  EXPECT_EQ(base[2 * 65536 - 1], 7);
}

TEST(InterpLoop, TablesAndGlobals) {
  LoopHarness h;
  uint32_t fn = h.declare("fn", {{I32}, {I32}}, {1, 3});
  h.finish();
  auto table = rt::new_table(h.store, TableType{ValType::FuncRef, Limits{2, 10}}, 0);
  ASSERT_TRUE(table.ok());
  h.instance->tables.push_back(*table);
  h.instance->globals.push_back(rt::new_global(h.store, GlobalType{I32, true}, 5));

  // table.set(s0, ref.func 0); s1 = table.size; global += s1; s0 = ref.is_null(table.get(s0))
  CodeBuilder b;
  emit(b, IOp::RefFunc_, {1}, {fn});
  emit(b, IOp::TableSet_, {0, 1}, {0});
  emit(b, IOp::TableSize_, {1}, {0});
  emit(b, IOp::GlobalGet64_, {2}, {0});
  emit(b, Opcode::I32Add, {2, 2, 1});
  emit(b, IOp::GlobalSet64_, {2}, {0});
  emit(b, IOp::TableGet_, {1, 0}, {0});
  emit(b, IOp::RefIsNull_, {0, 1});
  ret(b);
  h.set_code(fn, b);
  EXPECT_EQ(h.call(fn, {1})[0], 0u);
  EXPECT_EQ((*table)->elems[1], reinterpret_cast<rt::Ref>(h.func(fn)));
  EXPECT_EQ(h.instance->globals[0]->value[0], 7u);
  h.call(fn, {2}, TrapKind::TableOutOfBounds);
  EXPECT_EQ(h.instance->globals[0]->value[0], 7u);
}

TEST(InterpLoop, SegmentsAndTableBulkOps) {
  LoopHarness h;
  uint32_t init = h.declare("init", {{I32, I32, I32}, {}}, {3, 3});
  uint32_t drop = h.declare("drop", {{}, {}}, {0, 0});
  uint32_t fill = h.declare("fill", {{I32, I32}, {I32}}, {2, 3});
  uint32_t copy = h.declare("copy", {{I32, I32, I32}, {}}, {3, 3});
  h.finish();
  auto table = rt::new_table(h.store, TableType{ValType::FuncRef, Limits{4, 6}}, 0);
  ASSERT_TRUE(table.ok());
  h.instance->tables.push_back(*table);
  rt::Ref f0 = reinterpret_cast<rt::Ref>(h.func(init));
  rt::Ref f1 = reinterpret_cast<rt::Ref>(h.func(drop));
  h.instance->elem_segments.push_back({f0, f1});

  CodeBuilder ib;  // table.init 0 0 (dst s0, src s1, count s2)
  emit(ib, IOp::TableInit_, {0, 1, 2}, {0, 0});
  ret(ib);
  h.set_code(init, ib);
  CodeBuilder db;
  emit(db, IOp::ElemDrop_, {}, {0});
  ret(db);
  h.set_code(drop, db);
  CodeBuilder fb;  // s0 = table.grow(null, s1); table.fill(s0 .. +s1, ref.func 3)
  emit(fb, IOp::RefNull_, {2});
  emit(fb, IOp::TableGrow_, {2, 2, 1}, {0});
  emit(fb, IOp::RefFunc_, {0}, {3});
  emit(fb, IOp::TableFill_, {2, 0, 1}, {0});
  emit(fb, IOp::Copy64_, {0, 2});
  ret(fb);
  h.set_code(fill, fb);
  CodeBuilder cb;
  emit(cb, IOp::TableCopy_, {0, 1, 2}, {0, 0});
  ret(cb);
  h.set_code(copy, cb);

  h.call(init, {3, 0, 2}, TrapKind::TableOutOfBounds);  // 3 + 2 > 4: nothing written
  EXPECT_EQ((*table)->elems[3], 0u);
  h.call(init, {1, 1, 2}, TrapKind::TableOutOfBounds);  // beyond the segment
  h.call(init, {2, 0, 2});
  EXPECT_EQ((*table)->elems[2], f0);
  EXPECT_EQ((*table)->elems[3], f1);
  h.call(copy, {0, 2, 2});
  EXPECT_EQ((*table)->elems[0], f0);
  EXPECT_EQ((*table)->elems[1], f1);
  h.call(copy, {1, 0, 3});  // overlapping
  EXPECT_EQ((*table)->elems[1], f0);
  EXPECT_EQ((*table)->elems[3], f0);
  h.call(copy, {4, 0, 1}, TrapKind::TableOutOfBounds);

  h.call(drop, {});
  h.call(init, {0, 0, 0});  // a dropped segment is empty: count 0 still works
  h.call(init, {0, 0, 1}, TrapKind::TableOutOfBounds);

  EXPECT_EQ(h.call(fill, {0, 2})[0], 4u);  // grown from 4 to 6, new entries filled
  EXPECT_EQ((*table)->elems.size(), 6u);
  EXPECT_EQ((*table)->elems[5], reinterpret_cast<rt::Ref>(h.func(3)));
  // Past the maximum grow gives -1, and filling from index -1 is out of bounds.
  h.call(fill, {0, 1}, TrapKind::TableOutOfBounds);
  EXPECT_EQ((*table)->elems.size(), 6u);
}

TEST(InterpLoop, DataSegmentsAndWideValues) {
  LoopHarness h;
  uint32_t init = h.declare("init", {{I32, I32, I32}, {}}, {3, 3});
  uint32_t wide = h.declare("wide", {{I32}, {}}, {1, 8});
  h.finish();
  auto memory = rt::new_memory(h.store, MemoryType{Limits{1, 1}});
  ASSERT_TRUE(memory.ok());
  h.instance->memories.push_back(*memory);
  // The module owns the segment bytes; the harness's module is not const yet.
  auto* module = const_cast<wasm::Module*>(h.instance->module);
  module->bytes = {9, 9, 1, 2, 3, 4, 9};
  wasm::DataSegment segment;
  segment.mode = wasm::SegmentMode::Passive;
  segment.data_offset = 2;
  segment.data_size = 4;
  module->datas.push_back(segment);
  h.instance->data_dropped.push_back(false);
  h.instance->globals.push_back(rt::new_global(h.store, GlobalType{ValType::V128, true}, 0, 0));

  CodeBuilder ib;
  emit(ib, IOp::MemoryInit_, {0, 1, 2}, {0});
  emit(ib, IOp::DataDrop_, {}, {0});
  ret(ib);
  h.set_code(init, ib);
  // s2:s3 = const; s4:s5 = s0 ? s2:s3 : s6:s7 (zero); global = s4:s5
  CodeBuilder wb;
  emit(wb, IOp::Const128_, {2}, {0x1111111111111111ull, 0x2222222222222222ull});
  emit(wb, IOp::Copy128_, {6, 2});
  emit(wb, IOp::Const128_, {6}, {0, 0});
  emit(wb, IOp::Select128_, {4, 2, 6, 0});
  emit(wb, IOp::GlobalSet128_, {4}, {0});
  ret(wb);
  h.set_code(wide, wb);

  h.call(init, {65535, 0, 2}, TrapKind::MemoryOutOfBounds);
  h.call(init, {0, 1, 4}, TrapKind::MemoryOutOfBounds);
  EXPECT_EQ((*memory)->base[0], 0);
  h.call(init, {10, 1, 3});
  EXPECT_EQ((*memory)->base[10], 2);
  EXPECT_EQ((*memory)->base[12], 4);
  h.call(init, {0, 0, 0});  // dropped by the first successful run: empty now
  h.call(init, {0, 0, 1}, TrapKind::MemoryOutOfBounds);

  h.call(wide, {1});
  EXPECT_EQ(h.instance->globals[0]->value[0], 0x1111111111111111ull);
  EXPECT_EQ(h.instance->globals[0]->value[1], 0x2222222222222222ull);
  h.call(wide, {0});
  EXPECT_EQ(h.instance->globals[0]->value[0], 0u);
  EXPECT_EQ(h.instance->globals[0]->value[1], 0u);
}

// ---- end to end through the public API -----------------------------------------

// A tiny binary writer, enough for the tests below.
struct Bin {
  std::vector<uint8_t> bytes{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};

  static void uleb(std::vector<uint8_t>& out, uint64_t v) {
    do {
      uint8_t byte = v & 0x7f;
      v >>= 7;
      out.push_back(byte | (v ? 0x80 : 0));
    } while (v);
  }
  static void sleb(std::vector<uint8_t>& out, int64_t v) {
    bool more = true;
    while (more) {
      uint8_t byte = v & 0x7f;
      v >>= 7;
      more = !((v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40)));
      out.push_back(byte | (more ? 0x80 : 0));
    }
  }
  void section(uint8_t id, const std::vector<uint8_t>& payload) {
    bytes.push_back(id);
    uleb(bytes, payload.size());
    bytes.insert(bytes.end(), payload.begin(), payload.end());
  }
};

std::vector<uint8_t> vec_of(std::initializer_list<std::vector<uint8_t>> items) {
  std::vector<uint8_t> out;
  Bin::uleb(out, items.size());
  for (const auto& item : items) out.insert(out.end(), item.begin(), item.end());
  return out;
}
std::vector<uint8_t> name_bytes(const std::string& s) {
  std::vector<uint8_t> out;
  Bin::uleb(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
  return out;
}
std::vector<uint8_t> body(std::vector<uint8_t> locals, std::vector<uint8_t> code) {
  std::vector<uint8_t> content = std::move(locals);
  content.insert(content.end(), code.begin(), code.end());
  std::vector<uint8_t> out;
  Bin::uleb(out, content.size());
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

struct Loaded {
  Engine engine;
  std::optional<Module> module;
  std::optional<Store> store;
  std::optional<Instance> instance;
};

std::unique_ptr<Loaded> load(std::vector<uint8_t> bytes) {
  auto loaded = std::make_unique<Loaded>();
  auto module = Module::compile(loaded->engine, std::move(bytes));
  if (!module.ok()) {
    ADD_FAILURE() << module.error().to_string();
    return nullptr;
  }
  loaded->module.emplace(std::move(module.value()));
  loaded->store.emplace(loaded->engine);
  Linker linker(loaded->engine);
  auto instance = linker.instantiate(*loaded->store, *loaded->module);
  if (!instance.ok()) {
    ADD_FAILURE() << instance.error().to_string();
    return nullptr;
  }
  loaded->instance.emplace(instance.value());
  return loaded;
}

// (func $fac (export "fac") (param i64) (result i64)
//   (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 1))
//     (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
// (func (export "sum") (param i32) (result i32) (local i32)
//   (block (loop (br_if 1 (i32.eqz (local.get 0)))
//     (local.set 1 (i32.add (local.get 1) (local.get 0)))
//     (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br 0))) (local.get 1))
// (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
// (memory 1) (func (export "mem") (param i32) (result i32)
//   (i32.store offset=4 (local.get 0) (i32.const 0x01020304)) (i32.load8_u offset=5 (local.get 0)))
std::vector<uint8_t> sample_module() {
  Bin bin;
  bin.section(1, vec_of({{0x60, 0x01, 0x7e, 0x01, 0x7e},
                         {0x60, 0x01, 0x7f, 0x01, 0x7f},
                         {0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f}}));
  bin.section(3, vec_of({{0x00}, {0x01}, {0x02}, {0x01}}));
  bin.section(5, vec_of({{0x00, 0x01}}));
  std::vector<uint8_t> exports = vec_of({
      [] { auto v = name_bytes("fac"); v.insert(v.end(), {0x00, 0x00}); return v; }(),
      [] { auto v = name_bytes("sum"); v.insert(v.end(), {0x00, 0x01}); return v; }(),
      [] { auto v = name_bytes("div"); v.insert(v.end(), {0x00, 0x02}); return v; }(),
      [] { auto v = name_bytes("mem"); v.insert(v.end(), {0x00, 0x03}); return v; }(),
  });
  bin.section(7, exports);
  std::vector<uint8_t> store_const;
  Bin::sleb(store_const, 0x01020304);
  std::vector<uint8_t> mem_code = {0x20, 0x00, 0x41};
  mem_code.insert(mem_code.end(), store_const.begin(), store_const.end());
  mem_code.insert(mem_code.end(), {0x36, 0x02, 0x04, 0x20, 0x00, 0x2d, 0x00, 0x05, 0x0b});
  bin.section(10, vec_of({
      body({0x00}, {0x20, 0x00, 0x50, 0x04, 0x7e, 0x42, 0x01, 0x05, 0x20, 0x00, 0x20, 0x00, 0x42, 0x01, 0x7d,
                    0x10, 0x00, 0x7e, 0x0b, 0x0b}),
      body({0x01, 0x01, 0x7f}, {0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x45, 0x0d, 0x01, 0x20, 0x01, 0x20, 0x00, 0x6a,
                                0x21, 0x01, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x21, 0x00, 0x0c, 0x00, 0x0b, 0x0b,
                                0x20, 0x01, 0x0b}),
      body({0x00}, {0x20, 0x00, 0x20, 0x01, 0x6d, 0x0b}),
      body({0x00}, mem_code),
  }));
  return bin.bytes;
}

TEST(InterpEndToEnd, RecursionLoopsTrapsAndMemory) {
  auto loaded = load(sample_module());
  ASSERT_NE(loaded, nullptr);
  auto fac = loaded->instance->func("fac");
  auto sum = loaded->instance->func("sum");
  auto div = loaded->instance->func("div");
  auto mem = loaded->instance->func("mem");
  ASSERT_TRUE(fac && sum && div && mem);

  auto r = fac->call({Val::make_i64(20)});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value()[0].of.i64, 2432902008176640000ll);

  r = sum->call({Val::make_i32(1000)});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value()[0].of.i32, 500500);

  r = div->call({Val::make_i32(-7), Val::make_i32(2)});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value()[0].of.i32, -3);
  r = div->call({Val::make_i32(INT32_MIN), Val::make_i32(-1)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::IntOverflow);
  r = div->call({Val::make_i32(1), Val::make_i32(0)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::IntDivideByZero);
  EXPECT_EQ(r.error().backtrace.size(), 1u);

  r = mem->call({Val::make_i32(10)});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value()[0].of.i32, 0x03);
  r = mem->call({Val::make_i32(65532)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::MemoryOutOfBounds);

  r = fac->call({Val::make_i64(-1)});  // recurses until the call stack is exhausted
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::StackExhausted);
  r = fac->call({Val::make_i64(5)});  // and the store is usable afterwards
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value()[0].of.i64, 120);
}

}  // namespace
}  // namespace skiff::interp

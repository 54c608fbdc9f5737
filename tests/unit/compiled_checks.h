// Checks shared by the tests of the compiling tiers (tier 1 and tier 2) on
// test_wasm::plugin_module(): what it computes and how it traps.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "runtime/objects.h"
#include "skiff/skiff.hh"

namespace skiff::test_compiled {

// Whether the exported function `name` has machine code.
inline bool has_machine_code(const Instance& inst, const char* name) {
  const rt::FuncInst* f = inst.raw()->funcs[inst.raw()->module->find_export(name)->index];
  return f->compiled != nullptr && f->compiled->native_entry.load() != nullptr;
}

inline void expect_plugin_computes(Instance& inst) {
  EXPECT_TRUE(has_machine_code(inst, "add"));
  EXPECT_EQ(inst.func("add")->call({Val::make_i32(40), Val::make_i32(2)}).value()[0].of.i32, 42);
  EXPECT_EQ(inst.func("div")->call({Val::make_i32(-9), Val::make_i32(2)}).value()[0].of.i32, -4);
  EXPECT_EQ(inst.func("count")->call({Val::make_i32(1000)}).value()[0].of.i32, 1000);
  // depth(n) = depth(n - 1) + 1: direct calls between compiled functions.
  EXPECT_EQ(inst.func("depth")->call({Val::make_i32(500)}).value()[0].of.i32, 500);
}

inline void expect_plugin_traps(Instance& inst) {
  auto div = inst.func("div")->call({Val::make_i32(1), Val::make_i32(0)});
  ASSERT_FALSE(div.ok());
  EXPECT_EQ(div.error().kind, TrapKind::IntDivideByZero);
  ASSERT_FALSE(div.error().backtrace.empty());
  EXPECT_EQ(div.error().backtrace[0].func_index, inst.raw()->module->find_export("div")->index);

  auto overflow = inst.func("div")->call({Val::make_i32(INT32_MIN), Val::make_i32(-1)});
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.error().kind, TrapKind::IntOverflow);

  auto boom = inst.func("boom")->call({});
  ASSERT_FALSE(boom.ok());
  EXPECT_EQ(boom.error().kind, TrapKind::Unreachable);
  EXPECT_EQ(std::string(boom.error().what()), "unreachable");

  // Endless recursion stops at the native stack limit, not in a stack overflow.
  auto recurse = inst.func("recurse")->call({});
  ASSERT_FALSE(recurse.ok());
  EXPECT_EQ(recurse.error().kind, TrapKind::StackExhausted);
  EXPECT_GT(recurse.error().backtrace.size(), 100u);

  // The store is usable after every trap.
  EXPECT_EQ(inst.func("add")->call({Val::make_i32(1), Val::make_i32(2)}).value()[0].of.i32, 3);
}

}  // namespace skiff::test_compiled

// Validation entry points. Module-level checks live in validate_module.cpp;
// function bodies go through the shared BodyDecoder (body_decoder.h) with a
// validation-only interface.
#pragma once
#include "skiff/result.h"
#include "wasm/module.h"

namespace skiff::wasm {

// Validates one defined function's body (func_index in the function space).
// Requires the module-level parts (types, imports, declared_funcs) to be
// valid already.
Result<void> validate_function_body(const Module& module, uint32_t func_index);

}  // namespace skiff::wasm

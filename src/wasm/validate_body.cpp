// Function-body validation: the shared BodyDecoder with an interface that
// does nothing, so only the decoder's own checks run.
#include "wasm/body_decoder.h"
#include "wasm/validator.h"

namespace skiff::wasm {

namespace {

struct ValidateOnly {
  struct ValueData {};
  struct ControlData {};
  using S = StateOf<ValidateOnly>;
  using V = S::Value;
  using C = S::Control;

  void start_function(S&) {}
  void finish_function(S&) {}
  void op(S&, Opcode, const Immediates&, V*, uint32_t, V*) {}
  void constant(S&, Opcode, const Immediates&, V&) {}
  void local_get(S&, uint32_t, V&) {}
  void local_set(S&, uint32_t, V&) {}
  void local_tee(S&, uint32_t, V&, V&) {}
  void drop(S&, V&) {}
  void select(S&, V*, V&) {}
  void block(S&, C&) {}
  void if_(S&, V&, C&) {}
  void else_(S&, C&, V*) {}
  void end(S&, C&, V*) {}
  void br(S&, uint32_t, V*) {}
  void br_if(S&, uint32_t, V&, V*) {}
  void br_table(S&, const std::vector<uint32_t>&, V&, V*) {}
  void return_(S&, V*) {}
  void call(S&, uint32_t, const FuncType&, V*) {}
  void call_indirect(S&, uint32_t, uint32_t, const FuncType&, V*, V&) {}
};
static_assert(BodyInterface<ValidateOnly>);

}  // namespace

Result<void> validate_function_body(const Module& module, uint32_t func_index) {
  if (func_index < module.num_imported_funcs || func_index >= module.funcs.size() ||
      func_index - module.num_imported_funcs >= module.bodies.size())
    return Error(ErrorCode::Internal, Error::kNoOffset, "not a defined function");
  if (module.funcs[func_index] >= module.types.size()) return Error(ErrorCode::UnknownType);
  const FunctionBody& body = module.body(func_index);
  if (body.body_offset > body.body_end || body.body_end > module.bytes.size())
    return Error(ErrorCode::Internal, body.body_offset, "function body outside the module");
  ValidateOnly iface;
  BodyDecoder<FullValidation, ValidateOnly> decoder(module, func_index, iface);
  return decoder.decode();
}

}  // namespace skiff::wasm

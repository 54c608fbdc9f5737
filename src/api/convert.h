// Conversions between public Vals and the engine's raw slots.
#pragma once
#include "runtime/objects.h"
#include "skiff/skiff.hh"

namespace skiff::api {

// Writes `v` into slots[0] (and slots[1] for a v128); returns the slots used.
inline uint32_t val_to_slots(const Val& v, rt::Slot* slots) {
  switch (v.type) {
    case ValType::I32: slots[0] = static_cast<uint32_t>(v.of.i32); return 1;
    case ValType::I64: slots[0] = static_cast<uint64_t>(v.of.i64); return 1;
    case ValType::F32: slots[0] = v.f32_bits(); return 1;
    case ValType::F64: slots[0] = v.f64_bits(); return 1;
    case ValType::V128: slots[0] = v.of.v128.lo(); slots[1] = v.of.v128.hi(); return 2;
    case ValType::FuncRef:
    case ValType::ExternRef: slots[0] = v.of.ref; return 1;
  }
  return 1;
}

inline Val slots_to_val(ValType type, const rt::Slot* slots) {
  switch (type) {
    case ValType::I32: return Val::make_i32(static_cast<int32_t>(static_cast<uint32_t>(slots[0])));
    case ValType::I64: return Val::make_i64(static_cast<int64_t>(slots[0]));
    case ValType::F32: return Val::make_f32_bits(static_cast<uint32_t>(slots[0]));
    case ValType::F64: return Val::make_f64_bits(slots[0]);
    case ValType::V128: {
      V128 v;
      std::memcpy(v.bytes, &slots[0], 8);
      std::memcpy(v.bytes + 8, &slots[1], 8);
      return Val::make_v128(v);
    }
    case ValType::FuncRef:
    case ValType::ExternRef: {
      Val r = Val::null_of(type);
      r.of.ref = slots[0];
      return r;
    }
  }
  return Val{};
}


// Adapts a public host callback to the engine's slot convention.
rt::HostFunc wrap_host_callback(FuncType type, HostCallback callback);
rt::HostFunc wrap_raw_host_callback(RawHostCallback callback);

}  // namespace skiff::api

// The uniform wrappers of fallback_ops.h, generated from opcodes.def. The
// operand layout is derived from each ops:: function's signature, as the
// interpreter's handlers do; the build's -ffp-contract=off keeps the
// semantics exact here too.
#include "llvm/fallback_ops.h"

#include <cstring>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "interp/numerics.h"
#include "interp/simd_ops.h"

namespace skiff::llvmjit {

namespace {

namespace ops = skiff::interp::ops;
using wasm::Imm;

template <typename T>
T cell(const uint8_t* io, size_t i) {
  T v;
  std::memcpy(&v, io + i * kFallbackCellBytes, sizeof(T));
  return v;
}
template <typename T>
void put(uint8_t* io, T v) {
  std::memcpy(io, &v, sizeof(T));
}

template <auto F, Imm K, typename Sig = interp::OpSignature<F>>
struct Pure;
template <auto F, Imm K, typename R, typename... A>
struct Pure<F, K, R (*)(A...)> {
  static constexpr size_t kSlotArgs = K == Imm::None ? sizeof...(A) : sizeof...(A) - 1;
  using Args = std::tuple<A...>;
  template <size_t... I>
  static uint32_t call(uint8_t* io, std::index_sequence<I...>) {
    if constexpr (K == Imm::None) {
      R r = F(cell<std::tuple_element_t<I, Args>>(io, I)...);
      put<R>(io, r);
    } else if constexpr (K == Imm::Lane) {
      R r = F(cell<std::tuple_element_t<I, Args>>(io, I)..., cell<uint32_t>(io, kFallbackImmCell));
      put<R>(io, r);
    } else {
      uint8_t lanes[16];
      std::memcpy(lanes, io + kFallbackImmCell * kFallbackCellBytes, 16);
      R r = F(cell<std::tuple_element_t<I, Args>>(io, I)..., lanes);
      put<R>(io, r);
    }
    return 0;
  }
  static uint32_t run(uint8_t* io, uint8_t*) { return call(io, std::make_index_sequence<kSlotArgs>{}); }
};

template <auto F, typename Sig = interp::OpSignature<F>>
struct TrapW;
template <auto F, typename R, typename... A>
struct TrapW<F, TrapKind (*)(R&, A...)> {
  template <size_t... I>
  static uint32_t call(uint8_t* io, std::index_sequence<I...>) {
    R out{};
    TrapKind k = F(out, cell<A>(io, I)...);
    if (k == TrapKind::None) put<R>(io, out);
    return static_cast<uint32_t>(k);
  }
  static uint32_t run(uint8_t* io, uint8_t*) { return call(io, std::index_sequence_for<A...>{}); }
};

template <auto F, typename Sig = interp::OpSignature<F>>
struct LoadW;
template <auto F, typename R>
struct LoadW<F, R (*)(const uint8_t*)> {
  static uint32_t run(uint8_t* io, uint8_t* addr) {
    put<R>(io, F(addr));
    return 0;
  }
};
template <auto F>
struct LoadW<F, V128 (*)(const uint8_t*, V128, uint32_t)> {
  static uint32_t run(uint8_t* io, uint8_t* addr) {
    put<V128>(io, F(addr, cell<V128>(io, 1), cell<uint32_t>(io, kFallbackImmCell)));
    return 0;
  }
};

template <auto F, typename Sig = interp::OpSignature<F>>
struct StoreW;
template <auto F, typename T>
struct StoreW<F, void (*)(uint8_t*, T)> {
  static uint32_t run(uint8_t* io, uint8_t* addr) {
    F(addr, cell<T>(io, 1));
    return 0;
  }
};
template <auto F>
struct StoreW<F, void (*)(uint8_t*, V128, uint32_t)> {
  static uint32_t run(uint8_t* io, uint8_t* addr) {
    F(addr, cell<V128>(io, 1), cell<uint32_t>(io, kFallbackImmCell));
    return 0;
  }
};

#define SKIFF_FB_Special(name, imm) nullptr
#define SKIFF_FB_Pure(name, imm) &Pure<&ops::name, Imm::imm>::run
#define SKIFF_FB_Trap(name, imm) &TrapW<&ops::name>::run
#define SKIFF_FB_Load(name, imm) &LoadW<&ops::name>::run
#define SKIFF_FB_Store(name, imm) &StoreW<&ops::name>::run

const FallbackOp kFallbacks[] = {
#define SKIFF_OP(name, text, prefix, code, imm, cls, sig, arg) SKIFF_FB_##cls(name, imm),
#include "wasm/opcodes.def"
};
static_assert(std::size(kFallbacks) == wasm::kOpcodeCount);

}  // namespace

FallbackOp fallback_op(wasm::Opcode op) { return kFallbacks[static_cast<size_t>(op)]; }

const char* fallback_symbol(wasm::Opcode op) {
  static const char* const names[] = {
#define SKIFF_OP(name, text, prefix, code, imm, cls, sig, arg) "skiff_op_" #name,
#include "wasm/opcodes.def"
  };
  static_assert(std::size(names) == wasm::kOpcodeCount);
  return names[static_cast<size_t>(op)];
}

FallbackOp find_fallback_op(std::string_view symbol) {
  static const std::unordered_map<std::string_view, FallbackOp> by_name = [] {
    std::unordered_map<std::string_view, FallbackOp> map;
    for (size_t i = 0; i < wasm::kOpcodeCount; ++i)
      if (kFallbacks[i] != nullptr) map.emplace(fallback_symbol(static_cast<wasm::Opcode>(i)), kFallbacks[i]);
    return map;
  }();
  auto it = by_name.find(symbol);
  return it == by_name.end() ? nullptr : it->second;
}

}  // namespace skiff::llvmjit

// The one walk over a function body. BodyDecoder decodes every instruction,
// keeps the operand-type stack and the control stack of the validation
// algorithm (WebAssembly 2.0, appendix "Validation Algorithm"), and calls an
// interface hook per instruction: a no-op interface validates only
// (validate_body.cpp), the lowering interface writes tier-0 code
// (interp/lower.cpp). The same code path serves both, as in V8's
// WasmFullDecoder.
//
// ValidationTag picks whether the checks run: FullValidation at load time,
// NoValidation when an already validated body is decoded again to lower it.
// Structural bookkeeping (stack heights, polymorphic bottoms) runs in both.
//
// Hooks run only for reachable code: after br/br_table/return/unreachable
// the rest of the block is validated but the interface is not told about it.
// A block entered in dead code stays dead to its end (else branch included):
// no hooks for it or for anything inside it.
//
// Values popped for an instruction are handed to its hook in a buffer (the
// first popped operand last, i.e. in wasm operand order); a hook that
// produces a value receives it with its type and home slot filled in.
#pragma once
#include <algorithm>
#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "base/reader.h"
#include "skiff/result.h"
#include "wasm/module.h"
#include "wasm/types.h"

namespace skiff::wasm {

struct FullValidation {
  static constexpr bool kValidate = true;
};
struct NoValidation {
  static constexpr bool kValidate = false;
};

// The bottom type of stack-polymorphic (unreachable) code: matches anything.
inline constexpr ValType kUnknownType = static_cast<ValType>(0);

// Parameter and result types of a block (or of the function itself).
struct BlockSig {
  const ValType* params = nullptr;
  uint32_t num_params = 0;
  const ValType* results = nullptr;
  uint32_t num_results = 0;
  std::span<const ValType> param_types() const { return {params, num_params}; }
  std::span<const ValType> result_types() const { return {results, num_results}; }
};

// Decoded immediates of one instruction. Which fields are set depends on
// op_info(op).imm.
struct Immediates {
  uint32_t index = 0;   // label, func, local, global, table, type (call_indirect), elem, data; dst table of table.copy
  uint32_t index2 = 0;  // table of call_indirect/table.init, src table of table.copy
  uint32_t align = 0;   // memarg alignment exponent
  uint32_t offset = 0;  // memarg offset
  uint8_t lane = 0;
  ValType type = kUnknownType;  // ref.null, select t
  uint32_t select_arity = 0;    // number of types in select t
  int64_t block_type = -64;     // raw s33 of a block type (-64 = empty)
  uint64_t bits = 0;            // i32 (sign-extended), i64, f32, f64 constant bits
  V128 v128{};                  // v128.const and shuffle lanes
};

enum class BlockKind : uint8_t { Function, Block, Loop, If, Else };

template <typename Data>
struct StackValue {
  ValType type = kUnknownType;
  uint32_t slot = 0;  // home slot: local_slots + height in slots
  [[no_unique_address]] Data data{};
};

template <typename Data>
struct ControlFrame {
  BlockKind kind = BlockKind::Block;
  bool unreachable = false;        // the rest of this block is dead code
  bool reachable_at_start = true;  // hooks are called for this block
  uint32_t height = 0;             // value stack entries below the params
  uint32_t slot_base = 0;          // first slot of the params/results (the label's slots)
  BlockSig sig;
  uint64_t offset = 0;             // of the block instruction
  [[no_unique_address]] Data data{};

  // A branch to a loop carries its params; to anything else, its results.
  std::span<const ValType> label_types() const {
    return kind == BlockKind::Loop ? sig.param_types() : sig.result_types();
  }
};

// Everything an interface may look at (and the lowering may annotate:
// stack entries' data).
template <typename ValueData, typename ControlData>
struct DecoderState {
  using Value = StackValue<ValueData>;
  using Control = ControlFrame<ControlData>;

  const Module& module;
  uint32_t func_index;
  const FuncType& type;
  std::vector<ValType> local_types;   // params then declared locals
  std::vector<uint32_t> local_slot;   // slot of each local
  uint32_t param_slots = 0;
  uint32_t local_slots = 0;           // params + locals
  uint32_t result_slots = 0;
  uint32_t max_slot = 0;              // one past the highest slot any stack entry used
  std::vector<Value> stack;
  std::vector<Control> controls;
  uint64_t instr_offset = 0;          // of the instruction being decoded

  DecoderState(const Module& m, uint32_t fi) : module(m), func_index(fi), type(m.func_type(fi)) {}

  Control& label(uint32_t depth) { return controls[controls.size() - 1 - depth]; }
  bool is_function_label(uint32_t depth) const { return depth + 1 == controls.size(); }
  // The home slot the next pushed value gets.
  uint32_t next_slot() const {
    return stack.empty() ? local_slots : stack.back().slot + slot_count(stack.back().type);
  }
};

template <typename I>
using StateOf = DecoderState<typename I::ValueData, typename I::ControlData>;

// An interface must handle every kind of instruction.
template <typename I>
concept BodyInterface = requires(I& i, StateOf<I>& s, typename StateOf<I>::Value& v,
                                 typename StateOf<I>::Value* vs, typename StateOf<I>::Control& c,
                                 Opcode op, const Immediates& imm, uint32_t n,
                                 const std::vector<uint32_t>& targets, const FuncType& ft) {
  typename I::ValueData;
  typename I::ControlData;
  i.start_function(s);
  i.finish_function(s);
  // Numeric, memory, table, global, ref and `unreachable` instructions: a
  // fixed number of operands and at most one result (nullptr when none).
  i.op(s, op, imm, vs, n, vs);
  i.constant(s, op, imm, v);
  i.local_get(s, n, v);
  i.local_set(s, n, v);
  i.local_tee(s, n, v, v);
  i.drop(s, v);
  i.select(s, vs, v);  // vs = {a, b, cond}
  i.block(s, c);       // block and loop, after the frame (and its params) are pushed
  i.if_(s, v, c);
  i.else_(s, c, vs);   // vs = the then-branch results (when it falls through)
  i.end(s, c, vs);     // vs = the fallthrough results; before the frame is popped
  i.br(s, n, vs);      // vs = the values the branch carries
  i.br_if(s, n, v, vs);
  i.br_table(s, targets, v, vs);  // targets: the arms, then the default
  i.return_(s, vs);
  i.call(s, n, ft, vs);  // vs = arguments; results are pushed after
  i.call_indirect(s, n, n, ft, vs, v);  // typeidx, tableidx, type, args, index
  // Optional: call_results(s, vs, n), the results just pushed after a call
  // or call_indirect (an interface may place them where its call left them).
};

// Hooks that do nothing, for interfaces that look at a few instructions
// only: derive, and define the hooks you need (they hide these).
struct NoHooks {
  template <typename S> void start_function(S&) {}
  template <typename S> void finish_function(S&) {}
  template <typename S, typename A, typename R> void op(S&, Opcode, const Immediates&, A, uint32_t, R) {}
  template <typename S, typename V> void constant(S&, Opcode, const Immediates&, V&) {}
  template <typename S, typename V> void local_get(S&, uint32_t, V&) {}
  template <typename S, typename V> void local_set(S&, uint32_t, V&) {}
  template <typename S, typename V> void local_tee(S&, uint32_t, V&, V&) {}
  template <typename S, typename V> void drop(S&, V&) {}
  template <typename S, typename V> void select(S&, V*, V&) {}
  template <typename S, typename C> void block(S&, C&) {}
  template <typename S, typename V, typename C> void if_(S&, V&, C&) {}
  template <typename S, typename C, typename V> void else_(S&, C&, V*) {}
  template <typename S, typename C, typename V> void end(S&, C&, V*) {}
  template <typename S, typename V> void br(S&, uint32_t, V*) {}
  template <typename S, typename V> void br_if(S&, uint32_t, V&, V*) {}
  template <typename S, typename V> void br_table(S&, const std::vector<uint32_t>&, V&, V*) {}
  template <typename S, typename V> void return_(S&, V*) {}
  template <typename S, typename V> void call(S&, uint32_t, const FuncType&, V*) {}
  template <typename S, typename V> void call_indirect(S&, uint32_t, uint32_t, const FuncType&, V*, V&) {}
};

// A cursor over a body's bytes. Single-byte LEB128 values (nearly all
// indices and small constants) are read inline; everything else goes through
// the shared Reader, which holds the LEB128 rules.
class BodyCursor {
 public:
  BodyCursor(const uint8_t* data, size_t size, uint64_t base_offset)
      : begin_(data), pos_(data), end_(data + size), base_(base_offset) {}

  uint64_t offset() const { return base_ + static_cast<uint64_t>(pos_ - begin_); }
  bool at_end() const { return pos_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - pos_); }
  const Error& error() const { return error_; }

  // Only when !at_end().
  uint8_t peek() const { return *pos_; }
  void skip(size_t n) { pos_ += n; }

  bool u8(uint8_t& out) {
    if (pos_ == end_) [[unlikely]] return truncated();
    out = *pos_++;
    return true;
  }
  bool u32(uint32_t& out) {
    if (pos_ != end_ && *pos_ < 0x80) [[likely]] {
      out = *pos_++;
      return true;
    }
    uint32_t v;
    if (short_leb(v) > 0) {
      out = v;
      return true;
    }
    return slow(out, &Reader::u32);
  }
  bool s32(int32_t& out) { return signed_leb(out, &Reader::s32); }
  bool s33(int64_t& out) { return signed_leb(out, &Reader::s33); }
  bool s64(int64_t& out) { return signed_leb(out, &Reader::s64); }
  bool fixed_u32(uint32_t& out) { return slow(out, &Reader::fixed_u32); }
  bool fixed_u64(uint64_t& out) { return slow(out, &Reader::fixed_u64); }
  bool bytes16(const uint8_t*& out) {
    if (remaining() < 16) [[unlikely]] return truncated();
    out = pos_;
    pos_ += 16;
    return true;
  }

 private:
  [[gnu::noinline]] bool truncated() {
    error_ = Error(ErrorCode::UnexpectedEnd, offset());
    return false;
  }
  // Values of up to 4 bytes inline; longer ones (and errors) through Reader.
  template <typename T, typename Slow>
  bool signed_leb(T& out, Slow slow_read) {
    if (pos_ != end_ && *pos_ < 0x80) [[likely]] {
      out = sign_extend7(*pos_++);
      return true;
    }
    uint32_t v;
    if (int bits = short_leb(v); bits > 0) {
      out = sign_extend(v, bits);
      return true;
    }
    return slow(out, slow_read);
  }
  static int32_t sign_extend7(uint8_t b) { return b < 0x40 ? b : static_cast<int32_t>(b) - 0x80; }
  static int32_t sign_extend(uint32_t v, int bits) {
    return static_cast<int32_t>(v << (32 - bits)) >> (32 - bits);
  }
  // LEB128 of 2 to 4 bytes (28 bits at most: valid for every width we read,
  // so no range checks), read without per-byte bounds checks when 4 bytes
  // are left. Returns the payload bits, or 0 to take the careful path.
  [[gnu::always_inline]] int short_leb(uint32_t& out) {
    if (remaining() < 4) [[unlikely]] return 0;
    const uint8_t* p = pos_;
    uint32_t v = (p[0] & 0x7fu) | (uint32_t{p[1] & 0x7fu} << 7);
    if (!(p[1] & 0x80)) {
      pos_ += 2;
      out = v;
      return 14;
    }
    v |= uint32_t{p[2] & 0x7fu} << 14;
    if (!(p[2] & 0x80)) {
      pos_ += 3;
      out = v;
      return 21;
    }
    v |= uint32_t{p[3] & 0x7fu} << 21;
    if (!(p[3] & 0x80)) {
      pos_ += 4;
      out = v;
      return 28;
    }
    return 0;
  }
  // Kept out of line so the single-byte fast paths stay small.
  template <typename T, typename R>
  [[gnu::noinline]] bool slow(T& out, Result<R> (Reader::*read)()) {
    Reader r(pos_, remaining(), offset());
    auto res = (r.*read)();
    if (!res.ok()) {
      error_ = res.error();
      return false;
    }
    out = static_cast<T>(*res);
    pos_ = r.pos();
    return true;
  }

  const uint8_t* begin_;
  const uint8_t* pos_;
  const uint8_t* end_;
  uint64_t base_;
  Error error_;
};

// Single-byte opcodes, looked up once from the opcode table.
struct SingleByteOps {
  Opcode op[256];
  const OpInfo* info[256];  // null: not an opcode (or a prefix)
  SingleByteOps() {
    for (uint32_t b = 0; b < 256; ++b) {
      auto found = opcode_from(0, b);
      op[b] = found ? *found : Opcode::Nop;
      info[b] = found ? &op_info(*found) : nullptr;
    }
  }
  static const SingleByteOps& get() {
    static const SingleByteOps table;
    return table;
  }
};

template <typename ValidationTag, typename Interface>
  requires BodyInterface<Interface>
class BodyDecoder {
 public:
  using State = StateOf<Interface>;
  using Value = typename State::Value;
  using Control = typename State::Control;

  BodyDecoder(const Module& module, uint32_t func_index, Interface& iface)
      : s_(module, func_index),
        iface_(iface),
        body_(module.body(func_index)),
        reader_(module.bytes.data() + body_.body_offset, body_.body_end - body_.body_offset, body_.body_offset),
        single_byte_ops_(SingleByteOps::get()) {
    swap_scratch();
  }
  ~BodyDecoder() {
    s_.local_types.clear();
    s_.local_slot.clear();
    s_.stack.clear();
    s_.controls.clear();
    targets_.clear();
    swap_scratch();
  }
  BodyDecoder(const BodyDecoder&) = delete;
  BodyDecoder& operator=(const BodyDecoder&) = delete;

  State& state() { return s_; }

  // The one instruction at module byte `offset` inside this function's
  // body, read with the same code as decode() (for tools that rewrite
  // validated code, such as tier-up's loop entries): false if it does not
  // decode. br_table's targets, the default last, go to `targets`.
  struct Instruction {
    Opcode op = Opcode::Nop;
    Immediates imm;
    std::vector<uint32_t> targets;
    uint64_t end = 0;  // one past its last byte
  };
  bool decode_instruction_at(uint64_t offset, Instruction& out) {
    if (offset < body_.body_offset || offset >= body_.body_end) return false;
    reader_ = BodyCursor(s_.module.bytes.data() + offset, body_.body_end - offset, offset);
    s_.instr_offset = offset;
    const OpInfo* info = nullptr;
    if (!read_opcode(out.op, info) || !read_immediates(out.op, info->imm, out.imm, out.targets)) return false;
    out.end = reader_.offset();
    return true;
  }

 private:
  // Each thread keeps the vectors of its last decoder, so a module of 100k
  // functions does not allocate them 100k times. A nested decoder on the
  // same thread simply starts with empty ones.
  struct Scratch {
    std::vector<ValType> local_types;
    std::vector<uint32_t> local_slot;
    std::vector<Value> stack;
    std::vector<Control> controls;
    std::vector<Value> args;
    std::vector<uint32_t> targets;
  };
  void swap_scratch() {
    static thread_local Scratch scratch;
    s_.local_types.swap(scratch.local_types);
    s_.local_slot.swap(scratch.local_slot);
    s_.stack.swap(scratch.stack);
    s_.controls.swap(scratch.controls);
    args_.swap(scratch.args);
    targets_.swap(scratch.targets);
  }

 public:

  Result<void> decode() {
    if (!setup() || !run()) return error_;
    return {};
  }

 private:
  // Fails with `code` when a validation check does not hold; compiled away
  // for NoValidation.
#define VALIDATE(cond, code)                                               \
  do {                                                                     \
    if constexpr (ValidationTag::kValidate) {                              \
      if (!(cond)) [[unlikely]] return fail(ErrorCode::code);              \
    }                                                                      \
  } while (0)
  // Checks that keep even the no-validation walk in bounds.
#define CHECK(cond, code)                                                  \
  do {                                                                     \
    if (!(cond)) [[unlikely]] return fail(ErrorCode::code);                \
  } while (0)
  // Reads with the cursor (READ(u32, x)) and returns false on a decode error.
#define READ(method, dst)                                                  \
  do {                                                                     \
    if (!reader_.method(dst)) [[unlikely]] return fail_decode(reader_.error()); \
  } while (0)

  bool fail_decode(Error e) {
    error_ = std::move(e);
    return false;
  }
  // A validation failure. A decode error later in the same body wins, as in
  // the reference interpreter, which decodes the whole module before
  // validating it.
  bool fail(ErrorCode code) {
    Error e(code, s_.instr_offset);
    if (error_info(code).phase == Phase::Validate) {
      if (auto later = scan_rest_for_decode_error()) e = std::move(*later);
    }
    error_ = std::move(e);
    return false;
  }

  bool setup() {
    const FuncType& ft = s_.type;
    s_.local_types.reserve(ft.params.size() + body_.locals.size());
    s_.local_types.insert(s_.local_types.end(), ft.params.begin(), ft.params.end());
    s_.local_types.insert(s_.local_types.end(), body_.locals.begin(), body_.locals.end());
    s_.local_slot.resize(s_.local_types.size());
    uint64_t slot = 0;
    for (size_t i = 0; i < s_.local_types.size(); ++i) {
      if (i == ft.params.size()) s_.param_slots = static_cast<uint32_t>(slot);
      s_.local_slot[i] = static_cast<uint32_t>(slot);
      slot += slot_count(s_.local_types[i]);
    }
    if (ft.params.size() == s_.local_types.size()) s_.param_slots = static_cast<uint32_t>(slot);
    if (slot > UINT32_MAX / 16) return fail_decode(Error(ErrorCode::TooManyLocals, body_.body_offset));
    s_.local_slots = static_cast<uint32_t>(slot);
    for (ValType t : ft.results) s_.result_slots += slot_count(t);
    s_.max_slot = s_.local_slots;

    Control fn;
    fn.kind = BlockKind::Function;
    fn.sig.results = ft.results.data();
    fn.sig.num_results = static_cast<uint32_t>(ft.results.size());
    fn.height = 0;
    fn.slot_base = s_.local_slots;
    fn.offset = body_.body_offset;
    s_.controls.push_back(std::move(fn));
    s_.instr_offset = body_.body_offset;
    iface_.start_function(s_);
    return true;
  }

  // ---- the operand stack ----------------------------------------------------

  // Whether the current instruction can run: the interface hears only of
  // those. (Typing uses Control::unreachable alone: a block entered in dead
  // code is typed normally but stays dead.)
  bool reachable() const {
    const Control& c = s_.controls.back();
    return !c.unreachable && c.reachable_at_start;
  }

  [[gnu::noinline]] void grow_stack() { s_.stack.reserve(std::max<size_t>(64, 2 * s_.stack.capacity())); }
  // Shrinks the stack without resize(), which GCC keeps out of line.
  void truncate_stack(size_t height) {
    while (s_.stack.size() > height) s_.stack.pop_back();
  }

  [[gnu::always_inline]] Value& push(ValType t) {
    Value v;
    v.type = t;
    v.slot = s_.next_slot();
    s_.max_slot = std::max(s_.max_slot, v.slot + slot_count(t));
    // Growth is one out-of-line doubling, so push_back never reallocates
    // here (and the reused scratch stack rarely needs it at all).
    if (s_.stack.size() == s_.stack.capacity()) [[unlikely]] grow_stack();
    s_.stack.push_back(v);
    return s_.stack.back();
  }
  // Pushes a value popped earlier, keeping its interface data.
  [[gnu::always_inline]] void repush(const Value& v, ValType t) {
    Value& pushed = push(t);
    pushed.data = v.data;
  }
  void push_types(std::span<const ValType> types) {
    for (ValType t : types) push(t);
  }

  // Pops one value of type `expect` (kUnknownType: any) into `out`.
  bool pop(ValType expect, Value& out) {
    const Control& c = s_.controls.back();
    if (s_.stack.size() == c.height) {
      VALIDATE(c.unreachable, TypeMismatch);
      out = Value{};
      out.type = kUnknownType;
      return true;
    }
    out = s_.stack.back();
    s_.stack.pop_back();
    VALIDATE(out.type == expect || out.type == kUnknownType || expect == kUnknownType, TypeMismatch);
    return true;
  }
  // Room for `n` operands in args_ (which only grows, so the hot loop does
  // not resize it per instruction); nargs_ says how many are meant.
  [[gnu::always_inline]] Value* take_args(size_t n) {
    if (args_.size() < n) [[unlikely]] args_.resize(n);
    nargs_ = static_cast<uint32_t>(n);
    return args_.data();
  }
  // Pops values of `types` (the last on top) into args_ in operand order.
  [[gnu::always_inline]] bool pop_types(std::span<const ValType> types) {
    const size_t n = types.size();
    Value* out = take_args(n);
    const size_t size = s_.stack.size();
    if (size - s_.controls.back().height >= n) [[likely]] {
      // All operands are real stack entries: check and move them in one go.
      const Value* top = s_.stack.data() + (size - n);
      for (size_t i = 0; i < n; ++i) {
        VALIDATE(top[i].type == types[i] || top[i].type == kUnknownType || types[i] == kUnknownType, TypeMismatch);
        out[i] = top[i];
      }
      truncate_stack(size - n);
      return true;
    }
    for (size_t i = n; i-- > 0;)
      if (!pop(types[i], out[i])) return false;
    return true;
  }

  void set_unreachable() {
    Control& c = s_.controls.back();
    truncate_stack(c.height);
    c.unreachable = true;
  }

  // ---- immediates -----------------------------------------------------------

  bool read_zero_byte() {
    uint8_t b = 0;
    READ(u8, b);
    if (b != 0) return fail_decode(Error(ErrorCode::ZeroByteExpected, reader_.offset() - 1));
    return true;
  }

  bool read_valtype(ValType& out) {
    uint8_t b = 0;
    READ(u8, b);
    if (!is_valtype_byte(b)) return fail_decode(Error(ErrorCode::MalformedValueType, reader_.offset() - 1));
    out = static_cast<ValType>(b);
    return true;
  }

  bool read_memarg(Immediates& imm) {
    READ(u32, imm.align);
    READ(u32, imm.offset);
    return true;
  }

  // Decodes the immediates of `op` (decode errors only; indices are checked
  // by validation). br_table targets go to targets_.
  [[gnu::always_inline]] bool read_immediates(Opcode op, Imm kind, Immediates& imm, std::vector<uint32_t>& targets) {
    switch (kind) {
      case Imm::None:
        return true;
      case Imm::Block: {
        READ(s33, imm.block_type);
        if (imm.block_type < 0 && imm.block_type != -64) {
          uint8_t byte = static_cast<uint8_t>(imm.block_type & 0x7f);
          if (!is_valtype_byte(byte))
            return fail_decode(Error(ErrorCode::MalformedValueType, s_.instr_offset + 1));
        }
        return true;
      }
      case Imm::Label:
      case Imm::Func:
      case Imm::Local:
      case Imm::Global:
      case Imm::Table:
      case Imm::Elem:
        READ(u32, imm.index);
        return true;
      case Imm::Data:
        READ(u32, imm.index);
        return check_data_count();
      case Imm::BrTable: {
        uint32_t count;
        READ(u32, count);
        targets.clear();
        // Each target takes at least a byte: cap the reservation by what is left.
        targets.reserve(std::min<size_t>(size_t{count} + 1, reader_.remaining()));
        for (uint64_t i = 0; i <= count; ++i) {
          uint32_t t;
          READ(u32, t);
          targets.push_back(t);
        }
        return true;
      }
      case Imm::CallIndirect:
        READ(u32, imm.index);
        READ(u32, imm.index2);
        return true;
      case Imm::Memory:
        return read_zero_byte();
      case Imm::MemArg:
        return read_memarg(imm);
      case Imm::MemArgLane:
        if (!read_memarg(imm)) return false;
        READ(u8, imm.lane);
        return true;
      case Imm::I32: {
        int32_t v;
        READ(s32, v);
        imm.bits = static_cast<uint64_t>(static_cast<int64_t>(v));
        return true;
      }
      case Imm::I64: {
        int64_t v;
        READ(s64, v);
        imm.bits = static_cast<uint64_t>(v);
        return true;
      }
      case Imm::F32: {
        uint32_t v;
        READ(fixed_u32, v);
        imm.bits = v;
        return true;
      }
      case Imm::F64:
        READ(fixed_u64, imm.bits);
        return true;
      case Imm::V128:
      case Imm::Shuffle: {
        const uint8_t* p = nullptr;
        READ(bytes16, p);
        std::memcpy(imm.v128.bytes, p, 16);
        return true;
      }
      case Imm::Lane:
        READ(u8, imm.lane);
        return true;
      case Imm::RefType: {
        uint8_t b = 0;
        READ(u8, b);
        if (b != static_cast<uint8_t>(ValType::FuncRef) && b != static_cast<uint8_t>(ValType::ExternRef))
          return fail_decode(Error(ErrorCode::MalformedReferenceType, reader_.offset() - 1));
        imm.type = static_cast<ValType>(b);
        return true;
      }
      case Imm::SelectT: {
        READ(u32, imm.select_arity);
        for (uint32_t i = 0; i < imm.select_arity; ++i) {
          ValType t;
          if (!read_valtype(t)) return false;
          if (i == 0) imm.type = t;
        }
        return true;
      }
      case Imm::MemoryInit:
        READ(u32, imm.index);
        if (!check_data_count()) return false;
        return read_zero_byte();
      case Imm::MemoryCopy:
        return read_zero_byte() && read_zero_byte();
      case Imm::TableInit:
      case Imm::TableCopy:
        READ(u32, imm.index);
        READ(u32, imm.index2);
        if (kind == Imm::TableInit) std::swap(imm.index, imm.index2);  // index = table, index2 = elem
        return true;
    }
    (void)op;
    return fail_decode(Error(ErrorCode::Internal, s_.instr_offset));
  }

  // memory.init and data.drop need the data count section: a decode error.
  // A module with neither a data count nor a data section is let through
  // (any data index is then unknown, a validation error): wast2json writes
  // such binaries for text modules that the spec tests expect to be invalid,
  // not malformed.
  bool check_data_count() {
    if (!s_.module.data_count && !s_.module.datas.empty())
      return fail_decode(Error(ErrorCode::DataCountRequired, s_.instr_offset));
    return true;
  }
  uint32_t data_count() const { return s_.module.data_count.value_or(0); }

  [[gnu::always_inline]] bool read_opcode(Opcode& op, const OpInfo*& info) {
    uint8_t b = 0;
    READ(u8, b);
    if (b != 0xfc && b != 0xfd) [[likely]] {
      info = single_byte_ops_.info[b];
      if (info == nullptr) return fail_decode(Error(ErrorCode::IllegalOpcode, s_.instr_offset));
      op = single_byte_ops_.op[b];
      return true;
    }
    uint32_t code;
    READ(u32, code);
    auto found = opcode_from(b, code);
    if (!found) return fail_decode(Error(ErrorCode::IllegalOpcode, s_.instr_offset));
    op = *found;
    info = &op_info(op);
    return true;
  }

  // After a validation error: decodes the rest of the body without typing,
  // to report a malformed encoding instead if there is one. `depth` is the
  // block nesting after the failing instruction.
  std::optional<Error> scan_rest_for_decode_error() {
    if (scanning_) return std::nullopt;
    scanning_ = true;
    size_t depth = static_cast<size_t>(static_cast<int64_t>(s_.controls.size()) + depth_delta_);
    Immediates imm;
    std::vector<uint32_t> targets;
    while (depth > 0) {
      if (reader_.at_end()) return Error(ErrorCode::EndOpcodeExpected, reader_.offset());
      s_.instr_offset = reader_.offset();
      Opcode op;
      const OpInfo* info;
      if (!read_opcode(op, info) || !read_immediates(op, info->imm, imm, targets)) return error_;
      if (op == Opcode::Block || op == Opcode::Loop || op == Opcode::If) ++depth;
      if (op == Opcode::End) --depth;
    }
    if (!reader_.at_end()) return Error(ErrorCode::SectionSizeMismatch, reader_.offset());
    return std::nullopt;
  }

  // ---- validation helpers ---------------------------------------------------

  bool block_sig(int64_t raw, BlockSig& sig) {
    sig = BlockSig{};
    if (raw == -64) return true;
    if (raw < 0) {
      sig.results = single_type(static_cast<ValType>(raw & 0x7f));
      sig.num_results = 1;
      return true;
    }
    CHECK(static_cast<uint64_t>(raw) < s_.module.types.size(), UnknownType);
    const FuncType& ft = s_.module.types[static_cast<size_t>(raw)];
    sig.params = ft.params.data();
    sig.num_params = static_cast<uint32_t>(ft.params.size());
    sig.results = ft.results.data();
    sig.num_results = static_cast<uint32_t>(ft.results.size());
    return true;
  }

  static const ValType* single_type(ValType t) {
    static constexpr ValType kTypes[] = {ValType::I32,  ValType::I64,     ValType::F32,      ValType::F64,
                                         ValType::V128, ValType::FuncRef, ValType::ExternRef};
    for (const ValType& k : kTypes)
      if (k == t) return &k;
    return &kTypes[0];
  }

  bool push_control(BlockKind kind, const BlockSig& sig) {
    // The params were popped into args_; they go back on top of the new frame.
    Control c;
    c.kind = kind;
    c.sig = sig;
    c.reachable_at_start = reachable();
    c.height = static_cast<uint32_t>(s_.stack.size());
    c.slot_base = s_.next_slot();
    c.offset = s_.instr_offset;
    s_.controls.push_back(std::move(c));
    for (uint32_t i = 0; i < sig.num_params; ++i) repush(args_[i], sig.params[i]);
    return true;
  }

  bool label_ok(uint32_t depth) {
    CHECK(depth < s_.controls.size(), UnknownLabel);
    return true;
  }

  static bool is_num_or_vec(ValType t) { return !is_ref(t); }  // kUnknownType counts as both

  bool need_memory() {
    VALIDATE(!s_.module.memories.empty(), UnknownMemory);
    return true;
  }
  bool table_ok(uint32_t index) {
    VALIDATE(index < s_.module.tables.size(), UnknownTable);
    return true;
  }

  // Pops `params`, calls the op hook, pushes `result` (kUnknownType: none).
  bool simple(Opcode op, const Immediates& imm, std::initializer_list<ValType> params, ValType result,
              bool has_result) {
    if (!pop_types(std::span<const ValType>(params.begin(), params.size()))) return false;
    return finish_simple(op, imm, has_result ? &result : nullptr);
  }
  bool finish_simple(Opcode op, const Immediates& imm, const ValType* result) {
    if (result) {
      Value r;
      r.type = *result;
      r.slot = s_.next_slot();
      if (reachable()) iface_.op(s_, op, imm, args_.data(), nargs_, &r);
      repush(r, *result);
    } else if (reachable()) {
      iface_.op(s_, op, imm, args_.data(), nargs_, nullptr);
    }
    return true;
  }

  // ---- the instruction loop -------------------------------------------------

  bool run() {
    Immediates imm;
    while (!s_.controls.empty()) {
      if (reader_.at_end()) return fail_decode(Error(ErrorCode::EndOpcodeExpected, reader_.offset()));
      s_.instr_offset = reader_.offset();
      depth_delta_ = 0;
      // Fast paths for the commonest instructions: no Immediates reset, no
      // immediate-kind dispatch. They do exactly what the general path does.
      const uint8_t byte = reader_.peek();
      switch (byte) {
        case 0x20:  // local.get
        case 0x21:  // local.set
        case 0x22: {  // local.tee
          reader_.skip(1);
          uint32_t index;
          READ(u32, index);
          if (!local_access(single_byte_ops_.op[byte], index)) return false;
          continue;
        }
        case 0x41: {  // i32.const
          reader_.skip(1);
          int32_t v;
          READ(s32, v);
          const_imm_.bits = static_cast<uint64_t>(static_cast<int64_t>(v));
          if (!constant(Opcode::I32Const, ValType::I32, const_imm_)) return false;
          continue;
        }
        default:
          break;
      }
      if (const OpInfo* fast = single_byte_ops_.info[byte];
          fast && fast->cls != OpClass::Special && (fast->imm == Imm::None || fast->imm == Imm::MemArg)) {
        reader_.skip(1);
        const Immediates* fast_imm = &no_imm_;
        if (fast->imm == Imm::MemArg) {
          READ(u32, mem_imm_.align);
          READ(u32, mem_imm_.offset);
          fast_imm = &mem_imm_;
        }
        if (!generic(single_byte_ops_.op[byte], *fast, *fast_imm)) return false;
        continue;
      } else if (fast && fast->cls == OpClass::Special) {
        // end, br_if, call, global.get, drop, ...: no immediates or one index.
        const Imm kind = fast->imm;
        if (kind == Imm::None) {
          reader_.skip(1);
          if (!special(single_byte_ops_.op[byte], no_imm_)) return false;
          continue;
        }
        if (kind == Imm::Label || kind == Imm::Func || kind == Imm::Global) {
          reader_.skip(1);
          READ(u32, index_imm_.index);
          if (!special(single_byte_ops_.op[byte], index_imm_)) return false;
          continue;
        }
      }
      Opcode op;
      const OpInfo* info_ptr;
      if (!read_opcode(op, info_ptr)) return false;
      const OpInfo& info = *info_ptr;
      imm = Immediates{};
      if (!read_immediates(op, info.imm, imm, targets_)) return false;
      depth_delta_ = (op == Opcode::Block || op == Opcode::Loop || op == Opcode::If) ? 1 : 0;
      if (!(info.cls == OpClass::Special ? special(op, imm) : generic(op, info, imm))) return false;
    }
    // The function's final `end` must be the last byte of the body.
    if (!reader_.at_end()) return fail_decode(Error(ErrorCode::SectionSizeMismatch, reader_.offset()));
    iface_.finish_function(s_);
    return true;
  }

  // Pure, Trap, Load and Store ops: typed by the opcode table.
  bool generic(Opcode op, const OpInfo& info, const Immediates& imm) {
    if (info.cls == OpClass::Load || info.cls == OpClass::Store) {
      if (!need_memory()) return false;
      // 2^align must not exceed the access width.
      VALIDATE(imm.align < 32 && (uint64_t{1} << imm.align) <= info.arg, AlignmentTooLarge);
    }
    if (info.imm == Imm::Lane) VALIDATE(imm.lane < info.arg, InvalidLaneIndex);
    if (info.imm == Imm::MemArgLane) VALIDATE(imm.lane < 16 / info.arg, InvalidLaneIndex);
    if (info.imm == Imm::Shuffle)
      for (uint8_t lane : imm.v128.bytes) VALIDATE(lane < 32, InvalidLaneIndex);
    if (!pop_types(std::span<const ValType>(info.params, info.num_params))) return false;
    return finish_simple(op, imm, info.num_results ? &info.results[0] : nullptr);
  }

  bool special(Opcode op, const Immediates& imm) {
    const Module& m = s_.module;
    switch (op) {
      case Opcode::Unreachable:
        if (reachable()) iface_.op(s_, op, imm, nullptr, 0, nullptr);
        set_unreachable();
        return true;
      case Opcode::Nop:
        return true;

      case Opcode::Block:
      case Opcode::Loop:
      case Opcode::If: {
        BlockSig sig;
        if (!block_sig(imm.block_type, sig)) return false;
        Value cond;
        if (op == Opcode::If && !pop(ValType::I32, cond)) return false;
        if (!pop_types(sig.param_types())) return false;
        BlockKind kind = op == Opcode::Block ? BlockKind::Block : op == Opcode::Loop ? BlockKind::Loop : BlockKind::If;
        push_control(kind, sig);
        Control& c = s_.controls.back();
        if (c.reachable_at_start) {
          if (op == Opcode::If) iface_.if_(s_, cond, c);
          else iface_.block(s_, c);
        }
        return true;
      }
      case Opcode::Else: {
        Control& c = s_.controls.back();
        // The reference decoder reads `else` only as part of an `if`.
        if (c.kind != BlockKind::If) return fail_decode(Error(ErrorCode::EndOpcodeExpected, s_.instr_offset));
        if (!pop_block_results(c)) return false;
        if (c.reachable_at_start) iface_.else_(s_, c, args_.data());
        truncate_stack(c.height);
        c.kind = BlockKind::Else;
        c.unreachable = false;
        push_types(c.sig.param_types());
        return true;
      }
      case Opcode::End: {
        Control& c = s_.controls.back();
        depth_delta_ = -1;
        if (!pop_block_results(c)) return false;
        // An `if` without `else` passes its params through the empty else.
        if (c.kind == BlockKind::If)
          VALIDATE(std::ranges::equal(c.sig.param_types(), c.sig.result_types()), TypeMismatch);
        if (c.reachable_at_start) iface_.end(s_, c, args_.data());
        BlockSig sig = c.sig;
        truncate_stack(c.height);
        s_.controls.pop_back();
        if (!s_.controls.empty()) push_types(sig.result_types());
        return true;
      }

      case Opcode::Br: {
        if (!label_ok(imm.index)) return false;
        if (!pop_types(s_.label(imm.index).label_types())) return false;
        if (reachable()) iface_.br(s_, imm.index, args_.data());
        set_unreachable();
        return true;
      }
      case Opcode::BrIf: {
        if (!label_ok(imm.index)) return false;
        Value cond;
        if (!pop(ValType::I32, cond)) return false;
        auto types = s_.label(imm.index).label_types();
        if (!pop_types(types)) return false;
        if (reachable()) iface_.br_if(s_, imm.index, cond, args_.data());
        for (size_t i = 0; i < types.size(); ++i) repush(args_[i], types[i]);
        return true;
      }
      case Opcode::BrTable: {
        Value index;
        if (!pop(ValType::I32, index)) return false;
        uint32_t default_depth = targets_.back();
        if (!label_ok(default_depth)) return false;
        size_t arity = s_.label(default_depth).label_types().size();
        for (uint32_t depth : targets_) {
          if (!label_ok(depth)) return false;
          auto types = s_.label(depth).label_types();
          VALIDATE(types.size() == arity, TypeMismatch);
          // Each arm must accept what is on the stack; in dead code the
          // stack keeps the types it had (bottoms stay bottoms).
          if (!pop_types(types)) return false;
          for (size_t i = 0; i < types.size(); ++i) repush(args_[i], args_[i].type);
        }
        if (!pop_types(s_.label(default_depth).label_types())) return false;
        if (reachable()) iface_.br_table(s_, targets_, index, args_.data());
        set_unreachable();
        return true;
      }
      case Opcode::Return: {
        if (!pop_types(s_.type.results)) return false;
        if (reachable()) iface_.return_(s_, args_.data());
        set_unreachable();
        return true;
      }

      case Opcode::Call: {
        VALIDATE(imm.index < m.funcs.size(), UnknownFunction);
        return do_call(m.func_type(imm.index), [&](const FuncType& ft) { iface_.call(s_, imm.index, ft, args_.data()); });
      }
      case Opcode::CallIndirect: {
        if (!table_ok(imm.index2)) return false;
        VALIDATE(m.tables[imm.index2].elem == ValType::FuncRef, TypeMismatch);
        VALIDATE(imm.index < m.types.size(), UnknownType);
        Value index;
        if (!pop(ValType::I32, index)) return false;
        return do_call(m.types[imm.index], [&](const FuncType& ft) {
          iface_.call_indirect(s_, imm.index, imm.index2, ft, args_.data(), index);
        });
      }

      case Opcode::Drop: {
        Value v;
        if (!pop(kUnknownType, v)) return false;
        if (reachable()) iface_.drop(s_, v);
        return true;
      }
      case Opcode::Select:
      case Opcode::SelectT: {
        if (op == Opcode::SelectT) VALIDATE(imm.select_arity == 1, InvalidResultArity);
        ValType want = op == Opcode::SelectT ? imm.type : kUnknownType;
        take_args(3);
        if (!pop(ValType::I32, args_[2]) || !pop(want, args_[1]) || !pop(want, args_[0])) return false;
        ValType t1 = args_[0].type, t2 = args_[1].type;
        ValType result = want;
        if (op == Opcode::Select) {
          VALIDATE(is_num_or_vec(t1) && is_num_or_vec(t2), TypeMismatch);
          VALIDATE(t1 == t2 || t1 == kUnknownType || t2 == kUnknownType, TypeMismatch);
          result = t1 == kUnknownType ? t2 : t1;
        }
        Value r;
        r.type = result;
        r.slot = s_.next_slot();
        if (reachable()) iface_.select(s_, args_.data(), r);
        repush(r, result);
        return true;
      }

      case Opcode::LocalGet:
      case Opcode::LocalSet:
      case Opcode::LocalTee: {
        return local_access(op, imm.index);
      }
      case Opcode::GlobalGet: {
        VALIDATE(imm.index < m.globals.size(), UnknownGlobal);
        return simple(op, imm, {}, m.globals[imm.index].type, true);
      }
      case Opcode::GlobalSet: {
        VALIDATE(imm.index < m.globals.size(), UnknownGlobal);
        VALIDATE(m.globals[imm.index].is_mutable, GlobalImmutable);
        return simple(op, imm, {m.globals[imm.index].type}, kUnknownType, false);
      }

      case Opcode::TableGet:
        if (!table_ok(imm.index)) return false;
        return simple(op, imm, {ValType::I32}, m.tables[imm.index].elem, true);
      case Opcode::TableSet:
        if (!table_ok(imm.index)) return false;
        return simple(op, imm, {ValType::I32, m.tables[imm.index].elem}, kUnknownType, false);
      case Opcode::TableSize:
        if (!table_ok(imm.index)) return false;
        return simple(op, imm, {}, ValType::I32, true);
      case Opcode::TableGrow:
        if (!table_ok(imm.index)) return false;
        return simple(op, imm, {m.tables[imm.index].elem, ValType::I32}, ValType::I32, true);
      case Opcode::TableFill:
        if (!table_ok(imm.index)) return false;
        return simple(op, imm, {ValType::I32, m.tables[imm.index].elem, ValType::I32}, kUnknownType, false);
      case Opcode::TableCopy:
        if (!table_ok(imm.index) || !table_ok(imm.index2)) return false;
        VALIDATE(m.tables[imm.index].elem == m.tables[imm.index2].elem, TypeMismatch);
        return simple(op, imm, {ValType::I32, ValType::I32, ValType::I32}, kUnknownType, false);
      case Opcode::TableInit:
        if (!table_ok(imm.index)) return false;
        VALIDATE(imm.index2 < m.elems.size(), UnknownElemSegment);
        VALIDATE(m.tables[imm.index].elem == m.elems[imm.index2].elem_type, TypeMismatch);
        return simple(op, imm, {ValType::I32, ValType::I32, ValType::I32}, kUnknownType, false);
      case Opcode::ElemDrop:
        VALIDATE(imm.index < m.elems.size(), UnknownElemSegment);
        return simple(op, imm, {}, kUnknownType, false);

      case Opcode::MemorySize:
        if (!need_memory()) return false;
        return simple(op, imm, {}, ValType::I32, true);
      case Opcode::MemoryGrow:
        if (!need_memory()) return false;
        return simple(op, imm, {ValType::I32}, ValType::I32, true);
      case Opcode::MemoryFill:
      case Opcode::MemoryCopy:
        if (!need_memory()) return false;
        return simple(op, imm, {ValType::I32, ValType::I32, ValType::I32}, kUnknownType, false);
      case Opcode::MemoryInit:
        if (!need_memory()) return false;
        VALIDATE(imm.index < data_count(), UnknownDataSegment);
        return simple(op, imm, {ValType::I32, ValType::I32, ValType::I32}, kUnknownType, false);
      case Opcode::DataDrop:
        VALIDATE(imm.index < data_count(), UnknownDataSegment);
        return simple(op, imm, {}, kUnknownType, false);

      case Opcode::I32Const:
      case Opcode::I64Const:
      case Opcode::F32Const:
      case Opcode::F64Const:
      case Opcode::V128Const: {
        ValType t = op == Opcode::I32Const   ? ValType::I32
                    : op == Opcode::I64Const ? ValType::I64
                    : op == Opcode::F32Const ? ValType::F32
                    : op == Opcode::F64Const ? ValType::F64
                                             : ValType::V128;
        return constant(op, t, imm);
      }

      case Opcode::RefNull:
        return simple(op, imm, {}, imm.type, true);
      case Opcode::RefIsNull: {
        take_args(1);
        if (!pop(kUnknownType, args_[0])) return false;
        VALIDATE(args_[0].type == kUnknownType || is_ref(args_[0].type), TypeMismatch);
        ValType i32 = ValType::I32;
        return finish_simple(op, imm, &i32);
      }
      case Opcode::RefFunc:
        VALIDATE(imm.index < m.funcs.size(), UnknownFunction);
        VALIDATE(imm.index < m.declared_funcs.size() && m.declared_funcs[imm.index], UndeclaredFunctionRef);
        return simple(op, imm, {}, ValType::FuncRef, true);

      default:
        return fail(ErrorCode::Internal);  // every Special op is handled above
    }
  }

  [[gnu::always_inline]] bool local_access(Opcode op, uint32_t index) {
    VALIDATE(index < s_.local_types.size(), UnknownLocal);
    ValType t = s_.local_types[index];
    Value v;
    if (op != Opcode::LocalGet && !pop(t, v)) return false;
    if (op == Opcode::LocalSet) {
      if (reachable()) iface_.local_set(s_, index, v);
      return true;
    }
    Value r;
    r.type = t;
    r.slot = s_.next_slot();
    if (reachable()) {
      if (op == Opcode::LocalGet) iface_.local_get(s_, index, r);
      else iface_.local_tee(s_, index, v, r);
    }
    repush(r, t);
    return true;
  }

  [[gnu::always_inline]] bool constant(Opcode op, ValType t, const Immediates& imm) {
    Value r;
    r.type = t;
    r.slot = s_.next_slot();
    if (reachable()) iface_.constant(s_, op, imm, r);
    repush(r, t);
    return true;
  }

  template <typename Hook>
  bool do_call(const FuncType& ft, Hook&& hook) {
    if (!pop_types(ft.params)) return false;
    const bool live = reachable();
    if (live) hook(ft);
    push_types(ft.results);
    if constexpr (requires(Value* vs) { iface_.call_results(s_, vs, 0u); }) {
      const auto n = static_cast<uint32_t>(ft.results.size());
      if (live && n != 0) iface_.call_results(s_, &s_.stack[s_.stack.size() - n], n);
    }
    return true;
  }

  // Pops a block's results (into args_) at its end or else, and checks that
  // nothing else is left in it.
  bool pop_block_results(Control& c) {
    if (!pop_types(c.sig.result_types())) return false;
    VALIDATE(s_.stack.size() == c.height, TypeMismatch);
    return true;
  }

#undef READ
#undef CHECK
#undef VALIDATE

  State s_;
  Interface& iface_;
  const FunctionBody& body_;
  BodyCursor reader_;
  const SingleByteOps& single_byte_ops_;
  std::vector<Value> args_;         // operands popped for the current instruction (the first nargs_)
  uint32_t nargs_ = 0;
  // Immediates of the fast paths: only the fields they set ever change.
  const Immediates no_imm_{};
  Immediates const_imm_{};
  Immediates index_imm_{};
  Immediates mem_imm_{};
  std::vector<uint32_t> targets_;   // br_table arms then default
  int depth_delta_ = 0;             // nesting change of the current instruction
  bool scanning_ = false;
  Error error_;
};

}  // namespace skiff::wasm

// Ahead-of-time files (.skc): a module's wasm bytes with tier 2 machine
// code for all its functions, so a later run starts without LLVM. Written
// by `skiff compile` and by the on-disk cache of `skiff run`.
//
// Layout (little-endian): magic "SKIFFAOT", u32 format version, then
// length-prefixed fields: engine id, target, host CPU feature words, a u8
// "interruptible" (fuel/epoch checks compiled in), wasm bytes, the
// objects; last a 64-bit checksum of everything before it.
// Reading checks all of it before anything is loaded: a file from another
// Skiff build (engine id: version, tier-2 ABI, runtime layout), for a CPU
// lacking a feature the code may use, truncated or corrupt is rejected with
// a clear error. The checksum catches damage, not malice: like every
// runtime's precompiled format, a .skc is native code and must come from a
// trusted source.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "llvm/jit.h"
#include "skiff/result.h"

namespace skiff::llvmjit {

struct AotContents {
  std::vector<uint8_t> wasm;
  CompiledCode code;
};

// Whether `bytes` start like a .skc file (wasm modules start with "\0asm").
bool is_aot_file(std::span<const uint8_t> bytes);

std::vector<uint8_t> write_aot(std::span<const uint8_t> wasm, const CompiledCode& code);

// Checks and unpacks a .skc file (see the banner); errors name the problem.
Result<AotContents> read_aot(std::span<const uint8_t> file);

// Tier-up batches of one module (the cache of `skiff run`'s tier-up): the
// module's size and hash, then each batch's functions, loops and code as a
// .skc body; a checksum last. Reading checks all of it as read_aot does,
// and that the file belongs to `wasm`.
std::vector<uint8_t> write_tierup_batches(std::span<const uint8_t> wasm, const std::vector<TierUpBatch>& batches);
Result<std::vector<TierUpBatch>> read_tierup_batches(std::span<const uint8_t> file, std::span<const uint8_t> wasm);

// What machine code compiled by this process depends on besides the wasm
// bytes: the engine id and this CPU's features. Part of every cache key.
std::string code_config_id();

// The 64-bit hash a .skc ends with (over every byte before it); tests use
// it to forge files that are intact but mismatched.
uint64_t aot_checksum(std::span<const uint8_t> bytes);

// 16 hex digits of a 64-bit hash (cache file names).
std::string hash_hex(std::span<const uint8_t> bytes);

}  // namespace skiff::llvmjit

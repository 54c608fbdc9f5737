// What code generation needs to know about the host CPU beyond its
// feature flags.
#pragma once

#include <cstdlib>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace skiff {

// Intel's Skylake-derived cores (Skylake to Comet Lake, Skylake-SP to
// Cooper Lake) have the JCC erratum (SKX102). The microcode that fixes it
// keeps a jump that crosses or ends on a 32-byte boundary (with the cmp or
// test fused to it) out of the decoded-instruction cache, and a hot loop
// holding one runs from the slower legacy decoders: on Cascade Lake, tier
// 2's bench dispatch ran 1.5x slower for it. Both code generators pad jumps
// off those boundaries there, as -mbranches-within-32B-boundaries does.
// $SKIFF_JUMP_PADDING=0|1 overrides the choice (for measurement). Padding
// changes speed only: padded code runs correctly on any CPU.
inline bool pad_jumps_for_host() {
  static const bool pad = [] {
    if (const char* env = std::getenv("SKIFF_JUMP_PADDING"); env != nullptr && *env != 0) return *env != '0';
#if defined(__x86_64__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(0, &a, &b, &c, &d) == 0 || b != 0x756e6547u) return false;  // "Genu"ineIntel
    __get_cpuid(1, &a, &b, &c, &d);
    const unsigned family = (a >> 8) & 0xf;
    const unsigned model = ((a >> 4) & 0xf) | (((a >> 16) & 0xf) << 4);
    if (family != 6) return false;
    switch (model) {
      case 0x4e: case 0x5e:              // Skylake (client)
      case 0x55:                         // Skylake-SP, Cascade Lake, Cooper Lake
      case 0x8e: case 0x9e:              // Kaby, Amber, Whiskey, Coffee Lake
      case 0xa5: case 0xa6: return true;  // Comet Lake
      default: return false;
    }
#else
    return false;
#endif
  }();
  return pad;
}

}  // namespace skiff

;; Tier 2 deletes an out-of-bounds load whose value only feeds dead code, so
;; it does not trap; tier 0 traps "out of bounds memory access" (correct:
;; a wasm load traps whether or not its value is used). Every load type is
;; affected, also a load that only partly crosses the end of memory. A load
;; dropped directly still traps on both tiers.
;;   interp: trap MemoryOutOfBounds      jit: returns 7
;; Found by skiff_diff (fuzz seed 6; 24 of seeds 1..300 hit it), reduced
;; with wasm-reduce.
(module
  (memory 1)
  (func (export "unused_load") (result i32)
    (drop (i32.add (i32.load (i32.const -1)) (i32.const 1)))
    (i32.const 7))
  (func (export "unused_i64_load_past_end") (result i32)
    (drop (i64.add (i64.load (i32.const 65535)) (i64.const 1)))
    (i32.const 7))
  (func (export "unused_v128_load_straddling_end") (result i32)
    (drop (i32x4.add (v128.load (i32.const 65530)) (v128.const i64x2 0 0)))
    (i32.const 7)))

;; Tier 2 quiets a signalling NaN passed as the third (or later)
;; floating-point result of a multi-value function, at the export boundary
;; and between compiled functions (then visible as a wrong integer through
;; reinterpret); tier 0 keeps the bits (correct: const, return and call
;; move values unchanged).
;;   three_f64: interp f64:7ff0000000000001   jit f64:7ff8000000000001
;;   via_call:  interp i64:7ff0000000000001   jit i64:7ff8000000000001
;; Two float results, or a third result after an i32, are not affected
;; (perhaps LLVM returns a third FP value through x87 ST0, and loading a
;; signalling NaN there quiets it).
;; Found by skiff_diff (fuzz seed 613), reduced with wasm-reduce.
(module
  (func $three_f64 (export "three_f64") (result f64 f64 f64)
    (f64.const 1) (f64.const 2) (f64.const nan:0x1))
  (func (export "three_f32") (result f32 f32 f32)
    (f32.const 1) (f32.const 2) (f32.const nan:0x200000))
  (func (export "via_call") (result i64) (local i64)
    (call $three_f64)
    (local.set 0 (i64.reinterpret_f64))
    (drop) (drop)
    (local.get 0)))

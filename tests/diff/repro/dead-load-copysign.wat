;; An out-of-bounds load whose value only reaches copysign magnitude operands:
;; LLVM instruction selection folded copysign(x, fabs(load)) and dropped the
;; load, so tier 2 did not trap. Found by skiff_diff (fuzz seed 169), reduced
;; with wasm-reduce. Fixed by keeping every wasm load volatile.
(module
  (type (;0;) (func (param i32 i32 i64) (result i32 i32 f64 i64 i32 f64)))
  (func (;0;) (type 0) (param i32 i32 i64) (result i32 i32 f64 i64 i32 f64)
    (local f64)
    f64.const 0x0p+0 (;=0;)
    i32.const -1776127444
    f32.load offset=4 align=1
    f64.promote_f32
    local.get 3
    f64.copysign
    f64.copysign
    i32.trunc_f64_s
    drop
    unreachable)
  (memory (;0;) 16 17)
  (export "func" (func 0)))

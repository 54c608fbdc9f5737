;; Tier 1 keeps v128 values in XMM registers (src/baseline/compiler.cpp):
;; operand-stack values in xmm0-7, the hottest v128 locals pinned in
;; xmm8-13 (shared with floats), constants from a pool after the code.
;; Each export leans on one way that can go wrong: more live values than
;; scratch registers (the deepest go to their slots), a pinned value across
;; a call (the callee clobbers xmm8-13), values at block ends, branches
;; and selects, and lanes read back from registers.
(module
  (memory (export "memory") 1 1)
  (global $g (mut v128) (v128.const i32x4 1 2 3 4))

  ;; Twelve values live at once, then folded: the first ones spill.
  (func (export "pressure") (param $x i32) (result v128)
    (i32x4.splat (local.get $x))
    (v128.const i32x4 0x11111111 0x22222222 0x33333333 0x44444444)
    (i16x8.splat (i32.add (local.get $x) (i32.const 7)))
    (i8x16.splat (i32.mul (local.get $x) (i32.const 3)))
    (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    (i64x2.splat (i64.extend_i32_s (local.get $x)))
    (f32x4.splat (f32.convert_i32_s (local.get $x)))
    (f64x2.splat (f64.convert_i32_u (local.get $x)))
    (v128.const i32x4 -1 -1 -1 -1)
    (v128.const i32x4 0 0 0 0)
    (i32x4.splat (i32.xor (local.get $x) (i32.const -1)))
    (global.get $g)
    i32x4.add
    v128.xor
    v128.or
    v128.andnot
    i64x2.add
    i8x16.add_sat_u
    i16x8.sub
    i16x8.add
    v128.and
    i32x4.mul
    i8x16.sub)

  ;; f64 work in the callee clobbers every XMM register.
  (func $clobber (param $x f64) (result f64)
    (local $a v128)
    (local.set $a (f64x2.splat (local.get $x)))
    (local.set $a (f64x2.mul (local.get $a) (local.get $a)))
    (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a))))

  ;; Pinned v128 locals live across calls, in a loop.
  (func (export "across_calls") (param $n i32) (result v128)
    (local $acc v128) (local $step v128) (local $i i32) (local $d f64)
    (local.set $acc (v128.const i32x4 5 6 7 8))
    (local.set $step (i32x4.splat (i32.or (local.get $n) (i32.const 1))))
    (local.set $n (i32.and (local.get $n) (i32.const 63)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $d (call $clobber (f64.convert_i32_u (local.get $i))))
        (local.set $acc (i32x4.add (local.get $acc) (local.get $step)))
        (local.set $acc (i32x4.replace_lane 3 (local.get $acc) (i32.trunc_sat_f64_u (local.get $d))))
        (local.set $step (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3 (local.get $step) (local.get $acc)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $acc))

  ;; v128 values carried by blocks, branches, selects, memory and globals.
  (func (export "control") (param $x i32) (result v128)
    (local $v v128)
    (local.set $v
      (block (result v128)
        (br_if 0 (i32x4.splat (local.get $x)) (i32.and (local.get $x) (i32.const 1)))
        (drop)
        (if (result v128) (i32.and (local.get $x) (i32.const 2))
          (then (v128.const i16x8 1 2 3 4 5 6 7 8))
          (else (i8x16.splat (local.get $x))))))
    (v128.store offset=16 (i32.const 0) (local.get $v))
    (global.set $g (select (local.get $v) (global.get $g) (i32.and (local.get $x) (i32.const 4))))
    (i32x4.add (v128.load offset=16 (i32.const 0)) (global.get $g)))

  ;; Every lane read back, from registers and pinned locals.
  (func (export "lanes") (param $x i32) (result i64)
    (local $v v128) (local $f v128)
    (local.set $v (i32x4.mul (i32x4.splat (local.get $x)) (v128.const i32x4 0x01010101 0x80808081 0x7f7f7f7f 0xfffe0003)))
    (local.set $f (f32x4.mul (f32x4.splat (f32.convert_i32_s (local.get $x))) (v128.const f32x4 0.5 -1.5 3 -0)))
    (i64.add
      (i64.add
        (i64.extend_i32_s (i8x16.extract_lane_s 5 (local.get $v)))
        (i64.extend_i32_u (i8x16.extract_lane_u 14 (local.get $v))))
      (i64.add
        (i64.add
          (i64.extend_i32_s (i16x8.extract_lane_s 3 (local.get $v)))
          (i64.extend_i32_u (i16x8.extract_lane_u 6 (local.get $v))))
        (i64.add
          (i64.add
            (i64.extend_i32_u (i32x4.extract_lane 2 (local.get $v)))
            (i64x2.extract_lane 1 (local.get $v)))
          (i64.add
            (i64.trunc_sat_f32_s (f32x4.extract_lane 1 (local.get $f)))
            (i64.trunc_sat_f64_s
              (f64x2.extract_lane 1 (f64x2.promote_low_f32x4
                (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $f) (local.get $f))))))))))
)

;; Loops that tier 2 versions (src/llvm/compiler/bounds_versioning.cpp): a
;; copy with plain, vectorisable accesses runs only when a check proves all
;; of the loop's accesses in bounds and written regions disjoint. Each export
;; is a case where the check must fail (so the trap, and the stores made
;; before it, match tier 0 exactly) or must pass (same results, faster).
;; Loops run at least 16 times: shorter ones skip the check altogether.
(module
  (memory (export "memory") 1 1)

  ;; c[i] = a[i] * 3 + c[i] with c running off the end at i = 10: the
  ;; first ten stores happen, then the trap.
  (func (export "runs_off_the_end") (result f64)
    (local $i i32) (local $a i32) (local $c i32)
    (local.set $a (i32.const 1024))
    (local.set $c (i32.const 65456))  ;; 65536 - 80
    (loop $l
      (f64.store (i32.add (local.get $c) (i32.shl (local.get $i) (i32.const 3)))
        (f64.add
          (f64.mul (f64.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 3)))) (f64.const 3))
          (f64.load (i32.add (local.get $c) (i32.shl (local.get $i) (i32.const 3))))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 20))))
    (f64.load (i32.const 65528)))

  ;; Addresses 240, 232, ..., 0, then -8 (0xfffffff8), with offset 64: the
  ;; 33-bit effective address of the 32nd store is out of bounds even
  ;; though address + offset computed in 64 bits after wrapping would not be.
  (func (export "address_wraps_below_zero") (result i32)
    (local $i i32) (local $p i32)
    (local.set $p (i32.const 240))
    (loop $l
      (i32.store offset=64 (local.get $p) (i32.add (i32.load offset=64 (local.get $p)) (local.get $i)))
      (local.set $p (i32.sub (local.get $p) (i32.const 8)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 40))))
    (i32.load (i32.const 64)))

  ;; dst = src + 8 with both read from memory (regions LLVM cannot tell
  ;; apart): the overlap check fails, the sequential result propagates.
  (func (export "overlapping_regions") (result f64)
    (local $i i32) (local $src i32) (local $dst i32)
    (i32.store (i32.const 0) (i32.const 4096))
    (i32.store (i32.const 4) (i32.const 4104))
    (f64.store (i32.const 4096) (f64.const 1.5))
    (local.set $src (i32.load (i32.const 0)))
    (local.set $dst (i32.load (i32.const 4)))
    (loop $l
      (f64.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3)))
        (f64.add (f64.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))) (f64.const 1)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 100))))
    (f64.load (i32.const 4896)))

  ;; A memset by bytes from an address read from memory, ending past the
  ;; memory: the bytes up to the end are written, then the trap.
  (func (export "byte_fill_off_the_end")
    (local $i i32) (local $p i32)
    (i32.store (i32.const 8) (i32.const 65500))
    (local.set $p (i32.load (i32.const 8)))
    (loop $l
      (i32.store8 (i32.add (local.get $p) (local.get $i)) (i32.const 171))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 100)))))

  ;; i += 4 until i == n, n - start not a multiple of 4: the loop never
  ;; meets n and runs off the end of memory. Counting it as (n - start) / 4
  ;; iterations would be wrong; the check tests the divisibility first.
  (func (export "never_meets_its_bound")
    (local $i i32) (local $n i32)
    (i32.store (i32.const 16) (i32.const 4002))
    (local.set $n (i32.load (i32.const 16)))
    (local.set $i (i32.const 4096))
    (loop $l
      (i32.store (local.get $i) (i32.add (i32.load offset=4 (local.get $i)) (i32.const 1)))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $n)))))

  ;; The same shape with n - start a multiple of 4 (both read from memory,
  ;; so only the check knows): the counted copy runs.
  (func (export "meets_its_bound") (result i32)
    (local $i i32) (local $n i32) (local $sum i32)
    (i32.store (i32.const 20) (i32.const 8192))
    (i32.store (i32.const 24) (i32.const 12192))
    (local.set $i (i32.load (i32.const 20)))
    (local.set $n (i32.load (i32.const 24)))
    (loop $l
      (i32.store (local.get $i) (i32.add (i32.load offset=8 (local.get $i)) (local.get $i)))
      (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $i))))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $n))))
    (local.get $sum))

  ;; A stride read from memory, negative here: in bounds, so the fast copy
  ;; runs; the sum must be the same.
  (func (export "variable_negative_stride") (result i32)
    (local $i i32) (local $p i32) (local $stride i32) (local $sum i32)
    (i32.store (i32.const 12) (i32.const -12))
    (local.set $stride (i32.load (i32.const 12)))
    (local.set $p (i32.const 30000))
    (loop $l
      (i32.store (local.get $p) (i32.add (local.get $i) (i32.const 7)))
      (local.set $sum (i32.add (local.get $sum) (i32.load offset=4 (local.get $p))))
      (local.set $p (i32.add (local.get $p) (local.get $stride)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 2000))))
    (local.get $sum))

  ;; Unrolled, as clang emits: stores at p + 16i + 0, 4, 8 (constants
  ;; inside the 32-bit address arithmetic) and at p + 16i with offset=64
  ;; (outside it). The check tests only the groups at the extremes (of the
  ;; constant inside, and of the whole); the offset=64 store is the highest
  ;; and alone leaves memory, at i = 16: the stores before it happen.
  (func (export "unrolled_off_the_end")
    (local $i i32) (local $p i32)
    (i32.store (i32.const 8) (i32.const 65220))
    (local.set $p (i32.load (i32.const 8)))
    (loop $l
      (i32.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 4))) (local.get $i))
      (i32.store (i32.add (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 4))) (i32.const 4)) (local.get $i))
      (i32.store (i32.add (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 4))) (i32.const 8)) (local.get $i))
      (i32.store offset=64 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 4))) (i32.const -1))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 20)))))

  ;; In bounds and vectorisable (an unrolled-by-two i32 loop, as clang
  ;; emits): the result must be the same.
  (func (export "unrolled_in_bounds") (result i32)
    (local $i i32) (local $sum i32)
    (loop $init
      (i32.store offset=8192 (i32.shl (local.get $i) (i32.const 2)) (i32.mul (local.get $i) (i32.const 2654435761)))
      (br_if $init (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 4096))))
    (local.set $i (i32.const 0))
    (loop $l
      (i32.store offset=32768 (i32.shl (local.get $i) (i32.const 2))
        (i32.xor (i32.load offset=8192 (i32.shl (local.get $i) (i32.const 2))) (i32.const 0x5a5a5a5a)))
      (i32.store offset=32772 (i32.shl (local.get $i) (i32.const 2))
        (i32.xor (i32.load offset=8196 (i32.shl (local.get $i) (i32.const 2))) (i32.const 0x5a5a5a5a)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 2))) (i32.const 4096))))
    (local.set $i (i32.const 0))
    (loop $sum
      (local.set $sum (i32.add (i32.rotl (local.get $sum) (i32.const 5))
                               (i32.load offset=32768 (i32.shl (local.get $i) (i32.const 2)))))
      (br_if $sum (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 4096))))
    (local.get $sum)))

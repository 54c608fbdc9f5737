;; On-stack replacement (--tier=auto): each function is called once and
;; spends its time in one loop, so its frame moves to machine code at that
;; loop's header. The shapes cover what the rewritten body must rebuild:
;; values on the stack below the loop, then- and else-arms, outer loops whose
;; code before the loop must run again, branches out of that code, block and
;; loop params and results, and f64/v128 values.
(module
  ;; Two values under the loop (1000 and 3), inside a then-arm and a block.
  (func $below (export "below") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    i32.const 1000
    local.get $n
    i32.const 0
    i32.gt_s
    if (result i32)
      i32.const 3
      block (result i32)
        loop $l
          local.get $acc
          local.get $i
          i32.const 0x55
          i32.xor
          i32.add
          local.set $acc
          local.get $i
          i32.const 1
          i32.add
          local.tee $i
          local.get $n
          i32.lt_u
          br_if $l
        end
        local.get $acc
      end
      i32.mul
    else
      i32.const -1
    end
    i32.add)

  ;; Three rounds of an inner loop in an else-arm; each round first runs the
  ;; code before the inner loop, which branches out of its block (br_if,
  ;; br_table) on conditions that never hold.
  (func $rounds (export "rounds") (param $n i32) (result i32)
    (local $round i32) (local $i i32) (local $acc i64)
    loop $next_round
      i32.const 0
      local.set $i
      local.get $acc
      i64.const 1000000
      i64.add
      local.set $acc
      local.get $n
      i32.eqz
      if
        i32.const -2
        return
      else
        block $skip
          local.get $round
          i32.const 100
          i32.gt_u
          br_if $skip
          block $inner
            local.get $i
            br_table $inner $skip $skip
          end
          loop $l
            local.get $acc
            local.get $i
            i64.extend_i32_u
            i64.add
            local.set $acc
            local.get $i
            i32.const 1
            i32.add
            local.tee $i
            local.get $n
            i32.lt_u
            br_if $l
          end
        end
      end
      local.get $round
      i32.const 1
      i32.add
      local.tee $round
      i32.const 3
      i32.lt_u
      br_if $next_round
    end
    local.get $acc
    local.get $acc
    i64.const 32
    i64.shr_u
    i64.xor
    i32.wrap_i64)

  ;; A block with a param and a loop with params and results, an f64 under
  ;; them, a v128 local.
  (func $multi (export "multi") (param $n i32) (result i32)
    (local $k i32) (local $t i32) (local $s f64) (local $v v128)
    v128.const i32x4 1 2 3 4
    local.set $v
    f64.const 0.5
    local.get $n
    block (param i32) (result f64)
      local.set $k
      i32.const 0
      f64.const 0
      loop $l (param i32 f64) (result i32 f64)
        local.set $s
        local.set $t
        local.get $v
        local.get $t
        i32x4.splat
        i32x4.add
        local.set $v
        local.get $t
        i32.const 1
        i32.add
        local.get $s
        local.get $v
        i32x4.extract_lane 2
        f64.convert_i32_u
        f64.add
        local.get $t
        i32.const 1
        i32.add
        local.get $k
        i32.lt_u
        br_if $l
      end
      local.set $s
      drop
      local.get $s
    end
    f64.add
    i64.trunc_sat_f64_u
    i32.wrap_i64)

  (func (export "all") (param $n i32) (result i32 i32 i32)
    (call $below (local.get $n))
    (call $rounds (i32.div_u (local.get $n) (i32.const 3)))
    (call $multi (local.get $n)))
)

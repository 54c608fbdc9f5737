;; --tier=auto: hot functions move to machine code while the program runs
;; (see the tier-up block of run-cli-tests.sh).
(module
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  ;; (3i + 1) / (limit - i): divides by zero at i == limit.
  (func $check (param $i i32) (param $limit i32) (result i32)
    (i32.div_u (i32.add (i32.mul (local.get $i) (i32.const 3)) (i32.const 1))
               (i32.sub (local.get $limit) (local.get $i))))
  ;; The sum of check(i, limit) for i in [0, n): one long interpreted frame
  ;; calling check, which turns hot and is compiled meanwhile.
  (func $sum_until (export "sum_until") (param $n i32) (param $limit i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (call $check (local.get $i) (local.get $limit))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))
)

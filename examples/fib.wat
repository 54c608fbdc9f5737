;; The bundled example: `make run` compiles this with wat2wasm and runs it.
(module
  ;; Naive recursion: fib(30) makes 2.7 million calls.
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else
        (i32.add
          (call $fib (i32.sub (local.get $n) (i32.const 1)))
          (call $fib (i32.sub (local.get $n) (i32.const 2)))))))

  ;; The average of 1..n: traps on n = 0
  ;; (integer divide by zero), to show a trap with its wasm backtrace.
  (func $sum_to (param $n i32) (result i32)
    (i32.div_u (i32.mul (local.get $n) (i32.add (local.get $n) (i32.const 1))) (i32.const 2)))
  (func $divide (param $a i32) (param $b i32) (result i32)
    (i32.div_u (local.get $a) (local.get $b)))
  (func $average (export "average") (param $n i32) (result i32)
    (call $divide (call $sum_to (local.get $n)) (local.get $n)))
)

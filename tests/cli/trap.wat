;; A trap three frames deep, with names for the backtrace (wat2wasm --debug-names).
(module
  (func $innermost (param i32) (result i32)
    (i32.div_s (i32.const 1) (local.get 0)))
  (func $middle (param i32) (result i32)
    (call $innermost (local.get 0)))
  (func $entry (export "entry") (param i32) (result i32)
    (call $middle (local.get 0)))
  (func $boom (export "boom")
    unreachable)
  (func $recurse (export "recurse") (param i32) (result i32)
    (call $recurse (i32.add (local.get 0) (i32.const 1))))
)

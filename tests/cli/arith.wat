;; Exports with every scalar type, for `skiff run --invoke`.
(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "add64") (param i64 i64) (result i64)
    (i64.add (local.get 0) (local.get 1)))
  (func (export "addf") (param f32 f32) (result f32)
    (f32.add (local.get 0) (local.get 1)))
  (func (export "div") (param f64 f64) (result f64)
    (f64.div (local.get 0) (local.get 1)))
  ;; multi-value: results print one per line, in order
  (func (export "swap") (param i32 i64) (result i64 i32)
    (local.get 1) (local.get 0))
  (func (export "nothing"))
  (memory (export "mem") 1)
  (global (export "answer") i32 (i32.const 42))
)

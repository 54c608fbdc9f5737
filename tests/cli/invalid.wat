;; Well-formed but invalid: built with wat2wasm --no-check.
(module
  (func (result i32) (i64.const 0))
)

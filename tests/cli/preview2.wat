;; A WASI 0.2 (component model) import: not WASI preview 1.
(module
  (import "wasi:cli/environment@0.2.0" "get-arguments" (func (param i32)))
  (func (export "_start"))
)

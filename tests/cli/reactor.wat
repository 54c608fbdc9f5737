;; A WASI reactor: `_initialize` must run before --invoke calls an export,
;; and WASI is linked in for it too.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $ready (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $ready (i32.const 40)))
  ;; 40 + 1 when initialized, argc being 1 (the module name) under --invoke
  (func (export "answer") (result i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (i32.add (global.get $ready) (i32.load (i32.const 0))))
)

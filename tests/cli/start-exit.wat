;; A start section that calls WASI proc_exit: skiff exits with that code.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (func $init (call $proc_exit (i32.const 9)))
  (start $init)
)

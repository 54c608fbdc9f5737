;; `skiff run` without --invoke calls `_start` after the start function.
(module
  (global $g (mut i32) (i32.const 0))
  (func $init (global.set $g (i32.const 1)))
  (start $init)
  (func (export "_start")
    (if (i32.ne (global.get $g) (i32.const 1)) (then unreachable)))
)

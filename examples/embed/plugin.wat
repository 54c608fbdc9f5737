;; A plug-in for plugin_host.cpp: it logs through the host's env.log and
;; has a few exports that misbehave on purpose.
(module
  (import "env" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from the plug-in")

  ;; run(n): logs a greeting, returns n * n
  (func (export "run") (param $n i32) (result i32)
    (call $log (i32.const 16) (i32.const 22))
    (i32.mul (local.get $n) (local.get $n)))

  ;; hands the host a pointer far outside its memory
  (func (export "bad_pointer")
    (call $log (i32.const -16) (i32.const 100)))

  (func (export "crash") unreachable)

  (func $forever (export "recurse_forever") (call $forever))

  ;; grows memory one page at a time until memory.grow says no; returns the pages
  (func (export "grow_until_refused") (result i32)
    (block $done
      (loop $more
        (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (br $more)))
    (memory.size)))

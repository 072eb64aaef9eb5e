;; Calls wasi-nn `load` without exporting any memory: the host cannot read the builders and
;; must answer missing_memory (3) instead of trapping. (WASI calls such as proc_exit need the
;; memory export too, so the guest reports by returning normally for 3 and trapping otherwise.)
(module
  (import "wasi_ephemeral_nn" "load" (func $load (param i32 i32 i32 i32 i32) (result i32)))
  (func (export "_start")
    (if (i32.ne (call $load (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0)
                            (i32.const 0))
                (i32.const 3))
      (then unreachable))))

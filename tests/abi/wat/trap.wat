;; Prints a line, then hits `unreachable`: the run must report a trap, not raise.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x10) "\20\00\00\00\0e\00\00\00")  ;; iovec {ptr 0x20, len 14}
  (data (i32.const 0x20) "about to trap\n")
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 0x10) (i32.const 1) (i32.const 0x08)))
    unreachable))

;; Writes to stdout and stderr with fd_write, then exits with status 3 via proc_exit.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x10) "\40\00\00\00\15\00\00\00")  ;; iovec {ptr 0x40, len 21}
  (data (i32.const 0x18) "\60\00\00\00\0c\00\00\00")  ;; iovec {ptr 0x60, len 12}
  (data (i32.const 0x40) "hello from the guest\n")
  (data (i32.const 0x60) "bye, stderr\n")
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 0x10) (i32.const 1) (i32.const 0x08)))
    (drop (call $fd_write (i32.const 2) (i32.const 0x18) (i32.const 1) (i32.const 0x08)))
    (call $proc_exit (i32.const 3))
    unreachable))

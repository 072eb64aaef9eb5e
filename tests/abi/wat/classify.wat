;; The whole wasi-nn happy path, written the way a Rust or C guest would do it, checking every
;; result itself: it exits with the step number whose errno was not 0, 100+step for a wrong
;; handle or byte count, 200+output for wrong output bytes, or 0 when everything matched.
;;
;; Model: one builder "FAKE" (ONNX, CPU). Input 0: f32 [1, 4] = [1.5, -2, 7.25, 0].
;; The fake backend doubles it (output 0, f32) and takes the argmax (output 1, one i64).
(module
  (import "wasi_ephemeral_nn" "load" (func $load (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "init_execution_context"
    (func $init_execution_context (param i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "set_input" (func $set_input (param i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "compute" (func $compute (param i32) (result i32)))
  (import "wasi_ephemeral_nn" "get_output"
    (func $get_output (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "finalize_execution_context"
    (func $finalize_execution_context (param i32) (result i32)))
  (import "wasi_ephemeral_nn" "unload" (func $unload (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)

  ;; 0x00 graph handle, 0x04 context handle, 0x08 bytes written (host fills them in).
  ;; Prefill with 0xAA so "the host wrote 0" is distinguishable from "untouched".
  (data (i32.const 0x00) "\aa\aa\aa\aa\aa\aa\aa\aa\aa\aa\aa\aa")
  ;; graph_builder_array: one {ptr, len} pair -> the 4 model bytes at 0x200
  (data (i32.const 0x100) "\00\02\00\00\04\00\00\00")
  (data (i32.const 0x200) "FAKE")
  ;; tensor record: dims_ptr 0x340, dims_len 2, type 1 (f32) + 3 pad, data_ptr 0x400, len 16
  (data (i32.const 0x300)
    "\40\03\00\00" "\02\00\00\00" "\01\00\00\00" "\00\04\00\00" "\10\00\00\00")
  (data (i32.const 0x340) "\01\00\00\00" "\04\00\00\00")
  ;; f32 1.5, -2.0, 7.25, 0.0
  (data (i32.const 0x400) "\00\00\c0\3f" "\00\00\00\c0" "\00\00\e8\40" "\00\00\00\00")
  ;; expected output 0: f32 3.0, -4.0, 14.5, 0.0; expected output 1: i64 2
  (data (i32.const 0x500) "\00\00\40\40" "\00\00\80\c0" "\00\00\68\41" "\00\00\00\00")
  (data (i32.const 0x520) "\02\00\00\00\00\00\00\00")

  ;; exit with $code unless $errno is 0
  (func $ok (param $errno i32) (param $code i32)
    (if (local.get $errno) (then (call $proc_exit (local.get $code)))))
  ;; exit with $code unless the u32 at $ptr equals $want
  (func $expect (param $ptr i32) (param $want i32) (param $code i32)
    (if (i32.ne (i32.load (local.get $ptr)) (local.get $want))
      (then (call $proc_exit (local.get $code)))))
  ;; exit with $code unless $n bytes at $a and $b are equal
  (func $same (param $a i32) (param $b i32) (param $n i32) (param $code i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.ne (i32.load8_u (i32.add (local.get $a) (local.get $i)))
                    (i32.load8_u (i32.add (local.get $b) (local.get $i))))
          (then (call $proc_exit (local.get $code))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  (func (export "_start")
    ;; 1. load(builders, 1 builder, encoding onnx=1, target cpu=0, &graph); first handle is 0
    (call $ok (call $load (i32.const 0x100) (i32.const 1) (i32.const 1) (i32.const 0)
                          (i32.const 0x00)) (i32.const 1))
    (call $expect (i32.const 0x00) (i32.const 0) (i32.const 101))
    ;; 2. init_execution_context(graph, &ctx); first handle is 0
    (call $ok (call $init_execution_context (i32.load (i32.const 0x00)) (i32.const 0x04))
              (i32.const 2))
    (call $expect (i32.const 0x04) (i32.const 0) (i32.const 102))
    ;; 3. set_input(ctx, 0, &tensor)
    (call $ok (call $set_input (i32.load (i32.const 0x04)) (i32.const 0) (i32.const 0x300))
              (i32.const 3))
    ;; 4. compute(ctx)
    (call $ok (call $compute (i32.load (i32.const 0x04))) (i32.const 4))
    ;; 5. get_output(ctx, 0, buf 0x800, max 64, &written): 16 bytes
    (call $ok (call $get_output (i32.load (i32.const 0x04)) (i32.const 0) (i32.const 0x800)
                                (i32.const 64) (i32.const 0x08)) (i32.const 5))
    (call $expect (i32.const 0x08) (i32.const 16) (i32.const 105))
    (call $same (i32.const 0x800) (i32.const 0x500) (i32.const 16) (i32.const 200))
    ;; 6. get_output(ctx, 1, buf 0x900, max 64, &written): 8 bytes
    (call $ok (call $get_output (i32.load (i32.const 0x04)) (i32.const 1) (i32.const 0x900)
                                (i32.const 64) (i32.const 0x08)) (i32.const 6))
    (call $expect (i32.const 0x08) (i32.const 8) (i32.const 106))
    (call $same (i32.const 0x900) (i32.const 0x520) (i32.const 8) (i32.const 201))
    ;; 7. finalize_execution_context(ctx), 8. unload(graph)
    (call $ok (call $finalize_execution_context (i32.load (i32.const 0x04))) (i32.const 7))
    (call $ok (call $unload (i32.load (i32.const 0x00))) (i32.const 8))))

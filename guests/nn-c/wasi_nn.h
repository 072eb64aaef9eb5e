/*
 * wasi_nn.h: the wasi_ephemeral_nn (witx) imports for C guests, written for wasinn-nb.
 *
 * Build with Debian's clang and wasi-libc:
 *     clang --target=wasm32-wasi -O2 -I guests/nn-c -o guest.wasm guest.c
 * (`%%wasinn build --lang c` and `wasinn build guest.c` add the -I for you.)
 *
 * Every import takes i32 values and returns an errno (WASI_NN_SUCCESS is 0); results
 * other than the errno are written through out-pointers. See docs/wasi-nn-abi.md.
 */
#ifndef WASINN_NB_WASI_NN_H
#define WASINN_NB_WASI_NN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* nn_errno (2023 witx), plus WasmEdge's extensions. */
typedef uint32_t wasi_nn_errno;
enum {
    WASI_NN_SUCCESS = 0,
    WASI_NN_INVALID_ARGUMENT = 1,
    WASI_NN_INVALID_ENCODING = 2,
    WASI_NN_MISSING_MEMORY = 3,
    WASI_NN_BUSY = 4,
    WASI_NN_RUNTIME_ERROR = 5,
    WASI_NN_UNSUPPORTED_OPERATION = 6,
    WASI_NN_TOO_LARGE = 7,
    WASI_NN_NOT_FOUND = 8,
    WASI_NN_END_OF_SEQUENCE = 100,
    WASI_NN_CONTEXT_FULL = 101,
    WASI_NN_PROMPT_TOO_LONG = 102,
    WASI_NN_MODEL_NOT_FOUND = 103,
};

/* graph_encoding */
typedef uint32_t wasi_nn_encoding;
enum {
    WASI_NN_ENCODING_OPENVINO = 0,
    WASI_NN_ENCODING_ONNX = 1,
    WASI_NN_ENCODING_TENSORFLOW = 2,
    WASI_NN_ENCODING_PYTORCH = 3,
    WASI_NN_ENCODING_TENSORFLOWLITE = 4,
    WASI_NN_ENCODING_AUTODETECT = 5,
};

/* execution_target */
typedef uint32_t wasi_nn_target;
enum {
    WASI_NN_TARGET_CPU = 0,
    WASI_NN_TARGET_GPU = 1,
    WASI_NN_TARGET_TPU = 2,
    WASI_NN_TARGET_AUTO = 3,
};

/*
 * tensor_type: the numbering changed in August 2023 and the ABI carries no version, so pick
 * one. F16 (0) and F32 (1) are the same in both.
 *   current (witx since 2023-08, Rust wasi-nn crate >= 0.6): F16 0, F32 1, F64 2, U8 3, I32 4, I64 5
 *   legacy  (witx before,        Rust wasi-nn crate <= 0.5): F16 0, F32 1, U8 2, I32 3
 */
typedef uint32_t wasi_nn_type;
enum {
    WASI_NN_TYPE_F16 = 0,
    WASI_NN_TYPE_F32 = 1,
    WASI_NN_TYPE_F64 = 2,
    WASI_NN_TYPE_U8 = 3,
    WASI_NN_TYPE_I32 = 4,
    WASI_NN_TYPE_I64 = 5,
    WASI_NN_TYPE_LEGACY_U8 = 2,
    WASI_NN_TYPE_LEGACY_I32 = 3,
};

typedef uint32_t wasi_nn_graph;
typedef uint32_t wasi_nn_context;

/* One entry of a graph_builder_array: 8 bytes. OpenVINO takes two (XML, then weights). */
typedef struct {
    const uint8_t *data;
    uint32_t len;
} wasi_nn_graph_builder;

/* The tensor record set_input reads: 20 bytes, align 4. The host reads one byte of `type`;
 * keeping it a full u32 keeps the padding zero. */
typedef struct {
    const uint32_t *dims;
    uint32_t dims_len;
    wasi_nn_type type;
    const uint8_t *data;
    uint32_t data_len; /* bytes */
} wasi_nn_tensor;

_Static_assert(sizeof(wasi_nn_graph_builder) == 8, "graph_builder is {ptr, len}");
_Static_assert(sizeof(wasi_nn_tensor) == 20, "tensor is 20 bytes");

#define WASI_NN_IMPORT(name) \
    __attribute__((import_module("wasi_ephemeral_nn"), import_name(name)))

/* load(builder_ptr, builder_len, encoding, target, graph_out) */
WASI_NN_IMPORT("load")
wasi_nn_errno wasi_nn_load(const wasi_nn_graph_builder *builders, uint32_t builders_len,
                           wasi_nn_encoding encoding, wasi_nn_target target,
                           wasi_nn_graph *graph_out);

/* load_by_name(name_ptr, name_len, graph_out): a model the host preloaded (--nn-preload) */
WASI_NN_IMPORT("load_by_name")
wasi_nn_errno wasi_nn_load_by_name(const char *name, uint32_t name_len, wasi_nn_graph *graph_out);

/* init_execution_context(graph, context_out) */
WASI_NN_IMPORT("init_execution_context")
wasi_nn_errno wasi_nn_init_execution_context(wasi_nn_graph graph, wasi_nn_context *context_out);

/* set_input(context, index, tensor) */
WASI_NN_IMPORT("set_input")
wasi_nn_errno wasi_nn_set_input(wasi_nn_context context, uint32_t index,
                                const wasi_nn_tensor *tensor);

/* compute(context) */
WASI_NN_IMPORT("compute")
wasi_nn_errno wasi_nn_compute(wasi_nn_context context);

/* get_output(context, index, buffer, buffer_len, bytes_written_out): on WASI_NN_TOO_LARGE
 * wasinn's host (as WasmEdge's) writes the size it needs to *bytes_written_out. */
WASI_NN_IMPORT("get_output")
wasi_nn_errno wasi_nn_get_output(wasi_nn_context context, uint32_t index, uint8_t *buffer,
                                 uint32_t buffer_len, uint32_t *bytes_written_out);

#undef WASI_NN_IMPORT

#ifdef __cplusplus
}
#endif

#endif /* WASINN_NB_WASI_NN_H */

//! Raw imports of the `wasi_ephemeral_nn` module (the witx ABI).
//!
//! Every function takes only i32 values and returns an errno (0 = success).
//! Results other than the errno are written by the host through out-pointers.

/// One entry of a `graph_builder_array`: `{ptr u32, len u32}`, 8 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct GraphBuilder {
    pub ptr: *const u8,
    pub len: u32,
}

/// The `tensor` record passed by pointer to `set_input`: 20 bytes, align 4.
///
/// The witx type at offset 8 is a single byte; it is stored here as a full
/// u32 so that the three padding bytes are always zero.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Tensor {
    pub dims_ptr: *const u32,
    pub dims_len: u32,
    pub tensor_type: u32,
    pub data_ptr: *const u8,
    pub data_len: u32,
}

#[link(wasm_import_module = "wasi_ephemeral_nn")]
extern "C" {
    /// `load(builder_ptr, builder_len, encoding, target, graph_out) -> errno`
    pub fn load(
        builders: *const GraphBuilder,
        builders_len: u32,
        encoding: u32,
        target: u32,
        graph_out: *mut u32,
    ) -> u32;

    /// `load_by_name(name_ptr, name_len, graph_out) -> errno`
    pub fn load_by_name(name: *const u8, name_len: u32, graph_out: *mut u32) -> u32;

    /// `init_execution_context(graph, ctx_out) -> errno`
    pub fn init_execution_context(graph: u32, ctx_out: *mut u32) -> u32;

    /// `set_input(ctx, index, tensor_ptr) -> errno`
    pub fn set_input(ctx: u32, index: u32, tensor: *const Tensor) -> u32;

    /// `compute(ctx) -> errno`
    pub fn compute(ctx: u32) -> u32;

    /// `get_output(ctx, index, buf, buf_max_len, bytes_written_out) -> errno`
    pub fn get_output(
        ctx: u32,
        index: u32,
        buf: *mut u8,
        buf_max_len: u32,
        bytes_written_out: *mut u32,
    ) -> u32;
}

//! Hand-written canonical-ABI imports: `wasi:nn` 0.2.0-rc-2024-10-28 and a few WASI 0.2.0
//! functions. Results that do not fit one core value come back through a return area the
//! caller passes (`ret`), laid out as the canonical ABI says (see each function).

/// A return area: big enough and 8-aligned for every result used here.
#[repr(C, align(8))]
pub struct Ret(pub [u8; 16]);

impl Ret {
    pub fn new() -> Ret {
        Ret([0; 16])
    }
    pub fn ptr(&mut self) -> *mut u8 {
        self.0.as_mut_ptr()
    }
    pub fn u8_at(&self, at: usize) -> u8 {
        self.0[at]
    }
    pub fn u32_at(&self, at: usize) -> u32 {
        u32::from_le_bytes([self.0[at], self.0[at + 1], self.0[at + 2], self.0[at + 3]])
    }
}

/// `tuple<string, own<tensor>>`: string pointer and length, then the handle (12 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct NamedTensor {
    pub name_ptr: *const u8,
    pub name_len: u32,
    pub tensor: u32,
}

/// `list<u8>` as the guest passes it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Bytes {
    pub ptr: *const u8,
    pub len: u32,
}

#[link(wasm_import_module = "wasi:nn/tensor@0.2.0-rc-2024-10-28")]
extern "C" {
    /// `constructor(dimensions: list<u32>, ty: tensor-type, data: list<u8>) -> tensor`
    #[link_name = "[constructor]tensor"]
    pub fn tensor_new(dims: *const u32, dims_len: u32, ty: u32, data: *const u8, len: u32) -> u32;
    /// `ty: func() -> tensor-type`
    #[link_name = "[method]tensor.ty"]
    pub fn tensor_ty(tensor: u32) -> u32;
    /// `data: func() -> list<u8>`: ret = (ptr u32 @0, len u32 @4)
    #[link_name = "[method]tensor.data"]
    pub fn tensor_data(tensor: u32, ret: *mut u8);
    #[link_name = "[resource-drop]tensor"]
    pub fn tensor_drop(tensor: u32);
}

#[link(wasm_import_module = "wasi:nn/graph@0.2.0-rc-2024-10-28")]
extern "C" {
    /// `load(builder: list<list<u8>>, encoding, target) -> result<graph, error>`:
    /// ret = (tag u8 @0, handle u32 @4)
    #[link_name = "load"]
    pub fn load(builders: *const Bytes, count: u32, encoding: u32, target: u32, ret: *mut u8);
    /// `load-by-name(name: string) -> result<graph, error>`: ret as for `load`
    #[link_name = "load-by-name"]
    pub fn load_by_name(name: *const u8, len: u32, ret: *mut u8);
    /// `[method]graph.init-execution-context() -> result<graph-execution-context, error>`
    #[link_name = "[method]graph.init-execution-context"]
    pub fn init_execution_context(graph: u32, ret: *mut u8);
}

#[link(wasm_import_module = "wasi:nn/inference@0.2.0-rc-2024-10-28")]
extern "C" {
    /// `compute(inputs: list<named-tensor>) -> result<list<named-tensor>, error>`:
    /// ret = (tag u8 @0, then list ptr @4 and len @8, or the error handle @4)
    #[link_name = "[method]graph-execution-context.compute"]
    pub fn compute(ctx: u32, inputs: *const NamedTensor, count: u32, ret: *mut u8);
}

#[link(wasm_import_module = "wasi:nn/errors@0.2.0-rc-2024-10-28")]
extern "C" {
    #[link_name = "[method]error.code"]
    pub fn error_code(error: u32) -> u32;
    /// `data: func() -> string`: ret = (ptr @0, len @4)
    #[link_name = "[method]error.data"]
    pub fn error_data(error: u32, ret: *mut u8);
    #[link_name = "[resource-drop]error"]
    pub fn error_drop(error: u32);
}

#[link(wasm_import_module = "wasi:cli/environment@0.2.0")]
extern "C" {
    /// `get-arguments: func() -> list<string>`: ret = (ptr @0, len @4) of (ptr, len) pairs
    #[link_name = "get-arguments"]
    pub fn get_arguments(ret: *mut u8);
}

#[link(wasm_import_module = "wasi:cli/stdout@0.2.0")]
extern "C" {
    #[link_name = "get-stdout"]
    pub fn get_stdout() -> u32;
}

#[link(wasm_import_module = "wasi:cli/stderr@0.2.0")]
extern "C" {
    #[link_name = "get-stderr"]
    pub fn get_stderr() -> u32;
}

#[link(wasm_import_module = "wasi:io/streams@0.2.0")]
extern "C" {
    /// `blocking-write-and-flush(contents: list<u8>) -> result<_, stream-error>`:
    /// ret = (tag u8 @0, stream-error tag u8 @4, error handle @8)
    #[link_name = "[method]output-stream.blocking-write-and-flush"]
    pub fn write_and_flush(stream: u32, data: *const u8, len: u32, ret: *mut u8);
}

#[link(wasm_import_module = "wasi:filesystem/preopens@0.2.0")]
extern "C" {
    /// `get-directories: func() -> list<tuple<descriptor, string>>`: ret = (ptr @0, len @4)
    /// of 12-byte (handle, string ptr, string len) entries
    #[link_name = "get-directories"]
    pub fn get_directories(ret: *mut u8);
}

#[link(wasm_import_module = "wasi:filesystem/types@0.2.0")]
extern "C" {
    /// `open-at(path-flags, path, open-flags, flags) -> result<descriptor, error-code>`:
    /// ret = (tag u8 @0, handle u32 or error-code u8 @4)
    #[link_name = "[method]descriptor.open-at"]
    pub fn open_at(
        dir: u32,
        path_flags: u32,
        path: *const u8,
        path_len: u32,
        open_flags: u32,
        flags: u32,
        ret: *mut u8,
    );
    /// `read(length, offset) -> result<tuple<list<u8>, bool>, error-code>`:
    /// ret = (tag u8 @0, list ptr @4, len @8, end-of-file u8 @12; or error-code u8 @4)
    #[link_name = "[method]descriptor.read"]
    pub fn read(file: u32, length: u64, offset: u64, ret: *mut u8);
    #[link_name = "[resource-drop]descriptor"]
    pub fn descriptor_drop(file: u32);
}

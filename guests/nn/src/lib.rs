//! A small, hand-written binding for the `wasi_ephemeral_nn` (witx) ABI.
//!
//! * [`raw`] has the extern declarations, one per host import.
//! * [`Graph`] and [`Context`] are thin safe wrappers around them.
//! * [`TensorType`] knows both tensor-type numberings, and the caller must pick one:
//!   [`Numbering::Legacy`] (witx before Aug 2023, `wasi-nn` crate <= 0.5:
//!   F16 0, F32 1, U8 2, I32 3) or [`Numbering::Current`] (`wasi-nn` crate >= 0.6:
//!   F16 0, F32 1, F64 2, U8 3, I32 4, I64 5).
//! * [`tensor_name`] parses dims and element types out of tensor file names.

use std::fmt;

pub mod raw;
pub mod tensor_name;

/// `nn_errno` values (2023 witx), plus WasmEdge's extensions.
pub mod errno {
    pub const SUCCESS: u32 = 0;
    pub const INVALID_ARGUMENT: u32 = 1;
    pub const INVALID_ENCODING: u32 = 2;
    pub const MISSING_MEMORY: u32 = 3;
    pub const BUSY: u32 = 4;
    pub const RUNTIME_ERROR: u32 = 5;
    pub const UNSUPPORTED_OPERATION: u32 = 6;
    pub const TOO_LARGE: u32 = 7;
    pub const NOT_FOUND: u32 = 8;
    pub const END_OF_SEQUENCE: u32 = 100;
    pub const CONTEXT_FULL: u32 = 101;
    pub const PROMPT_TOO_LONG: u32 = 102;
    pub const MODEL_NOT_FOUND: u32 = 103;

    /// The witx name of an errno value, or "unknown".
    pub fn name(errno: u32) -> &'static str {
        match errno {
            SUCCESS => "success",
            INVALID_ARGUMENT => "invalid_argument",
            INVALID_ENCODING => "invalid_encoding",
            MISSING_MEMORY => "missing_memory",
            BUSY => "busy",
            RUNTIME_ERROR => "runtime_error",
            UNSUPPORTED_OPERATION => "unsupported_operation",
            TOO_LARGE => "too_large",
            NOT_FOUND => "not_found",
            END_OF_SEQUENCE => "end_of_sequence",
            CONTEXT_FULL => "context_full",
            PROMPT_TOO_LONG => "prompt_too_long",
            MODEL_NOT_FOUND => "model_not_found",
            _ => "unknown",
        }
    }
}

/// A failed wasi-nn call: which import failed and the errno the host returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The import that failed, e.g. `"set_input"`.
    pub call: &'static str,
    /// The errno returned by the host.
    pub errno: u32,
    /// For `get_output` failing with `too_large`: the size the host wrote to
    /// `bytes_written` (WasmEdge's convention), if it wrote one larger than the buffer.
    pub required: Option<usize>,
}

impl Error {
    fn new(call: &'static str, errno: u32) -> Error {
        Error {
            call,
            errno,
            required: None,
        }
    }

    /// The witx name of the errno, e.g. `"too_large"`.
    pub fn name(&self) -> &'static str {
        errno::name(self.errno)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wasi-nn {} failed: {} (errno {})",
            self.call,
            self.name(),
            self.errno
        )
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn check(call: &'static str, rc: u32) -> Result<()> {
    // The witx errno is a u16; ignore whatever a host leaves in the upper bits.
    match rc & 0xffff {
        0 => Ok(()),
        e => Err(Error::new(call, e)),
    }
}

/// `graph_encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    OpenVino = 0,
    Onnx = 1,
    TensorFlow = 2,
    PyTorch = 3,
    TensorFlowLite = 4,
    Autodetect = 5,
}

impl Encoding {
    /// Parses a case-insensitive encoding name (`openvino`, `onnx`, `tensorflow`,
    /// `pytorch`, `tensorflowlite`/`tflite`, `autodetect`).
    pub fn parse(s: &str) -> Option<Encoding> {
        let e = match s.to_ascii_lowercase().as_str() {
            "openvino" => Encoding::OpenVino,
            "onnx" => Encoding::Onnx,
            "tensorflow" | "tf" => Encoding::TensorFlow,
            "pytorch" | "torch" => Encoding::PyTorch,
            "tensorflowlite" | "tflite" => Encoding::TensorFlowLite,
            "autodetect" | "auto" => Encoding::Autodetect,
            _ => return None,
        };
        Some(e)
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::OpenVino => "openvino",
            Encoding::Onnx => "onnx",
            Encoding::TensorFlow => "tensorflow",
            Encoding::PyTorch => "pytorch",
            Encoding::TensorFlowLite => "tensorflowlite",
            Encoding::Autodetect => "autodetect",
        }
    }
}

/// `execution_target`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Cpu = 0,
    Gpu = 1,
    Tpu = 2,
    Auto = 3,
}

impl Target {
    pub fn parse(s: &str) -> Option<Target> {
        let t = match s.to_ascii_lowercase().as_str() {
            "cpu" => Target::Cpu,
            "gpu" => Target::Gpu,
            "tpu" => Target::Tpu,
            "auto" => Target::Auto,
            _ => return None,
        };
        Some(t)
    }
}

/// Which `tensor_type` numbering the guest speaks. The ABI carries no version,
/// so the host has to guess; each guest chooses one explicitly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Numbering {
    /// "A": witx before 2023-08, `wasi-nn` crate <= 0.5: F16 0, F32 1, U8 2, I32 3.
    Legacy,
    /// "B": witx since 2023-08, `wasi-nn` crate >= 0.6: F16 0, F32 1, F64 2, U8 3, I32 4, I64 5.
    Current,
}

/// An element type, independent of numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorType {
    F16,
    F32,
    F64,
    U8,
    I32,
    I64,
}

/// Numbering A constants.
pub mod legacy {
    pub const F16: u8 = 0;
    pub const F32: u8 = 1;
    pub const U8: u8 = 2;
    pub const I32: u8 = 3;
}

/// Numbering B constants.
pub mod current {
    pub const F16: u8 = 0;
    pub const F32: u8 = 1;
    pub const F64: u8 = 2;
    pub const U8: u8 = 3;
    pub const I32: u8 = 4;
    pub const I64: u8 = 5;
}

impl TensorType {
    /// The wire value in the given numbering, or `None` if that numbering
    /// has no such type (F64 and I64 do not exist in the legacy numbering).
    pub fn encode(self, numbering: Numbering) -> Option<u8> {
        match numbering {
            Numbering::Legacy => match self {
                TensorType::F16 => Some(legacy::F16),
                TensorType::F32 => Some(legacy::F32),
                TensorType::U8 => Some(legacy::U8),
                TensorType::I32 => Some(legacy::I32),
                TensorType::F64 | TensorType::I64 => None,
            },
            Numbering::Current => Some(match self {
                TensorType::F16 => current::F16,
                TensorType::F32 => current::F32,
                TensorType::F64 => current::F64,
                TensorType::U8 => current::U8,
                TensorType::I32 => current::I32,
                TensorType::I64 => current::I64,
            }),
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            TensorType::U8 => 1,
            TensorType::F16 => 2,
            TensorType::F32 | TensorType::I32 => 4,
            TensorType::F64 | TensorType::I64 => 8,
        }
    }

    /// Parses `f16`/`fp16`, `f32`/`fp32`, `f64`/`fp64`, `u8`, `i32`, `i64`
    /// (case-insensitive).
    pub fn parse(s: &str) -> Option<TensorType> {
        let t = match s.to_ascii_lowercase().as_str() {
            "f16" | "fp16" => TensorType::F16,
            "f32" | "fp32" => TensorType::F32,
            "f64" | "fp64" => TensorType::F64,
            "u8" => TensorType::U8,
            "i32" => TensorType::I32,
            "i64" => TensorType::I64,
            _ => return None,
        };
        Some(t)
    }

    pub fn name(self) -> &'static str {
        match self {
            TensorType::F16 => "f16",
            TensorType::F32 => "f32",
            TensorType::F64 => "f64",
            TensorType::U8 => "u8",
            TensorType::I32 => "i32",
            TensorType::I64 => "i64",
        }
    }
}

/// A loaded graph (an opaque host handle).
#[derive(Debug)]
pub struct Graph(u32);

impl Graph {
    /// `load`: builds a graph from one or more builders (OpenVINO: xml, then weights).
    pub fn load(builders: &[&[u8]], encoding: Encoding, target: Target) -> Result<Graph> {
        let array: Vec<raw::GraphBuilder> = builders
            .iter()
            .map(|b| raw::GraphBuilder {
                ptr: b.as_ptr(),
                len: b.len() as u32,
            })
            .collect();
        let mut handle = 0u32;
        let rc = unsafe {
            raw::load(
                array.as_ptr(),
                array.len() as u32,
                encoding as u32,
                target as u32,
                &mut handle,
            )
        };
        check("load", rc)?;
        Ok(Graph(handle))
    }

    /// `load_by_name`: asks the host for a model it has preloaded under `name`.
    pub fn load_by_name(name: &str) -> Result<Graph> {
        let mut handle = 0u32;
        let rc = unsafe { raw::load_by_name(name.as_ptr(), name.len() as u32, &mut handle) };
        check("load_by_name", rc)?;
        Ok(Graph(handle))
    }

    /// The host's handle for this graph.
    pub fn id(&self) -> u32 {
        self.0
    }

    /// `init_execution_context`.
    pub fn init_execution_context(&self) -> Result<Context> {
        let mut handle = 0u32;
        let rc = unsafe { raw::init_execution_context(self.0, &mut handle) };
        check("init_execution_context", rc)?;
        Ok(Context(handle))
    }
}

/// An execution context (an opaque host handle).
#[derive(Debug)]
pub struct Context(u32);

impl Context {
    /// The host's handle for this context.
    pub fn id(&self) -> u32 {
        self.0
    }

    /// `set_input`. `tensor_type` is the wire value: get it from
    /// [`TensorType::encode`] with the numbering this guest speaks.
    pub fn set_input(
        &mut self,
        index: u32,
        tensor_type: u8,
        dims: &[u32],
        data: &[u8],
    ) -> Result<()> {
        let tensor = raw::Tensor {
            dims_ptr: dims.as_ptr(),
            dims_len: dims.len() as u32,
            tensor_type: tensor_type as u32,
            data_ptr: data.as_ptr(),
            data_len: data.len() as u32,
        };
        let rc = unsafe { raw::set_input(self.0, index, &tensor) };
        check("set_input", rc)
    }

    /// `compute`.
    pub fn compute(&mut self) -> Result<()> {
        let rc = unsafe { raw::compute(self.0) };
        check("compute", rc)
    }

    /// `get_output` into `buf`; returns the number of bytes the host wrote.
    ///
    /// On `too_large`, the error's `required` holds the size the host wrote to
    /// `bytes_written`, if it wrote one larger than `buf`.
    pub fn get_output(&self, index: u32, buf: &mut [u8]) -> Result<usize> {
        let mut written = 0u32;
        let rc = unsafe {
            raw::get_output(
                self.0,
                index,
                buf.as_mut_ptr(),
                buf.len() as u32,
                &mut written,
            )
        };
        match check("get_output", rc) {
            Ok(()) if written as usize <= buf.len() => Ok(written as usize),
            // A host claiming to have written more than fits is broken.
            Ok(()) => Err(Error::new("get_output", errno::RUNTIME_ERROR)),
            Err(mut e) => {
                if e.errno == errno::TOO_LARGE && written as usize > buf.len() {
                    e.required = Some(written as usize);
                }
                Err(e)
            }
        }
    }

    /// Reads a whole output without knowing its size in advance.
    ///
    /// Starts with a `first`-byte buffer. On `too_large` it grows the buffer to
    /// the size the host reported in `bytes_written` (WasmEdge's probing
    /// convention) and retries; if the host reported nothing usable it doubles
    /// the buffer, up to `limit` bytes. Returns the output and how many calls
    /// were made.
    pub fn get_output_vec(&self, index: u32, first: usize, limit: usize) -> Result<(Vec<u8>, u32)> {
        let mut buf = vec![0u8; first.max(1).min(limit)];
        let mut calls = 0;
        loop {
            calls += 1;
            match self.get_output(index, &mut buf) {
                Ok(n) => {
                    buf.truncate(n);
                    return Ok((buf, calls));
                }
                Err(e) if e.errno == errno::TOO_LARGE && buf.len() < limit => {
                    let next = match e.required {
                        Some(n) if n > limit => return Err(e),
                        Some(n) => n,
                        None => buf.len().saturating_mul(2).min(limit),
                    };
                    buf = vec![0u8; next];
                }
                Err(e) => return Err(e),
            }
        }
    }
}

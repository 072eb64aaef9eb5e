//! The wasinn operator ABI, guest side: one small contract for every pipeline stage.
//!
//! An operator is a core wasm module (a WASI "reactor": no `_start`) that exports:
//!
//! * `memory`
//! * `op_abi_version() -> i32`: 1
//! * `op_buffer(len: i32) -> i32`: a guest buffer of at least `len` bytes, 8-aligned, valid until
//!   the next `op_buffer` call; 0 if it cannot be had. The host writes parameters and inputs
//!   there, straight into guest memory.
//! * `op_init(params: i32, len: i32) -> i32`: configure the operator from its parameters (see
//!   [`Params`] for the encoding); status.
//! * `op_process(value: i32) -> i32`: process one item, a value descriptor (see below) in the
//!   buffer; status.
//! * `op_output() -> i32`: a value descriptor of the last result: the output of a map, or the
//!   error message (bytes, UTF-8) after status 2. Valid until the next call into the guest.
//!
//! Status: 0 = ok (map: the output is ready; filter/branch: true), 1 = false (filter: drop the
//! item; branch: the False arm; map: no output), 2 = error (message at `op_output`).
//!
//! A value descriptor is 52 bytes of little-endian u32s: kind (0 bytes, 1 tensor) @0, element
//! type @4 (wasi-nn 0.6 numbering: 0 f16, 1 f32, 2 f64, 3 u8, 4 i32, 5 i64), data pointer @8,
//! data length @12, rank @16 (at most 8), dims @20..52.

use std::collections::BTreeMap;

pub const VALUE_SIZE: usize = 52;
pub const MAX_RANK: usize = 8;

pub const OK: i32 = 0;
pub const FALSE: i32 = 1;
pub const ERROR: i32 = 2;

/// Tensor element types, wasi-nn 0.6 numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F16 = 0,
    F32 = 1,
    F64 = 2,
    U8 = 3,
    I32 = 4,
    I64 = 5,
}

impl DType {
    pub fn from_code(code: u32) -> Option<DType> {
        Some(match code {
            0 => DType::F16,
            1 => DType::F32,
            2 => DType::F64,
            3 => DType::U8,
            4 => DType::I32,
            5 => DType::I64,
            _ => return None,
        })
    }

    pub fn parse(name: &str) -> Option<DType> {
        Some(match name {
            "f16" | "fp16" => DType::F16,
            "f32" | "fp32" => DType::F32,
            "f64" | "fp64" => DType::F64,
            "u8" => DType::U8,
            "i32" => DType::I32,
            "i64" => DType::I64,
            _ => return None,
        })
    }

    pub fn size(self) -> usize {
        match self {
            DType::U8 => 1,
            DType::F16 => 2,
            DType::F32 | DType::I32 => 4,
            DType::F64 | DType::I64 => 8,
        }
    }
}

/// One item: raw bytes, or a tensor (element type, dims, little-endian data).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bytes(Vec<u8>),
    Tensor {
        dtype: DType,
        dims: Vec<u32>,
        data: Vec<u8>,
    },
}

impl Value {
    /// An f32 tensor of `dims` holding `values`.
    pub fn f32s(dims: Vec<u32>, values: &[f32]) -> Value {
        Value::Tensor {
            dtype: DType::F32,
            dims,
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
}

/// An input item as the host gave it (borrowed from the guest buffer).
pub struct Input<'a> {
    /// `None` for bytes.
    pub tensor: Option<(DType, Vec<u32>)>,
    pub data: &'a [u8],
}

impl<'a> Input<'a> {
    /// The tensor's elements as f32 (integers converted), with its dims; an error for bytes.
    pub fn to_f32(&self) -> Result<(Vec<f32>, Vec<u32>), String> {
        let (dtype, dims) = self
            .tensor
            .as_ref()
            .ok_or("expected a tensor, got bytes")?;
        let d = self.data;
        let values: Vec<f32> = match dtype {
            DType::U8 => d.iter().map(|&b| b as f32).collect(),
            DType::F32 => d
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            DType::F64 => d
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
                .collect(),
            DType::I32 => d
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32)
                .collect(),
            DType::I64 => d
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
                .collect(),
            DType::F16 => return Err("f16 tensors are not supported here".to_string()),
        };
        Ok((values, dims.clone()))
    }
}

/// What `process` decided.
pub enum Outcome {
    /// A map's new item.
    Value(Value),
    /// A filter's or branch's verdict (the item passes on unchanged); `false` from a map drops it.
    Pass(bool),
}

/// Module parameters: key/value strings, from `op_init`.
///
/// Encoding: u32 count, then per pair u32 key length, key bytes, u32 value length, value
/// bytes (UTF-8, little-endian lengths, no padding).
#[derive(Default, Debug)]
pub struct Params(pub BTreeMap<String, String>);

impl Params {
    pub fn decode(raw: &[u8]) -> Result<Params, String> {
        fn take<'a>(raw: &'a [u8], at: &mut usize, n: usize) -> Result<&'a [u8], String> {
            let end = at.checked_add(n).filter(|&e| e <= raw.len()).ok_or("parameters are truncated")?;
            let part = &raw[*at..end];
            *at = end;
            Ok(part)
        }
        fn u32_at(raw: &[u8], at: &mut usize) -> Result<usize, String> {
            let b = take(raw, at, 4)?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        }
        let mut at = 0;
        let count = u32_at(raw, &mut at)?;
        let mut map = BTreeMap::new();
        for _ in 0..count {
            let n = u32_at(raw, &mut at)?;
            let key = String::from_utf8(take(raw, &mut at, n)?.to_vec()).map_err(|_| "a parameter name is not UTF-8")?;
            let n = u32_at(raw, &mut at)?;
            let value = String::from_utf8(take(raw, &mut at, n)?.to_vec()).map_err(|_| "a parameter value is not UTF-8")?;
            map.insert(key, value);
        }
        Ok(Params(map))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|s| s.as_str())
    }

    /// A number parameter, or `default` when it is not given.
    pub fn number(&self, key: &str, default: f64) -> Result<f64, String> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("parameter {}: not a number: '{}'", key, v)),
        }
    }

    /// A whole-number parameter of at least `min`, or `default`.
    pub fn count(&self, key: &str, default: usize, min: usize) -> Result<usize, String> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if n >= min => Ok(n),
                _ => Err(format!("parameter {}: expected a whole number >= {}, got '{}'", key, min, v)),
            },
        }
    }

    /// Fails on a parameter not in `known`, so typos do not pass silently.
    pub fn only(&self, known: &[&str]) -> Result<(), String> {
        match self.0.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(format!("unknown parameter '{}' (known: {})", k, known.join(", "))),
            None => Ok(()),
        }
    }
}

/// An operator: built from its parameters, then called once per item.
pub trait Operator: Sized {
    fn init(params: &Params) -> Result<Self, String>;
    fn process(&mut self, input: &Input) -> Result<Outcome, String>;
}

/// The guest side of the ABI; [`export!`] wires an [`Operator`] to it.
pub struct Glue<T> {
    pub op: Option<T>,
    buffer: Vec<u64>, // u64 words: 8-aligned
    output: Vec<u8>,
    descriptor: [u32; VALUE_SIZE / 4],
}

impl<T: Operator> Glue<T> {
    pub const fn new() -> Glue<T> {
        Glue {
            op: None,
            buffer: Vec::new(),
            output: Vec::new(),
            descriptor: [0; VALUE_SIZE / 4],
        }
    }

    pub fn buffer(&mut self, len: usize) -> *mut u8 {
        let words = (len + 7) / 8;
        if self.buffer.len() < words {
            let more = words - self.buffer.len();
            if self.buffer.try_reserve_exact(more).is_err() {
                return std::ptr::null_mut();
            }
            self.buffer.resize(words, 0);
        }
        self.buffer.as_mut_ptr() as *mut u8
    }

    pub fn init(&mut self, ptr: *const u8, len: usize) -> i32 {
        let raw = unsafe { std::slice::from_raw_parts(ptr, len) };
        match Params::decode(raw).and_then(|p| T::init(&p)) {
            Ok(op) => {
                self.op = Some(op);
                OK
            }
            Err(e) => self.fail(e),
        }
    }

    pub fn process(&mut self, ptr: *const u8) -> i32 {
        let d = unsafe { std::slice::from_raw_parts(ptr as *const u32, VALUE_SIZE / 4) };
        let (kind, dtype, data_ptr, data_len, rank) = (d[0], d[1], d[2], d[3], d[4] as usize);
        if rank > MAX_RANK {
            return self.fail(format!("rank {} (at most {})", rank, MAX_RANK));
        }
        let data = unsafe { std::slice::from_raw_parts(data_ptr as *const u8, data_len as usize) };
        let tensor = match kind {
            0 => None,
            1 => match DType::from_code(dtype) {
                Some(t) => Some((t, d[5..5 + rank].to_vec())),
                None => return self.fail(format!("unknown tensor type {}", dtype)),
            },
            _ => return self.fail(format!("unknown value kind {}", kind)),
        };
        let input = Input { tensor, data };
        let result = match self.op.as_mut() {
            Some(op) => op.process(&input),
            None => Err("op_process before a successful op_init".to_string()),
        };
        match result {
            Ok(Outcome::Value(v)) => {
                self.set_output(v);
                OK
            }
            Ok(Outcome::Pass(true)) => OK,
            Ok(Outcome::Pass(false)) => FALSE,
            Err(e) => self.fail(e),
        }
    }

    pub fn output(&self) -> *const u8 {
        self.descriptor.as_ptr() as *const u8
    }

    fn fail(&mut self, message: String) -> i32 {
        self.set_output(Value::Bytes(message.into_bytes()));
        ERROR
    }

    fn set_output(&mut self, value: Value) {
        let mut d = [0u32; VALUE_SIZE / 4];
        let data = match value {
            Value::Bytes(b) => b,
            Value::Tensor { dtype, dims, data } => {
                d[0] = 1;
                d[1] = dtype as u32;
                d[4] = dims.len().min(MAX_RANK) as u32;
                for (slot, dim) in d[5..].iter_mut().zip(dims.iter()) {
                    *slot = *dim;
                }
                data
            }
        };
        self.output = data;
        d[2] = self.output.as_ptr() as u32;
        d[3] = self.output.len() as u32;
        self.descriptor = d;
    }
}

/// Exports the ABI for an [`Operator`] type: `op::export!(MyOperator);`.
#[macro_export]
macro_rules! export {
    ($t:ty) => {
        static mut GLUE: $crate::Glue<$t> = $crate::Glue::new();

        #[no_mangle]
        pub extern "C" fn op_abi_version() -> i32 {
            1
        }

        #[no_mangle]
        pub extern "C" fn op_buffer(len: i32) -> i32 {
            unsafe { GLUE.buffer(len as u32 as usize) as i32 }
        }

        #[no_mangle]
        pub extern "C" fn op_init(ptr: i32, len: i32) -> i32 {
            unsafe { GLUE.init(ptr as u32 as usize as *const u8, len as u32 as usize) }
        }

        #[no_mangle]
        pub extern "C" fn op_process(ptr: i32) -> i32 {
            unsafe { GLUE.process(ptr as u32 as usize as *const u8) }
        }

        #[no_mangle]
        pub extern "C" fn op_output() -> i32 {
            unsafe { GLUE.output() as i32 }
        }
    };
}

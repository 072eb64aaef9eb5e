//! classify-component: a `wasi:nn` component command that classifies raw tensors.
//!
//! ```text
//! classify-component [--model NAME] [--input NAME] [--dims 1x224x224x3] [--type u8|f32]
//!                    [--top K] [--skip-first] [--labels FILE] INPUT.tensor...
//! ```
//!
//! The model is the one embedded in the binary (see `ModelRef`), else the host's preloaded
//! model NAME (`load-by-name`). The graph and its execution context are made once and reused
//! for every INPUT. For each input it prints `INDEX LABEL SCORE` lines like the witx
//! `classify` guest (u8 outputs are ranked by their raw value).
#![no_std]

mod abi;
mod mem;
mod export;
mod out;

use abi::{Bytes, NamedTensor, Ret};
use core::slice;
use mem::{alloc, bytes};
use out::Line;

/// Where an embedded model is: filled in by `wasinn_nb.data.embed` (the magic finds it).
///
/// `table` points at `encoding u32, target u32, count u32, count x (ptr u32, len u32)`, and
/// `end` is the first byte after the model (the heap starts there).
#[repr(C)]
pub struct ModelRef {
    magic: [u8; 16],
    table: u32,
    end: u32,
}

#[no_mangle]
#[used]
pub static WASINN_MODEL_REF: ModelRef = ModelRef { magic: *b"wasinn:model-ref", table: 0, end: 0 };

fn model_ref() -> (u32, u32) {
    unsafe {
        let table = core::ptr::read_volatile(&WASINN_MODEL_REF.table);
        let end = core::ptr::read_volatile(&WASINN_MODEL_REF.end);
        (table, end)
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

struct Options<'a> {
    model: Option<&'a [u8]>,
    input: &'a [u8],
    dims: [u32; 8],
    rank: usize,
    ty: u32,
    top: usize,
    skip_first: bool,
    labels: Option<&'a [u8]>,
    first_input: usize,
}

const USAGE: &str = "usage: classify-component [--model NAME] [--input NAME] [--dims AxBx..] \
[--type u8|f32] [--top K] [--skip-first] [--labels FILE] INPUT.tensor...";
const U8: u32 = 4;
const FP32: u32 = 1;

#[export_name = "wasi:cli/run@0.2.0#run"]
pub extern "C" fn run() -> u32 {
    let args = arguments();
    match main(args) {
        Ok(()) => 0,
        Err(mut line) => {
            line.push("\n").emit(unsafe { abi::get_stderr() });
            1
        }
    }
}

fn arguments() -> &'static [Bytes] {
    let mut ret = Ret::new();
    unsafe {
        abi::get_arguments(ret.ptr());
        slice::from_raw_parts(ret.u32_at(0) as *const Bytes, ret.u32_at(4) as usize)
    }
}

fn parse_dims(text: &[u8], o: &mut Options) -> Result<(), Line> {
    o.rank = 0;
    for part in text.split(|&b| b == b'x') {
        let value = parse_u32(part).ok_or_else(|| Line::from("error: bad --dims "))?;
        if o.rank == o.dims.len() {
            return Err(Line::from("error: --dims has more than 8 dimensions"));
        }
        o.dims[o.rank] = value;
        o.rank += 1;
    }
    Ok(())
}

fn parse_u32(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 9 {
        return None;
    }
    text.iter().try_fold(0u32, |n, &b| if b.is_ascii_digit() { Some(n * 10 + (b - b'0') as u32) } else { None })
}

const DEFAULTS: Options<'static> = Options {
    model: None, input: b"0", dims: [1, 224, 224, 3, 0, 0, 0, 0], rank: 4, ty: U8, top: 5,
    skip_first: false, labels: None, first_input: 0,
};

/// Apply one option (`--name` on the command line, `name` as a module parameter).
fn set(o: &mut Options<'static>, name: &[u8], value: &'static [u8]) -> Result<(), Line> {
    match name {
        b"model" => o.model = Some(value),
        b"input" => o.input = value,
        b"dims" => parse_dims(value, o)?,
        b"type" => {
            o.ty = match value {
                b"u8" => U8,
                b"f32" | b"fp32" => FP32,
                _ => return Err(Line::from("error: type is u8 or f32")),
            }
        }
        b"top" => o.top = parse_u32(value).ok_or_else(|| Line::from("error: bad top"))? as usize,
        b"labels" => o.labels = Some(value),
        b"skip-first" => o.skip_first = value == b"true" || value == b"1",
        _ => {
            let mut line = Line::from("error: unknown option ");
            line.bytes(name);
            return Err(line);
        }
    }
    Ok(())
}

fn options(args: &[Bytes]) -> Result<Options<'static>, Line> {
    let mut o = DEFAULTS;
    let mut i = 1;
    while i < args.len() {
        let arg = bytes(args[i]);
        if arg == b"--skip-first" {
            o.skip_first = true;
            i += 1;
        } else if let Some(name) = arg.strip_prefix(b"--") {
            let value = args.get(i + 1).map(|v| bytes(*v)).ok_or_else(|| Line::from(USAGE))?;
            set(&mut o, name, value).map_err(|_| Line::from(USAGE))?;
            i += 2;
        } else {
            o.first_input = i;
            return Ok(o);
        }
    }
    Err(Line::from(USAGE))
}

fn nn_error(what: &str, error: u32) -> Line {
    let mut ret = Ret::new();
    let code = unsafe { abi::error_code(error) };
    unsafe { abi::error_data(error, ret.ptr()) };
    let data = unsafe { slice::from_raw_parts(ret.u32_at(0) as *const u8, ret.u32_at(4) as usize) };
    unsafe { abi::error_drop(error) };
    let mut line = Line::from("error: wasi-nn ");
    line.push(what).push(" failed: error code ").num(code as usize).push(": ").bytes(data);
    line
}

fn graph(o: &Options) -> Result<u32, Line> {
    let mut ret = Ret::new();
    let (table, _) = model_ref();
    if table != 0 {
        let words = unsafe { slice::from_raw_parts(table as *const u32, 3) };
        let parts = unsafe { slice::from_raw_parts((table + 12) as *const Bytes, words[2] as usize) };
        unsafe { abi::load(parts.as_ptr(), parts.len() as u32, words[0], words[1], ret.ptr()) };
    } else if let Some(name) = o.model {
        unsafe { abi::load_by_name(name.as_ptr(), name.len() as u32, ret.ptr()) };
    } else {
        return Err(Line::from("error: no embedded model: pass --model NAME (a preloaded model)"));
    }
    if ret.u8_at(0) != 0 {
        return Err(nn_error("load", ret.u32_at(4)));
    }
    Ok(ret.u32_at(4))
}

/// The graph (embedded, else by name) and one execution context for it.
fn context(o: &Options) -> Result<u32, Line> {
    let graph = graph(o)?;
    let mut ret = Ret::new();
    unsafe { abi::init_execution_context(graph, ret.ptr()) };
    if ret.u8_at(0) != 0 {
        return Err(nn_error("init-execution-context", ret.u32_at(4)));
    }
    Ok(ret.u32_at(4))
}

fn main(args: &'static [Bytes]) -> Result<(), Line> {
    let o = options(args)?;
    let stdout = unsafe { abi::get_stdout() };
    let labels = match o.labels {
        Some(path) => Some(mem::read_file(path)?),
        None => None,
    };
    let context = context(&o)?;
    for arg in &args[o.first_input..] {
        let path = bytes(*arg);
        let data = mem::read_file(path)?;
        classify(&o, context, path, data, labels, stdout)?;
    }
    Ok(())
}

fn classify(
    o: &Options, context: u32, path: &[u8], data: &[u8], labels: Option<&[u8]>, stdout: u32,
) -> Result<(), Line> {
    let (ty, scores) = infer(o, context, data)?;
    let mut header = Line::from("classify-component: input=");
    header.bytes(path).push(" output=").push(if ty == U8 { "u8[" } else { "f32[" });
    header.num(scores.len()).push("] top=").num(o.top.min(scores.len())).push("\n");
    header.emit(stdout);
    for i in ranked(o, scores) {
        let mut line = Line::new();
        let first = if o.skip_first { 1 } else { 0 };
        line.num(i).push(" ").bytes(label(labels, i - first)).push(" ").fixed4(unsafe { SCORES[i] });
        line.push("\n").emit(stdout);
    }
    Ok(())
}

/// Set the input, compute, and read output 0 as f32 scores (u8 outputs by their raw value).
fn infer(o: &Options, context: u32, data: &[u8]) -> Result<(u32, &'static mut [f32]), Line> {
    let dims = &o.dims[..o.rank];
    let tensor = unsafe {
        abi::tensor_new(dims.as_ptr(), dims.len() as u32, o.ty, data.as_ptr(), data.len() as u32)
    };
    let input = NamedTensor { name_ptr: o.input.as_ptr(), name_len: o.input.len() as u32, tensor };
    let mut ret = Ret::new();
    unsafe { abi::compute(context, &input, 1, ret.ptr()) };
    if ret.u8_at(0) != 0 {
        return Err(nn_error("compute", ret.u32_at(4)));
    }
    let outputs = unsafe {
        slice::from_raw_parts(ret.u32_at(4) as *const NamedTensor, ret.u32_at(8) as usize)
    };
    let first = outputs.first().ok_or_else(|| Line::from("error: the model gave no outputs"))?;
    let ty = unsafe { abi::tensor_ty(first.tensor) };
    unsafe { abi::tensor_data(first.tensor, ret.ptr()) };
    let raw = unsafe { slice::from_raw_parts(ret.u32_at(0) as *const u8, ret.u32_at(4) as usize) };
    for named in outputs {
        unsafe { abi::tensor_drop(named.tensor) };
    }
    Ok((ty, to_scores(ty, raw)?))
}

fn to_scores(ty: u32, raw: &[u8]) -> Result<&'static mut [f32], Line> {
    let count = match ty {
        U8 => raw.len(),
        FP32 if raw.len() % 4 == 0 => raw.len() / 4,
        _ => return Err(Line::from("error: output 0 is neither u8 nor f32")),
    };
    let scores = unsafe { slice::from_raw_parts_mut(alloc(count * 4, 4) as *mut f32, count) };
    for (i, score) in scores.iter_mut().enumerate() {
        *score = if ty == U8 {
            raw[i] as f32
        } else {
            f32::from_le_bytes([raw[4 * i], raw[4 * i + 1], raw[4 * i + 2], raw[4 * i + 3]])
        };
    }
    Ok(scores)
}

static mut SCORES: &[f32] = &[];

/// The top K indices, highest first; ties keep index order (as a stable sort would). The
/// scores stay readable in `SCORES`.
fn ranked(o: &Options, scores: &'static mut [f32]) -> impl Iterator<Item = usize> {
    let first = if o.skip_first { 1 } else { 0 };
    let keep = unsafe { slice::from_raw_parts_mut(alloc(scores.len() * 4, 4) as *mut f32, scores.len()) };
    keep.copy_from_slice(scores);
    unsafe { SCORES = keep };
    let top = o.top;
    let mut taken = 0;
    core::iter::from_fn(move || {
        if taken == top {
            return None;
        }
        let mut best: Option<usize> = None;
        for i in first..scores.len() {
            if !scores[i].is_nan() && best.map_or(true, |b| scores[i] > scores[b]) {
                best = Some(i);
            }
        }
        let i = best?;
        scores[i] = f32::NAN;
        taken += 1;
        Some(i)
    })
}

fn label(labels: Option<&[u8]>, index: usize) -> &[u8] {
    let text = match labels {
        Some(text) => text,
        None => return b"-",
    };
    let line = text.split(|&b| b == b'\n').nth(index).unwrap_or(b"");
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let start = line.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(line.len());
    let end = line.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    if start >= end {
        b"-"
    } else {
        &line[start..end]
    }
}

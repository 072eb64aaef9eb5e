//! The `classifier` interface: module parameters at `init`, then `classify` per tensor, with
//! one graph and one execution context made on the first call and kept (the Azure IoT
//! Operations operator pattern). Each call's memory is released by its post-return.

use crate::abi::Bytes;
use crate::mem::{self, alloc, bytes};
use crate::out::Line;
use crate::{context, infer, ranked, set, Options, DEFAULTS, SCORES};
use core::slice;

static mut OPTIONS: Options<'static> = DEFAULTS;
static mut CONTEXT: Option<u32> = None;
static mut MARK: usize = 0;
/// The return area: `result` tag u8 @0, list or string pointer @4, length @8.
static mut RET: [u32; 3] = [0; 3];

fn ret(ok: bool, ptr: *const u8, len: usize) -> *const u32 {
    unsafe {
        RET = [if ok { 0 } else { 1 }, ptr as u32, len as u32];
        RET.as_ptr()
    }
}

fn fail(line: Line) -> *const u32 {
    let text = line.as_bytes();
    let copy = alloc(text.len(), 1);
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), copy, text.len()) };
    ret(false, copy, text.len())
}

/// `init: func(params: list<tuple<string, string>>) -> result<_, string>`
#[export_name = "wasinn:classify-component/classifier#init"]
pub extern "C" fn init(params: *const [Bytes; 2], count: usize) -> *const u32 {
    let params = unsafe { slice::from_raw_parts(params, count) };
    let mut o = DEFAULTS;
    for [name, value] in params {
        if let Err(line) = set(&mut o, bytes(*name), bytes(*value)) {
            return fail(line);
        }
    }
    unsafe {
        OPTIONS = o;
        CONTEXT = None;
        MARK = mem::mark();
    }
    ret(true, core::ptr::null(), 0)
}

/// `classify: func(tensor: list<u8>) -> result<list<tuple<u32, f32>>, string>`
#[export_name = "wasinn:classify-component/classifier#classify"]
pub extern "C" fn classify(data: *const u8, len: usize) -> *const u32 {
    let o = unsafe { &OPTIONS };
    let context = match unsafe { CONTEXT } {
        Some(context) => context,
        None => match context(o) {
            Ok(context) => {
                unsafe {
                    CONTEXT = Some(context);
                    MARK = mem::mark();
                }
                context
            }
            Err(line) => return fail(line),
        },
    };
    let input = unsafe { slice::from_raw_parts(data, len) };
    let (_, scores) = match infer(o, context, input) {
        Ok(found) => found,
        Err(line) => return fail(line),
    };
    let top = o.top.min(scores.len());
    let pairs = unsafe { slice::from_raw_parts_mut(alloc(top * 8, 4) as *mut (u32, f32), top) };
    let mut n = 0;
    for i in ranked(o, scores) {
        pairs[n] = (i as u32, unsafe { SCORES[i] });
        n += 1;
    }
    ret(true, pairs.as_ptr() as *const u8, n)
}

/// After the host has read `classify`'s result: free everything the call allocated.
#[export_name = "cabi_post_wasinn:classify-component/classifier#classify"]
pub extern "C" fn classify_post(_: *const u32) {
    unsafe { mem::release(MARK) };
}

//! Memory: a bump allocator (also behind `cabi_realloc`), and reading whole files.

use crate::abi::{self, Bytes, Ret};
use crate::out::Line;
use core::arch::wasm32;
use core::slice;

extern "C" {
    static __heap_base: u8;
}

static mut NEXT: usize = 0;
const PAGE: usize = 65536;

/// `size` bytes aligned to `align`; never freed (a run is short). Traps when memory is full.
pub fn alloc(size: usize, align: usize) -> *mut u8 {
    unsafe {
        if NEXT == 0 {
            let (_, end) = crate::model_ref();
            let base = &__heap_base as *const u8 as usize;
            NEXT = if (end as usize) > base { end as usize } else { base };
        }
        let start = (NEXT + align - 1) & !(align - 1);
        let end = start + size;
        let have = wasm32::memory_size(0) * PAGE;
        if end > have && wasm32::memory_grow(0, (end - have + PAGE - 1) / PAGE) == usize::MAX {
            wasm32::unreachable();
        }
        NEXT = end;
        start as *mut u8
    }
}

/// Where the next allocation starts (for `release`).
pub fn mark() -> usize {
    alloc(0, 1) as usize
}

/// Forget every allocation made after `mark` (the memory stays, for the next call).
pub unsafe fn release(mark: usize) {
    if mark != 0 {
        NEXT = mark;
    }
}

#[no_mangle]
pub unsafe extern "C" fn cabi_realloc(old: *mut u8, old_size: usize, align: usize, size: usize) -> *mut u8 {
    let new = alloc(size, align);
    if !old.is_null() {
        core::ptr::copy_nonoverlapping(old, new, if old_size < size { old_size } else { size });
    }
    new
}

/// The bytes of a `list<u8>` or `string` the host gave us (they live as long as the run).
pub fn bytes(b: Bytes) -> &'static [u8] {
    unsafe { slice::from_raw_parts(b.ptr, b.len as usize) }
}

/// The preopened folder for `path` and the path relative to it (longest matching prefix; a
/// relative path uses the folder `.`).
fn resolve(path: &'static [u8]) -> Option<(u32, &'static [u8])> {
    let mut ret = Ret::new();
    unsafe { abi::get_directories(ret.ptr()) };
    let entries = unsafe { slice::from_raw_parts(ret.u32_at(0) as *const [u32; 3], ret.u32_at(4) as usize) };
    let mut best: Option<(u32, &[u8])> = None;
    let mut best_len = 0;
    for entry in entries {
        let name = unsafe { slice::from_raw_parts(entry[1] as *const u8, entry[2] as usize) };
        let rest = if name == b"." && !path.starts_with(b"/") {
            Some(path.strip_prefix(b"./").unwrap_or(path))
        } else if path.starts_with(name) && (path.len() == name.len() || path[name.len()] == b'/' || name.ends_with(b"/")) {
            Some(path[name.len()..].strip_prefix(b"/").unwrap_or(&path[name.len()..]))
        } else {
            None
        };
        if let Some(rest) = rest {
            if best.is_none() || name.len() > best_len {
                best = Some((entry[0], rest));
                best_len = name.len();
            }
        }
    }
    best
}

/// A whole file, read through `wasi:filesystem` from a preopened folder.
pub fn read_file(path: &'static [u8]) -> Result<&'static [u8], Line> {
    let fail = |why: &str| {
        let mut line = Line::from("error: cannot read ");
        line.bytes(path).push(": ").push(why);
        line
    };
    let (dir, rest) = resolve(path).ok_or_else(|| fail("not in a preopened folder (--dir)"))?;
    let mut ret = Ret::new();
    unsafe { abi::open_at(dir, 1, rest.as_ptr(), rest.len() as u32, 0, 1, ret.ptr()) };
    if ret.u8_at(0) != 0 {
        let mut line = fail("open failed, error code ");
        line.num(ret.u8_at(4) as usize);
        return Err(line);
    }
    let file = ret.u32_at(4);
    let mut buffer: *mut u8 = core::ptr::null_mut();
    let (mut size, mut capacity) = (0usize, 0usize);
    loop {
        unsafe { abi::read(file, 1 << 20, size as u64, ret.ptr()) };
        if ret.u8_at(0) != 0 {
            unsafe { abi::descriptor_drop(file) };
            let mut line = fail("read failed, error code ");
            line.num(ret.u8_at(4) as usize);
            return Err(line);
        }
        let (chunk, len, eof) = (ret.u32_at(4) as *const u8, ret.u32_at(8) as usize, ret.u8_at(12) != 0);
        if size + len > capacity {
            capacity = (size + len).max(capacity * 2);
            buffer = unsafe { cabi_realloc(buffer, size, 1, capacity) };
        }
        unsafe { core::ptr::copy_nonoverlapping(chunk, buffer.add(size), len) };
        size += len;
        if eof || len == 0 {
            break;
        }
    }
    unsafe { abi::descriptor_drop(file) };
    Ok(if size == 0 { &[] } else { unsafe { slice::from_raw_parts(buffer, size) } })
}

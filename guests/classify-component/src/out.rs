//! Output lines: a fixed buffer with number formatting, written to a WASI output stream.

use crate::abi::{self, Ret};

pub struct Line {
    buf: [u8; 512],
    len: usize,
}

impl Line {
    pub fn new() -> Line {
        Line { buf: [0; 512], len: 0 }
    }

    pub fn from(text: &str) -> Line {
        let mut line = Line::new();
        line.push(text);
        line
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn bytes(&mut self, data: &[u8]) -> &mut Line {
        let n = data.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&data[..n]);
        self.len += n;
        self
    }

    pub fn push(&mut self, text: &str) -> &mut Line {
        self.bytes(text.as_bytes())
    }

    pub fn num(&mut self, mut value: usize) -> &mut Line {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        self.bytes(&digits[i..])
    }

    /// `value` with 4 decimals, rounded half to even as Rust's `{:.4}` does.
    pub fn fixed4(&mut self, value: f32) -> &mut Line {
        use core::fmt::Write;
        let _ = write!(self, "{:.4}", value);
        self
    }

    /// Write the line (the caller adds the newline); a closed stream is ignored.
    pub fn emit(&self, stream: u32) {
        let mut ret = Ret::new();
        unsafe { abi::write_and_flush(stream, self.buf.as_ptr(), self.len as u32, ret.ptr()) };
    }
}

impl core::fmt::Write for Line {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        self.push(text);
        Ok(())
    }
}

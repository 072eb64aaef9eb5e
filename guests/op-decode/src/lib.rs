//! decode (map): a JPEG, PNG or BMP in (bytes), an RGB24 tensor out: u8 [1, H, W, 3] (or
//! [1, 3, H, W]).
//!
//! Parameters: `width`, `height` (default 224), `layout` = `nhwc` (default) or `nchw`. The
//! image is resized bilinearly with half-pixel centres and no antialiasing, then rounded to
//! 0..255: the same pixels as the classify guest's `--dtype u8` input.

#[path = "../../classify/src/image.rs"]
mod image;

use op::{DType, Input, Operator, Outcome, Params, Value};

/// Images larger than this many pixels are refused before decoding.
const MAX_PIXELS: usize = 1 << 26;

struct Decode {
    width: usize,
    height: usize,
    planar: bool,
}

impl Operator for Decode {
    fn init(p: &Params) -> Result<Self, String> {
        p.only(&["width", "height", "layout"])?;
        let planar = match p.get("layout").unwrap_or("nhwc") {
            "nhwc" => false,
            "nchw" => true,
            other => return Err(format!("parameter layout: expected nhwc or nchw, got '{}'", other)),
        };
        Ok(Decode {
            width: p.count("width", 224, 1)?.min(16384),
            height: p.count("height", 224, 1)?.min(16384),
            planar,
        })
    }

    fn process(&mut self, input: &Input) -> Result<Outcome, String> {
        if input.tensor.is_some() {
            return Err("expected image bytes, got a tensor".to_string());
        }
        let img = if input.data.starts_with(b"BM") {
            decode_bmp(input.data)?
        } else if input.data.starts_with(b"\x89PNG") || input.data.starts_with(&[0xff, 0xd8]) {
            image::decode(input.data)?
        } else {
            return Err("not a JPEG, PNG or BMP image".to_string());
        };
        let (w, h) = (self.width, self.height);
        let rgb = image::resize_bilinear(&img, w, h);
        let pixel = |v: f32| v.round().max(0.0).min(255.0) as u8;
        let (dims, data) = if self.planar {
            let mut data = vec![0u8; w * h * 3];
            for p in 0..w * h {
                for c in 0..3 {
                    data[c * w * h + p] = pixel(rgb[p * 3 + c]);
                }
            }
            (vec![1, 3, h as u32, w as u32], data)
        } else {
            (vec![1, h as u32, w as u32, 3], rgb.iter().map(|&v| pixel(v)).collect())
        };
        Ok(Outcome::Value(Value::Tensor {
            dtype: DType::U8,
            dims,
            data,
        }))
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Uncompressed 24- and 32-bit BMP (BI_RGB or BI_BITFIELDS in BGR(A) order), either row order.
fn decode_bmp(b: &[u8]) -> Result<image::Rgb8, String> {
    if b.len() < 54 {
        return Err("BMP: truncated header".to_string());
    }
    let offset = u32_at(b, 10) as usize;
    let width = u32_at(b, 18) as i32;
    let height = u32_at(b, 22) as i32;
    let bits = u16::from_le_bytes([b[28], b[29]]) as usize;
    let compression = u32_at(b, 30);
    if bits != 24 && bits != 32 {
        return Err(format!("BMP: {}-bit images are not supported (24 or 32 only)", bits));
    }
    if compression != 0 && !(compression == 3 && bits == 32) {
        return Err("BMP: compressed images are not supported".to_string());
    }
    if width <= 0 || height == 0 || height == i32::MIN {
        return Err("BMP: bad size".to_string());
    }
    let (w, h) = (width as usize, height.unsigned_abs() as usize);
    if w.saturating_mul(h) > MAX_PIXELS {
        return Err(format!("BMP: {}x{} is too large", w, h));
    }
    let step = bits / 8;
    let stride = (w * step + 3) / 4 * 4;
    if offset.checked_add(stride * h).map_or(true, |end| end > b.len()) {
        return Err("BMP: truncated pixel data".to_string());
    }
    let mut pixels = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let row = if height > 0 { h - 1 - y } else { y }; // positive height: bottom-up
        let start = offset + row * stride;
        for px in b[start..start + w * step].chunks_exact(step) {
            pixels.extend_from_slice(&[px[2], px[1], px[0]]);
        }
    }
    Ok(image::Rgb8 {
        width: w,
        height: h,
        pixels,
    })
}

op::export!(Decode);

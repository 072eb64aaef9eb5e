//! Dims and element types written into tensor file names.
//!
//! Recognised forms (the file name is split into tokens at `-`, `_` and `.`):
//!
//! * `512x896x3xf32` — dims followed by an element type, in one token. Three dims
//!   `HxWxC` with C = 1 or 3 are an image size as im2tensor writes it: the file
//!   holds `[1, C, H, W]` (NCHW), or `[1, H, W, C]` when the name also says `nhwc`;
//! * `1x3x224x224` — dims only (at least two of them);
//! * `f32` — an element type on its own, e.g. `tensor-1x224x224x3-f32.bgr`.
//!
//! Element types: `f16`/`fp16`, `f32`/`fp32`, `f64`/`fp64`, `u8`, `i8`, `i32`, `i64`.
//! `i8` is recognised but has no wasi-nn tensor type.
//!
//! Examples: `wasinn-openvino-inference-input-512x896x3xf32-bgr.tensor` gives
//! `[1, 3, 512, 896]`, f32; `wasinn-openvino-inference-output-1x4x512x896xf32.tensor`
//! gives `[1, 4, 512, 896]`, f32.

use crate::TensorType;

/// What a file name says about the tensor in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TensorName {
    /// Dimensions, if the name has them.
    pub dims: Option<Vec<u32>>,
    /// The element type as spelled in the name (lower case), if any.
    pub type_name: Option<String>,
    /// The element type, if the name has one that wasi-nn can express.
    pub tensor_type: Option<TensorType>,
}

fn is_type_name(s: &str) -> bool {
    s == "i8" || TensorType::parse(s).is_some()
}

/// Parses `AxBxC` into dims. Every part must be a decimal number.
pub fn parse_dims(s: &str) -> Option<Vec<u32>> {
    let dims: Option<Vec<u32>> = s.split('x').map(|p| p.parse::<u32>().ok()).collect();
    dims.filter(|d| !d.is_empty())
}

/// Formats dims as `AxBxC`.
pub fn format_dims(dims: &[u32]) -> String {
    let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    parts.join("x")
}

/// Parses the file-name part of `path`. Unrecognised tokens are ignored; the
/// first dims token and the first type wins.
pub fn parse(path: &str) -> TensorName {
    let file = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let mut out = TensorName::default();
    let mut image_style = false;
    let mut nhwc = false;
    for token in file.split(|c| c == '-' || c == '_' || c == '.') {
        nhwc |= token == "nhwc";
        let (dims, ty) = match token.rsplit_once('x') {
            // `AxBxf32`: dims, then a type
            Some((head, last)) if is_type_name(last) => match parse_dims(head) {
                Some(d) => (Some(d), Some(last)),
                None => (None, None),
            },
            // `AxB`: dims only; at least two, so that plain numbers are not dims
            Some(_) => (parse_dims(token).filter(|d| d.len() >= 2), None),
            // `f32` on its own
            None if is_type_name(token) => (None, Some(token)),
            None => (None, None),
        };
        if out.dims.is_none() && dims.is_some() {
            image_style = ty.is_some() && matches!(dims.as_deref(), Some([_, _, 1]) | Some([_, _, 3]));
            out.dims = dims;
        }
        if let (None, Some(t)) = (&out.type_name, ty) {
            out.type_name = Some(t.to_string());
            out.tensor_type = TensorType::parse(t);
        }
    }
    if let (true, Some([h, w, c])) = (image_style, out.dims.as_deref()) {
        out.dims = Some(if nhwc { vec![1, *h, *w, *c] } else { vec![1, *c, *h, *w] });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn road_seg_names() {
        let n = parse("tensor/wasinn-openvino-inference-input-512x896x3xf32-bgr.tensor");
        assert_eq!(n.dims, Some(vec![1, 3, 512, 896]));
        assert_eq!(n.tensor_type, Some(TensorType::F32));
        let n = parse("cat-224x224x3xu8-rgb-nhwc.tensor");
        assert_eq!(n.dims, Some(vec![1, 224, 224, 3]));
        let n = parse("wasinn-openvino-inference-output-1x4x512x896xf32.tensor");
        assert_eq!(n.dims, Some(vec![1, 4, 512, 896]));
        assert_eq!(n.tensor_type, Some(TensorType::F32));
    }

    #[test]
    fn other_names() {
        let n = parse("tensor-1x224x224x3-f32.bgr");
        assert_eq!(n.dims, Some(vec![1, 224, 224, 3]));
        assert_eq!(n.tensor_type, Some(TensorType::F32));
        let n = parse("image-1x3x224x224.rgb");
        assert_eq!(n.dims, Some(vec![1, 3, 224, 224]));
        assert_eq!(n.tensor_type, None);
        let n = parse("000000062808.rgb");
        assert_eq!(n, TensorName::default());
        let n = parse("q-1x8xi8.tensor");
        assert_eq!(n.dims, Some(vec![1, 8]));
        assert_eq!(n.type_name.as_deref(), Some("i8"));
        assert_eq!(n.tensor_type, None);
        let n = parse("x-2x2xFP16.tensor");
        assert_eq!(n.tensor_type, Some(TensorType::F16));
    }
}

//! Separable triangle-filter resizing to 8-bit RGB.
//!
//! When shrinking, the filter is widened by the scale factor, so every source
//! pixel contributes (antialiasing); when enlarging it is plain bilinear
//! interpolation. Sample centres are at half pixels. Each pass normalises its
//! weights; the result is rounded and clamped to 0..255.

use crate::image::Rgb8;

/// For each output index: the first source index and the normalised weights.
fn weights(dst: usize, src: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = src as f32 / dst as f32;
    let stretch = scale.max(1.0);
    (0..dst)
        .map(|i| {
            let centre = (i as f32 + 0.5) * scale;
            let first = (centre - stretch).floor().max(0.0) as usize;
            let last = ((centre + stretch).ceil() as usize).min(src);
            let mut w: Vec<f32> = (first..last)
                .map(|j| (1.0 - ((j as f32 + 0.5 - centre) / stretch).abs()).max(0.0))
                .collect();
            let sum: f32 = w.iter().sum();
            if sum > 0.0 {
                w.iter_mut().for_each(|x| *x /= sum);
            }
            (first, w)
        })
        .collect()
}

/// Resizes `img` to `width` x `height`; interleaved RGB bytes.
pub fn triangle(img: &Rgb8, width: usize, height: usize) -> Vec<u8> {
    let xs = weights(width, img.width);
    let ys = weights(height, img.height);
    // Horizontal pass: img.height rows of `width` pixels, kept as f32.
    let mut rows = vec![0f32; img.height * width * 3];
    for y in 0..img.height {
        for (x, (first, w)) in xs.iter().enumerate() {
            for c in 0..3 {
                let mut acc = 0f32;
                for (k, wk) in w.iter().enumerate() {
                    acc += wk * img.pixels[(y * img.width + first + k) * 3 + c] as f32;
                }
                rows[(y * width + x) * 3 + c] = acc;
            }
        }
    }
    // Vertical pass, rounded to bytes.
    let mut out = vec![0u8; height * width * 3];
    for (y, (first, w)) in ys.iter().enumerate() {
        for x in 0..width {
            for c in 0..3 {
                let mut acc = 0f32;
                for (k, wk) in w.iter().enumerate() {
                    acc += wk * rows[((first + k) * width + x) * 3 + c];
                }
                out[(y * width + x) * 3 + c] = acc.round().max(0.0).min(255.0) as u8;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_and_cover_the_source() {
        for &(dst, src) in &[(224, 640), (224, 224), (4, 2), (3, 7)] {
            let taps = weights(dst, src);
            assert_eq!(taps.len(), dst);
            for (first, w) in &taps {
                assert!(first + w.len() <= src);
                let sum: f32 = w.iter().sum();
                assert!((sum - 1.0).abs() < 1e-5, "{} -> {}: sum {}", src, dst, sum);
            }
        }
    }

    #[test]
    fn a_flat_image_stays_flat() {
        let img = Rgb8 {
            width: 5,
            height: 3,
            pixels: [10u8, 20, 30].repeat(15),
        };
        let out = triangle(&img, 2, 2);
        assert_eq!(out, [10u8, 20, 30].repeat(4));
    }
}

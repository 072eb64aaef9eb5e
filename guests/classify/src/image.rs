//! Image decoding (JPEG, PNG) to RGB8 and bilinear resizing.

/// An 8-bit RGB image, row-major, 3 bytes per pixel.
pub struct Rgb8 {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// Decodes a JPEG or PNG (recognised by its signature) into RGB8.
pub fn decode(bytes: &[u8]) -> Result<Rgb8, String> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        decode_png(bytes)
    } else if bytes.starts_with(&[0xff, 0xd8]) {
        decode_jpeg(bytes)
    } else {
        Err("not a JPEG or PNG image".to_string())
    }
}

fn decode_jpeg(bytes: &[u8]) -> Result<Rgb8, String> {
    use jpeg_decoder::PixelFormat;
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let data = decoder.decode().map_err(|e| format!("JPEG: {}", e))?;
    let info = decoder.info().ok_or("JPEG: no image info")?;
    let (width, height) = (info.width as usize, info.height as usize);
    let pixels = match info.pixel_format {
        PixelFormat::RGB24 => data,
        PixelFormat::L8 => data.iter().flat_map(|&l| [l, l, l]).collect(),
        // 16-bit samples in native (little-endian) order: keep the high byte.
        PixelFormat::L16 => data
            .chunks_exact(2)
            .flat_map(|s| [s[1], s[1], s[1]])
            .collect(),
        PixelFormat::CMYK32 => return Err("JPEG: CMYK images are not supported".to_string()),
    };
    Ok(Rgb8 {
        width,
        height,
        pixels,
    })
}

fn decode_png(bytes: &[u8]) -> Result<Rgb8, String> {
    use png::ColorType;
    let mut decoder = png::Decoder::new(bytes);
    // Palette -> RGB, low bit depths -> 8 bits, 16 bits -> 8 bits.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| format!("PNG: {}", e))?;
    let mut buf = vec![0u8; reader.output_buffer_size()];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("PNG: {}", e))?;
    let (width, height) = (info.width as usize, info.height as usize);
    let channels = match info.color_type {
        ColorType::Grayscale => 1,
        ColorType::GrayscaleAlpha => 2,
        ColorType::Rgb => 3,
        ColorType::Rgba => 4,
        ColorType::Indexed => return Err("PNG: palette was not expanded".to_string()),
    };
    let mut pixels = Vec::with_capacity(width * height * 3);
    for row in buf.chunks(info.line_size).take(height) {
        for px in row[..width * channels].chunks_exact(channels) {
            // Alpha is dropped, not blended.
            if channels < 3 {
                pixels.extend_from_slice(&[px[0], px[0], px[0]]);
            } else {
                pixels.extend_from_slice(&px[..3]);
            }
        }
    }
    Ok(Rgb8 {
        width,
        height,
        pixels,
    })
}

/// Bilinear resize to `width` x `height` with half-pixel centres (the
/// convention of OpenCV's INTER_LINEAR, without antialiasing). Returns
/// interleaved RGB samples as f32 in 0..255.
pub fn resize_bilinear(img: &Rgb8, width: usize, height: usize) -> Vec<f32> {
    // For each output coordinate: the two source indices and the weight of the second.
    fn taps(dst: usize, src: usize) -> Vec<(usize, usize, f32)> {
        let scale = src as f32 / dst as f32;
        (0..dst)
            .map(|i| {
                let x = ((i as f32 + 0.5) * scale - 0.5).max(0.0);
                let x0 = (x as usize).min(src - 1);
                let x1 = (x0 + 1).min(src - 1);
                (x0, x1, x - x0 as f32)
            })
            .collect()
    }
    let xs = taps(width, img.width);
    let ys = taps(height, img.height);
    let at = |x: usize, y: usize, c: usize| img.pixels[(y * img.width + x) * 3 + c] as f32;
    let mut out = Vec::with_capacity(width * height * 3);
    for &(y0, y1, wy) in &ys {
        for &(x0, x1, wx) in &xs {
            for c in 0..3 {
                let top = at(x0, y0, c) * (1.0 - wx) + at(x1, y0, c) * wx;
                let bottom = at(x0, y1, c) * (1.0 - wx) + at(x1, y1, c) * wx;
                out.push(top * (1.0 - wy) + bottom * wy);
            }
        }
    }
    out
}

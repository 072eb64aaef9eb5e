//! Image classification through wasi-nn.
//!
//! Usage: classify [OPTIONS] MODEL INPUT [LABELS]
//!
//! Speaks the legacy (<= 0.5) tensor-type numbering: F32 = 1, U8 = 2.
//! Run with `--help` for the options.

mod image;

use std::{env, fs, process};

use nn::{tensor_name, Encoding, Graph, Numbering, Target, TensorType};

const USAGE: &str = "\
usage: classify [OPTIONS] MODEL INPUT [LABELS]

MODEL   .onnx (onnx), .xml (openvino, weights from the sibling .bin),
        .tflite (tensorflowlite), .pt/.pth (pytorch); or use --encoding
INPUT   a JPEG/PNG image, or a raw tensor file (.tensor .rgb .bgr .bin) that
        is passed through as-is; its dims come from --dims or its file name
LABELS  optional text file, one label per line

options:
  --encoding NAME     openvino|onnx|tensorflow|pytorch|tensorflowlite|autodetect
  --target NAME       cpu|gpu|tpu|auto (default cpu)
  --size HxW          image size fed to the model (default 224x224)
  --layout L          nchw|nhwc (default nchw)
  --color C           rgb|bgr (default rgb)
  --dtype T           input element type f32|u8 (default f32, or the raw file's)
  --scale S           multiply pixels (0..255) by S first (default 1)
  --mean a,b,c        then subtract the per-channel mean (default 0,0,0)
  --std a,b,c         then divide by the per-channel std (default 1,1,1)
                      value = (pixel * scale - mean[c]) / std[c], with c in
                      the tensor's channel order (after --color); u8 values
                      are rounded and clamped to 0..255
  --dims AxBx..       dims of a raw tensor input
  --output-dtype T    f32|u8 (default f32); u8 scores are ranked as f32
  --top K             how many classes to print (default 5)
  --skip-first        output index 0 is background (1001-class models): leave
                      it out of the ranking, and look index i up as label i-1

prints one header line, then one line per class: INDEX LABEL SCORE
(LABEL is the whole label line, '-' without labels; SCORE has 4 decimals)";

/// First output buffer; grown on too_large.
const OUTPUT_PROBE: usize = 4 << 20;
const OUTPUT_LIMIT: usize = 256 << 20;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    Nchw,
    Nhwc,
}

struct Options {
    encoding: Option<Encoding>,
    target: Target,
    size: (usize, usize),
    layout: Layout,
    bgr: bool,
    dtype: Option<TensorType>,
    scale: f32,
    mean: [f32; 3],
    std: [f32; 3],
    dims: Option<Vec<u32>>,
    output_dtype: TensorType,
    top: usize,
    skip_first: bool,
    model: String,
    input: String,
    labels: Option<String>,
}

fn parse_triple(flag: &str, v: &str) -> Result<[f32; 3], String> {
    let vals: Result<Vec<f32>, _> = v.split(',').map(|s| s.trim().parse::<f32>()).collect();
    match vals {
        Ok(x) if x.len() == 3 => Ok([x[0], x[1], x[2]]),
        Ok(x) if x.len() == 1 => Ok([x[0]; 3]),
        _ => Err(format!("bad {} '{}', expected a,b,c", flag, v)),
    }
}

fn parse_dtype(flag: &str, v: &str) -> Result<TensorType, String> {
    match TensorType::parse(v) {
        Some(t @ (TensorType::F32 | TensorType::U8)) => Ok(t),
        _ => Err(format!("bad {} '{}', expected f32 or u8", flag, v)),
    }
}

fn parse_args(argv: &[String]) -> Result<Options, String> {
    let mut o = Options {
        encoding: None,
        target: Target::Cpu,
        size: (224, 224),
        layout: Layout::Nchw,
        bgr: false,
        dtype: None,
        scale: 1.0,
        mean: [0.0; 3],
        std: [1.0; 3],
        dims: None,
        output_dtype: TensorType::F32,
        top: 5,
        skip_first: false,
        model: String::new(),
        input: String::new(),
        labels: None,
    };
    let mut positional = Vec::new();
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let flag = arg.as_str();
        if !flag.starts_with("--") {
            positional.push(arg.clone());
            continue;
        }
        if flag == "--skip-first" {
            o.skip_first = true;
            continue;
        }
        const VALUE_FLAGS: [&str; 12] = [
            "--encoding",
            "--target",
            "--size",
            "--layout",
            "--color",
            "--dtype",
            "--output-dtype",
            "--scale",
            "--mean",
            "--std",
            "--dims",
            "--top",
        ];
        if !VALUE_FLAGS.contains(&flag) {
            return Err(format!("unknown option '{}'\n\n{}", flag, USAGE));
        }
        let v = it.next().ok_or(format!("{} needs a value", flag))?;
        match flag {
            "--encoding" => {
                o.encoding = Some(Encoding::parse(v).ok_or(format!("unknown encoding '{}'", v))?)
            }
            "--target" => o.target = Target::parse(v).ok_or(format!("unknown target '{}'", v))?,
            "--size" => {
                o.size = match tensor_name::parse_dims(v).as_deref() {
                    Some(&[h, w]) if h > 0 && w > 0 => (h as usize, w as usize),
                    _ => return Err(format!("bad --size '{}', expected HxW", v)),
                }
            }
            "--layout" => {
                o.layout = match v.as_str() {
                    "nchw" => Layout::Nchw,
                    "nhwc" => Layout::Nhwc,
                    _ => return Err(format!("bad --layout '{}', expected nchw or nhwc", v)),
                }
            }
            "--color" => {
                o.bgr = match v.as_str() {
                    "rgb" => false,
                    "bgr" => true,
                    _ => return Err(format!("bad --color '{}', expected rgb or bgr", v)),
                }
            }
            "--dtype" => o.dtype = Some(parse_dtype(flag, v)?),
            "--output-dtype" => o.output_dtype = parse_dtype(flag, v)?,
            "--scale" => o.scale = v.parse().map_err(|_| format!("bad --scale '{}'", v))?,
            "--mean" => o.mean = parse_triple(flag, v)?,
            "--std" => o.std = parse_triple(flag, v)?,
            "--dims" => {
                o.dims = Some(
                    tensor_name::parse_dims(v)
                        .ok_or(format!("bad --dims '{}', expected e.g. 1x3x224x224", v))?,
                )
            }
            "--top" => o.top = v.parse().map_err(|_| format!("bad --top '{}'", v))?,
            _ => return Err(format!("unknown option '{}'\n\n{}", flag, USAGE)),
        }
    }
    if positional.len() < 2 || positional.len() > 3 {
        return Err(USAGE.to_string());
    }
    o.model = positional[0].clone();
    o.input = positional[1].clone();
    o.labels = positional.get(2).cloned();
    Ok(o)
}

fn extension(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    match file.rfind('.') {
        Some(i) if i > 0 => file[i + 1..].to_ascii_lowercase(),
        _ => String::new(),
    }
}

fn read(path: &str, what: &str) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("cannot read {} '{}': {}", what, path, e))
}

fn load_graph(o: &Options) -> Result<(Graph, Encoding), String> {
    let ext = extension(&o.model);
    let encoding = match o.encoding {
        Some(e) => e,
        None => match ext.as_str() {
            "onnx" => Encoding::Onnx,
            "xml" => Encoding::OpenVino,
            "tflite" => Encoding::TensorFlowLite,
            "pt" | "pth" => Encoding::PyTorch,
            _ => {
                return Err(format!(
                    "cannot tell the encoding of '{}' from its extension; pass --encoding",
                    o.model
                ))
            }
        },
    };
    let model = read(&o.model, "model")?;
    let graph = if encoding == Encoding::OpenVino {
        let stem = o
            .model
            .strip_suffix(&format!(".{}", ext))
            .unwrap_or(&o.model);
        let weights = read(&format!("{}.bin", stem), "OpenVINO weights")?;
        Graph::load(&[&model, &weights], encoding, o.target)
    } else {
        Graph::load(&[&model], encoding, o.target)
    };
    let graph = graph.map_err(|e| e.to_string())?;
    Ok((graph, encoding))
}

/// A tensor ready for set_input.
struct Input {
    tensor_type: TensorType,
    dims: Vec<u32>,
    data: Vec<u8>,
}

fn raw_input(o: &Options, data: Vec<u8>) -> Result<Input, String> {
    let from_name = tensor_name::parse(&o.input);
    let dims = o.dims.clone().or(from_name.dims).ok_or(format!(
        "no dims for raw tensor '{}': pass --dims or put them in the file name",
        o.input
    ))?;
    let tensor_type = match (o.dtype, from_name.tensor_type, from_name.type_name) {
        (Some(t), _, _) | (None, Some(t), _) => t,
        (None, None, Some(n)) => {
            return Err(format!("element type '{}' has no wasi-nn tensor type", n))
        }
        (None, None, None) => TensorType::F32,
    };
    if tensor_type.encode(Numbering::Legacy).is_none() {
        return Err(format!(
            "{} has no value in the legacy tensor-type numbering",
            tensor_type.name()
        ));
    }
    let expected = dims.iter().map(|&d| d as usize).product::<usize>() * tensor_type.size();
    if data.len() != expected {
        return Err(format!(
            "raw tensor '{}' has {} bytes, but {} {} needs {}",
            o.input,
            data.len(),
            tensor_type.name(),
            tensor_name::format_dims(&dims),
            expected
        ));
    }
    Ok(Input {
        tensor_type,
        dims,
        data,
    })
}

fn image_input(o: &Options, bytes: &[u8]) -> Result<Input, String> {
    let img = image::decode(bytes).map_err(|e| format!("cannot decode '{}': {}", o.input, e))?;
    let (h, w) = o.size;
    let rgb = image::resize_bilinear(&img, w, h);
    let tensor_type = o.dtype.unwrap_or(TensorType::F32);
    let order: [usize; 3] = if o.bgr { [2, 1, 0] } else { [0, 1, 2] };
    let (dims, index): (Vec<u32>, Box<dyn Fn(usize, usize) -> usize>) = match o.layout {
        Layout::Nchw => (
            vec![1, 3, h as u32, w as u32],
            Box::new(move |p, c| c * h * w + p),
        ),
        Layout::Nhwc => (vec![1, h as u32, w as u32, 3], Box::new(|p, c| p * 3 + c)),
    };
    let mut values = vec![0f32; h * w * 3];
    for p in 0..h * w {
        for (c, &src) in order.iter().enumerate() {
            values[index(p, c)] = (rgb[p * 3 + src] * o.scale - o.mean[c]) / o.std[c];
        }
    }
    let data = match tensor_type {
        TensorType::U8 => values
            .iter()
            .map(|v| v.round().max(0.0).min(255.0) as u8)
            .collect(),
        _ => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    };
    Ok(Input {
        tensor_type,
        dims,
        data,
    })
}

fn read_labels(path: &str) -> Result<Vec<String>, String> {
    let text = fs::read(path).map_err(|e| format!("cannot read labels '{}': {}", path, e))?;
    Ok(String::from_utf8_lossy(&text)
        .lines()
        .map(|l| l.trim().to_string())
        .collect())
}

fn run(o: Options) -> Result<(), String> {
    let labels = match &o.labels {
        Some(p) => Some(read_labels(p)?),
        None => None,
    };
    let bytes = read(&o.input, "input")?;
    let input = match extension(&o.input).as_str() {
        "tensor" | "rgb" | "bgr" | "bin" => raw_input(&o, bytes)?,
        _ => image_input(&o, &bytes)?,
    };

    let (graph, encoding) = load_graph(&o)?;
    let mut ctx = graph.init_execution_context().map_err(|e| e.to_string())?;
    let code = input.tensor_type.encode(Numbering::Legacy).unwrap_or(1);
    ctx.set_input(0, code, &input.dims, &input.data)
        .map_err(|e| e.to_string())?;
    ctx.compute().map_err(|e| e.to_string())?;
    let (output, _) = ctx
        .get_output_vec(0, OUTPUT_PROBE, OUTPUT_LIMIT)
        .map_err(|e| e.to_string())?;

    let scores: Vec<f32> = match o.output_dtype {
        TensorType::U8 => output.iter().map(|&b| b as f32).collect(),
        _ => {
            if output.len() % 4 != 0 {
                return Err(format!(
                    "output has {} bytes, not a whole number of f32 values",
                    output.len()
                ));
            }
            output
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        }
    };

    let first = if o.skip_first { 1 } else { 0 };
    let mut ranked: Vec<usize> = (first..scores.len()).collect();
    // Highest score first; ties (and NaNs) keep index order.
    ranked.sort_by(|&a, &b| {
        scores[b]
            .partial_cmp(&scores[a])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    ranked.truncate(o.top);

    println!(
        "classify: model={} encoding={} input={}[{}] output={}[{}] top={}",
        o.model,
        encoding.name(),
        input.tensor_type.name(),
        tensor_name::format_dims(&input.dims),
        o.output_dtype.name(),
        scores.len(),
        ranked.len()
    );
    for i in ranked {
        let label = labels
            .as_ref()
            .and_then(|l| l.get(i - first))
            .map(|s| s.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or("-");
        println!("{} {} {:.4}", i, label, scores[i]);
    }
    Ok(())
}

fn main() {
    let argv: Vec<String> = env::args().skip(1).collect();
    if argv.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", USAGE);
        return;
    }
    let options = match parse_args(&argv) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{}", e);
            process::exit(2);
        }
    };
    if let Err(e) = run(options) {
        eprintln!("error: {}", e);
        process::exit(1);
    }
}

//! ImageNet classification with a TorchScript model, shaped like WasmEdge's
//! `pytorch-mobilenet-image` example guests (written for this project).
//!
//! Usage: pytorch-image MODEL.pt IMAGE [LABELS]
//!        pytorch-image --name NAME IMAGE [LABELS]
//!
//! Makes the calls those guests make, in the current (wasi-nn crate >= 0.6)
//! numbering: `load` (encoding pytorch = 3, target cpu, one builder) or
//! `load_by_name`, then `init_execution_context`, `set_input` (index 0, F32 = 1,
//! dims [1, 3, 224, 224]), `compute`, and one `get_output` into a buffer of
//! exactly 1000 f32. The guest decodes the image itself: RGB, resized to
//! 224x224 with a triangle (bilinear, antialiased) filter, rounded to 8 bits,
//! then `(pixel / 255 - mean) / std` with the ImageNet mean and std, planar.

#[path = "../../classify/src/image.rs"]
#[allow(dead_code)]
mod image;
mod resize;

use std::{env, fs, process};

use nn::{Encoding, Graph, Numbering, Target, TensorType};

const USAGE: &str = "\
usage: pytorch-image MODEL.pt IMAGE [LABELS]
       pytorch-image --name NAME IMAGE [LABELS]

MODEL   a TorchScript file, loaded with encoding pytorch (3)
NAME    a model the host preloaded (e.g. --nn-preload NAME:PyTorch:CPU:model.pt)
IMAGE   a JPEG or PNG
LABELS  optional, one label per line (a leading WordNet id such as
        'n07753592 ' is dropped)

prints the top 5 as '   K.) [INDEX](SCORE)LABEL'";

const SIZE: usize = 224;
const CLASSES: usize = 1000;
const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

enum Model {
    File(String),
    Named(String),
}

struct Args {
    model: Model,
    image: String,
    labels: Option<String>,
}

fn parse_args(argv: &[String]) -> Result<Args, String> {
    let (model, rest) = match argv.first().map(String::as_str) {
        Some("--name") => match argv.get(1) {
            Some(name) => (Model::Named(name.clone()), &argv[2..]),
            None => return Err("--name needs a value".to_string()),
        },
        Some(path) if !path.starts_with("--") => (Model::File(path.to_string()), &argv[1..]),
        _ => return Err(USAGE.to_string()),
    };
    match rest {
        [image] => Ok(Args {
            model,
            image: image.clone(),
            labels: None,
        }),
        [image, labels] => Ok(Args {
            model,
            image: image.clone(),
            labels: Some(labels.clone()),
        }),
        _ => Err(USAGE.to_string()),
    }
}

fn read(path: &str, what: &str) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("cannot read {} '{}': {}", what, path, e))
}

fn load(model: &Model) -> Result<Graph, String> {
    let graph = match model {
        Model::File(path) => {
            let weights = read(path, "model")?;
            println!("Read torchscript binaries, size in bytes: {}", weights.len());
            Graph::load(&[&weights], Encoding::PyTorch, Target::Cpu)
        }
        Model::Named(name) => Graph::load_by_name(name),
    };
    graph.map_err(|e| e.to_string())
}

/// The image as f32 NCHW bytes: RGB, ImageNet-normalised.
fn image_to_tensor(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let img = image::decode(bytes)?;
    let rgb = resize::triangle(&img, SIZE, SIZE);
    let plane = SIZE * SIZE;
    let mut values = vec![0f32; 3 * plane];
    for p in 0..plane {
        for c in 0..3 {
            values[c * plane + p] = (rgb[p * 3 + c] as f32 / 255.0 - MEAN[c]) / STD[c];
        }
    }
    Ok(values.iter().flat_map(|v| v.to_le_bytes()).collect())
}

fn read_labels(path: &str) -> Result<Vec<String>, String> {
    let text = read(path, "labels")?;
    let label = |line: &str| {
        let line = line.trim();
        match line.split_once(' ') {
            Some((id, rest))
                if id.len() == 9
                    && id.starts_with('n')
                    && id[1..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                rest.trim().to_string()
            }
            _ => line.to_string(),
        }
    };
    Ok(String::from_utf8_lossy(&text).lines().map(label).collect())
}

fn run(args: Args) -> Result<(), String> {
    let labels = match &args.labels {
        Some(path) => read_labels(path)?,
        None => Vec::new(),
    };
    let graph = load(&args.model)?;
    println!("Loaded graph into wasi-nn with ID: {}", graph.id());
    let mut ctx = graph.init_execution_context().map_err(|e| e.to_string())?;
    println!("Created wasi-nn execution context with ID: {}", ctx.id());

    let bytes = read(&args.image, "image")?;
    let tensor = image_to_tensor(&bytes).map_err(|e| format!("'{}': {}", args.image, e))?;
    println!("Read input tensor, size in bytes: {}", tensor.len());
    let f32_type = TensorType::F32.encode(Numbering::Current).unwrap_or(1);
    let dims = [1, 3, SIZE as u32, SIZE as u32];
    ctx.set_input(0, f32_type, &dims, &tensor)
        .map_err(|e| e.to_string())?;
    ctx.compute().map_err(|e| e.to_string())?;
    println!("Executed graph inference");

    let mut output = vec![0u8; CLASSES * 4];
    let written = ctx.get_output(0, &mut output).map_err(|e| e.to_string())?;
    if written != output.len() {
        return Err(format!(
            "output 0 has {} bytes, expected {} ({} f32 scores)",
            written,
            output.len(),
            CLASSES
        ));
    }
    let scores: Vec<f32> = output
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let mut ranked: Vec<usize> = (0..CLASSES).collect();
    ranked.sort_by(|&a, &b| {
        scores[b]
            .partial_cmp(&scores[a])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    for (k, &i) in ranked.iter().take(5).enumerate() {
        let label = labels.get(i).map(String::as_str).unwrap_or("");
        println!("   {}.) [{}]({:.4}){}", k + 1, i, scores[i], label);
    }
    Ok(())
}

fn main() {
    let argv: Vec<String> = env::args().skip(1).collect();
    if argv.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", USAGE);
        return;
    }
    let args = match parse_args(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{}", e);
            process::exit(2);
        }
    };
    if let Err(e) = run(args) {
        eprintln!("error: {}", e);
        process::exit(1);
    }
}

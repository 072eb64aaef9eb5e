//! Road segmentation with OpenVINO's road-segmentation-adas-0001, the way
//! WasmEdge's `openvino-road-segmentation-adas` example guest does it.
//!
//! Usage: road-seg MODEL.xml MODEL.bin INPUT.tensor
//!
//! INPUT.tensor holds 1x3x512x896 f32 values (BGR, 0..255, planar), i.e.
//! 5,505,024 bytes. The output, 1x4x512x896 f32 (BG, road, curb, mark), is
//! written to `wasinn-openvino-inference-output-1x4x512x896xf32.tensor` in the
//! current directory.

use std::{env, fs, process};

use nn::{Encoding, Graph, Numbering, Target, TensorType};

const INPUT_DIMS: [u32; 4] = [1, 3, 512, 896];
const OUTPUT_BYTES: usize = 4 * 512 * 896 * 4;
const OUTPUT_PATH: &str = "wasinn-openvino-inference-output-1x4x512x896xf32.tensor";

fn read(path: &str, what: &str) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("cannot read {} '{}': {}", what, path, e))
}

fn run(xml_path: &str, bin_path: &str, tensor_path: &str) -> Result<(), String> {
    let xml = read(xml_path, "graph XML")?;
    println!("Load graph XML, size in bytes: {}", xml.len());
    let weights = read(bin_path, "graph weights")?;
    println!("Load graph weights, size in bytes: {}", weights.len());
    let input = read(tensor_path, "input tensor")?;
    println!("Load input tensor, size in bytes: {}", input.len());

    let expected: usize = INPUT_DIMS.iter().map(|&d| d as usize).product::<usize>() * 4;
    if input.len() != expected {
        return Err(format!(
            "input tensor '{}' has {} bytes, expected {} (f32 {:?})",
            tensor_path,
            input.len(),
            expected,
            INPUT_DIMS
        ));
    }

    let graph = Graph::load(&[&xml, &weights], Encoding::OpenVino, Target::Cpu)
        .map_err(|e| e.to_string())?;
    println!("Loaded graph into wasi-nn with ID: {}", graph.id());
    let mut ctx = graph.init_execution_context().map_err(|e| e.to_string())?;
    println!("Created wasi-nn execution context with ID: {}", ctx.id());

    // F32 is 1 in both tensor-type numberings.
    let f32_code = TensorType::F32.encode(Numbering::Legacy).unwrap_or(1);
    ctx.set_input(0, f32_code, &INPUT_DIMS, &input)
        .map_err(|e| e.to_string())?;
    ctx.compute().map_err(|e| e.to_string())?;
    println!("Executed graph inference");

    let mut output = vec![0u8; OUTPUT_BYTES];
    let written = ctx.get_output(0, &mut output).map_err(|e| e.to_string())?;
    println!("bytes_written: {}", written);
    if written != OUTPUT_BYTES {
        eprintln!(
            "warning: expected {} output bytes, the host wrote {}",
            OUTPUT_BYTES, written
        );
    }

    println!("dump tensor to {:?}", OUTPUT_PATH);
    let tmp = format!("{}.tmp", OUTPUT_PATH);
    fs::write(&tmp, &output).map_err(|e| format!("cannot write '{}': {}", tmp, e))?;
    fs::rename(&tmp, OUTPUT_PATH)
        .map_err(|e| format!("cannot rename '{}' to '{}': {}", tmp, OUTPUT_PATH, e))?;
    println!("\tThe size of bytes: {}", output.len());
    Ok(())
}

fn main() {
    let args: Vec<String> = env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: road-seg MODEL.xml MODEL.bin INPUT.tensor");
        process::exit(2);
    }
    if let Err(e) = run(&args[1], &args[2], &args[3]) {
        eprintln!("error: {}", e);
        process::exit(1);
    }
}

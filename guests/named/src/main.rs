//! Runs a model the host has preloaded under a name (`load_by_name`).
//!
//! Usage: named [--dims AxBx..] [--type T] [--probe BYTES] NAME INPUT.tensor [OUTPUT.tensor]
//!
//! Speaks the current (>= 0.6) tensor-type numbering: F16 0, F32 1, F64 2,
//! U8 3, I32 4, I64 5. The input's dims and type come from the flags or from
//! the input's file name (e.g. `x-1x4xf32.tensor`). The output's size is not
//! known in advance: the guest calls get_output with a small buffer (16 bytes
//! unless --probe says otherwise) and, on too_large, retries with the size the
//! host wrote to bytes_written (WasmEdge's convention).

use std::{env, fs, process};

use nn::{errno, tensor_name, Graph, Numbering, TensorType};

/// Largest output the guest will try to hold.
const OUTPUT_LIMIT: usize = 512 << 20;

const USAGE: &str = "usage: named [--dims AxBx..] [--type f32|f16|f64|u8|i32|i64] [--probe BYTES] NAME INPUT.tensor [OUTPUT.tensor]";

struct Args {
    dims: Option<Vec<u32>>,
    tensor_type: Option<TensorType>,
    probe: usize,
    name: String,
    input: String,
    output: Option<String>,
}

fn parse_args(argv: &[String]) -> Result<Args, String> {
    let mut dims = None;
    let mut tensor_type = None;
    let mut probe = 16;
    let mut positional = Vec::new();
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| it.next().cloned().ok_or(format!("{} needs a value", flag));
        match arg.as_str() {
            "--dims" => {
                let v = value("--dims")?;
                dims = Some(
                    tensor_name::parse_dims(&v)
                        .ok_or(format!("bad --dims '{}', expected e.g. 1x4", v))?,
                );
            }
            "--type" => {
                let v = value("--type")?;
                tensor_type = Some(TensorType::parse(&v).ok_or(format!("unknown --type '{}'", v))?);
            }
            "--probe" => {
                let v = value("--probe")?;
                probe = v.parse().map_err(|_| format!("bad --probe '{}'", v))?;
            }
            s if s.starts_with("--") => return Err(format!("unknown option '{}'\n{}", s, USAGE)),
            _ => positional.push(arg.clone()),
        }
    }
    if positional.len() < 2 || positional.len() > 3 {
        return Err(USAGE.to_string());
    }
    let output = positional.get(2).cloned();
    Ok(Args {
        dims,
        tensor_type,
        probe,
        name: positional[0].clone(),
        input: positional[1].clone(),
        output,
    })
}

/// `dir/foo.tensor` -> `dir/foo.output.tensor`.
fn default_output(input: &str) -> String {
    let file_start = input.rfind('/').map_or(0, |i| i + 1);
    let stem = match input[file_start..].rfind('.') {
        Some(dot) if dot > 0 => &input[..file_start + dot],
        _ => input,
    };
    format!("{}.output.tensor", stem)
}

fn load(name: &str) -> Result<Graph, String> {
    Graph::load_by_name(name).map_err(|e| match e.errno {
        errno::NOT_FOUND | errno::MODEL_NOT_FOUND => {
            format!("model '{}' not found (errno {})", name, e.errno)
        }
        _ => format!(
            "cannot load model '{}': {} (errno {})",
            name,
            e.name(),
            e.errno
        ),
    })
}

/// Reads output `index`, growing the buffer as the host asks.
fn read_output(ctx: &nn::Context, index: u32, probe: usize) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; probe.min(OUTPUT_LIMIT)];
    let mut host_reported = false;
    loop {
        match ctx.get_output(index, &mut buf) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(buf);
            }
            Err(e) if e.errno == errno::TOO_LARGE => {
                let next = match e.required {
                    Some(n) if !host_reported && n <= OUTPUT_LIMIT => {
                        host_reported = true;
                        eprintln!(
                            "get_output {}: {} bytes too small, host needs {}; retrying",
                            index,
                            buf.len(),
                            n
                        );
                        n
                    }
                    Some(n) if n > OUTPUT_LIMIT => {
                        return Err(format!(
                            "output {} needs {} bytes, more than the {} this guest allows",
                            index, n, OUTPUT_LIMIT
                        ))
                    }
                    Some(_) => {
                        return Err(format!(
                            "get_output {} still too_large after resizing to the reported size",
                            index
                        ))
                    }
                    None if buf.len() < OUTPUT_LIMIT => {
                        let n = buf.len().saturating_mul(2).max(16).min(OUTPUT_LIMIT);
                        eprintln!(
                            "get_output {}: {} bytes too small and the host reported no size; retrying with {}",
                            index,
                            buf.len(),
                            n
                        );
                        n
                    }
                    None => {
                        return Err(format!(
                            "output {} is larger than {} bytes",
                            index, OUTPUT_LIMIT
                        ))
                    }
                };
                buf = vec![0u8; next];
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let graph = load(&args.name)?;
    println!(
        "Loaded graph '{}' into wasi-nn with ID: {}",
        args.name,
        graph.id()
    );
    let mut ctx = graph.init_execution_context().map_err(|e| e.to_string())?;
    println!("Created wasi-nn execution context with ID: {}", ctx.id());

    let data =
        fs::read(&args.input).map_err(|e| format!("cannot read input '{}': {}", args.input, e))?;
    let from_name = tensor_name::parse(&args.input);
    let dims = args.dims.or(from_name.dims).ok_or(format!(
        "no dims for '{}': pass --dims or put them in the file name (e.g. x-1x4xf32.tensor)",
        args.input
    ))?;
    let tensor_type = match (args.tensor_type, from_name.tensor_type, from_name.type_name) {
        (Some(t), _, _) => t,
        (None, Some(t), _) => t,
        (None, None, Some(n)) => {
            return Err(format!("element type '{}' has no wasi-nn tensor type", n))
        }
        (None, None, None) => {
            return Err(format!(
                "no element type for '{}': pass --type or put it in the file name",
                args.input
            ))
        }
    };
    let expected = dims.iter().map(|&d| d as usize).product::<usize>() * tensor_type.size();
    if data.len() != expected {
        return Err(format!(
            "input '{}' has {} bytes, but {} {} needs {}",
            args.input,
            data.len(),
            tensor_type.name(),
            tensor_name::format_dims(&dims),
            expected
        ));
    }
    println!(
        "Read input tensor, size in bytes: {} ({} {})",
        data.len(),
        tensor_type.name(),
        tensor_name::format_dims(&dims)
    );

    // Every type exists in the current numbering.
    let code = tensor_type.encode(Numbering::Current).unwrap_or(1);
    ctx.set_input(0, code, &dims, &data)
        .map_err(|e| e.to_string())?;
    ctx.compute().map_err(|e| e.to_string())?;
    println!("Executed graph inference");

    let output = read_output(&ctx, 0, args.probe)?;
    println!("output 0: {} bytes", output.len());

    let path = args.output.unwrap_or_else(|| default_output(&args.input));
    let tmp = format!("{}.tmp", path);
    fs::write(&tmp, &output).map_err(|e| format!("cannot write '{}': {}", tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| format!("cannot rename '{}' to '{}': {}", tmp, path, e))?;
    println!("Wrote output tensor to '{}'", path);
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

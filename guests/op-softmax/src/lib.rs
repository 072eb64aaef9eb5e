//! softmax (map): scores in, probabilities out (f32, same dims).
//!
//! Parameters: `scale` and `zero_point` dequantize integer inputs first, `x = (q - zero_point)
//! * scale` (defaults 1 and 0); `from` = `logits` (default: `exp(x - max) / sum`) or
//! `probabilities` (scores that are already probabilities, e.g. a quantized softmax output:
//! `x / sum`, which is `softmax(log x)`).

use op::{DType, Input, Operator, Outcome, Params, Value};

struct Softmax {
    scale: f32,
    zero_point: f32,
    probabilities: bool,
}

impl Operator for Softmax {
    fn init(p: &Params) -> Result<Self, String> {
        p.only(&["scale", "zero_point", "from"])?;
        let probabilities = match p.get("from").unwrap_or("logits") {
            "logits" => false,
            "probabilities" => true,
            other => return Err(format!("parameter from: expected logits or probabilities, got '{}'", other)),
        };
        Ok(Softmax {
            scale: p.number("scale", 1.0)? as f32,
            zero_point: p.number("zero_point", 0.0)? as f32,
            probabilities,
        })
    }

    fn process(&mut self, input: &Input) -> Result<Outcome, String> {
        let (mut x, dims) = input.to_f32()?;
        if x.is_empty() {
            return Err("softmax of an empty tensor".to_string());
        }
        if !matches!(input.tensor, Some((DType::F32, _)) | Some((DType::F64, _))) {
            for v in x.iter_mut() {
                *v = (*v - self.zero_point) * self.scale;
            }
        }
        let out: Vec<f32> = if self.probabilities {
            if x.iter().any(|&v| v < 0.0) {
                return Err("from=probabilities, but some scores are negative".to_string());
            }
            let sum: f64 = x.iter().map(|&v| v as f64).sum();
            if sum <= 0.0 {
                return Err("from=probabilities, but the scores sum to 0".to_string());
            }
            x.iter().map(|&v| (v as f64 / sum) as f32).collect()
        } else {
            let max = x.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            let exps: Vec<f64> = x.iter().map(|&v| ((v - max) as f64).exp()).collect();
            let sum: f64 = exps.iter().sum();
            exps.iter().map(|&e| (e / sum) as f32).collect()
        };
        Ok(Outcome::Value(Value::f32s(dims, &out)))
    }
}

op::export!(Softmax);

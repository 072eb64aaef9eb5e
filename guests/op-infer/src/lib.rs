//! infer (map): a tensor in, a model's output 0 out, through wasi-nn (`wasi_ephemeral_nn`).
//!
//! Parameters: `model` (required): the name of a preloaded model (`load_by_name`, e.g.
//! `--nn-preload NAME:TensorflowLite:CPU:model.tflite`); `output_type` (default f32):
//! how to read output 0; `output_dims` (optional, e.g. `1x1001`): its dims (default: one
//! dimension, the element count); `output` (default 0): which output. The graph and its
//! execution context are made once, in `op_init`, and reused for every item.

use nn::{tensor_name, Context, Graph, Numbering, TensorType};
use op::{DType, Input, Operator, Outcome, Params, Value};

const OUTPUT_PROBE: usize = 1 << 20;
const OUTPUT_LIMIT: usize = 256 << 20;

struct Infer {
    _graph: Graph,
    context: Context,
    output_type: DType,
    output_dims: Option<Vec<u32>>,
    output: u32,
}

fn nn_type(t: DType) -> TensorType {
    match t {
        DType::F16 => TensorType::F16,
        DType::F32 => TensorType::F32,
        DType::F64 => TensorType::F64,
        DType::U8 => TensorType::U8,
        DType::I32 => TensorType::I32,
        DType::I64 => TensorType::I64,
    }
}

impl Operator for Infer {
    fn init(p: &Params) -> Result<Self, String> {
        p.only(&["model", "output_type", "output_dims", "output"])?;
        let name = p.get("model").ok_or("parameter model is required (a preloaded model's name)")?;
        let output_type = match p.get("output_type") {
            None => DType::F32,
            Some(t) => DType::parse(t).ok_or(format!("parameter output_type: unknown type '{}'", t))?,
        };
        let output_dims = match p.get("output_dims") {
            None => None,
            Some(d) => Some(tensor_name::parse_dims(d).ok_or(format!("parameter output_dims: bad dims '{}'", d))?),
        };
        let graph = Graph::load_by_name(name).map_err(|e| format!("model '{}': {}", name, e))?;
        let context = graph.init_execution_context().map_err(|e| e.to_string())?;
        Ok(Infer {
            _graph: graph,
            context,
            output_type,
            output_dims,
            output: p.count("output", 0, 0)? as u32,
        })
    }

    fn process(&mut self, input: &Input) -> Result<Outcome, String> {
        let (dtype, dims) = input.tensor.as_ref().ok_or("expected a tensor, got bytes")?;
        let code = nn_type(*dtype).encode(Numbering::Current).unwrap_or(1);
        self.context
            .set_input(0, code, dims, input.data)
            .map_err(|e| e.to_string())?;
        self.context.compute().map_err(|e| e.to_string())?;
        let (data, _) = self
            .context
            .get_output_vec(self.output, OUTPUT_PROBE, OUTPUT_LIMIT)
            .map_err(|e| e.to_string())?;
        let size = self.output_type.size();
        if data.len() % size != 0 {
            return Err(format!("output has {} bytes, not a whole number of {:?}", data.len(), self.output_type));
        }
        let count = (data.len() / size) as u32;
        let dims = match &self.output_dims {
            Some(d) if d.iter().product::<u32>() == count => d.clone(),
            Some(d) => return Err(format!("output has {} elements, output_dims {:?} has {}", count, d, d.iter().product::<u32>())),
            None => vec![count],
        };
        Ok(Outcome::Value(Value::Tensor {
            dtype: self.output_type,
            dims,
            data,
        }))
    }
}

op::export!(Infer);

//! topk (map): scores in, the `k` best out as an f32 tensor [k, 2] of (index, score) rows.
//!
//! Parameters: `k` (default 5). Highest score first; ties keep index order (as the classify
//! guest ranks them). Indices count over the flattened tensor.

use op::{Input, Operator, Outcome, Params, Value};

struct TopK {
    k: usize,
}

impl Operator for TopK {
    fn init(p: &Params) -> Result<Self, String> {
        p.only(&["k"])?;
        Ok(TopK { k: p.count("k", 5, 1)? })
    }

    fn process(&mut self, input: &Input) -> Result<Outcome, String> {
        let (scores, _) = input.to_f32()?;
        let mut ranked: Vec<usize> = (0..scores.len()).collect();
        ranked.sort_by(|&a, &b| {
            scores[b]
                .partial_cmp(&scores[a])
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        ranked.truncate(self.k);
        let rows: Vec<f32> = ranked
            .iter()
            .flat_map(|&i| [i as f32, scores[i]])
            .collect();
        Ok(Outcome::Value(Value::f32s(vec![ranked.len() as u32, 2], &rows)))
    }
}

op::export!(TopK);

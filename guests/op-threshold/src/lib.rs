//! threshold (filter or branch): true when the item's best score reaches `min`.
//!
//! Parameters: `min` (required); `column` (optional): for a 2-D tensor such as top-K's
//! [k, 2] rows, look only at this column (1 = the scores). The best score is the largest value
//! looked at; the item passes on unchanged.

use op::{Input, Operator, Outcome, Params};

struct Threshold {
    min: f32,
    column: Option<usize>,
}

impl Operator for Threshold {
    fn init(p: &Params) -> Result<Self, String> {
        p.only(&["min", "column"])?;
        if p.get("min").is_none() {
            return Err("parameter min is required".to_string());
        }
        let column = match p.get("column") {
            None => None,
            Some(_) => Some(p.count("column", 0, 0)?),
        };
        Ok(Threshold {
            min: p.number("min", 0.0)? as f32,
            column,
        })
    }

    fn process(&mut self, input: &Input) -> Result<Outcome, String> {
        let (values, dims) = input.to_f32()?;
        let looked: Vec<f32> = match self.column {
            None => values,
            Some(c) => {
                let width = match dims.as_slice() {
                    [_, w] => *w as usize,
                    _ => return Err(format!("column {} needs a 2-D tensor, got {} dims", c, dims.len())),
                };
                if c >= width {
                    return Err(format!("column {} of a tensor {} wide", c, width));
                }
                values.iter().skip(c).step_by(width).cloned().collect()
            }
        };
        let best = looked.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        Ok(Outcome::Pass(best >= self.min))
    }
}

op::export!(Threshold);

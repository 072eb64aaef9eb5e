//! labels (map): top-K rows in (an f32 tensor [k, 2] of index, score), text out.
//!
//! Parameters: `labels` (required): the label list, one per line (line i is class i). Output:
//! UTF-8 bytes, one line per row, `INDEX LABEL SCORE` with 4 decimals — the lines the classify
//! guest prints; the label is the whole (trimmed) line, `-` when missing or empty.

use op::{Input, Operator, Outcome, Params, Value};

struct Labels {
    lines: Vec<String>,
}

impl Operator for Labels {
    fn init(p: &Params) -> Result<Self, String> {
        p.only(&["labels"])?;
        let text = p.get("labels").ok_or("parameter labels is required")?;
        Ok(Labels {
            lines: text.lines().map(|l| l.trim().to_string()).collect(),
        })
    }

    fn process(&mut self, input: &Input) -> Result<Outcome, String> {
        let (values, dims) = input.to_f32()?;
        if dims.len() != 2 || dims[1] != 2 {
            return Err(format!("expected [k, 2] rows of (index, score), got dims {:?}", dims));
        }
        let mut text = String::new();
        for row in values.chunks_exact(2) {
            let index = row[0] as usize;
            let label = self
                .lines
                .get(index)
                .map(|s| s.as_str())
                .filter(|s| !s.is_empty())
                .unwrap_or("-");
            text.push_str(&format!("{} {} {:.4}\n", index, label, row[1]));
        }
        Ok(Outcome::Value(Value::Bytes(text.into_bytes())))
    }
}

op::export!(Labels);

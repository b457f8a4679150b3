//! Inter-column rules such as `sched_arr_time >= 0` or `dep_delay <= arr_delay`.
//!
//! The grammar is deliberately tiny, `<operand> <op> <operand>`, where an operand is a column name or a
//! number: it covers the comparisons contracts need and stays readable in a report.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CompareOp {
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            CompareOp::Lt => left < right,
            CompareOp::Le => left <= right,
            CompareOp::Gt => left > right,
            CompareOp::Ge => left >= right,
            CompareOp::Eq => left == right,
            CompareOp::Ne => left != right,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Column(String),
    Number(f64),
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Column(name) => f.write_str(name),
            Operand::Number(value) => write!(f, "{value}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub left: Operand,
    pub op: CompareOp,
    pub right: Operand,
}

impl Comparison {
    /// The columns the rule reads, in order of appearance.
    pub fn columns(&self) -> Vec<&str> {
        [&self.left, &self.right]
            .into_iter()
            .filter_map(|operand| match operand {
                Operand::Column(name) => Some(name.as_str()),
                Operand::Number(_) => None,
            })
            .collect()
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.left, self.op.symbol(), self.right)
    }
}

/// Parses `left op right`; the message says what is wrong so a spec author can fix it.
pub fn parse(text: &str) -> Result<Comparison, String> {
    // Longest operators first, so `<=` is not read as `<` followed by `=`.
    const OPS: [(&str, CompareOp); 6] = [
        ("<=", CompareOp::Le),
        (">=", CompareOp::Ge),
        ("==", CompareOp::Eq),
        ("!=", CompareOp::Ne),
        ("<", CompareOp::Lt),
        (">", CompareOp::Gt),
    ];
    let (at, symbol, op) = OPS
        .iter()
        .filter_map(|(symbol, op)| text.find(symbol).map(|at| (at, *symbol, *op)))
        .min_by_key(|(at, symbol, _)| (*at, std::cmp::Reverse(symbol.len())))
        .ok_or_else(|| format!("{text:?} has no comparison operator (one of < <= > >= == !=)"))?;
    let left = operand(&text[..at], text)?;
    let right = operand(&text[at + symbol.len()..], text)?;
    if matches!((&left, &right), (Operand::Number(_), Operand::Number(_))) {
        return Err(format!(
            "{text:?} compares two constants; name at least one column"
        ));
    }
    Ok(Comparison { left, op, right })
}

fn operand(raw: &str, whole: &str) -> Result<Operand, String> {
    let token = raw.trim();
    if token.is_empty() {
        return Err(format!(
            "{whole:?} is missing an operand: write `<column or number> <op> <column or number>`"
        ));
    }
    if let Ok(number) = token.parse::<f64>() {
        return Ok(Operand::Number(number));
    }
    let is_identifier = token.starts_with(|c: char| c.is_alphabetic() || c == '_')
        && token.chars().all(|c| c.is_alphanumeric() || c == '_');
    if is_identifier {
        Ok(Operand::Column(token.to_owned()))
    } else {
        Err(format!(
            "{whole:?}: {token:?} is neither a column name nor a number"
        ))
    }
}

#[cfg(test)]
#[path = "rule_tests.rs"]
mod tests;

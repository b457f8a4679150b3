//! Hyperparameters: each learner's defaults, and the spec's small search space expanded into the
//! combinations to try.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{GbdtParams, LogisticParams, RowForm};

/// A learner, as a spec names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    LogisticRegression,
    GradientBoosting,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelParams {
    LogisticRegression(LogisticParams),
    GradientBoosting(GbdtParams),
}

impl ModelParams {
    pub fn defaults(kind: ModelKind) -> ModelParams {
        match kind {
            ModelKind::LogisticRegression => {
                ModelParams::LogisticRegression(LogisticParams::default())
            }
            ModelKind::GradientBoosting => ModelParams::GradientBoosting(GbdtParams::default()),
        }
    }

    /// The learner's name, as the spec writes it.
    pub fn learner(&self) -> &'static str {
        match self {
            ModelParams::LogisticRegression(_) => "logistic_regression",
            ModelParams::GradientBoosting(_) => "gradient_boosting",
        }
    }

    /// The form of the training rows the learner takes.
    pub fn row_form(&self) -> RowForm {
        match self {
            ModelParams::LogisticRegression(_) => RowForm::Encoded,
            ModelParams::GradientBoosting(_) => RowForm::Binned,
        }
    }

    fn set(&mut self, name: &str, value: &toml::Value) -> Result<(), String> {
        match self {
            ModelParams::LogisticRegression(p) => match name {
                "c" => p.c = positive_number(name, value)?,
                "max_iter" => p.max_iter = positive_integer(name, value)? as u64,
                _ => return Err(unknown(name, "c, max_iter")),
            },
            ModelParams::GradientBoosting(p) => match name {
                "rounds" => p.rounds = positive_integer(name, value)?,
                "learning_rate" => p.learning_rate = positive_number(name, value)?,
                "num_leaves" => p.num_leaves = positive_integer(name, value)?.max(2),
                "max_depth" => p.max_depth = Some(positive_integer(name, value)?),
                "min_leaf_rows" => p.min_leaf_rows = positive_integer(name, value)?,
                "l2" => p.l2 = non_negative_number(name, value)?,
                "early_stopping_rounds" => {
                    p.early_stopping_rounds = non_negative_integer(name, value)?
                }
                _ => {
                    return Err(unknown(
                        name,
                        "rounds, learning_rate, num_leaves, max_depth, min_leaf_rows, l2, early_stopping_rounds",
                    ))
                }
            },
        }
        Ok(())
    }
}

/// Every combination of a search space's values (each parameter and the values to try), on top of
/// the learner's defaults.
pub fn grid(
    model: ModelKind,
    search: &BTreeMap<String, Vec<toml::Value>>,
) -> Result<Vec<ModelParams>, String> {
    let mut combos = vec![ModelParams::defaults(model)];
    for (name, values) in search {
        if values.is_empty() {
            return Err(format!("{name}: list at least one value"));
        }
        let mut next = Vec::with_capacity(combos.len() * values.len());
        for combo in &combos {
            for value in values {
                let mut params = combo.clone();
                params.set(name, value)?;
                next.push(params);
            }
        }
        combos = next;
    }
    Ok(combos)
}

fn unknown(name: &str, known: &str) -> String {
    format!("unknown parameter {name:?} (known: {known})")
}

fn number(name: &str, value: &toml::Value) -> Result<f64, String> {
    match value {
        toml::Value::Float(f) => Ok(*f),
        toml::Value::Integer(i) => Ok(*i as f64),
        other => Err(format!("{name} must be a number, not {other}")),
    }
}

fn positive_number(name: &str, value: &toml::Value) -> Result<f64, String> {
    let v = number(name, value)?;
    if v > 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{name} must be positive, not {v}"))
    }
}

fn non_negative_number(name: &str, value: &toml::Value) -> Result<f64, String> {
    let v = number(name, value)?;
    if v >= 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{name} must be zero or more, not {v}"))
    }
}

fn non_negative_integer(name: &str, value: &toml::Value) -> Result<usize, String> {
    match value {
        toml::Value::Integer(i) if *i >= 0 => Ok(*i as usize),
        other => Err(format!(
            "{name} must be a whole number, zero or more, not {other}"
        )),
    }
}

fn positive_integer(name: &str, value: &toml::Value) -> Result<usize, String> {
    match non_negative_integer(name, value)? {
        0 => Err(format!("{name} must be at least 1")),
        v => Ok(v),
    }
}

//! Every rule of a dataset contract checked against one file, every failure reported: the rule, the
//! columns, how many rows, and a few example rows with their raw values.

use std::collections::HashSet;

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use super::coerce::{coerce, TypedColumn};
use super::decode::Decoded;
use crate::excerpt::excerpt;
use crate::spec::{AllowedValue, ColumnSpec, CompareOp, DatasetSpec, ExtraColumns, Operand};

/// Example rows listed per finding.
const MAX_EXAMPLES: usize = 5;

/// One failed (or tolerated) check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// A stable name: `type`, `not_null`, `min`, `max`, `allowed_values`, `regex`, `max_length`, `unique`,
    /// `max_null_fraction`, `required_column`, `extra_column`, `row_count`, `unique_key`,
    /// `rule:<name>`, or a decoding problem such as `empty_file` or `encoding`.
    pub rule: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    pub message: String,
    /// Rows that failed (1 for a file-level check).
    pub count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mostly: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Example>,
}

impl Finding {
    pub fn file_level(
        rule: impl Into<String>,
        columns: Vec<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            rule: rule.into(),
            columns,
            message: message.into(),
            count: 1,
            fraction: None,
            mostly: None,
            examples: vec![],
        }
    }
}

/// A failing row: its 1-based position among the file's data rows, and the raw value(s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    pub row: u64,
    pub value: String,
}

/// A row-level check that failed beyond its tolerance, with the rows it flags.
pub struct RowFailure {
    pub finding: Finding,
    pub rows: BooleanChunked,
}

/// The outcome of checking a file, before the policy decides what to do.
pub struct Checked {
    /// Declared columns only, typed, in spec order (missing optional columns as nulls).
    pub frame: DataFrame,
    /// Failures that reject the file whatever the row policy.
    pub file_failures: Vec<Finding>,
    /// Row-level failures beyond their `mostly` tolerance: reject, or drop those rows, per policy.
    pub row_failures: Vec<RowFailure>,
    /// Failures within tolerance and notes (such as dropped extra columns): recorded, not fatal.
    pub warnings: Vec<Finding>,
}

pub fn check(raw: &DataFrame, decoded: &Decoded, spec: &DatasetSpec) -> PolarsResult<Checked> {
    let mut out = Checked::empty();
    check_reading(raw, decoded, &mut out);
    check_extra_columns(raw, spec, &mut out);
    // Columns are independent: type and check them on every core, then merge in spec order.
    let columns: Vec<(Column, Checked)> = spec
        .columns
        .par_iter()
        .map(|col| check_declared_column(raw, col))
        .collect::<PolarsResult<_>>()?;
    let mut typed_columns = Vec::with_capacity(columns.len());
    for (column, found) in columns {
        typed_columns.push(column);
        out.merge(found);
    }
    out.frame = DataFrame::new(raw.height(), typed_columns)?;
    check_table(raw, spec, &mut out)?;
    Ok(out)
}

/// Types one declared column and runs its checks; a missing column becomes nulls.
fn check_declared_column(raw: &DataFrame, col: &ColumnSpec) -> PolarsResult<(Column, Checked)> {
    let mut out = Checked::empty();
    let Ok(raw_col) = raw.column(&col.name) else {
        if col.required {
            out.file_failures.push(Finding::file_level(
                "required_column",
                vec![col.name.clone()],
                format!("required column {:?} is missing", col.name),
            ));
        }
        let dtype = super::coerce::polars_type(col.kind);
        return Ok((
            Column::full_null(col.name.as_str().into(), raw.height(), &dtype),
            out,
        ));
    };
    let raw_series = raw_col.as_materialized_series();
    let typed = match coerce(raw_series, col) {
        Ok(typed) => typed,
        // Values with no text form of the declared type (nested JSON, binary): the column is unusable.
        Err(e) => {
            out.file_failures.push(Finding::file_level(
                "type",
                vec![col.name.clone()],
                format!(
                    "{:?} holds {} values, which cannot be read as {}: {e}",
                    col.name,
                    raw_series.dtype(),
                    col.kind
                ),
            ));
            let dtype = super::coerce::polars_type(col.kind);
            return Ok((
                Column::full_null(col.name.as_str().into(), raw.height(), &dtype),
                out,
            ));
        }
    };
    check_column(raw_series, &typed, col, &mut out)?;
    Ok((typed.series.into_column(), out))
}

impl Checked {
    fn empty() -> Self {
        Self {
            frame: DataFrame::empty(),
            file_failures: vec![],
            row_failures: vec![],
            warnings: vec![],
        }
    }

    fn merge(&mut self, other: Checked) {
        self.file_failures.extend(other.file_failures);
        self.row_failures.extend(other.row_failures);
        self.warnings.extend(other.warnings);
    }
}

/// What reading the file noticed: rows with fewer fields than the header (filled with nulls by the
/// reader, so refused as rows here) and blank lines skipped.
fn check_reading(raw: &DataFrame, decoded: &Decoded, out: &mut Checked) {
    if decoded.blank_lines > 0 {
        out.warnings.push(Finding::file_level(
            "blank_lines",
            vec![],
            format!("{} blank line(s) skipped", decoded.blank_lines),
        ));
    }
    if decoded.short_rows.is_empty() {
        return;
    }
    let header = raw.width();
    let short: HashSet<usize> = decoded.short_rows.iter().map(|r| r.row).collect();
    let check = RowCheck {
        rule: "unreadable".into(),
        columns: vec![],
        message: format!("rows with fewer fields than the header's {header}"),
        rows: mask((0..raw.height()).map(|row| short.contains(&row))),
        mostly: 1.0,
    };
    let fields_of = |row: usize| {
        let fields = decoded
            .short_rows
            .iter()
            .find(|r| r.row == row)
            .map_or(0, |r| r.fields);
        format!("{fields} field(s)")
    };
    check.judge(fields_of, out);
}

fn check_extra_columns(raw: &DataFrame, spec: &DatasetSpec, out: &mut Checked) {
    let declared: HashSet<&str> = spec.columns.iter().map(|c| c.name.as_str()).collect();
    let extra: Vec<String> = raw
        .get_column_names()
        .into_iter()
        .filter(|n| !declared.contains(n.as_str()))
        .map(|n| n.to_string())
        .collect();
    if extra.is_empty() {
        return;
    }
    match spec.policy.extra_columns {
        ExtraColumns::Reject => out.file_failures.push(Finding::file_level(
            "extra_column",
            extra.clone(),
            format!("columns not in the spec: {} (declare them, or set policy.extra_columns = \"drop\")", extra.join(", ")),
        )),
        ExtraColumns::Drop => out.warnings.push(Finding::file_level(
            "extra_column",
            extra.clone(),
            format!("dropped columns not in the spec: {}", extra.join(", ")),
        )),
    }
}

fn check_column(
    raw: &Series,
    typed: &TypedColumn,
    col: &ColumnSpec,
    out: &mut Checked,
) -> PolarsResult<()> {
    let name = &col.name;
    let column_check = |rule: &str, message: String, rows: BooleanChunked| RowCheck {
        rule: rule.to_owned(),
        columns: vec![name.clone()],
        message,
        rows,
        mostly: col.mostly,
    };
    let mut checks = vec![column_check(
        "type",
        format!("values of {name:?} that are not {}", col.kind),
        typed.type_errors.clone(),
    )];
    let series = &typed.series;
    if !col.nullable {
        let missing = series.is_null() & !&typed.type_errors;
        checks.push(column_check(
            "not_null",
            format!("{name:?} is empty (or NaN) but not nullable"),
            missing,
        ));
    }
    if col.min.is_some() || col.max.is_some() {
        let values = series.cast(&DataType::Float64)?;
        let values = values.f64()?;
        if let Some(min) = col.min {
            checks.push(column_check(
                "min",
                format!("{name:?} below the minimum {min}"),
                no_nulls(values.lt(min))?,
            ));
        }
        if let Some(max) = col.max {
            checks.push(column_check(
                "max",
                format!("{name:?} above the maximum {max}"),
                no_nulls(values.gt(max))?,
            ));
        }
    }
    if let Some(allowed) = &col.allowed {
        let listed = allowed.iter().map(ToString::to_string).collect::<Vec<_>>();
        let shown = if listed.len() > 12 {
            format!("{} … ({} values)", listed[..12].join(", "), listed.len())
        } else {
            listed.join(", ")
        };
        checks.push(column_check(
            "allowed_values",
            format!("{name:?} outside the allowed values [{shown}]"),
            not_allowed(series, allowed)?,
        ));
    }
    if let Some(pattern) = &col.regex {
        let regex = regex::Regex::new(pattern)
            .map_err(|e| polars_err!(ComputeError: "regex {pattern}: {e}"))?;
        let mismatches = mask(
            series
                .str()?
                .iter()
                .map(|v| v.is_some_and(|v| !regex.is_match(v))),
        );
        checks.push(column_check(
            "regex",
            format!("{name:?} does not match /{pattern}/"),
            mismatches,
        ));
    }
    if let Some(max) = col.max_length {
        let longer = mask(
            series
                .str()?
                .iter()
                .map(|v| v.is_some_and(|v| v.chars().count() as u64 > max)),
        );
        checks.push(column_check(
            "max_length",
            format!("{name:?} longer than {max} characters"),
            longer,
        ));
    }
    for check in checks {
        check.judge(raw_values(raw), out);
    }

    let rows = series.len();
    if col.unique {
        let duplicated = series.clone().into_frame().is_duplicated()?;
        let count = duplicated.sum().unwrap_or(0) as u64;
        if count > 0 {
            let mut finding = Finding::file_level(
                "unique",
                vec![name.clone()],
                format!("{name:?} must be unique; {count} rows share a value"),
            );
            finding.count = count;
            finding.examples = examples(&duplicated, raw_values(raw));
            out.file_failures.push(finding);
        }
    }
    if let Some(max_fraction) = col.max_null_fraction {
        let fraction = if rows == 0 {
            0.0
        } else {
            series.null_count() as f64 / rows as f64
        };
        if fraction > max_fraction {
            let mut finding = Finding::file_level(
                "max_null_fraction",
                vec![name.clone()],
                format!(
                    "{name:?} is {:.2}% empty; at most {:.2}% allowed",
                    fraction * 100.0,
                    max_fraction * 100.0
                ),
            );
            finding.count = series.null_count() as u64;
            finding.fraction = Some(fraction);
            out.file_failures.push(finding);
        }
    }
    Ok(())
}

fn check_table(raw: &DataFrame, spec: &DatasetSpec, out: &mut Checked) -> PolarsResult<()> {
    let rows = out.frame.height() as u64;
    let table = &spec.table;
    if let Some(min) = table.min_rows.filter(|min| rows < *min) {
        out.file_failures.push(Finding::file_level(
            "row_count",
            vec![],
            format!("{rows} rows; at least {min} required"),
        ));
    }
    if let Some(max) = table.max_rows.filter(|max| rows > *max) {
        out.file_failures.push(Finding::file_level(
            "row_count",
            vec![],
            format!("{rows} rows; at most {max} allowed"),
        ));
    }
    for key in &table.unique_keys {
        // A key over a missing column is reported as that missing column already.
        if key.iter().any(|name| raw.column(name).is_err()) {
            continue;
        }
        let duplicated = out
            .frame
            .select(key.iter().map(String::as_str))?
            .is_duplicated()?;
        let count = duplicated.sum().unwrap_or(0) as u64;
        if count > 0 {
            let mut finding = Finding::file_level(
                "unique_key",
                key.clone(),
                format!(
                    "({}) must be unique; {count} rows share a key with another row",
                    key.join(", ")
                ),
            );
            finding.count = count;
            finding.examples = examples(&duplicated, joined_values(raw, key));
            out.file_failures.push(finding);
        }
    }
    for rule in &table.rules {
        let comparison = rule
            .comparison()
            .map_err(|e| polars_err!(ComputeError: "{e}"))?;
        let columns: Vec<String> = comparison
            .columns()
            .into_iter()
            .map(str::to_owned)
            .collect();
        if columns.iter().any(|name| raw.column(name).is_err()) {
            continue;
        }
        let operand = |operand: &Operand| -> PolarsResult<Either> {
            Ok(match operand {
                Operand::Number(value) => Either::Number(*value),
                Operand::Column(name) => Either::Values(
                    out.frame
                        .column(name)?
                        .cast(&DataType::Float64)?
                        .f64()?
                        .clone(),
                ),
            })
        };
        let holds = compare(
            &operand(&comparison.left)?,
            comparison.op,
            &operand(&comparison.right)?,
        )?;
        // Rows where an operand is null are not judged here: nullability is its own check.
        let violated = !&holds.fill_null_with_values(true)?;
        let check = RowCheck {
            rule: format!("rule:{}", rule.name),
            columns: columns.clone(),
            message: format!("rows where `{}` does not hold", rule.check),
            rows: violated,
            mostly: rule.mostly,
        };
        check.judge(joined_values(raw, &columns), out);
    }
    Ok(())
}

/// A row-level check's result before it is judged against its tolerance.
struct RowCheck {
    rule: String,
    columns: Vec<String>,
    message: String,
    rows: BooleanChunked,
    mostly: f64,
}

impl RowCheck {
    fn judge(self, value_of: impl Fn(usize) -> String, out: &mut Checked) {
        let count = self.rows.sum().unwrap_or(0) as u64;
        if count == 0 {
            return;
        }
        let total = self.rows.len().max(1) as f64;
        let fraction = count as f64 / total;
        let finding = Finding {
            rule: self.rule,
            columns: self.columns,
            message: format!("{}: {count} row(s)", self.message),
            count,
            fraction: Some(fraction),
            mostly: (self.mostly < 1.0).then_some(self.mostly),
            examples: examples(&self.rows, value_of),
        };
        if 1.0 - fraction >= self.mostly {
            out.warnings.push(finding);
        } else {
            out.row_failures.push(RowFailure {
                finding,
                rows: self.rows,
            });
        }
    }
}

enum Either {
    Number(f64),
    Values(Float64Chunked),
}

fn compare(left: &Either, op: CompareOp, right: &Either) -> PolarsResult<BooleanChunked> {
    use CompareOp::*;
    Ok(match (left, right) {
        (Either::Values(l), Either::Values(r)) => match op {
            Lt => l.lt(r),
            Le => l.lt_eq(r),
            Gt => l.gt(r),
            Ge => l.gt_eq(r),
            Eq => l.equal(r),
            Ne => l.not_equal(r),
        },
        (Either::Values(l), Either::Number(r)) => match op {
            Lt => l.lt(*r),
            Le => l.lt_eq(*r),
            Gt => l.gt(*r),
            Ge => l.gt_eq(*r),
            Eq => l.equal(*r),
            Ne => l.not_equal(*r),
        },
        // `3 < x` is `x > 3`.
        (Either::Number(l), Either::Values(r)) => match op {
            Lt => r.gt(*l),
            Le => r.gt_eq(*l),
            Gt => r.lt(*l),
            Ge => r.lt_eq(*l),
            Eq => r.equal(*l),
            Ne => r.not_equal(*l),
        },
        (Either::Number(_), Either::Number(_)) => {
            polars_bail!(ComputeError: "a rule compares two constants")
        }
    })
}

fn no_nulls(mask: BooleanChunked) -> PolarsResult<BooleanChunked> {
    mask.fill_null_with_values(false)
}

/// A row mask without nulls. Built from plain booleans, it is several times faster than collecting
/// `Option<bool>`s (a validity bitmap per mask), which showed in the profile of a month's ingest.
fn mask(rows: impl Iterator<Item = bool>) -> BooleanChunked {
    BooleanChunked::from_iter_values(PlSmallStr::EMPTY, rows)
}

fn not_allowed(series: &Series, allowed: &[AllowedValue]) -> PolarsResult<BooleanChunked> {
    Ok(match series.dtype() {
        DataType::Int64 => {
            let set: foldhash::HashSet<i64> = allowed
                .iter()
                .filter_map(|v| {
                    if let AllowedValue::Integer(i) = v {
                        Some(*i)
                    } else {
                        None
                    }
                })
                .collect();
            mask(
                series
                    .i64()?
                    .iter()
                    .map(|v| v.is_some_and(|v| !set.contains(&v))),
            )
        }
        _ => {
            let set: foldhash::HashSet<String> = allowed.iter().map(ToString::to_string).collect();
            mask(
                series
                    .str()?
                    .iter()
                    .map(|v| v.is_some_and(|v| !set.contains(v))),
            )
        }
    })
}

fn examples(rows: &BooleanChunked, value_of: impl Fn(usize) -> String) -> Vec<Example> {
    rows.iter()
        .enumerate()
        .filter(|(_, flagged)| *flagged == Some(true))
        .take(MAX_EXAMPLES)
        .map(|(index, _)| {
            let value = value_of(index);
            Example {
                row: index as u64 + 1,
                value: excerpt(&value).into_owned(),
            }
        })
        .collect()
}

fn show(value: AnyValue<'_>) -> String {
    match value {
        AnyValue::Null => "null".to_owned(),
        AnyValue::String(text) => text.to_owned(),
        AnyValue::StringOwned(text) => text.to_string(),
        other => other.to_string(),
    }
}

/// The raw (as uploaded) value of one column at a row.
fn raw_values(raw: &Series) -> impl Fn(usize) -> String + '_ {
    move |index| raw.get(index).map(show).unwrap_or_default()
}

/// `a=1, b=2` for the named columns of the raw frame at a row.
fn joined_values<'a>(raw: &'a DataFrame, names: &'a [String]) -> impl Fn(usize) -> String + 'a {
    move |index| {
        names
            .iter()
            .map(|name| {
                let value = raw
                    .column(name)
                    .ok()
                    .and_then(|c| c.get(index).ok())
                    .map(show)
                    .unwrap_or_default();
                format!("{name}={value}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;

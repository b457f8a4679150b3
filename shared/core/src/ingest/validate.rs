//! Every rule of a dataset contract checked against one file, every failure reported: the rule, the
//! columns, how many rows, and a few example rows with their raw values. The file is checked a
//! batch of rows at a time and judged as a whole (see [`Validator`]).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use super::coerce::{coerce, TypedColumn};
use super::decode::Decoded;
use super::duplicates::{DuplicateRows, Shared};
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
    /// Data rows read.
    pub rows: u64,
    /// Failures that reject the file whatever the row policy.
    pub file_failures: Vec<Finding>,
    /// Row-level failures beyond their `mostly` tolerance: reject, or drop those rows, per policy.
    pub row_failures: Vec<RowFailure>,
    /// Failures within tolerance and notes (such as dropped extra columns): recorded, not fatal.
    pub warnings: Vec<Finding>,
}

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error(transparent)]
    Data(#[from] PolarsError),
    #[error("scratch files for the keys of a large file: {0}")]
    Scratch(#[from] std::io::Error),
}

/// A file's checks, fed its rows a batch at a time (in file order) and judged once it has seen
/// them all, so that a file larger than memory is judged as a whole: each row-level check keeps
/// its count, its first examples and (once it flags a row) a bit per row; the unique checks keep
/// their keys in [`DuplicateRows`]; the counts of nulls and rows add up. The report is the one a
/// single batch of the whole file gives.
pub struct Validator<'s> {
    spec: &'s DatasetSpec,
    /// Where keys spill (a Lambda's /tmp).
    scratch: PathBuf,
    rows: u64,
    blank_lines: usize,
    /// Columns the file has that the spec does not declare, in the order first met.
    extra: Vec<String>,
    /// Per declared column.
    columns: Vec<ColumnState>,
    tallies: BTreeMap<Slot, Tally>,
    /// Per unique key of the table.
    keys: Vec<DuplicateRows>,
}

#[derive(Default)]
struct ColumnState {
    /// In the file (in at least one batch: JSON Lines may leave a key out of some lines).
    seen: bool,
    /// Holds values with no text form of its type: the column is unusable.
    unusable: Option<Finding>,
    nulls: u64,
    /// Its values, when the spec wants them unique.
    unique: Option<DuplicateRows>,
}

/// Where a row-level check's finding goes in the report: reading, then the columns in spec order
/// (each column's checks in a fixed order), then the table's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Reading,
    Column(usize, usize),
    Rule(usize),
}

/// A row-level check over the rows seen so far.
struct Tally {
    rule: String,
    columns: Vec<String>,
    message: String,
    mostly: f64,
    count: u64,
    examples: Vec<Example>,
    /// The rows it flags, from its first flagged row on (all false before).
    rows: Option<BooleanChunked>,
}

/// One batch's result for one row-level check.
struct BatchCheck {
    check: RowCheck,
    count: u64,
    /// The batch's first flagged rows, numbered within the batch.
    examples: Vec<Example>,
}

impl BatchCheck {
    fn of(check: RowCheck, value_of: impl Fn(usize) -> String) -> Self {
        let count = check.rows.sum().unwrap_or(0) as u64;
        let examples = if count == 0 {
            vec![]
        } else {
            examples(&check.rows, value_of)
        };
        Self {
            check,
            count,
            examples,
        }
    }
}

/// One batch's result for one declared column.
struct ColumnBatch {
    typed: Column,
    seen: bool,
    unusable: Option<Finding>,
    checks: Vec<BatchCheck>,
}

/// The checks judged, with the rows whose raw values the unique checks' examples still need.
pub struct Finished {
    pub checked: Checked,
    /// (finding in `checked.file_failures`, how its rows show, rows 0-based ascending)
    wanted: Vec<(usize, Shown, Vec<u64>)>,
}

/// How an example row shows: one column's raw value, or `a=1, b=2` for several.
enum Shown {
    Value(String),
    Joined(Vec<String>),
}

impl Finished {
    /// Whether the file must be read again for [`Finished::fill`] (only when keys repeat).
    pub fn needs_values(&self) -> bool {
        !self.wanted.is_empty()
    }

    /// Takes the example values a batch of the file (read again) holds.
    pub fn fill(&mut self, raw: &DataFrame, rows_before: u64) {
        let end = rows_before + raw.height() as u64;
        for (finding, shown, rows) in &self.wanted {
            let value_of = |row: usize| match shown {
                Shown::Value(name) => raw
                    .column(name)
                    .map(|c| raw_values(c.as_materialized_series())(row))
                    .unwrap_or_default(),
                Shown::Joined(names) => joined_values(raw, names)(row),
            };
            let examples = &mut self.checked.file_failures[*finding].examples;
            for row in rows.iter().filter(|r| (rows_before..end).contains(*r)) {
                let value = value_of((row - rows_before) as usize);
                examples.push(Example {
                    row: row + 1,
                    value: excerpt(&value).into_owned(),
                });
            }
        }
    }

    pub fn into_checked(self) -> Checked {
        self.checked
    }
}

impl<'s> Validator<'s> {
    pub fn new(spec: &'s DatasetSpec, scratch: &Path) -> Self {
        let columns = spec
            .columns
            .iter()
            .map(|col| ColumnState {
                unique: col.unique.then(DuplicateRows::new),
                ..ColumnState::default()
            })
            .collect();
        Self {
            spec,
            scratch: scratch.to_owned(),
            rows: 0,
            blank_lines: 0,
            extra: vec![],
            columns,
            tallies: BTreeMap::new(),
            keys: spec
                .table
                .unique_keys
                .iter()
                .map(|_| DuplicateRows::new())
                .collect(),
        }
    }

    /// Checks the file's next rows (`raw`, as decoded, with what reading them noticed) and returns
    /// them typed: the declared columns only, in spec order (a missing column as nulls).
    pub fn check(
        &mut self,
        raw: &DataFrame,
        reading: &Decoded,
    ) -> Result<DataFrame, ValidateError> {
        let spec = self.spec;
        let rows_before = self.rows;
        self.blank_lines += reading.blank_lines;
        if let Some(unreadable) = short_rows(raw, reading) {
            self.tally(Slot::Reading, unreadable, rows_before);
        }
        let declared: HashSet<&str> = spec.columns.iter().map(|c| c.name.as_str()).collect();
        for name in raw.get_column_names() {
            if !declared.contains(name.as_str()) && !self.extra.iter().any(|e| e == name.as_str()) {
                self.extra.push(name.to_string());
            }
        }
        // Columns are independent: type and check them on every core, then merge in spec order.
        let batches: Vec<ColumnBatch> = spec
            .columns
            .par_iter()
            .map(|col| check_declared_column(raw, col))
            .collect::<PolarsResult<_>>()?;
        let mut typed = Vec::with_capacity(batches.len());
        for (index, batch) in batches.into_iter().enumerate() {
            let state = &mut self.columns[index];
            state.seen |= batch.seen;
            if state.unusable.is_none() {
                state.unusable = batch.unusable;
            }
            state.nulls += batch.typed.null_count() as u64;
            for (seq, check) in batch.checks.into_iter().enumerate() {
                self.tally(Slot::Column(index, seq), check, rows_before);
            }
            typed.push(batch.typed);
        }
        let frame = DataFrame::new(raw.height(), typed)?;
        for (col, state) in spec.columns.iter().zip(&mut self.columns) {
            if let Some(unique) = &mut state.unique {
                unique.add(&[frame.column(&col.name)?], &self.scratch)?;
            }
        }
        for (key, finder) in spec.table.unique_keys.iter().zip(&mut self.keys) {
            let columns = key
                .iter()
                .map(|name| frame.column(name))
                .collect::<PolarsResult<Vec<_>>>()?;
            finder.add(&columns, &self.scratch)?;
        }
        for (index, check) in rule_checks(raw, &frame, spec)? {
            self.tally(Slot::Rule(index), check, rows_before);
        }
        self.rows += raw.height() as u64;
        Ok(frame)
    }

    fn tally(&mut self, slot: Slot, batch: BatchCheck, rows_before: u64) {
        let BatchCheck {
            check,
            count,
            examples,
        } = batch;
        let tally = self.tallies.entry(slot).or_insert_with(|| Tally {
            rule: check.rule.clone(),
            columns: check.columns.clone(),
            message: check.message.clone(),
            mostly: check.mostly,
            count: 0,
            examples: vec![],
            rows: None,
        });
        if count > 0 && tally.rows.is_none() {
            tally.rows = Some(BooleanChunked::full(PlSmallStr::EMPTY, false, 0));
        }
        if let Some(rows) = &mut tally.rows {
            // Batches the check did not run on (no short rows to judge) flagged nothing.
            pad(rows, rows_before);
            rows.append_owned(check.rows)
                .unwrap_or_else(|e| unreachable!("appending a mask to a mask: {e}"));
        }
        tally.count += count;
        let room = MAX_EXAMPLES - tally.examples.len();
        tally
            .examples
            .extend(examples.into_iter().take(room).map(|e| Example {
                row: e.row + rows_before,
                ..e
            }));
    }

    /// Judges the file: every check over all its rows.
    pub fn finish(self) -> Result<Finished, ValidateError> {
        let Validator {
            spec,
            rows,
            blank_lines,
            extra,
            columns,
            mut tallies,
            keys,
            ..
        } = self;
        let mut out = Checked {
            rows,
            file_failures: vec![],
            row_failures: vec![],
            warnings: vec![],
        };
        let mut wanted = vec![];
        if blank_lines > 0 {
            out.warnings.push(Finding::file_level(
                "blank_lines",
                vec![],
                format!("{blank_lines} blank line(s) skipped"),
            ));
        }
        extra_columns(&extra, spec, &mut out);
        let seen: HashSet<&str> = spec
            .columns
            .iter()
            .zip(&columns)
            .filter(|(_, state)| state.seen)
            .map(|(col, _)| col.name.as_str())
            .collect();
        for (index, (col, state)) in spec.columns.iter().zip(columns).enumerate() {
            let judged = state.seen && state.unusable.is_none();
            if !judged {
                tallies.retain(|slot, _| !matches!(slot, Slot::Column(c, _) if *c == index));
            }
            if !state.seen {
                if col.required {
                    out.file_failures.push(Finding::file_level(
                        "required_column",
                        vec![col.name.clone()],
                        format!("required column {:?} is missing", col.name),
                    ));
                }
                continue;
            }
            if let Some(unusable) = state.unusable {
                out.file_failures.push(unusable);
                continue;
            }
            let name = &col.name;
            if let Some(unique) = state.unique {
                let shared = unique.finish(MAX_EXAMPLES)?;
                if shared.count > 0 {
                    let message = format!(
                        "{name:?} must be unique; {} rows share a value",
                        shared.count
                    );
                    let finding = Finding::file_level("unique", vec![name.clone()], message);
                    shared_rows(
                        finding,
                        shared,
                        Shown::Value(name.clone()),
                        &mut out,
                        &mut wanted,
                    );
                }
            }
            if let Some(max_fraction) = col.max_null_fraction {
                let fraction = if rows == 0 {
                    0.0
                } else {
                    state.nulls as f64 / rows as f64
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
                    finding.count = state.nulls;
                    finding.fraction = Some(fraction);
                    out.file_failures.push(finding);
                }
            }
        }
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
        for (key, finder) in table.unique_keys.iter().zip(keys) {
            // A key over a missing column is reported as that missing column already.
            if !key.iter().all(|name| seen.contains(name.as_str())) {
                continue;
            }
            let shared = finder.finish(MAX_EXAMPLES)?;
            if shared.count == 0 {
                continue;
            }
            let message = format!(
                "({}) must be unique; {} rows share a key with another row",
                key.join(", "),
                shared.count
            );
            let finding = Finding::file_level("unique_key", key.clone(), message);
            shared_rows(
                finding,
                shared,
                Shown::Joined(key.clone()),
                &mut out,
                &mut wanted,
            );
        }
        for tally in tallies.into_values().filter(|t| t.count > 0) {
            tally.judge(rows, &mut out);
        }
        Ok(Finished {
            checked: out,
            wanted,
        })
    }
}

/// Reports rows that share a value or key: the finding counts them, and its examples wait for
/// the rows' raw values ([`Finished::fill`]).
fn shared_rows(
    mut finding: Finding,
    shared: Shared,
    shown: Shown,
    out: &mut Checked,
    wanted: &mut Vec<(usize, Shown, Vec<u64>)>,
) {
    finding.count = shared.count;
    wanted.push((out.file_failures.len(), shown, shared.first));
    out.file_failures.push(finding);
}

impl Tally {
    fn judge(self, total: u64, out: &mut Checked) {
        let count = self.count;
        let fraction = count as f64 / total.max(1) as f64;
        let finding = Finding {
            rule: self.rule,
            columns: self.columns,
            message: format!("{}: {count} row(s)", self.message),
            count,
            fraction: Some(fraction),
            mostly: (self.mostly < 1.0).then_some(self.mostly),
            examples: self.examples,
        };
        if 1.0 - fraction >= self.mostly {
            out.warnings.push(finding);
        } else {
            let mut rows = self
                .rows
                .unwrap_or_else(|| BooleanChunked::full(PlSmallStr::EMPTY, false, 0));
            pad(&mut rows, total);
            rows.rechunk_mut();
            out.row_failures.push(RowFailure { finding, rows });
        }
    }
}

/// Extends a row mask with unflagged rows to `rows` rows.
fn pad(mask: &mut BooleanChunked, rows: u64) {
    let missing = (rows as usize).saturating_sub(mask.len());
    if missing > 0 {
        mask.append_owned(BooleanChunked::full(PlSmallStr::EMPTY, false, missing))
            .unwrap_or_else(|e| unreachable!("appending a mask to a mask: {e}"));
    }
}

/// A whole frame checked as one batch (the fuzzing harness, and tests): the typed frame and the
/// judged checks, examples filled.
pub fn check_frame(
    raw: &DataFrame,
    reading: &Decoded,
    spec: &DatasetSpec,
    scratch: &Path,
) -> Result<(DataFrame, Checked), ValidateError> {
    let mut validator = Validator::new(spec, scratch);
    let frame = validator.check(raw, reading)?;
    let mut finished = validator.finish()?;
    if finished.needs_values() {
        finished.fill(raw, 0);
    }
    Ok((frame, finished.into_checked()))
}

/// Types one declared column and runs its checks; a column missing from the batch is checked as
/// nulls (the file may have it in other batches; if it has it nowhere, the checks are dropped).
fn check_declared_column(raw: &DataFrame, col: &ColumnSpec) -> PolarsResult<ColumnBatch> {
    let dtype = super::coerce::polars_type(col.kind);
    let nulls = || Column::full_null(col.name.as_str().into(), raw.height(), &dtype);
    let missing;
    let (raw_series, seen) = match raw.column(&col.name) {
        Ok(column) => (column.as_materialized_series(), true),
        Err(_) => {
            missing = Series::full_null(col.name.as_str().into(), raw.height(), &DataType::String);
            (&missing, false)
        }
    };
    let typed = match coerce(raw_series, col) {
        Ok(typed) => typed,
        // Values with no text form of the declared type (nested JSON, binary): the column is unusable.
        Err(e) => {
            let unusable = Finding::file_level(
                "type",
                vec![col.name.clone()],
                format!(
                    "{:?} holds {} values, which cannot be read as {}: {e}",
                    col.name,
                    raw_series.dtype(),
                    col.kind
                ),
            );
            return Ok(ColumnBatch {
                typed: nulls(),
                seen,
                unusable: Some(unusable),
                checks: vec![],
            });
        }
    };
    let checks = column_checks(raw_series, &typed, col)?;
    Ok(ColumnBatch {
        typed: typed.series.into_column(),
        seen,
        unusable: None,
        checks,
    })
}

/// Rows with fewer fields than the header (filled with nulls by the reader, so refused as rows).
fn short_rows(raw: &DataFrame, decoded: &Decoded) -> Option<BatchCheck> {
    if decoded.short_rows.is_empty() {
        return None;
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
    Some(BatchCheck::of(check, fields_of))
}

fn extra_columns(extra: &[String], spec: &DatasetSpec, out: &mut Checked) {
    if extra.is_empty() {
        return;
    }
    match spec.policy.extra_columns {
        ExtraColumns::Reject => out.file_failures.push(Finding::file_level(
            "extra_column",
            extra.to_vec(),
            format!("columns not in the spec: {} (declare them, or set policy.extra_columns = \"drop\")", extra.join(", ")),
        )),
        ExtraColumns::Drop => out.warnings.push(Finding::file_level(
            "extra_column",
            extra.to_vec(),
            format!("dropped columns not in the spec: {}", extra.join(", ")),
        )),
    }
}

/// A column's row-level checks on one batch, in a fixed order. (Its unique and null-share checks
/// are over the whole file: see [`Validator::finish`].)
fn column_checks(
    raw: &Series,
    typed: &TypedColumn,
    col: &ColumnSpec,
) -> PolarsResult<Vec<BatchCheck>> {
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
    Ok(checks
        .into_iter()
        .map(|check| BatchCheck::of(check, raw_values(raw)))
        .collect())
}

/// The table's rules on one batch.
fn rule_checks(
    raw: &DataFrame,
    frame: &DataFrame,
    spec: &DatasetSpec,
) -> PolarsResult<Vec<(usize, BatchCheck)>> {
    let mut checks = Vec::with_capacity(spec.table.rules.len());
    for (index, rule) in spec.table.rules.iter().enumerate() {
        let comparison = rule
            .comparison()
            .map_err(|e| polars_err!(ComputeError: "{e}"))?;
        let columns: Vec<String> = comparison
            .columns()
            .into_iter()
            .map(str::to_owned)
            .collect();
        // A column missing from the batch is nulls there, which rules do not judge.
        if columns.iter().any(|name| frame.column(name).is_err()) {
            continue;
        }
        let operand = |operand: &Operand| -> PolarsResult<Either> {
            Ok(match operand {
                Operand::Number(value) => Either::Number(*value),
                Operand::Column(name) => {
                    Either::Values(frame.column(name)?.cast(&DataType::Float64)?.f64()?.clone())
                }
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
        checks.push((index, BatchCheck::of(check, joined_values(raw, &columns))));
    }
    Ok(checks)
}

/// A row-level check's result before it is judged against its tolerance.
struct RowCheck {
    rule: String,
    columns: Vec<String>,
    message: String,
    rows: BooleanChunked,
    mostly: f64,
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

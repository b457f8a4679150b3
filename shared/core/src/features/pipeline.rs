//! Fitting and applying the preprocessing of each feature column.

use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Timelike};
use foldhash::HashMap;
use serde::{Deserialize, Serialize};

use super::text::{SparseRows, TextOptions, TfIdf};
use super::{Encoded, FeatureError, RawColumn, RawFrame};
use crate::spec::{DatePart, FeaturesSection};

/// At most this many kept levels per categorical feature: with the rare and missing levels, every
/// code then fits in a byte, which is also the tree learner's bin.
const MAX_LEVELS: usize = 254;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    pub numeric: Vec<NumericEncoder>,
    pub categorical: Vec<CategoricalEncoder>,
    pub text: Vec<TextEncoder>,
}

/// Free text as sparse TF-IDF rows over the vocabulary fitted on the training part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextEncoder {
    pub column: String,
    pub tfidf: TfIdf,
}

/// Fills nulls with the training median, then centres and scales (when the spec standardises).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericEncoder {
    pub column: String,
    pub median: f64,
    pub center: f64,
    pub scale: f64,
    /// The training range, for warnings at serving time.
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum CategorySource {
    Text,
    Boolean,
    DatePart(DatePart),
}

/// Maps each value to the code of its level. Levels rarer in training than the spec's share, and
/// values never seen in training, share the "rare" code; nulls have their own "missing" code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalEncoder {
    pub column: String,
    pub source: CategorySource,
    /// Kept levels, most frequent first; a level's code is its index.
    levels: Vec<String>,
    #[serde(skip)]
    codes: LevelCodes,
}

/// The levels as a lookup from value to code, built on first use: the predict function encodes every
/// request with the same encoders, and building the lookup per request was a visible part of a
/// one-record prediction.
#[derive(Default)]
struct LevelCodes(OnceLock<HashMap<String, u8>>);

impl LevelCodes {
    fn get(&self, levels: &[String]) -> &HashMap<String, u8> {
        self.0.get_or_init(|| {
            levels
                .iter()
                .enumerate()
                .map(|(code, level)| (level.clone(), code as u8))
                .collect()
        })
    }
}

// Derived from the levels, so it never tells two encoders apart and a copy builds its own.
impl Clone for LevelCodes {
    fn clone(&self) -> Self {
        LevelCodes::default()
    }
}

impl PartialEq for LevelCodes {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for LevelCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LevelCodes")
    }
}

impl Pipeline {
    /// Learns every feature's encoding from the training rows.
    pub fn fit(features: &FeaturesSection, train: &RawFrame) -> Result<Pipeline, FeatureError> {
        let mut pipeline = Pipeline::default();
        for name in &features.columns {
            pipeline.fit_column(features, name, train.column(name)?)?;
        }
        Ok(pipeline)
    }

    /// Learns the encoding of feature `name` from its training values. Fitting the spec's
    /// feature columns one by one, in its order, gives the pipeline [`Pipeline::fit`] gives:
    /// training at scale holds one raw column at a time.
    pub fn fit_column(
        &mut self,
        features: &FeaturesSection,
        name: &str,
        column: &RawColumn,
    ) -> Result<(), FeatureError> {
        if let Some(options) = features.text.get(name) {
            self.text.push(TextEncoder::fit(name, column, options)?);
            return Ok(());
        }
        match column {
            RawColumn::Numeric(values) => {
                self.numeric
                    .push(NumericEncoder::fit(name, values, features.standardize)?);
            }
            RawColumn::Text(_) | RawColumn::Boolean(_) => {
                let source = if matches!(column, RawColumn::Text(_)) {
                    CategorySource::Text
                } else {
                    CategorySource::Boolean
                };
                self.categorical.push(CategoricalEncoder::fit(
                    name,
                    source,
                    column,
                    features.rare_level_share,
                )?);
            }
            RawColumn::Datetime(_) => {
                for part in &features.date_parts {
                    self.categorical.push(CategoricalEncoder::fit(
                        name,
                        CategorySource::DatePart(*part),
                        column,
                        features.rare_level_share,
                    )?);
                }
            }
        }
        Ok(())
    }

    pub fn transform(&self, frame: &RawFrame) -> Result<Encoded, FeatureError> {
        self.encode(frame.rows(), |name| Some(frame.column(name)))
    }

    /// The features read from column `name` alone, in the pipeline's order; appended column by
    /// column in the pipeline's order ([`Encoded::append_features`]) they are [`Pipeline::transform`]'s.
    pub fn transform_column(
        &self,
        name: &str,
        column: &RawColumn,
    ) -> Result<Encoded, FeatureError> {
        self.encode(column.len(), |of| (of == name).then_some(Ok(column)))
    }

    /// Applies every encoder whose column `column_of` gives (None: leave the encoder out).
    fn encode<'a>(
        &self,
        rows: usize,
        column_of: impl Fn(&str) -> Option<Result<&'a RawColumn, FeatureError>>,
    ) -> Result<Encoded, FeatureError> {
        let numeric = self
            .numeric
            .iter()
            .filter_map(|encoder| Some(column_of(&encoder.column)?.and_then(|c| encoder.apply(c))))
            .collect::<Result<Vec<_>, _>>()?;
        let categorical: Vec<(Vec<u8>, usize)> = self
            .categorical
            .iter()
            .filter_map(|encoder| {
                let codes = column_of(&encoder.column)?.and_then(|c| encoder.apply(c));
                Some(codes.map(|codes| (codes, encoder.codes())))
            })
            .collect::<Result<_, _>>()?;
        let text: Vec<(SparseRows, usize)> = self
            .text
            .iter()
            .filter_map(|encoder| {
                let rows = column_of(&encoder.column)?.and_then(|c| encoder.apply(c));
                Some(rows.map(|rows| (rows, encoder.tfidf.width())))
            })
            .collect::<Result<_, _>>()?;
        let (categorical, levels) = categorical.into_iter().unzip();
        let (text, text_widths) = text.into_iter().unzip();
        Ok(Encoded {
            rows,
            numeric,
            categorical,
            levels,
            text,
            text_widths,
        })
    }

    /// The source columns the pipeline reads.
    pub fn input_columns(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .numeric
            .iter()
            .map(|e| e.column.as_str())
            .chain(self.categorical.iter().map(|e| e.column.as_str()))
            .chain(self.text.iter().map(|e| e.column.as_str()))
            .collect();
        names.dedup();
        names
    }

    /// Names of the encoded features, in the order the learners see them: numeric first, then
    /// one per categorical (`column.part` for a date part), then the texts by their column.
    pub fn feature_names(&self) -> Vec<String> {
        self.numeric
            .iter()
            .map(|e| e.column.clone())
            .chain(self.categorical.iter().map(CategoricalEncoder::name))
            .chain(self.text.iter().map(|e| e.column.clone()))
            .collect()
    }
}

impl TextEncoder {
    fn fit(column: &str, values: &RawColumn, options: &TextOptions) -> Result<Self, FeatureError> {
        let RawColumn::Text(documents) = values else {
            return Err(wrong_type(column, "text", values));
        };
        let documents: Vec<Option<&str>> = documents.iter().collect();
        if documents.iter().all(Option::is_none) {
            return Err(FeatureError::AllNull(column.to_owned()));
        }
        let tfidf = TfIdf::fit(&documents, options);
        if tfidf.width() == 0 || tfidf.idf.iter().all(|&idf| idf == 0.0) {
            return Err(FeatureError::NoTerms(column.to_owned()));
        }
        Ok(TextEncoder {
            column: column.to_owned(),
            tfidf,
        })
    }

    fn apply(&self, column: &RawColumn) -> Result<SparseRows, FeatureError> {
        let RawColumn::Text(documents) = column else {
            return Err(wrong_type(&self.column, "text", column));
        };
        Ok(self.tfidf.transform(&documents.iter().collect::<Vec<_>>()))
    }
}

impl NumericEncoder {
    fn fit(column: &str, values: &[Option<f64>], standardize: bool) -> Result<Self, FeatureError> {
        let mut present: Vec<f64> = values.iter().flatten().copied().collect();
        if present.is_empty() {
            return Err(FeatureError::AllNull(column.to_owned()));
        }
        present.sort_unstable_by(f64::total_cmp);
        let n = present.len();
        // The median as numpy computes it: the mean of the two middle values for an even count.
        let median = if n % 2 == 1 {
            present[n / 2]
        } else {
            (present[n / 2 - 1] + present[n / 2]) / 2.0
        };
        let (center, scale) = if standardize {
            let imputed = || values.iter().map(|v| v.unwrap_or(median));
            let mean = imputed().sum::<f64>() / values.len() as f64;
            let variance =
                imputed().map(|v| (v - mean) * (v - mean)).sum::<f64>() / values.len() as f64;
            let std = variance.sqrt();
            (mean, if std > 0.0 { std } else { 1.0 })
        } else {
            (0.0, 1.0)
        };
        Ok(NumericEncoder {
            column: column.to_owned(),
            median,
            center,
            scale,
            min: present[0],
            max: present[n - 1],
        })
    }

    fn apply(&self, column: &RawColumn) -> Result<Vec<f64>, FeatureError> {
        let RawColumn::Numeric(values) = column else {
            return Err(wrong_type(&self.column, "numeric", column));
        };
        Ok(values
            .iter()
            .map(|v| (v.unwrap_or(self.median) - self.center) / self.scale)
            .collect())
    }
}

impl CategoricalEncoder {
    /// An encoder of `column` (read as `source`) with these kept levels, most frequent first.
    pub fn new(column: &str, source: CategorySource, levels: Vec<String>) -> Self {
        CategoricalEncoder {
            column: column.to_owned(),
            source,
            levels,
            codes: LevelCodes::default(),
        }
    }

    /// The kept levels, most frequent first; a level's code is its index.
    pub fn levels(&self) -> &[String] {
        &self.levels
    }

    fn fit(
        column: &str,
        source: CategorySource,
        values: &RawColumn,
        rare_share: f64,
    ) -> Result<Self, FeatureError> {
        let encoder = CategoricalEncoder::new(column, source, Vec::new());
        let (counts, nulls) = encoder.level_counts(values)?;
        if nulls == values.len() {
            return Err(FeatureError::AllNull(encoder.name()));
        }
        let min_count = (rare_share * values.len() as f64).ceil().max(1.0) as usize;
        let mut kept: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|(_, count)| *count >= min_count)
            .collect();
        kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        kept.truncate(MAX_LEVELS);
        let levels = kept.into_iter().map(|(level, _)| level).collect();
        Ok(CategoricalEncoder::new(column, source, levels))
    }

    /// Rows per level key in `column`, and the number of nulls.
    pub fn level_counts(
        &self,
        column: &RawColumn,
    ) -> Result<(HashMap<String, usize>, usize), FeatureError> {
        let mut counts: HashMap<String, usize> = HashMap::default();
        let mut nulls = 0usize;
        self.for_each_key(column, |key| match key {
            None => nulls += 1,
            Some(key) => match counts.get_mut(key) {
                Some(count) => *count += 1,
                None => {
                    counts.insert(key.to_owned(), 1);
                }
            },
        })?;
        Ok((counts, nulls))
    }

    /// The feature's name: the column, or `column.part` for a date part.
    pub fn name(&self) -> String {
        match self.source {
            CategorySource::DatePart(part) => format!("{}.{}", self.column, part.as_str()),
            CategorySource::Text | CategorySource::Boolean => self.column.clone(),
        }
    }

    pub fn rare_code(&self) -> u8 {
        self.levels.len() as u8
    }

    pub fn missing_code(&self) -> u8 {
        self.levels.len() as u8 + 1
    }

    /// How many codes there are, counting the rare and missing ones.
    pub fn codes(&self) -> usize {
        self.levels.len() + 2
    }

    fn apply(&self, column: &RawColumn) -> Result<Vec<u8>, FeatureError> {
        let lookup = self.codes.get(&self.levels);
        let mut codes = Vec::with_capacity(column.len());
        self.for_each_key(column, |key| {
            codes.push(match key {
                None => self.missing_code(),
                Some(key) => lookup.get(key).copied().unwrap_or(self.rare_code()),
            })
        })?;
        Ok(codes)
    }

    /// Calls `f` with each row's level key (None for null) without allocating per row.
    pub fn for_each_key(
        &self,
        column: &RawColumn,
        mut f: impl FnMut(Option<&str>),
    ) -> Result<(), FeatureError> {
        match (self.source, column) {
            (CategorySource::Text, RawColumn::Text(values)) => values.iter().for_each(f),
            (CategorySource::Boolean, RawColumn::Boolean(values)) => values
                .iter()
                .for_each(|v| f(v.map(|b| if b { "true" } else { "false" }))),
            (CategorySource::DatePart(part), RawColumn::Datetime(values)) => values
                .iter()
                .for_each(|v| f(v.and_then(|millis| date_part(millis, part)))),
            (CategorySource::Text, _) => return Err(wrong_type(&self.column, "text", column)),
            (CategorySource::Boolean, _) => {
                return Err(wrong_type(&self.column, "boolean", column))
            }
            (CategorySource::DatePart(_), _) => {
                return Err(wrong_type(&self.column, "datetime", column))
            }
        }
        Ok(())
    }
}

/// Small numbers as static text, so date parts are keys without allocation.
const NUMBERS: [&str; 32] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
    "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
];

/// The part of a UTC timestamp as a level key: hour 0–23, ISO day of week 1 (Monday) – 7, day of
/// month 1–31, month 1–12.
fn date_part(millis: i64, part: DatePart) -> Option<&'static str> {
    let at = DateTime::from_timestamp_millis(millis)?;
    let value = match part {
        DatePart::Hour => at.hour(),
        DatePart::DayOfWeek => at.weekday().number_from_monday(),
        DatePart::Day => at.day(),
        DatePart::Month => at.month(),
    };
    NUMBERS.get(value as usize).copied()
}

fn wrong_type(column: &str, expected: &'static str, found: &RawColumn) -> FeatureError {
    FeatureError::WrongType {
        column: column.to_owned(),
        expected,
        found: found.kind_name(),
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;

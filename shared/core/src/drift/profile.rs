//! Profiles: what a data set looked like, feature by feature, in bounded space. Training stores one
//! of its training data with every model (the reference); the drift job builds one of the current
//! window and compares the two. Both are built the same way, in one pass over batches of rows.

use std::collections::BTreeMap;

use foldhash::HashMap;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::stats::Counts;
use crate::features::text::{terms, Analyzer, TextOptions};
use crate::features::{
    CategoricalEncoder, FeatureError, Pipeline, RawColumn, RawFrame, TextEncoder,
};
use crate::moments::Moments;

/// A numeric feature keeps every distinct value with its count up to this many distinct values
/// (exact statistics whatever the number of rows); past it, a uniform random sample of this size.
pub const MAX_DISTINCT: usize = 20_000;
/// A categorical feature keeps this many levels; rows of later new levels are counted together.
pub const MAX_LEVELS: usize = 20_000;
/// The name under which levels past [`MAX_LEVELS`] are counted.
pub const OTHER_LEVELS: &str = "(other levels)";
/// A text feature's profile keeps its most frequent words, this many.
pub const TOP_WORDS: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub rows: u64,
    pub features: Vec<FeatureProfile>,
    /// What the model predicted on these rows, when known.
    pub predictions: Option<PredictionProfile>,
}

impl Profile {
    pub fn feature(&self, name: &str) -> Option<&FeatureProfile> {
        self.features.iter().find(|f| f.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FeatureProfile {
    Numeric(NumericProfile),
    Categorical(CategoricalProfile),
    Text(TextProfile),
}

impl FeatureProfile {
    pub fn name(&self) -> &str {
        match self {
            FeatureProfile::Numeric(p) => &p.name,
            FeatureProfile::Categorical(p) => &p.name,
            FeatureProfile::Text(p) => &p.name,
        }
    }
}

/// Free text: how long the documents are, how much of them the model knows, and which words
/// they use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextProfile {
    pub name: String,
    /// Documents with a text.
    pub count: u64,
    pub nulls: u64,
    /// Each document's length in words.
    pub words: NumericProfile,
    /// The model's terms in the documents (n-grams as it counts them), and how many of them are
    /// outside its vocabulary.
    pub terms: u64,
    pub unknown_terms: u64,
    /// The [`TOP_WORDS`] most frequent words with their counts, and every word counted.
    pub top_words: BTreeMap<String, u64>,
    pub word_total: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericProfile {
    pub name: String,
    /// Rows with a value.
    pub count: u64,
    pub nulls: u64,
    /// `None` (like the mean and deviation) when there are no values.
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    /// Population standard deviation.
    pub std: Option<f64>,
    /// Whether `values` holds every value (else a uniform random sample of them).
    pub exact: bool,
    pub values: Counts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalProfile {
    pub name: String,
    pub count: u64,
    pub nulls: u64,
    /// Rows per level, keyed as the model's pipeline keys them.
    pub levels: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionProfile {
    /// Predicted class per row.
    pub labels: CategoricalProfile,
    /// Binary models: the positive class's probability.
    pub score: Option<NumericProfile>,
}

/// Builds a [`Profile`] from batches of rows, through the features of a model's pipeline.
pub struct ProfileBuilder {
    rows: u64,
    numeric: Vec<(String, NumericBuilder)>,
    categorical: Vec<(CategoricalEncoder, CategoricalBuilder)>,
    text: Vec<TextBuilder>,
    labels: CategoricalBuilder,
    scores: Option<NumericBuilder>,
}

impl ProfileBuilder {
    /// `seed` makes the samples (where values are too many to keep) reproducible.
    pub fn new(pipeline: &Pipeline, seed: u64) -> ProfileBuilder {
        ProfileBuilder {
            rows: 0,
            numeric: pipeline
                .numeric
                .iter()
                .enumerate()
                .map(|(i, e)| (e.column.clone(), NumericBuilder::new(seed + i as u64)))
                .collect(),
            categorical: pipeline
                .categorical
                .iter()
                .map(|e| (e.clone(), CategoricalBuilder::default()))
                .collect(),
            text: pipeline
                .text
                .iter()
                .enumerate()
                .map(|(i, e)| TextBuilder::new(e, seed + 500 + i as u64))
                .collect(),
            labels: CategoricalBuilder::default(),
            scores: None,
        }
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The names of the features profiled, in the order [`ProfileBuilder::finish`] gives them.
    pub fn feature_names(&self) -> Vec<String> {
        self.numeric
            .iter()
            .map(|(name, _)| name.clone())
            .chain(self.categorical.iter().map(|(e, _)| e.name()))
            .chain(self.text.iter().map(|b| b.encoder.column.clone()))
            .collect()
    }

    /// Adds a batch of rows holding the pipeline's input columns. Features are profiled in parallel.
    pub fn add(&mut self, frame: &RawFrame) -> Result<(), FeatureError> {
        self.numeric
            .par_iter_mut()
            .try_for_each(|(column, builder)| builder.add_column(column, frame.column(column)?))?;
        self.categorical
            .par_iter_mut()
            .try_for_each(|(encoder, builder)| {
                encoder.for_each_key(frame.column(&encoder.column)?, |key| builder.add(key))
            })?;
        self.text
            .par_iter_mut()
            .try_for_each(|builder| builder.add(frame.column(&builder.encoder.column)?))?;
        self.rows += frame.rows() as u64;
        Ok(())
    }

    /// Adds the values of input column `name` for a batch of rows that [`ProfileBuilder::count_rows`]
    /// counts: training at scale profiles its training part one column at a time. Every column
    /// added this way gives the profile [`ProfileBuilder::add`] gives.
    pub fn add_column(&mut self, name: &str, column: &RawColumn) -> Result<(), FeatureError> {
        for (_, builder) in self.numeric.iter_mut().filter(|(c, _)| c == name) {
            builder.add_column(name, column)?;
        }
        for (encoder, builder) in self.categorical.iter_mut() {
            if encoder.column == name {
                encoder.for_each_key(column, |key| builder.add(key))?;
            }
        }
        for builder in self.text.iter_mut() {
            if builder.encoder.column == name {
                builder.add(column)?;
            }
        }
        Ok(())
    }

    /// Counts a batch of rows whose columns [`ProfileBuilder::add_column`] adds.
    pub fn count_rows(&mut self, rows: usize) {
        self.rows += rows as u64;
    }

    /// Adds what the model predicted for some rows: the class labels and, for a binary model, the
    /// positive class's probabilities.
    pub fn add_predictions<'a>(
        &mut self,
        labels: impl IntoIterator<Item = &'a str>,
        scores: Option<&[f64]>,
    ) {
        for label in labels {
            self.labels.add(Some(label));
        }
        if let Some(scores) = scores {
            let seed = self.numeric.len() as u64 + 1_000;
            self.scores
                .get_or_insert_with(|| NumericBuilder::new(seed))
                .add(scores.iter().map(|&s| Some(s)));
        }
    }

    pub fn finish(self) -> Profile {
        let mut features: Vec<FeatureProfile> = self
            .numeric
            .into_iter()
            .map(|(name, b)| FeatureProfile::Numeric(b.finish(name)))
            .collect();
        features.extend(
            self.categorical
                .into_iter()
                .map(|(e, b)| FeatureProfile::Categorical(b.finish(e.name()))),
        );
        features.extend(
            self.text
                .into_iter()
                .map(|b| FeatureProfile::Text(b.finish())),
        );
        let labels = self.labels.finish("label".into());
        let predictions = (labels.count > 0).then(|| PredictionProfile {
            labels,
            score: self.scores.map(|s| s.finish("score".into())),
        });
        Profile {
            rows: self.rows,
            features,
            predictions,
        }
    }
}

struct NumericBuilder {
    nulls: u64,
    moments: Moments,
    /// Values passed to `values` so far (the moments' count runs a batch ahead of it).
    seen: u64,
    values: Values,
    rng: ChaCha8Rng,
}

enum Values {
    /// Bit pattern of each distinct value → its count.
    Distinct(HashMap<u64, u64>),
    /// A reservoir sample of every value seen so far.
    Sample(Vec<f64>),
}

impl NumericBuilder {
    fn new(seed: u64) -> NumericBuilder {
        NumericBuilder {
            nulls: 0,
            moments: Moments::default(),
            seen: 0,
            values: Values::Distinct(HashMap::default()),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn add_column(&mut self, name: &str, column: &RawColumn) -> Result<(), FeatureError> {
        match column {
            RawColumn::Numeric(values) => {
                self.add(values.iter().copied());
                Ok(())
            }
            other => Err(FeatureError::WrongType {
                column: name.to_owned(),
                expected: "numeric",
                found: other.kind_name(),
            }),
        }
    }

    fn add(&mut self, values: impl IntoIterator<Item = Option<f64>>) {
        let mut batch = Vec::new();
        for value in values {
            match value.filter(|x| x.is_finite()) {
                // One zero, not two: -0.0 and 0.0 have different bit patterns.
                Some(x) => batch.push(x + 0.0),
                None => self.nulls += 1,
            }
        }
        self.moments.add(&batch);
        for &x in &batch {
            self.seen += 1;
            match &mut self.values {
                Values::Distinct(counts) => {
                    *counts.entry(x.to_bits()).or_default() += 1;
                    if counts.len() > MAX_DISTINCT {
                        self.values = Values::Sample(self.sample_of_counts());
                    }
                }
                Values::Sample(sample) => {
                    // Reservoir sampling: the value replaces a random one with probability k/seen.
                    let slot = self.rng.random_range(0..self.seen);
                    if let Some(kept) = sample.get_mut(slot as usize) {
                        *kept = x;
                    }
                }
            }
        }
    }

    /// A uniform sample of [`MAX_DISTINCT`] of the values counted so far, to continue as a reservoir.
    fn sample_of_counts(&mut self) -> Vec<f64> {
        let Values::Distinct(counts) = &self.values else {
            unreachable!("called while counting");
        };
        let counts = Counts::from_pairs(
            counts
                .iter()
                .map(|(&b, &c)| (f64::from_bits(b), c))
                .collect(),
        );
        counts.sample(MAX_DISTINCT, &mut self.rng)
    }

    fn finish(self, name: String) -> NumericProfile {
        let (exact, values) = match self.values {
            Values::Distinct(counts) => (
                true,
                Counts::from_pairs(
                    counts
                        .into_iter()
                        .map(|(b, c)| (f64::from_bits(b), c))
                        .collect(),
                ),
            ),
            Values::Sample(sample) => (false, Counts::from_values(sample)),
        };
        let m = self.moments;
        let any = m.count > 0;
        NumericProfile {
            name,
            count: m.count,
            nulls: self.nulls,
            min: any.then_some(m.min),
            max: any.then_some(m.max),
            mean: any.then_some(m.mean),
            std: any.then(|| (m.m2 / m.count as f64).sqrt()),
            exact,
            values,
        }
    }
}

struct TextBuilder {
    encoder: TextEncoder,
    /// How words are cut for the word counts: the model's cleaning, one word at a time.
    words_of: TextOptions,
    lengths: NumericBuilder,
    terms: u64,
    unknown_terms: u64,
    words: CategoricalBuilder,
}

impl TextBuilder {
    fn new(encoder: &TextEncoder, seed: u64) -> TextBuilder {
        TextBuilder {
            encoder: encoder.clone(),
            words_of: TextOptions {
                analyzer: Analyzer::Word,
                ngrams: (1, 1),
                ..encoder.tfidf.options.clone()
            },
            lengths: NumericBuilder::new(seed),
            terms: 0,
            unknown_terms: 0,
            words: CategoricalBuilder::default(),
        }
    }

    fn add(&mut self, column: &RawColumn) -> Result<(), FeatureError> {
        let RawColumn::Text(documents) = column else {
            return Err(FeatureError::WrongType {
                column: self.encoder.column.clone(),
                expected: "text",
                found: column.kind_name(),
            });
        };
        let mut lengths = Vec::with_capacity(documents.len());
        let same_cut = self.words_of == self.encoder.tfidf.options;
        for document in documents.iter() {
            let Some(document) = document else {
                lengths.push(None);
                continue;
            };
            let words = terms(document, &self.words_of);
            lengths.push(Some(words.len() as f64));
            let model_terms;
            let counted = if same_cut {
                &words
            } else {
                model_terms = terms(document, &self.encoder.tfidf.options);
                &model_terms
            };
            self.terms += counted.len() as u64;
            self.unknown_terms += counted
                .iter()
                .filter(|term| self.encoder.tfidf.column(term).is_none())
                .count() as u64;
            for word in &words {
                self.words.add(Some(word));
            }
        }
        self.lengths.add(lengths);
        Ok(())
    }

    fn finish(self) -> TextProfile {
        let name = self.encoder.column;
        let words = self.words.finish(String::new());
        let mut top: Vec<(String, u64)> = words.levels.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(TOP_WORDS);
        let lengths = self.lengths.finish(format!("{name} (words)"));
        TextProfile {
            count: lengths.count,
            nulls: lengths.nulls,
            words: lengths,
            terms: self.terms,
            unknown_terms: self.unknown_terms,
            top_words: top.into_iter().collect(),
            word_total: words.count,
            name,
        }
    }
}

#[derive(Default)]
struct CategoricalBuilder {
    nulls: u64,
    levels: HashMap<String, u64>,
    other: u64,
}

impl CategoricalBuilder {
    fn add(&mut self, key: Option<&str>) {
        match key {
            None => self.nulls += 1,
            Some(key) => {
                let full = self.levels.len() >= MAX_LEVELS;
                match self.levels.get_mut(key) {
                    Some(count) => *count += 1,
                    None if full => self.other += 1,
                    None => {
                        self.levels.insert(key.to_owned(), 1);
                    }
                }
            }
        }
    }

    fn finish(self, name: String) -> CategoricalProfile {
        let mut levels: BTreeMap<String, u64> = self.levels.into_iter().collect();
        if self.other > 0 {
            *levels.entry(OTHER_LEVELS.to_owned()).or_default() += self.other;
        }
        CategoricalProfile {
            name,
            count: levels.values().sum(),
            nulls: self.nulls,
            levels,
        }
    }
}

#[cfg(test)]
#[path = "profile_tests.rs"]
pub(crate) mod tests;

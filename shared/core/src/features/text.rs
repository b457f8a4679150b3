//! Free text as features. A document is cleaned (HTML tags dropped and entities decoded when
//! asked), split into words at Unicode word boundaries (UAX #29, by `unicode-segmentation`),
//! lowercased when asked (accents are kept), and turned into word n-grams; the terms are weighted
//! by TF-IDF as scikit-learn's `TfidfVectorizer` weighs them (smooth idf, sublinear tf on request,
//! each row scaled to unit length). The vocabulary and the idf weights are fitted on the training
//! part only; a term not in the vocabulary is ignored when transforming. Every row is sparse: the
//! document-term matrix is never held dense.

use std::borrow::Cow;

use foldhash::{HashMap, HashMapExt};
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

/// How documents become terms, and which terms are kept: the spec's `[features.text.<column>]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextOptions {
    pub analyzer: Analyzer,
    /// The shortest and longest n-gram, in words (or characters for `char_wb`): [1, 2] is words
    /// and word pairs.
    pub ngrams: (usize, usize),
    /// A term must be in at least this many documents (a count when 1 or more, else a share).
    pub min_df: f64,
    /// A term in more than this share of the documents is dropped (too common to tell anything).
    pub max_df: f64,
    /// At most this many terms, the most frequent in the training part.
    pub max_features: Option<usize>,
    /// Term frequency as 1 + ln(count) instead of the count.
    pub sublinear_tf: bool,
    pub lowercase: bool,
    pub strip_html: bool,
    /// Terms hashed into this many columns instead of looked up in a vocabulary: a fixed width,
    /// however many distinct terms the data holds, and no vocabulary in the artifact.
    pub hash_buckets: Option<u32>,
}

/// What a term is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Analyzer {
    /// Word n-grams.
    #[default]
    Word,
    /// Character n-grams inside each word, the word padded with a space on each side (as
    /// scikit-learn's `char_wb`): robust to misspellings and word forms.
    CharWb,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            analyzer: Analyzer::Word,
            ngrams: (1, 1),
            min_df: 1.0,
            max_df: 1.0,
            max_features: None,
            sublinear_tf: false,
            lowercase: true,
            strip_html: false,
            hash_buckets: None,
        }
    }
}

impl TextOptions {
    /// What is wrong with these options, as (option, problem) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let (low, high) = self.ngrams;
        if low == 0 || high < low {
            out.push((
                "ngrams",
                format!("[{low}, {high}] is not a range of n-gram lengths; write [shortest, longest] with 1 <= shortest <= longest"),
            ));
        } else if high > 8 {
            out.push((
                "ngrams",
                format!("n-grams of {high} are longer than the 8 this product handles"),
            ));
        }
        if !(self.min_df > 0.0) || !self.min_df.is_finite() {
            out.push((
                "min_df",
                "must be a positive count or a share in (0, 1)".into(),
            ));
        } else if self.min_df >= 1.0 && self.min_df.fract() != 0.0 {
            out.push((
                "min_df",
                format!(
                    "{} is neither a whole count nor a share below 1",
                    self.min_df
                ),
            ));
        }
        if !(self.max_df > 0.0 && self.max_df <= 1.0) {
            out.push(("max_df", "must be a share in (0, 1]".into()));
        }
        if self.max_features == Some(0) {
            out.push(("max_features", "must be at least 1".into()));
        }
        match self.hash_buckets {
            Some(0) => out.push(("hash_buckets", "must be at least 1".into())),
            Some(_) if self.min_df != 1.0 || self.max_df != 1.0 || self.max_features.is_some() => out.push((
                "hash_buckets",
                "hashed terms have no vocabulary for min_df, max_df or max_features to choose from; drop those or hash_buckets".into(),
            )),
            _ => {}
        }
        out
    }
}

/// The terms of one document, in order, with repeats.
pub fn terms(text: &str, options: &TextOptions) -> Vec<String> {
    let mut out = Vec::new();
    each_term(text, options, |term| out.push(term.to_owned()));
    out
}

/// Calls `visit` with each term of one document, in order, with repeats. Serving and fitting
/// go through here rather than [`terms`]: a term is lent from one reused buffer, not allocated
/// (allocation was a third of a batch's time before).
pub fn each_term(text: &str, options: &TextOptions, mut visit: impl FnMut(&str)) {
    let cleaned;
    // Only '<' opens a tag and only '&' starts an entity: without either there is nothing to strip.
    let text = if options.strip_html && text.contains(['<', '&']) {
        cleaned = strip_html(text);
        cleaned.as_str()
    } else {
        text
    };
    let words = text.unicode_words().map(|word| {
        // An ASCII word with no capital is its own lowercase; only the rest are rewritten.
        if options.lowercase && !(word.is_ascii() && !word.bytes().any(|b| b.is_ascii_uppercase()))
        {
            Cow::Owned(word.to_lowercase())
        } else {
            Cow::Borrowed(word)
        }
    });
    let (low, high) = (
        options.ngrams.0.max(1),
        options.ngrams.1.max(options.ngrams.0.max(1)),
    );
    let mut buffer = String::new();
    match options.analyzer {
        Analyzer::Word => {
            let words: Vec<Cow<str>> = words.collect();
            for n in low..=high {
                for window in words.windows(n) {
                    if let [word] = window {
                        visit(word);
                        continue;
                    }
                    buffer.clear();
                    for (i, word) in window.iter().enumerate() {
                        if i > 0 {
                            buffer.push(' ');
                        }
                        buffer.push_str(word);
                    }
                    visit(&buffer);
                }
            }
        }
        Analyzer::CharWb => {
            let mut padded: Vec<char> = Vec::new();
            for word in words {
                padded.clear();
                padded.push(' ');
                padded.extend(word.chars());
                padded.push(' ');
                for n in low..=high {
                    let whole = padded.len() <= n;
                    // A word no longer than n counts once, whole.
                    for window in padded.windows(n.min(padded.len())) {
                        buffer.clear();
                        buffer.extend(window);
                        visit(&buffer);
                    }
                    if whole {
                        break;
                    }
                }
            }
        }
    }
}

/// The text with its HTML tags replaced by spaces and its entities decoded (`&amp;` → `&`).
fn strip_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    html_escape::decode_html_entities(&out).into_owned()
}

/// Sparse rows, compressed: row `r`'s terms are `indices[starts[r]..starts[r + 1]]`, with their
/// weights in `values`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SparseRows {
    pub starts: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f64>,
}

impl SparseRows {
    pub fn rows(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Row `r` as (term index, weight) pairs, in term order.
    pub fn row(&self, r: usize) -> impl Iterator<Item = (u32, f64)> + '_ {
        let span = self.starts[r]..self.starts[r + 1];
        self.indices[span.clone()]
            .iter()
            .copied()
            .zip(self.values[span].iter().copied())
    }

    /// The rows at `indices`, in that order.
    pub fn take(&self, indices: &[usize]) -> SparseRows {
        let mut out = SparseRows {
            starts: Vec::with_capacity(indices.len() + 1),
            ..SparseRows::default()
        };
        out.starts.push(0);
        for &r in indices {
            let span = self.starts[r]..self.starts[r + 1];
            out.indices.extend_from_slice(&self.indices[span.clone()]);
            out.values.extend_from_slice(&self.values[span]);
            out.starts.push(out.indices.len());
        }
        out
    }
}

/// A fitted vectorizer: the vocabulary (term → column) or the hash width, and each column's idf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TfIdf {
    pub options: TextOptions,
    /// The kept terms, in column order (alphabetical, as scikit-learn orders them); empty when
    /// terms are hashed.
    pub terms: Vec<String>,
    /// Per column; 0 for a hash bucket no training document reached, so that terms never seen
    /// in training count for nothing, as they do with a vocabulary.
    pub idf: Vec<f64>,
    #[serde(skip)]
    lookup: std::sync::OnceLock<HashMap<String, u32>>,
}

impl TfIdf {
    /// Learns the vocabulary (or the buckets' use) and idf weights from the training documents
    /// (a missing document is an empty one).
    pub fn fit(documents: &[Option<&str>], options: &TextOptions) -> TfIdf {
        let n = documents.len();
        let idf_of = |df: usize| ((1.0 + n as f64) / (1.0 + df as f64)).ln() + 1.0;
        let mut seen: Vec<u32> = Vec::new();
        if let Some(buckets) = options.hash_buckets {
            let mut document_frequency = vec![0usize; buckets as usize];
            for document in documents {
                seen.clear();
                each_term(document.unwrap_or_default(), options, |term| {
                    seen.push(bucket(term, buckets))
                });
                seen.sort_unstable();
                seen.dedup();
                seen.iter()
                    .for_each(|&b| document_frequency[b as usize] += 1);
            }
            return TfIdf::new(
                options,
                Vec::new(),
                document_frequency
                    .into_iter()
                    .map(|df| if df == 0 { 0.0 } else { idf_of(df) })
                    .collect(),
            );
        }
        // Each distinct term gets a number on first sight; the counts are kept by number.
        let mut numbers: HashMap<String, u32> = HashMap::new();
        let mut document_frequency: Vec<usize> = Vec::new();
        let mut total: Vec<usize> = Vec::new();
        for document in documents {
            seen.clear();
            each_term(document.unwrap_or_default(), options, |term| {
                let number = match numbers.get(term) {
                    Some(&number) => number,
                    None => {
                        let number = numbers.len() as u32;
                        numbers.insert(term.to_owned(), number);
                        document_frequency.push(0);
                        total.push(0);
                        number
                    }
                };
                total[number as usize] += 1;
                seen.push(number);
            });
            seen.sort_unstable();
            seen.dedup();
            seen.iter()
                .for_each(|&number| document_frequency[number as usize] += 1);
        }
        let min_count = if options.min_df >= 1.0 {
            options.min_df.ceil() as usize
        } else {
            (options.min_df * n as f64).ceil() as usize
        };
        let max_count = (options.max_df * n as f64).floor() as usize;
        let mut kept: Vec<(String, u32)> = numbers
            .into_iter()
            .filter(|(_, number)| {
                let df = document_frequency[*number as usize];
                df >= min_count && df <= max_count
            })
            .collect();
        if let Some(limit) = options.max_features {
            // The most frequent terms in the whole training part, ties by term.
            kept.sort_by(|a, b| {
                total[b.1 as usize]
                    .cmp(&total[a.1 as usize])
                    .then_with(|| a.0.cmp(&b.0))
            });
            kept.truncate(limit);
        }
        kept.sort_by(|a, b| a.0.cmp(&b.0));
        let idf = kept
            .iter()
            .map(|(_, number)| idf_of(document_frequency[*number as usize]))
            .collect();
        TfIdf::new(
            options,
            kept.into_iter().map(|(term, _)| term).collect(),
            idf,
        )
    }

    fn new(options: &TextOptions, terms: Vec<String>, idf: Vec<f64>) -> TfIdf {
        TfIdf {
            options: options.clone(),
            terms,
            idf,
            lookup: std::sync::OnceLock::new(),
        }
    }

    /// How many columns a document's row spans.
    pub fn width(&self) -> usize {
        self.idf.len()
    }

    /// The column of a term; None for a term training never saw.
    pub fn column(&self, term: &str) -> Option<u32> {
        match self.options.hash_buckets {
            Some(buckets) => Some(bucket(term, buckets)).filter(|&b| self.idf[b as usize] > 0.0),
            None => self
                .lookup
                .get_or_init(|| {
                    self.terms
                        .iter()
                        .enumerate()
                        .map(|(i, t)| (t.clone(), i as u32))
                        .collect()
                })
                .get(term)
                .copied(),
        }
    }

    /// Each document's weighted terms, one sparse row each, unit length (a document with no
    /// known term is an empty row).
    pub fn transform(&self, documents: &[Option<&str>]) -> SparseRows {
        let mut rows = SparseRows {
            starts: vec![0],
            ..SparseRows::default()
        };
        for document in documents {
            for (column, weight) in self.weigh(document.unwrap_or_default()) {
                rows.indices.push(column);
                rows.values.push(weight);
            }
            rows.starts.push(rows.indices.len());
        }
        rows
    }

    /// One document's (column, weight) pairs in column order, unit length.
    pub fn weigh(&self, document: &str) -> Vec<(u32, f64)> {
        let mut columns: Vec<u32> = Vec::new();
        each_term(document, &self.options, |term| {
            columns.extend(self.column(term));
        });
        columns.sort_unstable();
        let mut row: Vec<(u32, f64)> = Vec::with_capacity(columns.len());
        for chunk in columns.chunk_by(|a, b| a == b) {
            let count = chunk.len() as f64;
            let tf = if self.options.sublinear_tf {
                1.0 + count.ln()
            } else {
                count
            };
            row.push((chunk[0], tf * self.idf[chunk[0] as usize]));
        }
        let norm = row.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|(_, w)| *w /= norm);
        }
        row
    }
}

/// The hash bucket of a term: XXH3 (64 bits, seed 0) of its UTF-8 bytes, modulo the width; the
/// same on every machine and release.
fn bucket(term: &str, buckets: u32) -> u32 {
    (xxhash_rust::xxh3::xxh3_64(term.as_bytes()) % u64::from(buckets)) as u32
}

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;

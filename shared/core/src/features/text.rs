//! Free text as features. A document is cleaned (HTML tags dropped and entities decoded when
//! asked), split into words at Unicode word boundaries (UAX #29, by `unicode-segmentation`),
//! lowercased when asked (accents are kept), and turned into word n-grams; the terms are weighted
//! by TF-IDF as scikit-learn's `TfidfVectorizer` weighs them (smooth idf, sublinear tf on request,
//! each row scaled to unit length). The vocabulary and the idf weights are fitted on the training
//! part only; a term not in the vocabulary is ignored when transforming. Every row is sparse: the
//! document-term matrix is never held dense.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

/// How documents become terms, and which terms are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextOptions {
    /// The shortest and longest word n-gram (1 and 2: words and word pairs).
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
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            ngrams: (1, 1),
            min_df: 1.0,
            max_df: 1.0,
            max_features: None,
            sublinear_tf: false,
            lowercase: true,
            strip_html: false,
        }
    }
}

/// The terms of one document, in order, with repeats.
pub fn terms(text: &str, options: &TextOptions) -> Vec<String> {
    let cleaned;
    let text = if options.strip_html {
        cleaned = strip_html(text);
        cleaned.as_str()
    } else {
        text
    };
    let words: Vec<String> = text
        .unicode_words()
        .map(|w| {
            if options.lowercase {
                w.to_lowercase()
            } else {
                w.to_owned()
            }
        })
        .collect();
    let (low, high) = options.ngrams;
    let mut out = Vec::new();
    for n in low.max(1)..=high.max(low.max(1)) {
        for window in words.windows(n) {
            out.push(window.join(" "));
        }
    }
    out
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
}

/// A fitted vectorizer: the vocabulary (term → column) and each term's idf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TfIdf {
    pub options: TextOptions,
    /// The kept terms, in column order (alphabetical, as scikit-learn orders them).
    pub terms: Vec<String>,
    pub idf: Vec<f64>,
    #[serde(skip)]
    lookup: std::sync::OnceLock<HashMap<String, u32>>,
}

impl TfIdf {
    /// Learns the vocabulary and idf weights from the training documents (a missing document is
    /// an empty one).
    pub fn fit(documents: &[Option<&str>], options: &TextOptions) -> TfIdf {
        let n = documents.len();
        let mut document_frequency: HashMap<String, usize> = HashMap::new();
        let mut total: HashMap<String, usize> = HashMap::new();
        for document in documents {
            let mut seen: Vec<String> = terms(document.unwrap_or_default(), options);
            for term in &seen {
                *total.entry(term.clone()).or_default() += 1;
            }
            seen.sort_unstable();
            seen.dedup();
            for term in seen {
                *document_frequency.entry(term).or_default() += 1;
            }
        }
        let min_count = if options.min_df >= 1.0 {
            options.min_df.ceil() as usize
        } else {
            (options.min_df * n as f64).ceil() as usize
        };
        let max_count = (options.max_df * n as f64).floor() as usize;
        let mut kept: Vec<(String, usize)> = document_frequency
            .into_iter()
            .filter(|(_, df)| *df >= min_count && *df <= max_count)
            .collect();
        if let Some(limit) = options.max_features {
            // The most frequent terms in the whole training part, ties by term.
            kept.sort_by(|a, b| total[&b.0].cmp(&total[&a.0]).then_with(|| a.0.cmp(&b.0)));
            kept.truncate(limit);
        }
        kept.sort_by(|a, b| a.0.cmp(&b.0));
        let idf = kept
            .iter()
            .map(|(_, df)| ((1.0 + n as f64) / (1.0 + *df as f64)).ln() + 1.0)
            .collect();
        TfIdf {
            options: options.clone(),
            terms: kept.into_iter().map(|(term, _)| term).collect(),
            idf,
            lookup: std::sync::OnceLock::new(),
        }
    }

    /// Each document's weighted terms, one sparse row each, unit length (a document with no
    /// known term is an empty row).
    pub fn transform(&self, documents: &[Option<&str>]) -> SparseRows {
        let lookup = self.lookup.get_or_init(|| {
            self.terms
                .iter()
                .enumerate()
                .map(|(i, t)| (t.clone(), i as u32))
                .collect()
        });
        let mut rows = SparseRows {
            starts: vec![0],
            ..SparseRows::default()
        };
        let mut counts: HashMap<u32, usize> = HashMap::new();
        for document in documents {
            counts.clear();
            for term in terms(document.unwrap_or_default(), &self.options) {
                if let Some(&column) = lookup.get(&term) {
                    *counts.entry(column).or_default() += 1;
                }
            }
            let mut row: Vec<(u32, f64)> = counts
                .iter()
                .map(|(&column, &count)| {
                    let tf = if self.options.sublinear_tf {
                        1.0 + (count as f64).ln()
                    } else {
                        count as f64
                    };
                    (column, tf * self.idf[column as usize])
                })
                .collect();
            row.sort_unstable_by_key(|(column, _)| *column);
            let norm = row.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
            for (column, weight) in row {
                rows.indices.push(column);
                rows.values
                    .push(if norm > 0.0 { weight / norm } else { 0.0 });
            }
            rows.starts.push(rows.indices.len());
        }
        rows
    }
}

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;

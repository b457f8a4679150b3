//! Expected values computed by scikit-learn 1.5's `TfidfVectorizer` on the same documents, with
//! `token_pattern=r"(?u)\b\w+\b"` (words of any length, as Unicode word boundaries give them) and a
//! preprocessor that drops tags, decodes entities and lowercases.

use super::*;

const DOCUMENTS: [&str; 3] = [
    "The tea was great.<br />Great tea, great price!",
    "Not great: the coffee was bitter",
    "Café crème &amp; tea",
];

fn options() -> TextOptions {
    TextOptions {
        ngrams: (1, 2),
        sublinear_tf: true,
        strip_html: true,
        ..TextOptions::default()
    }
}

fn fitted() -> TfIdf {
    let documents: Vec<Option<&str>> = DOCUMENTS.iter().map(|d| Some(*d)).collect();
    TfIdf::fit(&documents, &options())
}

fn weights(tfidf: &TfIdf, document: &str) -> Vec<(String, f64)> {
    let rows = tfidf.transform(&[Some(document)]);
    rows.row(0)
        .map(|(column, weight)| (tfidf.terms[column as usize].clone(), weight))
        .collect()
}

fn assert_close(found: &[(String, f64)], expected: &[(&str, f64)]) {
    assert_eq!(found.len(), expected.len(), "{found:?}");
    for ((term, weight), (want_term, want)) in found.iter().zip(expected) {
        assert_eq!(term, want_term);
        assert!((weight - want).abs() < 1e-9, "{term}: {weight} vs {want}");
    }
}

#[test]
fn words_split_at_unicode_boundaries_without_tags_and_with_entities_decoded() {
    assert_eq!(
        terms("Café crème &amp; <b>tea</b>!", &options()),
        ["café", "crème", "tea", "café crème", "crème tea"]
    );
    let kept_case = TextOptions {
        lowercase: false,
        ..TextOptions::default()
    };
    assert_eq!(terms("Great <br/>Tea", &kept_case), ["Great", "br", "Tea"]);
    // Capitals beyond ASCII are lowered too, titlecase letters included; a word already in
    // lowercase, and text with no tag or entity, is taken as it is.
    let words = TextOptions::default();
    assert_eq!(
        terms("ÉCOLE Straße ǅemal TEA tea 3&4 a>b", &words),
        ["école", "straße", "ǆemal", "tea", "tea", "3", "4", "a", "b"]
    );
}

#[test]
fn the_vocabulary_and_idf_are_scikit_learns() {
    let tfidf = fitted();
    assert_eq!(tfidf.terms.len(), 24);
    assert_eq!(
        &tfidf.terms[..8],
        [
            "bitter",
            "café",
            "café crème",
            "coffee",
            "coffee was",
            "crème",
            "crème tea",
            "great"
        ]
    );
    let idf = |term: &str| tfidf.idf[tfidf.terms.iter().position(|t| t == term).expect(term)];
    assert!((idf("great") - 1.287682072452).abs() < 1e-9);
    assert!((idf("bitter") - 1.69314718056).abs() < 1e-9);
}

#[test]
fn rows_are_sublinear_tf_idf_scaled_to_unit_length() {
    let tfidf = fitted();
    assert_close(
        &weights(&tfidf, DOCUMENTS[0]),
        &[
            ("great", 0.436621996956),
            ("great great", 0.273564325764),
            ("great price", 0.273564325764),
            ("great tea", 0.273564325764),
            ("price", 0.273564325764),
            ("tea", 0.352263877949),
            ("tea great", 0.273564325764),
            ("tea was", 0.273564325764),
            ("the", 0.208052720988),
            ("the tea", 0.273564325764),
            ("was", 0.208052720988),
            ("was great", 0.273564325764),
        ],
    );
    assert_close(
        &weights(&tfidf, DOCUMENTS[2]),
        &[
            ("café", 0.467350981811),
            ("café crème", 0.467350981811),
            ("crème", 0.467350981811),
            ("crème tea", 0.467350981811),
            ("tea", 0.35543246785),
        ],
    );
}

#[test]
fn unseen_terms_are_ignored_and_an_empty_document_is_an_empty_row() {
    let tfidf = fitted();
    assert_close(
        &weights(&tfidf, "great tea unknownword"),
        &[
            ("great", 0.517856116168),
            ("great tea", 0.680918560399),
            ("tea", 0.517856116168),
        ],
    );
    let rows = tfidf.transform(&[None, Some("<p></p>"), Some("nothing known here")]);
    assert_eq!(rows.rows(), 3);
    assert!((0..3).all(|r| rows.row(r).next().is_none()));
}

#[test]
fn document_frequency_bounds_and_max_features_prune_the_vocabulary() {
    let documents: Vec<Option<&str>> = DOCUMENTS.iter().map(|d| Some(*d)).collect();
    let bounded = TextOptions {
        min_df: 2.0,
        max_df: 0.9,
        strip_html: true,
        ..TextOptions::default()
    };
    assert_eq!(
        TfIdf::fit(&documents, &bounded).terms,
        ["great", "tea", "the", "was"]
    );
    let shared = TextOptions {
        min_df: 0.5,
        ..bounded.clone()
    };
    assert_eq!(
        TfIdf::fit(&documents, &shared).terms.len(),
        4,
        "a share of the documents"
    );
    let top = TextOptions {
        max_features: Some(2),
        strip_html: true,
        ..TextOptions::default()
    };
    // "great" occurs four times and "tea" three: the most frequent terms stay.
    assert_eq!(TfIdf::fit(&documents, &top).terms, ["great", "tea"]);
}

#[test]
fn character_ngrams_stay_inside_padded_words_as_scikit_learns_char_wb() {
    let options = TextOptions {
        analyzer: Analyzer::CharWb,
        ngrams: (2, 3),
        ..TextOptions::default()
    };
    assert_eq!(
        terms("Tea, ok", &options),
        [" t", "te", "ea", "a ", " te", "tea", "ea ", " o", "ok", "k ", " ok", "ok "]
    );
    let long = TextOptions {
        ngrams: (3, 4),
        ..options
    };
    // A word no longer than n counts once, whole, and stops the longer n-grams.
    assert_eq!(terms("a", &long), [" a "]);
}

#[test]
fn hashed_terms_land_in_xxh3_buckets_and_unseen_buckets_count_for_nothing() {
    let hashed = TextOptions {
        hash_buckets: Some(1024),
        ..options()
    };
    let documents: Vec<Option<&str>> = DOCUMENTS.iter().map(|d| Some(*d)).collect();
    let tfidf = TfIdf::fit(&documents, &hashed);
    assert!(tfidf.terms.is_empty(), "no vocabulary is kept");
    assert_eq!(tfidf.width(), 1024);
    // Buckets computed by the Python xxhash package: xxh3_64(term) % 1024.
    assert_eq!(tfidf.column("great"), Some(964));
    assert_eq!(tfidf.column("café crème"), Some(946));
    // Without collisions, hashing weighs a document as the vocabulary does.
    let by_vocabulary = fitted();
    for document in DOCUMENTS {
        let mut a: Vec<f64> = tfidf.weigh(document).iter().map(|(_, w)| *w).collect();
        let mut b: Vec<f64> = by_vocabulary
            .weigh(document)
            .iter()
            .map(|(_, w)| *w)
            .collect();
        a.sort_by(f64::total_cmp);
        b.sort_by(f64::total_cmp);
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-12));
    }
    assert!(
        tfidf.weigh("zzz qqq").is_empty(),
        "{:?}",
        tfidf.weigh("zzz qqq")
    );
}

#[test]
fn options_that_cannot_work_are_named() {
    let problems = |options: TextOptions| -> Vec<&'static str> {
        options
            .problems()
            .into_iter()
            .map(|(field, _)| field)
            .collect()
    };
    assert!(problems(TextOptions::default()).is_empty());
    assert_eq!(
        problems(TextOptions {
            ngrams: (2, 1),
            ..TextOptions::default()
        }),
        ["ngrams"]
    );
    assert_eq!(
        problems(TextOptions {
            min_df: 2.5,
            ..TextOptions::default()
        }),
        ["min_df"]
    );
    assert_eq!(
        problems(TextOptions {
            max_df: 0.0,
            ..TextOptions::default()
        }),
        ["max_df"]
    );
    assert_eq!(
        problems(TextOptions {
            hash_buckets: Some(64),
            max_features: Some(10),
            ..TextOptions::default()
        }),
        ["hash_buckets"]
    );
}

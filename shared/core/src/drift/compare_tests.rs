use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::drift::profile::tests::{frame, pipeline, profile_of};
use crate::drift::ProfileBuilder;

const THRESHOLDS: Thresholds = Thresholds {
    drift_share: 0.5,
    min_rows: 200,
    psi: 0.2,
};

/// `n` values of a normal(mean, 1) rounded to 0.01, from a fixed seed.
fn normal(n: usize, mean: f64, seed: u64) -> Vec<Option<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            // Box–Muller: enough for test data.
            let (u, v): (f64, f64) = (rng.random(), rng.random());
            let z = (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos();
            Some(((mean + z) * 100.0).round() / 100.0)
        })
        .collect()
}

fn x(comparison: &Comparison) -> &FeatureDrift {
    comparison
        .features
        .iter()
        .find(|f| f.name == "x")
        .expect("x")
}

#[test]
fn the_same_distribution_is_not_drift() {
    let reference = profile_of(normal(5_000, 0.0, 1), 1);
    let current = profile_of(normal(3_000, 0.0, 2), 2);
    let comparison = compare(&reference, &current, &THRESHOLDS);
    let x = x(&comparison);
    assert_eq!(x.test, Some(Test::Wasserstein));
    assert!(!x.drifted && x.score.expect("score") < 0.1, "{x:?}");
    assert!(!x.psi_drifted, "{x:?}");
    assert_eq!(comparison.dataset_drift, Some(false));
}

#[test]
fn a_shifted_numeric_feature_drifts_by_distance_on_a_large_reference() {
    let reference = profile_of(normal(5_000, 0.0, 1), 1);
    let current = profile_of(normal(3_000, 0.5, 2), 2);
    let comparison = compare(&reference, &current, &THRESHOLDS);
    let x = x(&comparison);
    assert_eq!(x.test, Some(Test::Wasserstein));
    // The Wasserstein distance of a shift by half a standard deviation is about 0.5.
    assert!((x.score.expect("score") - 0.5).abs() < 0.1, "{x:?}");
    assert!(x.drifted && x.psi_drifted);
    assert_eq!(
        (comparison.drifted_features, comparison.share_drifted),
        (1, 0.5)
    );
    assert_eq!(comparison.dataset_drift, Some(true));
}

#[test]
fn a_small_reference_gets_kolmogorov_smirnov_with_a_sampled_large_current_side() {
    let reference = profile_of(normal(800, 0.0, 1), 1);
    let same = compare(
        &reference,
        &profile_of(normal(50_000, 0.0, 2), 2),
        &THRESHOLDS,
    );
    let shifted = compare(&reference, &profile_of(normal(900, 0.3, 3), 3), &THRESHOLDS);
    let (same, shifted) = (x(&same), x(&shifted));
    assert_eq!(same.test, Some(Test::KolmogorovSmirnov));
    assert!(same.sampled && !shifted.sampled);
    assert!(same.p_value.expect("p") > 0.05 && !same.drifted, "{same:?}");
    assert!(
        shifted.p_value.expect("p") < 0.05 && shifted.drifted,
        "{shifted:?}"
    );
}

/// Profiles whose `c` column holds the given levels (`x` is constant).
fn levels(counts: &[(&str, usize)]) -> crate::drift::Profile {
    let c: Vec<Option<&str>> = counts
        .iter()
        .flat_map(|&(level, n)| std::iter::repeat_n(Some(level), n))
        .collect();
    let mut builder = ProfileBuilder::new(&pipeline(), 1);
    builder
        .add(&frame(vec![Some(1.0); c.len()], c))
        .expect("add");
    builder.finish()
}

fn c(comparison: &Comparison) -> &FeatureDrift {
    comparison
        .features
        .iter()
        .find(|f| f.name == "c")
        .expect("c")
}

#[test]
fn categorical_tests_follow_the_reference_size_and_the_number_of_levels() {
    let small = levels(&[("a", 300), ("b", 300), ("c", 300)]);
    let moved = levels(&[("a", 200), ("b", 300), ("c", 500)]);
    let chi = compare(&small, &moved, &THRESHOLDS);
    assert_eq!(c(&chi).test, Some(Test::ChiSquare));
    assert!(c(&chi).drifted);

    let two = levels(&[("a", 500), ("b", 400)]);
    let z = compare(&two, &levels(&[("a", 480), ("b", 420)]), &THRESHOLDS);
    assert_eq!(c(&z).test, Some(Test::ZTest));
    assert!(!c(&z).drifted, "{:?}", c(&z));

    let large = levels(&[("a", 3000), ("b", 3000)]);
    let js = compare(
        &large,
        &levels(&[("a", 100), ("b", 2900), ("new", 1000)]),
        &THRESHOLDS,
    );
    let feature = c(&js);
    assert_eq!(feature.test, Some(Test::JensenShannon));
    assert!(feature.drifted);
    assert!((feature.out_of_range - 0.25).abs() < 1e-12, "{feature:?}");
}

#[test]
fn numbers_with_few_values_are_compared_as_levels() {
    let reference = profile_of(
        [1.0, 2.0, 3.0].repeat(300).into_iter().map(Some).collect(),
        1,
    );
    let current = profile_of(
        [1.0, 2.0, 3.0, 3.0]
            .repeat(100)
            .into_iter()
            .map(Some)
            .collect(),
        2,
    );
    let comparison = compare(&reference, &current, &THRESHOLDS);
    assert_eq!(x(&comparison).test, Some(Test::ChiSquare));
}

#[test]
fn too_few_current_rows_is_insufficient_data_not_no_drift() {
    let reference = profile_of(normal(5_000, 0.0, 1), 1);
    let comparison = compare(&reference, &profile_of(normal(199, 3.0, 2), 2), &THRESHOLDS);
    assert!(x(&comparison).drifted);
    assert_eq!(comparison.dataset_drift, None);
}

#[test]
fn a_feature_that_stopped_arriving_counts_as_drifted() {
    let reference = profile_of(normal(5_000, 0.0, 1), 1);
    let comparison = compare(&reference, &profile_of(vec![None; 500], 2), &THRESHOLDS);
    let x = x(&comparison);
    assert!(x.drifted && x.test.is_none(), "{x:?}");
    assert_eq!(x.missing, [0.0, 1.0]);
    assert!(x.note.as_deref().is_some_and(|n| n.contains("no values")));
}

#[test]
fn out_of_range_is_the_share_of_current_values_outside_the_reference() {
    let reference = profile_of((0..100).map(|i| Some(i as f64)).collect(), 1);
    let current = profile_of((50..150).map(|i| Some(i as f64)).collect(), 2);
    let comparison = compare(&reference, &current, &THRESHOLDS);
    assert!((x(&comparison).out_of_range - 0.5).abs() < 1e-12);
    // The bins cover the reference's range; the current half above it is a bar of its own.
    let histogram = &x(&comparison).histogram;
    assert_eq!(histogram.bins.len(), 20);
    assert_eq!(histogram.bins[0], "0–4.95");
    assert_eq!(histogram.bins[19], "94.05–99");
    assert!((histogram.reference.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!((histogram.current.iter().sum::<f64>() - 0.5).abs() < 1e-9);
    assert_eq!((histogram.below, histogram.above), (None, Some(0.5)));
}

#[test]
fn one_far_outlier_does_not_squeeze_the_reference_bins() {
    let reference = profile_of((0..100).map(|i| Some(i as f64)).collect(), 1);
    let mut values: Vec<Option<f64>> = (0..99).map(|i| Some(i as f64)).collect();
    values.push(Some(-1e9));
    let current = profile_of(values, 2);
    let comparison = compare(&reference, &current, &THRESHOLDS);
    let histogram = &x(&comparison).histogram;
    assert_eq!(histogram.below, Some(0.01));
    assert_eq!(histogram.above, None);
    assert_eq!(histogram.bins.len(), 20);
    // Every in-range bar still shows its five values, on both sides.
    assert!(histogram.reference.iter().all(|s| (s - 0.05).abs() < 1e-9));
    assert!(histogram.current[..19]
        .iter()
        .all(|s| (s - 0.05).abs() < 1e-9));
}

#[test]
fn test_names_in_reports_are_their_serialised_names() {
    for test in [
        Test::KolmogorovSmirnov,
        Test::ChiSquare,
        Test::ZTest,
        Test::Wasserstein,
        Test::JensenShannon,
    ] {
        assert_eq!(serde_json::to_value(test).expect("json"), test.as_str());
    }
}

/// A profile of product titles through the sample text model's pipeline.
fn titles_profile(titles: &[Option<&str>]) -> Profile {
    let pipeline = crate::sample_artifacts::text_artifact().pipeline;
    let mut frame = crate::features::RawFrame::new(titles.len());
    frame
        .insert(
            "price",
            crate::features::RawColumn::Numeric(vec![Some(5.0); titles.len()]),
        )
        .expect("price");
    frame
        .insert(
            "title",
            crate::features::RawColumn::Text(titles.iter().copied().collect()),
        )
        .expect("title");
    let mut builder = ProfileBuilder::new(&pipeline, 1);
    builder.add(&frame).expect("adds");
    builder.finish()
}

#[test]
fn text_drifts_by_its_words_and_reports_unknown_terms_and_its_length() {
    let repeat = |docs: &[&'static str], n: usize| -> Vec<Option<&'static str>> {
        docs.iter().cycle().take(n).map(|d| Some(*d)).collect()
    };
    let drinks = [
        "green tea leaves",
        "dark roast coffee beans",
        "black tea bags",
    ];
    let reference = titles_profile(&repeat(&drinks, 300));
    let FeatureProfile::Text(text) = reference.feature("title").expect("profiled") else {
        panic!("a text profile");
    };
    assert_eq!((text.count, text.nulls), (300, 0));
    assert_eq!(text.word_total, 1000);
    assert_eq!(text.top_words.get("tea"), Some(&200));
    assert_eq!(text.unknown_terms, 0, "every word is in the vocabulary");

    let same = compare(
        &reference,
        &titles_profile(&repeat(&drinks, 250)),
        &THRESHOLDS,
    );
    let words = same
        .features
        .iter()
        .find(|f| f.name == "title")
        .expect("words");
    assert_eq!(
        (words.kind, words.test),
        (Kind::Text, Some(Test::JensenShannon))
    );
    assert!(!words.drifted && words.out_of_range == 0.0, "{words:?}");
    let length = same
        .features
        .iter()
        .find(|f| f.name == "title (words)")
        .expect("length");
    assert_eq!(length.kind, Kind::Numeric);
    assert!(!length.drifted);

    let mut changed = repeat(&["squeaky rubber bone toy for large dogs", "tea"], 250);
    changed.push(None);
    let shifted = compare(&reference, &titles_profile(&changed), &THRESHOLDS);
    let words = shifted
        .features
        .iter()
        .find(|f| f.name == "title")
        .expect("words");
    assert!(words.drifted, "{words:?}");
    // "squeaky rubber bone toy for large dogs" has seven words the model never learned; "tea" one it knows.
    assert!(
        (words.out_of_range - 7.0 / 8.0).abs() < 1e-12,
        "{}",
        words.out_of_range
    );
    assert!(words.missing[1] > 0.0);
    let length = shifted
        .features
        .iter()
        .find(|f| f.name == "title (words)")
        .expect("length");
    assert!(length.drifted, "{length:?}");
}

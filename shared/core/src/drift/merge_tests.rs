use super::*;
use crate::drift::profile::tests::{frame, pipeline};
use crate::drift::ProfileBuilder;

/// The profile of rows `x` and `c`, with a prediction per row.
fn profiled(x: &[Option<f64>], c: &[Option<&str>], seed: u64) -> Profile {
    let mut builder = ProfileBuilder::new(&pipeline(), seed);
    builder.add(&frame(x.to_vec(), c.to_vec())).expect("adds");
    let labels: Vec<&str> = (0..x.len()).map(|i| ["yes", "no"][i % 2]).collect();
    let scores: Vec<f64> = (0..x.len()).map(|i| (i % 10) as f64 / 10.0).collect();
    builder.add_predictions(labels, Some(&scores));
    builder.finish()
}

fn numeric(profile: &Profile) -> &NumericProfile {
    match &profile.features[0] {
        FeatureProfile::Numeric(p) => p,
        other => panic!("{other:?}"),
    }
}

#[test]
fn two_days_merged_are_the_profile_of_both_days_rows() {
    let x: Vec<Option<f64>> = (0..3000)
        .map(|i| (i % 13 != 0).then_some((i % 97) as f64 * 0.5))
        .collect();
    let c: Vec<Option<&str>> = (0..3000)
        .map(|i| [Some("a"), Some("b"), None][i % 3])
        .collect();
    let whole = profiled(&x, &c, 1);
    let merged = profiled(&x[..1100], &c[..1100], 1)
        .merge(profiled(&x[1100..], &c[1100..], 1), 9)
        .expect("merges");

    assert_eq!(merged.rows, whole.rows);
    let (m, w) = (numeric(&merged), numeric(&whole));
    assert!(m.exact);
    assert_eq!(
        (&m.values, m.count, m.nulls, m.min, m.max),
        (&w.values, w.count, w.nulls, w.min, w.max)
    );
    let close = |a: Option<f64>, b: Option<f64>| (a.expect("a") - b.expect("b")).abs() < 1e-9;
    assert!(close(m.mean, w.mean) && close(m.std, w.std), "{m:?} {w:?}");
    assert_eq!(merged.features[1], whole.features[1], "levels add up");
    let (m, w) = (
        merged.predictions.expect("predictions"),
        whole.predictions.expect("predictions"),
    );
    assert_eq!(m.labels, w.labels);
    let (m, w) = (m.score.expect("scores"), w.score.expect("scores"));
    assert_eq!((&m.values, m.count), (&w.values, w.count));
    assert!(close(m.std, w.std), "{m:?} {w:?}");
}

#[test]
fn past_the_distinct_limit_the_values_become_a_fair_sample_of_both_sides() {
    // The first day's values are all below the second's: a fair sample keeps their proportions.
    let low: Vec<Option<f64>> = (0..MAX_DISTINCT as u32 * 3)
        .map(|i| Some(f64::from(i)))
        .collect();
    let high: Vec<Option<f64>> = (0..MAX_DISTINCT as u32)
        .map(|i| Some(1e9 + f64::from(i)))
        .collect();
    let levels = |n: usize| vec![Some("a"); n];
    let merged = profiled(&low, &levels(low.len()), 2)
        .merge(profiled(&high, &levels(high.len()), 3), 4)
        .expect("merges");
    let values = numeric(&merged);
    assert!(!values.exact);
    assert_eq!(values.count, (low.len() + high.len()) as u64);
    assert_eq!(values.values.total(), MAX_DISTINCT as u64);
    assert_eq!(
        values.values.below(1e9),
        (MAX_DISTINCT as u64) * 3 / 4,
        "three quarters of the sample from the day with three quarters of the rows"
    );
    assert_eq!((values.min, values.max), (Some(0.0), Some(1e9 + 19_999.0)));
}

#[test]
fn levels_past_the_limit_keep_the_most_frequent_and_count_the_rest_together() {
    let names: Vec<String> = (0..MAX_LEVELS).map(|i| format!("l{i}")).collect();
    let first: Vec<Option<&str>> = names.iter().map(|n| Some(n.as_str())).collect();
    let mut second = vec![Some("new"); 5];
    second.push(Some("l0"));
    let x = |n: usize| vec![Some(1.0); n];
    let merged = profiled(&x(first.len()), &first, 1)
        .merge(profiled(&x(second.len()), &second, 1), 1)
        .expect("merges");
    let FeatureProfile::Categorical(levels) = &merged.features[1] else {
        panic!("categorical")
    };
    assert_eq!(levels.levels.len(), MAX_LEVELS + 1);
    assert_eq!(levels.levels.get("new"), Some(&5));
    assert_eq!(levels.levels.get("l0"), Some(&2));
    assert_eq!(
        levels.levels.get(OTHER_LEVELS),
        Some(&1),
        "the last of the least frequent"
    );
    assert_eq!(levels.count, (first.len() + second.len()) as u64);
}

#[test]
fn profiles_of_other_features_are_not_merged() {
    let a = profiled(&[Some(1.0)], &[Some("a")], 1);
    let mut b = a.clone();
    b.features.swap(0, 1);
    assert!(matches!(a.merge(b, 1), Err(MergeError(_))));
}

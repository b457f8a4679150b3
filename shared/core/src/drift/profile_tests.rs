use super::*;
use crate::features::{CategorySource, NumericEncoder};

/// A pipeline reading one numeric column `x` and one text column `c`.
pub(crate) fn pipeline() -> Pipeline {
    Pipeline {
        numeric: vec![NumericEncoder {
            column: "x".into(),
            median: 0.0,
            center: 0.0,
            scale: 1.0,
            min: 0.0,
            max: 1.0,
        }],
        categorical: vec![CategoricalEncoder::new(
            "c",
            CategorySource::Text,
            vec!["a".into()],
        )],
        text: vec![],
    }
}

pub(crate) fn frame(x: Vec<Option<f64>>, c: Vec<Option<&str>>) -> RawFrame {
    let mut frame = RawFrame::new(x.len());
    frame.insert("x", RawColumn::Numeric(x)).expect("x");
    frame
        .insert("c", RawColumn::Text(c.into_iter().collect()))
        .expect("c");
    frame
}

/// A profile of the given values of `x` (and `c` all "a").
pub(crate) fn profile_of(x: Vec<Option<f64>>, seed: u64) -> Profile {
    let c = vec![Some("a"); x.len()];
    let mut builder = ProfileBuilder::new(&pipeline(), seed);
    builder.add(&frame(x, c)).expect("add");
    builder.finish()
}

fn numeric(profile: &Profile) -> &NumericProfile {
    match profile.feature("x") {
        Some(FeatureProfile::Numeric(p)) => p,
        other => panic!("{other:?}"),
    }
}

#[test]
fn numeric_profile_counts_every_value_and_treats_nan_as_missing() {
    let profile = profile_of(
        vec![
            Some(2.0),
            None,
            Some(1.0),
            Some(f64::NAN),
            Some(2.0),
            Some(-0.0),
            Some(0.0),
        ],
        1,
    );
    let x = numeric(&profile);
    assert_eq!((x.count, x.nulls, x.exact), (5, 2, true));
    assert_eq!(x.values.values, [0.0, 1.0, 2.0]);
    assert_eq!(x.values.counts, [2, 1, 2]);
    assert_eq!((x.min, x.max), (Some(0.0), Some(2.0)));
    assert!((x.mean.expect("mean") - 1.0).abs() < 1e-12);
    assert!(
        (x.std.expect("std") - 0.8f64.sqrt()).abs() < 1e-12,
        "{:?}",
        x.std
    );
    assert_eq!(profile.rows, 7);
}

#[test]
fn batches_give_the_same_profile_as_one_frame() {
    let values: Vec<Option<f64>> = (0..1000).map(|i| Some((i % 37) as f64 * 0.5)).collect();
    let levels: Vec<Option<&str>> = (0..1000)
        .map(|i| [Some("a"), Some("b"), None][i % 3])
        .collect();
    let mut whole = ProfileBuilder::new(&pipeline(), 3);
    whole
        .add(&frame(values.clone(), levels.clone()))
        .expect("add");
    let mut parts = ProfileBuilder::new(&pipeline(), 3);
    parts
        .add(&frame(values[..400].to_vec(), levels[..400].to_vec()))
        .expect("add");
    parts
        .add(&frame(values[400..].to_vec(), levels[400..].to_vec()))
        .expect("add");
    let (whole, parts) = (whole.finish(), parts.finish());
    assert_eq!(whole.features[1], parts.features[1]);
    let (w, p) = (numeric(&whole), numeric(&parts));
    assert_eq!(
        (&w.values, w.count, w.min, w.max),
        (&p.values, p.count, p.min, p.max)
    );
    let close = |a: Option<f64>, b: Option<f64>| (a.expect("a") - b.expect("b")).abs() < 1e-12;
    assert!(close(w.mean, p.mean) && close(w.std, p.std));
    let Some(FeatureProfile::Categorical(c)) = whole.feature("c") else {
        panic!("categorical")
    };
    assert_eq!((c.count, c.nulls), (667, 333));
    assert_eq!(c.levels.get("b"), Some(&333));
}

#[test]
fn columns_added_one_at_a_time_give_the_profile_of_the_frame() {
    let values: Vec<Option<f64>> = (0..3000)
        .map(|i| (i % 11 != 0).then_some(i as f64 * 0.25))
        .collect();
    let levels: Vec<Option<&str>> = (0..3000)
        .map(|i| [Some("a"), Some("b"), None][i % 3])
        .collect();
    let train = frame(values, levels);
    let mut whole = ProfileBuilder::new(&pipeline(), 5);
    whole.add(&train).expect("add");
    let mut by_column = ProfileBuilder::new(&pipeline(), 5);
    by_column.count_rows(train.rows());
    for name in ["c", "x"] {
        by_column
            .add_column(name, train.column(name).expect("column"))
            .expect("add");
    }
    assert_eq!(by_column.finish(), whole.finish());

    let mut wrong = ProfileBuilder::new(&pipeline(), 5);
    assert!(matches!(
        wrong.add_column("x", train.column("c").expect("column")),
        Err(FeatureError::WrongType { .. })
    ));
}

#[test]
fn too_many_distinct_values_keep_a_uniform_reproducible_sample() {
    let n = MAX_DISTINCT * 5;
    let values: Vec<Option<f64>> = (0..n).map(|i| Some(i as f64)).collect();
    let first = profile_of(values.clone(), 9);
    let x = numeric(&first);
    assert!(!x.exact);
    assert_eq!(x.count, n as u64);
    assert_eq!(x.values.total(), MAX_DISTINCT as u64);
    assert_eq!((x.min, x.max), (Some(0.0), Some((n - 1) as f64)));
    // Uniform: the sample's mean is close to the data's (its standard error is about 0.2% of n).
    let sample_mean: f64 = x.values.values.iter().sum::<f64>() / MAX_DISTINCT as f64;
    assert!((sample_mean / n as f64 - 0.5).abs() < 0.01, "{sample_mean}");
    assert_eq!(profile_of(values, 9), first);
}

#[test]
fn levels_past_the_limit_are_counted_together() {
    let names: Vec<String> = (0..MAX_LEVELS + 3).map(|i| format!("l{i}")).collect();
    let mut builder = ProfileBuilder::new(&pipeline(), 1);
    let x = vec![Some(1.0); names.len()];
    builder
        .add(&frame(x, names.iter().map(|s| Some(s.as_str())).collect()))
        .expect("add");
    let profile = builder.finish();
    let Some(FeatureProfile::Categorical(c)) = profile.feature("c") else {
        panic!("categorical")
    };
    assert_eq!(c.levels.len(), MAX_LEVELS + 1);
    assert_eq!(c.levels.get(OTHER_LEVELS), Some(&3));
    assert_eq!(c.count, names.len() as u64);
}

#[test]
fn predictions_are_profiled_as_labels_and_scores() {
    let mut builder = ProfileBuilder::new(&pipeline(), 1);
    builder.add_predictions(["1", "0", "1"], Some(&[0.9, 0.2, 0.7]));
    let predictions = builder.finish().predictions.expect("predictions");
    assert_eq!(predictions.labels.levels.get("1"), Some(&2));
    let score = predictions.score.expect("score");
    assert_eq!(
        (score.count, score.min, score.max),
        (3, Some(0.2), Some(0.9))
    );
}

#[test]
fn a_profile_round_trips_through_json() {
    let profile = profile_of(vec![Some(1.5), None, Some(-3.0)], 2);
    let json = serde_json::to_string(&profile).expect("json");
    assert_eq!(
        serde_json::from_str::<Profile>(&json).expect("parse"),
        profile
    );
}

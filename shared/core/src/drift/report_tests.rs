use std::collections::BTreeMap;

use super::*;
use crate::drift::compare::compare;
use crate::drift::profile::{CategoricalProfile, FeatureProfile, NumericProfile, Profile};
use crate::drift::stats::Counts;

/// A profile of 25 numeric features with 5,000 distinct values and 25 categorical ones with 300
/// levels: 50 features, the report's size goal.
fn wide_profile(shift: f64) -> Profile {
    let mut features = Vec::new();
    for i in 0..25 {
        let values: Vec<f64> = (0..5_000).map(|v| v as f64 * 0.01 + shift).collect();
        features.push(FeatureProfile::Numeric(NumericProfile {
            name: format!("numeric_{i}"),
            count: 5_000,
            nulls: 7,
            min: Some(shift),
            max: Some(49.99 + shift),
            mean: Some(25.0 + shift),
            std: Some(14.4),
            exact: true,
            values: Counts::from_values(values),
        }));
    }
    for i in 0..25 {
        let levels: BTreeMap<String, u64> = (0..300)
            .map(|l| (format!("level-{l}"), 1 + (l as u64 * 7 + shift as u64) % 50))
            .collect();
        features.push(FeatureProfile::Categorical(CategoricalProfile {
            name: format!("categorical_{i}"),
            count: levels.values().sum(),
            nulls: 0,
            levels,
        }));
    }
    Profile {
        rows: 5_007,
        features,
        predictions: None,
    }
}

fn report(shift: f64) -> DriftReport {
    let thresholds = Thresholds {
        drift_share: 0.5,
        min_rows: 200,
        psi: 0.2,
    };
    let comparison = compare(&wide_profile(0.0), &wide_profile(shift), &thresholds);
    DriftReport {
        model: ModelName::parse("wide").unwrap(),
        dataset: DatasetName::parse("wide").unwrap(),
        generated_at: "2026-11-25T06:00:00Z".parse().unwrap(),
        trigger: "test".into(),
        verdict: verdict(comparison.dataset_drift).into(),
        reference: ReferenceInfo {
            version: 1,
            description: "the training data of version 1".into(),
            rows: 5_007,
            trained_at: "2026-11-24T03:00:00Z".parse().unwrap(),
        },
        current: CurrentInfo {
            source: "file".into(),
            description: "file <wide> & \"quoted\".csv".into(),
            rows: 5_007,
            unreadable_records: 0,
        },
        thresholds,
        comparison,
    }
}

#[test]
fn the_page_for_fifty_features_stays_small_and_self_contained() {
    let html = render_html(&report(5.0)).expect("renders");
    assert!(html.len() < 1_000_000, "{} bytes", html.len());
    assert_eq!(html.matches("<svg").count(), 50);
    assert!(!html.contains("src=\"http") && !html.contains("<link"));
    // Names from the data are escaped, not markup.
    assert!(
        html.contains("file &lt;wide&gt; &amp; &quot;quoted&quot;.csv"),
        "escaped"
    );
}

#[test]
fn the_verdict_reads_as_the_data_set_decision() {
    assert_eq!(verdict(Some(true)), "drift");
    assert_eq!(verdict(Some(false)), "no drift");
    assert_eq!(verdict(None), "insufficient data");
    let drifted = render_html(&report(5.0)).expect("renders");
    assert!(drifted.contains(">drift</span>"));
    let same = render_html(&report(0.0)).expect("renders");
    assert!(same.contains(">no drift</span>"));
}

#[test]
fn current_values_beyond_the_reference_stand_in_bars_of_their_own() {
    // Shifted by 5: the current values above 49.99 (a tenth of them) lie outside the reference.
    let html = render_html(&report(5.0)).expect("renders");
    assert_eq!(
        html.matches("current above 49.99, outside the reference: 10.00%")
            .count(),
        25,
        "one bar per numeric feature"
    );
    assert!(!html.contains("current below"), "nothing lies below");
    let same = render_html(&report(0.0)).expect("renders");
    assert!(!same.contains("outside the reference:"));
}

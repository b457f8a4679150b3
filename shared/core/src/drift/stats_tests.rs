use serde_json::Value;

use super::*;

/// Values computed by scipy (see the script beside the file).
fn fixtures() -> Value {
    serde_json::from_str(include_str!("../../tests/fixtures/drift_stats.json")).expect("fixture")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn agree(what: &str, ours: f64, scipy: &Value) {
    let scipy = scipy.as_f64().expect("number");
    assert!(
        (ours - scipy).abs() <= 1e-9 * scipy.abs().max(1.0),
        "{what}: ours {ours}, scipy {scipy}"
    );
}

#[test]
fn kolmogorov_smirnov_agrees_with_scipy() {
    let fixtures = fixtures();
    for (i, case) in fixtures["ks_2samp"]
        .as_array()
        .expect("cases")
        .iter()
        .enumerate()
    {
        let a = Counts::from_values(floats(&case["a"]));
        let b = Counts::from_values(floats(&case["b"]));
        let tested = ks_2samp(&a, &b);
        agree(
            &format!("case {i} statistic"),
            tested.statistic,
            &case["statistic"],
        );
        agree(
            &format!("case {i} p-value"),
            tested.p_value,
            &case["p_value"],
        );
        // The test is symmetric.
        assert_eq!(ks_2samp(&b, &a), tested, "case {i}");
    }
}

#[test]
fn wasserstein_agrees_with_scipy() {
    for case in fixtures()["wasserstein"].as_array().expect("cases") {
        let a = Counts::from_values(floats(&case["a"]));
        let b = Counts::from_values(floats(&case["b"]));
        agree("distance", wasserstein(&a, &b), &case["distance"]);
    }
}

#[test]
fn chi_square_agrees_with_scipy() {
    for case in fixtures()["chi_square"].as_array().expect("cases") {
        let tested = chi_square(&floats(&case["observed"]), &floats(&case["expected"]));
        agree("statistic", tested.statistic, &case["statistic"]);
        agree("p-value", tested.p_value, &case["p_value"]);
    }
}

#[test]
fn z_test_agrees_with_scipy() {
    for case in fixtures()["z_test"].as_array().expect("cases") {
        let count = |k: &str| case[k].as_u64().expect("count");
        let tested = z_test(
            count("successes_a"),
            count("n_a"),
            count("successes_b"),
            count("n_b"),
        );
        agree("statistic", tested.statistic, &case["statistic"]);
        agree("p-value", tested.p_value, &case["p_value"]);
    }
}

#[test]
fn jensen_shannon_and_kl_agree_with_scipy() {
    for case in fixtures()["histograms"].as_array().expect("cases") {
        let (p, q) = (floats(&case["p"]), floats(&case["q"]));
        agree(
            "jensen-shannon",
            jensen_shannon(&p, &q),
            &case["jensen_shannon"],
        );
        if let Some(kl) = case.get("kl") {
            agree("kl", kl_divergence(&p, &q), kl);
        }
    }
}

#[test]
fn z_test_of_one_shared_value_is_no_evidence() {
    assert_eq!(z_test(10, 10, 30, 30).p_value, 1.0);
}

#[test]
fn psi_is_zero_for_equal_shares_and_grows_with_the_shift() {
    let reference = [0.25, 0.25, 0.25, 0.25];
    assert_eq!(psi(&reference, &reference), 0.0);
    let small = psi(&reference, &[0.3, 0.2, 0.25, 0.25]);
    let large = psi(&reference, &[0.7, 0.1, 0.1, 0.1]);
    assert!(0.0 < small && small < large, "{small} {large}");
}

#[test]
fn empty_bins_get_a_floor_below_every_observed_share() {
    let mut shares = [0.5, 0.0, 0.5];
    floor_empty(&mut shares);
    assert_eq!(shares, [0.5, 1e-4, 0.5]);
    let mut tiny = [0.99995, 0.00005, 0.0];
    floor_empty(&mut tiny);
    assert_eq!(tiny[2], 0.00005 / 1e6);
}

#[test]
fn counts_merge_equal_values() {
    let counts = Counts::from_values(vec![2.0, 1.0, 2.0, 3.0, 2.0]);
    assert_eq!(counts.values, [1.0, 2.0, 3.0]);
    assert_eq!(counts.counts, [1, 3, 1]);
    assert_eq!(counts.at_most(2.0), 4);
    assert_eq!(
        Counts::from_pairs(vec![(3.0, 1), (1.0, 1), (3.0, 2)]),
        Counts {
            values: vec![1.0, 3.0],
            counts: vec![1, 3]
        }
    );
}

#[test]
fn stored_counts_are_read_only_when_the_statistics_can_index_them() {
    let good: Counts =
        serde_json::from_str(r#"{"values": [1.0, 2.5], "counts": [3, 1]}"#).expect("valid");
    assert_eq!(good, Counts::from_values(vec![2.5, 1.0, 1.0, 1.0]));
    for (bad, problem) in [
        (
            r#"{"values": [1.0, 2.0], "counts": [3]}"#,
            "2 values but 1 counts",
        ),
        (
            r#"{"values": [2.0, 1.0], "counts": [1, 1]}"#,
            "strictly ascending",
        ),
        (
            r#"{"values": [1.0, 1.0], "counts": [1, 1]}"#,
            "strictly ascending",
        ),
        (
            r#"{"values": [1.0, 2.0], "counts": [18446744073709551615, 1]}"#,
            "past 2^64",
        ),
    ] {
        let error = serde_json::from_str::<Counts>(bad)
            .expect_err(bad)
            .to_string();
        assert!(error.contains(problem), "{bad}: {error}");
    }
}

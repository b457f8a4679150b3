use super::*;

fn rules() -> Rules {
    Rules {
        metric: Metric::RocAuc,
        min_primary: Some(0.6),
        max_live_regression: 0.05,
        min_labelled_rows: 100,
    }
}

/// `n` binary rows whose positive score separates the classes with the given strength (0: none).
fn rows(n: usize, strength: f64) -> (Vec<f64>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (mut p, mut y) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let class = u32::from(rng.random_bool(0.5));
        let noise: f64 = rng.random_range(0.0..1.0);
        let score = (1.0 - strength) * noise + strength * f64::from(class) * 0.9 + 0.05 * strength;
        let score = score.clamp(0.001, 0.999);
        p.extend([1.0 - score, score]);
        y.push(class);
    }
    (p, y)
}

fn judged(n: usize, strength: f64, test: f64) -> Judgement {
    judged_by(&rules(), n, strength, test)
}

fn judged_by(rules: &Rules, n: usize, strength: f64, test: f64) -> Judgement {
    let (p, y) = rows(n, strength);
    let classes = ["0".to_owned(), "1".to_owned()];
    let labelled = Labelled {
        probabilities: &p,
        y: &y,
        classes: &classes,
        threshold: Some(0.5),
    };
    judge(
        rules,
        Some(test),
        live_metric(rules.metric, &labelled),
        &labelled,
        1,
    )
}

#[test]
fn a_model_as_good_as_its_test_part_is_ok() {
    let good = judged(2000, 0.5, 0.0);
    let live = good.live.expect("defined");
    let same = judged(2000, 0.5, live);
    assert_eq!(same.verdict, Verdict::Ok, "{same:?}");
    let (low, high) = same.interval.expect("an interval");
    assert!(low < live && live < high, "{same:?}");
}

#[test]
fn a_model_that_lost_its_skill_is_degraded_with_the_reasons() {
    let lost = judged(2000, 0.0, 0.8);
    assert_eq!(lost.verdict, Verdict::Degraded, "{lost:?}");
    assert_eq!(
        lost.reasons.len(),
        2,
        "below the floor and the test value: {lost:?}"
    );
}

#[test]
fn a_shortfall_the_interval_does_not_confirm_is_not_a_verdict() {
    // 150 rows: the interval is wide. A test value beyond the allowed regression but inside it.
    let strict = Rules {
        max_live_regression: 0.01,
        ..rules()
    };
    let noisy = judged_by(&strict, 150, 0.3, 0.0);
    let (live, (_, high)) = (
        noisy.live.expect("defined"),
        noisy.interval.expect("interval"),
    );
    let test = live + 0.02;
    assert!(test < high, "the setting holds: {noisy:?}");
    let judged = judged_by(&strict, 150, 0.3, test);
    assert_eq!(judged.verdict, Verdict::Ok, "{judged:?}");
    assert!(
        judged
            .reasons
            .iter()
            .any(|r| r.starts_with("not confirmed")),
        "{judged:?}"
    );
}

#[test]
fn too_few_labelled_rows_give_no_verdict() {
    let few = judged(99, 0.5, 0.9);
    assert_eq!(few.verdict, Verdict::InsufficientData);
    assert_eq!(few.live, None);
}

#[test]
fn the_ranked_bootstrap_of_roc_auc_is_the_general_one() {
    // Scores rounded to two decimals, so many rows tie.
    let (p, y) = rows(3_000, 0.4);
    let p: Vec<f64> = p.iter().map(|x| (x * 100.0).round() / 100.0).collect();
    let classes = ["0".to_owned(), "1".to_owned()];
    let labelled = Labelled {
        probabilities: &p,
        y: &y,
        classes: &classes,
        threshold: Some(0.5),
    };
    let fast = ranked_auc_resamples(&labelled, 1_000, &mut ChaCha8Rng::seed_from_u64(3));
    // The same draws, each resample scored by the general definition.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let general: Vec<f64> = (0..RESAMPLES)
        .filter_map(|_| {
            let drawn: Vec<usize> = (0..1_000).map(|_| rng.random_range(0..y.len())).collect();
            let truth: Vec<bool> = drawn.iter().map(|&i| y[i] == 1).collect();
            let scores: Vec<f64> = drawn.iter().map(|&i| p[2 * i + 1]).collect();
            roc_auc(&truth, &scores)
        })
        .collect();
    assert_eq!(fast.len(), general.len());
    for (a, b) in fast.iter().zip(&general) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

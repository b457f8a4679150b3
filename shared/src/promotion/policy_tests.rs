use super::*;
use crate::evaluate::{by_slice, evaluate};

fn classes() -> Vec<String> {
    vec!["0".into(), "1".into()]
}

/// Scores of `rows` rows: the positive class when `i % 2 == 1`; a model of `skill` in [0, 1]
/// ranks that many of the pairs right. Slice `region` is "big" for the first `big` rows, then
/// "small".
fn scored(rows: usize, skill: f64, big: usize, big_skill: f64) -> Scored {
    let y: Vec<u32> = (0..rows).map(|i| (i % 2) as u32).collect();
    let mut probabilities = Vec::new();
    for (i, &label) in y.iter().enumerate() {
        let s = if i < big { big_skill } else { skill };
        // A share `s` of the rows (spread evenly) leans toward its class, the rest away from it.
        let right = (((i / 2) * 37) % 100) as f64 / 100.0 < s;
        let toward = if (label == 1) == right { 0.9 } else { 0.1 };
        let p = toward - 0.0001 * (i % 7) as f64;
        probabilities.extend([1.0 - p, p]);
    }
    let values: Vec<String> = (0..rows)
        .map(|i| if i < big { "big" } else { "small" }.to_owned())
        .collect();
    Scored {
        overall: evaluate(&probabilities, &y, &classes(), Some(0.5)),
        slices: BTreeMap::from([(
            "region".to_owned(),
            by_slice(&probabilities, &y, &classes(), Some(0.5), &values),
        )]),
    }
}

fn policy() -> Policy {
    Policy {
        primary: Metric::RocAuc,
        min_primary: Some(0.6),
        min_improvement: 0.01,
        slices: vec!["region".into()],
        max_slice_regression: 0.02,
        require_approval: false,
        require_live_evidence: None,
    }
}

fn decide_with(
    policy: &Policy,
    candidate: Scored,
    champion: Option<Result<Scored, String>>,
    approval: Approval,
) -> Decision {
    let comparison = Comparison {
        rows: candidate.overall.rows,
        candidate,
        champion: champion.clone(),
    };
    decide(
        policy,
        Evidence {
            candidate: 2,
            champion: champion.map(|_| 1),
            comparison: &comparison,
            data_validation: Ok(3),
            approval,
            live: None,
            decided_at: "2026-11-25T10:00:00.000Z".parse().unwrap(),
        },
    )
}

fn gate<'a>(decision: &'a Decision, name: &str) -> &'a Gate {
    decision
        .gates
        .iter()
        .find(|g| g.name == name)
        .unwrap_or_else(|| panic!("no gate {name} in {:?}", decision.gates))
}

#[test]
fn a_first_model_meets_only_the_absolute_gates() {
    let good = decide_with(&policy(), scored(400, 0.9, 0, 0.9), None, Approval::Pending);
    assert!(good.passed);
    let names: Vec<&str> = good.gates.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["primary_metric", "data_validation"]);
    let weak = decide_with(&policy(), scored(400, 0.5, 0, 0.5), None, Approval::Pending);
    assert!(!weak.passed);
    let primary = gate(&weak, "primary_metric");
    assert!(
        !primary.passed && primary.threshold == Some(0.6),
        "{primary:?}"
    );
}

#[test]
fn the_candidate_must_beat_the_champion_by_the_margin() {
    let better = decide_with(
        &policy(),
        scored(400, 0.9, 0, 0.9),
        Some(Ok(scored(400, 0.7, 0, 0.7))),
        Approval::Pending,
    );
    let improvement = gate(&better, "improvement");
    assert!(improvement.passed, "{improvement:?}");
    assert!(better.champion_score < better.candidate_score);
    let same = decide_with(
        &policy(),
        scored(400, 0.8, 0, 0.8),
        Some(Ok(scored(400, 0.8, 0, 0.8))),
        Approval::Pending,
    );
    let improvement = gate(&same, "improvement");
    assert!(
        !improvement.passed && improvement.value == Some(0.0),
        "{improvement:?}"
    );
    assert!(!same.passed && !same.awaits_approval());
}

#[test]
fn log_loss_counts_lower_as_better() {
    let policy = Policy {
        primary: Metric::LogLoss,
        min_primary: Some(1.0),
        slices: Vec::new(),
        ..policy()
    };
    let decision = decide_with(
        &policy,
        scored(400, 0.9, 0, 0.9),
        Some(Ok(scored(400, 0.7, 0, 0.7))),
        Approval::Pending,
    );
    assert!(decision.candidate_score < decision.champion_score);
    assert!(gate(&decision, "improvement").passed);
    assert!(gate(&decision, "primary_metric").passed, "at most 1.0");
}

#[test]
fn a_regressing_slice_fails_but_a_tiny_one_is_skipped() {
    // Better overall, but the first 200 rows ("big") are much worse than the champion's.
    let regressing = decide_with(
        &policy(),
        scored(400, 1.0, 200, 0.6),
        Some(Ok(scored(400, 0.8, 200, 0.8))),
        Approval::Pending,
    );
    let slice = gate(&regressing, "slice:region");
    assert!(!slice.passed, "{slice:?}");
    assert!(slice.detail.contains("region=big"), "{}", slice.detail);
    // The same regression on 20 rows is noise: skipped, and said so.
    let tiny = decide_with(
        &policy(),
        scored(400, 1.0, 20, 0.6),
        Some(Ok(scored(400, 0.8, 20, 0.8))),
        Approval::Pending,
    );
    let slice = gate(&tiny, "slice:region");
    assert!(slice.passed, "{slice:?}");
    assert!(slice.detail.contains("1 skipped"), "{}", slice.detail);
}

#[test]
fn a_champion_that_cannot_be_scored_fails_the_comparison_with_the_reason() {
    let decision = decide_with(
        &policy(),
        scored(400, 0.9, 0, 0.9),
        Some(Err("it reads columns the test data lacks: dewp".into())),
        Approval::Pending,
    );
    let improvement = gate(&decision, "improvement");
    assert!(!improvement.passed);
    assert!(
        improvement.detail.contains("dewp"),
        "{}",
        improvement.detail
    );
}

#[test]
fn required_approval_holds_an_otherwise_passing_candidate() {
    let policy = Policy {
        require_approval: true,
        ..policy()
    };
    let pending = decide_with(&policy, scored(400, 0.9, 0, 0.9), None, Approval::Pending);
    assert!(!pending.passed && pending.awaits_approval());
    let given = decide_with(
        &policy,
        scored(400, 0.9, 0, 0.9),
        None,
        Approval::Given {
            by: "cli:alice".into(),
        },
    );
    assert!(given.passed);
    assert!(gate(&given, APPROVAL).detail.contains("cli:alice"));
    // A weak model awaiting approval is refused, not held: approval is not all it lacks.
    let weak = decide_with(&policy, scored(400, 0.5, 0, 0.5), None, Approval::Pending);
    assert!(!weak.awaits_approval());
}

#[test]
fn live_evidence_needs_enough_shadow_rows_and_no_worse_live_than_the_champion() {
    let evidence = |labelled, live, interval, champion_live| LiveEvidence {
        labelled,
        live: Some(live),
        interval: Some(interval),
        champion_live: Some(champion_live),
    };
    let too_few = live_evidence_gate(
        Metric::RocAuc,
        100,
        1,
        Some(&evidence(50, 0.7, (0.6, 0.8), 0.7)),
    );
    assert!(
        !too_few.passed && too_few.detail.contains("50 labelled predictions"),
        "{}",
        too_few.detail
    );
    assert!(!live_evidence_gate(Metric::RocAuc, 100, 1, None).passed);
    // The champion's 0.72 lies inside the candidate's interval: not worse.
    let close = live_evidence_gate(
        Metric::RocAuc,
        100,
        1,
        Some(&evidence(200, 0.70, (0.66, 0.74), 0.72)),
    );
    assert!(close.passed, "{}", close.detail);
    assert_eq!((close.value, close.threshold), (Some(0.70), Some(0.72)));
    let worse = live_evidence_gate(
        Metric::RocAuc,
        100,
        1,
        Some(&evidence(200, 0.70, (0.66, 0.74), 0.80)),
    );
    assert!(
        !worse.passed && worse.detail.contains("worse beyond the interval"),
        "{}",
        worse.detail
    );
    // Log loss: lower is better, so a champion below the interval is better.
    let loss = live_evidence_gate(
        Metric::LogLoss,
        100,
        1,
        Some(&evidence(200, 0.5, (0.45, 0.55), 0.40)),
    );
    assert!(!loss.passed, "{}", loss.detail);
    // A candidate lacking only live evidence waits as a candidate.
    let policy = Policy {
        require_live_evidence: Some(100),
        ..policy()
    };
    let waiting = decide_with(
        &policy,
        scored(400, 0.9, 0, 0.9),
        Some(Ok(scored(400, 0.7, 0, 0.7))),
        Approval::Pending,
    );
    assert!(!waiting.passed && waiting.awaits_approval(), "{waiting:?}");
    assert!(!gate(&waiting, LIVE_EVIDENCE).passed);
}

use super::*;

const HOUR: i64 = 3_600_000;

fn predicted(id: &str, version: u64, at: i64) -> Predicted<'_> {
    Predicted { id, version, at }
}

fn observed<'a>(id: &'a str, label: &'a str, observed_at: i64) -> Observed<'a> {
    Observed {
        id,
        label,
        observed_at,
    }
}

/// Binary classes "0" and "1" for every version.
fn binary(_version: u64, label: &str) -> Option<u32> {
    match label {
        "0" => Some(0),
        "1" => Some(1),
        _ => None,
    }
}

#[test]
fn each_prediction_gets_the_latest_outcome_of_its_id() {
    let predictions = [
        predicted("a", 1, 0),
        predicted("b", 1, 0),
        predicted("c", 1, 0),
    ];
    let outcomes = [
        observed("a", "1", HOUR),
        observed("b", "0", HOUR),
        observed("b", "0", 2 * HOUR),
        observed("c", "0", 3 * HOUR),
        observed("c", "1", 2 * HOUR),
    ];
    let (labelled, counts) = join(&predictions, &outcomes, binary);
    assert_eq!(
        labelled,
        [
            Labelled {
                prediction: 0,
                class: 1
            },
            Labelled {
                prediction: 1,
                class: 0
            },
            Labelled {
                prediction: 2,
                class: 0
            },
        ],
        "c was observed as 1, then corrected to 0 later"
    );
    assert_eq!(
        counts,
        JoinCounts {
            predictions: 3,
            outcomes: 5,
            repeated: 1,
            changed: 1,
            labelled: 3,
            ..JoinCounts::default()
        }
    );
}

#[test]
fn outcomes_that_cannot_count_are_counted_by_reason() {
    let predictions = [predicted("a", 1, 5 * HOUR), predicted("b", 1, 0)];
    let outcomes = [
        observed("a", "1", HOUR),
        observed("b", "maybe", HOUR),
        observed("nobody", "1", HOUR),
        observed("nobody", "1", 2 * HOUR),
        observed("nobody", "0", 3 * HOUR),
    ];
    let (labelled, counts) = join(&predictions, &outcomes, binary);
    assert!(labelled.is_empty());
    assert_eq!(
        (
            counts.before_prediction,
            counts.unknown_labels,
            counts.unknown_ids
        ),
        (1, 1, 1),
        "an id nobody predicted counts once, however often it is observed"
    );
    assert_eq!((counts.repeated, counts.changed), (1, 1));
}

#[test]
fn an_id_scored_by_two_versions_labels_both() {
    let predictions = [
        predicted("a", 3, 0),
        predicted("b", 3, 0),
        predicted("a", 4, 0),
    ];
    let (labelled, counts) = join(&predictions, &[observed("a", "1", HOUR)], binary);
    assert_eq!(
        labelled,
        [
            Labelled {
                prediction: 0,
                class: 1
            },
            Labelled {
                prediction: 2,
                class: 1
            },
        ]
    );
    assert_eq!(counts.labelled, 2);
}

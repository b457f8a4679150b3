use super::*;
use crate::learn::Model;
use crate::sample_artifacts::{artifact, logistic_artifact};

fn frame(distance: Vec<Option<f64>>, origin: Vec<Option<&str>>) -> RawFrame {
    let mut frame = RawFrame::new(distance.len());
    frame
        .insert("distance", RawColumn::Numeric(distance))
        .expect("same length");
    frame
        .insert("origin", RawColumn::Text(origin.into_iter().collect()))
        .expect("same length");
    frame
}

#[test]
fn binary_predictions_carry_the_label_at_the_threshold_and_the_score() {
    let model = artifact();
    let rows = frame(
        vec![Some(500.0), Some(500.0)],
        vec![Some("EWR"), Some("JFK")],
    );
    let predictions = predict(&model, &rows, "req").expect("predicts");
    let probabilities = model.predict(&rows).expect("predicts");
    for (prediction, p) in predictions.iter().zip(probabilities.chunks(2)) {
        assert_eq!(prediction.score, Some(p[1]));
        let expected = if p[1] >= 0.42 { "1" } else { "0" };
        assert_eq!(&*prediction.label, expected);
        assert!(prediction.probabilities.is_none() && prediction.warnings.is_empty());
    }
    assert_ne!(predictions[0].score, predictions[1].score, "origin matters");
}

#[test]
fn values_the_model_never_saw_are_scored_with_a_warning() {
    let rows = frame(vec![Some(6000.0), None], vec![Some("LGA"), None]);
    let predictions = predict(&artifact(), &rows, "req").expect("predicts");
    assert_eq!(
        predictions[0].warnings,
        [
            "distance: 6000 is outside the training range [17, 4983]",
            "origin: \"LGA\" was unseen or rare in training; scored as a rare category",
        ]
    );
    assert!(
        predictions[1].warnings.is_empty(),
        "nulls are imputed, not warned about"
    );
}

fn titles(titles: Vec<Option<&str>>) -> RawFrame {
    let mut frame = RawFrame::new(titles.len());
    frame
        .insert("price", RawColumn::Numeric(vec![Some(6.0); titles.len()]))
        .expect("same length");
    frame
        .insert("title", RawColumn::Text(titles.into_iter().collect()))
        .expect("same length");
    frame
}

#[test]
fn top_k_ranks_the_most_probable_classes_first() {
    let model = crate::sample_artifacts::text_artifact();
    let rows = titles(vec![Some("strong coffee"), Some("tea for the dog")]);
    let options = PredictOptions {
        top_k: Some(2),
        explain: false,
    };
    let predictions = predict_with(&model, &rows, "req", options).expect("predicts");
    let probabilities = model.predict(&rows).expect("predicts");
    for (prediction, p) in predictions.iter().zip(probabilities.chunks(3)) {
        let top = prediction.top_k.as_ref().expect("asked for");
        assert_eq!(top.len(), 2);
        assert!(top[0].probability >= top[1].probability);
        let best = (0..3)
            .max_by(|&a, &b| p[a].total_cmp(&p[b]))
            .expect("3 classes");
        assert_eq!(top[0].class, model.classes[best]);
        assert_eq!(&*prediction.label, top[0].class);
        assert_eq!(top[0].probability, p[best]);
        assert!(prediction.explanation.is_none());
    }
    assert_eq!(&*predictions[0].label, "coffee");
    let all = PredictOptions {
        top_k: Some(50),
        explain: false,
    };
    let ranked = predict_with(&model, &rows, "req", all).expect("predicts");
    assert_eq!(
        ranked[0].top_k.as_ref().map(Vec::len),
        Some(3),
        "at most every class"
    );
}

#[test]
fn an_explanation_lists_the_terms_that_pushed_the_decision_and_sums_to_its_margin() {
    let model = crate::sample_artifacts::text_artifact();
    let rows = titles(vec![Some("Green tea, tea, tea")]);
    let options = PredictOptions {
        top_k: None,
        explain: true,
    };
    let prediction = &predict_with(&model, &rows, "req", options).expect("predicts")[0];
    assert_eq!(&*prediction.label, "tea");
    let explanation = prediction.explanation.as_ref().expect("asked for");
    assert_eq!(explanation.class, "tea");
    let mut features: Vec<&str> = explanation
        .contributions
        .iter()
        .map(|c| c.feature.as_str())
        .collect();
    features.sort_unstable();
    assert_eq!(features, ["price", "title"], "every input");
    assert!(explanation
        .contributions
        .windows(2)
        .all(|w| w[0].contribution.abs() >= w[1].contribution.abs()));
    let find = |name: &str| {
        explanation
            .contributions
            .iter()
            .find(|c| c.feature == name)
            .expect("listed")
    };
    let title = find("title");
    assert_eq!(title.terms[0].term, "tea");
    assert!(title.terms[0].contribution > 0.0);
    assert!(title
        .terms
        .windows(2)
        .all(|w| w[0].contribution.abs() >= w[1].contribution.abs()));
    let terms: f64 = title.terms.iter().map(|t| t.contribution).sum();
    assert!(
        (terms - title.contribution).abs() < 1e-12,
        "a short title lists all its terms"
    );
    assert!(find("price").terms.is_empty());
    // With the intercept the contributions make the margin of the class decided on.
    let Model::LogisticRegression(linear) = &model.learner else {
        panic!("a linear model");
    };
    let encoded = model.pipeline.transform(&rows).expect("encodes");
    let margins = linear.margins(&encoded);
    let tea = model
        .classes
        .iter()
        .position(|c| c == "tea")
        .expect("a class");
    assert_eq!(
        explanation.base_value,
        linear.weights[tea * linear.layout.width]
    );
    let total: f64 = explanation
        .contributions
        .iter()
        .map(|c| c.contribution)
        .sum::<f64>()
        + explanation.base_value;
    assert!(
        (total - margins[tea]).abs() < 1e-12,
        "{total} vs {}",
        margins[tea]
    );
    assert!((explanation.raw_score - margins[tea]).abs() < 1e-12);
}

#[test]
fn a_tree_explanation_sums_to_the_positive_class_log_odds() {
    let model = artifact();
    let rows = frame(vec![Some(500.0), None], vec![Some("JFK"), Some("LGA")]);
    let options = PredictOptions {
        top_k: None,
        explain: true,
    };
    let predictions = predict_with(&model, &rows, "req", options).expect("predicts");
    let probabilities = model.predict(&rows).expect("predicts");
    for (prediction, p) in predictions.iter().zip(probabilities.chunks(2)) {
        let explanation = prediction.explanation.as_ref().expect("asked for");
        assert_eq!(
            explanation.class, "1",
            "a binary model explains its positive class"
        );
        // The one tree splits on origin: 600 of its 1,000 rows went left (0.25), 400 right.
        assert!((explanation.base_value - (-0.5 + 0.6 * 0.25 - 0.4 * 0.125)).abs() < 1e-12);
        let log_odds = (p[1] / p[0]).ln();
        assert!((explanation.raw_score - log_odds).abs() < 1e-12);
        let features: Vec<(&str, f64)> = explanation
            .contributions
            .iter()
            .map(|c| (c.feature.as_str(), c.contribution))
            .collect();
        assert_eq!(
            features[1],
            ("distance", 0.0),
            "the tree never splits on it"
        );
        assert_eq!(features[0].0, "origin");
    }
}

#[test]
fn a_text_with_no_known_word_is_scored_with_a_warning_and_options_a_model_cannot_answer_are_refused(
) {
    let model = crate::sample_artifacts::text_artifact();
    let rows = titles(vec![Some("<p>zebra</p>"), None, Some("tea")]);
    let predictions = predict(&model, &rows, "req").expect("predicts");
    assert_eq!(predictions[0].warnings.len(), 1);
    assert!(predictions[0].warnings[0].starts_with("title: no word the model learned"));
    assert!(
        predictions[1].warnings.is_empty(),
        "a missing text is imputed, not warned about"
    );
    assert!(predictions[2].warnings.is_empty());

    let explain = PredictOptions {
        top_k: None,
        explain: true,
    };
    assert!(explain.check(&model).is_ok());
    assert!(explain.check(&artifact()).is_ok());
    let mut before_explanations = artifact();
    if let Model::GradientBoosting(trees) = &mut before_explanations.learner {
        trees.trees[0].cover.clear();
    }
    let refused = explain
        .check(&before_explanations)
        .expect_err("trees without row counts cannot explain");
    assert!(refused.contains("trained before explanations"), "{refused}");
    for (k, allowed) in [
        (0, false),
        (1, true),
        (MAX_TOP_K, true),
        (MAX_TOP_K + 1, false),
    ] {
        let options = PredictOptions {
            top_k: Some(k),
            explain: false,
        };
        assert_eq!(options.check(&model).is_ok(), allowed, "top_k {k}");
    }
}

#[test]
fn the_most_informative_terms_of_each_class_lead_its_list() {
    let model = crate::sample_artifacts::text_artifact();
    let lists = crate::predict::explain::informative_terms(&model, 3);
    assert_eq!(lists.len(), 3, "one list per class of the one text feature");
    // Which of a class's own words leads depends on where L-BFGS stops on separable data (it
    // differs between machines), so the test asks for the class's word among its leaders and
    // nothing but that class's words in its list.
    let vocabularies = [
        "green tea leaves black bags herbal with mint earl grey",
        "dark roast coffee beans espresso pods ground medium decaf",
        "dry dog food with chicken puppy small bites treats beef grain free",
    ];
    for ((list, word), vocabulary) in lists.iter().zip(["tea", "coffee", "dog"]).zip(vocabularies) {
        assert_eq!(list.feature, "title");
        assert_eq!(list.terms.len(), 3);
        assert!(list.terms.iter().any(|(term, _)| term == word), "{list:?}");
        assert!(
            list.terms
                .iter()
                .all(|(term, weight)| *weight > 0.0 && vocabulary.split(' ').any(|w| w == term)),
            "{list:?}"
        );
        assert!(list.terms.windows(2).all(|w| w[0].1 >= w[1].1));
    }
    assert!(crate::predict::explain::informative_terms(&artifact(), 3).is_empty());
}

mod properties {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::*;
    use crate::predict::{parse, Limits};

    /// Any JSON a client could put in a feature: extremes of every number type, text, and the rest.
    fn feature_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (proptest::num::f64::NORMAL
                | proptest::num::f64::SUBNORMAL
                | proptest::num::f64::ZERO
                | proptest::num::f64::NEGATIVE
                | proptest::num::f64::POSITIVE)
                .prop_map(Value::from),
            Just(json!(f64::MAX)),
            Just(json!(f64::MIN)),
            ".{0,12}".prop_map(Value::from),
            Just(json!("EWR")),
            Just(json!([1, 2])),
            Just(json!({"a": 1})),
        ]
    }

    /// Records with any value in each field, and sometimes a field the model does not know.
    fn any_records() -> impl Strategy<Value = Vec<Value>> {
        let record = (
            proptest::collection::vec(feature_value(), 4),
            proptest::option::of("[a-z_]{1,8}"),
        )
            .prop_map(|(values, extra)| {
                let mut record = json!({
                    "distance": values[0], "origin": values[1],
                    "precip": values[2], "visib": values[3],
                });
                if let Some(name) = extra {
                    record[name] = json!(1);
                }
                record
            });
        proptest::collection::vec(record, 0..8)
    }

    /// Records every model accepts: any finite number (the extremes included) and any text.
    fn typed_records() -> impl Strategy<Value = Vec<Value>> {
        let number = || {
            prop_oneof![
                Just(Value::Null),
                any::<f64>()
                    .prop_filter("JSON numbers are finite", |x| x.is_finite())
                    .prop_map(Value::from),
                Just(json!(f64::MAX)),
                Just(json!(f64::MIN)),
                any::<i64>().prop_map(Value::from),
            ]
        };
        let origin = prop_oneof![Just(Value::Null), ".{0,6}".prop_map(Value::from)];
        let record = (number(), origin, number(), number()).prop_map(
            |(distance, origin, precip, visib)| {
                json!({"distance": distance, "origin": origin, "precip": precip, "visib": visib})
            },
        );
        proptest::collection::vec(record, 1..8)
    }

    /// One finite probability in [0, 1] and a known label per record.
    fn assert_scored(
        model: &ModelArtifact,
        frame: &RawFrame,
        records: usize,
    ) -> Result<(), TestCaseError> {
        let predictions = predict(model, frame, "req").expect("a parsed frame is scored");
        prop_assert_eq!(predictions.len(), records);
        for p in &predictions {
            let score = p.score.expect("binary scores");
            prop_assert!((0.0..=1.0).contains(&score), "score {}", score);
            prop_assert!(model.classes.iter().any(|c| **c == *p.label));
        }
        Ok(())
    }

    fn body(records: &[Value]) -> Vec<u8> {
        serde_json::to_vec(&json!({"records": records})).expect("serialises")
    }

    proptest! {
        /// Whatever the values, the parser answers (a frame or problems) and a frame is scored.
        #[test]
        fn any_feature_values_are_refused_or_scored(records in any_records()) {
            for model in [artifact(), logistic_artifact()] {
                if let Ok(frame) = parse(&body(&records), &model.inputs, &Limits::default()) {
                    assert_scored(&model, &frame, records.len())?;
                }
            }
        }

        /// Well-typed records are always accepted, and extremes never make a score leave [0, 1].
        #[test]
        fn well_typed_extremes_are_scored_within_bounds(records in typed_records()) {
            for model in [artifact(), logistic_artifact()] {
                let frame = parse(&body(&records), &model.inputs, &Limits::default());
                prop_assert!(frame.is_ok(), "{:?}", frame);
                if let Ok(frame) = frame {
                    assert_scored(&model, &frame, records.len())?;
                }
            }
        }
    }
}

mod prediction_ids {
    use super::*;
    use crate::artifact::InputField;
    use crate::predict::{parse, Limits, RequestError};
    use crate::spec::ColumnType;

    fn keyed(kind: ColumnType) -> ModelArtifact {
        let mut model = artifact();
        model.key = Some(InputField::new("flight_id", kind, false, None));
        model
    }

    fn ids(model: &ModelArtifact, body: &str) -> Result<Vec<String>, RequestError> {
        let frame = parse(body.as_bytes(), &model.request_fields(), &Limits::default())?;
        let predictions = predict(model, &frame, "req-7").expect("predicts");
        Ok(predictions.into_iter().map(|p| p.prediction_id).collect())
    }

    #[test]
    fn without_a_key_a_prediction_is_named_after_its_request_and_position() {
        let body = r#"{"records": [{"distance": 500}, {"distance": 900}]}"#;
        assert_eq!(
            ids(&artifact(), body).expect("valid"),
            ["req-7-0", "req-7-1"]
        );
    }

    #[test]
    fn with_a_key_each_record_names_its_own_prediction() {
        let text = keyed(ColumnType::String);
        let body = r#"{"records": [{"distance": 500, "flight_id": "UA-1545"},
                                   {"flight_id": "AA-33", "distance": 900}]}"#;
        assert_eq!(ids(&text, body).expect("valid"), ["UA-1545", "AA-33"]);
        let rows = r#"{"features": [[500, "EWR", "UA-1545"]]}"#;
        assert_eq!(
            ids(&text, rows).expect("valid"),
            ["UA-1545"],
            "in a row, the key is last"
        );

        let number = keyed(ColumnType::Integer);
        let body = r#"{"records": [{"distance": 500, "flight_id": 9007199254740991}]}"#;
        assert_eq!(ids(&number, body).expect("valid"), ["9007199254740991"]);
    }

    #[test]
    fn a_record_without_its_key_is_refused_naming_the_field() {
        let body = r#"{"records": [{"distance": 500, "flight_id": "UA-1545"}, {"distance": 900},
                                   {"distance": 1, "flight_id": null}]}"#;
        let Err(RequestError::Invalid { problems, .. }) = ids(&keyed(ColumnType::String), body)
        else {
            panic!("records without keys are refused");
        };
        let refused: Vec<_> = problems
            .iter()
            .map(|p| (p.record, p.field.as_deref()))
            .collect();
        assert_eq!(
            refused,
            [(Some(1), Some("flight_id")), (Some(2), Some("flight_id"))]
        );
    }
}

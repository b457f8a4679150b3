use super::*;
use crate::artifact::tests::artifact;

fn frame(distance: Vec<Option<f64>>, origin: Vec<Option<&str>>) -> RawFrame {
    let mut frame = RawFrame::new(distance.len());
    frame
        .insert("distance", RawColumn::Numeric(distance))
        .expect("same length");
    frame
        .insert(
            "origin",
            RawColumn::Text(origin.into_iter().map(|o| o.map(str::to_owned)).collect()),
        )
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
    let predictions = predict(&model, &rows).expect("predicts");
    let probabilities = model.predict(&rows).expect("predicts");
    for (prediction, p) in predictions.iter().zip(probabilities.chunks(2)) {
        assert_eq!(prediction.score, Some(p[1]));
        let expected = if p[1] >= 0.42 { "1" } else { "0" };
        assert_eq!(prediction.label, expected);
        assert!(prediction.probabilities.is_none() && prediction.warnings.is_empty());
    }
    assert_ne!(predictions[0].score, predictions[1].score, "origin matters");
}

#[test]
fn values_the_model_never_saw_are_scored_with_a_warning() {
    let rows = frame(vec![Some(6000.0), None], vec![Some("LGA"), None]);
    let predictions = predict(&artifact(), &rows).expect("predicts");
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

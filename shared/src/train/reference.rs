//! The reference profile stored with each model, for the drift job to compare live data against:
//! its training inputs, and what it predicted on the held-out test part.

use crate::drift::{Profile, ProfileBuilder};

/// The profile of the training inputs in `builder`, with the model's predictions on the test part.
pub fn profile(
    mut builder: ProfileBuilder,
    test_probabilities: &[f64],
    predicted: &[usize],
    classes: &[String],
) -> Profile {
    let scores: Option<Vec<f64>> =
        (classes.len() == 2).then(|| test_probabilities.chunks(2).map(|p| p[1]).collect());
    builder.add_predictions(
        predicted.iter().map(|&class| classes[class].as_str()),
        scores.as_deref(),
    );
    builder.finish()
}

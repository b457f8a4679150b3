//! The reference profile stored with each model, for the drift job to compare live data against:
//! its training inputs, and what it predicted on the held-out test part.

use crate::drift::{Profile, ProfileBuilder};
use crate::features::{FeatureError, Pipeline, RawFrame};

pub fn profile(
    pipeline: &Pipeline,
    train: &RawFrame,
    test_probabilities: &[f64],
    predicted: &[usize],
    classes: &[String],
    seed: u64,
) -> Result<Profile, FeatureError> {
    let mut builder = ProfileBuilder::new(pipeline, seed);
    builder.add(train)?;
    let scores: Option<Vec<f64>> =
        (classes.len() == 2).then(|| test_probabilities.chunks(2).map(|p| p[1]).collect());
    builder.add_predictions(
        predicted.iter().map(|&class| classes[class].as_str()),
        scores.as_deref(),
    );
    Ok(builder.finish())
}

//! The reference profile stored with each model: its training inputs and what it predicted on
//! them, for the drift job to compare live data against.

use crate::drift::{Profile, ProfileBuilder};
use crate::features::{FeatureError, Pipeline, RawFrame};

pub fn profile(
    pipeline: &Pipeline,
    train: &RawFrame,
    probabilities: &[f64],
    predicted: &[usize],
    classes: &[String],
    seed: u64,
) -> Result<Profile, FeatureError> {
    let mut builder = ProfileBuilder::new(pipeline, seed);
    builder.add(train)?;
    let scores: Option<Vec<f64>> =
        (classes.len() == 2).then(|| probabilities.chunks(2).map(|p| p[1]).collect());
    builder.add_predictions(
        predicted.iter().map(|&class| classes[class].as_str()),
        scores.as_deref(),
    );
    Ok(builder.finish())
}

//! Candidate and champion scored on the same rows: the candidate's own test part, rebuilt from
//! its lineage. Comparing each model's metrics from its own training would compare different
//! periods, not different models.

use std::collections::BTreeMap;

use crate::artifact::ModelArtifact;
use crate::evaluate::{self, Evaluation};
use crate::features::RawFrame;
use crate::ports::ObjectStore;
use crate::spec::DatasetSpec;
use crate::training_data::{self, DataError, Lineage};

/// A model's metrics on the test part, overall and per value of each slice column.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub overall: Evaluation,
    pub slices: BTreeMap<String, BTreeMap<String, Evaluation>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Rows of the candidate's test part.
    pub rows: usize,
    pub candidate: Scored,
    /// The champion's scores, why it could not be scored, or None without a champion.
    pub champion: Option<Result<Scored, String>>,
}

/// Scores `candidate` (trained as `lineage` says) and `champion` on the candidate's test part.
pub async fn compare(
    store: &dyn ObjectStore,
    spec: &DatasetSpec,
    lineage: &Lineage,
    candidate: &ModelArtifact,
    champion: Option<&ModelArtifact>,
    slices: &[String],
) -> Result<Comparison, DataError> {
    let mut columns: Vec<&str> = candidate.inputs.iter().map(|f| f.name.as_str()).collect();
    columns.extend(slices.iter().map(String::as_str));
    // The champion may read columns the candidate does not; if the spec or the data no longer
    // has them, the candidate is still scored and the champion reported as not comparable.
    let champion_only: Vec<&str> = champion
        .map(|c| {
            c.inputs
                .iter()
                .map(|f| f.name.as_str())
                .filter(|name| !columns.contains(name))
                .collect()
        })
        .unwrap_or_default();
    let mut all = columns.clone();
    all.extend(&champion_only);
    let (part, champion_problem) = match training_data::test_part(
        store,
        spec,
        lineage,
        &candidate.target,
        &candidate.classes,
        &all,
    )
    .await
    {
        Ok(part) => (part, None),
        Err(e @ (DataError::MissingColumn { .. } | DataError::Features(_)))
            if !champion_only.is_empty() =>
        {
            let part = training_data::test_part(
                store,
                spec,
                lineage,
                &candidate.target,
                &candidate.classes,
                &columns,
            )
            .await?;
            (
                part,
                Some(format!("it reads columns the test data lacks: {e}")),
            )
        }
        Err(e) => return Err(e),
    };
    let candidate_scores = score(candidate, &part.frame, &part.y, slices)?;
    let champion_scores = champion.map(|champion| match &champion_problem {
        Some(problem) => Err(problem.clone()),
        None if champion.classes != candidate.classes => Err(format!(
            "it predicts classes [{}], the candidate [{}]",
            champion.classes.join(", "),
            candidate.classes.join(", ")
        )),
        None => score(champion, &part.frame, &part.y, slices).map_err(|e| e.to_string()),
    });
    Ok(Comparison {
        rows: part.y.len(),
        candidate: candidate_scores,
        champion: champion_scores,
    })
}

fn score(
    model: &ModelArtifact,
    frame: &RawFrame,
    y: &[u32],
    slices: &[String],
) -> Result<Scored, DataError> {
    let probabilities = model.predict(frame)?;
    let overall = evaluate::evaluate(&probabilities, y, &model.classes, model.threshold);
    let mut by_slice = BTreeMap::new();
    for column in slices {
        let values = training_data::slice_values(frame.column(column)?);
        by_slice.insert(
            column.clone(),
            evaluate::by_slice(&probabilities, y, &model.classes, model.threshold, &values),
        );
    }
    Ok(Scored {
        overall,
        slices: by_slice,
    })
}

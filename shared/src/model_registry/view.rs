//! What people and clients read about models: one summary per model, and one model with its
//! aliases and versions. The command line prints these; the API returns them as JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{get_model, models, versions, ModelVersionRecord};
use crate::names::{Alias, DatasetName, ModelName};
use crate::ports::{RegistryError, RegistryStore};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    pub model: ModelName,
    pub latest_version: u64,
    pub aliases: BTreeMap<Alias, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelView {
    pub model: ModelName,
    pub dataset: DatasetName,
    pub aliases: BTreeMap<Alias, u64>,
    /// Every champion in the order it took over, the current one last.
    pub champions: Vec<u64>,
    pub revision: u64,
    /// Each version's status, metrics, decision and the keys of its artifact, metrics, lineage,
    /// drift reference and model card.
    pub versions: Vec<ModelVersionRecord>,
}

/// Every model, in name order.
pub async fn summaries(registry: &dyn RegistryStore) -> Result<Vec<ModelSummary>, RegistryError> {
    let mut out = Vec::new();
    for name in models(registry).await? {
        if let Some(state) = get_model(registry, &name).await? {
            out.push(ModelSummary {
                model: state.model,
                latest_version: state.latest_version,
                aliases: state.aliases,
            });
        }
    }
    Ok(out)
}

/// One model and its versions; None for a model never trained.
pub async fn view(
    registry: &dyn RegistryStore,
    model: &ModelName,
) -> Result<Option<ModelView>, RegistryError> {
    let Some(state) = get_model(registry, model).await? else {
        return Ok(None);
    };
    Ok(Some(ModelView {
        model: state.model,
        dataset: state.dataset,
        aliases: state.aliases,
        champions: state.champions,
        revision: state.revision,
        versions: versions(registry, model).await?,
    }))
}

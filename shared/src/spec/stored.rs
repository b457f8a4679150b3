//! Where specs live in the object store: `specs/<dataset>.toml` (or `.json`).

use super::{DatasetSpec, LoadedSpec, SpecError, SPEC_EXTENSIONS};
use crate::names::{DatasetName, ObjectKey};
use crate::ports::{ObjectStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StoredSpecError {
    #[error("no spec for dataset {dataset}: expected {expected}")]
    Missing {
        dataset: DatasetName,
        expected: String,
    },
    #[error("the spec at {key} is not valid UTF-8")]
    NotUtf8 { key: ObjectKey },
    #[error("the spec at {key} is invalid: {source}")]
    Invalid { key: ObjectKey, source: SpecError },
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn spec_key(dataset: &DatasetName, extension: &str) -> ObjectKey {
    // A dataset name and a fixed extension always form a valid key.
    ObjectKey::parse(&format!("specs/{dataset}.{extension}"))
        .unwrap_or_else(|_| unreachable!("valid by construction"))
}

/// Loads and checks the spec of `dataset`, trying each supported extension in turn.
pub async fn load(
    store: &dyn ObjectStore,
    dataset: &DatasetName,
) -> Result<(ObjectKey, LoadedSpec), StoredSpecError> {
    for extension in SPEC_EXTENSIONS {
        let key = spec_key(dataset, extension);
        let object = match store.get(&key).await {
            Ok(object) => object,
            Err(StoreError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        let text = String::from_utf8(object.bytes)
            .map_err(|_| StoredSpecError::NotUtf8 { key: key.clone() })?;
        return match DatasetSpec::parse(&text, extension) {
            Ok(loaded) if &loaded.spec.dataset.name == dataset => Ok((key, loaded)),
            Ok(loaded) => Err(StoredSpecError::Invalid {
                key,
                source: SpecError::Invalid(vec![super::SpecProblem {
                    path: "dataset.name".into(),
                    message: format!(
                        "names {} but is stored as the spec of {dataset}",
                        loaded.spec.dataset.name
                    ),
                }]),
            }),
            Err(source) => Err(StoredSpecError::Invalid { key, source }),
        };
    }
    let expected = SPEC_EXTENSIONS
        .iter()
        .map(|ext| spec_key(dataset, ext).to_string())
        .collect::<Vec<_>>()
        .join(" or ");
    Err(StoredSpecError::Missing {
        dataset: dataset.clone(),
        expected,
    })
}

/// Stores a spec that has been parsed from `text` under the name of the dataset it declares.
pub async fn put(
    store: &dyn ObjectStore,
    loaded: &LoadedSpec,
    text: &str,
    extension: &str,
) -> Result<ObjectKey, StoreError> {
    let extension = if extension == "json" { "json" } else { "toml" };
    let dataset = &loaded.spec.dataset.name;
    let key = spec_key(dataset, extension);
    // One spec per dataset: a stale file under the other extension would shadow or confuse.
    for other in SPEC_EXTENSIONS.iter().filter(|e| **e != extension) {
        store.delete(&spec_key(dataset, other)).await?;
    }
    store.put(&key, text.as_bytes().to_vec()).await?;
    Ok(key)
}

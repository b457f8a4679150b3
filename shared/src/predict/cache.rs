//! The models a warm serving process holds: loaded once (artifact read, SHA-256 checked, decoded),
//! and re-resolved through the registry after a time to live, so a promotion or rollback takes
//! effect without a redeploy and without a registry read per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::artifact::{InputField, ModelArtifact};
use crate::model_registry::{self, ModelVersionRecord};
use crate::names::{Alias, ModelName};
use crate::ports::{ObjectStore, RegistryError, RegistryStore};

/// Which version of a model to serve.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Selector {
    Alias(Alias),
    Version(u64),
}

impl Selector {
    pub fn champion() -> Selector {
        Selector::Alias(Alias::champion())
    }
}

fn how_to_set(alias: &Alias) -> &'static str {
    if *alias == Alias::champion() {
        "promote a version first"
    } else {
        "point the alias at a version first"
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// HTTP 404.
    #[error("model {0} is not in the registry")]
    UnknownModel(ModelName),
    /// HTTP 404.
    #[error("{model} has no {alias} ({})", how_to_set(alias))]
    NoAlias { model: ModelName, alias: Alias },
    /// HTTP 404.
    #[error("{model} has no version {version}")]
    UnknownVersion { model: ModelName, version: u64 },
    /// HTTP 503: the registry points at an artifact that cannot be used right now.
    #[error("the artifact of {model} version {version} is unavailable: {problem}")]
    Unavailable {
        model: ModelName,
        version: u64,
        problem: String,
    },
    /// HTTP 503.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// A loaded model, shared by every request that uses it.
#[derive(Debug)]
pub struct Loaded {
    pub version: u64,
    pub artifact: ModelArtifact,
    /// What a request record carries (see [`ModelArtifact::request_fields`]).
    pub fields: Vec<InputField>,
}

impl Loaded {
    pub fn new(version: u64, artifact: ModelArtifact) -> Self {
        Loaded {
            version,
            fields: artifact.request_fields(),
            artifact,
        }
    }
}

struct Entry {
    model: Arc<Loaded>,
    resolved_at: Instant,
}

/// A model as requests name it: its name and the alias or version asked for.
type CacheKey = (ModelName, Selector);

pub struct ModelCache {
    store: Arc<dyn ObjectStore>,
    registry: Arc<dyn RegistryStore>,
    ttl: Duration,
    entries: RwLock<HashMap<CacheKey, Entry>>,
    /// Models whose version could not be loaded at their last request: version, and since when.
    failed: RwLock<HashMap<CacheKey, (u64, chrono::DateTime<chrono::Utc>)>>,
    /// When a background resolution (see [`ModelCache::get_if_ready`]) last started, per model.
    refreshing: Mutex<HashMap<CacheKey, Instant>>,
}

/// What a health check says of one model a request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelHealth {
    pub model: ModelName,
    pub selector: Selector,
    pub version: u64,
    /// None while it serves; when it cannot be loaded, since when (requests get 503).
    pub unavailable_since: Option<chrono::DateTime<chrono::Utc>>,
}

impl ModelCache {
    pub fn new(
        store: Arc<dyn ObjectStore>,
        registry: Arc<dyn RegistryStore>,
        ttl: Duration,
    ) -> Self {
        Self {
            store,
            registry,
            ttl,
            entries: RwLock::new(HashMap::new()),
            failed: RwLock::new(HashMap::new()),
            refreshing: Mutex::new(HashMap::new()),
        }
    }

    /// The model held for `key`, and whether it is still fresh (resolved within the time to live).
    fn cached(&self, key: &CacheKey) -> (bool, Option<Arc<Loaded>>) {
        let entry = self
            .entries
            .read()
            .ok()
            .and_then(|entries| entries.get(key).map(|e| (e.model.clone(), e.resolved_at)));
        match entry {
            Some((loaded, at)) => (at.elapsed() < self.ttl, Some(loaded)),
            None => (false, None),
        }
    }

    /// The model `selector` names if it is in memory, never waiting: when it is missing or
    /// stale, a background task resolves it (at most once per time to live, so that an alias
    /// that is not set costs one registry read per time to live), and the next call finds it.
    /// For work off the response path, such as scoring a shadow. Must run inside a tokio runtime.
    pub fn get_if_ready(
        self: &Arc<Self>,
        model: &ModelName,
        selector: &Selector,
    ) -> Option<Arc<Loaded>> {
        let key = (model.clone(), selector.clone());
        let (fresh, cached) = self.cached(&key);
        if fresh {
            return cached;
        }
        let start = self.refreshing.lock().is_ok_and(|mut refreshing| {
            let due = refreshing
                .get(&key)
                .is_none_or(|started| started.elapsed() >= self.ttl);
            if due {
                refreshing.insert(key.clone(), Instant::now());
            }
            due
        });
        if start {
            let cache = Arc::clone(self);
            tokio::spawn(async move {
                let (model, selector) = key;
                if let Err(error) = cache.get(&model, &selector).await {
                    tracing::debug!(%error, %model, ?selector, "not served in the background");
                    if let Ok(mut entries) = cache.entries.write() {
                        entries.remove(&(model, selector));
                    }
                }
            });
        }
        // A stale model is the one served until the registry answers again.
        cached
    }

    /// The model to serve: from memory while fresh, otherwise resolved in the registry (and
    /// loaded only if the version changed).
    pub async fn get(
        &self,
        model: &ModelName,
        selector: &Selector,
    ) -> Result<Arc<Loaded>, ServeError> {
        let key = (model.clone(), selector.clone());
        let (fresh, cached) = self.cached(&key);
        if let Some(loaded) = cached.as_ref().filter(|_| fresh) {
            return Ok(loaded.clone());
        }
        let version = resolve(self.registry.as_ref(), model, selector).await?;
        let loaded = match cached {
            Some(loaded) if loaded.version == version => loaded,
            _ => match load(self.store.as_ref(), self.registry.as_ref(), model, version).await {
                Ok((_, artifact)) => Arc::new(Loaded::new(version, artifact)),
                Err(error @ ServeError::Unavailable { .. }) => {
                    tracing::error!(%error, "a model cannot be loaded: its requests get 503");
                    if let Ok(mut failed) = self.failed.write() {
                        failed
                            .entry(key)
                            .or_insert_with(|| (version, chrono::Utc::now()));
                    }
                    return Err(error);
                }
                Err(error) => return Err(error),
            },
        };
        if let Ok(mut failed) = self.failed.write() {
            failed.remove(&key);
        }
        if let Ok(mut entries) = self.entries.write() {
            entries.insert(
                key,
                Entry {
                    model: loaded.clone(),
                    resolved_at: Instant::now(),
                },
            );
        }
        Ok(loaded)
    }

    /// Every model requests asked for: the version it serves, or the one it cannot load.
    pub fn health(&self) -> Vec<ModelHealth> {
        let failed = self
            .failed
            .read()
            .map(|failed| failed.clone())
            .unwrap_or_default();
        let mut out: Vec<ModelHealth> = failed
            .iter()
            .map(|((model, selector), (version, since))| ModelHealth {
                model: model.clone(),
                selector: selector.clone(),
                version: *version,
                unavailable_since: Some(*since),
            })
            .collect();
        if let Ok(entries) = self.entries.read() {
            out.extend(
                entries
                    .iter()
                    .filter(|(key, _)| !failed.contains_key(*key))
                    .map(|((model, selector), e)| ModelHealth {
                        model: model.clone(),
                        selector: selector.clone(),
                        version: e.model.version,
                        unavailable_since: None,
                    }),
            );
        }
        out.sort_by(|a, b| (&a.model, a.version).cmp(&(&b.model, b.version)));
        out
    }
}

/// The version `selector` names in the registry.
pub async fn resolve(
    registry: &dyn RegistryStore,
    model: &ModelName,
    selector: &Selector,
) -> Result<u64, ServeError> {
    match selector {
        Selector::Version(version) => Ok(*version),
        Selector::Alias(alias) => {
            let state = model_registry::get_model(registry, model)
                .await?
                .ok_or_else(|| ServeError::UnknownModel(model.clone()))?;
            state
                .aliases
                .get(alias.as_str())
                .copied()
                .ok_or_else(|| ServeError::NoAlias {
                    model: model.clone(),
                    alias: alias.clone(),
                })
        }
    }
}

/// A version's registry record and its artifact, read and checked against the record: what the
/// cache keeps, and what a drift check compares with.
pub async fn load(
    store: &dyn ObjectStore,
    registry: &dyn RegistryStore,
    model: &ModelName,
    version: u64,
) -> Result<(ModelVersionRecord, ModelArtifact), ServeError> {
    let record = model_registry::get_version(registry, model, version)
        .await?
        .ok_or_else(|| ServeError::UnknownVersion {
            model: model.clone(),
            version,
        })?;
    let artifact = model_registry::load_verified(store, &record)
        .await
        .map_err(|e| ServeError::Unavailable {
            model: model.clone(),
            version,
            problem: e.to_string(),
        })?;
    Ok((record, artifact))
}

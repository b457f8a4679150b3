//! How a serving process behaves, from its environment (the template sets these for the predict
//! function; `mlops serve` reads the same variables).

use std::time::Duration;

use super::{Limits, Sampling, UnknownFields};
use crate::config::{ConfigError, Env};

#[derive(Debug, Clone, PartialEq)]
pub struct ServingSettings {
    /// How long a resolved model is served before the registry is asked again.
    pub cache_ttl: Duration,
    pub limits: Limits,
    pub sampling: Sampling,
    /// Print one CloudWatch EMF line per request: the predict function turns it on, `mlops serve`
    /// leaves it off.
    pub metrics: bool,
}

impl Default for ServingSettings {
    fn default() -> Self {
        ServingSettings {
            cache_ttl: Duration::from_secs(60),
            limits: Limits::default(),
            sampling: Sampling::default(),
            metrics: false,
        }
    }
}

impl ServingSettings {
    /// Reads `MODEL_CACHE_TTL_SECONDS` (60), `PREDICT_MAX_RECORDS` (10000),
    /// `PREDICT_UNKNOWN_FIELDS` (`ignore` or `reject`), `INFERENCE_SAMPLE_RATE` (0.1),
    /// `INFERENCE_BATCH_RECORDS` (500), `INFERENCE_MAX_AGE_SECONDS` (10) and `SHADOW_SHARE` (1:
    /// the share of sampled champion requests a `shadow` version also scores).
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let defaults = ServingSettings::default();
        let unknown_fields = match env
            .parsed_or(
                "PREDICT_UNKNOWN_FIELDS",
                "ignore".to_owned(),
                "ignore or reject",
            )?
            .as_str()
        {
            "ignore" => UnknownFields::Ignore,
            "reject" => UnknownFields::Reject,
            other => {
                return Err(ConfigError::Invalid {
                    name: "PREDICT_UNKNOWN_FIELDS",
                    value: other.to_owned(),
                    expected: "ignore or reject",
                })
            }
        };
        let rate: f64 = env.parsed_or(
            "INFERENCE_SAMPLE_RATE",
            defaults.sampling.rate,
            "share from 0 to 1",
        )?;
        let batch_records = env.parsed_or(
            "INFERENCE_BATCH_RECORDS",
            defaults.sampling.batch_records,
            "positive whole number",
        )?;
        let max_age = env.parsed_or(
            "INFERENCE_MAX_AGE_SECONDS",
            defaults.sampling.max_age.as_secs_f64(),
            "number of seconds",
        )?;
        let sampling = Duration::try_from_secs_f64(max_age)
            .map_err(|e| e.to_string())
            .and_then(|max_age| Sampling::new(rate, batch_records, max_age))
            .map_err(|_| ConfigError::Invalid {
                name: "INFERENCE_SAMPLE_RATE",
                value: format!("{rate} (batch {batch_records}, max age {max_age} s)"),
                expected: "rate from 0 to 1, batch of at least 1 record, max age of 0 s or more",
            })?;
        let shadow_share = env.parsed_or(
            "SHADOW_SHARE",
            defaults.sampling.shadow_share,
            "share from 0 to 1",
        )?;
        let sampling =
            sampling
                .with_shadow_share(shadow_share)
                .map_err(|_| ConfigError::Invalid {
                    name: "SHADOW_SHARE",
                    value: shadow_share.to_string(),
                    expected: "share from 0 to 1",
                })?;
        let max_records = env.parsed_or(
            "PREDICT_MAX_RECORDS",
            defaults.limits.max_records,
            "positive whole number",
        )?;
        let ttl = env.parsed_or(
            "MODEL_CACHE_TTL_SECONDS",
            defaults.cache_ttl.as_secs_f64(),
            "number of seconds",
        )?;
        Ok(ServingSettings {
            cache_ttl: Duration::try_from_secs_f64(ttl).map_err(|_| ConfigError::Invalid {
                name: "MODEL_CACHE_TTL_SECONDS",
                value: ttl.to_string(),
                expected: "number of seconds, 0 or more",
            })?,
            limits: Limits {
                max_records,
                unknown_fields,
            },
            sampling,
            metrics: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> Env<impl Fn(&str) -> Option<String>> {
        Env(move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let settings = ServingSettings::from_env(&env(&[])).expect("valid");
        assert_eq!(settings, ServingSettings::default());
    }

    #[test]
    fn every_setting_is_read_and_bad_values_are_named() {
        let settings = ServingSettings::from_env(&env(&[
            ("MODEL_CACHE_TTL_SECONDS", "2.5"),
            ("PREDICT_MAX_RECORDS", "50"),
            ("PREDICT_UNKNOWN_FIELDS", "reject"),
            ("INFERENCE_SAMPLE_RATE", "1"),
            ("INFERENCE_BATCH_RECORDS", "7"),
            ("INFERENCE_MAX_AGE_SECONDS", "3"),
            ("SHADOW_SHARE", "0.25"),
        ]))
        .expect("valid");
        assert_eq!(settings.cache_ttl, Duration::from_millis(2500));
        assert_eq!(
            settings.limits,
            Limits {
                max_records: 50,
                unknown_fields: UnknownFields::Reject
            }
        );
        assert_eq!(
            settings.sampling,
            Sampling::new(1.0, 7, Duration::from_secs(3))
                .and_then(|s| s.with_shadow_share(0.25))
                .expect("valid")
        );

        for (bad, name) in [
            (
                &[("PREDICT_UNKNOWN_FIELDS", "drop")][..],
                "PREDICT_UNKNOWN_FIELDS",
            ),
            (
                &[("INFERENCE_SAMPLE_RATE", "2")][..],
                "INFERENCE_SAMPLE_RATE",
            ),
            (&[("SHADOW_SHARE", "1.5")][..], "SHADOW_SHARE"),
            (
                &[("MODEL_CACHE_TTL_SECONDS", "-1")][..],
                "MODEL_CACHE_TTL_SECONDS",
            ),
            (
                &[("PREDICT_MAX_RECORDS", "many")][..],
                "PREDICT_MAX_RECORDS",
            ),
        ] {
            match ServingSettings::from_env(&env(bad)) {
                Err(ConfigError::Invalid { name: found, .. }) => assert_eq!(found, name),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}

//! Typed configuration from an explicit list of environment variables, read once at cold start so
//! that a missing setting fails the deployment, not the first request.

use std::str::FromStr;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("environment variable {0} is not set; the template sets it for the function")]
    Missing(&'static str),
    #[error("environment variable {name} = {value:?} is not a valid {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// Reads variables through `lookup` (the process environment, or a map in tests).
pub struct Env<F: Fn(&str) -> Option<String>>(pub F);

impl Env<fn(&str) -> Option<String>> {
    pub fn process() -> Self {
        Env(|name| std::env::var(name).ok())
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        (self.0)(name)
            .filter(|v| !v.is_empty())
            .ok_or(ConfigError::Missing(name))
    }

    /// The variable parsed as `T`, or `default` when it is unset or empty.
    pub fn parsed_or<T: FromStr>(
        &self,
        name: &'static str,
        default: T,
        expected: &'static str,
    ) -> Result<T, ConfigError> {
        match (self.0)(name).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(value) => value.parse().map_err(|_| ConfigError::Invalid {
                name,
                value,
                expected,
            }),
        }
    }
}

/// Where a function's state lives in AWS: the data bucket, the registry table and the event bus.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsTargets {
    pub bucket: String,
    pub registry_table: String,
    pub event_bus: String,
}

impl AwsTargets {
    /// Reads `BUCKET`, `REGISTRY_TABLE` and `EVENT_BUS` (default: the account's default bus).
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            bucket: env.required("BUCKET")?,
            registry_table: env.required("REGISTRY_TABLE")?,
            event_bus: env.parsed_or("EVENT_BUS", "default".to_owned(), "event bus name")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_what_is_missing_and_default_the_bus() {
        let env = Env(|name: &str| (name == "BUCKET").then(|| "b".to_owned()));
        let err = AwsTargets::from_env(&env).expect_err("no table");
        assert_eq!(err, ConfigError::Missing("REGISTRY_TABLE"));
        let env = Env(|name: &str| match name {
            "BUCKET" => Some("b".to_owned()),
            "REGISTRY_TABLE" => Some("t".to_owned()),
            _ => None,
        });
        assert_eq!(
            AwsTargets::from_env(&env).expect("valid").event_bus,
            "default"
        );
    }
}

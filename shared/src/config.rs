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

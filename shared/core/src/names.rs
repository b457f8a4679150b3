//! Names that cross trust boundaries, parsed once so the rest of the code never re-checks them.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error("dataset name {0:?} is invalid: use 1-64 characters from a-z, 0-9, '_' and '-', starting with a letter")]
    Dataset(String),
    #[error("object key {0:?} is invalid: {1}")]
    Key(String, &'static str),
}

/// A dataset's name: lowercase, so it is safe in S3 keys, DynamoDB keys and file names alike.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DatasetName(String);

/// 1-64 characters from a-z, 0-9, '_' and '-', starting with a letter: safe in keys and paths.
fn is_identifier(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

impl DatasetName {
    pub fn parse(name: &str) -> Result<Self, NameError> {
        if is_identifier(name) {
            Ok(Self(name.to_owned()))
        } else {
            Err(NameError::Dataset(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DatasetName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DatasetName> for String {
    fn from(value: DatasetName) -> Self {
        value.0
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A model is named after the dataset it learns from (one model per dataset), under the same rules.
pub type ModelName = DatasetName;

/// The alias every prediction is answered by unless another is asked for.
pub const CHAMPION: &str = "champion";

/// An alias name: a lowercase identifier, such as `champion`, `challenger` or `shadow`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Alias(String);

impl Alias {
    pub fn parse(name: &str) -> Result<Alias, String> {
        if is_identifier(name) {
            Ok(Alias(name.to_owned()))
        } else {
            Err(format!("alias {name:?} is not an identifier: use 1-64 characters from a-z, 0-9, '_' and '-', starting with a letter"))
        }
    }

    pub fn champion() -> Alias {
        Alias(CHAMPION.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Alias {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Alias::parse(&value)
    }
}

impl From<Alias> for String {
    fn from(alias: Alias) -> String {
        alias.0
    }
}

impl fmt::Display for Alias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A relative key in the object store (an S3 key, or a path under the local home).
/// It cannot escape the store: no empty segments, no `.` or `..`, no leading `/`, no NUL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectKey(String);

impl ObjectKey {
    pub fn parse(key: &str) -> Result<Self, NameError> {
        let fail = |why| Err(NameError::Key(key.to_owned(), why));
        if key.is_empty() || key.len() > 1024 {
            return fail("it must be 1 to 1024 bytes long");
        }
        if key.contains('\0') || key.contains('\\') {
            return fail("it must not contain NUL or backslash");
        }
        if key
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        {
            return fail("segments between '/' must be non-empty and not '.' or '..'");
        }
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment: the file name.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl TryFrom<String> for ObjectKey {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ObjectKey> for String {
    fn from(value: ObjectKey) -> Self {
        value.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[path = "names_tests.rs"]
mod tests;

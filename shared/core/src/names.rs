//! Names that cross trust boundaries, parsed once so the rest of the code never re-checks them.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error("{kind} name {name:?} is invalid: use 1-64 characters from a-z, 0-9, '_' and '-', starting with a letter")]
    Identifier { kind: &'static str, name: String },
    #[error("object key {0:?} is invalid: {1}")]
    Key(String, &'static str),
}

/// 1-64 characters from a-z, 0-9, '_' and '-', starting with a letter: safe in keys and paths.
fn is_identifier(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// A checked name reads as the text it holds (it cannot be changed through it), and maps keyed by
/// names are searched by text.
macro_rules! text_traits {
    ($name:ident) => {
        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

/// Declares a name type that holds a checked identifier, so S3 keys, DynamoDB keys and file names
/// built from it are always safe. Each kind is its own type: a dataset name is not a model name.
macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(name: &str) -> Result<Self, NameError> {
                if is_identifier(name) {
                    Ok(Self(name.to_owned()))
                } else {
                    Err(NameError::Identifier { kind: $kind, name: name.to_owned() })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = NameError;
            fn from_str(name: &str) -> Result<Self, Self::Err> {
                Self::parse(name)
            }
        }

        impl TryFrom<String> for $name {
            type Error = NameError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        text_traits!($name);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

identifier!(
    /// A dataset's name: the folder its uploads arrive under and the key of its contract.
    DatasetName,
    "dataset"
);

identifier!(
    /// A model's name in the registry.
    ModelName,
    "model"
);

identifier!(
    /// An alias name, such as `champion`, `challenger` or `shadow`.
    Alias,
    "alias"
);

impl ModelName {
    /// The model learning from `dataset`: one model per dataset, named after it.
    pub fn of_dataset(dataset: &DatasetName) -> Self {
        Self(dataset.0.clone())
    }
}

/// The alias every prediction is answered by unless another is asked for.
pub const CHAMPION: &str = "champion";

/// The alias of a version scored beside the champion, off the response path, for comparison.
pub const SHADOW: &str = "shadow";

impl Alias {
    pub fn champion() -> Alias {
        Alias(CHAMPION.to_owned())
    }

    pub fn shadow() -> Alias {
        Alias(SHADOW.to_owned())
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

text_traits!(ObjectKey);

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

//! An object key that the layout made. A store writes only these, so every
//! key the program writes comes from `Layout` (or the server records and
//! the probe's scratch space in `server`): none is put together by hand
//! where it is written.

use std::fmt;
use std::ops::Deref;

use serde::Serialize;

/// A key of the bucket (or a path under the local site), as `Layout` lays
/// it out. Reads as a `&str`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(any(test, feature = "test-keys"), derive(serde::Deserialize))]
#[serde(transparent)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Only this crate lays keys out.
    pub(crate) fn laid_out(key: String) -> Self {
        Self(key)
    }

    /// A key the layout does not make, for tests: the program's own code
    /// cannot call this (the `test-keys` feature is a dev-dependency's).
    #[cfg(any(test, feature = "test-keys"))]
    pub fn outside_layout(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl Deref for ObjectKey {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

// Hashes and compares as its text, so a list of keys joins as strings do.
impl std::borrow::Borrow<str> for ObjectKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ObjectKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ObjectKey {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ObjectKey {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for ObjectKey {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<ObjectKey> for String {
    fn eq(&self, other: &ObjectKey) -> bool {
        *self == other.0
    }
}

impl PartialEq<ObjectKey> for str {
    fn eq(&self, other: &ObjectKey) -> bool {
        self == other.0
    }
}

impl From<&ObjectKey> for String {
    fn from(key: &ObjectKey) -> String {
        key.0.clone()
    }
}

impl From<ObjectKey> for String {
    fn from(key: ObjectKey) -> String {
        key.0
    }
}

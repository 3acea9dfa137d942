//! Versions of a provider: what a client's copy of it names, and what a conditional write
//! requires of it (the HTTP layer carries them in `ETag` and `If-Match`).

use std::fmt;

/// The version of a provider's representation: 1 when created, one more on every replace and
/// every new review (its review figures change), in the same transaction as the change. Ids
/// are never reused, so a version never names two different representations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(u64);

impl Version {
    /// The version of a provider just created.
    pub const FIRST: Self = Self(1);

    /// A version from its number.
    pub const fn new(number: u64) -> Self {
        Self(number)
    }

    /// Its number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The version after this one.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A value read from a store with the version it had then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// Its version when read (or written).
    pub version: Version,
}

/// What a write requires of the stored version, checked by the store under the provider's lock,
/// after existence and ownership.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum VersionCheck {
    /// Any version: an unconditional write.
    #[default]
    Any,
    /// The stored version must be one of these (none: nothing matches).
    OneOf(Vec<Version>),
}

impl VersionCheck {
    /// Whether `current` passes.
    pub fn admits(&self, current: Version) -> bool {
        match self {
            Self::Any => true,
            Self::OneOf(versions) => versions.contains(&current),
        }
    }
}

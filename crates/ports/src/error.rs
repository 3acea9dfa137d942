//! The error of each port layer: [`RepoError`] from stores, [`ServiceError`] from use cases.

use provider_domain::{ModerationError, ValidationError};

/// A boxed error source: what a store saw go wrong, kept for the logs.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a repository reports. Each trait method's `# Errors` says which variant it must use.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The provider (or the provider a review is for) does not exist, or is not the caller's.
    #[error("not found")]
    NotFound,
    /// The write conflicts with what is stored (e.g. this user already reviewed this provider).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A conditional write found another version than it required; nothing was changed.
    #[error("the stored version does not match")]
    PreconditionFailed,
    /// The store refused the data as invalid (e.g. overlapping availability it caught itself).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The store cannot be reached or did not answer in time; retrying later may work.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] Source),
    /// Anything else: a bug or data the store cannot make sense of.
    #[error("unexpected store error: {0}")]
    Unexpected(#[source] Source),
}

/// What a use case reports; the HTTP layer maps each variant to one status code.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Input refused (422).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// No such provider, or not the caller's (404).
    #[error("service provider not found")]
    NotFound,
    /// The caller may not do this (403), e.g. review their own provider.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The moderation state machine refused the operation: 404, 403 or 409 by
    /// [`ModerationError::kind`]; nothing was changed.
    #[error(transparent)]
    Refused(#[from] ModerationError),
    /// A resource other than a provider or review is not there for this caller (404), e.g. a
    /// flag.
    #[error("{0}")]
    Missing(&'static str),
    /// The request conflicts with stored data (409).
    #[error("{0}")]
    Conflict(String),
    /// A conditional write found the provider at another version than it named; nothing was
    /// changed (412).
    #[error("the service provider has changed since the version the write names (read it again)")]
    PreconditionFailed,
    /// A request with this idempotency key is still being processed (409).
    #[error("a request with this idempotency key is still being processed; retry later")]
    KeyInFlight,
    /// An idempotency key reused for a different request (422).
    #[error("this idempotency key was used for a different request")]
    KeyReused,
    /// What was asked for is no longer kept (410), e.g. events older than the feed's
    /// retention window.
    #[error("{0}")]
    Gone(String),
    /// The store is unavailable (503).
    #[error("the data store is unavailable")]
    Unavailable(#[source] Source),
    /// A bug (500).
    #[error("internal error")]
    Internal(#[source] Source),
}

impl From<RepoError> for ServiceError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => Self::NotFound,
            RepoError::Conflict(what) => Self::Conflict(what),
            RepoError::PreconditionFailed => Self::PreconditionFailed,
            RepoError::Invalid(v) => Self::Invalid(v),
            RepoError::Unavailable(s) => Self::Unavailable(s),
            RepoError::Unexpected(s) => Self::Internal(s),
        }
    }
}

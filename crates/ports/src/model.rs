//! What an in-process read model needs of the store that holds the truth: every provider as of
//! one point of the store's commit order, and from there on, what each later commit changed.
//!
//! A model that loads [`ModelSource::snapshot`] and then applies every [`ModelSource::catch_up`]
//! in turn holds, after each, exactly the providers the store held at that catch-up's
//! [`FeedPosition`]: a catch-up answers the changed providers in their state at its own
//! position, not events to replay, so applying one twice, or one whose changes were already
//! seen, is harmless.

use crate::{RepoError, Versioned};
use async_trait::async_trait;
use provider_domain::{Provider, ProviderId};

/// A point of the store's commit order: every write committed before it is in, none after.
/// Opaque to the model (only the store that made it reads it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPosition(String);

impl FeedPosition {
    /// A position from the store's own notation of it.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The store's notation of it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A provider a write changed, as it is now (`None`: it was deleted).
pub type ProviderChange = (ProviderId, Option<Versioned<Provider>>);

/// What changed between a catch-up's starting position and [`Caught::position`].
#[derive(Debug, Clone, PartialEq)]
pub struct Caught {
    /// The position the changes bring a model to.
    pub position: FeedPosition,
    /// Each provider a write committed in between changed, as it is at `position` (`None`: it
    /// was deleted), in no particular order, each at most once.
    pub changed: Vec<ProviderChange>,
}

/// The outcome of [`ModelSource::catch_up`].
#[derive(Debug, Clone, PartialEq)]
pub enum CatchUp {
    /// The changes since the starting position.
    Caught(Caught),
    /// The store no longer knows what changed since the starting position (its change feed was
    /// purged past it): the model must load a new snapshot.
    Behind,
}

/// Providers batched by [`ModelSource::snapshot`] as it reads them.
pub type SnapshotSink<'a> = dyn FnMut(Vec<Versioned<Provider>>) + Send + 'a;

/// A store a read model can be loaded from and kept exact by.
#[async_trait]
pub trait ModelSource: Send + Sync {
    /// Every provider, with its version and the per-skill figures of its current skills, as of
    /// one position, handed to `sink` in batches (so that the whole store is never held twice);
    /// answers that position.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`]; [`RepoError::Unexpected`] for data the store cannot read.
    async fn snapshot(&self, sink: &mut SnapshotSink<'_>) -> Result<FeedPosition, RepoError>;

    /// What every write committed after `from` changed, up to a position taken now: a read
    /// that starts after this call began sees nothing the answer lacks.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`]; [`RepoError::Unexpected`] for a position this store did not
    /// make.
    async fn catch_up(&self, from: &FeedPosition) -> Result<CatchUp, RepoError>;
}

//! Driven ports: what the core needs from a store. Every adapter makes the same promises; the
//! contract suite (feature `contract-tests`) checks them.

use crate::{Page, PageOf, RepoError};
use async_trait::async_trait;
use provider_domain::{
    JobRequest, Provider, ProviderDraft, ProviderId, Recommendation, Review, SearchFilter, UserId,
};

/// Stores service providers and answers searches and recommendations over them.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ProviderRepository: Send + Sync {
    /// Stores a new provider (its review stats are zero).
    ///
    /// # Errors
    /// [`RepoError::Conflict`] if a provider with this id exists; [`RepoError::Invalid`] if the
    /// store itself refuses the data; [`RepoError::Unavailable`] if the store cannot be reached.
    async fn create(&self, provider: &Provider) -> Result<(), RepoError>;

    /// The provider with this id.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if there is none; [`RepoError::Unavailable`].
    async fn get(&self, id: ProviderId) -> Result<Provider, RepoError>;

    /// Replaces name, skills, day rate and availability of the provider `id` owned by `owner`,
    /// all at once (a reader sees the old provider or the new one, never a mix). Reviews stay.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if there is no such provider or `owner` does not own it (the
    /// two are indistinguishable); [`RepoError::Invalid`]; [`RepoError::Unavailable`].
    async fn replace(
        &self,
        id: ProviderId,
        owner: UserId,
        draft: &ProviderDraft,
    ) -> Result<Provider, RepoError>;

    /// Deletes the provider `id` owned by `owner`, with its skills, availability and reviews.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if there is no such provider or `owner` does not own it;
    /// [`RepoError::Unavailable`].
    async fn delete(&self, id: ProviderId, owner: UserId) -> Result<(), RepoError>;

    /// One page of the providers `filter` matches, in [`provider_domain::search_order`].
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn search(
        &self,
        filter: &SearchFilter,
        page: Page,
    ) -> Result<PageOf<Provider>, RepoError>;

    /// One page of the providers suited to `job`, in
    /// [`provider_domain::recommendation_order`].
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn recommend(
        &self,
        job: &JobRequest,
        page: Page,
    ) -> Result<PageOf<Recommendation>, RepoError>;

    /// Checks the store answers (readiness).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when it does not.
    async fn ping(&self) -> Result<(), RepoError>;
}

/// Stores reviews, one per provider and user, and keeps each provider's review stats exact.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ReviewRepository: Send + Sync {
    /// Stores a review and adds its rating to the provider's stats, atomically.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if the provider does not exist; [`RepoError::Conflict`] if this
    /// user has already reviewed this provider (nothing is changed); [`RepoError::Unavailable`].
    async fn add(&self, review: &Review) -> Result<(), RepoError>;

    /// One page of a provider's reviews, newest first ([`Review::newest_first`]).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if the provider does not exist; [`RepoError::Unavailable`].
    async fn list(&self, provider: ProviderId, page: Page) -> Result<PageOf<Review>, RepoError>;
}

//! Driven ports: what the core needs from a store. Every adapter makes the same promises; the
//! contract suite (feature `contract-tests`) checks them.

use crate::{
    Claim, ClaimToken, Found, IdempotentRequest, Page, PageOf, Paging, RepoError, StoredAnswer,
    Version, VersionCheck, Versioned,
};
use async_trait::async_trait;
use provider_domain::{
    JobRequest, Provider, ProviderDraft, ProviderId, Recommendation, Review, ReviewId,
    SearchFilter, SearchSort, SortKey, UserId,
};
use time::OffsetDateTime;

/// Stores service providers and answers searches and recommendations over them.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ProviderRepository: Send + Sync {
    /// Stores a new provider (its review stats are zero) at [`Version::FIRST`], which it
    /// returns.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] if a provider with this id exists; [`RepoError::Invalid`] if the
    /// store itself refuses the data; [`RepoError::Unavailable`] if the store cannot be reached.
    async fn create(&self, provider: &Provider) -> Result<Version, RepoError>;

    /// The provider with this id, and its current version (read together, in one step).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if there is none; [`RepoError::Unavailable`].
    async fn get(&self, id: ProviderId) -> Result<Versioned<Provider>, RepoError>;

    /// Replaces name, skills, day rate and availability of the provider `id` owned by `owner`,
    /// all at once (the per-skill figures shown become those of the new skills' keys) (a reader sees the old provider or the new one, never a mix), when its
    /// version passes `check`; the version goes up by one in the same step. Reviews stay.
    /// Concurrent replaces with the same `check` of one version: exactly one passes.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if there is no such provider or `owner` does not own it (the
    /// two are indistinguishable; checked before the version); [`RepoError::PreconditionFailed`]
    /// if its version does not pass `check` (nothing is changed); [`RepoError::Invalid`];
    /// [`RepoError::Unavailable`].
    async fn replace(
        &self,
        id: ProviderId,
        owner: UserId,
        draft: &ProviderDraft,
        check: &VersionCheck,
    ) -> Result<Versioned<Provider>, RepoError>;

    /// Deletes the provider `id` owned by `owner`, with its skills, availability, reviews and
    /// per-skill figures,
    /// when its version passes `check`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if there is no such provider or `owner` does not own it (checked
    /// before the version); [`RepoError::PreconditionFailed`] if its version does not pass
    /// `check` (nothing is deleted); [`RepoError::Unavailable`].
    async fn delete(
        &self,
        id: ProviderId,
        owner: UserId,
        check: &VersionCheck,
    ) -> Result<(), RepoError>;

    /// One page of the providers `filter` matches, in `sort` ([`SearchSort::compare`]): page
    /// `n`, or the providers listed after the key `paging` holds (whether or not a provider
    /// with that key still exists), at any depth. With `total`, also how many match
    /// ([`crate::Total`]: counted up to 10,001), read from the same state as the page.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn search(
        &self,
        filter: &SearchFilter,
        sort: SearchSort,
        paging: Paging<SortKey>,
        total: bool,
    ) -> Result<Found<Provider>, RepoError>;

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

/// Where a review sits in a provider's list, newest first: its time and id.
pub type ReviewKey = (OffsetDateTime, ReviewId);

/// Stores reviews, one per provider and user, and keeps each provider's review stats exact.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ReviewRepository: Send + Sync {
    /// Stores a review and adds its rating to the provider's stats and each of its per-skill
    /// ratings to the figures of that skill's key, atomically; the provider's version goes up
    /// by one in the same step (its representation changed). The figures belong to the key:
    /// a skill removed by a replace keeps them hidden (not in [`Provider::skill_reviews`]) and
    /// shows them again when a replace brings the skill back. A per-skill rating of a skill
    /// the provider no longer has (a replace in between) is kept under its key, hidden.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if the provider does not exist; [`RepoError::Conflict`] if this
    /// user has already reviewed this provider (nothing is changed); [`RepoError::Unavailable`].
    async fn add(&self, review: &Review) -> Result<(), RepoError>;

    /// One page of a provider's reviews, newest first ([`Review::newest_first`]): page `n`, or
    /// the reviews listed after the review `paging`'s key names (its time and id).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if the provider does not exist; [`RepoError::Unavailable`].
    async fn list(
        &self,
        provider: ProviderId,
        paging: Paging<ReviewKey>,
    ) -> Result<PageOf<Review>, RepoError>;
}

/// Keeps idempotency records: per caller and key, the request's fingerprint and, once it
/// succeeded, its answer (see [`crate::idempotency`] for the rules and time bounds). Every
/// operation is atomic: of concurrent claims of one free key exactly one is
/// [`Claim::Claimed`].
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IdempotencyRepository: Send + Sync {
    /// Claims `request`'s key at `now` for the holder `token`. The key is free when it has no
    /// record, when its record expired (`expires_at <= now`), or when its record is a pending
    /// claim made more than [`crate::idempotency::RECLAIM_PENDING_AFTER`] before `now`; a free
    /// key is claimed (a pending record, expiring [`crate::idempotency::RETENTION`] after
    /// `now`). Otherwise the record answers: another fingerprint is [`Claim::Mismatch`], a
    /// pending one [`Claim::InFlight`], a completed one [`Claim::Completed`] with its answer.
    /// May remove a few expired records of any caller on the way (never a full scan).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn claim(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
        now: OffsetDateTime,
    ) -> Result<Claim, RepoError>;

    /// Keeps `answer` as the answer of the claim `token` holds on `request`'s key, until
    /// [`crate::idempotency::RETENTION`] after `now`. Does nothing when `token` no longer
    /// holds the claim (it was taken over).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn complete(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
        answer: &StoredAnswer,
        now: OffsetDateTime,
    ) -> Result<(), RepoError>;

    /// Gives up the pending claim `token` holds on `request`'s key (the request failed; a retry
    /// runs again). Does nothing when `token` no longer holds it.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn release(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
    ) -> Result<(), RepoError>;
}

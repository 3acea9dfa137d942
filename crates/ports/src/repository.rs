//! Driven ports: what the core needs from a store. Every adapter makes the same promises; the
//! contract suite (feature `contract-tests`) checks them.

use crate::moderation::{ReviewChange, Revision, StoredFlag, StoredReview, Submission};
use crate::{
    Claim, ClaimToken, Completion, Found, IdempotentRequest, Page, PageOf, Paging, RepoError,
    StoredAnswer, Version, VersionCheck, Versioned,
};
use async_trait::async_trait;
use provider_domain::{
    Event, FiguresDelta, FlagId, JobRequest, Provider, ProviderDraft, ProviderId, Recommendation,
    ReviewId, SearchFilter, SearchSort, SortKey, UserId,
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

    /// [`Self::create`], and in the same transaction (or under the same lock) the kept answer
    /// of `completion`, so that a crash leaves both or neither.
    ///
    /// # Errors
    /// As [`Self::create`]; [`RepoError::Unavailable`] also when `completion.token` no longer
    /// holds its claim (nothing is stored).
    async fn create_completing(
        &self,
        provider: &Provider,
        completion: &Completion,
    ) -> Result<Version, RepoError>;

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

/// Stores reviews, one per provider and user, with their moderation (see
/// [`crate::moderation`]), and keeps each provider's review figures exact: only published
/// reviews count.
///
/// The figures of a provider (its review stats, and per skill those of each skill's key)
/// change, with its version (up by one), in the same step as the review change that changes
/// them, and only then. The per-skill figures belong to the key: a skill removed by a replace
/// keeps them hidden (not in [`Provider::skill_reviews`]) and shows them again when a replace
/// brings the skill back. A per-skill rating of a skill the provider no longer has (a replace
/// in between) is kept under its key, hidden.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ReviewRepository: Send + Sync {
    /// Stores a new review at [`Revision::FIRST`] as its submission settled it, with the
    /// submission's history events; a published one adds its rating to the provider's stats
    /// and its per-skill ratings to their keys' figures (the provider's version rises).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if the provider does not exist; [`RepoError::Conflict`] if this
    /// user has already reviewed this provider, whatever that review's status (nothing is
    /// changed); [`RepoError::Unavailable`].
    async fn add(&self, submission: &Submission) -> Result<(), RepoError>;

    /// [`Self::add`], and in the same transaction (or under the same lock) the kept answer of
    /// `completion`, so that a crash leaves both or neither.
    ///
    /// # Errors
    /// As [`Self::add`]; [`RepoError::Unavailable`] also when `completion.token` no longer
    /// holds its claim (nothing is stored).
    async fn add_completing(
        &self,
        submission: &Submission,
        completion: &Completion,
    ) -> Result<(), RepoError>;

    /// One page of a provider's published reviews, newest first
    /// ([`provider_domain::Review::newest_first`]): page `n`, or the reviews listed after the
    /// review `paging`'s key names (its time and id).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if the provider does not exist; [`RepoError::Unavailable`].
    async fn list(
        &self,
        provider: ProviderId,
        paging: Paging<ReviewKey>,
    ) -> Result<PageOf<StoredReview>, RepoError>;

    /// The review with this id, whatever its status, with its moderation and revision.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if there is none; [`RepoError::Unavailable`].
    async fn find(&self, id: ReviewId) -> Result<StoredReview, RepoError>;

    /// Applies `change` to the review `id` if it is still at `revision`, all in one step (see
    /// [`ReviewChange`]): its moderation, content, flags, reply, appeal and queue time, the
    /// appended history events and the provider's figures and version. Answers the review
    /// after it, at the next revision.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if the review is gone; [`RepoError::PreconditionFailed`] if it
    /// is at another revision (nothing is changed: read it again and decide again);
    /// [`RepoError::Unavailable`].
    async fn apply(
        &self,
        id: ReviewId,
        revision: Revision,
        change: &ReviewChange,
    ) -> Result<StoredReview, RepoError>;

    /// Removes the review `id` if it is still at `revision`, with its skill ratings, flags,
    /// reply and appeal, appending `event` to its history (which stays) and applying
    /// `figures` to the provider's as [`ReviewChange::figures`] does. Its author may then
    /// review the provider again.
    ///
    /// # Errors
    /// As [`ReviewRepository::apply`].
    async fn withdraw(
        &self,
        id: ReviewId,
        revision: Revision,
        event: &Event,
        figures: Option<FiguresDelta>,
    ) -> Result<(), RepoError>;

    /// One page of the moderation queue: every review whose [`StoredReview::queued_at`] is
    /// set, in [`crate::moderation::queue_order`].
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn queue(&self, page: Page) -> Result<PageOf<StoredReview>, RepoError>;

    /// How many reviews are in the moderation queue.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn queue_size(&self) -> Result<u64, RepoError>;

    /// Every event of the review `id`'s history, oldest first, withdrawn reviews' included.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if it has none (there never was such a review);
    /// [`RepoError::Unavailable`].
    async fn history(&self, id: ReviewId) -> Result<Vec<Event>, RepoError>;

    /// The flag with this id.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if there is none (a withdrawn review's flags are gone);
    /// [`RepoError::Unavailable`].
    async fn flag(&self, id: FlagId) -> Result<StoredFlag, RepoError>;
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

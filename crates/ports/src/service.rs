//! The use cases: the driving port the HTTP layer calls.

use crate::moderation::{queued_since, Moderated, Revision, StoredReview, Submission};
use crate::{
    search_scope, Answered, ChangeFeed, Claim, ClaimToken, Completion, CursorKey,
    IdempotencyRepository, IdempotentRequest, ListAt, ListRequest, Outcome, Page, PageOf, Paging,
    ProviderRepository, RepoError, ReviewRepository, ServiceError, Total, Version, VersionCheck,
    Versioned,
};
use provider_domain::{
    Comment, Cursor, CursorPosition, FieldError, JobInput, JobRequest, Moderation,
    ModerationSettings, Provider, ProviderDraft, ProviderId, ProviderInput, Rating, Recommendation,
    Review, ReviewId, SearchFilter, SearchInput, SearchSort, SkillRating, SkillRatingInput,
    SortKey, UserId, ValidationError, ValueError,
};
use std::future::Future;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

mod events;
mod moderation;

pub use events::{EventsPage, EventsRequest};

/// Where the service reads the time from (swappable in tests).
pub trait Clock: Send + Sync {
    /// The current time in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A review as a client wrote it, before checking.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewReview {
    /// 0..=5 in steps of 0.1.
    pub rating: f64,
    /// Optional comment, at most 2000 characters; see [`Comment::new`] (no control characters
    /// but tab, line feed and carriage return).
    pub comment: Option<String>,
    /// Ratings of the provider's skills one by one (see [`SkillRating::parse_list`]).
    pub skill_ratings: Vec<SkillRatingInput>,
}

/// The use cases of the API over a provider store, a review store and an idempotency store.
#[derive(Clone)]
pub struct ProviderService {
    providers: Arc<dyn ProviderRepository>,
    reviews: Arc<dyn ReviewRepository>,
    keys: Arc<dyn IdempotencyRepository>,
    clock: Arc<dyn Clock>,
    cursors: CursorKey,
    pub(crate) moderation: Arc<ModerationSettings>,
    /// The change feed the events API reads, when the store keeps one.
    feed: Option<Arc<dyn ChangeFeed>>,
}

/// One page of a list as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<T> {
    /// The items on this page, in list order.
    pub items: Vec<T>,
    /// The page's number, from 1 (offset paging); `None` for a page after a cursor.
    pub page: Option<u32>,
    /// Items per page asked for.
    pub page_size: u32,
    /// True exactly when `next_cursor` is some: later pages hold more.
    pub has_more: bool,
    /// The cursor of the page after this one, when there is one.
    pub next_cursor: Option<String>,
    /// How many items the whole list holds, when asked for.
    pub total: Option<Total>,
}

/// How a search lists its matches, before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchOptions {
    /// The order's name ([`SearchSort::parse`]); `None` is [`SearchSort::CostDesc`].
    pub sort: Option<String>,
    /// Whether to count the matches ([`Total`]).
    pub total: bool,
}

impl std::fmt::Debug for ProviderService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderService").finish_non_exhaustive()
    }
}

impl ProviderService {
    /// A service over these stores, reading the system clock.
    pub fn new(
        providers: Arc<dyn ProviderRepository>,
        reviews: Arc<dyn ReviewRepository>,
        keys: Arc<dyn IdempotencyRepository>,
    ) -> Self {
        Self::with_clock(providers, reviews, keys, Arc::new(SystemClock))
    }

    /// A service over these stores and this clock.
    pub fn with_clock(
        providers: Arc<dyn ProviderRepository>,
        reviews: Arc<dyn ReviewRepository>,
        keys: Arc<dyn IdempotencyRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            providers,
            reviews,
            keys,
            clock,
            cursors: CursorKey::random(),
            moderation: Arc::new(ModerationSettings::default()),
            feed: None,
        }
    }

    /// This service sealing and opening cursors with `key` (by default a key drawn at start,
    /// whose cursors only this process accepts).
    #[must_use]
    pub fn with_cursor_key(self, key: CursorKey) -> Self {
        Self {
            cursors: key,
            ..self
        }
    }

    /// Opens a client's cursor, or says why it cannot be used (422 on `cursor`).
    fn open_cursor<K>(
        &self,
        token: &str,
        key_of: impl FnOnce(&Cursor) -> Result<K, provider_domain::CursorError>,
    ) -> Result<K, ServiceError> {
        self.cursors
            .open(token)
            .and_then(|c| key_of(&c))
            .map_err(|e| {
                ValidationError(vec![FieldError::new("cursor", ValueError::Cursor(e))]).into()
            })
    }

    /// The answer of a list from the store's page: the cursor after its last item, when more
    /// follow.
    fn listed<T>(
        &self,
        at: &ListAt,
        page: PageOf<T>,
        total: Option<Total>,
        position: impl FnOnce(&T) -> Cursor,
    ) -> Listed<T> {
        let next_cursor = page
            .items
            .last()
            .filter(|_| page.has_more)
            .map(|last| self.cursors.seal(&position(last)));
        let (number, size) = match at {
            ListAt::Page(p) => (Some(p.number()), p.size()),
            ListAt::Cursor { size, .. } => (None, *size),
        };
        Listed {
            has_more: next_cursor.is_some(),
            items: page.items,
            page: number,
            page_size: size,
            next_cursor,
            total,
        }
    }

    /// The same service with these moderation settings (the default: the default screen,
    /// three flags to hold).
    #[must_use]
    pub fn with_moderation(mut self, settings: ModerationSettings) -> Self {
        self.moderation = Arc::new(settings);
        self
    }

    /// The same service, answering the events API from `feed`.
    #[must_use]
    pub fn with_feed(mut self, feed: Arc<dyn ChangeFeed>) -> Self {
        self.feed = Some(feed);
        self
    }

    /// The change feed the events API reads (`None` when the store keeps none): for a relay
    /// that publishes it elsewhere.
    pub fn change_feed(&self) -> Option<Arc<dyn ChangeFeed>> {
        self.feed.clone()
    }

    /// The moderation settings in force.
    pub fn moderation_settings(&self) -> &ModerationSettings {
        &self.moderation
    }

    pub(crate) fn reviews(&self) -> &dyn ReviewRepository {
        self.reviews.as_ref()
    }

    pub(crate) fn providers(&self) -> &dyn ProviderRepository {
        self.providers.as_ref()
    }

    /// The current time, cut to what stores keep (microseconds).
    pub(crate) fn now(&self) -> OffsetDateTime {
        truncate_to_micros(self.clock.now())
    }

    /// Runs `run` at most once per idempotent request (`request`: the caller's key and what
    /// the request asks; `None` runs it unconditionally).
    ///
    /// The answer is kept by a statement of its own after `run`: a process that dies between
    /// `run`'s write and that statement leaves the key pending, and a retry after
    /// [`crate::idempotency::RECLAIM_PENDING_AFTER`] runs again. Creates and reviews use
    /// [`Self::create_once`] and [`Self::add_review_once`] instead, which keep the answer in
    /// the write's own transaction.
    ///
    /// The key is claimed first. A kept answer of the same request is returned as a replay
    /// without running anything. Otherwise `run` runs, and its [`Outcome`] says what becomes of
    /// its answer: [`Outcome::Keep`] keeps it for [`crate::idempotency::RETENTION`] (if keeping
    /// it fails, the answer is still returned and the claim lapses after
    /// [`crate::idempotency::RECLAIM_PENDING_AFTER`]); [`Outcome::Discard`] or an error gives
    /// the key up, so that a retry runs again.
    ///
    /// # Errors
    /// [`ServiceError::KeyInFlight`] while the same request is still being processed;
    /// [`ServiceError::KeyReused`] when the key was used for another request;
    /// [`ServiceError::Unavailable`]; and whatever `run` fails with.
    #[tracing::instrument(skip_all)]
    pub async fn once<A, F, Fut>(
        &self,
        request: Option<&IdempotentRequest>,
        run: F,
    ) -> Result<Answered<A>, ServiceError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Outcome<A>, ServiceError>>,
    {
        let Some(request) = request else {
            return run()
                .await
                .map(|outcome| Answered::Fresh(outcome.into_answer()));
        };
        let token = match self.claim(request).await? {
            Ok(token) => token,
            Err(stored) => return Ok(Answered::Replayed(stored)),
        };
        let outcome = run().await;
        match &outcome {
            Ok(Outcome::Keep { stored, .. }) => {
                let kept = self
                    .keys
                    .complete(request, token, stored, self.clock.now())
                    .await;
                if let Err(e) = kept {
                    tracing::warn!(error = %e, "the answer could not be kept for replays");
                }
            }
            Ok(Outcome::Discard(_)) | Err(_) => {
                if let Err(e) = self.keys.release(request, token).await {
                    tracing::warn!(error = %e, "the idempotency claim could not be given up");
                }
            }
        }
        outcome.map(|outcome| Answered::Fresh(outcome.into_answer()))
    }

    /// Claims `request`'s key for a new holder: the holder's token, or the kept answer to
    /// replay, or the error saying why neither.
    async fn claim(
        &self,
        request: &IdempotentRequest,
    ) -> Result<Result<ClaimToken, crate::StoredAnswer>, ServiceError> {
        let token = ClaimToken(Uuid::new_v4());
        match self.keys.claim(request, token, self.clock.now()).await? {
            Claim::Claimed => Ok(Ok(token)),
            Claim::Completed(stored) => Ok(Err(stored)),
            Claim::InFlight => Err(ServiceError::KeyInFlight),
            Claim::Mismatch => Err(ServiceError::KeyReused),
        }
    }

    /// What the write of an idempotent request held by `token` gave: with [`Outcome::Keep`]
    /// the write kept its answer itself (in its transaction); otherwise the key is given up,
    /// so that a retry runs again. A write that failed without saying whether it committed
    /// (a connection lost at commit) is given up too: had it committed, its answer is kept
    /// with it and the release leaves it alone.
    async fn settle<A>(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
        written: Result<Outcome<A>, ServiceError>,
    ) -> Result<Answered<A>, ServiceError> {
        if !matches!(written, Ok(Outcome::Keep { .. })) {
            if let Err(e) = self.keys.release(request, token).await {
                tracing::warn!(error = %e, "the idempotency claim could not be given up");
            }
        }
        written.map(|outcome| Answered::Fresh(outcome.into_answer()))
    }

    /// The completion of `token`'s claim on `request` with `stored`, now.
    fn completion(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
        stored: &crate::StoredAnswer,
    ) -> Completion {
        Completion {
            request: request.clone(),
            token,
            answer: stored.clone(),
            now: self.clock.now(),
        }
    }

    /// Creates a provider owned by `owner`.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`] for bad input (nothing stored); [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(owner = %owner))]
    pub async fn create(
        &self,
        owner: UserId,
        input: &ProviderInput,
    ) -> Result<Versioned<Provider>, ServiceError> {
        let provider = new_provider(owner, input, self.now())?;
        let version = self.providers.create(&provider).await?;
        Ok(Versioned {
            value: provider,
            version,
        })
    }

    /// [`Self::create`] at most once per idempotent request (`None`: unconditionally), its
    /// answer made by `answer` from the provider as created. An answer to keep
    /// ([`Outcome::Keep`]) is stored in the create's own transaction, so that a retry after a
    /// crash at any instant either replays it or creates (never twice); otherwise, and on an
    /// error, the key is given up. A kept answer of the same request is replayed without
    /// creating anything.
    ///
    /// # Errors
    /// As [`Self::create`]; [`ServiceError::KeyInFlight`] while the same request is still
    /// being processed; [`ServiceError::KeyReused`] when the key was used for another request;
    /// and whatever `answer` fails with (nothing is created).
    #[tracing::instrument(skip_all, fields(owner = %owner))]
    pub async fn create_once<A>(
        &self,
        request: Option<&IdempotentRequest>,
        owner: UserId,
        input: &ProviderInput,
        answer: impl FnOnce(&Versioned<Provider>) -> Result<Outcome<A>, ServiceError>,
    ) -> Result<Answered<A>, ServiceError> {
        let Some(request) = request else {
            let created = self.create(owner, input).await?;
            return answer(&created).map(|outcome| Answered::Fresh(outcome.into_answer()));
        };
        let token = match self.claim(request).await? {
            Ok(token) => token,
            Err(stored) => return Ok(Answered::Replayed(stored)),
        };
        let written = async {
            // A new provider's version is `Version::FIRST` (every store's contract), so its
            // answer is known before it is stored, and is stored with it.
            let created = Versioned {
                value: new_provider(owner, input, self.now())?,
                version: Version::FIRST,
            };
            let outcome = answer(&created)?;
            let version = match &outcome {
                Outcome::Keep { stored, .. } => {
                    let completion = self.completion(request, token, stored);
                    self.providers
                        .create_completing(&created.value, &completion)
                        .await?
                }
                Outcome::Discard(_) => self.providers.create(&created.value).await?,
            };
            if version != created.version {
                return Err(ServiceError::Internal(
                    format!("a new provider was stored at version {version:?}, not the first")
                        .into(),
                ));
            }
            Ok(outcome)
        }
        .await;
        self.settle(request, token, written).await
    }

    /// The provider with this id, and its version.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`]; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(provider = %id))]
    pub async fn get(&self, id: ProviderId) -> Result<Versioned<Provider>, ServiceError> {
        Ok(self.providers.get(id).await?)
    }

    /// Replaces the caller's provider when its version passes `check`.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`]; [`ServiceError::NotFound`] when missing or not the caller's
    /// (whatever `check` says); [`ServiceError::PreconditionFailed`] when its version does not
    /// pass `check`; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(provider = %id, owner = %owner))]
    pub async fn replace(
        &self,
        owner: UserId,
        id: ProviderId,
        input: &ProviderInput,
        check: &VersionCheck,
    ) -> Result<Versioned<Provider>, ServiceError> {
        let draft = ProviderDraft::parse(input)?;
        Ok(self.providers.replace(id, owner, &draft, check).await?)
    }

    /// Deletes the caller's provider with its reviews when its version passes `check`.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when missing or not the caller's (whatever `check` says);
    /// [`ServiceError::PreconditionFailed`] when its version does not pass `check`;
    /// [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(provider = %id, owner = %owner))]
    pub async fn delete(
        &self,
        owner: UserId,
        id: ProviderId,
        check: &VersionCheck,
    ) -> Result<(), ServiceError> {
        Ok(self.providers.delete(id, owner, check).await?)
    }

    /// Adds `user`'s review of a provider, with its per-skill ratings of the provider's current
    /// skills, screened at submission: published at once, or held for a moderator (see
    /// [`provider_domain::Moderation::submit`]). Answers the stored review and its history
    /// events.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`] (also: a rated skill the provider does not have, checked after
    /// the provider is found and the owner refused); [`ServiceError::NotFound`] when the provider does not exist;
    /// [`ServiceError::Forbidden`] when `user` owns it (the review store is not touched);
    /// [`ServiceError::Conflict`] when `user` already reviewed it; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(provider = %provider_id, user = %user))]
    pub async fn add_review(
        &self,
        user: UserId,
        provider_id: ProviderId,
        input: &NewReview,
    ) -> Result<Moderated<StoredReview>, ServiceError> {
        let (submission, added) = self.new_review(user, provider_id, input).await?;
        self.reviews
            .add(&submission)
            .await
            .map_err(review_conflict)?;
        Ok(added)
    }

    /// [`Self::add_review`] at most once per idempotent request (`None`: unconditionally),
    /// its answer made by `answer` from the review as stored (with its submission's events);
    /// the answer is kept as [`Self::create_once`] keeps it, in the review's own transaction.
    ///
    /// # Errors
    /// As [`Self::add_review`], and as [`Self::create_once`] for the key.
    #[tracing::instrument(skip_all, fields(provider = %provider_id, user = %user))]
    pub async fn add_review_once<A>(
        &self,
        request: Option<&IdempotentRequest>,
        user: UserId,
        provider_id: ProviderId,
        input: &NewReview,
        answer: impl FnOnce(&Moderated<StoredReview>) -> Result<Outcome<A>, ServiceError>,
    ) -> Result<Answered<A>, ServiceError> {
        let Some(request) = request else {
            let added = self.add_review(user, provider_id, input).await?;
            return answer(&added).map(|outcome| Answered::Fresh(outcome.into_answer()));
        };
        let token = match self.claim(request).await? {
            Ok(token) => token,
            Err(stored) => return Ok(Answered::Replayed(stored)),
        };
        let written = async {
            // A new review is stored as its submission says, at `Revision::FIRST` (every
            // store's contract), so its answer is known before it is stored, and is stored
            // with it.
            let (submission, added) = self.new_review(user, provider_id, input).await?;
            let outcome = answer(&added)?;
            match &outcome {
                Outcome::Keep { stored, .. } => {
                    let completion = self.completion(request, token, stored);
                    self.reviews.add_completing(&submission, &completion).await
                }
                Outcome::Discard(_) => self.reviews.add(&submission).await,
            }
            .map_err(review_conflict)?;
            Ok(outcome)
        }
        .await;
        self.settle(request, token, written).await
    }

    /// The review `user` asks to add, checked and screened (see [`Self::add_review`]), not
    /// stored yet: what to store, and the review as it will be stored.
    async fn new_review(
        &self,
        user: UserId,
        provider_id: ProviderId,
        input: &NewReview,
    ) -> Result<(Submission, Moderated<StoredReview>), ServiceError> {
        let (rating, comment) = check_review(input)?;
        let provider = self.providers.get(provider_id).await?.value;
        if provider.owner == user {
            return Err(ServiceError::Forbidden(
                "owners cannot review their own service provider",
            ));
        }
        let skill_ratings = SkillRating::parse_list(&input.skill_ratings, Some(&provider.skills))?;
        let now = self.now();
        let review = Review {
            id: ReviewId::from_uuid(Uuid::new_v4()),
            provider_id,
            user_id: user,
            rating,
            comment,
            skill_ratings,
            created_at: now,
        };
        let submitted = Moderation::submit(user, review.comment.as_ref(), &self.moderation, now);
        let submission = Submission {
            queued_at: queued_since(None, &submitted.state, now),
            review,
            moderation: submitted.state,
            events: submitted.events,
        };
        let added = Moderated {
            value: StoredReview {
                owner: provider.owner,
                review: submission.review.clone(),
                moderation: submission.moderation.clone(),
                reply: None,
                appeal: None,
                queued_at: submission.queued_at,
                revision: Revision::FIRST,
            },
            events: submission.events.clone(),
        };
        Ok((submission, added))
    }

    /// One page of a provider's published reviews, newest first.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`]; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(provider = %provider_id))]
    pub async fn list_reviews(
        &self,
        provider_id: ProviderId,
        list: &ListRequest,
    ) -> Result<Listed<StoredReview>, ServiceError> {
        let at = list.parse()?;
        let paging = match &at {
            ListAt::Page(page) => Paging::Offset(*page),
            ListAt::Cursor { token, size } => Paging::After {
                key: self.open_cursor(token, |c| c.review_key(provider_id))?,
                size: *size,
            },
        };
        let page = self.reviews.list(provider_id, paging).await?;
        let scope = Cursor::review_scope(provider_id);
        Ok(self.listed(&at, page, None, |last| Cursor {
            position: CursorPosition::after_review(&last.review),
            scope,
        }))
    }

    /// One page of a search.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`]; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all)]
    pub async fn search(
        &self,
        input: &SearchInput,
        options: &SearchOptions,
        list: &ListRequest,
    ) -> Result<Listed<Provider>, ServiceError> {
        // Every fault of the body and the query at once; the cursor is opened only for a
        // valid filter and order, which it must have been made for.
        let mut errors = Vec::new();
        let filter = SearchFilter::parse(input)
            .map_err(|e| errors.extend(e.0))
            .ok();
        let sort = options
            .sort
            .as_deref()
            .map_or(Ok(SearchSort::default()), SearchSort::parse)
            .map_err(|e| errors.push(FieldError::new("sort", e)))
            .ok();
        let at = list.parse().map_err(|e| errors.extend(e.0)).ok();
        let (Some(filter), Some(sort), Some(at)) = (filter, sort, at) else {
            return Err(ValidationError(errors).into());
        };
        let scope = search_scope(&filter);
        let paging = match &at {
            ListAt::Page(page) => Paging::Offset(*page),
            ListAt::Cursor { token, size } => Paging::After {
                key: self.open_cursor(token, |c| c.search_key(&scope, sort))?,
                size: *size,
            },
        };
        let found = self
            .providers
            .search(&filter, sort, paging, options.total)
            .await?;
        Ok(self.listed(&at, found.page, found.total, |last| Cursor {
            position: CursorPosition::Search {
                sort,
                last: SortKey::of(last),
            },
            scope,
        }))
    }

    /// One page of recommendations for a job.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`]; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all)]
    pub async fn recommend(
        &self,
        input: &JobInput,
        page: Page,
    ) -> Result<PageOf<Recommendation>, ServiceError> {
        let job = JobRequest::parse(input)?;
        Ok(self.providers.recommend(&job, page).await?)
    }

    /// Checks the store answers.
    ///
    /// # Errors
    /// [`ServiceError::Unavailable`].
    pub async fn ready(&self) -> Result<(), ServiceError> {
        Ok(self.providers.ping().await?)
    }
}

/// What a review's body says by itself, checked before anything is read: a bad body is 422
/// whether or not the provider or review exists. (Whether each rated skill is one of the
/// provider's can only be checked after.)
pub(crate) fn check_review(input: &NewReview) -> Result<(Rating, Option<Comment>), ServiceError> {
    let rating = Rating::from_f64(input.rating);
    let comment = input.comment.as_deref().map(Comment::new).transpose();
    let entries = SkillRating::parse_list(&input.skill_ratings, None);
    match (rating, comment, entries) {
        (Ok(r), Ok(c), Ok(_)) => Ok((r, c)),
        (r, c, entries) => {
            let mut errors: Vec<provider_domain::FieldError> = [
                r.err().map(|e| ("rating", e)),
                c.err().map(|e| ("comment", e)),
            ]
            .into_iter()
            .flatten()
            .map(|(f, e)| provider_domain::FieldError::new(f, e))
            .collect();
            if let Err(e) = entries {
                errors.extend(e.0);
            }
            Err(ValidationError(errors).into())
        }
    }
}

/// Stores keep microseconds (PostgreSQL's `timestamptz`); cut the rest here so every store
/// returns the same instant and orders reviews alike.
fn truncate_to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let micros = t.nanosecond() / 1_000 * 1_000;
    t.replace_nanosecond(micros).unwrap_or(t)
}

/// A new provider of `owner` from `input`, with a fresh id, created at `created_at` (the
/// service's clock cut to microseconds, [`ProviderService::now`]).
fn new_provider(
    owner: UserId,
    input: &ProviderInput,
    created_at: OffsetDateTime,
) -> Result<Provider, ServiceError> {
    let draft = ProviderDraft::parse(input)?;
    Ok(Provider::new(
        ProviderId::from_uuid(Uuid::new_v4()),
        owner,
        draft,
        created_at,
    ))
}

/// A review store's refusal as the use case says it: its only conflict is a second review.
fn review_conflict(error: RepoError) -> ServiceError {
    match error {
        RepoError::Conflict(_) => {
            ServiceError::Conflict("this user has already reviewed this service provider".into())
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Fingerprint, IdempotencyKey, MockIdempotencyRepository, MockProviderRepository,
        MockReviewRepository, StoredAnswer,
    };
    use provider_domain::ProviderInput;

    fn service(keys: MockIdempotencyRepository) -> ProviderService {
        ProviderService::new(
            Arc::new(MockProviderRepository::new()),
            Arc::new(MockReviewRepository::new()),
            Arc::new(keys),
        )
    }

    fn request() -> IdempotentRequest {
        IdempotentRequest {
            caller: UserId::from_uuid(Uuid::new_v4()),
            key: IdempotencyKey::parse(b"k").expect("key"),
            fingerprint: Fingerprint::of(&[b"request"]),
        }
    }

    /// Keys that hand out every claim, and expect it completed (with `kept`) or released.
    fn claimed(kept: Option<&'static [u8]>) -> MockIdempotencyRepository {
        let mut keys = MockIdempotencyRepository::new();
        keys.expect_claim().returning(|_, _, _| Ok(Claim::Claimed));
        match kept {
            Some(bytes) => {
                keys.expect_complete()
                    .withf(move |_, _, stored, _| stored.as_bytes() == bytes)
                    .times(1)
                    .returning(|_, _, _, _| Ok(()));
                keys.expect_release().never();
            }
            None => {
                keys.expect_complete().never();
                keys.expect_release().times(1).returning(|_, _| Ok(()));
            }
        }
        keys
    }

    #[tokio::test]
    async fn an_outcome_to_keep_completes_the_claim_with_its_stored_form() {
        let answered = service(claimed(Some(b"kept")))
            .once(Some(&request()), || async {
                Ok(Outcome::Keep {
                    answer: 7,
                    stored: StoredAnswer::from_bytes(b"kept".to_vec()),
                })
            })
            .await
            .expect("answered");
        assert_eq!(answered, Answered::Fresh(7));
    }

    #[tokio::test]
    async fn an_outcome_to_discard_or_an_error_gives_the_key_up() {
        let answered = service(claimed(None))
            .once(Some(&request()), || async { Ok(Outcome::Discard(7)) })
            .await
            .expect("answered");
        assert_eq!(answered, Answered::Fresh(7));
        let failed = service(claimed(None))
            .once(Some(&request()), || async {
                Err::<Outcome<i32>, _>(ServiceError::NotFound)
            })
            .await;
        assert!(matches!(failed, Err(ServiceError::NotFound)), "{failed:?}");
    }

    fn created_input() -> ProviderInput {
        ProviderInput {
            name: "Kept Ltd".into(),
            cost_in_pence: 100,
            ..ProviderInput::default()
        }
    }

    #[tokio::test]
    async fn create_once_keeps_its_answer_in_the_create_and_never_after_it() {
        let mut keys = MockIdempotencyRepository::new();
        keys.expect_claim().returning(|_, _, _| Ok(Claim::Claimed));
        keys.expect_complete().never();
        keys.expect_release().never();
        let mut providers = MockProviderRepository::new();
        providers.expect_create().never();
        providers
            .expect_create_completing()
            .withf(|_, completion| completion.answer.as_bytes() == b"kept")
            .times(1)
            .returning(|_, _| Ok(Version::FIRST));
        let service = ProviderService::new(
            Arc::new(providers),
            Arc::new(MockReviewRepository::new()),
            Arc::new(keys),
        );
        let owner = UserId::from_uuid(Uuid::new_v4());
        let answered = service
            .create_once(Some(&request()), owner, &created_input(), |created| {
                assert_eq!(created.version, Version::FIRST);
                Ok(Outcome::Keep {
                    answer: created.value.name.as_str().to_owned(),
                    stored: StoredAnswer::from_bytes(b"kept".to_vec()),
                })
            })
            .await
            .expect("answered");
        assert_eq!(answered, Answered::Fresh("Kept Ltd".to_owned()));
    }

    #[tokio::test]
    async fn create_once_gives_the_key_up_when_its_create_fails() {
        let mut providers = MockProviderRepository::new();
        providers
            .expect_create_completing()
            .times(1)
            .returning(|_, _| Err(RepoError::Unavailable("down".into())));
        let service = ProviderService::new(
            Arc::new(providers),
            Arc::new(MockReviewRepository::new()),
            Arc::new(claimed(None)),
        );
        let failed = service
            .create_once(
                Some(&request()),
                UserId::from_uuid(Uuid::new_v4()),
                &created_input(),
                |_| {
                    Ok(Outcome::Keep {
                        answer: (),
                        stored: StoredAnswer::from_bytes(b"kept".to_vec()),
                    })
                },
            )
            .await;
        assert!(
            matches!(failed, Err(ServiceError::Unavailable(_))),
            "{failed:?}"
        );
    }

    #[tokio::test]
    async fn a_completed_key_replays_its_answer_without_running() {
        let mut keys = MockIdempotencyRepository::new();
        keys.expect_claim()
            .returning(|_, _, _| Ok(Claim::Completed(StoredAnswer::from_bytes(b"old".to_vec()))));
        let run = || -> std::future::Ready<Result<Outcome<i32>, ServiceError>> {
            panic!("a replay runs nothing")
        };
        let answered = service(keys)
            .once(Some(&request()), run)
            .await
            .expect("answered");
        assert_eq!(
            answered,
            Answered::Replayed(StoredAnswer::from_bytes(b"old".to_vec()))
        );
    }
}

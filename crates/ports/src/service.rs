//! The use cases: the driving port the HTTP layer calls.

use crate::{Page, PageOf, ProviderRepository, RepoError, ReviewRepository, ServiceError};
use provider_domain::{
    Comment, JobInput, JobRequest, Provider, ProviderDraft, ProviderId, ProviderInput, Rating,
    Recommendation, Review, ReviewId, SearchFilter, SearchInput, UserId, ValidationError,
};
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

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
}

/// The use cases of the API over a provider store and a review store.
#[derive(Clone)]
pub struct ProviderService {
    providers: Arc<dyn ProviderRepository>,
    reviews: Arc<dyn ReviewRepository>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ProviderService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderService").finish_non_exhaustive()
    }
}

impl ProviderService {
    /// A service over these stores, reading the system clock.
    pub fn new(providers: Arc<dyn ProviderRepository>, reviews: Arc<dyn ReviewRepository>) -> Self {
        Self::with_clock(providers, reviews, Arc::new(SystemClock))
    }

    /// A service over these stores and this clock.
    pub fn with_clock(
        providers: Arc<dyn ProviderRepository>,
        reviews: Arc<dyn ReviewRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            providers,
            reviews,
            clock,
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
    ) -> Result<Provider, ServiceError> {
        let draft = ProviderDraft::parse(input)?;
        let provider = Provider::new(ProviderId::from_uuid(Uuid::new_v4()), owner, draft);
        self.providers.create(&provider).await?;
        Ok(provider)
    }

    /// The provider with this id.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`]; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(provider = %id))]
    pub async fn get(&self, id: ProviderId) -> Result<Provider, ServiceError> {
        Ok(self.providers.get(id).await?)
    }

    /// Replaces the caller's provider.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`]; [`ServiceError::NotFound`] when missing or not the caller's;
    /// [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(provider = %id, owner = %owner))]
    pub async fn replace(
        &self,
        owner: UserId,
        id: ProviderId,
        input: &ProviderInput,
    ) -> Result<Provider, ServiceError> {
        let draft = ProviderDraft::parse(input)?;
        Ok(self.providers.replace(id, owner, &draft).await?)
    }

    /// Deletes the caller's provider with its reviews.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when missing or not the caller's; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(provider = %id, owner = %owner))]
    pub async fn delete(&self, owner: UserId, id: ProviderId) -> Result<(), ServiceError> {
        Ok(self.providers.delete(id, owner).await?)
    }

    /// Adds `user`'s review of a provider.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`]; [`ServiceError::NotFound`] when the provider does not exist;
    /// [`ServiceError::Forbidden`] when `user` owns it (the review store is not touched);
    /// [`ServiceError::Conflict`] when `user` already reviewed it; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(provider = %provider_id, user = %user))]
    pub async fn add_review(
        &self,
        user: UserId,
        provider_id: ProviderId,
        input: &NewReview,
    ) -> Result<Review, ServiceError> {
        let rating = Rating::from_f64(input.rating);
        let comment = input.comment.as_deref().map(Comment::new).transpose();
        let (rating, comment) = match (rating, comment) {
            (Ok(r), Ok(c)) => (r, c),
            (r, c) => {
                let errors = [
                    r.err().map(|e| ("rating", e)),
                    c.err().map(|e| ("comment", e)),
                ]
                .into_iter()
                .flatten()
                .map(|(f, e)| provider_domain::FieldError::new(f, e))
                .collect();
                return Err(ValidationError(errors).into());
            }
        };
        let provider = self.providers.get(provider_id).await?;
        if provider.owner == user {
            return Err(ServiceError::Forbidden(
                "owners cannot review their own service provider",
            ));
        }
        let review = Review {
            id: ReviewId::from_uuid(Uuid::new_v4()),
            provider_id,
            user_id: user,
            rating,
            comment,
            created_at: truncate_to_micros(self.clock.now()),
        };
        match self.reviews.add(&review).await {
            Ok(()) => Ok(review),
            Err(RepoError::Conflict(_)) => Err(ServiceError::Conflict(
                "this user has already reviewed this service provider".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// One page of a provider's reviews, newest first.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`]; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(provider = %provider_id))]
    pub async fn list_reviews(
        &self,
        provider_id: ProviderId,
        page: Page,
    ) -> Result<PageOf<Review>, ServiceError> {
        Ok(self.reviews.list(provider_id, page).await?)
    }

    /// One page of a search.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`]; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all)]
    pub async fn search(
        &self,
        input: &SearchInput,
        page: Page,
    ) -> Result<PageOf<Provider>, ServiceError> {
        let filter = SearchFilter::parse(input)?;
        Ok(self.providers.search(&filter, page).await?)
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

/// Stores keep microseconds (PostgreSQL's `timestamptz`); cut the rest here so every store
/// returns the same instant and orders reviews alike.
fn truncate_to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let micros = t.nanosecond() / 1_000 * 1_000;
    t.replace_nanosecond(micros).unwrap_or(t)
}

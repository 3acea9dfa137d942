//! [`ObservedStore`]: times every repository operation at the port boundary.

use crate::Metrics;
use async_trait::async_trait;
use provider_domain::{
    Event, FiguresDelta, FlagId, JobRequest, Provider, ProviderDraft, ProviderId, Recommendation,
    ReviewId, SearchFilter, SearchSort, SortKey, UserId,
};
use provider_ports::{
    ChangeFeed, Claim, ClaimToken, Completion, FeedPage, Found, IdempotencyRepository,
    IdempotentRequest, Page, PageOf, Paging, ProviderRepository, RepoError, ReviewChange,
    ReviewKey, ReviewRepository, Revision, StoredAnswer, StoredFlag, StoredReview, Submission,
    Version, VersionCheck, Versioned,
};
use std::future::Future;
use std::time::Instant;
use time::OffsetDateTime;
use tracing::Instrument;

/// A store that records the duration of each operation in
/// `store_operation_duration_seconds{operation}` (unless built with [`ObservedStore::traced`]),
/// runs each in a span, and otherwise does exactly what `inner` does.
///
/// The span is at DEBUG level, so that it costs next to nothing unless something wants it: the
/// binary's trace exporter does (when exporting), and so do logs at `RUST_LOG=debug`.
/// One delegating method per trait method; the operation label is the method's name
/// (`review_add`, `review_list` for the review port).
#[derive(Debug, Clone)]
pub struct ObservedStore<S> {
    inner: S,
    metrics: Option<Metrics>,
}

impl<S> ObservedStore<S> {
    /// Wraps `inner`, recording into `metrics`.
    pub fn new(inner: S, metrics: Metrics) -> Self {
        Self {
            inner,
            metrics: Some(metrics),
        }
    }

    /// Wraps `inner` for its spans only: nothing is recorded (metrics turned off, traces
    /// exported).
    pub fn traced(inner: S) -> Self {
        Self {
            inner,
            metrics: None,
        }
    }

    /// Runs `operation` in a span of its own (`store <name>`, exported with the request's trace),
    /// recording its duration under `name` whatever its outcome.
    async fn timed<T>(&self, name: &'static str, operation: impl Future<Output = T>) -> T {
        let span = tracing::debug_span!(
            "store operation",
            otel.name = %format_args!("store {name}"),
            operation = name
        );
        let started = Instant::now();
        let outcome = operation.instrument(span).await;
        if let Some(metrics) = &self.metrics {
            metrics.store_operation(name, started.elapsed());
        }
        outcome
    }
}

#[async_trait]
impl<S: ProviderRepository> ProviderRepository for ObservedStore<S> {
    async fn create(&self, provider: &Provider) -> Result<Version, RepoError> {
        self.timed("create", self.inner.create(provider)).await
    }

    async fn create_completing(
        &self,
        provider: &Provider,
        completion: &Completion,
    ) -> Result<Version, RepoError> {
        self.timed("create", self.inner.create_completing(provider, completion))
            .await
    }

    async fn get(&self, id: ProviderId) -> Result<Versioned<Provider>, RepoError> {
        self.timed("get", self.inner.get(id)).await
    }

    async fn replace(
        &self,
        id: ProviderId,
        owner: UserId,
        draft: &ProviderDraft,
        check: &VersionCheck,
    ) -> Result<Versioned<Provider>, RepoError> {
        self.timed("replace", self.inner.replace(id, owner, draft, check))
            .await
    }

    async fn delete(
        &self,
        id: ProviderId,
        owner: UserId,
        check: &VersionCheck,
    ) -> Result<(), RepoError> {
        self.timed("delete", self.inner.delete(id, owner, check))
            .await
    }

    async fn search(
        &self,
        filter: &SearchFilter,
        sort: SearchSort,
        paging: Paging<SortKey>,
        total: bool,
    ) -> Result<Found<Provider>, RepoError> {
        self.timed("search", self.inner.search(filter, sort, paging, total))
            .await
    }

    async fn recommend(
        &self,
        job: &JobRequest,
        page: Page,
    ) -> Result<PageOf<Recommendation>, RepoError> {
        self.timed("recommend", self.inner.recommend(job, page))
            .await
    }

    async fn ping(&self) -> Result<(), RepoError> {
        self.timed("ping", self.inner.ping()).await
    }
}

#[async_trait]
impl<S: ReviewRepository> ReviewRepository for ObservedStore<S> {
    async fn add(&self, submission: &Submission) -> Result<(), RepoError> {
        self.timed("review_add", self.inner.add(submission)).await
    }

    async fn add_completing(
        &self,
        submission: &Submission,
        completion: &Completion,
    ) -> Result<(), RepoError> {
        self.timed(
            "review_add",
            self.inner.add_completing(submission, completion),
        )
        .await
    }

    async fn list(
        &self,
        provider: ProviderId,
        paging: Paging<ReviewKey>,
    ) -> Result<PageOf<StoredReview>, RepoError> {
        self.timed("review_list", self.inner.list(provider, paging))
            .await
    }

    async fn find(&self, id: ReviewId) -> Result<StoredReview, RepoError> {
        self.timed("review_find", self.inner.find(id)).await
    }

    async fn apply(
        &self,
        id: ReviewId,
        revision: Revision,
        change: &ReviewChange,
    ) -> Result<StoredReview, RepoError> {
        self.timed("review_apply", self.inner.apply(id, revision, change))
            .await
    }

    async fn withdraw(
        &self,
        id: ReviewId,
        revision: Revision,
        event: &Event,
        figures: Option<FiguresDelta>,
    ) -> Result<(), RepoError> {
        self.timed(
            "review_withdraw",
            self.inner.withdraw(id, revision, event, figures),
        )
        .await
    }

    async fn queue(&self, page: Page) -> Result<PageOf<StoredReview>, RepoError> {
        self.timed("moderation_queue", self.inner.queue(page)).await
    }

    async fn queue_size(&self) -> Result<u64, RepoError> {
        self.timed("moderation_queue_size", self.inner.queue_size())
            .await
    }

    async fn history(&self, id: ReviewId) -> Result<Vec<Event>, RepoError> {
        self.timed("review_history", self.inner.history(id)).await
    }

    async fn flag(&self, id: FlagId) -> Result<StoredFlag, RepoError> {
        self.timed("flag_get", self.inner.flag(id)).await
    }
}

#[async_trait]
impl<S: IdempotencyRepository> IdempotencyRepository for ObservedStore<S> {
    async fn claim(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
        now: OffsetDateTime,
    ) -> Result<Claim, RepoError> {
        self.timed("idempotency_claim", self.inner.claim(request, token, now))
            .await
    }

    async fn complete(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
        answer: &StoredAnswer,
        now: OffsetDateTime,
    ) -> Result<(), RepoError> {
        self.timed(
            "idempotency_complete",
            self.inner.complete(request, token, answer, now),
        )
        .await
    }

    async fn release(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
    ) -> Result<(), RepoError> {
        self.timed("idempotency_release", self.inner.release(request, token))
            .await
    }
}

#[async_trait]
impl<S: ChangeFeed> ChangeFeed for ObservedStore<S> {
    async fn events(&self, after: u64, limit: u32) -> Result<FeedPage, RepoError> {
        self.timed("feed_events", self.inner.events(after, limit))
            .await
    }

    async fn purge(&self, before: OffsetDateTime) -> Result<u64, RepoError> {
        self.timed("feed_purge", self.inner.purge(before)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use provider_memory_adapter::MemoryStore;

    #[tokio::test]
    async fn each_operation_is_timed_under_its_name_and_answers_as_the_store_does() {
        let metrics = Metrics::new();
        let store = ObservedStore::new(MemoryStore::new(), metrics.clone());
        store.ping().await.unwrap();
        let missing =
            ProviderRepository::get(&store, ProviderId::from_uuid(uuid::Uuid::nil())).await;
        assert!(matches!(missing, Err(RepoError::NotFound)), "{missing:?}");
        let text = metrics.render();
        let count = |op: &str| {
            let prefix = format!("store_operation_duration_seconds_count{{operation=\"{op}\"}} ");
            text.lines()
                .find_map(|l| l.strip_prefix(&prefix))
                .map(|v| v.parse::<f64>().unwrap())
        };
        assert_eq!(count("ping"), Some(1.0));
        assert_eq!(count("get"), Some(1.0));
        assert_eq!(count("search"), None);
    }
}

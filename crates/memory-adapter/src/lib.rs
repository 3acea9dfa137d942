//! The in-memory store of the Service Provider API: the zero-setup default and the fast test
//! double for the layers above the store.
//!
//! It implements the repository ports with the domain's own filter and orderings, so it is the
//! reference behaviour every other store must match (the contract suite and the differential
//! test check that). All state sits behind one lock, so every operation is atomic. Searches
//! are one linear pass plus a partial sort of the page's prefix: no quadratic work, usable at
//! 100,000 providers. Nothing is persisted.
//!
//! Idempotency records sit behind a lock of their own, with an index by expiry: each claim
//! removes a few expired records from its front, so memory stays bounded without a scan.

use async_trait::async_trait;
use parking_lot::RwLock;
use provider_domain::{
    recommendation_order, Contribution, Event, Figures, FiguresChange, FiguresDelta, FlagId,
    FlagStatus, JobRequest, Provider, ProviderDraft, ProviderId, Recommendation, Review, ReviewId,
    ReviewStatus, SearchFilter, SearchSort, SkillReviews, SortKey, UserId,
};
use provider_ports::idempotency::{RECLAIM_PENDING_AFTER, RETENTION};
use provider_ports::moderation::queue_order;
use provider_ports::{
    review_changes, Change, ChangeEvent, ChangeFeed, ChangeKind, Claim, ClaimToken, Completion,
    FeedPage, Fingerprint, Found, IdempotencyKey, IdempotencyRepository, IdempotentRequest, Page,
    PageOf, Paging, ProviderRepository, ReplyChange, ReplyContent, RepoError, ReviewChange,
    ReviewKey, ReviewRepository, Revision, StoredAnswer, StoredFlag, StoredReview, Submission,
    Total, Version, VersionCheck, Versioned,
};
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use time::OffsetDateTime;

#[derive(Debug, Default)]
struct State {
    providers: HashMap<ProviderId, Provider>,
    /// Each provider's version (see [`Version`]), changed with it under the same lock.
    versions: HashMap<ProviderId, Version>,
    /// Every review, whatever its status.
    reviews: HashMap<ReviewId, StoredReview>,
    /// Each provider's reviews.
    by_provider: HashMap<ProviderId, Vec<ReviewId>>,
    /// Who reviewed whom (one review per user and provider, whatever its status).
    reviewers: HashSet<(ProviderId, UserId)>,
    /// Every flag of a review that is still there.
    flags: HashMap<FlagId, StoredFlag>,
    /// Each review's history, kept after the review is gone.
    history: HashMap<ReviewId, Vec<Event>>,
    /// Each provider's per-skill figures for every key it was ever rated for, the keys of
    /// removed skills included (hidden from the provider until the skill comes back).
    skill_figures: HashMap<ProviderId, SkillReviews>,
    /// The change feed, oldest first: written under the lock of the write it records.
    feed: VecDeque<ChangeEvent>,
    /// The last sequence handed out.
    last_sequence: u64,
    /// The newest sequence the retention purge removed (0: none).
    purged_through: u64,
}

/// Whose key a record is.
type KeyOf = (UserId, IdempotencyKey);

/// One idempotency record: pending while `answer` is `None`.
#[derive(Debug)]
struct Record {
    fingerprint: Fingerprint,
    token: ClaimToken,
    claimed_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    answer: Option<StoredAnswer>,
}

#[derive(Debug, Default)]
struct Keys {
    records: HashMap<KeyOf, Record>,
    /// `(expires_at, key)` of every record, oldest first.
    by_expiry: BTreeSet<(OffsetDateTime, KeyOf)>,
}

/// At most this many expired records are removed per claim: more than one, so that removal
/// outpaces the one record a claim may add.
const EXPIRED_PER_CLAIM: usize = 16;

impl Keys {
    fn remove(&mut self, key: &KeyOf) {
        if let Some(record) = self.records.remove(key) {
            self.by_expiry.remove(&(record.expires_at, key.clone()));
        }
    }

    fn insert(&mut self, key: KeyOf, record: Record) {
        self.remove(&key);
        self.by_expiry.insert((record.expires_at, key.clone()));
        self.records.insert(key, record);
    }

    /// Whether `token` holds a pending claim on `key`.
    fn holds(&self, key: &KeyOf, token: ClaimToken) -> bool {
        self.records
            .get(key)
            .is_some_and(|r| r.token == token && r.answer.is_none())
    }

    /// Keeps `answer` on the pending claim `token` holds on `key`; nothing when it holds none.
    fn complete(
        &mut self,
        key: KeyOf,
        token: ClaimToken,
        answer: &StoredAnswer,
        now: OffsetDateTime,
    ) {
        if self.holds(&key, token) {
            let mut record = self.records.remove(&key).expect("held");
            self.by_expiry.remove(&(record.expires_at, key.clone()));
            record.expires_at = now + RETENTION;
            record.answer = Some(answer.clone());
            self.insert(key, record);
        }
    }

    fn remove_expired(&mut self, now: OffsetDateTime) {
        for _ in 0..EXPIRED_PER_CLAIM {
            match self.by_expiry.first() {
                Some((expires_at, key)) if *expires_at <= now => {
                    let key = key.clone();
                    self.remove(&key);
                }
                _ => break,
            }
        }
    }
}

/// Providers, reviews and idempotency records in process memory, safe to share between
/// threads.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
    keys: parking_lot::Mutex<Keys>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of providers stored.
    pub fn provider_count(&self) -> usize {
        self.state.read().providers.len()
    }
}

/// The page of `matches` in `order` that `paging` asks for: after its key, only the matches
/// `is_after` it are candidates.
fn paged<T, K>(
    mut matches: Vec<T>,
    paging: &Paging<K>,
    order: impl Fn(&T, &T) -> Ordering,
    is_after: impl Fn(&T, &K) -> bool,
) -> PageOf<T> {
    match paging {
        Paging::Offset(page) => page_of(matches, *page, order),
        Paging::After { key, size } => {
            matches.retain(|m| is_after(m, key));
            let first = Page::new(None, Some(i64::from(*size))).expect("a checked page size");
            page_of(matches, first, order)
        }
    }
}

/// The page of `matches` in `order`, sorting only the prefix the page needs.
fn page_of<T>(mut matches: Vec<T>, page: Page, order: impl Fn(&T, &T) -> Ordering) -> PageOf<T> {
    // One more than the page's end tells whether more follow.
    let needed = page.offset() + page.size() as usize + 1;
    if matches.len() > needed {
        matches.select_nth_unstable_by(needed - 1, &order);
        matches.truncate(needed);
    }
    matches.sort_unstable_by(&order);
    page.slice(matches)
}

/// Stores `provider` (see [`ProviderRepository::create`]).
fn create(state: &mut State, provider: &Provider) -> Result<Version, RepoError> {
    if state.providers.contains_key(&provider.id) {
        return Err(RepoError::Conflict(format!(
            "service provider {} already exists",
            provider.id
        )));
    }
    state.providers.insert(provider.id, provider.clone());
    state.versions.insert(provider.id, Version::FIRST);
    state.record(Change::provider(ChangeKind::ProviderCreated, provider.id));
    Ok(Version::FIRST)
}

/// The key `completion` completes, when its token still holds the claim.
fn completion_key(keys: &Keys, completion: &Completion) -> Result<KeyOf, RepoError> {
    let key = (completion.request.caller, completion.request.key.clone());
    if keys.holds(&key, completion.token) {
        Ok(key)
    } else {
        Err(RepoError::Unavailable(
            "the idempotency key's claim was taken over by another request".into(),
        ))
    }
}

#[async_trait]
impl ProviderRepository for MemoryStore {
    async fn create(&self, provider: &Provider) -> Result<Version, RepoError> {
        create(&mut self.state.write(), provider)
    }

    async fn create_completing(
        &self,
        provider: &Provider,
        completion: &Completion,
    ) -> Result<Version, RepoError> {
        // Both locks, state first (as every other holder of both), so that nobody sees the
        // provider without its kept answer or the answer without the provider.
        let mut state = self.state.write();
        let mut keys = self.keys.lock();
        let key = completion_key(&keys, completion)?;
        let version = create(&mut state, provider)?;
        keys.complete(key, completion.token, &completion.answer, completion.now);
        Ok(version)
    }

    async fn get(&self, id: ProviderId) -> Result<Versioned<Provider>, RepoError> {
        let state = self.state.read();
        let value = state
            .providers
            .get(&id)
            .cloned()
            .ok_or(RepoError::NotFound)?;
        Ok(Versioned {
            value,
            version: state.versions.get(&id).copied().unwrap_or(Version::FIRST),
        })
    }

    async fn replace(
        &self,
        id: ProviderId,
        owner: UserId,
        draft: &ProviderDraft,
        check: &VersionCheck,
    ) -> Result<Versioned<Provider>, RepoError> {
        let mut state = self.state.write();
        let State {
            providers,
            versions,
            skill_figures,
            ..
        } = &mut *state;
        let slot = providers
            .get_mut(&id)
            .filter(|p| p.owner == owner)
            .ok_or(RepoError::NotFound)?;
        let version = versions.entry(id).or_insert(Version::FIRST);
        if !check.admits(*version) {
            return Err(RepoError::PreconditionFailed);
        }
        let all = skill_figures.get(&id).cloned().unwrap_or_default();
        *slot = slot
            .clone()
            .replaced(draft.clone())
            .with_skill_figures(&all);
        *version = version.next();
        let replaced = Versioned {
            value: slot.clone(),
            version: *version,
        };
        state.record(Change::provider(ChangeKind::ProviderReplaced, id));
        Ok(replaced)
    }

    async fn delete(
        &self,
        id: ProviderId,
        owner: UserId,
        check: &VersionCheck,
    ) -> Result<(), RepoError> {
        let mut state = self.state.write();
        match state.providers.get(&id) {
            Some(p) if p.owner == owner => {
                let version = state.versions.get(&id).copied().unwrap_or(Version::FIRST);
                if !check.admits(version) {
                    return Err(RepoError::PreconditionFailed);
                }
                state.providers.remove(&id);
                state.versions.remove(&id);
                state.skill_figures.remove(&id);
                for review in state.by_provider.remove(&id).unwrap_or_default() {
                    state.remove_review(review);
                }
                state.record(Change::provider(ChangeKind::ProviderDeleted, id));
                Ok(())
            }
            _ => Err(RepoError::NotFound),
        }
    }

    async fn search(
        &self,
        filter: &SearchFilter,
        sort: SearchSort,
        paging: Paging<SortKey>,
        total: bool,
    ) -> Result<Found<Provider>, RepoError> {
        let state = self.state.read();
        let matches: Vec<&Provider> = state
            .providers
            .values()
            .filter(|p| filter.matches(p))
            .collect();
        let total = total.then(|| Total::counted(matches.len() as u64));
        let found = paged(
            matches,
            &paging,
            |a, b| sort.compare(a, b),
            |p, last| sort.is_after(p, last),
        );
        Ok(Found {
            page: PageOf {
                items: found.items.into_iter().cloned().collect(),
                has_more: found.has_more,
            },
            total,
        })
    }

    async fn recommend(
        &self,
        job: &JobRequest,
        page: Page,
    ) -> Result<PageOf<Recommendation>, RepoError> {
        let state = self.state.read();
        let matches: Vec<Recommendation> = state
            .providers
            .values()
            .filter_map(|p| job.evaluate(p))
            .collect();
        Ok(page_of(matches, page, recommendation_order))
    }

    async fn ping(&self) -> Result<(), RepoError> {
        Ok(())
    }
}

impl State {
    /// Stores a new review as its submission settled it (see [`ReviewRepository::add`]).
    fn add_review(&mut self, submission: &Submission) -> Result<(), RepoError> {
        let review = &submission.review;
        let owner = self
            .providers
            .get(&review.provider_id)
            .ok_or(RepoError::NotFound)?
            .owner;
        if !self.reviewers.insert((review.provider_id, review.user_id)) {
            return Err(RepoError::Conflict(
                "this user has already reviewed this service provider".into(),
            ));
        }
        if submission.moderation.status.counts() {
            let delta =
                FiguresChange::Entered.delta(Contribution::of(review), Contribution::of(review));
            self.change_figures(review.provider_id, &delta);
        }
        self.by_provider
            .entry(review.provider_id)
            .or_default()
            .push(review.id);
        self.history
            .entry(review.id)
            .or_default()
            .extend(submission.events.iter().cloned());
        self.record_review(review.provider_id, review.id, &submission.events);
        self.reviews.insert(
            review.id,
            StoredReview {
                review: review.clone(),
                owner,
                moderation: submission.moderation.clone(),
                reply: None,
                appeal: None,
                queued_at: submission.queued_at,
                revision: Revision::FIRST,
            },
        );
        Ok(())
    }

    /// Appends `change` to the feed.
    fn record(&mut self, change: Change) {
        self.last_sequence += 1;
        self.feed.push_back(ChangeEvent {
            sequence: self.last_sequence,
            at: OffsetDateTime::now_utc(),
            change,
        });
    }

    /// Appends to the feed the changes `events` of review `review` make.
    fn record_review(&mut self, provider: ProviderId, review: ReviewId, events: &[Event]) {
        for kind in review_changes(events) {
            self.record(Change::review(kind, provider, review));
        }
    }

    /// Removes a review with its flags (its history stays).
    fn remove_review(&mut self, id: ReviewId) {
        if let Some(stored) = self.reviews.remove(&id) {
            let review = &stored.review;
            self.reviewers.remove(&(review.provider_id, review.user_id));
            self.flags.retain(|_, flag| flag.review_id != id);
        }
    }

    /// Applies a change of a provider's figures, raising its version.
    fn change_figures(&mut self, provider: ProviderId, delta: &FiguresDelta) {
        let Some(slot) = self.providers.get_mut(&provider) else {
            return;
        };
        let keys = self.skill_figures.entry(provider).or_default();
        let figures = Figures {
            reviews: slot.reviews,
            skill_reviews: std::mem::take(keys),
        }
        .apply(delta);
        slot.reviews = figures.reviews;
        *keys = figures.skill_reviews;
        slot.skill_reviews = keys.visible(&slot.skills);
        let version = self.versions.entry(provider).or_insert(Version::FIRST);
        *version = version.next();
    }

    /// The review `id` at `revision`, with its provider's current owner.
    fn at_revision(&self, id: ReviewId, revision: Revision) -> Result<&StoredReview, RepoError> {
        let stored = self.reviews.get(&id).ok_or(RepoError::NotFound)?;
        if stored.revision == revision {
            Ok(stored)
        } else {
            Err(RepoError::PreconditionFailed)
        }
    }
}

#[async_trait]
impl ReviewRepository for MemoryStore {
    async fn add(&self, submission: &Submission) -> Result<(), RepoError> {
        self.state.write().add_review(submission)
    }

    async fn add_completing(
        &self,
        submission: &Submission,
        completion: &Completion,
    ) -> Result<(), RepoError> {
        // As `create_completing`: both locks, state first.
        let mut state = self.state.write();
        let mut keys = self.keys.lock();
        let key = completion_key(&keys, completion)?;
        state.add_review(submission)?;
        keys.complete(key, completion.token, &completion.answer, completion.now);
        Ok(())
    }

    async fn list(
        &self,
        provider: ProviderId,
        paging: Paging<ReviewKey>,
    ) -> Result<PageOf<StoredReview>, RepoError> {
        let state = self.state.read();
        if !state.providers.contains_key(&provider) {
            return Err(RepoError::NotFound);
        }
        let published: Vec<&StoredReview> = state
            .by_provider
            .get(&provider)
            .into_iter()
            .flatten()
            .filter_map(|id| state.reviews.get(id))
            .filter(|r| r.moderation.status == ReviewStatus::Published)
            .collect();
        let found = paged(
            published,
            &paging,
            |a, b| Review::newest_first(&a.review, &b.review),
            |r, (at, id)| (r.review.created_at, r.review.id) < (*at, *id),
        );
        Ok(PageOf {
            items: found.items.into_iter().cloned().collect(),
            has_more: found.has_more,
        })
    }

    async fn find(&self, id: ReviewId) -> Result<StoredReview, RepoError> {
        self.state
            .read()
            .reviews
            .get(&id)
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn apply(
        &self,
        id: ReviewId,
        revision: Revision,
        change: &ReviewChange,
    ) -> Result<StoredReview, RepoError> {
        let mut state = self.state.write();
        let provider = state.at_revision(id, revision)?.review.provider_id;
        if let Some(delta) = &change.figures {
            state.change_figures(provider, delta);
        }
        if let Some(status) = change.flags_resolved {
            for flag in state.flags.values_mut() {
                if flag.review_id == id && flag.status == FlagStatus::Open {
                    flag.status = status;
                }
            }
        }
        if let Some(flag) = &change.flag {
            state.flags.insert(flag.id, flag.clone());
        }
        state
            .history
            .entry(id)
            .or_default()
            .extend(change.events.iter().cloned());
        state.record_review(provider, id, &change.events);
        let stored = state.reviews.get_mut(&id).ok_or(RepoError::NotFound)?;
        if let Some(content) = &change.content {
            stored.review = content.clone();
        }
        stored.moderation = change.moderation.clone();
        match &change.reply {
            ReplyChange::Keep => {}
            ReplyChange::Set(text) => {
                let created_at = stored.reply.as_ref().map_or(change.at, |r| r.created_at);
                stored.reply = Some(ReplyContent {
                    text: text.clone(),
                    created_at,
                    updated_at: change.at,
                });
            }
            ReplyChange::Remove => stored.reply = None,
        }
        if let Some(appeal) = &change.appeal {
            stored.appeal = Some(appeal.clone());
        }
        stored.queued_at = change.queued_at;
        stored.revision = stored.revision.next();
        Ok(stored.clone())
    }

    async fn withdraw(
        &self,
        id: ReviewId,
        revision: Revision,
        event: &Event,
        figures: Option<FiguresDelta>,
    ) -> Result<(), RepoError> {
        let mut state = self.state.write();
        let provider = state.at_revision(id, revision)?.review.provider_id;
        if let Some(delta) = figures {
            state.change_figures(provider, &delta);
        }
        state.remove_review(id);
        if let Some(ids) = state.by_provider.get_mut(&provider) {
            ids.retain(|r| *r != id);
        }
        state.history.entry(id).or_default().push(event.clone());
        state.record_review(provider, id, std::slice::from_ref(event));
        Ok(())
    }

    async fn queue(&self, page: Page) -> Result<PageOf<StoredReview>, RepoError> {
        let state = self.state.read();
        let waiting: Vec<&StoredReview> = state
            .reviews
            .values()
            .filter(|r| r.queued_at.is_some())
            .collect();
        let found = page_of(waiting, page, |a, b| queue_order(a, b));
        Ok(PageOf {
            items: found.items.into_iter().cloned().collect(),
            has_more: found.has_more,
        })
    }

    async fn queue_size(&self) -> Result<u64, RepoError> {
        let state = self.state.read();
        Ok(state
            .reviews
            .values()
            .filter(|r| r.queued_at.is_some())
            .count() as u64)
    }

    async fn history(&self, id: ReviewId) -> Result<Vec<Event>, RepoError> {
        self.state
            .read()
            .history
            .get(&id)
            .filter(|events| !events.is_empty())
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn flag(&self, id: FlagId) -> Result<StoredFlag, RepoError> {
        self.state
            .read()
            .flags
            .get(&id)
            .cloned()
            .ok_or(RepoError::NotFound)
    }
}

#[async_trait]
impl ChangeFeed for MemoryStore {
    async fn events(&self, after: u64, limit: u32) -> Result<FeedPage, RepoError> {
        let state = self.state.read();
        let start = state.feed.partition_point(|e| e.sequence <= after);
        Ok(FeedPage {
            events: state
                .feed
                .range(start..)
                .take(limit as usize)
                .copied()
                .collect(),
            purged_through: state.purged_through,
        })
    }

    async fn purge(&self, before: OffsetDateTime) -> Result<u64, RepoError> {
        let mut state = self.state.write();
        let mut removed = 0;
        while let Some(event) = state.feed.front().filter(|e| e.at < before).copied() {
            state.feed.pop_front();
            state.purged_through = event.sequence;
            removed += 1;
        }
        Ok(removed)
    }
}

#[async_trait]
impl IdempotencyRepository for MemoryStore {
    async fn claim(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
        now: OffsetDateTime,
    ) -> Result<Claim, RepoError> {
        let mut keys = self.keys.lock();
        keys.remove_expired(now);
        let key = (request.caller, request.key.clone());
        if let Some(record) = keys.records.get(&key) {
            let free = record.expires_at <= now
                || (record.answer.is_none() && record.claimed_at + RECLAIM_PENDING_AFTER <= now);
            if !free {
                return Ok(if record.fingerprint != request.fingerprint {
                    Claim::Mismatch
                } else {
                    match &record.answer {
                        Some(answer) => Claim::Completed(answer.clone()),
                        None => Claim::InFlight,
                    }
                });
            }
        }
        keys.insert(
            key,
            Record {
                fingerprint: request.fingerprint,
                token,
                claimed_at: now,
                expires_at: now + RETENTION,
                answer: None,
            },
        );
        Ok(Claim::Claimed)
    }

    async fn complete(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
        answer: &StoredAnswer,
        now: OffsetDateTime,
    ) -> Result<(), RepoError> {
        self.keys
            .lock()
            .complete((request.caller, request.key.clone()), token, answer, now);
        Ok(())
    }

    async fn release(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
    ) -> Result<(), RepoError> {
        let mut keys = self.keys.lock();
        let key = (request.caller, request.key.clone());
        if keys.holds(&key, token) {
            keys.remove(&key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod contract {
    use super::MemoryStore;
    use provider_ports::contract::Subject;
    use std::sync::Arc;

    async fn fresh() -> Subject {
        let store = Arc::new(MemoryStore::new());
        Subject {
            providers: store.clone(),
            reviews: store.clone(),
            keys: store.clone(),
            feed: store,
            guard: Box::new(()),
        }
    }

    provider_ports::contract_tests!(fresh);
}

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
    recommendation_order, JobRequest, Provider, ProviderDraft, ProviderId, Recommendation, Review,
    SearchFilter, SearchSort, SkillReviews, SortKey, UserId,
};
use provider_ports::idempotency::{RECLAIM_PENDING_AFTER, RETENTION};
use provider_ports::{
    Claim, ClaimToken, Fingerprint, Found, IdempotencyKey, IdempotencyRepository,
    IdempotentRequest, Page, PageOf, Paging, ProviderRepository, RepoError, ReviewKey,
    ReviewRepository, StoredAnswer, Total, Version, VersionCheck, Versioned,
};
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};
use time::OffsetDateTime;

#[derive(Debug, Default)]
struct State {
    providers: HashMap<ProviderId, Provider>,
    /// Each provider's version (see [`Version`]), changed with it under the same lock.
    versions: HashMap<ProviderId, Version>,
    reviews: HashMap<ProviderId, Vec<Review>>,
    reviewers: HashSet<(ProviderId, UserId)>,
    /// Each provider's per-skill figures for every key it was ever rated for, the keys of
    /// removed skills included (hidden from the provider until the skill comes back).
    skill_figures: HashMap<ProviderId, SkillReviews>,
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

#[async_trait]
impl ProviderRepository for MemoryStore {
    async fn create(&self, provider: &Provider) -> Result<Version, RepoError> {
        let mut state = self.state.write();
        if state.providers.contains_key(&provider.id) {
            return Err(RepoError::Conflict(format!(
                "service provider {} already exists",
                provider.id
            )));
        }
        state.providers.insert(provider.id, provider.clone());
        state.versions.insert(provider.id, Version::FIRST);
        Ok(Version::FIRST)
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
        Ok(Versioned {
            value: slot.clone(),
            version: *version,
        })
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
                if let Some(reviews) = state.reviews.remove(&id) {
                    for r in reviews {
                        state.reviewers.remove(&(id, r.user_id));
                    }
                }
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

#[async_trait]
impl ReviewRepository for MemoryStore {
    async fn add(&self, review: &Review) -> Result<(), RepoError> {
        let mut state = self.state.write();
        let State {
            providers,
            versions,
            reviews,
            reviewers,
            skill_figures,
        } = &mut *state;
        let provider = providers
            .get_mut(&review.provider_id)
            .ok_or(RepoError::NotFound)?;
        if !reviewers.insert((review.provider_id, review.user_id)) {
            return Err(RepoError::Conflict(
                "this user has already reviewed this service provider".into(),
            ));
        }
        provider.reviews = provider.reviews.with(review.rating);
        let figures = skill_figures.entry(review.provider_id).or_default();
        *figures = std::mem::take(figures).with(&review.skill_ratings);
        provider.skill_reviews = figures.visible(&provider.skills);
        let version = versions.entry(review.provider_id).or_insert(Version::FIRST);
        *version = version.next();
        reviews
            .entry(review.provider_id)
            .or_default()
            .push(review.clone());
        Ok(())
    }

    async fn list(
        &self,
        provider: ProviderId,
        paging: Paging<ReviewKey>,
    ) -> Result<PageOf<Review>, RepoError> {
        let state = self.state.read();
        if !state.providers.contains_key(&provider) {
            return Err(RepoError::NotFound);
        }
        let reviews: Vec<Review> = state.reviews.get(&provider).cloned().unwrap_or_default();
        Ok(paged(
            reviews,
            &paging,
            Review::newest_first,
            |r, (at, id)| (r.created_at, r.id) < (*at, *id),
        ))
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
        let mut keys = self.keys.lock();
        let key = (request.caller, request.key.clone());
        let held = keys
            .records
            .get(&key)
            .is_some_and(|r| r.token == token && r.answer.is_none());
        if held {
            let mut record = keys.records.remove(&key).expect("held");
            keys.by_expiry.remove(&(record.expires_at, key.clone()));
            record.expires_at = now + RETENTION;
            record.answer = Some(answer.clone());
            keys.insert(key, record);
        }
        Ok(())
    }

    async fn release(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
    ) -> Result<(), RepoError> {
        let mut keys = self.keys.lock();
        let key = (request.caller, request.key.clone());
        let held = keys
            .records
            .get(&key)
            .is_some_and(|r| r.token == token && r.answer.is_none());
        if held {
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
            keys: store,
            guard: Box::new(()),
        }
    }

    provider_ports::contract_tests!(fresh);
}

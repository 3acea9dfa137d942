//! The in-memory store of the Service Provider API: the zero-setup default and the fast test
//! double for the layers above the store.
//!
//! It implements the repository ports with the domain's own filter and orderings, so it is the
//! reference behaviour every other store must match (the contract suite and the differential
//! test check that). All state sits behind one lock, so every operation is atomic. Searches
//! are one linear pass plus a partial sort of the page's prefix: no quadratic work, usable at
//! 100,000 providers. Nothing is persisted.

use async_trait::async_trait;
use parking_lot::RwLock;
use provider_domain::{
    recommendation_order, search_order, JobRequest, Provider, ProviderDraft, ProviderId,
    Recommendation, Review, SearchFilter, UserId,
};
use provider_ports::{Page, PageOf, ProviderRepository, RepoError, ReviewRepository};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Default)]
struct State {
    providers: HashMap<ProviderId, Provider>,
    reviews: HashMap<ProviderId, Vec<Review>>,
    reviewers: HashSet<(ProviderId, UserId)>,
}

/// Providers and reviews in process memory, safe to share between threads.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
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
    async fn create(&self, provider: &Provider) -> Result<(), RepoError> {
        let mut state = self.state.write();
        if state.providers.contains_key(&provider.id) {
            return Err(RepoError::Conflict(format!(
                "service provider {} already exists",
                provider.id
            )));
        }
        state.providers.insert(provider.id, provider.clone());
        Ok(())
    }

    async fn get(&self, id: ProviderId) -> Result<Provider, RepoError> {
        self.state
            .read()
            .providers
            .get(&id)
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn replace(
        &self,
        id: ProviderId,
        owner: UserId,
        draft: &ProviderDraft,
    ) -> Result<Provider, RepoError> {
        let mut state = self.state.write();
        let slot = state
            .providers
            .get_mut(&id)
            .filter(|p| p.owner == owner)
            .ok_or(RepoError::NotFound)?;
        *slot = slot.clone().replaced(draft.clone());
        Ok(slot.clone())
    }

    async fn delete(&self, id: ProviderId, owner: UserId) -> Result<(), RepoError> {
        let mut state = self.state.write();
        match state.providers.get(&id) {
            Some(p) if p.owner == owner => {
                state.providers.remove(&id);
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
        page: Page,
    ) -> Result<PageOf<Provider>, RepoError> {
        let state = self.state.read();
        let matches: Vec<&Provider> = state
            .providers
            .values()
            .filter(|p| filter.matches(p))
            .collect();
        let found = page_of(matches, page, |a, b| search_order(a, b));
        Ok(PageOf {
            items: found.items.into_iter().cloned().collect(),
            has_more: found.has_more,
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
            reviews,
            reviewers,
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
        reviews
            .entry(review.provider_id)
            .or_default()
            .push(review.clone());
        Ok(())
    }

    async fn list(&self, provider: ProviderId, page: Page) -> Result<PageOf<Review>, RepoError> {
        let state = self.state.read();
        if !state.providers.contains_key(&provider) {
            return Err(RepoError::NotFound);
        }
        let reviews: Vec<Review> = state.reviews.get(&provider).cloned().unwrap_or_default();
        Ok(page_of(reviews, page, Review::newest_first))
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
            reviews: store,
            guard: Box::new(()),
        }
    }

    provider_ports::contract_tests!(fresh);
}

#![doc = include_str!("../README.md")]
// Every public item says what it is: `make lint` (clippy with -D warnings) holds it to that.
#![warn(missing_docs)]

mod model;

use async_trait::async_trait;
use model::Model;
use parking_lot::{Mutex, RwLock};
use provider_domain::{
    JobRequest, Provider, ProviderDraft, ProviderId, Recommendation, SearchFilter, SearchSort,
    SortKey, UserId,
};
use provider_ports::{
    read_consistency, CatchUp, Completion, Found, ModelSource, Page, PageOf, Paging,
    ProviderRepository, ReadConsistency, RepoError, Version, VersionCheck, Versioned,
};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};

/// How a [`ReadModel`] keeps up and how stale it may answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSettings {
    /// How old the model's data may be for a read that accepts bounded staleness (an
    /// anonymous caller's): zero makes every read wait for the store's position.
    pub max_lag: Duration,
    /// Longest a read waits for the model to catch up before it goes to the store instead.
    pub wait: Duration,
    /// How often the model catches up when no read asks it to: a round begins this long
    /// after the previous one began (at once when that one took longer), so that under a
    /// stream of writes the model is at most about this plus one round behind.
    pub poll_every: Duration,
    /// How long catch-ups may keep failing before the model is dropped and loaded anew from a
    /// snapshot: a backlog too large for one catch-up within the statement timeout (a
    /// process paused for minutes under heavy writes) would otherwise leave it stale for
    /// good.
    pub rebuild_after: Duration,
}

impl Default for ModelSettings {
    fn default() -> Self {
        Self {
            max_lag: Duration::ZERO,
            wait: Duration::from_millis(500),
            poll_every: Duration::from_millis(20),
            rebuild_after: Duration::from_secs(30),
        }
    }
}

/// Where a [`ReadModel`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelState {
    /// Loading its first snapshot: reads go to the store.
    Loading,
    /// Current: reads are answered from memory once it has caught up with them.
    Ready,
    /// Its last catch-up failed (the store is unreachable): reads go to the store until one
    /// succeeds.
    Stale,
    /// Loading a new snapshot after it fell behind the store's feed, or after its catch-ups
    /// kept failing for [`ModelSettings::rebuild_after`]: reads go to the store.
    Rebuilding,
}

impl ModelState {
    /// The state's name in metrics and readiness.
    pub fn name(self) -> &'static str {
        match self {
            Self::Loading => "loading",
            Self::Ready => "ready",
            Self::Stale => "stale",
            Self::Rebuilding => "rebuilding",
        }
    }

    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(code: u8) -> Self {
        match code {
            0 => Self::Loading,
            1 => Self::Ready,
            2 => Self::Stale,
            _ => Self::Rebuilding,
        }
    }
}

/// A [`ReadModel`]'s figures at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelFigures {
    /// Its state.
    pub state: ModelState,
    /// Providers held.
    pub providers: usize,
    /// How old the newest position it holds is (since the catch-up that reached it began);
    /// `None` before the first load.
    pub lag: Option<Duration>,
    /// Reads answered from memory since the start.
    pub served_by_model: u64,
    /// Reads sent to the store since the start (the model was not ready, or did not catch up
    /// in time).
    pub served_by_store: u64,
    /// Snapshots loaded after the first.
    pub rebuilds: u64,
    /// How long the last snapshot took to load.
    pub last_load: Option<Duration>,
}

struct Shared {
    model: RwLock<Option<Model>>,
    state: AtomicU8,
    /// Catch-up rounds begun (a load counts as one).
    started: AtomicU64,
    /// The last round applied.
    completed: watch::Sender<u64>,
    wake: Notify,
    /// When the round the model holds began.
    caught_at: Mutex<Option<Instant>>,
    settings: ModelSettings,
    served_by_model: AtomicU64,
    served_by_store: AtomicU64,
    rebuilds: AtomicU64,
    last_load: Mutex<Option<Duration>>,
}

impl Shared {
    fn figures(&self) -> ModelFigures {
        ModelFigures {
            state: self.state(),
            providers: self.model.read().as_ref().map_or(0, Model::len),
            lag: self.caught_at.lock().map(|at| at.elapsed()),
            served_by_model: self.served_by_model.load(Ordering::Relaxed),
            served_by_store: self.served_by_store.load(Ordering::Relaxed),
            rebuilds: self.rebuilds.load(Ordering::Relaxed),
            last_load: *self.last_load.lock(),
        }
    }

    fn state(&self) -> ModelState {
        ModelState::from_code(self.state.load(Ordering::Acquire))
    }

    fn set_state(&self, state: ModelState) {
        self.state.store(state.code(), Ordering::Release);
    }

    /// Drops the model to load a new one (reads go to the store meanwhile; one model in
    /// memory at a time).
    fn drop_for_rebuild(&self) {
        self.set_state(ModelState::Rebuilding);
        *self.model.write() = None;
        self.rebuilds.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether the model may answer a read that begins now: it is ready and holds every write
    /// acknowledged before now (it caught up in a round begun after this call), or is recent
    /// enough for a read that accepts staleness. Waits at most `settings.wait`.
    async fn fresh(&self) -> bool {
        if self.state() != ModelState::Ready {
            return false;
        }
        if read_consistency() == ReadConsistency::BoundedStaleness
            && !self.settings.max_lag.is_zero()
            && self
                .caught_at
                .lock()
                .is_some_and(|at| at.elapsed() <= self.settings.max_lag)
        {
            return true;
        }
        // Any round begun after this point reads a position taken after it. Concurrent reads
        // share rounds: one position query per batch of reads, not per read.
        let needed = self.started.load(Ordering::SeqCst) + 1;
        let mut completed = self.completed.subscribe();
        self.wake.notify_one();
        matches!(
            tokio::time::timeout(self.settings.wait, completed.wait_for(|c| *c >= needed)).await,
            Ok(Ok(_))
        ) && self.state() == ModelState::Ready
    }
}

/// A [`ProviderRepository`] answering `get`, `search` and `recommend` from an in-process
/// model of the providers, kept exact from `S` (the store that holds the truth and takes every
/// write); everything else, and every read the model cannot answer fresh, goes to `S`.
///
/// Built by [`ReadModel::start`], which loads the model and follows the store in a task of its
/// own, on the current Tokio runtime, until the `ReadModel` is dropped.
pub struct ReadModel<S> {
    store: Arc<S>,
    shared: Arc<Shared>,
}

impl<S> std::fmt::Debug for ReadModel<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadModel")
            .field("state", &self.shared.state())
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

impl<S> ReadModel<S>
where
    S: ProviderRepository + ModelSource + 'static,
{
    /// Starts loading the model from `store` and following it.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn start(store: Arc<S>, settings: ModelSettings) -> Self {
        let shared = Arc::new(Shared {
            model: RwLock::new(None),
            state: AtomicU8::new(ModelState::Loading.code()),
            started: AtomicU64::new(0),
            completed: watch::Sender::new(0),
            wake: Notify::new(),
            caught_at: Mutex::new(None),
            settings,
            served_by_model: AtomicU64::new(0),
            served_by_store: AtomicU64::new(0),
            rebuilds: AtomicU64::new(0),
            last_load: Mutex::new(None),
        });
        tokio::spawn(follow(store.clone(), Arc::downgrade(&shared)));
        Self { store, shared }
    }
}

impl<S> ReadModel<S> {
    /// Its state now.
    pub fn state(&self) -> ModelState {
        self.shared.state()
    }

    /// Its figures now.
    pub fn figures(&self) -> ModelFigures {
        self.shared.figures()
    }

    /// A handle that reads [`Self::figures`] and [`Self::state`] without keeping the model
    /// alive (for metrics and readiness probes).
    pub fn probe(&self) -> ModelProbe {
        ModelProbe(Arc::downgrade(&self.shared))
    }

    /// Waits until the model is [`ModelState::Ready`], at most `limit`; whether it is.
    pub async fn until_ready(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.state() != ModelState::Ready {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// `answer` from the model when it is fresh for this read, else `None` (the read goes to
    /// the store); counted either way.
    async fn answered_by_model<T>(&self, answer: impl FnOnce(&Model) -> T) -> Option<T> {
        let answered = if self.shared.fresh().await {
            self.shared.model.read().as_ref().map(answer)
        } else {
            None
        };
        let counter = if answered.is_some() {
            &self.shared.served_by_model
        } else {
            &self.shared.served_by_store
        };
        counter.fetch_add(1, Ordering::Relaxed);
        answered
    }
}

/// Reads a [`ReadModel`]'s figures while it lives.
#[derive(Debug, Clone)]
pub struct ModelProbe(Weak<Shared>);

impl ModelProbe {
    /// The model's figures, `None` once it is gone.
    pub fn figures(&self) -> Option<ModelFigures> {
        Some(self.0.upgrade()?.figures())
    }
}

/// Loads the model, then catches up in rounds (asked for by reads, else `poll_every` after the
/// previous round began), until the model's owner is gone. A feed purged past the model's position
/// makes it load again; a failed round leaves the model stale (reads go to the store) until
/// one succeeds, or until they have failed for `rebuild_after`, when it loads again.
async fn follow<S: ModelSource>(store: Arc<S>, shared: Weak<Shared>) {
    let mut position = None;
    let mut last_began = Instant::now();
    // When the current run of failed catch-ups began.
    let mut failing_since: Option<Instant> = None;
    while let Some(shared) = shared.upgrade() {
        let Some(from) = position.clone() else {
            let round = shared.started.fetch_add(1, Ordering::SeqCst) + 1;
            let began = Instant::now();
            // Rows are decoded here while a thread of its own stages them and then builds the
            // indexes: the database, the decoding and the building overlap.
            let (batches, staged) = std::sync::mpsc::channel::<Vec<Versioned<Provider>>>();
            let builder = tokio::task::spawn_blocking(move || {
                let mut model = Model::default();
                for batch in staged {
                    for state in batch {
                        model.stage(state);
                    }
                }
                model.index_all();
                model
            });
            let taken = store
                .snapshot(&mut |batch| {
                    // The builder ends only when this sender is dropped.
                    let _ = batches.send(batch);
                })
                .await;
            drop(batches);
            let loaded = match (taken, builder.await) {
                (Ok(at), Ok(model)) => Ok((at, model)),
                (Err(error), _) => Err(error.to_string()),
                (_, Err(error)) => Err(error.to_string()),
            };
            match loaded {
                Ok((at, model)) => {
                    let took = began.elapsed();
                    tracing::info!(
                        providers = model.len(),
                        seconds = took.as_secs_f64(),
                        "read model loaded"
                    );
                    *shared.model.write() = Some(model);
                    *shared.caught_at.lock() = Some(began);
                    *shared.last_load.lock() = Some(took);
                    shared.set_state(ModelState::Ready);
                    shared.completed.send_replace(round);
                    position = Some(at);
                }
                Err(error) => {
                    tracing::warn!(%error, "read model: loading failed; retrying in a second");
                    drop(shared);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            continue;
        };
        tokio::select! {
            () = shared.wake.notified() => {}
            () = tokio::time::sleep_until((last_began + shared.settings.poll_every).into()) => {}
        }
        let round = shared.started.fetch_add(1, Ordering::SeqCst) + 1;
        let began = Instant::now();
        last_began = began;
        match store.catch_up(&from).await {
            Ok(CatchUp::Caught(caught)) => {
                failing_since = None;
                if let Some(model) = shared.model.write().as_mut() {
                    for (id, state) in caught.changed {
                        model.apply(id, state);
                    }
                }
                *shared.caught_at.lock() = Some(began);
                position = Some(caught.position);
                if shared.state() == ModelState::Stale {
                    tracing::info!("read model: caught up again");
                }
                shared.set_state(ModelState::Ready);
                shared.completed.send_replace(round);
            }
            Ok(CatchUp::Behind) => {
                tracing::warn!(
                    "read model: the change feed was purged past its position; loading anew"
                );
                shared.drop_for_rebuild();
                position = None;
            }
            Err(error)
                if failing_since.is_some_and(|s| s.elapsed() >= shared.settings.rebuild_after) =>
            {
                tracing::warn!(
                    %error,
                    "read model: catching up has failed for {:?}; loading anew",
                    shared.settings.rebuild_after
                );
                shared.drop_for_rebuild();
                position = None;
                failing_since = None;
            }
            Err(error) => {
                failing_since.get_or_insert(began);
                if shared.state() != ModelState::Stale {
                    tracing::warn!(%error, "read model: catching up failed; reads go to the store");
                }
                shared.set_state(ModelState::Stale);
                drop(shared);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[async_trait]
impl<S> ProviderRepository for ReadModel<S>
where
    S: ProviderRepository + 'static,
{
    async fn create(&self, provider: &Provider) -> Result<Version, RepoError> {
        self.store.create(provider).await
    }

    async fn create_completing(
        &self,
        provider: &Provider,
        completion: &Completion,
    ) -> Result<Version, RepoError> {
        self.store.create_completing(provider, completion).await
    }

    async fn get(&self, id: ProviderId) -> Result<Versioned<Provider>, RepoError> {
        match self.answered_by_model(|model| model.get(id)).await {
            Some(found) => found.ok_or(RepoError::NotFound),
            None => self.store.get(id).await,
        }
    }

    async fn replace(
        &self,
        id: ProviderId,
        owner: UserId,
        draft: &ProviderDraft,
        check: &VersionCheck,
    ) -> Result<Versioned<Provider>, RepoError> {
        self.store.replace(id, owner, draft, check).await
    }

    async fn delete(
        &self,
        id: ProviderId,
        owner: UserId,
        check: &VersionCheck,
    ) -> Result<(), RepoError> {
        self.store.delete(id, owner, check).await
    }

    async fn search(
        &self,
        filter: &SearchFilter,
        sort: SearchSort,
        paging: Paging<SortKey>,
        total: bool,
    ) -> Result<Found<Provider>, RepoError> {
        match self
            .answered_by_model(|model| model.search(filter, sort, &paging, total))
            .await
        {
            Some(found) => Ok(found),
            None => self.store.search(filter, sort, paging, total).await,
        }
    }

    async fn recommend(
        &self,
        job: &JobRequest,
        page: Page,
    ) -> Result<PageOf<Recommendation>, RepoError> {
        match self
            .answered_by_model(|model| model.recommend(job, page))
            .await
        {
            Some(found) => Ok(found),
            None => self.store.recommend(job, page).await,
        }
    }

    async fn ping(&self) -> Result<(), RepoError> {
        self.store.ping().await
    }
}

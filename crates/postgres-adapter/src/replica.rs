//! Read routing: whether a read goes to the read replica or to the primary ([`Reads`] and
//! [`routed_read!`]), the second pool over a streaming replica ([`crate::PgConfig::read_url`])
//! and the monitor that keeps track of how far behind the primary it is. Writes never come
//! here.
//!
//! A read uses the replica when it is fresh enough for the read's [`ReadConsistency`].
//! Freshness is measured in the primary's WAL positions, not in the replica's replay
//! timestamps (which stand still whenever the primary is idle): every tick the monitor notes
//! the primary's position and the time it was read, then the replica's replay position. The
//! replica has everything the primary had at the latest noted time whose position it has
//! replayed; that time is how old its data may be, and an anonymous read may use it when that
//! is within the lag bound. An identified read needs every acknowledged write: it reads the
//! primary's position now and waits (briefly) until the replica has replayed that far, else
//! it reads the primary. Those position reads are coalesced ([`position`]): one query serves
//! every identified read that arrived before it was sent.

mod position;

use crate::error::{pool_error, repo_error};
use crate::{pool, PgConfig, PgError};
use deadpool::managed::{TimeoutType, Timeouts};
use diesel::dsl::sql;
use diesel::sql_types::{BigInt, Nullable};
use diesel::QueryResult;
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::AsyncPgConnection;
use position::{Answer, Positions};
use provider_ports::{ReadConsistency, RepoError};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Longest an identified read waits for the replica to replay up to the primary's position
/// before it reads the primary instead. Streaming replicas on a healthy network are a few
/// milliseconds behind; a replica further behind than this serves the primary's load better
/// by not holding requests.
const READ_YOUR_WRITES_WAIT: Duration = Duration::from_millis(100);

/// Longest a read waits for a free replica connection: a busy replica pool sends the read to
/// the primary rather than queueing it.
const REPLICA_CHECKOUT_WAIT: Duration = Duration::from_millis(50);

/// The state of the replica, as readiness and the metrics report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaHealth {
    /// Answering and within the lag bound: anonymous reads use it.
    Ok,
    /// Answering but further behind than the lag bound: reads go to the primary.
    Lagging,
    /// Not answering, or not a standby: reads go to the primary.
    Down,
}

/// Where reads have been served from, and the replica's lag (what the metrics export).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadFigures {
    /// Reads served by the primary since the start.
    pub primary: u64,
    /// Reads served by the replica since the start.
    pub replica: u64,
    /// How old the replica's data may be now (time since the latest moment of the primary it
    /// is known to have), or `None` when it never caught up or is down.
    pub replica_lag: Option<Duration>,
    /// Its state.
    pub health: ReplicaHealth,
    /// Queries of the primary's WAL position made for identified reads since the start (one
    /// serves every identified read that arrived before it was sent; the monitor's own are
    /// not counted).
    pub position_queries: u64,
}

/// Which database served a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Primary,
    Replica,
}

/// Where reads go: the primary's pool, and the read replica when reads are routed
/// ([`PgConfig::read_url`]). Cheap to clone: clones share the pools and the replica's state.
#[derive(Clone)]
pub(crate) struct Reads {
    primary: Pool<AsyncPgConnection>,
    replica: Option<Arc<Replica>>,
}

impl std::fmt::Debug for Reads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.replica.fmt(f)
    }
}

impl Reads {
    /// Reads over `primary`, and over a pool on `config.read_url` when it is set: a replica
    /// watched by a task started on the current Tokio runtime, which ends with the last clone.
    ///
    /// # Errors
    /// [`PgError::Config`] for a malformed replica URL, or a replica outside a Tokio runtime;
    /// [`PgError::Pool`] if its pool cannot be built.
    pub(crate) fn new(
        primary: Pool<AsyncPgConnection>,
        config: &PgConfig,
    ) -> Result<Self, PgError> {
        let replica = match &config.read_url {
            None => None,
            Some(read_url) => {
                let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
                    PgError::Config(
                        "a read replica is watched by a task: build the store inside a Tokio \
                         runtime"
                            .into(),
                    )
                })?;
                Some(Replica::start(
                    pool::build(read_url, config)?,
                    primary.clone(),
                    config.max_replica_lag,
                    config.acquire_timeout,
                    &runtime,
                ))
            }
        };
        Ok(Self { primary, replica })
    }

    /// A replica connection for a read of the current task's
    /// [`provider_ports::read_consistency`], when reads are routed and the replica is fit for
    /// it; what [`routed_read!`] reads from before the primary.
    pub(crate) async fn replica_conn(
        &self,
    ) -> Result<Option<(&Replica, Object<AsyncPgConnection>)>, RepoError> {
        let Some(replica) = self.replica.as_deref() else {
            return Ok(None);
        };
        let consistency = provider_ports::read_consistency();
        Ok(replica
            .connection(consistency)
            .await?
            .map(|conn| (replica, conn)))
    }

    /// A primary connection, for a read the replica does not serve.
    pub(crate) async fn primary_conn(&self) -> Result<Object<AsyncPgConnection>, RepoError> {
        self.primary.get().await.map_err(pool_error)
    }

    /// Counts a read the primary served (when reads are routed).
    pub(crate) fn served_by_primary(&self) {
        if let Some(replica) = &self.replica {
            replica.served(Target::Primary);
        }
    }

    /// The read replica's state, when reads are routed to one.
    pub(crate) fn replica_health(&self) -> Option<ReplicaHealth> {
        self.replica.as_deref().map(Replica::health)
    }

    /// Reads per target and the replica's lag, when reads are routed to a replica.
    pub(crate) fn figures(&self) -> Option<ReadFigures> {
        self.replica.as_deref().map(Replica::figures)
    }
}

/// A read routed by `$reads` (a [`Reads`]): `$body`, an expression over the connection `$conn`
/// giving a `Result<_, RepoError>`, run on the read replica when there is one fit for the
/// current task's [`provider_ports::read_consistency`], else on the primary. A read that fails
/// on the replica for any reason but its answer (the replica went away, a recovery conflict
/// cancelled it) runs again on the primary: reads change nothing, and a replica is never a
/// reason to fail. `routed_read!(reads, |conn| body)` is a future of the body's result, not
/// bounded in time (the store bounds it).
///
/// A macro, not a method taking an async closure: the futures of a generic async closure
/// cannot be proven `Send` for every lifetime of the connection they borrow, which the ports'
/// `async_trait` methods require.
macro_rules! routed_read {
    ($reads:expr, |$conn:ident| $body:expr) => {
        async {
            let reads: &$crate::replica::Reads = $reads;
            if let Some((replica, mut lent)) = reads.replica_conn().await? {
                let $conn: &mut diesel_async::AsyncPgConnection = &mut lent;
                match async { $body }.await {
                    Err(
                        provider_ports::RepoError::Unavailable(error)
                        | provider_ports::RepoError::Unexpected(error),
                    ) => {
                        // Not marked down for one failure: a connection that cannot be
                        // made does that, and the monitor in any case.
                        tracing::debug!(%error, "a read failed on the replica: the primary answers");
                    }
                    answer => {
                        replica.served($crate::replica::Target::Replica);
                        return answer;
                    }
                }
            }
            let mut lent = reads.primary_conn().await?;
            let $conn: &mut diesel_async::AsyncPgConnection = &mut lent;
            let answer = async { $body }.await;
            reads.served_by_primary();
            answer
        }
    };
}
pub(crate) use routed_read;

/// The replica's pool and what is known about it. Shared by the store's clones and watched by
/// one monitor task, which ends when the last clone is dropped.
pub(crate) struct Replica {
    pool: Pool<AsyncPgConnection>,
    /// The primary's position for identified reads.
    positions: Positions,
    max_lag: Duration,
    /// Bound on each of the monitor's queries, and on creating a replica connection.
    probe_timeout: Duration,
    epoch: Instant,
    up: AtomicBool,
    /// Milliseconds after `epoch`, plus one, of the latest moment of the primary the replica
    /// is known to have replayed; 0: none yet.
    fresh_as_of: AtomicU64,
    reads_primary: AtomicU64,
    reads_replica: AtomicU64,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("pool", &self.pool.status())
            .field("max_lag", &self.max_lag)
            .field("health", &self.health())
            .finish_non_exhaustive()
    }
}

impl Replica {
    /// The replica over `pool`, and its monitor, started on the current Tokio runtime, which
    /// compares it with `primary` every tick.
    pub(crate) fn start(
        pool: Pool<AsyncPgConnection>,
        primary: Pool<AsyncPgConnection>,
        max_lag: Duration,
        probe_timeout: Duration,
        runtime: &tokio::runtime::Handle,
    ) -> Arc<Self> {
        let for_positions = primary.clone();
        let query: position::Query = Arc::new(move || {
            let primary = for_positions.clone();
            Box::pin(async move {
                Answer::of(
                    async {
                        let mut conn = primary.get().await.map_err(pool_error)?;
                        primary_position(&mut conn).await.map_err(repo_error)
                    }
                    .await,
                )
            })
        });
        let replica = Arc::new(Self {
            pool,
            positions: Positions::new(query, runtime.clone()),
            max_lag,
            probe_timeout,
            epoch: Instant::now(),
            up: AtomicBool::new(false),
            fresh_as_of: AtomicU64::new(0),
            reads_primary: AtomicU64::new(0),
            reads_replica: AtomicU64::new(0),
        });
        runtime.spawn(monitor(Arc::downgrade(&replica), primary, tick(max_lag)));
        replica
    }

    /// A replica connection fit for a read of `consistency`, or `None`: read the primary.
    ///
    /// # Errors
    /// Only for an identified read whose primary position cannot be read (the primary is
    /// unavailable: so would the read be).
    pub(crate) async fn connection(
        &self,
        consistency: ReadConsistency,
    ) -> Result<Option<Object<AsyncPgConnection>>, RepoError> {
        // A lagging replica is skipped by every read: an identified one would only wait for
        // it in vain.
        if !self.fresh() {
            return Ok(None);
        }
        match consistency {
            ReadConsistency::BoundedStaleness => Ok(self.checkout().await),
            ReadConsistency::ReadYourWrites => {
                let target = self.positions.read().await?;
                let Some(mut conn) = self.checkout().await else {
                    return Ok(None);
                };
                Ok(wait_for(&mut conn, target).await.then_some(conn))
            }
        }
    }

    /// Counts a read served by `target`.
    pub(crate) fn served(&self, target: Target) {
        let counter = match target {
            Target::Primary => &self.reads_primary,
            Target::Replica => &self.reads_replica,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The state now.
    pub(crate) fn health(&self) -> ReplicaHealth {
        if !self.up.load(Ordering::Acquire) {
            ReplicaHealth::Down
        } else if self.fresh() {
            ReplicaHealth::Ok
        } else {
            ReplicaHealth::Lagging
        }
    }

    /// The figures now.
    pub(crate) fn figures(&self) -> ReadFigures {
        let health = self.health();
        ReadFigures {
            primary: self.reads_primary.load(Ordering::Relaxed),
            replica: self.reads_replica.load(Ordering::Relaxed),
            replica_lag: (health != ReplicaHealth::Down)
                .then(|| self.age())
                .flatten(),
            health,
            position_queries: self.positions.queries(),
        }
    }

    /// How old the replica's data may be: the time since the latest moment of the primary it
    /// is known to have.
    fn age(&self) -> Option<Duration> {
        let fresh_as_of = self.fresh_as_of.load(Ordering::Acquire).checked_sub(1)?;
        let now = self.epoch.elapsed();
        Some(now.saturating_sub(Duration::from_millis(fresh_as_of)))
    }

    /// Up, and its data no older than the lag bound.
    fn fresh(&self) -> bool {
        self.up.load(Ordering::Acquire) && self.age().is_some_and(|age| age <= self.max_lag)
    }

    /// A replica connection, or `None` when none is free soon (the read goes to the primary)
    /// or none can be made (the replica is marked down until the monitor sees it answer).
    async fn checkout(&self) -> Option<Object<AsyncPgConnection>> {
        let timeouts = Timeouts {
            wait: Some(REPLICA_CHECKOUT_WAIT),
            create: Some(self.probe_timeout),
            recycle: Some(self.probe_timeout),
        };
        match self.pool.timeout_get(&timeouts).await {
            Ok(conn) => Some(conn),
            Err(PoolError::Timeout(TimeoutType::Wait)) => None,
            Err(error) => {
                self.mark_down(&error);
                None
            }
        }
    }

    /// Takes the replica out of use after a failure; the monitor puts it back.
    pub(crate) fn mark_down(&self, error: &dyn std::fmt::Display) {
        if self.up.swap(false, Ordering::AcqRel) {
            tracing::warn!(%error, "the read replica failed: reading from the primary");
        }
    }

    /// Notes that the replica has everything the primary had at `at`.
    fn caught_up_to(&self, at: Instant) {
        let ms = u64::try_from(at.saturating_duration_since(self.epoch).as_millis())
            .unwrap_or(u64::MAX - 1);
        self.fresh_as_of.fetch_max(ms + 1, Ordering::AcqRel);
    }
}

/// How often the monitor looks: a few times per lag bound, so that a replica is taken out of
/// use soon after it falls behind and back soon after it catches up; at most every second.
fn tick(max_lag: Duration) -> Duration {
    (max_lag / 4).clamp(Duration::from_millis(50), Duration::from_secs(1))
}

/// Watches the replica every `period` until the store is gone.
async fn monitor(replica: Weak<Replica>, primary: Pool<AsyncPgConnection>, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The primary's positions and when they were read, oldest first.
    let mut noted: VecDeque<(Instant, i64)> = VecDeque::new();
    let mut last_health = None;
    loop {
        ticks.tick().await;
        let Some(replica) = replica.upgrade() else {
            return;
        };
        replica.observe(&primary, &mut noted).await;
        let health = replica.health();
        if last_health != Some(health) {
            match health {
                ReplicaHealth::Ok => tracing::info!("the read replica is in use"),
                ReplicaHealth::Lagging => tracing::warn!(
                    max_lag_ms = replica.max_lag.as_millis() as u64,
                    "the read replica lags: reading from the primary"
                ),
                ReplicaHealth::Down => {
                    tracing::warn!("the read replica does not answer: reading from the primary");
                }
            }
            last_health = Some(health);
        }
    }
}

impl Replica {
    /// One look: the primary's position now, then the replica's replay position.
    async fn observe(
        &self,
        primary: &Pool<AsyncPgConnection>,
        noted: &mut VecDeque<(Instant, i64)>,
    ) {
        let read_at = Instant::now();
        let position = tokio::time::timeout(self.probe_timeout, async {
            let mut conn = primary.get().await.map_err(|e| e.to_string())?;
            primary_position(&mut conn).await.map_err(|e| e.to_string())
        })
        .await;
        if let Ok(Ok(position)) = position {
            noted.push_back((read_at, position));
        }
        let replayed = tokio::time::timeout(self.probe_timeout, async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            replayed_position(&mut conn)
                .await
                .map_err(|e| e.to_string())
        })
        .await;
        match replayed {
            Ok(Ok(Some(replayed))) => {
                self.up.store(true, Ordering::Release);
                // The latest noted moment it has; older notes are of no more use.
                if let Some(i) = noted.iter().rposition(|&(_, p)| p <= replayed) {
                    self.caught_up_to(noted[i].0);
                    noted.drain(..i);
                }
            }
            Ok(Ok(None)) => {
                self.mark_down(&"DATABASE_READ_URL is not a standby (it replays no WAL)");
            }
            Ok(Err(error)) => self.mark_down(&error),
            Err(_) => self.mark_down(&"no answer in time"),
        }
        // A replica this far behind is lagging whatever else is known: forget older notes.
        let horizon = self.max_lag.saturating_mul(2) + self.probe_timeout;
        while noted.len() > 1 && noted.front().is_some_and(|(at, _)| at.elapsed() > horizon) {
            noted.pop_front();
        }
    }
}

/// Waits until the replica `conn` has replayed the primary's position `target`, up to
/// [`READ_YOUR_WRITES_WAIT`]; whether it has. Its next statement's snapshot then holds every
/// transaction committed before `target` was read.
async fn wait_for(conn: &mut AsyncPgConnection, target: i64) -> bool {
    let deadline = Instant::now() + READ_YOUR_WRITES_WAIT;
    let mut pause = Duration::from_micros(500);
    loop {
        match replayed_position(conn).await {
            Ok(Some(replayed)) if replayed >= target => return true,
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return false,
        }
        if Instant::now() + pause > deadline {
            return false;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// The primary's WAL insert position, in bytes: past the commit record of every transaction
/// acknowledged so far (even with `synchronous_commit = off`, where the flush position may
/// still be behind it).
async fn primary_position(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    // Here only: its `load` would shadow the atomics' elsewhere in this module.
    use diesel_async::RunQueryDsl;
    diesel::select(sql::<BigInt>(
        "(pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint",
    ))
    .get_result(conn)
    .await
}

/// How far a standby has replayed the primary's WAL, in bytes; `None` on a server that is not
/// a standby. A primary that went through crash recovery at start-up still reports the
/// position that recovery reached, so whether it is a standby is asked of
/// `pg_is_in_recovery()`, not read from a NULL position.
async fn replayed_position(conn: &mut AsyncPgConnection) -> QueryResult<Option<i64>> {
    use diesel_async::RunQueryDsl;
    diesel::select(sql::<Nullable<BigInt>>(
        "CASE WHEN pg_is_in_recovery() \
         THEN (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint END",
    ))
    .get_result(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_monitor_looks_a_few_times_per_lag_bound_within_limits() {
        assert_eq!(tick(Duration::from_secs(5)), Duration::from_secs(1));
        assert_eq!(
            tick(Duration::from_millis(1000)),
            Duration::from_millis(250)
        );
        assert_eq!(tick(Duration::from_millis(10)), Duration::from_millis(50));
    }
}

//! Connections: the deadpool pool the store draws from, and the session settings every
//! connection gets (the planner settings `explain` reuses, so that its plans are the store's).

use crate::{PgConfig, PgError};
use diesel::ConnectionResult;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

/// The planner settings of every connection:
///
/// * `jit = off`: JIT compilation pays off for long analytical queries; it costs hundreds of
///   milliseconds on the short indexed ones a store issues, whenever the planner's estimate
///   crosses `jit_above_cost`;
/// * `max_parallel_workers_per_gather = 0`: many small concurrent queries on few cores are
///   served best one core each; parallel plans also made the planner prefer full scans over
///   the ordered walks search and recommend rely on.
const PLANNER_SETTINGS: &str = "SET jit = off; SET max_parallel_workers_per_gather = 0";

/// The plan mode of every connection: each prepared statement is planned once, blind to its
/// values (a generic plan), and that plan reused on every later execution. PostgreSQL's
/// default (`auto`) plans the first five executions for their values and then keeps planning
/// every one whose generic plan looks costlier than the average of those: for a search walking
/// a skill's postings that was every execution, half of its PostgreSQL time. A statement whose
/// best plan does not depend on its values (get, the searches walking an index in search order,
/// writes, reviews) loses nothing by it.
const GENERIC_PLANS: &str = "plan_cache_mode = force_generic_plan";

/// The plan mode of the statements whose best plan depends on their values: recommend's, and
/// a search with an availability window or a name (see `queries::search_needs_custom_plan`),
/// set for their transaction. Every execution of those is planned for its own values: a common
/// availability window is checked per provider along an ordered walk, a rare one is best
/// looked up first; a walk's prefix sizes its joins. A generic plan, made blind to the values,
/// could pick the wrong one for every later call.
pub(crate) const CUSTOM_PLANS: &str = "plan_cache_mode = force_custom_plan";

/// Builds a pool over `url` (the primary's, or the read replica's) of at most
/// `config.pool_size` connections, each set up by [`establish`].
/// No connection is made here: they are opened on first use, so this succeeds while the
/// database is down; broken connections are discarded and new ones made.
///
/// Checking out a connection does not ping the server (deadpool's "fast" recycling): a
/// connection whose socket has closed is discarded on checkout, and one that breaks silently
/// fails its one request with `Unavailable` and is then discarded. That saves a round trip on
/// every request.
///
/// # Errors
/// [`PgError::Config`] for a malformed URL or a pool size of 0; [`PgError::Pool`] if the pool
/// cannot be built.
pub(crate) fn build(url: &str, config: &PgConfig) -> Result<Pool<AsyncPgConnection>, PgError> {
    url.parse::<tokio_postgres::Config>()
        .map_err(|e| PgError::Config(format!("the database URL is malformed: {e}")))?;
    if config.pool_size == 0 {
        return Err(PgError::Config("the pool size must be at least 1".into()));
    }
    let statement_timeout_ms = config.statement_timeout.as_millis();
    let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
    manager_config.recycling_method = RecyclingMethod::Fast;
    manager_config.custom_setup = Box::new(move |url| {
        let url = url.to_owned();
        Box::pin(async move { establish(&url, statement_timeout_ms).await })
    });
    let manager = AsyncDieselConnectionManager::new_with_config(url, manager_config);
    Ok(Pool::builder(manager)
        .max_size(config.pool_size)
        .wait_timeout(Some(config.acquire_timeout))
        .create_timeout(Some(config.acquire_timeout))
        .recycle_timeout(Some(config.acquire_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()?)
}

/// Opens a pool connection: a span for each of its statements
/// ([`crate::statements::StatementSpans`]), `statement_timeout` (a runaway statement is
/// cancelled, and answered `Unavailable`), the [`PLANNER_SETTINGS`] and [`GENERIC_PLANS`].
/// Statements are prepared once per connection; recommend and the searches of
/// [`CUSTOM_PLANS`] add [`load_planned_for_values!`].
async fn establish(url: &str, statement_timeout_ms: u128) -> ConnectionResult<AsyncPgConnection> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.set_instrumentation(crate::statements::StatementSpans::default());
    conn.batch_execute(&format!(
        "SET statement_timeout = {statement_timeout_ms}; {PLANNER_SETTINGS}; SET {GENERIC_PLANS}"
    ))
    .await
    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

/// How full the pool is at one moment (what an operator graphs: `db_pool_connections`,
/// `db_pool_waiting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open and not lent out.
    pub idle: usize,
    /// Connections lent out to an operation.
    pub in_use: usize,
    /// Operations waiting for a connection.
    pub waiting: usize,
}

/// The pool's figures now, from deadpool's own status.
pub(crate) fn status(pool: &Pool<AsyncPgConnection>) -> PoolStatus {
    let status = pool.status();
    PoolStatus {
        idle: status.available,
        in_use: status.size.saturating_sub(status.available),
        waiting: status.waiting,
    }
}

/// Loads a statement, the first of the current transaction, planned for its own values (see
/// [`CUSTOM_PLANS`]), as every later statement of the transaction will be: the `SET LOCAL` goes
/// with it in one round trip (pipelined: PostgreSQL runs them in the order sent, the setting
/// first). Recommend, and the searches that need it, start their transactions with it.
/// `load_planned_for_values!(conn, statement)`, `conn` a `&mut AsyncPgConnection`, is a
/// `QueryResult<Vec<_>>` of the rows.
///
/// A macro, not a generic function: the bound such a function needs (the statement loadable
/// on a shared connection of any lifetime) keeps the callers' futures from being proven `Send`.
macro_rules! load_planned_for_values {
    ($conn:expr, $statement:expr) => {{
        let shared: &diesel_async::AsyncPgConnection = $conn;
        let (mut setting_on, mut statement_on) = (shared, shared);
        let setting = format!("SET LOCAL {}", $crate::pool::CUSTOM_PLANS);
        let set = diesel_async::SimpleAsyncConnection::batch_execute(&mut setting_on, &setting);
        let load = diesel_async::RunQueryDsl::load($statement, &mut statement_on);
        // Polled in this order, so the setting is sent first.
        futures_util::future::try_join(set, load)
            .await
            .map(|((), rows)| rows)
    }};
}
pub(crate) use load_planned_for_values;

/// One connection outside the pool, planning as recommend and the searches of [`CUSTOM_PLANS`]
/// do on the pool's connections (the [`PLANNER_SETTINGS`] and [`CUSTOM_PLANS`], for the whole
/// session) and with no statement timeout: what `explain` runs on. The other searches run a
/// generic plan in the store, which has the same shape here: their plans do not depend on the
/// values.
pub(crate) async fn planning_like_the_store(url: &str) -> Result<AsyncPgConnection, PgError> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(&format!("{PLANNER_SETTINGS}; SET {CUSTOM_PLANS}"))
        .await?;
    Ok(conn)
}

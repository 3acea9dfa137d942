//! [`PgStore`]: the repository ports over a deadpool pool of diesel-async connections.

use crate::error::{pool_error, repo_error, TimedOut};
use crate::queries;
use crate::rows::{Children, NewProviderRow, ProviderRow, ReviewRow};
use crate::schema::{availability, availability_runs, provider_skills, providers, reviews};
use crate::{PgConfig, PgError};
use async_trait::async_trait;
use diesel::result::Error as DieselError;
use diesel::sql_types::Integer;
use diesel::{ExpressionMethods, IntoSql, QueryDsl, QueryResult, SelectableHelper};
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use provider_domain::{
    JobRequest, Provider, ProviderDraft, ProviderId, Recommendation, Review, ReviewStats,
    SearchFilter, UserId,
};
use provider_ports::{Page, PageOf, ProviderRepository, RepoError, ReviewRepository};
use std::future::Future;
use std::time::Duration;

/// Providers and reviews in PostgreSQL (see the crate docs for the schema). Cheap to clone:
/// clones share one pool.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool<AsyncPgConnection>,
    /// Bound on a whole operation, client side: acquiring, then the statements. The server's
    /// statement timeout cannot help when the network itself hangs.
    op_timeout: Duration,
    /// Postings per needed row that recommend's walk reads of each skill at first.
    recommend_prefix: i64,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("pool", &self.pool.status())
            .field("op_timeout", &self.op_timeout)
            .field("recommend_prefix", &self.recommend_prefix)
            .finish()
    }
}

/// The planner settings of every store connection (see [`establish`]); `explain` uses them too,
/// so its plans are the ones the API gets.
pub(crate) const SESSION_SETTINGS: &str = "SET jit = off; SET max_parallel_workers_per_gather = 0";

/// The plan mode of search and recommend, set (`SET LOCAL`) in their transactions: every
/// execution is planned for its own values. The best plan of a search or recommendation
/// depends on them (a common availability window is checked per provider along an ordered
/// walk, a rare one is best looked up first; a walk's prefix sizes its joins); a generic plan,
/// made blind to the values, could pick the wrong one for every later call. The other
/// statements (get, writes, reviews) keep PostgreSQL's default: planned for their first
/// executions, then a generic plan reused, which saves replanning on every call.
pub(crate) const CUSTOM_PLANS: &str = "plan_cache_mode = force_custom_plan";

/// Opens a connection and sets this store's session settings on it:
///
/// * `statement_timeout`: a runaway statement is cancelled (and answered `Unavailable`);
/// * `jit = off`: JIT compilation pays off for long analytical queries; it costs hundreds of
///   milliseconds on the short indexed ones a store issues, whenever the planner's estimate
///   crosses `jit_above_cost`;
/// * `max_parallel_workers_per_gather = 0`: many small concurrent queries on few cores are
///   served best one core each; parallel plans also made the planner prefer full scans over
///   the ordered walks search and recommend rely on;
///
/// Statements are prepared once per connection; search and recommend set [`CUSTOM_PLANS`].
async fn establish(
    url: &str,
    statement_timeout_ms: u128,
) -> diesel::ConnectionResult<AsyncPgConnection> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(&format!(
        "SET statement_timeout = {statement_timeout_ms}; {SESSION_SETTINGS}"
    ))
    .await
    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

impl PgStore {
    /// Builds the store over a pool of at most `config.pool_size` connections. No connection is
    /// made here: they are opened on first use, so this succeeds while the database is down
    /// (the store then answers [`RepoError::Unavailable`], and recovers by itself once the
    /// database is back: broken connections are discarded and new ones made).
    ///
    /// Checking out a connection does not ping the server (deadpool's "fast" recycling): a
    /// connection whose socket has closed is discarded on checkout, and one that breaks
    /// silently fails its one request with `Unavailable` and is then discarded. That saves a
    /// round trip on every request.
    ///
    /// # Errors
    /// [`PgError::Config`] for a malformed URL or a pool size of 0; [`PgError::Pool`] if the
    /// pool cannot be built.
    pub fn connect(config: &PgConfig) -> Result<Self, PgError> {
        config
            .url
            .parse::<tokio_postgres::Config>()
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
        let manager = AsyncDieselConnectionManager::new_with_config(&config.url, manager_config);
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .wait_timeout(Some(config.acquire_timeout))
            .create_timeout(Some(config.acquire_timeout))
            .recycle_timeout(Some(config.acquire_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()?;
        Ok(Self {
            pool,
            op_timeout: config.acquire_timeout + config.statement_timeout + Duration::from_secs(1),
            recommend_prefix: i64::from(Self::DEFAULT_RECOMMEND_PREFIX),
        })
    }

    /// Postings per row of the page (`page * page_size + 1` rows) that recommend reads of each
    /// requested skill at first: see [`PgStore::with_recommend_prefix`].
    pub const DEFAULT_RECOMMEND_PREFIX: u32 = 32;

    /// Sets how many postings per needed row recommend's walk reads of each requested skill
    /// at first (at least 1). The answer is the same whatever it is: a walk whose first reading
    /// cannot prove its page exact reads eight times more, and so on up to the whole lists.
    /// Larger reads more per request; smaller retries more often. Tests set 1 so that small
    /// data sets go through every step of the walk.
    #[must_use]
    pub fn with_recommend_prefix(mut self, per_row: u32) -> Self {
        self.recommend_prefix = i64::from(per_row.max(1));
        self
    }

    async fn conn(&self) -> Result<Object<AsyncPgConnection>, RepoError> {
        self.pool.get().await.map_err(pool_error)
    }

    /// Runs `work` within the operation timeout.
    async fn bounded<T>(
        &self,
        work: impl Future<Output = Result<T, RepoError>>,
    ) -> Result<T, RepoError> {
        tokio::time::timeout(self.op_timeout, work)
            .await
            .unwrap_or_else(|_| Err(RepoError::Unavailable(Box::new(TimedOut(self.op_timeout)))))
    }

    async fn load_providers(
        &self,
        statement: crate::sql::Statement,
    ) -> Result<Vec<Provider>, RepoError> {
        let mut conn = self.conn().await?;
        let rows: Vec<ProviderRow> = statement.load(&mut *conn).await.map_err(repo_error)?;
        providers_of(rows)
    }
}

/// A statement recommend ran to rank its candidates (see [`recommended_ids`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RecommendStep {
    /// A walk of the postings, reading these prefixes of the lists (`None`: all of one).
    Walk(Vec<Option<i64>>),
    /// The count of runs satisfying rule 3, up to [`queries::RARE_WINDOW_RUNS`].
    WindowRuns,
    /// The ranking of the providers available in rare windows.
    FromWindows,
}

impl RecommendStep {
    /// The statement of this step, for a page needing `n` rows.
    pub(crate) fn statement(&self, job: &JobRequest, n: i64) -> crate::sql::Statement {
        match self {
            Self::Walk(prefixes) => queries::recommend_walk(job, prefixes, n),
            Self::WindowRuns => queries::recommend_window_runs(job),
            Self::FromWindows => queries::recommend_from_windows(job, n),
        }
    }
}

/// The ids of the first `offset + size + 1` recommendations, best first, and the statements
/// that found them. Run it inside one snapshot (a repeatable-read transaction).
///
/// A walk of the skills' postings (see `crate::walk`) answers first, reading `prefix` postings
/// per needed row of each skill. When it cannot prove its page exact, either the windows are
/// rare (few runs satisfy rule 3, so the walk would find few candidates however far it read):
/// then the providers available then are ranked directly; or the walk reads on.
pub(crate) async fn recommended_ids(
    conn: &mut AsyncPgConnection,
    job: &JobRequest,
    page: Page,
    prefix: i64,
) -> QueryResult<(Vec<uuid::Uuid>, Vec<RecommendStep>)> {
    use crate::rows::{CountRow, WalkRow};
    use crate::walk::{first_prefix, is_exact, Prefix, Ranked};

    let n = page.offset() + page.size() as usize + 1;
    let n_sql = n as i64;
    let lists = job.skills().len();
    let mut steps = Vec::new();
    let mut reading = vec![first_prefix(n, prefix); lists];
    for walks in 1.. {
        let step = RecommendStep::Walk(reading.clone());
        let rows: Vec<WalkRow> = step.statement(job, n_sql).load(conn).await?;
        steps.push(step);
        // A list with no posting within budget has no statistics row: it is exhausted.
        let mut prefixes = vec![
            Prefix {
                exhausted: true,
                lowest_cost: None,
            };
            lists
        ];
        let mut ranked = Vec::new();
        let mut ids = Vec::new();
        for row in rows {
            match (row.kind, row.id) {
                (1, Some(id)) => {
                    ranked.push(Ranked {
                        matched: row.a,
                        cost: row.b,
                    });
                    ids.push(id);
                }
                _ => {
                    let i = usize::try_from(row.a).unwrap_or(usize::MAX);
                    if let (Some(p), Some(read)) = (prefixes.get_mut(i), reading.get(i)) {
                        *p = Prefix {
                            exhausted: read.is_none_or(|m| row.b < m),
                            lowest_cost: row.c,
                        };
                    }
                }
            }
        }
        if is_exact(&prefixes, &ranked, n) {
            return Ok((ids, steps));
        }
        // After the first walk only: are the windows rare?
        if walks == 1 {
            steps.push(RecommendStep::WindowRuns);
            let runs: Vec<CountRow> = RecommendStep::WindowRuns
                .statement(job, n_sql)
                .load(conn)
                .await?;
            if <[CountRow]>::first(&runs).map_or(0, |r| r.a) < queries::RARE_WINDOW_RUNS {
                steps.push(RecommendStep::FromWindows);
                let rows: Vec<WalkRow> = RecommendStep::FromWindows
                    .statement(job, n_sql)
                    .load(conn)
                    .await?;
                return Ok((rows.into_iter().filter_map(|r| r.id).collect(), steps));
            }
        }
        reading = deepen(&prefixes, &reading, walks);
    }
    unreachable!("the walks go on until one is exact; reading whole lists always is")
}

/// The prefixes of the next walk: the open list(s) read deepest so far (lowest day rate cut:
/// the rarest skill) read eight times further, or, after a few walks, every open list. Reading
/// the rarest list further lowers the cut that proves a page exact, and brings the lists
/// closest to exhaustion there.
fn deepen(
    prefixes: &[crate::walk::Prefix],
    reading: &[Option<i64>],
    walks: usize,
) -> Vec<Option<i64>> {
    use crate::walk::next_prefix;
    let deepest = prefixes
        .iter()
        .filter(|p| !p.exhausted)
        .filter_map(|p| p.lowest_cost)
        .min();
    prefixes
        .iter()
        .zip(reading)
        .map(|(p, read)| match read {
            Some(m) if !p.exhausted && (walks > 3 || p.lowest_cost == deepest) => next_prefix(*m),
            other => *other,
        })
        .collect()
}

/// The ids of the page's rows (and the one after, telling whether more follow).
pub(crate) fn page_ids(mut ids: Vec<uuid::Uuid>, page: Page) -> Vec<uuid::Uuid> {
    let offset = page.offset().min(ids.len());
    ids.drain(..offset);
    ids.truncate(page.size() as usize + 1);
    ids
}

/// The providers read back, each checked by the domain.
fn providers_of(rows: Vec<ProviderRow>) -> Result<Vec<Provider>, RepoError> {
    rows.into_iter().map(Provider::try_from).collect()
}

/// The first `size` items, and whether the query found more (it asks for `size + 1`).
fn page_of<T>(mut items: Vec<T>, page: Page) -> PageOf<T> {
    let size = page.size() as usize;
    let has_more = items.len() > size;
    items.truncate(size);
    PageOf { items, has_more }
}

/// Inserts a provider's skills, availability and runs (the provider row exists).
async fn insert_children(conn: &mut AsyncPgConnection, children: &Children<'_>) -> QueryResult<()> {
    if !children.skills.is_empty() {
        diesel::insert_into(provider_skills::table)
            .values(&children.skills)
            .execute(conn)
            .await?;
    }
    if !children.periods.is_empty() {
        diesel::insert_into(availability::table)
            .values(&children.periods)
            .execute(conn)
            .await?;
    }
    if !children.runs.is_empty() {
        diesel::insert_into(availability_runs::table)
            .values(&children.runs)
            .execute(conn)
            .await?;
    }
    Ok(())
}

#[async_trait]
impl ProviderRepository for PgStore {
    async fn create(&self, provider: &Provider) -> Result<(), RepoError> {
        let row = NewProviderRow::new(provider)?;
        let mut children = Children::new(
            provider.id,
            provider.cost,
            &provider.skills,
            &provider.availability,
        )?;
        children.set_reviews(row.review_count, row.rating_sum);
        self.bounded(async {
            let mut conn = self.conn().await?;
            let conn: &mut AsyncPgConnection = &mut conn;
            conn.transaction::<_, DieselError, _>(async |conn| {
                diesel::insert_into(providers::table)
                    .values(&row)
                    .execute(conn)
                    .await?;
                insert_children(conn, &children).await
            })
            .await
            .map_err(repo_error)
        })
        .await
    }

    async fn get(&self, id: ProviderId) -> Result<Provider, RepoError> {
        self.bounded(async {
            self.load_providers(queries::get(id))
                .await?
                .into_iter()
                .next()
                .ok_or(RepoError::NotFound)
        })
        .await
    }

    async fn replace(
        &self,
        id: ProviderId,
        owner: UserId,
        draft: &ProviderDraft,
    ) -> Result<Provider, RepoError> {
        let name_key = draft.name.search_key();
        let mut children = Children::of_draft(id, draft)?;
        let uuid = id.as_uuid();
        let (count, sum) = self
            .bounded(async {
                let mut conn = self.conn().await?;
                let conn: &mut AsyncPgConnection = &mut conn;
                // One transaction: readers (single statements) see the old provider or the new
                // one. The UPDATE's row lock also orders it with concurrent reviews.
                conn.transaction::<_, DieselError, _>(async |conn| {
                    let stats: (i64, i64) = diesel::update(
                        providers::table
                            .filter(providers::id.eq(uuid))
                            .filter(providers::owner_id.eq(owner.as_uuid())),
                    )
                    .set((
                        providers::name.eq(draft.name.as_str()),
                        providers::name_key.eq(&name_key),
                        providers::cost_in_pence.eq(draft.cost.pence()),
                        providers::updated_at.eq(diesel::dsl::now),
                    ))
                    .returning((providers::review_count, providers::rating_sum))
                    // No row: no such provider, or not this owner's (NotFound either way).
                    .get_result(conn)
                    .await?;
                    diesel::delete(
                        provider_skills::table.filter(provider_skills::provider_id.eq(uuid)),
                    )
                    .execute(conn)
                    .await?;
                    diesel::delete(availability::table.filter(availability::provider_id.eq(uuid)))
                        .execute(conn)
                        .await?;
                    diesel::delete(
                        availability_runs::table.filter(availability_runs::provider_id.eq(uuid)),
                    )
                    .execute(conn)
                    .await?;
                    // The new postings carry the provider's review stats, as read under its lock.
                    children.set_reviews(stats.0, stats.1);
                    insert_children(conn, &children).await?;
                    Ok(stats)
                })
                .await
                .map_err(repo_error)
            })
            .await?;
        let stat = |v: i64| u64::try_from(v).map_err(|e| RepoError::Unexpected(e.into()));
        Ok(Provider {
            id,
            owner,
            name: draft.name.clone(),
            skills: draft.skills.clone(),
            cost: draft.cost,
            availability: draft.availability.clone(),
            reviews: ReviewStats {
                count: stat(count)?,
                sum_tenths: stat(sum)?,
            },
        })
    }

    async fn delete(&self, id: ProviderId, owner: UserId) -> Result<(), RepoError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            // Skills, availability, runs and reviews go with it (ON DELETE CASCADE).
            let deleted = diesel::delete(
                providers::table
                    .filter(providers::id.eq(id.as_uuid()))
                    .filter(providers::owner_id.eq(owner.as_uuid())),
            )
            .execute(&mut *conn)
            .await
            .map_err(repo_error)?;
            if deleted == 0 {
                Err(RepoError::NotFound)
            } else {
                Ok(())
            }
        })
        .await
    }

    async fn search(
        &self,
        filter: &SearchFilter,
        page: Page,
    ) -> Result<PageOf<Provider>, RepoError> {
        self.bounded(async {
            let statement = queries::search(filter, page);
            let mut conn = self.conn().await?;
            let rows: Vec<ProviderRow> = conn
                .build_transaction()
                .read_only()
                .run::<_, DieselError, _>(async |conn| {
                    conn.batch_execute(&format!("SET LOCAL {CUSTOM_PLANS}"))
                        .await?;
                    statement.load(conn).await
                })
                .await
                .map_err(repo_error)?;
            let found = providers_of(rows)?;
            Ok(page_of(found, page))
        })
        .await
    }

    async fn recommend(
        &self,
        job: &JobRequest,
        page: Page,
    ) -> Result<PageOf<Recommendation>, RepoError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            let prefix = self.recommend_prefix;
            let rows: Vec<ProviderRow> = conn
                .build_transaction()
                // Every step reads the same snapshot, so the page is that of one moment.
                .repeatable_read()
                .read_only()
                .run::<_, DieselError, _>(async |conn| {
                    conn.batch_execute(&format!("SET LOCAL {CUSTOM_PLANS}"))
                        .await?;
                    let (ids, _) = recommended_ids(conn, job, page, prefix).await?;
                    queries::providers_in_order(page_ids(ids, page))
                        .load(conn)
                        .await
                })
                .await
                .map_err(repo_error)?;
            let found = providers_of(rows)?;
            let items = found
                .into_iter()
                .map(|provider| Recommendation {
                    matched_skills: job.matched_skills(&provider),
                    provider,
                })
                .collect();
            Ok(page_of(items, page))
        })
        .await
    }

    async fn ping(&self) -> Result<(), RepoError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            diesel::select(1.into_sql::<Integer>())
                .get_result::<i32>(&mut *conn)
                .await
                .map(|_| ())
                .map_err(repo_error)
        })
        .await
    }
}

#[async_trait]
impl ReviewRepository for PgStore {
    async fn add(&self, review: &Review) -> Result<(), RepoError> {
        let row = ReviewRow::from(review);
        self.bounded(async {
            let mut conn = self.conn().await?;
            let conn: &mut AsyncPgConnection = &mut conn;
            conn.transaction::<_, DieselError, _>(async |conn| {
                // The provider's row first: its review stats are keys of the postings' foreign
                // key, so the update locks the row exclusively. Taken before the review's own
                // foreign-key check (a shared lock), concurrent reviews of one provider queue
                // here instead of deadlocking. Relative update: exact however many arrive.
                let updated = diesel::update(providers::table.find(row.provider_id))
                    .set((
                        providers::review_count.eq(providers::review_count + 1),
                        providers::rating_sum.eq(providers::rating_sum + i64::from(row.rating)),
                    ))
                    .execute(conn)
                    .await?;
                if updated == 0 {
                    return Err(DieselError::NotFound);
                }
                // A second review by the same user fails reviews_one_per_user (Conflict) and
                // rolls everything back.
                diesel::insert_into(reviews::table)
                    .values(&row)
                    .execute(conn)
                    .await?;
                Ok(())
            })
            .await
            .map_err(repo_error)
        })
        .await
    }

    async fn list(&self, provider: ProviderId, page: Page) -> Result<PageOf<Review>, RepoError> {
        let id = provider.as_uuid();
        self.bounded(async {
            let mut conn = self.conn().await?;
            let rows: Vec<ReviewRow> = reviews::table
                .filter(reviews::provider_id.eq(id))
                .order((reviews::created_at.desc(), reviews::id.desc()))
                .limit(i64::from(page.size()) + 1)
                .offset(page.offset() as i64)
                .select(ReviewRow::as_select())
                .load(&mut *conn)
                .await
                .map_err(repo_error)?;
            // Reviews go with their provider, so only an empty page needs to ask whether the
            // provider exists.
            if rows.is_empty() {
                let exists: bool = diesel::select(diesel::dsl::exists(providers::table.find(id)))
                    .get_result(&mut *conn)
                    .await
                    .map_err(repo_error)?;
                if !exists {
                    return Err(RepoError::NotFound);
                }
            }
            let items = rows
                .into_iter()
                .map(Review::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(page_of(items, page))
        })
        .await
    }
}

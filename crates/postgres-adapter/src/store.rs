//! [`PgStore`]: the repository ports (`ProviderRepository`, `ReviewRepository`) over the pool
//! of [`crate::pool`]: each operation's statements and transaction, and its time bound. Reads
//! go where [`crate::replica`] routes them (`routed_read!`): to the read replica when there is
//! one fit for them, else to the primary.

use crate::error::{pool_error, repo_error, TimedOut};
use crate::idempotency::{claim_taken_over, complete_in};
use crate::replica::{routed_read, ReadFigures, Reads, ReplicaHealth};
use crate::rows::{version_of, ProviderRows, VersionRow, VersionedProviderRow, WholeProviderRow};
use crate::schema::{availability, availability_runs, provider_skills, providers, skill_reviews};
use crate::{inserts, outbox, pool, queries, recommend, PgConfig, PgError};
use async_trait::async_trait;
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Integer};
use diesel::{ExpressionMethods, IntoSql, QueryDsl, QueryResult};
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use provider_domain::{
    JobRequest, Provider, ProviderDraft, ProviderId, Recommendation, ReviewStats, SearchFilter,
    SearchSort, SkillReviews, SortKey, UserId,
};
use provider_ports::{
    Change, ChangeKind, Completion, Found, Page, PageOf, Paging, ProviderRepository, RepoError,
    Total, Version, VersionCheck, Versioned,
};
use std::future::Future;
use std::time::Duration;

/// Connections a read model following the store may hold at once (a snapshot reads on two).
const FOLLOWER_CONNECTIONS: usize = 2;

/// Providers and reviews in PostgreSQL (the schema is `migrations/`). Cheap to clone:
/// clones share one pool.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool<AsyncPgConnection>,
    /// The read model's own connections (its snapshot's two, then one per catch-up), opened
    /// only when a model follows this store: its catch-ups never queue behind requests for
    /// `pool`'s connections, which every read of the model waits on.
    follower: Pool<AsyncPgConnection>,
    /// Where reads go: the read replica when there is one fit for them
    /// (`PgConfig::read_url`), else `pool`.
    pub(crate) reads: Reads,
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
            .field("replica", &self.reads)
            .field("op_timeout", &self.op_timeout)
            .field("recommend_prefix", &self.recommend_prefix)
            .finish()
    }
}

impl PgStore {
    /// Builds the store over a pool of at most `config.pool_size` connections, and another
    /// over the read replica when `config.read_url` is set. No connection is made here: they
    /// are opened on first use, so this succeeds while the database is down (the store then
    /// answers [`RepoError::Unavailable`], and recovers by itself once the database is back:
    /// broken connections are discarded and new ones made). With a read replica, a task
    /// watching it is started on the current Tokio runtime; it ends with the store.
    ///
    /// # Errors
    /// [`PgError::Config`] for a malformed URL, a pool size of 0, or a read replica outside a
    /// Tokio runtime; [`PgError::Pool`] if a pool cannot be built.
    pub fn connect(config: &PgConfig) -> Result<Self, PgError> {
        let pool = pool::build(&config.url, config)?;
        let follower = pool::build(
            &config.url,
            &PgConfig {
                pool_size: FOLLOWER_CONNECTIONS,
                ..config.clone()
            },
        )?;
        let reads = Reads::new(pool.clone(), config)?;
        Ok(Self {
            pool,
            follower,
            reads,
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

    /// How full the connection pool is now (idle, in use, waiting).
    pub fn pool_status(&self) -> pool::PoolStatus {
        pool::status(&self.pool)
    }

    /// The read replica's state, when reads are routed to one.
    pub fn replica_health(&self) -> Option<ReplicaHealth> {
        self.reads.replica_health()
    }

    /// Reads per target and the replica's lag, when reads are routed to a replica.
    pub fn read_figures(&self) -> Option<ReadFigures> {
        self.reads.figures()
    }

    pub(crate) async fn conn(&self) -> Result<Object<AsyncPgConnection>, RepoError> {
        self.pool.get().await.map_err(pool_error)
    }

    /// A connection of the read model's own (see [`PgStore::follower`]).
    pub(crate) async fn follower_conn(&self) -> Result<Object<AsyncPgConnection>, RepoError> {
        self.follower.get().await.map_err(pool_error)
    }

    /// Runs `work` within the operation timeout.
    pub(crate) async fn bounded<T>(
        &self,
        work: impl Future<Output = Result<T, RepoError>>,
    ) -> Result<T, RepoError> {
        tokio::time::timeout(self.op_timeout, work)
            .await
            .unwrap_or_else(|_| Err(RepoError::Unavailable(Box::new(TimedOut(self.op_timeout)))))
    }
}

/// The providers read back, each checked by the domain.
fn providers_of(rows: Vec<WholeProviderRow>) -> Result<Vec<Provider>, RepoError> {
    rows.into_iter().map(Provider::try_from).collect()
}

/// A count (`queries::search_total`).
#[derive(Debug, diesel::QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The first `size` items, and whether the query found more (it asks for `size + 1`).
pub(crate) fn page_of<T>(mut items: Vec<T>, size: u32) -> PageOf<T> {
    let size = size as usize;
    let has_more = items.len() > size;
    items.truncate(size);
    PageOf { items, has_more }
}

/// Applies a conditional write's `check` to the provider `id` owned by `owner`, inside the
/// write's transaction: its row is locked (`FOR UPDATE`) and its version read, so that the
/// write that follows sees no other change in between; concurrent writers queue on the lock
/// and each reads the version the previous one left. Nothing to do for [`VersionCheck::Any`].
/// No row: [`DieselError::NotFound`] (missing or not `owner`'s, before any version check).
async fn check_version(
    conn: &mut AsyncPgConnection,
    id: ProviderId,
    owner: UserId,
    check: &VersionCheck,
) -> Result<(), Refused> {
    if matches!(check, VersionCheck::Any) {
        return Ok(());
    }
    let version: i64 = providers::table
        .filter(providers::id.eq(id.as_uuid()))
        .filter(providers::owner_id.eq(owner.as_uuid()))
        .select(providers::version)
        .for_update()
        .get_result(conn)
        .await?;
    let current = version_of(version).map_err(Refused::Repo)?;
    if check.admits(current) {
        Ok(())
    } else {
        Err(Refused::Repo(RepoError::PreconditionFailed))
    }
}

/// Why a transaction rolled back: a statement failed, or the store refused (a version check).
#[derive(Debug)]
pub(crate) enum Refused {
    Db(DieselError),
    Repo(RepoError),
}

impl From<DieselError> for Refused {
    fn from(e: DieselError) -> Self {
        Self::Db(e)
    }
}

impl From<Refused> for RepoError {
    fn from(e: Refused) -> Self {
        match e {
            Refused::Db(e) => repo_error(e),
            Refused::Repo(e) => e,
        }
    }
}

/// Every per-skill figure of the provider `id`, the keys of removed skills included.
async fn skill_figures(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
) -> Result<SkillReviews, Refused> {
    let rows: Vec<(String, i64, i64)> = skill_reviews::table
        .filter(skill_reviews::provider_id.eq(id))
        .select((
            skill_reviews::skill_key,
            skill_reviews::review_count,
            skill_reviews::rating_sum,
        ))
        .load(conn)
        .await?;
    let stat =
        |v: i64| u64::try_from(v).map_err(|e| Refused::Repo(RepoError::Unexpected(e.into())));
    let figures = rows
        .into_iter()
        .map(|(key, count, sum)| {
            Ok((
                key,
                ReviewStats {
                    count: stat(count)?,
                    sum_tenths: stat(sum)?,
                },
            ))
        })
        .collect::<Result<Vec<_>, Refused>>()?;
    Ok(SkillReviews::new(figures))
}

/// Inserts a provider's skill, availability and run rows (its provider row exists), each
/// table's rows in one cached statement.
async fn insert_children(conn: &mut AsyncPgConnection, rows: &ProviderRows<'_>) -> QueryResult<()> {
    let id = rows.provider.id;
    if !rows.skills.is_empty() {
        inserts::skills(id, rows.provider.created_at, &rows.skills)
            .execute(conn)
            .await?;
    }
    if !rows.availability.is_empty() {
        inserts::availability(id, &rows.availability)
            .execute(conn)
            .await?;
    }
    if !rows.runs.is_empty() {
        inserts::runs(id, &rows.runs).execute(conn).await?;
    }
    Ok(())
}

#[async_trait]
impl ProviderRepository for PgStore {
    async fn create(&self, provider: &Provider) -> Result<Version, RepoError> {
        let rows = ProviderRows::of(provider)?;
        let row: VersionRow = self
            .bounded(async {
                let mut conn = self.conn().await?;
                // One statement: atomic without a transaction around it, one round trip.
                inserts::create(&rows)
                    .get_result(&mut *conn)
                    .await
                    .map_err(repo_error)
            })
            .await?;
        version_of(row.version)
    }

    async fn create_completing(
        &self,
        provider: &Provider,
        completion: &Completion,
    ) -> Result<Version, RepoError> {
        let rows = ProviderRows::of(provider)?;
        let row: VersionRow = self
            .bounded(async {
                let mut conn = self.conn().await?;
                let conn: &mut AsyncPgConnection = &mut conn;
                conn.transaction::<_, Refused, _>(async |conn| {
                    if !complete_in(conn, completion).await? {
                        return Err(Refused::Repo(claim_taken_over()));
                    }
                    Ok(inserts::create(&rows).get_result(conn).await?)
                })
                .await
                .map_err(RepoError::from)
            })
            .await?;
        version_of(row.version)
    }

    async fn get(&self, id: ProviderId) -> Result<Versioned<Provider>, RepoError> {
        self.bounded(routed_read!(&self.reads, |conn| {
            let rows: Vec<VersionedProviderRow> =
                queries::get(id).load(conn).await.map_err(repo_error)?;
            rows.into_iter()
                .next()
                .ok_or(RepoError::NotFound)
                .and_then(Versioned::try_from)
        }))
        .await
    }

    async fn replace(
        &self,
        id: ProviderId,
        owner: UserId,
        draft: &ProviderDraft,
        check: &VersionCheck,
    ) -> Result<Versioned<Provider>, RepoError> {
        let mut replaced = Provider {
            id,
            owner,
            name: draft.name.clone(),
            skills: draft.skills.clone(),
            cost: draft.cost,
            availability: draft.availability.clone(),
            // Read (and copied onto the new skill rows) under the provider's row lock below.
            reviews: ReviewStats::default(),
            skill_reviews: SkillReviews::default(),
            // Read back below; it never changes.
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        let mut rows = ProviderRows::of(&replaced)?;
        let uuid = id.as_uuid();
        let ((count, sum, version, created_at), figures) = self
            .bounded(async {
                let mut conn = self.conn().await?;
                let conn: &mut AsyncPgConnection = &mut conn;
                // One transaction: readers (single statements) see the old provider or the new
                // one. The UPDATE's row lock also orders it with concurrent reviews.
                conn.transaction::<_, Refused, _>(async |conn| {
                    check_version(conn, id, owner, check).await?;
                    let stats: (i64, i64, i64, time::OffsetDateTime) = diesel::update(
                        providers::table
                            .filter(providers::id.eq(uuid))
                            .filter(providers::owner_id.eq(owner.as_uuid())),
                    )
                    .set((
                        providers::name.eq(rows.provider.name),
                        providers::name_key.eq(&rows.provider.name_key),
                        providers::cost_in_pence.eq(rows.provider.cost_in_pence),
                        providers::updated_at.eq(diesel::dsl::now),
                        providers::version.eq(providers::version + 1),
                    ))
                    .returning((
                        providers::review_count,
                        providers::rating_sum,
                        providers::version,
                        providers::created_at,
                    ))
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
                    // The new skill rows carry the provider's review stats and the figures of
                    // their keys (those of a skill removed earlier come back), as read under its
                    // lock: a review of this provider waits for the lock before it writes them.
                    rows.set_review_stats(stats.0, stats.1);
                    rows.set_created_at(stats.3);
                    let figures = skill_figures(conn, uuid).await?;
                    rows.set_skill_figures(&figures).map_err(Refused::Repo)?;
                    insert_children(conn, &rows).await?;
                    outbox::record(conn, &[Change::provider(ChangeKind::ProviderReplaced, id)])
                        .await?;
                    Ok((stats, figures))
                })
                .await
                .map_err(RepoError::from)
            })
            .await?;
        let stat = |v: i64| u64::try_from(v).map_err(|e| RepoError::Unexpected(e.into()));
        replaced.reviews = ReviewStats {
            count: stat(count)?,
            sum_tenths: stat(sum)?,
        };
        replaced = replaced.with_skill_figures(&figures);
        replaced.created_at = created_at;
        Ok(Versioned {
            value: replaced,
            version: version_of(version)?,
        })
    }

    async fn delete(
        &self,
        id: ProviderId,
        owner: UserId,
        check: &VersionCheck,
    ) -> Result<(), RepoError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            let conn: &mut AsyncPgConnection = &mut conn;
            // Skills, availability, runs and reviews go with it (ON DELETE CASCADE); its one
            // event stands for them all.
            conn.transaction::<_, Refused, _>(async |conn| {
                check_version(conn, id, owner, check).await?;
                let deleted = diesel::delete(
                    providers::table
                        .filter(providers::id.eq(id.as_uuid()))
                        .filter(providers::owner_id.eq(owner.as_uuid())),
                )
                .execute(conn)
                .await?;
                if deleted == 0 {
                    return Err(Refused::Repo(RepoError::NotFound));
                }
                outbox::record(conn, &[Change::provider(ChangeKind::ProviderDeleted, id)]).await?;
                Ok(())
            })
            .await
            .map_err(RepoError::from)
        })
        .await
    }

    async fn search(
        &self,
        filter: &SearchFilter,
        sort: SearchSort,
        paging: Paging<SortKey>,
        total: bool,
    ) -> Result<Found<Provider>, RepoError> {
        let custom_plan = queries::search_needs_custom_plan(filter);
        self.bounded(routed_read!(&self.reads, |conn| {
            let statement = queries::search(filter, sort, &paging);
            // One statement: one snapshot. Only a plan that depends on the values needs the
            // transaction that sets the plan mode for it; any other search is one round trip.
            // A total is a second statement, read from the page's snapshot.
            let (rows, counted): (Vec<WholeProviderRow>, Option<i64>) = if total {
                let count = queries::search_total(filter);
                conn.build_transaction()
                    .repeatable_read()
                    .read_only()
                    .run::<_, DieselError, _>(async |conn| {
                        let rows = if custom_plan {
                            pool::load_planned_for_values!(conn, statement)?
                        } else {
                            statement.load(&mut *conn).await?
                        };
                        let counted: CountRow = count.get_result(conn).await?;
                        Ok((rows, Some(counted.n)))
                    })
                    .await
            } else if custom_plan {
                conn.build_transaction()
                    .read_only()
                    .run::<_, DieselError, _>(async |conn| {
                        pool::load_planned_for_values!(conn, statement)
                    })
                    .await
                    .map(|rows| (rows, None))
            } else {
                statement.load(conn).await.map(|rows| (rows, None))
            }
            .map_err(repo_error)?;
            let found = providers_of(rows)?;
            Ok(Found {
                page: page_of(found, paging.size()),
                total: counted.map(|n| Total::counted(u64::try_from(n).unwrap_or(0))),
            })
        }))
        .await
    }

    async fn recommend(
        &self,
        job: &JobRequest,
        page: Page,
    ) -> Result<PageOf<Recommendation>, RepoError> {
        self.bounded(routed_read!(&self.reads, |conn| {
            let prefix = self.recommend_prefix;
            let rows: Vec<WholeProviderRow> = conn
                .build_transaction()
                // Every step reads the same snapshot, so the page is that of one moment.
                .repeatable_read()
                .read_only()
                .run::<_, DieselError, _>(async |conn| {
                    let ranking = recommend::rank(conn, job, page, prefix, true).await?;
                    ranking.load_page().load(conn).await
                })
                .await
                .map_err(repo_error)?;
            let found = providers_of(rows)?;
            let items = found
                .into_iter()
                .map(|provider| job.recommendation(provider))
                .collect();
            Ok(page_of(items, page.size()))
        }))
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

//! The PostgreSQL side of an in-process read model ([`ModelSource`]): a snapshot of every
//! provider, and catch-ups read from the change feed.
//!
//! A position is a PostgreSQL snapshot (`pg_snapshot` text, `xmin:xmax:xip,...`): the set of
//! transactions committed at one moment. A catch-up from position `A` runs one statement whose
//! own snapshot `B` is the new position; it reads the feed's events of the transactions `B`
//! sees and `A` did not (`NOT pg_visible_in_snapshot(xid, A)`: committed since, whatever order
//! they began in), and the changed providers as `B` sees them, in the same statement. So the
//! model holds exactly what the database held at `B`, and a read that began before the
//! statement was sent sees every write acknowledged before it. Always on the primary: a
//! replica's snapshots are not the primary's.

use crate::error::repo_error;
use crate::queries::PROVIDER_COLUMNS;
use crate::rows::{VersionedProviderRow, WholeProviderRow};
use crate::sql::Statement;
use crate::store::PgStore;
use async_trait::async_trait;
use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use futures_util::StreamExt;
use provider_domain::ProviderId;
use provider_ports::{
    CatchUp, Caught, FeedPosition, ModelSource, ProviderChange, RepoError, SnapshotSink, Versioned,
};
use uuid::Uuid;

/// Providers handed to the model's builder at once while a snapshot streams in.
const SNAPSHOT_BATCH: usize = 10_000;

/// Every provider of one range of ids (`$1 <= id`, and `id < $2` when bound), with its
/// children and version, children aggregated per table in one pass each (a full read: a lookup
/// per provider would cost five index probes a row).
fn providers_in(low: Option<Uuid>, high: Option<Uuid>) -> Statement {
    let mut s = Statement::new("");
    let range = |s: &mut Statement, column: &str| {
        s.sql(" WHERE TRUE");
        if let Some(low) = low {
            s.sql(&format!(" AND {column} >= ")).bind::<SqlUuid, _>(low);
        }
        if let Some(high) = high {
            s.sql(&format!(" AND {column} < ")).bind::<SqlUuid, _>(high);
        }
    };
    s.sql(&format!(
        "SELECT {PROVIDER_COLUMNS}, p.version, \
           COALESCE(k.skills, '{{}}') AS skills, \
           COALESCE(k.skill_review_counts, '{{}}') AS skill_review_counts, \
           COALESCE(k.skill_rating_sums, '{{}}') AS skill_rating_sums, \
           COALESCE(a.from_dates, '{{}}') AS from_dates, \
           COALESCE(a.to_dates, '{{}}') AS to_dates \
         FROM providers p \
         LEFT JOIN (SELECT s.provider_id, \
             array_agg(s.skill ORDER BY s.position) AS skills, \
             array_agg(s.skill_review_count ORDER BY s.position) AS skill_review_counts, \
             array_agg(s.skill_rating_sum ORDER BY s.position) AS skill_rating_sums \
           FROM provider_skills s"
    ));
    range(&mut s, "s.provider_id");
    s.sql(
        " GROUP BY s.provider_id) k ON k.provider_id = p.id \
         LEFT JOIN (SELECT a.provider_id, \
             array_agg(lower(a.period) ORDER BY a.period) AS from_dates, \
             array_agg(upper(a.period) - 1 ORDER BY a.period) AS to_dates \
           FROM availability a",
    );
    range(&mut s, "a.provider_id");
    s.sql(" GROUP BY a.provider_id) a ON a.provider_id = p.id");
    range(&mut s, "p.id");
    s
}

/// A pool connection inside the snapshot's transaction: dropped before [`Self::commit`], it
/// leaves the pool (closed) rather than go back with the transaction open, whatever ended
/// the load early (an error, the load being dropped).
struct InSnapshot(Option<Object<AsyncPgConnection>>);

impl InSnapshot {
    fn conn(&mut self) -> &mut AsyncPgConnection {
        self.0.as_mut().expect("held until committed")
    }

    /// Ends the transaction; the connection goes back to the pool.
    async fn commit(mut self) -> Result<(), RepoError> {
        self.conn()
            .batch_execute("COMMIT")
            .await
            .map_err(repo_error)?;
        self.0.take();
        Ok(())
    }
}

impl Drop for InSnapshot {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            drop(Object::take(conn));
        }
    }
}

/// Streams `statement`'s providers to `batches`, [`SNAPSHOT_BATCH`] at a time, on `conn`.
async fn stream_providers(
    conn: &mut AsyncPgConnection,
    statement: Statement,
    batches: tokio::sync::mpsc::Sender<Vec<Versioned<provider_domain::Provider>>>,
) -> Result<(), RepoError> {
    let mut rows = statement
        .load_stream::<VersionedProviderRow>(conn)
        .await
        .map_err(repo_error)?;
    let mut batch = Vec::with_capacity(SNAPSHOT_BATCH);
    while let Some(row) = rows.next().await {
        batch.push(Versioned::try_from(row.map_err(repo_error)?)?);
        if batch.len() == SNAPSHOT_BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(SNAPSHOT_BATCH));
            if batches.send(full).await.is_err() {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = batches.send(batch).await;
    }
    Ok(())
}

/// The snapshot transaction's settings: no statement timeout (a full read takes seconds), no
/// JIT (compiling the full read's plan costs more than it saves: 27 s with it, 16 s without,
/// at 1,000,000, on a busy machine).
const SNAPSHOT_SETTINGS: &str = "SET LOCAL statement_timeout = 0; SET LOCAL jit = off";

/// Where a snapshot starts: its position, the name it is exported under (for the second
/// connection), and the id splitting the providers in halves (`None`: too few to split).
#[derive(Debug, QueryableByName)]
struct SnapshotStart {
    #[diesel(sql_type = Text)]
    position: String,
    #[diesel(sql_type = Text)]
    exported: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    middle: Option<Uuid>,
}

/// A catch-up's answer: one row per changed provider (its columns NULL when it is gone), or
/// one row naming none; each with the new position and the feed's purge horizon.
#[derive(Debug, QueryableByName)]
struct CatchUpRow {
    #[diesel(sql_type = Text)]
    position: String,
    /// Whether the feed was purged past the starting position.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    behind: bool,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    changed: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    owner_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    cost_in_pence: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    review_count: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    rating_sum: Option<i64>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Timestamptz>)]
    created_at: Option<time::OffsetDateTime>,
    #[diesel(sql_type = Nullable<BigInt>)]
    version: Option<i64>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Array<Text>>)]
    skills: Option<Vec<String>>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Array<BigInt>>)]
    skill_review_counts: Option<Vec<i64>>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Array<BigInt>>)]
    skill_rating_sums: Option<Vec<i64>>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Array<diesel::sql_types::Date>>)]
    from_dates: Option<Vec<time::Date>>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Array<diesel::sql_types::Date>>)]
    to_dates: Option<Vec<time::Date>>,
}

impl CatchUpRow {
    /// The changed provider this row names, with its state (`None`: gone); `None` for the row
    /// that names none.
    fn change(self) -> Result<Option<ProviderChange>, RepoError> {
        let Some(changed) = self.changed else {
            return Ok(None);
        };
        let state = match (
            self.id,
            self.owner_id,
            self.name,
            self.cost_in_pence,
            self.review_count,
            self.rating_sum,
            self.created_at,
            self.version,
        ) {
            (
                Some(id),
                Some(owner_id),
                Some(name),
                Some(cost_in_pence),
                Some(review_count),
                Some(rating_sum),
                Some(created_at),
                Some(version),
            ) => Some(Versioned::try_from(VersionedProviderRow {
                provider: WholeProviderRow {
                    id,
                    owner_id,
                    name,
                    cost_in_pence,
                    review_count,
                    rating_sum,
                    created_at,
                    skills: self.skills.unwrap_or_default(),
                    skill_review_counts: self.skill_review_counts.unwrap_or_default(),
                    skill_rating_sums: self.skill_rating_sums.unwrap_or_default(),
                    from_dates: self.from_dates.unwrap_or_default(),
                    to_dates: self.to_dates.unwrap_or_default(),
                },
                version,
            })?),
            _ => None,
        };
        Ok(Some((ProviderId::from_uuid(changed), state)))
    }
}

#[async_trait]
impl ModelSource for PgStore {
    async fn snapshot(&self, sink: &mut SnapshotSink<'_>) -> Result<FeedPosition, RepoError> {
        // One read-only REPEATABLE READ snapshot, its position `pg_current_snapshot()`, read in
        // two halves of the ids on two connections at once (the second imports the first's
        // exported snapshot), each streamed and decoded on a task of its own: the database and
        // the decoding run on every core. A read-only transaction has no transaction id, so it
        // holds back neither the feed's readers nor a catch-up.
        let mut first = InSnapshot(Some(self.follower_conn().await?));
        first
            .conn()
            .batch_execute(&format!(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; {SNAPSHOT_SETTINGS}"
            ))
            .await
            .map_err(repo_error)?;
        let start: SnapshotStart = Statement::new(
            "SELECT pg_current_snapshot()::text AS position, \
               pg_export_snapshot() AS exported, \
               (SELECT id FROM providers ORDER BY id \
                 OFFSET (SELECT count(*) / 2 FROM providers) LIMIT 1) AS middle",
        )
        .get_result(first.conn())
        .await
        .map_err(repo_error)?;
        let second = match start.middle {
            Some(_) => {
                let mut second = InSnapshot(Some(self.follower_conn().await?));
                second
                    .conn()
                    .batch_execute(&format!(
                        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
                         SET TRANSACTION SNAPSHOT '{}'; {SNAPSHOT_SETTINGS}",
                        // A name PostgreSQL made (hex digits and dashes).
                        start.exported.replace('\'', "")
                    ))
                    .await
                    .map_err(repo_error)?;
                Some(second)
            }
            None => None,
        };
        let (batches, mut received) = tokio::sync::mpsc::channel(4);
        // Each half commits on its own task, so that a load dropped midway still ends both
        // transactions (or closes their connections).
        let read = |mut conn: InSnapshot, low, high, batches| {
            tokio::spawn(async move {
                stream_providers(conn.conn(), providers_in(low, high), batches).await?;
                conn.commit().await
            })
        };
        let mut halves = vec![read(first, None, start.middle, batches.clone())];
        if let Some(second) = second {
            halves.push(read(second, start.middle, None, batches));
        } else {
            drop(batches);
        }
        while let Some(batch) = received.recv().await {
            sink(batch);
        }
        for half in halves {
            half.await
                .map_err(|panicked| RepoError::Unexpected(panicked.into()))??;
        }
        Ok(FeedPosition::new(start.position))
    }

    async fn catch_up(&self, from: &FeedPosition) -> Result<CatchUp, RepoError> {
        // The transactions committed since `from` are those that began after it (an id at or
        // above its `xmax`) and those it saw running (its `xip` list): read as one index range
        // and one short range per running id, never from `from`'s `xmin` on (which a long
        // transaction anywhere on the cluster would hold back, making every catch-up read all
        // events since it began). The statement's own snapshot sees only those of them that
        // have committed. The starting position is bound rather than joined from a CTE (a
        // bound computed from a parameter is an index condition); the providers are read by a
        // lateral lookup with `LIMIT 1`, so that the generic plan (statements are prepared once
        // per connection) stays one primary-key probe per changed provider.
        let from = || from.as_str().to_owned();
        let mut s = Statement::new(
            "WITH changed AS (\
               SELECT e.provider_id FROM change_events e \
                 WHERE e.sequence >= (pg_snapshot_xmax(",
        );
        s.bind::<Text, _>(from())
            .sql(
                "::pg_snapshot)::text::bigint << 10) \
               UNION \
               SELECT r.provider_id FROM pg_snapshot_xip(",
            )
            .bind::<Text, _>(from())
            .sql(
                "::pg_snapshot) x(xid) CROSS JOIN LATERAL (\
                   SELECT e.provider_id FROM change_events e \
                   WHERE e.sequence >= (x.xid::text::bigint << 10) \
                     AND e.sequence < ((x.xid::text::bigint + 1) << 10) OFFSET 0) r) \
             SELECT pg_current_snapshot()::text AS position, \
               h.purged_through >= (pg_snapshot_xmin(",
            )
            .bind::<Text, _>(from())
            .sql(
                "::pg_snapshot)::text::bigint << 10) AS behind, \
               c.provider_id AS changed, p.* \
             FROM change_events_horizon h LEFT JOIN changed c ON true \
             LEFT JOIN LATERAL (SELECT p.id, p.owner_id, p.name, p.cost_in_pence, \
               p.review_count, p.rating_sum, p.created_at, p.version, \
               ARRAY(SELECT s.skill FROM provider_skills s WHERE s.provider_id = p.id \
                 ORDER BY s.position) AS skills, \
               ARRAY(SELECT s.skill_review_count FROM provider_skills s \
                 WHERE s.provider_id = p.id ORDER BY s.position) AS skill_review_counts, \
               ARRAY(SELECT s.skill_rating_sum FROM provider_skills s \
                 WHERE s.provider_id = p.id ORDER BY s.position) AS skill_rating_sums, \
               ARRAY(SELECT lower(a.period) FROM availability a WHERE a.provider_id = p.id \
                 ORDER BY a.period) AS from_dates, \
               ARRAY(SELECT upper(a.period) - 1 FROM availability a \
                 WHERE a.provider_id = p.id ORDER BY a.period) AS to_dates \
               FROM providers p WHERE p.id = c.provider_id LIMIT 1) p ON true",
            );
        let rows: Vec<CatchUpRow> = self
            .bounded(async {
                let mut conn = self.follower_conn().await?;
                s.load(&mut *conn).await.map_err(repo_error)
            })
            .await?;
        let Some(first) = rows.first() else {
            return Err(RepoError::Unexpected(
                "a catch-up answered no row".to_owned().into(),
            ));
        };
        if first.behind {
            return Ok(CatchUp::Behind);
        }
        let position = FeedPosition::new(first.position.clone());
        let mut changed = Vec::with_capacity(rows.len());
        for row in rows {
            changed.extend(row.change()?);
        }
        Ok(CatchUp::Caught(Caught { position, changed }))
    }
}

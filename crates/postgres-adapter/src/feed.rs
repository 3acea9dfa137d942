//! The change feed read from PostgreSQL (`change_events`; [`crate::outbox`] writes it): pages
//! below the oldest transaction still running, so a late commit is never skipped, and the
//! retention purge.

use crate::error::repo_error;
use crate::sql::Statement;
use crate::store::PgStore;
use async_trait::async_trait;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use provider_domain::{ProviderId, ReviewId};
use provider_ports::{Change, ChangeEvent, ChangeFeed, ChangeKind, FeedPage, RepoError};
use time::OffsetDateTime;
use uuid::Uuid;

/// A page of the feed: one row per event, or one row of NULLs when there is none, each with
/// the horizon's figures.
#[derive(Debug, QueryableByName)]
struct FeedRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    sequence: Option<i64>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    at: Option<OffsetDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    kind: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    provider_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    review_id: Option<Uuid>,
    #[diesel(sql_type = BigInt)]
    purged_through: i64,
}

fn unexpected(what: String) -> RepoError {
    RepoError::Unexpected(what.into())
}

impl FeedRow {
    fn event(self) -> Result<Option<ChangeEvent>, RepoError> {
        let (Some(sequence), Some(at), Some(kind), Some(provider)) =
            (self.sequence, self.at, self.kind, self.provider_id)
        else {
            return Ok(None);
        };
        let kind = ChangeKind::parse(&kind)
            .ok_or_else(|| unexpected(format!("unknown change event type {kind:?}")))?;
        let provider_id = ProviderId::from_uuid(provider);
        let change = match (kind.is_review(), self.review_id) {
            (false, None) => Change::provider(kind, provider_id),
            (true, Some(review)) => Change::review(kind, provider_id, ReviewId::from_uuid(review)),
            _ => {
                return Err(unexpected(format!(
                    "change event {sequence} names no review"
                )))
            }
        };
        Ok(Some(ChangeEvent {
            sequence: u64::try_from(sequence).map_err(|e| RepoError::Unexpected(e.into()))?,
            at,
            change,
        }))
    }
}

#[async_trait]
impl ChangeFeed for PgStore {
    async fn events(&self, after: u64, limit: u32) -> Result<FeedPage, RepoError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        // One statement, one snapshot: the horizon and the events agree. Only below the oldest
        // running transaction's base: every transaction there has ended, so nothing can later
        // appear below a sequence returned now. Always from the primary: a replica replays
        // with a delay the reader cannot see.
        let mut s = Statement::new(
            "SELECT e.sequence, e.at, e.type AS kind, e.provider_id, e.review_id, \
               h.purged_through \
             FROM change_events_horizon h LEFT JOIN LATERAL (\
               SELECT * FROM change_events WHERE sequence > ",
        );
        s.bind::<BigInt, _>(after)
            .sql(
                " AND sequence < \
                 (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 10) \
                 ORDER BY sequence LIMIT ",
            )
            .bind::<BigInt, _>(i64::from(limit))
            .sql(") e ON true ORDER BY e.sequence");
        let rows: Vec<FeedRow> = self
            .bounded(async {
                let mut conn = self.conn().await?;
                s.load(&mut *conn).await.map_err(repo_error)
            })
            .await?;
        let purged_through = rows
            .first()
            .map_or(0, |r| u64::try_from(r.purged_through).unwrap_or(0));
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            events.extend(row.event()?);
        }
        Ok(FeedPage {
            events,
            purged_through,
        })
    }

    async fn purge(&self, before: OffsetDateTime) -> Result<u64, RepoError> {
        // The newest event made before `before` that readers may already see (below the
        // oldest running transaction: one still running keeps its place), and every event up
        // to it: the horizon moves in the same statement, so a reader sees both or neither.
        let mut s = Statement::new(
            "WITH last AS (SELECT max(sequence) AS sequence FROM change_events WHERE at < ",
        );
        s.bind::<Timestamptz, _>(before).sql(
            " AND sequence < (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 10)), gone AS (DELETE FROM change_events WHERE sequence <= (SELECT sequence FROM last) \
               RETURNING 1), \
             h AS (UPDATE change_events_horizon \
               SET purged_through = GREATEST(purged_through, (SELECT sequence FROM last)) \
               WHERE (SELECT sequence FROM last) IS NOT NULL) \
             SELECT count(*) AS n FROM gone",
        );
        let row: CountRow = self
            .bounded(async {
                let mut conn = self.conn().await?;
                s.get_result(&mut *conn).await.map_err(repo_error)
            })
            .await?;
        Ok(u64::try_from(row.n).unwrap_or(0))
    }
}

#[derive(Debug, QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

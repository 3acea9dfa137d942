//! The change feed's writing side (a transactional outbox, `change_events`; its migration says
//! why the sequence is the writing transaction's id times 1,024 plus the event's place in it):
//! writes record their changes inside their own transaction, most often inside their own
//! statement. [`crate::feed`] reads them.

use crate::sql::Statement;
use diesel::sql_types::{Array, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use provider_ports::{Change, ChangeKind};
use uuid::Uuid;

/// The first sequence of the current transaction's events (its place 0). Calling it gives the
/// transaction an id if it had none; every write has one anyway.
pub(crate) const TRANSACTION_BASE: &str = "(pg_current_xact_id()::text::bigint << 10)";

/// How many events one transaction may record (the sequence's low bits).
const PER_TRANSACTION: usize = 1024;

/// Records `changes`, in order, as events of the current transaction (after any it recorded
/// before). Call it inside the write's transaction: the events commit or roll back with it.
pub(crate) async fn record(
    conn: &mut AsyncPgConnection,
    changes: &[Change],
) -> diesel::QueryResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    recording(None, changes).execute(conn).await?;
    Ok(())
}

/// The statement [`record`] runs, after `ctes` (data-modifying CTEs such as `h AS (INSERT
/// ...)`, run in the same statement: one round trip for both), if any. `changes` is not empty.
pub(crate) fn recording(ctes: Option<Statement>, changes: &[Change]) -> Statement {
    debug_assert!(!changes.is_empty() && changes.len() < PER_TRANSACTION);
    let kinds: Vec<String> = changes.iter().map(|c| c.kind.as_str().to_owned()).collect();
    let providers: Vec<Uuid> = changes.iter().map(|c| c.provider_id.as_uuid()).collect();
    let reviews: Vec<Option<Uuid>> = changes
        .iter()
        .map(|c| c.review_id.map(|r| r.as_uuid()))
        .collect();
    let mut s = Statement::new("WITH ");
    if let Some(ctes) = ctes {
        s.append(ctes).sql(", ");
    }
    places(&mut s);
    s.sql(
        " INSERT INTO change_events (sequence, at, type, provider_id, review_id) \
         SELECT x.base + k.n + u.n - 1, now(), u.type, u.provider_id, u.review_id \
         FROM x, k, unnest(",
    )
    .bind::<Array<Text>, _>(kinds)
    .sql("::text[], ")
    .bind::<Array<SqlUuid>, _>(providers)
    .sql("::uuid[], ")
    .bind::<Array<Nullable<SqlUuid>>, _>(reviews)
    .sql("::uuid[]) WITH ORDINALITY AS u(type, provider_id, review_id, n)");
    s
}

/// The CTEs `x` (the transaction's first sequence, `base`) and `k` (how many events it
/// recorded before, `n`: theirs are the first places; an index probe).
fn places(s: &mut Statement) {
    s.sql("x AS (SELECT ").sql(TRANSACTION_BASE).sql(
        " AS base), k AS (SELECT count(*) AS n FROM change_events, x \
           WHERE sequence >= x.base AND sequence < x.base + 1024)",
    );
}

/// A CTE `name AS (INSERT ...)` recording the changes `kinds` of review `review`, whose
/// provider is the `provider_id` of the CTE `changed` (one row when the review changed, none
/// when it did not: then nothing is recorded). For a statement that changes the review and
/// records its events at once; its CTEs must not record others.
pub(crate) fn review_recording(
    s: &mut Statement,
    name: &str,
    changed: &str,
    review: Uuid,
    kinds: &[ChangeKind],
) {
    debug_assert!(!kinds.is_empty() && kinds.len() < PER_TRANSACTION);
    let kinds: Vec<String> = kinds.iter().map(|k| k.as_str().to_owned()).collect();
    places(s);
    s.sql(", ")
        .sql(name)
        .sql(
            " AS (INSERT INTO change_events (sequence, at, type, provider_id, review_id) \
             SELECT x.base + k.n + u.n - 1, now(), u.type, c.provider_id, ",
        )
        .bind::<SqlUuid, _>(review)
        .sql(" FROM x, k, ")
        .sql(changed)
        .sql(" c, unnest(")
        .bind::<Array<Text>, _>(kinds)
        .sql("::text[]) WITH ORDINALITY AS u(type, n))");
}

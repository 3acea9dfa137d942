//! The SQL of a provider's inserts, each a prepared statement the driver caches: the children
//! go in as one array per column (`unnest`), so a statement's text does not depend on how many
//! skills or ranges a provider has (diesel's multi-row `VALUES` does, and is prepared anew on
//! every call, each preparation a round trip).

use crate::rows::{NewAvailabilityRow, NewRunRow, NewSkillRow, ProviderRows};
use crate::sql::Statement;
use diesel::sql_types::{
    Array, BigInt, Date as SqlDate, Range, SmallInt, Text, Timestamptz, Uuid as SqlUuid,
};
use std::ops::Bound;
use time::{Date, OffsetDateTime};

/// A new provider and all its children in one statement (one round trip, atomic as any
/// statement is): data-modifying CTEs, the children inserted from the provider row's
/// `RETURNING`, so their copies of its day rate and review figures are the row's own. Answers
/// one `bigint` column `version` (`rows::VersionRow`), the column's default. Its
/// `provider.created` event is recorded in the same statement.
///
/// The foreign keys and the availability rule are checked at the end of the statement, when
/// the provider row and its children all exist.
pub(crate) fn create(rows: &ProviderRows<'_>) -> Statement {
    let p = &rows.provider;
    let mut s = Statement::new(
        "WITH p AS (INSERT INTO providers \
           (id, owner_id, name, name_key, cost_in_pence, review_count, rating_sum, created_at) \
           VALUES (",
    );
    s.bind::<SqlUuid, _>(p.id)
        .sql(", ")
        .bind::<SqlUuid, _>(p.owner_id)
        .sql(", ")
        .bind::<Text, _>(p.name.to_owned())
        .sql(", ")
        .bind::<Text, _>(p.name_key.clone())
        .sql(", ")
        .bind::<BigInt, _>(p.cost_in_pence)
        .sql(", ")
        .bind::<BigInt, _>(p.review_count)
        .sql(", ")
        .bind::<BigInt, _>(p.rating_sum)
        .sql(", ")
        .bind::<Timestamptz, _>(p.created_at)
        .sql(
            ") RETURNING id, cost_in_pence, review_count, rating_sum, created_at, version), \
             s AS (INSERT INTO provider_skills (provider_id, position, skill, skill_key, \
               cost_in_pence, review_count, rating_sum, skill_review_count, skill_rating_sum, \
               created_at) \
             SELECT p.id, u.position, u.skill, u.skill_key, p.cost_in_pence, p.review_count, \
               p.rating_sum, u.skill_review_count, u.skill_rating_sum, p.created_at \
             FROM p CROSS JOIN ",
        );
    skill_columns(&mut s, &rows.skills);
    s.sql(
        "), a AS (INSERT INTO availability (provider_id, period) \
         SELECT p.id, u.range FROM p CROSS JOIN ",
    );
    ranges(&mut s, rows.availability.iter().map(|a| &a.period));
    s.sql(
        "), r AS (INSERT INTO availability_runs (provider_id, run) \
         SELECT p.id, u.range FROM p CROSS JOIN ",
    );
    ranges(&mut s, rows.runs.iter().map(|r| &r.run));
    // Its event, the first of its transaction (see `outbox::record`).
    s.sql(
        "), e AS (INSERT INTO change_events (sequence, at, type, provider_id) \
         SELECT ",
    )
    .sql(crate::outbox::TRANSACTION_BASE)
    .sql(", now(), 'provider.created', p.id FROM p) SELECT version FROM p");
    s
}

/// The skill rows `skills` (all of one provider, `provider_id`, created at `created_at`),
/// inserted.
pub(crate) fn skills(
    provider_id: uuid::Uuid,
    created_at: OffsetDateTime,
    skills: &[NewSkillRow<'_>],
) -> Statement {
    let mut s = Statement::new(
        "INSERT INTO provider_skills (provider_id, position, skill, skill_key, cost_in_pence, \
           review_count, rating_sum, skill_review_count, skill_rating_sum, created_at) \
         SELECT ",
    );
    s.bind::<SqlUuid, _>(provider_id).sql(
        ", u.position, u.skill, u.skill_key, u.cost_in_pence, u.review_count, u.rating_sum, \
         u.skill_review_count, u.skill_rating_sum, ",
    );
    s.bind::<Timestamptz, _>(created_at).sql(" FROM ");
    skill_columns(&mut s, skills);
    s
}

/// The availability rows `rows` (all of one provider, `provider_id`), inserted.
pub(crate) fn availability(provider_id: uuid::Uuid, rows: &[NewAvailabilityRow]) -> Statement {
    let mut s = Statement::new(
        "INSERT INTO availability (provider_id, period) \
         SELECT ",
    );
    s.bind::<SqlUuid, _>(provider_id).sql(", u.range FROM ");
    ranges(&mut s, rows.iter().map(|a| &a.period));
    s
}

/// The run rows `rows` (all of one provider, `provider_id`), inserted.
pub(crate) fn runs(provider_id: uuid::Uuid, rows: &[NewRunRow]) -> Statement {
    let mut s = Statement::new(
        "INSERT INTO availability_runs (provider_id, run) \
         SELECT ",
    );
    s.bind::<SqlUuid, _>(provider_id).sql(", u.range FROM ");
    ranges(&mut s, rows.iter().map(|r| &r.run));
    s
}

/// `unnest(...) AS u(position, skill, skill_key, cost_in_pence, review_count, rating_sum,
/// skill_review_count, skill_rating_sum)`: the skill rows' columns as arrays.
fn skill_columns(s: &mut Statement, skills: &[NewSkillRow<'_>]) {
    let column = |f: fn(&NewSkillRow<'_>) -> i64| skills.iter().map(f).collect::<Vec<i64>>();
    s.sql("unnest(")
        .bind::<Array<SmallInt>, _>(skills.iter().map(|k| k.position).collect::<Vec<i16>>())
        .sql(", ")
        .bind::<Array<Text>, _>(
            skills
                .iter()
                .map(|k| k.skill.to_owned())
                .collect::<Vec<_>>(),
        )
        .sql(", ")
        .bind::<Array<Text>, _>(
            skills
                .iter()
                .map(|k| k.skill_key.to_owned())
                .collect::<Vec<_>>(),
        )
        .sql(", ")
        .bind::<Array<BigInt>, _>(column(|k| k.cost_in_pence))
        .sql(", ")
        .bind::<Array<BigInt>, _>(column(|k| k.review_count))
        .sql(", ")
        .bind::<Array<BigInt>, _>(column(|k| k.rating_sum))
        .sql(", ")
        .bind::<Array<BigInt>, _>(column(|k| k.skill_review_count))
        .sql(", ")
        .bind::<Array<BigInt>, _>(column(|k| k.skill_rating_sum))
        .sql(
            ") AS u(position, skill, skill_key, cost_in_pence, review_count, rating_sum, \
             skill_review_count, skill_rating_sum)",
        );
}

/// `unnest(...) AS u(range)`: the ranges as one array.
fn ranges<'a>(s: &mut Statement, ranges: impl Iterator<Item = &'a (Bound<Date>, Bound<Date>)>) {
    s.sql("unnest(")
        .bind::<Array<Range<SqlDate>>, _>(ranges.copied().collect::<Vec<_>>())
        .sql(") AS u(range)");
}

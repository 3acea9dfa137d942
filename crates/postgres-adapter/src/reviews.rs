//! `ReviewRepository` for [`PgStore`]: reviews with their moderation (status, reasons, latest
//! decision and appeal on the review's row; open flags in `review_flags`; the reply in
//! `review_replies`; the history in the append-only `review_events`).
//!
//! Every change is one transaction that takes the provider's row lock FIRST when the
//! provider's figures change (the relative `UPDATE providers`, as a review's insert and a
//! replace do), then the review's row by `UPDATE reviews ... WHERE id = $1 AND revision = $2`:
//! one lock order for every writer, so writers of one provider queue instead of deadlocking,
//! and a change lands only on the revision its caller read. A review is read back by one
//! statement (one snapshot): its row, owner, skill ratings, open flags and reply together.

use crate::error::repo_error;
use crate::idempotency::{claim_taken_over, complete_in};
use crate::outbox;
use crate::replica::routed_read;
use crate::rows::{corrupt, ReviewRow, ReviewSkillRatingRow};
use crate::schema::{providers, review_flags, review_replies, review_skill_ratings, reviews};
use crate::sql::Statement as Sql;
use crate::store::{page_of, PgStore, Refused};
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Int2, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use provider_domain::{
    Appeal, AppealStatus, Comment, Contribution, Decision, DecisionAction, DecisionRule, Event,
    FiguresChange, FiguresDelta, FlagExplanation, FlagId, FlagReason, FlagStatus, Moderation,
    ProviderId, Rating, Reason, Reply, Review, ReviewId, ReviewStatus, Skill, SkillRating,
    Statement, UserId,
};
use provider_ports::moderation::{
    event_detail_from_json, event_detail_json, AppealContent, ReplyChange, ReplyContent,
};
use provider_ports::{
    review_changes, Change, Completion, Page, PageOf, Paging, RepoError, ReviewChange, ReviewKey,
    ReviewRepository, Revision, StoredFlag, StoredReview, Submission,
};
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;
use uuid::Uuid;

/// A review's moderation as the columns of its row hold it (the flags and the reply are rows
/// of their own).
/// Also what the bulk loader copies.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = reviews, treat_none_as_null = true)]
pub(crate) struct ModerationColumns {
    pub(crate) status: &'static str,
    pub(crate) reasons: Vec<&'static str>,
    pub(crate) queued_at: Option<OffsetDateTime>,
    pub(crate) decision_action: Option<&'static str>,
    pub(crate) decision_by: Option<Uuid>,
    pub(crate) decision_rule: Option<String>,
    pub(crate) decision_statement: Option<String>,
    pub(crate) decision_at: Option<OffsetDateTime>,
    pub(crate) decision_appealed: Option<bool>,
    pub(crate) appeal_against: Option<Uuid>,
    pub(crate) appeal_status: Option<&'static str>,
    pub(crate) appeal_at: Option<OffsetDateTime>,
}

fn reason_names(reasons: &BTreeSet<Reason>) -> Vec<&'static str> {
    reasons.iter().map(|r| r.as_str()).collect()
}

impl ModerationColumns {
    pub(crate) fn of(m: &Moderation, queued_at: Option<OffsetDateTime>) -> Self {
        let mut columns = Self {
            status: m.status.as_str(),
            reasons: reason_names(&m.reasons),
            queued_at,
            decision_action: m.decision.as_ref().map(Decision::action_name),
            decision_by: None,
            decision_rule: None,
            decision_statement: None,
            decision_at: m.decision.as_ref().map(Decision::decided_at),
            decision_appealed: None,
            appeal_against: m.appeal.map(|a| a.against.as_uuid()),
            appeal_status: m.appeal.map(|a| a.status.as_str()),
            appeal_at: m.appeal.map(|a| a.at),
        };
        match &m.decision {
            None => {}
            Some(Decision::Hold { rule, .. }) => {
                columns.decision_rule = Some(rule.as_str().to_owned());
            }
            Some(Decision::Moderator {
                by,
                rule,
                statement,
                appealed,
                ..
            }) => {
                columns.decision_by = Some(by.as_uuid());
                columns.decision_rule = Some(rule.as_str().to_owned());
                columns.decision_statement = Some(statement.as_str().to_owned());
                columns.decision_appealed = Some(*appealed);
            }
        }
        columns
    }
}

/// A new review's row: its content and its moderation.
#[derive(Debug, Insertable)]
#[diesel(table_name = reviews)]
struct NewReview {
    #[diesel(embed)]
    content: ReviewRow,
    #[diesel(embed)]
    moderation: ModerationColumns,
}

/// Columns of a review read back whole (see [`STORED_REVIEW`]).
#[derive(Debug, QueryableByName)]
struct StoredReviewRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    provider_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = Int2)]
    rating: i16,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    created_at: OffsetDateTime,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Array<Text>)]
    reasons: Vec<String>,
    #[diesel(sql_type = BigInt)]
    revision: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    queued_at: Option<OffsetDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    decision_action: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    decision_by: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    decision_rule: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    decision_statement: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    decision_at: Option<OffsetDateTime>,
    #[diesel(sql_type = Nullable<Bool>)]
    decision_appealed: Option<bool>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    appeal_against: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    appeal_status: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    appeal_at: Option<OffsetDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    appeal_explanation: Option<String>,
    #[diesel(sql_type = SqlUuid)]
    owner_id: Uuid,
    #[diesel(sql_type = Array<Text>)]
    rated_skills: Vec<String>,
    #[diesel(sql_type = Array<Int2>)]
    skill_ratings: Vec<i16>,
    #[diesel(sql_type = Array<SqlUuid>)]
    flaggers: Vec<Uuid>,
    #[diesel(sql_type = Array<Text>)]
    flag_reasons: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    reply_text: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    reply_status: Option<String>,
    #[diesel(sql_type = Nullable<Array<Text>>)]
    reply_reasons: Option<Vec<String>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    reply_created_at: Option<OffsetDateTime>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    reply_updated_at: Option<OffsetDateTime>,
}

/// A review whole, from its row, its provider (the owner), its skill ratings and open flags
/// (correlated subqueries: one index scan each) and its reply; `r` is the review. Followed by
/// a `WHERE`.
const STORED_REVIEW: &str = "SELECT r.id, r.provider_id, r.user_id, r.rating, r.comment, \
     r.created_at, r.status, r.reasons, r.revision, r.queued_at, r.decision_action, \
     r.decision_by, r.decision_rule, r.decision_statement, r.decision_at, r.decision_appealed, \
     r.appeal_against, r.appeal_status, r.appeal_at, r.appeal_explanation, p.owner_id, \
     ARRAY(SELECT s.skill FROM review_skill_ratings s WHERE s.review_id = r.id \
       ORDER BY s.position) AS rated_skills, \
     ARRAY(SELECT s.rating FROM review_skill_ratings s WHERE s.review_id = r.id \
       ORDER BY s.position) AS skill_ratings, \
     ARRAY(SELECT f.flagger FROM review_flags f WHERE f.review_id = r.id AND f.status = 'open' \
       ORDER BY f.flagger) AS flaggers, \
     ARRAY(SELECT f.reason FROM review_flags f WHERE f.review_id = r.id AND f.status = 'open' \
       ORDER BY f.flagger) AS flag_reasons, \
     y.text AS reply_text, y.status AS reply_status, y.reasons AS reply_reasons, \
     y.created_at AS reply_created_at, y.updated_at AS reply_updated_at \
     FROM reviews r JOIN providers p ON p.id = r.provider_id \
     LEFT JOIN review_replies y ON y.review_id = r.id WHERE ";

/// The reviews of `page` (a subquery `w` selecting `id` and the columns `order` names), each
/// read whole, in `order`. The page is found first by a walk of an index alone (the reviews
/// passed over by an offset cost no heap row and no subquery); then each of its reviews is
/// read by its primary key: a lateral subquery that cannot be flattened (`OFFSET 0`), so even
/// a generic plan, blind to LIMIT and OFFSET, looks up only the page's rows.
fn stored_page(page: Sql, order: &str) -> Sql {
    let mut s = Sql::new("SELECT x.* FROM (");
    s.append(page)
        .sql(") w CROSS JOIN LATERAL (")
        .sql(STORED_REVIEW)
        .sql("r.id = w.id OFFSET 0) x ORDER BY ")
        .sql(order);
    s
}

/// `LIMIT size + 1 OFFSET (number - 1) * size` (the extra row tells whether more follow).
fn limit(s: &mut Sql, size: u32, offset: usize) {
    s.sql(" LIMIT ")
        .bind::<BigInt, _>(i64::from(size) + 1)
        .sql(" OFFSET ")
        // At most 9,900 (page * size <= 10,000): fits.
        .bind::<BigInt, _>(offset as i64);
}

fn reasons_of(names: &[String]) -> Result<BTreeSet<Reason>, RepoError> {
    names
        .iter()
        .map(|n| Reason::parse(n).ok_or_else(|| corrupt("reason", n)))
        .collect()
}

fn status_of(name: &str) -> Result<ReviewStatus, RepoError> {
    ReviewStatus::parse(name).ok_or_else(|| corrupt("review status", name))
}

impl StoredReviewRow {
    fn decision(&self) -> Result<Option<Decision>, RepoError> {
        let (Some(action), Some(at)) = (self.decision_action.as_deref(), self.decision_at) else {
            return Ok(None);
        };
        let rule = self.decision_rule.as_deref().unwrap_or_default();
        if action == "hold" {
            let rule = Reason::parse(rule).ok_or_else(|| corrupt("hold rule", rule))?;
            return Ok(Some(Decision::Hold { rule, at }));
        }
        let missing = |what| corrupt("decision", format!("no {what}"));
        Ok(Some(Decision::Moderator {
            by: UserId::from_uuid(self.decision_by.ok_or_else(|| missing("moderator"))?),
            action: DecisionAction::parse(action).ok_or_else(|| corrupt("action", action))?,
            rule: DecisionRule::new(rule).map_err(|e| corrupt("decision rule", e))?,
            statement: Statement::new(self.decision_statement.as_deref().unwrap_or_default())
                .map_err(|e| corrupt("statement", e))?,
            at,
            appealed: self.decision_appealed.ok_or_else(|| missing("appealed"))?,
        }))
    }

    fn appeal(&self) -> Result<Option<Appeal>, RepoError> {
        let (Some(against), Some(status), Some(at)) = (
            self.appeal_against,
            self.appeal_status.as_deref(),
            self.appeal_at,
        ) else {
            return Ok(None);
        };
        Ok(Some(Appeal {
            against: UserId::from_uuid(against),
            status: AppealStatus::parse(status).ok_or_else(|| corrupt("appeal status", status))?,
            at,
        }))
    }

    fn into_stored(self) -> Result<StoredReview, RepoError> {
        let decision = self.decision()?;
        let appeal = self.appeal()?;
        if self.rated_skills.len() != self.skill_ratings.len()
            || self.flaggers.len() != self.flag_reasons.len()
        {
            return Err(corrupt("review", "arrays of unequal lengths"));
        }
        let tenths = |v: i16, what| {
            u8::try_from(v)
                .ok()
                .and_then(|t| Rating::from_tenths(t).ok())
                .ok_or_else(|| corrupt(what, v))
        };
        let skill_ratings = self
            .rated_skills
            .iter()
            .zip(&self.skill_ratings)
            .map(|(skill, rating)| {
                Ok(SkillRating {
                    skill: Skill::new(skill).map_err(|e| corrupt("rated skill", e))?,
                    rating: tenths(*rating, "skill rating")?,
                })
            })
            .collect::<Result<Vec<_>, RepoError>>()?;
        let flags = self
            .flaggers
            .iter()
            .zip(&self.flag_reasons)
            .map(|(flagger, reason)| {
                Ok((
                    UserId::from_uuid(*flagger),
                    FlagReason::parse(reason).ok_or_else(|| corrupt("flag reason", reason))?,
                ))
            })
            .collect::<Result<BTreeMap<_, _>, RepoError>>()?;
        let (reply, reply_text) = match (
            self.reply_text,
            self.reply_status.as_deref(),
            self.reply_created_at,
            self.reply_updated_at,
        ) {
            (Some(text), Some(status), Some(created_at), Some(updated_at)) => (
                Some(Reply {
                    status: status_of(status)?,
                    reasons: reasons_of(self.reply_reasons.as_deref().unwrap_or_default())?,
                }),
                Some(ReplyContent {
                    text,
                    created_at,
                    updated_at,
                }),
            ),
            _ => (None, None),
        };
        let author = UserId::from_uuid(self.user_id);
        let revision = u64::try_from(self.revision)
            .ok()
            .filter(|r| *r >= 1)
            .ok_or_else(|| corrupt("revision", self.revision))?;
        Ok(StoredReview {
            review: Review {
                id: ReviewId::from_uuid(self.id),
                provider_id: ProviderId::from_uuid(self.provider_id),
                user_id: author,
                rating: tenths(self.rating, "rating")?,
                comment: self
                    .comment
                    .as_deref()
                    .map(Comment::new)
                    .transpose()
                    .map_err(|e| corrupt("comment", e))?,
                skill_ratings,
                created_at: self.created_at,
            },
            owner: UserId::from_uuid(self.owner_id),
            moderation: Moderation {
                author,
                status: status_of(&self.status)?,
                reasons: reasons_of(&self.reasons)?,
                flags,
                decision,
                appeal,
                reply,
            },
            reply: reply_text,
            appeal: self
                .appeal_explanation
                .map(|explanation| AppealContent { explanation }),
            queued_at: self.queued_at,
            revision: Revision(revision),
        })
    }
}

fn stored_all(rows: Vec<StoredReviewRow>) -> Result<Vec<StoredReview>, RepoError> {
    rows.into_iter().map(StoredReviewRow::into_stored).collect()
}

/// The review `id` read whole, inside the caller's transaction or on its own.
async fn find_on(conn: &mut AsyncPgConnection, id: ReviewId) -> Result<StoredReview, RepoError> {
    first_stored(stored_statement(id).load(conn).await.map_err(repo_error)?)
}

/// The review `id` read whole ([`STORED_REVIEW`]).
fn stored_statement(id: ReviewId) -> Sql {
    let mut s = Sql::new(STORED_REVIEW);
    s.sql("r.id = ").bind::<SqlUuid, _>(id.as_uuid());
    s
}

/// The review of [`stored_statement`]'s rows; none: NotFound.
fn first_stored(rows: Vec<StoredReviewRow>) -> Result<StoredReview, RepoError> {
    rows.into_iter()
        .next()
        .ok_or(RepoError::NotFound)?
        .into_stored()
}

/// The review's provider, from [`change_statement`]: a row when the review changed.
#[derive(Debug, QueryableByName)]
struct ChangedRow {
    #[diesel(sql_type = SqlUuid)]
    #[allow(dead_code)] // Its presence is the answer; the provider is read for the events.
    provider_id: Uuid,
}

/// One statement that applies `change` to review `uuid` at revision `read`: its row (the CTE
/// `r`, only at that revision: a change landed in between matches no row, and the row lock
/// makes a concurrent one wait, then see the new revision), and only when that row changed,
/// its open flags' resolution or a new flag, the reply's status, the history's events and
/// the feed's. Answers one [`ChangedRow`] when the review changed, none when it did not (no
/// such review, or another revision). Not the skill ratings nor the reply's text, nor a new
/// flag together with a resolution (the unique index of open flags would see both rows):
/// the caller writes those after it, in the same transaction.
fn change_statement(uuid: Uuid, read: i64, change: &ReviewChange) -> Sql {
    let m = ModerationColumns::of(&change.moderation, change.queued_at);
    let explanation = change.appeal.as_ref().map(|a| a.explanation.clone());
    // Hand-written (Diesel marks an UPDATE with an SQL literal unsafe to cache), so that each
    // of its few shapes is prepared once per connection and planned once.
    let mut s = Sql::new("WITH r AS (UPDATE reviews SET status = ");
    s.bind::<Text, _>(m.status)
        .sql(", reasons = ")
        .bind::<Array<Text>, _>(m.reasons)
        .sql(", queued_at = ")
        .bind::<Nullable<Timestamptz>, _>(m.queued_at)
        .sql(", decision_action = ")
        .bind::<Nullable<Text>, _>(m.decision_action)
        .sql(", decision_by = ")
        .bind::<Nullable<SqlUuid>, _>(m.decision_by)
        .sql(", decision_rule = ")
        .bind::<Nullable<Text>, _>(m.decision_rule)
        .sql(", decision_statement = ")
        .bind::<Nullable<Text>, _>(m.decision_statement)
        .sql(", decision_at = ")
        .bind::<Nullable<Timestamptz>, _>(m.decision_at)
        .sql(", decision_appealed = ")
        .bind::<Nullable<Bool>, _>(m.decision_appealed)
        .sql(", appeal_against = ")
        .bind::<Nullable<SqlUuid>, _>(m.appeal_against)
        .sql(", appeal_status = ")
        .bind::<Nullable<Text>, _>(m.appeal_status)
        .sql(", appeal_at = ")
        .bind::<Nullable<Timestamptz>, _>(m.appeal_at)
        .sql(", appeal_explanation = COALESCE(")
        .bind::<Nullable<Text>, _>(explanation)
        .sql(", appeal_explanation)");
    if let Some(review) = &change.content {
        s.sql(", rating = ")
            .bind::<Int2, _>(i16::from(review.rating.tenths()))
            .sql(", comment = ")
            .bind::<Nullable<Text>, _>(review.comment.as_ref().map(|c| c.as_str().to_owned()));
    }
    s.sql(", revision = revision + 1 WHERE id = ")
        .bind::<SqlUuid, _>(uuid)
        .sql(" AND revision = ")
        .bind::<BigInt, _>(read)
        .sql(" RETURNING provider_id)");
    if let Some(status) = change.flags_resolved {
        s.sql(", f AS (UPDATE review_flags SET status = ")
            .bind::<Text, _>(status.as_str())
            .sql(" WHERE review_id = ")
            .bind::<SqlUuid, _>(uuid)
            .sql(" AND status = 'open' AND EXISTS (SELECT 1 FROM r))");
    } else if let Some(flag) = &change.flag {
        s.sql(", g AS (").sql(INSERT_FLAG);
        flag_values(&mut s, flag);
        s.sql(" FROM r)");
    }
    if let (ReplyChange::Keep, Some(reply)) = (&change.reply, &change.moderation.reply) {
        // A decision on the reply moves its status; any other change leaves the row as it
        // is (no new row version written for nothing).
        let reasons = reason_names(&reply.reasons);
        s.sql(", y AS (UPDATE review_replies SET status = ")
            .bind::<Text, _>(reply.status.as_str())
            .sql(", reasons = ")
            .bind::<Array<Text>, _>(reasons.clone())
            .sql(" WHERE review_id = ")
            .bind::<SqlUuid, _>(uuid)
            .sql(" AND (status <> ")
            .bind::<Text, _>(reply.status.as_str())
            .sql(" OR reasons <> ")
            .bind::<Array<Text>, _>(reasons)
            .sql(") AND EXISTS (SELECT 1 FROM r))");
    }
    if !change.events.is_empty() {
        s.sql(", ");
        history_events(&mut s, uuid, None, &change.events);
        let kinds = review_changes(&change.events);
        if !kinds.is_empty() {
            s.sql(", ");
            outbox::review_recording(&mut s, "e", "r", uuid, &kinds);
        }
    }
    s.sql(" SELECT provider_id FROM r");
    s
}

/// Applies `delta` to the figures of `provider`: its review count and rating sum (and so,
/// through the postings' foreign key, their copies on its skill rows), each key's
/// `skill_reviews` (a key whose count falls to zero loses its row, as the domain leaves out a
/// key never rated), and those figures' copies on the provider's skill rows. Every update is
/// relative, under the provider's row lock, which the first statement takes: call it before
/// touching the review's row. The version rises by one. No provider: NotFound.
async fn change_figures(
    conn: &mut AsyncPgConnection,
    provider: Uuid,
    delta: &FiguresDelta,
) -> Result<(), Refused> {
    if delta.skills.is_empty() {
        let updated = diesel::update(providers::table.find(provider))
            .set((
                providers::review_count.eq(providers::review_count + delta.reviews.count),
                providers::rating_sum.eq(providers::rating_sum + delta.reviews.sum_tenths),
                providers::version.eq(providers::version + 1),
            ))
            .execute(conn)
            .await?;
        return if updated == 0 {
            Err(Refused::Repo(RepoError::NotFound))
        } else {
            Ok(())
        };
    }
    let keys: Vec<String> = delta.skills.keys().cloned().collect();
    let counts: Vec<i64> = delta.skills.values().map(|d| d.count).collect();
    let sums: Vec<i64> = delta.skills.values().map(|d| d.sum_tenths).collect();
    let unnest = |s: &mut Sql| {
        s.sql("unnest(")
            .bind::<Array<Text>, _>(keys.clone())
            .sql("::text[], ")
            .bind::<Array<BigInt>, _>(counts.clone())
            .sql("::int8[], ")
            .bind::<Array<BigInt>, _>(sums.clone())
            .sql("::int8[]) AS u(k, c, s)");
    };
    // The provider's figures and every figure on its skill rows in one statement, so that each
    // skill row is rewritten once: updated apart, the foreign key's cascade would rewrite the
    // rows with the provider's new figures and a second update the rated ones again, each
    // time with a new entry in every one of their indexes. The cascade then finds no row still
    // holding the old figures, and the foreign key's check finds the provider's new ones.
    let mut s = Sql::new("WITH p AS (UPDATE providers SET review_count = review_count + ");
    s.bind::<BigInt, _>(delta.reviews.count)
        .sql(", rating_sum = rating_sum + ")
        .bind::<BigInt, _>(delta.reviews.sum_tenths)
        .sql(", version = version + 1 WHERE id = ")
        .bind::<SqlUuid, _>(provider)
        .sql(" RETURNING id, review_count, rating_sum), u AS (SELECT * FROM ");
    unnest(&mut s);
    // The copies on the postings (none for a key whose skill a replace removed: its figures
    // stay in skill_reviews, hidden, until the skill comes back).
    s.sql(
        "), k AS (UPDATE provider_skills s SET review_count = p.review_count, \
         rating_sum = p.rating_sum, \
         skill_review_count = s.skill_review_count \
           + COALESCE((SELECT u.c FROM u WHERE u.k = s.skill_key), 0), \
         skill_rating_sum = s.skill_rating_sum \
           + COALESCE((SELECT u.s FROM u WHERE u.k = s.skill_key), 0) \
         FROM p WHERE s.provider_id = p.id RETURNING 1) \
         SELECT count(*) AS n FROM p",
    );
    let updated = s.get_result::<ProvidersUpdated>(conn).await?.n;
    if updated == 0 {
        return Err(Refused::Repo(RepoError::NotFound));
    }
    // One snapshot for the three parts: each key's row is deleted, updated or inserted by
    // exactly one of them, decided on its count before the change.
    let mut s = Sql::new("WITH u AS (SELECT * FROM ");
    unnest(&mut s);
    s.sql("), gone AS (DELETE FROM skill_reviews f USING u WHERE f.provider_id = ")
        .bind::<SqlUuid, _>(provider)
        .sql(" AND f.skill_key = u.k AND f.review_count + u.c <= 0), kept AS (UPDATE skill_reviews f \
              SET review_count = f.review_count + u.c, rating_sum = f.rating_sum + u.s FROM u \
              WHERE f.provider_id = ")
        .bind::<SqlUuid, _>(provider)
        .sql(" AND f.skill_key = u.k AND f.review_count + u.c > 0) \
              INSERT INTO skill_reviews (provider_id, skill_key, review_count, rating_sum) SELECT ")
        .bind::<SqlUuid, _>(provider)
        .sql(", u.k, u.c, u.s FROM u WHERE u.c > 0 AND NOT EXISTS (SELECT 1 FROM skill_reviews f \
              WHERE f.provider_id = ")
        .bind::<SqlUuid, _>(provider)
        .sql(" AND f.skill_key = u.k)");
    s.execute(conn).await?;
    Ok(())
}

/// How many providers [`change_figures`] updated (0 or 1).
#[derive(Debug, QueryableByName)]
struct ProvidersUpdated {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Appends `events` to the history of review `review` of `provider`, in their order (the ids
/// rise with it), and records the feed's changes they make (`review_changes`) in the same
/// statement.
async fn append_events(
    conn: &mut AsyncPgConnection,
    review: Uuid,
    provider: Uuid,
    events: &[Event],
) -> Result<(), Refused> {
    if events.is_empty() {
        return Ok(());
    }
    let mut s = Sql::new("");
    history_events(&mut s, review, Some(provider), events);
    // The feed's events in the same statement (every change a reader of the review or its
    // provider sees), else the history's rows alone.
    let changes: Vec<Change> = review_changes(events)
        .into_iter()
        .map(|kind| {
            Change::review(
                kind,
                ProviderId::from_uuid(provider),
                ReviewId::from_uuid(review),
            )
        })
        .collect();
    if changes.is_empty() {
        let mut only = Sql::new("WITH ");
        only.append(s).sql(" SELECT 1");
        only.execute(conn).await?;
    } else {
        outbox::recording(Some(s), &changes).execute(conn).await?;
    }
    Ok(())
}

/// The CTE `h AS (INSERT INTO review_events ...)`: `events` appended to the history of review
/// `review`, in their order (the ids rise with it). Its provider: `provider`, or when `None`
/// the `provider_id` of the CTE `r` (nothing is appended when `r` has no row).
fn history_events(s: &mut Sql, review: Uuid, provider: Option<Uuid>, events: &[Event]) {
    let at: Vec<OffsetDateTime> = events.iter().map(|e| e.at).collect();
    let by: Vec<Option<Uuid>> = events.iter().map(|e| e.by.map(|u| u.as_uuid())).collect();
    let names: Vec<String> = events.iter().map(|e| e.detail.name().to_owned()).collect();
    let details: Vec<String> = events
        .iter()
        .map(|e| event_detail_json(&e.detail).to_string())
        .collect();
    s.sql(
        "h AS (INSERT INTO review_events (review_id, provider_id, at, by, event, detail) SELECT ",
    )
    .bind::<SqlUuid, _>(review)
    .sql(", ");
    match provider {
        Some(provider) => s
            .bind::<SqlUuid, _>(provider)
            .sql(", u.at, u.by, u.event, u.detail::jsonb FROM "),
        None => s.sql("r.provider_id, u.at, u.by, u.event, u.detail::jsonb FROM r, "),
    };
    s.sql("unnest(")
        .bind::<Array<Timestamptz>, _>(at)
        .sql("::timestamptz[], ")
        .bind::<Array<Nullable<SqlUuid>>, _>(by)
        .sql("::uuid[], ")
        .bind::<Array<Text>, _>(names)
        .sql("::text[], ")
        .bind::<Array<Text>, _>(details)
        .sql("::text[]) WITH ORDINALITY AS u(at, by, event, detail, n) ORDER BY u.n)");
}

/// `SELECT <the flag's columns>` for `INSERT INTO review_flags (id, review_id, flagger,
/// reason, explanation, status, created_at)`.
fn flag_values(s: &mut Sql, flag: &StoredFlag) {
    s.sql("SELECT ")
        .bind::<SqlUuid, _>(flag.id.as_uuid())
        .sql(", ")
        .bind::<SqlUuid, _>(flag.review_id.as_uuid())
        .sql(", ")
        .bind::<SqlUuid, _>(flag.flagger.as_uuid())
        .sql(", ")
        .bind::<Text, _>(flag.reason.as_str())
        .sql(", ")
        .bind::<Nullable<Text>, _>(flag.explanation.as_ref().map(|e| e.as_str().to_owned()))
        .sql(", ")
        .bind::<Text, _>(flag.status.as_str())
        .sql(", ")
        .bind::<Timestamptz, _>(flag.created_at);
}

const INSERT_FLAG: &str = "INSERT INTO review_flags (id, review_id, flagger, reason, \
     explanation, status, created_at) ";

/// The review's provider (it never changes), without a lock: to lock the provider's row
/// before the review's. No review: NotFound.
async fn provider_of(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Uuid, Refused> {
    reviews::table
        .find(id)
        .select(reviews::provider_id)
        .get_result(conn)
        .await
        .optional()?
        .ok_or(Refused::Repo(RepoError::NotFound))
}

/// Why a conditional write on review `id` matched no row: it is gone, or at another revision.
async fn missed(conn: &mut AsyncPgConnection, id: Uuid) -> Refused {
    match diesel::select(diesel::dsl::exists(reviews::table.find(id)))
        .get_result::<bool>(conn)
        .await
    {
        Ok(true) => Refused::Repo(RepoError::PreconditionFailed),
        Ok(false) => Refused::Repo(RepoError::NotFound),
        Err(e) => Refused::Db(e),
    }
}

fn revision_value(revision: Revision) -> Result<i64, RepoError> {
    i64::try_from(revision.0).map_err(|e| RepoError::Unexpected(e.into()))
}

/// Stores a new review as its submission settled it (see [`ReviewRepository::add`]), inside
/// the caller's transaction.
async fn add_in(conn: &mut AsyncPgConnection, submission: &Submission) -> Result<(), Refused> {
    let review = &submission.review;
    let row = NewReview {
        content: ReviewRow::from(review),
        moderation: ModerationColumns::of(&submission.moderation, submission.queued_at),
    };
    let skill_rows = ReviewSkillRatingRow::of(review);
    let provider = review.provider_id.as_uuid();
    let figures =
        submission.moderation.status.counts().then(|| {
            FiguresChange::Entered.delta(Contribution::of(review), Contribution::of(review))
        });
    match &figures {
        // The provider's row first: its review stats are keys of the postings' foreign key,
        // so the update locks the row exclusively. Taken before the review's own foreign-key
        // check (a shared lock), concurrent reviews of one provider queue here instead of
        // deadlocking. Relative updates: exact however many arrive.
        Some(delta) => change_figures(conn, provider, delta).await?,
        // Not counted: the provider's figures and version stay. The lock its foreign key
        // would take anyway, taken now to tell a missing provider.
        None => {
            providers::table
                .find(provider)
                .select(providers::id)
                .for_key_share()
                .get_result::<Uuid>(conn)
                .await
                .optional()?
                .ok_or(Refused::Repo(RepoError::NotFound))?;
        }
    }
    // A second review by the same user, whatever the first one's status, fails
    // reviews_one_per_user (Conflict) and rolls everything back.
    diesel::insert_into(reviews::table)
        .values(&row)
        .execute(conn)
        .await?;
    if !skill_rows.is_empty() {
        diesel::insert_into(review_skill_ratings::table)
            .values(&skill_rows)
            .execute(conn)
            .await?;
    }
    append_events(conn, review.id.as_uuid(), provider, &submission.events).await
}

#[async_trait]
impl ReviewRepository for PgStore {
    async fn add(&self, submission: &Submission) -> Result<(), RepoError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            let conn: &mut AsyncPgConnection = &mut conn;
            conn.transaction::<_, Refused, _>(async |conn| add_in(conn, submission).await)
                .await
                .map_err(RepoError::from)
        })
        .await
    }

    async fn add_completing(
        &self,
        submission: &Submission,
        completion: &Completion,
    ) -> Result<(), RepoError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            let conn: &mut AsyncPgConnection = &mut conn;
            conn.transaction::<_, Refused, _>(async |conn| {
                // The key first (see `complete_in`): its row stays locked until the commit,
                // so a concurrent takeover waits and finds it completed. No writer holds a
                // provider's or a review's row while it waits for a key, so the provider's
                // row after it keeps the one lock order of `add`.
                if !complete_in(conn, completion).await? {
                    return Err(Refused::Repo(claim_taken_over()));
                }
                add_in(conn, submission).await
            })
            .await
            .map_err(RepoError::from)
        })
        .await
    }

    async fn list(
        &self,
        provider: ProviderId,
        paging: Paging<ReviewKey>,
    ) -> Result<PageOf<StoredReview>, RepoError> {
        let id = provider.as_uuid();
        self.bounded(routed_read!(&self.reads, |conn| {
            // The status as a literal: the partial index reviews_newest_first_idx serves it
            // even in a generic plan.
            let mut walk = Sql::new(
                "SELECT r.id, r.created_at FROM reviews r WHERE r.status = 'published' \
                 AND r.provider_id = ",
            );
            walk.bind::<SqlUuid, _>(id);
            if let Paging::After {
                key: (at, last), ..
            } = paging
            {
                // `(created_at, id) < (at, last)`: a row comparison in the index's own order
                // (both descending), so the index is entered right after the cursor.
                walk.sql(" AND (r.created_at, r.id) < (")
                    .bind::<Timestamptz, _>(at)
                    .sql(", ")
                    .bind::<SqlUuid, _>(last.as_uuid())
                    .sql(")");
            }
            walk.sql(" ORDER BY r.created_at DESC, r.id DESC");
            limit(&mut walk, paging.size(), paging.offset());
            let rows: Vec<StoredReviewRow> = stored_page(walk, "w.created_at DESC, w.id DESC")
                .load(conn)
                .await
                .map_err(repo_error)?;
            // Reviews go with their provider, so only an empty page needs to ask whether the
            // provider exists.
            if rows.is_empty() {
                let exists: bool = diesel::select(diesel::dsl::exists(providers::table.find(id)))
                    .get_result(conn)
                    .await
                    .map_err(repo_error)?;
                if !exists {
                    return Err(RepoError::NotFound);
                }
            }
            Ok(page_of(stored_all(rows)?, paging.size()))
        }))
        .await
    }

    async fn find(&self, id: ReviewId) -> Result<StoredReview, RepoError> {
        self.bounded(routed_read!(&self.reads, |conn| find_on(conn, id).await))
            .await
    }

    async fn apply(
        &self,
        id: ReviewId,
        revision: Revision,
        change: &ReviewChange,
    ) -> Result<StoredReview, RepoError> {
        let uuid = id.as_uuid();
        let read = revision_value(revision)?;
        let skill_rows = change.content.as_ref().map(ReviewSkillRatingRow::of);
        // Most changes (a decision, a hold, a flag, an appeal) touch the review's row, its
        // flags, the reply's status and the history alone: one statement, atomic by itself,
        // and the read-back pipelined behind it (one round trip in all). A change of the
        // figures, the content or the reply's text needs a transaction around more.
        let alone = change.figures.is_none()
            && change.content.is_none()
            && matches!(change.reply, ReplyChange::Keep)
            && !(change.flag.is_some() && change.flags_resolved.is_some());
        self.bounded(async {
            let mut conn = self.conn().await?;
            if alone {
                let shared: &AsyncPgConnection = &conn;
                let (changed, back) = futures_util::join!(
                    change_statement(uuid, read, change).load::<ChangedRow>(&mut &*shared),
                    stored_statement(id).load::<StoredReviewRow>(&mut &*shared),
                );
                if changed.map_err(repo_error)?.is_empty() {
                    return Err(missed(&mut conn, uuid).await.into());
                }
                return first_stored(back.map_err(repo_error)?);
            }
            let conn: &mut AsyncPgConnection = &mut conn;
            conn.transaction::<_, Refused, _>(async |conn| {
                if let Some(delta) = &change.figures {
                    // The provider's row lock before the review's (see the module's doc).
                    let provider = provider_of(conn, uuid).await?;
                    change_figures(conn, provider, delta).await?;
                }
                let changed: Vec<ChangedRow> =
                    change_statement(uuid, read, change).load(conn).await?;
                if changed.is_empty() {
                    return Err(missed(conn, uuid).await);
                }
                if let Some(rows) = &skill_rows {
                    diesel::delete(
                        review_skill_ratings::table
                            .filter(review_skill_ratings::review_id.eq(uuid)),
                    )
                    .execute(conn)
                    .await?;
                    if !rows.is_empty() {
                        diesel::insert_into(review_skill_ratings::table)
                            .values(rows)
                            .execute(conn)
                            .await?;
                    }
                }
                if let (Some(flag), Some(_)) = (&change.flag, change.flags_resolved) {
                    // After the others are resolved (the statement above did it).
                    let mut insert = Sql::new(INSERT_FLAG);
                    flag_values(&mut insert, flag);
                    insert.execute(conn).await?;
                }
                write_reply(conn, uuid, change).await?;
                find_on(conn, id).await.map_err(Refused::Repo)
            })
            .await
            .map_err(RepoError::from)
        })
        .await
    }

    async fn withdraw(
        &self,
        id: ReviewId,
        revision: Revision,
        event: &Event,
        figures: Option<FiguresDelta>,
    ) -> Result<(), RepoError> {
        let uuid = id.as_uuid();
        let read = revision_value(revision)?;
        self.bounded(async {
            let mut conn = self.conn().await?;
            let conn: &mut AsyncPgConnection = &mut conn;
            conn.transaction::<_, Refused, _>(async |conn| {
                if let Some(delta) = &figures {
                    let provider = provider_of(conn, uuid).await?;
                    change_figures(conn, provider, delta).await?;
                }
                // Its skill ratings, flags and reply go with it (ON DELETE CASCADE); its
                // history stays (no foreign key).
                let provider: Option<Uuid> = diesel::delete(
                    reviews::table
                        .filter(reviews::id.eq(uuid))
                        .filter(reviews::revision.eq(read)),
                )
                .returning(reviews::provider_id)
                .get_result(conn)
                .await
                .optional()?;
                let Some(provider) = provider else {
                    return Err(missed(conn, uuid).await);
                };
                append_events(conn, uuid, provider, std::slice::from_ref(event)).await
            })
            .await
            .map_err(RepoError::from)
        })
        .await
    }

    async fn queue(&self, page: Page) -> Result<PageOf<StoredReview>, RepoError> {
        self.bounded(routed_read!(&self.reads, |conn| {
            // The predicate as reviews_queue_idx's, literally: a walk of that index in order.
            let mut walk = Sql::new(
                "SELECT r.id, r.queued_at FROM reviews r WHERE r.queued_at IS NOT NULL \
                 ORDER BY r.queued_at, r.id",
            );
            limit(&mut walk, page.size(), page.offset());
            let rows: Vec<StoredReviewRow> = stored_page(walk, "w.queued_at, w.id")
                .load(conn)
                .await
                .map_err(repo_error)?;
            Ok(page_of(stored_all(rows)?, page.size()))
        }))
        .await
    }

    async fn queue_size(&self) -> Result<u64, RepoError> {
        self.bounded(routed_read!(&self.reads, |conn| {
            let n: i64 = reviews::table
                .filter(reviews::queued_at.is_not_null())
                .count()
                .get_result(conn)
                .await
                .map_err(repo_error)?;
            u64::try_from(n).map_err(|e| RepoError::Unexpected(e.into()))
        }))
        .await
    }

    async fn history(&self, id: ReviewId) -> Result<Vec<Event>, RepoError> {
        use crate::schema::review_events as e;
        self.bounded(routed_read!(&self.reads, |conn| {
            let rows: Vec<(OffsetDateTime, Option<Uuid>, String, String)> = e::table
                .filter(e::review_id.eq(id.as_uuid()))
                .order(e::id)
                .select((
                    e::at,
                    e::by,
                    e::event,
                    diesel::dsl::sql::<Text>("detail::text"),
                ))
                .load(conn)
                .await
                .map_err(repo_error)?;
            if rows.is_empty() {
                return Err(RepoError::NotFound);
            }
            rows.into_iter()
                .map(|(at, by, name, detail)| {
                    let value: serde_json::Value =
                        serde_json::from_str(&detail).map_err(|e| corrupt("event detail", e))?;
                    let detail = event_detail_from_json(&name, &value)
                        .ok_or_else(|| corrupt("event", format!("{name} {value}")))?;
                    Ok(Event {
                        at,
                        by: by.map(UserId::from_uuid),
                        detail,
                    })
                })
                .collect()
        }))
        .await
    }

    async fn flag(&self, id: FlagId) -> Result<StoredFlag, RepoError> {
        self.bounded(routed_read!(&self.reads, |conn| {
            type Row = (
                Uuid,
                Uuid,
                Uuid,
                String,
                Option<String>,
                String,
                OffsetDateTime,
            );
            let row: Row = review_flags::table
                .find(id.as_uuid())
                .select((
                    review_flags::id,
                    review_flags::review_id,
                    review_flags::flagger,
                    review_flags::reason,
                    review_flags::explanation,
                    review_flags::status,
                    review_flags::created_at,
                ))
                .get_result(conn)
                .await
                .map_err(repo_error)?;
            let (id, review_id, flagger, reason, explanation, status, created_at) = row;
            Ok(StoredFlag {
                id: FlagId::from_uuid(id),
                review_id: ReviewId::from_uuid(review_id),
                flagger: UserId::from_uuid(flagger),
                reason: FlagReason::parse(&reason)
                    .ok_or_else(|| corrupt("flag reason", &reason))?,
                explanation: explanation
                    .as_deref()
                    .map(FlagExplanation::new)
                    .transpose()
                    .map_err(|e| corrupt("flag explanation", e))?,
                status: FlagStatus::parse(&status)
                    .ok_or_else(|| corrupt("flag status", &status))?,
                created_at,
            })
        }))
        .await
    }
}

/// Writes the reply's text as `change` leaves it (created, or replaced keeping its first
/// time, with its status and reasons from the change's moderation; or removed). Untouched
/// when the change keeps the text (most changes of a review): a decision that moves its
/// status alone is `change_statement`'s.
async fn write_reply(
    conn: &mut AsyncPgConnection,
    review: Uuid,
    change: &ReviewChange,
) -> Result<(), Refused> {
    let (text, reply) = match (&change.reply, &change.moderation.reply) {
        // Its status, when a decision moved it, is `change_statement`'s.
        (ReplyChange::Keep, _) => return Ok(()),
        (ReplyChange::Remove, _) | (ReplyChange::Set(_), None) => {
            diesel::delete(review_replies::table.find(review))
                .execute(conn)
                .await?;
            return Ok(());
        }
        (ReplyChange::Set(text), Some(reply)) => (text, reply),
    };
    let status = reply.status.as_str();
    let reasons = reason_names(&reply.reasons);
    diesel::insert_into(review_replies::table)
        .values((
            review_replies::review_id.eq(review),
            review_replies::text.eq(text),
            review_replies::status.eq(status),
            review_replies::reasons.eq(&reasons),
            review_replies::created_at.eq(change.at),
            review_replies::updated_at.eq(change.at),
        ))
        .on_conflict(review_replies::review_id)
        .do_update()
        .set((
            review_replies::text.eq(text),
            review_replies::status.eq(status),
            review_replies::reasons.eq(&reasons),
            review_replies::updated_at.eq(change.at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

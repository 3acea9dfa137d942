//! Bulk loading for `provider-api seed`: whole batches of providers with their skills,
//! availability, runs and reviews, written with `COPY ... FROM STDIN` (text format) in one
//! transaction per batch.
//!
//! This bypasses the per-row statements of [`crate::PgStore`] for speed but neither its rows
//! (the same `ProviderRows` and `ReviewRow` it inserts, written as COPY text) nor the database's
//! guards: every check, unique constraint, foreign key and the availability overlap trigger
//! still applies, so a batch that would break one is refused whole.
//!
//! Reviews in a [`BulkProvider`] are published. Reviews with another moderation (held by the
//! screen, flagged, decided) are loaded by [`BulkLoader::load_moderated`] (or
//! [`DeferredLoad::load_moderated`]) once their providers are in, with their flags and
//! history, as [`crate::PgStore`] writes them.

use crate::reviews::ModerationColumns;
use crate::rows::{ProviderRows, ReviewRow, ReviewSkillRatingRow};
use crate::PgError;
use bytes::Bytes;
use futures_util::SinkExt;
use provider_domain::{Provider, Review};
use provider_ports::moderation::event_detail_json;
use provider_ports::{StoredFlag, Submission};
use std::fmt::Write as _;
use std::ops::Bound;
use time::Date;
use time::OffsetDateTime;
use tokio_postgres::{Client, NoTls};

/// One connection for bulk loading.
#[derive(Debug)]
pub struct BulkLoader {
    client: Client,
}

/// A provider and its reviews (its review stats and per-skill figures must match them).
#[derive(Debug, Clone)]
pub struct BulkProvider {
    /// The provider.
    pub provider: Provider,
    /// Its reviews (each of this provider).
    pub reviews: Vec<Review>,
}

/// A review that is not simply published, with the flags raised on it: loaded as
/// [`crate::PgStore`]'s `ReviewRepository::add` would store its submission, at its first
/// revision. Its provider's figures (in its [`BulkProvider`]) must count it only when it is
/// published; its open flags must be those of its moderation.
#[derive(Debug, Clone)]
pub struct BulkModerated {
    /// The review, its moderation, history events and queue time.
    pub submission: Submission,
    /// The flags raised on it.
    pub flags: Vec<StoredFlag>,
}

impl BulkLoader {
    /// Opens a connection to `url` (no TLS, as the rest of the store).
    ///
    /// # Errors
    /// [`PgError::Bulk`] when the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, PgError> {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::error!(error = %e, "bulk load connection failed");
            }
        });
        Ok(Self { client })
    }

    /// Rows in each table of the store, by table name.
    ///
    /// # Errors
    /// [`PgError::Bulk`] when a count fails.
    pub async fn table_counts(&self) -> Result<Vec<(&'static str, i64)>, PgError> {
        let mut counts = Vec::new();
        for table in [
            "providers",
            "provider_skills",
            "availability",
            "availability_runs",
            "reviews",
            "review_skill_ratings",
            "skill_reviews",
        ] {
            let row = self
                .client
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await?;
            counts.push((table, row.get::<_, i64>(0)));
        }
        Ok(counts)
    }

    /// Number of providers stored.
    ///
    /// # Errors
    /// [`PgError::Bulk`] when the count fails.
    pub async fn provider_count(&self) -> Result<u64, PgError> {
        let row = self
            .client
            .query_one("SELECT count(*) FROM providers", &[])
            .await?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    /// Writes a batch in one transaction: all of it, or (on any error) none of it.
    ///
    /// # Errors
    /// [`PgError::Bulk`] when a row breaks a constraint or the database fails.
    pub async fn load(&mut self, batch: &[BulkProvider]) -> Result<(), PgError> {
        let tx = self.client.transaction().await?;
        copy_batch(&tx, batch, false).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes reviews with their moderation in one transaction (their providers loaded
    /// before): all of them, or (on any error) none.
    ///
    /// # Errors
    /// [`PgError::Bulk`] when a row breaks a constraint or the database fails.
    pub async fn load_moderated(&mut self, reviews: &[BulkModerated]) -> Result<(), PgError> {
        let tx = self.client.transaction().await?;
        copy_moderated(&tx, reviews, false).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Starts a load into EMPTY tables in one transaction, with the indexes, primary keys,
    /// unique and exclusion constraints and foreign keys of the store's tables set aside: rows
    /// are copied without maintaining them, and [`DeferredLoad::finish`] builds each once over
    /// all rows (sorting and validating in bulk), then commits. Checks stay on.
    ///
    /// The rebuilt indexes and constraints are the very definitions read from the catalog, so
    /// the schema after the load is the migrated one; every constraint is validated over all
    /// rows before the commit. On any error (or if [`DeferredLoad::finish`] is never called) the
    /// transaction rolls back: nothing loaded, nothing dropped. The tables are locked against
    /// other sessions until it ends.
    ///
    /// When every table is empty, they are truncated in the transaction so that the rows can
    /// be copied with `FREEZE`: written frozen and all-visible, so that the `VACUUM` after the
    /// load has nothing to do but the statistics. (Like any `COPY FREEZE`, the rows are then
    /// visible at once to a snapshot older than the load's; nothing reads the empty tables.)
    ///
    /// # Errors
    /// [`PgError::Bulk`] when the catalog cannot be read or the tables not altered.
    pub async fn begin_deferred(&mut self) -> Result<DeferredLoad<'_>, PgError> {
        let tx = self.client.transaction().await?;
        // Each index is built in memory (the largest, on provider_skills, sorts about 700 MB at
        // a million providers; with less it sorts on disk), and the foreign keys' checks use
        // this as their work_mem too.
        tx.batch_execute(&format!(
            "SET LOCAL maintenance_work_mem = '1GB'; \
             SET LOCAL synchronous_commit = off; \
             LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
            DEFERRED_TABLES.join(", ")
        ))
        .await?;
        let tables = format!("ARRAY['{}']", DEFERRED_TABLES.join("', '"));
        // Foreign keys first (they depend on the referenced keys), then primary keys, unique
        // and exclusion constraints, then the indexes no constraint owns.
        let constraints = tx
            .query(
                &format!(
                    "SELECT format('ALTER TABLE %I DROP CONSTRAINT %I', c.conrelid::regclass::text, c.conname), \
                            format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.conrelid::regclass::text, c.conname, \
                                   pg_get_constraintdef(c.oid)) \
                     FROM pg_constraint c \
                     WHERE c.conrelid::regclass::text = ANY ({tables}) AND c.contype IN ('f', 'p', 'u', 'x') \
                     ORDER BY c.contype = 'f' DESC, c.conname"
                ),
                &[],
            )
            .await?;
        let indexes = tx
            .query(
                &format!(
                    "SELECT format('DROP INDEX %I', i.indexname), i.indexdef FROM pg_indexes i \
                     WHERE i.schemaname = current_schema() AND i.tablename = ANY ({tables}) \
                       AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
                                       WHERE c.conindid = format('%I', i.indexname)::regclass) \
                     ORDER BY i.indexname"
                ),
                &[],
            )
            .await?;
        // The overlap rule of availability is a constraint trigger (see `migrations/`): off
        // while copying, checked once over all rows in `finish`.
        let overlap_trigger = !tx
            .query(
                "SELECT 1 FROM pg_trigger WHERE tgname = 'availability_no_overlap' \
                 AND tgrelid = 'availability'::regclass",
                &[],
            )
            .await?
            .is_empty();
        if overlap_trigger {
            tx.batch_execute("ALTER TABLE availability DISABLE TRIGGER availability_no_overlap")
                .await?;
        }
        let mut rebuild = Vec::new();
        for row in constraints.iter().chain(&indexes) {
            tx.batch_execute(row.get::<_, &str>(0)).await?;
            rebuild.push(row.get::<_, String>(1));
        }
        // Indexes first, then constraints in reverse drop order: keys before foreign keys.
        let (constraint_defs, index_defs) = rebuild.split_at(constraints.len());
        let mut rebuild: Vec<String> = index_defs.to_vec();
        rebuild.extend(constraint_defs.iter().rev().cloned());
        let mut empty = true;
        for table in DEFERRED_TABLES {
            let row = tx
                .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {table})"), &[])
                .await?;
            empty &= !row.get::<_, bool>(0);
        }
        if empty {
            // COPY FREEZE needs the tables created or truncated in this transaction (their
            // foreign keys are dropped above, so they truncate alone).
            tx.batch_execute(&format!("TRUNCATE {}", DEFERRED_TABLES.join(", ")))
                .await?;
        }
        Ok(DeferredLoad {
            tx,
            rebuild,
            overlap_trigger,
            freeze: empty,
        })
    }

    /// Refreshes the planner's statistics (after a large load the plans depend on them) and
    /// the visibility map (so that the index-only scans of search and recommend need not
    /// visit the freshly written heap): `VACUUM (ANALYZE)`.
    ///
    /// # Errors
    /// [`PgError::Bulk`] when `VACUUM` fails.
    pub async fn vacuum_analyze(&self) -> Result<(), PgError> {
        self.client.batch_execute("VACUUM (ANALYZE)").await?;
        Ok(())
    }
}

/// The tables [`BulkLoader::begin_deferred`] loads, with their indexes and constraints set
/// aside.
const DEFERRED_TABLES: [&str; 10] = [
    "providers",
    "provider_skills",
    "availability",
    "availability_runs",
    "reviews",
    "review_skill_ratings",
    "skill_reviews",
    "review_flags",
    "review_replies",
    "review_events",
];

/// A load into empty tables with their indexes and constraints set aside (see
/// [`BulkLoader::begin_deferred`]).
pub struct DeferredLoad<'a> {
    tx: tokio_postgres::Transaction<'a>,
    rebuild: Vec<String>,
    /// The availability overlap trigger was disabled, to be checked and re-enabled.
    overlap_trigger: bool,
    /// The tables were empty and truncated in this transaction: rows are copied `FREEZE`.
    freeze: bool,
}

impl std::fmt::Debug for DeferredLoad<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeferredLoad")
            .field("rebuild", &self.rebuild)
            .finish_non_exhaustive()
    }
}

impl DeferredLoad<'_> {
    /// Copies a batch into the load's transaction.
    ///
    /// # Errors
    /// [`PgError::Bulk`] when a row breaks a check, or the database fails.
    pub async fn load(&mut self, batch: &[BulkProvider]) -> Result<(), PgError> {
        copy_batch(&self.tx, batch, self.freeze).await
    }

    /// Copies reviews with their moderation into the load's transaction (see
    /// [`BulkLoader::load_moderated`]).
    ///
    /// # Errors
    /// [`PgError::Bulk`] when a row breaks a check, or the database fails.
    pub async fn load_moderated(&mut self, reviews: &[BulkModerated]) -> Result<(), PgError> {
        copy_moderated(&self.tx, reviews, self.freeze).await
    }

    /// Runs `sql` inside the load's transaction: for tests that must forge rows the domain
    /// cannot build.
    ///
    /// # Errors
    /// [`PgError::Bulk`] when the statement fails.
    #[cfg(feature = "test-support")]
    pub async fn execute_for_tests(&self, sql: &str) -> Result<(), PgError> {
        self.tx.batch_execute(sql).await?;
        Ok(())
    }

    /// Builds the indexes and constraints set aside, validating every row, and commits.
    ///
    /// # Errors
    /// [`PgError::Bulk`] when a constraint does not hold over the loaded rows or the database
    /// fails; nothing is then committed.
    pub async fn finish(self) -> Result<(), PgError> {
        for statement in &self.rebuild {
            let started = std::time::Instant::now();
            self.tx.batch_execute(statement).await?;
            tracing::debug!(
                statement,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "rebuilt"
            );
        }
        if self.overlap_trigger {
            // Sorted by start, ranges overlap somewhere exactly when two consecutive ones do:
            // one pass in primary key order.
            let overlapping = self
                .tx
                .query(
                    "SELECT provider_id::text, period::text FROM (\
                       SELECT provider_id, period, \
                              lag(period) OVER (PARTITION BY provider_id ORDER BY period) AS before \
                       FROM availability) a \
                     WHERE a.before && a.period LIMIT 1",
                    &[],
                )
                .await?;
            if let Some(row) = overlapping.first() {
                return Err(PgError::Refused(format!(
                    "availability_no_overlap: range {} of provider {} overlaps another of its ranges",
                    row.get::<_, &str>(1),
                    row.get::<_, &str>(0)
                )));
            }
            self.tx
                .batch_execute("ALTER TABLE availability ENABLE TRIGGER availability_no_overlap")
                .await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}

/// Copies a batch's rows into each table, within `tx`.
async fn copy_batch(
    tx: &tokio_postgres::Transaction<'_>,
    batch: &[BulkProvider],
    freeze: bool,
) -> Result<(), PgError> {
    let text = CopyText::of(batch)?;
    for (statement, data) in [
        (
            "COPY providers (id, owner_id, name, name_key, cost_in_pence, review_count, rating_sum, created_at) FROM STDIN",
            text.providers,
        ),
        (
            "COPY provider_skills (provider_id, position, skill, skill_key, cost_in_pence, review_count, rating_sum, skill_review_count, skill_rating_sum, created_at) FROM STDIN",
            text.skills,
        ),
        (
            "COPY skill_reviews (provider_id, skill_key, review_count, rating_sum) FROM STDIN",
            text.skill_figures,
        ),
        ("COPY availability (provider_id, period) FROM STDIN", text.availability),
        ("COPY availability_runs (provider_id, run) FROM STDIN", text.runs),
        (
            "COPY reviews (id, provider_id, user_id, rating, comment, created_at) FROM STDIN",
            text.reviews,
        ),
        (
            "COPY review_skill_ratings (review_id, position, skill, skill_key, rating) FROM STDIN",
            text.skill_ratings,
        ),
    ] {
        if data.is_empty() {
            continue;
        }
        let started = std::time::Instant::now();
        let statement = with_freeze(statement, freeze);
        let sink = tx.copy_in(&statement).await?;
        futures_util::pin_mut!(sink);
        sink.send(Bytes::from(data)).await?;
        let rows = sink.finish().await?;
        tracing::debug!(statement, rows, elapsed_ms = started.elapsed().as_millis() as u64, "copied");
    }
    Ok(())
}

/// The COPY text (text format: tab-separated, one row a line) of each table for one batch:
/// the rows the store would insert ([`ProviderRows`], [`ReviewRow`]), in the columns of the
/// COPY statements above.
#[derive(Default)]
struct CopyText {
    providers: String,
    skills: String,
    availability: String,
    runs: String,
    reviews: String,
    skill_figures: String,
    skill_ratings: String,
}

impl CopyText {
    fn of(batch: &[BulkProvider]) -> Result<Self, PgError> {
        let mut t = Self::default();
        for BulkProvider { provider, reviews } in batch {
            let rows = ProviderRows::of(provider).map_err(|e| PgError::Refused(e.to_string()))?;
            let p = &rows.provider;
            let _ = writeln!(
                t.providers,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                p.id,
                p.owner_id,
                escape(p.name),
                escape(&p.name_key),
                p.cost_in_pence,
                p.review_count,
                p.rating_sum,
                timestamp(p.created_at)
            );
            for s in &rows.skills {
                let _ = writeln!(
                    t.skills,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    s.provider_id,
                    s.position,
                    escape(s.skill),
                    escape(s.skill_key),
                    s.cost_in_pence,
                    s.review_count,
                    s.rating_sum,
                    s.skill_review_count,
                    s.skill_rating_sum,
                    timestamp(s.created_at)
                );
            }
            // The provider's figures hold only its current skills' keys: those it was rated for.
            for (key, f) in provider.skill_reviews.iter() {
                let _ = writeln!(
                    t.skill_figures,
                    "{}\t{}\t{}\t{}",
                    p.id,
                    escape(key),
                    f.count,
                    f.sum_tenths
                );
            }
            for r in reviews.iter().flat_map(ReviewSkillRatingRow::of) {
                let _ = writeln!(
                    t.skill_ratings,
                    "{}\t{}\t{}\t{}\t{}",
                    r.review_id,
                    r.position,
                    escape(&r.skill),
                    escape(&r.skill_key),
                    r.rating
                );
            }
            for a in &rows.availability {
                let _ = writeln!(t.availability, "{}\t{}", a.provider_id, range(&a.period));
            }
            for r in &rows.runs {
                let _ = writeln!(t.runs, "{}\t{}", r.provider_id, range(&r.run));
            }
            for r in reviews.iter().map(ReviewRow::from) {
                let comment = r
                    .comment
                    .as_deref()
                    .map_or_else(|| "\\N".to_owned(), escape);
                let created = timestamp(r.created_at);
                let _ = writeln!(
                    t.reviews,
                    "{}\t{}\t{}\t{}\t{comment}\t{created}",
                    r.id, r.provider_id, r.user_id, r.rating
                );
            }
        }
        Ok(t)
    }
}

/// Copies reviews with their moderation, skill ratings, flags and history, within `tx`.
async fn copy_moderated(
    tx: &tokio_postgres::Transaction<'_>,
    reviews: &[BulkModerated],
    freeze: bool,
) -> Result<(), PgError> {
    let mut rows = String::new();
    let mut skill_ratings = String::new();
    let mut flags = String::new();
    let mut events = String::new();
    let null = || "\\N".to_owned();
    let text = |v: Option<&str>| v.map_or_else(null, escape);
    let uuid = |v: Option<uuid::Uuid>| v.map_or_else(null, |u| u.to_string());
    let time = |v: Option<OffsetDateTime>| v.map_or_else(null, timestamp);
    for BulkModerated {
        submission,
        flags: raised,
    } in reviews
    {
        let r = ReviewRow::from(&submission.review);
        let m = ModerationColumns::of(&submission.moderation, submission.queued_at);
        let _ = writeln!(
            rows,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{{{}}}\t1\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.id,
            r.provider_id,
            r.user_id,
            r.rating,
            text(r.comment.as_deref()),
            timestamp(r.created_at),
            m.status,
            m.reasons.join(","),
            time(m.queued_at),
            text(m.decision_action),
            uuid(m.decision_by),
            text(m.decision_rule.as_deref()),
            text(m.decision_statement.as_deref()),
            time(m.decision_at),
            m.decision_appealed.map_or_else(null, |a| a.to_string()),
            uuid(m.appeal_against),
            text(m.appeal_status),
            time(m.appeal_at),
        );
        for s in ReviewSkillRatingRow::of(&submission.review) {
            let _ = writeln!(
                skill_ratings,
                "{}\t{}\t{}\t{}\t{}",
                s.review_id,
                s.position,
                escape(&s.skill),
                escape(&s.skill_key),
                s.rating
            );
        }
        for f in raised {
            let _ = writeln!(
                flags,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                f.id,
                f.review_id,
                f.flagger,
                f.reason.as_str(),
                text(f.explanation.as_ref().map(|e| e.as_str())),
                f.status.as_str(),
                timestamp(f.created_at),
            );
        }
        // In their order: the history's ids rise with the lines copied.
        for e in &submission.events {
            let _ = writeln!(
                events,
                "{}\t{}\t{}\t{}\t{}\t{}",
                r.id,
                r.provider_id,
                timestamp(e.at),
                uuid(e.by.map(|b| b.as_uuid())),
                e.detail.name(),
                escape(&event_detail_json(&e.detail).to_string()),
            );
        }
    }
    for (statement, data) in [
        (
            "COPY reviews (id, provider_id, user_id, rating, comment, created_at, status, \
             reasons, revision, queued_at, decision_action, decision_by, decision_rule, \
             decision_statement, decision_at, decision_appealed, appeal_against, appeal_status, \
             appeal_at) FROM STDIN",
            rows,
        ),
        (
            "COPY review_skill_ratings (review_id, position, skill, skill_key, rating) FROM STDIN",
            skill_ratings,
        ),
        (
            "COPY review_flags (id, review_id, flagger, reason, explanation, status, created_at) \
             FROM STDIN",
            flags,
        ),
        (
            "COPY review_events (review_id, provider_id, at, by, event, detail) FROM STDIN",
            events,
        ),
    ] {
        if data.is_empty() {
            continue;
        }
        let sink = tx.copy_in(&with_freeze(statement, freeze)).await?;
        futures_util::pin_mut!(sink);
        sink.send(Bytes::from(data)).await?;
        sink.finish().await?;
    }
    Ok(())
}

/// `statement` (a `COPY ... FROM STDIN`) with `FREEZE` when `freeze`.
fn with_freeze(statement: &str, freeze: bool) -> String {
    if freeze {
        format!("{statement} (FREEZE)")
    } else {
        statement.to_owned()
    }
}

/// An instant as COPY reads a `timestamptz` (RFC 3339, microseconds kept).
fn timestamp(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A range as PostgreSQL reads a `daterange` literal (`[from,to]` for the inclusive ranges
/// the rows hold).
fn range((from, to): &(Bound<Date>, Bound<Date>)) -> String {
    let mut out = String::new();
    match from {
        Bound::Included(d) => write!(out, "[{d}"),
        Bound::Excluded(d) => write!(out, "({d}"),
        Bound::Unbounded => write!(out, "("),
    }
    .and_then(|()| match to {
        Bound::Included(d) => write!(out, ",{d}]"),
        Bound::Excluded(d) => write!(out, ",{d})"),
        Bound::Unbounded => write!(out, ",)"),
    })
    .unwrap_or_default();
    out
}

/// Escapes text for COPY's text format (backslash, tab, newline, carriage return).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{escape, range};
    use std::ops::Bound;
    use time::macros::date;

    #[test]
    fn copy_text_escapes_its_delimiters() {
        assert_eq!(escape("a\tb\\c\nd\re"), "a\\tb\\\\c\\nd\\re");
    }

    #[test]
    fn ranges_are_written_as_daterange_literals() {
        let inclusive = (
            Bound::Included(date!(2028 - 02 - 28)),
            Bound::Included(date!(9999 - 12 - 31)),
        );
        assert_eq!(range(&inclusive), "[2028-02-28,9999-12-31]");
        let half_open = (
            Bound::Included(date!(2028 - 03 - 01)),
            Bound::Excluded(date!(2028 - 03 - 04)),
        );
        assert_eq!(range(&half_open), "[2028-03-01,2028-03-04)");
    }
}

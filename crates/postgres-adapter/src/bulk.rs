//! Bulk loading for `provider-api seed`: whole batches of providers with their skills,
//! availability, runs and reviews, written with `COPY ... FROM STDIN` (binary format; see
//! [`CopyBatch`]) in one transaction per batch.
//!
//! This bypasses the per-row statements of [`crate::PgStore`] for speed but neither its rows
//! (the same `ProviderRows` and `ReviewRow` it inserts, written for COPY) nor the database's
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
use bytes::{BufMut, Bytes, BytesMut};
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

    /// Rows in each table a load writes, by table name.
    ///
    /// # Errors
    /// [`PgError::Bulk`] when a count fails.
    pub async fn table_counts(&self) -> Result<Vec<(&'static str, i64)>, PgError> {
        let mut counts = Vec::new();
        for table in DEFERRED_TABLES {
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
        CopyBatch::of(batch, &[])?.copy(&tx, false).await?;
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
        CopyBatch::of(&[], reviews)?.copy(&tx, false).await?;
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
        // For the index builds' sorts (shared by the parallel workers; from 128 MB to 1 GB
        // the largest, on provider_skills, takes the same time) and the foreign keys' checks,
        // which use it as their work_mem.
        tx.batch_execute(&format!(
            "SET LOCAL maintenance_work_mem = '512MB'; \
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

    /// Refreshes the visibility map (so that the index-only scans of search and recommend
    /// need not visit the freshly written heap) and the planner's statistics (after a large
    /// load the plans depend on them): `VACUUM`, then `ANALYZE` of the loaded tables, on two
    /// connections at once: providers (whose name keys keep a long statistics list, the
    /// longest to sample) on this one, the others on `other`. After a load copied `FREEZE`,
    /// the pages are all-visible already and `VACUUM` skips them.
    ///
    /// # Errors
    /// [`PgError::Bulk`] when `VACUUM` or `ANALYZE` fails.
    pub async fn vacuum_analyze(&self, other: &BulkLoader) -> Result<(), PgError> {
        self.client.batch_execute("VACUUM").await?;
        let (providers, rest) = DEFERRED_TABLES.split_at(1);
        let (providers, rest) = (
            format!("ANALYZE {}", providers.join(", ")),
            format!("ANALYZE {}", rest.join(", ")),
        );
        let (first, second) = tokio::join!(
            self.client.batch_execute(&providers),
            other.client.batch_execute(&rest),
        );
        first?;
        second?;
        Ok(())
    }
}

/// The tables [`BulkLoader::begin_deferred`] loads, with their indexes and constraints set
/// aside (providers first: see [`BulkLoader::vacuum_analyze`]).
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
        self.load_encoded(CopyBatch::of(batch, &[])?).await
    }

    /// Copies a batch encoded beforehand into the load's transaction.
    ///
    /// # Errors
    /// [`PgError::Bulk`] when a row breaks a check, or the database fails.
    pub async fn load_encoded(&mut self, batch: CopyBatch) -> Result<(), PgError> {
        batch.copy(&self.tx, self.freeze).await
    }

    /// Copies reviews with their moderation into the load's transaction (see
    /// [`BulkLoader::load_moderated`]).
    ///
    /// # Errors
    /// [`PgError::Bulk`] when a row breaks a check, or the database fails.
    pub async fn load_moderated(&mut self, reviews: &[BulkModerated]) -> Result<(), PgError> {
        self.load_encoded(CopyBatch::of(&[], reviews)?).await
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

/// One table's rows of a [`CopyBatch`].
#[derive(Debug)]
struct TableCopy {
    /// `COPY table (columns) FROM STDIN`, without options.
    statement: &'static str,
    /// The data is in COPY's binary format (else its text format).
    binary: bool,
    data: Bytes,
}

/// A batch's rows encoded for COPY, table by table, ready to be streamed: built where the
/// rows are made (the seeder encodes on its generator thread, so that the loading connection
/// only streams bytes while the server copies).
///
/// The rows are the ones [`crate::PgStore`] inserts (the adapter's `ProviderRows`,
/// `ReviewRow` and `ReviewSkillRatingRow`). The tables of a large batch (providers with their published
/// reviews) are in COPY's binary format: the server then parses no text (timestamps and
/// ranges are the costly ones), and the values are encoded as the store's driver encodes
/// them. The moderated reviews, a few per thousand providers, are in the text format.
#[derive(Debug, Default)]
pub struct CopyBatch {
    /// In an order that satisfies the foreign keys (referenced rows first).
    tables: Vec<TableCopy>,
}

impl CopyBatch {
    /// The rows of `published` (providers and their published reviews), then of `moderated`
    /// (reviews with another moderation, of providers in `published` or already stored).
    ///
    /// # Errors
    /// [`PgError::Refused`] when a figure does not fit its column (never, for data the domain
    /// built).
    pub fn of(published: &[BulkProvider], moderated: &[BulkModerated]) -> Result<Self, PgError> {
        let mut batch = Self::default();
        if !published.is_empty() {
            batch.push_published(published)?;
        }
        if !moderated.is_empty() {
            batch.push_moderated(moderated);
        }
        Ok(batch)
    }

    /// Adds a table's rows (none when `data` is empty).
    fn push(&mut self, statement: &'static str, binary: bool, data: Bytes) {
        if !data.is_empty() {
            self.tables.push(TableCopy {
                statement,
                binary,
                data,
            });
        }
    }

    fn push_published(&mut self, batch: &[BulkProvider]) -> Result<(), PgError> {
        let refused = |e: &dyn std::fmt::Display| PgError::Refused(e.to_string());
        let stat = |v: u64| i64::try_from(v).map_err(|e| refused(&e));
        let mut providers = BinaryCopy::default();
        let mut skills = BinaryCopy::default();
        let mut skill_figures = BinaryCopy::default();
        let mut availability = BinaryCopy::default();
        let mut runs = BinaryCopy::default();
        let mut reviews = BinaryCopy::default();
        let mut skill_ratings = BinaryCopy::default();
        for BulkProvider {
            provider,
            reviews: published,
        } in batch
        {
            let rows = ProviderRows::of(provider).map_err(|e| refused(&e))?;
            let p = &rows.provider;
            providers.row(8);
            providers.uuid(p.id);
            providers.uuid(p.owner_id);
            providers.text(p.name);
            providers.text(&p.name_key);
            providers.int8(p.cost_in_pence);
            providers.int8(p.review_count);
            providers.int8(p.rating_sum);
            providers.timestamptz(p.created_at)?;
            for s in &rows.skills {
                skills.row(10);
                skills.uuid(s.provider_id);
                skills.int2(s.position);
                skills.text(s.skill);
                skills.text(s.skill_key);
                skills.int8(s.cost_in_pence);
                skills.int8(s.review_count);
                skills.int8(s.rating_sum);
                skills.int8(s.skill_review_count);
                skills.int8(s.skill_rating_sum);
                skills.timestamptz(s.created_at)?;
            }
            // The provider's figures hold only its current skills' keys: those it was rated for.
            for (key, f) in provider.skill_reviews.iter() {
                skill_figures.row(4);
                skill_figures.uuid(p.id);
                skill_figures.text(key);
                skill_figures.int8(stat(f.count)?);
                skill_figures.int8(stat(f.sum_tenths)?);
            }
            for a in &rows.availability {
                availability.row(2);
                availability.uuid(a.provider_id);
                availability.daterange(&a.period);
            }
            for r in &rows.runs {
                runs.row(2);
                runs.uuid(r.provider_id);
                runs.daterange(&r.run);
            }
            for review in published {
                let r = ReviewRow::from(review);
                reviews.row(6);
                reviews.uuid(r.id);
                reviews.uuid(r.provider_id);
                reviews.uuid(r.user_id);
                reviews.int2(r.rating);
                match &r.comment {
                    Some(comment) => reviews.text(comment),
                    None => reviews.null(),
                }
                reviews.timestamptz(r.created_at)?;
                for s in ReviewSkillRatingRow::of(review) {
                    skill_ratings.row(5);
                    skill_ratings.uuid(s.review_id);
                    skill_ratings.int2(s.position);
                    skill_ratings.text(&s.skill);
                    skill_ratings.text(&s.skill_key);
                    skill_ratings.int2(s.rating);
                }
            }
        }
        for (statement, data) in [
            (
                "COPY providers (id, owner_id, name, name_key, cost_in_pence, review_count, rating_sum, created_at) FROM STDIN",
                providers,
            ),
            (
                "COPY provider_skills (provider_id, position, skill, skill_key, cost_in_pence, review_count, rating_sum, skill_review_count, skill_rating_sum, created_at) FROM STDIN",
                skills,
            ),
            (
                "COPY skill_reviews (provider_id, skill_key, review_count, rating_sum) FROM STDIN",
                skill_figures,
            ),
            ("COPY availability (provider_id, period) FROM STDIN", availability),
            ("COPY availability_runs (provider_id, run) FROM STDIN", runs),
            (
                "COPY reviews (id, provider_id, user_id, rating, comment, created_at) FROM STDIN",
                reviews,
            ),
            (
                "COPY review_skill_ratings (review_id, position, skill, skill_key, rating) FROM STDIN",
                skill_ratings,
            ),
        ] {
            self.push(statement, true, data.finish());
        }
        Ok(())
    }

    fn push_moderated(&mut self, reviews: &[BulkModerated]) {
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
            self.push(statement, false, Bytes::from(data));
        }
    }

    /// Streams each table's rows within `tx`; with `freeze`, the rows are written frozen
    /// (the tables must have been created or truncated in `tx`).
    async fn copy(self, tx: &tokio_postgres::Transaction<'_>, freeze: bool) -> Result<(), PgError> {
        for table in self.tables {
            let options = match (table.binary, freeze) {
                (true, true) => " (FORMAT binary, FREEZE)",
                (true, false) => " (FORMAT binary)",
                (false, true) => " (FREEZE)",
                (false, false) => "",
            };
            let statement = format!("{}{options}", table.statement);
            let started = std::time::Instant::now();
            let sink = tx.copy_in(&statement).await?;
            futures_util::pin_mut!(sink);
            sink.send(table.data).await?;
            let rows = sink.finish().await?;
            tracing::debug!(
                statement,
                rows,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "copied"
            );
        }
        Ok(())
    }
}

/// Rows in COPY's binary format: a header, then each row as its field count and each field
/// as its length and its value in the type's binary (send/recv) format, then a trailer.
#[derive(Debug)]
struct BinaryCopy {
    buf: BytesMut,
    rows: usize,
}

impl Default for BinaryCopy {
    fn default() -> Self {
        let mut buf = BytesMut::with_capacity(64 * 1024);
        // Signature, flags (no OIDs), header extension length.
        buf.put_slice(b"PGCOPY\n\xff\r\n\0");
        buf.put_i32(0);
        buf.put_i32(0);
        Self { buf, rows: 0 }
    }
}

/// Days from 0000-01-01 (Julian day 1,721,060) to PostgreSQL's epoch, 2000-01-01 (Julian day
/// 2,451,545): dates and timestamps are sent relative to it.
const PG_EPOCH_JULIAN_DAY: i32 = 2_451_545;

impl BinaryCopy {
    /// Starts a row of `fields` fields.
    fn row(&mut self, fields: i16) {
        self.buf.put_i16(fields);
        self.rows += 1;
    }

    fn null(&mut self) {
        self.buf.put_i32(-1);
    }

    fn uuid(&mut self, id: uuid::Uuid) {
        self.buf.put_i32(16);
        self.buf.put_slice(id.as_bytes());
    }

    fn text(&mut self, text: &str) {
        // Names, skills and comments are at most a few thousand bytes.
        self.buf
            .put_i32(i32::try_from(text.len()).unwrap_or(i32::MAX));
        self.buf.put_slice(text.as_bytes());
    }

    fn int8(&mut self, value: i64) {
        self.buf.put_i32(8);
        self.buf.put_i64(value);
    }

    fn int2(&mut self, value: i16) {
        self.buf.put_i32(2);
        self.buf.put_i16(value);
    }

    /// Microseconds since 2000-01-01 UTC, truncated as the store's driver truncates them
    /// (every instant the domain holds fits: ±9,999 years are about 3·10¹⁷ µs).
    fn timestamptz(&mut self, at: OffsetDateTime) -> Result<(), PgError> {
        let epoch = time::macros::datetime!(2000-01-01 0:00 UTC);
        let micros = i64::try_from((at - epoch).whole_microseconds())
            .map_err(|e| PgError::Refused(format!("{at}: {e}")))?;
        self.buf.put_i32(8);
        self.buf.put_i64(micros);
        Ok(())
    }

    /// A `daterange` (range_send): its flags, then each finite bound as a date (days since
    /// 2000-01-01). The server canonicalizes it (`[from, to + 1)`) as it does a literal.
    fn daterange(&mut self, (from, to): &(Bound<Date>, Bound<Date>)) {
        const LB_INC: u8 = 0x02;
        const UB_INC: u8 = 0x04;
        const LB_INF: u8 = 0x08;
        const UB_INF: u8 = 0x10;
        let (mut flags, mut bounds) = (0u8, Vec::with_capacity(2));
        for (bound, inclusive, infinite) in [(from, LB_INC, LB_INF), (to, UB_INC, UB_INF)] {
            match bound {
                Bound::Included(d) => {
                    flags |= inclusive;
                    bounds.push(*d);
                }
                Bound::Excluded(d) => bounds.push(*d),
                Bound::Unbounded => flags |= infinite,
            }
        }
        let length = 1 + 8 * bounds.len();
        self.buf.put_i32(i32::try_from(length).unwrap_or(i32::MAX));
        self.buf.put_u8(flags);
        for d in bounds {
            self.buf.put_i32(4);
            self.buf.put_i32(d.to_julian_day() - PG_EPOCH_JULIAN_DAY);
        }
    }

    /// The data to send: empty when there is no row.
    fn finish(mut self) -> Bytes {
        if self.rows == 0 {
            return Bytes::new();
        }
        self.buf.put_i16(-1);
        self.buf.freeze()
    }
}

/// An instant as COPY reads a `timestamptz` (RFC 3339, microseconds kept).
fn timestamp(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
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
    use super::{escape, BinaryCopy};
    use std::ops::Bound;
    use time::macros::{date, datetime};

    #[test]
    fn copy_text_escapes_its_delimiters() {
        assert_eq!(escape("a\tb\\c\nd\re"), "a\\tb\\\\c\\nd\\re");
    }

    /// The bytes after the binary header (19 bytes) of a copy holding one row of `field`.
    fn field(write: impl FnOnce(&mut BinaryCopy)) -> Vec<u8> {
        let mut copy = BinaryCopy::default();
        copy.row(1);
        write(&mut copy);
        let data = copy.finish();
        assert_eq!(&data[..11], b"PGCOPY\n\xff\r\n\0");
        assert_eq!(&data[data.len() - 2..], [0xff, 0xff], "the trailer");
        data[19 + 2..data.len() - 2].to_vec()
    }

    #[test]
    fn ranges_are_sent_as_daterange_with_their_bound_flags() {
        let inclusive = (
            Bound::Included(date!(2000 - 01 - 02)),
            Bound::Included(date!(1999 - 12 - 31)),
        );
        // Length 17: flags [ and ] (0x02 | 0x04), then two dates of 4 bytes: 1 and -1.
        assert_eq!(
            field(|c| c.daterange(&inclusive)),
            [0, 0, 0, 17, 0x06, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff]
        );
        let half_open = (Bound::Included(date!(2000 - 01 - 01)), Bound::Unbounded);
        assert_eq!(
            field(|c| c.daterange(&half_open)),
            [0, 0, 0, 9, 0x02 | 0x10, 0, 0, 0, 4, 0, 0, 0, 0]
        );
    }

    #[test]
    fn timestamps_are_sent_as_microseconds_since_2000_truncated() {
        let at = datetime!(2000-01-01 0:00:01.000002999 UTC);
        assert_eq!(
            field(|c| c.timestamptz(at).unwrap()),
            [0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x42]
        );
        let before = datetime!(1999-12-31 23:59:59 UTC);
        assert_eq!(
            field(|c| c.timestamptz(before).unwrap()),
            [0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0, 0xbd, 0xc0]
        );
    }
}

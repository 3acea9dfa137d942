//! Bulk loading for `provider-api seed`: whole batches of providers with their skills,
//! availability, runs and reviews, written with `COPY ... FROM STDIN` (text format) in one
//! transaction per batch.
//!
//! This bypasses the per-row statements of [`crate::PgStore`] for speed but not the database's
//! guards: every check, unique and exclusion constraint and foreign key still applies, so a
//! batch that would break one is refused whole.

use crate::PgError;
use bytes::Bytes;
use futures_util::SinkExt;
use provider_domain::{DateRange, Provider, Review};
use std::fmt::Write as _;
use tokio_postgres::{Client, NoTls};

/// One connection for bulk loading.
#[derive(Debug)]
pub struct BulkLoader {
    client: Client,
}

/// A provider and its reviews (its review stats must match them).
#[derive(Debug, Clone)]
pub struct BulkProvider {
    /// The provider.
    pub provider: Provider,
    /// Its reviews.
    pub reviews: Vec<Review>,
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
        let tables = Tables::of(batch);
        let tx = self.client.transaction().await?;
        for (statement, data) in [
            (
                "COPY providers (id, owner_id, name, name_key, cost_in_pence, review_count, rating_sum) FROM STDIN",
                tables.providers,
            ),
            (
                "COPY provider_skills (provider_id, position, skill, skill_key, cost_in_pence) FROM STDIN",
                tables.skills,
            ),
            ("COPY availability (provider_id, period) FROM STDIN", tables.availability),
            ("COPY availability_runs (provider_id, run) FROM STDIN", tables.runs),
            (
                "COPY reviews (id, provider_id, user_id, rating, comment, created_at) FROM STDIN",
                tables.reviews,
            ),
        ] {
            if data.is_empty() {
                continue;
            }
            let started = std::time::Instant::now();
            let sink = tx.copy_in(statement).await?;
            futures_util::pin_mut!(sink);
            sink.send(Bytes::from(data)).await?;
            let rows = sink.finish().await?;
            tracing::debug!(statement, rows, elapsed_ms = started.elapsed().as_millis() as u64, "copied");
        }
        tx.commit().await?;
        Ok(())
    }

    /// Refreshes the planner's statistics (after a large load the plans depend on them).
    ///
    /// # Errors
    /// [`PgError::Bulk`] when `ANALYZE` fails.
    pub async fn analyze(&self) -> Result<(), PgError> {
        self.client.batch_execute("ANALYZE").await?;
        Ok(())
    }
}

/// The COPY text of each table for one batch.
#[derive(Default)]
struct Tables {
    providers: String,
    skills: String,
    availability: String,
    runs: String,
    reviews: String,
}

impl Tables {
    fn of(batch: &[BulkProvider]) -> Self {
        let mut t = Self::default();
        for BulkProvider {
            provider: p,
            reviews,
        } in batch
        {
            let id = p.id.as_uuid();
            let _ = writeln!(
                t.providers,
                "{id}\t{}\t{}\t{}\t{}\t{}\t{}",
                p.owner,
                escape(p.name.as_str()),
                escape(&p.name.search_key()),
                p.cost.pence(),
                p.reviews.count,
                p.reviews.sum_tenths
            );
            for (position, skill) in p.skills.iter().enumerate() {
                let _ = writeln!(
                    t.skills,
                    "{id}\t{position}\t{}\t{}\t{}",
                    escape(skill.as_str()),
                    escape(skill.key()),
                    p.cost.pence()
                );
            }
            for range in p.availability.ranges() {
                let _ = writeln!(t.availability, "{id}\t{}", daterange(range));
            }
            for run in p.availability.runs() {
                let _ = writeln!(t.runs, "{id}\t{}", daterange(&run));
            }
            for r in reviews {
                let comment = r
                    .comment
                    .as_ref()
                    .map_or_else(|| "\\N".to_owned(), |c| escape(c.as_str()));
                let created = r
                    .created_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                let _ = writeln!(
                    t.reviews,
                    "{}\t{id}\t{}\t{}\t{comment}\t{created}",
                    r.id,
                    r.user_id,
                    r.rating.tenths()
                );
            }
        }
        t
    }
}

/// An inclusive range as PostgreSQL reads a `daterange` literal.
fn daterange(range: &DateRange) -> String {
    format!("[{},{}]", range.from(), range.to())
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
    use super::escape;

    #[test]
    fn copy_text_escapes_its_delimiters() {
        assert_eq!(escape("a\tb\\c\nd\re"), "a\\tb\\\\c\\nd\\re");
    }
}

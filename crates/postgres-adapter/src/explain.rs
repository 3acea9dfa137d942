//! `EXPLAIN (ANALYZE, BUFFERS)` of the very statements search and recommend send, for the
//! benchmark report and for anyone tuning the schema (`provider-api explain`).

use crate::error::repo_error;
use crate::queries;
use crate::sql::Statement;
use crate::PgError;
use diesel::pg::Pg;
use diesel::row::NamedRow;
use diesel::sql_types::Text;
use diesel::{deserialize, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use provider_domain::{JobRequest, SearchFilter};
use provider_ports::Page;

/// One line of a plan.
struct PlanLine(String);

impl QueryableByName<Pg> for PlanLine {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> deserialize::Result<Self> {
        NamedRow::get::<Text, String>(row, "QUERY PLAN").map(Self)
    }
}

async fn explain(url: &str, statement: Statement, settings: &str) -> Result<String, PgError> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    // The session settings the store's connections use (see `PgStore::connect`), and the
    // statement's own; `SET LOCAL` lasts until the end of the transaction, which is left to
    // roll back.
    conn.batch_execute(crate::store::SESSION_SETTINGS).await?;
    conn.batch_execute("BEGIN").await?;
    conn.batch_execute(settings).await?;
    let mut query = Statement::new("EXPLAIN (ANALYZE, BUFFERS) ");
    query.append(statement);
    let lines: Vec<PlanLine> = query
        .load(&mut conn)
        .await
        .map_err(|e| PgError::Config(repo_error(e).to_string()))?;
    Ok(lines
        .into_iter()
        .map(|l| l.0)
        .collect::<Vec<_>>()
        .join("\n"))
}

/// The plan and timing of one search page, run on the database at `url`.
///
/// # Errors
/// [`PgError`] when the database cannot be reached or the statement fails.
pub async fn explain_search(
    url: &str,
    filter: &SearchFilter,
    page: Page,
) -> Result<String, PgError> {
    explain(url, queries::search(filter, page), "SELECT 1").await
}

/// The plan and timing of one recommend page, run on the database at `url`.
///
/// # Errors
/// [`PgError`] when the database cannot be reached or the statement fails.
pub async fn explain_recommend(url: &str, job: &JobRequest, page: Page) -> Result<String, PgError> {
    explain(
        url,
        queries::recommend(job, page),
        crate::store::RECOMMEND_SETTINGS,
    )
    .await
}

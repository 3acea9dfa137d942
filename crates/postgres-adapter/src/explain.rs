//! `EXPLAIN (ANALYZE, BUFFERS)` of the very statements search and recommend send, for the
//! benchmark report and for anyone tuning the schema (`provider-api explain`).

use crate::error::repo_error;
use crate::rows::VersionedProviderRow;
use crate::sql::Statement;
use crate::{pool, queries, recommend, PgError, PgStore};
use diesel::pg::Pg;
use diesel::row::NamedRow;
use diesel::sql_types::Text;
use diesel::{deserialize, QueryableByName};
use diesel_async::RunQueryDsl;
use provider_domain::{JobRequest, Provider, ProviderId, SearchFilter, SearchSort, SortKey};
use provider_ports::{Page, Paging};

/// One line of a plan.
struct PlanLine(String);

impl QueryableByName<Pg> for PlanLine {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> deserialize::Result<Self> {
        NamedRow::get::<Text, String>(row, "QUERY PLAN").map(Self)
    }
}

async fn explain(url: &str, statements: Vec<Statement>) -> Result<String, PgError> {
    let mut conn = pool::planning_like_the_store(url).await?;
    let mut plans = Vec::new();
    for statement in statements {
        let mut query = Statement::new("EXPLAIN (ANALYZE, BUFFERS) ");
        query.append(statement);
        let lines: Vec<PlanLine> = query.load(&mut conn).await.map_err(failed)?;
        plans.push(
            lines
                .into_iter()
                .map(|l| l.0)
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    Ok(plans.join("\n\n"))
}

fn failed(e: diesel::result::Error) -> PgError {
    PgError::Config(repo_error(e).to_string())
}

/// The plan and timing of one search page in `sort` (and of its total, when asked for), run on
/// the database at `url`: page `page`, or with `after`, the page of `page`'s size after that
/// provider's key (what a cursor leads to at its depth).
///
/// # Errors
/// [`PgError`] when the database cannot be reached or the statement fails.
pub async fn explain_search(
    url: &str,
    filter: &SearchFilter,
    sort: SearchSort,
    page: Page,
    after: Option<ProviderId>,
    total: bool,
) -> Result<String, PgError> {
    let paging = match after {
        None => Paging::Offset(page),
        Some(id) => {
            // The page a cursor made on this provider leads to: after its key.
            let mut conn = pool::planning_like_the_store(url).await?;
            let rows: Vec<VersionedProviderRow> =
                queries::get(id).load(&mut conn).await.map_err(failed)?;
            let row = rows
                .into_iter()
                .next()
                .ok_or_else(|| PgError::Config(format!("no provider {id} to start after")))?;
            let provider =
                Provider::try_from(row.provider).map_err(|e| PgError::Config(e.to_string()))?;
            Paging::After {
                key: SortKey::of(&provider),
                size: page.size(),
            }
        }
    };
    let mut statements = vec![queries::search(filter, sort, &paging)];
    if total {
        statements.push(queries::search_total(filter));
    }
    explain(url, statements).await
}

/// The plans and timings of the statements one recommend page runs (with the store's default
/// walk prefix), in order, run on the database at `url`: the ranking steps, then the load of
/// the page's providers.
///
/// # Errors
/// [`PgError`] when the database cannot be reached or a statement fails.
pub async fn explain_recommend(url: &str, job: &JobRequest, page: Page) -> Result<String, PgError> {
    let mut conn = pool::planning_like_the_store(url).await?;
    let prefix = i64::from(PgStore::DEFAULT_RECOMMEND_PREFIX);
    let ranking = recommend::rank(&mut conn, job, page, prefix, false)
        .await
        .map_err(failed)?;
    let mut statements = ranking.statements(job);
    statements.push(ranking.load_page());
    explain(url, statements).await
}

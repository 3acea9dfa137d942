//! How recommend finds a page: the statements it runs, one after another in one snapshot, to
//! rank its candidates, and the rows they answer. The store runs them to answer; `explain`
//! runs them to show their plans.
//!
//! A walk of the requested skills' postings answers first, reading a prefix of each list
//! ([`sql::walk`]); [`exact`] tells whether what it read proves the page. When it does not,
//! either the windows are rare (few runs satisfy rule 3, so the walk would find few candidates
//! however far it read): then the providers available then are ranked directly
//! ([`sql::from_windows`]); or the walk reads on, further down the lists.

mod exact;
mod sql;

use crate::pool;
use crate::sql::Statement;
use diesel::pg::Pg;
use diesel::row::NamedRow;
use diesel::sql_types::{BigInt, Nullable, Uuid as SqlUuid};
use diesel::{deserialize, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use exact::{first_prefix, is_exact, next_prefix, Prefix, Ranked};
use provider_domain::JobRequest;
use provider_ports::Page;
use uuid::Uuid;

/// A statement recommend runs to rank its candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// A walk of the postings, reading these prefixes of the lists (`None`: all of one).
    Walk(Vec<Option<i64>>),
    /// The count of runs satisfying rule 3, up to [`sql::RARE_WINDOW_RUNS`].
    WindowRuns,
    /// The ranking of the providers available in rare windows.
    FromWindows,
}

impl Step {
    /// The statement of this step, for a page needing `n` rows.
    fn statement(&self, job: &JobRequest, n: i64) -> Statement {
        match self {
            Self::Walk(prefixes) => sql::walk(job, prefixes, n),
            Self::WindowRuns => sql::window_runs(job),
            Self::FromWindows => sql::from_windows(job, n),
        }
    }
}

/// What one walk read of one requested skill's postings.
#[derive(Debug, QueryableByName)]
struct ListRead {
    /// The skill's position among the requested skills.
    #[diesel(sql_type = BigInt)]
    list: i64,
    /// Postings read (the prefix and its ties).
    #[diesel(sql_type = BigInt)]
    postings: i64,
    /// The lowest day rate read.
    #[diesel(sql_type = Nullable<BigInt>)]
    lowest_cost: Option<i64>,
}

/// A candidate that meets every rule, as ranked.
#[derive(Debug, QueryableByName)]
struct Candidate {
    #[diesel(sql_type = SqlUuid)]
    provider_id: Uuid,
    /// Requested skills it has.
    #[diesel(sql_type = BigInt)]
    matched: i64,
    #[diesel(sql_type = BigInt)]
    cost_in_pence: i64,
}

/// A row of a walk: what it read of one list, or one of its ranked candidates (best first).
/// Candidates are the rows with a `provider_id`.
#[derive(Debug)]
enum WalkRow {
    List(ListRead),
    Candidate(Candidate),
}

impl QueryableByName<Pg> for WalkRow {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> deserialize::Result<Self> {
        match NamedRow::get::<Nullable<SqlUuid>, Option<Uuid>>(row, "provider_id")? {
            Some(_) => Candidate::build(row).map(Self::Candidate),
            None => ListRead::build(row).map(Self::List),
        }
    }
}

/// The answer of [`Step::WindowRuns`].
#[derive(Debug, QueryableByName)]
struct RunCount {
    #[diesel(sql_type = BigInt)]
    runs: i64,
}

/// The ranking of one page of recommendations.
#[derive(Debug)]
pub(crate) struct PageRanking {
    /// The page's providers, best first, and the one after it if any (telling whether more
    /// follow).
    page_ids: Vec<Uuid>,
    /// The statements that ranked them, in the order they ran.
    steps: Vec<Step>,
    /// Rows the steps ranked: the page, the pages before it, and one more.
    n: i64,
}

impl PageRanking {
    /// The statements that ranked the page, as they ran.
    pub(crate) fn statements(&self, job: &JobRequest) -> Vec<Statement> {
        self.steps
            .iter()
            .map(|s| s.statement(job, self.n))
            .collect()
    }

    /// The statement that loads the page's providers, in ranking order.
    pub(crate) fn load_page(&self) -> Statement {
        sql::providers_in_order(self.page_ids.clone())
    }
}

/// Ranks the first `page.offset() + page.size() + 1` recommendations for `job`, reading
/// `prefix` postings per needed row of each skill at first. Run it inside one snapshot (a
/// repeatable-read transaction), so that every step reads the same data. With
/// `set_custom_plans` its first statement starts the transaction's custom plans
/// (`pool::load_planned_for_values`); else the connection plans them so already.
pub(crate) async fn rank(
    conn: &mut AsyncPgConnection,
    job: &JobRequest,
    page: Page,
    prefix: i64,
    set_custom_plans: bool,
) -> QueryResult<PageRanking> {
    let n = page.offset() + page.size() as usize + 1;
    let n_sql = n as i64;
    let lists = job.skills().len();
    let mut steps = Vec::new();
    let mut reading = vec![first_prefix(n, prefix); lists];
    let ids = 'ranked: {
        for walks in 1.. {
            let step = Step::Walk(reading.clone());
            let statement = step.statement(job, n_sql);
            let rows: Vec<WalkRow> = if walks == 1 && set_custom_plans {
                pool::load_planned_for_values!(conn, statement)?
            } else {
                statement.load(conn).await?
            };
            steps.push(step);
            let (prefixes, ranked, ids) = read_walk(rows, &reading);
            if is_exact(&prefixes, &ranked, n) {
                break 'ranked ids;
            }
            // After the first walk only: are the windows rare?
            if walks == 1 {
                // A count: always one row.
                let count: RunCount = Step::WindowRuns
                    .statement(job, n_sql)
                    .get_result(conn)
                    .await?;
                steps.push(Step::WindowRuns);
                if count.runs < sql::RARE_WINDOW_RUNS {
                    let rows: Vec<Candidate> =
                        Step::FromWindows.statement(job, n_sql).load(conn).await?;
                    steps.push(Step::FromWindows);
                    break 'ranked rows.into_iter().map(|c| c.provider_id).collect();
                }
            }
            reading = deepen(&prefixes, &reading, walks);
        }
        unreachable!("the walks go on until one is exact; reading whole lists always is")
    };
    Ok(PageRanking {
        page_ids: page_ids(ids, page),
        steps,
        n: n_sql,
    })
}

/// What a walk that read `reading` of each list answered: what it read of each list, its
/// candidates' ranking keys, and their ids.
fn read_walk(rows: Vec<WalkRow>, reading: &[Option<i64>]) -> (Vec<Prefix>, Vec<Ranked>, Vec<Uuid>) {
    // A list with no posting within budget has no row of its own: it is exhausted.
    let mut prefixes = vec![
        Prefix {
            exhausted: true,
            lowest_cost: None,
        };
        reading.len()
    ];
    let mut ranked = Vec::new();
    let mut ids = Vec::new();
    for row in rows {
        match row {
            WalkRow::Candidate(c) => {
                ranked.push(Ranked {
                    matched: c.matched,
                    cost: c.cost_in_pence,
                });
                ids.push(c.provider_id);
            }
            WalkRow::List(list) => {
                let i = usize::try_from(list.list).unwrap_or(usize::MAX);
                if let (Some(p), Some(read)) = (prefixes.get_mut(i), reading.get(i)) {
                    *p = Prefix {
                        exhausted: read.is_none_or(|m| list.postings < m),
                        lowest_cost: list.lowest_cost,
                    };
                }
            }
        }
    }
    (prefixes, ranked, ids)
}

/// The prefixes of the next walk: the open list(s) read deepest so far (lowest day rate cut:
/// the rarest skill) read eight times further, or, after a few walks, every open list. Reading
/// the rarest list further lowers the cut that proves a page exact, and brings the lists
/// closest to exhaustion there.
fn deepen(prefixes: &[Prefix], reading: &[Option<i64>], walks: usize) -> Vec<Option<i64>> {
    let deepest = prefixes
        .iter()
        .filter(|p| !p.exhausted)
        .filter_map(|p| p.lowest_cost)
        .min();
    prefixes
        .iter()
        .zip(reading)
        .map(|(p, read)| match read {
            Some(m) if !p.exhausted && (walks > 3 || p.lowest_cost == deepest) => next_prefix(*m),
            other => *other,
        })
        .collect()
}

/// The ids of the page's rows (and the one after, telling whether more follow).
fn page_ids(mut ids: Vec<Uuid>, page: Page) -> Vec<Uuid> {
    let offset = page.offset().min(ids.len());
    ids.drain(..offset);
    ids.truncate(page.size() as usize + 1);
    ids
}

//! The SQL of recommend's steps (see [`super`] for how it combines them), and of the load of
//! the page they ranked. They run one after another in one repeatable-read transaction, so
//! they read one snapshot. The ranking keys are written as the domain's, each as one double:
//! why ordering by them is exact is told at [`MEAN`] and [`CONFIDENCE`]. Values are always
//! bound, never written into the text.

use crate::queries::{with_children, MEAN, PROVIDER_COLUMNS};
use crate::sql::Statement;
use diesel::sql_types::{Array, BigInt, Date as SqlDate, Double, Text, Uuid as SqlUuid};
use provider_domain::JobRequest;

/// The confidence-weighted rating `(sum_tenths + 125) / (10 * (count + 5))` (that is,
/// `(rating_sum + 2.5 * 5) / (review_count + 5)` in tenths), as `ReviewStats::confidence`.
///
/// Ordering by this double equals the domain's exact `cmp_confidence` for the same reason as
/// [`MEAN`]: denominators `10 * (count + 5)` make distinct fractions differ by at least
/// `1 / (100 * (count_a + 5) * (count_b + 5))`, which a double resolves for any provider with
/// fewer than about 3 million reviews; equal fractions give equal doubles, and then the next
/// keys (review count, id) decide, as in the domain.
const CONFIDENCE: &str = "((p.rating_sum + 125)::float8 / ((p.review_count + 5) * 10)::float8)";

/// Ranking key 3: the confidence-weighted rating of the matched skills' pooled per-skill
/// ratings, `(skill_sum + 125) / (10 * (skill_count + 5))` over a relation `m` with `skill_sum`
/// and `skill_count` (as `ReviewStats::confidence` of the domain's pooled figures). Ordering by
/// this double equals the domain's exact comparison for the reason given at [`CONFIDENCE`]
/// (pooled counts stay far below the ~3 million where doubles could no longer tell two such
/// fractions apart: at most 50 per review).
const MATCHED_CONFIDENCE: &str =
    "((m.skill_sum + 125)::float8 / ((m.skill_count + 5) * 10)::float8)";

/// Rule 3 for one run `r`: it overlaps some window by at least `duration` days. The windows
/// are bound one by one, so that the planner sees them (custom plans).
fn long_enough_run(s: &mut Statement, job: &JobRequest) {
    s.sql("(");
    for (i, window) in job.windows().iter().enumerate() {
        if i > 0 {
            s.sql(" OR ");
        }
        let range = |s: &mut Statement| {
            s.sql("daterange(")
                .bind::<SqlDate, _>(window.from())
                .sql(", ")
                .bind::<SqlDate, _>(window.to())
                .sql(", '[]')");
        };
        s.sql("(r.run && ");
        range(s);
        s.sql(" AND upper(r.run * ");
        range(s);
        s.sql(") - lower(r.run * ");
        range(s);
        s.sql(") >= ").bind::<BigInt, _>(job.duration()).sql(")");
    }
    s.sql(")");
}

/// Rules 1 (the budget) and 4 (the minimum rating) for a candidate provider `p`.
fn budget_and_rating(s: &mut Statement, job: &JobRequest) {
    // cost * duration <= budget  <=>  cost <= budget / duration (rounded down).
    s.sql(" AND p.cost_in_pence <= ")
        .bind::<BigInt, _>(job.max_day_rate());
    // A minimum of 0 filters nothing.
    if job.minimum_rating().value() > 0.0 {
        s.sql(" AND ")
            .sql(MEAN)
            .sql(" >= ")
            .bind::<Double, _>(job.minimum_rating().value());
    }
}

/// The ranked candidates (see `super::Candidate`: `provider_id`, `matched`,
/// `cost_in_pence`), best first, at most `n`. `candidates` is a relation `c` with a
/// `provider_id`. The matched count and the matched skills' figures (key 3) come from one
/// probe of `provider_skills_one_per_key` per candidate passing the other rules (those rules
/// only read `p`, so they filter before the lateral probe runs).
fn ranked(s: &mut Statement, job: &JobRequest, n: i64, keys: Vec<String>) {
    s.sql(
        "SELECT p.id AS provider_id, m.matched, p.cost_in_pence \
         FROM candidates c JOIN providers p ON p.id = c.provider_id \
         CROSS JOIN LATERAL (SELECT count(*) AS matched, \
           COALESCE(sum(t.skill_review_count), 0)::int8 AS skill_count, \
           COALESCE(sum(t.skill_rating_sum), 0)::int8 AS skill_sum \
         FROM provider_skills t WHERE t.provider_id = p.id AND t.skill_key = ANY (",
    )
    .bind::<Array<Text>, _>(keys)
    .sql(")) m WHERE TRUE");
    budget_and_rating(s, job);
    s.sql(" AND EXISTS (SELECT 1 FROM availability_runs r WHERE r.provider_id = p.id AND ");
    long_enough_run(s, job);
    s.sql(") ORDER BY m.matched DESC, p.cost_in_pence DESC, ")
        .sql(MATCHED_CONFIDENCE)
        .sql(" DESC, ")
        .sql(CONFIDENCE)
        .sql(" DESC, p.review_count DESC, p.id LIMIT ")
        .bind::<BigInt, _>(n);
}

/// Whether the windows are rare: fewer than [`RARE_WINDOW_RUNS`] runs satisfy rule 3. Answers
/// one `bigint` column `runs` (see `super::RunCount`).
pub(crate) fn window_runs(job: &JobRequest) -> Statement {
    let mut s =
        Statement::new("SELECT count(*) AS runs FROM (SELECT 1 FROM availability_runs r WHERE ");
    long_enough_run(&mut s, job);
    s.sql(" LIMIT ")
        .bind::<BigInt, _>(RARE_WINDOW_RUNS)
        .sql(") x");
    s
}

/// Below this many runs satisfying rule 3, recommend starts from the providers available then
/// ([`from_windows`]) instead of walking the skills' postings.
pub(crate) const RARE_WINDOW_RUNS: i64 = 500;

/// The first `n` recommendations (ranked rows, see [`ranked`]) among the providers available in
/// the windows: for rare windows, where that set is small.
pub(crate) fn from_windows(job: &JobRequest, n: i64) -> Statement {
    let keys: Vec<String> = job.skills().iter().map(|k| k.key().to_owned()).collect();
    let mut s = Statement::new(
        "WITH candidates AS (SELECT DISTINCT r.provider_id FROM availability_runs r WHERE ",
    );
    long_enough_run(&mut s, job);
    s.sql(") SELECT * FROM (");
    ranked(&mut s, job, n, keys);
    // Rule 2: at least one requested skill.
    s.sql(") x WHERE matched > 0");
    s
}

/// One walk of recommend (see [`super`]): the postings of each requested skill `i`
/// within budget and meeting the minimum rating (each posting carries its provider's day rate
/// and review stats, and the figures of its own skill), the first `prefixes[i]` by day rate
/// with ties (all of them when `None`), then the first `n` candidates available in the windows,
/// ranked. No provider row is read.
///
/// Rows (see `super::WalkRow`): one per non-empty list, with what was read of it (`list`
/// its position among the requested skills, `postings` read, `lowest_cost`); then the ranked
/// candidates, with a `provider_id` (`matched`, `cost_in_pence`). Each row leaves the other
/// shape's columns NULL.
///
/// A candidate's matched count and its matched skills' pooled figures (ranking key 3) are
/// those of the postings read of it when its day rate is at least every open list's cut (the
/// `cut` below): each of its requested skills is then in the prefix read (a prefix holds every
/// posting costing at least its lowest day rate, and a provider's postings all carry its day
/// rate). Below the cut a posting of it may be unread, so one probe of its skill rows counts
/// both instead. Read from partial postings, key 3 would rank such a candidate on too few
/// ratings: `tests/ranking.rs` has the case.
pub(crate) fn walk(job: &JobRequest, prefixes: &[Option<i64>], n: i64) -> Statement {
    let keys: Vec<String> = job.skills().iter().map(|k| k.key().to_owned()).collect();
    let mut s = Statement::new("WITH lists AS MATERIALIZED (");
    for (i, (key, prefix)) in keys.iter().zip(prefixes).enumerate() {
        if i > 0 {
            s.sql(" UNION ALL ");
        }
        // Aliased `p` so that MEAN reads the posting's copy of the provider's review stats.
        s.sql(&format!("(SELECT {i}::int8 AS i, "))
            .sql(
                "p.provider_id, p.cost_in_pence, p.review_count, p.rating_sum, \
                 p.skill_review_count, p.skill_rating_sum \
                 FROM provider_skills p WHERE p.skill_key = ",
            )
            .bind::<Text, _>(key.clone());
        budget_and_rating(&mut s, job);
        s.sql(" ORDER BY p.cost_in_pence DESC");
        if let Some(m) = prefix {
            s.sql(" FETCH FIRST ")
                .bind::<BigInt, _>(*m)
                .sql(" ROWS WITH TIES");
        }
        s.sql(")");
    }
    // A list read whole is exhausted; one read to its prefix may not be: its cut counts.
    let bounds: Vec<i64> = prefixes.iter().map(|p| p.unwrap_or(i64::MAX)).collect();
    s.sql(
        "), stats AS (\
           SELECT i, count(*) AS postings, min(cost_in_pence) AS lowest FROM lists GROUP BY i\
         ), candidates AS (\
           SELECT provider_id AS id, max(cost_in_pence) AS cost_in_pence, \
                  max(review_count) AS review_count, max(rating_sum) AS rating_sum, \
                  count(*) AS in_lists, sum(skill_review_count)::int8 AS skill_count, \
                  sum(skill_rating_sum)::int8 AS skill_sum \
           FROM lists GROUP BY provider_id\
         ), cut AS (",
    );
    // The cut: the highest lowest day rate of the open lists; 0 when all are exhausted (day
    // rates are never negative).
    s.sql("SELECT COALESCE(max(lowest), 0) AS cost FROM stats WHERE postings >= (")
        .bind::<Array<BigInt>, _>(bounds)
        .sql(
            ")[i + 1]) \
             SELECT i AS list, postings, lowest AS lowest_cost, \
                    NULL::uuid AS provider_id, NULL::int8 AS matched, NULL::int8 AS cost_in_pence \
             FROM stats UNION ALL (SELECT NULL::int8, NULL::int8, NULL::int8, c.id, c.matched, \
                    c.cost_in_pence \
             FROM (SELECT p.id, m.matched, p.cost_in_pence, ",
        )
        .sql(MATCHED_CONFIDENCE)
        .sql(" AS matched_confidence, ")
        .sql(CONFIDENCE)
        .sql(
            " AS confidence, p.review_count \
             FROM candidates p CROSS JOIN LATERAL (\
               SELECT p.in_lists AS matched, p.skill_count, p.skill_sum \
               WHERE p.cost_in_pence >= (SELECT cost FROM cut) \
               UNION ALL \
               SELECT count(*), COALESCE(sum(t.skill_review_count), 0)::int8, \
                      COALESCE(sum(t.skill_rating_sum), 0)::int8 \
               FROM provider_skills t \
               WHERE p.cost_in_pence < (SELECT cost FROM cut) \
                 AND t.provider_id = p.id AND t.skill_key = ANY (",
        )
        .bind::<Array<Text>, _>(keys)
        .sql(
            ") HAVING p.cost_in_pence < (SELECT cost FROM cut)\
             ) m ORDER BY m.matched DESC, p.cost_in_pence DESC, matched_confidence DESC, \
               confidence DESC, p.review_count DESC, p.id \
             OFFSET 0) c \
             WHERE EXISTS (SELECT 1 FROM availability_runs r WHERE r.provider_id = c.id AND ",
        );
    // The candidates are ranked first and checked for availability in that order until `n`
    // pass: the check (a probe of the runs, the costliest step per candidate) is then made for
    // about `n` of them, not for every candidate read. `OFFSET 0` keeps the planner from moving
    // the check below the sort; the outer order is the subquery's, so no second sort runs.
    long_enough_run(&mut s, job);
    s.sql(
        ") ORDER BY c.matched DESC, c.cost_in_pence DESC, c.matched_confidence DESC, \
         c.confidence DESC, c.review_count DESC, c.id LIMIT ",
    )
    .bind::<BigInt, _>(n)
    .sql(")");
    s
}

/// The providers `ids`, in that order, with their children.
pub(crate) fn providers_in_order(ids: Vec<uuid::Uuid>) -> Statement {
    let mut page = Statement::new("SELECT ");
    page.sql(PROVIDER_COLUMNS)
        .sql(", o.ord FROM unnest(")
        .bind::<Array<SqlUuid>, _>(ids)
        .sql(") WITH ORDINALITY o(id, ord) JOIN providers p ON p.id = o.id");
    with_children(page, "page.ord")
}

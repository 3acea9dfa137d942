//! The read statements: get, search and recommend. Each is ONE statement, so it reads one
//! snapshot (a provider being replaced is seen wholly old or wholly new), and one round trip:
//!
//! 1. a `page` CTE filters, orders and pages providers inside PostgreSQL
//!    (`LIMIT page_size + 1 OFFSET ...`, the extra row telling whether more follow);
//! 2. `skills` and `periods` load the children of just that page in batch
//!    (`provider_id = ANY (ARRAY(SELECT id FROM page))`);
//! 3. the outer query joins them and restores the page's order.

use crate::sql::Statement;
use diesel::sql_types::{Array, BigInt, Date as SqlDate, Double, Text, Uuid as SqlUuid};
use provider_domain::{JobRequest, ProviderId, SearchFilter};
use provider_ports::Page;

/// The plain mean rating, exactly as `ReviewStats::mean` computes it: `sum / (10 * count)`
/// as one IEEE double division (the same two integers give the same double in both), `0` when
/// unreviewed. Written as in `providers_search_order_idx` so that index serves the order.
///
/// Ordering by this double equals the domain's exact order (`cmp_mean`, cross-multiplied
/// integers): equal fractions give equal doubles, and two different fractions with
/// denominators `10 * count` differ by at least `1 / (100 * count_a * count_b)`, far more than
/// the rounding of a double near 5 (`~4.4e-16`) for any count below about 3 million reviews
/// of one provider. Division rounds monotonically, so the order is the same.
const MEAN: &str = "(CASE WHEN p.review_count = 0 THEN 0::float8 \
                    ELSE p.rating_sum::float8 / (p.review_count * 10)::float8 END)";

/// The confidence-weighted rating `(sum_tenths + 125) / (10 * (count + 5))` (that is,
/// `(rating_sum + 2.5 * 5) / (review_count + 5)` in tenths), as `ReviewStats::confidence`.
///
/// Ordering by this double equals the domain's exact `cmp_confidence` for the same reason as
/// [`MEAN`]: denominators `10 * (count + 5)` make distinct fractions differ by at least
/// `1 / (100 * (count_a + 5) * (count_b + 5))`, which a double resolves for any provider with
/// fewer than about 3 million reviews; equal fractions give equal doubles, and then the next
/// keys (review count, id) decide, as in the domain.
const CONFIDENCE: &str = "((p.rating_sum + 125)::float8 / ((p.review_count + 5) * 10)::float8)";

/// The columns of a provider row (see `rows::ProviderRow`) the `page` CTE must select.
const PROVIDER_COLUMNS: &str =
    "p.id, p.owner_id, p.name, p.cost_in_pence, p.review_count, p.rating_sum";

/// Wraps a `page` CTE (selecting at least [`PROVIDER_COLUMNS`]) with the batch loads of its
/// skills and availability, and orders the result by `order` (over `page`'s columns).
fn with_children(page: Statement, order: &str) -> Statement {
    let mut s = Statement::new("WITH page AS (");
    s.append(page);
    s.sql(
        "), skills AS (\
           SELECT s.provider_id, array_agg(s.skill ORDER BY s.position) AS skills \
           FROM provider_skills s \
           WHERE s.provider_id = ANY (ARRAY(SELECT id FROM page)) \
           GROUP BY s.provider_id\
         ), periods AS (\
           SELECT a.provider_id, \
                  array_agg(lower(a.period) ORDER BY a.period) AS from_dates, \
                  array_agg(upper(a.period) - 1 ORDER BY a.period) AS to_dates \
           FROM availability a \
           WHERE a.provider_id = ANY (ARRAY(SELECT id FROM page)) \
           GROUP BY a.provider_id\
         ) \
         SELECT page.id, page.owner_id, page.name, page.cost_in_pence, \
                page.review_count, page.rating_sum, \
                COALESCE(skills.skills, '{}') AS skills, \
                COALESCE(periods.from_dates, '{}') AS from_dates, \
                COALESCE(periods.to_dates, '{}') AS to_dates \
         FROM page \
         LEFT JOIN skills ON skills.provider_id = page.id \
         LEFT JOIN periods ON periods.provider_id = page.id \
         ORDER BY ",
    );
    s.sql(order);
    s
}

/// `LIMIT size + 1 OFFSET (number - 1) * size`.
fn limit(s: &mut Statement, page: Page) {
    s.sql(" LIMIT ")
        .bind::<BigInt, _>(i64::from(page.size()) + 1)
        .sql(" OFFSET ")
        // At most 9,900 (page * size <= 10,000): fits.
        .bind::<BigInt, _>(page.offset() as i64);
}

/// One provider with its children.
pub(crate) fn get(id: ProviderId) -> Statement {
    let mut page = Statement::new("SELECT ");
    page.sql(PROVIDER_COLUMNS)
        .sql(" FROM providers p WHERE p.id = ")
        .bind::<SqlUuid, _>(id.as_uuid());
    with_children(page, "page.id")
}

/// Escapes `%`, `_` and `\` so that `needle` matches itself in `LIKE ... ESCAPE '\'`.
pub(crate) fn like_escape(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One page of a search, in `search_order`: cost descending, mean descending, id ascending.
pub(crate) fn search(filter: &SearchFilter, page: Page) -> Statement {
    let mut s = Statement::new("SELECT ");
    s.sql(PROVIDER_COLUMNS)
        .sql(", ")
        .sql(MEAN)
        .sql(" AS mean FROM providers p WHERE TRUE");
    if let Some(needle) = filter.name_key() {
        // name_key is the domain's search key, so this is `search_key().contains(needle)`.
        s.sql(" AND p.name_key LIKE ")
            .bind::<Text, _>(format!("%{}%", like_escape(needle)))
            .sql(" ESCAPE '\\'");
    }
    if !filter.skills().is_empty() {
        let keys: Vec<String> = filter.skills().iter().map(|k| k.key().to_owned()).collect();
        s.sql(
            " AND EXISTS (SELECT 1 FROM provider_skills s \
             WHERE s.provider_id = p.id AND s.skill_key = ANY (",
        )
        .bind::<Array<Text>, _>(keys)
        .sql("))");
    }
    if let Some(gt) = filter.cost_gt() {
        s.sql(" AND p.cost_in_pence > ").bind::<BigInt, _>(gt);
    }
    if let Some(lt) = filter.cost_lt() {
        s.sql(" AND p.cost_in_pence < ").bind::<BigInt, _>(lt);
    }
    // The mean is always within 0..=5 (rating_sum <= 50 * review_count), so the default
    // bounds filter nothing and are left out.
    if filter.reviews_gt().value() > 0.0 {
        s.sql(" AND ")
            .sql(MEAN)
            .sql(" >= ")
            .bind::<Double, _>(filter.reviews_gt().value());
    }
    if filter.reviews_lt().value() < 5.0 {
        s.sql(" AND ")
            .sql(MEAN)
            .sql(" <= ")
            .bind::<Double, _>(filter.reviews_lt().value());
    }
    // Every window holds an available day: for each, a run overlapping it. One `EXISTS` per
    // window, its dates bound as values: with custom plans (see `store::establish`) the
    // planner sees each window, estimates from the statistics of the runs how many providers
    // it admits, and either probes the runs of each provider as it walks the search order
    // (a common window) or starts from the window's runs (`availability_runs_run_idx`, a rare
    // one).
    for window in filter.windows() {
        s.sql(
            " AND EXISTS (SELECT 1 FROM availability_runs r \
             WHERE r.provider_id = p.id AND r.run && daterange(",
        )
        .bind::<SqlDate, _>(window.from())
        .sql(", ")
        .bind::<SqlDate, _>(window.to())
        .sql(", '[]'))");
    }
    s.sql(" ORDER BY p.cost_in_pence DESC, ")
        .sql(MEAN)
        .sql(" DESC, p.id");
    limit(&mut s, page);
    with_children(s, "page.cost_in_pence DESC, page.mean DESC, page.id")
}

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

/// The conditions on a walked candidate provider `p` other than its skills: rules 1, 4 and 3.
fn recommend_conditions(s: &mut Statement, job: &JobRequest) {
    budget_and_rating(s, job);
    s.sql(" AND EXISTS (SELECT 1 FROM availability_runs r WHERE r.provider_id = p.id AND ");
    long_enough_run(s, job);
    s.sql(")");
}

/// How many qualifying runs make the windows "common": below it, recommend starts from the
/// providers available then; from it on, it walks the skills' postings by day rate.
const RARE_WINDOW_RUNS: i64 = 500;

/// The postings of the skill `key` within the budget, in descending day-rate order, keeping
/// providers that have exactly `matched` of the requested `keys`. `OFFSET 0` keeps it a
/// subquery of its own, planned as an ordered index scan whose count check runs per posting
/// reached, so a walk that stops early reads little.
fn postings(s: &mut Statement, key: &str, keys: &[String], matched: i64, job: &JobRequest) {
    s.sql(
        "(SELECT s.provider_id, s.cost_in_pence FROM provider_skills s \
         WHERE s.skill_key = ",
    )
    .bind::<Text, _>(key.to_owned())
    .sql(" AND s.cost_in_pence <= ")
    .bind::<BigInt, _>(job.max_day_rate());
    if keys.len() > 1 {
        s.sql(
            " AND (SELECT count(*) FROM provider_skills t \
             WHERE t.provider_id = s.provider_id AND t.skill_key = ANY (",
        )
        .bind::<Array<Text>, _>(keys.to_vec())
        .sql(")) = ")
        .bind::<BigInt, _>(matched);
    }
    s.sql(" ORDER BY s.cost_in_pence DESC OFFSET 0)");
}

/// A recommend branch over the candidates `m` (`provider_id`, `cost_in_pence` and, when
/// `matched` names none, `matched`): the providers passing the other rules, in ranking order,
/// cut at `n`.
fn recommend_branch(
    s: &mut Statement,
    candidates: Statement,
    matched: Option<i64>,
    job: &JobRequest,
    n: i64,
) {
    s.sql("(SELECT ").sql(PROVIDER_COLUMNS).sql(", ");
    match matched {
        Some(m) => {
            s.bind::<BigInt, _>(m).sql("::int8");
        }
        None => {
            s.sql("m.matched");
        }
    }
    s.sql(" AS matched, ")
        .sql(CONFIDENCE)
        .sql(" AS confidence FROM ");
    s.append(candidates);
    // Only when the windows are common (else the branch over `avail` answers).
    s.sql(" m JOIN providers p ON p.id = m.provider_id WHERE (SELECT count(*) FROM avail) >= ")
        .bind::<BigInt, _>(RARE_WINDOW_RUNS);
    recommend_conditions(s, job);
    s.sql(" ORDER BY ");
    if matched.is_none() {
        s.sql("m.matched DESC, ");
    }
    // `m.cost_in_pence` (equal to `p.cost_in_pence`, by the foreign key) is the order the
    // walks deliver: only ties on it are sorted.
    s.sql("m.cost_in_pence DESC, ")
        .sql(CONFIDENCE)
        .sql(" DESC, p.review_count DESC, p.id LIMIT ")
        .bind::<BigInt, _>(n)
        .sql(")");
}

/// One page of recommendations, in `recommendation_order`: matched skills descending, cost
/// descending, confidence descending, review count descending, id ascending.
///
/// `avail` first reads up to [`RARE_WINDOW_RUNS`] runs that satisfy rule 3. When there are
/// fewer, the windows are rare: the candidates are just those providers, counted and ranked
/// directly. Otherwise (the usual case) it is exact and fast at a million providers by
/// splitting the candidates by matched count into disjoint groups, each listed in the rest of
/// the ranking and cut at `n = offset + size + 1` rows (the first `n` overall are among the
/// groups' first `n`), then merged and paged:
///
/// * both requested skills (when `k = 2`): walk the first skill's postings by day rate
///   (`provider_skills_postings_idx`), keeping providers that have the other too;
/// * two or more of them (when `k >= 3`): counted over all postings within budget, the one
///   group read in full (a job asking for three or more skills; walking one skill's postings
///   for providers with all of them, the rarest case, would read them all anyway);
/// * exactly one: walk the postings of every requested skill merged by day rate (a Merge
///   Append of ordered index scans), keeping providers with no other requested skill.
///
/// A walk in day-rate order stops once it has `n` providers passing the other rules (an
/// Incremental Sort orders ties on the day rate), so the usual page reads a few hundred index
/// entries however many providers there are. Each branch is gated by a one-time filter on the
/// size of `avail`, so only one strategy runs.
pub(crate) fn recommend(job: &JobRequest, page: Page) -> Statement {
    let keys: Vec<String> = job.skills().iter().map(|k| k.key().to_owned()).collect();
    let k = keys.len() as i64;
    let n = page.offset() as i64 + i64::from(page.size()) + 1;
    let mut branches: Vec<Statement> = Vec::new();

    {
        // Rare windows: every provider available then, counted and ranked.
        let mut b = Statement::new("(SELECT ");
        b.sql(PROVIDER_COLUMNS)
            .sql(", m.matched, ")
            .sql(CONFIDENCE)
            .sql(
                " AS confidence FROM (SELECT DISTINCT provider_id FROM avail) a \
                 JOIN providers p ON p.id = a.provider_id \
                 CROSS JOIN LATERAL (SELECT count(*) AS matched FROM provider_skills t \
                   WHERE t.provider_id = p.id AND t.skill_key = ANY (",
            )
            .bind::<Array<Text>, _>(keys.clone())
            .sql(")) m WHERE (SELECT count(*) FROM avail) < ")
            .bind::<BigInt, _>(RARE_WINDOW_RUNS)
            .sql(" AND m.matched > 0");
        budget_and_rating(&mut b, job);
        b.sql(" ORDER BY m.matched DESC, p.cost_in_pence DESC, ")
            .sql(CONFIDENCE)
            .sql(" DESC, p.review_count DESC, p.id LIMIT ")
            .bind::<BigInt, _>(n)
            .sql(")");
        branches.push(b);
    }
    if k == 2 {
        let mut walk = Statement::default();
        postings(&mut walk, &keys[0], &keys, k, job);
        let mut b = Statement::default();
        recommend_branch(&mut b, walk, Some(k), job, n);
        branches.push(b);
    }
    if k >= 3 {
        let mut counted = Statement::new(
            "(SELECT s.provider_id, max(s.cost_in_pence) AS cost_in_pence, \
             count(*) AS matched FROM provider_skills s WHERE s.skill_key = ANY (",
        );
        counted
            .bind::<Array<Text>, _>(keys.clone())
            .sql(") AND s.cost_in_pence <= ")
            .bind::<BigInt, _>(job.max_day_rate())
            .sql(" GROUP BY s.provider_id HAVING count(*) >= 2")
            .sql(")");
        let mut b = Statement::default();
        recommend_branch(&mut b, counted, None, job, n);
        branches.push(b);
    }
    {
        let mut merged = Statement::new("(");
        for (i, key) in keys.iter().enumerate() {
            if i > 0 {
                merged.sql(" UNION ALL ");
            }
            postings(&mut merged, key, &keys, 1, job);
        }
        merged.sql(")");
        let mut b = Statement::default();
        recommend_branch(&mut b, merged, Some(1), job, n);
        branches.push(b);
    }

    let mut s = Statement::new(
        "WITH avail AS MATERIALIZED (SELECT r.provider_id FROM availability_runs r WHERE ",
    );
    long_enough_run(&mut s, job);
    s.sql(" LIMIT ")
        .bind::<BigInt, _>(RARE_WINDOW_RUNS)
        .sql(") SELECT c.* FROM (");
    for (i, b) in branches.into_iter().enumerate() {
        if i > 0 {
            s.sql(" UNION ALL ");
        }
        s.append(b);
    }
    s.sql(
        ") c ORDER BY c.matched DESC, c.cost_in_pence DESC, c.confidence DESC, \
         c.review_count DESC, c.id",
    );
    limit(&mut s, page);
    with_children(
        s,
        "page.matched DESC, page.cost_in_pence DESC, page.confidence DESC, \
         page.review_count DESC, page.id",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_escape_makes_wildcards_and_backslash_literal() {
        assert_eq!(like_escape("50%_off\\x"), "50\\%\\_off\\\\x");
        assert_eq!(like_escape("plain İ"), "plain İ");
    }

    #[test]
    fn search_binds_values_and_never_writes_them_into_the_text() {
        let filter = SearchFilter::parse(&provider_domain::SearchInput {
            name: Some("Robert'); DROP TABLE providers;--".into()),
            skills: Some(vec!["SEO".into()]),
            cost_lt: Some(50_000),
            ..Default::default()
        })
        .expect("valid");
        let sql = format!("{:?}", search(&filter, Page::default()));
        let text = sql.split("-- binds:").next().expect("text");
        assert!(!text.contains("DROP TABLE"), "{sql}");
        assert!(!text.contains("50000"), "{sql}");
        assert!(text.contains("LIMIT $"), "{sql}");
    }
}

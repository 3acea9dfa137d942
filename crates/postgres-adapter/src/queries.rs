//! The SQL of the reads: get, search, and the statements recommend runs (see `crate::recommend`
//! for how it combines them). Values are always bound, never written into the text.
//!
//! Get and search are one statement each, so each reads one snapshot (a provider being
//! replaced is seen wholly old or wholly new) in one round trip. Recommend runs a few, in one
//! repeatable-read transaction, so they too read one snapshot. Search and recommend end the
//! same way ([`with_children`]): a subquery `page` holds the page's providers (`LIMIT
//! page_size + 1 OFFSET ...` for search, the extra row telling whether more follow; the ranked
//! ids for recommend), and each of them gets its skills and ranges from one index scan per
//! table, aggregated in order, before the page's order is restored.

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

/// Ranking key 3: the confidence-weighted rating of the matched skills' pooled per-skill
/// ratings, `(skill_sum + 125) / (10 * (skill_count + 5))` over a relation `m` with `skill_sum`
/// and `skill_count` (as `ReviewStats::confidence` of the domain's pooled figures). Ordering by
/// this double equals the domain's exact comparison for the reason given at [`CONFIDENCE`]
/// (pooled counts stay far below the ~3 million where doubles could no longer tell two such
/// fractions apart: at most 50 per review).
const MATCHED_CONFIDENCE: &str =
    "((m.skill_sum + 125)::float8 / ((m.skill_count + 5) * 10)::float8)";

/// The provider columns of a `rows::WholeProviderRow`, which the `page` CTE must select.
const PROVIDER_COLUMNS: &str =
    "p.id, p.owner_id, p.name, p.cost_in_pence, p.review_count, p.rating_sum";

/// Selects the providers of `page` (a subquery selecting at least [`PROVIDER_COLUMNS`]) with
/// their skills and availability, ordered by `order` (over `page`'s columns). Each provider's
/// children are read by one index scan per table (their primary keys lead with the provider),
/// aggregated in order: no grouping or join over the whole page.
fn with_children(page: Statement, order: &str) -> Statement {
    let mut s = Statement::new(
        "SELECT page.id, page.owner_id, page.name, page.cost_in_pence, \
                page.review_count, page.rating_sum, \
                k.skills, k.skill_review_counts, k.skill_rating_sums, \
                a.from_dates, a.to_dates \
         FROM (",
    );
    s.append(page);
    s.sql(
        ") page \
         CROSS JOIN LATERAL (SELECT \
           COALESCE(array_agg(s.skill ORDER BY s.position), '{}') AS skills, \
           COALESCE(array_agg(s.skill_review_count ORDER BY s.position), '{}') \
             AS skill_review_counts, \
           COALESCE(array_agg(s.skill_rating_sum ORDER BY s.position), '{}') AS skill_rating_sums \
           FROM provider_skills s WHERE s.provider_id = page.id) k \
         CROSS JOIN LATERAL (SELECT \
           COALESCE(array_agg(lower(a.period) ORDER BY a.period), '{}') AS from_dates, \
           COALESCE(array_agg(upper(a.period) - 1 ORDER BY a.period), '{}') AS to_dates \
           FROM availability a WHERE a.provider_id = page.id) a \
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

/// One provider with its children and its version (a `rows::VersionedProviderRow`): one index
/// lookup and three correlated subqueries, a plan simple enough to be planned once per
/// connection and reused (a generic plan).
pub(crate) fn get(id: ProviderId) -> Statement {
    let mut s = Statement::new("SELECT ");
    s.sql(PROVIDER_COLUMNS).sql(
        ", p.version, \
         ARRAY(SELECT s.skill FROM provider_skills s WHERE s.provider_id = p.id \
           ORDER BY s.position) AS skills, \
         ARRAY(SELECT s.skill_review_count FROM provider_skills s WHERE s.provider_id = p.id \
           ORDER BY s.position) AS skill_review_counts, \
         ARRAY(SELECT s.skill_rating_sum FROM provider_skills s WHERE s.provider_id = p.id \
           ORDER BY s.position) AS skill_rating_sums, \
         ARRAY(SELECT lower(a.period) FROM availability a WHERE a.provider_id = p.id \
           ORDER BY a.period) AS from_dates, \
         ARRAY(SELECT upper(a.period) - 1 FROM availability a WHERE a.provider_id = p.id \
           ORDER BY a.period) AS to_dates \
         FROM providers p WHERE p.id = ",
    );
    s.bind::<SqlUuid, _>(id.as_uuid());
    s
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

/// The mean rating of a posting `s` (its copy of the provider's review stats), as [`MEAN`].
const POSTING_MEAN: &str = "(CASE WHEN s.review_count = 0 THEN 0::float8 \
                            ELSE s.rating_sum::float8 / (s.review_count * 10)::float8 END)";

/// One page of a search, in `search_order`: cost descending, mean descending, id ascending.
///
/// With skills, the page is walked from each skill's postings (`provider_skills_postings_idx`,
/// in day-rate order, carrying the provider's review stats): a skill held by few providers
/// costs as few rows as it has matches, not a probe of every provider walked past. Each skill's
/// walk stops at the page's end (`offset + size + 1` postings); their union, deduplicated and
/// ordered, holds the page, since every provider of the page is among the first so many of
/// each of its requested skills. Without skills, the walk is `providers_search_order_idx`'s
/// (index-only). Either way the page's rows are then joined to their providers, so the ones
/// passed over (an offset, rows failing a filter) cost no heap access.
pub(crate) fn search(filter: &SearchFilter, page: Page) -> Statement {
    let keys: Vec<&str> = filter.skills().iter().map(|k| k.key()).collect();
    let mut s = Statement::new("SELECT ");
    s.sql(PROVIDER_COLUMNS).sql(", w.mean FROM (");
    match keys.as_slice() {
        [] => {
            s.sql("SELECT p.id, p.cost_in_pence, ")
                .sql(MEAN)
                .sql(" AS mean FROM providers p WHERE TRUE");
            search_filters(&mut s, filter, Walked::Providers);
            s.sql(" ORDER BY p.cost_in_pence DESC, ")
                .sql(MEAN)
                .sql(" DESC, p.id");
            limit(&mut s, page);
        }
        [key] => {
            postings_walk(&mut s, filter, key);
            limit(&mut s, page);
        }
        keys => {
            // Each branch is cut at the page's end; UNION drops a provider met in two lists.
            s.sql("SELECT u.id, u.cost_in_pence, u.mean FROM (");
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    s.sql(" UNION ");
                }
                s.sql("(");
                postings_walk(&mut s, filter, key);
                s.sql(" LIMIT ")
                    // At most 10,001 (page * size <= 10,000).
                    .bind::<BigInt, _>(i64::from(page.size()) + 1 + page.offset() as i64)
                    .sql(")");
            }
            s.sql(") u ORDER BY u.cost_in_pence DESC, u.mean DESC, u.id");
            limit(&mut s, page);
        }
    }
    // The page's providers, one index lookup each. The store runs a search without custom
    // plans blind to LIMIT and OFFSET (a generic plan guesses a tenth of the table): a join
    // here could then be planned as a hash join over every provider; a lateral subquery that
    // cannot be flattened (OFFSET 0) is a lookup per row of the page whatever the guess.
    s.sql(") w CROSS JOIN LATERAL (SELECT ")
        .sql(PROVIDER_COLUMNS)
        .sql(" FROM providers p WHERE p.id = w.id OFFSET 0) p");
    with_children(s, "page.cost_in_pence DESC, page.mean DESC, page.id")
}

/// The postings of skill `key` passing `filter`, in search order (no limit): `id`,
/// `cost_in_pence`, `mean`.
fn postings_walk(s: &mut Statement, filter: &SearchFilter, key: &str) {
    s.sql("SELECT s.provider_id AS id, s.cost_in_pence, ")
        .sql(POSTING_MEAN)
        .sql(" AS mean FROM provider_skills s WHERE s.skill_key = ")
        .bind::<Text, _>(key.to_owned());
    search_filters(s, filter, Walked::Postings);
    s.sql(" ORDER BY s.cost_in_pence DESC, ")
        .sql(POSTING_MEAN)
        .sql(" DESC, s.provider_id");
}

/// What a search walks in search order: the providers (`p`, `providers_search_order_idx`), or
/// one skill's postings (`s`, each carrying its provider's day rate and review figures).
#[derive(Debug, Clone, Copy)]
enum Walked {
    Providers,
    Postings,
}

impl Walked {
    /// The day rate of the row walked.
    fn cost(self) -> &'static str {
        match self {
            Self::Providers => "p.cost_in_pence",
            Self::Postings => "s.cost_in_pence",
        }
    }

    /// The mean rating of the row walked.
    fn mean(self) -> &'static str {
        match self {
            Self::Providers => MEAN,
            Self::Postings => POSTING_MEAN,
        }
    }

    /// The id of the provider of the row walked.
    fn provider_id(self) -> &'static str {
        match self {
            Self::Providers => "p.id",
            Self::Postings => "s.provider_id",
        }
    }

    /// The opening of the test of the provider's `name_key` against a `LIKE` pattern, which
    /// follows, then `)`.
    fn name_like(self) -> &'static str {
        match self {
            Self::Providers => " AND (p.name_key LIKE ",
            Self::Postings => {
                " AND EXISTS (SELECT 1 FROM providers n \
                 WHERE n.id = s.provider_id AND n.name_key LIKE "
            }
        }
    }
}

/// The filters of a search but its skills, over the rows `walked`.
fn search_filters(s: &mut Statement, filter: &SearchFilter, walked: Walked) {
    if let Some(needle) = filter.name_key() {
        // name_key is the domain's search key, so this is `search_key().contains(needle)`.
        s.sql(walked.name_like())
            .bind::<Text, _>(format!("%{}%", like_escape(needle)))
            .sql(" ESCAPE '\\')");
    }
    if let Some(gt) = filter.cost_gt() {
        s.sql(" AND ")
            .sql(walked.cost())
            .sql(" > ")
            .bind::<BigInt, _>(gt);
    }
    if let Some(lt) = filter.cost_lt() {
        s.sql(" AND ")
            .sql(walked.cost())
            .sql(" < ")
            .bind::<BigInt, _>(lt);
    }
    // The mean is always within 0..=5 (rating_sum <= 50 * review_count), so the default
    // bounds filter nothing and are left out.
    if filter.reviews_gt().value() > 0.0 {
        s.sql(" AND ")
            .sql(walked.mean())
            .sql(" >= ")
            .bind::<Double, _>(filter.reviews_gt().value());
    }
    if filter.reviews_lt().value() < 5.0 {
        s.sql(" AND ")
            .sql(walked.mean())
            .sql(" <= ")
            .bind::<Double, _>(filter.reviews_lt().value());
    }
    // Every window holds an available day: for each, a run overlapping it. One `EXISTS` per
    // window, its dates bound as values: with custom plans (see `pool::CUSTOM_PLANS`) the
    // planner sees each window, estimates from the statistics of the runs how many providers
    // it admits, and either probes the runs of each provider as it walks the search order
    // (a common window) or starts from the window's runs (`availability_runs_run_idx`, a rare
    // one).
    for window in filter.windows() {
        s.sql(" AND EXISTS (SELECT 1 FROM availability_runs r WHERE r.provider_id = ")
            .sql(walked.provider_id())
            .sql(" AND r.run && daterange(")
            .bind::<SqlDate, _>(window.from())
            .sql(", ")
            .bind::<SqlDate, _>(window.to())
            .sql(", '[]'))");
    }
}

/// Whether a search's best plan depends on its values, so that it must be planned for them on
/// every execution (see `pool::CUSTOM_PLANS`): an availability window (a rare one is best
/// looked up from the runs first, a common one checked along the walk) or a name (a rare
/// substring is best looked up in the trigram index, a common one checked along the walk).
/// Any other search walks an index in search order whatever its values: one generic plan.
pub(crate) fn search_needs_custom_plan(filter: &SearchFilter) -> bool {
    filter.name_key().is_some() || !filter.windows().is_empty()
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

/// The ranked candidates (see `recommend::Candidate`: `provider_id`, `matched`,
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
/// one `bigint` column `runs` (see `recommend::RunCount`).
pub(crate) fn recommend_window_runs(job: &JobRequest) -> Statement {
    let mut s =
        Statement::new("SELECT count(*) AS runs FROM (SELECT 1 FROM availability_runs r WHERE ");
    long_enough_run(&mut s, job);
    s.sql(" LIMIT ")
        .bind::<BigInt, _>(RARE_WINDOW_RUNS)
        .sql(") x");
    s
}

/// Below this many runs satisfying rule 3, recommend starts from the providers available then
/// ([`recommend_from_windows`]) instead of walking the skills' postings.
pub(crate) const RARE_WINDOW_RUNS: i64 = 500;

/// The first `n` recommendations (ranked rows, see [`ranked`]) among the providers available in
/// the windows: for rare windows, where that set is small.
pub(crate) fn recommend_from_windows(job: &JobRequest, n: i64) -> Statement {
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

/// One walk of recommend (see `crate::recommend`): the postings of each requested skill `i`
/// within budget and meeting the minimum rating (each posting carries its provider's day rate
/// and review stats, and the figures of its own skill), the first `prefixes[i]` by day rate
/// with ties (all of them when `None`), then the first `n` candidates available in the windows,
/// ranked. No provider row is read.
///
/// Rows (see `recommend::WalkRow`): one per non-empty list, with what was read of it (`list`
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
pub(crate) fn recommend_walk(job: &JobRequest, prefixes: &[Option<i64>], n: i64) -> Statement {
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

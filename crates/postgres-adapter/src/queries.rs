//! The SQL of get and search, and what recommend's SQL (`recommend::sql`) shares with them:
//! the mean rating as the search order writes it, the provider columns of a page, and the load
//! of a page's children. Values are always bound, never written into the text.
//!
//! Get and search are one statement each, so each reads one snapshot (a provider being
//! replaced is seen wholly old or wholly new) in one round trip. Search and recommend end the
//! same way ([`with_children`]): a subquery `page` holds the page's providers (`LIMIT
//! page_size + 1 OFFSET ...` for search, the extra row telling whether more follow; the ranked
//! ids for recommend), and each of them gets its skills and ranges from one index scan per
//! table, aggregated in order, before the page's order is restored.

use crate::sql::Statement;
use diesel::sql_types::{BigInt, Date as SqlDate, Double, Text, Uuid as SqlUuid};
use provider_domain::{ProviderId, SearchFilter};
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
pub(crate) const MEAN: &str = "(CASE WHEN p.review_count = 0 THEN 0::float8 \
                    ELSE p.rating_sum::float8 / (p.review_count * 10)::float8 END)";

/// The provider columns of a `rows::WholeProviderRow`, which the `page` CTE must select.
pub(crate) const PROVIDER_COLUMNS: &str =
    "p.id, p.owner_id, p.name, p.cost_in_pence, p.review_count, p.rating_sum, p.created_at";

/// Selects the providers of `page` (a subquery selecting at least [`PROVIDER_COLUMNS`]) with
/// their skills and availability, ordered by `order` (over `page`'s columns). Each provider's
/// children are read by one index scan per table (their primary keys lead with the provider),
/// aggregated in order: no grouping or join over the whole page.
pub(crate) fn with_children(page: Statement, order: &str) -> Statement {
    let mut s = Statement::new(
        "SELECT page.id, page.owner_id, page.name, page.cost_in_pence, \
                page.review_count, page.rating_sum, page.created_at, \
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

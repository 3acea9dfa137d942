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
use diesel::sql_types::{BigInt, Date as SqlDate, Double, Text, Timestamptz, Uuid as SqlUuid};
use provider_domain::{ProviderId, SearchFilter, SearchSort, SortKey};
use provider_ports::{Paging, Total};

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

/// `LIMIT size + 1 OFFSET (number - 1) * size` (no offset after a cursor's key).
fn limit<K>(s: &mut Statement, paging: &Paging<K>) {
    s.sql(" LIMIT ")
        .bind::<BigInt, _>(i64::from(paging.size()) + 1)
        .sql(" OFFSET ")
        // At most 9,900 (page * size <= 10,000): fits.
        .bind::<BigInt, _>(paging.offset() as i64);
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

/// The confidence-weighted rating `(sum + 2.5 * 5) / (count + 5)` in tenths, exactly as
/// `ReviewStats::confidence` computes it (one IEEE double division of the same two integers),
/// and as the `*_rating_desc_idx` and `*_reviews_desc_idx` indexes hold it. Ordering by it
/// equals the domain's exact comparison for the reason [`MEAN`] gives.
const CONFIDENCE: &str = "((p.rating_sum + 125)::float8 / ((p.review_count + 5) * 10)::float8)";

/// [`CONFIDENCE`] of a posting `s` (its copy of the provider's review figures).
const POSTING_CONFIDENCE: &str =
    "((s.rating_sum + 125)::float8 / ((s.review_count + 5) * 10)::float8)";

/// One column of a search order's key: its SQL over the rows walked, its direction, and how
/// the cursor's value of it is bound.
#[derive(Debug, Clone, Copy)]
struct KeyPart {
    sql: &'static str,
    descending: bool,
    value: KeyValue,
}

/// Which field of a `SortKey` a key column holds.
#[derive(Debug, Clone, Copy)]
enum KeyValue {
    Cost,
    Mean,
    Confidence,
    ReviewCount,
    CreatedAt,
    Id,
}

/// The key columns of `sort` over the rows `walked`, the id last: the order a search lists in,
/// and the column list of the index that serves it (see the search_orders migration).
fn key_parts(sort: SearchSort, walked: Walked) -> Vec<KeyPart> {
    let part = |value: KeyValue, descending: bool| KeyPart {
        sql: walked.column(value),
        descending,
        value,
    };
    use KeyValue::*;
    match sort {
        SearchSort::CostDesc => vec![part(Cost, true), part(Mean, true), part(Id, false)],
        SearchSort::CostAsc => vec![part(Cost, false), part(Mean, true), part(Id, false)],
        SearchSort::RatingDesc => vec![
            part(Confidence, true),
            part(ReviewCount, true),
            part(Id, false),
        ],
        SearchSort::ReviewsDesc => vec![
            part(ReviewCount, true),
            part(Confidence, true),
            part(Id, false),
        ],
        SearchSort::Newest => vec![part(CreatedAt, true), part(Id, true)],
    }
}

/// The names the key columns get in a walk's output (`k0`, `k1`, ...; the id is `id`).
fn key_name(i: usize, parts: &[KeyPart]) -> String {
    if i + 1 == parts.len() {
        "id".to_owned()
    } else {
        format!("k{i}")
    }
}

/// `ORDER BY` text of the key over a walk's output named by `prefix` (`u.`, `page.`).
fn order_by(parts: &[KeyPart], prefix: &str) -> String {
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "{prefix}{}{}",
                key_name(i, parts),
                if p.descending { " DESC" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Binds the value of one key column of `key`.
fn bind_key(s: &mut Statement, part: &KeyPart, key: &SortKey) {
    match part.value {
        KeyValue::Cost => s.bind::<BigInt, _>(key.cost.pence()),
        KeyValue::Mean => s.bind::<Double, _>(key.reviews.mean()),
        KeyValue::Confidence => s.bind::<Double, _>(key.reviews.confidence()),
        // At most i64::MAX: the database's column is a bigint.
        KeyValue::ReviewCount => {
            s.bind::<BigInt, _>(i64::try_from(key.reviews.count).unwrap_or(i64::MAX))
        }
        KeyValue::CreatedAt => s.bind::<Timestamptz, _>(key.created_at),
        KeyValue::Id => s.bind::<SqlUuid, _>(key.id.as_uuid()),
    };
}

/// One page of a search in `sort` (the domain's `SearchSort::compare`): page `n`
/// (`LIMIT size + 1 OFFSET ...`), or the rows after a cursor's key (keyset paging, at any
/// depth the cost of a first page).
///
/// Each walk (the providers, or one skill's postings) follows an index in the order's key, so
/// it stops after the page's rows. After a key, the walk is split into one branch per key
/// column: "equal on the columns before it, after the key on this one" (`cost = $c AND mean <
/// $m`, ...). Each branch is one contiguous range of the index, entered where it begins (a
/// single row comparison cannot say it: the orders mix directions), and cut at the page's
/// size; their union, ordered, holds the page.
///
/// With skills, the page is walked from each skill's postings (in day-rate order,
/// `provider_skills_postings_idx`, or the order's own posting index), each carrying the
/// provider's day rate, review figures and creation time: a skill held by few providers costs
/// as few rows as it has matches. Each skill's walk stops at the page's end; their union,
/// deduplicated and ordered, holds the page. Without skills, the walk is over the providers'
/// index of the order (index-only). Either way the page's rows are then joined to their
/// providers, so the ones passed over cost no heap access.
pub(crate) fn search(
    filter: &SearchFilter,
    sort: SearchSort,
    paging: &Paging<SortKey>,
) -> Statement {
    let keys: Vec<&str> = filter.skills().iter().map(|k| k.key()).collect();
    let walked = if keys.is_empty() {
        Walked::Providers
    } else {
        Walked::Postings
    };
    let parts = key_parts(sort, walked);
    let names = (0..parts.len())
        .map(|i| format!("u.{}", key_name(i, &parts)))
        .collect::<Vec<_>>()
        .join(", ");
    // The page's end: how many rows each walk may stop after.
    let reach = i64::from(paging.size()) + 1 + paging.offset() as i64;
    let mut s = Statement::new("SELECT ");
    s.sql(PROVIDER_COLUMNS);
    for i in 0..parts.len() - 1 {
        s.sql(&format!(", w.k{i}"));
    }
    s.sql(" FROM (SELECT ").sql(&names).sql(" FROM (");
    let skills: Vec<Option<&str>> = if keys.is_empty() {
        vec![None]
    } else {
        keys.into_iter().map(Some).collect()
    };
    let mut first = true;
    for skill in &skills {
        let branches: Vec<Option<usize>> = match paging {
            Paging::Offset(_) => vec![None],
            Paging::After { .. } => (0..parts.len()).map(Some).collect(),
        };
        for branch in branches {
            if !first {
                // A provider met in two skills' walks is one row of the page.
                s.sql(" UNION ");
            }
            first = false;
            s.sql("(");
            walk(&mut s, filter, walked, *skill, &parts);
            if let (Some(i), Paging::After { key, .. }) = (branch, paging) {
                for part in &parts[..i] {
                    s.sql(" AND ").sql(part.sql).sql(" = ");
                    bind_key(&mut s, part, key);
                }
                let part = &parts[i];
                s.sql(" AND ")
                    .sql(part.sql)
                    .sql(if part.descending { " < " } else { " > " });
                bind_key(&mut s, part, key);
            }
            s.sql(" ORDER BY ").sql(&order_by_sql(&parts));
            s.sql(" LIMIT ").bind::<BigInt, _>(reach).sql(")");
        }
    }
    s.sql(") u ORDER BY ").sql(&order_by(&parts, "u."));
    limit(&mut s, paging);
    // The page's providers, one index lookup each. The store runs a search without custom
    // plans blind to LIMIT and OFFSET (a generic plan guesses a tenth of the table): a join
    // here could then be planned as a hash join over every provider; a lateral subquery that
    // cannot be flattened (OFFSET 0) is a lookup per row of the page whatever the guess.
    s.sql(") w CROSS JOIN LATERAL (SELECT ")
        .sql(PROVIDER_COLUMNS)
        .sql(" FROM providers p WHERE p.id = w.id OFFSET 0) p");
    with_children(s, &order_by(&parts, "page."))
}

/// `ORDER BY` text of the key over the rows walked.
fn order_by_sql(parts: &[KeyPart]) -> String {
    parts
        .iter()
        .map(|p| format!("{}{}", p.sql, if p.descending { " DESC" } else { "" }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows `walked` passing `filter` (for postings, those of `skill`), selecting the key
/// columns under their output names; the caller adds conditions, the order and the limit.
fn walk(
    s: &mut Statement,
    filter: &SearchFilter,
    walked: Walked,
    skill: Option<&str>,
    parts: &[KeyPart],
) {
    s.sql("SELECT ");
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            s.sql(", ");
        }
        s.sql(part.sql).sql(" AS ").sql(&key_name(i, parts));
    }
    match (walked, skill) {
        (Walked::Postings, Some(key)) => {
            s.sql(" FROM provider_skills s WHERE s.skill_key = ")
                .bind::<Text, _>(key.to_owned());
        }
        _ => {
            s.sql(" FROM providers p WHERE TRUE");
        }
    }
    search_filters(s, filter, walked);
}

/// How many providers `filter` matches, counted up to [`Total::LIMIT`]` + 1` (one `bigint`
/// column, `n`): each walk stops after that many rows, so a common filter costs what a rare
/// one with 10,001 matches costs. With several skills each skill's count stops there too:
/// when one alone passes the limit so does their union, else every one is whole and the union
/// is exact.
pub(crate) fn search_total(filter: &SearchFilter) -> Statement {
    let cap = Total::LIMIT as i64 + 1;
    let keys: Vec<&str> = filter.skills().iter().map(|k| k.key()).collect();
    let mut s = Statement::new("SELECT count(*) AS n FROM (");
    if keys.is_empty() {
        s.sql("SELECT p.id FROM providers p WHERE TRUE");
        search_filters(&mut s, filter, Walked::Providers);
    } else {
        s.sql("SELECT u.id FROM (");
        for (i, key) in keys.iter().enumerate() {
            if i > 0 {
                s.sql(" UNION ");
            }
            s.sql("(SELECT s.provider_id AS id FROM provider_skills s WHERE s.skill_key = ")
                .bind::<Text, _>((*key).to_owned());
            search_filters(&mut s, filter, Walked::Postings);
            s.sql(" LIMIT ").bind::<BigInt, _>(cap).sql(")");
        }
        s.sql(") u");
    }
    s.sql(" LIMIT ").bind::<BigInt, _>(cap).sql(") t");
    s
}

/// What a search walks in search order: the providers (`p`, `providers_search_order_idx`), or
/// one skill's postings (`s`, each carrying its provider's day rate and review figures).
#[derive(Debug, Clone, Copy)]
enum Walked {
    Providers,
    Postings,
}

impl Walked {
    /// The SQL of one key column over the rows walked.
    fn column(self, value: KeyValue) -> &'static str {
        match (self, value) {
            (Self::Providers, KeyValue::Cost) => "p.cost_in_pence",
            (Self::Providers, KeyValue::Mean) => MEAN,
            (Self::Providers, KeyValue::Confidence) => CONFIDENCE,
            (Self::Providers, KeyValue::ReviewCount) => "p.review_count",
            (Self::Providers, KeyValue::CreatedAt) => "p.created_at",
            (Self::Providers, KeyValue::Id) => "p.id",
            (Self::Postings, KeyValue::Cost) => "s.cost_in_pence",
            (Self::Postings, KeyValue::Mean) => POSTING_MEAN,
            (Self::Postings, KeyValue::Confidence) => POSTING_CONFIDENCE,
            (Self::Postings, KeyValue::ReviewCount) => "s.review_count",
            (Self::Postings, KeyValue::CreatedAt) => "s.created_at",
            (Self::Postings, KeyValue::Id) => "s.provider_id",
        }
    }

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
    fn a_page_after_a_key_has_one_branch_per_key_column_per_skill_with_bound_values() {
        let filter = SearchFilter::parse(&provider_domain::SearchInput {
            skills: Some(vec!["SEO".into(), "Rust".into()]),
            ..Default::default()
        })
        .expect("valid");
        let key = SortKey {
            cost: provider_domain::DayRate::new(12_345).expect("valid"),
            reviews: provider_domain::ReviewStats {
                count: 7,
                sum_tenths: 301,
            },
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            id: ProviderId::from_uuid(uuid::Uuid::from_u128(77)),
        };
        for (sort, columns) in [
            (SearchSort::CostDesc, 3),
            (SearchSort::CostAsc, 3),
            (SearchSort::RatingDesc, 3),
            (SearchSort::ReviewsDesc, 3),
            (SearchSort::Newest, 2),
        ] {
            let sql = format!(
                "{:?}",
                search(&filter, sort, &Paging::After { key, size: 10 })
            );
            let text = sql.split("-- binds:").next().expect("text");
            // Two skills, each walked in `columns` branches.
            assert_eq!(
                text.matches("s.skill_key = $").count(),
                2 * columns,
                "{sort:?}: {sql}"
            );
            assert!(!text.contains("12345") && !text.contains("301"), "{sql}");
        }
    }

    #[test]
    fn a_total_stops_counting_after_ten_thousand_and_one() {
        let filter = SearchFilter::parse(&provider_domain::SearchInput {
            skills: Some(vec!["a".into(), "b".into()]),
            cost_lt: Some(5),
            ..Default::default()
        })
        .expect("valid");
        let sql = format!("{:?}", search_total(&filter));
        let binds = sql.split("-- binds:").nth(1).expect("binds");
        // One cap per skill's walk and one on their union.
        assert_eq!(binds.matches("10001").count(), 3, "{sql}");
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
        let sql = format!(
            "{:?}",
            search(
                &filter,
                SearchSort::CostDesc,
                &Paging::Offset(provider_ports::Page::default())
            )
        );
        let text = sql.split("-- binds:").next().expect("text");
        assert!(!text.contains("DROP TABLE"), "{sql}");
        assert!(!text.contains("50000"), "{sql}");
        assert!(text.contains("LIMIT $"), "{sql}");
    }
}

//! Request and response bodies: what travels as JSON, and its conversion to and from the domain.
//!
//! Request bodies refuse unknown fields (a typo such as `cost_lte` must not silently widen a
//! search) and carry dates as text: the domain parses them, so that a bad date is reported with
//! its full path (`availability[1].to_date`).

mod events;
mod moderation;
mod review;

pub(crate) use events::{EventDto, EventType, EventsDto};

pub(crate) use moderation::{
    AppealBody, DecisionBody, FlagBody, FlagDto, History, QueuePage, ReplyBody, StatementDto,
};
pub(crate) use review::{ReplyDto, ReviewDto, SkillRatingDto, StatusDto};

use crate::schema;
use provider_domain::{
    Date, JobInput, Provider, ProviderInput, RangeInput, Recommendation, ReviewStats, SearchInput,
    SkillRatingInput,
};
use provider_ports::{Listed, NewReview, Page, PageOf, SearchOptions, StoredReview, Total};
use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use utoipa::ToSchema;
use uuid::Uuid;

/// A range of days, inclusive at both ends (`from_date == to_date` is one day). Dates are
/// ISO-8601 calendar dates between `1900-01-01` and `9999-12-31`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)] // Documents `additionalProperties: false`; read by the impl below.
#[schema(as = DateRange)]
pub(crate) struct DateRangeDto {
    /// First day, `1900-01-01..=9999-12-31`.
    #[schema(format = Date, pattern = "^(?:19|[2-9][0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$", example = "2027-11-12")]
    pub from_date: String,
    /// Last day, included, `1900-01-01..=9999-12-31`; not before `from_date` (a rule across
    /// fields that the schema cannot say: an inverted range is 422).
    #[schema(format = Date, pattern = "^(?:19|[2-9][0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$", example = "2027-12-28")]
    pub to_date: String,
}

/// Only a JSON object is a date range (serde's derive would also take `["from", "to"]`).
impl<'de> Deserialize<'de> for DateRangeDto {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Fields {
            from_date: String,
            to_date: String,
        }

        struct ObjectOnly;

        impl<'de> Visitor<'de> for ObjectOnly {
            type Value = DateRangeDto;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object with from_date and to_date")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DateRangeDto, A::Error> {
                let fields = Fields::deserialize(MapAccessDeserializer::new(map))?;
                Ok(DateRangeDto {
                    from_date: fields.from_date,
                    to_date: fields.to_date,
                })
            }
        }

        deserializer.deserialize_map(ObjectOnly)
    }
}

impl From<DateRangeDto> for RangeInput {
    fn from(range: DateRangeDto) -> Self {
        Self {
            from_date: range.from_date,
            to_date: range.to_date,
        }
    }
}

fn ranges(ranges: Vec<DateRangeDto>) -> Vec<RangeInput> {
    ranges.into_iter().map(RangeInput::from).collect()
}

/// `YYYY-MM-DD`.
fn format_date(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// Integers in request bodies, read as JSON Schema reads them: a number with no fractional part.
///
/// JSON does not tell `25000` from `25000.0` (JavaScript writes both as `25000`, Python's
/// `json` writes a float as `25000.0`), and JSON Schema's `type: integer` admits both, so both
/// are accepted. A fraction (`25000.5`) is refused, and so is a whole number written with a
/// fraction at or beyond 2^53 in magnitude, where such a spelling no longer names one integer
/// exactly (`9007199254740993.0` reads as `9007199254740992`).
mod whole {
    use serde::de::{self, Deserializer, Unexpected, Visitor};
    use std::fmt;

    /// 2^53: below it in magnitude, every whole `f64` is exactly the integer written.
    const EXACT: f64 = 9_007_199_254_740_992.0;

    struct Whole;

    impl Visitor<'_> for Whole {
        type Value = i64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("i64")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            if v.fract() == 0.0 && v.abs() < EXACT {
                // Whole and below 2^53 in magnitude: the cast is exact.
                Ok(v as i64)
            } else {
                Err(E::invalid_type(Unexpected::Float(v), &self))
            }
        }
    }

    /// A required integer. Asked for as an `i64` (serde_json hands a number written with a
    /// fraction to `visit_f64` all the same), so that a refusal says an integer was expected.
    pub(super) fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        deserializer.deserialize_i64(Whole)
    }

    /// An optional integer (`null` or absent: `None`).
    pub(super) fn optional<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<i64>, D::Error> {
        struct Maybe;

        impl<'de> Visitor<'de> for Maybe {
            type Value = Option<i64>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("i64")
            }

            fn visit_none<E: de::Error>(self) -> Result<Option<i64>, E> {
                Ok(None)
            }

            fn visit_unit<E: de::Error>(self) -> Result<Option<i64>, E> {
                Ok(None)
            }

            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
                required(d).map(Some)
            }
        }

        deserializer.deserialize_option(Maybe)
    }
}

/// A service provider as a client writes it (create, and full replace). Names and skills hold
/// no control characters (U+0000..=U+001F, U+007F, checked before trimming) and are trimmed;
/// skills that repeat one another case-insensitively are dropped (the first spelling
/// and the order are kept); availability is returned sorted by `from_date`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ServiceProviderInput, example = json!({
    "name": "SEO Incorporated",
    "skills": ["SEO Optimisation", "Cold Calling"],
    "cost_in_pence": 25000,
    "availability": [{"from_date": "2027-11-12", "to_date": "2027-12-28"}]
}))]
pub(crate) struct ProviderBody {
    /// 1..=200 characters after trimming; no control characters.
    #[schema(schema_with = schema::provider_name)]
    pub name: String,
    /// 0..=50 entries, each 1..=100 characters after trimming, with no control characters.
    /// Absent means none.
    #[serde(default)]
    #[schema(schema_with = schema::provider_skills)]
    pub skills: Vec<String>,
    /// The day rate in pence, `0..=100000000000`.
    #[serde(deserialize_with = "whole::required")]
    #[schema(minimum = 0, maximum = 100_000_000_000_i64)]
    pub cost_in_pence: i64,
    /// 0..=100 ranges; they may touch (adjacent days) but must not overlap (a rule across
    /// entries that the schema cannot say: an overlap is 422). Absent means none.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub availability: Vec<DateRangeDto>,
}

impl From<ProviderBody> for ProviderInput {
    fn from(body: ProviderBody) -> Self {
        Self {
            name: body.name,
            skills: body.skills,
            cost_in_pence: body.cost_in_pence,
            availability: ranges(body.availability),
        }
    }
}

/// A service provider.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = ServiceProvider, example = json!({
    "id": "6f1c2b0e-8d3a-4b5e-9c7d-2a1b3c4d5e6f",
    "name": "SEO Incorporated",
    "skills": ["SEO Optimisation", "Cold Calling"],
    "cost_in_pence": 25000,
    "availability": [{"from_date": "2027-11-12", "to_date": "2027-12-28"}],
    "review_rating": 3.5,
    "review_count": 2,
    "skill_ratings": [{"skill": "Cold Calling", "rating": 3.75, "count": 2}]
}))]
pub(crate) struct ProviderDto {
    /// Its id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Distinct skills, in the order given.
    pub skills: Vec<String>,
    /// Day rate in pence.
    pub cost_in_pence: i64,
    /// Availability, sorted by `from_date`, never overlapping.
    pub availability: Vec<DateRangeDto>,
    /// Plain mean of all its ratings; `0.0` when it has none.
    pub review_rating: f64,
    /// Number of reviews.
    pub review_count: u64,
    /// How its skills were rated one by one: each of its current skills with at least one
    /// per-skill rating, in its skill order (`[]` when none).
    pub skill_ratings: Vec<SkillFiguresDto>,
}

/// How one of a provider's skills was rated by the reviews that rated it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = SkillRatingFigures)]
pub(crate) struct SkillFiguresDto {
    /// The skill, in the provider's spelling.
    pub skill: String,
    /// The plain mean of its per-skill ratings: the double nearest to
    /// `sum_in_tenths / (10 * count)`, never rounded to tenths.
    pub rating: f64,
    /// Number of per-skill ratings it was given (at least 1).
    pub count: u64,
}

/// Ratings pooled into one figure.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = PooledRating)]
pub(crate) struct PooledRatingDto {
    /// The plain mean of the pooled ratings (`0.0` when none).
    pub rating: f64,
    /// Number of ratings pooled.
    pub count: u64,
}

impl From<ReviewStats> for PooledRatingDto {
    fn from(stats: ReviewStats) -> Self {
        Self {
            rating: stats.mean(),
            count: stats.count,
        }
    }
}

impl From<&Provider> for ProviderDto {
    fn from(provider: &Provider) -> Self {
        Self {
            id: provider.id.as_uuid(),
            name: provider.name.as_str().to_owned(),
            skills: provider
                .skills
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            cost_in_pence: provider.cost.pence(),
            availability: provider
                .availability
                .ranges()
                .iter()
                .map(|r| DateRangeDto {
                    from_date: format_date(r.from()),
                    to_date: format_date(r.to()),
                })
                .collect(),
            review_rating: provider.reviews.mean(),
            review_count: provider.reviews.count,
            skill_ratings: provider
                .skill_ratings()
                .into_iter()
                .map(|(skill, stats)| SkillFiguresDto {
                    skill: skill.as_str().to_owned(),
                    rating: stats.mean(),
                    count: stats.count,
                })
                .collect(),
        }
    }
}

/// A recommended service provider: the provider, which of the requested skills it has, and
/// how those skills were rated (ranking key 3).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = RecommendedServiceProvider)]
pub(crate) struct RecommendedDto {
    /// The provider.
    #[serde(flatten)]
    pub provider: ProviderDto,
    /// The requested skills it has, in the provider's spelling and order.
    pub matched_skills: Vec<String>,
    /// Every per-skill rating given to its matched skills, pooled: their mean and count
    /// (`0.0` and `0` when none). Recommend ranks by its confidence-weighted form,
    /// `(sum + 2.5 * 5) / (count + 5)`, right after the day rate.
    pub matched_skill_rating: PooledRatingDto,
}

impl From<&Recommendation> for RecommendedDto {
    fn from(recommendation: &Recommendation) -> Self {
        Self {
            provider: ProviderDto::from(&recommendation.provider),
            matched_skills: recommendation
                .matched_skills
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            matched_skill_rating: recommendation.matched_skill_rating.into(),
        }
    }
}

/// A search. Every field is optional; `{}` lists every provider.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SearchRequest, example = json!({
    "name": "seo",
    "skills": ["Cold Calling"],
    "cost_gt": 10000,
    "cost_lt": 50000,
    "reviews_gt": 3.0,
    "availability": [{"from_date": "2027-12-01", "to_date": "2027-12-07"}]
}))]
pub(crate) struct SearchBody {
    /// Case-insensitive substring of the name (trimmed; empty filters nothing; at most 200
    /// characters; no control characters).
    #[schema(schema_with = schema::search_name)]
    pub name: Option<String>,
    /// Has at least one of these skills (case-insensitive, exact skill); absent or `[]`: no skill
    /// filter. At most 50, each with no control characters.
    #[schema(schema_with = schema::search_skills)]
    pub skills: Option<Vec<String>>,
    /// `cost_in_pence` strictly above this.
    #[serde(default, deserialize_with = "whole::optional")]
    pub cost_gt: Option<i64>,
    /// `cost_in_pence` strictly below this. `cost_gt` must be less than `cost_lt` when both are
    /// given (a rule across fields that the schema cannot say: `cost_gt >= cost_lt` is 422).
    #[serde(default, deserialize_with = "whole::optional")]
    pub cost_lt: Option<i64>,
    /// `review_rating` at least this (0..=5, default 0).
    #[schema(minimum = 0, maximum = 5)]
    pub reviews_gt: Option<f64>,
    /// `review_rating` at most this (0..=5, default 5). `reviews_gt` must not be greater than
    /// `reviews_lt` (a rule across fields that the schema cannot say: it is 422).
    #[schema(minimum = 0, maximum = 5)]
    pub reviews_lt: Option<f64>,
    /// For every window, the provider has at least one available day inside it. At most 20.
    #[schema(max_items = 20)]
    pub availability: Option<Vec<DateRangeDto>>,
    /// The order of the results (default `cost_desc`); any other value is 422 on `sort`.
    #[schema(schema_with = schema::search_sort)]
    pub sort: Option<String>,
    /// `true`: the answer carries `total`, the number of matching providers (exact up to
    /// 10,000). Default `false`.
    pub total: Option<bool>,
}

impl SearchBody {
    /// How the search lists its results: the parts of the body that are not the filter.
    pub(crate) fn options(&self) -> SearchOptions {
        SearchOptions {
            sort: self.sort.clone(),
            total: self.total.unwrap_or(false),
        }
    }
}

impl From<SearchBody> for SearchInput {
    fn from(body: SearchBody) -> Self {
        Self {
            name: body.name,
            skills: body.skills,
            cost_gt: body.cost_gt,
            cost_lt: body.cost_lt,
            reviews_gt: body.reviews_gt,
            reviews_lt: body.reviews_lt,
            availability: body.availability.map(ranges),
        }
    }
}

/// A job to find providers for.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RecommendRequest, example = json!({
    "job_budget_in_pence": 150000,
    "expected_job_duration_in_days": 3,
    "skills": ["SEO Optimisation"],
    "availability": [{"from_date": "2027-12-01", "to_date": "2027-12-10"}],
    "minimum_review_rating": 3.5
}))]
pub(crate) struct RecommendBody {
    /// Budget for the whole job, in pence; at least 1.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(required = true, nullable = false, minimum = 1)]
    pub job_budget_in_pence: Option<i64>,
    /// Days the job takes, default 1: at least 1, and at most 2958464 (the days from 1900-01-01
    /// to 9999-12-31, the longest window there is).
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(minimum = 1, maximum = 2_958_464)]
    pub expected_job_duration_in_days: Option<i64>,
    /// Wanted skills, 1..=50 (a provider needs at least one, case-insensitive); no control
    /// characters.
    #[schema(required = true, schema_with = schema::recommend_skills)]
    pub skills: Option<Vec<String>>,
    /// Windows the job may be done in, 1..=20; each at least as long as the job.
    #[schema(required = true, nullable = false, min_items = 1, max_items = 20)]
    pub availability: Option<Vec<DateRangeDto>>,
    /// Lowest acceptable `review_rating`, 0..=5 (default 0).
    #[schema(minimum = 0, maximum = 5)]
    pub minimum_review_rating: Option<f64>,
}

impl From<RecommendBody> for JobInput {
    fn from(body: RecommendBody) -> Self {
        Self {
            job_budget_in_pence: body.job_budget_in_pence,
            expected_job_duration_in_days: body.expected_job_duration_in_days,
            skills: body.skills,
            availability: body.availability.map(ranges),
            minimum_review_rating: body.minimum_review_rating,
        }
    }
}

/// Reads a search body exactly as `POST /v1_0/service-providers` does (unknown fields refused),
/// for tools that replay API requests, such as `provider-api explain`.
///
/// # Errors
/// The JSON error when the text is not a valid search body.
pub fn search_input_from_json(json: &str) -> Result<SearchInput, serde_json::Error> {
    search_request_from_json(json).map(|(input, _)| input)
}

/// Reads a search body as [`search_input_from_json`] does, with how it lists its results (its
/// `sort` and `total`).
///
/// # Errors
/// The JSON error when the text is not a valid search body.
pub fn search_request_from_json(
    json: &str,
) -> Result<(SearchInput, SearchOptions), serde_json::Error> {
    let body = serde_json::from_str::<SearchBody>(json)?;
    let options = body.options();
    Ok((body.into(), options))
}

/// Reads a recommend body exactly as `POST /v1_0/service-providers/recommend` does.
///
/// # Errors
/// The JSON error when the text is not a valid recommend body.
pub fn job_input_from_json(json: &str) -> Result<JobInput, serde_json::Error> {
    serde_json::from_str::<RecommendBody>(json).map(Into::into)
}

/// A review as a client writes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReviewInput, example = json!({
    "rating": 4.5,
    "comment": "Quick and thorough.",
    "skill_ratings": [{"skill": "Cold Calling", "rating": 5.0}]
}))]
pub(crate) struct ReviewBody {
    /// 0..=5 in steps of 0.1 (`4.5` is accepted, `4.55` is refused).
    #[schema(minimum = 0, maximum = 5, multiple_of = 0.1)]
    pub rating: f64,
    /// At most 2000 characters after trimming; no control characters but tab, line feed and
    /// carriage return. `null` or absent means none.
    #[schema(schema_with = schema::comment)]
    pub comment: Option<String>,
    /// Ratings of the provider's skills one by one: 0..=50 entries, each of one of its current
    /// skills (case-insensitive), each skill at most once (rules the schema cannot say: 422).
    /// Absent means none.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub skill_ratings: Vec<SkillRatingDto>,
}

impl From<ReviewBody> for NewReview {
    fn from(body: ReviewBody) -> Self {
        Self {
            rating: body.rating,
            comment: body.comment,
            skill_ratings: body
                .skill_ratings
                .into_iter()
                .map(|r| SkillRatingInput {
                    skill: r.skill,
                    rating: r.rating,
                })
                .collect(),
        }
    }
}

/// One page of a search.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = ServiceProviderPage)]
pub(crate) struct ProviderPage {
    /// The providers on this page, in the search's order.
    pub service_providers: Vec<ProviderDto>,
    /// This page's number, from 1; `null` for a page after a cursor.
    #[schema(required = true, minimum = 1)]
    pub page: Option<u32>,
    /// The page size asked for.
    pub page_size: u32,
    /// True exactly when `next_cursor` is not null.
    pub has_more: bool,
    /// Send it as `?cursor=` (with the same body) for the page after this one; `null` on the
    /// last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// Only when the body asked for it (`"total": true`): how many providers match.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub total: Option<TotalDto>,
}

/// How many items a list holds: exact up to 10,000, else at least 10,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Total, example = json!({"value": 1234, "relation": "eq"}))]
pub(crate) struct TotalDto {
    /// The number of matches, at most 10000.
    #[schema(minimum = 0, maximum = 10_000)]
    pub value: u64,
    /// `eq`: `value` is the exact count; `gte`: there are more than 10,000 (`value` is 10000).
    pub relation: Relation,
}

/// Whether a total is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Relation {
    /// Exactly `value`.
    Eq,
    /// At least `value`.
    Gte,
}

impl From<Total> for TotalDto {
    fn from(total: Total) -> Self {
        Self {
            value: total.value,
            relation: if total.exact {
                Relation::Eq
            } else {
                Relation::Gte
            },
        }
    }
}

/// One page of recommended providers, most appropriate first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = RecommendationPage)]
pub(crate) struct RecommendationPage {
    /// The providers on this page, in ranking order.
    pub service_providers: Vec<RecommendedDto>,
    /// This page's number, from 1.
    pub page: u32,
    /// The page size asked for.
    pub page_size: u32,
    /// True when later pages hold more.
    pub has_more: bool,
}

/// One page of reviews, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ReviewPage {
    /// The reviews on this page, newest first.
    pub reviews: Vec<ReviewDto>,
    /// This page's number, from 1; `null` for a page after a cursor.
    #[schema(required = true, minimum = 1)]
    pub page: Option<u32>,
    /// The page size asked for.
    pub page_size: u32,
    /// True exactly when `next_cursor` is not null.
    pub has_more: bool,
    /// Send it as `?cursor=` for the page after this one; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl From<Listed<Provider>> for ProviderPage {
    fn from(found: Listed<Provider>) -> Self {
        Self {
            service_providers: found.items.iter().map(ProviderDto::from).collect(),
            page: found.page,
            page_size: found.page_size,
            has_more: found.has_more,
            next_cursor: found.next_cursor,
            total: found.total.map(TotalDto::from),
        }
    }
}

impl RecommendationPage {
    pub(crate) fn new(page: Page, found: &PageOf<Recommendation>) -> Self {
        Self {
            service_providers: found.items.iter().map(RecommendedDto::from).collect(),
            page: page.number(),
            page_size: page.size(),
            has_more: found.has_more,
        }
    }
}

impl ReviewPage {
    pub(crate) fn new(
        found: Listed<StoredReview>,
        caller: Option<&provider_domain::Caller>,
    ) -> Self {
        Self {
            reviews: found
                .items
                .iter()
                .map(|r| ReviewDto::for_caller(r, caller))
                .collect(),
            page: found.page,
            page_size: found.page_size,
            has_more: found.has_more,
            next_cursor: found.next_cursor,
        }
    }
}

/// `{"status": "ok"}`; readiness adds `replica` when reads are routed to a database replica, and
/// `rate_limit_store` when the rate-limit buckets are in Redis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub(crate) struct Status {
    /// Always `ok`.
    pub status: String,
    /// Readiness only, with a read replica configured (`DATABASE_READ_URL`): its state. Never
    /// a reason to be unready: reads skip a replica that is down or lagging.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica: Option<ReplicaState>,
    /// Readiness only, with the rate-limit buckets in Redis (`RATE_LIMIT_REDIS_URL`): whether
    /// it answers. Never a reason to be unready: without it requests are served unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_store: Option<RateLimitStoreState>,
    /// Readiness only, with the in-process read model on (`READ_MODEL=memory`): its state.
    /// The process is unready only while the model loads its first snapshot; a model that is
    /// stale or rebuilding is bypassed (reads go to the database).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_model: Option<ReadModelState>,
}

impl Status {
    pub(crate) fn ok() -> Self {
        Self {
            status: "ok".into(),
            replica: None,
            rate_limit_store: None,
            read_model: None,
        }
    }
}

/// The state of the read replica, as readiness reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReplicaState {
    /// Answering, and behind the primary by no more than `MAX_REPLICA_LAG_MS`: anonymous reads
    /// go to it.
    Ok,
    /// Answering but further behind: every read goes to the primary until it catches up.
    Lagging,
    /// Not answering (or not a standby): every read goes to the primary until it is back.
    Down,
}

/// The state of the in-process read model, as readiness reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReadModelState {
    /// Loading its first snapshot: the process is not ready (503).
    Loading,
    /// Current: search, recommend and get are answered from memory.
    Ready,
    /// Its last catch-up with the database failed: reads go to the database until one succeeds.
    Stale,
    /// Loading a new snapshot after falling behind the change feed, or after its catch-ups kept
    /// failing for 30 s: reads go to the database.
    Rebuilding,
}

/// Whether the shared rate-limit store (Redis) answers, as readiness reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RateLimitStoreState {
    /// It answered a `PING` within `RATE_LIMIT_REDIS_TIMEOUT_MS`: limits are shared.
    Ok,
    /// It did not: requests are served without rate limits until it does.
    Down,
}

/// `{}`: the provider and everything attached to it are gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({}))]
pub(crate) struct Deleted {}

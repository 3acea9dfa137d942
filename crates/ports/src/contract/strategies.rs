//! proptest strategies for the differential test: random providers, reviews, searches, jobs
//! and pages drawn from small vocabularies, so that random data collides often (equal costs,
//! equal ratings, touching ranges, shared skills) and the orders' tie-breaks are exercised.

use crate::Page;
use proptest::prelude::*;
use provider_domain::{JobInput, ProviderDraft, ProviderInput, RangeInput, SearchInput};
use time::{macros::date, Date, Duration};

const NAMES: &[&str] = &[
    "Alpha",
    "beta_co",
    "ΔELTA İnc",
    "50% Gamma",
    "Straße Ltd",
    "Zeta",
];
const SKILLS: &[&str] = &["Rust", "rust", "SEO", "Plumbing", "Straße", "STRASSE", "Go"];
const COSTS: &[i64] = &[0, 4_999, 5_000, 10_000, 10_001, 30_000];
const BASE: Date = date!(2027 - 01 - 01);

fn day(offset: i64) -> String {
    (BASE + Duration::days(offset)).to_string()
}

fn range(from: i64, to: i64) -> RangeInput {
    RangeInput {
        from_date: day(from),
        to_date: day(to),
    }
}

/// Non-overlapping ranges within about two months of 2027-01-01: each starts 0..4 days after
/// the previous ends (0 = touching) and lasts 1..6 days. Given shuffled.
fn availability() -> impl Strategy<Value = Vec<RangeInput>> {
    prop::collection::vec((0i64..4, 1i64..6), 0..4)
        .prop_map(|parts| {
            let mut next = 0;
            parts
                .into_iter()
                .map(|(gap, len)| {
                    let from = next + gap;
                    next = from + len;
                    range(from, from + len - 1)
                })
                .collect::<Vec<_>>()
        })
        .prop_shuffle()
}

/// A valid provider draft.
pub fn draft() -> impl Strategy<Value = ProviderDraft> {
    (
        prop::sample::select(NAMES),
        prop::sample::subsequence(SKILLS, 0..=4).prop_shuffle(),
        prop::sample::select(COSTS),
        availability(),
    )
        .prop_map(|(name, skills, cost, availability)| {
            ProviderDraft::parse(&ProviderInput {
                name: name.into(),
                skills: skills.into_iter().map(str::to_owned).collect(),
                cost_in_pence: cost,
                availability,
            })
            .expect("strategy makes valid drafts")
        })
}

/// Ratings in tenths for reviews: `(index of provider modulo their number, tenths)`.
pub fn ratings() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec(
        (
            0usize..64,
            prop::sample::select(vec![0u8, 10, 25, 30, 45, 50]),
        ),
        0..30,
    )
}

/// Per-skill ratings for each review of [`ratings`] (same index): `(pick, tenths)` pairs, each
/// rating the provider's skill number `pick` modulo its skill count; often none, as in use.
pub fn skill_ratings() -> impl Strategy<Value = Vec<Vec<(usize, u8)>>> {
    prop::collection::vec(
        prop::collection::vec(
            (
                0usize..8,
                prop::sample::select(vec![0u8, 10, 25, 30, 45, 50]),
            ),
            0..3,
        ),
        0..30,
    )
}

fn window() -> impl Strategy<Value = RangeInput> {
    (0i64..60, 0i64..20).prop_map(|(from, len)| range(from, from + len))
}

fn skills_query() -> impl Strategy<Value = Vec<String>> {
    prop::sample::subsequence(SKILLS, 0..=3)
        .prop_map(|s| s.into_iter().map(|x| x.to_lowercase()).collect())
}

/// A valid search.
pub fn search() -> impl Strategy<Value = SearchInput> {
    (
        prop::option::of(prop::sample::select(vec![
            "a", "E", "50%", "_", "i̇", "straße", "zz",
        ])),
        prop::option::of(skills_query()),
        prop::option::of(prop::sample::select(COSTS)),
        prop::option::of(prop::sample::select(vec![1i64, 5_000, 10_001, 40_000])),
        prop::option::of(prop::sample::select(vec![0.0, 2.5, 3.0, 4.5])),
        prop::option::of(prop::sample::select(vec![2.5, 4.5, 5.0])),
        prop::option::of(prop::collection::vec(window(), 0..3)),
    )
        .prop_map(
            |(name, skills, cost_gt, cost_lt, reviews_gt, reviews_lt, availability)| {
                let (cost_gt, cost_lt) = match (cost_gt, cost_lt) {
                    (Some(gt), Some(lt)) if gt >= lt => (Some(gt), None),
                    bounds => bounds,
                };
                let (reviews_gt, reviews_lt) = match (reviews_gt, reviews_lt) {
                    (Some(gt), Some(lt)) if gt > lt => (Some(gt), None),
                    bounds => bounds,
                };
                SearchInput {
                    name: name.map(str::to_owned),
                    skills,
                    cost_gt,
                    cost_lt,
                    reviews_gt,
                    reviews_lt,
                    availability,
                }
            },
        )
}

/// A valid job.
pub fn job() -> impl Strategy<Value = JobInput> {
    (
        prop::sample::select(vec![1i64, 10_000, 30_000, 60_000, 1_000_000]),
        1i64..5,
        skills_query().prop_filter("at least one skill", |s| !s.is_empty()),
        prop::collection::vec((0i64..60, 0i64..20), 1..3),
        prop::option::of(prop::sample::select(vec![0.0, 2.5, 3.0, 4.5])),
    )
        .prop_map(|(budget, duration, skills, windows, minimum)| JobInput {
            job_budget_in_pence: Some(budget),
            expected_job_duration_in_days: Some(duration),
            skills: Some(skills),
            availability: Some(
                windows
                    .into_iter()
                    .map(|(from, len)| range(from, from + len.max(duration - 1)))
                    .collect(),
            ),
            minimum_review_rating: minimum,
        })
}

/// A valid page, small enough that random data spans several.
pub fn page() -> impl Strategy<Value = Page> {
    (1i64..4, 1i64..5).prop_map(|(n, s)| Page::new(Some(n), Some(s)).expect("valid page"))
}

//! Rank candidates for a job from a `Vec` of providers, as a pricing service would: no store,
//! no HTTP, only the crate.
//!
//! ```text
//! cargo run -p provider-domain --example rank_candidates
//! ```
//!
//! It builds five providers from what their owners wrote, gives them reviews, states a job,
//! keeps the providers that suit it ([`JobRequest::evaluate`]: budget, skills, a run of free
//! days, rating) and sorts them with [`recommendation_order`]. It prints the ranking and exits
//! non-zero if the ranking is not the one the rules give.

use provider_domain::{
    recommendation_order, JobInput, JobRequest, Provider, ProviderDraft, ProviderId, ProviderInput,
    RangeInput, Rating, Recommendation, ReviewStats, SkillRating, SkillReviews, UserId,
};
use uuid::Uuid;

fn range(from: &str, to: &str) -> RangeInput {
    RangeInput {
        from_date: from.into(),
        to_date: to.into(),
    }
}

/// A provider as the caller's own storage would hand it over: an id and an owner it made, the
/// fields its owner wrote (checked by [`ProviderDraft::parse`]) and the ratings its reviews gave.
fn provider(
    n: u128,
    name: &str,
    skills: &[&str],
    cost_in_pence: i64,
    free: &[(&str, &str)],
    ratings: &[f64],
) -> Provider {
    let draft = ProviderDraft::parse(&ProviderInput {
        name: name.into(),
        skills: skills.iter().map(|s| (*s).to_owned()).collect(),
        cost_in_pence,
        availability: free.iter().map(|(from, to)| range(from, to)).collect(),
    })
    .expect("the example's providers are valid");
    let mut provider = Provider::new(
        ProviderId::from_uuid(Uuid::from_u128(n)),
        UserId::from_uuid(Uuid::from_u128(1_000 + n)),
        draft,
        time::OffsetDateTime::UNIX_EPOCH,
    );
    provider.reviews = ratings
        .iter()
        .map(|r| Rating::from_f64(*r).expect("ratings are in tenths"))
        .fold(ReviewStats::default(), ReviewStats::with);
    provider
}

/// The candidates, as the caller's storage would load them.
fn candidates() -> Vec<Provider> {
    let mut candidates = vec![
        provider(
            1,
            "Acme Search",
            &["SEO", "Copywriting"],
            30_000,
            &[("2027-03-01", "2027-03-31")],
            &[4.0, 4.5],
        ),
        provider(
            2,
            "Budget Rankings",
            &["seo", "COPYWRITING"],
            30_000,
            &[("2027-03-01", "2027-03-02"), ("2027-03-03", "2027-03-10")],
            &[4.8, 4.9, 5.0],
        ),
        provider(
            3,
            "Premium Words",
            &["Copywriting", "SEO"],
            45_000,
            &[("2027-03-10", "2027-03-20")],
            &[3.0],
        ),
        provider(
            4,
            "Too Dear Ltd",
            &["SEO", "Copywriting"],
            60_000,
            &[("2027-03-01", "2027-03-31")],
            &[5.0],
        ),
        provider(
            5,
            "Away All March",
            &["SEO", "Copywriting"],
            10_000,
            &[("2027-04-01", "2027-04-30")],
            &[5.0],
        ),
    ];
    // Per-skill ratings, which a review may give beside its overall rating: Acme's SEO was
    // rated well twice.
    let seo_well_rated = SkillRating::parse_list(
        &[provider_domain::SkillRatingInput {
            skill: "seo".into(),
            rating: 5.0,
        }],
        Some(&candidates[0].skills),
    )
    .expect("SEO is one of Acme's skills");
    candidates[0].skill_reviews = SkillReviews::default()
        .with(&seo_well_rated)
        .with(&seo_well_rated);
    candidates
}

fn main() {
    let candidates = candidates();

    let job = JobRequest::parse(&JobInput {
        job_budget_in_pence: Some(250_000),
        expected_job_duration_in_days: Some(5),
        skills: Some(vec!["SEO".into(), "copywriting".into()]),
        availability: Some(vec![range("2027-03-01", "2027-03-31")]),
        minimum_review_rating: Some(3.0),
    })
    .expect("the job is valid");

    let mut ranked: Vec<Recommendation> = candidates
        .iter()
        .filter_map(|provider| job.evaluate(provider))
        .collect();
    ranked.sort_by(recommendation_order);

    println!(
        "{} of {} candidates suit a {}-day job with a budget of {} pence (at most {} a day):",
        ranked.len(),
        candidates.len(),
        job.duration(),
        job.budget(),
        job.max_day_rate()
    );
    for (place, r) in ranked.iter().enumerate() {
        let matched: Vec<&str> = r.matched_skills.iter().map(|s| s.as_str()).collect();
        println!(
            "  {}. {:<16} {:>6} p/day  matched {:?}  skill rating {:.3}  overall {:.3} ({} reviews)",
            place + 1,
            r.provider.name.as_str(),
            r.provider.cost.pence(),
            matched,
            r.matched_skill_rating.confidence(),
            r.provider.reviews.confidence(),
            r.provider.reviews.count,
        );
    }

    // Too Dear Ltd would cost 300,000 for five days, over the budget; Away All March is free in
    // April only. The other three match both skills (skills compare case-insensitively: key 1
    // ties). Premium Words has the highest day rate (key 2) and comes first. Acme Search and
    // Budget Rankings cost the same; Acme's SEO was rated 5 twice while Budget Rankings' skills
    // were never rated, so Acme comes next (key 3), although Budget Rankings has the better
    // overall rating (key 4, never reached).
    let names: Vec<&str> = ranked.iter().map(|r| r.provider.name.as_str()).collect();
    assert_eq!(names, ["Premium Words", "Acme Search", "Budget Rankings"]);
}

//! Builders and assertions shared by the rule tests.

use provider_domain::{
    parse_date, Availability, DateRange, DayRate, JobInput, JobRequest, Provider, ProviderId,
    ProviderInput, ProviderName, RangeInput, Rating, Recommendation, ReviewStats, SearchFilter,
    SearchInput, Skill, SkillReviews, Skills, UserId, ValidationError, ValueError,
};
use uuid::Uuid;

pub(crate) fn range(from: &str, to: &str) -> RangeInput {
    RangeInput {
        from_date: from.into(),
        to_date: to.into(),
    }
}

/// Date ranges written as `(from_date, to_date)` text pairs.
pub(crate) type Days<'a> = &'a [(&'a str, &'a str)];

pub(crate) fn ranges(list: &[(&str, &str)]) -> Vec<RangeInput> {
    list.iter().map(|(from, to)| range(from, to)).collect()
}

pub(crate) fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// A provider input that passes every rule; tests change the one field they are about.
pub(crate) fn valid_input() -> ProviderInput {
    ProviderInput {
        name: "SEO Incorporated".into(),
        skills: strings(&["SEO Optimisation", "Cold Calling"]),
        cost_in_pence: 25_000,
        availability: ranges(&[("2027-11-12", "2027-12-28")]),
    }
}

/// The `(field, error)` pairs of a validation error, for compact assertions.
pub(crate) fn faults(error: &ValidationError) -> Vec<(String, ValueError)> {
    error
        .fields()
        .iter()
        .map(|f| (f.field.clone(), f.error.clone()))
        .collect()
}

pub(crate) fn fault(field: &str, error: ValueError) -> (String, ValueError) {
    (field.to_owned(), error)
}

pub(crate) fn id(n: u128) -> ProviderId {
    ProviderId::from_uuid(Uuid::from_u128(n))
}

pub(crate) fn skills(list: &[&str]) -> Skills {
    Skills::from_skills(list.iter().map(|s| Skill::new(s).unwrap()))
}

pub(crate) fn day_range(from: &str, to: &str) -> DateRange {
    DateRange::new(parse_date(from).unwrap(), parse_date(to).unwrap()).unwrap()
}

pub(crate) fn availability(list: &[(&str, &str)]) -> Availability {
    Availability::new(list.iter().map(|(f, t)| day_range(f, t)).collect()).unwrap()
}

/// Review statistics after one review per rating, given in tenths.
pub(crate) fn stats(ratings_in_tenths: &[u8]) -> ReviewStats {
    ratings_in_tenths
        .iter()
        .fold(ReviewStats::default(), |s, &t| {
            s.with(Rating::from_tenths(t).unwrap())
        })
}

/// A provider with id `n` and day rate `cost`; skills, availability and reviews are set by the
/// test through the public fields.
pub(crate) fn provider(n: u128, cost: i64) -> Provider {
    Provider {
        id: id(n),
        owner: UserId::from_uuid(Uuid::from_u128(u128::MAX - n)),
        name: ProviderName::new("SEO Incorporated").unwrap(),
        skills: skills(&["SEO Optimisation", "Cold Calling"]),
        cost: DayRate::new(cost).unwrap(),
        availability: availability(&[("2027-01-01", "2027-12-31")]),
        reviews: ReviewStats::default(),
        skill_reviews: SkillReviews::default(),
        created_at: time::OffsetDateTime::UNIX_EPOCH,
    }
}

pub(crate) fn search(input: SearchInput) -> SearchFilter {
    SearchFilter::parse(&input).unwrap()
}

/// A job that passes every rule: budget 1,000,000, one day, SEO, all of 2027.
pub(crate) fn valid_job() -> JobInput {
    JobInput {
        job_budget_in_pence: Some(1_000_000),
        expected_job_duration_in_days: Some(1),
        skills: Some(strings(&["SEO Optimisation"])),
        availability: Some(ranges(&[("2027-01-01", "2027-12-31")])),
        minimum_review_rating: None,
    }
}

pub(crate) fn job(input: JobInput) -> JobRequest {
    JobRequest::parse(&input).unwrap()
}

pub(crate) fn job_for_days(duration: i64, windows: &[(&str, &str)]) -> JobRequest {
    job(JobInput {
        expected_job_duration_in_days: Some(duration),
        availability: Some(ranges(windows)),
        ..valid_job()
    })
}

pub(crate) fn recommendation(provider: Provider, matched: &[&str]) -> Recommendation {
    Recommendation {
        provider,
        matched_skills: matched.iter().map(|s| Skill::new(s).unwrap()).collect(),
        matched_skill_rating: ReviewStats::default(),
    }
}

pub(crate) fn spellings(skills: &[Skill]) -> Vec<&str> {
    skills.iter().map(Skill::as_str).collect()
}

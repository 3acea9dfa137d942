//! Recommendation: which providers suit a job, and the ranking "most appropriate first".

use crate::dates::DateRange;
use crate::error::{Collector, ValidationError, ValueError};
use crate::provider::{parse_ranges, parse_skills, Provider, RangeInput};
use crate::stats::ReviewStats;
use crate::values::{RatingBound, Skill, Skills};
use std::cmp::Ordering;

/// A job as a client wrote it, before checking.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobInput {
    /// Budget for the whole job in pence (required, at least 1).
    pub job_budget_in_pence: Option<i64>,
    /// Days the job takes (default 1, at least 1).
    pub expected_job_duration_in_days: Option<i64>,
    /// Wanted skills (required, 1..=50).
    pub skills: Option<Vec<String>>,
    /// Windows the job may be done in (required, 1..=20).
    pub availability: Option<Vec<RangeInput>>,
    /// Lowest acceptable mean rating (default 0).
    pub minimum_review_rating: Option<f64>,
}

/// A checked job request.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRequest {
    budget: i64,
    duration: i64,
    skills: Skills,
    windows: Vec<DateRange>,
    minimum_rating: RatingBound,
}

/// A provider suited to a job, with the requested skills it has and how they were rated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendation {
    /// The provider.
    pub provider: Provider,
    /// The requested skills it has, in the provider's spelling and order.
    pub matched_skills: Vec<Skill>,
    /// Every per-skill rating given to its matched skills, pooled (ranking key 3).
    pub matched_skill_rating: ReviewStats,
}

impl JobRequest {
    /// Most skills a job may ask for.
    pub const MAX_SKILLS: usize = 50;
    /// Most windows a job may give.
    pub const MAX_WINDOWS: usize = 20;

    /// Checks a job against docs/API.md's recommend rules. Each skill follows [`Skill::new`]
    /// (so the Text rule: no control characters, reported at `skills[i]`).
    ///
    /// # Errors
    /// A [`ValidationError`] naming every field at fault, including each window shorter than
    /// the job (it could never hold it).
    pub fn parse(input: &JobInput) -> Result<Self, ValidationError> {
        let mut errors = Collector::default();
        let budget = match input.job_budget_in_pence {
            None => {
                errors.push("job_budget_in_pence", ValueError::Required);
                0
            }
            Some(b) if b < 1 => {
                errors.push(
                    "job_budget_in_pence",
                    ValueError::TooSmall { min: "1".into() },
                );
                0
            }
            Some(b) => b,
        };
        let duration = input.expected_job_duration_in_days.unwrap_or(1);
        if duration < 1 {
            errors.push(
                "expected_job_duration_in_days",
                ValueError::TooSmall { min: "1".into() },
            );
        }
        let skills = match input.skills.as_deref() {
            None => {
                errors.push("skills", ValueError::Required);
                Skills::default()
            }
            Some([]) => {
                errors.push("skills", ValueError::TooFew { min: 1 });
                Skills::default()
            }
            Some(raw) => parse_skills(&mut errors, "skills", raw, Self::MAX_SKILLS),
        };
        let windows = match input.availability.as_deref() {
            None => {
                errors.push("availability", ValueError::Required);
                Vec::new()
            }
            Some([]) => {
                errors.push("availability", ValueError::TooFew { min: 1 });
                Vec::new()
            }
            Some(raw) => {
                let windows = parse_ranges(&mut errors, "availability", raw, Self::MAX_WINDOWS);
                if duration >= 1 && windows.len() == raw.len() {
                    for (i, w) in windows.iter().enumerate() {
                        if w.days() < duration {
                            errors.push(
                                format!("availability[{i}]"),
                                ValueError::WindowShorterThanJob {
                                    days: w.days(),
                                    duration,
                                },
                            );
                        }
                    }
                }
                windows
            }
        };
        let minimum_rating = errors.check(
            || "minimum_review_rating".into(),
            input
                .minimum_review_rating
                .map_or(Ok(RatingBound::MIN), RatingBound::new),
        );
        errors.finish(|| Self {
            budget,
            duration,
            skills,
            windows,
            minimum_rating: minimum_rating.unwrap_or(RatingBound::MIN),
        })
    }

    /// Budget for the whole job, in pence.
    pub fn budget(&self) -> i64 {
        self.budget
    }

    /// Days the job takes.
    pub fn duration(&self) -> i64 {
        self.duration
    }

    /// Requested skills, distinct.
    pub fn skills(&self) -> &Skills {
        &self.skills
    }

    /// Windows the job may be done in.
    pub fn windows(&self) -> &[DateRange] {
        &self.windows
    }

    /// Lowest acceptable mean rating.
    pub fn minimum_rating(&self) -> RatingBound {
        self.minimum_rating
    }

    /// The highest day rate the budget affords for this job: `budget / duration` rounded down,
    /// so `cost <= max_day_rate()` exactly when `cost * duration <= budget`.
    pub fn max_day_rate(&self) -> i64 {
        self.budget / self.duration
    }

    /// Rule 1: `cost_in_pence * expected_job_duration_in_days <= job_budget_in_pence`, in exact
    /// integer arithmetic.
    pub fn affords(&self, provider: &Provider) -> bool {
        i128::from(provider.cost.pence()) * i128::from(self.duration) <= i128::from(self.budget)
    }

    /// Rule 3: a run of at least `duration` consecutive available days inside one window
    /// (touching ranges joined into one run).
    pub fn fits_schedule(&self, provider: &Provider) -> bool {
        let runs = provider.availability.runs();
        self.windows.iter().any(|w| {
            runs.iter()
                .filter_map(|run| run.intersection(w))
                .any(|r| r.days() >= self.duration)
        })
    }

    /// The requested skills the provider has, in the provider's spelling and order (rule 2
    /// holds when this is not empty).
    pub fn matched_skills(&self, provider: &Provider) -> Vec<Skill> {
        provider
            .skills
            .iter()
            .filter(|s| self.skills.contains_key(s.key()))
            .cloned()
            .collect()
    }

    /// The per-skill ratings of the requested skills the provider has, pooled: one count and
    /// one sum over all of them (ranking key 3).
    pub fn matched_skill_rating(&self, provider: &Provider) -> ReviewStats {
        provider.skill_reviews.pooled(
            provider
                .skills
                .iter()
                .filter(|s| self.skills.contains_key(s.key()))
                .map(Skill::key),
        )
    }

    /// `provider` as a recommendation for this job (its matched skills and their pooled
    /// rating), without checking the rules: for a store that already checked them.
    pub fn recommendation(&self, provider: Provider) -> Recommendation {
        Recommendation {
            matched_skills: self.matched_skills(&provider),
            matched_skill_rating: self.matched_skill_rating(&provider),
            provider,
        }
    }

    /// All four rules: the recommendation when the provider suits the job, else `None`.
    pub fn evaluate(&self, provider: &Provider) -> Option<Recommendation> {
        if !self.affords(provider)
            || provider.reviews.mean() < self.minimum_rating.value()
            || !self.fits_schedule(provider)
            || !provider
                .skills
                .iter()
                .any(|s| self.skills.contains_key(s.key()))
        {
            return None;
        }
        Some(self.recommendation(provider.clone()))
    }
}

/// The ranking of recommendations, most appropriate first, as one total order:
///
/// 1. more requested skills matched;
/// 2. higher day rate;
/// 3. higher confidence-weighted rating of the matched skills: every per-skill rating of them
///    pooled, `(sum + 2.5 * 5) / (count + 5)`, exact (2.5 for all when none was rated, so the
///    v1.0 order stands);
/// 4. higher overall confidence-weighted rating (exact);
/// 5. more reviews;
/// 6. id ascending.
pub fn recommendation_order(a: &Recommendation, b: &Recommendation) -> Ordering {
    b.matched_skills
        .len()
        .cmp(&a.matched_skills.len())
        .then_with(|| b.provider.cost.cmp(&a.provider.cost))
        .then_with(|| {
            b.matched_skill_rating
                .cmp_confidence(&a.matched_skill_rating)
        })
        .then_with(|| b.provider.reviews.cmp_confidence(&a.provider.reviews))
        .then_with(|| b.provider.reviews.count.cmp(&a.provider.reviews.count))
        .then_with(|| a.provider.id.cmp(&b.provider.id))
}

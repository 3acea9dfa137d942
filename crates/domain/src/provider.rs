//! Service providers and reviews.

use crate::dates::{Availability, DateRange};
use crate::error::{Collector, ValidationError, ValueError};
use crate::ids::{ProviderId, ReviewId, UserId};
use crate::skill_rating::{SkillRating, SkillReviews};
use crate::stats::ReviewStats;
use crate::values::{Comment, DayRate, ProviderName, Rating, Skill, Skills};
use std::cmp::Ordering;
use time::OffsetDateTime;

/// A date range as a client wrote it, before checking.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RangeInput {
    /// First day, `YYYY-MM-DD`.
    pub from_date: String,
    /// Last day (included), `YYYY-MM-DD`.
    pub to_date: String,
}

/// A provider as a client wrote it (create or full replace), before checking.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProviderInput {
    /// Display name.
    pub name: String,
    /// Skills, in the order given.
    pub skills: Vec<String>,
    /// Day rate in pence.
    pub cost_in_pence: i64,
    /// Available date ranges, in any order.
    pub availability: Vec<RangeInput>,
}

/// Checks a list of skills given at `field`: at most `max` entries, each a valid [`Skill`];
/// case-insensitive duplicates dropped (first spelling and order kept).
pub(crate) fn parse_skills(
    errors: &mut Collector,
    field: &str,
    raw: &[String],
    max: usize,
) -> Skills {
    if raw.len() > max {
        errors.push(
            field,
            ValueError::TooMany {
                max,
                actual: raw.len(),
            },
        );
    }
    Skills::from_skills(
        raw.iter()
            .enumerate()
            .filter_map(|(i, s)| errors.check(|| format!("{field}[{i}]"), Skill::new(s)))
            .collect::<Vec<_>>(),
    )
}

/// Checks a list of date ranges given at `field`: at most `max` entries, each valid.
pub(crate) fn parse_ranges(
    errors: &mut Collector,
    field: &str,
    raw: &[RangeInput],
    max: usize,
) -> Vec<DateRange> {
    if raw.len() > max {
        errors.push(
            field,
            ValueError::TooMany {
                max,
                actual: raw.len(),
            },
        );
    }
    raw.iter()
        .enumerate()
        .filter_map(|(i, r)| {
            match DateRange::parse(&format!("{field}[{i}]"), &r.from_date, &r.to_date) {
                Ok(range) => Some(range),
                Err(e) => {
                    errors.extend(e);
                    None
                }
            }
        })
        .collect()
}

/// What a client may set on a provider: checked, ready to store (create or full replace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderDraft {
    /// Display name.
    pub name: ProviderName,
    /// Distinct skills, in the order given.
    pub skills: Skills,
    /// Day rate.
    pub cost: DayRate,
    /// Availability, sorted, never overlapping.
    pub availability: Availability,
}

impl ProviderDraft {
    /// Checks every field of `input` against docs/API.md's provider rules, reporting all at
    /// fault. `name` and each skill follow the Text rule (no control characters, checked on the
    /// text as sent; see [`ProviderName::new`]).
    ///
    /// # Errors
    /// A [`ValidationError`] with one entry per field at fault (`name`, `skills[2]`,
    /// `cost_in_pence`, `availability[1].to_date`, ...).
    pub fn parse(input: &ProviderInput) -> Result<Self, ValidationError> {
        let mut errors = Collector::default();
        let name = errors.check(|| "name".into(), ProviderName::new(&input.name));
        let skills = parse_skills(&mut errors, "skills", &input.skills, Skills::MAX_ENTRIES);
        let cost = errors.check(|| "cost_in_pence".into(), DayRate::new(input.cost_in_pence));
        let ranges = parse_ranges(
            &mut errors,
            "availability",
            &input.availability,
            Availability::MAX_RANGES,
        );
        // Overlap is only meaningful once every range parsed; it is checked even when other
        // fields are at fault, so that every fault is reported at once.
        let availability = if ranges.len() == input.availability.len() {
            match Availability::new(ranges) {
                Ok(a) => Some(a),
                Err((index, e)) => {
                    errors.push(format!("availability[{index}]"), e);
                    None
                }
            }
        } else {
            None
        };
        match (name, cost, availability) {
            (Some(name), Some(cost), Some(availability)) if errors.is_empty() => Ok(Self {
                name,
                skills,
                cost,
                availability,
            }),
            _ => errors.finish(|| unreachable!("errors were recorded")),
        }
    }
}

/// A service provider as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// Its id.
    pub id: ProviderId,
    /// The user who created it; only they may change or delete it.
    pub owner: UserId,
    /// Display name.
    pub name: ProviderName,
    /// Distinct skills, in the order given.
    pub skills: Skills,
    /// Day rate.
    pub cost: DayRate,
    /// Availability, sorted, never overlapping.
    pub availability: Availability,
    /// Review count and rating sum.
    pub reviews: ReviewStats,
    /// Per-skill rating figures of its current skills (see [`SkillReviews`]).
    pub skill_reviews: SkillReviews,
    /// When it was created (microsecond precision, UTC); the `newest` search order's key.
    pub created_at: OffsetDateTime,
}

impl Provider {
    /// A provider made from a draft at `created_at`, not yet reviewed.
    pub fn new(
        id: ProviderId,
        owner: UserId,
        draft: ProviderDraft,
        created_at: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            owner,
            name: draft.name,
            skills: draft.skills,
            cost: draft.cost,
            availability: draft.availability,
            reviews: ReviewStats::default(),
            skill_reviews: SkillReviews::default(),
            created_at,
        }
    }

    /// This provider with every client-settable field replaced by `draft` (id, owner and
    /// reviews kept). The per-skill figures of skills `draft` no longer has are dropped: a
    /// store that keeps them aside shows them again with [`Self::with_skill_figures`].
    #[must_use]
    pub fn replaced(self, draft: ProviderDraft) -> Self {
        Self {
            skill_reviews: self.skill_reviews.visible(&draft.skills),
            name: draft.name,
            skills: draft.skills,
            cost: draft.cost,
            availability: draft.availability,
            ..self
        }
    }

    /// This provider with the per-skill figures of its current skills taken from `all` (the
    /// figures of every skill key it was ever rated for).
    #[must_use]
    pub fn with_skill_figures(self, all: &SkillReviews) -> Self {
        Self {
            skill_reviews: all.visible(&self.skills),
            ..self
        }
    }

    /// Its rated skills with their figures, in its skill order (skills never rated left out):
    /// what the API shows as `skill_ratings`.
    pub fn skill_ratings(&self) -> Vec<(&Skill, ReviewStats)> {
        self.skills
            .iter()
            .map(|s| (s, self.skill_reviews.get(s.key())))
            .filter(|(_, stats)| stats.count > 0)
            .collect()
    }
}

/// A review of a provider by a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Its id.
    pub id: ReviewId,
    /// The provider reviewed.
    pub provider_id: ProviderId,
    /// The reviewer.
    pub user_id: UserId,
    /// The rating given.
    pub rating: Rating,
    /// An optional comment.
    pub comment: Option<Comment>,
    /// Per-skill ratings, in the provider's spelling and skill order (as it was when reviewed).
    pub skill_ratings: Vec<SkillRating>,
    /// When it was written (microsecond precision, UTC).
    pub created_at: OffsetDateTime,
}

impl Review {
    /// The order reviews are listed in: newest first, then by id descending, so that two
    /// reviews written in the same microsecond still have one order.
    pub fn newest_first(a: &Self, b: &Self) -> Ordering {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.id.cmp(&a.id))
    }
}

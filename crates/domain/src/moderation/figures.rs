//! Only published reviews count: the one rule every figure of a provider comes from
//! (`review_rating`, `review_count`, `skill_ratings`, and so search's rating filters and
//! recommend's ranking), as a recomputation and as the change one transition makes.

use super::status::ReviewStatus;
use crate::provider::Review;
use crate::skill_rating::{SkillRating, SkillReviews};
use crate::stats::ReviewStats;
use crate::values::Rating;
use std::collections::BTreeMap;

/// What one review brings to its provider's figures while it is published: its rating and its
/// per-skill ratings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contribution<'a> {
    /// The review's rating.
    pub rating: Rating,
    /// The review's per-skill ratings.
    pub skill_ratings: &'a [SkillRating],
}

impl<'a> Contribution<'a> {
    /// What `review` brings.
    pub fn of(review: &'a Review) -> Self {
        Self {
            rating: review.rating,
            skill_ratings: &review.skill_ratings,
        }
    }
}

/// A provider's figures: its review count and rating sum, and the same per skill key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Figures {
    /// Count and sum of every published review's rating.
    pub reviews: ReviewStats,
    /// Per skill key, count and sum of the published reviews' ratings of that skill.
    pub skill_reviews: SkillReviews,
}

impl Figures {
    /// These figures after `delta`. A count or sum never goes below zero (a delta taken from
    /// these figures' own reviews never asks it to).
    #[must_use]
    pub fn apply(&self, delta: &FiguresDelta) -> Self {
        let mut skills: BTreeMap<String, ReviewStats> = self
            .skill_reviews
            .iter()
            .map(|(key, stats)| (key.to_owned(), stats))
            .collect();
        for (key, change) in &delta.skills {
            let entry = skills.entry(key.clone()).or_default();
            *entry = change.applied_to(*entry);
        }
        Self {
            reviews: delta.reviews.applied_to(self.reviews),
            skill_reviews: SkillReviews::new(skills),
        }
    }
}

/// The figures of a provider whose reviews are `reviews` (each with its status): published
/// reviews count, pending and hidden ones do not.
pub fn figures<'a>(reviews: impl IntoIterator<Item = (ReviewStatus, Contribution<'a>)>) -> Figures {
    let mut overall = ReviewStats::default();
    let mut skills = SkillReviews::default();
    for (status, review) in reviews {
        if status.counts() {
            overall = overall.with(review.rating);
            skills = skills.with(review.skill_ratings);
        }
    }
    Figures {
        reviews: overall,
        skill_reviews: skills,
    }
}

/// A signed change to a count and a sum of ratings in tenths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StatsDelta {
    /// Change to the number of reviews.
    pub count: i64,
    /// Change to the sum of ratings, in tenths.
    pub sum_tenths: i64,
}

impl StatsDelta {
    /// One review of `rating` more (`sign` 1) or fewer (`sign` -1).
    fn rating(rating: Rating, sign: i64) -> Self {
        Self {
            count: sign,
            sum_tenths: sign * i64::from(rating.tenths()),
        }
    }

    fn plus(self, other: Self) -> Self {
        Self {
            count: self.count + other.count,
            sum_tenths: self.sum_tenths + other.sum_tenths,
        }
    }

    /// True when it changes nothing.
    pub const fn is_zero(self) -> bool {
        self.count == 0 && self.sum_tenths == 0
    }

    /// `stats` after this change (never below zero).
    pub fn applied_to(self, stats: ReviewStats) -> ReviewStats {
        ReviewStats {
            count: stats.count.saturating_add_signed(self.count),
            sum_tenths: stats.sum_tenths.saturating_add_signed(self.sum_tenths),
        }
    }
}

/// The change one transition makes to its provider's figures: overall, and per skill key
/// (keys whose figures do not change left out).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FiguresDelta {
    /// Change to the review count and rating sum.
    pub reviews: StatsDelta,
    /// Change per skill key.
    pub skills: BTreeMap<String, StatsDelta>,
}

impl FiguresDelta {
    /// What a review contributes (`sign` 1) or takes away (`sign` -1).
    fn of(review: Contribution<'_>, sign: i64) -> Self {
        Self {
            reviews: StatsDelta::rating(review.rating, sign),
            skills: review
                .skill_ratings
                .iter()
                .map(|r| (r.skill.key().to_owned(), StatsDelta::rating(r.rating, sign)))
                .collect(),
        }
    }

    fn plus(mut self, other: Self) -> Self {
        self.reviews = self.reviews.plus(other.reviews);
        for (key, change) in other.skills {
            let entry = self.skills.entry(key).or_default();
            *entry = entry.plus(change);
        }
        self.skills.retain(|_, change| !change.is_zero());
        self
    }

    /// The change from a review as it was (`before`: its status and contribution, `None` when
    /// it did not exist) to as it is (`after`, `None` once withdrawn): what it brings when
    /// published after, less what it brought when published before.
    pub fn between(
        before: Option<(ReviewStatus, Contribution<'_>)>,
        after: Option<(ReviewStatus, Contribution<'_>)>,
    ) -> Self {
        let counted = |side: Option<(ReviewStatus, Contribution<'_>)>, sign| {
            side.filter(|(status, _)| status.counts())
                .map_or_else(Self::default, |(_, review)| Self::of(review, sign))
        };
        counted(before, -1).plus(counted(after, 1))
    }

    /// True when it changes no figure.
    pub fn is_zero(&self) -> bool {
        self.reviews.is_zero() && self.skills.is_empty()
    }
}

/// How one transition changes the review's contribution to its provider's figures. The
/// provider's figures and its version change, in the same transaction, exactly when this is
/// not [`Self::Unchanged`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FiguresChange {
    /// It neither entered nor left `published`, nor was edited while published.
    Unchanged,
    /// It became published (at submission, by a decision, or edited to pass the screen).
    Entered,
    /// It left `published` (held, hidden, or withdrawn while published).
    Left,
    /// It was edited while published and stays so: its old figures out, its new ones in.
    Replaced,
}

impl FiguresChange {
    /// The change from `before` to `after` (`None`: the review does not exist on that side);
    /// `edited` when the review's rating, comment and skill ratings were replaced.
    pub fn between(
        before: Option<ReviewStatus>,
        after: Option<ReviewStatus>,
        edited: bool,
    ) -> Self {
        let was = before.is_some_and(ReviewStatus::counts);
        let is = after.is_some_and(ReviewStatus::counts);
        match (was, is) {
            (false, true) => Self::Entered,
            (true, false) => Self::Left,
            (true, true) if edited => Self::Replaced,
            _ => Self::Unchanged,
        }
    }

    /// True unless [`Self::Unchanged`]: the provider's figures and version change.
    pub const fn changes_figures(self) -> bool {
        !matches!(self, Self::Unchanged)
    }

    /// The figures' change, from the review's contribution `before` the transition and
    /// `after` it (the same as `before` when it was not edited; ignored when withdrawn).
    pub fn delta(self, before: Contribution<'_>, after: Contribution<'_>) -> FiguresDelta {
        match self {
            Self::Unchanged => FiguresDelta::default(),
            Self::Entered => FiguresDelta::of(after, 1),
            Self::Left => FiguresDelta::of(before, -1),
            Self::Replaced => FiguresDelta::of(before, -1).plus(FiguresDelta::of(after, 1)),
        }
    }
}

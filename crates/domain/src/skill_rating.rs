//! Ratings per skill: a review may rate the provider's skills one by one, a provider keeps per
//! skill how it was rated, and recommend pools the figures of the skills a job matched.

use crate::error::{Collector, ValidationError, ValueError};
use crate::stats::ReviewStats;
use crate::values::{Rating, Skill, Skills};
use std::collections::{BTreeMap, HashMap};

/// A per-skill rating as a client wrote it, before checking.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SkillRatingInput {
    /// One of the provider's skills (case-insensitive, trimmed).
    pub skill: String,
    /// 0..=5 in steps of 0.1, as a review's rating.
    pub rating: f64,
}

/// One of the provider's skills, rated by a review.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SkillRating {
    /// The skill, in the provider's spelling.
    pub skill: Skill,
    /// The rating given to it.
    pub rating: Rating,
}

impl SkillRating {
    /// Most per-skill ratings one review may give (a provider has at most 50 skills).
    pub const MAX_ENTRIES: usize = 50;

    /// Checks a review's `skill_ratings`: at most [`Self::MAX_ENTRIES`]; each `skill` a valid
    /// [`Skill`] (the Text rule, trimmed, 1..=100 characters) rated at most once
    /// (case-insensitive), each `rating` a valid [`Rating`]. With `skills` (the provider's
    /// current skills) each skill must also be one of them; the answer then holds the
    /// provider's spelling, in the provider's skill order. Without, only what the entries say
    /// by themselves is checked (so that a request can be refused before the provider is read)
    /// and the answer keeps the given spelling and order.
    ///
    /// # Errors
    /// A [`ValidationError`] naming every entry at fault: `skill_ratings` (too many),
    /// `skill_ratings[i].skill` (invalid text, [`ValueError::RatedTwice`] on the later entry,
    /// [`ValueError::NotASkillOfTheProvider`]), `skill_ratings[i].rating`.
    pub fn parse_list(
        raw: &[SkillRatingInput],
        skills: Option<&Skills>,
    ) -> Result<Vec<Self>, ValidationError> {
        let mut errors = Collector::default();
        if raw.len() > Self::MAX_ENTRIES {
            errors.push(
                "skill_ratings",
                ValueError::TooMany {
                    max: Self::MAX_ENTRIES,
                    actual: raw.len(),
                },
            );
        }
        let mut first_of_key: HashMap<String, usize> = HashMap::new();
        let mut rated: Vec<(usize, Self)> = Vec::new();
        for (i, entry) in raw.iter().enumerate() {
            let field = || format!("skill_ratings[{i}].skill");
            let skill = errors.check(field, Skill::new(&entry.skill));
            let rating = errors.check(
                || format!("skill_ratings[{i}].rating"),
                Rating::from_f64(entry.rating),
            );
            let Some(skill) = skill else { continue };
            if let Some(first) = first_of_key.get(skill.key()) {
                errors.push(field(), ValueError::RatedTwice { first: *first });
                continue;
            }
            first_of_key.insert(skill.key().to_owned(), i);
            let (position, skill) = match skills {
                None => (i, skill),
                Some(skills) => match skills.iter().position(|s| s.key() == skill.key()) {
                    Some(p) => (p, skills.as_slice()[p].clone()),
                    None => {
                        errors.push(field(), ValueError::NotASkillOfTheProvider);
                        continue;
                    }
                },
            };
            if let Some(rating) = rating {
                rated.push((position, Self { skill, rating }));
            }
        }
        rated.sort_by_key(|(position, _)| *position);
        errors.finish(|| rated.into_iter().map(|(_, r)| r).collect())
    }
}

/// How a provider's skills have been rated: per skill key, the count and the sum in tenths of
/// the per-skill ratings it was given, kept exactly. Holds only keys with at least one rating.
///
/// On a [`crate::Provider`] it holds the figures of its current skills only: ratings belong to
/// the skill's key, so a store keeps the figures of a removed skill aside and shows them again
/// when the skill comes back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SkillReviews(BTreeMap<String, ReviewStats>);

impl SkillReviews {
    /// From `(skill key, figures)` pairs; pairs with no rating are left out, a key given twice
    /// has its figures added.
    pub fn new(figures: impl IntoIterator<Item = (String, ReviewStats)>) -> Self {
        let mut map: BTreeMap<String, ReviewStats> = BTreeMap::new();
        for (key, stats) in figures {
            if stats.count > 0 {
                let entry = map.entry(key).or_default();
                *entry = entry.plus(stats);
            }
        }
        Self(map)
    }

    /// The figures of `skills` only.
    #[must_use]
    pub fn visible(&self, skills: &Skills) -> Self {
        Self(
            self.0
                .iter()
                .filter(|(key, _)| skills.contains_key(key))
                .map(|(key, stats)| (key.clone(), *stats))
                .collect(),
        )
    }

    /// The figures of one skill key (zero when never rated).
    pub fn get(&self, key: &str) -> ReviewStats {
        self.0.get(key).copied().unwrap_or_default()
    }

    /// These figures after one more review rating `ratings`.
    #[must_use]
    pub fn with(mut self, ratings: &[SkillRating]) -> Self {
        for r in ratings {
            let entry = self.0.entry(r.skill.key().to_owned()).or_default();
            *entry = entry.with(r.rating);
        }
        self
    }

    /// Every rating given to the skills `keys` (each key counted once), pooled into one count
    /// and one sum: recommend's ranking key 3 over the matched skills.
    pub fn pooled<'a>(&self, keys: impl IntoIterator<Item = &'a str>) -> ReviewStats {
        let mut seen = std::collections::BTreeSet::new();
        keys.into_iter()
            .filter(|k| seen.insert(*k))
            .map(|k| self.get(k))
            .fold(ReviewStats::default(), ReviewStats::plus)
    }

    /// The keys and their figures, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, ReviewStats)> {
        self.0.iter().map(|(k, s)| (k.as_str(), *s))
    }

    /// True when no skill was rated.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

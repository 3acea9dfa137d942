//! Search: which providers a filter selects, and the order they are listed in.

use crate::dates::DateRange;
use crate::error::{Collector, ValidationError, ValueError};
use crate::provider::{parse_ranges, parse_skills, Provider, RangeInput};
use crate::sort::SearchSort;
use crate::values::{fold_case, refuse_control_characters, ProviderName, RatingBound, Skills};
use std::cmp::Ordering;

/// A search as a client wrote it, before checking. Every field is optional.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchInput {
    /// Case-insensitive substring of the name.
    pub name: Option<String>,
    /// Has at least one of these skills.
    pub skills: Option<Vec<String>>,
    /// Day rate strictly above.
    pub cost_gt: Option<i64>,
    /// Day rate strictly below.
    pub cost_lt: Option<i64>,
    /// Mean rating at least (default 0).
    pub reviews_gt: Option<f64>,
    /// Mean rating at most (default 5).
    pub reviews_lt: Option<f64>,
    /// For every window, at least one available day inside it.
    pub availability: Option<Vec<RangeInput>>,
}

/// A checked search filter. `SearchFilter::default()` selects every provider.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchFilter {
    name_key: Option<String>,
    skills: Skills,
    cost_gt: Option<i64>,
    cost_lt: Option<i64>,
    reviews_gt: RatingBound,
    reviews_lt: RatingBound,
    windows: Vec<DateRange>,
}

impl Default for SearchFilter {
    fn default() -> Self {
        Self {
            name_key: None,
            skills: Skills::default(),
            cost_gt: None,
            cost_lt: None,
            reviews_gt: RatingBound::MIN,
            reviews_lt: RatingBound::MAX,
            windows: Vec::new(),
        }
    }
}

impl SearchFilter {
    /// Most skills a search may list.
    pub const MAX_SKILLS: usize = 50;
    /// Most availability windows a search may list.
    pub const MAX_WINDOWS: usize = 20;

    /// Checks a search. The name holds no control character (checked as sent, before
    /// trimming, as [`ProviderName::new`] does), is trimmed (an empty one filters nothing) and
    /// may be at most as long as a name; skills follow the provider rules (at most 50); windows are valid
    /// ranges (at most 20); `cost_gt < cost_lt`; ratings bounds in 0..=5 with
    /// `reviews_gt <= reviews_lt`.
    ///
    /// # Errors
    /// A [`ValidationError`] naming every field at fault.
    pub fn parse(input: &SearchInput) -> Result<Self, ValidationError> {
        let mut errors = Collector::default();
        let name_key = input.name.as_deref().and_then(|raw| {
            if let Err(e) = refuse_control_characters(raw, &[]) {
                errors.push("name", e);
                return None;
            }
            let needle = raw.trim();
            let len = needle.chars().count();
            if len > ProviderName::MAX_CHARS {
                errors.push(
                    "name",
                    ValueError::TooLong {
                        max: ProviderName::MAX_CHARS,
                        actual: len,
                    },
                );
            }
            (len > 0).then(|| fold_case(needle))
        });
        let skills = parse_skills(
            &mut errors,
            "skills",
            input.skills.as_deref().unwrap_or_default(),
            Self::MAX_SKILLS,
        );
        if let (Some(gt), Some(lt)) = (input.cost_gt, input.cost_lt) {
            if gt >= lt {
                errors.push("cost_gt", ValueError::NotBelow { other: "cost_lt" });
            }
        }
        let reviews_gt = errors.check(
            || "reviews_gt".into(),
            input
                .reviews_gt
                .map_or(Ok(RatingBound::MIN), RatingBound::new),
        );
        let reviews_lt = errors.check(
            || "reviews_lt".into(),
            input
                .reviews_lt
                .map_or(Ok(RatingBound::MAX), RatingBound::new),
        );
        if let (Some(gt), Some(lt)) = (reviews_gt, reviews_lt) {
            if gt.value() > lt.value() {
                errors.push(
                    "reviews_gt",
                    ValueError::Above {
                        other: "reviews_lt",
                    },
                );
            }
        }
        let windows = parse_ranges(
            &mut errors,
            "availability",
            input.availability.as_deref().unwrap_or_default(),
            Self::MAX_WINDOWS,
        );
        errors.finish(|| Self {
            name_key,
            skills,
            cost_gt: input.cost_gt,
            cost_lt: input.cost_lt,
            reviews_gt: reviews_gt.unwrap_or(RatingBound::MIN),
            reviews_lt: reviews_lt.unwrap_or(RatingBound::MAX),
            windows,
        })
    }

    /// The lower-cased name needle, if the search filters by name.
    pub fn name_key(&self) -> Option<&str> {
        self.name_key.as_deref()
    }

    /// The skills asked for (empty: no skill filter).
    pub fn skills(&self) -> &Skills {
        &self.skills
    }

    /// Exclusive lower bound on the day rate.
    pub fn cost_gt(&self) -> Option<i64> {
        self.cost_gt
    }

    /// Exclusive upper bound on the day rate.
    pub fn cost_lt(&self) -> Option<i64> {
        self.cost_lt
    }

    /// Inclusive lower bound on the mean rating.
    pub fn reviews_gt(&self) -> RatingBound {
        self.reviews_gt
    }

    /// Inclusive upper bound on the mean rating.
    pub fn reviews_lt(&self) -> RatingBound {
        self.reviews_lt
    }

    /// Windows that each must hold at least one available day.
    pub fn windows(&self) -> &[DateRange] {
        &self.windows
    }

    /// True when the provider passes every part of the filter.
    pub fn matches(&self, provider: &Provider) -> bool {
        let cost = provider.cost.pence();
        let mean = provider.reviews.mean();
        self.name_key
            .as_deref()
            .is_none_or(|needle| provider.name.search_key().contains(needle))
            && (self.skills.is_empty()
                || self
                    .skills
                    .iter()
                    .any(|s| provider.skills.contains_key(s.key())))
            && self.cost_gt.is_none_or(|gt| cost > gt)
            && self.cost_lt.is_none_or(|lt| cost < lt)
            && self.reviews_gt.value() <= mean
            && mean <= self.reviews_lt.value()
            && self
                .windows
                .iter()
                .all(|w| provider.availability.has_day_in(w))
    }
}

/// The order search results are listed in by default: `cost_in_pence` descending, then mean
/// rating descending (compared exactly), then id ascending ([`SearchSort::CostDesc`]). A total
/// order: two distinct providers are never equal, so pages never repeat or skip one.
pub fn search_order(a: &Provider, b: &Provider) -> Ordering {
    SearchSort::CostDesc.compare(a, b)
}

//! The orders a search may list its providers in. Each is a total order over providers (the
//! id breaks every tie), so a page boundary is one point of the order: a page after it, a
//! cursor, holds exactly what follows that point.

use crate::error::ValueError;
use crate::ids::ProviderId;
use crate::provider::Provider;
use crate::stats::ReviewStats;
use crate::values::DayRate;
use std::cmp::Ordering;
use time::OffsetDateTime;

/// How a search orders its results. Every order ends with the id, so it is total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SearchSort {
    /// Day rate descending, then mean rating descending (exact), then id ascending: the v1.0
    /// order, and the default.
    #[default]
    CostDesc,
    /// Day rate ascending, then mean rating descending (exact), then id ascending.
    CostAsc,
    /// Confidence-weighted rating `(sum + 2.5 * 5) / (count + 5)` descending (exact, as
    /// [`ReviewStats::cmp_confidence`]), then review count descending, then id ascending.
    RatingDesc,
    /// Review count descending, then confidence-weighted rating descending (exact), then id
    /// ascending.
    ReviewsDesc,
    /// Creation time descending, then id descending.
    Newest,
}

impl SearchSort {
    /// Every order, in the order the API lists them.
    pub const ALL: [Self; 5] = [
        Self::CostDesc,
        Self::CostAsc,
        Self::RatingDesc,
        Self::ReviewsDesc,
        Self::Newest,
    ];

    /// The order named `name` (`cost_desc`, `cost_asc`, `rating_desc`, `reviews_desc`,
    /// `newest`; exact spelling).
    ///
    /// # Errors
    /// [`ValueError::NotOneOf`] for any other text.
    pub fn parse(name: &str) -> Result<Self, ValueError> {
        Self::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| ValueError::NotOneOf {
                allowed: Self::ALL.iter().map(|s| s.name()).collect(),
            })
    }

    /// The order's name in the API.
    pub fn name(self) -> &'static str {
        match self {
            Self::CostDesc => "cost_desc",
            Self::CostAsc => "cost_asc",
            Self::RatingDesc => "rating_desc",
            Self::ReviewsDesc => "reviews_desc",
            Self::Newest => "newest",
        }
    }

    /// The order's code in a cursor's bytes (stable: a cursor outlives a release).
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::CostDesc => 0,
            Self::CostAsc => 1,
            Self::RatingDesc => 2,
            Self::ReviewsDesc => 3,
            Self::Newest => 4,
        }
    }

    /// The order with code `code`, if any.
    pub(crate) fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Compares two providers in this order (`Less`: `a` is listed first).
    pub fn compare(self, a: &Provider, b: &Provider) -> Ordering {
        self.compare_keys(&SortKey::of(a), &SortKey::of(b))
    }

    /// Compares two sort keys in this order (`Less`: `a` is listed first). Keys of distinct
    /// providers are never `Equal`.
    pub fn compare_keys(self, a: &SortKey, b: &SortKey) -> Ordering {
        match self {
            Self::CostDesc => b
                .cost
                .cmp(&a.cost)
                .then_with(|| b.reviews.cmp_mean(&a.reviews))
                .then_with(|| a.id.cmp(&b.id)),
            Self::CostAsc => a
                .cost
                .cmp(&b.cost)
                .then_with(|| b.reviews.cmp_mean(&a.reviews))
                .then_with(|| a.id.cmp(&b.id)),
            Self::RatingDesc => b
                .reviews
                .cmp_confidence(&a.reviews)
                .then_with(|| b.reviews.count.cmp(&a.reviews.count))
                .then_with(|| a.id.cmp(&b.id)),
            Self::ReviewsDesc => b
                .reviews
                .count
                .cmp(&a.reviews.count)
                .then_with(|| b.reviews.cmp_confidence(&a.reviews))
                .then_with(|| a.id.cmp(&b.id)),
            Self::Newest => b
                .created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id)),
        }
    }

    /// True when `provider` is listed after the point `last` in this order: what the page
    /// after a cursor made at `last` may hold.
    pub fn is_after(self, provider: &Provider, last: &SortKey) -> bool {
        self.compare_keys(&SortKey::of(provider), last) == Ordering::Greater
    }
}

/// What every search order reads of a provider: a point in any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortKey {
    /// Day rate.
    pub cost: DayRate,
    /// Review count and rating sum.
    pub reviews: ReviewStats,
    /// When the provider was created.
    pub created_at: OffsetDateTime,
    /// Its id.
    pub id: ProviderId,
}

impl SortKey {
    /// The provider's key.
    pub fn of(provider: &Provider) -> Self {
        Self {
            cost: provider.cost,
            reviews: provider.reviews,
            created_at: provider.created_at,
            id: provider.id,
        }
    }
}

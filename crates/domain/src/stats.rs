//! Review statistics: a count and a sum of ratings, kept exactly, and the orders on them that
//! search and recommend use. Both a provider's overall figures and its per-skill figures are
//! one of these.

use crate::values::Rating;
use std::cmp::Ordering;

/// How a provider has been reviewed: the count and the sum of ratings in tenths, kept exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReviewStats {
    /// Number of reviews.
    pub count: u64,
    /// Sum of all ratings, in tenths (a 4.5 adds 45).
    pub sum_tenths: u64,
}

impl ReviewStats {
    /// Stats after one more review.
    #[must_use]
    pub fn with(self, rating: Rating) -> Self {
        Self {
            count: self.count + 1,
            sum_tenths: self.sum_tenths + u64::from(rating.tenths()),
        }
    }

    /// Both figures added: ratings pooled from two sources (several skills' figures).
    #[must_use]
    pub fn plus(self, other: Self) -> Self {
        Self {
            count: self.count + other.count,
            sum_tenths: self.sum_tenths + other.sum_tenths,
        }
    }

    /// The plain mean rating, `0.0` with no reviews. Computed as one division,
    /// `sum_tenths / (10 * count)`, so every store that divides the same two integers in IEEE
    /// double precision gets the same value.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            // In u128 so that no count overflows; the same two integers are divided.
            self.sum_tenths as f64 / (u128::from(self.count) * 10) as f64
        }
    }

    /// Compares plain means exactly (cross-multiplied integers); no reviews counts as 0.0.
    pub fn cmp_mean(&self, other: &Self) -> Ordering {
        let (a_sum, a_count) = (u128::from(self.sum_tenths), u128::from(self.count.max(1)));
        let (b_sum, b_count) = (u128::from(other.sum_tenths), u128::from(other.count.max(1)));
        (a_sum * b_count).cmp(&(b_sum * a_count))
    }

    /// The confidence-weighted rating `(rating_sum + 2.5 * 5) / (review_count + 5)`, as a
    /// double (for display and for stores that order by it).
    pub fn confidence(&self) -> f64 {
        (u128::from(self.sum_tenths) + 125) as f64 / ((u128::from(self.count) + 5) * 10) as f64
    }

    /// Compares confidence-weighted ratings exactly. In tenths the score is
    /// `(sum_tenths + 125) / (10 * (count + 5))`; the common factor 10 cancels, leaving
    /// `(sum_tenths + 125) * (other.count + 5)` against `(other.sum_tenths + 125) * (count + 5)`.
    pub fn cmp_confidence(&self, other: &Self) -> Ordering {
        // In u128: each factor is below 2^65, so neither the sums nor the product overflow.
        let a = (u128::from(self.sum_tenths) + 125) * (u128::from(other.count) + 5);
        let b = (u128::from(other.sum_tenths) + 125) * (u128::from(self.count) + 5);
        a.cmp(&b)
    }
}

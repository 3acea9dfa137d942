//! Cursors: where the next page of a list begins, as a value with a byte encoding of its own.
//!
//! A cursor holds the sort key of the last item a page showed, the order, and a `scope`: a
//! fingerprint of what the list was for (the filter of a search, the provider of a review
//! list), made by whoever pages the list. The bytes carry a version, so a later release can
//! read or refuse what an earlier one wrote. Nothing here keeps a client from changing them:
//! the layer that hands cursors out seals the bytes with an integrity check and opens them
//! before they come back here.

use crate::error::CursorError;
use crate::ids::{ProviderId, ReviewId};
use crate::provider::Review;
use crate::sort::{SearchSort, SortKey};
use crate::stats::ReviewStats;
use crate::values::DayRate;
use time::OffsetDateTime;

/// Where a list's next page begins: the last item shown, in the list's own terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorPosition {
    /// A search in `sort`, after the provider whose key is `last`.
    Search {
        /// The order of the search.
        sort: SearchSort,
        /// The sort key of the last provider shown.
        last: SortKey,
    },
    /// A provider's reviews, newest first ([`Review::newest_first`]), after the review written
    /// at `created_at` with id `id`.
    Reviews {
        /// When the last review shown was written.
        created_at: OffsetDateTime,
        /// Its id.
        id: ReviewId,
    },
}

impl CursorPosition {
    /// The position after `review` in a review list.
    pub fn after_review(review: &Review) -> Self {
        Self::Reviews {
            created_at: review.created_at,
            id: review.id,
        }
    }
}

/// A cursor: a position and the fingerprint of the list it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Where the next page begins.
    pub position: CursorPosition,
    /// A fingerprint of what the list was for (the filter of a search, the provider of a
    /// review list); compared, never read.
    pub scope: [u8; 16],
}

const SEARCH: u8 = 1;
const REVIEWS: u8 = 2;

impl Cursor {
    /// The version of the byte encoding [`Cursor::to_bytes`] writes.
    pub const VERSION: u8 = 1;

    /// The scope of a review list: the provider's id.
    pub fn review_scope(provider: ProviderId) -> [u8; 16] {
        provider.as_uuid().into_bytes()
    }

    /// The cursor as bytes: the version, the kind of list, the scope, then the position
    /// (integers big-endian, times in nanoseconds since 1970).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(80);
        out.push(Self::VERSION);
        match self.position {
            CursorPosition::Search { sort, last } => {
                out.push(SEARCH);
                out.extend_from_slice(&self.scope);
                out.push(sort.code());
                out.extend_from_slice(&last.cost.pence().to_be_bytes());
                out.extend_from_slice(&last.reviews.count.to_be_bytes());
                out.extend_from_slice(&last.reviews.sum_tenths.to_be_bytes());
                out.extend_from_slice(&last.created_at.unix_timestamp_nanos().to_be_bytes());
                out.extend_from_slice(last.id.as_uuid().as_bytes());
            }
            CursorPosition::Reviews { created_at, id } => {
                out.push(REVIEWS);
                out.extend_from_slice(&self.scope);
                out.extend_from_slice(&created_at.unix_timestamp_nanos().to_be_bytes());
                out.extend_from_slice(id.as_uuid().as_bytes());
            }
        }
        out
    }

    /// Reads [`Cursor::to_bytes`]'s encoding back.
    ///
    /// # Errors
    /// [`CursorError::UnknownVersion`] for another version; [`CursorError::Damaged`] when the
    /// bytes are not a whole cursor of this version holding values that can exist (a day rate
    /// in range, a rating sum a review count allows, a representable time).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CursorError> {
        let mut r = Reader(bytes);
        if r.take::<1>()?[0] != Self::VERSION {
            return Err(CursorError::UnknownVersion);
        }
        let kind = r.take::<1>()?[0];
        let scope = r.take::<16>()?;
        let position = match kind {
            SEARCH => {
                let sort = SearchSort::from_code(r.take::<1>()?[0]).ok_or(CursorError::Damaged)?;
                let cost = DayRate::new(i64::from_be_bytes(r.take()?))
                    .map_err(|_| CursorError::Damaged)?;
                let count = u64::from_be_bytes(r.take()?);
                let sum_tenths = u64::from_be_bytes(r.take()?);
                if u128::from(sum_tenths) > 50 * u128::from(count) {
                    return Err(CursorError::Damaged);
                }
                let created_at = r.time()?;
                let id = ProviderId::from_uuid(uuid::Uuid::from_bytes(r.take()?));
                CursorPosition::Search {
                    sort,
                    last: SortKey {
                        cost,
                        reviews: ReviewStats { count, sum_tenths },
                        created_at,
                        id,
                    },
                }
            }
            REVIEWS => CursorPosition::Reviews {
                created_at: r.time()?,
                id: ReviewId::from_uuid(uuid::Uuid::from_bytes(r.take()?)),
            },
            _ => return Err(CursorError::Damaged),
        };
        if !r.0.is_empty() {
            return Err(CursorError::Damaged);
        }
        Ok(Self { position, scope })
    }

    /// The last key of a search cursor, when it was made for a search with this `scope` in
    /// this `sort`.
    ///
    /// # Errors
    /// [`CursorError::OtherList`], [`CursorError::OtherScope`] or [`CursorError::OtherSort`].
    pub fn search_key(&self, scope: &[u8; 16], sort: SearchSort) -> Result<SortKey, CursorError> {
        match self.position {
            CursorPosition::Search { .. } if self.scope != *scope => Err(CursorError::OtherScope),
            CursorPosition::Search { sort: made, .. } if made != sort => {
                Err(CursorError::OtherSort)
            }
            CursorPosition::Search { last, .. } => Ok(last),
            CursorPosition::Reviews { .. } => Err(CursorError::OtherList),
        }
    }

    /// The last review's time and id of a review-list cursor, when it was made for the reviews
    /// of `provider`.
    ///
    /// # Errors
    /// [`CursorError::OtherList`] or [`CursorError::OtherScope`].
    pub fn review_key(
        &self,
        provider: ProviderId,
    ) -> Result<(OffsetDateTime, ReviewId), CursorError> {
        match self.position {
            CursorPosition::Reviews { .. } if self.scope != Self::review_scope(provider) => {
                Err(CursorError::OtherScope)
            }
            CursorPosition::Reviews { created_at, id } => Ok((created_at, id)),
            CursorPosition::Search { .. } => Err(CursorError::OtherList),
        }
    }
}

/// Reads fixed-size fields off the front of a byte string.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], CursorError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(CursorError::Damaged)?;
        self.0 = rest;
        Ok(*head)
    }

    fn time(&mut self) -> Result<OffsetDateTime, CursorError> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from_be_bytes(self.take()?))
            .map_err(|_| CursorError::Damaged)
    }
}

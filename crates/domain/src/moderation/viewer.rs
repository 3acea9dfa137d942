//! Who asks, and what they may see: a review that is not published is seen by its author and
//! by moderators only (anyone else is told it does not exist, never that it is forbidden); a
//! reply that is not published, by the provider's owner and by moderators only.

use super::status::ReviewStatus;
use crate::ids::UserId;

/// An identified caller: their id, and whether they are a moderator (listed in
/// `MODERATOR_IDS`, or holding the `moderator` role in their token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Caller {
    /// The caller's user id.
    pub id: UserId,
    /// True when the caller is a moderator.
    pub moderator: bool,
}

impl Caller {
    /// A caller who is not a moderator.
    pub const fn user(id: UserId) -> Self {
        Self {
            id,
            moderator: false,
        }
    }

    /// A moderator.
    pub const fn moderator(id: UserId) -> Self {
        Self {
            id,
            moderator: true,
        }
    }
}

/// How a caller stands to one review. The roles may overlap (a moderator may have written the
/// review); an anonymous caller has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Viewer {
    /// The caller wrote the review.
    pub author: bool,
    /// The caller owns the provider reviewed.
    pub owner: bool,
    /// The caller is a moderator.
    pub moderator: bool,
}

impl Viewer {
    /// How `caller` (`None`: anonymous) stands to a review written by `author` of a provider
    /// owned by `owner`.
    pub fn of(caller: Option<&Caller>, author: UserId, owner: UserId) -> Self {
        caller.map_or_else(Self::default, |c| Self {
            author: c.id == author,
            owner: c.id == owner,
            moderator: c.moderator,
        })
    }
}

/// True when `viewer` may see a review whose status is `status`: anyone a published one; only
/// its author and moderators a pending or hidden one (404 to anyone else, never 403).
pub fn can_see(status: ReviewStatus, viewer: Viewer) -> bool {
    status == ReviewStatus::Published || viewer.author || viewer.moderator
}

/// True when `viewer` may see a provider's reply whose status is `status`: anyone a published
/// one; only the provider's owner and moderators one that is pending or hidden (it is `null`
/// to everyone else).
pub fn can_see_reply(status: ReviewStatus, viewer: Viewer) -> bool {
    status == ReviewStatus::Published || viewer.owner || viewer.moderator
}

//! Why the state machine refuses an operation, and which answer the contract gives for it.

/// How the contract answers a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalKind {
    /// 404: the review (or its reply) is not there for this caller.
    NotFound,
    /// 403: the caller is known and may see the review, but may not do this.
    Forbidden,
    /// 409: the review's state does not allow it now.
    Conflict,
}

/// An operation the contract refuses. A refused operation changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ModerationError {
    /// The caller cannot see the review, or is not who the operation is for (the author for an
    /// edit, a withdrawal or an appeal; the provider's owner for a reply): 404, never 403.
    #[error("the review does not exist")]
    NotFound,
    /// A decision on, or removal of, a reply the review does not have: 404.
    #[error("the review has no reply")]
    NoReply,
    /// The author flagged their own review: 403.
    #[error("the author of a review cannot flag it")]
    OwnReview,
    /// A moderation route called by someone who is not a moderator: 403.
    #[error("only a moderator may do this")]
    NotAModerator,
    /// A moderator deciding an open appeal against their own decision: 403.
    #[error("an appeal is decided by a moderator other than the one whose decision it contests")]
    OwnDecision,
    /// The caller already has an open flag on the review: 409.
    #[error("the caller already has an open flag on this review")]
    AlreadyFlagged,
    /// An appeal of a review that no moderator's decision hides: 409.
    #[error("the review is not hidden by a moderator's decision: there is nothing to appeal")]
    NothingToAppeal,
    /// An appeal of a decision that was already appealed: 409.
    #[error("the latest decision was already appealed")]
    AlreadyAppealed,
}

impl ModerationError {
    /// How the contract answers it.
    pub const fn kind(self) -> RefusalKind {
        match self {
            Self::NotFound | Self::NoReply => RefusalKind::NotFound,
            Self::OwnReview | Self::NotAModerator | Self::OwnDecision => RefusalKind::Forbidden,
            Self::AlreadyFlagged | Self::NothingToAppeal | Self::AlreadyAppealed => {
                RefusalKind::Conflict
            }
        }
    }
}

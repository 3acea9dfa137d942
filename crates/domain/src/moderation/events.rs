//! The history of a review: one event per thing that happened to it, oldest first and never
//! rewritten. No event holds the text of a review, a reply, a flag's explanation or an appeal,
//! so that withdrawing a review leaves no text behind; details hold reasons, rules, statements
//! and actions.

use super::requests::{DecisionAction, DecisionTarget, FlagReason};
use super::status::{FlagStatus, Reason, ReviewStatus};
use super::text::{DecisionRule, Statement};
use crate::ids::UserId;
use time::OffsetDateTime;

/// One event of a review's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When it happened.
    pub at: OffsetDateTime,
    /// Who did it; `None` when it was automatic (a screen's or flags' hold).
    pub by: Option<UserId>,
    /// What happened.
    pub detail: EventDetail,
}

/// What happened, with the details the history shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventDetail {
    /// The author wrote the review; `status` is where it stood after the screen.
    Submitted {
        /// `published` or `pending`.
        status: ReviewStatus,
    },
    /// An automated hold: the review (or its reply) waits for a person.
    Held {
        /// The review or its reply.
        target: DecisionTarget,
        /// Every reason that applies, in the contract's order.
        reasons: Vec<Reason>,
        /// The hold's rule: the first of `reasons`.
        rule: Reason,
    },
    /// A user flagged the review.
    Flagged {
        /// The flag's reason (its explanation is not kept here).
        reason: FlagReason,
    },
    /// A moderator decided.
    Decided {
        /// The review or its reply.
        target: DecisionTarget,
        /// Publish or hide.
        action: DecisionAction,
        /// The policy rule applied.
        rule: DecisionRule,
        /// The statement of reasons.
        statement: Statement,
        /// What became of the open flags: upheld or rejected (`None` for a reply).
        flags: Option<FlagStatus>,
        /// True when the decision closed an open appeal.
        appeal_decided: bool,
    },
    /// The author appealed the decision that hid the review.
    Appealed,
    /// The author edited the review; `status` and `reasons` are where it stands after.
    Edited {
        /// Where it stands after the edit.
        status: ReviewStatus,
        /// Why it waits, when it does.
        reasons: Vec<Reason>,
    },
    /// The author withdrew the review.
    Withdrawn,
    /// The provider's owner set the reply (`Some`: where it stands after its screen) or
    /// removed it (`None`).
    Replied {
        /// Where the reply stands, `None` once removed.
        status: Option<ReviewStatus>,
    },
}

impl EventDetail {
    /// The contract's name: `submitted`, `held`, `flagged`, `decided`, `appealed`, `edited`,
    /// `withdrawn` or `replied`.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Submitted { .. } => "submitted",
            Self::Held { .. } => "held",
            Self::Flagged { .. } => "flagged",
            Self::Decided { .. } => "decided",
            Self::Appealed => "appealed",
            Self::Edited { .. } => "edited",
            Self::Withdrawn => "withdrawn",
            Self::Replied { .. } => "replied",
        }
    }
}

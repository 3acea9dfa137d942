//! Where a review stands (`published`, `pending`, `hidden`) and the reasons it waits for a
//! person.

use std::fmt;

/// Where a review (or a provider's reply to it) stands. Only a published review counts in its
/// provider's figures; a pending or a hidden one is seen by its author and moderators only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReviewStatus {
    /// Anyone sees it and it counts.
    Published,
    /// Held for a moderator: it does not count.
    Pending,
    /// A moderator decided it breaks a rule: it does not count.
    Hidden,
}

impl ReviewStatus {
    /// Every status, in the contract's order.
    pub const ALL: [Self; 3] = [Self::Published, Self::Pending, Self::Hidden];

    /// The contract's name: `published`, `pending` or `hidden`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Pending => "pending",
            Self::Hidden => "hidden",
        }
    }

    /// The status named `name` (as [`Self::as_str`] writes it), if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// True for [`Self::Published`]: the one status that counts in a provider's figures.
    pub const fn counts(self) -> bool {
        matches!(self, Self::Published)
    }
}

impl fmt::Display for ReviewStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a review waits in the moderation queue. Declared (and ordered) as the contract lists
/// them: the screen's reasons first, in the order the first one that applies names an
/// automated hold's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// A term of the operator's list (screen).
    BlockedTerm,
    /// Profanity (screen).
    Profanity,
    /// A link (screen).
    Link,
    /// An e-mail address or a phone number (screen).
    ContactDetails,
    /// Every review with a comment waits for a person (screen, `MODERATION_PUBLISH=manual`).
    Manual,
    /// Enough distinct users flagged it while it was published.
    Flagged,
    /// Its author appealed the decision that hid it.
    Appeal,
    /// Its author edited it while it was hidden: a person decides again.
    Edited,
    /// The provider's reply to it waits.
    Reply,
}

impl Reason {
    /// Every reason, in the contract's order.
    pub const ALL: [Self; 9] = [
        Self::BlockedTerm,
        Self::Profanity,
        Self::Link,
        Self::ContactDetails,
        Self::Manual,
        Self::Flagged,
        Self::Appeal,
        Self::Edited,
        Self::Reply,
    ];

    /// The contract's name: `blocked_term`, `profanity`, `link`, `contact_details`, `manual`,
    /// `flagged`, `appeal`, `edited` or `reply`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BlockedTerm => "blocked_term",
            Self::Profanity => "profanity",
            Self::Link => "link",
            Self::ContactDetails => "contact_details",
            Self::Manual => "manual",
            Self::Flagged => "flagged",
            Self::Appeal => "appeal",
            Self::Edited => "edited",
            Self::Reply => "reply",
        }
    }

    /// The reason named `name` (as [`Self::as_str`] writes it), if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// True for the reasons the screen finds in a text (`blocked_term` to `manual`).
    pub const fn is_screen(self) -> bool {
        matches!(
            self,
            Self::BlockedTerm | Self::Profanity | Self::Link | Self::ContactDetails | Self::Manual
        )
    }

    /// True for the reasons that keep an edited review pending whatever its new text: a
    /// person has to look at it (`manual`, `flagged`, `appeal`, `edited`).
    pub const fn needs_a_person(self) -> bool {
        matches!(
            self,
            Self::Manual | Self::Flagged | Self::Appeal | Self::Edited
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a flag stands: open until a decision on the review resolves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagStatus {
    /// No decision on the review since it was raised.
    Open,
    /// The review was hidden.
    Upheld,
    /// The review was published.
    Rejected,
}

impl FlagStatus {
    /// Every status, in declaration order.
    pub const ALL: [Self; 3] = [Self::Open, Self::Upheld, Self::Rejected];

    /// The status its contract name names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The contract's name: `open`, `upheld` or `rejected`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Upheld => "upheld",
            Self::Rejected => "rejected",
        }
    }
}

/// Where an appeal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppealStatus {
    /// Waiting for a moderator other than the one whose decision it contests.
    Open,
    /// A moderator decided the review since.
    Decided,
}

impl AppealStatus {
    /// Every status, in declaration order.
    pub const ALL: [Self; 2] = [Self::Open, Self::Decided];

    /// The status its contract name names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The contract's name: `open` or `decided`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Decided => "decided",
        }
    }
}

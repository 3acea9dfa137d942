//! Moderation of reviews (docs/API.md, v1.2 "Reviews a marketplace can publish"): a review's
//! status and the state machine of its operations, the screen at submission, the checked
//! requests of flags, decisions, appeals and replies, and the one rule every figure of a
//! provider comes from: only published reviews count.
//!
//! The screen uses `rustrict` (profanity) and `unicode-normalization` (NFKC) beside the
//! domain's usual crates: the screen is a pure function of a text and the settings, and both
//! crates are pure too (no I/O, clock, randomness or async).
//!
//! | module | holds |
//! | --- | --- |
//! | `status` | [`ReviewStatus`], [`Reason`], [`FlagStatus`], [`AppealStatus`] |
//! | `viewer` | [`Caller`], [`Viewer`], [`can_see`], [`can_see_reply`] |
//! | `text` | the checked texts: [`FlagExplanation`], [`DecisionRule`], [`Statement`], [`AppealExplanation`], [`ReplyText`] |
//! | `requests` | the `*Input`s and their checked `*Request`s |
//! | `screen` | [`screen`], [`ScreenSettings`], [`Blocklist`], [`PublishMode`] |
//! | `figures` | [`figures`], [`Figures`], [`FiguresDelta`], [`FiguresChange`] |
//! | `events` | [`Event`], [`EventDetail`] |
//! | `refusal` | [`ModerationError`], [`RefusalKind`] |
//! | `state` | [`Moderation`] and its operations, [`Transition`], [`ModerationSettings`] |

mod events;
mod figures;
mod refusal;
mod requests;
mod screen;
mod state;
mod status;
mod text;
mod viewer;

pub use events::{Event, EventDetail};
pub use figures::{figures, Contribution, Figures, FiguresChange, FiguresDelta, StatsDelta};
pub use refusal::{ModerationError, RefusalKind};
pub use requests::{
    AppealInput, AppealRequest, DecisionAction, DecisionInput, DecisionRequest, DecisionTarget,
    FlagInput, FlagReason, FlagRequest, ReplyInput, ReplyRequest,
};
pub use screen::{screen, Blocklist, PublishMode, ScreenSettings};
pub use state::{Appeal, Decision, Moderation, ModerationSettings, Reply, Transition, Withdrawal};
pub use status::{AppealStatus, FlagStatus, Reason, ReviewStatus};
pub use text::{AppealExplanation, DecisionRule, FlagExplanation, ReplyText, Statement};
pub use viewer::{can_see, can_see_reply, Caller, Viewer};

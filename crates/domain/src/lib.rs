#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod cursor;
mod dates;
mod error;
mod ids;
mod moderation;
mod provider;
mod recommend;
mod search;
mod skill_rating;
mod sort;
mod stats;
mod values;

pub use cursor::{Cursor, CursorPosition};
pub use dates::{check_date, parse_date, Availability, DateRange, MAX_DATE, MIN_DATE};
pub use error::{CursorError, FieldError, ValidationError, ValueError};
pub use ids::{FlagId, ProviderId, ReviewId, UserId};
pub use moderation::{
    can_see, can_see_reply, figures, screen, Appeal, AppealExplanation, AppealInput, AppealRequest,
    AppealStatus, Blocklist, Caller, Contribution, Decision, DecisionAction, DecisionInput,
    DecisionRequest, DecisionRule, DecisionTarget, Event, EventDetail, Figures, FiguresChange,
    FiguresDelta, FlagExplanation, FlagInput, FlagReason, FlagRequest, FlagStatus, Moderation,
    ModerationError, ModerationSettings, PublishMode, Reason, RefusalKind, Reply, ReplyInput,
    ReplyRequest, ReplyText, ReviewStatus, ScreenSettings, Statement, StatsDelta, Transition,
    Viewer, Withdrawal,
};
pub use provider::{Provider, ProviderDraft, ProviderInput, RangeInput, Review};
pub use recommend::{recommendation_order, JobInput, JobRequest, Recommendation};
pub use search::{search_order, SearchFilter, SearchInput};
pub use skill_rating::{SkillRating, SkillRatingInput, SkillReviews};
pub use sort::{SearchSort, SortKey};
pub use stats::ReviewStats;
pub use values::{fold_case, Comment, DayRate, ProviderName, Rating, RatingBound, Skill, Skills};

/// Re-exported so users can build dates without naming `time` themselves.
pub use time::Date;

//! The domain of the Service Provider marketplace: validated values, availability arithmetic,
//! the search filter and its order, and the recommendation rules and ranking.
//!
//! Pure: no I/O, no clock, no randomness, no async. Every constructor validates, so a value of
//! these types is valid by construction; the `*Input` structs carry what a client wrote, and
//! their `parse` functions report every field at fault with its path in the request.
//!
//! ```
//! use provider_domain::{ProviderDraft, ProviderInput, RangeInput};
//!
//! let draft = ProviderDraft::parse(&ProviderInput {
//!     name: "  SEO Incorporated ".into(),
//!     skills: vec!["SEO".into(), "seo".into(), "Cold Calling".into()],
//!     cost_in_pence: 25_000,
//!     availability: vec![RangeInput { from_date: "2027-11-12".into(), to_date: "2027-12-28".into() }],
//! })
//! .unwrap();
//! assert_eq!(draft.name.as_str(), "SEO Incorporated");
//! assert_eq!(draft.skills.len(), 2);
//! ```

mod dates;
mod error;
mod ids;
mod moderation;
mod provider;
mod recommend;
mod search;
mod skill_rating;
mod stats;
mod values;

pub use dates::{check_date, parse_date, Availability, DateRange, MAX_DATE, MIN_DATE};
pub use error::{FieldError, ValidationError, ValueError};
pub use ids::{ProviderId, ReviewId, UserId};
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
pub use stats::ReviewStats;
pub use values::{fold_case, Comment, DayRate, ProviderName, Rating, RatingBound, Skill, Skills};

/// Re-exported so users can build dates without naming `time` themselves.
pub use time::Date;

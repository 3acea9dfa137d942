//! The bodies of moderation: a review's status and reply, flags, decisions, appeals, the queue,
//! the history and the statement of reasons.

use super::review::{rfc3339, ReviewDto, StatusDto};
use crate::schema;
use provider_domain::{
    AppealInput, AppealStatus, Decision, DecisionAction, DecisionInput, DecisionTarget, Event,
    FlagInput, FlagReason, FlagStatus, Reason, ReplyInput, Viewer,
};
use provider_ports::{event_detail_json, Page, PageOf, StoredFlag, StoredReview};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// Why a review is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FlagReasonDto {
    /// Advertising, or text that is no review.
    Spam,
    /// Offensive words.
    Offensive,
    /// Not written by a real client of the provider.
    Fake,
    /// Someone's personal data.
    PersonalData,
    /// Against the law (`explanation` required).
    Illegal,
    /// Anything else (`explanation` required).
    Other,
}

impl From<FlagReasonDto> for FlagReason {
    fn from(reason: FlagReasonDto) -> Self {
        match reason {
            FlagReasonDto::Spam => Self::Spam,
            FlagReasonDto::Offensive => Self::Offensive,
            FlagReasonDto::Fake => Self::Fake,
            FlagReasonDto::PersonalData => Self::PersonalData,
            FlagReasonDto::Illegal => Self::Illegal,
            FlagReasonDto::Other => Self::Other,
        }
    }
}

/// A flag as a client raises it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FlagInput, example = json!({"reason": "spam"}))]
pub(crate) struct FlagBody {
    /// Why.
    pub reason: FlagReasonDto,
    /// 1..=1000 characters after trimming; required for `illegal` and `other` (422
    /// otherwise).
    #[schema(schema_with = schema::flag_explanation)]
    pub explanation: Option<String>,
}

impl From<FlagBody> for FlagInput {
    fn from(body: FlagBody) -> Self {
        Self {
            reason: body.reason.into(),
            explanation: body.explanation,
        }
    }
}

/// A flag's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FlagStatusDto {
    /// Waiting for a decision on the review.
    Open,
    /// The review was hidden.
    Upheld,
    /// The review was published.
    Rejected,
}

/// A flag raised on a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Flag)]
pub(crate) struct FlagDto {
    /// Its id.
    pub id: Uuid,
    /// The flagged review.
    pub review_id: Uuid,
    /// Why.
    pub reason: String,
    /// The flagger's explanation, `null` when none was given.
    #[schema(required = true)]
    pub explanation: Option<String>,
    /// `open` until a decision on the review resolves it.
    pub status: FlagStatusDto,
    /// When it was raised (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&StoredFlag> for FlagDto {
    fn from(flag: &StoredFlag) -> Self {
        Self {
            id: flag.id.as_uuid(),
            review_id: flag.review_id.as_uuid(),
            reason: flag.reason.as_str().to_owned(),
            explanation: flag.explanation.as_ref().map(|e| e.as_str().to_owned()),
            status: match flag.status {
                FlagStatus::Open => FlagStatusDto::Open,
                FlagStatus::Upheld => FlagStatusDto::Upheld,
                FlagStatus::Rejected => FlagStatusDto::Rejected,
            },
            created_at: rfc3339(flag.created_at),
        }
    }
}

/// What a moderator decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ActionDto {
    /// Anyone sees it; a review counts.
    Publish,
    /// Only its author (a reply: the owner) and moderators see it.
    Hide,
}

/// What a decision applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TargetDto {
    /// The review (resolves its open flags).
    Review,
    /// Its reply (resolves no flag).
    Reply,
}

/// A moderator's decision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DecisionInput, example = json!({
    "action": "hide",
    "rule": "3.2 contact details",
    "statement": "The comment gives a phone number to book off the platform."
}))]
pub(crate) struct DecisionBody {
    /// Publish or hide.
    pub action: ActionDto,
    /// The policy rule applied: 1..=100 characters after trimming.
    #[schema(schema_with = schema::decision_rule)]
    pub rule: String,
    /// The reasons, shown to the author: 1..=2000 characters after trimming.
    #[schema(schema_with = schema::statement)]
    pub statement: String,
    /// `review` (absent) or `reply`.
    pub target: Option<TargetDto>,
}

impl From<DecisionBody> for DecisionInput {
    fn from(body: DecisionBody) -> Self {
        Self {
            action: match body.action {
                ActionDto::Publish => DecisionAction::Publish,
                ActionDto::Hide => DecisionAction::Hide,
            },
            rule: body.rule,
            statement: body.statement,
            target: match body.target {
                None | Some(TargetDto::Review) => DecisionTarget::Review,
                Some(TargetDto::Reply) => DecisionTarget::Reply,
            },
        }
    }
}

/// The author's appeal against a moderator's decision to hide their review.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AppealInput, example = json!({"explanation": "The number was the provider's public office line."}))]
pub(crate) struct AppealBody {
    /// Why the decision is wrong: 1..=2000 characters after trimming.
    #[schema(schema_with = schema::statement)]
    pub explanation: String,
}

impl From<AppealBody> for AppealInput {
    fn from(body: AppealBody) -> Self {
        Self {
            explanation: body.explanation,
        }
    }
}

/// The provider's reply as its owner writes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReplyInput, example = json!({"text": "Thank you, it was a pleasure."}))]
pub(crate) struct ReplyBody {
    /// 1..=2000 characters after trimming; screened like a comment.
    #[schema(schema_with = schema::statement)]
    pub text: String,
}

impl From<ReplyBody> for ReplyInput {
    fn from(body: ReplyBody) -> Self {
        Self { text: body.text }
    }
}

/// Open flags on a queued review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct QueueFlags {
    /// How many are open.
    pub open: usize,
    /// How many are open, by reason (reasons without one are left out).
    pub by_reason: BTreeMap<String, usize>,
}

/// A review awaiting a decision.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct QueueItem {
    /// The review, as moderators see it.
    pub review: ReviewDto,
    /// Every reason it waits: `blocked_term`, `profanity`, `link`, `contact_details`,
    /// `manual`, `flagged`, `appeal`, `edited`, `reply`.
    pub reasons: Vec<String>,
    /// Its open flags.
    pub flags: QueueFlags,
    /// When it entered the queue (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub queued_at: String,
}

impl QueueItem {
    fn new(stored: &StoredReview) -> Self {
        let by_reason: BTreeMap<String, usize> = stored
            .moderation
            .flags_by_reason()
            .into_iter()
            .map(|(reason, n)| (reason.as_str().to_owned(), n))
            .collect();
        Self {
            review: ReviewDto::seen_by(stored, moderator()),
            reasons: stored
                .moderation
                .queue_reasons()
                .into_iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            flags: QueueFlags {
                open: stored.moderation.flags.len(),
                by_reason,
            },
            queued_at: stored.queued_at.map_or_else(String::new, rfc3339),
        }
    }
}

fn moderator() -> Viewer {
    Viewer {
        moderator: true,
        ..Viewer::default()
    }
}

/// One page of the moderation queue, longest waiting first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct QueuePage {
    /// The reviews awaiting a decision on this page.
    pub items: Vec<QueueItem>,
    /// This page's number, from 1.
    pub page: u32,
    /// The page size asked for.
    pub page_size: u32,
    /// True when later pages hold more.
    pub has_more: bool,
}

impl QueuePage {
    pub(crate) fn new(page: Page, found: &PageOf<StoredReview>) -> Self {
        Self {
            items: found.items.iter().map(QueueItem::new).collect(),
            page: page.number(),
            page_size: page.size(),
            has_more: found.has_more,
        }
    }
}

/// One event of a review's history.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct EventDto {
    /// `submitted`, `held`, `flagged`, `decided`, `appealed`, `edited`, `withdrawn` or
    /// `replied`.
    pub event: String,
    /// When (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub at: String,
    /// Who: a user id, or `null` for an automated step (a hold).
    #[schema(required = true)]
    pub by: Option<Uuid>,
    /// What: reasons, rules, statements and actions; never the text of a review, reply, flag
    /// explanation or appeal.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// A review's history, oldest first and never rewritten.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct History {
    /// Every event.
    pub events: Vec<EventDto>,
}

impl History {
    pub(crate) fn new(events: &[Event]) -> Self {
        Self {
            events: events
                .iter()
                .map(|e| EventDto {
                    event: e.detail.name().to_owned(),
                    at: rfc3339(e.at),
                    by: e.by.map(|u| u.as_uuid()),
                    detail: event_detail_json(&e.detail),
                })
                .collect(),
        }
    }
}

/// The latest decision on a review, as its author is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct DecisionDto {
    /// `hold` (automated: the review waits for a person), `publish` or `hide`.
    pub action: String,
    /// The rule applied; for a hold, the first reason that applied.
    pub rule: String,
    /// The reasons.
    pub statement: String,
    /// True for an automated hold.
    pub automated: bool,
    /// When (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub decided_at: String,
}

/// The author's latest appeal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct AppealDto {
    /// What the author wrote.
    pub explanation: String,
    /// `open` until a moderator decides, then `decided`.
    pub status: String,
    /// When it was made (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// The statement of reasons: where a review stands and why, for its author and moderators.
/// The deciding moderator is never named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ModerationStatement)]
pub(crate) struct StatementDto {
    /// The review's status.
    pub status: StatusDto,
    /// The latest decision; `null` for a review published at once.
    #[schema(required = true)]
    pub decision: Option<DecisionDto>,
    /// The latest appeal; `null` when none.
    #[schema(required = true)]
    pub appeal: Option<AppealDto>,
    /// True when its author may appeal now.
    pub can_appeal: bool,
}

/// What an automated hold's statement says: the review waits for a person, and why in general
/// terms (never which term matched).
fn hold_statement(rule: Reason) -> String {
    let why = match rule {
        Reason::BlockedTerm => "it contains a term this marketplace reviews before publishing",
        Reason::Profanity => "it may contain profanity",
        Reason::Link => "it contains a link",
        Reason::ContactDetails => {
            "it contains contact details (an e-mail address or a phone number)"
        }
        Reason::Manual => "every review with a comment is read by a person before it is published",
        Reason::Flagged => "several users flagged it",
        Reason::Appeal | Reason::Edited | Reason::Reply => "it waits for a moderator",
    };
    format!("The review waits for a moderator's decision: {why}.")
}

impl StatementDto {
    pub(crate) fn new(stored: &StoredReview) -> Self {
        let moderation = &stored.moderation;
        let decision = moderation.decision.as_ref().map(|d| match d {
            Decision::Hold { rule, at } => DecisionDto {
                action: d.action_name().to_owned(),
                rule: rule.as_str().to_owned(),
                statement: hold_statement(*rule),
                automated: true,
                decided_at: rfc3339(*at),
            },
            Decision::Moderator {
                rule,
                statement,
                at,
                ..
            } => DecisionDto {
                action: d.action_name().to_owned(),
                rule: rule.as_str().to_owned(),
                statement: statement.as_str().to_owned(),
                automated: false,
                decided_at: rfc3339(*at),
            },
        });
        let appeal = moderation.appeal.as_ref().map(|a| AppealDto {
            explanation: stored
                .appeal
                .as_ref()
                .map(|c| c.explanation.clone())
                .unwrap_or_default(),
            status: match a.status {
                AppealStatus::Open => "open".to_owned(),
                AppealStatus::Decided => "decided".to_owned(),
            },
            created_at: rfc3339(a.at),
        });
        Self {
            status: moderation.status.into(),
            decision,
            appeal,
            can_appeal: moderation.can_appeal(),
        }
    }
}

//! What a store keeps of a review's moderation, and the one change a store applies for each
//! operation of the state machine ([`provider_domain::Moderation`]).
//!
//! The rules live in the domain: the service reads a [`StoredReview`], asks the domain for the
//! [`Transition`](provider_domain::Transition), and hands the store a [`ReviewChange`] to
//! apply if the review is still at the [`Revision`] it read (optimistic concurrency: two moderators deciding at once both
//! land, one after the other, because the second is refused, reads again and decides on the
//! new state). A store applies a change in one step: the review's state, its flags, reply and
//! appeal, the appended history events and the provider's figures (only published reviews
//! count) together or not at all.

use provider_domain::{
    DecisionAction, DecisionRule, DecisionTarget, Event, EventDetail, FiguresDelta,
    FlagExplanation, FlagId, FlagReason, FlagStatus, Moderation, Reason, Review, ReviewId,
    ReviewStatus, Statement, UserId,
};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

/// A review's revision: rises by one with every change applied to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Revision(pub u64);

impl Revision {
    /// A new review's revision.
    pub const FIRST: Self = Self(1);

    /// The revision after this one.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

/// The provider's reply to a review: its text and times (its status is in
/// [`Moderation::reply`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyContent {
    /// What the owner wrote.
    pub text: String,
    /// When the first reply was written.
    pub created_at: OffsetDateTime,
    /// When it was last written.
    pub updated_at: OffsetDateTime,
}

/// The author's latest appeal: its explanation (its status and time are in
/// [`Moderation::appeal`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealContent {
    /// What the author wrote.
    pub explanation: String,
}

/// A review as a store keeps it: its content, its moderation, the texts beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReview {
    /// The review as its author wrote it last.
    pub review: Review,
    /// The reviewed provider's owner (who may reply, and see a reply that waits).
    pub owner: UserId,
    /// Where it stands.
    pub moderation: Moderation,
    /// The reply's text, when there is a reply.
    pub reply: Option<ReplyContent>,
    /// The latest appeal's explanation, when there is an appeal.
    pub appeal: Option<AppealContent>,
    /// When it entered the moderation queue; `None` while it is not in it.
    pub queued_at: Option<OffsetDateTime>,
    /// Its revision.
    pub revision: Revision,
}

/// A use case's answer with the history events it appended (for the moderation metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moderated<T> {
    /// The answer.
    pub value: T,
    /// The events the operation appended to the review's history, oldest first.
    pub events: Vec<Event>,
}

/// A new review as its submission settled it: what [`crate::ReviewRepository::add`] stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The review.
    pub review: Review,
    /// Its moderation after the screen.
    pub moderation: Moderation,
    /// The submission's history events.
    pub events: Vec<Event>,
    /// When it entered the queue (held by the screen), else `None`.
    pub queued_at: Option<OffsetDateTime>,
}

/// A flag as a store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFlag {
    /// Its id.
    pub id: FlagId,
    /// The flagged review.
    pub review_id: ReviewId,
    /// Who raised it.
    pub flagger: UserId,
    /// Why.
    pub reason: FlagReason,
    /// The flagger's explanation, when given.
    pub explanation: Option<FlagExplanation>,
    /// Open until a decision on the review resolves it.
    pub status: FlagStatus,
    /// When it was raised.
    pub created_at: OffsetDateTime,
}

/// What becomes of the reply's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyChange {
    /// It stays as it is.
    Keep,
    /// It is written (created, or replaced) with this text.
    Set(String),
    /// It is removed.
    Remove,
}

/// One operation's change to a stored review, applied in one step.
///
/// Some of it is said twice, and the two must agree (the service builds both from one domain
/// transition; a store may keep either form): `moderation.flags` is the open flags after
/// `flags_resolved` and `flag` are applied (a store that keeps flags as rows reads them back
/// from there); `moderation.reply` is the reply's status when `reply` is `Keep` or `Set`, and
/// `None` exactly when it is `Remove` or there was none; `moderation.appeal` is the appeal
/// whose explanation `appeal` carries when it is new, else the one kept.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewChange {
    /// When it happens.
    pub at: OffsetDateTime,
    /// The review's moderation after it.
    pub moderation: Moderation,
    /// The review's new content (an edit: rating, comment, skill ratings), if it changed.
    pub content: Option<Review>,
    /// The events appended to its history, oldest first.
    pub events: Vec<Event>,
    /// The change of the provider's figures; `Some` exactly when its published reviews
    /// change (its version rises by one then, even when the sums come out the same).
    pub figures: Option<FiguresDelta>,
    /// A flag raised by the operation.
    pub flag: Option<StoredFlag>,
    /// When `Some`, every open flag of the review becomes this (a decision on the review).
    pub flags_resolved: Option<FlagStatus>,
    /// The reply's text.
    pub reply: ReplyChange,
    /// A new appeal's explanation.
    pub appeal: Option<AppealContent>,
    /// When it is in the queue after the change; `None` when it is not.
    pub queued_at: Option<OffsetDateTime>,
}

/// When a review is in the queue after a change: since it entered it (`before`, if it was in
/// it), or `at` when it enters it now; `None` when it is not in it.
pub fn queued_since(
    before: Option<OffsetDateTime>,
    after: &Moderation,
    at: OffsetDateTime,
) -> Option<OffsetDateTime> {
    after.in_queue().then(|| before.unwrap_or(at))
}

/// The queue's order: longest waiting first, then by id.
pub fn queue_order(a: &StoredReview, b: &StoredReview) -> std::cmp::Ordering {
    a.queued_at
        .cmp(&b.queued_at)
        .then_with(|| a.review.id.cmp(&b.review.id))
}

/// An event's `detail` as the contract shows it (and as the PostgreSQL store keeps it).
pub fn event_detail_json(detail: &EventDetail) -> Value {
    let reasons =
        |reasons: &[Reason]| -> Value { reasons.iter().map(|r| Value::from(r.as_str())).collect() };
    match detail {
        EventDetail::Submitted { status } => json!({ "status": status.as_str() }),
        EventDetail::Held {
            target,
            reasons: why,
            rule,
        } => json!({
            "target": target.as_str(),
            "reasons": reasons(why),
            "rule": rule.as_str(),
        }),
        EventDetail::Flagged { reason } => json!({ "reason": reason.as_str() }),
        EventDetail::Decided {
            target,
            action,
            rule,
            statement,
            flags,
            appeal_decided,
        } => json!({
            "target": target.as_str(),
            "action": action.as_str(),
            "rule": rule.as_str(),
            "statement": statement.as_str(),
            "flags": flags.map(FlagStatus::as_str),
            "appeal_decided": appeal_decided,
        }),
        EventDetail::Appealed | EventDetail::Withdrawn => Value::Object(Map::new()),
        EventDetail::Edited {
            status,
            reasons: why,
        } => json!({ "status": status.as_str(), "reasons": reasons(why) }),
        EventDetail::Replied { status } => json!({ "status": status.map(ReviewStatus::as_str) }),
    }
}

/// Reads back an event's detail kept by [`event_detail_json`] under its `name`; `None` when
/// the two do not make an event.
pub fn event_detail_from_json(name: &str, detail: &Value) -> Option<EventDetail> {
    let text = |key: &str| detail.get(key).and_then(Value::as_str);
    let reasons = || -> Option<Vec<Reason>> {
        detail
            .get("reasons")?
            .as_array()?
            .iter()
            .map(|r| r.as_str().and_then(Reason::parse))
            .collect()
    };
    let status = || text("status").and_then(ReviewStatus::parse);
    let target = || text("target").and_then(DecisionTarget::parse);
    Some(match name {
        "submitted" => EventDetail::Submitted { status: status()? },
        "held" => EventDetail::Held {
            target: target()?,
            reasons: reasons()?,
            rule: text("rule").and_then(Reason::parse)?,
        },
        "flagged" => EventDetail::Flagged {
            reason: text("reason").and_then(FlagReason::parse)?,
        },
        "decided" => EventDetail::Decided {
            target: target()?,
            action: text("action").and_then(DecisionAction::parse)?,
            rule: DecisionRule::new(text("rule")?).ok()?,
            statement: Statement::new(text("statement")?).ok()?,
            flags: match detail.get("flags")? {
                Value::Null => None,
                v => Some(v.as_str().and_then(FlagStatus::parse)?),
            },
            appeal_decided: detail.get("appeal_decided")?.as_bool()?,
        },
        "appealed" => EventDetail::Appealed,
        "edited" => EventDetail::Edited {
            status: status()?,
            reasons: reasons()?,
        },
        "withdrawn" => EventDetail::Withdrawn,
        "replied" => EventDetail::Replied {
            status: match detail.get("status")? {
                Value::Null => None,
                _ => Some(status()?),
            },
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use provider_domain::DecisionRule;
    use uuid::Uuid;

    fn every_detail() -> Vec<EventDetail> {
        vec![
            EventDetail::Submitted {
                status: ReviewStatus::Pending,
            },
            EventDetail::Held {
                target: DecisionTarget::Reply,
                reasons: vec![Reason::Link, Reason::Manual],
                rule: Reason::Link,
            },
            EventDetail::Flagged {
                reason: FlagReason::Spam,
            },
            EventDetail::Decided {
                target: DecisionTarget::Review,
                action: DecisionAction::Hide,
                rule: DecisionRule::new("2.1 no spam").expect("rule"),
                statement: Statement::new("It advertises.").expect("statement"),
                flags: Some(FlagStatus::Upheld),
                appeal_decided: true,
            },
            EventDetail::Decided {
                target: DecisionTarget::Reply,
                action: DecisionAction::Publish,
                rule: DecisionRule::new("r").expect("rule"),
                statement: Statement::new("s").expect("statement"),
                flags: None,
                appeal_decided: false,
            },
            EventDetail::Appealed,
            EventDetail::Edited {
                status: ReviewStatus::Published,
                reasons: vec![],
            },
            EventDetail::Withdrawn,
            EventDetail::Replied { status: None },
            EventDetail::Replied {
                status: Some(ReviewStatus::Hidden),
            },
        ]
    }

    #[test]
    fn every_detail_reads_back_as_it_was_kept() {
        for detail in every_detail() {
            let kept = event_detail_json(&detail);
            assert_eq!(
                event_detail_from_json(detail.name(), &kept),
                Some(detail.clone()),
                "{kept}"
            );
        }
    }

    #[test]
    fn a_detail_under_another_name_or_damaged_is_not_an_event() {
        let kept = event_detail_json(&EventDetail::Flagged {
            reason: FlagReason::Fake,
        });
        assert_eq!(event_detail_from_json("held", &kept), None);
        assert_eq!(event_detail_from_json("unknown", &kept), None);
        assert_eq!(
            event_detail_from_json("flagged", &json!({"reason": "rude"})),
            None
        );
    }

    #[test]
    fn a_review_keeps_its_place_in_the_queue_while_it_waits() {
        let author = UserId::from_uuid(Uuid::new_v4());
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let t1 = t0 + time::Duration::hours(1);
        let mut waiting = Moderation::submit(
            author,
            Some(&provider_domain::Comment::new("see www.example.com").expect("comment")),
            &provider_domain::ModerationSettings::default(),
            t0,
        )
        .state;
        assert_eq!(queued_since(None, &waiting, t0), Some(t0));
        assert_eq!(queued_since(Some(t0), &waiting, t1), Some(t0));
        waiting.status = ReviewStatus::Published;
        waiting.reasons.clear();
        assert_eq!(queued_since(Some(t0), &waiting, t1), None);
    }
}

//! A review's moderation as one state machine: its status, why it waits, its open flags, the
//! latest decision and its appeal, and the provider's reply. Each operation of the contract
//! (submit, flag, decide, appeal, edit, withdraw, reply) is a method that either refuses, as
//! the contract refuses, or answers the new state with the history events it produces and how
//! the provider's figures change. Time and ids come in as arguments.

use super::events::{Event, EventDetail};
use super::figures::FiguresChange;
use super::refusal::ModerationError;
use super::requests::{
    AppealRequest, DecisionAction, DecisionRequest, DecisionTarget, FlagReason, FlagRequest,
    ReplyRequest,
};
use super::screen::{screen, ScreenSettings};
use super::status::{AppealStatus, FlagStatus, Reason, ReviewStatus};
use super::text::{DecisionRule, Statement};
use super::viewer::{can_see, Caller, Viewer};
use crate::ids::UserId;
use crate::values::Comment;
use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use time::OffsetDateTime;

/// The operator's moderation settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModerationSettings {
    /// What the screen holds.
    pub screen: ScreenSettings,
    /// How many distinct users' open flags hold a published review
    /// (`MODERATION_FLAGS_TO_HOLD`, default [`Self::DEFAULT_FLAGS_TO_HOLD`]).
    pub flags_to_hold: NonZeroU32,
}

impl ModerationSettings {
    /// `MODERATION_FLAGS_TO_HOLD`'s default.
    pub const DEFAULT_FLAGS_TO_HOLD: NonZeroU32 = match NonZeroU32::new(3) {
        Some(n) => n,
        None => unreachable!(),
    };
}

impl Default for ModerationSettings {
    /// The default screen, and three flags to hold.
    fn default() -> Self {
        Self {
            screen: ScreenSettings::default(),
            flags_to_hold: Self::DEFAULT_FLAGS_TO_HOLD,
        }
    }
}

/// The latest decision on a review: what its statement of reasons shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// An automated hold (the screen's, or enough flags'): the review waits for a person.
    Hold {
        /// The first reason that applied.
        rule: Reason,
        /// When.
        at: OffsetDateTime,
    },
    /// A moderator's decision.
    Moderator {
        /// The moderator (never shown to the author).
        by: UserId,
        /// Publish or hide.
        action: DecisionAction,
        /// The policy rule applied.
        rule: DecisionRule,
        /// The statement of reasons.
        statement: Statement,
        /// When.
        at: OffsetDateTime,
        /// True once the author appealed it.
        appealed: bool,
    },
}

impl Decision {
    /// The contract's `action`: `hold`, `publish` or `hide`.
    pub const fn action_name(&self) -> &'static str {
        match self {
            Self::Hold { .. } => "hold",
            Self::Moderator { action, .. } => action.as_str(),
        }
    }

    /// True for an automated hold.
    pub const fn automated(&self) -> bool {
        matches!(self, Self::Hold { .. })
    }

    /// When it was decided.
    pub const fn decided_at(&self) -> OffsetDateTime {
        match self {
            Self::Hold { at, .. } | Self::Moderator { at, .. } => *at,
        }
    }
}

/// The author's latest appeal (its explanation is kept by the store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appeal {
    /// The moderator whose decision it contests: they may not decide it.
    pub against: UserId,
    /// Open, or decided.
    pub status: AppealStatus,
    /// When it was made.
    pub at: OffsetDateTime,
}

/// The provider's reply to a review (its text is kept by the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Where it stands: screened like a comment, then decided by moderators.
    pub status: ReviewStatus,
    /// Why it waits, while pending.
    pub reasons: BTreeSet<Reason>,
}

/// A review's moderation state. Holds no text: the store keeps the review's, the reply's, the
/// flags' and the appeal's texts beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moderation {
    /// Who wrote the review.
    pub author: UserId,
    /// Where the review stands.
    pub status: ReviewStatus,
    /// Why it waits (empty when published; `appeal` alone when hidden with an open appeal).
    pub reasons: BTreeSet<Reason>,
    /// The open flags: each flagger's reason.
    pub flags: BTreeMap<UserId, FlagReason>,
    /// The latest decision; `None` for a review published at once.
    pub decision: Option<Decision>,
    /// The latest appeal, if any.
    pub appeal: Option<Appeal>,
    /// The provider's reply, if any.
    pub reply: Option<Reply>,
}

/// What an operation did: the new state, the history events it produced (oldest first), how
/// the provider's figures change, and what became of the open flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The review's moderation after the operation.
    pub state: Moderation,
    /// The events to append to its history.
    pub events: Vec<Event>,
    /// How its contribution to the provider's figures changed.
    pub figures: FiguresChange,
    /// `Some` when a decision on the review resolved every open flag: each becomes this.
    pub flags_resolved: Option<FlagStatus>,
}

/// What withdrawing a review did: it is gone (with its skill ratings and flags), its history
/// keeps a `withdrawn` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    /// The event to append to its history.
    pub event: Event,
    /// How the provider's figures change (`Left` when it was published).
    pub figures: FiguresChange,
}

/// Where a text stands after its screen, given where it stood before (`None`: new).
///
/// New, published, or pending for the screen only: published when it passes, else pending
/// for what the screen found. Hidden: pending, reason `edited`, whatever the screen says.
/// Pending for a reason that needs a person (`manual`, `flagged`, `appeal`, `edited`): stays
/// pending for it, and for what the screen finds now.
fn settle(
    before: Option<(ReviewStatus, &BTreeSet<Reason>)>,
    screened: Vec<Reason>,
) -> (ReviewStatus, BTreeSet<Reason>) {
    let mut reasons: BTreeSet<Reason> = screened.into_iter().collect();
    if let Some((status, held_for)) = before {
        let kept = held_for.iter().copied().filter(|r| r.needs_a_person());
        match status {
            ReviewStatus::Hidden => {
                reasons.extend(kept);
                reasons.insert(Reason::Edited);
            }
            ReviewStatus::Pending => reasons.extend(kept),
            ReviewStatus::Published => {}
        }
    }
    if reasons.is_empty() {
        (ReviewStatus::Published, reasons)
    } else {
        (ReviewStatus::Pending, reasons)
    }
}

/// The first reason, which names an automated hold's rule.
fn first(reasons: &BTreeSet<Reason>) -> Reason {
    reasons.first().copied().unwrap_or(Reason::Manual)
}

fn held(target: DecisionTarget, reasons: &BTreeSet<Reason>, at: OffsetDateTime) -> Event {
    Event {
        at,
        by: None,
        detail: EventDetail::Held {
            target,
            reasons: reasons.iter().copied().collect(),
            rule: first(reasons),
        },
    }
}

impl Moderation {
    /// The author submits a review with `comment`: published at once when the comment is
    /// absent, empty or passes the screen; else pending for what the screen found, under an
    /// automated hold (events `submitted`, then `held` by nobody).
    pub fn submit(
        author: UserId,
        comment: Option<&Comment>,
        settings: &ModerationSettings,
        at: OffsetDateTime,
    ) -> Transition {
        let screened = screen(comment.map_or("", Comment::as_str), &settings.screen);
        let (status, reasons) = settle(None, screened);
        let mut events = vec![Event {
            at,
            by: Some(author),
            detail: EventDetail::Submitted { status },
        }];
        let decision = if status == ReviewStatus::Pending {
            events.push(held(DecisionTarget::Review, &reasons, at));
            Some(Decision::Hold {
                rule: first(&reasons),
                at,
            })
        } else {
            None
        };
        Transition {
            state: Self {
                author,
                status,
                reasons,
                flags: BTreeMap::new(),
                decision,
                appeal: None,
                reply: None,
            },
            events,
            figures: FiguresChange::between(None, Some(status), false),
            flags_resolved: None,
        }
    }

    /// How `caller` stands to this review (`owner`: the provider's owner).
    pub fn viewer(&self, caller: Option<&Caller>, owner: UserId) -> Viewer {
        Viewer::of(caller, self.author, owner)
    }

    /// True when `caller` may see the review (see [`can_see`]).
    pub fn visible_to(&self, caller: Option<&Caller>) -> bool {
        let viewer = Viewer {
            author: caller.is_some_and(|c| c.id == self.author),
            owner: false,
            moderator: caller.is_some_and(|c| c.moderator),
        };
        can_see(self.status, viewer)
    }

    /// True when the review waits in the moderation queue: pending, or its reply pending, or
    /// hidden with an open appeal.
    pub fn in_queue(&self) -> bool {
        self.status == ReviewStatus::Pending
            || self.reply_pending()
            || (self.status == ReviewStatus::Hidden && self.appeal_open())
    }

    /// Every reason it waits in the queue, in the contract's order (`reply` when its reply
    /// waits).
    pub fn queue_reasons(&self) -> Vec<Reason> {
        let mut reasons = self.reasons.clone();
        if self.reply_pending() {
            reasons.insert(Reason::Reply);
        }
        reasons.into_iter().collect()
    }

    /// The open flags counted by reason.
    pub fn flags_by_reason(&self) -> BTreeMap<FlagReason, usize> {
        let mut counts = BTreeMap::new();
        for reason in self.flags.values() {
            *counts.entry(*reason).or_insert(0) += 1;
        }
        counts
    }

    /// True when its author may appeal now: it is hidden by a moderator's decision that was
    /// not appealed yet.
    pub fn can_appeal(&self) -> bool {
        self.status == ReviewStatus::Hidden
            && matches!(
                self.decision,
                Some(Decision::Moderator {
                    action: DecisionAction::Hide,
                    appealed: false,
                    ..
                })
            )
    }

    fn reply_pending(&self) -> bool {
        self.reply
            .as_ref()
            .is_some_and(|r| r.status == ReviewStatus::Pending)
    }

    fn appeal_open(&self) -> bool {
        self.appeal.is_some_and(|a| a.status == AppealStatus::Open)
    }

    fn transition(&self, state: Self, events: Vec<Event>, edited: bool) -> Transition {
        Transition {
            figures: FiguresChange::between(Some(self.status), Some(state.status), edited),
            state,
            events,
            flags_resolved: None,
        }
    }

    /// `caller` flags the review. Once open flags from `settings.flags_to_hold` distinct users
    /// stand on a published review, it becomes pending (reason `flagged`) under an automated
    /// hold (events `flagged` by the caller, then `held` by nobody).
    ///
    /// # Errors
    /// [`ModerationError::NotFound`] when the caller cannot see the review,
    /// [`ModerationError::OwnReview`] when they wrote it, [`ModerationError::AlreadyFlagged`]
    /// when they have an open flag on it.
    pub fn flag(
        &self,
        caller: &Caller,
        request: &FlagRequest,
        settings: &ModerationSettings,
        at: OffsetDateTime,
    ) -> Result<Transition, ModerationError> {
        if !self.visible_to(Some(caller)) {
            return Err(ModerationError::NotFound);
        }
        if caller.id == self.author {
            return Err(ModerationError::OwnReview);
        }
        if self.flags.contains_key(&caller.id) {
            return Err(ModerationError::AlreadyFlagged);
        }
        let mut state = self.clone();
        state.flags.insert(caller.id, request.reason);
        let mut events = vec![Event {
            at,
            by: Some(caller.id),
            detail: EventDetail::Flagged {
                reason: request.reason,
            },
        }];
        let enough = state.flags.len() >= settings.flags_to_hold.get() as usize;
        if state.status == ReviewStatus::Published && enough {
            state.status = ReviewStatus::Pending;
            state.reasons = BTreeSet::from([Reason::Flagged]);
            state.decision = Some(Decision::Hold {
                rule: Reason::Flagged,
                at,
            });
            events.push(held(DecisionTarget::Review, &state.reasons, at));
        }
        Ok(self.transition(state, events, false))
    }

    /// A moderator decides the review (any status may be decided) or, with
    /// [`DecisionTarget::Reply`], its reply. On the review: it becomes published or hidden,
    /// stops waiting, every open flag is resolved (upheld on hide, rejected on publish) and an
    /// open appeal is decided. On the reply: only the reply's status changes, no flag is
    /// resolved. One `decided` event by the moderator.
    ///
    /// # Errors
    /// [`ModerationError::NotAModerator`]; [`ModerationError::NoReply`] for a reply the review
    /// does not have; [`ModerationError::OwnDecision`] when an appeal is open against this
    /// moderator's decision.
    pub fn decide(
        &self,
        caller: &Caller,
        request: &DecisionRequest,
        at: OffsetDateTime,
    ) -> Result<Transition, ModerationError> {
        if !caller.moderator {
            return Err(ModerationError::NotAModerator);
        }
        let status = match request.action {
            DecisionAction::Publish => ReviewStatus::Published,
            DecisionAction::Hide => ReviewStatus::Hidden,
        };
        let mut state = self.clone();
        let (flags, appeal_decided) = match request.target {
            DecisionTarget::Reply => {
                let reply = state.reply.as_mut().ok_or(ModerationError::NoReply)?;
                reply.status = status;
                reply.reasons.clear();
                (None, false)
            }
            DecisionTarget::Review => {
                let appeal_open = self.appeal_open();
                if appeal_open && self.appeal.is_some_and(|a| a.against == caller.id) {
                    return Err(ModerationError::OwnDecision);
                }
                let resolved = match request.action {
                    DecisionAction::Publish => FlagStatus::Rejected,
                    DecisionAction::Hide => FlagStatus::Upheld,
                };
                state.status = status;
                state.reasons.clear();
                state.flags.clear();
                state.decision = Some(Decision::Moderator {
                    by: caller.id,
                    action: request.action,
                    rule: request.rule.clone(),
                    statement: request.statement.clone(),
                    at,
                    appealed: false,
                });
                if let Some(appeal) = state.appeal.as_mut() {
                    appeal.status = AppealStatus::Decided;
                }
                (Some(resolved), appeal_open)
            }
        };
        let event = Event {
            at,
            by: Some(caller.id),
            detail: EventDetail::Decided {
                target: request.target,
                action: request.action,
                rule: request.rule.clone(),
                statement: request.statement.clone(),
                flags,
                appeal_decided,
            },
        };
        let mut transition = self.transition(state, vec![event], false);
        transition.flags_resolved = flags;
        Ok(transition)
    }

    /// The author appeals the moderator's decision that hid the review: the appeal is open
    /// (reason `appeal`), the review stays hidden until a different moderator decides. One
    /// `appealed` event by the author.
    ///
    /// # Errors
    /// [`ModerationError::NotFound`] when the caller is not the author;
    /// [`ModerationError::AlreadyAppealed`] when the latest decision was appealed;
    /// [`ModerationError::NothingToAppeal`] when no moderator's decision hides the review.
    pub fn appeal(
        &self,
        caller: &Caller,
        _request: &AppealRequest,
        at: OffsetDateTime,
    ) -> Result<Transition, ModerationError> {
        if caller.id != self.author {
            return Err(ModerationError::NotFound);
        }
        let against = match &self.decision {
            Some(Decision::Moderator { appealed: true, .. }) => {
                return Err(ModerationError::AlreadyAppealed);
            }
            Some(Decision::Moderator { by, .. }) if self.can_appeal() => *by,
            _ => return Err(ModerationError::NothingToAppeal),
        };
        let mut state = self.clone();
        if let Some(Decision::Moderator { appealed, .. }) = state.decision.as_mut() {
            *appealed = true;
        }
        state.appeal = Some(Appeal {
            against,
            status: AppealStatus::Open,
            at,
        });
        state.reasons = BTreeSet::from([Reason::Appeal]);
        let event = Event {
            at,
            by: Some(caller.id),
            detail: EventDetail::Appealed,
        };
        Ok(self.transition(state, vec![event], false))
    }

    /// The author replaces the review's rating, comment and skill ratings; the new comment is
    /// screened. A hidden review becomes pending (reason `edited`) whatever the screen says;
    /// one pending for flags, an appeal, `manual` or an earlier edit stays pending; one
    /// pending for the screen only is published when the new text passes; a published one
    /// whose new text is screened becomes pending. Open flags stay open: a review that would
    /// be published with enough of them is held for them instead. Events: `edited` by the
    /// author, then `held` by nobody when it now waits and did not before.
    ///
    /// # Errors
    /// [`ModerationError::NotFound`] when the caller is not the author.
    pub fn edit(
        &self,
        caller: &Caller,
        comment: Option<&Comment>,
        settings: &ModerationSettings,
        at: OffsetDateTime,
    ) -> Result<Transition, ModerationError> {
        if caller.id != self.author {
            return Err(ModerationError::NotFound);
        }
        let screened = screen(comment.map_or("", Comment::as_str), &settings.screen);
        let (mut status, mut reasons) = settle(Some((self.status, &self.reasons)), screened);
        let enough = self.flags.len() >= settings.flags_to_hold.get() as usize;
        if status == ReviewStatus::Published && enough {
            status = ReviewStatus::Pending;
            reasons.insert(Reason::Flagged);
        }
        let mut state = self.clone();
        let mut events = vec![Event {
            at,
            by: Some(caller.id),
            detail: EventDetail::Edited {
                status,
                reasons: reasons.iter().copied().collect(),
            },
        }];
        match (self.status, status) {
            (ReviewStatus::Pending, ReviewStatus::Pending) => {}
            (_, ReviewStatus::Pending) => {
                events.push(held(DecisionTarget::Review, &reasons, at));
                state.decision = Some(Decision::Hold {
                    rule: first(&reasons),
                    at,
                });
            }
            (ReviewStatus::Pending, _) => state.decision = None,
            _ => {}
        }
        state.status = status;
        state.reasons = reasons;
        Ok(self.transition(state, events, true))
    }

    /// The author withdraws the review: it is removed with its skill ratings and flags; its
    /// history keeps a `withdrawn` event without the text.
    ///
    /// # Errors
    /// [`ModerationError::NotFound`] when the caller is not the author.
    pub fn withdraw(
        &self,
        caller: &Caller,
        at: OffsetDateTime,
    ) -> Result<Withdrawal, ModerationError> {
        if caller.id != self.author {
            return Err(ModerationError::NotFound);
        }
        Ok(Withdrawal {
            event: Event {
                at,
                by: Some(caller.id),
                detail: EventDetail::Withdrawn,
            },
            figures: FiguresChange::between(Some(self.status), None, false),
        })
    }

    /// Refuses anyone but the provider's owner, and the owner when they cannot see the review.
    fn check_owner(&self, caller: &Caller, owner: UserId) -> Result<(), ModerationError> {
        if caller.id == owner && self.visible_to(Some(caller)) {
            Ok(())
        } else {
            Err(ModerationError::NotFound)
        }
    }

    /// The provider's owner (`owner`) creates or replaces the reply; its text is screened like
    /// a comment and settles as an edited review does (a new reply as a new review). Events:
    /// `replied` by the owner, then `held` (target reply) by nobody when the reply now waits
    /// and did not before. The provider's figures do not change.
    ///
    /// # Errors
    /// [`ModerationError::NotFound`] for anyone but the owner, or when the owner cannot see
    /// the review.
    pub fn set_reply(
        &self,
        caller: &Caller,
        owner: UserId,
        request: &ReplyRequest,
        settings: &ModerationSettings,
        at: OffsetDateTime,
    ) -> Result<Transition, ModerationError> {
        self.check_owner(caller, owner)?;
        let screened = screen(request.text.as_str(), &settings.screen);
        let before = self.reply.as_ref().map(|r| (r.status, &r.reasons));
        let (status, reasons) = settle(before, screened);
        let mut events = vec![Event {
            at,
            by: Some(caller.id),
            detail: EventDetail::Replied {
                status: Some(status),
            },
        }];
        if status == ReviewStatus::Pending && !self.reply_pending() {
            events.push(held(DecisionTarget::Reply, &reasons, at));
        }
        let mut state = self.clone();
        state.reply = Some(Reply { status, reasons });
        Ok(self.transition(state, events, false))
    }

    /// The provider's owner removes the reply. One `replied` event (status `None`) by the
    /// owner.
    ///
    /// # Errors
    /// [`ModerationError::NotFound`] for anyone but the owner, or when the owner cannot see
    /// the review; [`ModerationError::NoReply`] when there is none.
    pub fn remove_reply(
        &self,
        caller: &Caller,
        owner: UserId,
        at: OffsetDateTime,
    ) -> Result<Transition, ModerationError> {
        self.check_owner(caller, owner)?;
        if self.reply.is_none() {
            return Err(ModerationError::NoReply);
        }
        let mut state = self.clone();
        state.reply = None;
        let event = Event {
            at,
            by: Some(caller.id),
            detail: EventDetail::Replied { status: None },
        };
        Ok(self.transition(state, vec![event], false))
    }
}

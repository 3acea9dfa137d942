//! Property tests of moderation: any sequence of operations (submit, flag, decide, appeal,
//! edit, withdraw, reply) over several reviews of one provider leaves the figures kept up
//! transition by transition equal to a recomputation from the published reviews alone; every
//! refusal is one the contract makes, for the caller and state it names; and the states
//! reached keep the machine's invariants.
//!
//! The operations take the state by reference and answer a new one, so a refused operation
//! cannot change the state: the harness keeps the old one, and checks the refusal was due.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use provider_domain::{
    figures, AppealExplanation, AppealRequest, AppealStatus, Blocklist, Caller, Comment,
    Contribution, Decision, DecisionAction, DecisionRequest, DecisionRule, DecisionTarget, Figures,
    FiguresChange, FlagReason, FlagRequest, Moderation, ModerationError, ModerationSettings,
    PublishMode, Rating, Reason, ReplyRequest, ReplyText, ReviewStatus, ScreenSettings, Skill,
    SkillRating, Statement, Transition, UserId,
};
use std::num::NonZeroU32;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// The world: one provider, a few review slots, a few callers
// ---------------------------------------------------------------------------------------------

/// Review slots; the review in slot `i` is always written by author `i`.
const SLOTS: usize = 4;

/// Comments: none, empty, one that passes, and one per screen reason.
const COMMENTS: &[Option<&str>] = &[
    None,
    Some(""),
    Some("Great work, on time."),
    Some("Great work, on time."),
    Some("see www.example.com"),
    Some("call 020 7946 0958"),
    Some("foo"),
    Some("this is shit"),
];

const REPLIES: &[&str] = &["Thank you!", "Thanks, see www.example.com"];

const SKILLS: &[&str] = &["SEO", "Design", "Plumbing"];

fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

fn author_of(slot: usize) -> UserId {
    user(1 + slot as u128)
}

const OWNER: u128 = 50;

/// Who acts: 0 the slot's author, 1..=3 other users (one of them another slot's author), 4
/// and 5 moderators, 6 the provider's owner.
fn caller(who: usize, slot: usize) -> Caller {
    match who {
        0 => Caller::user(author_of(slot)),
        1 => Caller::user(author_of((slot + 1) % SLOTS)),
        2 | 3 => Caller::user(user(10 + who as u128)),
        4 | 5 => Caller::moderator(user(20 + who as u128)),
        _ => Caller::user(user(OWNER)),
    }
}

fn at(step: usize) -> OffsetDateTime {
    datetime!(2027-03-01 12:00 UTC) + Duration::seconds(step as i64)
}

/// A review's text-free content: what it brings to the figures.
#[derive(Debug, Clone)]
struct Content {
    rating: Rating,
    skill_ratings: Vec<SkillRating>,
}

impl Content {
    fn contribution(&self) -> Contribution<'_> {
        Contribution {
            rating: self.rating,
            skill_ratings: &self.skill_ratings,
        }
    }
}

fn content() -> impl Strategy<Value = Content> {
    (0u8..=50, vec((select(SKILLS), 0u8..=50), 0..3)).prop_map(|(rating, rated)| {
        let mut skill_ratings: Vec<SkillRating> = Vec::new();
        for (skill, tenths) in rated {
            let skill = Skill::new(skill).unwrap();
            if !skill_ratings.iter().any(|r| r.skill.key() == skill.key()) {
                skill_ratings.push(SkillRating {
                    skill,
                    rating: Rating::from_tenths(tenths).unwrap(),
                });
            }
        }
        Content {
            rating: Rating::from_tenths(rating).unwrap(),
            skill_ratings,
        }
    })
}

#[derive(Debug, Clone)]
enum Op {
    Submit(usize, usize, Content),
    Flag(usize, usize, FlagReason),
    Decide(usize, usize, DecisionAction, DecisionTarget),
    Appeal(usize, usize),
    Edit(usize, usize, usize, Content),
    Withdraw(usize, usize),
    SetReply(usize, usize, usize),
    RemoveReply(usize, usize),
}

/// Who acts, mostly whoever the operation is for (so that most operations go through), but
/// anyone now and then (so that refusals are exercised too).
fn mostly(usual: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = usize> {
    prop_oneof![3 => usual, 1 => 0usize..7]
}

fn op() -> impl Strategy<Value = Op> {
    let slot = 0..SLOTS;
    let comment = 0..COMMENTS.len();
    let action = prop_oneof![Just(DecisionAction::Publish), Just(DecisionAction::Hide)];
    let target = prop_oneof![
        3 => Just(DecisionTarget::Review),
        1 => Just(DecisionTarget::Reply),
    ];
    prop_oneof![
        3 => (slot.clone(), comment.clone(), content()).prop_map(|(s, c, k)| Op::Submit(s, c, k)),
        4 => (slot.clone(), mostly(1..=5), select(FlagReason::ALL.to_vec()))
            .prop_map(|(s, w, r)| Op::Flag(s, w, r)),
        4 => (slot.clone(), mostly(4..=5), action, target)
            .prop_map(|(s, w, a, t)| Op::Decide(s, w, a, t)),
        2 => (slot.clone(), mostly(0..=0)).prop_map(|(s, w)| Op::Appeal(s, w)),
        3 => (slot.clone(), mostly(0..=0), comment, content())
            .prop_map(|(s, w, c, k)| Op::Edit(s, w, c, k)),
        1 => (slot.clone(), mostly(0..=0)).prop_map(|(s, w)| Op::Withdraw(s, w)),
        2 => (slot.clone(), mostly(6..=6), 0..REPLIES.len())
            .prop_map(|(s, w, r)| Op::SetReply(s, w, r)),
        1 => (slot, mostly(6..=6)).prop_map(|(s, w)| Op::RemoveReply(s, w)),
    ]
}

fn settings() -> impl Strategy<Value = ModerationSettings> {
    (any::<bool>(), 1u32..=3).prop_map(|(manual, flags)| ModerationSettings {
        screen: ScreenSettings {
            blocklist: Blocklist::parse("foo"),
            profanity: true,
            publish: if manual {
                PublishMode::Manual
            } else {
                PublishMode::Auto
            },
        },
        flags_to_hold: NonZeroU32::new(flags).unwrap(),
    })
}

fn comment(index: usize) -> Option<Comment> {
    COMMENTS[index].map(|text| Comment::new(text).unwrap())
}

fn decision(action: DecisionAction, target: DecisionTarget) -> DecisionRequest {
    DecisionRequest {
        action,
        rule: DecisionRule::new("policy-1").unwrap(),
        statement: Statement::new("Reasons.").unwrap(),
        target,
    }
}

// ---------------------------------------------------------------------------------------------
// What the contract refuses, read from the contract (not from the state machine's code)
// ---------------------------------------------------------------------------------------------

fn sees(state: &Moderation, caller: &Caller) -> bool {
    state.status == ReviewStatus::Published || caller.moderator || caller.id == state.author
}

fn appeal_open(state: &Moderation) -> bool {
    state.appeal.is_some_and(|a| a.status == AppealStatus::Open)
}

fn due_refusal(op: &Op, state: &Moderation, caller: &Caller) -> Option<ModerationError> {
    let author = caller.id == state.author;
    let owner = caller.id == user(OWNER);
    match op {
        Op::Submit(..) => None,
        Op::Flag(..) if !sees(state, caller) => Some(ModerationError::NotFound),
        Op::Flag(..) if author => Some(ModerationError::OwnReview),
        Op::Flag(..) if state.flags.contains_key(&caller.id) => {
            Some(ModerationError::AlreadyFlagged)
        }
        Op::Flag(..) => None,
        Op::Decide(..) if !caller.moderator => Some(ModerationError::NotAModerator),
        Op::Decide(_, _, _, DecisionTarget::Reply) if state.reply.is_none() => {
            Some(ModerationError::NoReply)
        }
        Op::Decide(_, _, _, DecisionTarget::Review)
            if appeal_open(state) && state.appeal.unwrap().against == caller.id =>
        {
            Some(ModerationError::OwnDecision)
        }
        Op::Decide(..) => None,
        Op::Appeal(..) if !author => Some(ModerationError::NotFound),
        Op::Appeal(..) => match &state.decision {
            Some(Decision::Moderator {
                action: DecisionAction::Hide,
                appealed,
                ..
            }) if state.status == ReviewStatus::Hidden => {
                appealed.then_some(ModerationError::AlreadyAppealed)
            }
            _ => Some(ModerationError::NothingToAppeal),
        },
        Op::Edit(..) | Op::Withdraw(..) if !author => Some(ModerationError::NotFound),
        Op::Edit(..) | Op::Withdraw(..) => None,
        Op::SetReply(..) | Op::RemoveReply(..) if !(owner && sees(state, caller)) => {
            Some(ModerationError::NotFound)
        }
        Op::RemoveReply(..) if state.reply.is_none() => Some(ModerationError::NoReply),
        Op::SetReply(..) | Op::RemoveReply(..) => None,
    }
}

/// The invariants every reachable state keeps.
fn check_invariants(state: &Moderation, settings: &ModerationSettings) {
    match state.status {
        ReviewStatus::Published => {
            assert!(state.reasons.is_empty(), "{state:?}");
            assert!(
                state.flags.len() < settings.flags_to_hold.get() as usize,
                "{state:?}"
            );
        }
        ReviewStatus::Pending => {
            assert!(!state.reasons.is_empty(), "{state:?}");
            assert!(state.in_queue());
        }
        ReviewStatus::Hidden => {
            assert!(
                state.reasons.iter().all(|r| *r == Reason::Appeal),
                "{state:?}"
            );
            assert!(
                matches!(
                    state.decision,
                    Some(Decision::Moderator {
                        action: DecisionAction::Hide,
                        ..
                    })
                ),
                "{state:?}"
            );
            assert_eq!(
                state.in_queue(),
                appeal_open(state)
                    || state
                        .reply
                        .as_ref()
                        .is_some_and(|r| r.status == ReviewStatus::Pending)
            );
        }
    }
    if state.decision.is_none() {
        assert_eq!(state.status, ReviewStatus::Published, "{state:?}");
    }
    if let Some(reply) = &state.reply {
        assert_eq!(
            reply.reasons.is_empty(),
            reply.status != ReviewStatus::Pending,
            "{reply:?}"
        );
    }
    assert_eq!(
        state.reasons.contains(&Reason::Appeal),
        appeal_open(state),
        "{state:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------------

type Slot = Option<(Moderation, Content)>;

fn recomputed(slots: &[Slot]) -> Figures {
    figures(
        slots
            .iter()
            .flatten()
            .map(|(state, content)| (state.status, content.contribution())),
    )
}

/// Applies `op`; answers the figures' change the operation reported and the delta it implies,
/// or `None` when the op was skipped (a submit on an occupied slot is the store's 409, any
/// other op on an empty slot its 404).
fn apply(
    slots: &mut [Slot],
    op: &Op,
    settings: &ModerationSettings,
    now: OffsetDateTime,
) -> Option<(FiguresChange, provider_domain::FiguresDelta)> {
    let slot = match op {
        Op::Submit(s, ..)
        | Op::Flag(s, ..)
        | Op::Decide(s, ..)
        | Op::Appeal(s, ..)
        | Op::Edit(s, ..)
        | Op::Withdraw(s, ..)
        | Op::SetReply(s, ..)
        | Op::RemoveReply(s, ..) => *s,
    };
    if let Op::Submit(_, c, content) = op {
        if slots[slot].is_some() {
            return None;
        }
        let t = Moderation::submit(author_of(slot), comment(*c).as_ref(), settings, now);
        let delta = t
            .figures
            .delta(content.contribution(), content.contribution());
        slots[slot] = Some((t.state, content.clone()));
        return Some((t.figures, delta));
    }
    let (state, old) = slots[slot].clone()?;
    let who = match op {
        Op::Flag(_, w, _)
        | Op::Decide(_, w, ..)
        | Op::Appeal(_, w)
        | Op::Edit(_, w, ..)
        | Op::Withdraw(_, w)
        | Op::SetReply(_, w, _)
        | Op::RemoveReply(_, w) => *w,
        Op::Submit(..) => unreachable!(),
    };
    let caller = caller(who, slot);
    let due = due_refusal(op, &state, &caller);
    let owner = user(OWNER);
    let result: Result<(Transition, Content), ModerationError> = match op {
        Op::Submit(..) => unreachable!(),
        Op::Flag(_, _, reason) => {
            let request = FlagRequest {
                reason: *reason,
                explanation: None,
            };
            state
                .flag(&caller, &request, settings, now)
                .map(|t| (t, old.clone()))
        }
        Op::Decide(_, _, action, target) => state
            .decide(&caller, &decision(*action, *target), now)
            .map(|t| (t, old.clone())),
        Op::Appeal(..) => {
            let request = AppealRequest {
                explanation: AppealExplanation::new("Please look again.").unwrap(),
            };
            state
                .appeal(&caller, &request, now)
                .map(|t| (t, old.clone()))
        }
        Op::Edit(_, _, c, new) => state
            .edit(&caller, comment(*c).as_ref(), settings, now)
            .map(|t| (t, new.clone())),
        Op::SetReply(_, _, r) => {
            let request = ReplyRequest {
                text: ReplyText::new(REPLIES[*r]).unwrap(),
            };
            state
                .set_reply(&caller, owner, &request, settings, now)
                .map(|t| (t, old.clone()))
        }
        Op::RemoveReply(..) => state
            .remove_reply(&caller, owner, now)
            .map(|t| (t, old.clone())),
        Op::Withdraw(..) => {
            let withdrawn = state.withdraw(&caller, now);
            assert_eq!(
                withdrawn.as_ref().err().copied(),
                due,
                "{op:?} on {state:?}"
            );
            let w = withdrawn.ok()?;
            slots[slot] = None;
            let delta = w.figures.delta(old.contribution(), old.contribution());
            return Some((w.figures, delta));
        }
    };
    assert_eq!(result.as_ref().err().copied(), due, "{op:?} on {state:?}");
    let (t, new) = result.ok()?;
    assert!(
        !t.events.is_empty(),
        "{op:?}: every transition leaves a history"
    );
    assert!(t.events.iter().all(|e| e.at == now));
    let delta = t.figures.delta(old.contribution(), new.contribution());
    check_invariants(&t.state, settings);
    slots[slot] = Some((t.state, new));
    Some((t.figures, delta))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn figures_kept_transition_by_transition_equal_a_recomputation_from_published_reviews(
        settings in settings(),
        ops in vec(op(), 1..60),
    ) {
        let mut slots: Vec<Slot> = vec![None; SLOTS];
        let mut kept = Figures::default();
        for (step, op) in ops.iter().enumerate() {
            let before = recomputed(&slots);
            if let Some((change, delta)) = apply(&mut slots, op, &settings, at(step)) {
                kept = kept.apply(&delta);
                let after = recomputed(&slots);
                prop_assert!(
                    change.changes_figures() || before == after,
                    "{op:?} reported no change, but the figures changed"
                );
            }
            prop_assert_eq!(&kept, &recomputed(&slots), "after {:?}", op);
        }
    }

    #[test]
    fn a_review_counts_exactly_while_it_is_published(
        settings in settings(),
        ops in vec(op(), 1..60),
    ) {
        let mut slots: Vec<Slot> = vec![None; SLOTS];
        for (step, op) in ops.iter().enumerate() {
            let was: Vec<Option<ReviewStatus>> =
                slots.iter().map(|s| s.as_ref().map(|(m, _)| m.status)).collect();
            if let Some((change, _)) = apply(&mut slots, op, &settings, at(step)) {
                let is: Vec<Option<ReviewStatus>> =
                    slots.iter().map(|s| s.as_ref().map(|(m, _)| m.status)).collect();
                let changed: Vec<usize> = (0..SLOTS).filter(|i| was[*i] != is[*i]).collect();
                for i in changed {
                    let entered = is[i] == Some(ReviewStatus::Published);
                    let left = was[i] == Some(ReviewStatus::Published);
                    let expected = match (left, entered) {
                        (false, true) => FiguresChange::Entered,
                        (true, false) => FiguresChange::Left,
                        _ => FiguresChange::Unchanged,
                    };
                    prop_assert_eq!(change, expected, "{:?}", op);
                }
            }
        }
    }
}

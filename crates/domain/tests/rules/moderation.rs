//! A review's moderation as one state machine: submit, flag, decide, appeal, edit, withdraw
//! and reply, each refusing what the contract refuses; the events each leaves in the history;
//! who sees what; and whether the provider's figures change.

use provider_domain::{
    can_see, can_see_reply, AppealRequest, AppealStatus, Blocklist, Caller, Comment, Decision,
    DecisionAction, DecisionRequest, DecisionRule, DecisionTarget, EventDetail, FiguresChange,
    FlagReason, FlagRequest, FlagStatus, Moderation, ModerationError, ModerationSettings,
    PublishMode, Reason, RefusalKind, ReplyRequest, ReplyText, ReviewStatus, ScreenSettings,
    Statement, Transition, UserId, Viewer,
};
use std::num::NonZeroU32;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const AT: OffsetDateTime = datetime!(2027-03-01 12:00 UTC);

fn later(minutes: i64) -> OffsetDateTime {
    AT + Duration::minutes(minutes)
}

fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

const AUTHOR: u128 = 1;
const OWNER: u128 = 2;

fn author() -> Caller {
    Caller::user(user(AUTHOR))
}

fn owner() -> Caller {
    Caller::user(user(OWNER))
}

fn someone(n: u128) -> Caller {
    Caller::user(user(100 + n))
}

fn moderator(n: u128) -> Caller {
    Caller::moderator(user(200 + n))
}

fn settings() -> ModerationSettings {
    ModerationSettings {
        screen: ScreenSettings {
            blocklist: Blocklist::parse("foo"),
            ..ScreenSettings::default()
        },
        ..ModerationSettings::default()
    }
}

fn manual() -> ModerationSettings {
    let mut s = settings();
    s.screen.publish = PublishMode::Manual;
    s
}

fn comment(text: &str) -> Comment {
    Comment::new(text).unwrap()
}

fn submit(text: Option<&str>) -> Moderation {
    let comment = text.map(comment);
    Moderation::submit(user(AUTHOR), comment.as_ref(), &settings(), AT).state
}

fn published() -> Moderation {
    submit(Some("Great work"))
}

fn pending() -> Moderation {
    submit(Some("see www.example.com"))
}

fn spam() -> FlagRequest {
    FlagRequest {
        reason: FlagReason::Spam,
        explanation: None,
    }
}

fn decision(action: DecisionAction, target: DecisionTarget) -> DecisionRequest {
    DecisionRequest {
        action,
        rule: DecisionRule::new("no-ads").unwrap(),
        statement: Statement::new("The review advertises another business.").unwrap(),
        target,
    }
}

fn decide(state: &Moderation, by: &Caller, action: DecisionAction) -> Transition {
    state
        .decide(by, &decision(action, DecisionTarget::Review), later(5))
        .unwrap()
}

fn hidden_by(n: u128) -> Moderation {
    decide(&published(), &moderator(n), DecisionAction::Hide).state
}

fn appeal_request() -> AppealRequest {
    AppealRequest {
        explanation: provider_domain::AppealExplanation::new("It is true.").unwrap(),
    }
}

fn appealed(n: u128) -> Moderation {
    hidden_by(n)
        .appeal(&author(), &appeal_request(), later(10))
        .unwrap()
        .state
}

fn reply(text: &str) -> ReplyRequest {
    ReplyRequest {
        text: ReplyText::new(text).unwrap(),
    }
}

fn flagged_by(state: &Moderation, users: impl IntoIterator<Item = u128>) -> Transition {
    let mut last = None;
    let mut state = state.clone();
    for n in users {
        let t = state.flag(&someone(n), &spam(), &settings(), AT).unwrap();
        state = t.state.clone();
        last = Some(t);
    }
    last.unwrap()
}

fn names(t: &Transition) -> Vec<&'static str> {
    t.events.iter().map(|e| e.detail.name()).collect()
}

// ---------------------------------------------------------------------------------------------
// Submission
// ---------------------------------------------------------------------------------------------

#[test]
fn a_review_without_a_comment_is_published_at_once_with_no_decision() {
    for text in [None, Some(""), Some("   ")] {
        // Act
        let c = text.map(comment);
        let t = Moderation::submit(user(AUTHOR), c.as_ref(), &manual(), AT);

        // Assert
        assert_eq!(t.state.status, ReviewStatus::Published, "{text:?}");
        assert_eq!(t.state.decision, None);
        assert!(t.state.reasons.is_empty());
        assert_eq!(names(&t), ["submitted"]);
        assert_eq!(t.events[0].by, Some(user(AUTHOR)));
        assert_eq!(t.figures, FiguresChange::Entered);
        assert_eq!(t.flags_resolved, None);
    }
}

#[test]
fn a_screened_comment_is_held_under_an_automated_hold_named_after_its_first_reason() {
    // Arrange
    let c = comment("foo, see www.example.com");

    // Act
    let t = Moderation::submit(user(AUTHOR), Some(&c), &manual(), AT);

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Pending);
    assert_eq!(
        t.state.queue_reasons(),
        [Reason::BlockedTerm, Reason::Link, Reason::Manual]
    );
    assert_eq!(
        t.state.decision,
        Some(Decision::Hold {
            rule: Reason::BlockedTerm,
            at: AT
        })
    );
    assert_eq!(names(&t), ["submitted", "held"]);
    assert_eq!(t.events[1].by, None);
    assert_eq!(
        t.events[1].detail,
        EventDetail::Held {
            target: DecisionTarget::Review,
            reasons: vec![Reason::BlockedTerm, Reason::Link, Reason::Manual],
            rule: Reason::BlockedTerm,
        }
    );
    assert_eq!(t.figures, FiguresChange::Unchanged);
    assert!(t.state.in_queue());
}

#[test]
fn an_automated_hold_reads_as_a_hold_and_a_moderators_decision_as_its_action() {
    // Arrange
    let hold = pending().decision.unwrap();
    let hide = hidden_by(1).decision.unwrap();

    // Assert
    assert_eq!(hold.action_name(), "hold");
    assert!(hold.automated());
    assert_eq!(hold.decided_at(), AT);
    assert_eq!(hide.action_name(), "hide");
    assert!(!hide.automated());
    assert_eq!(hide.decided_at(), later(5));
}

// ---------------------------------------------------------------------------------------------
// Visibility
// ---------------------------------------------------------------------------------------------

#[test]
fn a_review_that_is_not_published_is_seen_by_its_author_and_moderators_only() {
    // Arrange: (status, viewer, sees)
    let anyone = Viewer::default();
    let the_author = Viewer {
        author: true,
        ..anyone
    };
    let a_moderator = Viewer {
        moderator: true,
        ..anyone
    };
    let the_owner = Viewer {
        owner: true,
        ..anyone
    };
    for status in ReviewStatus::ALL {
        let published = status == ReviewStatus::Published;

        // Act / Assert
        assert_eq!(can_see(status, anyone), published, "{status}");
        assert_eq!(can_see(status, the_owner), published, "{status}");
        assert!(can_see(status, the_author), "{status}");
        assert!(can_see(status, a_moderator), "{status}");
        assert_eq!(can_see_reply(status, anyone), published, "{status}");
        assert_eq!(can_see_reply(status, the_author), published, "{status}");
        assert!(can_see_reply(status, the_owner), "{status}");
        assert!(can_see_reply(status, a_moderator), "{status}");
    }
}

#[test]
fn a_viewer_is_built_from_the_caller_and_the_reviews_author_and_owner() {
    // Arrange
    let review = pending();

    // Act / Assert
    assert_eq!(review.viewer(None, user(OWNER)), Viewer::default());
    assert_eq!(
        review.viewer(Some(&author()), user(OWNER)),
        Viewer {
            author: true,
            owner: false,
            moderator: false
        }
    );
    assert_eq!(
        review.viewer(Some(&owner()), user(OWNER)),
        Viewer {
            author: false,
            owner: true,
            moderator: false
        }
    );
    assert_eq!(
        review.viewer(Some(&moderator(1)), user(OWNER)),
        Viewer {
            author: false,
            owner: false,
            moderator: true
        }
    );
    assert!(!review.visible_to(None));
    assert!(!review.visible_to(Some(&someone(1))));
    assert!(review.visible_to(Some(&author())));
    assert!(review.visible_to(Some(&moderator(1))));
    assert!(published().visible_to(None));
}

// ---------------------------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------------------------

#[test]
fn the_author_cannot_flag_their_own_review() {
    // Act
    let result = published().flag(&author(), &spam(), &settings(), AT);

    // Assert
    assert_eq!(result, Err(ModerationError::OwnReview));
    assert_eq!(ModerationError::OwnReview.kind(), RefusalKind::Forbidden);
}

#[test]
fn a_user_who_cannot_see_a_review_cannot_flag_it() {
    // Act
    let result = pending().flag(&someone(1), &spam(), &settings(), AT);

    // Assert
    assert_eq!(result, Err(ModerationError::NotFound));
    assert_eq!(ModerationError::NotFound.kind(), RefusalKind::NotFound);
}

#[test]
fn a_second_open_flag_by_the_same_user_is_a_conflict() {
    // Arrange
    let once = flagged_by(&published(), [1]).state;

    // Act
    let result = once.flag(&someone(1), &spam(), &settings(), AT);

    // Assert
    assert_eq!(result, Err(ModerationError::AlreadyFlagged));
    assert_eq!(
        ModerationError::AlreadyFlagged.kind(),
        RefusalKind::Conflict
    );
}

#[test]
fn a_flag_is_a_flagged_event_by_its_flagger_and_leaves_the_review_published_below_the_threshold() {
    // Act
    let t = flagged_by(&published(), [1, 2]);

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Published);
    assert_eq!(names(&t), ["flagged"]);
    assert_eq!(t.events[0].by, Some(someone(2).id));
    assert_eq!(
        t.events[0].detail,
        EventDetail::Flagged {
            reason: FlagReason::Spam
        }
    );
    assert_eq!(t.figures, FiguresChange::Unchanged);
    assert_eq!(t.state.flags.len(), 2);
}

#[test]
fn open_flags_from_three_distinct_users_hold_a_published_review() {
    // Act
    let t = flagged_by(&published(), [1, 2, 3]);

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Pending);
    assert_eq!(t.state.queue_reasons(), [Reason::Flagged]);
    assert_eq!(names(&t), ["flagged", "held"]);
    assert_eq!(t.events[1].by, None);
    assert_eq!(
        t.state.decision,
        Some(Decision::Hold {
            rule: Reason::Flagged,
            at: AT
        })
    );
    assert_eq!(t.figures, FiguresChange::Left);
}

#[test]
fn the_operator_sets_how_many_flags_hold_a_review() {
    // Arrange
    let one = ModerationSettings {
        flags_to_hold: NonZeroU32::new(1).unwrap(),
        ..settings()
    };

    // Act
    let t = published().flag(&someone(1), &spam(), &one, AT).unwrap();

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Pending);
    assert_eq!(ModerationSettings::default().flags_to_hold.get(), 3);
}

#[test]
fn flags_on_a_review_that_is_not_published_hold_nothing_more() {
    // Arrange: moderators see a pending review and may flag it.
    let mut state = pending();
    for n in 1..=3 {
        state = state
            .flag(&moderator(n), &spam(), &settings(), AT)
            .unwrap()
            .state;
    }

    // Assert
    assert_eq!(state.status, ReviewStatus::Pending);
    assert_eq!(state.queue_reasons(), [Reason::Link]);
    assert_eq!(state.flags_by_reason().get(&FlagReason::Spam), Some(&3));
}

#[test]
fn open_flags_are_counted_by_reason() {
    // Arrange
    let fake = FlagRequest {
        reason: FlagReason::Fake,
        explanation: None,
    };
    let state = flagged_by(&published(), [1, 2]).state;

    // Act
    let state = state
        .flag(&someone(3), &fake, &settings(), AT)
        .unwrap()
        .state;

    // Assert
    assert_eq!(
        state.flags_by_reason().into_iter().collect::<Vec<_>>(),
        [(FlagReason::Spam, 2), (FlagReason::Fake, 1)]
    );
}

// ---------------------------------------------------------------------------------------------
// Decisions
// ---------------------------------------------------------------------------------------------

#[test]
fn only_a_moderator_decides() {
    // Act
    let result = pending().decide(
        &someone(1),
        &decision(DecisionAction::Publish, DecisionTarget::Review),
        AT,
    );

    // Assert
    assert_eq!(result, Err(ModerationError::NotAModerator));
    assert_eq!(
        ModerationError::NotAModerator.kind(),
        RefusalKind::Forbidden
    );
}

#[test]
fn publishing_a_held_review_makes_it_count_and_rejects_its_open_flags() {
    // Arrange
    let held = flagged_by(&published(), [1, 2, 3]).state;

    // Act
    let t = decide(&held, &moderator(1), DecisionAction::Publish);

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Published);
    assert!(t.state.reasons.is_empty());
    assert!(t.state.flags.is_empty());
    assert_eq!(t.flags_resolved, Some(FlagStatus::Rejected));
    assert_eq!(t.figures, FiguresChange::Entered);
    assert!(!t.state.in_queue());
    assert_eq!(names(&t), ["decided"]);
    assert_eq!(t.events[0].by, Some(moderator(1).id));
    assert_eq!(
        t.events[0].detail,
        EventDetail::Decided {
            target: DecisionTarget::Review,
            action: DecisionAction::Publish,
            rule: DecisionRule::new("no-ads").unwrap(),
            statement: Statement::new("The review advertises another business.").unwrap(),
            flags: Some(FlagStatus::Rejected),
            appeal_decided: false,
        }
    );
}

#[test]
fn hiding_a_published_review_without_flags_stops_it_counting_and_upholds_open_flags() {
    // Arrange
    let flagged = flagged_by(&published(), [1]).state;

    // Act
    let t = decide(&flagged, &moderator(1), DecisionAction::Hide);

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Hidden);
    assert_eq!(t.flags_resolved, Some(FlagStatus::Upheld));
    assert_eq!(t.figures, FiguresChange::Left);
    assert!(!t.state.in_queue());
    assert!(t.state.can_appeal());
}

#[test]
fn moving_a_review_between_pending_and_hidden_changes_no_figure() {
    // Act
    let t = decide(&pending(), &moderator(1), DecisionAction::Hide);

    // Assert
    assert_eq!(t.figures, FiguresChange::Unchanged);
}

#[test]
fn only_flags_raised_after_the_latest_decision_count_toward_holding_again() {
    // Arrange
    let held = flagged_by(&published(), [1, 2, 3]).state;
    let republished = decide(&held, &moderator(1), DecisionAction::Publish).state;

    // Act: the same three users may flag again; two new flags do not hold it.
    let two = flagged_by(&republished, [1, 2]);
    let three = flagged_by(&two.state, [3]);

    // Assert
    assert_eq!(two.state.status, ReviewStatus::Published);
    assert_eq!(three.state.status, ReviewStatus::Pending);
}

#[test]
fn a_decision_on_a_reply_the_review_does_not_have_is_not_found() {
    // Act
    let result = published().decide(
        &moderator(1),
        &decision(DecisionAction::Hide, DecisionTarget::Reply),
        AT,
    );

    // Assert
    assert_eq!(result, Err(ModerationError::NoReply));
    assert_eq!(ModerationError::NoReply.kind(), RefusalKind::NotFound);
}

#[test]
fn a_decision_on_a_reply_changes_only_the_reply_and_resolves_no_flag() {
    // Arrange
    let with_reply = flagged_by(&published(), [1])
        .state
        .set_reply(&owner(), user(OWNER), &reply("Thanks!"), &settings(), AT)
        .unwrap()
        .state;

    // Act
    let t = with_reply
        .decide(
            &moderator(1),
            &decision(DecisionAction::Hide, DecisionTarget::Reply),
            AT,
        )
        .unwrap();

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Published);
    assert_eq!(t.state.reply.as_ref().unwrap().status, ReviewStatus::Hidden);
    assert_eq!(t.state.flags.len(), 1);
    assert_eq!(t.flags_resolved, None);
    assert_eq!(t.figures, FiguresChange::Unchanged);
    assert!(matches!(
        t.events[0].detail,
        EventDetail::Decided {
            target: DecisionTarget::Reply,
            flags: None,
            ..
        }
    ));
}

// ---------------------------------------------------------------------------------------------
// Appeals
// ---------------------------------------------------------------------------------------------

#[test]
fn the_author_appeals_a_hidden_review_which_joins_the_queue_and_stays_hidden() {
    // Act
    let t = hidden_by(1)
        .appeal(&author(), &appeal_request(), later(10))
        .unwrap();

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Hidden);
    assert_eq!(t.state.queue_reasons(), [Reason::Appeal]);
    assert!(t.state.in_queue());
    assert!(!t.state.can_appeal());
    assert_eq!(
        t.state.appeal.map(|a| (a.against, a.status, a.at)),
        Some((moderator(1).id, AppealStatus::Open, later(10)))
    );
    assert_eq!(names(&t), ["appealed"]);
    assert_eq!(t.events[0].by, Some(user(AUTHOR)));
    assert_eq!(t.figures, FiguresChange::Unchanged);
}

#[test]
fn only_the_author_may_appeal_and_anyone_else_is_told_it_does_not_exist() {
    for caller in [someone(1), owner(), moderator(2)] {
        // Act
        let result = hidden_by(1).appeal(&caller, &appeal_request(), AT);

        // Assert
        assert_eq!(result, Err(ModerationError::NotFound));
    }
}

#[test]
fn there_is_nothing_to_appeal_unless_a_moderator_hid_the_review() {
    // Arrange
    let republished = decide(&pending(), &moderator(1), DecisionAction::Publish).state;

    for state in [published(), pending(), republished] {
        // Act
        let result = state.appeal(&author(), &appeal_request(), AT);

        // Assert
        assert_eq!(result, Err(ModerationError::NothingToAppeal));
        assert_eq!(
            ModerationError::NothingToAppeal.kind(),
            RefusalKind::Conflict
        );
    }
}

#[test]
fn a_decision_is_appealed_once() {
    // Act
    let result = appealed(1).appeal(&author(), &appeal_request(), AT);

    // Assert
    assert_eq!(result, Err(ModerationError::AlreadyAppealed));
    assert_eq!(
        ModerationError::AlreadyAppealed.kind(),
        RefusalKind::Conflict
    );
}

#[test]
fn a_moderator_cannot_decide_an_appeal_against_their_own_decision() {
    // Act
    let result = appealed(1).decide(
        &moderator(1),
        &decision(DecisionAction::Publish, DecisionTarget::Review),
        AT,
    );

    // Assert
    assert_eq!(result, Err(ModerationError::OwnDecision));
    assert_eq!(ModerationError::OwnDecision.kind(), RefusalKind::Forbidden);
}

#[test]
fn the_moderator_whose_decision_is_appealed_may_still_decide_the_reply() {
    // Arrange
    let mut state = appealed(1);
    state.reply = Some(provider_domain::Reply {
        status: ReviewStatus::Pending,
        reasons: [Reason::Link].into(),
    });

    // Act
    let result = state.decide(
        &moderator(1),
        &decision(DecisionAction::Publish, DecisionTarget::Reply),
        AT,
    );

    // Assert
    assert!(result.is_ok());
}

#[test]
fn another_moderator_decides_the_appeal_and_a_new_hide_may_be_appealed_again() {
    // Act
    let t = decide(&appealed(1), &moderator(2), DecisionAction::Hide);

    // Assert
    assert_eq!(t.state.appeal.unwrap().status, AppealStatus::Decided);
    assert!(matches!(
        t.events[0].detail,
        EventDetail::Decided {
            appeal_decided: true,
            ..
        }
    ));
    assert!(!t.state.in_queue());
    assert!(t.state.can_appeal());
    assert_eq!(
        t.state
            .appeal(&author(), &appeal_request(), AT)
            .unwrap()
            .state
            .appeal
            .unwrap()
            .against,
        moderator(2).id
    );
}

#[test]
fn an_appeal_upheld_by_publishing_makes_the_review_count_again() {
    // Act
    let t = decide(&appealed(1), &moderator(2), DecisionAction::Publish);

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Published);
    assert_eq!(t.figures, FiguresChange::Entered);
    assert!(!t.state.can_appeal());
}

// ---------------------------------------------------------------------------------------------
// Edits
// ---------------------------------------------------------------------------------------------

fn edit(state: &Moderation, text: &str, settings: &ModerationSettings) -> Transition {
    state
        .edit(&author(), Some(&comment(text)), settings, later(20))
        .unwrap()
}

#[test]
fn only_the_author_may_edit_or_withdraw_a_review() {
    for caller in [someone(1), owner(), moderator(1)] {
        // Act
        let edited = published().edit(&caller, None, &settings(), AT);
        let withdrawn = published().withdraw(&caller, AT);

        // Assert
        assert_eq!(edited, Err(ModerationError::NotFound));
        assert_eq!(withdrawn, Err(ModerationError::NotFound));
    }
}

#[test]
fn an_edit_of_a_published_review_that_passes_the_screen_replaces_its_figures() {
    // Act
    let t = edit(&published(), "Even better than I said", &settings());

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Published);
    assert_eq!(t.figures, FiguresChange::Replaced);
    assert_eq!(names(&t), ["edited"]);
    assert_eq!(
        t.events[0].detail,
        EventDetail::Edited {
            status: ReviewStatus::Published,
            reasons: vec![]
        }
    );
}

#[test]
fn a_published_review_whose_new_text_is_screened_becomes_pending() {
    // Act
    let t = edit(&published(), "call 020 7946 0958", &settings());

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Pending);
    assert_eq!(t.state.queue_reasons(), [Reason::ContactDetails]);
    assert_eq!(t.figures, FiguresChange::Left);
    assert_eq!(names(&t), ["edited", "held"]);
    assert_eq!(
        t.state.decision,
        Some(Decision::Hold {
            rule: Reason::ContactDetails,
            at: later(20)
        })
    );
}

#[test]
fn a_review_held_only_by_the_screen_is_published_when_its_new_text_passes() {
    // Act
    let t = edit(&pending(), "Great work", &settings());

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Published);
    assert!(t.state.reasons.is_empty());
    assert_eq!(t.state.decision, None);
    assert_eq!(t.figures, FiguresChange::Entered);
    assert_eq!(names(&t), ["edited"]);
}

#[test]
fn a_review_held_only_by_the_screen_stays_pending_for_what_its_new_text_holds() {
    // Act
    let t = edit(&pending(), "foo", &settings());

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Pending);
    assert_eq!(t.state.queue_reasons(), [Reason::BlockedTerm]);
    assert_eq!(t.figures, FiguresChange::Unchanged);
    assert_eq!(names(&t), ["edited"]);
    assert_eq!(t.state.decision, pending().decision);
}

#[test]
fn a_hidden_review_edited_becomes_pending_for_a_person_whatever_the_screen_says() {
    for (text, reasons) in [
        ("Great work", vec![Reason::Edited]),
        ("www.example.com", vec![Reason::Link, Reason::Edited]),
    ] {
        // Act
        let t = edit(&hidden_by(1), text, &settings());

        // Assert
        assert_eq!(t.state.status, ReviewStatus::Pending, "{text}");
        assert_eq!(t.state.queue_reasons(), reasons, "{text}");
        assert_eq!(t.figures, FiguresChange::Unchanged);
        assert_eq!(names(&t), ["edited", "held"]);
        assert!(t.state.in_queue());
    }
}

#[test]
fn a_review_held_by_flags_an_appeal_manual_or_an_earlier_edit_stays_pending_when_edited() {
    // Arrange
    let by_flags = flagged_by(&published(), [1, 2, 3]).state;
    let by_appeal = edit(&appealed(1), "Great work", &settings()).state;
    let by_manual = Moderation::submit(user(AUTHOR), Some(&comment("Great")), &manual(), AT).state;
    let by_edit = edit(&hidden_by(1), "Great work", &settings()).state;
    let cases = [
        (by_flags, vec![Reason::Flagged]),
        (by_appeal, vec![Reason::Appeal, Reason::Edited]),
        (by_manual, vec![Reason::Manual]),
        (by_edit, vec![Reason::Edited]),
    ];

    for (state, reasons) in cases {
        // Act: automatic publishing, and a text that passes.
        let t = edit(&state, "Great work, really", &settings());

        // Assert
        assert_eq!(t.state.status, ReviewStatus::Pending, "{reasons:?}");
        assert_eq!(t.state.queue_reasons(), reasons);
        assert_eq!(t.figures, FiguresChange::Unchanged);
        assert_eq!(names(&t), ["edited"]);
    }
}

#[test]
fn an_edited_review_with_an_open_appeal_is_still_not_decided_by_the_moderator_it_contests() {
    // Arrange
    let edited = edit(&appealed(1), "Great work", &settings()).state;

    // Act
    let own = edited.decide(
        &moderator(1),
        &decision(DecisionAction::Publish, DecisionTarget::Review),
        AT,
    );
    let other = decide(&edited, &moderator(2), DecisionAction::Publish);

    // Assert
    assert_eq!(own, Err(ModerationError::OwnDecision));
    assert_eq!(other.state.status, ReviewStatus::Published);
    assert_eq!(other.state.appeal.unwrap().status, AppealStatus::Decided);
}

#[test]
fn a_review_that_would_be_published_with_enough_open_flags_is_held_for_them() {
    // Arrange: moderators flag a review the screen held.
    let mut state = pending();
    for n in 1..=3 {
        state = state
            .flag(&moderator(n), &spam(), &settings(), AT)
            .unwrap()
            .state;
    }

    // Act
    let t = edit(&state, "Great work", &settings());

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Pending);
    assert_eq!(t.state.queue_reasons(), [Reason::Flagged]);
    assert_eq!(t.figures, FiguresChange::Unchanged);
}

#[test]
fn an_edit_to_no_comment_passes_the_screen() {
    // Act
    let t = pending().edit(&author(), None, &manual(), AT).unwrap();

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Published);
}

// ---------------------------------------------------------------------------------------------
// Withdrawal
// ---------------------------------------------------------------------------------------------

#[test]
fn withdrawing_a_published_review_takes_it_out_of_the_figures() {
    // Act
    let w = published().withdraw(&author(), later(30)).unwrap();

    // Assert
    assert_eq!(w.figures, FiguresChange::Left);
    assert_eq!(w.event.detail, EventDetail::Withdrawn);
    assert_eq!(w.event.by, Some(user(AUTHOR)));
    assert_eq!(w.event.at, later(30));
}

#[test]
fn withdrawing_a_review_that_does_not_count_changes_no_figure() {
    for state in [pending(), hidden_by(1)] {
        // Act
        let w = state.withdraw(&author(), AT).unwrap();

        // Assert
        assert_eq!(w.figures, FiguresChange::Unchanged);
    }
}

// ---------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------

#[test]
fn only_the_providers_owner_replies_and_anyone_else_is_told_it_does_not_exist() {
    for caller in [someone(1), author(), moderator(1)] {
        // Act
        let set = published().set_reply(&caller, user(OWNER), &reply("Hi"), &settings(), AT);
        let removed = published().remove_reply(&caller, user(OWNER), AT);

        // Assert
        assert_eq!(set, Err(ModerationError::NotFound));
        assert_eq!(removed, Err(ModerationError::NotFound));
    }
}

#[test]
fn the_owner_cannot_reply_to_a_review_they_cannot_see() {
    // Act
    let result = pending().set_reply(&owner(), user(OWNER), &reply("Hi"), &settings(), AT);

    // Assert
    assert_eq!(result, Err(ModerationError::NotFound));
}

#[test]
fn a_reply_that_passes_the_screen_is_published_and_changes_no_figure() {
    // Act
    let t = published()
        .set_reply(&owner(), user(OWNER), &reply("Thank you!"), &settings(), AT)
        .unwrap();

    // Assert
    let reply = t.state.reply.as_ref().unwrap();
    assert_eq!(reply.status, ReviewStatus::Published);
    assert_eq!(names(&t), ["replied"]);
    assert_eq!(t.events[0].by, Some(user(OWNER)));
    assert_eq!(
        t.events[0].detail,
        EventDetail::Replied {
            status: Some(ReviewStatus::Published)
        }
    );
    assert_eq!(t.figures, FiguresChange::Unchanged);
    assert!(!t.state.in_queue());
}

#[test]
fn a_screened_reply_waits_and_puts_the_review_in_the_queue() {
    // Act
    let t = published()
        .set_reply(
            &owner(),
            user(OWNER),
            &reply("www.example.com"),
            &settings(),
            AT,
        )
        .unwrap();

    // Assert
    assert_eq!(t.state.status, ReviewStatus::Published);
    assert_eq!(
        t.state.reply.as_ref().unwrap().status,
        ReviewStatus::Pending
    );
    assert!(t.state.in_queue());
    assert_eq!(t.state.queue_reasons(), [Reason::Reply]);
    assert_eq!(names(&t), ["replied", "held"]);
    assert!(matches!(
        t.events[1].detail,
        EventDetail::Held {
            target: DecisionTarget::Reply,
            rule: Reason::Link,
            ..
        }
    ));
}

#[test]
fn a_reply_replaced_while_it_waits_is_held_once() {
    // Arrange
    let waiting = published()
        .set_reply(&owner(), user(OWNER), &reply("www.a.com"), &settings(), AT)
        .unwrap()
        .state;

    // Act
    let t = waiting
        .set_reply(&owner(), user(OWNER), &reply("www.b.com"), &settings(), AT)
        .unwrap();

    // Assert
    assert_eq!(names(&t), ["replied"]);
}

#[test]
fn a_hidden_reply_replaced_waits_for_a_person_again() {
    // Arrange
    let hidden = published()
        .set_reply(&owner(), user(OWNER), &reply("Thanks"), &settings(), AT)
        .unwrap()
        .state
        .decide(
            &moderator(1),
            &decision(DecisionAction::Hide, DecisionTarget::Reply),
            AT,
        )
        .unwrap()
        .state;

    // Act
    let t = hidden
        .set_reply(
            &owner(),
            user(OWNER),
            &reply("Thanks again"),
            &settings(),
            AT,
        )
        .unwrap();

    // Assert
    let reply = t.state.reply.as_ref().unwrap();
    assert_eq!(reply.status, ReviewStatus::Pending);
    assert_eq!(reply.reasons, [Reason::Edited].into());
}

#[test]
fn the_owner_removes_a_reply_and_there_is_none_to_remove_twice() {
    // Arrange
    let with_reply = published()
        .set_reply(&owner(), user(OWNER), &reply("Thanks"), &settings(), AT)
        .unwrap()
        .state;

    // Act
    let t = with_reply.remove_reply(&owner(), user(OWNER), AT).unwrap();
    let again = t.state.remove_reply(&owner(), user(OWNER), AT);

    // Assert
    assert_eq!(t.state.reply, None);
    assert_eq!(t.events[0].detail, EventDetail::Replied { status: None });
    assert_eq!(t.figures, FiguresChange::Unchanged);
    assert_eq!(again, Err(ModerationError::NoReply));
}

#[test]
fn a_moderator_who_owns_the_provider_may_reply_to_a_review_that_waits() {
    // Arrange
    let both = Caller::moderator(user(OWNER));

    // Act
    let result = pending().set_reply(&both, user(OWNER), &reply("Hi"), &settings(), AT);

    // Assert
    assert!(result.is_ok());
}

// ---------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------

#[test]
fn no_event_holds_the_text_of_a_review_a_reply_a_flag_or_an_appeal() {
    // Arrange: every text holds a marker; the statement of reasons (which events may hold)
    // does not.
    let marker = "Zanzibar";
    let review = comment(&format!("{marker} www.example.com"));
    let mut events = Vec::new();
    let mut record = |t: Transition| {
        events.extend(t.events.clone());
        t.state
    };
    let state = record(Moderation::submit(
        user(AUTHOR),
        Some(&review),
        &settings(),
        AT,
    ));
    let state = record(decide(&state, &moderator(1), DecisionAction::Publish));
    let state = record(
        state
            .set_reply(&owner(), user(OWNER), &reply(marker), &settings(), AT)
            .unwrap(),
    );
    let flag = FlagRequest::parse(&provider_domain::FlagInput {
        reason: FlagReason::Other,
        explanation: Some(marker.into()),
    })
    .unwrap();
    let state = record(state.flag(&someone(1), &flag, &settings(), AT).unwrap());
    let state = record(decide(&state, &moderator(1), DecisionAction::Hide));
    let appeal = AppealRequest {
        explanation: provider_domain::AppealExplanation::new(marker).unwrap(),
    };
    let state = record(state.appeal(&author(), &appeal, AT).unwrap());
    let state = record(edit(&state, marker, &settings()));
    events.push(state.withdraw(&author(), AT).unwrap().event);

    // Assert
    assert_eq!(
        events.iter().map(|e| e.detail.name()).collect::<Vec<_>>(),
        [
            "submitted",
            "held",
            "decided",
            "replied",
            "flagged",
            "decided",
            "appealed",
            "edited",
            "held",
            "withdrawn"
        ]
    );
    for event in &events {
        assert!(!format!("{event:?}").contains(marker), "{event:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

#[test]
fn statuses_and_reasons_have_the_contracts_names_in_the_contracts_order() {
    // Assert
    assert_eq!(
        ReviewStatus::ALL.map(ReviewStatus::as_str),
        ["published", "pending", "hidden"]
    );
    assert_eq!(
        Reason::ALL.map(Reason::as_str),
        [
            "blocked_term",
            "profanity",
            "link",
            "contact_details",
            "manual",
            "flagged",
            "appeal",
            "edited",
            "reply"
        ]
    );
    for status in ReviewStatus::ALL {
        assert_eq!(ReviewStatus::parse(status.as_str()), Some(status));
        assert_eq!(status.to_string(), status.as_str());
        assert_eq!(status.counts(), status == ReviewStatus::Published);
    }
    for reason in Reason::ALL {
        assert_eq!(Reason::parse(reason.as_str()), Some(reason));
        assert_eq!(reason.to_string(), reason.as_str());
    }
    assert_eq!(ReviewStatus::parse("deleted"), None);
    assert_eq!(Reason::parse("spam"), None);
    assert_eq!(
        FlagStatus::ALL.map(FlagStatus::as_str),
        ["open", "upheld", "rejected"]
    );
    for status in FlagStatus::ALL {
        assert_eq!(FlagStatus::parse(status.as_str()), Some(status));
    }
    assert_eq!(
        AppealStatus::ALL.map(AppealStatus::as_str),
        ["open", "decided"]
    );
    for status in AppealStatus::ALL {
        assert_eq!(AppealStatus::parse(status.as_str()), Some(status));
    }
    assert_eq!(FlagStatus::parse("closed"), None);
    assert_eq!(AppealStatus::parse("closed"), None);
    assert_eq!(
        Reason::ALL.map(Reason::is_screen),
        [true, true, true, true, true, false, false, false, false]
    );
    assert_eq!(
        Reason::ALL.map(Reason::needs_a_person),
        [false, false, false, false, true, true, true, true, false]
    );
    assert_eq!(
        [FlagStatus::Open, FlagStatus::Upheld, FlagStatus::Rejected].map(FlagStatus::as_str),
        ["open", "upheld", "rejected"]
    );
    assert_eq!(
        [AppealStatus::Open, AppealStatus::Decided].map(AppealStatus::as_str),
        ["open", "decided"]
    );
}

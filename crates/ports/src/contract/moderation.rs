//! The moderation cases of the contract: every rule of the moderation section, run through
//! [`ProviderService`] over the store under test, so that a store passes only when it keeps
//! what the domain's state machine decides (statuses, flags, decisions, appeals, replies,
//! history, the queue) and the provider's figures exactly: only published reviews count.

use super::{draft, provider, user, Subject};
use crate::moderation::StoredReview;
use crate::{Clock, NewReview, Page, Paging, ProviderService, RepoError, ServiceError, Version};
use provider_domain::{
    figures, AppealInput, Caller, Contribution, DecisionAction, DecisionInput, DecisionTarget,
    EventDetail, FlagInput, FlagReason, FlagStatus, ModerationError, ModerationSettings, Provider,
    ProviderId, Reason, ReplyInput, ReviewId, ReviewStatus, SkillRatingInput, UserId,
};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use time::OffsetDateTime;

/// A clock that moves one second each time it is read: every operation has its own instant.
#[derive(Debug, Default)]
struct Ticking(AtomicI64);

impl Clock for Ticking {
    fn now(&self) -> OffsetDateTime {
        let tick = self.0.fetch_add(1, Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp(1_800_000_000 + tick).expect("valid instant")
    }
}

/// The service over the store under test, with `flags_to_hold` and a ticking clock.
fn service(s: &Subject, flags_to_hold: u32) -> ProviderService {
    let settings = ModerationSettings {
        flags_to_hold: NonZeroU32::new(flags_to_hold).expect("at least one"),
        ..ModerationSettings::default()
    };
    ProviderService::with_clock(
        s.providers.clone(),
        s.reviews.clone(),
        s.keys.clone(),
        Arc::new(Ticking::default()),
    )
    .with_moderation(settings)
}

/// A provider with the skills `SEO` and `Design`, stored.
async fn seo_provider(s: &Subject) -> Provider {
    let p = provider(user(), draft("Moderated", &["SEO", "Design"], 100, &[]));
    s.providers.create(&p).await.expect("create");
    p
}

fn body(tenths: u8, comment: Option<&str>) -> NewReview {
    NewReview {
        rating: f64::from(tenths) / 10.0,
        comment: comment.map(str::to_owned),
        skill_ratings: vec![SkillRatingInput {
            skill: "SEO".into(),
            rating: f64::from(tenths) / 10.0,
        }],
    }
}

/// `author` reviews `provider` with `body` through the service; the new review's id.
async fn submit(
    svc: &ProviderService,
    author: UserId,
    provider: ProviderId,
    body: &NewReview,
) -> ReviewId {
    svc.add_review(author, provider, body)
        .await
        .expect("add")
        .value
        .review
        .id
}

fn decision(action: DecisionAction, target: DecisionTarget) -> DecisionInput {
    DecisionInput {
        action,
        rule: "3.2 contact details".into(),
        statement: "The comment gives a way to contact the provider off the platform.".into(),
        target,
    }
}

fn publish() -> DecisionInput {
    decision(DecisionAction::Publish, DecisionTarget::Review)
}

fn hide() -> DecisionInput {
    decision(DecisionAction::Hide, DecisionTarget::Review)
}

fn flag(reason: FlagReason) -> FlagInput {
    FlagInput {
        reason,
        explanation: None,
    }
}

fn moderator() -> Caller {
    Caller::moderator(user())
}

fn refused(got: Result<impl std::fmt::Debug, ServiceError>, expected: ModerationError) {
    match got {
        Err(ServiceError::Refused(e)) if e == expected => {}
        other => panic!("expected {expected:?}, got {other:?}"),
    }
}

/// Asserts the provider's figures (overall and per skill) are a recomputation from its
/// published reviews among `reviews` (every review ever written of it; gone ones are skipped),
/// and that its version is `version`.
async fn assert_figures_exact(
    s: &Subject,
    provider: ProviderId,
    reviews: &[ReviewId],
    version: u64,
) {
    let mut stored: Vec<StoredReview> = Vec::new();
    for id in reviews {
        match s.reviews.find(*id).await {
            Ok(review) => stored.push(review),
            Err(RepoError::NotFound) => {}
            Err(e) => panic!("find: {e}"),
        }
    }
    let expected = figures(
        stored
            .iter()
            .map(|r| (r.moderation.status, Contribution::of(&r.review))),
    );
    let got = s.providers.get(provider).await.expect("get");
    assert_eq!(got.value.reviews, expected.reviews, "overall figures");
    assert_eq!(
        got.value.skill_reviews,
        expected.skill_reviews.visible(&got.value.skills),
        "per-skill figures"
    );
    assert_eq!(got.version, Version::new(version), "version");
}

/// A review the screen holds counts nowhere and is listed nowhere but in the queue until a
/// moderator publishes it; then it counts, once, and the provider's version rises once.
pub async fn a_held_review_counts_only_once_published(s: &Subject) {
    let svc = service(s, 3);
    let p = seo_provider(s).await;
    let author = user();
    let held = svc
        .add_review(author, p.id, &body(40, Some("Mail me: jo@example.com")))
        .await
        .expect("add")
        .value;
    assert_eq!(held.moderation.status, ReviewStatus::Pending);
    assert_eq!(
        held.moderation.queue_reasons(),
        vec![Reason::ContactDetails]
    );
    let id = held.review.id;
    assert_figures_exact(s, p.id, &[id], 1).await;
    let listed = s
        .reviews
        .list(p.id, Paging::Offset(Page::default()))
        .await
        .expect("list");
    assert!(listed.items.is_empty(), "a held review is not listed");
    let queue = s.reviews.queue(Page::default()).await.expect("queue");
    assert_eq!(queue.items, vec![held.clone()]);
    assert_eq!(s.reviews.queue_size().await.expect("size"), 1);

    let published = svc
        .decide(&moderator(), id, &publish())
        .await
        .expect("decide")
        .value;
    assert_eq!(published.moderation.status, ReviewStatus::Published);
    assert!(published.queued_at.is_none());
    assert_eq!(published.revision, held.revision.next());
    assert_figures_exact(s, p.id, &[id], 2).await;
    let listed = s
        .reviews
        .list(p.id, Paging::Offset(Page::default()))
        .await
        .expect("list");
    assert_eq!(listed.items, vec![published]);
    assert_eq!(s.reviews.queue_size().await.expect("size"), 0);
    let names: Vec<&str> = s
        .reviews
        .history(id)
        .await
        .expect("history")
        .iter()
        .map(|e| e.detail.name())
        .collect();
    assert_eq!(names, ["submitted", "held", "decided"]);
}

/// Hiding a published review takes it out of every figure; publishing it again puts it back;
/// a move between pending and hidden changes neither the figures nor the version.
pub async fn hiding_and_publishing_move_the_figures_exactly(s: &Subject) {
    let svc = service(s, 3);
    let p = seo_provider(s).await;
    let kept = submit(&svc, user(), p.id, &body(20, None)).await;
    let id = submit(&svc, user(), p.id, &body(50, Some("Great work"))).await;
    let all = [kept, id];
    assert_figures_exact(s, p.id, &all, 3).await;
    svc.decide(&moderator(), id, &hide()).await.expect("hide");
    assert_figures_exact(s, p.id, &all, 4).await;
    svc.decide(&moderator(), id, &publish())
        .await
        .expect("publish");
    assert_figures_exact(s, p.id, &all, 5).await;

    let held = submit(&svc, user(), p.id, &body(10, Some("see www.example.com"))).await;
    let all = [kept, id, held];
    svc.decide(&moderator(), held, &hide()).await.expect("hide");
    assert_figures_exact(s, p.id, &all, 5).await;
}

/// Flags: one open flag per user, never on one's own review, and open flags from enough
/// distinct users hold a published review (an automated hold); a decision resolves them all,
/// so only later flags count toward holding it again.
pub async fn enough_flags_hold_a_review_and_a_decision_resolves_them(s: &Subject) {
    let svc = service(s, 2);
    let p = seo_provider(s).await;
    let author = user();
    let id = submit(&svc, author, p.id, &body(30, Some("Fine"))).await;
    let (a, b) = (Caller::user(user()), Caller::user(user()));
    let first = svc
        .flag_review(&a, id, &flag(FlagReason::Spam))
        .await
        .expect("flag")
        .value;
    assert_eq!(first.status, FlagStatus::Open);
    assert_eq!((first.review_id, first.flagger), (id, a.id));
    assert_eq!(svc.flag(&a, first.id).await.expect("own flag"), first);
    assert!(matches!(
        svc.flag(&b, first.id).await,
        Err(ServiceError::Missing(_))
    ));
    refused(
        svc.flag_review(&a, id, &flag(FlagReason::Fake)).await,
        ModerationError::AlreadyFlagged,
    );
    refused(
        svc.flag_review(&Caller::user(author), id, &flag(FlagReason::Fake))
            .await,
        ModerationError::OwnReview,
    );
    assert_figures_exact(s, p.id, &[id], 2).await;
    let second = svc
        .flag_review(&b, id, &flag(FlagReason::Offensive))
        .await
        .expect("flag")
        .value;
    let held = s.reviews.find(id).await.expect("find");
    assert_eq!(held.moderation.status, ReviewStatus::Pending);
    assert_eq!(held.moderation.queue_reasons(), vec![Reason::Flagged]);
    assert_eq!(held.moderation.flags_by_reason().len(), 2);
    assert_figures_exact(s, p.id, &[id], 3).await;
    // Anyone else is told it does not exist; the flaggers too, now it is held.
    refused(svc.review(None, id).await, ModerationError::NotFound);
    refused(
        svc.flag_review(&Caller::user(user()), id, &flag(FlagReason::Spam))
            .await,
        ModerationError::NotFound,
    );

    svc.decide(&moderator(), id, &publish())
        .await
        .expect("publish");
    for f in [&first, &second] {
        let resolved = svc.flag(&moderator(), f.id).await.expect("flag");
        assert_eq!(resolved.status, FlagStatus::Rejected);
    }
    assert_figures_exact(s, p.id, &[id], 4).await;
    // Resolved flags no longer count: one new flag does not hold it.
    let again = svc
        .flag_review(&a, id, &flag(FlagReason::Spam))
        .await
        .expect("flag again");
    assert_eq!(again.value.status, FlagStatus::Open);
    let still = s.reviews.find(id).await.expect("find");
    assert_eq!(still.moderation.status, ReviewStatus::Published);
    svc.decide(&moderator(), id, &hide()).await.expect("hide");
    let upheld = svc.flag(&moderator(), again.value.id).await.expect("flag");
    assert_eq!(upheld.status, FlagStatus::Upheld);
}

/// An appeal: only of a moderator's hide, once per decision, decided by another moderator.
pub async fn an_appeal_is_decided_by_another_moderator(s: &Subject) {
    let svc = service(s, 3);
    let p = seo_provider(s).await;
    let author = Caller::user(user());
    let id = submit(&svc, author.id, p.id, &body(10, Some("Slow"))).await;
    let appeal = AppealInput {
        explanation: "It was slow; that is a fair review.".into(),
    };
    refused(
        svc.appeal(&author, id, &appeal).await,
        ModerationError::NothingToAppeal,
    );
    let (first, second) = (moderator(), moderator());
    svc.decide(&first, id, &hide()).await.expect("hide");
    refused(
        svc.appeal(&Caller::user(user()), id, &appeal).await,
        ModerationError::NotFound,
    );
    let appealed = svc
        .appeal(&author, id, &appeal)
        .await
        .expect("appeal")
        .value;
    assert_eq!(appealed.moderation.status, ReviewStatus::Hidden);
    assert_eq!(appealed.moderation.queue_reasons(), vec![Reason::Appeal]);
    assert_eq!(
        appealed.appeal.as_ref().map(|a| a.explanation.as_str()),
        Some(appeal.explanation.as_str())
    );
    let queue = s.reviews.queue(Page::default()).await.expect("queue");
    assert_eq!(queue.items, vec![appealed.clone()]);
    refused(
        svc.appeal(&author, id, &appeal).await,
        ModerationError::AlreadyAppealed,
    );
    refused(
        svc.decide(&first, id, &publish()).await,
        ModerationError::OwnDecision,
    );
    let decided = svc
        .decide(&second, id, &publish())
        .await
        .expect("decide")
        .value;
    assert_eq!(decided.moderation.status, ReviewStatus::Published);
    assert!(decided.queued_at.is_none());
    assert_figures_exact(s, p.id, &[id], 4).await;
}

/// The author's edit is screened again: a published review's new figures replace the old
/// ones; a screened text holds it; a text that passes publishes one held by the screen only;
/// a hidden review edited waits for a person (`edited`).
pub async fn an_edit_is_screened_again_and_replaces_the_figures(s: &Subject) {
    let svc = service(s, 3);
    let p = seo_provider(s).await;
    let author = Caller::user(user());
    let id = submit(&svc, author.id, p.id, &body(20, None)).await;
    refused(
        svc.edit_review(&Caller::user(user()), id, &body(50, None))
            .await,
        ModerationError::NotFound,
    );
    let edited = svc
        .edit_review(&author, id, &body(45, Some("Better than I said")))
        .await
        .expect("edit")
        .value;
    assert_eq!(edited.review.rating.tenths(), 45);
    assert_eq!(edited.moderation.status, ReviewStatus::Published);
    assert_figures_exact(s, p.id, &[id], 3).await;
    let held = svc
        .edit_review(&author, id, &body(45, Some("call 020 7946 0958")))
        .await
        .expect("edit")
        .value;
    assert_eq!(held.moderation.status, ReviewStatus::Pending);
    assert_figures_exact(s, p.id, &[id], 4).await;
    let passed = svc
        .edit_review(&author, id, &body(30, Some("Fine")))
        .await
        .expect("edit")
        .value;
    assert_eq!(passed.moderation.status, ReviewStatus::Published);
    assert_figures_exact(s, p.id, &[id], 5).await;
    svc.decide(&moderator(), id, &hide()).await.expect("hide");
    let again = svc
        .edit_review(&author, id, &body(30, Some("Fine, really")))
        .await
        .expect("edit")
        .value;
    assert_eq!(again.moderation.status, ReviewStatus::Pending);
    assert_eq!(again.moderation.queue_reasons(), vec![Reason::Edited]);
    assert_figures_exact(s, p.id, &[id], 6).await;
}

/// Withdrawing removes the review, its skill ratings and flags from everything but its
/// history (a `withdrawn` event); the author may review the provider again.
pub async fn a_withdrawn_review_leaves_only_its_history(s: &Subject) {
    let svc = service(s, 3);
    let p = seo_provider(s).await;
    let author = Caller::user(user());
    let id = submit(&svc, author.id, p.id, &body(40, Some("Good"))).await;
    let raised = svc
        .flag_review(&Caller::user(user()), id, &flag(FlagReason::Fake))
        .await
        .expect("flag")
        .value;
    refused(
        svc.withdraw_review(&Caller::user(user()), id).await,
        ModerationError::NotFound,
    );
    svc.withdraw_review(&author, id).await.expect("withdraw");
    assert!(matches!(s.reviews.find(id).await, Err(RepoError::NotFound)));
    assert!(matches!(
        s.reviews.flag(raised.id).await,
        Err(RepoError::NotFound)
    ));
    assert_figures_exact(s, p.id, &[id], 3).await;
    let history = svc.review_history(&moderator(), id).await.expect("history");
    let last = history.last().expect("events");
    assert_eq!(last.detail, EventDetail::Withdrawn);
    assert_eq!(last.by, Some(author.id));
    let again = svc
        .add_review(author.id, p.id, &body(30, None))
        .await
        .expect("review again");
    assert_figures_exact(s, p.id, &[id, again.value.review.id], 4).await;
}

/// Only the provider's owner replies; the reply is screened like a comment and decided on its
/// own, and never changes the figures.
pub async fn the_owner_replies_and_a_held_reply_waits_in_the_queue(s: &Subject) {
    let svc = service(s, 3);
    let p = seo_provider(s).await;
    let owner = Caller::user(p.owner);
    let id = submit(&svc, user(), p.id, &body(40, None)).await;
    let text = |t: &str| ReplyInput { text: t.into() };
    refused(
        svc.set_reply(&Caller::user(user()), id, &text("Thanks"))
            .await,
        ModerationError::NotFound,
    );
    refused(
        svc.decide(
            &moderator(),
            id,
            &decision(DecisionAction::Publish, DecisionTarget::Reply),
        )
        .await,
        ModerationError::NoReply,
    );
    let replied = svc
        .set_reply(&owner, id, &text("Thanks!"))
        .await
        .expect("reply")
        .value;
    let reply = replied.reply.clone().expect("reply");
    assert_eq!(reply.text, "Thanks!");
    assert_eq!(
        replied.moderation.reply.as_ref().map(|r| r.status),
        Some(ReviewStatus::Published)
    );
    let held = svc
        .set_reply(&owner, id, &text("Book direct at www.example.com"))
        .await
        .expect("reply")
        .value;
    let held_reply = held.reply.clone().expect("reply");
    assert_eq!(
        held_reply.created_at, reply.created_at,
        "first written kept"
    );
    assert!(held_reply.updated_at > reply.updated_at);
    assert_eq!(held.moderation.status, ReviewStatus::Published);
    assert_eq!(held.moderation.queue_reasons(), vec![Reason::Reply]);
    let queue = s.reviews.queue(Page::default()).await.expect("queue");
    assert_eq!(queue.items, vec![held]);
    let decided = svc
        .decide(
            &moderator(),
            id,
            &decision(DecisionAction::Hide, DecisionTarget::Reply),
        )
        .await
        .expect("decide reply")
        .value;
    assert_eq!(
        decided.moderation.reply.as_ref().map(|r| r.status),
        Some(ReviewStatus::Hidden)
    );
    assert_eq!(decided.moderation.status, ReviewStatus::Published);
    assert_eq!(s.reviews.queue_size().await.expect("size"), 0);
    let removed = svc.remove_reply(&owner, id).await.expect("remove").value;
    assert!(removed.reply.is_none() && removed.moderation.reply.is_none());
    refused(svc.remove_reply(&owner, id).await, ModerationError::NoReply);
    assert_figures_exact(s, p.id, &[id], 2).await;
}

/// A review that is not published is seen by its author and moderators only; anyone else is
/// told it does not exist. One review per user and provider, whatever its status.
pub async fn a_held_review_is_absent_to_others_and_still_one_per_user(s: &Subject) {
    let svc = service(s, 3);
    let p = seo_provider(s).await;
    let author = user();
    let id = submit(
        &svc,
        author,
        p.id,
        &body(40, Some("see https://example.com")),
    )
    .await;
    refused(svc.review(None, id).await, ModerationError::NotFound);
    refused(
        svc.review(Some(&Caller::user(user())), id).await,
        ModerationError::NotFound,
    );
    refused(
        svc.review(Some(&Caller::user(p.owner)), id).await,
        ModerationError::NotFound,
    );
    refused(
        svc.review_moderation(&Caller::user(user()), id).await,
        ModerationError::NotFound,
    );
    svc.review(Some(&Caller::user(author)), id)
        .await
        .expect("author");
    svc.review(Some(&moderator()), id).await.expect("moderator");
    refused(
        svc.moderation_queue(&Caller::user(author), Page::default())
            .await,
        ModerationError::NotAModerator,
    );
    let again = svc.add_review(author, p.id, &body(30, None)).await;
    assert!(matches!(again, Err(ServiceError::Conflict(_))), "{again:?}");
    refused(
        svc.review(None, ReviewId::from_uuid(uuid::Uuid::new_v4()))
            .await,
        ModerationError::NotFound,
    );
}

/// The queue lists every review waiting for a person, longest waiting first, paged; a review
/// keeps its place while it keeps waiting.
pub async fn the_queue_is_longest_waiting_first(s: &Subject) {
    let svc = service(s, 3);
    let p = seo_provider(s).await;
    let mut held = Vec::new();
    for i in 0..3u8 {
        let review = svc
            .add_review(user(), p.id, &body(10 + i, Some("www.example.com")))
            .await
            .expect("add")
            .value;
        held.push(review.review.id);
    }
    let author = s.reviews.find(held[0]).await.expect("find").review.user_id;
    // Waiting longest, it stays first after its author's edit keeps it waiting.
    svc.edit_review(
        &Caller::user(author),
        held[0],
        &body(12, Some("www.a.example")),
    )
    .await
    .expect("edit");
    let first = s
        .reviews
        .queue(Page::new(Some(1), Some(2)).expect("page"))
        .await
        .expect("queue");
    let second = s
        .reviews
        .queue(Page::new(Some(2), Some(2)).expect("page"))
        .await
        .expect("queue");
    let order: Vec<ReviewId> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|r| r.review.id)
        .collect();
    assert_eq!(order, held);
    assert!(first.has_more && !second.has_more);
    assert_eq!(s.reviews.queue_size().await.expect("size"), 3);
}

/// Every operation appends its events to the history, oldest first, with who did it (`None`
/// for an automated hold); decisions keep their rule and statement.
pub async fn the_history_keeps_every_event_in_order(s: &Subject) {
    let svc = service(s, 1);
    let p = seo_provider(s).await;
    let author = Caller::user(user());
    let id = submit(&svc, author.id, p.id, &body(40, Some("Good"))).await;
    let flagger = Caller::user(user());
    svc.flag_review(&flagger, id, &flag(FlagReason::Spam))
        .await
        .expect("flag");
    let judge = moderator();
    svc.decide(&judge, id, &hide()).await.expect("hide");
    svc.appeal(
        &author,
        id,
        &AppealInput {
            explanation: "Please look again".into(),
        },
    )
    .await
    .expect("appeal");
    svc.decide(&moderator(), id, &publish())
        .await
        .expect("publish");
    let history = svc.review_history(&judge, id).await.expect("history");
    let seen: Vec<(&str, Option<UserId>)> =
        history.iter().map(|e| (e.detail.name(), e.by)).collect();
    assert_eq!(
        seen[..5],
        [
            ("submitted", Some(author.id)),
            ("flagged", Some(flagger.id)),
            ("held", None),
            ("decided", Some(judge.id)),
            ("appealed", Some(author.id)),
        ]
    );
    assert_eq!(seen[5].0, "decided");
    assert!(history.windows(2).all(|w| w[0].at <= w[1].at));
    match &history[3].detail {
        EventDetail::Decided {
            action,
            rule,
            flags,
            ..
        } => {
            assert_eq!(*action, DecisionAction::Hide);
            assert_eq!(rule.as_str(), "3.2 contact details");
            assert_eq!(*flags, Some(FlagStatus::Upheld));
        }
        other => panic!("expected a decision, got {other:?}"),
    }
    refused(
        svc.review_history(&Caller::user(user()), id).await,
        ModerationError::NotAModerator,
    );
    refused(
        svc.review_history(&judge, ReviewId::from_uuid(uuid::Uuid::new_v4()))
            .await,
        ModerationError::NotFound,
    );
}

/// A change made for an older revision is refused and changes nothing.
pub async fn a_change_at_an_old_revision_is_refused(s: &Subject) {
    let svc = service(s, 3);
    let p = seo_provider(s).await;
    let id = submit(&svc, user(), p.id, &body(40, None)).await;
    let before = s.reviews.find(id).await.expect("find");
    svc.decide(&moderator(), id, &hide()).await.expect("hide");
    let stale = crate::moderation::ReviewChange {
        at: before.review.created_at,
        moderation: before.moderation.clone(),
        content: None,
        events: Vec::new(),
        figures: None,
        flag: None,
        flags_resolved: None,
        reply: crate::moderation::ReplyChange::Keep,
        appeal: None,
        queued_at: None,
    };
    let got = s.reviews.apply(id, before.revision, &stale).await;
    assert!(matches!(got, Err(RepoError::PreconditionFailed)), "{got:?}");
    let got = s
        .reviews
        .withdraw(id, before.revision, &before_event(&before), None)
        .await;
    assert!(matches!(got, Err(RepoError::PreconditionFailed)), "{got:?}");
    let now = s.reviews.find(id).await.expect("find");
    assert_eq!(now.moderation.status, ReviewStatus::Hidden);
    assert_figures_exact(s, p.id, &[id], 3).await;
    let gone = ReviewId::from_uuid(uuid::Uuid::new_v4());
    let got = s.reviews.apply(gone, before.revision, &stale).await;
    assert!(matches!(got, Err(RepoError::NotFound)), "{got:?}");
}

fn before_event(review: &StoredReview) -> provider_domain::Event {
    provider_domain::Event {
        at: review.review.created_at,
        by: Some(review.review.user_id),
        detail: EventDetail::Withdrawn,
    }
}

//! The change feed's contract: every write is recorded once, in order, and a refused write
//! records nothing; pages follow each other after a sequence; the retention purge removes
//! the oldest events and says how far it went.

use super::{draft, provider, user, Subject};
use crate::{
    Change, ChangeEvent, ChangeKind, EventsRequest, NewReview, ProviderService, RepoError,
    ServiceError, VersionCheck,
};
use provider_domain::{
    Caller, DecisionAction, DecisionInput, DecisionTarget, ProviderId, ReplyInput, ReviewId, UserId,
};
use time::{Duration, OffsetDateTime};

fn service(s: &Subject) -> ProviderService {
    ProviderService::new(s.providers.clone(), s.reviews.clone(), s.keys.clone())
        .with_feed(s.feed.clone())
}

/// Every event kept, once the store shows every write made before this call: it creates a
/// marker provider and reads until that one's event shows (a store may hold events back for
/// a while: PostgreSQL's until every transaction that started before them has ended, on any
/// database of the server). The marker's event is the last.
async fn settled_events(s: &Subject) -> Vec<ChangeEvent> {
    let marker = provider(user(), draft("Marker", &[], 100, &[]));
    s.providers
        .create(&marker)
        .await
        .expect("create the marker");
    let created = Change::provider(ChangeKind::ProviderCreated, marker.id);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let events = all_events(s).await;
        if events.last().is_some_and(|e| e.change == created) {
            return events;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the marker's event never showed: {events:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The changes of `events`, markers' creations (see [`settled_events`]) left out.
fn changes(events: &[ChangeEvent], markers: &[ChangeEvent]) -> Vec<Change> {
    events
        .iter()
        .filter(|e| !markers.iter().any(|m| m.change == e.change))
        .map(|e| e.change)
        .collect()
}

/// Every event kept, read two at a time (so that pages must follow each other exactly).
async fn all_events(s: &Subject) -> Vec<ChangeEvent> {
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let page = s.feed.events(after, 2).await.expect("events");
        assert!(page.events.len() <= 2, "a page holds at most its limit");
        match page.events.last() {
            Some(last) => after = last.sequence,
            None => return events,
        }
        events.extend(page.events);
    }
}

fn review_body(comment: Option<&str>) -> NewReview {
    NewReview {
        rating: 4.0,
        comment: comment.map(str::to_owned),
        skill_ratings: vec![],
    }
}

async fn review(
    svc: &ProviderService,
    author: UserId,
    p: ProviderId,
    comment: Option<&str>,
) -> ReviewId {
    svc.add_review(author, p, &review_body(comment))
        .await
        .expect("review")
        .value
        .review
        .id
}

/// Provider and review writes each add their events, in the order they were made, with
/// sequences that only rise; the changes name what changed.
pub async fn every_write_is_recorded_once_in_order(s: &Subject) {
    let svc = service(s);
    let owner = user();
    let p = provider(owner, draft("Fed", &["SEO"], 100, &[]));
    s.providers.create(&p).await.expect("create");
    s.providers
        .replace(
            p.id,
            owner,
            &draft("Fed again", &["SEO"], 200, &[]),
            &VersionCheck::Any,
        )
        .await
        .expect("replace");
    let published = review(&svc, user(), p.id, None).await;
    let author = user();
    // A link is held by the default screen: a review.created, then a moderator's decision.
    let held = review(&svc, author, p.id, Some("see https://example.com")).await;
    let moderator = Caller::moderator(user());
    svc.decide(
        &moderator,
        held,
        &DecisionInput {
            action: DecisionAction::Publish,
            rule: "1.1 links".into(),
            statement: "The link is to the provider's own portfolio.".into(),
            target: DecisionTarget::Review,
        },
    )
    .await
    .expect("decide");
    svc.set_reply(
        &Caller::user(owner),
        published,
        &ReplyInput {
            text: "Thank you!".into(),
        },
    )
    .await
    .expect("reply");
    svc.withdraw_review(&Caller::user(author), held)
        .await
        .expect("withdraw");
    s.providers
        .delete(p.id, owner, &VersionCheck::Any)
        .await
        .expect("delete");

    let events = settled_events(s).await;
    let marker = *events.last().expect("the marker");
    assert_eq!(
        changes(&events, &[marker]),
        [
            Change::provider(ChangeKind::ProviderCreated, p.id),
            Change::provider(ChangeKind::ProviderReplaced, p.id),
            Change::review(ChangeKind::ReviewCreated, p.id, published),
            Change::review(ChangeKind::ReviewCreated, p.id, held),
            Change::review(ChangeKind::ReviewStatusChanged, p.id, held),
            Change::review(ChangeKind::ReviewReplyChanged, p.id, published),
            Change::review(ChangeKind::ReviewWithdrawn, p.id, held),
            Change::provider(ChangeKind::ProviderDeleted, p.id),
        ]
    );
    assert!(
        events.windows(2).all(|w| w[0].sequence < w[1].sequence),
        "sequences rise: {events:?}"
    );
    assert!(events.iter().all(|e| e.sequence > 0));
    let now = OffsetDateTime::now_utc();
    assert!(
        events
            .iter()
            .all(|e| e.at <= now + Duration::minutes(1) && e.at > now - Duration::hours(1)),
        "each event has the time it was made: {events:?}"
    );
    // After the last one: only what is written next.
    let last = marker.sequence;
    let q = provider(owner, draft("Next", &[], 100, &[]));
    s.providers.create(&q).await.expect("create");
    let next = settled_events(s).await;
    let after: Vec<ChangeEvent> = next.into_iter().filter(|e| e.sequence > last).collect();
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after[0].sequence > last);
    assert_eq!(
        after[0].change,
        Change::provider(ChangeKind::ProviderCreated, q.id)
    );
}

/// A write the store refuses (a duplicate, a stale version, a stranger, a missing provider)
/// records nothing.
pub async fn a_refused_write_records_nothing(s: &Subject) {
    let owner = user();
    let p = provider(owner, draft("Once", &[], 100, &[]));
    s.providers.create(&p).await.expect("create");
    let before = settled_events(s).await;
    assert_eq!(before.len(), 2);
    assert!(matches!(
        s.providers.create(&p).await,
        Err(RepoError::Conflict(_))
    ));
    let stale = VersionCheck::OneOf(vec![crate::Version::FIRST.next()]);
    assert!(matches!(
        s.providers
            .replace(p.id, owner, &draft("Twice", &[], 100, &[]), &stale)
            .await,
        Err(RepoError::PreconditionFailed)
    ));
    assert!(matches!(
        s.providers.delete(p.id, user(), &VersionCheck::Any).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        s.providers
            .delete(
                ProviderId::from_uuid(uuid::Uuid::new_v4()),
                owner,
                &VersionCheck::Any
            )
            .await,
        Err(RepoError::NotFound)
    ));
    let svc = service(s);
    let author = user();
    let first = review(&svc, author, p.id, None).await;
    assert!(matches!(
        svc.add_review(author, p.id, &review_body(None)).await,
        Err(ServiceError::Conflict(_))
    ));
    let after = settled_events(s).await;
    assert_eq!(&after[..2], &before[..]);
    let marker = after[3];
    assert_eq!(
        changes(&after[2..], &[marker]),
        [Change::review(ChangeKind::ReviewCreated, p.id, first)],
        "{after:?}"
    );
}

/// The purge removes the events made before its time and records how far it went; events
/// after that keep coming with greater sequences; the events API tells a reader who missed
/// some (410) from one who did not.
pub async fn the_purge_removes_old_events_and_readers_behind_it_are_told(s: &Subject) {
    let svc = service(s);
    let owner = user();
    for name in ["One", "Two", "Three"] {
        let p = provider(owner, draft(name, &[], 100, &[]));
        s.providers.create(&p).await.expect("create");
    }
    let old = settled_events(s).await;
    assert_eq!(old.len(), 4);
    // Nothing is older than an hour ago.
    assert_eq!(
        s.feed
            .purge(OffsetDateTime::now_utc() - Duration::hours(1))
            .await
            .expect("purge"),
        0
    );
    assert_eq!(
        s.feed.events(0, 10).await.expect("events").purged_through,
        0
    );
    // Everything so far is older than a minute from now.
    assert_eq!(
        s.feed
            .purge(OffsetDateTime::now_utc() + Duration::minutes(1))
            .await
            .expect("purge"),
        4
    );
    let page = s.feed.events(0, 10).await.expect("events");
    assert!(page.events.is_empty());
    assert_eq!(page.purged_through, old[3].sequence);
    let new = settled_events(s).await;
    assert_eq!(new.len(), 1);
    assert!(new[0].sequence > old[3].sequence);

    let ask = |after: u64| EventsRequest {
        after: Some(i64::try_from(after).expect("small")),
        limit: None,
    };
    // Up to date as of the last purged event, or starting over: fine.
    let caught_up = svc.events(ask(old[3].sequence)).await.expect("events");
    assert_eq!(caught_up.events, new);
    assert_eq!(caught_up.next_after, new[0].sequence);
    assert_eq!(svc.events(ask(0)).await.expect("events").events, new);
    // Behind it: told, not served a gap.
    assert!(matches!(
        svc.events(ask(old[0].sequence)).await,
        Err(ServiceError::Gone(_))
    ));
    // Nothing new: ask again after the same sequence.
    let idle = svc.events(ask(new[0].sequence)).await.expect("events");
    assert!(idle.events.is_empty());
    assert_eq!(idle.next_after, new[0].sequence);
}

//! Concurrent writers and readers: review stats stay exact, one review per user holds under a
//! race, a replace is never seen half done, of writers holding one version exactly one
//! replaces, and one create sent many times at once with one idempotency key creates once.
//! Moderation: decisions racing new reviews, flags and edits keep every figure exact, and two
//! moderators deciding one review at once both land in its history, one after the other.

use provider_domain::{
    Caller, Contribution, DecisionAction, DecisionInput, DecisionTarget, EventDetail, FlagInput,
    FlagReason, ModerationSettings, Provider, ProviderDraft, ProviderId, Rating, Review, ReviewId,
    ReviewStatus, SearchFilter, SearchSort, SkillRatingInput, UserId,
};
use provider_ports::contract::{self, Subject};
use provider_ports::contract::{draft, provider, rated_review, user};
use provider_ports::{
    NewReview, Page, Paging, ProviderRepository, ProviderService, RepoError, ReviewRepository,
    ServiceError, StoredReview, VersionCheck,
};
use provider_postgres_adapter::testing::TestDb;
use provider_postgres_adapter::{PgConfig, PgStore};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

fn review(provider: ProviderId, user: UserId, tenths: u8) -> Review {
    Review {
        id: ReviewId::from_uuid(Uuid::new_v4()),
        provider_id: provider,
        user_id: user,
        rating: Rating::from_tenths(tenths).expect("rating"),
        comment: None,
        skill_ratings: Vec::new(),
        created_at: OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("instant"),
    }
}

fn store(db: &TestDb) -> Arc<PgStore> {
    Arc::new(
        PgStore::connect(&PgConfig {
            pool_size: 16,
            ..PgConfig::new(db.url())
        })
        .expect("store"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_simultaneous_reviews_by_distinct_users_keep_count_and_sum_exact() {
    let db = TestDb::new().await;
    let store = store(&db);
    let p = provider(user(), draft("Popular", &["SEO"], 1_000, &[]));
    store.create(&p).await.expect("create");

    let tasks: Vec<_> = (0..50u8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .add(&contract::published(&review(p.id, user(), i)))
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("add");
    }

    let stored = store.get(p.id).await.expect("get");
    assert_eq!(stored.version.get(), 51, "one version per review");
    let stored = stored.value;
    assert_eq!(stored.reviews.count, 50);
    assert_eq!(stored.reviews.sum_tenths, (0..50u64).sum::<u64>());
    let listed = store
        .list(
            p.id,
            Paging::Offset(Page::new(Some(1), Some(100)).expect("page")),
        )
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 50);
}

/// Reviews rating skills while the owner removes and restores one of them: every per-skill
/// rating is counted once under its key, and the figures shown on the skill rows (the
/// postings) agree with them at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_skill_ratings_and_replaces_keep_the_figures_of_each_key_exact() {
    let db = TestDb::new().await;
    let store = store(&db);
    let owner = user();
    let both = draft("Skilled", &["SEO", "Go"], 1_000, &[]);
    let p = provider(owner, both.clone());
    store.create(&p).await.expect("create");
    let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("instant");

    let reviews: Vec<_> = (0..40u8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let r = rated_review(p.id, user(), i, &[("SEO", i), ("Go", 50 - i)], at);
                store.add(&contract::published(&r)).await
            })
        })
        .collect();
    let replaces: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            let next = if i % 2 == 0 {
                draft("Skilled", &["SEO"], 1_000, &[])
            } else {
                both.clone()
            };
            tokio::spawn(async move { store.replace(p.id, owner, &next, &VersionCheck::Any).await })
        })
        .collect();
    for task in reviews {
        task.await.expect("task").expect("add");
    }
    for task in replaces {
        task.await.expect("task").expect("replace");
    }
    store
        .replace(p.id, owner, &both, &VersionCheck::Any)
        .await
        .expect("replace");

    let stored = store.get(p.id).await.expect("get").value;
    let seo = stored.skill_reviews.get("seo");
    let go = stored.skill_reviews.get("go");
    assert_eq!((seo.count, seo.sum_tenths), (40, (0..40u64).sum::<u64>()));
    assert_eq!(
        (go.count, go.sum_tenths),
        (40, (0..40u64).map(|i| 50 - i).sum::<u64>())
    );
    // The walk ranks by the postings' copies: they must agree (recommend reads them).
    let job = provider_domain::JobRequest::parse(&provider_domain::JobInput {
        job_budget_in_pence: Some(1_000_000),
        expected_job_duration_in_days: Some(1),
        skills: Some(vec!["go".into()]),
        availability: Some(vec![provider_domain::RangeInput {
            from_date: "2027-01-01".into(),
            to_date: "2027-01-02".into(),
        }]),
        minimum_review_rating: None,
    })
    .expect("job");
    assert_eq!(job.matched_skill_rating(&stored), go);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_simultaneous_reviews_by_the_same_user_give_one_ok_and_one_conflict() {
    let db = TestDb::new().await;
    let store = store(&db);
    for _ in 0..10 {
        let p = provider(user(), draft("Contested", &[], 1_000, &[]));
        store.create(&p).await.expect("create");
        let reviewer = user();
        let (a, b) = tokio::join!(
            {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .add(&contract::published(&review(p.id, reviewer, 40)))
                        .await
                })
            },
            {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .add(&contract::published(&review(p.id, reviewer, 10)))
                        .await
                })
            },
        );
        let outcomes = [a.expect("task"), b.expect("task")];
        let oks = outcomes.iter().filter(|r| r.is_ok()).count();
        let conflicts = outcomes
            .iter()
            .filter(|r| matches!(r, Err(RepoError::Conflict(_))))
            .count();
        assert_eq!((oks, conflicts), (1, 1), "{outcomes:?}");
        let stored = store.get(p.id).await.expect("get").value;
        assert_eq!(stored.reviews.count, 1);
        assert!([40, 10].contains(&stored.reviews.sum_tenths));
    }
}

/// Two drafts differing in every field (name, each skill, cost, every range).
fn two_drafts() -> (ProviderDraft, ProviderDraft) {
    (
        draft(
            "Old Name",
            &["alpha", "beta", "gamma"],
            1_000,
            &[("2027-01-01", "2027-01-05"), ("2027-01-06", "2027-01-09")],
        ),
        draft(
            "New Name",
            &["delta"],
            2_000,
            &[
                ("2028-03-01", "2028-03-02"),
                ("2028-04-01", "2028-04-30"),
                ("2028-06-01", "2028-06-01"),
            ],
        ),
    )
}

fn is_one_of(got: &Provider, base: &Provider, drafts: &(ProviderDraft, ProviderDraft)) -> bool {
    [&drafts.0, &drafts.1]
        .iter()
        .any(|d| *got == base.clone().replaced((*d).clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_racing_a_replace_loop_see_the_old_or_the_new_provider_never_a_mix() {
    let db = TestDb::new().await;
    let store = store(&db);
    let drafts = two_drafts();
    let owner = user();
    let base = provider_ports::contract::provider(owner, drafts.0.clone());
    store.create(&base).await.expect("create");
    let done = Arc::new(AtomicBool::new(false));

    let writer = {
        let (store, drafts, done) = (store.clone(), drafts.clone(), done.clone());
        tokio::spawn(async move {
            for i in 0..150 {
                let next = if i % 2 == 0 { &drafts.1 } else { &drafts.0 };
                store
                    .replace(base.id, owner, next, &VersionCheck::Any)
                    .await
                    .expect("replace");
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (store, drafts, done, base) =
                (store.clone(), drafts.clone(), done.clone(), base.clone());
            tokio::spawn(async move {
                let mut reads = 0;
                while !done.load(Ordering::SeqCst) {
                    let got = store.get(base.id).await.expect("get").value;
                    assert!(is_one_of(&got, &base, &drafts), "a mix: {got:?}");
                    let listed = store
                        .search(
                            &SearchFilter::default(),
                            SearchSort::CostDesc,
                            Paging::Offset(Page::default()),
                            false,
                        )
                        .await
                        .expect("search")
                        .page;
                    assert_eq!(listed.items.len(), 1);
                    assert!(
                        is_one_of(&listed.items[0], &base, &drafts),
                        "a mix: {listed:?}"
                    );
                    reads += 2;
                }
                reads
            })
        })
        .collect();
    writer.await.expect("writer");
    for reader in readers {
        assert!(reader.await.expect("reader") > 0);
    }
}

async fn subject() -> Subject {
    let db = TestDb::new().await;
    let store = store(&db);
    Subject {
        providers: store.clone(),
        reviews: store.clone(),
        keys: store.clone(),
        feed: store,
        guard: Box::new(db),
    }
}

/// The contract's race, over and over on PostgreSQL (where writers really run at once, on
/// separate connections): exactly one 200, the rest 412, the stored provider the winner's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_replacing_with_the_same_if_match_at_once_let_exactly_one_win() {
    for _ in 0..5 {
        let s = subject().await;
        contract::concurrent_replaces_with_one_version_check_let_exactly_one_pass(&s).await;
    }
}

/// The contract's race of one create sent 20 times at once with one key, over and over on
/// PostgreSQL: one provider, every answer the same 201 (replayed but once) or a 409.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_creates_at_once_with_one_key_create_one_provider() {
    for _ in 0..5 {
        let s = subject().await;
        contract::concurrent_creates_with_one_key_create_one_provider(&s).await;
    }
}

/// A service over `store`, holding a published review after two users' flags.
fn service(store: &Arc<PgStore>) -> ProviderService {
    ProviderService::new(store.clone(), store.clone(), store.clone()).with_moderation(
        ModerationSettings {
            flags_to_hold: NonZeroU32::new(2).expect("two"),
            ..ModerationSettings::default()
        },
    )
}

fn moderator() -> Caller {
    Caller {
        id: user(),
        moderator: true,
    }
}

fn caller(id: UserId) -> Caller {
    Caller {
        id,
        moderator: false,
    }
}

/// A review's input: held by the screen (a link) when `held`, else published; rating SEO.
fn input(tenths: u8, held: bool) -> NewReview {
    NewReview {
        rating: f64::from(tenths) / 10.0,
        comment: held.then(|| "details at www.example.com".to_owned()),
        skill_ratings: vec![SkillRatingInput {
            skill: "SEO".into(),
            rating: f64::from(50 - tenths) / 10.0,
        }],
    }
}

fn decision(action: DecisionAction) -> DecisionInput {
    DecisionInput {
        action,
        rule: "4.2 relevance".into(),
        statement: "Decided by a moderator.".into(),
        target: DecisionTarget::Review,
    }
}

/// Every review of `provider` whatever its status (the queue holds the pending ones, the
/// published list the published ones, and hidden ones are found by id from `known`).
async fn every_review(
    store: &PgStore,
    provider: ProviderId,
    known: &[ReviewId],
) -> Vec<StoredReview> {
    let mut all = Vec::new();
    for id in known {
        match store.find(*id).await {
            Ok(r) if r.review.provider_id == provider => all.push(r),
            Ok(_) | Err(RepoError::NotFound) => {}
            Err(e) => panic!("find: {e}"),
        }
    }
    all
}

/// An answer a racing operation may give: done, or refused by the state machine (the review
/// changed under it: a flagger no longer sees a held review, say).
fn done_or_refused<T: std::fmt::Debug>(answer: Result<T, ServiceError>) {
    match answer {
        Ok(_) | Err(ServiceError::Refused(_)) => {}
        Err(e) => panic!("a racing operation failed: {e:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_racing_new_reviews_flags_and_edits_keep_every_figure_exact() {
    let db = TestDb::new().await;
    let store = store(&db);
    let svc = service(&store);
    let owner = user();
    let p = provider(owner, draft("Busy", &["SEO", "Go"], 1_000, &[]));
    store.create(&p).await.expect("create");
    // Forty reviews, half of them held by the screen, for the moderators to decide.
    let mut known = Vec::new();
    let mut authors = Vec::new();
    for i in 0..40u8 {
        let author = user();
        let added = svc
            .add_review(author, p.id, &input(i, i % 2 == 0))
            .await
            .expect("review");
        known.push(added.value.review.id);
        authors.push(author);
    }
    let known = Arc::new(known);

    let mut tasks = Vec::new();
    // New reviews, published and held.
    for i in 0..20u8 {
        let svc = svc.clone();
        tasks.push(tokio::spawn(async move {
            let added = svc
                .add_review(user(), p.id, &input(i + 10, i % 3 == 0))
                .await;
            done_or_refused(added.map(|_| ()));
        }));
    }
    // Flags: two users each on every review (a published one is held by the second).
    for round in 0..2 {
        let (svc, known) = (svc.clone(), known.clone());
        tasks.push(tokio::spawn(async move {
            let flagger = caller(user());
            for (j, id) in known.iter().enumerate() {
                if j % 2 == round {
                    continue;
                }
                let flag = FlagInput {
                    reason: FlagReason::Spam,
                    explanation: None,
                };
                done_or_refused(svc.flag_review(&flagger, *id, &flag).await);
            }
        }));
    }
    // Two moderators deciding every review, one publishing, the other hiding.
    for action in [DecisionAction::Publish, DecisionAction::Hide] {
        let (svc, known) = (svc.clone(), known.clone());
        tasks.push(tokio::spawn(async move {
            let by = moderator();
            // In opposite orders: they meet, and race, halfway.
            let mut order: Vec<ReviewId> = known.to_vec();
            if action == DecisionAction::Hide {
                order.reverse();
            }
            for id in order {
                done_or_refused(svc.decide(&by, id, &decision(action)).await);
            }
        }));
    }
    // Authors editing their reviews (a new rating each), and a few withdrawing theirs.
    for (j, (id, author)) in known.iter().zip(&authors).enumerate().step_by(3) {
        let (svc, id, author) = (svc.clone(), *id, *author);
        tasks.push(tokio::spawn(async move {
            let by = caller(author);
            if j % 2 == 0 {
                done_or_refused(svc.edit_review(&by, id, &input(45, j % 4 == 0)).await);
            } else {
                done_or_refused(svc.withdraw_review(&by, id).await);
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }

    // Every review there is now: the first forty (less the withdrawn) and the new ones.
    let all_page = Page::new(Some(1), Some(100)).expect("page");
    let mut ids: Vec<ReviewId> = known.to_vec();
    ids.extend(
        store
            .list(p.id, Paging::Offset(all_page))
            .await
            .expect("list")
            .items
            .iter()
            .map(|r| r.review.id),
    );
    ids.extend(
        store
            .queue(all_page)
            .await
            .expect("queue")
            .items
            .iter()
            .map(|r| r.review.id),
    );
    ids.sort();
    ids.dedup();
    let reviews = every_review(&store, p.id, &ids).await;
    let statuses: Vec<ReviewStatus> = reviews.iter().map(|r| r.moderation.status).collect();
    assert!(
        statuses.contains(&ReviewStatus::Published)
            && statuses.iter().any(|s| *s != ReviewStatus::Published),
        "the race left reviews of several statuses: {statuses:?}"
    );
    let figures = provider_domain::figures(
        reviews
            .iter()
            .map(|r| (r.moderation.status, Contribution::of(&r.review))),
    );
    let stored = store.get(p.id).await.expect("get").value;
    assert_eq!(stored.reviews, figures.reviews, "overall figures");
    assert_eq!(
        stored.skill_reviews,
        figures.skill_reviews.visible(&stored.skills),
        "per-skill figures on the postings"
    );
    // The per-key figures themselves, and the copies search and recommend walk.
    let (sql, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let rows = sql
        .query(
            "SELECT skill_key, review_count, rating_sum FROM skill_reviews \
             WHERE provider_id = $1::text::uuid ORDER BY skill_key",
            &[&p.id.as_uuid().to_string()],
        )
        .await
        .expect("skill_reviews");
    let kept: Vec<(String, u64, u64)> = rows
        .iter()
        .map(|r| {
            let count: i64 = r.get(1);
            let sum: i64 = r.get(2);
            (r.get(0), count as u64, sum as u64)
        })
        .collect();
    let want: Vec<(String, u64, u64)> = figures
        .skill_reviews
        .iter()
        .map(|(k, s)| (k.to_owned(), s.count, s.sum_tenths))
        .collect();
    assert_eq!(kept, want, "skill_reviews");
    let postings = sql
        .query(
            "SELECT count(*) FROM provider_skills WHERE provider_id = $1::text::uuid \
             AND (review_count, rating_sum) <> ($2, $3)",
            &[
                &p.id.as_uuid().to_string(),
                &(figures.reviews.count as i64),
                &(figures.reviews.sum_tenths as i64),
            ],
        )
        .await
        .expect("postings");
    assert_eq!(postings[0].get::<_, i64>(0), 0, "postings disagree");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_moderators_deciding_one_review_at_once_both_land_in_its_history_in_turn() {
    let db = TestDb::new().await;
    let store = store(&db);
    let svc = service(&store);
    let p = provider(user(), draft("Disputed", &["SEO"], 1_000, &[]));
    store.create(&p).await.expect("create");
    for round in 0..10u8 {
        let held = svc
            .add_review(user(), p.id, &input(round * 5, true))
            .await
            .expect("review");
        let id = held.value.review.id;
        let (a, b) = (moderator(), moderator());
        let (first, second) = tokio::join!(
            {
                let svc = svc.clone();
                tokio::spawn(
                    async move { svc.decide(&a, id, &decision(DecisionAction::Publish)).await },
                )
            },
            {
                let svc = svc.clone();
                tokio::spawn(
                    async move { svc.decide(&b, id, &decision(DecisionAction::Hide)).await },
                )
            },
        );
        first.expect("task").expect("first decision");
        second.expect("task").expect("second decision");

        let history = store.history(id).await.expect("history");
        let decided: Vec<(Option<UserId>, DecisionAction)> = history
            .iter()
            .filter_map(|e| match &e.detail {
                EventDetail::Decided { action, .. } => Some((e.by, *action)),
                _ => None,
            })
            .collect();
        assert_eq!(
            decided.len(),
            2,
            "both decisions are in the history: {history:?}"
        );
        let mut by: Vec<Option<UserId>> = decided.iter().map(|d| d.0).collect();
        by.sort();
        let mut want = vec![Some(a.id), Some(b.id)];
        want.sort();
        assert_eq!(by, want, "one decision by each moderator");
        let stored = store.find(id).await.expect("find");
        let last = decided[1].1;
        let status = match last {
            DecisionAction::Publish => ReviewStatus::Published,
            DecisionAction::Hide => ReviewStatus::Hidden,
        };
        assert_eq!(
            stored.moderation.status, status,
            "the later decision stands"
        );
        // Submitted (held by the screen) at the first revision, then one per decision.
        assert_eq!(stored.revision.0, 3, "one revision per decision");
        let figures = provider_domain::figures(
            store
                .list(
                    p.id,
                    Paging::Offset(Page::new(Some(1), Some(100)).expect("page")),
                )
                .await
                .expect("list")
                .items
                .iter()
                .map(|r| (r.moderation.status, Contribution::of(&r.review))),
        );
        assert_eq!(
            store.get(p.id).await.expect("get").value.reviews,
            figures.reviews
        );
    }
}

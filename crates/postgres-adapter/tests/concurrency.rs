//! Concurrent writers and readers: review stats stay exact, one review per user holds under a
//! race, a replace is never seen half done, of writers holding one version exactly one
//! replaces, and one create sent many times at once with one idempotency key creates once.

use provider_domain::{
    Provider, ProviderDraft, ProviderId, Rating, Review, ReviewId, SearchFilter, SearchSort, UserId,
};
use provider_ports::contract::{self, Subject};
use provider_ports::contract::{draft, provider, rated_review, user};
use provider_ports::{Page, Paging, ProviderRepository, RepoError, ReviewRepository, VersionCheck};
use provider_postgres_adapter::testing::TestDb;
use provider_postgres_adapter::{PgConfig, PgStore};
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
            tokio::spawn(async move { store.add(&review(p.id, user(), i)).await })
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
                store.add(&r).await
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
                tokio::spawn(async move { store.add(&review(p.id, reviewer, 40)).await })
            },
            {
                let store = store.clone();
                tokio::spawn(async move { store.add(&review(p.id, reviewer, 10)).await })
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
        keys: store,
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

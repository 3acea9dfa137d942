//! The repository contract: one suite every store must pass, written once.
//!
//! Each case is a `pub async fn(&Subject)`; [`contract_tests!`](crate::contract_tests) turns
//! them all into `#[tokio::test]`s for a store, given an async factory of [`Subject`]s. Each
//! call of the factory must give a fresh, empty store. The expected answers are computed with
//! the domain's own filter and orderings over the same data, so a store passes only when it
//! answers exactly like the reference.

use crate::idempotency::{RECLAIM_PENDING_AFTER, RETENTION};
use crate::moderation::{StoredReview, Submission};
use crate::{
    Answered, Claim, ClaimToken, Completion, Fingerprint, IdempotencyKey, IdempotencyRepository,
    IdempotentRequest, Outcome, Page, PageOf, Paging, ProviderRepository, ProviderService,
    RepoError, ReviewRepository, ServiceError, StoredAnswer, Total, Version, VersionCheck,
};
use provider_domain::{
    recommendation_order, JobInput, JobRequest, Moderation, ModerationSettings, Provider,
    ProviderDraft, ProviderId, ProviderInput, RangeInput, Rating, Review, ReviewId, ReviewStats,
    ReviewStatus, SearchFilter, SearchInput, SearchSort, Skill, SkillRating, SkillRatingInput,
    SortKey, UserId,
};
use std::any::Any;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

mod feed;
mod moderation;
pub mod strategies;

pub use feed::*;
pub use moderation::*;

/// A store under test: its repositories, and whatever must live as long as they do (e.g. a
/// per-test database dropped when this is).
pub struct Subject {
    /// The provider repository.
    pub providers: Arc<dyn ProviderRepository>,
    /// The review repository.
    pub reviews: Arc<dyn ReviewRepository>,
    /// The idempotency repository.
    pub keys: Arc<dyn IdempotencyRepository>,
    /// The change feed the store writes.
    pub feed: Arc<dyn crate::ChangeFeed>,
    /// Kept alive until the case ends.
    pub guard: Box<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subject").finish_non_exhaustive()
    }
}

/// A checked draft from plain parts; `ranges` are `(from, to)` as `YYYY-MM-DD`.
///
/// # Panics
/// If the parts are invalid (a bug in the test).
pub fn draft(name: &str, skills: &[&str], cost: i64, ranges: &[(&str, &str)]) -> ProviderDraft {
    ProviderDraft::parse(&ProviderInput {
        name: name.into(),
        skills: skills.iter().map(|s| (*s).to_owned()).collect(),
        cost_in_pence: cost,
        availability: ranges
            .iter()
            .map(|(f, t)| RangeInput {
                from_date: (*f).into(),
                to_date: (*t).into(),
            })
            .collect(),
    })
    .expect("valid draft")
}

/// Every page of a search, by page numbers or each after the last key of the page before
/// (`after`); the pages as `store` answered them. Two walks of one list must agree.
///
/// # Panics
/// If a search fails (a bug in the store under test).
pub async fn search_walk(
    store: &dyn ProviderRepository,
    filter: &SearchFilter,
    sort: SearchSort,
    size: u32,
    after: bool,
) -> Vec<PageOf<Provider>> {
    let mut pages: Vec<PageOf<Provider>> = Vec::new();
    for number in 1.. {
        let paging = match pages.last().and_then(|p| p.items.last()) {
            Some(last) if after => crate::Paging::After {
                key: SortKey::of(last),
                size,
            },
            _ => {
                crate::Paging::Offset(Page::new(Some(number), Some(i64::from(size))).expect("page"))
            }
        };
        let found = store
            .search(filter, sort, paging, false)
            .await
            .expect("search")
            .page;
        let more = found.has_more;
        pages.push(found);
        if !more {
            break;
        }
    }
    pages
}

/// A new provider with a fresh id, owned by `owner`, created now (to the microsecond, as
/// stores keep it).
pub fn provider(owner: UserId, draft: ProviderDraft) -> Provider {
    let now = OffsetDateTime::now_utc();
    let now = now
        .replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .expect("a whole microsecond");
    provider_at(owner, draft, now)
}

/// A new provider with a fresh id, owned by `owner`, created at `created_at` (whole
/// microseconds).
pub fn provider_at(owner: UserId, draft: ProviderDraft, created_at: OffsetDateTime) -> Provider {
    Provider::new(
        ProviderId::from_uuid(Uuid::new_v4()),
        owner,
        draft,
        created_at,
    )
}

/// `review` as a submission the screen let through: published at once.
pub fn published(review: &Review) -> Submission {
    let submitted = Moderation::submit(
        review.user_id,
        None,
        &ModerationSettings::default(),
        review.created_at,
    );
    Submission {
        review: review.clone(),
        moderation: submitted.state,
        events: submitted.events,
        queued_at: None,
    }
}

/// The reviews of a page, without their moderation.
pub fn reviews_of(page: PageOf<StoredReview>) -> Vec<Review> {
    page.items.into_iter().map(|r| r.review).collect()
}

/// A review by `user` of `provider` with `tenths` (45 = 4.5), written at `at`.
pub fn review(provider: ProviderId, user: UserId, tenths: u8, at: OffsetDateTime) -> Review {
    Review {
        id: ReviewId::from_uuid(Uuid::new_v4()),
        provider_id: provider,
        user_id: user,
        rating: Rating::from_tenths(tenths).expect("valid rating"),
        comment: None,
        skill_ratings: Vec::new(),
        created_at: at,
    }
}

/// A review as [`review`], rating the skills `skills` (`(spelling, tenths)`, in the order
/// given) too.
pub fn rated_review(
    provider: ProviderId,
    user: UserId,
    tenths: u8,
    skills: &[(&str, u8)],
    at: OffsetDateTime,
) -> Review {
    Review {
        skill_ratings: skills
            .iter()
            .map(|(skill, tenths)| SkillRating {
                skill: Skill::new(skill).expect("valid skill"),
                rating: Rating::from_tenths(*tenths).expect("valid rating"),
            })
            .collect(),
        ..review(provider, user, tenths, at)
    }
}

/// A fresh user id.
pub fn user() -> UserId {
    UserId::from_uuid(Uuid::new_v4())
}

fn at(seconds: i64) -> OffsetDateTime {
    // A fixed instant: stores keep microseconds, so no sub-microsecond part.
    OffsetDateTime::from_unix_timestamp(1_800_000_000 + seconds).expect("valid instant")
}

fn page(number: i64, size: i64) -> Page {
    Page::new(Some(number), Some(size)).expect("valid page")
}

/// Stores `providers` and gives each the reviews `(index, tenths)` by distinct users.
async fn seed(s: &Subject, providers: &[Provider], ratings: &[(usize, u8)]) -> Vec<Provider> {
    for p in providers {
        s.providers.create(p).await.expect("create");
    }
    for (i, (index, tenths)) in ratings.iter().enumerate() {
        let r = review(providers[*index].id, user(), *tenths, at(i as i64));
        s.reviews.add(&published(&r)).await.expect("add review");
    }
    let mut stored = Vec::new();
    for p in providers {
        stored.push(s.providers.get(p.id).await.expect("get").value);
    }
    stored
}

fn ids(list: &[Provider]) -> Vec<ProviderId> {
    list.iter().map(|p| p.id).collect()
}

fn first_page<K>() -> Paging<K> {
    Paging::Offset(Page::default())
}

/// One search of the store, all pages walked: by page number (`after: false`) or each page
/// after the last key of the one before (`after: true`).
async fn walk(
    s: &Subject,
    filter: &SearchFilter,
    sort: SearchSort,
    size: u32,
    after: bool,
) -> Vec<Provider> {
    let mut got: Vec<Provider> = Vec::new();
    for number in 1.. {
        let paging = match got.last() {
            Some(last) if after => Paging::After {
                key: SortKey::of(last),
                size,
            },
            _ => Paging::Offset(page(number, i64::from(size))),
        };
        let found = s
            .providers
            .search(filter, sort, paging, false)
            .await
            .expect("search");
        assert_eq!(found.total, None, "a total only when asked for");
        assert!(found.page.items.len() <= size as usize);
        got.extend(found.page.items);
        if !found.page.has_more {
            break;
        }
    }
    got
}

/// Every page of a search, concatenated, must equal the reference filter and order, in every
/// sort, walked by page number and by keys alike; the total counts every match.
async fn assert_search_matches_reference(s: &Subject, all: &[Provider], input: &SearchInput) {
    let filter = SearchFilter::parse(input).expect("valid filter");
    let matching: Vec<Provider> = all.iter().filter(|p| filter.matches(p)).cloned().collect();
    for sort in SearchSort::ALL {
        let mut expected = matching.clone();
        expected.sort_by(|a, b| sort.compare(a, b));
        for size in [1, 2, 100] {
            for after in [false, true] {
                let got = walk(s, &filter, sort, size, after).await;
                assert_eq!(
                    ids(&got),
                    ids(&expected),
                    "search {input:?} in {sort:?}, page size {size}, after keys: {after}"
                );
                assert_eq!(got, expected, "search {input:?}: providers as stored");
            }
        }
        let counted = s
            .providers
            .search(&filter, sort, Paging::Offset(page(1, 1)), true)
            .await
            .expect("search");
        assert_eq!(
            counted.total,
            Some(Total {
                value: expected.len() as u64,
                exact: true
            }),
            "total of {input:?}"
        );
    }
}

async fn assert_recommend_matches_reference(s: &Subject, all: &[Provider], input: &JobInput) {
    let job = JobRequest::parse(input).expect("valid job");
    let mut expected: Vec<_> = all.iter().filter_map(|p| job.evaluate(p)).collect();
    expected.sort_by(recommendation_order);
    for size in [1, 3, 100] {
        let mut got = Vec::new();
        for number in 1.. {
            let found = s
                .providers
                .recommend(&job, page(number, size))
                .await
                .expect("recommend");
            got.extend(found.items);
            if !found.has_more {
                break;
            }
        }
        assert_eq!(got, expected, "recommend {input:?}, page size {size}");
    }
}

fn ranges(list: &[(&str, &str)]) -> Vec<RangeInput> {
    list.iter()
        .map(|(f, t)| RangeInput {
            from_date: (*f).into(),
            to_date: (*t).into(),
        })
        .collect()
}

/// What is created is what is read back: name, skills in order and spelling, availability
/// sorted, zero review stats.
pub async fn created_provider_reads_back_unchanged(s: &Subject) {
    let p = provider(
        user(),
        draft(
            "Åsa's Ünïcode Café",
            &["SEO", "Cold Calling", "ßtraße"],
            25_000,
            &[("2028-03-01", "2028-03-01"), ("2028-02-28", "2028-02-29")],
        ),
    );
    let version = s.providers.create(&p).await.expect("create");
    let got = s.providers.get(p.id).await.expect("get");
    assert_eq!((version, got.version), (Version::FIRST, Version::FIRST));
    let got = got.value;
    assert_eq!(got, p);
    assert_eq!(
        got.availability.ranges()[0].from().to_string(),
        "2028-02-28"
    );
}

/// Reading an id that was never stored is `NotFound`.
pub async fn get_of_unknown_id_is_not_found(s: &Subject) {
    let got = s.providers.get(ProviderId::from_uuid(Uuid::new_v4())).await;
    assert!(matches!(got, Err(RepoError::NotFound)), "{got:?}");
}

/// A replace by the owner changes every client field and keeps id, owner and reviews.
pub async fn replace_by_owner_changes_fields_and_keeps_reviews(s: &Subject) {
    let owner = user();
    let p = provider(
        owner,
        draft("Old", &["a", "b"], 100, &[("2027-01-01", "2027-01-05")]),
    );
    seed(s, std::slice::from_ref(&p), &[(0, 40)]).await;
    let new = draft("New", &["c"], 200, &[("2027-02-01", "2027-02-02")]);
    let replaced = s
        .providers
        .replace(p.id, owner, &new, &VersionCheck::Any)
        .await
        .expect("replace");
    let got = s.providers.get(p.id).await.expect("get");
    assert_eq!(replaced, got);
    let got = got.value;
    assert_eq!(got.name.as_str(), "New");
    assert_eq!(got.skills, new.skills);
    assert_eq!(got.cost, new.cost);
    assert_eq!(got.availability, new.availability);
    assert_eq!((got.reviews.count, got.reviews.sum_tenths), (1, 40));
    assert_eq!(got.owner, owner);
}

/// A replace by anyone but the owner, or of an unknown id, is `NotFound` and changes nothing.
pub async fn replace_by_stranger_or_of_unknown_id_is_not_found(s: &Subject) {
    let p = provider(user(), draft("Mine", &["a"], 100, &[]));
    s.providers.create(&p).await.expect("create");
    let new = draft("Stolen", &[], 1, &[]);
    let got = s
        .providers
        .replace(p.id, user(), &new, &VersionCheck::Any)
        .await;
    assert!(matches!(got, Err(RepoError::NotFound)), "{got:?}");
    let unknown = ProviderId::from_uuid(Uuid::new_v4());
    let got = s
        .providers
        .replace(unknown, p.owner, &new, &VersionCheck::Any)
        .await;
    assert!(matches!(got, Err(RepoError::NotFound)), "{got:?}");
    let stored = s.providers.get(p.id).await.expect("get");
    assert_eq!((stored.value, stored.version), (p, Version::FIRST));
}

/// Delete by the owner removes the provider and its reviews; the reviewer may review again
/// elsewhere; a stranger's delete is `NotFound` and changes nothing.
pub async fn delete_by_owner_removes_provider_and_reviews(s: &Subject) {
    let owner = user();
    let p = provider(
        owner,
        draft("Gone", &["a"], 100, &[("2027-01-01", "2027-01-02")]),
    );
    seed(s, std::slice::from_ref(&p), &[(0, 30)]).await;
    let got = s.providers.delete(p.id, user(), &VersionCheck::Any).await;
    assert!(matches!(got, Err(RepoError::NotFound)), "{got:?}");
    assert!(s.providers.get(p.id).await.is_ok());

    s.providers
        .delete(p.id, owner, &VersionCheck::Any)
        .await
        .expect("delete");
    assert!(matches!(
        s.providers.get(p.id).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        s.reviews.list(p.id, Paging::Offset(Page::default())).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        s.providers.delete(p.id, owner, &VersionCheck::Any).await,
        Err(RepoError::NotFound)
    ));
    let everything = s
        .providers
        .search(
            &SearchFilter::default(),
            SearchSort::CostDesc,
            first_page(),
            false,
        )
        .await
        .expect("search")
        .page;
    assert!(everything.items.is_empty());
}

/// Each review adds to the provider's count and exact rating sum.
pub async fn reviews_update_count_and_sum_exactly(s: &Subject) {
    let p = provider(user(), draft("Rated", &[], 100, &[]));
    let stored = seed(s, std::slice::from_ref(&p), &[(0, 45), (0, 50), (0, 1)]).await;
    assert_eq!(
        (stored[0].reviews.count, stored[0].reviews.sum_tenths),
        (3, 96)
    );
}

/// A second review by the same user of the same provider is `Conflict` and changes nothing.
pub async fn second_review_by_same_user_is_conflict(s: &Subject) {
    let p = provider(user(), draft("Rated", &[], 100, &[]));
    s.providers.create(&p).await.expect("create");
    let reviewer = user();
    s.reviews
        .add(&published(&review(p.id, reviewer, 40, at(0))))
        .await
        .expect("first");
    let got = s
        .reviews
        .add(&published(&review(p.id, reviewer, 10, at(1))))
        .await;
    assert!(matches!(got, Err(RepoError::Conflict(_))), "{got:?}");
    let stored = s.providers.get(p.id).await.expect("get");
    assert_eq!(
        stored.version,
        Version::new(2),
        "the refused review bumps nothing"
    );
    let stored = stored.value;
    assert_eq!((stored.reviews.count, stored.reviews.sum_tenths), (1, 40));
    let listed = s
        .reviews
        .list(p.id, Paging::Offset(Page::default()))
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 1);
}

/// A review of a provider that does not exist is `NotFound`.
pub async fn review_of_unknown_provider_is_not_found(s: &Subject) {
    let got = s
        .reviews
        .add(&published(&review(
            ProviderId::from_uuid(Uuid::new_v4()),
            user(),
            40,
            at(0),
        )))
        .await;
    assert!(matches!(got, Err(RepoError::NotFound)), "{got:?}");
    let got = s
        .reviews
        .list(
            ProviderId::from_uuid(Uuid::new_v4()),
            Paging::Offset(Page::default()),
        )
        .await;
    assert!(matches!(got, Err(RepoError::NotFound)), "{got:?}");
}

/// Reviews list newest first (ties by id descending), paged, with `has_more`, and read back
/// exactly (comment, time to the microsecond).
pub async fn reviews_list_newest_first_in_pages(s: &Subject) {
    let p = provider(user(), draft("Rated", &[], 100, &[]));
    s.providers.create(&p).await.expect("create");
    let mut written = Vec::new();
    for i in 0..5 {
        let mut r = review(p.id, user(), 10 * i as u8, at(i64::from(i % 3)));
        r.created_at += Duration::microseconds(7);
        r.comment = Some(provider_domain::Comment::new(&format!("comment {i} ✓")).expect("ok"));
        s.reviews.add(&published(&r)).await.expect("add");
        written.push(r);
    }
    written.sort_by(Review::newest_first);
    let first = s
        .reviews
        .list(p.id, Paging::Offset(page(1, 2)))
        .await
        .expect("list");
    let third = s
        .reviews
        .list(p.id, Paging::Offset(page(3, 2)))
        .await
        .expect("list");
    assert!(first.has_more);
    assert!(!third.has_more);
    assert_eq!(reviews_of(first), written[..2].to_vec());
    assert_eq!(reviews_of(third), written[4..].to_vec());
    // Each page after the last review of the one before: the same list, at any depth.
    for size in [1, 2, 3] {
        let mut walked: Vec<Review> = Vec::new();
        loop {
            let paging = match walked.last() {
                Some(last) => Paging::After {
                    key: (last.created_at, last.id),
                    size,
                },
                None => Paging::Offset(page(1, i64::from(size))),
            };
            let found = s.reviews.list(p.id, paging).await.expect("list");
            let more = found.has_more;
            walked.extend(reviews_of(found));
            if !more {
                break;
            }
        }
        assert_eq!(walked, written, "page size {size}");
    }
    // After a key no review has (written between two of them): what follows that point.
    let between = (written[1].created_at, ReviewId::from_uuid(Uuid::max()));
    let after = s
        .reviews
        .list(
            p.id,
            Paging::After {
                key: between,
                size: 10,
            },
        )
        .await
        .expect("list");
    let expected: Vec<Review> = written
        .iter()
        .filter(|r| (r.created_at, r.id) < between)
        .cloned()
        .collect();
    assert!(!after.has_more);
    assert_eq!(reviews_of(after), expected);
}

fn search_fixture(owner: UserId) -> Vec<Provider> {
    let mut fixture = vec![
        provider(
            owner,
            draft(
                "Alpha 50% Off",
                &["SEO", "Rust"],
                10_000,
                &[("2027-01-01", "2027-01-10")],
            ),
        ),
        provider(
            owner,
            draft(
                "beta_builders",
                &["rust"],
                10_000,
                &[("2027-01-11", "2027-01-20")],
            ),
        ),
        provider(
            owner,
            draft(
                "Gamma",
                &["Plumbing"],
                30_000,
                &[("2027-03-01", "2027-03-01")],
            ),
        ),
        provider(owner, draft("ΔELTA İstanbul", &["Straße"], 5_000, &[])),
        provider(
            owner,
            draft(
                "Epsilon",
                &[],
                10_000,
                &[("2026-12-30", "2027-01-01"), ("2027-02-01", "2027-02-28")],
            ),
        ),
        provider(
            owner,
            draft("Zeta", &["seo"], 0, &[("2027-01-05", "2027-01-06")]),
        ),
    ];
    // Two instants only: the newest order breaks ties by id.
    for (i, p) in fixture.iter_mut().enumerate() {
        p.created_at = at((i % 2) as i64);
    }
    fixture
}

/// Every part of the search filter, alone and combined, and the search order, page by page.
pub async fn search_matches_reference_filter_and_order(s: &Subject) {
    let all = seed(
        s,
        &search_fixture(user()),
        &[(0, 40), (1, 50), (1, 30), (2, 20), (4, 40), (4, 41)],
    )
    .await;
    let window = |f: &str, t: &str| Some(ranges(&[(f, t)]));
    let cases = vec![
        SearchInput::default(),
        SearchInput {
            name: Some("50%".into()),
            ..Default::default()
        },
        SearchInput {
            name: Some("_".into()),
            ..Default::default()
        },
        SearchInput {
            name: Some("a".into()),
            ..Default::default()
        },
        SearchInput {
            name: Some("delta i̇".into()),
            ..Default::default()
        },
        SearchInput {
            name: Some("STANBUL".into()),
            ..Default::default()
        },
        SearchInput {
            skills: Some(vec!["RUST".into()]),
            ..Default::default()
        },
        SearchInput {
            skills: Some(vec!["seo".into(), "plumbing".into()]),
            ..Default::default()
        },
        SearchInput {
            skills: Some(vec!["STRASSE".into()]),
            ..Default::default()
        },
        SearchInput {
            skills: Some(vec![]),
            ..Default::default()
        },
        SearchInput {
            cost_gt: Some(5_000),
            cost_lt: Some(30_000),
            ..Default::default()
        },
        SearchInput {
            cost_lt: Some(10_001),
            ..Default::default()
        },
        SearchInput {
            reviews_gt: Some(4.0),
            ..Default::default()
        },
        SearchInput {
            reviews_gt: Some(2.0),
            reviews_lt: Some(4.0),
            ..Default::default()
        },
        SearchInput {
            reviews_lt: Some(0.0),
            ..Default::default()
        },
        SearchInput {
            availability: window("2027-01-10", "2027-01-11"),
            ..Default::default()
        },
        SearchInput {
            availability: Some(ranges(&[
                ("2027-01-01", "2027-01-01"),
                ("2027-02-28", "2027-03-05"),
            ])),
            ..Default::default()
        },
        SearchInput {
            availability: window("2030-01-01", "2030-12-31"),
            ..Default::default()
        },
        SearchInput {
            name: Some("e".into()),
            skills: Some(vec!["rust".into(), "seo".into()]),
            cost_gt: Some(-1),
            reviews_gt: Some(0.0),
            availability: window("2027-01-06", "2027-01-30"),
            ..Default::default()
        },
    ];
    for input in &cases {
        assert_search_matches_reference(s, &all, input).await;
    }
}

/// A total is exact up to 10,000 matches and says "at least 10,000" beyond, in any order and
/// with any filter; it does not depend on the page asked for.
pub async fn search_totals_stop_counting_past_ten_thousand(s: &Subject) {
    let owner = user();
    let tasks: Vec<_> = (0..8)
        .map(|worker| {
            let providers = s.providers.clone();
            tokio::spawn(async move {
                for i in (worker..10_001).step_by(8) {
                    // Day rates 0..=10_000: cost_lt 10_000 matches exactly 10,000 of them.
                    let p = provider(owner, draft("Many", &[], i, &[]));
                    providers.create(&p).await.expect("create");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("creator");
    }
    let total = |input: SearchInput, sort: SearchSort, paging: Paging<SortKey>| {
        let providers = s.providers.clone();
        async move {
            let filter = SearchFilter::parse(&input).expect("valid");
            providers
                .search(&filter, sort, paging, true)
                .await
                .expect("search")
                .total
                .expect("asked for")
        }
    };
    let over = Total {
        value: 10_000,
        exact: false,
    };
    let exactly = |value| Total { value, exact: true };
    for sort in SearchSort::ALL {
        assert_eq!(
            total(SearchInput::default(), sort, first_page()).await,
            over
        );
    }
    let below = || SearchInput {
        cost_lt: Some(10_000),
        ..Default::default()
    };
    assert_eq!(
        total(below(), SearchSort::Newest, first_page()).await,
        exactly(10_000)
    );
    assert_eq!(
        total(below(), SearchSort::CostAsc, Paging::Offset(page(100, 100))).await,
        exactly(10_000)
    );
    let few = || SearchInput {
        cost_gt: Some(9_996),
        ..Default::default()
    };
    assert_eq!(
        total(few(), SearchSort::RatingDesc, first_page()).await,
        exactly(4)
    );
    // A page past the end still counts.
    assert_eq!(
        total(few(), SearchSort::CostDesc, Paging::Offset(page(3, 2))).await,
        exactly(4)
    );
    let none = SearchInput {
        name: Some("nobody".into()),
        ..Default::default()
    };
    assert_eq!(
        total(none, SearchSort::ReviewsDesc, first_page()).await,
        exactly(0)
    );
}

/// The page after a key lists what follows that point of the order now: a provider whose key
/// did not change since the page before is neither repeated nor skipped, whatever happened to
/// others (the last one shown deleted, another reviewed and moved, a new one created).
pub async fn pages_after_a_key_follow_the_order_through_changes(s: &Subject) {
    let owner = user();
    for sort in SearchSort::ALL {
        // A skill of each order's own: its walk sees only its providers.
        let skill = format!("walk {}", sort.name());
        let fixture: Vec<Provider> = (0..8)
            .map(|i| {
                provider_at(
                    owner,
                    draft("Walked", &[&skill], 100 * (i % 3), &[]),
                    at(i % 4),
                )
            })
            .collect();
        let ratings: Vec<(usize, u8)> = (0..8).map(|i| (i, (i * 7 % 50) as u8)).collect();
        let mut sorted = seed(s, &fixture, &ratings).await;
        sorted.sort_by(|a, b| sort.compare(a, b));
        let filter = SearchFilter::parse(&SearchInput {
            skills: Some(vec![skill.clone()]),
            ..Default::default()
        })
        .expect("valid");
        let first = s
            .providers
            .search(&filter, sort, Paging::Offset(page(1, 3)), false)
            .await
            .expect("search")
            .page;
        assert_eq!(first.items, sorted[..3].to_vec());
        let last = SortKey::of(&sorted[2]);
        let moved = sorted[5].id;
        // The changes: the last shown gone, a later one reviewed, one created.
        s.providers
            .delete(sorted[2].id, owner, &VersionCheck::Any)
            .await
            .expect("delete");
        s.reviews
            .add(&published(&review(moved, user(), 50, at(100))))
            .await
            .expect("review");
        let added = provider_at(owner, draft("New", &[&skill], 150, &[]), at(2));
        s.providers.create(&added).await.expect("create");

        let mut now = vec![added];
        for p in &sorted[3..] {
            now.push(s.providers.get(p.id).await.expect("get").value);
        }
        let mut expected: Vec<Provider> = now
            .into_iter()
            .filter(|p| sort.is_after(p, &last))
            .collect();
        expected.sort_by(|a, b| sort.compare(a, b));
        let rest = s
            .providers
            .search(
                &filter,
                sort,
                Paging::After {
                    key: last,
                    size: 100,
                },
                false,
            )
            .await
            .expect("search")
            .page;
        assert_eq!(rest.items, expected, "{sort:?}");
        assert!(!rest.has_more);
        for unchanged in sorted[3..].iter().filter(|p| p.id != moved) {
            let times = rest.items.iter().filter(|p| p.id == unchanged.id).count();
            assert_eq!(times, 1, "{sort:?}: {} listed once", unchanged.id);
        }
    }
}

/// Through the use cases: every page of a search and of a review list carries the cursor of
/// the next (also in page mode), which lists the same sequence as page numbers do; a cursor
/// is refused (422 on `cursor`) when changed, made for another filter, order, list or
/// provider, or given with `page`; an unknown order is 422 on `sort`.
pub async fn cursors_lead_through_every_page_and_are_refused_anywhere_else(s: &Subject) {
    use crate::{ListRequest, SearchOptions};
    let service = ProviderService::new(s.providers.clone(), s.reviews.clone(), s.keys.clone());
    let all = seed(
        s,
        &search_fixture(user()),
        &[(0, 40), (1, 50), (1, 30), (2, 20), (4, 40), (4, 41)],
    )
    .await;
    let input = SearchInput::default();
    let options = |sort: &str, total: bool| SearchOptions {
        sort: Some(sort.into()),
        total,
    };
    let by_page = |number: i64| ListRequest {
        page: Some(number),
        page_size: Some(2),
        cursor: None,
    };
    let after = |cursor: &str| ListRequest {
        page: None,
        page_size: Some(2),
        cursor: Some(cursor.into()),
    };
    for sort in SearchSort::ALL {
        let mut expected = all.clone();
        expected.sort_by(|a, b| sort.compare(a, b));
        let mut walked = Vec::new();
        let mut next = service
            .search(&input, &options(sort.name(), true), &by_page(1))
            .await
            .expect("search");
        assert_eq!(next.page, Some(1));
        assert_eq!(
            next.total,
            Some(Total {
                value: 6,
                exact: true
            })
        );
        loop {
            assert_eq!(next.has_more, next.next_cursor.is_some());
            walked.extend(next.items.clone());
            let Some(cursor) = next.next_cursor.clone() else {
                break;
            };
            next = service
                .search(&input, &options(sort.name(), false), &after(&cursor))
                .await
                .expect("search");
            assert_eq!((next.page, next.page_size, next.total), (None, 2, None));
        }
        assert_eq!(walked, expected, "{sort:?}");
    }

    let first = service
        .search(&input, &SearchOptions::default(), &by_page(1))
        .await
        .expect("search");
    let cursor = first.next_cursor.expect("more follow");
    let refused = |got: Result<crate::Listed<Provider>, ServiceError>, field: &str| match got {
        Err(ServiceError::Invalid(e)) => {
            assert_eq!(e.0.len(), 1, "{e:?}");
            assert_eq!(e.0[0].field, field, "{e:?}");
        }
        other => panic!("expected 422 on {field}: {other:?}"),
    };
    // The default order is cost_desc: the same cursor serves either spelling.
    assert!(service
        .search(&input, &options("cost_desc", false), &after(&cursor))
        .await
        .is_ok());
    refused(
        service
            .search(&input, &options("newest", false), &after(&cursor))
            .await,
        "cursor",
    );
    let other = SearchInput {
        cost_gt: Some(0),
        ..Default::default()
    };
    refused(
        service
            .search(&other, &SearchOptions::default(), &after(&cursor))
            .await,
        "cursor",
    );
    let mut changed = cursor.clone().into_bytes();
    let i = changed.len() / 2;
    changed[i] = if changed[i] == b'A' { b'B' } else { b'A' };
    refused(
        service
            .search(
                &input,
                &SearchOptions::default(),
                &after(&String::from_utf8(changed).expect("ascii")),
            )
            .await,
        "cursor",
    );
    for garbage in ["", "not a cursor", "AAAA"] {
        refused(
            service
                .search(&input, &SearchOptions::default(), &after(garbage))
                .await,
            "cursor",
        );
    }
    refused(
        service
            .search(
                &input,
                &SearchOptions::default(),
                &ListRequest {
                    page: Some(1),
                    ..after(&cursor)
                },
            )
            .await,
        "cursor",
    );
    refused(
        service
            .search(&input, &options("price", false), &by_page(1))
            .await,
        "sort",
    );
    // Another process's key: its cursors are not this one's.
    let elsewhere = ProviderService::new(s.providers.clone(), s.reviews.clone(), s.keys.clone());
    refused(
        elsewhere
            .search(&input, &SearchOptions::default(), &after(&cursor))
            .await,
        "cursor",
    );

    // Review lists: the same, per provider.
    let rated = &all[1];
    let other_provider = &all[4];
    let reviews_first = service
        .list_reviews(
            rated.id,
            &ListRequest {
                page_size: Some(1),
                ..ListRequest::default()
            },
        )
        .await
        .expect("list");
    let review_cursor = reviews_first.next_cursor.expect("two reviews");
    let second = service
        .list_reviews(
            rated.id,
            &ListRequest {
                page_size: Some(1),
                cursor: Some(review_cursor.clone()),
                ..ListRequest::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(second.items.len(), 1);
    assert_ne!(second.items, reviews_first.items);
    assert_eq!((second.next_cursor, second.has_more), (None, false));
    let refused_reviews = |got: Result<crate::Listed<StoredReview>, ServiceError>| match got {
        Err(ServiceError::Invalid(e)) => assert_eq!(e.0[0].field, "cursor", "{e:?}"),
        other => panic!("expected 422 on cursor: {other:?}"),
    };
    refused_reviews(
        service
            .list_reviews(
                other_provider.id,
                &ListRequest {
                    cursor: Some(review_cursor),
                    ..ListRequest::default()
                },
            )
            .await,
    );
    refused_reviews(
        service
            .list_reviews(
                rated.id,
                &ListRequest {
                    cursor: Some(cursor.clone()),
                    ..ListRequest::default()
                },
            )
            .await,
    );
}

/// Every recommendation rule and the ranking, page by page.
pub async fn recommend_matches_reference_rules_and_ranking(s: &Subject) {
    let owner = user();
    let fixture = vec![
        // Touching ranges make one 6-day run; inside a window.
        provider(
            owner,
            draft(
                "Joined",
                &["Rust", "SEO"],
                10_000,
                &[("2027-01-01", "2027-01-03"), ("2027-01-04", "2027-01-06")],
            ),
        ),
        // Same cost and skills as Joined, different reviews: confidence decides.
        provider(
            owner,
            draft(
                "Twin",
                &["rust", "seo"],
                10_000,
                &[("2027-01-01", "2027-01-31")],
            ),
        ),
        // Exactly affordable for 3 days at 30,000.
        provider(
            owner,
            draft("Exact", &["RUST"], 10_000, &[("2027-01-10", "2027-01-12")]),
        ),
        // One pence over the budget for 3 days at 30,000.
        provider(
            owner,
            draft("Dear", &["rust"], 10_001, &[("2027-01-01", "2027-01-31")]),
        ),
        // Run crossing the window edge: only 2 days inside 2027-01-01..=2027-01-31.
        provider(
            owner,
            draft("Edge", &["rust"], 5_000, &[("2027-01-30", "2027-02-10")]),
        ),
        // Gap between ranges: two 2-day runs.
        provider(
            owner,
            draft(
                "Gappy",
                &["seo"],
                5_000,
                &[("2027-01-01", "2027-01-02"), ("2027-01-04", "2027-01-05")],
            ),
        ),
        // No matching skill.
        provider(
            owner,
            draft(
                "Plumber",
                &["Plumbing"],
                1_000,
                &[("2027-01-01", "2027-01-31")],
            ),
        ),
        // Cheap, unreviewed.
        provider(
            owner,
            draft("Cheap", &["seo"], 0, &[("2027-01-15", "2027-01-20")]),
        ),
        provider(
            owner,
            draft("Many", &["seo"], 0, &[("2027-01-15", "2027-01-20")]),
        ),
    ];
    let mut ratings = vec![(0, 50), (1, 45), (1, 45), (1, 45), (3, 50), (7, 30)];
    ratings.extend((0..6).map(|_| (8, 35)));
    let all = seed(s, &fixture, &ratings).await;
    let job = |budget: i64, days: i64, skills: &[&str], min: Option<f64>| JobInput {
        job_budget_in_pence: Some(budget),
        expected_job_duration_in_days: Some(days),
        skills: Some(skills.iter().map(|s| (*s).to_owned()).collect()),
        availability: Some(ranges(&[("2027-01-01", "2027-01-31")])),
        minimum_review_rating: min,
    };
    let cases = vec![
        job(30_000, 3, &["rust", "SEO"], None),
        job(30_000, 3, &["seo"], Some(3.0)),
        job(1_000_000, 1, &["seo", "rust", "plumbing"], None),
        job(1_000_000, 2, &["Rust"], Some(4.6)),
        job(1_000_000, 6, &["rust", "seo"], None),
        job(1, 1, &["seo"], None),
        JobInput {
            availability: Some(ranges(&[
                ("2027-01-03", "2027-01-05"),
                ("2027-01-29", "2027-02-01"),
            ])),
            ..job(1_000_000, 3, &["rust", "seo"], None)
        },
    ];
    for input in &cases {
        assert_recommend_matches_reference(s, &all, input).await;
    }
}

/// The version is 1 at creation and goes up by one with every replace and every review, and
/// with nothing else (reads, refused writes).
pub async fn version_rises_with_every_replace_and_review_only(s: &Subject) {
    let owner = user();
    let p = provider(owner, draft("Versioned", &["a"], 100, &[]));
    assert_eq!(
        s.providers.create(&p).await.expect("create"),
        Version::FIRST
    );
    let version = async || s.providers.get(p.id).await.expect("get").version;

    let replaced = s
        .providers
        .replace(
            p.id,
            owner,
            &draft("Again", &[], 5, &[]),
            &VersionCheck::Any,
        )
        .await
        .expect("replace");
    assert_eq!(replaced.version, Version::new(2));
    assert_eq!(version().await, Version::new(2));

    s.reviews
        .add(&published(&review(p.id, user(), 30, at(0))))
        .await
        .expect("review");
    assert_eq!(version().await, Version::new(3));

    let stranger = s
        .providers
        .replace(
            p.id,
            user(),
            &draft("Nope", &[], 5, &[]),
            &VersionCheck::Any,
        )
        .await;
    assert!(matches!(stranger, Err(RepoError::NotFound)), "{stranger:?}");
    s.providers
        .search(
            &SearchFilter::default(),
            SearchSort::CostDesc,
            first_page(),
            true,
        )
        .await
        .expect("search");
    assert_eq!(version().await, Version::new(3));
}

/// A replace with a version check passes only on a current version (any of a list); a stale
/// one is `PreconditionFailed` and changes nothing; a missing or not-yours provider is
/// `NotFound` whatever the check.
pub async fn conditional_replace_passes_only_on_the_current_version(s: &Subject) {
    let owner = user();
    let p = provider(owner, draft("Before", &["a"], 100, &[]));
    s.providers.create(&p).await.expect("create");
    let one_of = |v: &[u64]| VersionCheck::OneOf(v.iter().copied().map(Version::new).collect());

    let first = s
        .providers
        .replace(p.id, owner, &draft("First", &[], 1, &[]), &one_of(&[1]))
        .await
        .expect("current version passes");
    assert_eq!(first.version, Version::new(2));

    for stale in [one_of(&[1]), one_of(&[]), one_of(&[3, 7])] {
        let got = s
            .providers
            .replace(p.id, owner, &draft("Lost", &[], 2, &[]), &stale)
            .await;
        assert!(matches!(got, Err(RepoError::PreconditionFailed)), "{got:?}");
    }
    assert_eq!(s.providers.get(p.id).await.expect("get"), first);

    let stranger = s
        .providers
        .replace(p.id, user(), &draft("Lost", &[], 2, &[]), &one_of(&[1]))
        .await;
    assert!(matches!(stranger, Err(RepoError::NotFound)), "{stranger:?}");
    let unknown = s
        .providers
        .replace(
            ProviderId::from_uuid(Uuid::new_v4()),
            owner,
            &draft("Lost", &[], 2, &[]),
            &one_of(&[]),
        )
        .await;
    assert!(matches!(unknown, Err(RepoError::NotFound)), "{unknown:?}");

    let second = s
        .providers
        .replace(p.id, owner, &draft("Second", &[], 3, &[]), &one_of(&[9, 2]))
        .await
        .expect("a list holding the current version passes");
    assert_eq!(second.version, Version::new(3));
    assert_eq!(second.value.name.as_str(), "Second");
}

/// A delete with a version check deletes only on a current version; a review makes the
/// version read before it stale.
pub async fn conditional_delete_passes_only_on_the_current_version(s: &Subject) {
    let owner = user();
    let p = provider(owner, draft("Doomed", &[], 100, &[]));
    s.providers.create(&p).await.expect("create");
    s.reviews
        .add(&published(&review(p.id, user(), 40, at(0))))
        .await
        .expect("review");

    let stale = VersionCheck::OneOf(vec![Version::FIRST]);
    let got = s.providers.delete(p.id, owner, &stale).await;
    assert!(matches!(got, Err(RepoError::PreconditionFailed)), "{got:?}");
    let kept = s.providers.get(p.id).await.expect("still there");
    assert_eq!(kept.version, Version::new(2));

    let current = VersionCheck::OneOf(vec![kept.version]);
    let got = s.providers.delete(p.id, user(), &current).await;
    assert!(matches!(got, Err(RepoError::NotFound)), "{got:?}");
    s.providers
        .delete(p.id, owner, &current)
        .await
        .expect("delete");
    let got = s.providers.delete(p.id, owner, &current).await;
    assert!(matches!(got, Err(RepoError::NotFound)), "{got:?}");
}

/// Writers replacing one provider at once, all requiring the same version: exactly one
/// passes, the others are `PreconditionFailed`, and the stored provider is the winner's.
pub async fn concurrent_replaces_with_one_version_check_let_exactly_one_pass(s: &Subject) {
    const WRITERS: usize = 12;
    let owner = user();
    let p = provider(owner, draft("Raced", &["a"], 100, &[]));
    s.providers.create(&p).await.expect("create");
    let check = VersionCheck::OneOf(vec![Version::FIRST]);
    let tasks: Vec<_> = (0..WRITERS)
        .map(|i| {
            let (providers, check) = (s.providers.clone(), check.clone());
            let name = format!("Writer {i}");
            tokio::spawn(async move {
                let mine = draft(&name, &[name.as_str()], 100 + i as i64, &[]);
                let got = providers.replace(p.id, owner, &mine, &check).await;
                (mine, got)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("writer") {
            (mine, Ok(replaced)) => winners.push((mine, replaced)),
            (_, Err(RepoError::PreconditionFailed)) => {}
            (_, Err(e)) => panic!("a writer failed otherwise: {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer passes");
    let (mine, replaced) = winners.pop().expect("one");
    let stored = s.providers.get(p.id).await.expect("get");
    assert_eq!(stored, replaced);
    assert_eq!(stored.version, Version::new(2));
    assert_eq!(stored.value, p.clone().replaced(mine));
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text.as_bytes()).expect("valid key")
}

fn keyed(caller: UserId, text: &str, body: &str) -> IdempotentRequest {
    IdempotentRequest {
        caller,
        key: key(text),
        fingerprint: Fingerprint::of(&[b"POST /test", body.as_bytes()]),
    }
}

/// An answer as a store keeps it: opaque bytes, not all of them text.
fn answer(body: &str) -> StoredAnswer {
    StoredAnswer::from_bytes([&[0x01, 0x00, 0xc9, 0xff][..], body.as_bytes()].concat())
}

fn token() -> ClaimToken {
    ClaimToken(Uuid::new_v4())
}

/// A fresh key is claimed; while pending the same request is `InFlight` and another one
/// `Mismatch`; once completed the same request gets the answer back; keys are per caller.
pub async fn idempotency_claim_then_in_flight_then_replay(s: &Subject) {
    let caller = user();
    let first = keyed(caller, "key-1", "{\"a\":1}");
    let other = keyed(caller, "key-1", "{\"a\":2}");
    let holder = token();
    assert_eq!(
        s.keys.claim(&first, holder, at(0)).await.expect("claim"),
        Claim::Claimed
    );
    assert_eq!(
        s.keys.claim(&first, token(), at(1)).await.expect("claim"),
        Claim::InFlight
    );
    assert_eq!(
        s.keys.claim(&other, token(), at(1)).await.expect("claim"),
        Claim::Mismatch
    );

    s.keys
        .complete(&first, holder, &answer("kept ✓"), at(2))
        .await
        .expect("complete");
    assert_eq!(
        s.keys.claim(&first, token(), at(3)).await.expect("claim"),
        Claim::Completed(answer("kept ✓"))
    );
    assert_eq!(
        s.keys.claim(&other, token(), at(3)).await.expect("claim"),
        Claim::Mismatch
    );
    let someone_else = keyed(user(), "key-1", "{\"a\":1}");
    assert_eq!(
        s.keys
            .claim(&someone_else, token(), at(3))
            .await
            .expect("claim"),
        Claim::Claimed,
        "keys are per caller"
    );
}

/// A released claim leaves the key free: the next request (any body) claims it.
pub async fn idempotency_released_key_is_free_again(s: &Subject) {
    let request = keyed(user(), "retry-me", "{}");
    let holder = token();
    assert_eq!(
        s.keys.claim(&request, holder, at(0)).await.expect("claim"),
        Claim::Claimed
    );
    s.keys.release(&request, holder).await.expect("release");
    let changed = IdempotentRequest {
        fingerprint: Fingerprint::of(&[b"another body"]),
        ..request.clone()
    };
    assert_eq!(
        s.keys.claim(&changed, token(), at(1)).await.expect("claim"),
        Claim::Claimed
    );
}

/// A completed answer is kept for the retention period from its completion, then the key is
/// free again.
pub async fn idempotency_answer_expires_after_retention(s: &Subject) {
    let request = keyed(user(), "short-lived", "{}");
    let holder = token();
    s.keys.claim(&request, holder, at(0)).await.expect("claim");
    s.keys
        .complete(&request, holder, &answer("{}"), at(10))
        .await
        .expect("complete");
    let just_before = at(10) + RETENTION - Duration::seconds(1);
    assert_eq!(
        s.keys
            .claim(&request, token(), just_before)
            .await
            .expect("claim"),
        Claim::Completed(answer("{}"))
    );
    let expired = at(10) + RETENTION;
    assert_eq!(
        s.keys
            .claim(&request, token(), expired)
            .await
            .expect("claim"),
        Claim::Claimed
    );
}

/// A pending claim older than the reclaim bound is taken over (whatever the body); the old
/// holder can then neither complete nor release it.
pub async fn idempotency_stale_pending_claim_is_taken_over(s: &Subject) {
    let caller = user();
    let crashed = keyed(caller, "orphan", "{\"v\":1}");
    let retry = keyed(caller, "orphan", "{\"v\":2}");
    let (old, new) = (token(), token());
    s.keys.claim(&crashed, old, at(0)).await.expect("claim");
    let almost = at(0) + RECLAIM_PENDING_AFTER - Duration::seconds(1);
    assert_eq!(
        s.keys
            .claim(&crashed, token(), almost)
            .await
            .expect("claim"),
        Claim::InFlight
    );
    let stale = at(0) + RECLAIM_PENDING_AFTER;
    assert_eq!(
        s.keys.claim(&retry, new, stale).await.expect("claim"),
        Claim::Claimed
    );

    s.keys
        .complete(&crashed, old, &answer("old"), stale)
        .await
        .expect("complete");
    s.keys.release(&crashed, old).await.expect("release");
    assert_eq!(
        s.keys.claim(&retry, token(), stale).await.expect("claim"),
        Claim::InFlight,
        "the old holder changed nothing"
    );
    s.keys
        .complete(&retry, new, &answer("new"), stale)
        .await
        .expect("complete");
    assert_eq!(
        s.keys.claim(&retry, token(), stale).await.expect("claim"),
        Claim::Completed(answer("new"))
    );
}

/// A create or a review written with its kept answer ([`Completion`]) leaves both: the key
/// replays that answer.
pub async fn idempotency_write_keeps_its_answer_with_it(s: &Subject) {
    let caller = user();
    let create = keyed(caller, "create-kept", "{\"name\":\"Kept\"}");
    let holder = token();
    s.keys.claim(&create, holder, at(0)).await.expect("claim");
    let p = provider(caller, draft("Kept", &[], 100, &[]));
    let completion = Completion {
        request: create.clone(),
        token: holder,
        answer: answer("created"),
        now: at(1),
    };
    let version = s
        .providers
        .create_completing(&p, &completion)
        .await
        .expect("create");
    assert_eq!(version, Version::FIRST);
    assert_eq!(s.providers.get(p.id).await.expect("get").value, p);
    assert_eq!(
        s.keys.claim(&create, token(), at(2)).await.expect("claim"),
        Claim::Completed(answer("created"))
    );

    let reviewer = user();
    let add = keyed(reviewer, "review-kept", "{\"rating\":4}");
    let holder = token();
    s.keys.claim(&add, holder, at(3)).await.expect("claim");
    let completion = Completion {
        request: add.clone(),
        token: holder,
        answer: answer("reviewed"),
        now: at(4),
    };
    s.reviews
        .add_completing(&published(&review(p.id, reviewer, 40, at(4))), &completion)
        .await
        .expect("add");
    assert_eq!(
        s.providers
            .get(p.id)
            .await
            .expect("get")
            .value
            .reviews
            .count,
        1
    );
    assert_eq!(
        s.keys.claim(&add, token(), at(5)).await.expect("claim"),
        Claim::Completed(answer("reviewed"))
    );
    // Kept for the retention from the completion, as `complete` keeps it.
    assert_eq!(
        s.keys
            .claim(&add, token(), at(4) + RETENTION)
            .await
            .expect("claim"),
        Claim::Claimed
    );
}

/// A write whose claim was taken over (its request outlived the reclaim bound) is refused and
/// stores nothing: the new holder may be writing the same thing.
pub async fn idempotency_write_of_a_taken_over_claim_stores_nothing(s: &Subject) {
    let caller = user();
    let request = keyed(caller, "slow", "{}");
    let (old, new) = (token(), token());
    s.keys.claim(&request, old, at(0)).await.expect("claim");
    let stale = at(0) + RECLAIM_PENDING_AFTER;
    s.keys.claim(&request, new, stale).await.expect("claim");
    let completion = Completion {
        request: request.clone(),
        token: old,
        answer: answer("late"),
        now: stale,
    };
    let p = provider(caller, draft("Late", &[], 100, &[]));
    let got = s.providers.create_completing(&p, &completion).await;
    assert!(matches!(got, Err(RepoError::Unavailable(_))), "{got:?}");
    assert!(matches!(
        s.providers.get(p.id).await,
        Err(RepoError::NotFound)
    ));

    let target = provider(user(), draft("Target", &[], 100, &[]));
    s.providers.create(&target).await.expect("create");
    let got = s
        .reviews
        .add_completing(
            &published(&review(target.id, caller, 40, at(1))),
            &completion,
        )
        .await;
    assert!(matches!(got, Err(RepoError::Unavailable(_))), "{got:?}");
    let stored = s.providers.get(target.id).await.expect("get");
    assert_eq!(
        (stored.version, stored.value.reviews.count),
        (Version::FIRST, 0)
    );
    assert_eq!(
        s.keys.claim(&request, token(), stale).await.expect("claim"),
        Claim::InFlight,
        "the new holder's claim is untouched"
    );
}

/// A keyed review the screen holds is stored with its kept answer as the screen settled it:
/// held (counted nowhere, the provider's version unchanged), with its submission's history,
/// and equal to the review its answer was made from; the key replays that answer.
pub async fn idempotency_keyed_held_review_is_kept_as_screened(s: &Subject) {
    let service = ProviderService::new(s.providers.clone(), s.reviews.clone(), s.keys.clone());
    let p = provider(user(), draft("Held", &[], 100, &[]));
    s.providers.create(&p).await.expect("create");
    let author = user();
    let request = keyed(author, "held-review", "{\"rating\":4}");
    let input = crate::NewReview {
        rating: 4.0,
        comment: Some("Mail me: jo@example.com".into()),
        skill_ratings: Vec::new(),
    };
    let mut seen = None;
    let fresh = service
        .add_review_once(Some(&request), author, p.id, &input, |added| {
            seen = Some(added.clone());
            Ok(Outcome::Keep {
                answer: (),
                stored: answer("held"),
            })
        })
        .await
        .expect("add");
    assert_eq!(fresh, Answered::Fresh(()));
    let added = seen.expect("an answer was made");
    assert_eq!(added.value.moderation.status, ReviewStatus::Pending);
    let id = added.value.review.id;
    assert_eq!(s.reviews.find(id).await.expect("find"), added.value);
    let names = |events: &[provider_domain::Event]| -> Vec<&'static str> {
        events.iter().map(|e| e.detail.name()).collect()
    };
    let history = s.reviews.history(id).await.expect("history");
    assert_eq!(names(&history), names(&added.events));
    assert_eq!(names(&history), ["submitted", "held"]);
    let stored = s.providers.get(p.id).await.expect("get");
    assert_eq!(
        (stored.version, stored.value.reviews.count),
        (Version::FIRST, 0)
    );
    let replayed = service
        .add_review_once(Some(&request), author, p.id, &input, |_| {
            Err::<Outcome<()>, _>(ServiceError::Internal("a replay runs nothing".into()))
        })
        .await
        .expect("replay");
    assert_eq!(replayed, Answered::Replayed(answer("held")));
}

/// The same create sent many times at once with one key, through the use case: one provider
/// is created, and every answer is either that 201 (replayed but for one) or a 409.
pub async fn concurrent_creates_with_one_key_create_one_provider(s: &Subject) {
    const SENDERS: usize = 20;
    let service = ProviderService::new(s.providers.clone(), s.reviews.clone(), s.keys.clone());
    let caller = user();
    let request = keyed(caller, "create-once", "{\"name\":\"Once\"}");
    let tasks: Vec<_> = (0..SENDERS)
        .map(|_| {
            let (service, request) = (service.clone(), request.clone());
            tokio::spawn(async move {
                service
                    .once(Some(&request), || async {
                        let input = ProviderInput {
                            name: "Once".into(),
                            cost_in_pence: 100,
                            ..ProviderInput::default()
                        };
                        let created = service.create(caller, &input).await?;
                        let answer = created.value.id.to_string().into_bytes();
                        Ok(Outcome::Keep {
                            stored: StoredAnswer::from_bytes(answer.clone()),
                            answer,
                        })
                    })
                    .await
            })
        })
        .collect();
    let (mut answers, mut replays, mut in_flight) = (Vec::new(), 0, 0);
    for task in tasks {
        match task.await.expect("sender") {
            Ok(Answered::Fresh(answer)) => answers.push(answer),
            Ok(Answered::Replayed(stored)) => {
                replays += 1;
                answers.push(stored.into_bytes());
            }
            Err(ServiceError::KeyInFlight) => in_flight += 1,
            Err(e) => panic!("a sender failed otherwise: {e:?}"),
        }
    }
    let everything = s
        .providers
        .search(
            &SearchFilter::default(),
            SearchSort::CostDesc,
            first_page(),
            false,
        )
        .await
        .expect("search")
        .page;
    assert_eq!(everything.items.len(), 1, "one provider created");
    assert_eq!(answers.len() + in_flight, SENDERS);
    assert_eq!(
        replays,
        answers.len() - 1,
        "all answers but the first are replays"
    );
    let created = everything.items[0].id.to_string().into_bytes();
    assert!(answers.iter().all(|a| *a == created));
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
}

/// A store that answers says so.
pub async fn ping_succeeds_when_store_answers(s: &Subject) {
    s.providers.ping().await.expect("ping");
}

/// Generates a `#[tokio::test]` per contract case for the store made by `$factory`, an async
/// function (path) returning a fresh [`Subject`].
/// The figures of one key.
fn figures(p: &Provider, key: &str) -> (u64, u64) {
    let f = p.skill_reviews.get(key);
    (f.count, f.sum_tenths)
}

/// Per-skill ratings add to the figures of the skill's key; a replace that removes the skill
/// hides them (a rating given meanwhile is kept under the key), one that brings it back (in
/// any case) shows them all again.
pub async fn skill_figures_belong_to_the_key_hidden_while_the_skill_is_gone(s: &Subject) {
    let owner = user();
    let p = provider(owner, draft("Skilled", &["SEO", "Cold Calling"], 100, &[]));
    s.providers.create(&p).await.expect("create");
    let add = |r: Review| async move { s.reviews.add(&published(&r)).await.expect("add") };
    add(rated_review(
        p.id,
        user(),
        40,
        &[("SEO", 45), ("Cold Calling", 30)],
        at(0),
    ))
    .await;
    add(rated_review(
        p.id,
        user(),
        20,
        &[("Cold Calling", 50)],
        at(1),
    ))
    .await;
    add(review(p.id, user(), 10, at(2))).await;
    let stored = s.providers.get(p.id).await.expect("get").value;
    assert_eq!(figures(&stored, "seo"), (1, 45));
    assert_eq!(figures(&stored, "cold calling"), (2, 80));
    assert_eq!((stored.reviews.count, stored.reviews.sum_tenths), (3, 70));

    let without = s
        .providers
        .replace(
            p.id,
            owner,
            &draft("Skilled", &["SEO"], 100, &[]),
            &VersionCheck::Any,
        )
        .await
        .expect("replace")
        .value;
    assert_eq!(figures(&without, "cold calling"), (0, 0));
    assert_eq!(s.providers.get(p.id).await.expect("get").value, without);
    // Rated while removed (a replace raced the review): kept under its key, hidden.
    add(rated_review(
        p.id,
        user(),
        30,
        &[("Cold Calling", 10)],
        at(3),
    ))
    .await;
    let hidden = s.providers.get(p.id).await.expect("get").value;
    assert_eq!(figures(&hidden, "cold calling"), (0, 0));
    assert_eq!(hidden.skill_ratings().len(), 1);

    let back = s
        .providers
        .replace(
            p.id,
            owner,
            &draft("Skilled", &["COLD CALLING", "seo"], 100, &[]),
            &VersionCheck::Any,
        )
        .await
        .expect("replace")
        .value;
    assert_eq!(figures(&back, "cold calling"), (3, 90));
    assert_eq!(figures(&back, "seo"), (1, 45));
    assert_eq!(s.providers.get(p.id).await.expect("get").value, back);
    let shown: Vec<(&str, u64)> = back
        .skill_ratings()
        .into_iter()
        .map(|(skill, f)| (skill.as_str(), f.count))
        .collect();
    assert_eq!(shown, vec![("COLD CALLING", 3), ("seo", 1)]);
}

/// A review's skill ratings read back as written, in its order and spelling.
pub async fn reviews_read_back_with_their_skill_ratings(s: &Subject) {
    let p = provider(user(), draft("Skilled", &["SEO", "Cold Calling"], 100, &[]));
    s.providers.create(&p).await.expect("create");
    let first = rated_review(p.id, user(), 40, &[("SEO", 0), ("Cold Calling", 50)], at(0));
    let second = review(p.id, user(), 20, at(1));
    s.reviews.add(&published(&first)).await.expect("add");
    s.reviews.add(&published(&second)).await.expect("add");
    let listed = s
        .reviews
        .list(p.id, Paging::Offset(Page::default()))
        .await
        .expect("list");
    assert_eq!(reviews_of(listed), vec![second, first]);
}

/// Ranking key 3 over stored providers: the reference ranking, page by page, whichever skills
/// a job asks for.
pub async fn recommend_ranks_by_the_matched_skills_pooled_rating(s: &Subject) {
    let owner = user();
    let window = [("2027-01-01", "2027-01-31")];
    let fixture = vec![
        // Better overall, worse at SEO than Second.
        provider(owner, draft("First", &["SEO", "Rust"], 10_000, &window)),
        provider(
            owner,
            draft("Second", &["seo", "Plumbing"], 10_000, &window),
        ),
        // Never rated per skill: the prior.
        provider(owner, draft("Third", &["SEO"], 10_000, &window)),
        provider(
            owner,
            draft("Fourth", &["Rust", "Plumbing"], 10_000, &window),
        ),
    ];
    for p in &fixture {
        s.providers.create(p).await.expect("create");
    }
    let reviews = [
        rated_review(
            fixture[0].id,
            user(),
            50,
            &[("SEO", 20), ("Rust", 50)],
            at(0),
        ),
        rated_review(fixture[0].id, user(), 50, &[("Rust", 50)], at(1)),
        rated_review(fixture[1].id, user(), 40, &[("seo", 50)], at(2)),
        rated_review(fixture[1].id, user(), 30, &[("Plumbing", 10)], at(3)),
        rated_review(
            fixture[3].id,
            user(),
            10,
            &[("Plumbing", 50), ("Rust", 45)],
            at(4),
        ),
        review(fixture[2].id, user(), 45, at(5)),
    ];
    for r in &reviews {
        s.reviews.add(&published(r)).await.expect("add");
    }
    let mut all = Vec::new();
    for p in &fixture {
        all.push(s.providers.get(p.id).await.expect("get").value);
    }
    let job = |skills: &[&str]| JobInput {
        job_budget_in_pence: Some(1_000_000),
        expected_job_duration_in_days: Some(1),
        skills: Some(skills.iter().map(|s| (*s).to_owned()).collect()),
        availability: Some(ranges(&window)),
        minimum_review_rating: None,
    };
    let seo = JobRequest::parse(&job(&["seo"])).expect("valid");
    let found = s
        .providers
        .recommend(&seo, Page::default())
        .await
        .expect("recommend");
    let names: Vec<&str> = found
        .items
        .iter()
        .map(|r| r.provider.name.as_str())
        .collect();
    assert_eq!(names, vec!["Second", "Third", "First"]);
    assert_eq!(
        found.items[0].matched_skill_rating,
        ReviewStats {
            count: 1,
            sum_tenths: 50
        }
    );
    for skills in [
        &["seo"][..],
        &["rust"],
        &["plumbing", "seo"],
        &["Rust", "Plumbing", "SEO"],
        &["plumbing"],
    ] {
        assert_recommend_matches_reference(s, &all, &job(skills)).await;
    }
}

/// Deleting a provider removes its per-skill figures with its reviews: the same id created
/// again starts with none.
pub async fn deleting_a_provider_removes_its_skill_figures(s: &Subject) {
    let owner = user();
    let p = provider(owner, draft("Again", &["SEO"], 100, &[]));
    s.providers.create(&p).await.expect("create");
    s.reviews
        .add(&published(&rated_review(
            p.id,
            user(),
            40,
            &[("SEO", 45)],
            at(0),
        )))
        .await
        .expect("add");
    s.providers
        .delete(p.id, owner, &VersionCheck::Any)
        .await
        .expect("delete");
    s.providers.create(&p).await.expect("create again");
    let stored = s.providers.get(p.id).await.expect("get").value;
    assert_eq!(stored, p);
    assert!(stored.skill_reviews.is_empty());
}

/// Through the use case: a per-skill rating of a skill the provider does not have is invalid,
/// and nothing is stored.
pub async fn a_review_rating_a_skill_the_provider_lacks_is_refused_and_changes_nothing(
    s: &Subject,
) {
    let service = ProviderService::new(s.providers.clone(), s.reviews.clone(), s.keys.clone());
    let p = provider(user(), draft("Skilled", &["SEO"], 100, &[]));
    s.providers.create(&p).await.expect("create");
    let input = crate::NewReview {
        rating: 4.0,
        comment: None,
        skill_ratings: vec![
            SkillRatingInput {
                skill: " seo ".into(),
                rating: 5.0,
            },
            SkillRatingInput {
                skill: "Plumbing".into(),
                rating: 5.0,
            },
        ],
    };
    let got = service.add_review(user(), p.id, &input).await;
    match got {
        Err(ServiceError::Invalid(e)) => {
            assert_eq!(e.fields()[0].field, "skill_ratings[1].skill");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let stored = s.providers.get(p.id).await.expect("get");
    assert_eq!(stored.version, Version::FIRST);
    assert_eq!(stored.value, p);
    let valid = crate::NewReview {
        skill_ratings: input.skill_ratings[..1].to_vec(),
        ..input
    };
    let review = service.add_review(user(), p.id, &valid).await.expect("add");
    assert_eq!(review.value.review.skill_ratings[0].skill.as_str(), "SEO");
    let stored = s.providers.get(p.id).await.expect("get").value;
    assert_eq!(figures(&stored, "seo"), (1, 50));
}

/// Turns every case of the contract into a `#[tokio::test]` over the stores `$factory` makes
/// (an async function giving a fresh [`Subject`] per call):
/// `provider_ports::contract_tests!(my_store_subject);` in a test file of the store's crate.
#[macro_export]
macro_rules! contract_tests {
    ($factory:path) => {
        $crate::contract_tests!(@cases $factory;
            created_provider_reads_back_unchanged,
            get_of_unknown_id_is_not_found,
            replace_by_owner_changes_fields_and_keeps_reviews,
            replace_by_stranger_or_of_unknown_id_is_not_found,
            delete_by_owner_removes_provider_and_reviews,
            reviews_update_count_and_sum_exactly,
            second_review_by_same_user_is_conflict,
            review_of_unknown_provider_is_not_found,
            reviews_list_newest_first_in_pages,
            search_matches_reference_filter_and_order,
            recommend_matches_reference_rules_and_ranking,
            ping_succeeds_when_store_answers,
            version_rises_with_every_replace_and_review_only,
            conditional_replace_passes_only_on_the_current_version,
            conditional_delete_passes_only_on_the_current_version,
            concurrent_replaces_with_one_version_check_let_exactly_one_pass,
            idempotency_claim_then_in_flight_then_replay,
            idempotency_released_key_is_free_again,
            idempotency_answer_expires_after_retention,
            idempotency_stale_pending_claim_is_taken_over,
            concurrent_creates_with_one_key_create_one_provider,
            idempotency_write_keeps_its_answer_with_it,
            idempotency_write_of_a_taken_over_claim_stores_nothing,
            idempotency_keyed_held_review_is_kept_as_screened,
            skill_figures_belong_to_the_key_hidden_while_the_skill_is_gone,
            reviews_read_back_with_their_skill_ratings,
            recommend_ranks_by_the_matched_skills_pooled_rating,
            deleting_a_provider_removes_its_skill_figures,
            a_review_rating_a_skill_the_provider_lacks_is_refused_and_changes_nothing,
            search_totals_stop_counting_past_ten_thousand,
            pages_after_a_key_follow_the_order_through_changes,
            cursors_lead_through_every_page_and_are_refused_anywhere_else,
            a_held_review_counts_only_once_published,
            hiding_and_publishing_move_the_figures_exactly,
            enough_flags_hold_a_review_and_a_decision_resolves_them,
            an_appeal_is_decided_by_another_moderator,
            an_edit_is_screened_again_and_replaces_the_figures,
            a_withdrawn_review_leaves_only_its_history,
            the_owner_replies_and_a_held_reply_waits_in_the_queue,
            a_held_review_is_absent_to_others_and_still_one_per_user,
            the_queue_is_longest_waiting_first,
            the_history_keeps_every_event_in_order,
            a_change_at_an_old_revision_is_refused,
            every_write_is_recorded_once_in_order,
            a_refused_write_records_nothing,
            the_purge_removes_old_events_and_readers_behind_it_are_told,
        );
    };
    (@cases $factory:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let subject = $factory().await;
                $crate::contract::$case(&subject).await;
            }
        )*
    };
}

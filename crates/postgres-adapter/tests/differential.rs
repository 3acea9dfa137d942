//! The differential test: the same random providers, reviews, replacements and queries go into
//! the in-memory store (the reference behaviour) and a `PgStore`; every answer must be
//! identical, order and paging included: every sort order, totals, and walks of pages after
//! each page's last key, which must list exactly what walking by page numbers lists.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use provider_domain::{
    JobInput, JobRequest, Provider, ProviderDraft, ProviderId, Rating, Review, ReviewId,
    SearchFilter, SearchInput, SearchSort, SkillRating, SortKey, UserId,
};
use provider_memory_adapter::MemoryStore;
use provider_ports::contract::strategies;
use provider_ports::{Page, PageOf, Paging, ProviderRepository, ReviewRepository, VersionCheck};
use provider_postgres_adapter::testing::TestDb;
use provider_postgres_adapter::PgStore;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Ids spread over the whole UUID space (so id order differs from insertion order), yet the
/// same in every run, which makes a failure reproducible.
fn id(kind: u128, i: usize) -> Uuid {
    Uuid::from_u128(
        (kind << 64 | i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835),
    )
}

struct Case {
    drafts: Vec<ProviderDraft>,
    ratings: Vec<(usize, u8)>,
    skill_ratings: Vec<Vec<(usize, u8)>>,
    replacements: Vec<(usize, ProviderDraft)>,
    searches: Vec<(SearchInput, SearchSort, Page, bool)>,
    jobs: Vec<(JobInput, Page)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(strategies::draft(), 0..16),
        strategies::ratings(),
        strategies::skill_ratings(),
        prop::collection::vec((0usize..64, strategies::draft()), 0..4),
        prop::collection::vec(
            (
                strategies::search(),
                prop::sample::select(SearchSort::ALL.to_vec()),
                strategies::page(),
                any::<bool>(),
            ),
            1..10,
        ),
        prop::collection::vec((strategies::job(), strategies::page()), 1..10),
    )
        .prop_map(
            |(drafts, ratings, skill_ratings, replacements, searches, jobs)| Case {
                drafts,
                ratings,
                skill_ratings,
                replacements,
                searches,
                jobs,
            },
        )
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("drafts", &self.drafts)
            .field("ratings", &self.ratings)
            .field("skill_ratings", &self.skill_ratings)
            .field("replacements", &self.replacements)
            .field("searches", &self.searches)
            .field("jobs", &self.jobs)
            .finish()
    }
}

/// `walker` is a store over the same database whose recommend walk starts from one posting
/// per needed row: small cases then go through every deepening step and exactness proof.
async fn run_case(
    db: &TestDb,
    pg: &PgStore,
    walker: &PgStore,
    case: Case,
) -> Result<(), TestCaseError> {
    db.truncate().await;
    let memory = MemoryStore::new();
    let stores: [&dyn Both; 2] = [&memory, pg];

    let created = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("instant");
    let providers: Vec<Provider> = case
        .drafts
        .into_iter()
        .enumerate()
        .map(|(i, draft)| {
            Provider::new(
                ProviderId::from_uuid(id(1, i)),
                UserId::from_uuid(id(2, i % 3)),
                draft,
                // Only three instants: the newest order's ties are broken by id.
                created + Duration::microseconds((i % 3) as i64),
            )
        })
        .collect();
    for store in stores {
        for p in &providers {
            store.create(p).await.expect("create");
        }
    }
    if !providers.is_empty() {
        let base = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("instant");
        // Half the reviews before the replacements and half after, so that per-skill figures
        // are hidden by a replace, rated while hidden, and shown again by a later one.
        let half = case.ratings.len() / 2;
        let replace_after = |j: usize| j == half;
        for (j, (index, tenths)) in case.ratings.iter().enumerate() {
            if replace_after(j) {
                replace_all(&stores, &providers, &case.replacements).await?;
            }
            let provider = &providers[index % providers.len()];
            // The provider's skills now (a replace may have changed them).
            let skills = memory.get(provider.id).await.expect("get").value.skills;
            let mut picked: Vec<usize> = case
                .skill_ratings
                .get(j)
                .into_iter()
                .flatten()
                .filter(|_| !skills.is_empty())
                .map(|(pick, _)| pick % skills.len().max(1))
                .collect();
            picked.sort_unstable();
            picked.dedup();
            let review = Review {
                id: ReviewId::from_uuid(id(3, j)),
                provider_id: provider.id,
                user_id: UserId::from_uuid(id(4, j)),
                rating: Rating::from_tenths(*tenths).expect("rating"),
                comment: None,
                skill_ratings: picked
                    .iter()
                    .zip(case.skill_ratings.get(j).into_iter().flatten())
                    .map(|(position, (_, tenths))| SkillRating {
                        skill: skills.as_slice()[*position].clone(),
                        rating: Rating::from_tenths(*tenths).expect("rating"),
                    })
                    .collect(),
                // Only three instants: ties broken by id.
                created_at: base + Duration::seconds((j % 3) as i64),
            };
            for store in stores {
                store.add(&review).await.expect("add review");
            }
        }
        if case.ratings.len() <= half {
            replace_all(&stores, &providers, &case.replacements).await?;
        }
    }

    for p in &providers {
        let mem = memory.get(p.id).await.expect("get");
        prop_assert_eq!(&pg.get(p.id).await.expect("get"), &mem, "get");
        let page = Paging::Offset(Page::new(Some(1), Some(3)).expect("page"));
        prop_assert_eq!(
            pg.list(p.id, page).await.expect("list"),
            memory.list(p.id, page).await.expect("list"),
            "reviews of {}",
            p.id
        );
        // Every page after the last review of the one before, on both stores.
        let walks = [
            review_walk(&memory, p.id, 1).await,
            review_walk(pg, p.id, 1).await,
            review_walk(pg, p.id, 2).await,
        ];
        let listed = memory
            .list(
                p.id,
                Paging::Offset(Page::new(Some(1), Some(100)).expect("page")),
            )
            .await
            .expect("list")
            .items;
        for walked in walks {
            prop_assert_eq!(&walked, &listed, "review walk of {}", p.id);
        }
    }
    // The random page, and the whole list at once (every position of the order checked),
    // with the total when drawn; then the whole list walked by page numbers and by keys.
    let everything = Page::new(Some(1), Some(100)).expect("page");
    for (input, sort, page, total) in &case.searches {
        let filter = SearchFilter::parse(input).expect("strategy makes valid searches");
        for page in [*page, everything] {
            let want = memory
                .search(&filter, *sort, Paging::Offset(page), *total)
                .await
                .expect("search");
            let got = pg
                .search(&filter, *sort, Paging::Offset(page), *total)
                .await
                .expect("search");
            prop_assert_eq!(
                got,
                want,
                "search {:?} in {:?} page {:?}",
                input,
                sort,
                page
            );
        }
        let size = page.size();
        let by_number = search_walk(pg, &filter, *sort, size, false).await;
        let by_key = search_walk(pg, &filter, *sort, size, true).await;
        let reference = search_walk(&memory, &filter, *sort, size, true).await;
        prop_assert_eq!(&by_key, &by_number, "walks of {:?} in {:?}", input, sort);
        prop_assert_eq!(&by_key, &reference, "walk of {:?} in {:?}", input, sort);
    }
    for (input, page) in &case.jobs {
        let job = JobRequest::parse(input).expect("strategy makes valid jobs");
        for page in [*page, everything] {
            let want = memory.recommend(&job, page).await.expect("recommend");
            let got = pg.recommend(&job, page).await.expect("recommend");
            prop_assert_eq!(&got, &want, "recommend {:?} page {:?}", input, page);
            let walked = walker.recommend(&job, page).await.expect("recommend");
            prop_assert_eq!(
                walked,
                want,
                "recommend walking {:?} page {:?}",
                input,
                page
            );
        }
    }
    Ok(())
}

/// Every page of a search, by page numbers or each after the last key of the one before; the
/// pages as the store answered them.
async fn search_walk(
    store: &dyn Both,
    filter: &SearchFilter,
    sort: SearchSort,
    size: u32,
    after: bool,
) -> Vec<PageOf<Provider>> {
    let mut pages: Vec<PageOf<Provider>> = Vec::new();
    for number in 1.. {
        let last = pages.last().and_then(|p| p.items.last());
        let paging = match last {
            Some(last) if after => Paging::After {
                key: SortKey::of(last),
                size,
            },
            _ => Paging::Offset(Page::new(Some(number), Some(i64::from(size))).expect("page")),
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

/// A provider's reviews, every page after the last review of the one before.
async fn review_walk(store: &dyn Both, provider: ProviderId, size: u32) -> Vec<Review> {
    let mut walked: Vec<Review> = Vec::new();
    loop {
        let paging = match walked.last() {
            Some(last) => Paging::After {
                key: (last.created_at, last.id),
                size,
            },
            None => Paging::Offset(Page::new(Some(1), Some(i64::from(size))).expect("page")),
        };
        let found = store.list(provider, paging).await.expect("list");
        walked.extend(found.items);
        if !found.has_more {
            break;
        }
    }
    walked
}

/// Applies each replacement to both stores; their answers must agree.
async fn replace_all(
    stores: &[&dyn Both; 2],
    providers: &[Provider],
    replacements: &[(usize, ProviderDraft)],
) -> Result<(), TestCaseError> {
    for (index, draft) in replacements {
        let p = &providers[index % providers.len()];
        let mut answers = Vec::new();
        for store in stores {
            answers.push(
                store
                    .replace(p.id, p.owner, draft, &VersionCheck::Any)
                    .await
                    .expect("replace"),
            );
        }
        prop_assert_eq!(&answers[0], &answers[1], "replace");
    }
    Ok(())
}

/// Both ports, so one loop can write to either store.
trait Both: ProviderRepository + ReviewRepository {}
impl<T: ProviderRepository + ReviewRepository> Both for T {}

#[test]
fn pg_store_answers_every_query_exactly_like_the_memory_store() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let db = runtime.block_on(TestDb::new());
    let pg = db.store();
    let walker = db.store().with_recommend_prefix(1);
    let mut runner = TestRunner::new(Config {
        cases: 32,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&case(), |case| {
        runtime.block_on(run_case(&db, &pg, &walker, case))
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

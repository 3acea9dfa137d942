//! The read model's differential test: random sequences of writes go through PostgreSQL, and
//! after each one the model's answers (get, every search order with totals, pages walked by
//! number and after keys, recommendations) must equal PostgreSQL's own statements' answers.
//! Some steps kill the model and start a new one, which loads from a snapshot: the rebuilt
//! model must answer alike too. Each answer must come from the model itself (no read may fall
//! back to the store), or the test would compare PostgreSQL with itself.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRng, TestRunner};
use provider_domain::{
    JobInput, JobRequest, Provider, ProviderDraft, ProviderId, Rating, Review, ReviewId,
    SearchFilter, SearchInput, SearchSort, SkillRating, UserId,
};
use provider_ports::contract::{published, search_walk, strategies};
use provider_ports::{Page, Paging, ProviderRepository, ReviewRepository, VersionCheck};
use provider_postgres_adapter::testing::TestDb;
use provider_postgres_adapter::PgStore;
use provider_read_model::{ModelSettings, ReadModel};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Op {
    Create(ProviderDraft),
    Replace(usize, ProviderDraft),
    Delete(usize),
    /// A published review of a provider: its rating and per-skill ratings (skill position,
    /// tenths).
    Review(usize, u8, Vec<(usize, u8)>),
    /// The model is dropped and a new one loads.
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => strategies::draft().prop_map(Op::Create),
        2 => (0usize..64, strategies::draft()).prop_map(|(i, d)| Op::Replace(i, d)),
        1 => (0usize..64).prop_map(Op::Delete),
        4 => (0usize..64, 0u8..=50, prop::collection::vec((0usize..10, 0u8..=50), 0..3))
            .prop_map(|(i, r, s)| Op::Review(i, r, s)),
        1 => Just(Op::Restart),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    ops: Vec<Op>,
    searches: Vec<(SearchInput, SearchSort, Page, bool)>,
    jobs: Vec<(JobInput, Page)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(op(), 1..24),
        prop::collection::vec(
            (
                strategies::search(),
                prop::sample::select(SearchSort::ALL.to_vec()),
                strategies::page(),
                any::<bool>(),
            ),
            1..5,
        ),
        prop::collection::vec((strategies::job(), strategies::page()), 1..4),
    )
        .prop_map(|(ops, searches, jobs)| Case {
            ops,
            searches,
            jobs,
        })
}

/// Ids spread over the UUID space, the same in every run.
fn id(kind: u128, i: usize) -> Uuid {
    Uuid::from_u128(
        (kind << 64 | i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835),
    )
}

async fn started(pg: &Arc<PgStore>) -> ReadModel<PgStore> {
    let model = ReadModel::start(pg.clone(), ModelSettings::default());
    assert!(
        model.until_ready(Duration::from_secs(30)).await,
        "the read model did not load"
    );
    model
}

/// The model answers every query as PostgreSQL does, each from memory.
async fn compare(
    model: &ReadModel<PgStore>,
    pg: &PgStore,
    ids: &[ProviderId],
    case: &Case,
) -> Result<(), TestCaseError> {
    let before = model.figures().served_by_store;
    for id in ids {
        let want = pg.get(*id).await.map_err(|e| e.to_string());
        let got = model.get(*id).await.map_err(|e| e.to_string());
        prop_assert_eq!(got, want, "get {}", id);
    }
    let everything = Page::new(Some(1), Some(100)).expect("page");
    for (input, sort, page, total) in &case.searches {
        let filter = SearchFilter::parse(input).expect("valid search");
        for page in [*page, everything] {
            let want = pg
                .search(&filter, *sort, Paging::Offset(page), *total)
                .await
                .expect("search");
            let got = model
                .search(&filter, *sort, Paging::Offset(page), *total)
                .await
                .expect("search");
            prop_assert_eq!(got, want, "search {:?} {:?} {:?}", input, sort, page);
        }
        let size = page.size();
        let want = search_walk(pg, &filter, *sort, size, true).await;
        prop_assert_eq!(
            &search_walk(model, &filter, *sort, size, true).await,
            &want,
            "walk after keys {:?} {:?}",
            input,
            sort
        );
        prop_assert_eq!(
            &search_walk(model, &filter, *sort, size, false).await,
            &want,
            "walk by numbers {:?} {:?}",
            input,
            sort
        );
    }
    for (input, page) in &case.jobs {
        let job = JobRequest::parse(input).expect("valid job");
        for page in [*page, everything] {
            let want = pg.recommend(&job, page).await.expect("recommend");
            let got = model.recommend(&job, page).await.expect("recommend");
            prop_assert_eq!(got, want, "recommend {:?} {:?}", input, page);
        }
    }
    prop_assert_eq!(
        model.figures().served_by_store,
        before,
        "a read fell back to the store"
    );
    Ok(())
}

async fn run_case(db: &TestDb, pg: &Arc<PgStore>, case: Case) -> Result<(), TestCaseError> {
    db.truncate().await;
    let mut model = started(pg).await;
    let mut providers: Vec<Provider> = Vec::new();
    let created = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("instant");
    let mut reviews = 0;
    for (step, op) in case.ops.iter().enumerate() {
        match op {
            Op::Create(draft) => {
                let i = providers.len();
                let provider = Provider::new(
                    ProviderId::from_uuid(id(1, i)),
                    UserId::from_uuid(id(2, i % 3)),
                    draft.clone(),
                    // Three instants only: the newest order's ties go to the id.
                    created + time::Duration::microseconds((i % 3) as i64),
                );
                pg.create(&provider).await.expect("create");
                providers.push(provider);
            }
            Op::Replace(i, draft) if !providers.is_empty() => {
                let p = &providers[i % providers.len()];
                // Gone already: NotFound, nothing changes.
                let _ = pg.replace(p.id, p.owner, draft, &VersionCheck::Any).await;
            }
            Op::Delete(i) if !providers.is_empty() => {
                let p = &providers[i % providers.len()];
                let _ = pg.delete(p.id, p.owner, &VersionCheck::Any).await;
            }
            Op::Review(i, tenths, skill_ratings) if !providers.is_empty() => {
                let p = &providers[i % providers.len()];
                let Ok(now) = pg.get(p.id).await else {
                    continue;
                };
                let skills = now.value.skills;
                let mut rated: Vec<SkillRating> = Vec::new();
                for (position, tenths) in skill_ratings {
                    if let Some(skill) = skills.as_slice().get(position % skills.len().max(1)) {
                        if !rated.iter().any(|r| r.skill.key() == skill.key()) {
                            rated.push(SkillRating {
                                skill: skill.clone(),
                                rating: Rating::from_tenths(*tenths).expect("rating"),
                            });
                        }
                    }
                }
                reviews += 1;
                let review = Review {
                    id: ReviewId::from_uuid(id(3, reviews)),
                    provider_id: p.id,
                    user_id: UserId::from_uuid(id(4, reviews)),
                    rating: Rating::from_tenths(*tenths).expect("rating"),
                    comment: None,
                    skill_ratings: rated,
                    created_at: created + time::Duration::seconds(step as i64),
                };
                pg.add(&published(&review)).await.expect("review");
            }
            Op::Restart => {
                drop(model);
                model = started(pg).await;
            }
            _ => {}
        }
        let ids: Vec<ProviderId> = providers.iter().map(|p| p.id).collect();
        compare(&model, pg, &ids, &case).await?;
    }
    Ok(())
}

#[test]
fn the_read_model_answers_every_query_exactly_like_postgresql_after_every_write() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let db = runtime.block_on(TestDb::new());
    let pg = Arc::new(db.store());
    let config = Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let outcome = runner.run(&case(), |case| runtime.block_on(run_case(&db, &pg, case)));
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

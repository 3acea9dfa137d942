//! Database outages, staged with a TCP proxy between the store and PostgreSQL: the store answers
//! `Unavailable` quickly while the database is cut off or hangs, and the same store answers
//! again once it is back, without being rebuilt.

use provider_domain::{
    Event, EventDetail, FlagId, JobInput, JobRequest, RangeInput, ReviewId, SearchFilter,
    SearchSort,
};
use provider_ports::contract::{draft, provider, published, review, user};
use provider_ports::Revision;
use provider_ports::{Page, Paging, ProviderRepository, RepoError, ReviewRepository};
use provider_postgres_adapter::testing::proxy::{Mode, Proxy};
use provider_postgres_adapter::testing::TestDb;
use provider_postgres_adapter::{PgConfig, PgStore};
use std::future::Future;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

const ACQUIRE: Duration = Duration::from_millis(800);
const STATEMENT: Duration = Duration::from_secs(1);
/// Room for a loaded, shared machine on top of a timeout.
const SLACK: Duration = Duration::from_secs(2);

/// A store through the proxy with short timeouts.
fn store_via(db: &TestDb, proxy: &Proxy) -> PgStore {
    PgStore::connect(&PgConfig {
        url: db.url_via("127.0.0.1", proxy.addr.port()),
        pool_size: 4,
        acquire_timeout: ACQUIRE,
        statement_timeout: STATEMENT,
        ..PgConfig::new("")
    })
    .expect("store")
}

async fn assert_unavailable_within<T: std::fmt::Debug>(
    bound: Duration,
    what: &str,
    call: impl Future<Output = Result<T, RepoError>>,
) {
    let started = Instant::now();
    let got = call.await;
    let took = started.elapsed();
    assert!(
        matches!(got, Err(RepoError::Unavailable(_))),
        "{what}: {got:?}"
    );
    assert!(took < bound + SLACK, "{what} took {took:?}");
}

fn job() -> JobRequest {
    JobRequest::parse(&JobInput {
        job_budget_in_pence: Some(10_000),
        expected_job_duration_in_days: Some(1),
        skills: Some(vec!["seo".into()]),
        availability: Some(vec![RangeInput {
            from_date: "2027-01-01".into(),
            to_date: "2027-01-31".into(),
        }]),
        minimum_review_rating: None,
    })
    .expect("job")
}

/// Every operation answers `Unavailable` within `bound` (plus slack). They run at once, as
/// requests would, which also keeps a test of timeouts short.
async fn check_every_operation_is_unavailable(store: &PgStore, bound: Duration) {
    let p = provider(user(), draft("Someone", &["SEO"], 100, &[]));
    let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("instant");
    let (everything, job, review) = (SearchFilter::default(), job(), review(p.id, user(), 40, at));
    let submission = published(&review);
    tokio::join!(
        assert_unavailable_within(bound, "ping", store.ping()),
        assert_unavailable_within(bound, "get", store.get(p.id)),
        assert_unavailable_within(
            bound,
            "search",
            store.search(
                &everything,
                SearchSort::CostDesc,
                Paging::Offset(Page::default()),
                false
            )
        ),
        assert_unavailable_within(bound, "recommend", store.recommend(&job, Page::default())),
        assert_unavailable_within(bound, "create", store.create(&p)),
        assert_unavailable_within(bound, "review", store.add(&submission)),
    );
    // The moderation's reads and a change.
    let (id, withdrawn) = (
        ReviewId::from_uuid(uuid::Uuid::new_v4()),
        Event {
            at,
            by: None,
            detail: EventDetail::Withdrawn,
        },
    );
    tokio::join!(
        assert_unavailable_within(bound, "find", store.find(id)),
        assert_unavailable_within(bound, "queue", store.queue(Page::default())),
        assert_unavailable_within(bound, "queue size", store.queue_size()),
        assert_unavailable_within(bound, "history", store.history(id)),
        assert_unavailable_within(
            bound,
            "flag",
            store.flag(FlagId::from_uuid(uuid::Uuid::new_v4()))
        ),
        assert_unavailable_within(
            bound,
            "withdraw",
            store.withdraw(id, Revision::FIRST, &withdrawn, None)
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_is_unavailable_while_the_database_is_cut_off_and_recovers_when_it_is_back() {
    let db = TestDb::new().await;
    let proxy = Proxy::start(db.server_address()).await;
    let store = store_via(&db, &proxy);
    let p = provider(
        user(),
        draft("Survivor", &["SEO"], 100, &[("2027-01-01", "2027-01-02")]),
    );
    store.create(&p).await.expect("create");
    // Several pooled connections, all about to break.
    let (a, b, c) = tokio::join!(store.get(p.id), store.ping(), store.get(p.id));
    a.expect("get");
    b.expect("ping");
    c.expect("get");

    // Refused at once: quicker than any timeout.
    proxy.set(Mode::Severed);
    check_every_operation_is_unavailable(&store, ACQUIRE).await;

    proxy.set(Mode::Open);
    store.ping().await.expect("ping after the outage");
    assert_eq!(
        store.get(p.id).await.expect("get after the outage").value,
        p
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_is_unavailable_within_its_timeouts_when_the_network_hangs() {
    let db = TestDb::new().await;
    let proxy = Proxy::start(db.server_address()).await;
    let store = store_via(&db, &proxy);
    let (a, b) = tokio::join!(store.ping(), store.ping());
    a.expect("ping");
    b.expect("ping");

    // Pooled connections hang mid-statement (bounded by the client-side operation timeout,
    // acquire + statement + 1 s); new ones hang while connecting (the acquire timeout).
    proxy.set(Mode::Hung);
    check_every_operation_is_unavailable(&store, ACQUIRE + STATEMENT + Duration::from_secs(1))
        .await;

    proxy.set(Mode::Open);
    store.ping().await.expect("ping after the outage");
    let everything = store
        .search(
            &SearchFilter::default(),
            SearchSort::CostDesc,
            Paging::Offset(Page::default()),
            false,
        )
        .await
        .expect("search after the outage");
    assert!(everything.page.items.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_builds_while_the_database_is_down_and_answers_once_it_is_up() {
    let db = TestDb::new().await;
    let proxy = Proxy::start(db.server_address()).await;
    proxy.set(Mode::Severed);
    // Connections are made lazily: building the store needs no database.
    let store = store_via(&db, &proxy);
    assert_unavailable_within(ACQUIRE, "ping", store.ping()).await;

    proxy.set(Mode::Open);
    store.ping().await.expect("ping once the database is up");
}

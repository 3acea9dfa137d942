//! The change feed's order on PostgreSQL: a transaction that started first and commits last
//! must not be skipped by a reader who already read a later one's events.

use provider_domain::{ProviderDraft, ProviderInput, UserId};
use provider_ports::{ChangeFeed, ChangeKind, ProviderRepository};
use provider_postgres_adapter::testing::TestDb;
use tokio_postgres::NoTls;
use uuid::Uuid;

/// The feed's events once `count` show: other tests' transactions (on other databases of the
/// same server) may hold events back for a moment.
async fn events_when(store: &impl ChangeFeed, count: usize) -> Vec<provider_ports::ChangeEvent> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let events = store.events(0, 100).await.expect("events").events;
        if events.len() >= count || std::time::Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn provider(name: &str) -> provider_domain::Provider {
    let draft = ProviderDraft::parse(&ProviderInput {
        name: name.into(),
        skills: vec![],
        cost_in_pence: 100,
        availability: vec![],
    })
    .expect("valid");
    let now = time::OffsetDateTime::now_utc();
    provider_domain::Provider::new(
        provider_domain::ProviderId::from_uuid(Uuid::new_v4()),
        UserId::from_uuid(Uuid::new_v4()),
        draft,
        now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
            .expect("µs"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_waits_for_a_transaction_that_began_first_and_commits_last() {
    let db = TestDb::new().await;
    let store = db.store();
    let (early, connection) = tokio_postgres::connect(db.url(), NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);

    // A write that begins first (its transaction id is the smaller) and is slow to commit.
    let slow = provider("Slow");
    early.batch_execute("BEGIN").await.expect("begin");
    let slow_base: i64 = early
        .query_one("SELECT pg_current_xact_id()::text::bigint << 10", &[])
        .await
        .expect("xid")
        .get(0);
    early
        .execute(
            "INSERT INTO change_events (sequence, at, type, provider_id) \
             VALUES ($1, now(), 'provider.created', $2::text::uuid)",
            &[&slow_base, &slow.id.to_string()],
        )
        .await
        .expect("the slow write's event");

    // A write that begins later and commits at once.
    let fast = provider("Fast");
    store.create(&fast).await.expect("create");

    // Its event is held back while the slow one runs: a reader that took it and moved on
    // would never see the slow one's, which has the smaller sequence.
    let page = store.events(0, 100).await.expect("events");
    assert!(
        page.events.is_empty(),
        "nothing may be read past a transaction still running: {:?}",
        page.events
    );

    early.batch_execute("COMMIT").await.expect("commit");
    let events = events_when(&store, 2).await;
    let order: Vec<_> = events
        .iter()
        .map(|e| (e.change.kind, e.change.provider_id))
        .collect();
    assert_eq!(
        order,
        [
            (ChangeKind::ProviderCreated, slow.id),
            (ChangeKind::ProviderCreated, fast.id)
        ]
    );
    assert!(events[0].sequence < events[1].sequence);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_write_leaves_no_event_and_holds_nothing_back() {
    let db = TestDb::new().await;
    let store = db.store();
    let (aborted, connection) = tokio_postgres::connect(db.url(), NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    aborted.batch_execute("BEGIN").await.expect("begin");
    aborted
        .execute(
            "INSERT INTO change_events (sequence, at, type, provider_id) \
             VALUES (pg_current_xact_id()::text::bigint << 10, now(), 'provider.created', \
             $1::text::uuid)",
            &[&Uuid::new_v4().to_string()],
        )
        .await
        .expect("an event");
    let kept = provider("Kept");
    store.create(&kept).await.expect("create");
    aborted.batch_execute("ROLLBACK").await.expect("rollback");
    let events = events_when(&store, 1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].change.provider_id, kept.id);
}

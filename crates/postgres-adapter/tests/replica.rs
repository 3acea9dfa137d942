//! Read routing to a streaming replica, at the store: where reads are served, and that a
//! replica that is no standby, or cannot be reached, is skipped without an error. The test
//! standby is scripts/test-standby.sh's; the tests that pause or stop it are end-to-end
//! (tests/tests/replica.rs).

use provider_ports::contract::{draft, provider, user};
use provider_ports::{with_read_consistency, ProviderRepository, ReadConsistency, VersionCheck};
use provider_postgres_adapter::testing::{standby, TestDb};
use provider_postgres_adapter::{PgConfig, PgStore, ReplicaHealth};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Waits until `store` says its replica is `health`.
async fn until_health(store: &PgStore, health: ReplicaHealth) {
    let started = Instant::now();
    while store.replica_health() != Some(health) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the replica is {:?}, not {health:?}, after 30 s",
            store.replica_health()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identified_reads_see_every_write_and_are_served_by_the_replica() {
    let _standby = standby::hold(false);
    let db = TestDb::new().await;
    db.until_on_standby().await;
    let store = db.routed_store(Duration::from_secs(5));
    until_health(&store, ReplicaHealth::Ok).await;
    let owner = user();
    let created = provider(owner, draft("Routed Ltd", &["seo"], 10_000, &[]));
    store.create(&created).await.expect("create");

    for round in 0..20 {
        let name = format!("Routed {round}");
        let replaced = store
            .replace(
                created.id,
                owner,
                &draft(&name, &["seo"], 10_000 + round, &[]),
                &VersionCheck::Any,
            )
            .await
            .expect("replace");
        let read = with_read_consistency(ReadConsistency::ReadYourWrites, store.get(created.id))
            .await
            .expect("get");
        assert_eq!(read, replaced, "round {round}: the write just made is seen");
    }
    let figures = store.read_figures().expect("routed");
    assert!(
        figures.replica > 0,
        "no identified read was served by the replica: {figures:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_reads_are_served_by_a_fresh_replica() {
    let _standby = standby::hold(false);
    let db = TestDb::new().await;
    db.until_on_standby().await;
    let store = db.routed_store(Duration::from_secs(5));
    let created = provider(user(), draft("Anonymous Ltd", &["seo"], 10_000, &[]));
    store.create(&created).await.expect("create");
    until_health(&store, ReplicaHealth::Ok).await;

    // Within the lag bound the replica has it: read until it answers.
    let started = Instant::now();
    loop {
        let read =
            with_read_consistency(ReadConsistency::BoundedStaleness, store.get(created.id)).await;
        if read.is_ok() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{read:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = store.read_figures().expect("routed");
    with_read_consistency(ReadConsistency::BoundedStaleness, store.get(created.id))
        .await
        .expect("get");
    let after = store.read_figures().expect("routed");
    assert_eq!(
        (after.primary, after.replica),
        (before.primary, before.replica + 1),
        "one read, by the replica"
    );
    assert!(after
        .replica_lag
        .is_some_and(|lag| lag <= Duration::from_secs(5)));
}

#[tokio::test]
async fn a_read_url_that_is_no_standby_is_down_and_reads_go_to_the_primary() {
    let db = TestDb::new().await;
    let store = PgStore::connect(&PgConfig {
        read_url: Some(db.url().to_owned()),
        max_replica_lag: Duration::from_millis(200),
        ..PgConfig::new(db.url())
    })
    .expect("store");
    let created = provider(user(), draft("Primary Ltd", &["seo"], 10_000, &[]));
    store.create(&created).await.expect("create");
    until_health(&store, ReplicaHealth::Down).await;
    let read = with_read_consistency(ReadConsistency::BoundedStaleness, store.get(created.id))
        .await
        .expect("get");
    assert_eq!(read.value, created);
    let figures = store.read_figures().expect("routed");
    assert_eq!((figures.primary, figures.replica), (1, 0));
}

#[tokio::test]
async fn an_unreachable_replica_is_down_and_every_read_answers() {
    let db = TestDb::new().await;
    // Nothing listens on port 1.
    let store = PgStore::connect(&PgConfig {
        read_url: Some(db.url_via("127.0.0.1", 1)),
        max_replica_lag: Duration::from_millis(200),
        ..PgConfig::new(db.url())
    })
    .expect("store");
    let created = provider(user(), draft("Alone Ltd", &["seo"], 10_000, &[]));
    store.create(&created).await.expect("create");
    for consistency in [
        ReadConsistency::BoundedStaleness,
        ReadConsistency::ReadYourWrites,
    ] {
        let read = with_read_consistency(consistency, store.get(created.id))
            .await
            .expect("get");
        assert_eq!(read.value, created);
    }
    until_health(&store, ReplicaHealth::Down).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identified_reads_share_the_primary_position_query_and_see_their_writes() {
    const PROVIDERS: usize = 32;
    const READS: usize = 64;
    let _standby = standby::hold(false);
    let db = TestDb::new().await;
    db.until_on_standby().await;
    let store = db.routed_store(Duration::from_secs(5));
    until_health(&store, ReplicaHealth::Ok).await;
    let owner = user();
    let mut ids = Vec::new();
    for i in 0..PROVIDERS {
        let created = provider(owner, draft(&format!("Shared {i}"), &["seo"], 10_000, &[]));
        store.create(&created).await.expect("create");
        ids.push(created.id);
    }

    // Each task writes, then reads its write back as an identified caller, all at once: a
    // read coalesced with others must still be given a position past its own write.
    let writers: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let store = store.clone();
            tokio::spawn(async move {
                let replaced = store
                    .replace(
                        id,
                        owner,
                        &draft(&format!("Rewritten {i}"), &["seo"], 20_000, &[]),
                        &VersionCheck::Any,
                    )
                    .await
                    .expect("replace");
                let read = with_read_consistency(ReadConsistency::ReadYourWrites, store.get(id))
                    .await
                    .expect("get");
                assert_eq!(read, replaced, "provider {i}: its own write is seen");
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("a writer panicked");
    }

    // Reads released together: they arrive while one position query is on its way, and share
    // the next.
    let before = store.read_figures().expect("routed");
    let start = Arc::new(tokio::sync::Barrier::new(READS));
    let readers: Vec<_> = (0..READS)
        .map(|i| {
            let (store, start, id) = (store.clone(), start.clone(), ids[i % PROVIDERS]);
            tokio::spawn(async move {
                start.wait().await;
                let read = with_read_consistency(ReadConsistency::ReadYourWrites, store.get(id))
                    .await
                    .expect("get");
                assert_eq!(
                    read.value.name.as_str(),
                    format!("Rewritten {}", i % PROVIDERS)
                );
            })
        })
        .collect();
    for reader in readers {
        reader.await.expect("a reader panicked");
    }
    let after = store.read_figures().expect("routed");
    let queries = after.position_queries - before.position_queries;
    eprintln!("{READS} identified reads at once: {queries} position queries");
    assert!(
        (1..=READS as u64 / 4).contains(&queries),
        "{READS} identified reads made {queries} position queries of the primary"
    );
}

//! The read model's stalled catch-up drill on PostgreSQL: when catch-ups keep failing (here a
//! lock holds the feed's horizon past the statement timeout; in production a backlog too large
//! for one catch-up within it), the model is loaded anew from a snapshot rather than left stale
//! for good, and then answers from memory again.

mod common;

use provider_domain::UserId;
use provider_ports::contract::{draft, provider};
use provider_ports::ProviderRepository;
use provider_postgres_adapter::testing::TestDb;
use provider_postgres_adapter::{PgConfig, PgStore};
use provider_read_model::{ModelSettings, ModelState, ReadModel};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_model_whose_catch_ups_keep_failing_is_loaded_anew() {
    let db = TestDb::new().await;
    let pg = Arc::new(
        PgStore::connect(&PgConfig {
            pool_size: 4,
            statement_timeout: Duration::from_millis(300),
            ..PgConfig::new(db.url())
        })
        .expect("store"),
    );
    let owner = UserId::from_uuid(uuid::Uuid::new_v4());
    let first = provider(owner, draft("First Ltd", &["Go"], 1_000, &[]));
    pg.create(&first).await.expect("create");
    let model = ReadModel::start(
        pg.clone(),
        ModelSettings {
            rebuild_after: Duration::from_millis(500),
            ..ModelSettings::default()
        },
    );
    assert!(model.until_ready(Duration::from_secs(30)).await);

    // Every catch-up reads the feed's horizon: held, each one outlives the statement timeout.
    let client = common::session(db.url()).await;
    client
        .batch_execute("BEGIN; LOCK TABLE change_events_horizon IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock the horizon");
    let second = provider(owner, draft("Second Ltd", &["Go"], 2_000, &[]));
    pg.create(&second).await.expect("create");

    // Stale at first (reads go to the store), then loaded anew: the snapshot reads no horizon.
    let deadline = Instant::now() + Duration::from_secs(20);
    while model.figures().rebuilds == 0 {
        assert!(
            Instant::now() < deadline,
            "catch-ups failed for 20 s and the model was never loaded anew: {:?}",
            model.figures()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        model.get(second.id).await.expect("get"),
        pg.get(second.id).await.expect("get"),
        "answered by the store meanwhile"
    );

    client.batch_execute("ROLLBACK").await.expect("release");
    assert!(model.until_ready(Duration::from_secs(30)).await);
    let before = model.figures().served_by_model;
    let seen = model.get(second.id).await.expect("get");
    assert_eq!(seen, pg.get(second.id).await.expect("get"));
    let figures = model.figures();
    assert_eq!(figures.state, ModelState::Ready);
    assert_eq!(figures.providers, 2);
    assert_eq!(
        figures.served_by_model,
        before + 1,
        "answered from memory again"
    );
}

//! The read model's late-commit drill on PostgreSQL: a write whose transaction began before a
//! catch-up and commits after it must still reach the model. A follower that remembered only
//! "the last event seen" would step over it for good (the later transaction's events have
//! higher sequences and were read first); the catch-up reads by snapshot visibility instead.

mod common;

use provider_domain::UserId;
use provider_ports::contract::{draft, provider};
use provider_ports::{ProviderRepository, VersionCheck};
use provider_postgres_adapter::testing::TestDb;
use provider_read_model::{ModelSettings, ReadModel};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn a_write_committed_after_a_later_one_is_not_skipped() {
    let db = TestDb::new().await;
    let pg = Arc::new(db.store());
    let owner = UserId::from_uuid(uuid::Uuid::new_v4());
    let early = provider(owner, draft("Early Ltd", &["Go"], 1_000, &[]));
    pg.create(&early).await.expect("create");
    let model = ReadModel::start(pg.clone(), ModelSettings::default());
    assert!(model.until_ready(Duration::from_secs(30)).await);

    // A replace of `early`, as the store writes one, left open.
    let client = common::session(db.url()).await;
    client
        .batch_execute(&format!(
            "BEGIN; \
             INSERT INTO change_events (sequence, at, type, provider_id) \
               VALUES (pg_current_xact_id()::text::bigint << 10, now(), 'provider.replaced', \
               '{id}'); \
             UPDATE providers SET name = 'Committed Late', version = version + 1 \
               WHERE id = '{id}'",
            id = early.id.as_uuid()
        ))
        .await
        .expect("open the early transaction");

    // A later write commits, and the model catches up past it.
    let later = provider(owner, draft("Later Ltd", &["Go"], 2_000, &[]));
    pg.create(&later).await.expect("create");
    assert_eq!(
        model.get(later.id).await.expect("get").value.name.as_str(),
        "Later Ltd"
    );
    assert_eq!(
        model.get(early.id).await.expect("get").value.name.as_str(),
        "Early Ltd"
    );

    client.batch_execute("COMMIT").await.expect("commit");
    let seen = model.get(early.id).await.expect("get");
    assert_eq!(seen.value.name.as_str(), "Committed Late");
    assert_eq!(seen, pg.get(early.id).await.expect("get"));
    assert_eq!(
        model.figures().served_by_store,
        0,
        "a read went to the store"
    );

    // And the model goes on following: a write after it is seen as well.
    pg.delete(later.id, owner, &VersionCheck::Any)
        .await
        .expect("delete");
    assert!(model.get(later.id).await.is_err());
}

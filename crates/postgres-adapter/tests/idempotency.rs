//! Idempotency records on PostgreSQL beyond the contract: expired rows are removed a few at a
//! time by later claims (oldest first), so the table stays small without a full scan or a
//! periodic task.

use provider_domain::UserId;
use provider_ports::idempotency::RETENTION;
use provider_ports::{
    ClaimToken, Fingerprint, IdempotencyKey, IdempotencyRepository, IdempotentRequest,
};
use provider_postgres_adapter::testing::TestDb;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

fn request(caller: UserId, key: &str) -> IdempotentRequest {
    IdempotentRequest {
        caller,
        key: IdempotencyKey::parse(key.as_bytes()).expect("key"),
        fingerprint: Fingerprint::of(&[key.as_bytes()]),
    }
}

async fn rows(url: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .query_one("SELECT count(*) FROM idempotency_keys", &[])
        .await
        .expect("count")
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_claim_removes_up_to_sixteen_expired_records_oldest_first() {
    let db = TestDb::new().await;
    let store = db.store();
    let caller = UserId::from_uuid(Uuid::new_v4());
    let start = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("instant");
    for i in 0..40 {
        let at = start + Duration::seconds(i);
        store
            .claim(
                &request(caller, &format!("old-{i}")),
                ClaimToken(Uuid::new_v4()),
                at,
            )
            .await
            .expect("claim");
    }
    assert_eq!(rows(db.url()).await, 40);

    // All 40 have expired by then; one claim removes 16 of them and adds itself.
    let later = start + RETENTION + Duration::hours(1);
    store
        .claim(&request(caller, "new-1"), ClaimToken(Uuid::new_v4()), later)
        .await
        .expect("claim");
    assert_eq!(rows(db.url()).await, 40 - 16 + 1);
    store
        .claim(&request(caller, "new-2"), ClaimToken(Uuid::new_v4()), later)
        .await
        .expect("claim");
    store
        .claim(&request(caller, "new-3"), ClaimToken(Uuid::new_v4()), later)
        .await
        .expect("claim");

    // 40 expired, 16 + 16 + 8 removed: only the three live ones are left.
    assert_eq!(rows(db.url()).await, 3);
}

//! The repository contract suite of `provider-ports` against a `PgStore` that routes reads to
//! the test standby (a streaming replica of the test server; see scripts/test-standby.sh):
//! every promise holds with reads served by a replica. The cases read outside any request, so
//! as identified callers do: each read waits for the replica to replay what was written.

use provider_ports::contract::Subject;
use provider_postgres_adapter::testing::TestDb;
use std::sync::Arc;
use std::time::Duration;

async fn fresh_routed_subject() -> Subject {
    let db = TestDb::new().await;
    db.until_on_standby().await;
    let store = Arc::new(db.routed_store(Duration::from_secs(5)));
    Subject {
        providers: store.clone(),
        reviews: store.clone(),
        keys: store.clone(),
        feed: store,
        guard: Box::new(db),
    }
}

provider_ports::contract_tests!(fresh_routed_subject);

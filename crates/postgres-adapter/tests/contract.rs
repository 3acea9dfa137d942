//! The repository contract suite of `provider-ports`, against a `PgStore` on a fresh database
//! per case.

use provider_ports::contract::Subject;
use provider_postgres_adapter::testing::TestDb;
use std::sync::Arc;

async fn fresh_pg_subject() -> Subject {
    let db = TestDb::new().await;
    let store = Arc::new(db.store());
    Subject {
        providers: store.clone(),
        reviews: store.clone(),
        keys: store.clone(),
        feed: store,
        guard: Box::new(db),
    }
}

provider_ports::contract_tests!(fresh_pg_subject);

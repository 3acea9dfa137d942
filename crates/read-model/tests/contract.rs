//! The repository contract suite of `provider-ports` with providers read through the read
//! model over PostgreSQL: on the primary alone, and with reads that miss the model routed to
//! the test standby. Every promise holds with the model answering `get`, `search` and
//! `recommend`.

use provider_ports::contract::Subject;
use provider_postgres_adapter::testing::TestDb;
use provider_postgres_adapter::PgStore;
use provider_read_model::{ModelSettings, ReadModel};
use std::sync::Arc;
use std::time::Duration;

async fn subject(db: TestDb, store: PgStore) -> Subject {
    let store = Arc::new(store);
    let model = ReadModel::start(store.clone(), ModelSettings::default());
    assert!(
        model.until_ready(Duration::from_secs(30)).await,
        "the read model did not load"
    );
    Subject {
        providers: Arc::new(model),
        reviews: store.clone(),
        keys: store.clone(),
        feed: store,
        guard: Box::new(db),
    }
}

async fn fresh_model_subject() -> Subject {
    let db = TestDb::new().await;
    let store = db.store();
    subject(db, store).await
}

mod primary {
    use super::*;
    provider_ports::contract_tests!(fresh_model_subject);
}

async fn fresh_routed_model_subject() -> Subject {
    let db = TestDb::new().await;
    db.until_on_standby().await;
    let store = db.routed_store(Duration::from_secs(5));
    subject(db, store).await
}

mod routed {
    use super::*;
    provider_ports::contract_tests!(fresh_routed_model_subject);
}

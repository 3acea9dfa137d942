//! The embedded migrations on an empty database: two instances starting at once both succeed,
//! one of them having migrated and the other having found nothing left to do.

use provider_postgres_adapter::run_migrations;
use provider_postgres_adapter::testing::{admin_url, url_with_database};

/// An empty database of its own, dropped at the end.
struct EmptyDb {
    admin: tokio_postgres::Client,
    name: String,
}

impl EmptyDb {
    async fn new() -> (Self, String) {
        let admin = admin_url();
        let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed for this test: {e}"));
        tokio::spawn(connection);
        let name = format!("provider_test_empty_{}", uuid::Uuid::new_v4().simple());
        client
            .batch_execute(&format!(r#"CREATE DATABASE "{name}""#))
            .await
            .expect("create an empty database");
        let url = url_with_database(&admin, &name);
        (
            Self {
                admin: client,
                name,
            },
            url,
        )
    }

    async fn drop(self) {
        self.admin
            .batch_execute(&format!(r#"DROP DATABASE "{}" WITH (FORCE)"#, self.name))
            .await
            .expect("drop the test database");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_migrating_at_once_both_succeed_and_migrate_once() {
    let (db, url) = EmptyDb::new().await;

    let (first, second) = tokio::join!(run_migrations(&url), run_migrations(&url));

    first.expect("first migrator");
    second.expect("second migrator");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let applied: i64 = client
        .query_one("SELECT count(*) FROM __diesel_schema_migrations", &[])
        .await
        .expect("migrations table")
        .get(0);
    let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"))
        .expect("migrations folder")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
        .count() as i64;
    assert_eq!(applied, on_disk, "each migration applied exactly once");
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_name IN \
             ('providers', 'provider_skills', 'availability', 'availability_runs', 'reviews')",
            &[],
        )
        .await
        .expect("schema")
        .get(0);
    assert_eq!(tables, 5);
    drop(client);
    db.drop().await;
}

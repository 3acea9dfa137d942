//! The embedded migrations on an empty database: two instances starting at once both succeed,
//! one of them having migrated and the other having found nothing left to do; and reverted,
//! they leave nothing behind and apply again to the same schema. The answers kept before the
//! HTTP layer's format took over (`opaque_answers`) are converted to it, and back.

use diesel::Connection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use provider_postgres_adapter::run_migrations;
use provider_postgres_adapter::testing::{admin_url, url_with_database};

/// The same migrations `run_migrations` embeds, to revert them.
const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

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

/// How many migrations `migrations/` holds (one folder each).
fn on_disk() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"))
        .expect("migrations folder")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
        .count()
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
    assert_eq!(
        applied,
        on_disk() as i64,
        "each migration applied exactly once"
    );
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

/// Every object the migrations own in the database's schema, described (tables and their
/// columns, indexes, constraints, functions, triggers), sorted; Diesel's own table and the
/// extensions' objects left out.
async fn schema_objects(url: &str) -> Vec<String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT x FROM ( \
               SELECT 'relation ' || c.relkind::text || ' ' || c.relname::text FROM pg_class c \
               WHERE c.relnamespace = current_schema()::regnamespace \
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d \
                                 WHERE d.objid = c.oid AND d.deptype = 'e') \
               UNION ALL SELECT 'column ' || table_name || '.' || column_name || ' ' || udt_name \
                      || ' ' || is_nullable || ' ' || coalesce(column_default, '') \
               FROM information_schema.columns WHERE table_schema = current_schema() \
               UNION ALL SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) \
               FROM pg_constraint WHERE connamespace = current_schema()::regnamespace \
               UNION ALL SELECT 'index ' || indexdef FROM pg_indexes \
               WHERE schemaname = current_schema() \
               UNION ALL SELECT 'function ' || p.proname::text FROM pg_proc p \
               WHERE p.pronamespace = current_schema()::regnamespace \
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d \
                                 WHERE d.objid = p.oid AND d.deptype = 'e') \
               UNION ALL SELECT 'trigger ' || tgname::text FROM pg_trigger WHERE NOT tgisinternal \
             ) o(x) WHERE x NOT LIKE '%\\_\\_diesel\\_schema\\_migrations%' ORDER BY 1",
            &[],
        )
        .await
        .expect("read the catalog");
    rows.iter().map(|r| r.get(0)).collect()
}

/// Reverts every applied migration (down.sql, newest first); how many.
async fn revert_all(url: &str) -> usize {
    let url = url.to_owned();
    // Diesel's harness is synchronous: on a blocking thread, as `run_migrations` does.
    tokio::task::spawn_blocking(move || {
        let mut conn =
            AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).expect("connect");
        conn.revert_all_migrations(MIGRATIONS)
            .expect("revert every migration")
            .len()
    })
    .await
    .expect("the revert task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverted_migrations_leave_nothing_behind_and_apply_again_to_the_same_schema() {
    let (db, url) = EmptyDb::new().await;
    run_migrations(&url).await.expect("migrate");
    let migrated = schema_objects(&url).await;
    assert!(
        migrated
            .iter()
            .any(|o| o == "trigger availability_no_overlap"),
        "{migrated:#?}"
    );

    let reverted = revert_all(&url).await;
    let after_revert = schema_objects(&url).await;
    run_migrations(&url).await.expect("migrate again");
    let migrated_again = schema_objects(&url).await;

    assert_eq!(reverted, on_disk());
    assert_eq!(
        after_revert,
        Vec::<String>::new(),
        "down.sql leaves nothing behind"
    );
    assert_eq!(
        migrated_again, migrated,
        "up.sql after down.sql gives the same schema"
    );
    db.drop().await;
}

/// The migration whose name holds `marker` (`wanted`), or every migration before it, on
/// `url`: later ones stay out, so that the newest migration applied is then `marker`'s.
async fn migrate_only(url: &str, marker: &'static str, wanted: bool) {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn =
            AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).expect("connect");
        let pending = conn.pending_migrations(MIGRATIONS).expect("pending");
        for migration in pending {
            let is_marker = migration.name().to_string().contains(marker);
            if is_marker == wanted {
                conn.run_migration(&*migration).expect("migrate");
            }
            if is_marker {
                break;
            }
        }
    })
    .await
    .expect("the migration task");
}

/// Reverts the newest migrations applied, down to and including the one named with `marker`
/// (later migrations are reverted first, as a rollback to before it would).
async fn revert_through(url: &str, marker: &'static str) {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn =
            AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).expect("connect");
        let target = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
            .expect("migrations")
            .into_iter()
            .find(|m| m.name().to_string().contains(marker))
            .expect("the marked migration")
            .name()
            .version()
            .as_owned();
        loop {
            let reverted = conn.revert_last_migration(MIGRATIONS).expect("revert");
            if reverted == target {
                break;
            }
        }
    })
    .await
    .expect("the revert task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_kept_before_opaque_answers_are_converted_both_ways() {
    let (db, url) = EmptyDb::new().await;
    migrate_only(&url, "opaque_answers", false).await;
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let keep = "INSERT INTO idempotency_keys (caller_id, key, fingerprint, token, claimed_at, \
                expires_at, status, header_names, header_values, body) \
                VALUES (gen_random_uuid(), $1, decode(repeat('ab', 32), 'hex'), \
                gen_random_uuid(), now(), now() + interval '1 day', $2, $3, $4, $5)";
    let headers = (
        vec!["location".to_owned(), "etag".to_owned()],
        vec!["/v1_0/x".to_owned(), "\"1\"".to_owned()],
    );
    let body = br#"{"id":1}"#.to_vec();
    client
        .execute(keep, &[&"created", &201_i16, &headers.0, &headers.1, &body])
        .await
        .expect("a kept answer");
    let none: Vec<String> = Vec::new();
    client
        .execute(keep, &[&"bare", &200_i16, &none, &none, &Vec::<u8>::new()])
        .await
        .expect("a kept answer without headers or body");
    client
        .execute(
            "INSERT INTO idempotency_keys (caller_id, key, fingerprint, token, claimed_at, \
             expires_at) VALUES (gen_random_uuid(), 'pending', decode(repeat('ab', 32), 'hex'), \
             gen_random_uuid(), now(), now() + interval '1 day')",
            &[],
        )
        .await
        .expect("a pending claim");

    migrate_only(&url, "opaque_answers", true).await;
    let answer = |key: &'static str| {
        let client = &client;
        async move {
            let row = client
                .query_one(
                    "SELECT answer FROM idempotency_keys WHERE key = $1",
                    &[&key],
                )
                .await
                .expect("read");
            row.get::<_, Option<Vec<u8>>>(0)
        }
    };
    // The HTTP layer's format 1 (crates/http/src/replay.rs pins the same bytes).
    let mut created = vec![1, 0, 201, 0, 2];
    created.extend_from_slice(b"\0\x08location\0\x07/v1_0/x\0\x04etag\0\x03\"1\"");
    created.extend_from_slice(&body);
    assert_eq!(answer("created").await, Some(created));
    assert_eq!(answer("bare").await, Some(vec![1, 0, 200, 0, 0]));
    assert_eq!(answer("pending").await, None);

    revert_through(&url, "opaque_answers").await;
    let row = client
        .query_one(
            "SELECT status, header_names, header_values, body FROM idempotency_keys \
             WHERE key = 'created'",
            &[],
        )
        .await
        .expect("read back");
    assert_eq!(row.get::<_, Option<i16>>(0), Some(201));
    assert_eq!(row.get::<_, Option<Vec<String>>>(1), Some(headers.0));
    assert_eq!(row.get::<_, Option<Vec<String>>>(2), Some(headers.1));
    assert_eq!(row.get::<_, Option<Vec<u8>>>(3), Some(body));
    let pending = client
        .query_one(
            "SELECT status IS NULL AND body IS NULL FROM idempotency_keys WHERE key = 'pending'",
            &[],
        )
        .await
        .expect("read back");
    assert!(pending.get::<_, bool>(0));
    drop(client);
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_orders_copy_each_providers_creation_time_onto_its_postings_and_revert() {
    let (_db, url) = EmptyDb::new().await;
    migrate_only(&url, "search_orders", false).await;
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute(
            "INSERT INTO providers (id, owner_id, name, name_key, cost_in_pence, created_at) \
             VALUES ('00000000-0000-0000-0000-000000000001', gen_random_uuid(), 'A', 'a', 5, \
                     '2027-01-02 03:04:05.123456+00'), \
                    ('00000000-0000-0000-0000-000000000002', gen_random_uuid(), 'B', 'b', 6, \
                     '2026-05-06 07:08:09+00'); \
             INSERT INTO provider_skills (provider_id, position, skill, skill_key, \
               cost_in_pence, review_count, rating_sum) \
             VALUES ('00000000-0000-0000-0000-000000000001', 0, 'X', 'x', 5, 0, 0), \
                    ('00000000-0000-0000-0000-000000000001', 1, 'Y', 'y', 5, 0, 0), \
                    ('00000000-0000-0000-0000-000000000002', 0, 'X', 'x', 6, 0, 0);",
        )
        .await
        .expect("rows from before");

    migrate_only(&url, "search_orders", true).await;
    let mismatched = client
        .query_one(
            "SELECT count(*) FROM provider_skills s JOIN providers p ON p.id = s.provider_id \
             WHERE s.created_at IS DISTINCT FROM p.created_at",
            &[],
        )
        .await
        .expect("compare");
    assert_eq!(mismatched.get::<_, i64>(0), 0);
    let copied = client
        .query_one("SELECT count(*) FROM provider_skills", &[])
        .await
        .expect("count");
    assert_eq!(copied.get::<_, i64>(0), 3);

    revert_through(&url, "search_orders").await;
    let column = client
        .query_one(
            "SELECT count(*) FROM information_schema.columns \
             WHERE table_name = 'provider_skills' AND column_name = 'created_at'",
            &[],
        )
        .await
        .expect("catalog");
    assert_eq!(column.get::<_, i64>(0), 0);
    let indexes = client
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE indexname IN ( \
               'providers_cost_asc_idx', 'providers_rating_desc_idx', \
               'providers_reviews_desc_idx', 'providers_newest_idx', \
               'provider_skills_cost_asc_idx', 'provider_skills_rating_desc_idx', \
               'provider_skills_reviews_desc_idx', 'provider_skills_newest_idx')",
            &[],
        )
        .await
        .expect("catalog");
    assert_eq!(indexes.get::<_, i64>(0), 0);
}

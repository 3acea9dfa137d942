//! The embedded migrations and the function that applies them.

use crate::PgError;
use diesel::connection::Connection;
use diesel::sql_types::BigInt;
use diesel::RunQueryDsl;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// The SQL migrations of `migrations/`, compiled into the binary.
const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Key of the session-level advisory lock held while migrating ("provider" in ASCII): a
/// second instance starting at the same moment waits for the first, then finds nothing to do.
const MIGRATION_LOCK: i64 = 0x7072_6f76_6964_6572;

/// Applies every pending migration to the database at `url`, holding a PostgreSQL advisory
/// lock so that concurrent callers (two instances starting at once) migrate one at a time.
///
/// Diesel's migration harness is synchronous, and diesel-async's harness calls
/// `block_in_place`, which panics on a current-thread runtime (actix's, or `#[tokio::test]`);
/// so this runs on a blocking thread over diesel-async's `AsyncConnectionWrapper`. It needs a
/// Tokio runtime (any flavour).
///
/// # Errors
/// [`PgError::Connect`] when the database cannot be reached, [`PgError::Query`] when the lock
/// cannot be taken, [`PgError::Migration`] when a migration fails, [`PgError::Task`] when the
/// blocking task dies.
pub async fn run_migrations(url: &str) -> Result<(), PgError> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || migrate(&url)).await?
}

fn migrate(url: &str) -> Result<(), PgError> {
    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(url)?;
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK)
        .execute(&mut conn)?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.len())
        .map_err(PgError::Migration);
    // Closing the connection would release the lock too; unlock explicitly all the same.
    let unlocked = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK)
        .execute(&mut conn);
    let applied = applied?;
    unlocked?;
    tracing::info!(applied, "database migrations are up to date");
    Ok(())
}

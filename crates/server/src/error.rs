//! What can make a command of the binary fail. Each variant says what failed; why is its
//! source, and [`report`] writes the whole chain on one line for the log and stderr.

use crate::config::SecurityConfigError;
use crate::seed::SeedError;
use provider_domain::ValidationError;
use provider_postgres_adapter::PgError;
use std::error::Error as StdError;

/// Why a command (`serve`, `migrate`, `seed`, `explain`) failed. Every variant makes the process
/// exit with status 1.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// `CURSOR_SECRET` is too short to sign with.
    #[error("CURSOR_SECRET must be at least {min} bytes (got {actual})")]
    CursorSecretTooShort {
        /// The fewest bytes accepted.
        min: usize,
        /// The length given.
        actual: usize,
    },
    /// A command that only works on PostgreSQL was run without `DATABASE_URL`.
    #[error("{command} needs DATABASE_URL (a postgres:// URL)")]
    NoDatabaseUrl {
        /// The command run.
        command: &'static str,
    },
    /// The identity, rate-limit or load-shedding settings cannot be used (checked before
    /// anything else `serve` does).
    #[error("cannot use the identity and limit settings")]
    Security(#[source] SecurityConfigError),
    /// The moderation settings cannot be used (checked before anything else `serve` does).
    #[error("cannot use the moderation settings")]
    Moderation(#[source] crate::config::ModerationConfigError),
    /// The tokio runtime could not be built.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// `migrate` failed.
    #[error("cannot migrate the database")]
    Migrate(#[source] PgError),
    /// `serve` could not migrate the database before serving.
    #[error(
        "cannot migrate the database before serving \
         (set MIGRATE_ON_START=false to start without migrating)"
    )]
    MigrateOnStart(#[source] PgError),
    /// The PostgreSQL store could not be set up (its configuration or its pool).
    #[error("cannot set up the PostgreSQL store")]
    Store(#[source] PgError),
    /// The SIGINT/SIGTERM handlers could not be installed.
    #[error("cannot install signal handlers")]
    Signals(#[source] std::io::Error),
    /// The HTTP listener could not be bound.
    #[error("cannot listen on {host}:{port}")]
    Bind {
        /// The address asked for.
        host: String,
        /// The port asked for.
        port: u16,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server stopped with an error.
    #[error("the HTTP server failed")]
    Http(#[source] std::io::Error),
    /// `seed` failed.
    #[error("seed failed")]
    Seed(#[from] SeedError),
    /// `explain` was given a page outside the API's paging rules.
    #[error("explain: invalid --page or --page-size")]
    ExplainPage(#[source] ValidationError),
    /// `explain` was given a body that is not JSON of the route's request shape.
    #[error("explain: the body is not a {route} request")]
    ExplainBody {
        /// `search` or `recommend`.
        route: &'static str,
        /// What serde_json found wrong.
        #[source]
        source: serde_json::Error,
    },
    /// `explain` was given a body the route would answer 422 to.
    #[error("explain: the {route} request is invalid")]
    ExplainInvalid {
        /// `search` or `recommend`.
        route: &'static str,
        /// Every field at fault.
        #[source]
        source: ValidationError,
    },
    /// `explain` could not run its query.
    #[error("explain: cannot explain the {route} query")]
    Explain {
        /// `search` or `recommend`.
        route: &'static str,
        /// Why the query failed.
        #[source]
        source: PgError,
    },
}

/// `error` and its sources on one line, `what failed: why: why`. A source whose text the line
/// already holds is left out: some errors (the PostgreSQL adapter's) repeat their source in
/// their own message.
pub fn report(error: &(dyn StdError + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_writes_what_failed_then_each_cause() {
        // Arrange
        let error = ServerError::Bind {
            host: "127.0.0.1".into(),
            port: 8080,
            source: std::io::Error::new(std::io::ErrorKind::AddrInUse, "address in use"),
        };

        // Act
        let line = report(&error);

        // Assert
        assert_eq!(line, "cannot listen on 127.0.0.1:8080: address in use");
    }

    #[test]
    fn report_follows_the_chain_through_nested_errors() {
        // Arrange
        let error = ServerError::from(SeedError::Connect(PgError::Config(
            "pool size must be at least 1".into(),
        )));

        // Act
        let line = report(&error);

        // Assert
        assert_eq!(
            line,
            "seed failed: cannot connect to the database: invalid PostgreSQL configuration: \
             pool size must be at least 1"
        );
    }

    #[test]
    fn report_leaves_out_a_cause_its_error_already_quotes() {
        // Arrange: the adapter's error repeats its source's text in its own message.
        let io = std::io::Error::other("connection refused");
        let error = ServerError::Migrate(PgError::Migration(Box::new(io)));

        // Act
        let line = report(&error);

        // Assert
        assert_eq!(
            line,
            "cannot migrate the database: database migration failed: connection refused"
        );
    }

    #[test]
    fn missing_database_url_names_the_command() {
        assert_eq!(
            ServerError::NoDatabaseUrl { command: "migrate" }.to_string(),
            "migrate needs DATABASE_URL (a postgres:// URL)"
        );
    }
}

//! Errors: [`PgError`] for building the store and migrating, and the mapping of Diesel and pool
//! errors onto the port's [`RepoError`].

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::deadpool::PoolError;
use provider_domain::{ValidationError, ValueError};
use provider_ports::RepoError;

/// What can go wrong while configuring the store or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The configuration cannot work (a malformed URL, a pool of size 0, ...).
    #[error("invalid PostgreSQL configuration: {0}")]
    Config(String),
    /// The connection pool could not be built.
    #[error("could not build the PostgreSQL connection pool: {0}")]
    Pool(#[from] deadpool::managed::BuildError),
    /// No connection to the database (migrations need one).
    #[error("could not connect to PostgreSQL: {0}")]
    Connect(#[from] diesel::ConnectionError),
    /// A statement failed (e.g. taking the migration lock).
    #[error("PostgreSQL statement failed: {0}")]
    Query(#[from] DieselError),
    /// A migration failed; the database is left as the failed migration's transaction left it.
    #[error("database migration failed: {0}")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A bulk load's rows break a rule of the store checked after copying (the database is
    /// left as it was).
    #[error("bulk load refused: {0}")]
    Refused(String),
    /// A bulk load (COPY) failed.
    #[error("bulk load failed: {}", bulk_message(.0))]
    Bulk(#[from] tokio_postgres::Error),
    /// The blocking task running the migrations panicked or was cancelled.
    #[error("the migration task did not finish: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The server's own message when there is one ("db error" alone says nothing).
fn bulk_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        },
        None => e.to_string(),
    }
}

/// The store did not answer within the client-side bound (a hung network, say).
#[derive(Debug, thiserror::Error)]
#[error("PostgreSQL did not answer within {0:?}")]
pub(crate) struct TimedOut(pub(crate) std::time::Duration);

/// Messages of server errors that mean "not now" rather than "never": the statement timeout
/// (SQLSTATE 57014 has no kind of its own in Diesel), lock timeouts, and a server going away.
fn is_transient(message: &str) -> bool {
    const TRANSIENT: &[&str] = &[
        "canceling statement due to statement timeout",
        "canceling statement due to lock timeout",
        "canceling statement due to user request",
        "terminating connection",
        "the database system is",
    ];
    TRANSIENT.iter().any(|t| message.starts_with(t))
}

/// Maps a Diesel error to the port's error. Constraint violations carry their meaning:
/// a duplicate key is a conflict, a missing referenced provider is "not found", overlapping
/// availability is invalid data; a lost connection or a timeout is "unavailable".
pub(crate) fn repo_error(e: DieselError) -> RepoError {
    match e {
        DieselError::NotFound => RepoError::NotFound,
        DieselError::DatabaseError(kind, info) => match kind {
            DatabaseErrorKind::UniqueViolation => {
                RepoError::Conflict(match info.constraint_name() {
                    Some("reviews_one_per_user") => {
                        "this user has already reviewed this service provider".to_owned()
                    }
                    Some("providers_pkey") => "this service provider already exists".to_owned(),
                    _ => info.message().to_owned(),
                })
            }
            DatabaseErrorKind::ForeignKeyViolation => RepoError::NotFound,
            // The domain never builds overlapping availability, so this only guards the data.
            DatabaseErrorKind::ExclusionViolation => RepoError::Invalid(ValidationError::single(
                "availability",
                ValueError::Overlaps { other: 0 },
            )),
            DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection => {
                RepoError::Unavailable(info.message().to_owned().into())
            }
            _ if is_transient(info.message()) => {
                RepoError::Unavailable(info.message().to_owned().into())
            }
            _ => RepoError::Unexpected(DieselError::DatabaseError(kind, info).into()),
        },
        DieselError::BrokenTransactionManager => RepoError::Unavailable(e.into()),
        other => RepoError::Unexpected(other.into()),
    }
}

/// Maps a failure to get a pooled connection: all "unavailable" (timeout, refused, closed),
/// except a pool built without a runtime, which is a bug.
pub(crate) fn pool_error(e: PoolError) -> RepoError {
    match e {
        PoolError::NoRuntimeSpecified => RepoError::Unexpected(e.into()),
        other => RepoError::Unavailable(other.into()),
    }
}

//! Errors: [`PgError`] for building the store and migrating, and the mapping of Diesel and pool
//! errors onto the port's [`RepoError`].

use diesel::pg::sql_state;
use diesel::result::{DatabaseErrorKind, Error as DieselError, SqlState};
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

/// Whether a server error means "not now" rather than "never", decided by its SQLSTATE alone:
/// its message is in the server's language (`lc_messages`), which this store does not choose.
///
/// * class 08, connection exception: the connection failed, was refused or broke;
/// * class 53, insufficient resources: out of memory, disk full, too many connections;
/// * class 57, operator intervention: 57014 `query_canceled` (the `statement_timeout` every
///   connection sets, or a cancel request), 57P01 `admin_shutdown`, 57P02 `crash_shutdown`,
///   57P03 `cannot_connect_now` (the server is starting or stopping), 57P04 `database_dropped`,
///   57P05 `idle_session_timeout`;
/// * 40001 `serialization_failure` (also a standby cancelling a statement in conflict with
///   recovery) and 40P01 `deadlock_detected`: the transaction lost a race, and may win it again;
/// * 55P03 `lock_not_available` (a `lock_timeout`) and 25P03
///   `idle_in_transaction_session_timeout`: timeouts, like the statement timeout.
fn is_transient(code: SqlState) -> bool {
    /// The classes, each named by its own generic code (`08000`, `53000`, `57000`).
    const CLASSES: [SqlState; 3] = [
        sql_state::CONNECTION_EXCEPTION,
        sql_state::INSUFFICIENT_RESOURCES,
        sql_state::OPERATOR_INTERVENTION,
    ];
    CLASSES.iter().any(|c| c.class() == code.class())
        || matches!(
            code,
            sql_state::T_R_SERIALIZATION_FAILURE
                | sql_state::T_R_DEADLOCK_DETECTED
                | sql_state::LOCK_NOT_AVAILABLE
                | sql_state::IDLE_IN_TRANSACTION_SESSION_TIMEOUT
        )
}

/// A server error that means "not now" (see [`is_transient`]), as the logs show it.
#[derive(Debug, thiserror::Error)]
#[error("{message} (SQLSTATE {code})")]
struct Transient {
    code: SqlState,
    message: String,
}

/// Maps a Diesel error to the port's error. Constraint violations carry their meaning:
/// a duplicate key is a conflict, a missing referenced provider is "not found", overlapping
/// availability is invalid data. "Unavailable" is a server error whose SQLSTATE says "not now"
/// ([`is_transient`]), or a command that got no answer at all: it was not sent, or the
/// connection closed before the answer came (no SQLSTATE then, only the kind of error says
/// so); or a transaction left broken by such a failure.
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
            _ => match info.sqlstate() {
                Some(code) if is_transient(code) => RepoError::Unavailable(Box::new(Transient {
                    code,
                    message: info.message().to_owned(),
                })),
                _ => RepoError::Unexpected(DieselError::DatabaseError(kind, info).into()),
            },
        },
        DieselError::BrokenTransactionManager => RepoError::Unavailable(e.into()),
        other => RepoError::Unexpected(other.into()),
    }
}

/// Maps a failure to get a pooled connection: all "unavailable" (a timeout, a refused or broken
/// connection, a server refusing the login or still starting up, whatever its SQLSTATE: the
/// store cannot answer until a connection can be made), except a pool built without a runtime,
/// which is a bug.
pub(crate) fn pool_error(e: PoolError) -> RepoError {
    match e {
        PoolError::NoRuntimeSpecified => RepoError::Unexpected(e.into()),
        other => RepoError::Unavailable(other.into()),
    }
}

#[cfg(test)]
mod tests;

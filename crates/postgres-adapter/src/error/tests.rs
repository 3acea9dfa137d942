//! The mapping of errors onto `RepoError`: by SQLSTATE class, for errors PostgreSQL reports,
//! whatever their message; by kind, for errors without one. Then the same on a real server, for
//! the errors that were once recognised by their English message.

use super::*;
use crate::testing::TestDb;
use diesel::result::DatabaseErrorInformation;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

/// A server error as diesel-async hands it over: a message, and the SQLSTATE when the server
/// sent one.
struct ServerError {
    code: Option<SqlState>,
    message: &'static str,
    constraint: Option<&'static str>,
}

impl DatabaseErrorInformation for ServerError {
    fn message(&self) -> &str {
        self.message
    }
    fn details(&self) -> Option<&str> {
        None
    }
    fn hint(&self) -> Option<&str> {
        None
    }
    fn table_name(&self) -> Option<&str> {
        None
    }
    fn column_name(&self) -> Option<&str> {
        None
    }
    fn constraint_name(&self) -> Option<&str> {
        self.constraint
    }
    fn statement_position(&self) -> Option<i32> {
        None
    }
    fn sqlstate(&self) -> Option<SqlState> {
        self.code
    }
}

fn code(code: &str) -> SqlState {
    code.parse().expect("a SQLSTATE")
}

/// The error of a server error with SQLSTATE `sqlstate`, of the kind diesel-async gives it.
fn server_error(sqlstate: &str, message: &'static str) -> DieselError {
    let code = code(sqlstate);
    let kind = match code {
        sql_state::UNIQUE_VIOLATION => DatabaseErrorKind::UniqueViolation,
        sql_state::FOREIGN_KEY_VIOLATION => DatabaseErrorKind::ForeignKeyViolation,
        sql_state::EXCLUSION_VIOLATION => DatabaseErrorKind::ExclusionViolation,
        sql_state::T_R_SERIALIZATION_FAILURE => DatabaseErrorKind::SerializationFailure,
        sql_state::READ_ONLY_SQL_TRANSACTION => DatabaseErrorKind::ReadOnlyTransaction,
        sql_state::NOT_NULL_VIOLATION => DatabaseErrorKind::NotNullViolation,
        sql_state::CHECK_VIOLATION => DatabaseErrorKind::CheckViolation,
        _ => DatabaseErrorKind::Unknown,
    };
    DieselError::DatabaseError(
        kind,
        Box::new(ServerError {
            code: Some(code),
            message,
            constraint: None,
        }),
    )
}

#[track_caller]
fn assert_unavailable(codes: &[&str]) {
    for c in codes {
        let got = repo_error(server_error(c, "any message"));
        assert!(matches!(got, RepoError::Unavailable(_)), "{c}: {got:?}");
    }
}

#[track_caller]
fn assert_unexpected(codes: &[&str]) {
    for c in codes {
        let got = repo_error(server_error(c, "any message"));
        assert!(matches!(got, RepoError::Unexpected(_)), "{c}: {got:?}");
    }
}

#[test]
fn connection_exceptions_are_unavailable() {
    // connection_exception, connection_does_not_exist, connection_failure,
    // sqlclient_unable_to_establish_sqlconnection, sqlserver_rejected_establishment_of_
    // sqlconnection, transaction_resolution_unknown, protocol_violation.
    assert_unavailable(&[
        "08000", "08003", "08006", "08001", "08004", "08007", "08P01",
    ]);
}

#[test]
fn insufficient_resources_are_unavailable() {
    // insufficient_resources, disk_full, out_of_memory, too_many_connections,
    // configuration_limit_exceeded.
    assert_unavailable(&["53000", "53100", "53200", "53300", "53400"]);
}

#[test]
fn operator_intervention_is_unavailable() {
    // operator_intervention, query_canceled (the statement timeout), admin_shutdown,
    // crash_shutdown, cannot_connect_now, database_dropped, idle_session_timeout.
    assert_unavailable(&[
        "57000", "57014", "57P01", "57P02", "57P03", "57P04", "57P05",
    ]);
}

#[test]
fn a_serialization_failure_or_a_deadlock_is_unavailable() {
    assert_unavailable(&["40001", "40P01"]);
}

#[test]
fn a_lock_timeout_or_an_idle_transaction_timeout_is_unavailable() {
    // lock_not_available, idle_in_transaction_session_timeout.
    assert_unavailable(&["55P03", "25P03"]);
}

#[test]
fn other_server_errors_are_unexpected() {
    assert_unexpected(&[
        // The rest of class 40: a rollback that says nothing of a race, and a commit whose
        // outcome is unknown (retrying it could apply a write twice).
        "40000", "40002", "40003",
        // Class 58 (system error: I/O) and XX (internal error, corrupted data).
        "58000", "58030", "XX000", "XX001",
        // Bad SQL or data: a bug, whenever it runs.
        "42601", "42P01", "42703", "22012", "22P02", "0A000",
        // Writing on a standby; constraint violations that have no meaning of their own.
        "25006", "23502", "23514",
        // Other states of a transaction: a statement after one failed.
        "25P02",
    ]);
}

#[test]
fn the_message_decides_nothing() {
    // The message of a statement timeout in English, under another SQLSTATE.
    let got = repo_error(server_error(
        "42601",
        "canceling statement due to statement timeout",
    ));
    assert!(matches!(got, RepoError::Unexpected(_)), "{got:?}");
    // A statement timeout in another language, and one without a message at all.
    for message in [
        "Anfrage wird storniert wegen Zeitüberschreitung der Anweisung",
        "",
    ] {
        let got = repo_error(server_error("57014", message));
        assert!(matches!(got, RepoError::Unavailable(_)), "{got:?}");
    }
}

#[test]
fn the_unavailable_error_says_its_sqlstate() {
    let got = repo_error(server_error("57P01", "terminating connection"));
    let RepoError::Unavailable(source) = got else {
        panic!("{got:?}");
    };
    assert_eq!(
        source.to_string(),
        "terminating connection (SQLSTATE 57P01)"
    );
}

#[test]
fn an_error_without_a_sqlstate_is_unavailable_when_no_answer_came() {
    // What diesel-async reports for a command that could not be sent or got no answer (a
    // closed socket, a dead connection task): the kind says it, with a message of the client.
    for kind in [
        DatabaseErrorKind::UnableToSendCommand,
        DatabaseErrorKind::ClosedConnection,
    ] {
        let got = repo_error(DieselError::DatabaseError(
            kind,
            Box::new("connection closed".to_owned()),
        ));
        assert!(
            matches!(got, RepoError::Unavailable(_)),
            "{kind:?}: {got:?}"
        );
    }
    // Any other error without a SQLSTATE is not known to be transient.
    let got = repo_error(DieselError::DatabaseError(
        DatabaseErrorKind::Unknown,
        Box::new("terminating connection due to administrator command".to_owned()),
    ));
    assert!(matches!(got, RepoError::Unexpected(_)), "{got:?}");
    let got = repo_error(DieselError::BrokenTransactionManager);
    assert!(matches!(got, RepoError::Unavailable(_)), "{got:?}");
}

#[test]
fn constraint_violations_keep_their_meaning() {
    let duplicate = |constraint| {
        repo_error(DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new(ServerError {
                code: Some(sql_state::UNIQUE_VIOLATION),
                message: "duplicate key value violates unique constraint",
                constraint: Some(constraint),
            }),
        ))
    };
    assert!(matches!(
        duplicate("reviews_one_per_user"),
        RepoError::Conflict(m) if m == "this user has already reviewed this service provider"
    ));
    assert!(matches!(
        duplicate("providers_pkey"),
        RepoError::Conflict(m) if m == "this service provider already exists"
    ));
    assert!(matches!(
        repo_error(server_error("23503", "any message")),
        RepoError::NotFound
    ));
    assert!(matches!(
        repo_error(server_error("23P01", "any message")),
        RepoError::Invalid(_)
    ));
    assert!(matches!(
        repo_error(DieselError::NotFound),
        RepoError::NotFound
    ));
}

/// The SQLSTATE of a statement's error, and the error mapped.
fn failure(e: DieselError) -> (Option<SqlState>, RepoError) {
    let code = match &e {
        DieselError::DatabaseError(_, info) => info.sqlstate(),
        _ => None,
    };
    (code, repo_error(e))
}

#[tokio::test]
async fn a_statement_past_the_statement_timeout_is_unavailable() {
    let db = TestDb::new().await;
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    conn.batch_execute("SET statement_timeout = 50")
        .await
        .unwrap();
    let e = diesel::sql_query("SELECT pg_sleep(10)")
        .execute(&mut conn)
        .await
        .unwrap_err();
    let (code, got) = failure(e);
    assert_eq!(code, Some(sql_state::QUERY_CANCELED));
    assert!(matches!(got, RepoError::Unavailable(_)), "{got:?}");
}

#[tokio::test]
async fn a_connection_the_server_terminates_is_unavailable() {
    let db = TestDb::new().await;
    let mut victim = AsyncPgConnection::establish(db.url()).await.unwrap();
    let mut admin = AsyncPgConnection::establish(db.url()).await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let Pid { pid } = diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result(&mut victim)
        .await
        .unwrap();
    let sleeping = diesel::sql_query("SELECT pg_sleep(10)").execute(&mut victim);
    // Terminated while its statement runs (the server's pg_terminate_backend: 57P01). Only
    // this connection: its pid is bound, and the only thing the statement terminates.
    let terminate = async {
        #[derive(diesel::QueryableByName)]
        struct Active {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            active: bool,
        }
        loop {
            let Active { active } = diesel::sql_query(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity \
                 WHERE pid = $1 AND state = 'active') AS active",
            )
            .bind::<diesel::sql_types::Integer, _>(pid)
            .get_result(&mut admin)
            .await
            .unwrap();
            if active {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        diesel::sql_query("SELECT pg_terminate_backend($1)")
            .bind::<diesel::sql_types::Integer, _>(pid)
            .execute(&mut admin)
            .await
            .unwrap();
    };
    let (slept, ()) = tokio::join!(sleeping, terminate);
    let (code, got) = failure(slept.unwrap_err());
    assert_eq!(code, Some(sql_state::ADMIN_SHUTDOWN));
    assert!(matches!(got, RepoError::Unavailable(_)), "{got:?}");
}

#[tokio::test]
async fn a_statement_that_fails_whenever_it_runs_is_unexpected() {
    let db = TestDb::new().await;
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    let e = diesel::sql_query("SELECT 1 / 0")
        .execute(&mut conn)
        .await
        .unwrap_err();
    let (code, got) = failure(e);
    assert_eq!(code, Some(sql_state::DIVISION_BY_ZERO));
    assert!(matches!(got, RepoError::Unexpected(_)), "{got:?}");
}

//! `schema.rs` is written by hand: this compares what its `table!`s declare (tables, columns,
//! SQL types, nullability) with what the migrations made, read from `information_schema` of a
//! migrated database, so that the two cannot drift apart. And the rules the database keeps by
//! itself: the history of reviews is append-only.

use diesel::pg::{Pg, PgMetadataLookup, PgTypeMetadata};
use diesel::query_source::{Column, Table};
use diesel::sql_types::{is_nullable, HasSqlType, SqlType};
use provider_postgres_adapter::testing::{schema, TestDb};

/// A column: its table, name, SQL type (`pg_type.typname`) and whether it may be NULL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ColumnOf {
    table: String,
    column: String,
    sql_type: String,
    nullable: bool,
}

/// A column as Diesel declares it: its name, the OID of its SQL type, nullability.
#[derive(Debug)]
struct Declared {
    column: &'static str,
    type_oid: u32,
    nullable: bool,
}

/// Diesel's marker of nullability, as a value.
trait Nullability {
    const NULLABLE: bool;
}

impl Nullability for is_nullable::NotNull {
    const NULLABLE: bool = false;
}

impl Nullability for is_nullable::IsNullable {
    const NULLABLE: bool = true;
}

/// Every SQL type of `schema.rs` is built in, with a fixed OID: nothing is ever looked up.
struct BuiltInTypesOnly;

impl PgMetadataLookup for BuiltInTypesOnly {
    fn lookup_type(&mut self, type_name: &str, _schema: Option<&str>) -> PgTypeMetadata {
        panic!("schema.rs names a type that is not built in: {type_name}")
    }
}

fn declared<C>() -> Declared
where
    C: Column,
    <C as diesel::Expression>::SqlType: SqlType,
    <<C as diesel::Expression>::SqlType as SqlType>::IsNull: Nullability,
    Pg: HasSqlType<<C as diesel::Expression>::SqlType>,
{
    let metadata = <Pg as HasSqlType<C::SqlType>>::metadata(&mut BuiltInTypesOnly);
    Declared {
        column: C::NAME,
        type_oid: metadata.oid().expect("a built-in type has an OID"),
        nullable: <<C::SqlType as SqlType>::IsNull as Nullability>::NULLABLE,
    }
}

/// The columns of a table's `all_columns` tuple.
trait Columns {
    fn declared() -> Vec<Declared>;
}

macro_rules! columns_of_tuples {
    ($($c:ident),+) => {
        impl<$($c),+> Columns for ($($c,)+)
        where
            $(
                $c: Column,
                <$c as diesel::Expression>::SqlType: SqlType,
                <<$c as diesel::Expression>::SqlType as SqlType>::IsNull: Nullability,
                Pg: HasSqlType<<$c as diesel::Expression>::SqlType>,
            )+
        {
            fn declared() -> Vec<Declared> {
                vec![$(declared::<$c>()),+]
            }
        }
    };
}

columns_of_tuples!(A, B);
columns_of_tuples!(A, B, C);
columns_of_tuples!(A, B, C, D);
columns_of_tuples!(A, B, C, D, E);
columns_of_tuples!(A, B, C, D, E, F);
columns_of_tuples!(A, B, C, D, E, F, G);
columns_of_tuples!(A, B, C, D, E, F, G, H);
columns_of_tuples!(A, B, C, D, E, F, G, H, I);
columns_of_tuples!(A, B, C, D, E, F, G, H, I, J);
columns_of_tuples!(A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P, Q, R, S, T);

/// Each table of `schema.rs` by its name (the `table!`'s, which is the SQL name) and the
/// columns Diesel declares for it, in order.
macro_rules! tables {
    ($($table:ident),+ $(,)?) => {
        vec![$((
            stringify!($table),
            <<schema::$table::table as Table>::AllColumns as Columns>::declared(),
        )),+]
    };
}

async fn client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test database");
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_rs_declares_exactly_the_tables_and_columns_the_migrations_make() {
    let db = TestDb::new().await;
    let sql = client(db.url()).await;
    let type_name = async |oid: u32| -> String {
        sql.query_one("SELECT typname::text FROM pg_type WHERE oid = $1", &[&oid])
            .await
            .unwrap_or_else(|e| panic!("no SQL type has OID {oid}: {e}"))
            .get(0)
    };
    let mut expected = Vec::new();
    for (table, columns) in tables!(
        providers,
        provider_skills,
        availability,
        availability_runs,
        reviews,
        review_skill_ratings,
        skill_reviews,
        review_flags,
        review_replies,
        review_events,
        idempotency_keys,
        change_events,
        change_events_horizon
    ) {
        for c in columns {
            expected.push(ColumnOf {
                table: table.to_owned(),
                column: c.column.to_owned(),
                sql_type: type_name(c.type_oid).await,
                nullable: c.nullable,
            });
        }
    }

    let found: Vec<ColumnOf> = sql
        .query(
            "SELECT c.table_name::text, c.column_name::text, c.udt_name::text, \
                    c.is_nullable = 'YES' \
             FROM information_schema.columns c \
             JOIN information_schema.tables t \
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
               AND c.table_name <> '__diesel_schema_migrations'",
            &[],
        )
        .await
        .expect("read information_schema")
        .iter()
        .map(|r| ColumnOf {
            table: r.get(0),
            column: r.get(1),
            sql_type: r.get(2),
            nullable: r.get(3),
        })
        .collect();

    let (mut expected, mut found) = (expected, found);
    expected.sort();
    found.sort();
    let missing: Vec<&ColumnOf> = expected.iter().filter(|c| !found.contains(c)).collect();
    let undeclared: Vec<&ColumnOf> = found.iter().filter(|c| !expected.contains(c)).collect();
    assert!(
        missing.is_empty() && undeclared.is_empty(),
        "schema.rs and the migrated database disagree.\n\
         Declared in schema.rs but not so in the database: {missing:#?}\n\
         In the database but not so in schema.rs: {undeclared:#?}"
    );
    assert!(expected.len() > 20, "{expected:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_refuses_to_update_or_delete_review_history() {
    let db = TestDb::new().await;
    let sql = client(db.url()).await;
    sql.batch_execute(
        "INSERT INTO review_events (review_id, provider_id, at, by, event, detail) VALUES \
         (gen_random_uuid(), gen_random_uuid(), now(), NULL, 'withdrawn', '{}')",
    )
    .await
    .expect("the history takes new events");
    for statement in [
        "UPDATE review_events SET event = 'submitted'",
        "UPDATE review_events SET detail = '{\"status\": \"published\"}'",
        "DELETE FROM review_events",
    ] {
        let refused = sql
            .batch_execute(statement)
            .await
            .expect_err("the history is append-only");
        let db_error = refused.as_db_error().expect("a server error");
        assert_eq!(
            db_error.code(),
            &tokio_postgres::error::SqlState::RESTRICT_VIOLATION,
            "{statement}: {db_error:?}"
        );
        assert!(db_error.message().contains("append-only"), "{db_error:?}");
    }
    let kept: i64 = sql
        .query_one(
            "SELECT count(*) FROM review_events WHERE event = 'withdrawn' AND detail = '{}'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(kept, 1, "the event is as it was written");
}

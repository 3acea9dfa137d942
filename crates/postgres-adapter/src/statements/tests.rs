//! The spans of statements run on a real server: their SQL text, never their bound values.

use super::*;
use crate::testing::TestDb;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Every field value recorded on a `sql statement` span, as text.
#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<(String, String)>>>);

impl Visit for Recorded {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .lock()
            .unwrap()
            .push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .lock()
            .unwrap()
            .push((field.name().to_owned(), value.to_owned()));
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorded {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        if attrs.metadata().name() == "sql statement" {
            attrs.record(&mut self.clone());
        }
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if ctx.span(id).is_some_and(|s| s.name() == "sql statement") {
            values.record(&mut self.clone());
        }
    }
}

#[tokio::test]
async fn each_statement_gets_a_span_with_its_sql_text_and_never_its_bound_values() {
    let db = TestDb::new().await;
    let recorded = Recorded::default();
    let subscriber = tracing_subscriber::registry().with(
        recorded
            .clone()
            .with_filter(tracing::level_filters::LevelFilter::DEBUG),
    );
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    conn.set_instrumentation(StatementSpans::default());
    let secret = "a-name-only-the-client-knows";
    let found: Vec<String> = diesel::sql_query("SELECT $1::text AS echoed")
        .bind::<diesel::sql_types::Text, _>(secret)
        .load::<Echoed>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.echoed)
        .collect();
    assert_eq!(found, [secret]);
    let failed = diesel::sql_query("SELECT no_such_column FROM providers")
        .execute(&mut conn)
        .await;
    assert!(failed.is_err());

    let fields = recorded.0.lock().unwrap().clone();
    let statements: Vec<&str> = fields
        .iter()
        .filter(|(name, _)| name == "db.statement")
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(
        statements,
        [
            "SELECT $1::text AS echoed",
            "SELECT no_such_column FROM providers"
        ],
        "{fields:?}"
    );
    assert!(
        fields
            .iter()
            .any(|(n, v)| n == "otel.name" && v == "SELECT"),
        "{fields:?}"
    );
    assert_eq!(
        fields
            .iter()
            .filter(|(n, v)| n == "otel.status_code" && v == "ERROR")
            .count(),
        1,
        "{fields:?}"
    );
    assert!(
        !fields.iter().any(|(_, v)| v.contains(secret)),
        "a bound value in a span: {fields:?}"
    );
}

#[derive(QueryableByName)]
struct Echoed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    echoed: String,
}

//! A hand-written SQL statement with bound parameters, for what the Diesel DSL cannot say
//! (CTEs, `ARRAY(subquery)`, `unnest`, range arithmetic).
//!
//! Unlike `diesel::sql_query`, which marks itself unsafe to cache, a [`Statement`] is cached as
//! a prepared statement per connection, keyed by its SQL text: the handful of shapes search and
//! recommend produce are parsed once per connection, not on every request. Values always travel
//! as bind parameters, never inside the text.

use diesel::expression::{AsExpression, TypedExpressionType};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDslSupport;
use diesel::sql_types::{SqlType, Untyped};
use diesel::QueryResult;

enum Part {
    Text(String),
    Bind(Box<dyn QueryFragment<Pg> + Send + Sync>),
}

/// SQL text interleaved with bind parameters (`$1`, `$2`, ... are numbered by Diesel).
#[derive(Default)]
pub(crate) struct Statement {
    parts: Vec<Part>,
}

impl std::fmt::Debug for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&diesel::debug_query::<Pg, _>(self).to_string())
    }
}

impl Statement {
    pub(crate) fn new(sql: &str) -> Self {
        let mut s = Self::default();
        s.sql(sql);
        s
    }

    /// Appends SQL text (never a value: values go through [`Statement::bind`]).
    pub(crate) fn sql(&mut self, sql: &str) -> &mut Self {
        match self.parts.last_mut() {
            Some(Part::Text(text)) => text.push_str(sql),
            _ => self.parts.push(Part::Text(sql.to_owned())),
        }
        self
    }

    /// Appends another statement, text and binds.
    pub(crate) fn append(&mut self, other: Statement) -> &mut Self {
        for part in other.parts {
            match part {
                Part::Text(text) => {
                    self.sql(&text);
                }
                bind @ Part::Bind(_) => self.parts.push(bind),
            }
        }
        self
    }

    /// Appends a bind parameter of SQL type `ST`.
    pub(crate) fn bind<ST, T>(&mut self, value: T) -> &mut Self
    where
        ST: SqlType + TypedExpressionType,
        T: AsExpression<ST>,
        T::Expression: QueryFragment<Pg> + Send + Sync + 'static,
    {
        self.parts.push(Part::Bind(Box::new(value.as_expression())));
        self
    }
}

impl QueryFragment<Pg> for Statement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_sql(text),
                Part::Bind(value) => value.walk_ast(out.reborrow())?,
            }
        }
        Ok(())
    }
}

impl QueryId for Statement {
    type QueryId = ();
    // No static id: the statement cache keys it by its SQL text and bind types instead.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Statement {
    type SqlType = Untyped;
}

/// Run with `diesel_async::RunQueryDsl` (`load`, `execute`, `get_result`), like Diesel's own
/// queries.
impl RunQueryDslSupport for Statement {}

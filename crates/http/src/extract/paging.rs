//! Paging: `?page=&page_size=` of the list routes (and `cursor=` of those that page after a
//! cursor: search and review lists), and nothing else in the query string.

use crate::error::{ApiError, FieldDetail};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use provider_ports::{EventsRequest, ListRequest, Page};
use serde::Deserialize;
use std::future::{ready, Ready};
use std::num::IntErrorKind;
use utoipa::IntoParams;

/// The paging query parameters of list routes (documentation of [`Paging`]).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Read by `Paging`, field by field; this type only documents them.
pub(crate) struct PageParams {
    /// Page number, 1..=10000 (default 1). Also `page * page_size` may not exceed 10000 (a rule
    /// across parameters that the schema cannot say: deeper paging is 422; narrow the filter
    /// instead).
    #[param(minimum = 1, maximum = 10_000, default = 1)]
    page: Option<i64>,
    /// Items per page, 1..=100 (default 10).
    #[param(minimum = 1, maximum = 100, default = 10)]
    page_size: Option<i64>,
}

/// The paging query parameters of lists that also page after a cursor (documentation of
/// [`ListParams`]).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Read by `ListParams`, field by field; this type only documents them.
pub(crate) struct CursorPageParams {
    /// Page number, 1..=10000 (default 1). Also `page * page_size` may not exceed 10000 (a rule
    /// across parameters that the schema cannot say: deeper paging is 422; page with `cursor`
    /// instead, which has no depth limit). Not with `cursor` (422 on `cursor`).
    #[param(minimum = 1, maximum = 10_000, default = 1)]
    page: Option<i64>,
    /// Items per page, 1..=100 (default 10); may change from one cursor page to the next.
    #[param(minimum = 1, maximum = 100, default = 10)]
    page_size: Option<i64>,
    /// The `next_cursor` of the page before: this page is the one after it, in the same list
    /// (same filter and sort, or same provider). Opaque; a cursor changed in any way, made for
    /// another list, or given with `page`: 422 on `cursor`.
    cursor: Option<String>,
}

/// A checked page from `?page=&page_size=`. Anything else in the query string, a value given
/// twice, or a value that is not an integer: 422 naming the parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging(pub Page);

impl FromRequest for Paging {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            parameters(req.query_string(), false)
                .and_then(|list| Ok(Paging(Page::new(list.page, list.page_size)?))),
        )
    }
}

/// `?page=&page_size=&cursor=`, read but not yet checked against each other (the use case
/// does, with the cursor: [`ListRequest::parse`]). Anything else in the query string, a value
/// given twice, or a number that is not an integer: 422 naming the parameter.
#[derive(Debug, Clone)]
pub(crate) struct ListParams(pub ListRequest);

impl FromRequest for ListParams {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parameters(req.query_string(), true).map(ListParams))
    }
}

fn parameters(query: &str, cursor_allowed: bool) -> Result<ListRequest, ApiError> {
    let (mut page, mut page_size, mut cursor) = (None, None, None);
    let (text, expected) = if cursor_allowed {
        (Some(("cursor", &mut cursor)), "page, page_size or cursor")
    } else {
        (None, "page or page_size")
    };
    read_query(
        query,
        &mut [("page", &mut page), ("page_size", &mut page_size)],
        text,
        expected,
    )?;
    Ok(ListRequest {
        page,
        page_size,
        cursor,
    })
}

/// Reads `query` into the slots named: integer parameters (`integers`) and at most one text
/// parameter (`text`). A parameter not named (`expected` lists those that are), one given
/// twice, or an integer that is not one: 422 naming each.
fn read_query(
    query: &str,
    integers: &mut [(&str, &mut Option<i64>)],
    mut text: Option<(&str, &mut Option<String>)>,
    expected: &str,
) -> Result<(), ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query).map_err(|_| {
        ApiError::Unprocessable {
            error: "the query string could not be read".into(),
            details: vec![],
        }
    })?;
    let mut details = Vec::new();
    for (name, value) in pairs.into_inner() {
        if let Some((_, slot)) = text.as_mut().filter(|(text_name, _)| *text_name == name) {
            if slot.is_some() {
                details.push(FieldDetail::new(name, "is given more than once"));
            } else {
                **slot = Some(value);
            }
            continue;
        }
        let Some((_, slot)) = integers.iter_mut().find(|(n, _)| *n == name) else {
            details.push(FieldDetail::new(
                name,
                format!("is not a known query parameter (expected {expected})"),
            ));
            continue;
        };
        if slot.is_some() {
            details.push(FieldDetail::new(name, "is given more than once"));
            continue;
        }
        match parse_integer(&value) {
            Some(n) => **slot = Some(n),
            None => details.push(FieldDetail::new(name, "must be an integer")),
        }
    }
    if details.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid("the query string", details))
    }
}

/// The query parameters of the events feed (documentation of [`EventsQuery`]).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Read by `EventsQuery`, field by field; this type only documents them.
pub(crate) struct EventsParams {
    /// The last sequence the reader saw (its `next_after`); 0, the default, starts at the
    /// oldest event kept. Older than the retention window: 410. At most 2^53 − 1 (sequences
    /// stay below it).
    #[param(minimum = 0, maximum = 9_007_199_254_740_991_i64, default = 0)]
    after: Option<i64>,
    /// How many events at most, 1..=1000 (default 100).
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<i64>,
}

/// `?after=&limit=`, read but not checked (the use case does). Anything else in the query
/// string, a value given twice, or one that is not an integer: 422 naming the parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventsQuery(pub EventsRequest);

impl FromRequest for EventsQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(events_parameters(req.query_string()).map(EventsQuery))
    }
}

fn events_parameters(query: &str) -> Result<EventsRequest, ApiError> {
    let mut request = EventsRequest::default();
    read_query(
        query,
        &mut [("after", &mut request.after), ("limit", &mut request.limit)],
        None,
        "after or limit",
    )?;
    Ok(request)
}

/// An integer, saturated to `i64` (so that a huge page number is "out of range", not "not an
/// integer").
fn parse_integer(text: &str) -> Option<i64> {
    match text.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(e) => match e.kind() {
            IntErrorKind::PosOverflow => Some(i64::MAX),
            IntErrorKind::NegOverflow => Some(i64::MIN),
            _ => None,
        },
    }
}

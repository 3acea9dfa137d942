//! The extractors: what a handler takes from a request, one module per kind. Each fails with an
//! [`ApiError`](crate::error::ApiError), so every refusal is JSON.
//!
//! | Module | Extracts |
//! |---|---|
//! | [`caller`] | the caller of a route that needs one (401 without) |
//! | [`path`] | the provider id in the path (422 on field `id`) |
//! | [`paging`] | `?page=&page_size=` (422 naming the parameter) |
//! | [`conditional`] | `If-Match`, `If-None-Match` (and the `ETag` of a version) |
//! | [`idempotency`] | `Idempotency-Key` (422 on field `Idempotency-Key`) |
//! | [`json`] | a JSON body: 415, 413, 400, or 422 naming the field by its path |
//!
//! actix-web extracts a handler's arguments in order and answers with the first failure, so
//! handlers list the caller first and the JSON body last: identity is checked before anything
//! else, and the body is only read once everything else about the request is fine.

mod caller;
mod conditional;
mod idempotency;
mod json;
mod paging;
mod path;

pub(crate) use caller::{FeedReader, MaybeCaller, Moderator};
pub(crate) use conditional::{etag, IfMatch, IfNoneMatch};
pub(crate) use idempotency::IdempotencyKeyHeader;
pub(crate) use json::JsonBody;
pub(crate) use paging::{
    CursorPageParams, EventsParams, EventsQuery, ListParams, PageParams, Paging,
};
pub(crate) use path::{FlagPathId, PathId, ReviewPathId};

//! Extractors: the caller's identity, the provider id in the path, paging, the conditional and
//! idempotency headers, and JSON bodies. Each fails with an [`ApiError`], so every refusal is
//! JSON.
//!
//! actix-web extracts a handler's arguments in order and answers with the first failure, so
//! handlers list [`Caller`] first and [`JsonBody`] last: identity is checked before anything
//! else, and the body is only read once everything else about the request is fine.

use crate::error::{ApiError, FieldDetail};
use crate::identity::{header_caller, Caller};
use crate::middleware::gate::Gate;
use crate::MAX_BODY_BYTES;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{self, BytesMut};
use actix_web::{mime, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use provider_domain::{ProviderId, UserId};
use provider_ports::{Fingerprint, IdempotencyKey, IdempotentRequest, Page, Version, VersionCheck};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::error::Category;
use std::future::{ready, Ready};
use std::num::IntErrorKind;
use utoipa::IntoParams;
use uuid::Uuid;

/// The caller of a route that needs one: the one the gate identified; else, in header mode, the
/// `user-id` (or `user_id`) header (missing, malformed, or given twice with different values:
/// 401); in JWT mode, 401 with `WWW-Authenticate: Bearer` (no token: a bad one never reaches a
/// handler).
impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(caller) = req.extensions().get::<Caller>() {
            return ready(Ok(*caller));
        }
        let jwt = req
            .app_data::<web::Data<Gate>>()
            .is_some_and(|gate| gate.authentication().is_jwt());
        if jwt {
            return ready(Err(ApiError::MissingBearer));
        }
        ready(header_caller(req).map(Caller))
    }
}

/// The `{id}` segment of the path, a provider id. Not a UUID: 422 on field `id`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PathId(pub ProviderId);

impl FromRequest for PathId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req
            .match_info()
            .get("id")
            .and_then(|text| Uuid::parse_str(text).ok())
            .map(|id| PathId(ProviderId::from_uuid(id)))
            .ok_or_else(|| ApiError::unprocessable("id", "must be a UUID"));
        ready(id)
    }
}

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

/// A checked page from `?page=&page_size=`. Anything else in the query string, a value given
/// twice, or a value that is not an integer: 422 naming the parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging(pub Page);

impl FromRequest for Paging {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(paging(req.query_string()))
    }
}

fn paging(query: &str) -> Result<Paging, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query).map_err(|_| {
        ApiError::Unprocessable {
            error: "the query string could not be read".into(),
            details: vec![],
        }
    })?;
    let (mut page, mut page_size) = (None, None);
    let mut details = Vec::new();
    for (name, value) in pairs.into_inner() {
        let slot = match name.as_str() {
            "page" => &mut page,
            "page_size" => &mut page_size,
            _ => {
                details.push(FieldDetail::new(
                    name,
                    "is not a known query parameter (expected page or page_size)",
                ));
                continue;
            }
        };
        if slot.is_some() {
            details.push(FieldDetail::new(name, "is given more than once"));
            continue;
        }
        match parse_integer(&value) {
            Some(n) => *slot = Some(n),
            None => details.push(FieldDetail::new(name, "must be an integer")),
        }
    }
    if !details.is_empty() {
        let error = sentence("the query string", &details);
        return Err(ApiError::Unprocessable { error, details });
    }
    Ok(Paging(Page::new(page, page_size)?))
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

/// `the <what> is invalid: <field> <message>; ...`
fn sentence(what: &str, details: &[FieldDetail]) -> String {
    let list = details
        .iter()
        .map(|d| format!("{} {}", d.field, d.message))
        .collect::<Vec<_>>()
        .join("; ");
    format!("{what} is invalid: {list}")
}

/// The entity tags of an `If-Match` or `If-None-Match` (every header of that name, joined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EntityTags {
    /// `*`.
    Any,
    /// The tags listed, each `(weak, opaque text)`; unreadable entries are left out.
    List(Vec<(bool, String)>),
}

impl EntityTags {
    /// The tags of header `name`, or `None` when the request has none.
    fn of(req: &HttpRequest, name: header::HeaderName) -> Option<Self> {
        let mut values = req.headers().get_all(name).peekable();
        values.peek()?;
        let mut tags = Vec::new();
        for value in values {
            let Ok(text) = value.to_str() else { continue };
            if text.trim() == "*" {
                return Some(Self::Any);
            }
            tags.extend(parse_tags(text));
        }
        Some(Self::List(tags))
    }

    /// Whether `version` is among them by the weak comparison of `If-None-Match` (`W/"3"`
    /// matches `"3"`); `*` matches any.
    pub(crate) fn weakly_names(&self, version: Version) -> bool {
        match self {
            Self::Any => true,
            Self::List(tags) => tags
                .iter()
                .any(|(_, tag)| version_of_tag(tag) == Some(version)),
        }
    }
}

/// The strong `ETag` of a version: `"<version>"`.
pub(crate) fn etag(version: Version) -> String {
    format!("\"{version}\"")
}

/// The version an entity tag's opaque text names, if it is one of ours.
fn version_of_tag(tag: &str) -> Option<Version> {
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    tag.parse().ok().map(Version::new)
}

/// The entity tags of one header value: `"a", W/"b"` → `[(false, a), (true, b)]`. Entries that
/// are not tags are skipped.
fn parse_tags(text: &str) -> Vec<(bool, String)> {
    let mut tags = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
        if rest.is_empty() {
            return tags;
        }
        let (weak, after) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let Some(quoted) = after.strip_prefix('"') else {
            // Not a tag: skip to the next comma.
            rest = after.find(',').map_or("", |i| &after[i..]);
            continue;
        };
        let Some(end) = quoted.find('"') else {
            return tags;
        };
        let after_tag = quoted[end + 1..].trim_start();
        if after_tag.is_empty() || after_tag.starts_with(',') {
            tags.push((weak, quoted[..end].to_owned()));
            rest = after_tag;
        } else {
            // Something glued to the tag (`"2"x`): not a tag; skip the entry.
            rest = after_tag.find(',').map_or("", |i| &after_tag[i..]);
        }
    }
}

/// `If-Match` of a write, as the version check the store applies: absent or `*` is
/// [`VersionCheck::Any`] (existence is checked anyway); otherwise the versions its strong tags
/// name (weak tags never match, so a list of only weak or foreign tags matches nothing).
#[derive(Debug, Clone)]
pub(crate) struct IfMatch(pub VersionCheck);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let check = match EntityTags::of(req, header::IF_MATCH) {
            None | Some(EntityTags::Any) => VersionCheck::Any,
            Some(EntityTags::List(tags)) => VersionCheck::OneOf(
                tags.iter()
                    .filter(|(weak, _)| !weak)
                    .filter_map(|(_, tag)| version_of_tag(tag))
                    .collect(),
            ),
        };
        ready(Ok(IfMatch(check)))
    }
}

/// `If-None-Match` of a read, when given.
#[derive(Debug, Clone)]
pub(crate) struct IfNoneMatch(pub Option<EntityTags>);

impl FromRequest for IfNoneMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(IfNoneMatch(EntityTags::of(req, header::IF_NONE_MATCH))))
    }
}

/// The `Idempotency-Key` header.
pub(crate) const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The `Idempotency-Key` of a create, when given: 1..=255 visible ASCII characters, else 422 on
/// field `Idempotency-Key` (so is the header given twice).
#[derive(Debug, Clone)]
pub(crate) struct IdempotencyKeyHeader(pub Option<IdempotencyKey>);

impl IdempotencyKeyHeader {
    /// The idempotent request of `caller` on `route` (method and path, with the provider id in
    /// it) with this `body`, when a key was given. Bodies equal as JSON values (whatever their
    /// spacing or key order) give the same fingerprint.
    pub(crate) fn request(
        &self,
        caller: UserId,
        route: &str,
        body: &[u8],
    ) -> Option<IdempotentRequest> {
        let key = self.0.clone()?;
        Some(IdempotentRequest {
            caller,
            key,
            fingerprint: Fingerprint::of(&[route.as_bytes(), canonical_json(body).as_bytes()]),
        })
    }
}

impl FromRequest for IdempotencyKeyHeader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let mut values = req.headers().get_all(IDEMPOTENCY_KEY);
        let Some(first) = values.next() else {
            return ready(Ok(IdempotencyKeyHeader(None)));
        };
        if values.next().is_some() {
            return ready(Err(ApiError::unprocessable(
                "Idempotency-Key",
                "is given more than once",
            )));
        }
        ready(
            IdempotencyKey::parse(first.as_bytes())
                .map(|key| IdempotencyKeyHeader(Some(key)))
                .map_err(|e| ApiError::unprocessable("Idempotency-Key", e.to_string())),
        )
    }
}

/// The canonical text of a JSON body: objects with their keys sorted, no white space, numbers
/// and strings as serde_json writes them. The body has been read as JSON already; should it not
/// parse, its bytes stand for themselves.
fn canonical_json(body: &[u8]) -> String {
    fn write(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    write(v, out);
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(v, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => {
            let mut out = String::new();
            write(&value, &mut out);
            out
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

/// A JSON request body of type `T`.
///
/// In order: the Content-Type must be `application/json` (or `application/*+json`), else 415;
/// the body may be at most [`MAX_BODY_BYTES`], else 413; it must be valid JSON, else 400; it must
/// have the shape of `T` (types, required fields, no unknown fields), else 422 naming the field
/// by its path (`availability[0].from_date`). The bytes as sent are kept too (for an
/// idempotency key's fingerprint).
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub T, pub web::Bytes);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let checked = check_headers(req);
        let mut payload = payload.take();
        Box::pin(async move {
            checked?;
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| match e {
                    actix_web::error::PayloadError::Overflow => ApiError::PayloadTooLarge,
                    other => ApiError::Other {
                        status: actix_web::http::StatusCode::BAD_REQUEST,
                        message: format!("the request body could not be read: {other}"),
                    },
                })?;
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(ApiError::PayloadTooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            let value = parse_json(&body)?;
            Ok(JsonBody(value, body.freeze()))
        })
    }
}

fn check_headers(req: &HttpRequest) -> Result<(), ApiError> {
    let is_json = match req.mime_type() {
        Ok(Some(mime)) => {
            mime.type_() == mime::APPLICATION
                && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
        }
        _ => false,
    };
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(())
}

/// Parses a JSON body: syntax errors are 400, shape errors 422 with the field's path.
///
/// Every body is a JSON object: anything else (an array, which serde's derive would read field
/// by field, a string, a number) is 422 once it is known to be valid JSON.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
            .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
        return Err(ApiError::Unprocessable {
            error: "the request body must be a JSON object".into(),
            details: vec![],
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        match e.inner().classify() {
            // Shape errors stop reading early: a syntax error further on still makes it 400.
            Category::Data => match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Err(syntax) => ApiError::MalformedJson(syntax.to_string()),
                Ok(_) => shape_error(&path, &without_position(e.inner())),
            },
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::MalformedJson(e.inner().to_string())
            }
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    Ok(value)
}

/// serde_json's message without its ` at line L column C` suffix.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

/// The text between the first pair of backticks after `prefix`, and what follows it.
fn quoted<'a>(message: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let rest = message.strip_prefix(prefix)?;
    let end = rest.find('`')?;
    Some((&rest[..end], &rest[end + 1..]))
}

/// A 422 for JSON of the wrong shape, naming the field: the path serde_path_to_error tracked,
/// plus the field serde names in the message (unknown, missing or duplicate fields).
fn shape_error(path: &str, message: &str) -> ApiError {
    let at = |name: &str| {
        if path == "." || path.is_empty() {
            name.to_owned()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            path.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    let detail = if let Some((name, rest)) = quoted(message, "unknown field `") {
        let expected = rest.trim_start_matches(", ");
        let message = if expected.starts_with("expected") {
            format!("is not a known field ({expected})")
        } else {
            "is not a known field".to_owned()
        };
        Some(FieldDetail::new(at(name), message))
    } else if let Some((name, _)) = quoted(message, "missing field `") {
        Some(FieldDetail::new(at(name), "is required"))
    } else if let Some((name, _)) = quoted(message, "duplicate field `") {
        Some(FieldDetail::new(at(name), "is given more than once"))
    } else if path == "." || path.is_empty() {
        None
    } else {
        Some(FieldDetail::new(path, readable(message)))
    };
    match detail {
        Some(detail) => ApiError::Unprocessable {
            error: sentence("the request body", std::slice::from_ref(&detail)),
            details: vec![detail],
        },
        None => ApiError::Unprocessable {
            error: format!(
                "the request body must be a JSON object: {}",
                readable(message)
            ),
            details: vec![],
        },
    }
}

/// serde's message in the words of a JSON API: `invalid type: string "x", expected i64` becomes
/// `must be an integer (got string "x")`.
fn readable(message: &str) -> String {
    let split = ["invalid type: ", "invalid value: "]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.rsplit_once(", expected "));
    match split {
        Some((got, expected)) => format!("must be {} (got {got})", json_words(expected)),
        None => message.to_owned(),
    }
}

/// What serde expected, in JSON words.
fn json_words(expected: &str) -> &str {
    match expected {
        "i64" | "i32" => "an integer",
        "u64" | "u32" => "a non-negative integer",
        "f64" | "f32" => "a number",
        "a sequence" => "an array",
        "a boolean" => "true or false",
        other if other.starts_with("struct ") => "a JSON object",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_read_strong_and_weak_with_junk_skipped() {
        assert_eq!(
            parse_tags(r#""1", W/"2",junk , "a,b""#),
            vec![
                (false, "1".to_owned()),
                (true, "2".to_owned()),
                (false, "a,b".to_owned())
            ]
        );
        assert_eq!(parse_tags(r#""unterminated"#), vec![]);
        assert_eq!(parse_tags(r#""2"x, "3""#), vec![(false, "3".to_owned())]);
        assert_eq!(parse_tags(""), vec![]);
    }

    #[test]
    fn only_digit_tags_name_versions() {
        assert_eq!(version_of_tag("12"), Some(Version::new(12)));
        assert_eq!(version_of_tag("+1"), None);
        assert_eq!(version_of_tag(""), None);
        assert_eq!(version_of_tag("99999999999999999999999"), None);
    }

    #[test]
    fn bodies_equal_as_json_values_are_canonically_equal() {
        let a = canonical_json(br#"{"b": [1, {"y": 2, "x": "\u00e9"}], "a": null}"#);
        let b = canonical_json("{\"a\":null,\"b\":[1,{\"x\":\"é\",\"y\":2}]}".as_bytes());
        assert_eq!(a, b);
        assert_ne!(
            a,
            canonical_json(r#"{"a": null, "b": [{"x": "é", "y": 2}, 1]}"#.as_bytes())
        );
    }
}

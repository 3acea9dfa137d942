//! JSON request bodies: their media type, their size, their syntax (400), their shape (422,
//! naming the field by its path).

use crate::error::{ApiError, FieldDetail};
use crate::limits::MAX_BODY_BYTES;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{self, BytesMut};
use actix_web::{mime, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

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
        Some(detail) => ApiError::invalid("the request body", vec![detail]),
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

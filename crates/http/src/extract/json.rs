//! JSON request bodies: their media type, their size, their syntax (400), their shape (422,
//! naming the field by its path).

mod typed;

use crate::error::{ApiError, FieldDetail};
use crate::limits::MAX_BODY_BYTES;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{self, BytesMut};
use actix_web::{mime, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_path_to_error::{Path, Segment};
use typed::{Refusal, Slot, Typed};

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
        serde_json::from_slice::<IgnoredAny>(bytes)
            .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
        return Err(ApiError::Unprocessable {
            error: "the request body must be a JSON object".into(),
            details: vec![],
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let slot = Slot::default();
    let value: T = serde_path_to_error::deserialize(Typed::new(&mut deserializer, &slot)).map_err(
        |e| match e.inner() {
            Refusal::Syntax(message) => ApiError::MalformedJson(message.clone()),
            // Shape errors stop reading early: a syntax error further on still makes it 400.
            refusal => match serde_json::from_slice::<IgnoredAny>(bytes) {
                Err(syntax) => ApiError::MalformedJson(syntax.to_string()),
                Ok(_) => shape_error(e.path(), refusal),
            },
        },
    )?;
    deserializer
        .end()
        .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    Ok(value)
}

/// A 422 for JSON of the wrong shape, naming the field: the path serde_path_to_error tracked,
/// and for a field unknown, missing or given twice, that field.
fn shape_error(path: &Path, refusal: &Refusal) -> ApiError {
    // The path of a refusal about a field is its object's, or (an unknown one, read as a key
    // before it was refused) the field's own.
    let at = |name: &str| match path.iter().next_back() {
        None => name.to_owned(),
        Some(Segment::Map { key }) if key == name => path.to_string(),
        Some(_) => format!("{path}.{name}"),
    };
    let field = match refusal {
        Refusal::UnknownField { field, .. } => Some(at(field)),
        Refusal::MissingField(field) | Refusal::DuplicateField(field) => Some(at(field)),
        _ if path.iter().next().is_none() => None,
        _ => Some(path.to_string()),
    };
    match field {
        Some(field) => ApiError::invalid(
            "the request body",
            vec![FieldDetail::new(field, refusal.message())],
        ),
        None => ApiError::Unprocessable {
            error: format!(
                "the request body must be a JSON object: {}",
                refusal.message()
            ),
            details: vec![],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::ProviderBody;

    fn details(json: &str) -> Vec<(String, String)> {
        match parse_json::<ProviderBody>(json.as_bytes()) {
            Err(ApiError::Unprocessable { details, .. }) => {
                details.into_iter().map(|d| (d.field, d.message)).collect()
            }
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn a_field_is_named_by_its_path() {
        let json = r#"{"name": "a", "cost_in_pence": 1,
                       "availability": [{"from_date": "x", "to_date": "y"}, {"from_date": 5}]}"#;
        assert_eq!(
            details(json),
            [(
                "availability[1].from_date".to_owned(),
                "must be a string (got integer `5`)".to_owned()
            )]
        );
        assert_eq!(
            details(r#"{"name": "a", "cost_in_pence": 1, "availability": [{"to_date": "x"}]}"#),
            [(
                "availability[0].from_date".to_owned(),
                "is required".to_owned()
            )]
        );
    }

    #[test]
    fn an_unknown_field_is_named_whole_whatever_it_holds() {
        // The field's name is data, not words to cut at a backtick.
        assert_eq!(
            details(r#"{"name": "a", "cost_in_pence": 1, "a`b": 1}"#),
            [(
                "a`b".to_owned(),
                "is not a known field (expected one of `name`, `skills`, `cost_in_pence`, \
                 `availability`)"
                    .to_owned()
            )]
        );
    }

    #[test]
    fn a_syntax_error_after_a_shape_error_is_400() {
        let refused = parse_json::<ProviderBody>(br#"{"name": 5, "cost_in_pence": 1 x"#);
        assert!(
            matches!(refused, Err(ApiError::MalformedJson(_))),
            "{refused:?}"
        );
    }
}

//! Conditional requests: the `ETag` of a version, `If-Match` on writes, `If-None-Match` on
//! reads.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use provider_ports::{Version, VersionCheck};
use std::future::{ready, Ready};

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
}

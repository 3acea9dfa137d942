//! Cursors as clients see them: a domain [`Cursor`]'s bytes sealed with an integrity check,
//! written in URL-safe base64.
//!
//! The check is an HMAC-SHA-256 of the bytes, cut to 16 bytes, under a key derived from a
//! secret of the deployment ([`CursorKey::new`]; the server reads it from `CURSOR_SECRET`,
//! else draws one at start, valid in that process only). A cursor changed in any way, or made
//! under another secret, fails the check before its bytes are read, so a client cannot move a
//! cursor into another query or to a point of its choosing. The scope a cursor carries is a
//! fingerprint of its list ([`search_scope`]): a cursor made for one filter and given with
//! another is refused even though its check passes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use provider_domain::{Cursor, CursorError, SearchFilter};
use sha2::{Digest, Sha256};

/// Bytes of the integrity check kept in a cursor.
const TAG_BYTES: usize = 16;

/// The key cursors are sealed and opened with.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

impl CursorKey {
    /// The key derived from a deployment's `secret` (any length; every process of the
    /// deployment must be given the same one for their cursors to be accepted by each other).
    pub fn new(secret: &[u8]) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"provider-api cursor key v1\0");
        hash.update(secret);
        Self(hash.finalize().into())
    }

    /// A key from fresh randomness: cursors sealed with it open only in this process.
    pub fn random() -> Self {
        let a = uuid::Uuid::new_v4();
        let b = uuid::Uuid::new_v4();
        Self::new(&[a.as_bytes().as_slice(), b.as_bytes().as_slice()].concat())
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }

    /// `cursor` as the opaque text a client is given.
    pub fn seal(&self, cursor: &Cursor) -> String {
        let mut bytes = cursor.to_bytes();
        let mut mac = self.mac();
        mac.update(&bytes);
        bytes.extend_from_slice(&mac.finalize().into_bytes()[..TAG_BYTES]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The cursor a client sent back, when it is one this key sealed, unchanged.
    ///
    /// # Errors
    /// [`CursorError::Damaged`] when the text is not one [`CursorKey::seal`] wrote with this
    /// key; [`CursorError::UnknownVersion`] for a sealed cursor of an encoding this release does
    /// not read.
    pub fn open(&self, token: &str) -> Result<Cursor, CursorError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| CursorError::Damaged)?;
        let split = bytes
            .len()
            .checked_sub(TAG_BYTES)
            .ok_or(CursorError::Damaged)?;
        let (body, tag) = bytes.split_at(split);
        let mut mac = self.mac();
        mac.update(body);
        mac.verify_truncated_left(tag)
            .map_err(|_| CursorError::Damaged)?;
        Cursor::from_bytes(body)
    }
}

/// The fingerprint of a search's filter that its cursors carry: the first 16 bytes of a
/// SHA-256 of the filter's every part, in a fixed form (skills and windows sorted, so two
/// spellings of one filter have one fingerprint). `page_size` and `total` are not part of it:
/// they may change between pages.
pub fn search_scope(filter: &SearchFilter) -> [u8; 16] {
    let mut hash = Sha256::new();
    hash.update(b"search v1\0");
    let mut text = |t: &str| {
        hash.update((t.len() as u64).to_be_bytes());
        hash.update(t.as_bytes());
    };
    match filter.name_key() {
        Some(name) => {
            text("name");
            text(name);
        }
        None => text("no name"),
    }
    let mut skills: Vec<&str> = filter.skills().iter().map(|s| s.key()).collect();
    skills.sort_unstable();
    text("skills");
    for key in skills {
        text(key);
    }
    let mut windows: Vec<String> = filter
        .windows()
        .iter()
        .map(|w| format!("{}..{}", w.from(), w.to()))
        .collect();
    windows.sort_unstable();
    text("windows");
    for w in &windows {
        text(w);
    }
    let number = |n: Option<i64>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
    let parts = format!(
        "cost_gt={} cost_lt={} reviews_gt={} reviews_lt={}",
        number(filter.cost_gt()),
        number(filter.cost_lt()),
        filter.reviews_gt().value(),
        filter.reviews_lt().value()
    );
    hash.update(parts.as_bytes());
    let digest = hash.finalize();
    let mut scope = [0; 16];
    scope.copy_from_slice(&digest[..16]);
    scope
}

#[cfg(test)]
mod tests {
    use super::*;
    use provider_domain::{CursorPosition, ReviewId, SearchInput};
    use time::OffsetDateTime;

    fn cursor() -> Cursor {
        Cursor {
            position: CursorPosition::Reviews {
                created_at: OffsetDateTime::UNIX_EPOCH,
                id: ReviewId::from_uuid(uuid::Uuid::from_u128(9)),
            },
            scope: [7; 16],
        }
    }

    #[test]
    fn a_sealed_cursor_opens_with_its_key_only() {
        let key = CursorKey::new(b"deployment secret");
        let sealed = key.seal(&cursor());
        assert!(sealed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(key.open(&sealed), Ok(cursor()));
        assert_eq!(
            CursorKey::new(b"deployment secret").open(&sealed),
            Ok(cursor())
        );
        assert_eq!(
            CursorKey::new(b"another secret").open(&sealed),
            Err(CursorError::Damaged)
        );
        assert_eq!(CursorKey::random().open(&sealed), Err(CursorError::Damaged));
    }

    #[test]
    fn any_changed_byte_of_a_sealed_cursor_is_caught() {
        let key = CursorKey::new(b"s");
        let bytes = URL_SAFE_NO_PAD.decode(key.seal(&cursor())).unwrap();
        for i in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[i] ^= 0x01;
            assert_eq!(
                key.open(&URL_SAFE_NO_PAD.encode(&changed)),
                Err(CursorError::Damaged),
                "byte {i}"
            );
        }
        for len in 0..bytes.len() {
            assert_eq!(
                key.open(&URL_SAFE_NO_PAD.encode(&bytes[..len])),
                Err(CursorError::Damaged),
                "cut to {len}"
            );
        }
        assert_eq!(key.open("*not base64*"), Err(CursorError::Damaged));
    }

    #[test]
    fn a_sealed_cursor_of_another_encoding_version_is_unknown() {
        let key = CursorKey::new(b"s");
        let mut body = cursor().to_bytes();
        body[0] = Cursor::VERSION + 1;
        let mut mac = key.mac();
        mac.update(&body);
        body.extend_from_slice(&mac.finalize().into_bytes()[..TAG_BYTES]);
        assert_eq!(
            key.open(&URL_SAFE_NO_PAD.encode(body)),
            Err(CursorError::UnknownVersion)
        );
    }

    fn scope(input: SearchInput) -> [u8; 16] {
        search_scope(&SearchFilter::parse(&input).unwrap())
    }

    #[test]
    fn one_filter_has_one_scope_however_it_is_spelled_and_another_filter_another() {
        let window = |f: &str, t: &str| provider_domain::RangeInput {
            from_date: f.into(),
            to_date: t.into(),
        };
        let base = SearchInput {
            name: Some(" Smith ".into()),
            skills: Some(vec!["SEO".into(), "Rust".into()]),
            cost_gt: Some(1),
            cost_lt: Some(10),
            reviews_gt: Some(1.0),
            reviews_lt: Some(4.0),
            availability: Some(vec![
                window("2027-01-01", "2027-01-02"),
                window("2027-02-01", "2027-02-02"),
            ]),
        };
        let respelled = SearchInput {
            name: Some("smith".into()),
            skills: Some(vec!["rust".into(), "seo".into()]),
            availability: Some(vec![
                window("2027-02-01", "2027-02-02"),
                window("2027-01-01", "2027-01-02"),
            ]),
            ..base.clone()
        };
        assert_eq!(scope(base.clone()), scope(respelled));
        let others = [
            SearchInput {
                name: None,
                ..base.clone()
            },
            SearchInput {
                name: Some("smit".into()),
                ..base.clone()
            },
            SearchInput {
                skills: Some(vec!["SEO".into()]),
                ..base.clone()
            },
            SearchInput {
                cost_gt: None,
                ..base.clone()
            },
            SearchInput {
                cost_gt: Some(2),
                ..base.clone()
            },
            SearchInput {
                cost_lt: Some(11),
                ..base.clone()
            },
            SearchInput {
                reviews_gt: Some(1.1),
                ..base.clone()
            },
            SearchInput {
                reviews_lt: Some(3.9),
                ..base.clone()
            },
            SearchInput {
                availability: Some(vec![window("2027-01-01", "2027-01-02")]),
                ..base.clone()
            },
        ];
        for other in others {
            assert_ne!(scope(base.clone()), scope(other.clone()), "{other:?}");
        }
        // A name and a skill of the same text are different filters.
        assert_ne!(
            scope(SearchInput {
                name: Some("seo".into()),
                ..Default::default()
            }),
            scope(SearchInput {
                skills: Some(vec!["seo".into()]),
                ..Default::default()
            })
        );
    }
}

//! Why a body has the wrong shape, as data: a deserializer over serde_json whose error type is
//! [`Refusal`], built from what serde's `de::Error` constructors are given, never from the words
//! of a message.
//!
//! A body's `Deserialize` impls refuse a value by calling `de::Error::invalid_type(unexpected,
//! expected)`, `unknown_field(field, expected)`, `missing_field(field)` and so on, on the error
//! type of the deserializer they are given. serde_json's error type turns these into an English
//! sentence; [`Typed`] gives them [`Refusal`] instead, which keeps them as they came.
//!
//! serde's visitors are generic over the error type of whoever calls them, and serde_json's
//! code, between two of our layers, only knows its own: a refusal crosses it as a placeholder
//! `serde_json::Error` while the refusal itself waits in a [`Slot`], and the next layer up
//! takes it back. An error serde_json finds itself (the JSON text is malformed, ends early, or
//! holds a number out of range) is kept as its message, [`Refusal::Syntax`].
//!
//! Every `deserialize_*` asks serde_json for `deserialize_any`, so that serde_json never refuses
//! a value itself (it would say why only in words); for JSON this changes nothing else, since
//! its typed entry points only check the kind of the value before calling the same `visit_*`.
//! The kind the type asked for is remembered ([`Mismatch::expected`]): `deserialize_i64` is "an
//! integer" whatever its visitor says it expects. Forwarded as asked: `option` (`null` is
//! `None`), `ignored_any` (skipped unparsed), `newtype_struct`, `enum`, byte strings and 128-bit
//! integers, whose JSON forms differ; a refusal serde_json makes in those (request bodies use
//! none of them) would come back as [`Refusal::Syntax`].

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, Expected, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};
use std::cell::Cell;
use std::fmt;

/// Where a refusal waits while it crosses serde_json's code.
pub(crate) type Slot = Cell<Option<Refusal>>;

/// Why a value was refused.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The JSON text itself is at fault (syntax, end of input, a number out of range):
    /// serde_json's message, its position included.
    Syntax(String),
    /// A value of the wrong kind (`invalid_type`) or out of the type's range (`invalid_value`).
    Mismatch(Mismatch),
    /// An array of the wrong length for a type read from one (`invalid_length`).
    Length {
        /// The length found.
        len: usize,
        /// What the type's visitor expects, in its words.
        expected: String,
    },
    /// A field the type does not have.
    UnknownField {
        /// The field, as sent.
        field: String,
        /// The fields the type has.
        expected: &'static [&'static str],
    },
    /// A required field is missing.
    MissingField(&'static str),
    /// A field is given twice.
    DuplicateField(&'static str),
    /// Anything else a type refuses (`de::Error::custom`): its own message.
    Other(String),
}

/// A value of the wrong kind or range.
#[derive(Debug)]
pub(crate) struct Mismatch {
    /// What was found, as serde_json names it: `null`, `string "x"`, `integer `5``,
    /// `floating point `1.5``, `sequence`, `map`, `boolean `true``.
    pub got: String,
    /// What the type wanted: the kind its `deserialize_*` asked for, in JSON words, else its
    /// visitor's own words.
    pub expected: String,
    /// Whether `expected` is final: the layer whose visitor refused the value has seen it.
    settled: bool,
}

impl Refusal {
    /// What is wrong with the value, for a client: `must be an integer (got string "x")`.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Syntax(message) | Self::Other(message) => message.clone(),
            Self::Mismatch(Mismatch { got, expected, .. }) => {
                format!("must be {expected} (got {got})")
            }
            Self::Length { len, expected } => format!("invalid length {len}, expected {expected}"),
            Self::UnknownField { expected: [], .. } => "is not a known field".to_owned(),
            Self::UnknownField { expected, .. } => {
                format!("is not a known field (expected {})", one_of(expected))
            }
            Self::MissingField(_) => "is required".to_owned(),
            Self::DuplicateField(_) => "is given more than once".to_owned(),
        }
    }

    /// The kind the layer asked for becomes what a refusal of its own visitor expected.
    fn settle(mut self, asked: Option<&'static str>) -> Self {
        if let Self::Mismatch(mismatch) = &mut self {
            if !mismatch.settled {
                if let Some(words) = asked {
                    mismatch.expected = words.to_owned();
                }
                mismatch.settled = true;
            }
        }
        self
    }
}

/// `` `a` ``, `` `a` or `b` ``, `` one of `a`, `b`, `c` ``.
fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.as_slice() {
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        all => format!("one of {}", all.join(", ")),
    }
}

/// A value as serde_json names it in its messages (`null`, not serde's `unit value`; floating
/// point numbers written as serde_json writes them).
fn got(unexpected: Unexpected<'_>) -> String {
    match unexpected {
        Unexpected::Unit => "null".to_owned(),
        Unexpected::Float(value) => {
            let written = serde_json::Number::from_f64(value)
                .map_or_else(|| value.to_string(), |number| number.to_string());
            format!("floating point `{written}`")
        }
        other => other.to_string(),
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownField { field, .. } => write!(f, "{field} {}", self.message()),
            Self::MissingField(field) | Self::DuplicateField(field) => {
                write!(f, "{field} {}", self.message())
            }
            _ => f.write_str(&self.message()),
        }
    }
}

impl std::error::Error for Refusal {}

impl de::Error for Refusal {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::Other(message.to_string())
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::Mismatch(Mismatch {
            got: got(unexpected),
            expected: expected.to_string(),
            settled: false,
        })
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::invalid_type(unexpected, expected)
    }

    fn invalid_length(len: usize, expected: &dyn Expected) -> Self {
        Self::Length {
            len,
            expected: expected.to_string(),
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::UnknownField {
            field: field.to_owned(),
            expected,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Self::MissingField(field)
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::DuplicateField(field)
    }
}

/// The message of the placeholder that stands for a refusal inside serde_json's code.
const PLACEHOLDER: &str = "refused by the type being read (the refusal is in its slot)";

/// A refusal leaving for serde_json's code: kept in the slot, a placeholder sent instead.
fn stash<E: de::Error>(slot: &Slot, refusal: Refusal) -> E {
    slot.set(Some(refusal));
    E::custom(PLACEHOLDER)
}

/// An error back from serde_json's code: the refusal kept in the slot, else serde_json's own
/// (the JSON text is at fault).
fn unstash<E: fmt::Display>(slot: &Slot, error: E) -> Refusal {
    slot.take()
        .unwrap_or_else(|| Refusal::Syntax(error.to_string()))
}

/// A deserializer whose error is a [`Refusal`], over `de` (serde_json's, or one serde_json
/// hands a visitor).
pub(crate) struct Typed<'s, D> {
    de: D,
    slot: &'s Slot,
}

impl<'s, D> Typed<'s, D> {
    /// Reads through `de`, refusals waiting in `slot` on their way through it.
    pub(crate) fn new(de: D, slot: &'s Slot) -> Self {
        Self { de, slot }
    }

    /// `visitor` as serde_json sees it: asked for `asked` (in JSON words), when the layer asked
    /// for a kind.
    fn visitor<V>(&self, visitor: V, asked: Option<&'static str>) -> TypedVisitor<'s, V> {
        TypedVisitor {
            visitor,
            slot: self.slot,
            asked,
        }
    }
}

impl<'de, D: Deserializer<'de>> Typed<'_, D> {
    /// Reads any value, the visitor refusing what it cannot take.
    fn any<V: Visitor<'de>>(
        self,
        visitor: V,
        asked: Option<&'static str>,
    ) -> Result<V::Value, Refusal> {
        let visitor = self.visitor(visitor, asked);
        let slot = self.slot;
        self.de
            .deserialize_any(visitor)
            .map_err(|e| unstash(slot, e))
    }
}

/// `deserialize_*` methods that read any value, with the words of the kind they ask for.
macro_rules! any_of_kind {
    ($($method:ident => $asked:expr),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refusal> {
            self.any(visitor, $asked)
        }
    )*};
}

/// `deserialize_*` methods forwarded as asked.
macro_rules! forwarded {
    ($($method:ident($($arg:ident: $type:ty),*)),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(
            self,
            $($arg: $type,)*
            visitor: V,
        ) -> Result<V::Value, Refusal> {
            let visitor = self.visitor(visitor, None);
            let slot = self.slot;
            self.de
                .$method($($arg,)* visitor)
                .map_err(|e| unstash(slot, e))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Typed<'_, D> {
    type Error = Refusal;

    any_of_kind! {
        deserialize_any => None,
        deserialize_bool => Some("true or false"),
        deserialize_i8 => None,
        deserialize_i16 => None,
        deserialize_i32 => Some("an integer"),
        deserialize_i64 => Some("an integer"),
        deserialize_u8 => None,
        deserialize_u16 => None,
        deserialize_u32 => Some("a non-negative integer"),
        deserialize_u64 => Some("a non-negative integer"),
        deserialize_f32 => Some("a number"),
        deserialize_f64 => Some("a number"),
        deserialize_char => None,
        deserialize_str => None,
        deserialize_string => None,
        deserialize_unit => None,
        deserialize_seq => Some("an array"),
        deserialize_map => None,
        deserialize_identifier => None,
    }

    forwarded! {
        deserialize_i128(),
        deserialize_u128(),
        deserialize_bytes(),
        deserialize_byte_buf(),
        deserialize_option(),
        deserialize_ignored_any(),
        deserialize_newtype_struct(name: &'static str),
        deserialize_enum(name: &'static str, variants: &'static [&'static str]),
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Refusal> {
        self.any(visitor, None)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Refusal> {
        self.any(visitor, None)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Refusal> {
        self.any(visitor, None)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refusal> {
        self.any(visitor, Some("a JSON object"))
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// A visitor as serde_json sees it: what it is given is handed on with [`Typed`] layers around
/// it, and its refusals are stashed.
struct TypedVisitor<'s, V> {
    visitor: V,
    slot: &'s Slot,
    asked: Option<&'static str>,
}

impl<'s, V> TypedVisitor<'s, V> {
    /// A refusal of this layer's visitor (or from further in), on its way out.
    fn refused<E: de::Error>(slot: &Slot, asked: Option<&'static str>, refusal: Refusal) -> E {
        stash(slot, refusal.settle(asked))
    }
}

/// `visit_*` methods of one plain value, handed on as they came.
macro_rules! visit_values {
    ($($method:ident($type:ty)),* $(,)?) => {$(
        fn $method<E: de::Error>(self, value: $type) -> Result<V::Value, E> {
            let (slot, asked) = (self.slot, self.asked);
            self.visitor
                .$method(value)
                .map_err(|refusal| Self::refused(slot, asked, refusal))
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for TypedVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    visit_values! {
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        let (slot, asked) = (self.slot, self.asked);
        self.visitor
            .visit_none()
            .map_err(|refusal| Self::refused(slot, asked, refusal))
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        let (slot, asked) = (self.slot, self.asked);
        self.visitor
            .visit_unit()
            .map_err(|refusal| Self::refused(slot, asked, refusal))
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        let (slot, asked) = (self.slot, self.asked);
        self.visitor
            .visit_some(Typed::new(de, slot))
            .map_err(|refusal| Self::refused(slot, asked, refusal))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        let (slot, asked) = (self.slot, self.asked);
        self.visitor
            .visit_newtype_struct(Typed::new(de, slot))
            .map_err(|refusal| Self::refused(slot, asked, refusal))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, access: A) -> Result<V::Value, A::Error> {
        let (slot, asked) = (self.slot, self.asked);
        self.visitor
            .visit_seq(TypedAccess { access, slot })
            .map_err(|refusal| Self::refused(slot, asked, refusal))
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<V::Value, A::Error> {
        let (slot, asked) = (self.slot, self.asked);
        self.visitor
            .visit_map(TypedAccess { access, slot })
            .map_err(|refusal| Self::refused(slot, asked, refusal))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, access: A) -> Result<V::Value, A::Error> {
        let (slot, asked) = (self.slot, self.asked);
        self.visitor
            .visit_enum(TypedAccess { access, slot })
            .map_err(|refusal| Self::refused(slot, asked, refusal))
    }
}

/// An array, object or enum serde_json hands a visitor, as the visitor sees it.
struct TypedAccess<'s, A> {
    access: A,
    slot: &'s Slot,
}

/// A seed as serde_json sees it: the deserializer it is given gets a [`Typed`] layer.
struct TypedSeed<'s, S> {
    seed: S,
    slot: &'s Slot,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for TypedSeed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        let slot = self.slot;
        self.seed
            .deserialize(Typed::new(de, slot))
            .map_err(|refusal| stash(slot, refusal))
    }
}

impl<'s, A> TypedAccess<'s, A> {
    fn seed<S>(&self, seed: S) -> TypedSeed<'s, S> {
        TypedSeed {
            seed,
            slot: self.slot,
        }
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for TypedAccess<'_, A> {
    type Error = Refusal;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Refusal> {
        let seed = self.seed(seed);
        self.access
            .next_element_seed(seed)
            .map_err(|e| unstash(self.slot, e))
    }

    fn size_hint(&self) -> Option<usize> {
        self.access.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TypedAccess<'_, A> {
    type Error = Refusal;

    fn next_key_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Refusal> {
        let seed = self.seed(seed);
        self.access
            .next_key_seed(seed)
            .map_err(|e| unstash(self.slot, e))
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Refusal> {
        let seed = self.seed(seed);
        self.access
            .next_value_seed(seed)
            .map_err(|e| unstash(self.slot, e))
    }

    fn size_hint(&self) -> Option<usize> {
        self.access.size_hint()
    }
}

impl<'de, 's, A: EnumAccess<'de>> EnumAccess<'de> for TypedAccess<'s, A> {
    type Error = Refusal;
    type Variant = TypedAccess<'s, A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), Refusal> {
        let slot = self.slot;
        let seed = self.seed(seed);
        self.access
            .variant_seed(seed)
            .map(|(value, access)| (value, TypedAccess { access, slot }))
            .map_err(|e| unstash(slot, e))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for TypedAccess<'_, A> {
    type Error = Refusal;

    fn unit_variant(self) -> Result<(), Refusal> {
        let slot = self.slot;
        self.access.unit_variant().map_err(|e| unstash(slot, e))
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Refusal> {
        let slot = self.slot;
        let seed = self.seed(seed);
        self.access
            .newtype_variant_seed(seed)
            .map_err(|e| unstash(slot, e))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Refusal> {
        let slot = self.slot;
        let visitor = TypedVisitor {
            visitor,
            slot,
            asked: None,
        };
        self.access
            .tuple_variant(len, visitor)
            .map_err(|e| unstash(slot, e))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refusal> {
        let slot = self.slot;
        let visitor = TypedVisitor {
            visitor,
            slot,
            asked: None,
        };
        self.access
            .struct_variant(fields, visitor)
            .map_err(|e| unstash(slot, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::{Deserialize, Error as _, IgnoredAny};

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // Read only to be refused.
    struct Body {
        count: i64,
        names: Vec<String>,
    }

    fn refusal(json: &str) -> Refusal {
        let mut de = serde_json::Deserializer::from_str(json);
        let slot = Slot::default();
        match Body::deserialize(Typed::new(&mut de, &slot)) {
            Ok(body) => panic!("{json} was read: {body:?}"),
            Err(refusal) => refusal,
        }
    }

    #[test]
    fn refusals_keep_what_the_type_was_given() {
        let Refusal::Mismatch(m) = refusal(r#"{"count": 1, "names": ["a", 5]}"#) else {
            panic!("not a mismatch");
        };
        assert_eq!(
            (m.got.as_str(), m.expected.as_str()),
            ("integer `5`", "a string")
        );
        let Refusal::Mismatch(m) = refusal(r#"{"count": "x", "names": []}"#) else {
            panic!("not a mismatch");
        };
        assert_eq!(
            (m.got.as_str(), m.expected.as_str()),
            (r#"string "x""#, "an integer")
        );
        assert!(matches!(
            refusal(r#"{"count": 1, "names": [], "extra": 1}"#),
            Refusal::UnknownField { field, expected: ["count", "names"] } if field == "extra"
        ));
        assert!(matches!(
            refusal(r#"{"names": []}"#),
            Refusal::MissingField("count")
        ));
        assert!(matches!(
            refusal(r#"{"count": 1, "count": 2}"#),
            Refusal::DuplicateField("count")
        ));
    }

    #[test]
    fn errors_of_the_json_text_keep_serde_jsons_message() {
        for json in [
            r#"{"count": 1, "names": ["a" "b"]}"#,
            r#"{"count": 1e400}"#,
            r#"{"count"#,
        ] {
            let ours = match refusal(json) {
                Refusal::Syntax(message) => message,
                other => panic!("{json}: {other:?}"),
            };
            let theirs = serde_json::from_str::<serde_json::Value>(json).unwrap_err();
            assert_eq!(ours, theirs.to_string(), "{json}");
        }
        // Nothing is left in the slot for the next body.
        let slot = Slot::default();
        let mut de = serde_json::Deserializer::from_str("[1");
        assert!(IgnoredAny::deserialize(Typed::new(&mut de, &slot)).is_err());
        assert!(slot.take().is_none());
    }

    #[test]
    fn values_are_named_as_serde_json_names_them() {
        for value in [1.5, 1e300, 25_000.0, -9.223_372_036_854_776e18, 0.1] {
            let unexpected = Unexpected::Float(value);
            let theirs = serde_json::Error::invalid_type(unexpected, &"x").to_string();
            assert_eq!(
                theirs,
                format!("invalid type: {}, expected x", got(unexpected))
            );
        }
        assert_eq!(got(Unexpected::Unit), "null");
        assert_eq!(got(Unexpected::Str("a\"b")), r#"string "a\"b""#);
    }

    #[test]
    fn the_fields_a_type_has_are_listed_as_serde_lists_them() {
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b"]), "`a` or `b`");
        assert_eq!(one_of(&["a", "b", "c"]), "one of `a`, `b`, `c`");
    }
}

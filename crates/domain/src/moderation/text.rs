//! The texts of moderation a client writes: a flag's explanation, a decision's rule and
//! statement, an appeal's explanation, a provider's reply. Each follows the Text rule as a
//! comment does (control characters refused on the text as sent, then trimmed) and must hold
//! 1 to its maximum of characters; prose may hold tab, line feed and carriage return, a rule
//! may not.

use crate::error::ValueError;
use crate::values::{trimmed_allowing, Comment};
use std::fmt;

macro_rules! text_type {
    ($(#[$meta:meta])* $name:ident, $max:expr, $allowed:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Longest text allowed, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Checks `raw` as sent holds no control character (U+0000..=U+001F, U+007F) but
            /// the ones this text allows, then trims it and checks it holds 1..=`MAX_CHARS`
            /// characters.
            ///
            /// # Errors
            /// [`ValueError::ControlCharacter`], [`ValueError::Empty`] or
            /// [`ValueError::TooLong`].
            pub fn new(raw: &str) -> Result<Self, ValueError> {
                trimmed_allowing(raw, Self::MAX_CHARS, $allowed).map(Self)
            }

            /// The text as kept (trimmed).
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// Why a user flags a review: 1..=1000 characters; may hold tab, line feed and carriage
    /// return.
    FlagExplanation,
    1000,
    &Comment::ALLOWED_CONTROLS
);
text_type!(
    /// The policy rule a moderator applied: 1..=100 characters on one line (no control
    /// character at all).
    DecisionRule,
    100,
    &[]
);
text_type!(
    /// A moderator's statement of reasons, shown to the author: 1..=2000 characters; may hold
    /// tab, line feed and carriage return.
    Statement,
    2000,
    &Comment::ALLOWED_CONTROLS
);
text_type!(
    /// Why the author contests the decision that hid their review: 1..=2000 characters; may
    /// hold tab, line feed and carriage return.
    AppealExplanation,
    2000,
    &Comment::ALLOWED_CONTROLS
);
text_type!(
    /// A provider's reply to a review: 1..=2000 characters; may hold tab, line feed and
    /// carriage return.
    ReplyText,
    2000,
    &Comment::ALLOWED_CONTROLS
);

//! Validated values: each constructor refuses what docs/API.md refuses, so an instance is always
//! valid.

use crate::error::ValueError;
use std::fmt;

/// The Text rule of docs/API.md: text a client sends holds no C0 control character
/// (U+0000..=U+001F) and no U+007F, except the ones in `allowed` (a comment allows tab, line
/// feed and carriage return).
///
/// It reads `raw` as sent, before any trimming. Tab, line feed and carriage return are both
/// white space and control characters, so checking after trimming would accept `"\tBob"` as
/// `"Bob"` but refuse `"Bo\tb"`: whether a control character is refused would depend on where
/// it sits. Checking the raw text refuses both, says exactly what the client sent wrong, and
/// lets nothing a store could choke on (PostgreSQL refuses U+0000 in text) past the domain.
pub(crate) fn refuse_control_characters(raw: &str, allowed: &[char]) -> Result<(), ValueError> {
    match raw
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_ascii_control() && !allowed.contains(c))
    {
        Some((index, character)) => Err(ValueError::ControlCharacter {
            character,
            position: index + 1,
        }),
        None => Ok(()),
    }
}

/// Checks `raw` holds no control character, trims it and checks its length (in Unicode scalar
/// values) is `1..=max`.
fn trimmed(raw: &str, max: usize) -> Result<String, ValueError> {
    trimmed_allowing(raw, max, &[])
}

/// [`trimmed`], allowing the control characters in `allowed` (prose may hold tab, line feed and
/// carriage return).
pub(crate) fn trimmed_allowing(
    raw: &str,
    max: usize,
    allowed: &[char],
) -> Result<String, ValueError> {
    refuse_control_characters(raw, allowed)?;
    let text = raw.trim();
    let len = text.chars().count();
    if len == 0 {
        Err(ValueError::Empty)
    } else if len > max {
        Err(ValueError::TooLong { max, actual: len })
    } else {
        Ok(text.to_owned())
    }
}

/// A provider's display name: no control characters, trimmed, 1..=200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProviderName(String);

impl ProviderName {
    /// Longest name allowed, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Checks `raw` as sent holds no control character (U+0000..=U+001F, U+007F; white space
    /// such as a leading tab included), then trims it and checks its length.
    ///
    /// # Errors
    /// [`ValueError::ControlCharacter`], [`ValueError::Empty`] or [`ValueError::TooLong`].
    pub fn new(raw: &str) -> Result<Self, ValueError> {
        trimmed(raw, Self::MAX_CHARS).map(Self)
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key that case-insensitive name search matches against (lower case).
    pub fn search_key(&self) -> String {
        fold_case(&self.0)
    }
}

impl fmt::Display for ProviderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The one case folding used everywhere a comparison is case-insensitive (skills, name search),
/// so that every store agrees: Unicode lower case, as Rust's `str::to_lowercase` defines it.
pub fn fold_case(text: &str) -> String {
    text.to_lowercase()
}

/// One skill as its provider spelled it: no control characters, trimmed, 1..=100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Skill {
    spelling: String,
    key: String,
}

impl Skill {
    /// Longest skill allowed, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Checks `raw` as sent holds no control character (U+0000..=U+001F, U+007F; white space
    /// such as a leading tab included), then trims it and checks its length.
    ///
    /// # Errors
    /// [`ValueError::ControlCharacter`], [`ValueError::Empty`] or [`ValueError::TooLong`].
    pub fn new(raw: &str) -> Result<Self, ValueError> {
        let spelling = trimmed(raw, Self::MAX_CHARS)?;
        let key = fold_case(&spelling);
        Ok(Self { spelling, key })
    }

    /// The skill as spelled by whoever gave it.
    pub fn as_str(&self) -> &str {
        &self.spelling
    }

    /// The case-folded key two skills are compared by.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for Skill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spelling)
    }
}

/// A set of skills: no two with the same key; the first spelling and the given order are kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Skills(Vec<Skill>);

impl Skills {
    /// Most entries a provider's skill list may have.
    pub const MAX_ENTRIES: usize = 50;

    /// Builds the set, dropping later case-insensitive duplicates. The entry count limit is
    /// checked by whoever builds the list from input (it counts entries as given).
    pub fn from_skills(skills: impl IntoIterator<Item = Skill>) -> Self {
        let mut kept: Vec<Skill> = Vec::new();
        for skill in skills {
            if !kept.iter().any(|k| k.key == skill.key) {
                kept.push(skill);
            }
        }
        Self(kept)
    }

    /// The skills, in order.
    pub fn as_slice(&self) -> &[Skill] {
        &self.0
    }

    /// Iterates the skills in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Skill> {
        self.0.iter()
    }

    /// Number of distinct skills.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no skills.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when one of the skills has this key.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|s| s.key == key)
    }
}

impl<'a> IntoIterator for &'a Skills {
    type Item = &'a Skill;
    type IntoIter = std::slice::Iter<'a, Skill>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A day rate in pence: `0..=100_000_000_000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DayRate(i64);

impl DayRate {
    /// Highest day rate allowed, in pence (one billion pounds).
    pub const MAX_PENCE: i64 = 100_000_000_000;

    /// Checks the range.
    ///
    /// # Errors
    /// [`ValueError::OutOfRange`] outside `0..=100_000_000_000`.
    pub fn new(pence: i64) -> Result<Self, ValueError> {
        if (0..=Self::MAX_PENCE).contains(&pence) {
            Ok(Self(pence))
        } else {
            Err(ValueError::OutOfRange {
                min: "0".into(),
                max: Self::MAX_PENCE.to_string(),
            })
        }
    }

    /// The rate in pence.
    pub const fn pence(self) -> i64 {
        self.0
    }
}

/// A review rating: 0.0..=5.0 in steps of 0.1, held exactly as a whole number of tenths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rating(u8);

impl Rating {
    /// Highest rating, in tenths.
    pub const MAX_TENTHS: u8 = 50;

    /// From a decimal such as `4.5`. Anything not within a billionth of a tenth is refused, so
    /// `4.55` is refused while the binary rounding of `0.3` is accepted.
    ///
    /// # Errors
    /// [`ValueError::OutOfRange`] outside 0..=5 (or not finite), [`ValueError::NotTenths`].
    pub fn from_f64(value: f64) -> Result<Self, ValueError> {
        if !value.is_finite() || !(0.0..=5.0).contains(&value) {
            return Err(ValueError::OutOfRange {
                min: "0".into(),
                max: "5".into(),
            });
        }
        let tenths = value * 10.0;
        let rounded = tenths.round();
        if (tenths - rounded).abs() > 1e-9 {
            return Err(ValueError::NotTenths);
        }
        // In range and whole: 0.0..=50.0, so the cast is exact.
        Self::from_tenths(rounded as u8)
    }

    /// From a whole number of tenths (`45` is 4.5).
    ///
    /// # Errors
    /// [`ValueError::OutOfRange`] above 50.
    pub fn from_tenths(tenths: u8) -> Result<Self, ValueError> {
        if tenths <= Self::MAX_TENTHS {
            Ok(Self(tenths))
        } else {
            Err(ValueError::OutOfRange {
                min: "0".into(),
                max: "5".into(),
            })
        }
    }

    /// The rating in tenths.
    pub const fn tenths(self) -> u8 {
        self.0
    }

    /// The rating as a decimal (`4.5`).
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

/// A bound on a rating mean given by a client (search's `reviews_gt`/`reviews_lt`, recommend's
/// `minimum_review_rating`): any finite number in `0..=5`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct RatingBound(f64);

impl RatingBound {
    /// The lowest bound, 0.
    pub const MIN: Self = Self(0.0);
    /// The highest bound, 5.
    pub const MAX: Self = Self(5.0);

    /// Checks the range.
    ///
    /// # Errors
    /// [`ValueError::OutOfRange`] outside 0..=5 or not finite.
    pub fn new(value: f64) -> Result<Self, ValueError> {
        if value.is_finite() && (0.0..=5.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(ValueError::OutOfRange {
                min: "0".into(),
                max: "5".into(),
            })
        }
    }

    /// The bound.
    pub const fn value(self) -> f64 {
        self.0
    }
}

/// A review's comment: no control characters but tab, line feed and carriage return; trimmed,
/// at most 2000 characters (may be empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Comment(String);

impl Comment {
    /// Longest comment allowed, in characters.
    pub const MAX_CHARS: usize = 2000;

    /// Control characters a comment may hold: tab, line feed and carriage return.
    pub const ALLOWED_CONTROLS: [char; 3] = ['\t', '\n', '\r'];

    /// Checks `raw` as sent holds no control character (U+0000..=U+001F, U+007F) other than
    /// [`Self::ALLOWED_CONTROLS`], then trims it and checks its length.
    ///
    /// # Errors
    /// [`ValueError::ControlCharacter`] or [`ValueError::TooLong`].
    pub fn new(raw: &str) -> Result<Self, ValueError> {
        refuse_control_characters(raw, &Self::ALLOWED_CONTROLS)?;
        let text = raw.trim();
        let len = text.chars().count();
        if len > Self::MAX_CHARS {
            Err(ValueError::TooLong {
                max: Self::MAX_CHARS,
                actual: len,
            })
        } else {
            Ok(Self(text.to_owned()))
        }
    }

    /// The comment as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

//! Validation errors: what is wrong with one value, and where in a request it sits.

use std::fmt;

/// Why a single value was refused. Its `Display` is one readable sentence fragment, suitable for
/// the `message` of an API error detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// A required field was not given.
    #[error("is required")]
    Required,
    /// Text holding a control character the Text rule refuses (U+0000..=U+001F or U+007F; a
    /// review comment may hold tab, line feed and carriage return). Checked on the text as sent,
    /// before trimming.
    #[error(
        "must not contain control characters (found U+{:04X} at character {position})",
        u32::from(*character)
    )]
    ControlCharacter {
        /// The first refused character found.
        character: char,
        /// Where it sits in the text as sent, counted in characters from 1.
        position: usize,
    },
    /// Empty after trimming surrounding white space.
    #[error("must not be empty")]
    Empty,
    /// Longer than allowed, counted in Unicode scalar values after trimming.
    #[error("must be at most {max} characters (got {actual})")]
    TooLong {
        /// The largest length allowed.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// A list with more entries than allowed.
    #[error("must have at most {max} entries (got {actual})")]
    TooMany {
        /// The largest number of entries allowed.
        max: usize,
        /// The number of entries given.
        actual: usize,
    },
    /// A list with fewer entries than required.
    #[error("must have at least {min} entries")]
    TooFew {
        /// The smallest number of entries allowed.
        min: usize,
    },
    /// A number outside its allowed interval (inclusive at both ends).
    #[error("must be between {min} and {max}")]
    OutOfRange {
        /// The smallest value allowed, as text.
        min: String,
        /// The largest value allowed, as text.
        max: String,
    },
    /// A number below its allowed minimum.
    #[error("must be at least {min}")]
    TooSmall {
        /// The smallest value allowed, as text.
        min: String,
    },
    /// A rating that is not a whole number of tenths (4.5 is fine, 4.55 is not).
    #[error("must be a multiple of 0.1")]
    NotTenths,
    /// A date before 1900-01-01 or after 9999-12-31.
    #[error("must be between 1900-01-01 and 9999-12-31")]
    DateOutOfRange,
    /// Text that is not an ISO-8601 calendar date (`YYYY-MM-DD`).
    #[error("must be a calendar date written YYYY-MM-DD")]
    NotADate,
    /// A date range whose start comes after its end.
    #[error("from_date must not be after to_date")]
    Inverted,
    /// Two availability ranges share at least one day.
    #[error("overlaps availability[{other}] (ranges may touch but not overlap)")]
    Overlaps {
        /// Index (as given) of the range it overlaps.
        other: usize,
    },
    /// A lower bound that is not below its upper bound.
    #[error("must be less than {other}")]
    NotBelow {
        /// Name of the field it must be below.
        other: &'static str,
    },
    /// A lower bound that is above its upper bound.
    #[error("must not be greater than {other}")]
    Above {
        /// Name of the field it must not exceed.
        other: &'static str,
    },
    /// A job window too short to ever hold the job.
    #[error("is {days} days long, shorter than the job ({duration} days)")]
    WindowShorterThanJob {
        /// Length of the window in days.
        days: i64,
        /// The expected job duration in days.
        duration: i64,
    },
    /// A per-skill rating of a skill the provider does not have (now).
    #[error("is not one of the service provider's skills")]
    NotASkillOfTheProvider,
    /// A per-skill rating of a skill an earlier entry already rates (case-insensitive).
    #[error("rates the same skill as skill_ratings[{first}]")]
    RatedTwice {
        /// Index of the earlier entry rating the same skill.
        first: usize,
    },
    /// Text that is not one of a fixed set of names.
    #[error("must be one of {}", .allowed.join(", "))]
    NotOneOf {
        /// The names allowed.
        allowed: Vec<&'static str>,
    },
    /// A cursor that cannot be used for this request.
    #[error("{0}")]
    Cursor(CursorError),
    /// A value that may not be given together with another one.
    #[error("must not be given together with {other}")]
    Exclusive {
        /// The other value's name.
        other: &'static str,
    },
}

/// Why a cursor cannot be used for a request. Its `Display` is a sentence fragment about the
/// `cursor` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CursorError {
    /// Not a cursor this service made, or changed since (its integrity check fails, or its
    /// bytes do not decode).
    #[error("is not a cursor this service gave out, or was changed")]
    Damaged,
    /// Made by a version of the encoding this release does not read.
    #[error("was made by another version of the service and can no longer be used")]
    UnknownVersion,
    /// Made for another kind of list (a review list's cursor given to search, say).
    #[error("was made for another list")]
    OtherList,
    /// Made for another filter, or for another provider's reviews.
    #[error("was made for another search or another provider")]
    OtherScope,
    /// Made for the same filter in another order.
    #[error("was made for another sort order")]
    OtherSort,
}

/// One field at fault: a path such as `availability[1].to_date` and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field in the request body, e.g. `skills[3]` or `availability[1].to_date`.
    pub field: String,
    /// What is wrong with it.
    pub error: ValueError,
}

impl FieldError {
    /// A field error at `field`.
    pub fn new(field: impl Into<String>, error: ValueError) -> Self {
        Self {
            field: field.into(),
            error,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.error)
    }
}

/// Input refused: every field at fault, in the order found. Never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the request has {} invalid field(s): {}", .0.len(), join(.0))]
pub struct ValidationError(pub Vec<FieldError>);

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ValidationError {
    /// One field at fault.
    pub fn single(field: impl Into<String>, error: ValueError) -> Self {
        Self(vec![FieldError::new(field, error)])
    }

    /// The fields at fault.
    pub fn fields(&self) -> &[FieldError] {
        &self.0
    }
}

/// Collects field errors while a composite value is being checked.
#[derive(Debug, Default)]
pub(crate) struct Collector(Vec<FieldError>);

impl Collector {
    /// Keeps `Ok` values, records an error against `field` otherwise.
    pub(crate) fn check<T>(
        &mut self,
        field: impl FnOnce() -> String,
        result: Result<T, ValueError>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(FieldError::new(field(), error));
                None
            }
        }
    }

    pub(crate) fn push(&mut self, field: impl Into<String>, error: ValueError) {
        self.0.push(FieldError::new(field, error));
    }

    pub(crate) fn extend(&mut self, errors: ValidationError) {
        self.0.extend(errors.0);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Err` with everything collected, or `Ok(value())` when nothing was.
    pub(crate) fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, ValidationError> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(ValidationError(self.0))
        }
    }
}

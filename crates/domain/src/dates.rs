//! Calendar dates, inclusive date ranges and availability: the day arithmetic of the API.

use crate::error::{ValidationError, ValueError};
use std::cmp::Ordering;
use time::{macros::date, Date};

/// The earliest date the API accepts.
pub const MIN_DATE: Date = date!(1900 - 01 - 01);
/// The latest date the API accepts.
pub const MAX_DATE: Date = date!(9999 - 12 - 31);

/// Parses an ISO-8601 calendar date (`2027-03-01`) within [`MIN_DATE`]`..=`[`MAX_DATE`].
///
/// # Errors
/// [`ValueError::NotADate`] for anything but `YYYY-MM-DD` naming a real day (`2027-02-29` is
/// refused, `2028-02-29` accepted); [`ValueError::DateOutOfRange`] outside the allowed years.
pub fn parse_date(text: &str) -> Result<Date, ValueError> {
    let format = time::macros::format_description!("[year repr:full sign:automatic]-[month]-[day]");
    // `[year]` would take more than four digits; insist on exactly YYYY-MM-DD.
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return Err(ValueError::NotADate);
    }
    let day = Date::parse(text, format).map_err(|_| ValueError::NotADate)?;
    check_date(day)
}

/// Checks a date is within [`MIN_DATE`]`..=`[`MAX_DATE`].
///
/// # Errors
/// [`ValueError::DateOutOfRange`].
pub fn check_date(day: Date) -> Result<Date, ValueError> {
    if (MIN_DATE..=MAX_DATE).contains(&day) {
        Ok(day)
    } else {
        Err(ValueError::DateOutOfRange)
    }
}

/// A range of days, inclusive at both ends: `from == to` is one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateRange {
    from: Date,
    to: Date,
}

impl DateRange {
    /// A range from `from` to `to`, both included.
    ///
    /// # Errors
    /// [`ValueError::DateOutOfRange`] if either end is outside the allowed years,
    /// [`ValueError::Inverted`] if `from > to`.
    pub fn new(from: Date, to: Date) -> Result<Self, ValueError> {
        check_date(from)?;
        check_date(to)?;
        if from > to {
            return Err(ValueError::Inverted);
        }
        Ok(Self { from, to })
    }

    /// Parses both ends, reporting errors at `<field>.from_date` / `<field>.to_date`.
    ///
    /// # Errors
    /// A [`ValidationError`] naming the fields at fault.
    pub fn parse(field: &str, from: &str, to: &str) -> Result<Self, ValidationError> {
        let from = parse_date(from).map_err(|e| (format!("{field}.from_date"), e));
        let to = parse_date(to).map_err(|e| (format!("{field}.to_date"), e));
        match (from, to) {
            (Ok(from), Ok(to)) => Self::new(from, to)
                .map_err(|e| ValidationError::single(format!("{field}.to_date"), e)),
            (from, to) => Err(ValidationError(
                [from.err(), to.err()]
                    .into_iter()
                    .flatten()
                    .map(|(f, e)| crate::FieldError::new(f, e))
                    .collect(),
            )),
        }
    }

    /// First day.
    pub const fn from(&self) -> Date {
        self.from
    }

    /// Last day.
    pub const fn to(&self) -> Date {
        self.to
    }

    /// Number of days in the range (at least 1).
    pub fn days(&self) -> i64 {
        (self.to - self.from).whole_days() + 1
    }

    /// True when the two ranges share at least one day.
    pub fn overlaps(&self, other: &Self) -> bool {
        self.from <= other.to && other.from <= self.to
    }

    /// The days both ranges share, if any.
    pub fn intersection(&self, other: &Self) -> Option<Self> {
        let from = self.from.max(other.from);
        let to = self.to.min(other.to);
        (from <= to).then_some(Self { from, to })
    }

    /// True when `other` starts on the day after this range ends, or they overlap: the two
    /// form one unbroken run of days.
    fn joins(&self, other: &Self) -> bool {
        self.overlaps(other) || self.to.next_day() == Some(other.from)
    }
}

impl PartialOrd for DateRange {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DateRange {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.from, self.to).cmp(&(other.from, other.to))
    }
}

/// When a provider is available: ranges sorted by `from_date`, no two sharing a day (touching,
/// i.e. one ending the day before the next starts, is allowed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Availability(Vec<DateRange>);

impl Availability {
    /// Most ranges a provider may list.
    pub const MAX_RANGES: usize = 100;

    /// Sorts the ranges and checks none overlap. The entry count limit is checked by whoever
    /// builds the list from input.
    ///
    /// # Errors
    /// [`ValueError::Overlaps`] for the later of two overlapping ranges, as a pair
    /// `(index given, error)`, where `other` is the index given of the range it overlaps.
    pub fn new(ranges: Vec<DateRange>) -> Result<Self, (usize, ValueError)> {
        let mut indexed: Vec<(usize, DateRange)> = ranges.into_iter().enumerate().collect();
        indexed.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        // Sorted by start: a range overlaps some earlier one iff it starts on or before the
        // furthest end seen so far.
        let mut furthest: Option<(usize, Date)> = None;
        for &(index, range) in &indexed {
            if let Some((other, end)) = furthest {
                if range.from <= end {
                    let (first, second) = (index.min(other), index.max(other));
                    return Err((second, ValueError::Overlaps { other: first }));
                }
            }
            if furthest.is_none_or(|(_, end)| range.to > end) {
                furthest = Some((index, range.to));
            }
        }
        Ok(Self(indexed.into_iter().map(|(_, r)| r).collect()))
    }

    /// The ranges, sorted by start.
    pub fn ranges(&self) -> &[DateRange] {
        &self.0
    }

    /// True when no range is listed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Unbroken runs of available days: touching ranges joined, sorted, never touching.
    pub fn runs(&self) -> Vec<DateRange> {
        let mut runs: Vec<DateRange> = Vec::with_capacity(self.0.len());
        for range in &self.0 {
            match runs.last_mut() {
                Some(last) if last.joins(range) => last.to = last.to.max(range.to),
                _ => runs.push(*range),
            }
        }
        runs
    }

    /// True when at least one available day falls inside `window`.
    pub fn has_day_in(&self, window: &DateRange) -> bool {
        self.0.iter().any(|r| r.overlaps(window))
    }

    /// The longest run of consecutive available days inside `window` (0 when none).
    pub fn longest_run_within(&self, window: &DateRange) -> i64 {
        self.runs()
            .iter()
            .filter_map(|run| run.intersection(window))
            .map(|r| r.days())
            .max()
            .unwrap_or(0)
    }
}

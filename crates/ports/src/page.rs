//! Paging of lists.

use provider_domain::{FieldError, ValidationError, ValueError};

/// A page of a list: `number >= 1`, `1 <= size <= 100`, `number * size <= 10_000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    number: u32,
    size: u32,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            number: Self::DEFAULT_NUMBER,
            size: Self::DEFAULT_SIZE,
        }
    }
}

impl Page {
    /// Page number when none is given.
    pub const DEFAULT_NUMBER: u32 = 1;
    /// Page size when none is given.
    pub const DEFAULT_SIZE: u32 = 10;
    /// Largest page size.
    pub const MAX_SIZE: u32 = 100;
    /// Deepest item reachable: `number * size` may not exceed it.
    pub const MAX_DEPTH: u64 = 10_000;

    /// Checks the paging parameters (defaults 1 and 10 for those not given).
    ///
    /// # Errors
    /// A [`ValidationError`] on `page` and/or `page_size`.
    pub fn new(number: Option<i64>, size: Option<i64>) -> Result<Self, ValidationError> {
        let number = number.unwrap_or(i64::from(Self::DEFAULT_NUMBER));
        let size = size.unwrap_or(i64::from(Self::DEFAULT_SIZE));
        let mut errors = Vec::new();
        if number < 1 {
            errors.push(FieldError::new(
                "page",
                ValueError::TooSmall { min: "1".into() },
            ));
        }
        if !(1..=i64::from(Self::MAX_SIZE)).contains(&size) {
            errors.push(FieldError::new(
                "page_size",
                ValueError::OutOfRange {
                    min: "1".into(),
                    max: Self::MAX_SIZE.to_string(),
                },
            ));
        }
        if errors.is_empty() && number.saturating_mul(size) > Self::MAX_DEPTH as i64 {
            errors.push(FieldError::new(
                "page",
                ValueError::OutOfRange {
                    min: "1".into(),
                    max: (Self::MAX_DEPTH as i64 / size).to_string(),
                },
            ));
        }
        if errors.is_empty() {
            // Both checked above: number <= 10_000 and size <= 100.
            Ok(Self {
                number: number as u32,
                size: size as u32,
            })
        } else {
            Err(ValidationError(errors))
        }
    }

    /// Page number, from 1.
    pub fn number(&self) -> u32 {
        self.number
    }

    /// Items per page.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Items before this page.
    pub fn offset(&self) -> usize {
        (self.number as usize - 1) * self.size as usize
    }

    /// Takes this page out of an already ordered list of all matches.
    pub fn slice<T>(&self, all: Vec<T>) -> PageOf<T> {
        let has_more = all.len() > self.offset() + self.size as usize;
        PageOf {
            items: all
                .into_iter()
                .skip(self.offset())
                .take(self.size as usize)
                .collect(),
            has_more,
        }
    }
}

/// One page of a list, and whether more follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOf<T> {
    /// The items on this page, in list order.
    pub items: Vec<T>,
    /// True when later pages hold more items.
    pub has_more: bool,
}

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

/// Where a page of a list begins: a page number, or just after one item of the list (the key
/// a cursor carries, in the list's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging<K> {
    /// Page `number` of `size` items (capped in depth, see [`Page`]).
    Offset(Page),
    /// The `size` items following the item whose key is `key`, at any depth.
    After {
        /// The key of the last item already shown.
        key: K,
        /// Items per page, `1..=100`.
        size: u32,
    },
}

impl<K> Paging<K> {
    /// Items per page.
    pub fn size(&self) -> u32 {
        match self {
            Self::Offset(page) => page.size(),
            Self::After { size, .. } => *size,
        }
    }

    /// Items of the list (or of what follows the key) passed over before this page.
    pub fn offset(&self) -> usize {
        match self {
            Self::Offset(page) => page.offset(),
            Self::After { .. } => 0,
        }
    }
}

/// How many items a list holds, counted up to [`Total::LIMIT`] (as search engines bound it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    /// The count, at most [`Total::LIMIT`].
    pub value: u64,
    /// True when `value` is the exact count; false when there are more than [`Total::LIMIT`]
    /// (then `value` is [`Total::LIMIT`]).
    pub exact: bool,
}

impl Total {
    /// The largest count given exactly.
    pub const LIMIT: u64 = 10_000;

    /// The total from a count that stopped at `LIMIT + 1`.
    pub fn counted(count: u64) -> Self {
        if count > Self::LIMIT {
            Self {
                value: Self::LIMIT,
                exact: false,
            }
        } else {
            Self {
                value: count,
                exact: true,
            }
        }
    }
}

/// A page of a search, with the total when it was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<T> {
    /// The page.
    pub page: PageOf<T>,
    /// The number of matches (see [`Total`]), when asked for.
    pub total: Option<Total>,
}

/// How a client asked for a page of a list, before checking: `?page=&page_size=&cursor=`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRequest {
    /// Page number (offset paging).
    pub page: Option<i64>,
    /// Items per page.
    pub page_size: Option<i64>,
    /// A `next_cursor` of an earlier page (cursor paging).
    pub cursor: Option<String>,
}

/// A checked [`ListRequest`]: a page number, or a cursor still to be opened for its list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListAt {
    /// Offset paging.
    Page(Page),
    /// The page after the cursor `token`, of `size` items.
    Cursor {
        /// The cursor as the client sent it.
        token: String,
        /// Items per page.
        size: u32,
    },
}

impl ListRequest {
    /// Checks the request: with a cursor, `page` may not be given (422 on `cursor`) and
    /// `page_size` is `1..=100` with no depth limit; without, as [`Page::new`].
    ///
    /// # Errors
    /// A [`ValidationError`] on `page`, `page_size` and/or `cursor`.
    pub fn parse(&self) -> Result<ListAt, ValidationError> {
        let Some(token) = &self.cursor else {
            return Page::new(self.page, self.page_size).map(ListAt::Page);
        };
        let mut errors = Vec::new();
        if self.page.is_some() {
            errors.push(FieldError::new(
                "cursor",
                ValueError::Exclusive { other: "page" },
            ));
        }
        let size = self.page_size.unwrap_or(i64::from(Page::DEFAULT_SIZE));
        if !(1..=i64::from(Page::MAX_SIZE)).contains(&size) {
            errors.push(FieldError::new(
                "page_size",
                ValueError::OutOfRange {
                    min: "1".into(),
                    max: Page::MAX_SIZE.to_string(),
                },
            ));
        }
        if errors.is_empty() {
            Ok(ListAt::Cursor {
                token: token.clone(),
                // Checked above: 1..=100.
                size: size as u32,
            })
        } else {
            Err(ValidationError(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_past_the_limit_is_a_lower_bound() {
        assert_eq!(
            Total::counted(0),
            Total {
                value: 0,
                exact: true
            }
        );
        assert_eq!(
            Total::counted(10_000),
            Total {
                value: 10_000,
                exact: true
            }
        );
        assert_eq!(
            Total::counted(10_001),
            Total {
                value: 10_000,
                exact: false
            }
        );
    }

    fn fields(e: ValidationError) -> Vec<String> {
        e.0.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn a_cursor_takes_a_page_size_but_no_page_and_has_no_depth_limit() {
        let with = |page, page_size| ListRequest {
            page,
            page_size,
            cursor: Some("c".into()),
        };
        assert_eq!(
            with(None, None).parse(),
            Ok(ListAt::Cursor {
                token: "c".into(),
                size: 10
            })
        );
        assert_eq!(
            with(None, Some(100)).parse(),
            Ok(ListAt::Cursor {
                token: "c".into(),
                size: 100
            })
        );
        assert_eq!(fields(with(Some(1), None).parse().unwrap_err()), ["cursor"]);
        assert_eq!(
            fields(with(Some(1), Some(0)).parse().unwrap_err()),
            ["cursor", "page_size"]
        );
        assert_eq!(
            fields(with(None, Some(101)).parse().unwrap_err()),
            ["page_size"]
        );
        let message = with(Some(2), None).parse().unwrap_err().0[0]
            .error
            .to_string();
        assert_eq!(message, "must not be given together with page");
        assert_eq!(
            ListRequest {
                page: Some(3),
                page_size: Some(5),
                cursor: None
            }
            .parse(),
            Ok(ListAt::Page(Page::new(Some(3), Some(5)).unwrap()))
        );
        assert_eq!(
            fields(
                ListRequest {
                    page: Some(101),
                    page_size: Some(100),
                    cursor: None
                }
                .parse()
                .unwrap_err()
            ),
            ["page"]
        );
    }
}

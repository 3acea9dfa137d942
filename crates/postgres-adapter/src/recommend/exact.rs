//! Recommend's walk of the skill postings: when the first page found from a prefix of each
//! requested skill's postings is provably the true first page.
//!
//! Each requested skill `i` has its postings (providers with that skill, within budget and
//! meeting the minimum rating: each posting carries its provider's day rate and review stats)
//! in descending day-rate order (`provider_skills_postings_idx`). A walk reads a prefix of each:
//! the first `M` postings plus every posting tied with the `M`-th on day rate
//! (`FETCH FIRST M ROWS WITH TIES`). A prefix with fewer than `M` postings holds them all
//! (the list is *exhausted*); otherwise it holds exactly the postings costing at least its
//! lowest day rate `c_i`.
//!
//! The candidates are the providers in any prefix; each is checked against every rule and
//! counted (matched skills) exactly, and the qualifying ones ranked. A provider `q` the walk did
//! not read has all of its requested skills in lists that are not exhausted (an exhausted list
//! holds every posting within budget and rating, and a qualifying provider has one in the list
//! of each of its skills), and costs less than `c_i` for each of those lists `i`.
//! So, with `NE` the lists not exhausted and `T` the `n`-th ranked candidate (`n` = the rows a
//! page needs), no unread `q` can rank above `T` when
//!
//! * `NE` is empty (the walk read everything); or
//! * `T` exists, and either `|NE| < matched(T)` (no unread provider can match as many skills as
//!   `T`), or `|NE| = matched(T)` and `cost(T) >= min c_i over NE` (an unread provider matching
//!   as many skills as `T` has all of them in `NE`, so costs less than every `c_i` there, so
//!   less than `T`).
//!
//! Otherwise the walk reads longer prefixes (see [`next_prefix`]), ending with the whole lists.
//!
//! The keys after the day rate (3: the matched skills' pooled per-skill rating; 4: the overall
//! confidence-weighted rating; 5: review count; 6: id) add no condition to this bound: in both
//! cases every unread provider ranks strictly below `T` on keys 1 and 2 already (the prefixes
//! hold every posting tied with their cut, `WITH TIES`), so no later key can lift it above `T`.
//! What key 3 does need is that each *candidate's* pooled figures be exact, so that the
//! candidates themselves are ranked right: the walk takes them from the postings read only
//! when the candidate costs at least every open list's lowest day rate (then each of its
//! requested skills' postings was read), and probes its skill rows otherwise
//! (`sql::walk`; `tests/ranking.rs` fails when the probe is dropped).
//!
//! Moderation keeps all of this. The proof asks only that the postings and the skill rows the
//! walk reads hold each provider's figures as they are at the snapshot it reads (the walk's
//! transaction is one repeatable-read snapshot); it never asks where the figures come from. A
//! review entering or leaving `published` (a decision, a hold by the screen or by flags, an
//! edit, a withdrawal) changes them as a review's insert does: by relative updates of the
//! provider's row (whose foreign key rewrites the copies on its postings in the same
//! statement), of `skill_reviews` and of the `skill_*` copies on its skill rows, all in the
//! transaction that changes the status, under the provider's row lock taken first
//! (`reviews.rs`). A snapshot therefore sees a status change with every figure it moves, or
//! none of them; the figures it sees are the sums over the reviews published in it; and a
//! pending or hidden review, which counts nowhere, is invisible to the walk like an unwritten
//! one.

/// What the walk read of one requested skill's postings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prefix {
    /// It holds every posting within budget.
    pub(crate) exhausted: bool,
    /// The lowest day rate in it (`None` when it is empty).
    pub(crate) lowest_cost: Option<i64>,
}

/// A qualifying candidate, in ranking order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ranked {
    /// Requested skills it has.
    pub(crate) matched: i64,
    /// Its day rate.
    pub(crate) cost: i64,
}

/// Whether the first `n` of `ranked` (the top `n` candidates read from `prefixes`, best first)
/// are the first `n` of all qualifying providers, under the whole ranking (keys 1 to 6): an
/// unread provider is below `T` on matched skills or day rate. See the module documentation for
/// the proof, and why ranking key 3 needs exact candidates rather than a further bound.
pub(crate) fn is_exact(prefixes: &[Prefix], ranked: &[Ranked], n: usize) -> bool {
    let open: Vec<&Prefix> = prefixes.iter().filter(|p| !p.exhausted).collect();
    if open.is_empty() {
        return true;
    }
    let Some(last) = n.checked_sub(1).and_then(|i| ranked.get(i)) else {
        return false;
    };
    let open_count = open.len() as i64;
    if open_count < last.matched {
        return true;
    }
    if open_count > last.matched {
        return false;
    }
    // A prefix that is not exhausted holds at least one posting, so has a lowest day rate.
    open.iter()
        .filter_map(|p| p.lowest_cost)
        .min()
        .is_some_and(|lowest| last.cost >= lowest)
}

/// Postings a walk reads per skill at first, for a page needing `n` rows: enough that a usual
/// first page is exact at the first try.
pub(crate) fn first_prefix(n: usize, configured: i64) -> Option<i64> {
    let wanted = configured
        .max(1)
        .saturating_mul(i64::try_from(n).unwrap_or(i64::MAX).max(1));
    (wanted < WHOLE_LISTS_FROM).then_some(wanted)
}

/// The prefix after `current`: eight times longer, until reading the whole lists is as cheap.
/// `None` means the whole lists.
pub(crate) fn next_prefix(current: i64) -> Option<i64> {
    let next = current.saturating_mul(8);
    (next < WHOLE_LISTS_FROM).then_some(next)
}

/// From this many postings per skill on, a walk reads the whole lists: it then needs no
/// per-candidate lookup of the other requested skills (each list holds them all).
const WHOLE_LISTS_FROM: i64 = 1 << 16;

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN_AT: fn(i64) -> Prefix = |c| Prefix {
        exhausted: false,
        lowest_cost: Some(c),
    };
    const DONE: Prefix = Prefix {
        exhausted: true,
        lowest_cost: Some(1),
    };

    fn r(matched: i64, cost: i64) -> Ranked {
        Ranked { matched, cost }
    }

    #[test]
    fn whole_lists_are_always_exact() {
        assert!(is_exact(&[DONE, DONE], &[], 10));
        assert!(is_exact(&[], &[], 1));
    }

    #[test]
    fn too_few_candidates_with_an_open_list_are_not_exact() {
        assert!(!is_exact(&[DONE, OPEN_AT(100)], &[r(2, 500)], 2));
        assert!(!is_exact(&[OPEN_AT(100)], &[], 1));
    }

    #[test]
    fn more_open_lists_than_the_last_row_matches_are_not_exact() {
        // An unread provider in both open lists would match 2 > 1.
        assert!(!is_exact(&[OPEN_AT(10), OPEN_AT(10)], &[r(1, 1000)], 1));
    }

    #[test]
    fn fewer_open_lists_than_the_last_row_matches_are_exact() {
        assert!(is_exact(&[DONE, OPEN_AT(900)], &[r(2, 5)], 1));
    }

    #[test]
    fn as_many_open_lists_as_matched_needs_the_last_row_at_or_above_every_cut() {
        let lists = [OPEN_AT(300), OPEN_AT(200)];
        assert!(is_exact(&lists, &[r(2, 200)], 1));
        assert!(is_exact(&lists, &[r(9, 1), r(2, 250)], 2));
        assert!(!is_exact(&lists, &[r(2, 199)], 1));
        assert!(is_exact(&[DONE, OPEN_AT(50)], &[r(1, 50)], 1));
        assert!(!is_exact(&[DONE, OPEN_AT(50)], &[r(1, 49)], 1));
    }

    #[test]
    fn prefixes_grow_to_the_whole_lists() {
        assert_eq!(first_prefix(11, 64), Some(704));
        assert_eq!(first_prefix(10_001, 64), None);
        assert_eq!(next_prefix(704), Some(5632));
        assert_eq!(next_prefix(5632), Some(45_056));
        assert_eq!(next_prefix(45_056), None);
        assert_eq!(first_prefix(1, 1), Some(1));
    }
}
